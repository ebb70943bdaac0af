#!/usr/bin/env bash
# Cost of the preload library on a lock-heavy loop, against the uninstrumented program,
# the least any LD_PRELOAD library can add (benchmarks/runtime/minimal_interposer.c, whose
# wrappers only jump to glibc's) and the tools a user would otherwise reach for
# (ThreadSanitizer, Helgrind, DRD). Every variant runs the same program, the variants
# interleaved RUNS times; the table shows medians (and the 25th percentile, which a busy
# machine moves less) and the ratio to the uninstrumented program. Valgrind tools run fewer
# iterations and are scaled per iteration.
#
# THREADS defaults to 1: issue 15's targets are for uncontended lock/unlock. With 2 threads
# on 2 cores the wall time is mostly cache-line transfers between the cores, and whether the
# scheduler runs the two threads at once moves it by 3x between runs of the same binary. Then two more tables: 10,000 fork+_exit with 4 threads busy on a
# lock (benchmarks/runtime/fork_loop.c), and what `forkguard run` adds to a program's start
# (`forkguard run /bin/true` against `/bin/true`, through the C launcher that is the
# installed `forkguard`, and through the Swift tool): wall-clock medians, instruction counts
# from `perf stat` (when perf can count) and peak RSS.
#
#   benchmarks/runtime-overhead.sh [THREADS] [ITERATIONS] [RUNS]
#   FORKGUARD=/path/forkguard   the binary for the start table (default .build/release/forkguard)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
threads="${1:-1}"
iterations="${2:-10000000}"
runs="${3:-11}"
library="$root/.build/preload/libforkguard-preload.so"
[ -f "$library" ] && [ -x "$(dirname "$library")/forkguard-launcher" ] || "$root/scripts/build-preload.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cc -O2 -pthread -o "$work/loop" "$root/benchmarks/runtime/lock_loop.c"
cc -O2 -shared -fPIC -o "$work/minimal.so" "$root/benchmarks/runtime/minimal_interposer.c" -ldl
tsan=""
if cc -O2 -pthread -fsanitize=thread -o "$work/loop-tsan" "$root/benchmarks/runtime/lock_loop.c" 2>/dev/null; then
  tsan="$work/loop-tsan"
fi

# Wall times, variants interleaved round by round so that the machine's drift falls on
# each alike: times[NAME] collects nanoseconds per full iteration count.
declare -A times
record() {
  local name="$1" count="$2"
  shift 2
  local start end
  start=$(date +%s%N)
  "$@" "$threads" "$count" >/dev/null 2>&1
  end=$(date +%s%N)
  times[$name]+="$(( (end - start) * iterations / count )) "
}
# summary NAME: "median p25" in seconds.
summary() {
  python3 -c "
import statistics, sys
values = sorted(int(v) for v in sys.argv[1:])
print(statistics.median(values) / 1e9, values[len(values) // 4] / 1e9)" ${times[$1]}
}

# instructions COMMAND...: instructions of one run (user space, the process and its
# children), from perf stat when the machine lets perf count them, else from callgrind
# (--trace-children: forkguard run's program too); "-" when neither can.
instructions() {
  local counted
  counted=$(perf stat -x, -e instructions "$@" 2>&1 >/dev/null | awk -F, '/instructions/ { print $1; exit }')
  if [[ "$counted" =~ ^[0-9]+$ ]]; then echo "$counted"; return; fi
  if command -v valgrind >/dev/null; then
    valgrind --tool=callgrind --trace-children=yes --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
      awk '/Collected :/ { total += $NF } END { print total ? total : "-" }'
    return
  fi
  echo "-"
}

small=$((iterations / 100))
for _ in $(seq "$runs"); do
  record plain "$iterations" "$work/loop"
  record minimal-interposer "$iterations" env LD_PRELOAD="$work/minimal.so" "$work/loop"
  record forkguard-default "$iterations" env LD_PRELOAD="$library" "$work/loop"
  record forkguard-track "$iterations" env LD_PRELOAD="$library" FORKGUARD_OPTIONS=mode=track "$work/loop"
  record forkguard-track-4-frames "$iterations" env LD_PRELOAD="$library" FORKGUARD_OPTIONS=mode=track:frames=4 "$work/loop"
  if [ -n "$tsan" ]; then record threadsanitizer "$iterations" "$tsan"; fi
done
# Valgrind's tools are a hundred times slower: three runs each, after the others.
if command -v valgrind >/dev/null; then
  for _ in 1 2 3; do
    record helgrind "$small" valgrind -q --tool=helgrind "$work/loop"
    record drd "$small" valgrind -q --tool=drd "$work/loop"
  done
fi
declare -A seconds
for name in "${!times[@]}"; do seconds[$name]=$(summary "$name"); done

# Instructions per loop iteration, without start-up (the library's constructor looks up
# every real function): the difference between runs of 2/100 and 1/100 of the iterations,
# divided by the iterations added (callgrind is slow, so few).
marginal() {
  local one two
  one=$(instructions "$@" "$threads" "$small")
  two=$(instructions "$@" "$threads" "$((small * 2))")
  [[ "$one" =~ ^[0-9]+$ && "$two" =~ ^[0-9]+$ ]] || { echo "-"; return; }
  python3 -c "import sys; print('%.1f' % ((int(sys.argv[2]) - int(sys.argv[1])) / (int(sys.argv[3]) * int(sys.argv[4]))))" \
    "$one" "$two" "$small" "$threads"
}
declare -A counted
counted[plain]=$(marginal "$work/loop")
counted[minimal-interposer]=$(marginal env LD_PRELOAD="$work/minimal.so" "$work/loop")
counted[forkguard-default]=$(marginal env LD_PRELOAD="$library" "$work/loop")
counted[forkguard-track]=$(marginal env LD_PRELOAD="$library" FORKGUARD_OPTIONS=mode=track "$work/loop")

printf '%-26s %10s %8s %10s %8s %16s %8s\n' "variant ($threads thread(s))" "median s" "ratio" "p25 s" "ratio" \
  "instr./iteration" "ratio"
for name in plain minimal-interposer forkguard-default forkguard-track forkguard-track-4-frames threadsanitizer helgrind drd; do
  [ -n "${seconds[$name]:-}" ] || continue
  python3 -c "
import sys
name, median, p25, plain_median, plain_p25, count, plain_count = sys.argv[1:8]
number = lambda text: text.replace('.', '', 1).isdigit()
ratio = '%7.3fx' % (float(count) / float(plain_count)) if number(count) and number(plain_count) else ''
print('%-26s %10.3f %7.2fx %10.3f %7.2fx %16s %8s' % (name, float(median), float(median) / float(plain_median),
      float(p25), float(p25) / float(plain_p25), count if count else '', ratio))" \
    "$name" ${seconds[$name]} ${seconds[plain]} "${counted[$name]:-}" "${counted[plain]}"
done

# The fork table: RUNS rounds of 10,000 fork+_exit with 4 threads busy on a lock, each
# round running plain, default and track one after another, so that the machine's drift
# (2 cores, 4 busy threads) falls on every variant alike; then each variant's median.
fork_once() {
  local begin end
  begin=$(date +%s%N)
  "$@" 4 10000 >/dev/null 2>&1
  end=$(date +%s%N)
  echo "$(( end - begin ))"
}

echo
cc -O2 -pthread -o "$work/forks" "$root/benchmarks/runtime/fork_loop.c"
fork_times_plain=() fork_times_default=() fork_times_track=()
for _ in $(seq "$runs"); do
  fork_times_plain+=("$(fork_once "$work/forks")")
  fork_times_default+=("$(fork_once env LD_PRELOAD="$library" "$work/forks")")
  fork_times_track+=("$(fork_once env LD_PRELOAD="$library" FORKGUARD_OPTIONS=mode=track "$work/forks")")
done
fork_median() { python3 -c "import statistics, sys; print(statistics.median(int(v) for v in sys.argv[1:]) / 1e9)" "$@"; }
fork_plain=$(fork_median "${fork_times_plain[@]}")
fork_default=$(fork_median "${fork_times_default[@]}")
fork_track=$(fork_median "${fork_times_track[@]}")
printf '%-26s %12s %10s\n' "10,000 fork+_exit (4 thr)" "median s" "ratio"
for pair in "plain $fork_plain" "forkguard-default $fork_default" "forkguard-track $fork_track"; do
  set -- $pair
  python3 -c "import sys; print('%-26s %12.3f %9.2fx' % (sys.argv[1], float(sys.argv[2]), float(sys.argv[2]) / float(sys.argv[3])))" "$1" "$2" "$fork_plain"
done

echo
forkguard="${FORKGUARD:-$root/.build/release/forkguard}"
if [ -x "$forkguard" ]; then
  # start NAME COMMAND...: median wall ms of RUNS runs, instructions, peak RSS KiB.
  start() {
    local name="$1"
    shift
    local times=() peak
    for _ in $(seq "$runs"); do
      local begin end
      begin=$(date +%s%N)
      "$@" >/dev/null 2>&1
      end=$(date +%s%N)
      times+=("$(( (end - begin) ))")
    done
    peak=$(/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1)
    python3 -c "
import statistics, sys
print('%-26s %10.1f %16s %10s' % (sys.argv[1], statistics.median(int(v) for v in sys.argv[4:]) / 1e6, sys.argv[2], sys.argv[3]))" \
      "$name" "$(instructions "$@")" "$peak" "${times[@]}"
  }
  printf '%-26s %10s %16s %10s\n' "program start" "median ms" "instructions" "peak KiB"
  start "/bin/true" /bin/true
  start "LD_PRELOAD /bin/true" env LD_PRELOAD="$library" /bin/true
  # The installed `forkguard` is the launcher; the Swift tool's own `run` goes through it too.
  launcher="$(dirname "$library")/forkguard-launcher"
  # A program whose fork child reports once: the tool is started to print it.
  cc -g -O0 -pthread -o "$work/report-once" "$root/fixtures/runtime-child-deadlock/worker-holds-mutex.c"
  start "launcher run /bin/true" env FORKGUARD_TOOL="$forkguard" "$launcher" run /bin/true
  start "launcher run, one report" env FORKGUARD_TOOL="$forkguard" "$launcher" run --output /dev/null "$work/report-once"
  start "tool run /bin/true" "$forkguard" run /bin/true
  start "forkguard --version" "$forkguard" --version
fi
