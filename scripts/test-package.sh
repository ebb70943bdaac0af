#!/usr/bin/env bash
# Installs the .deb into a fresh Debian 12 root made with debootstrap (no Swift toolchain,
# no compiler) and runs forkguard check, forkguard run and forkguard lsp there.
#   scripts/test-package.sh [DEB] [ROOT]
# DEB defaults to what scripts/package.sh builds; ROOT (default .build/debroot) is a fresh
# copy of ROOT.pristine, made once with `debootstrap --variant=minbase bookworm`. Needs root (chroot) and the
# Debian mirror (for debootstrap and for apt to fetch libclang1-14).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
deb="${1:-}"
[ -n "$deb" ] || deb="$("$root/scripts/package.sh" | grep '\.deb$')"
deb="$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")"
target="${2:-$root/.build/debroot}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# Every run starts from the untouched debootstrap root (made once, kept beside it), so the
# install is a first install: apt resolves Depends and Recommends as on a new machine.
pristine="$target.pristine"
if [ ! -x "$pristine/usr/bin/apt-get" ]; then
  echo "test-package: debootstrap bookworm into $pristine" >&2
  debootstrap --variant=minbase bookworm "$pristine" "$mirror" >&2
fi
umount "$target/proc" 2>/dev/null || true
rm -rf "$target"
cp -a "$pristine" "$target"
fail() { echo "test-package: FAILED: $*" >&2; exit 1; }
in_root() { chroot "$target" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
mountpoint -q "$target/proc" || mount -t proc proc "$target/proc"
trap 'umount "$target/proc" 2>/dev/null || true' EXIT
cp /etc/resolv.conf "$target/etc/resolv.conf" 2>/dev/null || true
[ ! -e "$target/opt/swift" ] || fail "the root has a Swift toolchain"
for tool in swift swiftc cc gcc clang; do
  ! in_root sh -c "command -v $tool" >/dev/null || fail "the root has $tool"
done

cp "$deb" "$target/tmp/forkguard.deb"
in_root apt-get update -qq >&2
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /tmp/forkguard.deb >&2
echo "== forkguard --version"
in_root forkguard --version | tee /dev/stderr | grep -q '^forkguard .* (libclang: ' || fail "--version"

echo "== forkguard check"
rm -rf "$target/tmp/demo" && cp -R "$root/examples/demo" "$target/tmp/demo"
status=0
in_root sh -c 'cd /tmp/demo && forkguard check .' >"$target/tmp/check.out" 2>&1 || status=$?
cat "$target/tmp/check.out"
[ "$status" -eq 1 ] || fail "check exited $status, expected 1 (findings)"
grep -q '\[fork-child-unsafe-call\]' "$target/tmp/check.out" || fail "check found no fork-child-unsafe-call"

echo "== forkguard run"
# A program that forks while another thread holds a lock, and whose child takes it: the
# preload library must stop the child and report. Built here, run in the root (no compiler there).
cc -g -pthread -o "$target/tmp/deadlock" "$root/fixtures/runtime-child-deadlock/worker-holds-mutex.c"
status=0
in_root sh -c 'cd /tmp && timeout 60 forkguard run ./deadlock' >"$target/tmp/run.out" 2>&1 || status=$?
cat "$target/tmp/run.out"
grep -q 'runtime-child-deadlock' "$target/tmp/run.out" || fail "run reported no runtime-child-deadlock (exit $status)"
in_root forkguard run -- /bin/echo preloaded | grep -qx preloaded || fail "run of /bin/echo"

echo "== forkguard lsp"
frame() { printf 'Content-Length: %d\r\n\r\n%s' "${#1}" "$1"; }
{
  frame '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}'
  frame '{"jsonrpc":"2.0","id":2,"method":"shutdown"}'
  frame '{"jsonrpc":"2.0","method":"exit"}'
} >"$target/tmp/lsp.in"
status=0
in_root sh -c 'timeout 30 forkguard lsp </tmp/lsp.in' >"$target/tmp/lsp.out" || status=$?
[ "$status" -eq 0 ] || fail "lsp exited $status"
grep -q '"capabilities"' "$target/tmp/lsp.out" && grep -q '"id":2' "$target/tmp/lsp.out" || fail "lsp replies: $(cat "$target/tmp/lsp.out")"
echo "lsp: initialize and shutdown answered"
echo "test-package: the .deb installs and runs on Debian 12 without Swift"
