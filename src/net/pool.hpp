// Fixed-size per-core pools, sized from the config at start-up and never
// grown: `object_pool<T>` for control blocks (TCP may use it for TCBs) and
// `chunk_pool` for byte storage chained into `chain`s (UDP receive queues,
// reassembly). Counters let tests assert every object came back.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "common/bytes.hpp"

namespace mvnf::net {

struct pool_counters {
    size_t capacity = 0;
    size_t in_use = 0;
    size_t peak = 0;
    uint64_t alloc_failures = 0;
    size_t available() const { return capacity - in_use; }
};

template <class T>
class object_pool {
public:
    explicit object_pool(size_t capacity)
        : _store(std::make_unique<slot[]>(capacity)), _free(capacity) {
        _c.capacity = capacity;
        for (size_t i = 0; i < capacity; ++i) _free[i] = uint32_t(capacity - 1 - i);
    }
    ~object_pool() = default;  // objects still out are the owner's leak; tests check in_use
    object_pool(const object_pool&) = delete;
    object_pool& operator=(const object_pool&) = delete;

    // nullptr when exhausted (counted), never allocates.
    template <class... A>
    T* alloc(A&&... args) {
        if (_free.empty()) {
            ++_c.alloc_failures;
            return nullptr;
        }
        uint32_t i = _free.back();
        _free.pop_back();
        ++_c.in_use;
        _c.peak = std::max(_c.peak, _c.in_use);
        return ::new (static_cast<void*>(_store[i].b)) T(std::forward<A>(args)...);
    }
    void free(T* p) {
        if (!p) return;
        size_t i = index_of(p);
        p->~T();
        _free.push_back(uint32_t(i));
        --_c.in_use;
    }
    size_t index_of(const T* p) const {
        return size_t(reinterpret_cast<const slot*>(p) - _store.get());
    }
    const pool_counters& counters() const { return _c; }

private:
    struct slot {
        alignas(T) std::byte b[sizeof(T)];
    };
    std::unique_ptr<slot[]> _store;
    std::vector<uint32_t> _free;  // capacity reserved at construction
    pool_counters _c;
};

// A list of chunks holding `len` bytes in order.
struct chain {
    static constexpr uint32_t nil = UINT32_MAX;
    uint32_t head = nil, tail = nil;
    uint32_t len = 0;
    bool empty() const { return head == nil; }
};

class chunk_pool {
public:
    static constexpr uint32_t nil = chain::nil;

    chunk_pool(uint32_t count, uint32_t chunk_size)
        : _size(chunk_size & ~1u),  // even, so checksums over chains stay word aligned
          // Left uninitialised: a chunk is always written before it is read,
          // and the kernel maps a page only when a chunk in it is first used,
          // so resident memory follows the chunks in use, not `count`.
          _arena(new std::byte[size_t(count) * _size]), _next(count, nil), _len(count, 0),
          _free(count) {
        _c.capacity = count;
        for (uint32_t i = 0; i < count; ++i) _free[i] = count - 1 - i;
    }
    chunk_pool(const chunk_pool&) = delete;
    chunk_pool& operator=(const chunk_pool&) = delete;

    uint32_t chunk_size() const { return _size; }
    const pool_counters& counters() const { return _c; }

    // Appends all of `data` or nothing (false, counted, chain unchanged).
    bool append(chain& c, bytes data) {
        // A datagram into an empty chain that one chunk holds: every UDP
        // receive of a small datagram, so it skips the general walk.
        if (c.empty() && data.size() <= _size && !data.empty() && !_free.empty()) {
            const uint32_t id = take();
            std::memcpy(ptr(id), data.data(), data.size());
            _len[id] = uint32_t(data.size());
            c.head = c.tail = id;
            c.len = uint32_t(data.size());
            return true;
        }
        size_t room = c.empty() ? 0 : _size - _len[c.tail];
        size_t need = data.size() > room ? (data.size() - room + _size - 1) / _size : 0;
        if (need > _free.size()) {
            ++_c.alloc_failures;
            return false;
        }
        size_t done = 0;
        if (room && !data.empty()) {
            size_t n = std::min(room, data.size());
            std::memcpy(ptr(c.tail) + _len[c.tail], data.data(), n);
            _len[c.tail] += uint32_t(n);
            done = n;
        }
        while (done < data.size()) {
            uint32_t id = take();
            size_t n = std::min<size_t>(_size, data.size() - done);
            std::memcpy(ptr(id), data.data() + done, n);
            _len[id] = uint32_t(n);
            if (c.empty()) c.head = id;
            else _next[c.tail] = id;
            c.tail = id;
            done += n;
        }
        c.len += uint32_t(data.size());
        return true;
    }
    // Copies up to out.size() bytes from offset `off` of the chain.
    size_t copy_out(const chain& c, size_t off, mut_bytes out) const {
        if (c.head == c.tail && c.head != nil) {  // one chunk (its length is c.len)
            if (off >= c.len) return 0;
            const size_t n = std::min<size_t>(c.len - off, out.size());
            std::memcpy(out.data(), ptr(c.head) + off, n);
            return n;
        }
        size_t done = 0;
        for (uint32_t id = c.head; id != nil && done < out.size(); id = _next[id]) {
            if (off >= _len[id]) {
                off -= _len[id];
                continue;
            }
            size_t n = std::min<size_t>(_len[id] - off, out.size() - done);
            std::memcpy(out.data() + done, ptr(id) + off, n);
            done += n;
            off = 0;
        }
        return done;
    }
    void release(chain& c) {
        for (uint32_t id = c.head; id != nil;) {
            uint32_t nx = _next[id];
            _next[id] = nil;
            _free.push_back(id);
            --_c.in_use;
            id = nx;
        }
        c = chain{};
    }

private:
    uint32_t take() {
        uint32_t id = _free.back();
        _free.pop_back();
        _next[id] = nil;
        ++_c.in_use;
        _c.peak = std::max(_c.peak, _c.in_use);
        return id;
    }
    std::byte* ptr(uint32_t id) { return _arena.get() + size_t(id) * _size; }
    const std::byte* ptr(uint32_t id) const { return _arena.get() + size_t(id) * _size; }

    uint32_t _size;
    std::unique_ptr<std::byte[]> _arena;
    std::vector<uint32_t> _next, _len, _free;
    pool_counters _c;
};

}  // namespace mvnf::net
