// Walks every counter of a struct mtcp_stats, generated from the public
// header's lists: the JSON export, the stat lines, the drop total and the
// Prometheus export all iterate through here, so none can miss a counter.
#pragma once

#include <cstdint>
#include <string_view>

#include "mtcp/mtcp_stats.h"

namespace mvnf::api {

enum class stat_kind : uint8_t {
    counter,  // only grows
    gauge,    // a level (flows)
    drop,     // a drop reason: counted into mtcp_stats.drops
    total,    // a sum of the others (mtcp_stats.drops itself)
};

// Sections in their order in the struct and the JSON object: "" (the
// totals), "stack", "stack.drops", "tcp", "arp", "queue", "port".
// f(const char* section, const char* name, uint64_t value, stat_kind kind).
template <class F>
void for_each_stat(const mtcp_stats& s, F&& f) {
    using k = stat_kind;
#define MVNF_T(n) f("", #n, s.n, total_kind(#n));
    auto total_kind = [](const char* n) {
        const std::string_view v(n);
        return v == "drops" ? k::total : v == "flows" ? k::gauge : k::counter;
    };
    MTCP_STATS_TOTALS(MVNF_T)
#undef MVNF_T
#define MVNF_C(n) f("stack", #n, s.stack.n, k::counter);
    MTCP_STATS_STACK(MVNF_C)
#undef MVNF_C
#define MVNF_D(n) f("stack.drops", #n, s.stack.drops.n, k::drop);
    MTCP_STATS_NET_DROPS(MVNF_D)
#undef MVNF_D
#define MVNF_G(n) f("tcp", #n, s.tcp.n, k::gauge);
    MTCP_STATS_TCP_GAUGES(MVNF_G)
#undef MVNF_G
#define MVNF_D(n) f("tcp", #n, s.tcp.n, k::drop);
#define MVNF_C(n) f("tcp", #n, s.tcp.n, k::counter);
    MTCP_STATS_TCP_DROPS(MVNF_D)
    MTCP_STATS_TCP(MVNF_C)
#undef MVNF_D
#undef MVNF_C
#define MVNF_D(n) f("arp", #n, s.arp.n, k::drop);
#define MVNF_C(n) f("arp", #n, s.arp.n, k::counter);
    MTCP_STATS_ARP_INVALID(MVNF_D)
    MTCP_STATS_ARP_DROPS(MVNF_D)
    MTCP_STATS_ARP(MVNF_C)
#undef MVNF_D
#undef MVNF_C
#define MVNF_D(n) f("queue", #n, s.queue.n, k::drop);
#define MVNF_C(n) f("queue", #n, s.queue.n, k::counter);
    MTCP_STATS_QUEUE_DROPS(MVNF_D)
    MTCP_STATS_QUEUE(MVNF_C)
#undef MVNF_D
#undef MVNF_C
#define MVNF_D(n) f("port", #n, s.port.n, k::drop);
#define MVNF_C(n) f("port", #n, s.port.n, k::counter);
    MTCP_STATS_PORT_DROPS(MVNF_D)
    MTCP_STATS_PORT(MVNF_C)
#undef MVNF_D
#undef MVNF_C
#define MVNF_G(n) f("port", #n, s.port.n, k::gauge);
    MTCP_STATS_PORT_INFO(MVNF_G)
#undef MVNF_G
}

// The sum of every drop reason of every layer (what mtcp_stats.drops holds).
inline uint64_t sum_drops(const mtcp_stats& s) {
    uint64_t d = 0;
    for_each_stat(s, [&](const char*, const char*, uint64_t v, stat_kind k) {
        if (k == stat_kind::drop) d += v;
    });
    return d;
}

}  // namespace mvnf::api
