#!/usr/bin/env bash
# Precision benchmark (issues 12 and 13): forkguard on whole Debian bookworm source trees,
# checked as a new user would, with no configure step, no compile_commands.json and no
# .forkguard.yml. Fetches the packages with `apt-get source` into
# benchmarks/.projects/precision/ (not committed), checks each tree once with
# `forkguard check --no-cache`, and prints one table (per package: C files, files parsed,
# seconds, peak MiB, findings per rule, total findings, unique call sites) and a seeded
# random sample of 40 findings for triage (docs/precision.md). Full results go to
# benchmarks/results/precision/ (not committed).
#
#   benchmarks/precision.sh [PACKAGE...]        (default: every package below)
#
#   FORKGUARD=/path/forkguard          binary to measure (default: swift build -c release here)
#   BASELINE_FORKGUARD=/path/forkguard also run this binary on every package and print its
#                                      seconds and findings beside FORKGUARD's
#   SAMPLE=40 SEED=12                  size and seed of the triage sample
#   SAMPLE_FROM=warnings|findings      draw it from the warnings (default) or from every
#                                      finding, notes included
#   JOBS=N                             forkguard --jobs (default: forkguard's, the core count)
#   TIMEOUT=3600                       seconds one check may take before it counts as failed
#   FETCH_ONLY=1                       fetch the sources and stop
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
projects="$here/.projects/precision"
results="$here/results/precision"
mkdir -p "$projects"

# The Debian source packages, fixed. openssh-orig is the unpatched upstream tarball of
# openssh 9.2p1 (it has CVE-2024-6387, regreSSHion), unpacked from openssh's download.
all_packages=(bash inetutils dbus tmux screen keepalived haproxy openssh openssh-orig git util-linux glib2.0)
if [ "$#" -gt 0 ]; then packages=("$@"); else packages=("${all_packages[@]}"); fi

# shellcheck source=benchmarks/debian-sources.sh
. "$here/debian-sources.sh"
extra=()
command -v python3 >/dev/null || extra+=(python3)
debian_sources_ready ${extra[@]+"${extra[@]}"}

# tree PACKAGE: the unpacked source tree of a fetched package.
tree() {
  local found
  found=$(find "$projects/$1" -mindepth 1 -maxdepth 1 -type d | sort | head -n 1)
  [ -n "$found" ] || { echo "precision: no source tree in $projects/$1" >&2; return 1; }
  echo "$found"
}

# fetch PACKAGE: apt-get source into .projects/precision/PACKAGE/ (skipped when present).
fetch() {
  local package="$1"
  if [ "$package" = openssh-orig ]; then
    fetch openssh
    [ -d "$projects/openssh-orig" ] && return
    local tarball
    tarball=$(ls "$projects"/openssh/openssh_*.orig.tar.gz | head -n 1)
    mkdir -p "$projects/openssh-orig.tmp"
    tar -xzf "$tarball" -C "$projects/openssh-orig.tmp"
    echo "$(basename "$tarball") (upstream only)" >"$projects/openssh-orig.tmp/.fetched-version"
    mv "$projects/openssh-orig.tmp" "$projects/openssh-orig"
    return
  fi
  [ -d "$projects/$package" ] && return
  echo "precision: fetching $package" >&2
  rm -rf "$projects/$package.tmp" "$projects/$package.tmp.log"
  mkdir -p "$projects/$package.tmp"
  # The newest version first; a mirror may lack its files (seen: a 404 for the newest
  # bookworm-security haproxy), then the next version the index lists.
  local version fetched=""
  for version in $(apt-cache showsrc "$package" | sed -n 's/^Version: //p' | sort -u |
    python3 -c 'import functools, subprocess, sys
versions = sys.stdin.read().split()
newer = lambda a, b: -1 if subprocess.run(["dpkg", "--compare-versions", a, "gt", b]).returncode == 0 else 1
print("\n".join(sorted(versions, key=functools.cmp_to_key(newer))))'); do
    rm -rf "$projects/$package.tmp"/*
    if (cd "$projects/$package.tmp" && apt-get source -qq "$package=$version" >/dev/null 2>>"$projects/$package.tmp.log"); then
      fetched="$version"
      break
    fi
  done
  if [ -z "$fetched" ]; then
    # A mirror that lacks the Debian part of every version (seen: keepalived_2.2.7-1.debian.tar.xz,
    # 404): use the upstream tarball alone, unpatched, and say so.
    local orig
    orig=$(ls "$projects/$package.tmp"/*.orig.tar.* 2>/dev/null | head -n 1)
    if [ -z "$orig" ]; then
      cat "$projects/$package.tmp.log" >&2
      return 1
    fi
    echo "precision: $package: apt-get source failed; using $(basename "$orig") without Debian's changes" >&2
    tar -xf "$orig" -C "$projects/$package.tmp"
    fetched="$(basename "$orig") (upstream only)"
  fi
  echo "$fetched" >"$projects/$package.tmp/.fetched-version"
  rm -f "$projects/$package.tmp.log"
  mv "$projects/$package.tmp" "$projects/$package"
}
for package in "${packages[@]}"; do fetch "$package"; done
[ "${FETCH_ONLY:-0}" = 1 ] && exit 0

if [ -z "${FORKGUARD:-}" ]; then
  (cd "$root" && swift build -c release -q --product forkguard)
  FORKGUARD="$root/.build/release/forkguard"
fi
binaries=(forkguard)
declare -A binary=([forkguard]="$(realpath "$FORKGUARD")")
if [ -n "${BASELINE_FORKGUARD:-}" ]; then
  binaries+=(baseline)
  binary[baseline]="$(realpath "$BASELINE_FORKGUARD")"
fi
jobs_flag=()
[ -n "${JOBS:-}" ] && jobs_flag=(--jobs "$JOBS")

rm -rf "$results"
for name in "${binaries[@]}"; do mkdir -p "$results/$name"; done
for package in "${packages[@]}"; do
  source_root="$(tree "$package")"
  # C files as a user counts them: every .c outside hidden folders (quilt's .pc copies).
  c_files=$(cd "$source_root" && find . -name '.?*' -prune -o -type f -name '*.c' -print | wc -l)
  # The two binaries take turns per package, so a busy machine slows both alike.
  for name in "${binaries[@]}"; do
    out="$results/$name/$package"
    echo "precision: $name: $package ($c_files C files)" >&2
    status=0
    (cd "$source_root" &&
      /usr/bin/time -f "%e %M" -o "$out.time" timeout "${TIMEOUT:-3600}" "${binary[$name]}" check \
        --format json --output "$out.json" --no-cache --fail-on never --no-progress --timings \
        ${jobs_flag[@]+"${jobs_flag[@]}"} "$source_root" >"$out.txt" 2>"$out.stderr") || status=$?
    printf '{"package": "%s", "version": "%s", "tree": "%s", "c_files": %s, "status": %s, "binary": "%s"}\n' \
      "$package" "$(cat "$projects/$package/.fetched-version" 2>/dev/null || true)" "$source_root" "$c_files" \
      "$status" "${binary[$name]}" >"$out.meta.json"
  done
done

python3 "$here/precision-report.py" --results "$results" --sample "${SAMPLE:-40}" --seed "${SEED:-12}" --sample-from "${SAMPLE_FROM:-warnings}" \
  "${packages[@]}" | tee "$results/report.md"
