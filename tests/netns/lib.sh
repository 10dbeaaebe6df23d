# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# Helpers for end-to-end tests in network namespaces; source it from a bash test script.
# netns_setup builds a private two-namespace topology named after the test's PID
# (pst-$$-c and pst-$$-s): client 10.98.0.1/24 on veth-c <-> server 10.98.0.2/24 on veth-s,
# both veth ends created directly inside the namespaces (nothing is ever added to the host's
# namespace), checksum/segmentation offloads off so that a capture on either end sees the
# packets as they are on a wire, lo up in both. It installs netns_cleanup as the EXIT trap:
# the cleanup stops only the processes the test recorded (netns_spawn / netns_track, by PID,
# never by name), deletes the namespaces and the recorded temporary directories.
# netns_setup_inline builds the three-namespace variant of it (a bridge namespace between the
# two hosts, see there). It does not route anywhere: the namespaces have no default route and
# no link outside. Tests exit 77 (skip) through netns_skip when the machine cannot run them.
# It also holds what every test repeats otherwise: the options (netns_option), the reporting
# (pass, fail, note, measure, show_log, tally, still_running, finish, fatal; N_PASS/N_FAIL),
# and Postern's configuration and processes (postern_write_conf, postern_start_posternd,
# postern_start_subscriber, postern_start_dataplane; their PIDs in POSTERND_PID, SUB_PID,
# DP_PID).

NETNS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)  # the repository
NETNS_PREFIX="pst-$$-"
CLIENT_NS="${NETNS_PREFIX}c"
SERVER_NS="${NETNS_PREFIX}s"
CLIENT_IF=veth-c
SERVER_IF=veth-s
CLIENT_IP=10.98.0.1
SERVER_IP=10.98.0.2
NETNS_PLEN=24
# netns_setup_inline: the bridge namespace and its two ports, towards the client and the server.
BRIDGE_NS="${NETNS_PREFIX}b"
PORT_A=veth-a
PORT_B=veth-b

NETNS_PIDS=()        # processes this test started, stopped in reverse order
NETNS_CREATED=()     # namespaces this test created
NETNS_TMPDIRS=()     # directories removed at exit (unless NETNS_KEEP=1)
NETNS_LAST_PID=

netns_log() {
	echo "netns: $*" >&2
}

netns_skip() {
	echo "SKIP: $*"
	exit 77
}

# Skip unless we are root, `ip netns` works, and every named command exists.
netns_require() {
	local c
	[ "$(id -u)" -eq 0 ] || netns_skip "needs root (network namespaces)"
	command -v ip >/dev/null 2>&1 || netns_skip "ip (iproute2) not installed"
	ip netns list >/dev/null 2>&1 || netns_skip "'ip netns' unavailable here"
	for c in ethtool "$@"; do
		command -v "$c" >/dev/null 2>&1 || netns_skip "$c not installed (run scripts/setup)"
	done
}

# Record a PID started by the test so that netns_cleanup stops it.
netns_track() {
	NETNS_PIDS+=("$1")
}

# netns_spawn NS CMD ARGS...: run CMD in the background inside NS (the caller redirects its
# output), record its PID and leave it in NETNS_LAST_PID. `ip netns exec` execs CMD, so the
# PID is CMD's own. Do not call it inside $(...): the record would be lost with the subshell.
netns_spawn() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	NETNS_LAST_PID=$!
	netns_track "$NETNS_LAST_PID"
}

# netns_mktemp VAR: make a temporary directory, removed at exit, and store its path in VAR
# (not echoed: a $(...) subshell would lose the record).
netns_mktemp() {
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/${NETNS_PREFIX}XXXXXX") || return 1
	NETNS_TMPDIRS+=("$d")
	printf -v "$1" '%s' "$d"
}

# Stop one recorded process: TERM, up to 5 s to exit, then KILL.
netns_stop_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		netns_log "pid $pid ignored SIGTERM, sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

netns_cleanup() {
	local rc=$? i ns pid d
	trap - EXIT INT TERM
	for ((i = ${#NETNS_PIDS[@]} - 1; i >= 0; i--)); do
		netns_stop_pid "${NETNS_PIDS[i]}"
	done
	for ns in "${NETNS_CREATED[@]}"; do
		# Anything still inside a namespace this test created and named after its own PID
		# was started by this test (a child of a recorded process): stop it by PID.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			netns_log "stopping leftover pid $pid in $ns"
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null || netns_log "could not delete namespace $ns"
	done
	if [ "${NETNS_KEEP:-0}" = 1 ]; then
		[ ${#NETNS_TMPDIRS[@]} -eq 0 ] || netns_log "kept ${NETNS_TMPDIRS[*]}"
	else
		for d in "${NETNS_TMPDIRS[@]}"; do
			rm -rf -- "$d"
		done
	fi
	exit "$rc"
}

# netns_traps: netns_cleanup at exit, and an exit on INT and TERM so that it runs then too.
netns_traps() {
	trap netns_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# netns_add NS...: create each namespace (skip the test when that is not possible), record it
# for netns_cleanup, lo up, IPv6 off (no autoconfiguration chatter on the test links).
netns_add() {
	local ns
	for ns in "$@"; do
		ip netns add "$ns" 2>/dev/null || netns_skip "cannot create network namespace $ns"
		NETNS_CREATED+=("$ns")
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
	done
}

# netns_no_offload NS:IF...: checksum and segmentation offloads off, so that every frame is a
# real wire-sized frame with a correct checksum.
netns_no_offload() {
	local ifc
	for ifc in "$@"; do
		ip netns exec "${ifc%%:*}" ethtool -K "${ifc#*:}" tx off tso off gso off gro off \
			>/dev/null || { netns_log "ethtool -K failed on ${ifc#*:}"; return 1; }
	done
}

# netns_links_up NS:IF...: set each link up, then wait (5 s each) until each has carrier.
netns_links_up() {
	local ifc
	for ifc in "$@"; do
		ip -n "${ifc%%:*}" link set "${ifc#*:}" up || return 1
	done
	for ifc in "$@"; do
		netns_wait 5 netns_link_up "${ifc%%:*}" "${ifc#*:}" ||
			{ netns_log "link ${ifc#*:} in ${ifc%%:*} did not come up"; return 1; }
	done
}

netns_setup() {
	netns_traps
	netns_add "$CLIENT_NS" "$SERVER_NS"
	ip -n "$CLIENT_NS" link add "$CLIENT_IF" type veth peer name "$SERVER_IF" netns "$SERVER_NS" ||
		{ netns_log "cannot create the veth pair"; return 1; }
	ip -n "$CLIENT_NS" addr add "$CLIENT_IP/$NETNS_PLEN" dev "$CLIENT_IF"
	ip -n "$SERVER_NS" addr add "$SERVER_IP/$NETNS_PLEN" dev "$SERVER_IF"
	netns_no_offload "$CLIENT_NS:$CLIENT_IF" "$SERVER_NS:$SERVER_IF" || return 1
	if ! netns_links_up "$CLIENT_NS:$CLIENT_IF" "$SERVER_NS:$SERVER_IF"; then
		netns_log "veth link between $CLIENT_NS and $SERVER_NS did not come up"
		return 1
	fi
	netns_log "topology up: $CLIENT_NS/$CLIENT_IF $CLIENT_IP <-> $SERVER_NS/$SERVER_IF $SERVER_IP"
}

# netns_setup_inline [--bridge]: three namespaces, named after the test's PID too: the client
# (CLIENT_IP on CLIENT_IF) <-> the bridge namespace BRIDGE_NS (PORT_A towards the client,
# PORT_B towards the server, no IP, IPv6 off) <-> the server (SERVER_IP on SERVER_IF).
# Without --bridge nothing links the two ports (the dataplane under test is the only path)
# and all four ends have their offloads off: the dataplane reads and writes frames as they are
# (af_packet), and an end that left checksums to "hardware" or glued segments together (GRO)
# would hand it what no wire carries. With --bridge both ports are in a kernel bridge br0 and
# keep their default offloads (native XDP on veth needs nothing of the peer for XDP_PASS and
# XSK redirect); only the two hosts' ends have them off. Installs netns_cleanup as netns_setup
# does; 1 when a step fails.
netns_setup_inline() {
	local bridge=0 ends
	[ "${1:-}" = --bridge ] && bridge=1
	netns_traps
	netns_add "$CLIENT_NS" "$BRIDGE_NS" "$SERVER_NS"
	ip -n "$CLIENT_NS" link add "$CLIENT_IF" type veth peer name "$PORT_A" netns "$BRIDGE_NS" &&
		ip -n "$SERVER_NS" link add "$SERVER_IF" type veth peer name "$PORT_B" netns "$BRIDGE_NS" ||
		return 1
	if [ $bridge = 1 ]; then
		ip -n "$BRIDGE_NS" link add br0 type bridge &&
			ip -n "$BRIDGE_NS" link set "$PORT_A" master br0 &&
			ip -n "$BRIDGE_NS" link set "$PORT_B" master br0 || return 1
	fi
	ip -n "$CLIENT_NS" addr add "$CLIENT_IP/$NETNS_PLEN" dev "$CLIENT_IF" &&
		ip -n "$SERVER_NS" addr add "$SERVER_IP/$NETNS_PLEN" dev "$SERVER_IF" || return 1
	ends=("$CLIENT_NS:$CLIENT_IF" "$SERVER_NS:$SERVER_IF")
	if [ $bridge = 1 ]; then
		netns_no_offload "${ends[@]}" || return 1
		ip -n "$BRIDGE_NS" link set br0 up || return 1
	else
		netns_no_offload "${ends[@]}" "$BRIDGE_NS:$PORT_A" "$BRIDGE_NS:$PORT_B" || return 1
	fi
	netns_links_up "$BRIDGE_NS:$PORT_A" "$BRIDGE_NS:$PORT_B" "${ends[@]}"
}

# netns_wait SECONDS CMD ARGS...: run CMD every 0.2 s until it succeeds; 1 on timeout.
netns_wait() {
	local deadline=$((SECONDS + $1))
	shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

# netns_link_up NS IF: true when IF inside NS has carrier (both veth ends up).
netns_link_up() {
	ip -n "$1" link show dev "$2" 2>/dev/null | grep -q 'LOWER_UP'
}

# netns_listening NS PORT: true when something listens on TCP PORT inside NS (sends nothing).
netns_listening() {
	ip netns exec "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q .
}

# ------------------------------------------------------------------- options

# netns_usage: the script's "# Usage:" comment block, up to its "# Prints" line.
netns_usage() {
	sed -n '/^# Usage:/,/^# Prints/p' "$0" | sed 's/^# \{0,1\}//'
}

# netns_option ARGS...: take the first of ARGS if it is an option every test has (--build DIR,
# --build=DIR: BUILD; --keep: NETNS_KEEP=1; -h, --help: usage, exit 0); anything else is a
# usage error (exit 2). Leaves in NETNS_OPT_SHIFT how many arguments it took.
# shellcheck disable=SC2034 # NETNS_OPT_SHIFT and BUILD are the caller's
netns_option() {
	NETNS_OPT_SHIFT=1
	case $1 in
	--build) BUILD=${2:?--build needs a directory}; NETNS_OPT_SHIFT=2 ;;
	--build=*) BUILD=${1#--build=} ;;
	--keep) NETNS_KEEP=1 ;;
	-h | --help) netns_usage; exit 0 ;;
	*) echo "unknown option: $1" >&2; netns_usage >&2; exit 2 ;;
	esac
}

# netns_options ARGS...: netns_option over all of ARGS (a test with no option of its own).
netns_options() {
	while [ $# -gt 0 ]; do
		netns_option "$@"
		shift "$NETNS_OPT_SHIFT"
	done
}

# ------------------------------------------------------------------- reporting

# Every check prints one "PASS: " or "FAIL: " line; finish prints "N passed, N failed" and
# exits 0 (no failure) or 1. A test may set FINISH_HOOK to a command that finish runs first
# (a last "measure:" line), and FINISH_T0 to the $SECONDS it started at, for a summary line
# that ends with "(test took N s)".
N_PASS=0
N_FAIL=0
FINISH_HOOK=
FINISH_T0=
# Print at most this many characters of each log line in show_log (empty: whole lines).
SHOW_LOG_WIDTH=

pass() { echo "PASS: $*"; N_PASS=$((N_PASS + 1)); }
fail() { echo "FAIL: $*"; N_FAIL=$((N_FAIL + 1)); }
note() { echo "note: $*"; }
measure() { echo "measure: $*"; }

# show_log FILE: the tail of a log after a failure, to make CI output self-explaining.
show_log() {
	[ -s "$1" ] || return 0
	echo "---- last lines of $(basename "$1")"
	tail -n 20 "$1" | cut -c"1-$SHOW_LOG_WIDTH" | sed 's/^/    /'
}

# tally TEXT: print the output of a checker (a Python heredoc) and count its PASS/FAIL lines.
tally() {
	echo "$1"
	N_PASS=$((N_PASS + $(grep -c '^PASS: ' <<<"$1")))
	N_FAIL=$((N_FAIL + $(grep -c '^FAIL: ' <<<"$1")))
}

# tally_checker RC TEXT LOG...: tally TEXT, the output of a checker that exited with RC; when
# RC is not 0, a failure if TEXT has none (the checker crashed) and the tail of every LOG.
tally_checker() {
	local rc=$1 out=$2 log
	shift 2
	tally "$out"
	[ "$rc" -eq 0 ] && return 0
	grep -q '^FAIL: ' <<<"$out" || fail "alert checker crashed (exit $rc)"
	for log in "$@"; do
		show_log "$log"
	done
}

# still_running [-p PREFIX] NAME:PID...: one check per process, that it did not die.
still_running() {
	local prefix='' p
	[ "$1" = -p ] && { prefix=$2; shift 2; }
	for p in "$@"; do
		if kill -0 "${p##*:}" 2>/dev/null; then
			pass "$prefix${p%:*} still running"
		else
			fail "$prefix${p%:*} exited during the test"
		fi
	done
}

finish() {
	[ -z "$FINISH_HOOK" ] || $FINISH_HOOK
	if [ -n "$FINISH_T0" ]; then
		echo "$N_PASS passed, $N_FAIL failed (test took $((SECONDS - FINISH_T0)) s)"
	else
		echo "$N_PASS passed, $N_FAIL failed"
	fi
	[ "$N_FAIL" -eq 0 ] && exit 0
	exit 1
}

# A step whose failure makes the rest meaningless: report, summarize, stop.
fatal() {
	fail "$*"
	finish
}

# ------------------------------------------------------------------- Postern

POSTERND_PID=
POSTERND_LOG=
SUB_PID=
DP_PID=
# How long postern_start_dataplane waits for "ready".
DP_READY_SECONDS=60

# postern_binaries DIR [ON_MISSING]: POSTERND, POSTERNCTL and DATAPLANE from the build
# directory DIR; ON_MISSING (fatal unless given, netns_skip for a skip) when one is not built.
postern_binaries() {
	local b on_missing=${2:-fatal}
	POSTERND=$1/control/posternd
	POSTERNCTL=$1/tools/posternctl
	DATAPLANE=$1/dataplane/postern-dataplane
	for b in "$POSTERND" "$POSTERNCTL" "$DATAPLANE"; do
		[ -x "$b" ] || "$on_missing" "$b not built (build first, or pass --build DIR)"
	done
}

# postern_conf_get CONF KEY: the value of KEY in the configuration file CONF (the last one).
postern_conf_get() {
	sed -n "s/^$2 *= *//p" "$1" | tail -n 1
}

# postern_write_conf CONF DIR RULES...: the configuration every test starts from, in CONF:
# posternd's sockets, the suppression database (created) and the EVE file under DIR, the rule
# packs RULES and the repository's classification. A test appends its own settings.
postern_write_conf() {
	local conf=$1 dir=$2
	shift 2
	mkdir -p "$dir/suppress.lmdb" || return 1
	cat >"$conf" <<-EOF
		# written by $(basename "$0")
		control_socket = $dir/control.sock
		alert_socket = $dir/alerts.sock
		cli_socket = $dir/cli.sock
		rules = $*
		classification = $NETNS_ROOT/rules/classification.config
		suppress_db = $dir/suppress.lmdb
		eve_file = $dir/eve.json
	EOF
}

# postern_import_suppress CONF CSV LOG: posternctl suppress import, a check; fatal on failure.
postern_import_suppress() {
	if "$POSTERNCTL" -c "$1" suppress import "$2" >"$3" 2>&1; then
		pass "posternctl suppress import $(basename "$2")"
	else
		show_log "$3"
		fatal "posternctl suppress import failed"
	fi
}

# netns_sockets PATH...: true when every PATH is a Unix socket.
netns_sockets() {
	local s
	for s in "$@"; do
		[ -S "$s" ] || return 1
	done
}

# postern_start_posternd CONF LOG [SOCKET...]: posternd in the host's namespace (its sockets
# are files, reachable from every namespace), output in LOG, PID recorded and in POSTERND_PID.
# A check that it created the control and alert sockets of CONF (and every SOCKET) within
# 15 s; fatal otherwise.
postern_start_posternd() {
	local conf=$1 socks
	POSTERND_LOG=$2
	shift 2
	socks=("$(postern_conf_get "$conf" control_socket)" "$(postern_conf_get "$conf" alert_socket)"
		"$@")
	"$POSTERND" -c "$conf" >"$POSTERND_LOG" 2>&1 &
	POSTERND_PID=$!
	netns_track "$POSTERND_PID"
	if ! netns_wait 15 netns_sockets "${socks[@]}"; then
		show_log "$POSTERND_LOG"
		fatal "posternd did not create its sockets"
	fi
	pass "posternd started (pid $POSTERND_PID)"
}

# postern_start_subscriber CONF OUT ERR: `posternctl alerts` writing every alert to OUT, its
# errors to ERR; PID recorded and in SUB_PID. Fatal when it exits within 0.5 s.
postern_start_subscriber() {
	"$POSTERNCTL" -c "$1" alerts >"$2" 2>"$3" &
	SUB_PID=$!
	netns_track "$SUB_PID"
	sleep 0.5
	kill -0 "$SUB_PID" 2>/dev/null || { show_log "$3"; fatal "posternctl alerts exited"; }
}

# netns_wait_pid PID SECONDS CMD ARGS...: netns_wait, but 1 at once when PID has exited.
netns_wait_pid() {
	local pid=$1 deadline=$((SECONDS + $2))
	shift 2
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

# postern_start_dataplane NS CONF LOG ARGS...: postern-dataplane -c CONF ARGS inside NS, its
# stderr in LOG and stdout beside it (LOG with .out for its extension); PID recorded and in
# DP_PID. 0 once LOG says "ready" (within DP_READY_SECONDS); 1, with the tails of LOG and of
# posternd's log, when it exits first or does not get there.
postern_start_dataplane() {
	local ns=$1 conf=$2 log=$3
	shift 3
	netns_spawn "$ns" "$DATAPLANE" -c "$conf" "$@" </dev/null >"${log%.*}.out" 2>"$log"
	DP_PID=$NETNS_LAST_PID
	netns_wait_pid "$DP_PID" "$DP_READY_SECONDS" grep -q ready "$log" && return 0
	show_log "$log"
	show_log "$POSTERND_LOG"
	return 1
}
