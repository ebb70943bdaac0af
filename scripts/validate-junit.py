#!/usr/bin/env python3
"""Reads JUnit XML reports with junitparser (PyPI), as CI test-report consumers do, and
checks each against the finding count given: FILE:FINDINGS... Exit 0 when every report
parses, has one failed testcase per finding (or one passing testcase when there are none),
and every failure names its rule and place; otherwise prints why and exits 1.
"""
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(root / ".build" / "python-packages"))

from junitparser import Failure, JUnitXml  # noqa: E402

failed = False
for argument in sys.argv[1:]:
    name, expected = argument.rsplit(":", 1)
    expected = int(expected)
    cases = [case for suite in JUnitXml.fromfile(name) for case in suite]
    failures = [case for case in cases if any(isinstance(r, Failure) for r in case.result)]
    problems = []
    if len(failures) != expected:
        problems.append(f"{len(failures)} failed testcases, expected {expected}")
    if expected == 0 and len(cases) != 1:
        problems.append(f"{len(cases)} testcases in a clean report, expected 1")
    for case in failures:
        if not case.classname or ":" not in case.name:
            problems.append(f"testcase without rule or place: {case.classname!r} {case.name!r}")
    if problems:
        failed = True
        print(f"{name}: " + "; ".join(problems))
    else:
        print(f"{name}: valid JUnit XML, {len(failures)} failures in {len(cases)} testcases")
sys.exit(1 if failed else 0)
