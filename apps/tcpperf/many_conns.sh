#!/usr/bin/env bash
# Holds many TCP connections between two mvnf-tcpperf processes (mTCP build)
# joined by an shm link, and prints both JSON summaries plus a one-line digest:
# the hand run behind docs/apps.md's "100K-250K concurrent connections".
#
#   apps/tcpperf/many_conns.sh [BUILD_DIR]
#
# Knobs (environment): CONNS total connections (100000), CORES per process (2),
# PORTS server ports (CONNS/CORES/30000 + 1, at most 16), DURATION seconds of
# traffic (10), RATE rr transactions/s in total (0: back to back), MSG bytes (64),
# RING ring_size (65536), BUF rcvbuf = sndbuf (1024), MAXCONN handshakes in
# flight per core (256), RX_BATCH rx_batch (64), CPUS taskset list (all), OUT directory for the
# configs and outputs (a temporary one).
set -euo pipefail
build=${1:-build}
bin="$build/apps/tcpperf/mvnf-tcpperf"
[ -x "$bin" ] || { echo "no $bin: build the apps first" >&2; exit 2; }
conns=${CONNS:-100000}
cores=${CORES:-2}
per_core=$(( (conns + cores - 1) / cores ))
ports=${PORTS:-$(( per_core / 30000 + 1 ))}
(( ports <= 16 )) || { echo "PORTS=$ports: the mTCP build listens on at most 16 ports" >&2; exit 2; }
secs=${DURATION:-10}
rate=${RATE:-0}
out=${OUT:-$(mktemp -d /tmp/many_conns.XXXXXX)}
link="mc$$"
# The server's cores get an RSS-hashed share, not an exact one: room for 25% more.
maxc=$(( per_core + per_core / 4 + 64 ))
for role in server client; do
  ip=$([ $role = server ] && echo 1 || echo 2)
  cat >"$out/$role.conf" <<EOF
port = shm:$link
num_cores = $cores
ip_addr = 10.0.0.$ip
max_concurrency = $maxc
max_num_buffers = $maxc
rcvbuf = ${BUF:-1024}
sndbuf = ${BUF:-1024}
ring_size = ${RING:-65536}
rx_batch = ${RX_BATCH:-64}
tcp_timewait = 0
tcp_timeout = -1
EOF
done
pin=()
[ -n "${CPUS:-}" ] && pin=(taskset -c "$CPUS")
srv_pid=
cleanup() {
  [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
  rm -f /dev/shm/*"$link"*
}
trap cleanup EXIT
"${pin[@]}" "$bin" -s -f "$out/server.conf" -N "$cores" --port-count "$ports" \
  --exit-after "$(( per_core * cores ))" -d "$(( secs + 120 ))" --json -q --stack-stats \
  >"$out/server.json" 2>&1 &
srv_pid=$!
for _ in $(seq 100); do grep -q listening "$out/server.json" && break; sleep 0.1; done
grep -q listening "$out/server.json" || { cat "$out/server.json"; exit 1; }
args=(-c 10.0.0.1 -f "$out/client.conf" -N "$cores" -m "$per_core" --port-count "$ports"
      --mode rr -l "${MSG:-64}" -t "$secs" --max-connecting "${MAXCONN:-256}" --json -q --stack-stats)
[ "$rate" != 0 ] && args+=(--rate "$rate")
timeout $(( secs + 120 )) "${pin[@]}" "$bin" "${args[@]}" >"$out/client.json"
# The server stops once every connection closed (--exit-after); FINs lost on
# the way (see docs/apps.md) would keep it waiting: 10 s, then SIGTERM (it
# still prints its summary).
for _ in $(seq 100); do kill -0 "$srv_pid" 2>/dev/null || break; sleep 0.1; done
kill -TERM "$srv_pid" 2>/dev/null || true
wait "$srv_pid" || true
srv_pid=
python3 - "$out" <<'EOF'
import json, sys
d = sys.argv[1]
c = json.load(open(d + "/client.json"))
s = [json.loads(l) for l in open(d + "/server.json") if l.startswith("{")][-1]
def tot(j, f):
    return sum(f(x) for x in j.get("stack_stats", []))
def drops(j):
    return tot(j, lambda x: sum(x["stack"]["drops"].values()))
def rto(j):
    return tot(j, lambda x: x["tcp"]["rto_timeouts"])
# The client's stack counters are taken at the end of -t (traffic phase); the
# server's at its end (teardown included).
print("connections %d established %d held %d (server %d) ports %s | ramp %.2f s | "
      "%.0f trans/s p50 %.0f us p99 %.0f us | client drops %d rto %d, server (with "
      "teardown) drops %d rto %d | RSS peak client %.0f MB (%.0f B/conn) server %.0f MB | "
      "errors %d/%d | server ran %.1f s | outputs in %s" % (
      c["connections"], c["established"], c["peak_open"], s["peak_open"], c["port_connections"],
      c["ramp_seconds"], c["transactions_per_s"], c["latency"]["p50_us"], c["latency"]["p99_us"],
      drops(c), rto(c), drops(s), rto(s), c["memory"]["rss_peak_kb"] / 1024,
      c["memory"]["bytes_per_conn"], s["memory"]["rss_peak_kb"] / 1024, c["errors"]["total"],
      s["errors"]["total"], s["seconds"], d))
EOF
