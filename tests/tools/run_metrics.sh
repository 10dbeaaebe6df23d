#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# posternd's Prometheus endpoint (metrics_listen): posternd and a two-worker dataplane on the
# demo capture, posternd kept running after the dataplane is done. The scrape must be
# 200 text/plain; version=0.0.4, parse whole with the official Python parser
# (python3-prometheus-client), every family typed counter or gauge; every sample must equal
# the value `posternctl stats --json` gives for it (read before and after the scrape, keys
# that moved in between are left out), postern_dataplane_rx_packets_total the capture's
# packet count, and the per-worker samples sum to the dataplane totals. Also: / is 404,
# POST is 405, and posternd answers while a scrape is made during the replay.
#
#   tests/tools/run_metrics.sh [--build DIR]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build"
[ "${1:-}" = --build ] && build=$2
py=/usr/bin/python3
pcap="$top/tests/pcap/demo/input.pcap"

# shellcheck source=../check.sh
source "$top/tests/check.sh"

if ! "$py" -c 'import prometheus_client' 2> /dev/null; then
	echo "FAIL: python3-prometheus-client is not installed (scripts/setup installs it)"
	echo "0 passed, 1 failed"
	exit 1
fi

work=$(mktemp -d /tmp/postern-metrics.XXXXXX)
cleanup() {
	stop_started
	rm -rf "$work"
}
trap cleanup EXIT

# a free loopback port: bound, read, released (posternd binds it a moment later)
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0));
print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
conf="$work/postern.conf"
{
	postern_conf "$work"
	cat << EOF
rule_cache_dir = $work/rule-cache
workers = 2
flows_per_worker = 4096
sessions_per_worker = 256
event_ring_size = 1024
metrics_listen = 127.0.0.1:$port
EOF
} > "$conf"

if ! start_posternd "$conf" "$work/posternd.log"; then
	echo "FAIL: posternd did not start"
	echo "0 passed, 1 failed"
	exit 1
fi
pid=$posternd_pid
stats() { "$build/tools/posternctl" -c "$conf" stats --json; }
scrape() { curl -sS --max-time 5 "$@"; }

check "posternd serves /metrics before any dataplane" \
	scrape -o "$work/early.txt" -f "$url/metrics"

"$build/dataplane/postern-dataplane" -c "$conf" --pcap "$pcap" 2> "$work/dataplane.log" &
dp_pid=$!
started+=("$dp_pid")
scrape -o "$work/during.txt" -f "$url/metrics"
check "posternd answers a scrape as the dataplane starts" test $? = 0
wait "$dp_pid"
check "the dataplane ran the capture" test $? = 0
# posternd has the last counters once the dataplane said goodbye
for _ in $(seq 50); do
	stats > "$work/stats0.json" 2> /dev/null && \
		grep -q '"dataplanes_connected": 0' "$work/stats0.json" && break
	sleep 0.1
done

stats > "$work/stats1.json"
scrape -D "$work/headers.txt" -o "$work/metrics.txt" "$url/metrics"
stats > "$work/stats2.json"
check "GET /metrics: 200" grep -q '^HTTP/1.[01] 200' "$work/headers.txt"
check "GET /metrics: Content-Type text/plain; version=0.0.4" \
	grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$work/headers.txt"
check "GET /: 404" test "$(scrape -o /dev/null -w '%{http_code}' "$url/")" = 404
check "POST /metrics: 405" \
	test "$(scrape -o /dev/null -w '%{http_code}' -d x "$url/metrics")" = 405
check "posternd still runs" kill -0 "$pid"

packets=$(tshark -r "$pcap" -T fields -e frame.number 2> /dev/null | wc -l)
out=$("$py" - "$work" "$packets" << 'EOF'
import json, os, sys
from prometheus_client.parser import text_string_to_metric_families

work, packets = sys.argv[1], int(sys.argv[2])
n_fail = 0
def report(ok, text):
    global n_fail
    print(("PASS: " if ok else "FAIL: ") + text)
    n_fail += 0 if ok else 1

missing = [f for f in ("early.txt", "during.txt", "metrics.txt", "stats1.json", "stats2.json")
           if not os.path.exists(os.path.join(work, f))]
if missing:
    report(False, "nothing to check: no %s" % ", ".join(missing))
    sys.exit(1)

for name in ("early.txt", "during.txt", "metrics.txt"):
    text = open(os.path.join(work, name)).read()
    lines = [l for l in text.splitlines() if l and not l.startswith("#")]
    try:
        fams = list(text_string_to_metric_families(text))
        err = None
    except Exception as e:
        fams, err = [], e
    report(err is None and sum(len(f.samples) for f in fams) == len(lines) and lines,
           "%s: every one of its %d sample lines parses%s" % (name, len(lines),
                                                              " (%s)" % err if err else ""))
    report(fams and all(f.type in ("counter", "gauge") for f in fams),
           "%s: all %d families typed counter or gauge" % (name, len(fams)))

text = open(os.path.join(work, "metrics.txt")).read()
s1 = json.load(open(os.path.join(work, "stats1.json")))
s2 = json.load(open(os.path.join(work, "stats2.json")))
samples = {}
for f in text_string_to_metric_families(text):
    for s in f.samples:
        samples[(s.name, tuple(sorted(s.labels.items())))] = (s.value, f.type)

# the gauges, kept here by hand: an oracle of its own, not read from control/prom_text.c
GAUGES = {"rule_generation", "rules", "workers", "reload_in_progress", "dataplanes_connected",
          "subscribers", "flows_active", "connected", "queued", "spool_records",
          "spool_bytes"}
def expected(stats):
    """What the exposition should hold, from the stats JSON, by the documented mapping."""
    out = {}
    def put(section, key, value, labels=()):
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, (int, float)):
            return
        name = "postern_%s_%s%s" % (section, key, "" if key in GAUGES else "_total")
        out[(name, labels)] = float(value)
    for section, body in stats.items():
        if section == "workers" and isinstance(body, list):
            for i, w in enumerate(body):
                for k, v in w.items():
                    if k != "worker":
                        put("worker", k, v, (("worker", str(w.get("worker", i))),))
        elif section == "outputs" and isinstance(body, dict):
            for o, vals in body.items():
                for k, v in vals.items():
                    put("output", k, v, (("output", o),))
        elif isinstance(body, dict):
            for k, v in body.items():
                put(section, k, v)
    return out

e1, e2 = expected(s1), expected(s2)
stable = {k: v for k, v in e1.items() if e2.get(k) == v}
bad = [(k, v, samples.get(k)) for k, v in stable.items()
       if k not in samples or samples[k][0] != v]
report(len(stable) > 20 and not bad,
       "all %d stable stats values are in the exposition, equal (%d moved)%s"
       % (len(stable), len(e1) - len(stable), "; wrong: %s" % bad[:5] if bad else ""))
extra = [k for k in samples if k not in e1 and k not in e2]
report(not extra, "the exposition holds nothing the stats do not%s"
       % ("; extra: %s" % extra[:5] if extra else ""))
rx = samples.get(("postern_dataplane_rx_packets_total", ()), (None,))[0]
report(rx == s1.get("dataplane", {}).get("rx_packets") == packets,
       "postern_dataplane_rx_packets_total %s = dataplane.rx_packets = %d packets in the capture"
       % (rx, packets))
for fam in ("rx_packets", "rx_bytes", "flows_created", "smtp_transactions"):
    name = "postern_worker_%s_total" % fam
    per = [v for (n, l), (v, t) in samples.items() if n == name]
    total = samples.get(("postern_dataplane_%s_total" % fam, ()), (None,))[0]
    report(len(per) == 2 and sum(per) == total,
           "%s: %d workers sum to %s, the dataplane total %s" % (name, len(per), sum(per), total))
report(samples.get(("postern_posternd_reload_in_progress", ()), (None, None))[1] == "gauge",
       "postern_posternd_reload_in_progress is a gauge")
sys.exit(1 if n_fail else 0)
EOF
)
rc=$?
tally "$out"
if [ "$rc" != 0 ] && ! grep -q '^FAIL: ' <<< "$out"; then
	echo "FAIL: the checker itself failed (status $rc)"
	fail=$((fail + 1))
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
