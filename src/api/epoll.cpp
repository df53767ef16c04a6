// mtcp_epoll_*: several instances per context, each with an intrusive ready
// list fed by notify(). Level-triggered entries stay listed while ready;
// edge-triggered ones report once per notification; ONESHOT disarms.
#include <cstdio>

#include "api/context.hpp"
#include "mtcp/mtcp_epoll.h"

namespace mvnf::api {

socket_entry* lookup(mtcp_context* c, int sockid);

static constexpr uint32_t always_reported = MTCP_EPOLLERR | MTCP_EPOLLHUP;
static constexpr uint32_t known_events = MTCP_EPOLLIN | MTCP_EPOLLPRI | MTCP_EPOLLOUT |
                                         MTCP_EPOLLERR | MTCP_EPOLLHUP | MTCP_EPOLLRDNORM |
                                         MTCP_EPOLLRDBAND | MTCP_EPOLLWRNORM | MTCP_EPOLLWRBAND |
                                         MTCP_EPOLLMSG | MTCP_EPOLLRDHUP | MTCP_EPOLLONESHOT |
                                         MTCP_EPOLLET;

// Pops up to maxevents ready entries of epoll `epid`, in list order. The cost
// is the entries looked at: those reported plus those found no longer ready
// (each dropped once per notification), never the whole list. Level-triggered
// entries reported here go back to the tail, behind the entry that was last
// when the call began; stopping after that one looks at each entry at most
// once per call, and the next call starts with the entries not yet reported,
// so with a small maxevents every ready socket takes its turn (round robin).
static int collect(mtcp_context& c, int epid, mtcp_epoll_event* out, int maxevents) {
    const int last = c.socks[size_t(epid)].ready_tail;
    int n = 0;
    for (bool more = last >= 0; more && n < maxevents;) {
        const int rid = c.socks[size_t(epid)].ready_head;
        if (rid < 0) break;  // cannot happen: `last` stays listed until popped
        more = rid != last;
        ++c.epoll_examined;
        ready_remove(c, rid);
        epoll_reg& r = registration(c, rid);
        const uint32_t level = c.poll_events(rid / max_regs);
        uint32_t ev = level & (r.events | always_reported);
        // Linux reports EPOLLRDNORM/WRNORM alongside IN/OUT when asked.
        if ((r.events & MTCP_EPOLLRDNORM) && (level & MTCP_EPOLLIN)) ev |= MTCP_EPOLLRDNORM;
        if ((r.events & MTCP_EPOLLWRNORM) && (level & MTCP_EPOLLOUT)) ev |= MTCP_EPOLLWRNORM;
        if (!ev) continue;  // no longer ready: dropped until the next notification
        out[n].events = ev;
        out[n].data.u64 = r.data;
        ++n;
        if (r.events & MTCP_EPOLLONESHOT) r.disabled = true;
        else if (!(r.events & MTCP_EPOLLET)) ready_push(c, rid);  // LT: stays listed
    }
    return n;
}

}  // namespace mvnf::api

using namespace mvnf;
using namespace mvnf::api;

extern "C" {

int mtcp_epoll_create1(mctx_t mctx, int flags) try {
    MVNF_ROUTE(mctx, -1, mtcp_epoll_create1(mctx, flags));
    if (!enter(mctx)) return -1;
    if (flags & ~0x80000) return set_errno_ret(EINVAL);  // only EPOLL_CLOEXEC (ignored)
    const int id = mctx->alloc_sock(sock_kind::epoll);
    if (id < 0) return set_errno_ret(EMFILE);
    return id;
} catch (...) {
    return api_exception("mtcp_epoll_create1");
}

int mtcp_epoll_create(mctx_t mctx, int size) try {
    MVNF_ROUTE(mctx, -1, mtcp_epoll_create(mctx, size));
    if (!enter(mctx)) return -1;
    if (size <= 0) return set_errno_ret(EINVAL);
    return mtcp_epoll_create1(mctx, 0);
} catch (...) {
    return api_exception("mtcp_epoll_create");
}

int mtcp_epoll_ctl(mctx_t mctx, int epid, int op, int sockid, struct mtcp_epoll_event* event) try {
    MVNF_ROUTE(mctx, -1, mtcp_epoll_ctl(mctx, epid, op, sockid, event));
    socket_entry* ep = lookup(mctx, epid);
    if (!ep) return -1;
    if (ep->kind != sock_kind::epoll) return set_errno_ret(EINVAL);
    socket_entry* s = mctx->sock(sockid);
    if (!s) return set_errno_ret(EBADF);
    if (sockid == epid) return set_errno_ret(EINVAL);
    if (op != MTCP_EPOLL_CTL_DEL && !event) return set_errno_ret(EFAULT);
    if (op != MTCP_EPOLL_CTL_DEL && (event->events & ~known_events))
        return set_errno_ret(EINVAL);
    int slot = -1, free_slot = -1;
    for (int i = 0; i < max_regs; ++i) {
        if (s->regs[size_t(i)].epid == epid) slot = i;
        else if (s->regs[size_t(i)].epid < 0 && free_slot < 0) free_slot = i;
    }
    const int rid_base = sockid * max_regs;
    switch (op) {
        case MTCP_EPOLL_CTL_ADD: {
            if (slot >= 0) return set_errno_ret(EEXIST);
            if (free_slot < 0) return set_errno_ret(ENOSPC);
            epoll_reg& r = s->regs[size_t(free_slot)];
            r = epoll_reg{};
            r.epid = epid;
            r.events = event->events;
            r.data = event->data.u64;
            ready_push(*mctx, rid_base + free_slot);  // report what is ready already
            return 0;
        }
        case MTCP_EPOLL_CTL_MOD: {
            if (slot < 0) return set_errno_ret(ENOENT);
            epoll_reg& r = s->regs[size_t(slot)];
            r.events = event->events;
            r.data = event->data.u64;
            r.disabled = false;  // re-arms ONESHOT
            ready_push(*mctx, rid_base + slot);
            return 0;
        }
        case MTCP_EPOLL_CTL_DEL: {
            if (slot < 0) return set_errno_ret(ENOENT);
            ready_remove(*mctx, rid_base + slot);
            s->regs[size_t(slot)] = epoll_reg{};
            return 0;
        }
        default: return set_errno_ret(EINVAL);
    }
} catch (...) {
    return api_exception("mtcp_epoll_ctl");
}

int mtcp_epoll_wait(mctx_t mctx, int epid, struct mtcp_epoll_event* events, int maxevents,
                    int timeout) try {
    MVNF_ROUTE(mctx, -1, mtcp_epoll_wait(mctx, epid, events, maxevents, timeout));
    socket_entry* ep = lookup(mctx, epid);
    if (!ep) return -1;
    if (ep->kind != sock_kind::epoll) return set_errno_ret(EINVAL);
    if (maxevents <= 0) return set_errno_ret(EINVAL);
    if (!events) return set_errno_ret(EFAULT);
    const net::nanos start = mctx->clk.now();
    const net::nanos deadline =
        timeout < 0 ? net::never : start + net::msec(uint64_t(timeout));
    int n = 0;
    bool interrupted = false;
    mctx->run_until(
        [&] {
            n = collect(*mctx, epid, events, maxevents);
            if (n > 0) return true;
            // A registered SIGINT (signal.cpp) ends a wait that found
            // nothing, as in mTCP; a poll (timeout 0) leaves it for the next wait.
            if (timeout != 0 && mctx->interrupted.exchange(false, std::memory_order_acq_rel))
                interrupted = true;
            return interrupted;
        },
        deadline);
    if (interrupted) return set_errno_ret(EINTR);
    // The application now handles these events: its writes until it runs
    // the stack again are sent together (loop.cpp, flush_writes).
    if (n > 0) mctx->in_iteration = true;
    return n;
} catch (...) {
    return api_exception("mtcp_epoll_wait");
}

}  // extern "C"

// mTCP's debugging helper. mTCP names single events only (and asserts on
// anything else); a mask is spelled out here so that printing an event
// field as returned by mtcp_epoll_wait ("IN|RDHUP") works too.
extern "C" char* EventToString(uint32_t event) {
    static const struct {
        uint32_t bit;
        const char* name;
    } names[] = {{MTCP_EPOLLIN, "IN"},         {MTCP_EPOLLPRI, "PRI"},
                 {MTCP_EPOLLOUT, "OUT"},       {MTCP_EPOLLERR, "ERR"},
                 {MTCP_EPOLLHUP, "HUP"},       {MTCP_EPOLLRDNORM, "RDNORM"},
                 {MTCP_EPOLLRDBAND, "RDBAND"}, {MTCP_EPOLLWRNORM, "WRNORM"},
                 {MTCP_EPOLLWRBAND, "WRBAND"}, {MTCP_EPOLLMSG, "MSG"},
                 {MTCP_EPOLLRDHUP, "RDHUP"},   {MTCP_EPOLLONESHOT, "ONESHOT"},
                 {MTCP_EPOLLET, "ET"}};
    static char none[] = "NONE";
    if (event == 0) return none;
    // Longest result: every name and separator, plus "|0x" and 8 hex digits.
    static thread_local char buf[128];
    size_t len = 0;
    auto append = [&](const char* s) {
        if (len) buf[len++] = '|';
        while (*s) buf[len++] = *s++;
        buf[len] = '\0';
    };
    uint32_t rest = event;
    for (const auto& n : names)
        if (rest & n.bit) {
            append(n.name);
            rest &= ~n.bit;
        }
    if (rest) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "0x%x", rest);
        append(hex);
    }
    return buf;
}
