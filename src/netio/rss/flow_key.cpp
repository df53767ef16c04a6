// Extracts the RSS flow key from an Ethernet frame. Called on every frame by
// the shm sender and the sw dispatcher, so it reads only what the hash needs,
// through bytes.hpp loads, after checking every length it relies on.
#include "common/bytes.hpp"
#include "netio/rss/rss.hpp"
#include "wire/ethernet.hpp"

namespace mvnf::netio {

flow_key parse_flow_key(bytes frame) {
    flow_key k;
    size_t off = wire::ethernet_view::header_len;
    if (frame.size() < off) return k;
    uint16_t type = load_be16(frame.data() + 12);
    if (type == wire::ethertype::vlan) {  // IEEE 802.1Q: 4-byte tag, then the real type
        if (frame.size() < off + 4) return k;
        type = load_be16(frame.data() + off + 2);
        off += 4;
    }
    if (type != wire::ethertype::ipv4) return k;

    // RFC 791 section 3.1: version 4, IHL >= 5 words, total length covers the
    // header and fits in the frame (Ethernet padding may follow it).
    bytes ip = frame.subspan(off);
    if (ip.size() < 20) return k;
    uint8_t vihl = load8(ip.data());
    if ((vihl >> 4) != 4) return k;
    size_t ihl = size_t(vihl & 0x0f) * 4;
    if (ihl < 20 || ihl > ip.size()) return k;
    size_t total = load_be16(ip.data() + 2);
    if (total < ihl || total > ip.size()) return k;

    k.kind = flow_kind::ipv4;
    k.proto = load8(ip.data() + 9);
    k.src = ipv4_addr(load_be32(ip.data() + 12));
    k.dst = ipv4_addr(load_be32(ip.data() + 16));

    // Any fragment (MF set or offset != 0) hashes on addresses only, the first
    // fragment too: otherwise it would land on another queue than the rest of
    // its datagram and reassembly (RFC 791 section 3.2) would be split.
    uint16_t frag = load_be16(ip.data() + 6);
    bool more_fragments = (frag & 0x2000) != 0;
    uint16_t frag_offset = frag & 0x1fff;
    if (more_fragments || frag_offset != 0) return k;

    if (k.proto != 6 && k.proto != 17) return k;  // TCP, UDP
    if (total < ihl + 4) return k;                // ports must be inside the datagram
    k.sport = load_be16(ip.data() + ihl);
    k.dport = load_be16(ip.data() + ihl + 2);
    k.kind = flow_kind::ipv4_ports;
    return k;
}

}  // namespace mvnf::netio
