#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The event spool when reading a capture: nothing is ever dropped, the dataplane waits for
# posternd to acknowledge instead. tools/gen_flood.py writes about 1,300 transactions (some
# 500 KB of records), several times the smallest spool (event_spool = 131072):
#   1. replayed through posternd with that spool: every transaction has its smtp event and
#      the dataplane dropped nothing (the spool filled and emptied many times over);
#   2. with no posternd at all: the dataplane fills the spool and waits; a SIGTERM must still
#      end it within seconds (exit 0), saying how many records were never acknowledged;
#   3. with a hung posternd (its listen backlog full): the dataplane is not held in
#      connect(); it reads the capture and stops by itself.
#
#   tests/pcap/run_spool_offline.sh [--build DIR]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build"
[ "${1:-}" = --build ] && build=$2
py=/usr/bin/python3

# shellcheck source=../check.sh
source "$top/tests/check.sh"

work=$(mktemp -d /tmp/postern-spool-offline.XXXXXX)
dp=
cleanup() {
	[ -n "$dp" ] && kill -KILL "$dp" 2> /dev/null
	rm -rf "$work"
}
trap cleanup EXIT

if ! "$py" "$top/tools/gen_flood.py" --out "$work/flood.pcap" > /dev/null 2>&1; then
	echo "FAIL: gen_flood.py could not write the capture"
	echo "0 passed, 1 failed"
	exit 1
fi

# 1. through posternd, with the smallest spool
"$top/scripts/replay" --build "$build" --pcap "$work/flood.pcap" --set event_spool=131072 \
	--set eve_smtp_events=yes --out "$work/sub.jsonl" 2> "$work/replay.log"
check "the replay with a 128 KiB spool succeeded" test $? = 0
out=$("$py" - "$work/sub.jsonl" << 'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
smtp = sum(1 for e in events if e["event_type"] == "smtp")
stats = [e for e in events if e["event_type"] == "stats"]
c = stats[-1]["stats"]["counters"] if stats else {}
def report(ok, text):
    print(("PASS: " if ok else "FAIL: ") + text)
report(smtp > 1000 and smtp == c.get("smtp_transactions"),
       "every one of the dataplane's %s transactions has its smtp event (%d)"
       % (c.get("smtp_transactions"), smtp))
report(c.get("events_dropped") == 0 and c.get("spool_dropped") == 0,
       "nothing dropped (events_dropped %s, spool_dropped %s)"
       % (c.get("events_dropped"), c.get("spool_dropped")))
PY
)
tally "$out"

# 2. no posternd: the dataplane waits for it, and still stops on SIGTERM
printf 'control_socket = %s\nevent_spool = 131072\n' "$work/nobody-here.sock" > "$work/alone.conf"
"$build/dataplane/postern-dataplane" -c "$work/alone.conf" --pcap "$work/flood.pcap" \
	--wait-rules 0 --exit-idle 600000 -- --no-pci "--file-prefix=pst-spool-$$" \
	2> "$work/alone.log" &
dp=$!
for _ in $(seq 100); do grep -q ready "$work/alone.log" && break; sleep 0.1; done
sleep 2
check "without posternd the dataplane waits (still running after 2 s)" kill -0 "$dp"
kill -TERM "$dp"
stopped=0
for _ in $(seq 100); do
	kill -0 "$dp" 2> /dev/null || { stopped=1; break; }
	sleep 0.1
done
check "SIGTERM ends it within 10 s" test "$stopped" = 1
wait "$dp"
check "... with exit status 0" test $? = 0
dp=
check "it says how many records posternd never acknowledged" \
	grep -q 'record(s) given up: posternd did not acknowledge' "$work/alone.log"
[ "$fail" = 0 ] || tail -5 "$work/alone.log"

# 3. a hung posternd (its listen backlog full, nothing accepted) must not hold the dataplane
# in connect(): the capture is read and the dataplane stops on its own
"$py" - "$work/hung.sock" "$work/hung.ready" << 'PY' &
import os, socket, sys, time
srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
srv.bind(sys.argv[1])
srv.listen(0)
held = []
while True:  # fill the backlog with connections nobody accepts
    c = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    c.setblocking(False)
    try:
        c.connect(sys.argv[1])
    except BlockingIOError:
        break
    held.append(c)
open(sys.argv[2], "w").close()
time.sleep(60)
PY
hung=$!
for _ in $(seq 100); do [ -e "$work/hung.ready" ] && break; sleep 0.05; done
printf 'control_socket = %s\n' "$work/hung.sock" > "$work/hung.conf"
timeout 30 "$build/dataplane/postern-dataplane" -c "$work/hung.conf" \
	--pcap "$top/tests/pcap/demo/input.pcap" --wait-rules 0 -- --no-pci \
	"--file-prefix=pst-hung-$$" 2> "$work/hung.log"
check "with posternd hung, the dataplane reads the capture and stops (exit $?)" test $? = 0
kill "$hung" 2> /dev/null
wait "$hung" 2> /dev/null

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
