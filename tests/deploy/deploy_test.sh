#!/usr/bin/env bash
# Checks the deployment artefacts without booting anything: every libvirt XML
# under deploy/ is well-formed and valid (libvirt's domain.rng when installed)
# and has the devices it promises; every shell script in deploy/ and scripts/
# passes shellcheck; deploy/setup-nic.sh prints and runs exactly the expected
# ethtool commands against a fake ethtool, rejects bad input with clear
# errors, and reads a real veth's `ethtool -l` (as root, in a namespace this
# test creates and removes). Run by ctest (tests/deploy/CMakeLists.txt):
#   deploy_test.sh SOURCE_DIR
set -euo pipefail

src=$(cd "${1:?usage: deploy_test.sh SOURCE_DIR}" && pwd)
setup="$src/deploy/setup-nic.sh"
failures=0
checks=0

pass() { checks=$((checks + 1)); echo "ok   $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL $*"; }
skip() { echo "skip $*"; }

for tool in xmllint shellcheck; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $tool is not installed (scripts/install-deps.sh installs it)"
        exit 77
    fi
done

work=$(mktemp -d)
ns=""
cleanup() {
    [ -z "$ns" ] || ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# ---- 1. libvirt XML -------------------------------------------------------------

schema=/usr/share/libvirt/schemas/domain.rng  # Debian: package libvirt0
mapfile -t xmls < <(find "$src/deploy" -name '*.xml' | sort)
[ ${#xmls[@]} -ge 2 ] || fail "expected the two sample domains under deploy/, found ${#xmls[@]}"
[ -f "$schema" ] || skip "RNG validation: $schema not installed (well-formedness and structure only)"
for x in "${xmls[@]}"; do
    rel=${x#"$src"/}
    if out=$(xmllint --noout "$x" 2>&1); then pass "$rel well-formed"
    else fail "$rel is not well-formed:"; echo "$out"; continue; fi
    if [ -f "$schema" ]; then
        if out=$(xmllint --noout --relaxng "$schema" "$x" 2>&1); then pass "$rel valid against domain.rng"
        else fail "$rel does not validate against $schema:"; echo "$out"; fi
    fi
done

# xpath FILE EXPR: prints the XPath result (booleans print true/false).
xpath() { xmllint --xpath "$2" "$1" 2>/dev/null || true; }
expect_true() {  # FILE WHAT EXPR
    if [ "$(xpath "$1" "$3")" = true ]; then pass "${1#"$src"/}: $2"
    else fail "${1#"$src"/}: $2 (xpath $3)"; fi
}

mq="$src/deploy/libvirt/vnf-virtio-mq.xml"
if [ -f "$mq" ]; then
    expect_true "$mq" "a kvm domain with a name" "boolean(/domain[@type='kvm']/name[string-length(.) > 0])"
    expect_true "$mq" "a virtio interface with the vhost driver and more than one queue" \
        "boolean(/domain/devices/interface[model/@type='virtio']/driver[@name='vhost' and number(@queues) > 1])"
    expect_true "$mq" "every vCPU pinned" \
        "count(/domain/cputune/vcpupin) = number(/domain/vcpu) and count(/domain/cputune/vcpupin[@cpuset]) = number(/domain/vcpu)"
    expect_true "$mq" "the emulator thread pinned" "boolean(/domain/cputune/emulatorpin/@cpuset)"
    expect_true "$mq" "hugepage memory backing (optional, present in the sample)" \
        "boolean(/domain/memoryBacking/hugepages)"
    expect_true "$mq" "guest offloads off on the data NIC (needed for XDP on virtio_net)" \
        "boolean(/domain/devices/interface/driver[@queues]/guest[@csum='off' and @tso4='off' and @tso6='off'])"
    # virtio_net wants a transmit queue per vCPU for XDP beyond the queues
    # in use, or it falls back to a locked transmit mode (user-manual.md).
    expect_true "$mq" "queue pairs = the 4 stack queues + one XDP queue per vCPU" \
        "number(/domain/devices/interface/driver[@name='vhost']/@queues) >= 4 + number(/domain/vcpu)"
else
    fail "deploy/libvirt/vnf-virtio-mq.xml missing"
fi

pt="$src/deploy/libvirt/vnf-ptnetmap.xml"
qns="http://libvirt.org/schemas/domain/qemu/1.0"
cmdline="/domain/*[local-name()='commandline' and namespace-uri()='$qns']"
if [ -f "$pt" ]; then
    expect_true "$pt" "a kvm domain with a name" "boolean(/domain[@type='kvm']/name[string-length(.) > 0])"
    expect_true "$pt" "qemu:commandline in libvirt's qemu namespace" "boolean($cmdline)"
    expect_true "$pt" "a ptnet-pci device bound to a netdev" \
        "boolean($cmdline/*[local-name()='arg' and starts-with(@value, 'ptnet-pci,') and contains(@value, 'netdev=')])"
    expect_true "$pt" "a netmap netdev with passthrough=on" \
        "boolean($cmdline/*[local-name()='arg' and starts-with(@value, 'netmap,') and contains(@value, 'passthrough=on') and contains(@value, 'ifname=')])"
    # The netdev id the device names must be the one the backend defines.
    dev=$(xpath "$pt" "string($cmdline/*[local-name()='arg' and starts-with(@value, 'ptnet-pci,')]/@value)")
    nd=$(xpath "$pt" "string($cmdline/*[local-name()='arg' and starts-with(@value, 'netmap,')]/@value)")
    dev_id=${dev#*netdev=}; dev_id=${dev_id%%,*}
    nd_id=${nd#*id=}; nd_id=${nd_id%%,*}
    if [ -n "$dev_id" ] && [ "$dev_id" = "$nd_id" ]; then pass "vnf-ptnetmap.xml: device and netdev ids match ($dev_id)"
    else fail "vnf-ptnetmap.xml: ptnet-pci netdev='$dev_id' but netmap id='$nd_id'"; fi
    # Each -device/-netdev flag is followed by its value (argument pairs).
    expect_true "$pt" "-device and -netdev each followed by a value" \
        "count($cmdline/*[local-name()='arg' and (@value='-device' or @value='-netdev')]) = 2 and count($cmdline/*[local-name()='arg']) = 4"
else
    fail "deploy/libvirt/vnf-ptnetmap.xml missing"
fi

# ---- 2. shellcheck ------------------------------------------------------------------

# Every script in deploy/ and scripts/, this test and the VM test's two
# (tests/vm: the host side and the guest side). None is excluded today;
# add an exclusion here only with the reason next to it.
mapfile -t scripts < <(
    {
        find "$src/deploy" "$src/scripts" -type f -name '*.sh'
        find "$src/deploy" "$src/scripts" -type f ! -name '*.*' -exec grep -lE '^#!.*\b(ba)?sh\b' {} + 2>/dev/null || true
        echo "$src/tests/deploy/deploy_test.sh"
        find "$src/tests/vm" -type f -name '*.sh'
    } | sort -u)
for s in "${scripts[@]}"; do
    rel=${s#"$src"/}
    if out=$(shellcheck -x "$s" 2>&1); then pass "shellcheck $rel"
    else fail "shellcheck $rel:"; echo "$out"; fi
done

# ---- 3. setup-nic.sh against a fake ethtool ----------------------------------------

fake="$work/bin"
mkdir -p "$fake"
# A stand-in for ethtool: answers the read-only queries from FAKE_* variables
# and records every other invocation (the ones that change a NIC) in FAKE_LOG.
cat >"$fake/ethtool" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
dev=${2:-}
case ${1:-} in
    -l)
        printf 'Channel parameters for %s:\nPre-set maximums:\nRX:\t\t%s\nTX:\t\t%s\nOther:\t\t1\nCombined:\t%s\n' \
            "$dev" "${FAKE_MAX_RX:-n/a}" "${FAKE_MAX_TX:-n/a}" "${FAKE_MAX_COMBINED:-8}"
        printf 'Current hardware settings:\nRX:\t\tn/a\nTX:\t\tn/a\nOther:\t\t1\nCombined:\t2\n' ;;
    -g)
        [ "${FAKE_NO_RINGS:-0}" = 0 ] || { echo "netlink error: Operation not supported" >&2; exit 1; }
        printf 'Ring parameters for %s:\nPre-set maximums:\nRX:\t\t%s\nRX Mini:\tn/a\nRX Jumbo:\tn/a\nTX:\t\t%s\n' \
            "$dev" "${FAKE_MAX_RING:-4096}" "${FAKE_MAX_RING:-4096}"
        printf 'Current hardware settings:\nRX:\t\t256\nRX Mini:\tn/a\nRX Jumbo:\tn/a\nTX:\t\t256\n' ;;
    -x)
        [ "${FAKE_NO_RSS:-0}" = 0 ] || { echo "Cannot get RX ring count: Operation not supported" >&2; exit 1; }
        if [ "${FAKE_RSS_UNSUPPORTED:-0}" = 1 ]; then
            # What virtio_net without the RSS feature answers: exit 0.
            printf 'RX flow hash indirection table for %s with 1 RX ring(s):\nOperation not supported\n' "$dev"
            printf 'RSS hash key:\nOperation not supported\nRSS hash function:\n    toeplitz: on\n    xor: off\n    crc32: off\n'
            exit 0
        fi
        printf 'RX flow hash indirection table for %s with 8 RX ring(s):\n    0:      0     1     2     3     4     5     6     7\n' "$dev"
        key=""
        for ((i = 0; i < ${FAKE_KEY_LEN:-40}; i++)); do key+=${key:+:}$(printf '%02x' $(((i * 37 + 11) % 256))); done
        printf 'RSS hash key:\n%s\nRSS hash function:\n    toeplitz: %s\n    xor: off\n    crc32: off\n' "$key" "${FAKE_TOEPLITZ:-on}" ;;
    -n)
        printf 'TCP over IPV4 flows use these fields for computing Hash flow key:\nIP SA\nIP DA\n' ;;
    -k)
        printf 'Features for %s:\nrx-checksumming: on\ntx-checksumming: on\n\ttx-checksum-ipv4: on\nscatter-gather: on\n' "$dev"
        printf 'tcp-segmentation-offload: on\n\ttx-tcp-segmentation: on\ngeneric-segmentation-offload: on\n'
        printf 'generic-receive-offload: on\nlarge-receive-offload: %s\nrx-vlan-offload: on\ntx-vlan-offload: on\n' \
            "${FAKE_LRO:-off [fixed]}" ;;
    *)
        echo "ethtool $*" >>"${FAKE_LOG:?}"
        [ "${FAKE_FAIL_ON:-}" = "${1:-}" ] && { echo "Cannot set: Operation not supported" >&2; exit 1; }
        exit 0 ;;
esac
EOF
chmod +x "$fake/ethtool"
export FAKE_LOG="$work/ethtool.log"
dev=lo  # always exists in /sys/class/net; the fake ethtool answers for it

# The symmetric key written out independently of setup-nic.sh: 0x6d5a repeated.
sym_key() {
    local k="" i
    for ((i = 0; i < $1; i++)); do
        if ((i % 2 == 0)); then k+=${k:+:}6d; else k+=:5a; fi
    done
    echo "$k"
}
key40=$(sym_key 40)
key52=$(sym_key 52)

# run_setup EXPECTED_RC NAME [env...] -- ARGS...: runs setup-nic.sh with the
# fake ethtool first on PATH; leaves stdout in $out, stderr in $err.
out="" err="" rc=0
run_setup() {
    local want=$1 name=$2
    shift 2
    local envs=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    : >"$FAKE_LOG"
    rc=0
    env "${envs[@]}" PATH="$fake:$PATH" bash "$setup" "$@" >"$work/out" 2>"$work/err" || rc=$?
    out=$(cat "$work/out") err=$(cat "$work/err")
    if [ "$rc" = "$want" ]; then return 0; fi
    fail "$name: exit $rc, expected $want"
    echo "  stdout: $out"
    echo "  stderr: $err"
    return 1
}
expect_out() {  # NAME EXPECTED
    if [ "$out" = "$2" ]; then pass "$1"
    else fail "$1: output differs"; diff <(echo "$2") <(echo "$out") | sed 's/^/  /'; fi
}
expect_err() {  # NAME SUBSTRING
    if [[ $err == *"$2"* ]]; then pass "$1"
    else fail "$1: stderr lacks '$2': $err"; fi
}
expect_no_changes() {  # NAME
    if [ -s "$FAKE_LOG" ]; then fail "$1: changed the NIC: $(cat "$FAKE_LOG")"
    else pass "$1: nothing changed"; fi
}

expected_4q="ethtool -L $dev combined 4
ethtool -G $dev rx 1024 tx 1024
ethtool -X $dev hkey $key40 equal 4
ethtool -N $dev rx-flow-hash tcp4 sdfn
ethtool -N $dev rx-flow-hash udp4 sdfn
ethtool -K $dev gro off tso off gso off rxvlan off rx off tx off"

if run_setup 0 "dry run, 4 queues, 40-byte key" -- --dry-run --queues 4 "$dev"; then
    expect_out "dry run prints the exact commands (40-byte key NIC)" "$expected_4q"
    expect_no_changes "dry run"
fi

if run_setup 0 "dry run, 52-byte key, toeplitz off" FAKE_KEY_LEN=52 FAKE_TOEPLITZ=off FAKE_LRO=on -- \
    -n -q 2 --ring 2048 "$dev"; then
    expect_out "52-byte key NIC: hfunc toeplitz, 52-byte symmetric key, LRO off" \
        "ethtool -L $dev combined 2
ethtool -G $dev rx 2048 tx 2048
ethtool -X $dev hfunc toeplitz hkey $key52 equal 2
ethtool -N $dev rx-flow-hash tcp4 sdfn
ethtool -N $dev rx-flow-hash udp4 sdfn
ethtool -K $dev gro off lro off tso off gso off rxvlan off rx off tx off"
fi

if run_setup 0 "separate RX/TX channels, small rings, keep checksums" FAKE_MAX_COMBINED=n/a FAKE_MAX_RX=4 \
    FAKE_MAX_TX=4 FAKE_MAX_RING=512 -- --dry-run --queues=4 --keep-checksum "$dev"; then
    expect_out "separate channels use rx/tx counts; the default ring is capped at the maximum" \
        "ethtool -L $dev rx 4 tx 4
ethtool -G $dev rx 512 tx 512
ethtool -X $dev hkey $key40 equal 4
ethtool -N $dev rx-flow-hash tcp4 sdfn
ethtool -N $dev rx-flow-hash udp4 sdfn
ethtool -K $dev gro off tso off gso off rxvlan off"
    expect_err "capping the default ring is reported" "capped at the NIC's maximum"
fi

if run_setup 0 "no ring support, --ring 0" FAKE_NO_RINGS=1 -- --dry-run -q 1 --ring 0 "$dev"; then
    if [[ $out != *"ethtool -G"* ]]; then pass "--ring 0 leaves the rings alone"
    else fail "--ring 0 still sets rings"; fi
fi
run_setup 1 "explicit ring the NIC cannot report" FAKE_NO_RINGS=1 -- --dry-run --ring 512 "$dev" &&
    expect_err "explicit ring without ethtool -g support" "does not report its ring sizes"
run_setup 1 "ring larger than the NIC's" FAKE_MAX_RING=512 -- --dry-run --ring 4096 "$dev" &&
    expect_err "ring larger than the NIC's" "at most rx 512 / tx 512"
run_setup 1 "more queues than the NIC has" -- --dry-run --queues 16 "$dev" &&
    expect_err "more queues than the NIC has" "has at most 8 queues (ethtool -l), asked for 16"
run_setup 1 "no RSS" FAKE_NO_RSS=1 -- --dry-run -q 2 "$dev" &&
    expect_err "a NIC without RSS points to sw mode" "use dist_mode = sw"
run_setup 1 "RSS query answered with exit 0 and 'not supported'" FAKE_RSS_UNSUPPORTED=1 -- --dry-run -q 2 "$dev" &&
    expect_err "an RSS table the driver cannot show points to sw mode" "has no settable RSS table"
run_setup 1 "single-queue NIC" FAKE_MAX_COMBINED=1 -- --dry-run "$dev" &&
    expect_err "a single-queue NIC is refused with the sw-mode hint" "has a single queue (ethtool -l); dist_mode = hw needs one per core: use dist_mode = sw"
run_setup 1 "key length mismatch" -- --dry-run -q 2 --key-len 52 "$dev" &&
    expect_err "--key-len must match the NIC" "uses a 40-byte RSS key"
run_setup 1 "missing interface" -- --dry-run mvnfnosuch0 &&
    expect_err "missing interface" "interface 'mvnfnosuch0' does not exist"
run_setup 2 "no interface" -- --dry-run && expect_err "no interface" "no interface given"
run_setup 2 "bad queue count" -- --queues abc "$dev" && expect_err "bad queue count" "expected a number, got 'abc'"
run_setup 2 "zero queues" -- --queues 0 "$dev" && expect_err "zero queues" "--queues must be 1..64"
run_setup 2 "unknown option" -- --frobnicate "$dev" && expect_err "unknown option" "unknown option '--frobnicate'"
run_setup 2 "two interfaces" -- "$dev" eth9 && expect_err "two interfaces" "one interface only"
run_setup 2 "bad interface name" -- "a/b" && expect_err "bad interface name" "not a valid interface name"
if run_setup 0 "--help" -- --help; then
    if [[ $out == *"usage: setup-nic.sh"*"--dry-run"* ]]; then pass "--help prints the usage"
    else fail "--help output: $out"; fi
fi

# ethtool missing: a PATH with the tools the script needs but no ethtool.
nobin="$work/noethtool"
mkdir -p "$nobin"
for t in bash env id nproc cat; do ln -sf "$(command -v "$t")" "$nobin/$t"; done
rc=0
PATH="$nobin" "$nobin/bash" "$setup" --dry-run "$dev" >"$work/out" 2>"$work/err" || rc=$?
err=$(cat "$work/err")
if [ "$rc" = 1 ] && [[ $err == *"ethtool not found"* ]]; then pass "ethtool missing is a clear error"
else fail "ethtool missing: exit $rc, stderr: $err"; fi

if [ "$(id -u)" = 0 ]; then
    # Not root: as nobody, without --dry-run.
    if command -v setpriv >/dev/null 2>&1; then
        rc=0
        setpriv --reuid=65534 --regid=65534 --clear-groups env PATH="$fake:$PATH" FAKE_LOG=/dev/null \
            bash "$setup" -q 2 "$dev" >"$work/out" 2>"$work/err" || rc=$?
        err=$(cat "$work/err")
        if [ "$rc" = 1 ] && [[ $err == *"needs root"* ]]; then pass "not root is a clear error"
        else fail "not root: exit $rc, stderr: $err"; fi
    else
        skip "not-root check: setpriv not installed"
    fi
    # For real (root), against the fake: runs exactly the commands the dry run printed.
    if run_setup 0 "real run against the fake ethtool" -- --queues 4 "$dev"; then
        if [ "$(cat "$FAKE_LOG")" = "$expected_4q" ]; then pass "a real run executes exactly the dry-run commands"
        else fail "real run executed:"; sed 's/^/  /' "$FAKE_LOG"; fi
    fi
    if run_setup 1 "a failing ethtool command" FAKE_FAIL_ON=-N -- -q 4 "$dev"; then
        expect_err "a failing command stops the script and is named" "failed: ethtool -N $dev rx-flow-hash tcp4 sdfn"
        # Rolled back newest first: the RSS key (the fake's, with the default
        # table), the rings and the channels as the fake reported them.
        fake_key=$(for ((i = 0; i < 40; i++)); do printf '%02x\n' $(((i * 37 + 11) % 256)); done | paste -sd:)
        want="ethtool -L $dev combined 4
ethtool -G $dev rx 1024 tx 1024
ethtool -X $dev hkey $key40 equal 4
ethtool -N $dev rx-flow-hash tcp4 sdfn
ethtool -X $dev hkey $fake_key default
ethtool -G $dev rx 256 tx 256
ethtool -L $dev combined 2"
        if [ "$(cat "$FAKE_LOG")" = "$want" ]; then pass "a failing command rolls back the earlier changes"
        else fail "rollback: the fake saw:"; diff <(echo "$want") "$FAKE_LOG" | sed 's/^/  /'; fi
        expect_err "the rollback is reported" "the earlier changes were undone"
    fi
else
    rc=0
    PATH="$fake:$PATH" bash "$setup" -q 2 "$dev" >"$work/out" 2>"$work/err" || rc=$?
    err=$(cat "$work/err")
    if [ "$rc" = 1 ] && [[ $err == *"needs root"* ]]; then pass "not root is a clear error"
    else fail "not root: exit $rc, stderr: $err"; fi
    skip "real run against the fake ethtool: needs root"
fi

# ---- 4. a real veth in a namespace (root) --------------------------------------------

if [ "$(id -u)" != 0 ]; then
    skip "real veth: needs root"
elif ! command -v ip >/dev/null 2>&1 || ! command -v ethtool >/dev/null 2>&1; then
    skip "real veth: ip or ethtool not installed"
else
    ns="mvnfdeploy$$"
    if ip netns add "$ns" 2>/dev/null &&
        ip -n "$ns" link add vd0 numtxqueues 4 numrxqueues 4 type veth peer name vd1 \
            numtxqueues 4 numrxqueues 4 2>/dev/null; then
        # A veth has 4 RX/TX channels but no RSS table: more queues than that
        # are refused from its real `ethtool -l`, and 4 queues stop at RSS.
        rc=0
        ip netns exec "$ns" bash "$setup" --dry-run --ring 0 --queues 8 vd0 >"$work/out" 2>"$work/err" || rc=$?
        err=$(cat "$work/err")
        if [ "$rc" = 1 ] && [[ $err == *"vd0 has at most 4 queues (ethtool -l), asked for 8"* ]]; then
            pass "real veth: the queue limit is read from ethtool -l"
        else fail "real veth, 8 queues: exit $rc, stderr: $err"; fi
        rc=0
        ip netns exec "$ns" bash "$setup" --dry-run --ring 0 --queues 4 vd0 >"$work/out" 2>"$work/err" || rc=$?
        err=$(cat "$work/err")
        if [ "$rc" = 1 ] && [[ $err == *"does not expose its RSS table"*"use dist_mode = sw"* ]]; then
            pass "real veth: no RSS table is reported with the sw-mode hint"
        else fail "real veth, 4 queues: exit $rc, stderr: $err"; fi
    else
        skip "real veth: cannot create a network namespace here"
    fi
    ip netns del "$ns" 2>/dev/null || true
    ns=""
fi

echo "$checks checks, $failures failed"
[ "$failures" = 0 ]
