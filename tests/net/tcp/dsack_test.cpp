// Scripted-peer tests of D-SACK generation (RFC 2883): data that arrives
// twice is reported once, as the first SACK block of an immediate ACK, below
// the cumulative ACK or followed by the queued block that holds it.
#include "harness.hpp"

using namespace mvnf;
using namespace mvnf::tcp;
using namespace mvnf::tcp::test;

namespace {

constexpr uint8_t A = tcp_flag::ack;

class dsack : public scripted {
  protected:
    // Peer ISN 100, so its data starts at 101; SACK and timestamps agreed.
    void open(bool sack = true, bool timestamps = true) {
        tcp_options o{.sack_permitted = sack};
        if (timestamps) o.has_timestamps = true, o.tsval = 500;
        ts = timestamps;
        h = passive_open(seq32(100), o);
    }
    // Peer data [l, r) (sequence numbers), the bytes of one fixed stream so
    // repeated and overlapping segments carry the same octets.
    void data(uint32_t left, uint32_t right, uint32_t tsval = 600) {
        tcp_repr s = seg({.seq = seq32(left), .ack = our_iss + 1, .flags = A});
        if (ts) s.opts.has_timestamps = true, s.opts.tsval = tsval;
        inject(s, std::span(stream).subspan(left - 101, right - left));
    }
    // The next segment must be an ACK of `ack` carrying exactly `blocks`.
    void expect_ack(uint32_t ack, std::initializer_list<sack_block> blocks) {
        auto a = expect();
        EXPECT_EQ(a.h.flags, A);
        EXPECT_EQ(a.h.ack.raw(), ack);
        ASSERT_EQ(a.h.opts.num_sack, blocks.size());
        size_t i = 0;
        for (auto bl : blocks) EXPECT_EQ(a.h.opts.sack[i++], bl) << "block " << i;
    }
    void expect_delivered(uint32_t upto) {
        std::vector<std::byte> got(upto - 101);
        ASSERT_EQ(*l->recv(h, got, now), got.size());
        EXPECT_TRUE(std::equal(got.begin(), got.end(), stream.begin()));
    }

    handle h;
    bool ts = true;
    std::vector<std::byte> stream = pattern(4000, 3);
};

TEST_F(dsack, WholeDuplicateIsReportedBelowTheAckOnce) {
    open();
    data(101, 201);
    expect_none();  // in order: the ACK is delayed
    data(101, 201);
    expect_ack(201, {{101, 201}});  // at once, the duplicate below the ACK
    EXPECT_EQ(l->counters().dsacks_sent, 1u);
    data(301, 401);  // the next ACK no longer carries it (rule 2)
    expect_ack(201, {{301, 401}});
    EXPECT_EQ(l->counters().dsacks_sent, 1u);
    data(201, 301);
    expect_ack(401, {});
    expect_delivered(401);
}

TEST_F(dsack, PartialDuplicateReportsOnlyTheRepeatedOctets) {
    open();
    data(101, 201);
    data(151, 301);
    expect_ack(301, {{151, 201}});
    expect_delivered(301);
}

TEST_F(dsack, OutOfOrderDuplicateIsFollowedByItsBlock) {
    open();
    data(201, 301);
    expect_ack(101, {{201, 301}});
    data(401, 501);
    expect_ack(101, {{401, 501}, {201, 301}});
    data(201, 301);  // rule 4: the block that holds the duplicate comes second
    expect_ack(101, {{201, 301}, {201, 301}, {401, 501}});
    data(251, 351);  // partly new: the repeated part, then the grown block
    expect_ack(101, {{251, 301}, {201, 351}, {401, 501}});
    EXPECT_EQ(l->counters().dsacks_sent, 2u);
    data(101, 201);
    expect_ack(351, {{401, 501}});
    expect_delivered(351);
}

TEST_F(dsack, WithoutTimestampsFourBlocksFit) {
    open(true, false);
    data(201, 301);
    expect_ack(101, {{201, 301}});
    data(401, 501);
    expect_ack(101, {{401, 501}, {201, 301}});
    data(601, 701);
    // RFC 2018 4: after the newest block, the others most recent first.
    expect_ack(101, {{601, 701}, {401, 501}, {201, 301}});
    data(401, 501);
    expect_ack(101, {{401, 501}, {401, 501}, {601, 701}, {201, 301}});
}

TEST_F(dsack, InOrderSegmentOverQueuedDataReportsTheOverlap) {
    open();
    data(201, 301);
    expect_ack(101, {{201, 301}});
    data(101, 301);  // fills the hole and repeats what was queued
    expect_ack(301, {{201, 301}});
    expect_delivered(301);
}

TEST_F(dsack, PawsRejectedRepeatIsReported) {
    open();
    data(101, 201, 700);
    data(101, 201, 650);  // an older timestamp: dropped by PAWS (RFC 7323 5.3)
    expect_ack(201, {{101, 201}});
    EXPECT_EQ(l->counters().drop_paws, 1u);
    EXPECT_EQ(l->counters().dsacks_sent, 1u);
}

TEST_F(dsack, NotSentWithoutSack) {
    open(false);
    data(101, 201);
    data(101, 201);
    expect_ack(201, {});  // still an immediate duplicate ACK, but no blocks
    EXPECT_EQ(l->counters().dsacks_sent, 0u);
}

TEST_F(dsack, NotSentWhenTurnedOff) {
    config c = small_config();
    c.dsack = false;
    make(c);
    open();
    data(101, 201);
    data(101, 201);
    expect_ack(201, {});
    data(201, 301);
    data(251, 351);
    expect_ack(351, {});
    EXPECT_EQ(l->counters().dsacks_sent, 0u);
}

TEST_F(dsack, ReceivedDsackIsCounted) {
    tcp_options o{.has_mss = true, .mss = 1000, .sack_permitted = true};
    h = passive_open(seq32(100), o);
    const uint32_t b = (our_iss + 1).raw();
    ASSERT_TRUE(l->send(h, pattern(3000), now));
    for (int i = 0; i < 3; ++i) (void)expect();
    // The peer reports [b, b+1000) twice below its ACK, then as a D-SACK
    // inside the second block.
    tcp_repr r = seg({.seq = seq32(101), .ack = seq32(b + 1000), .flags = A});
    r.opts.sack[r.opts.num_sack++] = {b, b + 1000};
    inject(r);
    r.opts.num_sack = 0;
    r.opts.sack[r.opts.num_sack++] = {b + 2000, b + 2500};
    r.opts.sack[r.opts.num_sack++] = {b + 2000, b + 3000};
    inject(r);
    EXPECT_EQ(l->counters().dsacks_received, 2u);
    EXPECT_EQ(l->info(h)->flight, 2000u);
    expect_none();  // 1000 octets SACKed above the hole: not lost yet
}

}  // namespace
