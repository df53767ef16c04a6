// Loss detection from RFC 8985 (RACK-TLP) on top of RFC 6675's DupThresh.
//
// Tail loss probe (section 7). When the last segments of a flight,
// or every ACK for them, are lost, nothing comes back to drive fast
// recovery and the sender would wait for the retransmission timer (200 ms
// at least). A probe after about two round trips of silence makes the peer
// answer: its ACK either shows that all arrived, or exposes the holes, which
// then go through SACK recovery (sack.cpp) instead of a timeout.
//
// Only with SACK (RFC 8985 7.2 condition 1). Without per-segment transmit
// times this stack applies RACK's rule (6.2) to one segment only, the
// probe: it is the most recent transmission, sent at least a PTO (two
// SRTT) after everything below it, so once it is SACKed every hole below
// it is lost by RACK's time test (its reordering window, a quarter of the
// RTT, is shorter than the PTO).
#include <algorithm>

#include "net/tcp/congestion/congestion.hpp"
#include "net/tcp/layer.hpp"

namespace mvnf::tcp {

namespace tcp_flag = wire::tcp_flag;

namespace {

// True when seg's first block is a D-SACK (RFC 2883 4) overlapping [l, r).
bool dsack_overlaps(const wire::tcp_repr& seg, seq32 l, seq32 r) {
    seq_range d;
    return dsack_block(seg, d) && d.left < r && l < d.right;
}

// A PTO shorter than this fires on a peer that was merely descheduled for a
// moment (two shared CPUs make that common), and a probe's timestamp must
// differ from the segment it repeats (timestamps tick in milliseconds, see
// tlp_on_ack). Linux's first TLP used the same floor.
constexpr nanos pto_floor = 10 * ms;

}  // namespace

// RFC 8985 7.2: a probe is scheduled only with SACK, an empty scoreboard,
// outside recovery (fast or RTO: no go-back-N resend pending) and with no
// probe already out. A closed window is the persist timer's business.
bool layer::probe_allowed(const tcb& c) const {
    return _cfg.tail_loss_probe && c.sack_ok && is_synchronized(c.st) && !c.in_recovery &&
           c.scoreboard.empty() && !c.tlp_out && c.retries == 0 && c.snd_nxt == c.snd_max &&
           c.flight() > 0 && c.snd_wnd > 0 && c.t_persist == no_deadline;
}

// RFC 8985 7.2 TLP_calc_PTO, armed after new data is sent or an ACK moves
// SND.UNA. PTO = 2 SRTT, plus the peer's worst-case delayed ACK when only
// one segment is out (its ACK may be held back); never later than the RTO,
// which the probe then replaces once.
void layer::arm_probe(tcb& c, nanos now) {
    if (!probe_allowed(c)) return;
    nanos pto = 1 * sec;
    if (c.have_rtt && _cfg.tlp_linux) {
        // Linux's tcp_schedule_loss_probe: 2 SRTT plus its minimum RTO for
        // a lone segment (a delayed ACK), else plus 2 ms.
        pto = 2 * c.srtt + (c.flight() <= c.mss ? _cfg.rto_min : 2 * ms);
    } else if (c.have_rtt) {
        pto = std::max(2 * c.srtt, pto_floor);
        if (c.flight() <= c.mss) pto += _cfg.max_ack_delay;
    }
    c.t_probe = now + pto;
    if (c.t_rexmt != no_deadline && c.t_probe > c.t_rexmt) c.t_probe = c.t_rexmt;
}

// RFC 8985 7.3: send one new segment if there is data and the peer's window
// takes it (cwnd does not bound a probe), else resend the highest-sequence
// segment. Then the RTO timer, not another PTO, covers the flight.
void layer::on_probe_timeout(uint32_t idx, nanos now) {
    tcb& c = _pool[idx];
    if (!probe_allowed(c)) return;
    const uint32_t cap = segment_cap(c);
    const seq32 data_end = c.buf_seq + uint32_t(c.snd.size());
    const uint32_t avail = data_end > c.snd_nxt ? data_end.since(c.snd_nxt) : 0;
    const seq32 wnd_edge = c.snd_una + c.snd_wnd;
    const uint32_t room = wnd_edge > c.snd_nxt ? wnd_edge.since(c.snd_nxt) : 0;
    uint8_t flags = tcp_flag::ack;
    seq32 s;
    uint32_t len;
    const bool retrans = avail == 0 || room == 0;
    if (!retrans) {
        s = c.snd_nxt;
        len = record_cap(c, s, std::min({avail, room, cap}));
        flags |= push_flag(c, s, len);
        if (c.fin_queued && s + len == data_end) flags |= tcp_flag::fin;
    } else {
        // The last segment sent: its data (within one segment) and the FIN if
        // it went out. A FIN alone when only the FIN is unacknowledged.
        const bool fin_sent = c.fin_queued && c.snd_max > data_end;
        const seq32 top = fin_sent ? data_end : c.snd_max;
        const seq32 low = seq32::max(c.snd_una, c.buf_seq);
        len = std::min(top > low ? top.since(low) : 0u, cap);
        s = top - len;
        for (uint8_t i = 0; i < c.eor_n; ++i) {  // within the last record (MSG_EOR)
            const seq32 e = c.eor[(c.eor_head + i) % tcb::max_records];
            if (s < e && e < top) len = top.since(e), s = e;
        }
        flags |= push_flag(c, s, len);
        if (fin_sent) flags |= tcp_flag::fin;
        if (len == 0 && !fin_sent) return;
    }
    if (!send_segment(c, flags, s, len, now)) return;  // no TX buffer: the RTO stays armed
    ++_stats.tlp_probes;
    if (retrans) {
        ++_stats.retransmits;
        c.timing = false;  // Karn
        // Its D-SACK, if one comes, must not count for an open undo episode.
        undo_note_retransmit(c, s, len, now);
    } else {
        if (!c.timing && len > 0) c.timing = true, c.rtt_seq = s + len, c.rtt_start = now;
        c.snd_nxt = s + len + ((flags & tcp_flag::fin) ? 1 : 0);
        c.snd_max = seq32::max(c.snd_max, c.snd_nxt);
    }
    c.tlp_out = true;
    c.tlp_retrans = retrans;
    c.tlp_start = s;
    c.tlp_end = c.snd_max;  // TLP.end_seq = SND.NXT
    c.tlp_tsval = tsval(c, now);
    arm_rexmt(c, now);
}

// RFC 8985 7.4: what the ACKs say about the probe.
// - They cover it (SEG.ACK >= TLP.end_seq). A probe of new data found no
//   loss. A resent segment that arrived twice (a D-SACK for it, or an ACK
//   echoing a timestamp older than the probe's: RFC 7323 4.3 keeps TS.Recent
//   for a duplicate, as RFC 3522 uses) was not needed either. Otherwise the
//   probe itself repaired a lost segment, and the congestion response that
//   fast recovery would have made is made now (7.4.2).
// - The probe is SACKed with data missing below it: those holes are lost
//   (see the top of this file), and the caller starts SACK recovery.
bool layer::tlp_on_ack(tcb& c, const wire::tcp_repr& seg, nanos now) {
    if (!c.tlp_out) return false;
    if (seg.ack >= c.tlp_end) {
        c.tlp_out = false;
        if (!c.tlp_retrans || c.in_recovery) return false;
        const bool dup = dsack_overlaps(seg, c.tlp_start, c.tlp_end) ||
                         (c.ts_ok && seg.opts.has_timestamps &&
                          int32_t(seg.opts.tsecr - c.tlp_tsval) < 0);
        if (dup) return false;
        ++_stats.tlp_recoveries;
        cc_on_loss(c, now);
        c.cwnd = std::max<uint32_t>(c.ssthresh, c.mss);
        return false;
    }
    if (c.snd_una < c.tlp_start && c.scoreboard.contains(c.tlp_start)) {
        c.tlp_out = false;
        c.lost_marked = true;
        c.lost_below = c.tlp_start;
        ++_stats.tlp_recoveries;
        return true;
    }
    return false;
}

// RACK's reordering window (RFC 8985 6.2/6.3) for holes DupThresh cannot
// call lost: one or two segments SACKed above a hole and nothing more to
// send (an application-limited tail) leave no third DupAck to come. RACK
// calls a segment lost once a segment sent after it is delivered and
// RTT + reo_wnd has passed since it was sent. Without per-segment transmit
// times: a hole that was never resent was sent before every SACKed segment
// above it, so when the SACK for those arrived its RTT had already passed,
// and reo_wnd (SRTT / 4 here; RFC 8985 uses min_RTT / 4) after that ACK it
// is lost. After no timeout (nothing resent). Outside recovery the timer
// starts recovery; in recovery (RFC 8985 keeps RACK on) it applies only
// once reordering has been seen: before that reo_wnd is 0 there and the
// holes are lost at once (rack_mark_lost_in_recovery, sack.cpp).
bool layer::reorder_allowed(const tcb& c) const {
    if (!_cfg.reorder_timer || !c.sack_ok || !is_synchronized(c.st) || c.scoreboard.empty() ||
        c.retries != 0 || c.snd_nxt != c.snd_max)
        return false;
    if (c.in_recovery) return c.reord_seen;
    return c.scoreboard[0].left > c.snd_una && c.snd_una >= c.recover;
}

// On an ACK that SACKed new octets: holes below the highest SACKed block are
// due reo_wnd from now, unless an earlier arming already covers them.
void layer::arm_reorder(tcb& c, nanos now) {
    if (c.t_reo != no_deadline || !reorder_allowed(c)) return;
    const nanos reo_wnd = std::max(c.have_rtt ? c.srtt / 4 : 0, nanos(1 * ms));
    c.t_reo = now + reo_wnd;
    c.reo_below = c.scoreboard[c.scoreboard.count() - 1].left;
}

void layer::on_reorder_timeout(uint32_t idx, nanos now) {
    tcb& c = _pool[idx];
    if (!reorder_allowed(c) || !(c.snd_una < c.reo_below)) return;
    if (!c.lost_marked || c.lost_below < c.reo_below) {
        c.lost_marked = true;
        c.lost_below = c.reo_below;
    }
    if (!c.in_recovery) {
        ++_stats.reorder_recoveries;
        enter_recovery(c, now);
    }
    output(idx, now);  // NextSeg: the other holes below reo_below
}

}  // namespace mvnf::tcp
