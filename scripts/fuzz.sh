#!/usr/bin/env bash
# Builds the libFuzzer targets with clang under ASan+UBSan (build-fuzz) and
# runs each for a bounded time on a copy of its checked-in seed corpus.
# Exits non-zero when any target crashes; crash files land in build-fuzz/crashes/.
#   FUZZ_SECONDS=60 (per target)  FUZZ_TARGETS="fuzz_ingress fuzz_stateful fuzz_config"
#   FUZZ_JOBS=2 (ninja -j)        FUZZ_BUILD=build-fuzz
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-"fuzz_ingress fuzz_stateful fuzz_config"}
build=${FUZZ_BUILD:-build-fuzz}
jobs=${FUZZ_JOBS:-2}

if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMVNF_SANITIZE=ON -DMVNF_WERROR=OFF -DMVNF_BUILD_TESTS=OFF \
    -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link >/dev/null
fi
# shellcheck disable=SC2086
ninja -C "$build" -j"$jobs" $targets

mkdir -p "$build/crashes" "$build/logs"
status=0
for t in $targets; do
  work="$build/corpus/$t"
  mkdir -p "$work"
  cp -n fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
  dict=()
  [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
  log="$build/logs/$t.log"
  echo "== $t for ${secs}s"
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     "$build/fuzz/$t" "$work" fuzz/corpus/"$t" "${dict[@]}" -max_total_time="$secs" -rss_limit_mb=2048 \
       -timeout=10 -print_final_stats=1 -artifact_prefix="$build/crashes/$t-" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^#[0-9]+ +DONE' "$log" | tail -2 || true
  else
    echo "!! $t failed; see $log and $build/crashes/"
    grep -E 'ERROR|invariant failed|runtime error|SUMMARY' "$log" | head -5 || true
    status=1
  fi
done
exit $status
