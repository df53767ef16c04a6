// Errors of the packet I/O surface. Every failure to open or drive a port is
// reported as an error value naming the cause; nothing here throws.
#pragma once

#include <string>

#include "common/result.hpp"

namespace mvnf::netio {

enum class errc {
    bad_spec,          // the spec string does not parse (unknown prefix, empty name...)
    no_such_device,    // interface / shm link / device node missing
    permission,        // needs root or CAP_NET_RAW / CAP_NET_ADMIN / CAP_BPF
    unsupported,       // backend not available in this build or on this kernel
    bad_config,        // queue count, ring size, buffer size or MTU the device cannot do
    busy,              // already attached (e.g. both ends of a shm link taken)
    peer_gone,         // the other end of a link died or detached
    system,            // any other OS error; message carries strerror
};

struct error {
    errc code = errc::system;
    std::string message;  // human-readable, names the port and the cause
};

template <class T>
using result = mvnf::result<T, error>;

inline const char* to_string(errc c) {
    switch (c) {
        case errc::bad_spec: return "bad port spec";
        case errc::no_such_device: return "no such device";
        case errc::permission: return "permission denied";
        case errc::unsupported: return "unsupported";
        case errc::bad_config: return "bad configuration";
        case errc::busy: return "busy";
        case errc::peer_gone: return "peer gone";
        case errc::system: return "system error";
    }
    return "?";
}

}  // namespace mvnf::netio
