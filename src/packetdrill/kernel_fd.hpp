// pd::kernel_fd: a real kernel descriptor number for each socket of the
// library. packetdrill, at the end of a script, closes every socket the
// script left open with the kernel's close() on its live descriptor (run.c
// close_all_fds -> socket.c socket_close, which dies if close() fails), not
// through the interface's close. So each socket's number must be one the
// kernel knows: an eventfd duplicated to the lowest free number >= base.
// The eventfd's first descriptor stays with us as an anchor, so we can tell
// later (kcmp) whether the number handed out still refers to our file or was
// closed behind our back — and then perhaps reused by someone else, whose
// file we must not close.
#pragma once

namespace mvnf::pd {

struct kernel_fd {
    int fd = -1;      // the number handed out (>= base when the limit allows)
    int anchor = -1;  // our own reference to the same eventfd

    // Opens one: returns -errno on failure (EMFILE, ENFILE, ENOMEM).
    static long open(int base, kernel_fd& out);
    // Whether `fd` still refers to our eventfd (true when kcmp is not
    // available: then the number is assumed ours).
    bool still_ours() const;
    // Closes the handed-out number if it is still ours, and the anchor.
    void release();
};

}  // namespace mvnf::pd
