// The thin adapter between net::stack and tcp::layer: implements the stack's
// net::transport seam (IPv4 input, timers) and the layer's segment_sink by
// writing each segment into a TX buffer from net::ip_output. Created per core
// next to the stack and registered with stack::set_transport(ipproto::tcp, &a).
#pragma once

#include "net/tcp/layer.hpp"
#include "net/transport.hpp"

namespace mvnf::tcp {

// An ICMP error quoting one of our segments, as net::transport::icmp_error
// receives it, handed to the layer (RFC 1122 4.2.3.9; RFC 1191 4 for
// "fragmentation needed"). Shared with every other glue between a stack
// and a layer (the packetdrill library's).
void forward_icmp_error(layer& l, uint8_t type, uint8_t code, uint32_t rest,
                        const wire::ipv4_repr& quoted, bytes quoted_l4, nanos now);

class transport_adapter final : public net::transport, private segment_sink {
public:
    // The MSS we advertise follows the IP MTU (RFC 9293 3.7.1: MTU - 40).
    transport_adapter(const config& cfg, net::ip_output& ip);

    layer& tcp() { return _layer; }
    // API calls made between polls emit with the last time the stack gave us;
    // callers that know better set it first.
    void set_now(nanos now) { _now = now; }

    void input(const wire::ipv4_repr& ip, bytes segment, nanos now) override;
    void poll_timers(nanos now) override;
    nanos next_deadline() const override { return _layer.next_deadline(); }
    bool wants_prefetch() const override { return _layer.wants_prefetch(); }
    void prefetch(std::span<const net::flow_hint> hints) const override;
    void icmp_error(uint8_t type, uint8_t code, uint32_t rest, const wire::ipv4_repr& quoted,
                    bytes quoted_l4, nanos now) override;

    uint64_t tx_no_buffer() const { return _tx_no_buffer; }
    uint64_t tx_failed() const { return _tx_failed; }

private:
    static config adjust(config c, const net::ip_output& ip);
    void confirm_reachable(ipv4_addr dst, nanos now) override { _ip.confirm_reachable(dst, now); }
    bool emit_segment(ipv4_addr src, ipv4_addr dst, const wire::tcp_repr& hdr, bytes p1,
                      bytes p2, uint8_t ip_ecn) override;

    net::ip_output& _ip;
    layer _layer;
    nanos _now = 0;
    uint64_t _tx_no_buffer = 0, _tx_failed = 0;
};

}  // namespace mvnf::tcp
