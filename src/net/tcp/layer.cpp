// tcp::layer construction, the connection pool and flow table, listeners, the
// event queue and the socket-level API (open/listen/accept/connect/send/recv/
// shutdown/close/abort). Protocol processing lives in input/output/timers.
#include "net/tcp/layer.hpp"

#include <algorithm>
#include <cstring>

#include "net/tcp/congestion/congestion.hpp"

namespace mvnf::tcp {

const char* state_name(state s) {
    switch (s) {
        case state::closed: return "CLOSED";
        case state::listen: return "LISTEN";
        case state::syn_sent: return "SYN-SENT";
        case state::syn_received: return "SYN-RECEIVED";
        case state::established: return "ESTABLISHED";
        case state::fin_wait_1: return "FIN-WAIT-1";
        case state::fin_wait_2: return "FIN-WAIT-2";
        case state::close_wait: return "CLOSE-WAIT";
        case state::closing: return "CLOSING";
        case state::last_ack: return "LAST-ACK";
        case state::time_wait: return "TIME-WAIT";
    }
    return "?";
}

const char* error_name(error e) {
    switch (e) {
        case error::none: return "none";
        case error::would_block: return "would_block";
        case error::in_progress: return "in_progress";
        case error::invalid: return "invalid";
        case error::not_connected: return "not_connected";
        case error::already_connected: return "already_connected";
        case error::address_in_use: return "address_in_use";
        case error::no_resources: return "no_resources";
        case error::connection_refused: return "connection_refused";
        case error::connection_reset: return "connection_reset";
        case error::timed_out: return "timed_out";
        case error::broken_pipe: return "broken_pipe";
    }
    return "?";
}

layer::layer(const config& cfg, segment_sink& out)
    : _cfg(cfg), _timestamps0(cfg.timestamps), _ecn0(cfg.ecn), _out(out) {
    // All memory is taken here, once (no allocation on the data path).
    // max_buffers buffer pairs (as mTCP's max_num_buffers sizes its send and
    // receive buffer pools), at most one per connection the pool can hold;
    // twice max_concurrency connection blocks, so connections that need no
    // buffers any more (TIME-WAIT, and closed ones whose data is all
    // delivered: buffers.cpp) do not count against the connections that do.
    // The arena is left uninitialised: the kernel maps its pages when a ring
    // first writes them, so resident memory follows the bytes connections
    // have queued, not the configured maximum.
    const size_t nbuf = buffer_pairs();
    const size_t n = slots_for(_cfg.max_concurrency);
    _pool.resize(n);
    _arena.reset(new std::byte[nbuf * (size_t(_cfg.sndbuf) + _cfg.rcvbuf)]);
    _free.reserve(n);
    for (size_t i = n; i-- > 0;) _free.push_back(uint32_t(i));
    _buf_free.reserve(nbuf);
    for (size_t i = nbuf; i-- > 0;) _buf_free.push_back(uint32_t(i));
    _slot_buf.assign(n, npos);
    size_t nb = 16;
    while (nb < 2 * n) nb <<= 1;
    _buckets.assign(nb, npos);
    _timers.reset(new net::timer[n]);
    for (size_t i = 0; i < n; ++i) {
        _timers[i].ctx = this;
        _timers[i].fn = [](net::timer& t, nanos now) {
            auto* self = static_cast<layer*>(t.ctx);
            self->on_timers(uint32_t(&t - self->_timers.get()), now);
        };
    }
    _txw_next.assign(n, npos);
    _txw_in.assign(n, 0);
    _tw_next.assign(n, npos);
    _tw_prev.assign(n, npos);
    _tw_in.assign(n, 0);
    _ctl.resize(std::max<uint32_t>(_cfg.ctl_queue, 1));
    _listeners.resize(_cfg.max_listeners);
    _accept_slots.assign(size_t(_cfg.max_listeners) * _cfg.max_backlog, npos);
    _events.resize(std::max<uint32_t>(_cfg.event_queue, 1));
    for (size_t i = 0; i < n; ++i) _pool[i].ooo = range_set(_cfg.max_ooo_ranges);
    if (_cfg.ephemeral_lo == 0 || _cfg.ephemeral_lo > _cfg.ephemeral_hi)
        _cfg.ephemeral_lo = 1025, _cfg.ephemeral_hi = 65535;
    // RFC 6056 3.3.3's next_ephemeral: a counter over the range (see connect).
    _next_port = first_port();
}

uint16_t layer::first_port() const {
    return uint16_t((_cfg.secret[0] | (_cfg.secret[1] << 8)) %
                    (_cfg.ephemeral_hi - _cfg.ephemeral_lo + 1u));
}

bool layer::reset(nanos now) {
    // Idle: every block and buffer pair free, no listener, nothing waiting
    // for TX, no TIME-WAIT, and the flow table and the per-slot lists
    // empty. Anything else is state the caller leaked; refuse it.
    if (_free.size() != _pool.size() || _buf_free.size() != buffer_pairs() ||
        _tw_count != 0 || _tw_head != npos || _txw_head != npos || _ctl_len != 0)
        return false;
    for (const auto& l : _listeners)
        if (l.in_use) return false;
    for (uint32_t b : _buckets)
        if (b != npos) return false;
    for (size_t i = 0; i < _pool.size(); ++i)
        if (_pool[i].in_use || _slot_buf[i] != npos || _txw_in[i] || _tw_in[i]) return false;
    if (!_wheel.reset(now)) return false;
    // Free stacks in construction order, so slots and buffers repeat too.
    // Generations stay: a handle from before the reset must not come alive.
    _free.clear();
    for (size_t i = _pool.size(); i-- > 0;) _free.push_back(uint32_t(i));
    _buf_free.clear();
    for (size_t i = buffer_pairs(); i-- > 0;) _buf_free.push_back(uint32_t(i));
    for (auto& l : _listeners) {
        const uint32_t gen = l.gen;
        l = listener{};
        l.gen = gen;
    }
    std::fill(_accept_slots.begin(), _accept_slots.end(), npos);
    _ev_head = _ev_len = 0;
    _ctl_head = 0;
    _stats = {};
    _next_port = first_port();
    _challenge_window = 0;
    _challenge_count = _challenge_budget = 0;
    _closed_rst_window = 0;
    _closed_rst_count = 0;
    _cfg.timestamps = _timestamps0, _cfg.ecn = _ecn0;
    return true;
}

// ---------------------------------------------------------------- pool & table

uint32_t layer::hash_of(const four_tuple& t) const {
    uint64_t h = (uint64_t(t.local_ip.v) << 32 | t.remote_ip.v) ^
                 (uint64_t(t.local_port) << 16 | t.remote_port) * 0x9e3779b97f4a7c15ULL;
    h ^= uint64_t(_cfg.secret[2]) << 40 | uint64_t(_cfg.secret[3]) << 8;
    h ^= h >> 29, h *= 0xbf58476d1ce4e5b9ULL, h ^= h >> 32;
    return uint32_t(h) & uint32_t(_buckets.size() - 1);
}

uint32_t layer::find_flow(const four_tuple& t) const {
    for (uint32_t i = _buckets[hash_of(t)]; i != npos; i = _pool[i].hash_next)
        if (_pool[i].t == t) return i;
    return npos;
}

// Two passes over the burst so that neither waits: first every bucket's
// line, then (buckets now cached) the first chained connection block of
// each, all of its lines — the input that follows touches most of them.
void layer::prefetch_flows(std::span<const flow_ref> flows) const {
    constexpr size_t chunk = 64;
    uint32_t b[chunk];
    for (size_t at = 0; at < flows.size(); at += chunk) {
        const size_t n = std::min(chunk, flows.size() - at);
        for (size_t i = 0; i < n; ++i) {
            const flow_ref& f = flows[at + i];
            b[i] = hash_of(four_tuple{f.local, f.remote, f.local_port, f.remote_port});
            __builtin_prefetch(&_buckets[b[i]]);
        }
        for (size_t i = 0; i < n; ++i) {
            const uint32_t idx = _buckets[b[i]];
            if (idx == npos) continue;
            const auto* p = reinterpret_cast<const char*>(&_pool[idx]);
            for (size_t off = 0; off < sizeof(tcb); off += 64) __builtin_prefetch(p + off);
        }
    }
}

void layer::hash_insert(uint32_t idx) {
    const uint32_t b = hash_of(_pool[idx].t);
    _pool[idx].hash_next = _buckets[b];
    _buckets[b] = idx;
}

void layer::hash_remove(uint32_t idx) {
    uint32_t* p = &_buckets[hash_of(_pool[idx].t)];
    while (*p != npos && *p != idx) p = &_pool[*p].hash_next;
    if (*p == idx) *p = _pool[idx].hash_next;
    _pool[idx].hash_next = npos;
}

int layer::find_listener(ipv4_addr ip, uint16_t port) const {
    int wildcard = -1;
    for (size_t i = 0; i < _listeners.size(); ++i) {
        const auto& l = _listeners[i];
        if (!l.in_use || l.port != port) continue;
        if (l.ip == ip) return int(i);
        if (l.ip.is_any()) wildcard = int(i);
    }
    return wildcard;
}

uint32_t layer::alloc_tcb(const four_tuple& t, nanos now) {
    if (_buf_free.empty()) {  // every buffer pair is lent (max_num_buffers)
        ++_stats.refused_no_buffers;
        return npos;
    }
    if (_free.empty() && !reclaim_time_wait()) return npos;
    const uint32_t idx = _free.back();
    _free.pop_back();
    tcb& c = _pool[idx];
    const uint32_t gen = c.gen + 1;
    range_set ooo = c.ooo;
    c = tcb{};
    c.gen = gen;
    c.ooo = ooo;
    c.ooo.clear();
    take_buffers(idx);
    c.in_use = true;
    c.t = t;
    c.cc = _cfg.cc;
    c.rto = _cfg.rto_initial;
    c.last_rx = now;
    hash_insert(idx);
    return idx;
}

void layer::free_tcb(uint32_t idx) {
    tcb& c = _pool[idx];
    if (!c.in_use) return;
    unschedule(idx);
    hash_remove(idx);
    tw_unlink(idx);
    release_buffers(idx);
    if (c.listener != npos && c.st == state::syn_received && _listeners[c.listener].half_open)
        --_listeners[c.listener].half_open;
    c.in_use = false;
    c.st = state::closed;
    ++c.gen;
    _free.push_back(idx);
}

// The connection reached CLOSED. A slot the user still holds stays allocated
// (out of the flow table) so recv/readiness can report why; others free now.
void layer::finish(uint32_t idx, error why) {
    tcb& c = _pool[idx];
    const bool user_holds = !c.user_closed && c.listener == npos;
    if (c.st == state::syn_received && c.listener != npos && _listeners[c.listener].half_open) {
        --_listeners[c.listener].half_open;
        c.listener = c.in_accept_queue ? c.listener : npos;
    }
    tw_unlink(idx);
    c.st = state::closed;
    if (why != error::none && c.err == error::none) c.err = why;
    c.t_rexmt = c.t_persist = c.t_delack = c.t_keep = c.t_wait = c.t_cork = no_deadline;
    // Queued for accept but dead: accept() skips and frees it.
    if (user_holds || c.in_accept_queue) {
        hash_remove(idx);
        unschedule(idx);
        post(idx, ev::closed | ev::readable | ev::hangup | (c.err != error::none ? ev::error : 0));
        return;
    }
    free_tcb(idx);
}

tcb* layer::lookup(handle h) {
    if (h.index >= _pool.size()) return nullptr;
    tcb& c = _pool[h.index];
    return c.in_use && c.gen == h.gen ? &c : nullptr;
}
const tcb* layer::lookup(handle h) const { return const_cast<layer*>(this)->lookup(h); }

layer::listener* layer::lookup_listener(handle h) {
    if (h.index < _pool.size()) return nullptr;
    const size_t li = h.index - _pool.size();
    if (li >= _listeners.size()) return nullptr;
    listener& l = _listeners[li];
    return l.in_use && l.gen == h.gen ? &l : nullptr;
}

// ---------------------------------------------------------------- events

void layer::post(uint32_t idx, uint32_t flags) {
    if (_ev_len == _events.size()) {
        ++_stats.events_dropped;  // readiness() stays authoritative
        return;
    }
    _events[(_ev_head + _ev_len++) % _events.size()] = {handle_of(idx), flags};
}

void layer::post_listener(uint32_t li, uint32_t flags) {
    if (_ev_len == _events.size()) {
        ++_stats.events_dropped;
        return;
    }
    _events[(_ev_head + _ev_len++) % _events.size()] = {
        {uint32_t(_pool.size() + li), _listeners[li].gen}, flags};
}

bool layer::next_event(event& out) {
    if (_ev_len == 0) return false;
    out = _events[_ev_head];
    _ev_head = (_ev_head + 1) % _events.size();
    --_ev_len;
    return true;
}

uint32_t layer::readiness(handle h) const {
    if (auto* l = const_cast<layer*>(this)->lookup_listener(h)) return l->q_len ? ev::readable : 0;
    const tcb* c = lookup(h);
    if (!c) return ev::error;
    uint32_t r = 0;
    if (!c->rcv.empty() || has_received_fin(c->st) || c->st == state::closed) r |= ev::readable;
    if (has_received_fin(c->st)) r |= ev::hangup;
    // TCP_NOTSENT_LOWAT: Linux wakes a writer only once the unsent octets
    // are below half the mark (tcp_stream_memory_free with wake = 1).
    const uint32_t lowat = notsent_lowat(*c);
    if (is_synchronized(c->st) && can_send_data(c->st) && !c->fin_queued && c->snd_room() > 0 &&
        (lowat == 0 || uint64_t(c->unsent()) * 2 < lowat))
        r |= ev::writable;
    if (c->err != error::none) r |= ev::error;
    if (c->st == state::closed) r |= ev::closed | ev::hangup;
    return r;
}

void layer::enqueue_accept(tcb& c) {
    listener& l = _listeners[c.listener];
    const uint32_t li = c.listener;
    const uint32_t idx = uint32_t(&c - _pool.data());
    if (l.q_len >= l.backlog) return;  // checked by the caller; keep the invariant
    _accept_slots[li * _cfg.max_backlog + (l.q_head + l.q_len) % _cfg.max_backlog] = idx;
    ++l.q_len;
    c.in_accept_queue = true;
    post_listener(li, ev::readable);
}

// ---------------------------------------------------------------- API

result<handle, error> layer::listen(ipv4_addr ip, uint16_t port, uint32_t backlog) {
    if (port == 0 || backlog == 0) return fail(error::invalid);
    for (const auto& l : _listeners)
        if (l.in_use && l.port == port && l.ip == ip) return fail(error::address_in_use);
    for (size_t i = 0; i < _listeners.size(); ++i) {
        listener& l = _listeners[i];
        if (l.in_use) continue;
        const uint32_t gen = l.gen + 1;
        l = listener{};
        l.in_use = true, l.gen = gen, l.ip = ip, l.port = port;
        l.backlog = std::min(backlog, _cfg.max_backlog);
        return handle{uint32_t(_pool.size() + i), gen};
    }
    return fail(error::no_resources);
}

result<handle, error> layer::accept(handle lh) {
    listener* l = lookup_listener(lh);
    if (!l) return fail(error::invalid);
    const uint32_t li = uint32_t(l - _listeners.data());
    while (l->q_len) {
        const uint32_t idx = _accept_slots[li * _cfg.max_backlog + l->q_head];
        l->q_head = (l->q_head + 1) % _cfg.max_backlog;
        --l->q_len;
        tcb& c = _pool[idx];
        c.in_accept_queue = false;
        c.listener = npos;
        if (c.st == state::closed) {  // reset before it was accepted
            free_tcb(idx);
            continue;
        }
        return handle_of(idx);
    }
    return fail(error::would_block);
}

result<handle, error> layer::connect(ipv4_addr local_ip, uint16_t local_port, ipv4_addr remote_ip,
                                     uint16_t remote_port, nanos now, uint16_t user_mss) {
    if (remote_port == 0 || remote_ip.is_any() || local_ip.is_any()) return fail(error::invalid);
    four_tuple t{local_ip, remote_ip, local_port, remote_port};
    if (local_port == 0) {
        // RFC 6056 3.3.3 (Algorithm 3, simple hash-based): the search starts
        // at a keyed hash of the endpoints plus a counter, so the ports used
        // towards one destination say nothing about those towards another
        // (a global sequence let anyone guess our next port, RFC 6056 1),
        // while one destination still cycles through the whole range.
        bool found = false;
        const uint32_t range = _cfg.ephemeral_hi - _cfg.ephemeral_lo + 1u;
        const uint32_t w[3] = {local_ip.v, remote_ip.v, remote_port};
        const uint32_t offset = uint32_t(siphash24(_cfg.secret, w, 3) % range);
        for (uint32_t tries = 0; tries < range && !found; ++tries) {
            t.local_port = uint16_t(_cfg.ephemeral_lo + (offset + _next_port) % range);
            _next_port = uint16_t((_next_port + 1u) % range);
            found = find_flow(t) == npos && (!_port_filter || _port_filter(_port_ctx, t));
        }
        if (!found) return fail(error::address_in_use);
    } else if (find_flow(t) != npos) {
        return fail(error::address_in_use);
    }
    const uint32_t idx = alloc_tcb(t, now);
    if (idx == npos) return fail(error::no_resources);
    tcb& c = _pool[idx];
    init_tcb_options(c, now);
    c.user_mss = (user_mss && user_mss >= 64) ? user_mss : 0;
    c.iss = make_isn(_cfg.secret, t, now);
    c.snd_una = c.snd_nxt = c.snd_max = c.iss;
    c.buf_seq = c.iss + 1;
    c.st = state::syn_sent;
    ++_stats.active_opens;
    output(idx, now);  // sends the SYN (RFC 9293 3.10.1)
    return handle_of(idx);
}

result<size_t, error> layer::send(handle h, bytes data, nanos now, bool push_now, uint8_t flags) {
    tcb* c = lookup(h);
    if (!c) return fail(error::invalid);
    if (c->st == state::closed) return fail(c->err != error::none ? c->err : error::not_connected);
    if (!can_send_data(c->st) || c->fin_queued) return fail(error::broken_pipe);
    size_t room = c->snd_room();
    // TCP_NOTSENT_LOWAT: queue no more than lowat octets unsent.
    if (const uint32_t lowat = notsent_lowat(*c); lowat) {
        const uint32_t unsent = c->unsent();
        room = unsent >= lowat ? 0 : std::min<size_t>(room, lowat - unsent);
    }
    if (flags & send_eor) {
        const seq32 una = seq32::max(c->snd_una, c->buf_seq);
        while (c->eor_n && c->eor[c->eor_head] <= una) {  // records the peer has
            c->eor_head = uint8_t((c->eor_head + 1) % tcb::max_records);
            --c->eor_n;
        }
        if (c->eor_n == tcb::max_records) room = 0;
    }
    const size_t n = c->snd.push(data.first(std::min(data.size(), room)));
    if (n == 0) return fail(error::would_block);
    const seq32 end = c->buf_seq + uint32_t(c->snd.size());
    // Linux marks PSH at the end of every write but a MSG_MORE one
    // (tcp_push -> tcp_mark_push), and ends a record only when the whole
    // MSG_EOR write was queued (tcp_sendmsg_locked).
    c->more_pending = (flags & send_more) != 0;
    if (!c->more_pending) c->push_set = true, c->push_end = end;
    if ((flags & send_eor) && n == data.size()) {
        const bool repeat = c->eor_n && c->eor[(c->eor_head + c->eor_n - 1) % tcb::max_records] == end;
        if (!repeat) c->eor[(c->eor_head + c->eor_n++) % tcb::max_records] = end;
    }
    if (push_now) push(h, now);
    return n;
}

void layer::push(handle h, nanos now, bool force) {
    tcb* c = lookup(h);
    if (!c || !is_synchronized(c->st)) return;
    // The push ending a MSG_MORE write holds its partial tail (Linux's
    // tcp_push with TCP_NAGLE_CORK); any later one (an ACK's) does not.
    c->hold_tail = c->more_pending && !force;
    output(h.index, now, force ? push_force : push_normal);
    c->hold_tail = false;
}

result<size_t, error> layer::recv(handle h, mut_bytes out, nanos now) {
    tcb* c = lookup(h);
    if (!c) return fail(error::invalid);
    if (c->rcv.empty()) {
        if (c->st == state::closed && c->err != error::none) return fail(c->err);
        if (has_received_fin(c->st) || c->st == state::closed) return size_t{0};  // EOF
        if (c->st == state::syn_sent || c->st == state::syn_received) return fail(error::would_block);
        return fail(error::would_block);
    }
    const size_t n = c->rcv.pop(out);
    after_recv(*c, now);
    return n;
}

result<void, error> layer::shutdown_write(handle h, nanos now) {
    tcb* c = lookup(h);
    if (!c) return fail(error::invalid);
    switch (c->st) {
        case state::syn_sent:
            // RFC 9293 3.10.4: CLOSE in SYN-SENT deletes the TCB.
            finish(h.index, error::none);
            return {};
        case state::syn_received:
            // RFC 9293 3.10.4: the FIN waits for ESTABLISHED (see on_established).
            c->fin_queued = true;
            return {};
        case state::established:
        case state::close_wait:
            if (!c->fin_queued) {
                c->fin_queued = true;
                // RFC 9293 3.10.4: FIN follows queued data; state moves on at once.
                c->st = c->st == state::close_wait ? state::last_ack : state::fin_wait_1;
            }
            output(h.index, now);
            return {};
        default:
            return {};  // already closing
    }
}

result<void, error> layer::close(handle h, nanos now) {
    if (listener* l = lookup_listener(h)) {
        close_listener(*l, now);
        return {};
    }
    tcb* c = lookup(h);
    if (!c) return fail(error::invalid);
    if (c->st == state::closed) {
        free_tcb(h.index);
        return {};
    }
    if (!c->rcv.empty() || c->fin_pending) return abort(h, now);  // RFC 1122 4.2.2.13: data lost
    c->user_closed = true;
    auto r = shutdown_write(h, now);
    if (c->in_use && c->gen == h.gen && c->st == state::fin_wait_2 && _cfg.fin_wait_2_timeout) {
        c->t_keep = now + _cfg.fin_wait_2_timeout;
        reschedule(h.index);
    }
    if (c->in_use && c->gen == h.gen) shed_buffers(h.index);
    return r;
}

result<void, error> layer::abort(handle h, nanos now) {
    tcb* c = lookup(h);
    if (!c) return fail(error::invalid);
    // RFC 9293 3.10.5 ABORT: RST in synchronized states and SYN-RECEIVED.
    if (is_synchronized(c->st) || c->st == state::syn_received) {
        if (c->st != state::time_wait) send_rst(*c, now);
    }
    c->user_closed = true;
    finish(h.index, error::none);
    if (c->in_use && c->gen == h.gen) free_tcb(h.index);
    return {};
}

result<void, error> layer::set_nodelay(handle h, bool on) {
    tcb* c = lookup(h);
    if (!c) return fail(error::invalid);
    c->nodelay = on;
    return {};
}

result<void, error> layer::set_cork(handle h, bool on, nanos now) {
    tcb* c = lookup(h);
    if (!c) return fail(error::invalid);
    c->cork = on;
    if (!on && is_synchronized(c->st)) output(h.index, now);
    return {};
}

result<void, error> layer::set_notsent_lowat(handle h, uint32_t lowat) {
    tcb* c = lookup(h);
    if (!c) return fail(error::invalid);
    c->notsent_lowat = lowat;
    return {};
}

result<void, error> layer::set_keepalive(handle h, bool on, nanos now) {
    tcb* c = lookup(h);
    if (!c) return fail(error::invalid);
    c->keepalive = on;
    // t_keep also carries the idle timeout (and an orphan's FIN-WAIT-2
    // timeout, left alone here): switching keep-alive off must not cancel it.
    if (is_synchronized(c->st) && !(c->st == state::fin_wait_2 && c->user_closed)) {
        nanos d = on ? now + keep_idle(*c) : no_deadline;
        if (_cfg.idle_timeout) d = std::min(d, c->last_rx + _cfg.idle_timeout);
        c->t_keep = d;
    }
    reschedule(h.index);
    return {};
}

result<void, error> layer::set_congestion(handle h, congestion_algo a) {
    tcb* c = lookup(h);
    if (!c) return fail(error::invalid);
    c->cc = a;
    cc_switch(*c);
    return {};
}

// Linux: closing a listener resets the connections still in its queues.
void layer::close_listener(listener& l, nanos now) {
    const uint32_t li = uint32_t(&l - _listeners.data());
    for (uint32_t i = 0; i < _pool.size(); ++i) {
        tcb& c = _pool[i];
        if (!c.in_use || c.listener != li) continue;
        if (c.st != state::closed && c.st != state::time_wait) send_rst(c, now);
        c.in_accept_queue = false;
        c.listener = npos;
        c.user_closed = true;
        free_tcb(i);
    }
    l.in_use = false;
    l.q_len = l.q_head = 0;
    l.half_open = 0;
    ++l.gen;
}

result<void, error> layer::set_keepalive_params(handle h, nanos idle, nanos interval,
                                                uint8_t probes) {
    tcb* c = lookup(h);
    if (!c) return fail(error::invalid);
    c->keep_idle = idle, c->keep_intvl = interval, c->keep_probes = probes;
    return {};
}

result<void, error> layer::set_user_timeout(handle h, nanos timeout) {
    tcb* c = lookup(h);
    if (!c) return fail(error::invalid);
    c->user_timeout = timeout;
    // Takes effect from the next timer; an armed RTO is pulled in to it.
    if (timeout && c->t_rexmt != no_deadline && c->stall_since)
        c->t_rexmt = std::min(c->t_rexmt, c->stall_since + timeout);
    reschedule(h.index);
    return {};
}

result<void, error> layer::set_max_segment(handle h, uint16_t mss) {
    if (mss && mss < 64) return fail(error::invalid);
    if (listener* l = lookup_listener(h)) {
        l->user_mss = mss;  // SYN-ACKs advertise it; connections inherit it
        return {};
    }
    tcb* c = lookup(h);
    if (!c) return fail(error::invalid);
    c->user_mss = mss;
    if (mss && is_synchronized(c->st)) c->mss = std::min(c->mss, mss);
    return {};
}

result<void, error> layer::set_buffer_limits(handle h, uint32_t snd, uint32_t rcv) {
    tcb* c = lookup(h);
    if (!c) return fail(error::invalid);
    c->snd_limit = snd, c->rcv_limit = rcv;
    return {};
}

result<size_t, error> layer::peek(handle h, mut_bytes out) const {
    const tcb* c = lookup(h);
    if (!c) return fail(error::invalid);
    if (c->rcv.empty()) {
        if (c->st == state::closed && c->err != error::none) return fail(c->err);
        if (has_received_fin(c->st) || c->st == state::closed) return size_t{0};
        return fail(error::would_block);
    }
    const size_t n = std::min(out.size(), c->rcv.size());
    auto [a, b] = c->rcv.peek(0, n);
    std::memcpy(out.data(), a.data(), a.size());
    std::memcpy(out.data() + a.size(), b.data(), b.size());
    return n;
}

std::optional<four_tuple> layer::tuple(handle h) const {
    const tcb* c = lookup(h);
    if (!c) return std::nullopt;
    return c->t;
}

std::optional<conn_info> layer::info(handle h) const {
    const tcb* c = lookup(h);
    if (!c) return std::nullopt;
    conn_info i;
    i.st = c->st, i.err = c->err, i.mss = c->mss;
    i.advmss = advertised_mss(c->user_mss);
    i.ws_ok = c->ws_ok, i.ts_ok = c->ts_ok, i.sack_ok = c->sack_ok, i.ecn_ok = c->ecn_ok;
    i.snd_shift = c->snd_shift, i.rcv_shift = c->rcv_shift;
    i.cwnd = c->cwnd, i.ssthresh = c->ssthresh, i.snd_wnd = c->snd_wnd, i.flight = c->flight();
    i.srtt = c->srtt, i.rto = c->rto, i.last_data_rx = c->last_data_rx;
    i.iss = c->iss, i.irs = c->irs, i.snd_una = c->snd_una, i.snd_nxt = c->snd_nxt;
    i.rcv_nxt = c->rcv_nxt;
    i.send_queued = c->snd.size(), i.recv_queued = c->rcv.size();
    return i;
}

size_t layer::connections_in(state s) const {
    size_t n = 0;
    for (const auto& c : _pool) n += c.in_use && c.st == s;
    return n;
}

// Our side of option negotiation, before any SYN goes out.
void layer::init_tcb_options(tcb& c, nanos now) {
    c.ts_ok = _cfg.timestamps;
    c.sack_ok = _cfg.sack;
    c.ws_ok = _cfg.window_scaling;
    // RFC 7323 2.3: the smallest shift that lets the whole ring be advertised.
    uint8_t shift = 0;
    while (shift < 14 && (uint64_t(_cfg.rcvbuf) >> shift) > 65535) ++shift;
    c.rcv_shift = c.ws_ok ? shift : 0;
    c.ts_offset = uint32_t(make_isn(_cfg.secret, c.t, 0).raw() * 2654435761u);
    c.mss = 536;
    c.snd_wnd = 0;
    c.rcv_adv = c.rcv_nxt;
    cc_init(c, _cfg.initial_window_segments);
    (void)now;
}

// RFC 7323 5.4: a 1 ms timestamp clock, offset per connection.
uint32_t layer::tsval(const tcb& c, nanos now) const { return uint32_t(now / ms) + c.ts_offset; }

}  // namespace mvnf::tcp
