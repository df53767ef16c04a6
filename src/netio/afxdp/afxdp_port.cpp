// afxdp:IFNAME — AF_XDP through libxdp's socket/UMEM helpers and our own
// XDP redirect program (xdp_prog.cpp). One AF_XDP socket per queue, bound to
// the device queue of the same number, each with its own UMEM, so a queue is
// driven by one thread with no sharing. Opened by open_port() only.
//
// Frames of one queue's UMEM (buf_size each, 2048 or 4096):
//
//   free stack ──refill()──► fill ring ──kernel──► rx ring ──rx_burst──► caller
//       ▲                                                                 │
//       ├──────────────────────────── release() ◄─────────────────────────┘
//       ├── completion ring ◄──kernel── tx ring ◄──tx_burst── caller
//       └──────────────────── free_tx() ◄──────────── alloc_tx() ◄─ free stack
//
// No copies in user space; the kernel copies once per frame in copy mode
// (XDP_COPY, e.g. veth) and not at all in zero-copy mode.
#include <linux/if_xdp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "netio/afpacket/linux_if.hpp"
#include "netio/afxdp/xdp_prog.hpp"
#include "netio/backends.hpp"
#include "netio/wake_fd.hpp"

namespace mvnf::netio {
namespace {

constexpr uint32_t eth_hdr_len = 14;
constexpr uint32_t frames_per_ring = 4;  // UMEM frames = 4 x ring_size per queue
const std::string needs_caps = "CAP_NET_ADMIN, CAP_NET_RAW and CAP_BPF";

class afxdp_queue final : public queue {
  public:
    afxdp_queue(std::string who, uint32_t frame_size, uint32_t ring_size, uint32_t max_frame)
        : _who(std::move(who)), _fs(frame_size), _ring(ring_size), _max_frame(max_frame) {}

    ~afxdp_queue() override {
        if (_xsk) xsk_socket__delete(_xsk);
        if (_umem) (void)xsk_umem__delete(_umem);
        if (_area != MAP_FAILED) munmap(_area, _area_len);
    }

    // Opens the socket on (ifname, qid): zero-copy first unless force_copy,
    // then copy mode. The UMEM is rebuilt between tries, since a failed bind
    // leaves its rings configured on the UMEM's socket.
    result<void> open(const std::string& ifname, uint32_t qid, bool force_copy) {
        auto w = wake_fd::open(_who);
        if (!w) return fail(w.error());
        _wake = std::move(*w);
        _nframes = _ring * frames_per_ring;
        _area_len = size_t(_nframes) * _fs;
        _area = mmap(nullptr, _area_len, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (_area == MAP_FAILED)
            return fail(error{errc::system, _who + ": UMEM mmap: " + std::strerror(errno)});
        _base = static_cast<std::byte*>(_area);
        _free.resize(_nframes);

        int zc_err = 0;
        // EBUSY right after an earlier socket on this queue closed (or its
        // process died) is the kernel's deferred teardown, not a live owner
        // (claim() ruled that out): retry for a bounded while.
        int busy_retries = 50;
        for (int attempt = force_copy ? 1 : 0; attempt < 2;) {
            bool zc = attempt == 0;
            xsk_umem_config uc{};
            uc.fill_size = _ring;
            uc.comp_size = _ring;
            uc.frame_size = _fs;
            uc.frame_headroom = 0;
            int r = xsk_umem__create(&_umem, _area, _area_len, &_fill, &_comp, &uc);
            if (r != 0) return fail(linux_if::from_errno(-r, _who, "create UMEM", needs_caps));
            xsk_socket_config sc{};
            sc.rx_size = _ring;
            sc.tx_size = _ring;
            sc.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;  // our program, not libxdp's
            sc.bind_flags = uint16_t(XDP_USE_NEED_WAKEUP | (zc ? XDP_ZEROCOPY : XDP_COPY));
            r = xsk_socket__create(&_xsk, ifname.c_str(), qid, _umem, &_rx, &_tx, &sc);
            if (r == 0) {
                _zero_copy = zc;
                _zc_err = zc_err;
                break;
            }
            _xsk = nullptr;
            (void)xsk_umem__delete(_umem);
            _umem = nullptr;
            if (r == -EBUSY && busy_retries-- > 0) {
                usleep(20'000);
                continue;
            }
            if (zc) {
                zc_err = -r;
                ++attempt;
                continue;
            }
            auto e = linux_if::from_errno(-r, _who, "AF_XDP socket on queue " + std::to_string(qid),
                                          needs_caps);
            if (zc_err) e.message += " (zero-copy: " + std::string(std::strerror(zc_err)) + ")";
            return fail(e);
        }
        _fd = xsk_socket__fd(_xsk);
        // Every frame starts free; the fill ring gets its share on first use.
        for (uint32_t i = 0; i < _nframes; ++i) _free[i] = _nframes - 1 - i;
        _nfree = _nframes;
        refill();
        return {};
    }

    xsk_socket* socket() const { return _xsk; }
    bool zero_copy() const { return _zero_copy; }
    // The errno of the refused zero-copy bind (0: not tried, or it worked).
    int zero_copy_error() const { return _zc_err; }

    unsigned rx_burst(std::span<packet> out) override {
        refill();
        uint32_t idx = 0;
        unsigned n = xsk_ring_cons__peek(&_rx, uint32_t(out.size()), &idx);
        if (n == 0) {
            // Copy mode and some drivers only look at the fill ring again
            // when woken: one kick per empty poll, only when asked for.
            if (xsk_ring_prod__needs_wakeup(&_fill)) {
                ++_st.wakeups;
                (void)recvfrom(_fd, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
            }
            return 0;
        }
        for (unsigned i = 0; i < n; ++i) {
            const xdp_desc* d = xsk_ring_cons__rx_desc(&_rx, idx + i);
            out[i] = packet{_base + d->addr, d->len, uint32_t(d->addr / _fs)};
            _st.rx_bytes += d->len;
        }
        xsk_ring_cons__release(&_rx, n);
        _st.rx_packets += n;
        return n;
    }

    void release(std::span<const packet> pkts) override {
        for (const auto& p : pkts) give_back(p.handle);
    }

    unsigned alloc_tx(std::span<packet> out) override {
        reap_completions();
        unsigned n = 0;
        while (n < out.size() && _nfree) {
            uint32_t f = _free[--_nfree];
            out[n++] = packet{_base + size_t(f) * _fs, _fs, f};
        }
        return n;
    }

    unsigned tx_burst(std::span<packet> pkts) override {
        uint32_t slots = xsk_prod_nb_free(&_tx, uint32_t(pkts.size()));
        // First pass: how many of pkts we take, and how many of those are
        // valid (invalid ones are taken and dropped: the kernel would skip
        // them silently).
        unsigned take = 0, valid = 0;
        for (; take < pkts.size(); ++take) {
            if (!valid_tx(pkts[take])) continue;
            if (valid == slots) break;
            ++valid;
        }
        uint32_t idx = 0;
        if (valid && xsk_ring_prod__reserve(&_tx, valid, &idx) != valid) return 0;
        unsigned slot = 0;
        for (unsigned i = 0; i < take; ++i) {
            const packet& p = pkts[i];
            if (!valid_tx(p)) {
                ++_st.tx_dropped;
                give_back(p.handle);
                continue;
            }
            xdp_desc* d = xsk_ring_prod__tx_desc(&_tx, idx + slot++);
            d->addr = uint64_t(p.data - _base);
            d->len = p.len;
            d->options = 0;
            _st.tx_bytes += p.len;
        }
        if (valid) {
            xsk_ring_prod__submit(&_tx, valid);
            _st.tx_packets += valid;
            _tx_in_flight += valid;
            _kick = true;
        }
        return take;
    }

    void free_tx(std::span<const packet> pkts) override {
        for (const auto& p : pkts) give_back(p.handle);
    }

    // The one TX syscall per loop iteration, and only when the kernel asks.
    // Copy mode sends at most 32 frames per kick (EAGAIN for the rest), so
    // a large burst takes ceil(n/32) kicks; completions are reaped between.
    void flush() override {
        reap_completions();
        if (!_kick) return;
        _kick = false;
        if (!xsk_ring_prod__needs_wakeup(&_tx)) return;
        for (uint32_t tries = _ring / 32 + 2; tries; --tries) {
            ++_st.wakeups;
            if (sendto(_fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0) >= 0) break;
            if (errno != EAGAIN && errno != EBUSY) {
                if (errno != ENOBUFS) ++_st.tx_dropped;
                break;
            }
            reap_completions();
            if (_tx_in_flight == 0) break;
        }
    }

    bool wait(int64_t timeout_ns) override {
        refill();
        if (xsk_cons_nb_avail(&_rx, 1)) return true;
        if (timeout_ns == 0) return false;
        ++_st.sleeps;
        return _wake.poll(_fd, POLLIN, timeout_ns) != 0;
    }

    // Another thread (wake_fd.hpp): ends the wait in progress or the next one.
    bool interruptible() const override { return true; }
    void interrupt() override { _wake.signal(); }

    int poll_fd() const override { return _fd; }

    queue_stats stats() const override {
        queue_stats s = _st;
        xdp_statistics ks{};
        socklen_t len = sizeof ks;
        if (getsockopt(_fd, SOL_XDP, XDP_STATISTICS, &ks, &len) == 0)
            s.rx_dropped += ks.rx_dropped + ks.rx_ring_full + ks.rx_invalid_descs;
        return s;
    }
    uint64_t rx_drops() const override {
        xdp_statistics ks{};
        socklen_t len = sizeof ks;
        uint64_t n = _st.rx_dropped;
        if (getsockopt(_fd, SOL_XDP, XDP_STATISTICS, &ks, &len) == 0)
            n += ks.rx_dropped + ks.rx_ring_full + ks.rx_invalid_descs;
        return n;
    }
    uint64_t tx_drops() const override { return _st.tx_dropped; }

  private:
    bool valid_tx(const packet& p) const {
        if (p.handle >= _nframes || p.len < eth_hdr_len || p.len > _max_frame) return false;
        std::byte* frame = _base + size_t(p.handle) * _fs;
        return p.data >= frame && size_t(p.data - frame) + p.len <= _fs;
    }
    void give_back(uint32_t frame) {
        if (frame < _nframes && _nfree < _nframes) _free[_nfree++] = frame;
    }
    // Moves free frames to the fill ring in one batch.
    void refill() {
        uint32_t n = xsk_prod_nb_free(&_fill, _nfree);
        if (n > _nfree) n = _nfree;
        if (n == 0) return;
        uint32_t idx = 0;
        if (xsk_ring_prod__reserve(&_fill, n, &idx) != n) return;
        for (uint32_t i = 0; i < n; ++i)
            *xsk_ring_prod__fill_addr(&_fill, idx + i) = uint64_t(_free[--_nfree]) * _fs;
        xsk_ring_prod__submit(&_fill, n);
    }
    void reap_completions() {
        uint32_t idx = 0;
        uint32_t n = xsk_ring_cons__peek(&_comp, _ring, &idx);
        for (uint32_t i = 0; i < n; ++i)
            give_back(uint32_t(*xsk_ring_cons__comp_addr(&_comp, idx + i) / _fs));
        if (n) xsk_ring_cons__release(&_comp, n);
        _tx_in_flight -= n < _tx_in_flight ? n : _tx_in_flight;
    }

    std::string _who;
    uint32_t _fs, _ring, _max_frame;
    uint32_t _nframes = 0, _nfree = 0, _tx_in_flight = 0;
    void* _area = MAP_FAILED;
    size_t _area_len = 0;
    std::byte* _base = nullptr;
    std::vector<uint32_t> _free;
    xsk_umem* _umem = nullptr;
    xsk_socket* _xsk = nullptr;
    xsk_ring_prod _fill{}, _tx{};
    xsk_ring_cons _comp{}, _rx{};
    int _fd = -1;
    wake_fd _wake;  // interrupt(): polled next to _fd in wait()
    bool _zero_copy = false, _kick = false;
    int _zc_err = 0;
    queue_stats _st;
};

class afxdp_port final : public port {
  public:
    // Members are destroyed bottom-up: the program (its link) goes before
    // the sockets, so no frame is redirected to a socket being deleted.
    std::vector<std::unique_ptr<afxdp_queue>> _queues;
    afxdp::xdp_redirect _prog;
    port_info _info;

    ~afxdp_port() override = default;
    const port_info& info() const override { return _info; }
    queue& q(unsigned idx) override { return *_queues.at(idx); }
};

}  // namespace

result<std::unique_ptr<port>> open_afxdp(const port_spec& spec, const port_config& cfg) {
    std::string who = "afxdp:" + spec.name;
    auto bad = [&](const std::string& why) {
        return fail(error{errc::bad_config, who + ": " + why});
    };
    // Aligned UMEM chunks must be a power of two from 2048 up to the page size.
    uint32_t page = uint32_t(sysconf(_SC_PAGESIZE));
    if (cfg.buf_size < 2048 || cfg.buf_size > page || (cfg.buf_size & (cfg.buf_size - 1)))
        return bad("buf_size " + std::to_string(cfg.buf_size) +
                   ": AF_XDP frames must be a power of two from 2048 to " + std::to_string(page));
    auto facts = linux_if::lookup(spec.name, who);
    if (!facts) return fail(facts.error());
    if (cfg.num_queues > facts->rx_queues)
        return bad(std::to_string(cfg.num_queues) + " queues requested but " + spec.name + " has " +
                   std::to_string(facts->rx_queues) + " (ethtool -L, or numrxqueues on veth)");
    if (cfg.mtu && cfg.mtu != facts->mtu)
        return bad("configured MTU " + std::to_string(cfg.mtu) + " differs from the device's " +
                   std::to_string(facts->mtu));
    uint32_t room = cfg.buf_size - XDP_PACKET_HEADROOM;  // what RX leaves for the frame
    if (facts->mtu + eth_hdr_len > room)
        return bad("MTU " + std::to_string(facts->mtu) + " does not fit a " +
                   std::to_string(cfg.buf_size) + "-byte frame (" + std::to_string(room) +
                   " bytes after XDP headroom); lower the MTU or use buf_size 4096");

    auto p = std::make_unique<afxdp_port>();
    if (auto r = p->_prog.claim(facts->ifindex, spec.name, who); !r) return fail(r.error());
    if (auto r = p->_prog.load(facts->rx_queues, who); !r) return fail(r.error());
    bool zc = true;
    int zc_err = 0;  // the first queue's refusal says why for all
    for (uint32_t i = 0; i < cfg.num_queues; ++i) {
        auto q = std::make_unique<afxdp_queue>(who, cfg.buf_size, cfg.ring_size,
                                               facts->mtu + eth_hdr_len);
        if (auto r = q->open(spec.name, i, cfg.force_copy); !r) return fail(r.error());
        if (int r = xsk_socket__update_xskmap(q->socket(), p->_prog.map_fd()); r != 0)
            return fail(linux_if::from_errno(-r, who, "XSKMAP insert", needs_caps));
        zc = zc && q->zero_copy();
        if (!zc_err) zc_err = q->zero_copy_error();
        p->_queues.push_back(std::move(q));
    }
    // Sockets are in the map before the program goes live, so the first
    // redirected frame already has a socket to land in.
    if (auto r = p->_prog.attach(facts->ifindex, who); !r) return fail(r.error());
    // virtio_net, on attaching XDP, sets the device's queue-pair count again
    // (adding a transmit queue per CPU for XDP when it has them); QEMU's
    // virtio-net answers that command by turning RSS off, so the symmetric
    // key deploy/setup-nic.sh programmed stops steering: the host's tap
    // then spreads new flows over every queue pair, XDP's included, and
    // frames on queues without a socket of ours go to the kernel and are
    // lost (tests/vm: half the connections to a 2-queue server). Writing
    // the driver's own table and key back turns RSS on again as configured.
    std::string note;
    if (cfg.num_queues > 1 && linux_if::driver_name(spec.name) == "virtio_net") {
        int e = linux_if::reapply_rss(spec.name);
        note = e == 0 ? "virtio_net: RSS table and key re-sent after the XDP attach"
                      : "virtio_net: cannot re-send RSS after the XDP attach (" +
                            std::string(std::strerror(e)) +
                            "): flows may land on queues without a socket";
    }
    p->_info = port_info{who,        "afxdp",        spec.name,    facts->mac,
                         facts->mtu, cfg.num_queues, cfg.buf_size, zc};
    p->_info.xdp_mode = p->_prog.native() ? "native" : "generic";
    p->_info.note = std::move(note);
    // The zero-copy refusal was only a reason to try copy mode, which
    // worked: kept so the user learns why (a driver without AF_XDP
    // zero-copy, e.g. veth or virtio_net on Linux 6.1, says EOPNOTSUPP).
    if (!zc)
        p->_info.copy_reason = cfg.force_copy ? "force_copy"
                               : zc_err ? "zero-copy bind: " + std::string(std::strerror(zc_err))
                                        : "zero-copy not offered";
    return std::unique_ptr<port>(std::move(p));
}

}  // namespace mvnf::netio
