#!/usr/bin/env python3
# Writes the checked-in seed corpora of fuzz/ (valid frames of every protocol
# the stack parses, stateful record scripts, sample configs). Re-run after
# changing the world (fuzz/world.hpp addresses/ports): python3 fuzz/make_seeds.py
import os, struct

here = os.path.dirname(os.path.abspath(__file__))
MAC_A = bytes([2, 0, 0, 0, 0, 0x0a]); MAC_B = bytes([2, 0, 0, 0, 0, 0x0b])
IP_A = bytes([10, 0, 0, 1]); IP_B = bytes([10, 0, 0, 2]); IP_C = bytes([10, 0, 0, 3])

def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def eth(payload, typ=0x0800, dst=MAC_A, src=MAC_B):
    return dst + src + struct.pack('!H', typ) + payload

def ip(proto, payload, src=IP_B, dst=IP_A, ident=1, off=0, mf=False, opts=b''):
    ihl = 5 + len(opts) // 4
    h = struct.pack('!BBHHHBBH4s4s', 0x40 | ihl, 0, ihl * 4 + len(payload), ident,
                    (0x2000 if mf else 0) | off, 64, proto, 0, src, dst) + opts
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + payload

def udp(sport, dport, data, src=IP_B, dst=IP_A):
    h = struct.pack('!HHHH', sport, dport, 8 + len(data), 0)
    ph = src + dst + struct.pack('!BBH', 0, 17, 8 + len(data))
    c = csum(ph + h + data) or 0xffff
    return h[:6] + struct.pack('!H', c) + data

def tcp(sport, dport, seq, ack, flags, data=b'', opts=b'', win=65535, src=IP_B, dst=IP_A):
    off = (20 + len(opts)) // 4
    h = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, off << 4, flags, win, 0, 0) + opts
    ph = src + dst + struct.pack('!BBH', 0, 6, len(h) + len(data))
    c = csum(ph + h + data)
    return h[:16] + struct.pack('!H', c) + h[18:] + data

def icmp(typ, code, rest, data):
    m = struct.pack('!BBH', typ, code, 0) + rest + data
    return m[:2] + struct.pack('!H', csum(m)) + m[4:]

def arp(op, sha, spa, tha, tpa):
    return struct.pack('!HHBBH', 1, 0x0800, 6, 4, op) + sha + spa + tha + tpa

SYN_OPTS = bytes([2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7])
F, S, R, P, A = 1, 2, 4, 8, 16

def write(target, name, data):
    d = os.path.join(here, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)

frames = {
    'arp_request': eth(arp(1, MAC_B, IP_B, b'\0' * 6, IP_A), 0x0806, b'\xff' * 6),
    'arp_reply': eth(arp(2, MAC_B, IP_B, MAC_A, IP_A), 0x0806),
    'udp_dns': eth(ip(17, udp(1000, 53, b'hello fuzz'))),
    'udp_closed_port': eth(ip(17, udp(1000, 9999, b'x' * 20))),
    'icmp_echo': eth(ip(1, icmp(8, 0, struct.pack('!HH', 7, 1), b'ping' * 8))),
    'icmp_unreach_tcp': eth(ip(1, icmp(3, 4, struct.pack('!HH', 0, 1400),
                                        ip(6, tcp(80, 40000, 1, 0, A), src=IP_A, dst=IP_B)[:28]))),
    'tcp_syn_opts': eth(ip(6, tcp(40001, 80, 1000, 0, S, opts=SYN_OPTS))),
    'tcp_syn_plain': eth(ip(6, tcp(40002, 80, 5000, 0, S))),
    'tcp_ack': eth(ip(6, tcp(40000, 80, 1001, 1, A))),
    'tcp_data': eth(ip(6, tcp(40000, 80, 1001, 1, A | P, b'GET / HTTP/1.0\r\n\r\n'))),
    'tcp_fin': eth(ip(6, tcp(40000, 80, 1001, 1, A | F))),
    'tcp_rst': eth(ip(6, tcp(40000, 80, 1001, 0, R))),
    'tcp_sack': eth(ip(6, tcp(40000, 80, 1001, 1, A, opts=bytes([1, 1, 5, 10]) +
                               struct.pack('!II', 100, 200) + bytes([1, 1, 1, 1])))),
    'ip_options': eth(ip(17, udp(1000, 53, b'opt'), opts=bytes([7, 7, 4, 0, 0, 0, 0, 1]))),
    'frag_first': eth(ip(17, udp(1000, 53, b'A' * 40)[:24], ident=9, mf=True)),
    'frag_last': eth(ip(17, udp(1000, 53, b'A' * 40)[24:], ident=9, off=3)),
    'padded_udp': eth(ip(17, udp(1000, 53, b'p'))) + b'\xaa' * 20,
}
for k, v in frames.items():
    write('fuzz_ingress', k, v)

# fuzz_stateful records: op (high bit = side B), then its fields (see fuzz_stateful.cpp).
def rec(op, *fields):
    return bytes([op]) + b''.join(fields)
u8 = lambda v: bytes([v & 0xff])
u16 = lambda v: struct.pack('<H', v)
B = 0x80
steps = rec(0, u8(20)) + rec(0, u8(20)) + rec(0, u8(50))
scripts = {
    'b_sends_a_reads': rec(B | 5, u8(0), u16(3000)) + steps + rec(6, u8(0), u16(4000)),
    'a_connects_b_listens': rec(B | 3, u8(1), u8(3)) + rec(2, u8(1)) + steps + rec(B | 4) +
        rec(5, u8(1), u16(5000)) + steps + rec(B | 6, u8(1), u16(6000)) + rec(7, u8(1)) + steps +
        rec(B | 7, u8(1)) + rec(0, u8(230)),
    'udp_both_ways': rec(10, u16(3000)) + rec(B | 10, u16(100)) + steps + rec(11) + rec(B | 11),
    'lossy_transfer': rec(12, u8(0x15)) + rec(B | 12, u8(0x15)) + rec(5, u8(0), u16(15000)) +
        steps * 4 + rec(0, u8(201)) + rec(B | 6, u8(0), u16(20000)),
    'raw_syn_from_c': rec(1, u16(len(f := eth(ip(6, tcp(5555, 80, 77, 0, S, opts=SYN_OPTS, src=IP_C),
                                                   src=IP_C))))) + f + steps + rec(4),
    'close_abort_shutdown': rec(9, u8(0)) + steps + rec(B | 8, u8(0)) + steps,
}
for k, v in scripts.items():
    write('fuzz_stateful', k, v)

configs = {
    'mtcp.conf': b'''# mTCP configuration
io = shm
num_cores = 2
port = shm:link0
max_concurrency = 10000
max_num_buffers = 10000
rcvbuf = 8192
sndbuf = 8192
tcp_timeout = 30
tcp_timewait = 0
stat_print = shm:link0
ip_addr = 10.0.0.1
netmask = 255.255.255.0
gateway = 10.0.0.254
dist_mode = sw
mac_addr = 02:00:00:00:00:0a
congestion_control = cubic
syn_backlog = 1024
thread_mode = run_to_completion
rx_batch = 64
ring_size = 1024
arp_conf = config/arp.conf
''',
    'arp.conf': b'''ARP_ENTRY 2
10.0.0.2/32 02:00:00:00:00:0b
10.0.1.0/24 02:00:00:00:00:0c
''',
    'route.conf': b'''# routes
ROUTES 2
10.0.0.0/24 eth0
0.0.0.0/0 eth0 10.0.0.254
''',
}
for k, v in configs.items():
    write('fuzz_config', k, v)
