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
#include <vector>

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

namespace {

// A throw-away datagram socket for SIOCETHTOOL, closed on scope exit.
struct ctl_socket {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ~ctl_socket() {
        if (fd >= 0) close(fd);
    }
    // SIOCETHTOOL with `data` on ifname: 0 or errno.
    int ethtool(const std::string& ifname, void* data) const {
        if (fd < 0) return errno ? errno : EBADF;
        if (ifname.empty() || ifname.size() >= IFNAMSIZ) return EINVAL;
        ifreq ifr{};
        std::memcpy(ifr.ifr_name, ifname.c_str(), ifname.size());
        ifr.ifr_data = static_cast<char*>(data);
        return ioctl(fd, SIOCETHTOOL, &ifr) == 0 ? 0 : errno;
    }
};

}  // namespace

std::string driver_name(const std::string& ifname) {
    ctl_socket s;
    ethtool_drvinfo d{};
    d.cmd = ETHTOOL_GDRVINFO;
    if (s.ethtool(ifname, &d) != 0) return {};
    return std::string(d.driver, strnlen(d.driver, sizeof d.driver));
}

int reapply_rss(const std::string& ifname) {
    ctl_socket s;
    ethtool_rxfh sizes{};
    sizes.cmd = ETHTOOL_GRSSH;  // sizes only: indir_size = key_size = 0
    if (int e = s.ethtool(ifname, &sizes)) return e;
    if (sizes.indir_size == 0 && sizes.key_size == 0) return EOPNOTSUPP;
    if (sizes.indir_size > 65536 || sizes.key_size > 1024) return EINVAL;  // not a real device
    // ethtool_rxfh ends in a flexible array (indirection table, then key):
    // a vector of u32 is aligned for both.
    const size_t bytes = sizeof(ethtool_rxfh) + sizes.indir_size * 4u + sizes.key_size;
    std::vector<uint32_t> buf((bytes + 3) / 4);
    auto* r = reinterpret_cast<ethtool_rxfh*>(buf.data());
    r->cmd = ETHTOOL_GRSSH;
    r->indir_size = sizes.indir_size;
    r->key_size = sizes.key_size;
    if (int e = s.ethtool(ifname, r)) return e;
    r->cmd = ETHTOOL_SRSSH;
    r->hfunc = 0;  // the kernel's ETH_RSS_HASH_NO_CHANGE (not in the uapi header)
    r->rss_context = 0;
    return s.ethtool(ifname, r);
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
