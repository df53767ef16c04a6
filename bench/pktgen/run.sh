#!/usr/bin/env bash
# shm throughput benchmark (not a test): 64-byte frames from one sender core
# to one receiver core over an shm link, reported in Mpps. Target: >= 20 Mpps.
# The receiver checks headers only (--no-verify): this measures the I/O layer,
# not the payload checksum (docs/tools/pktgen.md).
# Usage: bench/pktgen/run.sh [BUILD_DIR] ; env: SECS (5), TX_CPU (0), RX_CPU (1),
# LEN (64), BURST (32), QUEUES (1).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
pktgen=$build/tools/pktgen/mvnf-pktgen
[ -x "$pktgen" ] || { echo "run.sh: $pktgen not built (bash scripts/build.sh $build)" >&2; exit 1; }
command -v taskset >/dev/null || { echo "run.sh: taskset (util-linux) is needed" >&2; exit 1; }
secs=${SECS:-5} tx_cpu=${TX_CPU:-0} rx_cpu=${RX_CPU:-1} len=${LEN:-64} burst=${BURST:-32} q=${QUEUES:-1}
link="bench$$"
out=$(mktemp)
trap 'rm -f "$out"; kill $rx 2>/dev/null || true' EXIT
taskset -c "$rx_cpu" "$pktgen" -i "shm:$link" -f rx --no-verify -q "$q" -b "$burst" -d $((secs + 3)) --quiet-start --json >"$out" &
rx=$!
sleep 0.3
taskset -c "$tx_cpu" "$pktgen" -i "shm:$link" -f tx -q "$q" -l "$len" -b "$burst" -d "$secs" --json | tail -1
wait $rx
cat "$out" | grep -v '^{' || true
mpps=$(grep '^{' "$out" | sed -E 's/.*"pps":([0-9.]+).*/\1/' | awk '{printf "%.2f", $1/1e6}')
echo "shm rx: $mpps Mpps (${len}-byte frames, burst $burst, $q queue(s), tx cpu $tx_cpu, rx cpu $rx_cpu, ${secs}s)"
