#!/usr/bin/env bash
# Big files against their floor (issue 17 item 2: a 10 MB C file in at most 2x the time and
# memory of `clang-14 -fsyntax-only` on it). Two files, each checked alone, in interleaved
# rounds; medians of wall seconds and peak MiB (/usr/bin/time %M), and the ratios:
#
#   sqlite     SQLite's 9.7 MB amalgamation as sqlite-nio 1.13.2 ships it
#              (Sources/VaporCSQLite, from the offline package mirror), with -Iinclude
#   generated  a C file of GENERATED_MB megabytes (10) that generate-big-c.py writes:
#              thousands of ordinary functions (locals, loops, a switch, struct fields,
#              macros, calls to each other and to libc, a lock taken and released)
#
#   benchmarks/big-file.sh                               # both files, 3 rounds
#   ROUNDS=5 benchmarks/big-file.sh sqlite               # one file
#   BASELINE=/tmp/old/forkguard benchmarks/big-file.sh   # a before column too; the facts
#                                                        # (--write-facts) are compared
#
# forkguard runs `check --no-cache --jobs 1 --fail-on never --no-progress FILE -- FLAGS`.
# FORKGUARD (default .build/release/forkguard, not rebuilt); BASELINE; ROUNDS (3);
# GENERATED_MB (10; the issue also names 50); MIRROR (/opt/swift-packages). Exits 1 if the facts of the two
# binaries differ. Results in benchmarks/results/big-file/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FORKGUARD="${FORKGUARD:-$ROOT/.build/release/forkguard}"
BASELINE="${BASELINE:-}"
ROUNDS="${ROUNDS:-3}"
GENERATED_MB="${GENERATED_MB:-10}"
MIRROR="${MIRROR:-/opt/swift-packages}"
# shellcheck source=benchmarks/debian-sources.sh disable=SC1091
. "$ROOT/benchmarks/debian-sources.sh"
need=()
command -v clang-14 >/dev/null || need+=(clang-14)
[ -x /usr/bin/time ] || need+=(time)
[ ${#need[@]} -eq 0 ] || debian_sources_ready "${need[@]}"
CLANG="${CLANG:-clang-14}"
DEST="$ROOT/benchmarks/.projects/big-file"
OUT="$ROOT/benchmarks/results/big-file"
mkdir -p "$DEST" "$OUT"
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(sqlite generated)

# Each file: its folder, its name and the compiler flags.
prepare() {
  case "$1" in
  sqlite)
    if [ ! -f "$DEST/sqlite/Sources/VaporCSQLite/sqlite_nio_sqlite3.c" ]; then
      mkdir -p "$DEST/sqlite"
      git -C "$MIRROR/vapor/sqlite-nio.git" archive 1.13.2 Sources/VaporCSQLite | tar -x -C "$DEST/sqlite"
    fi
    echo "$DEST/sqlite/Sources/VaporCSQLite sqlite_nio_sqlite3.c -Iinclude"
    ;;
  generated)
    local file="$DEST/generated/generated-${GENERATED_MB}mb.c"
    if [ ! -f "$file" ]; then
      mkdir -p "$DEST/generated"
      python3 "$ROOT/benchmarks/generate-big-c.py" "$GENERATED_MB" >"$file.tmp" && mv "$file.tmp" "$file"
    fi
    echo "$DEST/generated $(basename "$file")"
    ;;
  *) echo "big-file: unknown file '$1' (sqlite, generated)" >&2 && exit 2 ;;
  esac
}

# Runs a command in a folder under /usr/bin/time; appends "seconds KiB" to $OUT/NAME.times.
measure() {
  local name=$1 directory=$2
  shift 2
  (cd "$directory" && /usr/bin/time -f "%e %M" -o "$OUT/$name.last" "$@" >/dev/null 2>"$OUT/$name.err") || {
    echo "big-file: $name failed: $(tail -n 3 "$OUT/$name.err")" >&2
    exit 1
  }
  cat "$OUT/$name.last" >>"$OUT/$name.times"
}

status=0
for file in "${files[@]}"; do
  read -r directory name flags <<<"$(prepare "$file")"
  read -r -a flag_list <<<"${flags:-}"
  rm -f "$OUT/$file".*.times
  binaries=(forkguard)
  [ -n "$BASELINE" ] && binaries=(baseline forkguard)
  for round in $(seq "$ROUNDS"); do
    measure "$file.clang" "$directory" "$CLANG" -fsyntax-only ${flag_list[@]+"${flag_list[@]}"} "$name"
    for binary in "${binaries[@]}"; do
      path=$FORKGUARD
      [ "$binary" = baseline ] && path=$BASELINE
      measure "$file.$binary" "$directory" "$path" check --no-cache --jobs 1 --fail-on never --no-progress \
        --write-facts "$OUT/$file.$binary.facts" "$name" -- ${flag_list[@]+"${flag_list[@]}"}
    done
    echo "big-file: $file: round $round done" >&2
  done
  if [ -n "$BASELINE" ] && ! cmp -s "$OUT/$file.baseline.facts" "$OUT/$file.forkguard.facts"; then
    echo "big-file: $file: the facts of $BASELINE and $FORKGUARD differ" >&2
    status=1
  fi
done

python3 - "$OUT" "$(stat -c %s "$DEST"/sqlite/Sources/VaporCSQLite/sqlite_nio_sqlite3.c 2>/dev/null || echo 0)" \
  "$GENERATED_MB" "${files[@]}" <<'EOF'
import os, statistics, sys
out, sqlite_bytes, generated_mb, files = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
def load(name):
    path = os.path.join(out, name + ".times")
    if not os.path.exists(path):
        return None
    rows = [line.split() for line in open(path) if line.strip()]
    return statistics.median(float(r[0]) for r in rows), statistics.median(int(r[1]) for r in rows) / 1024, len(rows)
print("| file | tool | seconds | peak MiB | time / clang | memory / clang |")
print("| --- | --- | ---: | ---: | ---: | ---: |")
for file in files:
    label = f"sqlite ({sqlite_bytes / 1e6:.1f} MB)" if file == "sqlite" else f"generated ({generated_mb} MB)"
    floor = load(file + ".clang")
    for tool in ("clang", "baseline", "forkguard"):
        row = load(f"{file}.{tool}")
        if row is None:
            continue
        seconds, mib, runs = row
        ratio = lambda value, base: f"{value / base:.2f}x" if base else "-"
        flag = " !" if tool != "clang" and (seconds > 2 * floor[0] or mib > 2 * floor[1]) else ""
        name = "clang-14 -fsyntax-only" if tool == "clang" else tool
        print(f"| {label} | {name} | {seconds:.2f} | {mib:.0f} | {ratio(seconds, floor[0])} | {ratio(mib, floor[1])}{flag} |")
print(f"\nmedians of {runs} rounds; ! marks a ratio above the 2x target")
EOF
exit $status
