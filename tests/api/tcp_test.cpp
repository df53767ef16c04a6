// TCP through the public C API between two processes on one shm link: echo,
// many connections, a large byte-exact transfer, and the errno of each error
// path. The peer is a forked mtcp instance (see api_harness.hpp).
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>

#include <atomic>
#include <thread>
#include <vector>

#include "api_harness.hpp"

using namespace api_test;

namespace {

int connect_blocking(mctx_t ctx, uint16_t port = port_echo) {
    const int s = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
    auto a = addr(ip_child, port);
    if (s < 0 || mtcp_connect(ctx, s, sa(a), sizeof a) != 0) return -1;
    return s;
}

bool read_all(mctx_t ctx, int s, char* p, size_t n) {
    while (n) {
        const ssize_t r = mtcp_read(ctx, s, p, n);
        if (r <= 0) return false;
        p += r, n -= size_t(r);
    }
    return true;
}

}  // namespace

TEST(ApiTcp, EchoAndAddresses) {
    alarm(40);
    peer_process peer;
    peer.start(unique_link("echo"), [](mctx_t c, int fd) { return echo_server(c, fd, 1); });
    {
        local_side me(peer.link);
        ASSERT_NE(me.ctx, nullptr);
        const int s = connect_blocking(me.ctx);
        ASSERT_GE(s, 0) << strerror(errno);
        const char msg[] = "hello, mtcp";
        ASSERT_EQ(mtcp_write(me.ctx, s, msg, sizeof msg), ssize_t(sizeof msg));
        char back[sizeof msg] = {};
        ASSERT_TRUE(read_all(me.ctx, s, back, sizeof back));
        EXPECT_STREQ(back, msg);

        sockaddr_in a{};
        socklen_t len = sizeof a;
        ASSERT_EQ(mtcp_getpeername(me.ctx, s, reinterpret_cast<sockaddr*>(&a), &len), 0);
        EXPECT_EQ(ntohs(a.sin_port), port_echo);
        char ip[32];
        EXPECT_STREQ(inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip), ip_child);
        ASSERT_EQ(mtcp_getsockname(me.ctx, s, reinterpret_cast<sockaddr*>(&a), &len), 0);
        EXPECT_STREQ(inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip), ip_parent);
        EXPECT_NE(ntohs(a.sin_port), 0);

        // MSG_PEEK leaves the data in place; FIONREAD counts it.
        ASSERT_EQ(mtcp_write(me.ctx, s, "peek", 4), 4);
        char pk[4];
        ASSERT_EQ(mtcp_recv(me.ctx, s, pk, 4, MSG_PEEK), 4);
        EXPECT_EQ(std::string(pk, 4), "peek");
        int avail = 0;
        ASSERT_EQ(mtcp_socket_ioctl(me.ctx, s, FIONREAD, &avail), 0);
        EXPECT_EQ(avail, 4);
        ASSERT_EQ(mtcp_read(me.ctx, s, pk, 4), 4);
        EXPECT_EQ(std::string(pk, 4), "peek");

        tcp_info ti{};
        socklen_t tl = sizeof ti;
        ASSERT_EQ(mtcp_getsockopt(me.ctx, s, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
        EXPECT_EQ(ti.tcpi_state, 1);  // ESTABLISHED
        EXPECT_GT(ti.tcpi_snd_mss, 0u);

        mtcp_stats st{};
        ASSERT_EQ(mtcp_get_stats(me.ctx, &st), 0);
        EXPECT_GT(st.rx_packets, 0u);
        EXPECT_GT(st.tx_packets, 0u);
        EXPECT_EQ(st.tcp_active_opens, 1u);
        char json[4096];
        const int jl = mtcp_get_stats_json(me.ctx, json, sizeof json);
        ASSERT_GT(jl, 0);
        EXPECT_NE(std::string(json).find("\"active_opens\":1"), std::string::npos) << json;

        EXPECT_EQ(mtcp_close(me.ctx, s), 0);
    }
    EXPECT_EQ(peer.finish(), 0);
    alarm(0);
}

TEST(ApiTcp, ManyConnectionsWithEpoll) {
    alarm(40);
    constexpr int conns = 40;
    peer_process peer;
    peer.start(unique_link("many"), [](mctx_t c, int fd) { return echo_server(c, fd, conns); });
    {
        local_side me(peer.link);
        const int ep = mtcp_epoll_create(me.ctx, 64);
        ASSERT_GE(ep, 0);
        std::vector<int> socks;
        for (int i = 0; i < conns; ++i) {
            const int s = mtcp_socket(me.ctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            ASSERT_GE(s, 0);
            auto a = addr(ip_child, port_echo);
            ASSERT_EQ(mtcp_connect(me.ctx, s, sa(a), sizeof a), -1);
            ASSERT_EQ(errno, EINPROGRESS);
            mtcp_epoll_event ev{};
            ev.events = MTCP_EPOLLOUT | MTCP_EPOLLONESHOT;
            ev.data.sockid = s;
            ASSERT_EQ(mtcp_epoll_ctl(me.ctx, ep, MTCP_EPOLL_CTL_ADD, s, &ev), 0);
            socks.push_back(s);
        }
        // Each connection: connected -> send its index -> read it back -> close.
        std::vector<int> state(size_t(socks.back()) + 1, 0);
        int done = 0;
        mtcp_epoll_event evs[64];
        while (done < conns) {
            const int n = mtcp_epoll_wait(me.ctx, ep, evs, 64, 5000);
            ASSERT_GT(n, 0) << "stalled with " << done << " done";
            for (int i = 0; i < n; ++i) {
                const int s = evs[i].data.sockid;
                if (state[size_t(s)] == 0) {
                    ASSERT_TRUE(evs[i].events & MTCP_EPOLLOUT);
                    int err = -1;
                    socklen_t l = sizeof err;
                    ASSERT_EQ(mtcp_getsockopt(me.ctx, s, SOL_SOCKET, SO_ERROR, &err, &l), 0);
                    ASSERT_EQ(err, 0);
                    const std::string m = "conn-" + std::to_string(s);
                    ASSERT_EQ(mtcp_write(me.ctx, s, m.data(), m.size()), ssize_t(m.size()));
                    state[size_t(s)] = 1;
                    mtcp_epoll_event ev{};
                    ev.events = MTCP_EPOLLIN;
                    ev.data.sockid = s;
                    ASSERT_EQ(mtcp_epoll_ctl(me.ctx, ep, MTCP_EPOLL_CTL_MOD, s, &ev), 0);
                } else if (state[size_t(s)] == 1) {
                    char buf[64];
                    const ssize_t r = mtcp_read(me.ctx, s, buf, sizeof buf);
                    ASSERT_GT(r, 0);
                    EXPECT_EQ(std::string(buf, size_t(r)), "conn-" + std::to_string(s));
                    state[size_t(s)] = 2;
                    ASSERT_EQ(mtcp_epoll_ctl(me.ctx, ep, MTCP_EPOLL_CTL_DEL, s, nullptr), 0);
                    ASSERT_EQ(mtcp_close(me.ctx, s), 0);
                    ++done;
                }
            }
        }
        // Let the FINs reach the peer before tearing the link down.
        mtcp_epoll_event tmp[1];
        while (true) {
            mtcp_stats st{};
            mtcp_get_stats(me.ctx, &st);
            if (st.flows == 0) break;
            (void)mtcp_epoll_wait(me.ctx, ep, tmp, 1, 10);
        }
    }
    EXPECT_EQ(peer.finish(), 0);
    alarm(0);
}

TEST(ApiTcp, LargeTransferByteExact) {
    alarm(60);
    peer_process peer;
    peer.start(unique_link("large"), [](mctx_t c, int fd) { return echo_server(c, fd, 1); });
    {
        local_side me(peer.link);
        const int s = connect_blocking(me.ctx);
        ASSERT_GE(s, 0);
        ASSERT_EQ(mtcp_setsock_nonblock(me.ctx, s), 0);
        const size_t total = 4 << 20;
        std::vector<char> out(total), in(total);
        uint32_t x = 12345;
        for (auto& c : out) c = char((x = x * 1103515245u + 12345u) >> 24);
        const int ep = mtcp_epoll_create1(me.ctx, 0);
        mtcp_epoll_event ev{};
        ev.events = MTCP_EPOLLIN | MTCP_EPOLLOUT;
        ev.data.sockid = s;
        ASSERT_EQ(mtcp_epoll_ctl(me.ctx, ep, MTCP_EPOLL_CTL_ADD, s, &ev), 0);
        size_t sent = 0, got = 0;
        while (got < total) {
            mtcp_epoll_event evs[4];
            const int n = mtcp_epoll_wait(me.ctx, ep, evs, 4, 5000);
            ASSERT_GT(n, 0);
            if (sent < total) {
                const ssize_t w = mtcp_write(me.ctx, s, out.data() + sent, total - sent);
                if (w > 0) sent += size_t(w);
                else ASSERT_EQ(errno, EAGAIN);
                if (sent == total) {
                    ev.events = MTCP_EPOLLIN;
                    ASSERT_EQ(mtcp_epoll_ctl(me.ctx, ep, MTCP_EPOLL_CTL_MOD, s, &ev), 0);
                }
            }
            const ssize_t r = mtcp_read(me.ctx, s, in.data() + got, total - got);
            if (r > 0) got += size_t(r);
            else ASSERT_TRUE(r < 0 && errno == EAGAIN) << r << " " << strerror(errno);
        }
        EXPECT_TRUE(out == in) << "echoed bytes differ";
        EXPECT_EQ(mtcp_close(me.ctx, s), 0);
        mtcp_epoll_event tmp[1];
        for (int i = 0; i < 50; ++i) (void)mtcp_epoll_wait(me.ctx, ep, tmp, 1, 5);
    }
    EXPECT_EQ(peer.finish(), 0);
    alarm(0);
}

// Peer for the error tests: accepts one connection on port_echo, reads one
// byte, then aborts it (RST); no listener on port_echo + 1 (RST to SYN).
static int reset_server(mctx_t ctx, int ready_fd) {
    const int ls = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
    auto a = addr(ip_child, port_echo);
    if (mtcp_bind(ctx, ls, sa(a), sizeof a) != 0 || mtcp_listen(ctx, ls, 4) != 0) return 10;
    signal_ready(ready_fd);
    const int c = mtcp_accept(ctx, ls, nullptr, nullptr);
    if (c < 0) return 11;
    char b;
    if (mtcp_read(ctx, c, &b, 1) != 1) return 12;
    if (mtcp_abort(ctx, c) != 0) return 13;
    // Keep running the stack until the peer closes its side of the link.
    const int ep = mtcp_epoll_create1(ctx, 0);
    mtcp_epoll_event e[1];
    for (int i = 0; i < 100; ++i) (void)mtcp_epoll_wait(ctx, ep, e, 1, 20);
    return 0;
}

TEST(ApiTcp, ErrorPathsSetErrno) {
    alarm(40);
    peer_process peer;
    peer.start(unique_link("err"), reset_server);
    {
        local_side me(peer.link);
        mctx_t c = me.ctx;
        char buf[16];
        // Arguments.
        EXPECT_EQ(mtcp_socket(c, AF_INET6, SOCK_STREAM, 0), -1);
        EXPECT_EQ(errno, EAFNOSUPPORT);
        EXPECT_EQ(mtcp_socket(c, AF_INET, SOCK_STREAM, IPPROTO_UDP), -1);
        EXPECT_EQ(errno, EPROTONOSUPPORT);
        EXPECT_EQ(mtcp_socket(c, AF_INET, SOCK_RAW, 0), -1);
        EXPECT_EQ(errno, EINVAL);
        EXPECT_EQ(mtcp_read(c, 9999, buf, 1), -1);
        EXPECT_EQ(errno, EBADF);
        EXPECT_EQ(mtcp_close(c, -1), -1);
        EXPECT_EQ(errno, EBADF);
        const int ep = mtcp_epoll_create1(c, 0);
        auto any = addr("0.0.0.0", 5555);
        EXPECT_EQ(mtcp_bind(c, ep, sa(any), sizeof any), -1);
        EXPECT_EQ(errno, ENOTSOCK);
        EXPECT_EQ(mtcp_epoll_create(c, 0), -1);
        EXPECT_EQ(errno, EINVAL);

        // bind: twice, in use, foreign address.
        const int b1 = mtcp_socket(c, AF_INET, SOCK_STREAM, 0);
        const int b2 = mtcp_socket(c, AF_INET, SOCK_STREAM, 0);
        ASSERT_EQ(mtcp_bind(c, b1, sa(any), sizeof any), 0);
        EXPECT_EQ(mtcp_bind(c, b1, sa(any), sizeof any), -1);
        EXPECT_EQ(errno, EINVAL);
        EXPECT_EQ(mtcp_bind(c, b2, sa(any), sizeof any), -1);
        EXPECT_EQ(errno, EADDRINUSE);
        auto foreign = addr("10.1.2.3", 5556);
        EXPECT_EQ(mtcp_bind(c, b2, sa(foreign), sizeof foreign), -1);
        EXPECT_EQ(errno, EADDRNOTAVAIL);
        // SO_REUSEADDR on both lets a second non-listening socket bind.
        int one = 1;
        const int b3 = mtcp_socket(c, AF_INET, SOCK_STREAM, 0);
        auto p2 = addr("0.0.0.0", 5557);
        ASSERT_EQ(mtcp_setsockopt(c, b2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
        ASSERT_EQ(mtcp_setsockopt(c, b3, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
        EXPECT_EQ(mtcp_bind(c, b2, sa(p2), sizeof p2), 0);
        EXPECT_EQ(mtcp_bind(c, b3, sa(p2), sizeof p2), 0);
        ASSERT_EQ(mtcp_listen(c, b1, 4), 0);
        EXPECT_EQ(mtcp_accept(c, b2, nullptr, nullptr), -1);  // not listening
        EXPECT_EQ(errno, EINVAL);
        ASSERT_EQ(mtcp_setsock_nonblock(c, b1), 0);
        EXPECT_EQ(mtcp_accept(c, b1, nullptr, nullptr), -1);
        EXPECT_EQ(errno, EAGAIN);

        // Not connected.
        EXPECT_EQ(mtcp_read(c, b3, buf, 1), -1);
        EXPECT_EQ(errno, ENOTCONN);
        EXPECT_EQ(mtcp_shutdown(c, b3, SHUT_WR), -1);
        EXPECT_EQ(errno, ENOTCONN);
        sockaddr_in pa{};
        socklen_t pl = sizeof pa;
        EXPECT_EQ(mtcp_getpeername(c, b3, reinterpret_cast<sockaddr*>(&pa), &pl), -1);
        EXPECT_EQ(errno, ENOTCONN);

        // Connection refused: nobody listens on port_echo + 1 (RST to our SYN).
        const int r = mtcp_socket(c, AF_INET, SOCK_STREAM, 0);
        auto closed_port = addr(ip_child, port_echo + 1);
        EXPECT_EQ(mtcp_connect(c, r, sa(closed_port), sizeof closed_port), -1);
        EXPECT_EQ(errno, ECONNREFUSED);

        // Non-blocking connect: EINPROGRESS, then EALREADY/EISCONN.
        const int s = mtcp_socket(c, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        auto srv = addr(ip_child, port_echo);
        EXPECT_EQ(mtcp_connect(c, s, sa(srv), sizeof srv), -1);
        EXPECT_EQ(errno, EINPROGRESS);
        EXPECT_EQ(mtcp_read(c, s, buf, 1), -1);
        EXPECT_EQ(errno, EAGAIN);
        const int wep = mtcp_epoll_create1(c, 0);
        mtcp_epoll_event ev{};
        ev.events = MTCP_EPOLLOUT;
        ev.data.sockid = s;
        ASSERT_EQ(mtcp_epoll_ctl(c, wep, MTCP_EPOLL_CTL_ADD, s, &ev), 0);
        mtcp_epoll_event got[2];
        ASSERT_EQ(mtcp_epoll_wait(c, wep, got, 2, 5000), 1);
        EXPECT_EQ(mtcp_connect(c, s, sa(srv), sizeof srv), -1);
        EXPECT_EQ(errno, EISCONN);
        EXPECT_EQ(mtcp_read(c, s, buf, 1), -1);
        EXPECT_EQ(errno, EAGAIN);
        EXPECT_EQ(mtcp_epoll_ctl(c, wep, MTCP_EPOLL_CTL_ADD, s, &ev), -1);
        EXPECT_EQ(errno, EEXIST);

        // The peer aborts after one byte: ECONNRESET, then EPIPE-class errors.
        ASSERT_EQ(mtcp_write(c, s, "x", 1), 1);
        ev.events = MTCP_EPOLLIN;
        ASSERT_EQ(mtcp_epoll_ctl(c, wep, MTCP_EPOLL_CTL_MOD, s, &ev), 0);
        ASSERT_EQ(mtcp_epoll_wait(c, wep, got, 2, 5000), 1);
        EXPECT_TRUE(got[0].events & (MTCP_EPOLLERR | MTCP_EPOLLHUP));
        EXPECT_EQ(mtcp_read(c, s, buf, 1), -1);
        EXPECT_EQ(errno, ECONNRESET);
        EXPECT_EQ(mtcp_write(c, s, "y", 1), -1);
        EXPECT_EQ(errno, ECONNRESET);
        EXPECT_EQ(mtcp_close(c, s), 0);
        EXPECT_EQ(mtcp_close(c, s), -1);
        EXPECT_EQ(errno, EBADF);

        // The socket table fills: EMFILE.
        int opened = 0;
        while (mtcp_socket(c, AF_INET, SOCK_STREAM, 0) >= 0) ASSERT_LT(++opened, 100000);
        EXPECT_EQ(errno, EMFILE);
    }
    EXPECT_EQ(peer.finish(), 0);
    alarm(0);
}

// Peer: accepts, sends "bye", shuts down its write side, waits for EOF.
static int shutdown_server(mctx_t ctx, int ready_fd) {
    const int ls = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
    auto a = addr("0.0.0.0", port_echo);
    if (mtcp_bind(ctx, ls, sa(a), sizeof a) != 0 || mtcp_listen(ctx, ls, 4) != 0) return 10;
    signal_ready(ready_fd);
    const int c = mtcp_accept(ctx, ls, nullptr, nullptr);
    if (c < 0) return 11;
    if (mtcp_write(ctx, c, "bye", 3) != 3) return 12;
    if (mtcp_shutdown(ctx, c, SHUT_WR) != 0) return 13;
    char b[8];
    if (mtcp_read(ctx, c, b, sizeof b) != 0) return 14;  // EOF after the client's FIN
    if (mtcp_close(ctx, c) != 0) return 15;
    const int ep = mtcp_epoll_create1(ctx, 0);
    mtcp_epoll_event e[1];
    for (int i = 0; i < 20; ++i) (void)mtcp_epoll_wait(ctx, ep, e, 1, 10);
    return 0;
}

TEST(ApiTcp, ShutdownEofAndEpipe) {
    alarm(40);
    peer_process peer;
    peer.start(unique_link("shut"), shutdown_server);
    {
        local_side me(peer.link);
        const int s = connect_blocking(me.ctx);
        ASSERT_GE(s, 0);
        char b[8];
        ASSERT_EQ(mtcp_read(me.ctx, s, b, 3), 3);
        EXPECT_EQ(std::string(b, 3), "bye");
        EXPECT_EQ(mtcp_read(me.ctx, s, b, sizeof b), 0);  // peer's FIN
        const int ep = mtcp_epoll_create1(me.ctx, 0);
        mtcp_epoll_event ev{};
        ev.events = MTCP_EPOLLIN | MTCP_EPOLLRDHUP;
        ev.data.sockid = s;
        ASSERT_EQ(mtcp_epoll_ctl(me.ctx, ep, MTCP_EPOLL_CTL_ADD, s, &ev), 0);
        mtcp_epoll_event got[1];
        ASSERT_EQ(mtcp_epoll_wait(me.ctx, ep, got, 1, 1000), 1);
        EXPECT_TRUE(got[0].events & MTCP_EPOLLRDHUP);
        EXPECT_EQ(mtcp_shutdown(me.ctx, s, 7), -1);
        EXPECT_EQ(errno, EINVAL);
        ASSERT_EQ(mtcp_shutdown(me.ctx, s, SHUT_WR), 0);
        EXPECT_EQ(mtcp_write(me.ctx, s, "z", 1), -1);
        EXPECT_EQ(errno, EPIPE);
        for (int i = 0; i < 20; ++i) (void)mtcp_epoll_wait(me.ctx, ep, got, 1, 10);
        EXPECT_EQ(mtcp_close(me.ctx, s), 0);
    }
    EXPECT_EQ(peer.finish(), 0);
    alarm(0);
}

// Peer: a listener with SO_REUSEADDR accepts one connection, closes, and a
// new listener binds the port while the accepted connection lives: the
// accepted socket inherited SO_REUSEADDR (as on Linux). Without the option
// the bind must fail. Sends "k" when all held, then waits for EOF.
static int reuse_server(mctx_t ctx, int ready_fd) {
    int one = 1;
    const int ls = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
    auto a = addr("0.0.0.0", port_echo);
    if (mtcp_setsockopt(ctx, ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return 10;
    if (mtcp_bind(ctx, ls, sa(a), sizeof a) != 0 || mtcp_listen(ctx, ls, 4) != 0) return 11;
    signal_ready(ready_fd);
    const int c = mtcp_accept(ctx, ls, nullptr, nullptr);
    if (c < 0) return 12;
    int v = 0;
    socklen_t vl = sizeof v;
    if (mtcp_getsockopt(ctx, c, SOL_SOCKET, SO_REUSEADDR, &v, &vl) != 0 || v != 1) return 20;
    if (mtcp_close(ctx, ls) != 0) return 13;
    const int plain = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
    if (mtcp_bind(ctx, plain, sa(a), sizeof a) != -1 || errno != EADDRINUSE) return 21;
    const int again = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
    if (mtcp_setsockopt(ctx, again, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return 14;
    if (mtcp_bind(ctx, again, sa(a), sizeof a) != 0) return 22;
    if (mtcp_listen(ctx, again, 4) != 0) return 23;
    if (mtcp_write(ctx, c, "k", 1) != 1) return 15;
    char b[8];
    if (mtcp_read(ctx, c, b, sizeof b) != 0) return 16;  // EOF after the client's FIN
    if (mtcp_close(ctx, c) != 0) return 17;
    const int ep = mtcp_epoll_create1(ctx, 0);
    mtcp_epoll_event e[1];
    for (int i = 0; i < 20; ++i) (void)mtcp_epoll_wait(ctx, ep, e, 1, 10);
    return 0;
}

TEST(ApiTcp, ReuseaddrInheritedByAcceptedSocket) {
    alarm(40);
    peer_process peer;
    peer.start(unique_link("reuse"), reuse_server);
    {
        local_side me(peer.link);
        const int s = connect_blocking(me.ctx);
        ASSERT_GE(s, 0);
        char b[8];
        EXPECT_EQ(mtcp_read(me.ctx, s, b, 1), 1);
        EXPECT_EQ(b[0], 'k');
        EXPECT_EQ(mtcp_close(me.ctx, s), 0);
        const int ep = mtcp_epoll_create1(me.ctx, 0);
        mtcp_epoll_event got[1];
        for (int i = 0; i < 20; ++i) (void)mtcp_epoll_wait(me.ctx, ep, got, 1, 10);
    }
    EXPECT_EQ(peer.finish(), 0) << "the peer's exit code names the failed step";
    alarm(0);
}

TEST(ApiTcp, SocketOptionsApply) {
    alarm(40);
    peer_process peer;
    peer.start(unique_link("opt"), [](mctx_t c, int fd) { return echo_server(c, fd, 1); });
    {
        local_side me(peer.link);
        mctx_t c = me.ctx;
        const int s = mtcp_socket(c, AF_INET, SOCK_STREAM, 0);
        int v = 1;
        ASSERT_EQ(mtcp_setsockopt(c, s, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v), 0);
        ASSERT_EQ(mtcp_setsockopt(c, s, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v), 0);
        v = 30;
        ASSERT_EQ(mtcp_setsockopt(c, s, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v), 0);
        v = 5;
        ASSERT_EQ(mtcp_setsockopt(c, s, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof v), 0);
        ASSERT_EQ(mtcp_setsockopt(c, s, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof v), 0);
        v = 536;
        ASSERT_EQ(mtcp_setsockopt(c, s, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof v), 0);
        v = 8192;
        ASSERT_EQ(mtcp_setsockopt(c, s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v), 0);
        ASSERT_EQ(mtcp_setsockopt(c, s, IPPROTO_TCP, TCP_CONGESTION, "reno", 5), 0);
        EXPECT_EQ(mtcp_setsockopt(c, s, IPPROTO_TCP, TCP_CONGESTION, "bbr", 4), -1);
        EXPECT_EQ(errno, ENOENT);
        v = 10;
        EXPECT_EQ(mtcp_setsockopt(c, s, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof v), -1);
        EXPECT_EQ(errno, EINVAL);
        v = 2500;
        ASSERT_EQ(mtcp_setsockopt(c, s, IPPROTO_TCP, TCP_USER_TIMEOUT, &v, sizeof v), 0);
        v = -1;
        EXPECT_EQ(mtcp_setsockopt(c, s, IPPROTO_TCP, TCP_USER_TIMEOUT, &v, sizeof v), -1);
        EXPECT_EQ(errno, EINVAL);
        auto a = addr(ip_child, port_echo);
        ASSERT_EQ(mtcp_connect(c, s, sa(a), sizeof a), 0);

        socklen_t l = sizeof v;
        ASSERT_EQ(mtcp_getsockopt(c, s, IPPROTO_TCP, TCP_MAXSEG, &v, &l), 0);
        EXPECT_EQ(v, 536);  // the negotiated MSS obeys the cap
        ASSERT_EQ(mtcp_getsockopt(c, s, SOL_SOCKET, SO_SNDBUF, &v, &l), 0);
        EXPECT_EQ(v, 8192);
        ASSERT_EQ(mtcp_getsockopt(c, s, SOL_SOCKET, SO_TYPE, &v, &l), 0);
        EXPECT_EQ(v, SOCK_STREAM);
        ASSERT_EQ(mtcp_getsockopt(c, s, IPPROTO_TCP, TCP_KEEPIDLE, &v, &l), 0);
        EXPECT_EQ(v, 30);
        ASSERT_EQ(mtcp_getsockopt(c, s, IPPROTO_TCP, TCP_USER_TIMEOUT, &v, &l), 0);
        EXPECT_EQ(v, 2500);
        char cc[16] = {};
        socklen_t cl = sizeof cc;
        ASSERT_EQ(mtcp_getsockopt(c, s, IPPROTO_TCP, TCP_CONGESTION, cc, &cl), 0);
        EXPECT_STREQ(cc, "reno");
        tcp_info ti{};
        socklen_t tl = sizeof ti;
        ASSERT_EQ(mtcp_getsockopt(c, s, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
        EXPECT_EQ(ti.tcpi_snd_mss, 536u);

        // SO_SNDBUF limits what one non-blocking write takes.
        ASSERT_EQ(mtcp_setsock_nonblock(c, s), 0);
        std::vector<char> big(65536, 'q');
        const ssize_t w = mtcp_write(c, s, big.data(), big.size());
        EXPECT_GT(w, 0);
        EXPECT_LE(w, 8192);
        // Drain the echo so the peer can finish.
        size_t got = 0;
        const int ep = mtcp_epoll_create1(c, 0);
        mtcp_epoll_event ev{};
        ev.events = MTCP_EPOLLIN;
        ev.data.sockid = s;
        ASSERT_EQ(mtcp_epoll_ctl(c, ep, MTCP_EPOLL_CTL_ADD, s, &ev), 0);
        while (got < size_t(w)) {
            mtcp_epoll_event e[1];
            ASSERT_EQ(mtcp_epoll_wait(c, ep, e, 1, 5000), 1);
            char b[4096];
            const ssize_t r = mtcp_read(c, s, b, sizeof b);
            if (r > 0) got += size_t(r);
        }
        // SO_LINGER 0: close sends RST (the peer sees its connection end).
        linger lg{1, 0};
        ASSERT_EQ(mtcp_setsockopt(c, s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
        EXPECT_EQ(mtcp_close(c, s), 0);
        mtcp_stats st{};
        ASSERT_EQ(mtcp_get_stats(c, &st), 0);
        for (int i = 0; i < 10; ++i) {
            mtcp_epoll_event e[1];
            (void)mtcp_epoll_wait(c, ep, e, 1, 5);
        }
        ASSERT_EQ(mtcp_get_stats(c, &st), 0);
        EXPECT_GE(st.tcp_rst_sent, 1u);
    }
    EXPECT_EQ(peer.finish(), 0);
    alarm(0);
}

// Two cores on each side (hw mode: one shm queue per core). The client runs
// on core 1 only: with mtcp_init_rss its ephemeral ports hash back to queue
// 1, so the handshake completes; nobody polls queue 0.
TEST(ApiTcp, InitRssSteersRepliesToTheConnectingCore) {
    alarm(40);
    peer_process peer;
    peer.start(
        unique_link("rss"),
        [](mctx_t ctx0, int fd) {
            std::atomic<int> served{0}, ready{0};
            auto serve = [&](mctx_t c) {
                const int ls = mtcp_socket(c, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
                auto a = addr("0.0.0.0", port_echo);
                if (mtcp_bind(c, ls, sa(a), sizeof a) != 0 || mtcp_listen(c, ls, 16) != 0)
                    return;
                const int ep = mtcp_epoll_create1(c, 0);
                mtcp_epoll_event ev{};
                ev.events = MTCP_EPOLLIN;
                ev.data.sockid = ls;
                mtcp_epoll_ctl(c, ep, MTCP_EPOLL_CTL_ADD, ls, &ev);
                ++ready;
                char b[256];
                int conn = -1;
                while (served.load() < 3) {
                    mtcp_epoll_event e[4];
                    const int n = mtcp_epoll_wait(c, ep, e, 4, 20);
                    for (int i = 0; i < n; ++i) {
                        if (e[i].data.sockid == ls) {
                            conn = mtcp_accept(c, ls, nullptr, nullptr);
                            if (conn < 0) continue;
                            mtcp_epoll_event ce{};
                            ce.events = MTCP_EPOLLIN;
                            ce.data.sockid = conn;
                            mtcp_epoll_ctl(c, ep, MTCP_EPOLL_CTL_ADD, conn, &ce);
                        } else {
                            const ssize_t r = mtcp_read(c, e[i].data.sockid, b, sizeof b);
                            if (r > 0) mtcp_write(c, e[i].data.sockid, b, size_t(r));
                            else if (r == 0) {
                                mtcp_close(c, e[i].data.sockid);
                                ++served;
                            }
                        }
                    }
                }
                for (int i = 0; i < 10; ++i) {
                    mtcp_epoll_event e[1];
                    (void)mtcp_epoll_wait(c, ep, e, 1, 10);
                }
            };
            std::thread t1([&] {
                mctx_t c1 = mtcp_create_context(1);
                if (!c1) return;
                serve(c1);
                mtcp_destroy_context(c1);
            });
            // Core 0 serves from this thread; it signals once both listen.
            std::thread sig([&] {
                while (ready.load() < 2) usleep(1000);
                signal_ready(fd);
            });
            serve(ctx0);
            sig.join();
            t1.join();
            return served.load() == 3 ? 0 : 20;
        },
        "num_cores = 2\n");
    {
        local_side me(peer.link);
        ASSERT_NE(me.ctx, nullptr);
        bool ok = true;
        std::string why;
        std::thread([&] {
            mctx_t c1 = mtcp_create_context(1);
            if (!c1) return void(ok = false);
            auto fail = [&](std::string w) { ok = false, why = w + ": " + strerror(errno); };
            auto peer_addr = addr(ip_child, port_echo);
            auto foreign = inet_addr("10.1.1.1");
            if (mtcp_init_rss(c1, foreign, 1, peer_addr.sin_addr.s_addr, htons(port_echo)) != -1 ||
                errno != EADDRNOTAVAIL)
                fail("init_rss with a foreign address");
            if (mtcp_init_rss(c1, INADDR_ANY, 1, peer_addr.sin_addr.s_addr, htons(port_echo)) != 0)
                fail("init_rss");
            for (int i = 0; i < 3 && ok; ++i) {
                const int s = mtcp_socket(c1, AF_INET, SOCK_STREAM, 0);
                if (mtcp_connect(c1, s, sa(peer_addr), sizeof peer_addr) != 0) {
                    fail("connect " + std::to_string(i));
                    break;
                }
                char b[8];
                if (mtcp_write(c1, s, "rss", 3) != 3 || mtcp_read(c1, s, b, 3) != 3 ||
                    std::string(b, 3) != "rss")
                    fail("echo");
                mtcp_close(c1, s);
            }
            const int ep = mtcp_epoll_create1(c1, 0);
            for (int i = 0; i < 20; ++i) {
                mtcp_epoll_event e[1];
                (void)mtcp_epoll_wait(c1, ep, e, 1, 10);
            }
            mtcp_destroy_context(c1);
        }).join();
        EXPECT_TRUE(ok) << why;
    }
    EXPECT_EQ(peer.finish(), 0);
    alarm(0);
}

// tcp_ecn through the public API: with 1 our connect asks for ECN and the
// peer (default 2) grants it, which TCP_INFO and the stats show on both
// ends' counts; with the default 2 nobody asks. RFC 3168 6.1.1.
TEST(ApiTcp, TcpEcnKeyAgreesEcnInTheHandshake) {
    for (const int mode : {1, 2}) {
        SCOPED_TRACE(mode);
        alarm(40);
        peer_process peer;
        peer.start(unique_link("ecn"), [](mctx_t c, int fd) { return echo_server(c, fd, 1); });
        write_conf(peer.link, true, "tcp_ecn = " + std::to_string(mode) + "\n");
        {
            local_side me(peer.link);
            ASSERT_NE(me.ctx, nullptr);
            const int s = connect_blocking(me.ctx);
            ASSERT_GE(s, 0) << strerror(errno);
            const char msg[] = "marked or not";
            ASSERT_EQ(mtcp_write(me.ctx, s, msg, sizeof msg), ssize_t(sizeof msg));
            char back[sizeof msg] = {};
            ASSERT_TRUE(read_all(me.ctx, s, back, sizeof back));
            tcp_info ti{};
            socklen_t tl = sizeof ti;
            ASSERT_EQ(mtcp_getsockopt(me.ctx, s, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
            EXPECT_EQ((ti.tcpi_options & TCPI_OPT_ECN) != 0, mode == 1);
            char json[4096];
            ASSERT_GT(mtcp_get_stats_json(me.ctx, json, sizeof json), 0);
            const std::string want = mode == 1 ? "\"ecn_connections\":1" : "\"ecn_connections\":0";
            EXPECT_NE(std::string(json).find(want), std::string::npos) << json;
            EXPECT_EQ(mtcp_close(me.ctx, s), 0);
        }
        EXPECT_EQ(peer.finish(), 0);
        alarm(0);
    }
}

namespace {

// Runs the stack for a while (the context's owner thread drives it).
void run_stack(mctx_t ctx, int ms) {
    const int ep = mtcp_epoll_create1(ctx, 0);
    mtcp_epoll_event ev[1];
    (void)mtcp_epoll_wait(ctx, ep, ev, 1, ms);
    mtcp_close(ctx, ep);
}

// Waits (at most 5 s) until the context has `n` connections in use.
bool wait_flows(mctx_t ctx, uint64_t n) {
    for (int i = 0; i < 500; ++i) {
        mtcp_stats st{};
        mtcp_get_stats(ctx, &st);
        if (st.flows == n) return true;
        run_stack(ctx, 10);
    }
    return false;
}

uint64_t refused_no_buffers(mctx_t ctx) {
    mtcp_stats st{};
    mtcp_get_stats(ctx, &st);
    return st.tcp.refused_no_buffers;
}

bool echo_byte(mctx_t ctx, int s, char c) {
    char r = 0;
    return mtcp_write(ctx, s, &c, 1) == 1 && read_all(ctx, s, &r, 1) && r == c;
}

}  // namespace

// max_num_buffers bounds the connections that hold send/receive buffers:
// with 2, a third mtcp_connect fails at once with ENOBUFS (counted in
// tcp.refused_no_buffers); a closed connection gives its pair back and the
// next connect succeeds.
TEST(ApiTcp, MaxNumBuffersBoundsActiveOpens) {
    alarm(40);
    peer_process peer;
    peer.start(unique_link("nbuf_active"), [](mctx_t c, int fd) { return echo_server(c, fd, 3); },
               "max_num_buffers = 2\n");
    {
        local_side me(peer.link);
        const int s1 = connect_blocking(me.ctx), s2 = connect_blocking(me.ctx);
        ASSERT_GE(s1, 0);
        ASSERT_GE(s2, 0);
        const int s3 = mtcp_socket(me.ctx, AF_INET, SOCK_STREAM, 0);
        ASSERT_GE(s3, 0);
        auto a = addr(ip_child, port_echo);
        errno = 0;
        EXPECT_EQ(mtcp_connect(me.ctx, s3, sa(a), sizeof a), -1);
        EXPECT_EQ(errno, ENOBUFS);
        EXPECT_EQ(mtcp_close(me.ctx, s3), 0);
        for (int i = 0; i < 300 && refused_no_buffers(me.ctx) == 0; ++i) run_stack(me.ctx, 10);
        EXPECT_EQ(refused_no_buffers(me.ctx), 1u);
        EXPECT_TRUE(echo_byte(me.ctx, s1, 'a'));
        EXPECT_TRUE(echo_byte(me.ctx, s2, 'b'));
        // s1 closed on both ends: its buffers are free again, here and at the peer.
        EXPECT_EQ(mtcp_close(me.ctx, s1), 0);
        ASSERT_TRUE(wait_flows(me.ctx, 1));
        const int s4 = connect_blocking(me.ctx);
        ASSERT_GE(s4, 0) << "errno " << errno;
        EXPECT_TRUE(echo_byte(me.ctx, s4, 'c'));
        EXPECT_EQ(mtcp_close(me.ctx, s2), 0);
        EXPECT_EQ(mtcp_close(me.ctx, s4), 0);
        EXPECT_TRUE(wait_flows(me.ctx, 0));
        EXPECT_EQ(refused_no_buffers(me.ctx), 1u);
    }
    EXPECT_EQ(peer.finish(), 0);
    alarm(0);
}

// At the listening end: with one buffer pair taken, a second client's SYN
// gets a cookie and its ACK is refused with a reset (ECONNRESET at the
// client, tcp.refused_no_buffers at the server); once the first closes, a
// new client is served.
TEST(ApiTcp, MaxNumBuffersBoundsPassiveOpens) {
    alarm(40);
    peer_process peer;
    const std::string link = unique_link("nbuf_passive");
    peer.start(link, [](mctx_t c, int fd) {
        const int rc = echo_server(c, fd, 2);
        if (rc != 0) return rc;
        for (int i = 0; i < 300 && refused_no_buffers(c) == 0; ++i) run_stack(c, 10);
        return refused_no_buffers(c) >= 1 ? 0 : 40;
    }, "max_num_buffers = 1\n");
    write_conf(link, true);  // this end: the harness's pool (128 pairs)
    {
        local_side me(peer.link);
        const int s1 = connect_blocking(me.ctx);
        ASSERT_GE(s1, 0);
        EXPECT_TRUE(echo_byte(me.ctx, s1, 'a'));
        // The cookie SYN-ACK completes our handshake; the peer's reset follows.
        const int s2 = connect_blocking(me.ctx);
        if (s2 >= 0) {
            char c = 'b';
            (void)mtcp_write(me.ctx, s2, &c, 1);
            errno = 0;
            EXPECT_EQ(mtcp_read(me.ctx, s2, &c, 1), -1);
            EXPECT_EQ(errno, ECONNRESET);
            EXPECT_EQ(mtcp_close(me.ctx, s2), 0);
        } else {
            EXPECT_EQ(errno, ECONNRESET);
        }
        EXPECT_EQ(mtcp_close(me.ctx, s1), 0);
        ASSERT_TRUE(wait_flows(me.ctx, 0));
        const int s3 = connect_blocking(me.ctx);
        ASSERT_GE(s3, 0) << "errno " << errno;
        EXPECT_TRUE(echo_byte(me.ctx, s3, 'c'));
        EXPECT_EQ(mtcp_close(me.ctx, s3), 0);
        EXPECT_TRUE(wait_flows(me.ctx, 0));
        EXPECT_EQ(refused_no_buffers(me.ctx), 0u);
    }
    EXPECT_EQ(peer.finish(), 0);
    alarm(0);
}
