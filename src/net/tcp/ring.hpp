// Fixed-capacity byte ring over memory lent by the layer's arena: the send
// buffer (unacked + unsent data) and the receive buffer (in-order unread data,
// with out-of-order bytes parked beyond it). Used by tcb, input and output.
#pragma once

#include <algorithm>
#include <cstring>
#include <utility>

#include "common/bytes.hpp"

namespace mvnf::tcp {

class ring {
public:
    ring() = default;
    explicit ring(mut_bytes storage) : _buf(storage) {}

    size_t capacity() const { return _buf.size(); }
    size_t size() const { return _len; }
    size_t free() const { return _buf.size() - _len; }
    bool empty() const { return _len == 0; }
    void clear() { _head = _len = 0; }

    // Appends up to data.size() bytes; returns how many fit.
    size_t push(bytes data) {
        const size_t n = std::min(data.size(), free());
        write_at(_len, data.first(n));
        _len += n;
        return n;
    }
    // Writes at `off` bytes past the start without changing size() (used to
    // park out-of-order data); caller ensures off + data.size() <= capacity().
    void write_at(size_t off, bytes data) {
        if (data.empty()) return;  // memcpy with a null source is undefined even for 0 bytes
        size_t pos = wrap(_head + off);
        size_t first = std::min(data.size(), _buf.size() - pos);
        std::memcpy(_buf.data() + pos, data.data(), first);
        std::memcpy(_buf.data(), data.data() + first, data.size() - first);
    }
    // Makes n parked bytes part of the contents.
    void commit(size_t n) { _len += n; }
    // Copies out and removes up to out.size() bytes.
    size_t pop(mut_bytes out) {
        const size_t n = std::min(out.size(), _len);
        if (n == 0) return 0;
        auto [a, b] = peek(0, n);
        std::memcpy(out.data(), a.data(), a.size());
        std::memcpy(out.data() + a.size(), b.data(), b.size());
        consume(n);
        return n;
    }
    // Drops n bytes from the front (acknowledged data).
    void consume(size_t n) {
        n = std::min(n, _len);
        _head = wrap(_head + n);
        _len -= n;  // head is not reset when empty: parked data sits past the end
    }
    // Up to two pieces covering [off, off+n) of the contents, clamped to
    // what is queued: past it lie acknowledged octets, a previous
    // connection's data or memory never written, none of which may leave.
    std::pair<bytes, bytes> peek(size_t off, size_t n) const {
        if (off >= _len) return {};
        n = std::min(n, _len - off);
        if (_buf.empty() || n == 0) return {};
        size_t pos = wrap(_head + off);
        size_t first = std::min(n, _buf.size() - pos);
        return {bytes(_buf.data() + pos, first), bytes(_buf.data(), n - first)};
    }

private:
    size_t wrap(size_t p) const { return p >= _buf.size() ? p - _buf.size() : p; }
    mut_bytes _buf;
    size_t _head = 0, _len = 0;
};

}  // namespace mvnf::tcp
