// Process and context life cycle of the C API: mtcp_init (config, port,
// neighbours), mtcp_destroy, get/setconf, core affinity, per-core contexts,
// signals. Opening happens in stages; a failed call leaves nothing behind.
#include <sched.h>
#include <signal.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "api/context.hpp"
#include "net/arp/conf.hpp"
#include "net/tcp/isn.hpp"

namespace mvnf::api {

static std::unique_ptr<instance> g_inst;
static cfg::config g_pending;
static bool g_overridden = false;
static mtcp_conf g_override{};

instance* the_instance() { return g_inst.get(); }

static void fill_conf(const cfg::config& c, mtcp_conf& out) {
    out.num_cores = c.num_cores;
    out.max_concurrency = c.max_concurrency;
    out.max_num_buffers = c.max_num_buffers;
    out.rcvbuf_size = c.rcvbuf;
    out.sndbuf_size = c.sndbuf;
    out.tcp_timewait = c.tcp_timewait;
    out.tcp_timeout = c.tcp_timeout;
    out.tcp_fin_wait_2 = c.tcp_fin_wait_2;
    out.max_listeners = c.max_listeners;
    out.arp_queue_len = c.arp_queue_len;
    out.destroy_drain_ms = c.destroy_drain_ms;
}

// The fields of mtcp_conf, by their mtcp.conf key: mtcp_setconf checks them
// with the file's own rules (cfg::parse), so both ways of setting a key
// accept and refuse the same values. tcp_timeout is mTCP's only field
// without a check here: mTCP programs pass 0 and negative values through it
// and mtcp_create_context reads anything <= 0 as "no idle timeout".
struct conf_key {
    const char* name;
    int mtcp_conf::*field;
};
static constexpr conf_key checked_keys[] = {
    {"num_cores", &mtcp_conf::num_cores},
    {"max_concurrency", &mtcp_conf::max_concurrency},
    {"max_num_buffers", &mtcp_conf::max_num_buffers},
    {"rcvbuf", &mtcp_conf::rcvbuf_size},
    {"sndbuf", &mtcp_conf::sndbuf_size},
    {"tcp_timewait", &mtcp_conf::tcp_timewait},
    {"tcp_fin_wait_2", &mtcp_conf::tcp_fin_wait_2},
    {"max_listeners", &mtcp_conf::max_listeners},
    {"arp_queue_len", &mtcp_conf::arp_queue_len},
    {"destroy_drain_ms", &mtcp_conf::destroy_drain_ms},
};

// Empty when every field is in range, else why not (names the key).
static std::string check_keys(const mtcp_conf& conf) {
    for (const auto& k : checked_keys) {
        auto r = cfg::parse(std::string(k.name) + " = " + std::to_string(conf.*k.field) + "\n",
                            "mtcp_setconf");
        if (!r) return r.error().message;
    }
    return {};
}

// mtcp_setconf after mtcp_init (mTCP allows it; epwget sets max_concurrency
// this way): the struct replaces the running values, which every context
// created afterwards is sized with. num_cores cannot exceed what the port's
// queues and the context table were set up for at mtcp_init.
static int set_running_conf(instance& inst, const mtcp_conf& m) {
    if (size_t(m.num_cores) > inst.ctxs.size()) {
        std::fprintf(stderr,
                     "mtcp_setconf: num_cores %d exceeds the %zu cores mtcp_init opened the "
                     "port for (set num_cores before mtcp_init)\n",
                     m.num_cores, inst.ctxs.size());
        return set_errno_ret(EINVAL);
    }
    cfg::config c = inst.conf;
    c.num_cores = m.num_cores;
    c.max_concurrency = m.max_concurrency;
    c.max_num_buffers = m.max_num_buffers;
    c.rcvbuf = m.rcvbuf_size;
    c.sndbuf = m.sndbuf_size;
    c.tcp_timewait = m.tcp_timewait;
    c.tcp_timeout = m.tcp_timeout;
    c.tcp_fin_wait_2 = m.tcp_fin_wait_2;
    c.max_listeners = m.max_listeners;
    c.arp_queue_len = m.arp_queue_len;
    c.destroy_drain_ms = m.destroy_drain_ms;
    if (auto v = cfg::validate(c, "mtcp_setconf"); !v) {
        std::fprintf(stderr, "%s\n", v.error().str().c_str());
        return set_errno_ret(EINVAL);
    }
    // Only the fields the struct carries are written back: running stack
    // threads read other fields of inst.conf at the same time (stat_print,
    // busy_poll_us in loop.cpp), and assigning the whole config would rewrite
    // those too (a data race ThreadSanitizer reports in thread mode).
    cfg::config& r = inst.conf;
    r.num_cores = c.num_cores;
    r.max_concurrency = c.max_concurrency;
    r.max_num_buffers = c.max_num_buffers;
    r.rcvbuf = c.rcvbuf;
    r.sndbuf = c.sndbuf;
    r.tcp_timewait = c.tcp_timewait;
    r.tcp_timeout = c.tcp_timeout;
    r.tcp_fin_wait_2 = c.tcp_fin_wait_2;
    r.max_listeners = c.max_listeners;
    r.arp_queue_len = c.arp_queue_len;
    r.destroy_drain_ms = c.destroy_drain_ms;
    return 0;
}

// mtcp_setconf before mtcp_init: fields that differ from the defaults win
// over the file (programs call getconf, change one field, then setconf).
static void apply_override(cfg::config& c) {
    if (!g_overridden) return;
    mtcp_conf d{};
    fill_conf(cfg::config{}, d);
    if (g_override.num_cores != d.num_cores) c.num_cores = g_override.num_cores;
    if (g_override.max_concurrency != d.max_concurrency)
        c.max_concurrency = g_override.max_concurrency;
    if (g_override.max_num_buffers != d.max_num_buffers)
        c.max_num_buffers = g_override.max_num_buffers;
    if (g_override.rcvbuf_size != d.rcvbuf_size) c.rcvbuf = g_override.rcvbuf_size;
    if (g_override.sndbuf_size != d.sndbuf_size) c.sndbuf = g_override.sndbuf_size;
    if (g_override.tcp_timewait != d.tcp_timewait) c.tcp_timewait = g_override.tcp_timewait;
    if (g_override.tcp_timeout != d.tcp_timeout) c.tcp_timeout = g_override.tcp_timeout;
    if (g_override.tcp_fin_wait_2 != d.tcp_fin_wait_2) c.tcp_fin_wait_2 = g_override.tcp_fin_wait_2;
    if (g_override.max_listeners != d.max_listeners) c.max_listeners = g_override.max_listeners;
    if (g_override.arp_queue_len != d.arp_queue_len) c.arp_queue_len = g_override.arp_queue_len;
    if (g_override.destroy_drain_ms != d.destroy_drain_ms)
        c.destroy_drain_ms = g_override.destroy_drain_ms;
}

static int init_error(const std::string& msg, int e) {
    std::fprintf(stderr, "%s\n", msg.c_str());
    return set_errno_ret(e);
}

static int do_init(const char* path) {
    if (g_inst) return init_error("mtcp_init: already initialised (call mtcp_destroy first)", EBUSY);
    if (!path) return init_error("mtcp_init: no configuration file given", EINVAL);
    auto loaded = cfg::load(path);
    if (!loaded) return init_error(loaded.error().str(), EINVAL);
    cfg::config c = std::move(*loaded);
    apply_override(c);
    if (c.num_cores < 1 || c.max_concurrency < 1 || c.rcvbuf < 1024 || c.sndbuf < 1024)
        return init_error(std::string(path) + ": values set by mtcp_setconf are out of range",
                          EINVAL);
    if (auto v = cfg::validate(c, path); !v) return init_error(v.error().str(), EINVAL);
    if (c.ports.empty())
        return init_error(std::string(path) + ": no 'port' configured", EINVAL);
    if (c.ports.size() > 1)
        return init_error(std::string(path) +
                              ": several ports are not supported yet; configure one 'port'",
                          EINVAL);
    const std::string port_at = std::string(path) + ":" + std::to_string(c.port_line);
    // The port: a bare name takes the `io` backend's prefix (none after an
    // mTCP-only io such as dpdk: the file loads, the name needs a prefix).
    std::string spec = c.ports[0];
    if (spec.find(':') == std::string::npos && !spec.starts_with("vale")) {
        if (c.io.empty())
            return init_error(port_at + ": port '" + spec +
                                  "' has no backend prefix and 'io' names mTCP's own I/O "
                                  "module; write e.g. afxdp:" + spec + " or shm:" + spec,
                              EINVAL);
        spec = c.io + ":" + spec;
    }
    for (const auto& n : c.notices) std::fprintf(stderr, "mtcp_init: %s\n", n.c_str());
    if (c.ip_addr.is_any()) {
        // A kernel interface's own address, as mTCP uses its ports' addresses.
        std::string why;
        auto ka = kernel_interface_addr(spec, why);
        if (!ka)
            return init_error(port_at + ": 'ip_addr' is not set and port " + spec +
                                  " gives none (" + why + ")",
                              EINVAL);
        c.ip_addr = ka->ip;
        c.netmask = ka->netmask;
        std::fprintf(stderr, "mtcp_init: ip_addr not set: using %s/%s, the kernel's address on %s\n",
                     c.ip_addr.str().c_str(), c.netmask.str().c_str(), ka->ifname.c_str());
    }

    auto inst = std::make_unique<instance>();
    inst->conf = c;
    // The secret keys ISNs (RFC 6528) and SYN cookies (RFC 4987): it must
    // be unpredictable, and without the kernel's randomness nothing here is
    // (a clock can be guessed to the millisecond). So mtcp_init fails, with
    // getrandom's errno, before any port is opened.
    ssize_t got;
    do {
        got = getrandom(inst->secret.data(), inst->secret.size(), 0);
    } while (got < 0 && errno == EINTR);
    if (got != ssize_t(inst->secret.size())) {
        const int e = got < 0 ? errno : EIO;
        return init_error(std::string("mtcp_init: getrandom: ") + std::strerror(e) +
                              " (no secret for ISNs and SYN cookies)",
                          e);
    }
    inst->ctxs = std::vector<std::atomic<mtcp_context*>>(size_t(c.num_cores));
    inst->snaps = std::make_unique<stats_slot[]>(size_t(c.num_cores));

    // Neighbours: static arp.conf entries in the table shared by all cores.
    // Without the keys, mTCP's places: config/arp.conf and config/route.conf
    // relative to the working directory, when present (mTCP reads them
    // there). A line says which files were read.
    auto conf_file = [](const std::string& key_value, const char* mtcp_default) {
        if (!key_value.empty()) return key_value;
        return access(mtcp_default, F_OK) == 0 ? std::string(mtcp_default) : std::string();
    };
    const std::string arp_path = conf_file(c.arp_conf, "config/arp.conf");
    const std::string route_path = conf_file(c.route_conf, "config/route.conf");
    inst->arp_table = std::make_unique<arp::table>(4096, net::msec(uint64_t(c.arp_reachable_ms)));
    if (!arp_path.empty()) {
        auto e = arp::load_arp_conf(arp_path);
        if (!e) return init_error(e.error().message(), EINVAL);
        if (auto r = arp::add_static_entries(*inst->arp_table, *e, arp_path); !r)
            return init_error(r.error().message(), EINVAL);
        std::fprintf(stderr, "mtcp_init: read %s (%zu static ARP entries)\n", arp_path.c_str(),
                     e->size());
    }
    if (!route_path.empty()) {
        auto r = arp::load_route_conf(route_path);
        if (!r) return init_error(r.error().message(), EINVAL);
        // The stack routes on-link or through one gateway: take the default route.
        for (const auto& e : *r)
            if (e.prefix_len == 0 && !e.gateway.is_any() && inst->conf.gateway.is_any())
                inst->conf.gateway = e.gateway;
        std::fprintf(stderr, "mtcp_init: read %s (%zu routes; default gateway %s)\n",
                     route_path.c_str(), r->size(),
                     inst->conf.gateway.is_any() ? "none" : inst->conf.gateway.str().c_str());
    }

    netio::port_config pc;
    const bool sw = c.dist == cfg::dist_mode::sw;
    pc.num_queues = uint32_t(sw ? 1 : c.num_queues ? c.num_queues : c.num_cores);
    pc.ring_size = uint32_t(c.ring_size);
    pc.buf_size = uint32_t(c.buf_size);
    pc.pcap_file = c.pcap_file;
    auto port = netio::open_port(spec, pc);
    if (!port) return init_error("mtcp_init: " + port.error().message, ENODEV);
    // How frames move (XDP mode, zero-copy or why not, queues, frame size):
    // what decides the cost per packet, and otherwise invisible.
    std::fprintf(stderr, "mtcp_init: port %s\n", netio::describe((*port)->info()).c_str());
    if (!sw && (*port)->num_queues() < unsigned(c.num_cores))
        return init_error("mtcp_init: port " + spec + " has fewer queues than num_cores", EINVAL);
    inst->mac = c.mac.is_zero() ? (*port)->info().mac : c.mac;
    inst->ports.push_back(std::move(*port));

    // Distribution: hw hands each core its own port queue; sw starts the
    // dispatcher thread(s) that own the single port queue (src/dist).
    dist::engine_config dc;
    dc.dist_mode = sw ? dist::mode::sw : dist::mode::hw;
    dc.dist_layout = c.dispatcher_threads == 2 ? dist::layout::split : dist::layout::single;
    dc.ncores = unsigned(c.num_cores);
    dc.rx_batch = uint32_t(c.rx_batch);
    dc.tx_batch = uint32_t(c.tx_batch);
    dc.pipe_size = uint32_t(c.pipe_size);
    dc.overflow_size = uint32_t(c.pipe_size);
    dc.tx_pool_size = std::max(uint32_t(c.pipe_size), uint32_t(c.tx_batch));
    if (c.stat_http_port) {
        std::string why;
        inst->stat_http = stat_server::start(*inst, c.stat_http_ip, c.stat_http_port, why);
        if (!inst->stat_http) {
            const int e = errno;
            return init_error("mtcp_init: " + why, e ? e : EINVAL);
        }
    }
    auto eng = dist::engine::create(*inst->ports[0], dc);
    if (!eng) return init_error("mtcp_init: " + eng.error().message, EINVAL);
    inst->dist = std::move(*eng);
    inst->dist->start();

    g_inst = std::move(inst);
    return 0;
}

// Teardown keeps the stack running while connections the application closed
// still have their FIN (and the data before it) unacknowledged: with a
// user-space stack, segments still queued die with the process (the kernel
// would keep sending them). Bounded by destroy_drain_ms in case the peer is
// gone. Each pass looks only at the connections still draining.
static void drain_fins(mtcp_context* ctx) {
    const tcp::layer& t = *ctx->tcp;
    const nanos limit = net::msec(uint64_t(ctx->inst->conf.destroy_drain_ms));
    // The count of connections in use (the pool's free list, O(1)): none, no scan.
    if (limit == 0 || t.live_connections() == 0) return;
    // One pass over the handle map finds both the connections closed with
    // their FIN in flight (closed_mark) and open sockets shut for writing.
    std::vector<tcp::handle> draining;  // teardown only: allocating here is fine
    for (size_t i = 0; i < ctx->closed_gen.size(); ++i) {
        const int sid = ctx->handle_to_sock[i];
        tcp::handle h;
        if (sid == closed_mark)
            h = {uint32_t(i), ctx->closed_gen[i]};
        else if (const socket_entry* s = ctx->sock(sid); s && s->h.index == i)
            h = s->h;
        else
            continue;
        if (ctx->fin_unacked(h)) draining.push_back(h);
    }
    if (draining.empty()) return;
    (void)ctx->run_until(
        [&] {
            std::erase_if(draining, [&](tcp::handle h) { return !ctx->fin_unacked(h); });
            return draining.empty();
        },
        ctx->clk.now() + limit);
}

static void destroy_context(mtcp_context* ctx) {
    if (!ctx) return;
    ctx->stop_stack_thread();  // thread mode: the owner finishes the teardown
    ctx->flush_writes();       // the last loop iteration's writes
    drain_fins(ctx);
    // The stack references the resolver and TCP: tear down from the top.
    ctx->st->flush();
    ctx->st->set_transport(6, nullptr);
    ctx->st->set_neighbor(nullptr);
    delete ctx;
}

void destroy_instance() {
    if (!g_inst) return;
    g_inst->stat_http.reset();  // its thread reads the slots: stop it first
    for (auto& c : g_inst->ctxs) destroy_context(c.exchange(nullptr, std::memory_order_acq_rel));
    // Every core has released its buffers: stop the dispatchers, then the port.
    if (g_inst->dist) g_inst->dist->stop();
    g_inst->dist.reset();
    g_inst.reset();
    g_overridden = false;
}

}  // namespace mvnf::api

using namespace mvnf;
using namespace mvnf::api;

extern "C" {

int mtcp_init(const char* config_file) try {
    return do_init(config_file);
} catch (...) {
    return api_exception("mtcp_init");
}

void mtcp_destroy(void) try {
    destroy_instance();
} catch (...) {
    (void)api_exception("mtcp_destroy");
}

int mtcp_getconf(struct mtcp_conf* conf) try {
    if (!conf) return set_errno_ret(EINVAL);
    if (g_inst) fill_conf(g_inst->conf, *conf);
    else if (g_overridden) *conf = g_override;
    else fill_conf(cfg::config{}, *conf);
    return 0;
} catch (...) {
    return api_exception("mtcp_getconf");
}

int mtcp_setconf(const struct mtcp_conf* conf) try {
    if (!conf) return set_errno_ret(EINVAL);
    if (std::string why = check_keys(*conf); !why.empty()) {
        std::fprintf(stderr, "mtcp_setconf: %s\n", why.c_str());
        return set_errno_ret(EINVAL);
    }
    if (g_inst) return set_running_conf(*g_inst, *conf);
    g_override = *conf;
    g_overridden = true;
    return 0;
} catch (...) {
    return api_exception("mtcp_setconf");
}

int mtcp_core_affinitize(int cpu) try {
    int target = cpu;
    if (g_inst && cpu >= 0 && size_t(cpu) < g_inst->conf.core_list.size())
        target = g_inst->conf.core_list[size_t(cpu)];
    const long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    if (target < 0 || target >= ncpu || target >= CPU_SETSIZE) return set_errno_ret(EINVAL);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(target, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) return -1;  // errno from the kernel
    return 0;
} catch (...) {
    return api_exception("mtcp_core_affinitize");
}

mctx_t mtcp_create_context(int cpu) try {
    instance* inst = g_inst.get();
    if (!inst) return set_errno_ret(EINVAL), nullptr;
    const cfg::config& c = inst->conf;
    if (cpu < 0 || cpu >= c.num_cores) return set_errno_ret(EINVAL), nullptr;
    if (inst->ctxs[size_t(cpu)].load(std::memory_order_acquire))
        return set_errno_ret(EEXIST), nullptr;

    auto ctx = std::make_unique<mtcp_context>();
    ctx->cpu = cpu;
    ctx->owner = current_tid();
    ctx->inst = inst;
    ctx->q = &inst->dist->core_queue(unsigned(cpu));
    // Every pool is allocated here. A failure (std::bad_alloc with a config
    // too big for memory) unhooks what the stack already references before
    // the members are destroyed, then reaches the caller as ENOMEM.
    try {
        net::stack_config sc = net::stack_config::from(c);
        sc.mac = inst->mac;
        // The IP ID key: a keyed hash of the instance secret under its own
        // label, so it reveals nothing of the ISN/cookie key.
        const uint32_t ident_label[2] = {0x69702d69, 0x64656e74};  // "ip-ident"
        sc.ident_key = tcp::siphash24(inst->secret, ident_label, 2) ^ uint64_t(cpu);
        sc.gateway = c.gateway.is_any() ? inst->conf.gateway : c.gateway;
        sc.max_udp_sockets = 256;
        ctx->st = std::make_unique<net::stack>(sc, *ctx->q);

        arp::resolver_config rc;
        rc.max_retries = uint32_t(c.arp_retries);
        rc.retry_initial = net::msec(uint64_t(c.arp_timeout_ms));
        rc.retry_max = std::max(rc.retry_initial, net::sec(1));
        rc.queue_per_dest = uint32_t(c.arp_queue_len);
        rc.queue_bytes_per_dest = uint32_t(c.arp_queue_bytes);
        ctx->arp = std::make_unique<arp::resolver>(*inst->arp_table, rc);
        ctx->st->set_neighbor(ctx->arp.get());

        tcp::config tc;
        tc.max_concurrency = uint32_t(c.max_concurrency);
        tc.max_buffers = uint32_t(c.max_num_buffers);  // buffer pairs (buffers.cpp)
        tc.max_listeners = uint32_t(c.max_listeners);
        tc.max_backlog = uint32_t(std::min(c.syn_backlog, 65536));
        tc.rcvbuf = uint32_t(c.rcvbuf);
        tc.sndbuf = uint32_t(c.sndbuf);
        tc.event_queue = c.tcp_event_queue > 0 ? uint32_t(c.tcp_event_queue)
                                               : std::max<uint32_t>(4096, 4 * tc.max_concurrency);
        // A burst of SYNs from every concurrent client can outrun the port's TX
        // buffers: room for one cookie SYN-ACK or reset per connection.
        tc.ctl_queue = std::max<uint32_t>(1024, tc.max_concurrency);
        tc.mss = uint16_t(c.mtu - 40);
        tc.syn_cookies = c.syn_cookies;
        tc.ecn = uint8_t(c.tcp_ecn);
        tc.cc = c.cc == cfg::congestion::reno ? tcp::congestion_algo::reno
                                              : tcp::congestion_algo::cubic;
        tc.time_wait = net::sec(uint64_t(c.tcp_timewait));
        tc.idle_timeout = c.tcp_timeout > 0 ? net::sec(uint64_t(c.tcp_timeout)) : 0;
        // 0 = no timeout: the layer arms the orphan timer only when it is non-zero.
        tc.fin_wait_2_timeout = net::sec(uint64_t(c.tcp_fin_wait_2));
        tc.secret = inst->secret;
        ctx->tcp_adapter = std::make_unique<tcp::transport_adapter>(tc, *ctx->st);
        ctx->tcp = &ctx->tcp_adapter->tcp();
        ctx->st->set_transport(6, ctx->tcp_adapter.get());

        const size_t nsocks = size_t(c.max_concurrency) + 64 + tc.max_listeners;
        ctx->socks.resize(nsocks);
        ctx->free_socks.resize(nsocks);
        for (size_t i = 0; i < nsocks; ++i) ctx->free_socks[i] = int(i);
        ctx->free_count = nsocks;
        ctx->handle_to_sock.assign(ctx->tcp->slot_count() + tc.max_listeners, -1);
        ctx->closed_gen.assign(ctx->tcp->slot_count(), 0);
        ctx->udp_socks.reserve(sc.max_udp_sockets);
        ctx->pending_out.reserve(nsocks);
    } catch (...) {
        if (ctx->st) {
            ctx->st->set_transport(6, nullptr);
            ctx->st->set_neighbor(nullptr);
        }
        throw;
    }
    ctx->now = ctx->clk.now();
    ctx->stat_next = ctx->now + net::sec(1);
    // The core's stats slot starts from zero (a previous context's counts
    // are gone with it) before the context can be found.
    stats_slot& slot = inst->snaps[size_t(cpu)];
    store_zero(slot);
    slot.owner.store(ctx->owner, std::memory_order_relaxed);
    slot.driver.store(ctx->owner, std::memory_order_relaxed);
    // Published last: from here on other threads may look it up.
    mtcp_context* none = nullptr;
    if (!inst->ctxs[size_t(cpu)].compare_exchange_strong(none, ctx.get(),
                                                         std::memory_order_acq_rel)) {
        destroy_context(ctx.release());  // another thread created this core's context meanwhile
        return set_errno_ret(EEXIST), nullptr;
    }
    if (c.threads == cfg::thread_mode::stack_thread) {
        try {
            ctx->start_stack_thread();  // std::system_error (EAGAIN) when no thread can start
        } catch (...) {
            inst->ctxs[size_t(cpu)].store(nullptr, std::memory_order_release);
            destroy_context(ctx.release());
            throw;
        }
    }
    return ctx.release();
} catch (...) {
    return api_exception("mtcp_create_context"), nullptr;
}

void mtcp_destroy_context(mctx_t mctx) try {
    // Thread mode: the owner (whose calls are forwarded) tears down itself.
    if (route_call(mctx) == route::fail) return;
    mctx->inst->ctxs[size_t(mctx->cpu)].store(nullptr, std::memory_order_release);
    destroy_context(mctx);
} catch (...) {
    (void)api_exception("mtcp_destroy_context");
}

int GetNumCPUs(void) { return int(sysconf(_SC_NPROCESSORS_ONLN)); }

}  // extern "C"
