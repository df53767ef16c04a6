// Runs a piece of a fuzz target without it counting as the input's coverage.
//
// The stack targets rebuild the same starting state after every input
// (world::reset: the parts' resets and a handshake). That code runs the same
// way for every input, so its edges tell libFuzzer nothing, yet libFuzzer
// would collect them as features of each input (about a thousand, most of
// the per-input overhead). uncounted() saves the inline 8-bit counters
// (-fsanitize=fuzzer puts them in the __sancov_cntrs section, whose bounds
// the linker provides), runs the piece, and puts the counters back, so the
// features of an input are those of its own processing and teardown. The
// piece's checks still run (a failure aborts as anywhere else).
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

extern "C" {
// Weak: absent (null) in a build without inline 8-bit counters.
extern uint8_t __start___sancov_cntrs[] __attribute__((weak));
extern uint8_t __stop___sancov_cntrs[] __attribute__((weak));
}

namespace mvnf::fuzz {

template <class F>
void uncounted(F&& f) {
    uint8_t* const lo = __start___sancov_cntrs;
    uint8_t* const hi = __stop___sancov_cntrs;
    if (!lo || !hi || hi <= lo) {
        f();
        return;
    }
    static std::vector<uint8_t> saved;
    saved.assign(lo, hi);
    f();
    std::memcpy(lo, saved.data(), saved.size());
}

}  // namespace mvnf::fuzz
