// mvnf-pktgen's receive side, driven directly: frames carry a UDP checksum
// that catches every flipped bit past the Ethernet header, pongs stay valid,
// and the rx accounting keeps received = bad + stray + duplicate + accepted
// with lost never wrapping, whatever mix of losses, duplicates, late frames,
// bogus sequence numbers and sender restarts it is fed.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "frame.hpp"
#include "rx_account.hpp"
#include "wire/checksum.hpp"

using namespace mvnf;
using namespace mvnf::pktgen;

namespace {

const mac_addr src_mac{{0x02, 0, 0, 0, 0, 0x01}}, dst_mac{{0x02, 0, 0, 0, 0, 0x02}};

// The UDP checksum computed from scratch over the frame (RFC 768), the slow
// and obvious way: must be zero (all ones before complement) when valid.
uint16_t udp_verify(const std::byte* f, uint32_t len) {
    const uint16_t udp_len = uint16_t(len - off_udp);
    uint64_t ph = wire::csum_add(0, f + 14 + 12, 8) + 17 + udp_len;
    return wire::checksum(f + off_udp, udp_len, ph);
}

void expect_consistent(const rx_account& a) {
    const rx_counts c = a.counts();
    EXPECT_EQ(c.received, c.bad + c.stray + c.duplicate + c.accepted);
    EXPECT_LE(c.out_of_order, c.accepted);
    EXPECT_LT(c.lost, uint64_t(1) << 40) << "lost wrapped or ran away";
}

}  // namespace

TEST(PktgenFrame, StampedFramesCarryAValidUdpChecksum) {
    for (uint32_t len : {60u, 61u, 62u, 64u, 333u, 1514u, 9014u}) {
        auto t = std::make_unique<frame_template>();
        build_template(*t, len, src_mac, dst_mac, k_data, 3);
        std::vector<std::byte> f(len);
        for (uint64_t seq :
             {uint64_t(0), uint64_t(1), uint64_t(0xfffe), uint64_t(1) << 40, ~uint64_t(0)}) {
            std::memcpy(f.data(), t->bytes, len);
            stamp(f.data(), *t, uint16_t(1024 + (seq & 4095)), seq);
            EXPECT_EQ(udp_verify(f.data(), len), 0) << "len " << len << " seq " << seq;
            EXPECT_NE(load_be16(f.data() + off_udp_csum), 0);
            parsed p{};
            ASSERT_TRUE(check_frame(f.data(), len, p)) << "len " << len << " seq " << seq;
            EXPECT_EQ(p.kind, k_data);
            EXPECT_EQ(p.sender, 3);
            EXPECT_EQ(p.seq, seq);
        }
    }
}

TEST(PktgenFrame, EveryFlippedBitPastEthernetFailsTheCheck) {
    for (uint32_t len : {60u, 62u, 101u}) {
        auto t = std::make_unique<frame_template>();
        build_template(*t, len, src_mac, dst_mac, k_data, 0);
        std::vector<std::byte> good(len), f(len);
        std::memcpy(good.data(), t->bytes, len);
        stamp(good.data(), *t, 1234, 0x0123456789abcdefull);
        parsed p{};
        ASSERT_TRUE(check_frame(good.data(), len, p));
        for (uint32_t bit = 14 * 8; bit < len * 8; ++bit) {
            f = good;
            f[bit / 8] ^= std::byte(1u << (bit % 8));
            EXPECT_FALSE(check_frame(f.data(), len, p)) << "len " << len << " bit " << bit;
        }
    }
}

TEST(PktgenFrame, HeadersOnlyCheckSkipsTheUdpChecksum) {
    auto t = std::make_unique<frame_template>();
    build_template(*t, 64, src_mac, dst_mac, k_data, 0);
    std::vector<std::byte> f(t->bytes, t->bytes + 64);
    stamp(f.data(), *t, 1024, 7);
    f[63] ^= std::byte(1);  // payload
    parsed p{};
    EXPECT_FALSE(check_frame(f.data(), 64, p));
    EXPECT_TRUE(check_frame(f.data(), 64, p, false));
    f[14 + 8] ^= std::byte(1);  // IPv4 TTL: its header checksum still counts
    EXPECT_FALSE(check_frame(f.data(), 64, p, false));
}

TEST(PktgenFrame, MissingUdpChecksumIsRejected) {
    auto t = std::make_unique<frame_template>();
    build_template(*t, 64, src_mac, dst_mac, k_data, 0);
    std::vector<std::byte> f(t->bytes, t->bytes + 64);
    stamp(f.data(), *t, 1024, 7);
    store_be16(f.data() + off_udp_csum, 0);
    parsed p{};
    EXPECT_FALSE(check_frame(f.data(), 64, p));
}

TEST(PktgenFrame, PingsAndTheirPongsStayValid) {
    auto t = std::make_unique<frame_template>();
    build_template(*t, ts_frame, src_mac, dst_mac, k_ping, 1);
    std::mt19937_64 rng(5);
    for (int i = 0; i < 2000; ++i) {
        std::vector<std::byte> f(t->bytes, t->bytes + ts_frame);
        const uint64_t seq = rng(), ts = rng();
        stamp(f.data(), *t, uint16_t(rng()), seq, ts);
        parsed p{};
        ASSERT_TRUE(check_frame(f.data(), ts_frame, p));
        EXPECT_EQ(p.kind, k_ping);
        reflect(f.data());
        ASSERT_TRUE(check_frame(f.data(), ts_frame, p)) << "pong " << i;
        EXPECT_EQ(p.kind, k_pong);
        EXPECT_EQ(p.seq, seq);
        EXPECT_EQ(udp_verify(f.data(), ts_frame), 0);
    }
}

TEST(PktgenRxAccount, InOrderStream) {
    rx_account a;
    for (uint64_t s = 0; s < 100000; ++s) a.frame(0, s, 60);
    const rx_counts c = a.counts();
    EXPECT_EQ(c.received, 100000u);
    EXPECT_EQ(c.accepted, 100000u);
    EXPECT_EQ(c.bytes, 6000000u);
    EXPECT_EQ(c.lost + c.duplicate + c.stray + c.bad + c.out_of_order, 0u);
}

TEST(PktgenRxAccount, GapsAreLostUntilTheyTurnUp) {
    rx_account a;
    for (uint64_t s = 0; s < 1000; ++s)
        if (s % 10 != 3) a.frame(0, s, 60);
    EXPECT_EQ(a.counts().lost, 100u);
    // Late arrivals within the window fill their gaps.
    for (uint64_t s = 3; s < 500; s += 10) a.frame(0, s, 60);
    const rx_counts c = a.counts();
    EXPECT_EQ(c.lost, 50u);
    EXPECT_EQ(c.out_of_order, 50u);
    EXPECT_EQ(c.duplicate, 0u);
    expect_consistent(a);
}

TEST(PktgenRxAccount, LateFrameOlderThanTheFirstExtendsTheRange) {
    rx_account a;
    a.frame(0, 10, 60);
    a.frame(0, 11, 60);
    a.frame(0, 7, 60);  // 8 and 9 are now known missing
    const rx_counts c = a.counts();
    EXPECT_EQ(c.accepted, 3u);
    EXPECT_EQ(c.lost, 2u);
    EXPECT_EQ(c.out_of_order, 1u);
}

TEST(PktgenRxAccount, DuplicatesAreCountedOnceAndNeverAsLossOrGain) {
    rx_account a;
    for (uint64_t s = 0; s < 5000; ++s) {
        a.frame(0, s, 60);
        if (s % 7 == 0) a.frame(0, s, 60);                     // right behind
        if (s >= 100 && s % 11 == 0) a.frame(0, s - 100, 60);  // well behind, in the window
    }
    const rx_counts c = a.counts();
    uint64_t dups = 0;
    for (uint64_t s = 0; s < 5000; ++s) dups += (s % 7 == 0) + (s >= 100 && s % 11 == 0);
    EXPECT_EQ(c.duplicate, dups);
    EXPECT_EQ(c.accepted, 5000u);
    EXPECT_EQ(c.lost, 0u);
    EXPECT_EQ(c.out_of_order, 0u);
    expect_consistent(a);
}

// The case that used to wrap: a frame whose sequence number has one bit
// flipped passes a check that does not cover it. Every bit position.
TEST(PktgenRxAccount, OneBogusSequenceNumberCostsOneFrame) {
    for (unsigned bit = 0; bit < 64; ++bit) {
        rx_account a;
        const uint64_t n = 50000, at = 20000;
        for (uint64_t s = 0; s < n; ++s) a.frame(0, s == at ? s ^ (uint64_t(1) << bit) : s, 60);
        const rx_counts c = a.counts();
        SCOPED_TRACE("bit " + std::to_string(bit));
        expect_consistent(a);
        EXPECT_EQ(c.received, n);
        // The true number never came: one lost. The bogus one is a stray
        // when far off, else it lands on another number: a duplicate of it,
        // or its early arrival, after which the numbers it skipped arrive
        // late (harm bounded by max_jump; the UDP checksum keeps such frames
        // out in practice).
        EXPECT_EQ(c.lost, 1u);
        EXPECT_LE(c.out_of_order, uint64_t(1) << bit);
        if ((uint64_t(1) << bit) > rx_account::max_jump) {
            EXPECT_EQ(c.stray, 1u);
            EXPECT_EQ(c.accepted, n - 1);
        } else {
            EXPECT_EQ(c.stray, 0u);
            EXPECT_EQ(c.duplicate, 1u);
        }
    }
}

TEST(PktgenRxAccount, DuplicateOlderThanTheWindowIsAStrayNotAGain) {
    rx_account a;
    for (uint64_t s = 0; s < 3 * rx_account::window; ++s) a.frame(0, s, 60);
    a.frame(0, 5, 60);
    a.frame(0, 3 * rx_account::window, 60);
    const rx_counts c = a.counts();
    EXPECT_EQ(c.stray, 1u);
    EXPECT_EQ(c.accepted, 3 * rx_account::window + 1);
    EXPECT_EQ(c.lost, 0u);
    expect_consistent(a);
}

TEST(PktgenRxAccount, ARestartedSenderStartsANewRun) {
    rx_account a;
    for (uint64_t s = 0; s < 100000; ++s) a.frame(2, s, 60);
    for (uint64_t s = 0; s < 1000; ++s) a.frame(2, s, 60);
    const rx_counts c = a.counts();
    EXPECT_EQ(c.stray, 0u) << "the jump back was confirmed by the next frame";
    EXPECT_EQ(c.accepted, 101000u);
    EXPECT_EQ(c.lost, 0u);
    EXPECT_EQ(c.duplicate, 0u);
}

TEST(PktgenRxAccount, AConfirmedLongLossBurstIsCountedExactly) {
    rx_account a;
    for (uint64_t s = 0; s < 1000; ++s) a.frame(0, s, 60);
    for (uint64_t s = 1001000; s < 1002000; ++s) a.frame(0, s, 60);
    const rx_counts c = a.counts();
    EXPECT_EQ(c.stray, 0u);
    EXPECT_EQ(c.accepted, 2000u);
    EXPECT_EQ(c.lost, 1000000u);
}

TEST(PktgenRxAccount, ABogusFirstFrameDoesNotPoisonTheSender) {
    rx_account a;
    a.frame(0, uint64_t(1) << 63, 60);
    for (uint64_t s = 0; s < 1000; ++s) a.frame(0, s, 60);
    const rx_counts c = a.counts();
    expect_consistent(a);
    EXPECT_EQ(c.stray, 0u);
    EXPECT_EQ(c.accepted, 1001u);  // the bogus one formed a run of its own
    EXPECT_EQ(c.lost, 0u);
    EXPECT_EQ(c.out_of_order, 0u);
}

TEST(PktgenRxAccount, SendersAreIndependent) {
    rx_account a;
    for (uint64_t s = 0; s < 1000; ++s) {
        a.frame(0, s, 60);
        if (s % 2) a.frame(1, s, 60);  // sender 1 loses every other frame
        a.frame(255, 5000 + s, 60);
    }
    a.bad(60);
    const rx_counts c = a.counts();
    EXPECT_EQ(c.bad, 1u);
    EXPECT_EQ(c.lost, 499u);  // 1..999 odd: 500 accepted over a range of 999
    EXPECT_EQ(c.accepted, 2500u);
    expect_consistent(a);
}

// Random mixes of everything, with the invariants checked after each frame;
// the counts of a link that only loses and duplicates are checked exactly.
TEST(PktgenRxAccount, RandomImpairmentsKeepTheCountsConsistent) {
    std::mt19937_64 rng(11);
    const uint64_t n = 20000;
    for (int round = 0; round < 20; ++round) {
        rx_account a;
        uint64_t lost = 0, dups = 0, bad = 0, bogus = 0;
        std::vector<std::pair<uint64_t, uint64_t>> held;  // (deliver after, seq)
        const bool clean = round % 2 == 0;                // only loss and duplication
        for (uint64_t s = 0; s < n; ++s) {
            const unsigned r = unsigned(rng() % 100);
            if (r < 5 && s != 0 && s + 1 != n) {  // the ends would not count as lost
                ++lost;
            } else if (!clean && r >= 15 && r < 20) {
                held.emplace_back(s + 1 + rng() % 200, s);  // reordered
            } else {
                a.frame(0, s, 60);
                if (r >= 5 && r < 10) {
                    a.frame(0, s, 60);
                    ++dups;
                } else if (!clean && r >= 10 && r < 13) {
                    a.bad(60);
                    ++bad;
                } else if (!clean && r >= 13 && r < 15) {
                    a.frame(0, s ^ (uint64_t(1) << (rng() % 64)), 60);
                    ++bogus;
                }
            }
            for (size_t k = 0; k < held.size();) {
                if (held[k].first <= s || s + 1 == n) {
                    a.frame(0, held[k].second, 60);
                    held[k] = held.back();
                    held.pop_back();
                } else {
                    ++k;
                }
            }
            expect_consistent(a);
            if (testing::Test::HasFailure()) return;
        }
        const rx_counts c = a.counts();
        if (clean) {
            EXPECT_EQ(c.lost, lost);
            EXPECT_EQ(c.duplicate, dups);
            EXPECT_EQ(c.accepted, n - lost);
            EXPECT_EQ(c.stray + c.out_of_order, 0u);
        } else {
            EXPECT_EQ(c.bad, bad);
            EXPECT_LE(c.stray, bogus);
            EXPECT_LE(c.lost, lost + bogus * rx_account::max_jump);
            EXPECT_GT(c.out_of_order, 0u);
        }
    }
}
