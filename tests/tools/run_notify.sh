#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Both daemons speak systemd's readiness protocol (the units are Type=notify): a replay of the
# demo capture with NOTIFY_SOCKET pointing at a datagram socket this script reads, as systemd
# would. posternd must send READY=1 (with its rule count) and, on SIGTERM, STOPPING=1; the
# dataplane READY=1 once it inspects and STOPPING=1 when its input ends; the alerts must be
# those of a replay without it. A SIGHUP to the dataplane must not end it (nothing to reload).
#
#   tests/tools/run_notify.sh [--build DIR]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build"
[ "${1:-}" = --build ] && build=$2
py=/usr/bin/python3

# shellcheck source=../check.sh
source "$top/tests/check.sh"

work=$(mktemp -d /tmp/postern-notify.XXXXXX)
listener=
cleanup() {
	[ -n "$listener" ] && kill "$listener" 2> /dev/null && wait "$listener" 2> /dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# systemd's side: one datagram a notification, written one per line (newlines as |)
"$py" - "$work/notify.sock" "$work/notify.txt" << 'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "w", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode(errors="replace").replace("\n", "|") + "\n")
EOF
listener=$!
for _ in $(seq 100); do [ -S "$work/notify.sock" ] && break; sleep 0.05; done

NOTIFY_SOCKET=$work/notify.sock "$top/scripts/replay" --build "$build" \
	--pcap "$top/tests/pcap/demo/input.pcap" --out "$work/with.jsonl" 2> "$work/replay.log"
check "the replay with NOTIFY_SOCKET set succeeded" test $? = 0
"$top/scripts/replay" --build "$build" --pcap "$top/tests/pcap/demo/input.pcap" \
	--out "$work/without.jsonl" 2> /dev/null
sleep 0.3
same() {
	diff <(grep -v '"event_type":"stats"' "$work/with.jsonl") \
		<(grep -v '"event_type":"stats"' "$work/without.jsonl") > /dev/null &&
		[ -s "$work/with.jsonl" ]
}
check "the alerts are those of a replay without it" same
has() { grep -q -- "$1" "$work/notify.txt"; }
check "posternd: READY=1 with its rules" has '^READY=1|STATUS=posternd: [0-9]* rules'
check "posternd: STOPPING=1 on SIGTERM" has '^STOPPING=1$'
check "dataplane: READY=1 once it inspects" has '^READY=1|STATUS=dataplane: inspecting'
check "dataplane: STOPPING=1 when its input ends" has '^STOPPING=1|STATUS=dataplane:'
order() {
	local r s
	r=$(grep -n 'STATUS=dataplane: inspecting' "$work/notify.txt" | cut -d: -f1)
	s=$(grep -n 'STATUS=dataplane: delivering' "$work/notify.txt" | cut -d: -f1)
	[ -n "$r" ] && [ -n "$s" ] && [ "$r" -lt "$s" ]
}
check "dataplane: READY before STOPPING" order
[ "$fail" = 0 ] || cat "$work/notify.txt"

# SIGHUP: ignored by the dataplane
conf=$work/hup.conf
printf 'control_socket = %s\n' "$work/none.sock" > "$conf"
"$build/dataplane/postern-dataplane" -c "$conf" --pcap "$top/tests/pcap/demo/input.pcap" \
	--wait-rules 0 --exit-idle 5000 -- --no-pci "--file-prefix=pst-hup-$$" 2> "$work/hup.log" &
dp=$!
for _ in $(seq 100); do grep -q ready "$work/hup.log" && break; sleep 0.05; done
kill -HUP "$dp"
sleep 0.5
check "a SIGHUP does not end the dataplane" kill -0 "$dp"
kill "$dp" 2> /dev/null
wait "$dp"
check "... which stops cleanly on SIGTERM afterwards" test $? = 0

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
