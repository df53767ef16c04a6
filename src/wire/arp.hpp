// ARP for Ethernet/IPv4 (RFC 826): a checked view over the ARP payload of an
// Ethernet frame and a small repr for building replies and requests. Called
// by the ARP resolver (src/net/arp) and its tests.
//
//   0       2       4    5    6       8            14      18           24      28
//   +-------+-------+----+----+-------+------------+-------+------------+-------+
//   | htype | ptype |hlen|plen| oper  | sender MAC | s. IP | target MAC | t. IP |
//   +-------+-------+----+----+-------+------------+-------+------------+-------+
#pragma once

#include <cstdint>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "wire/addr.hpp"
#include "wire/ethernet.hpp"

namespace mvnf::wire {

namespace arp_op {
inline constexpr uint16_t request = 1;
inline constexpr uint16_t reply = 2;
}  // namespace arp_op

// Why an ARP packet was refused; the resolver keeps one counter per value.
enum class arp_error : uint8_t {
    truncated,           // fewer than 28 bytes of ARP payload
    bad_hardware_type,   // htype != 1 (Ethernet)
    bad_protocol_type,   // ptype != 0x0800 (IPv4)
    bad_hardware_len,    // hlen != 6
    bad_protocol_len,    // plen != 4
    bad_opcode,          // neither request (1) nor reply (2)
};
inline constexpr unsigned arp_error_count = 6;

inline const char* to_string(arp_error e) {
    switch (e) {
        case arp_error::truncated: return "truncated ARP packet";
        case arp_error::bad_hardware_type: return "hardware type is not Ethernet";
        case arp_error::bad_protocol_type: return "protocol type is not IPv4";
        case arp_error::bad_hardware_len: return "hardware address length is not 6";
        case arp_error::bad_protocol_len: return "protocol address length is not 4";
        case arp_error::bad_opcode: return "unknown ARP opcode";
    }
    return "?";
}

class arp_view {
public:
    static constexpr size_t length = 28;
    static constexpr size_t off_htype = 0, off_ptype = 2, off_hlen = 4, off_plen = 5,
                            off_oper = 6, off_sha = 8, off_spa = 14, off_tha = 18, off_tpa = 24;
    static constexpr uint16_t htype_ethernet = 1;

    // Checks length and every fixed field once; accessors cannot then read
    // out of bounds. Trailing bytes (Ethernet padding) are ignored.
    static result<arp_view, arp_error> parse(bytes payload) {
        if (payload.size() < length) return fail(arp_error::truncated);
        const std::byte* p = payload.data();
        if (load_be16(p + off_htype) != htype_ethernet) return fail(arp_error::bad_hardware_type);
        if (load_be16(p + off_ptype) != ethertype::ipv4) return fail(arp_error::bad_protocol_type);
        if (load8(p + off_hlen) != 6) return fail(arp_error::bad_hardware_len);
        if (load8(p + off_plen) != 4) return fail(arp_error::bad_protocol_len);
        uint16_t op = load_be16(p + off_oper);
        if (op != arp_op::request && op != arp_op::reply) return fail(arp_error::bad_opcode);
        return arp_view(payload.first(length));
    }
    // Parses the ARP payload of a whole Ethernet frame (ethertype not checked here).
    static result<arp_view, arp_error> parse_frame(bytes frame) {
        if (frame.size() < ethernet_view::header_len) return fail(arp_error::truncated);
        return parse(frame.subspan(ethernet_view::header_len));
    }

    uint16_t opcode() const { return load_be16(_b.data() + off_oper); }
    mac_addr sender_mac() const { return mac_at(off_sha); }
    ipv4_addr sender_ip() const { return ipv4_addr(load_be32(_b.data() + off_spa)); }
    mac_addr target_mac() const { return mac_at(off_tha); }
    ipv4_addr target_ip() const { return ipv4_addr(load_be32(_b.data() + off_tpa)); }

private:
    explicit arp_view(bytes b) : _b(b) {}
    mac_addr mac_at(size_t off) const {
        mac_addr m;
        for (size_t i = 0; i < 6; ++i) m.b[i] = load8(_b.data() + off + i);
        return m;
    }
    bytes _b;
};

struct arp_repr {
    uint16_t op = arp_op::request;
    mac_addr sender_mac;
    ipv4_addr sender_ip;
    mac_addr target_mac;
    ipv4_addr target_ip;

    static constexpr size_t length() { return arp_view::length; }
    // Whole Ethernet frame carrying one ARP packet, padded to the 60-byte minimum.
    static constexpr size_t frame_length() { return 60; }

    static arp_repr parse(const arp_view& v) {
        return {v.opcode(), v.sender_mac(), v.sender_ip(), v.target_mac(), v.target_ip()};
    }
    // Writes the 28-byte ARP packet at out (unchecked builder: out holds length()).
    void emit(std::byte* out) const {
        store_be16(out + arp_view::off_htype, arp_view::htype_ethernet);
        store_be16(out + arp_view::off_ptype, ethertype::ipv4);
        store8(out + arp_view::off_hlen, 6);
        store8(out + arp_view::off_plen, 4);
        store_be16(out + arp_view::off_oper, op);
        for (size_t i = 0; i < 6; ++i) {
            store8(out + arp_view::off_sha + i, sender_mac.b[i]);
            store8(out + arp_view::off_tha + i, target_mac.b[i]);
        }
        store_be32(out + arp_view::off_spa, sender_ip.v);
        store_be32(out + arp_view::off_tpa, target_ip.v);
    }
    // Writes Ethernet header + ARP + zero padding (frame_length() bytes).
    void emit_frame(std::byte* out, mac_addr eth_dst) const {
        ethernet_repr{eth_dst, sender_mac, ethertype::arp}.emit(out);
        emit(out + ethernet_view::header_len);
        for (size_t i = ethernet_view::header_len + length(); i < frame_length(); ++i)
            out[i] = std::byte{0};
    }
    friend bool operator==(const arp_repr&, const arp_repr&) = default;
};

}  // namespace mvnf::wire
