// dist_bench: packets per second through the sw dispatcher to 1 and 2 stack
// cores against the direct hw path (core reads its port queue), 64-byte
// frames over one shm link inside this process. Results go to docs/dist.md.
//
//   dist_bench [seconds=2] [case=all]         wall clock, threads pinned
//   dist_bench --count N [case=all]           lockstep: one thread plays
//       generator, dispatcher and core in turn, N frames; deterministic work,
//       for instruction counts (valgrind --tool=callgrind; see docs/dist.md)
//   dist_bench --time N [case=all]            the same lockstep, timed: ns per
//       frame of the receive side (dispatcher round + core rounds, also
//       apart) and of the generator, on one pinned CPU (DIST_BENCH_CPUS'
//       first entry, default 1)
//
// Cases: hw1 hw2 sw1 sw2 sw1split sw2split, with a stand-in core that only
// touches each frame (the dispatcher's own cost at its largest share), and
// the same six with "-stack" (hw1-stack ...): each core runs the per-core
// stack with a UDP socket, as a UDP server does. Pinning (wall clock): the
// generator on CPU 0; everything on the receiving side (hw cores, or the
// dispatcher thread(s) and the sw cores) on CPU 1 when the machine has 2
// CPUs, so both modes get the same receive-side CPU budget; with >= 4 CPUs
// dispatcher and cores get CPUs of their own (printed per case);
// DIST_BENCH_CPUS=gen,disp,txdisp,core0[,core1] sets them by hand.
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/bytes.hpp"
#include "dist/engine.hpp"
#include "net/stack.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/udp.hpp"

using namespace mvnf;
using namespace std::chrono;

namespace {

// The receiving stacks' address (every core of the device under test has it,
// as every core of a VNF does) and the UDP port they listen on.
constexpr ipv4_addr dut_ip{10, 1, 0, 1};
constexpr uint16_t sink_port = 9;

// A 64-octet Ethernet frame (FCS not counted) carrying a UDP datagram of 22
// octets from flow `flow` to dut_ip:sink_port, with valid IPv4 and UDP
// checksums, so a real stack accepts it.
std::vector<std::byte> frame64(uint32_t flow, const mac_addr& dst, const mac_addr& src) {
    std::vector<std::byte> f(64);
    std::memcpy(f.data(), dst.b.data(), 6);
    std::memcpy(f.data() + 6, src.b.data(), 6);
    store_be16(f.data() + 12, wire::ethertype::ipv4);
    constexpr uint16_t payload = 64 - 14 - 20 - 8;
    std::byte* ip = f.data() + 14;
    std::byte* udp = ip + 20;
    for (uint16_t i = 0; i < payload; ++i) store8(udp + 8 + i, uint8_t(flow + i));
    // The source port is not a copy of the address bits: the symmetric key
    // would cancel them.
    const ipv4_addr src_ip(0x0a000000u | flow);
    wire::udp_repr{uint16_t(1024 + flow * 7919), sink_port, payload}.emit(udp, src_ip, dut_ip);
    wire::ipv4_repr h;
    h.src = src_ip;
    h.dst = dut_ip;
    h.protocol = wire::ipproto::udp;
    h.payload_len = 8 + payload;
    h.emit(ip);
    return f;
}

void pin_self(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

struct bench_case {
    const char* name;
    dist::mode m;
    dist::layout lay;
    unsigned n;
    bool stack = false;  // cores run the per-core stack (UDP sink), not the stand-in
};

// Which CPU each role runs on (wall-clock mode).
struct placement {
    int gen = -1, rx = -1, tx = -1;
    std::vector<int> cores;
    std::string describe(const bench_case& c) const {
        std::string s = "gen@" + std::to_string(gen);
        if (c.m == dist::mode::sw) {
            s += " disp@" + std::to_string(rx);
            if (c.lay == dist::layout::split) s += " txdisp@" + std::to_string(tx);
        }
        for (unsigned i = 0; i < cores.size(); ++i)
            s += " core" + std::to_string(i) + "@" + std::to_string(cores[i]);
        return s;
    }
};

placement place(const bench_case& c) {
    placement p;
    // DIST_BENCH_CPUS=gen,disp,txdisp,core0,core1 overrides (-1: unpinned).
    if (const char* env = getenv("DIST_BENCH_CPUS")) {
        std::vector<int> v;
        for (const char* q = env; *q;) {
            char* end = nullptr;
            v.push_back(int(std::strtol(q, &end, 10)));
            q = *end == ',' ? end + 1 : end;
            if (end == q && *q != ',') break;
        }
        v.resize(3 + c.n, -1);
        p.gen = v[0];
        p.rx = v[1];
        p.tx = v[2];
        p.cores.assign(v.begin() + 3, v.begin() + 3 + c.n);
        return p;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    p.gen = 0;
    if (ncpu < 2) {
        p.gen = -1;
        p.cores.assign(c.n, -1);
        return p;
    }
    if (ncpu < 4) {  // 2-3 CPUs: the whole receive side shares CPU 1
        p.rx = p.tx = 1;
        p.cores.assign(c.n, 1);
        return p;
    }
    int next = 1;
    if (c.m == dist::mode::sw) {
        p.rx = next++;
        p.tx = c.lay == dist::layout::split ? next++ : p.rx;
    }
    for (unsigned i = 0; i < c.n; ++i) p.cores.push_back(next < ncpu ? next++ : int(ncpu - 1));
    return p;
}

// One receiving core: its queue from the engine and, in the stack cases, the
// per-core stack driving that queue with one UDP socket bound to sink_port
// (what a UDP server's core runs: poll, then drain the socket).
struct core_rx {
    netio::queue* q = nullptr;
    std::unique_ptr<net::stack> st;
    int sock = -1;
    uint64_t datagrams = 0;  // read from the socket
};

struct link {
    std::unique_ptr<netio::port> gen, dut;
    std::unique_ptr<dist::engine> eng;
    std::vector<core_rx> cores;
};

bool open_link(const bench_case& c, const placement& pl, link& l) {
    std::string spec = "shm:dist_bench_" + std::to_string(getpid()) + "_" + c.name;
    netio::port_config pc;
    pc.num_queues = c.m == dist::mode::hw ? c.n : 1;
    auto a = netio::open_port(spec, pc);
    if (!a) {
        std::fprintf(stderr, "open %s: %s\n", spec.c_str(), a.error().message.c_str());
        return false;
    }
    auto b = netio::open_port(spec, pc);
    if (!b) {
        std::fprintf(stderr, "open %s: %s\n", spec.c_str(), b.error().message.c_str());
        return false;
    }
    l.gen = std::move(*a);
    l.dut = std::move(*b);
    dist::engine_config cfg;
    cfg.dist_mode = c.m;
    cfg.dist_layout = c.lay;
    cfg.ncores = c.n;
    cfg.rx_cpu = pl.rx;
    cfg.tx_cpu = pl.tx;
    auto e = dist::engine::create(*l.dut, cfg);
    if (!e) {
        std::fprintf(stderr, "%s\n", e.error().message.c_str());
        return false;
    }
    l.eng = std::move(*e);
    l.cores.resize(c.n);
    for (unsigned i = 0; i < c.n; ++i) {
        core_rx& k = l.cores[i];
        k.q = &l.eng->core_queue(i);
        if (!c.stack) continue;
        net::stack_config sc;
        sc.ip = dut_ip;
        sc.netmask = ipv4_addr{255, 255, 0, 0};
        sc.mac = l.dut->info().mac;
        k.st = std::make_unique<net::stack>(sc, *k.q);
        auto s = k.st->udp_open();
        if (!s || !k.st->udp_bind(*s, sink_port)) {
            std::fprintf(stderr, "core %u: cannot open the UDP sink socket\n", i);
            return false;
        }
        k.sock = *s;
    }
    return true;
}

// One generator burst: up to 32 frames copied in and sent.
[[gnu::noinline]] unsigned gen_round(netio::queue& q,
                                     const std::vector<std::vector<std::byte>>& frames,
                                     uint32_t& fi) {
    netio::packet p[32];
    unsigned k = q.alloc_tx(p);
    for (unsigned i = 0; i < k; ++i) {
        std::memcpy(p[i].data, frames[fi++ & 255].data(), 64);
        p[i].len = 64;
    }
    unsigned acc = q.tx_burst(std::span(p, k));
    q.free_tx(std::span(p + acc, k - acc));
    q.flush();
    return acc;
}

// The stand-in for a stack core: receive up to 32, touch each frame, release.
// Leaves the dispatcher's own cost as large a share as it can be.
[[gnu::noinline]] unsigned core_round(netio::queue& q, uint64_t& sink) {
    netio::packet p[32];
    unsigned n = q.rx_burst(p);
    for (unsigned i = 0; i < n; ++i) sink += uint8_t(p[i].data[23]);
    if (n) q.release(std::span(p, n));
    return n;
}

// A stack core: one iteration of the per-core stack (a burst through
// Ethernet, IPv4 and UDP into the socket, timers, flush), then the
// application's side, every queued datagram read out of the socket.
[[gnu::noinline]] unsigned stack_round(core_rx& k, uint64_t& sink, net::nanos now) {
    const unsigned n = k.st->poll(now);
    std::byte buf[64];
    for (;;) {
        auto d = k.st->udp_recvfrom(k.sock, buf);
        if (!d) break;
        sink += uint8_t(buf[0]);
        ++k.datagrams;
    }
    return n;
}

unsigned receive(core_rx& k, uint64_t& sink, net::nanos now) {
    return k.st ? stack_round(k, sink, now) : core_round(*k.q, sink);
}

// In the stack cases every frame must have become a datagram read by the
// application; otherwise the run measured a drop path, not the receive path.
bool stacks_delivered_all(const link& l, uint64_t frames) {
    if (l.cores.empty() || !l.cores[0].st) return true;
    uint64_t datagrams = 0;
    for (const core_rx& k : l.cores) datagrams += k.datagrams;
    if (datagrams == frames) return true;
    std::fprintf(stderr, "stack cores read %llu datagrams of %llu frames received\n",
                 (unsigned long long)datagrams, (unsigned long long)frames);
    return false;
}

std::vector<std::vector<std::byte>> make_frames(const link& l) {
    std::vector<std::vector<std::byte>> frames;
    for (uint32_t f = 0; f < 256; ++f)
        frames.push_back(frame64(f, l.dut->info().mac, l.gen->info().mac));
    return frames;
}

uint64_t now_ns() {
    return uint64_t(duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count());
}

struct result_row {
    double rx_mpps, tx_mpps;
    uint64_t dropped;
};

result_row run_wall(const bench_case& bc, double seconds) {
    placement pl = place(bc);
    std::printf("  [%s: %s]\n", bc.name, pl.describe(bc).c_str());
    link l;
    if (!open_link(bc, pl, l)) return {0, 0, 0};
    dist::engine& e = *l.eng;
    e.start();
    std::atomic<bool> stop{false};
    std::vector<std::atomic<uint64_t>> got(bc.n);
    std::atomic<uint64_t> sent{0};
    std::vector<std::thread> th;
    for (unsigned c = 0; c < bc.n; ++c)
        th.emplace_back([&, c] {
            pin_self(pl.cores[c]);
            core_rx& k = l.cores[c];
            uint64_t n_total = 0, sink = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                // Only a stack reads the time: the stand-in rounds pay no clock read.
                unsigned n = receive(k, sink, k.st ? now_ns() : 0);
                if (!n) k.q->wait(1'000'000);
                n_total += n;
            }
            got[c] = n_total + (sink & 0);
        });
    auto frames = make_frames(l);
    th.emplace_back([&] {
        pin_self(pl.gen);
        netio::queue& q = l.gen->q(0);
        uint64_t n_total = 0;
        uint32_t fi = 0;
        while (!stop.load(std::memory_order_relaxed)) {
            unsigned acc = gen_round(q, frames, fi);
            n_total += acc;
            if (!acc) std::this_thread::yield();
        }
        sent = n_total;
    });
    std::this_thread::sleep_for(duration<double>(seconds));
    stop = true;
    for (auto& t : th) t.join();
    uint64_t total = 0;
    for (auto& g : got) total += g;
    auto c = e.read_counters();
    if (getenv("DIST_BENCH_VERBOSE") && bc.m == dist::mode::sw)
        for (unsigned i = 0; i < bc.n; ++i)
            std::fprintf(stderr,
                         "  core %u: delivered %llu via_overflow %llu sleeps %llu wakeups %llu; "
                         "dispatcher sleeps %llu\n",
                         i, (unsigned long long)c.cores[i].rx_delivered,
                         (unsigned long long)c.cores[i].rx_via_overflow,
                         (unsigned long long)c.cores[i].core_sleeps,
                         (unsigned long long)c.cores[i].core_wakeups,
                         (unsigned long long)c.dispatcher_sleeps);
    e.stop();
    return {total / seconds / 1e6, sent / seconds / 1e6, c.rx_dropped()};
}

// One receive-side round as the lockstep and interleaved modes run it: the
// dispatcher round (sw: RX step, then the TX step in the single layout),
// then one burst per core.
unsigned receive_round(const bench_case& bc, link& l, uint64_t& sink, net::nanos now) {
    if (bc.m == dist::mode::sw) l.eng->poll_once(true, bc.lay == dist::layout::single);
    unsigned got = 0;
    for (core_rx& k : l.cores) got += receive(k, sink, now);
    return got;
}

// Lockstep: generator burst, dispatcher round (sw), one burst per core, until
// `count` frames were consumed. No spinning, no sleeping: every instruction
// executed is per-frame work, so callgrind's totals divided by the count are
// the per-packet cost (take the difference of two counts to cancel set-up).
// The stacks' clock is virtual here (1 us per round), as in the stack's tests.
// Returns false when a stack case lost frames on the way to its sockets.
bool run_lockstep(const bench_case& bc, uint64_t count, uint64_t& got) {
    link l;
    if (!open_link(bc, placement{}, l)) return false;
    auto frames = make_frames(l);
    netio::queue& gq = l.gen->q(0);
    uint64_t sink = 0;
    uint32_t fi = 0;
    net::nanos now = net::sec(1);
    got = 0;
    while (got < count) {
        gen_round(gq, frames, fi);
        got += receive_round(bc, l, sink, now += 1000);
    }
    if (bc.m == dist::mode::sw) l.eng->poll_once(true, false);  // return the last released buffers
    return stacks_delivered_all(l, got + (sink & 0));
}

// Timed lockstep: the generator's, the dispatcher round's and the cores'
// time per frame, on one CPU, caches warm, no other thread. Each interval is
// one pair of now() reads; the clock's own cost (measured) is subtracted.
struct timed_row {
    double gen_ns, disp_ns, core_ns;
};
timed_row run_timed(const bench_case& bc, uint64_t count, int cpu) {
    pin_self(cpu);
    link l;
    if (!open_link(bc, placement{}, l)) return {0, 0, 0};
    dist::engine& e = *l.eng;
    auto frames = make_frames(l);
    netio::queue& gq = l.gen->q(0);
    uint64_t sink = 0;
    uint32_t fi = 0;
    net::nanos now = net::sec(1);
    // Warm up (page faults, caches), then measure.
    for (uint64_t got = 0; got < 100000;) {
        gen_round(gq, frames, fi);
        got += receive_round(bc, l, sink, now += 1000);
    }
    // The clock's cost per read: the cheapest of 100 batches, so a batch the
    // scheduler interrupted does not inflate it (and deflate the results).
    uint64_t clock_cost = UINT64_MAX;
    for (int b = 0; b < 100; ++b) {
        const uint64_t t = now_ns();
        for (int i = 0; i < 1000; ++i) sink += now_ns() & 1;
        clock_cost = std::min(clock_cost, (now_ns() - t) / 1000);
    }
    const bool sw = bc.m == dist::mode::sw;
    const bool tx = sw && bc.lay == dist::layout::single;
    uint64_t got = 0, gen_ns = 0, disp_ns = 0, core_ns = 0, rounds = 0;
    while (got < count) {
        uint64_t t0 = now_ns();
        gen_round(gq, frames, fi);
        uint64_t t1 = now_ns();
        if (sw) e.poll_once(true, tx);
        uint64_t t2 = now_ns();
        now += 1000;
        for (core_rx& k : l.cores) got += receive(k, sink, now);
        uint64_t t3 = now_ns();
        gen_ns += t1 - t0;
        disp_ns += t2 - t1;
        core_ns += t3 - t2;
        ++rounds;
    }
    const double corr = double(rounds * clock_cost), n = double(got);
    std::fprintf(stderr, "  [%s: clock %llu ns per read, %llu rounds]\n", bc.name,
                 (unsigned long long)clock_cost, (unsigned long long)(rounds + (sink & 0)));
    return {(double(gen_ns) - corr) / n, sw ? (double(disp_ns) - corr) / n : 0,
            (double(core_ns) - corr) / n};
}

}  // namespace

int main(int argc, char** argv) {
    int a = 1;
    uint64_t count = 0;
    double secs = 2.0;
    bool timed = false;
    if (argc > 2 && (std::string(argv[1]) == "--count" || std::string(argv[1]) == "--time")) {
        timed = std::string(argv[1]) == "--time";
        count = std::strtoull(argv[2], nullptr, 10);
        a = 3;
    } else if (argc > 1) {
        secs = std::atof(argv[1]);
        a = 2;
    }
    std::string which = argc > a ? argv[a] : "all";
    const bench_case cases[] = {
        {"hw1", dist::mode::hw, dist::layout::single, 1},
        {"sw1", dist::mode::sw, dist::layout::single, 1},
        {"sw1split", dist::mode::sw, dist::layout::split, 1},
        {"hw2", dist::mode::hw, dist::layout::single, 2},
        {"sw2", dist::mode::sw, dist::layout::single, 2},
        {"sw2split", dist::mode::sw, dist::layout::split, 2},
        // The same with the per-core stack behind each queue: the cost a UDP
        // server's cores see, the dispatcher's share of it included.
        {"hw1-stack", dist::mode::hw, dist::layout::single, 1, true},
        {"sw1-stack", dist::mode::sw, dist::layout::single, 1, true},
        {"sw1split-stack", dist::mode::sw, dist::layout::split, 1, true},
        {"hw2-stack", dist::mode::hw, dist::layout::single, 2, true},
        {"sw2-stack", dist::mode::sw, dist::layout::single, 2, true},
        {"sw2split-stack", dist::mode::sw, dist::layout::split, 2, true},
    };
    if (timed) {
        placement pl;
        if (const char* env = getenv("DIST_BENCH_CPUS"))
            pl.gen = std::atoi(env);
        else
            pl.gen = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : -1;
        std::printf("%-14s %12s %12s %12s %12s\n", "case", "recv ns/pkt", "disp ns/pkt",
                    "cores ns/pkt", "gen ns/pkt");
        for (const auto& c : cases) {
            if (which != "all" && which != c.name) continue;
            auto r = run_timed(c, count, pl.gen);
            std::printf("%-14s %12.2f %12.2f %12.2f %12.2f\n", c.name, r.disp_ns + r.core_ns,
                        r.disp_ns, r.core_ns, r.gen_ns);
        }
        return 0;
    }
    if (count) {
        int rc = 0;
        for (const auto& c : cases) {
            if (which != "all" && which != c.name) continue;
            uint64_t got = 0;
            if (!run_lockstep(c, count, got)) rc = 1;
            std::printf("%-14s lockstep %llu frames consumed\n", c.name, (unsigned long long)got);
        }
        return rc;
    }
    std::printf("%-14s %6s %12s %12s %10s\n", "case", "cores", "rx Mpps", "gen Mpps", "dropped");
    for (const auto& c : cases) {
        if (which != "all" && which != c.name) continue;
        auto r = run_wall(c, secs);
        std::printf("%-14s %6u %12.2f %12.2f %10llu\n", c.name, c.n, r.rx_mpps, r.tx_mpps,
                    (unsigned long long)r.dropped);
    }
    return 0;
}
