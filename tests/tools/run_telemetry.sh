#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The dataplane's DPDK telemetry commands (dataplane/telemetry.h) and posternctl stats tell
# the same counters, per worker too: posternd and a 2-worker dataplane on the demo capture
# (90 packets, 5 transactions), the dataplane kept running after the capture ends; then
# DPDK's own client, dpdk-telemetry.py, asks /postern/info, /postern/stats and
# /postern/worker,N on the dataplane's telemetry socket, and `posternctl stats --json` is
# asked the same. Both must give 90 packets, the workers' counters must sum to the totals,
# and a worker that does not exist must be refused. The tables keep their default sizes: two
# workers of them must fit the EAL memory the dataplane asks for by default.
#
#   tests/tools/run_telemetry.sh [--build DIR]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build"
[ "${1:-}" = --build ] && build=$2
py=/usr/bin/python3
client=$(command -v dpdk-telemetry.py)
[ -n "$client" ] || { echo "SKIP: dpdk-telemetry.py (package dpdk) missing"; exit 77; }

# shellcheck source=../check.sh
source "$top/tests/check.sh"

work=$(mktemp -d /tmp/postern-telemetry.XXXXXX)
prefix=pst-tel-$$
cleanup() {
	stop_started
	rm -rf "$work"
}
trap cleanup EXIT
{ postern_conf "$work"; echo "workers = 2"; } > "$work/postern.conf"
start_posternd "$work/postern.conf" "$work/posternd.log" || { echo "0 passed, 1 failed"; exit 1; }
# a file prefix of its own: the telemetry socket is /var/run/dpdk/PREFIX/dpdk_telemetry.v2
"$build/dataplane/postern-dataplane" -c "$work/postern.conf" \
	--pcap "$top/tests/pcap/demo/input.pcap" --exit-idle 600000 -- --no-pci \
	"--file-prefix=$prefix" 2> "$work/dataplane.log" &
started+=($!)
dp=$!

# wait until the capture is through and the counters published (once a second)
tel() { printf '%s\n' "$@" | "$py" "$client" -f "$prefix" 2> /dev/null; }
for _ in $(seq 100); do
	tel /postern/stats > "$work/tel.txt"
	grep -q '"rx_packets": 90' "$work/tel.txt" && break
	sleep 0.2
done
sleep 1.5 # one more round: posternd has the same round of counters
"$build/tools/posternctl" -c "$work/postern.conf" stats --json > "$work/stats.json"
tel /postern/info /postern/stats /postern/worker,0 /postern/worker,1 /postern/worker,2 \
	/postern/worker > "$work/tel.txt"

out=$("$py" - "$work/tel.txt" "$work/stats.json" << 'EOF'
import json, sys
# the client prints its own banner, then one JSON object a line per command
replies = []
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("{"):
        replies.append(json.loads(line))
stats = json.load(open(sys.argv[2]))
n_fail = 0
def report(ok, text):
    global n_fail
    print(("PASS: " if ok else "FAIL: ") + text)
    n_fail += 0 if ok else 1
def reply(cmd):
    for r in replies:
        if cmd in r:
            return r[cmd]
    return "missing"
info, total = reply("/postern/info"), reply("/postern/stats")
workers = [r["/postern/worker"] for r in replies if "/postern/worker" in r]
report(isinstance(info, dict) and info.get("workers") == 2 and info.get("mode") == "passive"
       and info.get("posternd_connected") == 1, "/postern/info: 2 workers, passive, posternd "
       "connected: %s" % info)
report(isinstance(total, dict) and total.get("rx_packets") == 90,
       "/postern/stats: 90 packets (%s)" % (total.get("rx_packets") if isinstance(total, dict) else total))
report(isinstance(total, dict) and total.get("smtp_transactions") == 5,
       "/postern/stats: 5 transactions")
ok_workers = [x for x in workers if isinstance(x, dict)]
report(len(ok_workers) == 2 and [x.get("worker") for x in ok_workers] == [0, 1],
       "/postern/worker,0 and ,1 answer; ,2 and no index are refused (%d answers of 4)" % len(ok_workers))
if len(ok_workers) == 2 and isinstance(total, dict):
    keys = ["rx_packets", "rx_bytes", "flows_created", "smtp_transactions", "rule_matches"]
    report(all(sum(x[k] for x in ok_workers) == total[k] for k in keys),
           "the workers' counters sum to the totals (%s)" % ", ".join(keys))
dp = stats.get("dataplane", {})
report(isinstance(total, dict) and all(dp.get(k) == total.get(k) for k in
       ("rx_packets", "rx_bytes", "smtp_transactions", "rule_generation")),
       "posternctl stats tells the same counters as telemetry")
sw = stats.get("workers", [])
report(len(sw) == 2 and all(sw[i].get("rx_packets") == ok_workers[i].get("rx_packets")
                            for i in range(min(len(sw), len(ok_workers)))),
       "posternctl stats' workers are telemetry's workers")
sys.exit(1 if n_fail else 0)
EOF
)
rc=$?
tally "$out"
if [ "$rc" != 0 ]; then
	grep -q '^FAIL: ' <<< "$out" || { echo "FAIL: the checker crashed"; fail=$((fail + 1)); }
	tail -5 "$work/dataplane.log"
	cat "$work/tel.txt"
fi
check "the dataplane still runs" kill -0 "$dp"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
