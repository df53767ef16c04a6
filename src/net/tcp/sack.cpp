// SACK: generating blocks for the peer from our out-of-order queue (RFC 2018
// section 4) and using the peer's blocks for loss recovery (RFC 6675: the
// scoreboard, IsLost, SetPipe, NextSeg). Called from output.cpp and input.cpp.
#include <algorithm>

#include "net/tcp/layer.hpp"

namespace mvnf::tcp {

bool dsack_block(const wire::tcp_repr& seg, seq_range& out) {
    if (seg.opts.num_sack == 0) return false;
    const seq32 l(seg.opts.sack[0].left), r(seg.opts.sack[0].right);
    if (!(l < r)) return false;
    bool dup = r <= seg.ack;
    if (!dup && seg.opts.num_sack > 1)
        dup = seq32(seg.opts.sack[1].left) <= l && r <= seq32(seg.opts.sack[1].right);
    if (dup) out = {l, r};
    return dup;
}

// RFC 2018 4: the first block holds the most recently received segment;
// the others follow most recent first ("repeating the most recently
// reported SACK blocks"), so a peer that misses some ACKs still learns of
// every block within a few (the reason for the order). Blocks the recency
// list no longer names (it keeps 8) follow, highest first. At most 3 blocks
// fit beside timestamps, 4 without. A pending D-SACK goes before them all,
// followed by the queued block that holds it (RFC 2883 4, rules 3 and 4).
void layer::sack_fill(const tcb& c, wire::tcp_options& o) const {
    o.num_sack = 0;
    const size_t n = c.ooo.count();
    uint32_t used = 0;  // bit i: c.ooo[i] already reported (max_capacity 16)
    auto put = [&](size_t i) {
        used |= 1u << i;
        o.sack[o.num_sack++] = {c.ooo[i].left.raw(), c.ooo[i].right.raw()};
    };
    if (c.dsack_pending) {
        o.sack[o.num_sack++] = {c.dsack.left.raw(), c.dsack.right.raw()};
        for (size_t i = 0; i < n; ++i) {
            if (c.ooo[i].left <= c.dsack.left && c.dsack.right <= c.ooo[i].right) {
                put(i);
                break;
            }
        }
    }
    const size_t max = o.has_timestamps ? 3 : 4;
    for (size_t k = 0; k < c.ooo_recent_n && o.num_sack < max; ++k) {
        for (size_t i = 0; i < n; ++i) {
            if (c.ooo_recent[k].in_window(c.ooo[i].left, c.ooo[i].len())) {
                if (!(used & (1u << i))) put(i);
                break;
            }
        }
    }
    for (size_t i = n; i-- > 0 && o.num_sack < max;)
        if (!(used & (1u << i))) put(i);
}

// An out-of-order segment starting at s was queued: its block becomes the
// most recent. Entries naming the same block (it may have merged with
// others) go, so the list holds one entry per block.
void layer::note_ooo_arrival(tcb& c, seq32 s) {
    size_t blk = c.ooo.count();
    for (size_t i = 0; i < c.ooo.count(); ++i)
        if (s.in_window(c.ooo[i].left, c.ooo[i].len())) blk = i;
    size_t kept = 0;
    std::array<seq32, 8> next{};
    next[kept++] = s;
    for (size_t k = 0; k < c.ooo_recent_n && kept < next.size(); ++k) {
        const seq32 p = c.ooo_recent[k];
        const bool same = blk < c.ooo.count() && p.in_window(c.ooo[blk].left, c.ooo[blk].len());
        if (!same && p >= c.rcv_nxt) next[kept++] = p;
    }
    c.ooo_recent = next;
    c.ooo_recent_n = uint8_t(kept);
}

// [l, r) arrived twice, in the segment being processed. A repeat means the
// sender resent something it thought lost, so it is ACKed at once, D-SACK or
// not. RFC 2883 4 rules 1-2: only the latest segment's duplicate is
// reported, and only once.
void layer::note_duplicate(tcb& c, seq32 l, seq32 r) {
    if (!(l < r)) return;
    c.ack_now = true;
    if (!_cfg.dsack || !c.sack_ok) return;
    c.dsack_pending = true;
    c.dsack = {l, r};
}

// Merge the peer's blocks into the scoreboard, ignoring anything outside
// [SND.UNA, SND.MAX] (stale, D-SACK or bogus blocks, RFC 2018 / RFC 6675 5).
// Returns how many octets were SACKed for the first time: RFC 6675 2 counts
// an ACK as a DupAck only when it brings such octets.
uint32_t layer::sack_update(tcb& c, const wire::tcp_repr& seg, nanos now) {
    const uint32_t before = c.scoreboard.total();
    if (seq_range d; dsack_block(seg, d)) {
        ++_stats.dsacks_received;
        undo_on_dsack(c, d, now);  // one resend fewer left unexplained (undo.cpp)
    }
    for (size_t i = 0; i < seg.opts.num_sack; ++i) {
        seq32 l(seg.opts.sack[i].left), r(seg.opts.sack[i].right);
        if (!(l < r) || r > c.snd_max || r <= c.snd_una) continue;
        l = seq32::max(l, c.snd_una);
        // RFC 8985 6.2 step 2: octets never resent (above HighRxt), newly
        // SACKed below octets SACKed before, were delivered out of order.
        const bool below_known = !c.scoreboard.empty() && r <= c.scoreboard.highest();
        const uint32_t had = c.scoreboard.total();
        (void)c.scoreboard.add(l, r);  // full scoreboard: the block is just not used
        if (below_known && c.high_rxt <= l && c.scoreboard.total() > had) c.reord_seen = true;
    }
    c.scoreboard.trim_below(c.snd_una);
    const uint32_t after = c.scoreboard.total();
    return after > before ? after - before : 0;
}

// RFC 6675 4 IsLost: DupThresh (3) discontiguous SACKed ranges above s, or
// more than (DupThresh - 1) * SMSS SACKed bytes above it.
// Holes that RACK's time rule has marked lost are lost too (rack_tlp.cpp).
bool layer::sack_is_lost(const tcb& c, seq32 s) const {
    if (c.lost_marked && s < c.lost_below) return true;
    size_t ranges = 0;
    for (size_t i = 0; i < c.scoreboard.count(); ++i) ranges += c.scoreboard[i].left > s;
    return ranges >= 3 || c.scoreboard.bytes_above(s + 1) > 2u * c.mss;
}

// RFC 6675 4 SetPipe, per hole rather than per octet: a hole counts unless it
// is lost; its retransmitted part (below HighRxt) counts again.
uint32_t layer::sack_pipe(const tcb& c) const {
    uint32_t pipe = 0;
    seq32 cur = c.snd_una;
    for (size_t i = 0; i <= c.scoreboard.count(); ++i) {
        const seq32 end = i < c.scoreboard.count() ? c.scoreboard[i].left : c.snd_nxt;
        if (cur < end) {
            const uint32_t len = end.since(cur);
            if (i == c.scoreboard.count() || !sack_is_lost(c, cur)) {
                pipe += len;
            } else if (c.high_rxt > cur) {
                pipe += std::min(len, seq32::min(c.high_rxt, end).since(cur));
            }
        }
        if (i < c.scoreboard.count()) cur = seq32::max(cur, c.scoreboard[i].right);
    }
    return pipe;
}

// RFC 6675 4 NextSeg rule 1: the first lost, unSACKed octets above HighRxt
// and below the highest SACKed octet. With lost_only false, rule 3: the
// same octets whether IsLost() holds or not.
bool layer::sack_next_seg(const tcb& c, seq32& s, uint32_t& len, bool lost_only) const {
    seq32 cur = c.snd_una;
    for (size_t i = 0; i < c.scoreboard.count(); ++i) {
        const seq32 end = c.scoreboard[i].left;
        const seq32 start = seq32::max(cur, c.high_rxt);
        if (start < end && (!lost_only || sack_is_lost(c, start))) {
            s = start;
            len = end.since(start);
            return true;
        }
        cur = seq32::max(cur, c.scoreboard[i].right);
    }
    return false;
}

// RFC 6675 4 NextSeg rules 3 and 4, run by output() once rule 1 (holes
// judged lost) and rule 2 (new data) have nothing more and the pipe still
// has room. Rule 3 resends holes below the highest SACKed octet that are
// not judged lost yet; rule 4 resends, once per recovery, the segment
// holding the highest outstanding unSACKed octet, so a tail whose ACKs
// were lost is repaired without waiting for the RTO. HighRxt is not moved
// by rule 4 (the RFC: "HighRxt MUST NOT be updated"), and octets this
// recovery already resent are not resent again by it.
void layer::sack_rules_3_4(uint32_t idx, uint32_t cap, nanos now) {
    tcb& c = _pool[idx];
    const seq32 data_end = c.buf_seq + uint32_t(c.snd.size());
    // Rule 2 still applies while unsent data fits the peer's window (it
    // waits for cwnd or Nagle, not for these rules).
    if (data_end > c.snd_nxt && c.snd_una + c.snd_wnd > c.snd_nxt) return;
    seq32 s;
    uint32_t len;
    while (sack_pipe(c) + cap <= c.cwnd && sack_next_seg(c, s, len, false)) {
        len = record_cap(c, s, std::min(len, cap));
        if (!send_segment(c, wire::tcp_flag::ack | push_flag(c, s, len), s, len, now)) return;
        c.high_rxt = s + len;
        undo_note_retransmit(c, s, len, now);
        ++_stats.retransmits;
    }
    if (!_cfg.rescue_retransmit || sack_pipe(c) + cap > c.cwnd) return;
    if (c.rescue_set && !(c.snd_una > c.rescue_rxt)) return;  // one per recovery
    // The highest outstanding unSACKed data octet: below the top of the
    // data sent, under any SACKed block that reaches it.
    const bool fin_sent = c.fin_queued && c.snd_max > data_end;
    seq32 top = fin_sent ? data_end : c.snd_max;
    for (size_t i = c.scoreboard.count(); i-- > 0;) {
        if (c.scoreboard[i].left < top && top <= c.scoreboard[i].right) top = c.scoreboard[i].left;
    }
    // Everything outstanding is SACKed, or this recovery already resent the
    // top (rule 1 or 3 in this very pass, say): a second copy now would
    // only duplicate it (a deliberate narrowing of the rule's letter).
    if (!(seq32::max(c.snd_una, c.high_rxt) < top)) return;
    // The unSACKed run ending at top, at most one segment of it.
    seq32 low = seq32::max(c.snd_una, c.high_rxt);
    for (size_t i = 0; i < c.scoreboard.count(); ++i)
        if (c.scoreboard[i].right <= top) low = seq32::max(low, c.scoreboard[i].right);
    len = std::min(top.since(low), cap);
    s = top - len;
    // Within one record (MSG_EOR): from the start of the record holding
    // the top octet, if that is later.
    for (uint8_t i = 0; i < c.eor_n; ++i) {
        const seq32 e = c.eor[(c.eor_head + i) % tcb::max_records];
        if (s < e && e < top) len = top.since(e), s = e;
    }
    uint8_t flags = wire::tcp_flag::ack | push_flag(c, s, len);
    if (fin_sent && top == data_end) flags |= wire::tcp_flag::fin;
    if (!send_segment(c, flags, s, len, now)) return;
    c.rescue_set = true;
    c.rescue_rxt = c.recover;  // RescueRxt = RecoveryPoint
    c.timing = false;          // Karn
    undo_note_retransmit(c, s, len, now);
    ++_stats.retransmits;
    ++_stats.rescue_retransmits;
}

// RFC 8985 6.2 step 4: with no reordering seen, RACK's reordering window
// is 0 in recovery, so every hole sent before a SACKed segment is lost as
// soon as the SACK arrives. Without per-segment transmit times: a hole
// below the highest SACKed block that was not resent (above HighRxt) was
// sent before that block's segment was. Resent holes are judged by the
// lost-retransmission check in process_ack.
void layer::rack_mark_lost_in_recovery(tcb& c) {
    if (!_cfg.reorder_timer || !c.in_recovery || !c.sack_ok || c.reord_seen ||
        c.scoreboard.empty())
        return;
    const seq32 below = c.scoreboard[c.scoreboard.count() - 1].left;
    if (!(c.snd_una < below)) return;
    if (!c.lost_marked || c.lost_below < below) {
        c.lost_marked = true;
        c.lost_below = below;
    }
}

}  // namespace mvnf::tcp
