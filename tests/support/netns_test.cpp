// Tests of the namespace/veth helper itself: everything it creates is
// reachable while it lives and gone after its destructor.
#include <gtest/gtest.h>

#include "netns.hpp"

namespace mvnf::test {
namespace {

TEST(netns, veth_lab_creates_and_removes_everything) {
    if (auto why = netns_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
    std::string na, nb;
    {
        veth_lab lab({.queues = 2, .addr_a = "10.77.0.1/24", .addr_b = "10.77.0.2/24"});
        ASSERT_TRUE(lab.ok()) << lab.error();
        na = lab.a().name();
        nb = lab.b().name();
        auto q = lab.b().exec("ls /sys/class/net/" + lab.b_if() + "/queues");
        EXPECT_NE(q.output.find("rx-1"), std::string::npos) << q.output;
        auto addr = lab.a().exec("ip addr show dev " + lab.a_if());
        EXPECT_NE(addr.output.find("10.77.0.1/24"), std::string::npos) << addr.output;
        EXPECT_NE(addr.output.find("state UP"), std::string::npos) << addr.output;
        {
            ns_enter in(lab.b());
            ASSERT_TRUE(in.ok()) << in.error();
        }
        EXPECT_EQ(lab.mac_of(lab.a(), lab.a_if()).size(), 17u);
        EXPECT_TRUE(lab.rx_packets(lab.b(), lab.b_if()).has_value());
    }
    auto list = run("ip netns list");
    EXPECT_EQ(list.output.find(na), std::string::npos) << list.output;
    EXPECT_EQ(list.output.find(nb), std::string::npos) << list.output;
}

TEST(netns, exec_reports_exit_status_and_output) {
    if (auto why = netns_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
    netns ns("x");
    ASSERT_TRUE(ns.ok()) << ns.error();
    auto r = ns.exec("echo hello; exit 3");
    EXPECT_EQ(r.status, 3);
    EXPECT_EQ(r.output, "hello\n");
}

}  // namespace
}  // namespace mvnf::test
