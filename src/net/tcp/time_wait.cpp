// TIME-WAIT (RFC 9293 3.10.7.4): entering it, and lending its slots to new
// connections. A connection in TIME-WAIT only answers retransmitted FINs and
// stray segments for 2MSL; it holds no data. When the pool has no free slot,
// a new connection (passive or active open) takes the slot of the one that
// entered TIME-WAIT first, rather than being refused: a server that closes
// first (HTTP/1.0) would otherwise fill max_concurrency with TIME-WAIT
// connections within seconds and reset every later SYN. Linux bounds the
// same state separately (tcp_max_tw_buckets) and, past the bound, skips
// TIME-WAIT for the newest; reclaiming the oldest keeps the protection where
// it matters most (segments of a just-closed connection are the likeliest
// to still be in flight). Each reclaim is counted (time_wait_reclaimed).
// A SYN for the 4-tuple itself may end TIME-WAIT early (RFC 6191).
#include "net/tcp/layer.hpp"

namespace mvnf::tcp {

void layer::enter_time_wait(uint32_t idx, nanos now) {
    tcb& c = _pool[idx];
    c.st = state::time_wait;
    c.t_rexmt = c.t_persist = c.t_keep = c.t_delack = c.t_cork = no_deadline;
    c.t_wait = now + _cfg.time_wait;  // RFC 9293 3.10.7.4: 2MSL
    post(idx, ev::hangup | ev::readable);
    reschedule(idx);
    shed_buffers(idx);
    if (_tw_in[idx]) return;
    _tw_in[idx] = 1;
    ++_tw_count;
    _tw_prev[idx] = _tw_tail;
    _tw_next[idx] = npos;
    if (_tw_tail == npos) _tw_head = idx;
    else _tw_next[_tw_tail] = idx;
    _tw_tail = idx;
}

// Called wherever a slot leaves TIME-WAIT (finish, free_tcb); a no-op for
// slots not listed.
void layer::tw_unlink(uint32_t idx) {
    if (!_tw_in[idx]) return;
    _tw_in[idx] = 0;
    --_tw_count;
    const uint32_t p = _tw_prev[idx], n = _tw_next[idx];
    if (p == npos) _tw_head = n;
    else _tw_next[p] = n;
    if (n == npos) _tw_tail = p;
    else _tw_prev[n] = p;
}

// RFC 6191 2: may a SYN (no ACK) open a new incarnation of the 4-tuple that
// `c` holds in TIME-WAIT? With timestamps on both incarnations the TSval
// decides (it increases across connections between two hosts, as ours and
// Linux's do), so a peer that reuses a port at once is not held up by where
// its ISN fell; without them the RFC 9293 3.10.7.4 / RFC 1122 4.2.2.13 rule
// applies (the SYN's sequence number above the old one). A SYN that fails
// goes to the TIME-WAIT connection as any segment does.
bool layer::time_wait_reopens(const tcb& c, const wire::tcp_repr& seg) const {
    // "Timestamps would be enabled for the new incarnation" (RFC 6191 2):
    // the SYN offers them and we would agree (adopt_syn_options).
    const bool ts_new = _cfg.timestamps && seg.opts.has_timestamps;
    const bool seq_above = seg.seq > c.rcv_nxt;  // the last sequence number seen, plus one
    if (!c.ts_ok) return ts_new || seq_above;  // the previous incarnation had no timestamps
    if (!ts_new) return seq_above;
    const int32_t d = int32_t(seg.opts.tsval - c.ts_recent);  // modulo 2^32 (RFC 7323 5.2)
    return d > 0 || (d == 0 && seq_above);
}

bool layer::reclaim_time_wait() {
    // A connection whose socket the user still holds (shut down for writing
    // only) keeps its slot after CLOSED; it leaves the list and the next one
    // is tried. Bounded by the list's length.
    while (_tw_head != npos) {
        const uint32_t idx = _tw_head;
        ++_stats.time_wait_reclaimed;
        finish(idx, error::none);  // unlinks idx
        if (!_free.empty()) return true;
    }
    return false;
}

}  // namespace mvnf::tcp
