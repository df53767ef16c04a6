// The contexts' clock (src/api/clock.hpp): it follows CLOCK_MONOTONIC and
// never goes back, whether it reads the TSC (where the kernel's clocksource
// is the TSC, as on the CI machine) or falls back to clock_gettime. Checked
// over 60 ms, long enough to pass the 10 ms calibration and several
// re-anchorings. Bounds are loose (200 µs): this is about
// correctness, not speed (bench/ has no timing target for it).
#include <gtest/gtest.h>

#include <time.h>

#include "api/clock.hpp"

using namespace mvnf::api;

TEST(ContextClock, FollowsClockMonotonicAndNeverGoesBack) {
    context_clock c;
    const nanos start = mono_now();
    nanos prev = 0;
    long reads = 0, slept = 0;
    nanos worst = 0;
    // Bounded in count and time; a few short sleeps make the reads come back
    // on a cold cache and after the thread may have moved.
    while (reads < 50'000'000 && mono_now() - start < 60'000'000) {
        const nanos before = mono_now();
        const nanos v = c.now();
        const nanos after = mono_now();
        ++reads;
        ASSERT_GE(v, prev) << "went back after " << reads << " reads";
        prev = v;
        // Within 200 µs of the system clock read around it (a few µs here).
        ASSERT_LE(v, after + 200'000) << "ahead of CLOCK_MONOTONIC";
        ASSERT_GE(v + 200'000, before) << "behind CLOCK_MONOTONIC";
        worst = std::max(worst, v > after ? v - after : (before > v ? before - v : 0));
        if (reads % 100'000 == 0 && slept < 20) {
            timespec ts{0, 500'000};
            nanosleep(&ts, nullptr);
            ++slept;
        }
    }
    EXPECT_GT(reads, 1000);
    RecordProperty("tsc", tsc_clock_usable() ? 1 : 0);
    RecordProperty("worst_ns", int(worst));
}
