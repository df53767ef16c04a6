// mvnf-rob-bridge: a two-port Ethernet bridge between shm links for the
// process-level robustness tests (procs_test.py, scripts/soak.sh). Port A
// faces the server, port B the legitimate client. It copies frames both ways,
// optionally drops a fraction of the IPv4 frames (loss injection), and on
// SIGUSR1 fills port A with spoofed TCP SYNs at full speed (SIGUSR2 stops).
//
// An shm link joins exactly two processes, so the attacker cannot be a third
// process on the server's link; it is the bridge itself, like a hostile host
// on the same switch. The bridge serves its two inputs round-robin: legitimate
// frames from B go into the next free TX buffer of A before any new flood
// frame, and flood frames fill every other buffer, so the server's RX ring is
// always full while the client's few frames still get through (a switch with
// per-ingress-port queues behaves the same way).
//
// Spoofed sources are off-link, so the server sends its SYN-ACKs to its
// gateway; the bridge answers ARP for the gateway address (--gateway) with
// its own MAC on A and drops (and counts) every frame sent to that MAC.
//
// Threads: "down" drives A's RX half and B's TX half, "up" drives B's RX half
// and A's TX half (the shm rings allow the two halves of a queue on two
// threads); ARP requests for the gateway seen by "down" are answered by "up"
// through a one-slot mailbox. Nothing is allocated per frame.
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/bytes.hpp"
#include "netio/port.hpp"
#include "proc_args.hpp"
#include "wire/addr.hpp"
#include "wire/checksum.hpp"

using namespace mvnf;

namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_flood{false};

void on_stop(int) {
    g_stop.store(true);
}
void on_flood_on(int) {
    g_flood.store(true);
}
void on_flood_off(int) {
    g_flood.store(false);
}

int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct options {
    std::string a, b;  // port A (server side), port B (client side)
    double loss = 0;   // drop probability per IPv4 frame, each direction
    uint64_t seed = 1;
    ipv4_addr gateway{};    // answered on A with A's MAC
    ipv4_addr flood_dst{};  // SYN flood target (the server)
    uint16_t flood_port = 0;
    uint64_t flood_pps = 0;  // 0: as fast as the server's ring drains
    bool flood_now = false;  // flood from the start instead of on SIGUSR1
    double duration = 0;     // 0: until SIGTERM/SIGINT or a peer leaves
    unsigned burst = 32;
    uint32_t ring = 1024, buf = 2048;
    int stats_ms = 1000;
};

const char* const usage_text =
    "usage: mvnf-rob-bridge --a shm:SERVER_SIDE --b shm:CLIENT_SIDE [--loss P]\n"
    "         [--seed N] [--gateway IP] [--flood IP:PORT [--flood-pps N] [--flood-now]]\n"
    "         [-d SECS] [--burst N] [--ring N] [--buf N] [--stats-ms N]\n"
    "SIGUSR1 starts the SYN flood, SIGUSR2 stops it; SIGTERM ends.\n";

bool parse_ip(const char* s, ipv4_addr& out) {
    unsigned a, b, c, d;
    char tail;
    if (std::sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 || b > 255 ||
        c > 255 || d > 255)
        return false;
    out = ipv4_addr(uint8_t(a), uint8_t(b), uint8_t(c), uint8_t(d));
    return true;
}

options parse(int argc, char** argv) {
    options o;
    mvnf::rob::arg_reader r(argc, argv, "mvnf-rob-bridge", usage_text);
    while (r.next()) {
        if (r.is("--a"))
            o.a = r.value();
        else if (r.is("--b"))
            o.b = r.value();
        else if (r.is("--loss"))
            o.loss = r.number(0, 1);
        else if (r.is("--seed"))
            o.seed = uint64_t(r.number(0, 1e18));
        else if (r.is("--gateway")) {
            if (!parse_ip(r.value(), o.gateway)) r.fail("--gateway: expected a.b.c.d");
        } else if (r.is("--flood")) {
            o.flood_port = r.ip_port([&](const char* ip) { return parse_ip(ip, o.flood_dst); });
        } else if (r.is("--flood-pps"))
            o.flood_pps = uint64_t(r.number(0, 1e9));
        else if (r.is("--flood-now"))
            o.flood_now = true;
        else if (r.is("-d"))
            o.duration = r.number(0, 1e6);
        else if (r.is("--burst"))
            o.burst = unsigned(r.number(1, 512));
        else if (r.is("--ring"))
            o.ring = uint32_t(r.number(2, 65536));
        else if (r.is("--buf"))
            o.buf = uint32_t(r.number(256, 9216));
        else if (r.is("--stats-ms"))
            o.stats_ms = int(r.number(10, 60000));
        else if (r.help())
            r.fail("help");
        else
            r.unknown();
    }
    if (o.a.empty() || o.b.empty()) r.fail("--a and --b are required");
    if (o.flood_now && o.flood_port == 0) r.fail("--flood-now needs --flood");
    return o;
}

// xorshift64*: cheap, per thread, reproducible from --seed.
struct rng {
    uint64_t s;
    uint64_t next() {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return s * 0x2545F4914F6CDD1Dull;
    }
    // True with probability p.
    bool chance(double p) { return p > 0 && double(next() >> 11) * 0x1.0p-53 < p; }
};

uint64_t mac_word(const std::byte* p) {
    uint64_t v = 0;
    for (int i = 0; i < 6; ++i) v = (v << 8) | uint64_t(p[i]);
    return v;
}
void store_mac_word(std::byte* p, uint64_t v) {
    for (int i = 5; i >= 0; --i, v >>= 8) p[i] = std::byte(v & 0xff);
}

constexpr size_t eth_len = 14;
constexpr uint16_t ethertype_ipv4 = 0x0800, ethertype_arp = 0x0806;

// Counters, each written by one thread and read by the main thread.
struct alignas(64) down_counters {
    std::atomic<uint64_t> frames{0}, forwarded{0}, lost{0}, to_gateway{0}, synacks_to_gateway{0},
        rsts_to_gateway{0}, gateway_arp_requests{0}, tx_full_waits{0};
};
struct alignas(64) up_counters {
    std::atomic<uint64_t> frames{0}, forwarded{0}, lost{0}, flood_sent{0}, flood_no_mac{0},
        arp_replies{0}, tx_full_waits{0};
    // Flood bursts that found fewer free buffers than asked: the server's RX
    // ring was full, i.e. the server, not the bridge, set the flood's rate.
    std::atomic<uint64_t> flood_bursts{0}, flood_ring_full{0};
    std::atomic<int64_t> flood_ns{0};  // time spent flooding (sum of flood periods)
};

struct shared {
    const options* o = nullptr;
    netio::port* a = nullptr;
    netio::port* b = nullptr;
    down_counters down;
    up_counters up;
    // The server's MAC, learnt from A's frames (bit 63 set once known).
    std::atomic<uint64_t> server_mac{0};
    // Mailbox down -> up: the latest ARP request for the gateway.
    std::atomic<uint64_t> arp_req_mac{0};
    std::atomic<uint32_t> arp_req_ip{0};
    std::atomic<uint32_t> arp_req_seq{0};
};

constexpr unsigned idle_spins = 512;
constexpr int64_t idle_wait_ns = 2'000'000;  // short: "up" also polls the ARP mailbox

// Copies the frames in `keep` (indices into in[]) into TX buffers of dst and
// sends them; waits for buffers rather than dropping a legitimate frame.
template <class Counters>
void forward(netio::queue& dst, const netio::packet* in, const unsigned* keep, unsigned m,
             std::vector<netio::packet>& out, Counters& c) {
    unsigned got = 0;
    while (got < m) {
        unsigned k = dst.alloc_tx(std::span(out.data() + got, m - got));
        got += k;
        if (got < m) {
            if (g_stop.load(std::memory_order_relaxed)) break;
            c.tx_full_waits.fetch_add(1, std::memory_order_relaxed);
            dst.flush();
            std::this_thread::yield();
        }
    }
    for (unsigned i = 0; i < got; ++i) {
        std::memcpy(out[i].data, in[keep[i]].data, in[keep[i]].len);
        out[i].len = in[keep[i]].len;
    }
    unsigned sent = dst.tx_burst(std::span(out.data(), got));
    if (sent < got) dst.free_tx(std::span(out.data() + sent, got - sent));
    c.forwarded.fetch_add(sent, std::memory_order_relaxed);
}

// A -> B: the server's frames to the client; frames to the gateway dropped.
void down_loop(shared& s) {
    const options& o = *s.o;
    netio::queue& src = s.a->q(0);
    netio::queue& dst = s.b->q(0);
    const uint64_t gw_mac = mac_word(reinterpret_cast<const std::byte*>(s.a->info().mac.b.data()));
    rng r{o.seed * 2 + 1};
    std::vector<netio::packet> in(o.burst), out(o.burst);
    std::vector<unsigned> keep(o.burst);
    unsigned idle = 0;
    while (!g_stop.load(std::memory_order_relaxed)) {
        unsigned n = src.rx_burst(std::span(in.data(), in.size()));
        if (n == 0) {
            if (++idle >= idle_spins) {
                src.wait(idle_wait_ns);
                idle = 0;
            }
            continue;
        }
        idle = 0;
        unsigned m = 0;
        for (unsigned k = 0; k < n; ++k) {
            const std::byte* f = in[k].data;
            const uint32_t len = in[k].len;
            if (len < eth_len) continue;
            if (!(s.server_mac.load(std::memory_order_relaxed) >> 63))
                s.server_mac.store(mac_word(f + 6) | (1ull << 63), std::memory_order_relaxed);
            const uint16_t type = load_be16(f + 12);
            if (type == ethertype_arp && len >= eth_len + 28 && load_be16(f + eth_len + 6) == 1 &&
                !o.gateway.is_any() && load_be32(f + eth_len + 24) == o.gateway.v) {
                // Who has <gateway>? Answered by "up" (it owns A's TX half).
                s.arp_req_mac.store(mac_word(f + eth_len + 8), std::memory_order_relaxed);
                s.arp_req_ip.store(load_be32(f + eth_len + 14), std::memory_order_relaxed);
                s.arp_req_seq.fetch_add(1, std::memory_order_release);
                s.down.gateway_arp_requests.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            if (mac_word(f) == gw_mac) {
                // Replies to spoofed sources: the attacker never sees them.
                s.down.to_gateway.fetch_add(1, std::memory_order_relaxed);
                if (type == ethertype_ipv4 && len >= eth_len + 20 + 14 &&
                    uint8_t(f[eth_len + 9]) == 6) {
                    const size_t ihl = size_t(uint8_t(f[eth_len]) & 0x0f) * 4;
                    if (len >= eth_len + ihl + 14) {
                        const uint8_t flags = uint8_t(f[eth_len + ihl + 13]);
                        if ((flags & 0x12) == 0x12)
                            s.down.synacks_to_gateway.fetch_add(1, std::memory_order_relaxed);
                        if (flags & 0x04)
                            s.down.rsts_to_gateway.fetch_add(1, std::memory_order_relaxed);
                    }
                }
                continue;
            }
            if (type == ethertype_ipv4 && r.chance(o.loss)) {
                s.down.lost.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            keep[m++] = k;
        }
        forward(dst, in.data(), keep.data(), m, out, s.down);
        src.release(std::span(in.data(), n));
        dst.flush();
        s.down.frames.fetch_add(n, std::memory_order_relaxed);
    }
}

// The spoofed SYN: Ethernet | IPv4 (20) | TCP (20 + 20 bytes of options, in
// Linux's order: MSS, SACK-permitted, timestamps, NOP, window scale).
constexpr size_t syn_ip = eth_len, syn_tcp = eth_len + 20, syn_len = eth_len + 20 + 40;

void build_syn_template(std::byte* f, uint64_t src_mac, uint64_t dst_mac, const options& o) {
    std::memset(f, 0, syn_len);
    store_mac_word(f, dst_mac);
    store_mac_word(f + 6, src_mac);
    store_be16(f + 12, ethertype_ipv4);
    std::byte* ip = f + syn_ip;
    store8(ip, 0x45);
    store_be16(ip + 2, 60);
    store_be16(ip + 6, 0x4000);  // DF
    store8(ip + 8, 64);
    store8(ip + 9, 6);
    store_be32(ip + 16, o.flood_dst.v);
    std::byte* t = f + syn_tcp;
    store_be16(t + 2, o.flood_port);
    store8(t + 12, 10 << 4);  // data offset 10 words
    store8(t + 13, 0x02);     // SYN
    store_be16(t + 14, 64240);
    const uint8_t opts[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 7};
    std::memcpy(t + 20, opts, sizeof opts);
}

// Random off-link source (first octet 1..223, never 10 or 127), port, ISN,
// IP ID and TSval; then both checksums (RFC 791, RFC 9293 3.1).
void stamp_syn(std::byte* f, rng& r) {
    std::byte* ip = f + syn_ip;
    std::byte* t = f + syn_tcp;
    uint64_t x = r.next();
    uint32_t src;
    do {
        src = uint32_t(x);
        const uint32_t first = 1 + (src >> 24) % 223;
        src = (first << 24) | (src & 0xffffff);
        x = r.next();
    } while ((src >> 24) == 10 || (src >> 24) == 127);
    store_be16(ip + 4, uint16_t(x));
    store_be32(ip + 12, src);
    store_be16(ip + 10, 0);
    store_be16(ip + 10, wire::checksum(ip, 20));
    store_be16(t, uint16_t(1024 + (x >> 16) % 64512));
    store_be32(t + 4, uint32_t(x >> 32));
    store_be32(t + 20 + 8, uint32_t(r.next()));  // TSval
    store_be16(t + 16, 0);
    const uint64_t ph =
        wire::pseudo_header_sum(ipv4_addr(src), ipv4_addr(load_be32(ip + 16)), 6, 40);
    store_be16(t + 16, wire::checksum(t, 40, ph));
}

// False when no TX buffer was free (the flood holds them all): the caller
// keeps the reply pending and takes the next buffer the server returns.
bool send_gateway_arp_reply(shared& s, netio::queue& q) {
    netio::packet p;
    if (q.alloc_tx(std::span(&p, 1)) != 1) return false;
    const uint64_t gw = mac_word(reinterpret_cast<const std::byte*>(s.a->info().mac.b.data()));
    const uint64_t req = s.arp_req_mac.load(std::memory_order_relaxed);
    std::byte* f = p.data;
    std::memset(f, 0, 60);
    store_mac_word(f, req);
    store_mac_word(f + 6, gw);
    store_be16(f + 12, ethertype_arp);
    std::byte* a = f + eth_len;  // RFC 826: Ethernet/IPv4, opcode 2 (reply)
    store_be16(a, 1);
    store_be16(a + 2, ethertype_ipv4);
    store8(a + 4, 6);
    store8(a + 5, 4);
    store_be16(a + 6, 2);
    store_mac_word(a + 8, gw);
    store_be32(a + 14, s.o->gateway.v);
    store_mac_word(a + 18, req);
    store_be32(a + 24, s.arp_req_ip.load(std::memory_order_relaxed));
    p.len = 60;
    if (q.tx_burst(std::span(&p, 1)) != 1) {
        q.free_tx(std::span(&p, 1));
        return false;
    }
    s.up.arp_replies.fetch_add(1, std::memory_order_relaxed);
    return true;
}

// B -> A, gateway ARP replies, and the flood into A's free buffers.
void up_loop(shared& s) {
    const options& o = *s.o;
    netio::queue& src = s.b->q(0);
    netio::queue& dst = s.a->q(0);
    rng r{o.seed * 2 + 2}, fr{o.seed * 7 + 3};
    std::vector<netio::packet> in(o.burst), out(o.burst), fl(o.burst);
    std::vector<unsigned> keep(o.burst);
    std::byte tmpl[syn_len];
    uint64_t tmpl_mac = 0;
    uint32_t arp_seen = 0;
    bool arp_pending = false;
    unsigned idle = 0;
    int64_t flood_started = 0;
    uint64_t flood_credit_at_start = 0;
    const uint64_t gw = mac_word(reinterpret_cast<const std::byte*>(s.a->info().mac.b.data()));
    while (!g_stop.load(std::memory_order_relaxed)) {
        bool busy = false;
        const uint32_t seq = s.arp_req_seq.load(std::memory_order_acquire);
        if (seq != arp_seen) {
            arp_seen = seq;
            arp_pending = true;
        }
        if (arp_pending) {  // before the flood takes the buffers back
            arp_pending = !send_gateway_arp_reply(s, dst);
            busy = true;
        }
        unsigned n = src.rx_burst(std::span(in.data(), in.size()));
        if (n) {
            busy = true;
            unsigned m = 0;
            for (unsigned k = 0; k < n; ++k) {
                if (in[k].len >= eth_len && load_be16(in[k].data + 12) == ethertype_ipv4 &&
                    r.chance(o.loss)) {
                    s.up.lost.fetch_add(1, std::memory_order_relaxed);
                    continue;
                }
                keep[m++] = k;
            }
            forward(dst, in.data(), keep.data(), m, out, s.up);
            src.release(std::span(in.data(), n));
            s.up.frames.fetch_add(n, std::memory_order_relaxed);
        }
        const bool flooding = g_flood.load(std::memory_order_relaxed) && o.flood_port != 0;
        if (flooding && !flood_started) {
            flood_started = now_ns();
            flood_credit_at_start = s.up.flood_sent.load(std::memory_order_relaxed);
        } else if (!flooding && flood_started) {
            s.up.flood_ns.fetch_add(now_ns() - flood_started, std::memory_order_relaxed);
            flood_started = 0;
        }
        if (flooding) {
            busy = true;
            const uint64_t smac = s.server_mac.load(std::memory_order_relaxed);
            if (!(smac >> 63)) {
                s.up.flood_no_mac.fetch_add(1, std::memory_order_relaxed);
            } else {
                if (tmpl_mac != smac) {
                    build_syn_template(tmpl, gw, smac & 0xffffffffffffull, o);
                    tmpl_mac = smac;
                }
                unsigned want = o.burst;
                if (o.flood_pps) {  // paced: what the elapsed time allows
                    const double el = double(now_ns() - flood_started) * 1e-9;
                    const uint64_t allowed = uint64_t(el * double(o.flood_pps));
                    const uint64_t done =
                        s.up.flood_sent.load(std::memory_order_relaxed) - flood_credit_at_start;
                    want = unsigned(std::min<uint64_t>(want, allowed > done ? allowed - done : 0));
                }
                unsigned k = want ? dst.alloc_tx(std::span(fl.data(), want)) : 0;
                if (want) {
                    s.up.flood_bursts.fetch_add(1, std::memory_order_relaxed);
                    if (k < want) s.up.flood_ring_full.fetch_add(1, std::memory_order_relaxed);
                }
                for (unsigned i = 0; i < k; ++i) {
                    std::memcpy(fl[i].data, tmpl, syn_len);
                    stamp_syn(fl[i].data, fr);
                    fl[i].len = syn_len;
                }
                unsigned sent = dst.tx_burst(std::span(fl.data(), k));
                if (sent < k) dst.free_tx(std::span(fl.data() + sent, k - sent));
                s.up.flood_sent.fetch_add(sent, std::memory_order_relaxed);
            }
        }
        dst.flush();
        if (busy) {
            idle = 0;
        } else if (++idle >= idle_spins) {
            src.wait(idle_wait_ns);
            idle = 0;
        }
    }
    if (flood_started) s.up.flood_ns.fetch_add(now_ns() - flood_started, std::memory_order_relaxed);
}

void print_stats(shared& s, double t, bool final) {
    auto ld = [](const std::atomic<uint64_t>& x) { return x.load(std::memory_order_relaxed); };
    const auto& d = s.down;
    const auto& u = s.up;
    const double flood_s = double(u.flood_ns.load()) * 1e-9;
    std::printf("{\"%s\":%.3f,\"down\":{\"frames\":%" PRIu64 ",\"forwarded\":%" PRIu64
                ",\"lost\":%" PRIu64 ",\"to_gateway\":%" PRIu64 ",\"synacks_to_gateway\":%" PRIu64
                ",\"rsts_to_gateway\":%" PRIu64 ",\"gateway_arp_requests\":%" PRIu64
                ",\"tx_full_waits\":%" PRIu64 "},\"up\":{\"frames\":%" PRIu64
                ",\"forwarded\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"flood_sent\":%" PRIu64
                ",\"flood_no_mac\":%" PRIu64 ",\"arp_replies\":%" PRIu64
                ",\"tx_full_waits\":%" PRIu64 ",\"flood_bursts\":%" PRIu64
                ",\"flood_ring_full\":%" PRIu64 ",\"flood_seconds\":%.3f}}\n",
                final ? "final" : "t", t, ld(d.frames), ld(d.forwarded), ld(d.lost),
                ld(d.to_gateway), ld(d.synacks_to_gateway), ld(d.rsts_to_gateway),
                ld(d.gateway_arp_requests), ld(d.tx_full_waits), ld(u.frames), ld(u.forwarded),
                ld(u.lost), ld(u.flood_sent), ld(u.flood_no_mac), ld(u.arp_replies),
                ld(u.tx_full_waits), ld(u.flood_bursts), ld(u.flood_ring_full), flood_s);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    netio::port_config pc;
    pc.ring_size = o.ring;
    pc.buf_size = o.buf;
    auto a = netio::open_port(o.a, pc);
    if (!a) {
        std::fprintf(stderr, "mvnf-rob-bridge: %s\n", a.error().message.c_str());
        return 1;
    }
    auto b = netio::open_port(o.b, pc);
    if (!b) {
        std::fprintf(stderr, "mvnf-rob-bridge: %s\n", b.error().message.c_str());
        return 1;
    }
    mvnf::rob::on_signals(on_stop, {SIGINT, SIGTERM});
    mvnf::rob::on_signals(on_flood_on, {SIGUSR1});
    mvnf::rob::on_signals(on_flood_off, {SIGUSR2});
    if (o.flood_now) g_flood.store(true);

    shared s;
    s.o = &o;
    s.a = a.value().get();
    s.b = b.value().get();
    std::printf("{\"event\":\"ready\",\"mac_a\":\"%s\",\"mac_b\":\"%s\"}\n",
                s.a->info().mac.str().c_str(), s.b->info().mac.str().c_str());
    std::fflush(stdout);

    std::thread down(down_loop, std::ref(s));
    std::thread up(up_loop, std::ref(s));
    const int64_t t0 = now_ns();
    int64_t next_stats = t0 + int64_t(o.stats_ms) * 1000000;
    bool seen_a = false, seen_b = false;
    while (!g_stop.load()) {
        timespec ts{0, 10'000'000};
        nanosleep(&ts, nullptr);
        const int64_t now = now_ns();
        if (o.duration > 0 && double(now - t0) * 1e-9 >= o.duration) break;
        // A peer that was attached and is gone ends the run (its link is finished).
        const bool alive_a = s.a->peer_alive(), alive_b = s.b->peer_alive();
        seen_a |= alive_a, seen_b |= alive_b;
        if ((seen_a && !alive_a) || (seen_b && !alive_b)) break;
        if (now >= next_stats) {
            print_stats(s, double(now - t0) * 1e-9, false);
            next_stats += int64_t(o.stats_ms) * 1000000;
        }
    }
    g_stop.store(true);
    down.join();
    up.join();
    print_stats(s, double(now_ns() - t0) * 1e-9, true);
    return 0;
}
