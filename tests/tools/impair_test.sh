#!/usr/bin/env bash
# End-to-end test of mvnf-impair between two shm links, with mvnf-pktgen on
# both sides: every frame is accounted for exactly (received = lost +
# forwarded - duplicated), the rates are near the configured ones, the delay
# shows in ping round trips, FIFO order holds without jitter or reordering,
# reordering shows when asked for, and bad options fail with a message.
# Bounded: every process has a duration limit; ctest adds a timeout.
set -euo pipefail
impair=$1
pktgen=$2
name="imptest$$"
tmp=$(mktemp -d)
cleanup() { pkill -P $$ 2>/dev/null || true; rm -rf "$tmp"; rm -f /dev/shm/*"$name"* 2>/dev/null || true; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
field() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval('d'+sys.argv[2]))" "$1" "$2"; }
last_json() { grep '^{' "$1" | tail -1; }

# run_pair TAG "IMPAIR ARGS" "RX MODE ARGS" "TX MODE ARGS": bridge shm:TAGa <->
# shm:TAGb; the receiver sits on b, the sender on a.
run_pair() {
  local tag=$1
  # shellcheck disable=SC2086
  "$impair" -a "shm:${name}${tag}a" -b "shm:${name}${tag}b" $2 -d 20 --json --quiet >"$tmp/$tag.imp" 2>&1 &
  local ip=$!
  sleep 0.3
  # shellcheck disable=SC2086
  "$pktgen" -i "shm:${name}${tag}b" $3 --json >"$tmp/$tag.rx" 2>&1 &
  local rp=$!
  sleep 0.3
  # shellcheck disable=SC2086
  "$pktgen" -i "shm:${name}${tag}a" $4 --json >"$tmp/$tag.tx" 2>&1 || fail "$tag: sender failed: $(cat "$tmp/$tag.tx")"
  wait $rp || true
  wait $ip || fail "$tag: mvnf-impair exited non-zero: $(cat "$tmp/$tag.imp")"
}

# 1. Loss, duplication and corruption: exact accounting and plausible rates.
n=100000
run_pair acc "--loss 10% --dup 5 --corrupt 2 --seed 9" "-f rx -d 8" "-f tx -n $n"
ij=$(last_json "$tmp/acc.imp"); rj=$(last_json "$tmp/acc.rx")
{ [ -n "$ij" ] && [ -n "$rj" ]; } || fail "acc: missing JSON: $(cat "$tmp/acc.imp" "$tmp/acc.rx")"
rx=$(field "$ij" "['a2b']['rx']"); lost=$(field "$ij" "['a2b']['lost']")
dup=$(field "$ij" "['a2b']['duplicated']"); fwd=$(field "$ij" "['a2b']['forwarded']")
cor=$(field "$ij" "['a2b']['corrupted']"); got=$(field "$rj" "['packets']")
[ "$rx" = $n ] || fail "acc: bridge received $rx of $n"
ovf=$(field "$ij" "['a2b']['overflow']")
[ "$ovf" = 0 ] || fail "acc: $ovf frames overflowed the delay line (back-pressure should hold them)"
[ "$fwd" = $((rx - lost + dup)) ] || fail "acc: forwarded $fwd != rx $rx - lost $lost + dup $dup"
[ "$got" = "$fwd" ] || fail "acc: receiver got $got, bridge forwarded $fwd"
python3 - "$lost" "$dup" "$cor" "$n" <<'PY' || fail "acc: rates off: lost $lost dup $dup corrupted $cor of $n"
import sys
lost, dup, cor, n = map(int, sys.argv[1:])
kept = n - lost
assert abs(lost - 0.10 * n) < 5 * (n * 0.1 * 0.9) ** 0.5
assert abs(dup - 0.05 * kept) < 5 * (kept * 0.05 * 0.95) ** 0.5
assert abs(cor - 0.02 * kept) < 5 * (kept * 0.02 * 0.98) ** 0.5
PY
bad=$(field "$rj" "['bad']")
{ [ "$bad" -gt 0 ] && [ "$bad" -le "$cor" ]; } || fail "acc: receiver flagged $bad bad frames, bridge corrupted $cor"
echo "ok: $n frames: lost $lost, duplicated $dup, corrupted $cor; all accounted for"

# 2. Delay shows in the round trip (5 ms each way); nothing lost.
run_pair dly "--delay 5ms" "-f pong -d 8" "-f ping -n 100"
pj=$(last_json "$tmp/dly.tx")
python3 - "$pj" <<'PY' || fail "dly: round trips do not show the delay: $pj"
import json, sys
r = json.loads(sys.argv[1])["rtt_us"]
assert r["samples"] == 100 and r["lost"] == 0, r
assert r["min"] >= 10000, r
PY
echo "ok: 5 ms each way: ping min RTT $(field "$pj" "['rtt_us']['min']") us"

# 3. Order: kept with a plain delay, broken on request.
run_pair ord "--delay 2ms" "-f rx -d 6" "-f tx -n 20000"
[ "$(field "$(last_json "$tmp/ord.rx")" "['out_of_order']")" = 0 ] || fail "ord: a plain delay reordered frames"
run_pair reo "--delay 2ms --reorder 30" "-f rx -d 6" "-f tx -n 20000"
ij=$(last_json "$tmp/reo.imp")
[ "$(field "$ij" "['a2b']['reordered']")" -gt 0 ] || fail "reo: nothing reordered: $ij"
[ "$(field "$(last_json "$tmp/reo.rx")" "['out_of_order']")" -gt 0 ] || fail "reo: receiver saw no reordering"
echo "ok: FIFO with a plain delay; --reorder reorders"

# 4. Bad input: a clear message naming the option, exit 2; a bad port, exit 1.
expect_fail() {  # CODE WORD ARGS...
  local code=$1 word=$2; shift 2
  set +e; "$impair" "$@" >"$tmp/err" 2>&1; local rc=$?; set -e
  [ "$rc" = "$code" ] || fail "'$*' exited $rc, expected $code: $(cat "$tmp/err")"
  grep -q -- "$word" "$tmp/err" || fail "'$*' message does not name '$word': $(cat "$tmp/err")"
}
expect_fail 2 "--loss" -a shm:x -b shm:y --loss 150
expect_fail 2 "--delay" -a shm:x -b shm:y --delay 10parsecs
expect_fail 2 "--reorder" -a shm:x -b shm:y --reorder 5
expect_fail 2 "-b" -a shm:x
expect_fail 2 "--frobnicate" -a shm:x -b shm:y --frobnicate 1
expect_fail 1 "nosuch" -a "afpacket:nosuch$$" -b "shm:${name}z"
echo "ok: bad options rejected"
echo "all mvnf-impair checks passed"
