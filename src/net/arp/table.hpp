// The neighbour (ARP) table shared by all cores of one port: a fixed-size hash
// of IPv4 -> MAC, read lock-free by every core's resolver and written by
// whichever core handles an ARP frame. Static entries (arp.conf) are loaded
// before the cores start. Called by arp::resolver.
//
// Why shared instead of one table per core: in `hw` mode ARP frames reach
// whichever queue the NIC (or the shm switch) picks — queue 0 — so a core that
// asked for a MAC may never see the reply. One table read by all removes the
// need to copy ARP frames to every core. See docs/dist.md "ARP".
//
// Bounded against whoever sends ARP (docs/arp.md "Ageing and eviction"): an
// IP lives in one of `window` slots from its hash, and a new IP whose window
// is full takes the slot of the least recently confirmed entry that is not
// static (failed ones first). A flood of senders therefore evicts itself, never
// a static entry, and a new neighbour can always be learnt.
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
    none,       // no entry (or a failure whose hold-down passed)
    reachable,  // a MAC confirmed less than `timeout` ago
    stale,      // a MAC older than `timeout`: still used while it is re-confirmed
                // (RFC 1122 2.3.2.1; Linux's NUD_STALE)
    permanent,  // a static entry (arp.conf): never ages, never overwritten by ARP
    failed,     // resolution gave up recently: callers fail fast instead of re-probing
};

struct lookup_result {
    entry_state state = entry_state::none;
    mac_addr mac;
};

class table {
public:
    // Slots probed for one IP: the table behaves as `window`-way associative.
    static constexpr uint32_t window = 16;

    // capacity: slots (rounded up to a power of two, at least `window`).
    // timeout: how long a learnt MAC stays reachable before it is stale.
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

    enum class update_result : uint8_t {
        updated,    // written in the IP's own or a free slot
        evicted,    // written over the least recently confirmed entry of its window
        is_static,  // a static entry: left as it is
        full,       // every slot of the window is static, another writer held the
                    // table too long, or the IP is 0.0.0.0: nothing written
    };
    // Records ip -> mac, confirmed at `now`. Never overwrites a static entry.
    update_result learn(ipv4_addr ip, mac_addr mac, nanos now);
    // Marks ip as failed (after the retries ran out) unless it is static or
    // was confirmed within `timeout` (another core's reply wins).
    void mark_failed(ipv4_addr ip, nanos now);
    // Upper-layer proof that ip's MAC works (RFC 1122 2.3.2.1): a learnt
    // entry, reachable or stale, is reachable again from `now`. Writes only
    // when the entry is past half its timeout, so frequent calls stay reads.
    // True when it wrote.
    bool confirm(ipv4_addr ip, nanos now);

    // Frees every entry ARP wrote (reachable, stale, failed); static ones
    // stay. Returns how many went. For harnesses that reuse one table for
    // many runs (fuzz/), where learnt entries carry stamps of a past clock.
    uint32_t forget_learnt();

    uint32_t capacity() const { return _mask + 1; }
    size_t static_prefixes() const { return _prefixes.size(); }
    nanos timeout() const { return _timeout; }
    // Slots holding an entry (any state): for tests and gauges.
    uint32_t used_slots() const;

private:
    // bits 0..47 MAC, bits 48..55 entry_state (reachable, permanent or failed:
    // stale is reachable seen after `timeout`).
    static uint64_t pack(mac_addr m, entry_state s);
    static mac_addr unpack_mac(uint64_t w);
    static entry_state unpack_state(uint64_t w) { return entry_state((w >> 48) & 0xff); }

    // One slot is a seqlock: a writer makes `seq` odd, stores, and makes it
    // even again; a reader retries while `seq` is odd or moved, so it never
    // pairs one IP with another IP's MAC when a slot changes owner.
    struct alignas(32) slot {
        std::atomic<uint32_t> seq{0};
        std::atomic<uint32_t> ip{0};  // 0 = free (0.0.0.0 is never a neighbour)
        std::atomic<uint64_t> word{0};
        std::atomic<uint64_t> stamp{0};  // when `word` was last written
    };
    struct snapshot {
        uint32_t ip = 0;
        uint64_t word = 0;
        nanos stamp = 0;
    };
    // False when a writer kept the slot busy through every retry.
    bool read(const slot& s, snapshot& out) const;
    void write(slot& s, uint32_t ip, uint64_t word, nanos stamp);
    // Writers are rare (ARP frames, give-ups): one at a time. Readers never wait.
    bool lock_writers();
    void unlock_writers() { _writer.store(false, std::memory_order_release); }
    // Under the writer lock: the IP's slot, else a free one, else the window's
    // least recently confirmed non-static slot (`evicting` set). Null when the
    // window is all static.
    slot* place(ipv4_addr ip, nanos now, bool& evicting);
    entry_state effective(uint64_t word, nanos stamp, nanos now) const;

    struct prefix_entry {
        uint32_t net, mask;
        unsigned len;
        mac_addr mac;
    };

    std::unique_ptr<slot[]> _slots;
    uint32_t _mask;
    nanos _timeout, _failed_holddown;
    std::atomic<bool> _writer{false};
    std::vector<prefix_entry> _prefixes;  // static only: written before start
};

}  // namespace mvnf::arp
