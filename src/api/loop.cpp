// The per-core loop of run-to-completion mode: one stack iteration per call,
// TCP events and UDP arrivals turned into epoll notifications, and the idle
// policy (busy-poll, then block on the queue). Called by every blocking API call.
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>

#include "api/context.hpp"

namespace mvnf::api {

nanos mono_now() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return nanos(ts.tv_sec) * 1000000000ull + nanos(ts.tv_nsec);
}

static pid_t my_tid() {
    // Cached: the ownership check runs on every call and must not be a syscall.
    static thread_local pid_t tid = pid_t(syscall(SYS_gettid));
    return tid;
}

bool enter(mtcp_context* ctx) {
    instance* inst = the_instance();
    if (!ctx || !inst) return set_errno_ret(EINVAL), false;
    bool known = false;
    for (auto* c : inst->ctxs) known |= c == ctx;
    if (!known) return set_errno_ret(EINVAL), false;
    if (ctx->owner != my_tid()) {
        if (!ctx->warned.exchange(true))
            std::fprintf(stderr,
                         "mtcp: context of core %d used from thread %d, but it belongs to "
                         "thread %d (run-to-completion: each context is driven by the thread "
                         "that created it)\n",
                         ctx->cpu, int(my_tid()), int(ctx->owner));
        return set_errno_ret(EPERM), false;
    }
    return true;
}

pid_t current_tid() { return my_tid(); }

}  // namespace mvnf::api

using namespace mvnf;
using namespace mvnf::api;

unsigned mtcp_context::run_once() {
    now = mono_now();
    tcp_adapter->set_now(now);
    const unsigned n = st->poll(now);
    tcp::event ev;
    while (tcp->next_event(ev)) {
        if (ev.h.index >= handle_to_sock.size()) continue;
        const int sid = handle_to_sock[ev.h.index];
        socket_entry* s = sock(sid);
        if (!s || !(s->h == ev.h)) continue;  // closed by the user meanwhile
        if (s->connecting) {
            if (ev.flags & tcp::ev::connected) {
                s->connecting = false;
                s->connected = true;
            } else if (ev.flags & (tcp::ev::error | tcp::ev::closed)) {
                s->connecting = false;
                auto i = tcp->info(s->h);
                s->so_error = i ? map_tcp_error(i->err == tcp::error::none
                                                    ? tcp::error::connection_refused
                                                    : i->err)
                                : ECONNREFUSED;
            }
        } else if (s->connected && (ev.flags & tcp::ev::error) && !s->so_error) {
            auto i = tcp->info(s->h);
            if (i && i->err != tcp::error::none) s->so_error = map_tcp_error(i->err);
        }
        notify(sid);
    }
    for (int sid : udp_socks) {
        socket_entry& s = socks[size_t(sid)];
        const size_t queued = st->udp_queued(s.udp);
        if (queued > s.udp_seen) notify(sid);
        s.udp_seen = queued;
    }
    publish_stats(*this);
    if (!inst->conf.stat_print.empty()) stat_tick(*this);
    return n;
}

void mtcp_context::block_idle(nanos deadline) {
    const nanos spin = nanos(inst->conf.busy_poll_us) * 1000;
    if (now - idle_since < spin) return;  // still busy-polling
    nanos d = std::min(st->next_deadline(), deadline);
    if (!inst->conf.stat_print.empty()) d = std::min(d, stat_next);
    if (d <= now) return;
    const int64_t t = d == net::never ? -1 : int64_t(d - now);
    (void)q->wait(t);
}

void mtcp_context::sync_after_user_call() { st->flush(); }
