// Parsers for mTCP's arp.conf (static neighbours) and route.conf (routes),
// and the longest-prefix route table built from the latter. Called at
// start-up by the API layer and tools; never on the data path.
//
//   arp.conf:   ARP_ENTRY <N>            route.conf:  ROUTES <N>
//               <ip>/<prefix> <mac>                   <ip>/<prefix> <dev> [<gateway>]
//                                                     <gateway>/0 <dev>   (mTCP's default route)
//
// '#' starts a comment; blank lines are ignored. See docs/arp.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "net/arp/table.hpp"
#include "wire/addr.hpp"

namespace mvnf::arp {

// Every parse error names the file, the 1-based line and the cause.
struct conf_error {
    std::string file;
    unsigned line = 0;  // 0: the file as a whole (unreadable, missing entries)
    std::string reason;
    std::string message() const;
};

struct arp_conf_entry {
    ipv4_addr ip;
    unsigned prefix_len = 32;
    mac_addr mac;
};

struct route_entry {
    ipv4_addr net;
    unsigned prefix_len = 0;
    std::string dev;
    ipv4_addr gateway;  // 0.0.0.0: on-link (the destination is the next hop)
};

// `file` only labels errors. The entry count after the keyword must match the
// entries that follow (mTCP reads exactly N; a mismatch is a typo to report).
result<std::vector<arp_conf_entry>, conf_error> parse_arp_conf(std::string_view text,
                                                               std::string_view file);
result<std::vector<route_entry>, conf_error> parse_route_conf(std::string_view text,
                                                              std::string_view file);
result<std::vector<arp_conf_entry>, conf_error> load_arp_conf(const std::string& path);
result<std::vector<route_entry>, conf_error> load_route_conf(const std::string& path);

// Loads parsed static entries into a table; fails (naming the entry) when full.
result<void, conf_error> add_static_entries(table& t, const std::vector<arp_conf_entry>& entries,
                                            std::string_view file);

// Longest-prefix-match routes. A `0.0.0.0/0 dev gw` route is the default
// gateway. Built at start-up; lookups do not allocate.
class route_table {
public:
    struct hop {
        ipv4_addr next_hop;  // the gateway, or the destination itself when on-link
        const route_entry* route;
    };
    void add(const route_entry& r);
    std::optional<hop> lookup(ipv4_addr dst) const;
    size_t size() const { return _routes.size(); }

private:
    std::vector<route_entry> _routes;  // kept sorted, longest prefix first
};

}  // namespace mvnf::arp
