#!/usr/bin/env bash
# Cost of the preload library on a lock-heavy loop, against the uninstrumented program
# and the tools a user would otherwise reach for (ThreadSanitizer, Helgrind, DRD).
# Every variant runs the same program side by side, RUNS times; the table shows medians
# and the ratio to the uninstrumented median. Valgrind tools run fewer iterations and are
# scaled per iteration. Then two more tables: 10,000 fork+_exit with 4 threads busy on a
# lock (benchmarks/runtime/fork_loop.c), and what `forkguard run` adds to a program's start
# (`forkguard run /bin/true` against `/bin/true`, through the C launcher that is the
# installed `forkguard`, and through the Swift tool): wall-clock medians, instruction counts
# from `perf stat` (when perf can count) and peak RSS.
#
#   benchmarks/runtime-overhead.sh [THREADS] [ITERATIONS] [RUNS]
#   FORKGUARD=/path/forkguard   the binary for the start table (default .build/release/forkguard)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
threads="${1:-2}"
iterations="${2:-2000000}"
runs="${3:-7}"
library="$root/.build/preload/libforkguard-preload.so"
[ -f "$library" ] && [ -x "$(dirname "$library")/forkguard-launcher" ] || "$root/scripts/build-preload.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cc -O2 -pthread -o "$work/loop" "$root/benchmarks/runtime/lock_loop.c"
tsan=""
if cc -O2 -pthread -fsanitize=thread -o "$work/loop-tsan" "$root/benchmarks/runtime/lock_loop.c" 2>/dev/null; then
  tsan="$work/loop-tsan"
fi

# seconds NAME ITERATIONS COMMAND...: median wall time of RUNS runs, per full iteration count.
median() {
  local name="$1" count="$2"
  shift 2
  local times=()
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s%N)
    "$@" "$threads" "$count" >/dev/null 2>&1
    end=$(date +%s%N)
    times+=("$(( (end - start) ))")
  done
  python3 -c "
import statistics, sys
values = sorted(int(v) for v in sys.argv[3:])
scale = int(sys.argv[2]) / int(sys.argv[1])
print(statistics.median(values) * scale / 1e9)" "$count" "$iterations" "${times[@]}"
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

declare -A seconds
seconds[plain]=$(median plain "$iterations" "$work/loop")
seconds[forkguard-default]=$(median default "$iterations" env LD_PRELOAD="$library" "$work/loop")
seconds[forkguard-track]=$(median track "$iterations" env LD_PRELOAD="$library" FORKGUARD_OPTIONS=mode=track "$work/loop")
seconds[forkguard-track-4-frames]=$(median track4 "$iterations" env LD_PRELOAD="$library" FORKGUARD_OPTIONS=mode=track:frames=4 "$work/loop")
[ -n "$tsan" ] && seconds[threadsanitizer]=$(median tsan "$iterations" "$tsan")
small=$((iterations / 100))
if command -v valgrind >/dev/null; then
  seconds[helgrind]=$(median helgrind "$small" valgrind -q --tool=helgrind "$work/loop")
  seconds[drd]=$(median drd "$small" valgrind -q --tool=drd "$work/loop")
fi

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
counted[forkguard-default]=$(marginal env LD_PRELOAD="$library" "$work/loop")
counted[forkguard-track]=$(marginal env LD_PRELOAD="$library" FORKGUARD_OPTIONS=mode=track "$work/loop")

printf '%-26s %12s %10s %16s %8s\n' "variant ($threads threads)" "median s" "ratio" "instr./iteration" "ratio"
for name in plain forkguard-default forkguard-track forkguard-track-4-frames threadsanitizer helgrind drd; do
  [ -n "${seconds[$name]:-}" ] || continue
  python3 -c "
import sys
name, seconds, plain, count, plain_count = sys.argv[1:6]
number = lambda text: text.replace('.', '', 1).isdigit()
ratio = '%7.3fx' % (float(count) / float(plain_count)) if number(count) and number(plain_count) else ''
print('%-26s %12.3f %9.1fx %16s %8s' % (name, float(seconds), float(seconds) / float(plain), count if count else '', ratio))" \
    "$name" "${seconds[$name]}" "${seconds[plain]}" "${counted[$name]:-}" "${counted[plain]}"
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
