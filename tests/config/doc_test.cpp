// Keeps docs/configuration.md true to the parser: the reference tables list
// exactly the keys known_keys() accepts.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "config/config.hpp"

#ifndef MVNF_SOURCE_DIR
#error "MVNF_SOURCE_DIR must point at the source tree"
#endif

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
    std::set<std::string> parsed;
    for (auto k : mvnf::cfg::known_keys()) parsed.insert(std::string(k));
    for (auto& k : parsed) EXPECT_TRUE(documented.count(k)) << "undocumented key: " << k;
    for (auto& k : documented) EXPECT_TRUE(parsed.count(k)) << "documented but not parsed: " << k;
}
