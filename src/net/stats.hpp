// Per-core stack counters: packets and bytes in/out, per-protocol events, and
// every drop by reason. Written only by the owning core's net::stack; read by
// the API (stat_print, JSON export) and by tests.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "mtcp/mtcp_stats.h"

namespace mvnf::net {

// The drop reasons and counters are listed once, in the public header's
// lists (MTCP_STATS_NET_DROPS, MTCP_STATS_STACK): the C API's struct, JSON,
// stat lines and Prometheus export are generated from the same lists.
#define MVNF_NET_DROP_REASONS(X) MTCP_STATS_NET_DROPS(X)

enum class drop_reason : uint8_t {
#define MVNF_X(n) n,
    MVNF_NET_DROP_REASONS(MVNF_X)
#undef MVNF_X
        count_
};
inline constexpr size_t num_drop_reasons = size_t(drop_reason::count_);

const char* to_string(drop_reason r);

struct stack_stats {
#define MVNF_X(n) uint64_t n = 0;
    MTCP_STATS_STACK(MVNF_X)
#undef MVNF_X
    std::array<uint64_t, num_drop_reasons> drops{};

    uint64_t drop(drop_reason r) const { return drops[size_t(r)]; }
    uint64_t total_drops() const {
        uint64_t s = 0;
        for (auto d : drops) s += d;
        return s;
    }
    // One JSON object: counters by name, drops as {"reason": n} (zeros omitted).
    std::string to_json() const;
};

}  // namespace mvnf::net
