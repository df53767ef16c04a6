// Command-line pieces the apps share (tcpperf, udpperf, httpd): what every
// getopt_long loop does alike (--help, a missing value, an unknown option,
// stray operands, the bad-usage exit), address, port and core-count options
// with one wording, and the client/server options and rules of the two perf
// tools. Backend-independent; each app keeps its own usage text and options.
#pragma once

#include <cstdint>
#include <string>

namespace mvnf::app {

// For the cases of a getopt_long switch no app option took: 'h' prints
// `usage` on stdout and exits 0; ':' sets err to "option X needs a value",
// anything else to "unknown option 'X'"; returns false for those two.
bool getopt_default(int ch, char** argv, const char* usage, std::string& err);
// After the loop: false with "unexpected argument 'X'" when operands remain.
bool no_operands(int argc, char** argv, std::string& err);
// Prints "TOOL: ERR" and the usage on stderr; returns 2, the bad-usage exit.
int usage_error(const char* tool, const std::string& err, const char* usage);

// NAME: 'S' is not an IPv4 address (a.b.c.d or localhost; network order).
bool parse_ipv4_option(const char* name, const char* s, uint32_t& out, std::string& err);
// A TCP/UDP port, 1..65535 ("NAME: ..." as parse_u64 words it).
bool parse_port(const char* s, const char* name, uint16_t& out, std::string& err);
// -N: cores, 1..64.
bool parse_cores(const char* s, int& out, std::string& err);

// The options mvnf-tcpperf and mvnf-udpperf share: -s, -c ADDR, -N, -t/-d,
// -n, -f, -q, --port, --bind, --json. Their long options use these ids.
enum perf_long_option { opt_port = 900, opt_bind, opt_json };

struct perf_options {
    explicit perf_options(uint16_t default_port) : port(default_port) {}
    bool server = false;
    std::string host, conf;
    uint32_t addr = 0, bind_addr = 0;
    uint16_t port;
    int cores = 1;
    double duration = 5;  // client: -t; server: -d (0 = forever)
    uint64_t count = 0;   // client: -n, transactions or datagrams in total; 0: use -t
    bool json = false, quiet = false;
};

// What the checks after the loop need to know about the command line.
struct perf_seen {
    bool client = false;        // -c was given
    bool duration_set = false;  // -t or -d was given
};

enum class taken { no, yes, error };
// Applies one getopt_long result if it is a shared perf option.
taken perf_option(int ch, const char* arg, perf_options& o, perf_seen& seen, std::string& err);
// Right after the loop: no operands, exactly one of -s and -c.
bool perf_check_role(int argc, char** argv, const perf_options& o, const perf_seen& seen,
                     std::string& err);
// After the tool's own checks: a server runs until stopped unless -d is
// given, a client with -n until the count unless -t is; a client needs one.
bool perf_check_duration(perf_options& o, const perf_seen& seen, std::string& err);

}  // namespace mvnf::app
