// A lock-free single-producer/single-consumer ring of trivially copyable
// items (packet descriptors), the "pipe" between the dispatcher and one core
// in `sw` mode. Used only by dist::engine. Batch push/peek/consume: one
// release store per burst, and cached indices so the hot path mostly touches
// only its own cache line.
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>
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
        : _cap(std::bit_ceil(capacity < 2 ? 2u : capacity)), _mask(_cap - 1),
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
        for (unsigned i = 0; i < n; ++i) _items[(tail + i) & _mask] = items[i];
        if (n) _tail.store(tail + n, std::memory_order_release);
        return n;
    }

    // Consumer: copies up to out.size() items without removing them.
    unsigned peek(std::span<T> out) {
        uint64_t head = _head.load(std::memory_order_relaxed);
        if (_tail_cache - head < out.size()) _tail_cache = _tail.load(std::memory_order_acquire);
        uint64_t avail = _tail_cache - head;
        unsigned n = unsigned(out.size() < avail ? out.size() : avail);
        for (unsigned i = 0; i < n; ++i) out[i] = _items[(head + i) & _mask];
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
        return uint32_t(_tail.load(std::memory_order_acquire) - _head.load(std::memory_order_acquire));
    }

private:
    const uint32_t _cap, _mask;
    std::unique_ptr<T[]> _items;
    alignas(64) std::atomic<uint64_t> _head{0};  // consumer-owned
    uint64_t _tail_cache = 0;                   // consumer's copy of _tail
    alignas(64) std::atomic<uint64_t> _tail{0};  // producer-owned
    uint64_t _head_cache = 0;                   // producer's copy of _head
};

}  // namespace mvnf::dist
