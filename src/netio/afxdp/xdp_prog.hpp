// The XDP side of the afxdp backend: a six-instruction program that sends
// frames of the queues we bound to our AF_XDP sockets through an XSKMAP and
// passes everything else to the kernel stack; its attach (a bpf_link, so the
// kernel detaches it when we close or crash) and stale-program recovery.
// Used by afxdp_port.cpp only.
#pragma once

#include <cstdint>
#include <string>

#include "netio/error.hpp"

namespace mvnf::netio::afxdp {

inline constexpr const char* prog_name = "mvnf_xsk";

class xdp_redirect {
  public:
    xdp_redirect() = default;
    ~xdp_redirect();
    xdp_redirect(const xdp_redirect&) = delete;
    xdp_redirect& operator=(const xdp_redirect&) = delete;

    // Stage 1: the XSKMAP (one slot per device queue) and the program.
    result<void> load(uint32_t map_slots, const std::string& who);
    int map_fd() const { return _map_fd; }
    // Before any socket: detaches a stale netlink-attached mvnf_xsk program
    // left by an older run; refuses (errc::busy) when another live process
    // holds ours or any other program is attached.
    result<void> claim(int ifindex, const std::string& ifname, const std::string& who);
    // Last stage: attach to ifindex, native (driver) mode first, then generic.
    result<void> attach(int ifindex, const std::string& who);
    bool native() const { return _native; }

  private:
    int _map_fd = -1, _prog_fd = -1, _link_fd = -1;
    bool _native = false;
};

}  // namespace mvnf::netio::afxdp
