// Kernel backend of net_io.hpp: Linux sockets and epoll, one epoll instance
// per core thread. Linked into the `mvnf-*-kernel` sibling binaries.
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_io.hpp"

namespace mvnf::app {

// Linux 4.2+: bind() reserves no port, connect() picks one unique for the
// whole 4-tuple, so a source address does not cap a client at ~28K ports.
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

// Every connection is a descriptor: lift the soft limit (often 1024) to the
// hard one, and try the hard one up to fs.nr_open (allowed for root), so a
// client can hold 100K+ connections.
bool stack_init(const std::string&, int, std::string&) {
    rlimit r{};
    if (getrlimit(RLIMIT_NOFILE, &r) == 0) {
        rlim_t want = 1 << 20;
        if (FILE* f = fopen("/proc/sys/fs/nr_open", "r")) {
            unsigned long long v = 0;
            if (fscanf(f, "%llu", &v) == 1 && v > 0) want = rlim_t(v);
            fclose(f);
        }
        rlimit up{want, want};
        if (r.rlim_max >= want || setrlimit(RLIMIT_NOFILE, &up) != 0) {
            r.rlim_cur = r.rlim_max;
            setrlimit(RLIMIT_NOFILE, &r);
        }
    }
    return true;
}
void stack_shutdown() {}
const char* stack_name() { return "kernel"; }
in_addr_t stack_local_addr() { return htonl(INADDR_ANY); }

io::~io() {
    if (_ep >= 0) ::close(_ep);
}

bool io::open(int core, std::string& err) {
    _core = core;
    _ep = epoll_create1(EPOLL_CLOEXEC);
    if (_ep < 0) {
        err = std::string("epoll_create1: ") + strerror(errno);
        return false;
    }
    return true;
}

int io::tcp_socket() {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s >= 0) {
        int one = 1;
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return s;
}

int io::udp_socket() {
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) return s;
    // A deep receive queue, as UDP benchmarks use: the default (~200 KiB, a
    // few hundred datagrams) overflows whenever the receiving thread is
    // descheduled for a few ms, and that loss would be the scheduler's, not
    // the stack's. SO_RCVBUFFORCE passes net.core.rmem_max when privileged;
    // otherwise SO_RCVBUF gets what rmem_max allows.
    int want = 8 << 20;
    if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0)
        (void)setsockopt(s, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
    return s;
}

int io::reuse_port(int s) {
    int one = 1;
    return setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
}

int io::bind(int s, const sockaddr_in& a) {
    return ::bind(s, reinterpret_cast<const sockaddr*>(&a), sizeof a);
}
int io::listen(int s, int backlog) { return ::listen(s, backlog); }
int io::accept(int s) {
    int c = ::accept4(s, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c >= 0) {
        int one = 1;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return c;
}
int io::connect(int s, const sockaddr_in& a) {
    return ::connect(s, reinterpret_cast<const sockaddr*>(&a), sizeof a);
}
int io::socket_error(int s) {
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &len) < 0) return errno;
    return e;
}
uint16_t io::local_port(int s) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    if (getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) < 0) return 0;
    return ntohs(a.sin_port);
}
in_addr_t io::local_addr(int s) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    if (getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) < 0) return 0;
    return a.sin_addr.s_addr;
}
int io::bind_source(int s, in_addr_t addr) {
    int one = 1;
    if (setsockopt(s, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) < 0) return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = addr;
    return ::bind(s, reinterpret_cast<const sockaddr*>(&a), sizeof a);
}
ssize_t io::read(int s, void* buf, size_t len) { return ::read(s, buf, len); }
ssize_t io::write(int s, const void* buf, size_t len) {
    return ::send(s, buf, len, MSG_NOSIGNAL);
}
ssize_t io::writev(int s, const iovec* iov, int n) {
    msghdr m{};
    m.msg_iov = const_cast<iovec*>(iov);
    m.msg_iovlen = size_t(n);
    return ::sendmsg(s, &m, MSG_NOSIGNAL);
}
int io::shutdown_write(int s) { return ::shutdown(s, SHUT_WR); }
int io::close(int s) { return ::close(s); }
ssize_t io::sendto(int s, const void* buf, size_t len, const sockaddr_in& to) {
    return ::sendto(s, buf, len, MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&to), sizeof to);
}
ssize_t io::recvfrom(int s, void* buf, size_t len, sockaddr_in* from) {
    socklen_t fl = sizeof(sockaddr_in);
    return ::recvfrom(s, buf, len, 0, reinterpret_cast<sockaddr*>(from), from ? &fl : nullptr);
}
int io::init_rss(in_addr_t, in_addr_t, uint16_t) { return 0; }

std::string io::stack_stats_json() { return "{}"; }

static uint32_t to_epoll(uint32_t ev) {
    uint32_t r = 0;
    if (ev & ev_in) r |= EPOLLIN;
    if (ev & ev_out) r |= EPOLLOUT;
    return r;
}

int io::ep_add(int s, uint32_t events, uint64_t data) {
    epoll_event e{};
    e.events = to_epoll(events);
    e.data.u64 = data;
    return epoll_ctl(_ep, EPOLL_CTL_ADD, s, &e);
}
int io::ep_mod(int s, uint32_t events, uint64_t data) {
    epoll_event e{};
    e.events = to_epoll(events);
    e.data.u64 = data;
    return epoll_ctl(_ep, EPOLL_CTL_MOD, s, &e);
}
int io::ep_del(int s) { return epoll_ctl(_ep, EPOLL_CTL_DEL, s, nullptr); }

int io::ep_wait(event* evs, int max, int timeout_ms) {
    epoll_event k[256];
    if (max > 256) max = 256;
    int n = epoll_wait(_ep, k, max, timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        uint32_t r = 0;
        if (k[i].events & EPOLLIN) r |= ev_in;
        if (k[i].events & EPOLLOUT) r |= ev_out;
        if (k[i].events & EPOLLERR) r |= ev_err;
        if (k[i].events & (EPOLLHUP | EPOLLRDHUP)) r |= ev_hup;
        evs[i] = {r, k[i].data.u64};
    }
    return n;
}

}  // namespace mvnf::app
