#!/usr/bin/env bash
# Where our stack's time goes with many connections: a server and a client
# (mTCP build, shm link, the bench's scaling config) hold CONNS connections
# doing rr 64 B; once all are open, `perf record -e cpu-clock` (a timer, so it
# works without hardware counters) samples both processes for SECS seconds.
# Prints the hottest symbols, kernel included.
#
#   bench/profile_scale.sh [BUILD_DIR]      (default build-bench)
#   knobs: CONNS (250000), SECS (2), TOP (25)
set -euo pipefail
build=${1:-build-bench}
bin="$build/apps/tcpperf/mvnf-tcpperf"
[ -x "$bin" ] || { echo "no $bin: build the apps first (bench/README.md)" >&2; exit 2; }
command -v perf >/dev/null || { echo "perf not installed (Debian: linux-perf)" >&2; exit 2; }
conns=${CONNS:-250000}
secs=${SECS:-2}
ports=$(( (conns + 24999) / 25000 ))
tmp=$(mktemp -d /tmp/mvnf_prof.XXXXXX)
link="mvbp$$"
sp="" cp=""
cleanup() {
  for p in $cp $sp; do kill -KILL "$p" 2>/dev/null || true; done
  rm -f /dev/shm/*"$link"*
  rm -rf "$tmp"
}
trap cleanup EXIT
for role in server client; do
  cpu=$([ $role = server ] && echo 0 || echo 1)
  cat >"$tmp/$role.conf" <<CONF
port = shm:$link
num_cores = 1
core_mask = $(( 1 << cpu ))
ip_addr = 10.0.0.$(( cpu + 1 ))
tcp_timewait = 0
max_concurrency = $(( conns + 1024 ))
max_num_buffers = $(( conns + 1024 ))
rcvbuf = 2048
sndbuf = 2048
ring_size = 65536
syn_backlog = $conns
tcp_timeout = -1
CONF
done
taskset -c 0 "$bin" -s -f "$tmp/server.conf" --port-count "$ports" -q >"$tmp/server.out" 2>&1 &
sp=$!
for _ in $(seq 150); do grep -qs listening "$tmp/server.out" && break; sleep 0.1; done
grep -q listening "$tmp/server.out" || { cat "$tmp/server.out"; exit 1; }
taskset -c 1 "$bin" -c 10.0.0.1 -f "$tmp/client.conf" --mode rr -m "$conns" --port-count "$ports" \
  -t $(( secs + 4 )) >"$tmp/client.out" 2>&1 &
cp=$!
# wait for every connection to be open (the ramp), then one more second
for _ in $(seq 1200); do grep -qs "trans/s.*open $conns\$" "$tmp/client.out" && break; sleep 0.1; done
grep -q "open $conns\$" "$tmp/client.out" || { tail -3 "$tmp/client.out"; echo "never $conns open" >&2; exit 1; }
sleep 1
perf record -q -e cpu-clock -F 1999 -p "$sp,$cp" -o "$tmp/perf.data" -- sleep "$secs"
wait "$cp" || true
echo "rr 64 B, $conns connections, server+client, perf cpu-clock ${secs} s after the ramp; client's last lines:"
grep "open $conns\$" "$tmp/client.out" | tail -3
perf report -i "$tmp/perf.data" --stdio --sort comm,dso,sym 2>/dev/null | grep -v '^#' | grep -v '^$' | head -"${TOP:-25}"
