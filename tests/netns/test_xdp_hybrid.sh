#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Hybrid inline mode, end to end with real traffic and Postern's own dataplane: client ns
# (10.98.0.1 on veth-c) <-> bridge ns (veth-a and veth-b in a kernel bridge br0, no IP, IPv6
# off) <-> server ns (10.98.0.2 on veth-s). posternd, a `posternctl alerts` subscriber and
# `postern-dataplane --xdp veth-a --xdp veth-b` (mode = inline, the steering program meson
# builds) run as the operator would; the kernel bridges what the program does not steer.
# Postfix's smtp-sink (every accepted message dumped to a file, so deliveries can be counted)
# and iperf3 -s run in the server ns; swaks, smtp-source and iperf3 -c in the client ns.
# Checks: (a) with no program, SMTP and iperf3 cross the plain bridge; (b) with the dataplane,
# both ports carry the program, SMTP crosses the dataplane (rx_packets and inline_forwarded
# grow by at least the TCP segments the client ns counted) while iperf3 stays in the kernel,
# and a "FREE MONEY" message (drop rule sid 9100001) is refused with block_reply, never
# reaches smtp-sink, and is alerted as "blocked"; (c) the dataplane killed with SIGKILL in the
# middle of an smtp-source run: every message still delivered, later mail too (a FREE MONEY
# one included: nothing inspects, fail-open by design), the program still attached;
# (d) a restart removes the stale program by itself and blocks again; (e) SIGTERM: exit 0,
# the program gone from both ports, mail still flows. posternd and the subscriber outlive
# the dataplane throughout. Timings and throughput are printed as "measure:" lines, what is
# observed as "note:" lines.
# It sends nothing outside the three namespaces it creates, and stops only the processes it
# started, by PID.
#
# Usage: tests/netns/test_xdp_hybrid.sh [--build DIR] [--keep]
#   --build DIR  Postern build directory (default: $BUILD, else build/ in the repo root)
#   --keep       keep the temporary directory (logs, alerts, smtp-sink dumps)
# Prints PASS:/FAIL: lines and "N passed, N failed"; exits 0 (all passed), 1 (a failure) or
# 77 (skipped: not root, no `ip netns`, or a missing tool).

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
PY=/usr/bin/python3

# shellcheck source=SCRIPTDIR/lib.sh
source "$HERE/lib.sh"

netns_options "$@"

SMTP_SESSIONS=5
COUNT_MSGS=200 # the run whose packets are counted
TIME_MSGS=500  # the timed run
KILL_MSGS=50   # 5 sessions of 10 messages, one a second: the kill lands mid-session
DROP_SID=9100001
BLOCK_REPLY="550 5.7.1 Message refused by the site's mail policy" # block_reply's default
STALE_MSG="removed the steering program a previous run left attached"
# Packets the dataplane may count during the iperf3 run although it steers only TCP port
# 25/587/465: none of iperf3's, but a late ACK or FIN of an SMTP session closed just before
# the first snapshot may land in the window. ARP and the rest are not TCP and pass.
IPERF_SLACK=4
T_START=$SECONDS

SHOW_LOG_WIDTH=300
FINISH_HOOK=finish_measure
# shellcheck disable=SC2317 # called by finish
finish_measure() { measure "test run time: $((SECONDS - T_START)) s"; }

netns_require swaks smtp-source smtp-sink iperf3
id postfix >/dev/null 2>&1 || netns_skip "no postfix user (smtp-sink -u postfix)"
[ -x "$PY" ] || netns_skip "$PY not found"

postern_binaries "$BUILD" netns_skip
[ -r "$BUILD/dataplane/postern_steer.bpf.o" ] ||
	netns_skip "$BUILD/dataplane/postern_steer.bpf.o not built (no clang BPF target?)"
PACKS=("$ROOT/rules/demo.rules" "$ROOT/tests/pcap/inline/drop.rules")
for p in "${PACKS[@]}" "$ROOT/rules/classification.config"; do
	[ -r "$p" ] || netns_skip "$p missing"
done

netns_mktemp WORK || fatal "mktemp -d"
netns_setup_inline --bridge || fatal "three-namespace topology"
pass "topology up: $CLIENT_NS/$CLIENT_IF <-> $BRIDGE_NS/br0($PORT_A,$PORT_B) <->" \
	"$SERVER_NS/$SERVER_IF"

# ------------------------------------------------------------------- servers

# smtp-sink drops privileges to postfix, which must reach the dump directory.
chmod 755 "$WORK"
mkdir -p "$WORK/dump"
chown postfix "$WORK/dump"
netns_spawn "$SERVER_NS" smtp-sink -u postfix -d "$WORK/dump/%H%M%S." "$SERVER_IP:25" 100 \
	>"$WORK/smtp-sink.log" 2>&1
SINK_PID=$NETNS_LAST_PID
netns_spawn "$SERVER_NS" iperf3 -s -B "$SERVER_IP" -p 5201 >"$WORK/iperf3-s.log" 2>&1
IPERF_PID=$NETNS_LAST_PID
if netns_wait 10 netns_listening "$SERVER_NS" 25 &&
	netns_wait 10 netns_listening "$SERVER_NS" 5201; then
	pass "smtp-sink on $SERVER_IP:25 and iperf3 -s on $SERVER_IP:5201"
else
	show_log "$WORK/smtp-sink.log"
	show_log "$WORK/iperf3-s.log"
	fatal "servers did not start"
fi

delivered() { find "$WORK/dump" -type f | wc -l; }

# delivered_since BEFORE N: true once N messages arrived after the count was BEFORE (for
# netns_wait, which runs it again each time, unlike an argument expanded once).
delivered_since() { [ $(($(delivered) - $1)) -ge "$2" ]; }

# now_ms: wall clock in milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# swaks_send TAG [SUBJECT]: one message; swaks's exit status (0: the server accepted it).
# Leaves the time in SWAKS_MS and the transcript in $WORK/swaks-TAG.log.
swaks_send() {
	local t0 rc
	t0=$(now_ms)
	ip netns exec "$CLIENT_NS" swaks --server "$SERVER_IP" --port 25 --timeout 10 \
		--helo ws1.corp.example --from "sender@corp.example" --to "rcpt-$1@corp.example" \
		--header "Subject: ${2:-hybrid $1}" >"$WORK/swaks-$1.log" 2>&1
	rc=$?
	SWAKS_MS=$(($(now_ms) - t0))
	return $rc
}

# swaks_clean TAG WHAT: a clean message must be accepted and land in smtp-sink's dump.
swaks_clean() {
	local before
	before=$(delivered)
	if swaks_send "$1" && netns_wait 5 delivered_since "$before" 1; then
		pass "$2: clean mail delivered (${SWAKS_MS} ms)"
		return 0
	fi
	show_log "$WORK/swaks-$1.log"
	fail "$2: clean mail not delivered"
	return 1
}

# refused TAG: the transcript shows the 354 to DATA, then block_reply as the answer to the
# final dot (swaks writes " -> ." for it and "<** " for an error reply).
refused() {
	awk -v want="<** $BLOCK_REPLY" '
		/^<-  354/ { data = 1 }
		data && /^ -> \.\r?$/ { dot = 1; next }
		dot && /^<[-*]/ { sub(/\r$/, ""); ok = ($0 == want); exit }
		END { exit !ok }' "$WORK/swaks-$1.log"
}

# swaks_blocked TAG WHAT: a FREE MONEY message must be refused and never reach smtp-sink.
swaks_blocked() {
	local before rc
	before=$(delivered)
	swaks_send "$1" "FREE MONEY now"
	rc=$?
	# smtp-sink dumps a message when it answers the final dot: give a leak time to show.
	sleep 1
	if [ $rc -ne 0 ] && refused "$1" && [ "$(delivered)" -eq "$before" ]; then
		pass "$2: FREE MONEY refused with '$BLOCK_REPLY' (swaks exit $rc), smtp-sink got nothing"
		return 0
	fi
	show_log "$WORK/swaks-$1.log"
	fail "$2: FREE MONEY not refused as expected (swaks exit $rc," \
		"smtp-sink got $(($(delivered) - before)))"
	return 1
}

# smtp_load TAG COUNT: smtp-source, COUNT messages over $SMTP_SESSIONS sessions, 0 when all
# were accepted (smtp-source stops on the first error) and the dump holds COUNT more files.
smtp_load() {
	local tag=$1 n=$2 before t0 rc
	before=$(delivered)
	t0=$(now_ms)
	ip netns exec "$CLIENT_NS" smtp-source -m "$n" -s "$SMTP_SESSIONS" -l 2000 \
		-f "load@corp.example" -t "sink@corp.example" "$SERVER_IP:25" \
		>"$WORK/smtp-source-$tag.log" 2>&1
	rc=$?
	LOAD_MS=$(($(now_ms) - t0))
	netns_wait 5 delivered_since "$before" "$n"
	LOAD_GOT=$(($(delivered) - before))
	[ $rc -eq 0 ] && [ "$LOAD_GOT" -eq "$n" ]
}

# iperf_run TAG: 3 s of iperf3; leaves the receiver's Gbit/s in IPERF_GBPS.
iperf_run() {
	ip netns exec "$CLIENT_NS" iperf3 -c "$SERVER_IP" -p 5201 -t 3 -f g \
		>"$WORK/iperf3-$1.log" 2>&1 || return 1
	IPERF_GBPS=$(awk '/receiver/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Gbits/sec") print $i }' \
		"$WORK/iperf3-$1.log" | tail -n 1)
	[ -n "$IPERF_GBPS" ]
}

# tcp_segs: TCP segments the client ns sent and received so far (/proc/net/snmp is per ns).
tcp_segs() {
	ip netns exec "$CLIENT_NS" awk '/^Tcp:/ {
		if (!h) { for (i = 2; i <= NF; i++) col[$i] = i; h = 1 }
		else print $col["InSegs"] + $col["OutSegs"] }' /proc/net/snmp
}

xdp_attached() {
	ip -n "$BRIDGE_NS" link show dev "$1" 2>/dev/null | grep -q 'prog/xdp'
}

# ------------------------------------------------------------------- (a) plain bridge

if xdp_attached "$PORT_A" || xdp_attached "$PORT_B"; then
	fail "an XDP program is attached before the dataplane started"
fi
if swaks_clean bridge "(a) plain bridge"; then
	measure "swaks round trip, plain bridge: ${SWAKS_MS} ms"
fi
if smtp_load bridge "$TIME_MSGS"; then
	pass "(a) smtp-source -m $TIME_MSGS -s $SMTP_SESSIONS through the plain bridge"
	measure "smtp-source -m $TIME_MSGS -s $SMTP_SESSIONS, plain bridge: ${LOAD_MS} ms"
else
	show_log "$WORK/smtp-source-bridge.log"
	fail "(a) smtp-source through the plain bridge: $LOAD_GOT of $TIME_MSGS delivered"
fi
if iperf_run bridge; then
	pass "(a) iperf3 through the plain bridge"
	measure "iperf3, plain bridge, no program: $IPERF_GBPS Gbit/s"
else
	show_log "$WORK/iperf3-bridge.log"
	fail "(a) iperf3 through the plain bridge"
fi

# ------------------------------------------------------------------- Postern

CONF=$WORK/postern.conf
postern_write_conf "$CONF" "$WORK" "${PACKS[@]}" || fatal "cannot write $CONF"
cat >>"$CONF" <<EOF
mode = inline
workers = 1
rule_cache_dir = $WORK/rule-cache
eve_smtp_events = yes
EOF

postern_start_posternd "$CONF" "$WORK/posternd.log" "$WORK/cli.sock"
postern_start_subscriber "$CONF" "$WORK/alerts.jsonl" "$WORK/alerts.err"

# stats: "rx_packets inline_forwarded inline_blocked dataplanes_connected" from posternd
# (the dataplane's counters are the last it sent: it sends them every second).
stats() {
	"$POSTERNCTL" -c "$CONF" stats --json 2>>"$WORK/stats.err" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
dp, pd = d.get("dataplane", {}), d.get("posternd", {})
print(dp.get("rx_packets", 0), dp.get("inline_forwarded", 0), dp.get("inline_blocked", 0),
      pd.get("dataplanes_connected", -1))' 2>>"$WORK/stats.err"
}

# settled VAR: the counters once the dataplane has sent them after the last traffic.
settled() {
	sleep 1.2
	printf -v "$1" '%s' "$(stats)"
}

connected_is() { [ "$(stats | awk '{ print $4 }')" = "$1" ]; }
rx_past() { [ "$(stats | awk '{ print $1 }')" -gt "$1" ]; }

# alerts_blocked [RCPT]: alerts of the drop rule with "action":"blocked" the subscriber got
# (only those for the message to rcpt-RCPT@corp.example, if given).
alerts_blocked() {
	"$PY" - "$WORK/alerts.jsonl" "$DROP_SID" "${1:+rcpt-$1@corp.example}" <<'EOF'
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        ev = json.loads(line)
    except ValueError:
        continue
    a, smtp = ev.get("alert") or {}, ev.get("smtp") or {}
    if (ev.get("event_type") == "alert" and a.get("signature_id") == int(sys.argv[2])
            and a.get("action") == "blocked"
            and (not sys.argv[3] or sys.argv[3] in (smtp.get("rcpt_to") or []))):
        n += 1
print(n)
EOF
}
alert_blocked_for() { [ "$(alerts_blocked "$1")" -gt 0 ]; }

DP_ERR=
# dp_start TAG: the dataplane on both bridge ports. 0 once it logged "ready", runs posternd's
# rule generation (else a FREE MONEY message could pass uninspected) and both ports carry
# the program; 1, with the tails of its log and of posternd's, when it exits first or does
# not get there within 60 s.
dp_start() {
	local t0=$SECONDS
	DP_ERR=$WORK/dataplane-$1.err
	postern_start_dataplane "$BRIDGE_NS" "$CONF" "$DP_ERR" --xdp "$PORT_A" --xdp "$PORT_B" \
		-- -l 0-1 || return 1
	netns_wait_pid "$DP_PID" $((t0 + DP_READY_SECONDS - SECONDS)) dp_live && return 0
	show_log "$DP_ERR"
	show_log "$POSTERND_LOG"
	return 1
}
# shellcheck disable=SC2317 # called through netns_wait_pid
dp_live() {
	grep -q 'rule generation .* live' "$DP_ERR" && xdp_attached "$PORT_A" && xdp_attached "$PORT_B"
}

# ------------------------------------------------------------------- (b) dataplane in the path

if dp_start run1; then
	pass "(b) postern-dataplane (pid $DP_PID) ready, rules live, XDP on $PORT_A and $PORT_B"
else
	fatal "(b) postern-dataplane did not start with --xdp $PORT_A --xdp $PORT_B"
fi
mode=$(ip -n "$BRIDGE_NS" -d link show dev "$PORT_A" | grep -o 'xdp[a-z]*' | head -n 1)
note "attachment on $PORT_A: '$mode' (xdp = native, xdpgeneric = skb mode)"
if netns_wait 5 connected_is 1; then
	pass "(b) posternd: dataplanes_connected 1"
else
	fail "(b) posternd: dataplanes_connected $(stats | awk '{ print $4 }'), expected 1"
fi

if swaks_clean steered "(b) dataplane"; then
	measure "swaks round trip, through the dataplane: ${SWAKS_MS} ms"
fi

settled S0
segs0=$(tcp_segs)
if smtp_load counted "$COUNT_MSGS"; then
	pass "(b) smtp-source -m $COUNT_MSGS -s $SMTP_SESSIONS through the dataplane"
else
	show_log "$WORK/smtp-source-counted.log"
	fail "(b) smtp-source -m $COUNT_MSGS through the dataplane: $LOAD_GOT delivered"
fi
settled S1
segs=$(($(tcp_segs) - segs0))
read -r rx0 fw0 _ <<<"$S0"
read -r rx1 fw1 _ <<<"$S1"
note "$COUNT_MSGS messages: client ns TCP segments $segs; dataplane rx_packets" \
	"+$((rx1 - rx0)), inline_forwarded +$((fw1 - fw0))"
if [ "$segs" -gt 1000 ] && [ $((rx1 - rx0)) -ge "$segs" ] && [ $((fw1 - fw0)) -ge "$segs" ]; then
	pass "(b) SMTP crossed the dataplane: rx_packets +$((rx1 - rx0))," \
		"inline_forwarded +$((fw1 - fw0)) >= $segs segments"
else
	fail "(b) the dataplane's counters do not show the SMTP traffic ($S0 -> $S1, $segs segments)"
fi

if smtp_load steered "$TIME_MSGS"; then
	pass "(b) smtp-source -m $TIME_MSGS -s $SMTP_SESSIONS through the dataplane"
	measure "smtp-source -m $TIME_MSGS -s $SMTP_SESSIONS, through the dataplane: ${LOAD_MS} ms"
else
	show_log "$WORK/smtp-source-steered.log"
	fail "(b) smtp-source -m $TIME_MSGS through the dataplane: $LOAD_GOT of $TIME_MSGS delivered"
fi

settled S2
iperf_run steered
iperf_rc=$?
settled S3
read -r rx2 fw2 _ <<<"$S2"
read -r rx3 fw3 _ <<<"$S3"
if [ $iperf_rc -eq 0 ]; then
	measure "iperf3, bridge with the program attached (dataplane running): $IPERF_GBPS Gbit/s"
	# 3 s of iperf3 is hundreds of thousands of segments: none of them may reach the dataplane.
	if [ $((rx3 - rx2)) -le "$IPERF_SLACK" ] && [ $((fw3 - fw2)) -le "$IPERF_SLACK" ]; then
		pass "(b) iperf3 ($IPERF_GBPS Gbit/s) stayed in the kernel bridge" \
			"(rx_packets +$((rx3 - rx2)), inline_forwarded +$((fw3 - fw2)))"
	else
		fail "(b) the dataplane counted $((rx3 - rx2)) packets during the iperf3 run"
	fi
else
	show_log "$WORK/iperf3-steered.log"
	fail "(b) iperf3 with the program attached"
fi

read -r _ _ bl0 _ <<<"$(stats)"
swaks_blocked freemoney1 "(b) dataplane"
settled S4
read -r _ _ bl1 _ <<<"$S4"
if [ $((bl1 - bl0)) -eq 1 ]; then
	pass "(b) inline_blocked +1"
else
	fail "(b) inline_blocked +$((bl1 - bl0)), expected +1"
fi
# A blocked transaction reports at once (the server never answers its end): well before the
# SIGKILL below, which would lose a record still held.
if netns_wait 5 alert_blocked_for freemoney1; then
	pass "(b) the subscriber got sid $DROP_SID with \"action\":\"blocked\""
else
	show_log "$WORK/alerts.err"
	fail "(b) no sid $DROP_SID alert with \"action\":\"blocked\" within 5 s of the block"
fi

# ------------------------------------------------------------------- (c) SIGKILL mid-run

settled S5
read -r rx5 _ <<<"$S5"
before=$(delivered)
# -d: the sessions stay open from message to message, so that they cross the kill.
ip netns exec "$CLIENT_NS" smtp-source -d -w 1 -m "$KILL_MSGS" -s "$SMTP_SESSIONS" -l 2000 \
	-f "load@corp.example" -t "sink@corp.example" "$SERVER_IP:25" \
	>"$WORK/smtp-source-kill.log" 2>&1 &
SRC_PID=$!
netns_track "$SRC_PID"
# Kill once the run is well under way (a fifth of the messages delivered) and the dataplane
# has reported carrying it.
netns_wait 20 delivered_since "$before" $((KILL_MSGS / 5))
if netns_wait 20 rx_past "$rx5"; then
	read -r rx6 _ <<<"$(stats)"
	pass "(c) the sessions crossed the dataplane before the kill (rx_packets +$((rx6 - rx5)))"
else
	fail "(c) the dataplane reported nothing of the run before the kill"
fi
kill -KILL "$DP_PID"
wait "$DP_PID" 2>/dev/null
at_kill=$(($(delivered) - before))
note "postern-dataplane killed with SIGKILL after $at_kill of $KILL_MSGS messages"
t0=$(now_ms)
wait "$SRC_PID"
src_rc=$?
netns_wait 5 delivered_since "$before" "$KILL_MSGS"
got=$(($(delivered) - before))
if [ $src_rc -eq 0 ] && [ "$got" -eq "$KILL_MSGS" ] && [ "$at_kill" -lt "$KILL_MSGS" ]; then
	pass "(c) smtp-source survived the SIGKILL: $got of $KILL_MSGS delivered" \
		"($((KILL_MSGS - at_kill)) after the kill, $(($(now_ms) - t0)) ms)"
else
	show_log "$WORK/smtp-source-kill.log"
	fail "(c) smtp-source across the SIGKILL: rc $src_rc, $got of $KILL_MSGS delivered" \
		"($at_kill before the kill)"
fi
if xdp_attached "$PORT_A" && xdp_attached "$PORT_B"; then
	pass "(c) after SIGKILL the program stays attached to $PORT_A and $PORT_B"
else
	fail "(c) after SIGKILL the program is no longer attached to both ports"
fi
if netns_wait 5 connected_is 0; then
	pass "(c) posternd saw the dataplane go: dataplanes_connected 0"
else
	fail "(c) posternd: dataplanes_connected $(stats | awk '{ print $4 }') after the kill"
fi
if swaks_clean afterkill "(c) after SIGKILL"; then
	measure "swaks round trip, program attached, no dataplane: ${SWAKS_MS} ms"
fi
before=$(delivered)
if swaks_send freemoney-nodp "FREE MONEY now" && netns_wait 5 delivered_since "$before" 1; then
	pass "(c) FREE MONEY delivered with the dataplane gone (fail-open: nothing inspects)"
else
	show_log "$WORK/swaks-freemoney-nodp.log"
	fail "(c) FREE MONEY not delivered with the dataplane gone"
fi

# ------------------------------------------------------------------- (d) restart

if dp_start run2; then
	pass "(d) postern-dataplane restarted (pid $DP_PID) over the program the killed one left"
	for p in "$PORT_A" "$PORT_B"; do
		if grep -q "$p: $STALE_MSG" "$DP_ERR"; then
			pass "(d) it logged '$p: $STALE_MSG'"
		else
			fail "(d) no '$p: $STALE_MSG' in its log"
		fi
	done
	if netns_wait 5 connected_is 1; then
		pass "(d) posternd reconnected it: dataplanes_connected 1"
	else
		fail "(d) posternd: dataplanes_connected $(stats | awk '{ print $4 }') after the restart"
	fi
	swaks_blocked freemoney2 "(d) restarted dataplane"
	if netns_wait 5 alert_blocked_for freemoney2; then
		pass "(d) the subscriber got sid $DROP_SID with \"action\":\"blocked\""
	else
		fail "(d) no sid $DROP_SID alert with \"action\":\"blocked\" within 5 s of the block"
	fi
	swaks_clean restarted "(d) restarted dataplane"

	# ----------------------------------------------------------- (e) SIGTERM
	kill -TERM "$DP_PID"
	for _ in $(seq 100); do kill -0 "$DP_PID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$DP_PID" 2>/dev/null; then
		fail "(e) postern-dataplane did not exit within 10 s of SIGTERM"
		netns_stop_pid "$DP_PID"
	else
		wait "$DP_PID"
		dp_rc=$?
		if [ $dp_rc -eq 0 ]; then
			pass "(e) postern-dataplane exited 0 on SIGTERM"
		else
			show_log "$DP_ERR"
			fail "(e) postern-dataplane exited $dp_rc on SIGTERM"
		fi
	fi
	if xdp_attached "$PORT_A" || xdp_attached "$PORT_B"; then
		fail "(e) the program is still attached after a clean exit"
	else
		pass "(e) the program is gone from $PORT_A and $PORT_B"
	fi
	swaks_clean afterexit "(e) after the clean exit"
else
	fail "(d) postern-dataplane did not restart"
fi

# Nothing inspected the FREE MONEY message sent while no dataplane ran: no alert for it (checked
# last, once any record a dataplane held has left with its exit).
n=$(alerts_blocked freemoney-nodp)
if [ "$n" -eq 0 ]; then
	pass "(c) no blocked alert for the FREE MONEY message sent with the dataplane gone"
else
	fail "(c) $n blocked alert(s) for the message sent with the dataplane gone"
fi

still_running "posternd:$POSTERND_PID" "posternctl alerts:$SUB_PID" "smtp-sink:$SINK_PID" \
	"iperf3 -s:$IPERF_PID"

finish
