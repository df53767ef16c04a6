// The netmap backend's queue and port classes. open_netmap() builds them from
// /dev/netmap registrations; the netmap tests build a queue directly over an
// in-memory ring image (fd -1: the sync ioctls then fail harmlessly).
#pragma once

#include <memory>
#include <vector>

#include "netio/netmap/netmap_abi.hpp"
#include "netio/netmap/netmap_ring.hpp"
#include "netio/port.hpp"
#include "netio/wake_fd.hpp"

namespace mvnf::netio::netmap {

// One queue pair = one registered /dev/netmap fd: every rx ring bound to it
// (read round-robin) and its first bound tx ring. wait() polls the fd and the
// queue's wake fd, so interrupt() ends it from another thread (wake_fd.hpp).
class netmap_queue final : public queue {
public:
    // Binds to the rings nifp marks as bound (non-zero ring_ofs). fd may be -1.
    // Without a wake fd the queue is not interruptible (open_netmap always
    // gives one; ring tests may not).
    netmap_queue(int fd, netmap_if* nifp, wake_fd wake = {});

    unsigned rx_burst(std::span<packet> out) override;
    void release(std::span<const packet> pkts) override;
    unsigned alloc_tx(std::span<packet> out) override;
    unsigned tx_burst(std::span<packet> pkts) override;
    void free_tx(std::span<const packet> pkts) override;
    void flush() override;
    bool wait(int64_t timeout_ns) override;
    bool interruptible() const override { return _wake.valid(); }
    void interrupt() override {
        if (_wake.valid()) _wake.signal();
    }
    int poll_fd() const override { return _fd; }
    queue_stats stats() const override { return _stats; }
    uint64_t rx_drops() const override { return _stats.rx_dropped; }
    uint64_t tx_drops() const override { return _stats.tx_dropped; }

    unsigned num_rx_rings() const { return unsigned(_rx.size()); }
    bool has_tx() const { return _tx != nullptr; }
    uint32_t buf_size() const;
    uint64_t syncs() const { return _syncs; }  // sync ioctls issued (for tests/stats)

private:
    unsigned take(std::span<packet> out);
    void sync(unsigned long req);

    int _fd;
    wake_fd _wake;
    std::vector<rx_ring> _rx;
    std::unique_ptr<tx_ring> _tx;
    unsigned _rr = 0;  // rx ring to start the next burst with
    uint64_t _syncs = 0;
    queue_stats _stats;
};

// Bound rings of an fd, as libnetmap finds them: entries of ring_ofs that are
// non-zero. Indices are in NETMAP_TXRING / NETMAP_RXRING numbering.
struct bound_rings {
    std::vector<unsigned> tx, rx;
};
bound_rings find_bound_rings(netmap_if* nifp);

}  // namespace mvnf::netio::netmap
