#!/usr/bin/env bash
# ctest packetdrill_suite: builds upstream packetdrill from ../shared (cached
# in the build dir), then runs google's TCP suite and the project's own
# scripts against libmvnf-packetdrill.so. Fails if a script on
# pass-list.txt or any script under scripts/ fails; skips (77) without root
# or without the packetdrill source.
#   run_suite.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
src=$1
build=$2
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: packetdrill needs root (network namespaces, mlockall)"
  exit 77
fi
pd=$(bash "$src/scripts/packetdrill-build.sh" "$build")
rc=$?
if [ $rc = 2 ]; then
  echo "SKIP: packetdrill cannot be built here (see above)"
  exit 77
fi
[ $rc = 0 ] || exit 1
exec python3 "$src/scripts/packetdrill-run.py" --build "$build" --packetdrill "$pd" -j2 \
  --pass-list "$src/tests/packetdrill/pass-list.txt" \
  --require-pass "$src/tests/packetdrill/scripts"
