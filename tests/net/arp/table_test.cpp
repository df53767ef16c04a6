// Tests of the shared ARP table: static and prefix entries, learning, ageing,
// the failed hold-down, a full table, and concurrent writers/readers.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "net/arp/table.hpp"

using namespace mvnf;
using namespace mvnf::arp;
using net::msec;
using net::sec;

namespace {
const mac_addr mac_a{{0x02, 0, 0, 0, 0, 0xaa}};
const mac_addr mac_b{{0x02, 0, 0, 0, 0, 0xbb}};
}  // namespace

TEST(ArpTable, StaticEntriesNeverAgeOrChange) {
    table t(64, sec(10));
    ASSERT_TRUE(t.add_static(ipv4_addr(10, 0, 0, 2), 32, mac_a));
    EXPECT_EQ(t.lookup(ipv4_addr(10, 0, 0, 2), sec(1000)).state, entry_state::permanent);
    EXPECT_EQ(t.learn(ipv4_addr(10, 0, 0, 2), mac_b, 0), table::update_result::is_static);
    EXPECT_EQ(t.lookup(ipv4_addr(10, 0, 0, 2), 0).mac, mac_a);
}

TEST(ArpTable, PrefixEntriesLongestFirst) {
    table t(64);
    ASSERT_TRUE(t.add_static(ipv4_addr(10, 0, 0, 0), 8, mac_a));
    ASSERT_TRUE(t.add_static(ipv4_addr(10, 1, 0, 0), 16, mac_b));
    EXPECT_EQ(t.lookup(ipv4_addr(10, 1, 2, 3), 0).mac, mac_b);
    EXPECT_EQ(t.lookup(ipv4_addr(10, 2, 2, 3), 0).mac, mac_a);
    EXPECT_EQ(t.lookup(ipv4_addr(11, 0, 0, 1), 0).state, entry_state::none);
    EXPECT_FALSE(t.add_static(ipv4_addr(10, 0, 0, 0), 33, mac_a));
}

TEST(ArpTable, LearntEntriesAgeOut) {
    table t(64, sec(60));
    ipv4_addr ip(10, 0, 0, 9);
    EXPECT_EQ(t.learn(ip, mac_a, sec(5)), table::update_result::updated);
    EXPECT_EQ(t.lookup(ip, sec(64)).state, entry_state::reachable);
    EXPECT_EQ(t.lookup(ip, sec(65)).state, entry_state::none);
    EXPECT_FALSE(t.contains(ip, sec(65)));
    // Re-learning reuses the slot.
    EXPECT_EQ(t.learn(ip, mac_b, sec(70)), table::update_result::updated);
    EXPECT_EQ(t.lookup(ip, sec(71)).mac, mac_b);
}

TEST(ArpTable, FailedHoldDownExpires) {
    table t(64, sec(60), sec(1));
    ipv4_addr ip(10, 0, 0, 7);
    t.mark_failed(ip, sec(10));
    EXPECT_EQ(t.lookup(ip, sec(10) + msec(999)).state, entry_state::failed);
    EXPECT_EQ(t.lookup(ip, sec(11)).state, entry_state::none);
    // A reachable entry is not overwritten by a late failure from another core.
    t.learn(ip, mac_a, sec(20));
    t.mark_failed(ip, sec(20));
    EXPECT_EQ(t.lookup(ip, sec(20)).state, entry_state::reachable);
}

TEST(ArpTable, FullTableRefuses) {
    table t(8);
    for (uint8_t i = 1; i <= 8; ++i)
        EXPECT_EQ(t.learn(ipv4_addr(10, 0, 0, i), mac_a, 0), table::update_result::updated);
    EXPECT_EQ(t.learn(ipv4_addr(10, 0, 1, 1), mac_a, 0), table::update_result::full);
    EXPECT_EQ(t.lookup(ipv4_addr(10, 0, 1, 1), 0).state, entry_state::none);
    EXPECT_EQ(t.lookup(ipv4_addr(10, 0, 0, 8), 0).mac, mac_a);
    EXPECT_EQ(t.learn(ipv4_addr(0, 0, 0, 0), mac_a, 0), table::update_result::full);
}

// Several cores learn and read at once: every IP ends up with exactly one
// slot, readers never see a MAC that no writer wrote (no torn words).
TEST(ArpTable, ConcurrentWritersAndReaders) {
    table t(1024, sec(1000));
    constexpr int writers = 4, ips = 200;
    std::atomic<bool> go{false};
    std::atomic<int> bad{0};
    std::vector<std::thread> th;
    for (int w = 0; w < writers; ++w)
        th.emplace_back([&, w] {
            while (!go) {}
            mac_addr m{{0x02, 0, 0, 0, uint8_t(w), uint8_t(w)}};
            for (int rep = 0; rep < 50; ++rep)
                for (int i = 1; i <= ips; ++i) (void)t.learn(ipv4_addr(10, 1, 0, uint8_t(i)), m, 1);
        });
    th.emplace_back([&] {
        while (!go) {}
        for (int rep = 0; rep < 200; ++rep)
            for (int i = 1; i <= ips; ++i) {
                auto l = t.lookup(ipv4_addr(10, 1, 0, uint8_t(i)), 1);
                if (l.state == entry_state::reachable &&
                    (l.mac.b[4] != l.mac.b[5] || l.mac.b[4] >= writers))
                    ++bad;
            }
    });
    go = true;
    for (auto& x : th) x.join();
    EXPECT_EQ(bad.load(), 0);
    for (int i = 1; i <= ips; ++i)
        EXPECT_EQ(t.lookup(ipv4_addr(10, 1, 0, uint8_t(i)), 1).state, entry_state::reachable);
    // 200 IPs + nothing else: a full table would refuse the next 824 distinct IPs only after.
    int added = 0;
    for (int i = 0; i < 2000 && t.learn(ipv4_addr(10, 2, uint8_t(i >> 8), uint8_t(i)), mac_a, 1) ==
                                    table::update_result::updated;
         ++i)
        ++added;
    EXPECT_EQ(added, 1024 - ips);
}
