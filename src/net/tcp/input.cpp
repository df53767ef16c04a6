// Segment arrival (RFC 9293 section 3.10.7): validation and drop counting,
// demultiplexing to a connection or listener, the LISTEN and SYN-SENT cases,
// and the synchronized-state steps (sequence test, RST, SYN, ACK, text, FIN)
// with RFC 5961 hardening, RFC 7323 PAWS and loss detection (RFC 5681/6582/
// 6675). Called by the stack's IPv4 input through layer::input.
#include <algorithm>

#include "net/tcp/congestion/congestion.hpp"
#include "net/tcp/layer.hpp"

namespace mvnf::tcp {

using namespace wire;

namespace {
constexpr nanos paws_idle_limit = 24ull * 24 * 3600 * sec;  // RFC 7323 5.5: 24 days
}

void layer::input(ipv4_addr src, ipv4_addr dst, bytes segment, nanos now, uint8_t ip_ecn) {
    ++_stats.segs_in;
    auto v = tcp_view::parse(segment);
    if (!v) {
        (v.error() == tcp_parse_error::truncated ? _stats.drop_truncated : _stats.drop_bad_offset)++;
        return;
    }
    if (_cfg.verify_checksum && !v->checksum_ok(src, dst)) {
        ++_stats.drop_bad_checksum;
        return;
    }
    auto r = tcp_repr::parse(*v);
    if (!r) {
        (r.error() == tcp_parse_error::bad_option_length ? _stats.drop_bad_option_len
                                                         : _stats.drop_bad_option_value)++;
        return;
    }
    const tcp_repr& seg = *r;
    const bytes payload = v->payload();
    // RFC 1122 4.2.3.10: never accept segments from broadcast/multicast sources.
    if (src.is_any() || src.is_broadcast() || src.is_multicast() || dst.is_broadcast() ||
        dst.is_multicast()) {
        ++_stats.drop_bad_address;
        return;
    }
    if (seg.src_port == 0 || seg.dst_port == 0) {
        ++_stats.drop_bad_port;
        return;
    }
    _stats.bytes_in += payload.size();
    const four_tuple t{dst, src, seg.dst_port, seg.src_port};
    uint32_t idx = find_flow(t);
    if (idx == npos && find_listener(dst, seg.dst_port) < 0) {
        // RFC 9293 3.10.7.1 CLOSED: "An incoming segment not containing a
        // RST causes a RST to be sent in response", whatever its other
        // flags: NULL, FIN, XMAS and SYN+FIN probes too (as Linux), so a
        // scanner sees the port closed rather than filtered. Rate-limited
        // (closed_rst_rate) so a flood at closed ports costs bounded output.
        ++_stats.drop_no_socket;
        if (!seg.has(tcp_flag::rst)) {
            if (closed_rst_allowed(now)) send_rst_for(t, seg, uint32_t(payload.size()));
            else ++_stats.closed_rsts_suppressed;
        }
        return;
    }
    if ((seg.has(tcp_flag::syn) && seg.has(tcp_flag::rst)) ||
        (seg.flags & (tcp_flag::syn | tcp_flag::rst | tcp_flag::ack | tcp_flag::fin)) == 0) {
        ++_stats.drop_bad_flags;  // SYN+RST, or no control bit at all
        return;
    }
    // SYN+FIN opens nothing (dropped below without a synchronized
    // connection), but to a synchronized one it is a SYN: RFC 5961 4.2's
    // challenge ACK answers it (input_synced), as Linux does.
    const bool syn_fin = seg.has(tcp_flag::syn) && seg.has(tcp_flag::fin);
    // RFC 9293 3.8.5: the urgent pointer is an offset > 0 into the data (RFC 6093);
    // URG with a zero pointer or one past a segment without data is malformed.
    if (seg.has(tcp_flag::urg) && (seg.urgent == 0 || payload.empty())) {
        ++_stats.drop_bad_urgent;
        return;
    }
    if (syn_fin && (idx == npos || !is_synchronized(_pool[idx].st))) {
        ++_stats.drop_bad_flags;
        return;
    }
    if (idx != npos && !syn_fin && _pool[idx].st == state::time_wait && seg.has(tcp_flag::syn) &&
        !seg.has(tcp_flag::ack) && time_wait_reopens(_pool[idx], seg) &&
        find_listener(dst, seg.dst_port) >= 0) {
        // A new incarnation may take over the 4-tuple (RFC 6191 2,
        // time_wait.cpp); otherwise the SYN goes to the TIME-WAIT connection
        // below, which answers it with an ACK (RFC 9293 3.10.7.4, RFC 5961 4).
        finish(idx, error::none);
        idx = find_flow(t);
    }
    if (idx == npos) {
        const int li = find_listener(dst, seg.dst_port);
        if (li >= 0) {
            input_listen(li, t, seg, payload, now);
            return;
        }
        ++_stats.drop_no_socket;  // (checked above; kept for a listener closed meanwhile)
        send_rst_for(t, seg, uint32_t(payload.size()));  // RFC 9293 3.10.7.1 CLOSED
        return;
    }
    if (_pool[idx].st == state::syn_sent) input_syn_sent(idx, seg, payload, now);
    else input_synced(idx, seg, payload, now, ip_ecn);
    shed_buffers(idx);  // buffers.cpp: a no-op unless the segment ended their use
}

// RFC 9293 3.10.7.2 (LISTEN), with SYN cookies (RFC 4987 3.6) under backlog pressure.
void layer::input_listen(int li, const four_tuple& t, const tcp_repr& seg, bytes payload,
                         nanos now) {
    listener& l = _listeners[li];
    if (seg.has(tcp_flag::rst)) return;  // first: ignore RST
    if (seg.has(tcp_flag::ack)) {
        uint32_t idx;
        cookie_result r = cookie_result::refused;
        if (!seg.has(tcp_flag::syn)) {
            r = accept_cookie(li, t, seg, now, idx);
            if (r == cookie_result::accepted) {
                input_synced(idx, seg, payload, now);  // the ACK may carry data
                return;
            }
            if (r == cookie_result::held) return;  // counted; the peer's retransmission retries
        }
        // One segment, one reason: a cookie refused for want of a connection
        // block was counted under drop_no_tcb.
        if (r != cookie_result::full) ++_stats.drop_syn_in_listen_ack;
        send_rst_for(t, seg, uint32_t(payload.size()));  // second: ACK -> RST
        return;
    }
    if (!seg.has(tcp_flag::syn)) {  // fourth: anything else is dropped
        ++_stats.drop_bad_flags;       // (a FIN or data without ACK or SYN)
        return;
    }
    if (l.q_len >= l.backlog) {
        ++_stats.drop_backlog_full;  // accept queue full: the application is behind
        return;
    }
    if (l.half_open >= l.backlog || free_connections() == 0) {
        if (!_cfg.syn_cookies) {
            // Refused; counted by what ran out: the SYN backlog, or every
            // connection block or buffer pair (max_concurrency, max_num_buffers).
            if (free_connections() == 0) ++_stats.drop_no_tcb;
            else ++_stats.drop_backlog_full;
            if (_buf_free.empty()) ++_stats.refused_no_buffers;
            return;
        }
        l.cookies_until = now + 128 * sec;  // two cookie slots
        send_synack_cookie(t, seg, l.user_mss, now);
        return;
    }
    const uint32_t idx = alloc_tcb(t, now);
    tcb& c = _pool[idx];
    init_tcb_options(c, now);
    c.listener = uint32_t(li);
    c.user_mss = l.user_mss;  // TCP_MAXSEG on the listener (as Linux's child)
    ++l.half_open;
    c.st = state::syn_received;
    c.irs = seg.seq;
    c.rcv_nxt = seg.seq + 1;
    c.rcv_adv = c.rcv_nxt;
    adopt_syn_options(c, seg, now);
    ecn_on_syn(c, seg);
    c.iss = make_isn(_cfg.secret, t, now);  // RFC 6528
    c.snd_una = c.snd_nxt = c.snd_max = c.iss;
    c.recover = c.iss;
    c.buf_seq = c.iss + 1;
    c.snd_wnd = c.max_snd_wnd = seg.window;  // RFC 7323 2.2: a SYN's window is unscaled
    c.snd_wl1 = seg.seq;
    c.snd_wl2 = c.iss;
    ++_stats.passive_opens;
    output(idx, now);  // SYN-ACK
}

layer::cookie_result layer::accept_cookie(int li, const four_tuple& t, const tcp_repr& seg,
                                          nanos now, uint32_t& idx_out) {
    listener& l = _listeners[li];
    if (!_cfg.syn_cookies || now > l.cookies_until) return cookie_result::refused;
    auto mss = check_syn_cookie(_cfg.secret, t, seg.seq - 1, seg.ack - 1, now);
    if (!mss) {
        ++_stats.syn_cookies_bad;
        return cookie_result::refused;
    }
    if (l.q_len >= l.backlog) {
        // The application is behind on accept(): drop the ACK, as for a
        // held SYN-RECEIVED connection (Linux without tcp_abort_on_overflow).
        // The cookie stays valid; the peer's next segment (its data or a
        // retransmission) completes the handshake once there is room.
        ++_stats.drop_backlog_full;
        return cookie_result::held;
    }
    if (free_connections() == 0) {
        ++_stats.drop_no_tcb;  // every connection block or buffer pair in use: refused
        if (_buf_free.empty()) ++_stats.refused_no_buffers;
        return cookie_result::full;
    }
    const uint32_t idx = alloc_tcb(t, now);
    tcb& c = _pool[idx];
    init_tcb_options(c, now);
    // Options come back from the TSecr bits when the peer echoes our TSval.
    c.ts_ok = c.sack_ok = c.ws_ok = false;
    c.snd_shift = c.rcv_shift = 0;
    if (_cfg.timestamps && seg.opts.has_timestamps) {
        const cookie_opts o = cookie_opts_from_tsecr(seg.opts.tsecr);
        c.ts_ok = true;
        c.ts_offset = 0;  // our cookie TSvals were sent on the bare clock
        c.ts_recent = seg.opts.tsval;
        c.ts_recent_time = now;
        c.sack_ok = o.sack;
        c.ecn_ok = o.ecn && _cfg.ecn != 0;
        if (o.has_wscale) {
            c.ws_ok = true;
            c.snd_shift = o.wscale;
            uint8_t shift = 0;
            while (shift < 14 && (uint64_t(_cfg.rcvbuf) >> shift) > 65535) ++shift;
            c.rcv_shift = shift;
        }
    }
    c.user_mss = l.user_mss;
    c.mss = std::min<uint16_t>(*mss, advertised_mss(l.user_mss));
    cc_init(c, _cfg.initial_window_segments);
    c.irs = seg.seq - 1;
    c.rcv_nxt = seg.seq;
    c.rcv_adv = c.rcv_nxt + std::min<uint32_t>(_cfg.rcvbuf, 65535);
    c.iss = seg.ack - 1;
    c.snd_una = c.snd_nxt = c.snd_max = c.buf_seq = c.recover = seg.ack;
    c.snd_wnd = c.max_snd_wnd = uint32_t(seg.window) << c.snd_shift;
    c.snd_wl1 = seg.seq;
    c.snd_wl2 = seg.ack;
    c.listener = uint32_t(li);
    c.st = state::established;
    ++_stats.syn_cookies_ok;
    ++_stats.passive_opens;
    enqueue_accept(c);
    on_established(idx, now);
    idx_out = idx;
    return cookie_result::accepted;
}

// RFC 9293 3.7.1 (MSS), RFC 7323 1.3/2.2/3.2 (WS, TS), RFC 2018 2 (SACK-permitted).
void layer::adopt_syn_options(tcb& c, const tcp_repr& seg, nanos now) {
    const uint16_t peer_mss = seg.opts.has_mss ? seg.opts.mss : 536;
    c.mss = std::max<uint16_t>(std::min<uint16_t>(peer_mss, _cfg.mss), 64);
    if (c.user_mss) c.mss = std::min(c.mss, c.user_mss);  // TCP_MAXSEG
    c.ws_ok = c.ws_ok && seg.opts.has_wscale;
    if (c.ws_ok) {
        c.snd_shift = std::min<uint8_t>(seg.opts.wscale, 14);  // RFC 7323 2.3: cap at 14
    } else {
        c.snd_shift = c.rcv_shift = 0;
    }
    c.ts_ok = c.ts_ok && seg.opts.has_timestamps;
    if (c.ts_ok) {
        c.ts_recent = seg.opts.tsval;
        c.ts_recent_time = now;
    }
    c.sack_ok = c.sack_ok && seg.opts.sack_permitted;
    cc_init(c, _cfg.initial_window_segments);  // IW depends on the MSS just learnt
}

void layer::on_established(uint32_t idx, nanos now) {
    tcb& c = _pool[idx];
    c.last_data_rx = now;  // Linux's lrcvtime starts at the handshake too
    // RFC 6298 5.7: a lost SYN/SYN-ACK with no RTT sample -> RTO back to 3 s.
    if (!c.have_rtt && c.retries > 0) c.rto = std::max<nanos>(c.rto, 3 * sec);
    c.retries = 0;
    c.t_rexmt = no_deadline;
    c.ecn_recover = c.snd_una;
    if (c.ecn_ok) ++_stats.ecn_connections;
    if (c.keepalive || _cfg.idle_timeout) {
        c.t_keep = now + std::min(c.keepalive ? keep_idle(c) : no_deadline,
                                  _cfg.idle_timeout ? _cfg.idle_timeout : no_deadline);
    }
    if (c.fin_queued) c.st = state::fin_wait_1;  // a CLOSE issued in SYN-RECEIVED
    if (c.listener == npos) post(idx, ev::connected | ev::writable);
    reschedule(idx);
}

// RFC 9293 3.10.7.3 (SYN-SENT).
void layer::input_syn_sent(uint32_t idx, const tcp_repr& seg, bytes payload, nanos now) {
    tcb& c = _pool[idx];
    if (seg.has(tcp_flag::ack) && (seg.ack <= c.iss || seg.ack > c.snd_max)) {
        ++_stats.drop_bad_ack;  // first: unacceptable ACK -> RST (unless RST)
        send_rst_for(c.t, seg, 0);
        return;
    }
    if (seg.has(tcp_flag::rst)) {
        // second: RFC 5961 3.2 / 9293: only an RST acknowledging our SYN counts.
        if (seg.has(tcp_flag::ack)) {
            ++_stats.rst_received;
            finish(idx, error::connection_refused);
        }
        return;
    }
    if (!seg.has(tcp_flag::syn)) return;  // fifth: neither SYN nor RST
    c.irs = seg.seq;
    c.rcv_nxt = seg.seq + 1;
    c.rcv_adv = c.rcv_nxt;
    adopt_syn_options(c, seg, now);
    c.snd_wnd = c.max_snd_wnd = seg.window;  // unscaled in a SYN (RFC 7323 2.2)
    c.snd_wl1 = seg.seq;
    c.snd_wl2 = seg.ack;
    if (seg.has(tcp_flag::ack)) {
        c.snd_una = seg.ack;
        ecn_on_synack(c, seg);
        if (c.ts_ok && seg.opts.tsecr) {
            ts_rtt_sample(c, seg.opts.tsecr, now);
        } else if (c.timing && c.retries == 0) {
            rtt_sample(c, now - c.rtt_start);  // Karn: only an unretransmitted SYN
        }
        c.timing = false;
        c.st = state::established;
        c.ack_now = true;
        on_established(idx, now);
        // 3.10.7.3: continue at the sixth step: text and FIN riding on the SYN-ACK.
        const uint32_t gen = c.gen;
        if (!payload.empty() || seg.has(tcp_flag::fin)) {
            const uint32_t room = c.rcv_adv > c.rcv_nxt ? c.rcv_adv.since(c.rcv_nxt) : 0;
            const bool fits = payload.size() <= std::max<uint32_t>(room, uint32_t(c.rcv.free()));
            process_text(c, c.rcv_nxt, fits ? payload : bytes{}, fits && seg.has(tcp_flag::fin), now);
        }
        if (c.in_use && c.gen == gen) output(idx, now);  // ACK the SYN-ACK, plus queued data
        return;
    }
    // Simultaneous open (RFC 9293 3.5 figure 7): SYN-RECEIVED, resend as SYN-ACK.
    c.st = state::syn_received;
    c.snd_nxt = c.iss;
    c.t_rexmt = no_deadline;
    output(idx, now);
}

// The part of a segment's data below RCV.NXT arrived before: it goes into a
// D-SACK (RFC 2883 4), whether the segment is dropped or trimmed.
void layer::note_old_data(tcb& c, const tcp_repr& seg, size_t len) {
    const seq32 s = seg.seq + (seg.has(tcp_flag::syn) ? 1 : 0);
    if (len == 0 || !(s < c.rcv_nxt)) return;
    note_duplicate(c, s, seq32::min(s + uint32_t(len), c.rcv_nxt));
}

bool layer::paws_reject(tcb& c, const tcp_repr& seg, nanos now) const {
    // RFC 7323 5.3 R1: a timestamp older than TS.Recent means an old duplicate,
    // unless TS.Recent is older than 24 days (5.5).
    if (!c.ts_ok || !seg.opts.has_timestamps || seg.has(tcp_flag::rst)) return false;
    if (int32_t(seg.opts.tsval - c.ts_recent) >= 0) return false;
    return now - c.ts_recent_time < paws_idle_limit;
}

// RFC 9293 3.10.7.4: SYN-RECEIVED and the synchronized states.
void layer::input_synced(uint32_t idx, const tcp_repr& seg, bytes payload, nanos now,
                         uint8_t ip_ecn) {
    tcb& c = _pool[idx];
    const uint32_t gen = c.gen;
    const bool syn = seg.has(tcp_flag::syn), rst = seg.has(tcp_flag::rst);
    bool fin = seg.has(tcp_flag::fin);

    if (c.st == state::syn_received && syn && seg.seq == c.irs && !rst) {
        if (seg.has(tcp_flag::ack) && seg.ack == c.iss + 1) {
            // Simultaneous open: the peer's SYN-ACK completes our handshake.
            c.snd_una = seg.ack;
            c.snd_wnd = c.max_snd_wnd = seg.window;
            c.snd_wl1 = seg.seq, c.snd_wl2 = seg.ack;
            c.st = state::established;
            c.ack_now = true;
            on_established(idx, now);
            output(idx, now);
        } else {
            c.snd_nxt = c.iss;  // a retransmitted SYN: our SYN-ACK was lost
            output(idx, now);
        }
        return;
    }
    if (paws_reject(c, seg, now)) {
        ++_stats.drop_paws;
        note_old_data(c, seg, payload.size());
        answer_unacceptable(c, seg, payload.size(), now);  // RFC 7323 5.3 R1: ACK and drop
        return;
    }

    // First: the sequence number test (RFC 9293 3.10.7.4 table).
    const uint32_t wnd = c.rcv_adv > c.rcv_nxt ? c.rcv_adv.since(c.rcv_nxt) : 0;
    const uint32_t seg_len = uint32_t(payload.size()) + (syn ? 1 : 0) + (fin ? 1 : 0);
    enum class shape : uint8_t { empty_zero_wnd, empty_open_wnd, data_zero_wnd, data_open_wnd };
    const shape sh = seg_len == 0 ? (wnd == 0 ? shape::empty_zero_wnd : shape::empty_open_wnd)
                                  : (wnd == 0 ? shape::data_zero_wnd : shape::data_open_wnd);
    bool acceptable = false;
    switch (sh) {
        case shape::empty_zero_wnd:  // 3.10.7.4 table row 1: SEG.SEQ = RCV.NXT
            acceptable = seg.seq == c.rcv_nxt;
            break;
        case shape::empty_open_wnd:  // row 2: RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
            acceptable = seg.seq.in_window(c.rcv_nxt, wnd);
            break;
        case shape::data_zero_wnd:  // row 3: not acceptable
            acceptable = false;
            break;
        case shape::data_open_wnd:  // row 4: first or last octet inside the window
            acceptable = seg.seq.in_window(c.rcv_nxt, wnd) ||
                         (seg.seq + seg_len - 1).in_window(c.rcv_nxt, wnd);
            break;
    }
    // 3.10.7.4: with a zero window, still take ACKs and RSTs at RCV.NXT (window probes).
    const bool zero_window_probe = !acceptable && wnd == 0 && seg.seq == c.rcv_nxt;
    if (!acceptable && !zero_window_probe) {
        ++_stats.drop_out_of_window;
        if (!rst) {
            note_old_data(c, seg, payload.size());
            answer_unacceptable(c, seg, payload.size(), now);
        }
        if (c.st == state::time_wait && fin) {
            c.t_wait = now + _cfg.time_wait;  // a retransmitted FIN restarts 2MSL
            reschedule(idx);
        }
        return;
    }
    // Trim to the window: old octets off the front, excess off the back.
    seq32 s = seg.seq;
    if (syn) s += 1;
    if (zero_window_probe) {
        payload = {};
        fin = false;
        c.ack_now = true;  // answer the probe with our (still zero) window
    }
    if (!rst) note_old_data(c, seg, payload.size());
    if (s < c.rcv_nxt) {
        const uint32_t cut = c.rcv_nxt.since(s);
        if (cut > payload.size()) fin = false;
        payload = payload.subspan(std::min<size_t>(cut, payload.size()));
        s = c.rcv_nxt;
    }
    const uint32_t room = wnd > s.since(c.rcv_nxt) ? wnd - s.since(c.rcv_nxt) : 0;
    if (payload.size() > room) {
        payload = payload.first(room);
        fin = false;
    }
    c.last_rx = now;
    c.keep_sent = 0;
    // Last.ACK.sent as the segment found it (the ACK step may send before
    // TS.Recent is updated below).
    const seq32 last_ack_sent = c.last_ack_sent;

    // Second: RST (RFC 5961 3.2): exact match resets, in-window challenges.
    if (rst) {
        if (seg.seq != c.rcv_nxt) {
            challenge_ack(c, now);
            return;
        }
        ++_stats.rst_received;
        switch (c.st) {
            case state::syn_received:  // 3.10.7.4: passive -> back to LISTEN; active -> refused
                if (c.listener != npos) free_tcb(idx);
                else finish(idx, error::connection_refused);
                return;
            case state::established:  // 3.10.7.4: reset the connection, tell the user
            case state::fin_wait_1:
            case state::fin_wait_2:
            case state::close_wait:
                finish(idx, error::connection_reset);
                return;
            case state::time_wait:
                // RFC 1337 (TIME-WAIT assassination, its fix TWA-1): ignore
                // it, so an old reset cannot end 2MSL early and let an old
                // duplicate into a new incarnation (Linux: tcp_rfc1337=1;
                // its default deletes the connection).
                ++_stats.drop_rst_time_wait;
                return;
            default:
                // CLOSING, LAST-ACK: 3.10.7.4 deletes the TCB. An application
                // that shut only its write side still holds the socket and
                // learns of the reset (ECONNRESET, as Linux reports it).
                finish(idx, c.user_closed ? error::none : error::connection_reset);
                return;
        }
    }
    // Fourth: SYN in a synchronized state (RFC 5961 4.2): challenge ACK, drop.
    if (syn) {
        challenge_ack(c, now);
        return;
    }
    ecn_on_segment(c, seg, ip_ecn);  // RFC 3168 6.1.3: CE marks and CWR
    // Fifth: the ACK field.
    if (!seg.has(tcp_flag::ack)) return;
    if (!process_ack(idx, seg, uint32_t(payload.size()), now)) return;
    if (!c.in_use || c.gen != gen) return;
    // RFC 7323 4.3 (2): TS.Recent takes the TSval of a segment covering
    // Last.ACK.sent, but only once the segment has passed the RST, SYN and
    // ACK checks (RFC 7323 5.3 R3 runs after R2's acceptance; RFC 5961):
    // a blind in-window segment with a SYN or an ACK for data never sent is
    // dropped, and its TSval, if taken, would make PAWS drop every later
    // genuine segment of the connection.
    if (c.ts_ok && seg.opts.has_timestamps && seg.seq <= last_ack_sent &&
        last_ack_sent <= seg.seq + seg_len) {
        c.ts_recent = seg.opts.tsval;
        c.ts_recent_time = now;
    }

    // Seventh step with RFC 1122 4.2.2.13: new data for a connection the
    // application has closed (close(), not a shutdown of the write side)
    // has no reader; acknowledging and discarding it would tell the peer it
    // was delivered. Reset instead (RFC 9293 3.10.7.4 "reset" for data the
    // user cannot receive; Linux's TCPAbortOnData), counted.
    if (c.user_closed && !payload.empty() &&
        (c.st == state::fin_wait_1 || c.st == state::fin_wait_2)) {
        ++_stats.rst_data_after_close;
        send_rst_for(c.t, seg, uint32_t(payload.size()));
        finish(idx, error::connection_reset);
        return;
    }
    // Seventh/eighth: text and FIN.
    if (can_receive_data(c.st)) {
        if (!payload.empty() || fin) process_text(c, s, payload, fin, now);
    } else if (fin && c.st == state::time_wait) {
        c.t_wait = now + _cfg.time_wait;
        c.ack_now = true;
    }
    if (!c.in_use || c.gen != gen) return;
    if (c.st == state::time_wait) {
        if (c.ack_now) send_ack(c, now);
        reschedule(idx);
        return;
    }
    output(idx, now);
}

uint32_t layer::segment_cap(const tcb& c) const {
    tcp_options o;
    o.has_timestamps = c.ts_ok;
    if (c.sack_ok) sack_fill(c, o);
    const uint32_t ol = uint32_t(o.length());
    return c.mss > ol + 64 ? c.mss - ol : c.mss;
}

void layer::retransmit_first(tcb& c, nanos now) {
    const seq32 data_end = c.buf_seq + uint32_t(c.snd.size());
    uint32_t len = data_end > c.snd_una ? data_end.since(c.snd_una) : 0;
    len = record_cap(c, c.snd_una, std::min(len, segment_cap(c)));
    if (c.sack_ok && !c.scoreboard.empty() && c.scoreboard[0].left > c.snd_una)
        len = std::min(len, c.scoreboard[0].left.since(c.snd_una));
    uint8_t flags = tcp_flag::ack | push_flag(c, c.snd_una, len);
    if (c.fin_queued && c.snd_una + len == data_end && c.snd_max > data_end) flags |= tcp_flag::fin;
    if (len == 0 && !(flags & tcp_flag::fin)) return;
    if (!send_segment(c, flags, c.snd_una, len, now)) return;  // RTO or NextSeg resends it
    c.high_rxt = seq32::max(c.high_rxt, c.snd_una + len);
    c.una_rxt = true, c.una_fence = c.snd_max;
    c.timing = false;  // Karn
    undo_note_retransmit(c, c.snd_una, len, now);
    ++_stats.retransmits;
}

// RFC 5681 3.2 / RFC 6582 3.2 / RFC 6675 5: fast retransmit and recovery.
void layer::enter_recovery(tcb& c, nanos now) {
    // RFC 3522 2: remember what the retransmission will carry and what the
    // congestion state was, to undo the reduction if it proves spurious.
    undo_begin(c, now);
    c.undo_armed = c.ts_ok;
    cc_on_loss(c, now);
    c.in_recovery = true;
    c.recover = c.snd_max;
    c.high_rxt = c.snd_una;
    c.rescue_set = false;  // RFC 6675 4 rule 4: RescueRxt undefined for the episode
    c.t_probe = c.t_reo = no_deadline;  // RFC 8985 7.2: no probe during recovery
    ++_stats.fast_retransmits;
    if (c.sack_ok) {
        ++_stats.sack_recoveries;
        c.cwnd = c.ssthresh;  // RFC 6675 5 step (4.2)
    } else {
        c.cwnd = c.ssthresh + 3u * c.mss;  // RFC 5681 3.2 step 3
    }
    retransmit_first(c, now);
    arm_rexmt(c, now);
}

// Fifth step of 3.10.7.4 for a segment that has passed the earlier checks.
// False when the segment must be dropped or the connection is gone.
bool layer::process_ack(uint32_t idx, const tcp_repr& seg, uint32_t payload_len, nanos now) {
    tcb& c = _pool[idx];
    if (c.st == state::syn_received) {
        // 3.10.7.4: SND.UNA < SEG.ACK =< SND.NXT moves us to ESTABLISHED.
        if (!(c.snd_una < seg.ack && seg.ack <= c.snd_max)) {
            ++_stats.drop_bad_ack;
            send_rst_for(c.t, seg, payload_len);
            return false;
        }
        if (c.listener != npos) {
            listener& l = _listeners[c.listener];
            if (l.q_len >= l.backlog) {
                // No room to accept it yet: drop the ACK and stay in
                // SYN-RECEIVED (as Linux without tcp_abort_on_overflow); our
                // SYN-ACK retransmission or the peer's next segment retries.
                ++_stats.drop_backlog_full;
                return false;
            }
            if (l.half_open) --l.half_open;
        }
        c.snd_wnd = uint32_t(seg.window) << c.snd_shift;
        c.max_snd_wnd = std::max(c.max_snd_wnd, c.snd_wnd);
        c.snd_wl1 = seg.seq, c.snd_wl2 = seg.ack;
        if (c.ts_ok && seg.opts.tsecr) ts_rtt_sample(c, seg.opts.tsecr, now);
        else if (c.timing && c.retries == 0) rtt_sample(c, now - c.rtt_start);
        c.timing = false;
        c.st = state::established;
        if (c.listener != npos) enqueue_accept(c);
        on_established(idx, now);
    }
    // RFC 5961 5.2: acceptable iff SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT.
    if (seg.ack > c.snd_max) {
        ++_stats.drop_bad_ack;
        challenge_ack(c, now);  // 3.10.7.4: ACK for unsent data -> ACK, drop
        return false;
    }
    if (seg.ack < c.snd_una - std::max(c.max_snd_wnd, 1u)) {
        ++_stats.drop_bad_ack;
        challenge_ack(c, now);
        return false;
    }
    const bool has_sack = c.sack_ok && seg.opts.num_sack;
    const uint32_t newly_sacked = has_sack ? sack_update(c, seg, now) : 0;
    const uint32_t new_wnd = uint32_t(seg.window) << c.snd_shift;
    const bool window_changed = new_wnd != c.snd_wnd;
    // 3.10.7.4: update the send window from the newest segment only.
    if (c.snd_una <= seg.ack &&
        (c.snd_wl1 < seg.seq || (c.snd_wl1 == seg.seq && c.snd_wl2 <= seg.ack))) {
        c.snd_wnd = new_wnd;
        c.max_snd_wnd = std::max(c.max_snd_wnd, new_wnd);
        c.snd_wl1 = seg.seq, c.snd_wl2 = seg.ack;
        if (new_wnd) c.persist_shift = 0;
    }
    const seq32 data_end = c.buf_seq + uint32_t(c.snd.size());
    if (seg.ack > c.snd_una) {
        const uint32_t acked = seg.ack.since(c.snd_una);
        // RFC 8985 6.2 step 2: the ACK covers part of a hole under SACKed
        // data that was never resent (above HighRxt): the original arrived
        // out of order. RACK's reordering window stops being 0 (sack.cpp).
        if (!c.scoreboard.empty() && c.snd_una < c.scoreboard[0].left &&
            seq32::max(c.snd_una, c.high_rxt) < seq32::min(seg.ack, c.scoreboard[0].left))
            c.reord_seen = true;
        // RTT: RFC 7323 4.1 from TSecr; otherwise RFC 6298 3 timing with Karn's rule.
        if (c.ts_ok && seg.opts.has_timestamps && seg.opts.tsecr)
            ts_rtt_sample(c, seg.opts.tsecr, now);
        else if (c.timing && seg.ack >= c.rtt_seq) rtt_sample(c, now - c.rtt_start);
        if (c.timing && seg.ack >= c.rtt_seq) c.timing = false;
        c.retries = 0;
        // The peer acknowledged new data: its link-layer address works.
        // Tell the neighbour cache, so it need not probe an entry in use
        // (Linux's dst_confirm on forward progress); once a second at most.
        if (now - c.neighbor_confirmed >= sec) {
            c.neighbor_confirmed = now;
            _out.confirm_reachable(c.t.remote_ip, now);
        }
        const seq32 lo = seq32::max(c.snd_una, c.buf_seq);
        const seq32 hi = seq32::min(seg.ack, data_end);
        const uint32_t data_acked = hi > lo ? hi.since(lo) : 0;  // SYN/FIN do not grow cwnd
        // Linux grows cwnd by what this ACK delivered: octets SACKed before
        // (without SACK, a segment per duplicate ACK) count once, when
        // SACKed (ss_ack_limit 0, congestion.hpp).
        const uint32_t delivered = data_acked + newly_sacked -
            std::min(data_acked, c.sack_ok ? c.scoreboard.bytes_above(lo) - c.scoreboard.bytes_above(hi)
                                           : uint32_t(c.dupacks) * c.mss);
        if (hi > lo) {
            c.snd.consume(hi.since(lo));
            c.buf_seq = hi;
            post(idx, ev::writable);
        }
        // A fast retransmit or timeout that proves spurious (undo.cpp).
        const bool rto_undone = undo_on_ack(c, seg, acked);
        c.snd_una = seg.ack;
        if (c.snd_nxt < c.snd_una) c.snd_nxt = c.snd_una;
        if (c.high_rxt < c.snd_una) c.high_rxt = c.snd_una;
        if (c.lost_marked && c.lost_below <= c.snd_una) c.lost_marked = false;
        // The new first hole: if recovery already resent it, when is unknown,
        // so its fence is now (later than the truth: detection waits longer).
        c.una_rxt = c.snd_una < c.high_rxt;
        c.una_fence = c.snd_max;
        // Holes left above the new SND.UNA: when the blocks above them came
        // is not kept, so their reordering window starts now (later: safe).
        c.t_reo = no_deadline;
        c.scoreboard.trim_below(c.snd_una);
        if (c.in_recovery) {
            if (seg.ack >= c.recover) {
                // Full ACK: leave recovery. With SACK cwnd is ssthresh all
                // through (RFC 6675 5) and stays so. NewReno deflates, RFC
                // 6582 3.2 step 3 option 1: min(ssthresh, max(FlightSize,
                // SMSS) + SMSS). Not less: with one segment allowed out after
                // a flight fully ACKed, the peer's delayed ACK (40 ms on
                // Linux) held the next ACK back after every recovery.
                c.in_recovery = false;
                if (!c.sack_ok)
                    c.cwnd = std::min(c.ssthresh, std::max(c.flight(), uint32_t(c.mss)) + c.mss);
                else
                    c.cwnd = c.ssthresh;
                c.dupacks = 0;
            } else if (!c.sack_ok) {
                // RFC 6582 3.2 step 4 (partial ACK): resend the next hole, partial deflation.
                retransmit_first(c, now);
                c.cwnd = c.cwnd > acked ? c.cwnd - acked : 0;
                if (acked >= c.mss) c.cwnd += c.mss;
                c.cwnd = std::max<uint32_t>(c.cwnd, c.mss);
            }
        } else {
            c.dupacks = 0;
            if (data_acked && !rto_undone)
                cc_on_ack(c, _cfg.ss_ack_limit ? data_acked : delivered, now, _cfg.ss_ack_limit);
            // Keep "recover" trailing SND.UNA: sequence comparisons are modulo
            // 2^32, so a recover left 2 GiB behind would look ahead again and
            // block fast retransmit (RFC 6582 3.2 step 2) for the next 2 GiB.
            if (c.snd_una > c.recover) c.recover = c.snd_una;
            if (c.snd_una > c.ecn_recover) c.ecn_recover = c.snd_una;  // the same for ECN
        }
        // RFC 6298 5.2/5.3: stop when all is acknowledged, else restart.
        c.stall_since = 0;  // progress: TCP_USER_TIMEOUT counts afresh (arm_rexmt)
        if (c.flight() == 0) {
            c.t_rexmt = c.t_probe = no_deadline;
        } else {
            arm_rexmt(c, now);
            arm_probe(c, now);  // RFC 8985 7.2: on an ACK for new data
        }
        // Our FIN acknowledged?
        if (c.fin_queued && c.snd_una > data_end) {
            switch (c.st) {
                case state::fin_wait_1:
                    c.st = state::fin_wait_2;
                    if (c.user_closed && _cfg.fin_wait_2_timeout)
                        c.t_keep = now + _cfg.fin_wait_2_timeout;
                    break;
                case state::closing:
                    enter_time_wait(idx, now);
                    break;
                case state::last_ack:
                    finish(idx, error::none);
                    return false;
                default:
                    break;
            }
        }
    } else if (seg.ack == c.snd_una && payload_len == 0 && !seg.has(tcp_flag::fin) &&
               c.flight() > 0 && new_wnd != 0 && (has_sack ? newly_sacked > 0 : !window_changed)) {
        // A duplicate ACK: RFC 5681 2 without SACK blocks (same window); with
        // them, RFC 6675 2: only an ACK that SACKs octets not SACKed before
        // (a D-SACK for a duplicated segment, or a repeat of known blocks, is
        // not a loss signal). A zero window answers probes: not a loss signal.
        ++c.dupacks;
        const bool lost = c.dupacks >= 3 || (c.sack_ok && sack_is_lost(c, c.snd_una));
        if (!c.in_recovery && lost && c.snd_una >= c.recover) {
            enter_recovery(c, now);  // RFC 6582 3.2 step 2: only above "recover"
        } else if (c.in_recovery && !c.sack_ok) {
            c.cwnd += c.mss;  // RFC 5681 3.2 step 4: inflate per duplicate ACK
        }
    }
    if (tlp_on_ack(c, seg, now) && !c.in_recovery && c.snd_una >= c.recover)
        enter_recovery(c, now);  // holes below a SACKed probe (rack_tlp.cpp)
    // RFC 8985: RACK keeps judging holes during recovery, so a hole with
    // less than DupThresh SACKed above it (one left after a partial ACK,
    // say) is resent at once instead of after the RTO (sack.cpp).
    rack_mark_lost_in_recovery(c);
    if (seg.has(tcp_flag::ece)) ecn_on_ece(c, now);  // RFC 3168 6.1.2 (ecn.cpp)
    if (newly_sacked || c.t_reo == no_deadline) arm_reorder(c, now);  // RFC 8985 6.3
    // A lost retransmission: RFC 6675 sends each hole once per recovery, so
    // a resent segment lost again would wait for the RTO. When more than
    // (DupThresh - 1) segments sent after the resend of SND.UNA's segment
    // are SACKed and SND.UNA has not moved, that resend is lost by the same
    // test IsLost() applies to originals (4), and it goes again now.
    if (c.in_recovery && c.sack_ok && c.una_rxt &&
        c.scoreboard.bytes_above(c.una_fence) > 2u * c.mss) {
        ++_stats.lost_retransmits;
        retransmit_first(c, now);
    }
    return true;
}

void layer::process_text(tcb& c, seq32 s, bytes payload, bool fin, nanos now) {
    const uint32_t idx = uint32_t(&c - _pool.data());
    const uint32_t len = uint32_t(payload.size());
    if (len) {
        // Octets already queued out of order, received again (RFC 2883 4).
        for (size_t i = 0; i < c.ooo.count(); ++i) {
            const seq32 l = seq32::max(s, c.ooo[i].left), r = seq32::min(s + len, c.ooo[i].right);
            if (l < r) {
                note_duplicate(c, l, r);
                break;
            }
        }
        if (s == c.rcv_nxt) {
            const uint32_t n = uint32_t(c.rcv.push(payload));
            c.rcv_nxt += n;
            bool filled = false;
            c.ooo.trim_below(c.rcv_nxt);
            if (const uint32_t more = c.ooo.pop_at(c.rcv_nxt)) {
                c.rcv.commit(more);
                c.rcv_nxt += more;
                filled = true;
            }
            post(idx, ev::readable);
            c.unacked_bytes += n;
            c.rcv_mss = std::max(c.rcv_mss, len);
            // Quick-ACK mode (Linux's tcp_event_data_recv): on the first data
            // of a connection, and after a silence longer than the RTO, ACK
            // the next segments at once so a peer in slow start is not held
            // by our delayed-ACK timer; at most half the window in segments.
            if (_cfg.quickacks &&
                (!c.data_seen || (c.rto && now - c.last_data_rx > c.rto))) {
                const uint32_t half = c.rcv.capacity() / (2 * std::max<uint32_t>(c.rcv_mss, 1));
                c.quickacks = uint8_t(std::min<uint32_t>(std::max<uint32_t>(half, 2), _cfg.quickacks));
            }
            c.data_seen = true;
            c.last_data_rx = now;
            // RFC 5681 4.2: ACK at least every second full-sized segment and at
            // once when a gap is filled; otherwise delay (RFC 1122 4.2.3.2).
            if (filled || !c.ooo.empty() || c.unacked_bytes >= 2u * c.rcv_mss) c.ack_now = true;
            else if (c.quickacks) c.ack_now = true, --c.quickacks;
            else if (c.t_delack == no_deadline) c.t_delack = now + _cfg.delayed_ack;
        } else {
            // Out of order: park it beyond the in-order data, ACK at once (RFC 5681 4.2).
            const uint32_t off = s.since(c.rcv_nxt);
            if (off + len <= c.rcv.free() && c.ooo.add(s, s + len)) {
                c.rcv.write_at(c.rcv.size() + off, payload);
                note_ooo_arrival(c, s);
            } else {
                ++_stats.drop_ooo_full;
            }
            c.ack_now = true;
        }
    }
    if (fin) {
        c.fin_pending = true;
        c.fin_seq = s + len;
        if (s != c.rcv_nxt && !len) c.ack_now = true;
    }
    if (c.fin_pending && c.fin_seq == c.rcv_nxt) process_fin(idx, now);
}

// Eighth step of 3.10.7.4: the FIN, once everything before it has arrived.
void layer::process_fin(uint32_t idx, nanos now) {
    tcb& c = _pool[idx];
    c.fin_pending = false;
    c.rcv_nxt += 1;
    c.ack_now = true;
    post(idx, ev::readable | ev::hangup);
    switch (c.st) {
        case state::syn_received:
        case state::established:
            c.st = state::close_wait;
            break;
        case state::fin_wait_1:  // our FIN not yet acknowledged: simultaneous close
            c.st = state::closing;
            break;
        case state::fin_wait_2:
            send_ack(c, now);
            enter_time_wait(idx, now);
            break;
        default:
            break;
    }
}

void layer::icmp_error(const four_tuple& t, seq32 quoted_seq, icmp_kind kind, uint16_t next_mtu,
                       nanos now) {
    const uint32_t idx = find_flow(t);
    if (idx == npos) {
        ++_stats.icmp_ignored;
        return;
    }
    tcb& c = _pool[idx];
    // RFC 5927 4.1: only believe errors quoting a sequence number in flight.
    if (!(c.snd_una <= quoted_seq && quoted_seq < c.snd_max)) {
        ++_stats.icmp_ignored;
        return;
    }
    ++_stats.icmp_accepted;
    switch (kind) {
        case icmp_kind::hard_unreachable:  // RFC 1122 4.2.3.9: abort only while connecting (as Linux)
            if (c.st == state::syn_sent) finish(idx, error::connection_refused);
            return;
        case icmp_kind::frag_needed: {  // RFC 1191 5: shrink the MSS, resend at once
            // Below the 576 octets every IPv4 host must take (RFC 791), keep
            // 576 but send without DF from now on: a path that really is
            // narrower fragments our segments instead of dropping every one
            // of them (RFC 1191 7, as Linux's min_pmtu lock).
            if (next_mtu < 576) c.pmtu_floor = true;
            const uint32_t mtu = next_mtu >= 576 ? next_mtu : 576;
            const uint16_t mss = uint16_t(std::min<uint32_t>(mtu - 40, c.mss));
            if (mss < c.mss) {
                c.mss = mss;
                c.snd_nxt = c.snd_una;
                // Karn (RFC 6298 3): the timed segment is being resent; an
                // ACK for it cannot say which copy arrived.
                c.timing = false;
                output(idx, now);
            }
            return;
        }
        case icmp_kind::soft:  // RFC 1122 4.2.3.9: soft errors do not abort
            return;
    }
}

}  // namespace mvnf::tcp
