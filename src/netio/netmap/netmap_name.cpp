// Parses netmap port names into registration requests (grammar in
// netmap_name.hpp). Called by open_netmap(); no syscalls here.
#include "netio/netmap/netmap_name.hpp"

#include "netio/netmap/netmap_abi.hpp"

namespace mvnf::netio::netmap {

namespace {

bool is_sep(char c) {
    switch (c) {
        case '-': case '*': case '^': case '+': case '{': case '}': case '/': case '@': return true;
        default: return false;
    }
}
bool is_word(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

result<nm_request> parse_netmap_name(std::string_view name) {
    const bool vale = name.starts_with("vale");
    const std::string shown = vale ? std::string(name) : "netmap:" + std::string(name);
    auto bad = [&](const std::string& why) {
        return fail(error{errc::bad_spec, "port spec '" + shown + "': " + why});
    };
    nm_request req;
    req.vale = vale;
    req.mode = nr_reg_all_nic;
    size_t i = 0;

    // base
    if (vale) {
        size_t colon = name.find(':');
        if (colon == std::string_view::npos) return bad("VALE port must be valeSWITCH:PORT");
        i = colon + 1;
        size_t start = i;
        while (i < name.size() && is_word(name[i])) ++i;
        if (i == start) return bad("VALE port name missing after ':'");
        if (i < name.size() && !is_sep(name[i]))
            return bad(std::string("unexpected character '") + name[i] + "' in VALE port name");
    } else {
        while (i < name.size() && !is_sep(name[i])) {
            unsigned char c = static_cast<unsigned char>(name[i]);
            if (c <= ' ' || c == 0x7f || c == ':')
                return bad("interface name contains a space, control character or ':'");
            ++i;
        }
        if (i == 0) return bad("interface name missing");
        if (i >= nm_ifnamsiz) return bad("interface name longer than 15 characters");
        req.ifname = std::string(name.substr(0, i));
    }

    // pipe: "{ID" or "}ID", kept in the kernel's name (the kernel parses it)
    if (i < name.size() && (name[i] == '{' || name[i] == '}')) {
        char side = name[i++];
        size_t start = i;
        while (i < name.size() && is_word(name[i])) ++i;
        if (i == start) return bad(std::string("pipe id expected after '") + side + "'");
        req.pipe = true;
    }
    req.kernel_name = std::string(name.substr(0, i));
    if (req.kernel_name.size() >= nm_req_ifnamsiz) return bad("name longer than 63 characters");

    auto number = [&](const char* what) -> result<uint16_t> {
        size_t start = i;
        uint32_t v = 0;
        while (i < name.size() && name[i] >= '0' && name[i] <= '9') {
            v = v * 10 + uint32_t(name[i] - '0');
            if (v > nm_ring_mask)
                return fail(error{errc::bad_spec, "port spec '" + shown + "': " + what +
                                                      " larger than 4095"});
            ++i;
        }
        if (i == start)
            return fail(error{errc::bad_spec,
                              "port spec '" + shown + "': " + what + " expected after '" +
                                  std::string(1, name[start - 1]) + "'"});
        return uint16_t(v);
    };

    // ring selector
    if (i < name.size()) {
        char c = name[i];
        if (c == '-') {
            ++i;
            auto n = number("ring number");
            if (!n) return fail(n.error());
            req.mode = nr_reg_one_nic;
            req.ringid = *n;
        } else if (c == '*' || c == '+') {
            ++i;
            req.mode = nr_reg_nic_sw;
        } else if (c == '^') {
            ++i;
            if (i < name.size() && name[i] >= '0' && name[i] <= '9') {
                auto n = number("host ring number");
                if (!n) return fail(n.error());
                req.mode = nr_reg_one_sw;
                req.ringid = *n;
            } else {
                req.mode = nr_reg_sw;
            }
        }
    }

    // flags
    if (i < name.size() && name[i] == '/') {
        ++i;
        if (i == name.size()) return bad("flags expected after '/'");
        for (; i < name.size(); ++i) {
            char f = name[i];
            if (f == 'x') req.flags |= nr_exclusive;
            else if (f == 'z' || f == 't' || f == 'r')
                return bad(std::string("flag '") + f + "': monitor ports are not supported");
            else if (f == 'R' || f == 'T')
                return bad(std::string("flag '") + f +
                           "': one-direction ports are not supported (a port needs rx and tx)");
            else
                return bad(std::string("unknown flag '") + f + "' (supported: x)");
        }
    }
    if (i < name.size()) {
        if (name[i] == '@') return bad("netmap options ('@...') are not supported");
        return bad("unexpected '" + std::string(name.substr(i)) + "' after the port name");
    }
    return req;
}

}  // namespace mvnf::netio::netmap
