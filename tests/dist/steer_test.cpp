// The dispatcher's folded symmetric hash (dist/steer.hpp) against the
// reference netio::rss_hash: equal for every flow kind, random and edge keys.
#include <gtest/gtest.h>

#include <random>

#include "dist/steer.hpp"

using namespace mvnf;
using namespace mvnf::netio;

TEST(Steer, FoldedHashEqualsReferenceRssHash) {
    dist::symmetric_hasher h;
    std::mt19937_64 rng(42);
    const flow_kind kinds[] = {flow_kind::none, flow_kind::ipv4, flow_kind::ipv4_ports};
    for (int i = 0; i < 200000; ++i) {
        flow_key k;
        k.kind = kinds[i % 3];
        k.proto = i % 2 ? 6 : 17;
        uint64_t r = rng();
        k.src = ipv4_addr(uint32_t(r));
        k.dst = ipv4_addr(uint32_t(r >> 32));
        uint64_t r2 = rng();
        k.sport = uint16_t(r2);
        k.dport = uint16_t(r2 >> 16);
        if (k.kind != flow_kind::ipv4_ports) k.sport = k.dport = 0;
        ASSERT_EQ(h(k), rss_hash(k)) << i;
        ASSERT_EQ(h(k), h(k.reversed()));
    }
    // Edges: all-zero and all-one fields, single bits in every position.
    for (int b = -1; b < 32; ++b) {
        flow_key k;
        k.kind = flow_kind::ipv4_ports;
        uint32_t v = b < 0 ? 0xffffffffu : 1u << b;
        k.src = ipv4_addr(v);
        k.dst = ipv4_addr(0);
        k.sport = uint16_t(v);
        k.dport = 0;
        EXPECT_EQ(h(k), rss_hash(k)) << b;
        k.kind = flow_kind::ipv4;
        k.sport = 0;
        EXPECT_EQ(h(k), rss_hash(k)) << b;
    }
}
