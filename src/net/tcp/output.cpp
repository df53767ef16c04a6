// Segment output: what to send now (RFC 9293 3.8.6 windows, Nagle RFC 896 /
// RFC 1122 4.2.3.4, sender and receiver silly-window avoidance 3.8.6.2), how a
// segment is built (options per RFC 7323 / 2018), ACKs, RSTs and cookie
// SYN-ACKs. Called from input.cpp, timers.cpp and the API in layer.cpp.
#include <algorithm>

#include "net/tcp/congestion/congestion.hpp"
#include "net/tcp/layer.hpp"

namespace mvnf::tcp {

using namespace wire;

uint32_t layer::receive_window(const tcb& c) const {
    // Buffers given back (buffers.cpp): nothing will be read, but the window
    // stays open so the peer's FIN can still come (our own zero-window rule
    // would hold it back forever); data the peer still sends to a closed
    // socket is answered with a reset (input.cpp), not queued.
    if (c.rcv.capacity() == 0) return _cfg.rcvbuf;
    if (c.rcv_limit && c.rcv_limit < c.rcv.capacity())  // SO_RCVBUF
        return c.rcv.size() >= c.rcv_limit ? 0 : uint32_t(c.rcv_limit - c.rcv.size());
    return uint32_t(c.rcv.free());
}

// RFC 9293 3.8.6.2.2: move the right edge only by at least min(RCV.BUFF/2, MSS);
// never shrink a window already offered (3.8.6: SHOULD NOT shrink).
uint16_t layer::window_field(tcb& c) {
    const uint32_t free = receive_window(c);
    const uint32_t offered = c.rcv_adv > c.rcv_nxt ? c.rcv_adv.since(c.rcv_nxt) : 0;
    const uint32_t step = std::min<uint32_t>(uint32_t(c.rcv.capacity() / 2), _cfg.mss);
    // Offered space is always still free (data arriving in it uses it up), so
    // keeping `offered` never promises space we lack.
    const uint32_t win = free >= offered + step ? free : std::min(offered, free);
    const uint32_t field = std::min<uint32_t>(win >> c.rcv_shift, 65535);
    const seq32 edge = c.rcv_nxt + (field << c.rcv_shift);
    if (edge > c.rcv_adv) c.rcv_adv = edge;
    return uint16_t(field);
}

// Compared after the cap the header imposes (16 bits, << the scale: RFC
// 7323 2.3): without window scaling a receive ring above 64 KiB always has
// "more" room than the field can say, and an update that repeats the
// advertised edge is a duplicate ACK to the peer (three reads would make
// three, a spurious fast retransmit, RFC 5681 3.2). An update of its own
// (RFC 9293 3.8.6.2.2 moves the edge but does not ask for one) goes only
// when the window at least doubles, as Linux's tcp_cleanup_rbuf: a peer
// that still has half of what we can offer is not held up, and the next
// ACK carries the new edge anyway; one that was stopped (a zero or small
// window) learns at once.
bool layer::window_update_due(const tcb& c) const {
    const uint32_t offered = c.rcv_adv > c.rcv_nxt ? c.rcv_adv.since(c.rcv_nxt) : 0;
    const uint32_t step = std::min<uint32_t>(uint32_t(c.rcv.capacity() / 2), _cfg.mss);
    const uint32_t can_say = std::min<uint32_t>(receive_window(c) >> c.rcv_shift, 65535)
                             << c.rcv_shift;
    return can_say >= offered + step && uint64_t(can_say) >= 2 * uint64_t(offered);
}

void layer::after_recv(tcb& c, nanos now) {
    if (can_receive_data(c.st) && window_update_due(c)) send_ack(c, now);
}

bool layer::send_segment(tcb& c, uint8_t flags, seq32 seq, uint32_t len, nanos now) {
    tcp_repr h;
    h.src_port = c.t.local_port;
    h.dst_port = c.t.remote_port;
    h.seq = seq;
    const uint8_t ip_ecn = uint8_t(ecn_outgoing(c, flags, seq, len) |  // ECE/CWR flags too (ecn.cpp)
                                   (c.pmtu_floor ? ip_may_fragment : 0));
    h.flags = flags;
    const bool syn = flags & tcp_flag::syn;
    if (flags & tcp_flag::ack) h.ack = c.rcv_nxt;
    if (syn) {
        // RFC 7323 2.2: the window field of a SYN is never scaled.
        h.window = uint16_t(std::min<uint32_t>(receive_window(c), 65535));
        c.rcv_adv = c.rcv_nxt + h.window;
        h.opts.has_mss = true;
        h.opts.mss = advertised_mss(c.user_mss);
        // In a SYN-ACK offer only what the peer offered (RFC 7323 1.3, RFC 2018 2).
        if (c.ws_ok) h.opts.has_wscale = true, h.opts.wscale = c.rcv_shift;
        h.opts.sack_permitted = c.sack_ok;
    } else {
        h.window = window_field(c);
    }
    if (c.ts_ok) {
        h.opts.has_timestamps = true;
        h.opts.tsval = tsval(c, now);
        h.opts.tsecr = (flags & tcp_flag::ack) ? c.ts_recent : 0;
    }
    // SACK blocks ride on every ACK but a reset's (nothing will act on them).
    if (!syn && c.sack_ok && (flags & tcp_flag::ack) && !(flags & tcp_flag::rst))
        sack_fill(c, h.opts);
    bytes p1, p2;
    if (len) {
        const uint32_t off = seq.since(c.buf_seq);
        std::tie(p1, p2) = c.snd.peek(off, len);
    }
    if (!_out.emit_segment(c.t.local_ip, c.t.remote_ip, h, p1, p2, ip_ecn)) {
        if (flags & tcp_flag::rst) {
            // The connection is deleted right after its reset: the segment
            // itself waits for a buffer (ctl_queue.cpp).
            defer_ctl(c.t, h);
        } else {
            // No TX buffer: nothing left; callers do not advance SND.NXT,
            // the ACK this segment carried becomes owed (ack_now), and the
            // connection's output runs again at the next poll() — held, not
            // dropped to wait for the peer's retransmission.
            ++_stats.tx_blocked;
            if (flags & tcp_flag::ack) c.ack_now = true;
            tx_block(uint32_t(&c - _pool.data()));
            return false;
        }
    }
    if (flags & tcp_flag::ack) {
        c.last_ack_sent = c.rcv_nxt;
        c.ack_now = false;
        if (c.dsack_pending && !(flags & tcp_flag::rst)) {
            c.dsack_pending = false;  // each duplicate is reported once (RFC 2883 4 rule 2)
            ++_stats.dsacks_sent;
        }
        c.unacked_bytes = 0;
        c.t_delack = no_deadline;
    }
    if (flags & tcp_flag::cwr) c.cwr_out = false;  // owed once, on new data (RFC 3168 6.1.2)
    ++_stats.segs_out;
    _stats.bytes_out += len;
    return true;
}

void layer::tx_block(uint32_t idx) {
    if (_txw_in[idx]) return;
    _txw_in[idx] = 1;
    _txw_next[idx] = npos;
    if (_txw_tail == npos) _txw_head = idx;
    else _txw_next[_txw_tail] = idx;
    _txw_tail = idx;
}

// Runs the output of every connection that found no TX buffer, oldest first,
// and stops as soon as one is refused again (the ring is full once more).
// Each listed slot is visited at most once per call.
void layer::tx_retry(nanos now) {
    ctl_retry();  // segments no connection holds go first: they waited longest
    if (_ctl_len) return;
    uint32_t budget = uint32_t(_txw_next.size());
    while (_txw_head != npos && budget-- > 0) {
        const uint32_t idx = _txw_head;
        _txw_head = _txw_next[idx];
        if (_txw_head == npos) _txw_tail = npos;
        _txw_in[idx] = 0;
        if (!_pool[idx].in_use) continue;  // closed meanwhile
        output(idx, now);
        if (_txw_in[idx]) break;  // refused again: wait for the next poll
    }
}

// A segment without data carries SND.MAX, not SND.NXT: after a timeout SND.NXT
// goes back to SND.UNA, and the peer may already hold data beyond it. Its
// sequence test (RFC 9293 3.10.7.4) would then find our ACK "old", drop it
// and answer with an ACK of its own that we drop the same way — both ends
// retransmitting until they give up. The highest sequence sent is always at
// or beyond the peer's RCV.NXT.
void layer::send_ack(tcb& c, nanos now) { send_segment(c, tcp_flag::ack, c.snd_max, 0, now); }

void layer::send_rst(tcb& c, nanos now) {
    ++_stats.rst_sent;
    send_segment(c, tcp_flag::rst | tcp_flag::ack, c.snd_max, 0, now);
}

// RFC 9293 3.10.7.1: the reset answering a segment that has no connection.
void layer::send_rst_for(const four_tuple& t, const tcp_repr& seg, uint32_t payload_len) {
    if (seg.has(tcp_flag::rst)) return;  // never answer a reset
    tcp_repr h;
    h.src_port = t.local_port;
    h.dst_port = t.remote_port;
    if (seg.has(tcp_flag::ack)) {
        h.seq = seg.ack;
        h.flags = tcp_flag::rst;
    } else {
        h.seq = seq32(0);
        h.ack = seg.seq + payload_len + (seg.has(tcp_flag::syn) ? 1 : 0) +
                (seg.has(tcp_flag::fin) ? 1 : 0);
        h.flags = tcp_flag::rst | tcp_flag::ack;
    }
    ++_stats.rst_sent;
    ++_stats.segs_out;
    emit_or_defer(t, h);
}

// RFC 4987 3.6: a stateless SYN-ACK whose ISN is the cookie.
void layer::send_synack_cookie(const four_tuple& t, const tcp_repr& seg, uint16_t user_mss,
                               nanos now) {
    const uint16_t peer_mss = seg.opts.has_mss ? seg.opts.mss : 536;
    tcp_repr h;
    h.src_port = t.local_port;
    h.dst_port = t.remote_port;
    h.seq = make_syn_cookie(_cfg.secret, t, seg.seq, peer_mss, now);
    h.ack = seg.seq + 1;
    h.flags = tcp_flag::syn | tcp_flag::ack;
    h.window = uint16_t(std::min<uint32_t>(_cfg.rcvbuf, 65535));
    h.opts.has_mss = true;
    h.opts.mss = advertised_mss(user_mss);
    // Without timestamps nothing can carry WS/SACK back: offer neither.
    if (_cfg.timestamps && seg.opts.has_timestamps) {
        uint8_t shift = 0;
        while (shift < 14 && (uint64_t(_cfg.rcvbuf) >> shift) > 65535) ++shift;
        cookie_opts co;
        co.sack = _cfg.sack && seg.opts.sack_permitted;
        co.has_wscale = _cfg.window_scaling && seg.opts.has_wscale;
        co.wscale = co.has_wscale ? std::min<uint8_t>(seg.opts.wscale, 14) : 0;
        // RFC 3168 6.1.1 for a cookie: granted as for a held SYN, remembered here.
        co.ecn = _cfg.ecn != 0 && seg.has(tcp_flag::ece) && seg.has(tcp_flag::cwr);
        if (co.ecn) h.flags |= tcp_flag::ece;
        h.opts.has_timestamps = true;
        h.opts.tsval = cookie_tsval(uint32_t(now / ms), co);
        h.opts.tsecr = seg.opts.tsval;
        h.opts.sack_permitted = co.sack;
        if (co.has_wscale) h.opts.has_wscale = true, h.opts.wscale = shift;
    }
    ++_stats.syn_cookies_sent;
    ++_stats.segs_out;
    emit_or_defer(t, h);
}

void layer::output(uint32_t idx, nanos now, uint8_t how) {
    tcb& c = _pool[idx];
    switch (c.st) {
        case state::closed:
        case state::listen:
            return;
        case state::time_wait:
            // The ACK of the peer's FIN, if the port had no buffer for it.
            if (c.ack_now) send_ack(c, now);
            return;
        case state::syn_sent:
        case state::syn_received:
            // RFC 9293 3.10.1 / 3.10.7.2: (re)send our SYN while it is unacknowledged.
            if (c.snd_nxt == c.iss) {
                if (!send_segment(c, c.st == state::syn_sent ? tcp_flag::syn : (tcp_flag::syn | tcp_flag::ack),
                                  c.iss, 0, now))
                    return;
                c.snd_nxt = c.iss + 1;
                c.snd_max = seq32::max(c.snd_max, c.snd_nxt);
                if (c.retries == 0) c.timing = true, c.rtt_start = now;  // Karn
                if (c.t_rexmt == no_deadline) arm_rexmt(c, now);
                reschedule(idx);
            } else if (c.ack_now && c.st == state::syn_received) {
                send_ack(c, now);
            }
            return;
        default:
            break;
    }
    // Data segments carry TS (12 bytes) and maybe SACK blocks; RFC 6691: the MSS
    // excludes options, so the payload shrinks by their length.
    const uint32_t cap = segment_cap(c);
    if (c.t_persist != no_deadline && c.snd_wnd != 0) {
        // The window reopened: leave persist and resend from SND.UNA, so an
        // unacknowledged probe octet goes out again with the data behind it.
        c.t_persist = no_deadline;
        c.persist_shift = 0;
        c.snd_nxt = c.snd_una;
    }
    // Marks the peer has acknowledged are of no more use (and would compare
    // wrongly once the sequence space wraps).
    while (c.eor_n && c.eor[c.eor_head] <= c.snd_una) {
        c.eor_head = uint8_t((c.eor_head + 1) % tcb::max_records);
        --c.eor_n;
    }
    if (c.push_set && c.push_end <= c.snd_una) c.push_set = false;
    const bool sack_recovery = c.in_recovery && c.sack_ok;
    // RFC 6675 5 (C): retransmit lost holes first while the pipe has room.
    if (sack_recovery) {
        seq32 s;
        uint32_t len;
        while (sack_pipe(c) + cap <= c.cwnd && sack_next_seg(c, s, len)) {
            len = record_cap(c, s, std::min(len, cap));
            if (!send_segment(c, tcp_flag::ack | push_flag(c, s, len), s, len, now)) break;
            c.high_rxt = s + len;
            if (s == c.snd_una) c.una_rxt = true, c.una_fence = c.snd_max;
            undo_note_retransmit(c, s, len, now);
            ++_stats.retransmits;
        }
    }
    const seq32 data_end = c.buf_seq + uint32_t(c.snd.size());
    // A cork or a MSG_MORE write holds a partial last segment (Linux's
    // TCP_NAGLE_CORK); a FIN to send, TCP_NODELAY being set or the cork
    // timer lets it go.
    const bool hold = (c.cork || c.hold_tail) && how == push_normal && !c.fin_queued;
    // What the loop below would send at `s` with `in_flight` octets in the
    // pipe and SND.MAX at `top`: the segment's length (cut at a record end,
    // `rec`), whether it goes now, and whether our FIN rides on it.
    struct cut {
        uint32_t len, avail;
        bool go, fin, retransmitting, rec;
    };
    const auto plan = [&](seq32 s, uint32_t in_flight, seq32 top) {
        cut p{};
        seq32 rec_end;
        p.rec = record_end_after(c, s, rec_end) && rec_end < data_end;
        if (!p.rec) rec_end = data_end;
        p.avail = rec_end > s ? rec_end.since(s) : 0;
        const uint32_t wnd_edge_room =
            (c.snd_una + c.snd_wnd) > s ? (c.snd_una + c.snd_wnd).since(s) : 0;
        // RFC 3042 Limited Transmit: each of the first two DupAcks lets one
        // new segment out beyond cwnd, so a small window still produces the
        // DupAcks that fast retransmit needs instead of waiting for the RTO.
        const uint32_t limited =
            !c.in_recovery && c.dupacks && s == top ? std::min<uint32_t>(c.dupacks, 2) * c.mss : 0;
        const uint32_t cwnd_room =
            c.cwnd + limited > in_flight ? c.cwnd + limited - in_flight : 0;
        p.len = std::min({p.avail, wnd_edge_room, cwnd_room, cap});
        p.retransmitting = s < top;
        // The FIN follows the last data octet (RFC 9293 3.10.4 CLOSE). It
        // occupies a sequence number, so it goes only where the peer's window
        // has room for it (3.8.6.1: a closed window is probed, not filled;
        // a receiver would drop it, and Linux holds it back the same way).
        p.fin = c.fin_queued && s + p.len == data_end && wnd_edge_room > p.len;
        if (p.len > 0) {
            const uint32_t flight = top.since(c.snd_una);
            const bool whole = p.len == p.avail;  // all there is (up to the record end)
            bool go = p.len == cap;               // a full segment
            // A record cut short by its end goes at once: Linux applies
            // Nagle to the last buffer of its queue only.
            go = go || (whole && p.rec);
            if (!hold || p.rec) {
                go = go || ((c.nodelay || flight == 0 || how != push_normal) && whole);  // Nagle, RFC 1122 4.2.3.4
                go = go || (c.max_snd_wnd && p.len >= c.max_snd_wnd / 2);  // SWS, RFC 9293 3.8.6.2.1
            }
            // Resent data goes as it was cut before, but not as a runt that
            // only the last octets of cwnd allow: cwnd counts SMSS including
            // the options' room, so one segment after a timeout left 12
            // octets over (RFC 5681 3.1's loss window is one full segment).
            const bool cwnd_sliver = cwnd_room < std::min({p.avail, wnd_edge_room, cap});
            p.go = go || (p.retransmitting && !cwnd_sliver) || p.fin;
        } else {
            p.go = p.fin;
        }
        return p;
    };
    // PSH (RFC 9293 3.9.1 leaves it to the sender) as Linux places it. Linux
    // sends a run of segments as TSO frames of up to tso_segs() segments and
    // flags every frame of two or more PSH (so the receiver's GRO flushes
    // it; the device's split keeps PSH on the frame's last segment); a
    // one-segment frame has it only if it carries the end of a write made
    // without MSG_MORE or of a record (push_flag), or leaves by the cork
    // timer. A frame ends at a record end too (no coalescing across it).
    const uint32_t frame_max = tso_segs(c);
    uint32_t frame = 0;  // segments of the current frame sent so far
    bool sent_new = false;
    // Once the sink has refused a segment (no TX buffer), send nothing more:
    // tx_retry() runs this again at the next poll.
    for (int guard = 0; guard < 4096 && !_txw_in[idx]; ++guard) {
        const seq32 s = c.snd_nxt;
        const uint32_t in_flight = sack_recovery ? sack_pipe(c) : c.snd_nxt.since(c.snd_una);
        const cut p = plan(s, in_flight, c.snd_max);
        if (!p.go) break;
        const uint32_t len = p.len;
        const bool retransmitting = p.retransmitting;
        const bool fin_now = p.fin;
        const bool limited = !c.in_recovery && c.dupacks && s == c.snd_max;
        uint8_t flags = tcp_flag::ack;
        if (fin_now) flags |= tcp_flag::fin;
        if (len) {
            ++frame;
            const bool run_ends =
                fin_now || !plan(s + len, in_flight + len, seq32::max(c.snd_max, s + len)).go;
            const bool frame_ends = frame == frame_max || run_ends || (p.rec && len == p.avail);
            if (frame_ends && (frame >= 2 || (run_ends && how == push_wakeup)))
                flags |= tcp_flag::psh;
            flags |= push_flag(c, s, len);
            if (frame_ends) frame = 0;
        }
        if (!send_segment(c, flags, s, len, now)) break;  // retried at the next poll
        if (limited && in_flight + len > c.cwnd) ++_stats.limited_transmits;
        if (retransmitting) undo_note_retransmit(c, s, std::min(len, c.snd_max.since(s)), now);
        if (!retransmitting && !c.timing && len > 0) {
            c.timing = true;  // RFC 6298 3 / Karn: time one new segment
            c.rtt_seq = s + len;
            c.rtt_start = now;
        }
        c.snd_nxt = s + len + (fin_now ? 1 : 0);
        sent_new = sent_new || c.snd_nxt > c.snd_max;
        c.snd_max = seq32::max(c.snd_max, c.snd_nxt);
        if (c.t_rexmt == no_deadline) arm_rexmt(c, now);  // RFC 6298 5.1
        if (fin_now) break;
    }
    // RFC 6675 4 NextSeg rules 3-4 when rules 1-2 left the pipe room (sack.cpp).
    if (sack_recovery && !_txw_in[idx]) sack_rules_3_4(idx, cap, now);
    if (c.ack_now && !_txw_in[idx]) send_ack(c, now);
    // RFC 9293 3.8.6.1: zero window with data (or our FIN) waiting and
    // nothing in flight -> persist.
    const bool fin_unsent = c.fin_queued && c.snd_max <= data_end;
    if (c.snd_wnd == 0 && (c.unsent() > 0 || fin_unsent) && c.flight() == 0 &&
        c.t_persist == no_deadline) {
        c.persist_shift = 0;
        c.t_persist = now + c.rto;
    }
    // Whatever is in flight must be covered by a timer (RFC 6298 5.1).
    if (c.flight() > 0 && c.t_rexmt == no_deadline && c.t_persist == no_deadline)
        arm_rexmt(c, now);
    if (sent_new) {
        arm_probe(c, now);  // RFC 8985 7.2: after new data
        // Linux's tcp_cwnd_validate: the largest flight of this window.
        if (c.snd_una >= c.flight_seq || c.flight() > c.max_flight)
            c.max_flight = c.flight(), c.flight_seq = c.snd_nxt;
    }
    // Data a cork or MSG_MORE holds with nothing in flight (no ACK will come
    // to send it): Linux's probe timer sends it after its RTO (at least
    // 200 ms: TCP_CORK's documented ceiling), which is SRTT + max(4 RTTVAR,
    // 200 ms) where ours is RFC 6298's (docs/tcp.md).
    if (c.unsent() > 0 && c.flight() == 0 && c.snd_wnd != 0 && (c.cork || c.hold_tail)) {
        if (c.t_cork == no_deadline) {
            const nanos linux_rto = c.have_rtt ? c.srtt + std::max(4 * c.rttvar, _cfg.rto_min) : c.rto;
            c.t_cork = now + std::max(linux_rto, _cfg.rto_min);
        }
    } else {
        c.t_cork = no_deadline;
    }
    reschedule(idx);
}

// Linux's TSO autosizing (tcp_tso_autosize): a frame carries what the
// pacing rate sends in about 1 ms (rate >> 10), at least 2 segments, at
// most 64 KiB; the rate is cwnd (or the flight, if larger) per SRTT, times
// 2 in slow start (cwnd below half ssthresh) and 1.2 after; unpaced before
// the first RTT sample. Only PSH placement depends on it.
uint32_t layer::tso_segs(const tcb& c) const {
    const uint32_t cap = std::max<uint32_t>(segment_cap(c), 1);
    constexpr double gso_max = 65536;
    double bytes = gso_max;
    if (c.have_rtt && c.srtt > 0) {
        const double segs = double(std::max(c.cwnd, c.flight()) / cap);
        const double ratio = c.cwnd < c.ssthresh / 2 ? 2.0 : 1.2;
        const double rate = segs * cap * ratio * double(sec) / double(c.srtt);  // bytes per second
        bytes = std::min(rate / 1024, gso_max);
    }
    return std::max<uint32_t>(2, uint32_t(bytes / cap));
}

bool layer::record_end_after(const tcb& c, seq32 s, seq32& end) const {
    for (uint8_t i = 0; i < c.eor_n; ++i) {
        const seq32 e = c.eor[(c.eor_head + i) % tcb::max_records];
        if (e > s) {
            end = e;
            return true;
        }
    }
    return false;
}

uint32_t layer::record_cap(const tcb& c, seq32 s, uint32_t len) const {
    seq32 e;
    return record_end_after(c, s, e) ? std::min(len, e.since(s)) : len;
}

uint8_t layer::push_flag(const tcb& c, seq32 s, uint32_t len) const {
    if (len == 0) return 0;
    if (c.push_set && s < c.push_end && c.push_end <= s + len) return tcp_flag::psh;
    seq32 e;
    return record_end_after(c, s, e) && e == s + len ? tcp_flag::psh : 0;
}

}  // namespace mvnf::tcp
