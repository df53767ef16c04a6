// Turns the name part of a netmap spec (what follows "netmap:", or a whole
// "valeX:Y") into a registration request, following libnetmap's port-name
// grammar. Called by open_netmap() and the netmap spec tests.
//
//   name   := base [pipe] [rings] ["/" flags]
//   base   := IFNAME | "vale" SW ":" PORT    (IFNAME may not contain - * ^ + { } / @)
//   pipe   := "{" ID | "}" ID                (master / slave side; kept in the name)
//   rings  := "-" N     one hardware ring pair        NR_REG_ONE_NIC, ringid N
//           | "*" | "+" all hardware + host rings      NR_REG_NIC_SW
//           | "^"       all host rings                 NR_REG_SW
//           | "^" N     one host ring pair             NR_REG_ONE_SW, ringid N
//           (none)      all hardware rings             NR_REG_ALL_NIC
//   flags  := "x"       exclusive access               NR_EXCLUSIVE
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "netio/error.hpp"

namespace mvnf::netio::netmap {

struct nm_request {
    std::string kernel_name;  // nmreq_header.nr_name: base plus pipe part
    std::string ifname;       // the interface (for MAC/MTU ioctls); empty for VALE
    uint32_t mode = 1;        // NR_REG_* (default NR_REG_ALL_NIC)
    uint16_t ringid = 0;
    uint64_t flags = 0;       // NR_*
    bool vale = false;
    bool pipe = false;
};

// `name` is port_spec::name of a netmap spec. Errors are errc::bad_spec and
// name the offending part.
result<nm_request> parse_netmap_name(std::string_view name);

}  // namespace mvnf::netio::netmap
