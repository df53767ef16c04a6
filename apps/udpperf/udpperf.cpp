// mvnf-udpperf: multi-core UDP performance client/server (the seed's
// udpclient/udpserver) with correct counters: the client counts only what
// the stack accepted, the server finds loss from per-flow sequence numbers
// and the client's end-of-flow totals. Built twice: mvnf-udpperf (mTCP) and
// mvnf-udpperf-kernel (Linux sockets).
//
// Datagram header (32 bytes, big endian): "MVNU", type (0 data, 1 end),
// 3 pad bytes, flow id u64, sequence u64 (end: datagrams sent in the flow),
// 8 reserved bytes. The rest of the datagram is padding.
#include <arpa/inet.h>
#include <endian.h>
#include <getopt.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "app_util.hpp"
#include "cli.hpp"
#include "net_io.hpp"

using namespace mvnf::app;

namespace {

constexpr size_t hdr_len = 32;

// The shared perf options (app::perf_options: -s/-c, -N, -t/-d, -n counting
// datagrams, -f, -q, --port, --bind, --json) and udpperf's own.
struct options : perf_options {
    options() : perf_options(5301) {}
    uint64_t size = 64;
    uint64_t rate = 0;  // datagrams/s in total; 0: flood
    uint64_t exit_flows = 0;
};

const char* usage =
    "usage: mvnf-udpperf -s [options]            (server)\n"
    "       mvnf-udpperf -c ADDR [options]       (client)\n"
    "Multi-core UDP throughput and loss test. Each client core is one flow; the\n"
    "server reports datagrams, bytes and the exact loss of every finished flow.\n"
    "  -s              run the server\n"
    "  -c ADDR         run a client sending to the server at IPv4 ADDR\n"
    "  -N CORES        cores (default 1)\n"
    "  -l BYTES        UDP payload size, 32..65507 (default 64)\n"
    "  -r RATE         datagrams per second in total, e.g. 100k (default 0: flood)\n"
    "  -t SECONDS      client duration (default 5)\n"
    "  -n COUNT        client: send COUNT datagrams in total, then stop\n"
    "  -d SECONDS      server: stop after this long (default: until SIGINT/SIGTERM)\n"
    "  --exit-flows N  server: stop once N flows have ended\n"
    "  --port PORT     UDP port (default 5301)\n"
    "  --bind ADDR     server local address (kernel build; default 0.0.0.0)\n"
    "  -f FILE         mtcp.conf (required by mvnf-udpperf, ignored by the -kernel build)\n"
    "  --json          print the final summary as one JSON line\n"
    "  -q              no once-a-second progress line\n"
    "  -h, --help      this text\n";

struct core_stats {
    counter datagrams, bytes, would_block, errors, flows, out_of_order, bad;
    std::atomic<uint64_t> first_ns{0}, last_ns{0};
};

options g_opt;
std::vector<core_stats> g_stats;
std::mutex g_mu;
std::string g_err;
std::atomic<int> g_failed{0};
std::atomic<uint64_t> g_flows_ended{0};

void fail(const std::string& e) {
    std::lock_guard<std::mutex> l(g_mu);
    if (g_err.empty()) g_err = e;
    g_failed.fetch_add(1);
    request_stop();
}

void put64(uint8_t* p, uint64_t v) {
    v = htobe64(v);
    memcpy(p, &v, 8);
}
uint64_t get64(const uint8_t* p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return be64toh(v);
}

int open_socket(io& n, bool server) {
    int s = n.udp_socket();
    if (s < 0) return fail(fmt("socket: %s", strerror(errno))), -1;
    if (server) {
        n.reuse_port(s);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(g_opt.port);
        a.sin_addr.s_addr = g_opt.bind_addr;
        if (n.bind(s, a) < 0) return fail(fmt("bind port %u: %s", g_opt.port, strerror(errno))), -1;
    }
    if (n.ep_add(s, server ? uint32_t(ev_in) : 0u, 0) < 0) return fail(fmt("epoll: %s", strerror(errno))), -1;
    return s;
}

// ---------------------------------------------------------------- server
// Per-core flow tables are merged after the run: a flow's datagrams may reach
// more than one core (the kernel's SO_REUSEPORT choice is not guaranteed to be
// stable per 4-tuple), so loss is computed over all cores together.
struct flow {
    uint64_t received = 0, next_seq = 0;
};
std::vector<std::unordered_map<uint64_t, flow>> g_flows;  // per core
std::unordered_map<uint64_t, uint64_t> g_ended;           // flow -> datagrams sent (g_mu)

void run_server(io& n, core_stats& st, uint64_t deadline, std::atomic<int>& ready) {
    int s = open_socket(n, true);
    if (s < 0) return;
    if (ready.fetch_add(1) + 1 == g_opt.cores) {
        printf("mvnf-udpperf server (%s): listening on port %u, %d core(s)\n", stack_name(),
               g_opt.port, g_opt.cores);
        fflush(stdout);
    }
    auto& flows = g_flows[size_t(n.core())];
    std::vector<uint8_t> buf(65536);
    // Reads every queued datagram.
    auto drain = [&] {
        for (;;) {
            ssize_t r = n.recvfrom(s, buf.data(), buf.size(), nullptr);
            if (r < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) st.errors.add();
                break;
            }
            if (size_t(r) < hdr_len || memcmp(buf.data(), "MVNU", 4) != 0 || buf[4] > 1) {
                st.bad.add();
                continue;
            }
            uint64_t id = get64(&buf[8]), seq = get64(&buf[16]);
            if (buf[4] == 1) {  // end: seq is the number of datagrams sent
                std::lock_guard<std::mutex> l(g_mu);
                if (g_ended.emplace(id, seq).second) g_flows_ended.fetch_add(1);
                continue;
            }
            flow& f = flows[id];
            uint64_t t = now_ns();
            if (st.first_ns.load() == 0) st.first_ns.store(t);
            st.last_ns.store(t);
            if (seq < f.next_seq) st.out_of_order.add();
            else f.next_seq = seq + 1;
            f.received++;
            st.datagrams.add();
            st.bytes.add(uint64_t(r));
        }
    };
    event evs[16];
    while (!stop_requested() && (deadline == 0 || now_ns() < deadline)) {
        if (g_opt.exit_flows && g_flows_ended.load() >= g_opt.exit_flows) break;
        if (n.ep_wait(evs, 16, 50) < 0) return fail(fmt("epoll wait: %s", strerror(errno)));
        drain();
    }
    // The end marker may reach another core first: take what is still queued.
    n.ep_wait(evs, 16, 10);
    drain();
    n.close(s);
}

struct loss_report {
    uint64_t flows = 0, ended = 0, lost = 0;
};
// Ended flows: sent - received over all cores. Unfinished flows: the gaps
// below the highest sequence number seen (a lower bound).
loss_report merge_flows() {
    std::unordered_map<uint64_t, flow> all;
    for (auto& m : g_flows)
        for (auto& [id, f] : m) {
            auto& a = all[id];
            a.received += f.received;
            a.next_seq = std::max(a.next_seq, f.next_seq);
        }
    for (auto& [id, total] : g_ended) all.try_emplace(id);
    loss_report r;
    r.flows = all.size();
    for (auto& [id, f] : all) {
        auto e = g_ended.find(id);
        uint64_t sent = e != g_ended.end() ? e->second : f.next_seq;
        r.ended += e != g_ended.end();
        r.lost += sent > f.received ? sent - f.received : 0;
    }
    return r;
}

// ---------------------------------------------------------------- client
void run_client(io& n, core_stats& st, uint64_t deadline, uint64_t quota, uint64_t rate,
                uint64_t flow_id) {
    int s = open_socket(n, false);
    if (s < 0) return;
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(g_opt.port);
    dst.sin_addr.s_addr = g_opt.addr;
    std::vector<uint8_t> pkt(g_opt.size, 0);
    memcpy(pkt.data(), "MVNU", 4);
    put64(&pkt[8], flow_id);
    uint64_t seq = 0;
    const uint64_t t0 = now_ns();
    event evs[16];
    st.first_ns.store(t0);
    while (!stop_requested() && (quota == 0 || seq < quota)) {
        uint64_t t = now_ns();
        if (deadline && t >= deadline) break;
        uint64_t due = quota ? quota : ~0ull;
        if (rate) due = std::min(due, uint64_t(double(t - t0) * double(rate) / 1e9) + 1);
        uint64_t burst = 0;
        while (seq < due && burst < 256) {
            put64(&pkt[16], seq);
            ssize_t w = n.sendto(s, pkt.data(), pkt.size(), dst);
            if (w < 0) {
                // EHOSTUNREACH early on: the stack's ARP queue is full while the
                // server's address resolves (mTCP build); retry for a few seconds.
                bool resolving = errno == EHOSTUNREACH && t - t0 < 3000000000ull;
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || resolving) {
                    st.would_block.add();
                    break;  // not sent: retried with the same sequence number
                }
                if (errno == EINTR) continue;
                return fail(fmt("sendto: %s", strerror(errno)));
            }
            seq++, burst++;
            st.datagrams.add();
            st.bytes.add(uint64_t(w));
        }
        // Lets the stack run (mTCP) and paces: a short wait when ahead of the rate.
        if (n.ep_wait(evs, 16, seq < due ? 0 : 1) < 0) return fail(fmt("epoll wait: %s", strerror(errno)));
    }
    st.last_ns.store(now_ns());
    // End marker, repeated in case one is lost: carries the flow's total. A
    // flood leaves the TX ring (and the server's socket queue) full for a
    // while, so markers count only once the stack took them, and are spaced
    // 20 ms apart for the server to drain; at most 3 s.
    pkt[4] = 1;
    put64(&pkt[16], seq);
    const uint64_t give_up = now_ns() + 3000000000ull;
    for (int accepted = 0; accepted < 5 && now_ns() < give_up;) {
        if (n.sendto(s, pkt.data(), hdr_len, dst) >= 0) accepted++;
        else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && errno != EINTR) break;
        n.ep_wait(evs, 16, 20);
    }
    st.flows.add();
    n.close(s);
}

bool parse_args(int argc, char** argv, std::string& err) {
    enum { o_exit = 1000 };
    static option longs[] = {{"port", required_argument, nullptr, opt_port},
                             {"bind", required_argument, nullptr, opt_bind},
                             {"exit-flows", required_argument, nullptr, o_exit},
                             {"json", no_argument, nullptr, opt_json},
                             {"help", no_argument, nullptr, 'h'},
                             {nullptr, 0, nullptr, 0}};
    opterr = 0;
    int ch;
    perf_seen seen;
    while ((ch = getopt_long(argc, argv, ":sc:N:l:r:t:n:d:f:qh", longs, nullptr)) != -1) {
        switch (perf_option(ch, optarg, g_opt, seen, err)) {
            case taken::yes: continue;
            case taken::error: return false;
            case taken::no: break;
        }
        switch (ch) {
            case 'l':
                if (!parse_u64(optarg, hdr_len, 65507, "-l datagram size", g_opt.size, err)) return false;
                break;
            case 'r':
                if (!parse_u64(optarg, 0, 1ull << 34, "-r rate", g_opt.rate, err)) return false;
                break;
            case o_exit:
                if (!parse_u64(optarg, 1, 1 << 20, "--exit-flows", g_opt.exit_flows, err)) return false;
                break;
            default: return getopt_default(ch, argv, usage, err);
        }
    }
    if (!perf_check_role(argc, argv, g_opt, seen, err)) return false;
    if (!perf_check_duration(g_opt, seen, err)) return false;
    if (g_opt.rate && g_opt.rate < uint64_t(g_opt.cores))
        return err = "-r must give every core at least 1 datagram/s", false;
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::string err;
    if (!parse_args(argc, argv, err)) return usage_error("mvnf-udpperf", err, usage);
    install_stop_signals();
    if (!stack_init(g_opt.conf, g_opt.cores, err)) {
        fprintf(stderr, "mvnf-udpperf: %s\n", err.c_str());
        return 1;
    }
    const int N = g_opt.cores;
    g_stats = std::vector<core_stats>(size_t(N));
    g_flows.resize(size_t(N));
    auto sum = [](counter core_stats::*f) {
        uint64_t t = 0;
        for (auto& s : g_stats) t += (s.*f).get();
        return t;
    };
    const char* role = g_opt.server ? "server" : "client";
    if (!g_opt.server && !g_opt.quiet) {
        printf("mvnf-udpperf client (%s): %d flow(s) to %s:%u, %llu-byte datagrams, %s, %s\n",
               stack_name(), N, g_opt.host.c_str(), g_opt.port, (unsigned long long)g_opt.size,
               g_opt.rate ? (human_rate(double(g_opt.rate)) + " datagrams/s").c_str() : "flood",
               g_opt.count ? fmt("%llu datagrams", (unsigned long long)g_opt.count).c_str()
                           : fmt("%.1f s", g_opt.duration).c_str());
        fflush(stdout);
    }
    std::atomic<int> ready{0};
    std::random_device rd;
    const uint64_t nonce = (uint64_t(rd()) << 32 | rd()) << 8;
    const uint64_t t0 = now_ns();
    const uint64_t deadline = g_opt.duration > 0 ? t0 + uint64_t(g_opt.duration * 1e9) : 0;
    uint64_t last_d = 0, last_b = 0;
    run_cores(
        N,
        [&](int core) {
            io n;
            std::string e;
            if (!n.open(core, e)) return fail(e);
            auto& st = g_stats[size_t(core)];
            if (g_opt.server) return run_server(n, st, deadline, ready);
            auto share = [&](uint64_t total) {
                return total / uint64_t(N) + (uint64_t(core) < total % uint64_t(N));
            };
            uint64_t q = g_opt.count ? share(g_opt.count) : 0;
            if (g_opt.count && q == 0) return;
            run_client(n, st, deadline, q, share(g_opt.rate), nonce | uint64_t(core));
        },
        [&](double t) {
            if (g_opt.quiet) return;
            uint64_t d = sum(&core_stats::datagrams), b = sum(&core_stats::bytes);
            printf("[%5.1fs] %s: %s datagrams/s %.3f Gbps | total %llu | %s %llu\n", t, role,
                   human_rate(double(d - last_d)).c_str(), double(b - last_b) * 8 / 1e9,
                   (unsigned long long)d, g_opt.server ? "flows ended" : "would-block",
                   (unsigned long long)(g_opt.server ? g_flows_ended.load()
                                                     : sum(&core_stats::would_block)));
            fflush(stdout);
            last_d = d, last_b = b;
        });
    stack_shutdown();
    if (g_failed.load()) {
        fprintf(stderr, "mvnf-udpperf: %s\n", g_err.c_str());
        return 1;
    }
    // Rates over the active period (first to last datagram), not the idle wait.
    uint64_t first = ~0ull, last = 0;
    for (auto& s : g_stats) {
        if (s.first_ns.load()) first = std::min(first, s.first_ns.load());
        last = std::max(last, s.last_ns.load());
    }
    const double secs = last > first ? double(last - first) / 1e9 : 1e-9;
    const loss_report lr = g_opt.server ? merge_flows() : loss_report{};
    const uint64_t d = sum(&core_stats::datagrams), b = sum(&core_stats::bytes), lost = lr.lost;
    const double loss_pct = d + lost ? 100.0 * double(lost) / double(d + lost) : 0;
    if (g_opt.json) {
        json j;
        j.str("tool", "mvnf-udpperf").str("role", role).str("stack", stack_name()).num("cores", N);
        if (!g_opt.server) j.num("size", g_opt.size).num("rate", g_opt.rate);
        j.num("seconds", secs)
            .num("datagrams", d)
            .num("bytes", b)
            .num("pps", double(d) / secs)
            .num("gbps", double(b) * 8 / secs / 1e9)
            .num("flows", g_opt.server ? lr.flows : sum(&core_stats::flows));
        if (g_opt.server)
            j.num("flows_ended", lr.ended)
                .num("lost", lost)
                .num("loss_pct", loss_pct)
                .num("out_of_order", sum(&core_stats::out_of_order))
                .num("malformed", sum(&core_stats::bad));
        else
            j.num("would_block", sum(&core_stats::would_block));
        printf("%s\n", j.num("errors", sum(&core_stats::errors)).done().c_str());
    } else {
        printf("\n== mvnf-udpperf %s summary (%s stack) ==\n", role, stack_name());
        printf("%-12s %llu datagrams, %.2f MB in %.2f s\n", g_opt.server ? "received" : "sent",
               (unsigned long long)d, double(b) / 1e6, secs);
        printf("%-12s %s datagrams/s, %.3f Gbps\n", "rate", human_rate(double(d) / secs).c_str(),
               double(b) * 8 / secs / 1e9);
        if (g_opt.server)
            printf("%-12s %llu datagrams (%.3f%%) over %llu flow(s), %llu ended; %llu out of order\n",
                   "lost", (unsigned long long)lost, loss_pct,
                   (unsigned long long)lr.flows, (unsigned long long)lr.ended,
                   (unsigned long long)sum(&core_stats::out_of_order));
        else
            printf("%-12s %llu (send buffer full, retried)\n", "would-block",
                   (unsigned long long)sum(&core_stats::would_block));
    }
    return 0;
}
