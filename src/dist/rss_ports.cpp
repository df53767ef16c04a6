// RSS-aware local port choice (see rss_ports.hpp). Uses the shared RSS code
// (src/netio/rss) so the mapping is exactly the dispatcher's and shm's.
#include "dist/rss_ports.hpp"

#include "netio/rss/rss.hpp"

namespace mvnf::dist {

unsigned reply_core(const rss_endpoint& ep, uint16_t local_port) {
    netio::flow_key k;
    k.kind = netio::flow_kind::ipv4_ports;
    k.proto = 6;
    k.src = ep.remote_ip;  // the reply: remote -> local (symmetric key: same either way)
    k.dst = ep.local_ip;
    k.sport = ep.remote_port;
    k.dport = local_port;
    return netio::rss_queue(netio::rss_hash(k), ep.ncores);
}

rss_port_iter::rss_port_iter(const rss_endpoint& ep, unsigned core, uint16_t start_after)
    : _ep(ep), _core(core) {
    uint32_t lo = ep.first_port, hi = ep.last_port;
    if (hi < lo) {
        _cur = lo;
        _left = 0;
        return;
    }
    _left = hi - lo + 1;
    _cur = (start_after >= lo && start_after < hi) ? start_after + 1u : lo;
}

std::optional<uint16_t> rss_port_iter::next() {
    while (_left) {
        uint16_t p = uint16_t(_cur);
        --_left;
        _cur = _cur >= _ep.last_port ? _ep.first_port : _cur + 1;
        if (reply_core(_ep, p) == _core) return p;
    }
    return std::nullopt;
}

std::vector<uint16_t> ports_for_core(const rss_endpoint& ep, unsigned core) {
    std::vector<uint16_t> out;
    rss_port_iter it(ep, core, ep.last_port);  // start at first_port
    while (auto p = it.next()) out.push_back(*p);
    return out;
}

}  // namespace mvnf::dist
