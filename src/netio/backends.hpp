// Entry points of the backends, one per folder under src/netio/. Only
// open_port() calls these; each returns a clear error when its backend cannot
// run here (no device, no privileges, not compiled in).
#pragma once

#include <memory>

#include "netio/port.hpp"
#include "netio/spec.hpp"

namespace mvnf::netio {

result<std::unique_ptr<port>> open_shm(const port_spec& spec, const port_config& cfg);
result<std::unique_ptr<port>> open_afxdp(const port_spec& spec, const port_config& cfg);
result<std::unique_ptr<port>> open_afpacket(const port_spec& spec, const port_config& cfg);
result<std::unique_ptr<port>> open_tap(const port_spec& spec, const port_config& cfg);
result<std::unique_ptr<port>> open_netmap(const port_spec& spec, const port_config& cfg);

}  // namespace mvnf::netio
