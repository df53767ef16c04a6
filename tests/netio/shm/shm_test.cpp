// shm link tests: open arguments and claims, buffer lending and return,
// software RSS across two processes (fork) for 1..8 queues, blocking wait,
// peer close and peer death, stale-region recovery, jumbo frames.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "netio/port.hpp"
#include "netio/rss/rss.hpp"
#include "netio/shm/shm_port.hpp"
#include "test_frames.hpp"

using namespace mvnf;
using namespace mvnf::netio;

namespace {

class Shm : public ::testing::Test {
protected:
    void SetUp() override {
        static int counter = 0;
        _name = "t" + std::to_string(getpid()) + "_" + std::to_string(counter++);
    }
    void TearDown() override { shm_unlink(shm::region::object_name(_name).c_str()); }
    std::string spec() const { return "shm:" + _name; }
    bool exists() const {
        return access(("/dev/shm" + shm::region::object_name(_name)).c_str(), F_OK) == 0;
    }
    std::unique_ptr<port> open(const port_config& cfg = {}) {
        auto r = open_port(spec(), cfg);
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return r ? std::move(*r) : nullptr;
    }
    std::string _name;
};

// True while a thread sleeps (or is about to) in wait() on queue q of p: the
// flag the producer checks, read without touching the queue's own stats.
bool is_sleeping(port& p, unsigned q) {
    auto& sp = dynamic_cast<shm::shm_port&>(p);
    return sp.reg().wake(sp.end(), q).sleeping.load() != 0;
}
void until_sleeping(port& p, unsigned q) {
    while (!is_sleeping(p, q)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// Sends frames seq [from, to) on queue q, retrying until buffers come back.
void send_frames(queue& q, uint64_t from, uint64_t to, uint32_t len) {
    packet pk[32];
    for (uint64_t seq = from; seq < to;) {
        unsigned want = unsigned(std::min<uint64_t>(32, to - seq));
        unsigned n = q.alloc_tx(std::span(pk, want));
        for (unsigned k = 0; k < n; ++k) {
            test::build_udp_frame(pk[k].data, len, seq + k, uint16_t(1024 + (seq + k) * 7919 % 60000));
            pk[k].len = len;
        }
        unsigned sent = q.tx_burst(std::span(pk, n));
        if (sent < n) q.free_tx(std::span(pk + sent, n - sent));
        seq += sent;
        if (n == 0) std::this_thread::yield();
    }
}

}  // namespace

TEST_F(Shm, OpenChecksArguments) {
    port_config cfg;
    cfg.mtu = 2040;  // 2040 + 18 > 2048
    auto r = open_port(spec(), cfg);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::bad_config);
    EXPECT_NE(r.error().message.find("MTU"), std::string::npos) << r.error().message;
    EXPECT_FALSE(exists());

    cfg = {};
    cfg.num_queues = 64;
    cfg.ring_size = 65536;
    cfg.buf_size = 9216;
    r = open_port(spec(), cfg);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::bad_config);
    EXPECT_NE(r.error().message.find("MiB"), std::string::npos) << r.error().message;
}

TEST_F(Shm, ClaimsMismatchAndThirdOpener) {
    port_config cfg;
    cfg.num_queues = 2;
    auto a = open(cfg);
    ASSERT_TRUE(a);
    EXPECT_FALSE(a->peer_alive());  // nobody on the other end yet
    port_config other = cfg;
    other.num_queues = 4;
    auto bad = open_port(spec(), other);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, errc::bad_config);
    EXPECT_NE(bad.error().message.find("queue count"), std::string::npos) << bad.error().message;
    other = cfg;
    other.buf_size = 4096;
    bad = open_port(spec(), other);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("buffer size"), std::string::npos);

    auto b = open(cfg);
    ASSERT_TRUE(b);
    EXPECT_TRUE(a->peer_alive());
    EXPECT_TRUE(b->peer_alive());
    auto c = open_port(spec(), cfg);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, errc::busy);

    // Stable, locally administered, distinct MACs; info filled in.
    EXPECT_EQ(a->info().mac.b[0] & 3, 2);
    EXPECT_NE(a->info().mac, b->info().mac);
    EXPECT_EQ(a->info().mtu, 1500u);
    EXPECT_EQ(a->info().backend, "shm");
    EXPECT_TRUE(a->info().zero_copy);
    auto mac_a = a->info().mac;

    b.reset();
    EXPECT_FALSE(a->peer_alive());
    EXPECT_TRUE(exists());  // a still holds the link
    a.reset();
    EXPECT_FALSE(exists());  // last closer unlinked the name
    // A fresh session gets the same MAC for the same name and end.
    a = open(cfg);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->info().mac, mac_a);
}

TEST_F(Shm, BuffersAreLentAndReturned) {
    port_config cfg;
    cfg.ring_size = 64;
    auto a = open(cfg);
    auto b = open(cfg);
    ASSERT_TRUE(a && b);
    queue& tx = a->q(0);
    queue& rx = b->q(0);
    EXPECT_FALSE(rx.wait(0));

    // The pool holds exactly ring_size buffers.
    std::vector<packet> all(100);
    unsigned got = tx.alloc_tx(all);
    EXPECT_EQ(got, 64u);
    for (unsigned k = 0; k < got; ++k) EXPECT_EQ(all[k].len, 2048u);
    packet none[1];
    EXPECT_EQ(tx.alloc_tx(none), 0u);
    tx.free_tx(std::span(all.data(), got));

    // Bad frames are refused, a prefix is accepted.
    packet p[2];
    ASSERT_EQ(tx.alloc_tx(p), 2u);
    test::build_udp_frame(p[0].data, 60, 1, 1000);
    p[0].len = 60;
    p[1].len = 5000;  // beyond the buffer
    EXPECT_EQ(tx.tx_burst(p), 1u);
    tx.free_tx(std::span(p + 1, 1));
    packet forged{p[1].data, 60, 999999};
    EXPECT_EQ(tx.tx_burst(std::span(&forged, 1)), 0u);

    // Many times the pool size goes through: buffers must come back.
    uint64_t total = 64 * 50, next = 0;
    packet in[32];
    ASSERT_EQ(rx.rx_burst(in), 1u);
    EXPECT_EQ(test::check_udp_frame(in[0].data, in[0].len), 1);
    rx.release(std::span(in, 1));
    std::vector<int> seen(total, 0);
    uint64_t sent = 0;
    while (next < total) {
        packet out[16];
        unsigned n = tx.alloc_tx(out);
        for (unsigned k = 0; k < n && sent < total; ++k) {
            test::build_udp_frame(out[k].data, 128, sent, uint16_t(sent));
            out[k].len = 128;
            EXPECT_EQ(tx.tx_burst(std::span(out + k, 1)), 1u);
            ++sent;
        }
        unsigned r = rx.rx_burst(in);
        for (unsigned k = 0; k < r; ++k) {
            int64_t s = test::check_udp_frame(in[k].data, in[k].len);
            ASSERT_GE(s, 0);
            ASSERT_LT(uint64_t(s), total);
            EXPECT_EQ(++seen[size_t(s)], 1);
            ++next;
        }
        rx.release(std::span(in, r));
    }
    EXPECT_EQ(rx.stats().rx_packets, total + 1);
    EXPECT_EQ(tx.stats().tx_packets, total + 1);
    EXPECT_EQ(tx.stats().tx_dropped, 2u);  // the two refusals above
    // Everything is back in the pool.
    EXPECT_EQ(tx.alloc_tx(all), 64u);
    tx.free_tx(std::span(all.data(), 64));
}

TEST_F(Shm, WaitBlocksAndWakes) {
    auto a = open();
    auto b = open();
    ASSERT_TRUE(a && b);
    // Times out with nothing to read.
    EXPECT_FALSE(b->q(0).wait(2'000'000));
    std::atomic<bool> woke{false};
    std::thread receiver([&] {
        woke = b->q(0).wait(-1);
    });
    // Let the receiver announce it sleeps, then send: exactly one wakeup.
    until_sleeping(*b, 0);
    send_frames(a->q(0), 0, 1, 64);
    receiver.join();
    EXPECT_TRUE(woke);
    // One wakeup at most: zero if the frame landed while the receiver was
    // between two of its periodic (peer-liveness) sleeps.
    const uint64_t wakeups = a->q(0).stats().wakeups;
    EXPECT_LE(wakeups, 1u);
    // While the receiver is awake, sending costs no wakeups.
    send_frames(a->q(0), 1, 100, 64);
    EXPECT_EQ(a->q(0).stats().wakeups, wakeups);
    packet in[128];
    EXPECT_EQ(b->q(0).rx_burst(in), 100u);
    b->q(0).release(std::span(in, 100));

    // Closing one end wakes a forever-waiter on the other.
    std::thread waiter([&] { EXPECT_FALSE(a->q(0).wait(-1)); });
    until_sleeping(*a, 0);
    b.reset();
    waiter.join();
    EXPECT_FALSE(a->peer_alive());
}

// interrupt() (thread_mode = thread: the application posting a call) ends a
// wait(-1) in progress on another thread of the process, with the peer alive
// and nothing to read; one made before the wait makes it return at once.
// Without it the waiter would sleep forever and the test would time out.
TEST_F(Shm, InterruptEndsAWaitInProgressOrTheNextOne) {
    auto a = open();
    auto b = open();
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(b->q(0).interruptible());
    std::atomic<bool> got{true};
    std::thread waiter([&] { got = b->q(0).wait(-1); });
    until_sleeping(*b, 0);
    b->q(0).interrupt();
    waiter.join();
    EXPECT_FALSE(got);  // nothing to read: interrupted, not woken by frames
    b->q(0).interrupt();  // before the wait: consumed by it at once
    EXPECT_FALSE(b->q(0).wait(-1));
    EXPECT_FALSE(b->q(0).wait(2'000'000));  // and only once: this one times out
    EXPECT_TRUE(a->peer_alive() && b->peer_alive());
}

TEST_F(Shm, JumboFrames) {
    port_config cfg;
    cfg.buf_size = 9216;
    cfg.num_queues = 2;
    auto a = open(cfg);
    auto b = open(cfg);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->info().mtu, 9000u);
    send_frames(a->q(1), 0, 200, 9014);
    unsigned got = 0;
    packet in[32];
    for (unsigned q = 0; q < 2; ++q) {
        while (unsigned n = b->q(q).rx_burst(in)) {
            for (unsigned k = 0; k < n; ++k) {
                EXPECT_EQ(in[k].len, 9014u);
                EXPECT_GE(test::check_udp_frame(in[k].data, in[k].len), 0);
                EXPECT_EQ(rss_pick_queue(parse_flow_key(bytes(in[k].data, in[k].len)), 2), q);
            }
            got += n;
            b->q(q).release(std::span(in, n));
        }
    }
    EXPECT_EQ(got, 200u);
}

// The child attaches as end 1 and sends `count` frames spread over all its tx
// queues; the parent checks each frame arrives once, intact, on its RSS queue.
class ShmQueues : public Shm, public ::testing::WithParamInterface<unsigned> {};

TEST_P(ShmQueues, EveryFrameOnceOnItsHashQueue) {
    const unsigned nq = GetParam();
    const uint64_t count = 100000;
    port_config cfg;
    cfg.num_queues = nq;
    cfg.ring_size = 256;
    auto a = open(cfg);
    ASSERT_TRUE(a);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto b = open_port(spec(), cfg);
        if (!b) _exit(2);
        // One thread drives every tx queue in turn (a queue needs one driver
        // at a time, not a dedicated thread).
        const uint64_t chunk = 1000;
        for (uint64_t s = 0; s < count; s += chunk)
            send_frames((*b)->q(unsigned(s / chunk % nq)), s, std::min(count, s + chunk),
                        64 + unsigned(s % 7) * 100);
        // Stay until the parent has everything, so our buffers come back.
        while ((*b)->peer_alive()) usleep(1000);
        (*b).reset();  // a clean close: the last closer removes the name
        _exit(0);
    }
    std::vector<uint8_t> seen(count, 0);
    uint64_t got = 0, bad = 0, dup = 0, wrong_queue = 0;
    packet in[64];
    while (got < count) {
        bool any = false;
        for (unsigned q = 0; q < nq; ++q) {
            unsigned n = a->q(q).rx_burst(in);
            any |= n > 0;
            for (unsigned k = 0; k < n; ++k) {
                int64_t s = test::check_udp_frame(in[k].data, in[k].len);
                if (s < 0 || uint64_t(s) >= count) {
                    ++bad;
                    continue;
                }
                if (seen[size_t(s)]++) ++dup;
                if (rss_pick_queue(parse_flow_key(bytes(in[k].data, in[k].len)), nq) != q)
                    ++wrong_queue;
                ++got;
            }
            a->q(q).release(std::span(in, n));
        }
        if (!any && !a->q(0).wait(100'000'000) && !a->peer_alive() && a->q(0).stats().rx_packets == 0)
            break;  // the child never came
        if (bad > 0) break;
    }
    EXPECT_EQ(got, count);
    EXPECT_EQ(bad, 0u);
    EXPECT_EQ(dup, 0u);
    EXPECT_EQ(wrong_queue, 0u);
    if (nq > 1) {
        // Varying source ports spread the frames over every queue.
        for (unsigned q = 0; q < nq; ++q) EXPECT_GT(a->q(q).stats().rx_packets, count / nq / 2);
    }
    a.reset();  // the child sees us leave and exits
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    EXPECT_FALSE(exists());
}

INSTANTIATE_TEST_SUITE_P(Queues, ShmQueues, ::testing::Values(1u, 2u, 4u, 8u));

TEST_F(Shm, PeerDeathIsDetectedAndStaleRegionRecovered) {
    auto a = open();
    ASSERT_TRUE(a);
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto b = open_port(spec(), port_config{});
        char c = b ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1) _exit(3);
        for (;;) pause();
    }
    char c = 0;
    ASSERT_EQ(read(ready[0], &c, 1), 1);
    ASSERT_EQ(c, 'y');
    EXPECT_TRUE(a->peer_alive());
    std::thread killer([&] {
        until_sleeping(*a, 0);
        kill(child, SIGKILL);
    });
    // Forever-wait returns although nothing ever wakes the futex; the child
    // is still an unreaped zombie here.
    EXPECT_FALSE(a->q(0).wait(-1));
    killer.join();
    EXPECT_FALSE(a->peer_alive());
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFSIGNALED(status));
    close(ready[0]);
    close(ready[1]);
    a.reset();
    EXPECT_FALSE(exists());  // closing next to a dead peer removes the name

    // A creator killed while alone leaves a stale region; the next opener
    // recovers it and becomes end 0 of a fresh link.
    child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto b = open_port(spec(), port_config{});
        if (b) kill(getpid(), SIGKILL);
        _exit(4);
    }
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status));
    EXPECT_TRUE(exists());
    a = open();
    ASSERT_TRUE(a);
    EXPECT_EQ(dynamic_cast<shm::shm_port&>(*a).end(), 0u);
    auto b = open();
    ASSERT_TRUE(b);
    send_frames(b->q(0), 0, 10, 64);
    packet in[16];
    EXPECT_EQ(a->q(0).rx_burst(in), 10u);
    a->q(0).release(std::span(in, 10));
}

// An open port and the mapping behind it: the hostile-peer tests write the
// peer's rings and descriptors straight into the region.
struct mapped {
    shm::shm_port& sp;
    shm::shm_queue& q;
    const shm::layout& lay;
    std::byte* base;
    explicit mapped(port& p)
        : sp(dynamic_cast<shm::shm_port&>(p)),
          q(dynamic_cast<shm::shm_queue&>(p.q(0))),
          lay(sp.reg().lay()),
          base(sp.reg().base()) {}
};

// The peer is another process and may write anything into the region. These
// two shapes came out of fuzz/fuzz_shm_ring (a hostile end 1 written into the
// mapping in-process): a buffer handed back twice must not be lent twice, and
// a descriptor naming a buffer the stack still holds must not be delivered
// again. Both are refused and counted.
TEST_F(Shm, HostilePeerReturningABufferTwiceCannotMakeItLentTwice) {
    port_config cfg;
    cfg.ring_size = 8;
    auto p = open(cfg);
    ASSERT_TRUE(p);
    mapped m(*p);
    auto& sp = m.sp;
    auto& q = m.q;
    const auto& lay = m.lay;
    std::byte* base = m.base;
    const unsigned me = sp.end();
    ASSERT_EQ(me, 0u);

    // Two buffers out: b sent to the peer, c kept (so the free list has
    // room for a second copy of b).
    packet pk[8], kept;
    ASSERT_EQ(q.alloc_tx(std::span(pk, 2)), 2u);
    kept = pk[1];
    const uint32_t b = pk[0].handle;
    test::build_udp_frame(pk[0].data, 64, 1, 1000);
    pk[0].len = 64;
    ASSERT_EQ(q.tx_burst(std::span(pk, 1)), 1u);
    // The peer "returns" b twice on the return ring of our tx queue 0.
    auto* ret = reinterpret_cast<uint32_t*>(base + lay.ret_slots(me, 0, 0));
    auto* ctl = reinterpret_cast<shm::ring_ctl*>(base + lay.ret_ctl(me, 0, 0));
    ret[0] = b;
    ret[1] = b;
    ctl->tail.store(2, std::memory_order_release);
    // Everything alloc_tx lends now, with the kept one: each handle once.
    const unsigned n = q.alloc_tx(std::span(pk, 8));
    EXPECT_EQ(n, 7u);
    std::vector<uint32_t> seen{kept.handle};
    for (unsigned k = 0; k < n; ++k) seen.push_back(pk[k].handle);
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end()) << "a buffer lent twice";
    EXPECT_EQ(q.peer_faults(), 1u);
    q.free_tx(std::span(pk, n));
    q.free_tx(std::span(&kept, 1));
}

TEST_F(Shm, HostilePeerPostingAHeldBufferAgainIsRefused) {
    port_config cfg;
    cfg.ring_size = 8;
    auto p = open(cfg);
    ASSERT_TRUE(p);
    mapped m(*p);
    auto& sp = m.sp;
    auto& q = m.q;
    const auto& lay = m.lay;
    std::byte* base = m.base;
    const unsigned peer = 1 - sp.end();
    // Two descriptors for the same peer buffer, then one past the ring.
    auto* slots = reinterpret_cast<shm::data_slot*>(base + lay.data_slots(peer, 0, 0));
    auto* ctl = reinterpret_cast<shm::ring_ctl*>(base + lay.data_ctl(peer, 0, 0));
    const uint32_t b = lay.first_buf(peer, 0) + 3;
    slots[0] = {b, 60};
    slots[1] = {b, 60};
    slots[2] = {lay.total_bufs() + 5, 60};
    ctl->tail.store(3, std::memory_order_release);
    packet pk[8];
    ASSERT_EQ(q.rx_burst(std::span(pk, 8)), 1u);
    EXPECT_EQ(pk[0].handle, b);
    EXPECT_EQ(q.stats().rx_dropped, 2u);
    EXPECT_EQ(q.peer_faults(), 2u);
    // Released once, it goes back to the peer once; then b may come again.
    q.release(std::span(pk, 1));
    q.release(std::span(pk, 1));  // a second release of the same buffer is ignored
    auto* rret = reinterpret_cast<shm::ring_ctl*>(base + lay.ret_ctl(peer, 0, 0));
    EXPECT_EQ(rret->tail.load(), 1u);
    slots[3] = {b, 60};
    ctl->tail.store(4, std::memory_order_release);
    ASSERT_EQ(q.rx_burst(std::span(pk, 8)), 1u);
    EXPECT_EQ(pk[0].handle, b);
    q.release(std::span(pk, 1));
    // A producer index more than a ring ahead reads as empty and is counted.
    ctl->tail.store(4 + 100, std::memory_order_release);
    EXPECT_EQ(q.rx_burst(std::span(pk, 8)), 0u);
    EXPECT_GT(q.peer_faults(), 2u);
}
