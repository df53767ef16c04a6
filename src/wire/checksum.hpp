// The Internet checksum (RFC 1071) with incremental update (RFC 1624), used
// by IPv4, ICMP, UDP and TCP. Sums are accumulated in 32/64 bits and folded.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "common/bytes.hpp"
#include "wire/addr.hpp"

namespace mvnf::wire {

namespace detail {
inline uint64_t load_ne64(const std::byte* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}
// Folds a 64-bit ones'-complement accumulator to 33 bits (2^32 == 1 mod 0xffff).
inline uint64_t fold64(uint64_t v) { return (v & 0xffffffffu) + (v >> 32); }
}  // namespace detail

// The ones'-complement sum of [p, p+len) read as 16-bit words in the
// host's byte order (odd tail zero-padded), folded to 16 bits.
//
// RFC 1071 section 2(B): the sum does not depend on byte order up to a swap
// of the folded result, so the words are added eight octets at a time with
// the carries out of bit 63 counted (2^64 == 1 mod 0xffff, so a carry is
// worth 1), in two independent chains. About four times fewer instructions
// per octet than adding byte-swapped 32-bit loads; it runs over every
// segment twice (the sender's emit, the receiver's check) and over every
// frame mvnf-pktgen checks. 0xffff, what a valid checksum sums to, reads
// the same in either order.
inline uint16_t csum_native(const std::byte* p, size_t len) {
    uint64_t a = 0, b = 0, carries = 0;
    while (len >= 16) {
        const uint64_t x = detail::load_ne64(p), y = detail::load_ne64(p + 8);
        a += x;
        carries += a < x;
        b += y;
        carries += b < y;
        p += 16;
        len -= 16;
    }
    uint64_t t = detail::fold64(a) + detail::fold64(b) + carries;  // < 2^35
    // The tail: at most one 8-, 4- and 2-octet word, in that order.
    auto take = [&](auto word) {
        if (len < sizeof word) return;
        std::memcpy(&word, p, sizeof word);
        t += detail::fold64(uint64_t(word));
        p += sizeof word;
        len -= sizeof word;
    };
    take(uint64_t{});
    take(uint32_t{});
    take(uint16_t{});
    if (len) {  // the last octet is the high half of a zero-padded word
        const std::byte pad[2] = {*p, std::byte{0}};
        uint16_t v;
        std::memcpy(&v, pad, 2);
        t += v;
    }
    while (t >> 16) t = (t & 0xffff) + (t >> 16);
    return static_cast<uint16_t>(t);
}

// Adds the 16-bit big-endian words of [p, p+len) to sum (odd tail padded).
inline uint64_t csum_add(uint64_t sum, const std::byte* p, size_t len) {
    uint16_t r = csum_native(p, len);
    if constexpr (std::endian::native == std::endian::little) r = static_cast<uint16_t>((r << 8) | (r >> 8));
    return sum + r;
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
