// Reads a fuzz input front to back: past its end every read is zero (or an
// empty span), so a target never reads out of bounds however short the
// input is. Multi-byte values are little-endian.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mvnf::fuzz {

struct reader {
    const uint8_t* p;
    size_t n;
    bool empty() const { return n == 0; }
    uint8_t u8() {
        if (!n) return 0;
        --n;
        return *p++;
    }
    uint16_t u16() { return uint16_t(u8() | (u8() << 8)); }
    uint32_t u32() { return uint32_t(u16()) | uint32_t(u16()) << 16; }
    std::span<const std::byte> take(size_t len) {
        len = std::min(len, n);
        std::span<const std::byte> b(reinterpret_cast<const std::byte*>(p), len);
        p += len, n -= len;
        return b;
    }
};

}  // namespace mvnf::fuzz
