// The pcap capture decorator (see pcap_port.hpp). Each queue records into its
// own buffer and appends whole chunks of complete records to one O_APPEND
// file, so queues driven by different threads need no lock: the kernel keeps
// each append contiguous. Records of different queues interleave by chunk,
// so timestamps in the file are ordered per queue, not globally.
//
// File layout (classic libpcap, little-endian as written here):
//   global header 24 bytes: magic, 2, 4, thiszone 0, sigfigs 0, snaplen, linktype 1
//   per frame 16 bytes: ts_sec, ts_usec|ts_nsec, incl_len, orig_len; then the bytes
#include "netio/pcap/pcap_port.hpp"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace mvnf::netio {

namespace {

constexpr uint32_t magic_us = 0xa1b2c3d4, magic_ns = 0xa1b23c4d;
constexpr uint32_t linktype_ethernet = 1;
constexpr size_t file_header_len = 24, record_header_len = 16;

void store_le16(std::byte* p, uint16_t v) {
    p[0] = std::byte(v & 0xff);
    p[1] = std::byte(v >> 8);
}
void store_le32(std::byte* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = std::byte((v >> (8 * i)) & 0xff);
}

bool write_all(int fd, const std::byte* p, size_t n) {
    while (n) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= size_t(w);
    }
    return true;
}

struct capture_file {
    int fd = -1;
    ~capture_file() {
        if (fd >= 0) ::close(fd);
    }
};

// One direction's capture state. RX and TX of a queue may be driven by two
// threads (the split dispatcher layout, or a core's TX hand-off), so each
// direction owns its buffer, counters and failure flag; only the file
// descriptor is shared, and O_APPEND makes each chunk write atomic.
class capture_side {
public:
    capture_side(std::shared_ptr<capture_file> f, const pcap_options& o)
        : _f(std::move(f)), _ns(o.nanosecond), _snap(o.snaplen), _buf(o.buffer_bytes) {}

    bool dead() const { return _dead; }
    uint32_t snaplen() const { return _snap; }
    size_t capacity() const { return _buf.size(); }
    size_t used() const { return _used; }
    void cut_to(size_t used) { _used = used; }
    void count(uint64_t n) { _c.records += n; }
    const pcap_counters& counters() const { return _c; }

    void stamp() {
        timespec ts{};
        clock_gettime(CLOCK_REALTIME, &ts);
        _sec = uint32_t(ts.tv_sec);
        _frac = _ns ? uint32_t(ts.tv_nsec) : uint32_t(ts.tv_nsec / 1000);
    }
    void record(const packet& p) {
        const uint32_t incl = std::min(p.len, _snap);
        if (_used + record_header_len + incl > _buf.size()) flush_file();
        if (_dead) return;
        std::byte* h = _buf.data() + _used;
        store_le32(h, _sec);
        store_le32(h + 4, _frac);
        store_le32(h + 8, incl);
        store_le32(h + 12, p.len);
        std::memcpy(h + record_header_len, p.data, incl);
        _used += record_header_len + incl;
    }
    void flush_file() {
        if (_used == 0 || _dead) return;
        if (!write_all(_f->fd, _buf.data(), _used)) {
            ++_c.write_errors;
            _dead = true;  // a full disk must not take the data path down
        }
        _used = 0;
    }

private:
    std::shared_ptr<capture_file> _f;
    bool _ns;
    uint32_t _snap;
    std::vector<std::byte> _buf;  // sized once
    size_t _used = 0;
    bool _dead = false;
    uint32_t _sec = 0, _frac = 0;
    pcap_counters _c;
};

class pcap_queue final : public queue {
public:
    pcap_queue(queue& inner, std::shared_ptr<capture_file> f, const pcap_options& o)
        : _in(inner), _rx(f, o), _tx(std::move(f), o) {}
    ~pcap_queue() override {
        _rx.flush_file();
        _tx.flush_file();
    }

    unsigned rx_burst(std::span<packet> out) override {
        unsigned n = _in.rx_burst(out);
        if (n && !_rx.dead()) {
            _rx.stamp();
            for (unsigned i = 0; i < n; ++i) _rx.record(out[i]);
            _rx.count(n);
        }
        return n;
    }
    void release(std::span<const packet> pkts) override { _in.release(pkts); }
    unsigned alloc_tx(std::span<packet> out) override { return _in.alloc_tx(out); }

    unsigned tx_burst(std::span<packet> pkts) override {
        if (_tx.dead() || pkts.empty()) return _in.tx_burst(pkts);
        // Frames are copied before the port owns them (it may reuse the
        // buffers at once); refused ones are cut off again afterwards. That
        // needs the whole burst in the buffer; a burst larger than the buffer
        // is recorded after sending instead (best effort).
        const uint32_t snap = _tx.snaplen();
        size_t need = 0;
        for (const packet& p : pkts) need += record_header_len + std::min(p.len, snap);
        if (_tx.used() + need > _tx.capacity()) _tx.flush_file();
        _tx.stamp();
        if (need > _tx.capacity()) {
            unsigned n = _in.tx_burst(pkts);
            for (unsigned i = 0; i < n; ++i) _tx.record(pkts[i]);
            _tx.count(n);
            return n;
        }
        const size_t start = _tx.used();
        for (const packet& p : pkts) _tx.record(p);
        unsigned n = _in.tx_burst(pkts);
        if (n < pkts.size()) {
            size_t cut = start;
            for (unsigned i = 0; i < n; ++i) cut += record_header_len + std::min(pkts[i].len, snap);
            _tx.cut_to(cut);
        }
        _tx.count(n);
        return n;
    }

    void free_tx(std::span<const packet> pkts) override { _in.free_tx(pkts); }
    void flush() override { _in.flush(); }
    bool wait(int64_t timeout_ns) override {
        // About to idle: a good moment for the file write (RX side: wait()
        // is called by the thread that receives).
        if (timeout_ns != 0) _rx.flush_file();
        return _in.wait(timeout_ns);
    }
    // Thread mode's stack thread waits on this wrapper: its interrupt is the
    // wrapped queue's (touches no capture state, so any thread may call it).
    bool interruptible() const override { return _in.interruptible(); }
    void interrupt() override { _in.interrupt(); }
    int poll_fd() const override { return _in.poll_fd(); }
    queue_stats stats() const override { return _in.stats(); }

    pcap_counters counters() const {
        return {_rx.counters().records + _tx.counters().records,
                _rx.counters().write_errors + _tx.counters().write_errors};
    }

private:
    queue& _in;
    capture_side _rx, _tx;
};

class pcap_port final : public port {
public:
    pcap_port(std::unique_ptr<port> inner, std::shared_ptr<capture_file> f,
              const pcap_options& o)
        : _inner(std::move(inner)), _f(std::move(f)) {
        for (unsigned i = 0; i < _inner->num_queues(); ++i)
            _queues.push_back(std::make_unique<pcap_queue>(_inner->q(i), _f, o));
    }
    ~pcap_port() override { _queues.clear(); }  // flush before the inner port goes
    const port_info& info() const override { return _inner->info(); }
    queue& q(unsigned idx) override { return *_queues[idx]; }
    bool peer_alive() const override { return _inner->peer_alive(); }
    const pcap_queue& pq(unsigned idx) const { return *_queues[idx]; }

private:
    std::unique_ptr<port> _inner;
    std::shared_ptr<capture_file> _f;
    std::vector<std::unique_ptr<pcap_queue>> _queues;
};

}  // namespace

result<std::unique_ptr<port>> wrap_pcap(std::unique_ptr<port> inner, const std::string& path,
                                        const pcap_options& opt) {
    auto bad = [&](errc c, const std::string& why) {
        return fail(error{c, "pcap capture file '" + path + "': " + why});
    };
    if (!inner) return bad(errc::bad_config, "no port to wrap");
    if (path.empty()) return bad(errc::bad_config, "empty path");
    if (opt.snaplen == 0 || opt.snaplen > 262144) return bad(errc::bad_config, "snaplen must be 1..262144");
    if (opt.buffer_bytes < record_header_len + opt.snaplen)
        return bad(errc::bad_config, "buffer smaller than one record of snaplen bytes");
    auto f = std::make_shared<capture_file>();
    f->fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        int e = errno;
        return bad(e == EACCES || e == EPERM ? errc::permission : errc::system,
                   std::string("cannot create: ") + std::strerror(e));
    }
    std::byte h[file_header_len];
    store_le32(h, opt.nanosecond ? magic_ns : magic_us);
    store_le16(h + 4, 2);
    store_le16(h + 6, 4);
    store_le32(h + 8, 0);   // thiszone: timestamps are UTC
    store_le32(h + 12, 0);  // sigfigs
    store_le32(h + 16, opt.snaplen);
    store_le32(h + 20, linktype_ethernet);
    if (!write_all(f->fd, h, sizeof h))
        return bad(errc::system, std::string("cannot write the header: ") + std::strerror(errno));
    return std::unique_ptr<port>(std::make_unique<pcap_port>(std::move(inner), std::move(f), opt));
}

std::optional<pcap_counters> pcap_stats(const port& p, unsigned queue_idx) {
    auto* pp = dynamic_cast<const pcap_port*>(&p);
    if (!pp || queue_idx >= p.info().num_queues) return std::nullopt;
    return pp->pq(queue_idx).counters();
}

}  // namespace mvnf::netio
