// mtcp.conf keys that shape the stack's limits and timers, checked through
// the public C API only: a key set in the file, or the same field of struct
// mtcp_conf set with mtcp_setconf, changes what the calls do. Two processes
// on one shm link where a peer is needed (api_harness.hpp).
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "api_harness.hpp"

using namespace api_test;

namespace {

using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point t0) {
    return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

// One key for our side, given either as a line of mtcp.conf or through
// mtcp_getconf / change the field / mtcp_setconf before mtcp_init (programs
// that read no file). An empty key leaves everything at its default.
enum class via { file, setconf };
struct setting {
    const char* key = nullptr;
    int mtcp_conf::*field = nullptr;
    int value = 0;
    via how = via::file;

    std::string str() const {
        if (!key) return "(defaults)";
        return std::string(how == via::file ? "mtcp.conf: " : "mtcp_setconf: ") + key + " = " +
               std::to_string(value);
    }
    // Writes our side's mtcp.conf for `link` and, for via::setconf, calls
    // mtcp_setconf. Call it after forking a peer (the child would inherit the
    // pending setconf).
    void apply(const std::string& link) const {
        const bool in_file = key && how == via::file;
        write_conf(link, true,
                   in_file ? std::string(key) + " = " + std::to_string(value) + "\n" : "");
        if (!key || in_file) return;
        mtcp_conf mc{};
        ASSERT_EQ(mtcp_getconf(&mc), 0);
        mc.*field = value;
        ASSERT_EQ(mtcp_setconf(&mc), 0) << str() << ": " << strerror(errno);
    }
};
setting fin_wait_2(int v, via how) {
    return {"tcp_fin_wait_2", &mtcp_conf::tcp_fin_wait_2, v, how};
}
setting max_listeners(int v, via how) {
    return {"max_listeners", &mtcp_conf::max_listeners, v, how};
}
setting arp_queue_len(int v, via how) {
    return {"arp_queue_len", &mtcp_conf::arp_queue_len, v, how};
}
setting drain_ms(int v, via how) {
    return {"destroy_drain_ms", &mtcp_conf::destroy_drain_ms, v, how};
}

uint64_t flows(mctx_t ctx) {
    mtcp_stats s{};
    EXPECT_EQ(mtcp_get_stats(ctx, &s), 0);
    return s.flows;
}

// Runs the context's stack for `ms` (an empty epoll instance's wait does).
void run_for(mctx_t ctx, int ep, int ms) {
    mtcp_epoll_event ev[1];
    const auto t0 = clock_type::now();
    while (ms_since(t0) < ms) (void)mtcp_epoll_wait(ctx, ep, ev, 1, 10);
}

// A pipe the parent uses to tell the forked peer to stop; the child polls it.
struct stop_pipe {
    int fd[2] = {-1, -1};
    stop_pipe() { EXPECT_EQ(pipe2(fd, O_NONBLOCK), 0); }
    ~stop_pipe() {
        for (int f : fd)
            if (f >= 0) close(f);
    }
    void stop() {
        char c = 1;
        (void)!write(fd[1], &c, 1);
    }
    bool stopped() const {
        pollfd p{fd[0], POLLIN, 0};
        return poll(&p, 1, 0) == 1;
    }
};

// Peer: accepts one connection on port_echo, reads until our FIN, then keeps
// its side open (CLOSE-WAIT: it never sends a FIN) and runs its stack until
// told to stop. Exit code 0 when it saw the EOF.
int accept_and_hold(mctx_t ctx, int ready_fd, const stop_pipe& sp) {
    const int ls = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
    auto a = addr("0.0.0.0", port_echo);
    if (ls < 0 || mtcp_bind(ctx, ls, sa(a), sizeof a) != 0 || mtcp_listen(ctx, ls, 4) != 0)
        return 10;
    signal_ready(ready_fd);
    const int s = mtcp_accept(ctx, ls, nullptr, nullptr);
    if (s < 0) return 11;
    char buf[256];
    while (true) {
        const ssize_t r = mtcp_read(ctx, s, buf, sizeof buf);
        if (r == 0) break;
        if (r < 0) return 12;
    }
    const int ep = mtcp_epoll_create1(ctx, 0);
    mtcp_epoll_event ev[1];
    const auto t0 = clock_type::now();
    while (!sp.stopped() && ms_since(t0) < 15000) (void)mtcp_epoll_wait(ctx, ep, ev, 1, 20);
    return 0;
}

// Connects to the peer, closes at once and measures how long our orphaned
// connection stays in use (it sits in FIN-WAIT-2: the peer acknowledged our
// FIN but sends none). Returns the milliseconds until flows dropped to 0, or
// -1 if it was still in use after `watch_ms`.
double orphan_lifetime_ms(const setting& fin_wait_2, int watch_ms) {
    stop_pipe sp;
    peer_process peer;
    peer.start(unique_link("fw2"), [&sp](mctx_t c, int fd) { return accept_and_hold(c, fd, sp); });
    fin_wait_2.apply(peer.link);  // our side only
    double freed_after = -1;
    {
        local_side me(peer.link);
        EXPECT_NE(me.ctx, nullptr);
        if (!me.ctx) return -2;
        const int s = mtcp_socket(me.ctx, AF_INET, SOCK_STREAM, 0);
        auto a = addr(ip_child, port_echo);
        EXPECT_EQ(mtcp_connect(me.ctx, s, sa(a), sizeof a), 0) << strerror(errno);
        EXPECT_EQ(mtcp_close(me.ctx, s), 0);
        const auto t0 = clock_type::now();
        const int ep = mtcp_epoll_create1(me.ctx, 0);
        while (ms_since(t0) < watch_ms) {
            run_for(me.ctx, ep, 20);
            if (flows(me.ctx) == 0) {
                freed_after = ms_since(t0);
                break;
            }
        }
        sp.stop();
    }
    EXPECT_EQ(peer.finish(), 0);
    return freed_after;
}

}  // namespace

// tcp_fin_wait_2 = 1: the orphan is freed about a second after the close
// (not at once, and long before the 60 s default).
void expect_orphan_freed_after_1s(via how) {
    const double t = orphan_lifetime_ms(fin_wait_2(1, how), 4000);
    EXPECT_GE(t, 900) << "freed before the FIN-WAIT-2 timeout";
    EXPECT_LE(t, 3000) << "not freed by tcp_fin_wait_2 = 1 (-1: never)";
}
TEST(ApiConfigKeys, FinWait2TimeoutFreesTheOrphan) {
    alarm(40);
    expect_orphan_freed_after_1s(via::file);
}
TEST(ApiConfigKeys, FinWait2TimeoutFreesTheOrphanSetconf) {
    alarm(40);
    expect_orphan_freed_after_1s(via::setconf);
}

// tcp_fin_wait_2 = 0: no FIN-WAIT-2 timeout; the orphan waits for the peer.
TEST(ApiConfigKeys, FinWait2ZeroKeepsTheOrphan) {
    alarm(40);
    EXPECT_EQ(orphan_lifetime_ms(fin_wait_2(0, via::file), 2000), -1);
}
TEST(ApiConfigKeys, FinWait2ZeroKeepsTheOrphanSetconf) {
    alarm(40);
    EXPECT_EQ(orphan_lifetime_ms(fin_wait_2(0, via::setconf), 2000), -1);
}

// Opens listeners on consecutive ports until listen fails; returns how many
// succeeded and the errno of the first failure (0 if none failed).
std::pair<int, int> fill_listeners(mctx_t ctx, int tries, std::vector<int>& socks) {
    for (int i = 0; i < tries; ++i) {
        const int s = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
        if (s < 0) return {i, errno};
        socks.push_back(s);
        auto a = addr("0.0.0.0", uint16_t(9000 + i));
        if (mtcp_bind(ctx, s, sa(a), sizeof a) != 0) return {i, errno};
        if (mtcp_listen(ctx, s, 8) != 0) return {i, errno};
    }
    return {tries, 0};
}

// max_listeners = N: N listeners work, the (N+1)th listen fails with ENOBUFS
// (POSIX listen(): insufficient resources), and closing one frees its place.
TEST(ApiConfigKeys, MaxListenersBoundsListen) {
    alarm(20);
    struct case_t {
        setting key;
        int n;
    } cases[] = {{{}, 16},
                 {max_listeners(3, via::file), 3},
                 {max_listeners(40, via::file), 40},
                 {max_listeners(3, via::setconf), 3},
                 {max_listeners(40, via::setconf), 40}};
    for (const auto& k : cases) {
        const std::string link = unique_link("lis");
        k.key.apply(link);
        local_side me(link);
        ASSERT_NE(me.ctx, nullptr) << k.key.str();
        std::vector<int> socks;
        auto [ok, e] = fill_listeners(me.ctx, k.n + 1, socks);
        EXPECT_EQ(ok, k.n) << k.key.str();
        EXPECT_EQ(e, ENOBUFS) << k.key.str() << strerror(e);
        // The refused socket stays usable: after closing a listener it listens.
        ASSERT_EQ(int(socks.size()), k.n + 1);
        EXPECT_EQ(mtcp_close(me.ctx, socks[0]), 0);
        EXPECT_EQ(mtcp_listen(me.ctx, socks.back(), 8), 0) << strerror(errno);
        // An unbound socket (ephemeral port) meets the same limit.
        const int extra = mtcp_socket(me.ctx, AF_INET, SOCK_STREAM, 0);
        ASSERT_GE(extra, 0);
        errno = 0;
        EXPECT_EQ(mtcp_listen(me.ctx, extra, 8), -1);
        EXPECT_EQ(errno, ENOBUFS);
    }
}

// The value of "key":N inside the object "section" of mtcp_get_stats_json.
long json_counter(mctx_t ctx, const std::string& section, const std::string& key) {
    char buf[8192];
    const int n = mtcp_get_stats_json(ctx, buf, sizeof buf);
    EXPECT_GT(n, 0);
    EXPECT_LT(n, int(sizeof buf));
    const std::string j(buf);
    const size_t sec = j.find("\"" + section + "\":{");
    if (sec == std::string::npos) return -1;
    const size_t k = j.find("\"" + key + "\":", sec);
    if (k == std::string::npos || k > j.find('}', sec)) return -1;
    return std::strtol(j.c_str() + k + key.size() + 3, nullptr, 10);
}

// arp_queue_len = N: datagrams to an address that does not answer ARP are
// held up to N; the rest are refused (EHOSTUNREACH) and counted in the arp
// counters' dropped_queue_full. No peer: nobody answers on the link. (The
// default, 1024, is as many frames as the port lends: the bound in bytes is
// tested with the resolver, tests/net/arp.)
TEST(ApiConfigKeys, ArpQueueLenBoundsHeldFrames) {
    alarm(20);
    struct case_t {
        setting key;
        int n;
    } cases[] = {{arp_queue_len(3, via::file), 3},
                 {arp_queue_len(40, via::file), 40},
                 {arp_queue_len(3, via::setconf), 3},
                 {arp_queue_len(40, via::setconf), 40}};
    for (const auto& k : cases) {
        const std::string link = unique_link("arpq");
        k.key.apply(link);
        local_side me(link);
        ASSERT_NE(me.ctx, nullptr) << k.key.str();
        const std::string line = k.key.str();
        const int u = mtcp_socket(me.ctx, AF_INET, SOCK_DGRAM, 0);
        ASSERT_GE(u, 0);
        auto silent = addr("10.9.0.77", 9);  // on-link, no static entry, no host
        int sent = 0, refused = 0;
        const int tries = k.n + 5;
        for (int i = 0; i < tries; ++i) {
            const ssize_t r = mudp_sendto(me.ctx, u, "x", 1, 0, sa(silent), sizeof silent);
            if (r == 1) {
                ++sent;
            } else {
                EXPECT_EQ(errno, EHOSTUNREACH) << strerror(errno);
                ++refused;
            }
        }
        EXPECT_EQ(sent, k.n) << line;
        EXPECT_EQ(refused, tries - k.n) << line;
        EXPECT_EQ(json_counter(me.ctx, "arp", "queued"), k.n) << line;
        EXPECT_EQ(json_counter(me.ctx, "arp", "dropped_queue_full"), tries - k.n) << line;
        EXPECT_EQ(json_counter(me.ctx, "arp", "dropped_pending_full"), 0);
        EXPECT_GE(json_counter(me.ctx, "arp", "requests_sent"), 1);
        // Another destination has a queue of its own.
        auto other = addr("10.9.0.78", 9);
        EXPECT_EQ(mudp_sendto(me.ctx, u, "y", 1, 0, sa(other), sizeof other), 1);
        EXPECT_EQ(mtcp_close(me.ctx, u), 0);
    }
}

// Peer: accepts one connection, lets it fill its receive window for
// `stall_ms` (running its stack, reading nothing), then reads it to EOF
// without closing its side (CLOSE-WAIT, so its own teardown has no FIN to wait
// for). Exit code 0 when exactly `expect` bytes arrived before the EOF; 14
// when nothing arrived for 3 s.
int read_to_eof(mctx_t ctx, int ready_fd, size_t expect, int stall_ms) {
    const int ls = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
    auto a = addr("0.0.0.0", port_echo);
    if (ls < 0 || mtcp_bind(ctx, ls, sa(a), sizeof a) != 0 || mtcp_listen(ctx, ls, 4) != 0)
        return 10;
    signal_ready(ready_fd);
    const int s = mtcp_accept(ctx, ls, nullptr, nullptr);
    if (s < 0) return 11;
    const int ep = mtcp_epoll_create1(ctx, 0);
    run_for(ctx, ep, stall_ms);
    mtcp_setsock_nonblock(ctx, s);
    mtcp_epoll_event ev{};
    ev.events = MTCP_EPOLLIN;
    ev.data.sockid = s;
    if (mtcp_epoll_ctl(ctx, ep, MTCP_EPOLL_CTL_ADD, s, &ev) != 0) return 12;
    static char buf[65536];
    size_t got = 0;
    while (true) {
        const ssize_t r = mtcp_read(ctx, s, buf, sizeof buf);
        if (r == 0) break;
        if (r > 0) {
            got += size_t(r);
        } else if (errno != EAGAIN) {
            return 13;
        } else if (mtcp_epoll_wait(ctx, ep, &ev, 1, 3000) != 1) {
            std::fprintf(stderr, "peer: stalled after %zu of %zu bytes\n", got, expect);
            return 14;
        }
    }
    return got == expect ? 0 : 15;
}

// Milliseconds mtcp_destroy_context takes (the context is gone afterwards).
double timed_destroy(local_side& me) {
    const auto t0 = clock_type::now();
    mtcp_destroy_context(me.ctx);
    me.ctx = nullptr;
    return ms_since(t0);
}

// The peer is alive but its window is closed at our close(): the data still
// in our send ring and the FIN reach it only because teardown keeps the stack
// running, and teardown ends as soon as the FIN is acknowledged, long before
// destroy_drain_ms, although another connection stays open (in use, with
// nothing to deliver).
void expect_destroy_delivers_then_returns_early(via how) {
    // The peer's window (rcvbuf 64 KiB) takes the first part; the rest waits
    // in our send ring until the peer reads, 300 ms after the handshake.
    constexpr size_t total = 100000;
    peer_process peer;
    peer.start(unique_link("drain"),
               [](mctx_t c, int fd) { return read_to_eof(c, fd, total, 300); });
    drain_ms(10000, how).apply(peer.link);
    double took = 0;
    {
        local_side me(peer.link);
        ASSERT_NE(me.ctx, nullptr);
        auto a = addr(ip_child, port_echo);
        const int s = mtcp_socket(me.ctx, AF_INET, SOCK_STREAM, 0);
        ASSERT_EQ(mtcp_connect(me.ctx, s, sa(a), sizeof a), 0) << strerror(errno);
        const int idle = mtcp_socket(me.ctx, AF_INET, SOCK_STREAM, 0);
        ASSERT_EQ(mtcp_connect(me.ctx, idle, sa(a), sizeof a), 0) << strerror(errno);
        static char data[total];
        for (size_t i = 0; i < total; ++i) data[i] = char(i * 7);
        ASSERT_EQ(mtcp_write(me.ctx, s, data, total), ssize_t(total));  // returns once queued
        ASSERT_EQ(mtcp_close(me.ctx, s), 0);
        took = timed_destroy(me);
    }
    EXPECT_EQ(peer.finish(), 0) << "the peer did not get every byte and the FIN";
    EXPECT_LT(took, 3000) << "teardown waited for more than the closed connection's FIN";
}
TEST(ApiConfigKeys, DestroyDeliversDataAndFinThenReturnsEarly) {
    alarm(40);
    expect_destroy_delivers_then_returns_early(via::file);
}
TEST(ApiConfigKeys, DestroyDeliversDataAndFinThenReturnsEarlySetconf) {
    alarm(40);
    expect_destroy_delivers_then_returns_early(via::setconf);
}

// Peer for the vanishing case: accepts, then only runs its stack until killed.
int accept_then_idle(mctx_t ctx, int ready_fd) {
    const int ls = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
    auto a = addr("0.0.0.0", port_echo);
    if (ls < 0 || mtcp_bind(ctx, ls, sa(a), sizeof a) != 0 || mtcp_listen(ctx, ls, 4) != 0)
        return 10;
    signal_ready(ready_fd);
    if (mtcp_accept(ctx, ls, nullptr, nullptr) < 0) return 11;
    const int ep = mtcp_epoll_create1(ctx, 0);
    mtcp_epoll_event ev[1];
    const auto t0 = clock_type::now();
    while (ms_since(t0) < 15000) (void)mtcp_epoll_wait(ctx, ep, ev, 1, 50);
    return 0;
}

// The peer vanished after the handshake: our data and FIN are never
// acknowledged, and teardown gives up at destroy_drain_ms (0: at once).
void expect_destroy_bounded(via how) {
    for (int bound : {300, 0}) {
        peer_process peer;
        peer.start(unique_link("gone"), accept_then_idle);
        drain_ms(bound, how).apply(peer.link);
        local_side me(peer.link);
        ASSERT_NE(me.ctx, nullptr);
        auto a = addr(ip_child, port_echo);
        const int s = mtcp_socket(me.ctx, AF_INET, SOCK_STREAM, 0);
        ASSERT_EQ(mtcp_connect(me.ctx, s, sa(a), sizeof a), 0) << strerror(errno);
        kill(peer.pid, SIGKILL);
        peer.finish();
        ASSERT_EQ(mtcp_write(me.ctx, s, "last words", 10), 10);
        ASSERT_EQ(mtcp_close(me.ctx, s), 0);
        const double took = timed_destroy(me);
        if (bound > 0) {
            EXPECT_GE(took, bound - 20) << "gave up before destroy_drain_ms";
        }
        EXPECT_LT(took, bound + 700) << drain_ms(bound, how).str();
    }
}
TEST(ApiConfigKeys, DestroyIsBoundedWhenThePeerIsGone) {
    alarm(40);
    expect_destroy_bounded(via::file);
}
TEST(ApiConfigKeys, DestroyIsBoundedWhenThePeerIsGoneSetconf) {
    alarm(40);
    expect_destroy_bounded(via::setconf);
}

// A bad value stops mtcp_init with EINVAL (the message names the key).
TEST(ApiConfigKeys, BadValuesFailInit) {
    for (const char* line :
         {"tcp_fin_wait_2 = -1\n", "tcp_fin_wait_2 = soon\n", "max_listeners = 0\n",
          "max_listeners = 1025\n", "max_listeners = 1024\nsyn_backlog = 65536\n",
          "arp_queue_len = 0\n", "arp_queue_len = 1025\n", "destroy_drain_ms = -1\n",
          "destroy_drain_ms = 60001\n", "tcp_ecn = 3\n", "tcp_ecn = on\n"}) {
        const std::string link = unique_link("bad");
        const std::string conf = write_conf(link, true, line);
        errno = 0;
        EXPECT_EQ(mtcp_init(conf.c_str()), -1) << line;
        EXPECT_EQ(errno, EINVAL) << line;
        mtcp_destroy();
    }
}

// mtcp_getconf before mtcp_init gives the defaults of docs/configuration.md;
// after it, the running values, whether they came from the file or from
// mtcp_setconf (which wins where its field differs from the default).
TEST(ApiConfigKeys, GetconfReportsDefaultsFileAndSetconf) {
    mtcp_conf mc{};
    ASSERT_EQ(mtcp_getconf(&mc), 0);
    EXPECT_EQ(mc.tcp_fin_wait_2, 60);
    EXPECT_EQ(mc.max_listeners, 16);
    EXPECT_EQ(mc.arp_queue_len, 1024);
    EXPECT_EQ(mc.destroy_drain_ms, 2000);

    const std::string file_keys =
        "tcp_fin_wait_2 = 7\nmax_listeners = 3\narp_queue_len = 5\ndestroy_drain_ms = 9\n";
    {
        const std::string link = unique_link("get");
        write_conf(link, true, file_keys);
        local_side me(link);
        ASSERT_EQ(mtcp_getconf(&mc), 0);
        EXPECT_EQ(mc.tcp_fin_wait_2, 7);
        EXPECT_EQ(mc.max_listeners, 3);
        EXPECT_EQ(mc.arp_queue_len, 5);
        EXPECT_EQ(mc.destroy_drain_ms, 9);
    }
    // A program changes one field: the file keeps the others.
    {
        const std::string link = unique_link("get");
        write_conf(link, true, file_keys);
        ASSERT_EQ(mtcp_getconf(&mc), 0);
        EXPECT_EQ(mc.max_listeners, 16);  // the default: the file is not read yet
        mc.max_listeners = 5;
        ASSERT_EQ(mtcp_setconf(&mc), 0);
        mtcp_conf pending{};
        ASSERT_EQ(mtcp_getconf(&pending), 0);
        EXPECT_EQ(pending.max_listeners, 5);
        local_side me(link);
        ASSERT_EQ(mtcp_getconf(&mc), 0);
        EXPECT_EQ(mc.max_listeners, 5);
        EXPECT_EQ(mc.tcp_fin_wait_2, 7);
        EXPECT_EQ(mc.arp_queue_len, 5);
        EXPECT_EQ(mc.destroy_drain_ms, 9);
    }
    // Every field through setconf, no key in the file.
    {
        const std::string link = unique_link("get");
        write_conf(link, true);
        ASSERT_EQ(mtcp_getconf(&mc), 0);
        mc.tcp_fin_wait_2 = 0;
        mc.max_listeners = 1024;
        mc.arp_queue_len = 1;
        mc.destroy_drain_ms = 60000;
        ASSERT_EQ(mtcp_setconf(&mc), 0);
        local_side me(link);
        ASSERT_EQ(mtcp_getconf(&mc), 0);
        EXPECT_EQ(mc.tcp_fin_wait_2, 0);
        EXPECT_EQ(mc.max_listeners, 1024);
        EXPECT_EQ(mc.arp_queue_len, 1);
        EXPECT_EQ(mc.destroy_drain_ms, 60000);
    }
}

// mtcp_setconf refuses what mtcp.conf refuses (-1, EINVAL) and keeps what it
// had; the edges of each range are accepted.
TEST(ApiConfigKeys, SetconfRejectsBadValues) {
    struct case_t {
        setting key;
        bool ok;
    } cases[] = {
        {fin_wait_2(-1, via::setconf), false},      {fin_wait_2(86401, via::setconf), false},
        {fin_wait_2(0, via::setconf), true},        {fin_wait_2(86400, via::setconf), true},
        {max_listeners(0, via::setconf), false},    {max_listeners(-5, via::setconf), false},
        {max_listeners(1025, via::setconf), false}, {max_listeners(1, via::setconf), true},
        {max_listeners(1024, via::setconf), true},  {arp_queue_len(0, via::setconf), false},
        {arp_queue_len(1025, via::setconf), false}, {arp_queue_len(1, via::setconf), true},
        {arp_queue_len(1024, via::setconf), true},  {drain_ms(-1, via::setconf), false},
        {drain_ms(60001, via::setconf), false},     {drain_ms(0, via::setconf), true},
        {drain_ms(60000, via::setconf), true},
    };
    for (const auto& k : cases) {
        mtcp_conf before{};
        ASSERT_EQ(mtcp_getconf(&before), 0);
        mtcp_conf mc = before;
        mc.*k.key.field = k.key.value;
        errno = 0;
        testing::internal::CaptureStderr();
        const int rc = mtcp_setconf(&mc);
        const int e = errno;
        const std::string msg = testing::internal::GetCapturedStderr();
        mtcp_conf after{};
        ASSERT_EQ(mtcp_getconf(&after), 0);
        if (k.ok) {
            EXPECT_EQ(rc, 0) << k.key.str() << ": " << msg;
            EXPECT_EQ(after.*k.key.field, k.key.value) << k.key.str();
        } else {
            EXPECT_EQ(rc, -1) << k.key.str();
            EXPECT_EQ(e, EINVAL) << k.key.str();
            EXPECT_NE(msg.find(k.key.key), std::string::npos) << k.key.str() << ": " << msg;
            EXPECT_EQ(after.*k.key.field, before.*k.key.field) << k.key.str() << " was kept";
        }
    }
    // Limits that involve file keys are checked by mtcp_init, as for a file:
    // 1024 listeners x syn_backlog 65536 exceed the accept-queue bound.
    const std::string link = unique_link("bad");
    const std::string conf = write_conf(link, true, "syn_backlog = 65536\n");
    mtcp_conf mc{};
    ASSERT_EQ(mtcp_getconf(&mc), 0);
    mc.max_listeners = 1024;
    ASSERT_EQ(mtcp_setconf(&mc), 0);
    testing::internal::CaptureStderr();
    errno = 0;
    EXPECT_EQ(mtcp_init(conf.c_str()), -1);
    EXPECT_EQ(errno, EINVAL);
    const std::string msg = testing::internal::GetCapturedStderr();
    EXPECT_NE(msg.find("max_listeners (1024) x syn_backlog"), std::string::npos) << msg;
    // Back to no override: a field equal to its default does not override.
    mc = {};
    ASSERT_EQ(mtcp_getconf(&mc), 0);
    mc.tcp_fin_wait_2 = 60;
    mc.max_listeners = 16;
    mc.arp_queue_len = 16;
    mc.destroy_drain_ms = 2000;
    ASSERT_EQ(mtcp_setconf(&mc), 0);
    local_side me(link);
    ASSERT_NE(me.ctx, nullptr);
}

// mTCP's seven fields keep mTCP's offsets; this project's follow them, in the
// order documented in docs/api.md (new fields are only appended).
TEST(ApiConfigKeys, MtcpConfLayout) {
    const size_t offsets[] = {
        offsetof(mtcp_conf, num_cores),        offsetof(mtcp_conf, max_concurrency),
        offsetof(mtcp_conf, max_num_buffers),  offsetof(mtcp_conf, rcvbuf_size),
        offsetof(mtcp_conf, sndbuf_size),      offsetof(mtcp_conf, tcp_timewait),
        offsetof(mtcp_conf, tcp_timeout),      offsetof(mtcp_conf, tcp_fin_wait_2),
        offsetof(mtcp_conf, max_listeners),    offsetof(mtcp_conf, arp_queue_len),
        offsetof(mtcp_conf, destroy_drain_ms),
    };
    for (size_t i = 0; i < std::size(offsets); ++i) EXPECT_EQ(offsets[i], i * sizeof(int)) << i;
    EXPECT_EQ(sizeof(mtcp_conf), std::size(offsets) * sizeof(int));
}
