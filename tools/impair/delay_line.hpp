// Frames held back by mvnf-impair until their release time: a fixed pool of
// copies ordered by (release time, arrival) in a binary heap. Memory is
// allocated once at start; a full line refuses the frame (the caller counts
// it), like a netem queue at its limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace mvnf::impair {

class delay_line {
public:
    delay_line(uint32_t slots, uint32_t slot_bytes)
        : _slot_bytes(slot_bytes), _bytes(size_t(slots) * slot_bytes), _len(slots), _due(slots),
          _seq(slots) {
        _free.reserve(slots);
        for (uint32_t i = slots; i-- > 0;) _free.push_back(i);
        _heap.reserve(slots);
    }

    bool full() const { return _free.empty(); }
    size_t free_slots() const { return _free.size(); }
    bool empty() const { return _heap.empty(); }
    size_t size() const { return _heap.size(); }
    // Release time of the earliest frame; only when !empty().
    int64_t next_due() const { return _due[_heap.front()]; }

    // Copies a frame in and returns the copy (to corrupt it in place), or
    // nullptr when the line is full or the frame too big.
    std::byte* push(const std::byte* data, uint32_t len, int64_t due) {
        if (_free.empty() || len > _slot_bytes) return nullptr;
        uint32_t s = _free.back();
        _free.pop_back();
        std::memcpy(&_bytes[size_t(s) * _slot_bytes], data, len);
        _len[s] = len;
        _due[s] = due;
        _seq[s] = _next_seq++;
        _heap.push_back(s);
        sift_up(_heap.size() - 1);
        return &_bytes[size_t(s) * _slot_bytes];
    }

    // The earliest frame if due at `now`: its bytes stay valid until pop().
    bool peek_due(int64_t now, const std::byte*& data, uint32_t& len) const {
        if (_heap.empty() || _due[_heap.front()] > now) return false;
        uint32_t s = _heap.front();
        data = &_bytes[size_t(s) * _slot_bytes];
        len = _len[s];
        return true;
    }
    void pop() {
        _free.push_back(_heap.front());
        _heap.front() = _heap.back();
        _heap.pop_back();
        if (!_heap.empty()) sift_down(0);
    }

private:
    bool before(uint32_t a, uint32_t b) const {
        return _due[a] != _due[b] ? _due[a] < _due[b] : _seq[a] - _seq[b] > (1ull << 63);
    }
    void sift_up(size_t i) {
        while (i > 0) {
            size_t parent = (i - 1) / 2;
            if (!before(_heap[i], _heap[parent])) break;
            std::swap(_heap[i], _heap[parent]);
            i = parent;
        }
    }
    void sift_down(size_t i) {
        for (;;) {
            size_t l = 2 * i + 1, r = l + 1, m = i;
            if (l < _heap.size() && before(_heap[l], _heap[m])) m = l;
            if (r < _heap.size() && before(_heap[r], _heap[m])) m = r;
            if (m == i) return;
            std::swap(_heap[i], _heap[m]);
            i = m;
        }
    }

    uint32_t _slot_bytes;
    std::vector<std::byte> _bytes;
    std::vector<uint32_t> _len;
    std::vector<int64_t> _due;
    std::vector<uint64_t> _seq;
    std::vector<uint32_t> _free, _heap;
    uint64_t _next_seq = 0;
};

}  // namespace mvnf::impair
