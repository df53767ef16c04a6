// Spec parsing and open_port() argument checking: every bad input gets an
// error naming the cause.
#include <gtest/gtest.h>

#include "netio/port.hpp"
#include "netio/spec.hpp"

using namespace mvnf::netio;

TEST(Spec, ParsesEachBackend) {
    struct case_t {
        const char* in;
        backend_kind kind;
        const char* name;
    } cases[] = {
        {"shm:link0", backend_kind::shm, "link0"},
        {"afxdp:veth0", backend_kind::afxdp, "veth0"},
        {"afpacket:eth1", backend_kind::afpacket, "eth1"},
        {"tap:tap0", backend_kind::tap, "tap0"},
        {"netmap:eth0", backend_kind::netmap, "eth0"},
        {"netmap:eth0-2", backend_kind::netmap, "eth0-2"},
        {"netmap:eth0{1", backend_kind::netmap, "eth0{1"},
        {"vale0:1", backend_kind::netmap, "vale0:1"},
        {"valeA_b:port", backend_kind::netmap, "valeA_b:port"},
    };
    for (auto& c : cases) {
        auto r = parse_spec(c.in);
        ASSERT_TRUE(r) << c.in;
        EXPECT_EQ(r->kind, c.kind) << c.in;
        EXPECT_EQ(r->name, c.name) << c.in;
    }
}

TEST(Spec, RejectsBadInputWithReason) {
    const char* bad[] = {"", "eth0", "foo:bar", "shm:", "afxdp:", "vale-x:1", "vale0:",
                         "tap:averyveryverylongname", "shm:a/b"};
    for (auto s : bad) {
        auto r = parse_spec(s);
        ASSERT_FALSE(r) << s;
        EXPECT_EQ(r.error().code, errc::bad_spec) << s;
        EXPECT_NE(r.error().message.find("port spec"), std::string::npos) << r.error().message;
    }
}

TEST(OpenPort, RejectsBadConfig) {
    port_config cfg;
    cfg.num_queues = 0;
    auto r = open_port("shm:x", cfg);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::bad_config);
    cfg = {};
    cfg.ring_size = 1000;
    EXPECT_FALSE(open_port("shm:x", cfg));
    cfg = {};
    cfg.buf_size = 10000;
    EXPECT_FALSE(open_port("shm:x", cfg));
    auto u = open_port("nope:x", {});
    ASSERT_FALSE(u);
    EXPECT_NE(u.error().message.find("unknown backend prefix"), std::string::npos);
}
