#!/usr/bin/env bash
# bench_smoke: bench/run end to end on a few short cells, checked through its
# output (results.json) and its side effects: both stacks produce numbers, the
# veth/AF_XDP cell runs as root (and says why not otherwise), and the
# namespaces it creates are gone afterwards, also when it is stopped with
# SIGTERM in the middle of a veth cell. Usage: smoke_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: smoke_test.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/mvnf_bench_smoke.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  # whatever a killed run left (its next run would sweep them too)
  if [ -n "$pid" ]; then
    for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^mvbench${pid}" || true); do ip netns del "$n"; done
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
for t in apps/tcpperf/mvnf-tcpperf apps/tcpperf/mvnf-tcpperf-kernel apps/udpperf/mvnf-udpperf \
         apps/udpperf/mvnf-udpperf-kernel tools/pktgen/mvnf-pktgen; do
  [ -x "$build/$t" ] || { echo "SKIP: $build/$t not built"; exit 77; }
done
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
root=0; [ "$(id -u)" = 0 ] && root=1
fail() { echo "FAIL: $*"; exit 1; }
leftover() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^mvbench$1" || true; }
# our apps' command lines carry their per-run files, named mvb<pid>_<n>
apps_of() { pgrep -f "mvb$1_" || true; }
# waits (bounded) for a background pid; its exit status, 124 after 120 s
wait_bounded() {
  for _ in $(seq 1200); do kill -0 "$1" 2>/dev/null || { wait "$1"; return $?; }; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null; return 124
}

# 1. a normal run
"$here/run" --build "$build" --only crr,veth_rr,cpu --reps 1 --dur 0.3 --out "$tmp/out" >"$tmp/log" 2>&1 &
pid=$!
wait_bounded "$pid" || { cat "$tmp/log"; fail "bench/run exited non-zero"; }
[ -z "$(leftover "$pid")" ] || fail "namespaces left after a normal run: $(leftover "$pid")"
python3 - "$tmp/out/results.json" "$root" <<'PY' || { cat "$tmp/log"; exit 1; }
import json, sys
res, root = json.load(open(sys.argv[1])), sys.argv[2] == "1"
cells = {c["id"]: c for c in res["cells"]}
def val(cid, stack, m):
    runs = cells[cid]["runs"][stack]
    assert runs, "%s %s: no run (%s)" % (cid, stack, cells[cid]["na"].get(stack))
    v = runs[0].get(m)
    assert isinstance(v, (int, float)) and v > 0, "%s %s %s = %r" % (cid, stack, m, v)
    return v
for st in ("ours", "linux"):
    val("crr", st, "conn_per_s"); val("crr", st, "cpu_us_per_conn")
    val("cpu", st, "cpu_us_per_conn"); val("cpu", st, "cpu_us_per_req")
if root:
    val("veth_rr", "linux", "trans_per_s")
    why = cells["veth_rr"]["na"].get("ours", "")
    if "afxdp" in why.lower() and not cells["veth_rr"]["runs"]["ours"]:
        print("note: no AF_XDP on this kernel/build, ours on veth not checked:", why)
    else:
        val("veth_rr", "ours", "trans_per_s")
        r = cells["veth_rr"]["runs"]["ours"][0]
        # the AF_XDP probe read the server's socket mode while it ran
        assert r.get("xsk_zero_copy") in (0, 1, 0.0, 1.0), "AF_XDP mode not probed: %r" % r
else:
    for st in ("ours", "linux"):
        assert "needs root" in cells["veth_rr"]["na"].get(st, ""), cells["veth_rr"]["na"]
assert res["meta"]["elapsed_s"] > 0
print("results.json: ok")
PY
grep -q '| veth: persistent' "$tmp/out/results.md" || fail "results.md lacks the veth row"

# 2. SIGTERM in the middle of a veth cell: namespaces and processes go away
if [ "$root" = 1 ]; then
  "$here/run" --build "$build" --only veth_rr --reps 3 --dur 5 --out "$tmp/out2" >"$tmp/log2" 2>&1 &
  pid=$!
  for _ in $(seq 150); do
    [ -n "$(leftover "$pid")" ] && [ -n "$(apps_of "$pid")" ] && break
    sleep 0.1
  done
  if [ -z "$(leftover "$pid")" ] || [ -z "$(apps_of "$pid")" ]; then
    cat "$tmp/log2"
    fail "the veth cell never ran"
  fi
  sleep 1   # inside a measured run
  kill -TERM "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "bench/run still running 10 s after SIGTERM"
  [ -z "$(leftover "$pid")" ] || fail "namespaces left after SIGTERM: $(leftover "$pid")"
  [ -z "$(apps_of "$pid")" ] || fail "processes left after SIGTERM: $(apps_of "$pid")"
  echo "SIGTERM cleanup: ok"
fi
echo "bench_smoke: ok"
