// Implementation of app_util.hpp: clock, stop signals, parsing, histogram,
// JSON building and the per-core thread runner with its once-a-second tick.
#include "app_util.hpp"

#include <arpa/inet.h>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <thread>
#include <unistd.h>

namespace mvnf::app {

uint64_t now_ns() {
    timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return uint64_t(t.tv_sec) * 1000000000ull + uint64_t(t.tv_nsec);
}

namespace {
std::atomic<int> g_stop{0};
void on_signal(int) {
    if (g_stop.fetch_add(1) >= 1) _exit(130);
}
}  // namespace

void install_stop_signals() {
    struct sigaction sa{};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
}
bool stop_requested() { return g_stop.load(std::memory_order_relaxed) != 0; }
void request_stop() { g_stop.store(1); }

bool parse_u64(const char* s, uint64_t lo, uint64_t hi, const char* name, uint64_t& out,
               std::string& err) {
    if (!s || !*s) {
        err = std::string(name) + ": missing value";
        return false;
    }
    char* end = nullptr;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (s[0] == '-' || end == s || errno) {
        err = std::string(name) + ": '" + s + "' is not a number";
        return false;
    }
    uint64_t mul = 1;
    if (*end) {
        switch (*end) {
            case 'k': mul = 1000; break;
            case 'm': mul = 1000000; break;
            case 'g': mul = 1000000000; break;
            case 'K': mul = 1024; break;
            case 'M': mul = 1024 * 1024; break;
            case 'G': mul = 1024ull * 1024 * 1024; break;
            default: mul = 0;
        }
        if (mul == 0 || end[1]) {
            err = std::string(name) + ": '" + s + "' has trailing garbage";
            return false;
        }
    }
    out = uint64_t(v) * mul;
    if (out < lo || out > hi) {
        err = fmt("%s: %s out of range %llu..%llu", name, s, (unsigned long long)lo,
                  (unsigned long long)hi);
        return false;
    }
    return true;
}

bool parse_double(const char* s, double lo, double hi, const char* name, double& out,
                  std::string& err) {
    char* end = nullptr;
    out = s ? strtod(s, &end) : 0;
    if (!s || end == s || *end) {
        err = std::string(name) + ": '" + (s ? s : "") + "' is not a number";
        return false;
    }
    if (out < lo || out > hi) {
        err = fmt("%s: %s out of range %g..%g", name, s, lo, hi);
        return false;
    }
    return true;
}

bool parse_ipv4(const std::string& s, uint32_t& out) {
    in_addr a{};
    if (s == "localhost") {
        out = htonl(INADDR_LOOPBACK);
        return true;
    }
    if (inet_pton(AF_INET, s.c_str(), &a) != 1) return false;
    out = a.s_addr;
    return true;
}

// ---- histogram: values below 2^sub_bits are exact; above, each power of two
// is split into 2^sub_bits buckets.
latency_hist::latency_hist() : _b(size_t(64 - sub_bits + 1) << sub_bits, 0) {}

size_t latency_hist::index(uint64_t v) {
    if (v < (1u << sub_bits)) return size_t(v);
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - sub_bits;
    return (size_t(shift + 1) << sub_bits) + size_t((v >> shift) & ((1u << sub_bits) - 1));
}
uint64_t latency_hist::upper(size_t i) {
    if (i < (1u << sub_bits)) return i;
    size_t shift = (i >> sub_bits) - 1;
    uint64_t base = (uint64_t(1) << sub_bits) | (i & ((1u << sub_bits) - 1));
    return ((base + 1) << shift) - 1;
}
void latency_hist::record(uint64_t ns) {
    _b[index(ns)]++;
    _count++;
    _sum += ns;
    if (ns > _max) _max = ns;
    if (ns < _min) _min = ns;
}
void latency_hist::merge(const latency_hist& o) {
    for (size_t i = 0; i < _b.size(); i++) _b[i] += o._b[i];
    _count += o._count;
    _sum += o._sum;
    if (o._max > _max) _max = o._max;
    if (o._min < _min) _min = o._min;
}
uint64_t latency_hist::percentile(double p) const {
    if (_count == 0) return 0;
    uint64_t want = uint64_t(double(_count) * p / 100.0 + 0.5);
    if (want < 1) want = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < _b.size(); i++) {
        seen += _b[i];
        if (seen >= want) return std::min(upper(i), _max);
    }
    return _max;
}

// ---- JSON
void json::key(const char* k) {
    if (!_s.empty()) _s += ',';
    _s += '"';
    _s += k;
    _s += "\":";
}
json& json::num(const char* k, double v) {
    key(k);
    _s += fmt("%.6g", v);
    return *this;
}
json& json::num(const char* k, uint64_t v) {
    key(k);
    _s += std::to_string(v);
    return *this;
}
json& json::str(const char* k, const std::string& v) {
    key(k);
    _s += '"';
    for (char c : v) {
        if (c == '"' || c == '\\') _s += '\\';
        if (uint8_t(c) >= 0x20) _s += c;
    }
    _s += '"';
    return *this;
}
json& json::boolean(const char* k, bool v) {
    key(k);
    _s += v ? "true" : "false";
    return *this;
}
json& json::raw(const char* k, const std::string& v) {
    key(k);
    _s += v;
    return *this;
}

std::string latency_json(const latency_hist& h) {
    return json()
        .num("count", h.count())
        .num("mean_us", h.mean() / 1e3)
        .num("p50_us", double(h.percentile(50)) / 1e3)
        .num("p90_us", double(h.percentile(90)) / 1e3)
        .num("p99_us", double(h.percentile(99)) / 1e3)
        .num("max_us", double(h.max()) / 1e3)
        .done();
}

static std::string dur(double ns) {
    if (ns < 1e6) return fmt("%.1f us", ns / 1e3);
    if (ns < 1e9) return fmt("%.2f ms", ns / 1e6);
    return fmt("%.2f s", ns / 1e9);
}
std::string latency_text(const latency_hist& h) {
    if (!h.count()) return "no samples";
    return "mean " + dur(h.mean()) + ", p50 " + dur(double(h.percentile(50))) + ", p90 " +
           dur(double(h.percentile(90))) + ", p99 " + dur(double(h.percentile(99))) +
           ", max " + dur(double(h.max()));
}

void run_cores(int n, const std::function<void(int)>& fn,
               const std::function<void(double)>& tick) {
    std::atomic<int> running{n};
    std::vector<std::thread> ts;
    for (int i = 0; i < n; i++)
        ts.emplace_back([&, i] {
            fn(i);
            running.fetch_sub(1);
        });
    const uint64_t t0 = now_ns();
    uint64_t next = t0 + 1000000000ull;
    while (running.load() > 0) {
        usleep(20000);
        uint64_t t = now_ns();
        if (t >= next) {
            if (tick) tick(double(t - t0) / 1e9);
            next += 1000000000ull;
        }
    }
    for (auto& t : ts) t.join();
}

namespace {
uint64_t proc_status_kb(const char* key) {
    FILE* f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    unsigned long long v = 0;
    const size_t klen = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            sscanf(line + klen + 1, "%llu", &v);
            break;
        }
    fclose(f);
    return v;
}
}  // namespace

uint64_t rss_kb() { return proc_status_kb("VmRSS"); }
uint64_t peak_rss_kb() { return proc_status_kb("VmHWM"); }

std::string human_rate(double v) {
    if (v >= 1e9) return fmt("%.2fG", v / 1e9);
    if (v >= 1e6) return fmt("%.2fM", v / 1e6);
    if (v >= 1e3) return fmt("%.1fk", v / 1e3);
    return fmt("%.0f", v);
}

std::string fmt(const char* f, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

}  // namespace mvnf::app
