#!/usr/bin/env bash
# What the build's configuration buys (docs/precision.md, ninth pass): inetutils checked
# without configure, as benchmarks/precision.sh does, and configured the way Debian builds it
# (debian/rules' flags, built under bear for compile_commands.json), then checked with
# `forkguard check -p .` (only the database's files: the programs Debian disables are not
# inputs). Prints both counts and the warnings each run has that the other has not, by
# file:line, for triage.
#
#   benchmarks/precision-configured.sh
#   FORKGUARD=/path/forkguard      binary to measure (default: swift build -c release here)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

# shellcheck source=benchmarks/debian-sources.sh
. "$here/debian-sources.sh"
need=()
command -v bear >/dev/null || need+=(bear)
command -v make >/dev/null || need+=(make)
command -v cc >/dev/null || need+=(gcc)
[ -f /usr/include/security/pam_appl.h ] || need+=(libpam0g-dev)
[ -f /usr/include/tcpd.h ] || need+=(libwrap0-dev)
[ -f /usr/include/krb5.h ] || need+=(libkrb5-dev)
[ -f /usr/include/ncurses.h ] || need+=(libncurses-dev)
[ -f /usr/include/readline/readline.h ] || need+=(libreadline-dev)
debian_sources_ready ${need[@]+"${need[@]}"}

forkguard="${FORKGUARD:-}"
if [ -z "$forkguard" ]; then
  (cd "$root" && swift build -c release >&2)
  forkguard="$root/.build/release/forkguard"
fi

FETCH_ONLY=1 FORKGUARD=/bin/true "$here/precision.sh" inetutils >&2
source_tree=$(find "$here/.projects/precision/inetutils" -mindepth 1 -maxdepth 1 -type d | sort | head -n 1)
configured="$here/.projects/precision-configured/inetutils"
results="$here/results/precision-configured"
mkdir -p "$results"

if [ ! -s "$configured/compile_commands.json" ] || [ "$(head -c 3 "$configured/compile_commands.json")" = "[]" ]; then
  rm -rf "$configured" && mkdir -p "$(dirname "$configured")"
  cp -a "$source_tree" "$configured"
  (
    cd "$configured"
    # Debian's patches touch configure.ac and Makefile.am, which makes make run automake
    # (Debian's build runs autoreconf): keep the release's generated files instead.
    find . \( -name '*.am' -o -name '*.ac' -o -name '*.m4' \) -exec touch -d 2022-10-01 {} +
    touch aclocal.m4 && sleep 1 && touch configure && sleep 1 && find . -name Makefile.in -exec touch {} +
    echo "precision-configured: configure and bear -- make (a few minutes)" >&2
    ./configure --disable-rpath --disable-rcp --disable-rexec --disable-rexecd --disable-rlogin \
      --disable-rlogind --disable-rsh --disable-rshd --disable-tftp --disable-tftpd --disable-uucpd \
      --disable-whois --without-idn --with-krb5 --with-wrap --with-pam >"$results/configure.log" 2>&1
    # -k: one file that fails to compile (telnetd/utility.c here) must not stop the rest.
    bear -- make -k -j"$(nproc)" ACLOCAL=true AUTOCONF=true AUTOMAKE=true AUTOHEADER=true \
      >"$results/make.log" 2>&1 || true
  )
fi

(cd "$source_tree" && "$forkguard" check . --no-cache --fail-on never >"$results/unconfigured.txt" 2>"$results/unconfigured.stderr") || true
(cd "$configured" && "$forkguard" check -p . --no-cache --fail-on never >"$results/configured.txt" 2>"$results/configured.stderr") || true

python3 - "$results/unconfigured.txt" "$results/configured.txt" <<'EOF'
import re, sys
def lines(path):
    return [re.match(r"^([^:]+:\d+):\d+: warning: .*\[([a-z-]+)\]$", l).groups()
            for l in open(path) if ": warning: " in l]
unconfigured, configured = lines(sys.argv[1]), lines(sys.argv[2])
print(f"| run | warnings |\n| --- | ---: |\n| without configure | {len(unconfigured)} |\n| configured | {len(configured)} |\n")
a, b = {x[0] for x in unconfigured}, {x[0] for x in configured}
print(f"only without configure ({len(a - b)} lines):")
for place in sorted(a - b): print(f"  {place}")
print(f"only configured ({len(b - a)} lines):")
for place in sorted(b - a): print(f"  {place}")
EOF
