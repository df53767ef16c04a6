#!/usr/bin/env bash
# Installs what is needed, builds, and runs the whole test suite: once in a
# RelWithDebInfo build and once under ASan+UBSan, then each fuzz target for a
# bounded time. Tests that need root or kernel features skip themselves with
# a message when those are missing.
# MVNF_BUILD_DIR=DIR (default build) names the build directories: DIR,
# DIR-asan and DIR-fuzz, so a second checkout user can run CI beside the first.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each phase prints when it starts (seconds since this script started), so a
# CI log shows where its time goes.
phase() { echo "== [${SECONDS}s] $*"; }
phase "installing dependencies"
bash scripts/install-deps.sh
jobs=$(nproc)
b=${MVNF_BUILD_DIR:-build}

phase "plain build (RelWithDebInfo)"
bash scripts/build.sh "$b" -DCMAKE_BUILD_TYPE=RelWithDebInfo
# The real packetdrill, built from ../shared/packetdrill (cached in the build
# dir); the plain ctest's packetdrill_suite runs it (root only).
phase "packetdrill build"
bash scripts/packetdrill-build.sh "$b" || echo "packetdrill not built (see above): packetdrill_suite will say why"
phase "plain ctest"
(cd "$b" && ctest --output-on-failure -j"$jobs" --timeout 300)

if [ "${MVNF_SKIP_ASAN:-0}" != 1 ]; then
  phase "ASan+UBSan build"
  bash scripts/build.sh "$b-asan" -DCMAKE_BUILD_TYPE=Debug -DMVNF_SANITIZE=ON
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  phase "ASan+UBSan ctest"
  (cd "$b-asan" && ctest --output-on-failure -j"$jobs" --timeout 600 -LE no_asan)
fi
# ThreadSanitizer over the threaded tests only (label tsan: dist, shm, ARP
# table, pcap, and the C API in both thread modes), in <build>-tsan with only
# their targets built. MVNF_SKIP_TSAN=1 skips.
if [ "${MVNF_SKIP_TSAN:-0}" != 1 ]; then
  phase "ThreadSanitizer (threaded tests)"
  MVNF_TSAN_DIR="$b-tsan" MVNF_JOBS=$jobs bash scripts/tsan.sh
fi
# libFuzzer targets (fuzz/) built with clang under ASan+UBSan, each run for a
# bounded time on its seed corpus; a crash fails CI (reproducer in
# <build>-fuzz/crashes/). Every target runs, two at a time (30 s of wall
# time each: 2 minutes for the seven, plus building them), and the log gives
# each one's exec/s and coverage. MVNF_SKIP_FUZZ=1 skips, MVNF_FUZZ_SECONDS
# sets the time.
if [ "${MVNF_SKIP_FUZZ:-0}" != 1 ]; then
  phase "fuzzers"
  FUZZ_SECONDS=${MVNF_FUZZ_SECONDS:-30} FUZZ_JOBS=$jobs FUZZ_PARALLEL=2 FUZZ_BUILD="$b-fuzz" \
    bash scripts/fuzz.sh
fi
echo "all test suites passed (${SECONDS}s)"
