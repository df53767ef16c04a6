// Linux's struct tcp_info (netinet/tcp.h layout) from the layer's conn_info:
// what getsockopt(TCP_INFO) reports, shared by the C API (sockopt.cpp) and
// the packetdrill library (packetdrill/host_io.cpp) so both answer alike.
// Header-only: the packetdrill library does not link the C API.
#pragma once

#include <netinet/tcp.h>

#include "net/tcp/layer.hpp"

namespace mvnf::api {

// Linux's TCP state numbering (include/net/tcp_states.h) for tcpi_state.
inline uint8_t linux_tcp_state(tcp::state s) {
    switch (s) {
        case tcp::state::established: return 1;
        case tcp::state::syn_sent: return 2;
        case tcp::state::syn_received: return 3;
        case tcp::state::fin_wait_1: return 4;
        case tcp::state::fin_wait_2: return 5;
        case tcp::state::time_wait: return 6;
        case tcp::state::closed: return 7;
        case tcp::state::close_wait: return 8;
        case tcp::state::last_ack: return 9;
        case tcp::state::listen: return 10;
        case tcp::state::closing: return 11;
    }
    return 7;
}

// info: the connection's, or null (a socket never connected: CLOSE, or a
// listener: LISTEN). Times in microseconds, windows in segments, as Linux.
// now: the stack's clock, for the "ago" fields.
inline tcp_info linux_tcp_info(const tcp::conn_info* info, bool listener, const tcp::config& cfg,
                               tcp::nanos now) {
    tcp_info ti{};
    if (listener) {
        ti.tcpi_state = 10;
        return ti;
    }
    if (!info) {
        ti.tcpi_state = 7;  // CLOSE
        return ti;
    }
    ti.tcpi_state = linux_tcp_state(info->st);
    ti.tcpi_options = (info->ts_ok ? TCPI_OPT_TIMESTAMPS : 0) | (info->sack_ok ? TCPI_OPT_SACK : 0) |
                      (info->ws_ok ? TCPI_OPT_WSCALE : 0) | (info->ecn_ok ? TCPI_OPT_ECN : 0);
    ti.tcpi_snd_wscale = info->snd_shift & 0xf;
    ti.tcpi_rcv_wscale = info->rcv_shift & 0xf;
    ti.tcpi_rto = uint32_t(info->rto / 1000);
    ti.tcpi_snd_mss = info->mss;
    ti.tcpi_rcv_mss = cfg.mss;
    ti.tcpi_advmss = info->advmss;
    ti.tcpi_unacked = info->mss ? info->flight / info->mss : 0;
    ti.tcpi_rtt = uint32_t(info->srtt / 1000);
    ti.tcpi_snd_ssthresh = info->mss ? info->ssthresh / info->mss : 0;
    ti.tcpi_snd_cwnd = info->mss ? info->cwnd / info->mss : 0;
    ti.tcpi_rcv_space = uint32_t(cfg.rcvbuf - info->recv_queued);
    if (info->last_data_rx && now >= info->last_data_rx)
        ti.tcpi_last_data_recv = uint32_t((now - info->last_data_rx) / 1000000);  // ms
    return ti;
}

}  // namespace mvnf::api
