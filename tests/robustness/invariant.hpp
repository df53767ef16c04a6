// The invariant check shared by the fuzz targets and the robustness world:
// a failed check prints what broke and aborts, so libFuzzer keeps the input
// (and a gtest run stops at the first broken invariant).
#pragma once

#include <cstdio>
#include <cstdlib>

#define MVNF_FUZZ_CHECK(cond)                                                                \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            std::fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            std::abort();                                                                    \
        }                                                                                    \
    } while (0)
