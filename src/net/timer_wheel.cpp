// The hierarchical timer wheel (see timer_wheel.hpp).
//
// Placement: a timer expiring at tick T, with the cursor at C < T, sits in
// the lowest level l such that T and C agree on every digit above level l
// (T >> shift(l+1) == C >> shift(l+1)); its slot there is T's level-l digit,
// which is then greater than C's. So level 0 holds exactly the timers of the
// current revolution, each in the slot of its own tick, and every level-l
// timer is earlier than every level-(l+1) timer. When the cursor reaches a
// multiple of 2^shift(l), the level-l slot of its digit is emptied and its
// timers placed again (they now agree with C one level further down).
#include "net/timer_wheel.hpp"

#include <algorithm>
#include <bit>

namespace mvnf::net {

namespace {
constexpr unsigned span_bits = 48;  // levels are added until they span 2^48 ticks
}

timer_wheel::timer_wheel(nanos tick, size_t slots, nanos start) : _tick(tick ? tick : 1) {
    // 2..65536 slots per level keeps shift(_levels) <= 63.
    const size_t n = std::bit_ceil(std::clamp<size_t>(slots, 2, size_t(1) << 16));
    _bits = unsigned(std::countr_zero(n));
    _mask = n - 1;
    _levels = (span_bits + _bits - 1) / _bits;
    _words = (n + 63) / 64;
    _swords = (_words + 63) / 64;
    _slots.resize(size_t(_levels) * n);
    for (auto& s : _slots) s._prev = s._next = &s;
    _occ.assign(size_t(_levels) * _words, 0);
    _summary.assign(size_t(_levels) * _swords, 0);
    _count.assign(_levels, 0);
    _cur = start / _tick;
}

timer_wheel::~timer_wheel() {
    // Leave owners' timers in a sane (disarmed) state if they outlive us.
    for (auto& s : _slots)
        while (s._next != &s) {
            timer_link* t = s._next;
            s._next = t->_next;
            t->_next->_prev = &s;
            t->_prev = t->_next = nullptr;
        }
}

bool timer_wheel::reset(nanos start) {
    if (_armed) return false;
    // With nothing armed every slot list, bitmap and counter is already
    // empty; only the cursor and the cached answers depend on time.
    _cur = start / _tick;
    _next_event = UINT64_MAX;
    _cached_next = never;
    _next_dirty = false;
    return true;
}

void timer_wheel::link(timer_link& head, timer& t) {
    t._prev = head._prev;
    t._next = &head;
    head._prev->_next = &t;
    head._prev = &t;
}

void timer_wheel::unlink(timer& t) {
    t._prev->_next = t._next;
    t._next->_prev = t._prev;
    t._prev = t._next = nullptr;
    if (t._slot == due_slot) return;
    const uint32_t s = t._slot;
    const unsigned level = s >> _bits;
    --_count[level];
    if (_slots[s]._next == &_slots[s]) {
        const uint64_t digit = s & _mask, word = digit / 64;
        uint64_t& w = _occ[level * _words + word];
        w &= ~(uint64_t(1) << (digit % 64));
        if (!w) _summary[level * _swords + word / 64] &= ~(uint64_t(1) << (word % 64));
    }
}

void timer_wheel::place(timer& t) {
    const uint64_t tk = t._tick;  // > _cur
    unsigned l = 0;
    while (l + 1 < _levels && (tk >> shift(l + 1)) != (_cur >> shift(l + 1))) ++l;
    uint64_t digit;
    if ((tk >> shift(l + 1)) != (_cur >> shift(l + 1)))
        // Beyond the top level's revolution: wait in the top level's slot 0,
        // which cascades when the next revolution starts (never later than
        // tk), and be placed again from there. Other top-level timers have
        // digits above the cursor's, so never 0.
        digit = 0;
    else
        digit = (tk >> shift(l)) & _mask;
    const uint32_t s = uint32_t((uint64_t(l) << _bits) | digit);
    // advance() must stop at this timer's tick (level 0) or where its slot
    // cascades: the first tick of the slot's span. A timer waiting at the
    // top for a later revolution (digit 0 above) is not bounded that way;
    // the next tick is a safe bound (one search, then exact again).
    const uint64_t event = l == 0 ? tk : digit == 0 ? _cur + 1 : tk & ~((uint64_t(1) << shift(l)) - 1);
    _next_event = std::min(_next_event, event);
    t._slot = s;
    link(_slots[s], t);
    ++_count[l];
    const uint64_t word = digit / 64;
    _occ[l * _words + word] |= uint64_t(1) << (digit % 64);
    _summary[l * _swords + word / 64] |= uint64_t(1) << (word % 64);
}

void timer_wheel::arm(timer& t, nanos deadline) {
    if (t.armed()) cancel(t);
    const uint64_t tk = std::max(tick_of(deadline), _cur + 1);  // the past fires on the next tick
    t._tick = tk;
    t._deadline = tk > never / _tick ? never : tk * _tick;
    place(t);
    ++_armed;
    if (!_next_dirty && t._deadline < _cached_next) _cached_next = t._deadline;
}

void timer_wheel::cancel(timer& t) {
    if (!t.armed()) return;
    unlink(t);
    --_armed;
    if (t._deadline <= _cached_next) _next_dirty = true;
}

int timer_wheel::next_set(unsigned level, uint64_t from) const {
    if (from > _mask) return -1;
    const uint64_t* b = &_occ[level * _words];
    const size_t w = from / 64;
    if (const uint64_t bits = b[w] & (~uint64_t(0) << (from % 64)))
        return int(w * 64 + unsigned(std::countr_zero(bits)));
    // The first nonzero word after w, from the summary.
    const size_t next = w + 1;
    if (next >= _words) return -1;
    const uint64_t* sum = &_summary[level * _swords];
    size_t sw = next / 64;
    uint64_t sbits = sum[sw] & (~uint64_t(0) << (next % 64));
    while (!sbits) {
        if (++sw >= _swords) return -1;
        sbits = sum[sw];
    }
    const size_t nw = sw * 64 + unsigned(std::countr_zero(sbits));
    return int(nw * 64 + unsigned(std::countr_zero(b[nw])));
}

// Moves every timer of slot s onto the list `to` (advance()'s due list, or
// cascade()'s list of timers to place again), marked as off the wheel.
void timer_wheel::take_slot(uint32_t s, timer_link& to) {
    timer_link& head = _slots[s];
    while (head._next != &head) {
        timer& t = of(head._next);
        unlink(t);
        t._slot = due_slot;
        link(to, t);
    }
}

// The cursor just reached a multiple of 2^shift(l) for one or more levels:
// re-place the timers of each such level's current slot, top level first so
// a timer can move down several levels at once.
void timer_wheel::cascade(timer_link& due) {
    for (unsigned l = _levels; l-- > 1;) {
        if (_cur & ((uint64_t(1) << shift(l)) - 1)) continue;
        const uint32_t s = uint32_t((uint64_t(l) << _bits) | ((_cur >> shift(l)) & _mask));
        if (_slots[s]._next == &_slots[s]) continue;
        timer_link moving;
        moving._prev = moving._next = &moving;
        take_slot(s, moving);  // detach first: placing may not touch this slot
        while (moving._next != &moving) {
            timer& t = of(moving._next);
            t._prev->_next = t._next;
            t._next->_prev = t._prev;
            if (t._tick <= _cur) {
                link(due, t);  // still due_slot
            } else {
                place(t);
            }
        }
    }
}

// The first tick after the cursor at which an occupied slot of level >= 1
// cascades, or UINT64_MAX. Levels are in time order, so the lowest occupied
// level has it; within a level, the next occupied digit past the cursor's, or
// (top level only) slot 0, which cascades when the next revolution starts.
uint64_t timer_wheel::next_cascade() const {
    for (unsigned l = 1; l < _levels; ++l) {
        if (!_count[l]) continue;
        const uint64_t base = (_cur >> shift(l + 1)) << shift(l + 1);
        const int d = next_set(l, ((_cur >> shift(l)) & _mask) + 1);
        if (d >= 0) return base | (uint64_t(d) << shift(l));
        return base + (uint64_t(1) << shift(l + 1));
    }
    return UINT64_MAX;
}

size_t timer_wheel::advance(nanos now) {
    const uint64_t target = now / _tick;
    if (target <= _cur) return 0;
    // The cached earliest deadline stays exact unless it is reached: nothing
    // before it can fire, and cascading only moves timers between levels.
    // (A poll loop advances every iteration; rescanning each time cost more
    // than the rest of a request/response.)
    if (_armed && target >= tick_of(_cached_next)) _next_dirty = true;
    if (target < _next_event) {
        // No level-0 timer and no cascade up to target: nothing to move.
        _cur = target;
        return 0;
    }
    // Collect every due timer first so callbacks can arm/cancel freely.
    timer_link due;
    due._prev = due._next = &due;
    // Jumps from event to event: the next occupied level-0 slot, else the
    // next cascade; empty revolutions cost nothing.
    // The walk below finds the next event past target when it stops early;
    // when it stops exactly at target the next one is unknown (a bound of
    // target + 1 makes the next advance search again).
    uint64_t next_event = target + 1;
    while (_cur < target) {
        if (_count[0]) {
            // Level 0 holds only ticks of the current revolution, after _cur.
            const int d = next_set(0, (_cur & _mask) + 1);
            const uint64_t t0 = (_cur & ~_mask) | uint64_t(d);
            if (t0 > target) {
                next_event = t0;
                break;
            }
            _cur = t0;
            take_slot(uint32_t(d), due);
            continue;
        }
        const uint64_t c = next_cascade();
        if (c > target) {
            next_event = c;
            break;
        }
        _cur = c;
        cascade(due);  // ticks equal to _cur go straight onto `due`
    }
    _cur = target;
    // Set before the callbacks run: timers they arm lower it in place().
    _next_event = next_event;
    size_t fired = 0;
    while (due._next != &due) {
        timer& t = of(due._next);
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
    uint64_t best = UINT64_MAX;
    if (_count[0]) {
        best = (_cur & ~_mask) | uint64_t(next_set(0, (_cur & _mask) + 1));
    } else if (const uint64_t c = next_cascade(); c != UINT64_MAX) {
        // The slot that cascades first holds the earliest timers; its ticks
        // differ, so take their minimum (this walk happens once per cascade:
        // the slot then sits in level 0, where the answer is a bitmap scan).
        unsigned l = 1;
        while (!_count[l]) ++l;
        const uint32_t s = uint32_t((uint64_t(l) << _bits) | ((c >> shift(l)) & _mask));
        for (const timer_link* p = _slots[s]._next; p != &_slots[s]; p = p->_next)
            best = std::min(best, static_cast<const timer*>(p)->_tick);
    }
    _cached_next = best == UINT64_MAX || best > never / _tick ? never : best * _tick;
    _next_dirty = false;
    return _cached_next;
}

}  // namespace mvnf::net
