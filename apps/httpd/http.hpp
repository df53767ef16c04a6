// HTTP/1.x pieces of mvnf-httpd, free of any socket: the preloaded file store
// (path -> body and Content-Type), the request-head parser and the response
// head builder. Unit-testable; used by httpd.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mvnf::httpd {

struct file_entry {
    std::string body;
    std::string type;
};

class file_store {
public:
    // Loads every regular file under dir (recursively) into memory; false with
    // err set when dir is unreadable or holds more than max_bytes.
    bool load(const std::string& dir, uint64_t max_bytes, std::string& err);
    // "/a/b.html" -> entry; "/" and "/dir/" map to index.html. Null: 404.
    const file_entry* find(std::string_view target) const;
    size_t size() const { return _files.size(); }
    uint64_t bytes() const { return _bytes; }

private:
    std::unordered_map<std::string, file_entry> _files;
    uint64_t _bytes = 0;
};

// Content-Type by file extension (text/html, image/png, ...).
const char* content_type(std::string_view path);

enum class parse_status { incomplete, ok, bad, too_large };

struct request {
    std::string_view method, target;
    int minor = 1;            // HTTP/1.minor
    bool keep_alive = true;   // after the version default and Connection:
    size_t head_len = 0;      // bytes of the head, including the blank line
};

// Parses one request head at the start of buf. Bodies are not supported
// (GET/HEAD only): a request with Content-Length > 0 is `bad`.
parse_status parse_request(std::string_view buf, size_t max_head, request& r);

// Status line and headers (ends with the blank line).
std::string response_head(int minor, int status, uint64_t content_length, std::string_view type,
                          bool keep_alive);
const char* reason(int status);

}  // namespace mvnf::httpd
