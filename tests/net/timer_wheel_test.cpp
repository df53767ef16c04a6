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
    w.arm(a.t, msec(40));   // 2.5 revolutions away
    w.arm(b.t, sec(3600));  // far future
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
    timer self(
        [](timer& t, nanos now) {
            auto* x = static_cast<ctx*>(t.ctx);
            if (++*x->fired < 3) x->w->arm(t, now + msec(10));
            x->w->cancel(*x->other);
        },
        &c);
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

// Every level at work: deadlines from the next tick to far beyond the top
// level's span (2^48 ticks), arm / re-arm / cancel interleaved with advances
// of every size. Against a model: each timer fires at the first advance
// whose `now` reaches its tick-rounded deadline (never before, never
// missed), and next_deadline() is always the model's earliest deadline.
// 4 slots per level (24 levels: every cascade path), and 4096 and 65536
// (64 and 1024 bitmap words per level: the summary scan across words and,
// at 65536, across summary words).
void hierarchy_against_model(size_t slots, unsigned want_levels);

TEST(TimerWheel, HierarchyAgainstModelWithJumpsAndFarDeadlines) {
    hierarchy_against_model(4, 24);
    if (HasFatalFailure()) return;
    hierarchy_against_model(4096, 4);
    if (HasFatalFailure()) return;
    hierarchy_against_model(65536, 3);
}

void hierarchy_against_model(size_t slots, unsigned want_levels) {
    SCOPED_TRACE(testing::Message() << slots << " slots per level");
    constexpr nanos tk = usec(1);
    constexpr int n = 600;
    struct item {
        timer t;
        nanos due = 0;  // tick-rounded deadline while armed in the model
        bool armed = false;
        int fired = 0;
        nanos fired_at = 0;
    };
    std::vector<item> it(n);  // before the wheel: it outlives them, armed or not
    timer_wheel w(tk, slots);
    EXPECT_EQ(w.levels(), want_levels);
    nanos now = sec(5);
    w.advance(now);
    uint64_t s = 7;
    auto rnd = [&] {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        return s >> 33;
    };
    for (auto& x : it) {
        x.t.ctx = &x;
        x.t.fn = [](timer& t, nanos at) {
            auto* i = static_cast<item*>(t.ctx);
            ++i->fired;
            i->fired_at = at;
        };
    }
    auto round_up = [&](nanos d) { return (d + tk - 1) / tk * tk; };
    auto far = [&]() -> nanos {
        switch (rnd() % 6) {
            case 0:
                return 1 + rnd() % 10;  // the next few ticks
            case 1:
                return usec(rnd() % 5000);  // level 0..6
            case 2:
                return msec(rnd() % 5000);  // seconds
            case 3:
                return sec(rnd() % 100000);  // days
            case 4:
                return (nanos(1) << 48) * tk + sec(rnd() % 3600);  // past the top span
            default:
                return 0;  // already due
        }
    };
    for (int step = 0; step < 20000; ++step) {
        const unsigned op = unsigned(rnd() % 10);
        item& x = it[rnd() % n];
        if (op < 5) {
            const nanos d = now + far();
            w.arm(x.t, d);
            x.armed = true;
            x.due = std::max(round_up(d), (now / tk + 1) * tk);
        } else if (op < 6) {
            w.cancel(x.t);
            x.armed = false;
        } else {
            // Advance: small steps mostly, sometimes to the next deadline,
            // sometimes a jump of hours or years.
            nanos to = now;
            switch (rnd() % 4) {
                case 0:
                    to = now + usec(rnd() % 3000);
                    break;
                case 1:
                    to = w.next_deadline() == never ? now : w.next_deadline();
                    break;
                case 2:
                    to = now + sec(rnd() % 200000);
                    break;
                default:
                    to = now + nanos(rnd() % 1000);
                    break;
            }
            for (auto& y : it) y.fired = 0;
            w.advance(to);
            now = std::max(now, to);
            for (auto& y : it) {
                const bool should = y.armed && y.due <= now;
                ASSERT_EQ(y.fired, should ? 1 : 0) << "due " << y.due << " now " << now;
                if (should) {
                    y.armed = false;
                    EXPECT_GE(y.fired_at, y.due);
                }
                ASSERT_EQ(y.t.armed(), y.armed);
            }
        }
        nanos best = never;
        size_t armed = 0;
        for (auto& y : it)
            if (y.armed) best = std::min(best, y.due), ++armed;
        ASSERT_EQ(w.armed_count(), armed);
        ASSERT_EQ(w.next_deadline(), best) << "step " << step;
    }
}

// Far jumps cost per event, not per elapsed tick: a year of 1 ns ticks with
// a handful of timers returns at once (a per-tick or per-revolution walk
// would not finish within the test's timeout).
TEST(TimerWheel, JumpCostIsPerEventNotPerTick) {
    timer_wheel w(1, 4096);
    std::vector<std::pair<int, nanos>> log;
    std::vector<rec> r(3);
    for (int i = 0; i < 3; ++i) {
        r[size_t(i)].log = &log;
        r[size_t(i)].id = i;
        r[size_t(i)].t.ctx = &r[size_t(i)];
    }
    w.arm(r[0].t, sec(1));
    w.arm(r[1].t, sec(86400));
    w.arm(r[2].t, sec(86400 * 365));
    EXPECT_EQ(w.advance(sec(86400 * 365 + 1)), 3u);
    ASSERT_EQ(log.size(), 3u);
    EXPECT_EQ(log[0].first, 0);
    EXPECT_EQ(log[2].first, 2);
}

// advance() returns at once until the next tick with work (a due timer or
// a cascade), a bound kept by arm and by advance itself: a wrong bound shows
// as a timer firing late or not at all. Mostly tiny steps (the poll loop's
// pattern) on small wheels (cascades every few ticks), timers that re-arm
// themselves from their callback (into the past, the next tick, far), and
// cancels of the earliest timer; every advance is compared against a
// brute-force model, next_deadline() only now and then (so the advances
// do not lean on its recomputation).
TEST(TimerWheel, AdvanceBoundAgainstBruteForce) {
    for (const size_t slots : {size_t(2), size_t(4), size_t(64)}) {
        SCOPED_TRACE(testing::Message() << slots << " slots per level");
        constexpr nanos tk = usec(1);
        constexpr int n = 64;
        struct item {
            timer t;
            nanos due = 0;
            bool armed = false;
            int fired = 0;
            nanos rearm = 0;  // from the callback: 0 none, else now + rearm - 1
            timer_wheel* w = nullptr;
        };
        std::vector<item> it(n);
        timer_wheel w(tk, slots);
        nanos now = msec(3);
        w.advance(now);
        uint64_t s = 12345 + slots;
        auto rnd = [&] {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            return s >> 33;
        };
        auto round_up = [&](nanos d) { return (d + tk - 1) / tk * tk; };
        auto due_of = [&](nanos d, nanos at) { return std::max(round_up(d), (at / tk + 1) * tk); };
        for (auto& x : it) {
            x.t.ctx = &x;
            x.w = &w;
            x.t.fn = [](timer& t, nanos at) {
                auto* i = static_cast<item*>(t.ctx);
                ++i->fired;
                if (i->rearm) i->w->arm(i->t, at + i->rearm - 1);
            };
        }
        for (int step = 0; step < 30000; ++step) {
            const unsigned op = unsigned(rnd() % 16);
            item& x = it[rnd() % n];
            if (op < 3) {
                nanos d = now;
                switch (rnd() % 4) {
                    case 0: d += nanos(rnd() % 4) * tk; break;       // now .. 3 ticks
                    case 1: d += nanos(rnd() % 40) * tk; break;      // a few revolutions
                    case 2: d += nanos(rnd() % 100000) * tk; break;  // higher levels
                    default: d = d > 5 * tk ? d - 5 * tk : 0; break;  // the past
                }
                w.arm(x.t, d);
                x.armed = true;
                x.due = due_of(d, now);
                x.rearm = rnd() % 3 == 0 ? nanos(1 + rnd() % 50) * tk : 0;
            } else if (op < 5) {
                // Cancel the earliest armed timer (the cached deadline's).
                item* e = nullptr;
                for (auto& y : it)
                    if (y.armed && (!e || y.due < e->due)) e = &y;
                if (op == 3 && e) {
                    w.cancel(e->t);
                    e->armed = false;
                } else {
                    w.cancel(x.t);
                    x.armed = false;
                }
            } else {
                const nanos to = now + (rnd() % 8 == 0 ? nanos(rnd() % 3000) * tk : nanos(rnd() % 1500));
                for (auto& y : it) y.fired = 0;
                w.advance(to);
                now = std::max(now, to);
                // The model: each armed timer due by now fires once; one that
                // re-armed from its callback is armed again for at + rearm - 1
                // (at = now), unless that is due by now too (it then waits for
                // the next advance: a callback's arm is never run in the same
                // advance, its tick is after the cursor).
                for (auto& y : it) {
                    const bool should = y.armed && y.due <= now;
                    ASSERT_EQ(y.fired, should ? 1 : 0) << "step " << step << " due " << y.due << " now " << now;
                    if (should) {
                        y.armed = y.rearm != 0;
                        if (y.armed) y.due = due_of(now + y.rearm - 1, now);
                    }
                    ASSERT_EQ(y.t.armed(), y.armed) << "step " << step;
                }
            }
            if (step % 97 == 0) {
                nanos best = never;
                for (auto& y : it)
                    if (y.armed) best = std::min(best, y.due);
                ASSERT_EQ(w.next_deadline(), best) << "step " << step;
            }
        }
    }
}
