// libFuzzer target: the shm link's rings with a hostile peer. End 0 of a
// fresh link region is a real shm port (2 queues, 8-slot rings); the input
// plays end 1, writing whatever it likes into the shared memory end 0 reads:
// producer indices and descriptors of the data rings towards us, of the
// rings that return our TX buffers, and the consumer index of our TX rings.
// Between writes it drives end 0 (rx_burst, release, alloc_tx, tx_burst,
// free_tx). Whatever the peer writes:
//   - every received packet lies inside one of the peer's buffers, with
//     0 < len <= buf_size, and no two packets a queue holds share a buffer;
//   - alloc_tx lends only our own buffers, never one already lent out
//     (allocated and not sent, or sent and not named since on a return ring
//     the queue consumed);
//   - every descriptor consumed is delivered or counted in rx_dropped;
//   - what end 0 refuses is counted (shm_queue::peer_faults grows).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../tests/robustness/invariant.hpp"
#include "input_reader.hpp"
#include "netio/port.hpp"
#include "netio/shm/shm_port.hpp"

using namespace mvnf;
using namespace mvnf::netio;


namespace {

constexpr uint32_t nq = 2, ring = 8, buf_size = 256;

using fuzz::reader;

// A value near `base` (small signed step) or, with the high bit, any value.
uint32_t near_or_raw(reader& in, uint32_t base) {
    const uint8_t m = in.u8();
    if (m & 0x80) return in.u32();
    return base + uint32_t(int32_t(int8_t(m << 1)) / 2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 4096) return -1;
    static const std::string name = "fuzz" + std::to_string(getpid());
    port_config pc;
    pc.num_queues = nq;
    pc.ring_size = ring;
    pc.buf_size = buf_size;
    auto opened = open_port("shm:" + name, pc);
    MVNF_FUZZ_CHECK(opened.has_value());
    auto& port = static_cast<shm::shm_port&>(**opened);
    shm::region& r = port.reg();
    const shm::layout& lay = r.lay();
    std::byte* base = r.base();
    const unsigned me = r.end(), peer = 1 - me;
    MVNF_FUZZ_CHECK(me == 0);
    auto ctl = [&](size_t off) { return reinterpret_cast<shm::ring_ctl*>(base + off); };

    // What the harness holds: received packets per queue, allocated TX
    // buffers, and our buffers the peer has (sent, not yet handed back by a
    // return slot the peer wrote).
    std::vector<packet> held[nq], alloc[nq];
    std::vector<uint8_t> with_peer(lay.total_bufs(), 0);
    // held_buf per receiving queue: a queue refuses a buffer it holds; the
    // peer naming one buffer to two queues is not detectable without state
    // shared between the queues' threads (see docs/robustness.md).
    std::vector<uint8_t> held_buf[nq] = {std::vector<uint8_t>(lay.total_bufs(), 0),
                                         std::vector<uint8_t>(lay.total_bufs(), 0)};
    std::vector<uint8_t> alloc_buf(lay.total_bufs(), 0);
    uint32_t peer_tail[nq][nq] = {}, ret_tail[nq][nq] = {};

    reader in{data, size};
    for (int records = 0; !in.empty() && records < 256; ++records) {
        const uint8_t op = in.u8();
        const unsigned q = (op >> 4) & 1, i = (op >> 5) & 1;
        auto& sq = static_cast<shm::shm_queue&>(port.q(q));
        switch (op & 0x0f) {
            case 0: {  // peer publishes a producer index on data ring [peer][i][q]
                uint32_t& t = peer_tail[i][q];
                t = near_or_raw(in, t);
                ctl(lay.data_ctl(peer, i, q))->tail.store(t, std::memory_order_release);
                break;
            }
            case 1: {  // peer writes a data descriptor at slot k of that ring
                const uint32_t k = in.u8() % ring;
                auto* slot = reinterpret_cast<shm::data_slot*>(base + lay.data_slots(peer, i, q)) + k;
                slot->buf = near_or_raw(in, lay.first_buf(peer, i));
                slot->len = near_or_raw(in, 64);
                break;
            }
            case 2: {  // peer returns a buffer to our tx queue i through ring [me][i][q]
                const uint32_t k = in.u8() % ring;
                const uint32_t b = near_or_raw(in, lay.first_buf(me, i));
                reinterpret_cast<uint32_t*>(base + lay.ret_slots(me, i, q))[k] = b;
                break;
            }
            case 3: {  // and publishes that return ring's producer index
                uint32_t& t = ret_tail[i][q];
                t = near_or_raw(in, t);
                auto* c = ctl(lay.ret_ctl(me, i, q));
                c->tail.store(t, std::memory_order_release);
                break;
            }
            case 4:  // peer moves the consumer index of our data ring [me][q][i]
                ctl(lay.data_ctl(me, q, i))->head.store(in.u32(), std::memory_order_release);
                break;
            case 5: {  // peer moves the consumer index of a return ring we produce
                ctl(lay.ret_ctl(peer, i, q))->head.store(in.u32(), std::memory_order_release);
                break;
            }
            case 6: {  // rx_burst on queue q
                packet ps[ring * nq];
                const uint64_t drops = sq.stats().rx_dropped;
                uint32_t heads[nq];
                for (unsigned k = 0; k < nq; ++k)
                    heads[k] = ctl(lay.data_ctl(peer, k, q))->head.load(std::memory_order_acquire);
                const unsigned n = sq.rx_burst(std::span<packet>(ps, 1 + in.u8() % (ring * nq)));
                uint32_t consumed = 0;
                for (unsigned k = 0; k < nq; ++k)
                    consumed += ctl(lay.data_ctl(peer, k, q))->head.load(std::memory_order_acquire) -
                                heads[k];
                MVNF_FUZZ_CHECK(consumed == n + (sq.stats().rx_dropped - drops));
                for (unsigned k = 0; k < n; ++k) {
                    const packet& p = ps[k];
                    MVNF_FUZZ_CHECK(lay.in_direction(peer, p.handle));
                    MVNF_FUZZ_CHECK(p.data == base + lay.buf(p.handle));
                    MVNF_FUZZ_CHECK(p.len > 0 && p.len <= buf_size);
                    MVNF_FUZZ_CHECK(!held_buf[q][p.handle]);
                    held_buf[q][p.handle] = 1;
                    // Read it all, as the stack would.
                    volatile uint8_t sum = 0;
                    for (uint32_t b = 0; b < p.len; ++b) sum = uint8_t(sum + uint8_t(p.data[b]));
                    held[q].push_back(p);
                }
                break;
            }
            case 7: {  // release the oldest held packets of queue q
                const size_t n = std::min<size_t>(held[q].size(), 1 + in.u8() % 8);
                for (size_t k = 0; k < n; ++k) held_buf[q][held[q][k].handle] = 0;
                sq.release(std::span<const packet>(held[q].data(), n));
                held[q].erase(held[q].begin(), held[q].begin() + long(n));
                break;
            }
            case 8: {  // alloc_tx
                // alloc_tx may take back what the peer published on the
                // return rings of tx queue q (all of it, in order): a
                // buffer that is with the peer comes home the first time
                // it is named; any other entry must be refused.
                uint32_t heads[nq];
                for (unsigned j = 0; j < nq; ++j)
                    heads[j] = ctl(lay.ret_ctl(me, q, j))->head.load(std::memory_order_acquire);
                packet ps[ring];
                const unsigned n = sq.alloc_tx(std::span<packet>(ps, 1 + in.u8() % ring));
                for (unsigned j = 0; j < nq; ++j) {
                    const uint32_t now = ctl(lay.ret_ctl(me, q, j))->head.load(std::memory_order_acquire);
                    const auto* slots = reinterpret_cast<const uint32_t*>(base + lay.ret_slots(me, q, j));
                    MVNF_FUZZ_CHECK(now - heads[j] <= ring);
                    for (uint32_t k = heads[j]; k != now; ++k) {
                        const uint32_t b = slots[k % ring];
                        if (b - lay.first_buf(me, q) < ring) with_peer[b] = 0;
                    }
                }
                for (unsigned k = 0; k < n; ++k) {
                    const uint32_t b = ps[k].handle;
                    MVNF_FUZZ_CHECK(b - lay.first_buf(me, q) < ring);
                    MVNF_FUZZ_CHECK(ps[k].data == base + lay.buf(b) && ps[k].len == buf_size);
                    MVNF_FUZZ_CHECK(!alloc_buf[b]);
                    // Lent to the peer and not handed back: lending it again
                    // would let two owners write one buffer.
                    MVNF_FUZZ_CHECK(!with_peer[b]);
                    alloc_buf[b] = 1;
                    alloc[q].push_back(ps[k]);
                }
                break;
            }
            case 9: {  // tx_burst of the allocated buffers (a length from the input)
                if (alloc[q].empty()) break;
                const uint32_t len = 14 + in.u8() % (buf_size - 13);
                for (auto& p : alloc[q]) {
                    std::fill(p.data, p.data + len, std::byte(0x5a));
                    p.len = len;
                }
                const unsigned n = sq.tx_burst(alloc[q]);
                for (unsigned k = 0; k < n; ++k) {
                    alloc_buf[alloc[q][k].handle] = 0;
                    with_peer[alloc[q][k].handle] = 1;
                }
                alloc[q].erase(alloc[q].begin(), alloc[q].begin() + n);
                break;
            }
            default: {  // free_tx of the allocated buffers
                for (auto& p : alloc[q]) alloc_buf[p.handle] = 0;
                sq.free_tx(alloc[q]);
                alloc[q].clear();
                break;
            }
        }
    }
    // A peer that broke the rules was noticed: faults are counted whenever a
    // descriptor was refused.
    uint64_t faults = 0, drops = 0;
    for (unsigned q = 0; q < nq; ++q) {
        auto& sq = static_cast<shm::shm_queue&>(port.q(q));
        faults += sq.peer_faults();
        drops += sq.stats().rx_dropped;
        sq.release(held[q]);
        sq.free_tx(alloc[q]);
    }
    MVNF_FUZZ_CHECK(faults >= drops);
    opened->reset();  // closes end 0; the region is unlinked (no live end left)
    return 0;
}
