// pd::host's epoll (Linux's semantics over our sockets): an instance is a
// descriptor of its own holding an interest list. Level-triggered entries
// report whatever poll_events() says now; edge-triggered ones (EPOLLET)
// only after a wake-up — an event the TCP layer posted for the socket
// (data, an ACK that freed room, a connection, an error: what wakes
// Linux's waiters) — or their insertion, and then once (ep_poll_callback
// queues an item once per wake-up; ep_send_events drops an EPOLLET item
// after reporting it). EPOLLONESHOT disables an entry once reported until
// EPOLL_CTL_MOD.
#include <cerrno>

#include "packetdrill/host.hpp"

namespace mvnf::pd {

long host::epoll_create(int size) {
    if (size <= 0) return -EINVAL;  // as Linux's epoll_create
    return open_slot(kind::epoll);
}

long host::epoll_ctl(int epfd, int op, int fd, const epoll_event* ev) {
    sock* ep = find(epfd);
    if (!ep) return -EBADF;
    const sock* s = find(fd);
    if (!s) return -EBADF;
    if (ep->k != kind::epoll || fd == epfd) return -EINVAL;
    if (s->k == kind::epoll) return -EINVAL;  // nested instances: not offered
    if (op != EPOLL_CTL_DEL && !ev) return -EFAULT;
    ep_reg* r = nullptr;
    for (auto& x : ep->regs)
        if (x.fd == fd) r = &x;
    // EPOLLERR and EPOLLHUP are always reported (epoll_ctl adds them).
    const uint32_t events = ev ? ev->events | EPOLLERR | EPOLLHUP : 0;
    switch (op) {
        case EPOLL_CTL_ADD:
            if (r) return -EEXIST;
            // Insertion checks readiness at once (ep_insert): pending.
            ep->regs.push_back({fd, events, ev->data.u64, true});
            return 0;
        case EPOLL_CTL_MOD:
            if (!r) return -ENOENT;
            r->events = events, r->data = ev->data.u64, r->pending = true;
            return 0;
        case EPOLL_CTL_DEL:
            if (!r) return -ENOENT;
            ep->regs.erase(ep->regs.begin() + (r - ep->regs.data()));
            return 0;
        default: return -EINVAL;
    }
}

long host::epoll_wait(lock& lk, int epfd, epoll_event* evs, int maxevents, int timeout_ms) {
    sock* ep = find(epfd);
    if (!ep) return -EBADF;
    if (ep->k != kind::epoll || maxevents <= 0) return -EINVAL;
    if (!evs) return -EFAULT;
    long n = 0;
    // Reports (and, for EPOLLET / EPOLLONESHOT entries, consumes) what is
    // ready; with report = false only says whether anything is.
    auto collect = [&](bool report) {
        n = 0;
        for (auto& r : ep->regs) {
            if (n == maxevents) break;
            const uint32_t interest = r.events & ~uint32_t(EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE);
            const uint32_t got = uint32_t(uint16_t(poll_events(r.fd))) & interest;
            const bool edge = r.events & EPOLLET;
            if (!got || (edge && !r.pending)) {
                if (report && edge) r.pending = false;  // woken but not ready: dropped
                continue;
            }
            if (!report) return true;
            evs[n].events = got;
            evs[n].data.u64 = r.data;
            ++n;
            if (edge) r.pending = false;
            if (r.events & EPOLLONESHOT) r.events &= uint32_t(EPOLLONESHOT | EPOLLET);
        }
        return n > 0;
    };
    const nanos limit = timeout_ms < 0 ? _now + _o.max_wait : _now + net::msec(uint64_t(timeout_ms));
    (void)block_until_fn(lk, timeout_ms == 0, [&] { return collect(false); }, limit, timeout_ms > 0);
    ep = find(epfd);  // the table may have moved while blocked
    if (!ep || ep->k != kind::epoll) return -EBADF;
    collect(true);
    return n;
}

void host::epoll_wake(tcp::handle h) {
    int fd = -1;
    for (size_t i = 0; i < _socks.size(); ++i)
        if ((_socks[i].k == kind::conn || _socks[i].k == kind::listener) && _socks[i].h == h)
            fd = _socks[i].kfd.fd;
    if (fd < 0) return;
    for (auto& ep : _socks)
        if (ep.k == kind::epoll)
            for (auto& r : ep.regs)
                if (r.fd == fd) r.pending = true;
}

void host::epoll_forget(int fd) {
    for (auto& ep : _socks)
        if (ep.k == kind::epoll)
            std::erase_if(ep.regs, [&](const ep_reg& r) { return r.fd == fd; });
}

}  // namespace mvnf::pd
