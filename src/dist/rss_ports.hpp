// RSS-aware local port choice (mTCP's mtcp_init_rss / source port pools): a
// client connection on core c must pick a local port whose reply tuple
// (remote -> local) hashes back to core c under the same mapping the sw
// dispatcher and the shm sender use: rss_queue(rss_hash(key), ncores).
// Called by the TCP/UDP connect paths and their tests.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "wire/addr.hpp"

namespace mvnf::dist {

struct rss_endpoint {
    ipv4_addr local_ip, remote_ip;
    uint16_t remote_port = 0;
    unsigned ncores = 1;
    uint16_t first_port = 1024;  // ephemeral range, inclusive (below 1024: privileged)
    uint16_t last_port = 65535;
};

// Core that receives the replies of (local_ip:local_port <-> remote).
unsigned reply_core(const rss_endpoint& ep, uint16_t local_port);

// Walks the ports of the range that map to `core`, starting after a cursor
// and wrapping once; no allocation. next() returns nullopt after a full lap.
class rss_port_iter {
public:
    rss_port_iter(const rss_endpoint& ep, unsigned core, uint16_t start_after = 0);
    std::optional<uint16_t> next();

private:
    rss_endpoint _ep;
    unsigned _core;
    uint32_t _cur;        // next candidate
    uint32_t _left;       // candidates not yet looked at in this lap
};

// Every port of the range mapping to `core` (start-up: allocates).
std::vector<uint16_t> ports_for_core(const rss_endpoint& ep, unsigned core);

}  // namespace mvnf::dist
