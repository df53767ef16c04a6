// Virtual time for the per-core stack: protocol code is handed `now` by its
// caller (the poll loop, or a test's fake clock) and never reads a clock.
// Used by every file under src/net/ and by the ARP and TCP modules.
#pragma once

#include <cstdint>

namespace mvnf::net {

// Nanoseconds on a monotonic clock chosen by the caller; only differences matter.
using nanos = uint64_t;
// "No deadline": what next_deadline() reports when nothing is scheduled.
inline constexpr nanos never = UINT64_MAX;

inline constexpr nanos usec(uint64_t n) { return n * 1000ull; }
inline constexpr nanos msec(uint64_t n) { return n * 1000'000ull; }
inline constexpr nanos sec(uint64_t n) { return n * 1000'000'000ull; }

}  // namespace mvnf::net
