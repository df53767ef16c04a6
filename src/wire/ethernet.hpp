// Ethernet II header: a checked view for input and a builder for output.
//
//   0      6      12     14
//   +------+------+------+---------
//   | dst  | src  | type | payload
//   +------+------+------+---------
#pragma once

#include <optional>

#include "common/bytes.hpp"
#include "wire/addr.hpp"

namespace mvnf::wire {

namespace ethertype {
inline constexpr uint16_t ipv4 = 0x0800;
inline constexpr uint16_t arp = 0x0806;
inline constexpr uint16_t vlan = 0x8100;
inline constexpr uint16_t ipv6 = 0x86dd;
}  // namespace ethertype

class ethernet_view {
public:
    static constexpr size_t header_len = 14;
    static constexpr size_t off_dst = 0, off_src = 6, off_type = 12;

    // Fails when the frame cannot hold a header.
    static std::optional<ethernet_view> parse(bytes frame) {
        if (frame.size() < header_len) return std::nullopt;
        return ethernet_view(frame);
    }
    mac_addr dst() const { return mac_at(off_dst); }
    mac_addr src() const { return mac_at(off_src); }
    uint16_t type() const { return load_be16(_b.data() + off_type); }
    bytes payload() const { return _b.subspan(header_len); }

private:
    explicit ethernet_view(bytes b) : _b(b) {}
    mac_addr mac_at(size_t off) const {
        mac_addr m;
        for (size_t i = 0; i < 6; ++i) m.b[i] = load8(_b.data() + off + i);
        return m;
    }
    bytes _b;
};

struct ethernet_repr {
    mac_addr dst, src;
    uint16_t type = 0;

    static constexpr size_t length() { return ethernet_view::header_len; }
    static std::optional<ethernet_repr> parse(const ethernet_view& v) {
        return ethernet_repr{v.dst(), v.src(), v.type()};
    }
    // Writes the header at out[0..14); out must hold length() bytes.
    void emit(std::byte* out) const {
        for (size_t i = 0; i < 6; ++i) {
            store8(out + i, dst.b[i]);
            store8(out + 6 + i, src.b[i]);
        }
        store_be16(out + 12, type);
    }
};

}  // namespace mvnf::wire
