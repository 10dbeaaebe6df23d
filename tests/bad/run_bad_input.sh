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
# ... and by posternctl rules check, before any deployment, with no posternd running
ctl rules check "$here/bad.rules" > "$work/check_rules.out" 2>&1
rc=$?
check "posternctl rules check refuses the bad pack (status $rc)" test "$rc" -eq 1
check "posternctl rules check names bad.rules:8" grep -q "bad.rules:8:" "$work/check_rules.out"
ctl rules check "$top/rules/demo.rules" > "$work/check_rules.out" 2>&1
rc=$?
check "posternctl rules check accepts the demo pack (status $rc)" test "$rc" -eq 0
check "posternctl rules check counts its rules" grep -q "demo.rules: 5 rules" "$work/check_rules.out"

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

# 8. malformed packets: counted by reason, nothing crashes, the good session around them is
#    still inspected
/usr/bin/python3 - "$top/tests/pcap/demo/input.pcap" "$work/malformed.pcap" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
head, recs, off = data[:24], [], 24
while off + 16 <= len(data):
    sec, usec, incl, orig = struct.unpack("<IIII", data[off:off + 16])
    recs.append((sec, usec, data[off + 16:off + 16 + incl]))
    off += 16 + incl
good = recs[3][2]                      # a data packet of the first session
eth, ip, tcp = good[:14], good[14:34], good[34:]
vlan = b"\x81\x00\x00\x01"
bad = [
    eth + ip[:10],                                    # truncated inside the IP header
    eth[:12] + vlan * 3 + eth[12:] + ip + tcp,        # three VLAN tags
    eth + bytes([0x44]) + ip[1:] + tcp,               # IHL 4
    eth + ip + tcp[:12] + bytes([0x10]) + tcp[13:],   # TCP data offset 4
    eth[:12] + b"\x86\xdd" + bytes([0x40]) + b"\0" * 3 + struct.pack("!H", 0) + b"\x06\x40" + b"\0" * 32,  # IPv6 type, version 4
]
out = bytearray(head)
for n, (sec, usec, frame) in enumerate(recs):
    out += struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame
    if n == 3:
        for b in bad:
            out += struct.pack("<IIII", sec, usec, len(b), len(b)) + b
open(sys.argv[2], "wb").write(out)
PY
"$top/scripts/replay" --build "$build" --pcap "$work/malformed.pcap" \
	--suppress "$top/tests/pcap/demo/suppress.csv" --out "$work/malformed.jsonl" \
	2> "$work/malformed.log"
rc=$?
check "a capture with malformed packets replays (status $rc)" test "$rc" -eq 0
stats=$(grep '"event_type":"stats"' "$work/malformed.jsonl" | tail -1)
for reason in truncated bad_l2 bad_ipv4 bad_tcp bad_ipv6; do
	check "a malformed packet counted as decode_$reason" \
		grep -q "\"decode_$reason\":1[,}]" <<< "$stats"
done
check "decode_errors sums them" grep -q '"decode_errors":5[,}]' <<< "$stats"
check "the session around them is still inspected (sid 2100002)" \
	grep -q '"signature_id":2100002,' "$work/malformed.jsonl"

# 7. a capture path DPDK's vdev arguments cannot carry: refused with the reason
cp "$top/tests/pcap/demo/input.pcap" "$work/a,b.pcap"
"$build/dataplane/postern-dataplane" -c "$work/postern.conf" --pcap "$work/a,b.pcap" \
	> "$work/comma.out" 2>&1
rc=$?
check "a capture path with a comma is refused (status $rc)" test "$rc" -eq 2
check "the refusal says why" grep -q "cannot be given to DPDK" "$work/comma.out"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
