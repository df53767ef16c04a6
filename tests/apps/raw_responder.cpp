// mvnf_raw_responder: a test server for mvnf-wget over the mTCP build, built
// on the apps' socket layer (net_io.hpp, so the public C API). For every
// request "GET /NAME" it writes the file DIR/NAME byte for byte — a complete,
// hand-made HTTP response (chunked, malformed, truncated ...) — and its first
// 1 KiB in slices of 1..13 bytes, one slice per stack loop turn, so the
// framing reaches the client cut at many places. Used by apps_test.py.
//
//   mvnf_raw_responder -f mtcp.conf -D DIR [-N cores] [-p PORT] [-d SECONDS]
//
// With -N, every core listens and serves on its own (an shm link needs the
// same number of queues, so cores, at both ends).
//
// After the response it closes the connection when the request said
// "Connection: close" or NAME ends in ".close". Prints "listening" once ready
// and a JSON line {connections, requests} when it stops (SIGTERM or -d).
#include <arpa/inet.h>
#include <dirent.h>
#include <getopt.h>

#include <atomic>
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

std::map<std::string, std::string> g_files;
const std::string g_not_found = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
std::atomic<uint64_t> g_connections{0}, g_requests{0};
std::atomic<int> g_ready{0}, g_failed{0};

void serve(int core, int cores, uint16_t port, uint64_t deadline) {
    std::string err;
    io n;
    int ls = -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (!n.open(core, err) || (ls = n.tcp_socket()) < 0 || n.bind(ls, a) < 0 ||
        n.listen(ls, 128) < 0 || n.ep_add(ls, ev_in, ~0ull) < 0) {
        fprintf(stderr, "core %d: listen: %s %s\n", core, err.c_str(), strerror(errno));
        g_failed++;
        request_stop();
        return;
    }
    if (++g_ready == cores) {
        printf("listening on port %u, %zu responses, %d core(s)\n", port, g_files.size(), cores);
        fflush(stdout);
    }
    std::unordered_map<int, conn> conns;
    auto drop = [&](int s) {
        n.ep_del(s);
        n.close(s);
        conns.erase(s);
    };
    event evs[64];
    while (!stop_requested() && now_ns() < deadline) {
        bool writing = false;
        for (auto& [s, c] : conns) writing |= c.out != nullptr;
        const int k = n.ep_wait(evs, 64, writing ? 0 : 20);
        for (int i = 0; i < k; i++) {
            if (evs[i].data == ~0ull) {
                for (int s; (s = n.accept(ls)) >= 0; g_connections++) {
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
                g_requests++;
                std::string name;
                if (head.rfind("GET /", 0) == 0) name = head.substr(5, head.find(' ', 5) - 5);
                auto f = g_files.find(name);
                c.out = f == g_files.end() ? &g_not_found : &f->second;
                c.sent = c.slice = 0;
                std::string low = head;
                for (auto& ch : low) ch = char(tolower(uint8_t(ch)));
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

}  // namespace

int main(int argc, char** argv) {
    std::string conf, dir, err;
    uint64_t port = 8080, cores = 1;
    double secs = 30;
    int ch;
    while ((ch = getopt(argc, argv, "f:D:N:p:d:")) != -1) {
        if (ch == 'f')
            conf = optarg;
        else if (ch == 'D')
            dir = optarg;
        else if (ch == 'N' && parse_u64(optarg, 1, 64, "-N", cores, err))
            continue;
        else if (ch == 'p' && parse_u64(optarg, 1, 65535, "-p", port, err))
            continue;
        else if (ch == 'd' && parse_double(optarg, 0.1, 600, "-d", secs, err))
            continue;
        else {
            fprintf(
                stderr,
                "usage: mvnf_raw_responder -f CONF -D DIR [-N CORES] [-p PORT] [-d SECONDS] %s\n",
                err.c_str());
            return 2;
        }
    }
    g_files = load_dir(dir);
    install_stop_signals();
    if (!stack_init(conf, int(cores), err)) {
        fprintf(stderr, "%s\n", err.c_str());
        return 1;
    }
    const uint64_t deadline = now_ns() + uint64_t(secs * 1e9);
    run_cores(
        int(cores), [&](int core) { serve(core, int(cores), uint16_t(port), deadline); },
        [](double) {});
    stack_shutdown();
    if (g_failed) return 1;
    printf("{\"connections\":%llu,\"requests\":%llu}\n", (unsigned long long)g_connections.load(),
           (unsigned long long)g_requests.load());
    return 0;
}
