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
#define MVNF_X(n) field(#n, n);
    MTCP_STATS_STACK(MVNF_X)
#undef MVNF_X
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
