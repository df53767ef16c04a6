/* mTCP-compatibility cases about sockets and the event loop, written as
 * mTCP applications are: socket ids reused first in first out, EventToString,
 * a registered SIGINT ending a blocked mtcp_epoll_wait with EINTR (and the
 * shm link joined again by restarted processes under the same name), and
 * writes made in one loop iteration leaving as one segment.
 * Usage: compat_socket CASE */
#include <stdint.h>
#include <sys/stat.h>

#include "compat.h"

#define SERVER_IP "10.78.0.1"
#define CLIENT_IP "10.78.0.2"
#define SERVER_MAC "02:00:00:00:4e:01"
#define CLIENT_MAC "02:00:00:00:4e:02"
#define PORT 80

static char link_name[64];

/* mtcp.conf for one side of link_name, with a static ARP entry for the
 * other side; `extra` is appended. */
static int side_conf(char *out, size_t len, int server, const char *extra) {
    char arp[256];
    if (!compat_write(arp, sizeof arp, server ? "server.arp" : "client.arp",
                      "ARP_ENTRY 1\n%s/32 %s\n", server ? CLIENT_IP : SERVER_IP,
                      server ? CLIENT_MAC : SERVER_MAC))
        return 0;
    return compat_write(out, len, server ? "server.conf" : "client.conf",
                        "port = shm:%s\nip_addr = %s\nmac_addr = %s\nmax_concurrency = 64\n"
                        "tcp_timewait = 0\nbusy_poll_us = 20\narp_conf = %s\n%s%s",
                        link_name, server ? SERVER_IP : CLIENT_IP,
                        server ? SERVER_MAC : CLIENT_MAC, arp, compat_thread_mode(), extra);
}

/* ---- socket ids ---------------------------------------------------------- */

/* mTCP's epwget closes a finished socket, opens the next one at once, then
 * still reads per-socket state indexed by the old id: the new socket must not
 * get the id just closed. Ids come back in the order they were freed. */
static int sockid_fifo(void) {
    snprintf(link_name, sizeof link_name, "compat_fifo_%d", (int)getpid());
    char conf[512];
    CHECK(side_conf(conf, sizeof conf, 1, ""));
    CHECK(mtcp_init(conf) == 0);
    mctx_t ctx = mtcp_create_context(0);
    CHECK(ctx != NULL);
    int a = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
    CHECK(a >= 0);
    CHECK(mtcp_close(ctx, a) == 0);
    int b = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
    CHECK(b >= 0 && b != a);
    /* Take every id, free three in some order: they come back in that order. */
    int ids[512], n = 0;
    while (n < 512) {
        int s = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
        if (s < 0) break;
        ids[n++] = s;
    }
    CHECK(n > 10 && n < 512 && errno == EMFILE);
    CHECK(mtcp_close(ctx, ids[7]) == 0);
    CHECK(mtcp_close(ctx, b) == 0);
    CHECK(mtcp_close(ctx, ids[2]) == 0);
    CHECK(mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0) == ids[7]);
    CHECK(mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0) == b);
    CHECK(mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0) == ids[2]);
    CHECK(mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0) == -1 && errno == EMFILE);
    mtcp_destroy_context(ctx);
    mtcp_destroy();
    return 0;
}

/* ---- EventToString ------------------------------------------------------- */

static int event_to_string(void) {
    CHECK(!strcmp(EventToString(MTCP_EPOLLNONE), "NONE"));
    CHECK(!strcmp(EventToString(MTCP_EPOLLIN), "IN"));
    CHECK(!strcmp(EventToString(MTCP_EPOLLPRI), "PRI"));
    CHECK(!strcmp(EventToString(MTCP_EPOLLOUT), "OUT"));
    CHECK(!strcmp(EventToString(MTCP_EPOLLERR), "ERR"));
    CHECK(!strcmp(EventToString(MTCP_EPOLLHUP), "HUP"));
    CHECK(!strcmp(EventToString(MTCP_EPOLLRDHUP), "RDHUP"));
    CHECK(!strcmp(EventToString(MTCP_EPOLLIN | MTCP_EPOLLRDHUP), "IN|RDHUP"));
    CHECK(!strcmp(EventToString(MTCP_EPOLLIN | MTCP_EPOLLET), "IN|ET"));
    CHECK(!strcmp(EventToString(0x10000000u | MTCP_EPOLLOUT), "OUT|0x10000000"));
    return 0;
}

/* ---- an epserver-like server --------------------------------------------- */

static volatile sig_atomic_t done = 0;
static void on_sigint(int sig) {
    (void)sig;
    done = 1;
}

/* Serves connections until SIGINT: answers each read with `reply` written
 * as the pieces of `split` (lengths, 0-terminated), one mtcp_write each, in
 * the same loop iteration. Exit code 0 only when the loop ended by EINTR
 * after the handler ran, having answered `expect` requests. */
static int server(const char *extra, const char *reply, const int *split, int expect) {
    char conf[512];
    CHECK(side_conf(conf, sizeof conf, 1, extra));
    CHECK(mtcp_init(conf) == 0);
    CHECK(mtcp_register_signal(SIGINT, on_sigint) != SIG_ERR);
    mctx_t ctx = mtcp_create_context(0);
    CHECK(ctx != NULL);
    int ep = mtcp_epoll_create(ctx, 64);
    int ls = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
    CHECK(ep >= 0 && ls >= 0 && mtcp_setsock_nonblock(ctx, ls) == 0);
    struct sockaddr_in a = compat_addr("0.0.0.0", PORT);
    CHECK(mtcp_bind(ctx, ls, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(mtcp_listen(ctx, ls, 16) == 0);
    struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN, .data.sockid = ls};
    CHECK(mtcp_epoll_ctl(ctx, ep, MTCP_EPOLL_CTL_ADD, ls, &ev) == 0);
    /* Only EINTR ends the loop: a SIGINT that comes while events are being
     * handled is reported by the next wait that finds nothing. */
    int served = 0, ended_by_eintr = 0;
    for (;;) {
        struct mtcp_epoll_event evs[16];
        int n = mtcp_epoll_wait(ctx, ep, evs, 16, -1);
        if (n < 0) {
            CHECK(errno == EINTR);
            ended_by_eintr = 1;
            break;
        }
        for (int i = 0; i < n; ++i) {
            int s = evs[i].data.sockid;
            if (s == ls) {
                int c;
                while ((c = mtcp_accept(ctx, ls, NULL, NULL)) >= 0) {
                    CHECK(mtcp_setsock_nonblock(ctx, c) == 0);
                    struct mtcp_epoll_event cev = {.events = MTCP_EPOLLIN, .data.sockid = c};
                    CHECK(mtcp_epoll_ctl(ctx, ep, MTCP_EPOLL_CTL_ADD, c, &cev) == 0);
                }
                continue;
            }
            char buf[512];
            ssize_t r = mtcp_read(ctx, s, buf, sizeof buf);
            if (r > 0) {
                const char *p = reply;
                for (const int *k = split; *k; p += *k++) CHECK(mtcp_write(ctx, s, p, (size_t)*k) == *k);
                ++served;
            } else if (r == 0 || errno != EAGAIN) {
                CHECK(mtcp_close(ctx, s) == 0);
            }
        }
    }
    CHECK(done && ended_by_eintr);
    CHECK(served == expect);
    mtcp_destroy_context(ctx);
    mtcp_destroy();
    return 0;
}

/* Connects (retrying until the server listens), sends a request, reads
 * `want` bytes, closes, leaves the link, then (stop) stops the server with
 * SIGINT. */
static int client(pid_t server_pid, const char *want, int stop) {
    char conf[512];
    CHECK(side_conf(conf, sizeof conf, 0, ""));
    CHECK(mtcp_init(conf) == 0);
    mctx_t ctx = mtcp_create_context(0);
    CHECK(ctx != NULL);
    struct sockaddr_in a = compat_addr(SERVER_IP, PORT);
    int s = -1;
    for (int tries = 0; tries < 200; ++tries) {
        s = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
        CHECK(s >= 0);
        if (mtcp_connect(ctx, s, (struct sockaddr *)&a, sizeof a) == 0) break;
        CHECK(errno == ECONNREFUSED);
        CHECK(mtcp_close(ctx, s) == 0);
        s = -1;
        usleep(20000);
    }
    CHECK(s >= 0);
    CHECK(mtcp_write(ctx, s, "GET / HTTP/1.0\r\n\r\n", 18) == 18);
    size_t got = 0, len = strlen(want);
    char buf[512];
    while (got < len) {
        ssize_t r = mtcp_read(ctx, s, buf + got, sizeof buf - got);
        CHECK(r > 0);
        got += (size_t)r;
    }
    CHECK(got == len && memcmp(buf, want, len) == 0);
    CHECK(mtcp_close(ctx, s) == 0);
    mtcp_destroy_context(ctx);
    mtcp_destroy();
    if (stop) CHECK(kill(server_pid, SIGINT) == 0);
    return 0;
}

/* One round on link_name: a server and a client process. */
static int round_trip(const char *server_extra, const char *reply, const int *split) {
    pid_t sp = fork();
    CHECK(sp >= 0);
    if (sp == 0) _exit(server(server_extra, reply, split, 1));
    pid_t cp = fork();
    CHECK(cp >= 0);
    if (cp == 0) _exit(client(sp, reply, 1));
    const int crc = compat_wait(cp), src = compat_wait(sp);
    CHECK(crc == 0);
    CHECK(src == 0);
    return 0;
}

/* SIGINT registered through mtcp_register_signal ends the server's blocked
 * mtcp_epoll_wait with -1/EINTR (mTCP's epserver stops on Ctrl-C this way);
 * the server then leaves cleanly, and restarted processes join the same shm
 * link name again. */
static int sigint_rejoin(void) {
    snprintf(link_name, sizeof link_name, "compat_sigint_%d", (int)getpid());
    static const int one[] = {4, 0};
    for (int round = 0; round < 2; ++round)
        if (round_trip("", "pong", one) != 0) {
            fprintf(stderr, "round %d failed\n", round);
            return 1;
        }
    return 0;
}

/* A client process that left the link is replaced by a new one under the
 * same link name while the server keeps running (running an mTCP client
 * such as epwget again against a long-lived epserver): the newcomer takes
 * the left end once the server has returned its buffers. */
static int client_rejoins_running_server(void) {
    snprintf(link_name, sizeof link_name, "compat_rejoin_%d", (int)getpid());
    static const int one[] = {4, 0};
    pid_t sp = fork();
    CHECK(sp >= 0);
    if (sp == 0) _exit(server("", "pong", one, 3));
    for (int run = 0; run < 3; ++run) {
        pid_t cp = fork();
        CHECK(cp >= 0);
        if (cp == 0) _exit(client(sp, "pong", run == 2));
        const int rc = compat_wait(cp);
        if (rc != 0) fprintf(stderr, "client run %d failed\n", run);
        CHECK(rc == 0);
    }
    CHECK(compat_wait(sp) == 0);
    return 0;
}

/* ---- write coalescing ---------------------------------------------------- */

static uint32_t be(const unsigned char *p, int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) v = v << 8 | p[i];
    return v;
}

/* Payload sizes of the TCP segments sent from port `sport` in a pcap file. */
static int pcap_payloads(const char *path, uint16_t sport, int *sizes, int max) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    unsigned char gh[24], rh[16], pkt[65536];
    int n = 0;
    if (fread(gh, 1, 24, f) != 24) n = -1;
    while (n >= 0 && fread(rh, 1, 16, f) == 16) {
        uint32_t incl = rh[8] | rh[9] << 8 | rh[10] << 16 | (uint32_t)rh[11] << 24;
        if (incl > sizeof pkt || fread(pkt, 1, incl, f) != incl) break;
        if (incl < 14 + 20 + 20 || be(pkt + 12, 2) != 0x0800 || pkt[14 + 9] != 6) continue;
        const unsigned ihl = (pkt[14] & 15u) * 4u, tot = be(pkt + 16, 2);
        const unsigned char *t = pkt + 14 + ihl;
        if (be(t, 2) != sport) continue;
        const unsigned doff = (t[12] >> 4) * 4u;
        if (tot > ihl + doff && n < max) sizes[n++] = (int)(tot - ihl - doff);
    }
    fclose(f);
    return n;
}

/* An HTTP server writes its header and its body with two mtcp_write calls in
 * one loop iteration: they leave as one segment, as on mTCP (whose stack
 * sends queued writes once per loop). Counted in the server's own capture. */
static int write_coalescing(void) {
    snprintf(link_name, sizeof link_name, "compat_coalesce_%d", (int)getpid());
    char pcap[512], extra[600];
    snprintf(pcap, sizeof pcap, "%s/server.pcap", compat_dir);
    snprintf(extra, sizeof extra, "pcap_file = %s\n", pcap);
    static const char reply[] =
        "HTTP/1.0 200 OK\r\nContent-Length: 64\r\n\r\n"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    static const int split[] = {39, 64, 0};
    CHECK(strlen(reply) == 103);
    CHECK(round_trip(extra, reply, split) == 0);
    int sizes[64];
    const int n = pcap_payloads(pcap, PORT, sizes, 64);
    CHECK(n >= 1);
    for (int i = 0; i < n; ++i) fprintf(stderr, "server data segment %d: %d bytes\n", i, sizes[i]);
    CHECK(n == 1 && sizes[0] == 103);
    return 0;
}

/* ---- config/arp.conf and config/route.conf ------------------------------ */

/* Finds the first TCP SYN to `dst` (an IPv4 address, network order) in a
 * pcap file and copies its Ethernet destination; 1 found, 0 not, -1 error. */
static int pcap_syn_to(const char *path, uint32_t dst, unsigned char mac[6]) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    unsigned char gh[24], rh[16], pkt[65536];
    int found = fread(gh, 1, 24, f) == 24 ? 0 : -1;
    while (found == 0 && fread(rh, 1, 16, f) == 16) {
        uint32_t incl = rh[8] | rh[9] << 8 | rh[10] << 16 | (uint32_t)rh[11] << 24;
        if (incl > sizeof pkt || fread(pkt, 1, incl, f) != incl) break;
        if (incl < 14 + 20 + 20 || be(pkt + 12, 2) != 0x0800 || pkt[14 + 9] != 6) continue;
        const unsigned ihl = (pkt[14] & 15u) * 4u;
        if (be(pkt + 14 + 16, 4) != ntohl(dst) || !(pkt[14 + ihl + 13] & 0x02)) continue;
        memcpy(mac, pkt, 6);
        found = 1;
    }
    fclose(f);
    return found;
}

/* An mTCP application started from a directory holding config/arp.conf and
 * config/route.conf uses them without any key naming them: the default
 * route in mTCP's form (GW_IP/0 dev) becomes the gateway, and a SYN to an
 * address off the subnet leaves for the gateway's MAC from arp.conf at once
 * (no ARP request). Seen in the port's own capture. */
static int arp_route_cwd(void) {
    snprintf(link_name, sizeof link_name, "compat_cwd_%d", (int)getpid());
    CHECK(chdir(compat_dir) == 0);
    CHECK(mkdir("config", 0755) == 0);
    char path[512], conf[512], pcap[512];
    CHECK(compat_write(path, sizeof path, "config/arp.conf",
                       "# mTCP's format\nARP_ENTRY 1\n10.78.0.254/32 02:00:00:00:4e:fe\n"));
    CHECK(compat_write(path, sizeof path, "config/route.conf",
                       "ROUTES 2\n10.78.0.0/24 shm0\n10.78.0.254/0 shm0\n"));
    snprintf(pcap, sizeof pcap, "%s/client.pcap", compat_dir);
    CHECK(compat_write(conf, sizeof conf, "mtcp.conf",
                       "port = shm:%s\nip_addr = 10.78.0.2\nnetmask = 255.255.255.0\n"
                       "max_concurrency = 16\npcap_file = %s\n%s",
                       link_name, pcap, compat_thread_mode()));
    CHECK(mtcp_init(conf) == 0);
    mctx_t ctx = mtcp_create_context(0);
    CHECK(ctx != NULL);
    int s = mtcp_socket(ctx, AF_INET, SOCK_STREAM, 0);
    CHECK(s >= 0 && mtcp_setsock_nonblock(ctx, s) == 0);
    struct sockaddr_in far = compat_addr("192.0.2.10", 80);
    CHECK(mtcp_connect(ctx, s, (struct sockaddr *)&far, sizeof far) == -1 && errno == EINPROGRESS);
    int ep = mtcp_epoll_create(ctx, 4);
    struct mtcp_epoll_event evs[4];
    CHECK(ep >= 0 && mtcp_epoll_wait(ctx, ep, evs, 4, 50) == 0);  /* let the stack run */
    mtcp_destroy_context(ctx);
    mtcp_destroy();
    unsigned char mac[6];
    CHECK(pcap_syn_to(pcap, far.sin_addr.s_addr, mac) == 1);
    static const unsigned char gw_mac[6] = {2, 0, 0, 0, 0x4e, 0xfe};
    CHECK(memcmp(mac, gw_mac, 6) == 0);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2 || !compat_mkdir()) return 2;
    alarm(40);
    if (!strcmp(argv[1], "sockid_fifo")) return sockid_fifo();
    if (!strcmp(argv[1], "event_to_string")) return event_to_string();
    if (!strcmp(argv[1], "sigint_rejoin")) return sigint_rejoin();
    if (!strcmp(argv[1], "client_rejoins_running_server")) return client_rejoins_running_server();
    if (!strcmp(argv[1], "write_coalescing")) return write_coalescing();
    if (!strcmp(argv[1], "arp_route_cwd")) return arp_route_cwd();
    fprintf(stderr, "unknown case %s\n", argv[1]);
    return 2;
}
