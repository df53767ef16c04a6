// Per-core stack counters: packets and bytes in/out, per-protocol events, and
// every drop by reason. Written only by the owning core's net::stack; read by
// the API (stat_print, JSON export) and by tests.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace mvnf::net {

// X-macro so names and the enum cannot drift apart.
#define MVNF_NET_DROP_REASONS(X)                                                           \
    X(eth_short) X(eth_not_for_us) X(eth_unknown_type) X(arp_no_handler)                   \
    X(ip_truncated) X(ip_bad_version) X(ip_bad_ihl) X(ip_bad_total_length)                 \
    X(ip_bad_checksum) X(ip_bad_options) X(ip_not_for_us) X(ip_bad_src)                    \
    X(ip_unknown_proto)                                                                    \
    X(frag_bad_len) X(frag_too_big) X(frag_overlap) X(frag_duplicate) X(frag_inconsistent) \
    X(frag_too_many) X(frag_table_full) X(frag_mem_limit) X(frag_timeout)                  \
    X(icmp_truncated) X(icmp_bad_checksum) X(icmp_bad_quote) X(icmp_unhandled)             \
    X(icmp_echo_broadcast)                                                                 \
    X(udp_truncated) X(udp_bad_length) X(udp_bad_checksum) X(udp_no_port)                 \
    X(udp_rcvbuf_full)                                                                     \
    X(tcp_no_handler) X(no_buffers)                                                        \
    X(tx_no_buffer) X(tx_full) X(tx_no_route) X(tx_unresolved) X(tx_too_big)

enum class drop_reason : uint8_t {
#define MVNF_X(n) n,
    MVNF_NET_DROP_REASONS(MVNF_X)
#undef MVNF_X
        count_
};
inline constexpr size_t num_drop_reasons = size_t(drop_reason::count_);

const char* to_string(drop_reason r);

struct stack_stats {
    uint64_t rx_packets = 0, rx_bytes = 0;  // frames received from the queue
    uint64_t tx_packets = 0, tx_bytes = 0;  // frames accepted by tx_burst
    uint64_t ip_rx = 0, ip_tx = 0;          // IPv4 datagrams (fragments counted once each)
    uint64_t frags_rx = 0, frags_tx = 0, reasm_ok = 0;
    uint64_t arp_rx = 0, tcp_rx = 0;
    uint64_t icmp_rx = 0, icmp_tx = 0, icmp_echo_replies = 0, icmp_unreach_sent = 0,
             icmp_rate_limited = 0, icmp_errors_rx = 0, icmp_echo_reply_rx = 0;
    uint64_t udp_rx = 0, udp_tx = 0;
    uint64_t prefetch_bursts = 0;  // bursts the transport prefetch pre-pass ran on
    uint64_t tx_ring_full = 0;     // flushes the port refused in part: frames held, not lost
    std::array<uint64_t, num_drop_reasons> drops{};

    uint64_t drop(drop_reason r) const { return drops[size_t(r)]; }
    uint64_t total_drops() const {
        uint64_t s = 0;
        for (auto d : drops) s += d;
        return s;
    }
    // One JSON object: counters by name, drops as {"reason": n} (zeros omitted).
    std::string to_json() const;
};

}  // namespace mvnf::net
