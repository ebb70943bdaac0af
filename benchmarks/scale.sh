#!/usr/bin/env bash
# Scale benchmark (issue 17): forkguard against the parse floor on six configured Debian
# bookworm source trees, side by side in one run, and a growth check.
#
# For util-linux, openssh, rsyslog, dbus, git and postgresql-15 (fetched with
# `apt-get source` into benchmarks/.projects/scale/, not committed), each configured with
# its build dependencies and built once under `bear` with CC=clang-14, so its generated
# headers exist and its compile_commands.json is the real one. The database is cleaned
# once (C files only, one entry per file, no dependency-file or output flags) and both
# tools read that same list of files and flags:
#
#   the floor       clang-14 -fsyntax-only on every entry, `xargs -P JOBS`
#   cold            forkguard check -p DB --jobs JOBS --cache-dir CACHE (cache emptied)
#   warm            the same again, nothing changed
#   warm, touched   the same after a comment was appended to one database file that
#                   calls fork (a new comment each run, so the cache cannot know it);
#                   the file is put back afterwards
#
# Each round runs the four variants one after the other, RUNS rounds per tree, so a busy
# machine slows every variant alike; the table shows medians, the ratio to the floor,
# the cold run's peak memory (/usr/bin/time %M) and each phase's share of the cold run
# (from `--timings`); cpu/fl is the cold run's CPU time (user + system) over the floor's,
# which a busy machine moves less than wall time. A `!` marks a value that misses the
# issue's targets: every tree finishes; postgresql-15 cold <= 0.5x the floor and <= 1 GiB;
# no phase but parsing takes more than 10% of a cold run; warm <= 0.05x the floor.
#
# The growth check copies one tree (GROWTH_TREE) 1, 2 and 4 times under different folder
# names, with one database over all copies, runs forkguard cold on each and prints the
# fitted exponent of time and of peak memory against the number of copies (goal <= 1.1).
#
#   benchmarks/scale.sh [TREE...]        (default: all six; or TREES="util-linux openssh")
#
#   FORKGUARD=/path/forkguard   binary to measure (default: .build/release/forkguard)
#   RUNS=3                      rounds per tree and per growth step (medians)
#   JOBS=2                      parse jobs for forkguard, xargs -P for the floor, make -j
#   TIMEOUT=1800                seconds one command may take before the tree counts as
#                               not finished
#   GROWTH_TREE=util-linux      tree copied by the growth check; GROWTH=0 skips it
#   PREPARE_ONLY=1              fetch, configure and build the trees, then stop
#
# The table also goes to benchmarks/results/scale/table.txt, and every run's timings,
# --timings and findings to benchmarks/results/scale/runs/ (not committed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
scale="$here/.projects/scale"
results="$here/results/scale"
all_trees=(util-linux openssh rsyslog dbus git postgresql-15)
if [ "$#" -gt 0 ]; then
  trees=("$@")
elif [ -n "${TREES:-}" ]; then
  read -r -a trees <<<"$TREES"
else
  trees=("${all_trees[@]}")
fi
runs="${RUNS:-3}"
jobs="${JOBS:-2}"
limit="${TIMEOUT:-1800}"
growth_tree="${GROWTH_TREE:-util-linux}"
forkguard="$(realpath "${FORKGUARD:-$root/.build/release/forkguard}")"
mkdir -p "$scale" "$results"

# shellcheck source=benchmarks/debian-sources.sh disable=SC1091
. "$here/debian-sources.sh"
extra=()
command -v clang-14 >/dev/null || extra+=(clang-14)
command -v bear >/dev/null || extra+=(bear)
command -v python3 >/dev/null || extra+=(python3)
command -v make >/dev/null || extra+=(make)
command -v rsync >/dev/null || extra+=(rsync)
command -v autoreconf >/dev/null || extra+=(autoconf automake libtool autopoint gettext pkg-config)
debian_sources_ready ${extra[@]+"${extra[@]}"}
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"

log() { echo "scale: $*" >&2; }

# source_tree TREE: the unpacked source tree of a fetched package.
source_tree() {
  find "$scale/$1" -mindepth 1 -maxdepth 1 -type d -name "$1-*" | sort | head -n 1
}

# fetch TREE: apt-get source into .projects/scale/TREE/ (skipped when present). The
# newest version first; a mirror may lack one version's files, then the next.
fetch() {
  local package="$1" version
  [ -d "$scale/$package" ] && [ -n "$(source_tree "$package")" ] && return 0
  log "fetching $package"
  rm -rf "$scale/$package.tmp"
  mkdir -p "$scale/$package.tmp"
  for version in "" $(apt-cache showsrc "$package" | sed -n 's/^Version: //p' | sort -ru); do
    rm -rf "${scale:?}/$package.tmp"/*
    if (cd "$scale/$package.tmp" && apt-get source -qq "$package${version:+=$version}" >/dev/null 2>&1); then
      rm -rf "${scale:?}/$package"
      mv "$scale/$package.tmp" "$scale/$package"
      return 0
    fi
  done
  rm -rf "$scale/$package.tmp"
  log "$package: apt-get source failed"
  return 1
}

# build TREE SOURCE RAW: configure the tree with clang-14 and build it under bear, which
# writes the compile database RAW. Run in SOURCE; a failing make still leaves the headers
# it generated and the database of what it compiled (-k goes on past errors).
build() {
  local tree="$1" raw="$3"
  export CC=clang-14
  case "$tree" in
    util-linux)
      [ -f config.status ] || ./configure --disable-nls
      bear --output "$raw" -- make -k -j"$jobs" ;;
    openssh)
      [ -f config.status ] || { autoreconf -fi && ./configure; }
      bear --output "$raw" -- make -k -j"$jobs" ;;
    rsyslog)
      # Debian's modules (debian/rules), without the test bench; the defaults if a
      # library is missing.
      [ -f config.status ] || ./configure --enable-imptcp --enable-imjournal --enable-omjournal --enable-kmsg \
        --enable-mysql --enable-pgsql --enable-ommongodb --enable-elasticsearch --enable-imkafka \
        --enable-omkafka --enable-mail --enable-imfile --enable-impstats --enable-klog --enable-gssapi-krb5 \
        --enable-gnutls --enable-openssl --enable-relp --enable-snmp --enable-pmaixforwardedfrom \
        --enable-pmciscoios --enable-pmcisconames --enable-pmlastmsg --enable-pmnormalize --enable-pmsnare \
        --enable-omstdout --enable-omprog --enable-omuxsock --enable-mmanon --enable-mmnormalize \
        --enable-mmjsonparse --enable-mmutf8fix --enable-mmpstrucdata --enable-mmsequence --enable-mmfields \
        --enable-mmrm1stspace --enable-mmkubernetes --enable-imczmq --enable-omczmq --enable-omhiredis \
        --enable-fmhash --enable-imdiag --enable-libzstd --disable-libgcrypt --disable-generate-man-pages \
        --disable-fmhttp --disable-liblogging-stdlog || ./configure
      bear --output "$raw" -- make -k -j"$jobs" ;;
    dbus)
      # The defaults: the modular tests are built too when GLib is there.
      [ -f config.status ] || ./configure
      bear --output "$raw" -- make -k -j"$jobs" ;;
    git)
      # No configure: the Makefile's defaults, which generate command-list.h,
      # config-list.h and hook-list.h on the way.
      bear --output "$raw" -- make -k -j"$jobs" CC=clang-14 all ;;
    postgresql-15)
      [ -f config.status ] || ./configure --without-llvm
      bear --output "$raw" -- make -k -j"$jobs" ;;
    *)
      [ -f config.status ] || ./configure
      bear --output "$raw" -- make -k -j"$jobs" ;;
  esac
}

# prepare TREE: fetch, install build dependencies, configure, build, and clean the compile
# database into .projects/scale/TREE/db/. Idempotent: each step is skipped once done.
prepare() {
  local tree="$1" source raw status
  fetch "$tree" || return 1
  source="$(source_tree "$tree")"
  raw="$scale/$tree/compile_commands.raw.json"
  if [ ! -f "$raw" ]; then
    log "$tree: installing build dependencies"
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get build-dep -y -qq "$tree" >"$scale/$tree/build-dep.log" 2>&1 ||
      log "$tree: apt-get build-dep failed (see $scale/$tree/build-dep.log); configuring anyway"
    log "$tree: configuring and building under bear (log: $scale/$tree/build.log)"
    status=0
    # An interrupted earlier build left objects that make would not compile again, and bear
    # records only what is compiled.
    (cd "$source" && { [ ! -f Makefile ] || make clean >/dev/null 2>&1 || true; } && build "$tree" "$source" "$raw.tmp") >"$scale/$tree/build.log" 2>&1 || status=$?
    if [ ! -s "$raw.tmp" ]; then
      log "$tree: the build wrote no compile database (status $status)"
      return 1
    fi
    echo "$status" >"$scale/$tree/build.status"
    mv "$raw.tmp" "$raw"
  fi
  if [ ! -f "$scale/$tree/db/touched" ] || [ "$raw" -nt "$scale/$tree/db/touched" ]; then
    mkdir -p "$scale/$tree/db"
    python3 - "$raw" "$scale/$tree/db" "$source" <<'PY'
import json, os, re, shlex, sys
raw, out, source = sys.argv[1], sys.argv[2], os.path.realpath(sys.argv[3])
# Flags that write files beside the object; dropped so neither tool writes into the tree.
with_value = {"-o", "-MF", "-MT", "-MQ"}
alone = {"-c", "-MD", "-MMD", "-MP", "-M", "-MM"}
entries, seen = [], set()
for entry in json.load(open(raw)):
    directory = entry["directory"]
    path = os.path.realpath(os.path.join(directory, entry["file"]))
    if not path.endswith(".c") or path in seen or not os.path.isfile(path):
        continue
    # Outside the tree (configure's tests) or in a hidden folder (quilt's .pc copies).
    relative = os.path.relpath(path, source)
    if relative.startswith("..") or any(part.startswith(".") for part in relative.split(os.sep)):
        continue
    arguments = entry.get("arguments") or shlex.split(entry["command"])
    flags, skip = [], False
    for argument in arguments[1:]:
        if skip:
            skip = False
        elif argument in with_value:
            skip = True
        elif argument in alone or argument.startswith(("-Wp,-MD", "-Wp,-MMD")):
            pass
        elif os.path.realpath(os.path.join(directory, argument)) == path:
            pass
        else:
            flags.append(argument)
    seen.add(path)
    entries.append({"directory": directory, "file": path, "arguments": ["clang-14"] + flags + ["-c", path]})
entries.sort(key=lambda e: e["file"])
json.dump(entries, open(os.path.join(out, "compile_commands.json"), "w"), indent=1)
# The floor: the same entries, one shell command each, NUL-separated for xargs -0.
with open(os.path.join(out, "floor.cmds"), "w") as commands:
    for e in entries:
        command = ["clang-14"] + e["arguments"][1:-2] + ["-fsyntax-only", e["file"]]
        commands.write(f"cd {shlex.quote(e['directory'])} && exec {' '.join(map(shlex.quote, command))}\0")
# The file touched by the warm run: the first that stores fork's result (so forkguard
# parses it), else the first that mentions fork, else the first.
def first(pattern):
    return next((e["file"] for e in entries if re.search(pattern, open(e["file"], "rb").read())), None)
touched = first(rb"=\s*fork\s*\(\s*\)") or first(rb"\bfork\s*\(") or entries[0]["file"]
open(os.path.join(out, "touched"), "w").write(touched + "\n")
print(f"{len(entries)} files", file=sys.stderr)
PY
  fi
}

for tree in "${trees[@]}"; do
  prepare "$tree" || log "$tree: not prepared"
done
[ "${PREPARE_ONLY:-0}" = 1 ] && exit 0
"$forkguard" --version >/dev/null

work="$(mktemp -d)"
touched_file=""
cleanup() {
  # Put a touched file back even when interrupted.
  if [ -n "$touched_file" ] && [ -f "$work/touched.orig" ]; then cp -p "$work/touched.orig" "$touched_file"; fi
  rm -rf "$work"
}
trap cleanup EXIT

# timed NAME DIRECTORY COMMAND...: runs COMMAND in DIRECTORY under timeout and
# /usr/bin/time; writes NAME.time ("status seconds KiB CPU-seconds"), NAME.out and NAME.err.
timed() {
  local name="$1" directory="$2" status=0 seconds kilobytes user system
  shift 2
  (cd "$directory" && /usr/bin/time -f "%e %M %U %S" -o "$name.rusage" timeout "$limit" "$@" >"$name.out" 2>"$name.err") || status=$?
  read -r seconds kilobytes user system < <(tail -n 1 "$name.rusage")
  echo "$status $seconds $kilobytes $(python3 -c "print(round($user + $system, 2))")" >"$name.time"
  return 0
}

# failed NAME: whether the timed command NAME did not finish cleanly.
failed() { [ "$(cut -d' ' -f1 "$1.time")" != 0 ]; }


started=$(date +%s)
for tree in "${trees[@]}"; do
  out="$work/$tree"
  mkdir -p "$out"
  database="$scale/$tree/db"
  if [ ! -f "$database/compile_commands.json" ]; then
    echo "not prepared: fetch, configure or build failed (see the messages above)" >"$out/failure"
    continue
  fi
  source="$(source_tree "$tree")"
  touched_file="$(cat "$database/touched")"
  cp -p "$touched_file" "$work/touched.orig"
  cache="$work/cache-$tree"
  check=("$forkguard" check -p "$database" --jobs "$jobs" --cache-dir "$cache" --fail-on never --timings --no-progress)
  log "$tree: $runs rounds of floor, cold, warm, warm with $(basename "$touched_file") touched"
  for run in $(seq "$runs"); do
    timed "$out/floor.$run" "$source" xargs -0 -P "$jobs" -n 1 sh -c <"$database/floor.cmds"
    if [ "$(cut -d' ' -f1 "$out/floor.$run.time")" = 124 ]; then
      echo "the floor timed out after $limit s" >"$out/failure"
      break
    fi
    rm -rf "$cache"
    timed "$out/cold.$run" "$source" "${check[@]}"
    if failed "$out/cold.$run"; then
      if [ "$(cut -d' ' -f1 "$out/cold.$run.time")" = 124 ]; then
        echo "forkguard cold timed out after $limit s" >"$out/failure"
      else
        echo "forkguard cold: exit $(cut -d' ' -f1 "$out/cold.$run.time"): $(grep -v ' s$' "$out/cold.$run.err" | tail -n 1)" >"$out/failure"
      fi
      break
    fi
    timed "$out/warm.$run" "$source" "${check[@]}"
    echo "/* forkguard scale.sh touch $run $(date +%s%N) */" >>"$touched_file"
    timed "$out/touched.$run" "$source" "${check[@]}"
    cp -p "$work/touched.orig" "$touched_file"
    log "$tree: round $run: floor $(cut -d' ' -f2 "$out/floor.$run.time") s, cold $(cut -d' ' -f2 "$out/cold.$run.time") s"
  done
  touched_file=""
  rm -rf "$cache"
  printf '%s\n' "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$database/compile_commands.json")" >"$out/files"
  cp "$database/touched" "$out/touched"
  cat "$scale/$tree/build.status" >"$out/build.status" 2>/dev/null || true
done

# The growth check: GROWTH_TREE copied 1, 2 and 4 times (copy-a … copy-d, the source
# tree with its generated files but without objects), one database over the copies.
if [ "${GROWTH:-1}" != 0 ]; then
  growth="$scale/growth-$growth_tree"
  if [ -f "$scale/$growth_tree/db/compile_commands.json" ]; then
    source="$(source_tree "$growth_tree")"
    for copy in a b c d; do
      if [ ! -d "$growth/copy-$copy" ]; then
        log "growth: copying $growth_tree to copy-$copy"
        mkdir -p "$growth"
        rsync -a --exclude '*.o' --exclude '*.lo' --exclude '*.a' --exclude '.libs' --exclude '.deps' \
          "$source/" "$growth/copy-$copy.tmp/"
        mv "$growth/copy-$copy.tmp" "$growth/copy-$copy"
      fi
    done
    for copies in 1 2 4; do
      mkdir -p "$growth/db-$copies"
      python3 - "$scale/$growth_tree/db/compile_commands.json" "$source" "$growth" "$copies" \
        "$growth/db-$copies/compile_commands.json" <<'PY'
import json, sys
database, source, growth, copies, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
entries = json.load(open(database))
moved = []
for copy in "abcd"[:copies]:
    target = f"{growth}/copy-{copy}"
    for e in entries:
        moved.append({"directory": e["directory"].replace(source, target), "file": e["file"].replace(source, target),
                      "arguments": [a.replace(source, target) for a in e["arguments"]]})
json.dump(moved, open(out, "w"), indent=1)
PY
    done
    out="$work/growth"
    mkdir -p "$out"
    log "growth: $runs rounds of forkguard cold on 1, 2 and 4 copies of $growth_tree"
    for run in $(seq "$runs"); do
      for copies in 1 2 4; do
        rm -rf "$work/cache-growth"
        check=("$forkguard" check -p "$growth/db-$copies" --jobs "$jobs" --cache-dir "$work/cache-growth" --fail-on never
          --timings --no-progress)
        timed "$out/$copies.$run" "$growth" "${check[@]}"
      done
    done
    rm -rf "$work/cache-growth"
  else
    log "growth: $growth_tree is not prepared"
  fi
fi
elapsed=$(($(date +%s) - started))
# Keep every run's timings, --timings and findings (not committed).
rm -rf "$results/runs"
rsync -a --exclude 'cache-*' "$work/" "$results/runs/"

python3 - "$work" "$runs" "$jobs" "$growth_tree" "$elapsed" "$forkguard" "${trees[@]}" <<'PY' | tee "$results/table.txt"
import math, os, re, statistics, sys
work, runs, jobs, growth_tree, elapsed, forkguard = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
trees = sys.argv[7:]

def timing(path):
    """(status, seconds, MiB, CPU seconds) of one timed command, or None when it did not run."""
    if not os.path.exists(path + ".time"):
        return None
    status, seconds, kilobytes, cpu = open(path + ".time").read().split()
    return int(status), float(seconds), int(kilobytes) / 1024, float(cpu)

def phases(path):
    """{phase: seconds} and the parse line's 'N of M' from a --timings stderr."""
    found, parsed = {}, ""
    for line in open(path + ".err", errors="replace"):
        m = re.match(r"forkguard: (.+?)\s+([0-9.]+) s$", line.rstrip())
        if m:
            name = m.group(1)
            counted = re.match(r"(.+?) \((.+)\)$", name)
            if counted:
                name = counted.group(1)
                if name == "parse":
                    parsed = counted.group(2).split(",")[0].replace(" files", "")
            found[name] = found.get(name, 0.0) + float(m.group(2))
    return found, parsed

def median(values):
    return statistics.median(values) if values else None

print(f"forkguard: {forkguard}; jobs: {jobs}; medians of {runs} runs; {os.cpu_count()} cores")
print()
header = (f"{'tree':14} {'files':>5} {'parsed':>12} {'floor s':>8} {'cold s':>7} {'cold/fl':>8} {'cpu/fl':>7} {'cold MiB':>9}"
          f" {'warm s':>7} {'warm/fl':>8} {'touch s':>8} {'touch/fl':>9}")
print(header)
print("-" * len(header))
missed, phase_lines, warm_lines, notes = [], [], [], []
for tree in trees:
    out = os.path.join(work, tree)
    failure = open(os.path.join(out, "failure")).read().strip() if os.path.exists(os.path.join(out, "failure")) else ""
    files = open(os.path.join(out, "files")).read().strip() if os.path.exists(os.path.join(out, "files")) else "?"
    rows = {variant: [t for t in (timing(os.path.join(out, f"{variant}.{r}")) for r in range(1, runs + 1)) if t] for variant in ("floor", "cold", "warm", "touched")}
    ok = {variant: [t for t in rows[variant] if t[0] == 0] for variant in rows}
    floor_s = median([t[1] for t in rows["floor"]])
    if any(t[0] not in (0, 124) for t in rows["floor"]):
        notes.append(f"{tree}: clang-14 -fsyntax-only failed on some files (xargs exit {max(t[0] for t in rows['floor'])})")
    if os.path.exists(os.path.join(out, "build.status")) and open(os.path.join(out, "build.status")).read().strip() not in ("", "0"):
        notes.append(f"{tree}: make -k ended with status {open(os.path.join(out, 'build.status')).read().strip()}; the database holds what it compiled")
    floor_errors = 0
    if rows["floor"]:
        floor_err = open(os.path.join(out, "floor.1.err"), errors="replace").read()
        floor_errors = len(re.findall(r": (?:fatal )?error: ", floor_err))
        if floor_errors:
            first = re.search(r"^.*: (?:fatal )?error: .*$", floor_err, re.M).group(0)
            notes.append(f"{tree}: clang-14 -fsyntax-only reports {floor_errors} errors, the first: {first}")
    if failure or not ok["cold"]:
        line = f"{tree:14} {files:>5} {'':>12} {floor_s if floor_s is not None else float('nan'):8.2f}  ! did not finish: {failure or 'no cold run'}"
        print(line)
        missed.append(f"{tree} did not finish")
        continue
    cold_s = median([t[1] for t in ok["cold"]])
    cold_mib = median([t[2] for t in ok["cold"]])
    warm_s = median([t[1] for t in ok["warm"]])
    touch_s = median([t[1] for t in ok["touched"]])
    parsed = phases(os.path.join(out, "cold.1"))[1]
    def flag(condition):
        return "!" if condition else " "
    pg = tree.startswith("postgresql")
    cold_ratio, warm_ratio, touch_ratio = cold_s / floor_s, warm_s / floor_s, touch_s / floor_s
    cpu_ratio = median([t[3] for t in ok["cold"]]) / median([t[3] for t in rows["floor"]])
    print(f"{tree:14} {files:>5} {parsed:>12} {floor_s:8.2f} {cold_s:7.2f} {cold_ratio:7.2f}x{flag(pg and cold_ratio > 0.5)}"
          f"{cpu_ratio:6.2f}x {cold_mib:8.0f}{flag(pg and cold_mib > 1024)} {warm_s:7.2f} {warm_ratio:7.3f}x{flag(warm_ratio > 0.05)}"
          f"{touch_s:8.2f} {touch_ratio:8.3f}x{flag(touch_ratio > 0.05)}")
    if pg and cold_ratio > 0.5:
        missed.append(f"{tree} cold {cold_ratio:.2f}x the floor (target 0.5x)")
    if pg and cold_mib > 1024:
        missed.append(f"{tree} cold peak {cold_mib:.0f} MiB (target 1024)")
    if warm_ratio > 0.05:
        missed.append(f"{tree} warm {warm_ratio:.3f}x the floor (target 0.05x)")
    if touch_ratio > 0.05:
        missed.append(f"{tree} warm, one file touched {touch_ratio:.3f}x the floor (target 0.05x)")
    if len(ok["cold"]) < runs or len(ok["warm"]) < runs or len(ok["touched"]) < runs:
        notes.append(f"{tree}: some forkguard runs failed; medians of the ones that finished")
    # Each phase's share of the cold run's wall time, per run, then the median.
    shares = {}
    for r in range(1, runs + 1):
        t = timing(os.path.join(out, f"cold.{r}"))
        if not t or t[0] != 0:
            continue
        found = phases(os.path.join(out, f"cold.{r}"))[0]
        for name, seconds in found.items():
            shares.setdefault(name, []).append(seconds / t[1])
        shares.setdefault("(outside the phases)", []).append(max(0.0, 1 - sum(found.values()) / t[1]))
    parts = []
    for name, values in shares.items():
        share = median(values)
        over = name != "parse" and share > 0.10
        if over:
            missed.append(f"{tree} cold: {name} takes {share:.0%} (target 10%)")
        parts.append(f"{name} {share:.1%}{'!' if over else ''}")
    phase_lines.append(f"  {tree}: " + ", ".join(parts))
    # Where a warm run's time goes, in seconds (median over runs).
    for variant, label in (("warm", "warm"), ("touched", "touched")):
        seconds = {}
        for r in range(1, runs + 1):
            t = timing(os.path.join(out, f"{variant}.{r}"))
            if t and t[0] == 0:
                for name, value in phases(os.path.join(out, f"{variant}.{r}"))[0].items():
                    seconds.setdefault(name, []).append(value)
        if seconds:
            warm_lines.append(f"  {tree} {label}: " + ", ".join(f"{name} {median(values):.2f}" for name, values in seconds.items()))
    touched = open(os.path.join(out, "touched")).read().strip()
    notes.append(f"{tree}: touched {os.path.basename(touched)}")

print()
print("each phase's share of the cold run (median over runs):")
for line in phase_lines:
    print(line)
print("the warm runs' phases, in seconds (median over runs):")
for line in warm_lines:
    print(line)

growth = os.path.join(work, "growth")
if os.path.isdir(growth):
    print()
    print(f"growth: {growth_tree} copied 1, 2 and 4 times, forkguard cold (medians of {runs} runs)")
    print(f"{'copies':>6} {'seconds':>9} {'peak MiB':>9} {'parsed':>12}")
    xs, ts, ms, bad = [], [], [], []
    for copies in (1, 2, 4):
        results = [timing(os.path.join(growth, f"{copies}.{r}")) for r in range(1, runs + 1)]
        good = [t for t in results if t and t[0] == 0]
        if not good:
            bad.append(copies)
            print(f"{copies:>6}  ! did not finish")
            continue
        seconds, memory = median([t[1] for t in good]), median([t[2] for t in good])
        parsed = phases(os.path.join(growth, f"{copies}.{results.index(good[0]) + 1}"))[1]
        xs.append(math.log(copies)); ts.append(math.log(seconds)); ms.append(math.log(memory))
        print(f"{copies:>6} {seconds:9.2f} {memory:9.0f} {parsed:>12}")
    def slope(x, y):
        mx, my = sum(x) / len(x), sum(y) / len(y)
        return sum((a - mx) * (b - my) for a, b in zip(x, y)) / sum((a - mx) ** 2 for a in x)
    if len(xs) >= 2:
        time_exponent, memory_exponent = slope(xs, ts), slope(xs, ms)
        print(f"fitted exponent (least squares of log against log copies): time {time_exponent:.2f}{'!' if time_exponent > 1.1 else ''}, "
              f"memory {memory_exponent:.2f}{'!' if memory_exponent > 1.1 else ''} (goal <= 1.1)")
        if time_exponent > 1.1:
            missed.append(f"growth: time exponent {time_exponent:.2f} (goal 1.1)")
        if memory_exponent > 1.1:
            missed.append(f"growth: memory exponent {memory_exponent:.2f} (goal 1.1)")
    if bad:
        missed.append(f"growth: {', '.join(map(str, bad))} copies did not finish")

print()
for note in notes:
    print("note: " + note)
print(f"measured in {elapsed // 60} min {elapsed % 60} s")
print("targets missed: " + ("; ".join(missed) if missed else "none"))
PY
