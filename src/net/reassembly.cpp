// IPv4 reassembly (see reassembly.hpp). Policy, where RFC 791 leaves room:
//  - overlapping fragments drop the whole datagram (as RFC 5722 does for
//    IPv6; overlaps are an evasion trick, never produced by honest senders);
//  - an exact duplicate (same offset and length) is dropped alone;
//  - non-final fragments must carry a multiple of 8 bytes;
//  - a datagram longer than 65535 bytes with its header is dropped;
//  - a full table, or a byte budget that a new fragment would exceed,
//    evicts the oldest incomplete datagram (as Linux's inet_frag evictor):
//    refusing newcomers instead would let a few stale fragments a second
//    lock out all fragmented traffic for a whole timeout;
//  - under pressure (table or bytes more than half used) a new datagram's
//    timeout is a quarter of reasm_timeout (at least 1 s), so junk leaves
//    sooner while honest datagrams, which complete in a round trip, are
//    unaffected.
#include "net/reassembly.hpp"

#include <algorithm>
#include <cstring>

namespace mvnf::net {

reassembler::reassembler(const stack_config& cfg, chunk_pool& chunks, timer_wheel& wheel,
                         stack_stats& stats)
    : _cfg(cfg),
      _chunks(chunks),
      _wheel(wheel),
      _stats(stats),
      _entries(std::make_unique<entry[]>(cfg.reasm_max_datagrams)),
      _pieces(size_t(cfg.reasm_max_datagrams) * cfg.reasm_max_frags),
      _out(wire::ipv4_view::max_total_len) {
    for (uint32_t i = 0; i < cfg.reasm_max_datagrams; ++i) {
        entry& e = _entries[i];
        e.owner = this;
        e.pieces = _pieces.data() + size_t(i) * cfg.reasm_max_frags;
        e.expiry.fn = &reassembler::on_timeout;
        e.expiry.ctx = &e;
    }
}

reassembler::~reassembler() {
    for (uint32_t i = 0; i < _cfg.reasm_max_datagrams; ++i)
        if (_entries[i].used) free_entry(_entries[i]);
}

void reassembler::on_timeout(timer& t, nanos) {
    auto& e = *static_cast<entry*>(t.ctx);
    // RFC 792 would allow "time exceeded (reassembly)" here; like many hosts
    // we stay silent (it mostly helps attackers map timeouts).
    e.owner->drop_entry(e, drop_reason::frag_timeout);
}

void reassembler::free_entry(entry& e) {
    for (uint32_t i = 0; i < e.npieces; ++i) {
        _bytes -= e.pieces[i].len;
        _chunks.release(e.pieces[i].data);
        e.pieces[i] = piece{};
    }
    _wheel.cancel(e.expiry);
    e.npieces = 0;
    e.used = false;
    --_active;
}

// The in-use datagram that began first, other than `except`; null if none.
reassembler::entry* reassembler::oldest(const entry* except) {
    entry* o = nullptr;
    for (uint32_t i = 0; i < _cfg.reasm_max_datagrams; ++i) {
        entry& x = _entries[i];
        if (x.used && &x != except && (!o || x.born < o->born)) o = &x;
    }
    return o;
}

void reassembler::drop_entry(entry& e, drop_reason why) {
    count(why);
    free_entry(e);
}

bytes reassembler::input(const wire::ipv4_view& f, nanos now) {
    ++_stats.frags_rx;
    const uint32_t off = f.frag_offset();
    const bytes data = f.payload();
    const uint32_t len = uint32_t(data.size());
    const bool last = !f.more_frags();

    // RFC 791: every fragment but the last carries a multiple of 8 bytes.
    if (len == 0 || (!last && len % 8 != 0)) {
        count(drop_reason::frag_bad_len);
        return {};
    }
    if (off + len > wire::ipv4_view::max_total_len - wire::ipv4_view::min_header_len) {
        count(drop_reason::frag_too_big);
        return {};
    }

    entry* e = nullptr;
    entry* free_slot = nullptr;
    for (uint32_t i = 0; i < _cfg.reasm_max_datagrams; ++i) {
        entry& x = _entries[i];
        if (!x.used) {
            if (!free_slot) free_slot = &x;
            continue;
        }
        if (x.ident == f.ident() && x.src == f.src() && x.dst == f.dst() &&
            x.proto == f.protocol()) {
            e = &x;
            break;
        }
    }
    if (!e) {
        const bool pressure = _active * 2 >= _cfg.reasm_max_datagrams ||
                              _bytes * 2 >= _cfg.reasm_max_bytes;
        if (!free_slot) {
            free_slot = oldest(nullptr);
            drop_entry(*free_slot, drop_reason::frag_table_full);
        }
        e = free_slot;
        e->used = true;
        e->src = f.src();
        e->dst = f.dst();
        e->ident = f.ident();
        e->proto = f.protocol();
        e->ttl = f.ttl();
        e->tos = f.tos();
        e->total = 0;
        e->have_last = false;
        e->received = 0;
        e->npieces = 0;
        e->born = now;
        ++_active;
        // The timer starts with the first fragment seen and is not extended
        // (RFC 791's "timer" per buffer; Linux does the same).
        nanos timeout = _cfg.reasm_timeout;
        if (pressure) timeout = std::max<nanos>(timeout / 4, std::min<nanos>(timeout, sec(1)));
        _wheel.arm(e->expiry, now + timeout);
    }

    const uint32_t end = off + len;
    if (last) {
        if (e->have_last && e->total != end) {
            drop_entry(*e, drop_reason::frag_inconsistent);
            return {};
        }
        for (uint32_t i = 0; i < e->npieces; ++i)
            if (e->pieces[i].off + e->pieces[i].len > end) {
                drop_entry(*e, drop_reason::frag_inconsistent);
                return {};
            }
    } else if (e->have_last && end > e->total) {
        drop_entry(*e, drop_reason::frag_inconsistent);
        return {};
    }
    for (uint32_t i = 0; i < e->npieces; ++i) {
        const piece& p = e->pieces[i];
        if (p.off == off && p.len == len) {
            count(drop_reason::frag_duplicate);  // a retransmitted or duplicated copy
            return {};
        }
        if (off < p.off + p.len && p.off < end) {
            drop_entry(*e, drop_reason::frag_overlap);
            return {};
        }
    }
    if (e->npieces == _cfg.reasm_max_frags) {
        drop_entry(*e, drop_reason::frag_too_many);
        return {};
    }
    // The byte budget: older datagrams make room, oldest first; when only
    // this one is left it is the one that cannot fit.
    while (_bytes + len > _cfg.reasm_max_bytes) {
        entry* victim = oldest(e);
        if (!victim) {
            drop_entry(*e, drop_reason::frag_mem_limit);
            return {};
        }
        drop_entry(*victim, drop_reason::frag_mem_limit);
    }
    piece& p = e->pieces[e->npieces];
    if (!_chunks.append(p.data, data)) {
        drop_entry(*e, drop_reason::no_buffers);
        return {};
    }
    p.off = off;
    p.len = len;
    ++e->npieces;
    _bytes += len;
    e->received += len;
    if (last) {
        e->have_last = true;
        e->total = end;
    }
    if (f.frag_offset() == 0) {  // the first fragment's header speaks for the datagram
        e->ttl = f.ttl();
        e->tos = f.tos();
    }
    // No overlaps were admitted, so equal byte counts mean no holes.
    if (!e->have_last || e->received != e->total) return {};

    wire::ipv4_repr h;
    h.src = e->src;
    h.dst = e->dst;
    h.protocol = e->proto;
    h.ttl = e->ttl;
    h.tos = e->tos;
    h.ident = e->ident;
    h.payload_len = uint16_t(e->total);
    h.emit(_out.data());
    std::byte* body = _out.data() + wire::ipv4_repr::length();
    for (uint32_t i = 0; i < e->npieces; ++i) {
        const piece& q = e->pieces[i];
        _chunks.copy_out(q.data, 0, mut_bytes(body + q.off, q.len));
    }
    size_t n = wire::ipv4_repr::length() + e->total;
    free_entry(*e);
    ++_stats.reasm_ok;
    return bytes(_out.data(), n);
}

}  // namespace mvnf::net
