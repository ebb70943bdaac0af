#!/usr/bin/env bash
# Runs real programs with and without libforkguard-preload.so and compares their output and
# exit status: python3 with threads and multiprocessing (fork), git, make -j2, and (with
# --swift-build) swift build of forkguard itself. Prints one line per program and the
# reports the library wrote. Then programs that hang without forkguard (Perl ithreads with a
# threads::shared lock across fork: every plain run timed out; CPython logging across
# os.fork) must end under it and report. Slow programs live here, not in the test suite.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
library="${FORKGUARD_PRELOAD_LIBRARY:-$root/.build/preload/libforkguard-preload.so}"
[ -f "$library" ] || "$root/scripts/build-preload.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0
passes=0

# compare NAME MODE DIR COMMAND...: run twice (plain, preloaded) and compare.
compare() {
  local name="$1" options="$2" dir="$3"
  shift 3
  (cd "$dir" && "$@") >"$work/plain.out" 2>"$work/plain.err"
  local plain=$?
  rm -f "$work"/reports.*
  (cd "$dir" && LD_PRELOAD="$library" FORKGUARD_OPTIONS="$options:log_path=$work/reports" "$@") \
    >"$work/preloaded.out" 2>"$work/preloaded.err"
  local preloaded=$?
  local reports
  reports=$(cat "$work"/reports.* 2>/dev/null | grep -c 'fg1 begin' || true)
  if [ "$plain" = "$preloaded" ] && cmp -s "$work/plain.out" "$work/preloaded.out"; then
    echo "same   $name [$options]: exit $plain, $(wc -l <"$work/plain.out") lines of output, $reports reports"
    passes=$((passes + 1))
  else
    echo "DIFFER $name [$options]: exit $plain vs $preloaded"
    diff "$work/plain.out" "$work/preloaded.out" | head -5
    failures=$((failures + 1))
  fi
  if [ "$reports" != 0 ]; then
    grep -h 'forkguard: ' "$work"/reports.* | sort | uniq -c | head -5
  fi
}

# caught NAME COMMAND...: a program whose fork children hang without forkguard (a lock a
# vanished thread held): under the library it must end (within 120 s) and report it.
caught() {
  local name="$1"
  shift
  rm -f "$work"/reports.*
  (cd "$work" && LD_PRELOAD="$library" FORKGUARD_OPTIONS="log_path=$work/reports" timeout 120 "$@") \
    >"$work/caught.out" 2>"$work/caught.err"
  local status=$?
  local reports
  reports=$(cat "$work"/reports.* 2>/dev/null | grep -c 'fg1 begin rule=runtime-child-deadlock' || true)
  if [ "$status" != 124 ] && [ "$reports" -gt 0 ]; then
    echo "caught $name: exit $status, $reports runtime-child-deadlock reports, no child hung"
    passes=$((passes + 1))
  else
    echo "MISSED $name: exit $status, $reports reports"
    failures=$((failures + 1))
  fi
}

cat >"$work/threads.py" <<'PY'
import multiprocessing as mp, threading, hashlib
def work(n):
    return hashlib.sha256(str(n).encode()).hexdigest()[:8]
stop = threading.Event()
def spin(results, i):
    j = 0
    while not stop.is_set():
        results[i] = work(i * 1000 + j % 7)
        j += 1
if __name__ == "__main__":
    mp.set_start_method("fork")
    results = [None] * 8
    threads = [threading.Thread(target=spin, args=(results, i)) for i in range(8)]
    for t in threads: t.start()
    # The pool forks while the threads are busy.
    with mp.Pool(4) as pool:
        print(pool.map(work, range(64)))
    stop.set()
    for t in threads: t.join()
    print(sorted(set(r is not None for r in results)))
PY

mkdir -p "$work/repo" "$work/make"
for mode in "mode=default" "mode=track" "mode=default:unsafe_calls=1"; do
  compare "python3 threads+multiprocessing(fork)" "$mode" "$work" python3 threads.py
done
git -C "$work/repo" init -q && git -C "$work/repo" config user.email t@t && git -C "$work/repo" config user.name t
for i in 1 2 3; do echo "line $i" >>"$work/repo/file"; git -C "$work/repo" add file; git -C "$work/repo" commit -qm "commit $i"; done
for mode in "mode=default" "mode=track"; do
  compare "git log --stat" "$mode" "$work/repo" git log --stat --format=%s
  compare "git status" "$mode" "$work/repo" git status --porcelain=v2 --branch
  compare "git grep" "$mode" "$work/repo" git grep -n line
done
for i in 1 2 3 4 5 6; do printf 'int f%d(void) { return %d; }\n' "$i" "$i" >"$work/make/f$i.c"; done
printf 'OBJS=$(patsubst %%.c,%%.o,$(wildcard *.c))\nall: lib.a\nlib.a: $(OBJS)\n\tar rcs $@ $^\n%%.o: %%.c\n\tcc -c -o $@ $<\nclean:\n\trm -f *.o lib.a\n' >"$work/make/Makefile"
for mode in "mode=default" "mode=track"; do
  make -C "$work/make" -s clean
  compare "make -j2" "$mode" "$work/make" sh -c 'make -s -j2 && ls *.o lib.a'
done
# Perl ithreads: a thread loops on lock() of a threads::shared variable while the main
# thread forks children that take it too (a lock the vanished thread owns).
cat >"$work/shared-lock.pl" <<'PL'
use strict; use warnings;
use threads; use threads::shared;
my $counter :shared = 0;
my $stop :shared = 0;
my $worker = threads->create(sub { while (1) { lock($counter); $counter++; last if $stop; } });
sleep 1;
my @children;
for (1 .. 20) {
  my $pid = fork();
  if ($pid == 0) { { lock($counter); $counter++; } exit(0); }
  push @children, $pid;
}
waitpid($_, 0) for @children;
{ lock($stop); $stop = 1; }
$worker->join();
PL
perl -Mthreads -e 1 2>/dev/null && caught "perl threads::shared lock across fork" perl shared-lock.pl
# CPython: threads log to a file while the main thread forks workers that log too.
caught "python3 logging across os.fork" python3 "$root/fixtures/runtime-child-deadlock/python-logging-while-a-thread-writes.py"
if [ "${1:-}" = "--swift-build" ]; then
  compare "swift build (forkguard)" "mode=default" "$root" sh -c \
    "swift build --scratch-path '$work/swift-build' -q >/dev/null 2>&1; echo status \$?; '$work/swift-build/debug/forkguard' rules | wc -l"
fi
echo "$passes same or caught, $failures different or missed"
[ "$failures" = 0 ]
