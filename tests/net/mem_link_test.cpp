// The in-memory link: delivery in order, latency on the virtual clock, and
// seeded impairments that replay identically; every buffer comes back.
#include <gtest/gtest.h>

#include <vector>

#include "netio/mem/mem_link.hpp"

using namespace mvnf;
using namespace mvnf::netio;

namespace {
void send_n(queue& q, int n) {
    for (int i = 0; i < n; ++i) {
        packet p;
        ASSERT_EQ(q.alloc_tx(std::span<packet>(&p, 1)), 1u);
        for (int k = 0; k < 60; ++k) p.data[k] = std::byte(i);
        p.len = 60;
        ASSERT_EQ(q.tx_burst(std::span<packet>(&p, 1)), 1u);
    }
}
std::vector<int> recv_ids(queue& q) {
    std::vector<int> ids;
    packet ps[16];
    while (unsigned n = q.rx_burst(ps)) {
        for (unsigned i = 0; i < n; ++i) ids.push_back(int(ps[i].data[0]));
        q.release(std::span<const packet>(ps, n));
    }
    return ids;
}
}  // namespace

TEST(MemLink, DeliversInOrderAndReturnsBuffers) {
    mem_link l;
    send_n(l.a(), 10);
    auto ids = recv_ids(l.b());
    ASSERT_EQ(ids.size(), 10u);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(ids[size_t(i)], i);
    EXPECT_TRUE(recv_ids(l.a()).empty());
    EXPECT_EQ(l.free_buffers(), l.num_buffers());
}

TEST(MemLink, LatencyFollowsVirtualClock) {
    mem_link_config c;
    c.a_to_b.latency_ns = 1000;
    mem_link l(c);
    uint64_t now = 0;
    l.set_clock([&] { return now; });
    send_n(l.a(), 1);
    EXPECT_FALSE(l.b().wait(0));
    EXPECT_TRUE(recv_ids(l.b()).empty());
    EXPECT_EQ(l.next_delivery(), 1000u);
    now = 1000;
    EXPECT_TRUE(l.b().wait(0));
    EXPECT_EQ(recv_ids(l.b()).size(), 1u);
}

TEST(MemLink, ImpairmentsReplayFromSeed) {
    auto run = [](uint64_t seed) {
        mem_link_config c;
        c.seed = seed;
        c.a_to_b = {.loss = 0.2, .duplicate = 0.2, .reorder = 0.3, .corrupt = 0};
        mem_link l(c);
        send_n(l.a(), 200);
        auto ids = recv_ids(l.b());
        EXPECT_EQ(l.free_buffers(), l.num_buffers());
        auto& k = l.counters(mem_link::dir::a_to_b);
        EXPECT_GT(k.lost, 10u);
        EXPECT_GT(k.duplicated, 10u);
        EXPECT_GT(k.reordered, 10u);
        EXPECT_EQ(ids.size(), 200 - k.lost + k.duplicated);
        return ids;
    };
    auto x = run(7), y = run(7), z = run(8);
    EXPECT_EQ(x, y);
    EXPECT_NE(x, z);
    bool out_of_order = false;
    for (size_t i = 1; i < x.size(); ++i) out_of_order |= x[i] < x[i - 1];
    EXPECT_TRUE(out_of_order);
}

TEST(MemLink, CorruptionFlipsOnePayloadBit) {
    mem_link_config c;
    c.a_to_b.corrupt = 1.0;
    mem_link l(c);
    send_n(l.a(), 1);
    packet p;
    ASSERT_EQ(l.b().rx_burst(std::span<packet>(&p, 1)), 1u);
    int flipped = 0;
    for (int k = 0; k < 60; ++k) flipped += std::popcount(unsigned(p.data[k]));
    EXPECT_EQ(flipped, 1);  // frame 0 was all zeros
    for (int k = 0; k < 14; ++k) EXPECT_EQ(p.data[k], std::byte{0});
    l.b().release(std::span<const packet>(&p, 1));
}

TEST(MemLink, FilterDropsChosenFrames) {
    mem_link l;
    l.set_filter(mem_link::dir::a_to_b, [](std::span<std::byte> f) { return f[0] != std::byte{3}; });
    send_n(l.a(), 5);
    EXPECT_EQ(recv_ids(l.b()), (std::vector<int>{0, 1, 2, 4}));
    EXPECT_EQ(l.counters(mem_link::dir::a_to_b).filtered, 1u);
}
