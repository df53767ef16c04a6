// context_clock's slow path (anchoring and calibration) and mono_now().
// See clock.hpp for why and how.
#include "api/clock.hpp"

#include <cstdio>
#include <cstring>

#include "common/clock.hpp"

namespace mvnf::api {

nanos mono_now() { return nanos(monotonic_ns()); }

namespace {

constexpr nanos anchor_period = net::msec(10);

bool kernel_clocksource_is_tsc() {
    std::FILE* f = std::fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
    if (!f) return false;
    char buf[32] = {};
    const bool ok = std::fgets(buf, sizeof buf, f) != nullptr;
    std::fclose(f);
    return ok && std::strcmp(buf, "tsc\n") == 0;
}

}  // namespace

bool tsc_clock_usable() {
#ifdef MVNF_TSC_CLOCK
    static const bool usable = kernel_clocksource_is_tsc();
    return usable;
#else
    return false;
#endif
}

nanos context_clock::slow() {
    nanos n = 0;
#ifdef MVNF_TSC_CLOCK
    if (tsc_clock_usable()) {
        // Pair the system time with the TSC read halfway around it; of a few
        // tries keep the tightest (an interrupt between the reads would
        // shift the pair by its whole length).
        uint64_t t = 0, best = ~0ull;
        for (int i = 0; i < 3; ++i) {
            const uint64_t a = __rdtsc();
            const nanos m = mono_now();
            const uint64_t b = __rdtsc();
            if (b - a < best) best = b - a, t = a + (b - a) / 2, n = m;
        }
        if (_ns_base == 0 || t <= _tsc0 || n <= _ns0) {
            // First anchor, or the TSC went back: start over.
            _tsc_base = _tsc0 = t, _ns_base = _ns0 = n, _mult = 0;
        } else if (n - _ns0 >= anchor_period) {
            // The rate since the first anchor: each pair is off by up to a
            // few microseconds here (clock_gettime itself, after a sleep,
            // takes that long), so the longer the baseline, the better.
            _mult = uint64_t((static_cast<unsigned __int128>(n - _ns_base) << 32) / (t - _tsc_base));
            _tsc0 = t, _ns0 = n;
            _period_ticks = _mult ? uint64_t((static_cast<unsigned __int128>(anchor_period) << 32) /
                                             _mult)
                                  : 0;
            if (_period_ticks == 0) _mult = 0;
        }
    } else {
        n = mono_now();
    }
#else
    n = mono_now();
#endif
    return _last = n > _last ? n : _last;
}

}  // namespace mvnf::api
