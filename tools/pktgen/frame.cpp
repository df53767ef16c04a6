// Building and checking mvnf-pktgen frames (see frame.hpp). Called by the tx,
// rx, ping and pong loops in pktgen.cpp.
#include "frame.hpp"

#include <bit>
#include <cstring>

#include "wire/checksum.hpp"

namespace mvnf::pktgen {

namespace {

// A big-endian 16-bit value as it reads in native order.
constexpr uint16_t native16(uint16_t be) {
    return std::endian::native == std::endian::little ? uint16_t((be >> 8) | (be << 8)) : be;
}

}  // namespace

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
    store_be16(f + off_magic, pg_magic);
    store8(f + off_kind, k);
    store8(f + off_sender, sender);
    for (uint32_t i = off_ts + 8; i < len; ++i) store8(f + i, uint8_t(i));
    // RFC 768: the checksum covers a pseudo-header (addresses, protocol, UDP
    // length) and the datagram. Source port, sequence number and timestamp
    // are zero here; stamp() adds them per packet.
    store_be16(udp, 0);
    store_be16(udp + 6, 0);
    const uint16_t udp_len = uint16_t(len - off_udp);
    t.sum = wire::csum_add(uint64_t(17) + udp_len, ip + 12, 8);
    t.sum = wire::csum_add(t.sum, udp, udp_len);
    store_be16(udp + 6, udp_checksum_from_sum(t.sum));
}

bool check_frame(const std::byte* f, uint32_t len, parsed& out, bool payload) {
    if (len < min_frame || load_be16(f + 12) != 0x0800) return false;
    const std::byte* ip = f + 14;
    if (load8(ip) != 0x45 || load8(ip + 9) != 17) return false;
    if (load_be16(ip + 2) != len - 14) return false;
    // RFC 791: the header checksum, over the header only.
    const uint64_t addrs = wire::csum_native(ip + 12, 8);
    if (wire::csum_fold(wire::csum_native(ip, 12) + addrs) != 0xffff) return false;
    const uint16_t udp_len = uint16_t(len - off_udp);
    if (load_be16(f + off_udp + 4) != udp_len) return false;
    if (load_be16(f + off_magic) != pg_magic) return false;
    if (payload) {
        // Our senders always fill the checksum: zero here is a damaged frame.
        if (load_be16(f + off_udp_csum) == 0) return false;
        // RFC 768: pseudo-header (addresses, protocol, UDP length) + datagram.
        const uint64_t sum =
            addrs + native16(17) + native16(udp_len) + wire::csum_native(f + off_udp, udp_len);
        if (wire::csum_fold(sum) != 0xffff) return false;
    }
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
    // Swaps leave both checksums as they were; the kind byte does not
    // (RFC 1624 eqn. 3 for the one changed 16-bit word).
    const uint16_t old_word = load_be16(f + off_kind);
    store8(f + off_kind, k_pong);
    const uint16_t csum = load_be16(f + off_udp_csum);
    if (csum != 0) {
        uint16_t c = wire::csum_update16(csum, old_word, load_be16(f + off_kind));
        store_be16(f + off_udp_csum, c == 0 ? 0xffff : c);
    }
}

}  // namespace mvnf::pktgen
