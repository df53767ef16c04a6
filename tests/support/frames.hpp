// Test-only Ethernet/IPv4/UDP frame builder and checker, for backend tests
// that exchange datagrams with the kernel before the real wire views exist.
// Header-only; built on common/bytes.hpp and wire/checksum.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "common/bytes.hpp"
#include "wire/addr.hpp"
#include "wire/checksum.hpp"

namespace mvnf::test {

struct udp_flow {
    mac_addr src_mac, dst_mac;
    ipv4_addr src_ip, dst_ip;
    uint16_t src_port = 0, dst_port = 0;
};

constexpr size_t udp_frame_overhead = 14 + 20 + 8;

// Writes an Ethernet+IPv4+UDP frame with valid checksums; returns its length
// (0 when it does not fit in out).
inline size_t build_udp(std::span<std::byte> out, const udp_flow& f, std::string_view payload) {
    size_t len = udp_frame_overhead + payload.size();
    if (out.size() < len) return 0;
    std::byte* p = out.data();
    for (int i = 0; i < 6; ++i) {
        store8(p + i, f.dst_mac.b[i]);
        store8(p + 6 + i, f.src_mac.b[i]);
    }
    store_be16(p + 12, 0x0800);
    std::byte* ip = p + 14;
    store8(ip, 0x45);
    store8(ip + 1, 0);
    store_be16(ip + 2, uint16_t(20 + 8 + payload.size()));
    store_be32(ip + 4, 0);  // id, flags, fragment offset
    store8(ip + 8, 64);
    store8(ip + 9, 17);
    store_be16(ip + 10, 0);
    store_be32(ip + 12, f.src_ip.v);
    store_be32(ip + 16, f.dst_ip.v);
    store_be16(ip + 10, wire::checksum(ip, 20));
    std::byte* udp = ip + 20;
    uint16_t ulen = uint16_t(8 + payload.size());
    store_be16(udp, f.src_port);
    store_be16(udp + 2, f.dst_port);
    store_be16(udp + 4, ulen);
    store_be16(udp + 6, 0);
    for (size_t i = 0; i < payload.size(); ++i) udp[8 + i] = std::byte(payload[i]);
    uint16_t c = wire::checksum(udp, ulen, wire::pseudo_header_sum(f.src_ip, f.dst_ip, 17, ulen));
    store_be16(udp + 6, c ? c : 0xffff);
    return len;
}

struct udp_seen {
    udp_flow flow;
    std::string payload;
};

// Parses a frame as Ethernet+IPv4(no options needed)+UDP and verifies both
// checksums; nullopt for anything else or any corruption.
inline std::optional<udp_seen> parse_udp(std::span<const std::byte> fr) {
    if (fr.size() < udp_frame_overhead || load_be16(fr.data() + 12) != 0x0800) return {};
    const std::byte* ip = fr.data() + 14;
    size_t ihl = size_t(load8(ip) & 0xf) * 4;
    if ((load8(ip) >> 4) != 4 || ihl < 20 || load8(ip + 9) != 17) return {};
    size_t tot = load_be16(ip + 2);
    if (tot < ihl + 8 || 14 + tot > fr.size()) return {};
    if (wire::checksum(ip, ihl) != 0) return {};
    udp_seen s;
    for (int i = 0; i < 6; ++i) {
        s.flow.dst_mac.b[i] = load8(fr.data() + i);
        s.flow.src_mac.b[i] = load8(fr.data() + 6 + i);
    }
    s.flow.src_ip = ipv4_addr(load_be32(ip + 12));
    s.flow.dst_ip = ipv4_addr(load_be32(ip + 16));
    const std::byte* udp = ip + ihl;
    uint16_t ulen = load_be16(udp + 4);
    if (ulen < 8 || ihl + ulen > tot) return {};
    if (load_be16(udp + 6) != 0 &&
        wire::checksum(udp, ulen,
                       wire::pseudo_header_sum(s.flow.src_ip, s.flow.dst_ip, 17, ulen)) != 0)
        return {};
    s.flow.src_port = load_be16(udp);
    s.flow.dst_port = load_be16(udp + 2);
    s.payload.assign(reinterpret_cast<const char*>(udp + 8), ulen - 8);
    return s;
}

}  // namespace mvnf::test
