// The user side of one netmap ring: which slots we have lent out, in-order
// return to the kernel, and TX slot filling. Pure arithmetic over a ring laid
// out as netmap_abi.hpp declares it, no syscalls, so the netmap tests drive it
// over an in-memory ring image. netmap_queue (netmap_port.hpp) owns these.
//
// RX ring, slot indices mod num_slots:
//
//   head ......... rd ............ tail ........ head-1
//   | lent to caller | ready to read | kernel's (filling) |
//
// netmap only takes slots back in order (it moves head forward), while our
// callers may release() in any order. Each lent slot gets a "released" mark;
// head advances over the contiguous released prefix only. A buffer held for
// long therefore holds back every later slot of its ring: callers that keep a
// frame (reassembly) copy it and release the slot.
//
// TX ring:
//
//   head ............... alloc ........... tail ........ head-1
//   | lent by alloc_tx or spare | free for us | kernel's (sending) |
//
// Frames are sent at head, in ring order. TX handles are netmap buffer
// indices, so a frame whose buffer sits in a later slot (sent out of order,
// or a neighbour was freed) is moved to head by swapping the two slots'
// buf_idx and marking both NS_BUF_CHANGED, as netmap allows. Freed buffers
// stay in their slot as "spare" and are lent again first.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "netio/netmap/netmap_abi.hpp"
#include "netio/packet.hpp"

namespace mvnf::netio::netmap {

// Slot distance a -> b going forward in a ring of n slots.
inline uint32_t ring_dist(uint32_t a, uint32_t b, uint32_t n) { return b >= a ? b - a : b + n - a; }
inline uint32_t ring_prev(uint32_t i, uint32_t n) { return i == 0 ? n - 1 : i - 1; }

// RX handles carry the queue-local ring index and the slot.
inline constexpr unsigned rx_slot_bits = 20;
inline constexpr uint32_t rx_handle(unsigned ring_tag, uint32_t slot) {
    return (uint32_t(ring_tag) << rx_slot_bits) | slot;
}
inline constexpr unsigned rx_handle_ring(uint32_t h) { return h >> rx_slot_bits; }
inline constexpr uint32_t rx_handle_slot(uint32_t h) { return h & ((1u << rx_slot_bits) - 1); }

class rx_ring {
public:
    rx_ring(netmap_ring* r, unsigned tag)
        : _r(r), _n(r->num_slots), _rd(r->cur), _tag(tag), _released(r->num_slots, 0) {}

    // Frames received and not yet lent out.
    uint32_t ready() const { return ring_dist(_rd, _r->tail, _n); }
    // Slots lent out (or dropped) and not yet given back to the kernel.
    uint32_t held() const { return ring_dist(_r->head, _rd, _n); }

    // Lends up to out.size() frames. Bad slots (length 0 or past the buffer,
    // multi-slot frames we do not reassemble) are given back and counted.
    unsigned take(std::span<packet> out, uint64_t& bytes, uint64_t& dropped) {
        const uint32_t tail = _r->tail;
        unsigned n = 0;
        bool dirty = false;
        while (n < out.size() && _rd != tail) {
            const uint32_t s = _rd;
            netmap_slot* sl = ring_slot(_r, s);
            _rd = s + 1 == _n ? 0 : s + 1;
            const bool frag = (sl->flags & ns_morefrag) != 0;
            if (frag || _in_frag || sl->len == 0 || sl->len > _r->nr_buf_size) {
                if (!frag) ++dropped;  // one drop per frame: count its last slot
                _in_frag = frag;
                _released[s] = 1;
                dirty = true;
                continue;
            }
            out[n++] = packet{nm_buf(_r, sl->buf_idx), sl->len, rx_handle(_tag, s)};
            bytes += sl->len;
        }
        // cur = rd: poll() then wakes only for frames we have not seen.
        _r->cur = _rd;
        if (dirty) advance_head();
        return n;
    }

    // Marks a lent slot released. False when the slot is not lent (double
    // release, foreign handle): nothing changes then.
    bool release(uint32_t slot) {
        if (slot >= _n || _released[slot]) return false;
        if (ring_dist(_r->head, slot, _n) >= held()) return false;
        _released[slot] = 1;
        return true;
    }
    // Gives the contiguous released prefix back to the kernel (head forward).
    void advance_head() {
        uint32_t h = _r->head;
        while (h != _rd && _released[h]) {
            _released[h] = 0;
            h = h + 1 == _n ? 0 : h + 1;
        }
        _r->head = h;
    }

    netmap_ring* ring() const { return _r; }

private:
    netmap_ring* _r;
    uint32_t _n;
    uint32_t _rd;  // next slot to lend
    unsigned _tag;
    bool _in_frag = false;  // inside a multi-slot frame being dropped
    std::vector<uint8_t> _released;  // per slot, sized once at open
};

class tx_ring {
public:
    explicit tx_ring(netmap_ring* r)
        : _r(r), _n(r->num_slots), _alloc(r->head), _synced_head(r->head), _spare(r->num_slots, 0) {}

    // Slots free for alloc(): spare ones plus [alloc, tail).
    uint32_t available() const { return _nspare + ring_dist(_alloc, _r->tail, _n); }
    // Slots lent out by alloc() and not sent or freed.
    uint32_t lent() const { return ring_dist(_r->head, _alloc, _n) - _nspare; }
    // Frames placed since the last mark_synced() (a TXSYNC is due).
    bool pending() const { return _r->head != _synced_head; }
    void mark_synced() { _synced_head = _r->head; }

    unsigned alloc(std::span<packet> out) {
        unsigned n = 0;
        if (_nspare) {
            for (uint32_t s = _r->head; s != _alloc && n < out.size(); s = next(s)) {
                if (!_spare[s]) continue;
                _spare[s] = 0;
                --_nspare;
                out[n++] = lend(s);
            }
        }
        const uint32_t tail = _r->tail;
        while (n < out.size() && _alloc != tail) {
            out[n++] = lend(_alloc);
            _alloc = next(_alloc);
        }
        return n;
    }

    // Places frames at head in order; stops at the first frame that is not
    // one of our lent buffers or has a bad length (the rest stay the caller's).
    unsigned send(std::span<packet> pkts, uint64_t& bytes) {
        uint32_t h = _r->head;
        unsigned i = 0;
        for (; i < pkts.size() && h != _alloc; ++i) {
            const packet& p = pkts[i];
            if (p.len == 0 || p.len > _r->nr_buf_size) break;
            uint32_t j = find_lent(h, p.handle);
            if (j == no_slot) break;
            netmap_slot* sh = ring_slot(_r, h);
            if (j != h) {
                netmap_slot* sj = ring_slot(_r, j);
                uint32_t b = sh->buf_idx;
                sh->buf_idx = sj->buf_idx;
                sj->buf_idx = b;
                sh->flags |= ns_buf_changed;
                sj->flags |= ns_buf_changed;
                // A spare buffer at head moves to j with its mark.
                _spare[j] = _spare[h];
                _spare[h] = 0;
            }
            sh->len = uint16_t(p.len);
            sh->flags &= ns_buf_changed;  // keep the remap hint, clear the rest
            bytes += p.len;
            h = next(h);
        }
        _r->head = h;
        _r->cur = h;
        trim();
        return i;
    }

    // Takes unsent buffers back; unknown handles are ignored.
    void free(std::span<const packet> pkts) {
        for (const packet& p : pkts) {
            uint32_t j = find_lent(_r->head, p.handle);
            if (j == no_slot) continue;
            _spare[j] = 1;
            ++_nspare;
        }
        trim();
    }

    netmap_ring* ring() const { return _r; }

private:
    static constexpr uint32_t no_slot = UINT32_MAX;
    uint32_t next(uint32_t i) const { return i + 1 == _n ? 0 : i + 1; }
    packet lend(uint32_t s) {
        netmap_slot* sl = ring_slot(_r, s);
        return packet{nm_buf(_r, sl->buf_idx), _r->nr_buf_size, sl->buf_idx};
    }
    // The lent (not spare) slot in [from, alloc) holding buffer `buf`.
    uint32_t find_lent(uint32_t from, uint32_t buf) const {
        for (uint32_t s = from; s != _alloc; s = next(s))
            if (ring_slot(_r, s)->buf_idx == buf) return _spare[s] ? no_slot : s;
        return no_slot;
    }
    // Spare slots just below alloc are simply free again.
    void trim() {
        while (_alloc != _r->head) {
            uint32_t p = ring_prev(_alloc, _n);
            if (!_spare[p]) break;
            _spare[p] = 0;
            --_nspare;
            _alloc = p;
        }
    }

    netmap_ring* _r;
    uint32_t _n;
    uint32_t _alloc;        // next never-lent slot
    uint32_t _synced_head;  // head at the last TXSYNC
    uint32_t _nspare = 0;
    std::vector<uint8_t> _spare;  // per slot, sized once at open
};

}  // namespace mvnf::netio::netmap
