#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Live anomaly test: a mail flood from one internal host, made with Postfix's smtp-source
# between two network namespaces and inspected by postern-dataplane through an af_packet vdev
# on the server's veth end, must raise exactly one anomaly alert in posternd. It builds the
# lib.sh topology, runs smtp-sink on 10.98.0.2:25 (dumping every transaction, to count them),
# starts posternd (anomaly_warmup = 60, every other anomaly setting at its default), an alert
# subscriber and the dataplane, then, from the client namespace (host 10.98.0.1):
#   S+0       steady phase: 3 messages, one session each, 20 s apart (the host's first
#             record sets its window origin t0; its first minute, 3 messages, is the baseline)
#   S+65      flood: 300 messages over 2 sessions, all inside the host's second minute
#   S+118     check that no anomaly alert exists yet (no window of the flood can be closed)
#   then      nothing more is sent: the dataplane watches live traffic (IPC_HELLO_LIVE), so
#             posternd's models follow the wall clock (less a 2 s lag for records in flight)
#             and its once-a-second tick must close the quiet host's flood window on time,
#             by S+135, without any later record to carry the time forward.
# Expected: one alert, sid 2100020, messages_per_minute of host 10.98.0.1 (about 300 against
# a baseline of about 3). Sessions (2) and distinct recipients (300) stay under their floors,
# and the sender domain blast.example is new (still in warm-up). Every alert line must fit schema/eve.schema.json, every message must reach
# smtp-sink, and no process may die. Takes about 2.5 minutes; sends nothing outside the
# namespaces it creates.
#
# Usage: tests/netns/test_live_flood.sh [--build DIR] [--keep]
#   --build DIR     Postern build directory (default: $BUILD, else build/ in the repo root)
#   --keep          keep the temporary directory (logs, alerts.jsonl, smtp-sink dump)
# Prints PASS:/FAIL: lines and "N passed, N failed"; exits 0 (all passed), 1 (a failure) or
# 77 (skipped: not root, no `ip netns`, or a missing tool).

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
PY=/usr/bin/python3
# smtp-source and smtp-sink live in /usr/sbin, often not on a non-login root's PATH.
PATH=$PATH:/usr/sbin:/usr/local/sbin

# shellcheck source=SCRIPTDIR/lib.sh
source "$HERE/lib.sh"

netns_options "$@"

TEST_T0=$SECONDS
FINISH_T0=$TEST_T0
netns_require smtp-source smtp-sink
[ -x "$PY" ] || netns_skip "$PY not found"
id -u postfix >/dev/null 2>&1 || netns_skip "no postfix user (smtp-sink drops privileges to it)"

# ------------------------------------------------------------------- the schedule

# Seconds after the steady phase starts (S). The host's t0 is its first record, a few ms
# after S; its windows are [t0, t0+60) (baseline) and [t0+60, t0+120) (the flood, judged:
# anomaly_warmup is 60). Margins of several seconds on each side of every boundary.
STEADY_MSGS=3
STEADY_GAP=20     # smtp-source -w: waits after every message, so it exits at S+60
FLOOD_AT=65
FLOOD_MSGS=300
FLOOD_END_BY=112  # the flood must be over by then to stay inside [t0+60, t0+120)
QUIET_CHECK_AT=118 # no anomaly alert may exist yet
ALERT_BY=135       # the window ends at t0+120 (t0 ~ S), posternd's clock lags 2 s
FLOOD_FROM=promo@blast.example

SIN=$SERVER_IP:25

netns_mktemp WORK || fatal "mktemp -d"
netns_setup || fatal "network namespace topology"

# ------------------------------------------------------------------- SMTP sink

# smtp-sink switches to the postfix user after binding: it must be able to reach its dump
# file, so the work directory becomes traversable (not listable) and the dump directory is
# postfix's.
chmod 711 "$WORK"
mkdir -p "$WORK/sink"
chown postfix "$WORK/sink" || fatal "chown postfix $WORK/sink"
DUMP=$WORK/sink/dump
netns_spawn "$SERVER_NS" smtp-sink -u postfix -D "$DUMP" "$SIN" 64 >"$WORK/sink.log" 2>&1
SINK_PID=$NETNS_LAST_PID
if netns_wait 10 netns_listening "$SERVER_NS" 25; then
	pass "smtp-sink listening on $SIN in $SERVER_NS"
else
	show_log "$WORK/sink.log"
	fatal "smtp-sink did not start"
fi

# ------------------------------------------------------------------- Postern

postern_binaries "$BUILD"
for f in rules/demo.rules rules/classification.config schema/eve.schema.json \
	tests/tools/validate_eve.py; do
	[ -r "$ROOT/$f" ] || fatal "$f missing"
done

CONF=$WORK/postern.conf
postern_write_conf "$CONF" "$WORK" "$ROOT/rules/demo.rules" || fatal "cannot write $CONF"
cat >>"$CONF" <<EOF
# judge from the second minute on instead of after an hour; the rest at the defaults
anomaly_warmup = 60
EOF

postern_start_posternd "$CONF" "$WORK/posternd.log"
postern_start_subscriber "$CONF" "$WORK/alerts.jsonl" "$WORK/alerts.err"
postern_start_dataplane "$SERVER_NS" "$CONF" "$WORK/dataplane.err" --iface "$SERVER_IF" -- -l 0-1 ||
	fatal "postern-dataplane not ready on $SERVER_NS/$SERVER_IF"
pass "postern-dataplane ready on $SERVER_NS/$SERVER_IF (pid $DP_PID)"

# ------------------------------------------------------------------- the traffic

# Microseconds since the epoch, from bash's own clock (no fork).
now_us() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((10#$t))
}

# Seconds since S with one decimal, for the log.
since_s() {
	local d=$(($(now_us) - S_US))
	printf '%d.%d' $((d / 1000000)) $((d % 1000000 / 100000))
}

# sleep_until OFFSET: sleep until S+OFFSET seconds; 1 if that moment has already passed.
sleep_until() {
	local d=$((S_US + $1 * 1000000 - $(now_us)))
	[ "$d" -gt 0 ] || return 1
	sleep "$(printf '%d.%06d' $((d / 1000000)) $((d % 1000000)))"
}

# Anomaly alerts so far (sids 2100020..2100026; a protocol "anomaly" event is not one).
alert_count() {
	grep -Ec '"signature_id" *: *210002[0-6]([^0-9]|$)' "$WORK/alerts.jsonl" 2>/dev/null
}

# shellcheck disable=SC2317 # called through netns_wait
alert_seen() {
	[ "$(alert_count)" -ge 1 ]
}

echo "setup took $((SECONDS - TEST_T0)) s; steady phase starts (S)"
S_US=$(now_us)
ip netns exec "$CLIENT_NS" smtp-source -m "$STEADY_MSGS" -w "$STEADY_GAP" -M ws11.corp.example \
	-f report@ws11.corp.example -t ops@corp.example -S "steady report" "$SIN" \
	>"$WORK/steady.log" 2>&1 &
STEADY_PID=$!
netns_track "$STEADY_PID"
sleep_until "$FLOOD_AT" || fatal "setup overran the schedule (S+$FLOOD_AT passed)"
if ! kill -0 "$STEADY_PID" 2>/dev/null; then
	wait "$STEADY_PID"
	rc=$?
else
	rc=running
fi
if [ "$rc" = 0 ]; then
	pass "smtp-source steady: $STEADY_MSGS messages, ${STEADY_GAP} s apart, exit 0"
else
	fail "smtp-source steady: exit $rc at S+$FLOOD_AT (expected 0, done by S+60)"
	show_log "$WORK/steady.log"
fi

echo "flood starts at S+$(since_s) s"
t_flood=$(now_us)
ip netns exec "$CLIENT_NS" smtp-source -d -s 2 -m "$FLOOD_MSGS" -N -M ws11.corp.example \
	-f "$FLOOD_FROM" -t lead@prospects.example -S "Flash sale" -l 500 "$SIN" \
	>"$WORK/flood.log" 2>&1
rc=$?
took=$(($(now_us) - t_flood))
end_s=$(since_s)
printf -v took_s '%d.%03d' $((took / 1000000)) $((took % 1000000 / 1000))
echo "flood took $took_s s, over at S+$end_s s"
if [ "$rc" -eq 0 ]; then
	pass "smtp-source flood: $FLOOD_MSGS messages over 2 sessions in $took_s s, exit 0"
else
	fail "smtp-source flood: exit $rc"
	show_log "$WORK/flood.log"
fi
if [ $(((t_flood + took - S_US) / 1000000)) -lt "$FLOOD_END_BY" ]; then
	pass "flood over by S+$end_s s, inside the host's second minute"
else
	fail "flood over at S+$end_s s, after S+$FLOOD_END_BY: it spills out of the judged window"
fi

# Just before t0+120 s no window of the flood can have closed, whatever the clock.
sleep_until "$QUIET_CHECK_AT" || fail "flood overran the schedule (S+$QUIET_CHECK_AT passed)"
pre=$(alert_count)
if [ "${pre:-0}" -eq 0 ]; then
	pass "no anomaly alert at S+$(since_s) s, before the flood's window could close"
else
	fail "$pre anomaly alert(s) at S+$(since_s) s, before the flood's window could close"
fi
# No more mail: the window must close on the wall clock alone.
deadline=$((S_US / 1000000 + ALERT_BY))
while [ "$(date +%s)" -lt "$deadline" ] && ! alert_seen; do
	sleep 0.5
done
if alert_seen; then
	pass "anomaly alert at S+$(since_s) s, with no mail after the flood"
else
	fail "no anomaly alert by S+$ALERT_BY s: the quiet flood window was not judged on time"
fi
sleep 5

# ------------------------------------------------------------------- the checks

check_out=$("$PY" - "$WORK/alerts.jsonl" "$CLIENT_IP" <<'EOF'
import json, sys
from collections import Counter

path, host = sys.argv[1], sys.argv[2]
n_fail = 0
def report(ok, text):
    global n_fail
    print(("PASS: " if ok else "FAIL: ") + text)
    n_fail += 0 if ok else 1

lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
events, bad = [], 0
for i, line in enumerate(lines, 1):
    try:
        events.append(json.loads(line))
    except ValueError:
        bad += 1
        print("    line %d is not JSON: %.120s" % (i, line))
report(bad == 0 and len(lines) > 0, "alerts.jsonl: %d lines, %d not JSON" % (len(lines), bad))

sids = Counter((e.get("alert") or {}).get("signature_id") for e in events
               if e.get("event_type") == "alert")
print("    alerts by signature_id: %s" % dict(sids))
an = [e for e in events if e.get("event_type") == "alert" and "anomaly" in e]
for e in an:
    print("    anomaly alert: %s" % json.dumps(e, sort_keys=True))
report(len(an) == 1, "exactly one anomaly alert (got %d)" % len(an))
if an:
    e, a = an[0], an[0]["anomaly"]
    got = dict(sid=e["alert"].get("signature_id"), subject=a.get("subject"),
               metric=a.get("metric"), src_ip=e.get("src_ip"), value=a.get("value"),
               baseline=a.get("baseline"))
    ok = (got["sid"] == 2100020 and got["subject"] == "host"
          and got["metric"] == "messages_per_minute" and got["src_ip"] == host
          and isinstance(got["value"], (int, float)) and got["value"] >= 250
          and isinstance(got["baseline"], (int, float)) and got["baseline"] < 10)
    report(ok, "the anomaly alert is 2100020, messages_per_minute of host %s, value >= 250, "
           "baseline < 10: %s" % (host, got))
sys.exit(1 if n_fail else 0)
EOF
)
tally_checker $? "$check_out" "$WORK/alerts.jsonl" "$WORK/alerts.err" "$WORK/posternd.log" \
	"$WORK/dataplane.err"

if "$PY" "$ROOT/tests/tools/validate_eve.py" --schema "$ROOT/schema/eve.schema.json" \
	--min-lines 1 "$WORK/alerts.jsonl" >"$WORK/validate.log" 2>&1; then
	pass "every line of alerts.jsonl fits schema/eve.schema.json"
else
	fail "alerts.jsonl does not fit the schema"
	show_log "$WORK/validate.log"
fi

# What smtp-sink received: one X-Mail-Args line per transaction, one X-Rcpt-Args per
# recipient (smtp-source -N numbers the flood's recipients: 300 distinct addresses).
n_all=$(grep -c '^X-Mail-Args:' "$DUMP" 2>/dev/null)
n_flood=$(grep -c "^X-Mail-Args: <$FLOOD_FROM>" "$DUMP" 2>/dev/null)
n_rcpt=$(grep '^X-Rcpt-Args:.*lead@prospects\.example' "$DUMP" 2>/dev/null | sort -u | wc -l)
want_all=$((STEADY_MSGS + FLOOD_MSGS))
if [ "${n_all:-0}" -eq "$want_all" ] && [ "${n_flood:-0}" -eq "$FLOOD_MSGS" ] &&
	[ "$n_rcpt" -eq "$FLOOD_MSGS" ]; then
	pass "smtp-sink received $n_all messages ($n_flood of the flood, $n_rcpt distinct rcpts)"
else
	fail "smtp-sink received ${n_all:-0} messages (${n_flood:-0} of the flood, $n_rcpt" \
		"distinct rcpts), expected $want_all ($FLOOD_MSGS, $FLOOD_MSGS)"
	show_log "$WORK/sink.log"
fi

still_running "posternd:$POSTERND_PID" "postern-dataplane:$DP_PID" "posternctl alerts:$SUB_PID" \
	"smtp-sink:$SINK_PID"

finish
