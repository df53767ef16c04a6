// Socket life cycle calls of the C API: socket, bind, listen, accept, connect,
// close, abort, shutdown, get{sock,peer}name, pipes. Each call checks its
// arguments, translates to the TCP layer / stack and sets errno on failure.
#include <cstring>

#include "api/context.hpp"

namespace mvnf::api {

// Common prologue, after MVNF_ROUTE (every caller has it: the context was
// checked there, and this thread is the one that runs it): sockid naming a
// live socket. Checking the context again cost a second walk of the
// instance's contexts and a second tid compare on every call.
socket_entry* lookup(mtcp_context* c, int sockid) {
    socket_entry* s = c->sock(sockid);
    if (!s) set_errno_ret(EBADF);
    return s;
}

bool is_socket(const socket_entry& s) {
    return s.kind == sock_kind::stream || s.kind == sock_kind::listener ||
           s.kind == sock_kind::dgram;
}

static bool addr_ok(mtcp_context* c, ipv4_addr ip) {
    return ip.is_any() || ip == c->st->local_ip();
}

static bool port_conflict(mtcp_context* c, int self, ipv4_addr ip, uint16_t port) {
    const socket_entry& me = c->socks[size_t(self)];
    for (size_t i = 0; i < c->socks.size(); ++i) {
        const socket_entry& o = c->socks[i];
        if (int(i) == self || !o.bound || o.local_port != port) continue;
        if (o.kind != sock_kind::stream && o.kind != sock_kind::listener) continue;
        if (!(o.local_ip.is_any() || ip.is_any() || o.local_ip == ip)) continue;
        // Linux: SO_REUSEPORT on both shares the port; SO_REUSEADDR on both
        // does unless the other one listens.
        if (me.reuseport && o.reuseport) continue;
        if (me.reuseaddr && o.reuseaddr && o.kind != sock_kind::listener) continue;
        return true;
    }
    return false;
}

static uint16_t pick_port(mtcp_context* c, int self, ipv4_addr ip) {
    for (uint32_t p = 32768; p < 61000; ++p)
        if (!port_conflict(c, self, ip, uint16_t(p))) return uint16_t(p);
    return 0;
}

int close_socket(mtcp_context* c, int sockid, bool abort) {
    socket_entry& s = c->socks[size_t(sockid)];
    c->unregister_all(sockid);
    tcp::handle closed;  // graceful close: teardown may have to wait for its FIN
    switch (s.kind) {
        case sock_kind::stream:
            if (s.h.valid()) {
                if (abort || (s.linger_on && s.linger_s == 0)) {
                    (void)c->tcp->abort(s.h, c->now);
                } else {
                    (void)c->tcp->close(s.h, c->now);
                    closed = s.h;
                }
            }
            break;
        case sock_kind::listener: (void)c->tcp->close(s.h, c->now); break;
        case sock_kind::dgram: c->st->udp_close(s.udp); break;
        case sock_kind::pipe: {
            pipe_buf& p = c->pipes[size_t(s.pipe)];
            (s.pipe_writer ? p.write_closed : p.read_closed) = true;
            // Wake the other end's pollers (HUP / ERR).
            for (size_t i = 0; i < c->socks.size(); ++i)
                if (int(i) != sockid && c->socks[i].kind == sock_kind::pipe &&
                    c->socks[i].pipe == s.pipe)
                    c->notify(int(i));
            if (p.write_closed && p.read_closed) p = pipe_buf{};
            break;
        }
        case sock_kind::epoll:
        case sock_kind::unused: break;
    }
    c->free_sock(sockid);
    if (closed.valid()) c->note_closed(closed);
    c->sync_after_user_call();
    return 0;
}

}  // namespace mvnf::api

using namespace mvnf;
using namespace mvnf::api;

extern "C" {

int mtcp_socket(mctx_t mctx, int domain, int type, int protocol) try {
    MVNF_ROUTE(mctx, -1, mtcp_socket(mctx, domain, type, protocol));
    if (!enter(mctx)) return -1;
    if (domain != AF_INET) return set_errno_ret(EAFNOSUPPORT);
    const int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    sock_kind k;
    if (base == SOCK_STREAM) {
        if (protocol != 0 && protocol != IPPROTO_TCP) return set_errno_ret(EPROTONOSUPPORT);
        k = sock_kind::stream;
    } else if (base == SOCK_DGRAM) {
        if (protocol != 0 && protocol != IPPROTO_UDP) return set_errno_ret(EPROTONOSUPPORT);
        k = sock_kind::dgram;
    } else {
        return set_errno_ret(EINVAL);
    }
    const int id = mctx->alloc_sock(k);
    if (id < 0) return set_errno_ret(EMFILE);
    socket_entry& s = mctx->socks[size_t(id)];
    s.nonblock = (type & SOCK_NONBLOCK) != 0;
    if (k == sock_kind::dgram) {
        auto u = mctx->st->udp_open();
        if (!u) {
            mctx->free_sock(id);
            return set_errno_ret(EMFILE);
        }
        s.udp = *u;
        mctx->udp_socks.push_back(id);
    }
    return id;
} catch (...) {
    return api_exception("mtcp_socket");
}

int mtcp_bind(mctx_t mctx, int sockid, const struct sockaddr* addr, socklen_t addrlen) try {
    MVNF_ROUTE(mctx, -1, mtcp_bind(mctx, sockid, addr, addrlen));
    socket_entry* s = lookup(mctx, sockid);
    if (!s) return -1;
    if (!is_socket(*s)) return set_errno_ret(ENOTSOCK);
    ipv4_addr ip;
    uint16_t port = 0;
    int e = 0;
    if (!read_sockaddr(addr, addrlen, ip, port, e)) return set_errno_ret(e);
    if (s->bound || s->kind == sock_kind::listener || s->h.valid()) return set_errno_ret(EINVAL);
    if (!addr_ok(mctx, ip)) return set_errno_ret(EADDRNOTAVAIL);
    if (s->kind == sock_kind::dgram) {
        auto r = mctx->st->udp_bind(s->udp, port);
        if (!r) return set_errno_ret(r.error() == net::udp_errc::port_in_use ? EADDRINUSE
                                                                             : EAGAIN);
        port = *r;
    } else if (port == 0) {
        port = pick_port(mctx, sockid, ip);
        if (!port) return set_errno_ret(EADDRINUSE);
    } else if (port_conflict(mctx, sockid, ip, port)) {
        return set_errno_ret(EADDRINUSE);
    }
    s->bound = true;
    s->local_ip = ip;
    s->local_port = port;
    return 0;
} catch (...) {
    return api_exception("mtcp_bind");
}

int mtcp_listen(mctx_t mctx, int sockid, int backlog) try {
    MVNF_ROUTE(mctx, -1, mtcp_listen(mctx, sockid, backlog));
    socket_entry* s = lookup(mctx, sockid);
    if (!s) return -1;
    if (!is_socket(*s)) return set_errno_ret(ENOTSOCK);
    if (s->kind == sock_kind::dgram) return set_errno_ret(EOPNOTSUPP);
    if (s->kind == sock_kind::listener) return 0;  // Linux: only the backlog changes
    if (s->h.valid()) return set_errno_ret(EINVAL);  // connected or connecting
    if (!s->bound) {
        s->local_port = pick_port(mctx, sockid, ipv4_addr());
        if (!s->local_port) return set_errno_ret(EADDRINUSE);
        s->bound = true;
    }
    for (size_t i = 0; i < mctx->socks.size(); ++i) {
        const socket_entry& o = mctx->socks[i];
        if (int(i) != sockid && o.kind == sock_kind::listener && o.local_port == s->local_port &&
            (o.local_ip.is_any() || s->local_ip.is_any() || o.local_ip == s->local_ip))
            return set_errno_ret(EADDRINUSE);
    }
    auto h = mctx->tcp->listen(s->local_ip, s->local_port, uint32_t(backlog > 0 ? backlog : 1));
    if (!h) return set_errno_ret(map_tcp_error(h.error()));
    s->kind = sock_kind::listener;
    mctx->map_handle(sockid, *h);
    (void)mctx->tcp->set_max_segment(*h, uint16_t(s->maxseg));  // SYN-ACKs advertise it
    return 0;
} catch (...) {
    return api_exception("mtcp_listen");
}

int mtcp_accept(mctx_t mctx, int sockid, struct sockaddr* addr, socklen_t* addrlen) try {
    MVNF_ROUTE(mctx, -1, mtcp_accept(mctx, sockid, addr, addrlen));
    socket_entry* s = lookup(mctx, sockid);
    if (!s) return -1;
    if (!is_socket(*s)) return set_errno_ret(ENOTSOCK);
    if (s->kind == sock_kind::dgram) return set_errno_ret(EOPNOTSUPP);
    if (s->kind != sock_kind::listener) return set_errno_ret(EINVAL);
    const tcp::handle lh = s->h;
    auto r = mctx->tcp->accept(lh);
    if (!r && r.error() == tcp::error::would_block && !s->nonblock) {
        mctx->run_until(
            [&] {
                r = mctx->tcp->accept(lh);
                return r || r.error() != tcp::error::would_block;
            },
            net::never);
    }
    if (!r) return set_errno_ret(map_tcp_error(r.error()));
    const int id = mctx->alloc_sock(sock_kind::stream);
    s = mctx->sock(sockid);
    if (id < 0) {
        (void)mctx->tcp->abort(*r, mctx->now);
        mctx->sync_after_user_call();
        return set_errno_ret(EMFILE);
    }
    socket_entry& n = mctx->socks[size_t(id)];
    const socket_entry& l = *s;
    n.connected = true;
    n.bound = true;
    // Inherited options (Linux copies them from the listener). SO_REUSEADDR
    // and SO_REUSEPORT too: a listener restarted while accepted connections
    // still use the port binds only if theirs say it may (port_conflict).
    n.reuseaddr = l.reuseaddr, n.reuseport = l.reuseport;
    n.nodelay = l.nodelay, n.keepalive = l.keepalive, n.linger_on = l.linger_on;
    n.linger_s = l.linger_s, n.rcvbuf = l.rcvbuf, n.sndbuf = l.sndbuf, n.maxseg = l.maxseg;
    n.keepidle = l.keepidle, n.keepintvl = l.keepintvl, n.keepcnt = l.keepcnt, n.cc = l.cc;
    n.user_timeout_ms = l.user_timeout_ms;
    n.cork = l.cork, n.notsent_lowat = l.notsent_lowat;
    mctx->map_handle(id, *r);
    if (auto t = mctx->tcp->tuple(*r)) {
        n.local_ip = t->local_ip, n.local_port = t->local_port;
        n.peer_ip = t->remote_ip, n.peer_port = t->remote_port;
    }
    apply_options(mctx, n, *r);
    write_sockaddr(addr, addrlen, n.peer_ip, n.peer_port);
    return id;
} catch (...) {
    return api_exception("mtcp_accept");
}

int mtcp_connect(mctx_t mctx, int sockid, const struct sockaddr* addr, socklen_t addrlen) try {
    MVNF_ROUTE(mctx, -1, mtcp_connect(mctx, sockid, addr, addrlen));
    socket_entry* s = lookup(mctx, sockid);
    if (!s) return -1;
    if (!is_socket(*s)) return set_errno_ret(ENOTSOCK);
    ipv4_addr ip;
    uint16_t port = 0;
    int e = 0;
    if (!read_sockaddr(addr, addrlen, ip, port, e)) return set_errno_ret(e);
    if (s->kind == sock_kind::dgram) {  // sets the default destination
        s->peer_ip = ip, s->peer_port = port;
        s->connected = true;
        return 0;
    }
    if (s->kind == sock_kind::listener || s->connected) return set_errno_ret(EISCONN);
    if (s->connecting) return set_errno_ret(EALREADY);
    if (s->h.valid()) {  // a finished non-blocking attempt
        const int pending = s->so_error;
        s->so_error = 0;
        return set_errno_ret(pending ? pending : ECONNABORTED);
    }
    if (ip.is_any() || port == 0) return set_errno_ret(ECONNREFUSED);
    const ipv4_addr local = mctx->st->local_ip();
    // TCP_MAXSEG set before connect() goes into the SYN (as Linux).
    auto h = mctx->tcp->connect(local, s->bound ? s->local_port : 0, ip, port, mctx->now,
                                uint16_t(s->maxseg));
    if (!h) return set_errno_ret(map_tcp_error(h.error()));
    mctx->map_handle(sockid, *h);
    s->connecting = true;
    s->peer_ip = ip, s->peer_port = port;
    if (auto t = mctx->tcp->tuple(*h)) s->local_ip = t->local_ip, s->local_port = t->local_port;
    s->bound = true;
    apply_options(mctx, *s, *h);
    mctx->sync_after_user_call();
    if (s->nonblock) return set_errno_ret(EINPROGRESS);
    mctx->run_until([&] { return !mctx->socks[size_t(sockid)].connecting; }, net::never);
    s = &mctx->socks[size_t(sockid)];
    if (s->connected) return 0;
    const int err = s->so_error ? s->so_error : ECONNREFUSED;
    s->so_error = 0;
    return set_errno_ret(err);
} catch (...) {
    return api_exception("mtcp_connect");
}

int mtcp_close(mctx_t mctx, int sockid) try {
    MVNF_ROUTE(mctx, -1, mtcp_close(mctx, sockid));
    if (!lookup(mctx, sockid)) return -1;
    return close_socket(mctx, sockid, false);
} catch (...) {
    return api_exception("mtcp_close");
}

int mtcp_abort(mctx_t mctx, int sockid) try {
    MVNF_ROUTE(mctx, -1, mtcp_abort(mctx, sockid));
    socket_entry* s = lookup(mctx, sockid);
    if (!s) return -1;
    if (s->kind != sock_kind::stream && s->kind != sock_kind::listener)
        return set_errno_ret(ENOTSOCK);
    return close_socket(mctx, sockid, true);
} catch (...) {
    return api_exception("mtcp_abort");
}

int mtcp_shutdown(mctx_t mctx, int sockid, int how) try {
    MVNF_ROUTE(mctx, -1, mtcp_shutdown(mctx, sockid, how));
    socket_entry* s = lookup(mctx, sockid);
    if (!s) return -1;
    if (!is_socket(*s)) return set_errno_ret(ENOTSOCK);
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) return set_errno_ret(EINVAL);
    if (s->kind != sock_kind::stream || !s->connected) return set_errno_ret(ENOTCONN);
    if (how != SHUT_WR) s->shut_rd = true;
    if (how != SHUT_RD && !s->shut_wr) {
        s->shut_wr = true;
        auto r = mctx->tcp->shutdown_write(s->h, mctx->now);
        if (!r) return set_errno_ret(map_tcp_error(r.error()));
    }
    mctx->notify(sockid);
    mctx->sync_after_user_call();
    return 0;
} catch (...) {
    return api_exception("mtcp_shutdown");
}

int mtcp_getsockname(mctx_t mctx, int sockid, struct sockaddr* addr, socklen_t* addrlen) try {
    MVNF_ROUTE(mctx, -1, mtcp_getsockname(mctx, sockid, addr, addrlen));
    socket_entry* s = lookup(mctx, sockid);
    if (!s) return -1;
    if (!is_socket(*s)) return set_errno_ret(ENOTSOCK);
    if (!addr || !addrlen) return set_errno_ret(EFAULT);
    ipv4_addr ip = s->local_ip;
    if (s->kind == sock_kind::stream && s->connected) ip = mctx->st->local_ip();
    write_sockaddr(addr, addrlen, ip, s->local_port);
    return 0;
} catch (...) {
    return api_exception("mtcp_getsockname");
}

int mtcp_getpeername(mctx_t mctx, int sockid, struct sockaddr* addr, socklen_t* addrlen) try {
    MVNF_ROUTE(mctx, -1, mtcp_getpeername(mctx, sockid, addr, addrlen));
    socket_entry* s = lookup(mctx, sockid);
    if (!s) return -1;
    if (!is_socket(*s)) return set_errno_ret(ENOTSOCK);
    if (!addr || !addrlen) return set_errno_ret(EFAULT);
    if (!s->connected) return set_errno_ret(ENOTCONN);
    write_sockaddr(addr, addrlen, s->peer_ip, s->peer_port);
    return 0;
} catch (...) {
    return api_exception("mtcp_getpeername");
}

int mtcp_pipe(mctx_t mctx, int pipeid[2]) try {
    MVNF_ROUTE(mctx, -1, mtcp_pipe(mctx, pipeid));
    if (!enter(mctx)) return -1;
    if (!pipeid) return set_errno_ret(EFAULT);
    size_t slot = mctx->pipes.size();
    for (size_t i = 0; i < mctx->pipes.size(); ++i)
        if (mctx->pipes[i].data.empty()) slot = i;
    const int r = mctx->alloc_sock(sock_kind::pipe);
    if (r < 0) return set_errno_ret(EMFILE);
    const int w = mctx->alloc_sock(sock_kind::pipe);
    if (w < 0) {
        mctx->free_sock(r);
        return set_errno_ret(EMFILE);
    }
    if (slot == mctx->pipes.size()) mctx->pipes.emplace_back();
    pipe_buf& p = mctx->pipes[slot];
    p = pipe_buf{};
    p.data.resize(65536);  // Linux's default pipe capacity
    mctx->socks[size_t(r)].pipe = int(slot);
    mctx->socks[size_t(w)].pipe = int(slot);
    mctx->socks[size_t(w)].pipe_writer = true;
    pipeid[0] = r;
    pipeid[1] = w;
    return 0;
} catch (...) {
    return api_exception("mtcp_pipe");
}

}  // extern "C"
