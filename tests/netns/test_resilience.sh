#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Resilience under load: posternd stopped, crashed and restarted, and the dataplane
# restarted, while Postfix's smtp-source sends mail through the lib.sh topology to smtp-sink
# and postern-dataplane watches the server's veth through af_packet. Every transaction gives
# one "smtp" event (eve_smtp_events), counted in the EVE file, which every posternd instance
# appends to. Four phases, each with its own sender address so its mail is told apart:
#
#   1 graceful  posternd gets SIGTERM mid-load and is started again 2 s later: every message
#               smtp-sink received has exactly one smtp event (the dataplane kept what
#               posternd had not acknowledged and sent it again), and the dataplane reports
#               the outage in a "spool" event with nothing dropped.
#   2 crash     the same with SIGKILL: every message has at least one event (a crash may
#               repeat what posternd wrote but had not acknowledged; counted and shown).
#   3 restart   the dataplane gets SIGTERM mid-load and a new one starts (with a 1 MiB spool
#               for phase 4): posternd keeps running, takes the new dataplane's hello, and
#               every message sent once the new one is ready has its event.
#   4 bound     posternd is stopped and 3,000 messages are sent: more than the 1 MiB spool
#               holds. Once posternd is back, the "spool" event says how many records were
#               delivered late and how many dropped; the events in the file plus the drops
#               are exactly the messages sent, and the dataplane's counters agree.
# The dataplane process of phases 1-2 and posternd's of phase 3 must not change. Every line
# of the EVE file must fit schema/eve.schema.json. Takes about 2 minutes; sends nothing
# outside the namespaces it creates.
#
# Usage: tests/netns/test_resilience.sh [--build DIR] [--keep]
# Prints PASS:/FAIL: lines and "N passed, N failed"; exits 0, 1 (a failure) or 77 (skipped).

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
PY=/usr/bin/python3
PATH=$PATH:/usr/sbin:/usr/local/sbin

# shellcheck source=SCRIPTDIR/lib.sh
source "$HERE/lib.sh"

netns_options "$@"

FINISH_T0=$SECONDS
netns_require smtp-source smtp-sink
[ -x "$PY" ] || netns_skip "$PY not found"
id -u postfix >/dev/null 2>&1 || netns_skip "no postfix user (smtp-sink drops privileges to it)"

LOAD_BATCHES=30     # phases 1-3: batches of LOAD_BATCH messages, LOAD_PAUSE s apart
LOAD_BATCH=20
LOAD_PAUSE=0.2
BOUND_MSGS=3000     # phase 4
SIN=$SERVER_IP:25

netns_mktemp WORK || fatal "mktemp -d"
netns_setup || fatal "network namespace topology"

chmod 711 "$WORK"
mkdir -p "$WORK/sink"
chown postfix "$WORK/sink" || fatal "chown postfix $WORK/sink"
DUMP=$WORK/sink/dump
netns_spawn "$SERVER_NS" smtp-sink -u postfix -D "$DUMP" "$SIN" 64 >"$WORK/sink.log" 2>&1
netns_wait 10 netns_listening "$SERVER_NS" 25 || fatal "smtp-sink did not start"

postern_binaries "$BUILD"
CONF=$WORK/postern.conf
postern_write_conf "$CONF" "$WORK" "$ROOT/rules/demo.rules" || fatal "cannot write $CONF"
echo "eve_smtp_events = yes" >>"$CONF"
SMALL=$WORK/small-spool.conf
{ cat "$CONF"; echo "event_spool = 1048576"; } >"$SMALL"
EVE=$WORK/eve.json

postern_start_posternd "$CONF" "$WORK/posternd.1.log"
postern_start_dataplane "$SERVER_NS" "$CONF" "$WORK/dataplane.1.err" --iface "$SERVER_IF" \
	-- -l 0-1 || fatal "postern-dataplane not ready"
DP1=$DP_PID

# ------------------------------------------------------------------- helpers

# Messages smtp-sink received from sender $1 (one X-Mail-Args line per transaction).
sink_count() {
	grep -c "^X-Mail-Args: <$1>" "$DUMP" 2>/dev/null
}

# Distinct transactions (flow_id, tx_id) of sender $1 among the EVE file's smtp events, and
# how many events there are in all: "DISTINCT TOTAL".
eve_count() {
	"$PY" - "$EVE" "$1" <<'EOF'
import json, sys
seen, total = set(), 0
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event_type") == "smtp" and (e.get("smtp") or {}).get("mail_from") == sys.argv[2]:
        seen.add((e.get("flow_id"), e.get("tx_id")))
        total += 1
print(len(seen), total)
EOF
}

# load SENDER BATCHES [-d]: mail in batches in the background; its PID in LOAD_PID.
load() {
	local from=$1 n=$2 keep=${3:-}
	(
		for _ in $(seq "$n"); do
			ip netns exec "$CLIENT_NS" smtp-source $keep -s 2 -m "$LOAD_BATCH" \
				-M ws7.corp.example -f "$from" -t ops@corp.example -S load "$SIN" ||
				exit 1
			sleep "$LOAD_PAUSE"
		done
	) >"$WORK/load.log" 2>&1 &
	LOAD_PID=$!
	netns_track "$LOAD_PID"
}

# wait_events SENDER WANT SECONDS: until the EVE file has WANT distinct transactions of it.
wait_events() {
	local deadline=$((SECONDS + $3)) got
	while :; do
		got=$(eve_count "$1")
		[ "${got% *}" -ge "$2" ] && return 0
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.5
	done
}

# posternd_restart SIGNAL N: stop posternd with SIGNAL, wait 2 s, start it again (log N).
posternd_restart() {
	kill "-$1" "$POSTERND_PID"
	wait "$POSTERND_PID" 2>/dev/null
	sleep 2
	postern_start_posternd "$CONF" "$WORK/posternd.$2.log"
}

# spool_events: the "spool" events of the EVE file, one JSON object a line.
spool_events() {
	grep '"event_type":"spool"' "$EVE"
}

# check_phase TAG SENDER EXACT: the messages smtp-sink got from SENDER all have an smtp event
# (EXACT=1: exactly one each).
check_phase() {
	local tag=$1 from=$2 exact=$3 sent got distinct total
	wait "$LOAD_PID" || fail "$tag: smtp-source failed (see load.log)"
	sent=$(sink_count "$from")
	wait_events "$from" "$sent" 30
	got=$(eve_count "$from")
	distinct=${got% *} total=${got#* }
	if [ "$sent" -gt 0 ] && [ "$distinct" -eq "$sent" ]; then
		pass "$tag: all $sent messages smtp-sink received have their smtp event"
	else
		fail "$tag: smtp-sink received $sent messages, the EVE file has $distinct of them"
	fi
	if [ "$exact" = 1 ]; then
		check "$tag: no event written twice ($total events)" [ "$total" -eq "$distinct" ]
	else
		note "$tag: $((total - distinct)) event(s) written twice (at-least-once after a crash)"
	fi
}

check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

# ------------------------------------------------------------------- phase 1: SIGTERM

load p1@load.example "$LOAD_BATCHES" -d
sleep 2
posternd_restart TERM 2
check_phase "graceful restart" p1@load.example 1
n_spool=$(spool_events | wc -l)
check "graceful restart: one spool event" [ "$n_spool" -eq 1 ]
spool_events | tail -n 1 >"$WORK/spool.1.json"

# ------------------------------------------------------------------- phase 2: SIGKILL

load p2@load.example "$LOAD_BATCHES" -d
sleep 2
posternd_restart KILL 3
check_phase "crash" p2@load.example 0
check "crash: a second spool event" [ "$(spool_events | wc -l)" -eq 2 ]
spool_events | tail -n 1 >"$WORK/spool.2.json"
for i in 1 2; do
	if "$PY" -c '
import json, sys
s = json.load(open(sys.argv[1]))["spool"]
print("    spool event:", json.dumps(s, sort_keys=True))
sys.exit(0 if s["records_dropped"] == 0 and s["records_delivered_late"] > 0 else 1)' \
		"$WORK/spool.$i.json"; then
		pass "outage $i: records delivered late, none dropped"
	else
		fail "outage $i: the spool event does not say late delivery without drops"
	fi
done
still_running "postern-dataplane through both outages:$DP1"

# ------------------------------------------------------------------- phase 3: dataplane restart

PD3=$POSTERND_PID
load p3@load.example 10
sleep 1
netns_stop_pid "$DP1"
postern_start_dataplane "$SERVER_NS" "$SMALL" "$WORK/dataplane.2.err" --iface "$SERVER_IF" \
	-- -l 0-1 || fatal "the second postern-dataplane is not ready"
wait "$LOAD_PID"
load p3b@load.example 10
check_phase "dataplane restart" p3b@load.example 1
still_running "posternd through the dataplane's restart:$PD3"
n_hello=$(grep -c 'connected with' "$WORK/posternd.3.log")
check "posternd took the new dataplane's hello ($n_hello hellos)" [ "$n_hello" -eq 2 ]

# ------------------------------------------------------------------- phase 4: the bound

kill -TERM "$POSTERND_PID"
wait "$POSTERND_PID" 2>/dev/null
ip netns exec "$CLIENT_NS" smtp-source -d -s 4 -m "$BOUND_MSGS" -M ws7.corp.example \
	-f p4@load.example -t ops@corp.example -S bound "$SIN" >"$WORK/bound.log" 2>&1 ||
	fail "bound: smtp-source failed"
sent=$(sink_count p4@load.example)
check "bound: smtp-sink received all $BOUND_MSGS messages ($sent)" [ "$sent" -eq "$BOUND_MSGS" ]
sleep 3 # the dataplane sees the sessions end
postern_start_posternd "$CONF" "$WORK/posternd.4.log"
netns_wait 30 sh -c "[ \$(grep -c '\"event_type\":\"spool\"' '$EVE') -ge 3 ]" ||
	fail "bound: no spool event after posternd came back"
sleep 2
"$POSTERNCTL" -c "$CONF" stats --json >"$WORK/stats.json" 2>"$WORK/stats.err" ||
	fail "bound: posternctl stats"
got=$(eve_count p4@load.example)
check_out=$("$PY" - "$EVE" "${got% *}" "$BOUND_MSGS" "$WORK/stats.json" <<'EOF'
import json, sys
eve, in_file, sent, stats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
n_fail = 0
def report(ok, text):
    global n_fail
    print(("PASS: " if ok else "FAIL: ") + text)
    n_fail += 0 if ok else 1
spools = [json.loads(l)["spool"] for l in open(eve) if '"event_type":"spool"' in l]
s = spools[-1]
print("    spool event:", json.dumps(s, sort_keys=True))
report(s["records_dropped"] > 0, "bound: the spool dropped records (%d)" % s["records_dropped"])
report(in_file + s["records_dropped"] == sent,
       "bound: %d events in the file + %d dropped = %d messages sent"
       % (in_file, s["records_dropped"], sent))
report(s["records_delivered_late"] == in_file,
       "bound: records delivered late (%d) = events in the file" % s["records_delivered_late"])
dp = json.load(open(stats)).get("dataplane", {})
report(dp.get("spool_dropped") == s["records_dropped"] and
       dp.get("events_dropped") == s["records_dropped"],
       "bound: the dataplane's counters agree (spool_dropped %s, events_dropped %s)"
       % (dp.get("spool_dropped"), dp.get("events_dropped")))
sys.exit(1 if n_fail else 0)
EOF
)
tally_checker $? "$check_out" "$WORK/posternd.4.log" "$WORK/dataplane.2.err"

if "$PY" "$ROOT/tests/tools/validate_eve.py" --schema "$ROOT/schema/eve.schema.json" \
	--min-lines 1 "$EVE" >"$WORK/validate.log" 2>&1; then
	pass "every line of the EVE file fits schema/eve.schema.json"
else
	fail "the EVE file does not fit the schema"
	show_log "$WORK/validate.log"
fi
still_running "posternd:$POSTERND_PID" "postern-dataplane:$DP_PID"
finish
