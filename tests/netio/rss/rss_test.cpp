// RSS: the Microsoft verification vectors, symmetry of our key, queue spread,
// the all-0x05 key's collapse, and flow-key parsing of good and bad frames.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

#include "netio/rss/rss.hpp"

using namespace mvnf;
using namespace mvnf::netio;

namespace {

flow_key tuple(ipv4_addr src, uint16_t sport, ipv4_addr dst, uint16_t dport) {
    flow_key k;
    k.kind = flow_kind::ipv4_ports;
    k.proto = 6;
    k.src = src;
    k.dst = dst;
    k.sport = sport;
    k.dport = dport;
    return k;
}

// Builds Ethernet + IPv4 + 4 bytes of L4 ports.
std::vector<std::byte> frame(uint8_t proto, uint16_t frag, ipv4_addr s, ipv4_addr d, uint16_t sp,
                             uint16_t dp, uint8_t ihl_words = 5) {
    size_t ihl = size_t(ihl_words) * 4;
    std::vector<std::byte> f(14 + ihl + 8);
    store_be16(f.data() + 12, 0x0800);
    std::byte* ip = f.data() + 14;
    store8(ip, uint8_t(0x40 | ihl_words));
    store_be16(ip + 2, uint16_t(ihl + 8));
    store_be16(ip + 6, frag);
    store8(ip + 8, 64);
    store8(ip + 9, proto);
    store_be32(ip + 12, s.v);
    store_be32(ip + 16, d.v);
    store_be16(ip + ihl, sp);
    store_be16(ip + ihl + 2, dp);
    return f;
}

}  // namespace

// "Verifying the RSS Hash Calculation" (Microsoft Learn, NDIS): IPv4 and
// IPv4-with-TCP results under the standard key. Inputs are given there as
// destination / source; the hash input is src addr, dst addr, src port, dst port.
TEST(Rss, MicrosoftVerificationVectors) {
    struct vec {
        ipv4_addr dst;
        uint16_t dport;
        ipv4_addr src;
        uint16_t sport;
        uint32_t ipv4_only, with_tcp;
    } vecs[] = {
        {{161, 142, 100, 80}, 1766, {66, 9, 149, 187}, 2794, 0x323e8fc2, 0x51ccc178},
        {{65, 69, 140, 83}, 4739, {199, 92, 111, 2}, 14230, 0xd718262a, 0xc626b0ea},
        {{12, 22, 207, 184}, 38024, {24, 19, 198, 95}, 12898, 0xd2d0a5de, 0x5c2b394a},
        {{209, 142, 163, 6}, 2217, {38, 27, 205, 30}, 48228, 0x82989176, 0xafc7327f},
        {{202, 188, 127, 2}, 1303, {153, 39, 163, 191}, 44251, 0x5d1809c5, 0x10e828a2},
    };
    for (auto& v : vecs) {
        flow_key k = tuple(v.src, v.sport, v.dst, v.dport);
        EXPECT_EQ(rss_hash_with_key(microsoft_rss_key, k), v.with_tcp) << v.src.str();
        k.kind = flow_kind::ipv4;
        EXPECT_EQ(rss_hash_with_key(microsoft_rss_key, k), v.ipv4_only) << v.src.str();
    }
}

TEST(Rss, FastPathMatchesBitLoopAndIsSymmetric) {
    std::mt19937 rng(12345);
    for (int i = 0; i < 20000; ++i) {
        flow_key k = tuple(ipv4_addr(rng()), uint16_t(rng()), ipv4_addr(rng()), uint16_t(rng()));
        uint32_t h = rss_hash(k);
        if (i < 2000) {
            ASSERT_EQ(h, rss_hash_with_key(symmetric_rss_key, k));
        }
        ASSERT_EQ(h, rss_hash(k.reversed())) << i;
        k.kind = flow_kind::ipv4;
        ASSERT_EQ(rss_hash(k), rss_hash(k.reversed())) << i;
    }
    // The standard key is not symmetric: the test above could fail.
    flow_key k = tuple({66, 9, 149, 187}, 2794, {161, 142, 100, 80}, 1766);
    EXPECT_NE(rss_hash_with_key(microsoft_rss_key, k),
              rss_hash_with_key(microsoft_rss_key, k.reversed()));
    EXPECT_EQ(rss_hash(flow_key{}), 0u);
}

TEST(Rss, QueueSpreadIsNearEven) {
    std::mt19937 rng(7);
    const int flows = 64000;
    std::vector<uint32_t> hashes(flows);
    for (auto& h : hashes)
        h = rss_hash(tuple({10, 0, 0, 1}, uint16_t(1024 + rng() % 60000), {10, 0, 0, 2}, 80));
    for (unsigned nq = 1; nq <= 16; ++nq) {
        std::vector<int> count(nq);
        for (uint32_t h : hashes) {
            unsigned q = rss_queue(h, nq);
            ASSERT_LT(q, nq);
            ++count[q];
        }
        // A 128-entry table gives each queue floor(128/nq) or ceil(128/nq)
        // entries; allow that granularity plus 10% sampling noise.
        double ideal = double(flows) / nq;
        double max_share = double((128 + nq - 1) / nq) / 128.0 * flows;
        double min_share = double(128 / nq) / 128.0 * flows;
        for (unsigned q = 0; q < nq; ++q) {
            EXPECT_GT(count[q], min_share * 0.9) << "nq=" << nq << " q=" << q << " ideal " << ideal;
            EXPECT_LT(count[q], max_share * 1.1) << "nq=" << nq << " q=" << q << " ideal " << ideal;
        }
    }
}

TEST(Rss, AllFivesKeyCollapsesTo64Values) {
    std::vector<uint8_t> fives(40, 0x05);
    std::mt19937 rng(99);
    std::set<uint32_t> theirs, ours;
    for (int i = 0; i < 20000; ++i) {
        flow_key k = tuple(ipv4_addr(rng()), uint16_t(rng()), ipv4_addr(rng()), uint16_t(rng()));
        theirs.insert(rss_hash_with_key(fives, k));
        ours.insert(rss_hash(k));
    }
    EXPECT_EQ(theirs.size(), 64u);
    // The symmetric key has a 16-bit period, so its hashes span 2^16 values:
    // 20000 random tuples then give about 65536 * (1 - e^(-20000/65536)) ~ 17200
    // distinct hashes -- plenty for a 128-entry table, far beyond 64.
    EXPECT_GT(ours.size(), 15000u);
}

TEST(Rss, FlowKeyFromFrames) {
    ipv4_addr a(10, 1, 2, 3), b(10, 4, 5, 6);
    auto k = parse_flow_key(frame(17, 0, a, b, 1111, 2222));
    EXPECT_EQ(k.kind, flow_kind::ipv4_ports);
    EXPECT_EQ(k.src, a);
    EXPECT_EQ(k.dst, b);
    EXPECT_EQ(k.sport, 1111);
    EXPECT_EQ(k.dport, 2222);
    EXPECT_EQ(k.proto, 17);

    // IP options: ports follow the longer header.
    k = parse_flow_key(frame(6, 0, a, b, 5, 6, 7));
    EXPECT_EQ(k.kind, flow_kind::ipv4_ports);
    EXPECT_EQ(k.sport, 5);
    EXPECT_EQ(k.dport, 6);

    // Fragments (first and later) and other protocols: addresses only.
    EXPECT_EQ(parse_flow_key(frame(17, 0x2000, a, b, 1, 2)).kind, flow_kind::ipv4);
    EXPECT_EQ(parse_flow_key(frame(17, 0x0010, a, b, 1, 2)).kind, flow_kind::ipv4);
    EXPECT_EQ(parse_flow_key(frame(1, 0, a, b, 1, 2)).kind, flow_kind::ipv4);
    // DF alone is not a fragment.
    EXPECT_EQ(parse_flow_key(frame(6, 0x4000, a, b, 1, 2)).kind, flow_kind::ipv4_ports);

    // 802.1Q tag skipped.
    auto f = frame(17, 0, a, b, 7, 8);
    std::vector<std::byte> tagged(f.size() + 4);
    std::copy(f.begin(), f.begin() + 12, tagged.begin());
    store_be16(tagged.data() + 12, 0x8100);
    store_be16(tagged.data() + 14, 5);
    std::copy(f.begin() + 12, f.end(), tagged.begin() + 16);
    k = parse_flow_key(tagged);
    EXPECT_EQ(k.kind, flow_kind::ipv4_ports);
    EXPECT_EQ(k.sport, 7);
}

TEST(Rss, FlowKeyRejectsMalformed) {
    ipv4_addr a(1, 2, 3, 4), b(5, 6, 7, 8);
    auto good = frame(17, 0, a, b, 1, 2);
    // ARP and runts.
    auto arp = good;
    store_be16(arp.data() + 12, 0x0806);
    EXPECT_EQ(parse_flow_key(arp).kind, flow_kind::none);
    for (size_t n = 0; n < 34; ++n)
        EXPECT_EQ(parse_flow_key(bytes(good.data(), n)).kind, flow_kind::none) << n;
    // Every truncation is handled; below the ports' end no ports are claimed.
    for (size_t n = 34; n < good.size(); ++n)
        EXPECT_NE(parse_flow_key(bytes(good.data(), n)).kind, flow_kind::ipv4_ports) << n;

    auto bad = good;
    store8(bad.data() + 14, 0x45 - 1);  // IHL 4
    EXPECT_EQ(parse_flow_key(bad).kind, flow_kind::none);
    bad = good;
    store8(bad.data() + 14, 0x4f);  // IHL 15: beyond the frame
    EXPECT_EQ(parse_flow_key(bad).kind, flow_kind::none);
    bad = good;
    store8(bad.data() + 14, 0x65);  // version 6
    EXPECT_EQ(parse_flow_key(bad).kind, flow_kind::none);
    bad = good;
    store_be16(bad.data() + 16, 19);  // total length below the header
    EXPECT_EQ(parse_flow_key(bad).kind, flow_kind::none);
    bad = good;
    store_be16(bad.data() + 16, 200);  // total length beyond the frame
    EXPECT_EQ(parse_flow_key(bad).kind, flow_kind::none);
    bad = good;
    store_be16(bad.data() + 16, 22);  // datagram ends before the ports
    EXPECT_EQ(parse_flow_key(bad).kind, flow_kind::ipv4);

    // Random garbage never crashes (ASan checks the bounds).
    std::mt19937 rng(3);
    for (int i = 0; i < 5000; ++i) {
        std::vector<std::byte> g(rng() % 80);
        for (auto& x : g) x = std::byte(rng());
        if (g.size() > 14 && (i & 1)) {
            store_be16(g.data() + 12, 0x0800);
            store8(g.data() + 14, uint8_t(0x40 | (rng() & 15)));
        }
        (void)parse_flow_key(g);
    }
}
