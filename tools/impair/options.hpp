// Command line of mvnf-impair.
#pragma once

#include <cstdint>
#include <string>

#include "impairment.hpp"

namespace mvnf::impair {

enum class direction { both, a2b, b2a };

struct options {
    std::string a, b;  // port specs
    params imp;
    direction dir = direction::both;  // where the impairments apply
    uint32_t limit = 10000;           // frames held per direction
    uint64_t seed = 1;
    uint32_t queues = 1;
    uint32_t buf_size = 2048;
    double duration = 0;  // seconds; 0: until a signal or a peer leaves
    bool json = false, quiet = false;
};

// Parses argv; on error prints one line naming the option and returns false
// with *exit_code = 2 (or 0 after --help).
bool parse(int argc, char** argv, options& o, int* exit_code);

}  // namespace mvnf::impair
