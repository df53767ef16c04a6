// The stack targets' world (tests/robustness/world.hpp): one per process,
// built on first use with the fuzzing pool sizes, its construction and its
// resets between inputs kept out of the inputs' coverage (uncounted.hpp).
#pragma once

#include "../tests/robustness/world.hpp"
#include "uncounted.hpp"

namespace mvnf::fuzz {

inline world& the_world() {
    static world* w = nullptr;
    if (!w) uncounted([] { w = new world(fuzz_options()); });
    return *w;
}

// After an input's teardown_and_check(): back to the starting state.
inline void reset_world() {
    uncounted([] { the_world().reset(); });
}

}  // namespace mvnf::fuzz
