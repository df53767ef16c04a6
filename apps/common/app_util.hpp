// Shared helpers of the apps (httpd, wget, tcpperf, udpperf): clock, stop
// signals, number parsing with clear errors, a log-linear latency histogram,
// per-core counters and a tiny JSON writer. Backend-independent.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mvnf::app {

uint64_t now_ns();

// SIGINT/SIGTERM set the stop flag (a second signal exits at once).
void install_stop_signals();
bool stop_requested();
void request_stop();

// Parses an unsigned integer with optional k/m/g (×1000) or K/M/G (×1024)
// suffix into [lo, hi]; on failure sets err to "NAME: ..." and returns false.
bool parse_u64(const char* s, uint64_t lo, uint64_t hi, const char* name, uint64_t& out,
               std::string& err);
bool parse_double(const char* s, double lo, double hi, const char* name, double& out,
                  std::string& err);
// "a.b.c.d" or "localhost" -> network order; false when not an IPv4 literal.
bool parse_ipv4(const std::string& s, uint32_t& out);

// Log-linear histogram of durations in ns: 1/64 relative precision, 0..~1 h.
class latency_hist {
public:
    latency_hist();
    void record(uint64_t ns);
    void merge(const latency_hist& o);
    uint64_t count() const { return _count; }
    uint64_t max() const { return _max; }
    uint64_t min() const { return _count ? _min : 0; }
    double mean() const { return _count ? double(_sum) / double(_count) : 0; }
    // Upper edge of the bucket holding the p-th percentile (p in 0..100).
    uint64_t percentile(double p) const;

private:
    static constexpr int sub_bits = 6;
    static size_t index(uint64_t v);
    static uint64_t upper(size_t i);
    std::vector<uint64_t> _b;
    uint64_t _count = 0, _sum = 0, _max = 0, _min = UINT64_MAX;
};

// Builds one JSON object: j.num("k", 1).str("s", "x").raw("o", other.done())
class json {
public:
    json& num(const char* k, double v);
    json& num(const char* k, uint64_t v);
    json& num(const char* k, int v) { return num(k, uint64_t(v)); }
    json& str(const char* k, const std::string& v);
    json& boolean(const char* k, bool v);
    json& raw(const char* k, const std::string& v);
    std::string done() const { return "{" + _s + "}"; }

private:
    void key(const char* k);
    std::string _s;
};
// {"count":..,"mean_us":..,"p50_us":..,"p90_us":..,"p99_us":..,"max_us":..}
std::string latency_json(const latency_hist& h);
// "p50 1.2 ms p90 ..." for humans.
std::string latency_text(const latency_hist& h);

// Runs fn(core) on `n` threads and joins them; returns when all are done.
// `tick` runs on the calling thread once a second (elapsed seconds) until then.
void run_cores(int n, const std::function<void(int)>& fn,
               const std::function<void(double)>& tick);

// A relaxed counter padded to its own cache line, read by the reporter.
struct alignas(64) counter {
    std::atomic<uint64_t> v{0};
    void add(uint64_t d = 1) { v.store(v.load(std::memory_order_relaxed) + d, std::memory_order_relaxed); }
    uint64_t get() const { return v.load(std::memory_order_relaxed); }
};

// This process's resident memory in KiB from /proc/self/status: now (VmRSS)
// and the peak so far (VmHWM); 0 when unavailable.
uint64_t rss_kb();
uint64_t peak_rss_kb();

std::string human_rate(double per_s);  // 12.3k, 4.56M
std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));

}  // namespace mvnf::app
