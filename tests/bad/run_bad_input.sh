#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Bad input gets a clear error and crashes nothing: a malformed rule pack (at start-up and on
# a live reload, which must keep the old generation), a malformed CSV row (the import is all
# or nothing), a malformed config, a truncated capture and a file that is no capture at all.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build"
[ "${1:-}" = --build ] && build=$2

pass=0 fail=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
ko() { echo "FAIL: $*"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else ko "$what"; fi; }

work=$(mktemp -d /tmp/postern-bad.XXXXXX)
posternd_pid=
cleanup() {
	[ -n "$posternd_pid" ] && kill "$posternd_pid" 2>/dev/null && wait "$posternd_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

write_conf() { # rules-file
	cat > "$work/postern.conf" <<CONF
control_socket = $work/dataplane.sock
alert_socket = $work/alerts.sock
cli_socket = $work/control.sock
rules = $1
classification = $top/rules/classification.config
suppress_db = $work/suppress
CONF
}
mkdir -p "$work/suppress"
ctl() { "$build/tools/posternctl" -c "$work/postern.conf" "$@"; }

# 1. malformed rule pack at start-up: refused with file:line, exit status 1
write_conf "$here/bad.rules"
"$build/control/posternd" -c "$work/postern.conf" --check > "$work/out" 2>&1
rc=$?
check "bad rule pack refused at start-up (status $rc)" test "$rc" -eq 1
check "rule error names bad.rules:8" grep -q "bad.rules:8:" "$work/out"
check "the valid rules around it are not blamed" \
	bash -c "! grep -qE 'bad.rules:(6|10):' '$work/out'"

# 2. live reload of a malformed pack keeps the running generation
write_conf "$top/rules/demo.rules"
"$build/control/posternd" -c "$work/postern.conf" 2> "$work/posternd.log" &
posternd_pid=$!
for _ in $(seq 100); do [ -S "$work/control.sock" ] && break; sleep 0.05; done
gen_before=$(ctl stats --json | sed -n 's/.*"rule_generation": \([0-9]*\).*/\1/p' | head -1)
write_conf "$here/bad.rules"
ctl reload > "$work/reload.out" 2>&1
rc=$?
check "reload of a bad pack fails (status $rc)" test "$rc" -eq 1
check "reload error names bad.rules:8" grep -q "bad.rules:8:" "$work/reload.out"
gen_after=$(ctl stats --json | sed -n 's/.*"rule_generation": \([0-9]*\).*/\1/p' | head -1)
check "generation $gen_before still live after the refused reload" \
	test -n "$gen_before" -a "$gen_before" = "$gen_after"
write_conf "$top/rules/demo.rules"
ctl reload > "$work/reload.out" 2>&1
gen_fixed=$(ctl stats --json | sed -n 's/.*"rule_generation": \([0-9]*\).*/\1/p' | head -1)
check "a good pack reloads afterwards (generation $gen_fixed)" test "${gen_fixed:-0}" -gt "${gen_before:-0}"
check "posternd survived" kill -0 "$posternd_pid"
kill "$posternd_pid"; wait "$posternd_pid" 2>/dev/null; posternd_pid=

# 3. malformed CSV row: the whole file is refused, nothing is imported, the set is intact
ctl suppress import "$top/tests/pcap/demo/suppress.csv" > /dev/null 2>&1
ctl suppress import "$here/bad_suppress.csv" > "$work/import.out" 2>&1
rc=$?
check "CSV with a bad row refused (status $rc)" test "$rc" -eq 1
check "CSV error names bad_suppress.csv:3" grep -q "bad_suppress.csv:3:" "$work/import.out"
ctl suppress check valid1@customer.example > "$work/check.out" 2>&1
check "no row of the refused file was imported" grep -q "not suppressed" "$work/check.out"
ctl suppress check optedout@customer.example > "$work/check.out" 2>&1
check "the entries imported before are intact" grep -q "violation" "$work/check.out"

# 4. malformed config: file:line, exit status 2
printf 'workers = 1\nworkers = lots\n' > "$work/bad.conf"
"$build/control/posternd" -c "$work/bad.conf" > "$work/out" 2>&1
rc=$?
check "bad config refused (status $rc)" test "$rc" -eq 2
check "config error names bad.conf:2" grep -q "bad.conf:2:" "$work/out"

# 5. truncated capture: what precedes the cut is inspected, the rest is not, nothing crashes
"$top/scripts/replay" --build "$build" --pcap "$top/tests/pcap/truncated/input.pcap" \
	--out "$work/trunc.jsonl" 2> "$work/trunc.log"
rc=$?
check "truncated capture replays (status $rc)" test "$rc" -eq 0
check "the complete session before the cut still alerts (sid 1000001)" \
	grep -q '"signature_id":1000001' "$work/trunc.jsonl"

# 6. a file that is no capture: a clear start-up error, not a crash
head -c 4096 /dev/urandom > "$work/garbage.pcap"
write_conf "$top/rules/demo.rules"
timeout 60 "$build/dataplane/postern-dataplane" -c "$work/postern.conf" \
	--pcap "$work/garbage.pcap" --wait-rules 0 > "$work/garbage.out" 2>&1
rc=$?
check "garbage capture is refused cleanly (status $rc, not a signal)" \
	test "$rc" -ne 0 -a "$rc" -lt 124
check "garbage capture error says why" grep -qi "pcap\|EAL" "$work/garbage.out"

# 7. a capture path DPDK's vdev arguments cannot carry: refused with the reason
cp "$top/tests/pcap/demo/input.pcap" "$work/a,b.pcap"
"$build/dataplane/postern-dataplane" -c "$work/postern.conf" --pcap "$work/a,b.pcap" \
	> "$work/comma.out" 2>&1
rc=$?
check "a capture path with a comma is refused (status $rc)" test "$rc" -eq 2
check "the refusal says why" grep -q "cannot be given to DPDK" "$work/comma.out"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
