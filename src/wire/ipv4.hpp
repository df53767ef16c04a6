// IPv4 header (RFC 791): a checked view for input and a value type (`repr`)
// that emits headers for output. Used by net::stack (input demux, output,
// fragmentation) and by ICMP to quote offending headers.
//
//   0       4       8              16      19             31
//   +-------+-------+--------------+--------------------------+
//   |version|  IHL  |   DSCP/ECN   |       total length       |
//   +-------+-------+--------------+------+-------------------+
//   |        identification        |flags |  fragment offset  |
//   +---------------+--------------+------+-------------------+
//   |      TTL      |   protocol   |      header checksum     |
//   +---------------+--------------+--------------------------+
//   |                      source address                     |
//   |                   destination address                   |
//   |                  options (IHL*4 - 20 bytes)             |
//   +---------------------------------------------------------+
#pragma once

#include <cstdint>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "wire/addr.hpp"
#include "wire/checksum.hpp"

namespace mvnf::wire {

namespace ipproto {
inline constexpr uint8_t icmp = 1;
inline constexpr uint8_t tcp = 6;
inline constexpr uint8_t udp = 17;
}  // namespace ipproto

// Why an IPv4 header was refused; the stack maps each to a drop counter.
enum class ipv4_error : uint8_t {
    truncated,         // fewer than 20 bytes
    bad_version,       // version != 4
    bad_ihl,           // IHL < 5 or IHL*4 > total length / buffer
    bad_total_length,  // total length < header or > buffer
    bad_checksum,      // header checksum does not verify
    bad_options,       // option length 0/1 or running past the header
};

inline const char* to_string(ipv4_error e) {
    switch (e) {
        case ipv4_error::truncated: return "truncated";
        case ipv4_error::bad_version: return "bad_version";
        case ipv4_error::bad_ihl: return "bad_ihl";
        case ipv4_error::bad_total_length: return "bad_total_length";
        case ipv4_error::bad_checksum: return "bad_checksum";
        case ipv4_error::bad_options: return "bad_options";
    }
    return "?";
}

class ipv4_view {
public:
    static constexpr size_t min_header_len = 20;
    static constexpr size_t max_total_len = 65535;
    static constexpr size_t off_vihl = 0, off_tos = 1, off_len = 2, off_id = 4, off_frag = 6,
                            off_ttl = 8, off_proto = 9, off_csum = 10, off_src = 12, off_dst = 16;
    static constexpr uint16_t flag_df = 0x4000, flag_mf = 0x2000, frag_mask = 0x1fff;

    // Checks every length once (RFC 791 section 3.1, RFC 1122 section 3.2.1):
    // after success no accessor reads outside [0, total_length). Bytes past
    // total length (Ethernet padding) are not part of the view.
    static result<ipv4_view, ipv4_error> parse(bytes b, bool verify_checksum = true) {
        if (b.size() < min_header_len) return fail(ipv4_error::truncated);
        uint8_t vihl = load8(b.data());
        if ((vihl >> 4) != 4) return fail(ipv4_error::bad_version);
        size_t ihl = size_t(vihl & 0x0f) * 4;
        if (ihl < min_header_len || ihl > b.size()) return fail(ipv4_error::bad_ihl);
        size_t total = load_be16(b.data() + off_len);
        if (total > b.size()) return fail(ipv4_error::bad_total_length);
        if (total < ihl) return fail(total < min_header_len ? ipv4_error::bad_total_length
                                                            : ipv4_error::bad_ihl);
        // A valid header sums to 0xffff (in either byte order).
        if (verify_checksum &&
            (ihl == min_header_len ? csum_native20(b.data()) : csum_native(b.data(), ihl)) != 0xffff)
            return fail(ipv4_error::bad_checksum);
        if (!options_well_formed(b.subspan(min_header_len, ihl - min_header_len)))
            return fail(ipv4_error::bad_options);
        return ipv4_view(b.first(total));
    }

    uint8_t version() const { return load8(_b.data()) >> 4; }
    size_t header_len() const { return size_t(load8(_b.data()) & 0x0f) * 4; }
    uint8_t tos() const { return load8(_b.data() + off_tos); }
    uint16_t total_len() const { return load_be16(_b.data() + off_len); }
    uint16_t ident() const { return load_be16(_b.data() + off_id); }
    bool dont_frag() const { return (load_be16(_b.data() + off_frag) & flag_df) != 0; }
    bool more_frags() const { return (load_be16(_b.data() + off_frag) & flag_mf) != 0; }
    // Offset of this fragment's data in the original datagram, in bytes.
    uint32_t frag_offset() const { return uint32_t(load_be16(_b.data() + off_frag) & frag_mask) * 8; }
    bool is_fragment() const { return more_frags() || frag_offset() != 0; }
    uint8_t ttl() const { return load8(_b.data() + off_ttl); }
    uint8_t protocol() const { return load8(_b.data() + off_proto); }
    uint16_t header_checksum() const { return load_be16(_b.data() + off_csum); }
    ipv4_addr src() const { return ipv4_addr(load_be32(_b.data() + off_src)); }
    ipv4_addr dst() const { return ipv4_addr(load_be32(_b.data() + off_dst)); }
    bytes options() const { return _b.subspan(min_header_len, header_len() - min_header_len); }
    bytes header() const { return _b.first(header_len()); }
    bytes payload() const { return _b.subspan(header_len()); }
    // The whole datagram, padding trimmed.
    bytes datagram() const { return _b; }

    // RFC 791 section 3.1 options: type 0 ends the list, type 1 is one byte,
    // every other option carries a length >= 2 that must stay in the header.
    // Options are not interpreted (we are a host, not a router): only walked.
    static bool options_well_formed(bytes opts) {
        size_t i = 0;
        while (i < opts.size()) {
            uint8_t type = load8(opts.data() + i);
            if (type == 0) return true;  // end of option list; rest is padding
            if (type == 1) {
                ++i;
                continue;
            }
            if (i + 1 >= opts.size()) return false;
            uint8_t len = load8(opts.data() + i + 1);
            if (len < 2 || i + len > opts.size()) return false;
            i += len;
        }
        return true;
    }

private:
    explicit ipv4_view(bytes b) : _b(b) {}
    bytes _b;
};

// The meaning of an IPv4 header. Options are never emitted: a host has no
// option it must send (RFC 1122 section 3.2.1.8).
struct ipv4_repr {
    ipv4_addr src, dst;
    uint8_t protocol = 0;
    uint8_t ttl = 64;
    uint8_t tos = 0;
    uint16_t ident = 0;
    bool dont_frag = false;
    bool more_frags = false;
    uint32_t frag_offset = 0;  // bytes; a multiple of 8
    uint16_t payload_len = 0;  // bytes after the header

    static constexpr size_t length() { return ipv4_view::min_header_len; }
    static ipv4_repr parse(const ipv4_view& v) {
        return ipv4_repr{v.src(),           v.dst(),       v.protocol(),
                         v.ttl(),           v.tos(),       v.ident(),
                         v.dont_frag(),     v.more_frags(), v.frag_offset(),
                         uint16_t(v.total_len() - v.header_len())};
    }
    // Writes a 20-byte header with its checksum at out[0..20).
    void emit(std::byte* out) const {
        store8(out + ipv4_view::off_vihl, 0x45);
        store8(out + ipv4_view::off_tos, tos);
        store_be16(out + ipv4_view::off_len, uint16_t(length() + payload_len));
        store_be16(out + ipv4_view::off_id, ident);
        uint16_t frag = uint16_t((frag_offset / 8) & ipv4_view::frag_mask);
        if (dont_frag) frag |= ipv4_view::flag_df;
        if (more_frags) frag |= ipv4_view::flag_mf;
        store_be16(out + ipv4_view::off_frag, frag);
        store8(out + ipv4_view::off_ttl, ttl);
        store8(out + ipv4_view::off_proto, protocol);
        store_be16(out + ipv4_view::off_csum, 0);
        store_be32(out + ipv4_view::off_src, src.v);
        store_be32(out + ipv4_view::off_dst, dst.v);
        store_be16(out + ipv4_view::off_csum, checksum(out, length()));
    }
    friend bool operator==(const ipv4_repr&, const ipv4_repr&) = default;
};

}  // namespace mvnf::wire
