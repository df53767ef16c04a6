// Observability of the C API: the per-context snapshot published each loop
// iteration (atomics, so any thread may read it), mTCP-style stat_print lines
// printed by each context's own loop once a second, and the JSON export.
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

#include "api/context.hpp"
#include "mtcp/mtcp_stats.h"

namespace mvnf::api {

// Extra counters the snapshot carries (TCP), kept beside `pub`.
struct tcp_pub {
    std::atomic<uint64_t> retransmits{0}, rst_sent{0}, rst_received{0}, active{0}, passive{0},
        udp_rx{0}, udp_tx{0};
};

static tcp_pub& tcp_snapshot(mtcp_context& c) {
    // One per context, indexed by core (contexts are at most 64: num_cores' bound).
    static tcp_pub per_core[64];
    return per_core[size_t(c.cpu) % 64];
}

void publish_stats(mtcp_context& c) {
    const auto& s = c.st->stats();
    const auto& t = c.tcp->counters();
    auto rel = std::memory_order_relaxed;
    c.pub.rx_packets.store(s.rx_packets, rel);
    c.pub.tx_packets.store(s.tx_packets, rel);
    c.pub.rx_bytes.store(s.rx_bytes, rel);
    c.pub.tx_bytes.store(s.tx_bytes, rel);
    c.pub.drops.store(s.total_drops(), rel);
    c.pub.flows.store(c.tcp->live_connections(), rel);
    tcp_pub& p = tcp_snapshot(c);
    p.retransmits.store(t.retransmits, rel);
    p.rst_sent.store(t.rst_sent, rel);
    p.rst_received.store(t.rst_received, rel);
    p.active.store(t.active_opens, rel);
    p.passive.store(t.passive_opens, rel);
    p.udp_rx.store(s.udp_rx, rel);
    p.udp_tx.store(s.udp_tx, rel);
}

static void add(mtcp_context& c, mtcp_stats& o) {
    auto rel = std::memory_order_relaxed;
    o.rx_packets += c.pub.rx_packets.load(rel);
    o.tx_packets += c.pub.tx_packets.load(rel);
    o.rx_bytes += c.pub.rx_bytes.load(rel);
    o.tx_bytes += c.pub.tx_bytes.load(rel);
    o.drops += c.pub.drops.load(rel);
    o.flows += c.pub.flows.load(rel);
    tcp_pub& p = tcp_snapshot(c);
    o.tcp_retransmits += p.retransmits.load(rel);
    o.tcp_rst_sent += p.rst_sent.load(rel);
    o.tcp_rst_received += p.rst_received.load(rel);
    o.tcp_active_opens += p.active.load(rel);
    o.tcp_passive_opens += p.passive.load(rel);
    o.udp_rx += p.udp_rx.load(rel);
    o.udp_tx += p.udp_tx.load(rel);
}

// mTCP's line: "[CPU %2d] dev0 flows: %6u, RX: %7ld(pps) (err: %5u), %5.2lf(Gbps), TX: ..."
void stat_tick(mtcp_context& c) {
    if (c.now < c.stat_next) return;
    const double secs = 1.0 + double(c.now - c.stat_next) / 1e9;
    c.stat_next = c.now + net::sec(1);
    const auto& s = c.st->stats();
    const uint64_t rxp = s.rx_packets - c.stat_rx_pkts, txp = s.tx_packets - c.stat_tx_pkts;
    const uint64_t rxb = s.rx_bytes - c.stat_rx_bytes, txb = s.tx_bytes - c.stat_tx_bytes;
    c.stat_rx_pkts = s.rx_packets, c.stat_tx_pkts = s.tx_packets;
    c.stat_rx_bytes = s.rx_bytes, c.stat_tx_bytes = s.tx_bytes;
    const std::string& dev = c.inst->conf.stat_print[0];
    const uint64_t flows = c.pub.flows.load(std::memory_order_relaxed);
    std::printf("[CPU %2d] %s flows: %6" PRIu64 ", RX: %7.0f(pps) (err: %5" PRIu64
                "), %5.2f(Gbps), TX: %7.0f(pps), %5.2f(Gbps)\n",
                c.cpu, dev.c_str(), flows, double(rxp) / secs, s.total_drops(),
                double(rxb) * 8 / secs / 1e9, double(txp) / secs, double(txb) * 8 / secs / 1e9);
    if (c.cpu == 0 && c.inst->ctxs.size() > 1) {
        // The total from every core's published snapshot (lifetime counters).
        mtcp_stats all{};
        for (const auto& a : c.inst->ctxs)
            if (mtcp_context* x = a.load(std::memory_order_acquire)) add(*x, all);
        std::printf("[ ALL ] %s flows: %6" PRIu64 ", RX: %10" PRIu64 "(pkts) (err: %5" PRIu64
                    "), TX: %10" PRIu64 "(pkts)\n",
                    dev.c_str(), all.flows, all.rx_packets, all.drops, all.tx_packets);
    }
    std::fflush(stdout);
}

}  // namespace mvnf::api

using namespace mvnf;
using namespace mvnf::api;

extern "C" {

int mtcp_get_stats(mctx_t mctx, struct mtcp_stats* out) {
    instance* inst = the_instance();
    if (!out || !inst) return set_errno_ret(EINVAL);
    *out = mtcp_stats{};
    bool found = false;
    for (const auto& a : inst->ctxs) {
        mtcp_context* c = a.load(std::memory_order_acquire);
        if (c && (!mctx || c == mctx)) {
            add(*c, *out);
            found = true;
        }
    }
    if (mctx && !found) return set_errno_ret(EINVAL);
    return 0;
}

int mtcp_get_stats_json(mctx_t mctx, char* buf, size_t len) {
    MVNF_ROUTE(mctx, -1, mtcp_get_stats_json(mctx, buf, len));
    if (!enter(mctx)) return -1;
    const auto& t = mctx->tcp->counters();
    const auto& a = mctx->arp->stats();
    std::string j = "{\"core\":" + std::to_string(mctx->cpu) + ",\"stack\":" +
                    mctx->st->stats().to_json() + ",\"tcp\":{";
    auto kv = [&](const char* k, uint64_t v, bool last = false) {
        j += "\"";
        j += k;
        j += "\":" + std::to_string(v) + (last ? "" : ",");
    };
    kv("flows", mctx->tcp->live_connections());
    kv("buffered", mctx->tcp->buffered_connections());
    kv("segs_in", t.segs_in), kv("segs_out", t.segs_out);
    kv("bytes_in", t.bytes_in), kv("bytes_out", t.bytes_out);
    kv("retransmits", t.retransmits), kv("fast_retransmits", t.fast_retransmits);
    kv("rto_timeouts", t.rto_timeouts), kv("sack_recoveries", t.sack_recoveries);
    kv("spurious_recoveries", t.spurious_recoveries), kv("spurious_rtos", t.spurious_rtos);
    kv("tlp_probes", t.tlp_probes);
    kv("tlp_recoveries", t.tlp_recoveries), kv("lost_retransmits", t.lost_retransmits);
    kv("rescue_retransmits", t.rescue_retransmits);
    kv("limited_transmits", t.limited_transmits), kv("dsacks_sent", t.dsacks_sent);
    kv("dsacks_received", t.dsacks_received), kv("dsack_undos", t.dsack_undos);
    kv("ecn_connections", t.ecn_connections), kv("ecn_ce_received", t.ecn_ce_received);
    kv("ecn_reductions", t.ecn_reductions);
    kv("reorder_recoveries", t.reorder_recoveries), kv("rst_sent", t.rst_sent);
    kv("rst_received", t.rst_received), kv("active_opens", t.active_opens);
    kv("passive_opens", t.passive_opens), kv("syn_cookies_sent", t.syn_cookies_sent);
    kv("drop_bad_checksum", t.drop_bad_checksum), kv("drop_no_socket", t.drop_no_socket);
    kv("time_wait", mctx->tcp->time_wait_connections());
    kv("time_wait_expired", t.time_wait_expired), kv("time_wait_reclaimed", t.time_wait_reclaimed);
    kv("tx_blocked", t.tx_blocked), kv("ctl_deferred", t.ctl_deferred);
    kv("drop_ctl_full", t.drop_ctl_full), kv("drop_backlog_full", t.drop_backlog_full);
    kv("drop_syn_in_listen_ack", t.drop_syn_in_listen_ack);
    kv("drop_out_of_window", t.drop_out_of_window), kv("drop_paws", t.drop_paws);
    kv("drop_bad_ack", t.drop_bad_ack), kv("drop_ooo_full", t.drop_ooo_full);
    kv("drop_no_tcb", t.drop_no_tcb), kv("syn_cookies_ok", t.syn_cookies_ok);
    kv("syn_cookies_bad", t.syn_cookies_bad), kv("challenge_acks", t.challenge_acks);
    kv("challenge_acks_suppressed", t.challenge_acks_suppressed);
    kv("zero_window_probes", t.zero_window_probes);
    kv("events_dropped", t.events_dropped, true);
    // Connections by state (a scan of the pool: for reports, not per packet).
    j += ",\"states\":{";
    bool first_state = true;
    using tcp::state;
    for (state s : {state::closed, state::syn_sent, state::syn_received, state::established,
                    state::fin_wait_1, state::fin_wait_2, state::close_wait, state::closing,
                    state::last_ack, state::time_wait}) {
        const size_t n = mctx->tcp->connections_in(s);
        if (!n) continue;
        if (!first_state) j += ",";
        first_state = false;
        j += "\"";
        j += tcp::state_name(s);
        j += "\":" + std::to_string(n);
    }
    j += "}},\"arp\":{";
    kv("requests_sent", a.requests_sent), kv("replies_sent", a.replies_sent);
    kv("gratuitous_sent", a.gratuitous_sent);
    kv("learnt", a.learnt), kv("gave_up", a.gave_up);
    kv("queued", a.queued), kv("flushed", a.flushed);
    kv("dropped_queue_full", a.dropped_queue_full);
    kv("dropped_pending_full", a.dropped_pending_full);
    kv("dropped_failed", a.dropped_failed), kv("dropped_gave_up", a.dropped_gave_up, true);
    j += "}}";
    if (buf && len) {
        const size_t n = std::min(len - 1, j.size());
        std::memcpy(buf, j.data(), n);
        buf[n] = '\0';
    }
    return int(j.size());
}

}  // extern "C"
