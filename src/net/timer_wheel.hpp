// A hierarchical hashed timer wheel (Varghese & Lauck, scheme 7), one per
// owner: IPv4 reassembly and the TCP layer each run one. arm/cancel are O(1);
// advance(now) is a compare until the next tick with work (a timer or a
// cascade), then a few bit scans per level; next_deadline() is a cached
// value, recomputed (bit scans, or one slot's timers) only after the
// earliest timer was cancelled or reached. Nothing walks the armed timers,
// so a core holding 250K connections' timers pays for the timers that fire
// and nothing else.
//
// Level 0 has `slots` slots of one tick each; every level above has `slots`
// slots, each covering a whole revolution of the level below. A timer sits
// in the lowest level whose current revolution contains its expiry tick and
// moves down ("cascades") when the cursor enters its slot's span, so each
// timer is touched at most once per level. Levels are added until they span
// 2^48 ticks (8900 years at 1 ms); anything further waits at the top and is
// re-placed when its slot comes round.
//
// Timers are intrusive: the owner embeds a `timer` (so arming never
// allocates) and gives it a callback. Deadlines are rounded *up* to the tick,
// so a timer never fires early.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "net/time.hpp"

namespace mvnf::net {

class timer_wheel;

// The list links a timer shares with the wheel's slot heads (16 octets each,
// so the heads of every level stay small).
struct timer_link {
    timer_link* _prev = nullptr;
    timer_link* _next = nullptr;  // null when not armed
};

struct timer : private timer_link {
    using callback = void (*)(timer& t, nanos now);

    callback fn = nullptr;
    void* ctx = nullptr;  // for the callback: usually the owning object

    bool armed() const { return _next != nullptr; }
    // The tick-rounded deadline it was last armed for.
    nanos deadline() const { return _deadline; }

    timer() = default;
    timer(callback f, void* c) : fn(f), ctx(c) {}
    timer(const timer&) = delete;  // linked into a list: never copied while armed
    timer& operator=(const timer&) = delete;

  private:
    friend class timer_wheel;
    uint64_t _tick = 0;  // absolute expiry tick
    nanos _deadline = 0;
    uint32_t _slot = 0;  // index into the wheel's slot heads (level * slots + slot)
};

class timer_wheel {
  public:
    // tick: resolution; slots per level: rounded up to a power of two (>= 2).
    // `start` is the virtual time the wheel begins at. Allocates here, once.
    timer_wheel(nanos tick = msec(1), size_t slots = 4096, nanos start = 0);
    ~timer_wheel();
    timer_wheel(const timer_wheel&) = delete;
    timer_wheel& operator=(const timer_wheel&) = delete;

    // (Re)arms t to fire at the first tick at or after `deadline`. A deadline
    // already past fires on the next advance() that moves the clock a tick.
    void arm(timer& t, nanos deadline);
    // Disarms t if armed; safe to call on an idle timer or from a callback.
    void cancel(timer& t);
    // Fires every timer due at `now` (callbacks may arm/cancel any timer);
    // returns how many fired.
    size_t advance(nanos now);
    // Earliest armed deadline (tick-rounded), or `never`.
    nanos next_deadline() const;

    // Moves an idle wheel to `start`, as if it had just been constructed
    // there (time may go backwards). Refuses (false) while any timer is
    // armed: their ticks would be meaningless at the new origin. Lets a
    // harness that reuses a whole stack (fuzz/) restart its virtual clock.
    bool reset(nanos start);

    size_t armed_count() const { return _armed; }
    nanos tick() const { return _tick; }
    unsigned levels() const { return _levels; }

  private:
    static constexpr uint32_t due_slot = ~0u;  // timer::_slot while on advance()'s due list

    void place(timer& t);
    static void link(timer_link& head, timer& t);
    void unlink(timer& t);
    void cascade(timer_link& due);
    uint64_t next_cascade() const;
    void take_slot(uint32_t slot, timer_link& to);
    // First occupied slot of `level` at a digit >= from, or -1.
    int next_set(unsigned level, uint64_t from) const;
    static timer& of(timer_link* l) { return static_cast<timer&>(*l); }
    uint64_t tick_of(nanos t) const { return t / _tick + (t % _tick != 0); }  // rounds up
    unsigned shift(unsigned level) const { return _bits * level; }

    nanos _tick;
    unsigned _bits;  // log2(slots per level)
    uint64_t _mask;  // slots per level - 1
    unsigned _levels;
    size_t _words;                   // bitmap words per level
    size_t _swords;                  // summary words per level
    std::vector<timer_link> _slots;  // sentinel heads of circular lists, level-major
    std::vector<uint64_t> _occ;      // occupancy bitmap per level (level-major)
    // One bit per occupancy word, set while that word is nonzero, so finding
    // the next occupied slot costs two bit scans, not a walk over up to 64
    // words (4096 slots) per level: next_deadline() runs it whenever an
    // arm, cancel or tick has made the cached answer stale.
    std::vector<uint64_t> _summary;
    std::vector<uint32_t> _count;    // timers per level
    uint64_t _cur = 0;               // every tick <= _cur has been processed
    // A lower bound on the first tick after _cur at which advance() has
    // work (an occupied level-0 slot, or a cascade), or UINT64_MAX. place()
    // lowers it, cancel() leaves it (too early only costs one search), and
    // advance() sets it from the search that ends its walk. A poll loop
    // advances on every iteration, nearly always before this tick: that
    // call is then a compare, not two bitmap searches per level.
    uint64_t _next_event = UINT64_MAX;
    size_t _armed = 0;
    mutable nanos _cached_next = never;
    mutable bool _next_dirty = false;
};

}  // namespace mvnf::net
