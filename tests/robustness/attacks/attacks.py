#!/usr/bin/env python3
"""Attacks from the wire, against our server and against the Linux kernel in
the same run, over veth in network namespaces (root).

    ns s: the server, 10.89.0.1 ── s0 ┐
    ns c: legitimate client, .2 ── c0 ├─ ns br: bridge br0, 10.89.0.254
    ns a: attacker,          .3 ── a0 ┘   (the gateway: absorbs, never forwards)

The server is either ours (mvnf-httpd and the interop test's udp_echo over
afxdp:s0 -- or afpacket:s0 with --io -- pinned to CPU 1) or the kernel's
(Python's threaded HTTP/1.1 file server and udp_echo.py on s0, pinned to
CPU 1, with s0's receive processing steered to CPU 1 by RPS). Each attack
runs against one, then the other, with the same legitimate load; the report
gives both side by side.

  syn_flood   hping3 --flood --rand-source SYNs at the HTTP port while the
              client makes paced HTTP requests: success and connect time
  onlink_syn  SYNs at 10/s from 128 unused on-link addresses (each makes the
              server resolve a neighbour that never answers) while the
              client, whose address the server must resolve itself, makes
              paced requests; neighbour entries age in 2 s on both
  frag_flood  first fragments (8 bytes, MF, a new IP ID each) at 20/s, then
              3000-byte UDP datagrams echoed (each is two fragments)
  challenge   RFC 5961 challenge ACKs as a side channel: the attacker counts
              the challenge ACKs its own connection draws while it sends
              spoofed SYNs on a victim's 4-tuple, or on a tuple that does
              not exist; any difference tells the attacker the victim exists
  scan        nmap NULL, FIN and XMAS scans of ports 1-100: a closed port
              must answer RST (RFC 9293 3.10.7.1), else it looks filtered
  land        SYNs whose source is the server's own address and port

Usage: attacks.py BUILD_DIR [--only ROW,...] [--target ours|linux|both]
                  [--seconds N] [--report FILE] [--io afxdp|afpacket]
                  [--legacy-build]
Exit 77 = skipped (no root, namespaces or tools). Every wait is bounded;
everything created is removed on exit, on failure too.
"""
import argparse
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
NET = "10.89.0."
SERVER, CLIENT, ATTACKER, GATEWAY = NET + "1", NET + "2", NET + "3", NET + "254"
HTTP_PORT, UDP_PORT = 8080, 7007
BIG = 4 << 20  # the file pmtu_floor downloads
IO = "afxdp"  # our server's port backend (--io)
LEGACY = False  # --legacy-build: a build without the arp_reachable_ms key


# ---------------------------------------------------------------- packets
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(a):
    return socket.inet_aton(a)


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def ipv4(src, dst, proto, payload, ident=0, frag=0, ttl=64):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, ttl, proto, 0,
                    ip4(src), ip4(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def tcp_seg(src, dst, sport, dport, seq, ack, flags, window=64240, opts=b""):
    off = (20 + len(opts)) // 4
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, window, 0, 0) + opts
    pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 6, len(h))
    return h[:16] + struct.pack("!H", csum(pseudo + h)) + h[18:]


SYN, RST, ACK = 0x02, 0x04, 0x10


def frame(dst_mac, src_mac, ip_packet):
    return dst_mac + src_mac + b"\x08\x00" + ip_packet


def raw_socket(iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((iface, 0))
    return s


# ------------------------------------------------------- roles in namespaces
def percentile(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))]


def role_http(a):
    """Paced HTTP/1.0 requests; connect time = connect() call to its return."""
    res = []
    lock = threading.Lock()

    def one():
        t = time.monotonic()
        s = socket.socket()
        s.settimeout(a.timeout)
        r = {"ok": False}
        try:
            s.connect((a.host, a.port))
            r["connect"] = time.monotonic() - t
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            got = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                got += d
            r["ok"] = got.startswith(b"HTTP/1.0 200") or got.startswith(b"HTTP/1.1 200")
            if not r["ok"]:
                r["err"] = "bad response %r" % got[:40]
        except Exception as e:  # the reason is the result
            r["err"] = type(e).__name__
        finally:
            s.close()
        with lock:
            res.append(r)

    n = int(a.rate * a.seconds)
    t0 = time.monotonic()
    threads = []
    for i in range(n):
        d = t0 + i / a.rate - time.monotonic()
        if d > 0:
            time.sleep(d)
        th = threading.Thread(target=one, daemon=True)
        th.start()
        threads.append(th)
    end = time.monotonic() + a.timeout * 2 + 2
    for th in threads:
        th.join(max(0.0, end - time.monotonic()))
    conn = [r["connect"] for r in res if "connect" in r]
    errs = {}
    for r in res:
        if not r["ok"]:
            errs[r.get("err", "?")] = errs.get(r.get("err", "?"), 0) + 1
    ok = sum(1 for r in res if r["ok"])
    ms = lambda v: None if v is None else round(v * 1000, 2)
    print(json.dumps({"n": n, "ok": ok, "failed": n - ok, "errors": errs,
                      "connect_p50_ms": ms(percentile(conn, 50)),
                      "connect_p99_ms": ms(percentile(conn, 99)),
                      "connect_max_ms": ms(max(conn) if conn else None)}))


def role_udp(a):
    """Paced datagrams of a.size bytes (fragmented on the wire), each waiting
    up to 1 s for its echo; counts those echoed intact."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((a.host, a.port))
    n = int(a.rate * a.seconds)
    ok = 0
    for i in range(n):
        t = time.monotonic()
        body = struct.pack("!I", i) + bytes((i * 7 + j) & 0xFF for j in range(a.size - 4))
        s.send(body)
        s.settimeout(1.0)
        try:
            while True:
                d = s.recv(65536)
                if d == body:
                    ok += 1
                    break
        except socket.timeout:
            pass
        d = t + 1.0 / a.rate - time.monotonic()
        if d > 0:
            time.sleep(d)
    print(json.dumps({"n": n, "ok": ok, "failed": n - ok}))


def role_hold(a):
    """The victim: one keep-alive HTTP/1.1 connection. Prints its local port,
    waits for a line on stdin, then makes one more request on it."""
    s = socket.create_connection((a.host, a.port), timeout=5)
    req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"

    def ask():
        s.sendall(req)
        got = b""
        while b"\r\n\r\n" not in got:
            d = s.recv(65536)
            if not d:
                return False
            got += d
        head, _, body = got.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        while len(body) < length:
            d = s.recv(65536)
            if not d:
                return False
            body += d
        return head.startswith(b"HTTP/1.1 200")

    first = ask()
    print(json.dumps({"port": s.getsockname()[1]}), flush=True)
    sys.stdin.readline()
    try:
        s.settimeout(5)
        second = ask()
    except OSError as e:
        second = False
        print(json.dumps({"error": type(e).__name__}), file=sys.stderr)
    print(json.dumps({"first": first, "alive": second}), flush=True)


def role_flood_frags(a):
    """First fragments only, 8 bytes of UDP each, a new IP ID each."""
    sk = raw_socket("a0")
    dst, src = mac(a.dst_mac), mac(a.src_mac)
    n = int(a.rate * a.seconds)
    t0 = time.monotonic()
    for i in range(n):
        udp8 = struct.pack("!HHHH", 40000 + i % 1000, UDP_PORT, 1500, 0)
        sk.send(frame(dst, src, ipv4(ATTACKER, a.host, 17, udp8, ident=(i * 7919 + 1) & 0xFFFF,
                                     frag=0x2000)))
        d = t0 + (i + 1) / a.rate - time.monotonic()
        if d > 0:
            time.sleep(d)
    print(json.dumps({"fragments": n}))


def role_onlink_syns(a):
    """SYNs from unused on-link addresses (.100-.227), each with its own
    made-up MAC, at a.rate per second."""
    sk = raw_socket("a0")
    dst = mac(a.dst_mac)
    n = int(a.rate * a.seconds)
    t0 = time.monotonic()
    for i in range(n):
        host = 100 + i % 128
        src_ip = NET + str(host)
        src_mac = bytes([0x02, 0x66, 0, 0, 0, host])
        seg = tcp_seg(src_ip, a.host, 20000 + i % 40000, HTTP_PORT, random.getrandbits(32), 0,
                      SYN, opts=b"\x02\x04\x05\xb4")
        sk.send(frame(dst, src_mac, ipv4(src_ip, a.host, 6, seg, ident=i & 0xFFFF)))
        d = t0 + (i + 1) / a.rate - time.monotonic()
        if d > 0:
            time.sleep(d)
    print(json.dumps({"syns": n}))


def role_challenge(a):
    """The off-path attacker of RFC 5961 7 / CVE-2016-5696. It has its own
    connection to the server and sends, each for one second, 200 SYNs on its
    own 4-tuple (each may draw a challenge ACK), interleaved with 1000 SYNs
    spoofed from the victim's tuple (phase 'victim') or from a tuple that
    does not exist (phase 'none'). It counts the challenge ACKs its own
    connection receives in each phase."""
    own = socket.create_connection((a.host, HTTP_PORT), timeout=5)
    own.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    own.settimeout(2)
    own.recv(65536)
    oport = own.getsockname()[1]
    sk = raw_socket("a0")
    dst, src = mac(a.dst_mac), mac(a.src_mac)
    counts = {}
    stop = threading.Event()
    seen = [0]

    def sniff():
        rx = raw_socket("a0")
        rx.settimeout(0.1)
        while not stop.is_set():
            try:
                f = rx.recv(2048)
            except socket.timeout:
                continue
            if len(f) < 54 or f[12:14] != b"\x08\x00" or f[23] != 6:
                continue
            ihl = (f[14] & 15) * 4
            t = f[14 + ihl:]
            sport, dport = struct.unpack("!HH", t[:4])
            flags = t[13]
            total = struct.unpack("!H", f[16:18])[0]
            payload = total - ihl - (t[12] >> 4) * 4
            if f[26:30] == ip4(a.host) and sport == HTTP_PORT and dport == oport \
                    and flags == ACK and payload == 0:
                seen[0] += 1

    th = threading.Thread(target=sniff, daemon=True)
    th.start()
    time.sleep(0.3)

    def syn(src_ip, sport, smac=src):
        seg = tcp_seg(src_ip, a.host, sport, HTTP_PORT, random.getrandbits(32), 0, SYN)
        return frame(dst, smac, ipv4(src_ip, a.host, 6, seg))

    own_syn = syn(ATTACKER, oport)
    # The spoofed frames carry the attacker's MAC: with the victim's, the
    # bridge would learn the victim on the attacker's port and cut it off.
    phases = [("alone", None), ("victim", a.victim_port), ("none", a.victim_port + 1),
              ("victim", a.victim_port), ("none", a.victim_port + 1)]
    for name, vport in phases:
        time.sleep(1.1)  # a fresh budget (per connection: 0.5 s; global: 1 s)
        before = seen[0]
        t0 = time.monotonic()
        spoofed = syn(CLIENT, vport) if vport else None
        for i in range(200):
            sk.send(own_syn)
            if spoofed:
                for _ in range(5):
                    sk.send(spoofed)
            d = t0 + (i + 1) / 200.0 - time.monotonic()
            if d > 0:
                time.sleep(d)
        time.sleep(0.2)
        counts.setdefault(name, []).append(seen[0] - before)
    stop.set()
    th.join(1)
    own.close()
    print(json.dumps({"own_port": oport, "challenge_acks": counts}))


def role_kernel_http(a):
    """The kernel's server: Python's threaded HTTP/1.1 file server with the
    listen backlog mvnf-httpd uses (4096), minus the reverse DNS lookup of
    its address that http.server makes at bind (no DNS here: a 10 s stall)."""
    import functools
    import http.server
    import socketserver

    class Server(http.server.ThreadingHTTPServer):
        request_queue_size = 4096

        def server_bind(self):
            socketserver.TCPServer.server_bind(self)
            self.server_name, self.server_port = a.host, a.port

    class Handler(http.server.SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

    Server((a.host, a.port), functools.partial(Handler, directory=a.dir)).serve_forever()


def role_pmtu(a):
    """The client downloads a file slowly and, mid-transfer, reports (as a
    router would) "fragmentation needed, next-hop MTU 400" for the server's
    segments. RFC 1191 7: the server cannot go below its floor (576 ours,
    552 Linux), so DF must be cleared there, or a path that narrow would
    black-hole. A report counts only if it quotes a sequence number in
    flight (RFC 5927 4.1), which the client cannot know exactly, so every
    30 ms it sends reports quoting the last segment seen and the next eight
    MSS after it, until the server's segments shrink. Reports the size and
    DF bit of the server's segments from 100 ms after that."""
    rx = raw_socket("c0")
    rx.settimeout(0.1)
    tx = raw_socket("c0")
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.settimeout(10)
    s.connect((a.host, a.port))
    cport = s.getsockname()[1]
    s.sendall(b"GET /big.bin HTTP/1.0\r\n\r\n")
    last = {}
    after = {"n": 0, "max_len": 0, "df": 0}
    small = [0]
    shrunk = [None]
    stop = threading.Event()

    def sniff():
        while not stop.is_set():
            try:
                f = rx.recv(4096)
            except socket.timeout:
                continue
            if len(f) < 54 or f[12:14] != b"\x08\x00" or f[23] != 6 or f[26:30] != ip4(a.host):
                continue
            ihl = (f[14] & 15) * 4
            t = f[14 + ihl:]
            if struct.unpack("!H", t[2:4])[0] != cport:
                continue
            total = struct.unpack("!H", f[16:18])[0]
            payload = total - ihl - (t[12] >> 4) * 4
            if payload <= 0:
                continue
            last["frame"], last["plen"] = f, payload
            if shrunk[0] is None:
                small[0] = small[0] + 1 if total <= 600 else 0
                if small[0] >= 10:
                    shrunk[0] = time.monotonic()
            elif time.monotonic() > shrunk[0] + 0.1:
                after["n"] += 1
                after["max_len"] = max(after["max_len"], total)
                after["df"] += 1 if struct.unpack("!H", f[20:22])[0] & 0x4000 else 0

    def report():
        f, plen = last["frame"], last["plen"]
        ihl = (f[14] & 15) * 4
        seq = struct.unpack("!I", f[14 + ihl + 4:14 + ihl + 8])[0]
        for k in range(-1, 8):
            quote = bytearray(f[14:14 + ihl + 8])
            quote[ihl + 4:ihl + 8] = struct.pack("!I", (seq + plen * (k + 1)) & 0xFFFFFFFF)
            icmp = struct.pack("!BBHHH", 3, 4, 0, 0, 400) + bytes(quote)
            icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
            tx.send(frame(mac(a.dst_mac), mac(a.src_mac), ipv4(CLIENT, a.host, 1, icmp)))

    th = threading.Thread(target=sniff, daemon=True)
    th.start()
    got, reports, last_report = 0, 0, 0.0
    t0 = time.monotonic()
    while True:
        d = s.recv(8192)
        if not d:
            break
        got += len(d)
        now = time.monotonic()
        if shrunk[0] is None and now > t0 + 0.5 and now < t0 + 3.5 and "frame" in last \
                and now - last_report >= 0.03:
            report()
            reports += 1
            last_report = now
        time.sleep(0.005)  # a slow reader: data stays in flight
    stop.set()
    th.join(1)
    print(json.dumps({"bytes": got, "report_rounds": reports, "shrunk": shrunk[0] is not None,
                      "segments_after": after["n"], "max_ip_len_after": after["max_len"],
                      "df_after": after["df"]}))


ROLES = {"pmtu": role_pmtu, "kernel_http": role_kernel_http, "http": role_http, "udp": role_udp, "hold": role_hold, "frags": role_flood_frags,
         "onlink": role_onlink_syns, "challenge": role_challenge}


# ---------------------------------------------------------------- harness
class Skip(Exception):
    pass


class Fail(Exception):
    pass


def sh(*cmd, check=True, timeout=30, ns=None, **kw):
    if ns:
        cmd = ("ip", "netns", "exec", ns) + cmd
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise Fail("%s: exit %d: %s" % (" ".join(cmd), r.returncode, r.stdout.strip()[-400:]))
    return r.stdout


class World:
    def __init__(self, build):
        self.build = build
        tag = str(os.getpid())
        self.ns = {k: "mvat%s%s" % (tag, k) for k in ("br", "s", "c", "a")}
        self.procs = []
        self.tmp = "/tmp/mvat%s" % tag
        os.makedirs(self.tmp + "/www", exist_ok=True)
        with open(self.tmp + "/www/index.html", "w") as f:
            f.write("<html><body>%s</body></html>\n" % ("x" * 600))
        with open(self.tmp + "/www/big.bin", "wb") as f:
            f.write(bytes(range(256)) * (BIG // 256))

    def up(self):
        n = self.ns
        for k in n:
            sh("ip", "netns", "add", n[k])
        sh("ip", "link", "add", "br0", "type", "bridge", ns=n["br"])
        for k in ("s", "c", "a"):
            sh("ip", "link", "add", k + "0", "netns", n[k], "type", "veth", "peer", "name",
               "b" + k, "netns", n["br"])
            sh("ip", "link", "set", "b" + k, "master", "br0", "up", ns=n["br"])
            sh("ip", "link", "set", "lo", "up", ns=n[k])
            sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", ns=n[k])
            # AF_PACKET must see real frames: no offloads on either end.
            for ns_, dev in ((n[k], k + "0"), (n["br"], "b" + k)):
                sh("ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off", "tx", "off",
                   "rx", "off", ns=ns_, check=False)
            sh("ip", "link", "set", k + "0", "up", ns=n[k])
        # The server's share of kernel work (its veth's receive path, where
        # the kernel's TCP runs and where AF_PACKET copies for ours) goes to
        # CPU 1 with the server, not to the sender's CPU: RPS, as a NIC's
        # interrupt would be steered to the server's core.
        sh("sh", "-c", "echo 2 > /sys/class/net/s0/queues/rx-0/rps_cpus", ns=n["s"])
        sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", ns=n["br"])
        sh("ip", "addr", "add", GATEWAY + "/24", "dev", "br0", ns=n["br"])
        sh("ip", "link", "set", "br0", "up", ns=n["br"])
        self.mac = {}
        for k in ("s", "c", "a"):
            info = json.loads(sh("ip", "-j", "link", "show", k + "0", ns=n[k]))
            self.mac[k] = info[0]["address"]
        for k, ip in (("c", CLIENT), ("a", ATTACKER)):
            sh("ip", "addr", "add", ip + "/24", "dev", k + "0", ns=n[k])
            # The clients know the server's MAC; the server resolves theirs.
            sh("ip", "neigh", "replace", SERVER, "lladdr", self.mac["s"], "dev", k + "0",
               "nud", "permanent", ns=n[k])

    def down(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
        for k in self.ns.values():
            pids = subprocess.run(["ip", "netns", "pids", k], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
            subprocess.run(["ip", "netns", "del", k], stderr=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", self.tmp])

    def spawn(self, key, cmd, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", self.ns[key]] + cmd, **kw)
        self.procs.append(p)
        return p

    def role(self, key, role, *args, timeout=120, cpu=None):
        cmd = [sys.executable, os.path.abspath(__file__), "--role", role] + [str(x) for x in args]
        if cpu is not None:
            cmd = ["taskset", "-c", str(cpu)] + cmd
        return self.spawn(key, cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.PIPE, text=True)


def wait_json(p, timeout, what):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise Fail("%s: no result within %d s: %s" % (what, timeout, err[-400:]))
    lines = [l for l in out.splitlines() if l.startswith("{")]
    if p.returncode != 0 or not lines:
        raise Fail("%s: exit %s: %s %s" % (what, p.returncode, out[-300:], err[-600:]))
    return json.loads(lines[-1])


class Server:
    """Ours (mvnf-httpd + udp_echo on s0, CPU 1) or the kernel's."""

    def __init__(self, w, target):
        self.w, self.target = w, target
        self.stats_file = None

    def start(self, http=True, udp=False):
        w, n = self.w, self.w.ns["s"]
        self.http = self.udp = None
        self.stats = {}
        if self.target == "linux":
            sh("ip", "addr", "add", SERVER + "/24", "dev", "s0", ns=n, check=False)
            sh("ip", "route", "replace", "default", "via", GATEWAY, ns=n)
            sh("sysctl", "-qw", "net.ipv4.neigh.s0.base_reachable_time_ms=2000", ns=n)
            sh("sysctl", "-qw", "net.ipv4.tcp_syncookies=1", ns=n)
            if http:
                self.http = w.spawn("s", ["taskset", "-c", "1", sys.executable,
                                          os.path.abspath(__file__), "--role", "kernel_http",
                                          "--host", SERVER, "--port", str(HTTP_PORT),
                                          "--dir", w.tmp + "/www"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if udp:
                self.udp = w.spawn("s", ["taskset", "-c", "1", sys.executable,
                                         os.path.join(SRC, "tests/interop/udp_echo.py"), "server",
                                         SERVER, str(UDP_PORT), "120"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:
            sh("ip", "addr", "flush", "dev", "s0", ns=n, check=False)
            conf = w.tmp + "/ours.conf"
            with open(conf, "w") as f:
                f.write("port = " + IO + ":s0\nnum_cores = 1\nip_addr = %s\nnetmask = 255.255.255.0\n"
                        "gateway = %s\nmax_concurrency = 4096\nmax_num_buffers = 8192\n"
                        "tcp_timewait = 1\n%s" % (SERVER, GATEWAY,
                                                      "" if LEGACY else "arp_reachable_ms = 2000\n"))
            if http:
                self.http_err = open(w.tmp + "/httpd.err", "w+")
                self.http = w.spawn("s", ["taskset", "-c", "1",
                                          os.path.join(w.build, "apps/httpd/mvnf-httpd"), "-p",
                                          w.tmp + "/www", "-f", conf, "--port", str(HTTP_PORT),
                                          "-q", "--stack-stats"],
                                    stdout=subprocess.DEVNULL, stderr=self.http_err)
            if udp:
                self.udp = w.spawn("s", ["taskset", "-c", "1",
                                         os.path.join(w.build, "tests/interop/udp_echo"), "server",
                                         conf, str(UDP_PORT), "120"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_up(http, udp)

    def wait_up(self, http, udp):
        n = self.w.ns["c"]
        end = time.monotonic() + 15
        while http and time.monotonic() < end:
            try:
                r = subprocess.run(["ip", "netns", "exec", n, "timeout", "2", "bash", "-c",
                                    "exec 3<>/dev/tcp/%s/%d" % (SERVER, HTTP_PORT)],
                                   stderr=subprocess.DEVNULL, timeout=5)
                if r.returncode == 0:
                    break
            except subprocess.TimeoutExpired:
                pass
            time.sleep(0.2)
        else:
            if http:
                raise Fail("%s server did not come up" % self.target)
        if udp:
            time.sleep(1.0)

    def stop(self):
        for p in (self.http, self.udp):
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in (self.http, self.udp):
            if p:
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        if self.target == "ours" and self.http:
            self.http_err.seek(0)
            for line in self.http_err.read().splitlines():
                if " stack {" in line:
                    self.stats = json.loads(line[line.index("{"):])
        return self.stats


def counter(stats, *path):
    v = stats
    for p in path:
        if not isinstance(v, dict) or p not in v:
            return None
        v = v[p]
    return v


def add_counters(res, stats, **paths):
    """Our server's counters (paths like "tcp.segs_out") into a row's result;
    the kernel's server has none."""
    for name, path in paths.items():
        if stats:
            res[name] = counter(stats, *path.split("."))


# ------------------------------------------------------------------ attacks
def http_client(w, rate, seconds, timeout=5):
    return w.role("c", "http", "--host", SERVER, "--port", HTTP_PORT, "--rate", rate,
                  "--seconds", seconds, "--timeout", timeout, cpu=0)


def run_syn_flood(w, target, secs):
    srv = Server(w, target)
    srv.start()
    flood = w.spawn("a", ["taskset", "-c", "0", "hping3", "-q", "-S", "--flood", "--rand-source",
                          "-p", str(HTTP_PORT), SERVER],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    c = http_client(w, 50, secs)
    res = wait_json(c, secs + 30, "syn_flood client")
    flood.send_signal(signal.SIGINT)
    try:
        flood.wait(5)
    except subprocess.TimeoutExpired:
        flood.kill()
    after = wait_json(http_client(w, 50, 1), 30, "syn_flood client after")
    stats = srv.stop()
    res["after_ok"] = "%d/%d" % (after["ok"], after["n"])
    add_counters(res, stats, syn_cookies_sent="tcp.syn_cookies_sent",
                 rx_dropped="queue.rx_dropped")
    return res


def run_onlink(w, target, secs):
    srv = Server(w, target)
    srv.start()
    warm = 6
    # The server's ARP requests are broadcasts: the attacker's port sees them.
    arp = w.spawn("a", ["timeout", str(int(warm + secs + 4)), "tcpdump", "-n", "-l", "-i", "a0",
                        "arp and ether src %s" % w.mac["s"]],
                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    att = w.role("a", "onlink", "--host", SERVER, "--dst-mac", w.mac["s"], "--rate", 10,
                 "--seconds", warm + secs + 2, cpu=0)
    time.sleep(warm)
    res = wait_json(http_client(w, 20, secs), secs + 30, "onlink client")
    syns = wait_json(att, warm + secs + 30, "onlink attacker")["syns"]
    out_, _ = arp.communicate(timeout=warm + secs + 20)
    requests = sum(1 for l in out_.splitlines() if "Request who-has" in l)
    res["spoofed_syns"] = syns
    res["arp_requests_per_spoofed_syn"] = round(requests / max(syns, 1), 2)
    stats = srv.stop()
    add_counters(res, stats, arp_pending_evicted="arp.pending_evicted")
    return res


def run_frag(w, target, secs):
    srv = Server(w, target)
    srv.start(http=False, udp=True)
    warm = 4
    att = w.role("a", "frags", "--host", SERVER, "--dst-mac", w.mac["s"], "--src-mac",
                 w.mac["a"], "--rate", 20, "--seconds", warm + secs + 1, cpu=0)
    time.sleep(warm)
    res = wait_json(w.role("c", "udp", "--host", SERVER, "--port", UDP_PORT, "--rate", 10,
                           "--seconds", secs, "--size", 3000, cpu=0),
                    secs * 2 + 30, "frag client")
    res["fragments"] = wait_json(att, warm + secs + 30, "frag attacker")["fragments"]
    srv.stop()
    return res


def run_challenge(w, target, secs):
    srv = Server(w, target)
    srv.start()
    victim = w.role("c", "hold", "--host", SERVER, "--port", HTTP_PORT, cpu=0)
    line = victim.stdout.readline()
    if not line.startswith("{"):
        raise Fail("victim did not connect: %s %s" % (line, victim.stderr.read()[-300:]))
    vport = json.loads(line)["port"]
    att = w.role("a", "challenge", "--host", SERVER, "--dst-mac", w.mac["s"], "--src-mac",
                 w.mac["a"], "--victim-port", vport, cpu=0)
    res = wait_json(att, 60, "challenge attacker")
    victim.stdin.write("\n")
    victim.stdin.flush()
    v = wait_json(victim, 30, "victim")
    stats = srv.stop()
    acks = res["challenge_acks"]
    out = {"alone": acks["alone"], "victim": acks["victim"], "none": acks["none"],
           "signal": sum(acks["none"]) - sum(acks["victim"]), "victim_alive": v["alive"]}
    add_counters(out, stats, challenge_acks_sent="tcp.challenge_acks",
                 challenge_acks_suppressed="tcp.challenge_acks_suppressed")
    return out


def run_scan(w, target, secs):
    srv = Server(w, target)
    srv.start()
    out = {}
    for kind in ("-sN", "-sF", "-sX"):
        t = time.monotonic()
        g = sh("nmap", "-n", "-Pn", kind, "-p", "1-100", "--max-retries", "1", "--host-timeout",
               "60s", "-oG", "-", SERVER, ns=w.ns["a"], timeout=90)
        closed = g.count("/closed/")
        m = [l for l in g.splitlines() if "Ignored State:" in l]
        ignored = m[0].split("Ignored State:")[1].strip() if m else ""
        if ignored.startswith("closed"):
            closed += int(ignored.split("(")[1].split(")")[0])
        out[kind[1:]] = {"closed": closed, "seconds": round(time.monotonic() - t, 1)}
    stats = srv.stop()
    add_counters(out, stats, closed_rsts_suppressed="tcp.closed_rsts_suppressed")
    return out


def run_land(w, target, secs):
    srv = Server(w, target)
    srv.start()
    # What leaves the server during the attack: a SYN-ACK to itself, or an
    # ARP request for its own address, would show on the attacker's port
    # only if broadcast; count frames from the server's MAC seen by a0.
    sniff = w.spawn("a", ["timeout", "8", "tcpdump", "-n", "-i", "a0", "-c", "100000",
                          "ether src %s and (arp or (ip dst %s))" % (w.mac["s"], SERVER)],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    sh("hping3", "-q", "-S", "-a", SERVER, "-s", str(HTTP_PORT), "-k", "-p", str(HTTP_PORT), "-c",
       "200", "-i", "u5000", SERVER, ns=w.ns["a"], check=False, timeout=30)
    res = wait_json(http_client(w, 20, 1), 30, "land client")
    out_, err_ = sniff.communicate(timeout=20)
    to_self = [l for l in out_.splitlines() if ("who-has %s" % SERVER) in l or
               ("> %s." % SERVER) in l]
    stats = srv.stop()
    out = {"frames_to_itself": len(to_self), "served_after": "%d/%d" % (res["ok"], res["n"])}
    add_counters(out, stats, ip_bad_src="stack.drops.ip_bad_src", segs_out="tcp.segs_out")
    return out


def run_pmtu(w, target, secs):
    srv = Server(w, target)
    srv.start()
    res = wait_json(w.role("c", "pmtu", "--host", SERVER, "--port", HTTP_PORT, "--dst-mac",
                           w.mac["s"], "--src-mac", w.mac["c"], cpu=0), 120, "pmtu client")
    res["expected_bytes"] = BIG
    stats = srv.stop()
    add_counters(res, stats, icmp_accepted="tcp.icmp_accepted", icmp_ignored="tcp.icmp_ignored")
    return res


ATTACKS = {"syn_flood": run_syn_flood, "onlink_syn": run_onlink, "frag_flood": run_frag,
           "challenge": run_challenge, "scan": run_scan, "land": run_land, "pmtu_floor": run_pmtu}


def check(row, target, r, errors):
    """What every run must show (ours; the kernel's figures are reported)."""
    if target != "ours":
        return
    def need(cond, what):
        if not cond:
            errors.append("%s (%s): %s: %s" % (row, target, what, json.dumps(r)))
    if row == "syn_flood":
        need(r["ok"] >= 0.95 * r["n"], "legitimate success < 95 % under the flood")
        need(r["after_ok"].split("/")[0] == r["after_ok"].split("/")[1], "not all served after")
    elif row == "onlink_syn":
        need(r["ok"] >= 0.99 * r["n"], "legitimate success < 99 % under on-link spoofed SYNs")
        need((r["connect_p99_ms"] or 1e9) < 1000, "connect p99 of a second or more: SYN-ACKs "
             "waited for a retransmission")
    elif row == "frag_flood":
        need(r["ok"] >= 0.95 * r["n"], "fragmented datagrams lost to the fragment flood")
    elif row == "challenge":
        need(r["victim_alive"], "the victim's connection did not survive")
        need(max(r["alone"]) <= 4, "more than one challenge ACK per 0.5 s on one connection")
        need(abs(r["signal"]) <= 2, "challenge ACK counts tell whether the victim exists")
    elif row == "scan":
        for k in ("sN", "sF", "sX"):
            need(r[k]["closed"] == 100, "%s: closed ports did not answer RST" % k)
    elif row == "pmtu_floor":
        need(r["bytes"] > BIG, "the download did not complete")
        need(r["shrunk"], "no report accepted: the segments never shrank")
        need(r["segments_after"] > 100, "too few segments after the report to judge")
        need(r["max_ip_len_after"] <= 576, "segments above the 576-byte floor after the report")
        need(r["df_after"] == 0, "DF still set at the floor (RFC 1191 7): a narrower path "
             "would black-hole")
    elif row == "land":
        need(r["frames_to_itself"] == 0, "the server sent frames to itself")
        need(r["served_after"].split("/")[0] == r["served_after"].split("/")[1],
             "not all served after the LAND packets")
        need((r.get("ip_bad_src") or 0) >= 200, "LAND packets not counted as ip_bad_src")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?")
    ap.add_argument("--role")
    ap.add_argument("--only", default=",".join(ATTACKS))
    ap.add_argument("--target", default="both", choices=("ours", "linux", "both"))
    ap.add_argument("--seconds", type=float, default=6)
    ap.add_argument("--report")
    ap.add_argument("--io", default="afxdp", choices=("afxdp", "afpacket"))
    ap.add_argument("--legacy-build", action="store_true",
                    help="BUILD predates the arp_reachable_ms key: leave it out")
    for k in ("host", "dst-mac", "src-mac", "dir"):
        ap.add_argument("--" + k)
    for k in ("port", "size", "victim-port"):
        ap.add_argument("--" + k, type=int)
    for k in ("rate", "timeout"):
        ap.add_argument("--" + k, type=float)
    a = ap.parse_args()
    global IO, LEGACY
    IO, LEGACY = a.io, a.legacy_build
    if a.role:
        ROLES[a.role](a)
        return 0
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces, AF_PACKET)")
        return 77
    rows = [r for r in a.only.split(",") if r]
    need = {"hping3": ("syn_flood", "land"), "nmap": ("scan",), "tcpdump": ("land",),
            "taskset": tuple(ATTACKS), "ethtool": tuple(ATTACKS)}
    for tool, users in need.items():
        if any(r in users for r in rows) and subprocess.run(
                ["sh", "-c", "command -v " + tool], stdout=subprocess.DEVNULL).returncode:
            print("SKIP: needs %s" % tool)
            return 77
    if os.cpu_count() < 2:
        print("SKIP: needs 2 CPUs (the server is pinned to CPU 1)")
        return 77
    for b in ("apps/httpd/mvnf-httpd", "tests/interop/udp_echo"):
        if not os.access(os.path.join(a.build, b), os.X_OK):
            print("FAIL: %s not built" % b)
            return 1
    targets = ["ours", "linux"] if a.target == "both" else [a.target]
    w = World(os.path.abspath(a.build))
    results, errors = {}, []
    try:
        try:
            w.up()
        except Fail as e:
            print("SKIP: cannot build the namespaces here: %s" % e)
            return 77
        for row in rows:
            for t in targets:
                t0 = time.monotonic()
                r = ATTACKS[row](w, t, a.seconds)
                r["wall_s"] = round(time.monotonic() - t0, 1)
                results.setdefault(row, {})[t] = r
                print("%-10s %-5s %s" % (row, t, json.dumps(r)), flush=True)
                check(row, t, r, errors)
    except Fail as e:
        errors.append(str(e))
    finally:
        w.down()
    if a.report:
        with open(a.report, "w") as f:
            json.dump(results, f, indent=1)
    for e in errors:
        print("FAIL: " + e)
    if not errors:
        print("ok: %d attacks, %s" % (len(rows), " and ".join(targets)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
