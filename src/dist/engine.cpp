// The distribution engine (see engine.hpp): `hw` passthrough and the `sw`
// dispatcher — RX validate/hash/steer through SPSC pipes with a per-core
// overflow queue and credit-based flow control, TX merge of per-core egress
// pipes onto the port. Allocates in create() only; no locks anywhere.
#include "dist/engine.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "common/bytes.hpp"
#include "dist/sleeper.hpp"
#include "dist/spsc_pipe.hpp"
#include "netio/rss/steer.hpp"
#include "netio/pcap/pcap_port.hpp"
#include "netio/rss/rss.hpp"
#include "wire/ethernet.hpp"

namespace mvnf::dist {

using netio::packet;

namespace {

// A counter with one writer and any readers: plain load+store, no RMW.
struct stat {
    std::atomic<uint64_t> v{0};
    void add(uint64_t n) {
        v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    void set(uint64_t n) { v.store(n, std::memory_order_relaxed); }
    uint64_t get() const { return v.load(std::memory_order_relaxed); }
};

inline void cpu_relax() {
    __builtin_ia32_pause();
}

}  // namespace

// Who drives the port's TX half in the single layout (engine::shared::tx_owner).
// The dispatcher owns it while awake; before it blocks on the port it sets
// tx_free, and a core whose flush() finds it free takes it, runs one TX round
// itself and gives it back. The port wait cannot be interrupted by cores
// (shm sleeps on a futex in the region, fd backends in poll()), so instead
// of waking the dispatcher, the work moves to the core: no syscall beyond the
// port's own flush, no latency. Dekker handshake, both sides seq_cst fences:
//   core:       push egress; fence; if (owner == free) take, tx_step, free; fence; recheck
//   dispatcher: owner = free; fence; if (egress pending) skip the block
enum : uint32_t { tx_dispatcher = 0, tx_free = 1, tx_core = 2 };

struct engine::shared {
    sleeper tx_sleep;  // the TX dispatcher (split layout) sleeps here
    alignas(64) std::atomic<uint32_t> tx_owner{tx_dispatcher};
    alignas(64) stat rx_received, rx_runt, rx_oversize, rx_bad_src, sleeps, blocked;
    stat tx_core_rounds;  // written by whoever holds tx_owner
    // The port's own drops (its ring, the kernel's counters), which only the
    // thread driving that half may read: published by the RX thread every
    // publish_every rounds and before it blocks, and by whoever holds the TX
    // half after each TX round, for any thread's read_port_counters().
    stat port_rx_dropped, port_tx_dropped;
    uint32_t rx_rounds = 0;  // RX thread only
    std::vector<packet> rx_buf, drop_buf, ret_buf, tx_buf, port_buf;
    std::vector<uint8_t> rx_core;  // steer_fast's first pass: each frame's core
    std::vector<uint32_t> tx_src;  // per port buffer: index of its frame in tx_buf
    netio::frame_steer steer;             // frame -> core as rss_queue(rss_hash(...)), fewer instructions
    uint32_t port_buf_size = 0;
    uint32_t ov_total = 0;  // frames in all overflow queues (RX thread): skips step 2 when 0

    // One RX burst's staging per core (RX thread): frames are written
    // straight into the core's rx pipe, [next, limit) is the current run of
    // free slots (credit, cut at the array's end), wrap_room the free slots
    // at the array's start after it. 0 room while the core has frames in its
    // overflow queue, so its frames stay in order.
    struct stage_slot {
        packet *next, *limit, *run, *base;
        uint32_t staged;     // frames in runs before [run, next)
        uint32_t wrap_room;  // credit left at the array's start
        uint32_t count() const { return staged + uint32_t(next - run); }
    };
    std::vector<stage_slot> stage;

    shared(unsigned ncores, unsigned unhashed) : steer(ncores, unhashed), stage(ncores) {}
};

// One core's side of the sw mode: the netio::queue the stack drives, plus
// the dispatcher's private state for that core.
struct engine::core_state final : netio::queue {
    core_state(engine& e, unsigned c, uint32_t bsize)
        : eng(e),
          idx(c),
          rx(e._cfg.pipe_size),
          ret(e._cfg.pipe_size),
          egress(e._cfg.pipe_size),
          tx_done(e._cfg.tx_pool_size),
          overflow(e._cfg.overflow_size),
          pool_bufs(e._cfg.tx_pool_size),
          buf_size(bsize) {
        // The credit rule below relies on the return pipe holding a full rx pipe.
        arena = std::make_unique<std::byte[]>(size_t(pool_bufs) * buf_size);
        free_list.reserve(pool_bufs);
        for (uint32_t i = pool_bufs; i-- > 0;) free_list.push_back(i);
        drain_buf.resize(std::max(e._cfg.tx_batch, 64u));
    }

    // ---- netio::queue, driven by the core's thread ----
    unsigned rx_burst(std::span<packet> out) override {
        unsigned n = rx.pop(out);
        if (n) {
            uint64_t b = 0;
#pragma GCC unroll 4
            for (unsigned i = 0; i < n; ++i) b += out[i].len;
            consumed.add(n);
            rx_bytes.add(b);
        }
        return n;
    }
    void release(std::span<const packet> pkts) override {
        // Cannot fall short: the dispatcher never lets more than the return
        // pipe's capacity be outstanding at this core (credit rule).
        while (!pkts.empty()) {
            unsigned n = ret.push(pkts);
            pkts = pkts.subspan(n);
            if (!pkts.empty()) cpu_relax();
        }
    }
    unsigned alloc_tx(std::span<packet> out) override {
        if (free_list.size() < out.size()) reclaim();
        unsigned n = unsigned(std::min(out.size(), free_list.size()));
        for (unsigned i = 0; i < n; ++i) {
            uint32_t h = free_list.back();
            free_list.pop_back();
            out[i] = packet{arena.get() + size_t(h) * buf_size, buf_size, h};
        }
        return n;
    }
    unsigned tx_burst(std::span<packet> pkts) override {
        unsigned n = egress.push(pkts);
        if (n) {
            uint64_t b = 0;
            for (unsigned i = 0; i < n; ++i) b += pkts[i].len;
            submitted.add(n);
            tx_bytes.add(b);
            tx_dirty = true;
        }
        if (n < pkts.size()) refused.add(pkts.size() - n);
        return n;
    }
    void free_tx(std::span<const packet> pkts) override {
        for (const packet& p : pkts)
            if (p.handle < pool_bufs && free_list.size() < pool_bufs) free_list.push_back(p.handle);
    }
    void flush() override {
        // One check per loop iteration; a syscall only if the split TX thread
        // sleeps (or, single layout, the port's own flush when we transmit).
        if (tx_dirty) {
            tx_dirty = false;
            eng.kick_tx();
        }
    }
    bool wait(int64_t timeout_ns) override {
        if (!rx.empty()) return true;
        if (timeout_ns == 0) return false;
        if (rx_sleep.sleep(timeout_ns, [this] {
                return !rx.empty() || interrupted.load(std::memory_order_seq_cst);
            }))
            sleeps.add(1);
        interrupted.store(false, std::memory_order_relaxed);
        return !rx.empty();
    }
    // thread_mode = thread: the application thread ends our wait when it
    // posts a call (the flag covers a post before the sleep's check).
    bool interruptible() const override { return true; }
    void interrupt() override {
        interrupted.store(true, std::memory_order_seq_cst);
        rx_sleep.wake_always();
    }
    netio::queue_stats stats() const override {
        netio::queue_stats s;
        s.rx_packets = consumed.get();
        s.rx_bytes = rx_bytes.get();
        s.tx_packets = submitted.get();
        s.tx_bytes = tx_bytes.get();
        s.rx_dropped = dropped_overflow.get();
        s.tx_dropped = tx_oversize.get();
        s.sleeps = sleeps.get();
        return s;
    }

    void reclaim() {
        for (;;) {
            unsigned n = tx_done.pop(drain_buf);
            for (unsigned i = 0; i < n; ++i) free_list.push_back(drain_buf[i].handle);
            if (n < drain_buf.size()) break;
        }
    }

    engine& eng;
    const unsigned idx;
    spsc_pipe<packet> rx;       // dispatcher -> core: received frames (port buffers)
    spsc_pipe<packet> ret;      // core -> dispatcher: released port buffers
    spsc_pipe<packet> egress;   // core -> dispatcher: frames to send (pool buffers)
    spsc_pipe<packet> tx_done;  // dispatcher -> core: sent pool buffers
    sleeper rx_sleep;
    std::atomic<bool> interrupted{false};  // core_queue::interrupt(), consumed by wait()

    // Dispatcher RX thread only.
    std::vector<packet> overflow;
    uint32_t ov_head = 0, ov_count = 0;
    uint64_t delivered_n = 0, returned_n = 0;  // credit: outstanding = delivered - returned

    // Core thread only.
    const uint32_t pool_bufs, buf_size;
    std::unique_ptr<std::byte[]> arena;
    std::vector<uint32_t> free_list;
    std::vector<packet> drain_buf;
    bool tx_dirty = false;

    // Dispatcher-written counters.
    alignas(64) stat delivered, via_overflow, dropped_overflow, in_overflow, tx_sent,
        tx_oversize, wakeups;
    // Core-written counters.
    alignas(64) stat consumed, rx_bytes, submitted, tx_bytes, refused, sleeps;
};

uint64_t counters::rx_delivered() const {
    uint64_t s = 0;
    for (const auto& c : cores) s += c.rx_delivered;
    return s;
}
uint64_t counters::rx_dropped() const {
    uint64_t s = rx_dropped_runt + rx_dropped_oversize + rx_dropped_bad_src;
    for (const auto& c : cores) s += c.rx_dropped_overflow;
    return s;
}
uint64_t counters::rx_in_overflow() const {
    uint64_t s = 0;
    for (const auto& c : cores) s += c.rx_in_overflow;
    return s;
}

engine::engine(netio::port& port, const engine_config& cfg) : _port(port), _cfg(cfg) {}

engine::~engine() {
    stop();
}

netio::result<std::unique_ptr<engine>> engine::create(netio::port& port, const engine_config& cfg) {
    auto bad = [&](std::string why) {
        return fail(netio::error{netio::errc::bad_config,
                                 "dist on " + port.info().spec + ": " + std::move(why)});
    };
    if (cfg.ncores == 0 || cfg.ncores > 64) return bad("ncores must be 1..64");
    if (cfg.dist_mode == mode::hw) {
        if (port.num_queues() < cfg.ncores)
            return bad("hw mode needs one port queue per core (" + std::to_string(cfg.ncores) +
                       " cores, port has " + std::to_string(port.num_queues()) + " queues)");
        return std::unique_ptr<engine>(new engine(port, cfg));
    }
    if (port.num_queues() != 1)
        return bad("sw mode drives a single-queue port (port has " +
                   std::to_string(port.num_queues()) + " queues; use hw mode)");
    if (cfg.rx_batch == 0 || cfg.rx_batch > 1024) return bad("rx_batch must be 1..1024");
    if (cfg.tx_batch == 0 || cfg.tx_batch > 1024) return bad("tx_batch must be 1..1024");
    if (cfg.pipe_size < 2 || cfg.pipe_size > (1u << 20)) return bad("pipe_size must be 2..1048576");
    if (cfg.overflow_size > (1u << 20)) return bad("overflow_size must be at most 1048576");
    if (cfg.tx_pool_size < cfg.tx_batch || cfg.tx_pool_size > (1u << 20))
        return bad("tx_pool_size must be tx_batch..1048576");
    if (cfg.unhashed_core >= cfg.ncores) return bad("unhashed_core must be below ncores");
    if (port.info().buf_size < wire::ethernet_view::header_len)
        return bad("port buffers must hold an Ethernet header");

    std::unique_ptr<engine> e(new engine(port, cfg));
    // Pipes are rounded up to powers of two; use what they really hold.
    e->_cfg.pipe_size = std::bit_ceil(cfg.pipe_size);
    e->_s = std::make_unique<shared>(cfg.ncores, cfg.unhashed_core);
    const uint32_t buf_size = port.info().buf_size;
    for (unsigned c = 0; c < cfg.ncores; ++c)
        e->_cores.push_back(std::make_unique<core_state>(*e, c, buf_size));
    auto& s = *e->_s;
    s.rx_buf.resize(cfg.rx_batch);
    s.rx_core.resize(cfg.rx_batch);
    s.drop_buf.resize(cfg.rx_batch);
    s.ret_buf.resize(std::max<uint32_t>(cfg.rx_batch, 64));
    s.tx_buf.resize(cfg.tx_batch);
    s.port_buf.resize(cfg.tx_batch);
    s.tx_src.resize(cfg.tx_batch);
    s.port_buf_size = buf_size;
    e->_q0 = &port.q(0);
    // The pcap wrapper records both directions of a queue into one buffer.
    if (netio::pcap_stats(port, 0)) e->_cfg.tx_handoff = false;
    return e;
}

netio::queue& engine::core_queue(unsigned c) {
    if (_cfg.dist_mode == mode::hw) return _port.q(c);
    return *_cores.at(c);
}

namespace {

// Best effort: a CPU that does not exist or is not allowed leaves the thread
// where the scheduler put it.
void pin_to(std::thread& t, int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(t.native_handle(), sizeof(set), &set);
}

}  // namespace

void engine::start() {
    if (_running || _cfg.dist_mode == mode::hw) return;
    _stop.store(false);
    _s->tx_owner.store(tx_dispatcher);
    _running = true;
    if (_cfg.dist_layout == layout::single) {
        _threads.emplace_back([this] { single_loop(); });
        pin_to(_threads.back(), _cfg.rx_cpu);
    } else {
        _threads.emplace_back([this] { rx_loop(); });
        pin_to(_threads.back(), _cfg.rx_cpu);
        _threads.emplace_back([this] { tx_loop(); });
        pin_to(_threads.back(), _cfg.tx_cpu);
    }
}

void engine::stop() {
    if (!_running) return;
    _stop.store(true);
    _s->tx_sleep.wake_always();
    for (auto& t : _threads) t.join();
    _threads.clear();
    _running = false;
    // The threads are gone: this one may read both halves' last counts.
    _s->port_rx_dropped.set(_q0->rx_drops());
    _s->port_tx_dropped.set(_q0->tx_drops());
    drain_all();
}

// Returns every port buffer the engine still holds to the port, and every
// pool buffer waiting for TX to its core's free list.
void engine::drain_all() {
    netio::queue& q = _port.q(0);
    auto& s = *_s;
    for (auto& cp : _cores) {
        core_state& c = *cp;
        for (unsigned n; (n = c.ret.pop(s.ret_buf)) > 0;) {
            q.release(std::span(s.ret_buf).first(n));
            c.returned_n += n;
        }
        for (unsigned n; (n = c.rx.pop(s.ret_buf)) > 0;) {
            q.release(std::span(s.ret_buf).first(n));
            c.returned_n += n;  // never reached the core: undo the credit
        }
        for (; c.ov_count; --c.ov_count) {
            q.release(std::span(&c.overflow[c.ov_head], 1));
            c.ov_head = (c.ov_head + 1) % uint32_t(c.overflow.size());
        }
        c.in_overflow.set(0);
        s.ov_total = 0;
        for (unsigned n; (n = c.egress.pop(s.ret_buf)) > 0;)
            c.tx_done.push(std::span<const packet>(s.ret_buf).first(n));
    }
}

// Why a frame is dropped before steering (0: it is not). The common case is
// one unsigned compare for the length (14 <= len <= buffer size) and one
// octet load; the caller then counts the reason.
enum : unsigned { frame_ok = 0, frame_runt, frame_oversize, frame_bad_src };
static inline unsigned frame_fault(const packet& p, uint32_t max_len) {
    constexpr uint32_t hdr = wire::ethernet_view::header_len;
    // IEEE 802.3: a source is never a group address (I/G bit of octet 6).
    if (p.len - hdr <= max_len - hdr) [[likely]]
        return (load8(p.data + 6) & 1) ? frame_bad_src : frame_ok;
    return p.len < hdr ? frame_runt : frame_oversize;
}

// Whether any of n frames fails frame_fault(), without a branch per frame.
// Reads octet 6 even of a runt: every frame's data points to a whole port
// buffer (at least a header long, create() checks).
static inline bool any_fault(const packet* p, unsigned n, uint32_t max_len) {
    constexpr uint32_t hdr = wire::ethernet_view::header_len;
    const uint32_t span = max_len - hdr;
    uint32_t longest = 0, octets = 0;  // max(len - hdr), OR of octet 6
#pragma GCC unroll 4
    for (unsigned i = 0; i < n; ++i) {
        longest = std::max(longest, p[i].len - hdr);
        octets |= load8(p[i].data + 6);
    }
    return longest > span || (octets & 1u);
}

unsigned engine::count_fault(unsigned fault, const packet& p, unsigned ndrop) {
    auto& s = *_s;
    (fault == frame_runt       ? s.rx_runt
     : fault == frame_oversize ? s.rx_oversize
                               : s.rx_bad_src)
        .add(1);
    s.drop_buf[ndrop] = p;
    return ndrop + 1;
}

// Step 1: buffers the cores are done with go back to the port, straight from
// the return pipe's slots (no copy; one acquire load per core per round).
[[gnu::always_inline]] inline unsigned engine::return_released(netio::queue& q) {
    unsigned work = 0;
    for (auto& cp : _cores) {
        core_state& c = *cp;
        auto r = c.ret.front();
        const unsigned n = r.size();
        if (!n) continue;
        q.release(r.first);
        if (!r.second.empty()) q.release(r.second);
        c.ret.consume(n);
        c.returned_n += n;
        work += n;
    }
    return work;
}

// Step 2: overflow first, so a core's frames stay in arrival order.
unsigned engine::drain_overflow() {
    auto& s = *_s;
    const uint32_t cap = _cfg.pipe_size;
    unsigned work = 0;
    for (auto& cp : _cores) {
        core_state& c = *cp;
        if (!c.ov_count) continue;
        uint64_t credit = cap - (c.delivered_n - c.returned_n);
        unsigned moved = 0;
        const uint32_t osz = uint32_t(c.overflow.size());
        while (c.ov_count && credit) {
            uint32_t run = std::min<uint64_t>({c.ov_count, osz - c.ov_head, credit});
            unsigned n = c.rx.push(std::span<const packet>(&c.overflow[c.ov_head], run));
            c.ov_head = (c.ov_head + n) % osz;
            c.ov_count -= n;
            credit -= n;
            moved += n;
            if (n < run) break;
        }
        if (moved) {
            s.ov_total -= moved;
            c.delivered_n += moved;
            c.delivered.add(moved);
            c.in_overflow.set(c.ov_count);
            if (c.rx_sleep.wake()) c.wakeups.add(1);
            work += moved;
        }
    }
    return work;
}

// Publishes a core's staged frames: one release store, counters once, and a
// futex wake only if the core announced it sleeps.
[[gnu::always_inline]] inline void engine::deliver(core_state& c, unsigned n) {
    c.rx.commit(n);
    c.delivered_n += n;
    c.delivered.add(n);
    if (c.rx_sleep.wake()) c.wakeups.add(1);
}

// One core, enough credit: rx_burst into the pipe's free slots and check the
// frames in place. The check pass has no branch per frame (so the CPU loads
// the frames' headers in parallel, no prefetch needed) and writes nothing;
// only a burst with a bad frame takes a second pass that counts and drops
// it, closing the gap. No parse, no hash, no descriptor copied.
[[gnu::always_inline]] inline unsigned engine::rx_direct(netio::queue& q, core_state& c) {
    auto& s = *_s;
    std::span<packet> run = c.rx.free_run(_cfg.rx_batch);
    const unsigned n = q.rx_burst(run);
    if (!n) return 0;
    s.rx_received.add(n);
    packet* slot = run.data();
    if (any_fault(slot, n, s.port_buf_size)) [[unlikely]] {
        unsigned ndrop = 0;
        if (unsigned kept = drop_faulty(slot, n, ndrop)) deliver(c, kept);
        q.release(std::span(s.drop_buf).first(ndrop));
        return n;
    }
    deliver(c, n);
    return n;
}

[[gnu::always_inline]] inline unsigned engine::rx_step() {
    netio::queue& q = *_q0;
    auto& s = *_s;
    // A full ring shows while the dispatcher is busy, so not only when idle;
    // 1024 rounds keep a possible syscall (AF_XDP, AF_PACKET statistics)
    // far from the per-frame cost.
    if ((++s.rx_rounds & 1023) == 0) [[unlikely]] s.port_rx_dropped.set(q.rx_drops());
    unsigned work = return_released(q);
    if (s.ov_total) work += drain_overflow();
    // 3. New frames. One core with credit for a whole burst and nothing held
    // back: the port writes its descriptors straight into the core's rx pipe.
    if (_cfg.ncores == 1) {
        core_state& c = *_cores[0];
        if (!c.ov_count && _cfg.pipe_size - (c.delivered_n - c.returned_n) >= _cfg.rx_batch)
            return work + rx_direct(q, c);
    }
    return work + rx_steer(q);
}

// Drops the frames frame_fault() refuses (counted, appended to drop_buf)
// and closes the gaps; returns how many are left. Off the fast path.
unsigned engine::drop_faulty(packet* p, unsigned n, unsigned& ndrop) {
    const uint32_t max_len = _s->port_buf_size;
    unsigned kept = 0;
    for (unsigned i = 0; i < n; ++i) {
        const packet f = p[i];
        if (unsigned why = frame_fault(f, max_len))
            ndrop = count_fault(why, f, ndrop);
        else
            p[kept++] = f;
    }
    return kept;
}

// A core's current run of pipe slots is used up: continue at the array's
// start if credit is left there, else the frame goes to the core's overflow
// queue (and so do the core's later frames of this burst: order), else it is
// dropped and counted.
void engine::stage_slow(unsigned ci, const packet& p, unsigned& ndrop) {
    auto& s = *_s;
    shared::stage_slot& t = s.stage[ci];
    if (t.wrap_room) {
        t.staged += uint32_t(t.next - t.run);
        t.run = t.next = t.base;
        t.limit = t.base + t.wrap_room;
        t.wrap_room = 0;
        *t.next++ = p;
        return;
    }
    core_state& c = *_cores[ci];
    c.via_overflow.add(1);
    if (c.ov_count < c.overflow.size()) {
        c.overflow[(c.ov_head + c.ov_count) % c.overflow.size()] = p;
        ++c.ov_count;
        ++s.ov_total;
        c.in_overflow.set(c.ov_count);
    } else {
        c.dropped_overflow.add(1);
        s.drop_buf[ndrop++] = p;
    }
}

// Opens every core's staging for one burst: its current run of free pipe
// slots (credit, cut at the array's end) and the credit left after a wrap.
void engine::open_stages() {
    auto& s = *_s;
    const uint32_t cap = _cfg.pipe_size;
    shared::stage_slot* st = s.stage.data();
    for (unsigned c = 0; c < _cfg.ncores; ++c) {
        core_state& cs = *_cores[c];
        // Credit: occupancy <= outstanding = delivered - returned, and the
        // acquire on the return pipe that counted those buffers returned
        // orders the core's reads of the slots before our writes.
        const uint32_t room = cs.ov_count ? 0 : uint32_t(cap - (cs.delivered_n - cs.returned_n));
        auto v = cs.rx.stage();
        const uint32_t at = v.tail & v.mask, contig = std::min(room, cap - at);
        st[c].base = v.base;
        st[c].run = st[c].next = v.base + at;
        st[c].limit = st[c].next + contig;
        st[c].staged = 0;
        st[c].wrap_room = room - contig;
    }
}

// The fast pass for several cores, the common case: every frame valid and
// every core with credit for its share. Two passes over the burst:
//  1. validation and steering: frame_fault()'s tests folded into one flag
//     without a branch per frame, and each frame's core into rx_core.
//     Nothing in this pass depends on an earlier frame, so the CPU has the
//     burst's header loads (the cache misses) in flight together.
//  2. staging: one 16-octet store per frame into its core's pipe. Only
//     cache-hot data here.
// Fusing the two into one loop saves ~9 instructions per frame and costs
// ~2 ns (sw2, 18.5 -> 20.7 ns per frame): each store's address, and with it
// the next frame's staging (the stage slot's `next`), then waits for the
// frame's header miss.
// A bad frame anywhere makes it place nothing (returns 0); a core out of
// credit stops pass 2 at that frame. Returns how many frames it placed;
// rx_steer's careful loop goes on from there.
[[gnu::always_inline]] inline unsigned engine::steer_fast(const packet* in, unsigned n) {
    auto& s = *_s;
    constexpr uint32_t hdr = wire::ethernet_view::header_len;
    const uint32_t span = s.port_buf_size - hdr;
    const netio::frame_steer& steer = s.steer;
    uint8_t* core = s.rx_core.data();
    uint32_t longest = 0, octets = 0;  // max(len - hdr), OR of octet 6 (as any_fault)
    for (unsigned i = 0; i < n; ++i) {
        const packet& p = in[i];
        longest = std::max(longest, p.len - hdr);
        octets |= load8(p.data + 6);
        core[i] = uint8_t(steer.core(p.data, p.len));
    }
    if (longest > span || (octets & 1u)) [[unlikely]]
        return 0;
    shared::stage_slot* st = s.stage.data();
    for (unsigned i = 0; i < n; ++i) {
        shared::stage_slot& t = st[core[i]];
        if (t.next == t.limit) [[unlikely]] {
            if (!t.wrap_room) return i;
            t.staged += uint32_t(t.next - t.run);
            t.run = t.next = t.base;
            t.limit = t.base + t.wrap_room;
            t.wrap_room = 0;
        }
        *t.next++ = in[i];
    }
    return n;
}

// General case: validate, steer each frame to its core (frame_steer: the
// core rss_queue(rss_hash(key)) names), write it into that core's pipe while
// credit lasts, else into its overflow queue, else drop it (counted).
unsigned engine::rx_steer(netio::queue& q) {
    auto& s = *_s;
    const unsigned n = q.rx_burst(s.rx_buf);
    if (!n) return 0;
    s.rx_received.add(n);
    const unsigned ncores = _cfg.ncores;
    const uint32_t max_len = s.port_buf_size;
    const packet* in = s.rx_buf.data();
    shared::stage_slot* st = s.stage.data();
    open_stages();
    unsigned i = ncores > 1 ? steer_fast(in, n) : 0, ndrop = 0;
    // The careful loop, from the first frame the fast pass could not place:
    // bad frames are counted and dropped, a core out of credit gets its
    // frames in its overflow queue (or drops them, counted).
    for (; i < n; ++i) {
        const packet& p = in[i];
        if (unsigned why = frame_fault(p, max_len)) [[unlikely]] {
            ndrop = count_fault(why, p, ndrop);
            continue;
        }
        // One core: nothing to choose (unhashed_core is 0 too).
        const unsigned ci = ncores > 1 ? s.steer.core(p.data, p.len) : 0;
        shared::stage_slot& t = st[ci];
        if (t.next != t.limit) [[likely]]
            *t.next++ = p;
        else
            stage_slow(ci, p, ndrop);
    }
    for (unsigned c = 0; c < ncores; ++c)
        if (const uint32_t k = st[c].count()) deliver(*_cores[c], k);
    if (ndrop) q.release(std::span(s.drop_buf).first(ndrop));
    return n;
}

// The TX step: merges the cores' egress pipes onto the port (tx_merge).
[[gnu::always_inline]] inline unsigned engine::tx_step() {
    // The common idle case (nothing queued by any core) costs a load or two
    // per core and no call.
    for (auto& cp : _cores)
        if (cp->egress.readable()) return tx_merge();
    return 0;
}

// The port's TX buffers belong to this thread (ring order, backend memory),
// so each frame is copied once from the core's pool buffer into one; see
// docs/dist.md "Copies".
unsigned engine::tx_merge() {
    netio::queue& q = *_q0;
    auto& s = *_s;
    unsigned work = 0;
    for (auto& cp : _cores) {
        core_state& c = *cp;
        unsigned n = c.egress.peek(s.tx_buf);
        if (!n) continue;
        const uint32_t max_len = s.port_buf_size;
        auto fits = [&](const packet& f) { return f.len != 0 && f.len <= max_len; };
        unsigned need = 0;
        for (unsigned i = 0; i < n; ++i) need += fits(s.tx_buf[i]);
        unsigned k = need ? q.alloc_tx(std::span(s.port_buf).first(need)) : 0;
        unsigned i = 0, j = 0;
        for (; i < n; ++i) {
            const packet& f = s.tx_buf[i];
            if (!fits(f)) continue;                   // oversize or empty: consumed, counted below
            if (j == k) break;                        // no port buffer left for this frame
            if (f.len > s.port_buf[j].len) continue;  // buffer smaller than advertised
            std::memcpy(s.port_buf[j].data, f.data, f.len);
            s.port_buf[j].len = f.len;
            s.tx_src[j++] = i;
        }
        unsigned accepted = j ? q.tx_burst(std::span(s.port_buf).first(j)) : 0;
        if (accepted < k) q.free_tx(std::span(s.port_buf).subspan(accepted, k - accepted));
        // Frames up to the first unaccepted one are done; the rest stay in the
        // egress pipe for the next round (backpressure, not loss).
        unsigned consumed = accepted < j ? s.tx_src[accepted] : i;
        unsigned oversize = consumed - accepted;
        if (oversize) c.tx_oversize.add(oversize);
        if (consumed) {
            c.tx_done.push(std::span<const packet>(s.tx_buf).first(consumed));
            c.egress.consume(consumed);
            c.tx_sent.add(accepted);
            work += consumed;
        }
    }
    if (work) q.flush();
    s.port_tx_dropped.set(q.tx_drops());
    return work;
}

// Runs `step` until stop: spin while it finds work or for spin_rounds empty
// rounds, then block (adaptive). idle_block() bounds the sleep so core TX is
// still picked up within max_block_ns, and only yields the CPU while cores
// hold port buffers: their release cannot wake us, and a peer (shm) may be
// waiting for exactly those buffers.
template <class Step>
void engine::spin_loop(Step step) {
    uint32_t idle = 0;
    while (!_stop.load(std::memory_order_relaxed)) {
        if (step()) {
            idle = 0;
            continue;
        }
        if (++idle < _cfg.spin_rounds) {
            cpu_relax();
            continue;
        }
        idle_block();
    }
}

void engine::single_loop() {
    spin_loop([this] { return rx_step() + tx_step(); });
}

unsigned engine::poll_once(bool rx, bool tx) {
    if (_running || _cfg.dist_mode == mode::hw) return 0;
    return (rx ? rx_step() : 0) + (tx ? tx_step() : 0);
}

void engine::rx_loop() {
    spin_loop([this] { return rx_step(); });
}

bool engine::holding_port_buffers() const {
    for (const auto& c : _cores)
        if (c->delivered_n != c->returned_n || c->ov_count) return true;
    return false;
}

bool engine::egress_pending() const {
    for (const auto& c : _cores)
        if (!c->egress.empty()) return true;
    return false;
}

void engine::idle_block() {
    _s->port_rx_dropped.set(_q0->rx_drops());
    if (holding_port_buffers()) {
        std::this_thread::yield();
        return;
    }
    auto& s = *_s;
    if (_cfg.dist_layout == layout::split || !_cfg.tx_handoff) {  // keep TX
        _port.q(0).wait(_cfg.max_block_ns);
        s.sleeps.add(1);
        return;
    }
    // Single layout: lend the TX half to the cores while we sleep on the port.
    s.tx_owner.store(tx_free, std::memory_order_release);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!egress_pending()) {
        s.blocked.set(1);
        _port.q(0).wait(_cfg.max_block_ns);
        s.blocked.set(0);
        s.sleeps.add(1);
    }
    // Take it back; a core holding it finishes one TX round (bounded).
    for (uint32_t want = tx_free; !s.tx_owner.compare_exchange_weak(
             want, tx_dispatcher, std::memory_order_acquire, std::memory_order_relaxed);
         want = tx_free)
        cpu_relax();
}

// A core's flush() after it queued frames. Split layout: wake the TX thread
// if it sleeps. Single layout: if the dispatcher is blocked on the port (TX
// half free), transmit here; see tx_owner above.
void engine::kick_tx() {
    auto& s = *_s;
    if (_cfg.dist_layout == layout::split) {
        s.tx_sleep.wake();
        return;
    }
    std::atomic_thread_fence(std::memory_order_seq_cst);
    while (s.tx_owner.load(std::memory_order_relaxed) == tx_free) {
        uint32_t want = tx_free;
        if (!s.tx_owner.compare_exchange_strong(want, tx_core, std::memory_order_acquire,
                                                std::memory_order_relaxed))
            return;  // the dispatcher or another core has it and will see our frames
        unsigned done = tx_step();
        s.tx_core_rounds.add(1);
        s.tx_owner.store(tx_free, std::memory_order_release);
        // Another core may have pushed while we held it and seen tx_core: look
        // again (Dekker with its fence). No progress means the port is full:
        // leave the rest to the dispatcher rather than spin here.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (!done || !egress_pending()) return;
    }
}

void engine::tx_loop() {
    uint32_t idle = 0;
    auto has_work = [this] {
        if (_stop.load(std::memory_order_relaxed)) return true;
        for (auto& c : _cores)
            if (!c->egress.empty()) return true;
        return false;
    };
    while (!_stop.load(std::memory_order_relaxed)) {
        if (tx_step()) {
            idle = 0;
            continue;
        }
        if (++idle < _cfg.spin_rounds) {
            cpu_relax();
            continue;
        }
        // Cores' flush() wakes us as soon as they queue something.
        if (_s->tx_sleep.sleep(100'000'000, has_work)) _s->sleeps.add(1);
        idle = 0;
    }
}

engine::port_counters engine::read_port_counters() const {
    port_counters p;
    if (_cfg.dist_mode == mode::hw) return p;
    p.rx_received = _s->rx_received.get();
    p.rx_dropped_runt = _s->rx_runt.get();
    p.rx_dropped_oversize = _s->rx_oversize.get();
    p.rx_dropped_bad_src = _s->rx_bad_src.get();
    p.dispatcher_sleeps = _s->sleeps.get();
    p.rx_dropped_port = _s->port_rx_dropped.get();
    p.tx_dropped_port = _s->port_tx_dropped.get();
    return p;
}

counters engine::read_counters() const {
    counters out;
    out.cores.resize(_cfg.ncores);
    if (_cfg.dist_mode == mode::hw) {
        for (unsigned c = 0; c < _cfg.ncores; ++c) {
            auto st = _port.q(c).stats();
            out.rx_received += st.rx_packets;
            out.cores[c].rx_delivered = out.cores[c].rx_consumed = st.rx_packets;
            out.cores[c].tx_submitted = out.cores[c].tx_sent = st.tx_packets;
            out.cores[c].core_sleeps = st.sleeps;
        }
        return out;
    }
    out.rx_received = _s->rx_received.get();
    out.rx_dropped_runt = _s->rx_runt.get();
    out.rx_dropped_oversize = _s->rx_oversize.get();
    out.rx_dropped_bad_src = _s->rx_bad_src.get();
    out.dispatcher_sleeps = _s->sleeps.get();
    out.dispatcher_blocked = _s->blocked.get();
    out.tx_core_rounds = _s->tx_core_rounds.get();
    for (unsigned i = 0; i < _cfg.ncores; ++i) {
        const core_state& c = *_cores[i];
        auto& o = out.cores[i];
        o.rx_delivered = c.delivered.get();
        o.rx_via_overflow = c.via_overflow.get();
        o.rx_dropped_overflow = c.dropped_overflow.get();
        o.rx_in_overflow = c.in_overflow.get();
        o.rx_consumed = c.consumed.get();
        o.tx_submitted = c.submitted.get();
        o.tx_refused = c.refused.get();
        o.tx_sent = c.tx_sent.get();
        o.tx_dropped_oversize = c.tx_oversize.get();
        o.core_sleeps = c.sleeps.get();
        o.core_wakeups = c.wakeups.get();
    }
    return out;
}

}  // namespace mvnf::dist
