// The neighbour (ARP) table shared by all cores of one port: a fixed-size,
// open-addressed hash of IPv4 -> MAC written lock-free by whichever core
// handles an ARP frame and read by every core's resolver. Static entries
// (arp.conf) are loaded before the cores start. Called by arp::resolver.
//
// Why shared instead of one table per core: in `hw` mode ARP frames reach
// whichever queue the NIC (or the shm switch) picks — queue 0 — so a core that
// asked for a MAC may never see the reply. One table read by all removes the
// need to copy ARP frames to every core. See docs/dist.md "ARP".
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "net/time.hpp"
#include "wire/addr.hpp"

namespace mvnf::arp {

using net::nanos;

enum class entry_state : uint8_t {
    none,       // no entry (or it aged out)
    reachable,  // a MAC learnt from ARP, younger than the timeout
    permanent,  // a static entry (arp.conf): never ages, never overwritten by ARP
    failed,     // resolution gave up recently: callers fail fast instead of re-probing
};

struct lookup_result {
    entry_state state = entry_state::none;
    mac_addr mac;
};

class table {
public:
    // capacity: slots (rounded up to a power of two, at least 2x entries you
    // expect). Slots are claimed once per IP and never reclaimed: an aged
    // entry stays as a tombstone reused by the same IP, so no reader can see
    // a slot change owner under it.
    explicit table(uint32_t capacity = 1024, nanos timeout = net::sec(60),
                   nanos failed_holddown = net::sec(1));
    table(const table&) = delete;
    table& operator=(const table&) = delete;

    // Static /32 entry, or a prefix (mTCP arp.conf allows `10.0.0.0/24 MAC`:
    // every address of the prefix maps to that MAC). Call before cores start.
    bool add_static(ipv4_addr ip, unsigned prefix_len, mac_addr mac);

    // Exact-IP lookup, then static prefixes (longest first). Lock-free.
    lookup_result lookup(ipv4_addr ip, nanos now) const;
    // True when `ip` has an entry in any state other than none (RFC 826 merge
    // rule: "if the pair <protocol type, sender protocol address> is already
    // in my translation table").
    bool contains(ipv4_addr ip, nanos now) const;

    enum class update_result : uint8_t { updated, is_static, full };
    // Records ip -> mac, learnt at `now`. Never overwrites a static entry.
    update_result learn(ipv4_addr ip, mac_addr mac, nanos now);
    // Marks ip as failed (after the retries ran out) unless it is static/reachable.
    void mark_failed(ipv4_addr ip, nanos now);

    uint32_t capacity() const { return _mask + 1; }
    size_t static_prefixes() const { return _prefixes.size(); }
    nanos timeout() const { return _timeout; }

private:
    // Packed into one 64-bit word so readers never see a torn MAC:
    // bits 0..47 MAC, bits 48..55 entry_state.
    static uint64_t pack(mac_addr m, entry_state s);
    static mac_addr unpack_mac(uint64_t w);
    static entry_state unpack_state(uint64_t w) { return entry_state((w >> 48) & 0xff); }

    struct alignas(32) slot {
        std::atomic<uint32_t> ip{0};  // 0 = free (0.0.0.0 is never a neighbour)
        std::atomic<uint64_t> word{0};
        std::atomic<uint64_t> stamp{0};  // when `word` was last written
    };
    slot* find(ipv4_addr ip) const;
    slot* claim(ipv4_addr ip);

    struct prefix_entry {
        uint32_t net, mask;
        unsigned len;
        mac_addr mac;
    };

    std::unique_ptr<slot[]> _slots;
    uint32_t _mask;
    nanos _timeout, _failed_holddown;
    std::vector<prefix_entry> _prefixes;  // static only: written before start
};

}  // namespace mvnf::arp
