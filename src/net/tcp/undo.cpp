// Undoing a congestion response that proves unneeded: a fast retransmit or
// a timeout whose "lost" segments had arrived after all (reordered, or the
// path or the peer stalled for a moment). Two detectors:
//
// - Eifel (RFC 3522), with timestamps: the first ACK of new data after the
//   episode's first retransmission echoes a timestamp older than the one
//   that retransmission carried, so it was sent for an original.
// - D-SACK (RFC 3708 section 3.2), with SACK and without timestamps too:
//   every retransmission of the episode comes back reported as a duplicate
//   (RFC 2883), so every original arrived.
//
// An episode begins at a fast retransmit, or at a first timeout when none is
// open; it keeps the congestion state from before it (the "prior" fields).
// The response is RFC 4015's: the state comes back, without a burst.
#include <algorithm>

#include "net/tcp/layer.hpp"

namespace mvnf::tcp {

void layer::undo_begin(tcb& c, nanos now) {
    c.undo_tsval = tsval(c, now);  // what the first retransmission carries
    c.prior_cwnd = c.cwnd;
    c.prior_ssthresh = c.ssthresh;
    c.prior_cubic = c.cubic;
    c.dsack_undo = c.sack_ok;
    c.undo_retrans = 0;
    c.undo_lo = c.undo_hi = c.snd_una;
    c.undo_deadline = now;
}

bool layer::undo_open(const tcb& c, nanos now) const {
    return c.undo_armed || c.rto_undo_armed || (c.dsack_undo && now <= c.undo_deadline);
}

// Every retransmission of an episode must come back as a D-SACK for the
// D-SACK detector to call the episode spurious. Its answer is due within an
// RTO (or the timer would have fired), which bounds how long D-SACKs count.
void layer::undo_note_retransmit(tcb& c, seq32 s, uint32_t len, nanos now) {
    if (!c.dsack_undo || len == 0) return;
    ++c.undo_retrans;
    c.undo_hi = seq32::max(c.undo_hi, s + len);
    c.undo_deadline = now + c.rto;
}

// RFC 4015 4: the state before the episode returns, but cwnd only as far as
// what is in flight plus an initial window (so no burst), with ssthresh
// high enough that slow start leads the rest of the way back. Sending
// resumes after SND.MAX (step 4): the data in flight had arrived. Fast
// retransmit is allowed again from the new SND.UNA on.
void layer::undo_reduction(tcb& c, seq32 ack, uint32_t acked) {
    const uint32_t iw = uint32_t(_cfg.initial_window_segments) * c.mss;
    const uint32_t flight = c.snd_max > ack ? c.snd_max.since(ack) : 0;
    c.cwnd = std::max(c.cwnd, std::min(c.prior_cwnd, flight + std::min(acked, iw)));
    c.ssthresh = std::max({c.ssthresh, c.prior_ssthresh, c.prior_cwnd});
    c.cubic = c.prior_cubic;
    c.snd_nxt = seq32::max(c.snd_nxt, c.snd_max);
    c.in_recovery = false;
    c.dupacks = 0;
    c.recover = ack;
    if (c.high_rxt < ack) c.high_rxt = ack;
    c.undo_armed = c.rto_undo_armed = c.dsack_undo = false;
}

// Eifel on an ACK of new data (before SND.UNA moves). True when it undid a
// timeout: the ACK then does not grow cwnd a second time.
bool layer::undo_on_ack(tcb& c, const wire::tcp_repr& seg, uint32_t acked) {
    const bool older = seg.opts.has_timestamps && int32_t(seg.opts.tsecr - c.undo_tsval) < 0;
    if (c.undo_armed && c.in_recovery) {
        // RFC 3522 3.2: the first ACK covering the fast retransmission.
        c.undo_armed = false;
        if (older) {
            // As the old response: cwnd as before, at once (a reordering
            // recovery is short: what it held back is still in the window).
            const uint32_t cwnd = c.cwnd;
            undo_reduction(c, seg.ack, acked);
            c.cwnd = std::max(cwnd, c.prior_cwnd);
            ++_stats.spurious_recoveries;
            return false;
        }
    }
    if (!c.rto_undo_armed) return false;
    c.rto_undo_armed = false;
    if (!older) return false;
    undo_reduction(c, seg.ack, acked);
    ++_stats.spurious_rtos;
    return true;
}

// A D-SACK block d from the peer (RFC 2883): one more retransmission of the
// open episode was not needed; when none is left, none was.
void layer::undo_on_dsack(tcb& c, seq_range d, nanos now) {
    if (!c.dsack_undo || c.undo_retrans == 0) return;
    if (now > c.undo_deadline) {
        c.dsack_undo = false;
        return;
    }
    if (d.left < c.undo_lo || c.undo_hi < d.right) return;
    const uint32_t segs = std::max<uint32_t>(1, (d.len() + c.mss - 1) / c.mss);
    c.undo_retrans -= std::min(c.undo_retrans, segs);
    if (c.undo_retrans > 0) return;
    undo_reduction(c, c.snd_una, 0);
    ++_stats.dsack_undos;
}

}  // namespace mvnf::tcp
