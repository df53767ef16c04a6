// UDP echo over this project's stack through the public C API (mudp_*), for
// the interop test against the Linux kernel.
//
//   udp_echo server CONF PORT SECONDS
//       echoes every datagram back to its sender until SECONDS pass
//   udp_echo client CONF ADDR PORT COUNT SIZE
//       sends COUNT datagrams of SIZE bytes (sequence number + pattern), in
//       windows of 32, and resends each one not echoed within 300 ms (up to
//       20 times), so loss on the link does not fail the test but every
//       datagram must come back intact. SIZE above the MTU exercises IPv4
//       fragmentation and reassembly both ways.
// Prints one JSON line; exit 0 only if every datagram came back intact.
#include <arpa/inet.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/clock.hpp"
#include "mtcp/mtcp_api.h"
#include "mtcp/mtcp_epoll.h"
#include "mtcp/mudp_api.h"

namespace {

int64_t now_ms() { return mvnf::monotonic_ns() / 1'000'000; }

// Byte i of datagram `seq`: the sequence number in the first 4 bytes, then a
// pattern that differs per datagram and per offset.
void fill(uint8_t* p, size_t len, uint32_t seq) {
    for (size_t i = 0; i < len; ++i) p[i] = uint8_t((seq * 131u + i * 7u) ^ (i >> 8));
    if (len >= 4) std::memcpy(p, &seq, 4);
}

int usage() {
    std::fprintf(stderr,
                 "usage: udp_echo server CONF PORT SECONDS\n"
                 "       udp_echo client CONF ADDR PORT COUNT SIZE\n");
    return 2;
}

struct stack {
    mctx_t ctx = nullptr;
    int sock = -1, ep = -1;
};

bool open_stack(const char* conf, uint16_t port, stack& s) {
    if (mtcp_init(conf) != 0) return std::perror("mtcp_init"), false;
    s.ctx = mtcp_create_context(0);
    if (!s.ctx) return std::perror("mtcp_create_context"), false;
    s.sock = mtcp_socket(s.ctx, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (s.sock < 0) return std::perror("mtcp_socket"), false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (mtcp_bind(s.ctx, s.sock, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        return std::perror("mtcp_bind"), false;
    s.ep = mtcp_epoll_create(s.ctx, 4);
    mtcp_epoll_event ev{};
    ev.events = MTCP_EPOLLIN;
    ev.data.sockid = s.sock;
    if (s.ep < 0 || mtcp_epoll_ctl(s.ctx, s.ep, MTCP_EPOLL_CTL_ADD, s.sock, &ev) != 0)
        return std::perror("mtcp_epoll"), false;
    return true;
}

void close_stack(stack& s) {
    mtcp_close(s.ctx, s.ep);
    mudp_close(s.ctx, s.sock);
    mtcp_destroy_context(s.ctx);
    mtcp_destroy();
}

int server(const char* conf, uint16_t port, int seconds) {
    stack s;
    if (!open_stack(conf, port, s)) return 1;
    std::printf("udp_echo: listening on port %u\n", port);
    std::fflush(stdout);
    std::vector<uint8_t> buf(65536);
    uint64_t echoed = 0, bytes = 0, send_errors = 0;
    const int64_t end = now_ms() + int64_t(seconds) * 1000;
    mtcp_epoll_event evs[4];
    while (now_ms() < end) {
        mtcp_epoll_wait(s.ctx, s.ep, evs, 4, 100);
        for (int k = 0; k < 256; ++k) {  // bounded per wake-up
            sockaddr_in from{};
            socklen_t fl = sizeof from;
            ssize_t n = mudp_recvfrom(s.ctx, s.sock, buf.data(), buf.size(), 0,
                                      reinterpret_cast<sockaddr*>(&from), &fl);
            if (n < 0) break;
            if (mudp_sendto(s.ctx, s.sock, buf.data(), size_t(n), 0,
                            reinterpret_cast<sockaddr*>(&from), fl) == n) {
                ++echoed;
                bytes += uint64_t(n);
            } else {
                ++send_errors;
            }
        }
    }
    std::printf("{\"mode\":\"server\",\"echoed\":%" PRIu64 ",\"bytes\":%" PRIu64
                ",\"send_errors\":%" PRIu64 "}\n",
                echoed, bytes, send_errors);
    close_stack(s);
    return 0;
}

int client(const char* conf, const char* addr, uint16_t port, uint32_t count, size_t size) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    if (inet_pton(AF_INET, addr, &to.sin_addr) != 1) return usage();
    stack s;
    if (!open_stack(conf, 40000, s)) return 1;
    std::vector<uint8_t> out(size), in(65536), want(size);
    std::vector<uint8_t> done(count, 0), tries(count, 0);
    uint32_t echoed = 0, next = 0;
    uint64_t sent = 0, bad = 0, dup = 0;
    const int64_t start = now_ms(), deadline = start + 120'000;
    mtcp_epoll_event evs[4];
    bool gave_up = false;
    while (echoed < count && !gave_up && now_ms() < deadline) {
        // A window: the next 32 datagrams not yet echoed from `next` on.
        std::vector<uint32_t> window;
        for (uint32_t q = next; q < count && window.size() < 32; ++q)
            if (!done[q]) window.push_back(q);
        for (uint32_t q : window) {
            if (++tries[q] > 20) {
                gave_up = true;
                break;
            }
            fill(out.data(), size, q);
            if (mudp_sendto(s.ctx, s.sock, out.data(), size, 0, reinterpret_cast<sockaddr*>(&to),
                            sizeof to) == ssize_t(size))
                ++sent;
        }
        const int64_t wait_end = now_ms() + 300;
        uint32_t pending = uint32_t(window.size());
        while (pending > 0 && now_ms() < wait_end) {
            mtcp_epoll_wait(s.ctx, s.ep, evs, 4, 20);
            for (int k = 0; k < 256; ++k) {
                ssize_t n = mudp_recvfrom(s.ctx, s.sock, in.data(), in.size(), 0, nullptr, nullptr);
                if (n < 0) break;
                uint32_t q = 0;
                if (size_t(n) != size || n < 4) {
                    ++bad;
                    continue;
                }
                std::memcpy(&q, in.data(), 4);
                fill(want.data(), size, q);
                if (q >= count || std::memcmp(in.data(), want.data(), size) != 0) {
                    ++bad;
                    continue;
                }
                if (done[q]) {
                    ++dup;
                    continue;
                }
                done[q] = 1;
                ++echoed;
                for (uint32_t w : window)
                    if (w == q) --pending;
            }
        }
        while (next < count && done[next]) ++next;
    }
    const double secs = double(now_ms() - start) / 1000;
    std::printf("{\"mode\":\"client\",\"count\":%u,\"size\":%zu,\"echoed\":%u,\"sent\":%" PRIu64
                ",\"resent\":%" PRIu64 ",\"bad\":%" PRIu64 ",\"duplicates\":%" PRIu64
                ",\"seconds\":%.2f}\n",
                count, size, echoed, sent, sent - echoed, bad, dup, secs);
    close_stack(s);
    return echoed == count && bad == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 5 && std::strcmp(argv[1], "server") == 0)
        return server(argv[2], uint16_t(std::atoi(argv[3])), std::atoi(argv[4]));
    if (argc == 7 && std::strcmp(argv[1], "client") == 0) {
        long count = std::atol(argv[5]), size = std::atol(argv[6]);
        if (count <= 0 || count > 1000000 || size < 4 || size > 65507) return usage();
        return client(argv[2], argv[3], uint16_t(std::atoi(argv[4])), uint32_t(count),
                      size_t(size));
    }
    return usage();
}
