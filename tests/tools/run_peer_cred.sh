#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# posternd serves its control sockets to root and its own user only (SO_PEERCRED), even when
# a socket file's mode is opened up by mistake: with both sockets made 0666, `posternctl
# stats` run as nobody gets no answer and a dataplane-link connection from nobody is closed;
# each is counted (cli_refused, dataplanes_refused) and root is still served. The alert
# socket goes to alert_socket_group: its members may subscribe, others not. Root only (exit
# 77 otherwise).
#
#   tests/tools/run_peer_cred.sh [--build DIR]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build"
[ "${1:-}" = --build ] && build=$2
py=/usr/bin/python3

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (to act as another user)"; exit 77; }
command -v setpriv > /dev/null || { echo "SKIP: setpriv (util-linux) missing"; exit 77; }

# shellcheck source=../check.sh
source "$top/tests/check.sh"

work=$(mktemp -d /tmp/postern-peer-cred.XXXXXX)
cleanup() {
	stop_started
	rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
{ postern_conf "$work"; echo "alert_socket_group = nogroup"; } > "$work/postern.conf"
chmod 644 "$work/postern.conf"
start_posternd "$work/postern.conf" "$work/posternd.log" || { echo "0 passed, 1 failed"; exit 1; }
pid=$posternd_pid
chmod 666 "$work/cli.sock" "$work/dp.sock" # a mistake an operator could make

as_nobody() { setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; }
stat_of() {
	"$build/tools/posternctl" -c "$work/postern.conf" stats --json |
		"$py" -c "import json,sys; print(json.load(sys.stdin)['posternd'].get('$1'))"
}

check "root is served" "$build/tools/posternctl" -c "$work/postern.conf" stats --json \
	> /dev/null
out=$(as_nobody "$build/tools/posternctl" -c "$work/postern.conf" stats --json 2>&1)
check "posternctl as nobody gets no stats" test -z "$(grep -o '"posternd"' <<< "$out")"
check "the refused request is counted" test "$(stat_of cli_refused)" = 1
as_nobody "$py" - "$work/dp.sock" << 'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
time.sleep(0.3)
s.settimeout(2)
try:
    closed = s.recv(64) == b""
except OSError:
    closed = True
sys.exit(0 if closed else 1)
EOF
check "a dataplane-link connection from nobody is closed" test $? = 0
check "... and counted, no dataplane connected" \
	test "$(stat_of dataplanes_refused) $(stat_of dataplanes_connected)" = "1 0"
check "posternd still runs" kill -0 "$pid"
grep -q 'refused a request from uid 65534' "$work/posternd.log"
check "posternd logged the refused request with its uid" test $? = 0

# The alert socket (0660) belongs to alert_socket_group: a member may subscribe, another
# account may not.
check "the alert socket is 0660, group nogroup" \
	test "$(stat -c '%a %G' "$work/alerts.sock")" = "660 nogroup"
subscribe_as() { # GID: 0 when a subscriber running as nobody with that group connects
	setpriv --reuid 65534 --regid "$1" --clear-groups "$py" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1])
except OSError:
    sys.exit(1)' "$work/alerts.sock"
}
check "a member of nogroup subscribes" subscribe_as "$(getent group nogroup | cut -d: -f3)"
check "an account outside it cannot" test "$(subscribe_as "$(getent group daemon |
	cut -d: -f3)"; echo $?)" = 1

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
