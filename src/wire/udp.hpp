// UDP header (RFC 768): a checked view for input and a repr for output. The
// checksum covers the RFC 768 pseudo-header; a zero checksum on input means
// "none computed" and is accepted. Used by net::stack's UDP layer.
//
//   0               16              31
//   +---------------+---------------+
//   |  source port  |   dest port   |
//   +---------------+---------------+
//   |    length     |   checksum    |
//   +---------------+---------------+
//   |  payload (length - 8 bytes)
#pragma once

#include <cstdint>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "wire/addr.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

namespace mvnf::wire {

enum class udp_error : uint8_t {
    truncated,     // fewer than 8 bytes
    bad_length,    // length field < 8 or > the IP payload
    bad_checksum,  // non-zero checksum that does not verify
};

inline const char* to_string(udp_error e) {
    switch (e) {
        case udp_error::truncated: return "truncated";
        case udp_error::bad_length: return "bad_length";
        case udp_error::bad_checksum: return "bad_checksum";
    }
    return "?";
}

class udp_view {
public:
    static constexpr size_t header_len = 8;
    static constexpr size_t off_sport = 0, off_dport = 2, off_len = 4, off_csum = 6;

    // b is the whole IP payload; src/dst are needed for the pseudo-header.
    // Bytes past the UDP length field are not part of the view (RFC 768
    // leaves them undefined; Linux trims them too).
    static result<udp_view, udp_error> parse(bytes b, ipv4_addr src, ipv4_addr dst,
                                             bool verify_checksum = true) {
        if (b.size() < header_len) return fail(udp_error::truncated);
        size_t len = load_be16(b.data() + off_len);
        if (len < header_len || len > b.size()) return fail(udp_error::bad_length);
        bytes d = b.first(len);
        if (verify_checksum && load_be16(b.data() + off_csum) != 0) {
            uint64_t s = pseudo_header_sum(src, dst, ipproto::udp, uint16_t(len));
            if (checksum(d.data(), d.size(), s) != 0) return fail(udp_error::bad_checksum);
        }
        return udp_view(d);
    }

    uint16_t src_port() const { return load_be16(_b.data() + off_sport); }
    uint16_t dst_port() const { return load_be16(_b.data() + off_dport); }
    uint16_t length() const { return load_be16(_b.data() + off_len); }
    uint16_t msg_checksum() const { return load_be16(_b.data() + off_csum); }
    bytes payload() const { return _b.subspan(header_len); }

private:
    explicit udp_view(bytes b) : _b(b) {}
    bytes _b;
};

struct udp_repr {
    uint16_t src_port = 0;
    uint16_t dst_port = 0;
    uint16_t payload_len = 0;

    static udp_repr parse(const udp_view& v) {
        return {v.src_port(), v.dst_port(), uint16_t(v.length() - udp_view::header_len)};
    }
    size_t length() const { return udp_view::header_len + payload_len; }

    // The checksum field value for this header over `payload` (which may be
    // elsewhere, e.g. before fragmentation). 0 is sent as 0xffff (RFC 768).
    uint16_t compute_checksum(ipv4_addr src, ipv4_addr dst, bytes payload) const {
        uint64_t s = pseudo_header_sum(src, dst, ipproto::udp, uint16_t(length()));
        s += src_port;
        s += dst_port;
        s += uint16_t(length());
        uint16_t c = checksum(payload.data(), payload.size(), s);
        return c == 0 ? 0xffff : c;
    }
    // Writes the 8-byte header with a given checksum value.
    void emit_header(std::byte* out, uint16_t csum) const {
        store_be16(out + udp_view::off_sport, src_port);
        store_be16(out + udp_view::off_dport, dst_port);
        store_be16(out + udp_view::off_len, uint16_t(length()));
        store_be16(out + udp_view::off_csum, csum);
    }
    // Writes header + checksum; the payload must already be at out + 8.
    void emit(std::byte* out, ipv4_addr src, ipv4_addr dst) const {
        emit_header(out, compute_checksum(src, dst, bytes(out + udp_view::header_len, payload_len)));
    }
    friend bool operator==(const udp_repr&, const udp_repr&) = default;
};

}  // namespace mvnf::wire
