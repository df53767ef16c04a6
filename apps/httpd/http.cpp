// Implementation of http.hpp: file preloading, request parsing (RFC 9112
// request line and header fields; Connection per RFC 9112 §9.3) and response
// heads with a Date cached per second.
#include "http.hpp"

#include <cctype>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mvnf::httpd {

namespace fs = std::filesystem;

bool file_store::load(const std::string& dir, uint64_t max_bytes, std::string& err) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        err = "www directory '" + dir + "' does not exist or is not a directory";
        return false;
    }
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
        err = "cannot read '" + dir + "': " + ec.message();
        return false;
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) {
            err = "cannot read '" + dir + "': " + ec.message();
            return false;
        }
        if (!it->is_regular_file(ec)) continue;
        std::ifstream in(it->path(), std::ios::binary);
        if (!in) continue;  // unreadable files are simply not served
        std::ostringstream ss;
        ss << in.rdbuf();
        file_entry e{ss.str(), content_type(it->path().filename().string())};
        _bytes += e.body.size();
        if (_bytes > max_bytes) {
            err = "files under '" + dir + "' exceed the preload limit of " +
                  std::to_string(max_bytes >> 20) + " MiB";
            return false;
        }
        std::string rel = "/" + fs::relative(it->path(), dir, ec).generic_string();
        _files.emplace(std::move(rel), std::move(e));
    }
    return true;
}

const file_entry* file_store::find(std::string_view target) const {
    auto q = target.find_first_of("?#");
    if (q != std::string_view::npos) target = target.substr(0, q);
    if (target.empty() || target[0] != '/') return nullptr;
    if (target.find("/../") != std::string_view::npos || target.ends_with("/..")) return nullptr;
    std::string key(target);
    if (key.back() == '/') key += "index.html";
    auto it = _files.find(key);
    return it == _files.end() ? nullptr : &it->second;
}

const char* content_type(std::string_view p) {
    auto dot = p.rfind('.');
    std::string ext = dot == std::string_view::npos ? "" : std::string(p.substr(dot + 1));
    for (auto& c : ext) c = char(tolower(uint8_t(c)));
    static const std::pair<const char*, const char*> types[] = {
        {"html", "text/html"},         {"htm", "text/html"},       {"css", "text/css"},
        {"js", "text/javascript"},     {"json", "application/json"}, {"txt", "text/plain"},
        {"png", "image/png"},          {"jpg", "image/jpeg"},      {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},          {"svg", "image/svg+xml"},   {"ico", "image/x-icon"},
        {"pdf", "application/pdf"},    {"xml", "application/xml"}, {"wasm", "application/wasm"},
        {"mp4", "video/mp4"},          {"webp", "image/webp"},
    };
    for (auto& [e, t] : types)
        if (ext == e) return t;
    return "application/octet-stream";
}

static bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); i++)
        if (tolower(uint8_t(a[i])) != tolower(uint8_t(b[i]))) return false;
    return true;
}

static std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// True when the comma-separated list `v` contains token `t` (case-insensitive).
static bool has_token(std::string_view v, std::string_view t) {
    while (!v.empty()) {
        auto c = v.find(',');
        if (iequals(trim(v.substr(0, c)), t)) return true;
        if (c == std::string_view::npos) break;
        v.remove_prefix(c + 1);
    }
    return false;
}

parse_status parse_request(std::string_view buf, size_t max_head, request& r) {
    // Tolerate leading empty lines (RFC 9112 §2.2).
    size_t skip = 0;
    while (skip < buf.size() && (buf[skip] == '\r' || buf[skip] == '\n')) skip++;
    auto end = buf.find("\r\n\r\n", skip);
    if (end == std::string_view::npos) {
        return buf.size() > max_head ? parse_status::too_large : parse_status::incomplete;
    }
    if (end + 4 > max_head) return parse_status::too_large;
    r = request{};
    r.head_len = end + 4;
    std::string_view head = buf.substr(skip, end - skip);
    auto eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    auto sp1 = line.find(' ');
    auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp1 == 0 || sp2 == std::string_view::npos || sp2 == sp1 + 1) return parse_status::bad;
    r.method = line.substr(0, sp1);
    r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view ver = line.substr(sp2 + 1);
    if (ver.size() != 8 || !ver.starts_with("HTTP/1.") || !isdigit(uint8_t(ver[7])))
        return parse_status::bad;
    r.minor = ver[7] - '0';
    bool ka = r.minor >= 1, close = false, keep = false;
    while (eol != std::string_view::npos) {
        head.remove_prefix(eol + 2);
        eol = head.find("\r\n");
        std::string_view h = head.substr(0, eol);
        auto colon = h.find(':');
        if (colon == std::string_view::npos || colon == 0) return parse_status::bad;
        std::string_view name = h.substr(0, colon), value = trim(h.substr(colon + 1));
        if (iequals(name, "connection")) {
            close |= has_token(value, "close");
            keep |= has_token(value, "keep-alive");
        } else if (iequals(name, "content-length")) {
            if (value != "0") return parse_status::bad;
        } else if (iequals(name, "transfer-encoding")) {
            return parse_status::bad;
        }
    }
    r.keep_alive = close ? false : (keep ? true : ka);
    return parse_status::ok;
}

const char* reason(int status) {
    switch (status) {
        case 200: return "OK";
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 431: return "Request Header Fields Too Large";
        case 505: return "HTTP Version Not Supported";
        default: return "Error";
    }
}

static const char* date_now() {
    thread_local time_t cached = 0;
    thread_local char buf[64];
    time_t t = time(nullptr);
    if (t != cached) {
        cached = t;
        tm g;
        gmtime_r(&t, &g);
        strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &g);
    }
    return buf;
}

std::string response_head(int minor, int status, uint64_t content_length, std::string_view type,
                          bool keep_alive) {
    char buf[512];
    int n = snprintf(buf, sizeof buf,
                     "HTTP/1.%d %d %s\r\nServer: mvnf-httpd\r\nDate: %s\r\n"
                     "Content-Length: %llu\r\nContent-Type: %.*s\r\nConnection: %s\r\n\r\n",
                     minor >= 1 ? 1 : 0, status, reason(status), date_now(),
                     (unsigned long long)content_length, int(type.size()), type.data(),
                     keep_alive ? "keep-alive" : "close");
    return std::string(buf, size_t(n));
}

}  // namespace mvnf::httpd
