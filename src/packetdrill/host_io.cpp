// pd::host, second half: socket options, fcntl/ioctl, the wire (netdev_send,
// netdev_receive) and the virtual clock (usleep, gettimeofday). Split from
// host.cpp, which holds the socket calls proper.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>

#include "api/tcp_info.hpp"
#include "packetdrill/host.hpp"
#include "wire/ipv4.hpp"

namespace mvnf::pd {

namespace {
// SO_SNDBUF / SO_RCVBUF as Linux keeps them (socket(7)): twice the value
// set (room for bookkeeping), at least 2048 here (as the C API), at most
// the ring; 0 (never set): the ring.
uint32_t linux_buf(int set, uint32_t ring) {
    if (set <= 0) return 0;
    return uint32_t(std::min<uint64_t>(std::max<uint64_t>(2 * uint64_t(set), 2048), ring));
}

// Room for the fields a recent kernel's struct tcp_info has beyond glibc's.
constexpr size_t kernel_tcp_info_max = 512;

long put_int(void* val, socklen_t* len, int v) {
    if (!val || !len || *len < socklen_t(sizeof(int))) return -EINVAL;
    std::memcpy(val, &v, sizeof v);
    *len = sizeof v;
    return 0;
}
bool get_int(const void* val, socklen_t len, int& v) {
    if (!val || len < socklen_t(sizeof(int))) return false;
    std::memcpy(&v, val, sizeof v);
    return true;
}
}  // namespace

void host::apply_options(const sock& s) {
    if (s.k == kind::listener) {  // SYN-ACKs advertise it; connections inherit it
        (void)_tcp.set_max_segment(s.h, uint16_t(s.maxseg));
        return;
    }
    if (s.k != kind::conn) return;
    (void)_tcp.set_nodelay(s.h, s.nodelay);
    (void)_tcp.set_keepalive_params(s.h, net::sec(uint64_t(s.keepidle)),
                                    net::sec(uint64_t(s.keepintvl)), uint8_t(s.keepcnt));
    (void)_tcp.set_keepalive(s.h, s.keepalive, _now);
    (void)_tcp.set_max_segment(s.h, uint16_t(s.maxseg));
    (void)_tcp.set_user_timeout(s.h, net::msec(uint64_t(s.user_timeout_ms)));
    (void)_tcp.set_buffer_limits(s.h, linux_buf(s.sndbuf, _o.tcp.sndbuf),
                                 linux_buf(s.rcvbuf, _o.tcp.rcvbuf));
    (void)_tcp.set_notsent_lowat(s.h, s.notsent_lowat ? s.notsent_lowat : sysctl_notsent_lowat());
    if (s.cork) (void)_tcp.set_cork(s.h, true, _now);
}

namespace {
// An integer sysctl of the namespace the library runs in; false if unreadable.
bool read_sysctl(const char* path, unsigned long& v) {
    FILE* f = std::fopen(path, "re");
    if (!f) return false;
    const bool ok = std::fscanf(f, "%lu", &v) == 1;
    std::fclose(f);
    return ok;
}
}  // namespace

// A script's init commands set sysctls in the namespace after the library
// was made: net.ipv4.tcp_timestamps and tcp_ecn (0 off, 1 ask and accept,
// 2 accept: the layer's meaning too) are read for each new socket, as Linux
// reads them at each handshake. --no_ts keeps timestamps off.
void host::apply_sysctls() {
    unsigned long ts = 0, ecn = 0;
    bool timestamps = _o.tcp.timestamps;
    uint8_t e = _o.tcp.ecn;
    if (timestamps && read_sysctl("/proc/sys/net/ipv4/tcp_timestamps", ts)) timestamps = ts != 0;
    if (read_sysctl("/proc/sys/net/ipv4/tcp_ecn", ecn) && ecn <= 2) e = uint8_t(ecn);
    _tcp.set_negotiation(timestamps, e);
}

// net.ipv4.tcp_notsent_lowat of the namespace the library runs in (a
// script's defaults.sh sets it): the mark of sockets that set none.
// Linux's default, UINT_MAX, and an unreadable file mean no limit.
uint32_t host::sysctl_notsent_lowat() {
    unsigned long v = 0;
    return read_sysctl("/proc/sys/net/ipv4/tcp_notsent_lowat", v) && v < 0xffffffffUL ? uint32_t(v)
                                                                                     : 0;
}

long host::getsockopt(int fd, int level, int name, void* val, socklen_t* len) {
    sock* s = find(fd);
    if (!s) return -EBADF;
    const bool conn = s->k == kind::conn;
    tcp::conn_info ci{};
    bool have = false;
    if (conn)
        if (auto i = _tcp.info(s->h)) ci = *i, have = true;
    if (level == SOL_SOCKET) {
        switch (name) {
            case SO_ERROR: {
                int e = 0;
                if (have && ci.err != tcp::error::none && !s->err_reported) {
                    e = int(-errno_of(ci.err));
                    s->err_reported = true;
                }
                return put_int(val, len, e);
            }
            case SO_TYPE: return put_int(val, len, SOCK_STREAM);
            case SO_ACCEPTCONN: return put_int(val, len, s->k == kind::listener);
            case SO_REUSEADDR: return put_int(val, len, s->reuseaddr);
            case SO_KEEPALIVE: return put_int(val, len, s->keepalive);
            case SO_RCVBUF:
                return put_int(val, len, s->rcvbuf ? int(linux_buf(s->rcvbuf, _o.tcp.rcvbuf))
                                                   : int(_o.tcp.rcvbuf));
            case SO_SNDBUF:
                return put_int(val, len, s->sndbuf ? int(linux_buf(s->sndbuf, _o.tcp.sndbuf))
                                                   : int(_o.tcp.sndbuf));
            case SO_LINGER: {
                if (!val || !len || *len < socklen_t(sizeof(linger))) return -EINVAL;
                const linger l{s->linger_on ? 1 : 0, s->linger_s};
                std::memcpy(val, &l, sizeof l);
                *len = sizeof l;
                return 0;
            }
            default: return -EOPNOTSUPP;
        }
    }
    if (level == IPPROTO_TCP) {
        switch (name) {
            case TCP_NODELAY: return put_int(val, len, s->nodelay);
            case TCP_INQ: return put_int(val, len, s->inq);
            case TCP_CORK: return put_int(val, len, s->cork);
            case TCP_NOTSENT_LOWAT: return put_int(val, len, int(s->notsent_lowat));
            case TCP_MAXSEG:
                return put_int(val, len, have && ci.mss ? ci.mss : (s->maxseg ? s->maxseg : _o.tcp.mss));
            case TCP_KEEPIDLE:
                return put_int(val, len, s->keepidle ? s->keepidle
                                                     : int(_o.tcp.keepalive_idle / net::sec(1)));
            case TCP_KEEPINTVL:
                return put_int(val, len, s->keepintvl ? s->keepintvl
                                                      : int(_o.tcp.keepalive_interval / net::sec(1)));
            case TCP_KEEPCNT:
                return put_int(val, len, s->keepcnt ? s->keepcnt : int(_o.tcp.keepalive_probes));
            case TCP_USER_TIMEOUT: return put_int(val, len, s->user_timeout_ms);
            case TCP_INFO: {
                // Linux's layout, filled as the C API fills it; shorter
                // buffers get the start of it (as Linux). Newer kernels'
                // struct is longer than the C library's, and packetdrill
                // insists on its own (longer) size: the fields past the C
                // library's read 0, up to kernel_tcp_info_max bytes.
                if (!val || !len) return -EINVAL;
                const tcp_info ti = api::linux_tcp_info(have ? &ci : nullptr,
                                                        s->k == kind::listener, _o.tcp, _now);
                const size_t n = std::min<size_t>(*len, kernel_tcp_info_max);
                std::memset(val, 0, n);
                std::memcpy(val, &ti, std::min(n, sizeof ti));
                *len = socklen_t(n);
                return 0;
            }
            case TCP_CONGESTION: {
                if (!val || !len) return -EINVAL;
                const char* n = _o.tcp.cc == tcp::congestion_algo::reno ? "reno" : "cubic";
                const size_t l = std::min<size_t>(*len, std::strlen(n) + 1);
                std::memcpy(val, n, l);
                *len = socklen_t(l);
                return 0;
            }
            default: return -EOPNOTSUPP;  // see docs/packetdrill.md
        }
    }
    return -EOPNOTSUPP;
}

long host::recv_control(int fd, msghdr* m) {
    sock* s = find(fd);
    if (!s) return -EBADF;
    const size_t room = m->msg_controllen;
    m->msg_controllen = 0;
    if (!s->inq || s->k != kind::conn) return 0;
    // Linux (tcp_recvmsg): the bytes still queued after this read.
    int left = 0;
    // With all read and the peer's FIN in, Linux reports one "byte" (the
    // end of the stream is still to be read: tcp_inq_hint).
    if (auto i = _tcp.info(s->h)) {
        left = int(std::min<size_t>(i->recv_queued, INT32_MAX));
        if (left == 0 && tcp::has_received_fin(i->st)) left = 1;
    }
    if (!m->msg_control || room < CMSG_SPACE(sizeof left)) {
        m->msg_flags |= MSG_CTRUNC;
        return 0;
    }
    m->msg_controllen = room;
    cmsghdr* c = CMSG_FIRSTHDR(m);
    c->cmsg_level = SOL_TCP;
    c->cmsg_type = TCP_CM_INQ;
    c->cmsg_len = CMSG_LEN(sizeof left);
    std::memcpy(CMSG_DATA(c), &left, sizeof left);
    m->msg_controllen = CMSG_SPACE(sizeof left);
    return 0;
}

long host::kernel_getsockopt(int fd, int level, int name, void* val, socklen_t* len) {
    sock* s = find(fd);
    if (!s) return not_ours;
    note_call();
    if (level == IPPROTO_TCP && name == TCP_INFO) return getsockopt(fd, level, name, val, len);
    if (level == IPPROTO_TCP && name == TCP_CC_INFO) {
        // Linux fills it only for algorithms with a get_info (not CUBIC or
        // Reno): a successful, empty answer.
        if (!len) return -EFAULT;
        *len = 0;
        return 0;
    }
    if (level == SOL_SOCKET && name == SO_MEMINFO) {
        // linux/sock_diag.h's SK_MEMINFO_* slots that the stack knows, in
        // bytes of data (Linux counts buffer truesize).
        if (!val || !len) return -EFAULT;
        uint32_t m[SK_MEMINFO_VARS] = {};
        if (s->k == kind::conn)
            if (auto i = _tcp.info(s->h)) {
                m[SK_MEMINFO_RMEM_ALLOC] = uint32_t(i->recv_queued);
                m[SK_MEMINFO_WMEM_QUEUED] = uint32_t(i->send_queued);
            }
        m[SK_MEMINFO_RCVBUF] = uint32_t(s->rcvbuf ? s->rcvbuf : int(_o.tcp.rcvbuf));
        m[SK_MEMINFO_SNDBUF] = uint32_t(s->sndbuf ? s->sndbuf : int(_o.tcp.sndbuf));
        const size_t n = std::min<size_t>(*len, sizeof m);
        std::memcpy(val, m, n);
        *len = socklen_t(n);
        return 0;
    }
    return -ENOTSOCK;  // what the kernel says of the eventfd behind the number
}

long host::setsockopt(int fd, int level, int name, const void* val, socklen_t len) {
    sock* s = find(fd);
    if (!s) return -EBADF;
    const bool conn = s->k == kind::conn;
    int v = 0;
    if (level == SOL_SOCKET) {
        switch (name) {
            case SO_REUSEADDR:
            case SO_REUSEPORT:
                if (!get_int(val, len, v)) return -EINVAL;
                s->reuseaddr = v != 0;
                return 0;
            case SO_KEEPALIVE:
                if (!get_int(val, len, v)) return -EINVAL;
                s->keepalive = v != 0;
                if (conn) {
                    auto r = _tcp.set_keepalive(s->h, v != 0, _now);
                    run();
                    if (!r) return errno_of(r.error());
                }
                return 0;
            case SO_RCVBUF:
            case SO_SNDBUF:
                // The usable part of the ring (the layer's buffer limits, as
                // the C API sets them), Linux's doubled value.
                if (!get_int(val, len, v)) return -EINVAL;
                (name == SO_RCVBUF ? s->rcvbuf : s->sndbuf) = v;
                apply_options(*s);
                run();
                return 0;
            case SO_LINGER: {
                if (!val || len < socklen_t(sizeof(linger))) return -EINVAL;
                linger l;
                std::memcpy(&l, val, sizeof l);
                s->linger_on = l.l_onoff != 0;
                s->linger_s = l.l_linger;
                return 0;
            }
            default: return -EOPNOTSUPP;
        }
    }
    if (level == IPPROTO_TCP) {
        switch (name) {
            case TCP_NODELAY:
                if (!get_int(val, len, v)) return -EINVAL;
                s->nodelay = v != 0;
                if (conn) {
                    auto r = _tcp.set_nodelay(s->h, v != 0);
                    if (!r) return errno_of(r.error());
                    // Linux pushes each time it is set: what Nagle, a cork
                    // or MSG_MORE held goes now.
                    if (v) _tcp.push(s->h, _now, true);
                    run();
                }
                return 0;
            case TCP_CORK:
                if (!get_int(val, len, v)) return -EINVAL;
                s->cork = v != 0;
                if (conn) {
                    auto r = _tcp.set_cork(s->h, v != 0, _now);  // uncorking sends
                    run();
                    if (!r) return errno_of(r.error());
                }
                return 0;
            case TCP_NOTSENT_LOWAT:
                if (!get_int(val, len, v)) return -EINVAL;
                s->notsent_lowat = uint32_t(v);  // as Linux: any value, 0 = the sysctl's
                apply_options(*s);
                return 0;
            // Bounds as Linux's do_tcp_setsockopt (and the C API).
            case TCP_KEEPIDLE:
            case TCP_KEEPINTVL:
                if (!get_int(val, len, v)) return -EINVAL;
                if (v < 1 || v > 32767) return -EINVAL;
                (name == TCP_KEEPIDLE ? s->keepidle : s->keepintvl) = v;
                apply_options(*s);
                run();
                return 0;
            case TCP_KEEPCNT:
                if (!get_int(val, len, v)) return -EINVAL;
                if (v < 1 || v > 127) return -EINVAL;
                s->keepcnt = v;
                apply_options(*s);
                return 0;
            case TCP_USER_TIMEOUT:
                if (!get_int(val, len, v)) return -EINVAL;
                if (v < 0) return -EINVAL;
                s->user_timeout_ms = v;
                apply_options(*s);
                return 0;
            case TCP_INQ:
                if (!get_int(val, len, v)) return -EINVAL;
                s->inq = v != 0;
                return 0;
            case TCP_MAXSEG:
                if (!get_int(val, len, v)) return -EINVAL;
                if (v != 0 && (v < 88 || v > 65535)) return -EINVAL;
                s->maxseg = v;
                apply_options(*s);
                return 0;
            case TCP_CONGESTION: {
                if (!val || len == 0) return -EINVAL;
                const std::string_view n(static_cast<const char*>(val),
                                         strnlen(static_cast<const char*>(val), len));
                tcp::congestion_algo a;
                if (n == "reno") a = tcp::congestion_algo::reno;
                else if (n == "cubic") a = tcp::congestion_algo::cubic;
                else return -ENOENT;  // as Linux for an unknown algorithm
                if (!conn) return -EOPNOTSUPP;  // per-socket before connect: not kept
                auto r = _tcp.set_congestion(s->h, a);
                return r ? 0 : errno_of(r.error());
            }
            default: return -EOPNOTSUPP;
        }
    }
    return -EOPNOTSUPP;
}

long host::fcntl(int fd, int cmd, long arg) {
    sock* s = find(fd);
    if (!s) return -EBADF;
    switch (cmd) {
        case F_GETFL: return O_RDWR | (s->nonblock ? O_NONBLOCK : 0);
        case F_SETFL: s->nonblock = (arg & O_NONBLOCK) != 0; return 0;
        case F_GETFD: return 0;
        case F_SETFD: return 0;  // close-on-exec has no meaning here
        default: return -EOPNOTSUPP;
    }
}

long host::ioctl(int fd, unsigned long request, void* arg) {
    sock* s = find(fd);
    if (!s) return -EBADF;
    switch (request) {
        case FIONBIO: {
            int v = 0;
            if (!arg) return -EFAULT;
            std::memcpy(&v, arg, sizeof v);
            s->nonblock = v != 0;
            return 0;
        }
        case SIOCINQ:  // == FIONREAD
        case SIOCOUTQ: {
            if (!arg) return -EFAULT;
            if (s->k == kind::listener) return -EINVAL;
            int v = 0;
            if (s->k == kind::conn)
                if (auto i = _tcp.info(s->h))
                    v = int(request == SIOCINQ ? i->recv_queued : i->send_queued);
            std::memcpy(arg, &v, sizeof v);
            return 0;
        }
        default: return -EOPNOTSUPP;
    }
}

// ----------------------------------------------------------- wire + clock --
long host::netdev_send(bytes ip) {
    auto v = wire::ipv4_view::parse(ip);
    if (!v) return -EINVAL;  // not a whole IPv4 packet (IPv6 is not offered)
    if (!_stack) ensure_stack(v->dst());  // the script talks to us: that is our address
    if (!_link.inject(ip)) return -ENOBUFS;
    run();
    ++_gen;
    _cv.notify_all();
    return 0;
}

long host::netdev_receive(void* buf, size_t* count, long long* time_usecs) {
    if (!count || (*count > 0 && !buf)) return -EINVAL;
    // Nothing sent yet: what packetdrill waits for can only come from a
    // timer (retransmission, delayed ACK, probe), so let those fire at their
    // own times, up to max_wait ahead.
    if (_link.sent_pending() == 0 && _stack) {
        const nanos limit = _now + _o.max_wait;
        while (_link.sent_pending() == 0) {
            const nanos d = _stack->next_deadline();
            if (d == net::never || d > limit) break;
            advance_to(std::max(d, _now));
        }
    }
    size_t len = 0;
    nanos when = 0;
    if (!_link.pop_sent(mut_bytes(static_cast<std::byte*>(buf), *count), len, when)) {
        // packetdrill asks only when the script expects a packet; given
        // nothing, it reports a parse error of an empty packet ("error
        // handling packet: (null)"). Say what happened instead.
        std::fprintf(stderr,
                     "mvnf-packetdrill: error: expected outbound packet not sent: the stack "
                     "sent nothing up to virtual time %.6f s (no timer due within "
                     "--max_wait_us=%llu)\n",
                     double(_now) / 1e9, (unsigned long long)(_o.max_wait / 1000));
        *count = 0;
        return 0;
    }
    *count = std::min(len, *count);
    if (time_usecs) *time_usecs = (long long)(_o.epoch_us + when / 1000);
    return 0;
}

void host::usleep(lock& lk, uint64_t usec) {
    // A call blocked on another thread that has not looked since the last
    // injection gets to return at the present time first.
    // ... and reads the clock for its end time before it moves.
    if (_stamp_due && _stamp_thread == std::this_thread::get_id()) _stamp_due = false;
    if (((_blocked && _checked != _gen) || _stamp_due) && _o.block_wait_ms) {
        _cv.notify_all();
        _cv_checked.wait_for(lk, std::chrono::milliseconds(_o.block_wait_ms), [&] {
            return (_checked == _gen || !_blocked) && !_stamp_due;
        });
    }
    _stamp_due = false;
    advance_to(_now + net::usec(usec));
    ++_gen;
    _cv.notify_all();
}

uint64_t host::gettimeofday_us() {
    if (_stamp_due && std::this_thread::get_id() == _stamp_thread) {
        _stamp_due = false;  // the blocked call's end time: usleep may go on
        _cv_checked.notify_all();
    }
    // packetdrill spins on gettimeofday for the last microseconds before an
    // event; a clock that never moves would spin forever. Back-to-back calls
    // (nothing else in between) therefore advance the clock 1 us each.
    if (_spins++ > 0) {
        advance_to(_now + net::usec(1));
        ++_gen;
        _cv.notify_all();
    }
    return _o.epoch_us + _now / 1000;
}

}  // namespace mvnf::pd
