// The clock of one mTCP context: CLOCK_MONOTONIC, read through the CPU's
// time-stamp counter where the kernel itself keeps time with it.
//
// Every loop iteration and every blocking call reads the time once; the
// stack takes it as `now`. On the VMs this project targets clock_gettime
// (vDSO) costs ~30 ns and RDTSC ~12 ns, and at a million request-responses
// per second the reads were 7-10 % of a busy process (docs/performance.md).
//
// The TSC is used only when the kernel's current clocksource is "tsc": the
// kernel then has checked that it is invariant and synchronized across CPUs
// (otherwise it marks it unstable and switches). Ticks are turned into
// nanoseconds against an anchor pair (TSC, CLOCK_MONOTONIC) taken every
// 10 ms, at the rate measured since the context's first anchor; so the
// clock stays within a few microseconds of CLOCK_MONOTONIC (the pairs
// themselves are that noisy in a VM), which the stack's millisecond timers
// and timestamps never see. It never goes back: each value is at least the
// previous one. Until the first rate is known (the first 10 ms of a
// context) and everywhere else it is clock_gettime itself.
//
// One context is driven by one thread at a time, so the state is plain.
#pragma once

#include <cstdint>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <x86intrin.h>
#define MVNF_TSC_CLOCK 1
#endif

#include "net/time.hpp"

namespace mvnf::api {

using net::nanos;

// CLOCK_MONOTONIC through clock_gettime.
nanos mono_now();
// Whether contexts may read the TSC (decided once per process).
bool tsc_clock_usable();

class context_clock {
public:
    nanos now() {
#ifdef MVNF_TSC_CLOCK
        if (_mult) {
            const uint64_t t = __rdtsc();
            if (t - _tsc0 < _period_ticks) {  // also false if t < _tsc0 (wrapped)
                const nanos v =
                    _ns0 + nanos((static_cast<unsigned __int128>(t - _tsc0) * _mult) >> 32);
                return _last = v > _last ? v : _last;
            }
        }
#endif
        return slow();
    }

private:
    nanos slow();

    uint64_t _tsc_base = 0, _tsc0 = 0, _period_ticks = 0;
    uint64_t _mult = 0;  // nanoseconds per tick, 32.32 fixed point; 0: not calibrated
    nanos _ns_base = 0, _ns0 = 0, _last = 0;  // base: where the rate is measured from
};

}  // namespace mvnf::api
