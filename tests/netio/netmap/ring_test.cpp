// Ring arithmetic of the netmap backend over an in-memory ring image: rx
// take/release with in-order return to the kernel, tx alloc/send/free with
// buffer swaps, wrap-around, and a netmap_queue driving several rings.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "netio/netmap/netmap_port.hpp"
#include "netio/netmap/netmap_ring.hpp"
#include "../wait_interrupt.hpp"
#include "ring_image.hpp"

namespace mvnf::netio::netmap {
namespace {

using test::ring_image;

std::string frame_str(const packet& p) {
    return std::string(reinterpret_cast<const char*>(p.data), p.len);
}
std::string make_frame(unsigned i) { return "frame-" + std::to_string(i) + std::string(50, 'x'); }

TEST(NetmapAbi, OffsetMacrosFindRingsAndBuffers) {
    ring_image img(2, 8, 2048);
    netmap_if* nifp = img.nifp();
    // tx: 2 hw + 1 host; rx ring 0 comes after all of them.
    EXPECT_EQ(nm_txring(nifp, 0), img.tx(0));
    EXPECT_EQ(nm_txring(nifp, 1), img.tx(1));
    EXPECT_EQ(nm_rxring(nifp, 0), img.rx(0));
    EXPECT_EQ(nm_rxring(nifp, 1), img.rx(1));
    EXPECT_EQ(img.rx(0)->dir, 1);
    netmap_ring* r = img.rx(1);
    std::byte* b = nm_buf(r, ring_slot(r, 3)->buf_idx);
    EXPECT_TRUE(img.contains(b));
    EXPECT_TRUE(img.contains(b + 2047));
    // Slot 0 sits right after the 256-byte header.
    EXPECT_EQ(reinterpret_cast<char*>(ring_slot(r, 0)) - reinterpret_cast<char*>(r), 256);
    EXPECT_EQ(nm_ring_next(r, 7), 0u);
    r->cur = 6;
    r->tail = 2;
    EXPECT_EQ(nm_ring_space(r), 4u);  // 6,7,0,1
}

TEST(NetmapAbi, BoundRingsSkipZeroOffsets) {
    ring_image img(4, 8, 2048, {false, true, false, false});
    bound_rings b = find_bound_rings(img.nifp());
    ASSERT_EQ(b.tx.size(), 1u);
    ASSERT_EQ(b.rx.size(), 1u);
    EXPECT_EQ(b.tx[0], 1u);
    EXPECT_EQ(b.rx[0], 1u);
}

TEST(NetmapRx, TakeAndInOrderRelease) {
    ring_image img(1, 8, 2048);
    netmap_ring* r = img.rx(0);
    rx_ring rx(r, 0);
    EXPECT_EQ(img.deliver(r, {make_frame(0), make_frame(1), make_frame(2), make_frame(3),
                              make_frame(4)}),
              5u);
    EXPECT_EQ(rx.ready(), 5u);
    packet p[8];
    uint64_t bytes = 0, dropped = 0;
    ASSERT_EQ(rx.take({p, 3}, bytes, dropped), 3u);
    EXPECT_EQ(frame_str(p[0]), make_frame(0));
    EXPECT_EQ(frame_str(p[2]), make_frame(2));
    EXPECT_EQ(r->cur, 3u);  // wake-up point past what we have seen
    EXPECT_EQ(r->head, 0u);
    EXPECT_EQ(rx.held(), 3u);

    // Out of order: 2 then 1 do not move head (slot 0 still lent).
    EXPECT_TRUE(rx.release(rx_handle_slot(p[2].handle)));
    EXPECT_TRUE(rx.release(rx_handle_slot(p[1].handle)));
    rx.advance_head();
    EXPECT_EQ(r->head, 0u);
    EXPECT_EQ(frame_str(p[0]), make_frame(0));  // still intact: kernel does not own it
    EXPECT_TRUE(rx.release(rx_handle_slot(p[0].handle)));
    rx.advance_head();
    EXPECT_EQ(r->head, 3u);
    EXPECT_EQ(rx.held(), 0u);

    // Double release and slots never lent are refused.
    EXPECT_FALSE(rx.release(rx_handle_slot(p[0].handle)));
    EXPECT_FALSE(rx.release(4));   // ready but not lent
    EXPECT_FALSE(rx.release(99));  // outside the ring
    ASSERT_EQ(rx.take({p, 8}, bytes, dropped), 2u);
    EXPECT_EQ(frame_str(p[1]), make_frame(4));
    EXPECT_EQ(dropped, 0u);
}

TEST(NetmapRx, BadSlotsAreDroppedAndReturned) {
    ring_image img(1, 16, 256);
    netmap_ring* r = img.rx(0);
    rx_ring rx(r, 0);
    img.deliver(r, {make_frame(1)});
    img.deliver(r, {std::string()});                              // length 0
    img.deliver(r, {"frag-a", "frag-b"}, ns_morefrag);            // a two-slot frame...
    img.deliver(r, {"frag-c"});                                   // ...ends here
    img.deliver(r, {make_frame(2)});
    ring_slot(r, r->tail == 0 ? 15 : r->tail - 1)->len = 300;     // longer than the buffer
    img.deliver(r, {make_frame(3)});
    packet p[8];
    uint64_t bytes = 0, dropped = 0;
    ASSERT_EQ(rx.take({p, 8}, bytes, dropped), 2u);
    EXPECT_EQ(frame_str(p[0]), make_frame(1));
    EXPECT_EQ(frame_str(p[1]), make_frame(3));
    EXPECT_EQ(dropped, 3u);  // empty, fragmented, oversized
    EXPECT_EQ(r->head, 0u);  // p[0] still lent holds everything back
    rx.release(rx_handle_slot(p[0].handle));
    rx.advance_head();
    EXPECT_EQ(r->head, 6u);  // dropped slots were given back with it
    rx.release(rx_handle_slot(p[1].handle));
    rx.advance_head();
    EXPECT_EQ(r->head, 7u);
}

// Many rounds over a small ring: shuffled releases, wrap-around, and the
// kernel never gets a slot that is still lent.
TEST(NetmapRx, RandomReleaseOrderWrapsCorrectly) {
    ring_image img(1, 8, 2048);
    netmap_ring* r = img.rx(0);
    rx_ring rx(r, 3);
    std::mt19937 rng(7);
    std::vector<packet> held;
    unsigned sent = 0, got = 0;
    for (int round = 0; round < 500; ++round) {
        std::vector<std::string> frames;
        unsigned k = rng() % 5;
        for (unsigned i = 0; i < k; ++i) frames.push_back(make_frame(sent + i));
        sent += img.deliver(r, frames);
        packet p[4];
        uint64_t bytes = 0, dropped = 0;
        unsigned n = rx.take({p, rng() % 4 + 1}, bytes, dropped);
        for (unsigned i = 0; i < n; ++i) {
            ASSERT_EQ(rx_handle_ring(p[i].handle), 3u);
            ASSERT_EQ(frame_str(p[i]), make_frame(got++));
            held.push_back(p[i]);
        }
        std::shuffle(held.begin(), held.end(), rng);
        unsigned rel = held.empty() ? 0 : unsigned(rng() % (held.size() + 1));
        for (unsigned i = 0; i < rel; ++i) ASSERT_TRUE(rx.release(rx_handle_slot(held[i].handle)));
        held.erase(held.begin(), held.begin() + rel);
        rx.advance_head();
        // Every held slot is in [head, rd): the kernel cannot overwrite it.
        for (const packet& h : held)
            ASSERT_LT(ring_dist(r->head, rx_handle_slot(h.handle), 8), rx.held());
        ASSERT_LE(rx.held() + rx.ready(), 7u);
    }
    EXPECT_EQ(got + rx.ready(), sent);
    EXPECT_GT(sent, 100u);  // the ring wrapped many times
}

TEST(NetmapTx, AllocSendInOrder) {
    ring_image img(1, 8, 2048);
    netmap_ring* r = img.tx(0);
    tx_ring tx(r);
    EXPECT_EQ(tx.available(), 7u);
    packet p[3];
    ASSERT_EQ(tx.alloc(p), 3u);
    for (unsigned i = 0; i < 3; ++i) {
        EXPECT_EQ(p[i].len, 2048u);
        std::string f = make_frame(i);
        std::memcpy(p[i].data, f.data(), f.size());
        p[i].len = uint32_t(f.size());
    }
    EXPECT_EQ(tx.lent(), 3u);
    uint64_t bytes = 0;
    ASSERT_EQ(tx.send(p, bytes), 3u);
    EXPECT_EQ(r->head, 3u);
    EXPECT_EQ(r->cur, 3u);
    EXPECT_TRUE(tx.pending());
    tx.mark_synced();
    auto out = img.txsync(r);
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[2], make_frame(2));
    EXPECT_EQ(ring_slot(r, 0)->flags, 0);  // in order: no buffer swaps
    EXPECT_FALSE(img.dup_buffers);
    EXPECT_EQ(tx.available(), 7u);
}

TEST(NetmapTx, OutOfOrderSendAndFreeSwapBuffers) {
    ring_image img(1, 8, 2048);
    netmap_ring* r = img.tx(0);
    tx_ring tx(r);
    packet p[3];
    ASSERT_EQ(tx.alloc(p), 3u);
    for (unsigned i = 0; i < 3; ++i) {
        std::string f = make_frame(10 + i);
        std::memcpy(p[i].data, f.data(), f.size());
        p[i].len = uint32_t(f.size());
    }
    uint64_t bytes = 0;
    // Send the third first: its buffer moves to slot 0.
    ASSERT_EQ(tx.send({&p[2], 1}, bytes), 1u);
    EXPECT_EQ(ring_slot(r, 0)->buf_idx, p[2].handle);
    EXPECT_TRUE(ring_slot(r, 0)->flags & ns_buf_changed);
    // Free the first, then send the second.
    tx.free({&p[0], 1});
    EXPECT_EQ(tx.lent(), 1u);
    ASSERT_EQ(tx.send({&p[1], 1}, bytes), 1u);
    EXPECT_EQ(tx.lent(), 0u);
    auto out = img.txsync(r);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0], make_frame(12));
    EXPECT_EQ(out[1], make_frame(11));
    EXPECT_FALSE(img.dup_buffers);
    // The freed buffer is lent again before fresh slots.
    packet q[1];
    ASSERT_EQ(tx.alloc(q), 1u);
    EXPECT_EQ(q[0].handle, p[0].handle);
}

TEST(NetmapTx, RefusesForeignOrBadFramesAsPrefix) {
    ring_image img(1, 8, 512);
    netmap_ring* r = img.tx(0);
    tx_ring tx(r);
    packet p[3];
    ASSERT_EQ(tx.alloc(p), 3u);
    p[0].len = 60;
    p[1].len = 600;  // longer than the 512-byte buffers
    p[2].len = 60;
    uint64_t bytes = 0;
    EXPECT_EQ(tx.send(p, bytes), 1u);
    packet foreign{p[2].data, 60, 12345};
    EXPECT_EQ(tx.send({&foreign, 1}, bytes), 0u);
    p[1].len = 100;
    EXPECT_EQ(tx.send({&p[1], 2}, bytes), 2u);
    // Sending an already-sent buffer again is refused.
    EXPECT_EQ(tx.send({&p[1], 1}, bytes), 0u);
    EXPECT_EQ(img.txsync(r).size(), 3u);
    EXPECT_FALSE(img.bad_len);
}

TEST(NetmapTx, FullRingThenReclaimAndWrap) {
    ring_image img(1, 8, 2048);
    netmap_ring* r = img.tx(0);
    tx_ring tx(r);
    unsigned total = 0;
    for (int round = 0; round < 20; ++round) {
        packet p[16];
        unsigned n = tx.alloc(p);
        ASSERT_EQ(n, 7u);  // one slot always stays with the kernel
        for (unsigned i = 0; i < n; ++i) {
            std::string f = make_frame(total + i);
            std::memcpy(p[i].data, f.data(), f.size());
            p[i].len = uint32_t(f.size());
        }
        packet more[1];
        EXPECT_EQ(tx.alloc(more), 0u);  // full until the kernel completes
        uint64_t bytes = 0;
        ASSERT_EQ(tx.send({p, n}, bytes), n);
        auto out = img.txsync(r);
        ASSERT_EQ(out.size(), n);
        for (unsigned i = 0; i < n; ++i) ASSERT_EQ(out[i], make_frame(total + i));
        total += n;
    }
    EXPECT_FALSE(img.dup_buffers);
}

// Random alloc / send (any order) / free / txsync: every sent frame arrives
// once, in send order, and no buffer is ever in two slots.
TEST(NetmapTx, RandomOperationsKeepBuffersConsistent) {
    ring_image img(1, 16, 2048);
    netmap_ring* r = img.tx(0);
    tx_ring tx(r);
    std::mt19937 rng(11);
    std::vector<packet> lent;
    std::vector<std::string> expect;
    std::vector<std::string> seen;
    unsigned id = 0;
    for (int step = 0; step < 3000; ++step) {
        switch (rng() % 4) {
            case 0: {
                packet p[4];
                unsigned n = tx.alloc({p, rng() % 4 + 1});
                for (unsigned i = 0; i < n; ++i) lent.push_back(p[i]);
                break;
            }
            case 1: {
                if (lent.empty()) break;
                std::shuffle(lent.begin(), lent.end(), rng);
                unsigned k = unsigned(rng() % lent.size()) + 1;
                for (unsigned i = 0; i < k; ++i) {
                    std::string f = make_frame(id++);
                    std::memcpy(lent[i].data, f.data(), f.size());
                    lent[i].len = uint32_t(f.size());
                }
                uint64_t bytes = 0;
                unsigned sent = tx.send({lent.data(), k}, bytes);
                ASSERT_EQ(sent, k);
                for (unsigned i = 0; i < k; ++i) expect.push_back(frame_str(lent[i]));
                lent.erase(lent.begin(), lent.begin() + k);
                break;
            }
            case 2: {
                if (lent.empty()) break;
                tx.free({lent.data(), 1});
                lent.erase(lent.begin());
                break;
            }
            case 3: {
                auto out = img.txsync(r);
                seen.insert(seen.end(), out.begin(), out.end());
                break;
            }
        }
        ASSERT_EQ(tx.lent(), lent.size());
        ASSERT_FALSE(img.dup_buffers);
    }
    auto out = img.txsync(r);
    seen.insert(seen.end(), out.begin(), out.end());
    EXPECT_EQ(seen, expect);
    EXPECT_GT(expect.size(), 500u);
    EXPECT_FALSE(img.bad_len);
    // No slot was lost: with everything freed, the whole ring can be lent again.
    tx.free(lent);
    img.txsync(r);
    EXPECT_EQ(tx.lent(), 0u);
    EXPECT_EQ(tx.available(), 15u);
    packet all[16];
    ASSERT_EQ(tx.alloc(all), 15u);
    std::set<uint32_t> handles;
    for (unsigned i = 0; i < 15; ++i) handles.insert(all[i].handle);
    EXPECT_EQ(handles.size(), 15u);
}

TEST(NetmapQueue, ReadsAllBoundRingsAndSends) {
    ring_image img(2, 16, 2048);
    netmap_queue q(-1, img.nifp());
    EXPECT_EQ(q.num_rx_rings(), 2u);
    EXPECT_EQ(q.poll_fd(), -1);
    EXPECT_FALSE(q.wait(0));
    img.deliver(img.rx(0), {"a0", "a1", "a2"});
    img.deliver(img.rx(1), {"b0", "b1"});
    EXPECT_TRUE(q.wait(0));
    packet p[8];
    unsigned n = q.rx_burst(p);
    ASSERT_EQ(n, 5u);
    std::vector<std::string> got;
    for (unsigned i = 0; i < n; ++i) got.push_back(frame_str(p[i]));
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<std::string>{"a0", "a1", "a2", "b0", "b1"}));
    EXPECT_GE(q.syncs(), 1u);  // fewer than a burst ready: one RXSYNC asked
    q.release({p, n});
    EXPECT_EQ(img.rx(0)->head, 3u);
    EXPECT_EQ(img.rx(1)->head, 2u);
    EXPECT_EQ(q.stats().rx_packets, 5u);

    packet t[2];
    ASSERT_EQ(q.alloc_tx(t), 2u);
    t[0].len = 60;
    t[1].len = 70;
    EXPECT_EQ(q.tx_burst(t), 2u);
    uint64_t before = q.syncs();
    q.flush();
    EXPECT_EQ(q.syncs(), before + 1);
    q.flush();  // nothing new: no syscall
    EXPECT_EQ(q.syncs(), before + 1);
    auto out = img.txsync(img.tx(0));
    EXPECT_EQ(out.size(), 2u);
    EXPECT_EQ(q.stats().tx_bytes, 130u);
}

// The wait/interrupt logic of a netmap queue without the module: fd -1 is
// ignored by ppoll, so the wait blocks on the wake fd alone. (Against the
// module the netmap fd sits beside it in the same poll set.)
TEST(NetmapQueue, InterruptEndsAWaitInProgressOrTheNextOne) {
    ring_image img(1, 16, 2048);
    netmap_queue plain(-1, img.nifp());
    EXPECT_FALSE(plain.interruptible());  // no wake fd given
    auto wake = wake_fd::open("netmap:test");
    ASSERT_TRUE(wake) << wake.error().message;
    netmap_queue q(-1, img.nifp(), std::move(*wake));
    mvnf::test::check_interrupt_contract(q);
    // Frames already in the ring end a wait before it blocks, interrupt or not.
    img.deliver(img.rx(0), {"a0"});
    q.interrupt();
    EXPECT_TRUE(q.wait(5'000'000'000));
}

}  // namespace
}  // namespace mvnf::netio::netmap
