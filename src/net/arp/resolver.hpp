// The per-core ARP resolver (RFC 826): one per stack core, plugged into the
// stack through net::neighbor. All cores share one arp::table (lock-free);
// each core keeps its own pending destinations, queued frames and retries,
// so nothing here is touched by two threads. Time is an input (`now`).
#pragma once

#include <cstdint>
#include <vector>

#include "mtcp/mtcp_stats.h"
#include "net/arp/table.hpp"
#include "net/neighbor.hpp"
#include "wire/arp.hpp"

namespace mvnf::arp {

struct resolver_config {
    // Destinations being resolved (or stale entries being re-confirmed) at
    // once. When all are taken, a new destination evicts the one that waited
    // longest, so a flood of unresolvable sources cannot lock out a real one.
    uint32_t max_pending = 64;
    // Frames held per destination while it resolves, bounded by count and by
    // bytes (as Linux's unres_qlen_bytes, 212992 by default): a burst of
    // small segments, such as the first SYN of a thousand connections,
    // waits for the reply instead of being refused.
    uint32_t queue_per_dest = 1024;
    uint32_t queue_bytes_per_dest = 212992;
    uint32_t max_retries = 2;        // requests after the first one (Linux: 3 in all)
    // Unicast requests re-confirming a stale entry before it is given up
    // (Linux's ucast_solicit, 3); the stale MAC keeps being used meanwhile.
    uint32_t probes = 3;
    nanos retry_initial = net::msec(100);  // wait before the first retry; doubles
    nanos retry_max = net::sec(1);         // backoff cap
    // While a destination is pending, how often to look at the shared table:
    // the reply may be handled by another core (ARP frames go to one core).
    nanos table_poll = net::msec(1);
    bool answer_requests = true;  // reply to requests for our IP (RFC 826)
    bool gratuitous = true;       // announce our IP once (RFC 5227 section 3)
};

// Counters, listed once in the public header (MTCP_STATS_ARP_DROPS,
// MTCP_STATS_ARP; the malformed frames by wire::arp_error in
// MTCP_STATS_ARP_INVALID), from which the C API's exports are generated.
struct resolver_stats {
    uint64_t rx_invalid[wire::arp_error_count] = {};  // dropped, by wire::arp_error
#define MVNF_X(n) uint64_t n = 0;
    MTCP_STATS_ARP_DROPS(MVNF_X)
    MTCP_STATS_ARP(MVNF_X)
#undef MVNF_X
};

static_assert(MTCP_STATS_COUNT(MTCP_STATS_ARP_INVALID) == wire::arp_error_count,
              "one MTCP_STATS_ARP_INVALID entry per wire::arp_error, in order");

class resolver final : public net::neighbor {
public:
    resolver(table& t, const resolver_config& cfg = {});
    ~resolver() override;
    resolver(const resolver&) = delete;
    resolver& operator=(const resolver&) = delete;

    void attach(net::link_output& link) override { _link = &link; }
    outcome resolve(ipv4_addr next_hop, const netio::packet& frame, nanos now,
                    mac_addr& mac) override;
    void input(bytes frame, nanos now) override;
    void poll_timers(nanos now) override;
    void confirm(ipv4_addr next_hop, nanos now) override;
    nanos next_deadline() const override;

    // Frees every held frame (called at shutdown; the destructor does it too).
    void clear();

    const resolver_stats& stats() const { return _stats; }
    size_t pending() const { return _active; }
    size_t held_frames() const;
    const table& tbl() const { return _table; }

private:
    struct pending_dest {
        ipv4_addr ip;  // 0: slot free
        bool probe = false;  // re-confirming a stale entry: no frames held
        mac_addr probe_mac;  // where the unicast probes go
        nanos started = 0;   // for evicting the oldest when all slots are taken
        uint32_t head = 0, count = 0;
        uint32_t bytes = 0;     // frame bytes held
        uint32_t requests = 0;  // sent so far (first + retries)
        nanos deadline = 0;     // next retry or give-up
        nanos next_check = 0;   // next look at the shared table
    };

    pending_dest* find_pending(ipv4_addr ip);
    // A free slot, or the oldest one evicted (probes before resolutions);
    // null only when every slot started at `now` (never with max_pending > 1
    // unless that many destinations appear in one instant).
    pending_dest* take_slot(nanos now);
    void start_probe(ipv4_addr ip, mac_addr mac, nanos now);
    void send_probe(pending_dest& p, nanos now);
    void send_arp(uint16_t op, mac_addr eth_dst, mac_addr tha, ipv4_addr tpa, ipv4_addr spa);
    void send_request(pending_dest& p, nanos now);
    void flush(pending_dest& p, mac_addr mac);
    void drop_all(pending_dest& p);
    void release_slot(pending_dest& p);
    nanos backoff(uint32_t requests) const;

    table& _table;
    resolver_config _cfg;
    net::link_output* _link = nullptr;
    std::vector<pending_dest> _pending;
    std::vector<netio::packet> _frames;  // _cfg.queue_per_dest per pending slot
    size_t _active = 0;
    bool _announce = false;
    resolver_stats _stats;
};

}  // namespace mvnf::arp
