// dist_bench: packets per second through the sw dispatcher to 1 and 2 stack
// cores against the direct hw path (core reads its port queue), 64-byte
// frames over one shm link inside this process. Results go to docs/dist.md.
//
//   dist_bench [seconds=2] [mode=all|hw1|hw2|sw1|sw2|sw1split|sw2split]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "common/bytes.hpp"
#include "dist/engine.hpp"

using namespace mvnf;
using namespace std::chrono;

namespace {

std::vector<std::byte> frame64(uint32_t flow) {
    std::vector<std::byte> f(64);
    const uint8_t eth[14] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00};
    std::memcpy(f.data(), eth, 14);
    std::byte* ip = f.data() + 14;
    store8(ip, 0x45);
    store_be16(ip + 2, 50);
    store8(ip + 8, 64);
    store8(ip + 9, 17);
    store_be32(ip + 12, 0x0a000000u | flow);
    store_be32(ip + 16, 0x0a010001u);
    store_be16(ip + 20, uint16_t(1024 + flow * 7919));  // not a copy of the address bits: the symmetric key would cancel them
    store_be16(ip + 22, 9);
    return f;
}

struct result_row {
    double rx_mpps, tx_mpps;
    uint64_t dropped;
};

result_row run(const std::string& name, dist::mode m, dist::layout lay, unsigned ncores,
               double seconds) {
    std::string spec = "shm:dist_bench_" + std::to_string(getpid()) + "_" + name;
    netio::port_config pc;
    pc.num_queues = m == dist::mode::hw ? ncores : 1;
    auto a = netio::open_port(spec, pc);
    auto b = a ? netio::open_port(spec, pc) : decltype(a)(fail(netio::error{}));
    if (!a || !b) {
        std::fprintf(stderr, "open %s: %s\n", spec.c_str(),
                     (!a ? a.error() : b.error()).message.c_str());
        return {0, 0, 0};
    }
    netio::port& gen = **a;
    dist::engine_config cfg;
    cfg.dist_mode = m;
    cfg.dist_layout = lay;
    cfg.ncores = ncores;
    auto e = dist::engine::create(**b, cfg);
    if (!e) {
        std::fprintf(stderr, "%s\n", e.error().message.c_str());
        return {0, 0, 0};
    }
    (*e)->start();
    std::atomic<bool> stop{false};
    std::vector<std::atomic<uint64_t>> got(ncores);
    std::atomic<uint64_t> sent{0};
    std::vector<std::thread> th;
    for (unsigned c = 0; c < ncores; ++c)
        th.emplace_back([&, c] {
            netio::queue& q = (*e)->core_queue(c);
            netio::packet p[32];
            uint64_t n_total = 0, sink = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                unsigned n = q.rx_burst(p);
                if (!n) {
                    q.wait(1'000'000);
                    continue;
                }
                for (unsigned i = 0; i < n; ++i) sink += uint8_t(p[i].data[23]);  // touch the frame
                q.release(std::span(p, n));
                n_total += n;
            }
            got[c] = n_total + (sink & 0);
        });
    std::vector<std::vector<std::byte>> frames;
    for (uint32_t f = 0; f < 256; ++f) frames.push_back(frame64(f));
    th.emplace_back([&] {
        netio::packet p[32];
        uint64_t n_total = 0;
        uint32_t fi = 0;
        while (!stop.load(std::memory_order_relaxed)) {
            unsigned k = gen.q(0).alloc_tx(p);
            for (unsigned i = 0; i < k; ++i) {
                std::memcpy(p[i].data, frames[fi++ & 255].data(), 64);
                p[i].len = 64;
            }
            unsigned acc = gen.q(0).tx_burst(std::span(p, k));
            gen.q(0).free_tx(std::span(p + acc, k - acc));
            gen.q(0).flush();
            n_total += acc;
            if (!k) std::this_thread::yield();
        }
        sent = n_total;
    });
    std::this_thread::sleep_for(duration<double>(seconds));
    stop = true;
    for (auto& t : th) t.join();
    uint64_t total = 0;
    for (auto& g : got) total += g;
    auto c = (*e)->read_counters();
    if (getenv("DIST_BENCH_VERBOSE") && m == dist::mode::sw)
        for (unsigned i = 0; i < ncores; ++i)
            std::fprintf(stderr, "  core %u: delivered %llu via_overflow %llu sleeps %llu wakeups %llu; dispatcher sleeps %llu\n", i,
                         (unsigned long long)c.cores[i].rx_delivered,
                         (unsigned long long)c.cores[i].rx_via_overflow,
                         (unsigned long long)c.cores[i].core_sleeps,
                         (unsigned long long)c.cores[i].core_wakeups,
                         (unsigned long long)c.dispatcher_sleeps);
    (*e)->stop();
    return {total / seconds / 1e6, sent / seconds / 1e6, c.rx_dropped()};
}

}  // namespace

int main(int argc, char** argv) {
    double secs = argc > 1 ? std::atof(argv[1]) : 2.0;
    std::string which = argc > 2 ? argv[2] : "all";
    struct cfg {
        const char* name;
        dist::mode m;
        dist::layout lay;
        unsigned n;
    };
    const cfg cases[] = {
        {"hw1", dist::mode::hw, dist::layout::single, 1},
        {"sw1", dist::mode::sw, dist::layout::single, 1},
        {"sw1split", dist::mode::sw, dist::layout::split, 1},
        {"hw2", dist::mode::hw, dist::layout::single, 2},
        {"sw2", dist::mode::sw, dist::layout::single, 2},
        {"sw2split", dist::mode::sw, dist::layout::split, 2},
    };
    std::printf("%-9s %6s %12s %12s %10s\n", "case", "cores", "rx Mpps", "gen Mpps", "dropped");
    for (const auto& c : cases) {
        if (which != "all" && which != c.name) continue;
        auto r = run(c.name, c.m, c.lay, c.n, secs);
        std::printf("%-9s %6u %12.2f %12.2f %10llu\n", c.name, c.n, r.rx_mpps, r.tx_mpps,
                    (unsigned long long)r.dropped);
    }
    return 0;
}
