// Two mtcp instances joined by one shm link, for tests of the public C API:
// the peer runs in a forked child (its own mtcp_init, IP 10.9.0.2, static ARP
// entry for us) and reports through its exit code; the test body runs in the
// parent as 10.9.0.1. Both sides are bounded by alarm().
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>

#include "mtcp/mtcp_api.h"
#include "mtcp/mtcp_epoll.h"
#include "mtcp/mudp_api.h"
#include "mtcp/mtcp_stats.h"

namespace api_test {

inline constexpr const char* ip_parent = "10.9.0.1";
inline constexpr const char* ip_child = "10.9.0.2";
inline constexpr const char* mac_parent = "02:00:00:00:09:01";
inline constexpr const char* mac_child = "02:00:00:00:09:02";
inline constexpr uint16_t port_echo = 7000;

inline sockaddr_in addr(const char* ip, uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}
inline const sockaddr* sa(const sockaddr_in& a) { return reinterpret_cast<const sockaddr*>(&a); }

inline std::string tmpdir() {
    static std::string d = [] {
        char t[] = "/tmp/mtcp_api_testXXXXXX";
        return std::string(mkdtemp(t));
    }();
    return d;
}

// Writes mtcp.conf (+ arp.conf) for one side; `extra` is appended verbatim.
inline std::string write_conf(const std::string& link, bool parent, const std::string& extra = "") {
    const std::string base = tmpdir() + "/" + link + (parent ? "_a" : "_b");
    {
        std::ofstream arp(base + ".arp");
        arp << "ARP_ENTRY 1\n"
            << (parent ? ip_child : ip_parent) << "/32 " << (parent ? mac_child : mac_parent)
            << "\n";
    }
    std::ofstream f(base + ".conf");
    f << "# test config\n"
      << "port = shm:" << link << "\n"
      << "num_cores = 1\n"
      << "ip_addr = " << (parent ? ip_parent : ip_child) << "\n"
      << "mac_addr = " << (parent ? mac_parent : mac_child) << "\n"
      << "max_concurrency = 128\n"
      << "max_num_buffers = 2048\n"
      << "rcvbuf = 65536\n"
      << "sndbuf = 65536\n"
      << "tcp_timewait = 0\n"
      << "ring_size = 1024\n"
      << "busy_poll_us = 20\n"
      << "arp_conf = " << base << ".arp\n"
      << extra;
    // ctest runs every API test a second time with the stack on its own
    // thread per context (mTCP's mode): same tests, same expectations.
    if (const char* t = std::getenv("MTCP_TEST_THREAD_MODE"); t && *t == '1')
        f << "thread_mode = thread\n";
    return base + ".conf";
}

inline std::string unique_link(const char* tag) {
    static int n = 0;
    return std::string("api_") + tag + "_" + std::to_string(getpid()) + "_" + std::to_string(n++);
}

// Forks the peer. `peer(ctx, ready_fd)` runs in the child after mtcp_init and
// create_context; it writes one byte to ready_fd when it is listening and
// returns the child's exit code (0: success). The parent blocks until that
// byte arrives, then inits its own side.
struct peer_process {
    pid_t pid = -1;
    int ready_rd = -1;
    std::string link;

    template <class F>
    void start(const std::string& link_name, F peer, const std::string& extra = "") {
        link = link_name;
        int fds[2];
        ASSERT_EQ(pipe(fds), 0);
        const std::string conf = write_conf(link, false, extra);
        write_conf(link, true, extra);
        pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            alarm(30);
            int rc = 90;
            if (mtcp_init(conf.c_str()) == 0) {
                mctx_t ctx = mtcp_create_context(0);
                rc = ctx ? peer(ctx, fds[1]) : 91;
                if (ctx) mtcp_destroy_context(ctx);
                mtcp_destroy();
            }
            _exit(rc);
        }
        close(fds[1]);
        ready_rd = fds[0];
        char c = 0;
        ASSERT_EQ(read(ready_rd, &c, 1), 1) << "peer failed before it was ready";
    }
    // Exit code of the peer (-1: killed, e.g. by its alarm).
    int finish() {
        int st = 0;
        if (pid > 0) waitpid(pid, &st, 0);
        if (ready_rd >= 0) close(ready_rd);
        pid = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
};

inline void signal_ready(int fd) {
    char c = 1;
    (void)!write(fd, &c, 1);
}

// Parent side: mtcp_init + context for the link; torn down by the destructor.
struct local_side {
    mctx_t ctx = nullptr;
    explicit local_side(const std::string& link, const std::string& extra = "") {
        const std::string conf = tmpdir() + "/" + link + "_a.conf";
        (void)extra;
        EXPECT_EQ(mtcp_init(conf.c_str()), 0);
        ctx = mtcp_create_context(0);
        EXPECT_NE(ctx, nullptr);
    }
    ~local_side() {
        if (ctx) mtcp_destroy_context(ctx);
        mtcp_destroy();
    }
};

// Peer: an epoll echo server on port_echo, until `conns` connections closed.
inline int echo_server(mctx_t ctx, int ready_fd, int conns) {
    const int ls = mtcp_socket(ctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    auto a = addr("0.0.0.0", port_echo);
    if (ls < 0 || mtcp_bind(ctx, ls, sa(a), sizeof a) != 0) return 10;
    if (mtcp_listen(ctx, ls, 64) != 0) return 11;
    const int ep = mtcp_epoll_create1(ctx, 0);
    mtcp_epoll_event ev{};
    ev.events = MTCP_EPOLLIN;
    ev.data.sockid = ls;
    if (mtcp_epoll_ctl(ctx, ep, MTCP_EPOLL_CTL_ADD, ls, &ev) != 0) return 12;
    signal_ready(ready_fd);
    static char buf[65536];
    int closed = 0;
    mtcp_epoll_event evs[64];
    while (closed < conns) {
        const int n = mtcp_epoll_wait(ctx, ep, evs, 64, 10000);
        if (n <= 0) return 13;
        for (int i = 0; i < n; ++i) {
            const int s = evs[i].data.sockid;
            if (s == ls) {
                for (;;) {
                    const int c = mtcp_accept(ctx, ls, nullptr, nullptr);
                    if (c < 0) break;
                    mtcp_setsock_nonblock(ctx, c);
                    mtcp_epoll_event ce{};
                    ce.events = MTCP_EPOLLIN;
                    ce.data.sockid = c;
                    mtcp_epoll_ctl(ctx, ep, MTCP_EPOLL_CTL_ADD, c, &ce);
                }
                continue;
            }
            for (;;) {
                const ssize_t r = mtcp_read(ctx, s, buf, sizeof buf);
                if (r > 0) {
                    // Echo everything; block-free by retrying while the stack drains.
                    ssize_t off = 0;
                    while (off < r) {
                        const ssize_t w = mtcp_write(ctx, s, buf + off, size_t(r - off));
                        if (w > 0) off += w;
                        else if (errno == EAGAIN) {
                            mtcp_epoll_event tmp[1];
                            (void)mtcp_epoll_wait(ctx, ep, tmp, 1, 1);  // runs the stack
                        } else return 14;
                    }
                    continue;
                }
                if (r == 0 || errno != EAGAIN) {
                    mtcp_close(ctx, s);
                    ++closed;
                }
                break;
            }
        }
    }
    mtcp_close(ctx, ls);
    return 0;
}

}  // namespace api_test
