#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A SYN flood far beyond the flow table: the demo's four sessions with 100 spoofed SYNs to
# port 25 after each of their packets (9,000 half-open flows against a table of 1,024),
# looped from memory for a few seconds. The dataplane must keep inspecting the real
# sessions (their alerts arrive), make room by evicting (counted), and its resident memory
# must not grow while the flood runs: everything comes from pools sized at start.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build"
[ "${1:-}" = --build ] && build=$2

pass=0 fail=0
check() { local what=$1; shift; if "$@"; then echo "PASS: $what"; pass=$((pass + 1)); else echo "FAIL: $what"; fail=$((fail + 1)); fi; }

work=$(mktemp -d /tmp/postern-flood.XXXXXX)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$top/tools/mkpcap.py" --scenario synflood --syns 100 --out "$work/flood.pcap" 2>/dev/null

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null; }

"$top/scripts/replay" --build "$build" --pcap "$work/flood.pcap" --loop 9 \
	--suppress "$top/tests/pcap/demo/suppress.csv" --pidfile "$work/pid" \
	--set flows_per_worker=1024 --set sessions_per_worker=64 --set event_ring_size=1024 \
	--out "$work/out.jsonl" 2> "$work/replay.log" &
replay=$!
for _ in $(seq 200); do [ -s "$work/pid" ] && break; sleep 0.05; done
pid=$(cat "$work/pid" 2>/dev/null)
# the first seconds fill every pool; from then on nothing may grow
sleep 3
rss1=$(rss_kb "$pid")
sleep 5
rss2=$(rss_kb "$pid")
wait "$replay"
rc=$?

check "the flood replays to the end (status $rc)" test "$rc" -eq 0
echo "resident memory during the flood: ${rss1:-?} kB, then ${rss2:-?} kB five seconds later"
check "resident memory flat under the flood (grew $(( ${rss2:-0} - ${rss1:-0} )) kB, at most 1024)" \
	test -n "$rss1" -a -n "$rss2" -a $(( ${rss2:-0} - ${rss1:-0} )) -le 1024
stats=$(grep '"event_type":"stats"' "$work/out.jsonl" | tail -1)
evicted=$(echo "$stats" | sed -n 's/.*"flows_evicted_full":\([0-9]*\).*/\1/p')
check "a full table evicts to make room (${evicted:-0} flows evicted)" test "${evicted:-0}" -gt 0
full_events=$(grep -c '"event":"FLOW_TABLE_FULL_EVICTED_OLDEST"' "$work/out.jsonl")
check "the full table is reported, at most once a second ($full_events events)" \
	test "$full_events" -ge 1 -a "$full_events" -le 12
for sid in 2100002 1000001 1000002; do
	check "the real sessions are still inspected: sid $sid alerted" \
		grep -q "\"signature_id\":$sid," "$work/out.jsonl"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
