#!/usr/bin/env python3
"""Runs action.yml's steps here as a runner would, for the test suite: each `run:` step in
bash with the inputs (defaults, overridden by NAME=VALUE arguments) substituted, with
GITHUB_ACTION_PATH, GITHUB_OUTPUT and GITHUB_PATH set; a `uses:` step is not run, but the
files it would take (`with:` values naming files) must exist. Prints each step's name,
exits with the first failing step's status (after running the `if: always()` steps).

    scripts/run-action.py [NAME=VALUE...]      (in the folder the workflow would check)
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

root = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(root / ".build" / "python-packages"))
import yaml  # noqa: E402

action = yaml.safe_load((root / "action.yml").read_text())
inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
for argument in sys.argv[1:]:
    name, value = argument.split("=", 1)
    if name not in inputs:
        sys.exit(f"run-action: no input named {name!r}")
    inputs[name] = value

work = pathlib.Path(tempfile.mkdtemp(prefix="fg-action-"))
environment = dict(os.environ, GITHUB_ACTION_PATH=str(root), GITHUB_OUTPUT=str(work / "output"),
                   GITHUB_PATH=str(work / "path"))


def expand(text):
    return re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: inputs[m.group(1)], str(text))


status = 0
for step in action["runs"]["steps"]:
    condition = step.get("if", "")
    if status != 0 and "always()" not in condition:
        continue
    if "inputs.upload-sarif == 'true'" in condition and inputs["upload-sarif"] != "true":
        continue
    print(f"== {step['name']}", flush=True)
    if "run" in step:
        env = dict(environment, **{k: expand(v) for k, v in step.get("env", {}).items()})
        result = subprocess.run(["bash", "-c", expand(step["run"])], env=env)
        if result.returncode != 0 and status == 0:
            status = result.returncode
    else:
        for key, value in step.get("with", {}).items():
            value = expand(value)
            if key.endswith("_file") and not pathlib.Path(value).is_file():
                print(f"run-action: {step['uses']} would get {key}={value}, which does not exist")
                status = status or 1
        print(f"(not run here: {step['uses']})")
outputs = (work / "output").read_text() if (work / "output").exists() else ""
print(f"== outputs\n{outputs}", end="")
shutil.rmtree(work, ignore_errors=True)
sys.exit(status)
