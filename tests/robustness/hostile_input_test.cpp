// Hostile input the tests in tests/net and tests/net/tcp do not already cover
// (docs/robustness.md maps every class to its test): each frame must be
// dropped and counted under its reason, or handled as the RFC says, and the
// established B->A connection on the same stack must keep carrying data
// byte-exact. Runs on the shared robustness world (virtual clock, no threads).
#include <gtest/gtest.h>

#include "frames.hpp"

using namespace mvnf;
using namespace mvnf::rob;
using net::drop_reason;

namespace {

class Hostile : public ::testing::Test {
protected:
    void TearDown() override { w.teardown_and_check(extra); }
    // The established connection still carries B's data exactly.
    void expect_isolated(uint8_t seed) {
        EXPECT_TRUE(w.check_flow(3000, seed)) << "the established connection was disturbed";
    }
    uint64_t drops(drop_reason r) const { return w.a.stats().drop(r); }
    const tcp::stats& tcps() { return w.ta.tcp().counters(); }
    tcp::conn_info info(tcp::handle h) { return *w.ta.tcp().info(h); }

    fuzz::world w;
    std::vector<tcp::handle> extra;
};

std::vector<std::byte> arp_frame(std::initializer_list<int> body) {
    std::vector<std::byte> p;
    for (int x : body) p.push_back(std::byte(x));
    return test::eth_frame(mac_addr::broadcast(), mac_b, ethertype::arp, p);
}

TEST_F(Hostile, ArpShortOrWrongTypesThroughStackCounted) {
    // htype 1, ptype 0x0800, hlen 6, plen 4, op 1, sha, spa 10.0.0.2, tha, tpa 10.0.0.1
    const std::vector<int> good = {0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 0xb, 10, 0, 0, 2,
                                   0, 0, 0, 0, 0, 0, 10, 0, 0, 1};
    struct tc {
        const char* name;
        size_t at;
        int value;
        arp_error want;
    } cases[] = {{"htype 6", 1, 6, arp_error::bad_hardware_type},
                 {"ptype ipv6", 2, 0x86, arp_error::bad_protocol_type},
                 {"hlen 8", 4, 8, arp_error::bad_hardware_len},
                 {"plen 16", 5, 16, arp_error::bad_protocol_len},
                 {"opcode 3", 7, 3, arp_error::bad_opcode}};
    for (const auto& c : cases) {
        std::vector<std::byte> f = arp_frame({});
        for (int x : good) f.push_back(std::byte(x));
        f[14 + c.at] = std::byte(c.value);
        const auto before = w.resolver.stats().rx_invalid[size_t(c.want)];
        ASSERT_TRUE(w.inject(f)) << c.name;
        EXPECT_EQ(w.resolver.stats().rx_invalid[size_t(c.want)], before + 1) << c.name;
    }
    std::vector<std::byte> shortf = arp_frame({});
    for (size_t i = 0; i < 27; ++i) shortf.push_back(std::byte(good[i]));
    ASSERT_TRUE(w.inject(shortf));
    EXPECT_EQ(w.resolver.stats().rx_invalid[size_t(arp_error::truncated)], 1u);
    EXPECT_EQ(w.resolver.stats().replies_sent, 0u);  // garbage is never answered
    EXPECT_EQ(w.arp_table.lookup(ip_b, w.clock.t).mac, mac_b);
    expect_isolated(1);
}

TEST_F(Hostile, DuplicateFragmentCountedDatagramDeliveredOnce) {
    auto seg = test::udp_segment(ip_b, ip_a, 7, 53, pattern(100, 2));
    auto frag = [&](uint32_t off, size_t len, bool mf) {
        ipv4_repr ip{ip_b, ip_a, ipproto::udp};
        ip.ident = 77;
        ip.frag_offset = off;
        ip.more_frags = mf;
        return test::eth_frame(mac_a, mac_b, ethertype::ipv4,
                               test::ipv4_packet(ip, bytes(seg).subspan(off, len)));
    };
    ASSERT_TRUE(w.inject(frag(0, 56, true)));
    ASSERT_TRUE(w.inject(frag(0, 56, true)));  // exact duplicate
    EXPECT_EQ(drops(drop_reason::frag_duplicate), 1u);
    ASSERT_TRUE(w.inject(frag(56, 52, false)));
    ASSERT_TRUE(w.inject(frag(56, 52, false)));  // late duplicate of a completed datagram
    std::vector<std::byte> buf(200);
    auto d = w.a.udp_recvfrom(w.udp_a, buf);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->len, 100u);
    EXPECT_TRUE(std::equal(buf.begin(), buf.begin() + 100, pattern(100, 2).begin()));
    // The late one opened a new, never-completed datagram that times out.
    EXPECT_FALSE(w.a.udp_recvfrom(w.udp_a, buf));
    expect_isolated(2);
}

TEST_F(Hostile, TinyFragmentFloodOfOneDatagramBounded) {
    // 8-byte fragments of one 64 KiB datagram: at most reasm_max_frags are held,
    // so per-fragment work is bounded by that count, never by the flood length.
    const auto before_peak = w.a.chunks().counters().peak;
    for (uint32_t i = 0; i < 2000; ++i) {
        ipv4_repr ip{ip_b, ip_a, ipproto::udp};
        ip.ident = 5;
        ip.frag_offset = (i * 2 + 1) * 8;  // every other 8-byte slot: never completes
        ip.more_frags = true;
        ASSERT_TRUE(w.inject(test::eth_frame(mac_a, mac_b, ethertype::ipv4,
                                             test::ipv4_packet(ip, pattern(8, i)))));
        ASSERT_LE(w.a.reassembly().active(), w.a.config().reasm_max_datagrams);
        ASSERT_LE(w.a.reassembly().bytes_held(), w.a.config().reasm_max_bytes);
    }
    EXPECT_GT(drops(drop_reason::frag_too_many), 0u);
    EXPECT_LE(w.a.chunks().counters().peak, before_peak + w.a.config().reasm_max_frags + 2);
    w.clock.t += w.a.config().reasm_timeout + net::sec(1);
    w.step(net::msec(1));
    EXPECT_EQ(w.a.reassembly().active(), 0u);
    EXPECT_GE(drops(drop_reason::frag_timeout), 1u);
    expect_isolated(3);
}

TEST_F(Hostile, IcmpQuotingGarbageInnerHeaderDropped) {
    auto icmp_err = [&](std::vector<std::byte> quote) {
        std::vector<std::byte> m(8 + quote.size());
        icmp_repr{icmp_type::dest_unreachable, 3, 0, 0, 0, bytes(quote)}.emit(m.data());
        std::copy(quote.begin(), quote.end(), m.begin() + 8);
        store_be16(m.data() + 2, 0);
        store_be16(m.data() + 2, checksum(m.data(), m.size()));
        return test::eth_frame(mac_a, mac_b, ethertype::ipv4,
                               test::ipv4_packet({ip_b, ip_a, ipproto::icmp}, m));
    };
    // A quote of the real connection's tuple, but with version 6 and IHL 2.
    std::vector<std::byte> q(28);
    ipv4_repr inner{ip_a, ip_b, ipproto::tcp};
    inner.payload_len = 8;
    inner.emit(q.data());
    store_be16(q.data() + 20, 80);
    store_be16(q.data() + 22, fuzz::peer_port);
    auto bad_version = q;
    bad_version[0] = std::byte{0x65};
    auto bad_ihl = q;
    bad_ihl[0] = std::byte{0x42};
    auto not_ours = q;  // a quote of a datagram someone else sent
    store_be32(not_ours.data() + 12, ipv4_addr(10, 9, 9, 9).v);
    uint64_t n = 0;
    for (auto& quote : {bad_version, bad_ihl, not_ours}) {
        ASSERT_TRUE(w.inject(icmp_err(quote)));
        EXPECT_EQ(drops(drop_reason::icmp_bad_quote) + drops(drop_reason::icmp_truncated), ++n);
    }
    EXPECT_EQ(drops(drop_reason::icmp_bad_quote), 3u);
    EXPECT_EQ(info(w.conn_a).st, tcp::state::established);
    expect_isolated(4);
}

TEST_F(Hostile, TcpOptionLengthsAndKindsDropped) {
    struct tc {
        const char* name;
        std::vector<uint8_t> opts;
        uint64_t tcp::stats::*counter;
    } cases[] = {
        {"option length 1", {8, 1, 1, 1}, &tcp::stats::drop_bad_option_len},
        {"wscale length 4", {3, 4, 7, 0}, &tcp::stats::drop_bad_option_value},
        {"timestamps length 9", {8, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0}, &tcp::stats::drop_bad_option_value},
        {"sack length 7", {5, 7, 0, 0, 0, 1, 0}, &tcp::stats::drop_bad_option_value},
        {"sack-permitted length 3", {4, 3, 0}, &tcp::stats::drop_bad_option_value},
        {"mss running past header", {1, 2, 4, 5}, &tcp::stats::drop_bad_option_len},
    };
    for (auto& c : cases) {
        const auto before_len = tcps().drop_bad_option_len, before_val = tcps().drop_bad_option_value;
        const auto before = tcps().*c.counter;
        ASSERT_TRUE(w.inject(tcp_frame({.h = {4000, 80, seq32(1), seq32(0), tcp_flag::syn, 65535},
                                        .raw_opts = c.opts})));
        EXPECT_EQ(tcps().*c.counter, before + 1) << c.name;
        EXPECT_EQ(tcps().drop_bad_option_len + tcps().drop_bad_option_value,
                  before_len + before_val + 1) << c.name;
        EXPECT_TRUE(take_to_c(w).empty()) << c.name << ": answered garbage";
    }
    EXPECT_EQ(w.ta.tcp().connections_in(tcp::state::syn_received), 0u);
    expect_isolated(5);
}

TEST_F(Hostile, DataOffsetBeyondSegmentDropped) {
    ASSERT_TRUE(w.inject(tcp_frame({.h = {4000, 80, seq32(1), seq32(0), tcp_flag::syn, 65535},
                                    .doff = 15})));
    EXPECT_EQ(tcps().drop_bad_offset + tcps().drop_truncated, 1u);
    EXPECT_TRUE(take_to_c(w).empty());
    expect_isolated(6);
}

TEST_F(Hostile, MssZeroOrTinyClampedAndWindowScaleCapped) {
    auto c0 = open_from_c(w, 4100, {.has_mss = true, .mss = 0, .has_wscale = true, .wscale = 15});
    ASSERT_TRUE(c0);
    extra.push_back(c0->h);
    EXPECT_GE(info(c0->h).mss, 64u);  // never zero: no endless tiny segments
    EXPECT_EQ(info(c0->h).snd_shift, 14u);  // RFC 7323 2.3
    auto c1 = open_from_c(w, 4101, {.has_mss = true, .mss = 1, .has_wscale = true, .wscale = 255});
    ASSERT_TRUE(c1);
    extra.push_back(c1->h);
    EXPECT_GE(info(c1->h).mss, 64u);
    EXPECT_EQ(info(c1->h).snd_shift, 14u);
    // Sending 1000 bytes to the tiny-MSS peer takes a bounded number of segments.
    ASSERT_TRUE(w.ta.tcp().send(c1->h, pattern(1000, 9), w.clock.t));
    w.step(net::msec(1));
    size_t segs = 0, len = 0;
    for (auto& s : take_to_c(w)) {
        ++segs;
        len += s.payload.size();
        EXPECT_LE(s.payload.size(), info(c1->h).mss);
    }
    EXPECT_GT(len, 0u);
    EXPECT_LE(segs, 1000u / 64 + 2);
    expect_isolated(7);
}

TEST_F(Hostile, UrgentPointerAndReservedBitsCases) {
    auto c = open_from_c(w, 4200);
    ASSERT_TRUE(c);
    extra.push_back(c->h);
    auto data = pattern(40, 10);
    seq32 s = c->c_nxt;
    auto send_c = [&](uint8_t flags, uint16_t urg, uint8_t reserved, size_t off, size_t n) {
        return w.inject(tcp_frame({.h = {c->port, 80, s, c->a_nxt, flags, 65535, urg},
                                   .reserved = reserved},
                                  bytes(data).subspan(off, n)));
    };
    // Accepted, data delivered inline (RFC 6093): URG pointing beyond the data,
    // URG with 0xFFFF, an urgent field without URG, reserved bits set.
    ASSERT_TRUE(send_c(tcp_flag::ack | tcp_flag::urg, 1000, 0, 0, 10));
    s += 10;
    ASSERT_TRUE(send_c(tcp_flag::ack | tcp_flag::urg, 0xffff, 0, 10, 10));
    s += 10;
    ASSERT_TRUE(send_c(tcp_flag::ack, 5, 0, 20, 10));
    s += 10;
    ASSERT_TRUE(send_c(tcp_flag::ack, 0, 0x0e, 30, 10));
    s += 10;
    std::vector<std::byte> got(100);
    auto r = w.ta.tcp().recv(c->h, got, w.clock.t);
    ASSERT_TRUE(r);
    ASSERT_EQ(*r, 40u);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), got.begin()));
    // Dropped: URG with a zero pointer, URG on a segment without data.
    const auto urg_before = tcps().drop_bad_urgent;
    ASSERT_TRUE(send_c(tcp_flag::ack | tcp_flag::urg, 0, 0, 0, 10));
    ASSERT_TRUE(send_c(tcp_flag::ack | tcp_flag::urg, 3, 0, 0, 0));
    EXPECT_EQ(tcps().drop_bad_urgent, urg_before + 2);
    EXPECT_EQ(info(c->h).recv_queued, 0u);
    expect_isolated(8);
}

TEST_F(Hostile, SynRstDroppedAsBadFlags) {
    const auto before = tcps().drop_bad_flags;
    ASSERT_TRUE(w.inject(tcp_frame({.h = {4300, 80, seq32(1), seq32(0),
                                          tcp_flag::syn | tcp_flag::rst, 65535}})));
    // SYN+RST aimed at the established connection's own tuple, in window.
    const auto ia = info(w.conn_a);
    ASSERT_TRUE(w.inject(tcp_frame({.src = ip_b,
                                    .h = {fuzz::peer_port, 80, ia.rcv_nxt, seq32(0),
                                          tcp_flag::syn | tcp_flag::rst, 65535}})));
    EXPECT_EQ(tcps().drop_bad_flags, before + 2);
    EXPECT_TRUE(take_to_c(w).empty());
    EXPECT_EQ(info(w.conn_a).st, tcp::state::established);
    expect_isolated(9);
}

TEST_F(Hostile, BogusSackBlocksIgnored) {
    auto c = open_from_c(w, 4400, {.has_mss = true, .mss = 1000, .sack_permitted = true});
    ASSERT_TRUE(c);
    extra.push_back(c->h);
    ASSERT_TRUE(w.ta.tcp().send(c->h, pattern(5000, 11), w.clock.t));
    w.step(net::msec(1));
    ASSERT_EQ(take_to_c(w).size(), 5u);
    seq32 una = c->a_nxt;
    const seq32 nxt = c->a_nxt + 5000;
    auto sack_ack = [&](uint32_t l, uint32_t r) {
        tcp_options o;
        o.num_sack = 1;
        o.sack[0] = {l, r};
        return w.inject(tcp_frame({.h = {c->port, 80, c->c_nxt, una, tcp_flag::ack, 65535, 0, o}}));
    };
    // Two ACKs per bogus kind (below DupThresh, so only a block that entered
    // the scoreboard could start a recovery: IsLost would see it at once),
    // then a real ACK of 1000 bytes. Kinds: start > end; beyond SND.NXT;
    // below SND.UNA; half the sequence space wide.
    const std::pair<seq32, seq32> kinds[] = {{una + 2000, una + 1000},
                                             {nxt + 100, nxt + 5000},
                                             {una - 5000, una - 1},
                                             {una + 1, una + 0x80000000u}};
    for (const auto& [l0, r0] : kinds) {
        const uint32_t shift = una.since(c->a_nxt);
        for (int i = 0; i < 2; ++i) ASSERT_TRUE(sack_ack((l0 + shift).raw(), (r0 + shift).raw()));
        EXPECT_EQ(tcps().sack_recoveries, 0u);
        una += 1000;
        ASSERT_TRUE(w.inject(tcp_frame({.h = {c->port, 80, c->c_nxt, una, tcp_flag::ack, 65535}})));
    }
    EXPECT_EQ(tcps().fast_retransmits, 0u);
    EXPECT_EQ(tcps().retransmits, 0u);
    for (auto& seg : take_to_c(w)) EXPECT_TRUE(seg.payload.empty()) << "bogus SACK caused a resend";
    // The real cumulative ACK completes the transfer.
    ASSERT_TRUE(w.inject(tcp_frame({.h = {c->port, 80, c->c_nxt, nxt, tcp_flag::ack, 65535}})));
    EXPECT_EQ(info(c->h).flight, 0u);
    EXPECT_EQ(info(c->h).snd_una, nxt);
    expect_isolated(10);
}

TEST_F(Hostile, TinyOutOfOrderSegmentFloodBounded) {
    auto c = open_from_c(w, 4500);
    ASSERT_TRUE(c);
    extra.push_back(c->h);
    auto data = pattern(8000, 12);
    const auto segs_before = tcps().segs_out;
    // 1-byte segments with a hole before each: only max_ooo_ranges are kept.
    for (uint32_t i = 0; i < 3000; ++i) {
        const uint32_t off = 2 + (i % 3990) * 2;
        ASSERT_TRUE(w.inject(tcp_frame({.h = {c->port, 80, c->c_nxt + off, c->a_nxt, tcp_flag::ack, 65535}},
                                       bytes(data).subspan(off, 1))));
    }
    take_to_c(w);
    EXPECT_GT(tcps().drop_ooo_full, 0u);
    // Work per segment: at most one ACK out, never a burst.
    EXPECT_LE(tcps().segs_out - segs_before, 3000u);
    EXPECT_EQ(info(c->h).recv_queued, 0u);
    // The in-order data arrives whole and exact, the parked bytes consistent.
    for (uint32_t off = 0; off < 8000; off += 1000)
        ASSERT_TRUE(w.inject(tcp_frame({.h = {c->port, 80, c->c_nxt + off, c->a_nxt, tcp_flag::ack, 65535}},
                                       bytes(data).subspan(off, 1000))));
    std::vector<std::byte> got(9000);
    size_t n = 0;
    while (auto r = w.ta.tcp().recv(c->h, std::span(got).subspan(n), w.clock.t)) {
        if (!*r) break;
        n += *r;
    }
    ASSERT_EQ(n, 8000u);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), got.begin()));
    expect_isolated(11);
}

TEST_F(Hostile, BlindRstAndSynFloodChallengeAcksRateLimited) {
    const auto ia = info(w.conn_a);
    const auto before = tcps().challenge_acks;
    // In-window but not exact: RFC 5961 3.2 / 4.2. 3000 of them inside one second.
    for (uint32_t i = 0; i < 3000; ++i) {
        const uint8_t f = i % 2 ? tcp_flag::rst : tcp_flag::syn;
        ASSERT_TRUE(w.inject(tcp_frame({.src = ip_b,
                                        .h = {fuzz::peer_port, 80, ia.rcv_nxt + 1 + i, seq32(0), f, 65535}})));
    }
    // RFC 5961 7: one challenge ACK per connection per interval.
    EXPECT_EQ(tcps().challenge_acks - before, 1u);
    EXPECT_EQ(tcps().challenge_acks_suppressed, 2999u);
    EXPECT_EQ(tcps().rst_received, 0u);
    EXPECT_EQ(info(w.conn_a).st, tcp::state::established);
    expect_isolated(12);
}

TEST_F(Hostile, OutOfWindowAckAndSequenceDropped) {
    // Give A something acknowledged so SND.UNA - MAX.SND.WND is meaningful.
    ASSERT_TRUE(w.ta.tcp().send(w.conn_a, pattern(500, 13), w.clock.t));
    for (int i = 0; i < 50; ++i) w.step(net::msec(5));
    std::vector<std::byte> sink(1000);
    ASSERT_EQ(*w.tb.tcp().recv(w.conn_b, sink, w.clock.t), 500u);
    const auto ia = info(w.conn_a);
    const auto bad_ack = tcps().drop_bad_ack, oow = tcps().drop_out_of_window;
    // ACK far below SND.UNA - MAX.SND.WND (RFC 5961 5.2), carrying data: dropped.
    ASSERT_TRUE(w.inject(tcp_frame({.src = ip_b,
                                    .h = {fuzz::peer_port, 80, ia.rcv_nxt, ia.snd_una - 0x40000000u,
                                          tcp_flag::ack, 65535}},
                                   pattern(20, 14))));
    EXPECT_EQ(tcps().drop_bad_ack, bad_ack + 1);
    // Sequence outside the receive window: dropped (an ACK is the only answer).
    ASSERT_TRUE(w.inject(tcp_frame({.src = ip_b,
                                    .h = {fuzz::peer_port, 80, ia.rcv_nxt + 0x20000000u, ia.snd_una,
                                          tcp_flag::ack, 65535}},
                                   pattern(20, 15))));
    EXPECT_EQ(tcps().drop_out_of_window, oow + 1);
    EXPECT_EQ(info(w.conn_a).recv_queued, 0u);
    EXPECT_EQ(info(w.conn_a).rcv_nxt, ia.rcv_nxt);
    expect_isolated(14);
}

}  // namespace

// Neighbour-table and pending-resolution starvation (docs/robustness.md): a
// flood of ARP requests for A from more senders than the table holds, then
// spoofed SYNs from more unanswering on-link addresses than A can resolve at
// once. Static entries survive, the flood evicts itself (counted), and A
// still resolves a neighbour it has never seen and sends it its SYN.
TEST_F(Hostile, ArpTableAndPendingFloodsStillResolveANewNeighbour) {
    w.exact_rx = false;
    const auto& rs = w.resolver.stats();
    auto arp_from = [&](ipv4_addr ip, mac_addr mac, uint16_t op, mac_addr dst) {
        std::vector<std::byte> f(arp_repr::frame_length());
        arp_repr{op, mac, ip, op == arp_op::reply ? mac_a : mac_addr{}, ip_a}.emit_frame(f.data(), dst);
        return f;
    };
    // 1. ARP requests for A from 134 on-link senders (the table has 64 slots).
    int senders = 0;
    for (int round = 0; round < 3; ++round)
        for (int host = 16; host < 250; ++host) {
            if (host >= 100 && host < 200) continue;  // kept for step 2
            const ipv4_addr ip(10, 0, 0, uint8_t(host));
            const mac_addr mac{{0x02, 0xee, 0, 0, uint8_t(round), uint8_t(host)}};
            ASSERT_TRUE(w.inject(arp_from(ip, mac, arp_op::request, mac_addr::broadcast())));
            senders += round == 0;
            w.step(net::msec(1));
        }
    EXPECT_GT(rs.table_evicted, 0u);
    EXPECT_LE(w.arp_table.used_slots(), w.arp_table.capacity());
    EXPECT_EQ(rs.learnt, uint64_t(3 * senders));
    EXPECT_EQ(w.arp_table.lookup(ip_b, w.clock.t).state, arp::entry_state::permanent);
    EXPECT_EQ(w.arp_table.lookup(ip_c, w.clock.t).state, arp::entry_state::permanent);

    // 2. Spoofed SYNs from 100 on-link addresses nobody answers ARP for: each
    //    SYN-ACK waits for a resolution; more than the 64 pending slots.
    //    A resolution gives up after three requests (under a second with
    //    this world's 100 ms first interval), so it takes 200 SYNs a second
    //    to have more pending than there are slots.
    const uint64_t requests_before_syns = rs.requests_sent, learnt_before_syns = rs.learnt;
    for (int host = 100; host < 200; ++host) {
        ASSERT_TRUE(w.inject(tcp_frame(
            {.src = ipv4_addr(10, 0, 0, uint8_t(host)),
             .h = {uint16_t(40000 + host), 80, seq32(7), seq32(0), tcp_flag::syn, 65535}})));
        w.step(net::msec(5));
    }
    EXPECT_GT(rs.pending_evicted, 0u);
    // No state for a SYN's source beyond the resolution its SYN-ACK needs:
    // nothing is learnt from the SYN's frame (a spoofed MAC never enters
    // the table), and a source costs at most three broadcasts (arp_retries
    // 2, as Linux's mcast_solicit).
    EXPECT_EQ(rs.learnt, learnt_before_syns);
    for (int host = 100; host < 200; ++host)
        EXPECT_NE(w.arp_table.lookup(ipv4_addr(10, 0, 0, uint8_t(host)), w.clock.t).state,
                  arp::entry_state::reachable);
    EXPECT_LE(rs.requests_sent - requests_before_syns, 3u * 100u);
    // Every frame the resolver held is accounted for: sent, or dropped by reason.
    EXPECT_EQ(rs.flushed + rs.dropped_evicted + rs.dropped_gave_up + w.resolver.held_frames(),
              rs.queued);

    // 3. A opens a connection to a neighbour it has never seen: the request
    //    goes out, the reply is learnt, and the held SYN leaves for its MAC.
    const ipv4_addr fresh(10, 0, 0, 252);
    const mac_addr fresh_mac{{0x02, 0xfe, 0, 0, 0, 0x52}};
    const auto requests = rs.requests_sent, flushed = rs.flushed, queued = rs.queued,
               refused = rs.dropped_pending_full;
    auto h = w.ta.tcp().connect(ip_a, 0, fresh, 9, w.clock.t);
    ASSERT_TRUE(h);
    extra.push_back(*h);
    w.step(net::msec(1));
    EXPECT_GT(rs.requests_sent, requests);
    EXPECT_EQ(rs.queued, queued + 1);  // the SYN waits for the reply
    EXPECT_EQ(rs.dropped_pending_full, refused);
    ASSERT_TRUE(w.inject(arp_from(fresh, fresh_mac, arp_op::reply, mac_a)));
    EXPECT_EQ(rs.flushed, flushed + 1);
    EXPECT_EQ(w.arp_table.lookup(fresh, w.clock.t).mac, fresh_mac);
    w.resolver.clear();
    expect_isolated(21);
}
