// mvnf-pktgen: netmap pkt-gen's role for the netio layer. Sends, receives
// and reflects UDP/IPv4 frames over any backend opened by open_port(), one
// thread per queue, printing rates once a second and a summary at the end.
// Used by scripts/demo.sh and bench/pktgen/run.sh; see docs/tools/pktgen.md.
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "frame.hpp"
#include "netio/port.hpp"
#include "netio/rss/rss.hpp"
#include "options.hpp"
#include "rx_account.hpp"

using namespace mvnf;
using namespace mvnf::pktgen;

namespace {

std::atomic<bool> g_stop{false};        // Ctrl-C, duration or count reached
std::atomic<bool> g_peer_left{false};   // the peer was there and is gone
std::atomic<bool> g_peer_seen{false};

void on_signal(int) { g_stop.store(true); }

int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Per-thread counters, written by one worker and read by the main thread.
// rx fills all of them (see rx_account.hpp for their meaning; packets is
// `received`); the other modes packets, bytes and bad.
struct alignas(64) counters {
    std::atomic<uint64_t> packets{0}, bytes{0}, bad{0}, stray{0}, dup{0}, unique{0}, ooo{0},
        lost{0};
    std::atomic<int64_t> first_ns{0}, last_ns{0};
};

struct rtt_stats {
    std::vector<uint32_t> samples_ns;  // reserved up front; the ping loop never grows it
    uint64_t lost = 0;
};

struct shared {
    const options* o = nullptr;
    netio::port* p = nullptr;
    std::vector<counters> c;
    std::vector<rtt_stats> rtt;
};

void pin(const options& o, unsigned k) {
    if (o.cpus.empty()) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(o.cpus[k % o.cpus.size()], &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
        std::fprintf(stderr, "mvnf-pktgen: warning: cannot pin thread %u to cpu %d\n", k,
                     o.cpus[k % o.cpus.size()]);
}

// Busy-polls a little, then blocks: an idle receiver must not spin forever.
constexpr unsigned idle_spins = 512;
constexpr int64_t idle_wait_ns = 100'000'000;

void tx_loop(shared& s, unsigned qi) {
    const options& o = *s.o;
    netio::queue& q = s.p->q(qi);
    counters& c = s.c[qi];
    auto t = std::make_unique<frame_template>();
    build_template(*t, o.frame_len, s.p->info().mac, mac_addr{{0x02, 0, 0, 0, 0, 0x02}}, k_data,
                   uint8_t(qi));
    uint64_t limit = o.count ? o.count / o.queues + (qi < o.count % o.queues ? 1 : 0) : UINT64_MAX;
    std::vector<netio::packet> pk(o.burst);
    uint64_t seq = 0, bytes = 0;
    c.first_ns = now_ns();
    while (seq < limit && !g_stop.load(std::memory_order_relaxed)) {
        unsigned want = unsigned(std::min<uint64_t>(o.burst, limit - seq));
        unsigned n = q.alloc_tx(std::span(pk.data(), want));
        if (n == 0) {  // every buffer is with the receiver: let it catch up
            if (g_peer_left.load(std::memory_order_relaxed)) break;
            std::this_thread::yield();
            continue;
        }
        for (unsigned k = 0; k < n; ++k) {
            std::memcpy(pk[k].data, t->bytes, o.frame_len);
            // 4096 source ports per sender: RSS spreads them over the queues.
            stamp(pk[k].data, *t, uint16_t(1024 + ((seq + k) & 4095)), seq + k);
            pk[k].len = o.frame_len;
        }
        unsigned sent = q.tx_burst(std::span(pk.data(), n));
        if (sent < n) q.free_tx(std::span(pk.data() + sent, n - sent));
        q.flush();
        seq += sent;
        bytes += uint64_t(sent) * o.frame_len;
        c.packets.store(seq, std::memory_order_relaxed);
        c.bytes.store(bytes, std::memory_order_relaxed);
    }
    q.flush();
    c.last_ns = now_ns();
}

void rx_loop(shared& s, unsigned qi) {
    const options& o = *s.o;
    netio::queue& q = s.p->q(qi);
    counters& c = s.c[qi];
    std::vector<netio::packet> pk(o.burst);
    rx_account acc;
    unsigned idle = 0;
    bool drained_after_peer_left = false;
    for (;;) {
        if (g_stop.load(std::memory_order_relaxed)) break;
        if (o.count && c.packets.load(std::memory_order_relaxed) >= o.count) break;
        unsigned n = q.rx_burst(std::span(pk.data(), pk.size()));
        if (n == 0) {
            if (g_peer_left.load(std::memory_order_relaxed)) {
                // The sender closed: whatever it sent is already in our rings.
                if (drained_after_peer_left) break;
                drained_after_peer_left = true;
                continue;
            }
            if (++idle >= idle_spins) {
                q.wait(idle_wait_ns);
                idle = 0;
            }
            continue;
        }
        idle = 0;
        if (acc.counts().received == 0) c.first_ns = now_ns();
        for (unsigned k = 0; k < n; ++k) {
            parsed f{};
            if (!check_frame(pk[k].data, pk[k].len, f, o.verify) || f.kind != k_data)
                acc.bad(pk[k].len);
            else
                acc.frame(f.sender, f.seq, pk[k].len);
        }
        q.release(std::span(pk.data(), n));
        // With one queue every frame of a sender comes here, so a gap is a
        // loss; with several, the other numbers went to the other queues and
        // only duplicates, late frames and strays mean something per queue.
        const rx_counts a = acc.counts();
        c.packets.store(a.received, std::memory_order_relaxed);
        c.bytes.store(a.bytes, std::memory_order_relaxed);
        c.bad.store(a.bad, std::memory_order_relaxed);
        c.stray.store(a.stray, std::memory_order_relaxed);
        c.dup.store(a.duplicate, std::memory_order_relaxed);
        c.unique.store(a.accepted, std::memory_order_relaxed);
        c.ooo.store(a.out_of_order, std::memory_order_relaxed);
        c.lost.store(a.lost, std::memory_order_relaxed);
        c.last_ns.store(now_ns(), std::memory_order_relaxed);
    }
}

void pong_loop(shared& s, unsigned qi) {
    const options& o = *s.o;
    netio::queue& q = s.p->q(qi);
    counters& c = s.c[qi];
    std::vector<netio::packet> in(o.burst), out(o.burst);
    uint64_t packets = 0, bytes = 0, bad = 0;
    unsigned idle = 0;
    while (!g_stop.load(std::memory_order_relaxed)) {
        unsigned n = q.rx_burst(std::span(in.data(), in.size()));
        if (n == 0) {
            if (g_peer_left.load(std::memory_order_relaxed)) break;
            if (++idle >= idle_spins) {
                q.wait(idle_wait_ns);
                idle = 0;
            }
            continue;
        }
        idle = 0;
        if (packets == 0) c.first_ns = now_ns();
        unsigned m = q.alloc_tx(std::span(out.data(), n));
        unsigned filled = 0;
        for (unsigned k = 0; k < n; ++k) {
            parsed f{};
            if (!check_frame(in[k].data, in[k].len, f, o.verify) || f.kind != k_ping) {
                ++bad;
                continue;
            }
            if (filled == m) continue;  // out of tx buffers: drop the reply
            std::memcpy(out[filled].data, in[k].data, in[k].len);
            out[filled].len = in[k].len;
            reflect(out[filled].data);
            bytes += in[k].len;
            ++filled;
        }
        q.release(std::span(in.data(), n));
        unsigned sent = q.tx_burst(std::span(out.data(), filled));
        q.free_tx(std::span(out.data() + sent, m - sent));
        q.flush();
        packets += sent;
        c.packets.store(packets, std::memory_order_relaxed);
        c.bytes.store(bytes, std::memory_order_relaxed);
        c.bad.store(bad, std::memory_order_relaxed);
    }
}

// One ping outstanding at a time; the source port is chosen so that the
// symmetric hash brings the reply back to this thread's queue.
void ping_loop(shared& s, unsigned qi) {
    const options& o = *s.o;
    netio::queue& q = s.p->q(qi);
    counters& c = s.c[qi];
    rtt_stats& r = s.rtt[qi];
    const uint32_t len = std::max(o.frame_len, ts_frame);
    auto t = std::make_unique<frame_template>();
    build_template(*t, len, s.p->info().mac, mac_addr{{0x02, 0, 0, 0, 0, 0x02}}, k_ping,
                   uint8_t(qi));
    uint16_t sport = 1024;
    for (uint32_t cand = 1024; cand < 65536; ++cand) {
        netio::flow_key k = netio::parse_flow_key(bytes(t->bytes, len));
        k.sport = uint16_t(cand);
        if (netio::rss_pick_queue(k, o.queues) == qi) {
            sport = uint16_t(cand);
            break;
        }
    }
    uint64_t limit = o.count ? o.count / o.queues + (qi < o.count % o.queues ? 1 : 0) : UINT64_MAX;
    uint64_t bytes_sent = 0;
    netio::packet pk[32];
    c.first_ns = now_ns();
    for (uint64_t seq = 0; seq < limit && !g_stop.load(std::memory_order_relaxed); ++seq) {
        netio::packet out;
        if (q.alloc_tx(std::span(&out, 1)) != 1) {
            if (g_peer_left.load()) break;
            std::this_thread::yield();
            --seq;
            continue;
        }
        std::memcpy(out.data, t->bytes, len);
        int64_t sent_at = now_ns();
        stamp(out.data, *t, sport, seq, uint64_t(sent_at));
        out.len = len;
        if (q.tx_burst(std::span(&out, 1)) != 1) q.free_tx(std::span(&out, 1));
        q.flush();
        bool got = false;
        const int64_t deadline = sent_at + 1'000'000'000;  // a reply later than 1 s is lost
        unsigned idle = 0;
        while (!got && !g_stop.load(std::memory_order_relaxed) && now_ns() < deadline) {
            unsigned n = q.rx_burst(pk);
            if (n == 0) {
                if (g_peer_left.load(std::memory_order_relaxed)) break;
                if (++idle >= idle_spins) q.wait(10'000'000), idle = 0;
                continue;
            }
            int64_t at = now_ns();
            for (unsigned k = 0; k < n; ++k) {
                parsed f{};
                if (check_frame(pk[k].data, pk[k].len, f) && f.kind == k_pong && f.seq == seq) {
                    got = true;
                    if (r.samples_ns.size() < r.samples_ns.capacity())
                        r.samples_ns.push_back(uint32_t(std::min<int64_t>(at - sent_at, UINT32_MAX)));
                } else {
                    c.bad.fetch_add(1, std::memory_order_relaxed);
                }
            }
            q.release(std::span(pk, n));
        }
        if (!got) ++r.lost;
        bytes_sent += len;
        c.packets.store(seq + 1, std::memory_order_relaxed);
        c.bytes.store(bytes_sent, std::memory_order_relaxed);
        if (g_peer_left.load(std::memory_order_relaxed)) break;
    }
    c.last_ns = now_ns();
}

struct totals {
    uint64_t packets = 0, bytes = 0, bad = 0, stray = 0, dup = 0, unique = 0, ooo = 0, lost = 0;
};
totals sum(const shared& s) {
    totals t;
    for (const auto& c : s.c) {
        t.packets += c.packets.load(std::memory_order_relaxed);
        t.bytes += c.bytes.load(std::memory_order_relaxed);
        t.bad += c.bad.load(std::memory_order_relaxed);
        t.stray += c.stray.load(std::memory_order_relaxed);
        t.dup += c.dup.load(std::memory_order_relaxed);
        t.unique += c.unique.load(std::memory_order_relaxed);
        t.ooo += c.ooo.load(std::memory_order_relaxed);
        t.lost += c.lost.load(std::memory_order_relaxed);
    }
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    std::string err;
    auto parsed_opts = parse_options(argc, argv, err);
    if (!parsed_opts) {
        std::fprintf(stderr, "mvnf-pktgen: %s\n(mvnf-pktgen --help lists the options)\n",
                     err.c_str());
        return 2;
    }
    const options& o = *parsed_opts;
    if (o.help) {
        std::fputs(usage(), stdout);
        return 0;
    }
    netio::port_config cfg;
    cfg.num_queues = o.queues;
    cfg.buf_size = o.buf_size;
    cfg.ring_size = o.ring_size;
    auto opened = netio::open_port(o.spec, cfg);
    if (!opened) {
        std::fprintf(stderr, "mvnf-pktgen: cannot open %s: %s (%s)\n", o.spec.c_str(),
                     opened.error().message.c_str(), netio::to_string(opened.error().code));
        return 1;
    }
    std::unique_ptr<netio::port> p = std::move(*opened);
    const auto& info = p->info();
    if (o.frame_len > info.mtu + 14u) {
        std::fprintf(stderr, "mvnf-pktgen: frame length %u exceeds MTU %u + 14 of %s\n",
                     o.frame_len, info.mtu, o.spec.c_str());
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    const bool sender = o.m == mode::tx || o.m == mode::ping;
    int64_t start = now_ns();
    const int64_t give_up = o.duration > 0 ? start + int64_t(o.duration * 1e9) : INT64_MAX;
    // A sender waits for its peer (a shm link with nobody on the other end
    // would only fill its buffers), within the run's duration.
    if (sender && !p->peer_alive()) {
        std::fprintf(stderr, "mvnf-pktgen: waiting for the peer on %s...\n", o.spec.c_str());
        while (!p->peer_alive() && !g_stop.load() && now_ns() < give_up) usleep(10000);
        if (!p->peer_alive()) {
            std::fprintf(stderr, "mvnf-pktgen: no peer appeared on %s\n", o.spec.c_str());
            return 1;
        }
        start = now_ns();
    }
    auto print_header = [&] {
        std::printf("mvnf-pktgen %s on %s (%s, mac %s, mtu %u, %u queue%s, burst %u",
                    to_string(o.m), o.spec.c_str(), info.backend.c_str(), info.mac.str().c_str(),
                    info.mtu, info.num_queues, info.num_queues == 1 ? "" : "s", o.burst);
        if (sender)
            std::printf(", %u-byte frames",
                        o.m == mode::ping ? std::max(o.frame_len, ts_frame) : o.frame_len);
        std::printf(")\n");
        std::fflush(stdout);
    };
    if (!o.quiet_start) print_header();

    shared s;
    s.o = &o;
    s.p = p.get();
    s.c = std::vector<counters>(o.queues);
    s.rtt.resize(o.queues);
    if (o.m == mode::ping)
        for (auto& r : s.rtt) r.samples_ns.reserve(1 << 20);
    g_peer_seen = p->peer_alive();

    std::vector<std::thread> workers;
    for (unsigned k = 0; k < o.queues; ++k) {
        workers.emplace_back([&s, &o, k] {
            pin(o, k);
            switch (o.m) {
                case mode::tx: tx_loop(s, k); break;
                case mode::rx: rx_loop(s, k); break;
                case mode::ping: ping_loop(s, k); break;
                case mode::pong: pong_loop(s, k); break;
            }
        });
    }

    // Ticker: rates once a second, peer liveness every 50 ms.
    const int64_t end = o.duration > 0 ? start + int64_t(o.duration * 1e9) : INT64_MAX;
    totals prev{};
    int64_t prev_t = start, next_print = start + 1'000'000'000;
    bool printing = !o.quiet_start;
    std::atomic<unsigned> done{0};
    std::thread joiner([&] {
        for (auto& w : workers) w.join();
        done = 1;
    });
    while (!done.load()) {
        usleep(50000);
        int64_t t = now_ns();
        if (t >= end) g_stop = true;
        bool alive = p->peer_alive();
        if (alive) g_peer_seen = true;
        else if (g_peer_seen) g_peer_left = true;
        totals cur = sum(s);
        if (o.count && !sender && cur.packets >= o.count) g_stop = true;
        if (!printing && cur.packets > 0) {
            printing = true;
            print_header();
        }
        if (t >= next_print) {
            double dt = double(t - prev_t) / 1e9;
            double pps = double(cur.packets - prev.packets) / dt;
            double gbps = double(cur.bytes - prev.bytes) * 8 / dt / 1e9;
            if (printing) {
                if (o.m == mode::rx)
                    std::printf("%s: %8.3f Mpps %7.3f Gbps  total %" PRIu64 " bad %" PRIu64
                                " dup %" PRIu64 " ooo %" PRIu64 "\n",
                                to_string(o.m), pps / 1e6, gbps, cur.packets, cur.bad + cur.stray,
                                cur.dup, cur.ooo);
                else
                    std::printf("%s: %8.3f Mpps %7.3f Gbps  total %" PRIu64 "\n", to_string(o.m),
                                pps / 1e6, gbps, cur.packets);
                std::fflush(stdout);
            }
            prev = cur;
            prev_t = t;
            next_print += 1'000'000'000;
        }
    }
    joiner.join();

    // Summary over the time traffic actually flowed.
    totals tot = sum(s);
    int64_t first = INT64_MAX, last = 0;
    for (auto& c : s.c) {
        if (c.packets.load() == 0) continue;
        first = std::min<int64_t>(first, c.first_ns.load());
        last = std::max<int64_t>(last, c.last_ns.load() ? c.last_ns.load() : now_ns());
    }
    double secs = last > first ? double(last - first) / 1e9 : 0;
    double pps = secs > 0 ? double(tot.packets) / secs : 0;
    double gbps = secs > 0 ? double(tot.bytes) * 8 / secs / 1e9 : 0;
    std::vector<uint32_t> rtt;
    uint64_t lost = 0;
    for (auto& r : s.rtt) {
        rtt.insert(rtt.end(), r.samples_ns.begin(), r.samples_ns.end());
        lost += r.lost;
    }
    std::sort(rtt.begin(), rtt.end());
    auto pct = [&](double q) {
        return rtt.empty() ? 0.0 : rtt[std::min(rtt.size() - 1, size_t(q * double(rtt.size())))] / 1e3;
    };
    double avg = 0;
    for (uint32_t v : rtt) avg += v;
    avg = rtt.empty() ? 0 : avg / double(rtt.size()) / 1e3;

    std::printf("== %s summary on %s: %" PRIu64 " packets, %" PRIu64 " bytes in %.3f s: "
                "%.3f Mpps, %.3f Gbps\n",
                to_string(o.m), o.spec.c_str(), tot.packets, tot.bytes, secs, pps / 1e6, gbps);
    if (o.m == mode::rx) {
        std::printf("   bad %" PRIu64 " (stray sequence numbers %" PRIu64 "), duplicate %" PRIu64
                    ", unique %" PRIu64 " (out-of-order %" PRIu64 ")",
                    tot.bad + tot.stray, tot.stray, tot.dup, tot.unique, tot.ooo);
        if (o.queues == 1) std::printf(", lost (sequence gaps) %" PRIu64, tot.lost);
        std::printf("; per queue:");
        for (unsigned k = 0; k < o.queues; ++k)
            std::printf(" q%u=%" PRIu64, k, s.c[k].packets.load());
        std::printf("\n");
    }
    if (o.m == mode::pong) {
        std::printf("   bad %" PRIu64 "; per queue:", tot.bad);
        for (unsigned k = 0; k < o.queues; ++k)
            std::printf(" q%u=%" PRIu64, k, s.c[k].packets.load());
        std::printf("\n");
    }
    if (o.m == mode::ping)
        std::printf("   rtt us: min %.2f avg %.2f p50 %.2f p99 %.2f max %.2f; lost %" PRIu64 "\n",
                    rtt.empty() ? 0 : rtt.front() / 1e3, avg, pct(0.5), pct(0.99),
                    rtt.empty() ? 0 : rtt.back() / 1e3, lost);
    if (g_peer_left) std::printf("   the peer left the link\n");
    if (o.json) {
        std::string spec_json;
        for (char ch : o.spec) {
            if (ch == '"' || ch == '\\') spec_json += '\\';
            if (uint8_t(ch) >= 0x20) spec_json += ch;
        }
        std::printf("{\"mode\":\"%s\",\"spec\":\"%s\",\"queues\":%u,\"seconds\":%.6f,"
                    "\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"pps\":%.1f,\"gbps\":%.4f,"
                    "\"bad\":%" PRIu64,
                    to_string(o.m), spec_json.c_str(), o.queues, secs, tot.packets, tot.bytes, pps,
                    gbps, tot.bad + tot.stray);
        if (o.m == mode::rx)
            std::printf(",\"stray\":%" PRIu64 ",\"duplicate\":%" PRIu64 ",\"unique\":%" PRIu64
                        ",\"out_of_order\":%" PRIu64,
                        tot.stray, tot.dup, tot.unique, tot.ooo);
        if (sender) std::printf(",\"frame_len\":%u", o.m == mode::ping ? std::max(o.frame_len, ts_frame) : o.frame_len);
        if (o.queues == 1 && o.m == mode::rx) std::printf(",\"lost\":%" PRIu64, tot.lost);
        std::printf(",\"per_queue\":[");
        for (unsigned k = 0; k < o.queues; ++k)
            std::printf("%s%" PRIu64, k ? "," : "", s.c[k].packets.load());
        std::printf("]");
        if (o.m == mode::ping)
            std::printf(",\"rtt_us\":{\"min\":%.3f,\"avg\":%.3f,\"p50\":%.3f,\"p99\":%.3f,"
                        "\"max\":%.3f,\"samples\":%zu,\"lost\":%" PRIu64 "}",
                        rtt.empty() ? 0 : rtt.front() / 1e3, avg, pct(0.5), pct(0.99),
                        rtt.empty() ? 0 : rtt.back() / 1e3, rtt.size(), lost);
        std::printf(",\"peer_left\":%s}\n", g_peer_left ? "true" : "false");
    }
    std::fflush(stdout);
    // Sending mode with the peer gone early is a failure; so are bad frames.
    if (tot.bad + tot.stray > 0) return 1;
    if (sender && g_peer_left && tot.packets < (o.count ? o.count : 0)) return 1;
    return 0;
}
