// pcap capture as a port decorator: wraps any port and writes every frame
// received (at rx_burst) and sent (at tx_burst) to a classic pcap file.
// open_port() applies it when port_config::pcap_file is set; tests and tools
// may wrap a port directly. See docs/netio/pcap.md.
#pragma once

#include <optional>

#include <cstdint>
#include <memory>
#include <string>

#include "netio/port.hpp"

namespace mvnf::netio {

struct pcap_options {
    bool nanosecond = true;       // magic a1b23c4d (ns) or a1b2c3d4 (us)
    uint32_t snaplen = 65535;     // frames longer than this are cut (orig_len kept)
    size_t buffer_bytes = 1 << 20;  // per queue; written to the file in chunks this big
};

// Creates (truncates) `path`, writes the file header and returns a port whose
// queues forward to `inner` and record what passes. The file is complete once
// the returned port is destroyed (buffers are flushed when each queue idles in
// wait() and on close).
result<std::unique_ptr<port>> wrap_pcap(std::unique_ptr<port> inner, const std::string& path,
                                        const pcap_options& opt = {});

// Capture counters of a port returned by wrap_pcap (nullptr for other ports).
struct pcap_counters {
    uint64_t records = 0;      // frames written or buffered
    uint64_t write_errors = 0; // failed writes (capture stops after the first)
};
// Counters of a pcap-wrapped port's queue (RX and TX summed); nullopt when
// the port is not wrapped.
std::optional<pcap_counters> pcap_stats(const port& p, unsigned queue_idx);

}  // namespace mvnf::netio
