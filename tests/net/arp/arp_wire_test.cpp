// Golden-byte tests for the ARP wire view and repr (src/wire/arp.hpp): one
// captured request parsed and re-emitted, and every validation failure.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "wire/arp.hpp"

using namespace mvnf;
using namespace mvnf::wire;

namespace {

// who-has 10.0.0.2 tell 10.0.0.1, from 02:00:00:00:00:01 (Ethernet + ARP, padded).
const std::array<uint8_t, 60> golden_request = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06,  // eth
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,                                      // hdr
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01,                          // sender
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02,                          // target
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};                               // pad

std::vector<std::byte> bytes_of(const uint8_t* p, size_t n) {
    std::vector<std::byte> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = std::byte{p[i]};
    return v;
}

const arp_repr golden_repr{arp_op::request, {{0x02, 0, 0, 0, 0, 0x01}}, ipv4_addr(10, 0, 0, 1),
                           {}, ipv4_addr(10, 0, 0, 2)};

}  // namespace

TEST(ArpWire, ParsesGolden) {
    auto b = bytes_of(golden_request.data(), golden_request.size());
    auto v = arp_view::parse_frame(b);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->opcode(), arp_op::request);
    EXPECT_EQ(v->sender_ip(), ipv4_addr(10, 0, 0, 1));
    EXPECT_EQ(v->target_ip(), ipv4_addr(10, 0, 0, 2));
    EXPECT_EQ(arp_repr::parse(*v), golden_repr);
}

TEST(ArpWire, EmitsGolden) {
    std::vector<std::byte> out(arp_repr::frame_length(), std::byte{0xee});
    golden_repr.emit_frame(out.data(), mac_addr::broadcast());
    EXPECT_EQ(out, bytes_of(golden_request.data(), golden_request.size()));
}

TEST(ArpWire, RejectsEachMalformation) {
    struct tcase {
        size_t off;  // offset in the frame to overwrite (0: none)
        uint8_t val;
        size_t len;
        arp_error want;
    };
    const tcase cases[] = {
        {0, 0, 14 + 27, arp_error::truncated},
        {0, 0, 10, arp_error::truncated},
        {15, 0x06, 60, arp_error::bad_hardware_type},   // htype 6 (IEEE 802)
        {16, 0x86, 60, arp_error::bad_protocol_type},   // ptype 0x8600
        {18, 0x08, 60, arp_error::bad_hardware_len},
        {19, 0x10, 60, arp_error::bad_protocol_len},
        {21, 0x03, 60, arp_error::bad_opcode},          // RARP request
    };
    for (const auto& c : cases) {
        auto b = bytes_of(golden_request.data(), golden_request.size());
        if (c.off) b[c.off] = std::byte{c.val};
        auto v = arp_view::parse_frame(std::span<const std::byte>(b).first(c.len));
        ASSERT_FALSE(v) << "case at offset " << c.off;
        EXPECT_EQ(v.error(), c.want) << to_string(c.want);
    }
}

TEST(ArpWire, ExactMinimumLengthParses) {
    auto b = bytes_of(golden_request.data(), 14 + 28);
    EXPECT_TRUE(arp_view::parse_frame(b));
}
