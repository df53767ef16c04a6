// The redirect program and its life cycle (see xdp_prog.hpp). Written as raw
// BPF instructions, not compiled C: it is six instructions, so the build
// needs no clang/bpf toolchain and nothing is installed on disk or in bpffs.
#include "netio/afxdp/xdp_prog.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "netio/afpacket/linux_if.hpp"

namespace mvnf::netio::afxdp {
namespace {

const std::string needs_caps = "CAP_NET_ADMIN and CAP_BPF";

constexpr bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}

// The same as this C, compiled by hand:
//   SEC("xdp") int mvnf_xsk(struct xdp_md *ctx) {
//       return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
//   }
// The XDP_PASS in the flags argument is the action when the map slot of
// this queue is empty (kernel >= 5.3), so queues we did not bind, and any
// frame arriving before our socket is in the map, go to the kernel stack.
void build(bpf_insn (&p)[6], int map_fd) {
    p[0] = insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1,
                int16_t(offsetof(xdp_md, rx_queue_index)), 0);
    p[1] = insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map_fd);
    p[2] = insn(0, 0, 0, 0, 0);  // upper half of the 64-bit immediate
    p[3] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, XDP_PASS);
    p[4] = insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_redirect_map);
    p[5] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

std::string prog_name_of(uint32_t id) {
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) return "?";
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    std::string name = "?";
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) name = info.name;
    close(fd);
    return name;
}

}  // namespace

xdp_redirect::~xdp_redirect() {
    if (_link_fd >= 0) close(_link_fd);  // detaches the program
    if (_prog_fd >= 0) close(_prog_fd);
    if (_map_fd >= 0) close(_map_fd);
}

result<void> xdp_redirect::load(uint32_t map_slots, const std::string& who) {
    _map_fd = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "mvnf_xsks", 4, 4, map_slots, nullptr);
    if (_map_fd < 0) return fail(linux_if::from_errno(errno, who, "create XSKMAP", needs_caps));
    bpf_insn prog[6];
    build(prog, _map_fd);
    bpf_prog_load_opts opts{};
    opts.sz = sizeof opts;
    opts.expected_attach_type = BPF_XDP;
    char log[1024] = {};
    opts.log_buf = log;
    opts.log_size = sizeof log;
    opts.log_level = 1;
    _prog_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, prog_name, "GPL", prog, 6, &opts);
    if (_prog_fd < 0) {
        int err = errno;
        auto e = linux_if::from_errno(err, who, "load XDP program", needs_caps);
        if (log[0]) e.message += "; verifier: " + std::string(log);
        return fail(e);
    }
    return {};
}

result<void> xdp_redirect::claim(int ifindex, const std::string& ifname, const std::string& who) {
    bpf_xdp_query_opts q{};
    q.sz = sizeof q;
    if (bpf_xdp_query(ifindex, 0, &q) == 0 && q.prog_id) {
        std::string name = prog_name_of(q.prog_id);
        if (name != prog_name)
            return fail(error{errc::busy, who + ": XDP program '" + name + "' (id " +
                                              std::to_string(q.prog_id) +
                                              ") is already attached; "
                                              "remove it (ip link set dev " +
                                              ifname + " xdp off) or use afpacket"});
        // Ours. A netlink-attached leftover (older run, crash) detaches; one
        // held by a live process's bpf_link refuses, and that is a real clash.
        uint32_t mode = q.attach_mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
        if (bpf_xdp_detach(ifindex, mode, nullptr) != 0)
            return fail(error{errc::busy, who +
                                              ": another process has this interface open "
                                              "(XDP program " +
                                              std::string(prog_name) + " id " +
                                              std::to_string(q.prog_id) + ")"});
    }
    return {};
}

result<void> xdp_redirect::attach(int ifindex, const std::string& who) {
    bpf_link_create_opts lo{};
    lo.sz = sizeof lo;
    lo.flags = XDP_FLAGS_DRV_MODE;
    _link_fd = bpf_link_create(_prog_fd, ifindex, BPF_XDP, &lo);
    _native = _link_fd >= 0;
    if (_link_fd < 0) {
        int drv_err = errno;
        lo.flags = XDP_FLAGS_SKB_MODE;
        _link_fd = bpf_link_create(_prog_fd, ifindex, BPF_XDP, &lo);
        if (_link_fd < 0) {
            auto e = linux_if::from_errno(errno, who, "attach XDP program", needs_caps);
            e.message += " (native mode: " + std::string(std::strerror(drv_err)) + ")";
            return fail(e);
        }
    }
    return {};
}

}  // namespace mvnf::netio::afxdp
