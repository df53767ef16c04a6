// mvnf-tcpperf: multi-core TCP performance client/server (the seed's
// TestMultiClient/TestMultiServer). Modes: stream (bulk, Gbps), rr (ping-pong,
// transactions/s and latency), crr (connect-request-response-close,
// connections/s). Built twice: mvnf-tcpperf (mTCP) and mvnf-tcpperf-kernel.
//
// Each connection opens with a 16-byte hello: "MVNF", mode, 3 pad bytes,
// message size (u32, big endian), 4 reserved bytes. The server then sinks
// (stream) or answers every message with one of the same size (rr, crr).
#include <arpa/inet.h>
#include <getopt.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "app_util.hpp"
#include "net_io.hpp"

using namespace mvnf::app;

namespace {

enum class mode : uint8_t { stream = 1, rr = 2, crr = 3 };
const char* mode_name(mode m) { return m == mode::stream ? "stream" : m == mode::rr ? "rr" : "crr"; }
constexpr size_t hello_len = 16;

struct options {
    bool server = false;
    std::string host, conf;
    uint32_t addr = 0, bind_addr = 0;
    uint16_t port = 5201;
    int cores = 1;
    uint64_t conns = 1;       // per core
    uint64_t msg = 0;         // 0: mode default
    double duration = 5;      // client: -t; server: -d (0 = forever)
    uint64_t count = 0;       // client: transactions (rr/crr); 0: use -t
    uint64_t exit_after = 0;  // server: exit after this many connections closed
    mode m = mode::stream;
    bool json = false, quiet = false;
};

const char* usage =
    "usage: mvnf-tcpperf -s [options]            (server)\n"
    "       mvnf-tcpperf -c ADDR [options]       (client)\n"
    "Multi-core TCP performance test; the server answers whatever mode the client asks.\n"
    "  -s              run the server\n"
    "  -c ADDR         run a client against the server at IPv4 ADDR\n"
    "  --mode MODE     stream (bulk, Gbps), rr (request/response ping-pong, latency),\n"
    "                  crr (connect-request-response-close, connections/s); default stream\n"
    "  -N CORES        cores (default 1)\n"
    "  -m CONNS        connections per core (client; default 1)\n"
    "  -l BYTES        message size (default 128K for stream, 64 for rr/crr)\n"
    "  -t SECONDS      client test duration (default 5)\n"
    "  -n COUNT        client: stop after COUNT transactions in total (rr/crr)\n"
    "  -d SECONDS      server: stop after this long (default: until SIGINT/SIGTERM)\n"
    "  --exit-after N  server: stop once N connections have closed\n"
    "  --port PORT     TCP port (default 5201)\n"
    "  --bind ADDR     server local address (kernel build; default 0.0.0.0)\n"
    "  -f FILE         mtcp.conf (required by mvnf-tcpperf, ignored by the -kernel build)\n"
    "  --json          print the final summary as one JSON line\n"
    "  -q              no once-a-second progress line\n"
    "  -h, --help      this text\n";

struct core_stats {
    counter connections, closed, bytes_in, bytes_out, transactions;
    counter e_connect, e_reset, e_proto;
    latency_hist hist;  // owner thread only
};

options g_opt;
std::vector<core_stats> g_stats;
std::mutex g_mu;
std::string g_err;
std::atomic<int> g_failed{0};
std::atomic<uint64_t> g_closed_total{0};
std::vector<char> g_pattern;

void fail(const std::string& e) {
    std::lock_guard<std::mutex> l(g_mu);
    if (g_err.empty()) g_err = e;
    g_failed.fetch_add(1);
    request_stop();
}

bool soft_errno() { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR; }

// ---------------------------------------------------------------- server
struct sconn {
    uint8_t hello[hello_len];
    size_t hello_got = 0;
    mode m = mode::stream;
    uint64_t msg = 0, in_msg = 0, owed = 0;
    bool eof = false;
};

class server {
public:
    server(io& n, core_stats& st) : _io(n), _st(st) {}

    bool start() {
        _ls = _io.tcp_socket();
        if (_ls < 0) return fail(fmt("socket: %s", strerror(errno))), false;
        _io.reuse_port(_ls);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(g_opt.port);
        a.sin_addr.s_addr = g_opt.bind_addr;
        if (_io.bind(_ls, a) < 0) return fail(fmt("bind port %u: %s", g_opt.port, strerror(errno))), false;
        if (_io.listen(_ls, 4096) < 0) return fail(fmt("listen: %s", strerror(errno))), false;
        if (_io.ep_add(_ls, ev_in, ~0ull) < 0) return fail(fmt("epoll: %s", strerror(errno))), false;
        return true;
    }

    void run(uint64_t deadline) {
        event evs[256];
        while (!stop_requested() && (deadline == 0 || now_ns() < deadline)) {
            if (g_opt.exit_after && g_closed_total.load() >= g_opt.exit_after) break;
            int n = _io.ep_wait(evs, 256, 50);
            if (n < 0) return fail(fmt("epoll wait: %s", strerror(errno)));
            for (int i = 0; i < n; i++) {
                if (evs[i].data == ~0ull) {
                    accept_all();
                    continue;
                }
                int s = int(evs[i].data);
                auto it = _conns.find(s);
                if (it == _conns.end()) continue;
                if (evs[i].events & ev_out && !pay(s, it->second)) continue;
                if (evs[i].events & (ev_in | ev_hup | ev_err)) on_readable(s, it->second);
            }
        }
        for (auto& [s, c] : _conns) _io.close(s);
        _io.close(_ls);
    }

private:
    void accept_all() {
        for (;;) {
            int s = _io.accept(_ls);
            if (s < 0) return;
            _io.ep_add(s, ev_in, uint64_t(s));
            _conns[s] = sconn{};
            _st.connections.add();
        }
    }

    void drop(int s, bool error) {
        if (error) _st.e_reset.add();
        _io.ep_del(s);
        _io.close(s);
        _conns.erase(s);
        _st.closed.add();
        g_closed_total.fetch_add(1);
    }

    void on_readable(int s, sconn& c) {
        static thread_local char buf[262144];
        for (;;) {
            ssize_t r = _io.read(s, buf, sizeof buf);
            if (r == 0) {
                c.eof = true;
                break;
            }
            if (r < 0) {
                if (soft_errno()) break;
                return drop(s, errno != ECONNRESET || c.m != mode::crr);
            }
            size_t off = 0;
            if (c.hello_got < hello_len) {
                size_t take = std::min(size_t(r), hello_len - c.hello_got);
                memcpy(c.hello + c.hello_got, buf, take);
                c.hello_got += take;
                off = take;
                if (c.hello_got == hello_len) {
                    uint32_t msg;
                    memcpy(&msg, c.hello + 8, 4);
                    c.m = mode(c.hello[4]);
                    c.msg = ntohl(msg);
                    if (memcmp(c.hello, "MVNF", 4) != 0 || c.msg == 0 ||
                        (c.m != mode::stream && c.m != mode::rr && c.m != mode::crr)) {
                        _st.e_proto.add();
                        return drop(s, false);
                    }
                }
            }
            _st.bytes_in.add(uint64_t(r) - off);  // payload only, like the client counts
            if (c.m != mode::stream) {
                c.in_msg += uint64_t(r) - off;
                uint64_t full = c.in_msg / c.msg;
                c.in_msg -= full * c.msg;
                c.owed += full * c.msg;
                _st.transactions.add(full);
                if (full && !pay(s, c)) return;
            }
        }
        if (c.eof && c.owed == 0) drop(s, false);
    }

    // Writes owed response bytes; false when the connection was closed.
    bool pay(int s, sconn& c) {
        while (c.owed) {
            ssize_t w = _io.write(s, g_pattern.data(), std::min<uint64_t>(c.owed, g_pattern.size()));
            if (w < 0) {
                if (soft_errno()) {
                    _io.ep_mod(s, ev_in | ev_out, uint64_t(s));
                    return true;
                }
                drop(s, errno != ECONNRESET && errno != EPIPE);
                return false;
            }
            c.owed -= uint64_t(w);
            _st.bytes_out.add(uint64_t(w));
        }
        _io.ep_mod(s, ev_in, uint64_t(s));
        if (c.eof) {
            drop(s, false);
            return false;
        }
        return true;
    }

    io& _io;
    core_stats& _st;
    int _ls = -1;
    std::unordered_map<int, sconn> _conns;
};

// ---------------------------------------------------------------- client
struct cconn {
    bool connected = false;
    uint64_t t_start = 0;  // transaction (rr) or connection (crr) start
    uint64_t to_send = 0, to_recv = 0;
    size_t hello_left = hello_len;
};

class client {
public:
    client(io& n, core_stats& st, uint64_t quota) : _io(n), _st(st), _quota(quota) {
        _dst.sin_family = AF_INET;
        _dst.sin_port = htons(g_opt.port);
        _dst.sin_addr.s_addr = g_opt.addr;
        memcpy(_hello, "MVNF", 4);
        _hello[4] = uint8_t(g_opt.m);
        uint32_t m = htonl(uint32_t(g_opt.msg));
        memcpy(_hello + 8, &m, 4);
    }

    void run(uint64_t deadline) {
        if (_io.init_rss(stack_local_addr(), g_opt.addr, g_opt.port) < 0)
            return fail(fmt("mtcp_init_rss: %s", strerror(errno)));
        for (uint64_t i = 0; i < g_opt.conns; i++)
            if (!open_conn()) return;
        event evs[256];
        while (!_conns.empty() && !stop_requested()) {
            if (deadline && now_ns() >= deadline) break;
            int n = _io.ep_wait(evs, 256, 20);
            if (n < 0) return fail(fmt("epoll wait: %s", strerror(errno)));
            for (int i = 0; i < n; i++) {
                int s = int(evs[i].data);
                auto it = _conns.find(s);
                if (it != _conns.end()) on_event(s, it->second, evs[i].events);
            }
        }
        // Graceful end: the server reads every byte we wrote before our FIN.
        for (auto& [s, c] : _conns) {
            _io.close(s);
            _st.closed.add();
        }
        _conns.clear();
    }

private:
    bool quota_left() const { return _quota == 0 || _begun < _quota; }

    bool open_conn() {
        if (!quota_left() || stop_requested()) return true;
        int s = _io.tcp_socket();
        if (s < 0) {
            fail(fmt("socket: %s", strerror(errno)));
            return false;
        }
        _st.connections.add();
        if (g_opt.m == mode::crr) _begun++;  // crr: one transaction per connection
        cconn c;
        c.t_start = now_ns();
        if (_io.connect(s, _dst) < 0 && errno != EINPROGRESS) {
            _st.e_connect.add();
            _io.close(s);
            return true;
        }
        _io.ep_add(s, ev_out, uint64_t(s));
        _conns[s] = c;
        return true;
    }

    void close_conn(int s, bool reopen) {
        _io.ep_del(s);
        _io.close(s);
        _conns.erase(s);
        _st.closed.add();
        if (reopen) open_conn();
    }

    void begin_transaction(cconn& c, bool stamp) {
        if (g_opt.m == mode::rr) _begun++;
        if (stamp) c.t_start = now_ns();
        c.to_send = g_opt.msg;
        c.to_recv = g_opt.msg;
    }

    void on_event(int s, cconn& c, uint32_t ev) {
        if (!c.connected) {
            if (int e = _io.socket_error(s); e != 0 || (ev & ev_err)) {
                _st.e_connect.add();
                return close_conn(s, g_opt.m == mode::crr);
            }
            if (!(ev & ev_out)) return;
            c.connected = true;
            if (g_opt.m == mode::stream) {
                c.to_send = ~0ull;
            } else if (g_opt.m == mode::rr && !quota_left()) {
                return close_conn(s, false);
            } else {
                begin_transaction(c, g_opt.m == mode::rr);
            }
        }
        if (ev & ev_err) {
            _st.e_reset.add();
            return close_conn(s, g_opt.m == mode::crr);
        }
        if (!send_some(s, c)) return;
        if (g_opt.m != mode::stream && (ev & (ev_in | ev_hup))) recv_some(s, c);
    }

    // Writes hello + pending message bytes; false when the connection closed.
    bool send_some(int s, cconn& c) {
        while (c.hello_left || c.to_send) {
            iovec iov[2];
            int n = 0;
            if (c.hello_left) iov[n++] = {_hello + hello_len - c.hello_left, c.hello_left};
            if (c.to_send)
                iov[n++] = {g_pattern.data(), size_t(std::min<uint64_t>(c.to_send, g_pattern.size()))};
            ssize_t w = _io.writev(s, iov, n);
            if (w < 0) {
                if (soft_errno()) {
                    _io.ep_mod(s, g_opt.m == mode::stream ? ev_out : ev_in | ev_out, uint64_t(s));
                    return true;
                }
                _st.e_reset.add();
                close_conn(s, g_opt.m == mode::crr);
                return false;
            }
            size_t h = std::min(size_t(w), c.hello_left);
            c.hello_left -= h;
            if (c.to_send != ~0ull) c.to_send -= uint64_t(size_t(w) - h);
            _st.bytes_out.add(uint64_t(w) - h);
        }
        _io.ep_mod(s, ev_in, uint64_t(s));
        return true;
    }

    void recv_some(int s, cconn& c) {
        static thread_local char buf[262144];
        for (;;) {
            ssize_t r = _io.read(s, buf, sizeof buf);
            if (r == 0 || (r < 0 && !soft_errno())) {
                _st.e_reset.add();
                return close_conn(s, g_opt.m == mode::crr);
            }
            if (r < 0) return;
            _st.bytes_in.add(uint64_t(r));
            if (uint64_t(r) > c.to_recv) {  // the server never sends unasked
                _st.e_proto.add();
                return close_conn(s, false);
            }
            c.to_recv -= uint64_t(r);
            if (c.to_recv) continue;
            _st.transactions.add();
            _st.hist.record(now_ns() - c.t_start);
            if (g_opt.m == mode::crr) return close_conn(s, true);
            if (!quota_left() || stop_requested()) return close_conn(s, false);
            begin_transaction(c, true);
            if (!send_some(s, c)) return;
        }
    }

    io& _io;
    core_stats& _st;
    uint64_t _quota, _begun = 0;
    sockaddr_in _dst{};
    uint8_t _hello[hello_len] = {};
    std::unordered_map<int, cconn> _conns;
};

bool parse_args(int argc, char** argv, std::string& err) {
    enum { o_mode = 1000, o_port, o_bind, o_json, o_exit };
    static option longs[] = {{"mode", required_argument, nullptr, o_mode},
                             {"port", required_argument, nullptr, o_port},
                             {"bind", required_argument, nullptr, o_bind},
                             {"exit-after", required_argument, nullptr, o_exit},
                             {"json", no_argument, nullptr, o_json},
                             {"help", no_argument, nullptr, 'h'},
                             {nullptr, 0, nullptr, 0}};
    opterr = 0;
    int ch;
    uint64_t v;
    bool client = false, dur_set = false;
    while ((ch = getopt_long(argc, argv, ":sc:N:m:l:t:n:d:f:qh", longs, nullptr)) != -1) {
        switch (ch) {
            case 's': g_opt.server = true; break;
            case 'c':
                client = true;
                g_opt.host = optarg;
                if (!parse_ipv4(optarg, g_opt.addr)) {
                    err = fmt("-c: '%s' is not an IPv4 address", optarg);
                    return false;
                }
                break;
            case 'N':
                if (!parse_u64(optarg, 1, 64, "-N cores", v, err)) return false;
                g_opt.cores = int(v);
                break;
            case 'm':
                if (!parse_u64(optarg, 1, 100000, "-m connections per core", g_opt.conns, err)) return false;
                break;
            case 'l':
                if (!parse_u64(optarg, 1, 16 << 20, "-l message size", g_opt.msg, err)) return false;
                break;
            case 't':
            case 'd':
                if (!parse_double(optarg, 0, 1e6, ch == 't' ? "-t seconds" : "-d seconds",
                                  g_opt.duration, err))
                    return false;
                dur_set = true;
                break;
            case 'n':
                if (!parse_u64(optarg, 1, 1ull << 40, "-n count", g_opt.count, err)) return false;
                break;
            case 'f': g_opt.conf = optarg; break;
            case 'q': g_opt.quiet = true; break;
            case o_mode:
                if (!strcmp(optarg, "stream")) g_opt.m = mode::stream;
                else if (!strcmp(optarg, "rr")) g_opt.m = mode::rr;
                else if (!strcmp(optarg, "crr")) g_opt.m = mode::crr;
                else return err = fmt("--mode: '%s' is not stream, rr or crr", optarg), false;
                break;
            case o_port:
                if (!parse_u64(optarg, 1, 65535, "--port", v, err)) return false;
                g_opt.port = uint16_t(v);
                break;
            case o_bind:
                if (!parse_ipv4(optarg, g_opt.bind_addr))
                    return err = fmt("--bind: '%s' is not an IPv4 address", optarg), false;
                break;
            case o_exit:
                if (!parse_u64(optarg, 1, 1ull << 40, "--exit-after", g_opt.exit_after, err)) return false;
                break;
            case o_json: g_opt.json = true; break;
            case 'h': fputs(usage, stdout); exit(0);
            case ':': err = fmt("option %s needs a value", argv[optind - 1]); return false;
            default: err = fmt("unknown option '%s'", argv[optind - 1]); return false;
        }
    }
    if (optind < argc) return err = fmt("unexpected argument '%s'", argv[optind]), false;
    if (g_opt.server == client) return err = "give exactly one of -s (server) or -c ADDR (client)", false;
    if (g_opt.server && !dur_set) g_opt.duration = 0;
    if (client && g_opt.count && !dur_set) g_opt.duration = 0;
    if (g_opt.count && g_opt.m == mode::stream)
        return err = "-n counts transactions: use it with --mode rr or crr", false;
    if (client && g_opt.duration == 0 && !g_opt.count)
        return err = "the client needs -t SECONDS > 0 or -n COUNT", false;
    if (g_opt.msg == 0) g_opt.msg = g_opt.m == mode::stream ? 131072 : 64;
    return true;
}

std::string errors_json() {
    uint64_t c = 0, r = 0, p = 0;
    for (auto& s : g_stats) c += s.e_connect.get(), r += s.e_reset.get(), p += s.e_proto.get();
    return json().num("total", c + r + p).num("connect", c).num("reset", r).num("protocol", p).done();
}

}  // namespace

int main(int argc, char** argv) {
    std::string err;
    if (!parse_args(argc, argv, err)) {
        fprintf(stderr, "mvnf-tcpperf: %s\n%s", err.c_str(), usage);
        return 2;
    }
    install_stop_signals();
    if (!stack_init(g_opt.conf, g_opt.cores, err)) {
        fprintf(stderr, "mvnf-tcpperf: %s\n", err.c_str());
        return 1;
    }
    g_pattern.assign(std::min<uint64_t>(g_opt.msg, 262144), 'x');
    if (g_opt.server) g_pattern.assign(262144, 'y');
    const int N = g_opt.cores;
    g_stats = std::vector<core_stats>(size_t(N));
    auto sum = [](counter core_stats::*f) {
        uint64_t t = 0;
        for (auto& s : g_stats) t += (s.*f).get();
        return t;
    };
    std::atomic<int> ready{0};
    const uint64_t t0 = now_ns();
    const uint64_t deadline = g_opt.duration > 0 ? t0 + uint64_t(g_opt.duration * 1e9) : 0;
    const char* role = g_opt.server ? "server" : "client";
    if (!g_opt.server && !g_opt.quiet) {
        printf("mvnf-tcpperf client (%s): %s to %s:%u, %d core(s) x %llu conn(s), %llu-byte messages, %s\n",
               stack_name(), mode_name(g_opt.m), g_opt.host.c_str(), g_opt.port, N,
               (unsigned long long)g_opt.conns, (unsigned long long)g_opt.msg,
               g_opt.count ? fmt("%llu transactions", (unsigned long long)g_opt.count).c_str()
                           : fmt("%.1f s", g_opt.duration).c_str());
        fflush(stdout);
    }
    uint64_t last_in = 0, last_out = 0, last_tr = 0, last_conn = 0;
    run_cores(
        N,
        [&](int core) {
            io n;
            std::string e;
            if (!n.open(core, e)) return fail(e);
            auto& st = g_stats[size_t(core)];
            if (g_opt.server) {
                server s(n, st);
                if (!s.start()) return;
                if (ready.fetch_add(1) + 1 == N) {
                    printf("mvnf-tcpperf server (%s): listening on port %u, %d core(s)\n",
                           stack_name(), g_opt.port, N);
                    fflush(stdout);
                }
                s.run(deadline);
            } else {
                uint64_t q = g_opt.count ? g_opt.count / uint64_t(N) + (uint64_t(core) < g_opt.count % uint64_t(N)) : 0;
                if (g_opt.count && q == 0) return;
                client c(n, st, q);
                c.run(deadline);
            }
        },
        [&](double t) {
            if (g_opt.quiet) return;
            uint64_t in = sum(&core_stats::bytes_in), out = sum(&core_stats::bytes_out),
                     tr = sum(&core_stats::transactions), cn = sum(&core_stats::connections);
            printf("[%5.1fs] %s: in %.3f Gbps out %.3f Gbps | %s trans/s | %s conns/s | open %llu\n",
                   t, role, double(in - last_in) * 8 / 1e9, double(out - last_out) * 8 / 1e9,
                   human_rate(double(tr - last_tr)).c_str(), human_rate(double(cn - last_conn)).c_str(),
                   (unsigned long long)(cn - sum(&core_stats::closed)));
            fflush(stdout);
            last_in = in, last_out = out, last_tr = tr, last_conn = cn;
        });
    const double secs = std::max(1e-9, double(now_ns() - t0) / 1e9);
    stack_shutdown();
    if (g_failed.load()) {
        fprintf(stderr, "mvnf-tcpperf: %s\n", g_err.c_str());
        return 1;
    }
    latency_hist h;
    for (auto& s : g_stats) h.merge(s.hist);
    const uint64_t in = sum(&core_stats::bytes_in), out = sum(&core_stats::bytes_out),
                   tr = sum(&core_stats::transactions), cn = sum(&core_stats::connections);
    if (g_opt.json) {
        json j;
        j.str("tool", "mvnf-tcpperf").str("role", role).str("stack", stack_name()).num("cores", N);
        if (!g_opt.server)
            j.str("mode", mode_name(g_opt.m)).num("conns_per_core", g_opt.conns).num("msg_size", g_opt.msg);
        j.num("seconds", secs)
            .num("connections", cn)
            .num("bytes_sent", out)
            .num("bytes_received", in)
            .num("gbps_sent", double(out) * 8 / secs / 1e9)
            .num("gbps_received", double(in) * 8 / secs / 1e9)
            .num("transactions", tr)
            .num("transactions_per_s", double(tr) / secs)
            .num("connections_per_s", double(cn) / secs);
        if (!g_opt.server) j.raw("latency", latency_json(h));
        printf("%s\n", j.raw("errors", errors_json()).done().c_str());
    } else {
        printf("\n== mvnf-tcpperf %s summary (%s stack) ==\n", role, stack_name());
        printf("time          %.2f s, %llu connection(s) (%s/s)\n", secs, (unsigned long long)cn,
               human_rate(double(cn) / secs).c_str());
        printf("sent          %.2f MB  (%.3f Gbps)\n", double(out) / 1e6, double(out) * 8 / secs / 1e9);
        printf("received      %.2f MB  (%.3f Gbps)\n", double(in) / 1e6, double(in) * 8 / secs / 1e9);
        if (g_opt.server || g_opt.m != mode::stream)
            printf("transactions  %llu  (%s/s)\n", (unsigned long long)tr, human_rate(double(tr) / secs).c_str());
        if (!g_opt.server && g_opt.m != mode::stream) printf("latency       %s\n", latency_text(h).c_str());
        printf("errors        %s\n", errors_json().c_str());
    }
    return 0;
}
