#!/usr/bin/env python3
"""Many concurrent short connections between mvnf-httpd and mvnf-wget, two
processes joined by an shm link, with the default configuration; static ARP
on both ends (as mTCP setups use: every first SYN then leaves at once) on
every other run, dynamic ARP on the rest.
Usage: concurrency_test.py BIN_DIR CASE [RUNS]
  CASE: c1000   100k one-request connections at concurrency 1000
        c10000  20k at concurrency 10000
        tiny    the same two workloads with ring_size = 64 (TX buffers run
                out all the time: back-pressure must hold, never lose)
Each run must complete every request with no error, and each side's
counters must add up: every segment TCP sent left the port or is counted as
a drop with its reason. Every process has a time limit; everything started is
killed and every shm name removed on exit."""
import glob, json, os, subprocess, sys, tempfile, time

BIN, CASE = sys.argv[1], sys.argv[2]
RUNS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
TMP = tempfile.mkdtemp(prefix="conc_test_")
LINK = "conc%d" % os.getpid()
procs = []


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    for f in glob.glob("/dev/shm/*%s*" % LINK):
        try:
            os.unlink(f)
        except OSError:
            pass
    subprocess.call(["rm", "-rf", TMP])


def fail(msg):
    print("FAIL:", msg)
    cleanup()
    sys.exit(1)


def write_confs(link, extra, static_arp):
    with open(os.path.join(TMP, "arp.conf"), "w") as f:
        f.write("ARP_ENTRY 2\n10.0.0.1/32 02:00:00:00:00:01\n10.0.0.2/32 02:00:00:00:00:02\n")
    cpus = os.cpu_count() or 1
    for end in (1, 2):
        mask = end if cpus >= 2 else 1
        with open(os.path.join(TMP, "end%d.conf" % end), "w") as f:
            f.write("port = shm:%s\nnum_cores = 1\ncore_mask = 0x%x\n" % (link, mask))
            f.write("ip_addr = 10.0.0.%d\n" % end)
            if static_arp:
                f.write("mac_addr = 02:00:00:00:00:0%d\n" % end)
                f.write("arp_conf = %s\n" % os.path.join(TMP, "arp.conf"))
            f.write(extra)


def stack_json(stderr_text, tool):
    """The per-core counters printed by --stack-stats."""
    out = []
    for line in stderr_text.splitlines():
        tag = "%s: core " % tool
        if line.startswith(tag) and " stack " in line:
            out.append(json.loads(line.split(" stack ", 1)[1]))
    if not out:
        fail("%s printed no stack counters:\n%s" % (tool, stderr_text[-2000:]))
    return out


def check_accounting(side, j):
    """TCP's segments out == frames the port took + drops counted by reason."""
    st, tcp, arp = j["stack"], j["tcp"], j["arp"]
    tcp = {k: v for k, v in tcp.items() if k != "states"}
    tx_drops = sum(v for k, v in st["drops"].items() if k.startswith("tx_"))
    expect = tcp["segs_out"] - tcp["drop_ctl_full"] - tx_drops + arp["requests_sent"] + \
        arp["replies_sent"] + arp["gratuitous_sent"] + st["icmp_tx"]
    if st["tx_packets"] != expect:
        fail("%s: port sent %d frames, TCP sent %d segments (ctl drops %d, tx drops %d): "
             "%d frames unaccounted for" % (side, st["tx_packets"], tcp["segs_out"],
                                            tcp["drop_ctl_full"], tx_drops, expect - st["tx_packets"]))


def one_run(n, requests, conc, extra):
    link = "%s_%d" % (LINK, n)
    # Static ARP on both ends (as mTCP setups use: every first SYN leaves at
    # once) on even runs, ARP resolving on its own on odd ones.
    write_confs(link, extra, n % 2 == 0)
    www = os.path.join(TMP, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "index.html"), "w") as f:
        f.write("<html>" + "x" * 1000 + "</html>\n")
    srv_out = os.path.join(TMP, "srv%d.out" % n)
    srv_err = os.path.join(TMP, "srv%d.err" % n)
    srv = subprocess.Popen([os.path.join(BIN, "httpd", "mvnf-httpd"), "-p", www, "-f",
                            os.path.join(TMP, "end1.conf"), "--port", "8080", "-d", "100", "-q",
                            "--stack-stats"],
                           stdout=open(srv_out, "w"), stderr=open(srv_err, "w"))
    procs.append(srv)
    deadline = time.time() + 20
    while time.time() < deadline:
        if "listening" in open(srv_out).read():
            break
        if srv.poll() is not None:
            fail("server exited: %s" % open(srv_err).read())
        time.sleep(0.05)
    else:
        fail("server not listening after 20 s")
    t0 = time.time()
    try:
        cli = subprocess.run([os.path.join(BIN, "wget", "mvnf-wget"), "http://10.0.0.1:8080/index.html",
                              str(requests), "-c", str(conc), "-f", os.path.join(TMP, "end2.conf"),
                              "--json", "--timeout", "30", "--stack-stats"],
                             capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        fail("run %d: mvnf-wget did not finish %d requests within 120 s" % (n, requests))
    secs = time.time() - t0
    srv.send_signal(2)
    try:
        srv.wait(timeout=20)
    except subprocess.TimeoutExpired:
        fail("server did not stop on SIGINT")
    if cli.returncode != 0:
        fail("mvnf-wget exited %d: %s" % (cli.returncode, cli.stderr[-2000:]))
    summary = json.loads(cli.stdout.strip().splitlines()[-1])
    cj = stack_json(cli.stderr, "mvnf-wget")
    sj = stack_json(open(srv_err).read(), "mvnf-httpd")
    if summary["completed"] != requests or summary["errors"]["total"] != 0:
        fail("run %d: %d of %d completed in %.1f s, errors %s;\nclient %s;\nserver %s" %
             (n, summary["completed"], requests, secs, summary["errors"], json.dumps(cj[0]),
              json.dumps(sj[0])))
    for side, js in (("client", cj), ("server", sj)):
        for j in js:
            check_accounting(side, j)
    blocked = cj[0]["tcp"]["tx_blocked"] + sj[0]["tcp"]["tx_blocked"]
    print("run %d: %d requests at c%d in %.1f s (%.0f/s); TX back-pressure: %d refusals, "
          "TIME-WAIT reclaimed %d, cookies %d, ctl deferred %d / dropped %d" %
          (n, requests, conc, secs, requests / secs, blocked, sj[0]["tcp"]["time_wait_reclaimed"],
           sj[0]["tcp"]["syn_cookies_sent"], sj[0]["tcp"]["ctl_deferred"], sj[0]["tcp"]["drop_ctl_full"]))
    for f in glob.glob("/dev/shm/*%s*" % link):
        os.unlink(f)
    return blocked


try:
    workloads = {"c1000": [(100000, 1000)], "c10000": [(20000, 10000)],
                 "tiny": [(100000, 1000), (20000, 10000)]}[CASE]
except KeyError:
    fail("unknown case %s" % CASE)
extra = "ring_size = 64\n" if CASE == "tiny" else ""
runs = 1 if CASE == "tiny" else RUNS
k = 0
for requests, conc in workloads:
    for _ in range(runs):
        blocked = one_run(k, requests, conc, extra)
        if CASE == "tiny" and blocked == 0:
            fail("ring_size = 64 and no TX refusal was counted: the test did not exercise back-pressure")
        k += 1
cleanup()
print("concurrency %s: %d runs, 0 errors" % (CASE, k))
