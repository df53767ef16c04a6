// Timer wheel: O(1) arm/cancel, exact firing order against a reference model
// under random deadlines, callbacks that re-arm and cancel, far clock jumps.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

#include "net/timer_wheel.hpp"

using namespace mvnf::net;

namespace {
struct rec {
    std::vector<std::pair<int, nanos>>* log;
    int id;
    timer t{[](timer& tm, nanos now) {
                auto* r = static_cast<rec*>(tm.ctx);
                r->log->push_back({r->id, now});
            },
            nullptr};
};
}  // namespace

TEST(TimerWheel, FiresAtOrAfterDeadlineNeverBefore) {
    timer_wheel w(msec(1), 64);
    std::vector<std::pair<int, nanos>> log;
    rec r{&log, 1};
    r.t.ctx = &r;
    w.arm(r.t, usec(2500));  // rounds up to 3 ms
    EXPECT_EQ(w.next_deadline(), msec(3));
    EXPECT_EQ(w.advance(msec(2)), 0u);
    EXPECT_TRUE(r.t.armed());
    EXPECT_EQ(w.advance(msec(3)), 1u);
    ASSERT_EQ(log.size(), 1u);
    EXPECT_FALSE(r.t.armed());
    EXPECT_EQ(w.next_deadline(), never);
}

TEST(TimerWheel, CancelAndRearm) {
    timer_wheel w(msec(1), 64);
    std::vector<std::pair<int, nanos>> log;
    rec a{&log, 1}, b{&log, 2};
    a.t.ctx = &a;
    b.t.ctx = &b;
    w.arm(a.t, msec(5));
    w.arm(b.t, msec(6));
    w.cancel(a.t);
    w.cancel(a.t);  // idempotent
    EXPECT_EQ(w.armed_count(), 1u);
    EXPECT_EQ(w.next_deadline(), msec(6));
    w.arm(b.t, msec(10));  // re-arm moves it
    w.advance(msec(9));
    EXPECT_TRUE(log.empty());
    w.advance(msec(10));
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0].first, 2);
}

TEST(TimerWheel, BeyondOneRevolutionAndFarJumps) {
    timer_wheel w(msec(1), 16);  // 16 ms per revolution
    std::vector<std::pair<int, nanos>> log;
    rec a{&log, 1}, b{&log, 2};
    a.t.ctx = &a;
    b.t.ctx = &b;
    w.arm(a.t, msec(40));    // 2.5 revolutions away
    w.arm(b.t, sec(3600));   // far future
    EXPECT_EQ(w.next_deadline(), msec(40));
    w.advance(msec(39));
    EXPECT_TRUE(log.empty());
    w.advance(msec(40));
    EXPECT_EQ(log.size(), 1u);
    EXPECT_EQ(w.next_deadline(), sec(3600));
    w.advance(sec(3599));  // a jump of many revolutions visits each slot once
    EXPECT_EQ(log.size(), 1u);
    w.advance(sec(3600) + 1);
    EXPECT_EQ(log.size(), 2u);
}

TEST(TimerWheel, CallbackMayRearmItselfAndCancelOthers) {
    timer_wheel w(msec(1), 32);
    int fired = 0;
    struct ctx {
        timer_wheel* w;
        int* fired;
        timer* other;
    };
    timer other;
    other.fn = [](timer&, nanos) { ADD_FAILURE() << "cancelled timer fired"; };
    ctx c{&w, &fired, &other};
    timer self([](timer& t, nanos now) {
        auto* x = static_cast<ctx*>(t.ctx);
        if (++*x->fired < 3) x->w->arm(t, now + msec(10));
        x->w->cancel(*x->other);
    }, &c);
    w.arm(self, msec(5));
    w.arm(other, msec(5));  // same slot, same tick: must not fire after cancel
    for (nanos t = 0; t <= msec(100); t += msec(1)) w.advance(t);
    EXPECT_EQ(fired, 3);
    EXPECT_EQ(w.armed_count(), 0u);
}

TEST(TimerWheel, RandomScheduleMatchesReferenceOrder) {
    timer_wheel w(msec(1), 256);
    constexpr int n = 5000;
    std::vector<std::pair<int, nanos>> log;
    std::vector<rec> recs(n);
    std::multimap<uint64_t, int> model;  // tick -> id
    uint64_t s = 42;
    auto rnd = [&] {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        return s >> 33;
    };
    for (int i = 0; i < n; ++i) {
        recs[size_t(i)].log = &log;
        recs[size_t(i)].id = i;
        recs[size_t(i)].t.ctx = &recs[size_t(i)];
        nanos d = msec(1 + rnd() % 2000);
        w.arm(recs[size_t(i)].t, d);
        model.insert({d / msec(1), i});
    }
    for (int i = 0; i < n; i += 7) {  // cancel a seventh
        w.cancel(recs[size_t(i)].t);
        for (auto it = model.begin(); it != model.end(); ++it)
            if (it->second == i) {
                model.erase(it);
                break;
            }
    }
    EXPECT_EQ(w.armed_count(), model.size());
    for (nanos t = 0; t <= msec(2100); t += usec(700)) {  // uneven steps
        EXPECT_EQ(w.next_deadline(), model.empty() ? never : model.begin()->first * msec(1));
        w.advance(t);
        while (!model.empty() && model.begin()->first * msec(1) <= t) model.erase(model.begin());
        EXPECT_EQ(w.armed_count(), model.size());
    }
    EXPECT_EQ(log.size(), size_t(n - (n + 6) / 7));
    for (auto& [id, when] : log) EXPECT_GE(when, recs[size_t(id)].t.deadline());
}
