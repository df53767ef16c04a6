// The per-core stack: one instance per core, never shared, driven by poll().
// It owns the core's pools, timer wheel, reassembly and UDP sockets, and
// implements the seams its plug-ins use (ip_output for TCP, link_output for
// ARP). Called by the API layer's per-core loop and by tests.
//
// poll(now):  rx_burst ─► Ethernet ─┬─ ARP ──────────────► neighbor::input
//                                   └─ IPv4 ─┬─ (fragments ► reassembler)
//                                            ├─ ICMP ─► echo reply / errors to transports
//                                            ├─ UDP ──► socket queues / port unreachable
//                                            └─ TCP ──► transport::input
//             release RX ─► transport::end_of_batch ─► timers ─► flush TX (one tx_burst)
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/result.hpp"
#include "net/neighbor.hpp"
#include "net/pool.hpp"
#include "net/reassembly.hpp"
#include "net/stack_config.hpp"
#include "net/stats.hpp"
#include "net/timer_wheel.hpp"
#include "net/transport.hpp"
#include "netio/queue.hpp"
#include "wire/icmp.hpp"
#include "wire/udp.hpp"

namespace mvnf::net {

// Errors of the UDP socket surface.
enum class udp_errc : uint8_t {
    no_sockets,    // the per-core socket table is full
    bad_socket,    // not an open socket
    port_in_use,   // bind: another socket has the port
    no_ports,      // no free ephemeral port
    would_block,   // recvfrom: nothing queued
    too_big,       // sendto: larger than udp_send_buffer / 65507
    no_buffers,    // sendto: not enough TX buffers for all fragments
    no_route,      // sendto: destination off-link and no gateway
    unresolved,    // sendto: neighbor resolution failed
};
const char* to_string(udp_errc e);

struct udp_datagram {
    size_t len = 0;        // bytes copied out
    size_t full_len = 0;   // bytes in the datagram (> len: truncated, rest discarded)
    ipv4_addr src;
    uint16_t src_port = 0;
    size_t queued = 0;     // datagrams still queued behind it
};

class stack final : public ip_output, public link_output {
public:
    stack(const stack_config& cfg, netio::queue& q);
    ~stack() override;
    stack(const stack&) = delete;
    stack& operator=(const stack&) = delete;

    // --- plug-ins ----------------------------------------------------------
    // Registers the handler of an IP protocol (TCP); nullptr removes it.
    void set_transport(uint8_t protocol, transport* t);
    // Replaces the built-in static table with a resolver (ARP); nullptr restores it.
    void set_neighbor(neighbor* n);
    static_neighbors& static_table() { return _static_nb; }

    // --- driving -----------------------------------------------------------
    // One iteration: a batch in, timers, TX flushed. Returns frames received.
    unsigned poll(nanos now);
    // Earliest time poll() has timer work, or `never`.
    nanos next_deadline() const;
    // Pushes queued frames to the port (poll() does this itself).
    void flush();
    // Back to the state of construction with the clock at `now` (counters,
    // IP ID sequence, ICMP rate limit, ephemeral ports, timer wheel), for a
    // harness that reuses one stack for many runs (fuzz/). Refuses (false)
    // unless the stack is idle: every chunk home, reassembly empty, TX
    // queue empty, no UDP socket open. Registered plug-ins stay.
    [[nodiscard]] bool reset(nanos now);

    // --- UDP sockets (mudp_* translate to these) ---------------------------
    [[nodiscard]] result<int, udp_errc> udp_open();
    // port 0 picks an ephemeral port. Address: INADDR_ANY or ours.
    [[nodiscard]] result<uint16_t, udp_errc> udp_bind(int s, uint16_t port);
    [[nodiscard]] result<size_t, udp_errc> udp_sendto(int s, bytes payload, ipv4_addr dst,
                                                      uint16_t dst_port, nanos now);
    [[nodiscard]] result<udp_datagram, udp_errc> udp_recvfrom(int s, mut_bytes out);
    void udp_close(int s);
    size_t udp_queued(int s) const;  // datagrams waiting

    // --- ICMP echo (ping) ---------------------------------------------------
    // Sends an echo request (fragmented if large); replies count in
    // stats().icmp_echo_reply_rx and the last one is kept for tools/tests.
    send_status ping(ipv4_addr dst, uint16_t ident, uint16_t seq, bytes data, nanos now);
    struct echo_seen {
        ipv4_addr from;
        uint16_t ident = 0, seq = 0;
        size_t len = 0;
        uint32_t data_sum = 0;  // ones'-complement sum of the data, to compare content
    };
    const echo_seen& last_echo_reply() const { return _last_echo; }

    // --- introspection -----------------------------------------------------
    const stack_config& config() const { return _cfg; }
    const stack_stats& stats() const { return _stats; }
    const chunk_pool& chunks() const { return _chunks; }
    const reassembler& reassembly() const { return _reasm; }
    size_t tx_pending() const { return _tx.size(); }

    // --- ip_output (for transports) ----------------------------------------
    bool alloc_tx(tx_buffer& out) override;
    bool try_alloc_tx(tx_buffer& out) override;
    void free_tx(tx_buffer& buf) override;
    send_status send_ipv4(tx_buffer& buf, const ipv4_send& hdr, uint32_t l4_len,
                          nanos now) override;
    ipv4_addr local_ip() const override { return _cfg.ip; }
    uint32_t mtu() const override { return _cfg.mtu; }
    void confirm_reachable(ipv4_addr dst, nanos now) override;
    timer_wheel& timers() override { return _wheel; }

    // --- link_output (for the neighbor module) -----------------------------
    bool alloc_frame(netio::packet& out) override;
    void send_frame(const netio::packet& frame) override;
    void free_frame(const netio::packet& frame) override;
    mac_addr local_mac() const override { return _cfg.mac; }

private:
    struct udp_rec {
        chain data;
        ipv4_addr src;
        uint16_t sport = 0;
    };
    struct udp_socket {
        bool open = false;
        uint16_t port = 0;
        uint32_t head = 0, count = 0;  // ring in _udp_recs[base .. base+udp_queue_datagrams)
        uint32_t bytes = 0;
    };

    void count(drop_reason r) { ++_stats.drops[size_t(r)]; }
    void frame_input(const netio::packet& p, nanos now);
    void prefetch_burst(unsigned n);
    void ip_input(bytes pkt, bool link_broadcast, nanos now);
    void deliver(const wire::ipv4_view& ip, bool to_broadcast, nanos now);
    void icmp_input(const wire::ipv4_view& ip, bool to_broadcast, nanos now);
    void udp_input(const wire::ipv4_view& ip, bool to_broadcast, nanos now);
    // RFC 1122 3.2.2 / RFC 1812 4.3.2.7 rules, then the rate limit.
    bool may_send_icmp_error(const wire::ipv4_view& offending, bool to_broadcast, nanos now);
    void send_icmp_unreachable(const wire::ipv4_view& offending, uint8_t code, nanos now);
    // Inline: every received datagram asks three times (destination, source,
    // to_bcast), and the calls cost more than the compares.
    bool is_local_dst(ipv4_addr a) const { return a == _cfg.ip || is_broadcast_dst(a); }
    bool is_broadcast_dst(ipv4_addr a) const {
        // Limited broadcast, or the directed broadcast of our subnet (RFC 1122 3.2.1.3).
        return a.is_broadcast() || a.v == (_cfg.ip.v | ~_cfg.netmask.v);
    }

    // Sends head+body (one L4 message) to dst, fragmenting when it exceeds the
    // MTU (RFC 791 section 3.2): all TX buffers are taken up front, so a
    // datagram goes out whole or not at all.
    send_status send_l4(uint8_t proto, ipv4_addr dst, bytes head, bytes body, nanos now);
    // Writes Ethernet + IPv4 in front of an L4 payload and resolves the next hop.
    send_status output(netio::packet frame, const wire::ipv4_repr& ip, nanos now);
    void queue_tx(const netio::packet& frame);
    udp_socket* sock(int s);
    const udp_socket* sock(int s) const;
    void udp_free_queue(udp_socket& s, uint32_t idx);

    stack_config _cfg;
    netio::queue& _q;
    stack_stats _stats;
    timer_wheel _wheel;
    chunk_pool _chunks;
    reassembler _reasm;
    static_neighbors _static_nb;
    neighbor* _nb = &_static_nb;
    std::array<transport*, 256> _transports{};  // by IP protocol: input dispatch
    // The registered transports, each once, for the per-iteration calls
    // (end_of_batch, poll_timers, next_deadline): scanning all 256 slots
    // three times cost ~770 loads per loop iteration for one or two entries.
    std::vector<transport*> _registered;

    std::vector<netio::packet> _rx;  // rx_batch slots
    std::vector<flow_hint> _hints;   // rx_batch slots: the TCP pre-pass (prefetch_burst)
    // Frames waiting for the one tx_burst, and those the port refused
    // (kept for the next flush, at most tx_hold_frames beyond a batch).
    static constexpr size_t tx_hold_frames = 256;
    std::vector<netio::packet> _tx;
    // IPv4 Identification (RFC 6864; RFC 7739 5.2's hashed counters, as
    // Linux's ip_idents): one counter per bucket of (destination, protocol),
    // the bucket and every counter's start keyed by ident_key. No global
    // counter an off-path host could sample (the idle scan), and IDs to one
    // destination stay unique for as long as 65536 datagrams take.
    static constexpr uint32_t ident_buckets = 1024;
    std::vector<uint16_t> _idents;
    std::vector<uint16_t> _idents_start;  // as seeded, for reset()
    uint16_t next_ident(ipv4_addr dst, uint8_t proto);
    void seed_idents();

    // ICMP error token bucket, credit in nanoseconds of virtual time.
    nanos _icmp_credit = 0, _icmp_last = 0;

    std::vector<udp_socket> _udp;
    std::vector<udp_rec> _udp_recs;
    std::vector<int16_t> _udp_port;  // port -> socket index, -1 if none (64 K entries)
    uint16_t _next_ephemeral = 49152;
    echo_seen _last_echo;
};

}  // namespace mvnf::net
