// Scripted-peer tests of RFC 8985 loss detection (rack_tlp.cpp). The tail
// loss probe: when the tail of a flight or all its ACKs are lost, a probe
// after 2 SRTT (not the 200 ms+ RTO) brings an ACK back; the ACK decides
// whether a loss happened (and the congestion response) or which holes are
// lost (SACK recovery). RACK's reordering window: a hole with too little
// SACKed above it for DupThresh is lost a quarter RTT after the SACK.
#include "harness.hpp"

using namespace mvnf;
using namespace mvnf::tcp;
using namespace mvnf::tcp::test;

namespace {

constexpr uint8_t A = tcp_flag::ack;

class tlp : public scripted {
protected:
    // SACK (and optionally timestamps) negotiated, `segs` full segments sent;
    // remembers each one's TSval and the payload per segment.
    handle open_and_send(uint32_t segs, bool timestamps = true, uint32_t queued = 0) {
        tcp_options o{.has_mss = true, .mss = 1000, .sack_permitted = true};
        if (timestamps) o.has_timestamps = true, o.tsval = 500;
        h = passive_open(seq32(100), o);
        b = (our_iss + 1).raw();
        n = 1000 - (timestamps ? 12 : 0);  // RFC 6691: options come out of the MSS
        EXPECT_TRUE(l->send(h, pattern(queued ? queued : segs * n), now));
        tsvals.clear();
        for (uint32_t i = 0; i < segs; ++i) {
            auto s = expect();
            EXPECT_EQ(s.h.seq.raw(), b + i * n);
            EXPECT_EQ(s.len(), n);
            tsvals.push_back(s.h.opts.tsval);
        }
        expect_none();
        return h;
    }
    // An ACK from the peer; sack blocks first-to-last as given.
    void ack(uint32_t a, std::optional<uint32_t> tsecr, std::initializer_list<sack_block> blocks) {
        tcp_repr r = seg({.seq = seq32(101), .ack = seq32(a), .flags = A});
        if (tsecr) r.opts.has_timestamps = true, r.opts.tsval = 600, r.opts.tsecr = *tsecr;
        for (auto bl : blocks) r.opts.sack[r.opts.num_sack++] = bl;
        inject(r);
    }
    // Runs the clock timer by timer until one sends something; returns it.
    // (A timer may wake up and find nothing due: deadlines that moved later
    // leave the wheel timer where it was.)
    captured fire() {
        for (int i = 0; i < 16 && sink.out.empty(); ++i) {
            const nanos due = l->next_deadline();
            if (due == no_deadline) break;
            advance(due - now);
        }
        return expect();
    }

    handle h;
    uint32_t b = 0, n = 0;
    std::vector<uint32_t> tsvals;
};

}  // namespace

// Every ACK of a flight lost: the probe (the last segment again) goes out
// after the PTO, long before the RTO, and nothing else does. The peer had
// everything, which its answer shows by echoing the older timestamp
// (RFC 7323 4.3 keeps TS.Recent for a duplicate) or by a D-SACK for the
// probe (RFC 2883): then the congestion window stays. An answer showing
// neither means the probe may have repaired a loss: the window is reduced.
TEST_F(tlp, LostAcksProbeTheLastSegmentAndTheDuplicateCostsNothing) {
    enum class says { old_timestamp, dsack, nothing };
    for (const says v : {says::old_timestamp, says::dsack, says::nothing}) {
        SCOPED_TRACE(int(v));
        make();
        const bool ts = v == says::old_timestamp;
        open_and_send(5, ts);
        const uint32_t cwnd_before = l->info(h)->cwnd;
        const nanos sent_at = now;
        auto probe = fire();
        EXPECT_LT(now - sent_at, cfg.rto_min) << "the probe must come before the RTO";
        EXPECT_EQ(probe.h.seq.raw(), b + 4 * n);
        EXPECT_EQ(probe.len(), n);
        EXPECT_EQ(l->counters().tlp_probes, 1u);
        EXPECT_EQ(l->counters().rto_timeouts, 0u);
        expect_none();
        if (v == says::dsack) ack(b + 5 * n, std::nullopt, {{b + 4 * n, b + 5 * n}});
        else ack(b + 5 * n, ts ? std::optional(tsvals[4]) : std::nullopt, {});
        EXPECT_EQ(l->info(h)->flight, 0u);
        if (v == says::nothing) {
            EXPECT_EQ(l->counters().tlp_recoveries, 1u);
            EXPECT_LT(l->info(h)->cwnd, cwnd_before);
        } else {
            EXPECT_EQ(l->counters().tlp_recoveries, 0u);
            EXPECT_GE(l->info(h)->cwnd, cwnd_before);
        }
        EXPECT_EQ(l->next_deadline(), no_deadline);
    }
}

// The last segment lost, the others ACKed: one segment out, so the PTO adds
// the peer's worst-case delayed ACK and lands on the RTO; the probe goes
// out then instead of a timeout (no collapse to one segment), and its ACK,
// echoing the probe's own timestamp, shows it repaired a loss: the window
// is reduced as fast recovery would (RFC 8985 7.4.2), not reset.
TEST_F(tlp, ProbeThatRepairsTheLastSegmentReducesTheWindowOnce) {
    open_and_send(5);
    ack(b + 4 * n, tsvals[3], {});
    const uint32_t cwnd_before = l->info(h)->cwnd;
    const nanos acked_at = now;
    auto probe = fire();
    EXPECT_EQ(now - acked_at, l->info(h)->rto);
    EXPECT_EQ(probe.h.seq.raw(), b + 4 * n);
    EXPECT_EQ(l->counters().tlp_probes, 1u);
    EXPECT_EQ(l->counters().rto_timeouts, 0u);
    ack(b + 5 * n, probe.h.opts.tsval, {});
    EXPECT_EQ(l->counters().tlp_recoveries, 1u);
    const uint32_t cwnd = l->info(h)->cwnd;
    EXPECT_LT(cwnd, cwnd_before);
    EXPECT_GT(cwnd, l->info(h)->mss) << "a probe's loss is not a timeout";
    EXPECT_EQ(l->info(h)->flight, 0u);
}

// Two segments lost in the tail and the last one's ACK lost too: no DupAcks
// can come. The probe (the last segment again) is SACKed with the holes
// below it still open; as RACK would (RFC 8985 6.2), both holes count as
// lost at once and SACK recovery resends exactly them, with no timeout.
TEST_F(tlp, SackedProbeMarksEveryHoleBelowItLost) {
    open_and_send(6);
    ack(b + 3 * n, tsvals[2], {});
    auto probe = fire();
    EXPECT_EQ(probe.h.seq.raw(), b + 5 * n);
    EXPECT_EQ(l->counters().rto_timeouts, 0u);
    // D-SACK for the probe (segment 5 had arrived), then the block itself.
    ack(b + 3 * n, tsvals[5], {{b + 5 * n, b + 6 * n}, {b + 5 * n, b + 6 * n}});
    std::vector<uint32_t> resent;
    while (!sink.out.empty()) {
        auto s = expect();
        if (s.len()) resent.push_back((s.h.seq.raw() - b) / n);
    }
    EXPECT_EQ(resent, (std::vector<uint32_t>{3, 4}));
    EXPECT_EQ(l->counters().tlp_recoveries, 1u);
    EXPECT_EQ(l->counters().fast_retransmits, 1u);
    EXPECT_EQ(l->counters().rto_timeouts, 0u);
    ack(b + 6 * n, tsvals[5], {});
    EXPECT_EQ(l->info(h)->flight, 0u);
}

// With data still queued and room in the peer's window, the probe is the
// next new segment, beyond the congestion window (RFC 8985 7.3). Its ACK
// covering everything shows no loss: no reduction.
TEST_F(tlp, ProbeSendsNewDataWhenThereIsSome) {
    open_and_send(cfg.initial_window_segments, true, 20 * 988);
    const uint32_t cwnd_before = l->info(h)->cwnd;
    auto probe = fire();
    EXPECT_EQ(probe.h.seq.raw(), b + cfg.initial_window_segments * n);
    EXPECT_EQ(probe.len(), n);
    EXPECT_EQ(l->counters().retransmits, 0u);
    ack(b + (cfg.initial_window_segments + 1) * n, probe.h.opts.tsval, {});
    EXPECT_EQ(l->counters().tlp_recoveries, 0u);
    EXPECT_GE(l->info(h)->cwnd, cwnd_before);
    while (!sink.out.empty()) expect();
}

// Without SACK there is no probe (RFC 8985 7.2 condition 1), nor with the
// probe turned off: the RTO alone recovers the tail.
TEST_F(tlp, NoProbeWithoutSackOrWhenTurnedOff) {
    for (const bool sack : {false, true}) {
        config c = small_config();
        c.tail_loss_probe = !sack;  // the SACK case has it turned off
        make(c);
        tcp_options o{.has_mss = true, .mss = 1000, .sack_permitted = sack};
        h = passive_open(seq32(100), o);
        ASSERT_TRUE(l->send(h, pattern(3000), now));
        for (int i = 0; i < 3; ++i) expect();
        const nanos sent_at = now;
        auto re = fire();
        EXPECT_EQ(now - sent_at, l->info(h)->rto);
        EXPECT_EQ(re.h.seq, our_iss + 1);
        EXPECT_EQ(l->counters().rto_timeouts, 1u);
        EXPECT_EQ(l->counters().tlp_probes, 0u);
        while (!sink.out.empty()) expect();
    }
}

// An application-limited tail: three segments, the first lost, two SACKed.
// DupThresh never comes (nothing more to send) and no probe is allowed
// (something is SACKed): RACK's window (SRTT / 4, here its 1 ms floor)
// after the SACK, the hole is lost and resent, long before the RTO.
TEST_F(tlp, HoleUnderDupThreshIsResentAfterTheReorderingWindow) {
    open_and_send(3, false);
    ack(b, std::nullopt, {{b + n, b + 2 * n}});
    ack(b, std::nullopt, {{b + n, b + 3 * n}});
    expect_none();
    const nanos sacked_at = now;
    auto re = fire();
    EXPECT_EQ(now - sacked_at, 1 * ms);
    EXPECT_EQ(re.h.seq.raw(), b);
    EXPECT_EQ(re.len(), n);
    EXPECT_EQ(l->counters().reorder_recoveries, 1u);
    EXPECT_EQ(l->counters().fast_retransmits, 1u);
    EXPECT_EQ(l->counters().rto_timeouts, 0u);
    EXPECT_EQ(l->counters().tlp_probes, 0u);
    expect_none();
    ack(b + 3 * n, std::nullopt, {});
    EXPECT_EQ(l->info(h)->flight, 0u);
}

// The same hole filled within the window (the segment was only reordered):
// nothing is resent and the window is not reduced.
TEST_F(tlp, ReorderedSegmentArrivingWithinTheWindowCostsNothing) {
    open_and_send(3, false);
    const uint32_t cwnd_before = l->info(h)->cwnd;
    ack(b, std::nullopt, {{b + n, b + 3 * n}});
    advance(ms / 2);
    ack(b + 3 * n, std::nullopt, {});
    advance(1 * sec);
    expect_none();
    EXPECT_EQ(l->counters().reorder_recoveries, 0u);
    EXPECT_EQ(l->counters().retransmits, 0u);
    EXPECT_GE(l->info(h)->cwnd, cwnd_before);
}
