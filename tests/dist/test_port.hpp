// A tiny in-memory port for the dist tests: N queues whose RX side is fed by
// the test ("the wire") and whose TX side collects what the engine sends.
// Thread-safe with a mutex (test code; the RX and TX halves may be driven by
// different dispatcher threads). Also frame builders with a flow key.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "common/bytes.hpp"
#include "netio/port.hpp"

namespace mvnf::dist::test {

class test_queue final : public netio::queue {
public:
    test_queue(uint32_t nbufs, uint32_t buf_size)
        : _buf_size(buf_size), _mem(size_t(nbufs) * 2 * buf_size) {
        for (uint32_t i = 0; i < nbufs; ++i) _rx_free.push_back(i);
        for (uint32_t i = nbufs; i < 2 * nbufs; ++i) _tx_free.push_back(i);
        _nbufs = nbufs;
    }

    // ---- the wire side (test thread) ----
    // Returns false (and counts rx_dropped) when all RX buffers are in use.
    bool inject(const std::vector<std::byte>& frame) {
        std::lock_guard g(_m);
        if (_rx_free.empty()) {
            ++_st.rx_dropped;
            return false;
        }
        uint32_t h = _rx_free.back();
        _rx_free.pop_back();
        std::memcpy(buf(h), frame.data(), std::min<size_t>(frame.size(), _buf_size));
        _rx_ready.push_back({buf(h), uint32_t(frame.size()), h});
        _cv.notify_all();
        return true;
    }
    std::vector<std::vector<std::byte>> take_sent() {
        std::lock_guard g(_m);
        std::vector<std::vector<std::byte>> out;
        for (auto& p : _sent) {
            out.emplace_back(p.data, p.data + p.len);
            _tx_free.push_back(p.handle);
        }
        _sent.clear();
        return out;
    }
    void set_tx_blocked(bool b) {
        std::lock_guard g(_m);
        _tx_blocked = b;
    }
    size_t rx_free() {
        std::lock_guard g(_m);
        return _rx_free.size();
    }
    size_t tx_free() {
        std::lock_guard g(_m);
        return _tx_free.size() + _sent.size();
    }
    uint32_t nbufs() const { return _nbufs; }

    // ---- netio::queue (engine side) ----
    unsigned rx_burst(std::span<netio::packet> out) override {
        std::lock_guard g(_m);
        unsigned n = 0;
        while (n < out.size() && !_rx_ready.empty()) {
            out[n++] = _rx_ready.front();
            _rx_ready.pop_front();
        }
        _st.rx_packets += n;
        return n;
    }
    void release(std::span<const netio::packet> pkts) override {
        std::lock_guard g(_m);
        for (auto& p : pkts) _rx_free.push_back(p.handle);
    }
    unsigned alloc_tx(std::span<netio::packet> out) override {
        std::lock_guard g(_m);
        unsigned n = 0;
        while (n < out.size() && !_tx_free.empty()) {
            uint32_t h = _tx_free.back();
            _tx_free.pop_back();
            out[n++] = {buf(h), _buf_size, h};
        }
        return n;
    }
    unsigned tx_burst(std::span<netio::packet> pkts) override {
        std::lock_guard g(_m);
        if (_tx_blocked) return 0;
        for (auto& p : pkts) _sent.push_back(p);
        _st.tx_packets += pkts.size();
        return unsigned(pkts.size());
    }
    void free_tx(std::span<const netio::packet> pkts) override {
        std::lock_guard g(_m);
        for (auto& p : pkts) _tx_free.push_back(p.handle);
    }
    bool wait(int64_t timeout_ns) override {
        std::unique_lock g(_m);
        if (!_rx_ready.empty()) return true;
        if (timeout_ns == 0) return false;
        ++_st.sleeps;
        _cv.wait_for(g, std::chrono::nanoseconds(timeout_ns < 0 ? 100'000'000 : timeout_ns));
        return !_rx_ready.empty();
    }
    netio::queue_stats stats() const override {
        std::lock_guard g(_m);
        return _st;
    }

private:
    std::byte* buf(uint32_t h) { return _mem.data() + size_t(h) * _buf_size; }
    mutable std::mutex _m;
    std::condition_variable _cv;
    uint32_t _buf_size, _nbufs;
    std::vector<std::byte> _mem;
    std::vector<uint32_t> _rx_free, _tx_free;
    std::deque<netio::packet> _rx_ready;
    std::vector<netio::packet> _sent;
    bool _tx_blocked = false;
    netio::queue_stats _st;
};

class test_port final : public netio::port {
public:
    explicit test_port(unsigned nq = 1, uint32_t nbufs = 4096, uint32_t buf_size = 2048) {
        _info.spec = "test:mem";
        _info.backend = "test";
        _info.name = "mem";
        _info.mac = mac_addr{{0x02, 0, 0, 0, 0, 0x10}};
        _info.num_queues = nq;
        _info.buf_size = buf_size;
        for (unsigned i = 0; i < nq; ++i) _q.push_back(std::make_unique<test_queue>(nbufs, buf_size));
    }
    const netio::port_info& info() const override { return _info; }
    netio::queue& q(unsigned i) override { return *_q[i]; }
    test_queue& tq(unsigned i) { return *_q[i]; }

private:
    netio::port_info _info;
    std::vector<std::unique_ptr<test_queue>> _q;
};

// An Ethernet + IPv4 + TCP/UDP-ports frame; `tag` goes in the payload.
inline std::vector<std::byte> ipv4_frame(ipv4_addr src, ipv4_addr dst, uint16_t sport,
                                         uint16_t dport, uint8_t proto, uint32_t tag,
                                         uint16_t frag_field = 0, size_t len = 64) {
    std::vector<std::byte> f(len);
    const uint8_t eth[14] = {0x02, 0, 0, 0, 0, 0x10, 0x02, 0, 0, 0, 0, 0x20, 0x08, 0x00};
    std::memcpy(f.data(), eth, 14);
    std::byte* ip = f.data() + 14;
    store8(ip, 0x45);
    store_be16(ip + 2, uint16_t(len - 14));
    store_be16(ip + 6, frag_field);
    store8(ip + 8, 64);
    store8(ip + 9, proto);
    store_be32(ip + 12, src.v);
    store_be32(ip + 16, dst.v);
    store_be16(ip + 20, sport);
    store_be16(ip + 22, dport);
    store_be32(f.data() + 40, tag);
    return f;
}

inline std::vector<std::byte> arp_like_frame(uint32_t tag) {
    std::vector<std::byte> f(60);
    const uint8_t eth[14] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x20, 0x08, 0x06};
    std::memcpy(f.data(), eth, 14);
    store_be32(f.data() + 40, tag);
    return f;
}

inline uint32_t frame_tag(const std::byte* f) { return load_be32(f + 40); }

}  // namespace mvnf::dist::test
