#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Live end-to-end test: real SMTP traffic between two network namespaces, inspected by
# postern-dataplane through an af_packet vdev on the server's veth end (passive mode).
# It builds the lib.sh topology, runs tests/netns/smtp_server.py (aiosmtpd) on
# 10.98.0.2:25, imports tests/pcap/demo/suppress.csv, starts posternd, an alert subscriber
# (posternctl alerts) and the dataplane, sends three mails with swaks from the client
# namespace (to an opted-out recipient, a "FREE MONEY" subject, a clean report), and checks
# that exactly the expected alerts arrived (2100002 for the opted-out recipient, 1000001 for
# the subject, none for the clean mail), that every mail was delivered, and that no Postern
# process died. It sends nothing outside the namespaces it creates.
#
# Usage: tests/netns/test_live_afpacket.sh [--network-only] [--build DIR] [--keep]
#   --network-only  only the namespace/aiosmtpd/swaks part: also captures veth-s with tcpdump
#                   and checks with tshark what an af_packet reader there would see
#   --build DIR     Postern build directory (default: $BUILD, else build/ in the repo root)
#   --keep          keep the temporary directory (logs, alerts.jsonl, maildir)
# Prints PASS:/FAIL: lines and "N passed, N failed"; exits 0 (all passed), 1 (a failure) or
# 77 (skipped: not root, no `ip netns`, or a missing tool).

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
NETWORK_ONLY=0
PY=/usr/bin/python3

# shellcheck source=SCRIPTDIR/lib.sh
source "$HERE/lib.sh"

while [ $# -gt 0 ]; do
	case $1 in
	--network-only) NETWORK_ONLY=1; shift ;;
	*) netns_option "$@"; shift "$NETNS_OPT_SHIFT" ;;
	esac
done

netns_require swaks
[ -x "$PY" ] || netns_skip "$PY not found"
"$PY" -c 'import aiosmtpd' 2>/dev/null || netns_skip "python3-aiosmtpd not installed (run scripts/setup)"
if [ "$NETWORK_ONLY" = 1 ]; then
	for c in tcpdump tshark; do
		command -v "$c" >/dev/null 2>&1 || netns_skip "$c not installed (run scripts/setup)"
	done
fi

netns_mktemp WORK || fatal "mktemp -d"
netns_setup || fatal "network namespace topology"

# ------------------------------------------------------------------- the mails

SUPPRESS_CSV=$ROOT/tests/pcap/demo/suppress.csv
# The demo pack with the shipped compliance and hygiene packs: the opted-out newsletter is a
# compliant one (postal address, unsubscribe link and one-click), which must raise nothing but
# its suppression alert, and the backup report is automated mail with sound headers.
PACKS=("$ROOT/rules/demo.rules" "$ROOT/rules/compliance/compliance.rules"
	"$ROOT/rules/hygiene/hygiene.rules")

# name|helo|from|to|subject ; bodies and extra headers below. Senders, recipients and subjects
# are all distinct so that every alert can be tied to one mail.
MAILS=(
	"optout|ws11.corp.example|deals@corp.example|optedout@customer.example|June deals for our customers"
	"freemoney|ws12.corp.example|barrister@ws12.corp.example|someone@partner.example|FREE MONEY waiting for you"
	"clean|ws13.corp.example|backup@ws13.corp.example|ops@corp.example|Nightly backup report"
)
# Expected signature ids per mail (space separated, sorted; empty: no alert at all).
declare -A EXPECT=([optout]="2100002" [freemoney]="1000001" [clean]="")

declare -A BODY
BODY[optout]=$'Hello,\n\nOur June deals are here: 20% off every annual plan until June 30.\n\n'
BODY[optout]+=$'Unsubscribe at any time: https://corp.example/unsubscribe?u=4f1c\n\n'
BODY[optout]+=$'Corp Example Inc., 123 Main Street, Springfield, IL 62701, USA\n'
BODY[freemoney]=$'Dear friend,\n\nA large sum is waiting for you. Reply today with your bank details.\n'
# About 6 KB, so that the clean mail spans several MSS-sized segments.
BODY[clean]=$'Nightly backup finished at 02:14 UTC.\nVolumes: 96 of 96 completed, 0 failed.\n\n'
for i in $(seq 1 96); do
	printf -v line 'volume %02d  /srv/data/vol%02d  %6d MiB  ok  %s\n' "$i" "$i" $((i * 517)) \
		"checksum verified, retention 30 days"
	BODY[clean]+=$line
done
headers_optout=(
	--header "List-Unsubscribe: <mailto:unsubscribe@corp.example?subject=unsubscribe>,
 <https://corp.example/unsubscribe?u=4f1c>"
	--header "List-Unsubscribe-Post: List-Unsubscribe=One-Click"
)

send_mails() {
	local m name helo from to subject extra ok=0
	for m in "${MAILS[@]}"; do
		IFS='|' read -r name helo from to subject <<<"$m"
		extra=()
		[ "$name" = optout ] && extra=("${headers_optout[@]}")
		if ip netns exec "$CLIENT_NS" swaks --server "$SERVER_IP" --port 25 --timeout 10 \
			--helo "$helo" --from "$from" --to "$to" --header "Subject: $subject" \
			"${extra[@]}" --body "${BODY[$name]}" >"$WORK/swaks-$name.log" 2>&1; then
			pass "swaks delivered '$name' to $to"
		else
			fail "swaks could not deliver '$name' to $to"
			show_log "$WORK/swaks-$name.log"
			ok=1
		fi
	done
	return $ok
}

check_maildir() {
	local n subjects m name subject
	n=$(find "$WORK/maildir/new" -type f -name '*.eml' 2>/dev/null | wc -l)
	if [ "$n" -eq ${#MAILS[@]} ]; then
		pass "maildir holds $n messages"
	else
		fail "maildir holds $n messages, expected ${#MAILS[@]}"
		show_log "$WORK/smtpd.log"
	fi
	subjects=$(cat "$WORK"/maildir/new/*.eml 2>/dev/null | grep -i '^Subject:')
	for m in "${MAILS[@]}"; do
		IFS='|' read -r name _ _ _ subject <<<"$m"
		if grep -qxF "Subject: $subject"$'\r' <<<"$subjects" ||
			grep -qxF "Subject: $subject" <<<"$subjects"; then
			pass "message '$name' stored with its subject"
		else
			fail "message '$name' (Subject: $subject) not in the maildir"
		fi
	done
}

# ------------------------------------------------------------------- SMTP server

mkdir -p "$WORK/maildir"
netns_spawn "$SERVER_NS" "$PY" "$HERE/smtp_server.py" --host "$SERVER_IP" --port 25 \
	--maildir "$WORK/maildir" >"$WORK/smtpd.log" 2>&1
SMTPD_PID=$NETNS_LAST_PID
if netns_wait 10 netns_listening "$SERVER_NS" 25; then
	pass "aiosmtpd listening on $SERVER_IP:25 in $SERVER_NS"
else
	show_log "$WORK/smtpd.log"
	fatal "aiosmtpd did not start"
fi

# ------------------------------------------------------------------- network-only mode

if [ "$NETWORK_ONLY" = 1 ]; then
	PCAP=$WORK/veth-s.pcap
	netns_spawn "$SERVER_NS" tcpdump -i "$SERVER_IF" --immediate-mode -U -n -s 0 -w "$PCAP" "tcp port 25" \
		>"$WORK/tcpdump.log" 2>&1
	TCPDUMP_PID=$NETNS_LAST_PID
	netns_wait 10 grep -q 'listening on' "$WORK/tcpdump.log" ||
		{ show_log "$WORK/tcpdump.log"; fatal "tcpdump did not start on $SERVER_IF"; }
	send_mails
	netns_wait 10 test "$(find "$WORK/maildir/new" -type f | wc -l)" -ge ${#MAILS[@]}
	sleep 0.5 # the last FIN/ACK
	netns_stop_pid "$TCPDUMP_PID"
	check_maildir

	# What an af_packet reader on veth-s sees: every command and subject, frames no larger
	# than the MTU (TSO/GSO/GRO off) and correct checksums (tx checksum offload off).
	tshark_q() { tshark -r "$PCAP" "$@" 2>/dev/null; }
	rcpts=$(tshark_q -Y smtp.req.command==RCPT -T fields -e smtp.req.parameter | sort | tr '\n' ' ')
	want=$(for m in "${MAILS[@]}"; do IFS='|' read -r _ _ _ to _ <<<"$m"; echo "TO:<$to>"; done |
		sort | tr '\n' ' ')
	if [ -n "$rcpts" ] && [ "$rcpts" = "$want" ]; then
		pass "capture on $SERVER_IF shows RCPT TO $rcpts"
	else
		fail "capture on $SERVER_IF shows RCPT '$rcpts', expected '$want'"
	fi
	subjects=$(tshark_q -Y imf -T fields -e imf.subject | sort | tr '\n' '|')
	want=$(for m in "${MAILS[@]}"; do IFS='|' read -r _ _ _ _ s <<<"$m"; echo "$s"; done |
		sort | tr '\n' '|')
	if [ "$subjects" = "$want" ]; then
		pass "capture on $SERVER_IF shows the three subjects"
	else
		fail "capture on $SERVER_IF shows subjects '$subjects', expected '$want'"
	fi
	big=$(tshark_q -Y 'frame.len > 1514' | wc -l)
	nframes=$(tshark_q | wc -l)
	if [ "$nframes" -gt 0 ] && [ "$big" -eq 0 ]; then
		pass "$nframes frames, none larger than 1514 bytes (offloads off)"
	else
		fail "$big of $nframes frames larger than 1514 bytes (segmentation offload on?)"
	fi
	# checksum.status: 1 good, 0 bad, 2 unverified.
	goodsum=$(tshark_q -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
		-Y 'ip.checksum.status==1 && tcp.checksum.status==1' | wc -l)
	if [ "$nframes" -gt 0 ] && [ "$goodsum" -eq "$nframes" ]; then
		pass "all IP/TCP checksums correct on $SERVER_IF"
	else
		fail "$((nframes - goodsum)) of $nframes frames with bad checksums on $SERVER_IF" \
			"(tx checksum offload on?)"
	fi
	still_running "aiosmtpd:$SMTPD_PID"
	finish
fi

# ------------------------------------------------------------------- Postern

postern_binaries "$BUILD"
[ -r "$SUPPRESS_CSV" ] || fatal "$SUPPRESS_CSV missing"
for p in "${PACKS[@]}"; do [ -r "$p" ] || fatal "$p missing"; done

CONF=$WORK/postern.conf
postern_write_conf "$CONF" "$WORK" "${PACKS[@]}" || fatal "cannot write $CONF"

postern_import_suppress "$CONF" "$SUPPRESS_CSV" "$WORK/import.log"
postern_start_posternd "$CONF" "$WORK/posternd.log"
postern_start_subscriber "$CONF" "$WORK/alerts.jsonl" "$WORK/alerts.err"
postern_start_dataplane "$SERVER_NS" "$CONF" "$WORK/dataplane.err" --iface "$SERVER_IF" -- -l 0-1 ||
	fatal "postern-dataplane not ready on $SERVER_NS/$SERVER_IF"
pass "postern-dataplane ready on $SERVER_NS/$SERVER_IF (pid $DP_PID)"

send_mails

# Wait (bounded) for every expected alert, then a little longer so that an unexpected alert
# for the last mail has time to show up too.
# shellcheck disable=SC2317 # called through netns_wait
expected_seen() {
	local sid sids
	read -r -a sids <<<"${EXPECT[*]}"
	for sid in "${sids[@]}"; do
		grep -Eq "\"signature_id\" *: *$sid([^0-9]|$)" "$WORK/alerts.jsonl" || return 1
	done
}
if ! netns_wait 20 expected_seen; then
	note "not every expected alert arrived within 20 s"
fi
sleep 3

# Strict comparison: every line JSON, every alert tied to one of the mails, and per mail
# exactly the expected signature ids.
spec=$(for m in "${MAILS[@]}"; do
	IFS='|' read -r name _ from to subject <<<"$m"
	printf '%s|%s|%s|%s|%s\n' "$name" "$from" "$to" "$subject" "${EXPECT[$name]}"
done)
check_out=$("$PY" - "$WORK/alerts.jsonl" "$spec" <<'EOF'
import json, sys

mails = []
for line in sys.argv[2].strip().splitlines():
    name, mfrom, rcpt, subject, sids = line.split("|")
    mails.append(dict(name=name, mfrom=mfrom.lower(), rcpt=rcpt.lower(), subject=subject,
                      want=sorted(int(s) for s in sids.split()), got=[]))

n_fail = 0
def report(ok, text):
    global n_fail
    print(("PASS: " if ok else "FAIL: ") + text)
    n_fail += 0 if ok else 1

def addr(v):
    return str(v).strip().strip("<>").lower()

def owner(ev):
    email, smtp = ev.get("email") or {}, ev.get("smtp") or {}
    rcpts = [addr(r) for r in smtp.get("rcpt_to") or []]
    text = json.dumps(ev).lower()
    for m in mails:
        if (email.get("subject") == m["subject"] or addr(smtp.get("mail_from", "")) == m["mfrom"]
                or m["rcpt"] in rcpts or m["rcpt"] in text):
            return m
    return None

lines = open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines()
bad = unowned = 0
for i, line in enumerate(lines, 1):
    if not line.strip():
        continue
    try:
        ev = json.loads(line)
    except ValueError:
        bad += 1
        print("    line %d is not JSON: %.120s" % (i, line))
        continue
    if ev.get("event_type") != "alert":
        continue
    sid = (ev.get("alert") or {}).get("signature_id")
    m = owner(ev)
    if m is None:
        unowned += 1
        print("    alert not tied to a test mail: %.300s" % line)
    else:
        m["got"].append(sid)
report(bad == 0, "alerts.jsonl: %d lines, all JSON" % len(lines) if bad == 0
       else "alerts.jsonl: %d of %d lines are not JSON" % (bad, len(lines)))
report(unowned == 0, "no alert outside the test mails" if unowned == 0
       else "%d alert(s) not tied to any test mail" % unowned)
for m in mails:
    got = sorted(m["got"], key=lambda s: (not isinstance(s, int), str(s)))
    report(got == m["want"], "mail '%s': alerts %s, expected %s" % (m["name"], got, m["want"]))
sys.exit(1 if n_fail else 0)
EOF
)
tally_checker $? "$check_out" "$WORK/alerts.jsonl" "$WORK/alerts.err" "$WORK/posternd.log" \
	"$WORK/dataplane.err"

check_maildir

still_running "posternd:$POSTERND_PID" "postern-dataplane:$DP_PID" "posternctl alerts:$SUB_PID" \
	"aiosmtpd:$SMTPD_PID"

finish
