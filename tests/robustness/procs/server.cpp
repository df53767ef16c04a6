// mvnf-rob-server: the server process of the process-level robustness tests
// (procs_test.py, scripts/soak.sh), written on the public mTCP C API only.
// It echoes every byte back (--mode echo) or closes each connection as soon
// as it is accepted (--mode close, which leaves the server in FIN-WAIT-2 or
// TIME-WAIT), and prints its counters as one JSON line every --stats-ms:
// resident memory, its own connection counts and mtcp_get_stats_json (TCP
// connections in use, SYN cookies sent, drops by reason). The httpd and
// tcpperf apps do not expose those counters, which the tests assert on.
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <netinet/in.h>

#include "mtcp/mtcp_api.h"
#include "mtcp/mtcp_epoll.h"
#include "mtcp/mtcp_stats.h"
#include "proc_args.hpp"
#include "proc_mtcp.hpp"

namespace {

volatile sig_atomic_t g_stop = 0;
void on_stop(int) {
    g_stop = 1;
}

int64_t now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

long rss_kb() {
    FILE* f = std::fopen("/proc/self/statm", "r");
    if (!f) return -1;
    long size = 0, resident = 0;
    if (std::fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
    std::fclose(f);
    return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

struct options {
    std::string conf;
    int port = 7000;
    bool close_mode = false;
    int backlog = 4096;
    int stats_ms = 250;
    double duration = 0;
};

const char* const usage_text =
    "usage: mvnf-rob-server -f mtcp.conf [--port P] [--mode echo|close] "
    "[--backlog N] [--stats-ms N] [-d SECS]\n";

options parse(int argc, char** argv) {
    options o;
    mvnf::rob::arg_reader r(argc, argv, "mvnf-rob-server", usage_text);
    while (r.next()) {
        if (r.is("-f"))
            o.conf = r.value();
        else if (r.is("--port"))
            o.port = int(r.number(1, 65535));
        else if (r.is("--mode")) {
            std::string m = r.value();
            if (m == "echo")
                o.close_mode = false;
            else if (m == "close")
                o.close_mode = true;
            else
                r.fail("--mode: echo or close");
        } else if (r.is("--backlog"))
            o.backlog = int(r.number(1, 1 << 20));
        else if (r.is("--stats-ms"))
            o.stats_ms = int(r.number(10, 60000));
        else if (r.is("-d"))
            o.duration = r.number(0, 1e6);
        else if (r.help())
            r.fail("help");
        else
            r.unknown();
    }
    if (o.conf.empty()) r.fail("-f mtcp.conf is required");
    return o;
}

// Bytes read but not yet echoed (the send buffer was full).
struct conn {
    bool open = false;
    bool eof = false;
    std::vector<char> pending;
    size_t off = 0;
};

struct counters {
    uint64_t accepted = 0, closed = 0, resets = 0, errors = 0, bytes = 0, open = 0;
};

class server {
  public:
    server(mctx_t c, const options& o) : _c(c), _o(o) {}

    bool start() {
        _ep = mtcp_epoll_create1(_c, 0);
        _ls = mtcp_socket(_c, AF_INET, SOCK_STREAM, 0);
        if (_ep < 0 || _ls < 0) return fail("socket");
        mtcp_setsock_nonblock(_c, _ls);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(uint16_t(_o.port));
        if (mtcp_bind(_c, _ls, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) return fail("bind");
        if (mtcp_listen(_c, _ls, _o.backlog) < 0) return fail("listen");
        mtcp_epoll_event e{};
        e.events = MTCP_EPOLLIN;
        e.data.sockid = _ls;
        if (mtcp_epoll_ctl(_c, _ep, MTCP_EPOLL_CTL_ADD, _ls, &e) < 0) return fail("epoll_ctl");
        return true;
    }

    void run() {
        std::vector<mtcp_epoll_event> ev(256);
        const int64_t t0 = now_ms();
        int64_t next_stats = t0;
        while (!g_stop) {
            const int64_t now = now_ms();
            if (now >= next_stats) {
                print(now - t0, false);
                next_stats = now + _o.stats_ms;
            }
            if (_o.duration > 0 && double(now - t0) >= _o.duration * 1000) break;
            int n = mtcp_epoll_wait(_c, _ep, ev.data(), int(ev.size()),
                                    int(std::max<int64_t>(1, next_stats - now)));
            if (n < 0) {
                if (errno == EINTR) continue;
                std::perror("mtcp_epoll_wait");
                ++_n.errors;
                break;
            }
            for (int i = 0; i < n; ++i) {
                const int s = ev[size_t(i)].data.sockid;
                if (s == _ls)
                    accept_all();
                else
                    handle(s, ev[size_t(i)].events);
            }
        }
        print(now_ms() - t0, true);
    }

  private:
    bool fail(const char* what) {
        std::fprintf(stderr, "mvnf-rob-server: %s: %s\n", what, std::strerror(errno));
        return false;
    }

    conn& at(int s) {
        if (size_t(s) >= _conns.size()) _conns.resize(size_t(s) + 1);
        return _conns[size_t(s)];
    }

    void accept_all() {
        for (;;) {
            int s = mtcp_accept(_c, _ls, nullptr, nullptr);
            if (s < 0) {
                if (errno != EAGAIN) ++_n.errors;
                return;
            }
            ++_n.accepted;
            if (_o.close_mode) {  // active close: we hold FIN-WAIT / TIME-WAIT, not the client
                mtcp_close(_c, s);
                ++_n.closed;
                continue;
            }
            mtcp_setsock_nonblock(_c, s);
            conn& c = at(s);
            c = conn{};
            c.open = true;
            ++_n.open;
            set_events(s, MTCP_EPOLLIN, MTCP_EPOLL_CTL_ADD);
        }
    }

    void set_events(int s, uint32_t events, int op) {
        mtcp_epoll_event e{};
        e.events = events;
        e.data.sockid = s;
        if (mtcp_epoll_ctl(_c, _ep, op, s, &e) < 0) ++_n.errors;
    }

    void finish(int s, bool reset) {
        conn& c = at(s);
        if (!c.open) return;
        mtcp_epoll_ctl(_c, _ep, MTCP_EPOLL_CTL_DEL, s, nullptr);
        // A reset connection is aborted; mtcp_close would also send RST for
        // unread data (RFC 1122 4.2.2.13), which an echo server never leaves.
        mtcp_close(_c, s);
        c.open = false;
        c.pending.clear();
        c.pending.shrink_to_fit();
        --_n.open;
        ++_n.closed;
        if (reset) ++_n.resets;
    }

    // Writes what is pending; true when nothing is left.
    bool flush(int s, conn& c) {
        while (c.off < c.pending.size()) {
            ssize_t w = mtcp_write(_c, s, c.pending.data() + c.off, c.pending.size() - c.off);
            if (w < 0) {
                const int e = errno;
                if (e == EAGAIN) return false;
                const bool reset = e == ECONNRESET || e == EPIPE || e == ETIMEDOUT;
                if (!reset) ++_n.errors;
                finish(s, reset);
                return false;
            }
            c.off += size_t(w);
            _n.bytes += uint64_t(w);
        }
        c.pending.clear();
        c.off = 0;
        return true;
    }

    void handle(int s, uint32_t events) {
        conn& c = at(s);
        if (!c.open) return;
        if (!c.pending.empty()) {
            if (!(events & (MTCP_EPOLLOUT | MTCP_EPOLLERR | MTCP_EPOLLHUP))) return;
            if (!flush(s, c)) return;
            if (!c.open) return;
            if (c.eof) return finish(s, false);
            set_events(s, MTCP_EPOLLIN, MTCP_EPOLL_CTL_MOD);
        }
        char buf[16384];
        ssize_t r = mtcp_read(_c, s, buf, sizeof buf);
        if (r == 0) return finish(s, false);
        if (r < 0) {
            if (errno == EAGAIN) return;
            const bool reset = errno == ECONNRESET || errno == ETIMEDOUT;
            if (!reset) ++_n.errors;
            return finish(s, reset);
        }
        c.pending.assign(buf, buf + r);
        c.off = 0;
        if (!flush(s, c) && c.open) set_events(s, MTCP_EPOLLOUT, MTCP_EPOLL_CTL_MOD);
    }

    void print(int64_t t_ms, bool final) {
        static char js[65536];  // every counter: several KB
        int n = mtcp_get_stats_json(_c, js, sizeof js);
        if (n < 0 || size_t(n) >= sizeof js) std::snprintf(js, sizeof js, "null");
        std::printf("{\"%s\":%" PRId64 ",\"rss_kb\":%ld,\"accepted\":%" PRIu64 ",\"open\":%" PRIu64
                    ",\"closed\":%" PRIu64 ",\"resets\":%" PRIu64 ",\"errors\":%" PRIu64
                    ",\"bytes\":%" PRIu64 ",\"mtcp\":%s}\n",
                    final ? "final_ms" : "t_ms", t_ms, rss_kb(), _n.accepted, _n.open, _n.closed,
                    _n.resets, _n.errors, _n.bytes, js);
        std::fflush(stdout);
    }

    mctx_t _c;
    const options& _o;
    int _ep = -1, _ls = -1;
    std::vector<conn> _conns;
    counters _n;
};

}  // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    mvnf::rob::on_signals(on_stop, {SIGINT, SIGTERM});
    return mvnf::rob::run_on_mtcp("mvnf-rob-server", o.conf, [&](mctx_t c) {
        server srv(c, o);
        if (!srv.start()) return 1;
        std::printf("{\"event\":\"listening\",\"port\":%d}\n", o.port);
        std::fflush(stdout);
        srv.run();
        return 0;
    });
}
