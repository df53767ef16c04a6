/* mTCP-compatibility cases about configuration: mtcp_setconf after
 * mtcp_init (mTCP's epwget sizes its pools that way), a context too big for
 * memory failing with ENOMEM instead of aborting, mTCP's sample files, and
 * config/arp.conf + config/route.conf read from the working directory.
 * Usage: compat_conf CASE */
#include <sys/resource.h>

#include "compat.h"

/* mTCP's epwget: mtcp_init, then getconf/setconf to size the pools for its
 * concurrency, then contexts. The table holds max_concurrency + 64 +
 * max_listeners ids, so 150 sockets need the new value. */
static int setconf_after_init(void) {
    char conf[512];
    CHECK(compat_write(conf, sizeof conf, "mtcp.conf",
                       "port = shm:compat_setconf_%d\nip_addr = 10.77.0.1\n"
                       "max_concurrency = 16\n%s",
                       (int)getpid(), compat_thread_mode()));
    CHECK(mtcp_init(conf) == 0);
    struct mtcp_conf mc;
    CHECK(mtcp_getconf(&mc) == 0 && mc.max_concurrency == 16);
    mc.max_concurrency = 200;
    mc.max_num_buffers = 200;
    CHECK(mtcp_setconf(&mc) == 0);
    struct mtcp_conf back;
    CHECK(mtcp_getconf(&back) == 0 && back.max_concurrency == 200 &&
          back.max_num_buffers == 200);
    /* More cores than the port was opened with cannot be had after init. */
    struct mtcp_conf more = back;
    more.num_cores = 2;
    errno = 0;
    CHECK(mtcp_setconf(&more) == -1 && errno == EINVAL);
    /* Out of the file's range: refused, nothing changed. */
    struct mtcp_conf bad = back;
    bad.max_concurrency = 0;
    CHECK(mtcp_setconf(&bad) == -1 && errno == EINVAL);
    CHECK(mtcp_getconf(&back) == 0 && back.max_concurrency == 200);

    mctx_t ctx = mtcp_create_context(0);
    CHECK(ctx != NULL);
    int n = 0;
    for (; n < 150; ++n)
        if (mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0) < 0) break;
    CHECK(n == 150);
    mtcp_destroy_context(ctx);
    mtcp_destroy();
    return 0;
}

/* Returns the process's current virtual size in bytes (/proc/self/statm). */
static unsigned long long vm_size(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long pages = 0;
    if (f) {
        if (fscanf(f, "%llu", &pages) != 1) pages = 0;
        fclose(f);
    }
    return pages * (unsigned long long)sysconf(_SC_PAGESIZE);
}

/* A config whose pools do not fit: mtcp_create_context returns NULL with
 * ENOMEM (before, std::bad_alloc escaped through the C API and aborted).
 * The address space is capped so the failure is certain and cheap; a
 * sanitizer's shadow memory cannot live under such a cap, so those builds
 * skip. Afterwards a smaller setconf makes the same core's context work. */
static int enomem(void) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    fprintf(stderr, "skipped: the address-space cap cannot be used under a sanitizer\n");
    return COMPAT_SKIP;
#else
    char conf[512];
    CHECK(compat_write(conf, sizeof conf, "mtcp.conf",
                       "port = shm:compat_enomem_%d\nip_addr = 10.77.0.1\n"
                       "max_concurrency = 4194304\nmax_num_buffers = 4194304\n%s",
                       (int)getpid(), compat_thread_mode()));
    CHECK(mtcp_init(conf) == 0);
    struct rlimit old;
    CHECK(getrlimit(RLIMIT_AS, &old) == 0);
    struct rlimit cap = old;
    cap.rlim_cur = (rlim_t)(vm_size() + (512ull << 20));
    CHECK(setrlimit(RLIMIT_AS, &cap) == 0);
    errno = 0;
    mctx_t ctx = mtcp_create_context(0);
    const int e = errno;
    CHECK(setrlimit(RLIMIT_AS, &old) == 0);
    errno = e;
    CHECK(ctx == NULL && e == ENOMEM);

    struct mtcp_conf mc;
    CHECK(mtcp_getconf(&mc) == 0);
    mc.max_concurrency = 64;
    mc.max_num_buffers = 64;
    CHECK(mtcp_setconf(&mc) == 0);
    ctx = mtcp_create_context(0);
    CHECK(ctx != NULL);
    CHECK(mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0) >= 0);
    mtcp_destroy_context(ctx);
    mtcp_destroy();
    return 0;
#endif
}

int main(int argc, char **argv) {
    if (argc != 2 || !compat_mkdir()) return 2;
    alarm(30);
    if (!strcmp(argv[1], "setconf_after_init")) return setconf_after_init();
    if (!strcmp(argv[1], "enomem")) return enomem();
    fprintf(stderr, "unknown case %s\n", argv[1]);
    return 2;
}
