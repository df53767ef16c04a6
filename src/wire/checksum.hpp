// The Internet checksum (RFC 1071) with incremental update (RFC 1624), used
// by IPv4, ICMP, UDP and TCP. Sums are accumulated in 32/64 bits and folded.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "common/bytes.hpp"
#include "wire/addr.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace mvnf::wire {

namespace detail {
inline uint64_t load_ne64(const std::byte* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}
// Folds a 64-bit ones'-complement accumulator to 33 bits (2^32 == 1 mod 0xffff).
inline uint64_t fold64(uint64_t v) { return (v & 0xffffffffu) + (v >> 32); }

// Vector sums of whole 64-octet blocks. Each adds the block's 32-bit words
// (host order), zero-extended, into 64-bit lanes: a 32-bit word is two
// 16-bit words and 2^16 == 1 mod 0xffff, so this is the same ones'-
// complement sum without any carry handling, at a load, a mask, a shift
// and two adds per vector. A lane gains < 2^33 per block, so it cannot
// overflow below 2^31 blocks (128 GiB). The result is an unfolded sum.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MVNF_CSUM_X86 1
// With Copy, each vector is also stored to d on its way through the
// register, so copying and summing make one pass over the octets instead of
// two (the sender's segment payload); without it d is unused.
//
// SSE2: part of x86-64 itself, so always there. Not inlined: inlined into a
// caller whose buffer size GCC knows (-O3), it warned (-Warray-bounds, an
// error here) about blocks the length check never lets run; the AVX2
// variant is never inlined anyway (another target), so a call either way.
template <bool Copy>
[[gnu::noinline]] inline uint64_t blocks_sse2(std::byte* d, const std::byte* s, size_t blocks) {
    const __m128i low32 = _mm_set1_epi64x(0xffffffff);
    __m128i a = _mm_setzero_si128(), b = _mm_setzero_si128();
    for (size_t i = 0; i < blocks * 64; i += 64) {
        for (size_t k = 0; k < 64; k += 16) {  // unrolled: one block per trip
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i + k));
            if constexpr (Copy) _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i + k), v);
            a = _mm_add_epi64(a, _mm_and_si128(v, low32));
            b = _mm_add_epi64(b, _mm_srli_epi64(v, 32));
        }
    }
    const __m128i t = _mm_add_epi64(a, b);
    return uint64_t(_mm_cvtsi128_si64(t)) + uint64_t(_mm_cvtsi128_si64(_mm_unpackhi_epi64(t, t)));
}
// AVX2: twice the width, chosen at run time (the build targets baseline x86-64).
template <bool Copy>
[[gnu::target("avx2")]] inline uint64_t blocks_avx2(std::byte* d, const std::byte* s,
                                                     size_t blocks) {
    const __m256i low32 = _mm256_set1_epi64x(0xffffffff);
    __m256i a = _mm256_setzero_si256(), b = _mm256_setzero_si256();
    for (size_t i = 0; i < blocks * 64; i += 64) {
        for (size_t k = 0; k < 64; k += 32) {  // unrolled: one block per trip
            const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i + k));
            if constexpr (Copy) _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i + k), v);
            a = _mm256_add_epi64(a, _mm256_and_si256(v, low32));
            b = _mm256_add_epi64(b, _mm256_srli_epi64(v, 32));
        }
    }
    const __m256i t = _mm256_add_epi64(a, b);
    const __m128i h = _mm_add_epi64(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
    return uint64_t(_mm_cvtsi128_si64(h)) + uint64_t(_mm_cvtsi128_si64(_mm_unpackhi_epi64(h, h)));
}
template <bool Copy>
inline uint64_t blocks(std::byte* d, const std::byte* s, size_t n) {
    // A load and a test of libgcc's feature word, once per call.
    return __builtin_cpu_supports("avx2") ? blocks_avx2<Copy>(d, s, n) : blocks_sse2<Copy>(d, s, n);
}
inline uint64_t sum_blocks(const std::byte* p, size_t n) { return blocks<false>(nullptr, p, n); }
inline uint64_t copy_sum_blocks(std::byte* d, const std::byte* s, size_t n) {
    return blocks<true>(d, s, n);
}
#endif
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
// the same in either order. On x86-64 whole 64-octet blocks go through the
// vector sums above (a full-size TCP segment: 22 blocks), the rest here.
inline uint16_t csum_native(const std::byte* p, size_t len) {
    uint64_t a = 0, b = 0, carries = 0;
#ifdef MVNF_CSUM_X86
    if (len >= 64) {
        const size_t blocks = len / 64;
        a = detail::fold64(detail::sum_blocks(p, blocks));  // < 2^33: no carry below
        p += blocks * 64;
        len -= blocks * 64;
    }
#endif
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

// csum_native of a 20-octet IPv4 header without options, the header of
// nearly every datagram: its five 32-bit words added in 64 bits (each
// 32-bit word is two 16-bit words, 2^16 == 1 mod 0xffff: no carries to
// track) and folded. The general loop and tail cost three times as much.
inline uint16_t csum_native20(const std::byte* p) {
    uint32_t w[5];
    std::memcpy(w, p, sizeof w);
    uint64_t t = uint64_t(w[0]) + w[1] + w[2] + w[3] + w[4];  // < 2^35
    t = (t & 0xffff) + (t >> 16);
    t = (t & 0xffff) + (t >> 16);
    t = (t & 0xffff) + (t >> 16);
    return static_cast<uint16_t>(t);
}

// Copies [src, src+len) to dst (which must not overlap it) and returns
// csum_native of the copied octets: one pass where memcpy + csum_native
// would read them twice. Whole 64-octet blocks on x86-64; the rest, and
// other architectures, copy and then sum.
inline uint16_t csum_copy_native(std::byte* dst, const std::byte* src, size_t len) {
    uint64_t t = 0;
#ifdef MVNF_CSUM_X86
    if (len >= 64) {
        const size_t blocks = len / 64;
        t = detail::fold64(detail::copy_sum_blocks(dst, src, blocks));  // < 2^33
        dst += blocks * 64;
        src += blocks * 64;
        len -= blocks * 64;
    }
#endif
    if (len) std::memcpy(dst, src, len);  // an empty piece may have no storage at all
    // Summed from the source: reading back what the copy has just stored, in
    // words that straddle its stores, would wait for them to leave the store
    // buffer instead of being forwarded.
    t += csum_native(src, len);
    while (t >> 16) t = (t & 0xffff) + (t >> 16);
    return static_cast<uint16_t>(t);
}

// A csum_native value for octets that start at an odd offset of the summed
// data: RFC 1071 2(B), swapping the two octets of every word swaps the sum.
inline uint16_t csum_swap(uint16_t native) {
    return static_cast<uint16_t>((native << 8) | (native >> 8));
}

// Adds the 16-bit big-endian words of [p, p+len) to sum (odd tail padded).
inline uint64_t csum_add(uint64_t sum, const std::byte* p, size_t len) {
    uint16_t r = csum_native(p, len);
    if constexpr (std::endian::native == std::endian::little) r = csum_swap(r);
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
