// arp.conf / route.conf parsers and the route table (see conf.hpp). Start-up
// code: allocates freely, returns every error with file:line and the cause.
#include "net/arp/conf.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace mvnf::arp {

std::string conf_error::message() const {
    std::string s = file;
    if (line) s += ":" + std::to_string(line);
    return s + ": " + reason;
}

namespace {

std::vector<std::string_view> split_ws(std::string_view line) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
        size_t j = i;
        while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
        if (j > i) out.push_back(line.substr(i, j - i));
        i = j;
    }
    return out;
}

struct cidr {
    ipv4_addr ip;
    unsigned len;
};

std::optional<cidr> parse_cidr(std::string_view s, std::string& why) {
    if (s == "default") return cidr{ipv4_addr{}, 0};
    size_t slash = s.find('/');
    auto ip = ipv4_addr::parse(s.substr(0, slash));
    if (!ip) {
        why = "bad IPv4 address '" + std::string(s.substr(0, slash)) + "'";
        return std::nullopt;
    }
    unsigned len = 32;
    if (slash != std::string_view::npos) {
        std::string_view p = s.substr(slash + 1);
        auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), len);
        if (p.empty() || ec != std::errc{} || ptr != p.data() + p.size() || len > 32) {
            why = "bad prefix length '" + std::string(p) + "' (expected 0..32)";
            return std::nullopt;
        }
    }
    return cidr{*ip, len};
}

// Walks the lines of a conf file: the `KEYWORD N` header, then N entries,
// each handed to `entry` (which returns an error reason or "").
template <class F>
result<void, conf_error> walk(std::string_view text, std::string_view file,
                              std::string_view keyword, F&& entry) {
    auto err = [&](unsigned line, std::string why) {
        return fail(conf_error{std::string(file), line, std::move(why)});
    };
    unsigned lineno = 0, declared = 0, seen = 0;
    bool have_header = false;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t nl = text.find('\n', pos);
        std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
        ++lineno;
        if (size_t h = line.find('#'); h != line.npos) line = line.substr(0, h);
        auto tok = split_ws(line);
        if (tok.empty()) continue;
        if (!have_header) {
            if (tok[0] != keyword)
                return err(lineno, "expected '" + std::string(keyword) + " <count>', got '" +
                                       std::string(tok[0]) + "'");
            if (tok.size() != 2) return err(lineno, "expected '" + std::string(keyword) + " <count>'");
            auto [ptr, ec] = std::from_chars(tok[1].data(), tok[1].data() + tok[1].size(), declared);
            if (ec != std::errc{} || ptr != tok[1].data() + tok[1].size())
                return err(lineno, "bad entry count '" + std::string(tok[1]) + "'");
            have_header = true;
            continue;
        }
        if (seen == declared)
            return err(lineno, "more entries than the " + std::to_string(declared) + " declared");
        std::string why = entry(tok);
        if (!why.empty()) return err(lineno, why);
        ++seen;
    }
    if (!have_header) return err(0, "missing '" + std::string(keyword) + " <count>' line");
    if (seen != declared)
        return err(0, std::to_string(declared) + " entries declared, " + std::to_string(seen) +
                          " found");
    return {};
}

result<std::string, conf_error> read_file(const std::string& path) {
    std::ifstream f(path);
    if (!f) return fail(conf_error{path, 0, "cannot open file"});
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

}  // namespace

result<std::vector<arp_conf_entry>, conf_error> parse_arp_conf(std::string_view text,
                                                               std::string_view file) {
    std::vector<arp_conf_entry> out;
    auto r = walk(text, file, "ARP_ENTRY", [&](const std::vector<std::string_view>& tok) {
        if (tok.size() != 2) return std::string("expected '<ip>/<prefix> <mac>'");
        std::string why;
        auto c = parse_cidr(tok[0], why);
        if (!c) return why;
        auto mac = mac_addr::parse(tok[1]);
        if (!mac) return "bad MAC address '" + std::string(tok[1]) + "'";
        if (mac->is_multicast() || mac->is_zero())
            return "MAC address " + mac->str() + " is multicast or zero";
        out.push_back({c->ip, c->len, *mac});
        return std::string();
    });
    if (!r) return fail(r.error());
    return out;
}

result<std::vector<route_entry>, conf_error> parse_route_conf(std::string_view text,
                                                              std::string_view file) {
    std::vector<route_entry> out;
    auto r = walk(text, file, "ROUTES", [&](const std::vector<std::string_view>& tok) {
        if (tok.size() != 2 && tok.size() != 3)
            return std::string("expected '<ip>/<prefix> <dev> [<gateway>]'");
        std::string why;
        auto c = parse_cidr(tok[0], why);
        if (!c) return why;
        route_entry e{c->ip, c->len, std::string(tok[1]), {}};
        // mTCP's default route is written `GW_IP/0 dev`: with prefix 0 the
        // address is the gateway (the destination part of a /0 is moot).
        if (tok.size() == 2 && c->len == 0 && !c->ip.is_any()) e.gateway = c->ip;
        if (tok.size() == 3) {
            auto gw = ipv4_addr::parse(tok[2]);
            if (!gw || gw->is_any() || gw->is_broadcast() || gw->is_multicast())
                return "bad gateway address '" + std::string(tok[2]) + "'";
            e.gateway = *gw;
        }
        out.push_back(std::move(e));
        return std::string();
    });
    if (!r) return fail(r.error());
    return out;
}

result<std::vector<arp_conf_entry>, conf_error> load_arp_conf(const std::string& path) {
    auto text = read_file(path);
    if (!text) return fail(text.error());
    return parse_arp_conf(*text, path);
}

result<std::vector<route_entry>, conf_error> load_route_conf(const std::string& path) {
    auto text = read_file(path);
    if (!text) return fail(text.error());
    return parse_route_conf(*text, path);
}

result<void, conf_error> add_static_entries(table& t, const std::vector<arp_conf_entry>& entries,
                                            std::string_view file) {
    for (const auto& e : entries)
        if (!t.add_static(e.ip, e.prefix_len, e.mac))
            return fail(conf_error{std::string(file), 0,
                                   "ARP table full adding " + e.ip.str() + "/" +
                                       std::to_string(e.prefix_len)});
    return {};
}

void route_table::add(const route_entry& r) {
    route_entry e = r;
    uint32_t mask = e.prefix_len == 0 ? 0 : ~uint32_t(0) << (32 - e.prefix_len);
    e.net = ipv4_addr(e.net.v & mask);
    _routes.push_back(std::move(e));
    std::stable_sort(_routes.begin(), _routes.end(), [](const route_entry& a, const route_entry& b) {
        return a.prefix_len > b.prefix_len;
    });
}

std::optional<route_table::hop> route_table::lookup(ipv4_addr dst) const {
    for (const auto& r : _routes) {
        uint32_t mask = r.prefix_len == 0 ? 0 : ~uint32_t(0) << (32 - r.prefix_len);
        if ((dst.v & mask) == r.net.v) return hop{r.gateway.is_any() ? dst : r.gateway, &r};
    }
    return std::nullopt;
}

}  // namespace mvnf::arp
