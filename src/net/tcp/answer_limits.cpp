// Rate limits on the answers the layer sends to segments it does not
// accept: challenge ACKs (RFC 5961 7), per connection and per layer, and
// resets to closed ports (RFC 9293 3.10.7.1). Each bounds what an attacker
// can make us send, and none may become a side channel.
#include <algorithm>

#include "net/tcp/layer.hpp"

namespace mvnf::tcp {

// Resets answering segments to CLOSED ports: a budget per 100 ms of
// closed_rst_rate / 10 (at least 1).
bool layer::closed_rst_allowed(nanos now) {
    if (now - _closed_rst_window >= 100 * ms || now < _closed_rst_window) {
        _closed_rst_window = now;
        _closed_rst_count = 0;
    }
    if (_closed_rst_count >= std::max<uint32_t>(_cfg.closed_rst_rate / 10, 1)) return false;
    ++_closed_rst_count;
    return true;
}

// RFC 5961 7: challenge ACKs are rate-limited. A single per-layer count
// shared by every connection is a side channel (CVE-2016-5696): an
// off-path host that exhausts it and counts the challenge ACKs on its own
// connection learns whether its spoofed segments hit another connection's
// window. So the limit is first per connection (one per interval: the
// observer's own connection yields the same count whatever happened
// elsewhere), and the per-layer budget, which only bounds output under a
// flood over many connections, is redrawn each second at random.
void layer::challenge_ack(tcb& c, nanos now) {
    if (now < c.challenge_ok_at) {
        ++_stats.challenge_acks_suppressed;
        return;
    }
    if (_challenge_budget == 0 || now - _challenge_window >= sec) {
        _challenge_window = now;
        _challenge_count = 0;
        const uint32_t words[2] = {uint32_t(now), uint32_t(uint64_t(now) >> 32)};
        const uint32_t limit = std::max<uint32_t>(_cfg.challenge_ack_limit, 1);
        _challenge_budget = limit / 2 + uint32_t(siphash24(_cfg.secret, words, 2) % limit);
        _challenge_budget = std::max<uint32_t>(_challenge_budget, 1);
    }
    if (_challenge_count >= _challenge_budget) {
        ++_stats.challenge_acks_suppressed;
        return;
    }
    c.challenge_ok_at = now + _cfg.challenge_ack_interval;
    ++_challenge_count;
    ++_stats.challenge_acks;
    send_ack(c, now);
}

// RFC 9293 3.10.7.4 answers an unacceptable segment (out of the window, or
// failing PAWS, RFC 7323 5.3) with an ACK. A SYN is answered by a challenge
// ACK whatever its sequence number (RFC 5961 4.2). A segment with neither
// data nor FIN shares the connection's challenge-ACK interval, as Linux's
// tcp_invalid_ratelimit does: unlimited, any host could make us send one
// ACK per spoofed segment on a connection's 4-tuple, and two ends that
// disagree about the window would ACK each other at line rate. Data or a
// FIN beyond the window is always answered: that ACK is what tells a peer
// retransmitting old data where we are.
void layer::answer_unacceptable(tcb& c, const wire::tcp_repr& seg, size_t payload_len, nanos now) {
    if (seg.has(wire::tcp_flag::syn)) {
        challenge_ack(c, now);
        return;
    }
    if (payload_len == 0 && !seg.has(wire::tcp_flag::fin)) {
        if (now < c.challenge_ok_at) {
            ++_stats.oow_acks_suppressed;
            return;
        }
        c.challenge_ok_at = now + _cfg.challenge_ack_interval;
    }
    send_ack(c, now);
}

}  // namespace mvnf::tcp
