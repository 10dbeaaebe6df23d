#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Runs the EVE unit test (its path is the first argument) with POSTERN_EVE_OUT set, so that it
# saves every line it formats, then validates those lines against schema/eve.schema.json.
# Fails when the unit test fails, when no line was produced, or on the first invalid line.
# Usage: tests/tools/check_eve_schema.sh BUILD/tests/test_eve
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
test_eve="${1:?usage: $0 PATH/TO/test_eve}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

POSTERN_EVE_OUT="$tmp/eve.ndjson" "$test_eve" >"$tmp/test.log" 2>&1 || {
	cat "$tmp/test.log" >&2
	echo "check_eve_schema: $test_eve failed" >&2
	exit 1
}
# Every event type the formatter has must have been exercised and checked.
for t in alert smtp stats anomaly; do
	grep -q "\"event_type\":\"$t\"" "$tmp/eve.ndjson" || {
		echo "check_eve_schema: no '$t' event produced by $test_eve" >&2
		exit 1
	}
done
exec /usr/bin/python3 "$here/validate_eve.py" --schema "$here/../../schema/eve.schema.json" \
	--min-lines 10 "$tmp/eve.ndjson"
