// The test's packetdrill: dlopen()s libmvnf-packetdrill.so, calls
// packetdrill_interface_init, and speaks raw IPv4 to it. Segments are built
// from a template overridden per test (designated initialisers) and parsed
// back with the wire views. Used by so_test.cpp.
#pragma once

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "packetdrill/packetdrill_interface.h"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace mvnf::pd::test {

using namespace mvnf::wire;

inline const ipv4_addr local_ip(192, 168, 7, 2), remote_ip(192, 0, 2, 1);
inline constexpr long long epoch_us = 1'600'000'000'000'000ll;  // the library's default
inline constexpr uint16_t remote_port = 54321;

// One segment from the remote side; fields not set take these defaults.
struct seg {
    uint8_t flags = tcp_flag::ack;
    uint32_t seq = 0, ack = 0;
    uint16_t win = 65535;
    tcp_options opts{};
    std::string data;
    uint16_t sport = remote_port, dport = 8080;
    ipv4_addr src = remote_ip, dst = local_ip;
};

inline std::vector<std::byte> ip_packet(const seg& s) {
    tcp_repr h{s.sport, s.dport, seq32(s.seq), seq32(s.ack), s.flags, s.win, 0, s.opts};
    const size_t l4 = h.header_len() + s.data.size();
    std::vector<std::byte> out(20 + l4);
    ipv4_repr ip{s.src, s.dst, ipproto::tcp, 64, 0, 1, true, false, 0, uint16_t(l4)};
    ip.emit(out.data());
    h.emit(mut_bytes(out.data() + 20, l4), s.src, s.dst,
           bytes(reinterpret_cast<const std::byte*>(s.data.data()), s.data.size()));
    return out;
}

// One packet the stack sent.
struct sent {
    ipv4_repr ip;
    tcp_repr tcp;
    std::vector<uint8_t> options;  // raw option bytes, to check their order
    std::string data;
    long long t_us = 0;            // virtual send time, relative to the epoch
};

inline sockaddr_in sin_of(ipv4_addr a, uint16_t port) {
    sockaddr_in s{};
    s.sin_family = AF_INET;
    s.sin_addr.s_addr = htonl(a.v);
    s.sin_port = htons(port);
    return s;
}

class driver {
public:
    explicit driver(const char* flags) {
        int mode = RTLD_NOW | RTLD_LOCAL;
#if !defined(__SANITIZE_ADDRESS__)
        mode |= RTLD_DEEPBIND;  // as packetdrill; the sanitizer runtimes refuse it
#endif
        _so = dlopen(MVNF_PD_SO, mode);
        if (!_so) ADD_FAILURE() << dlerror();
        auto init = reinterpret_cast<packetdrill_interface_init_t>(
            _so ? dlsym(_so, "packetdrill_interface_init") : nullptr);
        if (!init) {
            ADD_FAILURE() << "no packetdrill_interface_init";
            return;
        }
        init(flags, &ifc);
        u = ifc.userdata;
    }
    ~driver() {
        if (ifc.free) ifc.free(u);
        if (_so) dlclose(_so);
    }

    void inject(const seg& s) {
        auto p = ip_packet(s);
        ASSERT_EQ(ifc.netdev_send(u, p.data(), p.size()), 0);
    }
    // The next packet sent, or nullopt when the library says none.
    std::optional<sent> receive() {
        std::vector<std::byte> buf(4096);
        size_t n = buf.size();
        long long t = -1;
        EXPECT_EQ(ifc.netdev_receive(u, buf.data(), &n, &t), 0);
        if (n == 0) return std::nullopt;
        buf.resize(n);
        auto ipv = ipv4_view::parse(buf);
        EXPECT_TRUE(ipv.has_value());
        if (!ipv) return std::nullopt;
        sent s;
        s.ip = ipv4_repr::parse(*ipv);
        auto tv = tcp_view::parse(ipv->payload());
        EXPECT_TRUE(tv.has_value());
        if (!tv) return std::nullopt;
        EXPECT_TRUE(tv->checksum_ok(s.ip.src, s.ip.dst));
        auto r = tcp_repr::parse(*tv);
        EXPECT_TRUE(r.has_value());
        if (!r) return std::nullopt;
        s.tcp = *r;
        for (auto b : tv->options()) s.options.push_back(uint8_t(b));
        for (auto b : tv->payload()) s.data.push_back(char(b));
        s.t_us = t - epoch_us;
        return s;
    }
    sent expect() {
        auto s = receive();
        if (!s) ADD_FAILURE() << "expected a packet, got none";
        return s.value_or(sent{});
    }
    void expect_none() {
        auto s = receive();
        EXPECT_FALSE(s.has_value()) << "unexpected packet, flags " << int(s->tcp.flags);
    }

    long long now_us() {
        timeval tv{};
        EXPECT_EQ(ifc.gettimeofday(u, &tv, nullptr), 0);
        return (long long)tv.tv_sec * 1000000 + tv.tv_usec - epoch_us;
    }
    void sleep_us(useconds_t us) { ASSERT_EQ(ifc.usleep(u, us), 0); }

    int listen_on(uint16_t port, int type = SOCK_STREAM) {
        const int fd = ifc.socket(u, AF_INET, type, 0);
        EXPECT_GE(fd, 1000);
        auto a = sin_of(local_ip, port);
        EXPECT_EQ(ifc.bind(u, fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        EXPECT_EQ(ifc.listen(u, fd, 16), 0);
        return fd;
    }

    // A symbol the library exports besides packetdrill_interface_init.
    void* sym(const char* name) const { return _so ? dlsym(_so, name) : nullptr; }

    packetdrill_interface ifc{};
    void* u = nullptr;

private:
    void* _so = nullptr;
};

// Errno of the last failing call, with its return value checked.
#define EXPECT_ERRNO(call, err)        \
    do {                               \
        errno = 0;                     \
        EXPECT_EQ((call), -1);         \
        EXPECT_EQ(errno, (err));       \
    } while (0)

}  // namespace mvnf::pd::test
