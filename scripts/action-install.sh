#!/usr/bin/env bash
# The Action's install step: a forkguard already on PATH is used as it is; otherwise this
# checkout of the Action is built (release) with its preload library, and put on PATH.
set -euo pipefail
if command -v forkguard >/dev/null 2>&1; then
  echo "forkguard: using $(command -v forkguard) ($(forkguard --version))"
  exit 0
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
(cd "$root" && swift build -c release --product forkguard && scripts/build-preload.sh "$root/.build/release/lib")
echo "$root/.build/release" >>"${GITHUB_PATH:?GITHUB_PATH is set by the runner}"
"$root/.build/release/forkguard" --version
