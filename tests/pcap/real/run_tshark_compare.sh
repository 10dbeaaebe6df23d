#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Postern against tshark: each capture kept in tests/pcap/real/ (see SOURCES.md) is replayed
# through the whole pipeline (scripts/replay, addresses in clear, smtp events on, ports 25,
# 587 and 2525) and compare_tshark.py checks that the transactions, envelope and header fields
# Postern reports are what Wireshark's SMTP and IMF dissectors report for the same capture.
# Differences where tshark is wrong are listed, with the reason, in
# tshark_known_differences.json; any other difference fails.
#
#   run_tshark_compare.sh [--build DIR] [--all DIR]
# --all DIR compares every *.pcap / *.pcapng in DIR instead (e.g. ../shared/data/pcaps, the
# whole third-party collection, including the files whose license keeps them out of the
# repository).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
build="$top/build" dir="$here"
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--all) dir=$2; shift 2 ;;
	*) echo "usage: run_tshark_compare.sh [--build DIR] [--all DIR]" >&2; exit 2 ;;
	esac
done
if ! command -v tshark > /dev/null; then
	echo "FAIL: tshark is not installed (apt-get install tshark): nothing to compare against"
	exit 1
fi
[ -d "$dir" ] || { echo "FAIL: no directory $dir"; exit 1; }

ports=25,587,2525
work=$(mktemp -d /tmp/postern-tshark.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
for pcap in "$dir"/*.pcap "$dir"/*.pcapng; do
	[ -f "$pcap" ] || continue
	name=$(basename "$pcap")
	if ! "$top/scripts/replay" --build "$build" --pcap "$pcap" --rules "$top/rules/demo.rules" \
		--set eve_smtp_events=yes --set address_output=plain --set inspect_ports=$ports \
		--out "$work/eve.jsonl" 2> "$work/replay.log"; then
		echo "FAIL: $name: the pipeline failed"
		tail -20 "$work/replay.log"
		fail=$((fail + 1))
		continue
	fi
	if /usr/bin/python3 "$here/compare_tshark.py" --pcap "$pcap" --eve "$work/eve.jsonl" \
		--known "$here/tshark_known_differences.json" --ports "$ports"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$pass" -gt 0 ] && [ "$fail" -eq 0 ]
