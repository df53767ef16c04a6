#!/usr/bin/env bash
# Configures and builds one build directory: build.sh DIR [cmake args...]
set -euo pipefail
dir=${1:-build}; shift || true
cd "$(dirname "$0")/.."
cmake -S . -B "$dir" -G Ninja "$@" >"$dir.cmake.log" 2>&1 || { cat "$dir.cmake.log"; exit 1; }
rm -f "$dir.cmake.log"
ninja -C "$dir" -j"$(nproc)"
