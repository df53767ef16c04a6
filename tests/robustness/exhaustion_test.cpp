// Exhaustion in process, on virtual time: a spoofed SYN flood beyond the
// backlog (SYN cookies keep the established connection and new legitimate
// clients working), connection-pool and chunk-pool exhaustion (clean errors,
// counted drops, full recovery) and FIN-WAIT-2 / TIME-WAIT floods bounded by
// their timeouts, an idle flood bounded by the idle timeout. Each test ends
// with every pool back at its start.
#include <gtest/gtest.h>

#include <algorithm>

#include "frames.hpp"

using namespace mvnf;
using namespace mvnf::rob;
using net::drop_reason;

namespace {

void settle(fuzz::world& w, int steps = 20) {
    for (int i = 0; i < steps; ++i) w.step(net::msec(1));
}

TEST(Exhaustion, SpoofedSynFloodCookiesKeepServiceUp) {
    fuzz::world w({.a_conns = 64, .b_conns = 64});
    auto& la = w.ta.tcp();
    const size_t chunks_before = w.a.chunks().counters().in_use;
    std::vector<tcp::handle> hb, ha;
    std::vector<net::nanos> connect_times;
    const uint32_t flood = 6000;
    for (uint32_t i = 0; i < flood; ++i) {
        // Off-link spoofed sources: A's SYN-ACKs have no route and are counted.
        const ipv4_addr src(198, 18, uint8_t(i >> 8), uint8_t(i));
        ASSERT_TRUE(w.inject(tcp_frame({.src = src,
                                        .h = {uint16_t(1024 + i % 60000), 80, seq32(i * 7919u), seq32(0),
                                              tcp_flag::syn, 65535}})));
        ASSERT_GE(la.free_connections(), 64u - 1 - 4 - hb.size()) << "half-open beyond the backlog";
        if (i % 200 == 100) {  // a legitimate client during the flood
            auto c = w.tb.tcp().connect(ip_b, 0, ip_a, 80, w.clock.t);
            ASSERT_TRUE(c);
            const net::nanos t0 = w.clock.t;
            for (int s = 0; s < 200; ++s) {
                w.step(net::msec(1));
                if (w.tb.tcp().info(*c)->st == tcp::state::established) break;
            }
            ASSERT_EQ(w.tb.tcp().info(*c)->st, tcp::state::established) << "legit client " << hb.size();
            connect_times.push_back(w.clock.t - t0);
            hb.push_back(*c);
            settle(w, 2);
            auto h = la.accept(w.listener);
            ASSERT_TRUE(h);
            ha.push_back(*h);
        }
    }
    EXPECT_EQ(hb.size(), flood / 200);
    EXPECT_GT(la.counters().syn_cookies_sent, flood / 2);
    EXPECT_GE(la.counters().syn_cookies_ok, hb.size() - 4);
    EXPECT_GT(w.a.stats().drop(drop_reason::tx_no_route), 0u);
    EXPECT_EQ(w.a.chunks().counters().in_use, chunks_before);  // memory flat
    std::sort(connect_times.begin(), connect_times.end());
    EXPECT_LT(connect_times.back(), net::msec(100)) << "a handshake needed a retransmission";
    // Every legitimate connection carries data both ways, exactly.
    for (size_t k = 0; k < hb.size(); ++k) {
        auto d = pattern(700, uint32_t(k));
        ASSERT_TRUE(w.tb.tcp().send(hb[k], d, w.clock.t));
        settle(w, 10);
        std::vector<std::byte> got(1000);
        auto r = la.recv(ha[k], got, w.clock.t);
        ASSERT_TRUE(r);
        ASSERT_EQ(*r, 700u);
        EXPECT_TRUE(std::equal(d.begin(), d.end(), got.begin()));
    }
    EXPECT_TRUE(w.check_flow(5000, 1));
    w.teardown_and_check(ha, hb);
}

TEST(Exhaustion, ActiveOpenPoolExhaustionCleanErrorAndRecovery) {
    fuzz::world w({.a_conns = 64, .b_conns = 8});
    auto& lb = w.tb.tcp();
    std::vector<tcp::handle> hb, ha;
    for (int i = 0; i < 7; ++i) {
        auto c = lb.connect(ip_b, 0, ip_a, 80, w.clock.t);
        ASSERT_TRUE(c) << i;
        hb.push_back(*c);
        settle(w, 5);
        auto h = w.ta.tcp().accept(w.listener);
        ASSERT_TRUE(h);
        ha.push_back(*h);
    }
    auto full = lb.connect(ip_b, 0, ip_a, 80, w.clock.t);
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error(), tcp::error::no_resources);
    EXPECT_TRUE(w.check_flow(2000, 2));  // the existing connection is untouched
    // B closes actively: its connections wait in TIME-WAIT, but give their
    // buffers back on entering it, and a pool with no free block takes the
    // oldest TIME-WAIT one: new connections open at once (time_wait.cpp).
    for (auto h : hb) ASSERT_TRUE(lb.close(h, w.clock.t));
    for (auto h : ha) ASSERT_TRUE(w.ta.tcp().close(h, w.clock.t));
    settle(w, 50);
    EXPECT_EQ(lb.connections_in(tcp::state::time_wait), 7u);
    EXPECT_EQ(lb.buffered_connections(), 1u);  // only the world's own flow
    auto again = lb.connect(ip_b, 0, ip_a, 80, w.clock.t);
    ASSERT_TRUE(again);
    settle(w, 5);
    EXPECT_EQ(lb.info(*again)->st, tcp::state::established);
    auto h = w.ta.tcp().accept(w.listener);
    ASSERT_TRUE(h);
    EXPECT_TRUE(w.check_flow(2000, 3));
    w.teardown_and_check({*h}, {*again});
}

TEST(Exhaustion, PassiveOpenPoolExhaustionRefusesThenRecovers) {
    fuzz::world w({.a_conns = 4});
    std::vector<tcp::handle> ha;
    for (uint16_t p = 0; p < 3; ++p) {
        auto c = open_from_c(w, uint16_t(5000 + p));
        ASSERT_TRUE(c) << p;
        ha.push_back(c->h);
    }
    ASSERT_EQ(w.ta.tcp().free_connections(), 0u);
    // Pool full: the SYN gets a cookie, but its ACK finds no slot and is refused.
    auto& st = w.ta.tcp().counters();
    const auto refused = st.drop_no_tcb, backlog = st.drop_backlog_full;
    EXPECT_FALSE(open_from_c(w, 5100));
    EXPECT_EQ(st.drop_no_tcb, refused + 1);
    EXPECT_EQ(st.drop_backlog_full, backlog);
    EXPECT_EQ(w.ta.tcp().free_connections(), 0u);
    EXPECT_TRUE(w.check_flow(2000, 4));
    // One slot freed (abort: no TIME-WAIT): the next client gets in.
    ASSERT_TRUE(w.ta.tcp().abort(ha.back(), w.clock.t));
    (void)w.ta.tcp().close(ha.back(), w.clock.t);  // frees the slot if abort kept it
    EXPECT_EQ(w.ta.tcp().free_connections(), 1u);
    ha.pop_back();
    w.step(net::msec(1));
    take_to_c(w);  // the RST for the refused ACK and the abort's RST
    auto c = open_from_c(w, 5200);
    ASSERT_TRUE(c);
    ha.push_back(c->h);
    EXPECT_TRUE(w.check_flow(2000, 5));
    w.teardown_and_check(ha);
}

TEST(Exhaustion, ChunkPoolExhaustionDropsCountsRecovers) {
    fuzz::world w({.a_chunks = 32});
    const int sb = *w.b.udp_open();
    auto d = pattern(1400, 6);
    auto flood = [&](int n) {
        for (int i = 0; i < n; ++i) ASSERT_TRUE(w.b.udp_sendto(sb, d, ip_a, fuzz::udp_port, w.clock.t));
        settle(w, 5);
    };
    flood(40);
    EXPECT_EQ(w.a.chunks().counters().in_use, 32u);
    EXPECT_EQ(w.a.stats().drop(drop_reason::no_buffers), 8u);
    EXPECT_EQ(w.a.udp_queued(w.udp_a), 32u);
    // TCP does not share the chunk pool: the connection still flows.
    EXPECT_TRUE(w.check_flow(4000, 6));
    // Reading frees the chunks; new datagrams are accepted again.
    std::vector<std::byte> buf(2000);
    int n = 0;
    while (auto r = w.a.udp_recvfrom(w.udp_a, buf)) {
        ASSERT_EQ(r->len, 1400u);
        EXPECT_TRUE(std::equal(d.begin(), d.end(), buf.begin()));
        ++n;
    }
    EXPECT_EQ(n, 32);
    EXPECT_EQ(w.a.chunks().counters().in_use, 0u);
    flood(10);
    EXPECT_EQ(w.a.udp_queued(w.udp_a), 10u);
    EXPECT_EQ(w.a.stats().drop(drop_reason::no_buffers), 8u);
    while (w.a.udp_recvfrom(w.udp_a, buf)) {
    }
    w.b.udp_close(sb);
    w.teardown_and_check();
}

TEST(Exhaustion, FinWait2AndTimeWaitFloodsBoundedByTimeouts) {
    fuzz::world w({.a_conns = 32});
    auto& la = w.ta.tcp();
    std::vector<c_conn> cs;
    for (uint16_t p = 0; p < 10; ++p) {
        auto c = open_from_c(w, uint16_t(6000 + p));
        ASSERT_TRUE(c);
        cs.push_back(*c);
    }
    // A closes all; C acknowledges each FIN; half of them C never closes.
    for (auto& c : cs) ASSERT_TRUE(la.close(c.h, w.clock.t));
    w.step(net::msec(1));
    auto fins = take_to_c(w);
    ASSERT_EQ(fins.size(), 10u);
    for (auto& f : fins) {
        const uint16_t port = f.h.dst_port;
        auto& c = *std::find_if(cs.begin(), cs.end(), [&](auto& x) { return x.port == port; });
        const bool c_closes = port % 2;
        ASSERT_TRUE(w.inject(tcp_frame({.h = {port, 80, c.c_nxt, f.h.seq + 1,
                                              uint8_t(tcp_flag::ack | (c_closes ? tcp_flag::fin : 0)),
                                              65535}})));
    }
    take_to_c(w);
    EXPECT_EQ(la.connections_in(tcp::state::fin_wait_2), 5u);
    EXPECT_EQ(la.connections_in(tcp::state::time_wait), 5u);
    w.clock.t += std::max(la.cfg().fin_wait_2_timeout, la.cfg().time_wait) + net::sec(1);
    settle(w, 3);
    EXPECT_EQ(la.connections_in(tcp::state::fin_wait_2), 0u);
    EXPECT_EQ(la.connections_in(tcp::state::time_wait), 0u);
    EXPECT_EQ(la.free_connections(), 31u);  // only the established B->A connection left
    EXPECT_TRUE(w.check_flow(2000, 7));
    w.teardown_and_check();
}

// An idle flood is bounded by the idle timeout (mtcp.conf tcp_timeout) even
// when the application sets keep-alive off or on and off again: the C API
// applies the socket's options (SO_KEEPALIVE off by default) to every accepted
// connection, and that once cancelled the idle timer.
TEST(Exhaustion, IdleFloodFreedByIdleTimeoutWhateverTheKeepAliveSetting) {
    fuzz::world w({.a_conns = 32, .a_idle_timeout = net::sec(5)});
    auto& la = w.ta.tcp();
    std::vector<c_conn> cs;
    for (uint16_t p = 0; p < 12; ++p) {
        auto c = open_from_c(w, uint16_t(7000 + p));
        ASSERT_TRUE(c);
        if (p % 3 == 1) {
            ASSERT_TRUE(la.set_keepalive(c->h, true, w.clock.t));
        }
        if (p % 3 != 2) {
            ASSERT_TRUE(la.set_keepalive(c->h, false, w.clock.t));
        }
        cs.push_back(*c);
    }
    take_to_c(w);
    EXPECT_EQ(la.connections_in(tcp::state::established), 13u);  // with the B->A one
    w.clock.t += net::sec(4);
    settle(w, 3);
    EXPECT_EQ(la.connections_in(tcp::state::established), 13u) << "reset before the timeout";
    w.clock.t += net::sec(1);
    settle(w, 3);
    EXPECT_EQ(la.connections_in(tcp::state::established), 0u);
    size_t rsts = 0;
    for (auto& f : take_to_c(w)) rsts += (f.h.flags & tcp_flag::rst) != 0;
    EXPECT_EQ(rsts, cs.size());  // RFC 1122 4.2.3.6 spirit: the peer learns of it
    // The application learns of it (error) and closes: every slot comes back
    // except the B->A connection's, which teardown closes.
    for (auto& c : cs) {
        EXPECT_EQ(la.info(c.h)->err, tcp::error::timed_out);
        (void)la.close(c.h, w.clock.t);
    }
    settle(w, 3);
    EXPECT_EQ(la.free_connections(), 31u);
    w.teardown_and_check();
}

}  // namespace
