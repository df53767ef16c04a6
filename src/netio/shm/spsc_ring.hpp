// Single-producer single-consumer ring of fixed-size slots in shared memory,
// the building block of the shm link (data rings and buffer-return rings,
// like AF_XDP's rx/fill/completion rings). Used by shm_port.cpp and its tests.
//
// Indices are free-running uint32 counters (wrap-around is harmless: only
// differences are used); slot = index & mask. The producer publishes `tail`
// with a release store after writing slots, the consumer reads it with an
// acquire load, and vice versa for `head`. Each side caches the other's
// index locally and refreshes it only when the cache says "empty"/"full", so
// a burst costs one shared load and one shared store per ring, not per slot.
#pragma once

#include <atomic>
#include <climits>
#include <cstdint>

namespace mvnf::netio::shm {

// Shared control block: producer and consumer indices on separate cache lines
// so the two sides never write the same line (no false sharing).
struct ring_ctl {
    alignas(64) std::atomic<uint32_t> tail;  // next slot the producer fills
    alignas(64) std::atomic<uint32_t> head;  // next slot the consumer reads
};
static_assert(sizeof(ring_ctl) == 128);
static_assert(std::atomic<uint32_t>::is_always_lock_free, "needed across processes");

template <class Slot>
class ring_producer {
public:
    ring_producer() = default;
    ring_producer(ring_ctl* ctl, Slot* slots, uint32_t size)
        : _ctl(ctl), _slots(slots), _mask(size - 1), _size(size),
          _tail(ctl->tail.load(std::memory_order_relaxed)),
          _head_cache(ctl->head.load(std::memory_order_acquire)) {}

    // Free slots, refreshing the consumer index only when the cache is short.
    // A corrupt peer index (the consumer claiming to be ahead of what was
    // produced) reads as full and is counted in faults().
    uint32_t space(uint32_t want) {
        uint32_t used = _tail - _head_cache;
        if (used > _size || _size - used < want) {
            _head_cache = _ctl->head.load(std::memory_order_acquire);
            used = _tail - _head_cache;
        }
        if (used > _size) {
            ++_faults;
            return 0;
        }
        return _size - used;
    }
    uint64_t faults() const { return _faults; }
    // Writes one slot (caller checked space()); invisible until publish().
    void push(const Slot& s) { _slots[_tail++ & _mask] = s; }
    // Makes every pushed slot visible to the consumer.
    void publish() { _ctl->tail.store(_tail, std::memory_order_release); }
    uint32_t local_tail() const { return _tail; }

private:
    ring_ctl* _ctl = nullptr;
    Slot* _slots = nullptr;
    uint32_t _mask = 0, _size = 0;
    uint32_t _tail = 0, _head_cache = 0;
    uint64_t _faults = 0;
};

template <class Slot>
class ring_consumer {
public:
    ring_consumer() = default;
    ring_consumer(ring_ctl* ctl, Slot* slots, uint32_t size)
        : _ctl(ctl), _slots(slots), _mask(size - 1), _size(size),
          _head(ctl->head.load(std::memory_order_relaxed)),
          _tail_cache(ctl->tail.load(std::memory_order_acquire)) {}

    // Filled slots; reads the producer index only when the cache holds fewer
    // than `want`. A corrupt peer index (more than `size` ahead) reads as empty.
    // A corrupt index is counted in faults().
    uint32_t available(uint32_t want = UINT32_MAX) {
        uint32_t n = _tail_cache - _head;
        if (n < want || n > _size) {
            _tail_cache = _ctl->tail.load(std::memory_order_acquire);
            n = _tail_cache - _head;
        }
        if (n > _size) {
            ++_faults;
            return 0;
        }
        return n;
    }
    uint64_t faults() const { return _faults; }
    // Peek without consuming: the i-th filled slot (i < available()).
    const Slot& at(uint32_t i) const { return _slots[(_head + i) & _mask]; }
    void advance(uint32_t n) { _head += n; }
    // Hands consumed slots back to the producer.
    void publish() { _ctl->head.store(_head, std::memory_order_release); }

private:
    ring_ctl* _ctl = nullptr;
    Slot* _slots = nullptr;
    uint32_t _mask = 0, _size = 0;
    uint32_t _head = 0, _tail_cache = 0;
    uint64_t _faults = 0;
};

}  // namespace mvnf::netio::shm
