// Receive-side accounting of mvnf-pktgen (see rx_account.hpp). The per-frame
// work is a few compares and one bit set; the window is cleared as the
// highest sequence number advances, word by word for long steps.
#include "rx_account.hpp"

#include <cstring>

namespace mvnf::pktgen {

namespace {
constexpr uint64_t bit_of(uint64_t seq) {
    return uint64_t(1) << (seq % 64);
}
constexpr uint64_t word_of(uint64_t seq) {
    return (seq % rx_account::window) / 64;
}
}  // namespace

rx_account::rx_account() : _s(std::make_unique<sender_state[]>(senders)) {
    for (unsigned k = 0; k < senders; ++k) std::memset(_s[k].seen, 0, sizeof _s[k].seen);
}

void rx_account::start_run(sender_state& s, uint64_t seq) {
    s.active = true;
    s.lowest = s.highest = seq;
    std::memset(s.seen, 0, sizeof s.seen);
    s.seen[word_of(seq)] |= bit_of(seq);
    ++_c.accepted;
    ++_expected;
}

void rx_account::accept(sender_state& s, uint64_t seq) {
    if (seq > s.highest) {
        // The numbers entering the window lose what their ring slots held
        // about the numbers leaving it.
        const uint64_t step = seq - s.highest;
        if (step >= window) {
            std::memset(s.seen, 0, sizeof s.seen);
        } else {
            for (uint64_t q = s.highest + 1; q != seq + 1; ++q) s.seen[word_of(q)] &= ~bit_of(q);
        }
        s.seen[word_of(seq)] |= bit_of(seq);
        s.highest = seq;
        _expected += step;  // the numbers skipped are lost until they turn up
        ++_c.accepted;
        return;
    }
    uint64_t& w = s.seen[word_of(seq)];
    if (w & bit_of(seq)) {
        ++_c.duplicate;
        return;
    }
    w |= bit_of(seq);
    ++_c.accepted;
    ++_c.out_of_order;
    if (seq < s.lowest) {  // late, and older than anything accepted so far
        _expected += s.lowest - seq;
        s.lowest = seq;
    }
}

void rx_account::classify(sender_state& s, uint64_t seq) {
    if (!s.active) {
        start_run(s, seq);
        return;
    }
    if (plausible(s.highest, seq)) {
        s.pending = false;  // the sender went on without it: that stray stays one
        accept(s, seq);
        return;
    }
    if (s.pending) {
        if (seq == s.pending_seq) {
            ++_c.duplicate;
            return;
        }
        if (plausible(s.pending_seq, seq)) {
            // RFC 3550 A.1: two frames in sequence after a jump confirm it.
            // Forward, frames were lost in between; backward beyond the
            // window, the sender started a new run.
            --_c.stray;
            s.pending = false;
            if (s.pending_seq > s.highest)
                accept(s, s.pending_seq);
            else
                start_run(s, s.pending_seq);
            accept(s, seq);
            return;
        }
        // Not confirmed: the earlier stray stays one, this frame waits in turn.
    }
    s.pending = true;
    s.pending_seq = seq;
    ++_c.stray;
}

}  // namespace mvnf::pktgen
