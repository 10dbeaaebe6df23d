# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# What the integration scripts under tests/ share: one "PASS: ..." or "FAIL: ..." line per
# check, counted in pass and fail, for the closing "N passed, N failed" line that meson and
# scripts/test read. Source it after setting top; the script prints that line itself.
#   check WHAT CMD ARGS...   run CMD: PASS: WHAT when it succeeds, FAIL: WHAT otherwise
#   tally OUTPUT             print a checker's output and count its PASS:/FAIL: lines

pass=0 fail=0

check() {
	local what=$1
	shift
	if "$@"; then
		echo "PASS: $what"
		pass=$((pass + 1))
	else
		echo "FAIL: $what"
		fail=$((fail + 1))
	fi
}

tally() {
	echo "$1"
	pass=$((pass + $(grep -c '^PASS: ' <<< "$1")))
	fail=$((fail + $(grep -c '^FAIL: ' <<< "$1")))
}

# Scripts that start posternd themselves (rather than through scripts/replay):
#   postern_conf WORK        the configuration they start from, on stdout: posternd's sockets
#                            and suppression set under WORK, the demo pack; append to it
#   start_posternd CONF LOG  posternd in the background (PID in posternd_pid); 0 once its
#                            sockets exist, 1 with its log shown when it exits or is not there
#                            within 10 s
#   stop_started             stop what start_posternd (or a script, adding to `started`)
#                            started: for the script's EXIT trap
started=()
posternd_pid=

postern_conf() {
	cat <<-CONF
		control_socket = $1/dp.sock
		alert_socket = $1/alerts.sock
		cli_socket = $1/cli.sock
		rules = $top/rules/demo.rules
		classification = $top/rules/classification.config
		suppress_db = $1/supp
	CONF
}

start_posternd() {
	local conf=$1 log=$2 dp cli
	dp=$(sed -n 's/^control_socket = //p' "$conf" | tail -n 1)
	cli=$(sed -n 's/^cli_socket = //p' "$conf" | tail -n 1)
	"$build/control/posternd" -c "$conf" 2> "$log" &
	posternd_pid=$!
	started+=("$posternd_pid")
	for _ in $(seq 200); do
		[ -S "$dp" ] && [ -S "$cli" ] && return 0
		kill -0 "$posternd_pid" 2> /dev/null || break
		sleep 0.05
	done
	echo "posternd did not start:"
	cat "$log"
	return 1
}

stop_started() {
	local p
	for p in "${started[@]}"; do
		kill "$p" 2> /dev/null && wait "$p" 2> /dev/null
	done
	return 0
}
