// mtcp.conf parsing: mTCP's sample files load, every key sets its field, and
// each kind of mistake is reported with file, line and cause.
#include <gtest/gtest.h>

#include <fstream>

#include "config/config.hpp"

using namespace mvnf;
using namespace mvnf::cfg;

TEST(Config, LoadsMtcpSampleFile) {
    // The shape of mTCP's epserver.conf, with our backend names.
    auto c = parse(R"(############### mtcp configuration file ###############
io = afxdp
num_cores = 2
num_mem_ch = 4
port = veth0
max_concurrency = 10000
max_num_buffers = 10000
rcvbuf = 8192
sndbuf = 8192
tcp_timeout = 30
tcp_timewait = 0
stat_print = veth0
)");
    ASSERT_TRUE(c) << c.error().str();
    EXPECT_EQ(c->io, "afxdp");
    EXPECT_EQ(c->num_cores, 2);
    ASSERT_EQ(c->ports.size(), 1u);
    EXPECT_EQ(c->ports[0], "veth0");
    EXPECT_EQ(c->tcp_timewait, 0);
    EXPECT_EQ(c->stat_print.size(), 1u);
}

TEST(Config, ProjectKeys) {
    auto c = parse(
        "port = shm:l0\nip_addr = 10.0.0.1\nnetmask=255.255.0.0\ngateway = 10.0.0.254\n"
        "mac_addr = 02:00:00:00:00:01\ndist_mode = sw\ndispatcher_threads = 2\n"
        "thread_mode = thread\nrx_batch = 32\ntx_batch=16\nring_size = 2048\npipe_size=512\n"
        "buf_size = 9216\nmtu = 9000\ncongestion_control = reno\nsyn_cookies = off\n"
        "core_mask = 0x6\nnum_cores = 2\ntcp_timeout = -1\npcap_file = /tmp/x.pcap  # trailing\n"
        "tcp_fin_wait_2 = 0\nmax_listeners = 100\narp_queue_len = 64\narp_reachable_ms = 2000\n"
        "destroy_drain_ms = 0\n");
    ASSERT_TRUE(c) << c.error().str();
    EXPECT_EQ(c->ip_addr, ipv4_addr(10, 0, 0, 1));
    EXPECT_EQ(c->netmask, ipv4_addr(255, 255, 0, 0));
    EXPECT_EQ(c->mac.str(), "02:00:00:00:00:01");
    EXPECT_EQ(c->dist, dist_mode::sw);
    EXPECT_EQ(c->dispatcher_threads, 2);
    EXPECT_EQ(c->threads, thread_mode::stack_thread);
    EXPECT_EQ(c->cc, congestion::reno);
    EXPECT_FALSE(c->syn_cookies);
    EXPECT_EQ(c->core_list, (std::vector<int>{1, 2}));
    EXPECT_EQ(c->tcp_timeout, -1);
    EXPECT_EQ(c->mtu, 9000);
    EXPECT_EQ(c->pcap_file, "/tmp/x.pcap");
    EXPECT_EQ(c->tcp_fin_wait_2, 0);
    EXPECT_EQ(c->max_listeners, 100);
    EXPECT_EQ(c->arp_queue_len, 64);
    EXPECT_EQ(c->arp_reachable_ms, 2000);
    EXPECT_EQ(c->destroy_drain_ms, 0);
}

TEST(Config, Defaults) {
    auto c = parse("");
    ASSERT_TRUE(c) << c.error().str();
    EXPECT_EQ(c->tcp_fin_wait_2, 60);
    EXPECT_EQ(c->max_listeners, 16);
    EXPECT_EQ(c->arp_queue_len, 1024);
    EXPECT_EQ(c->arp_queue_bytes, 212992);
    EXPECT_EQ(c->arp_reachable_ms, 60000);
    EXPECT_EQ(c->destroy_drain_ms, 2000);
    auto d = parse("tcp_fin_wait_2 = 86400\n");
    ASSERT_TRUE(d) << d.error().str();
    EXPECT_EQ(d->tcp_fin_wait_2, 86400);
}

TEST(Config, ErrorsNameFileLineAndCause) {
    struct case_t {
        const char* text;
        int line;
        const char* needle;
    } cases[] = {
        {"num_cores = 2\nnum_corez = 2\n", 2, "unknown key 'num_corez'"},
        {"# c\n\nnum_cores = two\n", 3, "expected an integer"},
        {"num_cores = 0\n", 1, "out of range"},
        {"rcvbuf = 12x\n", 1, "expected an integer"},
        {"io = dpdkk\n", 1, "unknown io backend 'dpdkk'"},
        {"ring_size = 1000\n", 1, "power of two"},
        {"ip_addr = 10.0.0\n", 1, "expected an IPv4 address"},
        {"mac_addr = 02:00\n", 1, "expected a MAC address"},
        {"dist_mode = rss\n", 1, "expected hw or sw"},
        {"just words\n", 1, "expected 'key = value'"},
        {"= 3\n", 1, "missing key"},
        {"port =\n", 1, "missing value"},
        {"core_mask = zz\n", 1, "hexadecimal"},
        {"syn_cookies = maybe\n", 1, "expected 0/1"},
        {"tcp_fin_wait_2 = -1\n", 1, "tcp_fin_wait_2: value -1 out of range 0..86400 s (0: no"},
        {"tcp_fin_wait_2 = 86401\n", 1, "out of range 0..86400"},
        {"tcp_fin_wait_2 = 1m\n", 1, "tcp_fin_wait_2: expected an integer"},
        {"max_listeners = 0\n", 1, "max_listeners: value 0 out of range 1..1024"},
        {"max_listeners = 1025\n", 1, "max_listeners: value 1025 out of range"},
        {"arp_queue_len = 0\n", 1, "arp_queue_len: value 0 out of range 1..1024 frames"},
        {"arp_queue_len = many\n", 1, "arp_queue_len: expected an integer"},
        {"arp_reachable_ms = 999\n", 1, "arp_reachable_ms: value 999 out of range 1000..3600000 ms"},
        {"destroy_drain_ms = 60001\n", 1, "destroy_drain_ms: value 60001 out of range 0..60000 ms"},
    };
    for (auto& k : cases) {
        auto c = parse(k.text, "test.conf");
        ASSERT_FALSE(c) << k.text;
        EXPECT_EQ(c.error().line, k.line) << k.text;
        EXPECT_EQ(c.error().file, "test.conf");
        EXPECT_NE(c.error().str().find(k.needle), std::string::npos) << c.error().str();
        EXPECT_EQ(c.error().str().rfind("test.conf:", 0), 0u) << c.error().str();
    }
}

// mTCP's keys without an effect here load, each with a notice naming the
// file and line; io = dpdk leaves bare port names without a backend.
TEST(Config, MtcpOnlyKeysLoadWithNotices) {
    auto c = parse("io = dpdk\nnum_mem_ch = 4\nmultiprocess = 0 master\nnum_ip = 1\n"
                   "cc = reno\ncc = bbr\nonvm_inst = 1\nonvm_serv = 1\nonvm_dest = 2\n",
                   "s.conf");
    ASSERT_TRUE(c) << c.error().str();
    EXPECT_EQ(c->io, "");
    EXPECT_EQ(c->cc, congestion::reno);
    ASSERT_EQ(c->notices.size(), 9u);
    for (size_t i = 0; i < c->notices.size(); ++i)
        EXPECT_EQ(c->notices[i].rfind("s.conf:" + std::to_string(i + 1) + ": ", 0), 0u)
            << c->notices[i];
    EXPECT_NE(c->notices[1].find("num_mem_ch: no effect here"), std::string::npos);
    EXPECT_NE(c->notices[4].find("cc = reno taken as congestion_control"), std::string::npos);
    auto p = parse("port = a\nio = psio\n");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->port_line, 1);
    EXPECT_TRUE(parse("io = netmap\n"));
    EXPECT_TRUE(parse("io = onvm\n"));
}

TEST(Config, CrossKeyValidation) {
    EXPECT_FALSE(parse("dist_mode = sw\nnum_queues = 2\n"));
    EXPECT_FALSE(parse("num_cores = 4\nnum_queues = 2\n"));
    EXPECT_FALSE(parse("num_cores = 3\ncore_mask = 0x3\n"));
    EXPECT_FALSE(parse("mtu = 2100\n"));  // does not fit buf_size 2048
    // With several ports a stat_print name must be one of them; with one,
    // mTCP's interface name (stat_print = dpdk0) means that port (a notice).
    auto e = parse("port = shm:a shm:c\nstat_print = b\n");
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message.find("not a configured port"), std::string::npos);
    auto one = parse("port = shm:a\nstat_print = dpdk0\n", "m.conf");
    ASSERT_TRUE(one);
    EXPECT_EQ(one->stat_print, std::vector<std::string>{"shm:a"});
    ASSERT_EQ(one->notices.size(), 1u);
    EXPECT_EQ(one->notices[0].rfind("m.conf:2: stat_print: 'dpdk0' is not a configured port", 0), 0u)
        << one->notices[0];
    EXPECT_TRUE(parse("port = shm:a\nstat_print = a\n"));
    // Accept queues: max_listeners x min(syn_backlog, 65536) <= 4 Mi slots.
    EXPECT_TRUE(parse("max_listeners = 64\nsyn_backlog = 65536\n"));
    EXPECT_TRUE(parse("max_listeners = 64\nsyn_backlog = 1048576\n"));  // capped at 65536
    auto q = parse("max_listeners = 65\nsyn_backlog = 65536\n");
    ASSERT_FALSE(q);
    EXPECT_NE(q.error().message.find("accept-queue slots"), std::string::npos);
}

TEST(Config, LoadReportsMissingFile) {
    auto c = load("/nonexistent/mtcp.conf");
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().str().find("/nonexistent/mtcp.conf"), std::string::npos);
    EXPECT_NE(c.error().str().find("cannot open"), std::string::npos);
}

TEST(Config, LoadsFromFile) {
    std::string path = "/tmp/mvnf_cfg_test_" + std::to_string(::getpid()) + ".conf";
    {
        std::ofstream f(path);
        f << "num_cores = 1\nmax_concurrency = 500\n";
    }
    auto c = load(path);
    std::remove(path.c_str());
    ASSERT_TRUE(c) << c.error().str();
    EXPECT_EQ(c->max_concurrency, 500);
}

TEST(Config, KnownKeysAreUniqueAndIncludeMtcpKeys) {
    auto& k = known_keys();
    for (size_t i = 0; i < k.size(); ++i)
        for (size_t j = i + 1; j < k.size(); ++j) EXPECT_NE(k[i], k[j]);
    for (auto key : {"io", "num_cores", "core_mask", "port", "max_concurrency", "max_num_buffers",
                     "rcvbuf", "sndbuf", "tcp_timeout", "tcp_timewait", "stat_print",
                     "udp_send_buffer", "udp_receive_buffer"})
        EXPECT_NE(std::find(k.begin(), k.end(), key), k.end()) << key;
}
