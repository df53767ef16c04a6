// libFuzzer target: the input is a sequence of records — time steps, raw
// frames into stack A, socket calls on either stack (connect, listen, accept,
// send, recv, shutdown, close, abort, UDP send/recv), link impairments — that
// drive two stacks on a virtual clock. After every record the bounds hold and
// every byte read from a TCP stream or UDP datagram between A and B is exactly
// what the other side sent; at the end every pool is full again. One world
// serves the process, torn down, checked and reset after each input (see
// fuzz_ingress.cpp).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "input_reader.hpp"
#include "fuzz_world.hpp"

using namespace mvnf;

namespace {

// Record reader; an exhausted input reads as zeros.
using fuzz::reader;

// Stream content: byte i of direction d (0: A->B, 1: B->A).
// It repeats every 2^17 bytes; the tables hold one period plus the largest
// send, so any stretch is contiguous and is copied and compared with
// memcpy/memcmp (per-byte loops in the harness are instrumented too and
// cost more than the stack's work).
constexpr size_t stream_period = size_t(1) << 17, max_io = 20000;
std::byte stream_byte(uint64_t i, int d) { return std::byte(uint8_t(i * 131 + (i >> 9) * 7 + d * 89)); }
const std::byte* stream_at(uint64_t i, int d) {
    static const std::vector<std::byte> tab[2] = {
        [] {
            std::vector<std::byte> v(stream_period + max_io);
            for (size_t k = 0; k < v.size(); ++k) v[k] = stream_byte(k, 0);
            return v;
        }(),
        [] {
            std::vector<std::byte> v(stream_period + max_io);
            for (size_t k = 0; k < v.size(); ++k) v[k] = stream_byte(k, 1);
            return v;
        }()};
    return tab[d].data() + i % stream_period;
}
// Datagram content: byte i of an n-byte datagram is table[(n & 255) + i].
const std::byte* dgram_at(size_t len) {
    static const std::vector<std::byte> tab = [] {
        std::vector<std::byte> v(256 + 9000);
        for (size_t k = 0; k < v.size(); ++k) v[k] = std::byte(uint8_t(k * 3 + (k >> 8)));
        return v;
    }();
    return tab.data() + (len & 255);
}

struct sock {
    tcp::handle h;
    uint64_t sent = 0, read = 0;
};

struct side {
    tcp::transport_adapter* t;
    net::stack* s;
    int udp = -1;
    std::vector<sock> socks;
    std::vector<tcp::handle> listeners;
};

constexpr size_t max_socks = 12;
const uint16_t ports[] = {80, 81};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 16384) return -1;
    static fuzz::world& w = fuzz::the_world();
    w.exact_rx = false;  // B's frames and delayed/duplicated ones may arrive in the same poll
    side sd[2] = {{&w.ta, &w.a, w.udp_a, {{w.conn_a}}, {w.listener}},
                  {&w.tb, &w.b, *w.b.udp_open(), {{w.conn_b}}, {}}};
    MVNF_FUZZ_CHECK(w.b.udp_bind(sd[1].udp, fuzz::udp_port).has_value());
    const ipv4_addr ip[2] = {test::ip_a, test::ip_b};
    static std::vector<std::byte> buf(65536);

    reader in{data, size};
    for (int records = 0; !in.empty() && records < 512; ++records) {
        const uint8_t op = in.u8();
        const int me = op >> 7;  // high bit: which side makes the call
        side& s = sd[me];
        auto& l = s.t->tcp();
        s.t->set_now(w.clock.t);
        auto pick = [&]() -> sock* {
            if (s.socks.empty()) return nullptr;
            return &s.socks[in.u8() % s.socks.size()];
        };
        switch (op & 0x0f) {
            case 0: {  // time step: 0..199 ms, or whole seconds
                const uint8_t t = in.u8();
                w.step(t < 200 ? net::msec(t) : net::sec(t - 199));
                break;
            }
            case 1: {  // a raw frame into A, from anyone but B (so streams stay B's alone)
                const bytes f = in.take(in.u16() % 2048);
                if (f.size() >= 30 && load_be32(f.data() + 26) == test::ip_b.v) break;
                w.inject(f);
                break;
            }
            case 2: {  // connect to the other side
                if (s.socks.size() >= max_socks) break;
                auto r = l.connect(ip[me], 0, ip[1 - me], ports[in.u8() & 1], w.clock.t);
                if (r) s.socks.push_back({*r});
                break;
            }
            case 3: {  // listen
                if (s.listeners.size() >= 2) break;
                if (auto r = l.listen(ip[me], ports[in.u8() & 1], 1 + (in.u8() & 7)))
                    s.listeners.push_back(*r);
                break;
            }
            case 4: {  // accept
                for (auto lh : s.listeners)
                    while (s.socks.size() < max_socks) {
                        auto r = l.accept(lh);
                        if (!r) break;
                        s.socks.push_back({*r});
                    }
                break;
            }
            case 5: {  // send the next bytes of this direction's stream
                sock* k = pick();
                const size_t n = in.u16() % 20000;
                if (!k) break;
                if (auto r = l.send(k->h, bytes(stream_at(k->sent, me), n), w.clock.t)) {
                    MVNF_FUZZ_CHECK(*r <= n);
                    k->sent += *r;
                }
                break;
            }
            case 6: {  // recv: what arrives is the peer's stream, in order
                sock* k = pick();
                const size_t n = 1 + in.u16() % 20000;
                if (!k) break;
                if (auto r = l.recv(k->h, std::span(buf).first(n), w.clock.t)) {
                    MVNF_FUZZ_CHECK(std::memcmp(buf.data(), stream_at(k->read, 1 - me), *r) == 0);
                    k->read += *r;
                }
                break;
            }
            case 7:
            case 8:
            case 9: {  // close / abort / shutdown(write)
                if (s.socks.empty()) break;
                const size_t i = in.u8() % s.socks.size();
                const tcp::handle h = s.socks[i].h;
                if ((op & 0x0f) == 9) {
                    (void)l.shutdown_write(h, w.clock.t);
                    break;
                }
                (void)((op & 0x0f) == 7 ? l.close(h, w.clock.t) : l.abort(h, w.clock.t));
                if ((op & 0x0f) == 8) (void)l.close(h, w.clock.t);  // frees the slot
                s.socks.erase(s.socks.begin() + long(i));
                break;
            }
            case 10: {  // UDP datagram to the other side's port
                const size_t n = in.u16() % 9000;
                (void)s.s->udp_sendto(s.udp, bytes(dgram_at(n), n), ip[1 - me], fuzz::udp_port,
                                      w.clock.t);
                break;
            }
            case 11: {  // UDP receive: datagrams from the peer are whole and exact
                while (auto d = s.s->udp_recvfrom(s.udp, buf)) {
                    MVNF_FUZZ_CHECK(d->len <= d->full_len);
                    if (d->src != ip[1 - me]) continue;  // injected by the fuzzer
                    MVNF_FUZZ_CHECK(d->len == d->full_len);
                    MVNF_FUZZ_CHECK(std::memcmp(buf.data(), dgram_at(d->len), d->len) == 0);
                }
                break;
            }
            case 12: {  // link impairments (no corruption: checksums are 16-bit)
                const uint8_t v = in.u8();
                netio::mem_impairments imp;
                const double levels[] = {0, 0.02, 0.1, 0.3};
                imp.loss = levels[v & 3];
                imp.duplicate = levels[(v >> 2) & 3];
                imp.reorder = levels[(v >> 4) & 3];
                imp.latency_ns = net::msec((v >> 6) * 2);
                w.link.set_impairments(me ? netio::mem_link::dir::b_to_a : netio::mem_link::dir::a_to_b,
                                       imp);
                break;
            }
            case 13: {  // socket options
                sock* k = pick();
                const uint8_t v = in.u8();
                if (!k) break;
                (void)l.set_nodelay(k->h, v & 1);
                (void)l.set_keepalive(k->h, v & 2, w.clock.t);
                (void)l.set_congestion(k->h, v & 4 ? tcp::congestion_algo::reno
                                                   : tcp::congestion_algo::cubic);
                break;
            }
            default: {  // poll both stacks once, drain event queues
                w.step(net::msec(1));
                tcp::event e;
                while (w.ta.tcp().next_event(e)) {
                }
                while (w.tb.tcp().next_event(e)) {
                }
                break;
            }
        }
        w.check_bounds();
    }
    // Quiet the link so teardown sees every frame delivered.
    w.link.set_impairments(netio::mem_link::dir::a_to_b, {});
    w.link.set_impairments(netio::mem_link::dir::b_to_a, {});
    std::vector<tcp::handle> ha, hb;
    for (auto& k : sd[0].socks) ha.push_back(k.h);
    for (auto& k : sd[1].socks) hb.push_back(k.h);
    for (auto h : sd[0].listeners) ha.push_back(h);
    for (auto h : sd[1].listeners) hb.push_back(h);
    w.b.udp_close(sd[1].udp);
    w.teardown_and_check(ha, hb);
    fuzz::reset_world();
    return 0;
}
