#!/usr/bin/env python3
"""Runs packetdrill scripts against libmvnf-packetdrill.so or the kernel.

Runs google's TCP suite (the copy scripts/packetdrill-build.sh makes in the
build dir) and any further scripts or folders given, with google's IPv4 flags
(gtests/net/packetdrill/run_all.py), each in a network namespace of its own
(unshare -n: the scripts' sysctls and tc calls touch only that namespace,
which goes when the run ends), with a per-script timeout. Prints a table
(pass / fail with the first error line) and `N passed, M failed`, for all
scripts and for the in-scope subset (see OUT_OF_SCOPE).

  packetdrill-run.py [--target so|kernel] [--build DIR] [-j N] [--timeout S]
                     [--pass-list FILE] [--require-pass PATH...]
                     [--write-pass-list FILE] [--no-suite] [PATH...]

Exit status: 1 if a script on --pass-list, or any script under a
--require-pass path, fails; 77 when not root (namespaces and, for the
kernel, tun devices need it) or packetdrill is missing; 0 otherwise.
"""

import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# google's IPv4 variant (run_all.py CmdTestIPv4).
GOOGLE_FLAGS = [
    "--ip_version=ipv4", "--local_ip=192.168.0.1", "--gateway_ip=192.168.0.1",
    "--netmask_ip=255.255.0.0", "--remote_ip=192.0.2.1",
    "-D", "TFO_COOKIE=3021b9d889017eeb", "-D", "CODE=host_unreachable",
    "-D", "CMSG_LEVEL_IP=SOL_IP", "-D", "CMSG_TYPE_RECVERR=IP_RECVERR",
]

# The library's flags that reproduce what defaults.sh gives Linux: tcp_rmem's
# 15 MiB maximum makes Linux offer window scale 8, which a receive ring of
# 8388608 bytes gives (8388480 would give 7); the send ring is tcp_wmem's
# maximum. --max_sockets bounds the memory packetdrill's mlockall pins.
SO_FLAGS = "--local_ip=192.168.0.1 --rcvbuf=8388608 --sndbuf=4194304 --max_sockets=16"

# Out of scope of the conformance target (issue 20): features the stack does
# not offer by design or that have their own issue. By path, then by content.
OUT_OF_SCOPE_PATH = {
    "fastopen": "TCP Fast Open", "zerocopy": "SO_ZEROCOPY",
    "timestamping": "SO_TIMESTAMPING", "md5": "TCP-MD5", "sendfile": "sendfile",
    "splice": "splice",
}
OUT_OF_SCOPE_CONTENT = [
    (re.compile(r"TCP_FASTOPEN|MSG_FASTOPEN|\bFO\b"), "TCP Fast Open"),
    (re.compile(r"SO_ZEROCOPY|MSG_ZEROCOPY"), "SO_ZEROCOPY"),
    (re.compile(r"SO_TIMESTAMPING|SCM_TIMESTAMPING"), "SO_TIMESTAMPING"),
    (re.compile(r"TCP_MD5SIG"), "TCP-MD5"),
    (re.compile(r"qdisc\s+\S+\s+\S+\s+\S+\s+root\s+fq\b|\bfq\b.*quantum|SO_MAX_PACING_RATE"),
     "fq qdisc / pacing"),
    (re.compile(r"\bsendfile\(|\bsplice\("), "sendfile/splice"),
]


def out_of_scope(path, text):
    for part in path.split(os.sep):
        if part in OUT_OF_SCOPE_PATH:
            return OUT_OF_SCOPE_PATH[part]
    # Comments may name a feature a script does not use.
    code = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("//"))
    for rx, why in OUT_OF_SCOPE_CONTENT:
        if rx.search(code):
            return why
    return None


def find_scripts(path):
    if os.path.isfile(path):
        return [path]
    found = []
    for d, _, files in os.walk(path):
        found += [os.path.join(d, f) for f in files if f.endswith(".pkt")]
    return sorted(found)


def first_error(out):
    lines = [l for l in out.splitlines() if l.strip()]
    for l in lines:
        if "error" in l.lower() or "assertion" in l.lower() or "fatal" in l.lower():
            if "error in Python code" in l:  # add what the code asserted
                why = [x for x in lines if x.startswith(("AssertionError", "NameError"))]
                if why:
                    return l.strip() + ": " + why[0].strip()
            return l.strip()
    for l in lines:
        if not l.startswith("sysctl:") and "mvnf-packetdrill: ignoring" not in l:
            return l.strip()
    return "(no output)"


def run_one(cmd, cwd, timeout, so):
    """Runs one script in a fresh network namespace; (ok, first error, secs)."""
    # defaults.sh ends with `tc qdisc add dev tun0 ...`, the device packetdrill
    # makes for the kernel; against the library there is none, so give the
    # namespace an idle one of that name (else every script's init fails).
    setup = "ip link set lo up"
    if so:
        setup += " && ip tuntap add dev tun0 mode tun && ip link set tun0 up"
    wrapped = ["unshare", "-n", "sh", "-c", setup + ' && exec "$@"', "sh"] + cmd
    t0 = time.monotonic()
    try:
        p = subprocess.run(wrapped, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, text=True, errors="replace")
    except subprocess.TimeoutExpired:
        return False, f"timed out after {timeout} s", time.monotonic() - t0
    dt = time.monotonic() - t0
    if p.returncode == 0:
        return True, "", dt
    if p.returncode < 0:
        return False, f"killed by signal {-p.returncode}: " + first_error(p.stdout), dt
    return False, first_error(p.stdout), dt


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", help="further scripts or folders (the project's own)")
    ap.add_argument("--target", choices=["so", "kernel"], default="so")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="build dir")
    ap.add_argument("--packetdrill", help="packetdrill binary (default: from --build)")
    ap.add_argument("--so", help="the library (default: from --build)")
    ap.add_argument("--so-flags", default=SO_FLAGS)
    ap.add_argument("--no-suite", action="store_true", help="skip google's suite")
    ap.add_argument("--in-scope-only", action="store_true")
    ap.add_argument("--filter", help="regex on the script's path")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per script (default: 30 for so, 60 for kernel)")
    ap.add_argument("--pass-list", help="fail if any script listed here fails")
    ap.add_argument("--require-pass", action="append", default=[],
                    help="fail if any script under this path fails")
    ap.add_argument("--write-pass-list", help="write the scripts that passed (suite-relative)")
    ap.add_argument("-q", "--quiet", action="store_true", help="print only failures")
    a = ap.parse_args()

    upstream = os.path.join(os.path.abspath(a.build), "packetdrill-upstream")
    pd = a.packetdrill or os.path.join(upstream, "gtests/net/packetdrill/packetdrill")
    suite = os.path.join(upstream, "gtests/net/tcp")
    so = a.so or os.path.join(os.path.abspath(a.build), "src/packetdrill/libmvnf-packetdrill.so")
    timeout = a.timeout or (30 if a.target == "so" else 60)
    if os.geteuid() != 0:
        print("SKIP: packetdrill needs root (network namespaces, mlockall, tun)")
        return 77
    if not os.access(pd, os.X_OK):
        print(f"SKIP: no packetdrill at {pd} (run scripts/packetdrill-build.sh)")
        return 77
    if a.target == "so" and not os.path.isfile(so):
        print(f"error: no library at {so}", file=sys.stderr)
        return 2

    # (name, path, scope reason); names are suite-relative for google's
    # scripts ("close/close-on-syn-sent.pkt"), else relative to the project.
    jobs = []
    if not a.no_suite:
        for p in find_scripts(suite):
            if p.endswith("v6.pkt"):  # the IPv6-only variants
                continue
            jobs.append((os.path.relpath(p, suite), p))
    extra = []
    for path in a.paths + a.require_pass:
        for p in find_scripts(os.path.abspath(path)):
            if p not in extra:
                extra.append(p)
    jobs += [(os.path.relpath(p, ROOT), p) for p in extra]
    if a.filter:
        jobs = [j for j in jobs if re.search(a.filter, j[0])]

    rows = []
    for name, p in jobs:
        with open(p, errors="replace") as f:
            why = out_of_scope(name, f.read()) if p.startswith(suite) else None
        if a.in_scope_only and why:
            continue
        rows.append([name, p, why, None, "", 0.0])

    def command(p):
        cmd = [pd] + GOOGLE_FLAGS
        if a.target == "so":
            # Preloaded too: code events (%{ tcpi_... }%) call the kernel's
            # getsockopt on our descriptors, which the library then answers
            # (src/packetdrill/code_events.cpp).
            cmd = ["env", f"LD_PRELOAD={so}"] + cmd
            cmd += [f"--so_filename={so}", f"--so_flags={a.so_flags}"]
        return cmd + [os.path.basename(p)], os.path.dirname(p)

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        futs = {ex.submit(run_one, *command(r[1]), timeout, a.target == "so"): r for r in rows}
        for fut in concurrent.futures.as_completed(futs):
            r = futs[fut]
            r[3], r[4], r[5] = fut.result()

    rows.sort(key=lambda r: r[0])
    w = max([len(r[0]) for r in rows] + [10])
    for name, _, why, ok, err, dt in rows:
        if a.quiet and ok:
            continue
        scope = f"[out: {why}] " if why else ""
        print(f"{name:<{w}}  {'pass' if ok else 'FAIL'}  {dt:5.1f}s  {scope}{err}")

    def summary(sel, label):
        n_ok = sum(1 for r in sel if r[3])
        print(f"{label}: {n_ok} passed, {len(sel) - n_ok} failed")

    print(f"target: {a.target}" + (f" ({a.so_flags})" if a.target == "so" else ""))
    summary(rows, "all")
    summary([r for r in rows if not r[2]], "in scope")

    if a.write_pass_list:
        with open(a.write_pass_list, "w") as f:
            f.write("# Scripts of google's gtests/net/tcp that pass against libmvnf-packetdrill.so\n"
                    "# (scripts/packetdrill-run.py, its default flags). The packetdrill_suite ctest\n"
                    "# fails if one stops passing: the list only grows. Add a script once it passes\n"
                    "# (docs/packetdrill.md).\n")
            for r in rows:
                if r[3] and r[1].startswith(suite):
                    f.write(r[0] + "\n")

    failed = []
    by_name = {r[0]: r for r in rows}
    if a.pass_list:
        with open(a.pass_list) as f:
            for line in f:
                name = line.split("#")[0].strip()
                if not name:
                    continue
                r = by_name.get(name)
                if r is None:
                    failed.append(f"{name}: on the pass-list but not run (missing?)")
                elif not r[3]:
                    failed.append(f"{name}: on the pass-list: {r[4]}")
    for req in a.require_pass:
        for p in find_scripts(os.path.abspath(req)):
            r = by_name.get(os.path.relpath(p, ROOT))
            if r and not r[3]:
                failed.append(f"{r[0]}: the project's own script: {r[4]}")
    for f_ in failed:
        print("REGRESSION " + f_)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
