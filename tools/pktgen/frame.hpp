// The frames mvnf-pktgen sends and checks: Ethernet + IPv4 + UDP + a small
// header. Built once as a template and patched per packet (source port,
// sequence number, UDP checksum), so the send loop is a memcpy, a few stores
// and a handful of additions.
//
//   14 Ethernet | 20 IPv4 | 8 UDP | magic 2 | kind 1 | sender 1 | seq 8 | [ts 8]
#pragma once

#include <cstdint>

#include "common/bytes.hpp"
#include "wire/addr.hpp"
#include "wire/checksum.hpp"

namespace mvnf::pktgen {

inline constexpr uint16_t pg_magic = 0x5047;  // "PG"
inline constexpr uint16_t pg_dport = 9;       // discard
inline constexpr size_t off_udp = 34, off_udp_csum = 40, off_payload = 42;
inline constexpr size_t off_magic = 42, off_kind = 44, off_sender = 45, off_seq = 46, off_ts = 54;
inline constexpr uint32_t min_frame = 60;     // Ethernet minimum without FCS
inline constexpr uint32_t ts_frame = 62;      // long enough to carry a timestamp

enum kind : uint8_t { k_data = 0, k_ping = 1, k_pong = 2 };

struct frame_template {
    std::byte bytes[9216];
    uint32_t len = 0;
    // Ones'-complement sum of the UDP pseudo-header and datagram with the
    // per-packet fields (source port, sequence number, timestamp) and the
    // checksum zero: stamping adds the fields' words to it (RFC 1071 sec. 2).
    uint64_t sum = 0;
};

// Fills t with a frame of length len from src to dst (MACs, 10.0.0.1 -> .2).
void build_template(frame_template& t, uint32_t len, const mac_addr& src, const mac_addr& dst,
                    kind k, uint8_t sender);

inline uint64_t words64(uint64_t v) {
    return (v >> 48) + ((v >> 32) & 0xffff) + ((v >> 16) & 0xffff) + (v & 0xffff);
}

// RFC 768: a checksum that computes to zero is sent as all ones, zero
// meaning "none".
inline uint16_t udp_checksum_from_sum(uint64_t sum) {
    uint16_t c = uint16_t(~wire::csum_fold(sum));
    return c == 0 ? 0xffff : c;
}

// Patches a copy of t's bytes at f for one packet; the UDP checksum covers
// the whole frame, so a flipped bit anywhere past the IPv4 header (which has
// its own) fails check_frame.
inline void stamp(std::byte* f, const frame_template& t, uint16_t sport, uint64_t seq) {
    store_be16(f + off_udp, sport);
    store_be32(f + off_seq, uint32_t(seq >> 32));
    store_be32(f + off_seq + 4, uint32_t(seq));
    store_be16(f + off_udp_csum, udp_checksum_from_sum(t.sum + sport + words64(seq)));
}

// The same with a send timestamp, for pings (t.len >= ts_frame).
inline void stamp(std::byte* f, const frame_template& t, uint16_t sport, uint64_t seq,
                  uint64_t ts) {
    store_be16(f + off_udp, sport);
    store_be32(f + off_seq, uint32_t(seq >> 32));
    store_be32(f + off_seq + 4, uint32_t(seq));
    store_be32(f + off_ts, uint32_t(ts >> 32));
    store_be32(f + off_ts + 4, uint32_t(ts));
    store_be16(f + off_udp_csum,
               udp_checksum_from_sum(t.sum + sport + words64(seq) + words64(ts)));
}

struct parsed {
    uint8_t kind, sender;
    uint64_t seq;
};

// Checks a received frame is one of ours and intact (lengths, magic, IPv4
// header checksum, and with `payload` the UDP checksum, which must be
// present); returns false for anything else.
bool check_frame(const std::byte* f, uint32_t len, parsed& out, bool payload = true);

// Turns a ping into a pong in place: swaps MACs, addresses and ports, and
// updates the UDP checksum for the changed kind.
void reflect(std::byte* f);

}  // namespace mvnf::pktgen
