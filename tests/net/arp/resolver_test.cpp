// Tests of the per-core ARP resolver with a fake clock and a fake link:
// requests, flush on reply, backoff and give-up, queue bounds, RFC 826 merge
// rule, answering requests, gratuitous ARP, malformed input, and two cores
// sharing one table. Every test ends with all buffers back (no leak).
#include <gtest/gtest.h>

#include "arp_test_util.hpp"
#include "net/arp/resolver.hpp"

using namespace mvnf;
using namespace mvnf::arp;
using namespace mvnf::arp::test;
using net::msec;
using net::sec;
using outcome = net::neighbor::outcome;

namespace {

const mac_addr peer_mac{{0x02, 0, 0, 0, 0, 0x02}};
const ipv4_addr peer_ip{10, 0, 0, 2};

struct ArpResolver : ::testing::Test {
    table tbl{256, sec(60), sec(1)};
    fake_link link;
    resolver_config cfg = [] {
        resolver_config c;
        c.gratuitous = false;
        return c;
    }();

    void TearDown() override { EXPECT_EQ(link.free_buffers(), link.total_buffers()); }
    void reply_from_peer(resolver& r, nanos now) {
        auto f = arp_frame(wire::arp_op::reply, link.mac, peer_mac, peer_ip, link.mac, link.ip);
        r.input(f, now);
    }
};

}  // namespace

TEST_F(ArpResolver, StaticEntryResolvesWithoutTraffic) {
    tbl.add_static(peer_ip, 32, peer_mac);
    resolver r(tbl, cfg);
    r.attach(link);
    auto f = link.make_ipv4_frame(1);
    mac_addr m;
    EXPECT_EQ(r.resolve(peer_ip, f, 0, m), outcome::resolved);
    EXPECT_EQ(m, peer_mac);
    link.free_frame(f);
    r.poll_timers(sec(100));
    EXPECT_TRUE(link.sent.empty());
    EXPECT_EQ(r.next_deadline(), net::never);
}

TEST_F(ArpResolver, MissQueuesRequestsAndFlushesOnReply) {
    resolver r(tbl, cfg);
    r.attach(link);
    mac_addr m;
    for (uint8_t i = 0; i < 3; ++i) {
        auto f = link.make_ipv4_frame(i);
        EXPECT_EQ(r.resolve(peer_ip, f, msec(i), m), outcome::queued);
    }
    ASSERT_EQ(link.sent.size(), 1u);  // one request for three frames
    auto req = parse_sent(link.sent[0]);
    EXPECT_EQ(req.op, wire::arp_op::request);
    EXPECT_EQ(req.target_ip, peer_ip);
    EXPECT_EQ(req.sender_ip, link.ip);
    EXPECT_EQ(req.sender_mac, link.mac);
    EXPECT_EQ(r.held_frames(), 3u);

    reply_from_peer(r, msec(5));
    ASSERT_EQ(link.sent.size(), 4u);
    for (uint8_t i = 0; i < 3; ++i) {
        const auto& f = link.sent[1 + i];
        for (int b = 0; b < 6; ++b) EXPECT_EQ(uint8_t(f[b]), peer_mac.b[b]);
        EXPECT_EQ(uint8_t(f[14]), i);  // order kept
    }
    EXPECT_EQ(r.stats().flushed, 3u);
    EXPECT_EQ(r.pending(), 0u);
    auto f = link.make_ipv4_frame(9);
    EXPECT_EQ(r.resolve(peer_ip, f, msec(6), m), outcome::resolved);
    link.free_frame(f);
}

TEST_F(ArpResolver, RetriesWithBackoffThenGivesUp) {
    cfg.max_retries = 16;
    cfg.retry_initial = msec(100);
    cfg.retry_max = sec(1);
    resolver r(tbl, cfg);
    r.attach(link);
    mac_addr m;
    for (uint8_t i = 0; i < 4; ++i) {
        auto f = link.make_ipv4_frame(i);
        ASSERT_EQ(r.resolve(peer_ip, f, 0, m), outcome::queued);
    }
    // Step the fake clock from deadline to deadline, checking the gaps.
    std::vector<nanos> request_times{0};
    nanos now = 0;
    for (int guard = 0; guard < 100000 && r.pending(); ++guard) {
        nanos d = r.next_deadline();
        ASSERT_NE(d, net::never);
        now = std::max(now, d);
        size_t before = link.sent.size();
        r.poll_timers(now);
        if (link.sent.size() > before) request_times.push_back(now);
    }
    ASSERT_EQ(request_times.size(), 17u);  // the first request + 16 retries
    EXPECT_EQ(request_times[1] - request_times[0], msec(100));
    EXPECT_EQ(request_times[2] - request_times[1], msec(200));
    EXPECT_EQ(request_times[3] - request_times[2], msec(400));
    EXPECT_EQ(request_times[4] - request_times[3], msec(800));
    EXPECT_EQ(request_times[5] - request_times[4], sec(1));  // capped
    EXPECT_EQ(r.stats().gave_up, 1u);
    EXPECT_EQ(r.stats().dropped_gave_up, 4u);
    EXPECT_EQ(r.stats().requests_sent, 17u);
    EXPECT_EQ(r.held_frames(), 0u);

    // Fails fast during the hold-down, then tries again.
    auto f = link.make_ipv4_frame(7);
    EXPECT_EQ(r.resolve(peer_ip, f, now + msec(10), m), outcome::unreachable);
    EXPECT_EQ(r.stats().dropped_failed, 1u);
    EXPECT_EQ(r.resolve(peer_ip, f, now + sec(2), m), outcome::queued);
    EXPECT_EQ(r.stats().requests_sent, 18u);
    r.clear();
}

// A thousand connections opened at once to a peer not yet resolved: every
// first SYN (a 66-byte frame) waits for the reply, none is refused; the
// bound is in bytes, as Linux's unres_qlen_bytes.
TEST_F(ArpResolver, DefaultQueueHoldsAThousandSmallFramesAndBoundsBytes) {
    fake_link big(2048);
    resolver r(tbl, resolver_config{});
    r.attach(big);
    mac_addr m;
    for (int i = 0; i < 1000; ++i) {
        auto f = big.make_ipv4_frame(uint8_t(i));
        f.len = 66;
        ASSERT_EQ(r.resolve(peer_ip, f, 0, m), outcome::queued) << i;
    }
    EXPECT_EQ(r.held_frames(), 1000u);
    EXPECT_EQ(r.stats().dropped_queue_full, 0u);
    r.clear();
    // By bytes: 212992 / 1514 = 140 full-size frames, the 141st is refused.
    resolver r2(tbl, resolver_config{});
    r2.attach(big);
    int queued = 0;
    for (int i = 0; i < 200; ++i) {
        auto f = big.make_ipv4_frame(uint8_t(i));
        f.len = 1514;
        if (r2.resolve(ipv4_addr(10, 0, 0, 9), f, 0, m) == outcome::queued) ++queued;
        else big.free_frame(f);
    }
    EXPECT_EQ(queued, 140);
    EXPECT_EQ(r2.stats().dropped_queue_full, 60u);
    r2.clear();
    EXPECT_EQ(big.free_buffers(), big.total_buffers());
}

TEST_F(ArpResolver, QueueAndPendingBounds) {
    cfg.queue_per_dest = 2;
    cfg.max_pending = 2;
    resolver r(tbl, cfg);
    r.attach(link);
    mac_addr m;
    std::vector<netio::packet> refused;
    auto try_send = [&](ipv4_addr ip, uint8_t tag, nanos now) {
        auto f = link.make_ipv4_frame(tag);
        auto o = r.resolve(ip, f, now, m);
        if (o != outcome::queued) refused.push_back(f);
        return o;
    };
    EXPECT_EQ(try_send(peer_ip, 1, 0), outcome::queued);
    EXPECT_EQ(try_send(peer_ip, 2, 0), outcome::queued);
    EXPECT_EQ(try_send(peer_ip, 3, 0), outcome::unreachable);
    EXPECT_EQ(try_send(ipv4_addr(10, 0, 0, 3), 4, 0), outcome::queued);
    // Both slots began this instant: the third destination is refused
    // rather than evicting a request that just left.
    EXPECT_EQ(try_send(ipv4_addr(10, 0, 0, 4), 5, 0), outcome::unreachable);
    EXPECT_EQ(r.stats().dropped_queue_full, 1u);
    EXPECT_EQ(r.stats().dropped_pending_full, 1u);
    EXPECT_EQ(r.held_frames(), 3u);
    // Later, a new destination evicts the one that waited longest (peer_ip,
    // two frames dropped and counted) and gets its request out.
    size_t sent_before = link.sent.size();
    EXPECT_EQ(try_send(ipv4_addr(10, 0, 0, 4), 6, msec(1)), outcome::queued);
    EXPECT_EQ(r.stats().pending_evicted, 1u);
    EXPECT_EQ(r.stats().dropped_evicted, 2u);
    EXPECT_EQ(r.held_frames(), 2u);
    ASSERT_EQ(link.sent.size(), sent_before + 1);
    EXPECT_EQ(parse_sent(link.sent.back()).target_ip, ipv4_addr(10, 0, 0, 4));
    for (auto& f : refused) link.free_frame(f);
    r.clear();
    EXPECT_EQ(r.held_frames(), 0u);
}

// The neighbour-starvation attack: spoofed SYNs from on-link addresses that
// never answer keep every pending slot busy. A real neighbour asked for
// later still gets its request out and its frames delivered.
TEST_F(ArpResolver, UnresolvableFloodCannotLockOutARealNeighbour) {
    cfg.max_pending = 4;
    resolver r(tbl, cfg);
    r.attach(link);
    mac_addr m;
    nanos now = 0;
    for (uint8_t i = 0; i < 40; ++i) {
        now += msec(100);  // 10 per second, as the attack
        auto f = link.make_ipv4_frame(i);
        ASSERT_EQ(r.resolve(ipv4_addr(10, 0, 1, i), f, now, m), outcome::queued);
        r.poll_timers(now);
    }
    EXPECT_EQ(r.pending(), 4u);
    EXPECT_EQ(r.stats().pending_evicted, 36u);
    now += msec(1);
    auto f = link.make_ipv4_frame(99);
    ASSERT_EQ(r.resolve(peer_ip, f, now, m), outcome::queued);
    EXPECT_EQ(parse_sent(link.sent.back()).target_ip, peer_ip);
    size_t before = link.sent.size();
    reply_from_peer(r, now + msec(1));
    ASSERT_EQ(link.sent.size(), before + 1);
    EXPECT_EQ(uint8_t(link.sent.back()[14]), 99);
    r.clear();
}

// An entry that ages out under traffic stays usable: frames keep going to
// the old MAC (no queueing, no broadcast) while unicast probes re-confirm it.
TEST_F(ArpResolver, StaleEntryKeepsFlowingWhileUnicastProbeConfirms) {
    cfg.retry_initial = sec(1);
    resolver r(tbl, cfg);
    r.attach(link);
    ASSERT_EQ(tbl.learn(peer_ip, peer_mac, 0), table::update_result::updated);
    mac_addr m;
    nanos now = sec(61);
    auto f = link.make_ipv4_frame(1);
    EXPECT_EQ(r.resolve(peer_ip, f, now, m), outcome::resolved);
    EXPECT_EQ(m, peer_mac);
    link.free_frame(f);
    ASSERT_EQ(link.sent.size(), 1u);
    const auto& probe = link.sent[0];
    for (int b = 0; b < 6; ++b) EXPECT_EQ(uint8_t(probe[b]), peer_mac.b[b]);  // unicast
    EXPECT_EQ(parse_sent(probe).target_ip, peer_ip);
    EXPECT_EQ(r.stats().probes_sent, 1u);
    // More frames meanwhile: still resolved, no second probe.
    f = link.make_ipv4_frame(2);
    EXPECT_EQ(r.resolve(peer_ip, f, now + msec(5), m), outcome::resolved);
    link.free_frame(f);
    EXPECT_EQ(r.stats().probes_sent, 1u);
    EXPECT_EQ(r.stats().stale_used, 2u);
    EXPECT_EQ(r.stats().requests_sent, 0u);
    reply_from_peer(r, now + msec(10));
    EXPECT_EQ(r.pending(), 0u);
    EXPECT_EQ(tbl.lookup(peer_ip, now + msec(10)).state, entry_state::reachable);
    EXPECT_EQ(r.next_deadline(), net::never);
}

// A stale neighbour that answers no probe (it left) is failed after
// `probes` unicast requests; the next frame then resolves afresh by broadcast.
TEST_F(ArpResolver, StaleEntryNobodyConfirmsIsFailedThenResolvedAgain) {
    cfg.retry_initial = sec(1);
    cfg.probes = 3;
    resolver r(tbl, cfg);
    r.attach(link);
    ASSERT_EQ(tbl.learn(peer_ip, peer_mac, 0), table::update_result::updated);
    mac_addr m;
    nanos now = sec(61);
    auto f = link.make_ipv4_frame(1);
    EXPECT_EQ(r.resolve(peer_ip, f, now, m), outcome::resolved);
    link.free_frame(f);
    for (int guard = 0; guard < 100000 && r.pending(); ++guard) {
        now = std::max(now, r.next_deadline());
        r.poll_timers(now);
    }
    EXPECT_EQ(r.stats().probes_sent, 3u);
    EXPECT_EQ(r.stats().probes_failed, 1u);
    EXPECT_EQ(tbl.lookup(peer_ip, now).state, entry_state::failed);
    f = link.make_ipv4_frame(2);
    EXPECT_EQ(r.resolve(peer_ip, f, now + sec(2), m), outcome::queued);
    auto req = link.sent.back();
    for (int b = 0; b < 6; ++b) EXPECT_EQ(uint8_t(req[b]), 0xff);  // broadcast now
    EXPECT_EQ(r.stats().requests_sent, 1u);
    r.clear();
}

// Upper-layer advice (TCP acknowledged new data): an entry past half its
// timeout, or stale with a probe under way, is reachable again with no ARP
// traffic; a fresh one is left alone (the call stays a read).
TEST_F(ArpResolver, TcpProgressConfirmsTheEntryWithoutProbes) {
    resolver r(tbl, cfg);
    r.attach(link);
    ASSERT_EQ(tbl.learn(peer_ip, peer_mac, 0), table::update_result::updated);
    r.confirm(peer_ip, sec(10));  // fresh: nothing written
    EXPECT_EQ(r.stats().confirmed, 0u);
    r.confirm(peer_ip, sec(45));  // past half of 60 s
    EXPECT_EQ(r.stats().confirmed, 1u);
    mac_addr m;
    auto f = link.make_ipv4_frame(1);
    EXPECT_EQ(r.resolve(peer_ip, f, sec(100), m), outcome::resolved);  // would be stale at 100
    link.free_frame(f);
    EXPECT_TRUE(link.sent.empty());
    EXPECT_EQ(r.stats().stale_used, 0u);
    // Stale at 106: the first frame starts a unicast probe; progress then
    // confirms the entry and ends the probe.
    f = link.make_ipv4_frame(2);
    EXPECT_EQ(r.resolve(peer_ip, f, sec(106), m), outcome::resolved);
    link.free_frame(f);
    EXPECT_EQ(r.stats().probes_sent, 1u);
    EXPECT_EQ(r.pending(), 1u);
    r.confirm(peer_ip, sec(106) + msec(20));
    EXPECT_EQ(r.stats().confirmed, 2u);
    EXPECT_EQ(r.pending(), 0u);
    EXPECT_EQ(tbl.lookup(peer_ip, sec(107)).state, entry_state::reachable);
    r.poll_timers(sec(120));
    EXPECT_EQ(r.stats().probes_sent, 1u);
    EXPECT_EQ(r.stats().probes_failed, 0u);
    // An unknown or failed address is not created by advice.
    r.confirm(ipv4_addr{10, 0, 0, 99}, sec(120));
    EXPECT_EQ(tbl.lookup(ipv4_addr{10, 0, 0, 99}, sec(120)).state, entry_state::none);
    EXPECT_EQ(r.stats().confirmed, 2u);
}

TEST_F(ArpResolver, MergeRuleUnsolicitedReplyCreatesNothing) {
    resolver r(tbl, cfg);
    r.attach(link);
    ipv4_addr other(10, 0, 0, 50);
    // A reply between two other hosts, broadcast: not for us, not known.
    r.input(arp_frame(wire::arp_op::reply, mac_addr::broadcast(), peer_mac, peer_ip, peer_mac,
                      other),
            0);
    EXPECT_EQ(tbl.lookup(peer_ip, 0).state, entry_state::none);
    EXPECT_EQ(r.stats().rx_unsolicited, 1u);
    // Gratuitous ARP from an unknown host: still not created.
    r.input(arp_frame(wire::arp_op::request, mac_addr::broadcast(), peer_mac, peer_ip, {}, peer_ip),
            0);
    EXPECT_EQ(tbl.lookup(peer_ip, 0).state, entry_state::none);
    // Once known (it asked for us), gratuitous ARP updates the entry.
    r.input(arp_frame(wire::arp_op::request, mac_addr::broadcast(), peer_mac, peer_ip, {}, link.ip),
            msec(1));
    EXPECT_EQ(tbl.lookup(peer_ip, msec(1)).mac, peer_mac);
    mac_addr moved{{0x02, 0, 0, 0, 0, 0x77}};
    r.input(arp_frame(wire::arp_op::request, mac_addr::broadcast(), moved, peer_ip, {}, peer_ip),
            msec(2));
    EXPECT_EQ(tbl.lookup(peer_ip, msec(2)).mac, moved);
    link.sent.clear();
}

TEST_F(ArpResolver, AnswersRequestsForOurIpOnly) {
    resolver r(tbl, cfg);
    r.attach(link);
    r.input(arp_frame(wire::arp_op::request, mac_addr::broadcast(), peer_mac, peer_ip, {}, link.ip),
            0);
    ASSERT_EQ(link.sent.size(), 1u);
    auto rep = parse_sent(link.sent[0]);
    EXPECT_EQ(rep.op, wire::arp_op::reply);
    EXPECT_EQ(rep.sender_mac, link.mac);
    EXPECT_EQ(rep.sender_ip, link.ip);
    EXPECT_EQ(rep.target_mac, peer_mac);
    EXPECT_EQ(rep.target_ip, peer_ip);
    for (int b = 0; b < 6; ++b) EXPECT_EQ(uint8_t(link.sent[0][b]), peer_mac.b[b]);  // unicast
    EXPECT_EQ(tbl.lookup(peer_ip, 0).state, entry_state::reachable);  // "tell" side learnt
    r.input(arp_frame(wire::arp_op::request, mac_addr::broadcast(), peer_mac, peer_ip, {},
                      ipv4_addr(10, 0, 0, 99)),
            0);
    EXPECT_EQ(link.sent.size(), 1u);
    // A unicast frame to someone else's MAC is ignored.
    r.input(arp_frame(wire::arp_op::request, peer_mac, peer_mac, peer_ip, {}, link.ip), 0);
    EXPECT_EQ(link.sent.size(), 1u);
    EXPECT_EQ(r.stats().rx_not_for_us, 1u);
    // Someone claiming our IP is a conflict, never learnt.
    r.input(arp_frame(wire::arp_op::reply, mac_addr::broadcast(), peer_mac, link.ip, {}, link.ip),
            0);
    EXPECT_EQ(r.stats().address_conflicts, 1u);
    EXPECT_EQ(tbl.lookup(link.ip, 0).state, entry_state::none);
}

TEST_F(ArpResolver, GratuitousAtStartAndMalformedCounted) {
    cfg.gratuitous = true;
    resolver r(tbl, cfg);
    r.attach(link);
    EXPECT_EQ(r.next_deadline(), 0u);
    r.poll_timers(0);
    ASSERT_EQ(link.sent.size(), 1u);
    auto g = parse_sent(link.sent[0]);
    EXPECT_EQ(g.sender_ip, link.ip);
    EXPECT_EQ(g.target_ip, link.ip);
    EXPECT_EQ(r.next_deadline(), net::never);
    r.poll_timers(1);
    EXPECT_EQ(link.sent.size(), 1u);  // once

    auto f = arp_frame(wire::arp_op::request, mac_addr::broadcast(), peer_mac, peer_ip, {}, link.ip);
    auto bad = f;
    bad[15] = std::byte{6};
    r.input(bad, 0);
    bad = f;
    bad[21] = std::byte{9};
    r.input(bad, 0);
    r.input(std::span<const std::byte>(f).first(20), 0);
    EXPECT_EQ(r.stats().rx_invalid[unsigned(wire::arp_error::bad_hardware_type)], 1u);
    EXPECT_EQ(r.stats().rx_invalid[unsigned(wire::arp_error::bad_opcode)], 1u);
    EXPECT_EQ(r.stats().rx_invalid[unsigned(wire::arp_error::truncated)], 1u);
    EXPECT_EQ(link.sent.size(), 1u);
    EXPECT_EQ(tbl.lookup(peer_ip, 0).state, entry_state::none);
}

TEST_F(ArpResolver, NoBufferForRequestIsCountedNotFatal) {
    resolver r(tbl, cfg);
    r.attach(link);
    auto f = link.make_ipv4_frame(1);
    link.fail_alloc = true;
    mac_addr m;
    EXPECT_EQ(r.resolve(peer_ip, f, 0, m), outcome::queued);
    EXPECT_EQ(r.stats().alloc_failures, 1u);
    link.fail_alloc = false;
    r.poll_timers(r.next_deadline() + msec(200));  // the retry goes out
    EXPECT_EQ(link.sent.size(), 1u);
    r.clear();
}

// Two cores share the table; ARP frames reach core 0 only. Core 1's frame is
// flushed when its periodic table check sees core 0's entry.
TEST_F(ArpResolver, ReplyOnAnotherCoreFlushesThroughSharedTable) {
    fake_link link1;
    resolver core0(tbl, cfg), core1(tbl, cfg);
    core0.attach(link);
    core1.attach(link1);
    auto f = link1.make_ipv4_frame(42);
    mac_addr m;
    ASSERT_EQ(core1.resolve(peer_ip, f, 0, m), outcome::queued);
    EXPECT_LE(core1.next_deadline(), cfg.table_poll);
    reply_from_peer(core0, net::usec(500));
    core1.poll_timers(net::usec(500));  // before its table check: still held
    EXPECT_EQ(core1.held_frames(), 1u);
    core1.poll_timers(cfg.table_poll);
    EXPECT_EQ(core1.held_frames(), 0u);
    ASSERT_EQ(link1.sent.size(), 2u);  // its request, then the frame
    EXPECT_EQ(uint8_t(link1.sent[1][14]), 42);
    EXPECT_EQ(uint8_t(link1.sent[1][5]), peer_mac.b[5]);
    EXPECT_EQ(link1.free_buffers(), link1.total_buffers());
}
