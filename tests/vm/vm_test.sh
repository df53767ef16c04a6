#!/usr/bin/env bash
# The VM deployment, end to end: boots the Debian kernel (linux-image-amd64)
# under qemu-system-x86_64 (KVM when /dev/kvm exists, TCG otherwise) with an
# initramfs made here — static busybox, bash and ethtool with their
# libraries, the virtio-net modules of that kernel, this build's
# mvnf-httpd/mvnf-wget (and their -kernel twins) with their libraries,
# deploy/setup-nic.sh and tests/vm/guest.sh — and three virtio-net NICs on
# one bridge inside a network namespace this test creates: a single-queue
# vNIC, a 4-queue-pair vNIC with rss=on, and one for the guest kernel.
# tests/vm/guest.sh runs the checks in the guest and reports over the serial
# console; this script prints its lines and passes only on "VMTEST PASS"
# with no failed step. Run by ctest (tests/vm/CMakeLists.txt):
#   vm_test.sh SOURCE_DIR BUILD_DIR
# Exit 77 (skipped, with the reason) without root, QEMU, a kernel image with
# its virtio_net module, static busybox, /dev/net/tun or namespaces.
# VM_TEST_TIMEOUT (seconds, default 420) bounds the QEMU run;
# VM_TEST_MQ_QUEUES (2..8, default 4) sets the multi-queue vNIC's queue
# pairs: 2 leaves virtio_net no XDP transmit queues (its locked TX mode).
set -euo pipefail

src=${1:?usage: vm_test.sh SOURCE_DIR BUILD_DIR}
bld=${2:?usage: vm_test.sh SOURCE_DIR BUILD_DIR}
limit=${VM_TEST_TIMEOUT:-420}
mq_queues=${VM_TEST_MQ_QUEUES:-4}
skip() {
    echo "vm_test: SKIP: $*"
    exit 77
}
die() {
    echo "vm_test: $*" >&2
    exit 1
}

if ! [[ $limit =~ ^[0-9]{2,5}$ ]] || [ "$limit" -lt 30 ]; then
    die "VM_TEST_TIMEOUT must be a number of seconds >= 30, got '$limit'"
fi
[[ $mq_queues =~ ^[2-8]$ ]] || die "VM_TEST_MQ_QUEUES must be 2..8, got '$mq_queues'"
[ "$(id -u)" = 0 ] || skip "needs root (tap devices and a bridge in a network namespace)"
command -v qemu-system-x86_64 >/dev/null 2>&1 ||
    skip "qemu-system-x86_64 not installed (Debian: apt-get install --no-install-recommends qemu-system-x86; scripts/install-deps.sh does)"
for t in cpio gzip ip ldd sha256sum timeout; do
    command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
done

# The newest /boot/vmlinuz-VER whose modules include virtio_net.
kernel="" kver=""
for k in $(find /boot -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | sort -rV); do
    v=${k#/boot/vmlinuz-}
    if [ -r "$k" ] && [ -f "/lib/modules/$v/modules.dep" ] &&
        grep -q '/virtio_net\.ko[.a-z]*:' "/lib/modules/$v/modules.dep"; then
        kernel=$k kver=$v
        break
    fi
done
[ -n "$kernel" ] ||
    skip "no /boot/vmlinuz-* with its virtio_net module under /lib/modules (Debian: apt-get install linux-image-amd64; scripts/install-deps.sh does)"
busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
    skip "no static busybox (Debian: apt-get install busybox-static; scripts/install-deps.sh does)"
fi
[ -c /dev/net/tun ] || skip "/dev/net/tun missing (tun module)"
for b in httpd/mvnf-httpd httpd/mvnf-httpd-kernel wget/mvnf-wget wget/mvnf-wget-kernel; do
    [ -x "$bld/apps/$b" ] || die "$bld/apps/$b not built"
done
for f in /bin/bash "$(command -v ethtool || echo /nonexistent)"; do
    [ -x "$f" ] || skip "$f missing (ethtool: apt-get install ethtool)"
done

work=$(mktemp -d /tmp/mvnf-vm.XXXXXX)
ns=mvnfvm$$
qemu_pid=""
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    if [ -n "$qemu_pid" ]; then
        kill -KILL "$qemu_pid" 2>/dev/null || true
        wait "$qemu_pid" 2>/dev/null || true
    fi
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the initramfs ----------------------------------------------------------------
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/sbin,proc,sys,dev,tmp,vm/bin,vm/modules,vm/data}
cp "$busybox" "$root/bin/busybox"
cp /bin/bash "$root/bin/bash"
cp "$(command -v ethtool)" "$root/usr/local/sbin/ethtool"
for b in httpd/mvnf-httpd httpd/mvnf-httpd-kernel wget/mvnf-wget wget/mvnf-wget-kernel; do
    cp "$bld/apps/$b" "$root/vm/bin/"
done
cp "$src/deploy/setup-nic.sh" "$src/tests/vm/guest.sh" "$root/vm/"

# Shared libraries at the paths the dynamic loader looks them up by.
for b in "$root/bin/bash" "$root/usr/local/sbin/ethtool" "$root"/vm/bin/*; do
    ldd "$b" | awk '/=> \//{print $3} /^[[:space:]]*\/[^ ]*ld-linux/{print $1}'
done | sort -u | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done

# Modules: virtio_pci and virtio_net with their dependencies, each after
# what it needs (modules.dep lists a module's dependencies, deepest last).
mods=$work/mods
: >"$mods"
add_mod() {  # PATH relative to /lib/modules/VER
    grep -qxF "$1" "$mods" && return 0
    local deps d
    deps=$(sed -n "s|^$1: *||p" "/lib/modules/$kver/modules.dep")
    for d in $(echo "$deps" | tr ' ' '\n' | tac); do add_mod "$d"; done
    echo "$1" >>"$mods"
}
for m in virtio_pci virtio_net; do
    p=$(grep -o "^[^:]*/$m\.ko[.a-z]*:" "/lib/modules/$kver/modules.dep" | head -n1)
    [ -n "$p" ] || die "$m not in /lib/modules/$kver/modules.dep"
    add_mod "${p%:}"
done
: >"$root/vm/modules.order"
while read -r m; do
    f=$(basename "$m")
    case $f in
        *.ko) cp "/lib/modules/$kver/$m" "$root/vm/modules/$f" ;;
        *.ko.xz) xz -dc "/lib/modules/$kver/$m" >"$root/vm/modules/${f%.xz}"; f=${f%.xz} ;;
        *.ko.zst) zstd -qdc "/lib/modules/$kver/$m" >"$root/vm/modules/${f%.zst}"; f=${f%.zst} ;;
        *) die "module $m: unknown compression" ;;
    esac
    echo "$f" >>"$root/vm/modules.order"
done <"$mods"

# The 1 MiB file: its hash is taken here, by coreutils, and compared in the
# guest with what the download produced (busybox's sha256sum).
head -c 1048576 /dev/urandom >"$root/vm/data/big.bin"
sha256sum "$root/vm/data/big.bin" | cut -d' ' -f1 >"$root/vm/data/big.sha256"

cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
exec /bin/bash /vm/guest.sh </dev/console >/dev/console 2>&1
EOF
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"
echo "vm_test: kernel $kernel, initramfs $(($(stat -c %s "$work/initrd.gz") / 1024)) KiB ($(wc -l <"$root/vm/modules.order") modules)"

# ---- the network: three taps on a bridge, in a namespace of our own --------------
ip netns add "$ns" 2>/dev/null || skip "cannot create a network namespace"
ip -n "$ns" link add br0 type bridge
ip -n "$ns" link set br0 up
ip -n "$ns" tuntap add dev tsq mode tap
ip -n "$ns" tuntap add dev tmq mode tap multi_queue
ip -n "$ns" tuntap add dev tk mode tap
for t in tsq tmq tk; do
    ip -n "$ns" link set "$t" master br0
    ip -n "$ns" link set "$t" up
done

# ---- boot --------------------------------------------------------------------------
accel=tcg cpu=max
if [ -w /dev/kvm ]; then accel=kvm cpu=host; fi
echo "vm_test: booting ($accel, 2 vCPUs, 1 GiB; at most $limit s)"
start=$(date +%s)
console=$work/console.log
# tmq: 4 queue pairs by default, two for the stack's cores and two for
# virtio_net's XDP transmit queues (one per vCPU), so XDP needs no locked
# TX mode; vectors = 2 x queues + 2 (one per virtqueue, config, control).
# romfile=: no option ROM (nothing boots from the network), so QEMU needs
# no ipxe firmware.
ip netns exec "$ns" timeout -k 5 "$limit" qemu-system-x86_64 \
    -accel "$accel" -cpu "$cpu" -smp 2 -m 1024 -nodefaults -no-user-config \
    -display none -serial "file:$console" -no-reboot \
    -kernel "$kernel" -initrd "$work/initrd.gz" \
    -append "console=ttyS0 panic=-1 loglevel=4 quiet" \
    -netdev tap,id=nsq,ifname=tsq,script=no,downscript=no \
    -device virtio-net-pci,netdev=nsq,mac=52:54:00:31:00:01,romfile= \
    -netdev tap,id=nmq,ifname=tmq,script=no,downscript=no,queues="$mq_queues" \
    -device virtio-net-pci,netdev=nmq,mac=52:54:00:31:00:02,mq=on,vectors=$((2 * mq_queues + 2)),rss=on,romfile= \
    -netdev tap,id=nk,ifname=tk,script=no,downscript=no \
    -device virtio-net-pci,netdev=nk,mac=52:54:00:31:00:03,romfile= \
    >"$work/qemu.out" 2>&1 &
qemu_pid=$!
rc=0
wait "$qemu_pid" || rc=$?
qemu_pid=""
secs=$(($(date +%s) - start))

grep -a '^VMTEST' "$console" | tr -d '\r' || true
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "vm_test: FAIL: the guest did not finish within $limit s; the console's end:"
    tail -n 30 "$console" | tr -d '\r'
    exit 1
fi
if [ "$rc" != 0 ]; then
    echo "vm_test: FAIL: qemu exited $rc:"
    cat "$work/qemu.out"
    tail -n 30 "$console" | tr -d '\r'
    exit 1
fi
steps=$(grep -a -c '^VMTEST STEP' "$console" || true)
bad=$(grep -a -c '^VMTEST STEP [^ ]* FAIL' "$console" || true)
if grep -a -q '^VMTEST PASS' "$console" && [ "$bad" = 0 ] && [ "$steps" = 13 ]; then
    echo "vm_test: PASS: $steps steps in the guest, $secs s ($accel)"
    exit 0
fi
echo "vm_test: FAIL: $bad of $steps steps failed (or no final line), $secs s; the console's end:"
grep -a -v '^VMTEST' "$console" | tail -n 30 | tr -d '\r'
exit 1
