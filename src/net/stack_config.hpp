// What one per-core stack is built from: addresses, and every size that
// bounds its memory. Filled from the mtcp.conf value type (cfg::config) by
// the API layer, or directly by tests. All allocation happens in the stack's
// constructor from these numbers.
#pragma once

#include <cstdint>

#include "config/config.hpp"
#include "net/time.hpp"
#include "wire/addr.hpp"

namespace mvnf::net {

struct stack_config {
    ipv4_addr ip;
    ipv4_addr netmask{255, 255, 255, 0};
    ipv4_addr gateway;  // 0: off-link destinations are unreachable
    mac_addr mac;
    uint32_t mtu = 1500;  // IP MTU

    // The chunk pool (UDP receive queues, IP reassembly): mTCP's
    // max_num_buffers, which also sizes TCP's buffer pairs. TCP's own sizes
    // (max_concurrency, rcvbuf, sndbuf, timeouts) go to tcp::config, which
    // the API layer fills (src/api/init.cpp): the stack never reads them.
    uint32_t max_num_buffers = 10000;  // chunks in the per-core chunk pool
    uint32_t chunk_size = 2048;        // bytes per chunk

    // UDP.
    uint32_t udp_send_buffer = 65536;      // largest datagram sendto accepts (capped at 65507)
    uint32_t udp_receive_buffer = 262144;  // bytes queued per socket before drops
    uint32_t max_udp_sockets = 64;
    uint32_t udp_queue_datagrams = 256;  // datagrams queued per socket before drops

    // Batching.
    uint32_t rx_batch = 64, tx_batch = 64;

    // IPv4 reassembly (RFC 791 section 3.2; limits as Linux's ipfrag_*).
    uint32_t reasm_max_datagrams = 64;   // datagrams being reassembled at once
    uint32_t reasm_max_frags = 64;       // fragments per datagram
    uint32_t reasm_max_bytes = 1 << 20;  // payload bytes held across all of them
    nanos reasm_timeout = sec(30);       // Linux ipfrag_time

    // ICMP error rate limit: a token bucket on virtual time (RFC 1812 4.3.2.8).
    uint32_t icmp_rate_per_sec = 100;
    uint32_t icmp_burst = 10;

    // Keys the IPv4 Identification counters (RFC 6864, RFC 7739 5.2): the API
    // derives it from the instance's random secret; 0 in tests is valid.
    uint64_t ident_key = 0;

    // Timer wheel.
    nanos timer_tick = msec(1);
    uint32_t timer_slots = 4096;

    // Takes what applies from the parsed mtcp.conf (header-only use of cfg).
    static stack_config from(const cfg::config& c) {
        stack_config s;
        s.ip = c.ip_addr;
        s.netmask = c.netmask;
        s.gateway = c.gateway;
        s.mac = c.mac;
        s.mtu = uint32_t(c.mtu);
        s.max_num_buffers = uint32_t(c.max_num_buffers);
        s.udp_send_buffer = uint32_t(c.udp_send_buffer);
        s.udp_receive_buffer = uint32_t(c.udp_receive_buffer);
        s.rx_batch = uint32_t(c.rx_batch);
        s.tx_batch = uint32_t(c.tx_batch);
        s.reasm_max_datagrams = uint32_t(c.ipfrag_max_datagrams);
        s.reasm_max_frags = uint32_t(c.ipfrag_max_fragments);
        s.reasm_max_bytes = uint32_t(c.ipfrag_high_thresh);
        s.reasm_timeout = sec(c.ipfrag_time);
        return s;
    }
};

}  // namespace mvnf::net
