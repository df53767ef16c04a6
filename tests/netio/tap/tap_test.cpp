// tap backend against the Linux kernel: this process creates the tap, the
// test moves it into a namespace it owns, and UDP flows both ways between the
// kernel's sockets and our port; multi-queue with 2 queues; error paths.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <set>

#include "../wait_interrupt.hpp"
#include "frames.hpp"
#include "netio/port.hpp"
#include "netns.hpp"

namespace mvnf::netio {
namespace {

using mvnf::test::netns;

std::string unique_tap(const char* tag) {
    static int counter = 0;
    return "mvt" + std::string(tag) + std::to_string(getpid() % 100000) + "_" +
           std::to_string(counter++);
}

#define NEED_ROOT()                                                               \
    do {                                                                          \
        std::string why = mvnf::test::netns_unavailable_reason();                \
        if (!why.empty()) GTEST_SKIP() << why;                                    \
        if (::access("/dev/net/tun", F_OK) != 0) GTEST_SKIP() << "no /dev/net/tun"; \
    } while (0)

// The tap moved into `ns`, addressed 10.77.0.1/24, with our MAC as the static
// neighbour 10.77.0.2.
struct tap_lab {
    netns ns{"tap"};
    std::unique_ptr<port> p;
    std::string ifname;
    mac_addr kernel_mac;
    std::string error;

    bool setup(unsigned queues) {
        if (!ns.ok()) return fail("netns: " + ns.error());
        ifname = unique_tap("q");
        port_config cfg;
        cfg.num_queues = queues;
        cfg.ring_size = 256;
        auto r = open_port("tap:" + ifname, cfg);
        if (!r) return fail(r.error().message);
        p = std::move(*r);
        auto run = [&](const std::string& c) { return mvnf::test::run(c); };
        if (!run("ip link set " + ifname + " netns " + ns.name()).ok()) return fail("move");
        std::string mac_line =
            ns.exec("cat /sys/class/net/" + ifname + "/address").output;
        auto m = mac_addr::parse(mac_line.substr(0, 17));
        if (!m) return fail("kernel MAC: " + mac_line);
        kernel_mac = *m;
        for (const std::string& c :
             {"sysctl -qw net.ipv6.conf." + ifname + ".disable_ipv6=1",
              "ip addr add 10.77.0.1/24 dev " + ifname, "ip link set " + ifname + " up",
              "ip neigh replace 10.77.0.2 lladdr " + p->info().mac.str() + " dev " + ifname +
                  " nud permanent"}) {
            auto res = ns.exec(c);
            if (!res.ok()) return fail(c + ": " + res.output);
        }
        return true;
    }
    bool fail(const std::string& e) {
        error = e;
        return false;
    }
};

// A UDP socket in ns bound to 10.77.0.1:port.
int bound_udp(const netns& ns, uint16_t port) {
    int s = mvnf::test::socket_in(ns, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (s < 0) return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(ipv4_addr(10, 77, 0, 1).v);
    if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
        ::close(s);
        return -1;
    }
    return s;
}

bool send_to_us(int s, uint16_t dport, const std::string& payload) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(dport);
    a.sin_addr.s_addr = htonl(ipv4_addr(10, 77, 0, 2).v);
    return ::sendto(s, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&a),
                    sizeof a) == ssize_t(payload.size());
}

// Collects UDP datagrams addressed to 10.77.0.2 from every queue until
// `want` arrived or ~5 s passed (a bound, not a pass/fail threshold).
std::vector<std::pair<unsigned, mvnf::test::udp_seen>> receive(port& p, size_t want) {
    std::vector<std::pair<unsigned, mvnf::test::udp_seen>> got;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (got.size() < want && std::chrono::steady_clock::now() < end) {
        bool any = false;
        for (unsigned q = 0; q < p.num_queues(); ++q) {
            packet b[16];
            unsigned n = p.q(q).rx_burst(b);
            for (unsigned i = 0; i < n; ++i) {
                auto u = mvnf::test::parse_udp({b[i].data, b[i].len});
                if (u && u->flow.dst_ip == ipv4_addr(10, 77, 0, 2)) got.emplace_back(q, *u);
            }
            p.q(q).release({b, n});
            any |= n > 0;
        }
        if (!any) p.q(0).wait(20'000'000);
    }
    return got;
}

bool send_from_us(queue& q, const port_info& info, const mac_addr& dst, uint16_t sport,
                  const std::string& payload) {
    packet b[1];
    if (q.alloc_tx(b) != 1) return false;
    mvnf::test::udp_flow f{info.mac, dst, ipv4_addr(10, 77, 0, 2), ipv4_addr(10, 77, 0, 1),
                           sport, 9001};
    b[0].len = uint32_t(mvnf::test::build_udp({b[0].data, b[0].len}, f, payload));
    bool ok = q.tx_burst(b) == 1;
    if (!ok) q.free_tx(b);
    q.flush();
    return ok;
}

std::string recv_payload(int s) {
    pollfd pfd{s, POLLIN, 0};
    if (::poll(&pfd, 1, 5000) <= 0) return "";
    char buf[2048];
    ssize_t n = ::recv(s, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, size_t(n)) : "";
}

TEST(TapPort, KernelToUsAndBack) {
    NEED_ROOT();
    tap_lab lab;
    ASSERT_TRUE(lab.setup(1)) << lab.error;
    const port_info& info = lab.p->info();
    EXPECT_EQ(info.backend, "tap");
    EXPECT_EQ(info.num_queues, 1u);
    EXPECT_NE(info.mac, lab.kernel_mac);
    EXPECT_EQ(info.mac.b[0] & 0x03, 0x02);  // locally administered unicast
    EXPECT_EQ(info.mtu, 1500u);
    EXPECT_GE(lab.p->q(0).poll_fd(), 0);

    int s = bound_udp(lab.ns, 9001);
    ASSERT_GE(s, 0);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(send_to_us(s, 9000, "hello-" + std::to_string(i)));
    auto got = receive(*lab.p, 5);
    ASSERT_EQ(got.size(), 5u);
    for (size_t i = 0; i < got.size(); ++i) {
        const auto& u = got[i].second;
        EXPECT_EQ(u.flow.dst_mac, info.mac);
        EXPECT_EQ(u.flow.src_mac, lab.kernel_mac);
        EXPECT_EQ(u.flow.src_ip, ipv4_addr(10, 77, 0, 1));
        EXPECT_EQ(u.flow.dst_port, 9000);
        EXPECT_EQ(u.payload, "hello-" + std::to_string(i));
    }
    EXPECT_GE(lab.p->q(0).stats().rx_packets, 5u);

    ASSERT_TRUE(send_from_us(lab.p->q(0), info, lab.kernel_mac, 4000, "from-user-space"));
    EXPECT_EQ(recv_payload(s), "from-user-space");
    EXPECT_EQ(lab.p->q(0).stats().tx_packets, 1u);
    ::close(s);
}

TEST(TapPort, TwoQueues) {
    NEED_ROOT();
    tap_lab lab;
    ASSERT_TRUE(lab.setup(2)) << lab.error;
    ASSERT_EQ(lab.p->num_queues(), 2u);
    EXPECT_NE(lab.p->q(0).poll_fd(), lab.p->q(1).poll_fd());

    // Many flows (source ports) so the kernel's flow hash spreads them.
    std::vector<int> socks;
    for (uint16_t i = 0; i < 16; ++i) {
        int s = bound_udp(lab.ns, uint16_t(9100 + i));
        ASSERT_GE(s, 0);
        socks.push_back(s);
        ASSERT_TRUE(send_to_us(s, 9000, "flow-" + std::to_string(i)));
    }
    auto got = receive(*lab.p, 16);
    EXPECT_EQ(got.size(), 16u);
    std::set<std::string> payloads;
    for (auto& [q, u] : got) payloads.insert(u.payload);
    EXPECT_EQ(payloads.size(), 16u);
    for (int s : socks) ::close(s);

    // Both queues transmit.
    int s = bound_udp(lab.ns, 9001);
    ASSERT_GE(s, 0);
    ASSERT_TRUE(send_from_us(lab.p->q(0), lab.p->info(), lab.kernel_mac, 4000, "via-q0"));
    EXPECT_EQ(recv_payload(s), "via-q0");
    ASSERT_TRUE(send_from_us(lab.p->q(1), lab.p->info(), lab.kernel_mac, 4001, "via-q1"));
    EXPECT_EQ(recv_payload(s), "via-q1");
    ::close(s);
}

TEST(TapPort, BuffersAreBoundedAndChecked) {
    NEED_ROOT();
    port_config cfg;
    cfg.ring_size = 4;
    auto p = open_port("tap:" + unique_tap("b"), cfg);
    ASSERT_TRUE(p) << p.error().message;
    queue& q = (*p)->q(0);
    packet b[8];
    EXPECT_EQ(q.alloc_tx(b), 4u);  // ring_size tx buffers, no more
    packet more[1];
    EXPECT_EQ(q.alloc_tx(more), 0u);
    // A frame that is not ours is refused and stays with the caller.
    packet foreign{b[0].data, 60, 9999};
    EXPECT_EQ(q.tx_burst({&foreign, 1}), 0u);
    q.free_tx({b, 4});
    q.free_tx({b, 4});  // double free is ignored
    EXPECT_EQ(q.alloc_tx(b), 4u);
    q.free_tx({b, 4});
    EXPECT_FALSE(q.wait(0));
}

// thread_mode = thread: the stack thread blocks in wait() until its next
// timer and the application ends that wait with interrupt() when it posts a
// call. Each queue has its own interrupt; a wait still ends on a frame.
TEST(TapPort, InterruptEndsAWaitInProgressOrTheNextOne) {
    NEED_ROOT();
    tap_lab lab;
    ASSERT_TRUE(lab.setup(2)) << lab.error;
    for (unsigned qi = 0; qi < 2; ++qi) {
        SCOPED_TRACE("queue " + std::to_string(qi));
        mvnf::test::check_interrupt_contract(lab.p->q(qi));
    }
    mvnf::test::check_interrupts_are_per_queue(*lab.p);
    int s = bound_udp(lab.ns, 9001);
    ASSERT_GE(s, 0);
    mvnf::test::check_frame_ends_wait(*lab.p, [&] { return send_to_us(s, 9000, "wake"); });
    ::close(s);
}

TEST(TapPort, Errors) {
    auto bad = open_port("tap:bad/name", {});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, errc::bad_spec);
    EXPECT_NE(bad.error().message.find("tap:bad/name"), std::string::npos);
    bad = open_port("tap:..", {});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, errc::bad_spec);

    NEED_ROOT();
    // Without capabilities: a clear permission error.
    std::string name = unique_tap("p");
    int rc = mvnf::test::run_without_caps([&] {
        auto r = open_port("tap:" + name, {});
        if (r) return 1;
        if (r.error().code != errc::permission) return 2;
        if (r.error().message.find("root") == std::string::npos) return 3;
        return 0;
    });
    if (rc == 120) GTEST_SKIP() << "could not drop capabilities";
    EXPECT_EQ(rc, 0);

    // A single-queue tap asked for 2 queues: the kernel refuses, we say why.
    std::string one = unique_tap("s");
    auto first = open_port("tap:" + one, {});
    ASSERT_TRUE(first) << first.error().message;
    port_config two;
    two.num_queues = 2;
    auto again = open_port("tap:" + one, two);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, errc::bad_config);
    EXPECT_NE(again.error().message.find("multi-queue"), std::string::npos)
        << again.error().message;

    // An existing interface that is not a tap.
    auto lo = open_port("tap:lo", {});
    ASSERT_FALSE(lo);
    EXPECT_NE(lo.error().message.find("not a tap"), std::string::npos) << lo.error().message;
}

}  // namespace
}  // namespace mvnf::netio
