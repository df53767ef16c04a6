// Address value types shared by every layer: a 48-bit MAC and an IPv4 address
// held in host byte order (converted only at the wire and the C API).
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace mvnf {

struct mac_addr {
    std::array<uint8_t, 6> b{};

    static constexpr mac_addr broadcast() { return {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
    constexpr bool is_broadcast() const { return *this == broadcast(); }
    constexpr bool is_multicast() const { return (b[0] & 1) != 0; }
    constexpr bool is_zero() const { return *this == mac_addr{}; }
    friend constexpr bool operator==(const mac_addr&, const mac_addr&) = default;

    std::string str() const {
        char s[18];
        std::snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
                      b[5]);
        return s;
    }
    // Accepts "aa:bb:cc:dd:ee:ff" (also '-' separated).
    static std::optional<mac_addr> parse(std::string_view s) {
        mac_addr m;
        if (s.size() != 17) return std::nullopt;
        for (int i = 0; i < 6; ++i) {
            auto hex = [](char c) -> int {
                if (c >= '0' && c <= '9') return c - '0';
                if (c >= 'a' && c <= 'f') return c - 'a' + 10;
                if (c >= 'A' && c <= 'F') return c - 'A' + 10;
                return -1;
            };
            int hi = hex(s[i * 3]), lo = hex(s[i * 3 + 1]);
            if (hi < 0 || lo < 0) return std::nullopt;
            if (i < 5 && s[i * 3 + 2] != ':' && s[i * 3 + 2] != '-') return std::nullopt;
            m.b[i] = static_cast<uint8_t>(hi * 16 + lo);
        }
        return m;
    }
};

// IPv4 address in host byte order.
struct ipv4_addr {
    uint32_t v = 0;

    constexpr ipv4_addr() = default;
    constexpr explicit ipv4_addr(uint32_t host_order) : v(host_order) {}
    constexpr ipv4_addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
        : v((uint32_t(a) << 24) | (uint32_t(b) << 16) | (uint32_t(c) << 8) | d) {}
    friend constexpr bool operator==(const ipv4_addr&, const ipv4_addr&) = default;
    friend constexpr auto operator<=>(const ipv4_addr&, const ipv4_addr&) = default;
    constexpr bool is_any() const { return v == 0; }
    constexpr bool is_broadcast() const { return v == 0xffffffffu; }
    constexpr bool is_multicast() const { return (v >> 28) == 0xe; }

    std::string str() const {
        char s[16];
        std::snprintf(s, sizeof s, "%u.%u.%u.%u", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff,
                      v & 0xff);
        return s;
    }
    static std::optional<ipv4_addr> parse(std::string_view s) {
        uint32_t out = 0;
        int parts = 0;
        size_t i = 0;
        while (parts < 4) {
            if (i >= s.size() || s[i] < '0' || s[i] > '9') return std::nullopt;
            uint32_t n = 0;
            size_t digits = 0;
            while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
                n = n * 10 + uint32_t(s[i] - '0');
                if (++digits > 3 || n > 255) return std::nullopt;
                ++i;
            }
            out = (out << 8) | n;
            ++parts;
            if (parts < 4) {
                if (i >= s.size() || s[i] != '.') return std::nullopt;
                ++i;
            }
        }
        if (i != s.size()) return std::nullopt;
        return ipv4_addr(out);
    }
};

}  // namespace mvnf
