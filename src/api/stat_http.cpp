// The Prometheus endpoint (stat_http = ADDR:PORT): one thread with a kernel
// TCP socket, serving one short HTTP/1.0-style exchange at a time. It reads
// only the instance's published stats slots (atomics), so it never slows or
// races the stack cores, and it cannot touch a context being destroyed.
#include "api/stat_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

#include "api/context.hpp"
#include "api/stat_fields.hpp"

namespace mvnf::api {

namespace {

struct sample_family {
    std::string name, type;
    std::vector<uint64_t> per_core;
};

// A slow or silent client must not hold the endpoint: each exchange is
// bounded (request read and response write) by this.
constexpr int client_timeout_ms = 2000;

}  // namespace

std::string prometheus_text(instance& inst) {
    std::vector<int> cores;
    std::vector<mtcp_stats> snap;
    for (size_t i = 0; i < inst.ctxs.size(); ++i) {
        mtcp_stats s;
        if (read_slot(inst, i, s)) cores.push_back(int(i)), snap.push_back(s);
    }
    std::string out;
    char line[256];
    // One family per counter, its samples (one per core) together, as the
    // format requires. The version-1 totals repeat layer counters (rx_packets
    // is stack.rx_packets...): only `drops`, their sum, is exported from them.
    std::vector<sample_family> fams;
    struct drop_sample {
        std::string layer, reason;
        std::vector<uint64_t> per_core;
    };
    std::vector<drop_sample> drops;
    for (size_t c = 0; c < snap.size(); ++c) {
        size_t fi = 0, di = 0;
        for_each_stat(snap[c], [&](const char* sec, const char* name, uint64_t v, stat_kind k) {
            const std::string_view s(sec);
            if (k == stat_kind::drop) {
                if (c == 0)
                    drops.push_back({s == "stack.drops" ? "stack" : std::string(s), name, {}});
                drops[di++].per_core.push_back(v);
                return;
            }
            if (s.empty() && k != stat_kind::total) return;
            if (c == 0) {
                std::string n = "mtcp_";
                if (!s.empty()) n += std::string(s) + "_";
                n += name;
                if (k != stat_kind::gauge) n += "_total";
                fams.push_back({n, k == stat_kind::gauge ? "gauge" : "counter", {}});
            }
            fams[fi++].per_core.push_back(v);
        });
    }
    for (const auto& f : fams) {
        out += "# TYPE " + f.name + " " + f.type + "\n";
        for (size_t c = 0; c < cores.size(); ++c) {
            std::snprintf(line, sizeof line, "%s{core=\"%d\"} %" PRIu64 "\n", f.name.c_str(),
                          cores[c], f.per_core[c]);
            out += line;
        }
    }
    if (!drops.empty()) {
        out += "# HELP mtcp_drop_reason_total Frames, segments or datagrams not delivered, by "
               "layer and reason.\n# TYPE mtcp_drop_reason_total counter\n";
        for (const auto& d : drops)
            for (size_t c = 0; c < cores.size(); ++c) {
                std::snprintf(line, sizeof line,
                              "mtcp_drop_reason_total{core=\"%d\",layer=\"%s\",reason=\"%s\"} "
                              "%" PRIu64 "\n",
                              cores[c], d.layer.c_str(), d.reason.c_str(), d.per_core[c]);
                out += line;
            }
    }
    out += "# TYPE mtcp_cores gauge\nmtcp_cores " + std::to_string(cores.size()) + "\n";
    return out;
}

std::unique_ptr<stat_server> stat_server::start(instance& inst, ipv4_addr ip, uint16_t port,
                                                std::string& error) {
    const std::string where = "stat_http " + ip.str() + ":" + std::to_string(port);
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return error = where + ": socket: " + std::strerror(errno), nullptr;
    const int one = 1;
    (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(ip.v);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0) {
        error = where + ": " + std::strerror(errno);
        ::close(fd);
        return nullptr;
    }
    const int stop = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (stop < 0) {
        error = where + ": eventfd: " + std::strerror(errno);
        ::close(fd);
        return nullptr;
    }
    std::unique_ptr<stat_server> s(new stat_server(inst, fd, stop));
    s->_thread = std::thread([p = s.get()] { p->run(); });
    return s;
}

stat_server::stat_server(instance& inst, int listen_fd, int stop_fd)
    : _inst(inst), _listen(listen_fd), _stop(stop_fd) {}

stat_server::~stat_server() {
    const uint64_t one = 1;
    if (::write(_stop, &one, sizeof one) < 0) { /* the eventfd cannot be full here */ }
    if (_thread.joinable()) _thread.join();
    ::close(_listen);
    ::close(_stop);
}

void stat_server::run() {
    for (;;) {
        pollfd p[2] = {{_listen, POLLIN, 0}, {_stop, POLLIN, 0}};
        if (::poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (p[1].revents) return;
        if (!(p[0].revents & POLLIN)) continue;
        const int c = ::accept4(_listen, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) continue;
        serve(c);
        ::close(c);
    }
}

// Reads the request head (bounded in size and time), answers, closes.
void stat_server::serve(int fd) {
    std::string req;
    char buf[1024];
    while (req.find("\r\n\r\n") == std::string::npos && req.find("\n\n") == std::string::npos &&
           req.size() < 8192) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, client_timeout_ms) <= 0) return;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return;
        req.append(buf, size_t(n));
    }
    std::string status = "200 OK", type = "text/plain; version=0.0.4; charset=utf-8", body;
    const bool head = req.starts_with("HEAD ");
    if (!req.starts_with("GET ") && !head) {
        status = "405 Method Not Allowed", type = "text/plain", body = "GET /metrics\n";
    } else {
        const size_t from = head ? 5 : 4, sp = req.find(' ', from);
        const std::string path = req.substr(from, sp == std::string::npos ? 0 : sp - from);
        if (path == "/metrics" || path == "/") body = prometheus_text(_inst);
        else status = "404 Not Found", type = "text/plain", body = "try /metrics\n";
    }
    std::string resp = "HTTP/1.1 " + status + "\r\nContent-Type: " + type +
                       "\r\nContent-Length: " + std::to_string(body.size()) +
                       "\r\nConnection: close\r\n\r\n";
    if (!head) resp += body;
    for (size_t off = 0; off < resp.size();) {
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, client_timeout_ms) <= 0) return;
        const ssize_t n = ::send(fd, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return;
        off += size_t(n);
    }
}

}  // namespace mvnf::api
