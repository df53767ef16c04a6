// Control segments that no connection holds — resets answering stray
// segments (RFC 9293 3.10.7.1), resets of aborted connections, and cookie
// SYN-ACKs (RFC 4987 3.6) — wait here when the port has no TX buffer, and go
// out first at the next poll. A connection's own segments need no such queue:
// the connection keeps its state and tx_retry() runs its output again. A
// full queue drops the segment and counts it (drop_ctl_full); the peer's
// retransmission then asks again.
#include "net/tcp/layer.hpp"

namespace mvnf::tcp {

void layer::emit_or_defer(const four_tuple& t, const wire::tcp_repr& h) {
    // Behind others already waiting: keep the order the stack decided on.
    if (_ctl_len == 0 && _out.emit_segment(t.local_ip, t.remote_ip, h, {}, {}, 0)) return;
    defer_ctl(t, h);
}

// The sink has just refused h: queue it without asking again.
void layer::defer_ctl(const four_tuple& t, const wire::tcp_repr& h) {
    ++_stats.tx_blocked;
    if (_ctl_len == _ctl.size()) {
        ++_stats.drop_ctl_full;
        return;
    }
    ++_stats.ctl_deferred;
    _ctl[(_ctl_head + _ctl_len++) % _ctl.size()] = {t, h};
}

void layer::ctl_retry() {
    while (_ctl_len) {
        const ctl_segment& s = _ctl[_ctl_head];
        if (!_out.emit_segment(s.t.local_ip, s.t.remote_ip, s.h, {}, {}, 0)) return;
        _ctl_head = (_ctl_head + 1) % _ctl.size();
        --_ctl_len;
    }
}

}  // namespace mvnf::tcp
