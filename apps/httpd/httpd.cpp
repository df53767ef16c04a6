// mvnf-httpd: the role of mTCP's epserver. One epoll loop and one listener per
// core serving files preloaded from a directory (HTTP/1.0 and 1.1, keep-alive,
// pipelining, large bodies written as send space opens). Built twice: on the
// mTCP API (mvnf-httpd) and on Linux sockets (mvnf-httpd-kernel).
#include <arpa/inet.h>
#include <getopt.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>

#include "app_util.hpp"
#include "cli.hpp"
#include "http.hpp"
#include "net_io.hpp"

using namespace mvnf::app;
using namespace mvnf::httpd;

namespace {

struct options {
    std::string www, conf;
    int cores = 1;
    int backlog = 4096;
    uint16_t port = 8080;
    uint32_t bind_addr = 0;
    double duration = 0;
    uint64_t max_preload = 1ull << 30;
    bool json = false, quiet = false, stack_stats = false;
};

const char* usage =
    "usage: mvnf-httpd -p WWW_DIR [-f mtcp.conf] [-N cores] [-b backlog] [options]\n"
    "Serves the files under WWW_DIR (preloaded into memory) over HTTP/1.0 and 1.1\n"
    "with one listener and one epoll loop per core.\n"
    "  -p DIR        directory to serve (required); '/' maps to index.html\n"
    "  -f FILE       mtcp.conf (required by mvnf-httpd, ignored by mvnf-httpd-kernel)\n"
    "  -N CORES      cores / listeners (default 1)\n"
    "  -b BACKLOG    listen backlog (default 4096)\n"
    "  --port PORT   TCP port (default 8080)\n"
    "  --bind ADDR   local address (kernel build; default 0.0.0.0)\n"
    "  -d SECONDS    stop after this long (default: until SIGINT/SIGTERM)\n"
    "  --max-preload BYTES  refuse directories larger than this (default 1G)\n"
    "  --json        print the final summary as one JSON line\n"
    "  --stack-stats print each core's stack counters (JSON) to stderr at exit\n"
    "  -q            no once-a-second progress line\n"
    "  -h, --help    this text\n";

struct core_stats {
    counter accepted, closed, requests, ok200, not_found, bad, bytes_in, bytes_out, errors;
};

struct conn {
    std::string in;            // unparsed request bytes
    std::string head;          // response head being written
    size_t head_off = 0;
    const std::string* body = nullptr;
    size_t body_off = 0, body_len = 0;
    bool writing = false, close_after = false, peer_closed = false;
};

constexpr uint64_t listener_tag = ~0ull;
constexpr size_t max_head = 16384;

options g_opt;
file_store g_files;
std::vector<core_stats> g_stats;
std::atomic<int> g_ready{0}, g_failed{0};
std::mutex g_err_mu;
std::string g_err;

void fail(const std::string& e) {
    std::lock_guard<std::mutex> l(g_err_mu);
    if (g_err.empty()) g_err = e;
    g_failed.fetch_add(1);
    request_stop();
}

class server {
public:
    server(io& n, core_stats& st) : _io(n), _st(st) {}

    bool start() {
        _ls = _io.tcp_socket();
        if (_ls < 0) return fail("socket: " + std::string(strerror(errno))), false;
        _io.reuse_port(_ls);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(g_opt.port);
        a.sin_addr.s_addr = g_opt.bind_addr;
        if (_io.bind(_ls, a) < 0) {
            char ip[32];
            inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
            fail(fmt("bind %s:%u: %s", ip, g_opt.port, strerror(errno)));
            return false;
        }
        if (_io.listen(_ls, g_opt.backlog) < 0)
            return fail("listen: " + std::string(strerror(errno))), false;
        if (_io.ep_add(_ls, ev_in, listener_tag) < 0)
            return fail("epoll add: " + std::string(strerror(errno))), false;
        return true;
    }

    void run(uint64_t deadline) {
        event evs[256];
        while (!stop_requested() && (deadline == 0 || now_ns() < deadline)) {
            int n = _io.ep_wait(evs, 256, 100);
            if (n < 0) {
                fail("epoll wait: " + std::string(strerror(errno)));
                break;
            }
            for (int i = 0; i < n; i++) {
                if (evs[i].data == listener_tag) {
                    accept_all();
                    continue;
                }
                int s = int(evs[i].data);
                auto it = _conns.find(s);
                if (it == _conns.end()) continue;
                if (evs[i].events & ev_err) {
                    _st.errors.add();
                    close_conn(s);
                    continue;
                }
                if (evs[i].events & ev_out && !on_writable(s, it->second)) continue;
                if (evs[i].events & (ev_in | ev_hup)) on_readable(s, it->second);
            }
        }
        for (auto& [s, c] : _conns) _io.close(s);
        _conns.clear();
        _io.close(_ls);
    }

private:
    void accept_all() {
        for (;;) {
            int s = _io.accept(_ls);
            if (s < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) _st.errors.add();
                return;
            }
            if (_io.ep_add(s, ev_in, uint64_t(s)) < 0) {
                _st.errors.add();
                _io.close(s);
                continue;
            }
            _conns[s] = conn{};
            _st.accepted.add();
        }
    }

    void close_conn(int s) {
        _io.ep_del(s);
        _io.close(s);
        _conns.erase(s);
        _st.closed.add();
    }

    // Reads what is there, then serves complete requests in order.
    void on_readable(int s, conn& c) {
        char buf[16384];
        for (;;) {
            ssize_t r = _io.read(s, buf, sizeof buf);
            if (r > 0) {
                _st.bytes_in.add(uint64_t(r));
                c.in.append(buf, size_t(r));
                if (c.in.size() > 4 * max_head) break;  // parse before reading more
                continue;
            }
            if (r == 0) {
                c.peer_closed = true;
            } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                if (errno != ECONNRESET) _st.errors.add();
                close_conn(s);
                return;
            }
            break;
        }
        serve(s, c);
    }

    // Serves buffered requests while no response is pending.
    void serve(int s, conn& c) {
        while (!c.writing) {
            request r;
            auto ps = parse_request(c.in, max_head, r);
            if (ps == parse_status::incomplete) {
                if (c.peer_closed) close_conn(s);
                return;
            }
            int status = 200;
            const file_entry* f = nullptr;
            if (ps == parse_status::too_large) {
                status = 431;
            } else if (ps == parse_status::bad) {
                status = 400;
            } else if (r.method != "GET" && r.method != "HEAD") {
                status = 405;
            } else if (!(f = g_files.find(r.target))) {
                status = 404;
            }
            _st.requests.add();
            bool keep = ps == parse_status::ok && r.keep_alive && status != 400;
            int minor = ps == parse_status::ok ? r.minor : 1;
            if (status == 200) {
                _st.ok200.add();
                c.body = r.method == "HEAD" ? nullptr : &f->body;
                c.body_len = c.body ? f->body.size() : 0;
                c.head = response_head(minor, 200, f->body.size(), f->type, keep);
            } else {
                if (status == 404) _st.not_found.add(); else _st.bad.add();
                static const std::string page[] = {"404 Not Found\n", "error\n"};
                c.body = status == 404 ? &page[0] : &page[1];
                c.body_len = c.body->size();
                if (r.method == "HEAD") c.body_len = 0;
                c.head = response_head(minor, status, c.body->size(), "text/plain", keep);
            }
            c.head_off = c.body_off = 0;
            c.close_after = !keep;
            c.in.erase(0, ps == parse_status::ok ? r.head_len : c.in.size());
            c.writing = true;
            if (!flush(s, c)) return;  // closed
        }
    }

    // Writes the pending response; false when the connection was closed.
    bool flush(int s, conn& c) {
        while (c.head_off < c.head.size() || c.body_off < c.body_len) {
            iovec iov[2];
            int n = 0;
            if (c.head_off < c.head.size())
                iov[n++] = {c.head.data() + c.head_off, c.head.size() - c.head_off};
            if (c.body_off < c.body_len)
                iov[n++] = {const_cast<char*>(c.body->data()) + c.body_off, c.body_len - c.body_off};
            ssize_t w = _io.writev(s, iov, n);
            if (w < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    _io.ep_mod(s, ev_out, uint64_t(s));  // resume when send space opens
                    return true;
                }
                if (errno != EPIPE && errno != ECONNRESET) _st.errors.add();
                close_conn(s);
                return false;
            }
            _st.bytes_out.add(uint64_t(w));
            size_t left = size_t(w), h = std::min(left, c.head.size() - c.head_off);
            c.head_off += h;
            c.body_off += left - h;
        }
        c.writing = false;
        if (c.close_after || (c.peer_closed && c.in.empty())) {
            close_conn(s);
            return false;
        }
        return true;
    }

    // Returns false when the connection is gone.
    bool on_writable(int s, conn& c) {
        if (!c.writing) return true;
        if (!flush(s, c)) return false;
        if (!c.writing) {
            _io.ep_mod(s, ev_in, uint64_t(s));
            serve(s, c);  // pipelined requests already buffered
            return _conns.count(s) != 0;
        }
        return true;
    }

    io& _io;
    core_stats& _st;
    int _ls = -1;
    std::unordered_map<int, conn> _conns;
};

bool parse_args(int argc, char** argv, std::string& err) {
    enum { o_port = 1000, o_bind, o_json, o_preload, o_stack_stats };
    static option longs[] = {{"port", required_argument, nullptr, o_port},
                             {"bind", required_argument, nullptr, o_bind},
                             {"json", no_argument, nullptr, o_json},
                             {"stack-stats", no_argument, nullptr, o_stack_stats},
                             {"max-preload", required_argument, nullptr, o_preload},
                             {"help", no_argument, nullptr, 'h'},
                             {nullptr, 0, nullptr, 0}};
    opterr = 0;
    int ch;
    uint64_t v;
    while ((ch = getopt_long(argc, argv, ":p:f:N:b:d:qh", longs, nullptr)) != -1) {
        switch (ch) {
            case 'p': g_opt.www = optarg; break;
            case 'f': g_opt.conf = optarg; break;
            case 'N':
                if (!parse_cores(optarg, g_opt.cores, err)) return false;
                break;
            case 'b':
                if (!parse_u64(optarg, 1, 1 << 20, "-b backlog", v, err)) return false;
                g_opt.backlog = int(v);
                break;
            case 'd':
                if (!parse_double(optarg, 0, 1e6, "-d seconds", g_opt.duration, err)) return false;
                break;
            case 'q': g_opt.quiet = true; break;
            case o_port:
                if (!parse_port(optarg, "--port", g_opt.port, err)) return false;
                break;
            case o_bind:
                if (!parse_ipv4_option("--bind", optarg, g_opt.bind_addr, err)) return false;
                break;
            case o_preload:
                if (!parse_u64(optarg, 1, 1ull << 40, "--max-preload", g_opt.max_preload, err))
                    return false;
                break;
            case o_json: g_opt.json = true; break;
            case o_stack_stats: g_opt.stack_stats = true; break;
            default: return getopt_default(ch, argv, usage, err);
        }
    }
    if (!no_operands(argc, argv, err)) return false;
    if (g_opt.www.empty()) {
        err = "missing -p WWW_DIR (the directory to serve)";
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::string err;
    if (!parse_args(argc, argv, err)) return usage_error("mvnf-httpd", err, usage);
    if (!g_files.load(g_opt.www, g_opt.max_preload, err)) {
        fprintf(stderr, "mvnf-httpd: %s\n", err.c_str());
        return 1;
    }
    install_stop_signals();
    if (!stack_init(g_opt.conf, g_opt.cores, err)) {
        fprintf(stderr, "mvnf-httpd: %s\n", err.c_str());
        return 1;
    }
    g_stats = std::vector<core_stats>(size_t(g_opt.cores));
    const uint64_t deadline =
        g_opt.duration > 0 ? now_ns() + uint64_t(g_opt.duration * 1e9) : 0;
    auto sum = [](counter core_stats::*f) {
        uint64_t t = 0;
        for (auto& s : g_stats) t += (s.*f).get();
        return t;
    };
    uint64_t last_req = 0, last_out = 0, t0 = now_ns();
    run_cores(
        g_opt.cores,
        [&](int core) {
            io n;
            std::string e;
            if (!n.open(core, e)) return fail(e);
            server srv(n, g_stats[size_t(core)]);
            if (!srv.start()) return;
            if (g_ready.fetch_add(1) + 1 == g_opt.cores) {
                printf("mvnf-httpd (%s): listening on port %u, %d core(s), %zu file(s), "
                       "%.1f MB preloaded\n",
                       stack_name(), g_opt.port, g_opt.cores, g_files.size(),
                       double(g_files.bytes()) / 1e6);
                fflush(stdout);
            }
            srv.run(deadline);
            if (g_opt.stack_stats)
                fprintf(stderr, "mvnf-httpd: core %d stack %s\n", core, n.stack_stats_json().c_str());
        },
        [&](double t) {
            if (g_ready.load() < g_opt.cores || g_opt.quiet) return;
            uint64_t req = sum(&core_stats::requests), out = sum(&core_stats::bytes_out);
            printf("[%5.1fs] conns %llu open %llu | %s req/s | out %.1f MB/s | 404 %llu errors %llu\n",
                   t, (unsigned long long)sum(&core_stats::accepted),
                   (unsigned long long)(sum(&core_stats::accepted) - sum(&core_stats::closed)),
                   human_rate(double(req - last_req)).c_str(), double(out - last_out) / 1e6,
                   (unsigned long long)sum(&core_stats::not_found),
                   (unsigned long long)sum(&core_stats::errors));
            fflush(stdout);
            last_req = req;
            last_out = out;
        });
    const double secs = double(now_ns() - t0) / 1e9;
    stack_shutdown();
    if (g_failed.load()) {
        fprintf(stderr, "mvnf-httpd: %s\n", g_err.c_str());
        return 1;
    }
    uint64_t req = sum(&core_stats::requests);
    if (g_opt.json) {
        printf("%s\n", json()
                           .str("tool", "mvnf-httpd")
                           .str("stack", stack_name())
                           .num("cores", g_opt.cores)
                           .num("seconds", secs)
                           .num("files", uint64_t(g_files.size()))
                           .num("connections", sum(&core_stats::accepted))
                           .num("requests", req)
                           .num("status_200", sum(&core_stats::ok200))
                           .num("status_404", sum(&core_stats::not_found))
                           .num("status_other", sum(&core_stats::bad))
                           .num("bytes_in", sum(&core_stats::bytes_in))
                           .num("bytes_out", sum(&core_stats::bytes_out))
                           .num("errors", sum(&core_stats::errors))
                           .done()
                           .c_str());
    } else {
        printf("mvnf-httpd (%s): %.1f s, %llu connections, %llu requests (%s req/s), "
               "%llu x 200, %llu x 404, %.1f MB sent, %llu errors\n",
               stack_name(), secs, (unsigned long long)sum(&core_stats::accepted),
               (unsigned long long)req, human_rate(double(req) / secs).c_str(),
               (unsigned long long)sum(&core_stats::ok200),
               (unsigned long long)sum(&core_stats::not_found),
               double(sum(&core_stats::bytes_out)) / 1e6,
               (unsigned long long)sum(&core_stats::errors));
    }
    return 0;
}
