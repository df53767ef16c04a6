// Vocabulary of the TCP engine: states with named predicates, the error enum of
// the socket-level API, configuration, counters, handles, events and the output
// sink. Included by every file of net/tcp and by whoever drives a tcp::layer.
#pragma once

#include <array>
#include <cstdint>

#include "common/bytes.hpp"
#include "mtcp/mtcp_stats.h"
#include "wire/addr.hpp"
#include "wire/tcp.hpp"

namespace mvnf::tcp {

using wire::seq32;
using nanos = uint64_t;  // virtual time in nanoseconds; the engine never reads a clock
inline constexpr nanos ms = 1'000'000, sec = 1'000'000'000;
inline constexpr nanos no_deadline = ~nanos(0);

// RFC 9293 section 3.3.2. Code asks the predicates below, never compares order.
enum class state : uint8_t {
    closed,
    listen,
    syn_sent,
    syn_received,
    established,
    fin_wait_1,
    fin_wait_2,
    close_wait,
    closing,
    last_ack,
    time_wait,
};

// RFC 9293 3.5.2: ESTABLISHED onwards; LISTEN/SYN-SENT/SYN-RECEIVED are not.
constexpr bool is_synchronized(state s) {
    switch (s) {
        case state::established: case state::fin_wait_1: case state::fin_wait_2:
        case state::close_wait: case state::closing: case state::last_ack:
        case state::time_wait:
            return true;
        default:
            return false;
    }
}
// States in which arriving text is delivered to the receive buffer (3.10.7.4 step 7).
constexpr bool can_receive_data(state s) {
    return s == state::established || s == state::fin_wait_1 || s == state::fin_wait_2;
}
// States in which the user may still queue data (3.10.4 SEND).
constexpr bool can_send_data(state s) {
    return s == state::established || s == state::close_wait || s == state::syn_sent ||
           s == state::syn_received;
}
// States in which our FIN has been queued.
constexpr bool has_sent_fin(state s) {
    return s == state::fin_wait_1 || s == state::fin_wait_2 || s == state::closing ||
           s == state::last_ack || s == state::time_wait;
}
constexpr bool has_received_fin(state s) {
    return s == state::close_wait || s == state::closing || s == state::last_ack ||
           s == state::time_wait;
}
const char* state_name(state s);

// Errors of the socket-level API (mapped to errno at the C boundary).
enum class error : uint8_t {
    none,
    would_block,         // EAGAIN
    in_progress,         // EINPROGRESS
    invalid,             // EINVAL / EBADF: unknown or stale handle, wrong state
    not_connected,       // ENOTCONN
    already_connected,   // EISCONN
    address_in_use,      // EADDRINUSE
    no_resources,        // ENOMEM / ENOBUFS: pool exhausted
    connection_refused,  // ECONNREFUSED: RST in SYN-SENT
    connection_reset,    // ECONNRESET
    timed_out,           // ETIMEDOUT: retransmissions or keep-alive exhausted
    broken_pipe,         // EPIPE: send after shutdown
};
const char* error_name(error e);

enum class congestion_algo : uint8_t { reno, cubic };

struct config {
    uint32_t max_concurrency = 1024;  // connection pool size (mTCP `max_concurrency`)
    // Send/receive buffer pairs (mTCP `max_num_buffers`): at most this many
    // connections hold rings at once (buffers.cpp); 0 or more than
    // max_concurrency means max_concurrency.
    uint32_t max_buffers = 0;
    uint32_t max_listeners = 8;
    uint32_t max_backlog = 128;       // accept queue + SYN backlog bound per listener
    uint32_t rcvbuf = 64 * 1024;      // per-connection receive ring (mTCP `rcvbuf`)
    uint32_t sndbuf = 64 * 1024;      // per-connection send ring (mTCP `sndbuf`)
    uint32_t event_queue = 4096;
    // Resets and cookie SYN-ACKs (segments no connection holds) that may
    // wait for a TX buffer; beyond this they are dropped and counted.
    uint32_t ctl_queue = 1024;
    uint16_t mss = 1460;              // MSS we advertise: MTU 1500 - 40
    uint16_t initial_window_segments = 10;  // RFC 6928
    // Ephemeral ports for connect(): everything above the well-known range,
    // as mTCP does, so one remote endpoint offers ~64K source ports (split
    // over cores by the RSS filter). Linux uses 32768..60999.
    uint16_t ephemeral_lo = 1025, ephemeral_hi = 65535;
    uint8_t max_ooo_ranges = 8;       // bounded out-of-order queue (holes tracked)
    bool window_scaling = true, timestamps = true, sack = true;
    // D-SACK (RFC 2883): report duplicate segments to a SACK peer (Linux's
    // tcp_dsack); lets it see retransmissions that were not needed.
    bool dsack = true;
    // ECN (RFC 3168): 0 off; 1 asked for on active opens and granted on
    // passive ones; 2 granted when a peer asks, never asked for (Linux's
    // tcp_ecn default).
    uint8_t ecn = 2;
    // Tail loss probe (RFC 8985 7) on connections with SACK: a probe after
    // 2 SRTT of silence instead of waiting for the RTO.
    bool tail_loss_probe = true;
    // RACK's time rule (RFC 8985 6.2/6.3) for holes with too little SACKed
    // above them for DupThresh: lost a quarter RTT after the SACK showed them.
    bool reorder_timer = true;
    // RFC 6675 4 NextSeg rule 4 (a MAY): one "rescue" resend of the highest
    // unSACKed segment per recovery. Off by default, as Linux has none: with
    // it on, google's fast_recovery/prr-ss-30pkt-lost1_4.pkt sees a resend
    // of the tail that Linux never sends (docs/tcp.md).
    bool rescue_retransmit = false;
    nanos max_ack_delay = 200 * ms;   // RFC 8985 WCDelAckT: the peer's worst delayed ACK
    // The probe timeout as Linux computes it: 2 SRTT + 2 ms (+ rto_min for a
    // lone segment) instead of max(2 SRTT, 10 ms) (+ max_ack_delay); the
    // packetdrill library's setting (rack_tlp.cpp).
    bool tlp_linux = false;
    bool syn_cookies = true;
    bool verify_checksum = true;      // off when the NIC has verified it
    congestion_algo cc = congestion_algo::cubic;
    nanos rto_initial = 1 * sec, rto_min = 200 * ms, rto_max = 60 * sec;  // RFC 6298 2.1/2.4, min as Linux
    // RTO = SRTT + max(4·RTTVAR, rto_min), Linux's formula, instead of RFC
    // 6298's max(rto_min, SRTT + 4·RTTVAR): 10–200 ms later on short paths
    // (the packetdrill library's setting; docs/tcp.md).
    bool rto_linux = false;
    nanos delayed_ack = 40 * ms;      // RFC 1122 4.2.3.2 allows up to 500 (Linux: 40 ms minimum)
    // Linux's quick-ACK mode: the first data segments of a connection (and
    // the first after the peer was silent for an RTO) are ACKed at once, up
    // to this many (Linux: 16, TCP_MAX_QUICKACKS; fewer when the window is
    // small). 0 = off: every in-order segment may wait for the delayed-ACK
    // timer or a reply to piggyback on, one packet fewer per request.
    uint8_t quickacks = 0;
    // Slow-start growth per ACK, in SMSS: RFC 3465's L (2, as RFC 3465 2.3
    // recommends at most). 0: by all the ACK covers, as Linux (the
    // packetdrill library's setting, so scripts written for it match).
    uint8_t ss_ack_limit = 2;
    // TCP_NOTSENT_LOWAT for sockets that set none (Linux's sysctl
    // tcp_notsent_lowat; 0 here, UINT_MAX there: no limit).
    uint32_t notsent_lowat = 0;
    nanos time_wait = 60 * sec;       // 2MSL (mTCP `tcp_timewait`)
    nanos idle_timeout = 0;           // 0 = off (mTCP `tcp_timeout`)
    nanos fin_wait_2_timeout = 60 * sec;  // orphaned FIN-WAIT-2, as Linux tcp_fin_timeout
    nanos keepalive_idle = 7200 * sec, keepalive_interval = 75 * sec;  // RFC 1122 4.2.3.6
    uint8_t keepalive_probes = 9;
    uint8_t syn_retries = 6, synack_retries = 5, max_retries = 15;  // R2 (RFC 1122 4.2.3.5)
    // RFC 5961 7: challenge ACKs, at most one per connection per interval
    // (Linux: tcp_invalid_ratelimit, 500 ms), and per layer a budget per
    // second drawn at random from [limit/2, 3*limit/2) so its exhaustion
    // tells an off-path observer nothing (CVE-2016-5696).
    nanos challenge_ack_interval = 500 * ms;
    // Resets answering segments to closed ports, per second per layer
    // (RFC 9293 3.10.7.1 answers each; the bound keeps a flood at closed
    // ports from costing unbounded output, as ICMP errors are bounded).
    uint32_t closed_rst_rate = 10000;
    uint32_t challenge_ack_limit = 1000;
    // Open connections from which the stack's pre-pass prefetches each
    // received burst's flow-table buckets and connection blocks (below it
    // they stay in the CPU caches and the pass would be overhead; 0 = always).
    uint32_t prefetch_min_flows = 2048;
    std::array<uint8_t, 16> secret{};  // keys ISNs (RFC 6528) and SYN cookies (RFC 4987)
};

// Drop reasons and activity counters (per layer, i.e. per core).
// Counters, listed once in the public header (MTCP_STATS_TCP_DROPS: every
// segment dropped, by reason; MTCP_STATS_TCP: the rest), from which the C
// API's struct, JSON, stat lines and Prometheus export are generated too.
struct stats {
#define MVNF_X(n) uint64_t n = 0;
    MTCP_STATS_TCP_DROPS(MVNF_X)
    MTCP_STATS_TCP(MVNF_X)
#undef MVNF_X
};

// A socket: a connection slot or a listener, with a generation so a stale
// handle never reaches a reused slot.
struct handle {
    uint32_t index = ~0u;
    uint32_t gen = 0;
    bool valid() const { return index != ~0u; }
    friend bool operator==(const handle&, const handle&) = default;
};

namespace ev {
inline constexpr uint32_t readable = 1u << 0;   // data, FIN or a pending accept
inline constexpr uint32_t writable = 1u << 1;   // send ring has room
inline constexpr uint32_t connected = 1u << 2;  // handshake completed
inline constexpr uint32_t hangup = 1u << 3;     // peer sent FIN (read side done)
inline constexpr uint32_t error = 1u << 4;      // reset / timeout / refused
inline constexpr uint32_t closed = 1u << 5;     // fully closed (slot awaits close())
}  // namespace ev

struct event {
    handle h;
    uint32_t flags = 0;
};

struct four_tuple {
    ipv4_addr local_ip, remote_ip;
    uint16_t local_port = 0, remote_port = 0;
    friend bool operator==(const four_tuple&, const four_tuple&) = default;
};

// Where the engine's segments go: the IPv4 output in the stack, a link in
// tests. Payload comes as two pieces because the send ring may wrap; use
// tcp_repr::emit to write header, payload and checksum in one pass.
inline constexpr uint8_t ip_ecn_mask = 0x03;
inline constexpr uint8_t ip_may_fragment = 0x80;

class segment_sink {
public:
    virtual ~segment_sink() = default;
    // False when no TX buffer was free: nothing was sent, and the layer
    // holds the connection's output until its next poll() (back-pressure).
    // ip_ecn's low two bits are the IPv4 header's ECN field for it (RFC
    // 3168 5: 0 Not-ECT, 2 ECT(0)); ip_may_fragment set means send it
    // without DF (the path MTU is below the 576-octet floor, RFC 1191 7).
    virtual bool emit_segment(ipv4_addr src, ipv4_addr dst, const wire::tcp_repr& hdr, bytes p1,
                              bytes p2, uint8_t ip_ecn) = 0;
    // The peer at dst acknowledged new data: proof its link-layer address
    // works (the neighbour cache may skip re-confirming it).
    virtual void confirm_reachable(ipv4_addr /*dst*/, nanos /*now*/) {}
};

}  // namespace mvnf::tcp
