#!/usr/bin/env bash
# Runs benchmarks/runtime/held_at_fork.c (a child that hangs on a mutex another thread
# held at fork) under ThreadSanitizer, Helgrind, DRD and forkguard run, and prints
# whether each reported anything.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
source="$root/benchmarks/runtime/held_at_fork.c"
cc -g -pthread -o "$work/plain" "$source"
cc -g -pthread -fsanitize=thread -o "$work/tsan" "$source" 2>/dev/null || echo "no ThreadSanitizer runtime"
report() {
  local name="$1" output="$2" pattern="$3"
  if grep -qE "$pattern" "$output"; then echo "$name: reported it"; else echo "$name: silent"; fi
  grep -h "^child" "$output" | head -1 | sed "s/^/  program says: /"
}
[ -x "$work/tsan" ] && { timeout 120 "$work/tsan" >"$work/tsan.out" 2>&1; report "ThreadSanitizer" "$work/tsan.out" "WARNING: ThreadSanitizer"; }
if command -v valgrind >/dev/null; then
  timeout 300 valgrind --tool=helgrind "$work/plain" >"$work/helgrind.out" 2>&1
  report "Helgrind" "$work/helgrind.out" "ERROR SUMMARY: [1-9]"
  timeout 300 valgrind --tool=drd "$work/plain" >"$work/drd.out" 2>&1
  report "DRD" "$work/drd.out" "ERROR SUMMARY: [1-9]"
fi
(cd "$root" && swift build -q --product forkguard)
"$root/.build/debug/forkguard" run -- "$work/plain" >"$work/forkguard.out" 2>&1
report "forkguard run" "$work/forkguard.out" "runtime-child-deadlock"
