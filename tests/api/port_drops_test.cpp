// The port's own drops reach the C API in both dispatch modes: frames a tap
// port refuses (longer than its buffers: the kernel side's MTU is raised to
// 9000) show in `queue.rx_dropped` with hw dispatch, where the core drives
// the port, and in `port.rx_dropped_port` with sw dispatch, where only the
// dispatcher thread may read the port and publishes its counts. Both count
// in `drops` and appear in the JSON. Root only (a tap in a network namespace
// of this test process's own); skips otherwise. Then the transmit side:
// with the tap down every write fails, and the frames the stack sends show
// in `queue.tx_dropped` (hw) or `port.tx_dropped_port` (sw).
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "mtcp/mtcp_api.h"
#include "mtcp/mtcp_epoll.h"
#include "mtcp/mtcp_stats.h"

namespace {

constexpr int oversize_frames = 5;

void run(bool sw) {
    if (::geteuid() != 0 || ::access("/dev/net/tun", F_OK) != 0)
        GTEST_SKIP() << "needs root and /dev/net/tun";
    if (::unshare(CLONE_NEWNET) != 0) GTEST_SKIP() << "cannot create a network namespace";
    std::ofstream("/proc/sys/net/ipv6/conf/default/disable_ipv6") << "1\n";
    std::ofstream("/proc/sys/net/ipv6/conf/all/disable_ipv6") << "1\n";
    const std::string tap = "mvdrop" + std::to_string(::getpid() % 100000);
    char dir[] = "/tmp/mtcp_port_dropsXXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    const std::string conf = std::string(dir) + "/mtcp.conf";
    {
        std::ofstream f(conf);
        f << "port = tap:" << tap << "\n"
          << "num_cores = 1\n"
          << "dist_mode = " << (sw ? "sw" : "hw") << "\n"
          << "ip_addr = 10.79.0.1\n"
          << "max_concurrency = 16\n"
          << "max_num_buffers = 1024\n"
          << "ring_size = 256\n";
    }
    ASSERT_EQ(mtcp_init(conf.c_str()), 0);
    mctx_t ctx = mtcp_create_context(0);
    ASSERT_NE(ctx, nullptr);
    const int ep = mtcp_epoll_create1(ctx, 0);
    ASSERT_GE(ep, 0);
    ASSERT_EQ(std::system(("ip link set dev " + tap + " mtu 9000 up").c_str()), 0);

    // Frames of 3000 bytes from the kernel side: larger than the port's
    // buffers (mtu 1500), so the port drops each one and counts it.
    const int fd = ::socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    ASSERT_GE(fd, 0);
    sockaddr_ll ll{};
    ll.sll_family = AF_PACKET;
    ll.sll_ifindex = int(if_nametoindex(tap.c_str()));
    ll.sll_halen = 6;
    ASSERT_GT(ll.sll_ifindex, 0);
    std::vector<unsigned char> frame(3000, 0x5a);
    for (int i = 0; i < 6; ++i) frame[i] = 0xff;
    frame[12] = 0x08, frame[13] = 0x00;
    for (int i = 0; i < oversize_frames; ++i)
        ASSERT_EQ(::sendto(fd, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&ll),
                           sizeof ll),
                  ssize_t(frame.size()))
            << std::strerror(errno);
    ::close(fd);

    // Bounded: the stack (and in sw mode the dispatcher) runs while we wait.
    mtcp_stats s{};
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    auto seen = [&] { return sw ? s.port.rx_dropped_port : s.queue.rx_dropped; };
    while (std::chrono::steady_clock::now() < end) {
        mtcp_epoll_event ev[1];
        (void)mtcp_epoll_wait(ctx, ep, ev, 1, 20);
        ASSERT_EQ(mtcp_get_stats(ctx, &s), 0);
        if (seen() >= uint64_t(oversize_frames)) break;
    }
    EXPECT_EQ(seen(), uint64_t(oversize_frames)) << (sw ? "port.rx_dropped_port" : "queue.rx_dropped");
    EXPECT_GE(s.drops, uint64_t(oversize_frames));
    std::vector<char> json(1 << 16);
    ASSERT_GT(mtcp_get_stats_json(ctx, json.data(), json.size()), 0);
    const std::string want = sw ? "\"rx_dropped_port\":" + std::to_string(oversize_frames)
                                : "\"rx_dropped\":" + std::to_string(oversize_frames);
    EXPECT_NE(std::string(json.data()).find(want), std::string::npos) << json.data();

    // Transmit: with the tap down the kernel refuses every write (EIO), so
    // the port drops what the stack sends — here the ARP requests of a
    // connect to a neighbour not yet resolved — and counts each one.
    ASSERT_EQ(std::system(("ip link set dev " + tap + " down").c_str()), 0);
    const int c = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(c, 0);
    ASSERT_EQ(mtcp_setsock_nonblock(ctx, c), 0);
    sockaddr_in peer{};
    peer.sin_family = AF_INET;
    peer.sin_port = htons(80);
    peer.sin_addr.s_addr = htonl(0x0a4f0002);  // 10.79.0.2
    const int rc = mtcp_connect(ctx, c, reinterpret_cast<sockaddr*>(&peer), sizeof peer);
    EXPECT_TRUE(rc == 0 || errno == EINPROGRESS) << std::strerror(errno);
    const uint64_t drops_before_tx = s.drops;
    auto seen_tx = [&] { return sw ? s.port.tx_dropped_port : s.queue.tx_dropped; };
    const auto tx_end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < tx_end) {
        mtcp_epoll_event ev[1];
        (void)mtcp_epoll_wait(ctx, ep, ev, 1, 20);
        ASSERT_EQ(mtcp_get_stats(ctx, &s), 0);
        if (seen_tx() >= 1) break;
    }
    EXPECT_GE(seen_tx(), 1u) << (sw ? "port.tx_dropped_port" : "queue.tx_dropped");
    EXPECT_GE(s.drops, drops_before_tx + seen_tx());
    ASSERT_GT(mtcp_get_stats_json(ctx, json.data(), json.size()), 0);
    const std::string key = sw ? "\"tx_dropped_port\":" : "\"tx_dropped\":";
    const size_t at = std::string(json.data()).find(key);
    ASSERT_NE(at, std::string::npos) << json.data();
    EXPECT_GE(std::strtoull(json.data() + at + key.size(), nullptr, 10), 1u) << json.data();
    mtcp_close(ctx, c);
    mtcp_destroy_context(ctx);
    mtcp_destroy();
    std::remove(conf.c_str());
    ::rmdir(dir);
}

TEST(ApiPortDrops, TapOversizeFramesCountedWithHwDispatch) { run(false); }
TEST(ApiPortDrops, TapOversizeFramesCountedWithSwDispatch) { run(true); }

}  // namespace
