/* mTCP-compatibility cases about configuration: mtcp_setconf after
 * mtcp_init (mTCP's epwget sizes its pools that way), a context too big for
 * memory failing with ENOMEM instead of aborting, mTCP's sample files, and
 * config/arp.conf + config/route.conf read from the working directory.
 * Usage: compat_conf CASE */
#define _GNU_SOURCE
#include <sched.h>
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

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
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
#endif

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

/* Runs mtcp_init(conf) with stderr captured into `out`; returns its result
 * and leaves errno as mtcp_init set it. */
static int init_captured(const char *conf, char *out, size_t len) {
    char path[512];
    snprintf(path, sizeof path, "%s/stderr.txt", compat_dir);
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(path, "w+");
    if (saved < 0 || !f) return -2;
    dup2(fileno(f), 2);
    int rc = mtcp_init(conf);
    int e = errno;
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(f);
    size_t n = fread(out, 1, len - 1, f);
    out[n] = 0;
    fclose(f);
    fputs(out, stderr);  /* still shown in the test's log */
    errno = e;
    return rc;
}

/* mTCP's sample epserver.conf, verbatim but for `port` (and `ip_addr`, which
 * an shm link cannot take from the kernel): every mTCP key loads; those with
 * no effect here say so in one line each, naming file and line. */
static const char *sample_conf =
    "############### mtcp configuration file ###############\n"
    "# The underlying I/O module you want to use. Please\n"
    "# enable only one out of the two.\n"
    "#io = psio\n"
    "#io = netmap\n"
    "#io = onvm\n"
    "io = dpdk\n"                                   /* line 7 */
    "# No. of cores setting\n"
    "#num_cores = 8\n"
    "# Number of memory channels per processor socket (dpdk-only)\n"
    "num_mem_ch = 4\n"                              /* line 11 */
    "#------ DPDK ports -------#\n"
    "port = %s\n"                                   /* line 13 */
    "#port = dpdk0 dpdk1\n"
    "# Enable multi-process support\n"
    "multiprocess = 0 master\n"                     /* line 16 */
    "# Receive buffer size of sockets; if not set: rcvbuf = sndbuf\n"
    "rcvbuf = 8192\n"
    "# Send buffer size of sockets; if not set: sndbuf = rcvbuf\n"
    "sndbuf = 8192\n"
    "#max_concurrency = 10000\n"
    "#max_num_buffers = 10000\n"
    "# TCP timeout seconds\n"
    "# (tcp_timeout = -1 can disable the timeout check)\n"
    "tcp_timeout = 30\n"
    "# TCP timewait seconds\n"
    "tcp_timewait = 0\n"
    "# Interface to print stats (please separate the interfaces with a comma)\n"
    "stat_print = dpdk0\n"                          /* line 29 */
    "cc = cubic\n"                                  /* line 30 */
    "onvm_serv = 1\n"
    "%s";

static int mtcp_sample_conf(void) {
    char conf[512], err[8192], port[128], want[600];
    snprintf(port, sizeof port, "shm:compat_sample_%d", (int)getpid());
    CHECK(compat_write(conf, sizeof conf, "epserver.conf", sample_conf, port,
                       "ip_addr = 10.77.0.1\n"));
    CHECK(init_captured(conf, err, sizeof err) == 0);
    const char *expect[] = {":7: io = dpdk", ":11: num_mem_ch: no effect here",
                            ":16: multiprocess: no effect here",
                            ":29: stat_print: 'dpdk0' is not a configured port",
                            ":30: cc = cubic taken as congestion_control", ":31: onvm_serv"};
    for (size_t i = 0; i < sizeof expect / sizeof *expect; ++i) {
        snprintf(want, sizeof want, "%s%s", conf, expect[i]);
        if (!strstr(err, want)) fprintf(stderr, "missing notice: %s\n", want);
        CHECK(strstr(err, want) != NULL);
    }
    mctx_t ctx = mtcp_create_context(0);
    CHECK(ctx != NULL);
    mtcp_destroy_context(ctx);
    mtcp_destroy();

    /* The unchanged port line: a bare name under io = dpdk has no backend
     * here; the rejection names the file and the line. */
    CHECK(compat_write(conf, sizeof conf, "epserver.conf", sample_conf, "dpdk0", ""));
    errno = 0;
    CHECK(init_captured(conf, err, sizeof err) == -1 && errno == EINVAL);
    snprintf(want, sizeof want, "%s:13: port 'dpdk0' has no backend prefix", conf);
    CHECK(strstr(err, want) != NULL);
    /* A value no one accepts is still an error with file:line. */
    CHECK(compat_write(conf, sizeof conf, "bad.conf", "port = shm:x\nio = dpdkk\n"));
    CHECK(init_captured(conf, err, sizeof err) == -1 && errno == EINVAL);
    snprintf(want, sizeof want, "%s:2: io: unknown io backend 'dpdkk'", conf);
    CHECK(strstr(err, want) != NULL);
    return 0;
}

/* No ip_addr and a port on a kernel interface: the kernel's address on it
 * is ours (as mTCP takes its ports' addresses). The interface is one end of
 * a veth pair in a network namespace of this process alone (root: skipped
 * without); nothing is sent. */
static int ip_from_interface(void) {
    if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) {
        fprintf(stderr, "skipped: needs root for a private network namespace\n");
        return COMPAT_SKIP;
    }
    if (system("ip link add mvnfa type veth peer name mvnfb && ip addr add 10.99.0.7/24 dev mvnfa"
               " && ip link set mvnfa up && ip link set mvnfb up") != 0) {
        fprintf(stderr, "skipped: cannot create a veth pair\n");
        return COMPAT_SKIP;
    }
    char conf[512], err[8192];
    CHECK(compat_write(conf, sizeof conf, "mtcp.conf",
                       "port = afpacket:mvnfa\nmax_concurrency = 16\n%s", compat_thread_mode()));
    CHECK(init_captured(conf, err, sizeof err) == 0);
    CHECK(strstr(err, "using 10.99.0.7/255.255.255.0, the kernel's address on mvnfa") != NULL);
    mctx_t ctx = mtcp_create_context(0);
    CHECK(ctx != NULL);
    int s = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = compat_addr("10.99.0.7", 8080);
    CHECK(mtcp_bind(ctx, s, (struct sockaddr *)&a, sizeof a) == 0);  /* our address */
    mtcp_destroy_context(ctx);
    mtcp_destroy();
    /* shm has no kernel side: ip_addr stays required, the message says why. */
    CHECK(compat_write(conf, sizeof conf, "shm.conf", "port = shm:compat_noip_%d\n", (int)getpid()));
    CHECK(init_captured(conf, err, sizeof err) == -1 && errno == EINVAL);
    CHECK(strstr(err, ":1: 'ip_addr' is not set and port shm:") != NULL);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2 || !compat_mkdir()) return 2;
    alarm(30);
    if (!strcmp(argv[1], "setconf_after_init")) return setconf_after_init();
    if (!strcmp(argv[1], "enomem")) return enomem();
    if (!strcmp(argv[1], "mtcp_sample_conf")) return mtcp_sample_conf();
    if (!strcmp(argv[1], "ip_from_interface")) return ip_from_interface();
    fprintf(stderr, "unknown case %s\n", argv[1]);
    return 2;
}
