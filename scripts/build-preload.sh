#!/usr/bin/env bash
# Builds libforkguard-preload.so with cc, not SwiftPM: a SwiftPM dynamic library would
# pull in the Swift runtime and libstdc++, unfit to preload into every process.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source_dir="$root/Sources/ForkGuardPreload"
out_dir="${1:-$root/.build/preload}"
mkdir -p "$out_dir"
cc="${CC:-cc}"
"$cc" -shared -fPIC -O2 -g -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
  -fvisibility=hidden -fno-builtin -pthread \
  -Wl,--version-script="$source_dir/exports.map" -Wl,-z,defs -Wl,--as-needed \
  -o "$out_dir/libforkguard-preload.so.tmp" \
  "$source_dir"/fg_preload.c "$source_dir"/fg_report.c "$source_dir"/fg_options.c
mv "$out_dir/libforkguard-preload.so.tmp" "$out_dir/libforkguard-preload.so"
echo "built $out_dir/libforkguard-preload.so" >&2
