// The netmap backend: ports on the real netmap kernel module through
// /dev/netmap (NIC rings, host rings, pipes, VALE ports). open_port() calls
// open_netmap(); see docs/netio/netmap.md for the grammar and what is verified.
//
// Queue mapping: one registered fd per queue. With one queue the fd binds the
// rings the name selects (all hardware rings by default) and the queue reads
// every bound rx ring and sends on the first bound tx ring. With N > 1 queues
// (all-NIC names only) fd q binds hardware ring pair q (NR_REG_ONE_NIC), so N
// must equal the port's ring count; VALE ports are created with N rings.
// Syscalls: one RXSYNC per rx_burst that finds less than a burst ready, one
// TXSYNC per flush() after frames were placed, none per packet.
#include "netio/netmap/netmap_port.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "netio/backends.hpp"
#include "netio/netmap/netmap_name.hpp"

namespace mvnf::netio::netmap {

// ---------------------------------------------------------------- queue

bound_rings find_bound_rings(netmap_if* nifp) {
    bound_rings b;
    const unsigned ntx = nifp->ni_tx_rings + nifp->ni_host_tx_rings;
    const unsigned nrx = nifp->ni_rx_rings + nifp->ni_host_rx_rings;
    for (unsigned i = 0; i < ntx; ++i)
        if (nm_ring_ofs(nifp, i) != 0) b.tx.push_back(i);
    for (unsigned i = 0; i < nrx; ++i)
        if (nm_ring_ofs(nifp, ntx + i) != 0) b.rx.push_back(i);
    return b;
}

netmap_queue::netmap_queue(int fd, netmap_if* nifp, wake_fd wake)
    : _fd(fd), _wake(std::move(wake)) {
    bound_rings b = find_bound_rings(nifp);
    _rx.reserve(b.rx.size());
    for (unsigned i = 0; i < b.rx.size(); ++i) _rx.emplace_back(nm_rxring(nifp, b.rx[i]), i);
    if (!b.tx.empty()) _tx = std::make_unique<tx_ring>(nm_txring(nifp, b.tx[0]));
}

uint32_t netmap_queue::buf_size() const {
    if (!_rx.empty()) return _rx[0].ring()->nr_buf_size;
    return _tx ? _tx->ring()->nr_buf_size : 0;
}

void netmap_queue::sync(unsigned long req) {
    // A failing sync (fd -1 in tests, a port that went down) leaves the rings
    // as they were; the next call simply finds nothing new.
    (void)::ioctl(_fd, req, nullptr);
    ++_syncs;
}

unsigned netmap_queue::take(std::span<packet> out) {
    const unsigned nr = unsigned(_rx.size());
    unsigned n = 0;
    uint64_t bytes = 0;
    for (unsigned k = 0; k < nr && n < out.size(); ++k) {
        unsigned i = _rr + k;
        if (i >= nr) i -= nr;
        n += _rx[i].take(out.subspan(n), bytes, _stats.rx_dropped);
    }
    if (nr) _rr = _rr + 1 == nr ? 0 : _rr + 1;
    _stats.rx_packets += n;
    _stats.rx_bytes += bytes;
    return n;
}

unsigned netmap_queue::rx_burst(std::span<packet> out) {
    if (out.empty() || _rx.empty()) return 0;
    uint32_t ready = 0;
    for (const rx_ring& r : _rx) ready += r.ready();
    // Ask the kernel for more (and hand back released slots) only when the
    // rings cannot fill this burst: at most one syscall per burst.
    if (ready < out.size()) sync(nioc_rxsync);
    return take(out);
}

void netmap_queue::release(std::span<const packet> pkts) {
    for (const packet& p : pkts) {
        unsigned r = rx_handle_ring(p.handle);
        if (r < _rx.size()) (void)_rx[r].release(rx_handle_slot(p.handle));
    }
    for (rx_ring& r : _rx) r.advance_head();
}

unsigned netmap_queue::alloc_tx(std::span<packet> out) {
    if (!_tx || out.empty()) return 0;
    unsigned n = _tx->alloc(out);
    if (n < out.size()) {
        // Ring short of free slots: one TXSYNC reclaims what was sent.
        sync(nioc_txsync);
        _tx->mark_synced();
        n += _tx->alloc(out.subspan(n));
    }
    return n;
}

unsigned netmap_queue::tx_burst(std::span<packet> pkts) {
    if (!_tx) return 0;
    uint64_t bytes = 0;
    unsigned n = _tx->send(pkts, bytes);
    _stats.tx_packets += n;
    _stats.tx_bytes += bytes;
    return n;
}

void netmap_queue::free_tx(std::span<const packet> pkts) {
    if (_tx) _tx->free(pkts);
}

void netmap_queue::flush() {
    if (!_tx || !_tx->pending()) return;
    sync(nioc_txsync);
    _tx->mark_synced();
}

bool netmap_queue::wait(int64_t timeout_ns) {
    for (const rx_ring& r : _rx)
        if (r.ready()) return true;
    if (_fd < 0 && !_wake.valid()) return false;
    // poll() on a netmap fd runs rxsync itself (and txsync: NR_NO_TX_POLL
    // unset); netmap fds are ordinary pollable fds, so the set may hold the
    // wake fd beside it. Tests without the module drive this with fd -1,
    // which ppoll ignores.
    if (timeout_ns != 0) ++_stats.sleeps;
    const short rev = _wake.poll(_fd, POLLIN, timeout_ns);
    if (rev & (POLLERR | POLLNVAL)) return false;
    return (rev & POLLIN) != 0;
}

// ---------------------------------------------------------------- port

namespace {

class fd_owner {
public:
    explicit fd_owner(int fd = -1) : _fd(fd) {}
    ~fd_owner() { if (_fd >= 0) ::close(_fd); }
    fd_owner(fd_owner&& o) noexcept : _fd(o._fd) { o._fd = -1; }
    fd_owner& operator=(fd_owner&&) = delete;
    int get() const { return _fd; }

private:
    int _fd;
};

struct mapping {
    void* base = nullptr;
    size_t size = 0;
    uint16_t mem_id = 0;
};

class netmap_port final : public port {
public:
    ~netmap_port() override {
        _queues.clear();  // before the memory they point into
        for (mapping& m : _maps) ::munmap(m.base, m.size);
    }
    const port_info& info() const override { return _info; }
    queue& q(unsigned idx) override { return *_queues[idx]; }

    port_info _info;
    std::vector<fd_owner> _fds;
    std::vector<mapping> _maps;
    std::vector<std::unique_ptr<netmap_queue>> _queues;
};

error os_error(const std::string& who, const std::string& what, int err) {
    errc c = errc::system;
    std::string hint;
    switch (err) {
        case ENOENT: case ENXIO: case ENODEV:
            c = errc::no_such_device;
            hint = " (no such interface, or it cannot be put in netmap mode)";
            break;
        case EPERM: case EACCES:
            c = errc::permission;
            hint = " (needs root)";
            break;
        case EBUSY:
            c = errc::busy;
            hint = " (rings already bound exclusively)";
            break;
        case EINVAL:
            c = errc::bad_config;
            hint = " (bad ring/mode, or a netmap module that does not speak NETMAP_API 14)";
            break;
        case ENOMEM: c = errc::bad_config; break;
        default: break;
    }
    return error{c, who + ": " + what + ": " + std::strerror(err) + hint};
}

// NETMAP_REQ_REGISTER on a fresh /dev/netmap fd.
result<nmreq_register> register_fd(int fd, const std::string& who, const nm_request& req,
                                   uint32_t mode, uint16_t ringid, const port_config& cfg,
                                   uint16_t mem_id) {
    nmreq_header hdr{};
    nmreq_register reg{};
    hdr.nr_version = netmap_api;
    hdr.nr_reqtype = netmap_req_register;
    std::memcpy(hdr.nr_name, req.kernel_name.data(), req.kernel_name.size());
    hdr.nr_body = reinterpret_cast<uintptr_t>(&reg);
    reg.nr_mode = mode;
    reg.nr_ringid = ringid;
    reg.nr_flags = req.flags;
    reg.nr_mem_id = mem_id;
    // Geometry hints only where netmap creates the port (VALE ports, pipes);
    // a NIC keeps its own (0 = no request), we never reconfigure hardware.
    if (req.vale || req.pipe) {
        reg.nr_tx_slots = reg.nr_rx_slots = cfg.ring_size;
        reg.nr_tx_rings = reg.nr_rx_rings = uint16_t(cfg.num_queues);
    }
    if (::ioctl(fd, nioc_ctrl, &hdr) < 0)
        return fail(os_error(who, "NIOCCTRL(NETMAP_REQ_REGISTER)", errno));
    return reg;
}

result<int> open_dev(const std::string& who) {
    int fd = ::open("/dev/netmap", O_RDWR | O_CLOEXEC);
    if (fd >= 0) return fd;
    int err = errno;
    if (err == ENOENT || err == ENODEV || err == ENXIO)
        return fail(error{errc::no_such_device,
                          who + ": /dev/netmap not found (netmap kernel module not loaded); "
                                "use afxdp: or afpacket: instead"});
    return fail(os_error(who, "open /dev/netmap", err));
}

// A locally administered unicast MAC derived from the port name (stable
// across runs, distinct per VALE port).
mac_addr generated_mac(const std::string& name) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (char c : name) {
        h ^= uint8_t(c);
        h *= 1099511628211ull;
    }
    mac_addr m;
    m.b[0] = 0x02;
    for (int i = 1; i < 6; ++i) m.b[i] = uint8_t(h >> (8 * (i - 1)));
    return m;
}

bool if_query(const std::string& ifname, mac_addr* mac, uint32_t* mtu) {
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return false;
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, ifname.data(), std::min(ifname.size(), size_t(IFNAMSIZ - 1)));
    bool ok = ::ioctl(s, SIOCGIFHWADDR, &ifr) == 0;
    if (ok)
        for (int i = 0; i < 6; ++i) mac->b[i] = uint8_t(ifr.ifr_hwaddr.sa_data[i]);
    if (ok && ::ioctl(s, SIOCGIFMTU, &ifr) == 0) *mtu = uint32_t(ifr.ifr_mtu);
    ::close(s);
    return ok;
}

}  // namespace

}  // namespace mvnf::netio::netmap

namespace mvnf::netio {

result<std::unique_ptr<port>> open_netmap(const port_spec& spec, const port_config& cfg) {
    using namespace netmap;
    const bool vale_name = spec.name.starts_with("vale");
    const std::string who = vale_name ? spec.name : "netmap:" + spec.name;
    auto req = parse_netmap_name(spec.name);
    if (!req) return fail(req.error());
    auto bad = [&](const std::string& why) { return fail(error{errc::bad_config, who + ": " + why}); };
    const unsigned nq = cfg.num_queues;
    if (nq > 1 && req->mode != nr_reg_all_nic)
        return bad("the name selects a single ring set; use num_queues 1, or name all "
                   "hardware rings (no -N/^/* suffix) for one queue per ring");

    auto p = std::make_unique<netmap_port>();
    // Stage 1: the first fd decides the ring count and memory region.
    auto fd0 = open_dev(who);
    if (!fd0) return fail(fd0.error());
    p->_fds.emplace_back(*fd0);
    const uint32_t mode0 = nq > 1 ? nr_reg_one_nic : req->mode;
    auto reg0 = register_fd(*fd0, who, *req, mode0, nq > 1 ? 0 : req->ringid, cfg, 0);
    if (!reg0) return fail(reg0.error());
    if (nq > 1 && (reg0->nr_rx_rings != nq || reg0->nr_tx_rings < nq))
        return bad("has " + std::to_string(reg0->nr_rx_rings) + " rx / " +
                   std::to_string(reg0->nr_tx_rings) + " tx hardware rings; num_queues must be 1 "
                   "(all rings in one queue) or the rx ring count (one queue per ring)");

    // Stage 2: one fd per further queue, each bound to its own ring pair.
    std::vector<nmreq_register> regs{*reg0};
    for (unsigned q = 1; q < nq; ++q) {
        auto fd = open_dev(who);
        if (!fd) return fail(fd.error());
        p->_fds.emplace_back(*fd);
        auto reg = register_fd(*fd, who, *req, nr_reg_one_nic, uint16_t(q), cfg, reg0->nr_mem_id);
        if (!reg) return fail(reg.error());
        regs.push_back(*reg);
    }

    // Stage 3: map each memory region once, then build the queues.
    for (unsigned q = 0; q < nq; ++q) {
        const nmreq_register& r = regs[q];
        mapping* m = nullptr;
        for (mapping& e : p->_maps)
            if (e.mem_id == r.nr_mem_id && e.size == r.nr_memsize) m = &e;
        if (!m) {
            void* base = ::mmap(nullptr, r.nr_memsize, PROT_READ | PROT_WRITE, MAP_SHARED,
                                p->_fds[q].get(), 0);
            if (base == MAP_FAILED) return fail(os_error(who, "mmap of the netmap region", errno));
            p->_maps.push_back(mapping{base, size_t(r.nr_memsize), r.nr_mem_id});
            m = &p->_maps.back();
        }
        if (r.nr_offset >= m->size) return bad("kernel returned a netmap_if outside the region");
        netmap_if* nifp = nm_if(m->base, r.nr_offset);
        auto wake = wake_fd::open(who);
        if (!wake) return fail(wake.error());
        auto qu = std::make_unique<netmap_queue>(p->_fds[q].get(), nifp, std::move(*wake));
        if (qu->num_rx_rings() == 0 || !qu->has_tx())
            return bad("registration bound no rx or no tx ring");
        p->_queues.push_back(std::move(qu));
    }

    const uint32_t nm_buf = p->_queues[0]->buf_size();
    if (cfg.buf_size > nm_buf)
        return bad("buffer size " + std::to_string(cfg.buf_size) + " exceeds netmap's " +
                   std::to_string(nm_buf) + " (raise the netmap module's buf_size parameter)");

    port_info& info = p->_info;
    info.spec = who;
    info.backend = "netmap";
    info.name = spec.name;
    info.num_queues = nq;
    info.buf_size = nm_buf;
    info.zero_copy = true;
    info.mtu = 1500;
    bool have_if = !req->vale && if_query(req->ifname, &info.mac, &info.mtu);
    if (!have_if) {
        // VALE ports (and pipes of no real interface) have no MAC of their own.
        info.mac = generated_mac(req->kernel_name);
        if (cfg.mtu) info.mtu = cfg.mtu;
    } else if (cfg.mtu && cfg.mtu != info.mtu) {
        return bad("MTU " + std::to_string(cfg.mtu) + " requested but the interface has " +
                   std::to_string(info.mtu) + " (set it with `ip link set dev " + req->ifname +
                   " mtu N`)");
    }
    if (info.mtu + 14 > nm_buf)
        return bad("MTU " + std::to_string(info.mtu) + " does not fit netmap buffers of " +
                   std::to_string(nm_buf) + " bytes");
    return std::unique_ptr<port>(std::move(p));
}

}  // namespace mvnf::netio
