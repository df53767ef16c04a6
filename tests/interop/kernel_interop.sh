#!/usr/bin/env bash
# Interop with the Linux kernel over veth, through a link emulator:
#
#   ns A: our stack (10.77.0.2, afpacket:va)  ── veth ──  ns M: mvnf-impair
#   ns M: afpacket:ma <-> afpacket:mb         ── veth ──  ns B: kernel (10.77.0.1, vb)
#
# Checks, with SHA-256 of every body: the kernel's curl fetches a file from
# our mvnf-httpd; our mvnf-wget fetches a file from the kernel's
# python3 http.server; curl (404, keep-alive) and wrk against our server;
# mvnf-wget with 300 requests against the kernel; UDP echo both ways (small datagrams and ones that
# need IPv4 fragmentation); ping gets replies. Each round runs on a clean
# link, then with 1% loss + 10 ms delay + 5% reordering, then with 2%
# duplication + 1% corruption, then with ECN agreed both ways and 2% of
# ECN-capable packets marked CE (impairments in both directions, by
# mvnf-impair: this kernel may lack sch_netem, and a user-space bridge does
# the same job on any kernel).
#
# Usage: kernel_interop.sh BUILD_DIR   (root; exits 77 = skipped without it)
# INTEROP_MB sets the TCP file size (default 100), INTEROP_LOSSY_MB the size
# for the lossy round (default: INTEROP_MB), INTEROP_KERNEL_CC the kernel's
# congestion control on this link (default: the system's). Everything it creates is
# removed on exit, even on failure. Every wait is bounded.
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
size_mb=${INTEROP_MB:-100}
lossy_mb=${INTEROP_LOSSY_MB:-$size_mb}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces, AF_PACKET)"; exit 77; }
for c in curl python3 ethtool; do
  command -v $c >/dev/null || { echo "SKIP: needs $c"; exit 77; }
done
ip netns add "probe$$" 2>/dev/null || { echo "SKIP: cannot create network namespaces here"; exit 77; }
ip netns del "probe$$"
httpd=$build/apps/httpd/mvnf-httpd
wget=$build/apps/wget/mvnf-wget
impair=$build/tools/impair/mvnf-impair
udp_echo=$build/tests/interop/udp_echo
for b in "$httpd" "$wget" "$impair" "$udp_echo"; do [ -x "$b" ] || { echo "FAIL: $b not built"; exit 1; }; done

tag=$$
na="mvia$tag"; nm="mvim$tag"; nb="mvib$tag"
va="via$tag"; ma="mia$tag"; mb="mib$tag"; vb="vib$tag"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  # Anything still running inside the namespaces would keep them, and their
  # interfaces, alive: kill it too.
  for ns in "$na" "$nm" "$nb"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
A() { ip netns exec "$na" "$@"; }
B() { ip netns exec "$nb" "$@"; }
# Background jobs are started with `ip netns exec` itself, never through A/B:
# `A cmd &` would fork a subshell, $! would be that shell, and killing it
# would leave the program running (two stacks on one interface then answer
# the same frames with conflicting RSTs).

ip netns add "$na"; ip netns add "$nm"; ip netns add "$nb"
ip link add "$va" netns "$na" type veth peer name "$ma" netns "$nm"
ip link add "$mb" netns "$nm" type veth peer name "$vb" netns "$nb"
for ns in "$na" "$nm" "$nb"; do
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
done
# Offloads off everywhere: AF_PACKET must see real, checksummed, MTU-sized
# frames (no TSO/GSO super-frames, no partial checksums).
for x in "$na:$va" "$nm:$ma" "$nm:$mb" "$nb:$vb"; do
  ip netns exec "${x%%:*}" ethtool -K "${x#*:}" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
done
# The bridge forwards frames addressed to the far end's MAC: promiscuous.
ip netns exec "$nm" ip link set "$ma" promisc on up
ip netns exec "$nm" ip link set "$mb" promisc on up
A ip link set "$va" up
B ip link set "$vb" up
B ip addr add 10.77.0.1/24 dev "$vb"
# The kernel's congestion control decides its rates under random loss (BBR
# ignores it, CUBIC and Reno back off, as ours do): say which one ran, and
# let INTEROP_KERNEL_CC pick one for the kernel's side of this link.
if [ -n "${INTEROP_KERNEL_CC:-}" ]; then
  B ip route replace 10.77.0.0/24 dev "$vb" congctl "$INTEROP_KERNEL_CC" \
    || fail "INTEROP_KERNEL_CC=$INTEROP_KERNEL_CC: not a congestion control this kernel has"
fi
kcc=${INTEROP_KERNEL_CC:-"$(B sysctl -n net.ipv4.tcp_congestion_control) (default)"}
echo "kernel congestion control: $kcc"

mkfile() { head -c $(($2 * 1024 * 1024)) /dev/urandom >"$1"; }
mkdir -p "$tmp/ours" "$tmp/kern"

cat >"$tmp/ours.conf" <<CONF
port = afpacket:$va
num_cores = 1
ip_addr = 10.77.0.2
netmask = 255.255.255.0
max_concurrency = 64
max_num_buffers = 8192
rcvbuf = 1048576
sndbuf = 1048576
tcp_timewait = 0
CONF

impair_pid=
start_impair() {  # impairment options
  stop_impair
  ip netns exec "$nm" "$impair" -a "afpacket:$ma" -b "afpacket:$mb" "$@" --quiet --json \
    >"$tmp/impair.json" 2>"$tmp/impair.err" &
  impair_pid=$!
  pids+=("$impair_pid")
  sleep 0.3
  kill -0 "$impair_pid" 2>/dev/null || fail "mvnf-impair did not start: $(cat "$tmp/impair.err")"
}
stop_impair() {
  [ -n "$impair_pid" ] || return 0
  kill "$impair_pid" 2>/dev/null || true
  wait "$impair_pid" 2>/dev/null || true
  impair_pid=
  [ -s "$tmp/impair.json" ] && echo "   link: $(cat "$tmp/impair.json")"
  return 0
}

server_pid=
start_server() {
  ip netns exec "$na" "$httpd" -p "$tmp/ours" -f "$tmp/ours.conf" --port 8080 -q -d 900 --json \
    >"$tmp/httpd.log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  for _ in $(seq 1 100); do
    if B bash -c "exec 3<>/dev/tcp/10.77.0.2/8080" 2>/dev/null; then return 0; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$tmp/httpd.log"; fail "our server did not come up on 10.77.0.2:8080"
}
stop_server() { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }

ip netns exec "$nb" python3 -m http.server 8000 --bind 10.77.0.1 --directory "$tmp/kern" \
  >"$tmp/pyhttp.log" 2>&1 &
pids+=($!)

tcp_round() {  # LABEL MB
  local label=$1 mb=$2 t0 t1
  mkfile "$tmp/ours/big.bin" "$mb"; mkfile "$tmp/kern/big.bin" "$mb"
  start_server
  t0=$(date +%s.%N)
  B timeout 600 curl -sS --max-time 590 -o "$tmp/got_ours.bin" http://10.77.0.2:8080/big.bin \
    || { cat "$tmp/httpd.log"; fail "$label: curl from our server failed"; }
  t1=$(date +%s.%N)
  [ "$(sha256sum <"$tmp/got_ours.bin")" = "$(sha256sum <"$tmp/ours/big.bin")" ] \
    || fail "$label: curl got different bytes from our server"
  echo "ok: $label: kernel curl fetched $mb MiB from our server, SHA-256 matches ($(python3 -c "print(f'{$mb/($t1-$t0):.1f}')") MiB/s)"
  stop_server
  rm -f "$tmp/got_ours.bin"
  for _ in $(seq 1 50); do B bash -c "exec 3<>/dev/tcp/10.77.0.1/8000" 2>/dev/null && break; sleep 0.1; done
  t0=$(date +%s.%N)
  A timeout 600 "$wget" http://10.77.0.1:8000/big.bin 1 -f "$tmp/ours.conf" \
    -o "$tmp/got_kern.bin" --timeout 590 -q --json >"$tmp/wget.json" 2>"$tmp/wget.err" \
    || { cat "$tmp/wget.err" "$tmp/wget.json"; fail "$label: our client failed against the kernel server"; }
  t1=$(date +%s.%N)
  [ "$(sha256sum <"$tmp/got_kern.bin")" = "$(sha256sum <"$tmp/kern/big.bin")" ] \
    || fail "$label: our client got different bytes from the kernel server"
  echo "ok: $label: our client fetched $mb MiB from the kernel's http.server, SHA-256 matches ($(python3 -c "print(f'{$mb/($t1-$t0):.1f}')") MiB/s)"
  rm -f "$tmp/got_kern.bin" "$tmp/ours/big.bin" "$tmp/kern/big.bin"
}

udp_round() {  # LABEL
  local label=$1 size
  for size in 64 3000; do
    # Kernel client -> our echo server.
    ip netns exec "$na" "$udp_echo" server "$tmp/ours.conf" 7007 60 >"$tmp/udps.log" 2>&1 &
    local sp=$!
    pids+=("$sp")
    for _ in $(seq 1 50); do grep -q listening "$tmp/udps.log" 2>/dev/null && break; sleep 0.1; done
    B timeout 150 python3 "$here/udp_echo.py" client 10.77.0.2 7007 500 "$size" >"$tmp/udpc.json" \
      || { cat "$tmp/udpc.json" "$tmp/udps.log"; fail "$label: kernel UDP client ($size B) vs our echo"; }
    echo "ok: $label: kernel -> our UDP echo, 500 x $size B all back intact: $(cat "$tmp/udpc.json")"
    kill "$sp" 2>/dev/null || true; wait "$sp" 2>/dev/null || true
    # Our client -> kernel echo server.
    ip netns exec "$nb" python3 "$here/udp_echo.py" server 10.77.0.1 7008 60 >"$tmp/kudps.log" 2>&1 &
    sp=$!
    pids+=("$sp")
    sleep 0.3
    A timeout 150 "$udp_echo" client "$tmp/ours.conf" 10.77.0.1 7008 500 "$size" >"$tmp/udpc.json" 2>&1 \
      || { cat "$tmp/udpc.json"; fail "$label: our UDP client ($size B) vs the kernel's echo"; }
    echo "ok: $label: our UDP client -> kernel echo, 500 x $size B all back intact: $(grep '^{' "$tmp/udpc.json")"
    kill "$sp" 2>/dev/null || true; wait "$sp" 2>/dev/null || true
  done
}

apps_round() {  # curl and wrk against mvnf-httpd; mvnf-wget with many requests against the kernel
  printf '<html><body>hello from mtcp-vnf</body></html>\n' >"$tmp/ours/index.html"
  head -c 20000 /dev/urandom >"$tmp/kern/small.bin"
  start_server
  local code
  code=$(B curl -s -o /dev/null -w '%{http_code}' http://10.77.0.2:8080/nosuch.html)
  [ "$code" = 404 ] || fail "curl: expected 404 for a missing file, got $code"
  # Two requests on one kept-alive connection.
  B curl -sS --max-time 20 http://10.77.0.2:8080/index.html http://10.77.0.2:8080/ >"$tmp/two.html" \
    || fail "curl keep-alive to our server failed"
  [ "$(grep -c 'hello from mtcp-vnf' "$tmp/two.html")" = 2 ] || fail "curl keep-alive: wrong bodies"
  echo "ok: curl: 404 for a missing file; two requests on one kept-alive connection"
  if command -v wrk >/dev/null; then
    B timeout 30 wrk -t1 -c32 -d3s http://10.77.0.2:8080/index.html >"$tmp/wrk.txt" 2>&1 \
      || { cat "$tmp/wrk.txt"; fail "wrk against our server failed"; }
    ! grep -q -e 'Socket errors' -e 'Non-2xx' "$tmp/wrk.txt" || { cat "$tmp/wrk.txt"; fail "wrk saw errors"; }
    local rps
    rps=$(awk '/Requests\/sec/ {print int($2)}' "$tmp/wrk.txt")
    [ "${rps:-0}" -gt 0 ] || { cat "$tmp/wrk.txt"; fail "wrk completed no requests"; }
    echo "ok: wrk, 32 kept-alive connections for 3 s: $rps requests/s, no errors"
  else
    echo "note: wrk not installed; wrk check skipped"
  fi
  stop_server
  A timeout 120 "$wget" http://10.77.0.1:8000/small.bin 300 -c 8 -f "$tmp/ours.conf" --timeout 60 -q --json \
    >"$tmp/wget.json" 2>"$tmp/wget.err" || { cat "$tmp/wget.err" "$tmp/wget.json"; fail "mvnf-wget, 300 requests against the kernel failed"; }
  python3 - "$(grep '^{' "$tmp/wget.json" | tail -1)" <<'PY' || fail "mvnf-wget against the kernel: $(cat "$tmp/wget.json")"
import json, sys
d = json.loads(sys.argv[1])
assert d["completed"] == 300 and d["errors"]["total"] == 0, d
assert d["status"]["2xx"] == 300 and d["body_bytes"] == 300 * 20000, d
PY
  echo "ok: mvnf-wget: 300 requests, 8 at a time, against the kernel's http.server, all 200 with exact bodies"
}

echo "== clean link"
start_impair
start_server
B ping -c 3 -W 2 -i 0.2 10.77.0.2 >"$tmp/ping.log" 2>&1 || { cat "$tmp/ping.log"; fail "ping to our stack got no replies"; }
echo "ok: kernel ping gets replies from our stack"
B ping -c 2 -W 2 -s 3000 10.77.0.2 >"$tmp/ping.log" 2>&1 || { cat "$tmp/ping.log"; fail "fragmented ping got no replies"; }
echo "ok: kernel ping with 3000-byte payload (fragmented) gets replies"
stop_server
tcp_round "clean link" "$size_mb"
apps_round
udp_round "clean link"
stop_impair

echo "== 1% loss, 10 ms delay, 5% reordering (both directions)"
start_impair --loss 1 --delay 10ms --reorder 5 --seed "$tag"
tcp_round "loss+delay+reorder" "$lossy_mb"
udp_round "loss+delay+reorder"
stop_impair

echo "== 2% duplication, 1% corruption, 1 ms delay (both directions)"
start_impair --dup 2 --corrupt 1 --delay 1ms --seed "$tag"
tcp_round "dup+corrupt" "$size_mb"
udp_round "dup+corrupt"
stop_impair

# ECN (RFC 3168): the kernel asks for it (tcp_ecn = 1 in its namespace) and
# so do we; the bridge marks 2% of ECN-capable packets CE instead of
# dropping anything. Marks seen in both directions mean both senders sent
# ECT, so both handshakes agreed (curl's to our server, ours to the kernel);
# the kernel's TCPDeliveredCE counts ACKs of ours that echoed a mark.
echo "== ECN: 2% CE marks, 1 ms delay (both directions), kernel tcp_ecn = 1"
B sysctl -qw net.ipv4.tcp_ecn=1
echo "tcp_ecn = 1" >>"$tmp/ours.conf"
B nstat -n >/dev/null
start_impair --ce 2 --delay 1ms --seed "$tag"
tcp_round "ecn" "$lossy_mb"
stop_impair
python3 - "$tmp/impair.json" <<'PY' || fail "ecn: no CE marks in one direction (ECN not agreed?)"
import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if j["a2b"]["ce_marked"] > 0 and j["b2a"]["ce_marked"] > 0 else 1)
PY
dce=$(B nstat -az TcpExtTCPDeliveredCE | awk '/TCPDeliveredCE/ {print $2}')
[ "${dce:-0}" -gt 0 ] || fail "ecn: the kernel saw no ECN-Echo from our stack"
echo "ok: ecn: marks both ways, kernel counted $dce segments delivered CE from our echoes"
echo "all interop checks passed"
