// Linux interface facts and errno mapping shared by the kernel-socket
// backends (afpacket here, afxdp next door): index, MAC, MTU, queue count,
// each looked up in the calling thread's network namespace.
#pragma once

#include <cstdint>
#include <string>

#include "netio/error.hpp"
#include "wire/addr.hpp"

namespace mvnf::netio::linux_if {

struct if_facts {
    int ifindex = 0;
    mac_addr mac;
    uint32_t mtu = 0;
    uint32_t rx_queues = 1;  // channels the device has now (ETHTOOL_GCHANNELS)
};

// `who` prefixes every message ("afxdp:veth0"). Missing interface ->
// no_such_device naming it; any other failure -> system with strerror.
result<if_facts> lookup(const std::string& ifname, const std::string& who);

// The device's driver (ETHTOOL_GDRVINFO: "virtio_net", "veth"...); empty
// when it does not say.
std::string driver_name(const std::string& ifname);

// Reads the device's RSS indirection table and hash key (ETHTOOL_GRSSH) and
// writes them back unchanged (ETHTOOL_SRSSH), which makes the driver send
// them to the device again. Returns 0, or the errno of the step that failed
// (EOPNOTSUPP: the device has no RSS table).
int reapply_rss(const std::string& ifname);

// Maps an errno from socket()/setsockopt()/bpf() to our error enum: EPERM and
// EACCES become errc::permission with `needs` ("CAP_NET_RAW") in the text,
// ENODEV/ENXIO no_such_device, EBUSY busy, EOPNOTSUPP unsupported.
error from_errno(int err, const std::string& who, const std::string& what,
                 const std::string& needs);

// Rounds up to a power of two (v >= 1).
inline uint32_t pow2_ceil(uint32_t v) {
    uint32_t p = 1;
    while (p < v) p <<= 1;
    return p;
}

}  // namespace mvnf::netio::linux_if
