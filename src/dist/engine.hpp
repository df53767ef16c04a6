// dist::engine: who feeds which core. Created from a port and a config; gives
// each per-core stack a netio::queue& (core_queue(c)). `hw` mode hands out the
// port's own queues (run to completion); `sw` mode starts dispatcher thread(s)
// that own a single-queue port and move packet descriptors through lock-free
// SPSC pipes. Called by the API layer (mtcp_init / contexts), tools and bench.
//
//  sw mode, per core c (arrows are SPSC pipes; "port" is port queue 0):
//
//   port rx ──► dispatcher RX ──rx pipe[c]──────► core c rx_burst   (zero copy)
//               (validate, hash,  ◄──return[c]─── core c release
//                overflow[c])
//   port tx ◄── dispatcher TX ◄──egress[c]─────── core c tx_burst   (core pool)
//               (copy into port   ──tx_done[c]──► core c alloc_tx
//                TX buffer)
//
// Layouts: `single` = one thread does RX and TX; `split` = an RX thread and a
// TX thread (the port queue's RX half and TX half are then driven by two
// threads, which netmap, AF_XDP and shm rings allow). See docs/dist.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "mtcp/mtcp_stats.h"
#include "netio/error.hpp"
#include "netio/port.hpp"

namespace mvnf::dist {

enum class mode : uint8_t { hw, sw };
enum class layout : uint8_t { single, split };

struct engine_config {
    mode dist_mode = mode::sw;
    layout dist_layout = layout::single;
    unsigned ncores = 1;
    uint32_t rx_batch = 32;         // frames per port rx_burst
    uint32_t tx_batch = 32;         // frames per core per TX round
    uint32_t pipe_size = 1024;      // slots per core pipe (each direction)
    uint32_t overflow_size = 1024;  // per core: frames held while its pipe is full
    uint32_t tx_pool_size = 1024;   // per core: private TX buffers (sw mode)
    unsigned unhashed_core = 0;     // where frames without an IPv4 flow key go (ARP...)
    uint32_t spin_rounds = 2000;    // idle loop rounds before a dispatcher blocks
    // Longest single block of a dispatcher waiting on the port. Bounds how
    // long stop() waits for it. TX latency does not depend on it: while the
    // single-layout dispatcher sleeps on the port it hands the port's TX half
    // to the cores, whose flush() then transmits at once (see docs/dist.md).
    int64_t max_block_ns = 200'000;
    // CPUs to pin the dispatcher threads to (-1: leave to the scheduler). In
    // the split layout tx_cpu pins the TX thread; single uses rx_cpu only.
    int rx_cpu = -1, tx_cpu = -1;
    // Single layout: lend the port's TX half to the cores while the
    // dispatcher sleeps on the port (RX and TX halves then run on two
    // threads, as in split). Forced off for a pcap-wrapped port, whose
    // halves share one record buffer; TX after idle then waits up to
    // max_block_ns.
    bool tx_handoff = true;
};

// Counters written by the dispatcher(s) for one core, plus the core's own.
struct core_counters {
    uint64_t rx_delivered = 0;         // pushed into the core's rx pipe
    uint64_t rx_via_overflow = 0;      // of those/dropped: went through the overflow queue
    uint64_t rx_dropped_overflow = 0;  // overflow queue full: dropped
    uint64_t rx_in_overflow = 0;       // gauge: held in the overflow queue now
    uint64_t rx_consumed = 0;          // taken by the core (rx_burst)
    uint64_t tx_submitted = 0;         // accepted by the core's tx_burst
    uint64_t tx_refused = 0;           // tx_burst refused: egress pipe full (caller keeps)
    uint64_t tx_sent = 0;              // copied onto the port and accepted by it
    uint64_t tx_dropped_oversize = 0;  // larger than a port TX buffer
    uint64_t core_sleeps = 0;          // times the core blocked in wait()
    uint64_t core_wakeups = 0;         // futex wakes the dispatcher did for it
};

struct counters {
    uint64_t rx_received = 0;          // frames read from the port
    uint64_t rx_dropped_runt = 0;      // shorter than an Ethernet header
    uint64_t rx_dropped_oversize = 0;  // longer than the port's buffer size
    uint64_t rx_dropped_bad_src = 0;   // multicast/broadcast source MAC
    uint64_t dispatcher_sleeps = 0;
    uint64_t dispatcher_blocked = 0;  // gauge: 1 while the single dispatcher sleeps on the port
    uint64_t tx_core_rounds = 0;      // TX rounds a core's flush() ran while the dispatcher slept
    std::vector<core_counters> cores;

    // received == delivered + dropped + in_overflow, exactly, at any quiet moment.
    uint64_t rx_delivered() const;
    uint64_t rx_dropped() const;
    uint64_t rx_in_overflow() const;
};

class engine {
  public:
    // Validates the config against the port (errors name the field). The
    // port must outlive the engine. Allocates all pipes and pools here.
    static netio::result<std::unique_ptr<engine>> create(netio::port& port,
                                                         const engine_config& cfg);
    ~engine();
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    // Starts the dispatcher thread(s) (sw mode; no-op in hw mode).
    void start();
    // Stops and joins them, then returns every port buffer still in a pipe
    // or overflow queue to the port. Cores must have released what they hold.
    void stop();

    netio::queue& core_queue(unsigned c);
    unsigned ncores() const { return _cfg.ncores; }
    const engine_config& config() const { return _cfg; }
    counters read_counters() const;
    // The port-wide drops and activity of the sw dispatcher, for the C API's
    // published stats (no allocation: read each millisecond by core 0).
    // Zero in hw mode, where the port's queues are the cores' own.
    struct port_counters {
#define MVNF_X(n) uint64_t n = 0;
        MTCP_STATS_PORT_DROPS(MVNF_X)
        MTCP_STATS_PORT(MVNF_X)
#undef MVNF_X
    };
    port_counters read_port_counters() const;

    // One dispatcher round (RX step, then TX step) on the caller's thread, for
    // deterministic tests and the instruction-count benchmark. sw mode and
    // only while not start()ed; the caller then plays the dispatcher.
    // Returns the work done (frames moved or returned).
    unsigned poll_once(bool rx = true, bool tx = true);

    struct core_state;  // engine.cpp
    struct shared;

  private:
    engine(netio::port& port, const engine_config& cfg);
    void rx_loop();
    void tx_loop();
    void single_loop();
    template <class Step>
    void spin_loop(Step step);
    unsigned rx_step();
    unsigned return_released(netio::queue& q);
    unsigned drain_overflow();
    unsigned rx_direct(netio::queue& q, core_state& c);
    unsigned rx_steer(netio::queue& q);
    void open_stages();
    unsigned steer_fast(const netio::packet* in, unsigned n);
    void deliver(core_state& c, unsigned n);
    unsigned count_fault(unsigned fault, const netio::packet& p, unsigned ndrop);
    unsigned drop_faulty(netio::packet* p, unsigned n, unsigned& ndrop);
    void stage_slow(unsigned ci, const netio::packet& p, unsigned& ndrop);
    unsigned tx_step();
    unsigned tx_merge();
    void drain_all();
    bool holding_port_buffers() const;
    void idle_block();
    void kick_tx();
    bool egress_pending() const;

    netio::port& _port;
    netio::queue* _q0 = nullptr;  // sw mode: the port's single queue
    engine_config _cfg;
    std::unique_ptr<shared> _s;
    std::vector<std::unique_ptr<core_state>> _cores;
    std::vector<std::thread> _threads;
    std::atomic<bool> _stop{false};
    bool _running = false;
};

}  // namespace mvnf::dist
