// The impairment model and delay line of mvnf-impair, driven directly: the
// decisions follow the configured probabilities, a lost frame is never also
// duplicated or corrupted, delays respect jitter bounds, and the delay line
// releases frames in (due time, arrival) order and refuses frames when full.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "delay_line.hpp"
#include "impairment.hpp"

using namespace mvnf::impair;

TEST(ImpairModel, NoImpairmentPassesEverythingUnchanged) {
    params p;
    rng r(7);
    for (int i = 0; i < 10000; ++i) {
        verdict v = decide(p, r, 1514);
        ASSERT_FALSE(v.lost);
        ASSERT_EQ(v.copies, 1u);
        ASSERT_FALSE(v.corrupt);
        ASSERT_FALSE(v.early);
        ASSERT_EQ(v.delay_ns[0], 0);
    }
}

TEST(ImpairModel, RatesFollowTheProbabilities) {
    params p;
    p.loss = 0.10;
    p.dup = 0.05;
    p.corrupt = 0.02;
    rng r(1);
    const int n = 200000;
    int lost = 0, dup = 0, corrupt = 0, kept = 0;
    for (int i = 0; i < n; ++i) {
        verdict v = decide(p, r, 100);
        if (v.lost) {
            ++lost;
            EXPECT_EQ(v.copies, 0u);
            EXPECT_FALSE(v.corrupt);
            continue;
        }
        ++kept;
        dup += v.copies == 2;
        if (v.corrupt) {
            ++corrupt;
            EXPECT_LT(v.corrupt_bit, (100u - 14) * 8);  // never inside the Ethernet header
        }
    }
    // 5-sigma binomial bounds.
    EXPECT_NEAR(lost, n * 0.10, 5 * 134.2);
    EXPECT_NEAR(dup, kept * 0.05, 5 * 92.5);
    EXPECT_NEAR(corrupt, kept * 0.02, 5 * 59.4);
}

// Only frames whose damage a checksum can catch are corrupted: IPv4 (also
// behind an 802.1Q tag), never ARP or anything else (a real link's CRC
// drops those; a flipped ARP sender MAC would be learnt as the neighbour's).
// And the fates stay those of the seed whatever the frame type: the same
// draws are made, only the flip is skipped.
TEST(ImpairModel, OnlyChecksummedFramesAreCorrupted) {
    auto frame = [](std::initializer_list<int> head) {
        std::vector<std::byte> f(60);
        size_t i = 0;
        for (int b : head) f[i++] = std::byte(b);
        return f;
    };
    auto type_at_12 = [&](int hi, int lo) {
        auto f = frame({});
        f[12] = std::byte(hi);
        f[13] = std::byte(lo);
        return f;
    };
    const auto ipv4 = type_at_12(0x08, 0x00), arp = type_at_12(0x08, 0x06),
               ipv6 = type_at_12(0x86, 0xdd);
    auto tagged = type_at_12(0x81, 0x00);
    tagged[16] = std::byte(0x08);
    tagged[17] = std::byte(0x00);
    auto tagged_arp = tagged;
    tagged_arp[17] = std::byte(0x06);
    EXPECT_TRUE(carries_checksums(ipv4.data(), 60));
    EXPECT_TRUE(carries_checksums(tagged.data(), 60));
    EXPECT_FALSE(carries_checksums(arp.data(), 60));
    EXPECT_FALSE(carries_checksums(tagged_arp.data(), 60));
    EXPECT_FALSE(carries_checksums(ipv6.data(), 60));
    EXPECT_FALSE(carries_checksums(ipv4.data(), 13));  // too short to have a type

    params p;
    p.loss = 0.1;
    p.dup = 0.1;
    p.corrupt = 0.5;
    rng a(11), b(11);
    int corrupted = 0;
    for (int i = 0; i < 10000; ++i) {
        const verdict va = decide(p, a, 60, true), vb = decide(p, b, 60, false);
        ASSERT_FALSE(vb.corrupt);
        ASSERT_EQ(va.lost, vb.lost);
        ASSERT_EQ(va.copies, vb.copies);
        ASSERT_EQ(va.early, vb.early);
        corrupted += va.corrupt;
    }
    EXPECT_GT(corrupted, 3000);  // ~0.5 of the ~9000 kept
}

TEST(ImpairModel, SameSeedSameDecisionsOtherSeedOthers) {
    params p;
    p.loss = 0.3;
    rng a(42), b(42), c(43);
    int same_ab = 0, same_ac = 0;
    for (int i = 0; i < 1000; ++i) {
        bool la = decide(p, a, 60).lost, lb = decide(p, b, 60).lost, lc = decide(p, c, 60).lost;
        same_ab += la == lb;
        same_ac += la == lc;
    }
    EXPECT_EQ(same_ab, 1000);
    EXPECT_LT(same_ac, 1000);
}

TEST(ImpairModel, DelayJitterAndReorder) {
    params p;
    p.delay_ns = 10'000'000;
    p.jitter_ns = 2'000'000;
    p.reorder = 0.25;
    rng r(3);
    int early = 0;
    for (int i = 0; i < 20000; ++i) {
        verdict v = decide(p, r, 60);
        if (v.early) {
            ++early;
            EXPECT_EQ(v.delay_ns[0], 0);
        } else {
            EXPECT_GE(v.delay_ns[0], 8'000'000);
            EXPECT_LE(v.delay_ns[0], 12'000'000);
        }
    }
    EXPECT_NEAR(early, 5000, 5 * 61.2);
}

TEST(ImpairDelayLine, ReleasesByDueTimeThenArrival) {
    delay_line line(8, 64);
    auto frame = [](uint8_t tag) {
        std::vector<std::byte> f(60, std::byte(tag));
        return f;
    };
    const uint8_t tags[] = {1, 2, 3, 4, 5};
    const int64_t due[] = {30, 10, 30, 10, 20};
    for (int i = 0; i < 5; ++i) {
        auto f = frame(tags[i]);
        ASSERT_NE(line.push(f.data(), uint32_t(f.size()), due[i]), nullptr);
    }
    const std::byte* data;
    uint32_t len;
    EXPECT_FALSE(line.peek_due(9, data, len));
    EXPECT_EQ(line.next_due(), 10);
    std::vector<uint8_t> order;
    while (line.peek_due(100, data, len)) {
        EXPECT_EQ(len, 60u);
        order.push_back(uint8_t(data[0]));
        line.pop();
    }
    // Equal due times keep arrival order (FIFO, as a real link would).
    EXPECT_EQ(order, (std::vector<uint8_t>{2, 4, 5, 1, 3}));
    EXPECT_TRUE(line.empty());
}

TEST(ImpairDelayLine, FullLineAndOversizeFramesAreRefused) {
    delay_line line(2, 64);
    std::vector<std::byte> f(60), big(65);
    EXPECT_NE(line.push(f.data(), 60, 1), nullptr);
    EXPECT_NE(line.push(f.data(), 60, 1), nullptr);
    EXPECT_TRUE(line.full());
    EXPECT_EQ(line.push(f.data(), 60, 1), nullptr);
    line.pop();
    EXPECT_EQ(line.push(big.data(), 65, 1), nullptr);
    EXPECT_NE(line.push(f.data(), 60, 1), nullptr);
}

// --ce: an ECN router marks ECN-capable packets CE and leaves the rest; the
// IPv4 header checksum stays valid. Decisions without --ce draw nothing more.
TEST(ImpairModel, CeMarksOnlyEcnCapablePackets) {
    auto frame = [](uint8_t tos) {
        std::vector<std::byte> f(14 + 40);
        mvnf::store_be16(f.data() + 12, mvnf::wire::ethertype::ipv4);
        std::byte* ip = f.data() + 14;
        mvnf::store8(ip, 0x45);
        mvnf::store8(ip + 1, tos);
        mvnf::store_be16(ip + 2, 40);
        mvnf::store8(ip + 8, 64);
        mvnf::store8(ip + 9, 6);
        mvnf::store_be16(ip + 10, mvnf::wire::checksum(ip, 20));
        return f;
    };
    for (const uint8_t tos : {uint8_t(0x02), uint8_t(0x01), uint8_t(0xb8 | 2)}) {
        auto f = frame(tos);
        ASSERT_TRUE(mark_ce(f.data(), uint32_t(f.size()))) << int(tos);
        EXPECT_EQ(mvnf::load8(f.data() + 15), uint8_t(tos | 3));  // DSCP kept
        EXPECT_EQ(mvnf::wire::checksum(f.data() + 14, 20), 0);
    }
    for (const uint8_t tos : {uint8_t(0x00), uint8_t(0x03), uint8_t(0xb8)}) {
        auto f = frame(tos);
        const auto before = f;
        EXPECT_FALSE(mark_ce(f.data(), uint32_t(f.size()))) << int(tos);
        EXPECT_EQ(f, before);
    }
    auto arp = frame(2);
    mvnf::store_be16(arp.data() + 12, mvnf::wire::ethertype::arp);
    EXPECT_FALSE(mark_ce(arp.data(), uint32_t(arp.size())));
    params p;
    p.ce = 0.25;
    rng r(3);
    int marked = 0;
    for (int i = 0; i < 20000; ++i) marked += decide(p, r, 100).ce;
    EXPECT_NEAR(marked / 20000.0, 0.25, 0.02);
    params none;
    rng r1(5), r2(5);
    for (int i = 0; i < 1000; ++i) EXPECT_FALSE(decide(none, r1, 100).ce);
    EXPECT_EQ(r1.next(), r2.next());  // no impairment drew nothing
}
