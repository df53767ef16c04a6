// Implementation of cli.hpp: the command-line pieces the apps share. The
// messages are the apps' own (tests/apps/apps_test.py checks some of them).
#include "cli.hpp"

#include <getopt.h>

#include <cstdio>
#include <cstdlib>

#include "app_util.hpp"

namespace mvnf::app {

bool getopt_default(int ch, char** argv, const char* usage, std::string& err) {
    switch (ch) {
        case 'h':
            std::fputs(usage, stdout);
            std::exit(0);
        case ':':
            err = fmt("option %s needs a value", argv[optind - 1]);
            return false;
        default:
            err = fmt("unknown option '%s'", argv[optind - 1]);
            return false;
    }
}

bool no_operands(int argc, char** argv, std::string& err) {
    if (optind < argc) {
        err = fmt("unexpected argument '%s'", argv[optind]);
        return false;
    }
    return true;
}

int usage_error(const char* tool, const std::string& err, const char* usage) {
    std::fprintf(stderr, "%s: %s\n%s", tool, err.c_str(), usage);
    return 2;
}

bool parse_ipv4_option(const char* name, const char* s, uint32_t& out, std::string& err) {
    if (parse_ipv4(s, out)) return true;
    err = std::string(name) + ": '" + s + "' is not an IPv4 address";
    return false;
}

bool parse_port(const char* s, const char* name, uint16_t& out, std::string& err) {
    uint64_t v;
    if (!parse_u64(s, 1, 65535, name, v, err)) return false;
    out = uint16_t(v);
    return true;
}

bool parse_cores(const char* s, int& out, std::string& err) {
    uint64_t v;
    if (!parse_u64(s, 1, 64, "-N cores", v, err)) return false;
    out = int(v);
    return true;
}

taken perf_option(int ch, const char* arg, perf_options& o, perf_seen& seen, std::string& err) {
    auto ok = [](bool good) { return good ? taken::yes : taken::error; };
    switch (ch) {
        case 's':
            o.server = true;
            return taken::yes;
        case 'c':
            seen.client = true;
            o.host = arg;
            return ok(parse_ipv4_option("-c", arg, o.addr, err));
        case 'N':
            return ok(parse_cores(arg, o.cores, err));
        case 't':
        case 'd':
            seen.duration_set = true;
            return ok(parse_double(arg, 0, 1e6, ch == 't' ? "-t seconds" : "-d seconds", o.duration,
                                   err));
        case 'n':
            return ok(parse_u64(arg, 1, 1ull << 40, "-n count", o.count, err));
        case 'f':
            o.conf = arg;
            return taken::yes;
        case 'q':
            o.quiet = true;
            return taken::yes;
        case opt_port:
            return ok(parse_port(arg, "--port", o.port, err));
        case opt_bind:
            return ok(parse_ipv4_option("--bind", arg, o.bind_addr, err));
        case opt_json:
            o.json = true;
            return taken::yes;
        default:
            return taken::no;
    }
}

bool perf_check_role(int argc, char** argv, const perf_options& o, const perf_seen& seen,
                     std::string& err) {
    if (!no_operands(argc, argv, err)) return false;
    if (o.server == seen.client) {
        err = "give exactly one of -s (server) or -c ADDR (client)";
        return false;
    }
    return true;
}

bool perf_check_duration(perf_options& o, const perf_seen& seen, std::string& err) {
    if (o.server && !seen.duration_set) o.duration = 0;
    if (seen.client && o.count && !seen.duration_set) o.duration = 0;
    if (seen.client && o.duration == 0 && !o.count) {
        err = "the client needs -t SECONDS > 0 or -n COUNT";
        return false;
    }
    return true;
}

}  // namespace mvnf::app
