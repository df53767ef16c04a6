// afpacket:IFNAME — the universal kernel fallback: one AF_PACKET socket per
// queue, a TPACKET_V3 (block-based) mmap RX ring and a TPACKET_V3 TX ring,
// sockets joined in a PACKET_FANOUT group. Opened by open_port() only.
//
// Memory and copies (drawn once):
//
//   RX ring (kernel fills)         rx_burst hands out pointers INTO the ring:
//   +---------+---------+----      zero copy; each block is refcounted and
//   | block 0 | block 1 | ...      given back to the kernel (TP_STATUS_KERNEL)
//   +---------+---------+----      when rx_burst walked past it and every
//                                  frame of it was release()d.
//   TX pool (ours) --copy--> TX ring --(send() kick in flush())--> kernel
//   alloc_tx lends pool buffers; tx_burst copies each into the next ring
//   frame (the one copy), because the kernel consumes ring frames strictly
//   in order while callers may send or free buffers in any order.
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "netio/afpacket/linux_if.hpp"
#include "netio/backends.hpp"
#include "netio/wake_fd.hpp"

namespace mvnf::netio {
namespace {

constexpr uint32_t eth_hdr_len = 14;
constexpr uint32_t rx_block_size = 1u << 16;  // holds any frame up to jumbo size
constexpr uint32_t rx_block_timeout_ms = 1;   // max latency of a partly filled block
// TX frames: tpacket3_hdr, then the frame (the kernel's default data offset).
constexpr uint32_t tx_data_off = TPACKET_ALIGN(sizeof(tpacket3_hdr));
const std::string needs_caps = "CAP_NET_RAW";

uint32_t load_acquire(const uint32_t* p) {
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
void store_release(uint32_t* p, uint32_t v) {
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

class afpacket_queue final : public queue {
  public:
    afpacket_queue(std::string who, uint32_t buf_size, uint32_t max_frame)
        : _who(std::move(who)), _buf_size(buf_size), _max_frame(max_frame) {}

    ~afpacket_queue() override {
        if (_map != MAP_FAILED) munmap(_map, _map_len);
        if (_fd >= 0) close(_fd);
    }

    // Stage 1: socket, options and rings (nothing received yet: the socket
    // is not bound, and with fanout a drop-all filter holds until joined).
    result<void> setup(uint32_t ring_size, bool hold_rx) {
        auto w = wake_fd::open(_who);
        if (!w) return fail(w.error());
        _wake = std::move(*w);
        _fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
        if (_fd < 0) return fail(sys("socket(AF_PACKET)"));
        if (hold_rx) {
            sock_filter drop_all{BPF_RET | BPF_K, 0, 0, 0};
            sock_fprog prog{1, &drop_all};
            if (setsockopt(_fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0)
                return fail(sys("SO_ATTACH_FILTER"));
        }
        int v3 = TPACKET_V3, one = 1;
        if (setsockopt(_fd, SOL_PACKET, PACKET_VERSION, &v3, sizeof v3) != 0)
            return fail(sys("PACKET_VERSION TPACKET_V3"));
        // Our own transmissions would otherwise come back on every queue.
        if (setsockopt(_fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0)
            return fail(sys("PACKET_IGNORE_OUTGOING"));
        // Straight to the driver: no qdisc lock or requeue on the send path.
        (void)setsockopt(_fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
        // A malformed TX frame is skipped instead of blocking the ring.
        if (setsockopt(_fd, SOL_PACKET, PACKET_LOSS, &one, sizeof one) != 0)
            return fail(sys("PACKET_LOSS"));

        uint64_t rx_bytes = uint64_t(ring_size) * _buf_size;
        _blk_nr = uint32_t(rx_bytes / rx_block_size);
        if (_blk_nr < 8) _blk_nr = 8;
        uint32_t rx_frame = (_buf_size + TPACKET_ALIGNMENT - 1) & ~(TPACKET_ALIGNMENT - 1);
        tpacket_req3 rx{};
        rx.tp_block_size = rx_block_size;
        rx.tp_block_nr = _blk_nr;
        rx.tp_frame_size = rx_frame;
        rx.tp_frame_nr = _blk_nr * (rx_block_size / rx_frame);
        rx.tp_retire_blk_tov = rx_block_timeout_ms;
        if (setsockopt(_fd, SOL_PACKET, PACKET_RX_RING, &rx, sizeof rx) != 0)
            return fail(sys("PACKET_RX_RING"));

        // TX: fixed frames (the kernel has no block mode for TX), a power of
        // two so they tile pages exactly.
        _tx_frame_size = linux_if::pow2_ceil(tx_data_off + _buf_size);
        uint32_t page = uint32_t(sysconf(_SC_PAGESIZE));
        uint32_t tx_block = _tx_frame_size > page ? _tx_frame_size : page;
        _tx_frame_nr = ring_size;
        if (_tx_frame_nr < tx_block / _tx_frame_size) _tx_frame_nr = tx_block / _tx_frame_size;
        tpacket_req3 tx{};
        tx.tp_block_size = tx_block;
        tx.tp_frame_size = _tx_frame_size;
        tx.tp_block_nr = _tx_frame_nr / (tx_block / _tx_frame_size);
        tx.tp_frame_nr = _tx_frame_nr;
        if (setsockopt(_fd, SOL_PACKET, PACKET_TX_RING, &tx, sizeof tx) != 0)
            return fail(sys("PACKET_TX_RING"));

        size_t rx_len = size_t(_blk_nr) * rx_block_size;
        _map_len = rx_len + size_t(tx.tp_block_nr) * tx_block;
        _map = mmap(nullptr, _map_len, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_LOCKED | MAP_POPULATE, _fd, 0);
        if (_map == MAP_FAILED)  // MAP_LOCKED may exceed RLIMIT_MEMLOCK; not needed
            _map = mmap(nullptr, _map_len, PROT_READ | PROT_WRITE, MAP_SHARED, _fd, 0);
        if (_map == MAP_FAILED) return fail(sys("mmap rings"));
        _rx_ring = static_cast<std::byte*>(_map);
        _tx_ring = _rx_ring + rx_len;
        _blk_refs.assign(_blk_nr, 0);

        _pool.assign(size_t(ring_size) * 2 * _buf_size, std::byte{0});
        _free.resize(size_t(ring_size) * 2);
        for (uint32_t i = 0; i < _free.size(); ++i) _free[i] = uint32_t(_free.size()) - 1 - i;
        _nfree = uint32_t(_free.size());
        return {};
    }

    // Stage 2: bind to the interface, all protocols.
    result<void> bind_to(int ifindex) {
        sockaddr_ll sll{};
        sll.sll_family = AF_PACKET;
        sll.sll_protocol = htons(ETH_P_ALL);
        sll.sll_ifindex = ifindex;
        if (bind(_fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) return fail(sys("bind"));
        return {};
    }

    // Stage 3: fanout. The first socket asks the kernel for a unique group id
    // (no clash with other processes); the others join that id.
    result<uint16_t> join_fanout(uint16_t id, bool first) {
        // FANOUT_HASH: the kernel's flow hash keeps a flow on one queue (not
        // our symmetric Toeplitz: see docs/netio/afpacket.md). DEFRAG keeps
        // fragments of one datagram together for reassembly.
        int arg = (PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG |
                   (first ? PACKET_FANOUT_FLAG_UNIQUEID : 0))
                      << 16 |
                  id;
        if (setsockopt(_fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0)
            return fail(sys("PACKET_FANOUT"));
        if (first) {
            socklen_t len = sizeof arg;
            if (getsockopt(_fd, SOL_PACKET, PACKET_FANOUT, &arg, &len) != 0)
                return fail(sys("getsockopt PACKET_FANOUT"));
        }
        return uint16_t(arg & 0xffff);
    }

    result<void> open_rx() {
        int dummy = 0;
        if (setsockopt(_fd, SOL_SOCKET, SO_DETACH_FILTER, &dummy, sizeof dummy) != 0)
            return fail(sys("SO_DETACH_FILTER"));
        return {};
    }

    unsigned rx_burst(std::span<packet> out) override {
        unsigned n = 0;
        while (n < out.size()) {
            if (!_walking) {
                auto* bd = block(_blk);
                if (!(load_acquire(&bd->hdr.bh1.block_status) & TP_STATUS_USER)) break;
                _walking = true;
                _left = bd->hdr.bh1.num_pkts;
                _next = reinterpret_cast<std::byte*>(bd) + bd->hdr.bh1.offset_to_first_pkt;
                _blk_refs[_blk] = 1;  // the walker's own reference
            }
            while (_left && n < out.size()) {
                auto* h = reinterpret_cast<tpacket3_hdr*>(_next);
                _next += h->tp_next_offset;
                --_left;
                if (h->tp_snaplen < h->tp_len || h->tp_snaplen > _max_frame) {
                    ++_st.rx_dropped;  // truncated or larger than the MTU (GSO)
                    continue;
                }
                out[n] = packet{reinterpret_cast<std::byte*>(h) + h->tp_mac, h->tp_snaplen, _blk};
                _st.rx_bytes += h->tp_snaplen;
                ++_blk_refs[_blk];
                ++n;
            }
            if (_left == 0) {
                _walking = false;
                unref(_blk);
                _blk = (_blk + 1) % _blk_nr;
            }
        }
        _st.rx_packets += n;
        return n;
    }

    void release(std::span<const packet> pkts) override {
        for (const auto& p : pkts)
            if (p.handle < _blk_nr && _blk_refs[p.handle] > 0) unref(p.handle);
    }

    unsigned alloc_tx(std::span<packet> out) override {
        unsigned n = 0;
        while (n < out.size() && _nfree) {
            uint32_t idx = _free[--_nfree];
            out[n++] = packet{_pool.data() + size_t(idx) * _buf_size, _buf_size, idx};
        }
        return n;
    }

    unsigned tx_burst(std::span<packet> pkts) override {
        unsigned n = 0;
        for (; n < pkts.size(); ++n) {
            std::byte* f = _tx_ring + size_t(_tx_head) * _tx_frame_size;
            auto* h = reinterpret_cast<tpacket3_hdr*>(f);
            uint32_t st = load_acquire(&h->tp_status);
            if (st != TP_STATUS_AVAILABLE && st != TP_STATUS_WRONG_FORMAT) break;  // full
            const packet& p = pkts[n];
            if (p.len < eth_hdr_len || p.len > _max_frame) {
                ++_st.tx_dropped;  // accepted and dropped: the kernel would refuse it
            } else {
                std::memcpy(f + tx_data_off, p.data, p.len);
                h->tp_len = p.len;
                h->tp_snaplen = p.len;
                h->tp_next_offset = 0;
                store_release(&h->tp_status, TP_STATUS_SEND_REQUEST);
                _tx_head = (_tx_head + 1) % _tx_frame_nr;
                ++_tx_pending;
                ++_st.tx_packets;
                _st.tx_bytes += p.len;
            }
            give_back(p);
        }
        return n;
    }

    void free_tx(std::span<const packet> pkts) override {
        for (const auto& p : pkts) give_back(p);
    }

    // One send() per loop iteration pushes every frame queued since the last.
    void flush() override {
        if (!_tx_pending) return;
        _tx_pending = 0;
        ++_st.wakeups;
        if (send(_fd, nullptr, 0, MSG_DONTWAIT) < 0 && errno != EAGAIN && errno != ENOBUFS)
            ++_st.tx_dropped;
    }

    bool wait(int64_t timeout_ns) override {
        if (_walking || (load_acquire(&block(_blk)->hdr.bh1.block_status) & TP_STATUS_USER))
            return true;
        if (timeout_ns == 0) return false;
        ++_st.sleeps;
        return _wake.poll(_fd, POLLIN, timeout_ns) != 0;
    }

    // Another thread (wake_fd.hpp): ends the wait in progress or the next one.
    bool interruptible() const override { return true; }
    void interrupt() override { _wake.signal(); }

    int poll_fd() const override { return _fd; }

    queue_stats stats() const override {
        // Kernel-side drops (ring full): the counters reset on each read.
        tpacket_stats_v3 ks{};
        socklen_t len = sizeof ks;
        if (getsockopt(_fd, SOL_PACKET, PACKET_STATISTICS, &ks, &len) == 0)
            _kernel_drops += ks.tp_drops;
        queue_stats s = _st;
        s.rx_dropped += _kernel_drops;
        return s;
    }
    uint64_t rx_drops() const override {
        tpacket_stats_v3 ks{};
        socklen_t len = sizeof ks;
        if (getsockopt(_fd, SOL_PACKET, PACKET_STATISTICS, &ks, &len) == 0)
            _kernel_drops += ks.tp_drops;
        return _st.rx_dropped + _kernel_drops;
    }
    uint64_t tx_drops() const override { return _st.tx_dropped; }

  private:
    tpacket_block_desc* block(uint32_t i) {
        return reinterpret_cast<tpacket_block_desc*>(_rx_ring + size_t(i) * rx_block_size);
    }
    void unref(uint32_t b) {
        if (--_blk_refs[b] == 0) store_release(&block(b)->hdr.bh1.block_status, TP_STATUS_KERNEL);
    }
    void give_back(const packet& p) {
        if (p.handle < _free.size() && _nfree < _free.size()) _free[_nfree++] = p.handle;
    }
    error sys(const char* what) const {
        return linux_if::from_errno(errno, _who, what, needs_caps);
    }

    std::string _who;
    uint32_t _buf_size, _max_frame;
    int _fd = -1;
    wake_fd _wake;  // interrupt(): polled next to _fd in wait()
    void* _map = MAP_FAILED;
    size_t _map_len = 0;
    // RX
    std::byte* _rx_ring = nullptr;
    uint32_t _blk_nr = 0, _blk = 0, _left = 0;
    bool _walking = false;
    std::byte* _next = nullptr;
    std::vector<uint32_t> _blk_refs;
    // TX
    std::byte* _tx_ring = nullptr;
    uint32_t _tx_frame_size = 0, _tx_frame_nr = 0, _tx_head = 0, _tx_pending = 0;
    std::vector<std::byte> _pool;
    std::vector<uint32_t> _free;
    uint32_t _nfree = 0;
    queue_stats _st;
    mutable uint64_t _kernel_drops = 0;
};

class afpacket_port final : public port {
  public:
    port_info _info;
    std::vector<std::unique_ptr<afpacket_queue>> _queues;

    const port_info& info() const override { return _info; }
    queue& q(unsigned idx) override { return *_queues.at(idx); }
};

}  // namespace

result<std::unique_ptr<port>> open_afpacket(const port_spec& spec, const port_config& cfg) {
    std::string who = "afpacket:" + spec.name;
    auto facts = linux_if::lookup(spec.name, who);
    if (!facts) return fail(facts.error());
    if (cfg.mtu && cfg.mtu != facts->mtu)
        return fail(error{errc::bad_config, who + ": configured MTU " + std::to_string(cfg.mtu) +
                                                " differs from the device's " +
                                                std::to_string(facts->mtu)});
    uint32_t max_frame = facts->mtu + eth_hdr_len;
    if (max_frame > cfg.buf_size)
        return fail(error{errc::bad_config, who + ": MTU " + std::to_string(facts->mtu) +
                                                " needs buf_size >= " + std::to_string(max_frame) +
                                                " (have " + std::to_string(cfg.buf_size) + ")"});

    auto p = std::make_unique<afpacket_port>();
    p->_info = port_info{std::string("afpacket:") + spec.name,
                         "afpacket",
                         spec.name,
                         facts->mac,
                         facts->mtu,
                         cfg.num_queues,
                         cfg.buf_size,
                         false,
                         "AF_PACKET copies every frame"};
    bool fanout = cfg.num_queues > 1;
    uint16_t group = 0;
    for (uint32_t i = 0; i < cfg.num_queues; ++i) {
        auto q = std::make_unique<afpacket_queue>(who, cfg.buf_size, max_frame);
        if (auto r = q->setup(cfg.ring_size, fanout); !r) return fail(r.error());
        if (auto r = q->bind_to(facts->ifindex); !r) return fail(r.error());
        if (fanout) {
            auto id = q->join_fanout(group, i == 0);
            if (!id) return fail(id.error());
            group = *id;
        }
        p->_queues.push_back(std::move(q));
    }
    // Only now, with every member in the group, do frames start to flow.
    if (fanout)
        for (auto& q : p->_queues)
            if (auto r = q->open_rx(); !r) return fail(r.error());
    return std::unique_ptr<port>(std::move(p));
}

}  // namespace mvnf::netio
