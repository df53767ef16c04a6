// pd::host: what one packetdrill_interface instance drives — one net::stack
// with a tcp::layer on a virtual clock, an ip_link as its wire, and a table of
// BSD-like sockets with fds from a high range. interface.cpp translates the C
// calls to these methods (which return -errno on failure) under one mutex.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/uio.h>

#include "net/stack.hpp"
#include "net/tcp/layer.hpp"
#include "packetdrill/ip_link.hpp"
#include "packetdrill/kernel_fd.hpp"

namespace mvnf::pd {

using net::nanos;

// Parsed from the --so_flags string (see docs/packetdrill.md).
struct options {
    std::optional<ipv4_addr> local_ip;      // --local_ip: else adopted (see host)
    int fd_base = 1000;                     // --fd_base: lowest fd handed out
    uint32_t max_sockets = 64;              // --max_sockets (also the layer's connection pool)
    uint32_t mtu = 1500;                    // --mtu (IP MTU; our MSS = mtu - 40)
    nanos max_wait = net::sec(120);         // --max_wait_us: virtual time a blocking call
                                            //   or an empty netdev_receive may skip ahead
    uint32_t block_wait_ms = 50;            // --block_wait_ms: real time a blocked call
                                            //   waits for another thread before skipping
    uint64_t epoch_us = 1'600'000'000'000'000ull;  // --epoch_us: gettimeofday at virtual 0
    tcp::config tcp;                        // --rcvbuf --sndbuf --cc --no_ts ...
    std::vector<std::string> unknown;       // flags we did not understand (reported)
};
options parse_flags(const char* flags);

class host;
// The hosts alive in this process, for the getsockopt interposer (code_events.cpp).
void register_host(host* h);
void unregister_host(host* h);

class host {
public:
    explicit host(const options& o);
    ~host();
    host(const host&) = delete;
    host& operator=(const host&) = delete;

    // Every entry point takes this lock (packetdrill runs blocking system
    // calls on a second thread while its main thread injects packets).
    std::mutex& mutex() { return _mu; }
    using lock = std::unique_lock<std::mutex>;

    // ---- sockets (return >= 0, or -errno)
    long socket(int domain, int type, int protocol);
    long bind(int fd, const sockaddr* addr, socklen_t len);
    long listen(int fd, int backlog);
    long accept(lock& lk, int fd, sockaddr* addr, socklen_t* len);
    long connect(lock& lk, int fd, const sockaddr* addr, socklen_t len);
    long readv(lock& lk, int fd, const iovec* iov, int iovcnt, int flags);
    long writev(lock& lk, int fd, const iovec* iov, int iovcnt, int flags);
    // recvmsg's ancillary data after a read of n bytes: TCP_CM_INQ (the
    // bytes left to read) when TCP_INQ is on, else none.
    long recv_control(int fd, msghdr* m);
    long close(int fd);
    long shutdown(int fd, int how);
    long getsockopt(int fd, int level, int name, void* val, socklen_t* len);
    long setsockopt(int fd, int level, int name, const void* val, socklen_t len);
    long fcntl(int fd, int cmd, long arg);
    long ioctl(int fd, unsigned long request, void* arg);
    long poll(lock& lk, pollfd* fds, nfds_t n, int timeout_ms);
    long epoll_create(int size);
    long epoll_ctl(int epfd, int op, int fd, const epoll_event* ev);
    long epoll_wait(lock& lk, int epfd, epoll_event* evs, int maxevents, int timeout_ms);
    // What the kernel's getsockopt would say of one of our descriptors, for
    // packetdrill's code events (code_events.cpp): TCP_INFO, TCP_CC_INFO,
    // SO_MEMINFO; not_ours when fd is not one of this host's sockets.
    static constexpr long not_ours = -1'000'000;
    long kernel_getsockopt(int fd, int level, int name, void* val, socklen_t* len);

    // ---- the wire and the clock
    long netdev_send(bytes ip_packet);
    long netdev_receive(void* buf, size_t* count, long long* time_usecs);
    void usleep(lock& lk, uint64_t usec);
    uint64_t gettimeofday_us();
    // Any call but gettimeofday: gettimeofday's spin detection starts over.
    void note_call() { _spins = 0; }

    nanos now() const { return _now; }
    const net::stack* stack() const { return _stack.get(); }
    const tcp::layer& tcp_layer() const { return _tcp; }

private:
    enum class kind : uint8_t { free, tcp, listener, conn, epoll };
    // An epoll instance's interest list entry (epoll.cpp).
    struct ep_reg {
        int fd = -1;
        uint32_t events = 0;  // EPOLLIN... and EPOLLET / EPOLLONESHOT as given
        uint64_t data = 0;
        bool pending = false;  // woken since last reported (edge-triggered)
    };
    struct sock {
        kind k = kind::free;
        bool nonblock = false;
        bool bound = false;
        ipv4_addr lip, rip;
        uint16_t lport = 0, rport = 0;
        tcp::handle h;
        bool shut_rd = false, shut_wr = false;
        bool reuseaddr = false, nodelay = false, keepalive = false;
        int rcvbuf = 0, sndbuf = 0;
        int keepidle = 0, keepintvl = 0, keepcnt = 0;  // seconds / probes; 0: the config's
        int maxseg = 0;                                // TCP_MAXSEG; 0: none
        int user_timeout_ms = 0;                       // TCP_USER_TIMEOUT; 0: off
        bool linger_on = false;                        // SO_LINGER
        bool inq = false;                              // TCP_INQ
        bool cork = false;                             // TCP_CORK
        uint32_t notsent_lowat = 0;                    // TCP_NOTSENT_LOWAT; 0: the sysctl's
        int linger_s = 0;
        bool err_reported = false;  // SO_ERROR reports a connection's error once
        kernel_fd kfd;              // the descriptor number handed out (kernel_fd.hpp)
        std::vector<ep_reg> regs;   // kind::epoll: its interest list
    };
    class glue;  // net::transport + tcp::segment_sink between stack and layer

    sock* find(int fd);
    const sock* find(int fd) const;
    // A free slot with a fresh kernel descriptor: its fd, or -errno.
    long open_slot(kind k);
    // Ends a slot's life: the connection (if any) is closed, its descriptor released.
    void free_slot(sock& s);
    // The options recorded on a socket, applied to its connection (at
    // connect/accept, and on every change once connected), as the C API does.
    void apply_options(const sock& s);
    static uint32_t sysctl_notsent_lowat();
    void apply_sysctls();
    // The stack is built once the local address is known.
    void ensure_stack(ipv4_addr ip);
    // Runs the stack at the current virtual time and pushes its output.
    void run();
    // Moves the virtual clock to t, firing every timer on the way at its time.
    void advance_to(nanos t);
    // Blocking calls: returns 0 once ready(), -EAGAIN at once for a
    // non-blocking socket, or when no timer due before `limit` can help
    // (poll's timeout first moves the clock to `limit`: sleep_to_limit).
    template <class Ready>
    long block_until(lock& lk, bool nonblock, Ready ready, nanos limit, bool sleep_to_limit);
    // The same for callers in other files (the template lives in host.cpp).
    long block_until_fn(lock& lk, bool nonblock, const std::function<bool()>& ready, nanos limit,
                        bool sleep_to_limit);
    uint32_t readiness(const sock& s) const;
    short poll_events(int fd) const;
    // A socket's wake-up (the layer posted an event for it): its epoll
    // entries become pending; and its entries go when it is closed.
    void epoll_wake(tcp::handle h);
    void epoll_forget(int fd);
    uint16_t pick_port();
    // The 4-tuple of a connection, from the SYN or SYN-ACK it sent.
    std::optional<tcp::four_tuple> tuple_of(tcp::handle h) const;
    static long errno_of(tcp::error e);

    options _o;
    std::mutex _mu;
    std::condition_variable _cv;
    uint64_t _gen = 0;  // bumped by netdev_send/usleep: blocked calls re-check
    // Calls blocked in block_until, and the _gen they last checked against:
    // usleep lets them see what the main thread injected before it moves
    // the clock on (else a read woken by data at T returns at T + sleep).
    uint32_t _blocked = 0;
    uint64_t _checked = 0;
    std::condition_variable _cv_checked;
    // A call that blocked has returned on its thread, which has yet to read
    // the clock for its end time (packetdrill's end_syscall): usleep waits
    // for that too.
    bool _stamp_due = false;
    std::thread::id _stamp_thread;
    nanos _now = 0;
    uint32_t _spins = 0;
    ip_link _link;
    peer_neighbor _nb;
    std::unique_ptr<glue> _glue;
    tcp::layer _tcp;
    std::unique_ptr<net::stack> _stack;
    std::vector<sock> _socks;
    std::vector<int32_t> _slot_of;  // fd -> index in _socks, -1 if none
    uint16_t _next_port = 40000;
};

}  // namespace mvnf::pd
