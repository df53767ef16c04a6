// mvnf-impair: a user-space link emulator. It owns two ports (for example two
// veth ends through AF_PACKET, or two shm links) and forwards every frame from
// one to the other, applying loss, delay, jitter, reordering, duplication and
// corruption per direction. It stands in for the kernel's netem where that is
// missing, and works between two user-space stacks over shm with no root.
// One thread per direction; frames are copied once into a delay line (the
// rx buffer goes straight back to its port) and once into a tx buffer.
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <thread>

#include "common/clock.hpp"
#include "delay_line.hpp"
#include "impairment.hpp"
#include "netio/port.hpp"
#include "options.hpp"

using namespace mvnf;
using namespace mvnf::impair;

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }
int64_t now_ns() { return monotonic_ns(); }

// Written by one direction's thread, read by the ticker.
struct alignas(64) counters {
    std::atomic<uint64_t> rx{0}, rx_bytes{0}, forwarded{0}, lost{0}, duplicated{0}, corrupted{0},
        reordered{0}, overflow{0}, tx_dropped{0}, ce_marked{0};
};

struct snapshot {
    uint64_t rx, rx_bytes, forwarded, lost, duplicated, corrupted, reordered, overflow, tx_dropped,
        ce_marked;
};

snapshot read(const counters& c) {
    auto r = [](const std::atomic<uint64_t>& v) { return v.load(std::memory_order_relaxed); };
    return {r(c.rx),        r(c.rx_bytes),  r(c.forwarded), r(c.lost),      r(c.duplicated),
            r(c.corrupted), r(c.reordered), r(c.overflow),  r(c.tx_dropped),
            r(c.ce_marked)};
}

void bump(std::atomic<uint64_t>& v, uint64_t n = 1) {
    v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// TX buffers borrowed from the destination queue in bursts and handed back
// to it once per loop iteration.
class tx_batch {
public:
    explicit tx_batch(netio::queue& q) : _q(q) {}

    // Copies one frame into a tx buffer; false under back-pressure (no buffer).
    bool put(const std::byte* data, uint32_t len, counters& c) {
        if (_filled == _held) {
            if (_held == _bufs.size()) push(c);
            _held += _q.alloc_tx(std::span(_bufs).subspan(_held));
            if (_filled == _held) return false;
        }
        netio::packet& p = _bufs[_filled];
        if (len > p.len) {  // cannot happen with equal buffer sizes; counted, not crashed
            bump(c.tx_dropped);
            return true;
        }
        std::memcpy(p.data, data, len);
        p.len = len;
        ++_filled;
        return true;
    }

    // End of an iteration: send what was filled, return the rest, kick.
    void finish(counters& c) {
        push(c);
        if (_held) _q.free_tx(std::span(_bufs).first(_held));
        _held = 0;
        _q.flush();
    }

private:
    void push(counters& c) {
        if (_filled == 0) return;
        unsigned sent = _q.tx_burst(std::span(_bufs).first(_filled));
        bump(c.forwarded, sent);
        if (sent < _filled) {
            _q.free_tx(std::span(_bufs).subspan(sent, _filled - sent));
            bump(c.tx_dropped, _filled - sent);
        }
        // Unfilled borrowed buffers move to the front.
        unsigned rest = _held - _filled;
        for (unsigned k = 0; k < rest; ++k) _bufs[k] = _bufs[_filled + k];
        _held = rest;
        _filled = 0;
    }

    netio::queue& _q;
    std::array<netio::packet, 64> _bufs{};
    unsigned _held = 0, _filled = 0;
};

struct direction_ctx {
    const char* name;
    netio::port* src;
    netio::port* dst;
    params imp;  // all zero when this direction is not impaired
    uint64_t seed;
    uint32_t limit, buf_size;
    counters c;
};

void run(direction_ctx& d) {
    rng r(d.seed);
    delay_line line(d.limit, d.buf_size);
    tx_batch out(d.dst->q(0));
    std::array<netio::packet, 64> rx{};
    const unsigned nq = d.src->num_queues();
    unsigned idle = 0;
    while (!g_stop.load(std::memory_order_relaxed)) {
        int64_t now = now_ns();
        unsigned got = 0;
        for (unsigned qi = 0; qi < nq; ++qi) {
            // Back-pressure: take only what the delay line can hold, even if
            // every frame were duplicated; the rest waits in the source ring
            // (a shm sender then slows down instead of losing frames).
            const size_t room = line.free_slots() / 2;
            if (room == 0) break;
            netio::queue& q = d.src->q(qi);
            unsigned n = q.rx_burst(std::span(rx).first(std::min<size_t>(rx.size(), room)));
            got += n;
            for (unsigned k = 0; k < n; ++k) {
                const netio::packet& p = rx[k];
                bump(d.c.rx);
                bump(d.c.rx_bytes, p.len);
                verdict v = decide(d.imp, r, p.len, carries_checksums(p.data, p.len));
                if (v.lost) {
                    bump(d.c.lost);
                    continue;
                }
                if (v.copies == 2) bump(d.c.duplicated);
                if (v.early) bump(d.c.reordered);
                for (unsigned cp = 0; cp < v.copies; ++cp) {
                    std::byte* copy = line.push(p.data, p.len, now + v.delay_ns[cp]);
                    if (!copy) {
                        bump(d.c.overflow);
                        continue;
                    }
                    if (v.ce && mark_ce(copy, p.len) && cp == 0) bump(d.c.ce_marked);
                    if (cp == 0 && v.corrupt) {
                        copy[14 + v.corrupt_bit / 8] ^= std::byte(1u << (v.corrupt_bit % 8));
                        bump(d.c.corrupted);
                    }
                }
            }
            if (n) q.release(std::span(rx).first(n));
        }
        // Release every frame that is due, in (due time, arrival) order; under
        // back-pressure the rest wait for the next iteration.
        unsigned sent = 0;
        const std::byte* data;
        uint32_t len;
        while (line.peek_due(now, data, len) && out.put(data, len, d.c)) {
            line.pop();
            ++sent;
        }
        out.finish(d.c);
        if (got || sent) {
            idle = 0;
            continue;
        }
        if (++idle < 256) continue;
        idle = 0;
        // Idle: block until frames may arrive or the next held frame is due.
        int64_t timeout = 50'000'000;
        if (!line.empty()) {
            int64_t until = line.next_due() - now_ns();
            if (until <= 0) {  // due but the destination is full: let it drain
                usleep(50);
                continue;
            }
            timeout = std::min(timeout, until);
        }
        // With several queues only queue 0 can be waited on: poll the others
        // every millisecond.
        if (nq > 1) timeout = std::min<int64_t>(timeout, 1'000'000);
        d.src->q(0).wait(timeout);
    }
}

void print_json_dir(const char* name, const snapshot& s) {
    std::printf("\"%s\":{\"rx\":%" PRIu64 ",\"rx_bytes\":%" PRIu64 ",\"forwarded\":%" PRIu64
                ",\"lost\":%" PRIu64 ",\"duplicated\":%" PRIu64 ",\"corrupted\":%" PRIu64
                ",\"reordered\":%" PRIu64 ",\"overflow\":%" PRIu64 ",\"tx_dropped\":%" PRIu64
                ",\"ce_marked\":%" PRIu64 "}",
                name, s.rx, s.rx_bytes, s.forwarded, s.lost, s.duplicated, s.corrupted,
                s.reordered, s.overflow, s.tx_dropped, s.ce_marked);
}

void print_human(const char* name, const snapshot& s) {
    std::printf("  %s: rx %" PRIu64 " forwarded %" PRIu64 " lost %" PRIu64 " duplicated %" PRIu64
                " corrupted %" PRIu64 " reordered %" PRIu64 " overflow %" PRIu64
                " tx_dropped %" PRIu64 " ce_marked %" PRIu64 "\n",
                name, s.rx, s.forwarded, s.lost, s.duplicated, s.corrupted, s.reordered,
                s.overflow, s.tx_dropped, s.ce_marked);
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    int code = 2;
    if (!parse(argc, argv, o, &code)) return code;

    netio::port_config cfg;
    cfg.num_queues = o.queues;
    cfg.buf_size = o.buf_size;
    auto pa = netio::open_port(o.a, cfg);
    if (!pa) {
        std::fprintf(stderr, "mvnf-impair: -a %s: %s\n", o.a.c_str(), pa.error().message.c_str());
        return 1;
    }
    auto pb = netio::open_port(o.b, cfg);
    if (!pb) {
        std::fprintf(stderr, "mvnf-impair: -b %s: %s\n", o.b.c_str(), pb.error().message.c_str());
        return 1;
    }
    netio::port& a = **pa;
    netio::port& b = **pb;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    const params none{};
    direction_ctx ab{"a2b", &a, &b, o.dir == direction::b2a ? none : o.imp, o.seed, o.limit,
                     o.buf_size, {}};
    direction_ctx ba{"b2a", &b, &a, o.dir == direction::a2b ? none : o.imp,
                     o.seed ^ 0x5bd1e995u, o.limit, o.buf_size, {}};
    if (!o.quiet) {
        std::printf("mvnf-impair: %s <-> %s (%s): loss %.3g%% delay %.3g ms jitter %.3g ms "
                    "reorder %.3g%% dup %.3g%% corrupt %.3g%% ce %.3g%%\n",
                    o.a.c_str(), o.b.c_str(),
                    o.dir == direction::both ? "both directions"
                    : o.dir == direction::a2b ? "a2b only"
                                              : "b2a only",
                    o.imp.loss * 100, double(o.imp.delay_ns) / 1e6, double(o.imp.jitter_ns) / 1e6,
                    o.imp.reorder * 100, o.imp.dup * 100, o.imp.corrupt * 100, o.imp.ce * 100);
        std::fflush(stdout);
    }

    const int64_t start = now_ns();
    std::thread t1([&] { run(ab); });
    std::thread t2([&] { run(ba); });

    // Ticker: progress once a second; stop on the duration or when a shm peer
    // that was attached has left (the link is then finished).
    const int64_t end = o.duration > 0 ? start + int64_t(o.duration * 1e9) : INT64_MAX;
    bool seen_a = a.peer_alive(), seen_b = b.peer_alive();
    int64_t next_print = start + 1'000'000'000;
    while (!g_stop.load()) {
        usleep(20000);
        int64_t t = now_ns();
        if (t >= end) break;
        bool alive_a = a.peer_alive(), alive_b = b.peer_alive();
        if ((seen_a && !alive_a) || (seen_b && !alive_b)) {
            // Drain first: frames the peer sent before leaving may still sit
            // in the rings or the delay lines. Stop once nothing has moved for
            // the longest delay plus 0.5 s (at most 5 s).
            if (!o.quiet) std::printf("mvnf-impair: a peer left; draining, then stopping\n");
            const int64_t quiet_ns = o.imp.delay_ns + o.imp.jitter_ns + 500'000'000;
            const int64_t give_up = now_ns() + 5'000'000'000;
            uint64_t last = read(ab.c).forwarded + read(ba.c).forwarded + read(ab.c).rx + read(ba.c).rx;
            int64_t last_change = now_ns();
            while (!g_stop.load() && now_ns() < give_up && now_ns() - last_change < quiet_ns) {
                usleep(20000);
                const uint64_t cur =
                    read(ab.c).forwarded + read(ba.c).forwarded + read(ab.c).rx + read(ba.c).rx;
                if (cur != last) last = cur, last_change = now_ns();
            }
            break;
        }
        seen_a |= alive_a;
        seen_b |= alive_b;
        if (!o.quiet && t >= next_print) {
            snapshot x = read(ab.c), y = read(ba.c);
            std::printf("[%5.1fs] a2b fwd %" PRIu64 " lost %" PRIu64 " | b2a fwd %" PRIu64
                        " lost %" PRIu64 "\n",
                        double(t - start) / 1e9, x.forwarded, x.lost, y.forwarded, y.lost);
            std::fflush(stdout);
            next_print += 1'000'000'000;
        }
    }
    g_stop = true;
    t1.join();
    t2.join();
    snapshot x = read(ab.c), y = read(ba.c);
    double secs = double(now_ns() - start) / 1e9;
    if (o.json) {
        std::printf("{\"tool\":\"mvnf-impair\",\"a\":\"%s\",\"b\":\"%s\",\"seconds\":%.3f,",
                    o.a.c_str(), o.b.c_str(), secs);
        print_json_dir("a2b", x);
        std::printf(",");
        print_json_dir("b2a", y);
        std::printf("}\n");
    } else {
        std::printf("mvnf-impair: %.1f s\n", secs);
        print_human("a2b", x);
        print_human("b2a", y);
    }
    return 0;
}
