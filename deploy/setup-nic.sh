#!/usr/bin/env bash
# Configures a multi-queue NIC for mtcp-vnf's `dist_mode = hw` (one NIC queue
# per stack core): queue count, ring sizes, a symmetric RSS key, 4-tuple flow
# hashing for TCP and UDP over IPv4, and receive/segmentation offloads off.
# Every limit is read before the first change, and a NIC that cannot do
# dist_mode = hw (one queue, no settable RSS) is refused untouched; when a
# command fails anyway, the settings already changed are put back.
# Used by hand or from provisioning; tests/deploy/deploy_test.sh checks it
# against a fake ethtool and tests/vm/vm_test.sh runs it on virtio-net vNICs
# in a QEMU guest. See docs/user-manual.md, "A real NIC".
set -euo pipefail

prog=${0##*/}

usage() {
    cat <<EOF
usage: $prog [options] IFACE

Prepares IFACE for mtcp-vnf in dist_mode = hw (afxdp:IFACE or netmap:IFACE
with num_queues = num_cores). Reads the NIC's limits and current settings
with ethtool -l/-g/-x/-n/-k first and refuses, changing nothing, what the NIC
cannot do: a single queue or no settable RSS table means dist_mode = sw.
If a command fails, the settings already changed are restored.

  -q, --queues N      combined queues (channels) to configure; default: the
                      number of online CPUs, capped at the NIC's maximum
  -r, --ring N        RX and TX ring size in descriptors (default 1024, capped
                      at the NIC's maximum); 0 leaves the rings unchanged
      --key-len L     RSS key length in bytes (default: the length the NIC
                      reports with ethtool -x; 40 if it reports none)
      --keep-checksum leave RX/TX checksum offload as it is
  -n, --dry-run       print the commands that would change the NIC, change
                      nothing (root not needed)
  -h, --help          this text

What it runs (IFACE=eth0, 4 queues):
  ethtool -L eth0 combined 4
  ethtool -G eth0 rx 1024 tx 1024
  ethtool -X eth0 hkey 6d:5a:...:6d:5a equal 4       (symmetric Toeplitz key)
  ethtool -N eth0 rx-flow-hash tcp4 sdfn
  ethtool -N eth0 rx-flow-hash udp4 sdfn
  ethtool -K eth0 gro off lro off tso off gso off rx off tx off rxvlan off

Exit status: 0 done, 1 a check or a command failed (the NIC left or put
back as it was), 2 bad usage.
EOF
}

die() {
    echo "$prog: $*" >&2
    exit 1
}
bad_usage() {
    echo "$prog: $*" >&2
    echo "try '$prog --help'" >&2
    exit 2
}
note() { echo "$prog: $*" >&2; }

is_uint() { [[ $1 =~ ^[0-9]+$ ]] && [ ${#1} -le 6 ]; }

iface=""
queues=""
ring=1024
ring_given=0
key_len=""
keep_csum=0
dry_run=0

while [ $# -gt 0 ]; do
    case $1 in
        -h | --help) usage; exit 0 ;;
        -n | --dry-run) dry_run=1 ;;
        --keep-checksum) keep_csum=1 ;;
        -q | --queues | -r | --ring | --key-len)
            [ $# -ge 2 ] || bad_usage "option $1 needs a value"
            is_uint "$2" || bad_usage "option $1: expected a number, got '$2'"
            case $1 in
                -q | --queues) queues=$((10#$2)) ;;
                -r | --ring) ring=$((10#$2)) ring_given=1 ;;
                --key-len) key_len=$((10#$2)) ;;
            esac
            shift ;;
        --queues=* | --ring=* | --key-len=*)
            opt=${1%%=*} val=${1#*=}
            is_uint "$val" || bad_usage "option $opt: expected a number, got '$val'"
            case $opt in
                --queues) queues=$((10#$val)) ;;
                --ring) ring=$((10#$val)) ring_given=1 ;;
                --key-len) key_len=$((10#$val)) ;;
            esac ;;
        --) shift; break ;;
        -*) bad_usage "unknown option '$1'" ;;
        *)
            [ -z "$iface" ] || bad_usage "one interface only (got '$iface' and '$1')"
            iface=$1 ;;
    esac
    shift
done
if [ $# -gt 0 ]; then
    if [ -n "$iface" ] || [ $# -ne 1 ]; then
        bad_usage "one interface only"
    fi
    iface=$1
fi

[ -n "$iface" ] || bad_usage "no interface given"
if [ ${#iface} -gt 15 ] || [[ $iface == *[/[:space:]]* ]] || [ "$iface" = . ] || [ "$iface" = .. ]; then
    bad_usage "'$iface' is not a valid interface name"
fi
if [ -n "$queues" ] && { [ "$queues" -lt 1 ] || [ "$queues" -gt 64 ]; }; then
    bad_usage "--queues must be 1..64 (mtcp-vnf runs at most 64 cores), got $queues"
fi
if [ -n "$key_len" ] && { [ "$key_len" -lt 4 ] || [ "$key_len" -gt 256 ]; }; then
    bad_usage "--key-len must be 4..256 bytes, got $key_len"
fi

command -v ethtool >/dev/null 2>&1 ||
    die "ethtool not found in PATH (Debian: apt-get install ethtool)"
[ -e "/sys/class/net/$iface" ] ||
    die "interface '$iface' does not exist (see 'ip link')"
if [ "$dry_run" = 0 ] && [ "$(id -u)" != 0 ]; then
    die "changing NIC settings needs root (or run with --dry-run to see the commands)"
fi

# ---- read the NIC's limits ---------------------------------------------------

# Prints the value of "FIELD:" in the SECTION ("max": "Pre-set maximums",
# "cur": "Current hardware settings") of the output of `ethtool -l` or `-g`
# given on stdin (empty for n/a).
section_value() {
    local want=$1 field=$2 section="" line key val
    while IFS= read -r line; do
        case $line in
            "Pre-set maximums"*) section=max; continue ;;
            "Current hardware settings"*) section=cur; continue ;;
        esac
        [ "$section" = "$want" ] || continue
        key=${line%%:*}
        val=${line#*:}
        val=${val//[[:space:]]/}
        if [ "$key" = "$field" ] && [[ $val =~ ^[0-9]+$ ]]; then
            echo "$val"
            return 0
        fi
    done
    return 0
}
preset_max() { section_value max "$1"; }
current() { section_value cur "$1"; }

if ! chan=$(ethtool -l "$iface" 2>&1); then
    die "$iface does not report its queues (ethtool -l: ${chan##*$'\n'}); a single-queue device cannot run dist_mode = hw: use dist_mode = sw (see docs/user-manual.md)"
fi
max_combined=$(preset_max Combined <<<"$chan")
max_rx=$(preset_max RX <<<"$chan")
max_tx=$(preset_max TX <<<"$chan")
max_combined=${max_combined:-0} max_rx=${max_rx:-0} max_tx=${max_tx:-0}

# Separate RX/TX channels (some NICs have no combined ones).
split_channels=0
nic_max=$max_combined
if [ "$max_combined" -eq 0 ] && [ "$max_rx" -gt 0 ] && [ "$max_tx" -gt 0 ]; then
    split_channels=1
    nic_max=$((max_rx < max_tx ? max_rx : max_tx))
fi
[ "$nic_max" -gt 0 ] ||
    die "$iface reports no configurable queues in 'ethtool -l'; use dist_mode = sw"
# One queue (a single-queue virtio-net vNIC, most emulated NICs): there is
# nothing to spread over cores, whatever RSS says.
[ "$nic_max" -gt 1 ] ||
    die "$iface has a single queue (ethtool -l); dist_mode = hw needs one per core: use dist_mode = sw (one queue spread over cores by the stack; see docs/user-manual.md, \"Running in a VM\")"
cur_combined=$(current Combined <<<"$chan")
cur_rx=$(current RX <<<"$chan")
cur_tx=$(current TX <<<"$chan")

if [ -z "$queues" ]; then
    cpus=$(nproc)
    queues=$((cpus < nic_max ? cpus : nic_max))
    queues=$((queues > 64 ? 64 : queues))
elif [ "$queues" -gt "$nic_max" ]; then
    die "$iface has at most $nic_max queues (ethtool -l), asked for $queues"
fi

ring_cmd=()
if [ "$ring" -gt 0 ]; then
    if ! rings=$(ethtool -g "$iface" 2>&1); then
        [ "$ring_given" = 0 ] ||
            die "$iface does not report its ring sizes (ethtool -g: ${rings##*$'\n'}); pass --ring 0 to leave them unchanged"
        note "$iface does not report its ring sizes (ethtool -g); rings left unchanged"
        ring=0
    fi
fi
if [ "$ring" -gt 0 ]; then
    max_rx_ring=$(preset_max RX <<<"$rings")
    max_tx_ring=$(preset_max TX <<<"$rings")
    if [ -z "$max_rx_ring" ] || [ -z "$max_tx_ring" ]; then
        die "cannot read the maximum ring sizes of $iface from 'ethtool -g'; pass --ring 0"
    fi
    cur_rx_ring=$(current RX <<<"$rings")
    cur_tx_ring=$(current TX <<<"$rings")
    rx_ring=$ring tx_ring=$ring
    if [ "$ring" -gt "$max_rx_ring" ] || [ "$ring" -gt "$max_tx_ring" ]; then
        if [ "$ring_given" = 1 ]; then
            die "$iface rings hold at most rx $max_rx_ring / tx $max_tx_ring descriptors (ethtool -g), asked for $ring"
        fi
        rx_ring=$((ring < max_rx_ring ? ring : max_rx_ring))
        tx_ring=$((ring < max_tx_ring ? ring : max_tx_ring))
        note "default ring size 1024 capped at the NIC's maximum (rx $rx_ring, tx $tx_ring)"
    fi
    ring_cmd=(ethtool -G "$iface" rx "$rx_ring" tx "$tx_ring")
fi

if ! rss=$(ethtool -x "$iface" 2>&1); then
    die "$iface does not expose its RSS table (ethtool -x: ${rss##*$'\n'}); it cannot spread flows symmetrically: use dist_mode = sw"
fi
# The key is printed as colon-separated hex bytes on the line(s) after
# "RSS hash key:"; count them to learn the length the NIC wants.
# Some drivers answer `ethtool -x` with exit status 0 and print "Operation
# not supported" in place of the table or the key (virtio_net without the
# RSS feature does): that is no settable RSS either.
nic_key_len=0
old_key=""
toeplitz_state=""
in_key=0
have_table=0
unsupported=""
while IFS= read -r line; do
    case $line in
        "RX flow hash indirection table"*) have_table=1; continue ;;
        "RSS hash key:"*) in_key=1; continue ;;
        "RSS hash function:"*) in_key=0; continue ;;
        *[Nn]"ot supported"*) unsupported=$line; continue ;;
    esac
    if [ "$in_key" = 1 ]; then
        compact=${line//[[:space:]]/}
        if [[ $compact =~ ^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2})*:?$ ]]; then
            old_key+=${old_key:+:}${compact%:}
            colons=${compact//[^:]/}
            nic_key_len=$((nic_key_len + ${#colons} + 1))
            [[ $compact == *: ]] && nic_key_len=$((nic_key_len - 1))
        else
            in_key=0
        fi
    fi
    if [[ $line =~ ^[[:space:]]*toeplitz:[[:space:]]*(on|off) ]]; then
        toeplitz_state=${BASH_REMATCH[1]}
    fi
done <<<"$rss"
if [ -n "$unsupported" ] || [ "$have_table" = 0 ]; then
    die "$iface has no settable RSS table (ethtool -x: ${unsupported:-no indirection table}); it cannot spread flows symmetrically over queues: use dist_mode = sw (a virtio-net vNIC needs rss=\"on\" for hw mode; see docs/user-manual.md, \"Running in a VM\")"
fi
if [ -z "$key_len" ]; then
    key_len=$nic_key_len
    if [ "$key_len" -eq 0 ]; then
        key_len=40
        note "$iface does not print its RSS key length; using 40 bytes (pass --key-len 52 for NICs such as i40e)"
    fi
elif [ "$nic_key_len" -gt 0 ] && [ "$key_len" -ne "$nic_key_len" ]; then
    die "$iface uses a $nic_key_len-byte RSS key (ethtool -x), --key-len asked for $key_len"
fi

# 0x6d5a repeated: a key with a 16-bit period makes Toeplitz symmetric, so
# both directions of a connection land on the same queue (docs/netio/rss.md).
key=""
for ((i = 0; i < key_len; i++)); do
    if ((i % 2 == 0)); then byte=6d; else byte=5a; fi
    key+=${key:+:}$byte
done

# ---- offloads -----------------------------------------------------------------

# ethtool -K short name : the feature's name in `ethtool -k`.
features=(gro:generic-receive-offload lro:large-receive-offload
          tso:tcp-segmentation-offload gso:generic-segmentation-offload
          rxvlan:rx-vlan-offload)
if [ "$keep_csum" = 0 ]; then
    features+=(rx:rx-checksumming tx:tx-checksumming)
fi
if ! feats=$(ethtool -k "$iface" 2>&1); then
    die "cannot read the offloads of $iface (ethtool -k: ${feats##*$'\n'})"
fi
offload_args=()
for f in "${features[@]}"; do
    short=${f%%:*} long=${f#*:}
    state=""
    while IFS= read -r line; do
        if [[ $line =~ ^[[:space:]]*${long}:[[:space:]]*(on|off)(.*)$ ]]; then
            state=${BASH_REMATCH[1]}
            [[ ${BASH_REMATCH[2]} == *fixed* ]] && state="$state-fixed"
            break
        fi
    done <<<"$feats"
    case $state in
        on) offload_args+=("$short" off) ;;
        on-fixed) note "$long is on and fixed on $iface: cannot turn it off" ;;
        "") note "$iface does not list $long; skipped" ;;
        *) ;;  # already off
    esac
done

# ---- what each change undoes ------------------------------------------------------

# The fields `ethtool -n IF rx-flow-hash FLOW` lists, as the letters
# `ethtool -N` takes; empty when the NIC does not say (that change then
# cannot be undone, which is reported if it comes to it).
flow_hash_letters() {
    local out line letters=""
    out=$(ethtool -n "$iface" rx-flow-hash "$1" 2>/dev/null) || return 0
    while IFS= read -r line; do
        case $line in
            L2DA*) letters+=m ;;
            "VLAN tag"*) letters+=v ;;
            "L3 proto"*) letters+=t ;;
            "IP SA"*) letters+=s ;;
            "IP DA"*) letters+=d ;;
            "L4 bytes 0 & 1"*) letters+=f ;;
            "L4 bytes 2 & 3"*) letters+=n ;;
        esac
    done <<<"$out"
    echo "$letters"
}

# ---- the commands ---------------------------------------------------------------

# cmds[i] changes the NIC; undo[i] puts back what it changed ("" when the
# previous setting is unknown).
# Order matters: -X comes after -L because changing the queue count makes
# virtio_net send the device a queue-pair command, on which QEMU's
# virtio-net turns RSS off; the key set afterwards turns it back on.
cmds=()
undo=()
add() {  # UNDO COMMAND...
    local u=$1 IFS=' '
    shift
    cmds+=("$*")
    undo+=("$u")
}
if [ "$split_channels" = 1 ]; then
    u=""
    [ -z "$cur_rx" ] || [ -z "$cur_tx" ] || u="ethtool -L $iface rx $cur_rx tx $cur_tx"
    add "$u" ethtool -L "$iface" rx "$queues" tx "$queues"
else
    add "${cur_combined:+ethtool -L $iface combined $cur_combined}" ethtool -L "$iface" combined "$queues"
fi
if [ ${#ring_cmd[@]} -gt 0 ]; then
    u=""
    [ -z "$cur_rx_ring" ] || [ -z "$cur_tx_ring" ] || u="ethtool -G $iface rx $cur_rx_ring tx $cur_tx_ring"
    add "$u" "${ring_cmd[@]}"
fi
# The old key goes back with the default (even) indirection table.
rss_undo="ethtool -X $iface ${old_key:+hkey $old_key }default"
if [ "$toeplitz_state" = off ]; then
    add "$rss_undo" ethtool -X "$iface" hfunc toeplitz hkey "$key" equal "$queues"
else
    add "$rss_undo" ethtool -X "$iface" hkey "$key" equal "$queues"
fi
for flow in tcp4 udp4; do
    old=$(flow_hash_letters "$flow")
    add "${old:+ethtool -N $iface rx-flow-hash $flow $old}" ethtool -N "$iface" rx-flow-hash "$flow" sdfn
done
if [ ${#offload_args[@]} -gt 0 ]; then
    on_args=()
    for ((i = 0; i < ${#offload_args[@]}; i += 2)); do on_args+=("${offload_args[i]}" on); done
    add "ethtool -K $iface ${on_args[*]}" ethtool -K "$iface" "${offload_args[@]}"
fi

if [ "$dry_run" = 1 ]; then
    printf '%s\n' "${cmds[@]}"
    note "dry run: nothing changed; then set dist_mode = hw, num_cores = $queues (or fewer) in mtcp.conf"
    exit 0
fi

# Puts back, newest first, what commands 0..$1-1 changed.
roll_back() {
    local n=$1 i failed=0 argv
    for ((i = n - 1; i >= 0; i--)); do
        if [ -z "${undo[i]}" ]; then
            note "cannot restore after '${cmds[i]}': the previous setting was not readable"
            failed=1
            continue
        fi
        note "restoring: ${undo[i]}"
        read -r -a argv <<<"${undo[i]}"
        if ! out=$("${argv[@]}" 2>&1); then
            note "restore failed: ${undo[i]}: ${out##*$'\n'}"
            failed=1
        fi
    done
    return "$failed"
}

for ((c = 0; c < ${#cmds[@]}; c++)); do
    echo "+ ${cmds[c]}"
    read -r -a argv <<<"${cmds[c]}"
    if ! out=$("${argv[@]}" 2>&1); then
        [ -z "$out" ] || echo "$out" >&2
        if [ "$c" -eq 0 ]; then
            die "failed: ${cmds[c]} (nothing was changed)"
        elif roll_back "$c"; then
            die "failed: ${cmds[c]} (the earlier changes were undone; the NIC is as it was)"
        else
            die "failed: ${cmds[c]} (and not every earlier change could be undone: check 'ethtool -l/-g/-x/-k $iface')"
        fi
    fi
    [ -z "$out" ] || echo "$out"
done
note "$iface ready: $queues queues, symmetric RSS; set dist_mode = hw, num_cores = $queues (or fewer) in mtcp.conf"
