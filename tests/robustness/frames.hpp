// Hand-made hostile frames for tests/robustness: TCP segments with raw option
// bytes and header fields the wire builder would never produce, from B's or
// C's address, and the scripted host C (handshake, capture) on top of world.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <optional>
#include <vector>

#include "wire/checksum.hpp"
#include "wire/tcp.hpp"
#include "world.hpp"

namespace mvnf::rob {

using namespace mvnf::wire;
using fuzz::ip_c;
using fuzz::mac_c;
using test::ip_a;
using test::ip_b;
using test::mac_a;
using test::mac_b;

inline std::vector<std::byte> pattern(size_t n, uint32_t seed) {
    std::vector<std::byte> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = std::byte(uint8_t(i * 29 + seed * 7 + (i >> 8)));
    return v;
}

// A TCP frame to A. `raw_opts` (if given) replaces the options the repr would
// write, so any length, kind and padding can be sent; the checksum is right.
struct tcp_spec {
    ipv4_addr src = ip_c;
    tcp_repr h{};
    std::optional<std::vector<uint8_t>> raw_opts;
    uint8_t reserved = 0;  // the 3 reserved bits (RFC 9293 3.1)
    std::optional<uint8_t> doff;  // data offset override (32-bit words)
};
inline std::vector<std::byte> tcp_frame(const tcp_spec& s, bytes payload = {}) {
    tcp_repr h = s.h;
    if (s.raw_opts) h.opts = {};
    std::vector<std::byte> seg(h.header_len() + payload.size());
    h.emit(seg, s.src, ip_a, payload);
    if (s.raw_opts) {
        std::vector<std::byte> opt;
        for (uint8_t x : *s.raw_opts) opt.push_back(std::byte(x));
        seg.insert(seg.begin() + 20, opt.begin(), opt.end());
        seg[12] = std::byte(((20 + opt.size() + 3) / 4) << 4);
        seg.insert(seg.begin() + long(20 + opt.size()), (4 - opt.size() % 4) % 4, std::byte{0});
    }
    seg[12] = std::byte((std::to_integer<uint8_t>(seg[12]) & 0xf0) | (s.reserved & 0x0e));
    if (s.doff) seg[12] = std::byte((*s.doff << 4) | (s.reserved & 0x0e));
    store_be16(seg.data() + 16, 0);
    store_be16(seg.data() + 16,
               checksum(seg.data(), seg.size(), pseudo_header_sum(s.src, ip_a, 6, uint16_t(seg.size()))));
    ipv4_repr ip{s.src, ip_a, ipproto::tcp};
    return test::eth_frame(mac_a, s.src == ip_c ? mac_c : mac_b, ethertype::ipv4,
                           test::ipv4_packet(ip, seg));
}

// What A sent to C: each captured frame parsed down to its TCP header.
struct seen {
    tcp_repr h;
    std::vector<std::byte> payload;
};
inline std::vector<seen> take_to_c(fuzz::world& w) {
    std::vector<seen> out;
    for (auto& f : w.to_c) {
        auto e = ethernet_view::parse(f);
        if (!e || e->type() != ethertype::ipv4) continue;
        auto ip = ipv4_view::parse(e->payload());
        if (!ip || ip->protocol() != ipproto::tcp) continue;
        auto v = tcp_view::parse(ip->payload());
        if (!v) continue;
        auto r = tcp_repr::parse(*v);
        if (!r) continue;
        out.push_back({*r, {v->payload().begin(), v->payload().end()}});
    }
    w.to_c.clear();
    return out;
}

// C opens a connection to A:80 and A accepts it.
struct c_conn {
    tcp::handle h;       // A's accepted handle
    uint16_t port = 0;   // C's port
    seq32 c_nxt, a_nxt;  // next sequence numbers of C and of A
    tcp_options synack;  // what A answered with
};
inline std::optional<c_conn> open_from_c(fuzz::world& w, uint16_t port, tcp_options syn_opts = {},
                                         std::optional<std::vector<uint8_t>> raw = {}) {
    c_conn c;
    c.port = port;
    const seq32 isn(1000 + port);
    w.inject(tcp_frame({.h = {port, 80, isn, seq32(0), tcp_flag::syn, 65535, 0, syn_opts},
                        .raw_opts = raw}));
    auto out = take_to_c(w);
    if (out.size() != 1 || out[0].h.flags != (tcp_flag::syn | tcp_flag::ack)) return std::nullopt;
    c.synack = out[0].h.opts;
    c.c_nxt = isn + 1;
    c.a_nxt = out[0].h.seq + 1;
    tcp_options o;
    if (c.synack.has_timestamps) o = {.has_timestamps = true, .tsval = 2, .tsecr = c.synack.tsval};
    w.inject(tcp_frame({.h = {port, 80, c.c_nxt, c.a_nxt, tcp_flag::ack, 65535, 0, o}}));
    auto h = w.ta.tcp().accept(w.listener);
    if (!h) return std::nullopt;
    c.h = *h;
    return c;
}

}  // namespace mvnf::rob
