// mtcp_init without `ip_addr`: a port on a kernel interface (afxdp:IF,
// afpacket:IF, netmap:IF) takes the IPv4 address and netmask the kernel has
// on that interface, as mTCP takes its DPDK ports' addresses from the
// kernel's view of them (ifconfig dpdk0 ...). Start-up code only.
#include <ifaddrs.h>
#include <netinet/in.h>

#include <cstring>

#include "api/context.hpp"
#include "netio/spec.hpp"

namespace mvnf::api {

std::optional<kernel_addr> kernel_interface_addr(const std::string& spec, std::string& why) {
    auto ps = netio::parse_spec(spec);
    if (!ps) {
        why = ps.error().message;
        return std::nullopt;
    }
    std::string ifname = ps->name;
    switch (ps->kind) {
        case netio::backend_kind::afxdp:
        case netio::backend_kind::afpacket: break;
        case netio::backend_kind::netmap:
            if (ifname.starts_with("vale")) {
                why = "a VALE port has no kernel interface";
                return std::nullopt;
            }
            // netmap's ring suffixes (eth0-1, eth0^, eth0*...) are not part of the name.
            ifname = ifname.substr(0, ifname.find_first_of("-^*{}@/"));
            break;
        default:
            // shm is ours alone; a tap's kernel side is the peer, not us.
            why = std::string("a ") + netio::to_string(ps->kind) + " port has no kernel address of ours";
            return std::nullopt;
    }
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) {
        why = std::string("getifaddrs: ") + std::strerror(errno);
        return std::nullopt;
    }
    std::optional<kernel_addr> found;
    for (ifaddrs* i = list; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || ifname != i->ifa_name) continue;
        sockaddr_in a, m{};
        std::memcpy(&a, i->ifa_addr, sizeof a);
        if (i->ifa_netmask) std::memcpy(&m, i->ifa_netmask, sizeof m);
        found = kernel_addr{ipv4_addr(ntohl(a.sin_addr.s_addr)),
                            i->ifa_netmask ? ipv4_addr(ntohl(m.sin_addr.s_addr))
                                           : ipv4_addr(255, 255, 255, 0),
                            ifname};
    }
    freeifaddrs(list);
    if (!found) why = "interface " + ifname + " has no IPv4 address in the kernel";
    return found;
}

}  // namespace mvnf::api
