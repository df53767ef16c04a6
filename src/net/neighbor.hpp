// The seam between the per-core stack and neighbor resolution (ARP). The
// stack hands every received ARP frame to neighbor::input() and asks
// neighbor::resolve() for the MAC of each next hop. Until the ARP module
// (src/net/arp/, library mvnf_arp) plugs in with stack::set_neighbor(), the
// stack uses `static_neighbors`: a fixed table (mTCP's arp.conf), no ARP.
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.hpp"
#include "netio/packet.hpp"
#include "net/time.hpp"
#include "wire/addr.hpp"

namespace mvnf::net {

// What a neighbor module may do with frames (implemented by net::stack).
class link_output {
public:
    virtual ~link_output() = default;
    // A whole empty TX buffer (pkt.len = capacity); false when none is free.
    [[nodiscard]] virtual bool alloc_frame(netio::packet& out) = 0;
    // Queues a complete Ethernet frame (pkt.len = frame length) for TX.
    virtual void send_frame(const netio::packet& frame) = 0;
    virtual void free_frame(const netio::packet& frame) = 0;
    virtual mac_addr local_mac() const = 0;
    virtual ipv4_addr local_ip() const = 0;
};

class neighbor {
public:
    enum class outcome : uint8_t {
        resolved,     // `mac` set: the stack writes it as the destination and sends
        queued,       // the resolver took `frame` and will send or free it through link_output
        unreachable,  // give up: the stack frees the frame and counts the drop
    };

    virtual ~neighbor() = default;

    // Called by the stack once, before any other call.
    virtual void attach(link_output& /*link*/) {}
    // Next-hop lookup for an outgoing IPv4 frame whose Ethernet source and
    // type are already written (destination left for whoever resolves it).
    virtual outcome resolve(ipv4_addr next_hop, const netio::packet& frame, nanos now,
                            mac_addr& mac) = 0;
    // A received ARP frame (whole Ethernet frame, valid during the call).
    virtual void input(bytes /*frame*/, nanos /*now*/) {}
    virtual void poll_timers(nanos /*now*/) {}
    // Upper-layer advice that next_hop answered just now (RFC 1122 2.3.2.1).
    virtual void confirm(ipv4_addr /*next_hop*/, nanos /*now*/) {}
    virtual nanos next_deadline() const { return never; }
};

// A fixed table set up before start (arp.conf). Lookups are a linear scan:
// tables are small and this is only the fallback until ARP exists.
class static_neighbors final : public neighbor {
public:
    void add(ipv4_addr ip, mac_addr mac) {
        for (auto& e : _entries)
            if (e.ip == ip) {
                e.mac = mac;
                return;
            }
        _entries.push_back({ip, mac});
    }
    outcome resolve(ipv4_addr next_hop, const netio::packet&, nanos, mac_addr& mac) override {
        if (next_hop.is_broadcast()) {
            mac = mac_addr::broadcast();
            return outcome::resolved;
        }
        for (const auto& e : _entries)
            if (e.ip == next_hop) {
                mac = e.mac;
                return outcome::resolved;
            }
        return outcome::unreachable;
    }
    size_t size() const { return _entries.size(); }

private:
    struct entry {
        ipv4_addr ip;
        mac_addr mac;
    };
    std::vector<entry> _entries;
};

}  // namespace mvnf::net
