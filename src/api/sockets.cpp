// The per-context socket table: sockid allocation, the tcp handle -> sockid
// map, current readiness of any socket kind as MTCP_EPOLL* bits, and the epoll
// ready lists that notify() feeds. Called by every file of the C API.
#include <cstring>

#include "api/context.hpp"
#include "mtcp/mtcp_epoll.h"

namespace mvnf::api {

int map_tcp_error(tcp::error e) {
    switch (e) {
        case tcp::error::none: return 0;
        case tcp::error::would_block: return EAGAIN;
        case tcp::error::in_progress: return EINPROGRESS;
        case tcp::error::invalid: return EINVAL;
        case tcp::error::not_connected: return ENOTCONN;
        case tcp::error::already_connected: return EISCONN;
        case tcp::error::address_in_use: return EADDRINUSE;
        case tcp::error::no_resources: return ENOBUFS;
        case tcp::error::connection_refused: return ECONNREFUSED;
        case tcp::error::connection_reset: return ECONNRESET;
        case tcp::error::timed_out: return ETIMEDOUT;
        case tcp::error::broken_pipe: return EPIPE;
    }
    return EIO;
}

bool read_sockaddr(const struct sockaddr* a, socklen_t len, ipv4_addr& ip, uint16_t& port,
                   int& error_out) {
    if (!a || len < socklen_t(sizeof(sockaddr_in))) {
        error_out = EINVAL;
        return false;
    }
    sockaddr_in in;
    std::memcpy(&in, a, sizeof in);
    if (in.sin_family != AF_INET) {
        error_out = EAFNOSUPPORT;
        return false;
    }
    ip = ipv4_addr(ntohl(in.sin_addr.s_addr));
    port = ntohs(in.sin_port);
    return true;
}

void write_sockaddr(struct sockaddr* a, socklen_t* len, ipv4_addr ip, uint16_t port) {
    if (!a || !len) return;
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(ip.v);
    in.sin_port = htons(port);
    // POSIX: truncate to the caller's size and report the full size.
    std::memcpy(a, &in, std::min<size_t>(*len, sizeof in));
    *len = sizeof in;
}

}  // namespace mvnf::api

using namespace mvnf;
using namespace mvnf::api;

int mtcp_context::alloc_sock(sock_kind k) {
    if (free_count == 0) return -1;
    const int id = free_socks[free_head];
    free_head = (free_head + 1) % free_socks.size();
    --free_count;
    socket_entry& s = socks[size_t(id)];
    s = socket_entry{};
    s.kind = k;
    s.cc = inst->conf.cc == cfg::congestion::reno ? tcp::congestion_algo::reno
                                                  : tcp::congestion_algo::cubic;
    return id;
}

void mtcp_context::free_sock(int id) {
    socket_entry& s = socks[size_t(id)];
    if (s.kind == sock_kind::unused) return;  // already free: never queued twice
    if (s.h.valid() && s.h.index < handle_to_sock.size() && handle_to_sock[s.h.index] == id)
        handle_to_sock[s.h.index] = -1;
    if (s.kind == sock_kind::dgram)
        for (size_t i = 0; i < udp_socks.size(); ++i)
            if (udp_socks[i] == id) {
                udp_socks[i] = udp_socks.back();
                udp_socks.pop_back();
                break;
            }
    s = socket_entry{};
    free_socks[(free_head + free_count) % free_socks.size()] = id;
    ++free_count;
}

void mtcp_context::map_handle(int sockid, tcp::handle h) {
    socks[size_t(sockid)].h = h;
    if (h.index < handle_to_sock.size()) handle_to_sock[h.index] = sockid;
}

bool mtcp_context::fin_unacked(tcp::handle h) const {
    const auto i = tcp->info(h);
    return i && (i->st == tcp::state::fin_wait_1 || i->st == tcp::state::closing ||
                 i->st == tcp::state::last_ack);
}

void mtcp_context::note_closed(tcp::handle h) {
    // Connection slots only (listener handles come after them).
    if (h.index >= closed_gen.size() || !fin_unacked(h)) return;
    handle_to_sock[h.index] = closed_mark;
    closed_gen[h.index] = h.gen;
}

// Linux's rules, per kind, in MTCP_EPOLL* bits.
uint32_t mtcp_context::poll_events(int sockid) {
    socket_entry* s = sock(sockid);
    if (!s) return 0;
    uint32_t r = 0;
    switch (s->kind) {
        case sock_kind::listener:
            if (tcp->readiness(s->h) & tcp::ev::readable) r |= MTCP_EPOLLIN;
            break;
        case sock_kind::stream: {
            if (!s->h.valid()) return MTCP_EPOLLOUT | MTCP_EPOLLHUP;  // never connected
            if (s->connecting) return 0;
            const uint32_t t = tcp->readiness(s->h);
            if (t & tcp::ev::readable) r |= MTCP_EPOLLIN;
            if (t & tcp::ev::writable) r |= MTCP_EPOLLOUT;
            if (t & tcp::ev::hangup) r |= MTCP_EPOLLRDHUP | MTCP_EPOLLIN;
            if (t & tcp::ev::closed) r |= MTCP_EPOLLHUP;
            if ((t & tcp::ev::error) || s->so_error) r |= MTCP_EPOLLERR;
            if (s->shut_rd) r |= MTCP_EPOLLIN | MTCP_EPOLLRDHUP;
            if (s->shut_wr && (t & tcp::ev::hangup)) r |= MTCP_EPOLLHUP;
            break;
        }
        case sock_kind::dgram:
            r |= MTCP_EPOLLOUT;  // sendto copies: there is always room
            if (st->udp_queued(s->udp) > 0) r |= MTCP_EPOLLIN;
            break;
        case sock_kind::pipe: {
            pipe_buf& p = pipes[size_t(s->pipe)];
            if (s->pipe_writer) {
                if (p.read_closed) r |= MTCP_EPOLLERR | MTCP_EPOLLOUT;
                else if (p.len < p.data.size()) r |= MTCP_EPOLLOUT;
            } else {
                if (p.len > 0) r |= MTCP_EPOLLIN;
                if (p.write_closed) r |= MTCP_EPOLLHUP;
            }
            break;
        }
        case sock_kind::epoll:
            if (s->ready_head >= 0) r |= MTCP_EPOLLIN;
            break;
        case sock_kind::unused: break;
    }
    return r;
}

static epoll_reg& reg_at(mtcp_context& c, int rid) {
    return c.socks[size_t(rid / max_regs)].regs[size_t(rid % max_regs)];
}

void mvnf::api::ready_push(mtcp_context& c, int rid) {
    epoll_reg& r = reg_at(c, rid);
    if (r.queued) return;
    socket_entry& ep = c.socks[size_t(r.epid)];
    r.queued = true;
    r.prev = ep.ready_tail;
    r.next = -1;
    if (ep.ready_tail >= 0) reg_at(c, ep.ready_tail).next = rid;
    else ep.ready_head = rid;
    ep.ready_tail = rid;
}

void mvnf::api::ready_remove(mtcp_context& c, int rid) {
    epoll_reg& r = reg_at(c, rid);
    if (!r.queued) return;
    socket_entry& ep = c.socks[size_t(r.epid)];
    if (r.prev >= 0) reg_at(c, r.prev).next = r.next;
    else ep.ready_head = r.next;
    if (r.next >= 0) reg_at(c, r.next).prev = r.prev;
    else ep.ready_tail = r.prev;
    r.queued = false;
    r.prev = r.next = -1;
}

epoll_reg& mvnf::api::registration(mtcp_context& c, int rid) { return reg_at(c, rid); }

void mtcp_context::notify(int sockid) {
    socket_entry* s = sock(sockid);
    if (!s) return;
    for (int i = 0; i < max_regs; ++i) {
        epoll_reg& r = s->regs[size_t(i)];
        if (r.epid >= 0 && !r.disabled) ready_push(*this, sockid * max_regs + i);
    }
}

void mtcp_context::unregister_all(int sockid) {
    socket_entry& s = socks[size_t(sockid)];
    for (int i = 0; i < max_regs; ++i) {
        epoll_reg& r = s.regs[size_t(i)];
        if (r.epid < 0) continue;
        ready_remove(*this, sockid * max_regs + i);
        r = epoll_reg{};
    }
    if (s.kind == sock_kind::epoll) {
        // Closing an epoll instance drops every registration in it.
        for (size_t id = 0; id < socks.size(); ++id)
            for (int i = 0; i < max_regs; ++i) {
                epoll_reg& r = socks[id].regs[size_t(i)];
                if (r.epid != sockid) continue;
                ready_remove(*this, int(id) * max_regs + i);
                r = epoll_reg{};
            }
    }
}
