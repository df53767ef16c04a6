// The interrupt of the fd-based backends (afpacket, afxdp, tap, netmap): one
// eventfd per queue that wait() polls next to the queue's data fd.
//
//   interrupt() ──write(1)──► eventfd ──POLLIN──► ppoll({data fd, eventfd})
//                                                   └─► read() drains it
//
// The eventfd's counter is the pending interrupt: it stays readable until a
// wait() reads it, so an interrupt() that lands while nobody waits ends the
// next wait at once, and several interrupts before one wait are drained by a
// single read. Only wait() and interrupt() touch it: the data path (bursts,
// flush) makes no syscall for it, and a wait that nothing interrupted makes
// none either (the read happens only when ppoll reports the eventfd).
#pragma once

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>

#include "netio/error.hpp"

namespace mvnf::netio {

class wake_fd {
  public:
    // `who` names the port for the error (fd limit reached and the like).
    static result<wake_fd> open(const std::string& who) {
        int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0)
            return fail(error{errc::system,
                              who + ": eventfd for queue interrupts: " + std::strerror(errno)});
        return wake_fd(fd);
    }

    wake_fd() = default;
    wake_fd(wake_fd&& o) noexcept : _fd(o._fd) { o._fd = -1; }
    wake_fd& operator=(wake_fd&& o) noexcept {
        if (this != &o) {
            close();
            _fd = o._fd;
            o._fd = -1;
        }
        return *this;
    }
    wake_fd(const wake_fd&) = delete;
    wake_fd& operator=(const wake_fd&) = delete;
    ~wake_fd() { close(); }

    bool valid() const { return _fd >= 0; }
    int fd() const { return _fd; }

    // Any thread, any time. EAGAIN means the counter is at its maximum, so
    // the fd is readable already; nothing is lost.
    void signal() const noexcept {
        const uint64_t one = 1;
        ssize_t r;
        do r = ::write(_fd, &one, sizeof one);
        while (r < 0 && errno == EINTR);
    }

    // Blocks in ppoll() on `data_fd` (for `events`) and this eventfd until one
    // is ready or timeout_ns passes (< 0: forever; 0 polls the data fd only, so
    // a pending interrupt stays for the next real wait, as on shm). Returns
    // data_fd's revents: 0 after a timeout or an interrupt alone. A fired
    // eventfd is drained here. A data_fd < 0 is ignored by ppoll (tests).
    short poll(int data_fd, short events, int64_t timeout_ns) const noexcept {
        pollfd p[2] = {{data_fd, events, 0}, {_fd, POLLIN, 0}};
        timespec ts{}, *tsp = nullptr;
        if (timeout_ns >= 0) {
            ts.tv_sec = time_t(timeout_ns / 1'000'000'000);
            ts.tv_nsec = long(timeout_ns % 1'000'000'000);
            tsp = &ts;
        }
        const nfds_t n = timeout_ns == 0 || _fd < 0 ? 1 : 2;
        if (::ppoll(p, n, tsp, nullptr) <= 0) return 0;  // timeout, or EINTR: a spurious end
        if (n == 2 && (p[1].revents & POLLIN)) {
            uint64_t v;
            (void)::read(_fd, &v, sizeof v);  // EAGAIN: another read won the race
        }
        return p[0].revents;
    }

  private:
    explicit wake_fd(int fd) : _fd(fd) {}
    void close() {
        if (_fd >= 0) ::close(_fd);
        _fd = -1;
    }
    int _fd = -1;
};

}  // namespace mvnf::netio
