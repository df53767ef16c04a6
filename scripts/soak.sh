#!/usr/bin/env bash
# Soak: mixed short and long echo connections between two stack processes,
# through mvnf-rob-bridge dropping a fraction of the IPv4 frames each way,
# for M minutes. Fails on any connection error, on server connections not
# back to their start, or on RSS growing over the second half of the run.
# Needs no root (shm links). CI runs a 40 s version: ctest -R robustness_procs_soak.
#   scripts/soak.sh [--minutes M | --seconds S] [--loss P] [--build DIR] [--report FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=600
loss=0.01
build=build
report=
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) secs=$(awk -v m="${2:?--minutes needs a value}" 'BEGIN { print m * 60 }'); shift 2 ;;
    --seconds) secs=${2:?--seconds needs a value}; shift 2 ;;
    --loss) loss=${2:?--loss needs a value}; shift 2 ;;
    --build) build=${2:?--build needs a value}; shift 2 ;;
    --report) report=${2:?--report needs a value}; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ ! -f "$build/build.ninja" ]; then
  echo "soak.sh: $build is not configured; run: bash scripts/build.sh $build" >&2
  exit 2
fi
ninja -C "$build" mvnf-rob-server mvnf-rob-client mvnf-rob-bridge >/dev/null
args=("$build/tests/robustness/procs" soak --seconds "$secs" --loss "$loss")
[ -n "$report" ] && args+=(--report "$report")
echo "soak: ${secs}s, loss $loss per IPv4 frame each way, binaries from $build"
exec python3 tests/robustness/procs/procs_test.py "${args[@]}"
