// The impairment model of mvnf-impair: what happens to one frame crossing the
// bridge in one direction — lost, duplicated, corrupted, delayed (with jitter)
// or let through early to reorder it. The model only decides; it neither
// reads the clock nor writes buffers, so a test can drive it with a seed and
// a virtual time and expect exact outcomes.
#pragma once

#include <cstdint>

#include "common/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"

namespace mvnf::impair {

struct params {
    double loss = 0;     // probability a frame is dropped
    double dup = 0;      // probability a frame is sent twice
    double corrupt = 0;  // probability one bit past the Ethernet header flips
    double reorder = 0;  // probability a frame skips the delay (needs delay > 0)
    double ce = 0;       // probability an ECN-capable IPv4 packet is marked CE (RFC 3168 5)
    int64_t delay_ns = 0;
    int64_t jitter_ns = 0;  // uniform in [-jitter, +jitter], clamped at 0
};

// xoshiro-style generator: fast, seedable, no global state (one per thread).
class rng {
public:
    explicit rng(uint64_t seed) {
        // splitmix64 spreads any seed (0 included) over the 256-bit state.
        for (auto& w : _s) {
            seed += 0x9e3779b97f4a7c15ull;
            uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            w = z ^ (z >> 31);
        }
    }
    uint64_t next() {
        const uint64_t r = rotl(_s[1] * 5, 7) * 9, t = _s[1] << 17;
        _s[2] ^= _s[0];
        _s[3] ^= _s[1];
        _s[1] ^= _s[2];
        _s[0] ^= _s[3];
        _s[2] ^= t;
        _s[3] = rotl(_s[3], 45);
        return r;
    }
    // Uniform in [0, 1).
    double unit() { return double(next() >> 11) * 0x1.0p-53; }
    bool chance(double p) { return p > 0 && unit() < p; }
    uint64_t below(uint64_t n) { return n ? next() % n : 0; }

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t _s[4];
};

// The fate of one received frame.
struct verdict {
    bool lost = false;
    unsigned copies = 1;        // 2 when duplicated
    bool corrupt = false;       // applies to the first copy only
    bool early = false;         // reordered: sent without the delay
    bool ce = false;            // mark CE if the packet is ECN-capable (mark_ce)
    int64_t delay_ns[2] = {0, 0};  // per copy
    uint32_t corrupt_bit = 0;   // bit index counted from the end of the Ethernet header
};

// Whether a receiver could catch a flipped bit in this frame: IPv4 (also
// behind one 802.1Q tag), whose header, ICMP, UDP and TCP carry checksums.
// ARP carries none: on a real link the Ethernet CRC drops a damaged ARP
// frame before any stack sees it, while a bit flipped here in its sender
// MAC would be learnt as the neighbour's address and silently misdirect
// every later frame to that host (docs/tools/impair.md).
inline bool carries_checksums(const std::byte* f, uint32_t len) {
    if (len < 14) return false;
    uint16_t type = load_be16(f + 12);
    if (type == wire::ethertype::vlan && len >= 18) type = load_be16(f + 16);
    return type == wire::ethertype::ipv4;
}

// What an AQM router that marks instead of dropping does (RFC 3168 5): an
// IPv4 packet whose ECN field is ECT(0) or ECT(1) gets CE, and its header
// checksum is recomputed. Not-ECT packets (and non-IPv4 frames) are left
// alone: true when the frame was marked.
inline bool mark_ce(std::byte* f, uint32_t len) {
    if (len < 14 + 20 || load_be16(f + 12) != wire::ethertype::ipv4) return false;
    std::byte* ip = f + 14;
    const uint32_t ihl = uint32_t(load8(ip) & 0x0f) * 4;
    const uint8_t tos = load8(ip + 1);
    if ((load8(ip) >> 4) != 4 || ihl < 20 || 14 + ihl > len || (tos & 3) == 0 || (tos & 3) == 3)
        return false;
    store8(ip + 1, uint8_t(tos | 3));
    store_be16(ip + 10, 0);
    store_be16(ip + 10, wire::checksum(ip, ihl));
    return true;
}

// Decides a frame's fate. Loss is drawn first (a lost frame is neither
// duplicated nor corrupted), as with the kernel's netem. `checksummed`
// (carries_checksums) gates corruption; the draw is made either way, so a
// seed gives the same fates whatever the traffic's mix.
inline verdict decide(const params& p, rng& r, uint32_t frame_len, bool checksummed = true) {
    verdict v;
    if (r.chance(p.loss)) {
        v.lost = true;
        v.copies = 0;
        return v;
    }
    if (r.chance(p.dup)) v.copies = 2;
    // Only bits past the 14-byte Ethernet header are flipped: a damaged MAC
    // would just misdeliver the frame, while a damaged IP/TCP/UDP byte is
    // what the receiver's checksums must catch.
    if (frame_len > 14 && r.chance(p.corrupt)) {
        const uint32_t bit = uint32_t(r.below(uint64_t(frame_len - 14) * 8));
        if (checksummed) {
            v.corrupt = true;
            v.corrupt_bit = bit;
        }
    }
    v.ce = r.chance(p.ce);  // no draw when p.ce is 0: older seeds keep their fates
    v.early = p.delay_ns > 0 && r.chance(p.reorder);
    for (unsigned c = 0; c < v.copies; ++c) {
        int64_t d = v.early ? 0 : p.delay_ns;
        if (!v.early && p.jitter_ns > 0)
            d += int64_t(r.below(uint64_t(2 * p.jitter_ns + 1))) - p.jitter_ns;
        v.delay_ns[c] = d < 0 ? 0 : d;
    }
    return v;
}

}  // namespace mvnf::impair
