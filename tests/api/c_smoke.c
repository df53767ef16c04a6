/* Compiled as C11: the public headers and libmtcp used from a C program, as
 * an mTCP application would. Writes its own config (shm link with no peer),
 * then exercises contexts, sockets, a pipe with epoll and a UDP socket. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mtcp/mtcp_api.h>
#include <mtcp/mtcp_epoll.h>
#include <mtcp/mtcp_stats.h>
#include <mtcp/mudp_api.h>

#define CHECK(cond)                                                       \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "c_smoke: %s:%d: %s failed (errno %d)\n",     \
                    __FILE__, __LINE__, #cond, errno);                    \
            return 1;                                                     \
        }                                                                 \
    } while (0)

int main(void) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/mtcp_c_smoke_%d.conf", (int)getpid());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f, "port = shm:c_smoke_%d\nip_addr = 10.8.0.1\nmax_concurrency = 16\n", (int)getpid());
    fclose(f);

    CHECK(mtcp_init(path) == 0);
    struct mtcp_conf conf;
    CHECK(mtcp_getconf(&conf) == 0 && conf.num_cores == 1);
    mctx_t ctx = mtcp_create_context(0);
    CHECK(ctx != NULL);

    int s = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
    CHECK(s >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(80);
    CHECK(mtcp_bind(ctx, s, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(mtcp_listen(ctx, s, 16) == 0);

    int p[2];
    CHECK(mtcp_pipe(ctx, p) == 0);
    int ep = mtcp_epoll_create(ctx, 8);
    CHECK(ep >= 0);
    struct mtcp_epoll_event ev;
    ev.events = MTCP_EPOLLIN | MTCP_EPOLLET;
    ev.data.sockid = p[0];
    CHECK(mtcp_epoll_ctl(ctx, ep, MTCP_EPOLL_CTL_ADD, p[0], &ev) == 0);
    CHECK(mtcp_write(ctx, p[1], "hi", 2) == 2);
    struct mtcp_epoll_event out[4];
    CHECK(mtcp_epoll_wait(ctx, ep, out, 4, 100) == 1 && out[0].data.sockid == p[0]);
    char b[4];
    CHECK(mtcp_read(ctx, p[0], b, sizeof b) == 2 && memcmp(b, "hi", 2) == 0);

    int u = mtcp_socket(ctx, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    CHECK(u >= 0);
    CHECK(mudp_recvfrom(ctx, u, b, sizeof b, 0, NULL, NULL) == -1 && errno == EAGAIN);
    CHECK(mudp_close(ctx, u) == 0);

    struct mtcp_stats st;
    CHECK(mtcp_get_stats(ctx, &st) == 0);
    CHECK(mtcp_close(ctx, s) == 0 && mtcp_close(ctx, ep) == 0);
    mtcp_destroy_context(ctx);
    mtcp_destroy();
    unlink(path);
    printf("c_smoke: ok\n");
    return 0;
}
