#!/usr/bin/env bash
# Runs fixtures/stress/hot-mutex.c (a mutex locked and unlocked in a loop by one thread
# while the main thread forks; each child takes it once) without forkguard and under
# libforkguard-preload.so with on_deadlock=edeadlk, and prints how many children took the
# lock, were stopped by forkguard, or hung. With BASELINE_PRELOAD=path also under that
# library (an older build), for a before/after table. Exits 1 if any child hung under the
# library being measured.
#
#   scripts/hot-mutex.sh [FORKS]          (default 300; a hung child costs a second)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
library="${FORKGUARD_PRELOAD_LIBRARY:-$root/.build/preload/libforkguard-preload.so}"
[ -f "$library" ] || "$root/scripts/build-preload.sh"
forks="${1:-300}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cc -g -O2 -pthread -o "$work/hot-mutex" "$root/fixtures/stress/hot-mutex.c"
echo "without forkguard: $("$work/hot-mutex" "$forks")"
if [ -n "${BASELINE_PRELOAD:-}" ]; then
  echo "baseline library:  $(LD_PRELOAD="$BASELINE_PRELOAD" FORKGUARD_OPTIONS="on_deadlock=edeadlk:log_path=$work/baseline" "$work/hot-mutex" "$forks")"
fi
line="$(LD_PRELOAD="$library" FORKGUARD_OPTIONS="on_deadlock=edeadlk:log_path=$work/new" "$work/hot-mutex" "$forks")"
echo "this library:      $line"
case "$line" in *", hung 0,"*) exit 0 ;; *) exit 1 ;; esac
