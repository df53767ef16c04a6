// Per-frame RSS steering: which queue (or core) a frame goes to, equal to
// rss_queue(rss_hash(parse_flow_key(frame)), n) (or the unhashed queue when
// the frame has no IPv4 key), in a few dozen instructions. Used where the
// software plays the NIC: the sw dispatcher's RX step (dist/engine.cpp) and
// the shm sender of a multi-queue port (shm_port.cpp). tests/dist/
// steer_test.cpp checks both classes against the reference functions.
//
// Why the folded hash is exact: the symmetric key repeats 0x6d5a, so the
// Toeplitz window for input bit b depends only on b mod 16. The hash is
// linear (XOR of the windows of the set bits), hence
// hash(w0 w1 .. w5) == hash16(w0 ^ w1 ^ .. ^ w5) over the input's 16-bit
// words: XOR addresses and ports into one 32-bit word, fold it to 16 bits,
// then two table lookups (2 x 256 entries) instead of twelve.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <utility>

#include "common/bytes.hpp"
#include "netio/rss/rss.hpp"
#include "wire/ethernet.hpp"

namespace mvnf::netio {

// The folded hash of a parsed key; == rss_hash(k).
class symmetric_hasher {
  public:
    symmetric_hasher() {
        for (unsigned v = 0; v < 256; ++v) {
            const uint8_t hi[2] = {uint8_t(v), 0}, lo[2] = {0, uint8_t(v)};
            _t[0][v] = toeplitz_hash(symmetric_rss_key, hi);
            _t[1][v] = toeplitz_hash(symmetric_rss_key, lo);
        }
    }
    // == rss_hash(k) (0 for flow_kind::none).
    uint32_t operator()(const flow_key& k) const {
        if (k.kind == flow_kind::none) return 0;
        uint32_t x = k.src.v ^ k.dst.v;
        x ^= x >> 16;
        if (k.kind == flow_kind::ipv4_ports) x ^= uint32_t(k.sport ^ k.dport);
        return _t[0][(x >> 8) & 0xff] ^ _t[1][x & 0xff];
    }
    // Hash of the 16-bit word whose first octet (network order) is `first`
    // and second is `second`.
    uint32_t word(uint8_t first, uint8_t second) const { return _t[0][first] ^ _t[1][second]; }

  private:
    std::array<std::array<uint32_t, 256>, 2> _t;
};

// Frame -> core, straight from the bytes: the checks of parse_flow_key
// (802.1Q tag skipped; IPv4 version, IHL, total length within the frame;
// any fragment, ICMP and other protocols on the 2-tuple; TCP/UDP ports only
// when inside the datagram), the folded hash, and rss_queue's bucket
// (hash mod 128, RSS indirection table) mapped to a core by a 128-entry
// table, so there is no division per frame.
class frame_steer {
  public:
    frame_steer(unsigned ncores, unsigned unhashed_core) : _unhashed(uint8_t(unhashed_core)) {
        symmetric_hasher h;
        for (unsigned v = 0; v < 256; ++v) {
            _first[v] = uint8_t(h.word(uint8_t(v), 0) & 127u);
            _second[v] = uint8_t(h.word(0, uint8_t(v)) & 127u);
        }
        for (unsigned b = 0; b < 128; ++b) _core[b] = uint8_t(rss_queue(b, ncores));
    }

    // The core (queue) for a frame of any length (short frames: unhashed).
    unsigned core(const std::byte* f, uint32_t len) const {
        uint32_t x;
        if (!fold(f, len, x)) return _unhashed;
        // x's low 16 bits hold the folded word in memory order: on a
        // little-endian host its first (network-order high) octet is the low byte.
        uint32_t first = x & 0xff, second = (x >> 8) & 0xff;
        if constexpr (std::endian::native == std::endian::big) std::swap(first, second);
        return _core[_first[first] ^ _second[second]];
    }

  private:
    static uint32_t load_ne32(const std::byte* p) {
        uint32_t v;
        std::memcpy(&v, p, 4);
        return v;
    }
    // The 32-bit value load_ne32 reads from these four octets.
    static constexpr uint32_t octets(uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3) {
        return std::bit_cast<uint32_t>(std::array<uint8_t, 4>{b0, b1, b2, b3});
    }

    // XOR of the RSS input's 16-bit words, in memory order, in the low 16
    // bits of x. False when parse_flow_key would give flow_kind::none.
    static bool fold(const std::byte* f, uint32_t len, uint32_t& x) {
        constexpr uint32_t hdr = wire::ethernet_view::header_len;
        // The common frame in one compare: EtherType IPv4 and an IPv4 header
        // without options (version 4, IHL 5), octets 12..15 (15 is the TOS).
        if (len < hdr + 20 || (load_ne32(f + 12) & octets(0xff, 0xff, 0xff, 0)) !=
                                  octets(0x08, 0x00, 0x45, 0)) [[unlikely]]
            return fold_general(f, len, x);
        return fold_ip(f + hdr, 20, len - hdr, x);
    }

    // 802.1Q-tagged frames, IPv4 options and everything parse_flow_key
    // refuses. RFC 791 section 3.1: version 4, IHL >= 5 words, total length
    // covers the header and fits in the frame.
    [[gnu::noinline]] static bool fold_general(const std::byte* f, uint32_t len, uint32_t& x) {
        uint32_t off = wire::ethernet_view::header_len;
        if (len < off) return false;
        uint16_t type = load_be16(f + 12);
        if (type == wire::ethertype::vlan) {  // IEEE 802.1Q: 4-byte tag, then the real type
            if (len < off + 4) return false;
            type = load_be16(f + off + 2);
            off += 4;
        }
        if (type != wire::ethertype::ipv4 || len < off + 20) return false;
        const uint8_t vihl = load8(f + off);
        const uint32_t ihl = uint32_t(vihl & 0x0f) * 4;
        if ((vihl >> 4) != 4 || ihl < 20 || ihl > len - off) return false;
        return fold_ip(f + off, ihl, len - off, x);
    }

    // The IPv4 header at ip (ihl octets, checked), room octets to the frame's
    // end: total length within [ihl, room], then the addresses, and the ports
    // for unfragmented TCP/UDP whose first 4 octets are inside the datagram.
    static bool fold_ip(const std::byte* ip, uint32_t ihl, uint32_t room, uint32_t& x) {
        const uint32_t total = load_be16(ip + 2);
        if (total - ihl > room - ihl) return false;  // total < ihl or total > room
        uint32_t v = load_ne32(ip + 12) ^ load_ne32(ip + 16);
        // Octets 6..9: flags + fragment offset, TTL, protocol. Any fragment
        // (MF or offset, RFC 791 section 3.2) stays on the 2-tuple so all of
        // a datagram's fragments meet on one core.
        const uint32_t fp = load_ne32(ip + 6) & octets(0x3f, 0xff, 0, 0xff);
        if ((fp == octets(0, 0, 0, 6) || fp == octets(0, 0, 0, 17)) && total >= ihl + 4)
            v ^= load_ne32(ip + ihl);  // source and destination port
        x = v ^ (v >> 16);
        return true;
    }

    std::array<uint8_t, 256> _first, _second;  // hash & 127 of each octet of the folded word
    std::array<uint8_t, 128> _core;            // RSS bucket -> core
    uint8_t _unhashed;
};

}  // namespace mvnf::netio
