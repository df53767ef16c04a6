// Observability through the public API: stat_print prints mTCP's per-core
// line, and pcap_file captures the port's frames in a file tshark can read.
#include <arpa/inet.h>
#include <fcntl.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "api_harness.hpp"

using namespace api_test;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

uint32_t le32(const std::string& b, size_t off) {
    return uint32_t(uint8_t(b[off])) | uint32_t(uint8_t(b[off + 1])) << 8 |
           uint32_t(uint8_t(b[off + 2])) << 16 | uint32_t(uint8_t(b[off + 3])) << 24;
}

}  // namespace

TEST(ApiObservability, StatPrintAndPcapCapture) {
    alarm(40);
    peer_process peer;
    peer.start(unique_link("obs"), [](mctx_t c, int fd) { return echo_server(c, fd, 1); });
    const std::string pcap = tmpdir() + "/" + peer.link + ".pcap";
    const std::string out = tmpdir() + "/" + peer.link + ".stdout";
    // Our side only (the peer's config has neither key).
    write_conf(peer.link, true, "pcap_file = " + pcap + "\nstat_print = " + peer.link + "\n");

    // stat_print writes to stdout: send it to a file for the test.
    fflush(stdout);
    const int saved = dup(1);
    const int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    dup2(fd, 1);
    close(fd);
    {
        local_side me(peer.link);
        mctx_t c = me.ctx;
        const int s = mtcp_socket(c, AF_INET, SOCK_STREAM, 0);
        auto a = addr(ip_child, port_echo);
        EXPECT_EQ(mtcp_connect(c, s, sa(a), sizeof a), 0);
        EXPECT_EQ(mtcp_write(c, s, "hello", 5), 5);
        char buf[5];
        size_t got = 0;
        while (got < 5) {
            const ssize_t r = mtcp_read(c, s, buf + got, 5 - got);
            if (r <= 0) break;
            got += size_t(r);
        }
        EXPECT_EQ(std::string(buf, got), "hello");
        // Run the stack past the next once-a-second line.
        const int ep = mtcp_epoll_create1(c, 0);
        mtcp_epoll_event e[1];
        for (int i = 0; i < 12; ++i) (void)mtcp_epoll_wait(c, ep, e, 1, 100);
        EXPECT_EQ(mtcp_close(c, s), 0);
    }
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    EXPECT_EQ(peer.finish(), 0);

    const std::string printed = slurp(out);
    const std::string want = "[CPU  0] " + peer.link + " flows:";
    EXPECT_NE(printed.find(want), std::string::npos) << printed;
    EXPECT_NE(printed.find("(Gbps), TX:"), std::string::npos) << printed;

    // The capture: classic pcap header, Ethernet link type, and the
    // handshake + data + close frames in both directions.
    const std::string cap = slurp(pcap);
    ASSERT_GE(cap.size(), 24u);
    const uint32_t magic = le32(cap, 0);
    EXPECT_TRUE(magic == 0xa1b2c3d4u || magic == 0xa1b23c4du) << std::hex << magic;
    EXPECT_EQ(le32(cap, 20), 1u);  // LINKTYPE_ETHERNET
    size_t off = 24, frames = 0;
    while (off + 16 <= cap.size()) {
        off += 16 + le32(cap, off + 8);
        ++frames;
    }
    EXPECT_EQ(off, cap.size()) << "truncated record";
    EXPECT_GE(frames, 7u);  // SYN, SYN-ACK, ACK, data, echo, FIN exchange...
    if (system("command -v tshark >/dev/null 2>&1") == 0) {
        const std::string cmd = "tshark -r " + pcap + " -Y 'tcp.port == " +
                                std::to_string(port_echo) + "' 2>/dev/null | wc -l";
        FILE* p = popen(cmd.c_str(), "r");
        ASSERT_NE(p, nullptr);
        unsigned n = 0;
        EXPECT_EQ(fscanf(p, "%u", &n), 1);
        pclose(p);
        EXPECT_GE(n, 7u) << "tshark did not read the TCP frames";
    }
}
