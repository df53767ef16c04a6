// Unit tests of the apps' socket-free pieces: the HTTP request parser and
// response head (apps/httpd/http.*) and the latency histogram / number
// parsing (apps/common/app_util.*), and the shared command-line pieces
// (apps/common/cli.*).
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "app_util.hpp"
#include "cli.hpp"
#include "http.hpp"

using namespace mvnf::httpd;
using mvnf::app::latency_hist;

TEST(HttpParse, Http11DefaultsToKeepAlive) {
    request r;
    std::string b = "GET /a.html HTTP/1.1\r\nHost: x\r\n\r\nGET /next";
    ASSERT_EQ(parse_request(b, 16384, r), parse_status::ok);
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.target, "/a.html");
    EXPECT_EQ(r.minor, 1);
    EXPECT_TRUE(r.keep_alive);
    EXPECT_EQ(r.head_len, b.find("GET /next"));
}

TEST(HttpParse, ConnectionHeaderRules) {
    request r;
    ASSERT_EQ(parse_request("GET / HTTP/1.0\r\n\r\n", 16384, r), parse_status::ok);
    EXPECT_FALSE(r.keep_alive);
    ASSERT_EQ(parse_request("GET / HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\n", 16384, r),
              parse_status::ok);
    EXPECT_TRUE(r.keep_alive);
    ASSERT_EQ(parse_request("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", 16384, r),
              parse_status::ok);
    EXPECT_FALSE(r.keep_alive);
}

TEST(HttpParse, IncompleteBadAndTooLarge) {
    request r;
    EXPECT_EQ(parse_request("GET / HTTP/1.1\r\nHost: x\r\n", 16384, r), parse_status::incomplete);
    EXPECT_EQ(parse_request("GET /\r\n\r\n", 16384, r), parse_status::bad);
    EXPECT_EQ(parse_request("GET / HTTP/2.0\r\n\r\n", 16384, r), parse_status::bad);
    EXPECT_EQ(parse_request("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 16384, r), parse_status::bad);
    EXPECT_EQ(parse_request("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 16384, r),
              parse_status::bad);
    EXPECT_EQ(parse_request(std::string(200, 'a'), 100, r), parse_status::too_large);
}

TEST(HttpResponse, HeadHasLengthTypeAndConnection) {
    std::string h = response_head(0, 404, 14, "text/plain", false);
    EXPECT_EQ(h.rfind("HTTP/1.0 404 Not Found\r\n", 0), 0u);
    EXPECT_NE(h.find("\r\nContent-Length: 14\r\n"), std::string::npos);
    EXPECT_NE(h.find("\r\nContent-Type: text/plain\r\n"), std::string::npos);
    EXPECT_NE(h.find("\r\nConnection: close\r\n"), std::string::npos);
    EXPECT_EQ(h.substr(h.size() - 4), "\r\n\r\n");
    EXPECT_STREQ(content_type("x/Y.PNG"), "image/png");
    EXPECT_STREQ(content_type("noext"), "application/octet-stream");
}

TEST(LatencyHist, PercentilesWithinOnePercent) {
    latency_hist h;
    for (uint64_t v = 1; v <= 100000; v++) h.record(v * 1000);  // 1 us .. 100 ms
    EXPECT_EQ(h.count(), 100000u);
    EXPECT_EQ(h.max(), 100000000u);
    for (double p : {50.0, 90.0, 99.0}) {
        double want = p / 100 * 1e8, got = double(h.percentile(p));
        EXPECT_NEAR(got, want, want * 0.02) << "p" << p;
    }
    latency_hist a, b;
    a.record(5);
    b.record(7);
    a.merge(b);
    EXPECT_EQ(a.count(), 2u);
    EXPECT_EQ(a.percentile(100), 7u);
    EXPECT_EQ(a.percentile(1), 5u);
}

TEST(ParseU64, SuffixesAndErrors) {
    uint64_t v;
    std::string err;
    EXPECT_TRUE(mvnf::app::parse_u64("100k", 0, 1ull << 40, "-r", v, err));
    EXPECT_EQ(v, 100000u);
    EXPECT_TRUE(mvnf::app::parse_u64("2M", 0, 1ull << 40, "-l", v, err));
    EXPECT_EQ(v, 2u << 20);
    EXPECT_FALSE(mvnf::app::parse_u64("12x", 0, 100, "-n", v, err));
    EXPECT_NE(err.find("-n"), std::string::npos);
    EXPECT_FALSE(mvnf::app::parse_u64("-1", 0, 100, "-n", v, err));
    EXPECT_FALSE(mvnf::app::parse_u64("101", 0, 100, "-n", v, err));
    EXPECT_NE(err.find("out of range"), std::string::npos);
}

TEST(Cli, AddressPortAndCoreOptionsNameThemselves) {
    using namespace mvnf::app;
    std::string err;
    uint32_t a = 0;
    EXPECT_TRUE(parse_ipv4_option("--bind", "127.0.0.1", a, err));
    EXPECT_EQ(a, htonl(INADDR_LOOPBACK));
    EXPECT_FALSE(parse_ipv4_option("--bind", "1.2.3", a, err));
    EXPECT_EQ(err, "--bind: '1.2.3' is not an IPv4 address");
    uint16_t p = 0;
    EXPECT_TRUE(parse_port("65535", "--port", p, err));
    EXPECT_EQ(p, 65535);
    EXPECT_FALSE(parse_port("0", "--port", p, err));
    EXPECT_EQ(err, "--port: 0 out of range 1..65535");
    int cores = 0;
    EXPECT_TRUE(parse_cores("64", cores, err));
    EXPECT_EQ(cores, 64);
    EXPECT_FALSE(parse_cores("65", cores, err));
    EXPECT_EQ(err, "-N cores: 65 out of range 1..64");
}

TEST(Cli, PerfOptionsAndTheirRules) {
    using namespace mvnf::app;
    std::string err;
    perf_options o(5301);
    perf_seen seen;
    EXPECT_EQ(o.port, 5301);
    EXPECT_EQ(perf_option('c', "127.0.0.1", o, seen, err), taken::yes);
    EXPECT_TRUE(seen.client);
    EXPECT_EQ(o.host, "127.0.0.1");
    EXPECT_EQ(perf_option(opt_port, "7000", o, seen, err), taken::yes);
    EXPECT_EQ(o.port, 7000);
    EXPECT_EQ(perf_option('n', "5k", o, seen, err), taken::yes);
    EXPECT_EQ(o.count, 5000u);
    EXPECT_EQ(perf_option('l', "64", o, seen, err), taken::no) << "not a shared option";
    EXPECT_EQ(perf_option('N', "0", o, seen, err), taken::error);
    EXPECT_EQ(err, "-N cores: 0 out of range 1..64");
    // A client with -n and no -t runs until the count.
    EXPECT_TRUE(perf_check_duration(o, seen, err));
    EXPECT_EQ(o.duration, 0);
    // A client with neither is refused; a server runs until stopped.
    perf_options c(1);
    perf_seen cs;
    ASSERT_EQ(perf_option('c', "localhost", c, cs, err), taken::yes);
    ASSERT_EQ(perf_option('t', "0", c, cs, err), taken::yes);
    EXPECT_FALSE(perf_check_duration(c, cs, err));
    EXPECT_EQ(err, "the client needs -t SECONDS > 0 or -n COUNT");
    perf_options s(1);
    perf_seen ss;
    ASSERT_EQ(perf_option('s', nullptr, s, ss, err), taken::yes);
    EXPECT_TRUE(perf_check_duration(s, ss, err));
    EXPECT_EQ(s.duration, 0);
}
