// ICMPv4 messages (RFC 792): a checked view for input and a repr that emits
// echo replies and destination-unreachable errors. Used by net::stack.
//
//   0        8        16                31
//   +--------+--------+-----------------+
//   |  type  |  code  |    checksum     |
//   +--------+--------+-----------------+
//   | identifier (echo)| sequence (echo)|   (unused / next-hop MTU for errors)
//   +-----------------+-----------------+
//   | data: echo payload, or the offending IPv4 header + 8 bytes of its data
#pragma once

#include <cstdint>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

namespace mvnf::wire {

namespace icmp_type {
inline constexpr uint8_t echo_reply = 0;
inline constexpr uint8_t dest_unreachable = 3;
inline constexpr uint8_t redirect = 5;
inline constexpr uint8_t echo_request = 8;
inline constexpr uint8_t time_exceeded = 11;
inline constexpr uint8_t parameter_problem = 12;
}  // namespace icmp_type

namespace icmp_code {
inline constexpr uint8_t net_unreachable = 0;
inline constexpr uint8_t host_unreachable = 1;
inline constexpr uint8_t proto_unreachable = 2;
inline constexpr uint8_t port_unreachable = 3;
inline constexpr uint8_t frag_needed = 4;
}  // namespace icmp_code

// RFC 1122 section 3.2.2: the error messages (never answered with errors).
inline constexpr bool icmp_is_error(uint8_t type) {
    return type == icmp_type::dest_unreachable || type == icmp_type::redirect ||
           type == icmp_type::time_exceeded || type == icmp_type::parameter_problem ||
           type == 4 /* source quench */;
}

enum class icmp_error : uint8_t {
    truncated,     // fewer than 8 bytes, or an error quoting < IPv4 header + 8
    bad_checksum,  // checksum over the whole message does not verify
    bad_quote,     // an error message whose quoted header is not IPv4
};

inline const char* to_string(icmp_error e) {
    switch (e) {
        case icmp_error::truncated: return "truncated";
        case icmp_error::bad_checksum: return "bad_checksum";
        case icmp_error::bad_quote: return "bad_quote";
    }
    return "?";
}

class icmp_view {
public:
    static constexpr size_t header_len = 8;
    static constexpr size_t off_type = 0, off_code = 1, off_csum = 2, off_ident = 4, off_seq = 6,
                            off_rest = 4;
    // Smallest quote an error must carry: IPv4 header + 64 bits (RFC 792).
    static constexpr size_t min_quote = 28;

    // b is the IP payload. Error messages must quote at least a minimal IPv4
    // header of version 4 plus 8 bytes.
    static result<icmp_view, icmp_error> parse(bytes b, bool verify_checksum = true) {
        if (b.size() < header_len) return fail(icmp_error::truncated);
        if (verify_checksum && checksum(b.data(), b.size()) != 0)
            return fail(icmp_error::bad_checksum);
        uint8_t type = load8(b.data());
        if (icmp_is_error(type)) {
            bytes q = b.subspan(header_len);
            if (q.size() < min_quote) return fail(icmp_error::truncated);
            uint8_t vihl = load8(q.data());
            size_t ihl = size_t(vihl & 0x0f) * 4;
            if ((vihl >> 4) != 4 || ihl < 20) return fail(icmp_error::bad_quote);
            if (q.size() < ihl + 8) return fail(icmp_error::truncated);
        }
        return icmp_view(b);
    }

    uint8_t type() const { return load8(_b.data() + off_type); }
    uint8_t code() const { return load8(_b.data() + off_code); }
    uint16_t msg_checksum() const { return load_be16(_b.data() + off_csum); }
    uint16_t ident() const { return load_be16(_b.data() + off_ident); }
    uint16_t seq() const { return load_be16(_b.data() + off_seq); }
    uint32_t rest() const { return load_be32(_b.data() + off_rest); }
    bytes data() const { return _b.subspan(header_len); }
    // For error messages: the quoted IPv4 header and the bytes after it.
    bytes quoted_header() const { return data().first(size_t(load8(data().data()) & 0x0f) * 4); }
    bytes quoted_payload() const { return data().subspan(quoted_header().size()); }

private:
    explicit icmp_view(bytes b) : _b(b) {}
    bytes _b;
};

// One ICMP message: for echo, ident/seq and the echoed data; for errors,
// `rest` (unused, or the next-hop MTU for frag_needed) and the quote.
struct icmp_repr {
    uint8_t type = 0;
    uint8_t code = 0;
    uint16_t ident = 0;
    uint16_t seq = 0;
    uint32_t rest = 0;  // used instead of ident/seq for non-echo types
    bytes data;         // not owned

    static bool is_echo(uint8_t t) { return t == icmp_type::echo_request || t == icmp_type::echo_reply; }

    static icmp_repr parse(const icmp_view& v) {
        icmp_repr r;
        r.type = v.type();
        r.code = v.code();
        if (is_echo(r.type)) {
            r.ident = v.ident();
            r.seq = v.seq();
        } else {
            r.rest = v.rest();
        }
        r.data = v.data();
        return r;
    }
    size_t length() const { return icmp_view::header_len + data.size(); }
    // Writes header + data with the checksum at out[0..length()). out may
    // already hold `data` in place (echo reply built over the request).
    void emit(std::byte* out) const {
        store8(out + icmp_view::off_type, type);
        store8(out + icmp_view::off_code, code);
        store_be16(out + icmp_view::off_csum, 0);
        if (is_echo(type)) {
            store_be16(out + icmp_view::off_ident, ident);
            store_be16(out + icmp_view::off_seq, seq);
        } else {
            store_be32(out + icmp_view::off_rest, rest);
        }
        std::byte* d = out + icmp_view::header_len;
        if (!data.empty() && data.data() != d)
            for (size_t i = 0; i < data.size(); ++i) d[i] = data[i];
        store_be16(out + icmp_view::off_csum, checksum(out, length()));
    }
};

}  // namespace mvnf::wire
