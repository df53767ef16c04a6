// ARP against the Linux kernel over a veth pair in namespaces this test
// creates and removes (label root): the kernel resolves our IP, we resolve
// the kernel's, static entries need no ARP, an unreachable IP gives up.
// Our end is an afpacket: port driven by arp::resolver through a small
// link_output adapter; the clock is read here and passed in as `now`.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "net/arp/resolver.hpp"
#include "netio/port.hpp"
#include "netns.hpp"

using namespace mvnf;
using namespace mvnf::arp;

namespace {

net::nanos now_ns() {
    return net::nanos(std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count());
}

const ipv4_addr kern_ip(10, 77, 0, 1), our_ip(10, 77, 0, 2);

struct queue_link final : net::link_output {
    netio::queue& q;
    mac_addr mac;
    uint64_t sent = 0;
    queue_link(netio::queue& qq, mac_addr m) : q(qq), mac(m) {}
    bool alloc_frame(netio::packet& out) override { return q.alloc_tx(std::span(&out, 1)) == 1; }
    void send_frame(const netio::packet& f) override {
        netio::packet p = f;
        if (q.tx_burst(std::span(&p, 1)) == 1) ++sent;
        else q.free_tx(std::span(&p, 1));
        q.flush();
    }
    void free_frame(const netio::packet& f) override { q.free_tx(std::span(&f, 1)); }
    mac_addr local_mac() const override { return mac; }
    ipv4_addr local_ip() const override { return our_ip; }
};

class ArpKernel : public ::testing::Test {
protected:
    void SetUp() override {
        if (auto why = test::netns_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
        lab = std::make_unique<test::veth_lab>(test::veth_options{.addr_a = "10.77.0.1/24"});
        ASSERT_TRUE(lab->ok()) << lab->error();
        test::ns_enter in(lab->b());
        ASSERT_TRUE(in.ok()) << in.error();
        auto p = netio::open_port("afpacket:" + lab->b_if(), {});
        if (!p) GTEST_SKIP() << "afpacket unavailable: " << p.error().message;
        port = std::move(*p);
        link = std::make_unique<queue_link>(port->q(0), port->info().mac);
    }
    void TearDown() override {
        if (res) res->clear();
        res.reset();
        link.reset();
        port.reset();
        lab.reset();
    }
    void make_resolver(const resolver_config& cfg) {
        res = std::make_unique<resolver>(tbl, cfg);
        res->attach(*link);
    }
    // Runs the receive + timer loop until done() or ~10 s.
    template <class F>
    bool pump(F&& done) {
        for (int i = 0; i < 10000; ++i) {
            netio::packet rx[32];
            unsigned n = port->q(0).rx_burst(rx);
            net::nanos now = now_ns();
            for (unsigned k = 0; k < n; ++k) {
                bytes f(rx[k].data, rx[k].len);
                if (f.size() >= 14 && load_be16(f.data() + 12) == 0x0806) res->input(f, now);
            }
            port->q(0).release(std::span(rx, n));
            res->poll_timers(now);
            if (done()) return true;
            port->q(0).wait(1'000'000);
        }
        return done();
    }
    netio::packet udp_frame() {
        netio::packet f;
        EXPECT_TRUE(link->alloc_frame(f));
        std::memset(f.data, 0, 60);
        for (int i = 0; i < 6; ++i) f.data[6 + i] = std::byte{link->mac.b[i]};
        store_be16(f.data + 12, 0x0800);
        std::byte* ip = f.data + 14;
        store8(ip, 0x45);
        store_be16(ip + 2, 28);
        store8(ip + 8, 64);
        store8(ip + 9, 17);
        store_be32(ip + 12, our_ip.v);
        store_be32(ip + 16, kern_ip.v);
        store_be16(ip + 20 + 2, 9);  // discard
        store_be16(ip + 20 + 4, 8);
        f.len = 60;
        return f;
    }

    std::unique_ptr<test::veth_lab> lab;
    std::unique_ptr<netio::port> port;
    std::unique_ptr<queue_link> link;
    table tbl{256};
    std::unique_ptr<resolver> res;
};

}  // namespace

TEST_F(ArpKernel, KernelResolvesOurIp) {
    make_resolver({});
    std::atomic<bool> pinged{false};
    std::thread pinger([&] {
        lab->a().exec("ping -c 2 -i 0.2 -W 1 " + our_ip.str() + " >/dev/null 2>&1");
        pinged = true;
    });
    bool ok = pump([&] { return pinged.load(); });
    pinger.join();
    ASSERT_TRUE(ok);
    EXPECT_GE(res->stats().replies_sent, 1u);
    auto neigh = lab->a().exec("ip neigh show " + our_ip.str() + " dev " + lab->a_if());
    EXPECT_NE(neigh.output.find(link->mac.str()), std::string::npos) << neigh.output;
    // The kernel asked us, so its address is now in our table too (RFC 826).
    EXPECT_EQ(tbl.lookup(kern_ip, now_ns()).state, entry_state::reachable);
}

TEST_F(ArpKernel, WeResolveTheKernel) {
    resolver_config cfg;
    cfg.gratuitous = false;
    make_resolver(cfg);
    mac_addr m;
    netio::packet f = udp_frame();
    ASSERT_EQ(res->resolve(kern_ip, f, now_ns(), m), net::neighbor::outcome::queued);
    ASSERT_TRUE(pump([&] { return res->stats().flushed == 1; }));
    auto l = tbl.lookup(kern_ip, now_ns());
    EXPECT_EQ(l.state, entry_state::reachable);
    EXPECT_EQ(l.mac.str(), lab->mac_of(lab->a(), lab->a_if()));
}

TEST_F(ArpKernel, StaticEntryNeedsNoArp) {
    resolver_config cfg;
    cfg.gratuitous = false;
    make_resolver(cfg);
    auto kmac = mac_addr::parse(lab->mac_of(lab->a(), lab->a_if()));
    ASSERT_TRUE(kmac);
    tbl.add_static(kern_ip, 32, *kmac);
    auto before = lab->rx_packets(lab->a(), lab->a_if());
    mac_addr m;
    netio::packet f = udp_frame();
    ASSERT_EQ(res->resolve(kern_ip, f, now_ns(), m), net::neighbor::outcome::resolved);
    for (int i = 0; i < 6; ++i) f.data[i] = std::byte{m.b[i]};
    link->send_frame(f);
    ASSERT_TRUE(before);
    bool arrived = pump([&] {
        auto now = lab->rx_packets(lab->a(), lab->a_if());
        return now && *now > *before;
    });
    EXPECT_TRUE(arrived);
    EXPECT_EQ(res->stats().requests_sent, 0u);
    EXPECT_EQ(link->sent, 1u);  // only our frame went out
}

TEST_F(ArpKernel, UnreachableIpGivesUpAfterRetries) {
    resolver_config cfg;
    cfg.gratuitous = false;
    cfg.max_retries = 3;
    cfg.retry_initial = net::msec(20);
    cfg.retry_max = net::msec(40);
    make_resolver(cfg);
    mac_addr m;
    netio::packet f = udp_frame();
    ipv4_addr nobody(10, 77, 0, 99);
    ASSERT_EQ(res->resolve(nobody, f, now_ns(), m), net::neighbor::outcome::queued);
    ASSERT_TRUE(pump([&] { return res->stats().gave_up == 1; }));
    EXPECT_EQ(res->stats().requests_sent, 4u);
    EXPECT_EQ(res->stats().dropped_gave_up, 1u);
    EXPECT_EQ(tbl.lookup(nobody, now_ns()).state, entry_state::failed);
}
