#!/usr/bin/env bash
# Builds a release that runs on a Debian 12 machine without Swift:
#   dist/forkguard_VERSION_amd64.deb and dist/forkguard-VERSION-linux-x86_64.tar.gz
# The Swift standard library and Foundation are linked statically; the package depends on
# Debian's libclang runtime (libclang1-14) and libc only. Contents: the binary and its
# resource bundles in /usr/lib/forkguard (with the preload library), /usr/bin/forkguard,
# the docs, a man page generated from the help (swift-argument-parser's generate-manual)
# and bash/zsh/fish completions. scripts/test-package.sh installs it into a fresh
# debootstrap root and runs it there.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
version="$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/ForkGuardCore/Version.swift)"
[ -n "$version" ] || { echo "package: no version in Sources/ForkGuardCore/Version.swift" >&2; exit 2; }
build="$root/.build/package"
echo "package: building forkguard $version (release, static Swift stdlib)" >&2
swift build -c release --static-swift-stdlib --product forkguard --build-path "$build" >&2
binary="$build/release/forkguard"

stage="$(mktemp -d)/forkguard_${version}_amd64"
lib="$stage/usr/lib/forkguard"
mkdir -p "$stage/DEBIAN" "$stage/usr/bin" "$lib" "$stage/usr/share/doc/forkguard" "$stage/usr/share/man/man1" \
  "$stage/usr/share/bash-completion/completions" "$stage/usr/share/zsh/vendor-completions" \
  "$stage/usr/share/fish/vendor_completions.d"
install -m 755 "$binary" "$lib/forkguard"
strip --strip-unneeded "$lib/forkguard"
# Bundle.module finds these next to the (resolved) executable.
cp -R "$build/release/"*.resources "$lib/"
scripts/build-preload.sh "$lib" >&2
rm -f "$lib/exports.map"
# /usr/bin/forkguard is the launcher: `forkguard run` then starts a program in about a
# millisecond and starts the Swift tool only to print a report; every other command it
# hands to the tool beside it (Sources/ForkGuardLauncher/fg_launcher.c).
ln -s ../lib/forkguard/forkguard-launcher "$stage/usr/bin/forkguard"

cp README.md "$stage/usr/share/doc/forkguard/"
cp -R docs/*.md docs/rules "$stage/usr/share/doc/forkguard/"
# The man page, from the same help text --help prints.
manual="$(mktemp -d)"
swift package --allow-writing-to-directory "$manual" generate-manual --output-directory "$manual" >&2
page="$(find "$manual" -name 'forkguard.1' | head -1)"
[ -n "$page" ] || { echo "package: generate-manual wrote no forkguard.1" >&2; exit 1; }
gzip -9n -c "$page" >"$stage/usr/share/man/man1/forkguard.1.gz"
"$binary" --generate-completion-script bash >"$stage/usr/share/bash-completion/completions/forkguard"
"$binary" --generate-completion-script zsh >"$stage/usr/share/zsh/vendor-completions/_forkguard"
"$binary" --generate-completion-script fish >"$stage/usr/share/fish/vendor_completions.d/forkguard.fish"

# What the binary needs besides libc and libclang would show up here; fail rather than
# ship a package whose Depends: line is wrong.
needed="$(readelf -d "$lib/forkguard" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort -u)"
extra="$(echo "$needed" | grep -v -E '^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|libutil\.so\.1|ld-linux-x86-64\.so\.2|libclang-14\.so(\.[0-9]+)*|libstdc\+\+\.so\.6|libgcc_s\.so\.1)$' || true)"
[ -z "$extra" ] || { echo "package: the binary needs more than libc and libclang: $extra" >&2; exit 1; }
# The statically linked Foundation needs libstdc++ and libgcc_s; libclang1-14 depends on
# both (Debian's package), so libc and libclang are the whole Depends: line. Parsing C
# needs headers: clang's own (stddef.h…, libclang-common-14-dev) and the C library's
# (libc6-dev), which apt installs by default as recommended; a machine that builds the
# code it checks has them already. llvm-14 brings llvm-symbolizer: file:line in the
# reports of forkguard run.
depends="libc6 (>= 2.34), libclang1-14"
size="$(du -sk "$stage/usr" | cut -f1)"
cat >"$stage/DEBIAN/control" <<CONTROL
Package: forkguard
Version: $version
Architecture: amd64
Maintainer: forkguard developers <forkguard@users.noreply.github.com>
Installed-Size: $size
Depends: $depends
Recommends: libclang-common-14-dev, libc6-dev
Suggests: llvm-14
Section: devel
Priority: optional
Homepage: https://github.com/forkguard/forkguard
Description: fork-safety checker for C and Swift
 Finds the ways fork() breaks multithreaded programs: calls that are not
 async-signal-safe in fork children, vfork children, signal handlers and
 pthread_atfork child handlers, and locks another thread may hold at the fork.
 Static analysis (check, lsp) and a run-time LD_PRELOAD library (run).
CONTROL
mkdir -p dist
dpkg-deb --root-owner-group --build "$stage" "dist/forkguard_${version}_amd64.deb" >&2
tar -C "$stage" --owner=0 --group=0 -czf "dist/forkguard-${version}-linux-x86_64.tar.gz" usr
echo "dist/forkguard_${version}_amd64.deb"
echo "dist/forkguard-${version}-linux-x86_64.tar.gz"
