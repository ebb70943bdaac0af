#!/usr/bin/env python3
"""Table and triage sample of a precision.sh run (see benchmarks/precision.sh).

Reads RESULTS/<binary>/<package>.{json,stderr,time,meta.json}, where <binary> is
`forkguard` (the binary measured) and, when present, `baseline` (printed beside it), and
prints a Markdown report: one table, per package, then a seeded random sample of the
measured binary's findings, pooled over all packages. Also writes RESULTS/sample.json
and RESULTS/summary.json.

    precision-report.py --results DIR [--sample 40] [--seed 12] PACKAGE...
"""
import argparse
import json
import os
import random
import re
import sys

PARSED = re.compile(r"parse \((\d+) of (\d+) files[,)]")
RULE_ORDER = [
    "fork-child-unsafe-call", "vfork-child", "signal-handler-unsafe-call", "atfork-handler-unsafe-call",
    "lock-held-across-fork", "fork-child-lock", "atfork-lock-protocol",
]


def load(results, binary, package):
    base = os.path.join(results, binary, package)
    if not os.path.exists(base + ".meta.json"):
        return None
    run = json.load(open(base + ".meta.json"))
    run["tree_name"] = os.path.basename(run["tree"])
    try:
        seconds, kilobytes = open(base + ".time").read().split()[-2:]
        run["seconds"], run["peak_mib"] = float(seconds), int(kilobytes) / 1024
    except (OSError, ValueError):
        run["seconds"], run["peak_mib"] = None, None
    stderr = open(base + ".stderr", errors="replace").read() if os.path.exists(base + ".stderr") else ""
    match = PARSED.search(stderr)
    # `parse (N of M files)`: N parsed (the others cannot reach a fork, handler, thread or
    # lock and are skipped), M the .c/.swift files forkguard collected.
    run["parsed"], run["collected"] = (int(match.group(1)), int(match.group(2))) if match else (None, None)
    run["errors"] = sum(1 for line in stderr.splitlines() if line.startswith("forkguard: error:"))
    try:
        diagnostics = json.load(open(base + ".json"))["diagnostics"]
    except (OSError, ValueError, KeyError):
        diagnostics = []
    # A summary note counts the findings deeper than --max-chain-depth; it is not one.
    run["findings"] = [d for d in diagnostics if d.get("rule") and not d.get("summary")]
    # Findings at note severity (calls only glibc documents AS-Safe) do not fail CI.
    run["warnings"] = sum(1 for d in run["findings"] if d.get("severity") in ("warning", "error"))
    run["parse_incomplete"] = sum(
        1 for d in diagnostics if not d.get("rule") and d["message"].startswith("parse incomplete"))
    run["by_rule"] = {}
    for finding in run["findings"]:
        run["by_rule"][finding["rule"]] = run["by_rule"].get(finding["rule"], 0) + 1
    run["sites"] = len({site(f) for f in run["findings"]})
    return run


def site(finding):
    location = finding["location"]
    return (location["file"], location["line"], location["column"], finding["rule"])


def number(value, digits=0):
    if value is None:
        return "?"
    return f"{value:.{digits}f}"


def table(runs, baselines, rules):
    header = ["package", "version", "C files", "collected", "parsed", "parse incomplete", "seconds"]
    if baselines:
        header += ["seconds (baseline)"]
    header += ["peak MiB"]
    if baselines:
        header += ["peak MiB (baseline)"]
    header += rules + ["findings", "warnings", "unique call sites"]
    if baselines:
        header += ["findings (baseline)", "warnings (baseline)", "sites (baseline)"]
    rows = []
    total = {key: 0 for key in ["c_files", "collected", "parsed", "parse_incomplete", "seconds", "findings", "sites",
                                "warnings", "base_seconds", "base_findings", "base_sites", "base_warnings"]}
    total_rules = {rule: 0 for rule in rules}
    peak = 0.0
    for package, run in runs.items():
        base = baselines.get(package) if baselines else None
        status = "" if run["status"] in (0, 1) else f" (exit {run['status']})"
        row = [package + status, run.get("version", ""), str(run["c_files"]), number(run["collected"]),
               number(run["parsed"]), str(run["parse_incomplete"]), number(run["seconds"], 1)]
        if baselines:
            row += [number(base["seconds"], 1) if base else "-"]
        row += [number(run["peak_mib"])]
        if baselines:
            row += [number(base["peak_mib"]) if base else "-"]
        row += [str(run["by_rule"].get(rule, 0)) for rule in rules]
        row += [str(len(run["findings"])), str(run["warnings"]), str(run["sites"])]
        if baselines:
            row += [str(len(base["findings"])) if base else "-", str(base["warnings"]) if base else "-",
                    str(base["sites"]) if base else "-"]
        rows.append(row)
        for key, value in [("c_files", run["c_files"]), ("collected", run["collected"]), ("parsed", run["parsed"]),
                           ("parse_incomplete", run["parse_incomplete"]), ("seconds", run["seconds"]),
                           ("findings", len(run["findings"])), ("sites", run["sites"]),
                           ("warnings", run["warnings"])]:
            total[key] += value or 0
        for rule in rules:
            total_rules[rule] += run["by_rule"].get(rule, 0)
        peak = max(peak, run["peak_mib"] or 0)
        if base:
            total["base_seconds"] += base["seconds"] or 0
            total["base_findings"] += len(base["findings"])
            total["base_sites"] += base["sites"]
            total["base_warnings"] += base["warnings"]
    row = ["**total**", "", str(total["c_files"]), str(total["collected"]), str(total["parsed"]),
           str(total["parse_incomplete"]), f"{total['seconds']:.1f}"]
    if baselines:
        row += [f"{total['base_seconds']:.1f}"]
    row += [f"{peak:.0f} (max)"]
    if baselines:
        row += [f"{max((b['peak_mib'] or 0) for b in baselines.values()):.0f} (max)"]
    row += [str(total_rules[rule]) for rule in rules]
    row += [str(total["findings"]), str(total["warnings"]), str(total["sites"])]
    if baselines:
        row += [str(total["base_findings"]), str(total["base_warnings"]), str(total["base_sites"])]
    rows.append(row)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(
        " --- " if i < 2 else " ---: " for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines), total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", required=True)
    parser.add_argument("--sample", type=int, default=40)
    parser.add_argument("--seed", type=int, default=12)
    # What the triage sample is drawn from: warnings (what fails CI and asks for a change;
    # the baseline's findings were all warnings), or every finding, notes included (a note
    # says in its own text that the call is unsafe only by the POSIX letter).
    parser.add_argument("--sample-from", choices=["warnings", "findings"], default="warnings")
    parser.add_argument("packages", nargs="+")
    args = parser.parse_args()

    runs = {p: r for p in args.packages if (r := load(args.results, "forkguard", p))}
    baselines = {p: r for p in args.packages if (r := load(args.results, "baseline", p))}
    seen_rules = {rule for run in list(runs.values()) + list(baselines.values()) for rule in run["by_rule"]}
    rules = [r for r in RULE_ORDER if r in seen_rules] + sorted(seen_rules - set(RULE_ORDER))

    text, total = table(runs, baselines, rules)
    binary = next(iter(runs.values()))["binary"] if runs else "?"
    print(f"## Precision benchmark: {binary}")
    if baselines:
        print(f"(baseline: {next(iter(baselines.values()))['binary']})")
    print()
    print(text)
    print()
    print("C files: .c files outside hidden folders; collected: the .c/.swift files forkguard took as input; "
          "parsed: those it parsed (`--timings`' `parse (N of M files)`); parse incomplete: parsed files with a "
          "`parse incomplete` note; unique call sites: distinct (file, line, column, rule) of the findings' "
          "primary locations.")
    daemon = sum(1 for run in runs.values() for f in run["findings"]
                 if any("rest of the program runs in the child" in n["message"] for n in f["notes"]))
    fork_child = sum(run["by_rule"].get("fork-child-unsafe-call", 0) for run in runs.values())
    print(f"\nfork-child-unsafe-call findings with the note 'the rest of the program runs in the child': "
          f"{daemon} of {fork_child}")
    failed = [p for p, r in runs.items() if r["status"] not in (0, 1)]
    if failed:
        print("exit status other than 0/1 (see the .stderr files): " + ", ".join(
            f"{p} ({runs[p]['status']}, {runs[p]['errors']} errors)" for p in failed))

    # The sample: every finding of the measured binary, pooled and sorted (so the sample
    # does not depend on the order forkguard prints in), then random.Random(seed).sample.
    pool = []
    for package, run in runs.items():
        for finding in run["findings"]:
            if args.sample_from == "warnings" and finding.get("severity") not in ("warning", "error"):
                continue
            pool.append(dict(finding, package=package))
    pool.sort(key=lambda f: (f["package"], f["location"]["file"], f["location"]["line"], f["location"]["column"],
                             f["rule"], f["message"], json.dumps(f["notes"], sort_keys=True)))
    sample = random.Random(args.seed).sample(pool, min(args.sample, len(pool)))
    notes = sum(1 for run in runs.values() for f in run["findings"] if f.get("severity") == "note")
    print(f"\n## Sample for triage: {len(sample)} of {len(pool)} {args.sample_from}, seed {args.seed}\n")
    if args.sample_from == "warnings":
        print(f"Drawn from the warnings; the {notes} findings at note severity (calls unsafe only by the "
              "POSIX letter, which each note says) are left out (`SAMPLE_FROM=findings` includes them).\n")
    print("Paths are relative to each package's tree: " + ", ".join(
        f"{p}: {r['tree']}" for p, r in runs.items()) + "\n")
    for index, finding in enumerate(sample, 1):
        location = finding["location"]
        print(f"{index:2}. [{finding['package']}] {location['file']}:{location['line']}:{location['column']}: "
              f"{finding['severity']}: {finding['message']} [{finding['rule']}]")
        for note in finding["notes"]:
            place = note["location"]
            print(f"      {place['file']}:{place['line']}:{place['column']}: note: {note['message']}")
    json.dump([dict(f, index=i) for i, f in enumerate(sample, 1)],
              open(os.path.join(args.results, "sample.json"), "w"), indent=1)
    json.dump({"rules": rules, "packages": {
        p: {k: r[k] for k in ["tree_name", "version", "c_files", "collected", "parsed", "parse_incomplete", "seconds",
                              "peak_mib", "by_rule", "sites", "status", "binary"]} | {"findings": len(r["findings"])}
        for p, r in runs.items()}, "baseline": {
        p: {k: r[k] for k in ["seconds", "peak_mib", "by_rule", "sites", "status", "binary"]}
        | {"findings": len(r["findings"])} for p, r in baselines.items()}},
        open(os.path.join(args.results, "summary.json"), "w"), indent=1)


if __name__ == "__main__":
    sys.exit(main())
