#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Pcap golden cases: every tests/pcap/<case>/ holding input.pcap and expected.jsonl is
# replayed through the real pipeline (scripts/replay: posternd, the dataplane on the pcap
# vdev, a posternctl alerts subscriber) with the case's `rules` (default rules/demo.rules)
# and `suppress.csv` and `settings` (config lines) if present, once with one worker and once with two (software
# dispatch must not change a result). Alert and smtp events are compared, sorted, with the
# expected file; timestamps come from the capture, so nothing needs normalising but the
# order in which two workers finish. Every event, stats included, must validate against
# schema/eve.schema.json. --update rewrites expected.jsonl.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build" update=0
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--update) update=1; shift ;;
	*) echo "usage: run_golden.sh [--build DIR] [--update]" >&2; exit 2 ;;
	esac
done

pass=0 fail=0
for dir in "$here"/*/; do
	case_name=$(basename "$dir")
	[ -f "$dir/input.pcap" ] || continue
	case "$case_name" in evasion-*) continue ;; esac # run_evasion.sh compares those with demo
	[ -f "$dir/expected.jsonl" ] || [ "$update" = 1 ] || continue
	rules="$top/rules/demo.rules"
	[ -f "$dir/rules" ] && rules="$dir/rules"
	args=(--build "$build" --pcap "$dir/input.pcap" --rules "$rules" --set eve_smtp_events=yes)
	[ -f "$dir/suppress.csv" ] && args+=(--suppress "$dir/suppress.csv")
	# `settings`: config lines (key = value) of the case, e.g. the commercial policy
	[ -f "$dir/settings" ] && args+=(--settings "$dir/settings")
	for workers in 1 2; do
		got=$(mktemp)
		if ! "$top/scripts/replay" "${args[@]}" --workers "$workers" --out "$got.raw"; then
			echo "FAIL: $case_name ($workers workers): the pipeline failed"
			fail=$((fail + 1))
			rm -f "$got" "$got.raw"
			continue
		fi
		if ! /usr/bin/python3 "$top/tests/tools/validate_eve.py" \
			--schema "$top/schema/eve.schema.json" "$got.raw" > "$got.diff" 2>&1; then
			echo "FAIL: $case_name ($workers workers): an event breaks schema/eve.schema.json"
			cat "$got.diff"
			fail=$((fail + 1))
		fi
		grep -v '"event_type":"stats"' "$got.raw" | LC_ALL=C sort > "$got"
		if [ "$update" = 1 ] && [ "$workers" = 1 ]; then
			cp "$got" "$dir/expected.jsonl"
			echo "updated: $case_name ($(wc -l < "$got") events)"
		fi
		if diff -u "$dir/expected.jsonl" "$got" > "$got.diff"; then
			echo "PASS: $case_name ($workers workers, $(wc -l < "$got") events)"
			pass=$((pass + 1))
		else
			echo "FAIL: $case_name ($workers workers): output differs from expected.jsonl"
			head -60 "$got.diff"
			fail=$((fail + 1))
		fi
		rm -f "$got" "$got.raw" "$got.diff"
	done
done
echo "$pass passed, $fail failed"
[ "$pass" -gt 0 ] && [ "$fail" -eq 0 ]
