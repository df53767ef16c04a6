// Per-connection timers: one hierarchical timer wheel entry per connection,
// armed for its earliest deadline (so next_deadline() is a bitmap scan and
// poll() touches only due connections), RTT
// estimation (RFC 6298), retransmission with exponential backoff, zero-window
// persist, keep-alive (RFC 1122 4.2.3.6), idle timeout, TIME-WAIT expiry
// (entering TIME-WAIT is in time_wait.cpp).
#include <algorithm>

#include "net/tcp/congestion/congestion.hpp"
#include "net/tcp/layer.hpp"

namespace mvnf::tcp {

// ---------------------------------------------------------------- scheduling

// Each slot has one wheel timer, armed at or before the earliest of the
// tcb's deadlines (tcb.deadline). A deadline moving earlier re-arms it; one
// moving later leaves it armed: on_timers() then finds nothing due and
// re-arms for the real deadline. The retransmission timer restarts on
// almost every ACK (RFC 6298 5.3), so this turns most updates into a
// compare, and the rest are O(1) wheel operations; nothing is walked.
void layer::reschedule(uint32_t idx) {
    tcb& c = _pool[idx];
    const nanos d =
        std::min({c.t_rexmt, c.t_persist, c.t_delack, c.t_keep, c.t_wait, c.t_probe, c.t_reo, c.t_cork});
    c.deadline = c.in_use ? d : no_deadline;
    net::timer& t = _timers[idx];
    if (c.deadline == no_deadline) {
        _wheel.cancel(t);
        return;
    }
    if (!t.armed() || d < t.deadline() - (timer_tick - 1)) _wheel.arm(t, d);
}

void layer::unschedule(uint32_t idx) {
    _wheel.cancel(_timers[idx]);
    _pool[idx].deadline = no_deadline;
}

void layer::poll(nanos now) {
    tx_retry(now);
    _wheel.advance(now);  // fires on_timers() for each due slot
}

void layer::on_timers(uint32_t idx, nanos now) {
    tcb& c = _pool[idx];
    const uint32_t gen = c.gen;
    auto alive = [&] { return c.in_use && c.gen == gen; };
    if (c.t_wait <= now) {
        c.t_wait = no_deadline;
        ++_stats.time_wait_expired;
        finish(idx, error::none);  // RFC 9293 3.10.8: 2MSL over, delete the TCB
        return;
    }
    if (c.t_delack <= now) {
        c.t_delack = no_deadline;
        ++_stats.delayed_acks;
        send_ack(c, now);
    }
    if (c.t_reo <= now) {  // RACK's reordering window (rack_tlp.cpp)
        c.t_reo = no_deadline;
        on_reorder_timeout(idx, now);
        if (!alive()) return;
    }
    // A tail loss probe due at the same time as the RTO goes first and
    // re-arms the RTO (RFC 8985 7.2: the probe replaces that timeout once).
    if (c.t_probe <= now) {
        c.t_probe = no_deadline;
        on_probe_timeout(idx, now);
    }
    if (c.t_rexmt <= now) {
        c.t_rexmt = no_deadline;
        on_rexmt_timeout(idx, now);
        if (!alive()) return;
    }
    if (c.t_persist <= now) {
        c.t_persist = no_deadline;
        on_persist_timeout(c, now);
    }
    if (c.t_cork <= now) {  // what a cork or MSG_MORE held (output.cpp)
        c.t_cork = no_deadline;
        output(idx, now, push_wakeup);
    }
    if (c.t_keep <= now) {
        c.t_keep = no_deadline;
        on_keep_timeout(idx, now);
        if (!alive()) return;
    }
    reschedule(idx);
}

// ---------------------------------------------------------------- RTT / RTO

// RFC 6298 2.2/2.3 (alpha 1/8, beta 1/4, K 4), clamped per 2.4/2.5.
void layer::rtt_sample(tcb& c, nanos r) {
    if (r == 0) r = 1;
    if (!c.have_rtt) {
        c.srtt = r;
        c.rttvar = r / 2;
        c.have_rtt = true;
    } else {
        const nanos diff = c.srtt > r ? c.srtt - r : r - c.srtt;
        c.rttvar = (3 * c.rttvar + diff) / 4;
        c.srtt = (7 * c.srtt + r) / 8;
    }
    const nanos g = ms;  // clock granularity G
    // config::rto_linux: the minimum is a floor of the variance term, as
    // Linux's tcp_set_rto (SRTT + max(4 RTTVAR, rto_min)), not of the RTO.
    const nanos var = _cfg.rto_linux ? std::max(4 * c.rttvar, _cfg.rto_min) : std::max(g, 4 * c.rttvar);
    c.rto = std::clamp(c.srtt + var, _cfg.rto_min, _cfg.rto_max);
}

// RFC 7323 4.1: an RTT sample from an echoed timestamp, if the echo can be
// one of ours: not from the future (a TSecr ahead of our clock) and not
// older than the longest RTO (a stale or forged echo). Taken as is, such a
// value wraps to a sample of weeks, and SRTT, and so the RTO, would sit at
// the 60 s cap: a minute's stall per loss. (Linux drops echoes from the
// future the same way; the age bound is ours.)
void layer::ts_rtt_sample(tcb& c, uint32_t tsecr, nanos now) {
    const uint32_t d = tsval(c, now) - tsecr;  // milliseconds
    if (int32_t(d) < 0 || nanos(d) * ms > _cfg.rto_max) {
        ++_stats.rtt_samples_rejected;
        return;
    }
    rtt_sample(c, nanos(d) * ms);
}

// RFC 6298 5.1/5.3: (re)start the timer for the current RTO. With
// TCP_USER_TIMEOUT the timer fires no later than the moment it runs out
// (as Linux clamps its RTO to it), so the abort is on time.
void layer::arm_rexmt(tcb& c, nanos now) {
    nanos rto = c.rto;
    for (uint8_t i = 0; i < c.retries && rto < _cfg.rto_max; ++i) rto *= 2;  // 5.5 backoff
    c.t_rexmt = now + std::min(rto, _cfg.rto_max);
    if (c.stall_since == 0) c.stall_since = now;
    if (c.user_timeout) c.t_rexmt = std::min(c.t_rexmt, std::max(now, c.stall_since + c.user_timeout));
}

// TCP_USER_TIMEOUT: data (or a zero window) without progress for that long.
bool layer::user_timed_out(const tcb& c, nanos now) const {
    return c.user_timeout && c.stall_since && now - c.stall_since >= c.user_timeout;
}

void layer::on_rexmt_timeout(uint32_t idx, nanos now) {
    tcb& c = _pool[idx];
    if (c.flight() == 0 && c.st != state::syn_sent && c.st != state::syn_received) return;
    if (is_synchronized(c.st) && c.snd_wnd == 0) {
        // The peer closed its window under data in flight: probe (persist)
        // instead of counting retransmissions towards R2 (RFC 1122 4.2.2.17).
        on_persist_timeout(c, now);
        return;
    }
    if (user_timed_out(c, now)) {
        // RFC 5482: the application's limit on unacknowledged data ran
        // out before R2; give up as at R2.
        if (is_synchronized(c.st)) send_rst(c, now);
        c.user_closed = c.user_closed || c.listener != npos;
        finish(idx, error::timed_out);
        return;
    }
    ++_stats.rto_timeouts;
    ++c.retries;
    const uint8_t limit = c.st == state::syn_sent       ? _cfg.syn_retries
                          : c.st == state::syn_received ? _cfg.synack_retries
                                                        : _cfg.max_retries;
    if (c.retries > limit) {
        // RFC 1122 4.2.3.5 R2 reached: give up on the connection.
        if (is_synchronized(c.st)) send_rst(c, now);
        c.user_closed = c.user_closed || c.listener != npos;
        finish(idx, error::timed_out);
        return;
    }
    if (is_synchronized(c.st) || c.st == state::syn_received) {
        // RFC 3522 2 for a timeout: an episode begins here unless a fast
        // retransmit's is still open (its prior state is then the one to
        // restore). The next ACK of new data judges it (undo.cpp).
        if (c.retries == 1 && is_synchronized(c.st)) {
            if (!undo_open(c, now)) undo_begin(c, now);
            c.rto_undo_armed = c.ts_ok;
        }
        // RFC 5681 3.1 eq. 4 on the first timeout; cwnd to the loss window.
        if (c.retries == 1) cc_on_rto(c, now);
        else c.cwnd = c.mss;
        c.in_recovery = false;
        c.undo_armed = false;  // the fast retransmit's undo, if open, became the timeout's
        c.dupacks = 0;
        c.recover = c.snd_max;  // RFC 6582 4: no fast retransmit for pre-RTO data
        c.scoreboard.clear();   // RFC 2018 8: the receiver may renege after an RTO
        c.high_rxt = c.snd_una;
        c.tlp_out = c.lost_marked = c.una_rxt = false;  // the timeout ends a probe episode
        c.t_probe = c.t_reo = no_deadline;
    }
    c.timing = false;  // Karn: never time a retransmitted segment
    c.snd_nxt = c.snd_una;  // go back N from the first unacknowledged octet
    ++_stats.retransmits;
    output(idx, now);
    if (c.in_use) arm_rexmt(c, now);
}

// RFC 9293 3.8.6.1: probe a zero window with one octet, backing off like the
// RTO. The octet must be one of ours still queued: when only the FIN is left
// (unsent, or sent and unacknowledged) there is none, and the probe is a
// zero-length segment at SND.UNA - 1 instead, an old sequence number the
// peer must answer with its window (as Linux's tcp_xmit_probe_skb; the
// same shape as a keep-alive, RFC 1122 4.2.3.6). The FIN goes once the
// window opens (output()).
void layer::on_persist_timeout(tcb& c, nanos now) {
    const seq32 data_end = c.buf_seq + uint32_t(c.snd.size());
    const bool fin_waiting = c.fin_queued && c.snd_una <= data_end;
    if (c.snd_wnd != 0 || (c.unsent() == 0 && c.flight() == 0 && !fin_waiting)) {
        c.persist_shift = 0;
        return;
    }
    // TCP_USER_TIMEOUT also bounds how long buffered data may wait behind a
    // zero window (Linux: counted from the first probe).
    if (c.stall_since == 0) c.stall_since = now;
    if (user_timed_out(c, now)) {
        send_rst(c, now);
        finish(uint32_t(&c - _pool.data()), error::timed_out);
        return;
    }
    ++_stats.zero_window_probes;
    if (!(c.snd_una < data_end)) {
        send_segment(c, wire::tcp_flag::ack, c.snd_una - 1, 0, now);
    } else if (c.flight() > 0) {
        send_segment(c, wire::tcp_flag::ack, c.snd_una, 1, now);
    } else {
        send_segment(c, wire::tcp_flag::ack, c.snd_nxt, 1, now);
        c.snd_nxt += 1;
        c.snd_max = seq32::max(c.snd_max, c.snd_nxt);
    }
    if (c.persist_shift < 10) ++c.persist_shift;
    nanos d = c.rto;
    for (uint8_t i = 0; i < c.persist_shift && d < _cfg.rto_max; ++i) d *= 2;
    c.t_persist = now + std::min(std::max(d, c.rto), _cfg.rto_max);
    if (c.user_timeout) c.t_persist = std::min(c.t_persist, c.stall_since + c.user_timeout);
}

// Keep-alive (RFC 1122 4.2.3.6), idle timeout and the orphaned FIN-WAIT-2 timeout.
void layer::on_keep_timeout(uint32_t idx, nanos now) {
    tcb& c = _pool[idx];
    if (c.st == state::fin_wait_2 && c.user_closed) {
        finish(idx, error::none);
        return;
    }
    nanos next = no_deadline;
    if (_cfg.idle_timeout && is_synchronized(c.st)) {
        if (now - c.last_rx >= _cfg.idle_timeout) {
            send_rst(c, now);
            finish(idx, error::timed_out);
            return;
        }
        next = c.last_rx + _cfg.idle_timeout;
    }
    if (c.keepalive && is_synchronized(c.st)) {
        const nanos idle = now - c.last_rx;
        if (idle < keep_idle(c)) {
            c.keep_sent = 0;
            next = std::min(next, c.last_rx + keep_idle(c));
        } else if (c.user_timeout ? (c.keep_sent > 0 && idle >= c.user_timeout)
                                  : c.keep_sent >= keep_probes(c)) {
            // With TCP_USER_TIMEOUT the silence it allows decides, not the
            // probe count (as Linux).
            send_rst(c, now);
            finish(idx, error::timed_out);
            return;
        } else {
            // A probe is an old sequence number with no data: the peer must ACK it.
            ++_stats.keepalive_probes;
            ++c.keep_sent;
            send_segment(c, wire::tcp_flag::ack, c.snd_una - 1, 0, now);
            next = std::min(next, now + keep_intvl(c));
        }
    }
    c.t_keep = next;
}

}  // namespace mvnf::tcp
