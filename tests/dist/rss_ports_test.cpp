// Tests of RSS-aware local port choice: every port returned for a core has
// a reply frame that the dispatcher/shm would steer to that core, and each
// core's pool holds at least 60000/ncores ports per remote endpoint.
#include <gtest/gtest.h>

#include "dist/rss_ports.hpp"
#include "netio/rss/rss.hpp"
#include "test_port.hpp"

using namespace mvnf;
using namespace mvnf::dist;

namespace {
const rss_endpoint endpoints[] = {
    {ipv4_addr(10, 0, 0, 1), ipv4_addr(10, 0, 0, 2), 80},
    {ipv4_addr(192, 168, 1, 10), ipv4_addr(172, 16, 5, 4), 443},
    {ipv4_addr(10, 0, 0, 1), ipv4_addr(8, 8, 8, 8), 53},
};
}  // namespace

TEST(RssPorts, EveryPortMapsBackAndPoolsAreLargeEnough) {
    for (unsigned ncores = 1; ncores <= 8; ++ncores) {
        for (auto ep : endpoints) {
            ep.ncores = ncores;
            size_t total = 0, smallest = SIZE_MAX;
            for (unsigned core = 0; core < ncores; ++core) {
                auto ports = ports_for_core(ep, core);
                total += ports.size();
                smallest = std::min(smallest, ports.size());
                EXPECT_GE(ports.size(), 60000u / ncores) << "ncores " << ncores << " core " << core;
                // Check through a real reply frame, as the dispatcher sees it.
                for (size_t i = 0; i < ports.size(); i += 97) {
                    auto f = test::ipv4_frame(ep.remote_ip, ep.local_ip, ep.remote_port, ports[i], 6,
                                              0);
                    auto k = netio::parse_flow_key(f);
                    ASSERT_EQ(netio::rss_pick_queue(k, ncores), core);
                    ASSERT_EQ(netio::rss_pick_queue(k.reversed(), ncores), core);  // symmetric
                    ASSERT_EQ(reply_core(ep, ports[i]), core);
                }
            }
            EXPECT_EQ(total, 65535u - 1024u + 1u);  // the cores partition the range
            RecordProperty("min_pool_" + std::to_string(ncores), int(smallest));
        }
    }
}

TEST(RssPorts, IteratorStartsAfterCursorAndWrapsOnce) {
    rss_endpoint ep = endpoints[0];
    ep.ncores = 4;
    ep.first_port = 40000;
    ep.last_port = 40099;
    auto all = ports_for_core(ep, 2);
    ASSERT_FALSE(all.empty());
    rss_port_iter it(ep, 2, all[0]);
    std::vector<uint16_t> seen;
    while (auto p = it.next()) seen.push_back(*p);
    ASSERT_EQ(seen.size(), all.size());
    EXPECT_EQ(seen.back(), all[0]);  // wrapped round to the cursor itself last
    if (all.size() > 1) {
        EXPECT_EQ(seen.front(), all[1]);
    }
    rss_endpoint empty = ep;
    empty.first_port = 10;
    empty.last_port = 5;
    rss_port_iter none(empty, 0);
    EXPECT_FALSE(none.next());
}
