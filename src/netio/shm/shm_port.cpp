// Placeholder entry point of the shm backend; replaced by the backend itself.
#include "netio/backends.hpp"

namespace mvnf::netio {

result<std::unique_ptr<port>> open_shm(const port_spec& spec, const port_config&) {
    return fail(error{errc::unsupported, "shm:" + spec.name + ": backend not built yet"});
}

}  // namespace mvnf::netio
