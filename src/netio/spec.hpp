// Port spec strings, netmap's grammar extended with our backends:
//   shm:NAME            user-space shared-memory link (embedded default)
//   afxdp:IFNAME        AF_XDP (libxdp)
//   afpacket:IFNAME     AF_PACKET TPACKET_V3
//   tap:NAME            /dev/net/tun, IFF_TAP
//   netmap:IFNAME[...]  real netmap (suffixes -N, ^, *, {N, }N kept in `name`)
//   valeX:Y             a VALE switch port (netmap backend)
#pragma once

#include <string>
#include <string_view>

#include "netio/error.hpp"

namespace mvnf::netio {

enum class backend_kind { shm, afxdp, afpacket, tap, netmap };

struct port_spec {
    backend_kind kind = backend_kind::shm;
    std::string name;  // what follows the prefix ("vale0:1" whole for VALE)
};

result<port_spec> parse_spec(std::string_view spec);
const char* to_string(backend_kind k);

}  // namespace mvnf::netio
