// mvnf-wget: the role of mTCP's epwget. Per core, keeps `concurrency/N`
// HTTP requests in flight until #requests complete, with RSS-aware source
// ports (mtcp_init_rss) in the mTCP build. Built twice: mvnf-wget (mTCP API)
// and mvnf-wget-kernel (Linux sockets).
#include <arpa/inet.h>
#include <getopt.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>

#include "app_util.hpp"
#include "chunked.hpp"
#include "net_io.hpp"

using namespace mvnf::app;

namespace {

struct options {
    std::string url, host, path, conf, out_file, json_file;
    uint32_t addr = 0;
    uint16_t port = 80;
    uint64_t requests = 0;
    int cores = 1;
    uint64_t concurrency = 0;  // total; 0: one per core
    double timeout = 10;
    bool keepalive = false, json = false, quiet = false, stack_stats = false;
};

const char* usage =
    "usage: mvnf-wget URL #REQUESTS [-N cores] [-c concurrency] [-f mtcp.conf] [options]\n"
    "HTTP load generator: fetches URL #REQUESTS times with `concurrency` requests in\n"
    "flight (split over cores) and reports rates, response times and errors.\n"
    "  URL           http://IPv4[:port]/path (no DNS: an address, or localhost)\n"
    "  -N CORES      cores (default 1)\n"
    "  -c CONC       total concurrent requests (default: one per core)\n"
    "  -f FILE       mtcp.conf (required by mvnf-wget, ignored by mvnf-wget-kernel)\n"
    "  -o FILE       save the body of the first response to FILE\n"
    "  --keepalive   reuse connections (HTTP/1.1 keep-alive); default: one per request\n"
    "  --timeout S   per-request timeout in seconds (default 10)\n"
    "  --json        print the final summary as one JSON line\n"
    "  --json-out F  also write the JSON summary to file F (keeps the text summary)\n"
    "  --stack-stats print each core's stack counters (JSON) to stderr at exit\n"
    "  -q            no once-a-second progress line\n"
    "  -h, --help    this text\n";

enum err_kind { e_connect, e_reset, e_timeout, e_http, e_malformed, e_closed, e_count };
const char* err_names[e_count] = {"connect", "reset", "timeout", "http_status", "malformed",
                                  "closed_early"};

struct core_stats {
    counter connections, completed, failed, bytes_read, bytes_written, body_bytes;
    counter lat_sum, lat_n, lat_max;  // since the last progress line (reporter resets max)
    counter errs[e_count];
    counter status_2xx, status_3xx, status_4xx, status_5xx;
    latency_hist hist;  // owner thread only; merged at the end
};

enum class phase { connecting, sending, reading };

// How the end of a response body is found (RFC 9112 section 6.3).
enum class framing : uint8_t { length, chunked, until_close };

struct conn {
    phase ph = phase::connecting;
    framing fr = framing::until_close;
    bool head_done = false, server_close = false;
    int status = 0;
    uint64_t t_start = 0, deadline = 0;
    size_t sent = 0;
    uint64_t length = 0, body = 0;
    std::string head;  // response head bytes until complete
    mvnf::wget::chunked_decoder chunks;
};

options g_opt;
std::vector<core_stats> g_stats;
std::mutex g_mu;
std::string g_err, g_first_body;
bool g_saved = false;
std::atomic<int> g_failed{0};

void fail(const std::string& e) {
    std::lock_guard<std::mutex> l(g_mu);
    if (g_err.empty()) g_err = e;
    g_failed.fetch_add(1);
    request_stop();
}

bool parse_url(const std::string& url, std::string& err) {
    std::string u = url;
    if (u.rfind("http://", 0) == 0) {
        u = u.substr(7);
    } else if (u.find("://") != std::string::npos) {
        err = "only http:// URLs are supported: '" + url + "'";
        return false;
    }
    auto slash = u.find('/');
    std::string hp = u.substr(0, slash);
    g_opt.path = slash == std::string::npos ? "/" : u.substr(slash);
    auto colon = hp.find(':');
    g_opt.host = hp.substr(0, colon);
    if (colon != std::string::npos) {
        uint64_t p;
        if (!parse_u64(hp.c_str() + colon + 1, 1, 65535, "URL port", p, err)) return false;
        g_opt.port = uint16_t(p);
    }
    if (!parse_ipv4(g_opt.host, g_opt.addr)) {
        err = "URL host '" + g_opt.host + "' must be an IPv4 address (no DNS in a user-space stack)";
        return false;
    }
    return true;
}

std::string lower(std::string s) {
    for (auto& c : s) c = char(tolower(uint8_t(c)));
    return s;
}

class client {
public:
    client(io& n, core_stats& st, uint64_t quota, uint64_t conc)
        : _io(n), _st(st), _quota(quota), _conc(conc) {
        _req = "GET " + g_opt.path + " HTTP/1.1\r\nHost: " + g_opt.host +
               (g_opt.port != 80 ? ":" + std::to_string(g_opt.port) : "") +
               "\r\nUser-Agent: mvnf-wget\r\nAccept: */*\r\nConnection: " +
               (g_opt.keepalive ? "keep-alive" : "close") + "\r\n\r\n";
        _dst.sin_family = AF_INET;
        _dst.sin_port = htons(g_opt.port);
        _dst.sin_addr.s_addr = g_opt.addr;
    }

    void run() {
        if (_io.init_rss(stack_local_addr(), g_opt.addr, g_opt.port) < 0)
            return fail(fmt("mtcp_init_rss: %s", strerror(errno)));
        const uint64_t to_ns = uint64_t(g_opt.timeout * 1e9);
        while (_started < _quota && _conns.size() < _conc && !stop_requested())
            if (!open_conn(now_ns(), to_ns)) return;
        event evs[256];
        uint64_t next_scan = now_ns() + 100000000ull;
        while (!_conns.empty() && !stop_requested()) {
            int n = _io.ep_wait(evs, 256, 50);
            if (n < 0) return fail(fmt("epoll wait: %s", strerror(errno)));
            for (int i = 0; i < n; i++) {
                int s = int(evs[i].data);
                auto it = _conns.find(s);
                if (it != _conns.end()) on_event(s, it->second, evs[i].events);
            }
            uint64_t t = now_ns();
            if (t >= next_scan) {  // per-request timeouts
                next_scan = t + 100000000ull;
                std::vector<int> late;
                for (auto& [s, c] : _conns)
                    if (t > c.deadline) late.push_back(s);
                for (int s : late) finish(s, _conns[s], e_timeout);
            }
            while (_started < _quota && _conns.size() < _conc && !stop_requested())
                if (!open_conn(now_ns(), to_ns)) return;
        }
        for (auto& [s, c] : _conns) _io.close(s);
    }

private:
    bool open_conn(uint64_t t, uint64_t to_ns) {
        int s = _io.tcp_socket();
        if (s < 0) {
            fail(fmt("socket: %s", strerror(errno)));
            return false;
        }
        _started++;
        _st.connections.add();
        conn c;
        c.t_start = t;
        c.deadline = t + to_ns;
        if (_io.connect(s, _dst) == 0) {
            c.ph = phase::sending;
        } else if (errno != EINPROGRESS) {
            _io.close(s);
            _st.errs[e_connect].add();
            _st.failed.add();
            return true;
        }
        _io.ep_add(s, ev_out, uint64_t(s));
        _conns[s] = c;
        return true;
    }

    void on_event(int s, conn& c, uint32_t ev) {
        if (c.ph == phase::connecting) {
            if (!(ev & (ev_out | ev_err | ev_hup))) return;
            if (int e = _io.socket_error(s); e != 0 || (ev & ev_err)) {
                return finish(s, c, e_connect);
            }
            c.ph = phase::sending;
        }
        if (c.ph == phase::sending) {
            if (ev & ev_err) return finish(s, c, c.sent ? e_reset : e_connect);
            while (c.sent < _req.size()) {
                ssize_t w = _io.write(s, _req.data() + c.sent, _req.size() - c.sent);
                if (w < 0) {
                    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
                    return finish(s, c, errno == ENOTCONN || errno == ECONNREFUSED ? e_connect
                                                                                    : e_reset);
                }
                c.sent += size_t(w);
                _st.bytes_written.add(uint64_t(w));
            }
            c.ph = phase::reading;
            _io.ep_mod(s, ev_in, uint64_t(s));
            return;
        }
        on_readable(s, c);
    }

    void on_readable(int s, conn& c) {
        char buf[65536];
        for (;;) {
            ssize_t r = _io.read(s, buf, sizeof buf);
            if (r < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) return;
                return finish(s, c, e_reset);
            }
            if (r == 0) {
                // EOF completes only a response delimited by the close itself.
                if (c.head_done && c.fr == framing::until_close) return complete(s, c, true);
                return finish(s, c, e_closed);
            }
            _st.bytes_read.add(uint64_t(r));
            size_t off = 0;
            if (!c.head_done) {
                const size_t old = c.head.size();
                c.head.append(buf, size_t(r));
                // Interim 1xx responses come before the final one and must be
                // skipped (RFC 9110 section 15.2).
                size_t begin = 0, end;
                for (;;) {
                    end = c.head.find("\r\n\r\n", std::max(begin, old > 3 ? old - 3 : 0));
                    if (end == std::string::npos) break;
                    if (!parse_head(c, begin, end)) return finish(s, c, e_malformed);
                    if (c.head_done) break;
                    begin = end + 4;
                }
                if (end == std::string::npos) {
                    c.head.erase(0, begin);
                    if (c.head.size() > 65536) return finish(s, c, e_malformed);
                    continue;
                }
                off = end + 4 - old;
                c.head.clear();
                if (c.fr == framing::length && c.length == 0) {
                    if (off != size_t(r)) return finish(s, c, e_malformed);
                    return complete(s, c, false);
                }
            }
            if (c.fr == framing::chunked) {
                if (!on_chunked(s, c, buf + off, size_t(r) - off)) return;
                continue;
            }
            size_t n = size_t(r) - off;
            // We never pipeline: bytes past the body are the server's error.
            if (c.fr == framing::length && c.body + n > c.length) return finish(s, c, e_malformed);
            add_body(s, c, buf + off, n);
            if (c.fr == framing::length && c.body == c.length) return complete(s, c, false);
        }
    }

    void add_body(int s, conn& c, const char* p, size_t n) {
        save_body(s, p, n);
        c.body += n;
        _st.body_bytes.add(n);
    }

    // Decodes one read's worth of a chunked body; false once the connection
    // was completed or failed (it may already be reused for the next request).
    bool on_chunked(int s, conn& c, const char* p, size_t n) {
        using st = mvnf::wget::chunked_decoder::status;
        while (n) {
            const auto step = c.chunks.next(p, n);
            if (step.body_len) add_body(s, c, p + step.body_off, step.body_len);
            p += step.used, n -= step.used;
            if (step.st == st::error) return finish(s, c, e_malformed), false;
            if (step.st == st::done) {
                if (n) return finish(s, c, e_malformed), false;  // unasked-for bytes
                return complete(s, c, false), false;
            }
        }
        return true;
    }

    // Status line and the fields that frame the body (RFC 9112 section 6.3).
    // Leaves head_done false for an interim (1xx) response.
    bool parse_head(conn& c, size_t begin, size_t end) {
        std::string h = c.head.substr(begin, end - begin);
        if (h.size() < 12 || h.rfind("HTTP/1.", 0) != 0 || h[8] != ' ') return false;
        c.status = atoi(h.c_str() + 9);
        if (c.status < 100 || c.status > 599) return false;
        c.server_close = h[7] == '0';
        const bool http10 = h[7] == '0';
        bool has_length = false, has_te = false, te_chunked = false;
        size_t pos = h.find("\r\n");
        while (pos != std::string::npos) {
            size_t next = h.find("\r\n", pos + 2);
            std::string line = h.substr(pos + 2, next == std::string::npos ? std::string::npos
                                                                          : next - pos - 2);
            auto colon = line.find(':');
            if (colon != std::string::npos) {
                std::string name = lower(line.substr(0, colon));
                std::string val = lower(line.substr(colon + 1));
                if (name == "content-length") {
                    uint64_t len;
                    if (!parse_length(val, len) || (has_length && len != c.length)) return false;
                    c.length = len;
                    has_length = true;
                } else if (name == "connection") {
                    if (val.find("close") != std::string::npos) c.server_close = true;
                    if (val.find("keep-alive") != std::string::npos) c.server_close = false;
                } else if (name == "transfer-encoding") {
                    // Codings apply in order; only a final "chunked" frames the body.
                    has_te = true;
                    const auto comma = val.find_last_of(',');
                    te_chunked = trim(comma == std::string::npos ? val : val.substr(comma + 1)) ==
                                 "chunked";
                }
            }
            pos = next;
        }
        // Both Transfer-Encoding and Content-Length: "ought to be handled as
        // an error" (section 6.3 item 3), and Transfer-Encoding in HTTP/1.0
        // means the framing is faulty (item 3 too).
        if (has_te && (has_length || http10)) return false;
        if (c.status / 100 == 1) {
            if (c.status == 101) return false;  // we never asked to switch protocols
            c.server_close = false;
            return true;  // interim: the final response follows
        }
        if (c.status == 204 || c.status == 304) {
            c.fr = framing::length;  // item 1: no body, whatever the fields say
            c.length = 0;
        } else if (has_te) {
            // item 4: chunked last, or else the body runs until the close.
            c.fr = te_chunked ? framing::chunked : framing::until_close;
            if (!te_chunked) c.server_close = true;
        } else {
            c.fr = has_length ? framing::length : framing::until_close;
        }
        c.head_done = true;
        return true;
    }

    static std::string trim(const std::string& v) {
        const size_t b = v.find_first_not_of(" \t"), e = v.find_last_not_of(" \t");
        return b == std::string::npos ? std::string() : v.substr(b, e - b + 1);
    }

    // Content-Length = 1*DIGIT (RFC 9110 section 8.6), OWS around it.
    static bool parse_length(const std::string& v, uint64_t& out) {
        const std::string d = trim(v);
        if (d.empty() || d.size() > 18) return false;
        out = 0;
        for (char ch : d) {
            if (ch < '0' || ch > '9') return false;
            out = out * 10 + uint64_t(ch - '0');
        }
        return true;
    }

    // Saves the body of the first response (-o): the first connection to get
    // body bytes owns the file until its response completes or fails.
    void save_body(int s, const char* p, size_t n) {
        if (g_opt.out_file.empty() || _saving_done || (_saving_sock >= 0 && _saving_sock != s)) return;
        std::lock_guard<std::mutex> l(g_mu);
        if (g_saved && _saving_sock != s) {
            _saving_done = true;
            return;
        }
        g_saved = true;
        _saving_sock = s;
        g_first_body.append(p, n);
    }

    void complete(int s, conn& c, bool eof) {
        if (_saving_sock == s) _saving_sock = -1, _saving_done = true;
        uint64_t lat = now_ns() - c.t_start;
        _st.hist.record(lat);
        _st.lat_sum.add(lat);
        _st.lat_n.add();
        uint64_t m = _st.lat_max.v.load(std::memory_order_relaxed);
        while (lat > m && !_st.lat_max.v.compare_exchange_weak(m, lat)) {
        }
        counter* cls[] = {&_st.status_2xx, &_st.status_2xx, &_st.status_2xx, &_st.status_3xx,
                          &_st.status_4xx, &_st.status_5xx};
        cls[c.status / 100]->add();
        if (c.status >= 400) {
            _st.errs[e_http].add();
            _st.failed.add();
        } else {
            _st.completed.add();
        }
        if (!eof && g_opt.keepalive && !c.server_close && _started < _quota && !stop_requested()) {
            // Next request on the same connection.
            _started++;
            conn nc;
            nc.ph = phase::sending;
            nc.t_start = now_ns();
            nc.deadline = nc.t_start + uint64_t(g_opt.timeout * 1e9);
            c = nc;
            _io.ep_mod(s, ev_out, uint64_t(s));
            return;
        }
        _io.ep_del(s);
        _io.close(s);
        _conns.erase(s);
    }

    void finish(int s, conn&, err_kind k) {
        if (_saving_sock == s) {
            std::lock_guard<std::mutex> l(g_mu);
            g_first_body.clear();
            g_saved = false;
            _saving_sock = -1;
        }
        _st.errs[k].add();
        _st.failed.add();
        _io.ep_del(s);
        _io.close(s);
        _conns.erase(s);
    }

    io& _io;
    core_stats& _st;
    uint64_t _quota, _conc, _started = 0;
    std::string _req;
    sockaddr_in _dst{};
    std::unordered_map<int, conn> _conns;
    int _saving_sock = -1;
    bool _saving_done = false;
};

bool parse_args(int argc, char** argv, std::string& err) {
    enum { o_keep = 1000, o_json, o_timeout, o_json_out, o_stack_stats };
    static option longs[] = {{"keepalive", no_argument, nullptr, o_keep},
                             {"json", no_argument, nullptr, o_json},
                             {"json-out", required_argument, nullptr, o_json_out},
                             {"stack-stats", no_argument, nullptr, o_stack_stats},
                             {"timeout", required_argument, nullptr, o_timeout},
                             {"help", no_argument, nullptr, 'h'},
                             {nullptr, 0, nullptr, 0}};
    opterr = 0;
    int ch;
    uint64_t v;
    std::vector<std::string> pos;
    // GNU getopt permutes: options may follow the positional arguments.
    while ((ch = getopt_long(argc, argv, ":N:c:f:o:qh", longs, nullptr)) != -1) {
        switch (ch) {
            case 'N':
                if (!parse_u64(optarg, 1, 64, "-N cores", v, err)) return false;
                g_opt.cores = int(v);
                break;
            case 'c':
                if (!parse_u64(optarg, 1, 1 << 24, "-c concurrency", g_opt.concurrency, err))
                    return false;
                break;
            case 'f': g_opt.conf = optarg; break;
            case 'o': g_opt.out_file = optarg; break;
            case 'q': g_opt.quiet = true; break;
            case o_keep: g_opt.keepalive = true; break;
            case o_json: g_opt.json = true; break;
            case o_json_out: g_opt.json_file = optarg; break;
            case o_stack_stats: g_opt.stack_stats = true; break;
            case o_timeout:
                if (!parse_double(optarg, 0.001, 3600, "--timeout", g_opt.timeout, err)) return false;
                break;
            case 'h': fputs(usage, stdout); exit(0);
            case ':': err = fmt("option %s needs a value", argv[optind - 1]); return false;
            default: err = fmt("unknown option '%s'", argv[optind - 1]); return false;
        }
    }
    for (int i = optind; i < argc; i++) pos.push_back(argv[i]);
    if (pos.size() != 2) {
        err = pos.empty() ? "missing URL and #REQUESTS"
                          : fmt("expected URL and #REQUESTS, got %zu argument(s)", pos.size());
        return false;
    }
    g_opt.url = pos[0];
    if (!parse_url(pos[0], err)) return false;
    if (!parse_u64(pos[1].c_str(), 1, 1ull << 40, "#REQUESTS", g_opt.requests, err)) return false;
    if (g_opt.concurrency == 0) g_opt.concurrency = uint64_t(g_opt.cores);
    if (g_opt.concurrency < uint64_t(g_opt.cores)) {
        err = fmt("-c %llu is less than -N %d: every core needs at least one connection",
                  (unsigned long long)g_opt.concurrency, g_opt.cores);
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::string err;
    if (!parse_args(argc, argv, err)) {
        fprintf(stderr, "mvnf-wget: %s\n%s", err.c_str(), usage);
        return 2;
    }
    install_stop_signals();
    if (!stack_init(g_opt.conf, g_opt.cores, err)) {
        fprintf(stderr, "mvnf-wget: %s\n", err.c_str());
        return 1;
    }
    const int N = g_opt.cores;
    g_stats = std::vector<core_stats>(size_t(N));
    auto sum = [](counter core_stats::*f) {
        uint64_t t = 0;
        for (auto& s : g_stats) t += (s.*f).get();
        return t;
    };
    if (!g_opt.quiet)
        printf("mvnf-wget (%s): %llu x GET %s, %d core(s), concurrency %llu, %s\n", stack_name(),
               (unsigned long long)g_opt.requests, g_opt.url.c_str(), N,
               (unsigned long long)g_opt.concurrency,
               g_opt.keepalive ? "keep-alive" : "one connection per request");
    fflush(stdout);
    const uint64_t t0 = now_ns();
    run_cores(
        N,
        [&](int core) {
            io n;
            std::string e;
            if (!n.open(core, e)) return fail(e);
            uint64_t q = g_opt.requests / uint64_t(N) + (uint64_t(core) < g_opt.requests % uint64_t(N));
            uint64_t c = g_opt.concurrency / uint64_t(N) + (uint64_t(core) < g_opt.concurrency % uint64_t(N));
            client cl(n, g_stats[size_t(core)], q, c);
            cl.run();
            if (g_opt.stack_stats)
                fprintf(stderr, "mvnf-wget: core %d stack %s\n", core, n.stack_stats_json().c_str());
        },
        [&](double t) {
            if (g_opt.quiet) return;
            uint64_t ls = 0, ln = 0, lm = 0;
            for (auto& s : g_stats) {
                ls += s.lat_sum.v.exchange(0);
                ln += s.lat_n.v.exchange(0);
                lm = std::max(lm, s.lat_max.v.exchange(0));
            }
            printf("[%5.1fs] conns %llu done %llu/%llu errors %llu | read %.2f MB written %.2f MB | "
                   "rt mean %.2f ms max %.2f ms\n",
                   t, (unsigned long long)sum(&core_stats::connections),
                   (unsigned long long)sum(&core_stats::completed),
                   (unsigned long long)g_opt.requests, (unsigned long long)sum(&core_stats::failed),
                   double(sum(&core_stats::bytes_read)) / 1e6,
                   double(sum(&core_stats::bytes_written)) / 1e6,
                   ln ? double(ls) / double(ln) / 1e6 : 0.0, double(lm) / 1e6);
            fflush(stdout);
        });
    const double secs = std::max(1e-9, double(now_ns() - t0) / 1e9);
    stack_shutdown();
    if (g_failed.load()) {
        fprintf(stderr, "mvnf-wget: %s\n", g_err.c_str());
        return 1;
    }
    if (!g_opt.out_file.empty() && g_saved) {
        FILE* f = fopen(g_opt.out_file.c_str(), "wb");
        if (!f || fwrite(g_first_body.data(), 1, g_first_body.size(), f) != g_first_body.size()) {
            fprintf(stderr, "mvnf-wget: cannot write %s: %s\n", g_opt.out_file.c_str(), strerror(errno));
            if (f) fclose(f);
            return 1;
        }
        fclose(f);
    }
    latency_hist h;
    for (auto& s : g_stats) h.merge(s.hist);
    uint64_t done = sum(&core_stats::completed), failed = sum(&core_stats::failed),
             conns = sum(&core_stats::connections);
    json errs;
    std::string err_text;
    uint64_t connect_errs = 0;
    for (auto& s : g_stats) connect_errs += s.errs[e_connect].get();
    errs.num("total", failed);
    for (int k = 0; k < e_count; k++) {
        uint64_t v = 0;
        for (auto& s : g_stats) v += s.errs[k].get();
        errs.num(err_names[k], v);
        if (v) err_text += fmt(" %s %llu", err_names[k], (unsigned long long)v);
    }
    const std::string summary = json()
                           .str("tool", "mvnf-wget")
                           .str("stack", stack_name())
                           .str("url", g_opt.url)
                           .num("cores", N)
                           .num("concurrency", g_opt.concurrency)
                           .boolean("keepalive", g_opt.keepalive)
                           .num("requested", g_opt.requests)
                           .num("completed", done)
                           .num("connections", conns)
                           .num("seconds", secs)
                           .num("connections_per_s", double(conns) / secs)
                           .num("requests_per_s", double(done) / secs)
                           .num("bytes_read", sum(&core_stats::bytes_read))
                           .num("body_bytes", sum(&core_stats::body_bytes))
                           .num("bytes_written", sum(&core_stats::bytes_written))
                           .raw("latency", latency_json(h))
                           .raw("status", json()
                                              .num("2xx", sum(&core_stats::status_2xx))
                                              .num("3xx", sum(&core_stats::status_3xx))
                                              .num("4xx", sum(&core_stats::status_4xx))
                                              .num("5xx", sum(&core_stats::status_5xx))
                                              .done())
                           .raw("errors", errs.done())
                           .done()
                           ;
    if (!g_opt.json_file.empty()) {
        FILE* f = fopen(g_opt.json_file.c_str(), "w");
        if (!f || fprintf(f, "%s\n", summary.c_str()) < 0) {
            fprintf(stderr, "mvnf-wget: cannot write %s: %s\n", g_opt.json_file.c_str(), strerror(errno));
            if (f) fclose(f);
            return 1;
        }
        fclose(f);
    }
    if (g_opt.json) {
        printf("%s\n", summary.c_str());
    } else {
        printf("\n== mvnf-wget summary (%s stack) ==\n", stack_name());
        printf("requests   %llu of %llu completed in %.2f s  ->  %s requests/s\n",
               (unsigned long long)done, (unsigned long long)g_opt.requests, secs,
               human_rate(double(done) / secs).c_str());
        printf("conns      %llu opened  ->  %s connections/s\n", (unsigned long long)conns,
               human_rate(double(conns) / secs).c_str());
        printf("bytes      %.2f MB read (%.2f MB of bodies), %.2f MB written  ->  %.1f MB/s in\n",
               double(sum(&core_stats::bytes_read)) / 1e6,
               double(sum(&core_stats::body_bytes)) / 1e6,
               double(sum(&core_stats::bytes_written)) / 1e6,
               double(sum(&core_stats::bytes_read)) / 1e6 / secs);
        printf("latency    %s\n", latency_text(h).c_str());
        printf("errors     %llu%s\n", (unsigned long long)failed,
               failed ? (" (" + err_text.substr(1) + ")").c_str() : "");
        if (failed && done == 0 && connect_errs == failed)
            printf("hint       every connection failed: is the server running on %s:%u?\n",
                   g_opt.host.c_str(), g_opt.port);
    }
    return done == 0 ? 3 : 0;
}
