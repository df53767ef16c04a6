// The monotonic clock for drivers, tools and tests: the places that read
// time and pass it in. Protocol code never calls this; it takes `now`.
#pragma once

#include <time.h>

#include <cstdint>

namespace mvnf {

inline int64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace mvnf
