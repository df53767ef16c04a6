// UDP (RFC 768) for the per-core stack: a fixed socket table, a port map, and
// per-socket bounded receive queues of datagrams copied into chunk_pool
// chains (so RX buffers return to the port at the end of every poll). The
// mudp_* API calls these through net::stack.
#include <algorithm>

#include "net/stack.hpp"

namespace mvnf::net {

using namespace mvnf::wire;

const char* to_string(udp_errc e) {
    switch (e) {
        case udp_errc::no_sockets: return "no free UDP socket";
        case udp_errc::bad_socket: return "bad socket";
        case udp_errc::port_in_use: return "port in use";
        case udp_errc::no_ports: return "no free ephemeral port";
        case udp_errc::would_block: return "would block";
        case udp_errc::too_big: return "datagram too big";
        case udp_errc::no_buffers: return "no buffers";
        case udp_errc::no_route: return "no route";
        case udp_errc::unresolved: return "neighbor unresolved";
    }
    return "?";
}

stack::udp_socket* stack::sock(int s) {
    if (s < 0 || size_t(s) >= _udp.size() || !_udp[size_t(s)].open) return nullptr;
    return &_udp[size_t(s)];
}
const stack::udp_socket* stack::sock(int s) const {
    if (s < 0 || size_t(s) >= _udp.size() || !_udp[size_t(s)].open) return nullptr;
    return &_udp[size_t(s)];
}

result<int, udp_errc> stack::udp_open() {
    for (size_t i = 0; i < _udp.size(); ++i)
        if (!_udp[i].open) {
            _udp[i] = udp_socket{};
            _udp[i].open = true;
            return int(i);
        }
    return fail(udp_errc::no_sockets);
}

result<uint16_t, udp_errc> stack::udp_bind(int s, uint16_t port) {
    udp_socket* so = sock(s);
    if (!so || so->port != 0) return fail(udp_errc::bad_socket);
    if (port == 0) {
        // IANA dynamic range 49152-65535 (RFC 6335), round robin.
        for (unsigned tries = 0; tries < 16384 && port == 0; ++tries) {
            uint16_t p = _next_ephemeral;
            _next_ephemeral = _next_ephemeral == 65535 ? 49152 : uint16_t(_next_ephemeral + 1);
            if (_udp_port[p] < 0) port = p;
        }
        if (port == 0) return fail(udp_errc::no_ports);
    } else if (_udp_port[port] >= 0) {
        return fail(udp_errc::port_in_use);
    }
    _udp_port[port] = int16_t(s);
    so->port = port;
    return port;
}

void stack::udp_free_queue(udp_socket& so, uint32_t base) {
    while (so.count) {
        udp_rec& r = _udp_recs[base + so.head];
        _chunks.release(r.data);
        so.head = (so.head + 1) % _cfg.udp_queue_datagrams;
        --so.count;
    }
    so.bytes = 0;
}

void stack::udp_close(int s) {
    udp_socket* so = sock(s);
    if (!so) return;
    udp_free_queue(*so, uint32_t(s) * _cfg.udp_queue_datagrams);
    if (so->port) _udp_port[so->port] = -1;
    *so = udp_socket{};
}

size_t stack::udp_queued(int s) const {
    const udp_socket* so = sock(s);
    return so ? so->count : 0;
}

result<size_t, udp_errc> stack::udp_sendto(int s, bytes payload, ipv4_addr dst,
                                           uint16_t dst_port, nanos now) {
    udp_socket* so = sock(s);
    if (!so) return fail(udp_errc::bad_socket);
    constexpr size_t max_payload = 65535 - 20 - 8;
    if (payload.size() > std::min<size_t>(max_payload, _cfg.udp_send_buffer))
        return fail(udp_errc::too_big);
    if (so->port == 0) {
        auto b = udp_bind(s, 0);
        if (!b) return fail(b.error());
    }
    udp_repr u{so->port, dst_port, uint16_t(payload.size())};
    std::array<std::byte, udp_view::header_len> head{};
    u.emit_header(head.data(), u.compute_checksum(_cfg.ip, dst, payload));
    switch (send_l4(ipproto::udp, dst, head, payload, now)) {
        case send_status::queued: ++_stats.udp_tx; return payload.size();
        case send_status::no_route: return fail(udp_errc::no_route);
        case send_status::unresolved: return fail(udp_errc::unresolved);
        case send_status::too_big: return fail(udp_errc::too_big);
        case send_status::tx_full: return fail(udp_errc::no_buffers);
    }
    return fail(udp_errc::no_buffers);
}

result<udp_datagram, udp_errc> stack::udp_recvfrom(int s, mut_bytes out) {
    udp_socket* so = sock(s);
    if (!so) return fail(udp_errc::bad_socket);
    if (so->count == 0) return fail(udp_errc::would_block);
    udp_rec& r = _udp_recs[size_t(s) * _cfg.udp_queue_datagrams + so->head];
    udp_datagram d;
    d.full_len = r.data.len;
    d.len = _chunks.copy_out(r.data, 0, out);  // excess is discarded, as recvfrom does
    d.src = r.src;
    d.src_port = r.sport;
    so->bytes -= r.data.len;
    _chunks.release(r.data);
    so->head = (so->head + 1) % _cfg.udp_queue_datagrams;
    --so->count;
    d.queued = so->count;
    return d;
}

void stack::udp_input(const ipv4_view& ip, bool to_bcast, nanos now) {
    auto u = udp_view::parse(ip.payload(), ip.src(), ip.dst());
    if (!u) {
        switch (u.error()) {
            case udp_error::truncated: return count(drop_reason::udp_truncated);
            case udp_error::bad_length: return count(drop_reason::udp_bad_length);
            case udp_error::bad_checksum: return count(drop_reason::udp_bad_checksum);
        }
        return;
    }
    ++_stats.udp_rx;
    int idx = _udp_port[u->dst_port()];
    if (idx < 0) {
        count(drop_reason::udp_no_port);
        // RFC 1122 4.1.3.1: port unreachable for a datagram nobody listens to.
        if (may_send_icmp_error(ip, to_bcast, now))
            send_icmp_unreachable(ip, icmp_code::port_unreachable, now);
        return;
    }
    udp_socket& so = _udp[size_t(idx)];
    bytes data = u->payload();
    if (so.count == _cfg.udp_queue_datagrams || so.bytes + data.size() > _cfg.udp_receive_buffer)
        return count(drop_reason::udp_rcvbuf_full);
    udp_rec& r = _udp_recs[size_t(idx) * _cfg.udp_queue_datagrams +
                           (so.head + so.count) % _cfg.udp_queue_datagrams];
    r.data = chain{};
    if (!_chunks.append(r.data, data)) return count(drop_reason::no_buffers);
    r.src = ip.src();
    r.sport = u->src_port();
    ++so.count;
    so.bytes += uint32_t(data.size());
}

}  // namespace mvnf::net
