// Known-answer tests for the two hashes the TCP code and its tests rely on:
// SipHash-2-4 keying ISNs (RFC 6528) and SYN cookies (src/net/tcp/isn.cpp),
// against the reference vectors (key 00..0f, message 00 01 02 ...), and
// the tests' SHA-256 (tests/net/tcp/sha256.hpp) against FIPS 180-4's
// examples. A wrong hash would leave every other test green.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/tcp/isn.hpp"
#include "sha256.hpp"

using namespace mvnf;

namespace {

std::string hex(const std::array<uint8_t, 32>& d) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (uint8_t b : d) s += digits[b >> 4], s += digits[b & 15];
    return s;
}

std::string sha256_of(const std::string& m, size_t repeat = 1, size_t chunk = 0) {
    tcp::test::sha256 h;
    const auto* p = reinterpret_cast<const std::byte*>(m.data());
    for (size_t r = 0; r < repeat; ++r) {
        if (chunk == 0) {
            h.update({p, m.size()});
        } else {
            for (size_t i = 0; i < m.size(); i += chunk)
                h.update({p + i, std::min(chunk, m.size() - i)});
        }
    }
    return hex(h.final());
}

}  // namespace

// The SipHash paper's vectors (its appendix, and vectors.h of the reference
// code): the message's bytes 00 01 02 ... taken four to a little-endian
// word, as siphash24() reads its words.
TEST(HashKat, SipHash24ReferenceVectors) {
    std::array<uint8_t, 16> key{};
    for (size_t i = 0; i < key.size(); ++i) key[i] = uint8_t(i);
    const uint32_t words[4] = {0x03020100u, 0x07060504u, 0x0b0a0908u, 0x0f0e0d0cu};
    EXPECT_EQ(tcp::siphash24(key, words, 0), 0x726fdb47dd0e0e31ull);  // empty message
    EXPECT_EQ(tcp::siphash24(key, words, 1), 0xcf2794e0277187b7ull);  // 4 bytes
    EXPECT_EQ(tcp::siphash24(key, words, 2), 0x93f5f5799a932462ull);  // 8 bytes
    EXPECT_EQ(tcp::siphash24(key, words, 4), 0x3f2acc7f57c29bdbull);  // 16 bytes
    // Another key changes the output (the function is keyed at all).
    key[0] ^= 1;
    EXPECT_NE(tcp::siphash24(key, words, 2), 0x93f5f5799a932462ull);
}

// FIPS 180-4 (and its example documents): "", "abc", the two-block
// message, and one million 'a' fed in uneven pieces.
TEST(HashKat, Sha256Fips180Examples) {
    EXPECT_EQ(sha256_of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(sha256_of(std::string(1000, 'a'), 1000, 7),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
