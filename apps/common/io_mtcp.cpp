// mTCP backend of net_io.hpp: the public C API (mtcp_api.h, mtcp_epoll.h,
// mudp_api.h), one context and one epoll instance per core thread, the stack
// running inside mtcp_epoll_wait. Linked into the `mvnf-*` binaries.
#include <cerrno>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/tcp.h>

#include <cstdio>

#include "mtcp/mtcp_api.h"
#include "mtcp/mtcp_epoll.h"
#include "mtcp/mtcp_stats.h"
#include "mtcp/mudp_api.h"
#include "net_io.hpp"

namespace mvnf::app {

namespace {
in_addr_t g_local_addr = 0;

// Reads ip_addr from the config file ourselves: the API has no getter for it.
in_addr_t read_ip_addr(const std::string& path) {
    FILE* f = fopen(path.c_str(), "r");
    if (!f) return 0;
    char line[512];
    in_addr_t r = 0;
    while (fgets(line, sizeof line, f)) {
        char key[64], val[128];
        if (sscanf(line, " %63[a-z_] = %127s", key, val) == 2 && strcmp(key, "ip_addr") == 0) {
            in_addr a{};
            if (inet_aton(val, &a)) r = a.s_addr;
        }
    }
    fclose(f);
    return r;
}

inline mctx_t ctx(void* p) { return static_cast<mctx_t>(p); }
}  // namespace

bool stack_init(const std::string& conf, int cores, std::string& err) {
    if (conf.empty()) {
        err = "the mTCP build needs a configuration file (-f mtcp.conf); "
              "use the -kernel binary for Linux sockets";
        return false;
    }
    if (FILE* f = fopen(conf.c_str(), "r")) {
        fclose(f);
    } else {
        err = "cannot open configuration '" + conf + "': " + strerror(errno);
        return false;
    }
    if (cores > 0) {  // mTCP's way: -N overrides num_cores before mtcp_init
        mtcp_conf mc{};
        mtcp_getconf(&mc);
        mc.num_cores = cores;
        mtcp_setconf(&mc);
    }
    if (mtcp_init(conf.c_str()) < 0) {
        err = "mtcp_init(" + conf + ") failed: " + strerror(errno) + " (see the message above)";
        return false;
    }
    if (cores > 0) {
        mtcp_conf mc{};
        if (mtcp_getconf(&mc) == 0 && mc.num_cores != cores) {
            err = "-N " + std::to_string(cores) + " but num_cores = " +
                  std::to_string(mc.num_cores) + " in " + conf + ": make them agree";
            mtcp_destroy();
            return false;
        }
    }
    g_local_addr = read_ip_addr(conf);
    return true;
}
void stack_shutdown() { mtcp_destroy(); }
const char* stack_name() { return "mtcp"; }
in_addr_t stack_local_addr() { return g_local_addr; }

io::~io() {
    if (_ctx) {
        if (_ep >= 0) mtcp_close(ctx(_ctx), _ep);
        mtcp_destroy_context(ctx(_ctx));
    }
}

bool io::open(int core, std::string& err) {
    _core = core;
    mtcp_core_affinitize(core);
    _ctx = mtcp_create_context(core);
    if (!_ctx) {
        err = "mtcp_create_context(" + std::to_string(core) + "): " + strerror(errno);
        return false;
    }
    _ep = mtcp_epoll_create1(ctx(_ctx), 0);
    if (_ep < 0) {
        err = std::string("mtcp_epoll_create1: ") + strerror(errno);
        return false;
    }
    return true;
}

int io::tcp_socket() {
    int s = mtcp_socket(ctx(_ctx), AF_INET, SOCK_STREAM, 0);
    if (s >= 0) {
        mtcp_setsock_nonblock(ctx(_ctx), s);
        int one = 1;
        mtcp_setsockopt(ctx(_ctx), s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return s;
}
int io::udp_socket() {
    // SOCK_DGRAM as mTCP apps pass it (the API rejects MTCP_SOCK_DGRAM).
    int s = mtcp_socket(ctx(_ctx), AF_INET, SOCK_DGRAM, 0);
    if (s >= 0) mtcp_setsock_nonblock(ctx(_ctx), s);
    return s;
}
int io::reuse_port(int) { return 0; }
int io::bind(int s, const sockaddr_in& a) {
    return mtcp_bind(ctx(_ctx), s, reinterpret_cast<const sockaddr*>(&a), sizeof a);
}
int io::listen(int s, int backlog) { return mtcp_listen(ctx(_ctx), s, backlog); }
int io::accept(int s) {
    int c = mtcp_accept(ctx(_ctx), s, nullptr, nullptr);
    if (c >= 0) {
        mtcp_setsock_nonblock(ctx(_ctx), c);
        int one = 1;
        mtcp_setsockopt(ctx(_ctx), c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return c;
}
int io::connect(int s, const sockaddr_in& a) {
    return mtcp_connect(ctx(_ctx), s, reinterpret_cast<const sockaddr*>(&a), sizeof a);
}
int io::socket_error(int s) {
    int e = 0;
    socklen_t len = sizeof e;
    if (mtcp_getsockopt(ctx(_ctx), s, SOL_SOCKET, SO_ERROR, &e, &len) < 0) return errno;
    return e;
}
uint16_t io::local_port(int s) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    if (mtcp_getsockname(ctx(_ctx), s, reinterpret_cast<sockaddr*>(&a), &len) < 0) return 0;
    return ntohs(a.sin_port);
}
in_addr_t io::local_addr(int s) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    if (mtcp_getsockname(ctx(_ctx), s, reinterpret_cast<sockaddr*>(&a), &len) < 0) return 0;
    return a.sin_addr.s_addr;
}
int io::bind_source(int, in_addr_t addr) {
    if (addr == g_local_addr || addr == htonl(INADDR_ANY)) return 0;  // connect uses ip_addr
    errno = EADDRNOTAVAIL;
    return -1;
}
ssize_t io::read(int s, void* buf, size_t len) {
    return mtcp_read(ctx(_ctx), s, static_cast<char*>(buf), len);
}
ssize_t io::write(int s, const void* buf, size_t len) {
    return mtcp_write(ctx(_ctx), s, static_cast<const char*>(buf), len);
}
ssize_t io::writev(int s, const iovec* iov, int n) { return mtcp_writev(ctx(_ctx), s, iov, n); }
int io::shutdown_write(int s) { return mtcp_shutdown(ctx(_ctx), s, SHUT_WR); }
int io::close(int s) { return mtcp_close(ctx(_ctx), s); }
ssize_t io::sendto(int s, const void* buf, size_t len, const sockaddr_in& to) {
    return mudp_sendto(ctx(_ctx), s, buf, len, 0, reinterpret_cast<const sockaddr*>(&to),
                       sizeof to);
}
ssize_t io::recvfrom(int s, void* buf, size_t len, sockaddr_in* from) {
    socklen_t fl = sizeof(sockaddr_in);
    return mudp_recvfrom(ctx(_ctx), s, buf, len, 0, reinterpret_cast<sockaddr*>(from),
                         from ? &fl : nullptr);
}
int io::init_rss(in_addr_t saddr, in_addr_t daddr, uint16_t dport_host) {
    return mtcp_init_rss(ctx(_ctx), saddr, 1, daddr, htons(dport_host));
}

std::string io::stack_stats_json() {
    std::string out(4096, '\0');
    int n = mtcp_get_stats_json(ctx(_ctx), out.data(), out.size());
    if (n >= int(out.size())) {
        out.resize(size_t(n) + 1);
        n = mtcp_get_stats_json(ctx(_ctx), out.data(), out.size());
    }
    out.resize(n > 0 ? size_t(n) : 0);
    return n > 0 ? out : "{}";
}

static uint32_t to_mtcp(uint32_t ev) {
    uint32_t r = 0;
    if (ev & ev_in) r |= MTCP_EPOLLIN;
    if (ev & ev_out) r |= MTCP_EPOLLOUT;
    return r;
}

int io::ep_add(int s, uint32_t events, uint64_t data) {
    mtcp_epoll_event e{};
    e.events = to_mtcp(events);
    e.data.u64 = data;
    return mtcp_epoll_ctl(ctx(_ctx), _ep, MTCP_EPOLL_CTL_ADD, s, &e);
}
int io::ep_mod(int s, uint32_t events, uint64_t data) {
    mtcp_epoll_event e{};
    e.events = to_mtcp(events);
    e.data.u64 = data;
    return mtcp_epoll_ctl(ctx(_ctx), _ep, MTCP_EPOLL_CTL_MOD, s, &e);
}
int io::ep_del(int s) { return mtcp_epoll_ctl(ctx(_ctx), _ep, MTCP_EPOLL_CTL_DEL, s, nullptr); }

int io::ep_wait(event* evs, int max, int timeout_ms) {
    mtcp_epoll_event k[256];
    if (max > 256) max = 256;
    int n = mtcp_epoll_wait(ctx(_ctx), _ep, k, max, timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        uint32_t r = 0;
        if (k[i].events & MTCP_EPOLLIN) r |= ev_in;
        if (k[i].events & MTCP_EPOLLOUT) r |= ev_out;
        if (k[i].events & MTCP_EPOLLERR) r |= ev_err;
        if (k[i].events & (MTCP_EPOLLHUP | MTCP_EPOLLRDHUP)) r |= ev_hup;
        evs[i] = {r, k[i].data.u64};
    }
    return n;
}

}  // namespace mvnf::app
