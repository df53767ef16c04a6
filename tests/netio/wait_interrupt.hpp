// Checks of queue::interrupt() shared by the fd-based backends' tests
// (afpacket, afxdp, tap, netmap, and the pcap wrapper): the contract of
// src/netio/queue.hpp, as Shm.InterruptEndsAWaitInProgressOrTheNextOne checks
// it for shm. Header-only; include as "../wait_interrupt.hpp".
//
// A kernel-backed port may see a stray frame now and then; a wait() it ends
// returns true and is not an interrupt, so timed_wait() drains such frames
// and keeps waiting until a wait returns false (interrupted or timed out).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "netio/port.hpp"

namespace mvnf::test {

using wait_clock = std::chrono::steady_clock;

inline void drain_queue(netio::queue& q) {
    netio::packet p[32];
    for (int i = 0; i < 1000; ++i) {
        unsigned n = q.rx_burst(p);
        if (!n) return;
        q.release({p, n});
    }
}

// Waits up to `timeout` for a wait() that returns false; frames that end a
// wait early are drained and the rest of the timeout is waited. Returns how
// long it took (bounded by the timeout plus one wait's lateness).
inline wait_clock::duration timed_wait(netio::queue& q, wait_clock::duration timeout) {
    const auto start = wait_clock::now(), deadline = start + timeout;
    for (int i = 0; i < 10'000; ++i) {
        const auto left = deadline - wait_clock::now();
        if (left <= wait_clock::duration::zero()) break;
        if (!q.wait(std::chrono::duration_cast<std::chrono::nanoseconds>(left).count())) break;
        drain_queue(q);
    }
    return wait_clock::now() - start;
}

// The whole contract on an idle queue: an interrupt() before the wait ends
// the next wait (wait(0) does not consume it), several interrupts are taken
// by one wait, and one from another thread ends a wait in progress.
inline void check_interrupt_contract(netio::queue& q) {
    using namespace std::chrono_literals;
    ASSERT_TRUE(q.interruptible());
    drain_queue(q);

    q.interrupt();
    q.interrupt();    // pending interrupts add up to one
    (void)q.wait(0);  // only checks: leaves the interrupt for the real wait
    auto t = timed_wait(q, 5s);
    EXPECT_LT(t, 1s) << "an interrupt() before the wait did not end it";
    // Taken: the next wait runs to its timeout.
    t = timed_wait(q, 100ms);
    EXPECT_GE(t, 90ms) << "an interrupt was seen twice";

    std::atomic<bool> started{false};
    wait_clock::duration waited{};
    std::thread waiter([&] {
        started = true;
        waited = timed_wait(q, 5s);
    });
    for (int i = 0; i < 1000 && !started; ++i) std::this_thread::sleep_for(1ms);
    // Let it block in the kernel (had it not yet, the interrupt must still
    // end the wait it is about to start).
    std::this_thread::sleep_for(100ms);
    const auto sent = wait_clock::now();
    q.interrupt();
    waiter.join();
    const auto after = wait_clock::now() - sent;
    EXPECT_LT(after, 1s) << "the wait in progress ran on after interrupt()";
    EXPECT_LT(waited, 4s);
    t = timed_wait(q, 100ms);
    EXPECT_GE(t, 90ms) << "the interrupt outlived the wait it ended";
}

// Each queue has its own interrupt: one queue's does not end another's wait.
inline void check_interrupts_are_per_queue(netio::port& p) {
    using namespace std::chrono_literals;
    if (p.num_queues() < 2) return;
    for (unsigned i = 0; i < p.num_queues(); ++i) drain_queue(p.q(i));
    p.q(1).interrupt();
    EXPECT_GE(timed_wait(p.q(0), 100ms), 90ms) << "queue 1's interrupt ended queue 0's wait";
    EXPECT_LT(timed_wait(p.q(1), 5s), 1s);
}

// The data fd is still in the poll set: a frame ends a long wait with true.
// Every queue waits (the kernel's flow hash picks the one that gets it);
// `send` makes the kernel send one frame. The waits left are then ended by
// interrupt(), so a failure costs seconds, not the 5 s timeout per queue.
template <class Send>
void check_frame_ends_wait(netio::port& p, Send send) {
    using namespace std::chrono_literals;
    const unsigned nq = p.num_queues();
    for (unsigned i = 0; i < nq; ++i) drain_queue(p.q(i));
    std::atomic<unsigned> woke{0}, done{0};
    std::atomic<int64_t> woke_at_ns{-1};
    std::vector<std::thread> waiters;
    const auto t0 = wait_clock::now();
    for (unsigned i = 0; i < nq; ++i)
        waiters.emplace_back([&, i] {
            if (p.q(i).wait(5'000'000'000)) {
                int64_t none = -1;
                woke_at_ns.compare_exchange_strong(none, (wait_clock::now() - t0) / 1ns);
                ++woke;
            }
            ++done;
        });
    std::this_thread::sleep_for(100ms);
    const int64_t sent_ns = (wait_clock::now() - t0) / 1ns;
    const bool sent = send();
    for (int i = 0; sent && i < 1000 && woke == 0 && done < nq; ++i)
        std::this_thread::sleep_for(2ms);
    for (unsigned i = 0; i < nq; ++i) p.q(i).interrupt();
    for (auto& w : waiters) w.join();
    ASSERT_TRUE(sent) << "the kernel did not send";
    ASSERT_GE(woke.load(), 1u) << "no wait ended on the frame";
    EXPECT_LT(woke_at_ns.load() - sent_ns, 1'000'000'000) << "the frame ended no wait promptly";
}

}  // namespace mvnf::test
