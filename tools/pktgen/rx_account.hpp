// Receive-side accounting of mvnf-pktgen's rx mode: classifies every frame a
// queue delivers as bad, stray, duplicate or accepted, and derives losses and
// late arrivals from the sequence numbers. Called per frame by rx_loop in
// pktgen.cpp; tested on its own by tests/tools/pktgen_rx_account_test.cpp.
//
// A sequence number is only trusted once it is plausible: within `window`
// behind the highest one seen from its sender, or at most `max_jump` ahead.
// Anything else (a bit flipped in a frame that still passed the check, a
// sender that restarted, a long burst of losses) is held as a stray until the
// sender's next frame confirms it, as RTP receivers validate sequence jumps
// (RFC 3550 appendix A.1). So one bogus number can neither turn into a huge
// loss count nor make every later frame look late.
#pragma once

#include <cstdint>
#include <memory>

namespace mvnf::pktgen {

// Counters of one queue. Between calls, always:
//   received = bad + stray + duplicate + accepted
//   out_of_order <= accepted
//   lost = expected - accepted, where expected counts every sequence number
//   from the lowest to the highest accepted, per sender and run; a number
//   counts as accepted once, so lost never goes below zero.
struct rx_counts {
    uint64_t received = 0;      // every frame the queue delivered
    uint64_t bytes = 0;         // their lengths
    uint64_t bad = 0;           // failed the frame check (corrupt, foreign, wrong kind)
    uint64_t stray = 0;         // passed the check, implausible sequence number
    uint64_t duplicate = 0;     // a sequence number already received from that sender
    uint64_t accepted = 0;      // first arrival of each sequence number
    uint64_t out_of_order = 0;  // accepted after a higher number of the same sender
    uint64_t lost = 0;          // numbers inside the accepted range never received
};

class rx_account {
  public:
    // Sequence numbers remembered behind the highest, per sender: duplicates
    // and late frames within it are told apart exactly.
    static constexpr uint64_t window = 16384;
    // A larger step forward waits for confirmation by the sender's next frame.
    static constexpr uint64_t max_jump = window;
    static constexpr unsigned senders = 256;  // the sender field is one byte

    // All state is allocated here, none per frame.
    rx_account();

    // A frame that failed check_frame (or is not a data frame).
    void bad(uint32_t len) {
        ++_c.received;
        _c.bytes += len;
        ++_c.bad;
    }
    // A data frame that passed check_frame.
    void frame(uint8_t sender, uint64_t seq, uint32_t len) {
        ++_c.received;
        _c.bytes += len;
        sender_state& s = _s[sender];
        if (s.active && seq == s.highest + 1) {  // the common case, inline
            s.pending = false;  // any stray stays one: the sender went on without it
            s.highest = seq;
            s.seen[(seq % window) / 64] |= uint64_t(1) << (seq % 64);
            ++_c.accepted;
            ++_expected;
            return;
        }
        classify(s, seq);
    }

    rx_counts counts() const {
        rx_counts c = _c;
        c.lost = _expected - _c.accepted;
        return c;
    }

  private:
    struct sender_state {
        bool active = false;   // a run of sequence numbers has started
        bool pending = false;  // a stray waits for confirmation
        uint64_t lowest = 0, highest = 0, pending_seq = 0;
        uint64_t seen[window / 64];  // arrivals in (highest - window, highest], by seq % window
    };
    static bool plausible(uint64_t ref, uint64_t seq) {
        return seq > ref ? seq - ref <= max_jump : ref - seq < window;
    }
    void classify(sender_state& s, uint64_t seq);
    void start_run(sender_state& s, uint64_t seq);
    void accept(sender_state& s, uint64_t seq);  // seq is plausible against s.highest

    std::unique_ptr<sender_state[]> _s;
    rx_counts _c;
    uint64_t _expected = 0;
};

}  // namespace mvnf::pktgen
