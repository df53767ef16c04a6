#!/usr/bin/env bash
# mvnf-pktgen's rx counters against a link that loses, duplicates and
# corrupts frames (mvnf-impair between two shm links): every frame is in
# exactly one class (received = bad + stray + duplicate + unique), every
# corrupted frame is caught as bad, duplicates and unique numbers match what
# the link did, and lost stays within what was sent (a corrupted sequence
# number once turned it into ~2^63). Bounded: each process has a duration
# limit; ctest adds a timeout.
set -euo pipefail
impair=$1
pktgen=$2
name="pgacc$$"
tmp=$(mktemp -d)
cleanup() { pkill -P $$ 2>/dev/null || true; rm -rf "$tmp"; rm -f /dev/shm/*"$name"* 2>/dev/null || true; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
last_json() { grep '^{' "$1" | tail -1; }

# run TAG QUEUES FRAME_LEN: n frames through --loss 3 --dup 5 --corrupt 5.
n=100000
run() {
  local tag=$1 q=$2 len=$3
  "$impair" -a "shm:${name}${tag}a" -b "shm:${name}${tag}b" -q "$q" --loss 3 --dup 5 --corrupt 5 \
    --seed 3 -d 20 --json --quiet >"$tmp/$tag.imp" 2>&1 &
  local ip=$!
  sleep 0.3
  "$pktgen" -i "shm:${name}${tag}b" -f rx -q "$q" -d 10 --json >"$tmp/$tag.rx" 2>&1 &
  local rp=$!
  sleep 0.3
  "$pktgen" -i "shm:${name}${tag}a" -f tx -q "$q" -l "$len" -n $n --json >"$tmp/$tag.tx" 2>&1 ||
    fail "$tag: sender failed: $(cat "$tmp/$tag.tx")"
  local rc=0
  wait $rp || rc=$?
  [ "$rc" = 1 ] || fail "$tag: rx saw bad frames and should exit 1, exited $rc: $(cat "$tmp/$tag.rx")"
  wait $ip || fail "$tag: mvnf-impair exited non-zero: $(cat "$tmp/$tag.imp")"
  python3 - "$(last_json "$tmp/$tag.imp")" "$(last_json "$tmp/$tag.rx")" "$n" "$q" <<'PY' ||
import json, sys
imp, rx = json.loads(sys.argv[1])["a2b"], json.loads(sys.argv[2])
n, q = int(sys.argv[3]), int(sys.argv[4])
if q == 1:
    assert 0 <= rx["lost"] <= n, "lost %d of %d sent" % (rx["lost"], n)
assert rx["packets"] == imp["forwarded"], (rx["packets"], imp["forwarded"])
parts = rx["bad"] + rx["duplicate"] + rx["unique"]  # bad includes stray
assert rx["packets"] == parts, "received %d != bad + duplicate + unique %d" % (rx["packets"], parts)
assert rx["stray"] == 0, "stray %d" % rx["stray"]
# The UDP checksum catches every corrupted frame.
assert rx["bad"] == imp["corrupted"], "bad %d, corrupted %d" % (rx["bad"], imp["corrupted"])
# A duplicated frame whose first copy was corrupted arrives intact once.
both = imp["duplicated"] - rx["duplicate"]
assert 0 <= both <= imp["corrupted"], "duplicate %d of %d duplicated" % (rx["duplicate"], imp["duplicated"])
# Unique: every number with one intact copy.
assert rx["unique"] == n - imp["lost"] - (imp["corrupted"] - both), (rx, imp)
if q == 1:
    # Numbers never seen intact, less those beyond the first and last seen.
    missing = n - rx["unique"]
    assert missing - 20 <= rx["lost"] <= missing, "lost %d, missing %d" % (rx["lost"], missing)
    assert rx["out_of_order"] == 0, "a FIFO link reordered: %d" % rx["out_of_order"]
PY
    fail "$tag: counts do not add up: $(last_json "$tmp/$tag.imp") $(last_json "$tmp/$tag.rx")"
  echo "ok: $tag: $(last_json "$tmp/$tag.rx")"
}

run one 1 60
run big 1 700
run two 2 128
echo "all mvnf-pktgen accounting checks passed"
