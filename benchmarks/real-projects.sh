#!/usr/bin/env bash
# forkguard against the parse floor and clang-tidy on real C projects that are not ours:
# Debian's util-linux 2.38.1 and openssh 9.2p1 (fetched and configured by
# fetch-projects.sh). Every tool sees the same files and flags (a generated
# compile_commands.json). Each variant runs RUNS times; the table shows the median wall
# time, its ratio to `clang-14 -fsyntax-only` over the files one by one, and peak memory.
#
#   benchmarks/real-projects.sh [RUNS]        (default 3)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
runs="${1:-3}"
"$here/fetch-projects.sh" >/dev/null
(cd "$root" && swift build -c release -q --product forkguard)
forkguard="$root/.build/release/forkguard"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cores="$(nproc)"

# measure NAME SETUP COMMAND: median seconds and the peak RSS (MiB) of RUNS runs; SETUP runs
# before each run, untimed (clearing or touching the cache).
measure() {
  local name="$1" setup="$2" command="$3" times=() memory=()
  for _ in $(seq "$runs"); do
    eval "$setup"
    /usr/bin/time -f "%e %M" -o "$work/time" bash -c "$command" >/dev/null 2>&1 || true
    read -r seconds kilobytes < <(tail -n 1 "$work/time")
    times+=("$seconds")
    memory+=("$kilobytes")
  done
  python3 - "$name" "${times[*]}" "${memory[*]}" >>"$work/results" <<'PY'
import statistics, sys
name, times, memory = sys.argv[1], [float(t) for t in sys.argv[2].split()], [int(m) for m in sys.argv[3].split()]
print(f"{name}\t{statistics.median(times):.3f}\t{max(memory) / 1024:.0f}")
PY
}

for project in util-linux-2.38.1 openssh-9.2p1; do
  source_root="$here/.projects/$project"
  database="$work/$project"
  mkdir -p "$database"
  # Every .c file outside hidden folders (quilt's .pc holds pre-patch copies), with the
  # flags a configured build uses for includes; no warnings, no error limit.
  python3 - "$source_root" "$database/compile_commands.json" <<'PY'
import json, os, sys
root, out = sys.argv[1], sys.argv[2]
entries = []
for directory, folders, files in os.walk(root):
    folders[:] = sorted(f for f in folders if not f.startswith("."))
    for name in sorted(files):
        if name.endswith(".c"):
            path = os.path.join(directory, name)
            arguments = ["clang", "-std=gnu17", "-D_GNU_SOURCE", "-DHAVE_CONFIG_H", "-I" + root,
                         "-I" + os.path.join(root, "include"), "-I" + os.path.join(root, "openbsd-compat"),
                         "-I" + directory, "-w", "-ferror-limit=0", "-c", path]
            entries.append({"directory": root, "file": path, "arguments": arguments})
json.dump(entries, open(out, "w"), indent=1)
print(len(entries), "files")
PY
  files=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$database/compile_commands.json")
  python3 -c "
import json, shlex, sys
for e in json.load(open(sys.argv[1])):
    print(' '.join(shlex.quote(a) for a in ['clang-14'] + e['arguments'][1:-2] + ['-fsyntax-only', e['file']]))
" "$database/compile_commands.json" >"$database/syntax-only.sh"
  cache="$work/cache-$project"
  touched=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[0]['file'])" "$database/compile_commands.json")
  check="cd '$source_root' && '$forkguard' check -p '$database' --cache-dir '$cache' --fail-on never"

  : >"$work/results"
  measure "clang-14 -fsyntax-only, 1 job (the floor)" ":" "bash '$database/syntax-only.sh'"
  measure "clang-14 -fsyntax-only, $cores jobs" ":" "xargs -P $cores -I{} bash -c {} <'$database/syntax-only.sh'"
  measure "forkguard cold, 1 job" "rm -rf '$cache'" "$check --jobs 1"
  measure "forkguard cold, $cores jobs" "rm -rf '$cache'" "$check --jobs $cores"
  measure "forkguard cold, $cores jobs, --parse-all-files" "rm -rf '$cache'" "$check --jobs $cores --parse-all-files"
  measure "forkguard warm, no change" ":" "$check --jobs $cores"
  measure "forkguard warm, one file touched" "echo '/* touched */' >>'$touched'" "$check --jobs $cores"
  measure "clang-tidy-14 bugprone-signal-handler, 1 job" ":" \
    "cd '$source_root' && clang-tidy-14 -p '$database' --checks='-*,bugprone-signal-handler' --quiet \$(python3 -c \"import json; print(' '.join(e['file'] for e in json.load(open('$database/compile_commands.json'))))\")"
  # Put the touched file back.
  python3 - "$touched" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
while text.endswith("/* touched */\n"):
    text = text[: -len("/* touched */\n")]
open(path, "w").write(text)
PY
  echo
  echo "$project: $files files, medians of $runs runs"
  python3 - "$work/results" <<'PY'
import sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
floor = float(rows[0][1])
print(f"{'variant':48} {'seconds':>9} {'vs floor':>9} {'peak MiB':>9}")
for name, seconds, memory in rows:
    print(f"{name:48} {float(seconds):9.3f} {float(seconds) / floor:8.2f}x {memory:>9}")
PY
  (cd "$source_root" && "$forkguard" check -p "$database" --cache-dir "$cache" --fail-on never 2>/dev/null) >"$work/findings-$project.txt"
  (cd "$source_root" && "$forkguard" check -p "$database" --cache-dir "$cache" --fail-on never --threads auto 2>/dev/null) >"$work/findings-auto-$project.txt"
  (cd "$source_root" && "$forkguard" check -p "$database" --no-cache --fail-on never --parse-all-files 2>/dev/null) |
    grep -v 'parse incomplete' >"$work/findings-all-$project.txt"
  same=$(grep -v 'parse incomplete' "$work/findings-$project.txt" | cmp -s - "$work/findings-all-$project.txt" && echo "the same" || echo "DIFFERENT")
  parsed=$(cd "$source_root" && "$forkguard" check -p "$database" --no-cache --fail-on never --timings 2>&1 >/dev/null | sed -nE 's/.*parse \(([0-9]+ of [0-9]+) files\).*/\1/p')
  echo "files parsed: $parsed; findings with --parse-all-files: $same"
  echo "findings: $(grep -c ': warning: ' "$work/findings-$project.txt") (--threads auto: $(grep -c ': warning: ' "$work/findings-auto-$project.txt")); by rule and function:"
  sed -nE "s/^[^:]*:[0-9]+:[0-9]+: warning: '([^']*)'.*\[([a-z-]*)\]$/\2 \1/p" "$work/findings-$project.txt" | sort | uniq -c | sort -rn | head -15
  mkdir -p "$here/results"
  cp "$work/findings-$project.txt" "$here/results/$project.txt"
done
