#!/usr/bin/env bash
# End-to-end test of mvnf-pktgen over shm: tx -> rx across two processes must
# deliver every frame exactly once with no corruption, ping/pong must lose
# nothing, and bad arguments must fail with a message. Bounded: each process
# has a duration limit and the whole script a timeout in ctest.
set -euo pipefail
pktgen=$1
name="pgtest$$"
tmp=$(mktemp -d)
cleanup() { pkill -P $$ 2>/dev/null || true; rm -rf "$tmp"; rm -f /dev/shm/*"$name"* 2>/dev/null || true; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
field() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval('d'+sys.argv[2]))" "$1" "$2"; }

# 1. tx -> rx on two queues, 200000 frames of 128 bytes.
"$pktgen" -i "shm:${name}a" -f rx -q 2 -d 10 --json >"$tmp/rx" 2>&1 &
rx=$!
sleep 0.3
"$pktgen" -i "shm:${name}a" -f tx -q 2 -l 128 -n 200000 --json >"$tmp/tx" 2>&1 || fail "tx exited non-zero: $(cat "$tmp/tx")"
wait $rx || fail "rx exited non-zero: $(cat "$tmp/rx")"
txj=$(grep '^{' "$tmp/tx" | tail -1); rxj=$(grep '^{' "$tmp/rx" | tail -1)
[ -n "$rxj" ] || fail "no rx JSON: $(cat "$tmp/rx")"
[ "$(field "$txj" "['packets']")" = 200000 ] || fail "tx sent $(field "$txj" "['packets']")"
[ "$(field "$rxj" "['packets']")" = 200000 ] || fail "rx got $(field "$rxj" "['packets']") of 200000"
[ "$(field "$rxj" "['bad']")" = 0 ] || fail "rx saw bad frames"
[ "$(field "$rxj" "['bytes']")" = $((200000 * 128)) ] || fail "rx byte count wrong"
[ "$(field "$rxj" "['unique']")" = 200000 ] || fail "rx unique $(field "$rxj" "['unique']") of 200000"
[ "$(field "$rxj" "['duplicate']") $(field "$rxj" "['stray']")" = "0 0" ] || fail "rx saw duplicates or strays: $rxj"
echo "ok: tx->rx 200000 frames over 2 queues, all intact"

# 1b. The same with headers-only checking (--no-verify), one queue: no losses.
"$pktgen" -i "shm:${name}v" -f rx -d 10 --no-verify --json >"$tmp/rxv" 2>&1 &
rx=$!
sleep 0.3
"$pktgen" -i "shm:${name}v" -f tx -l 200 -n 50000 >"$tmp/txv" 2>&1 || fail "tx exited non-zero: $(cat "$tmp/txv")"
wait $rx || fail "rx --no-verify exited non-zero: $(cat "$tmp/rxv")"
rxj=$(grep '^{' "$tmp/rxv" | tail -1)
[ "$(field "$rxj" "['unique']") $(field "$rxj" "['lost']") $(field "$rxj" "['bad']")" = "50000 0 0" ] || fail "rx --no-verify: $rxj"
echo "ok: tx->rx 50000 frames, headers-only check, none lost"

# 2. ping/pong: 2000 round trips, none lost, RTTs recorded.
"$pktgen" -i "shm:${name}b" -f pong -d 10 --json >"$tmp/pong" 2>&1 &
pong=$!
sleep 0.3
"$pktgen" -i "shm:${name}b" -f ping -n 2000 --json >"$tmp/ping" 2>&1 || fail "ping failed: $(cat "$tmp/ping")"
pj=$(grep '^{' "$tmp/ping" | tail -1)
[ "$(field "$pj" "['rtt_us']['samples']")" = 2000 ] || fail "ping samples wrong: $pj"
[ "$(field "$pj" "['rtt_us']['lost']")" = 0 ] || fail "ping lost packets: $pj"
wait $pong || true
echo "ok: ping/pong 2000 round trips, none lost"

# 3. Bad input: clear errors, non-zero exit, no crash.
out=$("$pktgen" -i bogus:x -f rx 2>&1) && fail "bad spec accepted"
grep -q "unknown backend prefix" <<<"$out" || fail "bad spec message unclear: $out"
out=$("$pktgen" -i "shm:${name}c" -f nonsense 2>&1) && fail "bad mode accepted"
[ -n "$out" ] || fail "bad mode gave no message"
out=$("$pktgen" -i "shm:${name}c" -f tx -l 10 2>&1) && fail "tiny frame accepted"
[ -n "$out" ] || fail "tiny frame gave no message"
echo "ok: bad arguments rejected with messages"
