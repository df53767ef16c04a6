// pcap capture decorator: frames through a wrapped in-memory port (and a shm
// port opened with port_config::pcap_file) end up in a pcap file that our own
// reader and tshark both read back with the right count and fields.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>

#include "../wait_interrupt.hpp"
#include "frames.hpp"
#include "netio/mem/mem_link.hpp"
#include "netio/pcap/pcap_port.hpp"
#include "netio/port.hpp"

namespace mvnf::netio {
namespace {

// A one-queue port over one end of a mem_link.
class mem_port final : public port {
public:
    mem_port(queue& q) : _q(q) {
        _info.spec = "mem:test";
        _info.backend = "mem";
        _info.name = "test";
        _info.mac = mac_addr{{0x02, 0, 0, 0, 0, 1}};
    }
    const port_info& info() const override { return _info; }
    queue& q(unsigned) override { return _q; }

private:
    queue& _q;
    port_info _info;
};

// ---- our own reader ----
struct pcap_record {
    uint32_t sec, frac, incl, orig;
    std::string data;
};
struct pcap_file_view {
    uint32_t magic, snaplen, linktype;
    uint16_t vmaj, vmin;
    std::vector<pcap_record> records;
};
uint32_t le32(const std::string& s, size_t o) {
    return uint32_t(uint8_t(s[o])) | uint32_t(uint8_t(s[o + 1])) << 8 |
           uint32_t(uint8_t(s[o + 2])) << 16 | uint32_t(uint8_t(s[o + 3])) << 24;
}
std::optional<pcap_file_view> read_pcap(const std::string& path, std::string* why) {
    std::ifstream in(path, std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (s.size() < 24) {
        *why = "short file";
        return {};
    }
    pcap_file_view f;
    f.magic = le32(s, 0);
    f.vmaj = uint16_t(le32(s, 4) & 0xffff);
    f.vmin = uint16_t(le32(s, 4) >> 16);
    f.snaplen = le32(s, 16);
    f.linktype = le32(s, 20);
    size_t o = 24;
    while (o < s.size()) {
        if (s.size() - o < 16) {
            *why = "truncated record header at " + std::to_string(o);
            return {};
        }
        pcap_record r{le32(s, o), le32(s, o + 4), le32(s, o + 8), le32(s, o + 12), {}};
        o += 16;
        if (s.size() - o < r.incl) {
            *why = "truncated record data at " + std::to_string(o);
            return {};
        }
        r.data = s.substr(o, r.incl);
        o += r.incl;
        f.records.push_back(std::move(r));
    }
    return f;
}

std::string tmp_path(const char* tag) {
    return "/tmp/mvnf_pcap_" + std::string(tag) + "_" + std::to_string(getpid()) + ".pcap";
}
struct file_remover {
    std::string path;
    ~file_remover() { ::unlink(path.c_str()); }
};

std::string run_cmd(const std::string& cmd) {
    std::string out;
    FILE* f = ::popen(cmd.c_str(), "r");
    if (!f) return out;
    char buf[512];
    while (size_t n = fread(buf, 1, sizeof buf, f)) out.append(buf, n);
    ::pclose(f);
    return out;
}
bool have_tshark() { return run_cmd("command -v tshark").size() > 0; }

mvnf::test::udp_flow flow(uint16_t sport, uint16_t dport) {
    return {mac_addr{{0x02, 0, 0, 0, 0, 2}}, mac_addr{{0x02, 0, 0, 0, 0, 1}},
            ipv4_addr(10, 1, 0, 2), ipv4_addr(10, 1, 0, 1), sport, dport};
}

// Sends frames with the given source ports through q; returns how many the
// queue accepted (the rest are freed).
unsigned send_udp(queue& q, std::vector<uint16_t> sports, uint16_t dport, std::string payload,
                  std::vector<std::string>* sent) {
    std::vector<packet> b(sports.size());
    unsigned n = q.alloc_tx(b);
    for (unsigned i = 0; i < n; ++i) {
        b[i].len = uint32_t(mvnf::test::build_udp({b[i].data, b[i].len}, flow(sports[i], dport),
                                                  payload + std::to_string(i)));
        if (sent) sent->emplace_back(reinterpret_cast<char*>(b[i].data), b[i].len);
    }
    unsigned acc = q.tx_burst({b.data(), n});
    q.free_tx({b.data() + acc, n - acc});
    q.flush();
    return acc;
}

int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

TEST(PcapPort, CapturesRxAndAcceptedTxOnly) {
    file_remover file{tmp_path("rxtx")};
    mem_link_config lc;
    lc.max_in_flight = 4;
    mem_link link(lc);
    const int64_t t0 = now_ns();
    std::vector<std::string> expect;
    unsigned acc = 0;
    {
        auto w = wrap_pcap(std::make_unique<mem_port>(link.a()), file.path);
        ASSERT_TRUE(w) << w.error().message;
        port& p = **w;
        EXPECT_EQ(p.info().backend, "mem");

        // 3 frames arrive from the peer...
        ASSERT_EQ(send_udp(link.b(), {1001, 1002, 1003}, 7, "in", nullptr), 3u);
        packet rx[8];
        unsigned n = p.q(0).rx_burst(rx);
        ASSERT_EQ(n, 3u);
        for (unsigned i = 0; i < n; ++i)
            expect.emplace_back(reinterpret_cast<char*>(rx[i].data), rx[i].len);
        p.q(0).release({rx, n});
        // ...and we send 6, of which the link (max 4 in flight) takes fewer:
        // only those are captured.
        std::vector<std::string> sent;
        acc = send_udp(p.q(0), {2001, 2002, 2003, 2004, 2005, 2006}, 9, "out", &sent);
        EXPECT_GT(acc, 0u);
        EXPECT_LT(acc, 6u);
        expect.insert(expect.end(), sent.begin(), sent.begin() + acc);
        const std::optional<pcap_counters> c = pcap_stats(p, 0);
        ASSERT_TRUE(c.has_value());
        EXPECT_EQ(c->records, 3u + acc);
        EXPECT_EQ(c->write_errors, 0u);
    }  // closing flushes
    const int64_t t1 = now_ns();

    std::string why;
    auto f = read_pcap(file.path, &why);
    ASSERT_TRUE(f) << why;
    EXPECT_EQ(f->magic, 0xa1b23c4du);
    EXPECT_EQ(f->vmaj, 2);
    EXPECT_EQ(f->vmin, 4);
    EXPECT_EQ(f->linktype, 1u);
    EXPECT_EQ(f->snaplen, 65535u);
    ASSERT_EQ(f->records.size(), expect.size());
    int64_t prev = 0;
    for (size_t i = 0; i < expect.size(); ++i) {
        const pcap_record& r = f->records[i];
        EXPECT_EQ(r.incl, r.orig);
        EXPECT_EQ(r.data, expect[i]) << "record " << i;
        int64_t t = int64_t(r.sec) * 1000000000 + r.frac;
        EXPECT_LT(r.frac, 1000000000u);
        EXPECT_GE(t, t0 - 1);
        EXPECT_LE(t, t1);
        EXPECT_GE(t, prev);
        prev = t;
    }

    if (!have_tshark()) {
        std::printf("tshark not installed: skipping the tshark check\n");
        return;
    }
    std::string out = run_cmd("tshark -r " + file.path +
                              " -T fields -E separator=, -e frame.len -e eth.src -e ip.src "
                              "-e udp.srcport -e udp.dstport 2>/dev/null");
    std::istringstream lines(out);
    std::vector<std::string> rows;
    for (std::string l; std::getline(lines, l);) rows.push_back(l);
    ASSERT_EQ(rows.size(), 3u + acc) << out;
    EXPECT_EQ(rows[0], std::to_string(expect[0].size()) + ",02:00:00:00:00:02,10.1.0.2,1001,7");
    EXPECT_EQ(rows[2 + acc], std::to_string(expect[2 + acc].size()) +
                                 ",02:00:00:00:00:02,10.1.0.2," + std::to_string(2000 + acc) +
                                 ",9");
}

TEST(PcapPort, MicrosecondFormatAndSnaplen) {
    file_remover file{tmp_path("us")};
    mem_link link;
    {
        pcap_options o;
        o.nanosecond = false;
        o.snaplen = 40;
        o.buffer_bytes = 4096;  // small: forces chunked writes mid-run
        auto w = wrap_pcap(std::make_unique<mem_port>(link.a()), file.path, o);
        ASSERT_TRUE(w) << w.error().message;
        for (int round = 0; round < 50; ++round)
            ASSERT_EQ(send_udp((*w)->q(0), {3000, 3001, 3002}, 5, "payload-", nullptr), 3u);
        packet rx[8];
        unsigned n;
        while ((n = link.b().rx_burst(rx)) > 0) link.b().release({rx, n});
        EXPECT_EQ(pcap_stats(**w, 0)->records, 150u);
    }
    std::string why;
    auto f = read_pcap(file.path, &why);
    ASSERT_TRUE(f) << why;
    EXPECT_EQ(f->magic, 0xa1b2c3d4u);
    EXPECT_EQ(f->snaplen, 40u);
    ASSERT_EQ(f->records.size(), 150u);
    for (const pcap_record& r : f->records) {
        EXPECT_EQ(r.incl, 40u);
        EXPECT_GT(r.orig, 40u);
        EXPECT_LT(r.frac, 1000000u);
    }
    if (!have_tshark()) {
        std::printf("tshark not installed: skipping the tshark check\n");
        return;
    }
    std::string out = run_cmd("tshark -r " + file.path + " 2>/dev/null | wc -l");
    EXPECT_EQ(std::stoi(out), 150);
}

TEST(PcapPort, OpenPortWrapsAnyBackend) {
    file_remover file{tmp_path("shm")};
    const std::string name = "mvnfpcap" + std::to_string(getpid());
    struct shm_cleanup {
        std::string n;
        ~shm_cleanup() { ::shm_unlink(("/mvnf." + n).c_str()); }
    } cleanup{name};
    {
        port_config cfg;
        cfg.pcap_file = file.path;
        auto a = open_port("shm:" + name, cfg);
        ASSERT_TRUE(a) << a.error().message;
        auto b = open_port("shm:" + name, {});
        ASSERT_TRUE(b) << b.error().message;
        EXPECT_EQ((*a)->info().backend, "shm");
        ASSERT_TRUE(pcap_stats(**a, 0).has_value());
        EXPECT_FALSE(pcap_stats(**b, 0).has_value());

        ASSERT_EQ(send_udp((*a)->q(0), {4000, 4001}, 80, "a-to-b", nullptr), 2u);
        ASSERT_EQ(send_udp((*b)->q(0), {5000}, 81, "b-to-a", nullptr), 1u);
        packet rx[8];
        unsigned got_a = 0, got_b = 0;
        for (int i = 0; i < 200 && (got_a < 1 || got_b < 2); ++i) {
            unsigned n = (*b)->q(0).rx_burst(rx);
            got_b += n;
            (*b)->q(0).release({rx, n});
            n = (*a)->q(0).rx_burst(rx);
            got_a += n;
            (*a)->q(0).release({rx, n});
            if (got_a < 1 || got_b < 2) (*a)->q(0).wait(10'000'000);
        }
        EXPECT_EQ(got_a, 1u);
        EXPECT_EQ(got_b, 2u);
        // The wrapper passes interrupt() through (thread mode's stack thread
        // waits on it); the interrupt check receives nothing, so the file
        // keeps its three records.
        mvnf::test::check_interrupt_contract((*a)->q(0));
    }
    std::string why;
    auto f = read_pcap(file.path, &why);
    ASSERT_TRUE(f) << why;
    EXPECT_EQ(f->records.size(), 3u);
}

// Interruptible exactly when the wrapped queue is (shm: see above).
TEST(PcapPort, InterruptibleAsTheWrappedQueue) {
    mem_link link;
    file_remover file{tmp_path("mem")};
    auto w = wrap_pcap(std::make_unique<mem_port>(link.a()), file.path);
    ASSERT_TRUE(w) << w.error().message;
    EXPECT_FALSE((*w)->q(0).interruptible());
}

TEST(PcapPort, Errors) {
    mem_link link;
    auto w = wrap_pcap(std::make_unique<mem_port>(link.a()), "/nonexistent-dir/x.pcap");
    ASSERT_FALSE(w);
    EXPECT_NE(w.error().message.find("/nonexistent-dir/x.pcap"), std::string::npos);
    EXPECT_NE(w.error().message.find("No such file"), std::string::npos) << w.error().message;

    // /dev/full accepts the open and fails the header write.
    w = wrap_pcap(std::make_unique<mem_port>(link.a()), "/dev/full");
    ASSERT_FALSE(w);
    EXPECT_NE(w.error().message.find("header"), std::string::npos) << w.error().message;

    pcap_options o;
    o.buffer_bytes = 100;
    w = wrap_pcap(std::make_unique<mem_port>(link.a()), tmp_path("bad"), o);
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().code, errc::bad_config);

    port_config cfg;
    cfg.pcap_file = "/nonexistent-dir/y.pcap";
    auto p = open_port("shm:mvnfpcaperr" + std::to_string(getpid()), cfg);
    ASSERT_FALSE(p);
    EXPECT_NE(p.error().message.find("pcap capture file"), std::string::npos);
    ::shm_unlink(("/mvnf.mvnfpcaperr" + std::to_string(getpid())).c_str());
}

}  // namespace
}  // namespace mvnf::netio
