// Placeholder entry point of the afpacket backend; replaced by the backend itself.
#include "netio/backends.hpp"

namespace mvnf::netio {

result<std::unique_ptr<port>> open_afpacket(const port_spec& spec, const port_config&) {
    return fail(error{errc::unsupported, "afpacket:" + spec.name + ": backend not built yet"});
}

}  // namespace mvnf::netio
