// Test harness for the TCP engine: a capturing sink, a scripted peer ("inject
// this segment, expect that one", with a template segment overridden per test)
// and a two-layer in-memory link with a virtual clock and seeded loss,
// reordering, duplication and corruption. Used by every tests/net/tcp test.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "net/tcp/layer.hpp"

namespace mvnf::tcp::test {

using namespace mvnf::wire;

inline const ipv4_addr ip_a(10, 0, 0, 1), ip_b(10, 0, 0, 2);

struct captured {
    ipv4_addr src, dst;
    tcp_repr h;
    std::vector<std::byte> payload;
    std::vector<std::byte> raw;
    uint8_t ip_ecn = 0;  // the IP ECN field the layer asked for
    uint32_t len() const { return uint32_t(payload.size()); }
};

inline std::vector<std::byte> serialize(ipv4_addr src, ipv4_addr dst, const tcp_repr& h, bytes p1,
                                        bytes p2 = {}) {
    std::vector<std::byte> out(h.header_len() + p1.size() + p2.size());
    h.emit(out, src, dst, p1, p2);
    return out;
}

class capture_sink : public segment_sink {
public:
    bool emit_segment(ipv4_addr src, ipv4_addr dst, const tcp_repr& h, bytes p1, bytes p2,
                      uint8_t ip_ecn) override {
        // A TX ring with room for `budget` more segments (back-pressure tests).
        if (budget == 0) {
            ++refused;
            return false;
        }
        if (budget > 0) --budget;
        captured c{src, dst, h, {}, serialize(src, dst, h, p1, p2), ip_ecn};
        c.payload.insert(c.payload.end(), p1.begin(), p1.end());
        c.payload.insert(c.payload.end(), p2.begin(), p2.end());
        // The engine's own output must always parse and checksum.
        auto v = tcp_view::parse(c.raw);
        EXPECT_TRUE(v && v->checksum_ok(src, dst));
        out.push_back(std::move(c));
        return true;
    }
    void confirm_reachable(ipv4_addr dst, nanos now) override { confirms.push_back({dst, now}); }
    std::deque<captured> out;
    std::vector<std::pair<ipv4_addr, nanos>> confirms;  // reachability advice given
    long budget = -1;  // < 0: unlimited
    uint64_t refused = 0;
};

inline config small_config() {
    config c;
    c.max_concurrency = 8;
    c.max_listeners = 2;
    c.max_backlog = 4;
    c.rcvbuf = 16 * 1024;
    c.sndbuf = 16 * 1024;
    c.event_queue = 256;
    for (size_t i = 0; i < c.secret.size(); ++i) c.secret[i] = uint8_t(i * 7 + 1);
    return c;
}

inline std::vector<std::byte> pattern(size_t n, uint8_t seed = 0) {
    std::vector<std::byte> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = std::byte(uint8_t(i * 31 + seed));
    return v;
}

// The layer under test lives at ip_a; the scripted peer is ip_b:peer_port.
class scripted : public ::testing::Test {
protected:
    static constexpr uint16_t port = 80, peer_port = 40000;

    void make(config c = small_config()) {
        cfg = c;
        l = std::make_unique<layer>(cfg, sink);
        start_free = l->free_connections();
    }
    void SetUp() override { make(); }
    void TearDown() override {
        // Pools back to their starting counts: abort what the test left open,
        // run the clock past every timer.
        for (auto h : open_handles) (void)l->abort(h, now);
        for (int i = 0; i < 100 && l->next_deadline() != no_deadline; ++i) {
            now = std::max(now, l->next_deadline());
            l->poll(now);
        }
        for (auto h : open_handles) (void)l->close(h, now);
        EXPECT_EQ(l->free_connections(), start_free) << "connection pool leaked";
    }

    // The template segment from the peer; tests override fields with
    // designated initialisers: seg({.seq = ..., .flags = ...}).
    struct peer_seg {
        uint16_t src_port = peer_port, dst_port = port;
        seq32 seq{}, ack{};
        uint8_t flags = tcp_flag::ack;
        uint16_t window = 65535;
        uint16_t urgent = 0;
        tcp_options opts{};
    };
    static tcp_repr seg(const peer_seg& p) {
        return {p.src_port, p.dst_port, p.seq, p.ack, p.flags, p.window, p.urgent, p.opts};
    }
    void inject(const tcp_repr& h, bytes payload = {}, uint8_t ip_ecn = 0) {
        auto b = serialize(ip_b, ip_a, h, payload);
        l->input(ip_b, ip_a, b, now, ip_ecn);
    }
    void inject_raw(std::vector<std::byte> b) { l->input(ip_b, ip_a, b, now); }
    captured expect() {
        if (sink.out.empty()) {
            ADD_FAILURE() << "expected a segment, got none";
            return {};
        }
        captured c = std::move(sink.out.front());
        sink.out.pop_front();
        return c;
    }
    void expect_none() {
        EXPECT_TRUE(sink.out.empty()) << "unexpected segment, flags "
                                      << int(sink.out.front().h.flags);
    }
    void advance(nanos dt) {
        const nanos until = now + dt;
        while (l->next_deadline() <= until) {
            now = std::max(now, l->next_deadline());
            l->poll(now);
        }
        now = until;
    }
    handle do_listen() {
        auto h = l->listen(ip_a, port, 4);
        EXPECT_TRUE(h);
        return *h;
    }
    // Passive open to ESTABLISHED with the given peer ISN and options.
    handle passive_open(seq32 peer_isn, tcp_options opts = {}) {
        lh = do_listen();
        inject(seg({.seq = peer_isn, .flags = tcp_flag::syn, .opts = opts}));
        auto sa = expect();
        EXPECT_EQ(sa.h.flags, tcp_flag::syn | tcp_flag::ack);
        our_iss = sa.h.seq;
        tcp_options ack_opts;
        if (opts.has_timestamps) {
            ack_opts.has_timestamps = true;
            ack_opts.tsval = opts.tsval + 1;
            ack_opts.tsecr = sa.h.opts.tsval;
        }
        inject(seg({.seq = peer_isn + 1, .ack = our_iss + 1, .flags = tcp_flag::ack,
                    .opts = ack_opts}));
        auto h = l->accept(lh);
        EXPECT_TRUE(h);
        open_handles.push_back(*h);
        return *h;
    }

    config cfg;
    capture_sink sink;
    std::unique_ptr<layer> l;
    nanos now = 1 * sec;
    size_t start_free = 0;
    handle lh;
    seq32 our_iss;
    std::vector<handle> open_handles;
};

// Deterministic PRNG (splitmix64) so impairment patterns are reproducible.
struct prng {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    double uniform() { return double(next() >> 11) / double(1ull << 53); }
};

struct impairments {
    double loss = 0, dup = 0, reorder = 0, corrupt = 0;
    double ce = 0;                 // ECN-capable packets marked CE (RFC 3168 5), not dropped
    nanos delay = 5 * ms;          // one-way
    nanos reorder_extra = 3 * ms;  // held back this much when reordered
};

// Two layers joined by an in-memory link: A at ip_a, B at ip_b.
class link_pair {
public:
    link_pair(const config& ca, const config& cb, impairments imp, uint64_t seed)
        : _imp(imp), _rng{seed}, _sa(*this, 0), _sb(*this, 1), a(ca, _sa), b(cb, _sb) {}

    struct pending {
        nanos at;
        uint64_t order;
        int to;  // 0 = A, 1 = B
        ipv4_addr src, dst;
        std::vector<std::byte> bytes;
        uint8_t ip_ecn = 0;
    };

    // Steps virtual time to the next event (delivery or timer); false if none.
    bool step() {
        const nanos t = std::min(a.next_deadline(), b.next_deadline());
        if (!_q.empty() && _q.begin()->first.first <= t) {
            auto node = _q.extract(_q.begin());
            pending& p = node.mapped();
            now = std::max(now, p.at);
            (p.to == 0 ? a : b).input(p.src, p.dst, p.bytes, now, p.ip_ecn);
            return true;
        }
        if (t == no_deadline) return false;
        now = std::max(now, t);
        a.poll(now);
        b.poll(now);
        return true;
    }
    bool run_until(const std::function<bool()>& done, nanos limit) {
        const nanos end = now + limit;
        while (!done()) {
            if (now > end || !step()) return done();
        }
        return true;
    }
    // Drive to quiescence (all timers, e.g. TIME-WAIT, expired).
    void drain(nanos limit = 600 * sec) {
        const nanos end = now + limit;
        while (now <= end && step()) {
        }
    }

    nanos now = 1 * sec;
    uint64_t delivered = 0, dropped = 0, ce_marked = 0;

private:
    struct side_sink : segment_sink {
        side_sink(link_pair& lp, int side) : _lp(lp), _side(side) {}
        bool emit_segment(ipv4_addr src, ipv4_addr dst, const tcp_repr& h, bytes p1, bytes p2,
                          uint8_t ip_ecn) override {
            _lp.send(_side, src, dst, serialize(src, dst, h, p1, p2), ip_ecn & ip_ecn_mask);
            return true;
        }
        link_pair& _lp;
        int _side;
    };
    void send(int from, ipv4_addr src, ipv4_addr dst, std::vector<std::byte> bytes,
              uint8_t ip_ecn) {
        if (_rng.uniform() < _imp.loss) {
            ++dropped;
            return;
        }
        if (ip_ecn != 0 && _imp.ce > 0 && _rng.uniform() < _imp.ce) {
            ip_ecn = 3;  // a congested hop marks it instead of dropping it
            ++ce_marked;
        }
        int copies = _rng.uniform() < _imp.dup ? 2 : 1;
        for (int i = 0; i < copies; ++i) {
            auto copy = bytes;
            if (_rng.uniform() < _imp.corrupt && !copy.empty())
                copy[_rng.next() % copy.size()] ^= std::byte(1u << (_rng.next() % 8));
            nanos at = now + _imp.delay;
            if (_rng.uniform() < _imp.reorder) at += _imp.reorder_extra;
            const uint64_t order = _order++;
            _q.emplace(std::make_pair(at, order),
                       pending{at, order, 1 - from, src, dst, std::move(copy), ip_ecn});
            ++delivered;
        }
    }
    impairments _imp;
    prng _rng;
    uint64_t _order = 0;
    std::map<std::pair<nanos, uint64_t>, pending> _q;  // delivery order
    side_sink _sa, _sb;

public:
    layer a, b;
};

}  // namespace mvnf::tcp::test
