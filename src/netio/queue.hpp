// One queue pair of a port, netmap-style: bursts in, bursts out, buffers lent
// and returned. This is also the seam between layers: the dist layer hands a
// per-core stack an object with this interface (a port queue in `hw` mode, a
// pair of dispatcher pipes in `sw` mode), and tests hand it in-memory links.
//
// Threading: a queue is driven by one thread at a time. Nothing here locks.
//
// Buffer ownership (drawn once):
//
//   rx_burst ──► caller owns rx buffers ──► release() returns them
//   alloc_tx ──► caller owns tx buffers ──► tx_burst() hands them to the port
//                                      └──► free_tx() if not sent
#pragma once

#include <cstdint>
#include <span>

#include "mtcp/mtcp_stats.h"
#include "netio/packet.hpp"

namespace mvnf::netio {

// Listed once in the public header (MTCP_STATS_QUEUE_DROPS, MTCP_STATS_QUEUE).
struct queue_stats {
#define MVNF_X(n) uint64_t n = 0;
    MTCP_STATS_QUEUE_DROPS(MVNF_X)
    MTCP_STATS_QUEUE(MVNF_X)
#undef MVNF_X
};

class queue {
public:
    virtual ~queue() = default;

    // Receives up to out.size() frames; the caller owns them until release().
    virtual unsigned rx_burst(std::span<packet> out) = 0;
    // Returns received buffers to the backend (any order, any batch size).
    virtual void release(std::span<const packet> pkts) = 0;

    // Borrows up to out.size() empty TX buffers; each comes back with `len` set
    // to its capacity. Fill data, set len, then tx_burst() or free_tx().
    virtual unsigned alloc_tx(std::span<packet> out) = 0;
    // Queues frames for transmission. Returns how many were accepted, always a
    // prefix of pkts; the rest stay owned by the caller. May transmit lazily:
    // call flush() at the end of a loop iteration.
    virtual unsigned tx_burst(std::span<packet> pkts) = 0;
    // Returns unsent TX buffers.
    virtual void free_tx(std::span<const packet> pkts) = 0;
    // Pushes out whatever tx_burst queued (the one kick per iteration, e.g. a
    // sendto() for AF_XDP or NIOCTXSYNC for netmap).
    virtual void flush() {}

    // Blocks until frames may be waiting, the timeout passes or the peer is
    // gone. timeout_ns < 0 waits forever, 0 only checks. Returns true when
    // frames may be ready. Callers busy-poll first and call this when idle.
    virtual bool wait(int64_t timeout_ns) = 0;

    // For a second thread of this process (thread_mode = thread: the
    // application posting a call to the stack thread): makes a wait() in
    // progress return now, or the next one return at once. Only where
    // interruptible() is true; elsewhere waits end only by frames, timeout
    // or peer loss, so such callers must bound them in short slices.
    virtual bool interruptible() const { return false; }
    virtual void interrupt() {}

    // An fd that polls readable when frames may be waiting, or -1 when the
    // backend blocks another way (shm uses a futex; see wait()).
    virtual int poll_fd() const { return -1; }

    virtual queue_stats stats() const = 0;
    // The drops of one half alone, for a caller that drives only that half
    // (the sw dispatcher's RX and TX threads publish them separately): each
    // reads nothing the other half writes. rx_drops() may cost a syscall
    // (kernel ring counters), so it is read once per many bursts.
    virtual uint64_t rx_drops() const { return stats().rx_dropped; }
    virtual uint64_t tx_drops() const { return stats().tx_dropped; }
};

}  // namespace mvnf::netio
