#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The compliance corpus through the whole pipeline (issue 7): every message of corpus.tsv
# (real ones from tests/data/emails and ones written for this test under messages/) is sent
# in its own SMTP session of one capture (corpus_pcap.py), replayed through the real
# processes (scripts/replay: posternd with the compliance, hygiene and antispam packs loaded
# together and the site policy in settings, the dataplane on the pcap vdev, a subscriber),
# and the smtp event of each session must carry exactly the expected CAN-SPAM result: its
# kind (commercial, automated, or none when no check applies) and the set of checks that
# failed. Alerts 2100030/2100031 must agree with those events (one per message with a
# failure, none otherwise), and every line must fit schema/eve.schema.json.
#
#   tests/compliance/run_corpus.sh [--build DIR]
# Prints a PASS/FAIL line per message and "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build"
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	*) echo "usage: run_corpus.sh [--build DIR]" >&2; exit 2 ;;
	esac
done
py=/usr/bin/python3

work=$(mktemp -d /tmp/postern-corpus.XXXXXX)
trap 'rm -rf "$work"' EXIT

if ! "$py" "$here/corpus_pcap.py" "$here/corpus.tsv" "$work/corpus.pcap" > "$work/ports.tsv"; then
	echo "FAIL: corpus_pcap.py could not write the capture"
	echo "0 passed, 1 failed"
	exit 1
fi

packs="$top/rules/compliance/compliance.rules $top/rules/hygiene/hygiene.rules"
packs+=" $top/rules/antispam/antispam.rules"
args=(--build "$build" --pcap "$work/corpus.pcap" --rules "$packs" --set eve_smtp_events=yes
	--settings "$here/settings")

if ! "$top/scripts/replay" "${args[@]}" --out "$work/eve.jsonl"; then
	echo "FAIL: the pipeline failed"
	echo "0 passed, 1 failed"
	exit 1
fi

"$py" - "$here/corpus.tsv" "$work/ports.tsv" "$work/eve.jsonl" \
	"$top/schema/eve.schema.json" "$top/tests/tools/validate_eve.py" <<'PY'
import json, subprocess, sys

corpus_path, ports_path, eve_path, schema, validator = sys.argv[1:6]
SID_COMMERCIAL, SID_AUTOMATED = 2100030, 2100031

expected = []
for line in open(corpus_path, encoding="utf-8"):
    line = line.rstrip("\n")
    if not line.strip() or line.startswith("#"):
        continue
    message, _mail_from, kind, failed = line.split("\t")[:4]
    expected.append((message, kind, set() if failed == "-" else set(failed.split(","))))
port_of = {}
for line in open(ports_path, encoding="utf-8"):
    port, message = line.rstrip("\n").split("\t")
    port_of[message] = int(port)

smtp, alerts = {}, {}
for line in open(eve_path, encoding="utf-8"):
    ev = json.loads(line)
    port = ev.get("src_port")
    if ev["event_type"] == "smtp":
        smtp.setdefault(port, []).append(ev)
    elif ev["event_type"] == "alert" and "canspam" in ev:
        alerts.setdefault(port, []).append(ev)

n_pass = n_fail = 0
def report(ok, text):
    global n_pass, n_fail
    print(("PASS: " if ok else "FAIL: ") + text)
    n_pass, n_fail = n_pass + ok, n_fail + (not ok)

ok = subprocess.run([sys.executable, validator, "--schema", schema, eve_path]).returncode == 0
report(ok, "every event fits the schema")

for message, kind, failed in expected:
    port = port_of[message]
    name = message.rsplit("/", 1)[-1]
    events = smtp.get(port, [])
    if len(events) != 1:
        report(False, "%s: %d smtp events, expected one" % (name, len(events)))
        continue
    cs = events[0].get("canspam")
    got_kind = cs["kind"] if cs else "none"
    got_failed = {f["check"] for f in cs["failed"]} if cs else set()
    want = "%s %s" % (kind, ",".join(sorted(failed)) or "-")
    got = "%s %s" % (got_kind, ",".join(sorted(got_failed)) or "-")
    report(got == want, "%s: %s%s" % (name, got, "" if got == want else " (expected %s)" % want))
    # the alert says the same as the event: one when a check failed, with the same checks
    sid = SID_AUTOMATED if got_kind == "automated" else SID_COMMERCIAL
    mine = alerts.get(port, [])
    if got_failed:
        agree = (len(mine) == 1 and mine[0]["alert"]["signature_id"] == sid and
                 {f["check"] for f in mine[0]["canspam"]["failed"]} == got_failed)
    else:
        agree = not mine
    if not agree:
        report(False, "%s: %d CAN-SPAM alerts disagree with its smtp event" % (name, len(mine)))

stray = set(alerts) - set(port_of.values())
report(not stray, "no CAN-SPAM alert outside the corpus sessions")
print("%d passed, %d failed" % (n_pass, n_fail))
sys.exit(1 if n_fail else 0)
PY
