// CUBIC congestion avoidance (RFC 9438): window growth as a cubic function of
// time since the last congestion event, with a Reno-friendly region. Called
// through the hooks in reno.cpp for connections whose tcb.cc is cubic.
#include <algorithm>
#include <cmath>

#include "net/tcp/congestion/congestion.hpp"

namespace mvnf::tcp {

namespace {
constexpr double C = 0.4;           // RFC 9438 4.1
constexpr double beta = 0.7;        // RFC 9438 4.6
constexpr double alpha = 3.0 * (1.0 - beta) / (1.0 + beta);  // RFC 9438 4.3
}  // namespace

void cubic_reset(tcb& c) { c.cubic = {}; }

void cubic_on_ack(tcb& c, uint32_t acked, nanos now) {
    cubic_state& s = c.cubic;
    const double mss = c.mss;
    const double cwnd_seg = c.cwnd / mss;
    if (!s.epoch_valid) {
        // RFC 9438 4.2: a new epoch starts at the first ACK in congestion avoidance.
        s.epoch_valid = true;
        s.epoch_start = now;
        if (s.w_max < cwnd_seg) {
            s.k = 0;
            s.w_max = cwnd_seg;
        } else {
            s.k = std::cbrt((s.w_max - cwnd_seg) / C);  // eq. 2 with cwnd_epoch = cwnd
        }
        s.w_est = cwnd_seg;
    }
    const double rtt = c.have_rtt ? double(c.srtt) / 1e9 : 0.1;
    const double t = double(now - s.epoch_start) / 1e9;
    // eq. 1 evaluated one RTT ahead (4.2: target = W_cubic(t + RTT)).
    const double dt = t + rtt - s.k;
    double target = C * dt * dt * dt + s.w_max;
    target = std::clamp(target, cwnd_seg, 1.5 * cwnd_seg);
    // 4.3: Reno-friendly estimate grows alpha segments per cwnd acked.
    s.w_est += alpha * (acked / mss) / cwnd_seg;
    double next;
    if (s.w_est > target) next = cwnd_seg + (s.w_est - cwnd_seg) * (acked / mss) / cwnd_seg;
    else next = cwnd_seg + (target - cwnd_seg) * (acked / mss) / cwnd_seg;  // 4.4/4.5
    const uint32_t grown = uint32_t(next * mss);
    if (grown > c.cwnd) c.cwnd = grown;
}

uint32_t cubic_on_loss(tcb& c) {
    cubic_state& s = c.cubic;
    const double cwnd_seg = c.cwnd / double(c.mss);
    // RFC 9438 4.7 fast convergence.
    if (cwnd_seg < s.w_max) s.w_max = cwnd_seg * (1.0 + beta) / 2.0;
    else s.w_max = cwnd_seg;
    s.cwnd_prior = cwnd_seg;
    s.epoch_valid = false;
    // 4.6: ssthresh = cwnd * beta, floored at 2 SMSS.
    return std::max<uint32_t>(uint32_t(c.cwnd * beta), 2u * c.mss);
}

}  // namespace mvnf::tcp
