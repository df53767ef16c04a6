// Placeholder entry point of the netmap backend; replaced by the backend itself.
#include "netio/backends.hpp"

namespace mvnf::netio {

result<std::unique_ptr<port>> open_netmap(const port_spec& spec, const port_config&) {
    return fail(error{errc::unsupported, "netmap:" + spec.name + ": backend not built yet"});
}

}  // namespace mvnf::netio
