#!/usr/bin/env bash
# Builds the libFuzzer targets with clang under ASan+UBSan (build-fuzz) and
# runs each for a bounded time on a copy of its checked-in seed corpus,
# FUZZ_PARALLEL targets at a time. Exits non-zero when any target crashes
# (or leaks, or times out on an input); crash files land in
# build-fuzz/crashes/. Each target's line in the log gives its executions,
# exec/s and coverage (cov/ft) from -print_final_stats. scripts/test.sh (CI)
# calls it.
#
#   scripts/fuzz.sh                 every target for FUZZ_SECONDS (default 60)
#   scripts/fuzz.sh --minutes N     a campaign: every target for N minutes,
#                                   then the inputs that add coverage are
#                                   merged into fuzz/corpus/<target>
#                                   (libFuzzer -merge=1), and a table of the
#                                   results is written to build-fuzz/campaign.md
# Environment:
#   FUZZ_SECONDS=60 (per target)  FUZZ_TARGETS="fuzz_ingress ..." (default: all)
#   FUZZ_JOBS=2 (ninja -j)        FUZZ_BUILD=build-fuzz
#   FUZZ_PARALLEL=2 (targets run at once; each still gets its whole time)
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=""
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) minutes=${2:?--minutes needs a number}; shift 2 ;;
    --minutes=*) minutes=${1#--minutes=}; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ -n "$minutes" ]; then
  case $minutes in ''|*[!0-9]*) echo "fuzz.sh: --minutes takes a whole number" >&2; exit 2 ;; esac
  secs=$((minutes * 60))
else
  secs=${FUZZ_SECONDS:-60}
fi
all_targets="fuzz_ingress fuzz_stateful fuzz_reasm fuzz_tcp_options fuzz_arp fuzz_config fuzz_shm_ring"
targets=${FUZZ_TARGETS:-$all_targets}
build=${FUZZ_BUILD:-build-fuzz}
jobs=${FUZZ_JOBS:-2}
parallel=${FUZZ_PARALLEL:-2}

if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found (scripts/install-deps.sh installs clang)" >&2
  exit 1
fi
if [ ! -f "$build/build.ninja" ]; then
  mkdir -p "$build"
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMVNF_SANITIZE=ON -DMVNF_WERROR=OFF -DMVNF_BUILD_TESTS=OFF \
    -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link \
    >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
fi
echo "== building $targets in $build"
# shellcheck disable=SC2086  # the target list, split on purpose
ninja -C "$build" -j"$jobs" $targets >"$build/ninja.log" 2>&1 || { tail -40 "$build/ninja.log"; exit 1; }

mkdir -p "$build/crashes" "$build/logs"

# Runs one target; its exit status is the fuzzer's.
run_target() {
  local t=$1 work="$build/corpus/$1" log="$build/logs/$1.log"
  mkdir -p "$work"
  cp -n fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
  local dict=()
  [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/fuzz/$t" "$work" fuzz/corpus/"$t" "${dict[@]}" -max_total_time="$secs" -rss_limit_mb=2048 \
      -timeout=10 -print_final_stats=1 -artifact_prefix="$build/crashes/$t-" >"$log" 2>&1
}

# Prints a target's result; with --minutes also merges its corpus back and
# adds a row to the campaign table.
report() {
  local t=$1 rc=$2 log="$build/logs/$1.log"
  if [ "$rc" != 0 ]; then
    echo "!! $t failed (exit $rc); see $log and $build/crashes/"
    grep -E 'ERROR|invariant failed|runtime error|SUMMARY|Test unit written' "$log" | head -5 || true
    [ -z "$minutes" ] || printf '| %s | crashed | | | | | see %s |\n' "$t" "$log" >>"$build/campaign.md"
    return
  fi
  local execs rate done_line cov ft
  execs=$(awk '/^stat::number_of_executed_units/ {print $2}' "$log")
  rate=$(awk '/^stat::average_exec_per_sec/ {print $2}' "$log")
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
  cov=$(sed -nE 's/.* cov: ([0-9]+) .*/\1/p' <<<"$done_line")
  ft=$(sed -nE 's/.* ft: ([0-9]+) .*/\1/p' <<<"$done_line")
  echo "== $t: $execs executions in ${secs}s, $rate exec/s, cov $cov ft $ft," \
       "corpus $(find "$build/corpus/$t" -type f | wc -l) inputs, no crash"
  if [ -n "$minutes" ]; then
    local before after
    before=$(find "fuzz/corpus/$t" -type f | wc -l)
    # Keeps what is checked in and adds only inputs that reach new edges
    # (-use_counters=0: hit counts do not count as coverage here, or every
    # loop bound would keep an input and the checked-in corpus would grow by
    # thousands per campaign; the working corpus keeps them all).
    "$build/fuzz/$t" -merge=1 -use_counters=0 "fuzz/corpus/$t" "$build/corpus/$t" \
      >"$build/logs/$t.merge.log" 2>&1 ||
      { echo "!! $t: merge failed, see $build/logs/$t.merge.log"; status=1; }
    after=$(find "fuzz/corpus/$t" -type f | wc -l)
    echo "   merged into fuzz/corpus/$t: $before -> $after inputs"
    printf '| %s | %s | %s | %s | %s | %s | none |\n' "$t" "$execs" "$rate" "$cov" "$ft" \
      "$before → $after" >>"$build/campaign.md"
  fi
}

status=0
if [ -n "$minutes" ]; then
  {
    echo "Campaign at $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src fuzz || echo '+changes'):" \
         "$minutes min per target, $parallel at a time, $(nproc) cores, $(date -u +%F)."
    echo
    echo "| target | executions | exec/s | cov | ft | corpus (checked in) | findings |"
    echo "|---|---|---|---|---|---|---|"
  } >"$build/campaign.md"
fi
pids=() names=()
for t in $targets; do
  run_target "$t" &
  pids+=($!) names+=("$t")
  if [ ${#pids[@]} -ge "$parallel" ]; then
    rc=0; wait "${pids[0]}" || rc=$?
    report "${names[0]}" "$rc"; [ "$rc" = 0 ] || status=1
    pids=("${pids[@]:1}") names=("${names[@]:1}")
  fi
done
for i in "${!pids[@]}"; do
  rc=0; wait "${pids[$i]}" || rc=$?
  report "${names[$i]}" "$rc"; [ "$rc" = 0 ] || status=1
done
[ -z "$minutes" ] || { echo "== campaign table: $build/campaign.md"; cat "$build/campaign.md"; }
exit $status
