// Congestion control hooks called by input.cpp (ACKs, recovery) and timers.cpp
// (RTO). Dispatch is a switch on tcb.cc: NewReno (reno.cpp, RFC 5681/6582) or
// CUBIC (cubic.cpp, RFC 9438); selectable per connection.
#pragma once

#include "net/tcp/tcb.hpp"

namespace mvnf::tcp {

// Initial window (RFC 6928 / RFC 5681 3.1) and ssthresh "arbitrarily high".
void cc_init(tcb& c, uint16_t iw_segments);
// Re-seeds algorithm state after set_congestion().
void cc_switch(tcb& c);
// New data acknowledged outside recovery (slow start / congestion avoidance).
// ss_limit: slow-start growth per ACK in SMSS (config::ss_ack_limit).
void cc_on_ack(tcb& c, uint32_t acked, nanos now, uint8_t ss_limit);
// Loss detected by duplicate ACKs or SACK: sets ssthresh (RFC 5681 eq. 4,
// RFC 9438 4.6) and returns it.
uint32_t cc_on_loss(tcb& c, nanos now);
// Retransmission timeout: RFC 5681 3.1 eq. 4, cwnd = loss window (1 SMSS).
void cc_on_rto(tcb& c, nanos now);

// Algorithm-specific pieces.
void reno_on_ack(tcb& c, uint32_t acked);
void cubic_on_ack(tcb& c, uint32_t acked, nanos now);
uint32_t cubic_on_loss(tcb& c);
void cubic_reset(tcb& c);

}  // namespace mvnf::tcp
