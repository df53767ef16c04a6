# Output of bench/run: results.json (everything), results.csv (one row per
# repetition and metric), results.md (medians, spread, ratios, targets) and
# PNG plots (matplotlib, Agg backend; skipped with a note if it is missing).
import csv, json, os, statistics

NAMES = {"conn_per_s": "conn/s", "trans_per_s": "trans/s", "p50_us": "p50 µs", "p99_us": "p99 µs",
         "gbps": "Gbit/s", "rx_pps": "pkt/s", "server_bytes_per_conn": "server RSS B/conn",
         "instr_per_conn": "instr/conn", "instr_per_req": "instr/req"}


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
    """Issue target: at 250K connections >= 80% of peak trans/s (ours)."""
    sc = [c for c in res["cells"] if c["id"].startswith("scale")]
    peak = [stat(c, "ours", "trans_per_s") for c in res["cells"] if c["id"] in ("rr", "lat") or c in sc]
    peak = max([p["median"] for p in peak if p] or [0])
    done = [(int(c["id"][5:-1]) * 1000, stat(c, "ours", "trans_per_s")) for c in sc]
    done = [(n, s["median"]) for n, s in done if s]
    if not done or not peak:
        return "no scaling run of ours completed"
    n, v = max(done)
    return ("largest run %d connections: %s trans/s = %.0f%% of peak %s (target: ≥ 80%% at 250K; 250K not run — "
            "see notes)" % (n, fmt(v), 100 * v / peak, fmt(peak)))


def write_md(path, res, pngs):
    meta = res["meta"]
    L = ["# Benchmark results — mtcp-vnf vs Linux", "",
         "`%s` — %s, %s rep(s) per cell, %.1f s per run (scaling %.1f s). Machine: %d CPU(s), %s, "
         "Linux %s. Tree: %s." % (meta["command"], meta["date"], meta["reps"], meta["duration_s"],
                                  meta["scale_duration_s"], meta["nproc"], meta["cpu"], meta["kernel"], meta["git"]),
         "",
         "Ours: the apps over an `shm` link, server and client in two processes with their own stack. "
         "Linux: the `-kernel` builds of the same apps over 127.0.0.1. Server on CPU 0, client on CPU 1 "
         "(taskset), stacks interleaved in each repetition. Cells: median (min–max).", "",
         "| # | workload | metric | ours | Linux | ours/Linux | target | met? |",
         "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows(res):
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["workload"], r["title"], NAMES.get(r["metric"], r["metric"]), r["ours"], r["linux"],
            "—" if r["ratio"] is None else "%.2f×" % r["ratio"], r["target"], r["met"]))
    L += ["", "Scaling target (≥ 80%% of peak at 250K connections): %s." % scaling_verdict(res)]
    pk = {c["id"]: stat(c, "ours", "rx_pps") for c in res["cells"] if c["id"] in ("udp", "pktgen106", "pktgen60")}
    if pk.get("udp") and pk.get("pktgen106"):
        L.append("Stack's share of the I/O ceiling: UDP 64 B (106-byte frames) received %s pkt/s = %.1f%% of pktgen's "
                 "%s pkt/s with the same frame size." % (fmt(pk["udp"]["median"]),
                                                         100 * pk["udp"]["median"] / pk["pktgen106"]["median"],
                                                         fmt(pk["pktgen106"]["median"])))
    extra = []
    for c in res["cells"]:
        if c["id"].startswith("scale") and c["runs"]["linux"]:
            k = stat(c, "linux", "kernel_tcp_bytes_per_conn")
            if k:
                extra.append("%s: Linux kernel TCP memory ≈ %s B/conn (machine-wide sockstat, both ends)"
                             % (c["id"], fmt(k["median"])))
        if c["id"] == "udp":
            for st in ("ours", "linux"):
                s = stat(c, st, "loss_pct")
                t = stat(c, st, "tx_pps")
                if s and t:
                    extra.append("udp %s: sent %s pkt/s, loss %.1f%%" % (st, fmt(t["median"]), s["median"]))
    mem = [(int(c["id"][5:-1]) * 1000, stat(c, "ours", "server_rss_kib")) for c in res["cells"]
           if c["id"].startswith("scale")]
    mem = sorted((n, s["median"]) for n, s in mem if s)
    if len(mem) >= 2:
        (n0, r0), (n1, r1) = mem[0], mem[-1]
        extra.append("ours: marginal server memory %s B/conn between %d and %d connections (RSS delta; the "
                     "per-core pools are sized by max_concurrency = conns + 1024, rcvbuf = sndbuf = 8 KiB)"
                     % (fmt((r1 - r0) * 1024 / (n1 - n0)), n0, n1))
    if extra:
        L += ["", "Notes from the runs: " + "; ".join(extra) + "."]
    L += ["", "Raw data: `results.csv` (one row per repetition and metric), `results.json` (everything)."]
    if os.path.exists(os.path.join(os.path.dirname(path), "profile.txt")):
        L.append("Profile of our server (callgrind, self cost): `profile.txt`.")
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
    rs = [r for r in rows(res) if r["ratio"] is not None]
    if rs:
        fig, ax = plt.subplots(figsize=(8, 4.6))
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

    # 2: absolute throughputs with min–max spread
    panels = [c for c in res["cells"] if c["id"] in ("crr", "rr", "bulk1500", "bulk9000", "udp")]
    if panels:
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
            ax.set_xticklabels(["ours", "Linux"])
            ax.set_title("%s\n%s" % (c["id"], NAMES.get(m, m)), fontsize=8)
            ax.tick_params(labelsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, "throughput.png"), dpi=90)
        plt.close(fig)
        made.append("throughput.png")

    # 3: latency p50/p99
    lat = [c for c in res["cells"] if c["id"] == "lat"]
    if lat:
        c = lat[0]
        fig, ax = plt.subplots(figsize=(4, 3.2))
        for j, m in enumerate(("p50_us", "p99_us")):
            for i, st in enumerate(("ours", "linux")):
                s = stat(c, st, m)
                if s:
                    ax.bar(j * 3 + i, s["median"], color=C[st], label=st if j == 0 else None,
                           yerr=[[s["median"] - s["min"]], [s["max"] - s["median"]]], capsize=3)
        ax.set_xticks([0.5, 3.5])
        ax.set_xticklabels(["p50", "p99"])
        ax.set_ylabel("µs")
        ax.set_title(c["title"], fontsize=8)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, "latency.png"), dpi=90)
        plt.close(fig)
        made.append("latency.png")

    # 4: scaling
    sc = [c for c in res["cells"] if c["id"].startswith("scale")]
    if sc:
        fig, ax = plt.subplots(figsize=(4.5, 3.2))
        for st in ("ours", "linux"):
            pts = [(int(c["id"][5:-1]) * 1000, stat(c, st, "trans_per_s")) for c in sc]
            pts = [(n, s["median"]) for n, s in pts if s]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color=C[st], label=st)
        ax.set_xscale("log")
        ax.set_xlabel("concurrent connections")
        ax.set_ylabel("trans/s")
        ax.set_title("rr 64 B throughput vs connections", fontsize=8)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, "scaling.png"), dpi=90)
        plt.close(fig)
        made.append("scaling.png")
    return made


def write(outdir, res):
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    write_csv(os.path.join(outdir, "results.csv"), res)
    pngs = plots(outdir, res)
    write_md(os.path.join(outdir, "results.md"), res, pngs)
