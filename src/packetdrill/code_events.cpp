// packetdrill's code events (`%{ assert tcpi_... }%`) read their data with
// the kernel's getsockopt() on the socket's live descriptor (code.c
// get_data: TCP_INFO, TCP_CC_INFO, SO_MEMINFO), not through the interface's
// getsockopt — for our sockets, whose numbers are eventfds (kernel_fd.hpp),
// the kernel answers ENOTSOCK and the script dies "can't find getsockopt to
// get TCP info". When the library is also preloaded into packetdrill
// (LD_PRELOAD, as scripts/packetdrill-run.py does), this getsockopt
// interposes the C library's: on a descriptor of a live host it answers
// from the stack, as the interface's getsockopt does; on anything else it
// is the C library's. Without the preload nothing calls it.
#include <dlfcn.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <vector>

#include "packetdrill/host.hpp"

namespace mvnf::pd {
namespace {

std::mutex g_mu;
std::vector<host*>& hosts() {
    static std::vector<host*> v;
    return v;
}

}  // namespace

void register_host(host* h) {
    std::lock_guard<std::mutex> g(g_mu);
    hosts().push_back(h);
}

void unregister_host(host* h) {
    std::lock_guard<std::mutex> g(g_mu);
    auto& v = hosts();
    v.erase(std::remove(v.begin(), v.end(), h), v.end());
}

}  // namespace mvnf::pd

extern "C" __attribute__((visibility("default"))) int getsockopt(int fd, int level, int name,
                                                                  void* val, socklen_t* len) {
    using namespace mvnf::pd;
    {
        std::lock_guard<std::mutex> g(g_mu);
        for (host* h : hosts()) {
            host::lock lk(h->mutex());
            const long r = h->kernel_getsockopt(fd, level, name, val, len);
            if (r == host::not_ours) continue;
            if (r < 0) {
                errno = int(-r);
                return -1;
            }
            return 0;
        }
    }
    using fn = int (*)(int, int, int, void*, socklen_t*);
    static const fn real = reinterpret_cast<fn>(dlsym(RTLD_NEXT, "getsockopt"));
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    return real(fd, level, name, val, len);
}
