#include "options.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace mvnf::impair {
namespace {

const char* const k_usage =
    "usage: mvnf-impair -a SPEC -b SPEC [impairments] [options]\n"
    "Bridges two ports frame by frame (both directions) and impairs the traffic\n"
    "like the kernel's netem: a user-space link emulator for any netio backend.\n"
    "  -a SPEC, -b SPEC  the two ports: shm:NAME, afpacket:IF, afxdp:IF, tap:NAME, ...\n"
    "  --loss P          drop P%% of frames (e.g. 1 or 1%%; 0..100)\n"
    "  --delay T         hold every frame T (e.g. 10ms, 500us, 1s; bare number: ms)\n"
    "  --jitter T        add a uniform delay in [-T, +T] (may reorder frames)\n"
    "  --reorder P       send P%% of frames at once, skipping the delay (needs --delay)\n"
    "  --dup P           send P%% of frames twice\n"
    "  --corrupt P       flip one random bit past the Ethernet header in P%% of IPv4 frames\n"
    "  --ce P            mark P%% of ECN-capable IPv4 packets CE (an ECN router, RFC 3168)\n"
    "  --dir D           impair both directions (default), or only a2b or b2a\n"
    "  --limit N         frames held per direction (default 10000; more are dropped)\n"
    "  --seed N          random seed (default 1): same seed, same decisions\n"
    "  -q N              queues per port (default 1); one thread per direction\n"
    "  -B BYTES          buffer size (default 2048; 9216 for jumbo frames)\n"
    "  -d SECONDS        stop after this long (default: on a signal, or when a\n"
    "                    shm peer that was attached leaves)\n"
    "  --json            final summary as one JSON line\n"
    "  --quiet           no once-a-second progress line\n"
    "  -h, --help        this text\n";

bool bad(const char* opt, const char* why, std::string_view val) {
    std::fprintf(stderr, "mvnf-impair: %s: %s: '%.*s'\n", opt, why, int(val.size()), val.data());
    return false;
}

// "1", "1%", "0.5%": a percentage in [0, 100], returned as a probability.
bool percent(const char* opt, const char* s, double& out) {
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(s, &end);
    if (end == s || errno) return bad(opt, "not a number", s);
    if (*end == '%') ++end;
    if (*end) return bad(opt, "expected a percentage like 1 or 1%", s);
    if (!(v >= 0 && v <= 100)) return bad(opt, "must be within 0..100", s);
    out = v / 100;
    return true;
}

// "10ms", "500us", "2s", "250ns", "10" (ms).
bool duration_ns(const char* opt, const char* s, int64_t& out) {
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(s, &end);
    if (end == s || errno || !(v >= 0)) return bad(opt, "expected a duration like 10ms", s);
    std::string_view unit(end);
    double scale = 1e6;
    if (unit == "" || unit == "ms") scale = 1e6;
    else if (unit == "us") scale = 1e3;
    else if (unit == "ns") scale = 1;
    else if (unit == "s") scale = 1e9;
    else return bad(opt, "unknown unit (ns, us, ms, s)", s);
    if (v * scale > 60e9) return bad(opt, "more than 60 s", s);
    out = int64_t(v * scale);
    return true;
}

bool unsigned_in(const char* opt, const char* s, uint64_t lo, uint64_t hi, uint64_t& out) {
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(s, &end, 10);
    if (end == s || *end || errno || s[0] == '-') return bad(opt, "not a number", s);
    if (v < lo || v > hi) {
        std::fprintf(stderr, "mvnf-impair: %s: must be within %llu..%llu: '%s'\n", opt,
                     (unsigned long long)lo, (unsigned long long)hi, s);
        return false;
    }
    out = v;
    return true;
}

}  // namespace

bool parse(int argc, char** argv, options& o, int* exit_code) {
    *exit_code = 2;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "-h" || a == "--help") {
            std::printf(k_usage);
            *exit_code = 0;
            return false;
        }
        if (a == "--json") {
            o.json = true;
            continue;
        }
        if (a == "--quiet") {
            o.quiet = true;
            continue;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "mvnf-impair: %s: %s\n", argv[i],
                         a.starts_with("-") ? "needs a value (or unknown option; see --help)"
                                            : "unexpected argument (see --help)");
            return false;
        }
        const char* v = argv[++i];
        uint64_t n = 0;
        bool ok = true;
        if (a == "-a") o.a = v;
        else if (a == "-b") o.b = v;
        else if (a == "--loss") ok = percent(argv[i - 1], v, o.imp.loss);
        else if (a == "--dup") ok = percent(argv[i - 1], v, o.imp.dup);
        else if (a == "--corrupt") ok = percent(argv[i - 1], v, o.imp.corrupt);
        else if (a == "--ce") ok = percent(argv[i - 1], v, o.imp.ce);
        else if (a == "--reorder") ok = percent(argv[i - 1], v, o.imp.reorder);
        else if (a == "--delay") ok = duration_ns(argv[i - 1], v, o.imp.delay_ns);
        else if (a == "--jitter") ok = duration_ns(argv[i - 1], v, o.imp.jitter_ns);
        else if (a == "--dir") {
            std::string_view d = v;
            if (d == "both") o.dir = direction::both;
            else if (d == "a2b") o.dir = direction::a2b;
            else if (d == "b2a") o.dir = direction::b2a;
            else ok = bad("--dir", "expected both, a2b or b2a", v);
        } else if (a == "--limit") {
            ok = unsigned_in("--limit", v, 1, 1u << 22, n);
            o.limit = uint32_t(n);
        } else if (a == "--seed") {
            ok = unsigned_in("--seed", v, 0, UINT64_MAX, n);
            o.seed = n;
        } else if (a == "-q") {
            ok = unsigned_in("-q", v, 1, 64, n);
            o.queues = uint32_t(n);
        } else if (a == "-B") {
            ok = unsigned_in("-B", v, 256, 9216, n);
            o.buf_size = uint32_t(n);
        } else if (a == "-d") {
            char* end = nullptr;
            o.duration = std::strtod(v, &end);
            if (end == v || *end || !(o.duration > 0)) ok = bad("-d", "expected seconds > 0", v);
        } else {
            std::fprintf(stderr, "mvnf-impair: unknown option '%s' (see --help)\n", argv[i - 1]);
            return false;
        }
        if (!ok) return false;
    }
    if (o.a.empty() || o.b.empty()) {
        std::fprintf(stderr, "mvnf-impair: both -a and -b are required (see --help)\n");
        return false;
    }
    if (o.a == o.b) {
        std::fprintf(stderr, "mvnf-impair: -a and -b name the same port '%s'\n", o.a.c_str());
        return false;
    }
    if (o.imp.reorder > 0 && o.imp.delay_ns == 0) {
        std::fprintf(stderr, "mvnf-impair: --reorder needs --delay (frames skip the delay)\n");
        return false;
    }
    return true;
}

}  // namespace mvnf::impair
