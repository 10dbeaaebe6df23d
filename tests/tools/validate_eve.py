#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Validate an NDJSON file of Postern EVE events against schema/eve.schema.json.

Usage: validate_eve.py [--schema PATH] [--min-lines N] FILE...

Every line must be one JSON object that the schema accepts. Stops at the first invalid line,
printing FILE:LINE and the reason, and exits 1. Exits 2 when a file cannot be read, the
schema is itself invalid, or fewer than --min-lines lines were checked in all (so that an
empty capture is never taken for a pass). Needs python3-jsonschema (Debian package).
"""
import argparse
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    sys.stderr.write("validate_eve: python3-jsonschema is missing "
                     "(apt-get install python3-jsonschema)\n")
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMA = os.path.join(HERE, "..", "..", "schema", "eve.schema.json")


def main():
    ap = argparse.ArgumentParser(description="Validate Postern EVE NDJSON against the schema")
    ap.add_argument("--schema", default=DEFAULT_SCHEMA, help="schema file (default: %(default)s)")
    ap.add_argument("--min-lines", type=int, default=1, help="fail if fewer lines are checked")
    ap.add_argument("files", nargs="+", help="NDJSON files")
    args = ap.parse_args()

    try:
        with open(args.schema, encoding="utf-8") as f:
            schema = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
    except (OSError, ValueError, jsonschema.exceptions.SchemaError) as e:
        sys.stderr.write(f"validate_eve: {args.schema}: {e}\n")
        return 2
    validator = cls(schema)

    total = 0
    counts = {}
    for path in args.files:
        try:
            f = open(path, "rb")
        except OSError as e:
            sys.stderr.write(f"validate_eve: {path}: {e.strerror}\n")
            return 2
        with f:
            for lineno, raw in enumerate(f, 1):
                where = f"{path}:{lineno}"
                if not raw.endswith(b"\n"):
                    print(f"{where}: line does not end with a newline", file=sys.stderr)
                    return 1
                try:
                    text = raw[:-1].decode("utf-8")
                except UnicodeDecodeError as e:
                    print(f"{where}: not UTF-8: {e}", file=sys.stderr)
                    return 1
                try:
                    event = json.loads(text)
                except ValueError as e:
                    print(f"{where}: not JSON: {e}", file=sys.stderr)
                    return 1
                errors = list(validator.iter_errors(event))
                if errors:
                    # A member that fails its own schema also shows up as "unevaluated":
                    # report the deeper, more specific error.
                    e = max(errors, key=lambda e: (e.validator != "unevaluatedProperties",
                                                   len(e.absolute_path)))
                    at = "/".join(str(p) for p in e.absolute_path) or "(top)"
                    print(f"{where}: {at}: {e.message}", file=sys.stderr)
                    return 1
                total += 1
                kind = event.get("event_type")
                counts[kind] = counts.get(kind, 0) + 1

    summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    if total < args.min_lines:
        print(f"validate_eve: only {total} lines checked, expected at least {args.min_lines}",
              file=sys.stderr)
        return 2
    print(f"validate_eve: {total} lines valid ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
