// Command-line options of mvnf-pktgen (parsed by options.cpp, used by
// pktgen.cpp). Every bad option gets a message naming it; nothing throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mvnf::pktgen {

enum class mode { tx, rx, ping, pong };

struct options {
    std::string spec;
    mode m = mode::rx;
    uint32_t frame_len = 60;
    uint32_t burst = 32;
    uint32_t queues = 1;
    uint32_t buf_size = 2048;
    uint32_t ring_size = 1024;
    std::vector<int> cpus;  // -a: thread k runs on cpus[k % size]
    double duration = 0;    // seconds; 0: until -n or Ctrl-C
    uint64_t count = 0;     // packets; 0: no limit
    bool json = false;
    bool quiet_start = false;
    bool verify = true;  // rx, pong: check the UDP checksum too (--no-verify: headers only)
    bool help = false;
};

// Returns the options, or nullopt with `err` set to a one-line reason.
std::optional<options> parse_options(int argc, char** argv, std::string& err);
const char* usage();
const char* to_string(mode m);

}  // namespace mvnf::pktgen
