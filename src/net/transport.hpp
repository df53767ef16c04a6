// The seam between the per-core stack (net::stack) and its transports. The
// stack validates Ethernet and IPv4 and hands each IPPROTO_TCP datagram to the
// `transport` registered for it (TCP, in src/net/tcp/); the transport sends
// through the `ip_output` the stack gives it. ICMP and UDP live in the stack.
//
// Outgoing frame layout (every TX buffer, whoever fills it):
//
//   pkt.data
//   │
//   ▼ 0            14                 34                          34+l4_len
//   +--------------+------------------+---------------------------+--------
//   | Ethernet (14)| IPv4 header (20) | L4 header + payload        | unused
//   | stack writes | stack writes     | transport writes (l4())    |
//   +--------------+------------------+---------------------------+--------
//   |<-------- headroom = 34 -------->|<-- l4_capacity() bytes ---------->|
//
// The transport fills l4() .. l4()+l4_len (including its own checksum, using
// wire::pseudo_header_sum with local_ip() and the destination) and calls
// send_ipv4(); the stack writes IPv4 + Ethernet in front and queues the frame
// for the one tx_burst at the end of the poll.
#pragma once

#include <cstdint>
#include <span>

#include "common/bytes.hpp"
#include "netio/packet.hpp"
#include "net/time.hpp"
#include "wire/addr.hpp"
#include "wire/ipv4.hpp"

namespace mvnf::net {

class timer_wheel;

struct tx_buffer {
    static constexpr uint32_t eth_len = 14;
    static constexpr uint32_t ip_len = 20;
    static constexpr uint32_t headroom = eth_len + ip_len;

    netio::packet pkt;  // pkt.len is the buffer's capacity until sent

    std::byte* l4() const { return pkt.data + headroom; }
    uint32_t l4_capacity() const { return pkt.len > headroom ? pkt.len - headroom : 0; }
};

// What the transport asks of the IPv4 header it is sent with.
struct ipv4_send {
    ipv4_addr dst;
    uint8_t protocol = wire::ipproto::tcp;
    uint8_t ttl = 64;
    uint8_t tos = 0;
    bool dont_frag = true;  // TCP does PMTU-friendly segmenting (RFC 1191)
};

enum class send_status : uint8_t {
    queued,       // in the TX batch (or held by the neighbor resolver until resolved)
    no_route,     // destination unreachable (no gateway) — frame freed, counted
    unresolved,   // neighbor resolution failed — frame freed, counted
    too_big,      // l4_len + 20 > MTU with DF set — frame freed, counted
    tx_full,      // TX path refused it — frame freed, counted
};

// Implemented by net::stack. Everything here is per core and lock free.
class ip_output {
public:
    virtual ~ip_output() = default;

    // Borrows a TX buffer laid out as drawn above; false when none is free
    // (counted). The buffer must come back through send_ipv4() or free_tx().
    [[nodiscard]] virtual bool alloc_tx(tx_buffer& out) = 0;
    // The same, for a caller that holds its output and retries when none is
    // free (TCP's back-pressure): a refusal is then not counted as a drop.
    [[nodiscard]] virtual bool try_alloc_tx(tx_buffer& out) { return alloc_tx(out); }
    virtual void free_tx(tx_buffer& buf) = 0;
    // Writes the IPv4 and Ethernet headers for l4_len bytes at buf.l4(),
    // resolves the next hop and queues the frame. Always takes the buffer.
    virtual send_status send_ipv4(tx_buffer& buf, const ipv4_send& hdr, uint32_t l4_len,
                                  nanos now) = 0;

    virtual ipv4_addr local_ip() const = 0;
    virtual uint32_t mtu() const = 0;  // IP MTU (1500 on Ethernet)
    // A transport saw the peer at dst make progress (TCP: new data ACKed):
    // the next hop toward it is reachable (RFC 1122 2.3.2.1 "advice" from
    // higher layers, as Linux's neighbour confirmation).
    virtual void confirm_reachable(ipv4_addr /*dst*/, nanos /*now*/) {}
    // The per-core timer wheel, for transports that want one.
    virtual timer_wheel& timers() = 0;
};

// Implemented by TCP (src/net/tcp/) and registered with
// stack::set_transport(wire::ipproto::tcp, &t). Called only from poll().
// What the stack's pre-pass over a received burst learns of one datagram
// for a transport, before any validation: enough to find its connection.
// Addresses and ports as the datagram carries them (src = the peer).
struct flow_hint {
    ipv4_addr src, dst;
    uint16_t src_port = 0, dst_port = 0;
};

class transport {
public:
    virtual ~transport() = default;

    // Whether prefetch() is worth the stack's pre-pass over each burst (for
    // TCP: only with more connections than the CPU caches hold).
    virtual bool wants_prefetch() const { return false; }
    // Hints for the burst about to be input(): start loading whatever the
    // input will look up, so the burst's cache misses overlap instead of
    // being taken one datagram after another. Must not change any state a
    // test could observe; the hints are unvalidated and may be garbage.
    virtual void prefetch(std::span<const flow_hint> /*hints*/) const {}

    // One datagram for us with this protocol. IPv4 has been validated (header
    // checksum, lengths, reassembled if it was fragmented); `segment` is the
    // IP payload with padding trimmed — the transport checks its own checksum
    // and lengths and counts its own drops. Valid only during the call.
    virtual void input(const wire::ipv4_repr& ip, bytes segment, nanos now) = 0;

    // Called once per poll after all input of the batch (a place to send
    // coalesced ACKs) and before TX is flushed.
    virtual void end_of_batch(nanos /*now*/) {}

    // Runs due timers (if the transport does not use timers()).
    virtual void poll_timers(nanos now) = 0;
    // The earliest time poll_timers() has work, or `never`.
    virtual nanos next_deadline() const = 0;

    // An ICMP error (destination unreachable, time exceeded...) quoting one
    // of our datagrams of this protocol: `rest` is the message's second word
    // (RFC 792; for "fragmentation needed" the next-hop MTU in its low 16
    // bits, RFC 1191 4), `quoted` the datagram's IPv4 header, `quoted_l4`
    // the first bytes of its payload (>= 8). RFC 1122 3.2.2.1.
    virtual void icmp_error(uint8_t /*type*/, uint8_t /*code*/, uint32_t /*rest*/,
                            const wire::ipv4_repr& /*quoted*/, bytes /*quoted_l4*/,
                            nanos /*now*/) {}
};

}  // namespace mvnf::net
