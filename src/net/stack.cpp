// The per-core stack's input demux, ICMP, IPv4 output and fragmentation (see
// stack.hpp). UDP sockets are in udp.cpp, reassembly in reassembly.cpp.
#include "net/stack.hpp"

#include <algorithm>
#include <cstring>

#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"

namespace mvnf::net {

using namespace mvnf::wire;

namespace {
drop_reason ip_drop(ipv4_error e) {
    switch (e) {
        case ipv4_error::truncated: return drop_reason::ip_truncated;
        case ipv4_error::bad_version: return drop_reason::ip_bad_version;
        case ipv4_error::bad_ihl: return drop_reason::ip_bad_ihl;
        case ipv4_error::bad_total_length: return drop_reason::ip_bad_total_length;
        case ipv4_error::bad_checksum: return drop_reason::ip_bad_checksum;
        case ipv4_error::bad_options: return drop_reason::ip_bad_options;
    }
    return drop_reason::ip_truncated;
}
drop_reason icmp_drop(icmp_error e) {
    switch (e) {
        case icmp_error::truncated: return drop_reason::icmp_truncated;
        case icmp_error::bad_checksum: return drop_reason::icmp_bad_checksum;
        case icmp_error::bad_quote: return drop_reason::icmp_bad_quote;
    }
    return drop_reason::icmp_truncated;
}
nanos icmp_cost(const stack_config& c) { return sec(1) / std::max<uint32_t>(c.icmp_rate_per_sec, 1); }

// Checksum of an ICMP message given as an 8-byte header (checksum field 0)
// and a body elsewhere; the header is even-sized so the sums concatenate.
uint16_t icmp_checksum(bytes head, bytes body) {
    return checksum(body.data(), body.size(), csum_add(0, head.data(), head.size()));
}
}  // namespace

stack::stack(const stack_config& cfg, netio::queue& q)
    : _cfg(cfg),
      _q(q),
      _wheel(cfg.timer_tick, cfg.timer_slots),
      _chunks(cfg.max_num_buffers, cfg.chunk_size),
      _reasm(_cfg, _chunks, _wheel, _stats),
      _rx(std::max<uint32_t>(cfg.rx_batch, 1)),
      _hints(_rx.size()),
      _udp(std::min<uint32_t>(cfg.max_udp_sockets, 32767)),
      _udp_recs(size_t(_udp.size()) * std::max<uint32_t>(cfg.udp_queue_datagrams, 1)),
      _udp_port(65536, -1) {
    _idents.resize(ident_buckets);
    seed_idents();
    _idents_start = _idents;
    _cfg.tx_batch = std::max<uint32_t>(_cfg.tx_batch, 1);
    _cfg.udp_queue_datagrams = std::max<uint32_t>(_cfg.udp_queue_datagrams, 1);
    // Room for frames the port refused (held for the next flush), a full
    // batch and one maximal fragmented datagram queued on top.
    _tx.reserve(size_t(_cfg.tx_batch) + tx_hold_frames + 64);
    _icmp_credit = icmp_cost(_cfg) * _cfg.icmp_burst;  // start with a full bucket
    _nb->attach(*this);
}

void stack::seed_idents() {
    // Each bucket starts where the key puts it (splitmix64 of key and bucket),
    // so the first ID to a destination says nothing about earlier traffic.
    for (uint32_t i = 0; i < ident_buckets; ++i) {
        uint64_t z = _cfg.ident_key + 0x9e3779b97f4a7c15ull * (i + 1);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        _idents[i] = uint16_t(z ^ (z >> 31));
    }
}

bool stack::reset(nanos now) {
    // Idle means nothing the constructor would not have: every chunk home,
    // no datagram in reassembly, no frame waiting for TX, no UDP socket open
    // (and so no timer armed). Anything else is a leak the caller must see.
    if (_chunks.counters().in_use != 0 || _reasm.active() != 0 || _reasm.bytes_held() != 0 ||
        !_tx.empty())
        return false;
    for (const auto& u : _udp)
        if (u.open || u.count != 0) return false;
    if (!_wheel.reset(now)) return false;
    _stats = {};
    std::copy(_idents_start.begin(), _idents_start.end(), _idents.begin());
    _icmp_credit = icmp_cost(_cfg) * _cfg.icmp_burst;
    _icmp_last = 0;
    _next_ephemeral = 49152;
    _last_echo = {};
    return true;
}

uint16_t stack::next_ident(ipv4_addr dst, uint8_t proto) {
    // A keyed multiplicative hash picks the bucket: a few instructions per
    // datagram, and without the key an outside host cannot tell which
    // destinations share its counter.
    const uint64_t k = _cfg.ident_key | 1;
    const uint64_t h = ((uint64_t(dst.v) << 8 | proto) ^ (_cfg.ident_key >> 32)) * k;
    return _idents[size_t(h >> 54) & (ident_buckets - 1)]++;
}

stack::~stack() {
    for (size_t i = 0; i < _udp.size(); ++i)
        if (_udp[i].open) udp_close(int(i));
    if (!_tx.empty()) _q.free_tx(_tx);
}

void stack::set_transport(uint8_t protocol, transport* t) {
    _transports[protocol] = t;
    // Rebuilt from the table, so a transport registered for several
    // protocols is still called once per iteration. Not on the data path.
    _registered.clear();
    for (transport* r : _transports)
        if (r && std::find(_registered.begin(), _registered.end(), r) == _registered.end())
            _registered.push_back(r);
}

void stack::set_neighbor(neighbor* n) {
    _nb = n ? n : &_static_nb;
    _nb->attach(*this);
}

// ---------------------------------------------------------------- driving --

unsigned stack::poll(nanos now) {
    unsigned n = _q.rx_burst(_rx);
    if (n > 1) prefetch_burst(n);
    for (unsigned i = 0; i < n; ++i) {
        ++_stats.rx_packets;
        _stats.rx_bytes += _rx[i].len;
        frame_input(_rx[i], now);
    }
    // Everything we keep was copied (UDP queues, reassembly), so the whole
    // batch goes back to the backend at once.
    if (n) _q.release(std::span<const netio::packet>(_rx.data(), n));
    for (transport* t : _registered) t->end_of_batch(now);
    _wheel.advance(now);
    for (transport* t : _registered) t->poll_timers(now);
    _nb->poll_timers(now);
    flush();
    return n;
}

// The pre-pass: for a TCP transport that asks for it, the 4-tuples of the
// burst's untagged IPv4 TCP frames, read with bounds checks only (input()
// validates everything later; a bad frame only costs a wasted prefetch).
void stack::prefetch_burst(unsigned n) {
    transport* t = _transports[ipproto::tcp];
    if (!t || !t->wants_prefetch()) return;
    constexpr uint32_t eth = ethernet_view::header_len;
    unsigned k = 0;
    for (unsigned i = 0; i < n; ++i) {
        const std::byte* f = _rx[i].data;
        const uint32_t len = _rx[i].len;
        if (len < eth + 20 || load_be16(f + 12) != ethertype::ipv4) continue;
        const std::byte* ip = f + eth;
        const uint32_t ihl = uint32_t(load8(ip) & 0x0f) * 4;  // RFC 791 3.1
        if (load8(ip + 9) != ipproto::tcp || ihl < 20 || len < eth + ihl + 4) continue;
        _hints[k++] = flow_hint{ipv4_addr(load_be32(ip + 12)), ipv4_addr(load_be32(ip + 16)),
                                load_be16(ip + ihl), load_be16(ip + ihl + 2)};
    }
    if (k < 2) return;  // one frame: nothing to overlap
    t->prefetch(std::span<const flow_hint>(_hints.data(), k));
    ++_stats.prefetch_bursts;
}

nanos stack::next_deadline() const {
    if (!_tx.empty()) return 0;  // frames the port refused: retry at once
    nanos d = std::min(_wheel.next_deadline(), _nb->next_deadline());
    for (const transport* t : _registered) d = std::min(d, t->next_deadline());
    return d;
}

// Frames the port refuses (its TX ring is full) stay queued, in order, and
// go first at the next flush: back-pressure, not loss. poll() runs again at
// once while any wait (next_deadline() is "now").
void stack::flush() {
    if (_tx.empty()) return;
    const unsigned sent = _q.tx_burst(_tx);
    for (unsigned i = 0; i < sent; ++i) {
        ++_stats.tx_packets;
        _stats.tx_bytes += _tx[i].len;
    }
    if (sent < _tx.size()) {
        ++_stats.tx_ring_full;
        _tx.erase(_tx.begin(), _tx.begin() + sent);
    } else {
        _tx.clear();
    }
    _q.flush();
}

void stack::queue_tx(const netio::packet& frame) {
    if (_tx.size() == _tx.capacity()) {
        flush();
        if (_tx.size() == _tx.capacity()) {
            // Still refused with the whole hold queue waiting: the port is
            // not draining. Drop the newest frame and count it (a TCP
            // segment is retransmitted; a datagram is lost).
            count(drop_reason::tx_full);
            _q.free_tx(std::span<const netio::packet>(&frame, 1));
            return;
        }
    }
    _tx.push_back(frame);
    if (_tx.size() >= _cfg.tx_batch) flush();
}

// ------------------------------------------------------------------ input --

void stack::frame_input(const netio::packet& p, nanos now) {
    auto eth = ethernet_view::parse(bytes(p.data, p.len));
    if (!eth) return count(drop_reason::eth_short);
    mac_addr dst = eth->dst();
    bool bcast = dst.is_broadcast();
    if (!bcast && dst != _cfg.mac) return count(drop_reason::eth_not_for_us);
    switch (eth->type()) {
        case ethertype::arp:
            ++_stats.arp_rx;
            if (_nb == &_static_nb) return count(drop_reason::arp_no_handler);
            _nb->input(bytes(p.data, p.len), now);
            return;
        case ethertype::ipv4: return ip_input(eth->payload(), bcast, now);
        default: return count(drop_reason::eth_unknown_type);
    }
}

void stack::ip_input(bytes pkt, bool link_broadcast, nanos now) {
    auto v = ipv4_view::parse(pkt);
    if (!v) return count(ip_drop(v.error()));
    ++_stats.ip_rx;
    if (!is_local_dst(v->dst())) return count(drop_reason::ip_not_for_us);
    // RFC 1122 3.2.1.3: a source must be a unique host address — not
    // broadcast or multicast, not 0.0.0.0 (we run no bootstrap protocol),
    // not loopback (127/8 never appears on a wire, RFC 1122 3.2.1.3 (g)) and
    // not our own: a "LAND" packet from ourselves would otherwise create
    // connection state and make us answer ourselves (martian source).
    ipv4_addr src = v->src();
    if (src.is_broadcast() || src.is_multicast() || is_broadcast_dst(src) || src.is_any() ||
        (src.v >> 24) == 127 || src == _cfg.ip)
        return count(drop_reason::ip_bad_src);
    bool to_bcast = link_broadcast || is_broadcast_dst(v->dst());
    if (v->is_fragment()) {
        bytes whole = _reasm.input(*v, now);
        if (whole.empty()) return;
        auto w = ipv4_view::parse(whole, false);
        if (w) deliver(*w, to_bcast, now);
        return;
    }
    deliver(*v, to_bcast, now);
}

void stack::deliver(const ipv4_view& ip, bool to_bcast, nanos now) {
    switch (ip.protocol()) {
        case ipproto::icmp: return icmp_input(ip, to_bcast, now);
        case ipproto::udp: return udp_input(ip, to_bcast, now);
        default: break;
    }
    if (transport* t = _transports[ip.protocol()]) {
        if (ip.protocol() == ipproto::tcp) ++_stats.tcp_rx;
        t->input(ipv4_repr::parse(ip), ip.payload(), now);
        return;
    }
    if (ip.protocol() == ipproto::tcp) return count(drop_reason::tcp_no_handler);
    count(drop_reason::ip_unknown_proto);
    if (may_send_icmp_error(ip, to_bcast, now))
        send_icmp_unreachable(ip, icmp_code::proto_unreachable, now);
}

// ------------------------------------------------------------------- ICMP --

void stack::icmp_input(const ipv4_view& ip, bool to_bcast, nanos now) {
    auto m = icmp_view::parse(ip.payload());
    if (!m) return count(icmp_drop(m.error()));
    ++_stats.icmp_rx;
    switch (m->type()) {
        case icmp_type::echo_request: {
            // Like Linux (icmp_echo_ignore_broadcasts=1): no smurf amplifier.
            if (to_bcast) return count(drop_reason::icmp_echo_broadcast);
            std::array<std::byte, 8> head{};
            icmp_repr r{icmp_type::echo_reply, 0, m->ident(), m->seq(), 0, {}};
            r.emit(head.data());  // header only; checksum redone over the data below
            store_be16(head.data() + icmp_view::off_csum, 0);
            store_be16(head.data() + icmp_view::off_csum, icmp_checksum(head, m->data()));
            if (send_l4(ipproto::icmp, ip.src(), head, m->data(), now) == send_status::queued) {
                ++_stats.icmp_echo_replies;
                ++_stats.icmp_tx;
            }
            return;
        }
        case icmp_type::echo_reply:  // no raw sockets: remembered for ping()
            ++_stats.icmp_echo_reply_rx;
            _last_echo = {ip.src(), m->ident(), m->seq(), m->data().size(),
                          csum_fold(csum_add(0, m->data().data(), m->data().size()))};
            return;
        default: break;
    }
    if (!icmp_is_error(m->type())) return count(drop_reason::icmp_unhandled);
    ++_stats.icmp_errors_rx;
    // RFC 1122 3.2.2.1: pass the error to the transport that sent the quoted datagram.
    bytes qh = m->quoted_header();
    ipv4_repr quoted;
    quoted.src = ipv4_addr(load_be32(qh.data() + ipv4_view::off_src));
    quoted.dst = ipv4_addr(load_be32(qh.data() + ipv4_view::off_dst));
    quoted.protocol = load8(qh.data() + ipv4_view::off_proto);
    quoted.ident = load_be16(qh.data() + ipv4_view::off_id);
    quoted.ttl = load8(qh.data() + ipv4_view::off_ttl);
    // The quoted datagram's own length: RFC 1191 7 estimates a next-hop MTU
    // from it when an old router reports none.
    const uint16_t qlen = load_be16(qh.data() + ipv4_view::off_len);
    quoted.payload_len = qlen > qh.size() ? uint16_t(qlen - qh.size()) : 0;
    if (quoted.src != _cfg.ip) return count(drop_reason::icmp_bad_quote);
    if (transport* t = _transports[quoted.protocol])
        t->icmp_error(m->type(), m->code(), m->rest(), quoted, m->quoted_payload(), now);
}

send_status stack::ping(ipv4_addr dst, uint16_t ident, uint16_t seq, bytes data, nanos now) {
    std::array<std::byte, 8> head{};
    icmp_repr r{icmp_type::echo_request, 0, ident, seq, 0, {}};
    r.emit(head.data());
    store_be16(head.data() + icmp_view::off_csum, 0);
    store_be16(head.data() + icmp_view::off_csum, icmp_checksum(head, data));
    send_status st = send_l4(ipproto::icmp, dst, head, data, now);
    if (st == send_status::queued) ++_stats.icmp_tx;
    return st;
}

bool stack::may_send_icmp_error(const ipv4_view& bad, bool to_bcast, nanos now) {
    // RFC 1122 3.2.2: never about an ICMP error, a broadcast/multicast
    // datagram, a non-first fragment, or a source that is not one host.
    if (to_bcast || bad.dst().is_multicast()) return false;
    if (bad.frag_offset() != 0) return false;
    ipv4_addr s = bad.src();
    if (s.is_any() || s.is_broadcast() || s.is_multicast() || (s.v >> 24) == 127) return false;
    if (bad.protocol() == ipproto::icmp) {
        bytes p = bad.payload();
        if (p.empty() || icmp_is_error(load8(p.data()))) return false;
    }
    // RFC 1812 4.3.2.8 rate limit: token bucket refilled by virtual time.
    nanos cost = icmp_cost(_cfg);
    nanos cap = cost * _cfg.icmp_burst;
    if (now > _icmp_last) _icmp_credit = std::min(cap, _icmp_credit + (now - _icmp_last));
    _icmp_last = std::max(_icmp_last, now);
    if (_icmp_credit < cost) {
        ++_stats.icmp_rate_limited;
        return false;
    }
    _icmp_credit -= cost;
    return true;
}

void stack::send_icmp_unreachable(const ipv4_view& bad, uint8_t code, nanos now) {
    // RFC 792: quote the internet header and the first 64 bits of data.
    size_t qlen = bad.header_len() + std::min<size_t>(8, bad.payload().size());
    bytes quote = bad.datagram().first(qlen);
    std::array<std::byte, 8> head{};
    store8(head.data(), icmp_type::dest_unreachable);
    store8(head.data() + 1, code);
    store_be16(head.data() + icmp_view::off_csum, icmp_checksum(head, quote));
    if (send_l4(ipproto::icmp, bad.src(), head, quote, now) == send_status::queued) {
        ++_stats.icmp_unreach_sent;
        ++_stats.icmp_tx;
    }
}

// ----------------------------------------------------------------- output --

bool stack::alloc_frame(netio::packet& out) {
    if (_q.alloc_tx(std::span<netio::packet>(&out, 1)) == 1) return true;
    count(drop_reason::tx_no_buffer);
    return false;
}
void stack::send_frame(const netio::packet& frame) { queue_tx(frame); }
void stack::free_frame(const netio::packet& frame) {
    _q.free_tx(std::span<const netio::packet>(&frame, 1));
}

bool stack::try_alloc_tx(tx_buffer& out) {
    // While the port refuses frames, TCP holds its output (back-pressure)
    // instead of queueing more behind them.
    if (_tx.size() >= tx_hold_frames) return false;
    if (_q.alloc_tx(std::span<netio::packet>(&out.pkt, 1)) != 1) return false;  // caller retries
    if (out.pkt.len < tx_buffer::headroom) {
        free_frame(out.pkt);
        count(drop_reason::tx_no_buffer);
        return false;
    }
    return true;
}

bool stack::alloc_tx(tx_buffer& out) {
    if (!alloc_frame(out.pkt)) return false;
    if (out.pkt.len < tx_buffer::headroom) {  // a port with tiny buffers cannot carry IP
        free_frame(out.pkt);
        count(drop_reason::tx_no_buffer);
        return false;
    }
    return true;
}
void stack::free_tx(tx_buffer& buf) { free_frame(buf.pkt); }

send_status stack::send_ipv4(tx_buffer& buf, const ipv4_send& hdr, uint32_t l4_len, nanos now) {
    if (l4_len > buf.l4_capacity() ||
        (hdr.dont_frag && l4_len + ipv4_repr::length() > _cfg.mtu)) {
        free_frame(buf.pkt);
        count(drop_reason::tx_too_big);
        return send_status::too_big;
    }
    if (l4_len + ipv4_repr::length() > _cfg.mtu) {
        // Too big without DF: fragment a copy (rare: TCP segments fit the MSS).
        send_status st = send_l4(hdr.protocol, hdr.dst, bytes(buf.l4(), l4_len), {}, now);
        free_frame(buf.pkt);
        return st;
    }
    ipv4_repr ip;
    ip.src = _cfg.ip;
    ip.dst = hdr.dst;
    ip.protocol = hdr.protocol;
    ip.ttl = hdr.ttl;
    ip.tos = hdr.tos;
    ip.ident = next_ident(hdr.dst, hdr.protocol);
    ip.dont_frag = hdr.dont_frag;
    ip.payload_len = uint16_t(l4_len);
    return output(buf.pkt, ip, now);
}

send_status stack::output(netio::packet frame, const ipv4_repr& ip, nanos now) {
    std::byte* d = frame.data;
    ethernet_repr{mac_addr{}, _cfg.mac, ethertype::ipv4}.emit(d);
    ip.emit(d + ethernet_view::header_len);
    frame.len = uint32_t(tx_buffer::headroom + ip.payload_len);

    ipv4_addr hop = ip.dst;
    mac_addr mac;
    if (is_broadcast_dst(ip.dst)) {
        mac = mac_addr::broadcast();
    } else {
        if (((ip.dst.v ^ _cfg.ip.v) & _cfg.netmask.v) != 0) {
            if (_cfg.gateway.is_any()) {
                free_frame(frame);
                count(drop_reason::tx_no_route);
                return send_status::no_route;
            }
            hop = _cfg.gateway;
        }
        switch (_nb->resolve(hop, frame, now, mac)) {
            case neighbor::outcome::resolved: break;
            case neighbor::outcome::queued: ++_stats.ip_tx; return send_status::queued;
            case neighbor::outcome::unreachable:
                free_frame(frame);
                count(drop_reason::tx_unresolved);
                return send_status::unresolved;
        }
    }
    for (size_t i = 0; i < 6; ++i) store8(d + i, mac.b[i]);
    ++_stats.ip_tx;
    queue_tx(frame);
    return send_status::queued;
}

void stack::confirm_reachable(ipv4_addr dst, nanos now) {
    if (is_broadcast_dst(dst) || dst.is_multicast()) return;
    ipv4_addr hop = dst;
    if (((dst.v ^ _cfg.ip.v) & _cfg.netmask.v) != 0) {
        if (_cfg.gateway.is_any()) return;
        hop = _cfg.gateway;
    }
    _nb->confirm(hop, now);
}

send_status stack::send_l4(uint8_t proto, ipv4_addr dst, bytes head, bytes body, nanos now) {
    const size_t total = head.size() + body.size();
    if (total > ipv4_view::max_total_len - ipv4_repr::length()) {
        count(drop_reason::tx_too_big);
        return send_status::too_big;
    }
    constexpr size_t max_frags = 64;  // 65515 / 1024-byte minimum fragment payloads
    std::array<netio::packet, max_frags> bufs;
    if (!alloc_frame(bufs[0])) return send_status::tx_full;
    size_t room = bufs[0].len > tx_buffer::headroom ? bufs[0].len - tx_buffer::headroom : 0;
    size_t per = std::min<size_t>(_cfg.mtu - ipv4_repr::length(), room);
    size_t nfrag = 1;
    if (total > per) {
        per &= ~size_t(7);  // RFC 791: fragment data in units of 8 bytes
        nfrag = per ? (total + per - 1) / per : max_frags + 1;
    }
    if (nfrag > max_frags) {
        free_frame(bufs[0]);
        count(drop_reason::tx_too_big);
        return send_status::too_big;
    }
    if (nfrag > 1) {
        unsigned got = _q.alloc_tx(std::span<netio::packet>(bufs.data() + 1, nfrag - 1));
        if (got != nfrag - 1) {
            _q.free_tx(std::span<const netio::packet>(bufs.data(), got + 1));
            count(drop_reason::tx_no_buffer);
            return send_status::tx_full;
        }
    }
    const uint16_t ident = next_ident(dst, proto);
    for (size_t i = 0; i < nfrag; ++i) {
        size_t off = i * per, n = std::min(per, total - off);
        std::byte* out = bufs[i].data + tx_buffer::headroom;
        // Copy [off, off+n) of head ++ body.
        size_t done = 0;
        if (off < head.size()) {
            done = std::min(n, head.size() - off);
            std::memcpy(out, head.data() + off, done);
        }
        if (done < n) std::memcpy(out + done, body.data() + (off + done - head.size()), n - done);
        ipv4_repr ip;
        ip.src = _cfg.ip;
        ip.dst = dst;
        ip.protocol = proto;
        ip.ident = ident;
        ip.more_frags = i + 1 < nfrag;
        ip.frag_offset = uint32_t(off);
        ip.payload_len = uint16_t(n);
        send_status st = output(bufs[i], ip, now);
        if (st != send_status::queued) {
            if (i + 1 < nfrag)
                _q.free_tx(std::span<const netio::packet>(bufs.data() + i + 1, nfrag - i - 1));
            return st;
        }
    }
    if (nfrag > 1) _stats.frags_tx += nfrag;
    return send_status::queued;
}

}  // namespace mvnf::net
