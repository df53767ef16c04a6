#!/usr/bin/env bash
# Interop with the Linux kernel over a veth pair: our stack (mvnf-httpd /
# mvnf-wget, mTCP API) owns 10.77.0.2 on one end through AF_PACKET inside
# namespace A; the kernel owns 10.77.0.1 in namespace B. Checks, with SHA-256
# of every body: curl (kernel) fetches a file from our server; our client
# fetches a file from a kernel server (python3 http.server); ping gets
# replies; then both transfers again with tc netem impairments on the
# kernel's end. Needs root; exits 77 (skipped) without it. Everything it
# creates is removed on exit, even on failure. Bounded by timeouts.
set -euo pipefail
bin=$1
size_mb=${INTEROP_MB:-100}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces, AF_PACKET)"; exit 77; }
if ! command -v curl >/dev/null || ! command -v python3 >/dev/null; then echo "SKIP: needs curl and python3"; exit 77; fi
ip netns add "probe$$" 2>/dev/null || { echo "SKIP: cannot create network namespaces here"; exit 77; }
ip netns del "probe$$"

tag=$$
na="mvia$tag"; nb="mvib$tag"; va="via$tag"; vb="vib$tag"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  # Anything still running inside the namespaces (a child that escaped the
  # pid list) would keep them, and their interfaces, alive: kill it too.
  for ns in "$na" "$nb"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  done
  ip netns del "$na" 2>/dev/null || true
  ip netns del "$nb" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
A() { ip netns exec "$na" "$@"; }
B() { ip netns exec "$nb" "$@"; }
# Background jobs must be started with `ip netns exec` itself, not through
# A/B: `A cmd &` forks a subshell, so $! would be that shell and killing it
# would leave the server running (two stacks on one interface then answer the
# same frames with conflicting RSTs).

ip netns add "$na"; ip netns add "$nb"
ip link add "$va" netns "$na" type veth peer name "$vb" netns "$nb"
for ns in "$na" "$nb"; do
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
done
# Offloads off on both ends: AF_PACKET must see real, checksummed, MTU-sized
# frames (no TSO/GSO super-frames, no partial checksums).
A ethtool -K "$va" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
B ethtool -K "$vb" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
A ip link set "$va" up
B ip link set "$vb" up
B ip addr add 10.77.0.1/24 dev "$vb"

# Files to serve, both ways.
mkdir -p "$tmp/ours" "$tmp/kern"
head -c $((size_mb * 1024 * 1024)) /dev/urandom >"$tmp/ours/big.bin"
head -c $((size_mb * 1024 * 1024)) /dev/urandom >"$tmp/kern/big.bin"
sha_ours=$(sha256sum <"$tmp/ours/big.bin" | cut -d' ' -f1)
sha_kern=$(sha256sum <"$tmp/kern/big.bin" | cut -d' ' -f1)

conf() {  # our side's mtcp.conf: AF_PACKET on the veth, dynamic ARP
  cat >"$tmp/$1.conf" <<CONF
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
}
conf server; conf client

start_server() {
  ip netns exec "$na" "$bin/httpd/mvnf-httpd" -p "$tmp/ours" -f "$tmp/server.conf" --port 8080 -q -d 600 \
    >"$tmp/httpd.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    if B bash -c "exec 3<>/dev/tcp/10.77.0.2/8080" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  cat "$tmp/httpd.log"; fail "our server did not come up on 10.77.0.2:8080"
}
stop_server() { kill "${pids[-1]}" 2>/dev/null || true; wait "${pids[-1]}" 2>/dev/null || true; }

ip netns exec "$nb" python3 -m http.server 8000 --bind 10.77.0.1 --directory "$tmp/kern" >"$tmp/pyhttp.log" 2>&1 &
pids+=($!)

round() {  # $1: label
  start_server
  B timeout 300 curl -sS --max-time 280 -o "$tmp/got_ours.bin" http://10.77.0.2:8080/big.bin \
    || { cat "$tmp/httpd.log"; fail "$1: curl from our server failed"; }
  got=$(sha256sum <"$tmp/got_ours.bin" | cut -d' ' -f1)
  [ "$got" = "$sha_ours" ] || fail "$1: curl got different bytes from our server"
  echo "ok: $1: kernel curl fetched ${size_mb} MiB from our server, SHA-256 matches"
  stop_server
  for _ in $(seq 1 50); do B bash -c "exec 3<>/dev/tcp/10.77.0.1/8000" 2>/dev/null && break; sleep 0.1; done
  A timeout 300 "$bin/wget/mvnf-wget" http://10.77.0.1:8000/big.bin 1 -f "$tmp/client.conf" \
    -o "$tmp/got_kern.bin" --timeout 280 -q --json >"$tmp/wget.json" 2>"$tmp/wget.err" \
    || { cat "$tmp/wget.err" "$tmp/wget.json"; fail "$1: our client failed against the kernel server"; }
  got=$(sha256sum <"$tmp/got_kern.bin" | cut -d' ' -f1)
  [ "$got" = "$sha_kern" ] || fail "$1: our client got different bytes from the kernel server"
  echo "ok: $1: our client fetched ${size_mb} MiB from the kernel's http.server, SHA-256 matches"
}

# Ping our stack (ICMP echo) from the kernel, while our server runs.
start_server
B ping -c 3 -W 2 -i 0.2 10.77.0.2 >"$tmp/ping.log" 2>&1 || { cat "$tmp/ping.log"; fail "ping to our stack got no replies"; }
echo "ok: kernel ping gets replies from our stack"
stop_server

round "clean link"
# Impairments on the kernel's end: 1% loss, 10 ms delay, reordering; then
# duplication and corruption.
B tc qdisc add dev "$vb" root netem loss 1% delay 10ms reorder 5% 50%
round "netem loss 1% delay 10ms reorder"
B tc qdisc change dev "$vb" root netem duplicate 2% corrupt 1% delay 1ms
round "netem duplicate 2% corrupt 1%"
echo "all interop checks passed"
