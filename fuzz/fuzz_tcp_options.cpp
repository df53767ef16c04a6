// libFuzzer target: TCP options (RFC 9293 3.2, RFC 7323) and SACK blocks
// (RFC 2018, RFC 2883 D-SACK, RFC 6675 scoreboard) at two levels.
//   1. The wire parser on the first bytes as an option area: it either
//      refuses them or gives a value that emits and parses back equal.
//   2. The engine: A sends data on the established connection while B's own
//      segments are held back (the link filter drops them), and the input
//      plays B — ACK segments whose options are a parsed structure (MSS,
//      window scale, timestamps near B's clock, up to 4 SACK blocks placed
//      relative to A's unacknowledged data, D-SACKs below it) or raw bytes,
//      with time steps between them (RTO, TLP, RACK timers run).
//      After every segment the bounds hold and A's send state stays ordered
//      (snd_una <= snd_nxt <= snd_max, nothing beyond what was queued). Then B's segments flow again
//      and whatever B reads is exactly A's stream: a lying SACK may cost
//      retransmissions, never wrong or skipped bytes below B's ACKs.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "input_reader.hpp"
#include "fuzz_world.hpp"
#include "wire/tcp.hpp"
#include "wire/tcp_options.hpp"

using namespace mvnf;

namespace {

using fuzz::reader;

std::byte stream_byte(uint64_t i) { return std::byte(uint8_t(i * 131 + (i >> 9) * 7 + 89)); }

// B's last timestamp value, seen by the filter that holds B's segments back.
struct b_clock {
    bool blocked = false;
    uint32_t tsval = 0;
};

void parse_round_trip(reader& in) {
    const size_t n = in.u8() % (wire::tcp_opt::max_len + 1);
    std::byte area[wire::tcp_opt::max_len] = {};
    for (size_t i = 0; i < n; ++i) area[i] = std::byte(in.u8());
    auto o = wire::tcp_options::parse(bytes(area, n));
    if (!o) return;
    MVNF_FUZZ_CHECK(o->num_sack <= wire::tcp_options::max_sack_blocks);
    const size_t len = o->length();
    MVNF_FUZZ_CHECK(len % 4 == 0);
    if (len > wire::tcp_opt::max_len) return;  // more than one header holds: never emitted
    std::byte out[wire::tcp_opt::max_len + 8];
    o->emit(out);
    auto again = wire::tcp_options::parse(bytes(out, len));
    MVNF_FUZZ_CHECK(again.has_value());
    MVNF_FUZZ_CHECK(*again == *o);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 4096) return -1;
    static fuzz::world& w = fuzz::the_world();
    static b_clock bc;
    static bool filtered = false;
    if (!filtered) {
        filtered = true;
        w.link.set_filter(netio::mem_link::dir::b_to_a, [](std::span<std::byte> f) {
            // B's TCP segments: remember its timestamp clock, drop while held.
            if (f.size() >= 14 + 20 + 20 && load_be16(f.data() + 12) == wire::ethertype::ipv4 &&
                load8(f.data() + 23) == wire::ipproto::tcp) {
                const size_t ihl = size_t(load8(f.data() + 14) & 0x0f) * 4;
                const std::byte* t = f.data() + 14 + ihl;
                if (14 + ihl + 20 <= f.size()) {
                    const size_t doff = size_t(load8(t + 12) >> 4) * 4;
                    if (doff >= 20 && 14 + ihl + doff <= f.size())
                        if (auto o = wire::tcp_options::parse(bytes(t + 20, doff - 20));
                            o && o->has_timestamps)
                            bc.tsval = o->tsval;
                }
            }
            return !bc.blocked;
        });
    }
    w.exact_rx = false;  // B's segments of the last poll may arrive with ours
    reader in{data, size};
    parse_round_trip(in);

    // A's data in flight towards B, B's ACKs held back.
    auto& la = w.ta.tcp();
    auto& lb = w.tb.tcp();
    // The stream, built once: per-byte loops in the harness are
    // instrumented too and would cost more than the stack's work.
    static const std::vector<std::byte> stream = [] {
        std::vector<std::byte> v(16000);
        for (size_t i = 0; i < v.size(); ++i) v[i] = stream_byte(i);
        return v;
    }();
    const bytes out(stream.data(), 2000 + size_t(in.u16() % 14000));
    bc.blocked = true;
    auto sent = la.send(w.conn_a, out, w.clock.t);
    MVNF_FUZZ_CHECK(sent.has_value());
    w.step(net::msec(1));
    w.step(net::msec(1));

    const auto start = *la.info(w.conn_a);
    std::byte seg[60 + 64];
    for (int records = 0; !in.empty() && records < 64; ++records) {
        const auto ia = la.info(w.conn_a);
        const auto ib = lb.info(w.conn_b);
        if (!ia || !ib || ia->st != tcp::state::established) break;
        const uint8_t op = in.u8();
        if ((op & 7) == 7) {  // time: up to 2.5 s (RTO, TLP, RACK reorder timer)
            w.step(net::msec(uint32_t(in.u8()) * 10));
            continue;
        }
        wire::tcp_options o;
        std::byte raw[wire::tcp_opt::max_len];
        size_t raw_len = 0;
        if (op & 0x80) {  // raw option bytes
            raw_len = in.u8() % (wire::tcp_opt::max_len + 1);
            for (size_t i = 0; i < raw_len; ++i) raw[i] = std::byte(in.u8());
        } else {
            const uint8_t shape = in.u8();
            o.has_timestamps = ia->ts_ok && !(shape & 1);
            o.tsval = bc.tsval + uint32_t(int32_t(int8_t(in.u8())));
            o.tsecr = in.u32();
            if (shape & 2) o.has_mss = true, o.mss = in.u16();
            if (shape & 4) o.has_wscale = true, o.wscale = in.u8();
            if (shape & 8) o.sack_permitted = true;
            o.num_sack = uint8_t((shape >> 4) % (o.has_timestamps ? 4 : 5));
            for (uint8_t b = 0; b < o.num_sack; ++b) {
                // Blocks around A's unacknowledged data: offsets from
                // snd_una in units of 100 bytes, negative for D-SACKs.
                const int32_t l = int32_t(int8_t(in.u8())) * 100, len = int32_t(in.u8()) * 50;
                o.sack[b].left = ia->snd_una.raw() + uint32_t(l);
                o.sack[b].right = o.sack[b].left + uint32_t(len);
            }
            if (o.length() > wire::tcp_opt::max_len) o.has_mss = o.has_wscale = false;
            if (o.length() > wire::tcp_opt::max_len) o.num_sack = 3;
            raw_len = o.length();
            o.emit(raw);
        }
        // The cumulative ACK: at or a little past snd_una (never beyond
        // what was sent unless the input says so), B's next sequence number.
        const uint8_t a = in.u8();
        uint32_t ack = ia->snd_una.raw() + uint32_t(a & 0x7f) * 100;
        if (a & 0x80) ack = in.u32();
        const uint8_t flags = uint8_t(0x10 | (op & 0x08 ? 0x08 : 0) | (op & 0x40 ? 0x40 : 0));
        const size_t hl = 20 + (raw_len + 3) / 4 * 4;
        std::fill(seg, seg + hl, std::byte(0));
        store_be16(seg + 0, fuzz::peer_port);
        store_be16(seg + 2, fuzz::listen_port);
        store_be32(seg + 4, ib->snd_nxt.raw());
        store_be32(seg + 8, ack);
        store8(seg + 12, uint8_t((hl / 4) << 4));
        store8(seg + 13, flags);
        store_be16(seg + 14, in.u16());
        std::copy(raw, raw + raw_len, seg + 20);
        store_be16(seg + 16, 0);
        store_be16(seg + 16, wire::checksum(seg, hl,
                                            wire::pseudo_header_sum(test::ip_b, test::ip_a,
                                                                    wire::ipproto::tcp,
                                                                    uint16_t(hl))));
        wire::ipv4_repr ip{test::ip_b, test::ip_a, wire::ipproto::tcp};
        auto f = test::eth_frame(test::mac_a, test::mac_b, wire::ethertype::ipv4,
                                 test::ipv4_packet(ip, bytes(seg, hl)));
        w.inject(f);
        w.step(net::msec(1));
        w.check_bounds();
        if (auto now = la.info(w.conn_a)) {
            // snd_una <= snd_nxt <= snd_max (flight is snd_max - snd_una;
            // snd_nxt goes back to snd_una after an RTO), and snd_max never
            // passes what was queued.
            MVNF_FUZZ_CHECK(now->snd_una <= now->snd_nxt);
            MVNF_FUZZ_CHECK(now->snd_nxt.since(now->snd_una) <= now->flight);
            MVNF_FUZZ_CHECK(now->snd_una.since(start.snd_una) + now->flight <= *sent);
        }
    }

    // B's segments flow again: what B reads is A's stream, byte for byte.
    bc.blocked = false;
    static std::vector<std::byte> got(16000);
    size_t have = 0;
    // Bounded: each round jumps to the next timer (an RTO at worst) and
    // ends when two rounds bring nothing (a lying ACK can have made A drop
    // data B never got; then the stream legitimately stops short).
    for (int i = 0, idle = 0; i < 60 && idle < 2 && have < out.size(); ++i) {
        w.step(net::msec(1));
        auto r = lb.recv(w.conn_b, std::span(got).subspan(have, out.size() - have), w.clock.t);
        if (r && *r > 0) {
            have += *r;
            idle = 0;
            continue;
        }
        const auto ib = lb.info(w.conn_b);
        if (!ib || ib->st != tcp::state::established) break;
        ++idle;
        if (w.next_event() != net::never) w.clock.t = std::max(w.clock.t, w.next_event());
    }
    MVNF_FUZZ_CHECK(std::memcmp(got.data(), out.data(), have) == 0);
    w.teardown_and_check();
    fuzz::reset_world();
    return 0;
}
