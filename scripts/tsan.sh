#!/usr/bin/env bash
# Builds build-tsan (-DMVNF_TSAN=ON) and runs the threaded tests under
# ThreadSanitizer: dist (dispatcher threads, pipes, TX hand-off, shm across a
# fork), the shm backend and its rings, the ARP table's concurrent writers,
# the pcap wrapper, the port drops the sw dispatcher publishes, and the C API
# in both thread modes (run-to-completion with sw-dispatcher threads and stats readers on other threads; thread
# mode's stack thread and call forwarding; the stat_http thread). Only the
# targets those tests need are built, so it stays within a few minutes on 2
# cores. Exits non-zero on any TSan report. scripts/test.sh runs it.
#   scripts/tsan.sh [extra gtest args]      (MVNF_JOBS=N to change -j, default 2;
#                                            MVNF_TSAN_DIR=DIR, default build-tsan)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${MVNF_JOBS:-2}
dir=${MVNF_TSAN_DIR:-build-tsan}
tests=(dist_engine_test dist_shm_test dist_steer_test dist_rss_ports_test
       netio_shm_test netio_shm_ring_test arp_test netio_pcap_test api_port_drops_test)
# The C API tests run twice: run-to-completion, then thread_mode = thread
# (MTCP_TEST_THREAD_MODE=1, as ctest's .thread_mode variants do).
api_tests=(api_tcp_test api_epoll_udp_test api_dist_sw_test api_stats_test)

if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMVNF_TSAN=ON >/dev/null
fi
ninja -C "$dir" -j"$jobs" "${tests[@]}" "${api_tests[@]}"

# halt_on_error: the first report fails the binary (exit 66). die_after_fork=0:
# the API tests fork their peer process, which then starts its own threads.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 die_after_fork=0 ${TSAN_OPTIONS:-}"
fail=0
run() {  # run NAME LOG [VAR=value...]: one test binary, its log, its environment
  local t=$1 log=$2; shift 2
  local bin
  bin=$(find "$dir/tests" -type f -name "$t" -perm -u+x | head -1)
  local start
  start=$(date +%s)
  # shellcheck disable=SC2086  # gtest_args: the script's own arguments, split on purpose
  if timeout 300 env "$@" "$bin" --gtest_brief=1 $gtest_args >"$log" 2>&1; then
    echo "tsan: $(basename "$log" .tsan.log) ok ($(( $(date +%s) - start )) s)"
  else
    echo "tsan: $(basename "$log" .tsan.log) FAILED, see $log"; fail=1
    grep -m1 -A30 "WARNING: ThreadSanitizer" "$log" || tail -30 "$log"
  fi
}
gtest_args="$*"
for t in "${tests[@]}"; do run "$t" "$dir/$t.tsan.log" MTCP_TEST_THREAD_MODE=0; done
for t in "${api_tests[@]}"; do
  run "$t" "$dir/$t.tsan.log" MTCP_TEST_THREAD_MODE=0
  run "$t" "$dir/$t.thread_mode.tsan.log" MTCP_TEST_THREAD_MODE=1
done
[ "$fail" = 0 ] && echo "tsan: clean"
exit "$fail"
