// The per-core ARP resolver (see resolver.hpp): RFC 826 packet reception,
// requests with bounded exponential backoff, per-destination frame queues.
// Allocates only in the constructor; every drop is counted by reason.
#include "net/arp/resolver.hpp"

#include <algorithm>

namespace mvnf::arp {

resolver::resolver(table& t, const resolver_config& cfg) : _table(t), _cfg(cfg) {
    _cfg.max_pending = std::max<uint32_t>(_cfg.max_pending, 1);
    _cfg.queue_per_dest = std::max<uint32_t>(_cfg.queue_per_dest, 1);
    _pending.resize(_cfg.max_pending);
    _frames.resize(size_t(_cfg.max_pending) * _cfg.queue_per_dest);
    _announce = _cfg.gratuitous;
}

resolver::~resolver() { clear(); }

void resolver::clear() {
    if (!_link) return;
    for (auto& p : _pending)
        if (!p.ip.is_any()) {
            for (uint32_t i = 0; i < p.count; ++i) {
                size_t base = size_t(&p - _pending.data()) * _cfg.queue_per_dest;
                _link->free_frame(_frames[base + (p.head + i) % _cfg.queue_per_dest]);
            }
            release_slot(p);
        }
}

size_t resolver::held_frames() const {
    size_t n = 0;
    for (const auto& p : _pending) n += p.count;
    return n;
}

resolver::pending_dest* resolver::find_pending(ipv4_addr ip) {
    if (_active == 0) return nullptr;
    for (auto& p : _pending)
        if (p.ip == ip) return &p;
    return nullptr;
}

resolver::pending_dest* resolver::take_slot(nanos now) {
    pending_dest* oldest = nullptr;
    for (auto& p : _pending) {
        if (p.ip.is_any()) {
            ++_active;
            return &p;
        }
        // Probes go before resolutions (nothing is held for them), then the
        // destination that waited longest: it is the likeliest never to answer.
        if (!oldest || (p.probe && !oldest->probe) ||
            (p.probe == oldest->probe && p.started < oldest->started))
            oldest = &p;
    }
    if (!oldest || (oldest->started == now && !oldest->probe && _pending.size() > 1)) return nullptr;
    ++_stats.pending_evicted;
    size_t base = size_t(oldest - _pending.data()) * _cfg.queue_per_dest;
    for (uint32_t i = 0; i < oldest->count; ++i) {
        _link->free_frame(_frames[base + (oldest->head + i) % _cfg.queue_per_dest]);
        ++_stats.dropped_evicted;
    }
    *oldest = pending_dest{};  // stays counted in _active: the caller takes it
    return oldest;
}

void resolver::start_probe(ipv4_addr ip, mac_addr mac, nanos now) {
    pending_dest* p = nullptr;
    if (_active < _pending.size()) {
        p = take_slot(now);
    } else {
        // Never evict a resolution that holds frames for a probe; only an
        // older probe.
        for (auto& d : _pending)
            if (d.probe && d.started < now && (!p || d.started < p->started)) p = &d;
        if (!p) return;  // tried again on the next frame to this neighbour
        ++_stats.pending_evicted;
        *p = pending_dest{};
    }
    p->ip = ip;
    p->probe = true;
    p->probe_mac = mac;
    p->started = now;
    p->next_check = now + _cfg.table_poll;
    send_probe(*p, now);
}

void resolver::send_probe(pending_dest& p, nanos now) {
    // RFC 1122 2.3.2.1: a unicast request to the cached address; the target
    // hardware field carries it, as Linux's probes do.
    send_arp(wire::arp_op::request, p.probe_mac, p.probe_mac, p.ip, _link->local_ip());
    ++_stats.probes_sent;
    ++p.requests;
    p.deadline = now + backoff(p.requests);
}

void resolver::release_slot(pending_dest& p) {
    p = pending_dest{};
    --_active;
}

nanos resolver::backoff(uint32_t requests) const {
    // Doubling from retry_initial, capped at retry_max.
    nanos d = _cfg.retry_initial;
    for (uint32_t i = 1; i < requests && d < _cfg.retry_max; ++i) d *= 2;
    return std::min(d, _cfg.retry_max);
}

void resolver::send_arp(uint16_t op, mac_addr eth_dst, mac_addr tha, ipv4_addr tpa,
                        ipv4_addr spa) {
    netio::packet f;
    if (!_link || !_link->alloc_frame(f) || f.len < wire::arp_repr::frame_length()) {
        if (_link && f.data) _link->free_frame(f);
        ++_stats.alloc_failures;
        return;
    }
    wire::arp_repr r{op, _link->local_mac(), spa, tha, tpa};
    r.emit_frame(f.data, eth_dst);
    f.len = wire::arp_repr::frame_length();
    _link->send_frame(f);
}

void resolver::send_request(pending_dest& p, nanos now) {
    // RFC 826: target hardware address is "don't care" in a request; zero, as Linux does.
    send_arp(wire::arp_op::request, mac_addr::broadcast(), {}, p.ip, _link->local_ip());
    ++_stats.requests_sent;
    ++p.requests;
    p.deadline = now + backoff(p.requests);
}

void resolver::flush(pending_dest& p, mac_addr mac) {
    size_t base = size_t(&p - _pending.data()) * _cfg.queue_per_dest;
    for (uint32_t i = 0; i < p.count; ++i) {
        netio::packet& f = _frames[base + (p.head + i) % _cfg.queue_per_dest];
        for (size_t b = 0; b < 6; ++b) f.data[b] = std::byte{mac.b[b]};
        _link->send_frame(f);
        ++_stats.flushed;
    }
    release_slot(p);
}

void resolver::drop_all(pending_dest& p) {
    size_t base = size_t(&p - _pending.data()) * _cfg.queue_per_dest;
    for (uint32_t i = 0; i < p.count; ++i) {
        _link->free_frame(_frames[base + (p.head + i) % _cfg.queue_per_dest]);
        ++_stats.dropped_gave_up;
    }
    release_slot(p);
}

// Upper-layer advice (TCP progress): the entry is reachable again, and a
// probe re-confirming it has nothing left to do.
void resolver::confirm(ipv4_addr next_hop, nanos now) {
    if (!_table.confirm(next_hop, now)) return;
    ++_stats.confirmed;
    if (pending_dest* p = find_pending(next_hop); p && p->probe) release_slot(*p);
}

net::neighbor::outcome resolver::resolve(ipv4_addr next_hop, const netio::packet& frame,
                                         nanos now, mac_addr& mac) {
    if (next_hop.is_broadcast()) {
        mac = mac_addr::broadcast();
        return outcome::resolved;
    }
    if (next_hop.is_multicast()) {
        // RFC 1112 section 6.4: 01:00:5e + low 23 bits of the group.
        mac = {{0x01, 0x00, 0x5e, uint8_t((next_hop.v >> 16) & 0x7f), uint8_t(next_hop.v >> 8),
                uint8_t(next_hop.v)}};
        return outcome::resolved;
    }
    lookup_result l = _table.lookup(next_hop, now);
    if (l.state == entry_state::reachable || l.state == entry_state::permanent) {
        mac = l.mac;
        return outcome::resolved;
    }
    pending_dest* p = find_pending(next_hop);
    if (l.state == entry_state::stale) {
        // Keep sending to the old MAC while unicast probes re-confirm it
        // (RFC 1122 2.3.2.1; Linux's STALE -> PROBE): a neighbour whose
        // entry aged out under traffic costs no outage and no broadcast.
        if (!p) start_probe(next_hop, l.mac, now);
        ++_stats.stale_used;
        mac = l.mac;
        return outcome::resolved;
    }
    if (p && p->probe) {
        // The probed entry failed or was evicted meanwhile: resolve afresh.
        release_slot(*p);
        p = nullptr;
    }
    if (!p && l.state == entry_state::failed) {
        ++_stats.dropped_failed;  // gave up recently: fail fast, no request storm
        return outcome::unreachable;
    }
    if (!p) {
        p = take_slot(now);
        if (!p) {
            ++_stats.dropped_pending_full;
            return outcome::unreachable;
        }
        p->ip = next_hop;
        p->started = now;
        p->next_check = now + _cfg.table_poll;
        send_request(*p, now);
    }
    if (p->count == _cfg.queue_per_dest || p->bytes + frame.len > _cfg.queue_bytes_per_dest) {
        ++_stats.dropped_queue_full;
        return outcome::unreachable;
    }
    size_t base = size_t(p - _pending.data()) * _cfg.queue_per_dest;
    _frames[base + (p->head + p->count) % _cfg.queue_per_dest] = frame;
    ++p->count;
    p->bytes += frame.len;
    ++_stats.queued;
    return outcome::queued;
}

void resolver::input(bytes frame, nanos now) {
    ++_stats.rx_frames;
    auto v = wire::arp_view::parse_frame(frame);
    if (!v) {
        ++_stats.rx_invalid[unsigned(v.error())];
        return;
    }
    if (!_link) return;
    auto eth = wire::ethernet_view::parse(frame);  // cannot fail: parse_frame checked length
    mac_addr our_mac = _link->local_mac();
    ipv4_addr our_ip = _link->local_ip();
    if (!eth->dst().is_broadcast() && eth->dst() != our_mac) {
        ++_stats.rx_not_for_us;
        return;
    }
    wire::arp_repr a = wire::arp_repr::parse(*v);
    if (a.sender_ip == our_ip && !our_ip.is_any()) {
        if (a.sender_mac != our_mac) ++_stats.address_conflicts;
        return;  // our own announcement looped back, or a conflict: never learn our IP
    }
    bool for_us = a.target_ip == our_ip && !our_ip.is_any();
    bool learnable = !a.sender_ip.is_any() && !a.sender_ip.is_broadcast() &&
                     !a.sender_ip.is_multicast() && !a.sender_mac.is_multicast() &&
                     !a.sender_mac.is_zero();

    // RFC 826 "Packet Reception": merge_flag is set when the sender is already
    // in the table; only then, or when the packet targets us, is it written.
    bool merged = false;
    if (learnable) {
        lookup_result cur = _table.lookup(a.sender_ip, now);
        if (cur.state == entry_state::permanent) {
            if (cur.mac != a.sender_mac) ++_stats.static_conflicts;
            merged = true;  // in the table; static entries are never overwritten
        } else if (cur.state != entry_state::none || for_us) {
            auto r = _table.learn(a.sender_ip, a.sender_mac, now);
            if (r == table::update_result::updated || r == table::update_result::evicted) {
                ++_stats.learnt;
                if (r == table::update_result::evicted) ++_stats.table_evicted;
                merged = true;
            } else if (r == table::update_result::full) {
                ++_stats.table_full;
            }
        } else {
            ++_stats.rx_unsolicited;
        }
    }
    if (merged)
        if (pending_dest* p = find_pending(a.sender_ip)) {
            lookup_result now_l = _table.lookup(a.sender_ip, now);
            flush(*p, now_l.state == entry_state::none ? a.sender_mac : now_l.mac);
        }
    if (for_us && a.op == wire::arp_op::request && _cfg.answer_requests) {
        // Reply unicast to the asker, even for RFC 5227 probes (sender IP 0).
        send_arp(wire::arp_op::reply, a.sender_mac, a.sender_mac, a.sender_ip, our_ip);
        ++_stats.replies_sent;
    }
}

void resolver::poll_timers(nanos now) {
    if (_announce && _link) {
        // Gratuitous ARP: a request with sender = target = our IP (RFC 5227 3).
        _announce = false;
        if (!_link->local_ip().is_any()) {
            send_arp(wire::arp_op::request, mac_addr::broadcast(), {}, _link->local_ip(),
                     _link->local_ip());
            ++_stats.gratuitous_sent;
        }
    }
    if (_active == 0 || !_link) return;
    for (auto& p : _pending) {
        if (p.ip.is_any()) continue;
        if (now >= p.next_check) {
            // The reply may have reached another core, which wrote the table.
            lookup_result l = _table.lookup(p.ip, now);
            if (l.state == entry_state::reachable || l.state == entry_state::permanent) {
                flush(p, l.mac);  // a probe holds nothing: this only ends it
                continue;
            }
            p.next_check = now + _cfg.table_poll;
        }
        if (now < p.deadline) continue;
        if (p.probe) {
            if (p.requests >= _cfg.probes) {
                // No answer to any unicast probe: the neighbour moved or is
                // gone. Fail it; the next frame starts a broadcast resolution
                // once the hold-down passes.
                ++_stats.probes_failed;
                _table.mark_failed(p.ip, now);
                release_slot(p);
            } else {
                send_probe(p, now);
            }
        } else if (p.requests > _cfg.max_retries) {
            ++_stats.gave_up;
            _table.mark_failed(p.ip, now);
            drop_all(p);
        } else {
            send_request(p, now);
        }
    }
}

nanos resolver::next_deadline() const {
    if (_announce) return 0;
    nanos d = net::never;
    if (_active == 0) return d;
    for (const auto& p : _pending)
        if (!p.ip.is_any()) d = std::min({d, p.deadline, p.next_check});
    return d;
}

}  // namespace mvnf::arp
