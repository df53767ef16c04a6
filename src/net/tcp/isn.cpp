// SipHash, RFC 6528 ISNs and RFC 4987 SYN cookies (see isn.hpp).
#include "net/tcp/isn.hpp"

#include <algorithm>

namespace mvnf::tcp {

namespace {
inline uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }
inline void sipround(uint64_t& v0, uint64_t& v1, uint64_t& v2, uint64_t& v3) {
    v0 += v1, v1 = rotl(v1, 13), v1 ^= v0, v0 = rotl(v0, 32);
    v2 += v3, v3 = rotl(v3, 16), v3 ^= v2;
    v0 += v3, v3 = rotl(v3, 21), v3 ^= v0;
    v2 += v1, v1 = rotl(v1, 17), v1 ^= v2, v2 = rotl(v2, 32);
}
uint64_t le64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}
// MSS table for cookies (RFC 4987 3.6: a few common values), ascending.
constexpr uint16_t mss_table[8] = {536, 1024, 1220, 1300, 1360, 1400, 1440, 1460};
constexpr nanos cookie_slot = 64 * sec;

uint32_t cookie_hash(const std::array<uint8_t, 16>& key, const four_tuple& t, seq32 peer_isn,
                     uint32_t slot, uint32_t mss_idx) {
    const uint32_t w[6] = {t.local_ip.v, t.remote_ip.v,
                           (uint32_t(t.local_port) << 16) | t.remote_port, peer_isn.raw(), slot,
                           mss_idx | 0xc0c0c000u};
    return uint32_t(siphash24(key, w, 6)) & 0xffffffu;
}
}  // namespace

uint64_t siphash24(const std::array<uint8_t, 16>& key, const uint32_t* words, size_t n) {
    const uint64_t k0 = le64(key.data()), k1 = le64(key.data() + 8);
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1,
             v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
    const uint64_t total = n * 4;
    size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        const uint64_t m = uint64_t(words[i]) | (uint64_t(words[i + 1]) << 32);
        v3 ^= m;
        sipround(v0, v1, v2, v3), sipround(v0, v1, v2, v3);
        v0 ^= m;
    }
    uint64_t last = total << 56;
    if (i < n) last |= words[i];
    v3 ^= last;
    sipround(v0, v1, v2, v3), sipround(v0, v1, v2, v3);
    v0 ^= last;
    v2 ^= 0xff;
    for (int r = 0; r < 4; ++r) sipround(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

seq32 make_isn(const std::array<uint8_t, 16>& key, const four_tuple& t, nanos now) {
    const uint32_t w[3] = {t.local_ip.v, t.remote_ip.v,
                           (uint32_t(t.local_port) << 16) | t.remote_port};
    const uint32_t m = uint32_t(now / 4000);  // RFC 6528 3: M ticks every 4 us
    return seq32(m + uint32_t(siphash24(key, w, 3)));
}

seq32 make_syn_cookie(const std::array<uint8_t, 16>& key, const four_tuple& t, seq32 peer_isn,
                      uint16_t mss, nanos now) {
    uint32_t idx = 0;
    for (uint32_t i = 0; i < 8; ++i)
        if (mss_table[i] <= mss) idx = i;  // largest table value not above the peer's MSS
    const uint32_t slot = uint32_t(now / cookie_slot);
    return seq32(((slot & 31u) << 27) | (idx << 24) | cookie_hash(key, t, peer_isn, slot, idx));
}

std::optional<uint16_t> check_syn_cookie(const std::array<uint8_t, 16>& key, const four_tuple& t,
                                         seq32 peer_isn, seq32 cookie, nanos now) {
    const uint32_t c = cookie.raw();
    const uint32_t idx = (c >> 24) & 7u;
    const uint32_t now_slot = uint32_t(now / cookie_slot);
    for (uint32_t age = 0; age < 2; ++age) {  // this slot and the previous one
        const uint32_t slot = now_slot - age;
        if ((slot & 31u) != (c >> 27)) continue;
        if (cookie_hash(key, t, peer_isn, slot, idx) == (c & 0xffffffu)) return mss_table[idx];
    }
    return std::nullopt;
}

uint32_t cookie_tsval(uint32_t ts_now, const cookie_opts& o) {
    const uint32_t ws = o.has_wscale ? std::min<uint32_t>(o.wscale, 14) : 0xfu;
    const uint32_t bits = (o.sack ? 0x20u : 0) | (o.ecn ? 0x10u : 0) | ws;
    uint32_t v = (ts_now & ~0x3fu) | bits;
    // Never ahead of the clock, or our later TSvals would fail the peer's PAWS.
    if (int32_t(v - ts_now) > 0) v -= 64;
    return v;
}

cookie_opts cookie_opts_from_tsecr(uint32_t tsecr) {
    cookie_opts o;
    o.has_ts = true;
    o.sack = tsecr & 0x20u;
    o.ecn = tsecr & 0x10u;
    o.has_wscale = (tsecr & 0xfu) != 0xfu;
    o.wscale = o.has_wscale ? uint8_t(tsecr & 0xfu) : 0;
    return o;
}

}  // namespace mvnf::tcp
