#!/usr/bin/env bash
# The Swift front end against its floor (issue 17 item 3): on three Swift trees from the
# offline package mirror, the CPU seconds of `swiftc -frontend -parse` over all of a tree's
# files, beside forkguard's whole run and its parse phase, in interleaved rounds; medians.
#
#   benchmarks/swift-frontend.sh                         # all three trees, 5 rounds
#   ROUNDS=9 benchmarks/swift-frontend.sh swift-syntax   # one tree
#   BASELINE=/tmp/fg-main/forkguard benchmarks/swift-frontend.sh   # a before column too
#   CALLGRIND=1 benchmarks/swift-frontend.sh swift-syntax           # + instruction counts
#
# With BASELINE, the run ends by comparing the two binaries' output byte for byte on each
# tree and on the Swift fixtures: the facts (`--write-facts`) and the findings
# (`--format json`). A speed-up must not change them; the script exits 1 if one does.
#
# FORKGUARD (default .build/release/forkguard, not rebuilt); BASELINE (another forkguard,
# run in the same rounds); ROUNDS (5); CALLGRIND=1 adds one valgrind run per binary and
# tree (instructions are deterministic, so one is enough; it is slow: ~50x): the whole run,
# and the front end alone (SwiftFrontEnd.facts, inclusive), against swift-frontend -parse.
#
# The floor: one `swiftc -frontend -parse` with every file of the tree as an input and no
# `-primary-file`. Without primaries the frontend parses every file whole (a syntax error
# inside a function body is reported); with `-primary-file X` the other files' bodies are
# skipped, and one process per file would time 132 process starts, not parsing.
#
# forkguard: `check --no-cache --jobs 1 --fail-on never --no-progress --timings DIR`.
# "parse" is the parse phase's time from --timings (wall time of one job; on a busy machine
# it includes time waiting for a core, so the CPU columns are the ones to trust).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FORKGUARD="${FORKGUARD:-$ROOT/.build/release/forkguard}"
BASELINE="${BASELINE:-}"
ROUNDS="${ROUNDS:-5}"
CALLGRIND="${CALLGRIND:-0}"
SWIFTC="${SWIFTC:-$(command -v swiftc)}"
MIRROR="${MIRROR:-/opt/swift-packages}"
DEST="$ROOT/benchmarks/.projects/swift"
OUT="$ROOT/benchmarks/results/swift-frontend"
mkdir -p "$DEST" "$OUT"

# name  repository  tag  paths
TREES_ALL=(
  "swift-syntax swiftlang/swift-syntax 603.0.1 Sources/SwiftSyntax Sources/SwiftParser"
  "swift-nio apple/swift-nio 2.101.3 Sources"
  "vapor vapor/vapor 4.122.3 Sources"
)
want=("$@")

fetch() { # name repo tag paths...
  local name=$1 repo=$2 tag=$3
  shift 3
  [ -d "$DEST/$name" ] && return
  mkdir -p "$DEST/$name.tmp"
  git -C "$MIRROR/$repo.git" archive "$tag" "$@" | tar -x -C "$DEST/$name.tmp"
  mv "$DEST/$name.tmp" "$DEST/$name"
}

trees=()
for spec in "${TREES_ALL[@]}"; do
  read -r name repo tag paths <<<"$spec"
  if [ ${#want[@]} -gt 0 ] && [[ " ${want[*]} " != *" $name "* ]]; then continue; fi
  # shellcheck disable=SC2086
  fetch "$name" "$repo" "$tag" $paths
  trees+=("$name")
done

[ -x "$FORKGUARD" ] || { echo "no forkguard at $FORKGUARD (swift build -c release)" >&2; exit 2; }
binaries=("$FORKGUARD")
labels=("forkguard")
if [ -n "$BASELINE" ]; then
  binaries=("$BASELINE" "$FORKGUARD")
  labels=("baseline" "forkguard")
fi

cpu() { # file written by /usr/bin/time -f '%U %S'
  tail -n 1 "$1" | awk '{ printf "%.3f", $1 + $2 }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for tree in "${trees[@]}"; do
  dir="$DEST/$tree"
  mapfile -d '' files < <(find "$dir" -name '*.swift' -print0 | sort -z)
  bytes=$(cat "${files[@]}" | wc -c)
  printf '%s: %d files, %.1f MB\n' "$tree" "${#files[@]}" "$(echo "$bytes / 1000000" | bc -l)" >&2
  rm -f "$OUT/$tree".*.samples
  for round in $(seq 1 "$ROUNDS"); do
    # The order rotates each round, so no command always runs first (or after another's cache).
    commands=(swiftc)
    for i in "${!binaries[@]}"; do commands+=("fg$i"); done
    shift_by=$(((round - 1) % ${#commands[@]}))
    commands=("${commands[@]:shift_by}" "${commands[@]:0:shift_by}")
    for command in "${commands[@]}"; do
      if [ "$command" = swiftc ]; then
        # A tree of several modules has several main.swift: swiftc then says "statements are
        # not allowed at the top level" and exits 1, having parsed every file all the same.
        /usr/bin/time -f '%U %S' -o "$OUT/time" "$SWIFTC" -frontend -parse "${files[@]}" >/dev/null \
          2>"$OUT/$tree.swiftc.err" || true
        if grep -q 'terminated by signal' "$OUT/time"; then
          echo "swiftc -frontend -parse crashed on $tree" >&2
          exit 2
        fi
        cpu "$OUT/time" >>"$OUT/$tree.swiftc.samples"
        echo >>"$OUT/$tree.swiftc.samples"
      else
        i=${command#fg}
        /usr/bin/time -f '%U %S' -o "$OUT/time" "${binaries[$i]}" check --no-cache --jobs 1 --fail-on never \
          --no-progress --timings "$dir" >"$OUT/$tree.$i.out" 2>"$OUT/$tree.$i.err"
        cpu "$OUT/time" >>"$OUT/$tree.$i.run.samples"
        echo >>"$OUT/$tree.$i.run.samples"
        grep -E '^forkguard: parse \(' "$OUT/$tree.$i.err" | awk '{ print $(NF - 1) }' >>"$OUT/$tree.$i.parse.samples"
      fi
    done
  done
done

{
  printf '%-13s %6s %9s' tree files swiftc
  for label in "${labels[@]}"; do printf ' | %-9s %9s %9s %8s %8s' "$label" "run CPU" "parse" "run/sw" "parse/sw"; done
  printf '\n'
  for tree in "${trees[@]}"; do
    n=$(find "$DEST/$tree" -name '*.swift' | wc -l)
    sw=$(median <"$OUT/$tree.swiftc.samples")
    printf '%-13s %6d %8.3fs' "$tree" "$n" "$sw"
    for i in "${!binaries[@]}"; do
      run=$(median <"$OUT/$tree.$i.run.samples")
      parse=$(median <"$OUT/$tree.$i.parse.samples")
      printf ' | %-9s %8.3fs %8.3fs %7.2fx %7.2fx' "" "$run" "$parse" "$(echo "$run / $sw" | bc -l)" \
        "$(echo "$parse / $sw" | bc -l)"
    done
    printf '\n'
  done
  printf '(medians of %d interleaved rounds; CPU = user+sys; parse = the parse phase from --timings, one job)\n' "$ROUNDS"
} | tee "$OUT/table.txt"

if [ "$CALLGRIND" = 1 ]; then
  command -v valgrind >/dev/null || { echo "no valgrind" >&2; exit 2; }
  # Debian 12's valgrind 3.19 gives up on the DWARF 5 of Swift 6.3's binaries: profile copies
  # without debug information (the symbol table stays, so do the function names).
  # swift-frontend is what `swiftc -frontend` runs; the copy needs the toolchain's libraries.
  CG="$OUT/callgrind"
  rm -rf "$CG"
  mkdir -p "$CG"
  frontend="$(dirname "$(readlink -f "$SWIFTC")")/swift-frontend"
  toolchain_lib="$(dirname "$(dirname "$(readlink -f "$SWIFTC")")")/lib/swift"
  objcopy --strip-debug "$frontend" "$CG/swift-frontend"
  stripped=()
  for i in "${!binaries[@]}"; do
    mkdir -p "$CG/$i"
    objcopy --strip-debug "${binaries[$i]}" "$CG/$i/forkguard"
    # forkguard finds its data beside itself.
    for bundle in "$(dirname "${binaries[$i]}")"/*.resources; do ln -s "$bundle" "$CG/$i/"; done
    stripped+=("$CG/$i/forkguard")
  done
  instructions() { grep -E '^(summary|totals):' "$1" | head -1 | awk '{ print $2 }'; }
  {
    printf '\n%-13s %15s' tree "swiftc Ir"
    for label in "${labels[@]}"; do printf ' | %-9s %15s %7s %15s %7s' "$label" "run Ir" "x" "front end Ir" "x"; done
    printf '\n'
  } | tee -a "$OUT/table.txt"
  for tree in "${trees[@]}"; do
    dir="$DEST/$tree"
    mapfile -d '' files < <(find "$dir" -name '*.swift' -print0 | sort -z)
    LD_LIBRARY_PATH="$toolchain_lib/linux:$toolchain_lib/host/compiler:$toolchain_lib/host" \
      valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$CG/$tree.swiftc.out" \
      "$CG/swift-frontend" -frontend -parse "${files[@]}" >/dev/null 2>&1 || true
    sw=$(instructions "$CG/$tree.swiftc.out")
    line=$(printf '%-13s %15s' "$tree" "$sw")
    for i in "${!stripped[@]}"; do
      valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$CG/$tree.$i.out" \
        "${stripped[$i]}" check --no-cache --jobs 1 --fail-on never --no-progress "$dir" >/dev/null 2>&1 || true
      ir=$(instructions "$CG/$tree.$i.out")
      # The Swift front end: SwiftFrontEnd.facts(for:text:), inclusive.
      # (awk reads to the end: stopping early would end callgrind_annotate with SIGPIPE.)
      fe=$(callgrind_annotate --inclusive=yes "$CG/$tree.$i.out" 2>/dev/null |
        awk '/FrontEndC5facts3for4text/ && !found { gsub(",", "", $1); print $1; found = 1 }')
      line+=$(printf ' | %-9s %15s %6.2fx %15s %6.2fx' "" "$ir" "$(echo "$ir / $sw" | bc -l)" "${fe:-?}" \
        "$(echo "${fe:-0} / $sw" | bc -l)")
    done
    echo "$line" | tee -a "$OUT/table.txt"
  done
fi

if [ -n "$BASELINE" ]; then
  mapfile -t fixtures < <(find fixtures -name '*.swift' | sort)
  status=0
  printf '\n%-13s %-22s %s\n' tree output "baseline vs forkguard"
  compare() { # label paths...
    local label=$1
    shift
    for i in 0 1; do
      "${binaries[$i]}" check --no-cache --jobs 1 --no-progress --fail-on never \
        --write-facts "$OUT/$label.$i.facts" "$@" >/dev/null 2>&1
      "${binaries[$i]}" check --no-cache --jobs 1 --no-progress --fail-on never --format json "$@" \
        >"$OUT/$label.$i.json" 2>/dev/null
    done
    for kind in facts json; do
      if cmp -s "$OUT/$label.0.$kind" "$OUT/$label.1.$kind"; then
        printf '%-13s %-22s identical (%s bytes)\n' "$label" "$kind" "$(wc -c <"$OUT/$label.1.$kind")"
      else
        printf '%-13s %-22s DIFFERENT\n' "$label" "$kind"
        status=1
      fi
    done
  }
  for tree in "${trees[@]}"; do compare "$tree" "$DEST/$tree"; done
  compare fixtures "${fixtures[@]}"
  exit $status
fi
