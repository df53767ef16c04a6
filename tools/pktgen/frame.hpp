// The frames mvnf-pktgen sends and checks: Ethernet + IPv4 + UDP + a small
// header. Built once as a template and patched per packet (source port,
// sequence number), so the send loop is a memcpy and three stores.
//
//   14 Ethernet | 20 IPv4 | 8 UDP | magic 2 | kind 1 | sender 1 | seq 8 | [ts 8]
#pragma once

#include <cstdint>

#include "common/bytes.hpp"
#include "wire/addr.hpp"

namespace mvnf::pktgen {

inline constexpr uint16_t pg_magic = 0x5047;  // "PG"
inline constexpr uint16_t pg_dport = 9;       // discard
inline constexpr size_t off_udp = 34, off_payload = 42;
inline constexpr size_t off_magic = 42, off_kind = 44, off_sender = 45, off_seq = 46, off_ts = 54;
inline constexpr uint32_t min_frame = 60;     // Ethernet minimum without FCS
inline constexpr uint32_t ts_frame = 62;      // long enough to carry a timestamp

enum kind : uint8_t { k_data = 0, k_ping = 1, k_pong = 2 };

struct frame_template {
    std::byte bytes[9216];
    uint32_t len = 0;
};

// Fills t with a frame of length len from src to dst (MACs, 10.0.0.1 -> .2).
void build_template(frame_template& t, uint32_t len, const mac_addr& src, const mac_addr& dst,
                    kind k, uint8_t sender);

inline void stamp(std::byte* f, uint16_t sport, uint64_t seq) {
    store_be16(f + off_udp, sport);
    store_be32(f + off_seq, uint32_t(seq >> 32));
    store_be32(f + off_seq + 4, uint32_t(seq));
}

struct parsed {
    uint8_t kind, sender;
    uint64_t seq;
};

// Checks a received frame is one of ours and consistent (lengths, magic,
// IPv4 header checksum); returns false for anything else.
bool check_frame(const std::byte* f, uint32_t len, parsed& out);

// Turns a ping into a pong in place: swaps MACs, addresses and ports.
void reflect(std::byte* f);

}  // namespace mvnf::pktgen
