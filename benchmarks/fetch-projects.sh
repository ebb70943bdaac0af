#!/usr/bin/env bash
# Fetches the C projects the benchmark runs on, as Debian source packages, into
# benchmarks/.projects/ (not committed): util-linux 2.38.1 and openssh 9.2p1 from bookworm.
# Sets up deb-src if the machine has none, installs dpkg-dev (for apt-get source), and
# configures each project so config.h exists.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
projects="$here/.projects"
mkdir -p "$projects"

# shellcheck source=benchmarks/debian-sources.sh
. "$here/debian-sources.sh"
extra=()
command -v clang-tidy-14 >/dev/null || extra+=(clang-tidy-14)
command -v clang-14 >/dev/null || extra+=(clang-14)
command -v autoreconf >/dev/null || extra+=(autoconf automake libtool autopoint gettext pkg-config bison flex)
debian_sources_ready ${extra[@]+"${extra[@]}"}

fetch() {
  local package="$1" upstream="$2"
  if ls -d "$projects/$package-$upstream" >/dev/null 2>&1; then return; fi
  (cd "$projects" && apt-get source -qq "$package" >/dev/null 2>&1)
  ls -d "$projects/$package-$upstream" >/dev/null
}
fetch util-linux 2.38.1
fetch openssh 9.2p1

# config.h, so headers resolve as in a real build (the analysis also works without it).
if [ ! -f "$projects/util-linux-2.38.1/config.h" ]; then
  (cd "$projects/util-linux-2.38.1" && ./configure -q --disable-all-programs --disable-nls >/dev/null 2>&1 ||
    ./configure -q --disable-nls >/dev/null 2>&1 || true)
fi
if [ ! -f "$projects/openssh-9.2p1/config.h" ]; then
  (cd "$projects/openssh-9.2p1" && autoreconf -fi >/dev/null 2>&1 &&
    ./configure -q --without-openssl --without-zlib >/dev/null 2>&1 || true)
fi
ls -d "$projects"/*/ 
