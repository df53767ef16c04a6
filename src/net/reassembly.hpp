// IPv4 reassembly (RFC 791 section 3.2, RFC 815), per core, in bounded
// memory: a fixed table of datagrams, a fixed number of fragments each, data
// held in chunk_pool chains within a byte budget, a timeout per datagram on
// the timer wheel; when full, the oldest incomplete datagram is evicted.
// Called by net::stack for every fragment addressed to us.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "net/pool.hpp"
#include "net/stack_config.hpp"
#include "net/stats.hpp"
#include "net/timer_wheel.hpp"
#include "wire/ipv4.hpp"

namespace mvnf::net {

class reassembler {
public:
    reassembler(const stack_config& cfg, chunk_pool& chunks, timer_wheel& wheel,
                stack_stats& stats);
    ~reassembler();
    reassembler(const reassembler&) = delete;
    reassembler& operator=(const reassembler&) = delete;

    // Takes one fragment. When it completes a datagram, returns that datagram
    // (a fresh 20-byte IPv4 header + payload) in an internal buffer valid
    // until the next call; otherwise empty bytes. Drops are counted.
    bytes input(const wire::ipv4_view& frag, nanos now);

    size_t active() const { return _active; }
    size_t bytes_held() const { return _bytes; }

private:
    struct piece {
        uint32_t off = 0, len = 0;
        chain data;
    };
    struct entry {
        reassembler* owner = nullptr;
        bool used = false;
        ipv4_addr src, dst;
        uint16_t ident = 0;
        uint8_t proto = 0, ttl = 0, tos = 0;
        uint32_t total = 0;  // payload length once the last fragment came; 0 before
        bool have_last = false;
        uint32_t received = 0;
        uint32_t npieces = 0;
        nanos born = 0;           // its first fragment's arrival: eviction order
        piece* pieces = nullptr;  // slice of _pieces
        timer expiry;
    };

    static void on_timeout(timer& t, nanos now);
    entry* oldest(const entry* except);
    void drop_entry(entry& e, drop_reason why);
    void free_entry(entry& e);
    void count(drop_reason r) { ++_stats.drops[size_t(r)]; }

    const stack_config& _cfg;
    chunk_pool& _chunks;
    timer_wheel& _wheel;
    stack_stats& _stats;
    std::unique_ptr<entry[]> _entries;
    std::vector<piece> _pieces;
    std::vector<std::byte> _out;  // 64 KiB: one reassembled datagram
    size_t _active = 0;
    size_t _bytes = 0;
};

}  // namespace mvnf::net
