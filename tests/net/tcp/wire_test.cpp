// Golden-byte tests for the TCP header view/repr and options (wire/tcp.hpp),
// table-driven tests for seq32, and each malformed-option class.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "wire/tcp.hpp"

using namespace mvnf;
using namespace mvnf::wire;

namespace {
std::vector<std::byte> hex(std::initializer_list<int> v) {
    std::vector<std::byte> out;
    for (int x : v) out.push_back(std::byte(x));
    return out;
}
const ipv4_addr a1(10, 0, 0, 1), a2(10, 0, 0, 2);

// Linux-style SYN 10.0.0.1:40000 -> 10.0.0.2:80: MSS 1460, SACK-perm, TS 1/0, NOP, WS 7.
const auto golden_syn = hex({0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00,
                             0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0x98, 0x75, 0x00, 0x00,
                             0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00,
                             0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07});
// Data segment 10.0.0.2:80 -> 10.0.0.1:40000, PSH|ACK, NOP NOP TS 5/4, NOP NOP SACK
// [0x1000,0x2000), payload "hi", seq near the wrap.
const auto golden_data = hex({0x00, 0x50, 0x9c, 0x40, 0xff, 0xff, 0xff, 0xfe, 0x01, 0x02, 0x03,
                              0x05, 0xb0, 0x18, 0x02, 0x00, 0xf1, 0x90, 0x00, 0x00, 0x01, 0x01,
                              0x08, 0x0a, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x04, 0x01,
                              0x01, 0x05, 0x0a, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20, 0x00,
                              0x68, 0x69});
}  // namespace

TEST(TcpWire, SynParseGolden) {
    auto v = tcp_view::parse(golden_syn);
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->checksum_ok(a1, a2));
    EXPECT_FALSE(v->checksum_ok(a1, ipv4_addr(10, 0, 0, 3)));
    auto r = tcp_repr::parse(*v);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->src_port, 40000);
    EXPECT_EQ(r->dst_port, 80);
    EXPECT_EQ(r->seq, seq32(0x01020304));
    EXPECT_EQ(r->flags, tcp_flag::syn);
    EXPECT_EQ(r->window, 64240);
    EXPECT_TRUE(r->opts.has_mss);
    EXPECT_EQ(r->opts.mss, 1460);
    EXPECT_TRUE(r->opts.sack_permitted);
    EXPECT_TRUE(r->opts.has_timestamps);
    EXPECT_EQ(r->opts.tsval, 1u);
    EXPECT_EQ(r->opts.tsecr, 0u);
    EXPECT_TRUE(r->opts.has_wscale);
    EXPECT_EQ(r->opts.wscale, 7);
    EXPECT_TRUE(v->payload().empty());
}

TEST(TcpWire, SynEmitGolden) {
    tcp_repr r{.src_port = 40000, .dst_port = 80, .seq = seq32(0x01020304), .flags = tcp_flag::syn,
               .window = 64240,
               .opts = {.has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 7,
                        .sack_permitted = true, .has_timestamps = true, .tsval = 1}};
    std::vector<std::byte> out(r.header_len());
    ASSERT_EQ(r.emit(out, a1, a2), golden_syn.size());
    EXPECT_EQ(out, golden_syn);
}

TEST(TcpWire, DataBothDirectionsGolden) {
    auto v = tcp_view::parse(golden_data);
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->checksum_ok(a2, a1));
    auto r = tcp_repr::parse(*v);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->seq, seq32(0xfffffffe));
    EXPECT_EQ(r->opts.num_sack, 1);
    EXPECT_EQ(r->opts.sack[0], (sack_block{0x1000, 0x2000}));
    ASSERT_EQ(v->payload().size(), 2u);
    // Emit with the payload split in two pieces (as from a wrapped ring).
    std::vector<std::byte> out(golden_data.size());
    const auto pl = v->payload();
    ASSERT_EQ(r->emit(out, a2, a1, pl.subspan(0, 1), pl.subspan(1)), golden_data.size());
    EXPECT_EQ(out, golden_data);
}

// The payload is checksummed as it is copied, in two pieces: every split
// point (odd ones put the second piece at an odd offset of the segment) of
// payloads from 0 to 1500 octets, with and without options, must give the
// segment the one-piece reference gives: the same octets and a checksum
// that is the RFC 1071 sum over header and payload with the pseudo-header.
TEST(TcpWire, EmitWithPayloadInTwoPiecesAtEverySplit) {
    std::vector<std::byte> payload(1500);
    uint32_t x = 99;
    for (auto& b : payload) {
        x = x * 1103515245u + 12345u;
        b = std::byte(x >> 24);
    }
    auto reference = [&](const tcp_repr& r, bytes pl) {
        std::vector<std::byte> seg(r.header_len() + pl.size());
        r.emit(seg, a1, a2);  // header only, then the payload and the full sum by hand
        std::copy(pl.begin(), pl.end(), seg.begin() + std::ptrdiff_t(r.header_len()));
        store_be16(seg.data() + tcp_view::off_csum, 0);
        const uint64_t ph = pseudo_header_sum(a1, a2, 6, uint16_t(seg.size()));
        store_be16(seg.data() + tcp_view::off_csum, checksum(seg.data(), seg.size(), ph));
        return seg;
    };
    for (bool opts : {false, true}) {
        tcp_repr r{.src_port = 40000, .dst_port = 80, .seq = seq32(7), .ack = seq32(9),
                   .flags = tcp_flag::ack | tcp_flag::psh, .window = 512};
        if (opts) r.opts = {.has_timestamps = true, .tsval = 0xfffffff0, .tsecr = 3};
        for (size_t len : {size_t(0), size_t(1), size_t(63), size_t(64), size_t(65), size_t(129),
                           size_t(1448), size_t(1460), size_t(1500)}) {
            const bytes pl(payload.data(), len);
            const auto want = reference(r, pl);
            for (size_t split = 0; split <= len; ++split) {
                std::vector<std::byte> out(want.size(), std::byte{0xee});
                ASSERT_EQ(r.emit(out, a1, a2, pl.subspan(0, split), pl.subspan(split)),
                          want.size());
                ASSERT_EQ(out, want)
                    << "options " << opts << " length " << len << " split " << split;
                auto v = tcp_view::parse(out);
                ASSERT_TRUE(v);
                ASSERT_TRUE(v->checksum_ok(a1, a2));
            }
        }
    }
}

TEST(TcpWire, TruncatedAndBadOffset) {
    for (size_t n = 0; n < 20; ++n) {
        auto r = tcp_view::parse(bytes(golden_syn).subspan(0, n));
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), tcp_parse_error::truncated);
    }
    auto s = golden_syn;
    s[12] = std::byte(0x40);  // data offset 4 < 5
    EXPECT_EQ(tcp_view::parse(s).error(), tcp_parse_error::bad_data_offset);
    s[12] = std::byte(0xb0);  // 44 > 40 bytes
    EXPECT_EQ(tcp_view::parse(s).error(), tcp_parse_error::bad_data_offset);
}

struct opt_case {
    const char* name;
    std::vector<int> area;
    bool ok;
    tcp_parse_error err;
};

TEST(TcpWire, OptionTable) {
    const std::vector<opt_case> cases = {
        {"empty", {}, true, {}},
        {"nops", {1, 1, 1, 1}, true, {}},
        {"eol stops", {0, 0xff, 0xff, 0xff}, true, {}},
        {"len 0", {2, 0, 0, 0}, false, tcp_parse_error::bad_option_length},
        {"len 1", {99, 1, 0, 0}, false, tcp_parse_error::bad_option_length},
        {"kind at end", {1, 1, 1, 2}, false, tcp_parse_error::bad_option_length},
        {"past header", {99, 6, 0, 0}, false, tcp_parse_error::bad_option_length},
        {"mss len 3", {2, 3, 5, 1}, false, tcp_parse_error::bad_option_value},
        {"ws len 4", {3, 4, 1, 1}, false, tcp_parse_error::bad_option_value},
        {"sackperm len 3", {4, 3, 0, 1}, false, tcp_parse_error::bad_option_value},
        {"ts len 8", {8, 8, 0, 0, 0, 0, 0, 0}, false, tcp_parse_error::bad_option_value},
        {"sack len 6", {5, 6, 0, 0, 0, 0, 1, 1}, false, tcp_parse_error::bad_option_value},
        {"unknown skipped", {30, 4, 9, 9, 2, 4, 1, 0}, true, {}},
    };
    for (const auto& c : cases) {
        std::vector<std::byte> a;
        for (int x : c.area) a.push_back(std::byte(x));
        auto r = tcp_options::parse(a);
        EXPECT_EQ(bool(r), c.ok) << c.name;
        if (!c.ok && !r) {
            EXPECT_EQ(r.error(), c.err) << c.name;
        }
    }
    std::vector<std::byte> a = hex({30, 4, 9, 9, 2, 4, 1, 0});
    auto r = tcp_options::parse(a);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->mss, 256);
}

TEST(TcpWire, OptionsRoundTripAllShapes) {
    for (int mask = 0; mask < 32; ++mask) {
        tcp_options o;
        if (mask & 1) o.has_mss = true, o.mss = 1400;
        if (mask & 2) o.has_wscale = true, o.wscale = 9;
        o.sack_permitted = mask & 4;
        if (mask & 8) o.has_timestamps = true, o.tsval = 77, o.tsecr = 66;
        if (mask & 16) {
            o.num_sack = o.has_timestamps ? 3 : 4;
            for (int i = 0; i < o.num_sack; ++i) o.sack[i] = {uint32_t(i * 100), uint32_t(i * 100 + 50)};
        }
        if (o.length() > tcp_opt::max_len) continue;
        ASSERT_EQ(o.length() % 4, 0u);
        std::vector<std::byte> b(o.length());
        o.emit(b.data());
        auto back = tcp_options::parse(b);
        ASSERT_TRUE(back) << mask;
        EXPECT_EQ(*back, o) << mask;
    }
}

struct seq_case {
    uint32_t a, b;
    int32_t diff;  // a - b
};

TEST(Seq32, ComparisonTable) {
    const std::vector<seq_case> cases = {
        {1, 0, 1},
        {0, 1, -1},
        {0, 0xffffffff, 1},
        {0xffffffff, 0, -1},
        {0x10, 0xfffffff0, 0x20},
        {0x7fffffff, 0, 0x7fffffff},
        {100, 100, 0},
    };
    for (const auto& c : cases) {
        seq32 a(c.a), b(c.b);
        EXPECT_EQ(a - b, c.diff);
        EXPECT_EQ(a < b, c.diff < 0);
        EXPECT_EQ(a <= b, c.diff <= 0);
        EXPECT_EQ(a > b, c.diff > 0);
        EXPECT_EQ(a >= b, c.diff >= 0);
        EXPECT_EQ(a == b, c.diff == 0);
    }
}

struct window_case {
    uint32_t s, start, len;
    bool in;
};

TEST(Seq32, InWindowTable) {
    const std::vector<window_case> cases = {
        {5, 5, 1, true},           {5, 5, 0, false},          {4, 5, 10, false},
        {14, 5, 10, true},         {15, 5, 10, false},        {2, 0xfffffffe, 8, true},
        {0xfffffffe, 0xfffffffe, 1, true}, {6, 0xfffffffe, 8, false}, {0xfffffffd, 0xfffffffe, 8, false},
    };
    for (const auto& c : cases)
        EXPECT_EQ(seq32(c.s).in_window(seq32(c.start), c.len), c.in) << c.s << " " << c.start;
    EXPECT_EQ(seq32(3).since(seq32(0xffffffff)), 4u);
    EXPECT_EQ(seq32::max(seq32(1), seq32(0xffffffff)), seq32(1));
    EXPECT_EQ(seq32::min(seq32(1), seq32(0xffffffff)), seq32(0xffffffff));
}

// NOP NOP TS is recognised without the option walk: the result must be the
// walk's (the same option in another layout goes through the walk), and
// near misses (another length, other padding, extra octets) still take it.
TEST(TcpWire, TimestampFastPathSameAsWalk) {
    const auto fast = hex({0x01, 0x01, 0x08, 0x0a, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0});
    const auto walk = hex({0x08, 0x0a, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x00});
    auto a = tcp_options::parse(fast), b = tcp_options::parse(walk);
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    EXPECT_TRUE(a->has_timestamps);
    EXPECT_EQ(a->tsval, 0x12345678u);
    EXPECT_EQ(a->tsecr, 0x9abcdef0u);
    EXPECT_EQ(*a, *b);
    auto bad_len = fast;
    bad_len[3] = std::byte{0x0b};  // TS of length 11 running past the area
    auto r = tcp_options::parse(bad_len);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), tcp_parse_error::bad_option_length);
    auto longer = fast;  // 16 octets: NOP NOP TS then NOP NOP SACK-perm
    for (int x : {0x01, 0x01, 0x04, 0x02}) longer.push_back(std::byte(x));
    auto l = tcp_options::parse(longer);
    ASSERT_TRUE(l);
    EXPECT_TRUE(l->has_timestamps && l->sack_permitted);
    EXPECT_EQ(l->tsval, 0x12345678u);
}
