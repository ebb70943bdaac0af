#!/usr/bin/env bash
# The preload library on aarch64 (issue 15): cross-built with Debian's gcc-aarch64-linux-gnu
# and run under qemu-user, every C runtime fixture must report what it reports on this
# machine (x86_64), with the same exit status as its `expected-exit-status` (default 0).
#
#   scripts/check-aarch64.sh [FIXTURE.c ...]      (default: every C runtime fixture)
#
# Compared per fixture: the reports' rule, operation and lock kind, in order. Installs the
# cross compiler and qemu-user-static when they are missing (Debian 12).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${TMPDIR:-/tmp}/forkguard-aarch64"
mkdir -p "$work"

if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64-static >/dev/null; then
  echo "check-aarch64: installing gcc-aarch64-linux-gnu and qemu-user-static" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-aarch64-linux-gnu qemu-user-static >/dev/null
fi

CC=aarch64-linux-gnu-gcc "$root/scripts/build-preload.sh" "$work/arm64" 2>/dev/null
"$root/scripts/build-preload.sh" "$work/native" 2>/dev/null
arm_library="$work/arm64/libforkguard-preload.so"
native_library="$work/native/libforkguard-preload.so"

if [ "$#" -gt 0 ]; then fixtures=("$@"); else
  mapfile -t fixtures < <(ls "$root"/fixtures/runtime-*/*.c "$root"/fixtures/runtime/*.c | sort)
fi

# options FIXTURE: FORKGUARD_OPTIONS from its `forkguard-run-options:` line.
options() {
  local words settings=()
  words=$(sed -n 's/.*forkguard-run-options: *//p' "$1" | head -n 1)
  set -- $words
  while [ "$#" -gt 0 ]; do
    case "$1" in
      --track) settings+=(mode=track) ;;
      --unsafe-calls) settings+=(unsafe_calls=1) ;;
      --on-deadlock) settings+=("on_deadlock=$2"); shift ;;
    esac
    shift
  done
  local IFS=:
  echo "${settings[*]-}"
}

# reports LOG: one line per report, "rule operation kind".
reports() {
  awk '/ fg1 begin rule=/ { sub(/.*rule=/, ""); rule = $0; operation = "-"; kind = "-" }
       / fg1 field operation=/ { sub(/.*operation=/, ""); operation = $0 }
       / fg1 field kind=/ { sub(/.*kind=/, ""); kind = $0 }
       / fg1 end$/ { print rule, operation, kind }' "$1"
}

failures=0
printf '%-58s %-8s %-8s %s\n' fixture status reports result
for fixture in "${fixtures[@]}"; do
  name="$(basename "$(dirname "$fixture")")/$(basename "$fixture" .c)"
  binary="$work/$(echo "$name" | tr / -)"
  expected=$(sed -n 's/.*expected-exit-status: *\([0-9]*\).*/\1/p' "$fixture" | head -n 1)
  expected=${expected:-0}
  cc -w -g -O0 -pthread -o "$binary-native" "$fixture"
  aarch64-linux-gnu-gcc -w -g -O0 -pthread -o "$binary-arm64" "$fixture"
  settings=$(options "$fixture")
  set +e
  FORKGUARD_OPTIONS="$settings" LD_PRELOAD="$native_library" timeout 120 "$binary-native" \
    >/dev/null 2>"$binary-native.log"
  native_status=$?
  FORKGUARD_OPTIONS="$settings" timeout 300 qemu-aarch64-static -L /usr/aarch64-linux-gnu \
    -E LD_PRELOAD="$arm_library" "$binary-arm64" >/dev/null 2>"$binary-arm64.log"
  arm_status=$?
  set -e
  native_reports=$(reports "$binary-native.log")
  arm_reports=$(reports "$binary-arm64.log")
  # qemu reports a guest killed by a signal with its own status; compare the shell's 128+N.
  result=same
  if [ "$arm_status" != "$expected" ] || [ "$native_status" != "$expected" ]; then result="status (want $expected)"; fi
  if [ "$native_reports" != "$arm_reports" ]; then result="reports differ"; fi
  [ "$result" = same ] || failures=$((failures + 1))
  printf '%-58s %-8s %-8s %s\n' "$name" "$arm_status" "$(printf '%s' "$arm_reports" | grep -c . || true)" "$result"
  if [ "$result" != same ]; then
    echo "  x86_64 ($native_status):"; printf '%s\n' "$native_reports" | sed 's/^/    /'
    echo "  aarch64 ($arm_status):"; printf '%s\n' "$arm_reports" | sed 's/^/    /'
  fi
done
echo "check-aarch64: ${#fixtures[@]} fixtures, $failures different" >&2
[ "$failures" -eq 0 ]
