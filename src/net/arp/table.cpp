// The shared neighbour table (see table.hpp). Readers (every core's resolver,
// per outgoing frame) are lock-free; writers (the core that handles an ARP
// frame, the core whose retries ran out) take a table-wide flag for the few
// stores of one update. No allocation after construction.
#include "net/arp/table.hpp"

#include <algorithm>
#include <bit>

namespace mvnf::arp {

namespace {
inline uint32_t hash_ip(uint32_t ip) {
    // Fibonacci hashing: neighbour IPs are often consecutive.
    return (ip * 2654435761u) ^ (ip >> 16);
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}
}  // namespace

table::table(uint32_t capacity, nanos timeout, nanos failed_holddown)
    : _timeout(timeout), _failed_holddown(failed_holddown) {
    uint32_t cap = std::bit_ceil(std::max<uint32_t>(capacity, window));
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

bool table::read(const slot& s, snapshot& out) const {
    // A writer holds a slot for four stores; 64 tries outlast it unless the
    // writer's thread was preempted mid-update, and then the caller treats
    // the slot as a miss (a resolution starts; nothing is lost).
    for (int tries = 0; tries < 64; ++tries) {
        uint32_t s1 = s.seq.load(std::memory_order_acquire);
        if (s1 & 1) {
            cpu_relax();
            continue;
        }
        out.ip = s.ip.load(std::memory_order_relaxed);
        out.word = s.word.load(std::memory_order_relaxed);
        out.stamp = s.stamp.load(std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (s.seq.load(std::memory_order_relaxed) == s1) return true;
    }
    return false;
}

void table::write(slot& s, uint32_t ip, uint64_t word, nanos stamp) {
    // Only under the writer lock, so `seq` has one writer.
    uint32_t q = s.seq.load(std::memory_order_relaxed);
    s.seq.store(q + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    s.ip.store(ip, std::memory_order_relaxed);
    s.word.store(word, std::memory_order_relaxed);
    s.stamp.store(stamp, std::memory_order_relaxed);
    s.seq.store(q + 2, std::memory_order_release);
}

bool table::lock_writers() {
    for (int spins = 0; spins < (1 << 16); ++spins) {
        bool expected = false;
        if (!_writer.load(std::memory_order_relaxed) &&
            _writer.compare_exchange_weak(expected, true, std::memory_order_acquire))
            return true;
        cpu_relax();
    }
    return false;
}

entry_state table::effective(uint64_t word, nanos stamp, nanos now) const {
    entry_state st = unpack_state(word);
    switch (st) {
        case entry_state::reachable:
            // RFC 1122 2.3.2.1: an entry must be re-validated once old; it is
            // still used meanwhile (stale), so a flow never stops for it.
            return now < stamp || now - stamp < _timeout ? st : entry_state::stale;
        case entry_state::failed:
            return now < stamp || now - stamp < _failed_holddown ? st : entry_state::none;
        default: return st;
    }
}

table::slot* table::place(ipv4_addr ip, nanos now, bool& evicting) {
    evicting = false;
    uint32_t start = hash_ip(ip.v) & _mask;
    slot* free_slot = nullptr;
    slot* victim = nullptr;
    int victim_class = 2;
    nanos victim_stamp = 0;
    for (uint32_t n = 0; n < window; ++n) {
        slot& s = _slots[(start + n) & _mask];
        // Writers are serialised, so plain relaxed loads see the last write.
        uint32_t k = s.ip.load(std::memory_order_relaxed);
        if (k == ip.v) return &s;
        if (k == 0) {
            if (!free_slot) free_slot = &s;
            continue;
        }
        uint64_t w = s.word.load(std::memory_order_relaxed);
        nanos stamp = s.stamp.load(std::memory_order_relaxed);
        entry_state st = effective(w, stamp, now);
        if (st == entry_state::permanent) continue;
        // Failed or expired entries go first, then the least recently confirmed.
        int cls = st == entry_state::none || st == entry_state::failed ? 0 : 1;
        if (cls < victim_class || (cls == victim_class && stamp < victim_stamp)) {
            victim = &s;
            victim_class = cls;
            victim_stamp = stamp;
        }
    }
    // A free slot is only free if no later slot holds the IP (checked above:
    // the loop saw the whole window).
    if (free_slot) return free_slot;
    evicting = victim != nullptr;
    return victim;
}

bool table::add_static(ipv4_addr ip, unsigned prefix_len, mac_addr mac) {
    if (prefix_len > 32) return false;
    if (prefix_len == 32) {
        if (ip.v == 0 || !lock_writers()) return false;
        bool evicting = false;
        slot* s = place(ip, 0, evicting);
        if (s) write(*s, ip.v, pack(mac, entry_state::permanent), 0);
        unlock_writers();
        return s != nullptr;
    }
    uint32_t mask = prefix_len == 0 ? 0 : ~uint32_t(0) << (32 - prefix_len);
    _prefixes.push_back({ip.v & mask, mask, prefix_len, mac});
    std::stable_sort(_prefixes.begin(), _prefixes.end(),
                     [](const prefix_entry& a, const prefix_entry& b) { return a.len > b.len; });
    return true;
}

lookup_result table::lookup(ipv4_addr ip, nanos now) const {
    if (ip.v != 0) {
        uint32_t start = hash_ip(ip.v) & _mask;
        for (uint32_t n = 0; n < window; ++n) {
            snapshot sn;
            if (!read(_slots[(start + n) & _mask], sn)) continue;
            if (sn.ip == 0) break;  // slots are never freed: a gap ends the window
            if (sn.ip != ip.v) continue;
            entry_state st = effective(sn.word, sn.stamp, now);
            if (st == entry_state::none) break;
            if (st == entry_state::failed) return {st, {}};
            return {st, unpack_mac(sn.word)};
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
    if (ip.v == 0 || !lock_writers()) return update_result::full;
    bool evicting = false;
    slot* s = place(ip, now, evicting);
    update_result r = update_result::full;
    if (s) {
        if (s->ip.load(std::memory_order_relaxed) == ip.v &&
            unpack_state(s->word.load(std::memory_order_relaxed)) == entry_state::permanent) {
            r = update_result::is_static;
        } else {
            write(*s, ip.v, pack(mac, entry_state::reachable), now);
            r = evicting ? update_result::evicted : update_result::updated;
        }
    }
    unlock_writers();
    return r;
}

void table::mark_failed(ipv4_addr ip, nanos now) {
    if (ip.v == 0 || !lock_writers()) return;
    bool evicting = false;
    slot* s = place(ip, now, evicting);
    if (s) {
        bool own = s->ip.load(std::memory_order_relaxed) == ip.v;
        entry_state st = own ? effective(s->word.load(std::memory_order_relaxed),
                                         s->stamp.load(std::memory_order_relaxed), now)
                             : entry_state::none;
        // A reply learnt by another core since the give-up was decided wins,
        // and a static entry never fails. A failure never evicts a live entry.
        if (st != entry_state::reachable && st != entry_state::permanent && (own || !evicting))
            write(*s, ip.v, pack({}, entry_state::failed), now);
    }
    unlock_writers();
}

bool table::confirm(ipv4_addr ip, nanos now) {
    if (ip.v == 0) return false;
    const uint32_t start = hash_ip(ip.v) & _mask;
    bool due = false;
    for (uint32_t n = 0; n < window; ++n) {
        snapshot sn;
        if (!read(_slots[(start + n) & _mask], sn)) continue;
        if (sn.ip == 0) break;
        if (sn.ip != ip.v) continue;
        const entry_state st = effective(sn.word, sn.stamp, now);
        due = st == entry_state::stale || (st == entry_state::reachable && now - sn.stamp >= _timeout / 2);
        break;
    }
    if (!due || !lock_writers()) return false;
    bool wrote = false;
    for (uint32_t n = 0; n < window; ++n) {
        slot& s = _slots[(start + n) & _mask];
        if (s.ip.load(std::memory_order_relaxed) != ip.v) continue;
        const uint64_t w = s.word.load(std::memory_order_relaxed);
        const entry_state st = effective(w, s.stamp.load(std::memory_order_relaxed), now);
        if (st == entry_state::reachable || st == entry_state::stale) {
            write(s, ip.v, pack(unpack_mac(w), entry_state::reachable), now);
            wrote = true;
        }
        break;
    }
    unlock_writers();
    return wrote;
}

uint32_t table::forget_learnt() {
    if (!lock_writers()) return 0;
    uint32_t n = 0;
    for (uint32_t i = 0; i <= _mask; ++i) {
        slot& s = _slots[i];
        if (s.ip.load(std::memory_order_relaxed) == 0 ||
            unpack_state(s.word.load(std::memory_order_relaxed)) == entry_state::permanent)
            continue;
        write(s, 0, 0, 0);
        ++n;
    }
    unlock_writers();
    return n;
}

uint32_t table::used_slots() const {
    uint32_t n = 0;
    for (uint32_t i = 0; i <= _mask; ++i)
        if (_slots[i].ip.load(std::memory_order_relaxed) != 0) ++n;
    return n;
}

}  // namespace mvnf::arp
