// tcp::layer: one core's TCP. Owns the connection pool (2 x max_concurrency
// control blocks and max_buffers send/receive ring pairs, allocated once at
// construction), the 4-tuple flow table, listeners with SYN backlogs, the
// timer wheel and the event queue. The stack feeds it segments (input) and
// time (poll); the socket API calls the rest. Split by concern: layer.cpp
// (pool, table, API), input.cpp, output.cpp, timers.cpp, buffers.cpp (ring
// pairs lent to connections), time_wait.cpp, ctl_queue.cpp (control segments
// waiting for TX buffers), answer_limits.cpp (challenge ACKs and resets to
// closed ports, rate-limited), sack.cpp, rack_tlp.cpp (RFC 8985), undo.cpp
// (RFC 3522 / 3708 undo), ecn.cpp (RFC 3168), isn.cpp, congestion/.
#pragma once

#include <algorithm>
#include <memory>
#include <span>
#include <vector>

#include "common/result.hpp"
#include "net/timer_wheel.hpp"
#include "net/tcp/isn.hpp"
#include "net/tcp/tcb.hpp"
#include "net/tcp/types.hpp"

namespace mvnf::tcp {

// RFC 2883 4: the first SACK block of seg reports a duplicate when it lies
// below the cumulative ACK or inside the second block. False when it does
// not; the block is stored in out when it does (sack.cpp).
bool dsack_block(const wire::tcp_repr& seg, seq_range& out);

struct conn_info {
    state st = state::closed;
    error err = error::none;
    uint16_t mss = 0;
    uint16_t advmss = 0;  // the MSS our SYN or SYN-ACK offers (TCP_MAXSEG-capped)
    bool ws_ok = false, ts_ok = false, sack_ok = false, ecn_ok = false;
    uint8_t snd_shift = 0, rcv_shift = 0;
    uint32_t cwnd = 0, ssthresh = 0, snd_wnd = 0, flight = 0;
    nanos srtt = 0, rto = 0;
    nanos last_data_rx = 0;  // when in-order data last arrived (or the handshake ended)
    seq32 iss, irs, snd_una, snd_nxt, rcv_nxt;
    size_t send_queued = 0, recv_queued = 0;
};

class layer {
public:
    layer(const config& cfg, segment_sink& out);
    layer(const layer&) = delete;
    layer& operator=(const layer&) = delete;

    // ---- driven by the stack
    // One segment from IPv4 (addresses as in the IP header).
    // ip_ecn: the IPv4 header's ECN field (RFC 3168 5; 3 = CE).
    void input(ipv4_addr src, ipv4_addr dst, bytes segment, nanos now, uint8_t ip_ecn = 0);
    // Runs every timer due at or before now.
    void poll(nanos now);
    // An ICMP error quoting one of our segments (RFC 1122 4.2.3.9, RFC 5927).
    enum class icmp_kind : uint8_t { hard_unreachable, frag_needed, soft };
    void icmp_error(const four_tuple& t, seq32 quoted_seq, icmp_kind kind, uint16_t next_mtu,
                    nanos now);
    // When poll() next has timer work, or no_deadline; "now" (0) while
    // output waits for TX buffers, so the stack polls again instead of
    // sleeping. Can be earlier than any connection's deadline (a timer whose
    // deadline moved later stays armed until then: timers.cpp), never later.
    nanos next_deadline() const {
        if (_txw_head != npos || _ctl_len) return 0;
        const nanos d = _wheel.next_deadline();
        return d == net::never ? no_deadline : d;
    }

    // ---- socket-level API
    [[nodiscard]] result<handle, error> listen(ipv4_addr ip, uint16_t port, uint32_t backlog);
    [[nodiscard]] result<handle, error> accept(handle listener);
    // local_port 0 picks an ephemeral port (through the port filter if set).
    // user_mss: TCP_MAXSEG set before connect(), so the SYN advertises it.
    [[nodiscard]] result<handle, error> connect(ipv4_addr local_ip, uint16_t local_port,
                                                ipv4_addr remote_ip, uint16_t remote_port,
                                                nanos now, uint16_t user_mss = 0);
    // push = false only queues the data: the caller sends it later with
    // push() (the C API coalesces the writes of one loop iteration so that
    // back-to-back writes leave as one segment, as mTCP does).
    //
    // flags (Linux's semantics): send_more (MSG_MORE) holds a partial last
    // segment for this write's own output (the next ACK, push or the cork
    // timer sends it) and puts no PSH at its end; send_eor (MSG_EOR) ends a
    // record: no segment, first transmission or retransmission, carries
    // octets of it and of later writes together. A record end is kept only
    // when the whole write was queued; when max_records ends wait
    // unacknowledged, a further send_eor write is refused (would_block).
    static constexpr uint8_t send_more = 1, send_eor = 2;
    [[nodiscard]] result<size_t, error> send(handle h, bytes data, nanos now, bool push = true,
                                             uint8_t flags = 0);
    // Sends what send(..., push = false) queued, as far as the windows allow
    // (holding a partial tail if the latest write had send_more). force: also what Nagle, a cork or MSG_MORE holds (Linux pushes so
    // each time TCP_NODELAY is set to 1).
    void push(handle h, nanos now, bool force = false);
    [[nodiscard]] result<size_t, error> recv(handle h, mut_bytes out, nanos now);
    [[nodiscard]] result<void, error> shutdown_write(handle h, nanos now);
    // Graceful close; RST instead if unread data remains (RFC 9293 3.10.4 / RFC 1122 4.2.2.13).
    // On a listener: stops listening and resets connections not yet accepted.
    [[nodiscard]] result<void, error> close(handle h, nanos now);
    [[nodiscard]] result<void, error> abort(handle h, nanos now);

    [[nodiscard]] result<void, error> set_nodelay(handle h, bool on);
    // TCP_CORK: hold a partial last segment until uncorked, a full segment
    // is queued, or the cork timer (Linux's 200 ms ceiling) fires.
    [[nodiscard]] result<void, error> set_cork(handle h, bool on, nanos now);
    // What later handshakes offer and accept (Linux's sysctls tcp_timestamps
    // and tcp_ecn, config::timestamps and config::ecn); open connections keep
    // what they agreed.
    void set_negotiation(bool timestamps, uint8_t ecn) {
        _cfg.timestamps = timestamps;
        _cfg.ecn = ecn;
    }
    // TCP_NOTSENT_LOWAT: writable (readiness) only while fewer than
    // lowat/2 octets wait unsent, and send() queues only while fewer than
    // lowat do (Linux's tcp_stream_memory_free). 0: no limit.
    [[nodiscard]] result<void, error> set_notsent_lowat(handle h, uint32_t lowat);
    [[nodiscard]] result<void, error> set_keepalive(handle h, bool on, nanos now);
    [[nodiscard]] result<void, error> set_congestion(handle h, congestion_algo a);

    // Socket options of the C API (setsockopt). 0 restores the config value.
    [[nodiscard]] result<void, error> set_keepalive_params(handle h, nanos idle, nanos interval,
                                                           uint8_t probes);
    // TCP_MAXSEG: caps the send MSS (applied to the handshake if still pending).
    [[nodiscard]] result<void, error> set_max_segment(handle h, uint16_t mss);
    // TCP_USER_TIMEOUT: abort (timed_out, with a RST) when data stays
    // unacknowledged, or waits behind a zero window, this long. 0: off.
    [[nodiscard]] result<void, error> set_user_timeout(handle h, nanos timeout);
    // SO_SNDBUF / SO_RCVBUF: usable part of the rings, at most the configured size.
    [[nodiscard]] result<void, error> set_buffer_limits(handle h, uint32_t snd, uint32_t rcv);
    // MSG_PEEK: copies unread bytes without consuming them (0 at EOF).
    [[nodiscard]] result<size_t, error> peek(handle h, mut_bytes out) const;
    // The connection's addresses (getsockname/getpeername after accept).
    std::optional<four_tuple> tuple(handle h) const;

    // Level-triggered readiness (ev:: flags) and the edge queue for epoll.
    uint32_t readiness(handle h) const;
    bool next_event(event& out);

    // Back to the state of construction with the clock at `now` (timer
    // wheel, counters, ephemeral port sequence, event queue), for a harness
    // that reuses one layer for many runs (fuzz/). Refuses (false) unless
    // the layer is idle: no connection in any state (TIME-WAIT included),
    // no listener, flow table empty, nothing queued for TX.
    [[nodiscard]] bool reset(nanos now);

    std::optional<conn_info> info(handle h) const;
    const stats& counters() const { return _stats; }
    const config& cfg() const { return _cfg; }
    // How many more connections can open now: each needs a buffer pair and
    // a connection block, free or taken from the oldest in TIME-WAIT.
    size_t free_connections() const { return std::min(_buf_free.size(), _free.size() + _tw_count); }
    size_t time_wait_connections() const { return _tw_count; }
    // Connections that are neither free nor in TIME-WAIT.
    size_t live_connections() const { return _pool.size() - _free.size() - _tw_count; }
    // Send/receive buffer pairs: max_buffers, at most max_concurrency.
    size_t buffer_pairs() const {
        return _cfg.max_buffers == 0 ? _cfg.max_concurrency
                                     : std::min(_cfg.max_buffers, _cfg.max_concurrency);
    }
    // Connections holding send/receive buffers (at most buffer_pairs()).
    size_t buffered_connections() const { return buffer_pairs() - _buf_free.size(); }
    // Connection blocks: handles index [0, slot_count()), listeners above.
    size_t slot_count() const { return _pool.size(); }
    static size_t slots_for(uint32_t max_concurrency) { return 2 * size_t(max_concurrency); }

    // Batch prefetch (the stack's pre-pass over a received burst). With many
    // connections the flow table and the connection blocks miss the caches;
    // loading the whole burst's buckets, then its blocks, before the frames
    // are processed overlaps those misses. Below config::prefetch_min_flows
    // connections everything stays cached and the pass would be overhead.
    bool wants_prefetch() const {
        return _pool.size() - _free.size() >= _cfg.prefetch_min_flows;
    }
    // For segments from (remote, rport) to (local, lport). No state changes.
    struct flow_ref {
        ipv4_addr local, remote;
        uint16_t local_port, remote_port;
    };
    void prefetch_flows(std::span<const flow_ref> flows) const;
    size_t connections_in(state s) const;

    // mTCP's RSS-aware port choice: connect() keeps the first ephemeral port
    // the filter accepts (e.g. whose hash maps back to this core).
    using port_filter = bool (*)(void* ctx, const four_tuple& t);
    void set_port_filter(port_filter f, void* ctx) { _port_filter = f, _port_ctx = ctx; }

private:
    // The timer wheel: 1 us ticks (deadlines stay as exact as the RTO
    // arithmetic needs), 256 slots per level (6 levels, 24 KiB of heads).
    static constexpr nanos timer_tick = 1000;
    static constexpr size_t timer_slots = 256;

    struct listener {
        bool in_use = false;
        uint32_t gen = 0;
        ipv4_addr ip;
        uint16_t port = 0;
        uint32_t backlog = 0;
        uint32_t half_open = 0;     // SYN-RECEIVED children (the SYN backlog)
        uint32_t q_head = 0, q_len = 0;  // accept queue in _accept_slots
        nanos cookies_until = 0;    // accept cookie ACKs until then
        uint16_t user_mss = 0;      // TCP_MAXSEG: advertised in SYN-ACKs, inherited
    };

    // ---- layer.cpp
    uint16_t first_port() const;
    tcb* lookup(handle h);
    const tcb* lookup(handle h) const;
    listener* lookup_listener(handle h);
    uint32_t find_flow(const four_tuple& t) const;
    int find_listener(ipv4_addr ip, uint16_t port) const;
    uint32_t alloc_tcb(const four_tuple& t, nanos now);
    void free_tcb(uint32_t idx);
    void hash_insert(uint32_t idx);
    void hash_remove(uint32_t idx);
    uint32_t hash_of(const four_tuple& t) const;
    handle handle_of(uint32_t idx) const { return {idx, _pool[idx].gen}; }
    void post(uint32_t idx, uint32_t flags);
    void post_listener(uint32_t li, uint32_t flags);
    void enqueue_accept(tcb& c);
    void init_tcb_options(tcb& c, nanos now);
    uint32_t tsval(const tcb& c, nanos now) const;
    nanos keep_idle(const tcb& c) const { return c.keep_idle ? c.keep_idle : _cfg.keepalive_idle; }
    nanos keep_intvl(const tcb& c) const {
        return c.keep_intvl ? c.keep_intvl : _cfg.keepalive_interval;
    }
    uint8_t keep_probes(const tcb& c) const {
        return c.keep_probes ? c.keep_probes : _cfg.keepalive_probes;
    }
    void close_listener(listener& l, nanos now);
    // connection finished (CLOSED): free now, or keep for the user to read err
    void finish(uint32_t idx, error why);

    // ---- timers.cpp (one wheel timer per slot, armed at or before tcb.deadline)
    void reschedule(uint32_t idx);
    void unschedule(uint32_t idx);
    void on_timers(uint32_t idx, nanos now);
    void on_rexmt_timeout(uint32_t idx, nanos now);
    void on_persist_timeout(tcb& c, nanos now);
    void on_keep_timeout(uint32_t idx, nanos now);
    void rtt_sample(tcb& c, nanos rtt);
    void arm_rexmt(tcb& c, nanos now);
    bool user_timed_out(const tcb& c, nanos now) const;

    // ---- buffers.cpp (send/receive rings lent to connections that need them)
    void take_buffers(uint32_t idx);
    void release_buffers(uint32_t idx);
    void shed_buffers(uint32_t idx);

    // ---- time_wait.cpp (RFC 9293 3.10.7.4 TIME-WAIT, and reuse of its slots)
    void enter_time_wait(uint32_t idx, nanos now);
    void tw_unlink(uint32_t idx);
    // Frees the connection that entered TIME-WAIT first; false if none could be.
    bool reclaim_time_wait();

    // ---- input.cpp
    void input_listen(int li, const four_tuple& t, const wire::tcp_repr& seg, bytes payload,
                      nanos now);
    // refused: not a valid cookie (the caller counts and resets); full: a valid
    // cookie but no connection block (counted drop_no_tcb; reset).
    enum class cookie_result : uint8_t { accepted, refused, full, held };
    cookie_result accept_cookie(int li, const four_tuple& t, const wire::tcp_repr& seg, nanos now,
                                uint32_t& idx_out);
    void input_syn_sent(uint32_t idx, const wire::tcp_repr& seg, bytes payload, nanos now);
    void input_synced(uint32_t idx, const wire::tcp_repr& seg, bytes payload, nanos now,
                      uint8_t ip_ecn = 0);
    bool process_ack(uint32_t idx, const wire::tcp_repr& seg, uint32_t payload_len, nanos now);
    void process_text(tcb& c, seq32 seq, bytes payload, bool fin, nanos now);
    void process_fin(uint32_t idx, nanos now);
    void adopt_syn_options(tcb& c, const wire::tcp_repr& seg, nanos now);
    void on_established(uint32_t idx, nanos now);
    void enter_recovery(tcb& c, nanos now);

    // ---- ecn.cpp (RFC 3168)
    void ecn_on_syn(tcb& c, const wire::tcp_repr& seg);
    void ecn_on_synack(tcb& c, const wire::tcp_repr& seg);
    void ecn_on_segment(tcb& c, const wire::tcp_repr& seg, uint8_t ip_ecn);
    void ecn_on_ece(tcb& c, nanos now);
    uint8_t ecn_outgoing(tcb& c, uint8_t& flags, seq32 seq, uint32_t len);

    // ---- undo.cpp (RFC 3522 / 3708 / 4015)
    void undo_begin(tcb& c, nanos now);
    bool undo_open(const tcb& c, nanos now) const;
    void undo_note_retransmit(tcb& c, seq32 s, uint32_t len, nanos now);
    void undo_reduction(tcb& c, seq32 ack, uint32_t acked);
    bool undo_on_ack(tcb& c, const wire::tcp_repr& seg, uint32_t acked);
    void undo_on_dsack(tcb& c, seq_range d, nanos now);
    void retransmit_first(tcb& c, nanos now);
    uint32_t segment_cap(const tcb& c) const;
    bool paws_reject(tcb& c, const wire::tcp_repr& seg, nanos now) const;
    bool time_wait_reopens(const tcb& c, const wire::tcp_repr& seg) const;
    void note_old_data(tcb& c, const wire::tcp_repr& seg, size_t len);
    // answer_limits.cpp
    void challenge_ack(tcb& c, nanos now);
    void answer_unacceptable(tcb& c, const wire::tcp_repr& seg, size_t payload_len, nanos now);
    bool closed_rst_allowed(nanos now);

    // ---- output.cpp
    // how: push_normal; push_force sends what a cork, MSG_MORE or Nagle
    // holds (TCP_NODELAY set); push_wakeup does so and flags the last
    // segment PSH (the cork timer, as Linux's tcp_write_wakeup).
    static constexpr uint8_t push_normal = 0, push_force = 1, push_wakeup = 2;
    void output(uint32_t idx, nanos now, uint8_t how = push_normal);
    uint32_t notsent_lowat(const tcb& c) const {
        return c.notsent_lowat ? c.notsent_lowat : _cfg.notsent_lowat;
    }
    // Linux's TSO frame size for this connection, in segments (output.cpp).
    uint32_t tso_segs(const tcb& c) const;
    // MSG_EOR records (output.cpp): the first record end above s, if any;
    // len cut so a segment at s spans no record end; PSH for a segment
    // (it covers the end of a write without MSG_MORE, or ends a record).
    bool record_end_after(const tcb& c, seq32 s, seq32& end) const;
    uint32_t record_cap(const tcb& c, seq32 s, uint32_t len) const;
    uint8_t push_flag(const tcb& c, seq32 s, uint32_t len) const;
    // False when the sink had no TX buffer: nothing changed but the
    // connection is queued for tx_retry().
    bool send_segment(tcb& c, uint8_t flags, seq32 seq, uint32_t len, nanos now);
    void tx_block(uint32_t idx);
    void tx_retry(nanos now);
    // A segment with no connection to hold it (a reset, a cookie SYN-ACK)
    // that found no TX buffer: kept for the next poll (ctl_queue.cpp).
    void emit_or_defer(const four_tuple& t, const wire::tcp_repr& h);
    void defer_ctl(const four_tuple& t, const wire::tcp_repr& h);
    void ctl_retry();
    void send_ack(tcb& c, nanos now);
    void send_rst_for(const four_tuple& t, const wire::tcp_repr& seg, uint32_t payload_len);
    void send_rst(tcb& c, nanos now);
    void send_synack_cookie(const four_tuple& t, const wire::tcp_repr& seg, uint16_t user_mss,
                            nanos now);
    // The MSS our SYN or SYN-ACK advertises: the interface's, or less by TCP_MAXSEG.
    uint16_t advertised_mss(uint16_t user_mss) const {
        return user_mss ? std::min(_cfg.mss, user_mss) : _cfg.mss;
    }
    uint16_t window_field(tcb& c);
    uint32_t receive_window(const tcb& c) const;
    bool window_update_due(const tcb& c) const;
    void after_recv(tcb& c, nanos now);

    // ---- sack.cpp (RFC 2018 / 6675)
    void sack_fill(const tcb& c, wire::tcp_options& o) const;
    void note_duplicate(tcb& c, seq32 l, seq32 r);
    void note_ooo_arrival(tcb& c, seq32 s);
    void ts_rtt_sample(tcb& c, uint32_t tsecr, nanos now);
    uint32_t sack_update(tcb& c, const wire::tcp_repr& seg, nanos now);
    bool sack_is_lost(const tcb& c, seq32 s) const;
    uint32_t sack_pipe(const tcb& c) const;
    bool sack_next_seg(const tcb& c, seq32& s, uint32_t& len, bool lost_only = true) const;
    void sack_rules_3_4(uint32_t idx, uint32_t cap, nanos now);
    void rack_mark_lost_in_recovery(tcb& c);

    // ---- rack_tlp.cpp (RFC 8985: tail loss probe, RACK's time rule)
    bool probe_allowed(const tcb& c) const;
    void arm_probe(tcb& c, nanos now);
    void on_probe_timeout(uint32_t idx, nanos now);
    // Processes an ACK for a probe in flight; true when it shows holes below
    // the probe that are now lost (the caller starts recovery).
    bool tlp_on_ack(tcb& c, const wire::tcp_repr& seg, nanos now);
    bool reorder_allowed(const tcb& c) const;
    void arm_reorder(tcb& c, nanos now);
    void on_reorder_timeout(uint32_t idx, nanos now);

    config _cfg;
    // The handshake options of construction, which set_negotiation changes
    // and reset() restores.
    bool _timestamps0 = false;
    uint8_t _ecn0 = 0;
    segment_sink& _out;
    std::vector<tcb> _pool;
    std::unique_ptr<std::byte[]> _arena;
    std::vector<uint32_t> _free;        // free slot indices (a stack)
    std::vector<uint32_t> _buf_free;    // free buffer pairs in _arena (a stack)
    std::vector<uint32_t> _slot_buf;    // per slot: its buffer pair, or npos
    std::vector<uint32_t> _buckets;     // flow table heads (power of two)
    std::unique_ptr<net::timer[]> _timers;  // per slot, beside the pool (tcbs stay copyable)
    net::timer_wheel _wheel{timer_tick, timer_slots};
    std::vector<listener> _listeners;
    std::vector<uint32_t> _accept_slots;  // max_listeners * max_backlog
    std::vector<event> _events;
    size_t _ev_head = 0, _ev_len = 0;
    stats _stats;
    uint16_t _next_port = 0;
    port_filter _port_filter = nullptr;
    void* _port_ctx = nullptr;
    nanos _challenge_window = 0;
    uint32_t _challenge_count = 0, _challenge_budget = 0;
    nanos _closed_rst_window = 0;
    uint32_t _closed_rst_count = 0;
    // Connections whose output found no TX buffer, in FIFO order, retried at
    // the next poll(). An intrusive list kept beside the pool (not in the
    // tcbs) so reusing a slot cannot corrupt it; a slot is listed at most once.
    std::vector<uint32_t> _txw_next;
    std::vector<uint8_t> _txw_in;
    uint32_t _txw_head = npos, _txw_tail = npos;
    // Connections in TIME-WAIT, oldest first (time_wait.cpp): when the pool
    // is empty a new connection takes the oldest one's slot instead of
    // failing. Intrusive, beside the pool, like the list above.
    std::vector<uint32_t> _tw_next, _tw_prev;
    std::vector<uint8_t> _tw_in;
    uint32_t _tw_head = npos, _tw_tail = npos;
    size_t _tw_count = 0;
    // Control segments waiting for a TX buffer (ctl_queue.cpp): a ring of
    // fixed size taken at construction.
    struct ctl_segment {
        four_tuple t;
        wire::tcp_repr h;
    };
    std::vector<ctl_segment> _ctl;
    size_t _ctl_head = 0, _ctl_len = 0;
};

}  // namespace mvnf::tcp
