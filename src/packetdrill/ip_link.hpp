// The packetdrill "netdev": a netio::queue the stack owns one end of, while
// packetdrill's side deals in raw IPv4 packets. inject() wraps an IP packet in
// an Ethernet header; every frame the stack sends is kept with its virtual
// send time until pop_sent() strips the header again. Used by pd::host only.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "common/bytes.hpp"
#include "net/neighbor.hpp"
#include "net/time.hpp"
#include "netio/queue.hpp"
#include "wire/addr.hpp"

namespace mvnf::pd {

// Both ends of the fake wire. The peer MAC is what every outgoing frame is
// addressed to: there is no ARP, everything is routed to "the remote".
inline constexpr mac_addr local_mac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
inline constexpr mac_addr peer_mac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};

class ip_link final : public netio::queue {
public:
    static constexpr uint32_t buf_size = 2048;  // Ethernet header + IP MTU 1500, with room
    static constexpr uint32_t eth_len = 14;
    // Injected packets above the MTU (a peer's GRO'd or TSO'd segment, as a
    // kernel's receive path would hand up) go into a few buffers that hold
    // the largest IPv4 packet.
    static constexpr uint32_t jumbo_size = eth_len + 65535;
    static constexpr uint32_t num_jumbo = 8;

    // `clock` is read when the stack hands frames to tx_burst: that is the
    // packet's timestamp for netdev_receive.
    ip_link(const net::nanos* clock, uint32_t num_buffers);

    // Queues one IP packet for the stack's next rx_burst. False when it is
    // larger than an IPv4 packet can be or no buffer is free (the stack
    // keeps none for long, so that means many unprocessed injections).
    bool inject(bytes ip_packet);
    // Moves the oldest sent IP packet into out (truncated to out.size()).
    // Returns false when nothing was sent; `len` is the packet's full length.
    bool pop_sent(mut_bytes out, size_t& len, net::nanos& when);
    size_t sent_pending() const { return _sent.size(); }
    uint32_t free_buffers() const { return uint32_t(_free.size()); }
    uint32_t num_buffers() const { return _nbufs; }

    // netio::queue
    unsigned rx_burst(std::span<netio::packet> out) override;
    void release(std::span<const netio::packet> pkts) override;
    unsigned alloc_tx(std::span<netio::packet> out) override;
    unsigned tx_burst(std::span<netio::packet> pkts) override;
    void free_tx(std::span<const netio::packet> pkts) override;
    bool wait(int64_t) override { return !_rx.empty(); }
    netio::queue_stats stats() const override { return _stats; }

private:
    struct held {
        uint32_t idx = 0, len = 0;
        net::nanos when = 0;
    };
    std::byte* buf(uint32_t idx) {
        return idx < _nbufs ? _bufs.data() + size_t(idx) * buf_size
                            : _jumbo.data() + size_t(idx - _nbufs) * jumbo_size;
    }
    void put_back(uint32_t idx) { (idx < _nbufs ? _free : _jumbo_free).push_back(idx); }

    const net::nanos* _clock;
    uint32_t _nbufs;
    std::vector<std::byte> _bufs;
    std::vector<uint32_t> _free;
    std::vector<std::byte> _jumbo;      // num_jumbo x jumbo_size, handles _nbufs...
    std::vector<uint32_t> _jumbo_free;
    std::deque<held> _rx;    // injected, not yet taken by the stack
    std::deque<held> _sent;  // sent by the stack, not yet read by packetdrill
    netio::queue_stats _stats;
};

// Next-hop resolution without ARP: every destination is the peer.
class peer_neighbor final : public net::neighbor {
public:
    outcome resolve(ipv4_addr, const netio::packet&, net::nanos, mac_addr& mac) override {
        mac = peer_mac;
        return outcome::resolved;
    }
};

}  // namespace mvnf::pd
