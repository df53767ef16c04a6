// ip_link: IPv4 packets in and out of the stack's Ethernet-framed queue, with
// virtual send times. Buffers come from one fixed arena allocated up front.
#include "packetdrill/ip_link.hpp"

#include <algorithm>
#include <cstring>

#include "wire/ethernet.hpp"

namespace mvnf::pd {

ip_link::ip_link(const net::nanos* clock, uint32_t num_buffers)
    : _clock(clock), _nbufs(num_buffers), _bufs(size_t(num_buffers) * buf_size),
      _jumbo(size_t(num_jumbo) * jumbo_size) {
    _free.reserve(num_buffers);
    for (uint32_t i = num_buffers; i-- > 0;) _free.push_back(i);
    _jumbo_free.reserve(num_jumbo);
    for (uint32_t i = num_jumbo; i-- > 0;) _jumbo_free.push_back(num_buffers + i);
}

bool ip_link::inject(bytes ip_packet) {
    const bool jumbo = ip_packet.size() + eth_len > buf_size;
    std::vector<uint32_t>& pool = jumbo ? _jumbo_free : _free;
    if (ip_packet.size() + eth_len > jumbo_size || pool.empty()) {
        ++_stats.rx_dropped;
        return false;
    }
    const uint32_t idx = pool.back();
    pool.pop_back();
    std::byte* b = buf(idx);
    wire::ethernet_repr{local_mac, peer_mac, wire::ethertype::ipv4}.emit(b);
    std::memcpy(b + eth_len, ip_packet.data(), ip_packet.size());
    _rx.push_back({idx, uint32_t(ip_packet.size() + eth_len), *_clock});
    return true;
}

bool ip_link::pop_sent(mut_bytes out, size_t& len, net::nanos& when) {
    if (_sent.empty()) return false;
    const held h = _sent.front();
    _sent.pop_front();
    len = h.len > eth_len ? h.len - eth_len : 0;
    when = h.when;
    std::memcpy(out.data(), buf(h.idx) + eth_len, std::min(len, out.size()));
    put_back(h.idx);
    return true;
}

unsigned ip_link::rx_burst(std::span<netio::packet> out) {
    unsigned n = 0;
    while (n < out.size() && !_rx.empty()) {
        const held h = _rx.front();
        _rx.pop_front();
        out[n++] = {buf(h.idx), h.len, h.idx};
        ++_stats.rx_packets;
        _stats.rx_bytes += h.len;
    }
    return n;
}

void ip_link::release(std::span<const netio::packet> pkts) {
    for (const auto& p : pkts) put_back(p.handle);
}

unsigned ip_link::alloc_tx(std::span<netio::packet> out) {
    unsigned n = 0;
    while (n < out.size() && !_free.empty()) {
        const uint32_t idx = _free.back();
        _free.pop_back();
        out[n++] = {buf(idx), buf_size, idx};
    }
    return n;
}

unsigned ip_link::tx_burst(std::span<netio::packet> pkts) {
    // Frames that are not IPv4 (none are expected: there is no ARP) are
    // dropped here rather than shown to packetdrill.
    for (const auto& p : pkts) {
        auto eth = wire::ethernet_view::parse(bytes(p.data, p.len));
        if (!eth || eth->type() != wire::ethertype::ipv4) {
            put_back(p.handle);
            ++_stats.tx_dropped;
            continue;
        }
        // Nobody reading (a script that ignores our output): keep the newest
        // half of the arena so the stack can still allocate.
        if (_sent.size() >= num_buffers() / 2) {
            put_back(_sent.front().idx);
            _sent.pop_front();
            ++_stats.tx_dropped;
        }
        _sent.push_back({p.handle, p.len, *_clock});
        ++_stats.tx_packets;
        _stats.tx_bytes += p.len;
    }
    return unsigned(pkts.size());
}

void ip_link::free_tx(std::span<const netio::packet> pkts) {
    for (const auto& p : pkts) put_back(p.handle);
}

}  // namespace mvnf::pd
