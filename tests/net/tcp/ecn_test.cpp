// Scripted-peer tests of ECN (RFC 3168 6.1, ecn.cpp): the handshake that
// agrees on it, ECT on new data only, the receiver's ECE echo until CWR, the
// sender's once-per-window reduction and its CWR.
#include "harness.hpp"

using namespace mvnf;
using namespace mvnf::tcp;
using namespace mvnf::tcp::test;

namespace {

constexpr uint8_t A = tcp_flag::ack, S = tcp_flag::syn, ECE = tcp_flag::ece, CWR = tcp_flag::cwr;
constexpr uint8_t ect0 = 2, ce = 3;

class ecn : public scripted {
  protected:
    // A passive open whose SYN carries `syn_flags`; returns the SYN-ACK's flags.
    uint8_t open(uint8_t syn_flags, uint8_t mode = 2) {
        config c = small_config();
        c.ecn = mode;
        make(c);
        lh = do_listen();
        inject(
            seg({.seq = seq32(100), .flags = syn_flags, .opts = {.has_mss = true, .mss = 1000}}));
        auto sa = expect();
        our_iss = sa.h.seq;
        inject(seg({.seq = seq32(101), .ack = our_iss + 1, .flags = A}));
        auto r = l->accept(lh);
        EXPECT_TRUE(r);
        h = *r;
        open_handles.push_back(h);
        b = (our_iss + 1).raw();
        return sa.h.flags;
    }
    void ack(uint32_t a, uint8_t extra = 0) {
        inject(seg({.seq = seq32(101), .ack = seq32(a), .flags = uint8_t(A | extra)}));
    }
    handle h;
    uint32_t b = 0;
    static constexpr uint32_t n = 1000;
};

TEST_F(ecn, PassiveOpenGrantsWhatTheSynAsks) {
    EXPECT_EQ(open(S | ECE | CWR), S | A | ECE);  // ECN-setup SYN-ACK: ECE, no CWR
    EXPECT_TRUE(l->info(h)->ecn_ok);
    EXPECT_EQ(l->counters().ecn_connections, 1u);
    ASSERT_TRUE(l->send(h, pattern(2 * n), now));
    for (int i = 0; i < 2; ++i) {
        auto d = expect();
        EXPECT_EQ(d.ip_ecn, ect0);  // new data: ECT(0)
        EXPECT_EQ(d.h.flags & (ECE | CWR), 0);
    }
    inject(seg({.seq = seq32(101), .ack = seq32(b + 2 * n), .flags = A}), pattern(10));
    advance(100 * ms);
    EXPECT_EQ(expect().ip_ecn, 0);  // a pure ACK is never ECT (6.1.4)
}

TEST_F(ecn, NoEcnWithoutTheAskOrWhenOff) {
    EXPECT_EQ(open(S), S | A);
    EXPECT_FALSE(l->info(h)->ecn_ok);
    ASSERT_TRUE(l->send(h, pattern(n), now));
    EXPECT_EQ(expect().ip_ecn, 0);
    TearDown();
    open_handles.clear();
    sink.out.clear();
    EXPECT_EQ(open(S | ECE | CWR, 0), S | A);  // tcp_ecn = 0
    EXPECT_FALSE(l->info(h)->ecn_ok);
    EXPECT_EQ(l->counters().ecn_connections, 0u);
}

TEST_F(ecn, ActiveOpenAsksOnTheFirstSynOnly) {
    for (const uint8_t mode : {uint8_t(1), uint8_t(2)}) {
        config c = small_config();
        c.ecn = mode;
        make(c);
        auto hc = l->connect(ip_a, 1234, ip_b, peer_port, now);
        ASSERT_TRUE(hc);
        open_handles.push_back(*hc);
        auto syn = expect();
        EXPECT_EQ(syn.h.flags, mode == 1 ? S | ECE | CWR : S);
        EXPECT_EQ(syn.ip_ecn, 0);
        if (mode == 1) {
            advance(l->info(*hc)->rto);  // the SYN is lost: the resend does not ask
            auto again = expect();
            EXPECT_EQ(again.h.flags, S);
            // A SYN-ACK with ECE now answers a SYN that did not ask.
            inject(seg({.src_port = peer_port,
                        .dst_port = 1234,
                        .seq = seq32(500),
                        .ack = syn.h.seq + 1,
                        .flags = S | A | ECE}));
            EXPECT_FALSE(l->info(*hc)->ecn_ok);
        }
        TearDown();
        open_handles.clear();
        sink.out.clear();
    }
    config c = small_config();
    c.ecn = 1;
    make(c);
    auto hc = l->connect(ip_a, 1234, ip_b, peer_port, now);
    ASSERT_TRUE(hc);
    open_handles.push_back(*hc);
    auto syn = expect();
    inject(seg({.src_port = peer_port,
                .dst_port = 1234,
                .seq = seq32(500),
                .ack = syn.h.seq + 1,
                .flags = S | A | ECE}));
    EXPECT_TRUE(l->info(*hc)->ecn_ok);
    EXPECT_EQ(expect().h.flags, A);  // the handshake's ACK: no ECN flags
}

TEST_F(ecn, CeMarkIsEchoedUntilCwr) {
    open(S | ECE | CWR);
    const auto data = pattern(400);
    auto in = [&](uint32_t off, uint8_t extra, uint8_t ip_ecn) {
        inject(seg({.seq = seq32(101 + off), .ack = seq32(b), .flags = uint8_t(A | extra)}),
               std::span(data).subspan(off, 100), ip_ecn);
    };
    in(0, 0, ce);
    auto a1 = expect();  // the first mark is answered at once
    EXPECT_EQ(a1.h.flags, A | ECE);
    EXPECT_EQ(l->counters().ecn_ce_received, 1u);
    in(100, 0, ect0);
    advance(100 * ms);  // a delayed ACK, still echoing
    EXPECT_EQ(expect().h.flags, A | ECE);
    in(200, CWR, ect0);  // the sender reduced: the echo stops
    advance(100 * ms);
    EXPECT_EQ(expect().h.flags, A);
    in(300, CWR, ce);  // CWR and a new mark together: the mark wins
    EXPECT_EQ(expect().h.flags, A | ECE);
    std::vector<std::byte> got(400);
    EXPECT_EQ(*l->recv(h, got, now), 400u);
}

TEST_F(ecn, EceReducesOncePerWindowAndNewDataCarriesCwr) {
    open(S | ECE | CWR);
    ASSERT_TRUE(l->send(h, pattern(30 * n), now));
    for (int i = 0; i < 10; ++i) EXPECT_EQ(expect().ip_ecn, ect0);
    const uint32_t cwnd0 = l->info(h)->cwnd;
    ack(b + 2 * n, ECE);
    EXPECT_EQ(l->counters().ecn_reductions, 1u);
    EXPECT_LT(l->info(h)->cwnd, cwnd0);
    EXPECT_EQ(l->info(h)->cwnd, l->info(h)->ssthresh);
    ack(b + 3 * n, ECE);  // the same window: no second reduction
    EXPECT_EQ(l->counters().ecn_reductions, 1u);
    // ACKs without ECE until cwnd lets new data out: the first carries CWR.
    int cwr = 0, segs = 0;
    for (uint32_t k = 4; k <= 10 && segs < 3; ++k) {
        ack(b + k * n);
        while (!sink.out.empty()) {
            auto d = expect();
            if (d.len() == 0) continue;
            EXPECT_EQ(d.ip_ecn, ect0);
            if (segs++ == 0) {
                EXPECT_EQ(d.h.flags & CWR, CWR);
            }
            cwr += (d.h.flags & CWR) != 0;
        }
    }
    EXPECT_GT(segs, 0);
    EXPECT_EQ(cwr, 1);
    // The window that was out at the reduction is ACKed: the next ECE counts.
    ack(b + 10 * n);
    ack(b + 11 * n, ECE);
    EXPECT_EQ(l->counters().ecn_reductions, 2u);
    sink.out.clear();
}

TEST_F(ecn, RetransmissionsAreNotEct) {
    open(S | ECE | CWR);
    ASSERT_TRUE(l->send(h, pattern(3 * n), now));
    for (int i = 0; i < 3; ++i) EXPECT_EQ(expect().ip_ecn, ect0);
    advance(l->info(h)->rto);
    auto re = expect();
    EXPECT_EQ(re.h.seq.raw(), b);
    EXPECT_EQ(re.ip_ecn, 0);  // 6.1.5: a mark on it would not be answered
    sink.out.clear();
}

TEST_F(ecn, WindowProbesAreNotEct) {
    open(S | ECE | CWR);
    inject(seg({.seq = seq32(101), .ack = seq32(b), .flags = A, .window = 0}));
    ASSERT_TRUE(l->send(h, pattern(300), now));
    expect_none();
    advance(l->next_deadline() - now);
    auto probe = expect();
    EXPECT_EQ(probe.len(), 1u);
    EXPECT_EQ(probe.ip_ecn, 0);  // 6.1.6
    sink.out.clear();
}

// A SYN cookie keeps the ECN offer in its TSval bits (beside WS and SACK):
// the SYN-ACK grants it and the connection made from the cookie uses it.
// Without timestamps nothing can carry it back, so nothing is granted.
TEST_F(ecn, SynCookieRemembersTheOffer) {
    for (const bool ts : {true, false}) {
        SCOPED_TRACE(ts);
        config c = small_config();
        c.ecn = 2;
        make(c);
        auto h0 = l->listen(ip_a, port, 1);
        ASSERT_TRUE(h0);
        lh = *h0;
        inject(seg({.src_port = 1000, .seq = seq32(10), .flags = S}));
        expect();  // a real half-open connection fills the SYN backlog of 1
        tcp_options o{.has_mss = true, .mss = 1460, .sack_permitted = true};
        if (ts) o.has_timestamps = true, o.tsval = 777;
        inject(seg({.src_port = 1001, .seq = seq32(20), .flags = S | ECE | CWR, .opts = o}));
        auto sa = expect();
        EXPECT_EQ(l->counters().syn_cookies_sent, 1u);
        EXPECT_EQ(sa.h.flags, ts ? S | A | ECE : S | A);
        tcp_options ao;
        if (ts) ao.has_timestamps = true, ao.tsval = 778, ao.tsecr = sa.h.opts.tsval;
        inject(seg({.src_port = 1001, .seq = seq32(21), .ack = sa.h.seq + 1, .flags = A,
                    .opts = ao}));
        EXPECT_EQ(l->counters().syn_cookies_ok, 1u);
        auto hc = l->accept(lh);
        ASSERT_TRUE(hc);
        open_handles.push_back(*hc);
        EXPECT_EQ(l->info(*hc)->ecn_ok, ts);
        EXPECT_EQ(l->info(*hc)->ws_ok, false);  // no WS offered: "none" survives too
        ASSERT_TRUE(l->send(*hc, pattern(100), now));
        EXPECT_EQ(expect().ip_ecn, ts ? ect0 : 0);
        TearDown();
        open_handles.clear();
        sink.out.clear();
    }
}

}  // namespace
