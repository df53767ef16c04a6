// Building and checking mvnf-pktgen frames (see frame.hpp). Called by the tx,
// rx, ping and pong loops in pktgen.cpp.
#include "frame.hpp"

#include <cstring>

#include "wire/checksum.hpp"

namespace mvnf::pktgen {

void build_template(frame_template& t, uint32_t len, const mac_addr& src, const mac_addr& dst,
                    kind k, uint8_t sender) {
    std::memset(t.bytes, 0, sizeof t.bytes);
    t.len = len;
    std::byte* f = t.bytes;
    for (size_t i = 0; i < 6; ++i) {
        store8(f + i, dst.b[i]);
        store8(f + 6 + i, src.b[i]);
    }
    store_be16(f + 12, 0x0800);
    std::byte* ip = f + 14;
    store8(ip, 0x45);
    store_be16(ip + 2, uint16_t(len - 14));
    store8(ip + 8, 64);
    store8(ip + 9, 17);
    store_be32(ip + 12, ipv4_addr(10, 0, 0, 1).v);
    store_be32(ip + 16, ipv4_addr(10, 0, 0, 2).v);
    store_be16(ip + 10, wire::checksum(ip, 20));  // RFC 791: over the header only
    std::byte* udp = f + off_udp;
    store_be16(udp, 1024);
    store_be16(udp + 2, pg_dport);
    store_be16(udp + 4, uint16_t(len - off_udp));
    store_be16(udp + 6, 0);  // RFC 768: zero means "no checksum" over IPv4
    store_be16(f + off_magic, pg_magic);
    store8(f + off_kind, k);
    store8(f + off_sender, sender);
    for (uint32_t i = off_ts + 8; i < len; ++i) store8(f + i, uint8_t(i));
}

bool check_frame(const std::byte* f, uint32_t len, parsed& out) {
    if (len < min_frame || load_be16(f + 12) != 0x0800) return false;
    const std::byte* ip = f + 14;
    if (load8(ip) != 0x45 || load8(ip + 9) != 17) return false;
    if (load_be16(ip + 2) != len - 14) return false;
    if (wire::checksum(ip, 20) != 0) return false;
    if (load_be16(f + off_udp + 4) != len - off_udp) return false;
    if (load_be16(f + off_magic) != pg_magic) return false;
    out.kind = load8(f + off_kind);
    out.sender = load8(f + off_sender);
    out.seq = (uint64_t(load_be32(f + off_seq)) << 32) | load_be32(f + off_seq + 4);
    return true;
}

void reflect(std::byte* f) {
    std::byte tmp[6];
    std::memcpy(tmp, f, 6);
    std::memcpy(f, f + 6, 6);
    std::memcpy(f + 6, tmp, 6);
    std::byte* ip = f + 14;
    std::byte a[4];
    std::memcpy(a, ip + 12, 4);
    std::memcpy(ip + 12, ip + 16, 4);
    std::memcpy(ip + 16, a, 4);  // the header checksum is unchanged by a swap
    std::byte p[2];
    std::memcpy(p, f + off_udp, 2);
    std::memcpy(f + off_udp, f + off_udp + 2, 2);
    std::memcpy(f + off_udp + 2, p, 2);
    store8(f + off_kind, k_pong);
}

}  // namespace mvnf::pktgen
