// mvnf_raw_responder: a test server for mvnf-wget over the mTCP build, built
// on the apps' socket layer (net_io.hpp, so the public C API). For every
// request "GET /NAME" it writes the file DIR/NAME byte for byte — a complete,
// hand-made HTTP response (chunked, malformed, truncated ...) — and its first
// 1 KiB in slices of 1..13 bytes, one slice per stack loop turn, so the
// framing reaches the client cut at many places. Used by apps_test.py.
//
//   mvnf_raw_responder -f mtcp.conf --dir DIR [--port P] [-d SECONDS]
//
// After the response it closes the connection when the request said
// "Connection: close" or NAME ends in ".close". Prints "listening" once ready
// and a JSON line {connections, requests} when it stops (SIGTERM or -d).
#include <arpa/inet.h>
#include <dirent.h>
#include <getopt.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "app_util.hpp"
#include "net_io.hpp"

using namespace mvnf::app;

namespace {

constexpr size_t sliced_prefix = 1024;

struct conn {
    std::string in;            // request bytes not yet answered
    const std::string* out{};  // response being written
    size_t sent = 0, slice = 0;
    bool close_after = false, eof = false;
};

std::map<std::string, std::string> load_dir(const std::string& dir) {
    std::map<std::string, std::string> files;
    if (DIR* d = opendir(dir.c_str())) {
        while (dirent* e = readdir(d)) {
            if (e->d_name[0] == '.') continue;
            std::ifstream f(dir + "/" + e->d_name, std::ios::binary);
            std::stringstream ss;
            ss << f.rdbuf();
            files[e->d_name] = ss.str();
        }
        closedir(d);
    }
    return files;
}

}  // namespace

int main(int argc, char** argv) {
    std::string conf, dir, err;
    uint64_t port = 8080;
    double secs = 30;
    int ch;
    while ((ch = getopt(argc, argv, "f:D:p:d:")) != -1) {
        if (ch == 'f')
            conf = optarg;
        else if (ch == 'D')
            dir = optarg;
        else if (ch == 'p' && parse_u64(optarg, 1, 65535, "-p", port, err))
            continue;
        else if (ch == 'd' && parse_double(optarg, 0.1, 600, "-d", secs, err))
            continue;
        else {
            fprintf(stderr, "usage: mvnf_raw_responder -f CONF -D DIR [-p PORT] [-d SECONDS] %s\n",
                    err.c_str());
            return 2;
        }
    }
    const auto files = load_dir(dir);
    const std::string not_found = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    install_stop_signals();
    if (!stack_init(conf, 1, err)) {
        fprintf(stderr, "%s\n", err.c_str());
        return 1;
    }
    uint64_t connections = 0, requests = 0;
    {
        io n;
        if (!n.open(0, err)) return fprintf(stderr, "%s\n", err.c_str()), 1;
        int ls = n.tcp_socket();
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(uint16_t(port));
        if (ls < 0 || n.bind(ls, a) < 0 || n.listen(ls, 128) < 0 || n.ep_add(ls, ev_in, ~0ull) < 0)
            return fprintf(stderr, "listen: %s\n", strerror(errno)), 1;
        printf("listening on port %llu, %zu responses\n", (unsigned long long)port, files.size());
        fflush(stdout);
        std::unordered_map<int, conn> conns;
        auto drop = [&](int s) {
            n.ep_del(s);
            n.close(s);
            conns.erase(s);
        };
        const uint64_t deadline = now_ns() + uint64_t(secs * 1e9);
        event evs[64];
        while (!stop_requested() && now_ns() < deadline) {
            bool writing = false;
            for (auto& [s, c] : conns) writing |= c.out != nullptr;
            const int k = n.ep_wait(evs, 64, writing ? 0 : 20);
            for (int i = 0; i < k; i++) {
                if (evs[i].data == ~0ull) {
                    for (int s; (s = n.accept(ls)) >= 0; connections++) {
                        n.ep_add(s, ev_in, uint64_t(s));
                        conns[s] = conn{};
                    }
                    continue;
                }
                auto it = conns.find(int(evs[i].data));
                if (it == conns.end()) continue;
                char buf[4096];
                for (;;) {
                    const ssize_t r = n.read(it->first, buf, sizeof buf);
                    if (r > 0) {
                        it->second.in.append(buf, size_t(r));
                        continue;
                    }
                    if (r == 0 || errno != EAGAIN) it->second.eof = true;
                    break;
                }
            }
            // One step per connection per loop turn: start the next response,
            // or write its next slice.
            std::vector<int> done;
            for (auto& [s, c] : conns) {
                if (!c.out) {
                    const size_t end = c.in.find("\r\n\r\n");
                    if (end == std::string::npos) {
                        if (c.eof) done.push_back(s);
                        continue;
                    }
                    const std::string head = c.in.substr(0, end);
                    c.in.erase(0, end + 4);
                    requests++;
                    std::string name;
                    if (head.rfind("GET /", 0) == 0) name = head.substr(5, head.find(' ', 5) - 5);
                    auto f = files.find(name);
                    c.out = f == files.end() ? &not_found : &f->second;
                    c.sent = c.slice = 0;
                    std::string low = head;
                    for (auto& ch2 : low) ch2 = char(tolower(uint8_t(ch2)));
                    c.close_after = low.find("connection: close") != std::string::npos ||
                                    (name.size() > 6 && name.substr(name.size() - 6) == ".close");
                }
                size_t len = c.out->size() - c.sent;
                if (c.sent < sliced_prefix) len = std::min(len, 1 + c.slice++ % 13);
                const ssize_t w = n.write(s, c.out->data() + c.sent, len);
                if (w < 0 && errno != EAGAIN) {
                    done.push_back(s);
                    continue;
                }
                if (w > 0) c.sent += size_t(w);
                if (c.sent == c.out->size()) {
                    c.out = nullptr;
                    if (c.close_after || c.eof) done.push_back(s);
                }
            }
            for (int s : done) drop(s);
        }
        for (auto& [s, c] : conns) n.close(s);
        n.close(ls);
    }
    stack_shutdown();
    printf("{\"connections\":%llu,\"requests\":%llu}\n", (unsigned long long)connections,
           (unsigned long long)requests);
    return 0;
}
