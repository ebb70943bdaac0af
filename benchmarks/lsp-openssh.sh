#!/usr/bin/env bash
# The language server's latency on a real project (issue 17, item 5): openssh 9.2p1, from
# Debian's upstream tarball, configured and built with bear so that its
# compile_commands.json exists, then benchmarks/lsp-latency.py opens sshd.c, makes EDITS
# edits of each kind (a comment line in a function's body, a comment line at the top, a call
# added or taken away) and EDITS saves, and prints the first analysis's time and the median
# and 90th percentile of each.
#
#   benchmarks/lsp-openssh.sh [EDITS]            (20 by default)
#   FORKGUARD=/path/forkguard                    the binary (default: swift build -c release here)
#   BASELINE_FORKGUARD=/path/forkguard           also measure this one, right before
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
edits="${1:-20}"
tree="$here/.projects/lsp/openssh-9.2p1"

# shellcheck source=benchmarks/debian-sources.sh
. "$here/debian-sources.sh"
need=()
command -v bear >/dev/null || need+=(bear)
command -v make >/dev/null || need+=(make)
command -v cc >/dev/null || need+=(gcc)
[ -f /usr/include/openssl/ssl.h ] || need+=(libssl-dev)
[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev)
debian_sources_ready ${need[@]+"${need[@]}"}

if [ ! -f "$tree/compile_commands.json" ]; then
  FETCH_ONLY=1 FORKGUARD=/bin/true "$here/precision.sh" openssh-orig >&2
  rm -rf "$tree" && mkdir -p "$(dirname "$tree")"
  cp -r "$(find "$here/.projects/precision/openssh-orig" -mindepth 1 -maxdepth 1 -type d | head -n 1)" "$tree"
  echo "lsp-openssh: configure and bear -- make (a few minutes)" >&2
  (cd "$tree" && ./configure >/dev/null && bear -- make -j"$(nproc)" >/dev/null 2>&1)
fi

forkguard="${FORKGUARD:-}"
if [ -z "$forkguard" ]; then
  (cd "$root" && swift build -c release >&2)
  forkguard="$root/.build/release/forkguard"
fi
export PYTHONPATH="$root/.build/python-packages${PYTHONPATH:+:$PYTHONPATH}"
cache="$(mktemp -d)"
trap 'rm -rf "$cache"' EXIT
for binary in ${BASELINE_FORKGUARD:+"$BASELINE_FORKGUARD"} "$forkguard"; do
  echo "== $binary"
  rm -rf "$cache"/*
  (cd "$tree" && XDG_CACHE_HOME="$cache" python3 "$here/lsp-latency.py" "$binary" . sshd.c "$edits")
done
