/* mtcp-vnf public C API: mTCP-compatible names, types and signatures, so
 * programs written for mTCP build against this library with a re-compile.
 * Every call returns -1 (or NULL) and sets errno on failure, as POSIX does.
 * See docs/api.md for each function and every difference from mTCP. */
#ifndef MTCP_API_H
#define MTCP_API_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef UNUSED
#define UNUSED(x) (void)(x)
#endif

#ifndef INPORT_ANY
#define INPORT_ANY (uint16_t)0
#endif

/* Socket types, as mTCP numbers them (MTCP_SOCK_DGRAM is this project's UDP). */
enum socket_type {
    MTCP_SOCK_UNUSED,
    MTCP_SOCK_STREAM,
    MTCP_SOCK_PROXY,
    MTCP_SOCK_LISTENER,
    MTCP_SOCK_EPOLL,
    MTCP_SOCK_PIPE,
    MTCP_SOCK_DGRAM,
};

/* mtcp_getconf fills it, mtcp_setconf applies it (before mtcp_init). The
 * first seven fields are mTCP's, in mTCP's order; this project's fields
 * follow them and new ones are only ever appended, so every field keeps its
 * offset. The size grows with them: a program is compiled against the header
 * of the library it runs with (docs/api.md, "struct mtcp_conf"). */
struct mtcp_conf {
    int num_cores;
    int max_concurrency;
    int max_num_buffers;
    int rcvbuf_size;
    int sndbuf_size;
    int tcp_timewait;
    int tcp_timeout;
    /* mtcp.conf keys of the same names (docs/configuration.md). */
    int tcp_fin_wait_2;   /* s, 0..86400; 0: no FIN-WAIT-2 timeout */
    int max_listeners;    /* listening sockets per context, 1..1024 */
    int arp_queue_len;    /* frames held per unresolved destination, 1..1024 */
    int destroy_drain_ms; /* ms teardown waits for closed connections' FINs, 0..60000 */
};

typedef struct mtcp_context *mctx_t;
typedef void (*mtcp_sighandler_t)(int);

int mtcp_init(const char *config_file);
void mtcp_destroy(void);
int mtcp_getconf(struct mtcp_conf *conf);
int mtcp_setconf(const struct mtcp_conf *conf);
int mtcp_core_affinitize(int cpu);

mctx_t mtcp_create_context(int cpu);
void mtcp_destroy_context(mctx_t mctx);
mtcp_sighandler_t mtcp_register_signal(int signum, mtcp_sighandler_t handler);

int mtcp_pipe(mctx_t mctx, int pipeid[2]);
int mtcp_getsockopt(mctx_t mctx, int sockid, int level, int optname, void *optval,
                    socklen_t *optlen);
int mtcp_setsockopt(mctx_t mctx, int sockid, int level, int optname, const void *optval,
                    socklen_t optlen);
int mtcp_setsock_nonblock(mctx_t mctx, int sockid);
/* FIONREAD and FIONBIO. */
int mtcp_socket_ioctl(mctx_t mctx, int sockid, int request, void *argp);

int mtcp_socket(mctx_t mctx, int domain, int type, int protocol);
int mtcp_bind(mctx_t mctx, int sockid, const struct sockaddr *addr, socklen_t addrlen);
int mtcp_listen(mctx_t mctx, int sockid, int backlog);
int mtcp_accept(mctx_t mctx, int sockid, struct sockaddr *addr, socklen_t *addrlen);
/* Prepares source ports for connections from this context's core whose
 * replies hash back to it (addresses and port in network byte order). */
int mtcp_init_rss(mctx_t mctx, in_addr_t saddr_base, int num_addr, in_addr_t daddr,
                  in_addr_t dport);
int mtcp_connect(mctx_t mctx, int sockid, const struct sockaddr *addr, socklen_t addrlen);
int mtcp_close(mctx_t mctx, int sockid);
int mtcp_abort(mctx_t mctx, int sockid);
int mtcp_shutdown(mctx_t mctx, int sockid, int how);
int mtcp_getsockname(mctx_t mctx, int sockid, struct sockaddr *addr, socklen_t *addrlen);
int mtcp_getpeername(mctx_t mctx, int sockid, struct sockaddr *addr, socklen_t *addrlen);

ssize_t mtcp_read(mctx_t mctx, int sockid, char *buf, size_t len);
/* flags: 0 or MSG_PEEK. */
ssize_t mtcp_recv(mctx_t mctx, int sockid, char *buf, size_t len, int flags);
int mtcp_readv(mctx_t mctx, int sockid, const struct iovec *iov, int numIOV);
ssize_t mtcp_write(mctx_t mctx, int sockid, const char *buf, size_t len);
/* flags: 0 or any of MSG_MORE (hold a partial last segment for later
 * writes; no PSH at its end), MSG_EOR (end a record: no segment carries it
 * together with later data), MSG_DONTWAIT, MSG_NOSIGNAL (no signals are
 * raised anyway). MSG_MORE and MSG_EOR on a non-TCP socket: EOPNOTSUPP. */
ssize_t mtcp_send(mctx_t mctx, int sockid, const char *buf, size_t len, int flags);
int mtcp_writev(mctx_t mctx, int sockid, const struct iovec *iov, int numIOV);

/* Number of online CPUs (mTCP's applications' helper). */
int GetNumCPUs(void);

#ifdef __cplusplus
}
#endif

#endif /* MTCP_API_H */
