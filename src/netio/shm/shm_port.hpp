// The shm backend's classes: a mapped link region with its end claim and peer
// liveness (shm_region.cpp), and the port/queues driving its rings
// (shm_port.cpp). Only open_shm() and the shm tests include this.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "netio/port.hpp"
#include "netio/rss/steer.hpp"
#include "netio/shm/shm_layout.hpp"

namespace mvnf::netio::shm {

// One end's mapping of a link region. Closing it releases the end, wakes the
// peer's sleepers and unlinks the name when no live end remains.
class region {
public:
    struct params {
        std::string name;  // the link name (after "shm:")
        uint32_t num_queues, ring_size, buf_size, mtu;
    };
    static result<std::unique_ptr<region>> open(const params& p);
    ~region();
    region(const region&) = delete;
    region& operator=(const region&) = delete;

    std::byte* base() const { return _base; }
    const layout& lay() const { return _lay; }
    unsigned end() const { return _end; }
    shm_header& hdr() const { return *reinterpret_cast<shm_header*>(_base); }
    rx_wake& wake(unsigned end, unsigned q) const {
        return *reinterpret_cast<rx_wake*>(_base + _lay.wake(end, q));
    }
    // Attached and its process still running.
    bool peer_alive() const;
    // Closed, or attached by a process that has died (false while still free).
    bool peer_gone() const;
    int peer_pid() const { return hdr().ends[1 - _end].pid.load(std::memory_order_acquire); }

    // The shm object name for a link name: /dev/shm/mvnf.NAME.
    static std::string object_name(const std::string& link) { return "/mvnf." + link; }

private:
    region() = default;
    bool pid_dead(int pid) const;

    std::string _path;
    layout _lay;
    std::byte* _base = nullptr;
    int _fd = -1;
    unsigned _end = 0;
    bool _claimed = false;        // we own end _end and must release it
    // Shared by every queue of the port, whose threads may all be in wait():
    // guarded by _pidfd_m (the blocking path only, never per packet).
    mutable std::mutex _pidfd_m;
    mutable int _pidfd = -1;      // pidfd of the peer, opened lazily
    mutable int _pidfd_pid = 0;   // the pid _pidfd refers to
};

class shm_port;

// Queue pair q of one end: tx queue q of this end and rx queue q of this end.
class shm_queue final : public queue {
public:
    shm_queue(shm_port& port, unsigned q);
    unsigned rx_burst(std::span<packet> out) override;
    void release(std::span<const packet> pkts) override;
    unsigned alloc_tx(std::span<packet> out) override;
    unsigned tx_burst(std::span<packet> pkts) override;
    void free_tx(std::span<const packet> pkts) override;
    bool wait(int64_t timeout_ns) override;
    bool interruptible() const override { return true; }
    void interrupt() override;
    queue_stats stats() const override { return _stats; }
    uint64_t rx_drops() const override { return _stats.rx_dropped; }
    uint64_t tx_drops() const override { return _stats.tx_dropped; }
    // What this queue refused from the peer: descriptors naming a buffer
    // that is not the peer's to send or not ours to get back, buffers
    // posted or returned twice, and ring indices past the ring (each
    // rejected read of a corrupt index counts once).
    uint64_t peer_faults() const;

private:
    bool rx_ready();
    void reclaim();
    void wake_peer(uint64_t rings_mask);

    shm_port& _port;
    region& _r;
    const layout& _lay;
    unsigned _q, _end, _peer;
    uint32_t _first_buf;  // this queue's own tx buffers: [_first_buf, _first_buf + ring)
    unsigned _rr = 0;     // round-robin start among the rx rings
    frame_steer _steer;   // the "NIC's" RSS: frame -> peer rx queue (symmetric key)
    std::vector<uint32_t> _free;  // free tx buffers (a stack), sized once at open
    // Per own tx buffer: 1 while the peer has it (sent, not yet returned).
    std::vector<uint8_t> _lent;
    // Per peer buffer of each rx ring [i][k]: 1 while the stack holds it
    // (received, not yet released).
    std::vector<uint8_t> _held;
    uint64_t _peer_faults = 0;
    std::vector<ring_producer<data_slot>> _tx;   // [j]: to peer rx queue j
    std::vector<ring_consumer<uint32_t>> _txret; // [j]: buffers back from peer rx queue j
    std::vector<ring_consumer<data_slot>> _rx;   // [i]: from peer tx queue i
    std::vector<ring_producer<uint32_t>> _rxret; // [i]: buffers back to peer tx queue i
    queue_stats _stats;
    std::atomic<bool> _interrupt{false};  // set by interrupt(), consumed by wait()
};

class shm_port final : public port {
public:
    shm_port(std::unique_ptr<region> r, port_info info);
    const port_info& info() const override { return _info; }
    queue& q(unsigned idx) override { return *_queues[idx]; }
    bool peer_alive() const override { return _r->peer_alive(); }
    region& reg() { return *_r; }
    unsigned end() const { return _r->end(); }

private:
    std::unique_ptr<region> _r;
    port_info _info;
    std::vector<std::unique_ptr<shm_queue>> _queues;
};

}  // namespace mvnf::netio::shm
