#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Evasion cases: every tests/pcap/evasion-<case>/ holds the demo capture rewritten by
# tools/evasion.py (split, reordered, duplicated, overlapped, fragmented, wrapped around
# 2^32...) and a copy of the demo's suppress.csv, and no expected.jsonl of its own: what
# Postern inspects must not depend on how the streams were cut into packets, so each case is
# replayed exactly as run_golden.sh replays the demo (rules/demo.rules, eve_smtp_events=yes,
# the case's suppress.csv, one worker then two) and its alert and smtp events must equal
# tests/pcap/demo/expected.jsonl once what legitimately differs is normalised: timestamp
# (packet times move) and flow_id (a hash of the first packet's time) become placeholders,
# then both sides are sorted. Every event, stats included, must validate against
# schema/eve.schema.json. A case passes when both worker counts pass. Regenerate the
# captures with `/usr/bin/python3 tools/evasion.py --regenerate`.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build"
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	*) echo "usage: run_evasion.sh [--build DIR]" >&2; exit 2 ;;
	esac
done

# stdin: EVE lines; stdout: alert and smtp events with placeholders, sorted.
normalise() {
	/usr/bin/python3 "$top/tests/tools/normalise_eve.py"
}

expected=$(mktemp)
trap 'rm -f "$expected"' EXIT
if ! normalise < "$here/demo/expected.jsonl" > "$expected" || [ ! -s "$expected" ]; then
	echo "run_evasion.sh: cannot read $here/demo/expected.jsonl" >&2
	exit 2
fi

pass=0 fail=0 xfail=0
for dir in "$here"/evasion-*/; do
	case_name=$(basename "$dir")
	if [ ! -f "$dir/input.pcap" ] || [ ! -f "$dir/suppress.csv" ]; then
		echo "FAIL: $case_name: input.pcap or suppress.csv is missing"
		fail=$((fail + 1))
		continue
	fi
	args=(--build "$build" --pcap "$dir/input.pcap" --rules "$top/rules/demo.rules"
	      --set eve_smtp_events=yes --suppress "$dir/suppress.csv")
	ok=1 why="" events=0
	for workers in 1 2; do
		got=$(mktemp)
		if ! "$top/scripts/replay" "${args[@]}" --workers "$workers" --out "$got.raw" \
			2> "$got.log"; then
			why+="  ($workers workers) the pipeline failed:"$'\n'"$(tail -20 "$got.log")"$'\n'
			ok=0
			rm -f "$got" "$got.raw" "$got.log"
			continue
		fi
		if ! /usr/bin/python3 "$top/tests/tools/validate_eve.py" \
			--schema "$top/schema/eve.schema.json" "$got.raw" > "$got.diff" 2>&1; then
			why+="  ($workers workers) an event breaks schema/eve.schema.json:"$'\n'
			why+="$(head -20 "$got.diff")"$'\n'
			ok=0
		fi
		# the anomalies a case must raise (its anomalies file: one event name a line)
		if [ -f "$dir/anomalies" ]; then
			while read -r want; do
				[ -n "$want" ] || continue
				if ! grep -q "\"event\":\"$want\"" "$got.raw"; then
					why+="  ($workers workers) no $want anomaly was reported"$'\n'
					ok=0
				fi
			done < "$dir/anomalies"
		fi
		normalise < "$got.raw" > "$got"
		events=$(wc -l < "$got")
		if ! diff -u --label expected --label "$case_name" "$expected" "$got" \
			> "$got.diff"; then
			why+="  ($workers workers) events differ from demo/expected.jsonl:"$'\n'
			why+="$(head -40 "$got.diff")"$'\n'
			ok=0
		fi
		rm -f "$got" "$got.raw" "$got.diff" "$got.log"
	done
	# A case the engine cannot handle yet says why in known-gap; it must fail, and is
	# reported as such, until it passes (then the file must go: XPASS fails the run).
	if [ -f "$dir/known-gap" ]; then
		if [ "$ok" = 1 ]; then
			echo "FAIL (XPASS): $case_name passes: remove its known-gap file"
			fail=$((fail + 1))
		else
			echo "XFAIL: $case_name: $(head -1 "$dir/known-gap")"
			xfail=$((xfail + 1))
		fi
	elif [ "$ok" = 1 ]; then
		echo "PASS: $case_name (1 and 2 workers, $events events)"
		pass=$((pass + 1))
	else
		echo "FAIL: $case_name"
		printf '%s' "$why"
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed, $xfail known gaps"
[ "$pass" -gt 0 ] && [ "$fail" -eq 0 ]
