// pd::kernel_fd (see kernel_fd.hpp): eventfd + F_DUPFD + kcmp.
#include "packetdrill/kernel_fd.hpp"

#include <cerrno>

#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace mvnf::pd {

long kernel_fd::open(int base, kernel_fd& out) {
    const int a = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (a < 0) return -errno;
    // At the base when RLIMIT_NOFILE allows it (F_DUPFD fails EINVAL past
    // the limit, EMFILE when nothing is free up there); else anywhere.
    int f = ::fcntl(a, F_DUPFD_CLOEXEC, base);
    if (f < 0) f = ::fcntl(a, F_DUPFD_CLOEXEC, 0);
    if (f < 0) {
        const int e = errno;
        ::close(a);
        return -e;
    }
    out.fd = f;
    out.anchor = a;
    return f;
}

bool kernel_fd::still_ours() const {
    if (fd < 0 || anchor < 0) return false;
    const pid_t p = ::getpid();
    const long r = ::syscall(SYS_kcmp, p, p, KCMP_FILE, fd, anchor);
    if (r == 0) return true;
    if (r > 0) return false;  // another file now has the number
    // EBADF: nothing has the number any more; ENOSYS/EPERM (no kcmp in
    // this kernel or sandbox): assume it is still ours.
    return errno != EBADF;
}

void kernel_fd::release() {
    if (still_ours()) ::close(fd);
    if (anchor >= 0) ::close(anchor);
    fd = anchor = -1;
}

}  // namespace mvnf::pd
