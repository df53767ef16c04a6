// Golden-byte tests for the Ethernet view/builder and the Internet checksum.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <vector>

#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"

using namespace mvnf;
using namespace mvnf::wire;

namespace {
std::vector<std::byte> hex(std::initializer_list<int> v) {
    std::vector<std::byte> out;
    for (int x : v) out.push_back(std::byte(x));
    return out;
}
}  // namespace

TEST(Ethernet, ParseAndEmitGolden) {
    auto golden = hex({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
                       0x08, 0x06, 0xaa});
    auto v = ethernet_view::parse(golden);
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->dst().is_broadcast());
    EXPECT_EQ(v->src().str(), "02:00:00:00:00:01");
    EXPECT_EQ(v->type(), ethertype::arp);
    EXPECT_EQ(v->payload().size(), 1u);
    auto r = ethernet_repr::parse(*v);
    std::array<std::byte, 14> out{};
    r->emit(out.data());
    EXPECT_TRUE(std::equal(out.begin(), out.end(), golden.begin()));
}

TEST(Ethernet, RejectsShortFrames) {
    for (size_t n = 0; n < 14; ++n) {
        std::vector<std::byte> b(n);
        EXPECT_FALSE(ethernet_view::parse(b)) << n;
    }
}

TEST(Checksum, Rfc1071Example) {
    // RFC 1071 section 3 example words: 0001 f203 f4f5 f6f7 -> sum ddf2, checksum 220d.
    auto b = hex({0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7});
    EXPECT_EQ(csum_fold(csum_add(0, b.data(), b.size())), 0xddf2);
    EXPECT_EQ(checksum(b.data(), b.size()), 0x220d);
}

TEST(Checksum, Ipv4HeaderGolden) {
    // A real IPv4 header (UDP, 192.168.0.1 -> 192.168.0.199); its checksum is b861.
    auto h = hex({0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0,
                  0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7});
    EXPECT_EQ(checksum(h.data(), h.size()), 0xb861);
    store_be16(h.data() + 10, 0xb861);
    EXPECT_EQ(checksum(h.data(), h.size()), 0);
}

// The word-at-a-time sum (host order, 64-bit adds with counted carries)
// against the definition: big-endian 16-bit words, odd tail padded, folded.
// Every length up to 300 at every start alignment, over random octets and
// over all-ones (the most carries), and with a nonzero starting sum.
TEST(Checksum, WideSumMatchesWordByWordDefinition) {
    auto reference = [](uint64_t sum, const std::byte* p, size_t len) {
        for (size_t i = 0; i + 1 < len; i += 2) sum += (uint32_t(load8(p + i)) << 8) | load8(p + i + 1);
        if (len & 1) sum += uint32_t(load8(p + len - 1)) << 8;
        return csum_fold(sum);
    };
    std::vector<std::byte> buf(320 + 8);
    uint32_t x = 12345;
    for (int fill = 0; fill < 3; ++fill) {
        for (auto& b : buf) {
            x = x * 1103515245u + 12345u;
            b = fill == 0 ? std::byte(x >> 24) : fill == 1 ? std::byte{0xff} : std::byte(0x80 | (x >> 28));
        }
        for (size_t off = 0; off < 8; ++off)
            for (size_t len = 0; len <= 300; ++len)
                for (uint64_t init : {uint64_t(0), uint64_t(0x1fffe), uint64_t(0xfffffffffull)}) {
                    ASSERT_EQ(csum_fold(csum_add(init, buf.data() + off, len)),
                              reference(init, buf.data() + off, len))
                        << "fill " << fill << " offset " << off << " length " << len << " initial " << init;
                }
    }
}

// Summing while copying: the copy is exact (and writes nothing past it),
// and the sum equals csum_native over the copied octets, for every length
// up to 300 at every pair of source and destination alignments.
TEST(Checksum, CopyAndSumMatchesCopyThenSum) {
    std::vector<std::byte> src(320 + 8), dst(320 + 16);
    uint32_t x = 4242;
    for (auto& b : src) {
        x = x * 1103515245u + 12345u;
        b = std::byte(x >> 24);
    }
    for (size_t so = 0; so < 8; so += 3)
        for (size_t d_off = 0; d_off < 8; d_off += 5)
            for (size_t len = 0; len <= 300; ++len) {
                std::fill(dst.begin(), dst.end(), std::byte{0xa5});
                const uint16_t got = csum_copy_native(dst.data() + d_off, src.data() + so, len);
                ASSERT_TRUE(std::equal(src.begin() + std::ptrdiff_t(so),
                                       src.begin() + std::ptrdiff_t(so + len),
                                       dst.begin() + std::ptrdiff_t(d_off)))
                    << "length " << len;
                ASSERT_EQ(dst[d_off + len], std::byte{0xa5})
                    << "wrote past the end, length " << len;
                ASSERT_EQ(got, csum_native(src.data() + so, len)) << "length " << len;
            }
    EXPECT_EQ(csum_copy_native(dst.data(), nullptr, 0), 0);  // an empty piece may have no storage
}

#ifdef MVNF_CSUM_X86
// Each vector block sum on its own (csum_native above takes whichever the
// CPU has): folded, it equals the definition's sum of the same octets, for
// 1..40 blocks at every alignment, random octets and all-ones, and so do
// the copying variants, whose copies must be exact. AVX2 is
// checked where the CPU has it and reported skipped otherwise.
TEST(Checksum, VectorBlockSumsMatchDefinition) {
    auto reference = [](const std::byte* p, size_t len) {
        uint64_t sum = 0;
        for (size_t i = 0; i < len; i += 2) sum += (uint32_t(load8(p + i)) << 8) | load8(p + i + 1);
        return csum_fold(sum);
    };
    // The block sums add host-order words: swap the folded value to compare.
    auto as_be = [](uint64_t native) {
        const uint16_t r = csum_fold(native);
        return std::endian::native == std::endian::little ? uint16_t((r << 8) | (r >> 8)) : r;
    };
    std::vector<std::byte> buf(40 * 64 + 32);
    uint32_t x = 777;
    const bool avx2 = __builtin_cpu_supports("avx2");
    for (int fill = 0; fill < 2; ++fill) {
        for (auto& b : buf) {
            x = x * 1103515245u + 12345u;
            b = fill == 0 ? std::byte(x >> 24) : std::byte{0xff};
        }
        for (size_t off = 0; off < 32; off += 3)
            for (size_t blocks = 1; blocks <= 40; ++blocks) {
                const std::byte* p = buf.data() + off;
                const uint16_t want = reference(p, blocks * 64);
                ASSERT_EQ(as_be(detail::blocks_sse2<false>(nullptr, p, blocks)), want)
                    << "sse2 fill " << fill << " offset " << off << " blocks " << blocks;
                std::vector<std::byte> copy(blocks * 64);
                ASSERT_EQ(as_be(detail::blocks_sse2<true>(copy.data(), p, blocks)), want)
                    << "copy sse2 fill " << fill << " offset " << off << " blocks " << blocks;
                ASSERT_TRUE(std::equal(copy.begin(), copy.end(), p));
                if (avx2) {
                    ASSERT_EQ(as_be(detail::blocks_avx2<false>(nullptr, p, blocks)), want)
                        << "avx2 fill " << fill << " offset " << off << " blocks " << blocks;
                    std::fill(copy.begin(), copy.end(), std::byte{0});
                    ASSERT_EQ(as_be(detail::blocks_avx2<true>(copy.data(), p, blocks)), want)
                        << "copy avx2 fill " << fill << " offset " << off << " blocks " << blocks;
                    ASSERT_TRUE(std::equal(copy.begin(), copy.end(), p));
                }
            }
    }
    if (!avx2) GTEST_SKIP() << "no AVX2 on this CPU: only the SSE2 sum was checked";
}
#endif

TEST(Checksum, IncrementalUpdateMatchesRecompute) {
    auto h = hex({0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0,
                  0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7});
    uint16_t c = checksum(h.data(), h.size());
    store_be16(h.data() + 10, c);
    // Decrement TTL (word at offset 8: 0x4011 -> 0x3f11).
    uint16_t upd = csum_update16(c, 0x4011, 0x3f11);
    store_be16(h.data() + 8, 0x3f11);
    store_be16(h.data() + 10, 0);
    EXPECT_EQ(upd, checksum(h.data(), h.size()));
}

TEST(Addr, ParseFormat) {
    EXPECT_EQ(ipv4_addr::parse("10.0.0.1")->str(), "10.0.0.1");
    EXPECT_FALSE(ipv4_addr::parse("10.0.0"));
    EXPECT_FALSE(ipv4_addr::parse("10.0.0.256"));
    EXPECT_FALSE(ipv4_addr::parse("10.0.0.1 "));
    EXPECT_EQ(mac_addr::parse("02:AB:cd:00:00:01")->str(), "02:ab:cd:00:00:01");
    EXPECT_FALSE(mac_addr::parse("02:ab:cd:00:00"));
}
