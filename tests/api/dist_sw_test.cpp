// dist_mode = sw through the public C API: this process runs two cores fed
// by the software dispatcher (one thread for RX+TX, or an RX and a TX thread)
// from a single-queue shm port; the forked peer is a plain one-core hw stack.
// Client connections use mtcp_init_rss so their replies come back to the
// core that opened them. The peer is described in api_harness.hpp.
#include <arpa/inet.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "api_harness.hpp"

using namespace api_test;

namespace {

std::string sw_conf(int dispatcher_threads) {
    return "num_cores = 2\n"
           "dist_mode = sw\n"
           "dispatcher_threads = " +
           std::to_string(dispatcher_threads) +
           "\n"
           "pipe_size = 256\n"
           "rx_batch = 32\n"
           "tx_batch = 32\n";
}

// Starts the peer (one core, hw) and rewrites our config for sw mode.
std::string start_peer(peer_process& peer, const char* tag, int conns, int threads) {
    peer.start(unique_link(tag), [conns](mctx_t c, int fd) { return echo_server(c, fd, conns); });
    return write_conf(peer.link, true, sw_conf(threads));
}

struct outcome {
    bool ok = true;
    std::string why;
    void fail(const std::string& w) {
        if (ok) why = w + ": " + strerror(errno);
        ok = false;
    }
};

bool read_all(mctx_t ctx, int s, char* p, size_t n) {
    while (n) {
        const ssize_t r = mtcp_read(ctx, s, p, n);
        if (r <= 0) return false;
        p += r, n -= size_t(r);
    }
    return true;
}

// One core's client work: a blocking 64 KiB byte-exact echo, then `conns`
// non-blocking connections driven by epoll (connect, send the index, read
// it back, close).
void client_core(mctx_t ctx, int conns, outcome& out) {
    auto peer_addr = addr(ip_child, port_echo);
    if (mtcp_init_rss(ctx, INADDR_ANY, 1, peer_addr.sin_addr.s_addr, htons(port_echo)) != 0)
        return out.fail("init_rss");
    {
        const int s = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
        if (s < 0 || mtcp_connect(ctx, s, sa(peer_addr), sizeof peer_addr) != 0)
            return out.fail("blocking connect");
        std::vector<char> tx(65536), rx(65536);
        for (size_t i = 0; i < tx.size(); ++i) tx[i] = char((i * 7) & 0xff);
        size_t off = 0;
        while (off < tx.size()) {
            const ssize_t w = mtcp_write(ctx, s, tx.data() + off, tx.size() - off);
            if (w <= 0) return out.fail("write");
            off += size_t(w);  // the echo fits in rcvbuf: no need to read yet
        }
        if (!read_all(ctx, s, rx.data(), rx.size())) return out.fail("read echo");
        if (rx != tx) return out.fail("echo differs");
        mtcp_close(ctx, s);
    }
    const int ep = mtcp_epoll_create1(ctx, 0);
    if (ep < 0) return out.fail("epoll_create1");
    std::vector<int> socks;
    for (int i = 0; i < conns; ++i) {
        const int s = mtcp_socket(ctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (s < 0) return out.fail("socket");
        if (mtcp_connect(ctx, s, sa(peer_addr), sizeof peer_addr) != -1 || errno != EINPROGRESS)
            return out.fail("non-blocking connect");
        mtcp_epoll_event ev{};
        ev.events = MTCP_EPOLLOUT | MTCP_EPOLLONESHOT;
        ev.data.sockid = s;
        if (mtcp_epoll_ctl(ctx, ep, MTCP_EPOLL_CTL_ADD, s, &ev) != 0) return out.fail("ctl");
        socks.push_back(s);
    }
    std::vector<int> idx(size_t(socks.back()) + 1, -1);
    for (int i = 0; i < conns; ++i) idx[size_t(socks[size_t(i)])] = i;
    int done = 0;
    mtcp_epoll_event evs[32];
    while (done < conns) {
        const int n = mtcp_epoll_wait(ctx, ep, evs, 32, 5000);
        if (n <= 0) return out.fail("epoll_wait timed out with " + std::to_string(done) + " done");
        for (int k = 0; k < n; ++k) {
            const int s = evs[k].data.sockid;
            const std::string msg = "conn-" + std::to_string(idx[size_t(s)]);
            if (evs[k].events & MTCP_EPOLLOUT) {
                if (evs[k].events & (MTCP_EPOLLERR | MTCP_EPOLLHUP)) return out.fail("connect");
                if (mtcp_write(ctx, s, msg.data(), msg.size()) != ssize_t(msg.size()))
                    return out.fail("write");
                mtcp_epoll_event ev{};
                ev.events = MTCP_EPOLLIN;
                ev.data.sockid = s;
                if (mtcp_epoll_ctl(ctx, ep, MTCP_EPOLL_CTL_MOD, s, &ev) != 0)
                    return out.fail("ctl mod");
                continue;
            }
            char b[32];
            const ssize_t r = mtcp_read(ctx, s, b, sizeof b);
            if (r < 0 && errno == EAGAIN) continue;
            if (r != ssize_t(msg.size()) || std::string(b, size_t(r)) != msg)
                return out.fail("echo of " + msg);
            mtcp_close(ctx, s);
            ++done;
        }
    }
    // Let the last FINs and ACKs go out.
    for (int i = 0; i < 10; ++i) (void)mtcp_epoll_wait(ctx, ep, evs, 1, 5);
    mtcp_close(ctx, ep);
}

class SwDist : public ::testing::TestWithParam<int> {};

}  // namespace

// Both cores run clients at once; each core's connections are answered on
// that core (otherwise their handshakes could not complete), and both cores'
// counters show the traffic.
TEST_P(SwDist, EchoAndManyConnectionsOnTwoCores) {
    alarm(40);
    constexpr int conns_per_core = 16;
    peer_process peer;
    const std::string conf = start_peer(peer, "sw", 2 * (conns_per_core + 1), GetParam());
    ASSERT_EQ(mtcp_init(conf.c_str()), 0) << strerror(errno);
    mctx_t c0 = mtcp_create_context(0);
    ASSERT_NE(c0, nullptr);
    outcome o0, o1;
    uint64_t rx1 = 0, opens1 = 0;
    std::thread t1([&] {
        mctx_t c1 = mtcp_create_context(1);
        if (!c1) return o1.fail("create_context(1)");
        client_core(c1, conns_per_core, o1);
        mtcp_stats st{};
        if (mtcp_get_stats(c1, &st) == 0) rx1 = st.rx_packets, opens1 = st.tcp_active_opens;
        mtcp_destroy_context(c1);
    });
    client_core(c0, conns_per_core, o0);
    t1.join();
    EXPECT_TRUE(o0.ok) << "core 0: " << o0.why;
    EXPECT_TRUE(o1.ok) << "core 1: " << o1.why;
    mtcp_stats st0{};
    ASSERT_EQ(mtcp_get_stats(c0, &st0), 0);
    EXPECT_EQ(st0.tcp_active_opens, uint64_t(conns_per_core + 1));
    EXPECT_EQ(opens1, uint64_t(conns_per_core + 1));
    EXPECT_GT(st0.rx_packets, uint64_t(conns_per_core));
    EXPECT_GT(rx1, uint64_t(conns_per_core));
    EXPECT_EQ(st0.tcp_rst_received, 0u);
    mtcp_destroy_context(c0);
    mtcp_destroy();
    EXPECT_EQ(peer.finish(), 0);
    alarm(0);
}

// Only core 1 opens connections (with mtcp_init_rss) while core 0 polls too:
// every TCP segment of those flows reaches core 1, none reaches core 0.
TEST_P(SwDist, InitRssRepliesReachTheConnectingCoreOnly) {
    alarm(40);
    peer_process peer;
    const std::string conf = start_peer(peer, "swrss", 3, GetParam());
    ASSERT_EQ(mtcp_init(conf.c_str()), 0) << strerror(errno);
    mctx_t c0 = mtcp_create_context(0);
    ASSERT_NE(c0, nullptr);
    std::atomic<bool> finished{false};
    outcome o1;
    std::thread t1([&] {
        mctx_t c1 = mtcp_create_context(1);
        if (!c1) return o1.fail("create_context(1)"), finished.store(true);
        auto peer_addr = addr(ip_child, port_echo);
        if (mtcp_init_rss(c1, INADDR_ANY, 1, peer_addr.sin_addr.s_addr, htons(port_echo)) != 0)
            o1.fail("init_rss");
        for (int i = 0; i < 3 && o1.ok; ++i) {
            const int s = mtcp_socket(c1, AF_INET, SOCK_STREAM, 0);
            if (mtcp_connect(c1, s, sa(peer_addr), sizeof peer_addr) != 0) {
                o1.fail("connect " + std::to_string(i));
                break;
            }
            char b[8];
            if (mtcp_write(c1, s, "rss", 3) != 3 || !read_all(c1, s, b, 3) ||
                std::string(b, 3) != "rss")
                o1.fail("echo");
            mtcp_close(c1, s);
        }
        const int ep = mtcp_epoll_create1(c1, 0);
        for (int i = 0; i < 10; ++i) {
            mtcp_epoll_event e[1];
            (void)mtcp_epoll_wait(c1, ep, e, 1, 5);
        }
        mtcp_destroy_context(c1);
        finished.store(true);
    });
    const int ep0 = mtcp_epoll_create1(c0, 0);
    ASSERT_GE(ep0, 0);
    while (!finished.load()) {
        mtcp_epoll_event e[1];
        (void)mtcp_epoll_wait(c0, ep0, e, 1, 5);  // core 0 keeps running its stack
    }
    t1.join();
    EXPECT_TRUE(o1.ok) << o1.why;
    char json[4096];
    ASSERT_GT(mtcp_get_stats_json(c0, json, sizeof json), 0);
    EXPECT_NE(std::string(json).find("\"segs_in\":0,"), std::string::npos) << json;
    mtcp_destroy_context(c0);
    mtcp_destroy();
    EXPECT_EQ(peer.finish(), 0);
    alarm(0);
}

INSTANTIATE_TEST_SUITE_P(Layouts, SwDist, ::testing::Values(1, 2),
                         [](const auto& p) {
                             return p.param == 1 ? std::string("OneDispatcherThread")
                                                    : std::string("RxAndTxThreads");
                         });
