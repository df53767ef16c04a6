/* A minimal mTCP-style echo client on libmtcp (mtcp-vnf).
 *
 *   cc echo_client.c -o echo_client $(pkg-config --cflags --libs mtcp)
 *   ./echo_client -f client.conf -s SERVER_IP [-p PORT] [-c CONNECTIONS] [-b BYTES]
 *
 * Opens CONNECTIONS connections one after the other (blocking calls: the
 * stack runs inside them), sends BYTES on each, checks that the same bytes
 * come back, and closes. Exit code 0 when every byte came back. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mtcp/mtcp_api.h>

static int echo_once(mctx_t ctx, const struct sockaddr_in *server, size_t bytes, unsigned seed) {
    int s = -1;
    /* The server may not listen yet: retry a refused connect for ~5 s. */
    for (int tries = 0; tries < 250; ++tries) {
        s = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
        if (s < 0) return -1;
        if (mtcp_connect(ctx, s, (const struct sockaddr *)server, sizeof *server) == 0) break;
        int e = errno;
        mtcp_close(ctx, s);
        s = -1;
        if (e != ECONNREFUSED && e != ETIMEDOUT) return -1;
        usleep(20000);
    }
    if (s < 0) return -1;
    char out[4096], in[4096];
    size_t sent = 0, got = 0;
    while (got < bytes) {
        size_t chunk = bytes - sent < sizeof out ? bytes - sent : sizeof out;
        for (size_t i = 0; i < chunk; ++i) out[i] = (char)(seed + sent + i);
        if (chunk && mtcp_write(ctx, s, out, chunk) != (ssize_t)chunk) break;
        sent += chunk;
        while (got < sent) {
            ssize_t r = mtcp_read(ctx, s, in, sizeof in);
            if (r <= 0) goto out;
            for (ssize_t i = 0; i < r; ++i)
                if (in[i] != (char)(seed + got + (size_t)i)) goto out;
            got += (size_t)r;
        }
    }
out:
    mtcp_close(ctx, s);
    return got == bytes ? 0 : -1;
}

int main(int argc, char **argv) {
    const char *conf = "client.conf", *ip = NULL;
    int port = 7, conns = 1, opt;
    size_t bytes = 10000;
    while ((opt = getopt(argc, argv, "f:s:p:c:b:")) != -1) {
        if (opt == 'f') conf = optarg;
        else if (opt == 's') ip = optarg;
        else if (opt == 'p') port = atoi(optarg);
        else if (opt == 'c') conns = atoi(optarg);
        else if (opt == 'b') bytes = (size_t)atol(optarg);
        else return 2;
    }
    if (!ip) {
        fprintf(stderr, "usage: %s -f CONF -s SERVER_IP [-p PORT] [-c CONNECTIONS] [-b BYTES]\n",
                argv[0]);
        return 2;
    }
    struct sockaddr_in server;
    memset(&server, 0, sizeof server);
    server.sin_family = AF_INET;
    server.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, ip, &server.sin_addr) != 1) {
        fprintf(stderr, "bad address %s\n", ip);
        return 2;
    }
    if (mtcp_init(conf) != 0) {
        perror("mtcp_init");
        return 1;
    }
    mctx_t ctx = mtcp_create_context(0);
    if (!ctx) {
        perror("mtcp_create_context");
        mtcp_destroy();
        return 1;
    }
    int ok = 0;
    for (int i = 0; i < conns; ++i) ok += echo_once(ctx, &server, bytes, (unsigned)i) == 0;
    printf("echo_client: %d/%d connections echoed %zu bytes\n", ok, conns, bytes);
    mtcp_destroy_context(ctx);
    mtcp_destroy();
    return ok == conns ? 0 : 1;
}
