// Joins one core's tcp::layer to its net::stack: the stack hands IPPROTO_TCP
// datagrams to transport::input, the layer's segments go out through the
// stack's ip_output. Owned by the API context (one per core).
#pragma once

#include "net/stack.hpp"
#include "net/tcp/layer.hpp"
#include "wire/ipv4.hpp"

namespace mvnf::api {

class tcp_glue final : public net::transport, public tcp::segment_sink {
public:
    explicit tcp_glue(net::stack& st) : _st(st) {}
    void bind(tcp::layer& l) { _tcp = &l; }
    // Segments emitted outside poll() (user send/close) need a time for ARP.
    void set_now(net::nanos now) { _now = now; }

    void input(const wire::ipv4_repr& ip, bytes segment, net::nanos now) override {
        _now = now;
        _tcp->input(ip.src, ip.dst, segment, now);
    }
    void poll_timers(net::nanos now) override {
        _now = now;
        _tcp->poll(now);
    }
    net::nanos next_deadline() const override { return _tcp->next_deadline(); }

    void emit_segment(ipv4_addr, ipv4_addr dst, const wire::tcp_repr& hdr, bytes p1,
                      bytes p2) override {
        net::tx_buffer buf;
        if (!_st.alloc_tx(buf)) return;  // counted by the stack; TCP retransmits
        const size_t len = hdr.header_len() + p1.size() + p2.size();
        if (len > buf.l4_capacity()) {
            _st.free_tx(buf);
            return;
        }
        hdr.emit(mut_bytes(buf.l4(), len), _st.local_ip(), dst, p1, p2);
        net::ipv4_send h;
        h.dst = dst;
        (void)_st.send_ipv4(buf, h, uint32_t(len), _now);
    }

private:
    net::stack& _st;
    tcp::layer* _tcp = nullptr;
    net::nanos _now = 0;
};

}  // namespace mvnf::api
