#!/usr/bin/env bash
# Builds upstream packetdrill, unmodified, from ../shared/packetdrill (the
# read-only copy named in its ORIGIN.md) into a scratch folder of the build
# directory, and prints the binary's path. The source is copied, never
# patched; the result is cached: a re-run with an unchanged source only
# prints the path. Google's scripts (gtests/net/tcp, gtests/net/common) are
# copied beside it, with the checkout's symlinks restored (the shared copy
# stores tcp/common/defaults.sh as a file holding the link's target, which
# the scripts could not execute).
#   scripts/packetdrill-build.sh [BUILD_DIR]   (default: build)
# Env: MVNF_PACKETDRILL_SRC overrides the source folder.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bdir=${1:-build}
case $bdir in /*) ;; *) bdir=$root/$bdir ;; esac
src=${MVNF_PACKETDRILL_SRC:-$root/../shared/packetdrill}
if [ ! -d "$src/gtests/net/packetdrill" ]; then
  echo "packetdrill-build: no packetdrill source at $src (see docs/packetdrill.md)" >&2
  exit 2
fi
for tool in bison flex make cc; do
  command -v "$tool" >/dev/null || {
    echo "packetdrill-build: '$tool' is missing (scripts/install-deps.sh installs it)" >&2
    exit 2
  }
done
src=$(cd "$src" && pwd)
work=$bdir/packetdrill-upstream
bin=$work/gtests/net/packetdrill/packetdrill
# The cache key: the tool's sources (names, sizes, times); the scripts are
# read from $src directly, so they do not invalidate the build.
stamp=$( (cd "$src/gtests/net/packetdrill" && find . -type f -printf '%p %s %T@\n' | sort) \
         | sha256sum | cut -d' ' -f1)
if [ -x "$bin" ] && [ "$(cat "$work/.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$bin"
  exit 0
fi
rm -rf "$work"
mkdir -p "$work/gtests/net"
cp -r "$src/gtests/net/packetdrill" "$work/gtests/net/"
log=$work/build.log
(
  cd "$work/gtests/net/packetdrill"
  ./configure
  nice -n 10 make -j"$(nproc)" packetdrill
) >"$log" 2>&1 || {
  tail -n 30 "$log" >&2
  echo "packetdrill-build: build failed (log: $log)" >&2
  exit 1
}
cp -r "$src/gtests/net/tcp" "$src/gtests/net/common" "$work/gtests/net/"
chmod -R u+w "$work/gtests/net"
# A small one-line file naming an existing file next to it was a symlink.
find "$work/gtests/net/tcp" "$work/gtests/net/common" -type f -size -200c | while read -r f; do
  t=$(head -c 200 "$f")
  case $t in *$'\n'* | '' | /*) continue ;; esac
  if [ -f "$(dirname "$f")/$t" ]; then ln -sfn "$t" "$f"; fi
done
echo "$stamp" >"$work/.stamp"
echo "$bin"
