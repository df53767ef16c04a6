# Output of bench/run: results.json (everything), results.csv (one row per
# repetition and metric), results.md (medians, spread, ratios, targets) and
# PNG plots (matplotlib, Agg backend; skipped with a note if it is missing).
import csv, json, os, statistics

NAMES = {"conn_per_s": "conn/s", "trans_per_s": "trans/s", "p50_us": "p50 µs", "p99_us": "p99 µs",
         "gbps": "Gbit/s", "rx_pps": "pkt/s", "server_bytes_per_conn": "server RSS B/conn",
         "instr_per_conn": "instr/conn", "instr_per_req": "instr/req",
         "srv_instr_per_conn": "server instr/conn", "srv_instr_per_req": "server instr/req",
         "srv_instr_per_dgram": "server instr/UDP dgram", "api_instr_per_dgram": "API-call instr/UDP dgram",
         "cpu_us_per_conn": "CPU µs/conn", "cpu_us_per_req": "CPU µs/req", "kernel_pct": "% CPU in kernel"}
# metrics where a smaller ours/Linux is better and that carry no target: kept
# out of the ratio plot (they have their own, cost.png)
COST = ("cpu_us_per_conn", "cpu_us_per_req", "instr_per_conn", "instr_per_req", "srv_instr_per_conn",
        "srv_instr_per_req", "srv_instr_per_dgram", "api_instr_per_dgram", "server_bytes_per_conn", "kernel_pct")


def conns_of(cell):
    """Connections of a scaling cell, from its id (scale250k -> 250000)."""
    return int(cell["id"][5:-1]) * 1000


def metrics(cell):
    m = cell["metric"]
    return m if isinstance(m, list) else [m]


def targets(cell):
    t = cell["target"]
    return t if isinstance(t, list) else [t] * len(metrics(cell))


def stat(cell, stack, m):
    vals = [r[m] for r in cell["runs"][stack] if r.get(m) is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def fmt(v):
    if v is None:
        return "—"
    a = abs(v)
    if a >= 1e9:
        return "%.2fG" % (v / 1e9)
    if a >= 1e6:
        return "%.2fM" % (v / 1e6)
    if a >= 1e4:
        return "%.1fk" % (v / 1e3)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    return "%.2f" % v


def cell_text(cell, stack, m):
    if stack in cell["na"] and not cell["runs"][stack]:
        return "n/a (%s)" % cell["na"][stack]
    s = stat(cell, stack, m)
    if s is None:
        return "n/a"
    if s["n"] == 1:
        return fmt(s["median"])
    return "%s (%s–%s)" % (fmt(s["median"]), fmt(s["min"]), fmt(s["max"]))


def ratio(cell, m):
    a, b = stat(cell, "ours", m), stat(cell, "linux", m)
    if not a or not b or not b["median"]:
        return None
    return a["median"] / b["median"]


def rows(res):
    out = []
    for cell in res["cells"]:
        for m, t in zip(metrics(cell), targets(cell)):
            r = ratio(cell, m)
            tgt, met = "", ""
            if t:
                tgt = "%s %g×" % ("≥" if t[0] == ">=" else "≤", t[1])
                met = "n/a" if r is None else ("yes" if (r >= t[1] if t[0] == ">=" else r <= t[1]) else "no")
            out.append({"id": cell["id"], "workload": cell["workload"], "title": cell["title"], "metric": m,
                        "ours": cell_text(cell, "ours", m), "linux": cell_text(cell, "linux", m),
                        "ratio": r, "target": tgt, "met": met})
    return out


def scaling_verdict(res):
    """Issue target: at 250K connections >= 80% of peak trans/s (ours), peak
    being the best rr 64 B rate of ours over shm in this run (rr, lat and
    the scaling cells)."""
    sc = [c for c in res["cells"] if c["id"].startswith("scale")]
    cands = [(stat(c, "ours", "trans_per_s"), c["id"]) for c in res["cells"] if c["id"] in ("rr", "lat") or c in sc]
    cands = [(s["median"], cid) for s, cid in cands if s]
    if not cands:
        return "no rr run of ours completed", None
    peak, pid = max(cands)
    done = [(conns_of(c), stat(c, "ours", "trans_per_s")) for c in sc]
    done = [(n, s["median"]) for n, s in done if s]
    if not done:
        return "no scaling run of ours completed (peak %s trans/s in `%s`)" % (fmt(peak), pid), None
    n, v = max(done)
    share = v / peak
    if n < 250000:
        missing = [c["id"] for c in sc if conns_of(c) > n]
        why = "; ".join("%s: %s" % (c["id"], c["na"].get("ours", "?")) for c in sc if c["id"] in missing)
        return ("largest run of ours %d connections: %s trans/s = %.0f%% of peak %s (`%s`); 250K %s"
                % (n, fmt(v), 100 * share, fmt(peak), pid, "n/a — " + why if why else "not run (--quick)")), None
    return ("250K connections: %s trans/s = %.0f%% of peak %s (`%s`) — %s"
            % (fmt(v), 100 * share, fmt(peak), pid, "met" if share >= 0.8 else "not met")), share


def write_md(path, res, pngs):
    meta = res["meta"]
    L = ["# Benchmark results — mtcp-vnf vs Linux", "",
         "`%s` — %s, %s rep(s) per cell, %.1f s per run (scaling %.1f s). Machine: %d CPU(s), %s, "
         "Linux %s. Tree: %s; binaries built %s (last commit before: %s)." % (
             meta["command"], meta["date"], meta["reps"], meta["duration_s"], meta["scale_duration_s"], meta["nproc"],
             meta["cpu"], meta["kernel"], meta["git"], meta.get("built", "?"), meta.get("git_at_build", "?")),
         "",
         "Load average (1/5/15 min) at the start: %s, at the end: %s." % (
             " / ".join("%.2f" % x for x in meta.get("loadavg_start", [])) or "?",
             " / ".join("%.2f" % x for x in meta.get("loadavg_end", [])) or "?"), "",
         "Ours: the apps over an `shm` link, server and client in two processes with their own stack. "
         "Linux: the `-kernel` builds of the same apps over 127.0.0.1. `veth:` rows: one veth pair between "
         "two namespaces, ours over `afxdp:` ports on its ends, Linux over the same ends. Scaling rows: ours "
         "on shm, Linux on the loopback of a private namespace (when root). Server on CPU 0, client on CPU 1 "
         "(taskset), stacks interleaved in each repetition. Cells: median (min–max). CPU µs/op: user+sys of "
         "both processes plus ksoftirqd on their CPUs, per op — at load it includes our busy polling.", "",
         "| # | workload | metric | ours | Linux | ours/Linux | target | met? |",
         "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows(res):
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["workload"], r["title"], NAMES.get(r["metric"], r["metric"]), r["ours"], r["linux"],
            "—" if r["ratio"] is None else "%.2f×" % r["ratio"], r["target"], r["met"]))
    L += ["", "Scaling target (≥ 80%% of peak at 250K connections): %s." % scaling_verdict(res)[0]]
    pk = {c["id"]: stat(c, "ours", "rx_pps") for c in res["cells"] if c["id"] in ("udp", "pktgen106", "pktgen60")}
    if pk.get("udp") and pk.get("pktgen106"):
        L.append("Stack's share of the I/O ceiling: UDP 64 B (106-byte frames) received %s pkt/s = %.1f%% of pktgen's "
                 "%s pkt/s with the same frame size." % (fmt(pk["udp"]["median"]),
                                                         100 * pk["udp"]["median"] / pk["pktgen106"]["median"],
                                                         fmt(pk["pktgen106"]["median"])))
    extra = []
    for c in res["cells"]:
        if c["id"].startswith("scale") and c["runs"]["linux"]:
            k, sl = stat(c, "linux", "kernel_tcp_bytes_per_conn"), stat(c, "linux", "kernel_slab_bytes_per_conn")
            pr = stat(c, "linux", "processes")
            if k and sl:
                extra.append("%s: Linux kernel memory ≈ %s B/conn slab + %s B/conn TCP buffers (machine-wide growth, "
                             "both ends)%s" % (c["id"], fmt(sl["median"]), fmt(k["median"]),
                                               ", %d server/client process pairs" % pr["median"]
                                               if pr and pr["median"] > 1 else ""))
        if c["id"] == "udp":
            for st in ("ours", "linux"):
                s = stat(c, st, "loss_pct")
                t = stat(c, st, "tx_pps")
                if s and t:
                    extra.append("udp %s: sent %s pkt/s, loss %.1f%%" % (st, fmt(t["median"]), s["median"]))
    for c in res["cells"]:
        if c["id"].startswith("veth") and c["runs"]["ours"]:
            z = [r["xsk_zero_copy"] for r in c["runs"]["ours"] if r.get("xsk_zero_copy") is not None]
            x = [r["xdp_native"] for r in c["runs"]["ours"] if r.get("xdp_native") is not None]
            if z or x:
                extra.append("%s ours: AF_XDP %s, XDP program %s (server's port, read while it ran)" % (
                    c["id"], "copy mode" if z and max(z) == 0 else "zero-copy" if z and min(z) == 1 else
                    "mode unknown" if not z else "mixed copy/zero-copy",
                    "native (driver) mode" if x and min(x) == 1 else "generic (SKB) mode" if x and max(x) == 0
                    else "attach mode unknown" if not x else "native and generic"))
    mem = [(conns_of(c), stat(c, "ours", "server_rss_kib")) for c in res["cells"]
           if c["id"].startswith("scale")]
    mem = sorted((n, s["median"]) for n, s in mem if s)
    if len(mem) >= 2:
        (n0, r0), (n1, r1) = mem[0], mem[-1]
        extra.append("ours: marginal server memory %s B/conn between %d and %d connections (RSS delta; the "
                     "per-core pools are sized by max_concurrency = conns + 1024, rcvbuf = sndbuf = 2 KiB; the "
                     "fixed part includes the 65536-slot shm rings)"
                     % (fmt((r1 - r0) * 1024 / (n1 - n0)), n0, n1))
    if extra:
        L += ["", "Notes from the runs: " + "; ".join(extra) + "."]
    L += ["", "Raw data: `results.csv` (one row per repetition and metric), `results.json` (everything)."]
    if os.path.exists(os.path.join(os.path.dirname(path), "profile.txt")):
        L.append("Profile of our server (callgrind, self cost): `profile.txt`.")
    if os.path.exists(os.path.join(os.path.dirname(path), "perf_profile.txt")):
        L.append("Time profile of both stacks, kernel included (perf cpu-clock sampling): `perf_profile.txt`.")
    L.append("")
    for p in pngs:
        L.append("![%s](%s)" % (p[:-4], p))
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def write_csv(path, res):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["cell", "workload", "stack", "rep", "metric", "value"])
        for c in res["cells"]:
            for st in ("ours", "linux"):
                for r in c["runs"][st]:
                    for k, v in r.items():
                        if k != "rep":
                            w.writerow([c["id"], c["workload"], st, r["rep"], k, v])
                if st in c["na"]:
                    w.writerow([c["id"], c["workload"], st, "", "n/a", c["na"][st]])


def plots(outdir, res):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    made = []
    C = {"ours": "#1f77b4", "linux": "#ff7f0e"}

    # 1: ratios ours/Linux with the targets
    rs = [r for r in rows(res) if r["ratio"] is not None and r["metric"] not in COST]
    if rs:
        fig, ax = plt.subplots(figsize=(9, 4.8))
        labels = ["%s %s" % (r["id"], NAMES.get(r["metric"], r["metric"])) for r in rs]
        ax.bar(range(len(rs)), [r["ratio"] for r in rs], color=C["ours"])
        for i, r in enumerate(rs):
            if r["target"]:
                t = float(r["target"].split()[1].rstrip("×"))
                ax.plot([i - 0.4, i + 0.4], [t, t], color="red", lw=2)
        ax.axhline(1, color="gray", lw=0.8, ls="--")
        ax.set_yscale("log")
        ax.set_xticks(range(len(rs)))
        ax.set_xticklabels(labels, fontsize=7, rotation=40, ha="right")
        ax.set_ylabel("ours / Linux (log)")
        ax.set_title("Ratio ours/Linux per cell (red: target)")
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, "ratios.png"), dpi=90)
        plt.close(fig)
        made.append("ratios.png")

    # 2: absolute throughputs with min–max spread (one figure per network)
    for png, ids in (("throughput.png", ("crr", "rr", "bulk1500", "bulk9000", "udp")),
                     ("veth.png", ("veth_crr", "veth_rr", "veth_bulk", "veth_udp"))):
        panels = [c for c in res["cells"] if c["id"] in ids and (c["runs"]["ours"] or c["runs"]["linux"])]
        if not panels:
            continue
        fig, axs = plt.subplots(1, len(panels), figsize=(2.2 * len(panels), 3.4))
        axs = axs if len(panels) > 1 else [axs]
        for ax, c in zip(axs, panels):
            m = metrics(c)[0]
            for i, st in enumerate(("ours", "linux")):
                s = stat(c, st, m)
                if s:
                    ax.bar(i, s["median"], color=C[st],
                           yerr=[[s["median"] - s["min"]], [s["max"] - s["median"]]], capsize=3)
                else:
                    ax.text(i, 0, "n/a", ha="center", va="bottom")
            ax.set_xticks([0, 1])
            ax.set_xticklabels(["ours" + (" (AF_XDP)" if c["id"].startswith("veth") else ""), "Linux"], fontsize=7)
            ax.set_title("%s\n%s" % (c["id"], NAMES.get(m, m)), fontsize=8)
            ax.tick_params(labelsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, png), dpi=90)
        plt.close(fig)
        made.append(png)

    # 3: latency p50/p99
    lat = [c for c in res["cells"] if c["id"] in ("lat", "veth_lat")]
    if lat:
        fig, ax = plt.subplots(figsize=(2.4 + 2 * len(lat), 3.2))
        ticks, names = [], []
        for k, c in enumerate(lat):
            for j, m in enumerate(("p50_us", "p99_us")):
                x0 = k * 6 + j * 3
                for i, st in enumerate(("ours", "linux")):
                    s = stat(c, st, m)
                    if s:
                        ax.bar(x0 + i, s["median"], color=C[st], label=st if (j, k) == (0, 0) else None,
                               yerr=[[s["median"] - s["min"]], [s["max"] - s["median"]]], capsize=3)
                ticks.append(x0 + 0.5)
                names.append("%s\n%s" % ("shm/lo" if c["id"] == "lat" else "veth", m[:3]))
        ax.set_xticks(ticks)
        ax.set_xticklabels(names, fontsize=7)
        ax.set_yscale("log")
        ax.set_ylabel("µs (log)")
        ax.set_title("rr 64 B latency, %s" % lat[0]["title"].split("at ")[-1], fontsize=8)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, "latency.png"), dpi=90)
        plt.close(fig)
        made.append("latency.png")

    # 4: scaling: throughput (with 80% of peak) and memory per connection
    sc = [c for c in res["cells"] if c["id"].startswith("scale")]
    if sc:
        fig, (ax, am) = plt.subplots(1, 2, figsize=(9, 3.4))
        for st in ("ours", "linux"):
            pts = [(conns_of(c), stat(c, st, "trans_per_s")) for c in sc]
            pts = [(n, s["median"], s["min"], s["max"]) for n, s in pts if s]
            if pts:
                ax.errorbar([p[0] for p in pts], [p[1] for p in pts], fmt="o-", color=C[st], label=st, capsize=3,
                            yerr=[[p[1] - p[2] for p in pts], [p[3] - p[1] for p in pts]])
        cands = [stat(c, "ours", "trans_per_s") for c in res["cells"] if c["id"] in ("rr", "lat") or c in sc]
        peak = max([x["median"] for x in cands if x] or [0])
        if peak:
            ax.axhline(0.8 * peak, color="red", lw=1, ls="--", label="80% of ours' peak")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("concurrent connections")
        ax.set_ylabel("trans/s (log)")
        ax.set_title("rr 64 B throughput vs connections", fontsize=8)
        ax.legend(fontsize=7)
        series = (("ours", "server_bytes_per_conn", "ours: server RSS", "-"),
                  ("linux", "server_bytes_per_conn", "Linux: server RSS", "-"),
                  ("linux", "kernel_slab_bytes_per_conn", "Linux: kernel slab (both ends)", "--"),
                  ("linux", "kernel_tcp_bytes_per_conn", "Linux: kernel TCP buffers (both ends)", ":"))
        for st, m, label, ls in series:
            pts = [(conns_of(c), stat(c, st, m)) for c in sc]
            pts = [(n, x["median"]) for n, x in pts if x]
            if pts:
                am.plot([p[0] for p in pts], [p[1] for p in pts], "o" + ls, color=C[st], label=label)
        am.set_xscale("log")
        am.set_yscale("log")
        am.set_xlabel("concurrent connections")
        am.set_ylabel("bytes per connection (log)")
        am.set_title("memory per connection", fontsize=8)
        am.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, "scaling.png"), dpi=90)
        plt.close(fig)
        made.append("scaling.png")

    # 5: cost per op: CPU time (kernel included) and user-space instructions
    cost = []
    for cid, m, label in (("crr", "cpu_us_per_conn", "CPU µs/conn\nat load"), ("rr", "cpu_us_per_req", "CPU µs/req\nat load"),
                          ("veth_crr", "cpu_us_per_conn", "CPU µs/conn\nveth, load"),
                          ("veth_rr", "cpu_us_per_req", "CPU µs/req\nveth, load"),
                          ("cpu", "cpu_us_per_conn", "CPU µs/conn\n1 conn"), ("cpu", "cpu_us_per_req", "CPU µs/req\n1 conn"),
                          ("instr", "instr_per_conn", "k instr/conn\n(Linux: user)"),
                          ("instr", "instr_per_req", "k instr/req\n(Linux: user)")):
        c = next((c for c in res["cells"] if c["id"] == cid), None)
        if c:
            a, b = stat(c, "ours", m), stat(c, "linux", m)
            k = 1e-3 if m.startswith("instr") else 1
            if a or b:
                cost.append((label, a and a["median"] * k, b and b["median"] * k))
    if cost:
        fig, ax = plt.subplots(figsize=(1.2 * len(cost) + 1.5, 3.4))
        for i, (label, a, b) in enumerate(cost):
            for j, (st, v) in enumerate((("ours", a), ("linux", b))):
                if v:
                    ax.bar(i * 3 + j, v, color=C[st], label=st if i == 0 else None)
        ax.set_xticks([i * 3 + 0.5 for i in range(len(cost))])
        ax.set_xticklabels([c[0] for c in cost], fontsize=7)
        ax.set_yscale("log")
        ax.set_title("cost per operation (lower is better)", fontsize=8)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, "cost.png"), dpi=90)
        plt.close(fig)
        made.append("cost.png")
    return made


def write(outdir, res):
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    write_csv(os.path.join(outdir, "results.csv"), res)
    pngs = plots(outdir, res)
    write_md(os.path.join(outdir, "results.md"), res, pngs)
