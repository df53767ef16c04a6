/* Helpers for the mTCP-compatibility tests: C programs that use the library
 * as an mTCP application does (mtcp_init with a file, contexts, epoll), one
 * ctest per case (`compat_* CASE`). Each case writes its own files under a
 * fresh temporary directory and joins its processes over a private shm link.
 * Exit codes: 0 pass, 1 fail (the failed check is printed), 77 skip. */
#ifndef MVNF_TEST_COMPAT_H
#define MVNF_TEST_COMPAT_H

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mtcp/mtcp_api.h>
#include <mtcp/mtcp_epoll.h>

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: check failed: %s (errno %d: %s)\n", __FILE__,     \
                    __LINE__, #cond, errno, strerror(errno));                         \
            return 1;                                                                 \
        }                                                                             \
    } while (0)

#define COMPAT_SKIP 77

static char compat_dir[256];

/* A fresh directory for this case's files (mkdtemp). */
static inline int compat_mkdir(void) {
    snprintf(compat_dir, sizeof compat_dir, "/tmp/mtcp_compat_XXXXXX");
    return mkdtemp(compat_dir) != NULL;
}

/* Writes compat_dir/NAME (printf-style body); returns the path in out. */
static inline int compat_write(char *out, size_t outlen, const char *name, const char *fmt, ...) {
    snprintf(out, outlen, "%s/%s", compat_dir, name);
    FILE *f = fopen(out, "w");
    if (!f) return 0;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    return fclose(f) == 0;
}

/* ctest runs some cases again with the stack on its own thread. */
static inline const char *compat_thread_mode(void) {
    const char *t = getenv("MTCP_TEST_THREAD_MODE");
    return t && *t == '1' ? "thread_mode = thread\n" : "";
}

static inline struct sockaddr_in compat_addr(const char *ip, uint16_t port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

/* Waits for a forked process; its exit code, or -1 if it did not exit. */
static inline int compat_wait(pid_t pid) {
    int st = 0;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
