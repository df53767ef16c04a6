// libFuzzer target: IPv4 reassembly (RFC 791 section 3.2, RFC 815) through
// stack A's whole ingress path. The input is a sequence of fragment records
// — which datagram (ident, source, protocol), offset, length, More
// Fragments, Don't Fragment — and time steps. Fragments of one datagram
// carry consistent content: byte k of datagram d is pattern(d, k), and its
// first 8 bytes are a UDP header to A's bound port (checksum 0, as RFC 768
// allows, so any reassembled length can be delivered). Datagrams of the
// "inconsistent" idents (high bit) carry bytes from the input instead, to
// reach the overlap paths with conflicting data. After every record the
// reassembly bounds hold (entries, bytes held, chunk pool); every datagram
// A's UDP socket receives from B has the length its UDP header says and,
// for a consistent ident, exactly the pattern bytes. At the end, timeouts
// free what is left (teardown checks every pool) and the world is reset.
#include <cstddef>
#include <cstdint>

#include "input_reader.hpp"
#include "fuzz_world.hpp"

using namespace mvnf;

namespace {

using fuzz::reader;

uint8_t pattern(uint16_t ident, size_t k) { return uint8_t(k * 7 + (k >> 8) * 3 + ident * 29); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 8192) return -1;
    static fuzz::world& w = fuzz::the_world();
    static std::vector<std::byte> frame(2048), got(65536);

    reader in{data, size};
    for (int records = 0; !in.empty() && records < 256; ++records) {
        const uint8_t op = in.u8();
        if ((op & 7) == 7) {  // time: up to ~2 s, or past the 30 s reassembly timeout
            const uint8_t t = in.u8();
            w.step(t < 250 ? net::msec(uint32_t(t) * 8) : net::sec(31));
            continue;
        }
        // The datagram: 4 consistent and 4 inconsistent idents, from B or
        // C, UDP or (bit 3) another protocol, so entries differ by key.
        const uint16_t ident = uint16_t((op & 3) | (op & 4 ? 0x8000 : 0));
        const ipv4_addr src = op & 0x10 ? fuzz::ip_c : test::ip_b;
        const uint8_t proto = op & 0x08 ? wire::ipproto::icmp : wire::ipproto::udp;
        const uint16_t off8 = in.u16() & 0x1fff;           // offset in 8-byte units
        const size_t len = in.u16() % 1481;                // payload of this fragment
        const bool mf = op & 0x20, df = op & 0x40;
        const uint16_t udp_len = uint16_t(8 + in.u16() % 4000);  // the datagram's UDP length
        const size_t off = size_t(off8) * 8;

        std::byte* ip = frame.data() + 14;
        std::byte* pl = ip + 20;
        for (size_t k = 0; k < len; ++k) {
            const size_t at = off + k;
            uint8_t v = pattern(ident, at);
            if (at < 8) {  // the UDP header: port 1000 + datagram number to A's bound port
                const uint16_t sport = uint16_t(1000 + (op & 7));
                const uint8_t h[8] = {uint8_t(sport >> 8), uint8_t(sport), 0, fuzz::udp_port,
                                      uint8_t(udp_len >> 8), uint8_t(udp_len), 0, 0};
                v = h[at];
            } else if (ident & 0x8000) {
                v = in.u8();
            }
            pl[k] = std::byte(v);
        }
        wire::ipv4_repr r{src, test::ip_a, proto};
        r.ident = ident;
        r.payload_len = uint16_t(len);
        r.dont_frag = df;
        r.more_frags = mf;
        r.frag_offset = uint32_t(off);
        r.emit(ip);
        wire::ethernet_repr{test::mac_a, test::mac_b, wire::ethertype::ipv4}.emit(frame.data());
        w.inject(bytes(frame.data(), 14 + 20 + len));
        w.check_bounds();

        while (auto d = w.a.udp_recvfrom(w.udp_a, got)) {
            MVNF_FUZZ_CHECK(d->len <= d->full_len);
            // The source port names the datagram: 1000..1003 carry the
            // pattern, every byte of it, whatever the fragments overlapped.
            if (d->src != test::ip_b || d->src_port < 1000 || d->src_port > 1003) continue;
            const uint16_t id = uint16_t(d->src_port - 1000);
            for (size_t k = 0; k < d->len; ++k)
                MVNF_FUZZ_CHECK(got[k] == std::byte(pattern(id, k + 8)));
        }
    }
    w.teardown_and_check();
    fuzz::reset_world();
    return 0;
}
