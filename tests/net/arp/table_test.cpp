// Tests of the shared ARP table: static and prefix entries, learning, ageing
// to stale, the failed hold-down, eviction of the least recently confirmed
// entry, and concurrent writers/readers while slots change owner.
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

TEST(ArpTable, LearntEntriesGoStaleAndKeepTheirMac) {
    table t(64, sec(60));
    ipv4_addr ip(10, 0, 0, 9);
    EXPECT_EQ(t.learn(ip, mac_a, sec(5)), table::update_result::updated);
    EXPECT_EQ(t.lookup(ip, sec(64)).state, entry_state::reachable);
    // RFC 1122 2.3.2.1: old entries are re-validated; until then the MAC is
    // still known (stale), so traffic to the neighbour never stops for it.
    auto l = t.lookup(ip, sec(65));
    EXPECT_EQ(l.state, entry_state::stale);
    EXPECT_EQ(l.mac, mac_a);
    EXPECT_TRUE(t.contains(ip, sec(1000)));
    // Re-learning (a confirmation) reuses the slot and makes it reachable.
    EXPECT_EQ(t.learn(ip, mac_b, sec(70)), table::update_result::updated);
    EXPECT_EQ(t.lookup(ip, sec(71)).mac, mac_b);
    EXPECT_EQ(t.lookup(ip, sec(71)).state, entry_state::reachable);
    EXPECT_EQ(t.used_slots(), 1u);
    // A stale entry whose probes failed becomes failed, then none.
    t.mark_failed(ip, sec(200));
    EXPECT_EQ(t.lookup(ip, sec(200)).state, entry_state::failed);
    EXPECT_EQ(t.lookup(ip, sec(202)).state, entry_state::none);
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

// A table of one window (16 slots): once full, each new IP takes the slot of
// the least recently confirmed entry; static entries are never taken; failed
// entries go before live ones.
TEST(ArpTable, FullTableEvictsLeastRecentlyConfirmed) {
    table t(table::window, sec(60));
    ASSERT_EQ(t.capacity(), table::window);
    ASSERT_TRUE(t.add_static(ipv4_addr(10, 0, 9, 9), 32, mac_b));
    for (uint8_t i = 1; i < table::window; ++i)
        EXPECT_EQ(t.learn(ipv4_addr(10, 0, 0, i), mac_a, msec(i)), table::update_result::updated);
    EXPECT_EQ(t.used_slots(), table::window);
    // Confirm entry 1 again: entry 2 is now the least recently confirmed.
    EXPECT_EQ(t.learn(ipv4_addr(10, 0, 0, 1), mac_a, msec(100)), table::update_result::updated);
    EXPECT_EQ(t.learn(ipv4_addr(10, 0, 1, 1), mac_b, msec(101)), table::update_result::evicted);
    EXPECT_EQ(t.lookup(ipv4_addr(10, 0, 1, 1), msec(101)).mac, mac_b);
    EXPECT_EQ(t.lookup(ipv4_addr(10, 0, 0, 2), msec(101)).state, entry_state::none);
    EXPECT_EQ(t.lookup(ipv4_addr(10, 0, 0, 1), msec(101)).state, entry_state::reachable);
    // A failed entry goes first, even if it failed after the others were
    // confirmed (all stale by now; a reachable one is never failed).
    t.mark_failed(ipv4_addr(10, 0, 0, 14), msec(200));
    EXPECT_EQ(t.lookup(ipv4_addr(10, 0, 0, 14), msec(200)).state, entry_state::reachable);
    t.mark_failed(ipv4_addr(10, 0, 0, 14), sec(100));
    EXPECT_EQ(t.lookup(ipv4_addr(10, 0, 0, 14), sec(100)).state, entry_state::failed);
    EXPECT_EQ(t.learn(ipv4_addr(10, 0, 1, 2), mac_b, sec(100)), table::update_result::evicted);
    EXPECT_EQ(t.lookup(ipv4_addr(10, 0, 0, 14), sec(100)).state, entry_state::none);
    EXPECT_EQ(t.lookup(ipv4_addr(10, 0, 0, 3), sec(100)).state, entry_state::stale);
    // A failure never evicts a live entry to record itself.
    t.mark_failed(ipv4_addr(10, 0, 2, 2), sec(100));
    EXPECT_EQ(t.lookup(ipv4_addr(10, 0, 2, 2), sec(100)).state, entry_state::none);
    // Thousands of senders later, the static entry is still there.
    for (int i = 0; i < 5000; ++i)
        EXPECT_NE(t.learn(ipv4_addr(172, 16, uint8_t(i >> 8), uint8_t(i)), mac_a, sec(1) + i),
                  table::update_result::full);
    EXPECT_EQ(t.lookup(ipv4_addr(10, 0, 9, 9), sec(10)).mac, mac_b);
    EXPECT_EQ(t.used_slots(), table::window);
    EXPECT_EQ(t.learn(ipv4_addr(0, 0, 0, 0), mac_a, 0), table::update_result::full);
}

// A window made only of static entries refuses (nothing else to evict).
TEST(ArpTable, AllStaticWindowRefuses) {
    table t(table::window);
    for (uint8_t i = 1; i <= table::window; ++i)
        ASSERT_TRUE(t.add_static(ipv4_addr(10, 0, 0, i), 32, mac_a));
    EXPECT_FALSE(t.add_static(ipv4_addr(10, 0, 0, 200), 32, mac_a));
    EXPECT_EQ(t.learn(ipv4_addr(10, 0, 1, 1), mac_b, 0), table::update_result::full);
    EXPECT_EQ(t.lookup(ipv4_addr(10, 0, 1, 1), 0).state, entry_state::none);
}

// Lookups stay O(window) however many senders flood the table: a large
// table fills, every later IP evicts, and a real neighbour learnt after the
// flood is found.
TEST(ArpTable, FloodOfSendersStillLearnsANewNeighbour) {
    table t(4096, sec(60));
    for (uint32_t i = 0; i < 100000; ++i)
        (void)t.learn(ipv4_addr(0x0a000000u + 1 + i), mac_a, msec(i));
    EXPECT_LE(t.used_slots(), 4096u);
    EXPECT_EQ(t.learn(ipv4_addr(192, 168, 0, 7), mac_b, sec(200)) == table::update_result::full,
              false);
    EXPECT_EQ(t.lookup(ipv4_addr(192, 168, 0, 7), sec(200)).mac, mac_b);
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
    EXPECT_EQ(t.used_slots(), uint32_t(ips));  // one slot per IP, however many writers
}

// Slots change owner under readers (a small table under a flood of senders):
// a reader must never pair an IP with another IP's MAC. Each writer learns
// IPs whose MAC encodes the IP; a reader checks every hit against it.
TEST(ArpTable, ReadersNeverSeeAnotherIpsMacWhileSlotsAreEvicted) {
    table t(64, sec(1000));
    auto mac_of = [](uint32_t ip) {
        return mac_addr{{0x02, 0, uint8_t(ip >> 24), uint8_t(ip >> 16), uint8_t(ip >> 8), uint8_t(ip)}};
    };
    std::atomic<bool> go{false};
    std::atomic<int> readers_left{2};
    std::atomic<uint64_t> bad{0}, hits{0}, learnt{0};
    std::vector<std::thread> th;
    // Writers churn until both readers are done (bounded either way).
    for (int w = 0; w < 2; ++w)
        th.emplace_back([&, w] {
            while (!go) {}
            for (uint32_t i = 0; readers_left.load(std::memory_order_relaxed) > 0 && i < 20000000; ++i) {
                uint32_t ip = 0x0a000001u + (i * 7 + uint32_t(w)) % 1000;
                (void)t.learn(ipv4_addr(ip), mac_of(ip), 1);
                learnt.fetch_add(1, std::memory_order_relaxed);
            }
        });
    for (int r = 0; r < 2; ++r)
        th.emplace_back([&] {
            // Start once the table is full and churning (bounded wait).
            for (int spin = 0; spin < 100000000 && learnt.load() < 1000; ++spin) {}
            for (uint32_t i = 0; i < 300000; ++i) {
                uint32_t ip = 0x0a000001u + i % 1000;
                auto l = t.lookup(ipv4_addr(ip), 1);
                if (l.state == entry_state::none) continue;
                ++hits;
                if (l.mac != mac_of(ip)) ++bad;
            }
            --readers_left;
        });
    go = true;
    for (auto& x : th) x.join();
    EXPECT_EQ(bad.load(), 0u);
    EXPECT_GT(hits.load(), 0u);
    EXPECT_LE(t.used_slots(), 64u);
}
