// mvnf-tcpperf: multi-core TCP performance client/server (the seed's
// TestMultiClient/TestMultiServer). Modes: stream (bulk, Gbps), rr (ping-pong,
// transactions/s and latency), crr (connect-request-response-close,
// connections/s). Built twice: mvnf-tcpperf (mTCP) and mvnf-tcpperf-kernel.
//
// Each connection opens with a 16-byte hello: "MVNF", mode, 3 pad bytes,
// message size (u32, big endian), 4 reserved bytes. The server then sinks
// (stream) or answers every message with one of the same size (rr, crr).
//
// Many connections: one address pair offers ~64K 4-tuples per server port, so
// the server can listen on --port-count consecutive ports (on every core) and
// the client spreads its connections round-robin over them (and, kernel build,
// over --src-addrs). Per-connection state is a few dozen bytes in a table
// indexed by socket id; nothing walks all connections per event.
#include <arpa/inet.h>
#include <getopt.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "app_util.hpp"
#include "options.hpp"
#include "fd_table.hpp"
#include "net_io.hpp"

using namespace mvnf::app;
using namespace mvnf::tcpperf;

namespace {

// The mode, options, usage and argument parsing live in options.hpp/.cpp.

struct core_stats {
    counter connections, established, closed, bytes_in, bytes_out, transactions;
    counter e_connect, e_reset, e_proto;
    // Owner thread only; read after the threads joined.
    latency_hist hist;
    std::vector<uint64_t> per_port;  // established connections per server port
    uint64_t open = 0, peak_open = 0;  // established and not yet closed
    // Client: when the measured time ended (the -t deadline, else the end of
    // the run) and the transactions completed by then.
    uint64_t t_stop = 0, in_time = 0;
    std::string stack_json;  // --stack-stats
    void opened() { peak_open = std::max(peak_open, ++open); }
};

options g_opt;
std::vector<core_stats> g_stats;
std::mutex g_mu;
std::string g_err;
std::atomic<int> g_failed{0};
std::atomic<uint64_t> g_closed_total{0};
std::vector<char> g_pattern;
uint64_t g_rss_start = 0;
std::atomic<uint64_t> g_rss_ready{0};
std::atomic<uint64_t> g_t0{0};  // when every core was ready: the test's clock starts
std::atomic<int> g_ready{0};
std::atomic<bool> g_go{false};
// Client: cores whose ramp ended, and when traffic started on all of them.
std::atomic<int> g_ramped{0};
std::atomic<uint64_t> g_t_traffic{0};

// Every core waits here until all cores opened their context (and listeners),
// so the duration and the rates leave start-up out; the last to arrive samples
// the memory footprint before any connection. True for that last core.
bool all_ready(int cores) {
    if (g_ready.fetch_add(1) + 1 == cores) {
        g_rss_ready.store(rss_kb());
        g_t0.store(now_ns());
        g_go.store(true);
        return true;
    }
    while (!g_go.load() && !stop_requested()) usleep(1000);
    return false;
}

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
    uint8_t hello_got = 0;
    mode m = mode::stream;
    bool eof = false;
    uint32_t msg = 0;
    uint64_t in_msg = 0, owed = 0;
};

// Listener sockets are told apart from connections in the epoll data by this
// bit (socket ids are below 2^31); the low bits carry the port index.
constexpr uint64_t listener_tag = 1ull << 32;

class server {
public:
    server(io& n, core_stats& st) : _io(n), _st(st) {}

    // One listener per port on this core.
    bool start() {
        _st.per_port.assign(g_opt.port_count, 0);
        for (unsigned i = 0; i < g_opt.port_count; i++) {
            const unsigned port = g_opt.port + i;
            const int ls = _io.tcp_socket();
            if (ls < 0) return fail(fmt("socket: %s", strerror(errno))), false;
            _ls.push_back(ls);
            _io.reuse_port(ls);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(uint16_t(port));
            a.sin_addr.s_addr = g_opt.bind_addr;
            if (_io.bind(ls, a) < 0)
                return fail(fmt("bind port %u: %s", port, strerror(errno))), false;
            if (_io.listen(ls, 4096) < 0)
                return fail(fmt("listen on port %u: %s", port, strerror(errno))), false;
            if (_io.ep_add(ls, ev_in, listener_tag | i) < 0)
                return fail(fmt("epoll: %s", strerror(errno))), false;
        }
        return true;
    }

    void run(uint64_t deadline) {
        event evs[256];
        while (!stop_requested() && (deadline == 0 || now_ns() < deadline)) {
            if (g_opt.exit_after && g_closed_total.load() >= g_opt.exit_after) break;
            int n = _io.ep_wait(evs, 256, 50);
            if (n < 0) return fail(fmt("epoll wait: %s", strerror(errno)));
            for (int i = 0; i < n; i++) {
                if (evs[i].data & listener_tag) {
                    accept_all(unsigned(evs[i].data & 0xffff));
                    continue;
                }
                int s = int(evs[i].data);
                sconn* c = _conns.find(s);
                if (!c) continue;
                if (evs[i].events & ev_out && !pay(s, *c)) continue;
                if (evs[i].events & (ev_in | ev_hup | ev_err)) on_readable(s, *c);
            }
        }
        _conns.for_each([&](int s, sconn&) { _io.close(s); });
        for (int ls : _ls) _io.close(ls);
    }

private:
    void accept_all(unsigned port_idx) {
        for (;;) {
            int s = _io.accept(_ls[port_idx]);
            if (s < 0) return;
            _io.ep_add(s, ev_in, uint64_t(s));
            _conns.insert(s);
            _st.connections.add();
            _st.established.add();
            _st.per_port[port_idx]++;
            _st.opened();
        }
    }

    void drop(int s, bool error) {
        if (error) _st.e_reset.add();
        _io.ep_del(s);
        _io.close(s);
        _conns.erase(s);
        _st.closed.add();
        _st.open--;
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
                c.hello_got = uint8_t(c.hello_got + take);
                off = take;
                if (c.hello_got == hello_len) {
                    uint32_t msg;
                    memcpy(&msg, c.hello + 8, 4);
                    c.m = mode(c.hello[4]);
                    c.msg = ntohl(msg);  // 0 is refused below: it would divide by zero
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
    std::vector<int> _ls;  // index: port - g_opt.port
    fd_table<sconn> _conns;
};

// ---------------------------------------------------------------- client
struct cconn {
    uint64_t t_start = 0;  // transaction (rr) or connection (crr) start
    uint64_t to_send = 0, to_recv = 0;
    uint32_t target = 0;  // index into the (port, source address) round-robin
    uint8_t hello_left = hello_len;
    bool connected = false;
    bool started = false;  // its traffic began (after the ramp)
    bool queued = false;   // waiting in the --rate queue for its next transaction
};

class client {
public:
    client(io& n, core_stats& st, int core, uint64_t quota)
        : _io(n), _st(st), _quota(quota), _next_target(uint32_t(core)) {
        memcpy(_hello, "MVNF", 4);
        _hello[4] = uint8_t(g_opt.m);
        uint32_t m = htonl(uint32_t(g_opt.msg));
        memcpy(_hello + 8, &m, 4);
        _targets = uint32_t(g_opt.port_count) * uint32_t(std::max<size_t>(g_opt.src_addrs.size(), 1));
        _rate = double(g_opt.rate) / g_opt.cores;
        _burst = std::max(1.0, _rate / 100);  // at most 10 ms worth at once
        _next_target = uint32_t(core) % _targets;  // cores start apart, then go round-robin
        _st.per_port.assign(g_opt.port_count, 0);
    }

    // Source ports whose replies hash back to this core, for every
    // destination port (mTCP's pools are per destination).
    bool prepare() {
        for (unsigned i = 0; i < g_opt.port_count; i++)
            if (_io.init_rss(stack_local_addr(), g_opt.addr, uint16_t(g_opt.port + i)) < 0)
                return fail(fmt("mtcp_init_rss: %s", strerror(errno))), false;
        return true;
    }

    // Ramp, then traffic: stream and rr first open all -m connections (each
    // sends its hello and nothing more), and once every core's ramp has ended
    // all of them start together and -t counts from there; so the figures are
    // those of the whole concurrency, not of a ramp competing with traffic.
    // The ramp ends when every connection is up or failed, or after
    // ramp_limit_ns (late ones start as they come up). crr has no ramp.
    void run(uint64_t t0) {
        _want = g_opt.count && _quota == 0 ? 0 : g_opt.conns;  // -n smaller than -N: idle core
        _to_open = _want;
        _t_tokens = t0;
        _ramping = g_opt.m != mode::crr;
        _ramp_end = t0 + ramp_limit_ns;
        if (!_ramping) end_ramp(t0);
        fill();
        event evs[256];
        while ((!_conns.empty() || can_open() || _ramping || _waiting) && !stop_requested()) {
            const uint64_t t = now_ns();
            if (_ramping && (_ever + _failed_opens >= _want || t >= _ramp_end)) end_ramp(t);
            if (_waiting && g_ramped.load() == g_opt.cores) start_traffic();
            if (_start_cursor < _conns.end_id()) start_some();
            if (!_idle.empty()) release_paced(t);
            if (_deadline && t >= _deadline && !_draining) {
                _st.t_stop = t;
                _st.in_time = _st.transactions.get();
                // The traffic phase's counters, before the teardown adds its own.
                if (g_opt.stack_stats) _st.stack_json = _io.stack_stats_json();
                drain(t);
            }
            if (_draining) close_some(t);
            const bool closing = _draining && _close_cursor < _conns.end_id();
            const bool starting = _start_cursor < _conns.end_id();
            int n = _io.ep_wait(evs, 256, starting ? 0 : closing || !_idle.empty() ? 1 : 20);
            if (n < 0) return fail(fmt("epoll wait: %s", strerror(errno)));
            for (int i = 0; i < n; i++) {
                int s = int(evs[i].data);
                if (cconn* c = _conns.find(s)) on_event(s, *c, evs[i].events);
            }
            fill();
        }
        if (!_st.t_stop) {
            _st.t_stop = now_ns();
            _st.in_time = _st.transactions.get();
        }
        // Graceful end: the server reads every byte we wrote before our FIN.
        _conns.for_each([&](int s, cconn&) {
            _io.close(s);
            _st.closed.add();
        });
        _conns.clear();
    }

private:
    static constexpr uint64_t ramp_limit_ns = 30000000000ull;

    void end_ramp(uint64_t t) {
        _ramping = false;
        _waiting = true;
        if (g_ramped.fetch_add(1) + 1 == g_opt.cores) {
            uint64_t zero = 0;
            g_t_traffic.compare_exchange_strong(zero, t);
        }
    }

    // Every core's ramp ended: traffic starts on the connections that are up,
    // max_connecting of them per loop turn (start_some) so that 100K first
    // messages do not all meet the TX ring in one burst.
    void start_traffic() {
        _waiting = false;
        while (g_t_traffic.load() == 0) {  // the last core to ramp is storing it
        }
        if (g_opt.duration > 0) _deadline = g_t_traffic.load() + uint64_t(g_opt.duration * 1e9);
        if (g_opt.m != mode::crr) _start_cursor = 0;
    }

    void start_some() {
        for (uint64_t n = 0; _start_cursor < _conns.end_id() && n < g_opt.max_connecting;) {
            const int s = int(_start_cursor++);
            cconn* c = _conns.find(s);
            if (c && c->connected && !c->started) {
                begin(s, *c);
                n++;
            }
        }
    }

    // A connection's first message (after its hello, already sent).
    void begin(int s, cconn& c) {
        c.started = true;
        if (g_opt.m == mode::stream) {
            c.to_send = ~0ull;
            send_some(s, c);
        } else if (!quota_left()) {
            close_conn(s, c, false);
        } else {
            next_transaction(s, c);
        }
    }

    // rr: the next request now, or (--rate) once a token is free. The
    // latency of a transaction runs from its request, not from the wait.
    void next_transaction(int s, cconn& c) {
        if (_rate > 0) {
            c.queued = true;
            _idle.push_back(s);
            return;
        }
        begin_transaction(c, true);
        send_some(s, c);
    }

    void release_paced(uint64_t t) {
        _tokens = std::min(_burst, _tokens + double(t - _t_tokens) * _rate / 1e9);
        _t_tokens = t;
        while (_tokens >= 1 && !_idle.empty()) {
            const int s = _idle.front();
            _idle.pop_front();
            cconn* c = _conns.find(s);
            if (!c || !c->queued) continue;  // closed meanwhile (drain)
            c->queued = false;
            if (!quota_left()) {
                close_conn(s, *c, false);
                continue;
            }
            _tokens -= 1;
            begin_transaction(*c, true);
            send_some(s, *c);
        }
    }

    // At the end of -t, transactions in flight finish (bounded) before their
    // connections close: both sides then count the same transactions, and no
    // response is left unread (Linux answers a close with unread data by RST).
    static constexpr uint64_t drain_ns = 2000000000ull;
    // Idle connections close max_connecting per close_tick_ns (close_some):
    // 100K FINs at once, and the peer's 100K answers, would overflow the rings
    // and the stack drops what does not fit. Connections in a transaction
    // close when it ends, or after drain_ns regardless.
    static constexpr uint64_t close_tick_ns = 10000000;
    void drain(uint64_t t) {
        _draining = true;
        _to_open = 0;
        _close_cursor = 0;
        _next_close = t;
        _drain_end = t + drain_ns;
    }

    void close_some(uint64_t t) {
        if (!_close_all && t >= _drain_end) {
            _close_all = true;  // transactions still running are given up
            _close_cursor = 0;
        }
        if (t < _next_close || _close_cursor >= _conns.end_id()) return;
        _next_close = t + close_tick_ns;
        for (uint64_t n = 0; _close_cursor < _conns.end_id() && n < g_opt.max_connecting;) {
            const int s = int(_close_cursor++);
            cconn* c = _conns.find(s);
            if (c && (_close_all || !c->connected || g_opt.m == mode::stream || c->to_recv == 0)) {
                close_conn(s, *c, false);
                n++;
            }
        }
    }

    bool quota_left() const { return !_draining && (_quota == 0 || _begun < _quota); }
    bool in_traffic() const { return !_ramping && !_waiting; }
    bool can_open() const { return _to_open > 0 && quota_left(); }

    // Opens connections while some are owed, keeping at most max_connecting
    // handshakes in flight: a burst of 100K SYNs would only overflow rings and
    // SYN queues and come back as retransmissions a second later. Until the
    // first connection is up only one handshake runs, so the burst does not
    // meet an unresolved ARP entry either.
    void fill() {
        const uint64_t cap = _ever ? g_opt.max_connecting : 1;
        while (can_open() && _connecting < cap && !stop_requested())
            if (!open_conn()) return;
    }

    bool open_conn() {
        int s = _io.tcp_socket();
        if (s < 0) {
            const bool full = errno == EMFILE || errno == ENFILE || errno == ENOMEM;
            fail(fmt("socket: %s%s", strerror(errno),
                     full ? " (kernel build: raise `ulimit -n`; mTCP build: max_concurrency)" : ""));
            return false;
        }
        _to_open--;
        _st.connections.add();
        if (g_opt.m == mode::crr) _begun++;  // crr: one transaction per connection
        const uint32_t target = _next_target;
        _next_target = _next_target + 1 == _targets ? 0 : _next_target + 1;
        sockaddr_in dst{};
        dst.sin_family = AF_INET;
        dst.sin_port = htons(uint16_t(g_opt.port + target % g_opt.port_count));
        dst.sin_addr.s_addr = g_opt.addr;
        if ((!g_opt.src_addrs.empty() && _io.bind_source(s, source_of(target)) < 0) ||
            (_io.connect(s, dst) < 0 && errno != EINPROGRESS)) {
            _st.e_connect.add();
            _failed_opens++;
            _io.close(s);
            return true;
        }
        _io.ep_add(s, ev_out, uint64_t(s));
        cconn& c = _conns.insert(s);
        c.t_start = now_ns();
        c.target = target;
        _connecting++;
        return true;
    }

    in_addr_t source_of(uint32_t target) const {
        return g_opt.src_addrs[(target / g_opt.port_count) % g_opt.src_addrs.size()];
    }

    void close_conn(int s, cconn& c, bool reopen) {
        if (c.connected) {
            _st.open--;
        } else {
            _connecting--;
            _failed_opens++;
        }
        _io.ep_del(s);
        _io.close(s);
        _conns.erase(s);
        _st.closed.add();
        if (reopen && !_draining) _to_open++;  // fill() opens it once this event is handled
    }

    void begin_transaction(cconn& c, bool stamp) {
        if (g_opt.m == mode::rr) _begun++;
        if (stamp) c.t_start = now_ns();
        c.to_send = g_opt.msg;
        c.to_recv = g_opt.msg;
    }

    void established(int s, cconn& c) {
        c.connected = true;
        _connecting--;
        _st.opened();
        _st.established.add();
        _st.per_port[c.target % g_opt.port_count]++;
        ++_ever;
        // The source address we asked for is the one the connection has.
        if (!g_opt.src_addrs.empty() && _io.local_addr(s) != source_of(c.target)) {
            _st.e_proto.add();
            close_conn(s, c, false);
        }
    }

    void on_event(int s, cconn& c, uint32_t ev) {
        if (!c.connected) {
            if (int e = _io.socket_error(s); e != 0 || (ev & ev_err)) {
                _st.e_connect.add();
                return close_conn(s, c, g_opt.m == mode::crr);
            }
            if (!(ev & ev_out)) return;
            established(s, c);
            if (!_conns.find(s)) return;
            if (g_opt.m == mode::crr) {
                begin_transaction(c, false);  // crr latency runs from the connect
            } else if (in_traffic()) {
                return begin(s, c);
            }
        }
        if (ev & ev_err) {
            _st.e_reset.add();
            return close_conn(s, c, g_opt.m == mode::crr);
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
                close_conn(s, c, g_opt.m == mode::crr);
                return false;
            }
            size_t h = std::min(size_t(w), size_t(c.hello_left));
            c.hello_left = uint8_t(c.hello_left - h);
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
                return close_conn(s, c, g_opt.m == mode::crr);
            }
            if (r < 0) return;
            _st.bytes_in.add(uint64_t(r));
            if (uint64_t(r) > c.to_recv) {  // the server never sends unasked
                _st.e_proto.add();
                return close_conn(s, c, false);
            }
            c.to_recv -= uint64_t(r);
            if (c.to_recv) continue;
            _st.transactions.add();
            _st.hist.record(now_ns() - c.t_start);
            if (g_opt.m == mode::crr) return close_conn(s, c, true);
            if (!quota_left() || stop_requested()) return close_conn(s, c, false);
            if (_rate > 0) return next_transaction(s, c);
            begin_transaction(c, true);
            if (!send_some(s, c)) return;
        }
    }

    io& _io;
    core_stats& _st;
    uint64_t _quota, _begun = 0;
    uint64_t _want = 0;         // connections this core opens (-m)
    uint64_t _to_open = 0;      // connections still to open
    uint64_t _connecting = 0;   // handshakes in flight
    uint64_t _ever = 0;         // connections established so far
    uint64_t _failed_opens = 0; // connections that never came up
    uint64_t _ramp_end = 0, _deadline = 0;
    bool _ramping = false, _waiting = false, _draining = false;
    size_t _start_cursor = SIZE_MAX;  // next socket id start_some() looks at
    size_t _close_cursor = SIZE_MAX;  // next socket id close_some() looks at
    uint64_t _next_close = 0, _drain_end = 0;
    bool _close_all = false;
    double _rate = 0, _burst = 1, _tokens = 0;  // --rate per core, token bucket
    uint64_t _t_tokens = 0;
    std::deque<int> _idle;  // connections waiting for a token, oldest first
    uint32_t _targets = 1, _next_target = 0;
    uint8_t _hello[hello_len] = {};
    fd_table<cconn> _conns;
};


// "5201" or "5201-5208".
std::string ports_text() {
    if (g_opt.port_count == 1) return std::to_string(g_opt.port);
    return fmt("%u-%u", g_opt.port, unsigned(g_opt.port) + g_opt.port_count - 1);
}

std::string errors_json() {
    uint64_t c = 0, r = 0, p = 0;
    for (auto& s : g_stats) c += s.e_connect.get(), r += s.e_reset.get(), p += s.e_proto.get();
    return json().num("total", c + r + p).num("connect", c).num("reset", r).num("protocol", p).done();
}

}  // namespace

int main(int argc, char** argv) {
    std::string err;
    if (!parse_args(argc, argv, g_opt, err)) {
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
    g_rss_start = rss_kb();
    const char* role = g_opt.server ? "server" : "client";
    if (!g_opt.server && !g_opt.quiet) {
        printf("mvnf-tcpperf client (%s): %s to %s:%s, %d core(s) x %llu conn(s), %llu-byte messages, %s\n",
               stack_name(), mode_name(g_opt.m), g_opt.host.c_str(), ports_text().c_str(), N,
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
            if (!n.open(core, e)) {
                fail(e);
                all_ready(N);  // release the others: fail() asked them to stop
                return;
            }
            auto& st = g_stats[size_t(core)];
            auto deadline = [] {
                return g_opt.duration > 0 ? g_t0.load() + uint64_t(g_opt.duration * 1e9) : 0;
            };
            if (g_opt.server) {
                server s(n, st);
                const bool ok = s.start();
                if (all_ready(N) && ok) {
                    printf("mvnf-tcpperf server (%s): listening on port %s, %d core(s)\n",
                           stack_name(), ports_text().c_str(), N);
                    fflush(stdout);
                }
                if (ok) s.run(deadline());
                if (g_opt.stack_stats) st.stack_json = n.stack_stats_json();
            } else {
                uint64_t q = g_opt.count ? g_opt.count / uint64_t(N) + (uint64_t(core) < g_opt.count % uint64_t(N)) : 0;
                client c(n, st, core, q);
                const bool ok = c.prepare();
                all_ready(N);
                if (!ok) return;
                c.run(g_t0.load());
                if (g_opt.stack_stats && st.stack_json.empty()) st.stack_json = n.stack_stats_json();
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
    // The client's figures cover its traffic phase: from the end of the ramp
    // to the -t deadline (transactions finishing after it are counted in
    // `transactions`, not in the rates).
    uint64_t t_end = now_ns(), in_time = 0;
    if (!g_opt.server) {
        uint64_t stop = 0;
        for (auto& s : g_stats) stop = std::max(stop, s.t_stop), in_time += s.in_time;
        if (stop) t_end = stop;
    }
    const uint64_t t_start = !g_opt.server && g_t_traffic.load() ? g_t_traffic.load()
                             : g_t0.load()                        ? g_t0.load()
                                                                  : t_end;
    const double secs = std::max(1e-9, double(t_end - t_start) / 1e9);
    const double ramp_secs =
        g_t_traffic.load() ? double(g_t_traffic.load() - g_t0.load()) / 1e9 : 0.0;
    const uint64_t rss_peak = peak_rss_kb();
    stack_shutdown();
    if (g_failed.load()) {
        fprintf(stderr, "mvnf-tcpperf: %s\n", g_err.c_str());
        return 1;
    }
    latency_hist h;
    for (auto& s : g_stats) h.merge(s.hist);
    const uint64_t in = sum(&core_stats::bytes_in), out = sum(&core_stats::bytes_out),
                   tr = sum(&core_stats::transactions), cn = sum(&core_stats::connections),
                   est = sum(&core_stats::established);
    std::vector<uint64_t> per_port(g_opt.port_count, 0);
    uint64_t peak_open = 0;
    for (auto& s : g_stats) {
        for (size_t i = 0; i < s.per_port.size(); i++) per_port[i] += s.per_port[i];
        peak_open += s.peak_open;
    }
    std::string ports_json = "[";
    for (size_t i = 0; i < per_port.size(); i++)
        ports_json += (i ? "," : "") + std::to_string(per_port[i]);
    ports_json += "]";
    // Memory: the whole process (stack pools included) at its peak, over the
    // connections it held at once.
    const uint64_t rss_ready = g_rss_ready.load();
    const double bytes_per_conn =
        peak_open ? double(rss_peak > g_rss_start ? rss_peak - g_rss_start : 0) * 1024 / double(peak_open) : 0;
    const std::string mem = json()
                                .num("rss_start_kb", g_rss_start)
                                .num("rss_ready_kb", rss_ready)
                                .num("rss_peak_kb", rss_peak)
                                .num("bytes_per_conn", bytes_per_conn)
                                .done();
    if (g_opt.json) {
        json j;
        j.str("tool", "mvnf-tcpperf").str("role", role).str("stack", stack_name()).num("cores", N);
        if (!g_opt.server)
            j.str("mode", mode_name(g_opt.m)).num("conns_per_core", g_opt.conns).num("msg_size", g_opt.msg);
        j.num("port", g_opt.port).num("port_count", g_opt.port_count);
        if (!g_opt.server) j.num("src_addrs", uint64_t(g_opt.src_addrs.size())).num("rate", g_opt.rate);
        j.num("seconds", secs)
            .num("connections", cn)
            .num("established", est)
            .raw("port_connections", ports_json)
            .num("peak_open", peak_open)
            .num("bytes_sent", out)
            .num("bytes_received", in)
            .num("gbps_sent", double(out) * 8 / secs / 1e9)
            .num("gbps_received", double(in) * 8 / secs / 1e9)
            .num("transactions", tr)
            .num("transactions_per_s", double(g_opt.server ? tr : in_time) / secs)
            .num("connections_per_s", double(cn) / secs);
        if (!g_opt.server) {
            j.num("ramp_seconds", ramp_secs);
            j.raw("latency", latency_json(h));
        }
        j.raw("memory", mem);
        if (g_opt.stack_stats) {
            std::string a = "[";
            for (auto& s : g_stats) a += (a.size() > 1 ? "," : "") + (s.stack_json.empty() ? "{}" : s.stack_json);
            j.raw("stack_stats", a + "]");
        }
        printf("%s\n", j.raw("errors", errors_json()).done().c_str());
    } else {
        printf("\n== mvnf-tcpperf %s summary (%s stack) ==\n", role, stack_name());
        printf("time          %.2f s, %llu connection(s) (%s/s), %llu established, %llu at once\n",
               secs, (unsigned long long)cn, human_rate(double(cn) / secs).c_str(),
               (unsigned long long)est, (unsigned long long)peak_open);
        if (g_opt.port_count > 1) printf("per port      %s: %s\n", ports_text().c_str(), ports_json.c_str());
        if (!g_opt.server && g_opt.m != mode::crr)
            printf("ramp          %.2f s to open the connections (before the time above)\n",
                   ramp_secs);
        printf("sent          %.2f MB  (%.3f Gbps)\n", double(out) / 1e6, double(out) * 8 / secs / 1e9);
        printf("received      %.2f MB  (%.3f Gbps)\n", double(in) / 1e6, double(in) * 8 / secs / 1e9);
        if (g_opt.server || g_opt.m != mode::stream)
            printf("transactions  %llu  (%s/s)\n", (unsigned long long)tr,
                   human_rate(double(g_opt.server ? tr : in_time) / secs).c_str());
        if (!g_opt.server && g_opt.m != mode::stream) printf("latency       %s\n", latency_text(h).c_str());
        printf("memory        RSS %.1f MB at start, %.1f MB ready, %.1f MB peak",
               double(g_rss_start) / 1024, double(rss_ready) / 1024, double(rss_peak) / 1024);
        if (peak_open) printf(" (%.0f bytes per connection held)", bytes_per_conn);
        printf("\nerrors        %s\n", errors_json().c_str());
    }
    return 0;
}
