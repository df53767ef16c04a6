// netmap spec grammar (suffixes into register mode / ring id, errors for bad
// suffixes) and open_port() errors on a machine without /dev/netmap.
#include <gtest/gtest.h>
#include <unistd.h>

#include "netio/netmap/netmap_abi.hpp"
#include "netio/netmap/netmap_name.hpp"
#include "netio/port.hpp"

namespace mvnf::netio::netmap {
namespace {

struct name_case {
    const char* name;
    const char* kernel_name;
    const char* ifname;
    uint32_t mode;
    uint16_t ringid;
    uint64_t flags;
    bool vale, pipe;
};

TEST(NetmapName, SuffixesMapToRegisterModes) {
    const name_case cases[] = {
        {"eth0", "eth0", "eth0", nr_reg_all_nic, 0, 0, false, false},
        {"eth0-3", "eth0", "eth0", nr_reg_one_nic, 3, 0, false, false},
        {"eth0-0", "eth0", "eth0", nr_reg_one_nic, 0, 0, false, false},
        {"eth0^", "eth0", "eth0", nr_reg_sw, 0, 0, false, false},
        {"eth0^1", "eth0", "eth0", nr_reg_one_sw, 1, 0, false, false},
        {"eth0*", "eth0", "eth0", nr_reg_nic_sw, 0, 0, false, false},
        {"eth0+", "eth0", "eth0", nr_reg_nic_sw, 0, 0, false, false},
        {"eth0{1", "eth0{1", "eth0", nr_reg_all_nic, 0, 0, false, true},
        {"eth0}pn1", "eth0}pn1", "eth0", nr_reg_all_nic, 0, 0, false, true},
        {"eth0-2/x", "eth0", "eth0", nr_reg_one_nic, 2, nr_exclusive, false, false},
        {"enp0s3.100", "enp0s3.100", "enp0s3.100", nr_reg_all_nic, 0, 0, false, false},
        {"vale0:1", "vale0:1", "", nr_reg_all_nic, 0, 0, true, false},
        {"valeA_b:port_9-1", "valeA_b:port_9", "", nr_reg_one_nic, 1, 0, true, false},
        {"vale1:p{3", "vale1:p{3", "", nr_reg_all_nic, 0, 0, true, true},
        {"eth0-4095", "eth0", "eth0", nr_reg_one_nic, 4095, 0, false, false},
    };
    for (const name_case& c : cases) {
        SCOPED_TRACE(c.name);
        auto r = parse_netmap_name(c.name);
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(r->kernel_name, c.kernel_name);
        EXPECT_EQ(r->ifname, c.ifname);
        EXPECT_EQ(r->mode, c.mode);
        EXPECT_EQ(r->ringid, c.ringid);
        EXPECT_EQ(r->flags, c.flags);
        EXPECT_EQ(r->vale, c.vale);
        EXPECT_EQ(r->pipe, c.pipe);
    }
}

TEST(NetmapName, BadSuffixesAreClearErrors) {
    struct bad_case {
        const char* name;
        const char* says;
    };
    const bad_case cases[] = {
        {"eth0-", "ring number expected after '-'"},
        {"eth0-x", "ring number expected"},
        {"eth0-4096", "larger than 4095"},
        {"eth0-1-2", "unexpected '-2'"},
        {"eth0^x", "unexpected 'x'"},
        {"eth0{", "pipe id expected after '{'"},
        {"eth0/", "flags expected"},
        {"eth0/z", "monitor ports are not supported"},
        {"eth0/R", "one-direction"},
        {"eth0/q", "unknown flag 'q'"},
        {"eth0@conf:rings=4", "options"},
        {"-1", "interface name missing"},
        {"averyveryverylongname0", "longer than 15"},
        {"vale0:", "VALE port name missing"},
        {"vale0:a.b", "unexpected character '.'"},
        {"eth 0", "space"},
    };
    for (const bad_case& c : cases) {
        SCOPED_TRACE(c.name);
        auto r = parse_netmap_name(c.name);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, errc::bad_spec);
        EXPECT_NE(r.error().message.find(c.says), std::string::npos) << r.error().message;
        EXPECT_NE(r.error().message.find(c.name), std::string::npos) << r.error().message;
    }
}

TEST(NetmapOpen, MissingDevNetmapIsAClearError) {
    if (::access("/dev/netmap", F_OK) == 0) GTEST_SKIP() << "/dev/netmap exists on this host";
    for (const char* spec : {"netmap:eth0", "netmap:eth0-1", "vale0:1", "netmap:lo{2"}) {
        SCOPED_TRACE(spec);
        auto p = open_port(spec, {});
        ASSERT_FALSE(p);
        EXPECT_EQ(p.error().code, errc::no_such_device);
        EXPECT_NE(p.error().message.find("/dev/netmap not found"), std::string::npos);
        EXPECT_NE(p.error().message.find("afxdp:"), std::string::npos);
        EXPECT_NE(p.error().message.find(spec), std::string::npos) << p.error().message;
    }
}

TEST(NetmapOpen, SpecAndConfigErrorsComeBeforeTheDevice) {
    auto p = open_port("netmap:eth0-z", {});
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code, errc::bad_spec);

    port_config cfg;
    cfg.num_queues = 2;
    p = open_port("netmap:eth0-1", cfg);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code, errc::bad_config);
    EXPECT_NE(p.error().message.find("num_queues"), std::string::npos);
}

}  // namespace
}  // namespace mvnf::netio::netmap
