#!/usr/bin/env bash
# The packet-I/O demo: installs what is needed, builds, and runs the
# I/O layer alone. No root and no kernel module are needed.
#
# A packet generator sends 64-byte frames over an `shm` link to a receiver
# in another process and both print what they saw.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
pktgen=build/tools/pktgen/mvnf-pktgen
link="demo$$"
secs=${DEMO_SECONDS:-3}
echo "== mtcp-vnf demo: pktgen over shm:$link (64-byte frames, ${secs}s) =="
"$pktgen" -i "shm:$link" -f rx -d $((secs + 2)) --quiet-start &
rx=$!
trap 'kill $rx 2>/dev/null || true' EXIT
sleep 0.3
"$pktgen" -i "shm:$link" -f tx -l 64 -d "$secs"
wait $rx
