#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Inline mode, end to end with real peers: client ns (10.98.0.1 on veth-c) <-> bridge ns
# (veth-a towards the client, veth-b towards the server, no IP, IPv6 off, no kernel bridge)
# <-> server ns (10.98.0.2 on veth-s, a real Postfix from postfix_lib.sh). postern-dataplane
# runs in the bridge ns with mode = inline on af_packet ports veth-a and veth-b: it is the
# only path between the two hosts. posternd and a `posternctl alerts` subscriber run beside
# it. Checks: (1) nothing crosses without the dataplane; with it, ARP and the TCP handshake
# do (a plain swaks is delivered); (2) a clean ~8 KB message arrives in the Maildir with its
# body byte for byte; (3) a commercial newsletter to an opted-out recipient (block_suppressed)
# and (4) a "FREE MONEY" message (a drop rule) get block_reply as the answer to the end of
# DATA and never reach a mailbox or the queue; (5) smtp-source delivers 50 messages through
# the dataplane; (5b) a sender configured commercial (rcpt_reject_suppressed) mailing an
# opted-out and a clean recipient: the first is refused at RCPT with a 5xx, the second gets
# the message; (6) exactly the blocking alerts say "blocked" and every alert line fits
# the EVE schema; (7) the dataplane's inline counters agree; (8) no process died; (9) with
# posternd stopped, mail still flows and a drop rule still blocks, and the records arrive
# late once posternd is back (a spool event, nothing dropped). This is the
# live counterpart of tests/pcap/run_inline.sh. It prints timings as "measure:" lines, sends
# nothing outside the three namespaces it creates, and stops only the processes it started,
# by PID.
#
# Usage: tests/netns/test_inline_postfix.sh [--build DIR] [--keep] [--set KEY=VALUE]...
#   --build DIR      Postern build directory (default: $BUILD, else build/ in the repo root)
#   --keep           keep the temporary directory (logs, alerts.jsonl, swaks transcripts, Postfix)
#   --set KEY=VALUE  add a postern.conf line (diagnosis, e.g. --set flow_idle_timeout=5)
# Prints PASS:/FAIL: lines and "N passed, N failed"; exits 0 (all passed), 1 (a failure) or
# 77 (skipped: not root, no `ip netns`, or a missing tool).

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
PY=/usr/bin/python3
PATH=$PATH:/usr/sbin
EXTRA_CONF=()

# shellcheck source=SCRIPTDIR/lib.sh
source "$HERE/lib.sh"
# shellcheck source=SCRIPTDIR/postfix_lib.sh
source "$HERE/postfix_lib.sh"

while [ $# -gt 0 ]; do
	case $1 in
	--set) EXTRA_CONF+=("${2:?--set needs KEY=VALUE}"); shift 2 ;;
	*) netns_option "$@"; shift "$NETNS_OPT_SHIFT" ;;
	esac
done
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "no build directory $BUILD" >&2; exit 2; }

REPLY="554 5.7.1 Refused by Postern: recipient opted out or message blocked"
LOAD_MSGS=50
LOAD_SESSIONS=5
DP_READY_SECONDS=30

now_ms() { echo $(($(date +%s%N) / 1000000)); }
T_START=$(now_ms)

netns_require swaks smtp-source setpriv
[ -x "$PY" ] || netns_skip "$PY not found"
id postfix >/dev/null 2>&1 || netns_skip "no postfix user"
[ -x "${POSTFIX_DAEMON_DIR:-}/master" ] || netns_skip "Postfix master not installed"

postern_binaries "$BUILD"
SUPPRESS_CSV=$ROOT/tests/pcap/demo/suppress.csv
PACKS=("$ROOT/rules/demo.rules" "$ROOT/tests/pcap/inline/drop.rules")
for f in "$SUPPRESS_CSV" "${PACKS[@]}" "$ROOT/rules/classification.config" \
	"$ROOT/schema/eve.schema.json" "$ROOT/tests/tools/validate_eve.py"; do
	[ -r "$f" ] || fatal "$f missing"
done

netns_mktemp WORK || fatal "mktemp -d"
# shellcheck disable=SC2119 # no --bridge: the dataplane is the only path
netns_setup_inline || fatal "three-namespace topology"
pass "topology up: $CLIENT_NS/$CLIENT_IF <-> $BRIDGE_NS($PORT_A,$PORT_B) <-> $SERVER_NS/$SERVER_IF"

# Nothing links the two ends but the dataplane: before it runs, the server is unreachable.
if ip netns exec "$CLIENT_NS" ping -c 1 -W 1 "$SERVER_IP" >/dev/null 2>&1; then
	fatal "the server answers a ping before the dataplane runs (something else forwards)"
fi
pass "no path between client and server without the dataplane"
ip -n "$CLIENT_NS" neigh flush dev "$CLIENT_IF" 2>/dev/null

# ------------------------------------------------------------------- Postfix

PFX=$WORK/postfix
mkdir -p "$PFX"
t0=$(now_ms)
postfix_start "$SERVER_NS" "$SERVER_IP" "$PFX" || fatal "Postfix did not start in $SERVER_NS"
PFX_PID=$(postfix_pid "$PFX")
pass "Postfix listening on $SERVER_IP:25 (master pid $PFX_PID)"
measure "Postfix start: $(($(now_ms) - t0)) ms"

# ------------------------------------------------------------------- Postern

CONF=$WORK/postern.conf
postern_write_conf "$CONF" "$WORK" "${PACKS[@]}" || fatal "cannot write $CONF"
mkdir -p "$WORK/rule-cache"
cat >>"$CONF" <<EOF
rule_cache_dir = $WORK/rule-cache
eve_smtp_events = yes
mode = inline
workers = 1
block_suppressed = yes
block_reply = $REPLY
rcpt_reject_suppressed = yes
commercial_senders = promo.example
EOF
for kv in "${EXTRA_CONF[@]}"; do
	printf '%s = %s\n' "${kv%%=*}" "${kv#*=}" >>"$CONF"
done

postern_import_suppress "$CONF" "$SUPPRESS_CSV" "$WORK/import.log"

t0=$(now_ms)
postern_start_posternd "$CONF" "$WORK/posternd.log"
postern_start_subscriber "$CONF" "$WORK/alerts.jsonl" "$WORK/alerts.err"
postern_start_dataplane "$BRIDGE_NS" "$CONF" "$WORK/dataplane.err" --iface "$PORT_A" \
	--iface "$PORT_B" -- -l 0-1 || fatal "postern-dataplane not ready on $BRIDGE_NS/$PORT_A,$PORT_B"
pass "postern-dataplane inline on $PORT_A <-> $PORT_B (pid $DP_PID)"
measure "posternd + dataplane start: $(($(now_ms) - t0)) ms"

# stats_json: the counters posternd reports, as JSON, in $WORK/stats.json.
stats_json() {
	"$POSTERNCTL" -c "$CONF" stats --json >"$WORK/stats.json" 2>"$WORK/stats.err"
}

# counter NAME: a counter from $WORK/stats.json (the dataplane section first), or empty.
counter() {
	"$PY" -c '
import json, sys
j = json.load(open(sys.argv[1]))
def find(o):
    if isinstance(o, dict):
        if sys.argv[2] in o and not isinstance(o[sys.argv[2]], (dict, list)):
            return o[sys.argv[2]]
        for k in sorted(o, key=lambda k: k != "dataplane"):
            v = find(o[k])
            if v is not None:
                return v
    return None
v = find(j)
print("" if v is None else v)' "$WORK/stats.json" "$1"
}

# on_failure: the evidence for a failed delivery or block (counters, logs).
on_failure() {
	stats_json && echo "---- posternctl stats --json" && sed 's/^/    /' "$WORK/stats.json"
	show_log "$WORK/dataplane.err"
	postfix_show_log "$PFX" 2>&1
}

# swaks_send TAG TO [SWAKS ARGS...]: one message from the client ns; swaks' exit status, its
# transcript in $WORK/swaks-TAG.log and the time in SWAKS_MS.
swaks_send() {
	local tag=$1 to=$2 t rc
	shift 2
	t=$(now_ms)
	ip netns exec "$CLIENT_NS" swaks --server "$SERVER_IP" --port 25 --timeout 15 \
		--helo ws1.corp.example --to "$to" "$@" >"$WORK/swaks-$tag.log" 2>&1
	rc=$?
	SWAKS_MS=$(($(now_ms) - t))
	return $rc
}

# ------------------------------------------------------------------- 1. ARP and handshake

if swaks_send hello alice@corp.example --from ops@corp.example --header "Subject: hello" &&
	postfix_wait_delivered "$PFX" alice@corp.example 1 10; then
	pass "(1) a plain swaks crosses the dataplane and is delivered (${SWAKS_MS} ms)"
	measure "swaks round trip through the inline dataplane: ${SWAKS_MS} ms"
else
	show_log "$WORK/swaks-hello.log"
	on_failure
	fatal "(1) a plain swaks through the inline dataplane"
fi
# The client learnt the server's own MAC: the ARP request and reply crossed the dataplane.
srv_mac=$(ip -n "$SERVER_NS" -o link show dev "$SERVER_IF" | grep -o 'link/ether [0-9a-f:]*' |
	cut -d' ' -f2)
cli_mac=$(ip -n "$CLIENT_NS" neigh show "$SERVER_IP" dev "$CLIENT_IF" | grep -o 'lladdr [0-9a-f:]*' |
	cut -d' ' -f2)
if [ -n "$srv_mac" ] && [ "$cli_mac" = "$srv_mac" ]; then
	pass "(1) ARP crossed the dataplane: the client resolved $SERVER_IP to $srv_mac"
else
	fail "(1) the client's neighbour entry for $SERVER_IP is '$cli_mac', the server's MAC $srv_mac"
fi
if grep -q '^<-  221 ' "$WORK/swaks-hello.log"; then
	pass "(1) the session ran to QUIT (221)"
else
	fail "(1) no 221 answer to QUIT in the transcript"
fi

# ------------------------------------------------------------------- 2. clean message

BODY=$WORK/clean-body.txt
{
	printf 'Quarterly inventory report, generated for the inline end-to-end test.\n\n'
	for i in $(seq 1 110); do
		printf 'line %03d  item %05d  warehouse %-6s  qty %6d  unit %7.2f  ok\n' "$i" \
			$((i * 7919 % 100000)) "W$((i % 13))" $((i * 37)) "$((i * 13)).$((i % 100))"
	done
	printf '\nEnd of report.\n'
} >"$BODY"
body_bytes=$(wc -c <"$BODY")
if swaks_send clean alice@customer.example --from reports@corp.example \
	--header "Subject: Quarterly inventory report" --body "$(cat "$BODY")" &&
	postfix_wait_delivered "$PFX" alice@customer.example 1 10; then
	pass "(2) the clean message ($body_bytes body bytes) was accepted (${SWAKS_MS} ms)"
	measure "swaks, $body_bytes-byte body, through the inline dataplane: ${SWAKS_MS} ms"
	msg=$(postfix_mailbox_files "$PFX" alice@customer.example | tail -n 1)
	# The body is everything after the first empty line (Postfix prepends Return-Path and
	# Received, swaks writes its own headers, neither touches the body). What went on the
	# wire is our body and the empty line swaks always puts before the final dot ($(...)
	# took the file's last newline, swaks puts one back), CRLF where Maildir has LF.
	sed '1,/^$/d' "$msg" >"$WORK/clean-got.txt"
	{ cat "$BODY"; echo; } >"$WORK/clean-sent.txt"
	if cmp -s "$WORK/clean-sent.txt" "$WORK/clean-got.txt"; then
		pass "(2) the Maildir copy holds the exact $body_bytes body bytes"
	else
		fail "(2) the delivered body differs from the one sent"
		cmp "$WORK/clean-sent.txt" "$WORK/clean-got.txt" | sed 's/^/    /'
		diff "$WORK/clean-sent.txt" "$WORK/clean-got.txt" | head -n 10 | sed 's/^/    /'
	fi
else
	show_log "$WORK/swaks-clean.log"
	on_failure
	fail "(2) the clean message was not delivered"
fi

# ------------------------------------------------------------------- 3. and 4. blocked

# refused TAG: the transcript shows block_reply as the answer to the end of DATA (the first
# reply after swaks sent the lone dot), and no 250 for the message.
refused() {
	awk -v want="$REPLY" '
		/^ -> \.$/ { dot = 1; next }
		dot && /^(<-|<\*\*) / { sub(/^(<-|<\*\*) +/, ""); print ($0 == want) ? "yes" : "no: " $0; exit }
	' "$WORK/swaks-$1.log"
}

# check_blocked TAG RC: swaks (exit status RC) failed with block_reply after DATA.
check_blocked() {
	local tag=$1 rc=$2 r n=3
	[ "$tag" = freemoney ] && n=4
	r=$(refused "$tag")
	if [ "$rc" -ne 0 ] && [ "$r" = yes ]; then
		pass "($n) $tag: swaks got '$REPLY' after DATA (exit $rc, ${SWAKS_MS} ms)"
	else
		fail "($n) $tag: swaks exit $rc, reply after the final dot: '${r:-none}'"
		show_log "$WORK/swaks-$tag.log"
		on_failure
	fi
}

before_bob=$(postfix_mailbox_count "$PFX" bob@corp.example)
swaks_send newsletter optedout@customer.example --from deals@corp.example \
	--header "Subject: June deals for our customers" \
	--header "List-Unsubscribe: <https://corp.example/u/1>" \
	--body $'Hello,\n\nOur June deals are here: 20% off every annual plan.\n\nCorp Example Inc., 123 Main Street, Springfield, IL 62701, USA\n'
check_blocked newsletter $?
T_BLOCK=$SECONDS
swaks_send freemoney bob@corp.example --from barrister@corp.example \
	--header "Subject: FREE MONEY waiting for you" \
	--body $'Dear friend,\n\nA large sum is waiting for you. Reply today with your bank details.\n'
check_blocked freemoney $?

# Postfix never got the end of either message: give it time to deliver anything it might
# have, then nothing may be there.
sleep 3
n_opt=$(postfix_mailbox_count "$PFX" optedout@customer.example)
n_bob=$(($(postfix_mailbox_count "$PFX" bob@corp.example) - before_bob))
if [ "$n_opt" -eq 0 ]; then
	pass "(3) optedout@customer.example's mailbox is empty"
else
	fail "(3) optedout@customer.example received $n_opt message(s)"
fi
if [ "$n_bob" -eq 0 ] && ! grep -rqs 'FREE MONEY' "$(postfix_maildir "$PFX" bob@corp.example)"; then
	pass "(4) the FREE MONEY message is not in bob@corp.example's mailbox"
else
	fail "(4) bob@corp.example received $n_bob message(s) after the FREE MONEY attempt"
fi
if postfix_queue_empty "$PFX"; then
	pass "(3, 4) the Postfix queue holds nothing"
else
	fail "(3, 4) the Postfix queue holds messages:"
	find "$PFX/queue/incoming" "$PFX/queue/active" "$PFX/queue/deferred" "$PFX/queue/hold" \
		-type f | sed 's/^/    /'
fi
# Postfix saw the session end without a final dot (the reset in the client's name).
if grep -q 'lost connection after DATA\|reset.*after DATA\|after DATA' "$PFX/maillog"; then
	pass "(3, 4) Postfix logged the sessions ending inside DATA"
else
	fail "(3, 4) Postfix's log shows no session ending inside DATA"
	postfix_show_log "$PFX" 2>&1
fi

# ------------------------------------------------------------------- 5. smtp-source

t0=$(now_ms)
ip netns exec "$CLIENT_NS" smtp-source -m "$LOAD_MSGS" -s "$LOAD_SESSIONS" \
	-f load@corp.example -t bob@customer.example "$SERVER_IP:25" >"$WORK/smtp-source.log" 2>&1
src_rc=$?
src_ms=$(($(now_ms) - t0))
if [ $src_rc -eq 0 ] && postfix_wait_delivered "$PFX" bob@customer.example "$LOAD_MSGS" 20; then
	pass "(5) smtp-source -m $LOAD_MSGS -s $LOAD_SESSIONS: all delivered through the dataplane"
	measure "smtp-source -m $LOAD_MSGS -s $LOAD_SESSIONS: ${src_ms} ms (sent), $(($(now_ms) - t0)) ms (all in the Maildir)"
else
	show_log "$WORK/smtp-source.log"
	on_failure
	fail "(5) smtp-source rc $src_rc, $(postfix_mailbox_count "$PFX" bob@customer.example) of $LOAD_MSGS delivered"
fi

# ------------------------------------------------------------------- 5b. refused at RCPT

# A sender configured commercial (commercial_senders) mails an opted-out recipient and a
# clean one in one transaction: the opted-out one is refused at RCPT time (the dataplane
# makes the server refuse the command), the clean one gets the message.
alice_before=$(postfix_mailbox_count "$PFX" alice@customer.example)
ip netns exec "$CLIENT_NS" "$PY" - "$SERVER_IP" >"$WORK/rcpt.log" 2>&1 <<'PYEOF'
import smtplib, sys
msg = ("From: News <news@promo.example>\r\nTo: <alice@customer.example>\r\n"
       "Subject: Spring catalogue\r\nMessage-ID: <spring@promo.example>\r\n"
       "Date: Tue, 01 Oct 2024 09:00:00 +0000\r\n\r\nOur spring catalogue is out.\r\n")
with smtplib.SMTP(sys.argv[1], 25, local_hostname="ws21.corp.example", timeout=10) as s:
    refused = s.sendmail("news@promo.example",
                         ["optedout@customer.example", "alice@customer.example"], msg)
print("refused:", {k: v[0] for k, v in refused.items()})
ok = list(refused) == ["optedout@customer.example"] and 500 <= refused[list(refused)[0]][0] < 600
sys.exit(0 if ok else 1)
PYEOF
rc=$?
cat "$WORK/rcpt.log"
if [ $rc -eq 0 ]; then
	pass "(5b) the opted-out recipient was refused at RCPT with a 5xx, the other accepted"
else
	fail "(5b) RCPT-time refusal: $(tail -1 "$WORK/rcpt.log")"
fi
if postfix_wait_delivered "$PFX" alice@customer.example $((alice_before + 1)) 10 &&
	[ "$(postfix_mailbox_count "$PFX" optedout@customer.example)" = 0 ]; then
	pass "(5b) alice got the message, optedout did not"
else
	fail "(5b) alice has $(postfix_mailbox_count "$PFX" alice@customer.example) (before" \
		"$alice_before), optedout $(postfix_mailbox_count "$PFX" optedout@customer.example)"
fi

# ------------------------------------------------------------------- 6. alerts

# The alerts of a blocked message are news when it is blocked, not minutes later: both must
# be in alerts.jsonl within ALERT_WAIT seconds of the first block (the smtp-source run in
# between took part of that time).
ALERT_WAIT=15
has_sid() { grep -Eq "\"signature_id\" *: *$1([^0-9]|$)" "$WORK/alerts.jsonl"; }
both_sids() { has_sid 2100002 && has_sid 9100001; }
netns_wait $((T_BLOCK + ALERT_WAIT - SECONDS)) both_sids
if both_sids; then
	pass "(6) both blocking alerts arrived within ${ALERT_WAIT} s of the first block"
else
	fail "(6) the blocking alerts (2100002, 9100001) are not in alerts.jsonl $((SECONDS - T_BLOCK)) s after the first block"
	stats_json && echo "    dataplane: flows_active=$(counter flows_active)" \
		"smtp_transactions=$(counter smtp_transactions) events_sent=$(counter events_sent)" \
		"inline_blocked=$(counter inline_blocked); alerts.jsonl: $(grep -c . "$WORK/alerts.jsonl") lines"
fi

# ------------------------------------------------------------------- 7. counters

if stats_json; then
	c_blocked=$(counter inline_blocked)
	c_fwd=$(counter inline_forwarded)
	c_txdrop=$(counter tx_dropped)
	c_open=$(counter inline_fail_open)
	note "inline_blocked=$c_blocked inline_forwarded=$c_fwd tx_dropped=$c_txdrop" \
		"inline_fail_open=$c_open inline_block_late=$(counter inline_block_late)" \
		"inline_injected=$(counter inline_injected) inline_fail_closed=$(counter inline_fail_closed)"
	[ "$c_blocked" = 2 ] && pass "(7) inline_blocked = 2" ||
		fail "(7) inline_blocked = '$c_blocked', expected 2"
	[ -n "$c_fwd" ] && [ "$c_fwd" -gt 0 ] 2>/dev/null && pass "(7) inline_forwarded = $c_fwd" ||
		fail "(7) inline_forwarded = '$c_fwd', expected > 0"
	[ "$c_txdrop" = 0 ] && pass "(7) tx_dropped = 0" ||
		fail "(7) tx_dropped = '$c_txdrop', expected 0"
	[ "$c_open" = 0 ] && pass "(7) inline_fail_open = 0" ||
		fail "(7) inline_fail_open = '$c_open', expected 0"
else
	show_log "$WORK/stats.err"
	fail "(7) posternctl stats --json failed"
fi

# ------------------------------------------------------------------- 8. processes

still_running -p "(8) " "posternd:$POSTERND_PID" "postern-dataplane:$DP_PID" \
	"posternctl alerts:$SUB_PID" "Postfix master:$PFX_PID"

# ------------------------------------------------------------------- 9. posternd away

# posternd stopped: the dataplane goes on forwarding and inspecting with the rules it has,
# and keeps the records. Mail is delivered, a drop rule's message is still blocked; once
# posternd is back, the spool event says the records were delivered late, none dropped.
LATE_MSGS=20
kill -TERM "$POSTERND_PID"
wait "$POSTERND_PID" 2>/dev/null
late_before=$(postfix_mailbox_count "$PFX" bob@customer.example)
ip netns exec "$CLIENT_NS" smtp-source -m "$LATE_MSGS" -s 2 -f load@corp.example \
	-t bob@customer.example "$SERVER_IP:25" >"$WORK/smtp-source-late.log" 2>&1
if postfix_wait_delivered "$PFX" bob@customer.example $((late_before + LATE_MSGS)) 20; then
	pass "(9) posternd stopped: $LATE_MSGS messages still delivered through the dataplane"
else
	fail "(9) posternd stopped: $(($(postfix_mailbox_count "$PFX" bob@customer.example) -" \
		"late_before)) of $LATE_MSGS delivered"
	show_log "$WORK/smtp-source-late.log"
fi
swaks_send freemoney2 bob@corp.example --from barrister@corp.example \
	--header "Subject: FREE MONEY again" --body $'Still waiting for your bank details.\n'
rc=$?
if [ "$rc" -ne 0 ] && [ "$(refused freemoney2)" = yes ]; then
	pass "(9) posternd stopped: the drop rule's message is still blocked"
else
	fail "(9) posternd stopped: swaks exit $rc, reply '$(refused freemoney2)'"
fi
postern_start_posternd "$CONF" "$WORK/posternd.2.log"
spool_seen() { grep -q '"event_type":"spool"' "$WORK/eve.json"; }
if netns_wait 15 spool_seen; then
	out=$("$PY" -c '
import json, sys
s = [json.loads(l)["spool"] for l in open(sys.argv[1]) if "\"event_type\":\"spool\"" in l][-1]
print(json.dumps(s, sort_keys=True))
sys.exit(0 if s["records_dropped"] == 0 and s["records_delivered_late"] >= int(sys.argv[2]) else 1)
' "$WORK/eve.json" $((LATE_MSGS + 1))) &&
		pass "(9) posternd back: the spool event says the records came late, none dropped" ||
		fail "(9) posternd back: spool event $out"
	echo "    $out"
else
	fail "(9) posternd back: no spool event in the EVE file"
fi
# the dataplane reports its counters once a second: wait for the new posternd to have them
has_dp_stats() { stats_json && [ -n "$(counter inline_blocked)" ]; }
netns_wait 5 has_dp_stats
if [ "$(counter inline_blocked)" = 3 ] && [ "$(counter events_dropped)" = 0 ]; then
	pass "(9) the dataplane's counters came through: inline_blocked = 3, events_dropped = 0"
else
	fail "(9) inline_blocked = '$(counter inline_blocked)' (3 expected), events_dropped =" \
		"'$(counter events_dropped)'"
fi

# ------------------------------------------------------------------- 6b. alert contents

# Stop the dataplane (SIGTERM: it flushes its flows and sends every record it holds) so that
# the blocked transactions' alerts are there to be read even when they were not sent at the
# block (the check above), then judge what they say.
t0=$(now_ms)
netns_stop_pid "$DP_PID"
netns_wait 10 both_sids
measure "dataplane stop and last records: $(($(now_ms) - t0)) ms"
sleep 0.5
alert_out=$("$PY" - "$WORK/alerts.jsonl" <<'EOF'
import json, sys

fails = 0
def report(ok, text):
    global fails
    print(("PASS: " if ok else "FAIL: ") + text)
    fails += 0 if ok else 1

lines = [l for l in open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines()
         if l.strip()]
events = []
for l in lines:
    try:
        events.append(json.loads(l))
    except ValueError:
        print("    not JSON: %.200s" % l)
        events.append({})
alerts = [e for e in events if e.get("event_type") == "alert"]
sid = lambda e: (e.get("alert") or {}).get("signature_id")
action = lambda e: (e.get("alert") or {}).get("action")
rcpts = lambda e: [str(r).strip("<>").lower() for r in (e.get("smtp") or {}).get("rcpt_to") or []]

refused_at = lambda e: (e.get("suppression") or {}).get("refused_at_rcpt") is True
refused = [e for e in alerts if sid(e) == 2100002 and refused_at(e)]
report(len(refused) == 1 and action(refused[0]) == "blocked"
       and "optedout@customer.example" in json.dumps(refused[0]).lower(),
       "(6) the recipient refused at RCPT has its alert, blocked, refused_at_rcpt (%d)"
       % len(refused))
sup = [e for e in alerts if sid(e) == 2100002 and not refused_at(e)]
report(len(sup) == 1 and action(sup[0]) == "blocked"
       and "optedout@customer.example" in json.dumps(sup[0]).lower(),
       "(6) suppression alert 2100002 for optedout@customer.example says blocked (%s)"
       % [action(e) for e in sup])
drop = [e for e in alerts if sid(e) == 9100001]
report(len(drop) == 1 and action(drop[0]) == "blocked",
       "(6) drop rule alert 9100001 says blocked (%s)" % [action(e) for e in drop])
# the other alerts of the blocked messages (the subject rule, CAN-SPAM) did not block them
other = [e for e in alerts if e not in sup + drop + refused and action(e) == "blocked"]
report(not other, "(6) no other alert says blocked (%d events, %d alerts: %s)"
       % (len(events), len(alerts), sorted(set(sid(e) for e in alerts), key=str)))
# and the transactions: exactly the two blocked ones have email.status "blocked"
status = lambda e: (e.get("email") or {}).get("status")
smtp_blocked = [e for e in events if e.get("event_type") == "smtp" and status(e) == "blocked"]
report(sorted(r for e in smtp_blocked for r in rcpts(e)) ==
       ["bob@corp.example", "optedout@customer.example"],
       "(6) exactly the two blocked transactions have email.status blocked (%s)"
       % [rcpts(e) for e in smtp_blocked])
for e in other:
    print("    also blocked: %.300s" % json.dumps(e))
sys.exit(1 if fails else 0)
EOF
)
tally "$alert_out"
grep -q '^PASS: \|^FAIL: ' <<<"$alert_out" || fail "(6) the alert checker printed nothing"
if "$PY" "$ROOT/tests/tools/validate_eve.py" --schema "$ROOT/schema/eve.schema.json" \
	"$WORK/alerts.jsonl" >"$WORK/validate.out" 2>&1 && [ -s "$WORK/alerts.jsonl" ]; then
	pass "(6) all $(grep -c . "$WORK/alerts.jsonl") lines of alerts.jsonl fit the EVE schema"
else
	fail "(6) alerts.jsonl breaks the EVE schema (or is empty)"
	show_log "$WORK/validate.out"
fi


measure "whole test: $(($(now_ms) - T_START)) ms"
# The EXIT trap (netns_cleanup) stops everything recorded, in reverse order, and removes the
# three namespaces and the work directory.
finish
