// Scripted-peer tests for TCP rules found broken by review and by running
// google's packetdrill suite (issue 20): each test failed before its fix.
// Zero-window probing with only the FIN left, TS.Recent and blind segments,
// window updates after the 16-bit cap, SACK block order, and the review's
// smaller findings. The same rules have packetdrill scripts under
// tests/packetdrill/scripts/.
#include "harness.hpp"

using namespace mvnf;
using namespace mvnf::tcp;
using namespace mvnf::tcp::test;

namespace {
constexpr uint8_t A = tcp_flag::ack;
tcp_options ts_opts(uint32_t tsval) {
    return {.has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 7, .sack_permitted = true,
            .has_timestamps = true, .tsval = tsval};
}
tcp_options ts_only(uint32_t tsval, uint32_t tsecr = 0) {
    return {.has_timestamps = true, .tsval = tsval, .tsecr = tsecr};
}
}  // namespace

// RFC 9293 3.8.6.1: with the peer's window closed and only our FIN left to
// send, the FIN waits and the window is probed with a zero-length segment
// at SND.UNA - 1; no octet is read from past the queued data.
TEST_F(scripted, ZeroWindowHoldsFinAndProbesWithoutData) {
    auto h = passive_open(seq32(100));
    ASSERT_TRUE(l->send(h, pattern(100), now));
    EXPECT_EQ(expect().len(), 100u);
    inject(seg({.seq = seq32(101), .ack = our_iss + 101, .flags = A, .window = 0}));
    ASSERT_TRUE(l->shutdown_write(h, now));
    expect_none();  // the FIN does not go into the closed window
    ASSERT_NE(l->next_deadline(), no_deadline) << "no persist timer for the waiting FIN";
    for (int i = 0; i < 2; ++i) {
        advance(l->next_deadline() - now);
        auto p = expect();
        EXPECT_EQ(p.len(), 0u) << "the probe carried an octet past the queued data";
        EXPECT_EQ(p.h.seq, our_iss + 100);
        EXPECT_FALSE(p.h.has(tcp_flag::fin));
        expect_none();
        inject(seg({.seq = seq32(101), .ack = our_iss + 101, .flags = A, .window = 0}));
    }
    EXPECT_EQ(l->counters().zero_window_probes, 2u);
    inject(seg({.seq = seq32(101), .ack = our_iss + 101, .flags = A, .window = 1000}));
    auto fin = expect();
    EXPECT_TRUE(fin.h.has(tcp_flag::fin));
    EXPECT_EQ(fin.h.seq, our_iss + 101);
    EXPECT_EQ(fin.len(), 0u);
    inject(seg({.seq = seq32(101), .ack = our_iss + 102, .flags = A, .window = 1000}));
    EXPECT_EQ(l->info(h)->st, state::fin_wait_2);
}

// The FIN went out with the data; the peer took the data only and closed
// its window. The FIN is outstanding but no data is: the probe still reads
// nothing from the ring, and the FIN goes again when the window opens.
TEST_F(scripted, ZeroWindowProbeWithOnlyFinInFlightCarriesNoData) {
    auto h = passive_open(seq32(100));
    ASSERT_TRUE(l->send(h, pattern(100), now));
    ASSERT_TRUE(l->shutdown_write(h, now));
    auto d = expect();
    EXPECT_EQ(d.len(), 100u);
    if (!d.h.has(tcp_flag::fin)) {
        EXPECT_TRUE(expect().h.has(tcp_flag::fin));
    }
    inject(seg({.seq = seq32(101), .ack = our_iss + 101, .flags = A, .window = 0}));
    for (int i = 0; i < 2; ++i) {
        advance(l->next_deadline() - now);
        auto p = expect();
        EXPECT_EQ(p.len(), 0u) << "the probe carried an octet past the queued data";
        EXPECT_EQ(p.h.seq, our_iss + 100);
        EXPECT_FALSE(p.h.has(tcp_flag::fin));
        inject(seg({.seq = seq32(101), .ack = our_iss + 101, .flags = A, .window = 0}));
    }
    inject(seg({.seq = seq32(101), .ack = our_iss + 101, .flags = A, .window = 1000}));
    auto fin = expect();
    EXPECT_TRUE(fin.h.has(tcp_flag::fin));
    EXPECT_EQ(fin.h.seq, our_iss + 101);
    EXPECT_EQ(fin.len(), 0u);
}

// RFC 7323 4.3 / RFC 5961: a blind in-window segment that fails the ACK or
// SYN checks must not move TS.Recent, or PAWS drops all later real traffic.
TEST_F(scripted, TsRecentNotTakenFromSegmentsThatFailTheChecks) {
    config cf = small_config();
    cf.challenge_ack_interval = 0;  // every challenge answered: the subject is TS.Recent
    make(cf);
    auto h = passive_open(seq32(100), ts_opts(1000));
    const uint32_t huge = 1000 + 0x70000000u;
    // ACK for data never sent (RFC 5961 5.2): challenged and dropped.
    inject(seg({.seq = seq32(101), .ack = our_iss + 50000, .flags = A, .opts = ts_only(huge)}),
           pattern(5));
    auto c1 = expect();
    EXPECT_EQ(c1.h.ack, seq32(101));
    EXPECT_EQ(c1.h.opts.tsecr, 1001u) << "TS.Recent took a rejected segment's TSval";
    // SYN at RCV.NXT (RFC 5961 4.2): challenged and dropped.
    inject(seg({.seq = seq32(101), .flags = tcp_flag::syn, .opts = ts_only(huge)}));
    auto c2 = expect();
    EXPECT_EQ(c2.h.flags, A);
    EXPECT_EQ(c2.h.opts.tsecr, 1001u);
    // In-window RST that is not exact (RFC 5961 3.2): challenged.
    inject(seg({.seq = seq32(102), .flags = tcp_flag::rst, .opts = ts_only(huge)}));
    EXPECT_EQ(expect().h.opts.tsecr, 1001u);
    // The real peer goes on with its own clock and is not dropped by PAWS.
    inject(seg({.seq = seq32(101), .ack = our_iss + 1, .flags = A | tcp_flag::psh,
                .opts = ts_only(1002)}),
           pattern(10));
    EXPECT_EQ(l->counters().drop_paws, 0u);
    EXPECT_EQ(l->info(h)->recv_queued, 10u);
    advance(cfg.delayed_ack);
    auto a = expect();
    EXPECT_EQ(a.h.ack, seq32(111));
    EXPECT_EQ(a.h.opts.tsecr, 1002u);  // a valid segment still updates it
}

// Window updates are compared after the 16-bit cap: without window scaling
// a receive ring above 64 KiB offers 65535 whatever is read, and a read
// must not send a copy of the last ACK (a duplicate ACK to the peer).
TEST_F(scripted, NoDuplicateWindowUpdateWhenFieldIsCapped) {
    config c = small_config();
    c.rcvbuf = 256 * 1024;
    make(c);
    auto h = passive_open(seq32(100), {.has_mss = true, .mss = 1460});
    inject(seg({.seq = seq32(101), .ack = our_iss + 1, .flags = A}), pattern(1460));
    inject(seg({.seq = seq32(1561), .ack = our_iss + 1, .flags = A}), pattern(1460));
    auto a = expect();
    EXPECT_EQ(a.h.ack, seq32(3021));
    EXPECT_EQ(a.h.window, 65535);
    std::vector<std::byte> buf(900);
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(*l->recv(h, buf, now), 900u);
        expect_none();
    }
    // With a small ring the same reads do open the window: an update goes.
    c.rcvbuf = 4096;
    make(c);
    h = passive_open(seq32(100), {.has_mss = true, .mss = 1460});
    open_handles = {h};
    inject(seg({.seq = seq32(101), .ack = our_iss + 1, .flags = A}), pattern(1460));
    inject(seg({.seq = seq32(1561), .ack = our_iss + 1, .flags = A}), pattern(1460));
    EXPECT_EQ(expect().h.window, 4096 - 2920);
    std::vector<std::byte> all(2920);
    ASSERT_EQ(*l->recv(h, all, now), 2920u);
    EXPECT_EQ(expect().h.window, 4096);
}

// RFC 2018 4: the block holding the segment that triggered the ACK first,
// then the other blocks most recently reported first.
TEST_F(scripted, SackBlocksMostRecentFirst) {
    passive_open(seq32(100), ts_opts(1000));
    auto blocks = [](const captured& c) {
        std::vector<std::pair<uint32_t, uint32_t>> v;
        for (size_t i = 0; i < c.h.opts.num_sack; ++i)
            v.push_back({c.h.opts.sack[i].left, c.h.opts.sack[i].right});
        return v;
    };
    using V = std::vector<std::pair<uint32_t, uint32_t>>;
    inject(seg({.seq = seq32(1101), .ack = our_iss + 1, .flags = A, .opts = ts_only(1002)}),
           pattern(100));
    EXPECT_EQ(blocks(expect()), (V{{1101, 1201}}));
    inject(seg({.seq = seq32(3101), .ack = our_iss + 1, .flags = A, .opts = ts_only(1003)}),
           pattern(100));
    EXPECT_EQ(blocks(expect()), (V{{3101, 3201}, {1101, 1201}}));
    inject(seg({.seq = seq32(2101), .ack = our_iss + 1, .flags = A, .opts = ts_only(1004)}),
           pattern(100));
    EXPECT_EQ(blocks(expect()), (V{{2101, 2201}, {3101, 3201}, {1101, 1201}}));
    // Extending the oldest block makes it the most recent.
    inject(seg({.seq = seq32(1201), .ack = our_iss + 1, .flags = A, .opts = ts_only(1005)}),
           pattern(100));
    EXPECT_EQ(blocks(expect()), (V{{1101, 1301}, {2101, 2201}, {3101, 3201}}));
    // A fourth block: three fit beside timestamps, the oldest drops out.
    inject(seg({.seq = seq32(4101), .ack = our_iss + 1, .flags = A, .opts = ts_only(1006)}),
           pattern(100));
    EXPECT_EQ(blocks(expect()), (V{{4101, 4201}, {1101, 1301}, {2101, 2201}}));
}

namespace {
// The peer's ACK of `ack_off` octets past our first data octet, with SACK
// blocks given as offsets from the same origin.
tcp_repr sack_ack(seq32 base, uint32_t ack_off,
                  std::initializer_list<std::pair<uint32_t, uint32_t>> blocks) {
    tcp_repr r{40000, 80, seq32(101), base + ack_off, tcp_flag::ack, 65535, 0, {}};
    for (auto [lo, hi] : blocks)
        r.opts.sack[r.opts.num_sack++] = {(base + lo).raw(), (base + hi).raw()};
    return r;
}
}  // namespace

// RFC 8985 keeps RACK on during recovery, with a reordering window of 0
// until reordering is seen (6.2 step 4): a hole with less than DupThresh
// SACKed above it is lost as soon as a segment sent after it is SACKed,
// and NextSeg rule 1 resends it at once, not after the RTO. RFC 6675
// NextSeg rule 4 resends the highest unSACKed segment once per recovery.
TEST_F(scripted, SackRecoveryResendsLaterHolesWithoutWaitingForTheRto) {
    config c = small_config();
    c.rescue_retransmit = true;  // rule 4 is checked below too
    make(c);
    auto h = passive_open(seq32(100), {.has_mss = true, .mss = 1000, .sack_permitted = true});
    ASSERT_TRUE(l->send(h, pattern(10000), now));
    for (int i = 0; i < 10; ++i) ASSERT_EQ(expect().len(), 1000u);
    const seq32 base = our_iss + 1;
    // Lost: [0, 1000) and [8000, 9000). Three SACKs start recovery.
    inject(sack_ack(base, 0, {{1000, 2000}}));
    inject(sack_ack(base, 0, {{1000, 3000}}));
    expect_none();
    inject(sack_ack(base, 0, {{1000, 4000}}));
    auto r1 = expect();
    EXPECT_EQ(r1.h.seq, base);
    EXPECT_EQ(r1.len(), 1000u);
    expect_none();  // pipe = cwnd (ssthresh)
    // Room opens and rules 1-3 have nothing: rule 4's rescue goes, once.
    inject(sack_ack(base, 0, {{1000, 5000}}));
    auto rescue = expect();
    EXPECT_EQ(rescue.h.seq, base + 9000);
    EXPECT_EQ(rescue.len(), 1000u);
    EXPECT_EQ(l->counters().rescue_retransmits, 1u);
    for (uint32_t hi : {6000u, 7000u, 8000u}) {
        inject(sack_ack(base, 0, {{1000, hi}}));
        expect_none();
    }
    // The last segment is SACKed above the hole at 8000: one segment
    // SACKed above it is short of DupThresh, but RACK calls it lost.
    inject(sack_ack(base, 0, {{1000, 8000}, {9000, 10000}}));
    auto r2 = expect();
    EXPECT_EQ(r2.h.seq, base + 8000) << "the hole waited for the RTO";
    EXPECT_EQ(r2.len(), 1000u);
    expect_none();
    // The partial ACK (our first retransmission arrived) and the full ACK.
    inject(sack_ack(base, 8000, {{9000, 10000}}));
    expect_none();
    inject(sack_ack(base, 10000, {}));
    EXPECT_EQ(l->info(h)->flight, 0u);
    EXPECT_EQ(l->counters().rto_timeouts, 0u);
    EXPECT_EQ(l->counters().rescue_retransmits, 1u);
}

// RFC 1337: an exact RST in TIME-WAIT is ignored (counted), so an old
// reset cannot cut 2MSL short; the connection leaves at 2MSL as usual.
TEST_F(scripted, RstInTimeWaitIsIgnored) {
    auto h = passive_open(seq32(100));
    ASSERT_TRUE(l->close(h, now));
    open_handles.clear();
    auto fin = expect();
    inject(seg({.seq = seq32(101), .ack = fin.h.seq + 1, .flags = A | tcp_flag::fin}));
    EXPECT_EQ(expect().h.ack, seq32(102));
    ASSERT_EQ(l->connections_in(state::time_wait), 1u);
    inject(seg({.seq = seq32(102), .flags = tcp_flag::rst}));
    expect_none();
    EXPECT_EQ(l->connections_in(state::time_wait), 1u) << "a RST ended TIME-WAIT";
    EXPECT_EQ(l->counters().drop_rst_time_wait, 1u);
    advance(cfg.time_wait + 1);
    EXPECT_EQ(l->free_connections(), start_free);
}

// RFC 9293 3.10.7.4: a RST in CLOSING or LAST-ACK deletes the connection;
// an application still holding the socket (it only shut its write side)
// is told ECONNRESET, as Linux does, not a clean end.
TEST_F(scripted, RstInClosingOrLastAckReportsResetToAnOpenSocket) {
    for (const bool last_ack : {true, false}) {
        SCOPED_TRACE(last_ack ? "LAST-ACK" : "CLOSING");
        make();
        open_handles.clear();
        auto h = passive_open(seq32(100));
        if (last_ack) {
            inject(seg({.seq = seq32(101), .ack = our_iss + 1, .flags = A | tcp_flag::fin}));
            expect();
            ASSERT_TRUE(l->shutdown_write(h, now));
            expect();  // our FIN
        } else {
            ASSERT_TRUE(l->shutdown_write(h, now));
            expect();  // our FIN; the peer's crosses it
            inject(seg({.seq = seq32(101), .ack = our_iss + 1, .flags = A | tcp_flag::fin}));
            expect();
        }
        ASSERT_EQ(l->info(h)->st, last_ack ? state::last_ack : state::closing);
        inject(seg({.seq = seq32(102), .flags = tcp_flag::rst}));
        EXPECT_EQ(l->info(h)->st, state::closed);
        EXPECT_EQ(l->info(h)->err, error::connection_reset);
        EXPECT_TRUE(l->readiness(h) & ev::error);
        ASSERT_TRUE(l->close(h, now));
        open_handles.clear();
        EXPECT_EQ(l->free_connections(), start_free);
    }
}

// RFC 5961 4.2: a SYN in a synchronized state gets a challenge ACK, with a
// FIN beside it too (RFC 9293 lists no exception; Linux answers it so).
// Without a connection, SYN+FIN opens nothing and is counted.
TEST_F(scripted, SynFinInSynchronizedStateIsChallenged) {
    auto h = passive_open(seq32(100));
    inject(seg({.seq = seq32(101), .flags = tcp_flag::syn | tcp_flag::fin}));
    auto c = expect();
    EXPECT_EQ(c.h.flags, A);
    EXPECT_EQ(c.h.ack, seq32(101));
    EXPECT_EQ(l->counters().challenge_acks, 1u);
    EXPECT_EQ(l->info(h)->st, state::established);
    EXPECT_EQ(l->info(h)->rcv_nxt, seq32(101));
    const uint64_t bad = l->counters().drop_bad_flags;
    inject(seg({.src_port = 40001, .seq = seq32(7), .flags = tcp_flag::syn | tcp_flag::fin}));
    expect_none();
    EXPECT_EQ(l->counters().drop_bad_flags, bad + 1);
}

// RFC 9293 3.10.7.4 / RFC 1122 4.2.2.13: data for a connection the
// application closed is answered with a RST (it has no reader), not
// acknowledged and thrown away. After shutdown of the write side only,
// data is still taken.
TEST_F(scripted, DataAfterCloseIsReset) {
    auto h = passive_open(seq32(100));
    ASSERT_TRUE(l->close(h, now));
    open_handles.clear();
    auto fin = expect();
    EXPECT_TRUE(fin.h.has(tcp_flag::fin));
    inject(seg({.seq = seq32(101), .ack = our_iss + 1, .flags = A | tcp_flag::psh}), pattern(10));
    auto r = expect();
    EXPECT_EQ(r.h.flags, tcp_flag::rst);
    EXPECT_EQ(r.h.seq, our_iss + 1);
    EXPECT_EQ(l->counters().rst_data_after_close, 1u);
    EXPECT_EQ(l->free_connections(), start_free);

    make();
    h = passive_open(seq32(5000));
    ASSERT_TRUE(l->shutdown_write(h, now));
    expect();
    inject(seg({.seq = seq32(5001), .ack = our_iss + 1, .flags = A | tcp_flag::psh}), pattern(10));
    EXPECT_EQ(l->info(h)->recv_queued, 10u);
    EXPECT_EQ(l->counters().rst_data_after_close, 0u);  // a new layer: its own counters
    sink.out.clear();
}

// Karn (RFC 6298 3) on the resend that ICMP frag-needed triggers (RFC
// 1191): the timed segment went again, so its ACK gives no RTT sample.
TEST_F(scripted, FragNeededResendIsNotTimed) {
    auto h = passive_open(seq32(100), {.has_mss = true, .mss = 1460});
    const nanos srtt = l->info(h)->srtt;
    ASSERT_TRUE(l->send(h, pattern(1000), now));
    EXPECT_EQ(expect().len(), 1000u);
    now += 100 * ms;  // no timer runs: only the clock moves
    l->icmp_error({ip_a, ip_b, port, peer_port}, our_iss + 1, layer::icmp_kind::frag_needed, 576,
                  now);
    EXPECT_EQ(expect().len(), 536u);
    EXPECT_EQ(expect().len(), 464u);
    now += 900 * ms;
    inject(seg({.seq = seq32(101), .ack = our_iss + 1001, .flags = A}));
    EXPECT_EQ(l->info(h)->flight, 0u);
    EXPECT_EQ(l->info(h)->srtt, srtt) << "an RTT sample from a resent segment";
}

// RFC 7323 4.1: a TSecr from the future or older than the longest RTO
// cannot echo one of our timestamps; it gives no RTT sample (counted).
TEST_F(scripted, RttSamplesFromImpossibleEchoesAreRejected) {
    auto h = passive_open(seq32(100), ts_opts(1000));
    const nanos srtt = l->info(h)->srtt;
    ASSERT_TRUE(l->send(h, pattern(100), now));
    const uint32_t ours = expect().h.opts.tsval;
    now += 10 * ms;
    inject(seg({.seq = seq32(101), .ack = our_iss + 101, .flags = A,
                .opts = ts_only(1002, ours + 100000)}));
    EXPECT_EQ(l->info(h)->srtt, srtt);
    EXPECT_EQ(l->counters().rtt_samples_rejected, 1u);
    ASSERT_TRUE(l->send(h, pattern(100), now));
    expect();
    now += 10 * ms;
    inject(seg({.seq = seq32(101), .ack = our_iss + 201, .flags = A,
                .opts = ts_only(1003, ours - 200000)}));
    EXPECT_EQ(l->info(h)->srtt, srtt);
    EXPECT_EQ(l->counters().rtt_samples_rejected, 2u);
    EXPECT_LT(l->info(h)->rto, 1 * sec);
    // A real echo still counts.
    ASSERT_TRUE(l->send(h, pattern(100), now));
    const uint32_t third = expect().h.opts.tsval;
    now += 50 * ms;
    inject(seg({.seq = seq32(101), .ack = our_iss + 301, .flags = A, .opts = ts_only(1004, third)}));
    EXPECT_NE(l->info(h)->srtt, srtt);
    EXPECT_EQ(l->counters().rtt_samples_rejected, 2u);
}

// RFC 6056 3.3.3 (Algorithm 3): ephemeral ports start at a keyed hash of
// the endpoints; a sequence shared by all destinations would let anyone
// who sees one of our ports guess the next connection's. Each destination
// still walks the whole range (engine_test's exhaustion test).
TEST_F(scripted, EphemeralPortsAreKeyedPerDestination) {
    const ipv4_addr me(10, 0, 0, 1), peer(10, 0, 0, 2);
    auto port_to = [&](uint16_t rport) {
        auto h = l->connect(me, 0, peer, rport, now);
        EXPECT_TRUE(h);
        if (!h) return uint16_t(0);
        open_handles.push_back(*h);
        return l->tuple(*h)->local_port;
    };
    const uint16_t a1 = port_to(80), b1 = port_to(81), a2 = port_to(80), c1 = port_to(443);
    for (uint16_t p : {a1, b1, a2, c1}) {
        EXPECT_GE(p, cfg.ephemeral_lo);
        EXPECT_LE(p, cfg.ephemeral_hi);
    }
    EXPECT_NE(b1, uint16_t(a1 + 1)) << "ports follow one global sequence";
    EXPECT_NE(c1, uint16_t(a2 + 1));
    EXPECT_NE(a1, a2);
    // Another secret, the same destination: another starting point.
    open_handles.clear();
    sink.out.clear();
    config c = small_config();
    c.secret[5] ^= 0x5a;
    make(c);
    EXPECT_NE(port_to(80), a1);
    sink.out.clear();
}

namespace {

// RFC 6191 2: a SYN for a 4-tuple in TIME-WAIT opens a new incarnation when
// its timestamp is above the last one seen from the peer (whatever its
// sequence number), or equal with the sequence number above; without
// timestamps on the new incarnation, the sequence number decides (RFC 9293
// 3.10.7.4). A SYN that may not reopen leaves TIME-WAIT in place.
class time_wait_reopen : public scripted {
protected:
    // Passive connection closed by us; the peer's FIN (TSval 1002 when
    // with_ts, sequence 101) takes it to TIME-WAIT with RCV.NXT = 102.
    void to_time_wait(bool with_ts) {
        auto h = passive_open(seq32(100), with_ts ? ts_opts(1000) : tcp_options{});
        ASSERT_TRUE(l->close(h, now));
        open_handles.clear();
        auto fin = expect();
        ASSERT_EQ(fin.h.flags, tcp_flag::fin | A);
        inject(seg({.seq = seq32(101), .ack = fin.h.seq + 1, .flags = A | tcp_flag::fin,
                    .opts = with_ts ? ts_only(1002, fin.h.opts.tsval) : tcp_options{}}));
        EXPECT_EQ(expect().h.ack, seq32(102));
        ASSERT_EQ(l->connections_in(state::time_wait), 1u);
    }
    // A SYN on the same 4-tuple: true when answered with a SYN-ACK.
    bool syn_reopens(seq32 seq, std::optional<uint32_t> tsval) {
        inject(seg({.seq = seq, .flags = tcp_flag::syn,
                    .opts = tsval ? ts_opts(*tsval) : tcp_options{}}));
        bool synack = false;
        while (!sink.out.empty()) {
            synack |= expect().h.flags == (tcp_flag::syn | A);
        }
        return synack;
    }
};

TEST_F(time_wait_reopen, LargerTimestampReopensBelowTheOldSequence) {
    to_time_wait(true);
    EXPECT_TRUE(syn_reopens(seq32(50), 2000));
    EXPECT_EQ(l->connections_in(state::time_wait), 0u);
}

TEST_F(time_wait_reopen, SmallerTimestampDoesNotReopenAboveTheOldSequence) {
    to_time_wait(true);
    EXPECT_FALSE(syn_reopens(seq32(5000), 900));
    EXPECT_EQ(l->connections_in(state::time_wait), 1u);
}

TEST_F(time_wait_reopen, EqualTimestampLeavesItToTheSequence) {
    to_time_wait(true);
    EXPECT_FALSE(syn_reopens(seq32(50), 1002));
    EXPECT_EQ(l->connections_in(state::time_wait), 1u);
    EXPECT_TRUE(syn_reopens(seq32(5000), 1002));
    EXPECT_EQ(l->connections_in(state::time_wait), 0u);
}

TEST_F(time_wait_reopen, SynWithoutTimestampsAfterATimestampedConnectionNeedsTheSequence) {
    to_time_wait(true);
    EXPECT_FALSE(syn_reopens(seq32(50), std::nullopt));
    EXPECT_TRUE(syn_reopens(seq32(5000), std::nullopt));
}

TEST_F(time_wait_reopen, WithoutTimestampsTheSequenceDecides) {
    to_time_wait(false);
    EXPECT_FALSE(syn_reopens(seq32(50), std::nullopt));
    EXPECT_EQ(l->connections_in(state::time_wait), 1u);
    EXPECT_TRUE(syn_reopens(seq32(5000), std::nullopt));
}

TEST_F(time_wait_reopen, TimestampsOnTheNewIncarnationOnlyReopen) {
    // The old incarnation's segments carry no timestamp, so the new one
    // (which requires them, RFC 7323 3.2) cannot take them for its own.
    to_time_wait(false);
    EXPECT_TRUE(syn_reopens(seq32(50), 7));
}

}  // namespace
