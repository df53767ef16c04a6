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
    frame_steer(unsigned ncores, unsigned unhashed_core) {
        symmetric_hasher h;
        for (unsigned v = 0; v < 256; ++v) {
            _first[v] = uint8_t(h.word(uint8_t(v), 0) & 127u);
            _second[v] = uint8_t(h.word(0, uint8_t(v)) & 127u);
        }
        for (unsigned b = 0; b < 128; ++b) _core[b] = uint8_t(rss_queue(b, ncores));
        _core[unhashed_bucket] = uint8_t(unhashed_core);
        _ports_mask[6] = _ports_mask[17] = ~0u;  // TCP, UDP: the 4-tuple
    }

    // The core (queue) for a frame of any length (short frames: unhashed).
    unsigned core(const std::byte* f, uint32_t len) const { return _core[bucket(f, len)]; }

    // The frame's RSS bucket, hash mod 128 (the indirection table's index),
    // or unhashed_bucket when it has no IPv4 key. For a caller that maps
    // buckets to something of its own (the dispatcher: straight to the
    // core's staging) and saves the core lookup.
    static constexpr size_t unhashed_bucket = 128;
    size_t bucket(const std::byte* f, uint32_t len) const {
        uint32_t x;
        if (!fold(f, len, x)) return unhashed_bucket;
        // x's low 16 bits hold the folded word in memory order: on a
        // little-endian host its first (network-order high) octet is the low byte.
        size_t first = x & 0xff, second = (x >> 8) & 0xff;
        if constexpr (std::endian::native == std::endian::big) std::swap(first, second);
        return size_t(_first[first]) ^ size_t(_second[second]);
    }
    // The core of a bucket() result.
    unsigned core_of(size_t bucket) const { return _core[bucket]; }

  private:
    static uint32_t load_ne32(const std::byte* p) {
        uint32_t v;
        std::memcpy(&v, p, 4);
        return v;
    }
    static uint16_t load_ne16(const std::byte* p) {
        uint16_t v;
        std::memcpy(&v, p, 2);
        return v;
    }
    // The 32-bit value load_ne32 reads from these four octets.
    static constexpr uint32_t octets(uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3) {
        return std::bit_cast<uint32_t>(std::array<uint8_t, 4>{b0, b1, b2, b3});
    }
    static constexpr uint16_t octets(uint8_t b0, uint8_t b1) {
        return std::bit_cast<uint16_t>(std::array<uint8_t, 2>{b0, b1});
    }

    // XOR of the RSS input's 16-bit words, in memory order, in the low 16
    // bits of x. False when parse_flow_key would give flow_kind::none.
    //
    // The fast path takes the frame nearly all traffic is: untagged IPv4
    // without options (one compare on octets 12..15, the last being the
    // TOS), not a fragment, with 24 <= total length <= what the frame
    // holds, so that a TCP or UDP datagram's ports are inside it. Whether
    // the ports count is a table lookup on the protocol, not a branch.
    // Anything else (802.1Q, options, fragments, datagrams under 24 octets,
    // bad lengths, other EtherTypes) takes fold_general(), which applies
    // every rule of parse_flow_key.
    bool fold(const std::byte* f, uint32_t len, uint32_t& x) const {
        constexpr uint32_t hdr = wire::ethernet_view::header_len;
        if (len < hdr + 24 || (load_ne32(f + 12) & octets(0xff, 0xff, 0xff, 0)) !=
                                  octets(0x08, 0x00, 0x45, 0)) [[unlikely]]
            return fold_general(f, len, x);
        const std::byte* ip = f + hdr;
        // RFC 791 section 3.1/3.2: total length (octets 2..3) and the MF flag
        // + fragment offset (octets 6..7; 0x3fff, the DF bit excluded).
        const uint32_t total = load_be16(ip + 2);
        if (total - 24 > len - hdr - 24 || (load_ne16(ip + 6) & octets(0x3f, 0xff)) != 0)
            [[unlikely]]
            return fold_general(f, len, x);
        const uint32_t v = load_ne32(ip + 12) ^ load_ne32(ip + 16) ^
                           (load_ne32(ip + 20) & _ports_mask[load8(ip + 9)]);
        x = v ^ (v >> 16);
        return true;
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
    std::array<uint8_t, 129> _core;            // RSS bucket (or unhashed_bucket) -> core
    std::array<uint32_t, 256> _ports_mask{};   // protocol -> ~0 for TCP and UDP, else 0
};

}  // namespace mvnf::netio
