// The per-core loop of run-to-completion mode: one stack iteration per call,
// TCP events and UDP arrivals turned into epoll notifications, and the idle
// policy (busy-poll, then block on the queue). Called by every blocking API call.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>

#include <thread>

#include "api/context.hpp"

namespace mvnf::api {

static pid_t my_tid() {
    // Cached: the ownership check runs on every call and must not be a syscall.
    static thread_local pid_t tid = pid_t(syscall(SYS_gettid));
    return tid;
}

route route_call(mtcp_context* ctx) {
    instance* inst = the_instance();
    if (!ctx || !inst) return set_errno_ret(EINVAL), route::fail;
    bool known = false;
    for (const auto& c : inst->ctxs) known |= c.load(std::memory_order_acquire) == ctx;
    if (!known) return set_errno_ret(EINVAL), route::fail;
    const pid_t me = my_tid();
    if (ctx->threaded.load(std::memory_order_acquire)) {
        if (me == ctx->stack_tid.load(std::memory_order_acquire)) return route::here;
        if (me == ctx->owner) return route::forward;
    } else if (me == ctx->owner) {
        return route::here;
    }
    if (!ctx->warned.exchange(true))
        std::fprintf(stderr,
                     "mtcp: context of core %d used from thread %d, but it belongs to "
                     "thread %d (each context serves the thread that created it%s)\n",
                     ctx->cpu, int(me), int(ctx->owner),
                     ctx->threaded.load(std::memory_order_relaxed)
                         ? "; its stack thread forwards nothing else"
                         : "");
    return set_errno_ret(EPERM), route::fail;
}

bool enter(mtcp_context* ctx) { return route_call(ctx) == route::here; }

pid_t current_tid() { return my_tid(); }

}  // namespace mvnf::api

using namespace mvnf;
using namespace mvnf::api;

void mtcp_context::note_write(int sockid) {
    socket_entry& s = socks[size_t(sockid)];
    if (s.out_pending) return;
    if (pending_out.size() == pending_out.capacity()) flush_writes();  // never grows
    s.out_pending = true;
    pending_out.push_back(sockid);
}

void mtcp_context::flush_writes() {
    in_iteration = false;
    if (pending_out.empty()) return;
    for (int sid : pending_out) {
        socket_entry& s = socks[size_t(sid)];
        if (!s.out_pending) continue;  // closed (and maybe reused) meanwhile
        s.out_pending = false;
        if (s.h.valid()) tcp->push(s.h, now);
    }
    pending_out.clear();
}

// push_writes = false: the stack thread between the calls of one run
// (thread mode), where a write may still be followed by the rest of its
// iteration.
unsigned mtcp_context::run_once(bool push_writes) {
    now = clk.now();
    tcp_adapter->set_now(now);
    // The end of the application's loop iteration: its writes leave
    // together, in the TX batch this poll flushes.
    if (push_writes) flush_writes();
    const unsigned n = st->poll(now);
    tcp::event ev;
    while (tcp->next_event(ev)) {
        if (ev.h.index >= handle_to_sock.size()) continue;
        const int sid = handle_to_sock[ev.h.index];
        socket_entry* s = sock(sid);
        if (!s || !(s->h == ev.h)) continue;  // closed by the user meanwhile
        on_tcp_event(sid, ev.flags);
    }
    // The event ring was full at some point: events were lost, and with them
    // wake-ups (a connect completing, data arriving). Readiness itself is
    // kept by the connections, so rebuild from it: every TCP socket is
    // looked at once and notified. Rare (the ring is sized to the pool; see
    // tcp_event_queue), and the only way no waiter sleeps forever.
    if (const uint64_t lost = tcp->counters().events_dropped; lost != events_lost_seen) {
        events_lost_seen = lost;
        for (size_t i = 0; i < handle_to_sock.size(); ++i) {
            const int sid = handle_to_sock[i];
            socket_entry* s = sock(sid);
            if (!s || !s->h.valid() || s->h.index != i) continue;
            uint32_t flags = 0;
            if (s->connecting) {
                const auto inf = tcp->info(s->h);
                if (!inf || inf->st == tcp::state::closed || inf->err != tcp::error::none)
                    flags = tcp::ev::error | tcp::ev::closed;
                else if (tcp::is_synchronized(inf->st))
                    flags = tcp::ev::connected;
            } else {
                flags = tcp->readiness(s->h) & tcp::ev::error;
            }
            on_tcp_event(sid, flags);
        }
    }
    for (int sid : udp_socks) {
        socket_entry& s = socks[size_t(sid)];
        const size_t queued = st->udp_queued(s.udp);
        if (queued > s.udp_seen) notify(sid);
        s.udp_seen = queued;
    }
    maybe_publish_stats(*this);
    if (!inst->conf.stat_print.empty()) stat_tick(*this);
    return n;
}

// Socket state a TCP event changes (connect completion, the error SO_ERROR
// reports), then the readiness notification.
void mtcp_context::on_tcp_event(int sid, uint32_t flags) {
    socket_entry* s = sock(sid);
    if (s->connecting) {
        if (flags & tcp::ev::connected) {
            s->connecting = false;
            s->connected = true;
        } else if (flags & (tcp::ev::error | tcp::ev::closed)) {
            s->connecting = false;
            auto i = tcp->info(s->h);
            s->so_error = i ? map_tcp_error(i->err == tcp::error::none
                                                ? tcp::error::connection_refused
                                                : i->err)
                            : ECONNREFUSED;
        }
    } else if (s->connected && (flags & tcp::ev::error) && !s->so_error) {
        auto i = tcp->info(s->h);
        if (i && i->err != tcp::error::none) s->so_error = map_tcp_error(i->err);
    }
    notify(sid);
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

// ---- thread_mode = thread ---------------------------------------------------
// The stack thread polls the port and the mailbox. Where the port queue is
// interruptible (every port backend: shm, the fd backends through an
// eventfd, and the sw dispatcher's core queues) the owner ends the stack
// thread's wait when it posts a call (call() below), so an idle stack
// thread blocks until its next timer and a call costs one wake-up.
// Elsewhere the wait cannot be interrupted: the thread blocks in slices of
// at most thread_block_ns, which bounds the latency of the first call after
// an idle period. Either way, after serving a call it keeps polling for
// thread_call_grace_ns: applications make calls in runs (epoll_wait, then
// read and write on what it returned), and the rest of the run is then
// taken without a wake-up (or a slice) each.
static constexpr int64_t thread_block_ns = 1'000'000;
static constexpr nanos thread_call_grace_ns = 200'000;

static long futex(std::atomic<uint32_t>* w, int op, uint32_t val) {
    return syscall(SYS_futex, reinterpret_cast<uint32_t*>(w), op, val, nullptr, nullptr, 0);
}

void mtcp_context::stack_main() {
    idle_since = clk.now();
    nanos last_call = 0;
    const bool wakeable = q->interruptible();
    while (!stack_stop.load(std::memory_order_acquire)) {
        if (api::call_req* r = mailbox.exchange(nullptr, std::memory_order_acquire)) {
            r->fn(r->arg);
            // After this exchange `r` may be gone: only its address is used
            // (FUTEX_WAKE reads no memory; a stale wake-up is spurious for
            // whoever else waits there, and futex waiters loop).
            std::atomic<uint32_t>* const word = &r->state;
            if (word->exchange(api::req_done, std::memory_order_acq_rel) == api::req_sleeping)
                (void)futex(word, FUTEX_WAKE_PRIVATE, 1);
            idle_since = now;
            last_call = clk.now();
            continue;
        }
        // Writes are pushed once the run of calls has ended (no call for
        // thread_call_grace_ns) or by the next call that runs the stack
        // (epoll_wait): a lone write waits at most that long.
        const unsigned n = run_once(clk.now() - last_call >= thread_call_grace_ns);
        if (n) {
            idle_since = now;
            continue;
        }
        const nanos spin = nanos(inst->conf.busy_poll_us) * 1000;
        if (now - idle_since < spin) continue;
        if (now - last_call < thread_call_grace_ns) {
            // Likely more calls coming: keep polling, but let an owner that
            // shares our CPU run (it is the one making them).
            std::this_thread::yield();
            continue;
        }
        nanos d = st->next_deadline();
        if (!wakeable) d = std::min(d, now + nanos(thread_block_ns));
        if (!inst->conf.stat_print.empty()) d = std::min(d, stat_next);
        if (d <= now) continue;
        // Dekker with call(): either the owner sees stack_sleeping and
        // interrupts the wait, or we see its posted call and do not wait.
        stack_sleeping.store(true, std::memory_order_seq_cst);
        if (!mailbox.load(std::memory_order_seq_cst) && !stack_stop.load(std::memory_order_seq_cst))
            (void)q->wait(d == net::never ? -1 : int64_t(d - now));
        stack_sleeping.store(false, std::memory_order_relaxed);
    }
}

void mtcp_context::start_stack_thread() {
    stack_tid.store(0, std::memory_order_relaxed);
    threaded.store(true, std::memory_order_release);  // from now on the owner forwards
    std::atomic<bool> up{false};
    stack_thread = std::thread([this, &up] {
        stack_tid.store(current_tid(), std::memory_order_release);
        up.store(true, std::memory_order_release);
        stack_main();
    });
    while (!up.load(std::memory_order_acquire)) std::this_thread::yield();
}

void mtcp_context::stop_stack_thread() {
    if (!stack_thread.joinable()) return;
    stack_stop.store(true, std::memory_order_seq_cst);
    if (q->interruptible() && stack_sleeping.load(std::memory_order_seq_cst)) q->interrupt();
    stack_thread.join();
    threaded.store(false, std::memory_order_release);  // the owner drives what is left (teardown)
}

void mtcp_context::call(api::call_req& r) {
    mailbox.store(&r, std::memory_order_seq_cst);
    if (stack_sleeping.load(std::memory_order_seq_cst) && q->interruptible()) q->interrupt();
    // Spin while the stack thread is likely busy-polling, then sleep.
    for (int i = 0; i < 4096; ++i) {
        if (r.state.load(std::memory_order_acquire) == api::req_done) return;
        if ((i & 63) == 63) std::this_thread::yield();
    }
    uint32_t expected = api::req_pending;
    if (!r.state.compare_exchange_strong(expected, api::req_sleeping, std::memory_order_acq_rel))
        return;  // done meanwhile
    while (r.state.load(std::memory_order_acquire) != api::req_done)
        (void)futex(&r.state, FUTEX_WAIT_PRIVATE, api::req_sleeping);
}
