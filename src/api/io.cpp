// Data calls of the C API: read/recv/readv and write/writev on TCP streams,
// connected UDP sockets and in-context pipes. Blocking sockets run the stack
// (run to completion) until data, room or an error arrives.
#include <cstring>

#include "api/context.hpp"
#include "mtcp/mudp_api.h"

namespace mvnf::api {

socket_entry* lookup(mtcp_context* c, int sockid);

static ssize_t pipe_read(mtcp_context* c, int sockid, char* buf, size_t len, bool peek) {
    socket_entry* s = &c->socks[size_t(sockid)];
    if (s->pipe_writer) return set_errno_ret(EBADF);
    const int slot = s->pipe;
    auto readable = [&] {
        pipe_buf& p = c->pipes[size_t(slot)];
        return p.len > 0 || p.write_closed;
    };
    if (!readable()) {
        if (s->nonblock) return set_errno_ret(EAGAIN);
        c->run_until(readable, net::never);
    }
    pipe_buf& p = c->pipes[size_t(slot)];
    const size_t n = std::min(len, p.len);
    const size_t cap = p.data.size();
    for (size_t i = 0; i < n; ++i) buf[i] = p.data[(p.head + i) % cap];
    if (!peek && n) {
        p.head = (p.head + n) % cap;
        p.len -= n;
        for (size_t i = 0; i < c->socks.size(); ++i)  // the writer may have room now
            if (int(i) != sockid && c->socks[i].kind == sock_kind::pipe &&
                c->socks[i].pipe == slot)
                c->notify(int(i));
    }
    return ssize_t(n);
}

static ssize_t pipe_write(mtcp_context* c, int sockid, const char* buf, size_t len) {
    socket_entry* s = &c->socks[size_t(sockid)];
    if (!s->pipe_writer) return set_errno_ret(EBADF);
    const int slot = s->pipe;
    if (c->pipes[size_t(slot)].read_closed) return set_errno_ret(EPIPE);
    // One context drives both ends: blocking on a full pipe could never end.
    pipe_buf& p = c->pipes[size_t(slot)];
    const size_t cap = p.data.size();
    const size_t n = std::min(len, cap - p.len);
    if (n == 0) return set_errno_ret(EAGAIN);
    for (size_t i = 0; i < n; ++i) p.data[(p.head + p.len + i) % cap] = buf[i];
    p.len += n;
    for (size_t i = 0; i < c->socks.size(); ++i)
        if (int(i) != sockid && c->socks[i].kind == sock_kind::pipe && c->socks[i].pipe == slot)
            c->notify(int(i));
    return ssize_t(n);
}

ssize_t stream_recv(mtcp_context* c, int sockid, char* buf, size_t len, bool peek) {
    socket_entry* s = &c->socks[size_t(sockid)];
    if (s->kind == sock_kind::listener) return set_errno_ret(ENOTCONN);
    if (!s->h.valid()) return set_errno_ret(ENOTCONN);
    const tcp::handle h = s->h;
    // After SHUT_RD what still arrives is queued and read (as Linux, whose
    // tcp_recvmsg checks RCV_SHUTDOWN only once the queue is empty).
    if (s->shut_rd) {
        auto i = c->tcp->info(h);
        if (!i || i->recv_queued == 0) return 0;
    }
    const bool nonblock = s->nonblock;
    mut_bytes out(reinterpret_cast<std::byte*>(buf), len);
    auto once = [&] { return peek ? c->tcp->peek(h, out) : c->tcp->recv(h, out, c->now); };
    auto r = once();
    if (!r && r.error() == tcp::error::would_block && !nonblock) {
        c->run_until(
            [&] {
                r = once();
                return r || r.error() != tcp::error::would_block;
            },
            net::never);
    }
    c->sync_after_user_call();  // a window update may be queued
    if (!r) return set_errno_ret(map_tcp_error(r.error()));
    return ssize_t(*r);
}

// flags: MSG_MORE, MSG_EOR (their tcp::layer::send meanings), MSG_DONTWAIT.
ssize_t stream_send(mtcp_context* c, int sockid, const char* buf, size_t len, int flags) {
    socket_entry* s = &c->socks[size_t(sockid)];
    if (s->kind == sock_kind::listener || !s->h.valid()) return set_errno_ret(ENOTCONN);
    if (s->shut_wr) return set_errno_ret(EPIPE);
    const tcp::handle h = s->h;
    const bool nonblock = s->nonblock || (flags & MSG_DONTWAIT);
    const uint8_t tflags = uint8_t(((flags & MSG_MORE) ? tcp::layer::send_more : 0) |
                                   ((flags & MSG_EOR) ? tcp::layer::send_eor : 0));
    size_t done = 0;
    int error = 0;
    c->tcp_adapter->set_now(c->now);
    while (done < len) {
        // Inside a loop iteration the data is only queued (see note_write).
        const bool defer = c->in_iteration;
        auto r = c->tcp->send(h, bytes(reinterpret_cast<const std::byte*>(buf) + done,
                                       len - done),
                              c->now, !defer, tflags);
        if (r) {
            done += *r;
            if (defer) c->note_write(sockid);
            continue;
        }
        if (r.error() != tcp::error::would_block) {
            error = map_tcp_error(r.error());
            break;
        }
        if (nonblock) {
            if (done == 0) error = EAGAIN;
            break;
        }
        // Blocking: run the stack until ACKs make room (or the connection dies,
        // which the next send() reports).
        c->sync_after_user_call();
        c->run_until(
            [&] {
                return (c->tcp->readiness(h) &
                        (tcp::ev::writable | tcp::ev::error | tcp::ev::closed)) != 0;
            },
            net::never);
    }
    c->sync_after_user_call();
    if (done > 0) return ssize_t(done);
    return set_errno_ret(error ? error : EAGAIN);
}

ssize_t dispatch_read(mtcp_context* c, int sockid, char* buf, size_t len, bool peek) {
    socket_entry* s = &c->socks[size_t(sockid)];
    switch (s->kind) {
        case sock_kind::pipe: return pipe_read(c, sockid, buf, len, peek);
        case sock_kind::dgram:
            return mudp_recvfrom(c, sockid, buf, len, peek ? MSG_PEEK : 0, nullptr, nullptr);
        case sock_kind::epoll: return set_errno_ret(EINVAL);
        default: return stream_recv(c, sockid, buf, len, peek);
    }
}

ssize_t dispatch_write(mtcp_context* c, int sockid, const char* buf, size_t len, int flags = 0) {
    socket_entry* s = &c->socks[size_t(sockid)];
    // MSG_MORE and MSG_EOR are TCP's here (Linux's UDP corking is not offered).
    if (s->kind != sock_kind::stream && (flags & (MSG_MORE | MSG_EOR)))
        return set_errno_ret(EOPNOTSUPP);
    switch (s->kind) {
        case sock_kind::pipe: return pipe_write(c, sockid, buf, len);
        case sock_kind::dgram:
            if (!s->connected) return set_errno_ret(EDESTADDRREQ);
            return mudp_sendto(c, sockid, buf, len, 0, nullptr, 0);
        case sock_kind::epoll: return set_errno_ret(EINVAL);
        default: return stream_send(c, sockid, buf, len, flags);
    }
}

}  // namespace mvnf::api

using namespace mvnf;
using namespace mvnf::api;

extern "C" {

ssize_t mtcp_read(mctx_t mctx, int sockid, char* buf, size_t len) try {
    MVNF_ROUTE(mctx, -1, mtcp_read(mctx, sockid, buf, len));
    if (!lookup(mctx, sockid)) return -1;
    if (!buf && len) return set_errno_ret(EFAULT);
    return dispatch_read(mctx, sockid, buf, len, false);
} catch (...) {
    return api_exception("mtcp_read");
}

ssize_t mtcp_recv(mctx_t mctx, int sockid, char* buf, size_t len, int flags) try {
    MVNF_ROUTE(mctx, -1, mtcp_recv(mctx, sockid, buf, len, flags));
    if (!lookup(mctx, sockid)) return -1;
    if (flags & ~MSG_PEEK) return set_errno_ret(EOPNOTSUPP);
    if (!buf && len) return set_errno_ret(EFAULT);
    return dispatch_read(mctx, sockid, buf, len, (flags & MSG_PEEK) != 0);
} catch (...) {
    return api_exception("mtcp_recv");
}

int mtcp_readv(mctx_t mctx, int sockid, const struct iovec* iov, int numIOV) try {
    MVNF_ROUTE(mctx, -1, mtcp_readv(mctx, sockid, iov, numIOV));
    if (!lookup(mctx, sockid)) return -1;
    if (numIOV < 0 || numIOV > IOV_MAX || (!iov && numIOV)) return set_errno_ret(EINVAL);
    ssize_t total = 0;
    for (int i = 0; i < numIOV; ++i) {
        if (iov[i].iov_len == 0) continue;
        // Only the first read may block; later pieces take what is there.
        socket_entry& s = mctx->socks[size_t(sockid)];
        const bool saved = s.nonblock;
        if (total > 0) s.nonblock = true;
        const ssize_t n =
            dispatch_read(mctx, sockid, static_cast<char*>(iov[i].iov_base), iov[i].iov_len, false);
        mctx->socks[size_t(sockid)].nonblock = saved;
        if (n < 0) return total > 0 ? int(total) : -1;
        total += n;
        if (size_t(n) < iov[i].iov_len) break;
    }
    return int(total);
} catch (...) {
    return api_exception("mtcp_readv");
}

ssize_t mtcp_write(mctx_t mctx, int sockid, const char* buf, size_t len) try {
    MVNF_ROUTE(mctx, -1, mtcp_write(mctx, sockid, buf, len));
    if (!lookup(mctx, sockid)) return -1;
    if (!buf && len) return set_errno_ret(EFAULT);
    return dispatch_write(mctx, sockid, buf, len);
} catch (...) {
    return api_exception("mtcp_write");
}

ssize_t mtcp_send(mctx_t mctx, int sockid, const char* buf, size_t len, int flags) try {
    MVNF_ROUTE(mctx, -1, mtcp_send(mctx, sockid, buf, len, flags));
    if (!lookup(mctx, sockid)) return -1;
    if (flags & ~(MSG_MORE | MSG_EOR | MSG_DONTWAIT | MSG_NOSIGNAL))
        return set_errno_ret(EOPNOTSUPP);  // MSG_OOB, MSG_CONFIRM...
    if (!buf && len) return set_errno_ret(EFAULT);
    // A stream socket's MSG_DONTWAIT only; a pipe or datagram one must be
    // made non-blocking (mtcp_setsock_nonblock) for it.
    return dispatch_write(mctx, sockid, buf, len, flags);
} catch (...) {
    return api_exception("mtcp_send");
}

int mtcp_writev(mctx_t mctx, int sockid, const struct iovec* iov, int numIOV) try {
    MVNF_ROUTE(mctx, -1, mtcp_writev(mctx, sockid, iov, numIOV));
    if (!lookup(mctx, sockid)) return -1;
    if (numIOV < 0 || numIOV > IOV_MAX || (!iov && numIOV)) return set_errno_ret(EINVAL);
    // The pieces of one writev leave together, as one write would, even
    // outside a loop iteration.
    const bool was_in_iteration = mctx->in_iteration;
    mctx->in_iteration = true;
    ssize_t total = 0;
    int e = 0;
    for (int i = 0; i < numIOV; ++i) {
        if (iov[i].iov_len == 0) continue;
        const ssize_t n = dispatch_write(mctx, sockid, static_cast<const char*>(iov[i].iov_base),
                                         iov[i].iov_len);
        if (n < 0) {
            e = errno;
            break;
        }
        total += n;
        if (size_t(n) < iov[i].iov_len) break;
    }
    if (!was_in_iteration) {
        mctx->flush_writes();
        mctx->sync_after_user_call();
    }
    if (total == 0 && e) return set_errno_ret(e);
    return int(total);
} catch (...) {
    return api_exception("mtcp_writev");
}

}  // extern "C"
