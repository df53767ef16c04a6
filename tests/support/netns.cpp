// RAII namespaces and veth pairs for kernel-facing tests (see netns.hpp).
// Shells out to iproute2/ethtool: this is set-up code, not a data path, and
// the commands double as documentation of the topology.
#include "netns.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

namespace mvnf::test {
namespace {

std::atomic<unsigned> g_counter{0};

uint64_t effective_caps() {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (syscall(SYS_capget, &hdr, data) != 0) return 0;
    return uint64_t(data[0].effective) | (uint64_t(data[1].effective) << 32);
}

bool has_cap(uint64_t caps, int cap) {
    return (caps >> cap) & 1;
}

// Namespaces left behind by a test process that crashed (name carries the
// pid): removed so they do not pile up across runs.
void reap_stale() {
    auto list = run("ip netns list 2>/dev/null");
    std::istringstream in(list.output);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("mvnf-", 0) != 0) continue;
        std::string name = line.substr(0, line.find(' '));
        long pid = std::strtol(name.c_str() + 5, nullptr, 10);
        if (pid > 0 && kill(pid_t(pid), 0) != 0 && errno == ESRCH)
            (void)run("ip netns del " + name + " 2>/dev/null");
    }
}

}  // namespace

bool have_net_caps() {
    uint64_t c = effective_caps();
    return has_cap(c, CAP_NET_ADMIN) && has_cap(c, CAP_NET_RAW);
}

std::string netns_unavailable_reason() {
    uint64_t c = effective_caps();
    if (!has_cap(c, CAP_NET_ADMIN) || !has_cap(c, CAP_SYS_ADMIN))
        return "needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces";
    if (!run("ip -V").ok()) return "iproute2 ('ip') is not installed";
    return {};
}

cmd_result run(const std::string& cmd) {
    cmd_result r;
    std::string full = cmd + " 2>&1";
    FILE* f = popen(full.c_str(), "r");
    if (!f) {
        r.output = "popen failed: " + std::string(std::strerror(errno));
        return r;
    }
    char buf[512];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) r.output.append(buf, n);
    int st = pclose(f);
    r.status = (st != -1 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
    return r;
}

netns::netns(const std::string& tag) {
    static std::atomic<bool> reaped{false};
    if (!reaped.exchange(true)) reap_stale();
    _name = "mvnf-" + std::to_string(getpid()) + "-" + std::to_string(g_counter++) + "-" + tag;
    auto r = run("ip netns add " + _name);
    if (!r.ok()) {
        _error = "ip netns add " + _name + ": " + r.output;
        return;
    }
    _ok = true;
    // No IPv6: keeps router solicitations and MLD reports off test links.
    (void)exec(
        "ip link set lo up; sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
        "net.ipv6.conf.default.disable_ipv6=1");
}

netns::~netns() {
    if (_ok) (void)run("ip netns del " + _name);
}

cmd_result netns::exec(const std::string& cmd) const {
    return run("ip netns exec " + _name + " sh -c '" + cmd + "'");
}

int socket_in(const netns& ns, int domain, int type, int protocol) {
    ns_enter in(ns);
    if (!in.ok()) return -1;
    return socket(domain, type | SOCK_CLOEXEC, protocol);
}

int run_without_caps(const std::function<int()>& fn) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        // Child: clear every capability set (uid stays 0, which alone grants
        // nothing for sockets or bpf), then run fn.
        __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
        __user_cap_data_struct data[2]{};
        if (syscall(SYS_capset, &hdr, data) != 0) _exit(120);
        _exit(fn() & 0x7f);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

ns_enter::ns_enter(const netns& ns) {
    _saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int fd = open(("/run/netns/" + ns.name()).c_str(), O_RDONLY | O_CLOEXEC);
    if (_saved < 0 || fd < 0) {
        _error = "open namespace " + ns.name() + ": " + std::strerror(errno);
    } else if (setns(fd, CLONE_NEWNET) != 0) {
        _error = "setns " + ns.name() + ": " + std::strerror(errno);
    } else {
        _ok = true;
    }
    if (fd >= 0) close(fd);
}

ns_enter::~ns_enter() {
    if (_ok) (void)setns(_saved, CLONE_NEWNET);
    if (_saved >= 0) close(_saved);
}

veth_lab::veth_lab(const veth_options& opt) {
    _a.emplace("a");
    _b.emplace("b");
    if (!_a->ok() || !_b->ok()) {
        _error = _a->ok() ? _b->error() : _a->error();
        return;
    }
    // IFNAMSIZ is 16: "mv" + pid + 'x' + counter + end letter stays below it.
    std::string base = "mv" + std::to_string(getpid()) + "x" + std::to_string(g_counter++ % 1000);
    _a_if = base + "a";
    _b_if = base + "b";
    std::string q = std::to_string(opt.queues);
    std::string qs = " numtxqueues " + q + " numrxqueues " + q;
    auto r = run("ip link add " + _a_if + qs + " netns " + _a->name() + " type veth peer name " +
                 _b_if + qs + " netns " + _b->name());
    if (!r.ok()) {
        _error = "ip link add veth: " + r.output;
        return;
    }
    auto setup = [&](const netns& ns, const std::string& ifn, const std::string& addr) {
        if (opt.mtu) {
            auto m = ns.exec("ip link set " + ifn + " mtu " + std::to_string(opt.mtu));
            if (!m.ok()) return "mtu on " + ifn + ": " + m.output;
        }
        if (opt.offloads_off)
            (void)ns.exec("ethtool -K " + ifn + " tx off tso off gso off gro off");
        if (!addr.empty()) {
            auto a = ns.exec("ip addr add " + addr + " dev " + ifn);
            if (!a.ok()) return "ip addr add " + addr + ": " + a.output;
        }
        auto u = ns.exec("ip link set " + ifn + " up");
        if (!u.ok()) return "link up " + ifn + ": " + u.output;
        return std::string();
    };
    _error = setup(*_a, _a_if, opt.addr_a);
    if (_error.empty()) _error = setup(*_b, _b_if, opt.addr_b);
    _ok = _error.empty();
}

// Deleting the namespaces destroys the veth pair with them.
veth_lab::~veth_lab() = default;

std::string veth_lab::mac_of(const netns& ns, const std::string& ifname) const {
    auto r = ns.exec("cat /sys/class/net/" + ifname + "/address");
    if (!r.ok()) return {};
    auto s = r.output;
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

bool veth_lab::add_neigh(const netns& ns, const std::string& ifname, const std::string& ip,
                         const std::string& mac) const {
    return ns.exec("ip neigh replace " + ip + " lladdr " + mac + " nud permanent dev " + ifname)
        .ok();
}

std::optional<uint64_t> veth_lab::rx_packets(const netns& ns, const std::string& ifname) const {
    auto r = ns.exec("cat /sys/class/net/" + ifname + "/statistics/rx_packets");
    if (!r.ok()) return std::nullopt;
    return std::strtoull(r.output.c_str(), nullptr, 10);
}

}  // namespace mvnf::test
