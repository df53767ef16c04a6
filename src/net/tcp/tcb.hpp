// The connection control block (RFC 9293 section 3.3.1): one per pool slot in
// a tcp::layer. Plain data; input.cpp, output.cpp, timers.cpp, sack.cpp and
// congestion/ act on it. Rings point into the layer's preallocated arena.
#pragma once

#include <algorithm>

#include "net/tcp/ranges.hpp"
#include "net/tcp/ring.hpp"
#include "net/tcp/types.hpp"

namespace mvnf::tcp {

inline constexpr uint32_t npos = ~0u;

struct cubic_state {
    double w_max = 0;        // segments, at the last congestion event (RFC 9438 4.2)
    double k = 0;            // seconds to reach w_max again (4.2 eq. 2)
    double w_est = 0;        // Reno-friendly estimate, segments (4.3)
    double cwnd_prior = 0;
    nanos epoch_start = 0;   // 0 = no epoch yet
    bool epoch_valid = false;
};

struct tcb {
    // ---- slot bookkeeping (layer.cpp)
    uint32_t gen = 0;
    bool in_use = false;
    uint32_t hash_next = npos;
    nanos deadline = no_deadline;  // min of the timers below (the wheel timer fires at or before it)
    uint32_t listener = npos;      // listener that spawned us, until accept()
    bool in_accept_queue = false;
    bool user_closed = false;      // close() called: the slot frees itself when done
    uint32_t events = 0;           // readiness edges not yet posted

    four_tuple t;
    state st = state::closed;
    error err = error::none;

    // ---- negotiated (RFC 9293 3.7.1, RFC 7323 2.2/3.2, RFC 2018 2)
    uint16_t mss = 536;          // effective send MSS (RFC 9293 3.7.1: 536 when absent)
    bool ws_ok = false, ts_ok = false, sack_ok = false;
    bool pmtu_floor = false;  // a router reported an MTU below 576: no DF (RFC 1191 7)
    uint8_t snd_shift = 0, rcv_shift = 0;
    // ECN (RFC 3168, ecn.cpp): asked for in our SYN; agreed; ECE owed on our
    // ACKs until the peer's CWR; CWR owed on our next new data; no new
    // reduction until SND.UNA reaches ecn_recover (once per window).
    bool ecn_asked = false, ecn_ok = false, ece_out = false, cwr_out = false;
    seq32 ecn_recover;
    bool nodelay = false, keepalive = false;
    congestion_algo cc = congestion_algo::reno;

    // ---- send sequence space (RFC 9293 3.3.1)
    seq32 iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2;
    uint32_t snd_wnd = 0, max_snd_wnd = 0;
    seq32 buf_seq;             // sequence number of snd ring byte 0
    bool fin_queued = false;   // user shut the write side: FIN follows the data
    ring snd;
    // What the application said of its writes (output.cpp cuts segments
    // and places PSH by it; Linux's semantics). push_end: the end of the
    // latest write made without MSG_MORE (when push_set). eor: the ends of
    // records written with MSG_EOR not yet acknowledged, oldest first (a
    // segment never spans one). cork: TCP_CORK holds a partial last
    // segment; hold_tail does so for the output run of one MSG_MORE write
    // (more_pending: the latest write had MSG_MORE, for a deferred push);
    // t_cork sends what either held once nothing is in flight for a while.
    bool cork = false, hold_tail = false, more_pending = false, push_set = false;
    seq32 push_end;
    static constexpr uint8_t max_records = 32;
    std::array<seq32, max_records> eor{};
    uint8_t eor_head = 0, eor_n = 0;
    // TCP_NOTSENT_LOWAT: writable only while fewer octets than this wait
    // unsent (0: the layer's config).
    uint32_t notsent_lowat = 0;

    // ---- receive sequence space
    seq32 irs, rcv_nxt, rcv_adv;  // rcv_adv: right edge we advertised
    ring rcv;
    range_set ooo;                // parked out-of-order data beyond rcv_nxt
    // Where recent out-of-order segments began, most recent first, one per
    // queued block: the order SACK blocks are reported in (RFC 2018 4).
    std::array<seq32, 8> ooo_recent{};
    uint8_t ooo_recent_n = 0;
    // RFC 2883: data the latest segment brought twice, reported once as the
    // first block of the next ACK (sack.cpp).
    bool dsack_pending = false;
    seq_range dsack{};
    bool fin_pending = false;     // FIN seen out of order at fin_seq
    seq32 fin_seq;
    bool ack_now = false;
    uint32_t unacked_bytes = 0;   // in-order bytes received but not yet ACKed
    uint32_t rcv_mss = 536;       // largest segment seen: "full-sized" for delayed ACK
    uint8_t quickacks = 0;        // segments still ACKed at once (config::quickacks)
    bool data_seen = false;       // any in-order data received yet
    nanos last_data_rx = 0;       // when in-order data last arrived
    nanos challenge_ok_at = 0;    // no challenge ACK before (config::challenge_ack_interval)
    nanos neighbor_confirmed = 0; // last reachability confirmation sent down (ACK progress)
    // TCP_USER_TIMEOUT (RFC 5482; Linux's semantics): 0 = off. stall_since
    // is when the oldest outstanding data (or the zero window it waits
    // behind) last saw progress; 0 when nothing is outstanding.
    nanos user_timeout = 0, stall_since = 0;

    // ---- timestamps (RFC 7323 4.3, 5.3)
    uint32_t ts_recent = 0;
    nanos ts_recent_time = 0;
    uint32_t ts_offset = 0;
    seq32 last_ack_sent;

    // ---- RTT / RTO (RFC 6298)
    nanos srtt = 0, rttvar = 0, rto = 0;
    bool have_rtt = false;
    bool timing = false;          // Karn: one un-retransmitted segment timed
    seq32 rtt_seq;
    nanos rtt_start = 0;
    uint8_t retries = 0;          // consecutive RTO expiries (RFC 1122 R2)

    // ---- timers: absolute deadlines, no_deadline when off (timers.cpp)
    nanos t_rexmt = no_deadline, t_persist = no_deadline, t_delack = no_deadline,
          t_keep = no_deadline, t_wait = no_deadline, t_probe = no_deadline,
          t_reo = no_deadline, t_cork = no_deadline;
    nanos last_rx = 0;            // for keep-alive and idle timeout
    uint8_t persist_shift = 0, keep_sent = 0;
    // ---- per-socket options set through the API (0: the layer's config)
    nanos keep_idle = 0, keep_intvl = 0;  // TCP_KEEPIDLE / TCP_KEEPINTVL
    uint8_t keep_probes = 0;              // TCP_KEEPCNT
    uint16_t user_mss = 0;                // TCP_MAXSEG cap on the send MSS
    uint32_t snd_limit = 0, rcv_limit = 0;  // SO_SNDBUF / SO_RCVBUF (<= ring capacity)
    // Send ring room under the SO_SNDBUF limit.
    size_t snd_room() const {
        const size_t cap = snd_limit ? std::min<size_t>(snd_limit, snd.capacity()) : snd.capacity();
        return snd.size() >= cap ? 0 : cap - snd.size();
    }

    // ---- congestion (RFC 5681, 6582, 6675, 9438)
    uint32_t cwnd = 0, ssthresh = 0, bytes_acked = 0;
    // The largest flight sent since SND.UNA passed flight_seq (Linux's
    // max_packets_out / cwnd_usage_seq, in octets): whether cwnd limits
    // the sender (congestion.hpp, cc_on_ack with ss_limit 0).
    uint32_t max_flight = 0;
    seq32 flight_seq;
    uint8_t dupacks = 0;
    bool in_recovery = false;
    seq32 recover;                // RFC 6582 "recover"
    seq32 high_rxt;               // RFC 6675 HighRxt
    // RFC 6675 4 NextSeg rule 4: RescueRxt, one rescue retransmission per
    // recovery (rescue_set: defined in this episode).
    bool rescue_set = false;
    seq32 rescue_rxt;
    // RFC 8985 6.2 RACK.reord: the peer delivered a segment we never
    // resent out of order (below data it had SACKed). Until then RACK's
    // reordering window in recovery is 0 (6.2 step 4).
    bool reord_seen = false;
    range_set scoreboard;         // SACKed ranges above snd_una
    cubic_state cubic;
    // Spurious fast retransmit detection (RFC 3522 Eifel, with timestamps):
    // the TSval our first retransmission carried, and the congestion state
    // to restore (RFC 4015) if the ACK for it echoes an older timestamp.
    bool undo_armed = false;
    // The same for a retransmission timeout (RFC 4015 3.2, SPUR_TO): armed
    // at the first timeout of an episode, judged by the next ACK of new data.
    bool rto_undo_armed = false;
    uint32_t undo_tsval = 0;
    // D-SACK detection (RFC 3708, undo.cpp): retransmissions of the episode
    // not yet reported as duplicates, the range they covered, and until when
    // a D-SACK for them may still come.
    bool dsack_undo = false;
    uint32_t undo_retrans = 0;
    seq32 undo_lo, undo_hi;
    nanos undo_deadline = 0;
    uint32_t prior_cwnd = 0, prior_ssthresh = 0;
    cubic_state prior_cubic;
    // Tail loss probe (RFC 8985 7, rack_tlp.cpp): the probe in flight, if any
    // (TLP.end_seq is tlp_end; tlp_start is where the probe began), and
    // whether it was a retransmission (TLP.is_retrans).
    bool tlp_out = false, tlp_retrans = false;
    seq32 tlp_start, tlp_end;
    uint32_t tlp_tsval = 0;       // the TSval the probe carried
    // While lost_marked, holes below lost_below are lost whatever the
    // scoreboard says, by RACK's time rule (RFC 8985 6.2): set when the
    // probe (the most recent transmission) is SACKed, or when the reordering
    // window below a SACKed block ends (t_reo); cleared once SND.UNA reaches
    // it, or by a timeout.
    bool lost_marked = false;
    seq32 lost_below;
    // The segment at SND.UNA was retransmitted in this recovery when SND.MAX
    // was una_fence: once more than DupThresh - 1 segments' worth sent after
    // it is SACKed and SND.UNA has not moved, that retransmission was lost.
    bool una_rxt = false;
    seq32 una_fence;
    // RACK's reordering window (RFC 8985 6.3) for holes under DupThresh:
    // t_reo is when the holes below reo_below (the highest SACKed block when
    // the timer was armed) are lost if still missing.
    seq32 reo_below;

    uint32_t flight() const { return snd_max.since(snd_una); }
    // Bytes of data in the send ring not yet sent.
    uint32_t unsent() const {
        const uint32_t sent = snd_nxt > buf_seq ? snd_nxt.since(buf_seq) : 0;
        return sent >= snd.size() ? 0 : uint32_t(snd.size()) - sent;
    }
};

}  // namespace mvnf::tcp
