// The in-memory link (see mem_link.hpp). Frames in flight are kept ordered by
// (delivery time, order key); a reordered frame's key lets the next few
// frames overtake it even when the clock does not move.
#include "netio/mem/mem_link.hpp"

#include <algorithm>
#include <cstring>

namespace mvnf::netio {

namespace {
// splitmix64: tiny, seedable, good enough to pick impairments reproducibly.
struct prng {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    double unit() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }
    bool chance(double p) { return p > 0 && unit() < p; }
};

struct flight {
    uint64_t at;
    uint64_t key;
    packet pkt;
};
}  // namespace

struct mem_link::impl {
    class endpoint final : public queue {
    public:
        endpoint(impl& l, int side) : _l(l), _side(side) {}
        unsigned rx_burst(std::span<packet> out) override { return _l.rx(1 - _side, out, _st); }
        void release(std::span<const packet> pkts) override {
            for (const auto& p : pkts) _l.put(p.handle);
        }
        unsigned alloc_tx(std::span<packet> out) override {
            unsigned n = 0;
            while (n < out.size() && !_l.free_list.empty()) out[n++] = _l.get();
            return n;
        }
        unsigned tx_burst(std::span<packet> pkts) override { return _l.tx(_side, pkts, _st); }
        void free_tx(std::span<const packet> pkts) override { release(pkts); }
        bool wait(int64_t) override { return _l.ready(1 - _side); }
        queue_stats stats() const override { return _st; }
        uint64_t rx_drops() const override { return _st.rx_dropped; }
        uint64_t tx_drops() const override { return _st.tx_dropped; }

    private:
        impl& _l;
        int _side;
        queue_stats _st;
    };

    mem_link_config cfg;
    const mem_link_config initial;  // for reset()
    std::vector<std::byte> arena;
    std::vector<uint32_t> free_list;
    std::vector<flight> q[2];  // q[0]: a→b, q[1]: b→a
    mem_link_counters ctr[2];
    filter_fn filter[2];
    std::function<uint64_t()> clock;
    prng rng;
    uint64_t seq = 0;
    endpoint ep_a{*this, 0}, ep_b{*this, 1};

    explicit impl(const mem_link_config& c) : cfg(c), initial(c), rng{c.seed} {
        arena.resize(size_t(cfg.buf_size) * cfg.num_buffers);
        free_list.reserve(cfg.num_buffers);
        for (uint32_t i = cfg.num_buffers; i-- > 0;) free_list.push_back(i);
        for (auto& v : q) v.reserve(cfg.max_in_flight);
    }

    uint64_t now() const { return clock ? clock() : 0; }
    packet get() {
        uint32_t h = free_list.back();
        free_list.pop_back();
        return packet{arena.data() + size_t(h) * cfg.buf_size, cfg.buf_size, h};
    }
    void put(uint32_t h) { free_list.push_back(h); }
    const mem_impairments& imp(int d) const { return d == 0 ? cfg.a_to_b : cfg.b_to_a; }

    void enqueue(int d, uint64_t at, uint64_t key, packet p) {
        auto& v = q[d];
        flight f{at, key, p};
        auto pos = std::upper_bound(v.begin(), v.end(), f, [](const flight& x, const flight& y) {
            return x.at != y.at ? x.at < y.at : x.key < y.key;
        });
        v.insert(pos, f);  // capacity reserved at start: no allocation
    }

    unsigned tx(int d, std::span<packet> pkts, queue_stats& st) {
        const auto& im = imp(d);
        auto& c = ctr[d];
        uint64_t t = now();
        unsigned n = 0;
        for (; n < pkts.size(); ++n) {
            // Room for the frame and a possible duplicate.
            if (q[d].size() + 2 > cfg.max_in_flight) {
                st.tx_dropped += pkts.size() - n;
                break;
            }
            packet p = pkts[n];
            st.tx_packets++;
            st.tx_bytes += p.len;
            c.sent++;
            if (filter[d] && !filter[d](std::span<std::byte>(p.data, p.len))) {
                c.filtered++;
                put(p.handle);
                continue;
            }
            if (rng.chance(im.loss)) {
                c.lost++;
                put(p.handle);
                continue;
            }
            if (p.len > 14 && rng.chance(im.corrupt)) {
                size_t i = 14 + rng.next() % (p.len - 14);
                p.data[i] ^= std::byte(1u << (rng.next() % 8));
                c.corrupted++;
            }
            uint64_t s = ++seq;
            uint64_t at = t + im.latency_ns;
            uint64_t key = s * 4;
            if (rng.chance(im.reorder)) {
                key = (s + im.reorder_depth) * 4 + 1;
                at += im.reorder_delay_ns;
                c.reordered++;
            }
            if (rng.chance(im.duplicate) && !free_list.empty()) {
                packet dup = get();
                std::memcpy(dup.data, p.data, p.len);
                dup.len = p.len;
                enqueue(d, at, key + 2, dup);
                c.duplicated++;
            }
            enqueue(d, at, key, p);
        }
        return n;
    }

    unsigned rx(int d, std::span<packet> out, queue_stats& st) {
        auto& v = q[d];
        uint64_t t = now();
        unsigned n = 0;
        while (n < out.size() && n < v.size() && v[n].at <= t) {
            out[n] = v[n].pkt;
            st.rx_packets++;
            st.rx_bytes += out[n].len;
            ++n;
        }
        v.erase(v.begin(), v.begin() + n);
        ctr[d].delivered += n;
        return n;
    }
    bool ready(int d) const { return !q[d].empty() && q[d].front().at <= now(); }
};

mem_link::mem_link(const mem_link_config& cfg) : _p(std::make_unique<impl>(cfg)) {}
mem_link::~mem_link() = default;
queue& mem_link::a() { return _p->ep_a; }
queue& mem_link::b() { return _p->ep_b; }
void mem_link::set_clock(std::function<uint64_t()> now) { _p->clock = std::move(now); }
void mem_link::set_impairments(dir d, const mem_impairments& imp) {
    (d == dir::a_to_b ? _p->cfg.a_to_b : _p->cfg.b_to_a) = imp;
}
void mem_link::set_filter(dir d, filter_fn f) { _p->filter[int(d)] = std::move(f); }
const mem_link_counters& mem_link::counters(dir d) const { return _p->ctr[int(d)]; }
uint32_t mem_link::num_buffers() const { return _p->cfg.num_buffers; }
uint32_t mem_link::free_buffers() const { return uint32_t(_p->free_list.size()); }
size_t mem_link::in_flight(dir d) const { return _p->q[int(d)].size(); }
bool mem_link::reset() {
    auto& l = *_p;
    if (l.free_list.size() != l.cfg.num_buffers || !l.q[0].empty() || !l.q[1].empty())
        return false;
    l.cfg = l.initial;
    l.rng = prng{l.initial.seed};
    l.seq = 0;
    l.ctr[0] = l.ctr[1] = {};
    // The free list back in construction order, so buffer handles repeat too.
    l.free_list.clear();
    for (uint32_t i = l.cfg.num_buffers; i-- > 0;) l.free_list.push_back(i);
    return true;
}
uint64_t mem_link::next_delivery() const {
    uint64_t t = UINT64_MAX;
    for (const auto& v : _p->q)
        if (!v.empty()) t = std::min(t, v.front().at);
    return t;
}

}  // namespace mvnf::netio
