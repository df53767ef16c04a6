// Parser for mtcp.conf-style files: `key = value`, `#` comments, blank lines.
// Unknown keys and bad values are errors with file and line (mTCP silently
// ignored them, which hid typos).
#include "config/config.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <sstream>

namespace mvnf::cfg {

std::string error::str() const {
    // Appended piecewise: GCC 12 at -O3 reports a false -Wrestrict on
    // `":" + std::to_string(...)` (a temporary concatenation).
    std::string s = file;
    if (line > 0) s.append(":").append(std::to_string(line));
    s.append(": ").append(message);
    return s;
}

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

std::vector<std::string> words(std::string_view s) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == ' ' || c == '\t' || c == ',') {
            if (!cur.empty()) out.push_back(std::move(cur)), cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) out.push_back(std::move(cur));
    return out;
}

// A setter returns an empty string on success, or the reason the value is bad.
using setter = std::function<std::string(config&, std::string_view)>;

setter int_in(int config::*field, long lo, long hi, const char* unit = "") {
    return [=](config& c, std::string_view v) -> std::string {
        long n = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc() || p != v.data() + v.size())
            return "expected an integer, got '" + std::string(v) + "'";
        if (n < lo || n > hi)
            return "value " + std::to_string(n) + " out of range " + std::to_string(lo) + ".." +
                   std::to_string(hi) + unit;
        c.*field = static_cast<int>(n);
        return {};
    };
}

setter pow2_in(int config::*field, long lo, long hi) {
    auto base = int_in(field, lo, hi);
    return [=](config& c, std::string_view v) -> std::string {
        std::string e = base(c, v);
        if (!e.empty()) return e;
        int n = c.*field;
        if (n & (n - 1)) return "value " + std::to_string(n) + " must be a power of two";
        return {};
    };
}

setter ip_field(ipv4_addr config::*field) {
    return [=](config& c, std::string_view v) -> std::string {
        auto a = ipv4_addr::parse(v);
        if (!a) return "expected an IPv4 address (a.b.c.d), got '" + std::string(v) + "'";
        c.*field = *a;
        return {};
    };
}

setter str_field(std::string config::*field) {
    return [=](config& c, std::string_view v) -> std::string {
        c.*field = std::string(v);
        return {};
    };
}

setter bool_field(bool config::*field) {
    return [=](config& c, std::string_view v) -> std::string {
        if (v == "1" || v == "yes" || v == "on" || v == "true") c.*field = true;
        else if (v == "0" || v == "no" || v == "off" || v == "false") c.*field = false;
        else return "expected 0/1, yes/no, on/off or true/false, got '" + std::string(v) + "'";
        return {};
    };
}

// An mTCP key that has no effect here: accepted with a notice.
setter no_effect(const char* why) {
    return [why](config& c, std::string_view) -> std::string {
        c.notices.push_back(std::string("no effect here: ") + why);
        return {};
    };
}

struct key_def {
    std::string_view name;
    setter set;
};

const std::vector<key_def>& table() {
    static const std::vector<key_def> t = {
        // mTCP's keys.
        {"io", [](config& c, std::string_view v) -> std::string {
             static const char* ok[] = {"shm", "afxdp", "afpacket", "tap", "netmap"};
             for (auto o : ok)
                 if (v == o) return c.io = std::string(v), std::string();
             // mTCP's own I/O modules: the file loads, the port's prefix decides.
             static const char* mtcp_only[] = {"dpdk", "psio", "onvm"};
             for (auto o : mtcp_only)
                 if (v == o) {
                     c.io.clear();
                     c.notices.push_back("io = " + std::string(v) +
                                         " is mTCP's I/O module, not available here: give "
                                         "'port' a backend prefix (shm:, afxdp:, afpacket:, "
                                         "tap:, netmap:)");
                     return {};
                 }
             return "unknown io backend '" + std::string(v) +
                    "' (expected shm, afxdp, afpacket, tap or netmap; mTCP's dpdk, psio "
                    "and onvm are accepted and have no effect)";
         }},
        {"num_cores", int_in(&config::num_cores, 1, 64)},
        {"core_mask", [](config& c, std::string_view v) -> std::string {
             std::string_view h = v;
             if (h.starts_with("0x") || h.starts_with("0X")) h.remove_prefix(2);
             unsigned long long m = 0;
             auto [p, ec] = std::from_chars(h.data(), h.data() + h.size(), m, 16);
             if (h.empty() || ec != std::errc() || p != h.data() + h.size() || m == 0)
                 return "expected a non-zero hexadecimal CPU mask, got '" + std::string(v) + "'";
             c.core_list.clear();
             for (int i = 0; i < 64; ++i)
                 if (m >> i & 1) c.core_list.push_back(i);
             return {};
         }},
        {"port", [](config& c, std::string_view v) -> std::string {
             auto w = words(v);
             if (w.empty()) return "expected one or more port names";
             c.ports = std::move(w);
             return {};
         }},
        {"max_concurrency", int_in(&config::max_concurrency, 1, 4 * 1024 * 1024)},
        {"max_num_buffers", int_in(&config::max_num_buffers, 1, 4 * 1024 * 1024)},
        {"rcvbuf", int_in(&config::rcvbuf, 1024, 64 * 1024 * 1024, " bytes")},
        {"sndbuf", int_in(&config::sndbuf, 1024, 64 * 1024 * 1024, " bytes")},
        {"tcp_timeout", [](config& c, std::string_view v) -> std::string {
             if (v == "-1") return c.tcp_timeout = -1, std::string();
             return int_in(&config::tcp_timeout, 1, 86400, " s (or -1 to disable)")(c, v);
         }},
        {"tcp_timewait", int_in(&config::tcp_timewait, 0, 600, " s")},
        {"stat_print", [](config& c, std::string_view v) -> std::string {
             c.stat_print = words(v);
             return {};
         }},
        // ADDR:PORT of the Prometheus text endpoint (src/api/stat_http.cpp).
        {"stat_http", [](config& c, std::string_view v) -> std::string {
             const auto colon = v.rfind(':');
             const std::string bad = "expected ADDR:PORT (e.g. 127.0.0.1:9100), got '" +
                                     std::string(v) + "'";
             if (colon == std::string_view::npos) return bad;
             auto a = ipv4_addr::parse(v.substr(0, colon));
             const std::string_view p = v.substr(colon + 1);
             unsigned port = 0;
             auto [e, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
             if (!a || p.empty() || ec != std::errc() || e != p.data() + p.size() || port == 0 ||
                 port > 65535)
                 return bad;
             c.stat_http_ip = *a;
             c.stat_http_port = uint16_t(port);
             return {};
         }},
        {"udp_send_buffer", int_in(&config::udp_send_buffer, 1024, 64 * 1024 * 1024, " bytes")},
        {"udp_receive_buffer",
         int_in(&config::udp_receive_buffer, 1024, 64 * 1024 * 1024, " bytes")},
        // mTCP keys with no effect here: accepted so mTCP's files load as
        // they are, each with a one-line notice saying so.
        {"num_mem_ch", no_effect("DPDK's memory channels")},
        {"multiprocess", no_effect("mTCP's DPDK multi-process mode; here each process opens its own port")},
        {"num_ip", no_effect("one address per port here ('ip_addr')")},
        {"cc", [](config& c, std::string_view v) -> std::string {
             // mTCP's CCP congestion control name: reno and cubic map to ours.
             if (v == "reno" || v == "cubic") {
                 c.cc = v == "reno" ? congestion::reno : congestion::cubic;
                 c.notices.push_back("cc = " + std::string(v) +
                                     " taken as congestion_control = " + std::string(v));
                 return {};
             }
             c.notices.push_back("cc = " + std::string(v) +
                                 ": no such congestion control here (reno, cubic); "
                                 "congestion_control decides");
             return {};
         }},
        {"onvm_inst", no_effect("OpenNetVM only")},
        {"onvm_serv", no_effect("OpenNetVM only")},
        {"onvm_dest", no_effect("OpenNetVM only")},
        // This project's keys.
        {"ip_addr", ip_field(&config::ip_addr)},
        {"netmask", ip_field(&config::netmask)},
        {"gateway", ip_field(&config::gateway)},
        {"mac_addr", [](config& c, std::string_view v) -> std::string {
             auto m = mac_addr::parse(v);
             if (!m) return "expected a MAC address (aa:bb:cc:dd:ee:ff), got '" + std::string(v) + "'";
             c.mac = *m;
             return {};
         }},
        {"dist_mode", [](config& c, std::string_view v) -> std::string {
             if (v == "hw") c.dist = dist_mode::hw;
             else if (v == "sw") c.dist = dist_mode::sw;
             else return "expected hw or sw, got '" + std::string(v) + "'";
             return {};
         }},
        {"dispatcher_threads", int_in(&config::dispatcher_threads, 1, 2)},
        {"thread_mode", [](config& c, std::string_view v) -> std::string {
             if (v == "rtc" || v == "run_to_completion") c.threads = thread_mode::run_to_completion;
             else if (v == "thread" || v == "stack_thread") c.threads = thread_mode::stack_thread;
             else return "expected rtc or thread, got '" + std::string(v) + "'";
             return {};
         }},
        {"num_queues", int_in(&config::num_queues, 0, 64)},
        {"rx_batch", int_in(&config::rx_batch, 1, 1024)},
        {"tx_batch", int_in(&config::tx_batch, 1, 1024)},
        {"ring_size", pow2_in(&config::ring_size, 64, 65536)},
        {"pipe_size", pow2_in(&config::pipe_size, 64, 65536)},
        {"buf_size", int_in(&config::buf_size, 256, 9216, " bytes")},
        {"mtu", int_in(&config::mtu, 576, 9000, " bytes")},
        {"congestion_control", [](config& c, std::string_view v) -> std::string {
             if (v == "reno" || v == "newreno") c.cc = congestion::reno;
             else if (v == "cubic") c.cc = congestion::cubic;
             else return "expected reno or cubic, got '" + std::string(v) + "'";
             return {};
         }},
        {"syn_backlog", int_in(&config::syn_backlog, 1, 1 << 20)},
        {"syn_cookies", bool_field(&config::syn_cookies)},
        {"tcp_ecn", int_in(&config::tcp_ecn, 0, 2, " (0 off, 1 ask and grant, 2 grant only)")},
        // Each listener owns min(syn_backlog, 65536) accept-queue slots per
        // core, allocated at mtcp_create_context: bounded so a typo cannot
        // ask for gigabytes.
        // 0: max(4096, 4 x max_concurrency). When the ring overflows the C
        // API rebuilds readiness from the connections (no wake-up is lost),
        // at the cost of one scan of the socket table.
        {"tcp_event_queue", int_in(&config::tcp_event_queue, 0, 1 << 24, " events per core")},
        {"max_listeners", int_in(&config::max_listeners, 1, 1024, " listeners per core")},
        {"tcp_fin_wait_2",
         int_in(&config::tcp_fin_wait_2, 0, 86400, " s (0: no FIN-WAIT-2 timeout)")},
        {"arp_retries", int_in(&config::arp_retries, 0, 64)},
        {"arp_timeout_ms", int_in(&config::arp_timeout_ms, 1, 60000, " ms")},
        {"arp_reachable_ms", int_in(&config::arp_reachable_ms, 1000, 3600000, " ms")},
        // Held frames are port TX buffers; each core holds up to 64
        // destinations x arp_queue_len of them, taken from the port's ring.
        {"arp_queue_len", int_in(&config::arp_queue_len, 1, 1024, " frames")},
        {"arp_queue_bytes", int_in(&config::arp_queue_bytes, 64, 16 << 20, " bytes")},
        // Reassembly state is preallocated per core: datagrams x fragments
        // slots, bounded so a typo cannot ask for gigabytes.
        {"ipfrag_max_datagrams", int_in(&config::ipfrag_max_datagrams, 1, 4096, " datagrams")},
        {"ipfrag_max_fragments", int_in(&config::ipfrag_max_fragments, 1, 256, " fragments")},
        {"ipfrag_high_thresh", int_in(&config::ipfrag_high_thresh, 1024, 256 << 20, " bytes")},
        {"ipfrag_time", int_in(&config::ipfrag_time, 1, 120, " s")},
        {"arp_conf", str_field(&config::arp_conf)},
        {"route_conf", str_field(&config::route_conf)},
        {"pcap_file", str_field(&config::pcap_file)},
        {"busy_poll_us", int_in(&config::busy_poll_us, 0, 1000000, " us")},
        {"destroy_drain_ms", int_in(&config::destroy_drain_ms, 0, 60000, " ms")},
    };
    return t;
}

}  // namespace

const std::vector<std::string_view>& known_keys() {
    static const std::vector<std::string_view> keys = [] {
        std::vector<std::string_view> k;
        for (auto& d : table()) k.push_back(d.name);
        return k;
    }();
    return keys;
}

result<config> parse(std::string_view text, std::string_view file) {
    config c;
    int lineno = 0, stat_line = 0;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        ++lineno;
        if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
        line = trim(line);
        if (line.empty()) continue;
        auto eq = line.find('=');
        auto err = [&](std::string msg) {
            return fail(error{std::string(file), lineno, std::move(msg)});
        };
        if (eq == std::string_view::npos) return err("expected 'key = value', got '" + std::string(line) + "'");
        std::string_view key = trim(line.substr(0, eq));
        std::string_view val = trim(line.substr(eq + 1));
        if (key.empty()) return err("missing key before '='");
        const key_def* def = nullptr;
        for (auto& d : table())
            if (d.name == key) def = &d;
        if (!def) return err("unknown key '" + std::string(key) + "'");
        if (val.empty()) return err("missing value for '" + std::string(key) + "'");
        const size_t notes = c.notices.size();
        if (std::string why = def->set(c, val); !why.empty())
            return err(std::string(key) + ": " + why);
        for (size_t i = notes; i < c.notices.size(); ++i) {
            std::string n = std::string(file) + ":" + std::to_string(lineno) + ": ";
            if (!c.notices[i].starts_with(key)) n.append(key).append(": ");
            c.notices[i] = n + c.notices[i];
        }
        if (key == "port") c.port_line = lineno;
        if (key == "stat_print") stat_line = lineno;
        if (nl == text.size()) break;
    }
    // mTCP names the interface to print (stat_print = dpdk0); with a single
    // port here, a name that is not a port means that port.
    if (c.ports.size() == 1)
        for (auto& s : c.stat_print)
            if (s != c.ports[0] && !c.ports[0].ends_with(":" + s)) {
                c.notices.push_back(std::string(file) + ":" + std::to_string(stat_line) +
                                    ": stat_print: '" + s + "' is not a configured port; " +
                                    "printing the only port, " + c.ports[0]);
                s = c.ports[0];
            }
    if (auto v = validate(c, file); !v) return fail(v.error());
    return c;
}

// 16 MiB of accept queues per core: max_listeners x min(syn_backlog, 65536).
constexpr int64_t max_accept_slots = 4 * 1024 * 1024;

result<void> validate(const config& c, std::string_view file) {
    auto err = [&](std::string msg) { return fail(error{std::string(file), 0, std::move(msg)}); };
    if (c.dist == dist_mode::sw && c.num_queues > 1)
        return err("dist_mode = sw reads a single-queue port; num_queues must be 0 or 1");
    if (c.dist == dist_mode::hw && c.num_queues != 0 && c.num_queues < c.num_cores)
        return err("dist_mode = hw needs one queue per core: num_queues (" +
                   std::to_string(c.num_queues) + ") < num_cores (" + std::to_string(c.num_cores) + ")");
    if (!c.core_list.empty() && static_cast<int>(c.core_list.size()) < c.num_cores)
        return err("core_mask names fewer CPUs than num_cores");
    if (c.mtu + 14 > c.buf_size)
        return err("mtu " + std::to_string(c.mtu) + " does not fit buf_size " +
                   std::to_string(c.buf_size) + " (needs mtu + 14)");
    // The TCP layer allocates one accept-queue slot (4 bytes) per listener
    // and backlog entry, per core, when the context is created.
    if (int64_t(c.max_listeners) * std::min(c.syn_backlog, 65536) > max_accept_slots)
        return err("max_listeners (" + std::to_string(c.max_listeners) + ") x syn_backlog (" +
                   std::to_string(std::min(c.syn_backlog, 65536)) + ") exceeds " +
                   std::to_string(max_accept_slots) + " accept-queue slots per core");
    for (auto& s : c.stat_print) {
        bool found = false;
        for (auto& p : c.ports) found |= (p == s || p.ends_with(":" + s));
        if (!found) return err("stat_print names '" + s + "', which is not a configured port");
    }
    return {};
}

result<config> load(const std::string& path) {
    std::ifstream in(path);
    if (!in) return fail(error{path, 0, "cannot open configuration file"});
    std::stringstream ss;
    ss << in.rdbuf();
    return parse(ss.str(), path);
}

}  // namespace mvnf::cfg
