/* mtcp-vnf counters: per-context (per-core) packet, byte, drop and TCP
 * counters, readable from any thread (a snapshot the context publishes; the
 * storage belongs to the instance, so a context being destroyed meanwhile is
 * harmless), and as JSON from the owning thread. Not in mTCP.
 *
 * Every counter is named once, in the lists below (one per layer, X-macros):
 * the stack's own counter structs, struct mtcp_stats, the JSON export, the
 * stat_print lines and the Prometheus export are all generated from them, so
 * none can miss a counter. Adding a counter is one line at the END of its
 * list (see ABI below). Lists named *_DROPS hold drop reasons: each is a
 * frame, segment or datagram not delivered, and all of them sum into
 * mtcp_stats.drops and the err: column of stat_print. */
#ifndef MTCP_STATS_H
#define MTCP_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "mtcp_api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the lists ----------------------------------------------------------- */

/* Totals of the context (the first fields of struct mtcp_stats, kept from
 * the first version of the struct). */
#define MTCP_STATS_TOTALS(X)                                                   \
    X(rx_packets) X(rx_bytes) /* frames from the port queue */                \
    X(tx_packets) X(tx_bytes) /* frames accepted by the port queue */         \
    X(drops)                  /* every *_DROPS counter of every layer */      \
    X(flows)                  /* TCP connections in use (a gauge) */          \
    X(tcp_retransmits) X(tcp_rst_sent) X(tcp_rst_received)                     \
    X(tcp_active_opens) X(tcp_passive_opens) X(udp_rx) X(udp_tx)

/* The IPv4 stack (src/net): frames, datagrams, ICMP and UDP. */
#define MTCP_STATS_STACK(X)                                                    \
    X(rx_packets) X(rx_bytes) /* frames received from the queue */            \
    X(tx_packets) X(tx_bytes) /* frames accepted by tx_burst */               \
    X(ip_rx) X(ip_tx)         /* IPv4 datagrams (fragments once each) */      \
    X(frags_rx) X(frags_tx) X(reasm_ok)                                        \
    X(arp_rx) X(tcp_rx)                                                        \
    X(icmp_rx) X(icmp_tx) X(icmp_echo_replies) X(icmp_unreach_sent)            \
    X(icmp_rate_limited) X(icmp_errors_rx) X(icmp_echo_reply_rx)               \
    X(udp_rx) X(udp_tx)                                                        \
    X(prefetch_bursts) /* bursts the transport prefetch pre-pass ran on */     \
    X(tx_ring_full)    /* flushes the port refused in part: frames held */

/* The stack's drop reasons (each names where in src/net it is counted). */
#define MTCP_STATS_NET_DROPS(X)                                                 \
    X(eth_short) X(eth_not_for_us) X(eth_unknown_type) X(arp_no_handler)        \
    X(ip_truncated) X(ip_bad_version) X(ip_bad_ihl) X(ip_bad_total_length)      \
    X(ip_bad_checksum) X(ip_bad_options) X(ip_not_for_us) X(ip_bad_src)         \
    X(ip_unknown_proto)                                                         \
    X(frag_bad_len) X(frag_too_big) X(frag_overlap) X(frag_duplicate)           \
    X(frag_inconsistent) X(frag_too_many) X(frag_table_full) X(frag_mem_limit)  \
    X(frag_timeout)                                                             \
    X(icmp_truncated) X(icmp_bad_checksum) X(icmp_bad_quote) X(icmp_unhandled)  \
    X(icmp_echo_broadcast)                                                      \
    X(udp_truncated) X(udp_bad_length) X(udp_bad_checksum) X(udp_no_port)       \
    X(udp_rcvbuf_full)                                                          \
    X(tcp_no_handler) X(no_buffers)                                             \
    X(tx_no_buffer) X(tx_full) X(tx_no_route) X(tx_unresolved) X(tx_too_big)

/* TCP (src/net/tcp): segments dropped, by reason. */
#define MTCP_STATS_TCP_DROPS(X)                                                \
    /* malformed input */                                                      \
    X(drop_truncated) X(drop_bad_offset) X(drop_bad_option_len)                \
    X(drop_bad_option_value) X(drop_bad_checksum) X(drop_bad_flags)            \
    X(drop_bad_port) X(drop_bad_address) X(drop_bad_urgent)                    \
    /* protocol-level */                                                       \
    X(drop_no_socket) X(drop_out_of_window) X(drop_paws) X(drop_bad_ack)       \
    X(drop_backlog_full)                                                       \
    X(drop_no_tcb)          /* SYN or cookie ACK refused: no free connection */\
    X(drop_ooo_full)                                                           \
    X(drop_syn_in_listen_ack)                                                  \
    X(drop_rst_time_wait)   /* exact RSTs ignored in TIME-WAIT (RFC 1337) */   \
    X(rst_data_after_close) /* data for a closed socket, answered with RST */  \
    X(drop_ctl_full)        /* resets/cookie SYN-ACKs: no TX buffer, queue full */

/* TCP events and activity. */
#define MTCP_STATS_TCP(X)                                                       \
    X(segs_in) X(segs_out) X(bytes_in) X(bytes_out)                             \
    X(rst_sent) X(rst_received) X(challenge_acks) X(challenge_acks_suppressed)  \
    X(retransmits) X(fast_retransmits) X(rto_timeouts) X(sack_recoveries)       \
    X(spurious_recoveries) /* fast retransmits undone (RFC 3522) */             \
    X(spurious_rtos)       /* timeouts undone (RFC 3522, RFC 4015) */           \
    X(dsack_undos)         /* undone: D-SACKs covered every resend (RFC 3708) */\
    X(tx_blocked)          /* segments the sink refused; output retried */      \
    X(zero_window_probes) X(keepalive_probes) X(delayed_acks)                   \
    X(tlp_probes)          /* tail loss probes sent (RFC 8985 7.3) */           \
    X(tlp_recoveries)      /* losses a probe revealed (RFC 8985 7.4) */         \
    X(lost_retransmits)    /* resends of SND.UNA found lost and resent */       \
    X(limited_transmits)   /* new segments sent on DupAcks (RFC 3042) */        \
    X(reorder_recoveries)  /* recoveries the reordering timer started */        \
    X(dsacks_sent)         /* D-SACK blocks sent (RFC 2883) */                  \
    X(dsacks_received)                                                          \
    X(ecn_connections)     /* connections that agreed on ECN (RFC 3168 6.1.1) */\
    X(ecn_ce_received) X(ecn_reductions)                                        \
    X(syn_cookies_sent) X(syn_cookies_ok) X(syn_cookies_bad)                    \
    X(active_opens) X(passive_opens) X(time_wait_expired)                       \
    X(events_dropped)      /* event ring full: the C API rescans readiness */   \
    X(icmp_accepted) X(icmp_ignored)                                            \
    X(rescue_retransmits)  /* RFC 6675 NextSeg rule 4, one per recovery */      \
    X(rtt_samples_rejected) /* TSecr echoes that cannot be ours (RFC 7323 4.1) */\
    X(time_wait_reclaimed) /* TIME-WAIT blocks given to new connections */      \
    X(ctl_deferred)        /* resets/cookie SYN-ACKs that waited for a buffer */\
    X(refused_no_buffers)  /* opens refused: every max_num_buffers pair taken */\
    X(closed_rsts_suppressed) /* resets to closed ports over closed_rst_rate */ \
    X(oow_acks_suppressed) /* unacceptable pure ACKs left unanswered (RFC 5961) */

/* TCP levels (gauges), first in the tcp section. */
#define MTCP_STATS_TCP_GAUGES(X)                                                \
    X(flows)     /* connections in use: neither free nor in TIME-WAIT */        \
    X(time_wait) /* connections in TIME-WAIT */                                 \
    X(buffered)  /* connections holding send/receive buffers */

/* ARP frames refused as malformed, in the order of the parser's errors. */
#define MTCP_STATS_ARP_INVALID(X)                                              \
    X(rx_invalid_truncated) X(rx_invalid_bad_hardware_type)                    \
    X(rx_invalid_bad_protocol_type) X(rx_invalid_bad_hardware_len)             \
    X(rx_invalid_bad_protocol_len) X(rx_invalid_bad_opcode)

/* ARP: other frames not delivered or held. */
#define MTCP_STATS_ARP_DROPS(X)                                                \
    X(rx_not_for_us)        /* Ethernet destination neither us nor broadcast */\
    X(dropped_queue_full)   /* refused: destination queue full */              \
    X(dropped_pending_full) /* refused: every pending slot began this instant */\
    X(dropped_evicted)      /* held by a destination evicted for a newer one */\
    X(dropped_failed)       /* refused: destination failed recently */         \
    X(dropped_gave_up)      /* held frames dropped when retries ran out */

#define MTCP_STATS_ARP(X)                                                      \
    X(rx_frames) X(rx_unsolicited) X(address_conflicts) X(static_conflicts)    \
    X(learnt) X(table_full) X(requests_sent) X(replies_sent)                   \
    X(gratuitous_sent) X(queued) X(flushed) X(gave_up) X(alloc_failures)      \
    X(table_evicted)   /* entries that took the least recently confirmed slot */\
    X(pending_evicted) /* resolutions ended to make room for a newer one */    \
    X(stale_used)      /* frames sent to a stale MAC while it is re-confirmed */\
    X(probes_sent)     /* unicast requests re-confirming a stale entry */      \
    X(probes_failed)   /* stale entries no probe confirmed: marked failed */   \
    X(confirmed)       /* entries refreshed by TCP progress, no probe needed */

/* The context's port queue (hw dispatch: the NIC/AF_XDP/AF_PACKET/shm queue
 * itself; sw dispatch: the dispatcher's pipes to this core, whose rx_dropped
 * are the per-core overflow drops). */
#define MTCP_STATS_QUEUE_DROPS(X)                                              \
    X(rx_dropped) /* lost before the stack saw them: ring full, overflow */   \
    X(tx_dropped) /* refused by the port after tx_burst accepted them */

#define MTCP_STATS_QUEUE(X)                                                    \
    X(rx_packets) X(rx_bytes) X(tx_packets) X(tx_bytes)                        \
    X(wakeups) /* times this side woke a sleeping peer */                      \
    X(sleeps)  /* times a wait actually blocked */

/* The sw dispatcher's port-wide counters (carried by core 0 only, so a sum
 * over cores counts them once; zero in hw dispatch). */
#define MTCP_STATS_PORT_DROPS(X)                                               \
    X(rx_dropped_runt) X(rx_dropped_oversize) X(rx_dropped_bad_src)            \
    X(rx_dropped_port) /* lost in the port's own RX ring (kernel or NIC) */    \
    X(tx_dropped_port) /* refused by the port after it accepted them */

#define MTCP_STATS_PORT(X) X(rx_received) X(dispatcher_sleeps)

/* What the port is, set when it opens (gauges; core 0 only, like the
 * port's counters, in both dispatch modes): queues opened, frame (buffer)
 * size in bytes, zero_copy 1 when frames reach the stack without a kernel
 * copy (AF_XDP zero-copy, shm, netmap), and xdp_mode for an afxdp: port:
 * 2 native (driver) XDP, 1 generic (skb) XDP, 0 not AF_XDP. mtcp_init
 * prints the same once, with the reason for copy mode. */
#define MTCP_STATS_PORT_INFO(X) X(queues) X(frame_size) X(zero_copy) X(xdp_mode)

/* ---- the struct ------------------------------------------------------------
 * ABI: struct mtcp_stats only grows, at its end. Each layer's section has a
 * fixed capacity (the MTCP_STATS_CAP_* words, the unused tail reserved and
 * zero), so appending a counter to a list moves no other field. Every
 * member, reserved words included, is a uint64_t. */
#define MTCP_STATS_FIELD_(n) uint64_t n;
#define MTCP_STATS_ONE_(n) +1
#define MTCP_STATS_COUNT(LIST) (0 LIST(MTCP_STATS_ONE_))

#define MTCP_STATS_CAP_STACK 48
#define MTCP_STATS_CAP_NET_DROPS 96
#define MTCP_STATS_CAP_TCP 128
#define MTCP_STATS_CAP_ARP 64
#define MTCP_STATS_CAP_QUEUE 16
#define MTCP_STATS_CAP_PORT 16

struct mtcp_stats_net_drops {
    MTCP_STATS_NET_DROPS(MTCP_STATS_FIELD_)
    uint64_t reserved_[MTCP_STATS_CAP_NET_DROPS - MTCP_STATS_COUNT(MTCP_STATS_NET_DROPS)];
};
struct mtcp_stats_stack {
    MTCP_STATS_STACK(MTCP_STATS_FIELD_)
    uint64_t reserved_[MTCP_STATS_CAP_STACK - MTCP_STATS_COUNT(MTCP_STATS_STACK)];
    struct mtcp_stats_net_drops drops;
};
struct mtcp_stats_tcp {
    MTCP_STATS_TCP_GAUGES(MTCP_STATS_FIELD_)
    MTCP_STATS_TCP_DROPS(MTCP_STATS_FIELD_)
    MTCP_STATS_TCP(MTCP_STATS_FIELD_)
    uint64_t reserved_[MTCP_STATS_CAP_TCP - MTCP_STATS_COUNT(MTCP_STATS_TCP_GAUGES) -
                       MTCP_STATS_COUNT(MTCP_STATS_TCP_DROPS) - MTCP_STATS_COUNT(MTCP_STATS_TCP)];
};
struct mtcp_stats_arp {
    MTCP_STATS_ARP_INVALID(MTCP_STATS_FIELD_)
    MTCP_STATS_ARP_DROPS(MTCP_STATS_FIELD_)
    MTCP_STATS_ARP(MTCP_STATS_FIELD_)
    uint64_t reserved_[MTCP_STATS_CAP_ARP - MTCP_STATS_COUNT(MTCP_STATS_ARP_INVALID) -
                       MTCP_STATS_COUNT(MTCP_STATS_ARP_DROPS) - MTCP_STATS_COUNT(MTCP_STATS_ARP)];
};
struct mtcp_stats_queue {
    MTCP_STATS_QUEUE_DROPS(MTCP_STATS_FIELD_)
    MTCP_STATS_QUEUE(MTCP_STATS_FIELD_)
    uint64_t reserved_[MTCP_STATS_CAP_QUEUE - MTCP_STATS_COUNT(MTCP_STATS_QUEUE_DROPS) -
                       MTCP_STATS_COUNT(MTCP_STATS_QUEUE)];
};
struct mtcp_stats_port {
    MTCP_STATS_PORT_DROPS(MTCP_STATS_FIELD_)
    MTCP_STATS_PORT(MTCP_STATS_FIELD_)
    MTCP_STATS_PORT_INFO(MTCP_STATS_FIELD_)
    uint64_t reserved_[MTCP_STATS_CAP_PORT - MTCP_STATS_COUNT(MTCP_STATS_PORT_DROPS) -
                       MTCP_STATS_COUNT(MTCP_STATS_PORT) - MTCP_STATS_COUNT(MTCP_STATS_PORT_INFO)];
};

struct mtcp_stats {
    MTCP_STATS_TOTALS(MTCP_STATS_FIELD_) /* version 1 ends here */
    /* version 2: every counter, by layer (the JSON object's sections) */
    struct mtcp_stats_stack stack;
    struct mtcp_stats_tcp tcp;
    struct mtcp_stats_arp arp;
    struct mtcp_stats_queue queue;
    struct mtcp_stats_port port;
};

/* Counters of one context, or the sum of all live contexts when mctx is NULL.
 * Fills the whole struct. Safe from any thread; values are at most about a
 * millisecond old (fresh when called by the thread driving the context).
 * Returns 0, or -1 with errno EINVAL. */
int mtcp_get_stats(mctx_t mctx, struct mtcp_stats *out);

/* The same for a caller built against an older, shorter struct mtcp_stats:
 * fills only its first `size` bytes (sizeof what the caller has). */
int mtcp_get_stats_sized(mctx_t mctx, struct mtcp_stats *out, size_t size);

/* Every counter of the context as one JSON object whose keys are the fields
 * of struct mtcp_stats (sections as nested objects, reserved words left
 * out), plus "core". Written like snprintf: returns the length it needs
 * (excluding the terminating NUL). Owning thread only (else -1/EPERM). */
int mtcp_get_stats_json(mctx_t mctx, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* MTCP_STATS_H */
