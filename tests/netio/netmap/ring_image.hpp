// An in-memory netmap region laid out as the kernel lays it out (netmap_if,
// ring_ofs[], rings with 256-byte headers, buffer pool) plus a tiny "kernel"
// that fills rx rings and drains tx rings the way netmap's syncs do. Used by
// the netmap ring and queue tests in place of /dev/netmap.
#pragma once

#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "netio/netmap/netmap_abi.hpp"

namespace mvnf::netio::netmap::test {

class ring_image {
public:
    // hw tx/rx ring pairs plus one host pair; `bound` marks which hw pairs
    // are bound to this fd (unbound rings get ring_ofs 0, as in netmap).
    ring_image(unsigned hw_rings, uint32_t slots, uint32_t buf_size,
               std::vector<bool> bound = {})
        : _hw(hw_rings), _slots(slots), _buf_size(buf_size) {
        if (bound.empty()) bound.assign(hw_rings, true);
        const unsigned nrings = 2 * (hw_rings + 1);
        const size_t if_size = round(sizeof(netmap_if) + nrings * sizeof(int64_t));
        const size_t ring_size = round(sizeof(netmap_ring) + slots * sizeof(netmap_slot));
        const size_t nbufs = size_t(nrings) * slots + 2;  // buffers 0 and 1 are reserved
        _size = if_size + nrings * ring_size + nbufs * buf_size;
        _mem = static_cast<char*>(std::aligned_alloc(4096, round4k(_size)));
        std::memset(_mem, 0, _size);
        auto* nifp = reinterpret_cast<netmap_if*>(_mem);
        std::strncpy(nifp->ni_name, "img0", sizeof nifp->ni_name);
        nifp->ni_tx_rings = nifp->ni_rx_rings = hw_rings;
        nifp->ni_host_tx_rings = nifp->ni_host_rx_rings = 1;
        auto* ofs = reinterpret_cast<int64_t*>(_mem + sizeof(netmap_if));
        const size_t pool = if_size + nrings * ring_size;
        uint32_t next_buf = 2;
        for (unsigned i = 0; i < nrings; ++i) {
            // Order: hw tx, host tx, hw rx, host rx.
            const unsigned within = i % (hw_rings + 1);
            const bool is_rx = i >= hw_rings + 1;
            const bool is_bound = within < hw_rings && bound[within];
            const size_t at = if_size + i * ring_size;
            auto* r = reinterpret_cast<netmap_ring*>(_mem + at);
            r->buf_ofs = int64_t(pool) - int64_t(at);
            r->num_slots = slots;
            r->nr_buf_size = buf_size;
            r->ringid = uint16_t(within);
            r->dir = is_rx ? 1 : 0;
            r->head = r->cur = 0;
            r->tail = is_rx ? 0 : slots - 1;  // tx: all free but one; rx: empty
            for (uint32_t s = 0; s < slots; ++s) ring_slot(r, s)->buf_idx = next_buf++;
            ofs[i] = is_bound ? int64_t(at) : 0;
            _all.push_back(r);
        }
        _hwcur.assign(nrings, 0);
    }
    ~ring_image() { std::free(_mem); }
    ring_image(const ring_image&) = delete;
    ring_image& operator=(const ring_image&) = delete;

    netmap_if* nifp() { return reinterpret_cast<netmap_if*>(_mem); }
    netmap_ring* tx(unsigned i) { return _all[i]; }
    netmap_ring* rx(unsigned i) { return _all[_hw + 1 + i]; }
    uint32_t buf_size() const { return _buf_size; }
    bool contains(const void* p) const {
        auto* c = static_cast<const char*>(p);
        return c >= _mem && c < _mem + _size;
    }

    // Kernel rx side: writes frames at tail while a slot is free (one slot
    // always stays empty, as in netmap). Returns how many fitted.
    unsigned deliver(netmap_ring* r, const std::vector<std::string>& frames, uint16_t flags = 0) {
        unsigned n = 0;
        for (const std::string& f : frames) {
            uint32_t t = r->tail, nt = t + 1 == r->num_slots ? 0 : t + 1;
            if (nt == r->head) break;
            netmap_slot* s = ring_slot(r, t);
            std::memcpy(nm_buf(r, s->buf_idx), f.data(), f.size());
            s->len = uint16_t(f.size());
            s->flags = flags;
            r->tail = nt;
            ++n;
        }
        return n;
    }
    // Kernel rx side: what it may still fill.
    uint32_t rx_kernel_space(netmap_ring* r) const {
        uint32_t n = r->num_slots;
        uint32_t d = r->head >= r->tail ? r->head - r->tail : r->head + n - r->tail;
        return d == 0 ? n - 1 : d - 1;
    }

    // Kernel tx side (a txsync that completes at once): takes the frames in
    // [hwcur, head), checks no buffer is in two slots, clears NS_BUF_CHANGED
    // like a driver, and frees the slots (tail = head - 1).
    std::vector<std::string> txsync(netmap_ring* r) {
        std::vector<std::string> out;
        unsigned idx = index_of(r);
        std::set<uint32_t> seen;
        for (uint32_t s = 0; s < r->num_slots; ++s)
            if (!seen.insert(ring_slot(r, s)->buf_idx).second) dup_buffers = true;
        uint32_t h = _hwcur[idx];
        while (h != r->head) {
            netmap_slot* s = ring_slot(r, h);
            if (s->len == 0 || s->len > r->nr_buf_size) bad_len = true;
            out.emplace_back(reinterpret_cast<char*>(nm_buf(r, s->buf_idx)), s->len);
            s->flags &= uint16_t(~ns_buf_changed);
            h = h + 1 == r->num_slots ? 0 : h + 1;
        }
        _hwcur[idx] = h;
        r->tail = h == 0 ? r->num_slots - 1 : h - 1;
        return out;
    }

    bool dup_buffers = false;  // set when a txsync saw one buffer in two slots
    bool bad_len = false;      // set when a txsync saw a slot with a bad length

private:
    static size_t round(size_t v) { return (v + 255) & ~size_t(255); }
    static size_t round4k(size_t v) { return (v + 4095) & ~size_t(4095); }
    unsigned index_of(netmap_ring* r) const {
        for (unsigned i = 0; i < _all.size(); ++i)
            if (_all[i] == r) return i;
        return 0;
    }

    unsigned _hw;
    uint32_t _slots, _buf_size;
    size_t _size = 0;
    char* _mem = nullptr;
    std::vector<netmap_ring*> _all;
    std::vector<uint32_t> _hwcur;
};

}  // namespace mvnf::netio::netmap::test
