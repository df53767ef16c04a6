// Keeps docs/ and README.md true to the tree they describe: every repository
// path and source file they name exists, every mtcp_/mudp_ function they
// call is declared in include/mtcp/ (and every other mtcp_ name exists in
// the code), every mtcp.conf key they set is one the parser accepts and
// every default configuration.md states is the parser's, every relative
// link and #anchor resolves, and every table of docs/performance.md sits in
// a section that names the commit it was measured at, a commit that exists
// in git history, as must every commit any document names. Each checker is a function of one document's text, so the
// last test plants one error of each kind and sees it reported.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <cstdlib>
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

namespace fs = std::filesystem;

namespace {

const fs::path root = MVNF_SOURCE_DIR;

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> v;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
}

// The documents checked: README.md and every .md under docs/.
std::vector<fs::path> documents() {
    std::vector<fs::path> v{root / "README.md"};
    for (auto& e : fs::recursive_directory_iterator(root / "docs"))
        if (e.is_regular_file() && e.path().extension() == ".md") v.push_back(e.path());
    return v;
}

std::string rel(const fs::path& p) { return fs::relative(p, root).string(); }

// Files of the tree (no build directories, no .git): their names, and the
// words of the code (include/, src/, apps/, tools/, tests/, bench/, fuzz/,
// examples/).
struct tree {
    std::set<std::string> basenames;
    std::set<std::string> code_words;
    std::set<std::string> public_functions;  // mtcp_/mudp_ names declared in include/mtcp
};

bool skipped_dir(const fs::path& p) {
    const std::string n = p.filename().string();
    return n == ".git" || n.rfind("build", 0) == 0 || n == "results";
}

const tree& the_tree() {
    static const tree built = [] {
        tree t;
        const std::regex word(R"([A-Za-z_][A-Za-z0-9_]*)");
        for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
             ++it) {
            if (it->is_directory() && skipped_dir(it->path())) {
                it.disable_recursion_pending();
                continue;
            }
            if (!it->is_regular_file()) continue;
            t.basenames.insert(it->path().filename().string());
            const std::string top = rel(it->path()).substr(0, rel(it->path()).find('/'));
            static const std::set<std::string> code_dirs{"include", "src",   "apps",     "tools",
                                                         "tests",   "bench", "fuzz",     "examples",
                                                         "cmake",   "CMakeLists.txt"};
            static const std::set<std::string> code_exts{".h",  ".hpp", ".cpp",   ".c", ".py",
                                                         ".sh", ".txt", ".cmake", ""};
            if (!code_dirs.count(top) || !code_exts.count(it->path().extension().string()))
                continue;
            if (it->path().filename() == "docs_true_test.cpp") continue;  // its planted names
            const std::string text = slurp(it->path());
            for (std::sregex_iterator m(text.begin(), text.end(), word), e; m != e; ++m)
                t.code_words.insert(m->str());
        }
        const std::regex decl(R"(\b((?:mtcp|mudp)_[a-z0-9_]+)\s*\()");
        for (auto& e : fs::directory_iterator(root / "include" / "mtcp")) {
            const std::string text = slurp(e.path());
            for (std::sregex_iterator m(text.begin(), text.end(), decl), end; m != end; ++m)
                t.public_functions.insert((*m)[1]);
        }
        return t;
    }();
    return built;
}

// ---- paths ------------------------------------------------------------------

// Files of other projects the documents name by their own names.
const std::set<std::string> external_files{
    "defaults.sh", "run_all.py", "run.c", "socket.c", "code.c",  // packetdrill's
    "gtest.h",                                                   // GoogleTest's
};

// `dir/name*` or `dir/name.{hpp,cpp}`: some entry of dir starts with name.
bool prefix_exists(const fs::path& p) {
    const fs::path dir = p.parent_path();
    const std::string stem = p.filename().string();
    if (!fs::is_directory(dir)) return false;
    for (auto& e : fs::directory_iterator(dir))
        if (e.path().filename().string().rfind(stem, 0) == 0) return true;
    return false;
}

// A build output named by where it is built (`apps/httpd/mvnf-httpd`,
// `src/api/libmtcp.a`): the folder's CMakeLists.txt names the target.
bool built_here(const fs::path& p) {
    const fs::path cmake = p.parent_path() / "CMakeLists.txt";
    if (!fs::exists(cmake)) return false;
    std::string name = p.filename().string();
    for (const char* suffix : {".a", ".so"})
        if (name.size() > 3 && name.ends_with(suffix)) name.resize(name.size() - std::strlen(suffix));
    if (name.rfind("lib", 0) == 0) name = name.substr(3);
    return slurp(cmake).find(name) != std::string::npos;
}

// A path that starts at one of the tree's top folders, as the documents
// write them: relative to the repository (or, in a link text, to the
// document). Placeholders (<date>, *, {a,b}) end the match.
std::vector<std::string> bad_paths(const fs::path& doc, const std::string& text) {
    std::vector<std::string> bad;
    const std::regex path(
        R"((?:^|[^A-Za-z0-9_./~-])((?:src|include|tests|docs|bench|apps|tools|scripts|deploy|man|cmake|fuzz|examples)/[A-Za-z0-9_./+-]*)([*{<\[]?))");
    const std::regex bare("`([A-Za-z0-9_.+-]+\\.(?:cpp|hpp|h|c|py|sh))`");
    int n = 0;
    for (const auto& line : lines_of(text)) {
        ++n;
        for (std::sregex_iterator m(line.begin(), line.end(), path), e; m != e; ++m) {
            std::string p = (*m)[1];
            const bool pattern = (*m)[2].length() > 0;  // src/x/name.* or name.{hpp,cpp}
            if (!pattern)
                while (!p.empty() && (p.back() == '.' || p.back() == ',' || p.back() == ':'))
                    p.pop_back();
            if (p.find("/foo") != std::string::npos) continue;  // the manual's placeholder backend
            if (fs::exists(root / p) || fs::exists(doc.parent_path() / p)) continue;
            if (pattern && prefix_exists(root / p)) continue;
            if (built_here(root / p)) continue;
            bad.push_back(rel(doc) + ":" + std::to_string(n) + ": no such path: " + p);
        }
        for (std::sregex_iterator m(line.begin(), line.end(), bare), e; m != e; ++m) {
            if (the_tree().basenames.count((*m)[1]) || external_files.count((*m)[1])) continue;
            bad.push_back(rel(doc) + ":" + std::to_string(n) + ": no such file: " + (*m)[1].str());
        }
    }
    return bad;
}

// ---- C API names ------------------------------------------------------------

// `mtcp_x(` or mtcp_x(...): a call, so a public function of include/mtcp.
// Any other mtcp_/mudp_ name (a struct, a header, a macro, a counter
// prefix) must at least exist in the code.
std::vector<std::string> bad_functions(const fs::path& doc, const std::string& text) {
    std::vector<std::string> bad;
    const std::regex name(R"(\b((?:mtcp|mudp)_[a-z0-9_]+)(\s*\()?)");
    const std::regex link_target(R"(\]\([^)]*\))");  // anchors are not names
    int n = 0;
    for (const auto& raw : lines_of(text)) {
        ++n;
        const std::string line = std::regex_replace(raw, link_target, "]");
        for (std::sregex_iterator m(line.begin(), line.end(), name), e; m != e; ++m) {
            const std::string f = (*m)[1];
            const bool call = (*m)[2].matched;
            const bool ok = call ? the_tree().public_functions.count(f) > 0
                                 : the_tree().code_words.count(f) > 0;
            if (!ok)
                bad.push_back(rel(doc) + ":" + std::to_string(n) + ": " +
                              (call ? "no public C function " : "no such name in the code ") + f);
        }
    }
    return bad;
}

// ---- mtcp.conf keys ---------------------------------------------------------

// Names written as `name = value` that are not mtcp.conf keys: Linux
// sysctls, fields of the code and lines of the tools' output that the
// documents quote, and the reference's own "key = value".
const std::set<std::string> not_conf_keys{
    "tcp_tw_reuse", "ip_local_port_range", "somaxconn", "tcp_max_syn_backlog",  // sysctls
    "prefetch_min_flows", "tx_owner", "zero_copy", "sleeping",                  // code
    "packets", "lost", "forwarded",                                             // tool output
    "key",
};

// `key = value` in backticks, and `key = value` lines of code blocks (those
// ending in ';' are C). A name with an underscore, or any name in
// backticks, must be a key the parser accepts.
std::vector<std::string> bad_keys(const fs::path& doc, const std::string& text) {
    std::vector<std::string> bad;
    std::set<std::string> keys;
    for (auto k : mvnf::cfg::known_keys()) keys.insert(std::string(k));
    const std::regex inline_key("`([a-z][a-z0-9_]*) = [^`]");
    const std::regex block_key(R"(^\s*#?\s*([a-z][a-z0-9_]*_[a-z0-9_]*) = [^=])");
    bool fenced = false;
    int n = 0;
    auto check = [&](const std::string& k) {
        if (keys.count(k) || not_conf_keys.count(k)) return;
        bad.push_back(rel(doc) + ":" + std::to_string(n) + ": not an mtcp.conf key: " + k);
    };
    for (const auto& line : lines_of(text)) {
        ++n;
        if (line.rfind("```", 0) == 0) fenced = !fenced;
        for (std::sregex_iterator m(line.begin(), line.end(), inline_key), e; m != e; ++m)
            check((*m)[1]);
        const bool code = fenced || line.rfind("    ", 0) == 0;
        std::smatch m;
        if (code && !line.empty() && line.back() != ';' && std::regex_search(line, m, block_key))
            check(m[1]);
    }
    return bad;
}

// configuration.md's default column, where it is a plain value: a file
// setting the key to it parses to the same configuration as no line.
std::vector<std::string> bad_defaults(const std::string& text) {
    std::vector<std::string> bad;
    const std::string base = "port = shm:doc_test\nip_addr = 10.0.0.1\n";
    auto parse = [](const std::string& t) -> std::optional<mvnf::cfg::config> {
        auto r = mvnf::cfg::parse(t, "doc");
        if (!r) return std::nullopt;
        mvnf::cfg::config c = *r;
        c.notices.clear();
        c.port_line = 0;
        return c;
    };
    const auto defaults = parse(base);
    if (!defaults) return {"the base configuration does not parse"};
    const std::regex row(R"(^\| `([a-z_0-9]+)` \| `?([^|` ]+)`? \|)");
    int n = 0;
    for (const auto& line : lines_of(text)) {
        ++n;
        std::smatch m;
        if (!std::regex_search(line, m, row)) continue;
        const std::string k = m[1], v = m[2];
        if (v == "—" || v == "none" || v[0] == '(' || k == "port" || k == "ip_addr") continue;
        const auto c = parse(base + k + " = " + v + "\n");
        if (!c || !(*c == *defaults))
            bad.push_back("configuration.md:" + std::to_string(n) + ": " + k + " = " + v +
                          " is not the parser's default");
    }
    return bad;
}

// ---- links ------------------------------------------------------------------

// GitHub's heading anchors: lower case, punctuation dropped, spaces to '-';
// a repeated heading gets -1, -2...; <a id=...> anchors too.
std::set<std::string> anchors_of(const std::string& text) {
    std::set<std::string> out;
    std::map<std::string, int> seen;
    const std::regex id(R"re(<a (?:id|name)="([^"]+)")re");
    bool fenced = false;
    for (const auto& line : lines_of(text)) {
        if (line.rfind("```", 0) == 0) fenced = !fenced;
        for (std::sregex_iterator m(line.begin(), line.end(), id), e; m != e; ++m) out.insert((*m)[1]);
        if (fenced || line.empty() || line[0] != '#') continue;
        size_t i = line.find_first_not_of('#');
        if (i == std::string::npos || line[i] != ' ') continue;
        std::string slug;
        for (unsigned char c : line.substr(i + 1)) {
            if (std::isalnum(c)) slug += char(std::tolower(c));
            else if (c == ' ' || c == '-') slug += '-';
            else if (c == '_') slug += '_';
            else if (c >= 0x80) slug += char(c);  // letters of other scripts stay
        }
        // Non-letters outside ASCII (—, ×, ≥, ...) are dropped by GitHub:
        // keep only UTF-8 sequences of letters we write in headings (µ).
        std::string clean;
        for (size_t j = 0; j < slug.size();) {
            const unsigned char c = slug[j];
            if (c < 0x80) {
                clean += slug[j++];
                continue;
            }
            size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            const std::string seq = slug.substr(j, len);
            if (seq == "\xc2\xb5") clean += seq;  // µ
            j += len;
        }
        const int k = seen[clean]++;
        out.insert(k == 0 ? clean : clean + "-" + std::to_string(k));
    }
    return out;
}

std::vector<std::string> bad_links(const fs::path& doc, const std::string& text) {
    std::vector<std::string> bad;
    const std::regex link(R"(\]\(([^)\s]+)\))");
    bool fenced = false;
    int n = 0;
    for (const auto& line : lines_of(text)) {
        ++n;
        if (line.rfind("```", 0) == 0) fenced = !fenced;
        if (fenced) continue;
        for (std::sregex_iterator m(line.begin(), line.end(), link), e; m != e; ++m) {
            const std::string target = (*m)[1];
            if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0 ||
                target.rfind("mailto:", 0) == 0)
                continue;
            const size_t hash = target.find('#');
            const std::string file = target.substr(0, hash);
            const std::string anchor = hash == std::string::npos ? "" : target.substr(hash + 1);
            const fs::path p = file.empty() ? doc : doc.parent_path() / file;
            const std::string where = rel(doc) + ":" + std::to_string(n) + ": ";
            if (!file.empty() && !fs::exists(p)) {
                bad.push_back(where + "broken link " + target);
                continue;
            }
            if (!anchor.empty() && p.extension() == ".md" &&
                !anchors_of(file.empty() ? text : slurp(p)).count(anchor))
                bad.push_back(where + "no anchor #" + anchor + " in " + (file.empty() ? rel(doc) : file));
        }
    }
    return bad;
}

// ---- performance tables -----------------------------------------------------

// Abbreviated commit names: 7 to 40 hex digits with a digit and a letter.
std::vector<std::string> commits_in(const std::string& s) {
    std::vector<std::string> v;
    const std::regex hex(R"(\b[0-9a-f]{7,40}\b)");
    for (std::sregex_iterator m(s.begin(), s.end(), hex), e; m != e; ++m) {
        const std::string h = m->str();
        if (h.find_first_of("0123456789") != std::string::npos &&
            h.find_first_of("abcdef") != std::string::npos)
            v.push_back(h);
    }
    return v;
}

// Every table in a "## " section whose text up to the table names a commit.
std::vector<std::string> tables_without_commit(const std::string& text) {
    std::vector<std::string> bad;
    std::string section_text, heading;
    bool in_table = false, fenced = false;
    int n = 0;
    for (const auto& line : lines_of(text)) {
        ++n;
        if (line.rfind("```", 0) == 0) fenced = !fenced;
        if (!fenced && line.rfind("## ", 0) == 0) {
            section_text.clear();
            heading = line;
        }
        const bool separator = line.find("| ---") != std::string::npos;
        if (separator && !in_table && commits_in(section_text).empty())
            bad.push_back("performance.md:" + std::to_string(n) + ": a table in \"" + heading +
                          "\" names no commit it was measured at");
        in_table = line.find('|') != std::string::npos && (in_table || separator);
        section_text += line + "\n";
    }
    return bad;
}

int run(const std::string& cmd) { return std::system(cmd.c_str()); }

bool is_git_checkout() {
    return run("git -C '" + root.string() + "' rev-parse --git-dir >/dev/null 2>&1") == 0;
}

bool shallow() {
    FILE* p = popen(("git -C '" + root.string() + "' rev-parse --is-shallow-repository 2>/dev/null").c_str(), "r");
    if (!p) return false;
    char buf[16] = {};
    const bool s = fgets(buf, sizeof buf, p) && std::string(buf).rfind("true", 0) == 0;
    pclose(p);
    return s;
}

std::vector<std::string> missing_commits(const std::string& text) {
    std::vector<std::string> bad;
    std::set<std::string> done;
    for (const auto& h : commits_in(text)) {
        if (!done.insert(h).second) continue;
        if (run("git -C '" + root.string() + "' cat-file -e " + h + "^{commit} 2>/dev/null") != 0)
            bad.push_back("performance.md: commit " + h + " is not in git history");
    }
    return bad;
}

// Elsewhere in the documents: a hash written after "commit" or "commits",
// or in parentheses after "tree of".
std::vector<std::string> named_commits(const std::string& text) {
    std::vector<std::string> v;
    const std::regex named(R"((?:[Cc]ommits?|tree of) `?([0-9a-f]{7,40})\b)");
    for (std::sregex_iterator m(text.begin(), text.end(), named), e; m != e; ++m) v.push_back((*m)[1]);
    return v;
}

template <class F>
void expect_clean(F check) {
    for (const auto& doc : documents()) {
        for (const auto& problem : check(doc, slurp(doc))) ADD_FAILURE() << problem;
    }
}

}  // namespace

TEST(DocsTrue, EveryPathAndSourceFileNamedExists) { expect_clean(bad_paths); }

TEST(DocsTrue, EveryCApiNameExists) {
    ASSERT_GE(the_tree().public_functions.size(), 30u);  // the headers were read
    expect_clean(bad_functions);
}

TEST(DocsTrue, EveryConfigKeyNamedIsParsed) { expect_clean(bad_keys); }

TEST(DocsTrue, ConfigurationDefaultsAreTheParserDefaults) {
    for (const auto& p : bad_defaults(slurp(root / "docs" / "configuration.md"))) ADD_FAILURE() << p;
}

TEST(DocsTrue, RelativeLinksAndAnchorsResolve) { expect_clean(bad_links); }

TEST(DocsTrue, PerformanceTablesNameAnExistingCommit) {
    const std::string perf = slurp(root / "docs" / "performance.md");
    for (const auto& p : tables_without_commit(perf)) ADD_FAILURE() << p;
    if (!is_git_checkout()) GTEST_SKIP() << "not a git checkout: commits cannot be looked up";
    if (shallow()) GTEST_SKIP() << "shallow clone: older commits are not here to look up";
    ASSERT_FALSE(commits_in(perf).empty());
    for (const auto& p : missing_commits(perf)) ADD_FAILURE() << p;
}

TEST(DocsTrue, CommitsNamedAnywhereExist) {
    if (!is_git_checkout()) GTEST_SKIP() << "not a git checkout: commits cannot be looked up";
    if (shallow()) GTEST_SKIP() << "shallow clone: older commits are not here to look up";
    size_t named = 0;
    for (const auto& doc : documents()) {
        for (const auto& h : named_commits(slurp(doc))) {
            ++named;
            if (run("git -C '" + root.string() + "' cat-file -e " + h + "^{commit} 2>/dev/null") != 0)
                ADD_FAILURE() << rel(doc) << ": commit " << h << " is not in git history";
        }
    }
    EXPECT_GE(named, 5u);  // the pattern finds the documents' commits at all
}

// Each checker reports a planted error of its kind, and not the same text
// without it.
TEST(DocsTrue, CheckersCatchPlantedErrors) {
    const fs::path doc = root / "docs" / "planted.md";
    EXPECT_TRUE(bad_paths(doc, "see `src/net/tcp/input.cpp` and tests/net/tcp/\n").empty());
    EXPECT_EQ(bad_paths(doc, "see src/net/tcp/no_such_file.cpp\n").size(), 1u);
    EXPECT_EQ(bad_paths(doc, "in `no_such_file.cpp`\n").size(), 1u);

    EXPECT_TRUE(bad_functions(doc, "`mtcp_socket(ctx, ...)` and `struct mtcp_stats`\n").empty());
    EXPECT_EQ(bad_functions(doc, "call `mtcp_no_such_call(ctx)`\n").size(), 1u);
    EXPECT_EQ(bad_functions(doc, "the `mtcp_no_such_struct`\n").size(), 1u);

    EXPECT_TRUE(bad_keys(doc, "set `rcvbuf = 65536`\n\n    max_num_buffers = 10\n").empty());
    EXPECT_EQ(bad_keys(doc, "set `rcvbuff = 65536`\n").size(), 1u);
    EXPECT_EQ(bad_keys(doc, "    max_num_bufers = 10\n").size(), 1u);

    EXPECT_TRUE(bad_defaults("| `rcvbuf` | 65536 | bytes | x |\n").empty());
    EXPECT_EQ(bad_defaults("| `rcvbuf` | 8192 | bytes | x |\n").size(), 1u);

    EXPECT_TRUE(bad_links(doc, "[api](api.md#counters-mtcp_statsh) [me](#a)\n# A\n").empty());
    EXPECT_EQ(bad_links(doc, "[gone](no-such-doc.md)\n").size(), 1u);
    EXPECT_EQ(bad_links(doc, "[gone](api.md#no-such-anchor)\n").size(), 1u);

    const std::string table = "| a | b |\n| --- | --- |\n| 1 | 2 |\n";
    EXPECT_TRUE(tables_without_commit("## Run\n\nBuilt from 957a668.\n\n" + table).empty());
    EXPECT_EQ(tables_without_commit("## Run\n\nBuilt from the tree.\n\n" + table).size(), 1u);
    if (is_git_checkout() && !shallow()) {
        EXPECT_TRUE(missing_commits("built from 957a668").empty());
        EXPECT_EQ(missing_commits("built from 0123abc").size(), 1u);
        EXPECT_EQ(named_commits("recorded with commit `0123abc` here"),
                  std::vector<std::string>{"0123abc"});
    }
}
