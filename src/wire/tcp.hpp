// TCP header (RFC 9293 section 3.1): seq32 arithmetic, a checked view for
// input and a repr value type for output. The TCP engine (net/tcp) parses every
// arriving segment through tcp_view/tcp_repr and builds every segment with emit.
//
//   0       2       4         8         12      13     14      16    18    20
//   +-------+-------+---------+---------+-------+------+-------+-----+-----+------+------
//   | sport | dport |   seq   |   ack   | off<<4| flags| window| sum | urp | opts | data
//   +-------+-------+---------+---------+-------+------+-------+-----+-----+------+------
#pragma once

#include <algorithm>
#include <bit>
#include <cstring>
#include <optional>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "wire/addr.hpp"
#include "wire/checksum.hpp"
#include "wire/tcp_options.hpp"

namespace mvnf::wire {

// A 32-bit sequence number compared modulo 2^32 (RFC 9293 section 3.4): a < b
// iff the signed distance b - a is positive. Never compare raw uint32s.
class seq32 {
public:
    constexpr seq32() = default;
    constexpr explicit seq32(uint32_t v) : _v(v) {}
    constexpr uint32_t raw() const { return _v; }

    constexpr seq32 operator+(uint32_t n) const { return seq32(_v + n); }
    constexpr seq32 operator-(uint32_t n) const { return seq32(_v - n); }
    constexpr seq32& operator+=(uint32_t n) { _v += n; return *this; }
    // Signed distance this - o; meaningful while |distance| < 2^31.
    constexpr int32_t operator-(seq32 o) const { return static_cast<int32_t>(_v - o._v); }

    friend constexpr bool operator==(seq32, seq32) = default;
    friend constexpr bool operator<(seq32 a, seq32 b) { return (a - b) < 0; }
    friend constexpr bool operator<=(seq32 a, seq32 b) { return (a - b) <= 0; }
    friend constexpr bool operator>(seq32 a, seq32 b) { return (a - b) > 0; }
    friend constexpr bool operator>=(seq32 a, seq32 b) { return (a - b) >= 0; }

    // start <= this < start + len (RFC 9293 3.10.7.4 window test), wrap-safe.
    constexpr bool in_window(seq32 start, uint32_t len) const { return _v - start._v < len; }
    // Unsigned distance from `from` forward to this (caller knows from <= this).
    constexpr uint32_t since(seq32 from) const { return _v - from._v; }

    static constexpr seq32 max(seq32 a, seq32 b) { return a < b ? b : a; }
    static constexpr seq32 min(seq32 a, seq32 b) { return a < b ? a : b; }

private:
    uint32_t _v = 0;
};

namespace tcp_flag {
inline constexpr uint8_t fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10, urg = 0x20,
                         ece = 0x40, cwr = 0x80;
}

class tcp_view {
public:
    static constexpr size_t min_header_len = 20;
    static constexpr size_t off_sport = 0, off_dport = 2, off_seq = 4, off_ack = 8, off_doff = 12,
                            off_flags = 13, off_window = 14, off_csum = 16, off_urp = 18;

    // Checks the fixed header and the data offset; after this no accessor can
    // read out of bounds. Options are validated by tcp_repr::parse.
    static result<tcp_view, tcp_parse_error> parse(bytes seg) {
        if (seg.size() < min_header_len) return fail(tcp_parse_error::truncated);
        const size_t hl = size_t(load8(seg.data() + off_doff) >> 4) * 4;
        if (hl < min_header_len || hl > seg.size()) return fail(tcp_parse_error::bad_data_offset);
        return tcp_view(seg, hl);
    }

    uint16_t src_port() const { return load_be16(p() + off_sport); }
    uint16_t dst_port() const { return load_be16(p() + off_dport); }
    seq32 seq() const { return seq32(load_be32(p() + off_seq)); }
    seq32 ack() const { return seq32(load_be32(p() + off_ack)); }
    uint8_t flags() const { return load8(p() + off_flags); }
    uint16_t window() const { return load_be16(p() + off_window); }
    uint16_t checksum_field() const { return load_be16(p() + off_csum); }
    uint16_t urgent() const { return load_be16(p() + off_urp); }
    size_t header_len() const { return _hl; }
    bytes options() const { return _b.subspan(min_header_len, _hl - min_header_len); }
    bytes payload() const { return _b.subspan(_hl); }
    bytes whole() const { return _b; }

    // RFC 9293 3.1: the checksum covers the pseudo-header, header and data.
    bool checksum_ok(ipv4_addr src, ipv4_addr dst) const {
        const uint64_t ph = pseudo_header_sum(src, dst, 6, static_cast<uint16_t>(_b.size()));
        return csum_fold(csum_add(ph, _b.data(), _b.size())) == 0xffff;
    }

private:
    tcp_view(bytes b, size_t hl) : _b(b), _hl(hl) {}
    const std::byte* p() const { return _b.data(); }
    bytes _b;
    size_t _hl;
};

struct tcp_repr {
    uint16_t src_port = 0, dst_port = 0;
    seq32 seq{}, ack{};
    uint8_t flags = 0;
    uint16_t window = 0;  // raw field; scaling is the engine's job
    uint16_t urgent = 0;
    tcp_options opts{};

    bool has(uint8_t f) const { return (flags & f) != 0; }
    friend bool operator==(const tcp_repr&, const tcp_repr&) = default;

    static result<tcp_repr, tcp_parse_error> parse(const tcp_view& v) {
        auto o = tcp_options::parse(v.options());
        if (!o) return fail(o.error());
        return tcp_repr{v.src_port(), v.dst_port(), v.seq(), v.ack(), v.flags(), v.window(),
                        v.urgent(), *o};
    }

    size_t header_len() const { return tcp_view::min_header_len + opts.length(); }

    // Writes header + payload pieces (p1 then p2, so a wrapped ring needs no
    // copy beforehand) into out and fills in the checksum. Returns the segment
    // length; out must hold header_len() + p1.size() + p2.size() bytes.
    size_t emit(mut_bytes out, ipv4_addr src, ipv4_addr dst, bytes p1 = {}, bytes p2 = {}) const {
        const size_t hl = header_len();
        const size_t total = hl + p1.size() + p2.size();
        std::byte* b = out.data();
        store_be16(b + tcp_view::off_sport, src_port);
        store_be16(b + tcp_view::off_dport, dst_port);
        store_be32(b + tcp_view::off_seq, seq.raw());
        store_be32(b + tcp_view::off_ack, ack.raw());
        store8(b + tcp_view::off_doff, static_cast<uint8_t>((hl / 4) << 4));
        store8(b + tcp_view::off_flags, flags);
        store_be16(b + tcp_view::off_window, window);
        store_be16(b + tcp_view::off_csum, 0);
        store_be16(b + tcp_view::off_urp, urgent);
        opts.emit(b + tcp_view::min_header_len);
        // The payload is summed as it is copied (one pass over it, not two).
        // The header is a whole number of words, so p1 starts at an even
        // offset; p2 follows p1 and starts odd when p1's length is odd. The
        // header is summed last: read back at once, its narrow stores could
        // not be forwarded to the sum's 8-octet loads, which would stall.
        uint64_t sum = csum_copy_native(b + hl, p1.data(), p1.size());
        const uint16_t s2 = csum_copy_native(b + hl + p1.size(), p2.data(), p2.size());
        sum += p1.size() % 2 ? csum_swap(s2) : s2;
        sum += csum_native(b, hl);
        uint16_t folded = csum_fold(sum);  // host order
        if constexpr (std::endian::native == std::endian::little) folded = csum_swap(folded);
        const uint64_t ph = pseudo_header_sum(src, dst, 6, static_cast<uint16_t>(total));
        store_be16(b + tcp_view::off_csum, static_cast<uint16_t>(~csum_fold(ph + folded)));
        return total;
    }
};

}  // namespace mvnf::wire
