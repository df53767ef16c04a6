#!/bin/bash
# Runs inside the QEMU guest that tests/vm/vm_test.sh boots (as PID 1's only
# child, from the initramfs's /init). Reports on the serial console, one
# line per result, which the host parses:
#   VMTEST INFO  <text>            facts worth seeing in the log
#   VMTEST STEP  <name> ok|FAIL <detail>
#   VMTEST PASS | VMTEST FAIL      last line
# Three virtio-net NICs, found by MAC (set by vm_test.sh):
#   sq  52:54:00:31:00:01  single queue, no RSS          -> the stack, dist_mode = sw
#   mq  52:54:00:31:00:02  4 queue pairs, rss=on         -> the stack, dist_mode = hw, 2 queues
#   k   52:54:00:31:00:03  the guest kernel (10.31.0.1), the stack's peer
# All three are on one bridge in a namespace of the host test; nothing
# leaves it. Every wait below is bounded (busybox timeout or a counted loop).
set -u
export PATH=/vm/bin:/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin

failed=0
say() { echo "VMTEST $*"; }
info() { say "INFO $*"; }
step() {  # NAME ok|FAIL DETAIL...
    local name=$1 res=$2
    shift 2
    say "STEP $name $res $*"
    [ "$res" = ok ] || failed=1
}
finish() {
    if [ "$failed" = 0 ]; then say PASS; else say FAIL; fi
    sync
    poweroff -f
}
# tail of a log on the console, prefixed, when a step fails
show() {  # FILE [LINES]
    [ -f "$1" ] && tail -n "${2:-15}" "$1" | sed "s|^|VMTEST LOG $(basename "$1"): |"
}

# ---- kernel modules, NICs -----------------------------------------------------------
while read -r m; do
    insmod "/vm/modules/$m" || { step modules FAIL "insmod $m"; finish; }
done </vm/modules.order
echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6
info "kernel $(uname -r), $(nproc) vCPUs, $(sed -n 's/^MemTotal: *//p' /proc/meminfo) memory"

nic_by_mac() {
    local d
    for _ in $(seq 50); do  # the driver probes asynchronously: up to 5 s
        for d in /sys/class/net/*; do
            [ "$(cat "$d/address" 2>/dev/null)" = "$1" ] && { basename "$d"; return 0; }
        done
        sleep 0.1
    done
    return 1
}
if ! { sq=$(nic_by_mac 52:54:00:31:00:01) && mq=$(nic_by_mac 52:54:00:31:00:02) &&
    k=$(nic_by_mac 52:54:00:31:00:03); }; then
    step nics FAIL "virtio-net NICs not found: $(ls /sys/class/net)"
    finish
fi
for i in lo "$sq" "$mq" "$k"; do ip link set "$i" up; done
ip addr add 10.31.0.1/24 dev "$k"
step nics ok "sq=$sq mq=$mq kernel=$k"
info "$sq channels: $(ethtool -l "$sq" 2>&1 | sed -n '/Current/,$s/^Combined:[[:space:]]*//p')," \
    "$mq channels: $(ethtool -l "$mq" 2>&1 | sed -n '/Current/,$s/^Combined:[[:space:]]*//p')" \
    "of $(ethtool -l "$mq" 2>&1 | sed -n '/Pre-set/,/Current/s/^Combined:[[:space:]]*//p')"
rc=0
out=$(ethtool -x "$sq" 2>&1) || rc=$?
info "ethtool -x $sq (single queue, no RSS): exit $rc: $(echo "$out" | tr '\n' '|')"

# ---- setup-nic.sh on both vNIC kinds -----------------------------------------------------
rc=0
timeout 60 bash /vm/setup-nic.sh "$sq" >/tmp/setup-sq.out 2>/tmp/setup-sq.err || rc=$?
after=$(ethtool -l "$sq" 2>&1 | sed -n '/Current/,$s/^Combined:[[:space:]]*//p')
if [ "$rc" = 1 ] && grep -q "use dist_mode = sw" /tmp/setup-sq.err && ! grep -q '^+ ' /tmp/setup-sq.out; then
    step setup_nic_single_queue ok "refused, nothing run: $(tr '\n' ' ' </tmp/setup-sq.err)"
else
    step setup_nic_single_queue FAIL "exit $rc (want 1 with the dist_mode = sw hint), combined now $after"
    show /tmp/setup-sq.out; show /tmp/setup-sq.err
fi

rc=0
timeout 60 bash /vm/setup-nic.sh --queues 2 "$mq" >/tmp/setup-mq.out 2>/tmp/setup-mq.err || rc=$?
cur=$(ethtool -l "$mq" 2>&1 | sed -n '/Current/,$s/^Combined:[[:space:]]*//p')
key=$(ethtool -x "$mq" 2>&1 | sed -n '/RSS hash key:/{n;p;}' | cut -c1-11)
if [ "$rc" = 0 ] && [ "$cur" = 2 ] && [ "$key" = "6d:5a:6d:5a" ]; then
    step setup_nic_two_queues ok "combined $cur, key $key..., $(grep -c '^+ ' /tmp/setup-mq.out) ethtool commands"
else
    step setup_nic_two_queues FAIL "exit $rc, combined $cur, key '$key'"
    show /tmp/setup-mq.out; show /tmp/setup-mq.err
fi
sed 's/^/VMTEST INFO setup-nic: /' /tmp/setup-mq.out

# ---- the stack over afxdp ------------------------------------------------------------------
mkdir -p /tmp/www
cp /vm/data/big.bin /tmp/www/big.bin
head -c 1024 /vm/data/big.bin | od -An -tx1 | tr -d ' \n' | head -c 1024 >/tmp/www/index.html
want_sha=$(cat /vm/data/big.sha256)

write_conf() {  # FILE PORT MODE IP
    cat >"$1" <<EOF
port = afxdp:$2
dist_mode = $3
num_cores = 2
ip_addr = $4
netmask = 255.255.255.0
tcp_timewait = 0
max_concurrency = 512
max_num_buffers = 512
ring_size = 512
EOF
}

# json_num FILE KEY: the first "KEY":number in a one-line JSON file.
json_num() { sed -n "s/.*\"$2\":\([0-9.e+-]*\).*/\1/p" "$1" | head -n1; }

# The guest kernel's count of SYNs it sent again (TcpExt TCPSynRetrans):
# each is a connection whose SYN or SYN-ACK was lost (or a SYN-ACK more
# than 1 s late), which then waited for the 1 s retransmission.
syn_retrans() {
    awk '/^TcpExt:/ { if (!n) { for (i = 1; i <= NF; i++) if ($i == "TCPSynRetrans") n = i; next }
                      print $n; exit }' /proc/net/netstat
}

# load NAME TOOL ARGS...: 2000 one-request connections, 8 in flight; 0
# errors. With the guest kernel as the client, also at most 1% (20) of the
# connections may have waited for a SYN retransmission: more would be
# packets lost on their way to or from the stack, not the emulation's
# slowness (which shows in the response times, printed, not judged).
load() {
    local name=$1 j=/tmp/$1.json kernel_client=0
    shift
    [ "$1" = mvnf-wget-kernel ] && kernel_client=1
    rm -f "$j"
    local syn0 syn
    syn0=$(syn_retrans)
    timeout 150 "$@" 2000 -c 8 -q --timeout 10 --json-out "$j" >/tmp/"$name".out 2>&1
    syn=$(($(syn_retrans) - syn0))
    local got errs p99 max what
    got=$(json_num "$j" completed) errs=$(sed -n 's/.*"errors":{"total":\([0-9]*\).*/\1/p' "$j")
    p99=$(json_num "$j" p99_us) max=$(json_num "$j" max_us)
    what="$(json_num "$j" requests_per_s) req/s, p50 $(json_num "$j" p50_us) us, p99 $p99 us, max $max us"
    [ "$kernel_client" = 0 ] || what+=", $syn SYN retransmissions"
    if [ "$got" = 2000 ] && [ "$errs" = 0 ] && { [ "$kernel_client" = 0 ] || [ "$syn" -le 20 ]; }; then
        step "$name" ok "2000/2000, 0 errors, $what"
    else
        step "$name" FAIL "completed '${got}' errors '${errs}' of 2000; $what (at most 20 allowed)"
        show /tmp/"$name".out
    fi
}

# download NAME TOOL ARGS...: the 1 MiB file, saved and hashed.
download() {
    local name=$1
    shift
    rm -f /tmp/dl.bin
    timeout 120 "$@" 1 -q --timeout 60 -o /tmp/dl.bin >/tmp/"$name".out 2>&1
    local got
    got=$(sha256sum /tmp/dl.bin 2>/dev/null | cut -d' ' -f1)
    if [ "$got" = "$want_sha" ]; then
        step "$name" ok "1048576 bytes, sha256 $got"
    else
        step "$name" FAIL "sha256 '${got}', want $want_sha ($(stat -c %s /tmp/dl.bin 2>/dev/null) bytes)"
        show /tmp/"$name".out
    fi
}

# wait_for FILE PATTERN PID SECONDS
wait_for() {
    local i
    for ((i = 0; i < $4 * 10; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

stop() {  # PID: SIGINT, then up to 10 s, then SIGKILL
    local i
    kill -INT "$1" 2>/dev/null
    for ((i = 0; i < 100; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# server_run TAG NIC MODE IP: mvnf-httpd on the stack, the kernel as client.
server_run() {
    local tag=$1 nic=$2 mode=$3 ip=$4 log=/tmp/httpd-$1.log
    write_conf /tmp/"$tag".conf "$nic" "$mode" "$ip"
    mvnf-httpd -p /tmp/www -f /tmp/"$tag".conf -N 2 --port 80 -q --stack-stats >"$log" 2>&1 &
    local pid=$!
    if ! wait_for "$log" listening "$pid" 90; then
        step "${tag}_start" FAIL "mvnf-httpd did not listen on afxdp:$nic"
        show "$log" 30
        stop "$pid"
        return
    fi
    local open
    open=$(grep -m1 "mtcp_init: port afxdp:$nic: " "$log")
    if [ -n "$open" ]; then step "${tag}_start" ok "$open"
    else step "${tag}_start" FAIL "no port line from afxdp:$nic"; show "$log"; fi

    local p
    p=$(timeout 60 ping -c 3 -W 10 "$ip" 2>&1 | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
    # All three: the first waits for ARP in the guest kernel, not lost.
    if [ "${p:-0}" = 3 ]; then step "${tag}_ping" ok "3/3 replies from $ip"
    else step "${tag}_ping" FAIL "${p:-0}/3 replies from $ip"; fi

    download "${tag}_download" mvnf-wget-kernel "http://$ip/big.bin"
    load "${tag}_short" mvnf-wget-kernel "http://$ip/index.html"
    stop "$pid"
    # The stack's nonzero drop reasons, resets and recoveries, per core
    # (from --stack-stats): where a slow connection lost its time.
    local c
    for c in 0 1; do
        info "$tag server core $c: $(grep "core $c stack" "$log" | grep -o -E '"(drops|passive_opens|retransmits|rto_timeouts|tlp_probes|rst_sent|rst_received|drop_[a-z_]*|rx_dropped[a-z_]*|tx_dropped[a-z_]*|dropped_[a-z_]*|tx_ring_full|tx_no_buffer|tx_full|tx_unresolved|no_buffers|eth_[a-z_]*|ip_[a-z_]*|arp_no_handler|tcp_no_handler|syn_cookies_sent|stale_used|probes_sent)":[1-9][0-9]*' | sort -u | tr '\n' ' ')"
    done
    grep -v "stack {" "$log" | tail -n 3 | sed "s|^|VMTEST LOG httpd-$tag.log: |"
}

server_run sw "$sq" sw 10.31.0.2
server_run hw "$mq" hw 10.31.0.3

# client_run: the stack connects (mvnf-wget, hw mode on the 2-queue vNIC) to
# mvnf-httpd-kernel on the guest kernel: the replies must come back on the
# queue of the core that opened the connection.
client_run() {
    local log=/tmp/httpd-kernel.log
    mvnf-httpd-kernel -p /tmp/www -N 1 --port 8080 --bind 10.31.0.1 -q >"$log" 2>&1 &
    local pid=$!
    if ! wait_for "$log" listening "$pid" 30; then
        step hw_client_start FAIL "mvnf-httpd-kernel did not start"; show "$log"; stop "$pid"; return
    fi
    write_conf /tmp/hwc.conf "$mq" hw 10.31.0.4
    download hw_client_download mvnf-wget -f /tmp/hwc.conf -N 2 "http://10.31.0.1:8080/big.bin"
    load hw_client_short mvnf-wget -f /tmp/hwc.conf -N 2 "http://10.31.0.1:8080/index.html"
    stop "$pid"
}
client_run

dmesg | grep -i -E "xdp|virtio_net|virtio-net" | sed 's/^/VMTEST INFO dmesg: /'
finish
