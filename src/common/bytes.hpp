// Big-endian load/store helpers over byte spans. Wire views (src/wire) read
// every multi-byte field through these; nothing casts bytes to structs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace mvnf {

using bytes = std::span<const std::byte>;
using mut_bytes = std::span<std::byte>;

inline uint8_t load8(const std::byte* p) { return static_cast<uint8_t>(p[0]); }
inline uint16_t load_be16(const std::byte* p) {
    return static_cast<uint16_t>((static_cast<uint16_t>(p[0]) << 8) | static_cast<uint16_t>(p[1]));
}
inline uint32_t load_be32(const std::byte* p) {
    return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
           (static_cast<uint32_t>(p[2]) << 8) | static_cast<uint32_t>(p[3]);
}
inline void store8(std::byte* p, uint8_t v) { p[0] = std::byte{v}; }
inline void store_be16(std::byte* p, uint16_t v) {
    p[0] = std::byte(v >> 8);
    p[1] = std::byte(v & 0xff);
}
inline void store_be32(std::byte* p, uint32_t v) {
    p[0] = std::byte(v >> 24);
    p[1] = std::byte((v >> 16) & 0xff);
    p[2] = std::byte((v >> 8) & 0xff);
    p[3] = std::byte(v & 0xff);
}

inline const std::byte* as_bytes_ptr(const void* p) { return static_cast<const std::byte*>(p); }
inline std::byte* as_bytes_ptr(void* p) { return static_cast<std::byte*>(p); }

}  // namespace mvnf
