// Per-connection state of an app, indexed by socket id. Both backends hand out
// small dense ids (Linux: the lowest free fd; mTCP: a slot of a pool sized by
// max_concurrency), so a vector beats a hash map: O(1) with no hashing, no
// node per connection, and iteration in id order. Used by tcpperf.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace mvnf::app {

template <class T>
class fd_table {
  public:
    T* find(int s) {
        return s >= 0 && size_t(s) < _v.size() && _v[size_t(s)].live ? &_v[size_t(s)].val : nullptr;
    }
    // Fresh state for socket s. May move every entry: do not hold a pointer
    // from find() across an insert.
    T& insert(int s) {
        if (size_t(s) >= _v.size()) _v.resize(std::max(size_t(s) + 1, _v.size() * 2));
        slot& e = _v[size_t(s)];
        if (!e.live) ++_n;
        e.live = true;
        e.val = T{};
        return e.val;
    }
    void erase(int s) {
        if (find(s)) {
            _v[size_t(s)].live = false;
            --_n;
        }
    }
    size_t size() const { return _n; }
    // One past the largest socket id ever inserted (for scans with a cursor).
    size_t end_id() const { return _v.size(); }
    bool empty() const { return _n == 0; }
    // fn(socket, state) for every live entry; fn must not insert.
    template <class F>
    void for_each(F&& fn) {
        for (size_t i = 0; i < _v.size(); i++)
            if (_v[i].live) fn(int(i), _v[i].val);
    }
    void clear() {
        _v.clear();
        _n = 0;
    }

  private:
    struct slot {
        T val{};
        bool live = false;
    };
    std::vector<slot> _v;
    size_t _n = 0;
};

}  // namespace mvnf::app
