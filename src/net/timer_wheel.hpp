// A hashed timer wheel (Varghese & Lauck, scheme 6), one per core: used by
// IPv4 reassembly and offered to TCP (RTO, delayed ACK, TIME_WAIT...) through
// net::ip_output::timers(). arm/cancel are O(1); advance(now) visits one slot
// per elapsed tick (at most every slot once when the clock jumps far).
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

struct timer {
    using callback = void (*)(timer& t, nanos now);

    callback fn = nullptr;
    void* ctx = nullptr;  // for the callback: usually the owning object

    bool armed() const { return _next != nullptr; }
    nanos deadline() const { return _deadline; }

    timer() = default;
    timer(callback f, void* c) : fn(f), ctx(c) {}
    timer(const timer&) = delete;  // linked into a list: never copied while armed
    timer& operator=(const timer&) = delete;

private:
    friend class timer_wheel;
    timer* _prev = nullptr;
    timer* _next = nullptr;  // null when not armed
    uint64_t _tick = 0;      // absolute expiry tick
    nanos _deadline = 0;
};

class timer_wheel {
public:
    // tick: resolution; slots: rounded up to a power of two. `start` is the
    // virtual time the wheel begins at. Allocates its slots here, once.
    timer_wheel(nanos tick = msec(1), size_t slots = 4096, nanos start = 0);
    ~timer_wheel();
    timer_wheel(const timer_wheel&) = delete;
    timer_wheel& operator=(const timer_wheel&) = delete;

    // (Re)arms t to fire at the first tick at or after `deadline`. A deadline
    // already past fires on the next advance().
    void arm(timer& t, nanos deadline);
    // Disarms t if armed; safe to call on an idle timer or from a callback.
    void cancel(timer& t);
    // Fires every timer due at `now` (callbacks may arm/cancel any timer);
    // returns how many fired.
    size_t advance(nanos now);
    // Earliest armed deadline (tick-rounded), or `never`.
    nanos next_deadline() const;

    size_t armed_count() const { return _armed; }
    nanos tick() const { return _tick; }

private:
    void link(timer* head, timer& t);
    static void unlink(timer& t);
    uint64_t tick_of(nanos t) const { return (t + _tick - 1) / _tick; }  // rounds up

    nanos _tick;
    size_t _mask;
    std::vector<timer> _slots;  // sentinel heads of circular lists
    uint64_t _cur = 0;          // every tick <= _cur has been processed
    size_t _armed = 0;
    mutable nanos _cached_next = never;
    mutable bool _next_dirty = false;
};

}  // namespace mvnf::net
