// A lock-free single-producer/single-consumer ring of trivially copyable
// items (packet descriptors), the "pipe" between the dispatcher and one core
// in `sw` mode. Used only by dist::engine. Batch push/peek/consume: one
// release store per burst, and cached indices so the hot path mostly touches
// only its own cache line.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <type_traits>

namespace mvnf::dist {

template <class T>
class spsc_pipe {
    static_assert(std::is_trivially_copyable_v<T>);

  public:
    // capacity is rounded up to a power of two. Allocates here only.
    explicit spsc_pipe(uint32_t capacity)
        : _cap(std::bit_ceil(capacity < 2 ? 2u : capacity)),
          _mask(_cap - 1),
          _items(std::make_unique<T[]>(_cap)) {}
    spsc_pipe(const spsc_pipe&) = delete;
    spsc_pipe& operator=(const spsc_pipe&) = delete;

    uint32_t capacity() const { return _cap; }

    // Producer: appends a prefix of items; returns how many fit.
    unsigned push(std::span<const T> items) {
        uint64_t tail = _tail.load(std::memory_order_relaxed);
        if (tail - _head_cache + items.size() > _cap)
            _head_cache = _head.load(std::memory_order_acquire);
        uint64_t space = _cap - (tail - _head_cache);
        unsigned n = unsigned(items.size() < space ? items.size() : space);
        copy_in(tail, items.data(), n);
        if (n) _tail.store(tail + n, std::memory_order_release);
        return n;
    }

    // Producer, zero-copy staging: the slot `i` places after the tail, for a
    // caller that knows by its own accounting (the dispatcher's credit) that
    // the consumer is done with it — through an acquire edge the caller
    // owns, since this reads no index. commit() then publishes n slots.
    T& slot_after_tail(uint32_t i) {
        return _items[(_tail.load(std::memory_order_relaxed) + i) & _mask];
    }
    void commit(unsigned n) {
        if (n) _tail.store(_tail.load(std::memory_order_relaxed) + n, std::memory_order_release);
    }
    // Producer, same rule: the contiguous slots after the tail (up to max, cut
    // at the array's end), for a caller that fills them in place (a port's
    // rx_burst writes its descriptors straight into the pipe).
    std::span<T> free_run(uint32_t max) {
        uint32_t at = uint32_t(_tail.load(std::memory_order_relaxed)) & _mask;
        return {&_items[at], std::min<uint32_t>(max, _cap - at)};
    }
    // Producer, same rule: where slot `tail + i` lives is (base[(tail + i) &
    // mask]); lets a caller that stages into several pipes at once keep the
    // three values in registers instead of reloading them per item.
    struct stage_view {
        T* base;
        uint32_t mask;
        uint32_t tail;  // low bits suffice: only (tail + i) & mask is used
    };
    stage_view stage() {
        return {_items.get(), _mask, uint32_t(_tail.load(std::memory_order_relaxed))};
    }

    // Consumer: everything published, in place (two runs when it wraps around
    // the array's end), without copying; valid until consume().
    struct runs {
        std::span<const T> first, second;
        unsigned size() const { return unsigned(first.size() + second.size()); }
    };
    runs front() {
        uint64_t head = _head.load(std::memory_order_relaxed);
        _tail_cache = _tail.load(std::memory_order_acquire);
        uint32_t at = uint32_t(head) & _mask, avail = uint32_t(_tail_cache - head);
        uint32_t first = avail < _cap - at ? avail : _cap - at;
        return {{&_items[at], first}, {&_items[0], avail - first}};
    }

    // Consumer: whether anything is published (an idle poll: one relaxed load
    // of its own index, one acquire load of the producer's only when the cache
    // says empty).
    bool readable() {
        const uint64_t head = _head.load(std::memory_order_relaxed);
        if (_tail_cache != head) return true;
        _tail_cache = _tail.load(std::memory_order_acquire);
        return _tail_cache != head;
    }

    // Consumer: copies up to out.size() items without removing them.
    unsigned peek(std::span<T> out) {
        uint64_t head = _head.load(std::memory_order_relaxed);
        if (_tail_cache - head < out.size()) _tail_cache = _tail.load(std::memory_order_acquire);
        uint64_t avail = _tail_cache - head;
        unsigned n = unsigned(out.size() < avail ? out.size() : avail);
        if (n == 0) return 0;  // an idle poll costs no copy calls
        uint32_t at = uint32_t(head) & _mask, first = _cap - at < n ? _cap - at : n;
        std::memcpy(out.data(), &_items[at], first * sizeof(T));  // at most two runs
        if (n != first) std::memcpy(out.data() + first, &_items[0], (n - first) * sizeof(T));
        return n;
    }
    // Consumer: removes n items already peeked.
    void consume(unsigned n) {
        if (n) _head.store(_head.load(std::memory_order_relaxed) + n, std::memory_order_release);
    }
    unsigned pop(std::span<T> out) {
        unsigned n = peek(out);
        consume(n);
        return n;
    }

    // Either side; exact only for the side that owns the index it does not read.
    bool empty() const {
        return _head.load(std::memory_order_acquire) == _tail.load(std::memory_order_acquire);
    }
    uint32_t size() const {
        return uint32_t(_tail.load(std::memory_order_acquire) -
                        _head.load(std::memory_order_acquire));
    }

  private:
    void copy_in(uint64_t tail, const T* src, unsigned n) {
        uint32_t at = uint32_t(tail) & _mask, first = _cap - at < n ? _cap - at : n;
        std::memcpy(&_items[at], src, first * sizeof(T));
        if (n != first) std::memcpy(&_items[0], src + first, (n - first) * sizeof(T));
    }

    const uint32_t _cap, _mask;
    std::unique_ptr<T[]> _items;
    alignas(64) std::atomic<uint64_t> _head{0};  // consumer-owned
    uint64_t _tail_cache = 0;                    // consumer's copy of _tail
    alignas(64) std::atomic<uint64_t> _tail{0};  // producer-owned
    uint64_t _head_cache = 0;                    // producer's copy of _head
};

}  // namespace mvnf::dist
