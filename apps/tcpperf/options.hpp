// mvnf-tcpperf's command line: the test modes, the options and their parsing.
#pragma once

#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mvnf::tcpperf {

enum class mode : uint8_t { stream = 1, rr = 2, crr = 3 };
inline const char* mode_name(mode m) {
    return m == mode::stream ? "stream" : m == mode::rr ? "rr" : "crr";
}
constexpr size_t hello_len = 16;

struct options {
    bool server = false;
    std::string host, conf;
    uint32_t addr = 0, bind_addr = 0;
    uint16_t port = 5201;
    uint16_t port_count = 1;           // ports port .. port+port_count-1
    std::vector<in_addr_t> src_addrs;  // client source addresses (kernel build)
    uint64_t max_connecting = 256;     // client: handshakes in flight per core
    uint64_t rate = 0;                 // client rr: transactions/s in total, 0 = unpaced
    int cores = 1;
    uint64_t conns = 1;       // per core
    uint64_t msg = 0;         // 0: mode default
    double duration = 5;      // client: -t; server: -d (0 = forever)
    uint64_t count = 0;       // client: transactions (rr/crr); 0: use -t
    uint64_t exit_after = 0;  // server: exit after this many connections closed
    mode m = mode::stream;
    bool json = false, quiet = false, stack_stats = false;
};

extern const char* const usage;

// Fills `o` from argv; false with a one-line message in `err` on bad input.
bool parse_args(int argc, char** argv, options& o, std::string& err);

}  // namespace mvnf::tcpperf
