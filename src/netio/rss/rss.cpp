// Toeplitz hash (Microsoft "RSS Hashing" spec, also DPDK rte_thash): for each
// set bit b of the input (MSB first), XOR in the 32-bit key window starting at
// key bit b. The fast path precomputes, per input byte position and value, the
// XOR of that byte's windows under the symmetric key.
#include "netio/rss/rss.hpp"

namespace mvnf::netio {

namespace {

// Key bit i (MSB of byte 0 first); bits beyond the key are zero.
inline uint32_t key_bit(std::span<const uint8_t> key, size_t i) {
    size_t byte = i / 8;
    if (byte >= key.size()) return 0;
    return (key[byte] >> (7 - i % 8)) & 1u;
}

// The 32-bit window of the key starting at bit offset `bit`.
uint32_t key_window(std::span<const uint8_t> key, size_t bit) {
    uint32_t w = 0;
    for (size_t i = 0; i < 32; ++i) w = (w << 1) | key_bit(key, bit + i);
    return w;
}

// table[pos][v]: XOR of the windows for the set bits of value v at input byte pos.
struct symmetric_table {
    uint32_t t[12][256];
    symmetric_table() {
        std::span<const uint8_t> key(symmetric_rss_key);
        for (size_t pos = 0; pos < 12; ++pos) {
            uint32_t win[8];
            for (size_t b = 0; b < 8; ++b) win[b] = key_window(key, pos * 8 + b);
            for (unsigned v = 0; v < 256; ++v) {
                uint32_t h = 0;
                for (size_t b = 0; b < 8; ++b)
                    if (v & (0x80u >> b)) h ^= win[b];
                t[pos][v] = h;
            }
        }
    }
};

const symmetric_table& sym_table() {
    static const symmetric_table table;  // built once, before any data path runs
    return table;
}

// Forces construction at load time so the data path never pays the guard.
[[maybe_unused]] const symmetric_table& sym_table_init = sym_table();

}  // namespace

uint32_t toeplitz_hash(std::span<const uint8_t> key, std::span<const uint8_t> input) {
    uint32_t h = 0;
    for (size_t i = 0; i < input.size(); ++i) {
        for (size_t b = 0; b < 8; ++b)
            if (input[i] & (0x80u >> b)) h ^= key_window(key, i * 8 + b);
    }
    return h;
}

size_t rss_input(const flow_key& k, std::array<uint8_t, 12>& out) {
    if (k.kind == flow_kind::none) return 0;
    auto put32 = [&](size_t off, uint32_t v) {
        out[off] = uint8_t(v >> 24);
        out[off + 1] = uint8_t(v >> 16);
        out[off + 2] = uint8_t(v >> 8);
        out[off + 3] = uint8_t(v);
    };
    put32(0, k.src.v);
    put32(4, k.dst.v);
    if (k.kind == flow_kind::ipv4) return 8;
    out[8] = uint8_t(k.sport >> 8);
    out[9] = uint8_t(k.sport);
    out[10] = uint8_t(k.dport >> 8);
    out[11] = uint8_t(k.dport);
    return 12;
}

uint32_t rss_hash_with_key(std::span<const uint8_t> key, const flow_key& k) {
    std::array<uint8_t, 12> in{};
    size_t n = rss_input(k, in);
    return toeplitz_hash(key, std::span<const uint8_t>(in.data(), n));
}

uint32_t rss_hash(const flow_key& k) {
    std::array<uint8_t, 12> in{};
    size_t n = rss_input(k, in);
    const auto& t = sym_table().t;
    uint32_t h = 0;
    for (size_t i = 0; i < n; ++i) h ^= t[i][in[i]];
    return h;
}

}  // namespace mvnf::netio
