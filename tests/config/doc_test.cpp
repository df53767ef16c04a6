// Keeps the configuration reference true to the parser: the tables of
// docs/configuration.md and the entries of the man page man/mtcp.conf.5 list
// exactly the keys known_keys() accepts, and every default the man page
// writes as a value ("Default: \fBVALUE\fP.") is the parser's default.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.hpp"

#ifndef MVNF_SOURCE_DIR
#error "MVNF_SOURCE_DIR must point at the source tree"
#endif

namespace {

std::set<std::string> parser_keys() {
    std::set<std::string> parsed;
    for (auto k : mvnf::cfg::known_keys()) parsed.insert(std::string(k));
    return parsed;
}

// man/mtcp.conf.5: each key is the first word of a `.BI "key = " value`
// line that opens a .TP (or .TQ) entry; its "Default:" line follows.
struct man_entry {
    int line = 0;                  // line of the .TP header
    bool has_default = false;      // a "Default:" sentence
    std::optional<std::string> value;  // "Default: \fBVALUE\fP." (checked)
};

std::map<std::string, man_entry> read_man_page(const std::string& path) {
    std::ifstream in(path);
    EXPECT_TRUE(in) << path << " missing";
    std::map<std::string, man_entry> keys;
    const std::regex header(R"re(^\.BI "([a-z_0-9]+) = ")re");
    const std::regex literal(R"(^Default: \\fB([^\\]+)\\fP)");
    std::string line, prev;
    std::vector<std::string> current;  // keys of the entry being read (.TQ adds)
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        std::smatch m;
        if ((prev == ".TP" || prev == ".TQ") && std::regex_search(line, m, header)) {
            if (prev == ".TP") current.clear();
            EXPECT_FALSE(keys.count(m[1])) << "mtcp.conf.5:" << n << ": " << m[1] << " twice";
            keys[m[1]].line = n;
            current.push_back(m[1]);
        } else if (line.rfind(".SH", 0) == 0) {
            current.clear();
        } else if (line.rfind("Default:", 0) == 0) {
            EXPECT_FALSE(current.empty()) << "mtcp.conf.5:" << n << ": a Default: outside an entry";
            for (auto& k : current) {
                EXPECT_FALSE(keys[k].has_default) << "mtcp.conf.5:" << n << ": " << k
                                                   << " has two Default: lines";
                keys[k].has_default = true;
                if (std::regex_search(line, m, literal)) keys[k].value = m[1];
            }
        }
        prev = line;
    }
    return keys;
}

// What a file needs besides the key under test (shm ports have no address).
const std::string base = "port = shm:doc_test\nip_addr = 10.0.0.1\n";

mvnf::cfg::config parsed(const std::string& text) {
    auto r = mvnf::cfg::parse(text, "doc");
    EXPECT_TRUE(r) << (r ? "" : r.error().str()) << "\n" << text;
    if (!r) return {};
    mvnf::cfg::config c = *r;
    c.notices.clear();  // "no effect here" notes and the like are not settings
    c.port_line = 0;
    return c;
}

}  // namespace

TEST(ConfigDoc, ReferenceListsExactlyTheParserKeys) {
    std::ifstream in(std::string(MVNF_SOURCE_DIR) + "/docs/configuration.md");
    ASSERT_TRUE(in) << "docs/configuration.md missing";
    std::string line;
    std::set<std::string> documented;
    std::regex row(R"(^\| `([a-z_0-9]+)` \|)");
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_search(line, m, row)) documented.insert(m[1]);
    }
    const auto parsed_keys = parser_keys();
    for (auto& k : parsed_keys) EXPECT_TRUE(documented.count(k)) << "undocumented key: " << k;
    for (auto& k : documented) EXPECT_TRUE(parsed_keys.count(k)) << "documented but not parsed: " << k;
}

// man/mtcp.conf.5 has one entry per key the parser accepts, each with a
// Default: sentence, and nothing else.
TEST(ConfigDoc, ManPageListsExactlyTheParserKeys) {
    const auto man = read_man_page(std::string(MVNF_SOURCE_DIR) + "/man/mtcp.conf.5");
    const auto parsed_keys = parser_keys();
    for (auto& k : parsed_keys) EXPECT_TRUE(man.count(k)) << "mtcp.conf.5 lacks key: " << k;
    for (auto& [k, e] : man) {
        EXPECT_TRUE(parsed_keys.count(k)) << "mtcp.conf.5:" << e.line << ": not a key: " << k;
        EXPECT_TRUE(e.has_default) << "mtcp.conf.5:" << e.line << ": " << k << " has no Default:";
    }
    EXPECT_GE(man.size(), 50u);  // the reader found the entries at all
}

// Each default the man page states as a value is the parser's: a file that
// sets the key to it parses to exactly the configuration without the line.
TEST(ConfigDoc, ManPageDefaultsAreTheParserDefaults) {
    const auto man = read_man_page(std::string(MVNF_SOURCE_DIR) + "/man/mtcp.conf.5");
    const auto defaults = parsed(base);
    int checked = 0;
    for (auto& [k, e] : man) {
        if (!e.value) continue;
        ++checked;
        const std::string text = base + k + " = " + *e.value + "\n";
        EXPECT_TRUE(parsed(text) == defaults)
            << "mtcp.conf.5:" << e.line << ": " << k << " = " << *e.value
            << " is not the default (setting it changes the configuration)";
    }
    EXPECT_GE(checked, 30);  // most keys have a plain default (34 today)
    // The check can fail: a value that is not the default changes the result.
    EXPECT_FALSE(parsed(base + "rcvbuf = 8193\n") == defaults);
}
