// libFuzzer target: ARP (RFC 826) against stack A's resolver and the shared
// table. The input is a sequence of records: ARP packets into A (each field
// either a plausible value — B, C, our own address, a neighbour on the
// subnet — or raw bytes), UDP datagrams A sends to neighbours that need
// resolving (frames queue behind a pending resolution), and time steps that
// run the retry and give-up timers. After every record the world's bounds
// hold, the static entries (B and C) still map to their MACs, and the frames
// held for resolution stay within the resolver's limits; at the end every
// link buffer the resolver held is home again (teardown) and the world is
// reset for the next input (see fuzz_ingress.cpp).
#include <cstddef>
#include <cstdint>

#include "input_reader.hpp"
#include "fuzz_world.hpp"
#include "wire/arp.hpp"

using namespace mvnf;

namespace {

using fuzz::reader;

ipv4_addr pick_ip(reader& in) {
    switch (in.u8() & 7) {
        case 0: return test::ip_b;
        case 1: return fuzz::ip_c;
        case 2: return test::ip_a;                      // our own address
        case 3: return ipv4_addr{10, 0, 0, 0};          // the subnet's network address
        case 4: return ipv4_addr{10, 0, 0, 255};        // its broadcast
        case 5: return ipv4_addr{0, 0, 0, 0};           // a probe's sender (RFC 5227)
        case 6: return ipv4_addr{10, 0, 0, in.u8()};    // a neighbour
        default: return ipv4_addr(in.u32());
    }
}

mac_addr pick_mac(reader& in) {
    switch (in.u8() & 3) {
        case 0: return test::mac_b;
        case 1: return mac_addr{{0x02, 0, 0, 0, 0, in.u8()}};
        case 2: return mac_addr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
        default: {
            mac_addr m;
            for (auto& b : m.b) b = in.u8();
            return m;
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 4096) return -1;
    static fuzz::world& w = fuzz::the_world();
    w.exact_rx = false;  // A's own requests and B's traffic share the link
    const auto& rc = w.opt.resolver;
    std::byte payload[512] = {};

    reader in{data, size};
    for (int records = 0; !in.empty() && records < 128; ++records) {
        const uint8_t op = in.u8();
        switch (op & 3) {
            case 0: {  // an ARP packet into A
                std::byte body[28];
                const uint8_t shape = in.u8();
                // Hardware/protocol fields as RFC 826 says, or raw (bit 0).
                store_be16(body + 0, shape & 1 ? in.u16() : 1);
                store_be16(body + 2, shape & 1 ? in.u16() : 0x0800);
                body[4] = std::byte(shape & 1 ? in.u8() : 6);
                body[5] = std::byte(shape & 1 ? in.u8() : 4);
                store_be16(body + 6, shape & 2 ? in.u16() : 1 + ((shape >> 2) & 1));
                const mac_addr sha = pick_mac(in), tha = pick_mac(in);
                const ipv4_addr spa = pick_ip(in), tpa = shape & 8 ? pick_ip(in) : test::ip_a;
                std::copy(sha.b.begin(), sha.b.end(), reinterpret_cast<uint8_t*>(body + 8));
                store_be32(body + 14, spa.v);
                std::copy(tha.b.begin(), tha.b.end(), reinterpret_cast<uint8_t*>(body + 18));
                store_be32(body + 24, tpa.v);
                const mac_addr dst = shape & 16 ? pick_mac(in) : test::mac_a;
                // Truncated or padded (bits 5..7): 28 bytes -/+ up to 7.
                const size_t len = std::min<size_t>(28, 21 + (shape >> 5));
                auto f = test::eth_frame(dst, sha, wire::ethertype::arp, bytes(body, len));
                if (shape >> 5 == 7) f.resize(f.size() + 18);  // Ethernet padding to 60
                w.inject(f);
                break;
            }
            case 1: {  // A sends a datagram to a host that may need resolving
                const ipv4_addr dst = pick_ip(in);
                const size_t n = in.u16() % sizeof(payload);
                (void)w.a.udp_sendto(w.udp_a, bytes(payload, n), dst, 9, w.clock.t);
                w.step(0);
                break;
            }
            case 2: {  // time: 0..63 ms, or up to 4 s (retries, give-up, hold-down)
                const uint8_t t = in.u8();
                w.step(t < 192 ? net::msec(t & 63) : net::msec(uint32_t(t - 191) * 64));
                break;
            }
            default: {  // B's side answers and the link drains a little
                w.step(net::msec(1));
                break;
            }
        }
        w.check_bounds();
        MVNF_FUZZ_CHECK(w.resolver.held_frames() <= size_t(rc.max_pending) * rc.queue_per_dest);
        // Static entries are never overwritten by ARP (RFC 826 leaves the
        // table to the implementation; ours keeps arp.conf entries fixed).
        for (auto [ip, mac] : {std::pair{test::ip_b, test::mac_b}, std::pair{fuzz::ip_c, fuzz::mac_c}}) {
            const auto e = w.arp_table.lookup(ip, w.clock.t);
            MVNF_FUZZ_CHECK(e.state == arp::entry_state::permanent && e.mac == mac);
        }
    }
    w.teardown_and_check();
    MVNF_FUZZ_CHECK(w.resolver.held_frames() == 0);
    fuzz::reset_world();
    return 0;
}
