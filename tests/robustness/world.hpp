// The hostile-input world shared by fuzz/ and tests/robustness: stack A (the
// target: ARP resolver, IPv4/ICMP/UDP, TCP with a listener, an established
// connection from B and a UDP socket) and a well-behaved peer stack B on a
// mem_link with a virtual clock. Raw frames enter A's RX through link end b.
// A failed check prints what broke and aborts (libFuzzer keeps the input).
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "invariant.hpp"
#include "../net/harness.hpp"
#include "net/arp/resolver.hpp"
#include "net/arp/table.hpp"
#include "net/tcp/transport_adapter.hpp"

namespace mvnf::fuzz {


inline constexpr uint16_t listen_port = 80, peer_port = 40000, udp_port = 53;

inline tcp::config tcp_config(uint8_t key) {
    tcp::config c;
    c.max_concurrency = 16;
    // The stack's prefetch pre-pass runs on every burst, so hostile frames
    // go through it too.
    c.prefetch_min_flows = 0;
    c.max_listeners = 4;
    c.max_backlog = 4;
    c.rcvbuf = c.sndbuf = 16 * 1024;
    c.event_queue = 256;
    for (size_t i = 0; i < c.secret.size(); ++i) c.secret[i] = uint8_t(key + i * 13);
    return c;
}

inline net::stack_config stack_config(ipv4_addr ip, mac_addr mac) {
    auto c = test::small_config(ip, mac);
    c.max_num_buffers = 256;
    c.reasm_max_datagrams = 8;
    c.reasm_max_bytes = 64 * 1024;
    c.timer_slots = 256;
    return c;
}

inline netio::mem_link_config link_config(uint32_t buffers = 512) {
    netio::mem_link_config lc;
    lc.num_buffers = buffers;
    lc.max_in_flight = buffers / 2;
    return lc;
}



// A third host C (ip_c/mac_c) exists only as A's static ARP entry: frames A
// sends to it are captured off the link (to_c) instead of reaching B, so tests
// can script C as "inject this segment, expect that one".
inline const ipv4_addr ip_c{10, 0, 0, 3};
inline const mac_addr mac_c{{0x02, 0, 0, 0, 0, 0x0c}};

struct world_options {
    uint32_t a_conns = 16, b_conns = 16;  // TCP pools (max_concurrency)
    uint32_t a_chunks = 256;              // A's chunk pool (max_num_buffers)
    uint32_t link_buffers = 512;          // the mem_link's buffers (both directions)
    arp::resolver_config resolver{};      // A's ARP resolver
    net::nanos a_idle_timeout = 0;        // A's idle timeout (mtcp.conf tcp_timeout), 0: off
};

// Pools sized for the fuzzers (fuzz/): small enough that an input can
// exhaust each of them, so the paths that handle exhaustion are explored.
inline world_options fuzz_options() {
    world_options o;
    o.a_conns = o.b_conns = 8;
    o.a_chunks = 128;
    o.link_buffers = 256;
    o.resolver.max_pending = 8;
    o.resolver.queue_per_dest = 16;
    o.resolver.queue_bytes_per_dest = 16 * 2048;
    // Few, quick retries and a coarse table poll: a pending resolution ends
    // within ~0.5 s of virtual time in a few dozen polls, so the teardown
    // after each input stays cheap. The retry and give-up paths are the same.
    o.resolver.max_retries = 2;
    o.resolver.probes = 2;
    o.resolver.retry_initial = net::msec(100);
    o.resolver.retry_max = net::msec(200);
    o.resolver.table_poll = net::msec(50);
    // The announcement goes out once per resolver lifetime, not once per
    // reset: with it, the first input would see a different world.
    o.resolver.gratuitous = false;
    return o;
}

struct world {
    static tcp::config sized(tcp::config c, uint32_t conns, net::nanos idle = 0) {
        c.max_concurrency = conns;
        c.idle_timeout = idle;
        return c;
    }
    static net::stack_config chunks(net::stack_config c, uint32_t n) {
        c.max_num_buffers = n;
        return c;
    }

    world_options opt;
    test::virtual_clock clock;
    netio::mem_link link{link_config(opt.link_buffers)};
    arp::table arp_table{64};
    net::stack a{chunks(stack_config(test::ip_a, test::mac_a), opt.a_chunks), link.a()};
    net::stack b{stack_config(test::ip_b, test::mac_b), link.b()};
    arp::resolver resolver{arp_table, opt.resolver};
    tcp::transport_adapter ta{sized(tcp_config(1), opt.a_conns, opt.a_idle_timeout), a},
        tb{sized(tcp_config(101), opt.b_conns), b};
    test::raw_peer injector{link.b()};
    std::vector<std::vector<std::byte>> to_c;  // frames A sent to C

    bool exact_rx = true;
    tcp::handle listener, conn_a, conn_b;
    int udp_a = -1;

    explicit world(world_options o = {}) : opt(o) {
        link.set_clock([this] { return clock.t; });
        link.set_filter(netio::mem_link::dir::a_to_b, [this](std::span<std::byte> f) {
            if (f.size() < 6 || !std::equal(f.begin(), f.begin() + 6,
                                            reinterpret_cast<const std::byte*>(mac_c.b.data())))
                return true;
            to_c.emplace_back(f.begin(), f.end());
            return false;
        });
        arp_table.add_static(test::ip_b, 32, test::mac_b);
        arp_table.add_static(ip_c, 32, mac_c);
        a.set_neighbor(&resolver);
        b.static_table().add(test::ip_a, test::mac_a);
        a.set_transport(wire::ipproto::tcp, &ta);
        b.set_transport(wire::ipproto::tcp, &tb);
        establish();
        first = *ta.tcp().info(conn_a);
    }

    // The starting state every run sees: the clock at 1 s, A listening on
    // listen_port, B connected to it (handshake done, nothing sent), A's UDP
    // socket bound to udp_port.
    static constexpr net::nanos start_time = net::sec(1);
    void establish() {
        clock.t = start_time;
        exact_rx = true;
        to_c.clear();
        listener = *ta.tcp().listen(test::ip_a, listen_port, 4);
        auto c = tb.tcp().connect(test::ip_b, peer_port, test::ip_a, listen_port, clock.t);
        MVNF_FUZZ_CHECK(c.has_value());
        conn_b = *c;
        conn_a = {};
        for (int i = 0; i < 50 && !conn_a.valid(); ++i) {
            step(net::msec(1));
            if (auto r = ta.tcp().accept(listener)) conn_a = *r;
        }
        MVNF_FUZZ_CHECK(conn_a.valid());
        udp_a = *a.udp_open();
        MVNF_FUZZ_CHECK(a.udp_bind(udp_a, udp_port).has_value());
    }

    // For fuzzers that build one world per process: after
    // teardown_and_check() has proved every pool full again, puts every
    // part back to its state of construction (each part refuses unless it
    // is idle, which is checked too) and establishes again. The new
    // connection must be the first one exactly (same ISNs, same options):
    // a run then depends on its input alone, as with a fresh world, and a
    // crash reproduces from its input file.
    void reset() {
        resolver.clear();
        arp_table.forget_learnt();
        MVNF_FUZZ_CHECK(resolver.held_frames() == 0);
        MVNF_FUZZ_CHECK(link.reset());
        MVNF_FUZZ_CHECK(a.reset(start_time));
        MVNF_FUZZ_CHECK(b.reset(start_time));
        MVNF_FUZZ_CHECK(ta.tcp().reset(start_time));
        MVNF_FUZZ_CHECK(tb.tcp().reset(start_time));
        establish();
        const auto again = ta.tcp().info(conn_a);
        MVNF_FUZZ_CHECK(again.has_value());
        MVNF_FUZZ_CHECK(again->st == first.st && again->iss == first.iss &&
                        again->irs == first.irs && again->snd_nxt == first.snd_nxt &&
                        again->rcv_nxt == first.rcv_nxt && again->mss == first.mss &&
                        again->ts_ok == first.ts_ok && again->sack_ok == first.sack_ok &&
                        again->snd_wnd == first.snd_wnd && again->cwnd == first.cwnd);
    }
    tcp::conn_info first;  // A's side of the first connection established

    ~world() {
        a.set_transport(wire::ipproto::tcp, nullptr);
        b.set_transport(wire::ipproto::tcp, nullptr);
        a.set_neighbor(nullptr);
    }
    world(const world&) = delete;
    world& operator=(const world&) = delete;

    void step(net::nanos dt) {
        ta.set_now(clock.t);
        tb.set_now(clock.t);
        a.poll(clock.t);
        b.poll(clock.t);
        clock.t += dt;
    }
    // Puts one raw frame on A's receive ring and lets A process it alone.
    // Returns false when the link refused it (too big, no buffer).
    bool inject(bytes frame) {
        const uint64_t rx = a.stats().rx_packets;
        if (!injector.send(frame)) return false;
        ta.set_now(clock.t);
        a.poll(clock.t);
        // Exactly the one frame reached A, when nothing else can be in flight
        // to A (exact_rx: no B traffic pending, no impairments; ingress target).
        if (exact_rx) MVNF_FUZZ_CHECK(a.stats().rx_packets == rx + 1);
        return true;
    }

    // Bounds that must hold after every event.
    void check_bounds() const {
        for (const net::stack* s : {&a, &b}) {
            const auto& pc = s->chunks().counters();
            MVNF_FUZZ_CHECK(pc.in_use <= pc.capacity);
            MVNF_FUZZ_CHECK(s->reassembly().active() <= s->config().reasm_max_datagrams);
            MVNF_FUZZ_CHECK(s->reassembly().bytes_held() <= s->config().reasm_max_bytes);
        }
        for (const tcp::transport_adapter* t : {&ta, &tb}) {
            auto& l = const_cast<tcp::transport_adapter*>(t)->tcp();
            size_t used = 0;
            for (int st = 0; st <= int(tcp::state::time_wait); ++st)
                used += l.connections_in(tcp::state(st));
            // Every block in use is live or in TIME-WAIT; buffers go only to
            // blocks in use, at most max_concurrency (net/tcp/buffers.cpp).
            MVNF_FUZZ_CHECK(used == l.live_connections() + l.time_wait_connections());
            MVNF_FUZZ_CHECK(used <= l.slot_count());
            MVNF_FUZZ_CHECK(l.buffered_connections() <= l.cfg().max_concurrency);
            MVNF_FUZZ_CHECK(l.buffered_connections() <= used);
            MVNF_FUZZ_CHECK(l.free_connections() <= l.cfg().max_concurrency);
        }
        MVNF_FUZZ_CHECK(link.free_buffers() <= link.num_buffers());
        // Held frames are the link's TX buffers: never more than it has.
        MVNF_FUZZ_CHECK(resolver.held_frames() <= link.num_buffers());
    }

    // Closes every socket, accepts and aborts what the fuzz input opened, runs
    // virtual time past every timer and checks that all pools are full again.
    void teardown_and_check(std::vector<tcp::handle> extra_a = {},
                            std::vector<tcp::handle> extra_b = {}) {
        auto& la = ta.tcp();
        auto& lb = tb.tcp();
        extra_a.push_back(conn_a);
        extra_b.push_back(conn_b);
        for (int round = 0; round < 3; ++round) {
            while (auto r = la.accept(listener)) extra_a.push_back(*r);
            // Later rounds only for connections that completed meanwhile or
            // timers still pending (each drain is bounded); anything still
            // open fails the checks below either way.
            if (round > 0 && extra_a.empty() && extra_b.empty() && next_event() == net::never)
                break;
            for (auto h : extra_a) (void)la.abort(h, clock.t), (void)la.close(h, clock.t);
            for (auto h : extra_b) (void)lb.abort(h, clock.t), (void)lb.close(h, clock.t);
            extra_a.clear();
            extra_b.clear();
            (void)la.close(listener, clock.t);
            drain();
        }
        if (udp_a >= 0) a.udp_close(udp_a);
        udp_a = -1;
        drain();
        check_bounds();
        MVNF_FUZZ_CHECK(la.free_connections() == la.cfg().max_concurrency);
        MVNF_FUZZ_CHECK(lb.free_connections() == lb.cfg().max_concurrency);
        MVNF_FUZZ_CHECK(a.chunks().counters().in_use == 0);
        MVNF_FUZZ_CHECK(b.chunks().counters().in_use == 0);
        MVNF_FUZZ_CHECK(a.reassembly().active() == 0 && b.reassembly().active() == 0);
        MVNF_FUZZ_CHECK(a.tx_pending() == 0 && b.tx_pending() == 0);
        MVNF_FUZZ_CHECK(link.free_buffers() == link.num_buffers());
    }

    // Runs the clock to each next deadline until nothing is pending (bounded).
    net::nanos next_event() const {
        return std::min({a.next_deadline(), b.next_deadline(), link.next_delivery()});
    }
    void drain() {
        for (int i = 0; i < 4000; ++i) {
            if (next_event() == net::never) {
                step(net::msec(1));  // a last poll: frames just queued
                if (next_event() == net::never) return;
                continue;
            }
            clock.t = std::max(clock.t, next_event());
            step(net::msec(1));
        }
    }

    // Sends `n` bytes B -> A on the established connection and checks that A
    // reads exactly them (a pattern keyed by `seed`). Skipped (returns false)
    // when the connection is no longer established.
    bool check_flow(size_t n, uint8_t seed) {
        auto ia = ta.tcp().info(conn_a);
        auto ib = tb.tcp().info(conn_b);
        if (!ia || !ib || ia->st != tcp::state::established || ib->st != tcp::state::established)
            return false;
        // Kept between calls: the fuzzers run this for every input.
        static std::vector<std::byte> out, in;
        out.resize(n);
        in.resize(n + 16);
        for (size_t i = 0; i < n; ++i) out[i] = std::byte(uint8_t(i * 7 + seed));
        auto w = tb.tcp().send(conn_b, out, clock.t);
        if (!w) return false;
        size_t got = 0;
        for (int i = 0; i < 400 && got < *w; ++i) {
            step(net::msec(5));
            if (auto r = ta.tcp().recv(conn_a, std::span(in).subspan(got), clock.t)) {
                if (*r == 0) break;
                got += *r;
            }
        }
        auto again = ta.tcp().info(conn_a);
        if (again && again->st == tcp::state::established) {
            MVNF_FUZZ_CHECK(got == *w);
            MVNF_FUZZ_CHECK(std::equal(out.begin(), out.begin() + long(got), in.begin()));
        }
        return true;
    }
};

}  // namespace mvnf::fuzz
