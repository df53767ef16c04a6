// The socket abstraction every app is written against: one header, two
// implementations chosen at link time — io_mtcp.cpp (the mTCP C API, library
// `mtcp`) and io_kernel.cpp (Linux sockets + epoll) — so the same app logic
// builds as `mvnf-X` and `mvnf-X-kernel`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <netinet/in.h>
#include <sys/types.h>
#include <sys/uio.h>

namespace mvnf::app {

// Readiness bits, independent of the backend.
enum : uint32_t {
    ev_in = 1u << 0,
    ev_out = 1u << 1,
    ev_err = 1u << 2,
    ev_hup = 1u << 3,
};

struct event {
    uint32_t events;
    uint64_t data;
};

// Process-wide start/stop. `conf` is the mtcp.conf path (required by the mTCP
// build, ignored by the kernel build); `cores` overrides num_cores when > 0.
// Returns false with `err` set to a one-line reason.
bool stack_init(const std::string& conf, int cores, std::string& err);
void stack_shutdown();
// "mtcp" or "kernel": which backend this binary was linked with.
const char* stack_name();
// Our IPv4 address in network byte order as the stack sees it (mtcp: the
// config's ip_addr; kernel: INADDR_ANY).
in_addr_t stack_local_addr();

// One per core thread; every call must come from the thread that opened it.
// Sockets are non-blocking. Calls return -1 with errno set on failure.
class io {
public:
    io() = default;
    io(const io&) = delete;
    io& operator=(const io&) = delete;
    ~io();

    // Opens the per-core context and its epoll instance.
    bool open(int core, std::string& err);
    int core() const { return _core; }

    int tcp_socket();
    int udp_socket();
    // SO_REUSEPORT (kernel; mtcp contexts each own their port space anyway).
    int reuse_port(int s);
    int bind(int s, const sockaddr_in& a);
    int listen(int s, int backlog);
    int accept(int s);
    // 0 on immediate success, -1/EINPROGRESS while the handshake runs.
    int connect(int s, const sockaddr_in& a);
    // Pending error of a connecting socket (SO_ERROR); 0 when connected.
    int socket_error(int s);
    // Local port of a bound/connected socket (host order), 0 on failure.
    uint16_t local_port(int s);
    // Local address of a bound/connected socket (network order), 0 on failure.
    in_addr_t local_addr(int s);
    // Client side: use source address `addr` (network order) for the next
    // connect, the port still chosen by connect. Kernel: bind with
    // IP_BIND_ADDRESS_NO_PORT; mtcp: only the instance's own ip_addr exists
    // (anything else fails with EADDRNOTAVAIL).
    int bind_source(int s, in_addr_t addr);
    ssize_t read(int s, void* buf, size_t len);
    ssize_t write(int s, const void* buf, size_t len);
    ssize_t writev(int s, const iovec* iov, int n);
    int shutdown_write(int s);
    int close(int s);
    ssize_t sendto(int s, const void* buf, size_t len, const sockaddr_in& to);
    ssize_t recvfrom(int s, void* buf, size_t len, sockaddr_in* from);
    // mtcp: mtcp_init_rss so source ports hash back to this core (call it for
    // every destination port used); kernel: no-op.
    int init_rss(in_addr_t saddr, in_addr_t daddr, uint16_t dport_host);

    // This context's stack counters as one JSON object (mtcp:
    // mtcp_get_stats_json); "{}" in the kernel build.
    std::string stack_stats_json();

    int ep_add(int s, uint32_t events, uint64_t data);
    int ep_mod(int s, uint32_t events, uint64_t data);
    int ep_del(int s);
    // Waits up to timeout_ms (-1: forever); returns the number of events.
    int ep_wait(event* evs, int max, int timeout_ms);

private:
    int _core = -1;
    void* _ctx = nullptr;  // mctx_t in the mTCP build
    int _ep = -1;
};

}  // namespace mvnf::app
