// Per-core pools: exhaustion without allocation, counters, chains that append
// all or nothing and read back exactly.
#include <gtest/gtest.h>

#include <vector>

#include "net/pool.hpp"

using namespace mvnf;
using namespace mvnf::net;

TEST(ObjectPool, ExhaustsAndRecycles) {
    struct obj {
        int a;
        explicit obj(int x) : a(x) {}
    };
    object_pool<obj> p(4);
    std::vector<obj*> got;
    for (int i = 0; i < 4; ++i) got.push_back(p.alloc(i));
    EXPECT_EQ(p.alloc(9), nullptr);
    EXPECT_EQ(p.counters().alloc_failures, 1u);
    EXPECT_EQ(p.counters().in_use, 4u);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(got[size_t(i)]->a, i);
    p.free(got[1]);
    obj* again = p.alloc(7);
    EXPECT_EQ(again, got[1]);
    for (auto* o : got) p.free(o);
    EXPECT_EQ(p.counters().in_use, 0u);
    EXPECT_EQ(p.counters().peak, 4u);
}

TEST(ChunkPool, ChainsAppendAllOrNothingAndCopyOut) {
    chunk_pool p(8, 100);
    std::vector<std::byte> src(750);
    for (size_t i = 0; i < src.size(); ++i) src[i] = std::byte(i * 7);
    chain c;
    ASSERT_TRUE(p.append(c, bytes(src).first(150)));  // 2 chunks (100 + 50)
    ASSERT_TRUE(p.append(c, bytes(src).subspan(150, 450)));  // fills the 50 then 4 more
    EXPECT_EQ(p.counters().in_use, 6u);
    // 2 chunks free; 150 more bytes need 3 (the tail is full): refused whole.
    std::vector<std::byte> big(250, std::byte{1});
    EXPECT_FALSE(p.append(c, big));
    EXPECT_EQ(c.len, 600u);
    EXPECT_EQ(p.counters().alloc_failures, 1u);
    EXPECT_EQ(p.counters().in_use, 6u);
    std::vector<std::byte> out(c.len);
    EXPECT_EQ(p.copy_out(c, 0, out), c.len);
    EXPECT_TRUE(std::equal(out.begin(), out.end(), src.begin()));
    std::vector<std::byte> mid(30);
    EXPECT_EQ(p.copy_out(c, 95, mid), 30u);  // across a chunk edge
    EXPECT_TRUE(std::equal(mid.begin(), mid.end(), src.begin() + 95));
    chain d;
    EXPECT_FALSE(p.append(d, bytes(src).first(300)));  // 3 chunks, fewer free
    EXPECT_TRUE(d.empty());
    p.release(c);
    p.release(d);
    EXPECT_EQ(p.counters().in_use, 0u);
    EXPECT_TRUE(c.empty());
}
