// Unit tests of mvnf-wget's chunked transfer decoder (apps/wget/chunked.*,
// RFC 9112 section 7.1): framing variants, input split at every byte (and
// every pair of bytes), bytes after the message, and malformed input that
// must end in an error without reading past the input.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "chunked.hpp"

using mvnf::wget::chunked_decoder;
using status = chunked_decoder::status;

namespace {

struct outcome {
    status st;
    size_t used;  // input bytes consumed in total
    std::string body;
};

// Feeds `in` in pieces cut at `cuts` (sorted offsets), copying each piece to
// its own heap buffer so ASan catches any read past a piece.
outcome decode(const std::string& in, const std::vector<size_t>& cuts = {}) {
    chunked_decoder d;
    outcome o{status::more, 0, {}};
    size_t from = 0;
    std::vector<size_t> ends = cuts;
    ends.push_back(in.size());
    for (size_t end : ends) {
        if (end < from) continue;
        std::vector<char> piece(in.begin() + long(from), in.begin() + long(end));
        size_t off = 0;
        while (off < piece.size() || piece.empty()) {
            auto s = d.next(piece.data() + off, piece.size() - off);
            EXPECT_LE(s.body_off + s.body_len, s.used);
            o.body.append(piece.data() + off + s.body_off, s.body_len);
            off += s.used;
            o.used += s.used;
            o.st = s.st;
            if (s.st != status::more || piece.empty()) break;
        }
        if (o.st != status::more) break;
        from = end;
    }
    EXPECT_EQ(d.body_bytes(), o.body.size());
    return o;
}

const std::string framed =
    "00A;name=val;q=\"a;b\"\r\n0123456789\r\n"   // leading zeros, extensions
    "1 ;x\r\nX\r\n"                              // BWS before an extension
    "1f\r\nabcdefghijklmnopqrstuvwxyz01234\r\n"  // lower-case hex
    "1F\r\nABCDEFGHIJKLMNOPQRSTUVWXYZ56789\r\n"  // upper-case hex
    "000;last\r\n"                               // last-chunk
    "Expires: never\r\nX-Sum: 1\r\n\r\n";        // trailer section
const std::string framed_body =
    "0123456789X"
    "abcdefghijklmnopqrstuvwxyz01234ABCDEFGHIJKLMNOPQRSTUVWXYZ56789";

}  // namespace

TEST(Chunked, WholeMessage) {
    auto o = decode("5\r\nhello\r\n0\r\n\r\n");
    EXPECT_EQ(o.st, status::done);
    EXPECT_EQ(o.body, "hello");
    EXPECT_EQ(o.used, 15u);
}

TEST(Chunked, ExtensionsHexCaseLeadingZerosTrailers) {
    auto o = decode(framed);
    EXPECT_EQ(o.st, status::done);
    EXPECT_EQ(o.body, framed_body);
    EXPECT_EQ(o.used, framed.size());
}

TEST(Chunked, EmptyBody) {
    auto o = decode("0\r\n\r\n");
    EXPECT_EQ(o.st, status::done);
    EXPECT_EQ(o.body, "");
}

TEST(Chunked, SplitAtEveryByte) {
    for (size_t i = 0; i <= framed.size(); i++) {
        auto o = decode(framed, {i});
        ASSERT_EQ(o.st, status::done) << "split at " << i;
        ASSERT_EQ(o.body, framed_body) << "split at " << i;
        ASSERT_EQ(o.used, framed.size());
    }
}

TEST(Chunked, SplitAtEveryPairOfBytes) {
    for (size_t i = 0; i <= framed.size(); i++)
        for (size_t j = i; j <= framed.size(); j++) {
            auto o = decode(framed, {i, j});
            ASSERT_EQ(o.st, status::done) << i << "," << j;
            ASSERT_EQ(o.body, framed_body) << i << "," << j;
        }
}

TEST(Chunked, OneByteAtATime) {
    std::vector<size_t> cuts;
    for (size_t i = 1; i < framed.size(); i++) cuts.push_back(i);
    auto o = decode(framed, cuts);
    EXPECT_EQ(o.st, status::done);
    EXPECT_EQ(o.body, framed_body);
}

TEST(Chunked, StopsAtTheEndOfTheMessage) {
    // What follows the final CRLF belongs to the next message: not consumed.
    const std::string msg = "3\r\nabc\r\n0\r\n\r\n";
    auto o = decode(msg + "HTTP/1.1 200 OK\r\n");
    EXPECT_EQ(o.st, status::done);
    EXPECT_EQ(o.used, msg.size());
    EXPECT_EQ(o.body, "abc");
    // feed() reports the same boundary.
    chunked_decoder d;
    std::string body;
    const std::string in = msg + "XYZ";
    auto s = d.feed(
        in.data(), in.size(),
        [](void* p, const char* b, size_t n) { static_cast<std::string*>(p)->append(b, n); },
        &body);
    EXPECT_EQ(s.st, status::done);
    EXPECT_EQ(s.used, msg.size());
    EXPECT_EQ(body, "abc");
    // A finished decoder consumes nothing more.
    EXPECT_EQ(d.next("5\r\n", 3).used, 0u);
    EXPECT_EQ(d.next("5\r\n", 3).st, status::done);
}

TEST(Chunked, IncompleteIsMoreNotError) {
    for (const char* p : {"", "5", "5\r", "5\r\n", "5\r\nhel", "5\r\nhello", "5\r\nhello\r",
                          "5\r\nhello\r\n0", "5\r\nhello\r\n0\r\n", "5\r\nhello\r\n0\r\nX: y",
                          "5\r\nhello\r\n0\r\nX: y\r\n", "5\r\nhello\r\n0\r\n\r", "5;ext"}) {
        auto o = decode(p);
        EXPECT_EQ(o.st, status::more) << p;
        EXPECT_EQ(o.used, std::string(p).size()) << p;
    }
}

TEST(Chunked, LargestSizeAndLeadingZeros) {
    // 15 significant hex digits are accepted; the data state then waits.
    auto o = decode("FFFFFFFFFFFFFFF\r\nabc");
    EXPECT_EQ(o.st, status::more);
    EXPECT_EQ(o.body, "abc");
    // Any number of leading zeros within the line limit.
    o = decode(std::string(200, '0') + "2\r\nhi\r\n0\r\n\r\n");
    EXPECT_EQ(o.st, status::done);
    EXPECT_EQ(o.body, "hi");
}

TEST(Chunked, MalformedInputIsAnError) {
    const std::vector<std::string> bad = {
        "\r\n",                      // no chunk-size
        ";ext\r\n",                  // extension without a size
        "g\r\n",                     // not hex
        "-1\r\n",                    // negative
        "0x5\r\nhello\r\n",          // C-style prefix
        "+5\r\n",                    // sign
        "5\nhello\r\n0\r\n\r\n",     // bare LF after the size
        "5\r\r\nhello\r\n",          // CR CR
        "5 \r\nhello\r\n",           // BWS without an extension
        "5\r\nhelloX\r\n0\r\n\r\n",  // data longer than its size
        "5\r\nhello\n0\r\n\r\n",     // bare LF after data
        "5\r\nhello\r\r0\r\n\r\n",   // CR CR after data
        "5\r\nhell\r\n0\r\n\r\n",    // data shorter than its size
        "1000000000000000\r\n",      // 16 significant digits (overflow guard)
        "FFFFFFFFFFFFFFFFFFFF\r\n",  // 20 digits: would overflow 64 bits
        "5;a\x01"
        "b\r\nhello\r\n",                      // control character in an extension
        "5;a\nb\r\nhello\r\n",                 // LF inside an extension
        "0\r\nX: y\n\r\n",                     // bare LF in a trailer
        "0\r\nX: \x01\r\n\r\n",                // control character in a trailer
        "0\r\n\n",                             // bare LF as the final line
        "0\r\n\r\r",                           // CR not followed by LF
        "0\r\nX: y\r\r\n",                     // trailer line CR CR
        std::string("5\r\nhello\r\n") + '\0',  // NUL where a size belongs
    };
    for (const auto& b : bad) {
        auto o = decode(b);
        EXPECT_EQ(o.st, status::error) << "whole: " << b;
        EXPECT_LE(o.used, b.size());
        // The same error however the input is split.
        for (size_t i = 0; i <= b.size(); i++)
            EXPECT_EQ(decode(b, {i}).st, status::error) << "split at " << i << ": " << b;
    }
}

TEST(Chunked, ErrorIsFinal) {
    chunked_decoder d;
    EXPECT_EQ(d.next("z", 1).st, status::error);
    auto s = d.next("5\r\nhello\r\n0\r\n\r\n", 15);
    EXPECT_EQ(s.st, status::error);
    EXPECT_EQ(s.used, 0u);
    d.reset();
    EXPECT_EQ(d.next("0\r\n\r\n", 5).st, status::done);
}

TEST(Chunked, LineAndTrailerLimits) {
    // A size line longer than max_line (extensions included) is refused ...
    std::string ext = "5;" + std::string(chunked_decoder::max_line, 'e') + "\r\nhello\r\n0\r\n\r\n";
    EXPECT_EQ(decode(ext).st, status::error);
    std::string zeros = std::string(chunked_decoder::max_line + 1, '0') + "\r\n\r\n";
    EXPECT_EQ(decode(zeros).st, status::error);
    // ... and so is a trailer section past max_trailer, while one within it passes.
    std::string big = "0\r\n";
    while (big.size() < chunked_decoder::max_trailer + 8)
        big += "X-Pad: " + std::string(100, 'p') + "\r\n";
    EXPECT_EQ(decode(big + "\r\n").st, status::error);
    EXPECT_EQ(decode("0\r\nX-Pad: " + std::string(1000, 'p') + "\r\n\r\n").st, status::done);
}

TEST(Chunked, RandomChunkingAndSplitsRoundTrip) {
    std::mt19937 rng(42);
    for (int round = 0; round < 300; round++) {
        std::string body, wire;
        const int chunks = int(rng() % 8);
        for (int c = 0; c < chunks; c++) {
            const size_t len = 1 + rng() % 3000;
            std::string data(len, '\0');
            for (auto& ch : data) ch = char(rng());  // any byte, CR/LF included
            body += data;
            char hex[32];
            snprintf(hex, sizeof hex, rng() % 2 ? "%zx" : "%zX", len);
            wire += hex;
            if (rng() % 3 == 0) wire += ";k=v";
            wire += "\r\n" + data + "\r\n";
        }
        wire += rng() % 2 ? "0\r\n\r\n" : "0\r\nT: 1\r\n\r\n";
        std::vector<size_t> cuts;
        for (size_t k = 0, n = rng() % 20; k < n; k++) cuts.push_back(rng() % (wire.size() + 1));
        std::sort(cuts.begin(), cuts.end());
        auto o = decode(wire, cuts);
        ASSERT_EQ(o.st, status::done) << "round " << round;
        ASSERT_EQ(o.body, body) << "round " << round;
        ASSERT_EQ(o.used, wire.size());
    }
}
