#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The anomaly models end to end (issue 7): tools/gen_flood.py writes 70 minutes of steady
# mail from four internal hosts (3 messages a minute each, through the relay), then a flood
# of 400 messages in 2 minutes from one of them while the others go on. Replayed through the
# real processes (scripts/replay: the dataplane on the pcap, posternd, a subscriber) with the
# default anomaly settings, it must raise exactly one anomaly alert: messages per minute of
# host 10.10.1.11, far above its baseline of about 3; the flood's second minute is within
# the suppression period, the steady hosts never alert, and every line fits the schema.
#
#   tests/pcap/run_anomaly.sh [--build DIR]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build"
[ "${1:-}" = --build ] && build=$2
py=/usr/bin/python3

# shellcheck source=../check.sh
source "$top/tests/check.sh"

work=$(mktemp -d /tmp/postern-anomaly.XXXXXX)
trap 'rm -rf "$work"' EXIT

if ! "$py" "$top/tools/gen_flood.py" --out "$work/flood.pcap" > /dev/null 2>&1; then
	echo "FAIL: gen_flood.py could not write the capture"
	echo "0 passed, 1 failed"
	exit 1
fi
check "the replay runs" "$top/scripts/replay" --build "$build" --pcap "$work/flood.pcap" \
	--out "$work/eve.jsonl"
check "every line fits the schema" "$py" "$top/tests/tools/validate_eve.py" \
	--schema "$top/schema/eve.schema.json" "$work/eve.jsonl"
"$py" - "$work/eve.jsonl" > "$work/anomalies.out" 2>&1 <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
alerts = [e for e in lines if e["event_type"] == "alert" and "anomaly" in e]
for a in alerts:
    print(a["timestamp"], a.get("src_ip"), a["alert"]["signature_id"], json.dumps(a["anomaly"]))
ok = (len(alerts) == 1 and alerts[0].get("src_ip") == "10.10.1.11"
      and alerts[0]["anomaly"]["metric"] == "messages_per_minute"
      and alerts[0]["anomaly"]["subject"] == "host"
      and alerts[0]["anomaly"]["value"] > 100 and alerts[0]["anomaly"]["baseline"] < 10
      and alerts[0]["alert"]["signature_id"] == 2100020)
print("anomaly alerts:", len(alerts))
sys.exit(0 if ok else 1)
PY
rc=$?
cat "$work/anomalies.out"
check "exactly one anomaly alert: messages a minute of the flooding host" [ "$rc" = 0 ]

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
