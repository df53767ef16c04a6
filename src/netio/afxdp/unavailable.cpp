// open_afxdp when the build has no AF_XDP backend (libxdp/libbpf were not
// found at configure time, or MVNF_AFXDP=OFF): the port spec still parses,
// and opening it says why it cannot work. Called by open_port().
#include "netio/backends.hpp"

namespace mvnf::netio {

result<std::unique_ptr<port>> open_afxdp(const port_spec& spec, const port_config&) {
    return fail(error{errc::unsupported,
                      "afxdp:" + spec.name +
                          ": this build has no AF_XDP backend (libxdp and libbpf were not found "
                          "at configure time; install libxdp-dev libbpf-dev and rebuild)"});
}

}  // namespace mvnf::netio
