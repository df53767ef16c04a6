// The dispatcher's steering (netio/rss/steer.hpp) against the netio reference:
// the folded symmetric hash equals netio::rss_hash for every flow kind, and
// frame_steer picks rss_queue(rss_hash(parse_flow_key(frame))) (or the
// unhashed core) for valid, tagged, truncated and malformed frames.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "netio/rss/steer.hpp"

using namespace mvnf;
using namespace mvnf::netio;

TEST(Steer, FoldedHashEqualsReferenceRssHash) {
    netio::symmetric_hasher h;
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

namespace {

// A frame that exercises one of parse_flow_key's branches, picked at random:
// plain or 802.1Q-tagged; IPv4 or another type; version, IHL, total length,
// fragment field and protocol valid or not; cut at any length >= 14.
std::vector<std::byte> random_frame(std::mt19937_64& rng) {
    auto pick = [&](auto... v) {
        const uint32_t vals[] = {uint32_t(v)...};
        return vals[rng() % sizeof...(v)];
    };
    std::vector<std::byte> f(80);
    for (auto& b : f) b = std::byte(rng());
    size_t off = 14;
    if (rng() % 4 == 0) {
        store_be16(f.data() + 12, 0x8100);
        off = 18;
    }
    store_be16(f.data() + off - 2, uint16_t(pick(0x0800, 0x0800, 0x0800, 0x0806, 0x86dd, rng())));
    std::byte* ip = f.data() + off;
    store8(ip, uint8_t(pick(0x45, 0x45, 0x45, 0x46, 0x4f, 0x44, 0x55, 0x65, rng())));
    const size_t room = f.size() - off;
    store_be16(ip + 2, uint16_t(pick(room, room - 10, 20, 24, 23, 19, 0, room + 1, rng())));
    store_be16(ip + 6, uint16_t(pick(0, 0, 0x4000, 0x2000, 0x0001, 0x1fff, 0x6000, rng())));
    store8(ip + 9, uint8_t(pick(6, 17, 6, 17, 1, 47, rng())));
    const size_t len = rng() % 4 ? f.size() : 14 + rng() % (f.size() - 13);
    f.resize(len);  // exactly len octets: a read past the frame is an ASan error
    return f;
}

}  // namespace

TEST(Steer, FrameSteerEqualsParseHashAndQueue) {
    std::mt19937_64 rng(7);
    unsigned kinds[3] = {0, 0, 0};
    for (unsigned n = 1; n <= 8; ++n) {
        for (unsigned unhashed = 0; unhashed<n; unhashed += n> 4 ? 3 : 1) {
            netio::frame_steer st(n, unhashed);
            for (int i = 0; i < 20000; ++i) {
                std::vector<std::byte> f = random_frame(rng);
                flow_key k = parse_flow_key(mvnf::bytes(f.data(), f.size()));
                ++kinds[unsigned(k.kind)];
                unsigned want = k.kind == flow_kind::none ? unhashed : rss_queue(rss_hash(k), n);
                ASSERT_EQ(st.core(f.data(), uint32_t(f.size())), want)
                    << "n=" << n << " i=" << i << " kind=" << unsigned(k.kind)
                    << " len=" << f.size();
                // The bucket the dispatcher indexes its stages with: the
                // hash's low 7 bits, or unhashed_bucket.
                const size_t b = st.bucket(f.data(), uint32_t(f.size()));
                ASSERT_EQ(b, k.kind == flow_kind::none ? frame_steer::unhashed_bucket
                                                       : size_t(rss_hash(k) & 127u));
                ASSERT_EQ(st.core_of(b), want);
            }
        }
    }
    // Every branch was taken many times (the generator is not degenerate).
    for (unsigned c : kinds) EXPECT_GT(c, 5000u) << kinds[0] << " " << kinds[1] << " " << kinds[2];
}

TEST(Steer, FrameSteerKeepsBothDirectionsOfAFlowTogether) {
    std::mt19937_64 rng(11);
    netio::frame_steer st(5, 0);
    for (int i = 0; i < 20000; ++i) {
        std::vector<std::byte> f(64);
        store_be16(f.data() + 12, 0x0800);
        std::byte* ip = f.data() + 14;
        store8(ip, 0x45);
        store_be16(ip + 2, 50);
        store8(ip + 9, i % 2 ? 6 : 17);
        uint64_t r = rng();
        store_be32(ip + 12, uint32_t(r));
        store_be32(ip + 16, uint32_t(r >> 32));
        store_be32(ip + 20, uint32_t(rng()));
        std::vector<std::byte> back = f;  // addresses and ports swapped
        std::memcpy(back.data() + 26, f.data() + 30, 4);
        std::memcpy(back.data() + 30, f.data() + 26, 4);
        std::memcpy(back.data() + 34, f.data() + 36, 2);
        std::memcpy(back.data() + 36, f.data() + 34, 2);
        ASSERT_EQ(st.core(f.data(), 64), st.core(back.data(), 64)) << i;
    }
}
