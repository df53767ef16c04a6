#!/usr/bin/env python3
"""Floods, exhaustion and soak with real processes (docs/robustness.md).

Usage: procs_test.py BIN_DIR CASE [--seconds S] [--loss P] [--report FILE]
  BIN_DIR  the build's tests/robustness/procs (mvnf-rob-server, -client, -bridge)
  CASE     flood | maxconn | idle | timewait | finwait2 | soak

Every process is a separate stack (or, for the bridge, a netio program) on
its own shm link; nothing needs root. The server is 10.0.0.1, the client
10.0.0.2. The flood and the soak put mvnf-rob-bridge between them (see
bridge.cpp for why the attacker is the bridge). Every wait is bounded; every
process started is killed and every shm name removed on exit, on failure too.
Exit 0 on success, 1 with a FAIL line naming the broken expectation."""
import argparse, glob, json, os, signal, subprocess, sys, tempfile, time

ap = argparse.ArgumentParser()
ap.add_argument("bin")
ap.add_argument("case", choices=["flood", "maxconn", "idle", "timewait", "finwait2", "soak"])
ap.add_argument("--seconds", type=float, default=None, help="flood: flood length; soak: length")
ap.add_argument("--loss", type=float, default=0.01, help="soak: loss per IPv4 frame each way")
ap.add_argument("--report", default=None, help="write the figures as JSON to this file")
ap.add_argument("--sanitized", action="store_true",
                help="ASan build: report memory figures without judging them")
args = ap.parse_args()

TMP = tempfile.mkdtemp(prefix="procs_test_")
LINK = "rob%d" % os.getpid()
procs = []
NCPU = os.cpu_count() or 1


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    for f in glob.glob("/dev/shm/mvnf.%s*" % LINK):
        try:
            os.unlink(f)
        except OSError:
            pass
    subprocess.call(["rm", "-rf", TMP])


def fail(msg):
    print("FAIL:", msg)
    for name in ("server", "client", "bridge"):
        path = os.path.join(TMP, name + ".out")
        if os.path.exists(path):
            with open(path) as f:
                lines = f.read().splitlines()
            print("--- %s (last lines)" % name)
            for l in lines[-3:]:
                print(l[:2000])
    cleanup()
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok:", msg)


def conf(role, link, **kv):
    path = os.path.join(TMP, role + ".conf")
    lines = ["port = shm:%s_%s" % (LINK, link), "num_cores = 1",
             "ip_addr = 10.0.0.%d" % (1 if role == "server" else 2)]
    lines += ["%s = %s" % (k, v) for k, v in kv.items()]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def pinned(cmd, cpu):
    """taskset to one CPU when the machine has it (the brief: pin processes)."""
    if cpu is not None and cpu < NCPU:
        return ["taskset", "-c", str(cpu)] + cmd
    return cmd


def start(name, cmd, cpu=None):
    out = open(os.path.join(TMP, name + ".out"), "w")
    # No `timeout` wrapper: the tests signal these pids directly.
    p = subprocess.Popen(pinned(cmd, cpu), stdout=out, stderr=subprocess.STDOUT)
    p.name = name
    procs.append(p)
    return p


def lines(name):
    path = os.path.join(TMP, name + ".out")
    with open(path) as f:
        text = f.read()
    out = []
    for l in text.splitlines():
        if l.startswith("{"):
            try:
                out.append(json.loads(l))
            except ValueError:
                pass
    return out


def wait_for(pred, timeout, what, step=0.05):
    t = time.time()
    while time.time() - t < timeout:
        for p in procs:
            if p.poll() is not None and p.returncode != 0:
                fail("%s exited with %d while waiting for %s" % (p.name, p.returncode, what))
        v = pred()
        if v:
            return v
        time.sleep(step)
    fail("timed out after %.0fs waiting for %s" % (timeout, what))


def check_mem(cond, msg):
    """Memory flatness: meaningless under ASan (its quarantine holds freed blocks)."""
    if args.sanitized:
        print("not judged (sanitizer build):", msg)
        return
    check(cond, msg)


def exe(tool):
    return os.path.join(args.bin, "mvnf-rob-" + tool)


def start_server(mode="echo", cpu=None, **kv):
    p = start("server", [exe("server"), "-f", conf("server", "s", **kv), "--mode", mode,
                         "--stats-ms", "100"], cpu)
    wait_for(lambda: any(j.get("event") == "listening" for j in lines("server")), 10,
             "the server to listen")
    return p


def server_samples():
    return [j for j in lines("server") if "t_ms" in j or "final_ms" in j]


def flows(j):
    return j["mtcp"]["tcp"]["flows"]


def settle(served, base, timeout, what):
    """Wait for a server sample that has accepted `served` connections and is
    back to `base` flows. The client can exit before the server's next stats
    sample (every 100 ms) shows its last connections, so the newest sample at
    that moment may not have seen them yet."""
    wait_for(lambda: (lambda j: j["accepted"] >= served and flows(j) == base)(
        server_samples()[-1]), timeout, what, step=0.1)
    return server_samples()[-1]


def stop(p, timeout=10):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        fail("%s did not stop within %ds of SIGTERM" % (p.name, timeout))
    check(p.returncode == 0, "%s exited cleanly (rc %d)" % (p.name, p.returncode))


def final(name):
    js = [j for j in lines(name) if "final" in j or "final_ms" in j]
    if not js:
        fail("%s printed no final summary" % name)
    return js[-1]


def wait_exit(p, timeout):
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        fail("%s still running after %.0fs" % (p.name, timeout))
    check(p.returncode == 0, "%s exited with 0" % p.name)


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for l in f:
                if l.startswith("VmRSS:"):
                    return int(l.split()[1])
    except OSError:
        pass
    return None


ARENA_MIN_KB = 32 * 1024


def mem_kb(pid):
    """RSS split from /proc/PID/smaps: `arena` is anonymous mappings of at
    least 32 MiB (the stack's pools, sized and mapped once at start: their RSS
    grows only as pages are first touched, up to their size), `other` every
    other private anonymous page (heap, small mappings, stacks: what grows if
    something leaks); shared and file-backed mappings (the shm link, code)
    are left out of both."""
    tot = {"rss": 0, "arena": 0, "other": 0, "arena_size": 0}
    try:
        with open("/proc/%d/smaps" % pid) as f:
            name, size, anon_map = "", 0, False
            for l in f:
                parts = l.split()
                if "-" in parts[0] and len(parts) >= 5 and ":" in parts[3]:
                    name = parts[5] if len(parts) > 5 else ""
                    size = 0
                    anon_map = name == "" or name in ("[heap]", "[stack]")
                elif parts[0] == "Size:":
                    size = int(parts[1])
                elif parts[0] == "Rss:":
                    rss = int(parts[1])
                    tot["rss"] += rss
                    if anon_map and name == "" and size >= ARENA_MIN_KB:
                        tot["arena"] += rss
                        tot["arena_size"] += size
                    elif anon_map:
                        tot["other"] += rss
    except OSError:
        return None
    return tot


def report(d):
    print("figures:", json.dumps(d, sort_keys=True))
    if args.report:
        with open(args.report, "w") as f:
            json.dump(d, f, indent=1, sort_keys=True)


# ---------------------------------------------------------------------------
def case_flood():
    """Spoofed SYN flood at full speed from the bridge while the client makes
    100 connections/s: phases baseline (2 s), flood (--seconds, default 8),
    after (2 s)."""
    flood_s = args.seconds or 8.0
    backlog, maxc, rate = 256, 1024, 100
    # Two CPUs: the server gets one; the bridge (the flooder) and the client share the other.
    bridge = start("bridge", [exe("bridge"), "--a", "shm:%s_s" % LINK, "--b", "shm:%s_c" % LINK,
                              "--gateway", "10.0.0.254", "--flood", "10.0.0.1:7000",
                              "--stats-ms", "500"], cpu=0)
    wait_for(lambda: any(j.get("event") == "ready" for j in lines("bridge")), 10, "the bridge")
    server = start_server(cpu=1, gateway="10.0.0.254", max_concurrency=maxc,
                          syn_backlog=backlog, tcp_timewait=0)
    cl = start("client", [exe("client"), "-f", conf("client", "c", tcp_timewait=0, tcp_timeout=-1),
                          "--server", "10.0.0.1:7000", "--mode", "conn", "--rate", str(rate),
                          "-c", "64", "-l", "100", "-d", str(4 + flood_s), "--timeout", "5",
                          "--stats-ms", "0"], cpu=0)
    time.sleep(2)
    s_before = server_samples()[-1]
    bridge.send_signal(signal.SIGUSR1)
    cl.send_signal(signal.SIGUSR1)
    t_flood = time.time()
    rss_proc = []
    while time.time() - t_flood < flood_s:
        time.sleep(0.25)
        rss_proc.append(rss_kb(server.pid))
    bridge.send_signal(signal.SIGUSR2)
    cl.send_signal(signal.SIGUSR1)
    s_end = server_samples()[-1]
    wait_exit(cl, 30)
    c = final("client")
    stop(bridge)
    b = final("bridge")
    stop(server)

    during = [j for j in server_samples()
              if s_before["t_ms"] < j.get("t_ms", -1) <= s_end["t_ms"]]
    base, fl, after = c["phases"][0], c["phases"][1], c["phases"][2]
    sent = b["up"]["flood_sent"]
    cookies = s_end["mtcp"]["tcp"]["syn_cookies_sent"] - s_before["mtcp"]["tcp"]["syn_cookies_sent"]
    rss = [j["rss_kb"] for j in during]
    # Memory is sized at start; the first second of the flood may still touch
    # pages of the half-open slots, so flatness is judged after it.
    settled = [j["rss_kb"] for j in during if j["t_ms"] >= s_before["t_ms"] + 1000]
    figures = {
        "flood_seconds": round(b["up"]["flood_seconds"], 2),
        "flood_syns": sent,
        "flood_syns_per_s": int(sent / max(b["up"]["flood_seconds"], 1e-9)),
        "flood_bursts_ring_full_pct": round(100.0 * b["up"]["flood_ring_full"]
                                            / max(b["up"]["flood_bursts"], 1), 1),
        "loadavg_1min": os.getloadavg()[0],
        "server_syn_cookies": cookies,
        "server_synacks_seen_by_bridge": b["down"]["synacks_to_gateway"],
        "server_flows_max": max(flows(j) for j in during),
        "server_drops_during": s_end["mtcp"]["stack"]["drops"],
        "server_rss_kb_before": s_before["rss_kb"],
        "server_rss_kb_max": max(rss),
        "server_rss_kb_settled_range": [min(settled), max(settled)] if settled else None,
        "server_vmrss_kb_proc_range": [min(x for x in rss_proc if x), max(x for x in rss_proc if x)],
        "legit_baseline": base, "legit_flood": fl, "legit_after": after,
    }
    report(figures)
    check(sent > 100000, "the flood sent %d spoofed SYNs (> 100k)" % sent)
    check(fl["attempted"] >= 0.8 * rate * flood_s,
          "the client kept its pace during the flood (%d attempts)" % fl["attempted"])
    ok_ratio = fl["ok"] / max(fl["attempted"], 1)
    check(ok_ratio >= 0.9, "%.1f%% of legitimate connections during the flood succeeded (>= 90%%)"
          % (100 * ok_ratio))
    check(cookies > 10 * backlog, "SYN cookies engaged (%d sent, backlog %d)" % (cookies, backlog))
    check(max(flows(j) for j in during) <= backlog + 64 + 1,
          "connections in use stayed within the SYN backlog plus the client's (max %d)"
          % max(flows(j) for j in during))
    check_mem(max(rss) - s_before["rss_kb"] <= 8192,
          "server RSS grew by at most 8 MiB under flood (%d -> max %d KiB)"
          % (s_before["rss_kb"], max(rss)))
    if settled:
        check_mem(max(settled) - min(settled) <= 512,
              "server RSS flat after the first second of flood (%d..%d KiB)"
              % (min(settled), max(settled)))
    check(base["failed"] == 0 and after["failed"] == 0,
          "no failure before (%d ok) or after (%d ok) the flood" % (base["ok"], after["ok"]))
    check(after["ok"] >= 0.8 * rate * 2, "the server serves at full pace after the flood")


def case_maxconn():
    """1.5x max_concurrency idle connections: the pool fills, the excess is
    refused (RST) at once, nothing times out; closing frees the pool and new
    clients are served."""
    maxc, n = 32, 48
    server = start_server(max_concurrency=maxc, tcp_timeout=-1, tcp_timewait=0)
    base = flows(server_samples()[-1])
    # The client closes first and the echo server's FIN follows: --linger
    # keeps the client's stack up to acknowledge it. Without it, a server
    # slowed by a loaded host sent that FIN after the client process (and
    # with it its stack) had gone, and sat in LAST-ACK retransmitting past
    # the 5 s below (CI rehearsal, 2026-11-24).
    cl = start("client", [exe("client"), "-f", conf("client", "s", tcp_timewait=0, tcp_timeout=-1),
                          "--server", "10.0.0.1:7000", "--mode", "hold", "-n", str(n), "-c", "8",
                          "--hold", "1", "--timeout", "5", "--verify", "5", "--verify-after", "0.3",
                          "--linger", "2", "--stats-ms", "0"])
    wait_exit(cl, 30)
    c = final("client")
    settle(c["held_after_open"] + c["verify"]["ok"], base, 5, "the server to close everything")
    peak = max(flows(j) for j in server_samples())
    end = server_samples()[-1]
    stop(server)
    pool = maxc - base  # the listener holds no connection slot, but measure it
    report({"max_concurrency": maxc, "attempted": n, "baseline_flows": base,
            "held": c["held_after_open"], "client": c["hold"], "server_flows_peak": peak,
            "server_drops": end["mtcp"]["stack"]["drops"], "verify": c["verify"]})
    check(peak <= maxc, "server connections never above max_concurrency (peak %d)" % peak)
    check(c["held_after_open"] == pool, "exactly the pool was held (%d of %d)"
          % (c["held_after_open"], pool))
    refused = c["hold"]["errors"]["reset"] + c["hold"]["errors"]["connect"]
    check(refused == n - pool and c["hold"]["failed"] == refused,
          "the %d beyond the pool were refused with RST, none timed out (%s)"
          % (n - pool, c["hold"]["errors"]))
    check(c["reset_after_ms"]["max"] < 1000, "refusals came at once (max %d ms after the ACK)"
          % c["reset_after_ms"]["max"])
    check(c["held_at_end"] == pool, "held connections survived the refusals")
    check(c["verify"]["ok"] == 5, "after closing them, new clients are served (%d/5)"
          % c["verify"]["ok"])
    check(flows(end) == base, "server back to %d connections in use" % base)


def case_idle():
    """An idle flood (more than the pool): the server's tcp_timeout (2 s)
    resets every held connection and frees the pool."""
    maxc, n, idle_s = 64, 80, 2
    server = start_server(max_concurrency=maxc, tcp_timeout=idle_s, tcp_timewait=0)
    base = flows(server_samples()[-1])
    cl = start("client", [exe("client"), "-f", conf("client", "s", tcp_timewait=0, tcp_timeout=-1),
                          "--server", "10.0.0.1:7000", "--mode", "hold", "-n", str(n), "-c", "8",
                          "--hold", str(idle_s + 2), "--timeout", "5", "--verify", "5",
                          "--stats-ms", "0"])
    wait_exit(cl, 30)
    c = final("client")
    settle(c["held_after_open"] + c["verify"]["ok"], base, 5, "the server to close everything")
    samples = server_samples()
    peak = max(flows(j) for j in samples)
    t_peak = min(j["t_ms"] for j in samples if flows(j) == peak)
    t_free = min((j["t_ms"] for j in samples if j["t_ms"] > t_peak and flows(j) == base),
                 default=None)
    end = samples[-1]
    stop(server)
    report({"max_concurrency": maxc, "attempted": n, "tcp_timeout_s": idle_s,
            "held": c["held_after_open"], "client": c["hold"],
            "reset_after_ms": c["reset_after_ms"], "server_flows_peak": peak,
            "pool_freed_after_ms": None if t_free is None else t_free - t_peak,
            "server_resets": end["resets"], "verify": c["verify"]})
    held = c["held_after_open"]
    check(peak <= maxc and held == maxc - base, "the pool filled (%d held, peak %d)" % (held, peak))
    ra = c["reset_after_ms"]
    # Resets of held connections come from the idle timer, those of the excess at once.
    check(c["held_at_end"] == 0, "every held connection was ended by the server")
    check(ra["count"] == n, "all %d connections were reset (%d)" % (n, ra["count"]))
    late = [x for x in (ra["min"], ra["max"])]
    check(late[1] >= idle_s * 1000 - 100 and late[1] <= idle_s * 1000 + 1500,
          "idle ones reset after tcp_timeout (last after %d ms)" % late[1])
    check(t_free is not None and t_free <= idle_s * 1000 + 1500,
          "pool free again %s ms after it filled" % t_free)
    check(c["verify"]["ok"] == 5, "new clients served after the idle flood (%d/5)"
          % c["verify"]["ok"])
    check(flows(end) == base, "server back to %d connections in use" % base)


def tw_count(j):
    return j["mtcp"]["tcp"]["time_wait"]


def case_timewait():
    """The server closes first: every connection leaves TIME-WAIT for
    tcp_timewait (3 s). 3x max_concurrency at full speed: a connection gives
    its buffers back on entering TIME-WAIT, and once the pool's blocks
    (2 x max_concurrency) all hold TIME-WAIT, each new connection takes the
    oldest one's block. Every connection is served, TIME-WAIT never exceeds
    the blocks, 2MSL empties it."""
    maxc, n, tw = 32, 96, 3
    server = start_server(mode="close", max_concurrency=maxc, tcp_timewait=tw, tcp_timeout=-1)
    base = flows(server_samples()[-1])
    cl = start("client", [exe("client"), "-f", conf("client", "s", tcp_timewait=0, tcp_timeout=-1),
                          "--server", "10.0.0.1:7000", "--mode", "conn", "-n", str(n), "-c", "4",
                          "-l", "0", "--wait-eof", "--timeout", "3", "--verify", "5",
                          "--verify-after", str(tw + 1), "--stats-ms", "0"])
    wait_exit(cl, 40)
    c = final("client")
    settle(c["phases"][0]["ok"] + c["verify"]["ok"], base, tw + 3, "the server to close everything")
    # The verify connections leave TIME-WAIT of their own: let it expire.
    wait_for(lambda: tw_count(server_samples()[-1]) == 0, 2 * tw + 4, "TIME-WAIT to expire", step=0.1)
    samples = server_samples()
    peak = max(tw_count(j) for j in samples)
    t_peak = min(j["t_ms"] for j in samples if tw_count(j) == peak)
    t_free = min((j["t_ms"] for j in samples if j["t_ms"] > t_peak and tw_count(j) == 0),
                 default=None)
    end = samples[-1]
    reclaimed = end["mtcp"]["tcp"]["time_wait_reclaimed"]
    stop(server)
    ph = c["phases"][0]
    report({"max_concurrency": maxc, "attempted": n, "tcp_timewait_s": tw, "client": ph,
            "server_time_wait_peak": peak, "time_wait_reclaimed": reclaimed,
            "time_wait_gone_after_ms": None if t_free is None else t_free - t_peak,
            "verify": c["verify"]})
    check(peak <= 2 * maxc, "TIME-WAIT never above the pool's blocks, 2 x max_concurrency (peak %d)"
          % peak)
    check(ph["ok"] == n, "every connection served while TIME-WAIT filled the pool (%d/%d, errors %s)"
          % (ph["ok"], n, ph["errors"]))
    check(reclaimed >= n - 2 * maxc, "the oldest TIME-WAIT blocks were taken (%d)" % reclaimed)
    check(t_free is not None and tw * 1000 - 500 <= t_free <= tw * 1000 + 1500,
          "TIME-WAIT ended after 2MSL (%s ms)" % t_free)
    check(c["verify"]["ok"] == 5, "new connections afterwards (%d/5)" % c["verify"]["ok"])
    check(flows(end) == base, "server back to %d connections in use" % base)


def case_finwait2():
    """The server closes, the client never does: orphaned FIN-WAIT-2 on the
    server, freed by its timeout (tcp_fin_wait_2, 4 s here; 60 s by
    default). An orphan whose data is all acknowledged gives its buffers
    back, so it holds only a block (2 x max_concurrency of them): 2.5x
    max_concurrency attempts fill the blocks, the excess is refused."""
    maxc, n, fw2 = 32, 80, 4
    server = start_server(mode="close", max_concurrency=maxc, tcp_timewait=0, tcp_timeout=-1,
                          tcp_fin_wait_2=fw2)
    base = flows(server_samples()[-1])
    cl = start("client", [exe("client"), "-f", conf("client", "s", tcp_timewait=0, tcp_timeout=-1),
                          "--server", "10.0.0.1:7000", "--mode", "hold", "-n", str(n), "-c", "8",
                          "--keep-on-fin", "--hold", str(fw2 + 3), "-l", "0", "--wait-eof",
                          "--timeout", "5", "--verify", "5", "--stats-ms", "0"])
    wait_exit(cl, fw2 + 30)
    c = final("client")
    settle(c["held_after_open"] + c["verify"]["ok"], base, 5, "the server to close everything")
    samples = server_samples()
    peak = max(flows(j) for j in samples)
    t_peak = min(j["t_ms"] for j in samples if flows(j) == peak)
    t_free = min((j["t_ms"] for j in samples if j["t_ms"] > t_peak and flows(j) == base),
                 default=None)
    end = samples[-1]
    stop(server)
    report({"max_concurrency": maxc, "attempted": n, "held": c["held_after_open"],
            "fins_received": c["eofs"], "client": c["hold"], "server_flows_peak": peak,
            "pool_freed_after_ms": None if t_free is None else t_free - t_peak,
            "server_drops": end["mtcp"]["stack"]["drops"], "verify": c["verify"]})
    blocks = 2 * maxc - base
    check(peak <= 2 * maxc, "FIN-WAIT-2 never above the pool's blocks (peak %d)" % peak)
    check(c["held_after_open"] == blocks and c["eofs"] == blocks,
          "the blocks' worth got the server's FIN and sit in FIN-WAIT-2 (%d of %d)"
          % (c["eofs"], blocks))
    check(c["hold"]["errors"]["timeout"] == 0 and c["hold"]["failed"] == n - blocks,
          "the excess was refused, nothing hung (%s)" % c["hold"]["errors"])
    check(t_free is not None and (fw2 - 1) * 1000 <= t_free <= (fw2 + 2) * 1000,
          "the FIN-WAIT-2 timeout freed the pool (%s ms)" % t_free)
    check(c["verify"]["ok"] == 5, "new connections afterwards (%d/5)" % c["verify"]["ok"])
    check(flows(end) == base, "server back to %d connections in use" % base)


def case_soak():
    """Mixed short and long echo connections through the bridge with loss on
    every IPv4 frame both ways; no error, flows back to the start, RSS flat."""
    secs = args.seconds or 40.0
    longs, rate, short_max = 4, 50, 16384
    bridge = start("bridge", [exe("bridge"), "--a", "shm:%s_s" % LINK, "--b", "shm:%s_c" % LINK,
                              "--loss", str(args.loss), "--seed", "7", "--stats-ms", "1000"])
    wait_for(lambda: any(j.get("event") == "ready" for j in lines("bridge")), 10, "the bridge")
    server = start_server(max_concurrency=1024, rcvbuf=65536, sndbuf=65536, tcp_timewait=1,
                          tcp_timeout=30)
    base = server_samples()[-1]
    cl = start("client", [exe("client"), "-f", conf("client", "c", tcp_timewait=1, tcp_timeout=-1,
                                                    rcvbuf=65536, sndbuf=65536),
                          "--server", "10.0.0.1:7000", "--mode", "mixed", "--long", str(longs),
                          "--long-secs", str(min(20.0, secs / 4)), "--rate", str(rate), "-l",
                          str(short_max), "-c", "64", "-d", str(secs), "--timeout", "30",
                          "--linger", "300", "--stats-ms", "1000"])
    mem = {"server": [], "client": []}
    t0 = time.time()

    def client_done():
        return any("final" in j for j in lines("client"))

    while not client_done() and time.time() - t0 < secs + 90:
        if cl.poll() is not None:
            fail("the client exited early (rc %s)" % cl.returncode)
        for name, p in (("server", server), ("client", cl)):
            v = mem_kb(p.pid)
            if v:
                mem[name].append((time.time() - t0, v))
        time.sleep(1)
    if not client_done():
        fail("the client did not finish within %ds" % (secs + 90))
    c = final("client")
    # Every connection closed on the client: the server's must drain too
    # (LAST-ACK retransmissions under loss take a few RTOs). The client
    # lingers meanwhile, so a FIN whose last ACK was lost still gets one.
    wait_for(lambda: flows(server_samples()[-1]) == flows(base), 60,
             "the server's connections to return to %d" % flows(base), step=0.2)
    end = server_samples()[-1]
    stop(cl)
    stop(bridge)
    b = final("bridge")
    stop(server)
    # Memory is judged over the second half of the run (the first includes
    # warm-up: pools touched for the first time, allocator caches filling).
    warm = secs / 2
    figs = {"seconds": secs, "loss": args.loss, "short": c["short"], "long": c["long"],
            "bridge_lost": {"to_client": b["down"]["lost"], "to_server": b["up"]["lost"]},
            "server_retransmits": end["mtcp"]["tcp"]["retransmits"],
            "server_bytes_echoed": end["bytes"], "server_errors": end["errors"],
            "server_resets": end["resets"], "server_accepted": end["accepted"],
            "flows_start_end": [flows(base), flows(end)], "server_drops": end["mtcp"]["stack"]["drops"]}
    for name in ("server", "client"):
        m = mem[name]
        half = [v for t, v in m if t >= warm]
        if not m or not half:
            fail("no memory samples of the %s" % name)
        figs["mem_kb_" + name] = {
            "rss_first_last": [m[0][1]["rss"], m[-1][1]["rss"]],
            "second_half_other": [min(v["other"] for v in half), max(v["other"] for v in half)],
            "second_half_arena": [min(v["arena"] for v in half), max(v["arena"] for v in half)],
            "arena_size": m[-1][1]["arena_size"],
            "series_rss": [v["rss"] for t, v in m[::max(1, len(m) // 12)]],
            "series_other": [v["other"] for t, v in m[::max(1, len(m) // 12)]]}
    report(figs)
    sh, lg = c["short"], c["long"]
    check(sh["failed"] == 0 and lg["failed"] == 0,
          "no failed connection (short %s, long %s)" % (sh["errors"], lg["errors"]))
    check(sh["ok"] >= 0.8 * rate * secs, "short connections kept their pace (%d)" % sh["ok"])
    check(lg["ok"] >= longs, "long connections completed and were replaced (%d)" % lg["ok"])
    check(b["down"]["lost"] > 0 and b["up"]["lost"] > 0, "loss was injected both ways")
    check(end["mtcp"]["tcp"]["retransmits"] > 0, "the server retransmitted")
    check(end["errors"] == 0 and end["resets"] == 0, "the server saw no error and no reset")
    check(flows(end) == flows(base), "server connections back to the start (%d)" % flows(base))
    for name in ("server", "client"):
        r = figs["mem_kb_" + name]
        lo, hi = r["second_half_other"]
        check_mem(hi - lo <= 512, "%s heap and other private memory flat over the second half "
                  "(%d..%d KiB)" % (name, lo, hi))
        lo, hi = r["second_half_arena"]
        check_mem(hi <= r["arena_size"], "%s preallocated pools within their size (%d..%d of %d "
                  "KiB resident)" % (name, lo, hi, r["arena_size"]))


def on_signal(sig, _frame):
    fail("stopped by signal %d" % sig)


signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)
try:
    globals()["case_" + args.case]()
except SystemExit:
    raise
except BaseException:
    cleanup()
    raise
cleanup()
print("PASS", args.case)
