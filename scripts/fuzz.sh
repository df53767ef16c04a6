#!/usr/bin/env bash
# Builds the libFuzzer targets with clang under ASan+UBSan (build-fuzz) and
# runs each for a bounded time on a copy of its checked-in seed corpus.
# Exits non-zero when any target crashes (or leaks, or times out on an input);
# crash files land in build-fuzz/crashes/. scripts/test.sh (CI) calls it.
#   FUZZ_SECONDS=60 (per target)  FUZZ_TARGETS="fuzz_ingress fuzz_stateful fuzz_config"
#   FUZZ_JOBS=2 (ninja -j)        FUZZ_BUILD=build-fuzz
#   FUZZ_PARALLEL=1 (targets run at once; each still gets FUZZ_SECONDS of wall time)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-"fuzz_ingress fuzz_stateful fuzz_config"}
build=${FUZZ_BUILD:-build-fuzz}
jobs=${FUZZ_JOBS:-2}
parallel=${FUZZ_PARALLEL:-1}

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
# shellcheck disable=SC2086
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

report() {
  local t=$1 rc=$2 log="$build/logs/$1.log"
  if [ "$rc" = 0 ]; then
    echo "== $t: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') executions" \
         "in ${secs}s, corpus $(find "$build/corpus/$t" -type f | wc -l) inputs, no crash"
  else
    echo "!! $t failed (exit $rc); see $log and $build/crashes/"
    grep -E 'ERROR|invariant failed|runtime error|SUMMARY|Test unit written' "$log" | head -5 || true
  fi
}

status=0
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
exit $status
