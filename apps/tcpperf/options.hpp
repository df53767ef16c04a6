// mvnf-tcpperf's command line: the test modes, the options and their parsing.
#pragma once

#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli.hpp"

namespace mvnf::tcpperf {

enum class mode : uint8_t { stream = 1, rr = 2, crr = 3 };
inline const char* mode_name(mode m) {
    return m == mode::stream ? "stream" : m == mode::rr ? "rr" : "crr";
}
constexpr size_t hello_len = 16;

// The shared perf options (app::perf_options: -s/-c, -N, -t/-d, -n counting
// rr/crr transactions, -f, -q, --port, --bind, --json) and tcpperf's own.
struct options : app::perf_options {
    options() : perf_options(5201) {}
    uint16_t port_count = 1;           // ports port .. port+port_count-1
    std::vector<in_addr_t> src_addrs;  // client source addresses (kernel build)
    uint64_t max_connecting = 256;     // client: handshakes in flight per core
    uint64_t rate = 0;                 // client rr: transactions/s in total, 0 = unpaced
    uint64_t conns = 1;                // per core
    uint64_t msg = 0;                  // 0: mode default
    uint64_t exit_after = 0;           // server: exit after this many connections closed
    mode m = mode::stream;
    bool stack_stats = false;
};

extern const char* const usage;

// Fills `o` from argv; false with a one-line message in `err` on bad input.
bool parse_args(int argc, char** argv, options& o, std::string& err);

}  // namespace mvnf::tcpperf
