// libFuzzer target: the start-up parsers — mtcp.conf (cfg::parse, then
// cfg::validate), arp.conf and route.conf (arp::parse_*_conf) with the route
// table and the static ARP table fed from what they accept. Any text must give
// a value or an error naming a line, never a crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "../tests/robustness/invariant.hpp"
#include "config/config.hpp"
#include "net/arp/conf.hpp"
#include "net/arp/table.hpp"

using namespace mvnf;


extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 8192) return -1;
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    if (auto c = cfg::parse(text, "fuzz.conf")) {
        if (auto v = cfg::validate(*c, "fuzz.conf"); !v) (void)v.error().str();
    } else {
        MVNF_FUZZ_CHECK(c.error().file == "fuzz.conf");
        (void)c.error().str();
    }

    if (auto a = arp::parse_arp_conf(text, "arp.conf")) {
        arp::table t(16);
        (void)arp::add_static_entries(t, *a, "arp.conf");
        for (const auto& e : *a) {
            MVNF_FUZZ_CHECK(e.prefix_len <= 32);
            (void)t.lookup(e.ip, 0);
        }
    } else {
        MVNF_FUZZ_CHECK(a.error().line <= size + 1);
        (void)a.error().message();
    }

    if (auto r = arp::parse_route_conf(text, "route.conf")) {
        arp::route_table rt;
        for (const auto& e : *r) {
            MVNF_FUZZ_CHECK(e.prefix_len <= 32);
            rt.add(e);
        }
        for (const auto& e : *r) {
            auto hop = rt.lookup(e.net);
            MVNF_FUZZ_CHECK(hop.has_value());  // a route's own network always matches
        }
    } else {
        MVNF_FUZZ_CHECK(r.error().line <= size + 1);
        (void)r.error().message();
    }
    return 0;
}
