// netmap's kernel ABI, declared here so the backend builds without netmap's
// headers installed. Used by the netmap backend (netmap_port.cpp, netmap_ring.hpp)
// and its tests, which check every size and offset below.
//
// Source: netmap's public headers sys/net/netmap.h and sys/net/netmap_user.h,
// NETMAP_API 14 (luigirizzo/netmap master, 2020-2023; also FreeBSD 13+ sys/net/).
// These are ioctl/mmap ABI structs, so they are declared exactly as the
// kernel lays them out (the one place packed-by-C-rules structs are allowed).
// Fields the kernel owns are marked (k); the kernel only changes them inside
// our own syscalls (ioctl/poll) on the same fd, so plain loads are enough.
#pragma once

#include <sys/ioctl.h>
#include <sys/time.h>

#include <cstddef>
#include <cstdint>

namespace mvnf::netio::netmap {

inline constexpr uint16_t netmap_api = 14;      // NETMAP_API
inline constexpr unsigned nm_ifnamsiz = 16;     // IFNAMSIZ
inline constexpr unsigned nm_req_ifnamsiz = 64; // NETMAP_REQ_IFNAMSIZ
inline constexpr unsigned nm_cache_align = 128; // NM_CACHE_ALIGN

// struct netmap_slot: one ring entry pointing at a buffer.
struct netmap_slot {
    uint32_t buf_idx;  // buffer index in the port's buffer pool
    uint16_t len;      // frame length
    uint16_t flags;    // NS_*
    uint64_t ptr;      // indirect buffers / offsets (unused here)
};

// Slot flags (NS_*).
inline constexpr uint16_t ns_buf_changed = 0x0001;  // buf_idx was changed by the user
inline constexpr uint16_t ns_report = 0x0002;
inline constexpr uint16_t ns_forward = 0x0004;
inline constexpr uint16_t ns_no_learn = 0x0008;
inline constexpr uint16_t ns_indirect = 0x0010;
inline constexpr uint16_t ns_morefrag = 0x0020;  // more fragments of this frame follow

// struct netmap_ring: header of a TX or RX ring, followed by num_slots slots.
// The slots start at sizeof(netmap_ring) (256): `sem` is cache-aligned.
struct netmap_ring {
    int64_t buf_ofs;       // (k) offset of the buffer pool from this header
    uint32_t num_slots;    // (k)
    uint32_t nr_buf_size;  // (k) bytes per buffer
    uint16_t ringid;       // (k)
    uint16_t dir;          // (k) 0: tx, 1: rx
    uint32_t head;         // (u) first slot owned by the user
    uint32_t cur;          // (u) wakeup point
    uint32_t tail;         // (k) first slot owned by the kernel
    uint32_t flags;
    struct timeval ts;     // (k) time of the last sync
    uint64_t offset_mask;  // (k) only with NETMAP_REQ_OPT_OFFSETS (not used)
    uint64_t buf_align;    // (k) idem
    alignas(nm_cache_align) uint8_t sem[128];
    // struct netmap_slot slot[]: see ring_slot()
};

// struct netmap_if: one per bound fd; ring_ofs[] follows (see nm_txring()).
struct netmap_if {
    char ni_name[nm_ifnamsiz];
    uint32_t ni_version;
    uint32_t ni_flags;
    uint32_t ni_tx_rings;       // hardware tx rings
    uint32_t ni_rx_rings;       // hardware rx rings
    uint32_t ni_bufs_head;      // extra buffers list (unused)
    uint32_t ni_host_tx_rings;  // host (software) tx rings
    uint32_t ni_host_rx_rings;
    uint32_t ni_spare1[3];
    // const ssize_t ring_ofs[]: tx rings (hw, host), then rx rings (hw, host)
};

// struct nmreq_header: the one argument of NIOCCTRL.
struct nmreq_header {
    uint16_t nr_version;  // NETMAP_API
    uint16_t nr_reqtype;  // NETMAP_REQ_*
    uint32_t nr_reserved;
    char nr_name[nm_req_ifnamsiz];
    uint64_t nr_options;  // pointer to the first nmreq_option, or 0
    uint64_t nr_body;     // pointer to the request body (nmreq_register...)
};

// struct nmreq_register: body of NETMAP_REQ_REGISTER (in/out).
struct nmreq_register {
    uint64_t nr_offset;   // out: netmap_if offset in the mapped region
    uint64_t nr_memsize;  // out: size of the region to mmap
    uint32_t nr_tx_slots;
    uint32_t nr_rx_slots;
    uint16_t nr_tx_rings;
    uint16_t nr_rx_rings;
    uint16_t nr_host_tx_rings;
    uint16_t nr_host_rx_rings;
    uint16_t nr_mem_id;
    uint16_t nr_ringid;  // ring for NR_REG_ONE_NIC / NR_REG_ONE_SW
    uint32_t nr_mode;    // NR_REG_*
    uint32_t nr_extra_bufs;
    uint64_t nr_flags;  // NR_EXCLUSIVE...
};

// NETMAP_REQ_* request types.
inline constexpr uint16_t netmap_req_register = 1;
inline constexpr uint16_t netmap_req_port_info_get = 2;

// NR_REG_* registration modes.
inline constexpr uint32_t nr_reg_default = 0;
inline constexpr uint32_t nr_reg_all_nic = 1;
inline constexpr uint32_t nr_reg_sw = 2;
inline constexpr uint32_t nr_reg_nic_sw = 3;
inline constexpr uint32_t nr_reg_one_nic = 4;
inline constexpr uint32_t nr_reg_pipe_master = 5;
inline constexpr uint32_t nr_reg_pipe_slave = 6;
inline constexpr uint32_t nr_reg_null = 7;
inline constexpr uint32_t nr_reg_one_sw = 8;

// nmreq_register.nr_flags.
inline constexpr uint64_t nr_monitor_tx = 0x100;
inline constexpr uint64_t nr_monitor_rx = 0x200;
inline constexpr uint64_t nr_zcopy_mon = 0x400;
inline constexpr uint64_t nr_exclusive = 0x800;
inline constexpr uint64_t nr_rx_rings_only = 0x2000;
inline constexpr uint64_t nr_tx_rings_only = 0x4000;
inline constexpr uint64_t nr_accept_vnet_hdr = 0x8000;
inline constexpr uint64_t nr_do_rx_poll = 0x10000;
inline constexpr uint64_t nr_no_tx_poll = 0x20000;

// Largest ring number a name suffix may carry (NETMAP_RING_MASK).
inline constexpr unsigned nm_ring_mask = 0xfff;

// ioctls: NIOCCTRL _IOWR('i', 151, struct nmreq_header); NIOCTXSYNC _IO('i', 148);
// NIOCRXSYNC _IO('i', 149).
inline constexpr unsigned long nioc_ctrl = _IOWR('i', 151, nmreq_header);
inline constexpr unsigned long nioc_txsync = _IO('i', 148);
inline constexpr unsigned long nioc_rxsync = _IO('i', 149);

// ---- layout checks: any mismatch here would corrupt every ring access ----
static_assert(sizeof(netmap_slot) == 16);
static_assert(offsetof(netmap_slot, buf_idx) == 0 && offsetof(netmap_slot, len) == 4 &&
              offsetof(netmap_slot, flags) == 6 && offsetof(netmap_slot, ptr) == 8);
static_assert(sizeof(timeval) == 16, "netmap_ring layout assumes a 64-bit timeval (LP64)");
static_assert(offsetof(netmap_ring, buf_ofs) == 0 && offsetof(netmap_ring, num_slots) == 8 &&
              offsetof(netmap_ring, nr_buf_size) == 12 && offsetof(netmap_ring, ringid) == 16 &&
              offsetof(netmap_ring, dir) == 18 && offsetof(netmap_ring, head) == 20 &&
              offsetof(netmap_ring, cur) == 24 && offsetof(netmap_ring, tail) == 28 &&
              offsetof(netmap_ring, flags) == 32 && offsetof(netmap_ring, ts) == 40 &&
              offsetof(netmap_ring, offset_mask) == 56 &&
              offsetof(netmap_ring, buf_align) == 64 && offsetof(netmap_ring, sem) == 128);
static_assert(sizeof(netmap_ring) == 256, "slot[0] follows the 256-byte ring header");
static_assert(offsetof(netmap_if, ni_name) == 0 && offsetof(netmap_if, ni_version) == 16 &&
              offsetof(netmap_if, ni_flags) == 20 && offsetof(netmap_if, ni_tx_rings) == 24 &&
              offsetof(netmap_if, ni_rx_rings) == 28 && offsetof(netmap_if, ni_bufs_head) == 32 &&
              offsetof(netmap_if, ni_host_tx_rings) == 36 &&
              offsetof(netmap_if, ni_host_rx_rings) == 40 && offsetof(netmap_if, ni_spare1) == 44);
static_assert(sizeof(netmap_if) == 56, "ring_ofs[] starts at byte 56");
static_assert(sizeof(nmreq_header) == 88);
static_assert(offsetof(nmreq_header, nr_version) == 0 && offsetof(nmreq_header, nr_reqtype) == 2 &&
              offsetof(nmreq_header, nr_reserved) == 4 && offsetof(nmreq_header, nr_name) == 8 &&
              offsetof(nmreq_header, nr_options) == 72 && offsetof(nmreq_header, nr_body) == 80);
static_assert(sizeof(nmreq_register) == 56);
static_assert(offsetof(nmreq_register, nr_offset) == 0 &&
              offsetof(nmreq_register, nr_memsize) == 8 &&
              offsetof(nmreq_register, nr_tx_slots) == 16 &&
              offsetof(nmreq_register, nr_rx_slots) == 20 &&
              offsetof(nmreq_register, nr_tx_rings) == 24 &&
              offsetof(nmreq_register, nr_rx_rings) == 26 &&
              offsetof(nmreq_register, nr_host_tx_rings) == 28 &&
              offsetof(nmreq_register, nr_host_rx_rings) == 30 &&
              offsetof(nmreq_register, nr_mem_id) == 32 &&
              offsetof(nmreq_register, nr_ringid) == 34 &&
              offsetof(nmreq_register, nr_mode) == 36 &&
              offsetof(nmreq_register, nr_extra_bufs) == 40 &&
              offsetof(nmreq_register, nr_flags) == 48);
// The Linux encodings of the ioctl numbers (dir<<30 | size<<16 | type<<8 | nr).
static_assert(nioc_ctrl == 0xc0586997ul);
static_assert(nioc_txsync == 0x6994ul && nioc_rxsync == 0x6995ul);

// ---- netmap_user.h's offset macros, as functions ----

// NETMAP_IF(base, ofs)
inline netmap_if* nm_if(void* base, uint64_t ofs) {
    return reinterpret_cast<netmap_if*>(static_cast<char*>(base) + ofs);
}
// nifp->ring_ofs[i]
inline int64_t nm_ring_ofs(const netmap_if* nifp, unsigned i) {
    const char* p = reinterpret_cast<const char*>(nifp) + sizeof(netmap_if) + i * sizeof(int64_t);
    return *reinterpret_cast<const int64_t*>(p);
}
// NETMAP_TXRING(nifp, index): hw tx rings first, then host tx rings.
inline netmap_ring* nm_txring(netmap_if* nifp, unsigned index) {
    return reinterpret_cast<netmap_ring*>(reinterpret_cast<char*>(nifp) +
                                          nm_ring_ofs(nifp, index));
}
// NETMAP_RXRING(nifp, index): after all tx rings (hw + host).
inline netmap_ring* nm_rxring(netmap_if* nifp, unsigned index) {
    return reinterpret_cast<netmap_ring*>(
        reinterpret_cast<char*>(nifp) +
        nm_ring_ofs(nifp, index + nifp->ni_tx_rings + nifp->ni_host_tx_rings));
}
// ring->slot[i]
inline netmap_slot* ring_slot(netmap_ring* r, uint32_t i) {
    return reinterpret_cast<netmap_slot*>(reinterpret_cast<char*>(r) + sizeof(netmap_ring)) + i;
}
// NETMAP_BUF(ring, index)
inline std::byte* nm_buf(netmap_ring* r, uint32_t buf_idx) {
    return reinterpret_cast<std::byte*>(r) + r->buf_ofs + uint64_t(buf_idx) * r->nr_buf_size;
}
// nm_ring_next(ring, i)
inline uint32_t nm_ring_next(const netmap_ring* r, uint32_t i) {
    return i + 1 == r->num_slots ? 0 : i + 1;
}
// nm_ring_space(ring): slots between cur and tail (rx: to read; tx: free).
inline uint32_t nm_ring_space(const netmap_ring* r) {
    int64_t d = int64_t(r->tail) - int64_t(r->cur);
    if (d < 0) d += r->num_slots;
    return uint32_t(d);
}

}  // namespace mvnf::netio::netmap
