// Socket options and ioctls of the C API: every option is recorded on the
// socket and applied through the TCP layer (at once when connected, at
// connect/accept otherwise). getsockopt reports SO_ERROR, SO_TYPE, buffers and
// a Linux struct tcp_info filled from the layer's conn_info.
#include <netinet/tcp.h>
#include <sys/ioctl.h>

#include <cstring>

#include "api/context.hpp"
#include "api/tcp_info.hpp"

namespace mvnf::api {

socket_entry* lookup(mtcp_context* c, int sockid);
bool is_socket(const socket_entry& s);

static uint32_t clamp_buf(int v, uint32_t cap) {
    if (v <= 0) return 0;  // 0: the configured size
    return std::min<uint32_t>(std::max<uint32_t>(uint32_t(v), 2048), cap);
}

void apply_options(mtcp_context* c, const socket_entry& s, tcp::handle h) {
    if (!h.valid()) return;
    tcp::layer& t = *c->tcp;
    (void)t.set_nodelay(h, s.nodelay);
    (void)t.set_keepalive_params(h, net::sec(uint64_t(s.keepidle)),
                                 net::sec(uint64_t(s.keepintvl)), uint8_t(s.keepcnt));
    (void)t.set_keepalive(h, s.keepalive, c->now);
    (void)t.set_max_segment(h, uint16_t(s.maxseg));
    (void)t.set_user_timeout(h, net::msec(uint64_t(s.user_timeout_ms)));
    (void)t.set_buffer_limits(h, clamp_buf(s.sndbuf, t.cfg().sndbuf),
                              clamp_buf(s.rcvbuf, t.cfg().rcvbuf));
    (void)t.set_congestion(h, s.cc);
    (void)t.set_notsent_lowat(h, s.notsent_lowat);
    (void)t.set_cork(h, s.cork, c->now);  // uncorking sends what the cork held
}

static int get_int(const void* v, socklen_t len, int& out) {
    if (!v || len < socklen_t(sizeof(int))) return EINVAL;
    std::memcpy(&out, v, sizeof out);
    return 0;
}

static int put(void* dst, socklen_t* len, const void* src, size_t n) {
    if (!dst || !len) return EFAULT;
    const size_t k = std::min<size_t>(*len, n);
    std::memcpy(dst, src, k);
    *len = socklen_t(k);
    return 0;
}

}  // namespace mvnf::api

using namespace mvnf;
using namespace mvnf::api;

extern "C" {

int mtcp_setsockopt(mctx_t mctx, int sockid, int level, int optname, const void* optval,
                    socklen_t optlen) try {
    MVNF_ROUTE(mctx, -1, mtcp_setsockopt(mctx, sockid, level, optname, optval, optlen));
    socket_entry* s = lookup(mctx, sockid);
    if (!s) return -1;
    if (!is_socket(*s)) return set_errno_ret(ENOTSOCK);
    const bool is_tcp = s->kind != sock_kind::dgram;
    int v = 0;
    if (level == SOL_SOCKET && optname == SO_LINGER) {
        if (!optval || optlen < socklen_t(sizeof(linger))) return set_errno_ret(EINVAL);
        linger l;
        std::memcpy(&l, optval, sizeof l);
        s->linger_on = l.l_onoff != 0;
        s->linger_s = l.l_linger;
        return 0;
    }
    if (level == IPPROTO_TCP && optname == TCP_CONGESTION) {
        if (!is_tcp) return set_errno_ret(ENOPROTOOPT);
        if (!optval) return set_errno_ret(EFAULT);
        const std::string_view name(static_cast<const char*>(optval),
                                    strnlen(static_cast<const char*>(optval), optlen));
        if (name == "reno") s->cc = tcp::congestion_algo::reno;
        else if (name == "cubic") s->cc = tcp::congestion_algo::cubic;
        else return set_errno_ret(ENOENT);  // Linux: unknown algorithm
        if (s->h.valid() && s->kind == sock_kind::stream) (void)mctx->tcp->set_congestion(s->h, s->cc);
        return 0;
    }
    if (int e = get_int(optval, optlen, v)) return set_errno_ret(e);
    if (level == SOL_SOCKET) {
        switch (optname) {
            case SO_REUSEADDR: s->reuseaddr = v != 0; return 0;
            case SO_REUSEPORT: s->reuseport = v != 0; return 0;
            case SO_KEEPALIVE: s->keepalive = v != 0; break;
            case SO_RCVBUF: s->rcvbuf = v; break;
            case SO_SNDBUF: s->sndbuf = v; break;
            default: return set_errno_ret(ENOPROTOOPT);
        }
    } else if (level == IPPROTO_TCP) {
        if (!is_tcp) return set_errno_ret(ENOPROTOOPT);
        switch (optname) {
            case TCP_NODELAY: s->nodelay = v != 0; break;
            case TCP_KEEPIDLE:
                if (v < 1 || v > 32767) return set_errno_ret(EINVAL);
                s->keepidle = v;
                break;
            case TCP_KEEPINTVL:
                if (v < 1 || v > 32767) return set_errno_ret(EINVAL);
                s->keepintvl = v;
                break;
            case TCP_KEEPCNT:
                if (v < 1 || v > 127) return set_errno_ret(EINVAL);
                s->keepcnt = v;
                break;
            case TCP_MAXSEG:
                if (v != 0 && (v < 88 || v > 65535)) return set_errno_ret(EINVAL);
                s->maxseg = v;
                break;
            case TCP_USER_TIMEOUT:  // milliseconds; 0 = off (Linux: negative is EINVAL)
                if (v < 0) return set_errno_ret(EINVAL);
                s->user_timeout_ms = v;
                break;
            case TCP_CORK: s->cork = v != 0; break;
            // Any value, as Linux (read as unsigned); 0: no mark.
            case TCP_NOTSENT_LOWAT: s->notsent_lowat = uint32_t(v); break;
            default: return set_errno_ret(ENOPROTOOPT);
        }
    } else {
        return set_errno_ret(ENOPROTOOPT);
    }
    if (is_tcp && s->kind == sock_kind::stream) {
        apply_options(mctx, *s, s->h);
        // Linux pushes each time TCP_NODELAY is set to 1: what Nagle, a cork
        // or MSG_MORE held goes now.
        if (level == IPPROTO_TCP && optname == TCP_NODELAY && v && s->h.valid())
            mctx->tcp->push(s->h, mctx->now, true);
        mctx->sync_after_user_call();  // uncorking may have sent
    }
    // A listener's TCP_MAXSEG is what its SYN-ACKs advertise and what its
    // connections inherit (as Linux).
    if (is_tcp && s->kind == sock_kind::listener)
        (void)mctx->tcp->set_max_segment(s->h, uint16_t(s->maxseg));
    return 0;
} catch (...) {
    return api_exception("mtcp_setsockopt");
}

int mtcp_getsockopt(mctx_t mctx, int sockid, int level, int optname, void* optval,
                    socklen_t* optlen) try {
    MVNF_ROUTE(mctx, -1, mtcp_getsockopt(mctx, sockid, level, optname, optval, optlen));
    socket_entry* s = lookup(mctx, sockid);
    if (!s) return -1;
    if (!is_socket(*s)) return set_errno_ret(ENOTSOCK);
    if (!optval || !optlen) return set_errno_ret(EFAULT);
    const bool is_tcp = s->kind != sock_kind::dgram;
    int v = 0;
    if (level == SOL_SOCKET) {
        switch (optname) {
            case SO_ERROR:
                v = s->so_error;
                s->so_error = 0;  // read once, as POSIX
                if (!v && s->h.valid() && s->kind == sock_kind::stream) {
                    auto i = mctx->tcp->info(s->h);
                    if (i && i->err != tcp::error::none && !s->connected)
                        v = map_tcp_error(i->err);
                }
                break;
            case SO_TYPE: v = is_tcp ? SOCK_STREAM : SOCK_DGRAM; break;
            case SO_ACCEPTCONN: v = s->kind == sock_kind::listener; break;
            case SO_REUSEADDR: v = s->reuseaddr; break;
            case SO_REUSEPORT: v = s->reuseport; break;
            case SO_KEEPALIVE: v = s->keepalive; break;
            case SO_RCVBUF:
                v = is_tcp ? int(clamp_buf(s->rcvbuf, mctx->tcp->cfg().rcvbuf))
                           : int(mctx->st->config().udp_receive_buffer);
                if (v == 0) v = int(mctx->tcp->cfg().rcvbuf);
                break;
            case SO_SNDBUF:
                v = is_tcp ? int(clamp_buf(s->sndbuf, mctx->tcp->cfg().sndbuf))
                           : int(mctx->st->config().udp_send_buffer);
                if (v == 0) v = int(mctx->tcp->cfg().sndbuf);
                break;
            case SO_LINGER: {
                linger l{s->linger_on ? 1 : 0, s->linger_s};
                if (int e = put(optval, optlen, &l, sizeof l)) return set_errno_ret(e);
                return 0;
            }
            default: return set_errno_ret(ENOPROTOOPT);
        }
    } else if (level == IPPROTO_TCP && is_tcp) {
        // A plain copy: g++ 12 warns falsely about optional<conn_info> here.
        tcp::conn_info ci{};
        bool have = false;
        if (s->h.valid() && s->kind == sock_kind::stream)
            if (auto i = mctx->tcp->info(s->h)) ci = *i, have = true;
        const tcp::conn_info* info = have ? &ci : nullptr;
        switch (optname) {
            case TCP_NODELAY: v = s->nodelay; break;
            case TCP_KEEPIDLE: v = s->keepidle ? s->keepidle : int(mctx->tcp->cfg().keepalive_idle / net::sec(1)); break;
            case TCP_KEEPINTVL: v = s->keepintvl ? s->keepintvl : int(mctx->tcp->cfg().keepalive_interval / net::sec(1)); break;
            case TCP_KEEPCNT: v = s->keepcnt ? s->keepcnt : mctx->tcp->cfg().keepalive_probes; break;
            case TCP_USER_TIMEOUT: v = s->user_timeout_ms; break;
            case TCP_CORK: v = s->cork; break;
            case TCP_NOTSENT_LOWAT: v = int(s->notsent_lowat); break;
            case TCP_MAXSEG: v = info && info->mss ? info->mss : (s->maxseg ? s->maxseg : mctx->tcp->cfg().mss); break;
            case TCP_CONGESTION: {
                const char* n = s->cc == tcp::congestion_algo::reno ? "reno" : "cubic";
                if (int e = put(optval, optlen, n, std::strlen(n) + 1)) return set_errno_ret(e);
                return 0;
            }
            case TCP_INFO: {
                const tcp_info ti =
                    linux_tcp_info(info, s->kind == sock_kind::listener, mctx->tcp->cfg(), mctx->now);
                if (int e = put(optval, optlen, &ti, sizeof ti)) return set_errno_ret(e);
                return 0;
            }
            default: return set_errno_ret(ENOPROTOOPT);
        }
    } else {
        return set_errno_ret(ENOPROTOOPT);
    }
    if (int e = put(optval, optlen, &v, sizeof v)) return set_errno_ret(e);
    return 0;
} catch (...) {
    return api_exception("mtcp_getsockopt");
}

int mtcp_setsock_nonblock(mctx_t mctx, int sockid) try {
    MVNF_ROUTE(mctx, -1, mtcp_setsock_nonblock(mctx, sockid));
    socket_entry* s = lookup(mctx, sockid);
    if (!s) return -1;
    s->nonblock = true;
    return 0;
} catch (...) {
    return api_exception("mtcp_setsock_nonblock");
}

int mtcp_socket_ioctl(mctx_t mctx, int sockid, int request, void* argp) try {
    MVNF_ROUTE(mctx, -1, mtcp_socket_ioctl(mctx, sockid, request, argp));
    socket_entry* s = lookup(mctx, sockid);
    if (!s) return -1;
    if (!argp) return set_errno_ret(EFAULT);
    if (request == FIONBIO) {
        int on = 0;
        std::memcpy(&on, argp, sizeof on);
        s->nonblock = on != 0;
        return 0;
    }
    if (request != FIONREAD) return set_errno_ret(EINVAL);
    int n = 0;
    switch (s->kind) {
        case sock_kind::stream:
            if (s->h.valid())
                if (auto i = mctx->tcp->info(s->h)) n = int(i->recv_queued);
            break;
        case sock_kind::pipe: n = s->pipe_writer ? 0 : int(mctx->pipes[size_t(s->pipe)].len); break;
        case sock_kind::dgram: {
            // Linux: the size of the next datagram; we report whether one waits.
            n = mctx->st->udp_queued(s->udp) > 0 ? 1 : 0;
            break;
        }
        case sock_kind::listener:
        case sock_kind::epoll: return set_errno_ret(EINVAL);
        case sock_kind::unused: return set_errno_ret(EBADF);
    }
    std::memcpy(argp, &n, sizeof n);
    return 0;
} catch (...) {
    return api_exception("mtcp_socket_ioctl");
}

}  // extern "C"

// ---- mtcp_init_rss: mTCP's RSS-aware source ports. The replies of a flow
// reach the queue the port's symmetric hash picks; connect() keeps only
// ephemeral ports whose 4-tuple hashes to this context's queue.
#include "netio/rss/rss.hpp"

namespace mvnf::api {

static bool rss_port_ok(void* ctx, const tcp::four_tuple& t) {
    auto* c = static_cast<mtcp_context*>(ctx);
    netio::flow_key k;
    k.kind = netio::flow_kind::ipv4_ports;
    k.proto = 6;
    k.src = t.remote_ip, k.dst = t.local_ip;  // as the reply arrives
    k.sport = t.remote_port, k.dport = t.local_port;
    return netio::rss_pick_queue(k, c->rss_queues) == unsigned(c->cpu);
}

}  // namespace mvnf::api

extern "C" int mtcp_init_rss(mctx_t mctx, in_addr_t saddr_base, int num_addr, in_addr_t daddr,
                             in_addr_t dport) try {
    MVNF_ROUTE(mctx, -1, mtcp_init_rss(mctx, saddr_base, num_addr, daddr, dport));
    if (!enter(mctx)) return -1;
    (void)daddr, (void)dport;  // the filter hashes each candidate's real 4-tuple
    if (num_addr < 1) return set_errno_ret(EINVAL);
    const ipv4_addr base(ntohl(saddr_base));
    // One address per port here: the source must be ours (or INADDR_ANY).
    if (!base.is_any() && base != mctx->st->local_ip()) return set_errno_ret(EADDRNOTAVAIL);
    // Replies land on the queue the port's sender hashes to (hw: one per
    // port queue) or the core the dispatcher hashes to (sw: one per core).
    mctx->rss_queues = mctx->inst->conf.dist == cfg::dist_mode::sw
                           ? unsigned(mctx->inst->conf.num_cores)
                           : mctx->inst->ports[0]->num_queues();
    mctx->rss_filter = true;
    mctx->tcp->set_port_filter(&rss_port_ok, mctx);
    return 0;
} catch (...) {
    return api_exception("mtcp_init_rss");
}
