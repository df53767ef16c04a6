// Observability of the C API: every counter of a context gathered into a
// struct mtcp_stats (fill_stats), published each millisecond into the
// instance's per-core slot (atomics, so any thread may read it, and owned by
// the instance, so reading never touches a context being destroyed), the
// mTCP-style stat_print lines printed by each context's own loop once a
// second, and the JSON export. All generated from the public header's lists.
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

#include "api/context.hpp"
#include "api/stat_fields.hpp"
#include "mtcp/mtcp_stats.h"

namespace mvnf::api {

// A full section would make its reserved_ array zero-sized (not C): the
// capacity must grow first, at the end of the struct (see the header).
static_assert(MTCP_STATS_COUNT(MTCP_STATS_STACK) < MTCP_STATS_CAP_STACK);
static_assert(MTCP_STATS_COUNT(MTCP_STATS_NET_DROPS) < MTCP_STATS_CAP_NET_DROPS);
static_assert(1 + MTCP_STATS_COUNT(MTCP_STATS_TCP_DROPS) + MTCP_STATS_COUNT(MTCP_STATS_TCP) <
              MTCP_STATS_CAP_TCP);
static_assert(MTCP_STATS_COUNT(MTCP_STATS_ARP_INVALID) + MTCP_STATS_COUNT(MTCP_STATS_ARP_DROPS) +
                  MTCP_STATS_COUNT(MTCP_STATS_ARP) <
              MTCP_STATS_CAP_ARP);
static_assert(MTCP_STATS_COUNT(MTCP_STATS_QUEUE_DROPS) + MTCP_STATS_COUNT(MTCP_STATS_QUEUE) <
              MTCP_STATS_CAP_QUEUE);
static_assert(MTCP_STATS_COUNT(MTCP_STATS_PORT_DROPS) + MTCP_STATS_COUNT(MTCP_STATS_PORT) +
                  MTCP_STATS_COUNT(MTCP_STATS_PORT_INFO) <
              MTCP_STATS_CAP_PORT);
static_assert(MTCP_STATS_COUNT(MTCP_STATS_NET_DROPS) == net::num_drop_reasons);

// How often run_once publishes: often enough for any reader (a person, a
// scraper), rare enough that copying ~300 words and reading the queue's
// counters (a getsockopt for AF_XDP) stays off the per-packet cost.
static constexpr nanos publish_interval = net::msec(1);

void fill_stats(mtcp_context& c, mtcp_stats& o) {
    o = mtcp_stats{};
    const auto& s = c.st->stats();
    const auto& t = c.tcp->counters();
    const auto& a = c.arp->stats();
#define MVNF_X(n) o.stack.n = s.n;
    MTCP_STATS_STACK(MVNF_X)
#undef MVNF_X
#define MVNF_X(n) o.stack.drops.n = s.drops[size_t(net::drop_reason::n)];
    MTCP_STATS_NET_DROPS(MVNF_X)
#undef MVNF_X
    // Gauges: connections in use (neither free nor in TIME-WAIT), in
    // TIME-WAIT, and holding send/receive buffers (docs/loss-model.md).
    o.tcp.flows = c.tcp->live_connections();
    o.tcp.time_wait = c.tcp->time_wait_connections();
    o.tcp.buffered = c.tcp->buffered_connections();
#define MVNF_X(n) o.tcp.n = t.n;
    MTCP_STATS_TCP_DROPS(MVNF_X)
    MTCP_STATS_TCP(MVNF_X)
#undef MVNF_X
    {
        // rx_invalid is indexed by wire::arp_error, in the list's order.
        size_t i = 0;
#define MVNF_X(n) o.arp.n = a.rx_invalid[i++];
        MTCP_STATS_ARP_INVALID(MVNF_X)
#undef MVNF_X
    }
#define MVNF_X(n) o.arp.n = a.n;
    MTCP_STATS_ARP_DROPS(MVNF_X)
    MTCP_STATS_ARP(MVNF_X)
#undef MVNF_X
    const netio::queue_stats q = c.q->stats();
#define MVNF_X(n) o.queue.n = q.n;
    MTCP_STATS_QUEUE_DROPS(MVNF_X)
    MTCP_STATS_QUEUE(MVNF_X)
#undef MVNF_X
    if (c.cpu == 0 && c.inst->dist) {  // port-wide: carried by core 0 only
        const auto p = c.inst->dist->read_port_counters();
#define MVNF_X(n) o.port.n = p.n;
        MTCP_STATS_PORT_DROPS(MVNF_X)
        MTCP_STATS_PORT(MVNF_X)
#undef MVNF_X
    }
    if (c.cpu == 0 && !c.inst->ports.empty()) {  // what the port is: core 0 only, too
        const netio::port_info& i = c.inst->ports[0]->info();
        o.port.queues = i.num_queues;
        o.port.frame_size = i.buf_size;
        o.port.zero_copy = i.zero_copy ? 1 : 0;
        o.port.xdp_mode = i.xdp_mode == "native" ? 2 : i.xdp_mode == "generic" ? 1 : 0;
    }
    // The version-1 totals.
    o.rx_packets = s.rx_packets, o.rx_bytes = s.rx_bytes;
    o.tx_packets = s.tx_packets, o.tx_bytes = s.tx_bytes;
    o.flows = o.tcp.flows;
    o.tcp_retransmits = t.retransmits;
    o.tcp_rst_sent = t.rst_sent, o.tcp_rst_received = t.rst_received;
    o.tcp_active_opens = t.active_opens, o.tcp_passive_opens = t.passive_opens;
    o.udp_rx = s.udp_rx, o.udp_tx = s.udp_tx;
    o.drops = sum_drops(o);
}

static void store(stats_slot& slot, const mtcp_stats& s) {
    uint64_t w[stats_slot::words];
    std::memcpy(w, &s, sizeof w);
    for (size_t i = 0; i < stats_slot::words; ++i)
        slot.w[i].store(w[i], std::memory_order_relaxed);
}

void store_zero(stats_slot& slot) { store(slot, mtcp_stats{}); }

static void load(const stats_slot& slot, mtcp_stats& s) {
    uint64_t w[stats_slot::words];
    for (size_t i = 0; i < stats_slot::words; ++i) w[i] = slot.w[i].load(std::memory_order_relaxed);
    std::memcpy(&s, w, sizeof w);
}

void add_stats(mtcp_stats& sum, const mtcp_stats& x) {
    uint64_t a[stats_slot::words], b[stats_slot::words];
    std::memcpy(a, &sum, sizeof a);
    std::memcpy(b, &x, sizeof b);
    for (size_t i = 0; i < stats_slot::words; ++i) a[i] += b[i];
    std::memcpy(&sum, a, sizeof a);
}

void publish_stats(mtcp_context& c) {
    mtcp_stats s;
    fill_stats(c, s);
    stats_slot& slot = c.inst->snaps[size_t(c.cpu)];
    store(slot, s);
    slot.driver.store(current_tid(), std::memory_order_relaxed);
    c.pub_next = c.now + publish_interval;
}

void maybe_publish_stats(mtcp_context& c) {
    if (c.now >= c.pub_next) publish_stats(c);
}

bool read_slot(instance& inst, size_t core, mtcp_stats& out) {
    if (core >= inst.ctxs.size() || !inst.ctxs[core].load(std::memory_order_acquire)) return false;
    load(inst.snaps[core], out);
    return true;
}

// The nonzero drop reasons of s as " layer.reason=N" pairs.
static std::string drop_reasons(const mtcp_stats& s) {
    std::string r;
    for_each_stat(s, [&](const char* sec, const char* name, uint64_t v, stat_kind k) {
        if (k != stat_kind::drop || !v) return;
        char b[128];
        std::snprintf(b, sizeof b, " %s.%s=%" PRIu64, sec, name, v);
        r += b;
    });
    return r;
}

// mTCP's line: "[CPU %2d] dev0 flows: %6u, RX: %7ld(pps) (err: %5u), %5.2lf(Gbps), TX: ..."
// err: counts every drop of every layer. When it grew during the last
// second, a second line names the reasons (lifetime counts).
void stat_tick(mtcp_context& c) {
    if (c.now < c.stat_next) return;
    const double secs = 1.0 + double(c.now - c.stat_next) / 1e9;
    c.stat_next = c.now + net::sec(1);
    mtcp_stats s;
    fill_stats(c, s);
    const uint64_t rxp = s.rx_packets - c.stat_rx_pkts, txp = s.tx_packets - c.stat_tx_pkts;
    const uint64_t rxb = s.rx_bytes - c.stat_rx_bytes, txb = s.tx_bytes - c.stat_tx_bytes;
    const bool new_drops = s.drops != c.stat_drops;
    c.stat_rx_pkts = s.rx_packets, c.stat_tx_pkts = s.tx_packets;
    c.stat_rx_bytes = s.rx_bytes, c.stat_tx_bytes = s.tx_bytes;
    c.stat_drops = s.drops;
    const std::string& dev = c.inst->conf.stat_print[0];
    std::printf("[CPU %2d] %s flows: %6" PRIu64 ", RX: %7.0f(pps) (err: %5" PRIu64
                "), %5.2f(Gbps), TX: %7.0f(pps), %5.2f(Gbps)\n",
                c.cpu, dev.c_str(), s.flows, double(rxp) / secs, s.drops,
                double(rxb) * 8 / secs / 1e9, double(txp) / secs, double(txb) * 8 / secs / 1e9);
    if (new_drops)
        std::printf("[CPU %2d] %s drops:%s\n", c.cpu, dev.c_str(), drop_reasons(s).c_str());
    if (c.cpu == 0 && c.inst->ctxs.size() > 1) {
        // The total from every live core's published slot (lifetime counters;
        // ours first, so it is current).
        publish_stats(c);
        mtcp_stats all{}, x;
        for (size_t i = 0; i < c.inst->ctxs.size(); ++i)
            if (read_slot(*c.inst, i, x)) add_stats(all, x);
        std::printf("[ ALL ] %s flows: %6" PRIu64 ", RX: %10" PRIu64 "(pkts) (err: %5" PRIu64
                    "), TX: %10" PRIu64 "(pkts)\n",
                    dev.c_str(), all.flows, all.rx_packets, all.drops, all.tx_packets);
    }
    std::fflush(stdout);
}

// The JSON object of s: keys are the struct's fields, sections nested.
std::string stats_json(int core, const mtcp_stats& s) {
    std::string j = "{\"core\":" + std::to_string(core);
    std::string_view cur;  // "": the top level
    bool first = false;    // no key yet in the current object
    for_each_stat(s, [&](const char* sec, const char* name, uint64_t v, stat_kind) {
        const std::string_view next(sec);
        if (next != cur) {
            // "stack.drops" is the object "drops" inside "stack".
            if (cur == "stack.drops") j += "}}";
            else if (!cur.empty() && next != "stack.drops") j += "}";
            j += ",\"";
            j += next == "stack.drops" ? "drops" : next;
            j += "\":{";
            cur = next;
            first = true;
        }
        if (!first) j += ",";
        first = false;
        j += "\"";
        j += name;
        j += "\":" + std::to_string(v);
    });
    j += cur == "stack.drops" ? "}}}" : cur.empty() ? "}" : "}}";
    return j;
}

}  // namespace mvnf::api

using namespace mvnf;
using namespace mvnf::api;

extern "C" {

int mtcp_get_stats_sized(mctx_t mctx, struct mtcp_stats* out, size_t size) try {
    instance* inst = the_instance();
    if (!out || !inst || size == 0) return set_errno_ret(EINVAL);
    mtcp_stats sum{}, x;
    bool found = false;
    for (size_t i = 0; i < inst->ctxs.size(); ++i) {
        mtcp_context* c = inst->ctxs[i].load(std::memory_order_acquire);
        if (!c || (mctx && c != mctx)) continue;
        // Only the context's own threads may touch it (it cannot be freed
        // under them); they publish first, so what they read is current.
        // Anyone else reads the slot alone.
        const pid_t me = current_tid();
        stats_slot& slot = inst->snaps[i];
        if (mctx && (me == slot.owner.load(std::memory_order_relaxed) ||
                     me == slot.driver.load(std::memory_order_relaxed))) {
            const int saved = errno;
            switch (route_call(c)) {
                case route::here: publish_stats(*c); break;
                case route::forward: (void)forward(c, [c] { return publish_stats(*c), 0; }); break;
                case route::fail: break;
            }
            errno = saved;
        }
        if (!read_slot(*inst, i, x)) continue;  // destroyed meanwhile
        add_stats(sum, x);
        found = true;
    }
    if (mctx && !found) return set_errno_ret(EINVAL);
    std::memcpy(out, &sum, std::min(size, sizeof sum));
    return 0;
} catch (...) {
    return api_exception("mtcp_get_stats");
}

int mtcp_get_stats(mctx_t mctx, struct mtcp_stats* out) {
    return mtcp_get_stats_sized(mctx, out, sizeof *out);
}

int mtcp_get_stats_json(mctx_t mctx, char* buf, size_t len) try {
    MVNF_ROUTE(mctx, -1, mtcp_get_stats_json(mctx, buf, len));
    if (!enter(mctx)) return -1;
    mtcp_stats s;
    fill_stats(*mctx, s);
    const std::string j = stats_json(mctx->cpu, s);
    if (buf && len) {
        const size_t n = std::min(len - 1, j.size());
        std::memcpy(buf, j.data(), n);
        buf[n] = '\0';
    }
    return int(j.size());
} catch (...) {
    return api_exception("mtcp_get_stats_json");  // std::string can throw bad_alloc
}

}  // extern "C"
