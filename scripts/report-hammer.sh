#!/usr/bin/env bash
# Runs fixtures/stress/report-hammer.c under libforkguard-preload.so (THREADS threads of one
# process reporting at once, 32 by default) and checks its log as ReportHammerTests does:
# every line is a whole fg1 protocol line (or the human line before a report), every
# report's lines form one contiguous block from `begin` to `end`, and every lock the threads
# tried is reported exactly once. Prints the counts; exits 1 when anything is torn.
#
#   scripts/report-hammer.sh [THREADS [PER_THREAD]]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
library="${FORKGUARD_PRELOAD_LIBRARY:-$root/.build/preload/libforkguard-preload.so}"
[ -f "$library" ] || "$root/scripts/build-preload.sh"
threads="${1:-32}"
per_thread="${2:-16}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cc -g -O0 -pthread -o "$work/report-hammer" "$root/fixtures/stress/report-hammer.c"

failed=0
for options in "mode=default" "mode=track:frames=8"; do
  mkdir "$work/logs"
  status=0
  LD_PRELOAD="$library" FORKGUARD_OPTIONS="$options:log_path=$work/logs/report" \
    timeout 120 "$work/report-hammer" "$threads" "$per_thread" || status=$?
  cat "$work"/logs/report.* >"$work/log" 2>/dev/null || : >"$work/log"
  # A line is one of the protocol's forms; the human line opens a report, `begin` must
  # follow it, then fields and frames, then `end`. Map lines come between reports.
  awk -v expected="$((threads * per_thread))" -v options="$options" -v status="$status" '
    function fail(what) { misplaced++; broken = 1; if (shown++ < 5) print "  " what ": " $0 }
    {
      lines++
      if (match($0, /^==[0-9]+== forkguard: [a-z-]+: [^=]+$/)) {
        if (state != 0) fail("a report starts inside another")
        state = 1; split($0, words, " "); rule = words[3]; sub(/:$/, "", rule); pid = words[1]
        delete fields; frames = 0; broken = 0
      } else if (match($0, /^==[0-9]+== fg1 begin rule=[a-z-]+$/)) {
        if (state != 1 || $1 != pid || $4 != "rule=" rule) fail("begin without its human line")
        state = 2
      } else if (match($0, /^==[0-9]+== fg1 field [a-z_]+=[^ ]*$/)) {
        if (state != 2 || $1 != pid) fail("field outside a report")
        split($4, pair, "="); fields[pair[1]] = substr($4, length(pair[1]) + 2)
      } else if (match($0, /^==[0-9]+== fg1 frame who=[a-z_]+ n=[0-9]+ pc=0x[0-9a-f]+$/)) {
        if (state != 2 || $1 != pid) fail("frame outside a report")
        frames++
      } else if (match($0, /^==[0-9]+== fg1 held tid=[0-9]+ kind=[a-z-]+ depth=[0-9]+ lock=0x[0-9a-f]+( pc=0x[0-9a-f]+)*$/) ||
                 match($0, /^==[0-9]+== fg1 thread tid=[0-9]+ start=0x[0-9a-f]+ created=0x[0-9a-f]+ name=.*$/)) {
        if (state != 2 || $1 != pid) fail("held lock outside a report")
      } else if (match($0, /^==[0-9]+== fg1 end$/)) {
        if (state != 2 || $1 != pid) fail("end outside a report")
        else {
          if (!broken) reports[rule]++
          if (rule == "runtime-child-deadlock") {
            complete = ("operation" in fields) && ("lock" in fields) && ("kind" in fields) && ("owner_tid" in fields) \
              && ("blocking" in fields) && ("action" in fields) && ("fork" in fields) && ("forker_tid" in fields) \
              && ("threads_at_fork" in fields) && frames >= 2
            if (!complete) fail("report without all its fields")
            if (seen[fields["lock"]]++) fail("lock reported twice")
            else if (!broken) locks++
          }
        }
        state = 0
      } else if (match($0, /^==[0-9]+== fg1 map [0-9a-f]+-[0-9a-f]+ .*\/.*$/)) {
        if (state != 0) fail("map line inside a report")
      } else {
        torn++; broken = 1; if (shown++ < 5) print "  torn: " $0
      }
    }
    END {
      if (state != 0) fail("the log ends inside a report")
      deadlocks = reports["runtime-child-deadlock"] + 0
      printf "report-hammer [%s]: exit %d, %d lines, %d torn, %d misplaced; %d whole, untouched runtime-child-deadlock reports of %d expected, %d distinct locks", \
        options, status, lines, torn, misplaced, deadlocks, expected, locks
      if (reports["runtime-lock-held-at-fork"]) printf ", %d runtime-lock-held-at-fork reports", reports["runtime-lock-held-at-fork"]
      printf "\n"
      exit !(status == 0 && torn == 0 && misplaced == 0 && deadlocks == expected && locks == expected)
    }' "$work/log" || failed=1
  rm -rf "$work/logs"
done
exit "$failed"
