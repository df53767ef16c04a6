// mtcp_register_signal: mTCP's SIGINT contract. A SIGINT handler registered
// here runs the application's handler and makes every context's blocked
// mtcp_epoll_wait return -1/EINTR, so an event loop sees the stop flag its
// handler set (mTCP's epserver and epwget stop on Ctrl-C this way, then
// destroy their contexts, which closes the port cleanly). Other signals are
// installed as mTCP's signal() does: restarting interrupted system calls.
#include <signal.h>

#include <atomic>

#include "api/context.hpp"

namespace mvnf::api {
namespace {

// The application's SIGINT handler (null: none). An atomic pointer so the
// signal handler reads it without a lock.
std::atomic<mtcp_sighandler_t> g_app_sigint{nullptr};

// Async-signal-safe: atomic stores and the queues' interrupt(), which is a
// futex wake or an eventfd write. A context is destroyed by its owner
// thread; a SIGINT racing with mtcp_destroy_context is the one case this
// does not cover (as in mTCP, stop the loops first, then destroy).
void on_sigint(int sig) {
    const int saved = errno;  // the interrupted code may be reading errno
    if (instance* inst = the_instance())
        for (auto& slot : inst->ctxs)
            if (mtcp_context* c = slot.load(std::memory_order_acquire)) {
                c->interrupted.store(true, std::memory_order_release);
                if (c->q->interruptible()) c->q->interrupt();
            }
    if (mtcp_sighandler_t h = g_app_sigint.load(std::memory_order_acquire)) h(sig);
    errno = saved;
}

}  // namespace
}  // namespace mvnf::api

using namespace mvnf::api;

extern "C" mtcp_sighandler_t mtcp_register_signal(int signum, mtcp_sighandler_t handler) {
    struct sigaction sa {}, old {};
    sigemptyset(&sa.sa_mask);
    const bool ours = signum == SIGINT && handler != SIG_IGN && handler != SIG_DFL;
    if (ours) {
        // No SA_RESTART: a thread blocked in a system call (a futex or poll
        // in the port's wait) returns at once; the flag does the rest.
        sa.sa_handler = &on_sigint;
    } else {
        sa.sa_handler = handler;
        sa.sa_flags = SA_RESTART;
    }
    mtcp_sighandler_t prev_app = nullptr;
    if (signum == SIGINT) prev_app = g_app_sigint.exchange(ours ? handler : nullptr);
    if (sigaction(signum, &sa, &old) != 0) {
        if (signum == SIGINT) g_app_sigint.store(prev_app);
        return SIG_ERR;  // errno from the kernel
    }
    // The previous handler as the application knows it, not our trampoline.
    if (old.sa_handler == &on_sigint) return prev_app;
    return old.sa_handler;
}
