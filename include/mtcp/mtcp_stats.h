/* mtcp-vnf counters: per-context (per-core) packet, byte, drop and TCP
 * counters, readable from any thread (a snapshot the context publishes each
 * loop iteration), and as JSON from the owning thread. Not in mTCP. */
#ifndef MTCP_STATS_H
#define MTCP_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "mtcp_api.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mtcp_stats {
    uint64_t rx_packets, rx_bytes;  /* frames from the port queue */
    uint64_t tx_packets, tx_bytes;  /* frames accepted by the port queue */
    uint64_t drops;                 /* stack drops, every reason */
    uint64_t flows;                 /* TCP connections in use */
    uint64_t tcp_retransmits;
    uint64_t tcp_rst_sent, tcp_rst_received;
    uint64_t tcp_active_opens, tcp_passive_opens;
    uint64_t udp_rx, udp_tx;
};

/* Counters of one context, or the sum of all contexts when mctx is NULL.
 * Safe from any thread. Returns 0, or -1 with errno EINVAL. */
int mtcp_get_stats(mctx_t mctx, struct mtcp_stats *out);

/* Every counter of the context (stack, drops by reason, TCP, ARP) as one JSON
 * object, written like snprintf: returns the length it needs (excluding the
 * terminating NUL). Owning thread only (else -1/EPERM). */
int mtcp_get_stats_json(mctx_t mctx, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* MTCP_STATS_H */
