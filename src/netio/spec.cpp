// Parses port spec strings (see spec.hpp). Called by open_port().
#include "netio/spec.hpp"

namespace mvnf::netio {

const char* to_string(backend_kind k) {
    switch (k) {
        case backend_kind::shm: return "shm";
        case backend_kind::afxdp: return "afxdp";
        case backend_kind::afpacket: return "afpacket";
        case backend_kind::tap: return "tap";
        case backend_kind::netmap: return "netmap";
    }
    return "?";
}

result<port_spec> parse_spec(std::string_view spec) {
    auto bad = [&](const std::string& why) {
        return fail(error{errc::bad_spec, "port spec '" + std::string(spec) + "': " + why});
    };
    auto colon = spec.find(':');
    if (colon == std::string_view::npos)
        return bad("expected PREFIX:NAME (shm:, afxdp:, afpacket:, tap:, netmap:, valeX:Y)");
    std::string_view prefix = spec.substr(0, colon);
    std::string_view name = spec.substr(colon + 1);

    port_spec out;
    if (prefix.starts_with("vale")) {
        // VALE switch names are "vale" + [A-Za-z0-9_]*; the whole spec is the name.
        for (char c : prefix.substr(4)) {
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '_';
            if (!ok) return bad("bad VALE switch name");
        }
        if (name.empty()) return bad("VALE port name missing after ':'");
        out.kind = backend_kind::netmap;
        out.name = std::string(spec);
        return out;
    }
    if (prefix == "shm") out.kind = backend_kind::shm;
    else if (prefix == "afxdp" || prefix == "xdp") out.kind = backend_kind::afxdp;
    else if (prefix == "afpacket" || prefix == "packet") out.kind = backend_kind::afpacket;
    else if (prefix == "tap") out.kind = backend_kind::tap;
    else if (prefix == "netmap") out.kind = backend_kind::netmap;
    else return bad("unknown backend prefix '" + std::string(prefix) +
                    "' (expected shm, afxdp, afpacket, tap, netmap or valeX)");
    if (name.empty()) return bad("name missing after '" + std::string(prefix) + ":'");
    // Interface names are at most IFNAMSIZ-1 (15) bytes; shm names are file
    // names under /dev/shm. netmap keeps its suffixes ({N, -N, ^...).
    if (out.kind != backend_kind::netmap && out.kind != backend_kind::shm && name.size() > 15)
        return bad("interface name longer than 15 characters");
    if (out.kind == backend_kind::shm) {
        if (name.size() > 200) return bad("shm link name too long");
        for (char c : name)
            if (c == '/' || c == '\0') return bad("shm link name may not contain '/'");
    }
    out.name = std::string(name);
    return out;
}

}  // namespace mvnf::netio
