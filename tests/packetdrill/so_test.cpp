// libmvnf-packetdrill.so driven as packetdrill drives it: passive and active
// opens, data, closes, resets, timers on the virtual clock and unsupported
// calls, each checked to the exact segment (flags, seq/ack, window, options).
#include <sys/ioctl.h>
#include <fcntl.h>
#include <netinet/tcp.h>

#include <thread>

#include <linux/sock_diag.h>
#include <unistd.h>

#include "driver.hpp"
#include "wire/checksum.hpp"

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
    // The first data of a connection is ACKed at once (quick-ACK mode, as
    // Linux; the library sets tcp::config::quickacks).
    sent ack = d.expect();
    EXPECT_EQ(ack.t_us, t0);
    EXPECT_EQ(ack.tcp.flags, tcp_flag::ack);
    EXPECT_EQ(ack.tcp.seq.raw(), iss + 1);
    EXPECT_EQ(ack.tcp.ack.raw(), 6u);
    // (65536 - 5) >> 1: the right edge stays until it can move a full MSS
    // (receiver SWS avoidance, RFC 9293 3.8.6.2.2).
    EXPECT_EQ(ack.tcp.window, 32765);
    EXPECT_EQ(ack.tcp.opts.tsecr, 300u);
    char buf[64] = {};
    EXPECT_EQ(d.ifc.read(d.u, fd, buf, sizeof buf), 5);
    EXPECT_EQ(std::string(buf, 5), "hello");
    int queued = -1;
    EXPECT_EQ(d.ifc.ioctl(d.u, fd, FIONREAD, &queued), 0);
    EXPECT_EQ(queued, 0);
    d.expect_none();  // reading 5 bytes moves no edge a full MSS: no update

    EXPECT_EQ(d.ifc.write(d.u, fd, "world!", 6), 6);
    sent data = d.expect();
    EXPECT_EQ(data.tcp.flags, tcp_flag::psh | tcp_flag::ack);
    EXPECT_EQ(data.tcp.seq.raw(), iss + 1);
    EXPECT_EQ(data.tcp.ack.raw(), 6u);
    EXPECT_EQ(data.data, "world!");
    EXPECT_EQ(data.t_us, t0);

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
    EXPECT_EQ(d.expect().tcp.ack.raw(), 6u);  // quick-ACK mode: at once
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
    // epoll is offered (google's epoll/epoll_in_edge.pkt checks it); bad
    // arguments fail as on Linux.
    EXPECT_ERRNO(d.ifc.epoll_create(d.u, 0), EINVAL);
    EXPECT_ERRNO(d.ifc.epoll_ctl(d.u, 1000, EPOLL_CTL_ADD, 1001, nullptr), EBADF);
    EXPECT_ERRNO(d.ifc.epoll_wait(d.u, 1000, nullptr, 1, 0), EBADF);
    int fds[2];
    EXPECT_ERRNO(d.ifc.pipe(d.u, fds), ENOSYS);
    EXPECT_ERRNO(d.ifc.splice(d.u, 1000, nullptr, 1001, nullptr, 10, 0), ENOSYS);
    EXPECT_ERRNO(d.ifc.socket(d.u, AF_INET, SOCK_DGRAM, 0), EOPNOTSUPP);
    EXPECT_ERRNO(d.ifc.socket(d.u, AF_INET6, SOCK_STREAM, 0), EAFNOSUPPORT);

    const int fd = d.ifc.socket(d.u, AF_INET, SOCK_STREAM, 0);
    ASSERT_EQ(fd, 1000);
    int one = 1;
    EXPECT_ERRNO(d.ifc.setsockopt(d.u, fd, IPPROTO_TCP, TCP_FASTOPEN, &one, sizeof one), EOPNOTSUPP);
    EXPECT_ERRNO(d.ifc.setsockopt(d.u, fd, IPPROTO_IP, IP_TOS, &one, sizeof one), EOPNOTSUPP);
    EXPECT_EQ(d.ifc.setsockopt(d.u, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
    EXPECT_EQ(d.ifc.setsockopt(d.u, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0);
    EXPECT_ERRNO(d.ifc.fcntl(d.u, fd, F_GETLK, nullptr), EOPNOTSUPP);
    EXPECT_ERRNO(d.ifc.ioctl(d.u, fd, SIOCATMARK, &one), EOPNOTSUPP);
    char c;
    EXPECT_ERRNO(d.ifc.read(d.u, fd, &c, 1), ENOTCONN);
    EXPECT_ERRNO(d.ifc.recv(d.u, fd, &c, 1, MSG_PEEK), EOPNOTSUPP);

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

TEST(packetdrill_so, kernel_close_of_a_left_open_socket) {
    // At a script's end packetdrill closes the sockets the script left open
    // with the kernel's close() on their numbers (and dies if that fails),
    // then injects a RST for each connection and frees the instance.
    driver d(exact);
    sent sa;
    int lfd = -1;
    const int fd = passive_open(d, &sa, &lfd);
    EXPECT_EQ(::close(fd), 0) << "the socket's number is not a kernel descriptor";
    // The library has not been told; a new socket that gets the number back
    // from the kernel finds the old one gone: the connection is closed
    // (FIN, as a kernel close() of a socket with nothing unread does).
    const int n = d.ifc.socket(d.u, AF_INET, SOCK_STREAM, 0);
    EXPECT_EQ(n, fd);
    bool fin = false;
    while (auto s = d.receive()) fin |= (s->tcp.flags & tcp_flag::fin) != 0;
    EXPECT_TRUE(fin);
    // The number now means the new socket, not the closed connection.
    int type = 0;
    socklen_t len = sizeof type;
    EXPECT_EQ(d.ifc.getsockopt(d.u, n, SOL_SOCKET, SO_TYPE, &type, &len), 0);
    EXPECT_EQ(type, SOCK_STREAM);
    char c;
    EXPECT_ERRNO(d.ifc.read(d.u, n, &c, 1), ENOTCONN);
    // A descriptor someone else opens on a number we handed out and saw
    // closed is not ours to close when the instance goes.
    EXPECT_EQ(::close(lfd), 0);
    const int other = lfd;
    const int mine = ::open("/dev/null", O_RDONLY);
    ASSERT_GE(mine, 0);
    ASSERT_EQ(::dup2(mine, other), other);
    ::close(mine);
    d.ifc.free(d.u);
    d.ifc.free = nullptr;
    EXPECT_EQ(::fcntl(other, F_GETFD), 0) << "free() closed a stranger's descriptor";
    ::close(other);
}

TEST(packetdrill_so, missing_packet_is_reported) {
    // When the script expects a packet and none comes, packetdrill gets an
    // empty one and prints only "error handling packet: (null)"; the
    // library says on stderr what happened.
    driver d(exact);
    d.sleep_us(2500);
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    const int saved = ::dup(2);
    ::fflush(stderr);
    ::dup2(p[1], 2);
    d.expect_none();
    ::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    ::close(p[1]);
    char buf[512] = {};
    const ssize_t n = ::read(p[0], buf, sizeof buf - 1);
    ::close(p[0]);
    ASSERT_GT(n, 0);
    EXPECT_NE(std::string(buf).find("expected outbound packet not sent"), std::string::npos) << buf;
    EXPECT_NE(std::string(buf).find("0.002500 s"), std::string::npos) << buf;
}

TEST(packetdrill_so, tcp_info_and_options_as_the_c_api) {
    driver d(exact);
    // A fresh socket: TCP_INFO says CLOSE; the keepalive defaults are the
    // layer's (RFC 1122 4.2.3.6); bad values are refused as Linux does.
    const int s = d.ifc.socket(d.u, AF_INET, SOCK_STREAM, 0);
    tcp_info ti{};
    socklen_t len = sizeof ti;
    ASSERT_EQ(d.ifc.getsockopt(d.u, s, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    EXPECT_EQ(len, socklen_t(sizeof ti));
    EXPECT_EQ(ti.tcpi_state, 7);
    int v = 0;
    len = sizeof v;
    ASSERT_EQ(d.ifc.getsockopt(d.u, s, IPPROTO_TCP, TCP_KEEPIDLE, &v, &len), 0);
    EXPECT_EQ(v, 7200);
    v = 0;
    EXPECT_ERRNO(d.ifc.setsockopt(d.u, s, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v), EINVAL);
    v = 128;
    EXPECT_ERRNO(d.ifc.setsockopt(d.u, s, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof v), EINVAL);
    v = 50;
    EXPECT_ERRNO(d.ifc.setsockopt(d.u, s, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof v), EINVAL);
    EXPECT_EQ(d.ifc.close(d.u, s), 0);

    // Options set on the listener reach the accepted connection.
    const int lfd = d.listen_on(8080);
    v = 1;
    ASSERT_EQ(d.ifc.setsockopt(d.u, lfd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v), 0);
    v = 10;
    ASSERT_EQ(d.ifc.setsockopt(d.u, lfd, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v), 0);
    v = 2;
    ASSERT_EQ(d.ifc.setsockopt(d.u, lfd, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof v), 0);
    const linger lg{1, 0};
    ASSERT_EQ(d.ifc.setsockopt(d.u, lfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    len = sizeof ti;
    ASSERT_EQ(d.ifc.getsockopt(d.u, lfd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    EXPECT_EQ(ti.tcpi_state, 10);  // LISTEN
    d.inject({.flags = tcp_flag::syn, .seq = 0, .opts = linux_syn_opts(100)});
    sent sa = d.expect();
    d.sleep_us(100000);
    d.inject({.seq = 1, .ack = sa.tcp.seq.raw() + 1, .win = 229, .opts = ts(200, sa.tcp.opts.tsval)});
    const int fd = d.ifc.accept(d.u, lfd, nullptr, nullptr);
    ASSERT_GE(fd, 0);

    // TCP_INFO in Linux's layout: ESTABLISHED, options, scales, MSS, RTT.
    len = sizeof ti;
    ASSERT_EQ(d.ifc.getsockopt(d.u, fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    EXPECT_EQ(ti.tcpi_state, 1);
    EXPECT_EQ(ti.tcpi_options & (TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE),
              TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE);
    EXPECT_EQ(ti.tcpi_snd_wscale, 7);
    EXPECT_EQ(ti.tcpi_rcv_wscale, 1);
    EXPECT_EQ(ti.tcpi_snd_mss, 1460u);
    EXPECT_EQ(ti.tcpi_rtt, 100000u);  // the handshake's 100 ms, in us
    EXPECT_EQ(ti.tcpi_snd_cwnd, 10u);
    // A short buffer gets the start of the structure, as Linux.
    uint8_t state = 0;
    len = 1;
    ASSERT_EQ(d.ifc.getsockopt(d.u, fd, IPPROTO_TCP, TCP_INFO, &state, &len), 0);
    EXPECT_EQ(len, 1u);
    EXPECT_EQ(state, 1);
    len = sizeof v;
    ASSERT_EQ(d.ifc.getsockopt(d.u, fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, &len), 0);
    EXPECT_EQ(v, 10);
    linger got{};
    len = sizeof got;
    ASSERT_EQ(d.ifc.getsockopt(d.u, fd, SOL_SOCKET, SO_LINGER, &got, &len), 0);
    EXPECT_EQ(got.l_onoff, 1);
    EXPECT_EQ(got.l_linger, 0);

    // Keepalive after 10 s idle, then every 2 s: probes at SND.UNA - 1.
    d.sleep_us(10000000);
    sent probe = d.expect();
    EXPECT_EQ(probe.tcp.flags, tcp_flag::ack);
    EXPECT_EQ(probe.tcp.seq.raw(), sa.tcp.seq.raw());
    EXPECT_EQ(probe.t_us, 100000 + 10000000);
    d.sleep_us(2000000);
    sent probe2 = d.expect();
    EXPECT_EQ(probe2.t_us, 100000 + 12000000);

    // SO_LINGER {1, 0}: close() aborts with a RST.
    EXPECT_EQ(d.ifc.close(d.u, fd), 0);
    sent rst = d.expect();
    EXPECT_TRUE(rst.tcp.flags & tcp_flag::rst);
}

// An ICMP error from the path (from 192.0.2.254) quoting the packet `q` we sent.
std::vector<std::byte> icmp_quoting(const sent& q, uint8_t type, uint8_t code, uint16_t mtu) {
    std::vector<std::byte> out(20 + 8 + 20 + 8);
    ipv4_repr ip{ipv4_addr(0xc00002fe), local_ip, ipproto::icmp, 64, 0, 7, false, false, 0,
                 uint16_t(8 + 28)};
    ip.emit(out.data());
    std::byte* m = out.data() + 20;
    m[0] = std::byte(type), m[1] = std::byte(code);
    store_be16(m + 6, mtu);  // RFC 1191 4: next-hop MTU
    q.ip.emit(m + 8);        // the quoted header, then its first 8 payload bytes
    store_be16(m + 28, q.tcp.src_port);
    store_be16(m + 30, q.tcp.dst_port);
    store_be32(m + 32, q.tcp.seq.raw());
    store_be16(m + 2, checksum(m, 36));
    return out;
}

TEST(packetdrill_so, icmp_errors_reach_the_connection) {
    driver d(exact);
    // Port unreachable for our SYN: a hard error while connecting
    // (RFC 1122 4.2.3.9): connect() reports ECONNREFUSED.
    const int fd = d.ifc.socket(d.u, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    auto peer = sin_of(remote_ip, 80);
    EXPECT_ERRNO(d.ifc.connect(d.u, fd, reinterpret_cast<sockaddr*>(&peer), sizeof peer),
                 EINPROGRESS);
    sent syn = d.expect();
    auto icmp = icmp_quoting(syn, 3, 3, 0);
    ASSERT_EQ(d.ifc.netdev_send(d.u, icmp.data(), icmp.size()), 0);
    EXPECT_ERRNO(d.ifc.connect(d.u, fd, reinterpret_cast<sockaddr*>(&peer), sizeof peer),
                 ECONNREFUSED);
    d.expect_none();  // no RST for an aborted SYN-SENT

    // Fragmentation needed with a next-hop MTU of 1000 (RFC 1191): the
    // segment is sent again at once, cut to the new MSS (1000 - 40, less
    // the 12 bytes of timestamps).
    sent sa;
    const int c = passive_open(d, &sa);
    const std::string big(1400, 'x');
    ASSERT_EQ(d.ifc.write(d.u, c, big.data(), big.size()), 1400);
    sent data = d.expect();
    ASSERT_EQ(data.data.size(), 1400u);
    icmp = icmp_quoting(data, 3, 4, 1000);
    ASSERT_EQ(d.ifc.netdev_send(d.u, icmp.data(), icmp.size()), 0);
    sent again = d.expect();
    EXPECT_EQ(again.tcp.seq, data.tcp.seq);
    EXPECT_EQ(again.data.size(), 1000u - 40 - 12);
}

TEST(packetdrill_so, segment_above_the_mtu_is_taken) {
    // A peer's segment larger than our MTU, as a GRO'd frame reaches a
    // kernel's TCP: accepted as far as the receive ring holds it.
    // The largest IPv4 packet goes in (into the whole 64 KiB window the
    // handshake offered); nothing larger can exist.
    driver d(exact);
    sent sa;
    const int fd = passive_open(d, &sa);
    const std::string max(65535 - 20 - 32, 'm');
    d.inject({.seq = 1, .ack = sa.tcp.seq.raw() + 1, .win = 229,
              .opts = ts(300, sa.tcp.opts.tsval), .data = max});
    std::string got2(70000, '\0');
    EXPECT_EQ(d.ifc.read(d.u, fd, got2.data(), got2.size()), long(max.size()));
    // Reading it all reopened the window (an update went: it more than
    // doubled); another frame of 10000 is taken whole.
    const std::string big(10000, 'g');
    d.inject({.seq = 1 + uint32_t(max.size()), .ack = sa.tcp.seq.raw() + 1, .win = 229,
              .opts = ts(301, sa.tcp.opts.tsval), .data = big});
    std::string got(20000, '\0');
    EXPECT_EQ(d.ifc.read(d.u, fd, got.data(), got.size()), 10000);
    EXPECT_EQ(got.substr(0, 10000), big);
}

TEST(packetdrill_so, kernel_getsockopt_of_code_events) {
    // packetdrill's code events call the kernel's getsockopt on the live
    // descriptor; preloaded, the library's getsockopt answers for its own
    // sockets and passes everything else to the C library.
    driver d(exact);
    using fn = int (*)(int, int, int, void*, socklen_t*);
    auto gso = reinterpret_cast<fn>(d.sym("getsockopt"));
    ASSERT_NE(gso, nullptr);
    sent sa;
    const int fd = passive_open(d, &sa);
    // packetdrill asks for its own, longer struct: all of it is answered.
    unsigned char buf[400];
    std::memset(buf, 0xee, sizeof buf);
    socklen_t len = sizeof buf;
    ASSERT_EQ(gso(fd, IPPROTO_TCP, TCP_INFO, buf, &len), 0);
    EXPECT_EQ(len, socklen_t(sizeof buf));
    tcp_info ti;
    std::memcpy(&ti, buf, sizeof ti);
    EXPECT_EQ(ti.tcpi_state, 1);
    EXPECT_EQ(ti.tcpi_snd_mss, 1460u);
    EXPECT_EQ(buf[sizeof buf - 1], 0);  // past the C library's struct: zero
    len = 64;
    EXPECT_EQ(gso(fd, IPPROTO_TCP, TCP_CC_INFO, buf, &len), 0);
    EXPECT_EQ(len, 0u);  // CUBIC has no cc info (as Linux)
    uint32_t mem[SK_MEMINFO_VARS];
    len = sizeof mem;
    ASSERT_EQ(gso(fd, SOL_SOCKET, SO_MEMINFO, mem, &len), 0);
    EXPECT_EQ(mem[SK_MEMINFO_RCVBUF], 65536u);
    // Not ours: the C library answers (a real socket; a closed number).
    const int k = ::socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(k, 0);
    int type = 0;
    len = sizeof type;
    EXPECT_EQ(gso(k, SOL_SOCKET, SO_TYPE, &type, &len), 0);
    EXPECT_EQ(type, SOCK_DGRAM);
    ::close(k);
    EXPECT_ERRNO(gso(k, SOL_SOCKET, SO_TYPE, &type, &len), EBADF);
    // Our socket, an option the kernel would not know on an eventfd.
    EXPECT_ERRNO(gso(fd, SOL_SOCKET, SO_TYPE, &type, &len), ENOTSOCK);
}

TEST(packetdrill_so, null_buffers_fail_with_efault) {
    // google's syscall_bad_arg/syscall-invalid-buf-ptr.pkt: the kernel
    // answers EFAULT; the library used to crash.
    driver d(exact);
    sent sa;
    const int fd = passive_open(d, &sa);
    EXPECT_ERRNO(d.ifc.write(d.u, fd, nullptr, 1000), EFAULT);
    EXPECT_ERRNO(d.ifc.send(d.u, fd, nullptr, 1000, 0), EFAULT);
    d.inject({.seq = 1, .ack = sa.tcp.seq.raw() + 1, .win = 229,
              .opts = ts(300, sa.tcp.opts.tsval), .data = std::string(1000, 'd')});
    EXPECT_ERRNO(d.ifc.read(d.u, fd, nullptr, 1000), EFAULT);
    EXPECT_ERRNO(d.ifc.recv(d.u, fd, nullptr, 1000, 0), EFAULT);
    char buf[1000];
    EXPECT_EQ(d.ifc.read(d.u, fd, buf, sizeof buf), 1000);  // nothing was lost
    EXPECT_EQ(d.ifc.write(d.u, fd, nullptr, 0), 0);
}

TEST(packetdrill_so, tcp_inq_reports_what_is_left_to_read) {
    // google's inq/server.pkt: with TCP_INQ on, recvmsg() tells in a
    // TCP_CM_INQ message how many bytes remain queued after the read.
    driver d(exact);
    sent sa;
    const int fd = passive_open(d, &sa);
    int one = 1;
    ASSERT_EQ(d.ifc.setsockopt(d.u, fd, SOL_TCP, TCP_INQ, &one, sizeof one), 0);
    d.inject({.seq = 1, .ack = sa.tcp.seq.raw() + 1, .win = 229,
              .opts = ts(300, sa.tcp.opts.tsval), .data = std::string(10000, 'q')});
    char buf[8000];
    iovec v{buf, 2000};
    alignas(cmsghdr) char ctl[64];
    msghdr m{};
    m.msg_iov = &v, m.msg_iovlen = 1;
    m.msg_control = ctl, m.msg_controllen = sizeof ctl;
    ASSERT_EQ(d.ifc.recvmsg(d.u, fd, &m, 0), 2000);
    cmsghdr* c = CMSG_FIRSTHDR(&m);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->cmsg_level, SOL_TCP);
    EXPECT_EQ(c->cmsg_type, TCP_CM_INQ);
    int left = -1;
    std::memcpy(&left, CMSG_DATA(c), sizeof left);
    EXPECT_EQ(left, 8000);
    // TCP_INQ off: no ancillary data at all.
    int zero = 0;
    ASSERT_EQ(d.ifc.setsockopt(d.u, fd, SOL_TCP, TCP_INQ, &zero, sizeof zero), 0);
    v = {buf, 1000};
    m.msg_control = ctl, m.msg_controllen = sizeof ctl;
    ASSERT_EQ(d.ifc.recvmsg(d.u, fd, &m, 0), 1000);
    EXPECT_EQ(m.msg_controllen, 0u);
}

TEST(packetdrill_so, sndbuf_limits_the_send_queue_as_linux) {
    // SO_SNDBUF goes to the layer's buffer limit, as in the C API, with
    // Linux's doubling (socket(7)): getsockopt reports twice the value set,
    // and that much can be queued.
    driver d(exact);
    sent sa;
    const int fd = passive_open(d, &sa);
    int v = 0;
    socklen_t len = sizeof v;
    ASSERT_EQ(d.ifc.getsockopt(d.u, fd, SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
    EXPECT_EQ(v, 65536);  // never set: the ring
    v = 3000;
    ASSERT_EQ(d.ifc.setsockopt(d.u, fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v), 0);
    len = sizeof v;
    ASSERT_EQ(d.ifc.getsockopt(d.u, fd, SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
    EXPECT_EQ(v, 6000);
    const std::string data(10000, 's');
    EXPECT_EQ(d.ifc.send(d.u, fd, data.data(), data.size(), MSG_DONTWAIT), 6000);
    EXPECT_ERRNO(d.ifc.send(d.u, fd, data.data(), data.size(), MSG_DONTWAIT), EAGAIN);
}

}  // namespace
}  // namespace mvnf::pd::test
