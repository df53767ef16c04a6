// The reset the fuzzers (fuzz/) use between inputs: each part refuses while
// it is not idle, and after teardown_and_check() + reset() the world behaves
// byte for byte as the freshly built one did.
#include <gtest/gtest.h>

#include "net/timer_wheel.hpp"
#include "world.hpp"

using namespace mvnf;

namespace {

// A SYN from host C to A's listener, with timestamps and SACK-permitted.
std::vector<std::byte> syn_from_c() {
    wire::tcp_repr t;
    t.src_port = 5555;
    t.dst_port = fuzz::listen_port;
    t.seq = wire::seq32(777);
    t.flags = wire::tcp_flag::syn;
    t.window = 65535;
    t.opts.has_mss = true;
    t.opts.mss = 1460;
    t.opts.sack_permitted = true;
    t.opts.has_timestamps = true;
    t.opts.tsval = 1234;
    std::vector<std::byte> seg(t.header_len());
    t.emit(seg, fuzz::ip_c, test::ip_a);
    wire::ipv4_repr ip{fuzz::ip_c, test::ip_a, wire::ipproto::tcp};
    return test::eth_frame(test::mac_a, fuzz::mac_c, wire::ethertype::ipv4,
                           test::ipv4_packet(ip, seg));
}

// What A answers C's SYN: a SYN-ACK whose ISN, timestamp, IP ID and window
// depend on the clock and on every counter the world has.
std::vector<std::byte> answer_to_c(fuzz::world& w) {
    w.to_c.clear();
    w.inject(syn_from_c());
    w.step(net::msec(1));
    EXPECT_EQ(w.to_c.size(), 1u);
    return w.to_c.empty() ? std::vector<std::byte>{} : w.to_c.front();
}

}  // namespace

TEST(WorldReset, EachPartRefusesWhileBusy) {
    fuzz::world w(fuzz::fuzz_options());
    // The baseline holds a UDP socket, a listener and a connection.
    EXPECT_FALSE(w.a.reset(fuzz::world::start_time));
    EXPECT_FALSE(w.ta.tcp().reset(fuzz::world::start_time));
    EXPECT_FALSE(w.tb.tcp().reset(fuzz::world::start_time));
    // A frame in flight on the link.
    ASSERT_TRUE(w.injector.send(syn_from_c()));
    EXPECT_FALSE(w.link.reset());
    w.step(net::msec(1));

    net::timer_wheel wheel(net::usec(1), 256);
    net::timer t([](net::timer&, net::nanos) {}, nullptr);
    wheel.arm(t, net::sec(5));
    EXPECT_FALSE(wheel.reset(0));
    wheel.cancel(t);
    EXPECT_TRUE(wheel.reset(0));
    EXPECT_EQ(wheel.next_deadline(), net::never);
    w.teardown_and_check();
}

TEST(WorldReset, LearntArpEntriesGoStaticOnesStay) {
    fuzz::world w(fuzz::fuzz_options());
    const ipv4_addr n{10, 0, 0, 9};
    const mac_addr m{{0x02, 0, 0, 0, 0, 0x09}};
    w.arp_table.learn(n, m, w.clock.t);
    EXPECT_EQ(w.arp_table.lookup(n, w.clock.t).state, arp::entry_state::reachable);
    EXPECT_EQ(w.arp_table.forget_learnt(), 1u);
    EXPECT_EQ(w.arp_table.lookup(n, w.clock.t).state, arp::entry_state::none);
    EXPECT_EQ(w.arp_table.lookup(test::ip_b, w.clock.t).state, arp::entry_state::permanent);
    EXPECT_EQ(w.arp_table.lookup(fuzz::ip_c, w.clock.t).state, arp::entry_state::permanent);
    w.teardown_and_check();
}

TEST(WorldReset, AfterTrafficTheWorldAnswersExactlyAsWhenNew) {
    fuzz::world w(fuzz::fuzz_options());
    const auto fresh = answer_to_c(w);  // SYN-ACK: ISN, timestamp, IP ID, window
    ASSERT_FALSE(fresh.empty());
    // Change everything time- or count-dependent: data both ways, a UDP
    // datagram, an ICMP error, lost segments, seconds of virtual time.
    EXPECT_TRUE(w.check_flow(5000, 7));
    std::vector<std::byte> dgram(300, std::byte(1));
    (void)w.a.udp_sendto(w.udp_a, dgram, test::ip_b, 9999, w.clock.t);  // port unreachable back
    netio::mem_impairments lossy;
    lossy.loss = 0.3;
    w.link.set_impairments(netio::mem_link::dir::a_to_b, lossy);
    std::vector<std::byte> data(8000, std::byte(3));
    (void)w.ta.tcp().send(w.conn_a, data, w.clock.t);
    for (int i = 0; i < 200; ++i) w.step(net::msec(10));
    w.link.set_impairments(netio::mem_link::dir::a_to_b, {});

    w.teardown_and_check({}, {});
    w.reset();  // checks the new connection equals the first one
    EXPECT_EQ(answer_to_c(w), fresh);
    w.teardown_and_check();
    w.reset();
    EXPECT_EQ(answer_to_c(w), fresh);
    w.teardown_and_check();
}
