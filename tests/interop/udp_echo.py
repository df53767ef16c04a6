#!/usr/bin/env python3
"""UDP echo on the Linux kernel's side of the interop test; the same
protocol as udp_echo.cpp (datagrams carry a sequence number and a pattern;
the client resends what was not echoed within 300 ms, up to 20 times).

  udp_echo.py server ADDR PORT SECONDS
  udp_echo.py client ADDR PORT COUNT SIZE
"""
import json
import select
import socket
import struct
import sys
import time


def fill(seq, size):
    b = bytearray(((seq * 131 + i * 7) ^ (i >> 8)) & 0xFF for i in range(size))
    if size >= 4:
        b[0:4] = struct.pack("<I", seq)
    return bytes(b)


def server(addr, port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    end = time.monotonic() + seconds
    echoed = 0
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], 0.1)
        if r:
            data, peer = s.recvfrom(65536)
            s.sendto(data, peer)
            echoed += 1
    print(json.dumps({"mode": "server", "echoed": echoed}))


def client(addr, port, count, size):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    done = [False] * count
    tries = [0] * count
    echoed = sent = bad = dup = 0
    bad_seen = []  # what a mismatching datagram looked like (first 3)
    nxt = 0
    start = time.monotonic()
    deadline = start + 120
    while echoed < count and time.monotonic() < deadline:
        window = [q for q in range(nxt, min(count, nxt + 64)) if not done[q]][:32]
        if any(tries[q] >= 20 for q in window):
            break
        for q in window:
            tries[q] += 1
            s.sendto(fill(q, size), (addr, port))
            sent += 1
        pending = set(window)
        wait_end = time.monotonic() + 0.3
        while pending and time.monotonic() < wait_end:
            r, _, _ = select.select([s], [], [], 0.02)
            while r:
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    break
                q = struct.unpack("<I", data[:4])[0] if len(data) >= 4 else count
                if len(data) != size or q >= count or data != fill(q, size):
                    bad += 1
                    if len(bad_seen) < 3:
                        want = fill(q, size) if q < count else b""
                        diff = [i for i in range(min(len(data), len(want))) if data[i] != want[i]]
                        bad_seen.append({"len": len(data), "seq": q, "differing_bytes": len(diff),
                                         "first_diff": diff[0] if diff else None,
                                         "last_diff": diff[-1] if diff else None})
                    continue
                if done[q]:
                    dup += 1
                    continue
                done[q] = True
                echoed += 1
                pending.discard(q)
        while nxt < count and done[nxt]:
            nxt += 1
    print(json.dumps({"mode": "client", "count": count, "size": size, "echoed": echoed,
                      "sent": sent, "resent": sent - echoed, "bad": bad, "bad_seen": bad_seen,
                      "duplicates": dup,
                      "seconds": round(time.monotonic() - start, 2)}))
    return 0 if echoed == count and bad == 0 else 1


if __name__ == "__main__":
    a = sys.argv
    if len(a) == 5 and a[1] == "server":
        server(a[2], int(a[3]), float(a[4]))
        sys.exit(0)
    if len(a) == 6 and a[1] == "client":
        sys.exit(client(a[2], int(a[3]), int(a[4]), int(a[5])))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
