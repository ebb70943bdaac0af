# Sourced by the benchmarks that fetch Debian source packages: makes sure apt has a
# deb-src entry for bookworm, and installs what `apt-get source` and the benchmark need.
#   debian_sources_ready [EXTRA-PACKAGE...]
debian_sources_ready() {
  local sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  if ! grep -rqs "deb-src\|Types:.*deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb-src\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
      $sudo_cmd tee /etc/apt/sources.list.d/forkguard-deb-src.sources >/dev/null
    $sudo_cmd apt-get update -qq
  fi
  local need=("$@")
  command -v dpkg-source >/dev/null || need+=(dpkg-dev)
  [ -x /usr/bin/time ] || need+=(time)
  if [ "${#need[@]}" -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
  fi
}
