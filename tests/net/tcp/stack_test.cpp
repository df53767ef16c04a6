// TCP over the real per-core stack: two net::stacks on a netio mem_link, each
// with a tcp::transport_adapter registered for IPPROTO_TCP. Checks the seam
// (IPv4 in, ip_output out, checksums over the real addresses) end to end.
#include <gtest/gtest.h>

#include "../harness.hpp"
#include "net/tcp/transport_adapter.hpp"
#include "sha256.hpp"

using namespace mvnf;

namespace {
tcp::config tcp_cfg(uint8_t k) {
    tcp::config c;
    c.max_concurrency = 4;
    c.rcvbuf = c.sndbuf = 128 * 1024;
    for (size_t i = 0; i < c.secret.size(); ++i) c.secret[i] = uint8_t(k + i);
    return c;
}
}  // namespace

namespace {

// One lossy transfer over the real stacks, a to b, then both ends closed.
struct transfer_setup {
    size_t total = 256 * 1024;
    double loss = 0.02, reorder = 0.05;  // loss both ways, reorder a -> b
    int64_t latency_ns = net::msec(1);
    uint64_t seed = 9;
    uint32_t prefetch_min_flows = tcp::config{}.prefetch_min_flows;
    uint64_t max_steps = 100000;  // 1 ms each
};

// What it leaves behind: both digests and the counters of both sides, step
// by step identical whenever the stack's prefetch pre-pass has no effect on
// state.
struct transfer_outcome {
    std::array<uint8_t, 32> sent_digest{}, digest{};
    size_t got = 0;
    bool eof = false;
    uint64_t steps = 0;
    net::stack_stats a, b;
    tcp::stats ta, tb;
    size_t free_a = 0, free_b = 0;  // free connection blocks after the close
};

transfer_outcome lossy_transfer(const transfer_setup& t) {
    netio::mem_link_config lc;
    lc.num_buffers = 4096;
    lc.seed = t.seed;
    lc.a_to_b.loss = lc.b_to_a.loss = t.loss;
    lc.a_to_b.reorder = t.reorder;
    lc.a_to_b.latency_ns = lc.b_to_a.latency_ns = t.latency_ns;
    test::two_stacks s(lc, [](net::stack_config& c) { c.max_num_buffers = 4096; });
    tcp::config ca = tcp_cfg(1), cb = tcp_cfg(2);
    ca.prefetch_min_flows = cb.prefetch_min_flows = t.prefetch_min_flows;
    tcp::transport_adapter ta(ca, s.a), tb(cb, s.b);
    s.a.set_transport(wire::ipproto::tcp, &ta);
    s.b.set_transport(wire::ipproto::tcp, &tb);
    transfer_outcome out;
    auto lh = ta.tcp().listen(test::ip_a, 80, 4);
    auto hb = tb.tcp().connect(test::ip_b, 0, test::ip_a, 80, s.clock.t);
    EXPECT_TRUE(lh && hb);
    if (!lh || !hb) return out;
    tcp::handle ha;
    size_t sent = 0;
    tcp::test::sha256 tx, rx;
    std::vector<std::byte> buf(16384);
    for (; out.steps < t.max_steps && !out.eof; ++out.steps) {
        s.step(net::msec(1));
        ta.set_now(s.clock.t);
        tb.set_now(s.clock.t);
        if (!ha.valid()) {
            if (auto r = ta.tcp().accept(*lh)) ha = *r;
            continue;
        }
        while (sent < t.total) {
            const size_t n = std::min(buf.size(), t.total - sent);
            for (size_t j = 0; j < n; ++j) buf[j] = std::byte(uint8_t((sent + j) * 131 >> 3));
            auto r = ta.tcp().send(ha, std::span(buf).first(n), s.clock.t);
            if (!r) break;
            tx.update(std::span(buf).first(*r));
            sent += *r;
            if (sent == t.total) {
                EXPECT_TRUE(ta.tcp().shutdown_write(ha, s.clock.t));
            }
        }
        for (;;) {
            auto r = tb.tcp().recv(*hb, buf, s.clock.t);
            if (!r) break;
            if (*r == 0) {
                out.eof = true;
                break;
            }
            rx.update(std::span(buf).first(*r));
            out.got += *r;
        }
    }
    out.sent_digest = tx.final();
    out.digest = rx.final();
    out.a = s.a.stats(), out.b = s.b.stats();
    out.ta = ta.tcp().counters(), out.tb = tb.tcp().counters();
    if (ha.valid()) {
        EXPECT_TRUE(ta.tcp().close(ha, s.clock.t));
    }
    EXPECT_TRUE(tb.tcp().close(*hb, s.clock.t));
    for (int i = 0; i < 200 && (ta.tcp().free_connections() < 4 || tb.tcp().free_connections() < 4); ++i)
        s.step(net::sec(1));
    out.free_a = ta.tcp().free_connections(), out.free_b = tb.tcp().free_connections();
    s.a.set_transport(wire::ipproto::tcp, nullptr);
    s.b.set_transport(wire::ipproto::tcp, nullptr);
    return out;
}

}  // namespace

TEST(TcpOverStack, TransferWithLossThroughIpv4) {
    transfer_setup t;
    t.total = 1 << 20;
    t.loss = 0.01, t.reorder = 0.02;
    t.latency_ns = net::msec(2);
    t.max_steps = 200000;
    const transfer_outcome o = lossy_transfer(t);
    ASSERT_TRUE(o.eof) << "received " << o.got << " of " << t.total;
    EXPECT_EQ(o.got, t.total);
    EXPECT_EQ(o.sent_digest, o.digest);
    EXPECT_EQ(o.ta.drop_bad_checksum, 0u);
    EXPECT_EQ(o.tb.drop_bad_checksum, 0u);
    EXPECT_EQ(o.free_a, 4u);
    EXPECT_EQ(o.free_b, 4u);
}

// The prefetch pre-pass (net::stack::prefetch_burst, tcp::layer::
// prefetch_flows) is a pure performance hint: forced on for every burst, a
// lossy transfer takes exactly the same course as with it off.
TEST(TcpOverStack, PrefetchPassChangesNothing) {
    transfer_setup t;
    t.prefetch_min_flows = 0;
    const transfer_outcome on = lossy_transfer(t);
    t.prefetch_min_flows = ~0u;
    const transfer_outcome off = lossy_transfer(t);
    ASSERT_TRUE(on.eof && off.eof);
    ASSERT_EQ(on.sent_digest, on.digest);
    EXPECT_EQ(on.digest, off.digest);
    EXPECT_EQ(on.steps, off.steps);
    EXPECT_EQ(on.a.rx_packets, off.a.rx_packets);
    EXPECT_EQ(on.b.rx_packets, off.b.rx_packets);
    EXPECT_EQ(on.a.tx_packets, off.a.tx_packets);
    EXPECT_EQ(on.b.tx_packets, off.b.tx_packets);
    EXPECT_EQ(on.ta.retransmits, off.ta.retransmits);
    EXPECT_GT(on.ta.retransmits, 0u) << "the link lost nothing: a weak test";
    EXPECT_EQ(on.tb.bytes_in, off.tb.bytes_in);
    // It did run (bursts of two or more TCP frames), and only when asked.
    EXPECT_GT(on.a.prefetch_bursts + on.b.prefetch_bursts, 0u);
    EXPECT_EQ(off.a.prefetch_bursts + off.b.prefetch_bursts, 0u);
}

// RFC 1191 through the stack's ICMP path: "fragmentation needed" quoting a
// segment in flight shrinks the connection's MSS to the next-hop MTU the
// router reports, to the plateau below the quoted datagram when it reports
// none (section 7), and never below 576 octets; the transfer still completes.
TEST(TcpOverStack, FragNeededUsesTheReportedNextHopMtu) {
    netio::mem_link_config lc;
    lc.num_buffers = 4096;
    lc.a_to_b.latency_ns = lc.b_to_a.latency_ns = net::msec(2);
    test::two_stacks s(lc, [](net::stack_config& c) { c.max_num_buffers = 4096; });
    tcp::transport_adapter ta(tcp_cfg(1), s.a), tb(tcp_cfg(2), s.b);
    s.a.set_transport(wire::ipproto::tcp, &ta);
    s.b.set_transport(wire::ipproto::tcp, &tb);
    auto lh = tb.tcp().listen(test::ip_b, 80, 4);
    auto ha = ta.tcp().connect(test::ip_a, 0, test::ip_b, 80, s.clock.t);
    ASSERT_TRUE(lh && ha);
    tcp::handle hb;
    for (int i = 0; i < 100 && !hb.valid(); ++i) {
        s.step();
        if (auto r = tb.tcp().accept(*lh)) hb = *r;
    }
    ASSERT_TRUE(hb.valid());
    const uint16_t local_port = ta.tcp().tuple(*ha)->local_port;
    // Data frames from a, by their DF bit (RFC 791: flags in byte 6 of the
    // IPv4 header).
    uint64_t with_df = 0, without_df = 0;
    s.link.set_filter(netio::mem_link::dir::a_to_b, [&](std::span<std::byte> f) {
        if (f.size() > 14 + 20 + 20 && load8(f.data() + 14 + 9) == 6 &&
            load_be16(f.data() + 14 + 2) > 40 + 100)
            ++((load8(f.data() + 14 + 6) & 0x40) ? with_df : without_df);
        return true;
    });
    // A router at 10.0.0.9 (behind b's MAC) reports the MTU for the segment
    // at SND.UNA (RFC 5927 4.1: the quote must be in flight): the quoted IPv4
    // header of a 1500-octet datagram + 8 TCP octets. b is not polled
    // meanwhile, so nothing acknowledges that segment before the report lands.
    test::raw_peer router{s.link.b()};
    auto frag_needed = [&](uint16_t mtu) {
        for (int i = 0; i < 3; ++i) {  // a alone takes in the ACKs b already sent
            s.a.poll(s.clock.t);
            s.clock.t += net::msec(1);
        }
        EXPECT_GT(ta.tcp().info(*ha)->flight, 0u);
        std::vector<std::byte> quote(28);
        wire::ipv4_repr q{test::ip_a, test::ip_b, wire::ipproto::tcp};
        q.dont_frag = true;
        q.payload_len = 1480;
        q.emit(quote.data());
        store_be16(quote.data() + 20, local_port);
        store_be16(quote.data() + 22, 80);
        store_be32(quote.data() + 24, ta.tcp().info(*ha)->snd_una.raw());
        std::vector<std::byte> msg(8 + quote.size());
        wire::icmp_repr{3, 4, 0, 0, mtu, quote}.emit(msg.data());
        wire::ipv4_repr ip{ipv4_addr(10, 0, 0, 9), test::ip_a, wire::ipproto::icmp};
        EXPECT_TRUE(router.send(test::eth_frame(test::mac_a, test::mac_b, wire::ethertype::ipv4,
                                                test::ipv4_packet(ip, msg))));
        for (int i = 0; i < 3; ++i) {
            s.a.poll(s.clock.t);
            s.clock.t += net::msec(1);
        }
    };
    const size_t total = 512 * 1024;
    size_t sent = 0, got = 0;
    std::vector<std::byte> buf(16384);
    auto pump = [&](int steps) {
        for (int i = 0; i < steps && got < total; ++i) {
            while (sent < total) {
                auto r = ta.tcp().send(*ha, std::span(buf).first(std::min(buf.size(), total - sent)),
                                       s.clock.t);
                if (!r || *r == 0) break;
                sent += *r;
            }
            s.step();
            ta.set_now(s.clock.t);
            tb.set_now(s.clock.t);
            while (auto r = tb.tcp().recv(hb, buf, s.clock.t)) {
                if (*r == 0) break;
                got += *r;
            }
        }
    };
    pump(10);
    ASSERT_EQ(ta.tcp().info(*ha)->mss, 1460);
    ASSERT_GT(ta.tcp().info(*ha)->flight, 10'000u);
    // No MTU reported (a router older than RFC 1191): 1492, the plateau below 1500.
    frag_needed(0);
    EXPECT_EQ(ta.tcp().info(*ha)->mss, 1492 - 40);
    // Reported: used as given.
    frag_needed(1400);
    EXPECT_EQ(ta.tcp().info(*ha)->mss, 1400 - 40);
    EXPECT_GT(with_df, 0u);
    EXPECT_EQ(without_df, 0u);
    // Below the 576 octets every IPv4 host must take: 576, and DF cleared
    // (RFC 1191 7) so a narrower path fragments rather than drops.
    frag_needed(300);
    EXPECT_EQ(ta.tcp().info(*ha)->mss, 576 - 40);
    with_df = without_df = 0;
    EXPECT_EQ(s.a.stats().icmp_errors_rx, 3u);
    EXPECT_EQ(ta.tcp().counters().icmp_accepted, 3u);
    pump(20000);
    EXPECT_EQ(got, total);
    EXPECT_GT(without_df, 0u);
    EXPECT_EQ(with_df, 0u) << "data sent with DF after an MTU below the floor";
    s.a.set_transport(wire::ipproto::tcp, nullptr);
    s.b.set_transport(wire::ipproto::tcp, nullptr);
}
