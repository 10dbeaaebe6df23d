#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# posternd's syslog output against a real rsyslogd: rsyslogd runs on a private config in a
# scratch directory (no imklog, no /dev/log: imudp and imtcp on 127.0.0.1 at free ports only),
# writing each message it receives as one JSON object (its parsed RFC 5424 fields and the raw
# message). The demo capture is replayed twice, with syslog=udp:... and syslog=tcp:... and
# syslog_facility=local3; each time every line the alert subscriber received must have
# arrived at rsyslog exactly once as MSG (no other message either), with MSGID its
# event_type, facility local3, severity warning (4) for alert and anomaly and info (6) for the
# rest, APP-NAME posternd, a numeric PROCID and an RFC 3339 UTC timestamp with microseconds.
# (The unit test test_syslog_out.c checks the framing, limits, queueing and reconnects.)
#
#   tests/tools/run_syslog.sh [--build DIR]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build"
[ "${1:-}" = --build ] && build=$2
# shellcheck source=../check.sh
. "$top/tests/check.sh"

rsyslogd=${RSYSLOGD:-/usr/sbin/rsyslogd}
work=$(mktemp -d /tmp/postern-syslog.XXXXXX)
rs_pid=""
cleanup() {
	if [ -n "$rs_pid" ]; then
		kill "$rs_pid" 2>/dev/null
		wait "$rs_pid" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT

if ! [ -x "$rsyslogd" ]; then
	echo "FAIL: $rsyslogd is not installed (apt-get install rsyslog)"
	echo "0 passed, 1 failed"
	exit 1
fi

# two free ports on 127.0.0.1 (one TCP, one UDP), picked by the kernel
read -r tcp_port udp_port < <(/usr/bin/python3 -c '
import socket
t = socket.socket(); t.bind(("127.0.0.1", 0))
u = socket.socket(type=socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
print(t.getsockname()[1], u.getsockname()[1])')

mkdir -p "$work/rs"
cat > "$work/rsyslog.conf" << EOF
global(workDirectory="$work/rs" maxMessageSize="256k")
module(load="imudp")
module(load="imtcp")
template(name="fields" type="list" option.jsonf="on") {
	property(outname="input" name="inputname" format="jsonf")
	property(outname="facility" name="syslogfacility" format="jsonf")
	property(outname="severity" name="syslogseverity" format="jsonf")
	property(outname="version" name="protocol-version" format="jsonf")
	property(outname="hostname" name="hostname" format="jsonf")
	property(outname="app" name="app-name" format="jsonf")
	property(outname="procid" name="procid" format="jsonf")
	property(outname="msgid" name="msgid" format="jsonf")
	property(outname="sd" name="structured-data" format="jsonf")
	property(outname="msg" name="msg" format="jsonf")
	property(outname="raw" name="rawmsg" format="jsonf")
}
ruleset(name="received") {
	action(type="omfile" file="$work/received.jsonl" template="fields" flushOnTXEnd="on")
}
input(type="imudp" address="127.0.0.1" port="$udp_port" ruleset="received")
input(type="imtcp" address="127.0.0.1" port="$tcp_port" ruleset="received")
EOF

"$rsyslogd" -n -f "$work/rsyslog.conf" -i "$work/rsyslogd.pid" > "$work/rsyslogd.log" 2>&1 &
rs_pid=$!
ready=0
for _ in $(seq 100); do
	kill -0 "$rs_pid" 2>/dev/null || break
	if /usr/bin/python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $tcp_port), 1)" \
		2>/dev/null && ss -H -lun "sport = :$udp_port" 2>/dev/null | grep -q .; then
		ready=1
		break
	fi
	sleep 0.1
done
check "rsyslogd listens on 127.0.0.1 udp $udp_port and tcp $tcp_port" [ "$ready" = 1 ]
if [ "$ready" != 1 ]; then
	cat "$work/rsyslogd.log"
	echo "$pass passed, $fail failed"
	exit 1
fi
# the probe connection above is a message-less session; nothing is logged for it

for transport in udp tcp; do
	port=$udp_port
	[ "$transport" = tcp ] && port=$tcp_port
	: > "$work/received.jsonl"
	if ! "$top/scripts/replay" --build "$build" --pcap "$top/tests/pcap/demo/input.pcap" \
		--set eve_smtp_events=yes --set "syslog=$transport:127.0.0.1:$port" \
		--set syslog_facility=local3 --out "$work/sub-$transport.jsonl" \
		2> "$work/replay-$transport.log"; then
		check "$transport: the replay ran" false
		cat "$work/replay-$transport.log"
		continue
	fi
	# rsyslog writes asynchronously: wait until it has as many messages as the subscriber
	want=$(wc -l < "$work/sub-$transport.jsonl")
	for _ in $(seq 100); do
		[ "$(grep -c . "$work/received.jsonl")" -ge "$want" ] && break
		sleep 0.1
	done
	sleep 0.3 # and a moment for any message too many
	grep . "$work/received.jsonl" > "$work/received-$transport.jsonl"
	tally "$(/usr/bin/python3 - "$transport" "$work/sub-$transport.jsonl" \
		"$work/received-$transport.jsonl" << 'EOF'
import collections, json, re, sys

transport, sub_path, rec_path = sys.argv[1:]
def report(ok, text):
    print(("PASS: " if ok else "FAIL: ") + transport + ": " + text)

sub = open(sub_path, encoding="utf-8").read().splitlines()
rec = [json.loads(l) for l in open(rec_path, encoding="utf-8").read().splitlines()]
report(len(sub) > 0, "the subscriber received %d lines" % len(sub))
report(all(r["input"] == "im" + transport for r in rec),
       "every message came in through im%s" % transport)
missing = collections.Counter(sub) - collections.Counter(r["msg"] for r in rec)
extra = collections.Counter(r["msg"] for r in rec) - collections.Counter(sub)
report(not missing and not extra,
       "each of the %d lines arrived exactly once as MSG (%d received, %d missing, %d extra)"
       % (len(sub), len(rec), sum(missing.values()), sum(extra.values())))
types = collections.Counter(json.loads(r["msg"]).get("event_type") for r in rec)
report(types["alert"] > 0 and len(types) >= 2, "event types seen: %s" % dict(types))
bad = [r for r in rec if r["msgid"] != json.loads(r["msg"]).get("event_type")]
report(not bad, "MSGID is the line's event_type%s" % (": " + repr(bad[0])[:300] if bad else ""))
report(all(r["facility"] == "19" for r in rec), "facility local3 (19)")
sev = lambda t: "4" if t in ("alert", "anomaly", "spool") else "6"
bad = [r for r in rec if r["severity"] != sev(r["msgid"])]
report(not bad, "severity 4 for alert/anomaly/spool, 6 for the rest%s"
       % (": " + repr(bad[0])[:300] if bad else ""))
report(all(r["app"] == "posternd" for r in rec), "APP-NAME posternd")
report(all(r["version"] == "1" and r["sd"] == "-" for r in rec), "version 1, no structured data")
report(all(re.fullmatch(r"[1-9][0-9]*", r["procid"]) for r in rec) and
       len({r["procid"] for r in rec}) == 1, "PROCID is one process's PID")
report(all(re.fullmatch(r"[\x21-\x7e]{1,255}", r["hostname"]) for r in rec), "HOSTNAME set")
# the raw message as sent (TCP framing removed by imtcp): the header, byte for byte
hdr = re.compile(r"<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) ([\x21-\x7e]{1,255}) "
                 r"posternd (\d+) ([\x21-\x7e]{1,32}) - (.*)", re.S)
ok = True
for r in rec:
    m = hdr.fullmatch(r["raw"])
    if not m or int(m.group(1)) != 19 * 8 + int(r["severity"]) or m.group(6) != r["msg"]:
        ok = False
        print("  bad raw message: " + r["raw"][:200])
        break
report(ok, "each raw message is <PRI>1 TIMESTAMP(RFC 3339 UTC, microseconds) ... - MSG")
EOF
)"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
