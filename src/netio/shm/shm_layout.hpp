// Memory map of one shm link region (/dev/shm/mvnf.NAME): the shared header,
// per-queue wake words, ring control blocks, ring slots and packet buffers.
// Both ends compute the same offsets from (queues, ring size, buffer size);
// used by shm_port.cpp and the layout unit tests.
//
//   +--------------------+ 0
//   | shm_header         |  magic, geometry, end claims (pid, state)
//   +--------------------+ wake_off
//   | rx_wake[2][nq]     |  futex word + "sleeping" flag per receiving queue
//   +--------------------+ ctl_off
//   | ring_ctl data[2][nq][nq], ret[2][nq][nq]
//   +--------------------+ slots_off
//   | data slots  [2][nq][nq][ring]  (buffer index, length)
//   | return slots[2][nq][nq][ring]  (buffer index)
//   +--------------------+ bufs_off (page aligned)
//   | buffers [2][nq][ring] x buf_stride (buf_size + padding, see stride())
//   +--------------------+ total
//
// Direction d carries frames sent by end d. Ring [d][i][j] goes from end d's
// tx queue i to end (1-d)'s rx queue j; the return ring [d][i][j] brings the
// buffers end (1-d)'s rx queue j released back to end d's tx queue i. Every
// ring thus has exactly one producer thread and one consumer thread. Each tx
// queue owns `ring` buffers; no ring can overflow because it has `ring` slots.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "netio/shm/spsc_ring.hpp"

namespace mvnf::netio::shm {

inline constexpr uint64_t region_magic = 0x6d766e66'73686d31ull;  // "mvnfshm1"
inline constexpr uint32_t region_version = 2;  // 2: padded buffer stride

enum end_state : uint32_t {
    end_free = 0,      // nobody claimed this end yet
    end_attached = 1,  // claimed by `pid`
    end_closed = 2,    // its owner closed it (or a closer sealed it); final, except
                       // that a new process may take it over while the other end
                       // still runs (region::open, rejoin)
    end_claiming = 3,  // being taken over: waiting for the other end to return its buffers
};

struct end_slot {
    alignas(64) std::atomic<uint32_t> state;
    std::atomic<int32_t> pid;
    std::atomic<uint64_t> attach_ns;  // CLOCK_MONOTONIC at claim, for diagnostics
};

struct shm_header {
    std::atomic<uint64_t> magic;  // written last by the creator (release)
    uint32_t version;
    uint32_t num_queues, ring_size, buf_size, mtu;
    uint64_t total_size;
    uint64_t generation;             // creation time, distinguishes re-created regions
    std::atomic<uint32_t> unlinked;  // 0 -> 1 by whoever unlinks the name (exactly once)
    end_slot ends[2];
};

// Where a receiving queue sleeps. The producer reads `sleeping` after
// publishing and only then bumps `seq` and issues FUTEX_WAKE.
struct rx_wake {
    alignas(64) std::atomic<uint32_t> seq;
    std::atomic<uint32_t> sleeping;
};
static_assert(sizeof(rx_wake) == 64);

struct data_slot {
    uint32_t buf;  // global buffer index
    uint32_t len;  // frame length
};

struct layout {
    uint32_t nq = 1, ring = 1024, buf_size = 2048;
    size_t buf_stride = 2048 + 64;  // stride(buf_size)
    size_t wake_off = 0, ctl_off = 0, data_slots_off = 0, ret_slots_off = 0, bufs_off = 0;
    size_t total = 0;

    static layout compute(uint32_t nq, uint32_t ring, uint32_t buf_size) {
        auto align = [](size_t v, size_t a) { return (v + a - 1) / a * a; };
        layout l;
        l.nq = nq;
        l.ring = ring;
        l.buf_size = buf_size;
        l.buf_stride = stride(buf_size);
        size_t rings = size_t(2) * nq * nq;
        l.wake_off = align(sizeof(shm_header), 64);
        l.ctl_off = align(l.wake_off + size_t(2) * nq * sizeof(rx_wake), 64);
        l.data_slots_off = align(l.ctl_off + 2 * rings * sizeof(ring_ctl), 64);
        l.ret_slots_off = align(l.data_slots_off + rings * ring * sizeof(data_slot), 64);
        l.bufs_off = align(l.ret_slots_off + rings * ring * sizeof(uint32_t), 4096);
        l.total = align(l.bufs_off + size_t(2) * nq * ring * l.buf_stride, 4096);
        return l;
    }
    // Index of ring [d][i][j] among the 2*nq*nq of one kind.
    size_t ring_index(unsigned d, unsigned i, unsigned j) const {
        return (size_t(d) * nq + i) * nq + j;
    }
    size_t data_ctl(unsigned d, unsigned i, unsigned j) const {
        return ctl_off + ring_index(d, i, j) * sizeof(ring_ctl);
    }
    size_t ret_ctl(unsigned d, unsigned i, unsigned j) const {
        return ctl_off + (size_t(2) * nq * nq + ring_index(d, i, j)) * sizeof(ring_ctl);
    }
    size_t data_slots(unsigned d, unsigned i, unsigned j) const {
        return data_slots_off + ring_index(d, i, j) * ring * sizeof(data_slot);
    }
    size_t ret_slots(unsigned d, unsigned i, unsigned j) const {
        return ret_slots_off + ring_index(d, i, j) * ring * sizeof(uint32_t);
    }
    size_t wake(unsigned end, unsigned q) const {
        return wake_off + (size_t(end) * nq + q) * sizeof(rx_wake);
    }
    // Buffers of end d's tx queue i are [first_buf(d, i), first_buf(d, i) + ring).
    uint32_t first_buf(unsigned d, unsigned i) const { return (d * nq + i) * ring; }
    uint32_t total_bufs() const { return 2 * nq * ring; }
    // Which tx queue of end d owns buffer b (b must be in direction d).
    unsigned owner_queue(unsigned d, uint32_t b) const { return (b - d * nq * ring) / ring; }
    bool in_direction(unsigned d, uint32_t b) const {
        return b >= d * nq * ring && b < (d + 1) * nq * ring;
    }
    size_t buf(uint32_t b) const { return bufs_off + size_t(b) * buf_stride; }
    // Distance between buffer starts: buf_size rounded up to a cache line,
    // plus one line when that makes an even number of lines. Back to back,
    // 2048-octet buffers put every frame header in the same 2 of a 32 KiB
    // 8-way L1's 64 sets, and a burst of 32 evicts its own headers between
    // two reads (the sw dispatcher's check, then the stack's parse); an odd
    // number of lines spreads consecutive buffers over all the sets. Lockstep
    // dist_bench: hw1 8.49 -> 8.01 ns per frame, sw1 11.34 -> 9.99.
    static size_t stride(uint32_t buf_size) {
        const size_t lines = (size_t(buf_size) + 63) / 64;
        return (lines % 2 == 0 ? lines + 1 : lines) * 64;
    }
};

}  // namespace mvnf::netio::shm
