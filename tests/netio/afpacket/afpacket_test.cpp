// afpacket backend against the Linux kernel: a veth pair between two test
// namespaces; the kernel sends and receives real UDP datagrams through it.
// Skips without root. Shares its lab with the afxdp tests (port_lab.hpp).
#include <gtest/gtest.h>

#include <set>

#include "../wait_interrupt.hpp"
#include "port_lab.hpp"

namespace mvnf::test {
namespace {

using netio::errc;

#define NEED_NETNS()                                                                  \
    do {                                                                              \
        if (auto why = netns_unavailable_reason(); !why.empty()) GTEST_SKIP() << why; \
    } while (0)

TEST(afpacket, receives_kernel_udp_intact) {
    NEED_NETNS();
    port_lab lab(1);
    ASSERT_TRUE(lab.ok()) << lab.error();
    auto p = lab.open("afpacket", {});
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ((*p)->info().backend, "afpacket");
    EXPECT_EQ((*p)->info().mtu, 1500u);
    EXPECT_EQ((*p)->info().mac.str(), lab.lab().mac_of(lab.lab().b(), lab.lab().b_if()));

    ASSERT_EQ(lab.kernel_send(4, 16, 7001), 64);
    auto got = collect_udp(**p, 7001, 64);
    ASSERT_EQ(got.size(), 64u);
    std::set<std::string> payloads;
    for (auto& r : got) {
        EXPECT_EQ(r.queue, 0u);
        EXPECT_EQ(r.dgram.flow.src_ip, lab.kern_ip());
        EXPECT_EQ(r.dgram.flow.dst_ip, lab.our_ip());
        EXPECT_EQ(r.dgram.flow.dst_mac, (*p)->info().mac);
        payloads.insert(r.dgram.payload);
    }
    EXPECT_EQ(payloads.size(), 64u);  // each once: no duplicates, nothing corrupt
    EXPECT_EQ(payloads.count("f3-s15"), 1u);
    auto st = (*p)->q(0).stats();
    EXPECT_GE(st.rx_packets, 64u);
}

TEST(afpacket, sends_udp_the_kernel_receives) {
    NEED_NETNS();
    port_lab lab(1);
    ASSERT_TRUE(lab.ok()) << lab.error();
    auto p = lab.open("afpacket", {.ring_size = 64});
    ASSERT_TRUE(p) << p.error().message;
    int fd = lab.kernel_listen(7002);
    ASSERT_GE(fd, 0);
    auto& q = (*p)->q(0);
    constexpr unsigned total = 200;  // more than the ring: exercises wrap and reuse
    const unsigned sent = send_to_kernel(lab, **p, q, 7002, total, 16);
    ASSERT_EQ(sent, total);
    auto got = kernel_recv(fd, total);
    close(fd);
    ASSERT_EQ(got.size(), total);
    std::set<std::string> uniq(got.begin(), got.end());
    EXPECT_EQ(uniq.size(), total);
    EXPECT_EQ(uniq.count("pkt199"), 1u);
    EXPECT_EQ(q.stats().tx_packets, total);
}

// Fanout spreads flows over software queues, also on a one-queue device,
// and keeps every flow on one queue.
TEST(afpacket, fanout_keeps_each_flow_on_one_queue) {
    NEED_NETNS();
    port_lab lab(1);
    ASSERT_TRUE(lab.ok()) << lab.error();
    auto p = lab.open("afpacket", {.num_queues = 4});
    ASSERT_TRUE(p) << p.error().message;
    ASSERT_EQ((*p)->num_queues(), 4u);
    ASSERT_EQ(lab.kernel_send(64, 4, 7003), 256);
    auto got = collect_udp(**p, 7003, 256);
    ASSERT_EQ(got.size(), 256u);
    std::map<uint16_t, std::set<unsigned>> queues_of_flow;
    std::set<unsigned> used;
    std::set<std::string> payloads;
    for (auto& r : got) {
        queues_of_flow[r.dgram.flow.src_port].insert(r.queue);
        used.insert(r.queue);
        payloads.insert(r.dgram.payload);
    }
    EXPECT_EQ(payloads.size(), 256u);  // no frame seen by two sockets
    EXPECT_EQ(queues_of_flow.size(), 64u);
    for (auto& [port, qs] : queues_of_flow) EXPECT_EQ(qs.size(), 1u) << "flow " << port;
    EXPECT_GE(used.size(), 2u);  // 64 flows over 4 queues: one queue for all is ~4^-63
}

// Our own transmissions must not come back on our receive rings.
TEST(afpacket, does_not_receive_its_own_frames) {
    NEED_NETNS();
    port_lab lab(1);
    ASSERT_TRUE(lab.ok()) << lab.error();
    auto p = lab.open("afpacket", {.num_queues = 2});
    ASSERT_TRUE(p) << p.error().message;
    auto& q = (*p)->q(0);
    netio::packet b[8];
    unsigned n = q.alloc_tx(b);
    ASSERT_EQ(n, 8u);
    for (unsigned i = 0; i < n; ++i)
        b[i].len = uint32_t(build_udp({b[i].data, b[i].len}, lab.to_kernel(**p, 9000, 7004), "x"));
    ASSERT_EQ(q.tx_burst({b, n}), n);
    q.flush();
    // Then the kernel sends one datagram; any echo of ours would sit in the
    // rings before it. Keep reading a little after it to catch the echoes
    // of the other queue too.
    ASSERT_EQ(lab.kernel_send(1, 1, 7005), 1);
    netio::packet rx[32];
    unsigned echoed = 0, seen = 0, extra_rounds = 20;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < end && extra_rounds) {
        if (seen) --extra_rounds;
        for (unsigned i = 0; i < 2; ++i) {
            unsigned m = (*p)->q(i).rx_burst(rx);
            for (unsigned k = 0; k < m; ++k) {
                auto s = parse_udp({rx[k].data, rx[k].len});
                if (s && s->flow.dst_port == 7004) ++echoed;
                if (s && s->flow.dst_port == 7005) ++seen;
            }
            (*p)->q(i).release({rx, m});
        }
        (*p)->q(0).wait(2'000'000);
    }
    EXPECT_EQ(seen, 1u);
    EXPECT_EQ(echoed, 0u);
}

// thread_mode = thread: the stack thread blocks in wait() until its next
// timer and the application ends that wait with interrupt() when it posts a
// call. Two fanout sockets: each queue has its own interrupt, and a wait
// still ends on a frame.
TEST(afpacket, interrupt_ends_a_wait_in_progress_or_the_next_one) {
    NEED_NETNS();
    port_lab lab(1);
    ASSERT_TRUE(lab.ok()) << lab.error();
    auto p = lab.open("afpacket", {.num_queues = 2});
    ASSERT_TRUE(p) << p.error().message;
    for (unsigned i = 0; i < 2; ++i) {
        SCOPED_TRACE("queue " + std::to_string(i));
        check_interrupt_contract((*p)->q(i));
    }
    check_interrupts_are_per_queue(**p);
    check_frame_ends_wait(**p, [&] { return lab.kernel_send(1, 1, 7006) == 1; });
}

TEST(afpacket, missing_interface_is_named) {
    NEED_NETNS();
    netns ns("e");
    ASSERT_TRUE(ns.ok()) << ns.error();
    ns_enter in(ns);
    auto p = netio::open_port("afpacket:nosuch0", {});
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code, errc::no_such_device);
    EXPECT_NE(p.error().message.find("nosuch0"), std::string::npos) << p.error().message;
}

TEST(afpacket, buffer_smaller_than_mtu_is_refused) {
    NEED_NETNS();
    port_lab lab(1);
    ASSERT_TRUE(lab.ok()) << lab.error();
    auto p = lab.open("afpacket", {.buf_size = 1024});
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code, errc::bad_config);
    EXPECT_NE(p.error().message.find("MTU 1500"), std::string::npos) << p.error().message;
    auto p2 = lab.open("afpacket", {.mtu = 9000});
    ASSERT_FALSE(p2);
    EXPECT_EQ(p2.error().code, errc::bad_config);
}

TEST(afpacket, without_capabilities_reports_permission) {
    NEED_NETNS();
    port_lab lab(1);
    ASSERT_TRUE(lab.ok()) << lab.error();
    ns_enter in(lab.lab().b());
    ASSERT_TRUE(in.ok());
    std::string ifname = lab.lab().b_if();
    int rc = run_without_caps([&] {
        auto p = netio::open_port("afpacket:" + ifname, {});
        if (p) return 1;
        if (p.error().code != errc::permission) return 2;
        return p.error().message.find("CAP_NET_RAW") != std::string::npos ? 0 : 3;
    });
    EXPECT_EQ(rc, 0) << "1: opened, 2: wrong code, 3: message lacks the capability";
}

}  // namespace
}  // namespace mvnf::test
