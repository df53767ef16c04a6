// Unit tests of the TCP engine's two containers: the byte ring behind the
// send and receive buffers (src/net/tcp/ring.hpp) and the bounded set of
// sequence ranges behind the out-of-order queue and the SACK scoreboard
// (src/net/tcp/ranges.hpp). Table-driven where the cases are many.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "net/tcp/ranges.hpp"
#include "net/tcp/ring.hpp"

using namespace mvnf;
using namespace mvnf::tcp;

namespace {

std::vector<std::byte> seq_bytes(size_t n, uint8_t first) {
    std::vector<std::byte> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = std::byte(uint8_t(first + i));
    return v;
}

std::vector<std::byte> flatten(std::pair<bytes, bytes> p) {
    std::vector<std::byte> v(p.first.begin(), p.first.end());
    v.insert(v.end(), p.second.begin(), p.second.end());
    return v;
}

}  // namespace

TEST(TcpRing, PushPopWrapsAround) {
    std::array<std::byte, 8> mem{};
    ring r(mem);
    EXPECT_EQ(r.capacity(), 8u);
    EXPECT_EQ(r.push(seq_bytes(6, 0)), 6u);
    std::array<std::byte, 4> out{};
    EXPECT_EQ(r.pop(out), 4u);
    EXPECT_EQ(out[0], std::byte(0));
    EXPECT_EQ(out[3], std::byte(3));
    // 2 bytes left at offsets 4..5; 6 more wrap past the end of storage.
    EXPECT_EQ(r.push(seq_bytes(10, 6)), 6u);  // only the free space is taken
    EXPECT_EQ(r.size(), 8u);
    EXPECT_EQ(r.free(), 0u);
    auto all = flatten(r.peek(0, 8));
    ASSERT_EQ(all.size(), 8u);
    for (size_t i = 0; i < 8; ++i) EXPECT_EQ(all[i], std::byte(uint8_t(4 + i)));
    auto [a, b] = r.peek(0, 8);
    EXPECT_EQ(a.size(), 4u);  // the wrap splits the contents in two pieces
    EXPECT_EQ(b.size(), 4u);
}

// A peek reads only queued bytes: whatever lies past them is acknowledged
// data, a previous connection's data or never-written memory.
TEST(TcpRing, PeekIsClampedToQueuedBytes) {
    std::array<std::byte, 16> mem{};
    ring r(mem);
    ASSERT_EQ(r.push(seq_bytes(10, 1)), 10u);
    r.consume(10);  // all acknowledged: the bytes are still in storage
    EXPECT_TRUE(r.empty());
    auto p = flatten(r.peek(0, 1));
    EXPECT_TRUE(p.empty()) << "peek returned a consumed byte";
    ASSERT_EQ(r.push(seq_bytes(3, 50)), 3u);
    EXPECT_EQ(flatten(r.peek(0, 10)).size(), 3u);  // asked 10, 3 queued
    EXPECT_EQ(flatten(r.peek(2, 5)).size(), 1u);
    EXPECT_TRUE(flatten(r.peek(3, 1)).empty());
    EXPECT_TRUE(flatten(r.peek(100, 1)).empty());
    auto tail = flatten(r.peek(1, 2));
    ASSERT_EQ(tail.size(), 2u);
    EXPECT_EQ(tail[0], std::byte(51));
    EXPECT_EQ(tail[1], std::byte(52));
}

TEST(TcpRing, ParkedBytesBecomeContentsOnCommit) {
    std::array<std::byte, 8> mem{};
    ring r(mem);
    ASSERT_EQ(r.push(seq_bytes(5, 0)), 5u);
    std::array<std::byte, 5> sink{};
    ASSERT_EQ(r.pop(sink), 5u);  // head at 5: parked data below wraps
    auto later = seq_bytes(3, 20);
    r.write_at(2, later);  // out of order: 2 bytes missing in front
    EXPECT_EQ(r.size(), 0u);
    EXPECT_TRUE(flatten(r.peek(0, 5)).empty());  // parked bytes are not contents
    auto gap = seq_bytes(2, 18);
    ASSERT_EQ(r.push(gap), 2u);
    r.commit(3);
    EXPECT_EQ(r.size(), 5u);
    auto all = flatten(r.peek(0, 5));
    ASSERT_EQ(all.size(), 5u);
    for (size_t i = 0; i < 5; ++i) EXPECT_EQ(all[i], std::byte(uint8_t(18 + i)));
}

TEST(TcpRing, EmptyStorageAndClear) {
    ring none;
    EXPECT_EQ(none.capacity(), 0u);
    EXPECT_EQ(none.push(seq_bytes(4, 0)), 0u);
    EXPECT_TRUE(flatten(none.peek(0, 4)).empty());
    std::array<std::byte, 4> mem{};
    ring r(mem);
    ASSERT_EQ(r.push(seq_bytes(3, 0)), 3u);
    r.consume(100);  // more than queued: clamps
    EXPECT_TRUE(r.empty());
    ASSERT_EQ(r.push(seq_bytes(2, 9)), 2u);
    r.clear();
    EXPECT_TRUE(r.empty());
    EXPECT_EQ(r.free(), 4u);
}

namespace {

struct range_case {
    const char* name;
    std::vector<std::pair<uint32_t, uint32_t>> add;       // in order
    std::vector<std::pair<uint32_t, uint32_t>> expected;  // resulting set
};

std::vector<std::pair<uint32_t, uint32_t>> dump(const range_set& s) {
    std::vector<std::pair<uint32_t, uint32_t>> v;
    for (size_t i = 0; i < s.count(); ++i) v.push_back({s[i].left.raw(), s[i].right.raw()});
    return v;
}

}  // namespace

TEST(TcpRangeSet, AddMergesAndKeepsOrder) {
    const std::vector<range_case> cases = {
        {"disjoint ascending", {{10, 20}, {30, 40}}, {{10, 20}, {30, 40}}},
        {"disjoint descending", {{30, 40}, {10, 20}}, {{10, 20}, {30, 40}}},
        {"adjacent left", {{20, 30}, {10, 20}}, {{10, 30}}},
        {"adjacent right", {{10, 20}, {20, 30}}, {{10, 30}}},
        {"overlap", {{10, 25}, {20, 30}}, {{10, 30}}},
        {"contained", {{10, 40}, {20, 30}}, {{10, 40}}},
        {"bridges three", {{10, 20}, {30, 40}, {50, 60}, {15, 55}}, {{10, 60}}},
        {"bridges two of three", {{10, 20}, {30, 40}, {50, 60}, {20, 30}}, {{10, 40}, {50, 60}}},
        {"empty range ignored", {{10, 10}, {30, 20}}, {}},
        {"across the wrap", {{0xfffffff0u, 0xfffffffau}, {0xfffffffau, 10}, {20, 30}},
         {{0xfffffff0u, 10}, {20, 30}}},
    };
    for (const auto& tc : cases) {
        range_set s;
        for (auto [l, r] : tc.add) EXPECT_TRUE(s.add(seq32(l), seq32(r))) << tc.name;
        EXPECT_EQ(dump(s), tc.expected) << tc.name;
    }
}

TEST(TcpRangeSet, CapacityBoundsNewRangesNotMerges) {
    range_set s(2);
    EXPECT_TRUE(s.add(seq32(10), seq32(20)));
    EXPECT_TRUE(s.add(seq32(30), seq32(40)));
    EXPECT_FALSE(s.add(seq32(50), seq32(60)));  // a third range does not fit
    EXPECT_EQ(s.count(), 2u);
    EXPECT_TRUE(s.add(seq32(20), seq32(30)));  // a merge needs no new room
    EXPECT_EQ(dump(s), (std::vector<std::pair<uint32_t, uint32_t>>{{10, 40}}));
    range_set big(1000);  // clamped to the fixed storage
    for (uint32_t i = 0; i < range_set::max_capacity; ++i)
        EXPECT_TRUE(big.add(seq32(i * 10), seq32(i * 10 + 5)));
    EXPECT_FALSE(big.add(seq32(100000), seq32(100001)));
}

TEST(TcpRangeSet, TrimPopAndQueries) {
    range_set s;
    ASSERT_TRUE(s.add(seq32(10), seq32(20)));
    ASSERT_TRUE(s.add(seq32(30), seq32(40)));
    ASSERT_TRUE(s.add(seq32(50), seq32(60)));
    EXPECT_EQ(s.total(), 30u);
    EXPECT_EQ(s.highest(), seq32(60));
    EXPECT_TRUE(s.contains(seq32(10)));
    EXPECT_FALSE(s.contains(seq32(20)));  // right edges are exclusive
    EXPECT_TRUE(s.contains(seq32(59)));
    EXPECT_EQ(s.bytes_above(seq32(35)), 15u);
    EXPECT_EQ(s.bytes_above(seq32(0)), 30u);
    EXPECT_EQ(s.bytes_above(seq32(60)), 0u);
    EXPECT_EQ(s.pop_at(seq32(11)), 0u);  // only a range starting exactly there
    s.trim_below(seq32(15));
    EXPECT_EQ(dump(s), (std::vector<std::pair<uint32_t, uint32_t>>{{15, 20}, {30, 40}, {50, 60}}));
    EXPECT_EQ(s.pop_at(seq32(15)), 5u);
    EXPECT_EQ(s.count(), 2u);
    s.trim_below(seq32(45));
    EXPECT_EQ(dump(s), (std::vector<std::pair<uint32_t, uint32_t>>{{50, 60}}));
    s.trim_below(seq32(70));
    EXPECT_TRUE(s.empty());
    s.clear();
    EXPECT_EQ(s.total(), 0u);
}
