// Tests of the arp.conf / route.conf parsers (mTCP formats) and the route
// table: good files, and each error naming file, line and cause.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "net/arp/conf.hpp"

using namespace mvnf;
using namespace mvnf::arp;

TEST(ArpConf, ParsesMtcpExample) {
    const char* text =
        "# ARP_ENTRY [# of entries]\n"
        "# [dest IP/prefix] [dest MAC]\n"
        "ARP_ENTRY 2\n"
        "10.0.0.1/32 00:11:22:33:44:55\n"
        "\n"
        "10.0.1.0/24   00:11:22:33:44:66   # a whole subnet through one MAC\n";
    auto r = parse_arp_conf(text, "arp.conf");
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].ip, ipv4_addr(10, 0, 0, 1));
    EXPECT_EQ((*r)[0].prefix_len, 32u);
    EXPECT_EQ((*r)[1].prefix_len, 24u);
    EXPECT_EQ((*r)[1].mac.str(), "00:11:22:33:44:66");

    table t(64);
    ASSERT_TRUE(add_static_entries(t, *r, "arp.conf"));
    EXPECT_EQ(t.lookup(ipv4_addr(10, 0, 1, 77), 0).state, entry_state::permanent);
    EXPECT_EQ(t.lookup(ipv4_addr(10, 0, 0, 1), 0).mac.str(), "00:11:22:33:44:55");
}

TEST(ArpConf, ErrorsNameFileLineAndCause) {
    struct tcase {
        const char* text;
        unsigned line;
        const char* contains;
    };
    const tcase cases[] = {
        {"ROUTES 1\n", 1, "expected 'ARP_ENTRY"},
        {"ARP_ENTRY x\n", 1, "bad entry count"},
        {"ARP_ENTRY 1\n10.0.0.300/32 00:11:22:33:44:55\n", 2, "bad IPv4 address"},
        {"ARP_ENTRY 1\n10.0.0.1/40 00:11:22:33:44:55\n", 2, "bad prefix length"},
        {"ARP_ENTRY 1\n10.0.0.1/32 00:11:22:33:44\n", 2, "bad MAC address"},
        {"ARP_ENTRY 1\n10.0.0.1/32 01:00:5e:00:00:01\n", 2, "multicast"},
        {"ARP_ENTRY 1\n10.0.0.1/32\n", 2, "expected '<ip>/<prefix> <mac>'"},
        {"ARP_ENTRY 1\n10.0.0.1 00:11:22:33:44:55\n10.0.0.2 00:11:22:33:44:56\n", 3,
         "more entries"},
        {"# only comments\n", 0, "missing 'ARP_ENTRY"},
        {"ARP_ENTRY 3\n10.0.0.1 00:11:22:33:44:55\n", 0, "3 entries declared, 1 found"},
    };
    for (const auto& c : cases) {
        auto r = parse_arp_conf(c.text, "my/arp.conf");
        ASSERT_FALSE(r) << c.text;
        EXPECT_EQ(r.error().file, "my/arp.conf");
        EXPECT_EQ(r.error().line, c.line) << c.text;
        EXPECT_NE(r.error().message().find(c.contains), std::string::npos)
            << r.error().message();
    }
}

TEST(RouteConf, ParsesRoutesAndDefaultGateway) {
    const char* text =
        "ROUTES 3\n"
        "10.0.0.0/24 dpdk0\n"
        "10.0.0.128/25 dpdk0 10.0.0.1\n"
        "default dpdk0 10.0.0.254\n";
    auto r = parse_route_conf(text, "route.conf");
    ASSERT_TRUE(r) << r.error().message();
    route_table rt;
    for (auto& e : *r) rt.add(e);
    auto h = rt.lookup(ipv4_addr(10, 0, 0, 5));  // on-link: the destination itself
    ASSERT_TRUE(h);
    EXPECT_EQ(h->next_hop, ipv4_addr(10, 0, 0, 5));
    EXPECT_EQ(rt.lookup(ipv4_addr(10, 0, 0, 200))->next_hop, ipv4_addr(10, 0, 0, 1));
    EXPECT_EQ(rt.lookup(ipv4_addr(8, 8, 8, 8))->next_hop, ipv4_addr(10, 0, 0, 254));
    EXPECT_EQ(rt.lookup(ipv4_addr(8, 8, 8, 8))->route->dev, "dpdk0");

    route_table none;
    none.add({ipv4_addr(10, 0, 0, 0), 24, "dpdk0", {}});
    EXPECT_FALSE(none.lookup(ipv4_addr(8, 8, 8, 8)));
}

// mTCP's sample route.conf writes the default route as GW_IP/0 dev.
TEST(RouteConf, MtcpDefaultRouteNamesTheGateway) {
    auto r = parse_route_conf("ROUTES 2\n10.0.0.0/24 dpdk0\n10.0.0.10/0 dpdk0\n", "route.conf");
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ((*r)[1].prefix_len, 0u);
    EXPECT_EQ((*r)[1].gateway, ipv4_addr(10, 0, 0, 10));
    route_table rt;
    for (auto& e : *r) rt.add(e);
    EXPECT_EQ(rt.lookup(ipv4_addr(8, 8, 8, 8))->next_hop, ipv4_addr(10, 0, 0, 10));
    EXPECT_EQ(rt.lookup(ipv4_addr(10, 0, 0, 5))->next_hop, ipv4_addr(10, 0, 0, 5));
    // 0.0.0.0/0 without a gateway column stays on-link, as before.
    auto on_link = parse_route_conf("ROUTES 1\n0.0.0.0/0 dpdk0\n", "route.conf");
    ASSERT_TRUE(on_link);
    EXPECT_TRUE((*on_link)[0].gateway.is_any());
}

TEST(RouteConf, Errors) {
    auto r = parse_route_conf("ROUTES 1\n10.0.0.0/24 dpdk0 10.0.0\n", "route.conf");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().line, 2u);
    EXPECT_NE(r.error().reason.find("bad gateway"), std::string::npos);
    r = parse_route_conf("ROUTES 1\n10.0.0.0/24\n", "route.conf");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().reason.find("<dev>"), std::string::npos);
}

TEST(ArpConf, LoadFile) {
    auto missing = load_arp_conf("/nonexistent/arp.conf");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message().find("/nonexistent/arp.conf: cannot open"),
              std::string::npos);
    char path[] = "/tmp/mvnf_arp_conf_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    std::ofstream(path) << "ARP_ENTRY 1\n192.168.1.1/32 aa:bb:cc:dd:ee:f0\n";
    auto r = load_arp_conf(path);
    std::remove(path);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->at(0).ip, ipv4_addr(192, 168, 1, 1));
}
