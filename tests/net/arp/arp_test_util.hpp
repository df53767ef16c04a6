// Test helpers for the ARP tests: a fake link_output that records sent
// frames and tracks buffer ownership (so leaks fail the test), and frame
// builders. Used by resolver_test.cpp only.
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "net/neighbor.hpp"
#include "wire/arp.hpp"

namespace mvnf::arp::test {

class fake_link final : public net::link_output {
public:
    static constexpr uint32_t buf_size = 128;
    explicit fake_link(uint32_t nbufs = 64) : _mem(size_t(nbufs) * buf_size), _free(nbufs) {
        for (uint32_t i = 0; i < nbufs; ++i) _free[i] = i;
        _total = nbufs;
    }
    bool alloc_frame(netio::packet& out) override {
        if (_free.empty() || fail_alloc) return false;
        uint32_t h = _free.back();
        _free.pop_back();
        out = {_mem.data() + size_t(h) * buf_size, buf_size, h};
        return true;
    }
    void send_frame(const netio::packet& f) override {
        sent.emplace_back(f.data, f.data + f.len);
        _free.push_back(f.handle);
    }
    void free_frame(const netio::packet& f) override {
        ++freed;
        _free.push_back(f.handle);
    }
    mac_addr local_mac() const override { return mac; }
    ipv4_addr local_ip() const override { return ip; }

    size_t free_buffers() const { return _free.size(); }
    size_t total_buffers() const { return _total; }

    // A frame to be resolved: Ethernet src/type written, destination blank.
    netio::packet make_ipv4_frame(uint8_t tag) {
        netio::packet f;
        EXPECT_TRUE(alloc_frame(f));
        for (int i = 0; i < 6; ++i) f.data[i] = std::byte{0};
        for (int i = 0; i < 6; ++i) f.data[6 + i] = std::byte{mac.b[i]};
        f.data[12] = std::byte{0x08};
        f.data[13] = std::byte{0x00};
        f.data[14] = std::byte{tag};
        f.len = 60;
        return f;
    }

    mac_addr mac{{0x02, 0, 0, 0, 0, 0x01}};
    ipv4_addr ip{10, 0, 0, 1};
    bool fail_alloc = false;
    std::vector<std::vector<std::byte>> sent;
    size_t freed = 0;

private:
    std::vector<std::byte> _mem;
    std::vector<uint32_t> _free;
    size_t _total;
};

inline std::vector<std::byte> arp_frame(uint16_t op, mac_addr eth_dst, mac_addr sha,
                                        ipv4_addr spa, mac_addr tha, ipv4_addr tpa) {
    std::vector<std::byte> f(wire::arp_repr::frame_length());
    wire::arp_repr{op, sha, spa, tha, tpa}.emit_frame(f.data(), eth_dst);
    return f;
}

inline wire::arp_repr parse_sent(const std::vector<std::byte>& f) {
    auto v = wire::arp_view::parse_frame(f);
    EXPECT_TRUE(v);
    return v ? wire::arp_repr::parse(*v) : wire::arp_repr{};
}

}  // namespace mvnf::arp::test
