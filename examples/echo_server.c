/* A minimal mTCP-style epoll echo server on libmtcp (mtcp-vnf).
 *
 *   cc echo_server.c -o echo_server $(pkg-config --cflags --libs mtcp)
 *   ./echo_server -f server.conf [-p PORT] [-n CONNECTIONS]
 *
 * One context on core 0, a non-blocking listener and every connection in one
 * epoll instance; each byte read is written back. Ctrl-C (SIGINT, registered
 * with mtcp_register_signal) ends mtcp_epoll_wait with EINTR and the server
 * exits cleanly; with -n it exits by itself after that many connections have
 * closed. Written with mTCP's flat header names, as mTCP applications are. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mtcp_api.h>
#include <mtcp_epoll.h>

#define MAX_EVENTS 64

static volatile sig_atomic_t done = 0;

static void on_sigint(int sig) {
    (void)sig;
    done = 1;
}

static int add(mctx_t ctx, int ep, int sock) {
    struct mtcp_epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = MTCP_EPOLLIN;
    ev.data.sockid = sock;
    return mtcp_epoll_ctl(ctx, ep, MTCP_EPOLL_CTL_ADD, sock, &ev);
}

int main(int argc, char **argv) {
    const char *conf = "server.conf";
    int port = 7, limit = 0, opt;
    while ((opt = getopt(argc, argv, "f:p:n:")) != -1) {
        if (opt == 'f') conf = optarg;
        else if (opt == 'p') port = atoi(optarg);
        else if (opt == 'n') limit = atoi(optarg);
        else {
            fprintf(stderr, "usage: %s -f CONF [-p PORT] [-n CONNECTIONS]\n", argv[0]);
            return 2;
        }
    }
    if (mtcp_init(conf) != 0) {
        perror("mtcp_init");
        return 1;
    }
    mtcp_register_signal(SIGINT, on_sigint);
    mctx_t ctx = mtcp_create_context(0);
    if (!ctx) {
        perror("mtcp_create_context");
        mtcp_destroy();
        return 1;
    }
    int ep = mtcp_epoll_create(ctx, MAX_EVENTS);
    int ls = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons((uint16_t)port);
    if (ep < 0 || ls < 0 || mtcp_setsock_nonblock(ctx, ls) != 0 ||
        mtcp_bind(ctx, ls, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        mtcp_listen(ctx, ls, 128) != 0 || add(ctx, ep, ls) != 0) {
        perror("listener");
        return 1;
    }
    printf("echo_server: listening on port %d\n", port);
    fflush(stdout);

    struct mtcp_epoll_event events[MAX_EVENTS];
    int closed = 0, rc = 0;
    while (!done && (limit == 0 || closed < limit)) {
        int n = mtcp_epoll_wait(ctx, ep, events, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno != EINTR) {
                perror("mtcp_epoll_wait");
                rc = 1;
            }
            break;
        }
        for (int i = 0; i < n; ++i) {
            int s = events[i].data.sockid;
            if (s == ls) {
                int c;
                while ((c = mtcp_accept(ctx, ls, NULL, NULL)) >= 0) {
                    mtcp_setsock_nonblock(ctx, c);
                    add(ctx, ep, c);
                }
                continue;
            }
            char buf[4096];
            ssize_t r;
            while ((r = mtcp_read(ctx, s, buf, sizeof buf)) > 0)
                if (mtcp_write(ctx, s, buf, (size_t)r) != r) break;  /* sndbuf is ample here */
            if (r == 0 || (r < 0 && errno != EAGAIN)) {
                mtcp_epoll_ctl(ctx, ep, MTCP_EPOLL_CTL_DEL, s, NULL);
                mtcp_close(ctx, s);
                ++closed;
            }
        }
    }
    printf("echo_server: %d connections served\n", closed);
    mtcp_destroy_context(ctx);
    mtcp_destroy();
    return rc;
}
