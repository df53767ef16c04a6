// libFuzzer target: one raw Ethernet frame into the whole ingress path of a
// per-core stack (Ethernet, ARP resolver, IPv4 + reassembly, ICMP, UDP, TCP
// with a listener and an established connection). After the frame: bounds
// hold, the established connection still carries data byte-exact unless the
// frame legitimately changed it, and every pool is full again after teardown.
// One world serves the whole process: after each input it is torn down (the
// pool checks run), reset to its state of construction and re-established
// (world::reset), so an input sees exactly what a fresh world would show it.
#include <cstddef>
#include <cstdint>

#include "fuzz_world.hpp"

using namespace mvnf;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 2048) return -1;  // larger than a link buffer: never reaches the stack
    static fuzz::world& w = fuzz::the_world();
    const auto before = w.ta.tcp().info(w.conn_a);
    const bytes frame(reinterpret_cast<const std::byte*>(data), size);
    w.inject(frame);
    w.check_bounds();
    // Let A's answers reach B and B's reactions come back.
    for (int i = 0; i < 5; ++i) w.step(net::msec(1));
    w.check_bounds();
    const auto after = w.ta.tcp().info(w.conn_a);
    // The frame put no data into the connection: the next bytes must be B's, exact.
    if (before && after && after->rcv_nxt == before->rcv_nxt && after->recv_queued == 0)
        w.check_flow(300, uint8_t(size));
    // A UDP datagram queued by the frame is readable and within bounds.
    std::byte buf[2048];
    while (auto d = w.a.udp_recvfrom(w.udp_a, buf)) MVNF_FUZZ_CHECK(d->len <= d->full_len);
    w.teardown_and_check();
    fuzz::reset_world();
    return 0;
}
