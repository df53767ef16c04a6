// afxdp backend against the Linux kernel: veth pairs (1, 2 and 4 queues)
// between two test namespaces; the kernel sends and receives real UDP.
// Skips without root or when the kernel refuses AF_XDP.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

#include <set>

#include "../wait_interrupt.hpp"
#include "port_lab.hpp"

namespace mvnf::test {
namespace {

using netio::errc;

// Opens the port or skips when this kernel/container cannot do AF_XDP at all.
#define OPEN_OR_SKIP(var, lab, ...)                                                         \
    auto var = (lab).open("afxdp", __VA_ARGS__);                                            \
    if (!var && var.error().code == errc::unsupported) GTEST_SKIP() << var.error().message; \
    ASSERT_TRUE(var) << var.error().message

#define NEED_NETNS()                                                                  \
    do {                                                                              \
        if (auto why = netns_unavailable_reason(); !why.empty()) GTEST_SKIP() << why; \
    } while (0)

bool xdp_attached(port_lab& lab) {
    auto r = lab.lab().b().exec("ip link show dev " + lab.lab().b_if());
    return r.output.find("xdp") != std::string::npos;
}

TEST(afxdp, receives_kernel_udp_and_detaches_on_close) {
    NEED_NETNS();
    port_lab lab(1);
    ASSERT_TRUE(lab.ok()) << lab.error();
    {
        OPEN_OR_SKIP(p, lab, {});
        EXPECT_EQ((*p)->info().backend, "afxdp");
        EXPECT_EQ((*p)->info().mtu, 1500u);
        EXPECT_FALSE((*p)->info().zero_copy);  // veth has no zero-copy
        // ... and says so: the refused bind is the reason copy mode is used.
        EXPECT_EQ((*p)->info().copy_reason.rfind("zero-copy bind: ", 0), 0u)
            << (*p)->info().copy_reason;
        EXPECT_EQ((*p)->info().xdp_mode, "native");  // veth has driver XDP
        EXPECT_NE(describe((*p)->info()).find(" XDP native, copy mode (zero-copy bind: "),
                  std::string::npos)
            << describe((*p)->info());
        EXPECT_GE((*p)->q(0).poll_fd(), 0);
        EXPECT_TRUE(xdp_attached(lab));
        ASSERT_EQ(lab.kernel_send(4, 16, 7101), 64);
        auto got = collect_udp(**p, 7101, 64);
        ASSERT_EQ(got.size(), 64u);
        std::set<std::string> payloads;
        for (auto& r : got) {
            EXPECT_EQ(r.dgram.flow.src_ip, lab.kern_ip());
            EXPECT_EQ(r.dgram.flow.dst_mac, (*p)->info().mac);
            payloads.insert(r.dgram.payload);
        }
        EXPECT_EQ(payloads.size(), 64u);
        EXPECT_EQ(payloads.count("f2-s9"), 1u);
    }
    EXPECT_FALSE(xdp_attached(lab)) << "XDP program left on the interface after close";
}

TEST(afxdp, sends_udp_the_kernel_receives) {
    NEED_NETNS();
    port_lab lab(1);
    ASSERT_TRUE(lab.ok()) << lab.error();
    OPEN_OR_SKIP(p, lab, {.ring_size = 64});
    int fd = lab.kernel_listen(7102);
    ASSERT_GE(fd, 0);
    auto& q = (*p)->q(0);
    constexpr unsigned total = 300;  // several times the ring: frames must come back
    const unsigned sent = send_to_kernel(lab, **p, q, 7102, total, 48);
    ASSERT_EQ(sent, total);
    auto got = kernel_recv(fd, total);
    close(fd);
    std::set<std::string> uniq(got.begin(), got.end());
    EXPECT_EQ(got.size(), total);
    EXPECT_EQ(uniq.size(), total);
    EXPECT_EQ(uniq.count("pkt299"), 1u);
}

// Each queue gets exactly the frames the kernel put on that queue. The
// kernel side picks its TX queue by XPS: pinned to one CPU, with only tx-k
// mapped to that CPU, it sends on queue k, which veth delivers to rx-k.
class afxdp_multiqueue : public ::testing::TestWithParam<unsigned> {};

TEST_P(afxdp_multiqueue, frames_arrive_on_the_queue_they_were_sent_to) {
    NEED_NETNS();
    unsigned nq = GetParam();
    port_lab lab(nq);
    ASSERT_TRUE(lab.ok()) << lab.error();
    OPEN_OR_SKIP(p, lab, {.num_queues = nq, .ring_size = 256});
    ASSERT_EQ((*p)->num_queues(), nq);

    cpu_set_t saved;
    ASSERT_EQ(sched_getaffinity(0, sizeof saved, &saved), 0);
    int cpu = sched_getcpu();
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
    char mask[32];
    std::snprintf(mask, sizeof mask, "%x", 1u << (cpu % 32));
    std::string qdir = "/sys/class/net/" + lab.lab().a_if() + "/queues/";
    for (unsigned k = 0; k < nq; ++k) {
        std::string xps;
        for (unsigned j = 0; j < nq; ++j)
            xps += "echo " + std::string(j == k ? mask : "0") + " > " + qdir + "tx-" +
                   std::to_string(j) + "/xps_cpus; ";
        auto r = lab.lab().a().exec(xps);
        if (!r.ok() || cpu >= 32) {
            sched_setaffinity(0, sizeof saved, &saved);
            GTEST_SKIP() << "cannot steer with XPS here: " << r.output;
        }
        uint16_t dport = uint16_t(7110 + k);
        ASSERT_EQ(lab.kernel_send(8, 4, dport), 32);
        auto got = collect_udp(**p, dport, 32);
        EXPECT_EQ(got.size(), 32u) << "queue " << k;
        std::set<std::string> payloads;
        for (auto& rec : got) {
            EXPECT_EQ(rec.queue, k) << rec.dgram.payload;
            payloads.insert(rec.dgram.payload);
        }
        EXPECT_EQ(payloads.size(), 32u);
    }
    sched_setaffinity(0, sizeof saved, &saved);
    // And each queue sends: the kernel counts what every queue transmitted.
    int fd = lab.kernel_listen(7120);
    ASSERT_GE(fd, 0);
    for (unsigned k = 0; k < nq; ++k) {
        netio::packet b[4];
        ASSERT_EQ((*p)->q(k).alloc_tx(b), 4u);
        for (auto& pk : b)
            pk.len = uint32_t(build_udp({pk.data, pk.len}, lab.to_kernel(**p, 9000, 7120),
                                        "q" + std::to_string(k)));
        ASSERT_EQ((*p)->q(k).tx_burst(b), 4u);
        (*p)->q(k).flush();
    }
    auto got = kernel_recv(fd, 4 * nq);
    close(fd);
    EXPECT_EQ(got.size(), 4 * nq);
}

INSTANTIATE_TEST_SUITE_P(queues, afxdp_multiqueue, ::testing::Values(2u, 4u));

// thread_mode = thread: the stack thread blocks in wait() until its next
// timer and the application ends that wait with interrupt() when it posts a
// call. Two queues: each has its own interrupt, and a wait still ends on a
// frame.
TEST(afxdp, interrupt_ends_a_wait_in_progress_or_the_next_one) {
    NEED_NETNS();
    port_lab lab(2);
    ASSERT_TRUE(lab.ok()) << lab.error();
    OPEN_OR_SKIP(p, lab, {.num_queues = 2});
    for (unsigned i = 0; i < 2; ++i) {
        SCOPED_TRACE("queue " + std::to_string(i));
        check_interrupt_contract((*p)->q(i));
    }
    check_interrupts_are_per_queue(**p);
    check_frame_ends_wait(**p, [&] { return lab.kernel_send(1, 1, 7131) == 1; });
}

TEST(afxdp, more_queues_than_the_device_is_refused) {
    NEED_NETNS();
    port_lab lab(2);
    ASSERT_TRUE(lab.ok()) << lab.error();
    auto p = lab.open("afxdp", {.num_queues = 4});
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code, errc::bad_config);
    EXPECT_NE(p.error().message.find("has 2"), std::string::npos) << p.error().message;
    EXPECT_FALSE(xdp_attached(lab));
}

TEST(afxdp, frame_size_must_be_a_power_of_two_from_2048) {
    NEED_NETNS();
    port_lab lab(1);
    ASSERT_TRUE(lab.ok()) << lab.error();
    for (uint32_t bs : {1024u, 3000u}) {
        auto p = lab.open("afxdp", {.buf_size = bs});
        ASSERT_FALSE(p) << bs;
        EXPECT_EQ(p.error().code, errc::bad_config);
        EXPECT_NE(p.error().message.find("power of two"), std::string::npos) << p.error().message;
    }
}

TEST(afxdp, missing_interface_is_named) {
    NEED_NETNS();
    netns ns("e");
    ASSERT_TRUE(ns.ok()) << ns.error();
    ns_enter in(ns);
    auto p = netio::open_port("afxdp:nosuch0", {});
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code, errc::no_such_device);
    EXPECT_NE(p.error().message.find("nosuch0"), std::string::npos) << p.error().message;
}

TEST(afxdp, second_open_of_the_same_queue_is_busy) {
    NEED_NETNS();
    port_lab lab(1);
    ASSERT_TRUE(lab.ok()) << lab.error();
    OPEN_OR_SKIP(p, lab, {});
    auto p2 = lab.open("afxdp", {});
    ASSERT_FALSE(p2);
    EXPECT_EQ(p2.error().code, errc::busy) << p2.error().message;
    EXPECT_TRUE(xdp_attached(lab));  // the failed open did not take the first one's program
}

TEST(afxdp, without_capabilities_reports_permission) {
    NEED_NETNS();
    port_lab lab(1);
    ASSERT_TRUE(lab.ok()) << lab.error();
    ns_enter in(lab.lab().b());
    ASSERT_TRUE(in.ok());
    std::string ifname = lab.lab().b_if();
    int rc = run_without_caps([&] {
        auto p = netio::open_port("afxdp:" + ifname, {});
        if (p) return 1;
        return p.error().code == errc::permission ? 0 : 2;
    });
    EXPECT_EQ(rc, 0) << "1: opened without capabilities, 2: not errc::permission";
}

// A process killed with the port open leaves nothing that blocks the next.
TEST(afxdp, crashed_owner_does_not_block_a_new_open) {
    NEED_NETNS();
    port_lab lab(1);
    ASSERT_TRUE(lab.ok()) << lab.error();
    int pfd[2];
    ASSERT_EQ(pipe(pfd), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        auto p = lab.open("afxdp", {});
        char c = p ? 'y' : 'n';
        (void)!write(pfd[1], &c, 1);
        if (p) raise(SIGKILL);  // no destructors: as a crash would
        _exit(1);
    }
    char c = 0;
    ASSERT_EQ(read(pfd[0], &c, 1), 1);
    close(pfd[0]);
    close(pfd[1]);
    int st = 0;
    waitpid(pid, &st, 0);
    if (c != 'y') GTEST_SKIP() << "child could not open afxdp";
    EXPECT_FALSE(xdp_attached(lab));
    OPEN_OR_SKIP(p, lab, {});
    ASSERT_EQ(lab.kernel_send(1, 4, 7130), 4);
    EXPECT_EQ(collect_udp(**p, 7130, 4).size(), 4u);
}

}  // namespace
}  // namespace mvnf::test
