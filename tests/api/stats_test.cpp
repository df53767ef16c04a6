// The counters through the public surface: malformed frames go in on the
// shm link (its other end, opened raw by the test), and every drop reason
// must show in mtcp_get_stats, mtcp_get_stats_json and their drop total; the
// JSON keys are exactly the struct's fields; stat_http serves them all in the
// Prometheus text format (scraped with curl) and tools/mvnf-top reads it;
// mtcp_get_stats never touches a context another thread is destroying.
// (The raw end also serves TCP_USER_TIMEOUT's test, a peer that never ACKs,
// and those of the send flags and options (TCP_CORK, MSG_MORE, MSG_EOR,
// TCP_NOTSENT_LOWAT) and of reads after SHUT_RD.)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "api_harness.hpp"
#include "netio/port.hpp"

using namespace api_test;

namespace {

using frame = std::vector<uint8_t>;

const uint8_t mac_us[6] = {2, 0, 0, 0, 9, 1};
const uint8_t mac_peer[6] = {2, 0, 0, 0, 9, 2};
const uint8_t mac_other[6] = {2, 0, 0, 0, 9, 0x77};
constexpr uint32_t ip_us = 0x0a090001, ip_peer = 0x0a090002;

void put16(frame& f, size_t off, uint16_t v) {
    f[off] = uint8_t(v >> 8);
    f[off + 1] = uint8_t(v);
}
void put32(frame& f, size_t off, uint32_t v) {
    put16(f, off, uint16_t(v >> 16));
    put16(f, off + 2, uint16_t(v));
}
uint32_t sum16(const uint8_t* p, size_t n, uint32_t s = 0) {
    for (size_t i = 0; i + 1 < n; i += 2) s += uint32_t(p[i] << 8 | p[i + 1]);
    if (n & 1) s += uint32_t(p[n - 1] << 8);
    return s;
}
uint16_t fold(uint32_t s) {
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return uint16_t(~s);
}
uint32_t pseudo(uint32_t src, uint32_t dst, uint8_t proto, size_t len) {
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + uint32_t(len);
}

frame eth(uint16_t type, const frame& payload, const uint8_t* dst = mac_us) {
    frame f(14);
    std::memcpy(f.data(), dst, 6);
    std::memcpy(f.data() + 6, mac_peer, 6);
    put16(f, 12, type);
    for (uint8_t b : payload) f.push_back(b);
    return f;
}

struct ip_opts {
    uint8_t version = 4, ihl = 5;
    int total_length = -1;  // -1: the right one
    bool good_checksum = true;
    uint32_t dst = ip_us;
    uint32_t src = ip_peer;
    uint16_t frag = 0;  // flags and fragment offset (0x2000: more fragments)
};
frame ipv4(uint8_t proto, const frame& l4, ip_opts o = {}) {
    frame h(20);
    h[0] = uint8_t(o.version << 4 | o.ihl);
    put16(h, 2, uint16_t(o.total_length < 0 ? 20 + l4.size() : size_t(o.total_length)));
    put16(h, 6, o.frag);
    h[8] = 64;
    h[9] = proto;
    put32(h, 12, o.src);
    put32(h, 16, o.dst);
    put16(h, 10, fold(sum16(h.data(), 20)) ^ (o.good_checksum ? 0 : 0x5a5a));
    for (uint8_t b : l4) h.push_back(b);
    return eth(0x0800, h);
}

frame udp(uint16_t dport, size_t payload, bool good = true, int length = -1) {
    frame u(8 + payload, 0x61);
    put16(u, 0, 40000);
    put16(u, 2, dport);
    put16(u, 4, uint16_t(length < 0 ? u.size() : size_t(length)));
    put16(u, 6, 0);
    const uint16_t c = fold(sum16(u.data(), u.size(), pseudo(ip_peer, ip_us, 17, u.size())));
    put16(u, 6, uint16_t((c ? c : 0xffff) ^ (good ? 0 : 0x1111)));
    return u;
}

struct tcp_opts {
    uint16_t sport = 40000, dport = 4444;
    uint8_t flags = 0x02;  // SYN
    uint8_t doff = 5;
    uint16_t urgent = 0;
    frame options;
    bool good_checksum = true;
    uint32_t seq = 1000;
    int64_t ack = -1;  // -1: 1 when ACK is set, else 0
    frame payload;
    uint32_t dst = ip_us;  // for the pseudo-header checksum
};
frame tcp(tcp_opts o) {
    frame t(20);
    put16(t, 0, o.sport);
    put16(t, 2, o.dport);
    put32(t, 4, o.seq);
    put32(t, 8, o.ack >= 0 ? uint32_t(o.ack) : o.flags & 0x10 ? 1 : 0);
    for (uint8_t b : o.options) t.push_back(b);
    t[12] = uint8_t((o.doff ? o.doff : uint8_t(t.size() / 4)) << 4);
    t[13] = o.flags;
    put16(t, 14, 8192);
    put16(t, 18, o.urgent);
    for (uint8_t b : o.payload) t.push_back(b);
    put16(t, 16, uint16_t(fold(sum16(t.data(), t.size(), pseudo(ip_peer, o.dst, 6, t.size()))) ^
                          (o.good_checksum ? 0 : 0x0f0f)));
    return t;
}

frame icmp_echo(bool good, uint8_t type = 8) {
    frame m(16, 0x33);
    m[0] = type, m[1] = 0;
    put16(m, 2, 0);
    put16(m, 2, uint16_t(fold(sum16(m.data(), m.size())) ^ (good ? 0 : 0x00ff)));
    return m;
}

frame arp(uint16_t op, uint16_t htype = 1, size_t len = 28, uint16_t ptype = 0x0800,
          uint8_t hlen = 6, uint8_t plen = 4) {
    frame a(28);
    put16(a, 0, htype);
    put16(a, 2, ptype);
    a[4] = hlen, a[5] = plen;
    put16(a, 6, op);
    std::memcpy(a.data() + 8, mac_peer, 6);
    put32(a, 14, ip_peer);
    put32(a, 24, ip_us);
    a.resize(len);
    return eth(0x0806, a);
}

// The flat view of a JSON object of numbers: "section.key" -> value.
std::map<std::string, uint64_t> flatten(const std::string& j) {
    std::map<std::string, uint64_t> out;
    std::vector<std::string> path;
    size_t i = 0;
    std::string key;
    while (i < j.size()) {
        const char c = j[i];
        if (c == '"') {
            const size_t e = j.find('"', i + 1);
            key = j.substr(i + 1, e - i - 1);
            i = e + 1;
        } else if (c == '{') {
            if (!key.empty()) path.push_back(key);
            key.clear();
            ++i;
        } else if (c == '}') {
            if (!path.empty()) path.pop_back();
            ++i;
        } else if (c >= '0' && c <= '9') {
            size_t e = i;
            while (e < j.size() && j[e] >= '0' && j[e] <= '9') ++e;
            std::string full;
            for (auto& p : path) full += p + ".";
            out[full + key] = std::stoull(j.substr(i, e - i));
            key.clear();
            i = e;
        } else {
            ++i;
        }
    }
    return out;
}

// The struct's fields by the same names, from the public lists.
std::map<std::string, uint64_t> fields(const mtcp_stats& s) {
    std::map<std::string, uint64_t> m;
#define F(n) m[#n] = s.n;
    MTCP_STATS_TOTALS(F)
#undef F
#define F(n) m["stack." #n] = s.stack.n;
    MTCP_STATS_STACK(F)
#undef F
#define F(n) m["stack.drops." #n] = s.stack.drops.n;
    MTCP_STATS_NET_DROPS(F)
#undef F
#define F(n) m["tcp." #n] = s.tcp.n;
    MTCP_STATS_TCP_GAUGES(F)
    MTCP_STATS_TCP_DROPS(F)
    MTCP_STATS_TCP(F)
#undef F
#define F(n) m["arp." #n] = s.arp.n;
    MTCP_STATS_ARP_INVALID(F)
    MTCP_STATS_ARP_DROPS(F)
    MTCP_STATS_ARP(F)
#undef F
#define F(n) m["queue." #n] = s.queue.n;
    MTCP_STATS_QUEUE_DROPS(F)
    MTCP_STATS_QUEUE(F)
#undef F
#define F(n) m["port." #n] = s.port.n;
    MTCP_STATS_PORT_DROPS(F)
    MTCP_STATS_PORT(F)
    MTCP_STATS_PORT_INFO(F)
#undef F
    return m;
}

std::map<std::string, uint64_t> json_of(mctx_t ctx) {
    std::string buf(65536, '\0');
    const int n = mtcp_get_stats_json(ctx, buf.data(), buf.size());
    EXPECT_GT(n, 0);
    EXPECT_LT(n, int(buf.size()));
    buf.resize(size_t(std::max(n, 0)));
    auto m = flatten(buf);
    m.erase("core");
    return m;
}

// Our instance on one end of a shm link, the raw other end for the test.
struct bench {
    std::string link;
    std::unique_ptr<mvnf::netio::port> raw;
    mctx_t ctx = nullptr;
    int ep = -1;

    explicit bench(const std::string& extra = "", std::string name = unique_link("stats"))
        : link(std::move(name)) {
        const std::string conf = write_conf(link, true, extra);
        EXPECT_EQ(mtcp_init(conf.c_str()), 0);
        ctx = mtcp_create_context(0);
        EXPECT_NE(ctx, nullptr);
        ep = mtcp_epoll_create1(ctx, 0);
        mvnf::netio::port_config pc;
        pc.ring_size = 1024;
        auto r = mvnf::netio::open_port("shm:" + link, pc);
        EXPECT_TRUE(r) << "cannot open the link's other end";
        if (r) raw = std::move(*r);
    }
    ~bench() {
        raw.reset();
        if (ctx) mtcp_destroy_context(ctx);
        mtcp_destroy();
    }
    void send(const frame& f) {
        mvnf::netio::packet p[1];
        ASSERT_EQ(raw->q(0).alloc_tx(p), 1u);
        ASSERT_LE(f.size(), size_t(p[0].len));
        std::memcpy(p[0].data, f.data(), f.size());
        p[0].len = uint32_t(f.size());
        ASSERT_EQ(raw->q(0).tx_burst(p), 1u);
        raw->q(0).flush();
    }
    // A non-blocking listener on our port 80; -1 (and a failure) if any step fails.
    int listen80(int backlog) {
        const int ls = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(80);
        a.sin_addr.s_addr = htonl(ip_us);
        if (ls < 0 || mtcp_setsock_nonblock(ctx, ls) != 0 ||
            mtcp_bind(ctx, ls, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            mtcp_listen(ctx, ls, backlog) != 0) {
            ADD_FAILURE() << "cannot listen on port 80: " << std::strerror(errno);
            return -1;
        }
        return ls;
    }
    // Runs the stack a while (thread mode: its thread runs anyway) and
    // discards what it sent us.
    void settle(int rounds = 5) {
        for (int i = 0; i < rounds; ++i) {
            mtcp_epoll_event e[1];
            (void)mtcp_epoll_wait(ctx, ep, e, 1, 5);
            mvnf::netio::packet p[32];
            while (unsigned n = raw->q(0).rx_burst(p)) raw->q(0).release(std::span(p, n));
        }
    }
};

struct drop_case {
    const char* key;  // the field that must count it
    frame f;
};

std::vector<drop_case> drop_cases() {
    auto syn = [](tcp_opts o) { return ipv4(6, tcp(o)); };
    return {
        {"stack.drops.eth_short", frame(10, 0x11)},
        {"stack.drops.eth_not_for_us", eth(0x0800, frame(40), mac_other)},
        {"stack.drops.eth_unknown_type", eth(0x88b5, frame(40))},
        {"stack.drops.ip_truncated", eth(0x0800, frame(12, 0x45))},
        {"stack.drops.ip_bad_version", ipv4(17, udp(7, 4), {.version = 6})},
        {"stack.drops.ip_bad_ihl", ipv4(17, udp(7, 4), {.ihl = 4})},
        {"stack.drops.ip_bad_total_length", ipv4(17, udp(7, 4), {.total_length = 400})},
        {"stack.drops.ip_bad_checksum", ipv4(17, udp(7, 4), {.good_checksum = false})},
        {"stack.drops.ip_not_for_us", ipv4(17, udp(7, 4), {.dst = 0x0a090063})},
        {"stack.drops.ip_unknown_proto", ipv4(200, frame(16))},
        {"stack.drops.ip_bad_src", ipv4(17, udp(7, 4), {.src = 0xffffffff})},
        {"stack.drops.ip_bad_src", ipv4(6, tcp({.dport = 80}), {.src = ip_us})},  // LAND
        {"stack.drops.frag_bad_len", ipv4(17, frame(12), {.frag = 0x2000})},
        {"stack.drops.frag_too_big", ipv4(17, frame(8), {.frag = 8190})},
        {"stack.drops.udp_truncated", ipv4(17, frame(5))},
        {"stack.drops.udp_bad_length", ipv4(17, udp(7, 4, true, 300))},
        {"stack.drops.udp_bad_checksum", ipv4(17, udp(7, 4, false))},
        {"stack.drops.udp_no_port", ipv4(17, udp(5555, 4))},
        {"stack.drops.icmp_bad_checksum", ipv4(1, icmp_echo(false))},
        {"stack.drops.icmp_truncated", ipv4(1, frame(3))},
        {"stack.drops.icmp_unhandled", ipv4(1, icmp_echo(true, 13))},  // timestamp
        {"stack.drops.icmp_echo_broadcast", ipv4(1, icmp_echo(true), {.dst = 0x0a0900ff})},
        {"tcp.drop_truncated", ipv4(6, frame(12))},
        {"tcp.drop_bad_offset", syn({.doff = 4})},
        {"tcp.drop_bad_checksum", syn({.good_checksum = false})},
        {"tcp.drop_bad_option_len", syn({.doff = 0, .options = {2, 1, 0, 0}})},
        {"tcp.drop_bad_port", syn({.sport = 0})},
        // To a listener (port 80): to a closed port these get a reset
        // (RFC 9293 3.10.7.1) and count as drop_no_socket.
        {"tcp.drop_bad_flags", syn({.dport = 80, .flags = 0x03})},  // SYN+FIN
        {"tcp.drop_bad_urgent", syn({.dport = 80, .flags = 0x30, .urgent = 0})},  // URG+ACK, no data
        {"tcp.drop_no_socket", syn({.dport = 4444})},
        {"tcp.drop_bad_option_value", syn({.doff = 0, .options = {2, 3, 5, 0}})},  // MSS of length 3
        {"tcp.drop_bad_address", ipv4(6, tcp({.dst = 0xffffffff}), {.dst = 0xffffffff})},  // to the broadcast address
        {"arp.rx_invalid_truncated", arp(1, 1, 20)},
        {"arp.rx_invalid_bad_hardware_type", arp(1, 6)},
        {"arp.rx_invalid_bad_opcode", arp(9)},
        {"arp.rx_invalid_bad_protocol_type", arp(1, 1, 28, 0x86dd)},
        {"arp.rx_invalid_bad_hardware_len", arp(1, 1, 28, 0x0800, 8)},
        {"arp.rx_invalid_bad_protocol_len", arp(1, 1, 28, 0x0800, 6, 16)},
    };
}

bool is_drop_key(const std::string& k) {
    return k.starts_with("stack.drops.") || k.starts_with("tcp.drop_") ||
           k.starts_with("arp.rx_invalid_") || k == "arp.rx_not_for_us" ||
           k.starts_with("arp.dropped_") || k == "queue.rx_dropped" ||
           k == "queue.tx_dropped" || k.starts_with("port.rx_dropped_") ||
           k.starts_with("port.tx_dropped_") || k == "tcp.rst_data_after_close";
}

}  // namespace

// The JSON object is the struct: same keys (sections nested), same values;
// the struct's layout is what the header promises (fixed section sizes).
TEST(ApiStats, JsonKeysAreTheStructFields) {
    alarm(20);
    bench b;
    ASSERT_TRUE(b.raw);
    b.send(ipv4(17, udp(5555, 4)));
    b.settle();
    mtcp_stats s{};
    ASSERT_EQ(mtcp_get_stats(b.ctx, &s), 0);
    const auto j = json_of(b.ctx);
    const auto f = fields(s);
    std::set<std::string> jk, fk;
    for (auto& [k, v] : j) jk.insert(k);
    for (auto& [k, v] : f) fk.insert(k);
    EXPECT_EQ(jk, fk);
    for (auto& [k, v] : f) {
        if (!j.count(k)) continue;
        // In thread mode the stack thread keeps sleeping and waking between
        // the two reads: those two counters may only have grown.
        if (k == "queue.sleeps" || k == "queue.wakeups") {
            EXPECT_GE(j.at(k), v) << k;
        } else {
            EXPECT_EQ(j.at(k), v) << k;
        }
    }
    EXPECT_EQ(sizeof(mtcp_stats),
              8u * (MTCP_STATS_COUNT(MTCP_STATS_TOTALS) + MTCP_STATS_CAP_STACK +
                    MTCP_STATS_CAP_NET_DROPS + MTCP_STATS_CAP_TCP + MTCP_STATS_CAP_ARP +
                    MTCP_STATS_CAP_QUEUE + MTCP_STATS_CAP_PORT));
    EXPECT_EQ(offsetof(mtcp_stats, stack), 13u * 8);  // version 1 ends there
    // drops is the sum of every drop reason of every layer.
    uint64_t sum = 0;
    for (auto& [k, v] : f)
        if (is_drop_key(k)) sum += v;
    EXPECT_EQ(s.drops, sum);
    EXPECT_GE(s.stack.drops.udp_no_port, 1u);
    // What the port is: one shm queue of 2048-byte buffers, mapped by both
    // ends (zero-copy), no XDP.
    EXPECT_EQ(s.port.queues, 1u);
    EXPECT_EQ(s.port.frame_size, 2048u);
    EXPECT_EQ(s.port.zero_copy, 1u);
    EXPECT_EQ(s.port.xdp_mode, 0u);
    // An older caller's shorter struct is filled only as far as it goes.
    mtcp_stats v1;
    std::memset(&v1, 0xab, sizeof v1);
    ASSERT_EQ(mtcp_get_stats_sized(b.ctx, &v1, offsetof(mtcp_stats, stack)), 0);
    EXPECT_EQ(v1.drops, s.drops);
    EXPECT_EQ(v1.stack.rx_packets, 0xababababababababull);
    EXPECT_EQ(mtcp_get_stats_sized(b.ctx, &v1, 0), -1);
    EXPECT_EQ(errno, EINVAL);
    alarm(0);
}

// Feeds one case's frame, runs the stack (`run`), and checks through the
// JSON that its reason and the drop total rose by exactly one and that no
// other drop reason moved.
void expect_only_its_reason(bench& b, const drop_case& c, const std::function<void()>& run) {
    const auto before = json_of(b.ctx);
    ASSERT_TRUE(before.count(c.key)) << c.key;
    b.send(c.f);
    run();
    const auto after = json_of(b.ctx);
    EXPECT_EQ(after.at(c.key), before.at(c.key) + 1) << c.key;
    EXPECT_EQ(after.at("drops"), before.at("drops") + 1) << c.key;
    for (auto& [k, v] : after)
        if (k != c.key && is_drop_key(k)) {
            EXPECT_EQ(v, before.at(k)) << c.key << " also " << k;
        }
}

// Table-driven: each malformed frame raises its own drop reason by one, and
// the drop total (struct, JSON and stat_print's err:) by exactly one.
TEST(ApiStats, EachDropReasonCountsItsMalformedInput) {
    alarm(40);
    bench b;
    ASSERT_TRUE(b.raw);
    const int ls = b.listen80(4);
    ASSERT_GE(ls, 0);
    b.settle();
    for (const auto& c : drop_cases()) {
        mtcp_stats s0{};
        ASSERT_EQ(mtcp_get_stats(b.ctx, &s0), 0);
        expect_only_its_reason(b, c, [&] { b.settle(); });
        mtcp_stats s1{};
        ASSERT_EQ(mtcp_get_stats(b.ctx, &s1), 0);
        EXPECT_EQ(s1.drops, s0.drops + 1) << c.key;
    }
    mtcp_close(b.ctx, ls);
    alarm(0);
}

// What the stack sent to the raw end: TCP segments, parsed.
struct seen_seg {
    uint32_t seq = 0, ack = 0, tsval = 0;
    uint8_t flags = 0;
    uint32_t len = 0;  // payload octets
};
std::vector<seen_seg> take_tcp(bench& b) {
    std::vector<seen_seg> out;
    for (int round = 0; round < 5; ++round) {
        mtcp_epoll_event e[1];
        (void)mtcp_epoll_wait(b.ctx, b.ep, e, 1, 5);
        mvnf::netio::packet p[32];
        while (unsigned n = b.raw->q(0).rx_burst(p)) {
            for (unsigned i = 0; i < n; ++i) {
                const auto* f = reinterpret_cast<const uint8_t*>(p[i].data);
                if (p[i].len < 54 || f[12] != 0x08 || f[13] != 0 || f[23] != 6) continue;
                const uint8_t* t = f + 14 + (f[14] & 0xf) * 4;
                seen_seg s;
                s.seq = uint32_t(t[4] << 24 | t[5] << 16 | t[6] << 8 | t[7]);
                s.ack = uint32_t(t[8] << 24 | t[9] << 16 | t[10] << 8 | t[11]);
                s.flags = t[13];
                const size_t doff = size_t(t[12] >> 4) * 4;
                const size_t ip_len = size_t(f[16] << 8 | f[17]);
                const size_t hdrs = size_t(f[14] & 0xf) * 4 + doff;
                s.len = ip_len > hdrs ? uint32_t(ip_len - hdrs) : 0;
                for (size_t o = 20; o + 1 < doff;) {
                    if (t[o] == 0) break;
                    if (t[o] == 1) { ++o; continue; }
                    if (t[o] == 8 && o + 10 <= doff)
                        s.tsval = uint32_t(t[o + 2] << 24 | t[o + 3] << 16 | t[o + 4] << 8 | t[o + 5]);
                    o += std::max<size_t>(t[o + 1], 2);
                }
                out.push_back(s);
            }
            b.raw->q(0).release(std::span(p, n));
        }
    }
    return out;
}

frame ts_option(uint32_t tsval, uint32_t tsecr) {
    frame o = {1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0};
    put32(o, 4, tsval);
    put32(o, 8, tsecr);
    return o;
}

// The drop reasons that need connection state, through the C API: a real
// listener (backlog 1) and a connection the raw end opens with timestamps.
// Each case's segment raises its own reason by one and the total by one.
// (The rest follow in LateStateDropReasonsCountThroughTheApi.)
TEST(ApiStats, StatefulDropReasonsCountThroughTheApi) {
    alarm(40);
    bench b;
    ASSERT_TRUE(b.raw);
    const int ls = b.listen80(1);
    ASSERT_GE(ls, 0);
    b.settle();

    // Handshake with timestamps from port 41000: SYN, SYN-ACK, ACK.
    const uint32_t isn = 5000;
    b.send(ipv4(6, tcp({.sport = 41000, .dport = 80, .flags = 0x02, .doff = 0,
                        .options = ts_option(1000, 0), .seq = isn})));
    const auto synack = take_tcp(b);
    ASSERT_EQ(synack.size(), 1u);
    ASSERT_EQ(synack[0].flags, 0x12);
    const uint32_t our_nxt = synack[0].seq + 1, peer_nxt = isn + 1, their_ts = synack[0].tsval;
    ASSERT_NE(their_ts, 0u) << "no timestamps in the SYN-ACK";
    b.send(ipv4(6, tcp({.sport = 41000, .dport = 80, .flags = 0x10, .doff = 0,
                        .options = ts_option(1001, their_ts), .seq = peer_nxt, .ack = our_nxt})));
    (void)take_tcp(b);

    auto seg = [&](tcp_opts o) {
        o.sport = o.sport == 40000 ? 41000 : o.sport;
        o.dport = 80;
        o.doff = 0;
        return ipv4(6, tcp(o));
    };
    const drop_case cases[] = {
        // RFC 7323 5.3: a TSval older than the last one seen.
        {"tcp.drop_paws", seg({.flags = 0x18, .options = ts_option(1, their_ts), .seq = peer_nxt,
                               .ack = our_nxt, .payload = {1, 2, 3}})},
        // RFC 9293 3.10.7.4: data far beyond the receive window.
        {"tcp.drop_out_of_window", seg({.flags = 0x18, .options = ts_option(1002, their_ts),
                                        .seq = peer_nxt + 10000000, .ack = our_nxt, .payload = {1}})},
        // RFC 5961 5.2: an ACK for data never sent.
        {"tcp.drop_bad_ack", seg({.flags = 0x10, .options = ts_option(1003, their_ts),
                                  .seq = peer_nxt, .ack = our_nxt + 100000})},
        // The accept queue (backlog 1) holds the connection above: a new SYN waits.
        {"tcp.drop_backlog_full", seg({.sport = 42000, .flags = 0x02, .seq = 9000})},
        // An ACK to the listener that is no connection and no valid cookie.
        {"tcp.drop_syn_in_listen_ack", seg({.sport = 43000, .flags = 0x10, .seq = 7, .ack = 12345})},
    };
    for (const auto& c : cases) expect_only_its_reason(b, c, [&] { (void)take_tcp(b); });
    // The connection survived all of it.
    const int c = mtcp_accept(b.ctx, ls, nullptr, nullptr);
    EXPECT_GE(c, 0);
    if (c >= 0) mtcp_close(b.ctx, c);
    mtcp_close(b.ctx, ls);
    b.settle();
    alarm(0);
}

// A connection the raw end opens to port 80 without options: SYN, SYN-ACK,
// ACK. Returns {the peer's next sequence number, ours}.
std::pair<uint32_t, uint32_t> open_from_raw(bench& b, uint16_t sport, uint32_t isn) {
    b.send(ipv4(6, tcp({.sport = sport, .dport = 80, .flags = 0x02, .seq = isn})));
    const auto synack = take_tcp(b);
    EXPECT_EQ(synack.size(), 1u) << sport;
    if (synack.empty()) return {0, 0};
    EXPECT_EQ(synack[0].flags, 0x12) << sport;
    const uint32_t ours = synack[0].seq + 1;
    b.send(ipv4(6, tcp({.sport = sport, .dport = 80, .flags = 0x10, .seq = isn + 1, .ack = ours})));
    (void)take_tcp(b);
    return {isn + 1, ours};
}

// open_from_raw on port 41000 (ISN 1000) to the listener `ls`, accepted
// and made non-blocking: {our socket (-1 on failure), the peer's next
// sequence number, ours}.
struct raw_conn {
    int fd;
    uint32_t peer, ours;
};
raw_conn accept_from_raw(bench& b, int ls) {
    b.settle();
    const auto [peer, ours] = open_from_raw(b, 41000, 1000);
    const int fd = mtcp_accept(b.ctx, ls, nullptr, nullptr);
    EXPECT_GE(fd, 0);
    if (fd >= 0) {
        EXPECT_EQ(mtcp_setsock_nonblock(b.ctx, fd), 0);
    }
    return {fd, peer, ours};
}

// The rest of the TCP drop reasons, which need a connection in a later
// state, a full pool or a blocked port, through the C API: every
// connection block in use (a cookie's ACK refused), the out-of-order ranges
// full, data for a closed socket, an exact RST in TIME-WAIT (each raising
// only its own reason and the total by one), then control segments (cookie
// SYN-ACKs) with the port's TX ring full and the control queue full.
TEST(ApiStats, LateStateDropReasonsCountThroughTheApi) {
    alarm(60);
    bench b("max_concurrency = 3\ntcp_timewait = 60\n");
    ASSERT_TRUE(b.raw);
    const int ls = b.listen80(8);
    ASSERT_GE(ls, 0);
    b.settle();

    // Three connections take every block (max_concurrency = 3).
    const auto [pa, oa] = open_from_raw(b, 41000, 1000);
    const auto [pb, ob] = open_from_raw(b, 41001, 2000);
    const auto [pc, oc] = open_from_raw(b, 41002, 3000);
    int fd[3];
    for (int& f : fd) {
        f = mtcp_accept(b.ctx, ls, nullptr, nullptr);
        ASSERT_GE(f, 0);
    }
    auto seg = [](uint16_t sport, uint8_t flags, uint32_t seq, uint32_t ack, frame payload = {}) {
        return ipv4(6, tcp({.sport = sport, .dport = 80, .flags = flags, .seq = seq, .ack = ack,
                            .payload = std::move(payload)}));
    };
    auto run = [&] { (void)take_tcp(b); };

    // RFC 4987: the pool is full, so a SYN gets a cookie; the cookie is
    // good, but its ACK finds no connection block.
    b.send(seg(41009, 0x02, 9000, 0));
    const auto cookie = take_tcp(b);
    ASSERT_EQ(cookie.size(), 1u);
    ASSERT_EQ(cookie[0].flags, 0x12);
    expect_only_its_reason(b, {"tcp.drop_no_tcb", seg(41009, 0x10, 9001, cookie[0].seq + 1)}, run);

    // Out-of-order bytes with a hole before each: the ranges run out.
    bool ooo_full = false;
    for (uint32_t k = 1; k <= 20 && !ooo_full; ++k) {
        const frame f = seg(41002, 0x18, pc + 2 * k, oc, {uint8_t(k)});
        const auto before = json_of(b.ctx);
        b.send(f);
        run();
        if (json_of(b.ctx).at("tcp.drop_ooo_full") == before.at("tcp.drop_ooo_full")) continue;
        ooo_full = true;
        expect_only_its_reason(b, {"tcp.drop_ooo_full", seg(41002, 0x18, pc + 2 * k + 2, oc, {1})},
                               run);
    }
    EXPECT_TRUE(ooo_full) << "20 holes and the out-of-order queue never refused one";

    // RFC 1122 4.2.2.13: data for a connection the application closed.
    ASSERT_EQ(mtcp_close(b.ctx, fd[1]), 0);
    const auto fin_b = take_tcp(b);
    ASSERT_FALSE(fin_b.empty());
    EXPECT_TRUE(fin_b.back().flags & 0x01) << "no FIN after close";
    b.send(seg(41001, 0x10, pb, ob + 1));  // its FIN is ACKed: FIN-WAIT-2
    run();
    expect_only_its_reason(b, {"tcp.rst_data_after_close", seg(41001, 0x18, pb, ob + 1, {7, 7})},
                           run);

    // RFC 1337: an exact RST in TIME-WAIT is ignored.
    ASSERT_EQ(mtcp_close(b.ctx, fd[0]), 0);
    (void)take_tcp(b);
    b.send(seg(41000, 0x11, pa, oa + 1));  // ACK of our FIN, and the peer's FIN
    run();
    expect_only_its_reason(b, {"tcp.drop_rst_time_wait", seg(41000, 0x04, pa + 1, 0)}, run);

    // The raw end stops reading: SYNs to the listener, whose connection
    // blocks are all in use, are answered with cookie SYN-ACKs (RFC 4987)
    // until the port's TX ring is full, then the control queue holds them,
    // then they are refused and counted.
    const auto before = json_of(b.ctx);
    constexpr uint32_t flood = 2600;  // ring (1024) + control queue (1024) + margin
    for (uint32_t i = 0; i < flood; ++i) {
        b.send(ipv4(6, tcp({.sport = uint16_t(10000 + i), .dport = 80, .seq = i})));
        if (i % 256 == 255) {
            mtcp_epoll_event e[1];
            for (int r = 0; r < 3; ++r) (void)mtcp_epoll_wait(b.ctx, b.ep, e, 1, 2);
        }
    }
    for (int r = 0; r < 5; ++r) {
        mtcp_epoll_event e[1];
        (void)mtcp_epoll_wait(b.ctx, b.ep, e, 1, 5);
    }
    const auto after = json_of(b.ctx);
    const uint64_t cookies = after.at("tcp.syn_cookies_sent") - before.at("tcp.syn_cookies_sent");
    const uint64_t ctl_full = after.at("tcp.drop_ctl_full") - before.at("tcp.drop_ctl_full");
    EXPECT_GE(cookies, flood - 2);  // a freed block may take one or two as connections
    EXPECT_GT(ctl_full, 0u);
    EXPECT_GT(after.at("tcp.ctl_deferred"), before.at("tcp.ctl_deferred"));
    // The refused SYN-ACKs are the only drops: the SYNs themselves were taken.
    EXPECT_EQ(after.at("drops"), before.at("drops") + ctl_full);
    std::printf("flood of %u: cookies +%llu, ctl_deferred +%llu, ctl_full +%llu\n", flood,
                (unsigned long long)cookies,
                (unsigned long long)(after.at("tcp.ctl_deferred") - before.at("tcp.ctl_deferred")),
                (unsigned long long)ctl_full);
    // Reading again lets the held resets out.
    b.settle(10);
    mtcp_close(b.ctx, fd[2]);
    mtcp_close(b.ctx, ls);
    b.settle();
    alarm(0);
}

// TCP_USER_TIMEOUT through the C API (RFC 5482, Linux's semantics): the
// raw end takes the data and never acknowledges it; the connection ends
// with ETIMEDOUT once the data has waited that long, not after the 15
// retransmissions (minutes) R2 would allow, and a reset tells the peer.
TEST(ApiTcpUserTimeout, UnacknowledgedDataAbortsWithEtimedout) {
    alarm(30);
    bench b;
    ASSERT_TRUE(b.raw);
    const int ls = b.listen80(4);
    ASSERT_GE(ls, 0);
    const int fd = accept_from_raw(b, ls).fd;
    ASSERT_GE(fd, 0);
    int v = 400;
    ASSERT_EQ(mtcp_setsockopt(b.ctx, fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v, sizeof v), 0);
    ASSERT_EQ(mtcp_write(b.ctx, fd, "never acknowledged", 18), 18);
    const auto t0 = std::chrono::steady_clock::now();
    bool rst = false;
    int err = 0;
    char buf[64];
    while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10)) {
        for (const auto& s : take_tcp(b)) rst = rst || (s.flags & 0x04);
        if (mtcp_read(b.ctx, fd, buf, sizeof buf) < 0 && errno != EAGAIN) {
            err = errno;
            break;
        }
    }
    const auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(err, ETIMEDOUT);
    EXPECT_GE(waited, std::chrono::milliseconds(350));
    EXPECT_LT(waited, std::chrono::seconds(3)) << "aborted by R2, not by the user timeout";
    for (const auto& s : take_tcp(b)) rst = rst || (s.flags & 0x04);
    EXPECT_TRUE(rst) << "no reset told the peer";
    mtcp_close(b.ctx, fd);
    mtcp_close(b.ctx, ls);
    alarm(0);
}

// What the application says of its writes, through the C API (Linux's
// semantics): TCP_CORK holds a partial segment until uncorked; MSG_MORE
// holds one until a write without it, which also gets PSH; MSG_EOR ends a
// record, so a later write never shares its segment; TCP_NOTSENT_LOWAT
// stops queueing once that many octets wait unsent. The raw end opens the
// connection without options (MSS 536, window 8192) and acknowledges by hand.
TEST(ApiTcpSendFlags, CorkMoreEorAndNotsentLowat) {
    alarm(30);
    bench b;
    ASSERT_TRUE(b.raw);
    const int ls = b.listen80(4);
    ASSERT_GE(ls, 0);
    const auto [fd, peer, ours] = accept_from_raw(b, ls);
    ASSERT_GE(fd, 0);
    uint32_t next = ours;  // our next sequence number
    auto ack_all = [&] {
        b.send(ipv4(6, tcp({.sport = 41000, .dport = 80, .flags = 0x10, .seq = peer, .ack = next})));
        (void)take_tcp(b);
    };
    auto data_segs = [&] {
        std::vector<seen_seg> d;
        for (const auto& s : take_tcp(b))
            if (s.len) d.push_back(s), next = std::max(next, s.seq + s.len);
        return d;
    };
    int v = -1;
    socklen_t vl = sizeof v;
    ASSERT_EQ(mtcp_getsockopt(b.ctx, fd, IPPROTO_TCP, TCP_CORK, &v, &vl), 0);
    EXPECT_EQ(v, 0);
    ASSERT_EQ(mtcp_getsockopt(b.ctx, fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, &vl), 0);
    EXPECT_EQ(v, 0);

    // TCP_CORK: two writes of 40 leave as one segment of 80, with PSH, when uncorked.
    v = 1;
    ASSERT_EQ(mtcp_setsockopt(b.ctx, fd, IPPROTO_TCP, TCP_CORK, &v, sizeof v), 0);
    ASSERT_EQ(mtcp_getsockopt(b.ctx, fd, IPPROTO_TCP, TCP_CORK, &v, &vl), 0);
    EXPECT_EQ(v, 1);
    char buf[4096] = {};
    ASSERT_EQ(mtcp_write(b.ctx, fd, buf, 40), 40);
    ASSERT_EQ(mtcp_write(b.ctx, fd, buf, 40), 40);
    EXPECT_TRUE(data_segs().empty()) << "a cork held nothing";
    v = 0;
    ASSERT_EQ(mtcp_setsockopt(b.ctx, fd, IPPROTO_TCP, TCP_CORK, &v, sizeof v), 0);
    auto d = data_segs();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].len, 80u);
    EXPECT_EQ(d[0].flags, 0x18) << "PSH and ACK";
    ack_all();

    // MSG_MORE (Nagle off, so only the flag holds it): no segment until a
    // write without it; the segment then has PSH.
    v = 1;
    ASSERT_EQ(mtcp_setsockopt(b.ctx, fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v), 0);
    ASSERT_EQ(mtcp_send(b.ctx, fd, buf, 30, MSG_MORE), 30);
    EXPECT_TRUE(data_segs().empty()) << "MSG_MORE held nothing";
    ASSERT_EQ(mtcp_send(b.ctx, fd, buf, 20, 0), 20);
    d = data_segs();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].len, 50u);
    EXPECT_EQ(d[0].flags, 0x18);
    ack_all();

    // MSG_EOR: corked, a record of 100 and a write of 100 still leave as two
    // segments (one of 200 without the record end), each with PSH.
    v = 1;
    ASSERT_EQ(mtcp_setsockopt(b.ctx, fd, IPPROTO_TCP, TCP_CORK, &v, sizeof v), 0);
    ASSERT_EQ(mtcp_send(b.ctx, fd, buf, 100, MSG_EOR), 100);
    ASSERT_EQ(mtcp_send(b.ctx, fd, buf, 100, 0), 100);
    v = 0;
    ASSERT_EQ(mtcp_setsockopt(b.ctx, fd, IPPROTO_TCP, TCP_CORK, &v, sizeof v), 0);
    d = data_segs();
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(d[0].len, 100u);
    EXPECT_EQ(d[1].len, 100u);
    EXPECT_EQ(d[0].flags & 0x08, 0x08);
    ack_all();

    // Flags the C API does not offer, and TCP's flags on a pipe.
    EXPECT_EQ(mtcp_send(b.ctx, fd, buf, 1, MSG_OOB), -1);
    EXPECT_EQ(errno, EOPNOTSUPP);
    int pp[2];
    ASSERT_EQ(mtcp_pipe(b.ctx, pp), 0);
    EXPECT_EQ(mtcp_send(b.ctx, pp[1], buf, 1, MSG_MORE), -1);
    EXPECT_EQ(errno, EOPNOTSUPP);
    mtcp_close(b.ctx, pp[0]);
    mtcp_close(b.ctx, pp[1]);

    // TCP_NOTSENT_LOWAT 1000, nothing acknowledged: writes queue until 1000
    // octets wait unsent behind what cwnd and the window let out.
    v = 1000;
    ASSERT_EQ(mtcp_setsockopt(b.ctx, fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof v), 0);
    ASSERT_EQ(mtcp_getsockopt(b.ctx, fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, &vl), 0);
    EXPECT_EQ(v, 1000);
    size_t queued = 0;
    for (int i = 0; i < 100; ++i) {
        const ssize_t n = mtcp_send(b.ctx, fd, buf, sizeof buf, 0);
        if (n < 0) {
            EXPECT_EQ(errno, EAGAIN);
            break;
        }
        queued += size_t(n);
    }
    size_t sent = 0;
    for (const auto& s : data_segs()) sent += s.len;
    EXPECT_GT(sent, 0u);
    EXPECT_EQ(queued, sent + 1000) << "sent " << sent;
    mtcp_close(b.ctx, fd);
    mtcp_close(b.ctx, ls);
    alarm(0);
}

// SHUT_RD as Linux: reads return 0 while nothing is queued, but what the
// peer still sends is taken and read (tcp_recvmsg checks RCV_SHUTDOWN only
// once the queue is empty).
TEST(ApiTcpShutRd, DataArrivingAfterShutRdIsRead) {
    alarm(30);
    bench b;
    ASSERT_TRUE(b.raw);
    const int ls = b.listen80(4);
    ASSERT_GE(ls, 0);
    const auto [fd, peer, ours] = accept_from_raw(b, ls);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(mtcp_shutdown(b.ctx, fd, SHUT_RD), 0);
    char buf[64];
    EXPECT_EQ(mtcp_read(b.ctx, fd, buf, sizeof buf), 0);
    b.send(ipv4(6, tcp({.sport = 41000, .dport = 80, .flags = 0x18, .seq = peer, .ack = ours,
                        .payload = frame(10, 'x')})));
    (void)take_tcp(b);
    EXPECT_EQ(mtcp_read(b.ctx, fd, buf, sizeof buf), 10);
    EXPECT_EQ(mtcp_read(b.ctx, fd, buf, sizeof buf), 0);
    mtcp_close(b.ctx, fd);
    mtcp_close(b.ctx, ls);
    alarm(0);
}

std::string slurp(const std::string& path) {
    std::string r;
    if (FILE* f = std::fopen(path.c_str(), "r")) {
        char b[4096];
        while (size_t n = std::fread(b, 1, sizeof b, f)) r.append(b, n);
        std::fclose(f);
    }
    return r;
}

// stat_print's err: column counts TCP drops too, and a second line names them.
TEST(ApiStats, StatPrintErrCountsEveryLayer) {
    alarm(30);
    const std::string link = unique_link("statp");
    const std::string out = tmpdir() + "/" + link + ".stdout";
    fflush(stdout);
    const int saved = dup(1);
    const int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    dup2(fd, 1);
    close(fd);
    {
        bench b("stat_print = " + link + "\n", link);
        if (b.raw) {
            for (int i = 0; i < 3; ++i) b.send(ipv4(6, tcp({.good_checksum = false})));
            b.send(arp(9));
            // Past the next once-a-second line.
            for (int i = 0; i < 12; ++i) b.settle(1), usleep(100000);
        }
    }
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    const std::string printed = slurp(out);
    EXPECT_NE(printed.find("(err:     4)"), std::string::npos) << printed;
    EXPECT_NE(printed.find("drops: tcp.drop_bad_checksum=3 arp.rx_invalid_bad_opcode=1"),
              std::string::npos)
        << printed;
    alarm(0);
}

// A free TCP port on loopback (bound and released: the stack binds it next).
uint16_t free_port() {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    EXPECT_EQ(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(getsockname(s, reinterpret_cast<sockaddr*>(&a), &l), 0);
    close(s);
    return ntohs(a.sin_port);
}

std::string run(const std::string& cmd) {
    std::string r;
    if (FILE* p = popen(cmd.c_str(), "r")) {
        char b[4096];
        while (size_t n = std::fread(b, 1, sizeof b, p)) r.append(b, n);
        r += "\n[exit " + std::to_string(pclose(p)) + "]";
    }
    return r;
}

// stat_http: a scrape (curl) returns every counter of the struct in the
// Prometheus text format, drop reasons as labels; the endpoint runs on its
// own thread, so it answers while the application thread is busy elsewhere.
TEST(ApiStats, StatHttpServesEveryCounterAsPrometheusText) {
    alarm(40);
    const uint16_t port = free_port();
    const std::string url = "http://127.0.0.1:" + std::to_string(port);
    bench b("stat_http = 127.0.0.1:" + std::to_string(port) + "\n");
    ASSERT_TRUE(b.raw);
    b.send(ipv4(6, tcp({.good_checksum = false})));
    b.send(ipv4(17, udp(5555, 4)));
    b.settle();
    mtcp_stats s{};
    ASSERT_EQ(mtcp_get_stats(b.ctx, &s), 0);  // publishes (owning thread)
    const std::string body = run("curl -sS --max-time 10 " + url + "/metrics");
    EXPECT_NE(body.find("[exit 0]"), std::string::npos) << body;
    EXPECT_NE(body.find("mtcp_drop_reason_total{core=\"0\",layer=\"tcp\",reason=\"drop_bad_"
                        "checksum\"} 1\n"),
              std::string::npos)
        << body;
    EXPECT_NE(body.find("mtcp_drop_reason_total{core=\"0\",layer=\"stack\",reason=\"udp_no_"
                        "port\"} 1\n"),
              std::string::npos)
        << body;
    EXPECT_NE(body.find("mtcp_drops_total{core=\"0\"} 2\n"), std::string::npos) << body;
    EXPECT_NE(body.find("# TYPE mtcp_tcp_flows gauge\nmtcp_tcp_flows{core=\"0\"} 0\n"),
              std::string::npos)
        << body;
    // Every field of the struct is a sample (the version-1 totals other than
    // drops repeat layer counters and are left out).
    size_t samples = 0;
    for (size_t p = body.find("{core=\""); p != std::string::npos; p = body.find("{core=\"", p + 1))
        ++samples;
    EXPECT_EQ(samples, fields(s).size() - (MTCP_STATS_COUNT(MTCP_STATS_TOTALS) - 1)) << body;
    EXPECT_NE(body.find("mtcp_stack_rx_packets_total{core=\"0\"} " +
                        std::to_string(s.stack.rx_packets) + "\n"),
              std::string::npos)
        << body;
    // Not found, and a method other than GET.
    EXPECT_NE(run("curl -s -o /dev/null -w '%{http_code}' " + url + "/nope").find("404"),
              std::string::npos);
    EXPECT_NE(run("curl -s -o /dev/null -w '%{http_code}' -X POST " + url + "/metrics").find("405"),
              std::string::npos);
    alarm(0);
}

// The endpoint's address in use: mtcp_init fails with a message and errno.
TEST(ApiStats, StatHttpAddressInUseFailsInit) {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(listen(s, 1), 0);
    ASSERT_EQ(getsockname(s, reinterpret_cast<sockaddr*>(&a), &l), 0);
    const std::string conf = write_conf(unique_link("stath"), true,
                                        "stat_http = 127.0.0.1:" +
                                            std::to_string(ntohs(a.sin_port)) + "\n");
    errno = 0;
    EXPECT_EQ(mtcp_init(conf.c_str()), -1);
    EXPECT_EQ(errno, EADDRINUSE);
    close(s);
}

// tools/mvnf-top --once: one frame of per-core rates from two scrapes, while
// the application keeps feeding the stack drops.
TEST(ApiStats, MvnfTopPrintsRatesOnce) {
    alarm(40);
    const uint16_t port = free_port();
    bench b("stat_http = 127.0.0.1:" + std::to_string(port) + "\n");
    ASSERT_TRUE(b.raw);
    std::atomic<bool> done{false};
    std::string shown;
    std::thread top([&] {
        shown = run("python3 " MVNF_SOURCE_DIR "/tools/mvnf-top/mvnf-top --once --interval 1 "
                    "http://127.0.0.1:" + std::to_string(port) + "/metrics 2>&1");
        done = true;
    });
    while (!done) {
        b.send(ipv4(6, tcp({.good_checksum = false})));
        b.settle(2);
    }
    top.join();
    EXPECT_NE(shown.find("[exit 0]"), std::string::npos) << shown;
    EXPECT_NE(shown.find("core"), std::string::npos) << shown;
    EXPECT_NE(shown.find("tcp.drop_bad_checksum"), std::string::npos) << shown;
    // Core 0's row: rx pkt/s, tx pkt/s, rx Mbit/s, conn/s, flows, drops/s;
    // frames arrived and were dropped during the interval.
    const size_t row = shown.find("\n   0 ");
    ASSERT_NE(row, std::string::npos) << shown;
    double rx = 0, tx = 0, mbit = 0, conn = 0, drops = 0;
    int core = -1, flows = -1;
    ASSERT_EQ(std::sscanf(shown.c_str() + row, "%d %lf %lf %lf %lf %d %lf", &core, &rx, &tx, &mbit,
                          &conn, &flows, &drops),
              7)
        << shown;
    EXPECT_GT(rx, 0.0) << shown;
    EXPECT_GT(drops, 0.0) << shown;
    EXPECT_EQ(flows, 0) << shown;
    alarm(0);
}

// The CPU this thread may run on first: every thread of the test below
// shares it, so the scheduler decides who runs.
int first_allowed_cpu() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &set)) return c;
    return 0;
}
void pin_to(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

// mtcp_get_stats(NULL) sums every core while another thread creates and
// destroys its context: the published counters live in the instance, so the
// readers never touch a context being freed.
// The schedule makes a reader hold a context's address across its free,
// so AddressSanitizer reports the old reads (each context's own counters)
// on every run, and ThreadSanitizer reports the race: all threads share one
// CPU; the readers are SCHED_IDLE, so they run only while the churning
// thread sleeps between creating a context and destroying it. Its wake-up
// preempts a reader at once, anywhere in its loop (often after it loaded
// the context's address), and it then frees the context without yielding;
// the reader resumes afterwards and reads what it loaded.
TEST(ApiStats, GetStatsWhileAnotherCoreDestroysItsContext) {
    alarm(60);
    const int cpu = first_allowed_cpu();
    const std::string link = unique_link("uaf");
    const std::string conf = write_conf(link, true, "num_cores = 2\ndist_mode = sw\n");
    ASSERT_EQ(mtcp_init(conf.c_str()), 0);
    mctx_t c0 = mtcp_create_context(0);
    ASSERT_NE(c0, nullptr);
    std::atomic<bool> stop{false};
    std::atomic<int> cycles{0};
    std::atomic<uint64_t> reads{0};
    std::atomic<int> errors{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 4; ++r)
        readers.emplace_back([&] {
            pin_to(cpu);
            sched_param idle{};
            (void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
            while (!stop.load(std::memory_order_relaxed)) {
                mtcp_stats s{};
                if (mtcp_get_stats(nullptr, &s) != 0) ++errors;
                reads.fetch_add(1, std::memory_order_relaxed);
            }
        });
    std::thread churn([&] {
        pin_to(cpu);
        while (!stop.load(std::memory_order_relaxed)) {
            mctx_t c1 = mtcp_create_context(1);
            if (!c1) continue;
            // The readers run now and find c1.
            std::this_thread::sleep_for(std::chrono::microseconds(300));
            mtcp_destroy_context(c1);
            cycles.fetch_add(1, std::memory_order_relaxed);
        }
    });
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(2000);
    const auto limit = end + std::chrono::seconds(20);
    while ((std::chrono::steady_clock::now() < end || cycles < 50 || reads < 1000) &&
           std::chrono::steady_clock::now() < limit)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    stop = true;
    churn.join();
    for (auto& t : readers) t.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_GE(cycles.load(), 50);
    EXPECT_GE(reads.load(), 1000u);
    mtcp_destroy_context(c0);
    mtcp_destroy();
    alarm(0);
}
