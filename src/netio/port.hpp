// A port: a named network attachment with N queue pairs, opened from a spec
// string (`shm:NAME`, `afxdp:IFNAME`, `afpacket:IFNAME`, `tap:NAME`,
// `netmap:IFNAME`, `valeX:Y`, `IFNAME{N`...). Called by dist and tools.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "netio/error.hpp"
#include "netio/queue.hpp"
#include "wire/addr.hpp"

namespace mvnf::netio {

struct port_config {
    uint32_t num_queues = 1;
    uint32_t ring_size = 1024;  // slots per ring (power of two)
    uint32_t buf_size = 2048;   // bytes per buffer (jumbo: up to 9216 on shm)
    uint32_t mtu = 0;           // 0: the device's own; otherwise must match or be settable
    bool force_copy = false;    // AF_XDP: copy mode even where zero-copy exists
    std::string pcap_file;      // when set, every frame in and out is captured (debug wrapper)
};

struct port_info {
    std::string spec;     // as given
    std::string backend;  // "shm", "afxdp", ...
    std::string name;     // interface / link name
    mac_addr mac;
    uint32_t mtu = 1500;
    uint32_t num_queues = 1;
    uint32_t buf_size = 2048;
    bool zero_copy = false;
    // Why frames are copied when !zero_copy, in the backend's words (e.g.
    // "zero-copy bind: Operation not supported" for a driver without it).
    std::string copy_reason;
    // afxdp only: how the XDP program is attached, "native" (in the driver)
    // or "generic" (after the kernel built an skb: slower, never zero-copy).
    std::string xdp_mode;
    // Anything else done to the device at open that the user should know.
    std::string note;
};

// One line saying how the port moves frames, printed by mtcp_init when it
// opens the port: "afxdp:eth1: XDP native, copy mode (zero-copy bind:
// Operation not supported), 2 queue(s), 2048-byte frames, MTU 1500".
std::string describe(const port_info& info);

class port {
public:
    virtual ~port() = default;
    virtual const port_info& info() const = 0;
    virtual queue& q(unsigned idx) = 0;
    unsigned num_queues() const { return info().num_queues; }
    // True while the far end is attached and alive (always true for NICs).
    virtual bool peer_alive() const { return true; }
};

// Opens a port. Errors name the spec and the cause (see errc).
result<std::unique_ptr<port>> open_port(std::string_view spec, const port_config& cfg);

}  // namespace mvnf::netio
