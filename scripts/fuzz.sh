#!/usr/bin/env bash
# Runs one libFuzzer harness (or all) for a number of seconds:
#   scripts/fuzz.sh TARGET SECONDS      TARGET: a name below, or all
#   scripts/fuzz.sh --list
# Harnesses live in fuzz/ (Swift, a debug build with ASan and libFuzzer's coverage: it
# compiles in parallel, where a release build of swift-syntax with ASan takes over half an
# hour on two cores) and fuzz/options/
# (the preload library's FORKGUARD_OPTIONS parser, built with clang -fsanitize=fuzzer).
# The corpus grows in .build/fuzz/corpus/TARGET, seeded from fuzz/seeds and the fixtures;
# crashes land in .build/fuzz/crashes/TARGET; each run appends a line to
# .build/fuzz/runs.tsv (target, seconds, executions, crashes, date) for docs/reliability.md.
# FUZZ_SEED=N fixes libFuzzer's seed (CI's smoke runs use it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
targets=(configuration suppressions facts-decoder compilation-database lsp c-front-end swift-front-end options)
if [ "${1:-}" = "--list" ]; then printf '%s\n' "${targets[@]}"; exit 0; fi
if [ $# -ne 2 ]; then echo "usage: scripts/fuzz.sh TARGET|all SECONDS (targets: ${targets[*]})" >&2; exit 2; fi
target="$1"
seconds="$2"
work="$root/.build/fuzz"
mkdir -p "$work"

build_swift() {
  [ -n "${FUZZ_BUILT:-}" ] && return
  echo "fuzz: building the Swift harnesses (ASan, libFuzzer's coverage)" >&2
  # -sanitize=fuzzer would link libFuzzer's main, which clashes with the main SwiftPM
  # renames into every executable; so: its instrumentation, and the library without main
  # (each harness starts libFuzzer with LLVMFuzzerRunDriver).
  local runtime
  runtime="$(find "$(dirname "$(command -v swiftc)")/../lib/clang" -name 'libclang_rt.fuzzer_no_main-x86_64.a' | head -1)"
  [ -n "$runtime" ] || { echo "fuzz: the Swift toolchain has no libclang_rt.fuzzer_no_main" >&2; return 1; }
  swift build --package-path fuzz -c debug --build-path "$work/swift" \
    -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp \
    -Xlinker "$runtime" -Xlinker -lstdc++ >"$work/swift-build.log" 2>&1 || { tail -30 "$work/swift-build.log" >&2; return 1; }
  FUZZ_BUILT=1
}

build_options() {
  local clang=/opt/swift/usr/bin/clang
  [ -x "$clang" ] || clang="$(command -v clang)"
  mkdir -p "$work/c"
  "$clang" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=gnu11 \
    -I Sources/ForkGuardPreload -o "$work/c/fuzz-options" fuzz/options/fuzz_options.c Sources/ForkGuardPreload/fg_options.c \
    >"$work/c/build.log" 2>&1 || { cat "$work/c/build.log" >&2; return 1; }
}

# The seeds: a few hand-written inputs per harness, and the fixtures that exercise it.
seed() {
  local name="$1" corpus="$work/corpus/$1"
  mkdir -p "$corpus"
  [ -d "fuzz/seeds/$name" ] && cp -n fuzz/seeds/"$name"/* "$corpus"/ 2>/dev/null || true
  case "$name" in
    configuration) find fixtures examples -name .forkguard.yml | while read -r f; do cp -n "$f" "$corpus/$(echo "$f" | tr / _)"; done ;;
    suppressions | c-front-end)
      find fixtures examples -name '*.c' -size -64k | while read -r f; do cp -n "$f" "$corpus/$(echo "$f" | tr / _)"; done ;;
    swift-front-end) find fixtures examples -name '*.swift' -size -64k | while read -r f; do cp -n "$f" "$corpus/$(echo "$f" | tr / _)"; done ;;
    facts-decoder)
      if [ -z "$(ls -A "$corpus")" ]; then
        swift build --product forkguard >&2
        for f in fixtures/fork-child-unsafe-call/*.c fixtures/lock-held-across-fork/*.c fixtures/signal-handler-unsafe-call/*.swift; do
          .build/debug/forkguard check "$f" --no-cache --write-facts "$corpus/$(basename "$f").facts" >/dev/null 2>&1 || true
        done
      fi ;;
  esac
}

run() {
  local name="$1" binary
  if [ "$name" = options ]; then
    build_options || { echo "fuzz: cannot build the options harness" >&2; return 1; }
    binary="$work/c/fuzz-options"
  else
    build_swift || { echo "fuzz: cannot build the Swift harnesses" >&2; return 1; }
    binary="$work/swift/debug/fuzz-$name"
  fi
  seed "$name"
  mkdir -p "$work/crashes/$name"
  local log="$work/$name.log" status=0
  touch "$log.start"
  echo "fuzz: $name for $seconds s" >&2
  # The front ends see whole files; the small parsers get short inputs.
  local max_len=4096
  case "$name" in c-front-end | swift-front-end | lsp) max_len=16384 ;; esac
  # FUZZ_KEEP_GOING=1 (the long runs): after a crash, note it and fuzz on for the time left,
  # so one finding does not end an hour's run; the executions of every leg add up.
  local started executions=0 left="$seconds" leg=0 crashes
  started="$(date +%s)"
  : >"$log"
  while [ "$left" -gt 0 ]; do
    leg=$((leg + 1))
    status=0
    "$binary" "$work/corpus/$name" -max_total_time="$left" -timeout=30 -rss_limit_mb=4096 -max_len="$max_len" \
      -print_final_stats=1 -artifact_prefix="$work/crashes/$name/" ${FUZZ_SEED:+-seed="$FUZZ_SEED"} \
      >"$log.leg" 2>&1 || status=$?
    cat "$log.leg" >>"$log"
    local count
    count="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log.leg" | grep -o '[0-9]*$' || true)"
    executions=$((executions + ${count:-0}))
    [ "$status" -eq 0 ] || [ -n "${FUZZ_KEEP_GOING:-}" ] || break
    left=$((seconds - ($(date +%s) - started)))
  done
  rm -f "$log.leg"
  # Crashes, timeouts (hangs), out-of-memory and leaks count; slow-unit-* files are only slow.
  crashes="$(find "$work/crashes/$name" -type f -newer "$log.start" \( -name 'crash-*' -o -name 'timeout-*' \
    -o -name 'oom-*' -o -name 'leak-*' \) 2>/dev/null | wc -l || echo 0)"
  [ "$crashes" -eq 0 ] || status=1
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$seconds" "$executions" "$crashes" "$(date -u +%FT%TZ)" >>"$work/runs.tsv"
  echo "fuzz: $name: $executions executions in $seconds s, $crashes crashes" >&2
  if [ "$status" -ne 0 ]; then
    echo "fuzz: $name FAILED; see $log and $work/crashes/$name/" >&2
    grep -m5 -E 'ERROR|Fatal error|panic|SUMMARY' "$log" >&2 || true
    return 1
  fi
}

failed=0
if [ "$target" = all ]; then
  for name in "${targets[@]}"; do run "$name" || failed=1; done
else
  printf '%s\n' "${targets[@]}" | grep -qx "$target" || { echo "fuzz: unknown target '$target' (targets: ${targets[*]})" >&2; exit 2; }
  run "$target" || failed=1
fi
exit "$failed"
