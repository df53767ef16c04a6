// Capacity under churn, through the layer's socket API and segments: a pool
// full of TIME-WAIT connections still accepts new ones (the oldest slot is
// reclaimed), closed connections waiting for their last ACK give their
// buffers back, and segments that find no TX buffer are held, never lost.
#include "harness.hpp"

using namespace mvnf;
using namespace mvnf::tcp;
using namespace mvnf::tcp::test;

namespace {

constexpr uint8_t A = tcp_flag::ack;

class capacity : public scripted {
protected:
    // A passive connection on its own peer port, closed by us first and
    // taken to TIME-WAIT by the peer's ACK and FIN (HTTP/1.0 server side).
    void server_close_to_time_wait(uint16_t pport) {
        inject(seg({.src_port = pport, .seq = seq32(100), .flags = tcp_flag::syn}));
        auto sa = expect();
        ASSERT_EQ(sa.h.flags, tcp_flag::syn | A);
        inject(seg({.src_port = pport, .seq = seq32(101), .ack = sa.h.seq + 1}));
        auto h = l->accept(lh);
        ASSERT_TRUE(h);
        ASSERT_TRUE(l->close(*h, now));
        auto fin = expect();
        ASSERT_EQ(fin.h.flags, tcp_flag::fin | A);
        inject(seg({.src_port = pport, .seq = seq32(101), .ack = fin.h.seq + 1, .flags = A | tcp_flag::fin}));
        EXPECT_EQ(expect().h.ack, seq32(102));
    }
};

TEST_F(capacity, PoolFullOfTimeWaitStillAcceptsAndReusesTheOldest) {
    config c = small_config();
    c.max_concurrency = 2;  // buffers for 2, blocks for 4
    make(c);
    lh = do_listen();
    const size_t slots = layer::slots_for(c.max_concurrency);
    for (uint16_t i = 0; i < slots; ++i) server_close_to_time_wait(uint16_t(41000 + i));
    EXPECT_EQ(l->connections_in(state::time_wait), slots);
    EXPECT_EQ(l->counters().time_wait_reclaimed, 0u);
    EXPECT_EQ(l->free_connections(), 2u);  // no block is free, but TIME-WAIT ones can be taken
    // A new SYN gets a real SYN-ACK (not a cookie), from the oldest TIME-WAIT slot.
    inject(seg({.src_port = 42000, .seq = seq32(500), .flags = tcp_flag::syn}));
    auto sa = expect();
    EXPECT_EQ(sa.h.flags, tcp_flag::syn | A);
    EXPECT_EQ(l->counters().syn_cookies_sent, 0u);
    EXPECT_EQ(l->counters().time_wait_reclaimed, 1u);
    EXPECT_EQ(l->connections_in(state::time_wait), slots - 1);
    // The oldest (port 41000) is gone: its retransmitted FIN now meets no connection.
    inject(seg({.src_port = 41000, .seq = seq32(101), .ack = seq32(1), .flags = A | tcp_flag::fin}));
    EXPECT_EQ(expect().h.flags, tcp_flag::rst);
    // The newest is still in TIME-WAIT and answers it.
    inject(seg({.src_port = uint16_t(41000 + slots - 1), .seq = seq32(101), .ack = seq32(1),
                .flags = A | tcp_flag::fin}));
    EXPECT_EQ(expect().h.ack, seq32(102));
    inject(seg({.src_port = 42000, .seq = seq32(501), .ack = sa.h.seq + 1}));
    auto h = l->accept(lh);
    ASSERT_TRUE(h);
    open_handles.push_back(*h);
}

TEST_F(capacity, ClosedConnectionWaitingForItsLastAckFreesItsBuffers) {
    config c = small_config();
    c.max_concurrency = 1;
    make(c);
    auto h = l->connect(ip_a, 0, ip_b, peer_port, now);
    ASSERT_TRUE(h);
    auto syn = expect();
    inject(seg({.src_port = peer_port, .dst_port = syn.h.src_port, .seq = seq32(9000),
                .ack = syn.h.seq + 1, .flags = tcp_flag::syn | A}));
    expect();  // ACK
    // The peer closes; we close in CLOSE-WAIT: LAST-ACK with our FIN unacknowledged.
    inject(seg({.src_port = peer_port, .dst_port = syn.h.src_port, .seq = seq32(9001),
                .ack = syn.h.seq + 1, .flags = A | tcp_flag::fin}));
    expect();  // ACK of the FIN
    ASSERT_TRUE(l->close(*h, now));
    EXPECT_EQ(expect().h.flags, tcp_flag::fin | A);
    EXPECT_EQ(l->connections_in(state::last_ack), 1u);
    EXPECT_EQ(l->buffered_connections(), 0u);
    // max_concurrency = 1, yet a second connection opens while the first waits.
    auto h2 = l->connect(ip_a, 0, ip_b, peer_port, now);
    ASSERT_TRUE(h2) << "connect failed while the only other connection waits in LAST-ACK";
    open_handles.push_back(*h2);
    EXPECT_EQ(expect().h.flags, tcp_flag::syn);
    EXPECT_EQ(l->buffered_connections(), 1u);
    // A third cannot: the one buffer pair is in use.
    EXPECT_FALSE(l->connect(ip_a, 0, ip_b, peer_port, now));
    // The FIN is still retransmitted from LAST-ACK without buffers.
    advance(2 * sec);
    bool fin_again = false;
    while (!sink.out.empty()) fin_again |= (expect().h.flags & tcp_flag::fin) != 0;
    EXPECT_TRUE(fin_again);
}

TEST_F(capacity, ResetWithoutATxBufferWaitsForOne) {
    sink.budget = 0;  // the port's TX ring is full
    inject(seg({.seq = seq32(7), .ack = seq32(99), .flags = A}));  // no connection: RST due
    EXPECT_EQ(sink.out.size(), 0u);
    EXPECT_EQ(l->counters().ctl_deferred, 1u);
    EXPECT_EQ(l->next_deadline(), 0u);  // poll again at once
    l->poll(now);
    EXPECT_EQ(sink.out.size(), 0u);
    sink.budget = -1;  // room again
    l->poll(now);
    auto rst = expect();
    EXPECT_EQ(rst.h.flags, tcp_flag::rst);
    EXPECT_EQ(rst.h.seq, seq32(99));
    EXPECT_EQ(l->counters().drop_ctl_full, 0u);
}

TEST_F(capacity, ControlQueueFullIsCountedNotSilent) {
    config c = small_config();
    c.ctl_queue = 2;
    make(c);
    sink.budget = 0;
    for (uint32_t i = 0; i < 5; ++i)
        inject(seg({.src_port = uint16_t(40000 + i), .seq = seq32(7), .ack = seq32(99), .flags = A}));
    EXPECT_EQ(l->counters().ctl_deferred, 2u);
    EXPECT_EQ(l->counters().drop_ctl_full, 3u);
    sink.budget = -1;
    l->poll(now);
    EXPECT_EQ(sink.out.size(), 2u);
    EXPECT_EQ(sink.out[0].h.dst_port, 40000);  // in the order they were due
    EXPECT_EQ(sink.out[1].h.dst_port, 40001);
}

TEST_F(capacity, TimeWaitAckRefusedByThePortIsSentLater) {
    auto h = passive_open(seq32(100));
    ASSERT_TRUE(l->close(h, now));
    open_handles.clear();
    auto fin = expect();
    inject(seg({.seq = seq32(101), .ack = fin.h.seq + 1, .flags = A}));
    sink.budget = 0;
    inject(seg({.seq = seq32(101), .ack = fin.h.seq + 1, .flags = A | tcp_flag::fin}));
    EXPECT_EQ(l->connections_in(state::time_wait), 1u);
    EXPECT_EQ(sink.out.size(), 0u);
    EXPECT_GT(l->counters().tx_blocked, 0u);
    sink.budget = -1;
    l->poll(now);
    auto ack = expect();
    EXPECT_EQ(ack.h.flags, A);
    EXPECT_EQ(ack.h.ack, seq32(102));
}

TEST_F(capacity, SynAckRefusedByThePortIsSentAtTheNextPoll) {
    lh = do_listen();
    sink.budget = 0;
    inject(seg({.seq = seq32(100), .flags = tcp_flag::syn}));
    EXPECT_EQ(sink.out.size(), 0u);
    sink.budget = -1;
    l->poll(now);
    auto sa = expect();
    EXPECT_EQ(sa.h.flags, tcp_flag::syn | A);
    EXPECT_EQ(sa.h.ack, seq32(101));
    inject(seg({.seq = seq32(101), .ack = sa.h.seq + 1}));
    auto h = l->accept(lh);
    ASSERT_TRUE(h);
    open_handles.push_back(*h);
}

// An ACK completing a SYN-cookie handshake while the application is behind
// on accept(): dropped and counted, not reset (as Linux); the client's next
// segment completes the handshake once the queue has room.
TEST_F(capacity, CookieAckWithFullAcceptQueueIsHeldNotReset) {
    auto h0 = l->listen(ip_a, port, 1);
    ASSERT_TRUE(h0);
    lh = *h0;
    inject(seg({.src_port = 1000, .seq = seq32(10), .flags = tcp_flag::syn}));
    auto sa1 = expect();
    // The SYN backlog (1) is full: the next SYN gets a cookie.
    inject(seg({.src_port = 1001, .seq = seq32(20), .flags = tcp_flag::syn}));
    auto sa2 = expect();
    ASSERT_EQ(l->counters().syn_cookies_sent, 1u);
    // The first completes and fills the accept queue (1).
    inject(seg({.src_port = 1000, .seq = seq32(11), .ack = sa1.h.seq + 1}));
    // The cookie's ACK, carrying a request, finds the queue full: no reset.
    const auto req = pattern(100);
    inject(seg({.src_port = 1001, .seq = seq32(21), .ack = sa2.h.seq + 1}), req);
    expect_none();
    EXPECT_EQ(l->counters().drop_backlog_full, 1u);
    EXPECT_EQ(l->counters().rst_sent, 0u);
    auto a = l->accept(lh);
    ASSERT_TRUE(a);
    open_handles.push_back(*a);
    // The client retransmits its request: the handshake completes now.
    inject(seg({.src_port = 1001, .seq = seq32(21), .ack = sa2.h.seq + 1}), req);
    auto b = l->accept(lh);
    ASSERT_TRUE(b);
    open_handles.push_back(*b);
    EXPECT_EQ(l->info(*b)->recv_queued, 100u);
    EXPECT_EQ(l->counters().syn_cookies_ok, 1u);
    advance(1 * sec);
    sink.out.clear();
}

// A closed connection that gave its buffers back still advertises an open
// window: the peer (which sends no FIN into a zero window) can close, and
// the connection ends in TIME-WAIT rather than waiting for the FIN-WAIT-2
// timeout.
TEST_F(capacity, ShedConnectionKeepsItsWindowOpenForThePeersFin) {
    auto h = passive_open(seq32(100));
    ASSERT_TRUE(l->close(h, now));
    open_handles.clear();
    auto fin = expect();
    EXPECT_EQ(l->buffered_connections(), 0u);  // FIN-WAIT-1, everything acknowledged
    inject(seg({.seq = seq32(101), .ack = fin.h.seq + 1, .flags = A}));
    EXPECT_EQ(l->connections_in(state::fin_wait_2), 1u);
    // A window probe from the peer: our answer shows an open window.
    inject(seg({.seq = seq32(100), .ack = fin.h.seq + 1, .flags = A}));
    auto ack = expect();
    EXPECT_GT(ack.h.window, 0u);
    inject(seg({.seq = seq32(101), .ack = fin.h.seq + 1, .flags = A | tcp_flag::fin}));
    EXPECT_EQ(expect().h.ack, seq32(102));
    EXPECT_EQ(l->connections_in(state::time_wait), 1u);
}

}  // namespace
