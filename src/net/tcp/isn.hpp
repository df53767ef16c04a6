// Keyed hashing for TCP: RFC 6528 initial sequence numbers and RFC 4987 SYN
// cookies, both keyed by the layer's secret (given at construction). Called by
// the layer when it opens connections and when a listener's backlog is full.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "net/tcp/types.hpp"

namespace mvnf::tcp {

// SipHash-2-4 over a few 32-bit words: a keyed PRF, so ISNs and cookies cannot
// be predicted by an off-path attacker (RFC 6528 section 3 asks for one).
uint64_t siphash24(const std::array<uint8_t, 16>& key, const uint32_t* words, size_t n);

// RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
// M a 4-microsecond clock.
seq32 make_isn(const std::array<uint8_t, 16>& key, const four_tuple& t, nanos now);

// What a SYN cookie carries (RFC 4987 3.6): the MSS as an index into a small
// table; window scale, SACK and ECN ride in the low bits of TSval when the
// peer uses timestamps (Linux's scheme), as they do not fit in 32 sequence
// bits.
struct cookie_opts {
    uint16_t mss = 536;
    bool has_ts = false, sack = false, has_wscale = false, ecn = false;
    uint8_t wscale = 0;  // 0..14 (RFC 7323 2.3)
};

// ISN for a SYN-ACK: | 5 bits time slot (64 s) | 3 bits MSS index | 24 bits hash |.
seq32 make_syn_cookie(const std::array<uint8_t, 16>& key, const four_tuple& t, seq32 peer_isn,
                      uint16_t mss, nanos now);
// Validates ack-1 (the cookie) of a handshake-completing ACK; the cookie is
// accepted for two time slots. Returns the MSS it encodes.
std::optional<uint16_t> check_syn_cookie(const std::array<uint8_t, 16>& key, const four_tuple& t,
                                         seq32 peer_isn, seq32 cookie, nanos now);
// TSval low 6 bits: | sack:1 | ecn:1 | wscale:4 | with wscale 15 for "no
// window scaling" (a shift is at most 14).
uint32_t cookie_tsval(uint32_t ts_now, const cookie_opts& o);
cookie_opts cookie_opts_from_tsecr(uint32_t tsecr);

}  // namespace mvnf::tcp
