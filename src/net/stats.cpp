// Names and the JSON dump of the per-core counters (off the data path: the
// API's stat printer and tests call these).
#include "net/stats.hpp"

#include <cstdio>

namespace mvnf::net {

const char* to_string(drop_reason r) {
    switch (r) {
#define MVNF_X(n) \
    case drop_reason::n: return #n;
        MVNF_NET_DROP_REASONS(MVNF_X)
#undef MVNF_X
        case drop_reason::count_: break;
    }
    return "?";
}

std::string stack_stats::to_json() const {
    std::string s = "{";
    auto field = [&](const char* name, uint64_t v) {
        char b[96];
        std::snprintf(b, sizeof b, "%s\"%s\":%llu", s.size() > 1 ? "," : "", name,
                      static_cast<unsigned long long>(v));
        s += b;
    };
    field("rx_packets", rx_packets);
    field("rx_bytes", rx_bytes);
    field("tx_packets", tx_packets);
    field("tx_bytes", tx_bytes);
    field("ip_rx", ip_rx);
    field("ip_tx", ip_tx);
    field("frags_rx", frags_rx);
    field("frags_tx", frags_tx);
    field("reasm_ok", reasm_ok);
    field("arp_rx", arp_rx);
    field("tcp_rx", tcp_rx);
    field("icmp_rx", icmp_rx);
    field("icmp_tx", icmp_tx);
    field("icmp_echo_replies", icmp_echo_replies);
    field("icmp_unreach_sent", icmp_unreach_sent);
    field("icmp_rate_limited", icmp_rate_limited);
    field("icmp_errors_rx", icmp_errors_rx);
    field("icmp_echo_reply_rx", icmp_echo_reply_rx);
    field("udp_rx", udp_rx);
    field("udp_tx", udp_tx);
    field("prefetch_bursts", prefetch_bursts);
    field("tx_ring_full", tx_ring_full);
    s += ",\"drops\":{";
    bool first = true;
    for (size_t i = 0; i < num_drop_reasons; ++i) {
        if (!drops[i]) continue;
        char b[96];
        std::snprintf(b, sizeof b, "%s\"%s\":%llu", first ? "" : ",",
                      to_string(drop_reason(i)), static_cast<unsigned long long>(drops[i]));
        s += b;
        first = false;
    }
    s += "}}";
    return s;
}

}  // namespace mvnf::net
