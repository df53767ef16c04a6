// Unit tests of the shm building blocks in one process: SPSC ring index
// arithmetic (wrap-around of the free-running counters, full/empty, batch
// publish) and the region layout (no overlaps, buffer ownership).
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "netio/shm/shm_layout.hpp"
#include "netio/shm/spsc_ring.hpp"

using namespace mvnf::netio::shm;

namespace {

struct test_ring {
    ring_ctl ctl;
    std::vector<uint32_t> slots;
    explicit test_ring(uint32_t size, uint32_t start) : slots(size) {
        ctl.head.store(start);
        ctl.tail.store(start);
    }
};

}  // namespace

TEST(ShmRing, FifoAcrossIndexWrapAround) {
    // Start 5 slots before the uint32 counters wrap.
    test_ring r(8, 0xfffffffbu);
    ring_producer<uint32_t> p(&r.ctl, r.slots.data(), 8);
    ring_consumer<uint32_t> c(&r.ctl, r.slots.data(), 8);
    uint32_t next_in = 0, next_out = 0;
    for (int round = 0; round < 100; ++round) {
        uint32_t n = p.space(8);
        uint32_t put = 1 + round % 8;
        if (put > n) put = n;
        for (uint32_t k = 0; k < put; ++k) p.push(next_in++);
        // Not visible before publish.
        ASSERT_EQ(c.available(), next_in - put - next_out);
        p.publish();
        uint32_t avail = c.available();
        ASSERT_EQ(avail, next_in - next_out);
        uint32_t take = avail / 2 + (round & 1);
        if (take > avail) take = avail;
        for (uint32_t k = 0; k < take; ++k) ASSERT_EQ(c.at(k), next_out + k);
        c.advance(take);
        c.publish();
        next_out += take;
    }
    EXPECT_GT(next_in, 100u);
    // The counters did wrap.
    EXPECT_LT(r.ctl.tail.load(), 0xfffffffbu);
}

TEST(ShmRing, FullAndEmpty) {
    test_ring r(4, 0);
    ring_producer<uint32_t> p(&r.ctl, r.slots.data(), 4);
    ring_consumer<uint32_t> c(&r.ctl, r.slots.data(), 4);
    EXPECT_EQ(c.available(), 0u);
    EXPECT_EQ(p.space(1), 4u);
    for (uint32_t k = 0; k < 4; ++k) p.push(k);
    p.publish();
    EXPECT_EQ(p.space(1), 0u);  // full: the consumer has not moved
    EXPECT_EQ(c.available(), 4u);
    c.advance(3);
    EXPECT_EQ(p.space(1), 0u);  // consumed but not yet published
    c.publish();
    EXPECT_EQ(p.space(1), 3u);
    EXPECT_EQ(c.at(0), 3u);
}

TEST(ShmRing, CorruptProducerIndexReadsEmpty) {
    test_ring r(4, 0);
    ring_consumer<uint32_t> c(&r.ctl, r.slots.data(), 4);
    r.ctl.tail.store(1000);  // a peer claiming more than the ring holds
    EXPECT_EQ(c.available(), 0u);
}

// Buffers are cache-line aligned, never overlap, and 64 consecutive ones
// start in 64 different sets of a 64-set L1 (an odd number of lines apart),
// so a burst's frame headers do not evict each other.
TEST(ShmLayout, BufferStartsSpreadOverCacheSets) {
    for (uint32_t bs : {1500u, 2048u, 4096u, 9216u, 65536u}) {
        const layout l = layout::compute(2, 128, bs);
        EXPECT_GE(l.buf_stride, bs);
        EXPECT_LT(l.buf_stride, size_t(bs) + 128);
        std::array<bool, 64> set_used{};
        for (uint32_t b = 0; b < 64; ++b) {
            EXPECT_EQ(l.buf(b) % 64, 0u);
            EXPECT_GE(l.buf(b + 1) - l.buf(b), bs);
            const size_t set = (l.buf(b) / 64) % 64;
            EXPECT_FALSE(set_used[set]) << "buffer size " << bs << ", buffer " << b;
            set_used[set] = true;
        }
        EXPECT_LE(l.buf(l.total_bufs() - 1) + bs, l.total);
    }
}

TEST(ShmLayout, RegionsDoNotOverlapAndOwnershipIsExact) {
    for (uint32_t nq : {1u, 2u, 3u, 8u}) {
        for (uint32_t ring : {2u, 64u, 1024u}) {
            layout l = layout::compute(nq, ring, 2048);
            EXPECT_GE(l.wake_off, sizeof(shm_header));
            EXPECT_GE(l.ctl_off, l.wake(1, nq - 1) + sizeof(rx_wake));
            EXPECT_GE(l.data_slots_off, l.ret_ctl(1, nq - 1, nq - 1) + sizeof(ring_ctl));
            EXPECT_GE(l.ret_slots_off, l.data_slots(1, nq - 1, nq - 1) + ring * sizeof(data_slot));
            EXPECT_GE(l.bufs_off, l.ret_slots(1, nq - 1, nq - 1) + ring * sizeof(uint32_t));
            EXPECT_EQ(l.bufs_off % 4096, 0u);
            EXPECT_LE(l.buf(l.total_bufs() - 1) + 2048, l.total);
            EXPECT_EQ(l.data_ctl(0, 0, 1) - l.data_ctl(0, 0, 0), sizeof(ring_ctl));
            for (unsigned d = 0; d < 2; ++d)
                for (unsigned i = 0; i < nq; ++i) {
                    uint32_t first = l.first_buf(d, i);
                    EXPECT_TRUE(l.in_direction(d, first));
                    EXPECT_FALSE(l.in_direction(1 - d, first));
                    EXPECT_EQ(l.owner_queue(d, first), i);
                    EXPECT_EQ(l.owner_queue(d, first + ring - 1), i);
                }
            EXPECT_FALSE(l.in_direction(1, l.total_bufs()));
        }
    }
}
