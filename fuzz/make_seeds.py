#!/usr/bin/env python3
# Writes the checked-in seed corpora and dictionaries of fuzz/: valid frames
# of every protocol the stack parses, record scripts for the sequence targets
# (stateful, reassembly, TCP options, ARP, shm ring), sample configs, and a
# .dict of the tokens each target's input is made of. Re-run after changing
# the world (tests/robustness/world.hpp addresses/ports) or a record format:
#   python3 fuzz/make_seeds.py
# It (over)writes its named seeds only: inputs a campaign merged in
# (scripts/fuzz.sh --minutes, hashed names) stay.
# Each record format is described at the top of its fuzz_*.cpp.
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


u32 = lambda v: struct.pack('<I', v & 0xffffffff)

# fuzz_reasm records (fuzz_reasm.cpp): op, then offset/8 (u16), length (u16),
# UDP length (u16), and for the inconsistent datagrams (op bit 2) the data
# bytes past the UDP header; op & 7 == 7 is a time step (u8).
MF = 0x20
def frag(op, off, ln, udp_len, data=b''):
    return bytes([op]) + u16(off // 8) + u16(ln) + u16(udp_len - 8) + data
def tstep(t):
    return bytes([7, t])
reasm = {
    'in_order': frag(MF, 0, 24, 48) + frag(0, 24, 24, 48),
    'reverse': frag(0, 24, 24, 48) + frag(MF, 0, 24, 48),
    'three_overlapping': frag(MF | 1, 0, 32, 88) + frag(MF | 1, 16, 48, 88) + frag(1, 56, 32, 88),
    'duplicate_last': frag(2, 32, 16, 56) + frag(2, 32, 16, 56) + frag(MF | 2, 0, 32, 56),
    'timeout': frag(MF | 3, 0, 64, 200) + tstep(250) + frag(3, 64, 136, 200),
    'conflicting': frag(MF | 4, 0, 32, 64, b'\x11' * 24) + frag(4, 16, 48, 64, b'\x22' * 48),
    'from_c_and_icmp': frag(MF | 0x10, 0, 16, 40) + frag(MF | 0x08, 0, 16, 40) + frag(0x10, 16, 16, 40),
    'df_with_mf': frag(MF | 0x40, 0, 16, 40) + frag(0x40, 16, 16, 40),
    'fill_table': b''.join(frag(MF | (i & 3) | (0x10 if i & 4 else 0) | (0x08 if i & 8 else 0), 8 * i, 16, 400)
                           for i in range(12)),
    'big': frag(MF, 0, 1480, 4000) + frag(MF, 1480, 1480, 4000) + frag(0, 2960, 1040, 4000),
}
for k, v in reasm.items():
    write('fuzz_reasm', k, v)

# fuzz_tcp_options: an option area for the parser (length byte + bytes), the
# amount A sends (u16), then segment records: op (bit 7 raw options, bit 3
# PSH, bit 6 ECE; op & 7 == 7: time step u8); structured: shape, TS delta
# (i8), TSecr (u32), [MSS u16], [WS u8], SACK blocks (offset/100 i8, len/50
# u8) each; raw: length byte + bytes; then the ACK (u8, bit 7: u32 follows)
# and the window (u16).
def area(b):
    return bytes([len(b)]) + b
TS_OPT = bytes([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0])
def seg(op, shape=0, ts_delta=0, tsecr=0, mss=None, ws=None, blocks=(), ack=0, win=65535):
    r = bytes([op])
    if op & 0x80:
        raise ValueError
    r += bytes([shape | (len(blocks) << 4), ts_delta & 0xff]) + u32(tsecr)
    if shape & 2: r += u16(mss)
    if shape & 4: r += bytes([ws])
    for off, ln in blocks:
        r += bytes([off & 0xff, ln])
    return r + bytes([ack]) + u16(win)
def rawseg(op, opts, ack=0, win=65535):
    return bytes([0x80 | op]) + area(opts) + bytes([ack]) + u16(win)
tcpo = {
    'parse_syn': area(SYN_OPTS) + u16(4000) + seg(0, ack=10),
    'sack_one_hole': area(TS_OPT) + u16(8000) + seg(0, blocks=[(20, 40)]) + seg(0, blocks=[(20, 60)]) +
        seg(0, blocks=[(20, 60)]) + seg(0, blocks=[(20, 60)]) + bytes([7, 20]),
    'sack_four_blocks_no_ts': area(b'') + u16(12000) + seg(0, shape=1, blocks=[(10, 4), (20, 4), (30, 4), (40, 4)]),
    'dsack_below_una': area(b'') + u16(6000) + seg(0, ack=20) + seg(0, blocks=[(-10, 20)], ack=0),
    'reneging': area(b'') + u16(10000) + seg(0, blocks=[(30, 60)]) + seg(0) + bytes([7, 100]) + seg(0, ack=30),
    'bad_lengths': area(bytes([5, 9, 0, 0])) + u16(3000) + rawseg(0, bytes([5, 10, 0, 0, 0, 0, 0, 0, 0, 0])) +
        rawseg(0, bytes([8, 3, 1])) + rawseg(0, bytes([2, 4, 0, 1, 3, 3, 14, 0])),
    'rto_then_ack': area(TS_OPT) + u16(15000) + bytes([7, 255, 7, 255]) + seg(0, ack=50) + seg(8, ack=0x7f),
    'window_probe': area(b'') + u16(9000) + seg(0, ack=10, win=0) + bytes([7, 200]) + seg(0, ack=20, win=0) +
        bytes([7, 250]) + seg(0, ack=30),
    'ece_and_syn_opts': area(b'') + u16(5000) + seg(0x40, shape=0x0e, mss=536, ws=14) + seg(0),
}
for k, v in tcpo.items():
    write('fuzz_tcp_options', k, v)

# fuzz_arp records (fuzz_arp.cpp): op & 3 = 0 an ARP packet (shape: bit 0 raw
# hardware/protocol fields, bit 1 raw opcode else bit 2 picks reply, bit 3 a
# target address other than ours, bit 4 an Ethernet destination, bits 5..7
# the length), 1 a datagram A sends (address choice, u16 length), 2 a time
# step, 3 one poll. Address choices: 0 B, 1 C, 2 our own, 3 network, 4
# broadcast, 5 0.0.0.0, 6 10.0.0.x (u8), 7 any (u32); MAC choices: 0 B's,
# 1 02:00:00:00:00:xx (u8), 2 broadcast, 3 any (6 bytes).
def arp_pkt(shape, sha=(1, 0x42), tha=(2,), spa=(6, 0x42), tpa=None, dst=None):
    r = bytes([0, shape | 0xe0]) + bytes(sha) + bytes(tha) + bytes(spa)
    if tpa is not None: r += bytes(tpa)
    if dst is not None: r += bytes(dst)
    return r
def send_to(ip, n):
    return bytes([1]) + bytes(ip) + u16(n)
arps = {
    'request_for_us': arp_pkt(0x10, dst=(2,)),
    'reply_for_pending': send_to((6, 0x42), 100) + arp_pkt(0x04, sha=(1, 0x42), spa=(6, 0x42)),
    'unanswered_then_give_up': send_to((6, 0x50), 64) + send_to((6, 0x50), 64) + bytes([2, 255, 2, 255, 2, 255]),
    'reply_claims_static_b': arp_pkt(0x04, sha=(1, 0x66), spa=(0,)),
    'claims_our_address': arp_pkt(0x00, sha=(1, 0x66), spa=(2,)),
    'probe_rfc5227': arp_pkt(0x08, sha=(1, 0x43), spa=(5,), tpa=(6, 0x44)),
    'gratuitous_update': send_to((6, 0x45), 60) + arp_pkt(0x04, sha=(1, 0x45), spa=(6, 0x45)) +
        arp_pkt(0x08, sha=(1, 0x46), spa=(6, 0x45), tpa=(6, 0x45)),
    'raw_header': bytes([0, 0x01]) + u16(6) + u16(0x86dd) + bytes([16, 16]) + bytes([0]) + bytes([2]) + bytes([0]),
    'many_pending': b''.join(send_to((6, 0x60 + i), 40) for i in range(12)) + bytes([2, 200]),
}
for k, v in arps.items():
    write('fuzz_arp', k, v)

# fuzz_shm_ring records (fuzz_shm_ring.cpp): op (bit 4 queue, bit 5 ring),
# op & 15: 0 data tail, 1 data slot (k, buf, len), 2 return slot (k, buf),
# 3 return tail, 4 our data ring's head (u32), 5 a return ring's head (u32),
# 6 rx_burst (n), 7 release (n), 8 alloc_tx (n), 9 tx_burst (len), else
# free_tx. "Near" values: a byte, bit 7 set means a raw u32 follows.
def near(step):
    return bytes([(step * 2) & 0x7f])
def raw(v):
    return bytes([0x80]) + u32(v)
shm = {
    'honest_exchange': bytes([1, 0]) + near(0) + near(0) + bytes([0]) + near(1) + bytes([6, 8, 7, 8]) +
        bytes([8, 2, 9, 50]) + bytes([2, 0]) + near(0) + bytes([3]) + near(1) + bytes([8, 8, 10]),
    'double_return': bytes([8, 2, 9, 50, 2, 0]) + near(0) + bytes([2, 1]) + near(0) + bytes([3]) + near(2) +
        bytes([8, 8]),
    'foreign_buffer': bytes([1, 0]) + raw(0xffffff00) + near(0) + bytes([0]) + near(1) + bytes([6, 8]),
    'bad_length': bytes([1, 0]) + near(0) + raw(100000) + bytes([0]) + near(1) + bytes([6, 8]),
    'tail_far_ahead': bytes([0]) + raw(1000) + bytes([6, 8, 6, 8]),
    'head_moved_by_peer': bytes([8, 2, 9, 50, 4]) + u32(0x7fffffff) + bytes([8, 8, 9, 60]),
    'repost_held': bytes([1, 0]) + near(1) + near(0) + bytes([1, 1]) + near(1) + near(0) + bytes([0]) +
        near(2) + bytes([6, 8, 7, 1]),
    'queue1_ring1': bytes([0x31, 0]) + near(0) + near(0) + bytes([0x30]) + near(1) + bytes([0x16, 8, 0x36, 8]),
}
for k, v in shm.items():
    write('fuzz_shm_ring', k, v)

# Dictionaries: the tokens a mutation should be able to drop in whole.
def dict_line(b):
    return '"' + ''.join('\\x%02x' % c for c in b) + '"'
dicts = {
    'fuzz_ingress': [MAC_A, MAC_B, b'\xff' * 6, b'\x08\x00', b'\x08\x06', b'\x81\x00', b'\x45\x00',
                     b'\x46\x00', b'\x40\x00', b'\x20\x00', IP_A, IP_B, IP_C, b'\x0a\x00\x00\xff',
                     b'\x00\x50', b'\x9c\x40', b'\x00\x35', b'\x06', b'\x11', b'\x01',
                     b'\x01\x01\x08\x0a', b'\x02\x04\x05\xb4', b'\x03\x03\x07', b'\x04\x02',
                     b'\x05\x0a', b'\x00\x01\x08\x00\x06\x04\x00\x01', b'\x00\x01\x08\x00\x06\x04\x00\x02'],
    'fuzz_tcp_options': [b'\x01\x01\x08\x0a', b'\x02\x04', b'\x03\x03', b'\x04\x02', b'\x05\x0a', b'\x05\x12',
                         b'\x05\x1a', b'\x05\x22', b'\x08\x0a', b'\x00', b'\x01', b'\x1e\x04'],
    'fuzz_arp': [b'\x00\x01', b'\x08\x00', b'\x06\x04', b'\x00\x02', IP_A, IP_B, MAC_A, MAC_B],
}
for t, toks in dicts.items():
    with open(os.path.join(here, t + '.dict'), 'w') as f:
        f.write('# Tokens of %s inputs (written by make_seeds.py).\n' % t)
        for tok in toks:
            f.write(dict_line(tok) + '\n')
