#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The suppression set changes under a running dataplane (issue 6). The demo capture loops
# from memory (its first session mails optedout@customer.example, a commercial message)
# while posternctl, a separate process, first adds entries one by one (small transactions
# into the live set, the dataplane reading every burst), then imports the opt-out of
# optedout@ with --bulk: a new environment is built beside the set and swapped in with
# RENAME_EXCHANGE. Checked: before the import no transaction is suppressed; after it the
# violation appears within a couple of seconds and, from the first one on, every transaction
# to optedout@ carries it (never seen, then unseen); the dataplane reopened the set
# (suppress_reopens, its log), no lookup failed (suppress_errors 0), and no rebuilt directory
# is left behind. The loop of short sessions outruns posternd's formatting (about 30,000
# records a second on 2 CPUs), so records are dropped and counted at full speed; the
# verdicts are checked on every transaction that reached the EVE file. About 15 s.
#
#   tests/pcap/run_supp_swap.sh [--build DIR]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build"
[ "${1:-}" = --build ] && build=$2
py=/usr/bin/python3
limit=40 # the dataplane stops by itself after this long if the test hangs

# shellcheck source=../check.sh
source "$top/tests/check.sh"

work=$(mktemp -d /tmp/postern-swap.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ -n "${KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat > "$work/postern.conf" <<EOF
control_socket = $work/dataplane.sock
alert_socket = $work/alerts.sock
cli_socket = $work/control.sock
eve_file = $work/eve.json
eve_smtp_events = yes
rules = $top/rules/demo.rules
classification = $top/rules/classification.config
rule_cache_dir = $work/rule-cache
suppress_db = $work/suppress
workers = 1
flows_per_worker = 4096
sessions_per_worker = 256
EOF
ctl() { "$build/tools/posternctl" -c "$work/postern.conf" "$@"; }

# The set exists before the dataplane starts, without optedout@.
printf 'email,optout_date\nfiller0@else.example,2024-01-02\n' > "$work/first.csv"
ctl suppress import "$work/first.csv" > "$work/import0.out" 2>&1
check "the first import makes the set" grep -q "imported 1" "$work/import0.out"

"$build/control/posternd" -c "$work/postern.conf" 2> "$work/posternd.log" &
posternd=$!
pids+=("$posternd")
for _ in $(seq 200); do
	[ -S "$work/alerts.sock" ] && [ -S "$work/dataplane.sock" ] && break
	sleep 0.05
done
# EAL arguments after -- are added to the dataplane's own defaults (--no-pci among them);
# --no-pci is stated here as well, so that no PCI device is probed whatever they become.
"$build/dataplane/postern-dataplane" -c "$work/postern.conf" --wait-rules 10000 \
	--duration "$limit" -- \
	--no-pci --vdev "net_pcap0,rx_pcap=$top/tests/pcap/demo/input.pcap,infinite_rx=1" \
	2> "$work/dataplane.log" &
dataplane=$!
pids+=("$dataplane")
for _ in $(seq 200); do
	grep -q "ready:" "$work/dataplane.log" 2>/dev/null && break
	kill -0 "$dataplane" 2>/dev/null || break
	sleep 0.05
done
check "the pipeline runs" grep -q "ready:" "$work/dataplane.log"
sleep 1

# Small transactions into the live set while the dataplane reads it.
adds_ok=0
for i in $(seq 1 40); do
	ctl suppress add "filler$i@else.example" --date 2024-01-02 > /dev/null 2>&1 &&
		adds_ok=$((adds_ok + 1))
done
check "40 adds into the live set while it is read" [ "$adds_ok" = 40 ]
mark=$(wc -l < "$work/eve.json")

# The bulk import: a rebuilt set swapped in.
{
	echo "email,optout_date"
	for i in $(seq 1 5000); do echo "bulk$i@else.example,2024-02-01"; done
	echo "optedout@customer.example,2024-01-02"
} > "$work/bulk.csv"
ctl suppress import --bulk "$work/bulk.csv" > "$work/import1.out" 2>&1
check "the bulk import rebuilds the set and swaps it in" grep -q "set rebuilt" "$work/import1.out"
check "no rebuilt directory is left beside the set" \
	bash -c "! ls -d '$work'/suppress.new.* 2>/dev/null | grep -q ."

for _ in $(seq 100); do
	grep -q '"signature_id":2100002' "$work/eve.json" && break
	sleep 0.1
done
sleep 2
kill -INT "$dataplane" 2>/dev/null
wait "$dataplane" 2>/dev/null
ctl stats --json > "$work/stats.json" 2>/dev/null
kill -TERM "$posternd" 2>/dev/null
wait "$posternd" 2>/dev/null
pids=()

check "the dataplane logged the reopen" grep -q "suppression set .* reopened" "$work/dataplane.log"
"$py" - "$work/eve.json" "$mark" > "$work/verdicts.out" 2>&1 <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
mark = int(sys.argv[2])
def to_optedout(e):
    return e["event_type"] == "smtp" and "optedout@customer.example" in e["smtp"].get("rcpt_to", [])
first = next((i for i, e in enumerate(lines)
              if e["event_type"] == "alert" and e["alert"]["signature_id"] == 2100002), None)
before = [e for e in lines[:mark] if to_optedout(e)]
early_alerts = [e for e in lines[:mark]
                if e["event_type"] == "alert" and e["alert"]["signature_id"] == 2100002]
print("transactions to optedout@ before the import:", len(before),
      "suppressed:", len(early_alerts))
if first is None:
    print("no violation after the import"); sys.exit(1)
missing = 0
after = 0
for i in range(first, len(lines)):
    e = lines[i]
    if not to_optedout(e):
        continue
    after += 1
    # its alerts come just before its smtp event, with the same flow and transaction
    j, found = i - 1, False
    while j >= 0 and lines[j]["event_type"] == "alert" and \
            lines[j]["flow_id"] == e["flow_id"] and lines[j]["tx_id"] == e["tx_id"]:
        found |= lines[j]["alert"]["signature_id"] == 2100002
        j -= 1
    missing += not found
print("transactions to optedout@ from the first violation on:", after, "without it:", missing)
sys.exit(0 if before and not early_alerts and after > 0 and missing == 0 else 1)
EOF
rc=$?
cat "$work/verdicts.out"
check "none suppressed before, every one suppressed from the first violation on" [ "$rc" = 0 ]

counter() {
	"$py" -c 'import json,sys; d=json.load(open(sys.argv[1]))["dataplane"]; print(d.get(sys.argv[2], "-"))' \
		"$work/stats.json" "$1" 2>/dev/null || echo "-"
}
reopens=$(counter suppress_reopens)
errors=$(counter suppress_errors)
lookups=$(counter suppress_lookups)
echo "dataplane: suppress_lookups $lookups, suppress_reopens $reopens, suppress_errors $errors," \
	"events_dropped $(counter events_dropped)"
check "the dataplane reopened the set" test "$reopens" -ge 1 2>/dev/null
check "no lookup failed" [ "$errors" = 0 ]
check "the set was looked up all along" test "$lookups" -gt 1000 2>/dev/null

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
