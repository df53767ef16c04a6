// Unit tests of the apps' socket-free pieces: the HTTP request parser and
// response head (apps/httpd/http.*) and the latency histogram / number
// parsing (apps/common/app_util.*).
#include <gtest/gtest.h>

#include "app_util.hpp"
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
