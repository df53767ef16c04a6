// The shm backend's data path and entry point: zero-copy, lock-free queues
// over the rings of a link region (see shm_layout.hpp for the map and
// docs/netio/shm.md for the design). open_port() calls open_shm().
//
// Software RSS happens on the sending side, as in a VALE switch: tx_burst on
// any local queue hashes each frame's flow key with the symmetric key and
// puts it on the ring towards the peer's rx queue rss_pick_queue() names.
#include "netio/shm/shm_port.hpp"

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <linux/futex.h>

#include "netio/backends.hpp"
#include "netio/rss/rss.hpp"

namespace mvnf::netio::shm {

namespace {

int64_t mono_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Longest single sleep: a peer that dies cannot wake us, so wait() looks at
// its liveness at least this often.
constexpr int64_t max_sleep_slice_ns = 50'000'000;

}  // namespace

shm_queue::shm_queue(shm_port& port, unsigned q)
    : _port(port), _r(port.reg()), _lay(_r.lay()), _q(q), _end(port.end()), _peer(1 - _end),
      _first_buf(_lay.first_buf(_end, q)), _steer(_lay.nq, 0) {
    // Everything the data path touches is sized here, once.
    std::byte* b = _r.base();
    const unsigned nq = _lay.nq;
    _free.reserve(_lay.ring);
    for (uint32_t k = _lay.ring; k-- > 0;) _free.push_back(_first_buf + k);
    _lent.assign(_lay.ring, 0);
    _held.assign(size_t(nq) * _lay.ring, 0);
    for (unsigned j = 0; j < nq; ++j) {
        _tx.emplace_back(reinterpret_cast<ring_ctl*>(b + _lay.data_ctl(_end, q, j)),
                         reinterpret_cast<data_slot*>(b + _lay.data_slots(_end, q, j)), _lay.ring);
        _txret.emplace_back(reinterpret_cast<ring_ctl*>(b + _lay.ret_ctl(_end, q, j)),
                            reinterpret_cast<uint32_t*>(b + _lay.ret_slots(_end, q, j)),
                            _lay.ring);
    }
    for (unsigned i = 0; i < nq; ++i) {
        _rx.emplace_back(reinterpret_cast<ring_ctl*>(b + _lay.data_ctl(_peer, i, q)),
                         reinterpret_cast<data_slot*>(b + _lay.data_slots(_peer, i, q)), _lay.ring);
        _rxret.emplace_back(reinterpret_cast<ring_ctl*>(b + _lay.ret_ctl(_peer, i, q)),
                            reinterpret_cast<uint32_t*>(b + _lay.ret_slots(_peer, i, q)),
                            _lay.ring);
    }
}

unsigned shm_queue::rx_burst(std::span<packet> out) {
    const unsigned nq = _lay.nq;
    std::byte* base = _r.base();
    unsigned n = 0;
    uint64_t bytes = 0;
    for (unsigned k = 0; k < nq && n < out.size(); ++k) {
        unsigned i = _rr + k;
        if (i >= nq) i -= nq;
        auto& c = _rx[i];
        uint32_t avail = c.available(uint32_t(out.size() - n));
        if (avail == 0) continue;
        uint32_t take = std::min<uint32_t>(avail, uint32_t(out.size() - n));
        const uint32_t lo = _lay.first_buf(_peer, i);
        bool returned = false;
        for (uint32_t t = 0; t < take; ++t) {
            data_slot s = c.at(t);
            // The slot comes from another process: check it before use. A
            // buffer of another queue or direction, a length outside the
            // buffer, or a buffer we still hold (posted twice: two packets
            // would alias one buffer) is refused and counted.
            const bool own = s.buf - lo < _lay.ring;
            uint8_t* held = own ? &_held[size_t(i) * _lay.ring + (s.buf - lo)] : nullptr;
            if (!own || *held || s.len == 0 || s.len > _lay.buf_size) {
                ++_stats.rx_dropped;
                ++_peer_faults;
                // Hand a refused buffer back, unless we hold it (then it
                // goes back once, on release).
                if (own && !*held && _rxret[i].space(1)) {
                    _rxret[i].push(s.buf);
                    returned = true;
                }
                continue;
            }
            *held = 1;
            out[n++] = packet{base + _lay.buf(s.buf), s.len, s.buf};
            bytes += s.len;
        }
        c.advance(take);
        c.publish();
        if (returned) _rxret[i].publish();
    }
    _rr = (_rr + 1 == nq) ? 0 : _rr + 1;
    _stats.rx_packets += n;
    _stats.rx_bytes += bytes;
    return n;
}

void shm_queue::release(std::span<const packet> pkts) {
    uint64_t dirty = 0;
    for (const packet& p : pkts) {
        if (!_lay.in_direction(_peer, p.handle)) continue;  // not a buffer we lent
        unsigned i = _lay.owner_queue(_peer, p.handle);
        if (i >= _lay.nq) continue;
        uint8_t& held = _held[size_t(i) * _lay.ring + (p.handle - _lay.first_buf(_peer, i))];
        if (!held) continue;  // released twice, or never received
        held = 0;
        // Never full for an honest peer: ring i has as many slots as tx
        // queue i has buffers (a corrupt index reads as full).
        if (_rxret[i].space(1) == 0) continue;
        _rxret[i].push(p.handle);
        dirty |= uint64_t(1) << i;
    }
    for (; dirty; dirty &= dirty - 1) _rxret[unsigned(std::countr_zero(dirty))].publish();
}

void shm_queue::reclaim() {
    for (auto& c : _txret) {
        uint32_t avail = c.available();
        if (avail == 0) continue;
        for (uint32_t t = 0; t < avail; ++t) {
            // Only a buffer of ours that is with the peer comes home: an
            // index outside our range, or a buffer returned twice (which
            // alloc_tx would then lend twice), is refused and counted.
            const uint32_t b = c.at(t);
            if (b - _first_buf >= _lay.ring || !_lent[b - _first_buf]) {
                ++_peer_faults;
                continue;
            }
            _lent[b - _first_buf] = 0;
            _free.push_back(b);
        }
        c.advance(avail);
        c.publish();
    }
}

unsigned shm_queue::alloc_tx(std::span<packet> out) {
    if (_free.size() < out.size()) reclaim();
    unsigned n = unsigned(std::min(out.size(), _free.size()));
    std::byte* base = _r.base();
    for (unsigned k = 0; k < n; ++k) {
        uint32_t b = _free.back();
        _free.pop_back();
        out[k] = packet{base + _lay.buf(b), _lay.buf_size, b};
    }
    return n;
}

void shm_queue::free_tx(std::span<const packet> pkts) {
    for (const packet& p : pkts)
        if (p.handle - _first_buf < _lay.ring && !_lent[p.handle - _first_buf] &&
            _free.size() < _lay.ring)
            _free.push_back(p.handle);
}

unsigned shm_queue::tx_burst(std::span<packet> pkts) {
    std::byte* base = _r.base();
    const unsigned nq = _lay.nq;
    uint64_t dirty = 0, bytes = 0;
    unsigned n = 0;
    for (; n < pkts.size(); ++n) {
        const packet& p = pkts[n];
        // Only this queue's own buffers, filled within their capacity.
        if (p.handle - _first_buf >= _lay.ring || p.len == 0 || p.len > _lay.buf_size ||
            p.data != base + _lay.buf(p.handle)) {
            ++_stats.tx_dropped;
            break;
        }
        // == rss_pick_queue(parse_flow_key(frame), nq), a few dozen instructions.
        const unsigned j = nq == 1 ? 0 : _steer.core(p.data, p.len);
        if (_tx[j].space(1) == 0) break;  // unreachable: ring j holds all our buffers
        _tx[j].push(data_slot{p.handle, p.len});
        _lent[p.handle - _first_buf] = 1;
        dirty |= uint64_t(1) << j;
        bytes += p.len;
    }
    if (dirty) {
        for (uint64_t d = dirty; d; d &= d - 1) _tx[unsigned(std::countr_zero(d))].publish();
        wake_peer(dirty);
    }
    _stats.tx_packets += n;
    _stats.tx_bytes += bytes;
    return n;
}

// Pairs with the fence in wait(): either the sleeper sees our tail, or we see
// its `sleeping` flag (Dekker), so no wakeup is lost and an awake consumer
// costs us one load per ring per burst, never a syscall.
void shm_queue::wake_peer(uint64_t rings_mask) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    for (; rings_mask; rings_mask &= rings_mask - 1) {
        rx_wake& w = _r.wake(_peer, unsigned(std::countr_zero(rings_mask)));
        if (w.sleeping.load(std::memory_order_relaxed) && w.sleeping.exchange(0)) {
            w.seq.fetch_add(1, std::memory_order_release);
            syscall(SYS_futex, reinterpret_cast<uint32_t*>(&w.seq), FUTEX_WAKE, INT_MAX, nullptr,
                    nullptr, 0);
            ++_stats.wakeups;
        }
    }
}

uint64_t shm_queue::peer_faults() const {
    uint64_t n = _peer_faults;
    for (const auto& r : _tx) n += r.faults();
    for (const auto& r : _txret) n += r.faults();
    for (const auto& r : _rx) n += r.faults();
    for (const auto& r : _rxret) n += r.faults();
    return n;
}

bool shm_queue::rx_ready() {
    for (auto& c : _rx)
        if (c.available(1)) return true;
    return false;
}

// The flag is this process's; bumping the shared seq makes a futex wait in
// progress return (the peer's producers bump it too, so an extra bump only
// costs the sleeper a re-check).
void shm_queue::interrupt() {
    _interrupt.store(true, std::memory_order_seq_cst);
    rx_wake& w = _r.wake(_end, _q);
    w.seq.fetch_add(1, std::memory_order_seq_cst);
    if (w.sleeping.load(std::memory_order_seq_cst))
        syscall(SYS_futex, reinterpret_cast<uint32_t*>(&w.seq), FUTEX_WAKE, INT_MAX, nullptr,
                nullptr, 0);
}

bool shm_queue::wait(int64_t timeout_ns) {
    if (rx_ready()) return true;
    if (timeout_ns == 0) return false;  // the cheap poll: no syscall, no shared write
    if (_interrupt.exchange(false, std::memory_order_seq_cst)) return false;
    const int64_t deadline = timeout_ns < 0 ? INT64_MAX : mono_ns() + timeout_ns;
    rx_wake& w = _r.wake(_end, _q);
    for (;;) {
        if (_r.peer_gone()) return rx_ready();
        uint32_t seen = w.seq.load(std::memory_order_acquire);
        w.sleeping.store(1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (rx_ready()) {
            w.sleeping.store(0, std::memory_order_relaxed);
            return true;
        }
        // An interrupt() before `seen` was read: its bump is already in
        // `seen`, so only the flag tells.
        if (_interrupt.exchange(false, std::memory_order_seq_cst)) {
            w.sleeping.store(0, std::memory_order_relaxed);
            return false;
        }
        int64_t slice = max_sleep_slice_ns;
        if (timeout_ns > 0) {
            int64_t left = deadline - mono_ns();
            if (left <= 0) {
                w.sleeping.store(0, std::memory_order_relaxed);
                return false;
            }
            slice = std::min(slice, left);
        }
        timespec ts{time_t(slice / 1000000000), long(slice % 1000000000)};
        // Returns at once if a producer bumped seq after we read it.
        syscall(SYS_futex, reinterpret_cast<uint32_t*>(&w.seq), FUTEX_WAIT, seen, &ts, nullptr, 0);
        ++_stats.sleeps;
        w.sleeping.store(0, std::memory_order_relaxed);
        if (rx_ready()) return true;
        if (_interrupt.exchange(false, std::memory_order_seq_cst)) return false;
    }
}

shm_port::shm_port(std::unique_ptr<region> r, port_info info)
    : _r(std::move(r)), _info(std::move(info)) {
    for (unsigned q = 0; q < _info.num_queues; ++q)
        _queues.push_back(std::make_unique<shm_queue>(*this, q));
}

namespace {

// Locally administered unicast MAC (IEEE 802: bit 1 of the first octet set,
// bit 0 clear), stable for a (name, end) pair: FNV-1a of both.
mac_addr link_mac(const std::string& name, unsigned end) {
    uint64_t h = 0xcbf29ce484222325ull;
    auto mix = [&](uint8_t c) { h = (h ^ c) * 0x100000001b3ull; };
    for (char c : name) mix(uint8_t(c));
    mix(uint8_t(end));
    mac_addr m;
    for (int i = 0; i < 6; ++i) m.b[i] = uint8_t(h >> (8 * i));
    m.b[0] = uint8_t((m.b[0] & 0xfc) | 0x02);
    return m;
}

}  // namespace

}  // namespace mvnf::netio::shm

namespace mvnf::netio {

result<std::unique_ptr<port>> open_shm(const port_spec& spec, const port_config& cfg) {
    const std::string who = "shm:" + spec.name;
    // 14 bytes of Ethernet header plus 4 of slack for an 802.1Q tag.
    constexpr uint32_t l2_overhead = 18;
    uint32_t mtu = cfg.mtu;
    if (mtu == 0)
        mtu = cfg.buf_size >= 9000 + l2_overhead ? 9000 : std::min(1500u, cfg.buf_size - l2_overhead);
    if (mtu < 68 || mtu + l2_overhead > cfg.buf_size)
        return fail(error{errc::bad_config, who + ": MTU " + std::to_string(mtu) +
                                                " does not fit " + std::to_string(cfg.buf_size) +
                                                "-byte buffers (needs MTU + 18 <= buffer size, "
                                                "MTU >= 68)"});
    auto r = shm::region::open({spec.name, cfg.num_queues, cfg.ring_size, cfg.buf_size, mtu});
    if (!r) return fail(r.error());
    port_info info;
    info.spec = who;
    info.backend = "shm";
    info.name = spec.name;
    info.mac = shm::link_mac(spec.name, (*r)->end());
    info.mtu = mtu;
    info.num_queues = cfg.num_queues;
    info.buf_size = cfg.buf_size;
    info.zero_copy = true;
    return std::unique_ptr<port>(std::make_unique<shm::shm_port>(std::move(*r), std::move(info)));
}

}  // namespace mvnf::netio
