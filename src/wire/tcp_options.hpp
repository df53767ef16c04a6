// TCP options (RFC 9293 section 3.2, RFC 7323, RFC 2018): parsed into a value
// type and emitted in a fixed order. Used by tcp_repr (wire/tcp.hpp) and by the
// TCP engine (net/tcp) when it builds SYNs, SYN-ACKs and data segments.
#pragma once

#include <array>
#include <cstdint>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace mvnf::wire {

// Why a TCP segment was refused by the wire layer (the engine counts each).
enum class tcp_parse_error : uint8_t {
    truncated,          // shorter than the 20-byte fixed header
    bad_data_offset,    // data offset < 5 or past the end of the segment
    bad_option_length,  // option length 0 or 1, or running past the header
    bad_option_value,   // a known option with the wrong length (MSS != 4, ...)
    bad_checksum,
};

namespace tcp_opt {
inline constexpr uint8_t eol = 0, nop = 1, mss = 2, wscale = 3, sack_permitted = 4, sack = 5,
                         timestamp = 8;
inline constexpr size_t max_len = 40;  // 60-byte header - 20 fixed
}  // namespace tcp_opt

// Wire sequence numbers are kept as plain uint32 here; the engine wraps them in
// seq32. A SACK block is [left, right) (RFC 2018 section 3).
struct sack_block {
    uint32_t left = 0, right = 0;
    friend constexpr bool operator==(const sack_block&, const sack_block&) = default;
};

struct tcp_options {
    static constexpr size_t max_sack_blocks = 4;

    bool has_mss = false;
    uint16_t mss = 0;
    bool has_wscale = false;
    uint8_t wscale = 0;  // raw shift as sent; RFC 7323 2.3 clamping is the engine's job
    bool sack_permitted = false;
    bool has_timestamps = false;
    uint32_t tsval = 0, tsecr = 0;
    uint8_t num_sack = 0;
    std::array<sack_block, max_sack_blocks> sack{};

    friend bool operator==(const tcp_options&, const tcp_options&) = default;

    // Parses the option area (the bytes between the fixed header and the data).
    // Unknown options are skipped; EOL ends the list (RFC 9293 3.2).
    static result<tcp_options, tcp_parse_error> parse(bytes area) {
        tcp_options o;
        size_t i = 0;
        const size_t n = area.size();
        const std::byte* p = area.data();
        // NOP, NOP, timestamps: what nearly every segment of a connection
        // that negotiated them carries (RFC 7323 Appendix A's layout, ours
        // and Linux's), recognised with one compare instead of the walk.
        if (n == 12 && load_be32(p) == 0x0101080au) {
            o.has_timestamps = true;
            o.tsval = load_be32(p + 4);
            o.tsecr = load_be32(p + 8);
            return o;
        }
        while (i < n) {
            const uint8_t kind = load8(p + i);
            if (kind == tcp_opt::eol) break;
            if (kind == tcp_opt::nop) {
                ++i;
                continue;
            }
            // RFC 9293 3.2: every other option carries a length covering kind+length.
            if (i + 1 >= n) return fail(tcp_parse_error::bad_option_length);
            const uint8_t len = load8(p + i + 1);
            if (len < 2 || i + len > n) return fail(tcp_parse_error::bad_option_length);
            const std::byte* v = p + i + 2;
            switch (kind) {
                case tcp_opt::mss:
                    if (len != 4) return fail(tcp_parse_error::bad_option_value);
                    o.has_mss = true;
                    o.mss = load_be16(v);
                    break;
                case tcp_opt::wscale:
                    if (len != 3) return fail(tcp_parse_error::bad_option_value);
                    o.has_wscale = true;
                    o.wscale = load8(v);
                    break;
                case tcp_opt::sack_permitted:
                    if (len != 2) return fail(tcp_parse_error::bad_option_value);
                    o.sack_permitted = true;
                    break;
                case tcp_opt::timestamp:
                    if (len != 10) return fail(tcp_parse_error::bad_option_value);
                    o.has_timestamps = true;
                    o.tsval = load_be32(v);
                    o.tsecr = load_be32(v + 4);
                    break;
                case tcp_opt::sack: {
                    // RFC 2018 3: length 2 + 8n, n = 1..4.
                    if (len < 10 || (len - 2) % 8 != 0 || size_t(len - 2) / 8 > max_sack_blocks)
                        return fail(tcp_parse_error::bad_option_value);
                    o.num_sack = static_cast<uint8_t>((len - 2) / 8);
                    for (size_t b = 0; b < o.num_sack; ++b)
                        o.sack[b] = {load_be32(v + 8 * b), load_be32(v + 8 * b + 4)};
                    break;
                }
                default:
                    break;  // unknown: skipped by its length
            }
            i += len;
        }
        return o;
    }

    // Emitted layout (Linux's order, so traces compare easily), padded to 4:
    //   MSS(4) | SACK-perm(2) TS(10) or NOP NOP TS(12) or NOP NOP SACK-perm(4)
    //   | NOP WS(3) | NOP NOP SACK(2+8n)
    size_t length() const {
        size_t l = 0;
        if (has_mss) l += 4;
        if (has_timestamps) l += 12;
        else if (sack_permitted) l += 4;
        if (has_wscale) l += 4;
        if (num_sack) l += 4 + 8 * size_t(num_sack);
        return l;
    }

    // Writes length() bytes at out.
    void emit(std::byte* out) const {
        std::byte* p = out;
        auto put = [&p](uint8_t b) { store8(p++, b); };
        if (has_mss) {
            put(tcp_opt::mss), put(4);
            store_be16(p, mss), p += 2;
        }
        if (has_timestamps) {
            if (sack_permitted) put(tcp_opt::sack_permitted), put(2);
            else put(tcp_opt::nop), put(tcp_opt::nop);
            put(tcp_opt::timestamp), put(10);
            store_be32(p, tsval), p += 4;
            store_be32(p, tsecr), p += 4;
        } else if (sack_permitted) {
            put(tcp_opt::nop), put(tcp_opt::nop), put(tcp_opt::sack_permitted), put(2);
        }
        if (has_wscale) put(tcp_opt::nop), put(tcp_opt::wscale), put(3), put(wscale);
        if (num_sack) {
            put(tcp_opt::nop), put(tcp_opt::nop), put(tcp_opt::sack);
            put(static_cast<uint8_t>(2 + 8 * num_sack));
            for (size_t b = 0; b < num_sack; ++b) {
                store_be32(p, sack[b].left), p += 4;
                store_be32(p, sack[b].right), p += 4;
            }
        }
    }
};

}  // namespace mvnf::wire
