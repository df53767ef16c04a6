// Shared body of the kernel-facing backend tests (afxdp, afpacket, tap...):
// a veth lab where namespace `a` is the kernel peer with an IP and namespace
// `b` holds the end our port opens. Header-only; link mvnf_netio and
// mvnf_test_support. The kernel side reaches our IP through a static
// neighbour entry, so nothing depends on ARP.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "frames.hpp"
#include "netio/port.hpp"
#include "netns.hpp"

namespace mvnf::test {

class port_lab {
  public:
    static constexpr uint16_t base_src_port = 20000;

    explicit port_lab(unsigned queues) : _lab({.queues = queues, .addr_a = "10.66.0.1/24"}) {}
    bool ok() const { return _lab.ok(); }
    const std::string& error() const { return _lab.error(); }
    veth_lab& lab() { return _lab; }
    ipv4_addr kern_ip() const { return {10, 66, 0, 1}; }
    ipv4_addr our_ip() const { return {10, 66, 0, 2}; }
    // Read once (a shell command), then cached: frame builders call it per frame.
    mac_addr kern_mac() const {
        if (!_kern_mac) _kern_mac = mac_addr::parse(_lab.mac_of(_lab.a(), _lab.a_if()));
        return _kern_mac.value_or(mac_addr{});
    }

    // Opens `backend:b_if` from inside namespace b and points the kernel's
    // neighbour entry for our IP at the port's MAC.
    netio::result<std::unique_ptr<netio::port>> open(const std::string& backend,
                                                     netio::port_config cfg) {
        ns_enter in(_lab.b());
        if (!in.ok()) return fail(netio::error{netio::errc::system, in.error()});
        auto p = netio::open_port(backend + ":" + _lab.b_if(), cfg);
        if (p) _lab.add_neigh(_lab.a(), _lab.a_if(), our_ip().str(), (*p)->info().mac.str());
        return p;
    }

    // The kernel sends `per_flow` datagrams on each of `flows` flows (source
    // ports base_src_port + f) to our_ip:dport; payload "f<f>-s<seq>".
    // Returns how many sendto() calls succeeded.
    int kernel_send(unsigned flows, unsigned per_flow, uint16_t dport) {
        int sent = 0;
        for (unsigned f = 0; f < flows; ++f) {
            int fd = socket_in(_lab.a(), AF_INET, SOCK_DGRAM, 0);
            if (fd < 0) return sent;
            sockaddr_in src = sin(kern_ip(), uint16_t(base_src_port + f));
            if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) == 0) {
                sockaddr_in dst = sin(our_ip(), dport);
                for (unsigned s = 0; s < per_flow; ++s) {
                    std::string pl = "f" + std::to_string(f) + "-s" + std::to_string(s);
                    if (sendto(fd, pl.data(), pl.size(), 0, reinterpret_cast<sockaddr*>(&dst),
                               sizeof dst) == ssize_t(pl.size()))
                        ++sent;
                }
            }
            close(fd);
        }
        return sent;
    }

    // A kernel UDP socket in namespace a bound to kern_ip:port.
    int kernel_listen(uint16_t port) {
        int fd = socket_in(_lab.a(), AF_INET, SOCK_DGRAM, 0);
        if (fd < 0) return -1;
        sockaddr_in a = sin(kern_ip(), port);
        int big = 1 << 20;
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
        if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            close(fd);
            return -1;
        }
        return fd;
    }

    udp_flow to_kernel(const netio::port& p, uint16_t sport, uint16_t dport) const {
        return {p.info().mac, kern_mac(), our_ip(), kern_ip(), sport, dport};
    }

    static sockaddr_in sin(ipv4_addr ip, uint16_t port) {
        sockaddr_in s{};
        s.sin_family = AF_INET;
        s.sin_port = htons(port);
        s.sin_addr.s_addr = htonl(ip.v);
        return s;
    }

  private:
    veth_lab _lab;
    mutable std::optional<mac_addr> _kern_mac;
};

struct rx_record {
    unsigned queue;
    udp_seen dgram;
};

// Receives on every queue until `want` UDP datagrams to dport arrived or the
// bound (a generous failure cut-off, not a speed check) passes. Other frames
// are released and ignored; malformed UDP to dport is recorded as such by a
// payload of "<corrupt>".
inline std::vector<rx_record> collect_udp(netio::port& p, uint16_t dport, size_t want,
                                          std::chrono::seconds bound = std::chrono::seconds(8)) {
    std::vector<rx_record> got;
    auto end = std::chrono::steady_clock::now() + bound;
    netio::packet burst[32];
    while (got.size() < want && std::chrono::steady_clock::now() < end) {
        bool any = false;
        for (unsigned q = 0; q < p.num_queues(); ++q) {
            unsigned n = p.q(q).rx_burst(burst);
            any |= n > 0;
            for (unsigned i = 0; i < n; ++i) {
                auto s = parse_udp({burst[i].data, burst[i].len});
                bool to_us = burst[i].len >= 38 && load_be16(burst[i].data + 36) == dport;
                if (s && s->flow.dst_port == dport)
                    got.push_back({q, *s});
                else if (to_us && !s)
                    got.push_back({q, udp_seen{{}, "<corrupt>"}});
            }
            p.q(q).release({burst, n});
        }
        if (!any) p.q(0).wait(2'000'000);  // 2 ms; other queues are polled next round
    }
    return got;
}

// Reads datagrams from a kernel socket until `want` arrived or the bound
// passes; returns the payloads.
inline std::vector<std::string> kernel_recv(int fd, size_t want,
                                            std::chrono::seconds bound = std::chrono::seconds(5)) {
    std::vector<std::string> out;
    auto end = std::chrono::steady_clock::now() + bound;
    char buf[2048];
    while (out.size() < want && std::chrono::steady_clock::now() < end) {
        pollfd pfd{fd, POLLIN, 0};
        if (poll(&pfd, 1, 50) <= 0) continue;
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n >= 0) out.emplace_back(buf, size_t(n));
    }
    return out;
}

// Sends `total` UDP frames numbered "pkt<i>" from queue q of port p to the
// kernel side's port `dport`, `burst` at a time, retrying refused frames,
// until all are accepted or the bound passes; returns how many were sent.
inline unsigned send_to_kernel(const port_lab& lab, netio::port& p, netio::queue& q,
                               uint16_t dport, unsigned total, unsigned burst,
                               std::chrono::seconds bound = std::chrono::seconds(5)) {
    unsigned sent = 0;
    auto end = std::chrono::steady_clock::now() + bound;
    std::vector<netio::packet> b(burst);
    while (sent < total && std::chrono::steady_clock::now() < end) {
        unsigned n = q.alloc_tx({b.data(), std::min<size_t>(burst, total - sent)});
        for (unsigned i = 0; i < n; ++i)
            b[i].len = uint32_t(build_udp({b[i].data, b[i].len}, lab.to_kernel(p, 9000, dport),
                                          "pkt" + std::to_string(sent + i)));
        unsigned acc = q.tx_burst({b.data(), n});
        q.free_tx({b.data() + acc, n - acc});
        q.flush();
        sent += acc;
    }
    return sent;
}

}  // namespace mvnf::test
