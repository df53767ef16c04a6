// The stack targets' world (tests/robustness/world.hpp): one per process,
// built on first use with the fuzzing pool sizes.
#pragma once

#include "../tests/robustness/world.hpp"

namespace mvnf::fuzz {

inline world& the_world() {
    static world* w = new world(fuzz_options());
    return *w;
}

// After an input's teardown_and_check(): back to the starting state.
inline void reset_world() { the_world().reset(); }

}  // namespace mvnf::fuzz
