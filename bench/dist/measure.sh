#!/usr/bin/env bash
# Per-packet cost of the receive side, sw dispatcher vs hw, as docs/dist.md
# reports it. Two measures:
#   bench/dist/measure.sh instr [BIN] [cases...]
#       instructions per packet under callgrind, lockstep mode: Ir collected
#       only inside core_round + engine::poll_once (receive side) and inside
#       gen_round (generator), for 200k minus 100k frames (cancels set-up).
#       Deterministic; needs valgrind.
#   bench/dist/measure.sh time [BIN] [cases...]
#       ns per packet, timed lockstep on one pinned CPU: receive side
#       (dispatcher round + core rounds, and each apart) and generator; per
#       column the median of RUNS (default 7) runs of 2M frames each, cases
#       interleaved so a burst of load from elsewhere hits them alike.
# BIN defaults to build-dist/bench/dist/dist_bench; cases default to all twelve.
set -euo pipefail
mode=${1:?usage: measure.sh instr|time [BIN] [cases...]}
shift
bin=${1:-build-dist/bench/dist/dist_bench}
[ $# -gt 0 ] && shift
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(hw1 sw1 sw1split hw2 sw2 sw2split hw1-stack sw1-stack sw1split-stack hw2-stack sw2-stack sw2split-stack)
[ -x "$bin" ] || { echo "no $bin (build the dist_bench target)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

collect() {  # collect N toggle... -> Ir collected
    local n=$1
    shift
    valgrind --tool=callgrind "$@" --callgrind-out-file="$tmp/cg.out" "$bin" --count "$n" "$case" \
        >/dev/null 2>"$tmp/log"
    awk '/Collected/ {print $4}' "$tmp/log"
}

case $mode in
instr)
    command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 1; }
    printf '%-14s %14s %14s\n' case "recv instr/pkt" "gen instr/pkt"
    for case in "${cases[@]}"; do
        recv=(--toggle-collect='*core_round*' --toggle-collect='*stack_round*'
              --toggle-collect='mvnf::dist::engine::poll_once*')
        gen=(--toggle-collect='*gen_round*')
        r1=$(collect 100000 "${recv[@]}") r2=$(collect 200000 "${recv[@]}")
        g1=$(collect 100000 "${gen[@]}") g2=$(collect 200000 "${gen[@]}")
        awk -v c="$case" -v r1="$r1" -v r2="$r2" -v g1="$g1" -v g2="$g2" \
            'BEGIN { printf "%-14s %14.1f %14.1f\n", c, (r2 - r1) / 1e5, (g2 - g1) / 1e5 }'
    done
    ;;
time)
    runs=${RUNS:-7}
    for ((i = 0; i < runs; i++)); do
        for case in "${cases[@]}"; do
            "$bin" --time 2000000 "$case" 2>/dev/null | awk -v c="$case" '$1 == c {print c, $2, $3, $4, $5}'
        done
    done >"$tmp/runs"
    printf '%-14s %12s %12s %12s %12s   (median of %d runs; load now: %s)\n' case "recv ns/pkt" \
        "disp ns/pkt" "cores ns/pkt" "gen ns/pkt" "$runs" "$(cut -d' ' -f1-3 /proc/loadavg)"
    for case in "${cases[@]}"; do
        for k in 2 3 4 5; do
            awk -v c="$case" -v k="$k" '$1 == c {print $k}' "$tmp/runs" | sort -g |
                awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
        done | paste -sd' ' | awk -v c="$case" '{printf "%-14s %12.2f %12.2f %12.2f %12.2f\n", c, $1, $2, $3, $4}'
    done
    ;;
*)
    echo "usage: measure.sh instr|time [BIN] [cases...]" >&2
    exit 2
    ;;
esac
