// RAII network namespaces and veth pairs for tests that talk to the Linux
// kernel (afxdp, afpacket, tap, end-to-end stack tests). Everything created
// here has a unique name (pid + counter) and is deleted in the destructor,
// also when the test fails. Used through #include "netns.hpp".
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mvnf::test {

// Empty when the process may create namespaces and veth pairs (root with
// CAP_NET_ADMIN and CAP_SYS_ADMIN, `ip` present); otherwise why not, ready
// for GTEST_SKIP() << reason.
std::string netns_unavailable_reason();
// True when the effective capability set holds CAP_NET_ADMIN and CAP_NET_RAW.
bool have_net_caps();

struct cmd_result {
    int status = -1;     // exit status (or -1 when it could not run / was killed)
    std::string output;  // stdout and stderr together
    bool ok() const { return status == 0; }
};
// Runs `sh -c cmd` in the current namespace and captures its output.
cmd_result run(const std::string& cmd);

class netns;
// Opens a socket inside ns (the calling thread returns to its own namespace
// afterwards; the socket stays in ns). -1 with errno on failure.
int socket_in(const netns& ns, int domain, int type, int protocol);

// Runs fn in a forked child with every capability dropped and returns its
// exit status (0..127), or 120 when dropping failed, -1 when it crashed.
// For testing the "not root" error paths while running as root.
int run_without_caps(const std::function<int()>& fn);

// A named network namespace (`ip netns add`), deleted in the destructor.
class netns {
  public:
    // tag is a short readable part of the name ("a", "kern"...).
    explicit netns(const std::string& tag);
    ~netns();
    netns(const netns&) = delete;
    netns& operator=(const netns&) = delete;

    const std::string& name() const { return _name; }
    bool ok() const { return _ok; }
    const std::string& error() const { return _error; }
    // Runs `sh -c cmd` inside the namespace (ip netns exec).
    cmd_result exec(const std::string& cmd) const;

  private:
    std::string _name, _error;
    bool _ok = false;
};

// Switches the calling thread into a namespace and back on destruction.
// Sockets opened meanwhile stay in that namespace for their whole life.
class ns_enter {
  public:
    explicit ns_enter(const netns& ns);
    ~ns_enter();
    ns_enter(const ns_enter&) = delete;
    ns_enter& operator=(const ns_enter&) = delete;
    bool ok() const { return _ok; }
    const std::string& error() const { return _error; }

  private:
    int _saved = -1;
    bool _ok = false;
    std::string _error;
};

struct veth_options {
    unsigned queues = 1;       // numtxqueues/numrxqueues of both ends
    std::string addr_a;        // e.g. "10.9.0.1/24" on end a ("" = none)
    std::string addr_b;        // e.g. "10.9.0.2/24" on end b
    bool offloads_off = true;  // ethtool -K tx/tso/gso/gro off on both ends, so
                               // frames carry real checksums and are <= MTU
    uint32_t mtu = 0;          // 0 = default 1500
};

// Two namespaces `a` and `b` joined by a veth pair (a_if in a, b_if in b),
// both ends up, with optional addresses. Typical use: the kernel talks from
// `a`, our port opens b_if after ns_enter(lab.b()).
class veth_lab {
  public:
    explicit veth_lab(const veth_options& opt = {});
    ~veth_lab();
    veth_lab(const veth_lab&) = delete;
    veth_lab& operator=(const veth_lab&) = delete;

    bool ok() const { return _ok; }
    const std::string& error() const { return _error; }
    const netns& a() const { return *_a; }
    const netns& b() const { return *_b; }
    const std::string& a_if() const { return _a_if; }
    const std::string& b_if() const { return _b_if; }
    // MAC of an end as "aa:bb:..." (read with ip link).
    std::string mac_of(const netns& ns, const std::string& ifname) const;
    // Adds a static neighbour entry in `ns` on `ifname`.
    bool add_neigh(const netns& ns, const std::string& ifname, const std::string& ip,
                   const std::string& mac) const;
    // RX packet counter of an interface as the kernel counts it.
    std::optional<uint64_t> rx_packets(const netns& ns, const std::string& ifname) const;

  private:
    std::optional<netns> _a, _b;
    std::string _a_if, _b_if, _error;
    bool _ok = false;
};

}  // namespace mvnf::test
