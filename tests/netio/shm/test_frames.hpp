// Test helper: UDP/IPv4 frames whose payload is a sequence number followed by
// a pattern derived from it, so a receiver can check every byte.
#pragma once

#include <cstdint>

#include "common/bytes.hpp"
#include "wire/addr.hpp"

namespace mvnf::test {

inline uint8_t pattern_byte(uint64_t seq, size_t i) { return uint8_t(seq * 31 + i * 7 + 1); }

// Writes a len-byte frame (len >= 14 + 20 + 8 + 8) carrying seq into p.
inline void build_udp_frame(std::byte* p, uint32_t len, uint64_t seq, uint16_t sport) {
    for (int i = 0; i < 6; ++i) {
        store8(p + i, uint8_t(0x02 + i));
        store8(p + 6 + i, uint8_t(0x12 + i));
    }
    store_be16(p + 12, 0x0800);
    std::byte* ip = p + 14;
    store8(ip, 0x45);
    store8(ip + 1, 0);
    store_be16(ip + 2, uint16_t(len - 14));
    store_be32(ip + 4, 0);
    store8(ip + 8, 64);
    store8(ip + 9, 17);
    store_be16(ip + 10, 0);
    store_be32(ip + 12, ipv4_addr(10, 0, 0, 1).v);
    store_be32(ip + 16, ipv4_addr(10, 0, 0, 2).v);
    std::byte* udp = ip + 20;
    store_be16(udp, sport);
    store_be16(udp + 2, 9);
    store_be16(udp + 4, uint16_t(len - 34));
    store_be16(udp + 6, 0);
    std::byte* pl = udp + 8;
    store_be32(pl, uint32_t(seq >> 32));
    store_be32(pl + 4, uint32_t(seq));
    for (size_t i = 50; i < len; ++i) store8(p + i, pattern_byte(seq, i));
}

// Returns the sequence number, or -1 when any byte is wrong.
inline int64_t check_udp_frame(const std::byte* p, uint32_t len) {
    if (len < 50 || load_be16(p + 12) != 0x0800 || load_be16(p + 16) != len - 14) return -1;
    uint64_t seq = (uint64_t(load_be32(p + 42)) << 32) | load_be32(p + 46);
    for (size_t i = 50; i < len; ++i)
        if (load8(p + i) != pattern_byte(seq, i)) return -1;
    return int64_t(seq);
}

}  // namespace mvnf::test
