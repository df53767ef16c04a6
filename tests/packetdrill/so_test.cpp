// libmvnf-packetdrill.so driven as packetdrill drives it: passive and active
// opens, data, closes, resets, timers on the virtual clock and unsupported
// calls, each checked to the exact segment (flags, seq/ack, window, options).
#include <sys/ioctl.h>
#include <fcntl.h>
#include <netinet/tcp.h>

#include <thread>

#include "driver.hpp"

namespace mvnf::pd::test {
namespace {

// Flags for exact timing: netdev_receive never skips ahead, blocked calls
// never wait for another thread.
constexpr const char* exact = "--local_ip=192.168.7.2 --max_wait_us=0 --block_wait_ms=0";

// The SYN a Linux peer sends: MSS, SACK-permitted, timestamps, window scale 7.
tcp_options linux_syn_opts(uint32_t tsval) {
    tcp_options o;
    o.has_mss = true, o.mss = 1460;
    o.sack_permitted = true;
    o.has_timestamps = true, o.tsval = tsval, o.tsecr = 0;
    o.has_wscale = true, o.wscale = 7;
    return o;
}
tcp_options ts(uint32_t val, uint32_t ecr) {
    tcp_options o;
    o.has_timestamps = true, o.tsval = val, o.tsecr = ecr;
    return o;
}

// Plays the passive open up to accept(); returns the connection's fd and
// leaves the SYN-ACK in *synack.
int passive_open(driver& d, sent* synack, int* listener = nullptr) {
    const int lfd = d.listen_on(8080);
    if (listener) *listener = lfd;
    d.inject({.flags = tcp_flag::syn, .seq = 0, .opts = linux_syn_opts(100)});
    sent sa = d.expect();
    d.sleep_us(100000);
    d.inject({.seq = 1, .ack = sa.tcp.seq.raw() + 1, .win = 229,
              .opts = ts(200, sa.tcp.opts.tsval)});
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    const int fd = d.ifc.accept(d.u, lfd, reinterpret_cast<sockaddr*>(&peer), &len);
    EXPECT_GE(fd, 1000);
    EXPECT_EQ(len, socklen_t(sizeof peer));
    EXPECT_EQ(ntohl(peer.sin_addr.s_addr), remote_ip.v);
    EXPECT_EQ(ntohs(peer.sin_port), remote_port);
    if (synack) *synack = sa;
    return fd;
}

TEST(packetdrill_so, passive_open_synack_exact) {
    driver d(exact);
    const int lfd = d.listen_on(8080);
    EXPECT_EQ(lfd, 1000);  // the documented fd range
    // Nothing to accept yet: a non-blocking listener says so.
    ASSERT_EQ(d.ifc.fcntl(d.u, lfd, F_SETFL, O_NONBLOCK), 0);
    EXPECT_EQ(d.ifc.fcntl(d.u, lfd, F_GETFL), O_RDWR | O_NONBLOCK);
    EXPECT_ERRNO(d.ifc.accept(d.u, lfd, nullptr, nullptr), EAGAIN);

    d.sleep_us(5000);
    d.inject({.flags = tcp_flag::syn, .seq = 1000, .opts = linux_syn_opts(100)});
    sent sa = d.expect();
    EXPECT_EQ(sa.t_us, 5000);
    EXPECT_EQ(sa.ip.src, local_ip);
    EXPECT_EQ(sa.ip.dst, remote_ip);
    EXPECT_EQ(sa.ip.protocol, ipproto::tcp);
    EXPECT_EQ(sa.ip.ttl, 64);
    EXPECT_TRUE(sa.ip.dont_frag);
    EXPECT_EQ(sa.tcp.src_port, 8080);
    EXPECT_EQ(sa.tcp.dst_port, remote_port);
    EXPECT_EQ(sa.tcp.flags, tcp_flag::syn | tcp_flag::ack);
    EXPECT_EQ(sa.tcp.ack.raw(), 1001u);
    EXPECT_EQ(sa.tcp.window, 65535);  // a SYN's window is never scaled
    // <mss 1460,sackOK,TS val X ecr 100,nop,wscale 1>: Linux's order; our
    // 64 KiB receive ring needs only shift 1.
    const uint32_t tv = sa.tcp.opts.tsval;
    const std::vector<uint8_t> want = {2, 4, 0x05, 0xb4, 4, 2, 8, 10,
                                       uint8_t(tv >> 24), uint8_t(tv >> 16), uint8_t(tv >> 8),
                                       uint8_t(tv), 0, 0, 0, 100, 1, 3, 3, 1};
    EXPECT_EQ(sa.options, want);
    d.expect_none();

    d.inject({.seq = 1001, .ack = sa.tcp.seq.raw() + 1, .win = 229, .opts = ts(101, tv)});
    d.expect_none();  // the handshake's last ACK needs no answer
    const int fd = d.ifc.accept(d.u, lfd, nullptr, nullptr);
    EXPECT_EQ(fd, 1001);
    EXPECT_ERRNO(d.ifc.accept(d.u, lfd, nullptr, nullptr), EAGAIN);
    EXPECT_EQ(d.ifc.close(d.u, fd), 0);
    EXPECT_EQ(d.ifc.close(d.u, lfd), 0);
}

// SO_REUSEADDR is inherited by accepted sockets (as on Linux): after the
// listener closes, a new one with SO_REUSEADDR binds the port while the
// accepted connection still uses it; without the option it may not.
TEST(packetdrill_so, reuseaddr_inherited_by_accepted_socket) {
    driver d(exact);
    const int lfd = d.ifc.socket(d.u, AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ASSERT_EQ(d.ifc.setsockopt(d.u, lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
    auto a = sin_of(local_ip, 8080);
    ASSERT_EQ(d.ifc.bind(d.u, lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(d.ifc.listen(d.u, lfd, 4), 0);
    d.inject({.flags = tcp_flag::syn, .seq = 0, .opts = linux_syn_opts(100)});
    sent sa = d.expect();
    d.inject({.seq = 1, .ack = sa.tcp.seq.raw() + 1, .win = 229,
              .opts = ts(200, sa.tcp.opts.tsval)});
    const int fd = d.ifc.accept(d.u, lfd, nullptr, nullptr);
    ASSERT_GE(fd, 1000);
    int v = 0;
    socklen_t vl = sizeof v;
    EXPECT_EQ(d.ifc.getsockopt(d.u, fd, SOL_SOCKET, SO_REUSEADDR, &v, &vl), 0);
    EXPECT_EQ(v, 1);
    ASSERT_EQ(d.ifc.close(d.u, lfd), 0);

    const int plain = d.ifc.socket(d.u, AF_INET, SOCK_STREAM, 0);
    EXPECT_ERRNO(d.ifc.bind(d.u, plain, reinterpret_cast<sockaddr*>(&a), sizeof a), EADDRINUSE);
    const int again = d.ifc.socket(d.u, AF_INET, SOCK_STREAM, 0);
    ASSERT_EQ(d.ifc.setsockopt(d.u, again, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
    EXPECT_EQ(d.ifc.bind(d.u, again, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(d.ifc.listen(d.u, again, 4), 0);
    // The accepted connection is untouched by all this: its close sends a FIN.
    EXPECT_EQ(d.ifc.close(d.u, fd), 0);
    sent fin = d.expect();
    EXPECT_EQ(fin.tcp.flags, tcp_flag::fin | tcp_flag::ack);
    EXPECT_EQ(d.ifc.close(d.u, plain), 0);
    EXPECT_EQ(d.ifc.close(d.u, again), 0);
}

TEST(packetdrill_so, data_exchange_and_passive_close) {
    driver d(exact);
    sent sa;
    const int fd = passive_open(d, &sa);
    const uint32_t iss = sa.tcp.seq.raw();
    const long long t0 = d.now_us();

    d.inject({.flags = tcp_flag::psh | tcp_flag::ack, .seq = 1, .ack = iss + 1, .win = 229,
              .opts = ts(300, sa.tcp.opts.tsval), .data = "hello"});
    char buf[64] = {};
    EXPECT_EQ(d.ifc.read(d.u, fd, buf, sizeof buf), 5);
    EXPECT_EQ(std::string(buf, 5), "hello");
    int queued = -1;
    EXPECT_EQ(d.ifc.ioctl(d.u, fd, FIONREAD, &queued), 0);
    EXPECT_EQ(queued, 0);

    // The ACK is delayed (RFC 1122 4.2.3.2): nothing until 40 ms later.
    d.expect_none();
    d.sleep_us(39999);
    d.expect_none();
    d.sleep_us(1);
    sent ack = d.expect();
    EXPECT_EQ(ack.t_us, t0 + 40000);
    EXPECT_EQ(ack.tcp.flags, tcp_flag::ack);
    EXPECT_EQ(ack.tcp.seq.raw(), iss + 1);
    EXPECT_EQ(ack.tcp.ack.raw(), 6u);
    // (65536 - 5) >> 1: the right edge stays until it can move a full MSS
    // (receiver SWS avoidance, RFC 9293 3.8.6.2.2).
    EXPECT_EQ(ack.tcp.window, 32765);
    EXPECT_EQ(ack.tcp.opts.tsecr, 300u);

    EXPECT_EQ(d.ifc.write(d.u, fd, "world!", 6), 6);
    sent data = d.expect();
    EXPECT_EQ(data.tcp.flags, tcp_flag::psh | tcp_flag::ack);
    EXPECT_EQ(data.tcp.seq.raw(), iss + 1);
    EXPECT_EQ(data.tcp.ack.raw(), 6u);
    EXPECT_EQ(data.data, "world!");
    EXPECT_EQ(data.t_us, t0 + 40000);

    // Peer ACKs and closes: we ACK its FIN at once, read sees EOF.
    d.sleep_us(10000);
    d.inject({.flags = tcp_flag::fin | tcp_flag::ack, .seq = 6, .ack = iss + 7, .win = 229,
              .opts = ts(400, data.tcp.opts.tsval)});
    sent finack = d.expect();
    EXPECT_EQ(finack.tcp.flags, tcp_flag::ack);
    EXPECT_EQ(finack.tcp.seq.raw(), iss + 7);
    EXPECT_EQ(finack.tcp.ack.raw(), 7u);
    EXPECT_EQ(d.ifc.read(d.u, fd, buf, sizeof buf), 0);

    pollfd p{fd, POLLIN | POLLOUT | POLLRDHUP, 0};
    EXPECT_EQ(d.ifc.poll(d.u, &p, 1, 0), 1);
    EXPECT_EQ(p.revents, POLLIN | POLLOUT | POLLRDHUP);

    // Our close: FIN, then the peer's ACK ends it (LAST-ACK -> CLOSED).
    EXPECT_EQ(d.ifc.close(d.u, fd), 0);
    sent fin = d.expect();
    EXPECT_EQ(fin.tcp.flags, tcp_flag::fin | tcp_flag::ack);
    EXPECT_EQ(fin.tcp.seq.raw(), iss + 7);
    EXPECT_EQ(fin.tcp.ack.raw(), 7u);
    d.inject({.seq = 7, .ack = iss + 8, .win = 229, .opts = ts(500, fin.tcp.opts.tsval)});
    d.expect_none();
}

// A retransmission of data already received, as packetdrill scripts it:
//   +0 < P. 1:6(5) ack 1 win 229 <nop,nop,TS val 300 ecr X>
//   +0 < P. 1:6(5) ack 1 win 229 <nop,nop,TS val 310 ecr X>
//   +0 > . 1:1(0) ack 6 <nop,nop,TS val Y ecr 300,nop,nop,sack 1:6>
// The repeat is ACKed at once with a D-SACK for it (RFC 2883), once only.
TEST(packetdrill_so, duplicate_data_gets_dsack) {
    driver d(exact);
    sent sa;
    (void)passive_open(d, &sa);
    const uint32_t iss = sa.tcp.seq.raw();
    d.inject({.flags = tcp_flag::psh | tcp_flag::ack, .seq = 1, .ack = iss + 1, .win = 229,
              .opts = ts(300, sa.tcp.opts.tsval), .data = "hello"});
    d.expect_none();  // delayed ACK
    d.inject({.flags = tcp_flag::psh | tcp_flag::ack, .seq = 1, .ack = iss + 1, .win = 229,
              .opts = ts(310, sa.tcp.opts.tsval), .data = "hello"});
    sent ack = d.expect();
    EXPECT_EQ(ack.tcp.flags, tcp_flag::ack);
    EXPECT_EQ(ack.tcp.ack.raw(), 6u);
    // RFC 7323 5.3 R3: TS.Recent comes from acceptable segments only, so the
    // echo is still the original's: the sender can tell the repeat was needless.
    EXPECT_EQ(ack.tcp.opts.tsecr, 300u);
    ASSERT_EQ(ack.tcp.opts.num_sack, 1);
    EXPECT_EQ(ack.tcp.opts.sack[0], (sack_block{1, 6}));
    // Out-of-order data next: its ACK carries only its own block.
    d.inject({.flags = tcp_flag::psh | tcp_flag::ack, .seq = 11, .ack = iss + 1, .win = 229,
              .opts = ts(320, sa.tcp.opts.tsval), .data = "again"});
    sent ack2 = d.expect();
    EXPECT_EQ(ack2.tcp.ack.raw(), 6u);
    ASSERT_EQ(ack2.tcp.opts.num_sack, 1);
    EXPECT_EQ(ack2.tcp.opts.sack[0], (sack_block{11, 16}));
}

TEST(packetdrill_so, active_close_fin_handshake) {
    driver d(exact);
    sent sa;
    const int fd = passive_open(d, &sa);
    const uint32_t iss = sa.tcp.seq.raw();
    EXPECT_EQ(d.ifc.shutdown(d.u, fd, SHUT_WR), 0);
    sent fin = d.expect();
    EXPECT_EQ(fin.tcp.flags, tcp_flag::fin | tcp_flag::ack);
    EXPECT_EQ(fin.tcp.seq.raw(), iss + 1);
    EXPECT_EQ(fin.tcp.ack.raw(), 1u);
    EXPECT_ERRNO(d.ifc.write(d.u, fd, "x", 1), EPIPE);
    // Peer ACKs our FIN and sends its own: we ACK it (TIME-WAIT).
    d.inject({.flags = tcp_flag::fin | tcp_flag::ack, .seq = 1, .ack = iss + 2, .win = 229,
              .opts = ts(300, fin.tcp.opts.tsval)});
    sent last = d.expect();
    EXPECT_EQ(last.tcp.flags, tcp_flag::ack);
    EXPECT_EQ(last.tcp.seq.raw(), iss + 2);
    EXPECT_EQ(last.tcp.ack.raw(), 2u);
    char c;
    EXPECT_EQ(d.ifc.read(d.u, fd, &c, 1), 0);
    EXPECT_EQ(d.ifc.close(d.u, fd), 0);
    d.expect_none();
}

TEST(packetdrill_so, active_open_exact) {
    driver d(exact);
    const int fd = d.ifc.socket(d.u, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
    ASSERT_EQ(fd, 1000);
    d.sleep_us(1000);
    auto to = sin_of(remote_ip, 80);
    EXPECT_ERRNO(d.ifc.connect(d.u, fd, reinterpret_cast<sockaddr*>(&to), sizeof to), EINPROGRESS);
    sent syn = d.expect();
    EXPECT_EQ(syn.t_us, 1000);
    EXPECT_EQ(syn.ip.src, local_ip);
    EXPECT_EQ(syn.ip.dst, remote_ip);
    EXPECT_EQ(syn.tcp.dst_port, 80);
    EXPECT_EQ(syn.tcp.flags, tcp_flag::syn);
    EXPECT_EQ(syn.tcp.ack.raw(), 0u);
    EXPECT_EQ(syn.tcp.window, 65535);
    const uint32_t tv = syn.tcp.opts.tsval;
    const std::vector<uint8_t> want = {2, 4, 0x05, 0xb4, 4, 2, 8, 10,
                                       uint8_t(tv >> 24), uint8_t(tv >> 16), uint8_t(tv >> 8),
                                       uint8_t(tv), 0, 0, 0, 0, 1, 3, 3, 1};
    EXPECT_EQ(syn.options, want);
    EXPECT_ERRNO(d.ifc.connect(d.u, fd, reinterpret_cast<sockaddr*>(&to), sizeof to), EALREADY);
    pollfd p{fd, POLLOUT, 0};
    EXPECT_EQ(d.ifc.poll(d.u, &p, 1, 0), 0);

    d.sleep_us(50000);
    const uint32_t iss = syn.tcp.seq.raw();
    tcp_options o = linux_syn_opts(700);
    o.tsecr = tv;
    d.inject({.flags = tcp_flag::syn | tcp_flag::ack, .seq = 5000, .ack = iss + 1, .opts = o,
              .sport = 80, .dport = syn.tcp.src_port});
    sent ack = d.expect();
    EXPECT_EQ(ack.t_us, 51000);
    EXPECT_EQ(ack.tcp.flags, tcp_flag::ack);
    EXPECT_EQ(ack.tcp.seq.raw(), iss + 1);
    EXPECT_EQ(ack.tcp.ack.raw(), 5001u);
    EXPECT_EQ(ack.tcp.window, 32768);
    EXPECT_EQ(ack.tcp.opts.tsecr, 700u);
    EXPECT_EQ(d.ifc.poll(d.u, &p, 1, 0), 1);
    EXPECT_EQ(p.revents, POLLOUT);
    int err = -1;
    socklen_t len = sizeof err;
    EXPECT_EQ(d.ifc.getsockopt(d.u, fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
    EXPECT_EQ(err, 0);
    int mss = 0;
    len = sizeof mss;
    EXPECT_EQ(d.ifc.getsockopt(d.u, fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &len), 0);
    EXPECT_EQ(mss, 1460);  // the peer's MSS (Linux reports 1448: less the TS option)
    EXPECT_ERRNO(d.ifc.connect(d.u, fd, reinterpret_cast<sockaddr*>(&to), sizeof to), EISCONN);
}

TEST(packetdrill_so, rst_cases) {
    driver d(exact);
    // A SYN to a port nobody listens on: RST|ACK (RFC 9293 3.10.7.1).
    d.inject({.flags = tcp_flag::syn, .seq = 77, .opts = linux_syn_opts(1), .dport = 9});
    sent rst = d.expect();
    EXPECT_EQ(rst.tcp.flags, tcp_flag::rst | tcp_flag::ack);
    EXPECT_EQ(rst.tcp.seq.raw(), 0u);
    EXPECT_EQ(rst.tcp.ack.raw(), 78u);
    EXPECT_EQ(rst.tcp.window, 0);

    // RST on an established connection: the next read fails ECONNRESET.
    sent sa;
    const int fd = passive_open(d, &sa);
    d.inject({.flags = tcp_flag::rst | tcp_flag::ack, .seq = 1, .ack = sa.tcp.seq.raw() + 1});
    d.expect_none();
    char c;
    EXPECT_ERRNO(d.ifc.read(d.u, fd, &c, 1), ECONNRESET);
    EXPECT_EQ(d.ifc.close(d.u, fd), 0);

    // Refused active open: RST|ACK to our SYN; SO_ERROR says ECONNREFUSED.
    const int cfd = d.ifc.socket(d.u, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    auto to = sin_of(remote_ip, 81);
    EXPECT_ERRNO(d.ifc.connect(d.u, cfd, reinterpret_cast<sockaddr*>(&to), sizeof to), EINPROGRESS);
    sent syn = d.expect();
    d.inject({.flags = tcp_flag::rst | tcp_flag::ack, .seq = 0, .ack = syn.tcp.seq.raw() + 1,
              .win = 0, .sport = 81, .dport = syn.tcp.src_port});
    int err = 0;
    socklen_t len = sizeof err;
    EXPECT_EQ(d.ifc.getsockopt(d.u, cfd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
    EXPECT_EQ(err, ECONNREFUSED);
    EXPECT_EQ(d.ifc.close(d.u, cfd), 0);
}

TEST(packetdrill_so, syn_retransmission_on_usleep_exact) {
    driver d(exact);
    const int fd = d.ifc.socket(d.u, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    auto to = sin_of(remote_ip, 80);
    EXPECT_ERRNO(d.ifc.connect(d.u, fd, reinterpret_cast<sockaddr*>(&to), sizeof to), EINPROGRESS);
    sent syn = d.expect();
    EXPECT_EQ(syn.t_us, 0);
    // RFC 6298 2.1: initial RTO 1 s, then doubled (5.5).
    d.sleep_us(999999);
    d.expect_none();
    d.sleep_us(1);
    sent r1 = d.expect();
    EXPECT_EQ(r1.t_us, 1000000);
    EXPECT_EQ(r1.tcp.flags, tcp_flag::syn);
    EXPECT_EQ(r1.tcp.seq, syn.tcp.seq);
    d.sleep_us(2000000);
    sent r2 = d.expect();
    EXPECT_EQ(r2.t_us, 3000000);
    EXPECT_EQ(d.now_us(), 3000000);
}

TEST(packetdrill_so, data_retransmission_after_rto_exact) {
    // Default flags but the address: netdev_receive lets timers run until
    // something is sent, as packetdrill expects of a sniffer.
    driver d("--local_ip=192.168.7.2 --block_wait_ms=0");
    sent sa;
    const int fd = passive_open(d, &sa);  // RTT sample: 100 ms
    const uint32_t iss = sa.tcp.seq.raw();
    const long long t0 = d.now_us();
    EXPECT_EQ(d.ifc.write(d.u, fd, "abc", 3), 3);
    sent first = d.expect();
    EXPECT_EQ(first.t_us, t0);
    // RFC 6298: the RTO from the handshake's 100 ms sample lies between
    // rto_min (200 ms) and SRTT + 4 * RTTVAR (300 ms). The connection has
    // SACK, so a tail loss probe comes first (RFC 8985 7.2: PTO = 2 SRTT +
    // 200 ms for a single segment, capped at the RTO): the same segment at
    // the RTO's time, and the RTO restarted from there (7.3). Then real
    // timeouts, doubling (5.5). Every copy carries the virtual time its
    // timer fired at.
    sent again = d.expect();
    const long long rto = again.t_us - t0;
    EXPECT_GE(rto, 200000);
    EXPECT_LE(rto, 300000);
    EXPECT_EQ(again.tcp.flags, tcp_flag::psh | tcp_flag::ack);
    EXPECT_EQ(again.tcp.seq.raw(), iss + 1);
    EXPECT_EQ(again.data, "abc");
    sent third = d.expect();
    EXPECT_EQ(third.t_us, again.t_us + rto);
    EXPECT_EQ(third.data, "abc");
    sent fourth = d.expect();
    EXPECT_EQ(fourth.t_us, third.t_us + 2 * rto);
    EXPECT_EQ(fourth.data, "abc");
    EXPECT_EQ(d.now_us(), fourth.t_us);
    // ACK it: no more timers that send anything.
    d.inject({.seq = 1, .ack = iss + 4, .win = 229, .opts = ts(900, fourth.tcp.opts.tsval)});
    EXPECT_EQ(d.ifc.close(d.u, fd), 0);
    sent fin = d.expect();
    EXPECT_EQ(fin.tcp.flags, tcp_flag::fin | tcp_flag::ack);
    EXPECT_EQ(fin.t_us, fourth.t_us);
}

TEST(packetdrill_so, unsupported_calls_fail_cleanly) {
    driver d(exact);
    EXPECT_ERRNO(d.ifc.epoll_create(d.u, 1), ENOSYS);
    EXPECT_ERRNO(d.ifc.epoll_ctl(d.u, 1000, EPOLL_CTL_ADD, 1001, nullptr), ENOSYS);
    EXPECT_ERRNO(d.ifc.epoll_wait(d.u, 1000, nullptr, 1, 0), ENOSYS);
    int fds[2];
    EXPECT_ERRNO(d.ifc.pipe(d.u, fds), ENOSYS);
    EXPECT_ERRNO(d.ifc.splice(d.u, 1000, nullptr, 1001, nullptr, 10, 0), ENOSYS);
    EXPECT_ERRNO(d.ifc.socket(d.u, AF_INET, SOCK_DGRAM, 0), EOPNOTSUPP);
    EXPECT_ERRNO(d.ifc.socket(d.u, AF_INET6, SOCK_STREAM, 0), EAFNOSUPPORT);

    const int fd = d.ifc.socket(d.u, AF_INET, SOCK_STREAM, 0);
    ASSERT_EQ(fd, 1000);
    char info[256];
    socklen_t len = sizeof info;
    EXPECT_ERRNO(d.ifc.getsockopt(d.u, fd, IPPROTO_TCP, TCP_INFO, info, &len), EOPNOTSUPP);
    int one = 1;
    EXPECT_ERRNO(d.ifc.setsockopt(d.u, fd, IPPROTO_TCP, TCP_CORK, &one, sizeof one), EOPNOTSUPP);
    EXPECT_ERRNO(d.ifc.setsockopt(d.u, fd, IPPROTO_IP, IP_TOS, &one, sizeof one), EOPNOTSUPP);
    EXPECT_EQ(d.ifc.setsockopt(d.u, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
    EXPECT_EQ(d.ifc.setsockopt(d.u, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0);
    EXPECT_ERRNO(d.ifc.fcntl(d.u, fd, F_GETLK, nullptr), EOPNOTSUPP);
    EXPECT_ERRNO(d.ifc.ioctl(d.u, fd, SIOCATMARK, &one), EOPNOTSUPP);
    char c;
    EXPECT_ERRNO(d.ifc.read(d.u, fd, &c, 1), ENOTCONN);
    EXPECT_ERRNO(d.ifc.recv(d.u, fd, &c, 1, MSG_PEEK), EOPNOTSUPP);
    msghdr m{};
    char ctl[32];
    m.msg_control = ctl, m.msg_controllen = sizeof ctl;
    EXPECT_ERRNO(d.ifc.recvmsg(d.u, fd, &m, 0), EOPNOTSUPP);

    // Not ours: fds below the range (packetdrill's own), closed ones.
    EXPECT_ERRNO(d.ifc.close(d.u, 3), EBADF);
    EXPECT_ERRNO(d.ifc.read(d.u, 999, &c, 1), EBADF);
    EXPECT_EQ(d.ifc.close(d.u, fd), 0);
    EXPECT_ERRNO(d.ifc.close(d.u, fd), EBADF);
    pollfd p{fd, POLLIN, 0};
    EXPECT_EQ(d.ifc.poll(d.u, &p, 1, 0), 1);
    EXPECT_EQ(p.revents, POLLNVAL);

    // Not an IPv4 packet; an empty one.
    const std::byte junk[8] = {std::byte{0x60}};
    EXPECT_EQ(d.ifc.netdev_send(d.u, junk, sizeof junk), -1);
    EXPECT_EQ(d.ifc.netdev_send(d.u, junk, 0), -1);
    d.expect_none();
}

TEST(packetdrill_so, adopts_local_address_from_first_packet) {
    driver d("--max_wait_us=0 --block_wait_ms=0");
    // No address yet: an active open cannot pick a source.
    const int c = d.ifc.socket(d.u, AF_INET, SOCK_STREAM, 0);
    auto to = sin_of(remote_ip, 80);
    EXPECT_ERRNO(d.ifc.connect(d.u, c, reinterpret_cast<sockaddr*>(&to), sizeof to), EADDRNOTAVAIL);

    const int lfd = d.ifc.socket(d.u, AF_INET, SOCK_STREAM, 0);
    auto any = sin_of(ipv4_addr(0u), 8080);
    EXPECT_EQ(d.ifc.bind(d.u, lfd, reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
    EXPECT_EQ(d.ifc.listen(d.u, lfd, 4), 0);
    const ipv4_addr mine(192, 168, 33, 44);
    d.inject({.flags = tcp_flag::syn, .seq = 0, .opts = linux_syn_opts(1), .dst = mine});
    sent sa = d.expect();
    EXPECT_EQ(sa.ip.src, mine);
    EXPECT_EQ(sa.tcp.flags, tcp_flag::syn | tcp_flag::ack);
    // From now on that is our address: packets to another are not for us.
    d.inject({.flags = tcp_flag::syn, .seq = 0, .opts = linux_syn_opts(1), .sport = 1,
              .dst = ipv4_addr(192, 168, 33, 45)});
    d.expect_none();
}

TEST(packetdrill_so, adopts_local_address_from_bind) {
    driver d("--max_wait_us=0 --block_wait_ms=0");
    const int fd = d.ifc.socket(d.u, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    auto me = sin_of(local_ip, 0);
    EXPECT_EQ(d.ifc.bind(d.u, fd, reinterpret_cast<sockaddr*>(&me), sizeof me), 0);
    auto to = sin_of(remote_ip, 80);
    EXPECT_ERRNO(d.ifc.connect(d.u, fd, reinterpret_cast<sockaddr*>(&to), sizeof to), EINPROGRESS);
    sent syn = d.expect();
    EXPECT_EQ(syn.ip.src, local_ip);
    const int other = d.ifc.socket(d.u, AF_INET, SOCK_STREAM, 0);
    auto wrong = sin_of(ipv4_addr(10, 9, 8, 7), 0);
    EXPECT_ERRNO(d.ifc.bind(d.u, other, reinterpret_cast<sockaddr*>(&wrong), sizeof wrong),
                 EADDRNOTAVAIL);
}

TEST(packetdrill_so, virtual_clock) {
    driver d(exact);
    EXPECT_EQ(d.now_us(), 0);
    // Back-to-back gettimeofday calls are a spin: each moves 1 us so
    // packetdrill's wait loop ends; any other call resets that.
    EXPECT_EQ(d.now_us(), 1);
    EXPECT_EQ(d.now_us(), 2);
    d.sleep_us(1000);
    EXPECT_EQ(d.now_us(), 1002);
    EXPECT_EQ(d.now_us(), 1003);
    // poll() with a timeout sleeps in virtual time.
    const int fd = d.listen_on(8080);
    pollfd p{fd, POLLIN, 0};
    EXPECT_EQ(d.ifc.poll(d.u, &p, 1, 250), 0);
    EXPECT_EQ(d.now_us(), 251003);
    // A blocking accept with nothing that can ever arrive gives up at once
    // (block_wait_ms=0, no timers) without moving the clock.
    EXPECT_ERRNO(d.ifc.accept(d.u, fd, nullptr, nullptr), EAGAIN);
    EXPECT_EQ(d.now_us(), 251003);
}

TEST(packetdrill_so, blocking_accept_on_another_thread) {
    // packetdrill runs a blocking call on a second thread while its main
    // thread injects the packets that complete it.
    driver d("--local_ip=192.168.7.2 --max_wait_us=0 --block_wait_ms=10000");
    const int lfd = d.listen_on(8080);
    int got = -2;
    std::thread t([&] { got = d.ifc.accept(d.u, lfd, nullptr, nullptr); });
    d.inject({.flags = tcp_flag::syn, .seq = 0, .opts = linux_syn_opts(100)});
    sent sa = d.expect();
    d.sleep_us(1000);
    d.inject({.seq = 1, .ack = sa.tcp.seq.raw() + 1, .opts = ts(101, sa.tcp.opts.tsval)});
    t.join();
    EXPECT_EQ(got, 1001);
}

}  // namespace
}  // namespace mvnf::pd::test
