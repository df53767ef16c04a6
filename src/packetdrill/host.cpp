// pd::host: the stack, its clock and the socket table behind the packetdrill
// interface. Sockets translate to tcp::layer calls; time moves only in
// advance_to() (usleep, spinning gettimeofday, blocking calls, netdev_receive).
#include "packetdrill/host.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>

#include "net/tcp/transport_adapter.hpp"
#include "wire/ipv4.hpp"

namespace mvnf::pd {

// ------------------------------------------------------------------ glue --
// Joins the layer to the stack (as tcp::transport_adapter does for the C API) and
// remembers the 4-tuple of every SYN / SYN-ACK sent, keyed by its ISS, since
// accept() must report the peer and the layer's conn_info has no tuple.
class host::glue final : public net::transport, public tcp::segment_sink {
public:
    explicit glue(host& h) : _h(h) {}

    void input(const wire::ipv4_repr& ip, bytes segment, nanos now) override {
        _h._tcp.input(ip.src, ip.dst, segment, now, uint8_t(ip.tos & 3));
    }
    void poll_timers(nanos now) override { _h._tcp.poll(now); }
    // ICMP errors reach the connection they quote, as in production.
    void icmp_error(uint8_t type, uint8_t code, uint32_t rest, const wire::ipv4_repr& quoted,
                    bytes quoted_l4, nanos now) override {
        tcp::forward_icmp_error(_h._tcp, type, code, rest, quoted, quoted_l4, now);
    }
    nanos next_deadline() const override { return _h._tcp.next_deadline(); }

    bool emit_segment(ipv4_addr src, ipv4_addr dst, const wire::tcp_repr& hdr, bytes p1,
                      bytes p2, uint8_t ip_ecn) override {
        if (hdr.has(wire::tcp_flag::syn)) remember(hdr.seq, {src, dst, hdr.src_port, hdr.dst_port});
        net::stack* st = _h._stack.get();
        if (!st) return true;  // no address yet: nothing can have been connected
        net::tx_buffer buf;
        if (!st->alloc_tx(buf)) return false;  // counted by the stack; output retried
        const size_t len = hdr.header_len() + p1.size() + p2.size();
        if (len > buf.l4_capacity()) {
            st->free_tx(buf);
            return true;
        }
        hdr.emit(mut_bytes(buf.l4(), len), st->local_ip(), dst, p1, p2);
        net::ipv4_send s;
        s.dst = dst;
        s.tos = ip_ecn & tcp::ip_ecn_mask;  // packetdrill scripts may check the ECN field ([ect0])
        s.dont_frag = !(ip_ecn & tcp::ip_may_fragment);
        (void)st->send_ipv4(buf, s, uint32_t(len), _h._now);
        return true;
    }

    std::optional<tcp::four_tuple> find(wire::seq32 iss) const {
        for (size_t i = _syns.size(); i-- > 0;)
            if (_syns[i].iss == iss) return _syns[i].t;
        return std::nullopt;
    }

private:
    struct syn_rec {
        wire::seq32 iss;
        tcp::four_tuple t;
    };
    void remember(wire::seq32 iss, const tcp::four_tuple& t) {
        for (auto& r : _syns)
            if (r.iss == iss && r.t == t) return;  // a retransmission
        if (_syns.size() >= 4096) _syns.erase(_syns.begin(), _syns.begin() + 2048);
        _syns.push_back({iss, t});
    }

    host& _h;
    std::vector<syn_rec> _syns;
};

// ----------------------------------------------------------------- flags --
namespace {

bool parse_u64(std::string_view v, uint64_t& out) {
    if (v.empty()) return false;
    uint64_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + uint64_t(c - '0');
    }
    out = n;
    return true;
}

}  // namespace

options parse_flags(const char* flags) {
    options o;
    std::string_view s = flags ? flags : "";
    while (!s.empty()) {
        const size_t b = s.find_first_not_of(" \t,");
        if (b == std::string_view::npos) break;
        s.remove_prefix(b);
        const size_t e = std::min(s.find_first_of(" \t,"), s.size());
        std::string_view f = s.substr(0, e);
        s.remove_prefix(e);
        const std::string_view word = f;
        while (f.starts_with('-')) f.remove_prefix(1);
        const size_t eq = f.find('=');
        const std::string_view key = f.substr(0, eq);
        const std::string_view val = eq == std::string_view::npos ? "" : f.substr(eq + 1);
        uint64_t n = 0;
        bool ok = true;
        if (key == "local_ip") {
            auto a = ipv4_addr::parse(val);
            ok = a.has_value();
            if (ok) o.local_ip = *a;
        } else if (key == "fd_base") {
            ok = parse_u64(val, n) && n >= 3 && n < (1u << 30);
            if (ok) o.fd_base = int(n);
        } else if (key == "max_sockets") {
            ok = parse_u64(val, n) && n >= 1 && n <= 65536;
            if (ok) o.max_sockets = uint32_t(n);
        } else if (key == "mtu") {
            ok = parse_u64(val, n) && n >= 576 && n <= 2000;
            if (ok) o.mtu = uint32_t(n);
        } else if (key == "max_wait_us") {
            ok = parse_u64(val, n);
            if (ok) o.max_wait = net::usec(n);
        } else if (key == "block_wait_ms") {
            ok = parse_u64(val, n) && n <= 60000;
            if (ok) o.block_wait_ms = uint32_t(n);
        } else if (key == "epoch_us") {
            ok = parse_u64(val, n);
            if (ok) o.epoch_us = n;
        } else if (key == "rcvbuf" || key == "sndbuf") {
            ok = parse_u64(val, n) && n >= 1024 && n <= (1u << 30);
            if (ok) (key == "rcvbuf" ? o.tcp.rcvbuf : o.tcp.sndbuf) = uint32_t(n);
        } else if (key == "iw") {
            ok = parse_u64(val, n) && n >= 1 && n <= 1000;
            if (ok) o.tcp.initial_window_segments = uint16_t(n);
        } else if (key == "cc") {
            ok = val == "reno" || val == "cubic";
            if (ok) o.tcp.cc = val == "reno" ? tcp::congestion_algo::reno : tcp::congestion_algo::cubic;
        } else if (key == "no_ts") {
            o.tcp.timestamps = false;
        } else if (key == "no_sack") {
            o.tcp.sack = false;
        } else if (key == "no_ws") {
            o.tcp.window_scaling = false;
        } else if (key == "no_syn_cookies") {
            o.tcp.syn_cookies = false;
        } else {
            ok = false;
        }
        if (!ok) o.unknown.emplace_back(word);
    }
    o.tcp.mss = uint16_t(o.mtu - 40);  // RFC 9293 3.7.1: IP MTU - 40
    // The scripts are written against Linux: its quick-ACK mode (the C API
    // keeps it off unless tcp_quickack is set; docs/tcp.md).
    o.tcp.quickacks = 16;
    // ... and its slow start, which grows cwnd by every segment an ACK
    // covers (RFC 3465's L = 2 SMSS otherwise; docs/tcp.md).
    o.tcp.ss_ack_limit = 0;
    // ... and its RTO formula, SRTT + max(4 RTTVAR, 200 ms).
    o.tcp.rto_linux = true;
    o.tcp.tlp_linux = true;  // and its tail loss probe timeout
    // The layer takes every connection's rings up front, and packetdrill
    // locks all its memory (mlockall): size the pool by --max_sockets, not
    // the layer's default of 1024 (which with 8 MiB rings is 16 GiB).
    o.tcp.max_concurrency = o.max_sockets;
    return o;
}

// ------------------------------------------------------------- lifetime --
host::host(const options& o)
    : _o(o),
      _link(&_now, 1024),
      _glue(std::make_unique<glue>(*this)),
      _tcp(o.tcp, *_glue),
      _socks(o.max_sockets) {
    if (_o.local_ip) ensure_stack(*_o.local_ip);
    register_host(this);
}

host::~host() {
    unregister_host(this);
    for (auto& s : _socks) s.kfd.release();
    _stack.reset();  // returns its TX buffers to the link before the link goes
}

void host::ensure_stack(ipv4_addr ip) {
    if (_stack) return;
    net::stack_config c;
    c.ip = ip;
    // Everything is on-link through the peer_neighbor: a /0 mask means no
    // destination needs a gateway and only 255.255.255.255 is broadcast.
    c.netmask = ipv4_addr(0u);
    c.mac = local_mac;
    c.mtu = _o.mtu;
    c.max_num_buffers = 1024;
    c.max_udp_sockets = 1;
    _stack = std::make_unique<net::stack>(c, _link);
    _stack->set_neighbor(&_nb);
    _stack->set_transport(wire::ipproto::tcp, _glue.get());
}

void host::run() {
    if (_stack) _stack->poll(_now);
    // Readiness is polled level-triggered; the edge queue only wakes
    // edge-triggered epoll entries (epoll.cpp).
    tcp::event ev;
    while (_tcp.next_event(ev)) epoll_wake(ev.h);
}

void host::advance_to(nanos t) {
    if (!_stack) {
        _now = std::max(_now, t);
        return;
    }
    // Fire each due timer at its own time, so what it sends carries the
    // exact virtual timestamp (retransmissions at RTO, delayed ACKs...).
    for (int guard = 0; guard < 1'000'000; ++guard) {
        nanos d = _stack->next_deadline();
        if (d > t) break;
        if (d <= _now) {
            // A deadline that polling at _now did not clear (e.g. a timer
            // wheel tick): step past it rather than spin.
            run();
            if (_stack->next_deadline() <= _now) {
                _now = std::min(t, _now + net::msec(1));
                run();
                if (_now == t) break;
            }
            continue;
        }
        _now = d;
        run();
    }
    _now = std::max(_now, t);
    run();
}

// --------------------------------------------------------------- helpers --
host::sock* host::find(int fd) {
    if (fd < 0 || size_t(fd) >= _slot_of.size() || _slot_of[size_t(fd)] < 0) return nullptr;
    sock& s = _socks[size_t(_slot_of[size_t(fd)])];
    return s.k == kind::free ? nullptr : &s;
}

long host::open_slot(kind k) {
    size_t i = 0;
    while (i < _socks.size() && _socks[i].k != kind::free) ++i;
    if (i == _socks.size()) return -EMFILE;
    kernel_fd kfd;
    const long fd = kernel_fd::open(_o.fd_base, kfd);
    if (fd < 0) return fd;
    if (size_t(fd) >= _slot_of.size()) _slot_of.resize(size_t(fd) + 1, -1);
    if (_slot_of[size_t(fd)] >= 0) {
        // The kernel handed out a number we still map: the socket that had
        // it was closed with the kernel's close() behind our back (as
        // packetdrill does with what a script leaves open). Close it now.
        sock& old = _socks[size_t(_slot_of[size_t(fd)])];
        epoll_forget(int(fd));  // closed: gone from every interest list
        old.kfd.fd = -1;  // the number is the new socket's: keep it open
        free_slot(old);
        run();
    }
    _socks[i] = sock{};
    _socks[i].k = k;
    _socks[i].kfd = kfd;
    _slot_of[size_t(fd)] = int32_t(i);
    return fd;
}

void host::free_slot(sock& s) {
    // SO_LINGER with a zero timeout: close() aborts with a RST (as Linux).
    if (s.k == kind::conn && s.linger_on && s.linger_s == 0) (void)_tcp.abort(s.h, _now);
    else if (s.k == kind::conn || s.k == kind::listener) (void)_tcp.close(s.h, _now);
    if (s.kfd.fd >= 0 && s.k != kind::epoll) epoll_forget(s.kfd.fd);  // as close() on Linux
    if (s.kfd.fd >= 0 && size_t(s.kfd.fd) < _slot_of.size() &&
        _slot_of[size_t(s.kfd.fd)] == int32_t(&s - _socks.data()))
        _slot_of[size_t(s.kfd.fd)] = -1;
    s.kfd.release();
    s = sock{};
}
const host::sock* host::find(int fd) const { return const_cast<host*>(this)->find(fd); }

long host::errno_of(tcp::error e) {
    switch (e) {
        case tcp::error::none: return 0;
        case tcp::error::would_block: return -EAGAIN;
        case tcp::error::in_progress: return -EINPROGRESS;
        case tcp::error::invalid: return -EINVAL;
        case tcp::error::not_connected: return -ENOTCONN;
        case tcp::error::already_connected: return -EISCONN;
        case tcp::error::address_in_use: return -EADDRINUSE;
        case tcp::error::no_resources: return -ENOBUFS;
        case tcp::error::connection_refused: return -ECONNREFUSED;
        case tcp::error::connection_reset: return -ECONNRESET;
        case tcp::error::timed_out: return -ETIMEDOUT;
        case tcp::error::broken_pipe: return -EPIPE;
    }
    return -EIO;
}

uint16_t host::pick_port() {
    for (int tries = 0; tries < 30000; ++tries) {
        const uint16_t p = _next_port;
        _next_port = _next_port >= 60999 ? 40000 : uint16_t(_next_port + 1);
        bool used = false;
        for (const auto& s : _socks) used |= s.k != kind::free && s.lport == p;
        if (!used) return p;
    }
    return 0;
}

std::optional<tcp::four_tuple> host::tuple_of(tcp::handle h) const {
    auto i = _tcp.info(h);
    if (!i) return std::nullopt;
    return _glue->find(i->iss);
}

uint32_t host::readiness(const sock& s) const {
    if (s.k == kind::conn || s.k == kind::listener) return _tcp.readiness(s.h);
    return 0;
}

template <class Ready>
long host::block_until(lock& lk, bool nonblock, Ready ready, nanos limit, bool sleep_to_limit) {
    for (bool waited = false;; waited = true) {
        const bool now_ready = ready();
        _checked = _gen;  // usleep waits for this before moving the clock
        if (now_ready && waited) _stamp_due = true, _stamp_thread = std::this_thread::get_id();
        _cv_checked.notify_all();
        if (now_ready) return 0;
        if (nonblock) return -EAGAIN;
        // packetdrill runs a call the script marks as blocking on a second
        // thread: give the main thread a chance to inject what we wait for.
        if (_o.block_wait_ms) {
            const uint64_t gen = _gen;
            ++_blocked;
            _cv.wait_for(lk, std::chrono::milliseconds(_o.block_wait_ms),
                         [&] { return _gen != gen; });
            --_blocked;
            if (_gen != gen) continue;
        }
        // Nobody else will act: only our own timers can make progress.
        const nanos d = _stack ? _stack->next_deadline() : net::never;
        if (d > limit || d == net::never) {
            if (sleep_to_limit && limit > _now) {
                advance_to(limit);  // poll()'s timeout passes in virtual time
                if (ready()) return 0;
            }
            return -EAGAIN;
        }
        advance_to(std::max(d, _now));
    }
}

long host::block_until_fn(lock& lk, bool nonblock, const std::function<bool()>& ready,
                          nanos limit, bool sleep_to_limit) {
    return block_until(lk, nonblock, ready, limit, sleep_to_limit);
}

// --------------------------------------------------------------- sockets --
long host::socket(int domain, int type, int protocol) {
    if (domain != AF_INET) return -EAFNOSUPPORT;
    const int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (base != SOCK_STREAM) return -EOPNOTSUPP;  // UDP and raw sockets: not offered
    if (protocol != 0 && protocol != IPPROTO_TCP) return -EPROTONOSUPPORT;
    const long fd = open_slot(kind::tcp);
    if (fd >= 0) find(int(fd))->nonblock = (type & SOCK_NONBLOCK) != 0;
    apply_sysctls();
    return fd;
}

namespace {
// A null buffer with a length: EFAULT, as the kernel's copy would fail
// (other bad addresses cannot be told apart here without a system call).
bool null_buffer(const iovec* iov, int iovcnt) {
    for (int k = 0; k < iovcnt; ++k)
        if (!iov[k].iov_base && iov[k].iov_len) return true;
    return false;
}
bool read_sin(const sockaddr* addr, socklen_t len, ipv4_addr& ip, uint16_t& port, long& err) {
    if (!addr || len < socklen_t(sizeof(sockaddr_in))) return err = -EINVAL, false;
    if (addr->sa_family != AF_INET) return err = -EAFNOSUPPORT, false;
    sockaddr_in sin;
    std::memcpy(&sin, addr, sizeof sin);
    ip = ipv4_addr(ntohl(sin.sin_addr.s_addr));
    port = ntohs(sin.sin_port);
    return true;
}
void write_sin(sockaddr* addr, socklen_t* len, ipv4_addr ip, uint16_t port) {
    if (!addr || !len) return;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(ip.v);
    sin.sin_port = htons(port);
    std::memcpy(addr, &sin, std::min<size_t>(*len, sizeof sin));
    *len = sizeof sin;
}
}  // namespace

long host::bind(int fd, const sockaddr* addr, socklen_t len) {
    sock* s = find(fd);
    if (!s) return -EBADF;
    if (s->k != kind::tcp || s->bound) return -EINVAL;
    ipv4_addr ip;
    uint16_t port = 0;
    long err = 0;
    if (!read_sin(addr, len, ip, port, err)) return err;
    if (!ip.is_any()) {
        // The script's own address: adopt it if we had none yet.
        ensure_stack(ip);
        if (ip != _stack->local_ip()) return -EADDRNOTAVAIL;
    }
    if (port == 0) port = pick_port();
    for (const auto& o : _socks)
        if (&o != s && o.k != kind::free && o.bound && o.lport == port &&
            (o.k == kind::listener || !(o.reuseaddr && s->reuseaddr)))
            return -EADDRINUSE;
    s->bound = true, s->lip = ip, s->lport = port;
    return 0;
}

long host::listen(int fd, int backlog) {
    sock* s = find(fd);
    if (!s) return -EBADF;
    if (s->k == kind::listener) return 0;
    if (s->k != kind::tcp) return -EINVAL;
    if (!s->bound) s->bound = true, s->lport = pick_port();
    auto r = _tcp.listen(s->lip, s->lport, uint32_t(std::clamp(backlog, 1, 1 << 16)));
    if (!r) return errno_of(r.error());
    s->k = kind::listener;
    s->h = *r;
    apply_options(*s);
    return 0;
}

long host::accept(lock& lk, int fd, sockaddr* addr, socklen_t* len) {
    sock* s = find(fd);
    if (!s) return -EBADF;
    if (s->k != kind::listener) return -EINVAL;
    const tcp::handle lh = s->h;
    const bool nb = s->nonblock;
    long rc = block_until(lk, nb, [&] { return (_tcp.readiness(lh) & tcp::ev::readable) != 0; },
                          _now + _o.max_wait, false);
    if (rc < 0) return rc;
    s = find(fd);  // the lock was let go while blocked
    if (!s || s->k != kind::listener || !(s->h == lh)) return -EBADF;
    auto r = _tcp.accept(lh);
    if (!r) return errno_of(r.error());
    const long nfd = open_slot(kind::conn);
    if (nfd < 0) {
        (void)_tcp.abort(*r, _now);
        run();
        return nfd;
    }
    sock& n = *find(int(nfd));
    // Options set on the listener carry over to what it accepts (as Linux);
    // SO_REUSEADDR too, so a new listener with it can bind the port while
    // this connection lives (bind()'s conflict test).
    const sock& l = *s;
    n.nodelay = l.nodelay, n.keepalive = l.keepalive;
    n.keepidle = l.keepidle, n.keepintvl = l.keepintvl, n.keepcnt = l.keepcnt;
    n.maxseg = l.maxseg, n.linger_on = l.linger_on, n.linger_s = l.linger_s;
    n.user_timeout_ms = l.user_timeout_ms;
    n.cork = l.cork, n.notsent_lowat = l.notsent_lowat;
    n.rcvbuf = l.rcvbuf, n.sndbuf = l.sndbuf;
    n.reuseaddr = l.reuseaddr;
    n.h = *r;
    n.bound = true;
    apply_options(n);
    if (auto t = tuple_of(*r)) n.lip = t->local_ip, n.lport = t->local_port, n.rip = t->remote_ip,
                               n.rport = t->remote_port;
    write_sin(addr, len, n.rip, n.rport);
    return nfd;
}

long host::connect(lock& lk, int fd, const sockaddr* addr, socklen_t len) {
    sock* s = find(fd);
    if (!s) return -EBADF;
    ipv4_addr rip;
    uint16_t rport = 0;
    if (s->k == kind::conn) {
        // A second connect(): how Linux reports the outcome of a pending one.
        const uint32_t r = _tcp.readiness(s->h);
        auto i = _tcp.info(s->h);
        if (i && i->err != tcp::error::none) return errno_of(i->err);
        if (r & tcp::ev::writable || (i && tcp::is_synchronized(i->st))) return -EISCONN;
        if (s->nonblock) return -EALREADY;
    } else {
        if (s->k != kind::tcp) return -EINVAL;
        long err = 0;
        if (!read_sin(addr, len, rip, rport, err)) return err;
        if (rip.is_any() || rport == 0) return -EINVAL;
        if (!_stack && s->bound && !s->lip.is_any()) ensure_stack(s->lip);
        if (!_stack) return -EADDRNOTAVAIL;  // no --local_ip and nothing seen yet
        auto r = _tcp.connect(_stack->local_ip(), s->bound ? s->lport : 0, rip, rport, _now,
                              uint16_t(s->maxseg));
        if (!r) return errno_of(r.error());
        s->k = kind::conn;
        s->h = *r;
        s->rip = rip, s->rport = rport;
        s->lip = _stack->local_ip();
        if (auto t = tuple_of(*r)) s->lport = t->local_port;
        s->bound = true;
        apply_options(*s);
        run();
        if (s->nonblock) return -EINPROGRESS;
    }
    const tcp::handle h = s->h;
    long rc = block_until(lk, false, [&] {
        return (_tcp.readiness(h) & (tcp::ev::writable | tcp::ev::error | tcp::ev::closed)) != 0;
    }, _now + _o.max_wait, false);
    if (rc < 0) return -ETIMEDOUT;
    auto i = _tcp.info(h);
    if (i && i->err != tcp::error::none) return errno_of(i->err);
    return 0;
}

long host::readv(lock& lk, int fd, const iovec* iov, int iovcnt, int flags) {
    sock* s = find(fd);
    if (!s) return -EBADF;
    if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)) return -EOPNOTSUPP;  // MSG_PEEK, MSG_WAITALL...
    if (s->k != kind::conn) return -ENOTCONN;
    if (iovcnt < 0 || (iovcnt > 0 && !iov)) return -EINVAL;
    if (null_buffer(iov, iovcnt)) return -EFAULT;
    const tcp::handle h = s->h;
    // After SHUT_RD Linux still queues what arrives and hands it out; only
    // an empty queue reads as the end (tcp_recvmsg checks RCV_SHUTDOWN
    // after the queue).
    if (s->shut_rd) {
        auto i = _tcp.info(h);
        if (!i || i->recv_queued == 0) return 0;
    }
    long rc = block_until(lk, s->nonblock || (flags & MSG_DONTWAIT), [&] {
        return (_tcp.readiness(h) & (tcp::ev::readable | tcp::ev::error)) != 0;
    }, _now + _o.max_wait, false);
    if (rc < 0) return rc;
    long total = 0;
    for (int k = 0; k < iovcnt; ++k) {
        if (iov[k].iov_len == 0) continue;
        auto r = _tcp.recv(h, mut_bytes(static_cast<std::byte*>(iov[k].iov_base), iov[k].iov_len),
                           _now);
        if (!r) {
            if (total == 0) total = r.error() == tcp::error::would_block ? -EAGAIN : errno_of(r.error());
            break;
        }
        total += long(*r);
        if (*r < iov[k].iov_len) break;
    }
    run();  // a window update may be due
    return total;
}

long host::writev(lock& lk, int fd, const iovec* iov, int iovcnt, int flags) {
    sock* s = find(fd);
    if (!s) return -EBADF;
    if (s->k != kind::conn) return s->k == kind::listener ? -ENOTCONN : -EPIPE;
    if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE | MSG_EOR)) return -EOPNOTSUPP;  // MSG_OOB...
    if (iovcnt < 0 || (iovcnt > 0 && !iov)) return -EINVAL;
    if (null_buffer(iov, iovcnt)) return -EFAULT;
    if (s->shut_wr) return -EPIPE;
    const tcp::handle h = s->h;
    const bool nb = s->nonblock || (flags & MSG_DONTWAIT);
    // The write is one to the TCP layer: its pieces but the last are queued
    // as MSG_MORE (no PSH mark, no record end) and sent together.
    int last = iovcnt - 1;
    while (last > 0 && iov[last].iov_len == 0) --last;
    const uint8_t tail_flags = uint8_t(((flags & MSG_MORE) ? tcp::layer::send_more : 0) |
                                       ((flags & MSG_EOR) ? tcp::layer::send_eor : 0));
    long total = 0;
    for (int k = 0; k < iovcnt; ++k) {
        size_t off = 0;
        while (off < iov[k].iov_len) {
            const bool tail = k == last;
            auto r = _tcp.send(h, bytes(static_cast<const std::byte*>(iov[k].iov_base) + off,
                                        iov[k].iov_len - off), _now, tail,
                               tail ? tail_flags : tcp::layer::send_more);
            if (r) {
                off += *r, total += long(*r);
                continue;
            }
            if (r.error() != tcp::error::would_block) {
                run();
                return total ? total : errno_of(r.error());
            }
            // Blocking sockets write everything (Linux): wait for room,
            // having sent what is queued (Linux pushes with TCP_NAGLE_PUSH).
            _tcp.push(h, _now, true);
            run();
            long rc = block_until(lk, nb, [&] {
                return (_tcp.readiness(h) & (tcp::ev::writable | tcp::ev::error)) != 0;
            }, _now + _o.max_wait, false);
            if (rc < 0) return total ? total : rc;
        }
    }
    run();
    return total;
}

long host::close(int fd) {
    sock* s = find(fd);
    if (!s) return -EBADF;
    free_slot(*s);
    run();
    return 0;
}

long host::shutdown(int fd, int how) {
    sock* s = find(fd);
    if (!s) return -EBADF;
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) return -EINVAL;
    if (s->k != kind::conn) return -ENOTCONN;
    if (how != SHUT_WR) s->shut_rd = true;
    if (how != SHUT_RD && !s->shut_wr) {
        s->shut_wr = true;
        auto r = _tcp.shutdown_write(s->h, _now);
        run();
        if (!r) return errno_of(r.error());
    }
    return 0;
}

short host::poll_events(int fd) const {
    const sock* s = find(fd);
    if (!s) return POLLNVAL;
    // Linux's tcp_poll, reduced to what our layer reports.
    if (s->k == kind::tcp) return POLLOUT | POLLWRNORM | POLLHUP;
    const uint32_t r = readiness(*s);
    short m = 0;
    if (r & tcp::ev::readable) m |= POLLIN | POLLRDNORM;
    if (s->k == kind::listener) return m;
    if (r & tcp::ev::hangup) m |= POLLIN | POLLRDNORM | POLLRDHUP;
    if (r & tcp::ev::writable) m |= POLLOUT | POLLWRNORM;
    if (r & tcp::ev::error) m |= POLLERR;
    if ((r & tcp::ev::closed) || (s->shut_wr && (r & tcp::ev::hangup))) m |= POLLHUP;
    return m;
}

long host::poll(lock& lk, pollfd* fds, nfds_t n, int timeout_ms) {
    if (n > 0 && !fds) return -EFAULT;
    if (n > _socks.size() + 64) return -EINVAL;
    long ready = 0;
    auto scan = [&] {
        ready = 0;
        for (nfds_t i = 0; i < n; ++i) {
            if (fds[i].fd < 0) {
                fds[i].revents = 0;
                continue;
            }
            const short m = poll_events(fds[i].fd);
            fds[i].revents = short(m & (fds[i].events | POLLERR | POLLHUP | POLLNVAL));
            ready += fds[i].revents != 0;
        }
        return ready > 0;
    };
    const nanos limit = timeout_ms < 0 ? _now + _o.max_wait : _now + net::msec(uint64_t(timeout_ms));
    long rc = block_until(lk, timeout_ms == 0, scan, limit, timeout_ms > 0);
    if (rc < 0) scan();
    return ready;
}

}  // namespace mvnf::pd
