// Deterministic in-process test harness for the per-core stack: a virtual
// clock, two stacks joined by a netio mem_link (or one stack and a raw peer
// that injects and captures exact frames). Used by tests/net and usable by
// the TCP tests (tests/net/tcp) via #include "../harness.hpp".
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "net/stack.hpp"
#include "netio/mem/mem_link.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/udp.hpp"

namespace mvnf::test {

struct virtual_clock {
    net::nanos t = 0;
};

inline const ipv4_addr ip_a{10, 0, 0, 1}, ip_b{10, 0, 0, 2};
inline const mac_addr mac_a{{0x02, 0, 0, 0, 0, 0x0a}}, mac_b{{0x02, 0, 0, 0, 0, 0x0b}};

inline net::stack_config small_config(ipv4_addr ip, mac_addr mac) {
    net::stack_config c;
    c.ip = ip;
    c.mac = mac;
    c.max_num_buffers = 1024;
    c.max_udp_sockets = 8;
    c.udp_queue_datagrams = 64;
    c.timer_slots = 1024;
    return c;
}

// Sends raw frames into a queue and captures what comes out of it.
struct raw_peer {
    netio::queue& q;

    bool send(bytes frame) {
        netio::packet p;
        if (q.alloc_tx(std::span<netio::packet>(&p, 1)) != 1) return false;
        if (frame.size() > p.len) {
            q.free_tx(std::span<const netio::packet>(&p, 1));
            return false;
        }
        std::copy(frame.begin(), frame.end(), p.data);
        p.len = uint32_t(frame.size());
        if (q.tx_burst(std::span<netio::packet>(&p, 1)) != 1) {
            q.free_tx(std::span<const netio::packet>(&p, 1));
            return false;
        }
        return true;
    }
    std::vector<std::vector<std::byte>> recv_all() {
        std::vector<std::vector<std::byte>> out;
        netio::packet ps[32];
        while (unsigned n = q.rx_burst(ps)) {
            for (unsigned i = 0; i < n; ++i) out.emplace_back(ps[i].data, ps[i].data + ps[i].len);
            q.release(std::span<const netio::packet>(ps, n));
        }
        return out;
    }
};

// Builders for hand-made frames (tests then mutate bytes).
inline std::vector<std::byte> eth_frame(mac_addr dst, mac_addr src, uint16_t type, bytes payload) {
    std::vector<std::byte> f(14 + payload.size());
    wire::ethernet_repr{dst, src, type}.emit(f.data());
    std::copy(payload.begin(), payload.end(), f.begin() + 14);
    return f;
}
inline std::vector<std::byte> ipv4_packet(const wire::ipv4_repr& ip, bytes payload) {
    std::vector<std::byte> p(20 + payload.size());
    auto r = ip;
    r.payload_len = uint16_t(payload.size());
    r.emit(p.data());
    std::copy(payload.begin(), payload.end(), p.begin() + 20);
    return p;
}
inline std::vector<std::byte> udp_segment(ipv4_addr src, ipv4_addr dst, uint16_t sport,
                                          uint16_t dport, bytes payload) {
    std::vector<std::byte> s(8 + payload.size());
    std::copy(payload.begin(), payload.end(), s.begin() + 8);
    wire::udp_repr{sport, dport, uint16_t(payload.size())}.emit(s.data(), src, dst);
    return s;
}
// A whole Ethernet frame carrying UDP from the peer (ip_b/mac_b) to ip_a/mac_a.
inline std::vector<std::byte> udp_frame_to_a(uint16_t sport, uint16_t dport, bytes payload,
                                             uint16_t ident = 1) {
    auto seg = udp_segment(ip_b, ip_a, sport, dport, payload);
    wire::ipv4_repr ip{ip_b, ip_a, wire::ipproto::udp};
    ip.ident = ident;
    return eth_frame(mac_a, mac_b, wire::ethertype::ipv4, ipv4_packet(ip, seg));
}

// Two stacks, a on link endpoint a, b on endpoint b, static neighbors.
struct two_stacks {
    virtual_clock clock;
    netio::mem_link link;
    net::stack a, b;

    explicit two_stacks(const netio::mem_link_config& lc = {},
                        std::function<void(net::stack_config&)> tweak = {})
        : link(lc), a(make(ip_a, mac_a, tweak), link.a()), b(make(ip_b, mac_b, tweak), link.b()) {
        link.set_clock([this] { return clock.t; });
        a.static_table().add(ip_b, mac_b);
        b.static_table().add(ip_a, mac_a);
    }
    static net::stack_config make(ipv4_addr ip, mac_addr mac,
                                  const std::function<void(net::stack_config&)>& tweak) {
        auto c = small_config(ip, mac);
        if (tweak) tweak(c);
        return c;
    }
    void step(net::nanos dt = net::msec(1)) {
        a.poll(clock.t);
        b.poll(clock.t);
        clock.t += dt;
    }
    // Polls both until the link is idle (nothing in flight) or `max` passes.
    void settle(net::nanos max = net::sec(1)) {
        net::nanos end = clock.t + max;
        do {
            step();
        } while (clock.t < end && (link.in_flight(netio::mem_link::dir::a_to_b) ||
                                   link.in_flight(netio::mem_link::dir::b_to_a)));
        step();
    }
};

}  // namespace mvnf::test
