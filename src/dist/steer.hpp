// The dispatcher's per-frame hash: netio::rss_hash's value for the symmetric
// key, computed in a handful of instructions. Used by engine.cpp's RX step;
// tests/dist/steer_test.cpp checks it against netio::rss_hash.
//
// Why it is exact: the symmetric key repeats 0x6d5a, so the Toeplitz window
// for input bit b depends only on b mod 16. The hash is linear (XOR of the
// windows of the set bits), hence hash(w0 w1 .. w5) == hash16(w0 ^ w1 ^ .. ^ w5)
// over the input's 16-bit words: fold the addresses and ports to 16 bits,
// then two table lookups (2 x 256 entries, 2 KiB) instead of twelve.
#pragma once

#include <array>
#include <cstdint>

#include "netio/rss/rss.hpp"

namespace mvnf::dist {

class symmetric_hasher {
  public:
    symmetric_hasher() {
        for (unsigned v = 0; v < 256; ++v) {
            const uint8_t hi[2] = {uint8_t(v), 0}, lo[2] = {0, uint8_t(v)};
            _t[0][v] = netio::toeplitz_hash(netio::symmetric_rss_key, hi);
            _t[1][v] = netio::toeplitz_hash(netio::symmetric_rss_key, lo);
        }
    }
    // == netio::rss_hash(k) (0 for flow_kind::none).
    uint32_t operator()(const netio::flow_key& k) const {
        if (k.kind == netio::flow_kind::none) return 0;
        uint32_t x = k.src.v ^ k.dst.v;
        x ^= x >> 16;
        if (k.kind == netio::flow_kind::ipv4_ports) x ^= uint32_t(k.sport ^ k.dport);
        return _t[0][(x >> 8) & 0xff] ^ _t[1][x & 0xff];
    }

  private:
    std::array<std::array<uint32_t, 256>, 2> _t;
};

}  // namespace mvnf::dist
