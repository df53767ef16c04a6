#!/usr/bin/env bash
# The README demo: an HTTP server and an HTTP load generator, each a
# separate process with its own user-space TCP/IP stack, joined by an `shm`
# link; then the very same application code over the Linux kernel's loopback,
# and a side-by-side table. No root, no kernel module; the runs take ~15 s.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${DEMO_BUILD_DIR:-build}
if [ "${DEMO_SKIP_BUILD:-0}" != 1 ]; then  # DEMO_SKIP_BUILD=1 reuses an existing build
  bash scripts/install-deps.sh
  bash scripts/build.sh "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi

bin=$build/apps
requests=${DEMO_REQUESTS:-10000}
conc=${DEMO_CONCURRENCY:-8}
link="demohttp$$"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -f /dev/shm/*"$link"* 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

for b in httpd/mvnf-httpd wget/mvnf-wget httpd/mvnf-httpd-kernel wget/mvnf-wget-kernel; do
  [ -x "$bin/$b" ] || { echo "demo: $bin/$b was not built (is the mtcp library complete?)" >&2; exit 1; }
done

# A small web site: a 1 KB page (what the load generator fetches).
mkdir -p "$tmp/www"
python3 -c "print('<html><body>' + 'mtcp-vnf ' * 110 + '</body></html>')" >"$tmp/www/index.html"
size=$(stat -c %s "$tmp/www/index.html")

# Two mtcp.conf files: the two ends of one shm link, each with its own IPv4
# address. ARP between the two stacks resolves on its own. With 2+ CPUs the
# two stacks are pinned to different CPUs.
for end in 1 2; do
  mask=1; [ "$(nproc)" -ge 2 ] && mask=$end
  cat >"$tmp/end$end.conf" <<CONF
port = shm:$link
num_cores = 1
core_mask = 0x$mask
ip_addr = 10.0.0.$end
tcp_timewait = 0
max_concurrency = 4096
max_num_buffers = 4096
CONF
done

wait_listening() {  # file pid
  for _ in $(seq 100); do
    grep -q listening "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { cat "$1"; echo "demo: server failed to start" >&2; exit 1; }
    sleep 0.1
  done
  echo "demo: server not ready" >&2; exit 1
}

cat <<TXT

=====================================================================
 mtcp-vnf demo: HTTP over two user-space TCP/IP stacks
=====================================================================
 Process A runs mvnf-httpd (a web server), process B runs mvnf-wget
 (a load generator, like mTCP's epserver/epwget). Each process links
 its own complete TCP/IP stack; they exchange Ethernet frames over a
 shared-memory link (shm:$link) - no kernel networking involved.
 Workload: $requests GET requests for a ${size}-byte page, $conc in flight,
 one TCP connection per request (handshake, request, response, close).

 [1/2] user-space stack over shm (10.0.0.2 -> 10.0.0.1:8080)
---------------------------------------------------------------------
TXT
"$bin/httpd/mvnf-httpd" -p "$tmp/www" -f "$tmp/end1.conf" -N 1 --port 8080 -d 25 -q >"$tmp/srv1.log" 2>&1 &
pids+=($!)
wait_listening "$tmp/srv1.log" "${pids[-1]}"
timeout 20 "$bin/wget/mvnf-wget" "http://10.0.0.1:8080/index.html" "$requests" -c "$conc" \
  -f "$tmp/end2.conf" -N 1 --timeout 5 --json-out "$tmp/mtcp.json"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat <<TXT

 [2/2] the same application code on Linux sockets (kernel loopback)
---------------------------------------------------------------------
 mvnf-httpd-kernel and mvnf-wget-kernel are built from the same sources,
 with the socket calls going to the Linux kernel instead.
TXT
"$bin/httpd/mvnf-httpd-kernel" -p "$tmp/www" -N 1 --port "$port" --bind 127.0.0.1 -d 25 -q >"$tmp/srv2.log" 2>&1 &
pids+=($!)
wait_listening "$tmp/srv2.log" "${pids[-1]}"
timeout 20 "$bin/wget/mvnf-wget-kernel" "http://127.0.0.1:$port/index.html" "$requests" -c "$conc" \
  -N 1 --timeout 5 --json-out "$tmp/kernel.json"

python3 - "$tmp/mtcp.json" "$tmp/kernel.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
rows = [("requests completed", lambda j: "%d / %d" % (j["completed"], j["requested"])),
        ("requests per second", lambda j: "%.0f" % j["requests_per_s"]),
        ("connections per second", lambda j: "%.0f" % j["connections_per_s"]),
        ("response time p50", lambda j: "%.0f us" % j["latency"]["p50_us"]),
        ("response time p99", lambda j: "%.0f us" % j["latency"]["p99_us"]),
        ("errors", lambda j: "%d" % j["errors"]["total"])]
print("\n=====================================================================")
print(" side by side (same app code, same workload, one core each)")
print("=====================================================================")
print(" %-24s %20s %20s" % ("", "user-space over shm", "Linux loopback"))
for name, f in rows:
    print(" %-24s %20s %20s" % (name, f(a), f(b)))
print("\n Both numbers come from a shared 2-CPU machine: compare orders of")
print(" magnitude, not digits. See docs/apps.md for every tool and option.")
PY
