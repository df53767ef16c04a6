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

TEST(TcpOverStack, TransferWithLossThroughIpv4) {
    netio::mem_link_config lc;
    lc.num_buffers = 4096;
    lc.a_to_b.loss = lc.b_to_a.loss = 0.01;
    lc.a_to_b.reorder = 0.02;
    lc.a_to_b.latency_ns = lc.b_to_a.latency_ns = net::msec(2);
    test::two_stacks s(lc, [](net::stack_config& c) { c.max_num_buffers = 4096; });
    tcp::transport_adapter ta(tcp_cfg(1), s.a), tb(tcp_cfg(2), s.b);
    s.a.set_transport(wire::ipproto::tcp, &ta);
    s.b.set_transport(wire::ipproto::tcp, &tb);

    auto lh = ta.tcp().listen(test::ip_a, 80, 4);
    ASSERT_TRUE(lh);
    auto hb = tb.tcp().connect(test::ip_b, 0, test::ip_a, 80, s.clock.t);
    ASSERT_TRUE(hb);
    tcp::handle ha;
    const size_t total = 1 << 20;
    size_t sent = 0, got = 0;
    bool eof = false;
    tcp::test::sha256 tx, rx;
    std::vector<std::byte> buf(16384);
    for (int i = 0; i < 200000 && !eof; ++i) {
        s.step(net::msec(1));
        ta.set_now(s.clock.t);
        tb.set_now(s.clock.t);
        if (!ha.valid()) {
            if (auto r = ta.tcp().accept(*lh)) ha = *r;
            continue;
        }
        while (sent < total) {
            const size_t n = std::min(buf.size(), total - sent);
            for (size_t j = 0; j < n; ++j) buf[j] = std::byte(uint8_t((sent + j) * 131 >> 3));
            auto r = ta.tcp().send(ha, std::span(buf).first(n), s.clock.t);
            if (!r) break;
            tx.update(std::span(buf).first(*r));
            sent += *r;
            if (sent == total) {
                ASSERT_TRUE(ta.tcp().shutdown_write(ha, s.clock.t));
            }
        }
        for (;;) {
            auto r = tb.tcp().recv(*hb, buf, s.clock.t);
            if (!r) break;
            if (*r == 0) {
                eof = true;
                break;
            }
            rx.update(std::span(buf).first(*r));
            got += *r;
        }
    }
    ASSERT_TRUE(eof) << "received " << got << " of " << total;
    EXPECT_EQ(got, total);
    EXPECT_EQ(tx.final(), rx.final());
    EXPECT_EQ(ta.tcp().counters().drop_bad_checksum, 0u);
    ASSERT_TRUE(ta.tcp().close(ha, s.clock.t));
    ASSERT_TRUE(tb.tcp().close(*hb, s.clock.t));
    for (int i = 0; i < 200 && (ta.tcp().free_connections() < 4 || tb.tcp().free_connections() < 4); ++i)
        s.step(net::sec(1));
    EXPECT_EQ(ta.tcp().free_connections(), 4u);
    EXPECT_EQ(tb.tcp().free_connections(), 4u);
    s.a.set_transport(wire::ipproto::tcp, nullptr);
    s.b.set_transport(wire::ipproto::tcp, nullptr);
}

namespace {

// What a lossy 256 KiB transfer over the real stacks leaves behind: the
// receiver's digest and the counters of both sides, step by step identical
// whenever the stack's prefetch pre-pass has no effect on state.
struct transfer_outcome {
    std::array<uint8_t, 32> digest{};
    uint64_t steps = 0;
    net::stack_stats a, b;
    tcp::stats ta, tb;
};

transfer_outcome lossy_transfer(uint32_t prefetch_min_flows) {
    netio::mem_link_config lc;
    lc.num_buffers = 4096;
    lc.seed = 9;
    lc.a_to_b.loss = lc.b_to_a.loss = 0.02;
    lc.a_to_b.reorder = 0.05;
    lc.a_to_b.latency_ns = lc.b_to_a.latency_ns = net::msec(1);
    test::two_stacks s(lc, [](net::stack_config& c) { c.max_num_buffers = 4096; });
    tcp::config ca = tcp_cfg(1), cb = tcp_cfg(2);
    ca.prefetch_min_flows = cb.prefetch_min_flows = prefetch_min_flows;
    tcp::transport_adapter ta(ca, s.a), tb(cb, s.b);
    s.a.set_transport(wire::ipproto::tcp, &ta);
    s.b.set_transport(wire::ipproto::tcp, &tb);
    transfer_outcome out;
    auto lh = ta.tcp().listen(test::ip_a, 80, 4);
    auto hb = tb.tcp().connect(test::ip_b, 0, test::ip_a, 80, s.clock.t);
    EXPECT_TRUE(lh && hb);
    if (!lh || !hb) return out;
    tcp::handle ha;
    const size_t total = 256 * 1024;
    size_t sent = 0;
    bool eof = false;
    tcp::test::sha256 rx;
    std::vector<std::byte> buf(16384);
    for (; out.steps < 100000 && !eof; ++out.steps) {
        s.step(net::msec(1));
        ta.set_now(s.clock.t);
        tb.set_now(s.clock.t);
        if (!ha.valid()) {
            if (auto r = ta.tcp().accept(*lh)) ha = *r;
            continue;
        }
        while (sent < total) {
            const size_t n = std::min(buf.size(), total - sent);
            for (size_t j = 0; j < n; ++j) buf[j] = std::byte(uint8_t((sent + j) * 7 >> 2));
            auto r = ta.tcp().send(ha, std::span(buf).first(n), s.clock.t);
            if (!r) break;
            sent += *r;
            if (sent == total) {
                EXPECT_TRUE(ta.tcp().shutdown_write(ha, s.clock.t));
            }
        }
        for (;;) {
            auto r = tb.tcp().recv(*hb, buf, s.clock.t);
            if (!r) break;
            if (*r == 0) {
                eof = true;
                break;
            }
            rx.update(std::span(buf).first(*r));
        }
    }
    EXPECT_TRUE(eof);
    out.digest = rx.final();
    out.a = s.a.stats(), out.b = s.b.stats();
    out.ta = ta.tcp().counters(), out.tb = tb.tcp().counters();
    s.a.set_transport(wire::ipproto::tcp, nullptr);
    s.b.set_transport(wire::ipproto::tcp, nullptr);
    return out;
}

}  // namespace

// The prefetch pre-pass (net::stack::prefetch_burst, tcp::layer::
// prefetch_flows) is a pure performance hint: forced on for every burst, a
// lossy transfer takes exactly the same course as with it off.
TEST(TcpOverStack, PrefetchPassChangesNothing) {
    const transfer_outcome on = lossy_transfer(0), off = lossy_transfer(~0u);
    ASSERT_NE(on.digest, decltype(on.digest){});
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
