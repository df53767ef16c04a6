#!/usr/bin/env bash
# Builds build-tsan (-DMVNF_TSAN=ON) and runs the threaded tests under
# ThreadSanitizer: dist (dispatcher threads, pipes, TX hand-off, shm across a
# fork), the shm backend and its rings, the ARP table's concurrent writers and
# the pcap wrapper. Only the targets those tests need are built, so it stays
# within a few minutes on 2 cores. Exits non-zero on any TSan report.
#   scripts/tsan.sh [extra gtest args]      (MVNF_JOBS=N to change -j, default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${MVNF_JOBS:-2}
dir=build-tsan
tests=(dist_engine_test dist_shm_test dist_steer_test dist_rss_ports_test
       netio_shm_test netio_shm_ring_test arp_test netio_pcap_test)

if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMVNF_TSAN=ON >/dev/null
fi
ninja -C "$dir" -j"$jobs" "${tests[@]}"

# halt_on_error: the first report fails the binary (exit 66).
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
fail=0
for t in "${tests[@]}"; do
  bin=$(find "$dir/tests" -type f -name "$t" -perm -u+x | head -1)
  start=$(date +%s)
  if timeout 300 "$bin" --gtest_brief=1 "$@" >"$dir/$t.tsan.log" 2>&1; then
    echo "tsan: $t ok ($(( $(date +%s) - start )) s)"
  else
    echo "tsan: $t FAILED, see $dir/$t.tsan.log"; fail=1
    grep -m1 -A30 "WARNING: ThreadSanitizer" "$dir/$t.tsan.log" || tail -30 "$dir/$t.tsan.log"
  fi
done
[ "$fail" = 0 ] && echo "tsan: clean"
exit "$fail"
