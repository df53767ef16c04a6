// Parses mvnf-pktgen's command line (netmap pkt-gen's letters where they
// exist: -i -f -l -b -a -n). Called once by main() in pktgen.cpp.
#include "options.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace mvnf::pktgen {

const char* usage() {
    return "usage: mvnf-pktgen -i SPEC -f MODE [options]\n"
           "  -i SPEC        port to use: shm:NAME, afxdp:IF, afpacket:IF, tap:NAME, netmap:IF\n"
           "  -f MODE        tx | rx | ping | pong\n"
           "  -l BYTES       frame length without FCS (default 60, at least 60)\n"
           "  -b N           burst size (default 32, 1..512)\n"
           "  -q N           queues, one thread each (default 1); both shm ends must agree\n"
           "  -a CPUS        pin thread k to the k-th cpu of a list like 0,2 or 1-3\n"
           "  -d SECS        run for SECS seconds (fractions allowed)\n"
           "  -n COUNT       stop after COUNT packets (tx: sent, rx: received, ping: pings)\n"
           "  -B BYTES       buffer size (default 2048; 9216 for jumbo frames)\n"
           "  -r SLOTS       ring size (default 1024, power of two)\n"
           "  --json         also print the final summary as one JSON line\n"
           "  --quiet-start  print nothing until the first packet arrives (rx, pong)\n"
           "  --no-verify    rx, pong: check headers only, not the UDP checksum over the\n"
           "                 payload (measures the I/O ceiling; corruption may go unseen)\n"
           "  -h, --help     this text\n"
           "tx sends UDP/IPv4 frames with varying source ports and a sequence number;\n"
           "rx checks and counts them; ping/pong measure round-trip times.\n";
}

const char* to_string(mode m) {
    switch (m) {
        case mode::tx: return "tx";
        case mode::rx: return "rx";
        case mode::ping: return "ping";
        case mode::pong: return "pong";
    }
    return "?";
}

namespace {

bool parse_u64(const char* s, uint64_t& out) {
    if (!s || !*s || *s == '-') return false;
    errno = 0;
    char* end = nullptr;
    unsigned long long v = std::strtoull(s, &end, 10);
    if (errno || *end) return false;
    out = v;
    return true;
}

bool parse_cpus(const char* s, std::vector<int>& out) {
    std::string str(s);
    size_t pos = 0;
    while (pos <= str.size()) {
        size_t comma = str.find(',', pos);
        std::string part = str.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        size_t dash = part.find('-');
        uint64_t lo = 0, hi = 0;
        if (dash == std::string::npos) {
            if (!parse_u64(part.c_str(), lo)) return false;
            hi = lo;
        } else if (!parse_u64(part.substr(0, dash).c_str(), lo) ||
                   !parse_u64(part.substr(dash + 1).c_str(), hi) || hi < lo) {
            return false;
        }
        if (hi >= 4096) return false;
        for (uint64_t c = lo; c <= hi; ++c) out.push_back(int(c));
        if (comma == std::string::npos) break;
        pos = comma + 1;
    }
    return !out.empty();
}

}  // namespace

std::optional<options> parse_options(int argc, char** argv, std::string& err) {
    options o;
    bool have_mode = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) {
                err = "option " + a + " needs a value";
                return nullptr;
            }
            return argv[++i];
        };
        auto number = [&](uint64_t lo, uint64_t hi, uint64_t& out) {
            const char* v = value();
            if (!v) return false;
            if (!parse_u64(v, out) || out < lo || out > hi) {
                err = "option " + a + ": '" + v + "' is not a number in " + std::to_string(lo) +
                      ".." + std::to_string(hi);
                return false;
            }
            return true;
        };
        uint64_t n = 0;
        if (a == "-h" || a == "--help") {
            o.help = true;
        } else if (a == "--json") {
            o.json = true;
        } else if (a == "--quiet-start") {
            o.quiet_start = true;
        } else if (a == "--no-verify") {
            o.verify = false;
        } else if (a == "-i") {
            const char* v = value();
            if (!v) return std::nullopt;
            o.spec = v;
        } else if (a == "-f") {
            const char* v = value();
            if (!v) return std::nullopt;
            std::string m = v;
            if (m == "tx") o.m = mode::tx;
            else if (m == "rx") o.m = mode::rx;
            else if (m == "ping") o.m = mode::ping;
            else if (m == "pong") o.m = mode::pong;
            else {
                err = "option -f: unknown mode '" + m + "' (expected tx, rx, ping or pong)";
                return std::nullopt;
            }
            have_mode = true;
        } else if (a == "-l") {
            if (!number(60, 9216, n)) return std::nullopt;
            o.frame_len = uint32_t(n);
        } else if (a == "-b") {
            if (!number(1, 512, n)) return std::nullopt;
            o.burst = uint32_t(n);
        } else if (a == "-q") {
            if (!number(1, 64, n)) return std::nullopt;
            o.queues = uint32_t(n);
        } else if (a == "-B") {
            if (!number(256, 9216, n)) return std::nullopt;
            o.buf_size = uint32_t(n);
        } else if (a == "-r") {
            if (!number(2, 65536, n)) return std::nullopt;
            if (n & (n - 1)) {
                err = "option -r: ring size must be a power of two";
                return std::nullopt;
            }
            o.ring_size = uint32_t(n);
        } else if (a == "-n") {
            if (!number(1, UINT64_MAX, n)) return std::nullopt;
            o.count = n;
        } else if (a == "-d") {
            const char* v = value();
            if (!v) return std::nullopt;
            char* end = nullptr;
            errno = 0;
            double d = std::strtod(v, &end);
            if (errno || *end || !(d > 0) || d > 1e7) {
                err = std::string("option -d: '") + v + "' is not a positive number of seconds";
                return std::nullopt;
            }
            o.duration = d;
        } else if (a == "-a") {
            const char* v = value();
            if (!v) return std::nullopt;
            if (!parse_cpus(v, o.cpus)) {
                err = std::string("option -a: '") + v + "' is not a cpu list like 0,2 or 1-3";
                return std::nullopt;
            }
        } else {
            err = "unknown option '" + a + "' (see --help)";
            return std::nullopt;
        }
        if (!err.empty()) return std::nullopt;
    }
    if (o.help) return o;
    if (o.spec.empty()) {
        err = "missing -i SPEC (e.g. -i shm:link0)";
        return std::nullopt;
    }
    if (!have_mode) {
        err = "missing -f MODE (tx, rx, ping or pong)";
        return std::nullopt;
    }
    if (o.frame_len > o.buf_size) {
        err = "frame length " + std::to_string(o.frame_len) + " exceeds the buffer size " +
              std::to_string(o.buf_size) + " (raise it with -B)";
        return std::nullopt;
    }
    return o;
}

}  // namespace mvnf::pktgen
