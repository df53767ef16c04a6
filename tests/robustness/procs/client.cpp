// mvnf-rob-client: the legitimate client of the process-level robustness
// tests (procs_test.py, scripts/soak.sh), on the public mTCP C API only.
// Modes:
//   conn   connections at a paced rate; each sends -l bytes, checks the echo
//          byte for byte (and with --wait-eof waits for the server to close
//          first), then closes. Connect time = mtcp_connect to writable.
//          SIGUSR1 starts the next phase; every phase is reported apart.
//   hold   opens -n connections and holds them idle for --hold seconds,
//          recording which were refused, reset (and when) or closed by the
//          server; then closes what is left.
//   mixed  the soak: --long connections streaming a pattern that the echo
//          must return exactly, each replaced after --long-secs, plus short
//          connections at --rate with 1..-l bytes.
// Then optionally --verify N connections (like conn) after --verify-after
// seconds: the server must serve again. Prints JSON progress lines and one
// final JSON line, then with --linger keeps its stack running for the
// server's sake until SIGTERM. Exit 0 unless the stack could not start.
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "mtcp/mtcp_api.h"
#include "mtcp/mtcp_epoll.h"
#include "proc_args.hpp"
#include "proc_mtcp.hpp"

namespace {

volatile sig_atomic_t g_stop = 0;
volatile sig_atomic_t g_phase = 0;
void on_stop(int) {
    g_stop = 1;
}
void on_phase(int) {
    g_phase = g_phase + 1;
}

int64_t now_us() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

enum class mode { conn, hold, mixed };

struct options {
    std::string conf;
    sockaddr_in server{};
    mode m = mode::conn;
    double rate = 0;     // new connections per second (conn, mixed short), 0 = unpaced
    int in_flight = 16;  // -c
    uint64_t count = 0;  // -n (conn: 0 = until -d)
    uint32_t len = 64;   // -l
    bool wait_eof = false;
    double timeout = 10;  // per connection
    double duration = 0;  // -d
    double hold = 5;
    bool keep_on_fin = false;
    int longs = 0;
    double long_secs = 30;
    uint64_t verify = 0;
    double verify_after = 0;
    double linger = 0;
    int stats_ms = 1000;
};

const char* const usage_text =
    "usage: mvnf-rob-client -f mtcp.conf --server IP:PORT --mode conn|hold|mixed\n"
    "  conn:  [--rate R] [-c N] [-n N] [-d S] [-l BYTES] [--wait-eof]\n"
    "  hold:  -n N [-c N] [--hold S] [--keep-on-fin]\n"
    "  mixed: --long K [--long-secs S] [--rate R] [-l MAX] [-c N] -d S\n"
    "  all:   [--timeout S] [--verify N [--verify-after S]] [--linger S]\n"
    "         [--stats-ms N]\n";

options parse(int argc, char** argv) {
    options o;
    bool have_server = false;
    mvnf::rob::arg_reader r(argc, argv, "mvnf-rob-client", usage_text);
    while (r.next()) {
        if (r.is("-f"))
            o.conf = r.value();
        else if (r.is("--server")) {
            in_addr a{};
            const uint16_t p = r.ip_port([&](const char* ip) { return inet_aton(ip, &a) != 0; });
            o.server.sin_family = AF_INET;
            o.server.sin_addr = a;
            o.server.sin_port = htons(p);
            have_server = true;
        } else if (r.is("--mode")) {
            std::string m = r.value();
            if (m == "conn")
                o.m = mode::conn;
            else if (m == "hold")
                o.m = mode::hold;
            else if (m == "mixed")
                o.m = mode::mixed;
            else
                r.fail("--mode: conn, hold or mixed");
        } else if (r.is("--rate"))
            o.rate = r.number(0, 1e7);
        else if (r.is("-c"))
            o.in_flight = int(r.number(1, 1 << 20));
        else if (r.is("-n"))
            o.count = uint64_t(r.number(0, 1e12));
        else if (r.is("-l"))
            o.len = uint32_t(r.number(0, 1 << 30));
        else if (r.is("--wait-eof"))
            o.wait_eof = true;
        else if (r.is("--timeout"))
            o.timeout = r.number(0.01, 3600);
        else if (r.is("-d"))
            o.duration = r.number(0, 1e6);
        else if (r.is("--hold"))
            o.hold = r.number(0, 1e6);
        else if (r.is("--keep-on-fin"))
            o.keep_on_fin = true;
        else if (r.is("--long"))
            o.longs = int(r.number(0, 10000));
        else if (r.is("--long-secs"))
            o.long_secs = r.number(0.1, 1e6);
        else if (r.is("--verify"))
            o.verify = uint64_t(r.number(0, 1e9));
        else if (r.is("--verify-after"))
            o.verify_after = r.number(0, 1e6);
        else if (r.is("--linger"))
            o.linger = r.number(0, 1e6);
        else if (r.is("--stats-ms"))
            o.stats_ms = int(r.number(0, 60000));
        else if (r.help())
            r.fail("help");
        else
            r.unknown();
    }
    if (o.conf.empty()) r.fail("-f mtcp.conf is required");
    if (!have_server) r.fail("--server is required");
    if (o.m == mode::hold && o.count == 0) r.fail("hold: -n is required");
    if (o.m == mode::mixed && o.duration <= 0) r.fail("mixed: -d is required");
    if (o.m == mode::conn && o.count == 0 && o.duration <= 0) r.fail("conn: -n or -d is required");
    return o;
}

// The byte at stream offset `off` of a connection with seed `seed`.
inline char pattern(uint32_t seed, uint64_t off) {
    return char(uint8_t((off * 2654435761u) >> 11) ^ uint8_t(seed) ^ uint8_t(off >> 16));
}

enum fail_kind { f_connect, f_reset, f_timeout, f_data, f_closed_early, f_other, f_count };
const char* const fail_names[f_count] = {"connect", "reset",        "timeout",
                                         "data",    "closed_early", "other"};

// Connect times in a fixed log-linear histogram (64 steps per power of two:
// values are exact below 64 us and within 1.6 % above), so memory stays the
// same however long the soak runs: the soak judges this process's memory.
class latency_hist {
  public:
    void add(uint32_t us) {
        ++_n[index(us)];
        ++_count;
        _max = std::max(_max, us);
    }
    uint64_t count() const { return _count; }
    uint32_t max() const { return _max; }
    // The smallest recorded bucket value covering fraction p of the samples.
    uint32_t pct(double p) const {
        if (!_count) return 0;
        const uint64_t want = std::max<uint64_t>(1, uint64_t(p * double(_count) + 0.5));
        uint64_t seen = 0;
        for (size_t i = 0; i < buckets; ++i) {
            seen += _n[i];
            if (seen >= want) return std::min(_max, value(i));
        }
        return _max;
    }

  private:
    static constexpr size_t sub = 64, buckets = sub * 27;  // up to 2^32 us
    static size_t index(uint32_t v) {
        if (v < sub) return v;
        const unsigned e = 31u - unsigned(__builtin_clz(v)) - 6;  // v >> e in [64, 128)
        return size_t(e) * sub + (v >> e);
    }
    static uint32_t value(size_t i) {
        if (i < 2 * sub) return uint32_t(i);
        const size_t e = i / sub - 1, m = i % sub + sub;
        return uint32_t(std::min<uint64_t>(uint64_t(m) << e, UINT32_MAX));
    }
    uint64_t _n[buckets] = {};
    uint64_t _count = 0;
    uint32_t _max = 0;
};

struct group {
    uint64_t attempted = 0, ok = 0, failed = 0, bytes = 0;
    uint64_t errs[f_count] = {};
    latency_hist connect_us;  // of every connection that connected

    std::string json() const {
        char b[640];
        std::snprintf(b, sizeof b,
                      "{\"attempted\":%" PRIu64 ",\"ok\":%" PRIu64 ",\"failed\":%" PRIu64
                      ",\"bytes\":%" PRIu64 ",\"errors\":{",
                      attempted, ok, failed, bytes);
        std::string s = b;
        for (int k = 0; k < f_count; ++k)
            s += std::string(k ? "," : "") + "\"" + fail_names[k] + "\":" + std::to_string(errs[k]);
        std::snprintf(b, sizeof b,
                      "},\"connect_us\":{\"count\":%" PRIu64
                      ",\"p50\":%u,\"p90\":%u,\"p99\":%u,\"max\":%u}}",
                      connect_us.count(), connect_us.pct(0.5), connect_us.pct(0.9),
                      connect_us.pct(0.99), connect_us.max());
        return s + b;
    }
};

enum class kind { shortc, longc, holdc };

struct conn {
    bool used = false;
    kind k = kind::shortc;
    group* g = nullptr;
    bool connected = false, closing_write = false, eof = false, watching = true;
    uint32_t seed = 0;
    uint64_t to_send = 0, sent = 0, recvd = 0;
    int64_t t_start = 0, t_conn = 0, deadline = 0, end_writes = 0;
};

class client {
  public:
    client(mctx_t c, const options& o) : _c(c), _o(o) {}

    bool start() {
        _ep = mtcp_epoll_create1(_c, 0);
        if (_ep < 0) {
            std::perror("mtcp_epoll_create1");
            return false;
        }
        _phases.emplace_back();
        return true;
    }

    void run() {
        _t0 = now_us();
        _next_stats = _t0 + int64_t(_o.stats_ms) * 1000;
        if (_o.m == mode::hold)
            run_hold();
        else
            run_main();
        if (_o.verify) run_verify();
        print(true);
        // Keep the stack answering (retransmitted FINs whose last ACK was
        // lost) so the server can drain; SIGTERM ends it early.
        const int64_t until = now_us() + tus(_o.linger);
        while (!g_stop && now_us() < until) poll_once(wait_ms(until));
    }

  private:
    // ---- the main loop pieces -------------------------------------------------

    int64_t tus(double s) const { return int64_t(s * 1e6); }

    void poll_once(int timeout_ms) {
        mtcp_epoll_event ev[256];
        int n = mtcp_epoll_wait(_c, _ep, ev, 256, timeout_ms);
        if (n < 0 && errno != EINTR) {
            std::perror("mtcp_epoll_wait");
            g_stop = 1;
            return;
        }
        for (int i = 0; i < n; ++i) handle(ev[i].data.sockid, ev[i].events);
        const int64_t now = now_us();
        if (now >= _next_deadline_scan) {
            _next_deadline_scan = now + 10000;
            for (size_t s = 0; s < _conns.size(); ++s)
                if (_conns[s].used && _conns[s].deadline && now >= _conns[s].deadline)
                    fail(int(s), f_timeout);
        }
        if (_o.stats_ms && now >= _next_stats) {
            _next_stats += int64_t(_o.stats_ms) * 1000;
            print(false);
        }
    }

    conn& at(int s) {
        if (size_t(s) >= _conns.size()) _conns.resize(size_t(s) + 1);
        return _conns[size_t(s)];
    }

    void set_events(int s, uint32_t events) {
        mtcp_epoll_event e{};
        e.events = events;
        e.data.sockid = s;
        mtcp_epoll_ctl(_c, _ep, MTCP_EPOLL_CTL_MOD, s, &e);
    }

    // Opens one connection of kind k counted in g; false when no socket.
    bool open(kind k, group& g, uint64_t to_send) {
        const int64_t now = now_us();
        ++g.attempted;
        int s = mtcp_socket(_c, AF_INET, SOCK_STREAM, 0);
        if (s < 0) {
            ++g.failed, ++g.errs[f_other];
            return false;
        }
        mtcp_setsock_nonblock(_c, s);
        int one = 1;
        mtcp_setsockopt(_c, s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn& c = at(s);
        c = conn{};
        c.used = true;
        c.k = k;
        c.g = &g;
        c.seed = uint32_t(++_seq * 2654435761u);
        c.to_send = to_send;
        c.t_start = now;
        c.deadline = now + tus(_o.timeout);
        ++_live;
        _longs += k == kind::longc;
        int r =
            mtcp_connect(_c, s, reinterpret_cast<const sockaddr*>(&_o.server), sizeof _o.server);
        if (r < 0 && errno != EINPROGRESS) {
            fail(s, f_connect);
            return true;
        }
        mtcp_epoll_event e{};
        e.events = MTCP_EPOLLIN | MTCP_EPOLLOUT;
        e.data.sockid = s;
        mtcp_epoll_ctl(_c, _ep, MTCP_EPOLL_CTL_ADD, s, &e);
        return true;
    }

    void release(int s) {
        conn& c = at(s);
        if (c.watching) mtcp_epoll_ctl(_c, _ep, MTCP_EPOLL_CTL_DEL, s, nullptr);
        mtcp_close(_c, s);
        c.used = false;
        --_live;
        _longs -= c.k == kind::longc;
    }

    void fail(int s, fail_kind f) {
        conn& c = at(s);
        if (!c.used) return;
        if (f == f_timeout) diagnose(s, c);
        ++c.g->failed, ++c.g->errs[f];
        if (c.k == kind::holdc && c.connected) {
            --_held;
            if (f == f_reset) _reset_after_ms.push_back(uint32_t((now_us() - c.t_conn) / 1000));
        }
        release(s);
    }

    // A timed-out connection is a finding: say where it stood (stderr).
    void diagnose(int s, const conn& c) {
        tcp_info ti{};
        socklen_t len = sizeof ti;
        const bool have = mtcp_getsockopt(_c, s, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0;
        std::fprintf(stderr,
                     "mvnf-rob-client: timeout: sock %d kind %d connected %d sent %" PRIu64
                     " recvd %" PRIu64 " to_send %" PRIu64
                     " age %.3f s | tcp state %d rto %u us"
                     " unacked %u cwnd %u ssthresh %u rtt %u us\n",
                     s, int(c.k), int(c.connected), c.sent, c.recvd,
                     c.to_send == UINT64_MAX ? 0 : c.to_send, double(now_us() - c.t_start) * 1e-6,
                     have ? int(ti.tcpi_state) : -1, ti.tcpi_rto, ti.tcpi_unacked, ti.tcpi_snd_cwnd,
                     ti.tcpi_snd_ssthresh, ti.tcpi_rtt);
    }

    void succeed(int s) {
        conn& c = at(s);
        ++c.g->ok;
        c.g->bytes += c.recvd;
        release(s);
    }

    static fail_kind classify(int e, bool connected) {
        if (!connected) return f_connect;
        if (e == ECONNRESET || e == EPIPE) return f_reset;
        if (e == ETIMEDOUT) return f_timeout;
        return f_other;
    }

    void write_some(int s, conn& c) {
        char buf[16384];
        const int64_t now = now_us();
        if (c.k == kind::longc && now >= c.end_writes) c.to_send = c.sent;  // stop streaming
        // A long stream keeps at most 256 KiB unechoed so both rings stay bounded.
        const uint64_t window = c.k == kind::longc ? 262144 : UINT64_MAX;
        while (c.sent < c.to_send && c.sent - c.recvd < window) {
            size_t n = size_t(
                std::min<uint64_t>({sizeof buf, c.to_send - c.sent, window - (c.sent - c.recvd)}));
            for (size_t i = 0; i < n; ++i) buf[i] = pattern(c.seed, c.sent + i);
            ssize_t w = mtcp_write(_c, s, buf, n);
            if (w < 0) {
                if (errno == EAGAIN) break;
                return fail(s, classify(errno, true));
            }
            c.sent += uint64_t(w);
        }
        const bool more = c.sent < c.to_send && c.sent - c.recvd < window;
        set_events(s, MTCP_EPOLLIN | (more ? uint32_t(MTCP_EPOLLOUT) : 0u));
    }

    void on_connected(int s, conn& c) {
        c.connected = true;
        c.t_conn = now_us();
        c.g->connect_us.add(uint32_t(std::min<int64_t>(c.t_conn - c.t_start, UINT32_MAX)));
        if (c.k == kind::holdc) {
            ++_held;
            c.deadline = 0;
            set_events(s, MTCP_EPOLLIN);
            return;
        }
        if (c.k == kind::longc) {
            c.end_writes = _ended ? c.t_conn : c.t_conn + tus(_o.long_secs);
            c.to_send = UINT64_MAX;
            c.deadline = c.end_writes + tus(_o.timeout);
        }
        if (c.to_send == 0 && !_o.wait_eof) return succeed(s);
        write_some(s, c);
    }

    // The echo (or the server's FIN) arrived: is this connection done?
    void check_done(int s, conn& c) {
        if (c.k == kind::longc) {
            if (c.to_send != UINT64_MAX && c.recvd == c.sent) succeed(s);
            return;
        }
        if (c.recvd < c.to_send) return;
        if (_o.wait_eof && !c.eof) return;
        succeed(s);  // our close: a FIN, or a RST if the server sent more than expected
    }

    void handle(int s, uint32_t events) {
        if (s < 0 || size_t(s) >= _conns.size() || !_conns[size_t(s)].used) return;
        conn& c = at(s);
        if (!c.connected) {
            if (!(events & (MTCP_EPOLLOUT | MTCP_EPOLLERR | MTCP_EPOLLHUP))) return;
            int e = 0;
            socklen_t len = sizeof e;
            if (mtcp_getsockopt(_c, s, SOL_SOCKET, SO_ERROR, &e, &len) < 0) e = errno;
            if (e) return fail(s, f_connect);
            on_connected(s, c);
            if (!c.used) return;
            events &= ~uint32_t(MTCP_EPOLLOUT);
        }
        if (c.k == kind::holdc) return hold_event(s, c);
        if (events & MTCP_EPOLLOUT) {
            write_some(s, c);
            if (!c.used) return;
        }
        if (!(events & (MTCP_EPOLLIN | MTCP_EPOLLERR | MTCP_EPOLLHUP))) {
            if (c.k == kind::longc) check_done(s, c);
            return;
        }
        char buf[16384];
        for (int rounds = 0; rounds < 8; ++rounds) {
            ssize_t r = mtcp_read(_c, s, buf, sizeof buf);
            if (r == 0) {
                c.eof = true;
                if (c.k == kind::longc) {
                    if (c.to_send != UINT64_MAX && c.recvd == c.sent) return succeed(s);
                    return fail(s, f_closed_early);
                }
                if (c.recvd < c.to_send) return fail(s, f_closed_early);
                return succeed(s);
            }
            if (r < 0) {
                if (errno == EAGAIN) break;
                return fail(s, classify(errno, true));
            }
            for (ssize_t i = 0; i < r; ++i)
                if (buf[i] != pattern(c.seed, c.recvd + uint64_t(i))) return fail(s, f_data);
            c.recvd += uint64_t(r);
            if (c.recvd > c.sent) return fail(s, f_data);
        }
        if (c.k == kind::longc && c.sent < c.to_send) write_some(s, c);
        if (c.used) check_done(s, c);
    }

    void hold_event(int s, conn& c) {
        char buf[256];
        ssize_t r = mtcp_read(_c, s, buf, sizeof buf);
        if (r > 0) return fail(s, f_data);  // nobody sends on a held connection
        if (r < 0 && errno == EAGAIN) return;
        if (r < 0) return fail(s, classify(errno, true));
        ++_eofs;  // the server closed
        if (_o.keep_on_fin) {
            // CLOSE-WAIT from here on: the server's end sits in FIN-WAIT-2.
            mtcp_epoll_ctl(_c, _ep, MTCP_EPOLL_CTL_DEL, s, nullptr);
            c.watching = false;
            return;
        }
        --_held;
        ++c.g->ok;
        release(s);
    }

    int wait_ms(int64_t until) const {
        const int64_t d = (until - now_us()) / 1000;
        return int(std::clamp<int64_t>(d, 0, 10));
    }

    void run_main() {
        const int64_t end = _o.duration > 0 ? _t0 + tus(_o.duration) : INT64_MAX;
        const int64_t gap = _o.rate > 0 ? int64_t(1e6 / _o.rate) : 0;
        int64_t next_open = _t0;
        uint64_t opened = 0;
        for (;;) {
            const int64_t now = now_us();
            const bool opening = !g_stop && now < end && (_o.count == 0 || opened < _o.count);
            if (!opening && _live == 0) break;
            if (!opening && !_ended) {
                // The end: long streams stop writing and finish once echoed.
                _ended = true;
                for (size_t s = 0; s < _conns.size(); ++s) {
                    conn& c = _conns[s];
                    if (!c.used || c.k != kind::longc || !c.connected) continue;
                    c.end_writes = now;
                    write_some(int(s), c);
                    if (c.used) check_done(int(s), c);
                }
            }
            while (size_t(g_phase) >= _phases.size()) _phases.emplace_back();
            if (opening && _o.m == mode::mixed)
                for (int i = 0; i < _o.longs && _longs < _o.longs; ++i) open(kind::longc, _long, 0);
            if (opening && now >= next_open) {
                const int cap = _o.in_flight + (_o.m == mode::mixed ? _o.longs : 0);
                int burst = 0;
                while (_live < cap && now >= next_open && burst < 64 &&
                       (_o.count == 0 || opened < _o.count)) {
                    group& g = _o.m == mode::mixed ? _short : _phases[size_t(g_phase)];
                    uint64_t n = _o.len;
                    if (_o.m == mode::mixed && _o.len > 1) n = 1 + (_seq * 7919) % _o.len;
                    open(kind::shortc, g, n);
                    ++opened, ++burst;
                    next_open = gap ? next_open + gap : now;
                }
                if (gap && now - next_open > 100000) next_open = now;  // do not burst after a stall
            }
            int64_t wake = std::min(end, gap ? next_open : now + 1000);
            poll_once(opening ? wait_ms(wake) : 10);
        }
    }

    void run_hold() {
        uint64_t opened = 0;
        // Open -n connections, at most -c of them still connecting at a time.
        while (!g_stop && (opened < _o.count || connecting() > 0)) {
            while (opened < _o.count && connecting() < _o.in_flight) {
                open(kind::holdc, _hold, 0);
                ++opened;
            }
            poll_once(1);
        }
        // Refusals arrive right after the handshake (the server's RST to our
        // ACK): let them land before counting what is held.
        const int64_t settle = now_us() + 300000;
        while (!g_stop && now_us() < settle) poll_once(wait_ms(settle));
        _held_after_open = _held;
        const int64_t until = now_us() + tus(_o.hold);
        while (!g_stop && now_us() < until) poll_once(wait_ms(until));
        _held_at_end = _held;
        for (size_t s = 0; s < _conns.size(); ++s)
            if (_conns[s].used) {
                if (_conns[s].connected) ++_hold.ok;
                release(int(s));
            }
        _held = 0;
    }

    int connecting() const {
        int n = 0;
        for (const auto& c : _conns) n += c.used && !c.connected;
        return n;
    }

    void run_verify() {
        const int64_t start = now_us() + tus(_o.verify_after);
        while (!g_stop && now_us() < start) poll_once(wait_ms(start));
        // One at a time: each must succeed on its own.
        for (uint64_t i = 0; i < _o.verify && !g_stop; ++i) {
            open(kind::shortc, _verify, _o.len);
            while (_live > 0 && !g_stop) poll_once(1);
        }
    }

    void print(bool final) {
        const double t = double(now_us() - _t0) * 1e-6;
        std::string s = "{\"" + std::string(final ? "final" : "t") + "\":" + std::to_string(t);
        if (_o.m == mode::conn) {
            s += ",\"phases\":[";
            for (size_t i = 0; i < _phases.size(); ++i) s += (i ? "," : "") + _phases[i].json();
            s += "]";
        } else if (_o.m == mode::mixed) {
            s += ",\"short\":" + _short.json() + ",\"long\":" + _long.json();
        } else {
            auto rs = _reset_after_ms;
            std::sort(rs.begin(), rs.end());
            s += ",\"hold\":" + _hold.json() +
                 ",\"held_after_open\":" + std::to_string(_held_after_open) +
                 ",\"held_at_end\":" + std::to_string(_held_at_end) +
                 ",\"held_now\":" + std::to_string(_held) + ",\"eofs\":" + std::to_string(_eofs) +
                 ",\"reset_after_ms\":{\"count\":" + std::to_string(rs.size()) +
                 ",\"min\":" + std::to_string(rs.empty() ? 0 : rs.front()) +
                 ",\"max\":" + std::to_string(rs.empty() ? 0 : rs.back()) + "}";
        }
        s += ",\"live\":" + std::to_string(_live);
        if (_o.verify) s += ",\"verify\":" + _verify.json();
        s += "}";
        std::printf("%s\n", s.c_str());
        std::fflush(stdout);
    }

    mctx_t _c;
    const options& _o;
    int _ep = -1;
    std::vector<conn> _conns;
    std::deque<group> _phases;  // conns point into it: references must stay valid
    group _short, _long, _hold, _verify;
    std::vector<uint32_t> _reset_after_ms;
    int _live = 0, _longs = 0;
    bool _ended = false;
    int64_t _held = 0, _held_after_open = 0, _held_at_end = 0, _eofs = 0;
    uint64_t _seq = 0;
    int64_t _t0 = 0, _next_stats = 0, _next_deadline_scan = 0;
};

}  // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    mvnf::rob::on_signals(on_stop, {SIGINT, SIGTERM});
    mvnf::rob::on_signals(on_phase, {SIGUSR1});
    return mvnf::rob::run_on_mtcp("mvnf-rob-client", o.conf, [&](mctx_t c) {
        client cl(c, o);
        if (!cl.start()) return 1;
        cl.run();
        return 0;
    });
}
