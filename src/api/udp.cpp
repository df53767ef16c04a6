// The UDP extension (mudp_*): datagram sockets on the per-core stack. sendto
// copies and returns the byte count; recvfrom returns -1/EAGAIN when empty on
// a non-blocking socket and runs the stack until a datagram arrives otherwise.
#include "api/context.hpp"
#include "mtcp/mudp_api.h"

namespace mvnf::api {

socket_entry* lookup(mtcp_context* c, int sockid);

static int udp_errno(net::udp_errc e) {
    switch (e) {
        case net::udp_errc::no_sockets: return EMFILE;
        case net::udp_errc::bad_socket: return EBADF;
        case net::udp_errc::port_in_use: return EADDRINUSE;
        case net::udp_errc::no_ports: return EAGAIN;  // Linux: ephemeral range exhausted
        case net::udp_errc::would_block: return EAGAIN;
        case net::udp_errc::too_big: return EMSGSIZE;
        case net::udp_errc::no_buffers: return ENOBUFS;
        case net::udp_errc::no_route: return ENETUNREACH;
        case net::udp_errc::unresolved: return EHOSTUNREACH;
    }
    return EIO;
}

static socket_entry* dgram(mtcp_context* c, int sockid) {
    socket_entry* s = lookup(c, sockid);
    if (!s) return nullptr;
    if (s->kind == sock_kind::epoll || s->kind == sock_kind::pipe)
        return set_errno_ret(ENOTSOCK), nullptr;
    if (s->kind != sock_kind::dgram) return set_errno_ret(EOPNOTSUPP), nullptr;
    return s;
}

}  // namespace mvnf::api

using namespace mvnf;
using namespace mvnf::api;

extern "C" {

ssize_t mudp_sendto(mctx_t mctx, int sockid, const void* buf, size_t len, int flags,
                    const struct sockaddr* dest_addr, socklen_t addrlen) try {
    MVNF_ROUTE(mctx, -1, mudp_sendto(mctx, sockid, buf, len, flags, dest_addr, addrlen));
    socket_entry* s = dgram(mctx, sockid);
    if (!s) return -1;
    if (flags != 0) return set_errno_ret(EOPNOTSUPP);
    if (!buf && len) return set_errno_ret(EFAULT);
    ipv4_addr ip = s->peer_ip;
    uint16_t port = s->peer_port;
    if (dest_addr) {
        int e = 0;
        if (!read_sockaddr(dest_addr, addrlen, ip, port, e)) return set_errno_ret(e);
    } else if (!s->connected) {
        return set_errno_ret(EDESTADDRREQ);
    }
    if (ip.is_any() || port == 0) return set_errno_ret(EINVAL);
    if (!s->bound) {  // implicit bind to an ephemeral port, as Linux
        auto b = mctx->st->udp_bind(s->udp, 0);
        if (!b) return set_errno_ret(udp_errno(b.error()));
        s->bound = true;
        s->local_port = *b;
    }
    mctx->now = mctx->clk.now();
    auto r = mctx->st->udp_sendto(s->udp, bytes(static_cast<const std::byte*>(buf), len), ip, port,
                                  mctx->now);
    mctx->sync_after_user_call();
    if (!r) return set_errno_ret(udp_errno(r.error()));
    return ssize_t(*r);
} catch (...) {
    return api_exception("mudp_sendto");
}

ssize_t mudp_recvfrom(mctx_t mctx, int sockid, void* buf, size_t len, int flags,
                      struct sockaddr* src_addr, socklen_t* addrlen) try {
    MVNF_ROUTE(mctx, -1, mudp_recvfrom(mctx, sockid, buf, len, flags, src_addr, addrlen));
    socket_entry* s = dgram(mctx, sockid);
    if (!s) return -1;
    if (flags & ~MSG_PEEK) return set_errno_ret(EOPNOTSUPP);
    if (flags & MSG_PEEK) return set_errno_ret(EOPNOTSUPP);  // the stack has no peek
    if (!buf && len) return set_errno_ret(EFAULT);
    const int u = s->udp;
    // Non-blocking (the common case under epoll): one call into the stack,
    // which says itself whether anything was queued and what is left.
    if (!s->nonblock && mctx->st->udp_queued(u) == 0) {
        mctx->run_until([&] { return mctx->st->udp_queued(u) > 0; }, net::never);
        s = &mctx->socks[size_t(sockid)];
    }
    auto r = mctx->st->udp_recvfrom(u, mut_bytes(static_cast<std::byte*>(buf), len));
    if (!r) {
        s->udp_seen = 0;  // would_block: nothing queued (or a bad socket: nothing either)
        return set_errno_ret(udp_errno(r.error()));
    }
    s->udp_seen = r->queued;
    write_sockaddr(src_addr, addrlen, r->src, r->src_port);
    return ssize_t(r->len);
} catch (...) {
    return api_exception("mudp_recvfrom");
}

int mudp_close(mctx_t mctx, int sockid) try {
    MVNF_ROUTE(mctx, -1, mudp_close(mctx, sockid));
    socket_entry* s = dgram(mctx, sockid);
    if (!s) return -1;
    return close_socket(mctx, sockid, false);
} catch (...) {
    return api_exception("mudp_close");
}

}  // extern "C"
