// Golden-byte tests for the Ethernet view/builder and the Internet checksum.
#include <gtest/gtest.h>

#include <array>
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
