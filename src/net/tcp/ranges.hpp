// A bounded, sorted set of disjoint sequence ranges [left, right). The receive
// side tracks out-of-order data with it (and derives SACK blocks, RFC 2018 4);
// the send side keeps its SACK scoreboard in one (RFC 6675 section 3).
#pragma once

#include <array>
#include <cstdint>

#include "wire/tcp.hpp"

namespace mvnf::tcp {

using wire::seq32;

struct seq_range {
    seq32 left, right;
    uint32_t len() const { return right.since(left); }
};

class range_set {
public:
    static constexpr size_t max_capacity = 16;

    range_set() = default;
    explicit range_set(size_t cap) : _cap(cap < max_capacity ? cap : max_capacity) {}

    size_t count() const { return _n; }
    bool empty() const { return _n == 0; }
    const seq_range& operator[](size_t i) const { return _r[i]; }
    void clear() { _n = 0; }

    // Inserts [l, r) merging neighbours. False when it would need more than the
    // capacity (the caller drops the data: the queue stays bounded).
    bool add(seq32 l, seq32 r) {
        if (!(l < r)) return true;
        size_t i = 0;
        while (i < _n && _r[i].right < l) ++i;  // first range that may touch
        size_t j = i;
        while (j < _n && _r[j].left <= r) {     // ranges overlapping/adjacent
            l = seq32::min(l, _r[j].left);
            r = seq32::max(r, _r[j].right);
            ++j;
        }
        const size_t merged = j - i;
        if (merged == 0) {
            if (_n == _cap) return false;
            for (size_t k = _n; k > i; --k) _r[k] = _r[k - 1];
            _r[i] = {l, r};
            ++_n;
            return true;
        }
        _r[i] = {l, r};
        for (size_t k = i + 1; k + merged - 1 < _n; ++k) _r[k] = _r[k + merged - 1];
        _n -= merged - 1;
        return true;
    }
    // Forgets everything below s (data that became in-order or cumulatively acked).
    void trim_below(seq32 s) {
        size_t drop = 0;
        while (drop < _n && _r[drop].right <= s) ++drop;
        for (size_t k = drop; k < _n; ++k) _r[k - drop] = _r[k];
        _n -= drop;
        if (_n && _r[0].left < s) _r[0].left = s;
    }
    // Removes and returns the length of a range starting exactly at s, if any.
    uint32_t pop_at(seq32 s) {
        if (_n == 0 || _r[0].left != s) return 0;
        const uint32_t n = _r[0].len();
        trim_below(_r[0].right);
        return n;
    }
    bool contains(seq32 s) const {
        for (size_t i = 0; i < _n; ++i)
            if (s.in_window(_r[i].left, _r[i].len())) return true;
        return false;
    }
    uint32_t total() const {
        uint32_t t = 0;
        for (size_t i = 0; i < _n; ++i) t += _r[i].len();
        return t;
    }
    // Bytes covered at or above s.
    uint32_t bytes_above(seq32 s) const {
        uint32_t t = 0;
        for (size_t i = 0; i < _n; ++i) {
            if (_r[i].right <= s) continue;
            t += _r[i].right.since(seq32::max(s, _r[i].left));
        }
        return t;
    }
    seq32 highest() const { return _r[_n - 1].right; }

private:
    std::array<seq_range, max_capacity> _r{};
    size_t _n = 0;
    size_t _cap = max_capacity;
};

}  // namespace mvnf::tcp
