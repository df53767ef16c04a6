// The tap backend: a /dev/net/tun IFF_TAP interface, one non-blocking fd per
// queue (IFF_MULTI_QUEUE when more than one). open_port() calls open_tap();
// see docs/netio/tap.md.
//
// tap hands over exactly one frame per read()/write(), so the data path costs
// one syscall per frame: inherent to the device (no ring to share). What is
// batched: rx_burst reads until the burst is full or the fd runs dry, tx_burst
// writes its whole burst in one loop, and nothing is allocated per packet:
// each queue owns a fixed arena of ring_size rx and ring_size tx buffers.
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "netio/backends.hpp"
#include "netio/wake_fd.hpp"

namespace mvnf::netio {

namespace {

// Buffer states in a queue's arena (catches double release / foreign handles).
enum : uint8_t { buf_free = 0, buf_lent = 1 };

class tap_queue final : public queue {
public:
    tap_queue(int fd, wake_fd wake, uint32_t nbufs, uint32_t buf_size)
        : _fd(fd), _wake(std::move(wake)), _nrx(nbufs), _buf_size(buf_size),
          _arena(size_t(2) * nbufs * buf_size), _state(size_t(2) * nbufs, buf_free) {
        _rx_free.reserve(nbufs);
        _tx_free.reserve(nbufs);
        for (uint32_t i = nbufs; i-- > 0;) {
            _rx_free.push_back(i);
            _tx_free.push_back(nbufs + i);
        }
    }
    ~tap_queue() override { ::close(_fd); }

    unsigned rx_burst(std::span<packet> out) override {
        unsigned n = 0;
        uint64_t bytes = 0;
        while (n < out.size() && !_rx_free.empty()) {
            uint32_t b = _rx_free.back();
            // A one-byte overflow iovec tells a frame longer than our buffer
            // (tap truncates silently) from one that fits exactly.
            iovec iov[2] = {{buf(b), _buf_size}, {&_overflow, 1}};
            ssize_t r = ::readv(_fd, iov, 2);
            if (r < 0) {
                if (errno == EINTR) continue;
                break;  // EAGAIN: drained; EIO: link down; either way nothing more now
            }
            if (r == 0) break;
            if (size_t(r) > _buf_size || r < 14) {
                ++_stats.rx_dropped;
                continue;
            }
            _rx_free.pop_back();
            _state[b] = buf_lent;
            out[n++] = packet{buf(b), uint32_t(r), b};
            bytes += uint64_t(r);
        }
        _stats.rx_packets += n;
        _stats.rx_bytes += bytes;
        return n;
    }

    void release(std::span<const packet> pkts) override {
        for (const packet& p : pkts)
            if (p.handle < _nrx && _state[p.handle] == buf_lent) {
                _state[p.handle] = buf_free;
                _rx_free.push_back(p.handle);
            }
    }

    unsigned alloc_tx(std::span<packet> out) override {
        unsigned n = 0;
        while (n < out.size() && !_tx_free.empty()) {
            uint32_t b = _tx_free.back();
            _tx_free.pop_back();
            _state[b] = buf_lent;
            out[n++] = packet{buf(b), _buf_size, b};
        }
        return n;
    }

    unsigned tx_burst(std::span<packet> pkts) override {
        unsigned i = 0;
        for (; i < pkts.size(); ++i) {
            const packet& p = pkts[i];
            if (!is_tx(p.handle)) break;  // not ours: the caller keeps it and the rest
            if (p.len < 14 || p.len > _buf_size) {
                ++_stats.tx_dropped;  // accepted and dropped: a malformed frame
                put_tx(p.handle);
                continue;
            }
            ssize_t w = ::write(_fd, p.data, p.len);
            if (w < 0 && errno == EINTR) w = ::write(_fd, p.data, p.len);
            if (w < 0 && (errno == EAGAIN || errno == ENOBUFS)) break;  // full: retry later
            if (w < 0) {
                ++_stats.tx_dropped;  // EIO (link down) and the like: the frame is lost
            } else {
                ++_stats.tx_packets;
                _stats.tx_bytes += p.len;
            }
            put_tx(p.handle);
        }
        return i;
    }

    void free_tx(std::span<const packet> pkts) override {
        for (const packet& p : pkts)
            if (is_tx(p.handle)) put_tx(p.handle);
    }

    bool wait(int64_t timeout_ns) override {
        if (timeout_ns != 0) ++_stats.sleeps;
        return (_wake.poll(_fd, POLLIN, timeout_ns) & POLLIN) != 0;
    }

    // Another thread (wake_fd.hpp): ends the wait in progress or the next one.
    bool interruptible() const override { return true; }
    void interrupt() override { _wake.signal(); }

    int poll_fd() const override { return _fd; }
    queue_stats stats() const override { return _stats; }
    uint64_t rx_drops() const override { return _stats.rx_dropped; }
    uint64_t tx_drops() const override { return _stats.tx_dropped; }

private:
    std::byte* buf(uint32_t b) { return _arena.data() + size_t(b) * _buf_size; }
    bool is_tx(uint32_t h) const { return h >= _nrx && h < 2 * _nrx && _state[h] == buf_lent; }
    void put_tx(uint32_t h) {
        _state[h] = buf_free;
        _tx_free.push_back(h);
    }

    int _fd;
    wake_fd _wake;       // interrupt(): polled next to _fd in wait()
    uint32_t _nrx;       // rx buffers are [0, nrx), tx buffers [nrx, 2 nrx)
    uint32_t _buf_size;
    std::vector<std::byte> _arena;
    std::vector<uint8_t> _state;
    std::vector<uint32_t> _rx_free, _tx_free;  // stacks, sized once
    std::byte _overflow{};
    queue_stats _stats;
};

class tap_port final : public port {
public:
    const port_info& info() const override { return _info; }
    queue& q(unsigned idx) override { return *_queues[idx]; }

    port_info _info;
    std::vector<std::unique_ptr<tap_queue>> _queues;
};

// Our own MAC: locally administered, derived from the interface name so a
// restarted process keeps it (static neighbour entries stay valid), and
// distinct from the kernel side's random MAC.
mac_addr our_mac(const std::string& name, const mac_addr& kernel_side) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (char c : name) {
        h ^= uint8_t(c);
        h *= 1099511628211ull;
    }
    mac_addr m{{0x02, 0x6d, uint8_t(h), uint8_t(h >> 8), uint8_t(h >> 16), uint8_t(h >> 24)}};
    if (m == kernel_side) m.b[5] ^= 1;
    return m;
}

}  // namespace

result<std::unique_ptr<port>> open_tap(const port_spec& spec, const port_config& cfg) {
    const std::string who = "tap:" + spec.name;
    auto err = [&](errc c, const std::string& why) { return fail(error{c, who + ": " + why}); };
    for (char c : spec.name)
        if (c == '/' || c == ':' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
            return err(errc::bad_spec, "interface name may not contain '/', ':' or spaces");
    if (spec.name == "." || spec.name == "..")
        return err(errc::bad_spec, "'.' and '..' are not interface names");
    if (spec.name.size() >= IFNAMSIZ) return err(errc::bad_spec, "interface name too long");
    const unsigned nq = cfg.num_queues;

    auto p = std::make_unique<tap_port>();
    std::string ifname = spec.name;
    for (unsigned q = 0; q < nq; ++q) {
        int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            if (e == ENOENT || e == ENODEV)
                return err(errc::unsupported, "/dev/net/tun missing (tun module not loaded)");
            if (e == EACCES || e == EPERM)
                return err(errc::permission, "cannot open /dev/net/tun (needs root)");
            return err(errc::system, std::string("open /dev/net/tun: ") + std::strerror(e));
        }
        ifreq ifr{};
        std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
        ifr.ifr_flags = short(IFF_TAP | IFF_NO_PI | (nq > 1 ? IFF_MULTI_QUEUE : 0));
        if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
            int e = errno;
            ::close(fd);
            std::string at = nq > 1 ? " (queue " + std::to_string(q) + " of " +
                                          std::to_string(nq) + ")" : "";
            if (e == EPERM || e == EACCES)
                return err(errc::permission, "TUNSETIFF refused: needs root (CAP_NET_ADMIN)");
            if (e == EBUSY)
                return err(errc::busy, "the tap is already attached" + at);
            if (e == EINVAL && q == 0)
                return err(errc::bad_config,
                           "the kernel refused IFF_TAP" + std::string(nq > 1 ? "|IFF_MULTI_QUEUE" : "") +
                           ": an interface of that name exists and is not a tap" +
                           std::string(nq > 1 ? ", or is a tap without multi-queue" : ", or is a "
                                                "multi-queue tap"));
            if (e == EINVAL || e == E2BIG || e == ENOMEM)
                return err(errc::bad_config, "the kernel refused " + std::to_string(nq) +
                                                 " queues" + at + ": " + std::strerror(e));
            return err(errc::system, std::string("TUNSETIFF: ") + std::strerror(e) + at);
        }
        ifname = ifr.ifr_name;  // the kernel may have expanded a "%d"
        auto wake = wake_fd::open(who);
        if (!wake) {
            ::close(fd);
            return fail(wake.error());
        }
        p->_queues.push_back(
            std::make_unique<tap_queue>(fd, std::move(*wake), cfg.ring_size, cfg.buf_size));
    }

    // Link up and MTU through an ordinary socket (the tap lives in our netns).
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return err(errc::system, std::string("socket: ") + std::strerror(errno));
    struct sock_closer {
        int fd;
        ~sock_closer() { ::close(fd); }
    } closer{s};
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
    port_info& info = p->_info;
    mac_addr kernel_mac;
    if (::ioctl(s, SIOCGIFHWADDR, &ifr) == 0)
        for (int i = 0; i < 6; ++i) kernel_mac.b[i] = uint8_t(ifr.ifr_hwaddr.sa_data[i]);
    if (::ioctl(s, SIOCGIFMTU, &ifr) < 0)
        return err(errc::system, std::string("SIOCGIFMTU: ") + std::strerror(errno));
    info.mtu = uint32_t(ifr.ifr_mtu);
    if (cfg.mtu && cfg.mtu != info.mtu) {
        ifr.ifr_mtu = int(cfg.mtu);
        if (::ioctl(s, SIOCSIFMTU, &ifr) < 0)
            return err(errc::bad_config, "cannot set MTU " + std::to_string(cfg.mtu) + ": " +
                                             std::strerror(errno));
        info.mtu = cfg.mtu;
    }
    if (info.mtu + 14 > cfg.buf_size)
        return err(errc::bad_config, "MTU " + std::to_string(info.mtu) + " does not fit " +
                                         std::to_string(cfg.buf_size) + "-byte buffers");
    if (::ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        return err(errc::system, std::string("SIOCGIFFLAGS: ") + std::strerror(errno));
    if (!(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags = short(ifr.ifr_flags | IFF_UP);
        if (::ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
            return err(errc::permission, std::string("cannot set the link up: ") +
                                             std::strerror(errno));
    }

    info.spec = who;
    info.backend = "tap";
    info.name = ifname;
    info.mac = our_mac(ifname, kernel_mac);
    info.num_queues = nq;
    info.buf_size = cfg.buf_size;
    info.zero_copy = false;
    info.copy_reason = "a tap device copies every frame";
    return std::unique_ptr<port>(std::move(p));
}

}  // namespace mvnf::netio
