// The per-core stack end to end on the in-memory link with a virtual clock:
// ping, UDP (including 8000-byte datagrams fragmented over a lossy,
// reordering, duplicating link), port unreachable and its rate limit, every
// malformed-input class dropped and counted, and bounded reassembly. Each
// test ends by checking that pools and link buffers are back where they began.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "harness.hpp"
#include "wire/icmp.hpp"

using namespace mvnf;
using namespace mvnf::net;
using namespace mvnf::test;
using namespace mvnf::wire;

namespace {

std::vector<std::byte> pattern(size_t n, uint32_t seed) {
    std::vector<std::byte> v(n);
    uint32_t x = seed * 2654435761u + 1;
    for (auto& b : v) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b = std::byte(x);
    }
    return v;
}

// One stack on link end a, a raw peer on end b.
struct one_stack {
    virtual_clock clock;
    netio::mem_link link;
    stack s;
    raw_peer peer{link.b()};

    explicit one_stack(std::function<void(stack_config&)> tweak = {})
        : s(two_stacks::make(ip_a, mac_a, tweak), link.a()) {
        link.set_clock([this] { return clock.t; });
        s.static_table().add(ip_b, mac_b);
    }
    void inject(bytes frame) {
        ASSERT_TRUE(peer.send(frame));
        s.poll(clock.t);
    }
    std::vector<std::vector<std::byte>> replies() { return peer.recv_all(); }
    void expect_clean() {
        EXPECT_EQ(s.chunks().counters().in_use, 0u);
        EXPECT_EQ(s.reassembly().active(), 0u);
        EXPECT_EQ(s.tx_pending(), 0u);
        replies();
        EXPECT_EQ(link.free_buffers(), link.num_buffers());
    }
};

void expect_clean(two_stacks& t) {
    t.settle();
    EXPECT_EQ(t.a.chunks().counters().in_use, 0u);
    EXPECT_EQ(t.b.chunks().counters().in_use, 0u);
    EXPECT_EQ(t.a.reassembly().active(), 0u);
    EXPECT_EQ(t.b.reassembly().active(), 0u);
    EXPECT_EQ(t.link.free_buffers(), t.link.num_buffers());
}

// Parses a captured frame down to ICMP.
struct icmp_seen {
    bool ok = false;
    uint8_t type = 0, code = 0;
    ipv4_addr dst;
    std::vector<std::byte> data;
};
icmp_seen as_icmp(const std::vector<std::byte>& f) {
    icmp_seen r;
    auto e = ethernet_view::parse(f);
    if (!e || e->type() != ethertype::ipv4) return r;
    auto ip = ipv4_view::parse(e->payload());
    if (!ip || ip->protocol() != ipproto::icmp) return r;
    auto m = icmp_view::parse(ip->payload());
    if (!m) return r;
    r.ok = true;
    r.type = m->type();
    r.code = m->code();
    r.dst = ip->dst();
    r.data.assign(m->data().begin(), m->data().end());
    return r;
}

}  // namespace

TEST(Stack, PingBothWaysIncludingFragmentedEcho) {
    two_stacks t;
    auto small = pattern(56, 1);
    ASSERT_EQ(t.a.ping(ip_b, 77, 1, small, t.clock.t), send_status::queued);
    t.settle();
    EXPECT_EQ(t.b.stats().icmp_echo_replies, 1u);
    EXPECT_EQ(t.a.stats().icmp_echo_reply_rx, 1u);
    EXPECT_EQ(t.a.last_echo_reply().ident, 77);
    EXPECT_EQ(t.a.last_echo_reply().len, 56u);
    // 4000 bytes: fragmented out, reassembled, replied fragmented, reassembled.
    auto big = pattern(4000, 2);
    ASSERT_EQ(t.a.ping(ip_b, 77, 2, big, t.clock.t), send_status::queued);
    t.settle();
    EXPECT_EQ(t.a.stats().icmp_echo_reply_rx, 2u);
    EXPECT_EQ(t.a.last_echo_reply().seq, 2);
    EXPECT_EQ(t.a.last_echo_reply().len, 4000u);
    EXPECT_EQ(t.a.last_echo_reply().data_sum, csum_fold(csum_add(0, big.data(), big.size())));
    EXPECT_EQ(t.b.stats().reasm_ok, 1u);
    EXPECT_EQ(t.a.stats().reasm_ok, 1u);
    EXPECT_EQ(t.a.stats().total_drops() + t.b.stats().total_drops(), 0u);
    expect_clean(t);
}

TEST(Stack, EchoReplyFromRawRequestIsExact) {
    one_stack o;
    auto data = pattern(32, 3);
    std::vector<std::byte> req(8 + data.size());
    std::copy(data.begin(), data.end(), req.begin() + 8);
    icmp_repr{icmp_type::echo_request, 0, 0x1234, 9, 0, bytes(req).subspan(8)}.emit(req.data());
    o.inject(eth_frame(mac_a, mac_b, ethertype::ipv4,
                       ipv4_packet({ip_b, ip_a, ipproto::icmp}, req)));
    auto out = o.replies();
    ASSERT_EQ(out.size(), 1u);
    auto e = ethernet_view::parse(out[0]);
    EXPECT_EQ(e->dst(), mac_b);
    EXPECT_EQ(e->src(), mac_a);
    auto m = as_icmp(out[0]);
    ASSERT_TRUE(m.ok);
    EXPECT_EQ(m.type, icmp_type::echo_reply);
    EXPECT_EQ(m.dst, ip_b);
    EXPECT_EQ(m.data, data);
    o.expect_clean();
}

TEST(Stack, UdpExchange) {
    two_stacks t;
    int sa = *t.a.udp_open(), sb = *t.b.udp_open();
    ASSERT_EQ(*t.a.udp_bind(sa, 7000), 7000);
    ASSERT_EQ(*t.b.udp_bind(sb, 7001), 7001);
    EXPECT_EQ(t.b.udp_bind(*t.b.udp_open(), 7001).error(), udp_errc::port_in_use);
    auto msg = pattern(100, 4);
    ASSERT_EQ(*t.a.udp_sendto(sa, msg, ip_b, 7001, t.clock.t), 100u);
    t.settle();
    std::vector<std::byte> buf(2000);
    auto d = t.b.udp_recvfrom(sb, buf);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->len, 100u);
    EXPECT_EQ(d->src, ip_a);
    EXPECT_EQ(d->src_port, 7000);
    EXPECT_TRUE(std::equal(msg.begin(), msg.end(), buf.begin()));
    EXPECT_EQ(t.b.udp_recvfrom(sb, buf).error(), udp_errc::would_block);
    // Reply from an unbound socket gets an ephemeral port.
    int sb2 = *t.b.udp_open();
    ASSERT_TRUE(t.b.udp_sendto(sb2, bytes(buf).first(10), ip_a, 7000, t.clock.t));
    t.settle();
    d = t.a.udp_recvfrom(sa, buf);
    ASSERT_TRUE(d);
    EXPECT_GE(d->src_port, 49152);
    // Empty datagrams are datagrams too.
    ASSERT_TRUE(t.a.udp_sendto(sa, {}, ip_b, 7001, t.clock.t));
    t.settle();
    d = t.b.udp_recvfrom(sb, buf);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->full_len, 0u);
    expect_clean(t);
}

TEST(Stack, FragmentedDatagramsSurviveLossReorderDupCorruption) {
    netio::mem_link_config lc;
    lc.seed = 2024;
    lc.a_to_b = {.loss = 0.03, .duplicate = 0.1, .reorder = 0.2, .corrupt = 0.03,
                 .reorder_depth = 3};
    two_stacks t(lc);
    int sa = *t.a.udp_open(), sb = *t.b.udp_open();
    ASSERT_TRUE(t.a.udp_bind(sa, 5000));
    ASSERT_TRUE(t.b.udp_bind(sb, 5001));
    constexpr int n = 40;
    std::vector<std::byte> buf(65536);
    int received = 0;
    for (int i = 0; i < n; ++i) {
        auto msg = pattern(8000, uint32_t(100 + i));
        store_be32(msg.data(), uint32_t(i));
        ASSERT_TRUE(t.a.udp_sendto(sa, msg, ip_b, 5001, t.clock.t));
        t.step();
        t.step();
        while (auto d = t.b.udp_recvfrom(sb, buf)) {
            ASSERT_EQ(d->len, 8000u);
            uint32_t id = load_be32(buf.data());
            ASSERT_LT(id, uint32_t(n));
            auto want = pattern(8000, 100 + id);
            store_be32(want.data(), id);
            ASSERT_TRUE(std::equal(want.begin(), want.end(), buf.begin())) << "datagram " << id;
            ++received;
        }
    }
    t.settle();
    while (auto d = t.b.udp_recvfrom(sb, buf)) ++received;
    auto& k = t.link.counters(netio::mem_link::dir::a_to_b);
    EXPECT_GT(k.lost + k.corrupted, 0u);
    EXPECT_GT(k.duplicated, 0u);
    EXPECT_GT(k.reordered, 0u);
    EXPECT_EQ(t.a.stats().frags_tx, uint64_t(n) * 6);  // ceil(8008 / 1480)
    EXPECT_GT(t.b.stats().drop(drop_reason::frag_duplicate), 0u);
    EXPECT_GE(received, n / 2);
    // Corrupted payload bits pass reassembly and are caught by the UDP checksum.
    EXPECT_EQ(uint64_t(received) + t.b.stats().drop(drop_reason::udp_bad_checksum),
              t.b.stats().reasm_ok);
    EXPECT_GT(t.b.stats().drop(drop_reason::udp_bad_checksum) +
                  t.b.stats().drop(drop_reason::ip_bad_checksum),
              0u);
    // Incomplete datagrams time out and give their chunks back.
    t.clock.t += t.b.config().reasm_timeout + sec(1);
    t.step();
    EXPECT_EQ(t.b.reassembly().active(), 0u);
    expect_clean(t);
}

TEST(Stack, FragmentsInReverseOrderReassembleExactly) {
    one_stack o;
    int s = *o.s.udp_open();
    ASSERT_TRUE(o.s.udp_bind(s, 9));
    auto payload = pattern(3000, 5);
    auto seg = udp_segment(ip_b, ip_a, 1, 9, payload);
    // 3 fragments of 1024/1024/960 bytes, sent last first, middle duplicated.
    std::vector<std::vector<std::byte>> frags;
    for (size_t off = 0; off < seg.size(); off += 1024) {
        size_t len = std::min<size_t>(1024, seg.size() - off);
        ipv4_repr ip{ip_b, ip_a, ipproto::udp};
        ip.ident = 99;
        ip.frag_offset = uint32_t(off);
        ip.more_frags = off + len < seg.size();
        frags.push_back(eth_frame(mac_a, mac_b, ethertype::ipv4,
                                  ipv4_packet(ip, bytes(seg).subspan(off, len))));
    }
    o.inject(frags[2]);
    o.inject(frags[1]);
    o.inject(frags[1]);
    EXPECT_EQ(o.s.reassembly().active(), 1u);
    o.inject(frags[0]);
    EXPECT_EQ(o.s.stats().drop(drop_reason::frag_duplicate), 1u);
    std::vector<std::byte> buf(4000);
    auto d = o.s.udp_recvfrom(s, buf);
    ASSERT_TRUE(d);
    ASSERT_EQ(d->len, 3000u);
    EXPECT_TRUE(std::equal(payload.begin(), payload.end(), buf.begin()));
    o.expect_clean();
}

TEST(Stack, PortUnreachableRateLimitedAndSuppressed) {
    one_stack o([](stack_config& c) {
        c.icmp_rate_per_sec = 10;
        c.icmp_burst = 5;
    });
    auto frame = udp_frame_to_a(1111, 2222, pattern(20, 6));
    o.inject(frame);
    auto out = o.replies();
    ASSERT_EQ(out.size(), 1u);
    auto m = as_icmp(out[0]);
    ASSERT_TRUE(m.ok);
    EXPECT_EQ(m.type, icmp_type::dest_unreachable);
    EXPECT_EQ(m.code, icmp_code::port_unreachable);
    // The quote is the offending header + first 8 bytes (the UDP header).
    ASSERT_EQ(m.data.size(), 28u);
    EXPECT_TRUE(std::equal(m.data.begin(), m.data.end(), frame.begin() + 14));
    // A burst at one instant: only the bucket's remaining 4 tokens are spent.
    for (int i = 0; i < 20; ++i) o.inject(frame);
    EXPECT_EQ(o.replies().size(), 4u);
    EXPECT_EQ(o.s.stats().icmp_rate_limited, 16u);
    // 10/s: after 300 ms three more tokens.
    o.clock.t += msec(300);
    for (int i = 0; i < 20; ++i) o.inject(frame);
    EXPECT_EQ(o.replies().size(), 3u);
    EXPECT_EQ(o.s.stats().drop(drop_reason::udp_no_port), 41u);

    o.clock.t += sec(10);  // refill fully; then check the never-reply rules
    uint64_t sent = o.s.stats().icmp_unreach_sent;
    // Broadcast destination (limited and subnet-directed) and link broadcast.
    auto seg = udp_segment(ip_b, ipv4_addr{255, 255, 255, 255}, 1, 2222, {});
    o.inject(eth_frame(mac_addr::broadcast(), mac_b, ethertype::ipv4,
                       ipv4_packet({ip_b, ipv4_addr{255, 255, 255, 255}, ipproto::udp}, seg)));
    seg = udp_segment(ip_b, ipv4_addr{10, 0, 0, 255}, 1, 2222, {});
    o.inject(eth_frame(mac_a, mac_b, ethertype::ipv4,
                       ipv4_packet({ip_b, ipv4_addr{10, 0, 0, 255}, ipproto::udp}, seg)));
    // A non-first fragment (never completes, never answered).
    ipv4_repr nf{ip_b, ip_a, ipproto::udp};
    nf.frag_offset = 1480;
    o.inject(eth_frame(mac_a, mac_b, ethertype::ipv4, ipv4_packet(nf, pattern(16, 1))));
    // Source 0.0.0.0 is not one host.
    seg = udp_segment(ipv4_addr{}, ip_a, 1, 2222, {});
    o.inject(eth_frame(mac_a, mac_b, ethertype::ipv4,
                       ipv4_packet({ipv4_addr{}, ip_a, ipproto::udp}, seg)));
    EXPECT_EQ(o.s.stats().icmp_unreach_sent, sent);
    EXPECT_TRUE(o.replies().empty());
    // An ICMP error about an unknown protocol is never answered either, but
    // an unknown protocol in a plain datagram gets "protocol unreachable".
    o.inject(eth_frame(mac_a, mac_b, ethertype::ipv4, ipv4_packet({ip_b, ip_a, 253}, pattern(8, 2))));
    out = o.replies();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(as_icmp(out[0]).code, icmp_code::proto_unreachable);
    o.clock.t += o.s.config().reasm_timeout + sec(1);
    o.s.poll(o.clock.t);
    o.expect_clean();
}

TEST(Stack, EveryMalformedClassDroppedAndCounted) {
    one_stack o;
    int s = *o.s.udp_open();
    ASSERT_TRUE(o.s.udp_bind(s, 53));
    const auto good = udp_frame_to_a(1000, 53, pattern(40, 7));
    auto fix_ip = [](std::vector<std::byte>& f) {
        size_t ihl = size_t(load8(f.data() + 14) & 0xf) * 4;
        store_be16(f.data() + 24, 0);
        if (f.size() >= 14 + ihl) store_be16(f.data() + 24, checksum(f.data() + 14, ihl));
    };
    struct tc {
        const char* name;
        std::function<void(std::vector<std::byte>&)> mutate;
        drop_reason want;
    };
    auto with_ip_opts = [&](std::vector<std::byte>& f, std::initializer_list<int> opt) {
        f.insert(f.begin() + 34, opt.size(), std::byte{0});
        size_t i = 0;
        for (int x : opt) f[34 + i++] = std::byte(x);
        f[14] = std::byte(0x40 | ((20 + opt.size()) / 4));
        store_be16(f.data() + 16, uint16_t(f.size() - 14));
    };
    std::vector<tc> cases = {
        {"eth short", [](auto& f) { f.resize(13); }, drop_reason::eth_short},
        {"eth other host", [](auto& f) { f[5] = std::byte{0x77}; }, drop_reason::eth_not_for_us},
        {"ethertype ipv6", [](auto& f) { store_be16(f.data() + 12, 0x86dd); },
         drop_reason::eth_unknown_type},
        {"ip truncated", [](auto& f) { f.resize(14 + 19); }, drop_reason::ip_truncated},
        {"version 6", [&](auto& f) { f[14] = std::byte{0x65}; fix_ip(f); },
         drop_reason::ip_bad_version},
        {"ihl < 5", [&](auto& f) { f[14] = std::byte{0x44}; fix_ip(f); }, drop_reason::ip_bad_ihl},
        {"ihl*4 > total", [&](auto& f) { f[14] = std::byte{0x46}; store_be16(f.data() + 16, 22); fix_ip(f); },
         drop_reason::ip_bad_ihl},
        {"total > frame", [&](auto& f) { store_be16(f.data() + 16, uint16_t(f.size() - 13)); fix_ip(f); },
         drop_reason::ip_bad_total_length},
        {"total < header", [&](auto& f) { store_be16(f.data() + 16, 16); fix_ip(f); },
         drop_reason::ip_bad_total_length},
        {"bad ip checksum", [](auto& f) { f[22] = std::byte{0x01}; }, drop_reason::ip_bad_checksum},
        {"option length 0", [&](auto& f) { with_ip_opts(f, {0x07, 0x00, 0, 0}); fix_ip(f); },
         drop_reason::ip_bad_options},
        {"option past header", [&](auto& f) { with_ip_opts(f, {0x01, 0x44, 0x08, 0}); fix_ip(f); },
         drop_reason::ip_bad_options},
        {"not our ip", [&](auto& f) { f[33] = std::byte{9}; fix_ip(f); },
         drop_reason::ip_not_for_us},
        {"broadcast source", [&](auto& f) { store_be32(f.data() + 26, 0xffffffff); fix_ip(f); },
         drop_reason::ip_bad_src},
        {"our own address as source (LAND)", [&](auto& f) { store_be32(f.data() + 26, ip_a.v); fix_ip(f); },
         drop_reason::ip_bad_src},
        {"loopback source", [&](auto& f) { store_be32(f.data() + 26, 0x7f000001); fix_ip(f); },
         drop_reason::ip_bad_src},
        {"zero source", [&](auto& f) { store_be32(f.data() + 26, 0); fix_ip(f); },
         drop_reason::ip_bad_src},
        {"udp len < 8", [](auto& f) { store_be16(f.data() + 38, 7); }, drop_reason::udp_bad_length},
        {"udp len > ip payload", [](auto& f) { store_be16(f.data() + 38, 49); },
         drop_reason::udp_bad_length},
        {"udp truncated", [&](auto& f) { f.resize(14 + 20 + 6); store_be16(f.data() + 16, 26); fix_ip(f); },
         drop_reason::udp_truncated},
        {"udp bad checksum", [](auto& f) { f[50] ^= std::byte{0xff}; }, drop_reason::udp_bad_checksum},
        {"tcp without handler", [&](auto& f) { f[23] = std::byte{6}; fix_ip(f); },
         drop_reason::tcp_no_handler},
        {"frag not multiple of 8", [&](auto& f) { store_be16(f.data() + 20, 0x2000); fix_ip(f); },
         drop_reason::frag_bad_len},  // 48-byte payload is fine, so trim to 45 below
        {"frag past 65535", [&](auto& f) { store_be16(f.data() + 20, 0x1fff); fix_ip(f); },
         drop_reason::frag_too_big},
    };
    // Make "frag not multiple of 8" really odd-sized.
    auto odd = std::find_if(cases.begin(), cases.end(), [](const tc& c) {
        return std::string_view(c.name) == "frag not multiple of 8";
    });
    ASSERT_NE(odd, cases.end());
    odd->mutate = [&](auto& f) {
        f.resize(f.size() - 3);
        store_be16(f.data() + 16, uint16_t(f.size() - 14));
        store_be16(f.data() + 20, 0x2000);
        fix_ip(f);
    };
    for (auto& c : cases) {
        auto f = good;
        c.mutate(f);
        uint64_t before = o.s.stats().drop(c.want), total = o.s.stats().total_drops();
        o.inject(f);
        EXPECT_EQ(o.s.stats().drop(c.want), before + 1) << c.name;
        EXPECT_EQ(o.s.stats().total_drops(), total + 1) << c.name << " counted under another reason";
        EXPECT_EQ(o.s.udp_queued(s), 0u) << c.name;
    }
    EXPECT_TRUE(o.replies().empty());  // no ICMP about garbage

    // ICMP: truncated, bad checksum, error quoting too little.
    auto icmp_frame = [&](std::vector<std::byte> msg) {
        return eth_frame(mac_a, mac_b, ethertype::ipv4, ipv4_packet({ip_b, ip_a, ipproto::icmp}, msg));
    };
    o.inject(icmp_frame(std::vector<std::byte>(7)));
    EXPECT_EQ(o.s.stats().drop(drop_reason::icmp_truncated), 1u);
    std::vector<std::byte> echo(16);
    icmp_repr{icmp_type::echo_request, 0, 1, 1, 0, bytes(echo).subspan(8)}.emit(echo.data());
    echo[12] ^= std::byte{1};
    o.inject(icmp_frame(echo));
    EXPECT_EQ(o.s.stats().drop(drop_reason::icmp_bad_checksum), 1u);
    std::vector<std::byte> err(8 + 20);
    icmp_repr{icmp_type::dest_unreachable, 3, 0, 0, 0, bytes(err).subspan(8)}.emit(err.data());
    o.inject(icmp_frame(err));
    EXPECT_EQ(o.s.stats().drop(drop_reason::icmp_truncated), 2u);
    EXPECT_TRUE(o.replies().empty());

    // Padding beyond the IP total length is trimmed, the datagram delivered.
    auto padded = udp_frame_to_a(1000, 53, pattern(4, 8));
    padded.resize(64, std::byte{0xaa});
    o.inject(padded);
    std::vector<std::byte> buf(100);
    auto d = o.s.udp_recvfrom(s, buf);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->len, 4u);
    // Good options are skipped and the datagram delivered.
    auto opts = good;
    with_ip_opts(opts, {0x01, 0x01, 0x01, 0x00});
    fix_ip(opts);
    o.inject(opts);
    EXPECT_EQ(o.s.udp_queued(s), 1u);
    // A zero UDP checksum is accepted.
    auto zero = good;
    store_be16(zero.data() + 40, 0);
    o.inject(zero);
    EXPECT_EQ(o.s.udp_queued(s), 2u);
    o.s.udp_close(s);
    o.clock.t += o.s.config().reasm_timeout + sec(1);
    o.s.poll(o.clock.t);
    o.expect_clean();
    // The JSON dump names the drop reasons seen.
    auto js = o.s.stats().to_json();
    EXPECT_NE(js.find("\"ip_bad_options\":2"), std::string::npos) << js;
}

TEST(Stack, OverlapAndInconsistentFragmentsDropTheDatagram) {
    one_stack o;
    int s = *o.s.udp_open();
    ASSERT_TRUE(o.s.udp_bind(s, 9));
    auto seg = udp_segment(ip_b, ip_a, 1, 9, pattern(2000, 9));
    auto frag = [&](uint16_t id, uint32_t off, size_t len, bool mf) {
        ipv4_repr ip{ip_b, ip_a, ipproto::udp};
        ip.ident = id;
        ip.frag_offset = off;
        ip.more_frags = mf;
        return eth_frame(mac_a, mac_b, ethertype::ipv4, ipv4_packet(ip, bytes(seg).subspan(off, len)));
    };
    o.inject(frag(1, 0, 1024, true));
    o.inject(frag(1, 1016, 992, false));  // overlaps 1016..1024
    EXPECT_EQ(o.s.stats().drop(drop_reason::frag_overlap), 1u);
    EXPECT_EQ(o.s.reassembly().active(), 0u);
    o.inject(frag(2, 1024, 984, false));
    o.inject(frag(2, 1024, 976, false));  // second "last" with another end
    EXPECT_EQ(o.s.stats().drop(drop_reason::frag_inconsistent), 1u);
    o.inject(frag(3, 1024, 984, false));
    o.inject(frag(3, 0, 1024, true));  // completes
    EXPECT_EQ(o.s.udp_queued(s), 1u);
    EXPECT_EQ(o.s.chunks().counters().in_use > 0, true);
    o.s.udp_close(s);
    o.expect_clean();
}

TEST(Stack, FragmentFloodStaysBoundedAndTimesOut) {
    one_stack o([](stack_config& c) {
        c.reasm_max_datagrams = 16;
        c.reasm_max_bytes = 64 * 1024;
        c.reasm_timeout = sec(5);
    });
    const size_t start_in_use = o.s.chunks().counters().in_use;
    auto data = pattern(1480, 10);
    for (uint16_t id = 0; id < 1000; ++id) {
        ipv4_repr ip{ip_b, ip_a, ipproto::udp};
        ip.ident = id;
        ip.more_frags = true;  // a first fragment whose rest never comes
        o.inject(eth_frame(mac_a, mac_b, ethertype::ipv4, ipv4_packet(ip, data)));
        ASSERT_LE(o.s.reassembly().active(), 16u);
        ASSERT_LE(o.s.reassembly().bytes_held(), 64u * 1024);
        o.clock.t += usec(100);
    }
    EXPECT_EQ(o.s.stats().drop(drop_reason::frag_table_full), 1000u - 16);
    EXPECT_LE(o.s.chunks().counters().peak, 16u);
    EXPECT_LT(o.s.next_deadline(), never);
    o.clock.t += sec(5);
    o.s.poll(o.clock.t);
    EXPECT_EQ(o.s.stats().drop(drop_reason::frag_timeout), 16u);
    EXPECT_EQ(o.s.chunks().counters().in_use, start_in_use);
    EXPECT_EQ(o.s.next_deadline(), never);
    // Byte budget: 8 big datagrams' worth of 9000 bytes each cannot all be held.
    one_stack p([](stack_config& c) {
        c.reasm_max_bytes = 16 * 1024;
        c.mtu = 9000;
    });
    for (uint16_t id = 0; id < 4; ++id) {
        ipv4_repr ip{ip_b, ip_a, ipproto::udp};
        ip.ident = id;
        ip.more_frags = true;
        p.inject(eth_frame(mac_a, mac_b, ethertype::ipv4, ipv4_packet(ip, pattern(1480, id))));
    }
    EXPECT_EQ(p.s.stats().drop(drop_reason::frag_mem_limit), 0u);
    for (uint16_t id = 4; id < 20; ++id) {
        ipv4_repr ip{ip_b, ip_a, ipproto::udp};
        ip.ident = id;
        ip.more_frags = true;
        p.inject(eth_frame(mac_a, mac_b, ethertype::ipv4, ipv4_packet(ip, pattern(1480, id))));
    }
    EXPECT_GT(p.s.stats().drop(drop_reason::frag_mem_limit), 0u);
    EXPECT_LE(p.s.reassembly().bytes_held(), 16u * 1024);
    p.clock.t += sec(31);
    p.s.poll(p.clock.t);
    o.expect_clean();
    p.expect_clean();
}

// Issue #24 item 3: seventy 8-byte first fragments, two a second, used to
// fill the table (64) and lock every new fragmented datagram out for the
// whole 30 s timeout. Now a new datagram evicts the oldest incomplete one,
// and a byte budget evicts the oldest too: honest datagrams arriving
// during the flood are reassembled and delivered.
TEST(Stack, FragmentFloodDoesNotLockOutNewDatagrams) {
    one_stack o;
    int s = *o.s.udp_open();
    ASSERT_TRUE(o.s.udp_bind(s, 9));
    const ipv4_addr spoofed{10, 0, 0, 77};
    auto junk = [&](uint16_t id, size_t len) {
        ipv4_repr ip{spoofed, ip_a, ipproto::udp};
        ip.ident = id;
        ip.more_frags = true;  // the rest never comes
        o.inject(eth_frame(mac_a, mac_b, ethertype::ipv4, ipv4_packet(ip, pattern(len, id))));
    };
    std::vector<std::byte> buf(4000);
    auto honest = [&](uint16_t id) {
        auto payload = pattern(2000, id);
        auto seg = udp_segment(ip_b, ip_a, 1, 9, payload);
        for (size_t off = 0; off < seg.size(); off += 1024) {
            const size_t len = std::min<size_t>(1024, seg.size() - off);
            ipv4_repr ip{ip_b, ip_a, ipproto::udp};
            ip.ident = id;
            ip.frag_offset = uint32_t(off);
            ip.more_frags = off + len < seg.size();
            o.inject(eth_frame(mac_a, mac_b, ethertype::ipv4,
                               ipv4_packet(ip, bytes(seg).subspan(off, len))));
        }
        auto d = o.s.udp_recvfrom(s, buf);
        return d && d->len == 2000 && std::equal(payload.begin(), payload.end(), buf.begin());
    };
    // Two a second: past half full, new datagrams wait a quarter of the
    // timeout (7.5 s), so the table never fills.
    size_t most = 0;
    for (uint16_t id = 0; id < 70; ++id) {
        junk(id, 8);
        most = std::max(most, o.s.reassembly().active());
        o.clock.t += msec(500);
        o.s.poll(o.clock.t);
    }
    EXPECT_LT(most, 64u);
    EXPECT_TRUE(honest(999));
    // All at once: the table fills, and each newcomer evicts the oldest.
    const uint64_t evicted = o.s.stats().drop(drop_reason::frag_table_full);
    for (uint16_t id = 200; id < 270; ++id) junk(id, 8);
    EXPECT_EQ(o.s.reassembly().active(), 64u);
    EXPECT_GE(o.s.stats().drop(drop_reason::frag_table_full), evicted + 6);
    const uint64_t before_honest = o.s.stats().drop(drop_reason::frag_table_full);
    EXPECT_TRUE(honest(1000)) << "a full table of stale fragments locked out a new datagram";
    EXPECT_EQ(o.s.stats().drop(drop_reason::frag_table_full), before_honest + 1);
    // Under pressure a datagram's timeout is a quarter of ipfrag_time: the
    // flood is gone after 7.5 s, not 30.
    o.clock.t += msec(7500);
    o.s.poll(o.clock.t);
    EXPECT_EQ(o.s.reassembly().active(), 0u);
    o.expect_clean();
}

// The byte budget (ipfrag_high_thresh): big fragments that would exceed it
// evict the oldest datagrams first, so a new datagram still fits.
TEST(Stack, FragmentByteBudgetEvictsTheOldest) {
    one_stack o([](stack_config& c) { c.reasm_max_bytes = 16 * 1024; });
    int s = *o.s.udp_open();
    ASSERT_TRUE(o.s.udp_bind(s, 9));
    for (uint16_t id = 0; id < 40; ++id) {
        ipv4_repr ip{ipv4_addr{10, 0, 0, 77}, ip_a, ipproto::udp};
        ip.ident = id;
        ip.more_frags = true;
        o.inject(eth_frame(mac_a, mac_b, ethertype::ipv4, ipv4_packet(ip, pattern(1480, id))));
        ASSERT_LE(o.s.reassembly().bytes_held(), 16u * 1024);
    }
    EXPECT_EQ(o.s.stats().drop(drop_reason::frag_mem_limit), 40u - 11);  // 11 fit in 16 KiB
    auto payload = pattern(3000, 5);
    auto seg = udp_segment(ip_b, ip_a, 1, 9, payload);
    for (size_t off = 0; off < seg.size(); off += 1480) {
        const size_t len = std::min<size_t>(1480, seg.size() - off);
        ipv4_repr ip{ip_b, ip_a, ipproto::udp};
        ip.ident = 7;
        ip.frag_offset = uint32_t(off);
        ip.more_frags = off + len < seg.size();
        o.inject(eth_frame(mac_a, mac_b, ethertype::ipv4, ipv4_packet(ip, bytes(seg).subspan(off, len))));
    }
    std::vector<std::byte> buf(4000);
    auto d = o.s.udp_recvfrom(s, buf);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->len, 3000u);
    o.clock.t += sec(31);
    o.s.poll(o.clock.t);
    o.expect_clean();
}

TEST(Stack, UdpReceiveQueueBoundedAndNoRouteOffLink) {
    two_stacks t({}, [](stack_config& c) { c.udp_queue_datagrams = 4; });
    int sa = *t.a.udp_open(), sb = *t.b.udp_open();
    ASSERT_TRUE(t.b.udp_bind(sb, 1));
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(t.a.udp_sendto(sa, pattern(10, 1), ip_b, 1, t.clock.t));
    t.settle();
    EXPECT_EQ(t.b.udp_queued(sb), 4u);
    EXPECT_EQ(t.b.stats().drop(drop_reason::udp_rcvbuf_full), 6u);
    EXPECT_EQ(t.a.udp_sendto(sa, pattern(10, 1), ipv4_addr{8, 8, 8, 8}, 1, t.clock.t).error(),
              udp_errc::no_route);
    EXPECT_EQ(t.a.stats().drop(drop_reason::tx_no_route), 1u);
    EXPECT_EQ(t.a.udp_sendto(sa, pattern(10, 1), ipv4_addr{10, 0, 0, 9}, 1, t.clock.t).error(),
              udp_errc::unresolved);
    EXPECT_EQ(t.a.stats().drop(drop_reason::tx_unresolved), 1u);
    EXPECT_EQ(t.a.udp_sendto(sa, std::vector<std::byte>(70000), ip_b, 1, t.clock.t).error(),
              udp_errc::too_big);
    t.b.udp_close(sb);
    expect_clean(t);
}

// The transmit path's own losses, each under its reason: a port that stops
// taking frames (the hold queue fills: tx_full; the buffers run out:
// tx_no_buffer, refused to the caller), a datagram needing more than 64
// fragments (tx_too_big), and ARP frames with no resolver (arp_no_handler).
// Every datagram the sender accepted either arrives or is counted.
TEST(Stack, TransmitDropReasonsCounted) {
    {
        // The link carries 16 frames at a time and b does not read: a holds
        // 256 frames, then drops the newest.
        netio::mem_link_config lc;
        lc.max_in_flight = 16;
        two_stacks t(lc);
        int sa = *t.a.udp_open(), sb = *t.b.udp_open();
        ASSERT_TRUE(t.b.udp_bind(sb, 9));
        uint64_t accepted = 0;
        for (int i = 0; i < 600; ++i) {
            auto r = t.a.udp_sendto(sa, pattern(32, uint32_t(i)), ip_b, 9, t.clock.t);
            ASSERT_TRUE(r) << i;
            ++accepted;
            if (i % 8 == 7) t.a.poll(t.clock.t);
        }
        const uint64_t full = t.a.stats().drop(drop_reason::tx_full);
        EXPECT_GT(full, 0u);
        EXPECT_EQ(t.a.stats().drop(drop_reason::tx_no_buffer), 0u);
        // b reads now: every accepted datagram arrived or was counted.
        uint64_t got = 0;
        std::vector<std::byte> buf(64);
        for (int round = 0; round < 200 && got + full < accepted; ++round) {
            t.step();
            while (t.b.udp_recvfrom(sb, buf)) ++got;
        }
        EXPECT_EQ(got + full, accepted);
        t.b.udp_close(sb);
        expect_clean(t);
    }
    {
        // 48 buffers for both ends and b does not read: a runs out of
        // buffers, refuses the send and counts it.
        netio::mem_link_config lc;
        lc.num_buffers = 48;
        two_stacks t(lc);
        int sa = *t.a.udp_open(), sb = *t.b.udp_open();
        ASSERT_TRUE(t.b.udp_bind(sb, 9));
        uint64_t accepted = 0, refused = 0;
        for (int i = 0; i < 100; ++i) {
            auto r = t.a.udp_sendto(sa, pattern(32, uint32_t(i)), ip_b, 9, t.clock.t);
            if (r) {
                ++accepted;
            } else {
                EXPECT_EQ(r.error(), udp_errc::no_buffers);
                ++refused;
            }
            t.a.poll(t.clock.t);
        }
        EXPECT_GT(refused, 0u);
        EXPECT_EQ(t.a.stats().drop(drop_reason::tx_no_buffer), refused);
        uint64_t got = 0;
        std::vector<std::byte> buf(64);
        for (int round = 0; round < 200 && got < accepted; ++round) {
            t.step();
            while (t.b.udp_recvfrom(sb, buf)) ++got;
        }
        EXPECT_EQ(got + t.a.stats().drop(drop_reason::tx_full), accepted);
        t.b.udp_close(sb);
        expect_clean(t);
    }
    {
        // An MTU of 100 leaves 80 bytes a fragment: 8000 bytes need 100.
        two_stacks t({}, [](stack_config& c) { c.mtu = 100; });
        int sa = *t.a.udp_open();
        EXPECT_EQ(t.a.udp_sendto(sa, pattern(8000, 1), ip_b, 9, t.clock.t).error(),
                  udp_errc::too_big);
        EXPECT_EQ(t.a.stats().drop(drop_reason::tx_too_big), 1u);
        expect_clean(t);
    }
    {
        // No resolver attached (static neighbours only): ARP is not handled.
        one_stack o;
        std::vector<std::byte> f(42);
        for (size_t i = 0; i < 6; ++i) f[i] = std::byte{0xff};
        for (size_t i = 0; i < 6; ++i) f[6 + i] = std::byte(mac_b.b[i]);
        store_be16(f.data() + 12, 0x0806);
        store_be16(f.data() + 14, 1);       // Ethernet
        store_be16(f.data() + 16, 0x0800);  // IPv4
        f[18] = std::byte{6}, f[19] = std::byte{4};
        store_be16(f.data() + 20, 1);  // request
        o.inject(f);
        EXPECT_EQ(o.s.stats().drop(drop_reason::arp_no_handler), 1u);
        o.expect_clean();
    }
}

namespace {
// Counts the stack's calls; input() takes nothing.
struct counting_transport final : net::transport {
    int inputs = 0, batches = 0, timer_polls = 0;
    mutable int deadline_asks = 0;
    net::nanos deadline = net::never;
    void input(const wire::ipv4_repr&, bytes, net::nanos) override { ++inputs; }
    void end_of_batch(net::nanos) override { ++batches; }
    void poll_timers(net::nanos) override { ++timer_polls; }
    net::nanos next_deadline() const override {
        ++deadline_asks;
        return deadline;
    }
};
}  // namespace

// set_transport keeps the per-iteration calls to the registered transports:
// each once per poll (even when registered for two protocols), none after
// it is removed, and its deadline is the stack's.
TEST(Stack, TransportsAreCalledOncePerPollUntilRemoved) {
    test::two_stacks s;
    counting_transport t, u;
    s.a.set_transport(200, &t);
    s.a.set_transport(201, &t);
    s.a.set_transport(6, &u);
    s.a.poll(s.clock.t);
    EXPECT_EQ(t.batches, 1);
    EXPECT_EQ(t.timer_polls, 1);
    EXPECT_EQ(u.batches, 1);
    t.deadline = s.clock.t + net::msec(7);
    EXPECT_EQ(s.a.next_deadline(), t.deadline);
    EXPECT_EQ(t.deadline_asks, 1);
    s.a.set_transport(200, nullptr);  // still registered for 201
    s.a.poll(s.clock.t);
    EXPECT_EQ(t.batches, 2);
    s.a.set_transport(201, nullptr);
    s.a.poll(s.clock.t);
    EXPECT_EQ(t.batches, 2);
    EXPECT_EQ(t.timer_polls, 2);
    EXPECT_EQ(u.batches, 3);
    EXPECT_NE(s.a.next_deadline(), t.deadline);
    s.a.set_transport(6, nullptr);
}

// RFC 6864 / RFC 7739 5.2: IPv4 IDs come from per-destination (hashed)
// counters, not one counter for the whole host. Traffic to one destination
// does not move the IDs another destination sees (the idle scan's signal),
// IDs to one destination increase by one per datagram, the fragments of a
// datagram share its ID, and another key starts elsewhere.
TEST(Stack, IpIdentPerDestinationNotGlobal) {
    auto ids_of = [](std::vector<std::vector<std::byte>> frames) {
        std::vector<std::pair<ipv4_addr, uint16_t>> out;
        for (auto& f : frames) {
            auto e = ethernet_view::parse(f);
            if (!e || e->type() != ethertype::ipv4) continue;
            auto ip = ipv4_view::parse(e->payload());
            if (!ip) continue;
            out.emplace_back(ip->dst(), ip->ident());
        }
        return out;
    };
    auto run = [&](uint64_t key) -> std::vector<uint16_t> {
        one_stack o([key](stack_config& c) { c.ident_key = key; });
        std::vector<ipv4_addr> dst;
        for (uint8_t i = 0; i < 20; ++i) {
            dst.push_back(ipv4_addr(10, 0, 0, uint8_t(100 + i)));
            o.s.static_table().add(dst.back(), mac_b);
        }
        const int s = *o.s.udp_open();
        auto send = [&](ipv4_addr d, size_t n = 10) {
            auto p = pattern(n, 1);
            EXPECT_TRUE(o.s.udp_sendto(s, p, d, 9, o.clock.t));
            o.s.poll(o.clock.t);
            return ids_of(o.replies());
        };
        std::vector<uint16_t> first;
        for (auto d : dst) first.push_back(send(d).at(0).second);
        for (int i = 0; i < 50; ++i) EXPECT_EQ(send(dst[0]).at(0).second, uint16_t(first[0] + 1 + i));
        int untouched = 0;
        for (size_t i = 1; i < dst.size(); ++i) untouched += send(dst[i]).at(0).second == uint16_t(first[i] + 1);
        // A bucket shared with dst[0] (1 in 1024 per destination) is the only exception.
        EXPECT_GE(untouched, 18);
        // A fragmented datagram: every fragment carries one ID, the next datagram the next.
        auto frags = send(dst[5], 4000);
        EXPECT_GE(frags.size(), 3u);
        for (auto& [d, id] : frags) EXPECT_EQ(id, frags[0].second);
        EXPECT_EQ(send(dst[5]).at(0).second, uint16_t(frags[0].second + 1));
        o.s.udp_close(s);
        o.expect_clean();
        return first;
    };
    const auto a = run(0x1234567890abcdefull), b = run(0xfedcba0987654321ull);
    int same = 0;
    for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
    EXPECT_LE(same, 1) << "another key must start the counters elsewhere";
}
