// The Internet checksum (RFC 1071) with incremental update (RFC 1624), used
// by IPv4, ICMP, UDP and TCP. Sums are accumulated in 32/64 bits and folded.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/bytes.hpp"
#include "wire/addr.hpp"

namespace mvnf::wire {

// Adds the 16-bit big-endian words of [p, p+len) to sum (odd tail padded).
inline uint64_t csum_add(uint64_t sum, const std::byte* p, size_t len) {
    while (len >= 8) {
        sum += load_be32(p);
        sum += load_be32(p + 4);
        p += 8;
        len -= 8;
    }
    while (len >= 2) {
        sum += load_be16(p);
        p += 2;
        len -= 2;
    }
    if (len) sum += static_cast<uint64_t>(load8(p)) << 8;
    return sum;
}

inline uint16_t csum_fold(uint64_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(sum);
}

// Final ones'-complement checksum of a buffer (host order value to store BE).
inline uint16_t checksum(const std::byte* p, size_t len, uint64_t initial = 0) {
    return static_cast<uint16_t>(~csum_fold(csum_add(initial, p, len)));
}

// The TCP/UDP pseudo-header sum (RFC 9293 section 3.1, RFC 768).
inline uint64_t pseudo_header_sum(ipv4_addr src, ipv4_addr dst, uint8_t proto, uint16_t len) {
    return uint64_t(src.v >> 16) + (src.v & 0xffff) + (dst.v >> 16) + (dst.v & 0xffff) + proto +
           len;
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one changed 16-bit word.
inline uint16_t csum_update16(uint16_t old_csum, uint16_t old_word, uint16_t new_word) {
    uint64_t sum = static_cast<uint16_t>(~old_csum);
    sum += static_cast<uint16_t>(~old_word);
    sum += new_word;
    return static_cast<uint16_t>(~csum_fold(sum));
}

}  // namespace mvnf::wire
