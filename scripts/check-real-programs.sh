#!/usr/bin/env bash
# Runs real programs with and without libforkguard-preload.so and compares their output and
# exit status: python3 with threads and multiprocessing (fork), git, make -j2, and (with
# --swift-build) swift build of forkguard itself. Prints one line per program and the
# reports the library wrote. Slow programs live here, not in the test suite.
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
if [ "${1:-}" = "--swift-build" ]; then
  compare "swift build (forkguard)" "mode=default" "$root" sh -c \
    "swift build --scratch-path '$work/swift-build' -q >/dev/null 2>&1; echo status \$?; '$work/swift-build/debug/forkguard' rules | wc -l"
fi
echo "$passes same, $failures different"
[ "$failures" = 0 ]
