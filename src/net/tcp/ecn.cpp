// Explicit Congestion Notification for TCP (RFC 3168 section 6.1). A router
// that would drop an ECN-capable packet marks it CE instead; the receiver
// echoes the mark with ECE on its ACKs until the sender answers CWR; the
// sender reduces cwnd as for a loss, once per window, without losing or
// resending anything.
//
// Agreed in the handshake: an ECN-setup SYN carries ECE and CWR, the
// ECN-setup SYN-ACK carries ECE alone (6.1.1). Data segments of an agreed
// connection leave as ECT(0); pure ACKs, retransmissions and window probes
// do not (6.1.4-6.1.6), since nothing would answer their marks. A SYN cookie
// carries the grant in its TSval bits (isn.hpp), so only with timestamps.
#include <algorithm>

#include "net/tcp/congestion/congestion.hpp"
#include "net/tcp/layer.hpp"

namespace mvnf::tcp {

namespace tcp_flag = wire::tcp_flag;

namespace {
constexpr uint8_t ect0 = 2, ce = 3;  // IP ECN field values (RFC 3168 5)
}  // namespace

// RFC 3168 6.1.1: a passive open grants ECN to a SYN that asks (ECE and CWR).
void layer::ecn_on_syn(tcb& c, const wire::tcp_repr& seg) {
    const bool asks = seg.has(tcp_flag::ece) && seg.has(tcp_flag::cwr);
    c.ecn_ok = _cfg.ecn != 0 && asks;
}

// An active open's SYN-ACK agrees with ECE set and CWR clear, and only to a
// SYN that asked (a retransmitted SYN does not ask: 6.1.1.1).
void layer::ecn_on_synack(tcb& c, const wire::tcp_repr& seg) {
    c.ecn_ok = c.ecn_asked && seg.has(tcp_flag::ece) && !seg.has(tcp_flag::cwr);
}

// 6.1.3: a CWR ends the echo; a CE mark (on the same segment too) starts it
// again. The first mark of an echo is answered at once rather than after the
// delayed-ACK time, so the sender hears of it within an RTT.
void layer::ecn_on_segment(tcb& c, const wire::tcp_repr& seg, uint8_t ip_ecn) {
    if (!c.ecn_ok) return;
    if (seg.has(tcp_flag::cwr)) c.ece_out = false;
    if (ip_ecn != ce) return;
    ++_stats.ecn_ce_received;
    if (!c.ece_out) c.ack_now = true;
    c.ece_out = true;
}

// 6.1.2: the peer saw a mark on our data. cwnd and ssthresh go down as for
// a loss, at most once per window (until what was in flight is ACKed) and
// not inside a loss recovery, which has reduced them already. The next new
// data segment carries CWR. A reduction the network asked for is real: no
// undo episode may restore the state from before it.
void layer::ecn_on_ece(tcb& c, nanos now) {
    if (!c.ecn_ok || c.in_recovery || c.snd_una < c.ecn_recover) return;
    cc_on_loss(c, now);
    c.cwnd = std::max<uint32_t>(c.ssthresh, c.mss);
    c.cwr_out = true;
    c.ecn_recover = c.snd_max;
    c.undo_armed = c.rto_undo_armed = c.dsack_undo = false;
    ++_stats.ecn_reductions;
}

// The ECN part of an outgoing segment: its flags and its IP ECN field.
uint8_t layer::ecn_outgoing(tcb& c, uint8_t& flags, seq32 seq, uint32_t len) {
    if (flags & tcp_flag::syn) {
        if (!(flags & tcp_flag::ack)) {
            // Ask on the first SYN only: a SYN lost to a middlebox that drops
            // ECN-setup SYNs is not asked again (6.1.1.1).
            c.ecn_asked = _cfg.ecn == 1 && c.retries == 0;
            if (c.ecn_asked) flags |= tcp_flag::ece | tcp_flag::cwr;
        } else if (c.ecn_ok) {
            flags |= tcp_flag::ece;
        }
        return 0;
    }
    if (!c.ecn_ok || (flags & tcp_flag::rst)) return 0;
    if (c.ece_out && (flags & tcp_flag::ack)) flags |= tcp_flag::ece;
    // New data into an open window: ECT, and the owed CWR. A segment that
    // starts below SND.MAX is a retransmission; a zero window means a probe.
    if (len == 0 || seq < c.snd_max || c.snd_wnd == 0) return 0;
    if (c.cwr_out) flags |= tcp_flag::cwr;
    return ect0;
}

}  // namespace mvnf::tcp
