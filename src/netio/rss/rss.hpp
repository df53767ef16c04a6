// Receive-side scaling in software: the Toeplitz hash (Microsoft RSS spec),
// flow keys parsed from Ethernet frames, and queue selection. Called by the
// shm backend (sender picks the peer's rx queue), dist (sw dispatcher) and the
// RSS-aware source-port picker. Pure functions; no allocation, no locks.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/bytes.hpp"
#include "wire/addr.hpp"

namespace mvnf::netio {

// What a frame offers to the hash. Fragments of one datagram (first included)
// hash on addresses only so they all land on one queue (see docs/netio/rss.md).
enum class flow_kind : uint8_t {
    none,        // not IPv4 (ARP, IPv6, ...) or malformed: no hash, queue 0
    ipv4,        // IPv4 2-tuple: fragments, ICMP and other protocols
    ipv4_ports,  // IPv4 + TCP/UDP ports: the 4-tuple
};

struct flow_key {
    flow_kind kind = flow_kind::none;
    uint8_t proto = 0;  // IP protocol number (6 TCP, 17 UDP, ...)
    ipv4_addr src, dst;
    uint16_t sport = 0, dport = 0;

    // The same flow seen from the other side.
    flow_key reversed() const {
        flow_key r = *this;
        r.src = dst;
        r.dst = src;
        r.sport = dport;
        r.dport = sport;
        return r;
    }
    friend bool operator==(const flow_key&, const flow_key&) = default;
};

// Parses an Ethernet II frame (an 802.1Q tag is skipped) with bounds checks on
// IHL, total length and fragment offset. Never reads past frame.size().
flow_key parse_flow_key(bytes frame);

// The standard 40-byte Microsoft RSS key, for verification and for peers that
// use it (NIC defaults). Not symmetric.
inline constexpr std::array<uint8_t, 40> microsoft_rss_key = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

// Symmetric key (Woo & Park, "Scalable TCP Session Monitoring with Symmetric
// RSS"): 0x6d5a repeated. Its 16-bit period makes swapping src/dst addresses
// and ports leave the hash unchanged, so both directions of a flow meet on the
// same core.
inline constexpr std::array<uint8_t, 40> symmetric_rss_key = [] {
    std::array<uint8_t, 40> k{};
    for (size_t i = 0; i < k.size(); i += 2) {
        k[i] = 0x6d;
        k[i + 1] = 0x5a;
    }
    return k;
}();

// Toeplitz hash of `input` under `key` (any length; the key must hold at least
// input.size() + 4 bytes, otherwise the missing key bits count as zero).
uint32_t toeplitz_hash(std::span<const uint8_t> key, std::span<const uint8_t> input);

// The RSS input bytes of a key, in the Microsoft order: src addr, dst addr,
// src port, dst port (network byte order). Returns the length used (0, 8, 12).
size_t rss_input(const flow_key& k, std::array<uint8_t, 12>& out);

// Hash of a flow key under an arbitrary key (slow path: bit loop).
uint32_t rss_hash_with_key(std::span<const uint8_t> key, const flow_key& k);

// Hash under the symmetric key (fast path: per-byte lookup tables). 0 for
// flow_kind::none. rss_hash(k) == rss_hash(k.reversed()).
uint32_t rss_hash(const flow_key& k);

// Queue for a hash, as a NIC does it: a 128-entry indirection table filled
// round-robin (entry e -> queue e % nqueues), indexed by the hash's low 7
// bits. nqueues 0 or 1 -> 0.
inline unsigned rss_queue(uint32_t hash, unsigned nqueues) {
    if (nqueues <= 1) return 0;
    return (hash & 127u) % nqueues;
}

// Queue for a frame's flow key: the hash's queue, queue 0 for flow_kind::none.
inline unsigned rss_pick_queue(const flow_key& k, unsigned nqueues) {
    if (k.kind == flow_kind::none) return 0;
    return rss_queue(rss_hash(k), nqueues);
}

}  // namespace mvnf::netio
