#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# posternd's Redis output (control/redis_out.c) against a real redis-server on a unix socket
# in a scratch directory. The demo capture is replayed twice with smtp events on:
#  - redis_mode = list, redis_key = postern:%t: each list postern:TYPE must hold exactly the
#    alert subscriber's lines of that event_type, in order, and there must be no other list;
#  - redis_mode = publish, with a `redis-cli PSUBSCRIBE postern:*` client connected before the
#    replay: it must have received exactly the subscriber's lines, in order, each on the
#    channel postern:TYPE of its event_type.
# (The unit test test_redis_out.c covers reconnects, the queue bound and error replies.)
#
#   tests/tools/run_redis.sh [--build DIR]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build"
[ "${1:-}" = --build ] && build=$2
# shellcheck source=../check.sh
. "$top/tests/check.sh"

work=$(mktemp -d /tmp/postern-redis.XXXXXX)
redis_pid="" psub_pid=""
cleanup() {
	[ -n "$psub_pid" ] && kill "$psub_pid" 2>/dev/null && wait "$psub_pid" 2>/dev/null
	[ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
sock="$work/redis.sock"
rcli() { redis-cli -s "$sock" "$@"; }

finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
	exit
}

redis-server --port 0 --unixsocket "$sock" --save "" --appendonly no --daemonize no \
	--dir "$work" > "$work/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 100); do
	[ "$(rcli PING 2>/dev/null)" = PONG ] && break
	sleep 0.05
done
if ! check "redis-server answers on its unix socket" test "$(rcli PING 2>/dev/null)" = PONG; then
	cat "$work/redis.log"
	finish
fi

replay() { # MODE OUT
	"$top/scripts/replay" --build "$build" --pcap "$top/tests/pcap/demo/input.pcap" \
		--set "redis=unix:$sock" --set "redis_mode=$1" --set "redis_key=postern:%t" \
		--set eve_smtp_events=yes --out "$2"
}

# --- list mode: one list per event type
check "the replay in list mode ran" replay list "$work/sub-list.jsonl"
mkdir "$work/lists"
for key in $(rcli --raw KEYS 'postern:*'); do
	[ "$(rcli --raw TYPE "$key")" = list ] || { echo "$key is not a list"; continue; }
	rcli --raw LRANGE "$key" 0 -1 > "$work/lists/$key"
done
tally "$(/usr/bin/python3 - "$work/sub-list.jsonl" "$work/lists" << 'EOF'
import json, os, sys

sub = open(sys.argv[1]).read().splitlines()
by_type = {}
for line in sub:
    by_type.setdefault("postern:" + json.loads(line)["event_type"], []).append(line)
lists = {k: open(os.path.join(sys.argv[2], k)).read().splitlines()
         for k in os.listdir(sys.argv[2])}
def report(ok, text):
    print(("PASS: " if ok else "FAIL: ") + text)
report(len(sub) > 0 and len(by_type) >= 2,
       "list mode: the subscriber got %d lines of %d event types" % (len(sub), len(by_type)))
report(sorted(lists) == sorted(by_type),
       "list mode: one list per event type (%s)" % ", ".join(sorted(lists)))
for key in sorted(by_type):
    got = lists.get(key, [])
    report(got == by_type[key], "list %s holds the subscriber's %d lines of that type, in order"
           " (%d)" % (key, len(by_type[key]), len(got)))
EOF
)"
rcli FLUSHALL > /dev/null

# --- publish mode: a pattern subscriber connected before posternd starts
stdbuf -o0 redis-cli -s "$sock" --raw PSUBSCRIBE 'postern:*' > "$work/psub.txt" 2>&1 &
psub_pid=$!
for _ in $(seq 100); do
	[ "$(rcli PUBSUB NUMPAT 2>/dev/null)" = 1 ] && break
	sleep 0.05
done
check "the PSUBSCRIBE client is subscribed" test "$(rcli PUBSUB NUMPAT 2>/dev/null)" = 1
check "the replay in publish mode ran" replay publish "$work/sub-pub.jsonl"
sleep 0.3
kill "$psub_pid" 2>/dev/null
wait "$psub_pid" 2>/dev/null
psub_pid=""
tally "$(/usr/bin/python3 - "$work/sub-pub.jsonl" "$work/psub.txt" << 'EOF'
import json, sys

sub = open(sys.argv[1]).read().splitlines()
raw = open(sys.argv[2]).read().splitlines()
def report(ok, text):
    print(("PASS: " if ok else "FAIL: ") + text)
# --raw output: "psubscribe", pattern, count; then per message "pmessage", pattern, channel, text
ok_head = raw[:3] == ["psubscribe", "postern:*", "1"]
msgs, ok_shape = [], True
body = raw[3:]
if len(body) % 4:
    ok_shape = False
for i in range(0, len(body) - len(body) % 4, 4):
    kind, pattern, channel, text = body[i:i + 4]
    ok_shape = ok_shape and kind == "pmessage" and pattern == "postern:*"
    msgs.append((channel, text))
report(ok_head and ok_shape and len(msgs) > 0,
       "publish mode: the subscriber's output is whole pmessage replies")
report(len(sub) > 0, "publish mode: the alert subscriber got %d lines" % len(sub))
report([t for _, t in msgs] == sub,
       "publish mode: the PSUBSCRIBE client got the subscriber's %d lines, in order (%d)"
       % (len(sub), len(msgs)))
report(len(msgs) > 0 and all(c == "postern:" + json.loads(t)["event_type"] for c, t in msgs),
       "publish mode: each line came on the channel postern:<its event_type>")
EOF
)"
finish
