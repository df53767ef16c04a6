// The shared lock-free neighbour table (see table.hpp). Writers: the core
// that handles an ARP frame and the core whose retries ran out; readers: every
// core's resolver. Only atomics: no locks, no allocation after construction.
#include "net/arp/table.hpp"

#include <algorithm>
#include <bit>

namespace mvnf::arp {

namespace {
inline uint32_t hash_ip(uint32_t ip) {
    // Fibonacci hashing: neighbour IPs are often consecutive.
    return (ip * 2654435761u) ^ (ip >> 16);
}
}  // namespace

table::table(uint32_t capacity, nanos timeout, nanos failed_holddown)
    : _timeout(timeout), _failed_holddown(failed_holddown) {
    uint32_t cap = std::bit_ceil(std::max<uint32_t>(capacity, 8));
    _slots = std::make_unique<slot[]>(cap);
    _mask = cap - 1;
}

uint64_t table::pack(mac_addr m, entry_state s) {
    uint64_t w = 0;
    for (int i = 0; i < 6; ++i) w = (w << 8) | m.b[i];
    return w | (uint64_t(s) << 48);
}

mac_addr table::unpack_mac(uint64_t w) {
    mac_addr m;
    for (int i = 5; i >= 0; --i) {
        m.b[i] = uint8_t(w & 0xff);
        w >>= 8;
    }
    return m;
}

table::slot* table::find(ipv4_addr ip) const {
    if (ip.v == 0) return nullptr;
    uint32_t i = hash_ip(ip.v) & _mask;
    for (uint32_t n = 0; n <= _mask; ++n, i = (i + 1) & _mask) {
        uint32_t k = _slots[i].ip.load(std::memory_order_acquire);
        if (k == ip.v) return &_slots[i];
        if (k == 0) return nullptr;  // slots are never freed: a gap ends the probe
    }
    return nullptr;
}

table::slot* table::claim(ipv4_addr ip) {
    if (ip.v == 0) return nullptr;
    uint32_t i = hash_ip(ip.v) & _mask;
    for (uint32_t n = 0; n <= _mask; ++n, i = (i + 1) & _mask) {
        uint32_t k = _slots[i].ip.load(std::memory_order_acquire);
        if (k == ip.v) return &_slots[i];
        if (k == 0) {
            uint32_t expected = 0;
            if (_slots[i].ip.compare_exchange_strong(expected, ip.v, std::memory_order_acq_rel))
                return &_slots[i];
            if (expected == ip.v) return &_slots[i];  // another core claimed it for us
        }
    }
    return nullptr;
}

bool table::add_static(ipv4_addr ip, unsigned prefix_len, mac_addr mac) {
    if (prefix_len > 32) return false;
    if (prefix_len == 32) {
        slot* s = claim(ip);
        if (!s) return false;
        s->stamp.store(0, std::memory_order_relaxed);
        s->word.store(pack(mac, entry_state::permanent), std::memory_order_release);
        return true;
    }
    uint32_t mask = prefix_len == 0 ? 0 : ~uint32_t(0) << (32 - prefix_len);
    _prefixes.push_back({ip.v & mask, mask, prefix_len, mac});
    std::stable_sort(_prefixes.begin(), _prefixes.end(),
                     [](const prefix_entry& a, const prefix_entry& b) { return a.len > b.len; });
    return true;
}

lookup_result table::lookup(ipv4_addr ip, nanos now) const {
    if (const slot* s = find(ip)) {
        uint64_t w = s->word.load(std::memory_order_acquire);
        nanos stamp = s->stamp.load(std::memory_order_relaxed);
        entry_state st = unpack_state(w);
        switch (st) {
            case entry_state::permanent: return {st, unpack_mac(w)};
            case entry_state::reachable:
                if (now < stamp || now - stamp < _timeout) return {st, unpack_mac(w)};
                break;  // aged out (RFC 1122 2.3.2.1: entries must time out)
            case entry_state::failed:
                if (now < stamp || now - stamp < _failed_holddown) return {st, {}};
                break;
            case entry_state::none: break;
        }
    }
    for (const auto& p : _prefixes)
        if ((ip.v & p.mask) == p.net) return {entry_state::permanent, p.mac};
    return {};
}

bool table::contains(ipv4_addr ip, nanos now) const {
    return lookup(ip, now).state != entry_state::none;
}

table::update_result table::learn(ipv4_addr ip, mac_addr mac, nanos now) {
    slot* s = claim(ip);
    if (!s) return update_result::full;
    uint64_t w = s->word.load(std::memory_order_acquire);
    if (unpack_state(w) == entry_state::permanent) return update_result::is_static;
    // Stamp first, word second (release): a reader that sees the new word
    // sees a stamp at least as new.
    s->stamp.store(now, std::memory_order_relaxed);
    s->word.store(pack(mac, entry_state::reachable), std::memory_order_release);
    return update_result::updated;
}

void table::mark_failed(ipv4_addr ip, nanos now) {
    entry_state st = lookup(ip, now).state;
    if (st == entry_state::reachable || st == entry_state::permanent) return;
    slot* s = claim(ip);
    if (!s) return;
    // CAS so a reply learnt by another core between our lookup and this
    // store is not overwritten by the failure.
    uint64_t w = s->word.load(std::memory_order_acquire);
    if (unpack_state(w) == entry_state::permanent) return;
    if (unpack_state(w) == entry_state::reachable && lookup(ip, now).state == entry_state::reachable)
        return;
    s->stamp.store(now, std::memory_order_relaxed);
    s->word.compare_exchange_strong(w, pack({}, entry_state::failed), std::memory_order_acq_rel);
}

}  // namespace mvnf::arp
