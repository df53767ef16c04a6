// The C boundary of libmvnf-packetdrill.so: packetdrill_interface_init()
// builds a pd::host from the --so_flags string and fills the function table.
// Each entry takes the host's lock, calls it, and turns -errno into errno.
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <new>
#include <fcntl.h>
#include <vector>

#include "packetdrill/host.hpp"
#include "packetdrill/packetdrill_interface.h"

namespace {

using mvnf::pd::host;

host* H(void* ud) { return static_cast<host*>(ud); }

long ret(long r) {
    if (r >= 0) return r;
    errno = int(-r);
    return -1;
}

// Runs f with the host locked (and spin detection reset): f(host&, lock&).
template <class F>
long call(void* ud, F f) {
    if (!ud) {
        errno = EBADF;
        return -1;
    }
    host& h = *H(ud);
    host::lock lk(h.mutex());
    h.note_call();
    return ret(f(h, lk));
}

long unsupported() { return -ENOSYS; }

void pd_free(void* ud) { delete H(ud); }

int pd_socket(void* ud, int domain, int type, int protocol) {
    return int(call(ud, [&](host& h, host::lock&) { return h.socket(domain, type, protocol); }));
}
int pd_bind(void* ud, int fd, const sockaddr* a, socklen_t l) {
    return int(call(ud, [&](host& h, host::lock&) { return h.bind(fd, a, l); }));
}
int pd_listen(void* ud, int fd, int backlog) {
    return int(call(ud, [&](host& h, host::lock&) { return h.listen(fd, backlog); }));
}
int pd_accept(void* ud, int fd, sockaddr* a, socklen_t* l) {
    return int(call(ud, [&](host& h, host::lock& lk) { return h.accept(lk, fd, a, l); }));
}
int pd_connect(void* ud, int fd, const sockaddr* a, socklen_t l) {
    return int(call(ud, [&](host& h, host::lock& lk) { return h.connect(lk, fd, a, l); }));
}
ssize_t pd_readv(void* ud, int fd, const iovec* iov, int n) {
    return call(ud, [&](host& h, host::lock& lk) { return h.readv(lk, fd, iov, n, 0); });
}
ssize_t pd_read(void* ud, int fd, void* buf, size_t count) {
    iovec v{buf, count};
    return pd_readv(ud, fd, &v, 1);
}
ssize_t pd_recv(void* ud, int fd, void* buf, size_t len, int flags) {
    iovec v{buf, len};
    return call(ud, [&](host& h, host::lock& lk) { return h.readv(lk, fd, &v, 1, flags); });
}
ssize_t pd_recvfrom(void* ud, int fd, void* buf, size_t len, int flags, sockaddr* src,
                    socklen_t* srclen) {
    (void)src;
    if (srclen) *srclen = 0;  // connected TCP: no address, as Linux
    return pd_recv(ud, fd, buf, len, flags);
}
ssize_t pd_recvmsg(void* ud, int fd, msghdr* m, int flags) {
    if (!m) return ret(-EFAULT);
    m->msg_namelen = 0;
    m->msg_flags = 0;
    // Ancillary data: TCP_CM_INQ if TCP_INQ is on; nothing else is offered
    // (timestamps and the like are refused at setsockopt).
    return call(ud, [&](host& h, host::lock& lk) {
        const long n = h.readv(lk, fd, m->msg_iov, int(m->msg_iovlen), flags);
        if (n < 0) return n;
        const long c = h.recv_control(fd, m);
        return c < 0 ? c : n;
    });
}
ssize_t pd_writev(void* ud, int fd, const iovec* iov, int n) {
    return call(ud, [&](host& h, host::lock& lk) { return h.writev(lk, fd, iov, n, 0); });
}
ssize_t pd_write(void* ud, int fd, const void* buf, size_t count) {
    iovec v{const_cast<void*>(buf), count};
    return pd_writev(ud, fd, &v, 1);
}
ssize_t pd_send(void* ud, int fd, const void* buf, size_t len, int flags) {
    iovec v{const_cast<void*>(buf), len};
    return call(ud, [&](host& h, host::lock& lk) { return h.writev(lk, fd, &v, 1, flags); });
}
ssize_t pd_sendto(void* ud, int fd, const void* buf, size_t len, int flags, const sockaddr*,
                  socklen_t) {
    return pd_send(ud, fd, buf, len, flags);  // TCP ignores the address, as Linux
}
ssize_t pd_sendmsg(void* ud, int fd, const msghdr* m, int flags) {
    if (!m) return ret(-EFAULT);
    if (m->msg_controllen) return ret(-EOPNOTSUPP);
    return call(ud, [&](host& h, host::lock& lk) {
        return h.writev(lk, fd, m->msg_iov, int(m->msg_iovlen), flags);
    });
}
int pd_fcntl(void* ud, int fd, int cmd, ...) {
    va_list ap;
    va_start(ap, cmd);
    // F_SETFL/F_SETFD take an int; the getters take nothing (reading a
    // missing variadic argument is undefined, so only read it when due).
    long arg = 0;
    if (cmd == F_SETFL || cmd == F_SETFD) arg = va_arg(ap, int);
    va_end(ap);
    return int(call(ud, [&](host& h, host::lock&) { return h.fcntl(fd, cmd, arg); }));
}
int pd_ioctl(void* ud, int fd, unsigned long request, ...) {
    va_list ap;
    va_start(ap, request);
    void* arg = va_arg(ap, void*);  // every request we know takes a pointer
    va_end(ap);
    return int(call(ud, [&](host& h, host::lock&) { return h.ioctl(fd, request, arg); }));
}
int pd_close(void* ud, int fd) {
    return int(call(ud, [&](host& h, host::lock&) { return h.close(fd); }));
}
int pd_shutdown(void* ud, int fd, int how) {
    return int(call(ud, [&](host& h, host::lock&) { return h.shutdown(fd, how); }));
}
int pd_getsockopt(void* ud, int fd, int level, int name, void* val, socklen_t* len) {
    return int(call(ud, [&](host& h, host::lock&) { return h.getsockopt(fd, level, name, val, len); }));
}
int pd_setsockopt(void* ud, int fd, int level, int name, const void* val, socklen_t len) {
    return int(call(ud, [&](host& h, host::lock&) { return h.setsockopt(fd, level, name, val, len); }));
}
int pd_poll(void* ud, pollfd* fds, nfds_t n, int timeout) {
    return int(call(ud, [&](host& h, host::lock& lk) { return h.poll(lk, fds, n, timeout); }));
}
int pd_netdev_send(void* ud, const void* buf, size_t count) {
    if (!buf) return int(ret(-EFAULT));
    return int(call(ud, [&](host& h, host::lock&) {
        return h.netdev_send(mvnf::bytes(static_cast<const std::byte*>(buf), count));
    }));
}
int pd_netdev_receive(void* ud, void* buf, size_t* count, long long* time_usecs) {
    return int(call(ud, [&](host& h, host::lock&) { return h.netdev_receive(buf, count, time_usecs); }));
}
int pd_usleep(void* ud, useconds_t usec) {
    return int(call(ud, [&](host& h, host::lock& lk) {
        h.usleep(lk, usec);
        return 0L;
    }));
}
int pd_gettimeofday(void* ud, timeval* tv, struct timezone* tz) {
    if (!ud) return int(ret(-EBADF));
    host& h = *H(ud);
    host::lock lk(h.mutex());  // no note_call(): consecutive calls are the spin
    const uint64_t us = h.gettimeofday_us();
    if (tv) tv->tv_sec = time_t(us / 1000000), tv->tv_usec = suseconds_t(us % 1000000);
    if (tz) tz->tz_minuteswest = 0, tz->tz_dsttime = 0;
    return 0;
}
int pd_epoll_create(void* ud, int size) {
    return int(call(ud, [&](host& h, host::lock&) { return h.epoll_create(size); }));
}
int pd_epoll_ctl(void* ud, int epfd, int op, int fd, epoll_event* ev) {
    return int(call(ud, [&](host& h, host::lock&) { return h.epoll_ctl(epfd, op, fd, ev); }));
}
int pd_epoll_wait(void* ud, int epfd, epoll_event* evs, int maxevents, int timeout) {
    return int(call(ud, [&](host& h, host::lock& lk) {
        return h.epoll_wait(lk, epfd, evs, maxevents, timeout);
    }));
}
int pd_pipe(void* ud, int*) {
    return int(call(ud, [](host&, host::lock&) { return unsupported(); }));
}
int pd_splice(void* ud, int, loff_t*, int, loff_t*, size_t, unsigned int) {
    return int(call(ud, [](host&, host::lock&) { return unsupported(); }));
}

}  // namespace

extern "C" __attribute__((visibility("default"))) void packetdrill_interface_init(
    const char* flags, struct packetdrill_interface* ifc) {
    if (!ifc) return;
    mvnf::pd::options o = mvnf::pd::parse_flags(flags);
    for (const auto& u : o.unknown)
        std::fprintf(stderr, "mvnf-packetdrill: ignoring unknown or invalid flag '%s'\n", u.c_str());
    host* h = new (std::nothrow) host(o);
    *ifc = packetdrill_interface{};
    ifc->userdata = h;
    ifc->free = pd_free;
    ifc->socket = pd_socket;
    ifc->bind = pd_bind;
    ifc->listen = pd_listen;
    ifc->accept = pd_accept;
    ifc->connect = pd_connect;
    ifc->read = pd_read;
    ifc->readv = pd_readv;
    ifc->recv = pd_recv;
    ifc->recvfrom = pd_recvfrom;
    ifc->recvmsg = pd_recvmsg;
    ifc->write = pd_write;
    ifc->writev = pd_writev;
    ifc->send = pd_send;
    ifc->sendto = pd_sendto;
    ifc->sendmsg = pd_sendmsg;
    ifc->fcntl = pd_fcntl;
    ifc->ioctl = pd_ioctl;
    ifc->close = pd_close;
    ifc->shutdown = pd_shutdown;
    ifc->getsockopt = pd_getsockopt;
    ifc->setsockopt = pd_setsockopt;
    ifc->poll = pd_poll;
    ifc->netdev_send = pd_netdev_send;
    ifc->netdev_receive = pd_netdev_receive;
    ifc->usleep = pd_usleep;
    ifc->gettimeofday = pd_gettimeofday;
    ifc->epoll_create = pd_epoll_create;
    ifc->epoll_ctl = pd_epoll_ctl;
    ifc->epoll_wait = pd_epoll_wait;
    ifc->pipe = pd_pipe;
    ifc->splice = pd_splice;
}
