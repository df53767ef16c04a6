// Send and receive rings are lent to a connection while it can still use
// them. The arena holds max_buffers pairs (mTCP's max_num_buffers; rcvbuf +
// sndbuf each, at most one per connection of max_concurrency); the pool
// holds twice max_concurrency connection blocks. A connection takes a pair
// when it is created (connect, SYN, SYN cookie) and is refused without one
// (refused_no_buffers: connect fails with ENOBUFS, a passive open is
// refused as when the pool is full). A connection gives its pair
// back as soon as neither ring can matter again:
//   - in TIME-WAIT (RFC 9293 3.10.7.4: only a retransmitted FIN is answered),
//     once nothing the user may still read is queued;
//   - closed by the application (close(), not shutdown) with every byte it
//     wrote acknowledged, in FIN-WAIT-1/2, CLOSING or LAST-ACK: only our FIN
//     (sequence space, no octets) can still be retransmitted, and nobody will
//     read what arrives. The window stays open (output.cpp) so the peer's
//     FIN can come; data it still sends gets a reset (RFC 9293 3.10.7.4,
//     input.cpp), as for any closed socket.
// So memory follows the connections that move data, and connections that
// wait for a last ACK or 2MSL do not make mtcp_connect / accept fail.
#include "net/tcp/layer.hpp"

namespace mvnf::tcp {

void layer::take_buffers(uint32_t idx) {
    const uint32_t b = _buf_free.back();
    _buf_free.pop_back();
    _slot_buf[idx] = b;
    std::byte* base = _arena.get() + size_t(b) * (size_t(_cfg.sndbuf) + _cfg.rcvbuf);
    _pool[idx].snd = ring(mut_bytes(base, _cfg.sndbuf));
    _pool[idx].rcv = ring(mut_bytes(base + _cfg.sndbuf, _cfg.rcvbuf));
}

void layer::release_buffers(uint32_t idx) {
    if (_slot_buf[idx] == npos) return;
    _buf_free.push_back(_slot_buf[idx]);
    _slot_buf[idx] = npos;
    _pool[idx].snd = ring{};
    _pool[idx].rcv = ring{};
}

void layer::shed_buffers(uint32_t idx) {
    const tcb& c = _pool[idx];
    if (!c.in_use || _slot_buf[idx] == npos || !c.snd.empty() || !c.ooo.empty()) return;
    bool done = false;
    switch (c.st) {
        case state::time_wait: done = c.user_closed || c.rcv.empty(); break;
        case state::fin_wait_1:
        case state::fin_wait_2:
        case state::closing:
        case state::last_ack: done = c.user_closed; break;
        default: break;
    }
    if (done) release_buffers(idx);
}

}  // namespace mvnf::tcp
