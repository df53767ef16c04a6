// net::transport <-> tcp::layer glue (see transport_adapter.hpp).
#include "net/tcp/transport_adapter.hpp"

#include <algorithm>

namespace mvnf::tcp {

config transport_adapter::adjust(config c, const net::ip_output& ip) {
    const uint32_t mtu = ip.mtu();
    if (mtu > 40 + 64) c.mss = uint16_t(std::min<uint32_t>(c.mss, mtu - 40));
    return c;
}

transport_adapter::transport_adapter(const config& cfg, net::ip_output& ip)
    : _ip(ip), _layer(adjust(cfg, ip), *this) {}

void transport_adapter::prefetch(std::span<const net::flow_hint> hints) const {
    // Our side of each tuple is the datagram's destination.
    layer::flow_ref refs[64];
    while (!hints.empty()) {
        const size_t n = std::min<size_t>(hints.size(), 64);
        for (size_t i = 0; i < n; ++i)
            refs[i] = {hints[i].dst, hints[i].src, hints[i].dst_port, hints[i].src_port};
        _layer.prefetch_flows(std::span<const layer::flow_ref>(refs, n));
        hints = hints.subspan(n);
    }
}

void transport_adapter::input(const wire::ipv4_repr& ip, bytes segment, nanos now) {
    _now = now;
    _layer.input(ip.src, ip.dst, segment, now, uint8_t(ip.tos & 3));  // the ECN field
}

void transport_adapter::poll_timers(nanos now) {
    _now = now;
    _layer.poll(now);
}

bool transport_adapter::emit_segment(ipv4_addr /*src*/, ipv4_addr dst, const wire::tcp_repr& hdr,
                                     bytes p1, bytes p2, uint8_t ip_ecn) {
    net::tx_buffer buf;
    if (!_ip.try_alloc_tx(buf)) {
        // No TX buffer: the layer holds the connection's output (or, for a
        // segment no connection holds, the segment) and retries at its next poll.
        ++_tx_no_buffer;
        return false;
    }
    const size_t len = hdr.header_len() + p1.size() + p2.size();
    net::ipv4_send h;
    h.dst = dst;
    h.protocol = wire::ipproto::tcp;
    h.tos = ip_ecn & ip_ecn_mask;  // DSCP 0; the ECN field as the layer chose (RFC 3168 5)
    h.dont_frag = !(ip_ecn & ip_may_fragment);
    if (len > buf.l4_capacity()) {
        // Cannot ever fit: a loss, not back-pressure. The stack refuses it
        // and counts it (drop reason tx_too_big).
        (void)_ip.send_ipv4(buf, h, uint32_t(len), _now);
        ++_tx_failed;
        return true;
    }
    // The checksum is over the source the stack will put in the IP header.
    hdr.emit(mut_bytes(buf.l4(), buf.l4_capacity()), _ip.local_ip(), dst, p1, p2);
    if (_ip.send_ipv4(buf, h, uint32_t(len), _now) != net::send_status::queued) ++_tx_failed;
    return true;
}

namespace {

// RFC 1191 4: the next-hop MTU is the low 16 bits of the message's second
// word. A router that predates RFC 1191 leaves it 0, and a value no smaller
// than the quoted datagram cannot be right; then 7: take the largest
// plateau below the datagram's length (the table of section 7).
uint16_t next_hop_mtu(uint32_t rest, uint32_t quoted_len) {
    const uint16_t reported = uint16_t(rest & 0xffff);
    if (reported >= 68 && reported < quoted_len) return reported;
    static constexpr uint16_t plateaus[] = {32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296};
    for (uint16_t p : plateaus)
        if (p < quoted_len) return p;
    return 68;
}

}  // namespace

// The quoted datagram is one of ours: its source is local.
void forward_icmp_error(layer& l, uint8_t type, uint8_t code, uint32_t rest,
                        const wire::ipv4_repr& quoted, bytes quoted_l4, nanos now) {
    if (quoted_l4.size() < 8) return;
    const four_tuple t{quoted.src, quoted.dst, load_be16(quoted_l4.data()),
                       load_be16(quoted_l4.data() + 2)};
    const seq32 seq(load_be32(quoted_l4.data() + 4));
    layer::icmp_kind kind = layer::icmp_kind::soft;
    uint16_t mtu = 0;
    if (type == 3 && (code == 2 || code == 3)) {
        kind = layer::icmp_kind::hard_unreachable;
    } else if (type == 3 && code == 4) {
        kind = layer::icmp_kind::frag_needed;
        mtu = next_hop_mtu(rest, uint32_t(wire::ipv4_repr::length()) + quoted.payload_len);
    }
    l.icmp_error(t, seq, kind, mtu, now);
}

void transport_adapter::icmp_error(uint8_t type, uint8_t code, uint32_t rest,
                                   const wire::ipv4_repr& quoted, bytes quoted_l4, nanos now) {
    _now = now;
    forward_icmp_error(_layer, type, code, rest, quoted, quoted_l4, now);
}

}  // namespace mvnf::tcp
