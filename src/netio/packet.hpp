// A packet buffer lent by a queue: a pointer into backend memory (shared
// memory, AF_XDP UMEM, netmap buffers...) plus an opaque handle the backend
// uses to take it back. Passed by value in bursts; never heap-allocated.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mvnf::netio {

struct packet {
    std::byte* data = nullptr;  // first byte of the Ethernet frame
    uint32_t len = 0;           // frame length; for alloc_tx: capacity on return
    uint32_t handle = 0;        // backend buffer id (opaque to callers)
};

}  // namespace mvnf::netio
