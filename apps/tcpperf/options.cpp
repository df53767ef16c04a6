// mvnf-tcpperf's usage text and argument parsing (options.hpp); the options
// it shares with mvnf-udpperf are parsed by apps/common/cli.cpp.
#include "options.hpp"

#include <getopt.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "app_util.hpp"
#include "cli.hpp"
#include "net_io.hpp"

using namespace mvnf::app;

namespace mvnf::tcpperf {

const char* const usage =
    "usage: mvnf-tcpperf -s [options]            (server)\n"
    "       mvnf-tcpperf -c ADDR [options]       (client)\n"
    "Multi-core TCP performance test; the server answers whatever mode the client asks.\n"
    "  -s              run the server\n"
    "  -c ADDR         run a client against the server at IPv4 ADDR\n"
    "  --mode MODE     stream (bulk, Gbps), rr (request/response ping-pong, latency),\n"
    "                  crr (connect-request-response-close, connections/s); default stream\n"
    "  -N CORES        cores (default 1)\n"
    "  -m CONNS        connections per core (client; default 1), opened as handshakes\n"
    "                  complete (--max-connecting) and held until the end (stream, rr)\n"
    "  -l BYTES        message size (default 128K for stream, 64 for rr/crr)\n"
    "  -t SECONDS      client test duration, after the connections are up (default 5)\n"
    "  --rate R        rr: at most R transactions/s in total (e.g. 50k); a connection\n"
    "                  waits between transactions (default: back to back)\n"
    "  -n COUNT        client: stop after COUNT transactions in total (rr/crr)\n"
    "  -d SECONDS      server: stop after this long (default: until SIGINT/SIGTERM)\n"
    "  --exit-after N  server: stop once N connections have closed\n"
    "  --port PORT     TCP port (default 5201)\n"
    "  --port-count N  use ports PORT..PORT+N-1: the server listens on all of them on\n"
    "                  every core, the client spreads connections round-robin (default 1;\n"
    "                  each port gives one client address ~64K connections)\n"
    "  --src-addrs A,B client source addresses, round-robin (kernel build only; e.g.\n"
    "                  127.0.0.2,127.0.0.3 on loopback)\n"
    "  --max-connecting N  client: at most N handshakes in flight per core (default 256)\n"
    "  --bind ADDR     server local address (kernel build; default 0.0.0.0)\n"
    "  -f FILE         mtcp.conf (required by mvnf-tcpperf, ignored by the -kernel build)\n"
    "  --json          print the final summary as one JSON line\n"
    "  --stack-stats   add each core's stack counters (drops, retransmissions ...) to\n"
    "                  the JSON summary as \"stack_stats\" (mTCP build)\n"
    "  -q              no once-a-second progress line\n"
    "  -h, --help      this text\n";

bool parse_args(int argc, char** argv, options& o, std::string& err) {
    enum { o_mode = 1000, o_exit, o_port_count, o_src, o_max_conn, o_rate, o_stack_stats };
    static option longs[] = {{"mode", required_argument, nullptr, o_mode},
                             {"port", required_argument, nullptr, opt_port},
                             {"port-count", required_argument, nullptr, o_port_count},
                             {"src-addrs", required_argument, nullptr, o_src},
                             {"max-connecting", required_argument, nullptr, o_max_conn},
                             {"rate", required_argument, nullptr, o_rate},
                             {"stack-stats", no_argument, nullptr, o_stack_stats},
                             {"bind", required_argument, nullptr, opt_bind},
                             {"exit-after", required_argument, nullptr, o_exit},
                             {"json", no_argument, nullptr, opt_json},
                             {"help", no_argument, nullptr, 'h'},
                             {nullptr, 0, nullptr, 0}};
    opterr = 0;
    int ch;
    uint64_t v;
    perf_seen seen;
    while ((ch = getopt_long(argc, argv, ":sc:N:m:l:t:n:d:f:qh", longs, nullptr)) != -1) {
        switch (perf_option(ch, optarg, o, seen, err)) {
            case taken::yes:
                continue;
            case taken::error:
                return false;
            case taken::no:
                break;
        }
        switch (ch) {
            case 'm':
                if (!parse_u64(optarg, 1, 4 << 20, "-m connections per core", o.conns, err))
                    return false;
                break;
            case 'l':
                if (!parse_u64(optarg, 1, 16 << 20, "-l message size", o.msg, err)) return false;
                break;
            case o_mode:
                if (!strcmp(optarg, "stream"))
                    o.m = mode::stream;
                else if (!strcmp(optarg, "rr"))
                    o.m = mode::rr;
                else if (!strcmp(optarg, "crr"))
                    o.m = mode::crr;
                else
                    return err = fmt("--mode: '%s' is not stream, rr or crr", optarg), false;
                break;
            case o_port_count:
                if (!parse_u64(optarg, 1, 1024, "--port-count", v, err)) return false;
                o.port_count = uint16_t(v);
                break;
            case o_rate:
                if (!parse_u64(optarg, 1, 1ull << 32, "--rate", o.rate, err)) return false;
                break;
            case o_max_conn:
                if (!parse_u64(optarg, 1, 1 << 20, "--max-connecting", o.max_connecting, err))
                    return false;
                break;
            case o_src: {
                o.src_addrs.clear();
                std::string list = optarg;
                for (size_t b = 0; b <= list.size();) {
                    size_t e = list.find(',', b);
                    if (e == std::string::npos) e = list.size();
                    uint32_t a;
                    const std::string one = list.substr(b, e - b);
                    if (!parse_ipv4_option("--src-addrs", one.c_str(), a, err)) return false;
                    o.src_addrs.push_back(a);
                    b = e + 1;
                }
                if (o.src_addrs.size() > 256)
                    return err = "--src-addrs: at most 256 addresses", false;
                break;
            }
            case o_exit:
                if (!parse_u64(optarg, 1, 1ull << 40, "--exit-after", o.exit_after, err))
                    return false;
                break;
            case o_stack_stats:
                o.stack_stats = true;
                break;
            default:
                return getopt_default(ch, argv, usage, err);
        }
    }
    if (!perf_check_role(argc, argv, o, seen, err)) return false;
    if (unsigned(o.port) + o.port_count - 1 > 65535)
        return err =
                   fmt("--port %u with --port-count %u goes past port 65535", o.port, o.port_count),
               false;
    if (!o.src_addrs.empty() && o.server)
        return err = "--src-addrs is a client option (the server takes --bind)", false;
    if (!o.src_addrs.empty() && strcmp(stack_name(), "kernel") != 0)
        return err =
                   "--src-addrs: this build's stack has one address (ip_addr in mtcp.conf); "
                   "spread connections over server ports with --port-count",
               false;
    if (o.rate && o.m != mode::rr)
        return err = "--rate paces rr transactions: use --mode rr", false;
    if (o.count && o.m == mode::stream)
        return err = "-n counts transactions: use it with --mode rr or crr", false;
    if (!perf_check_duration(o, seen, err)) return false;
    if (o.msg == 0) o.msg = o.m == mode::stream ? 131072 : 64;
    return true;
}

}  // namespace mvnf::tcpperf
