// The hashed timer wheel (see timer_wheel.hpp). Slot i holds every armed
// timer whose absolute expiry tick is congruent to i; advance() fires those
// whose tick has come, leaving later "rounds" in place.
#include "net/timer_wheel.hpp"

#include <algorithm>

namespace mvnf::net {

namespace {
size_t round_pow2(size_t n) {
    size_t p = 1;
    while (p < n) p <<= 1;
    return p;
}
}  // namespace

timer_wheel::timer_wheel(nanos tick, size_t slots, nanos start)
    : _tick(tick ? tick : 1), _mask(round_pow2(std::max<size_t>(slots, 2)) - 1), _slots(_mask + 1) {
    for (auto& s : _slots) s._prev = s._next = &s;
    _cur = start / _tick;
}

timer_wheel::~timer_wheel() {
    // Leave owners' timers in a sane (disarmed) state if they outlive us.
    for (auto& s : _slots)
        while (s._next != &s) unlink(*s._next);
}

void timer_wheel::link(timer* head, timer& t) {
    t._prev = head->_prev;
    t._next = head;
    head->_prev->_next = &t;
    head->_prev = &t;
}

void timer_wheel::unlink(timer& t) {
    t._prev->_next = t._next;
    t._next->_prev = t._prev;
    t._prev = t._next = nullptr;
}

void timer_wheel::arm(timer& t, nanos deadline) {
    if (t.armed()) cancel(t);
    uint64_t tk = std::max(tick_of(deadline), _cur + 1);  // the past fires on the next tick
    t._tick = tk;
    t._deadline = tk * _tick;
    link(&_slots[tk & _mask], t);
    ++_armed;
    if (t._deadline < _cached_next) _cached_next = t._deadline;
}

void timer_wheel::cancel(timer& t) {
    if (!t.armed()) return;
    unlink(t);
    --_armed;
    if (t._deadline == _cached_next) _next_dirty = true;
}

size_t timer_wheel::advance(nanos now) {
    uint64_t now_tick = now / _tick;
    if (now_tick <= _cur) return 0;
    // Collect every due timer first so callbacks can arm/cancel freely.
    timer due;
    due._prev = due._next = &due;
    uint64_t span = std::min<uint64_t>(now_tick - _cur, _mask + 1);
    for (uint64_t i = 1; i <= span; ++i) {
        timer& head = _slots[(_cur + i) & _mask];
        for (timer* t = head._next; t != &head;) {
            timer* nx = t->_next;
            if (t->_tick <= now_tick) {
                unlink(*t);
                link(&due, *t);
            }
            t = nx;
        }
    }
    _cur = now_tick;
    size_t fired = 0;
    _next_dirty = true;
    while (due._next != &due) {
        timer& t = *due._next;
        unlink(t);
        --_armed;
        ++fired;
        if (t.fn) t.fn(t, now);
    }
    return fired;
}

nanos timer_wheel::next_deadline() const {
    if (_armed == 0) return never;
    if (!_next_dirty) return _cached_next;
    // Walk slots from the cursor; the first slot holding a timer due within
    // this round bounds the answer, but later rounds in earlier slots may be
    // smaller than later slots' — so keep the minimum seen and stop once the
    // slot distance passes it.
    uint64_t best = UINT64_MAX;
    for (uint64_t i = 1; i <= _mask + 1; ++i) {
        if (_cur + i >= best) break;
        const timer& head = _slots[(_cur + i) & _mask];
        for (const timer* t = head._next; t != &head; t = t->_next) best = std::min(best, t->_tick);
    }
    _cached_next = best == UINT64_MAX ? never : best * _tick;
    _next_dirty = false;
    return _cached_next;
}

}  // namespace mvnf::net
