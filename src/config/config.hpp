// The stack's configuration: mTCP's `key = value` file format (mtcp.conf) with
// mTCP's keys plus this project's own. Parsed once at mtcp_init(); every
// layer reads the resulting value type. Errors name the file, line and cause.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "wire/addr.hpp"

namespace mvnf::cfg {

enum class dist_mode { hw, sw };
enum class thread_mode { run_to_completion, stack_thread };
enum class congestion { reno, cubic };

struct config {
    // --- mTCP keys ---------------------------------------------------------
    std::string io = "shm";           // default backend for bare port names; "" after an
                                      // mTCP-only io (dpdk, psio, onvm): names need a prefix
    int num_cores = 1;                // stack cores (contexts)
    std::vector<int> core_list;       // from core_mask: CPUs to pin to (empty: 0..n-1)
    std::vector<std::string> ports;   // port specs, e.g. "shm:link0", "afxdp:veth0"
    int max_concurrency = 10000;      // connections per core
    int max_num_buffers = 10000;      // TCP send/receive buffer pairs per core (and UDP/reassembly chunks)
    // 64 KiB: a flow may have 64 KiB in flight per round trip (8 KiB, mTCP's
    // default, caps it at 8 KiB per RTT); ring pages become resident only
    // when written, so memory follows the bytes connections queue.
    int rcvbuf = 65536;               // bytes, per-connection receive buffer
    int sndbuf = 65536;               // bytes, per-connection send buffer
    int tcp_timeout = -1;             // s, idle timeout; -1 (default, as Linux) disables
    int tcp_timewait = 60;            // s, TIME_WAIT hold (2MSL as Linux); 0 skips TIME_WAIT
    std::vector<std::string> stat_print;  // ports whose counters print each second
    int udp_send_buffer = 65536;      // bytes per UDP socket
    int udp_receive_buffer = 262144;  // bytes per UDP socket
    // --- this project's keys ------------------------------------------------
    ipv4_addr stat_http_ip;           // stat_http = ADDR:PORT: Prometheus text endpoint
    uint16_t stat_http_port = 0;      // 0: none
    ipv4_addr ip_addr;                // our address (ports the kernel does not configure)
    ipv4_addr netmask{255, 255, 255, 0};
    ipv4_addr gateway;                // 0: none
    mac_addr mac;                     // zero: the port's own MAC
    dist_mode dist = dist_mode::hw;
    int dispatcher_threads = 1;       // sw mode: 1 (RX+TX) or 2 (RX, TX)
    thread_mode threads = thread_mode::run_to_completion;
    int num_queues = 0;               // port queues; 0: num_cores in hw mode, 1 in sw mode
    int rx_batch = 64;                // frames per rx_burst
    int tx_batch = 64;                // frames per tx_burst
    int ring_size = 1024;             // port ring slots (power of two)
    int pipe_size = 1024;             // sw mode per-core pipe slots (power of two)
    int buf_size = 2048;              // port buffer bytes
    int mtu = 1500;
    congestion cc = congestion::cubic;
    int syn_backlog = 1024;           // per listener; beyond it SYN cookies
    int max_listeners = 16;           // listening sockets per core
    int tcp_event_queue = 0;          // TCP event ring per core; 0: max(4096, 4 x max_concurrency)
    int tcp_fin_wait_2 = 60;          // s, orphaned FIN-WAIT-2 hold (Linux tcp_fin_timeout); 0: none
    bool syn_cookies = true;
    int tcp_ecn = 2;  // RFC 3168 ECN: 0 off, 1 ask and grant, 2 grant only (Linux's tcp_ecn)
    int arp_retries = 2;  // 3 requests in all, as Linux's mcast_solicit
    int arp_timeout_ms = 1000;        // first ARP retry interval (doubles, capped)
    int arp_reachable_ms = 60000;     // a learnt MAC is reachable this long, then stale
    int arp_queue_len = 1024;         // frames held per unresolved destination
    // IPv4 reassembly per core (Linux's ipfrag_* names): datagrams at once,
    // fragments each, bytes held across them, seconds a datagram may wait.
    int ipfrag_max_datagrams = 64;
    int ipfrag_max_fragments = 64;
    int ipfrag_high_thresh = 1 << 20;
    int ipfrag_time = 30;
    int arp_queue_bytes = 212992;     // ... and their bytes (Linux's unres_qlen_bytes)
    std::string arp_conf;             // path to arp.conf (static entries)
    std::string route_conf;           // path to route.conf
    std::string pcap_file;            // capture every frame of the port here
    int busy_poll_us = 50;            // spin this long before blocking when idle
    int destroy_drain_ms = 2000;      // teardown waits at most this for closed FINs' ACKs
    // --- from the parser, not keys -------------------------------------------
    int port_line = 0;                // line of the `port` key (messages name it)
    // "file:line: ..." one-line notices for mTCP keys that load but have no
    // effect here (io = dpdk, num_mem_ch...); mtcp_init prints them.
    std::vector<std::string> notices;

    // Every field (the documentation test compares a parsed file with the
    // defaults).
    bool operator==(const config&) const = default;
};

struct error {
    std::string file;
    int line = 0;  // 0: not tied to a line
    std::string message;
    std::string str() const;  // "file:line: message"
};

template <class T>
using result = mvnf::result<T, error>;

// Parses text (file is only used in error messages).
result<config> parse(std::string_view text, std::string_view file = "<string>");
// Reads and parses a file.
result<config> load(const std::string& path);
// Checks cross-key constraints (ports present, sizes powers of two...).
result<void> validate(const config& c, std::string_view file = "<config>");

// Every key the parser accepts, in the order the reference lists them (the
// documentation test compares this list with docs/).
const std::vector<std::string_view>& known_keys();

}  // namespace mvnf::cfg
