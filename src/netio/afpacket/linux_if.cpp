// Interface look-ups for afpacket/afxdp open(): ioctls on a throw-away
// datagram socket, so they work in whatever namespace the caller is in
// (sysfs would show the namespace that mounted it instead).
#include "netio/afpacket/linux_if.hpp"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mvnf::netio::linux_if {

error from_errno(int err, const std::string& who, const std::string& what,
                 const std::string& needs) {
    std::string msg = who + ": " + what + ": " + std::strerror(err);
    switch (err) {
        case EPERM:
        case EACCES:
            return {errc::permission, msg + " (needs root or " + needs + ")"};
        case ENODEV:
        case ENXIO:
            return {errc::no_such_device, msg};
        case EBUSY:
            return {errc::busy, msg};
        case EOPNOTSUPP:
            return {errc::unsupported, msg};
        default:
            return {errc::system, msg};
    }
}

result<if_facts> lookup(const std::string& ifname, const std::string& who) {
    if (ifname.empty() || ifname.size() >= IFNAMSIZ)
        return fail(error{errc::bad_spec, who + ": interface name must be 1.." +
                                              std::to_string(IFNAMSIZ - 1) + " characters"});
    if_facts f;
    f.ifindex = int(if_nametoindex(ifname.c_str()));
    if (f.ifindex == 0)
        return fail(error{errc::no_such_device,
                          who + ": no interface '" + ifname + "' in this network namespace"});
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail(from_errno(errno, who, "socket", "CAP_NET_ADMIN"));
    struct closer {
        int fd;
        ~closer() { close(fd); }
    } guard{fd};

    ifreq ifr{};
    std::memcpy(ifr.ifr_name, ifname.c_str(), ifname.size());
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) != 0)
        return fail(from_errno(errno, who, "SIOCGIFHWADDR", "CAP_NET_ADMIN"));
    for (int i = 0; i < 6; ++i) f.mac.b[i] = uint8_t(ifr.ifr_hwaddr.sa_data[i]);
    if (ioctl(fd, SIOCGIFMTU, &ifr) != 0)
        return fail(from_errno(errno, who, "SIOCGIFMTU", "CAP_NET_ADMIN"));
    f.mtu = uint32_t(ifr.ifr_mtu);

    // Queue count: rx or combined channels, whichever the driver reports.
    // Devices without the ethtool op (lo, tun) have one queue.
    ethtool_channels ch{};
    ch.cmd = ETHTOOL_GCHANNELS;
    ifr.ifr_data = reinterpret_cast<char*>(&ch);
    if (ioctl(fd, SIOCETHTOOL, &ifr) == 0) {
        uint32_t n = ch.rx_count > ch.combined_count ? ch.rx_count : ch.combined_count;
        f.rx_queues = n ? n : 1;
    }
    return f;
}

}  // namespace mvnf::netio::linux_if
