#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Self-test of tests/netns/postfix_lib.sh: a private Postfix instance in the server namespace
# of the lib.sh topology. It starts the instance on 10.98.0.2:25, sends a plain message with
# swaks from the client namespace and checks that alice@customer.example's Maildir holds it
# with the exact body bytes and the Subject, sends 20 messages with Postfix's smtp-source and
# checks that bob@corp.example's Maildir holds 20, checks that a recipient in an unknown
# domain and an unknown user are refused with 5xx and leave nothing queued, then stops Postfix
# and checks that its master and every process of the instance are gone. It sends nothing
# outside the namespaces it creates and leaves nothing behind.
#
# Usage: tests/netns/test_postfix_fixture.sh [--keep] [--build DIR (ignored)]
#   --keep  keep the temporary directory (Postfix configuration, maillog, Maildirs)
# Prints PASS:/FAIL: lines and "N passed, N failed"; exits 0 (all passed), 1 (a failure) or
# 77 (skipped: not root, no `ip netns`, or a missing tool).

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SMTP_SOURCE=/usr/sbin/smtp-source

# shellcheck source=SCRIPTDIR/lib.sh
source "$HERE/lib.sh"
# shellcheck source=SCRIPTDIR/postfix_lib.sh
source "$HERE/postfix_lib.sh"

# --build: the test runner passes every suite its build; Postfix needs none.
netns_options "$@"

netns_require swaks setsid setpriv postconf
[ -x "$SMTP_SOURCE" ] || netns_skip "$SMTP_SOURCE not installed (postfix package)"
[ -x "$POSTFIX_DAEMON_DIR/master" ] || netns_skip "Postfix master not found (postfix package)"
id "$POSTFIX_USER" >/dev/null 2>&1 || netns_skip "no '$POSTFIX_USER' user (postfix package)"

netns_mktemp WORK || fatal "mktemp -d"
netns_setup || fatal "network namespace topology"

PF=$WORK/postfix
mkdir -p "$PF"
if postfix_start "$SERVER_NS" "$SERVER_IP" "$PF"; then
	pass "Postfix listening on $SERVER_IP:25 in $SERVER_NS (master pid $(postfix_pid "$PF"))"
else
	fatal "postfix_start"
fi
MASTER_PID=$(postfix_pid "$PF")

listeners=$(ip netns exec "$SERVER_NS" ss -Hltn | awk '{ print $4 }' | sort | tr '\n' ' ')
if [ "$listeners" = "$SERVER_IP:25 " ]; then
	pass "the only listening socket in $SERVER_NS is $SERVER_IP:25"
else
	fail "listening sockets in $SERVER_NS: '$listeners', expected only $SERVER_IP:25"
fi

# ------------------------------------------------------------------- swaks, one message

ALICE=alice@customer.example
SUBJECT="Fixture check $$ for alice"
# A leading dot (dot-stuffing both ways), a "From " line (no mbox quoting in a Maildir),
# trailing blanks and a tab must all arrive as they were sent.
BODY=$'Hello Alice,\n\n.a line that starts with a dot\n..two dots\nFrom the start of a line\n'
BODY+=$'trailing blanks   \n\tindented with a tab\nlast line'
start_ms=$(date +%s%3N)
if ip netns exec "$CLIENT_NS" swaks --server "$SERVER_IP" --port 25 --timeout 10 \
	--helo ws1.corp.example --from sender@corp.example --to "$ALICE" \
	--header "Subject: $SUBJECT" --body "$BODY" >"$WORK/swaks-alice.log" 2>&1; then
	pass "swaks: message to $ALICE accepted"
else
	show_log "$WORK/swaks-alice.log"
	fail "swaks: message to $ALICE not accepted"
fi
if grep -q '^<-  220 relay.corp.example ESMTP' "$WORK/swaks-alice.log"; then
	pass "banner names relay.corp.example"
else
	fail "banner does not name relay.corp.example"
fi
if postfix_wait_delivered "$PF" "$ALICE" 1 5; then
	pass "delivered to $ALICE's Maildir in $(($(date +%s%3N) - start_ms)) ms"
else
	postfix_show_log "$PF"
	fail "nothing delivered to $ALICE within 5 s"
fi
n=$(postfix_mailbox_count "$PF" "$ALICE")
if [ "$n" -eq 1 ]; then
	pass "$ALICE has exactly 1 message"
else
	fail "$ALICE has $n messages, expected 1"
fi
msg=$(postfix_mailbox_files "$PF" "$ALICE" | head -n 1)
case $msg in
"$PF/mail/customer.example/alice/new/"*) pass "message stored in DIR/mail/customer.example/alice/new/" ;;
*) fail "message stored at '$msg', expected under DIR/mail/customer.example/alice/new/" ;;
esac
if [ -n "$msg" ] && grep -qxF "Subject: $SUBJECT" "$msg" && grep -qxF "Delivered-To: $ALICE" "$msg"; then
	pass "stored message has the Subject and Delivered-To: $ALICE"
else
	fail "stored message lacks the Subject or Delivered-To header"
fi
# Body: everything after the first empty line; Postfix stores LF line ends. swaks 20201014
# sends --body, CRLF, then an empty line before the final dot: that empty line is part of
# the message as sent (see its transcript), hence the "\n\n".
if [ -n "$msg" ] && cmp -s <(sed '1,/^$/d' "$msg") <(printf '%s\n\n' "$BODY"); then
	pass "stored body is byte for byte the body sent"
else
	fail "stored body differs from the body sent"
	[ -n "$msg" ] && diff <(sed '1,/^$/d' "$msg") <(printf '%s\n\n' "$BODY") | head -n 20
fi

# ------------------------------------------------------------------- smtp-source, 20 messages

BOB=bob@corp.example
if ip netns exec "$CLIENT_NS" timeout 60 "$SMTP_SOURCE" -m 20 -s 2 -t "$BOB" "$SERVER_IP:25" \
	>"$WORK/smtp-source.log" 2>&1; then
	pass "smtp-source: 20 messages to $BOB sent over 2 sessions"
else
	show_log "$WORK/smtp-source.log"
	fail "smtp-source failed"
fi
if postfix_wait_delivered "$PF" "$BOB" 20 10; then
	pass "20 messages in $BOB's Maildir"
else
	postfix_show_log "$PF"
	fail "$BOB has $(postfix_mailbox_count "$PF" "$BOB") messages after 10 s, expected 20"
fi

# ------------------------------------------------------------------- refusals

refused() {
	local to=$1 code=$2 log=$WORK/swaks-$3.log
	if ip netns exec "$CLIENT_NS" swaks --server "$SERVER_IP" --port 25 --timeout 10 \
		--from sender@corp.example --to "$to" --body "must not be accepted" >"$log" 2>&1; then
		fail "message to $to accepted"
	elif grep -q "^<\*\* *$code" "$log"; then
		pass "message to $to refused with $code"
	else
		show_log "$log"
		fail "message to $to refused, but not with $code"
	fi
}
refused someone@partner.example "554 5.7.1" unknown-domain
refused nosuchuser@customer.example "550 5.1.1" unknown-user
sleep 0.5
if postfix_queue_empty "$PF"; then
	pass "queue empty (nothing deferred, nothing bounced outward)"
else
	fail "messages left in the queue"
	find "$PF/queue/incoming" "$PF/queue/active" "$PF/queue/deferred" -type f | head
fi
if grep -Eq 'fatal:|panic:|warning:|error:' "$PF/maillog"; then
	grep -E 'fatal:|panic:|warning:|error:' "$PF/maillog" | head -n 10 | sed 's/^/    /'
	fail "maillog has warnings or errors"
else
	pass "maillog has no warning, error, fatal or panic ($(wc -l <"$PF/maillog") lines)"
fi

# ------------------------------------------------------------------- stop

if postfix_stop "$PF"; then
	pass "postfix_stop: no process of the instance left"
else
	fail "postfix_stop left processes of the instance"
fi
if kill -0 "$MASTER_PID" 2>/dev/null; then
	fail "master pid $MASTER_PID still running"
else
	pass "master pid $MASTER_PID gone"
fi
left=$(ip netns pids "$SERVER_NS" 2>/dev/null | tr '\n' ' ')
if [ -z "$left" ]; then
	pass "no process left in $SERVER_NS"
else
	fail "processes left in $SERVER_NS: $left"
fi

finish
