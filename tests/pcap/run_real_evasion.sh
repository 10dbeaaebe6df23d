#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Real captures under evasion: each capture listed in tests/pcap/real/evasion.list
# (third-party sessions, see SOURCES.md) is replayed clean, then rewritten by tools/evasion.py in every mode
# (split, reorder, duplicate, overlap-same, overlap-diff, wrap, fragment, and all of them
# at once) and replayed again. The alerts and smtp events must be the same as the clean
# replay's (timestamps and flow ids aside: packets move). Anomaly events are left out of
# the comparison: an evasion mode is meant to raise them.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build"
[ "${1:-}" = --build ] && build=$2

normalise() {
	/usr/bin/python3 "$top/tests/tools/normalise_eve.py"
}

replay() { # pcap out
	"$top/scripts/replay" --build "$build" --pcap "$1" --rules "$top/rules/demo.rules" \
		--set eve_smtp_events=yes --out "$2.raw" 2> "$2.log" && normalise < "$2.raw" > "$2"
}

work=$(mktemp -d /tmp/postern-real-evasion.XXXXXX)
trap 'rm -rf "$work"' EXIT
modes="split reorder duplicate overlap-same overlap-diff wrap fragment
       split,reorder,duplicate,overlap-diff,wrap,fragment"
pass=0 fail=0
for file in $(sed 's/#.*//' "$here/real/evasion.list"); do
	pcap="$here/real/$file"
	name=$(basename "$pcap" .pcap)
	if ! replay "$pcap" "$work/$name.clean" || [ ! -s "$work/$name.clean" ]; then
		echo "FAIL: $name: the clean replay gave nothing"
		cat "$work/$name.clean.log"
		fail=$((fail + 1))
		continue
	fi
	for mode in $modes; do
		out="$work/$name.${mode//,/+}" # DPDK vdev arguments cannot hold a comma
		if ! /usr/bin/python3 "$top/tools/evasion.py" --in "$pcap" --out "$out.pcap" \
			--mode "$mode" --seed 7 > "$out.gen.log" 2>&1; then
			echo "FAIL: $name [$mode]: evasion.py failed"; cat "$out.gen.log"
			fail=$((fail + 1))
			continue
		fi
		if replay "$out.pcap" "$out" && diff -u "$work/$name.clean" "$out" > "$out.diff"; then
			echo "PASS: $name [$mode] ($(wc -l < "$out") events)"
			pass=$((pass + 1))
		else
			echo "FAIL: $name [$mode]: not what the clean capture gives"
			head -30 "$out.diff" 2>/dev/null
			fail=$((fail + 1))
		fi
	done
done
echo "$pass passed, $fail failed"
[ "$pass" -gt 0 ] && [ "$fail" -eq 0 ]
