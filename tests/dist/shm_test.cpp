// dist over a real shm link across two processes (fork): the child is the
// "wire" peer sending many flows and collecting echoes; the parent runs the
// engine (hw mode on a multi-queue link, sw mode in both layouts on a
// single-queue link) with echoing cores and checks flow affinity.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "dist/engine.hpp"
#include "netio/rss/rss.hpp"
#include "test_port.hpp"

using namespace mvnf;
using namespace mvnf::dist;

namespace {

constexpr unsigned kCores = 3;
constexpr uint32_t kFlows = 60, kPerFlow = 5;

std::vector<std::byte> flow_frame(uint32_t flow, uint32_t tag) {
    return test::ipv4_frame(ipv4_addr(10, 9, uint8_t(flow >> 8), uint8_t(flow)),
                            ipv4_addr(10, 0, 0, 1), uint16_t(30000 + flow), 80, 6, tag);
}

template <class F>
bool until(std::chrono::seconds limit, F&& f) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (f()) return true;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return f();
}

// The peer process: sends every frame, then waits for every echo. Exit code
// 0 on success; never returns into gtest.
[[noreturn]] void child_main(const std::string& spec, unsigned nq) {
    netio::port_config pc;
    pc.num_queues = nq;
    std::unique_ptr<netio::port> port;
    until(std::chrono::seconds(5), [&] {
        auto r = netio::open_port(spec, pc);
        if (r) port = std::move(*r);
        return bool(port);
    });
    if (!port) _exit(10);
    const uint32_t total = kFlows * kPerFlow;
    netio::packet p[1];
    for (uint32_t t = 0; t < total; ++t) {
        auto f = flow_frame(t % kFlows, t);
        bool ok = until(std::chrono::seconds(5), [&] { return port->q(0).alloc_tx(p) == 1; });
        if (!ok) _exit(11);
        std::memcpy(p[0].data, f.data(), f.size());
        p[0].len = uint32_t(f.size());
        if (port->q(0).tx_burst(std::span(p, 1)) != 1) _exit(12);
        port->q(0).flush();
    }
    std::set<uint32_t> echoed;
    bool ok = until(std::chrono::seconds(15), [&] {
        netio::packet rx[32];
        for (unsigned q = 0; q < nq; ++q) {
            unsigned n = port->q(q).rx_burst(rx);
            for (unsigned i = 0; i < n; ++i) echoed.insert(test::frame_tag(rx[i].data));
            port->q(q).release(std::span(rx, n));
        }
        return echoed.size() == total;
    });
    _exit(ok ? 0 : 13);
}

struct shm_case {
    mode m;
    layout lay;
    const char* name;
};

class DistShm : public ::testing::TestWithParam<shm_case> {};

}  // namespace

TEST_P(DistShm, FlowsAcrossProcesses) {
    const auto c = GetParam();
    const unsigned nq = c.m == mode::hw ? kCores : 1;
    const std::string spec =
        "shm:dist_test_" + std::to_string(getpid()) + "_" + c.name;
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) child_main(spec, nq);

    netio::port_config pc;
    pc.num_queues = nq;
    std::unique_ptr<netio::port> port;
    until(std::chrono::seconds(5), [&] {
        auto r = netio::open_port(spec, pc);
        if (r) port = std::move(*r);
        return bool(port);
    });
    if (!port) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        FAIL() << "cannot open " << spec;
    }
    engine_config cfg;
    cfg.dist_mode = c.m;
    cfg.dist_layout = c.lay;
    cfg.ncores = kCores;
    auto e = engine::create(*port, cfg);
    ASSERT_TRUE(e) << e.error().message;
    (*e)->start();

    std::atomic<bool> run{true};
    std::vector<std::vector<uint32_t>> tags(kCores);
    std::vector<std::thread> cores;
    for (unsigned k = 0; k < kCores; ++k)
        cores.emplace_back([&, k] {
            netio::queue& q = (*e)->core_queue(k);
            netio::packet rx[32], tx[32];
            while (run) {
                unsigned n = q.rx_burst(rx);
                if (!n) {
                    q.wait(1'000'000);
                    continue;
                }
                unsigned sent = 0;
                while (sent < n && run) {
                    unsigned m = q.alloc_tx(std::span(tx, n - sent));
                    for (unsigned i = 0; i < m; ++i) {
                        std::memcpy(tx[i].data, rx[sent + i].data, rx[sent + i].len);
                        tx[i].len = rx[sent + i].len;
                    }
                    unsigned a = q.tx_burst(std::span(tx, m));
                    q.free_tx(std::span(tx + a, m - a));
                    sent += a;
                    q.flush();
                }
                for (unsigned i = 0; i < n; ++i) tags[k].push_back(test::frame_tag(rx[i].data));
                q.release(std::span(rx, n));
            }
        });

    int status = -1;
    until(std::chrono::seconds(30), [&] { return waitpid(pid, &status, WNOHANG) == pid; });
    if (status == -1) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    run = false;
    for (auto& t : cores) t.join();
    (*e)->stop();
    ASSERT_TRUE(WIFEXITED(status)) << "child did not finish";
    EXPECT_EQ(WEXITSTATUS(status), 0) << "child: 10 open, 11/12 send, 13 missing echoes";

    std::map<uint32_t, std::set<unsigned>> cores_of_flow;
    size_t total = 0;
    for (unsigned k = 0; k < kCores; ++k)
        for (uint32_t t : tags[k]) {
            ++total;
            uint32_t flow = t % kFlows;
            cores_of_flow[flow].insert(k);
            auto key = netio::parse_flow_key(flow_frame(flow, t));
            EXPECT_EQ(k, netio::rss_pick_queue(key, kCores));
        }
    EXPECT_EQ(total, size_t(kFlows * kPerFlow));
    for (auto& [f, cs] : cores_of_flow) EXPECT_EQ(cs.size(), 1u) << "flow " << f;
    EXPECT_GT(cores_of_flow.size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Modes, DistShm,
                         ::testing::Values(shm_case{mode::hw, layout::single, "hw"},
                                           shm_case{mode::sw, layout::single, "sw_single"},
                                           shm_case{mode::sw, layout::split, "sw_split"}),
                         [](const auto& pinfo) { return std::string(pinfo.param.name); });
