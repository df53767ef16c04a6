// An in-process link: two connected netio::queue endpoints sharing one
// buffer arena, with a virtual clock hook and seeded, injectable loss,
// reordering, duplication and corruption. Used by the stack's and TCP's
// deterministic tests in place of a real port (no threads, no syscalls).
//
//   endpoint a ──tx_burst──► [impair a→b] ──in flight (ordered)──► rx_burst endpoint b
//   endpoint b ──tx_burst──► [impair b→a] ──in flight (ordered)──► rx_burst endpoint a
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "netio/queue.hpp"

namespace mvnf::netio {

struct mem_impairments {
    double loss = 0;         // probability a frame vanishes
    double duplicate = 0;    // probability a frame arrives twice
    double reorder = 0;      // probability a frame is overtaken by the next `reorder_depth`
    double corrupt = 0;      // probability one bit past the Ethernet header flips
    uint32_t reorder_depth = 2;
    uint64_t latency_ns = 0;        // added to every frame (virtual clock)
    uint64_t reorder_delay_ns = 0;  // extra delay for reordered frames
};

struct mem_link_config {
    uint32_t buf_size = 2048;
    uint32_t num_buffers = 1024;  // shared by both directions and both endpoints
    uint32_t max_in_flight = 512;  // per direction; beyond it tx_burst refuses
    uint64_t seed = 1;
    mem_impairments a_to_b, b_to_a;
};

struct mem_link_counters {
    uint64_t sent = 0, delivered = 0, lost = 0, duplicated = 0, reordered = 0, corrupted = 0,
             filtered = 0;
};

class mem_link {
public:
    enum class dir : uint8_t { a_to_b = 0, b_to_a = 1 };
    // Sees (and may modify) each frame as it is sent; return false to drop it.
    using filter_fn = std::function<bool(std::span<std::byte> frame)>;

    explicit mem_link(const mem_link_config& cfg = {});
    ~mem_link();
    mem_link(const mem_link&) = delete;
    mem_link& operator=(const mem_link&) = delete;

    queue& a();
    queue& b();

    // The virtual clock frames are timed with (default: always 0).
    void set_clock(std::function<uint64_t()> now);
    void set_impairments(dir d, const mem_impairments& imp);
    void set_filter(dir d, filter_fn f);

    const mem_link_counters& counters(dir d) const;
    uint32_t num_buffers() const;
    uint32_t free_buffers() const;  // == num_buffers() when nothing is lent or in flight
    size_t in_flight(dir d) const;
    // Back to the state of construction (impairments, PRNG seed, counters,
    // buffer order; clock and filters stay). Refuses (false) unless every
    // buffer is home and nothing is in flight. For harnesses that reuse one
    // link for many runs (fuzz/).
    bool reset();
    // Earliest time a frame in flight becomes deliverable (UINT64_MAX: none).
    uint64_t next_delivery() const;

    struct impl;

private:
    std::unique_ptr<impl> _p;
};

}  // namespace mvnf::netio
