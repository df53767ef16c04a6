// NewReno congestion control (RFC 5681 section 3.1, RFC 6582) and the common
// dispatch for congestion hooks. Called from input.cpp and timers.cpp.
#include <algorithm>

#include "net/tcp/congestion/congestion.hpp"

namespace mvnf::tcp {

void cc_init(tcb& c, uint16_t iw_segments) {
    // RFC 6928 2: IW = min(10*MSS, max(2*MSS, 14600)); we take the configured count.
    c.cwnd = uint32_t(std::max<uint16_t>(iw_segments, 1)) * c.mss;
    c.ssthresh = 0x7fffffff;  // RFC 5681 3.1: arbitrarily high
    c.bytes_acked = 0;
    c.cubic = {};
}

void cc_switch(tcb& c) { cubic_reset(c); }

void cc_on_ack(tcb& c, uint32_t acked, nanos now, uint8_t ss_limit) {
    if (c.cwnd < c.ssthresh) {
        // RFC 5681 3.1 eq. 2 with RFC 3465 byte counting, L = ss_limit SMSS
        // (2 by default); 0: all the ACK covers, as Linux's tcp_slow_start
        // (capped at ssthresh there too).
        if (ss_limit) {
            c.cwnd += std::min<uint32_t>(acked, uint32_t(ss_limit) * c.mss);
        } else if (uint64_t(c.cwnd) < 2 * uint64_t(c.max_flight)) {
            // Linux's tcp_is_cwnd_limited in slow start: only while the
            // flight used more than half of cwnd (an application that
            // sends less does not earn a larger window; RFC 7661 1).
            c.cwnd = std::min<uint32_t>(c.cwnd + acked, std::max(c.ssthresh, c.cwnd));
        }
        return;
    }
    if (c.cc == congestion_algo::cubic) cubic_on_ack(c, acked, now);
    else reno_on_ack(c, acked);
}

uint32_t cc_on_loss(tcb& c, nanos /*now*/) {
    if (c.cc == congestion_algo::cubic) return c.ssthresh = cubic_on_loss(c);
    // RFC 5681 3.1 eq. 4: ssthresh = max(FlightSize / 2, 2*SMSS).
    c.ssthresh = std::max(c.flight() / 2, 2u * c.mss);
    return c.ssthresh;
}

void cc_on_rto(tcb& c, nanos now) {
    cc_on_loss(c, now);
    c.cwnd = c.mss;  // RFC 5681 3.1: LW = 1 SMSS
    c.bytes_acked = 0;
    if (c.cc == congestion_algo::cubic) c.cubic.epoch_valid = false;
}

// RFC 5681 3.1 eq. 3, by appropriate byte counting (RFC 3465 2.1): +1 SMSS
// per cwnd's worth of acknowledged bytes.
void reno_on_ack(tcb& c, uint32_t acked) {
    c.bytes_acked += acked;
    if (c.bytes_acked >= c.cwnd) {
        c.bytes_acked -= c.cwnd;
        c.cwnd += c.mss;
    }
}

}  // namespace mvnf::tcp
