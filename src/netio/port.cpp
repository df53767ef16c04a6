// open_port(): parses the spec, validates the generic config and dispatches to
// the backend. Debug wrappers (pcap capture) are applied here, around any
// backend, never inside one.
#include "netio/port.hpp"

#include <string>

#include "netio/backends.hpp"
#include "netio/pcap/pcap_port.hpp"
#include "netio/spec.hpp"

namespace mvnf::netio {

result<std::unique_ptr<port>> open_port(std::string_view spec_str, const port_config& cfg) {
    auto spec = parse_spec(spec_str);
    if (!spec) return fail(spec.error());
    auto bad = [&](const std::string& why) {
        return fail(error{errc::bad_config, "port '" + std::string(spec_str) + "': " + why});
    };
    if (cfg.num_queues == 0 || cfg.num_queues > 64) return bad("queue count must be 1..64");
    if (cfg.ring_size < 2 || cfg.ring_size > 65536 || (cfg.ring_size & (cfg.ring_size - 1)))
        return bad("ring size must be a power of two in 2..65536");
    if (cfg.buf_size < 256 || cfg.buf_size > 9216)
        return bad("buffer size must be 256..9216 bytes");

    auto opened = [&]() -> result<std::unique_ptr<port>> {
        switch (spec->kind) {
            case backend_kind::shm: return open_shm(*spec, cfg);
            case backend_kind::afxdp: return open_afxdp(*spec, cfg);
            case backend_kind::afpacket: return open_afpacket(*spec, cfg);
            case backend_kind::tap: return open_tap(*spec, cfg);
            case backend_kind::netmap: return open_netmap(*spec, cfg);
        }
        return bad("unknown backend");
    }();
    if (!opened || cfg.pcap_file.empty()) return opened;
    return wrap_pcap(std::move(*opened), cfg.pcap_file);
}

std::string describe(const port_info& i) {
    std::string d = i.spec + ":";
    if (!i.xdp_mode.empty()) d += " XDP " + i.xdp_mode + ",";
    if (i.zero_copy)
        d += " zero-copy";
    else if (i.copy_reason.empty())
        d += " copy mode";
    else
        d += " copy mode (" + i.copy_reason + ")";
    d += ", " + std::to_string(i.num_queues) + " queue(s), " + std::to_string(i.buf_size) +
         "-byte frames, MTU " + std::to_string(i.mtu);
    if (!i.note.empty()) d += "; " + i.note;
    return d;
}

}  // namespace mvnf::netio
