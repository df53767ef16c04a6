// The API layer's state: the process-wide instance (config, ports, shared ARP
// table) and the per-core context behind an mctx_t (stack, TCP layer, socket
// table, epoll ready lists). Only src/api/*.cpp include this.
#pragma once

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <sys/types.h>

#include "api/clock.hpp"
#include "api/stat_http.hpp"
#include "config/config.hpp"
#include "dist/engine.hpp"
#include "net/arp/resolver.hpp"
#include "net/arp/table.hpp"
#include "net/stack.hpp"
#include "net/tcp/layer.hpp"
#include "net/tcp/transport_adapter.hpp"
#include "netio/port.hpp"
#include "mtcp/mtcp_api.h"
#include "mtcp/mtcp_stats.h"

namespace mvnf::api {

using net::nanos;

// Errors of the API layer's internals; mapped to errno only at the C boundary.
// Values are errno numbers so the mapping is the identity.
using err = int;

enum class sock_kind : uint8_t { unused, stream, listener, epoll, pipe, dgram };

// One registration of a socket in an epoll instance. A socket may sit in up
// to max_regs epoll instances; registrations of one instance that may be
// ready form an intrusive list (prev/next are registration ids).
struct epoll_reg {
    int epid = -1;  // owning epoll sockid, -1: slot free
    uint32_t events = 0;
    uint64_t data = 0;
    bool queued = false;    // on epid's ready list
    bool disabled = false;  // ONESHOT fired; re-armed by EPOLL_CTL_MOD
    int prev = -1, next = -1;
};
inline constexpr int max_regs = 4;

// handle_to_sock value of a connection the application closed while its FIN
// was still unacknowledged: no socket any more, but teardown waits for it.
inline constexpr int closed_mark = -2;

struct pipe_buf {
    std::vector<char> data;
    size_t head = 0, len = 0;
    bool write_closed = false, read_closed = false;
};

struct socket_entry {
    sock_kind kind = sock_kind::unused;
    bool nonblock = false;
    // addressing (host byte order)
    bool bound = false;
    ipv4_addr local_ip;
    uint16_t local_port = 0;
    ipv4_addr peer_ip;
    uint16_t peer_port = 0;
    // stream / listener
    tcp::handle h;
    bool connecting = false, connected = false;
    bool shut_rd = false, shut_wr = false;
    int so_error = 0;  // pending error reported once by SO_ERROR
    // dgram
    int udp = -1;
    size_t udp_seen = 0;  // datagrams queued at the last check (edge detection)
    // pipe
    int pipe = -1;
    bool pipe_writer = false;
    // epoll instance (when kind == epoll): its ready list
    int ready_head = -1, ready_tail = -1;
    // options
    bool reuseaddr = false, reuseport = false, keepalive = false, nodelay = false;
    bool linger_on = false;
    int linger_s = 0;
    bool out_pending = false;  // written this loop iteration, not yet pushed (on pending_out)
    int rcvbuf = 0, sndbuf = 0, maxseg = 0;
    int keepidle = 0, keepintvl = 0, keepcnt = 0;
    int user_timeout_ms = 0;  // TCP_USER_TIMEOUT; 0: off
    bool cork = false;        // TCP_CORK
    uint32_t notsent_lowat = 0;  // TCP_NOTSENT_LOWAT; 0: none
    tcp::congestion_algo cc = tcp::congestion_algo::cubic;
    std::array<epoll_reg, max_regs> regs{};
};

struct instance;

// thread_mode = thread: one forwarded API call. Lives on the application
// thread's stack while the stack thread runs fn(arg); `state` says when it is done.
struct call_req {
    void (*fn)(void*) = nullptr;
    void* arg = nullptr;
    // One word, so that finishing is a single atomic step: once the stack
    // thread stores req_done the owner may return and the request (on the
    // owner's stack) is gone. With a separate "caller sleeps" flag read after
    // the done store, the stack thread read freed stack (ASan, thread mode).
    std::atomic<uint32_t> state{0};  // req_pending, req_sleeping or req_done
};
enum : uint32_t { req_pending = 0, req_sleeping = 1, req_done = 2 };

}  // namespace mvnf::api

// The opaque type behind mctx_t (named by the public header).
struct mtcp_context {
    using nanos = mvnf::net::nanos;

    int cpu = 0;
    pid_t owner = 0;  // thread id of the creating thread
    // thread_mode = thread: the stack thread runs the stack and every call;
    // `owner` (the application thread) forwards its calls through `mailbox`,
    // a one-slot lock-free SPSC queue (owner produces, stack thread consumes;
    // the owner waits for each answer, so one slot is all it ever needs).
    // Atomics: route_call reads them on any thread that names the context
    // (a foreign thread gets EPERM, but must read them to know).
    std::atomic<bool> threaded{false};
    std::atomic<pid_t> stack_tid{0};
    std::thread stack_thread;
    std::atomic<bool> stack_stop{false};
    std::atomic<bool> stack_sleeping{false};  // the stack thread is (about to be) in q->wait
    std::atomic<mvnf::api::call_req*> mailbox{nullptr};
    std::atomic<bool> warned{false};
    // Set by a SIGINT registered through mtcp_register_signal (signal.cpp):
    // the next mtcp_epoll_wait that finds no event returns -1/EINTR, as in
    // mTCP, and clears it.
    std::atomic<bool> interrupted{false};
    mvnf::api::instance* inst = nullptr;
    mvnf::netio::queue* q = nullptr;
    std::unique_ptr<mvnf::net::stack> st;
    std::unique_ptr<mvnf::arp::resolver> arp;
    // The TCP engineer's net::transport adapter owns this core's tcp::layer.
    std::unique_ptr<mvnf::tcp::transport_adapter> tcp_adapter;
    mvnf::tcp::layer* tcp = nullptr;  // &tcp_adapter->tcp()
    std::vector<mvnf::api::socket_entry> socks;
    // Free sockids, first in first out as mTCP (its free socket list): an id
    // just closed is handed out again only after every other free id, so a
    // program that reads a closed socket's state after opening a new one
    // (mTCP's epwget does) never finds the new socket there. A ring sized
    // for every id: freeing never allocates.
    std::vector<int> free_socks;
    size_t free_head = 0, free_count = 0;
    std::vector<int> handle_to_sock;        // tcp handle index -> sockid (-1 none, closed_mark)
    std::vector<uint32_t> closed_gen;       // closed_mark slots: the handle's generation
    std::vector<mvnf::api::pipe_buf> pipes;
    std::vector<int> udp_socks;             // sockids of open UDP sockets
    // Write coalescing (mTCP sends queued writes once per loop iteration):
    // between an mtcp_epoll_wait that returned events and the next call that
    // runs the stack, mtcp_write only queues; the sockets written are listed
    // here (capacity reserved at creation: no allocation) and pushed by
    // flush_writes(), so a header and a body written back to back leave as
    // one segment.
    bool in_iteration = false;
    std::vector<int> pending_out;
    mvnf::api::context_clock clk;  // read by whichever thread drives the stack (api/clock.hpp)
    nanos now = 0;
    nanos idle_since = 0;
    // stat_print bookkeeping (read by the owning thread only)
    nanos stat_next = 0;
    uint64_t stat_rx_pkts = 0, stat_tx_pkts = 0, stat_rx_bytes = 0, stat_tx_bytes = 0;
    uint64_t stat_drops = 0;
    bool rss_filter = false;
    uint32_t rss_queues = 1;
    // Ready-list entries mtcp_epoll_wait has looked at (its cost model:
    // proportional to this, not to the list's length; checked by a test).
    uint64_t epoll_examined = 0;
    // tcp counters().events_dropped when run_once last looked: a change
    // means the event ring overflowed and readiness is rescanned.
    uint64_t events_lost_seen = 0;
    // Next time the counters are published to inst->snaps[cpu] (stats.cpp).
    nanos pub_next = 0;

    // ---- driving (loop.cpp)
    // Reads the clock, runs one stack iteration and turns TCP/UDP activity
    // into epoll notifications. Returns frames received.
    unsigned run_once(bool push_writes = true);
    // Sends what the writes of this loop iteration queued; ends the iteration.
    void flush_writes();
    // A write that left data queued for flush_writes().
    void note_write(int sockid);
    // Runs the stack until ready() or the deadline (never: forever). Idle
    // iterations busy-poll for busy_poll_us, then block on the queue.
    template <class F>
    bool run_until(F ready, nanos deadline);
    void block_idle(nanos deadline);
    void sync_after_user_call();  // flush TX queued by a send/close
    void on_tcp_event(int sockid, uint32_t flags);  // an event (or a rescan) for a TCP socket
    // thread mode: the stack thread's loop; start/stop from the owner.
    void stack_main();
    void start_stack_thread();
    void stop_stack_thread();
    void call(mvnf::api::call_req& r);  // owner: post r and wait for its answer

    // ---- sockets (sockets.cpp)
    // Inline: the API and the event loop call it several times per
    // operation (lookup, each event, readiness), and the call cost more
    // than the check.
    mvnf::api::socket_entry* sock(int id) {
        if (id < 0 || size_t(id) >= socks.size()) return nullptr;
        mvnf::api::socket_entry& s = socks[size_t(id)];
        return s.kind == mvnf::api::sock_kind::unused ? nullptr : &s;
    }
    int alloc_sock(mvnf::api::sock_kind k);
    void free_sock(int id);
    void notify(int sockid);  // readiness may have changed
    uint32_t poll_events(int sockid);  // current MTCP_EPOLL* level
    void unregister_all(int sockid);
    void map_handle(int sockid, mvnf::tcp::handle h);
    // Our FIN is sent or queued but not acknowledged (FIN-WAIT-1, CLOSING,
    // LAST-ACK): what teardown waits for.
    bool fin_unacked(mvnf::tcp::handle h) const;
    // After a graceful close freed the socket: marks h for teardown's drain
    // if its FIN is still unacknowledged.
    void note_closed(mvnf::tcp::handle h);
};

namespace mvnf::api {

// One core's published counters: struct mtcp_stats word by word, stored by
// the thread driving that core's context and read by any thread
// (mtcp_get_stats, core 0's [ ALL ] line, the stat_http thread). Owned by
// the instance, not the context, so a reader never touches a context that
// mtcp_destroy_context may be freeing.
struct stats_slot {
    static constexpr size_t words = sizeof(mtcp_stats) / sizeof(uint64_t);
    std::array<std::atomic<uint64_t>, words> w{};
    // Who may touch the context itself (publish fresh values before a read):
    // its creating thread and the thread that last published.
    std::atomic<pid_t> owner{0}, driver{0};
};
static_assert(sizeof(mtcp_stats) % sizeof(uint64_t) == 0);

struct instance {
    cfg::config conf;
    std::vector<std::unique_ptr<netio::port>> ports;
    // Feeds the cores from ports[0]: hw passthrough (queue c) or the sw
    // dispatcher. Declared after ports: destroyed (stopped) before them.
    std::unique_ptr<dist::engine> dist;
    std::unique_ptr<arp::table> arp_table;
    // The live context of each core (null: none), sized num_cores by
    // mtcp_init and never resized: core threads create, use and destroy their
    // contexts concurrently, and any thread looks a context up here.
    std::vector<std::atomic<mtcp_context*>> ctxs;
    // Published counters, one slot per core (sized with ctxs, never resized).
    std::unique_ptr<stats_slot[]> snaps;
    // stat_http = ADDR:PORT: the Prometheus endpoint's thread (reads snaps
    // and ctxs; destroy_instance stops it before anything else).
    std::unique_ptr<stat_server> stat_http;
    std::array<uint8_t, 16> secret{};
    mac_addr mac;
    bool pcap = false;
};

// The one instance (mTCP's model: one per process). Null before mtcp_init.
instance* the_instance();
// The config to use at mtcp_init: mtcp_setconf may change it before.
cfg::config& pending_conf();
bool& conf_overridden();
struct mtcp_conf& conf_override();

// Checks that ctx is live and owned by the calling thread; sets errno and
// returns false otherwise (EINVAL for null, EPERM from another thread).
bool enter(mtcp_context* ctx);

// Where an API call on ctx runs: `fail` (errno set: EINVAL unknown context,
// EPERM foreign thread), `here` (this thread drives the stack), or `forward`
// (thread mode, called by the owner: run it on the context's stack thread).
enum class route { fail, here, forward };
route route_call(mtcp_context* ctx);

// Runs f() on ctx's stack thread and returns its result and errno.
template <class F>
auto forward(mtcp_context* ctx, F&& f) {
    using R = decltype(f());
    struct box {
        F* f;
        R r;
        int e;
    } b{&f, R{}, 0};
    call_req req;
    req.fn = [](void* p) {
        auto* x = static_cast<box*>(p);
        x->r = (*x->f)();
        x->e = errno;
    };
    req.arg = &b;
    ctx->call(req);
    errno = b.e;
    return b.r;
}

// First statement of every C call taking a context: `ret` is the failure
// value, `expr` the same call again (re-entered on the stack thread).
#define MVNF_ROUTE(ctx, ret, expr)                                              \
    switch (mvnf::api::route_call(ctx)) {                                       \
    case mvnf::api::route::fail: return ret;                                    \
    case mvnf::api::route::forward: return mvnf::api::forward(ctx, [&] { return expr; }); \
    case mvnf::api::route::here: break;                                         \
    }

// Tears down every context and port.
void destroy_instance();

// Per-second stat_print lines (stats.cpp), called from run_once.
void stat_tick(mtcp_context& c);
// Copies the context's counters to its slot (each millisecond from run_once,
// and on demand); the driving thread only.
void publish_stats(mtcp_context& c);
void maybe_publish_stats(mtcp_context& c);
// Every counter of the context, read from the stack's own structs (driving
// thread only), and the slots' view of one core or all (any thread).
void fill_stats(mtcp_context& c, mtcp_stats& out);
bool read_slot(instance& inst, size_t core, mtcp_stats& out);  // false: no live context
void add_stats(mtcp_stats& sum, const mtcp_stats& x);
std::string stats_json(int core, const mtcp_stats& s);
void store_zero(stats_slot& slot);

pid_t current_tid();
// Applies the options a socket carries to its connection (set before
// connect, or inherited from the listener on accept, as Linux does).
void apply_options(mtcp_context* c, const socket_entry& s, tcp::handle h);
// Closes any kind of socket (abort: RST for TCP) and frees its id.
int close_socket(mtcp_context* c, int sockid, bool abort);
// Epoll ready lists (sockets.cpp); rid = sockid * max_regs + slot.
void ready_push(mtcp_context& c, int rid);
void ready_remove(mtcp_context& c, int rid);
epoll_reg& registration(mtcp_context& c, int rid);
// tcp::error -> errno (the one table, used by every call).
int map_tcp_error(tcp::error e);
// sockaddr_in helpers for the C boundary.
bool read_sockaddr(const struct sockaddr* a, socklen_t len, ipv4_addr& ip, uint16_t& port,
                   int& error_out);
void write_sockaddr(struct sockaddr* a, socklen_t* len, ipv4_addr ip, uint16_t port);

// mtcp_init without ip_addr (ifaddr.cpp): the kernel's IPv4 address and
// netmask on the interface of an afxdp/afpacket/netmap port spec; nullopt
// and `why` otherwise.
struct kernel_addr {
    ipv4_addr ip, netmask;
    std::string ifname;
};
std::optional<kernel_addr> kernel_interface_addr(const std::string& spec, std::string& why);

// Called from the catch (...) of every extern "C" entry point (guard.cpp):
// maps the exception in flight to errno (ENOMEM for allocation failures),
// prints one line naming `call`, and returns -1.
int api_exception(const char* call) noexcept;

inline int set_errno_ret(int e) {
    errno = e;
    return -1;
}

}  // namespace mvnf::api

template <class F>
bool mtcp_context::run_until(F ready, nanos deadline) {
    for (bool first = true;; first = false) {
        const unsigned n = run_once();
        if (first) idle_since = now;
        if (ready()) return true;
        if (now >= deadline) return false;
        if (n == 0) block_idle(deadline);
        else idle_since = now;
    }
}
