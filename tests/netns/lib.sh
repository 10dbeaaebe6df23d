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
# It does not route anywhere: the namespaces have no default route and no link outside.
# Tests exit 77 (skip) through netns_skip when the machine cannot run them.

NETNS_PREFIX="pst-$$-"
CLIENT_NS="${NETNS_PREFIX}c"
SERVER_NS="${NETNS_PREFIX}s"
CLIENT_IF=veth-c
SERVER_IF=veth-s
CLIENT_IP=10.98.0.1
SERVER_IP=10.98.0.2
NETNS_PLEN=24

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

netns_setup() {
	local ns ifc
	trap netns_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	for ns in "$CLIENT_NS" "$SERVER_NS"; do
		ip netns add "$ns" 2>/dev/null || netns_skip "cannot create network namespace $ns"
		NETNS_CREATED+=("$ns")
		ip -n "$ns" link set lo up
		# No IPv6 autoconfiguration chatter on the test link.
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
	done
	ip -n "$CLIENT_NS" link add "$CLIENT_IF" type veth peer name "$SERVER_IF" netns "$SERVER_NS" ||
		{ netns_log "cannot create the veth pair"; return 1; }
	ip -n "$CLIENT_NS" addr add "$CLIENT_IP/$NETNS_PLEN" dev "$CLIENT_IF"
	ip -n "$SERVER_NS" addr add "$SERVER_IP/$NETNS_PLEN" dev "$SERVER_IF"
	for ifc in "$CLIENT_NS:$CLIENT_IF" "$SERVER_NS:$SERVER_IF"; do
		ns=${ifc%%:*}
		ip netns exec "$ns" ethtool -K "${ifc#*:}" tx off tso off gso off gro off >/dev/null ||
			{ netns_log "ethtool -K failed on ${ifc#*:}"; return 1; }
		ip -n "$ns" link set "${ifc#*:}" up
	done
	if ! netns_wait 5 netns_link_up "$CLIENT_NS" "$CLIENT_IF" ||
		! netns_wait 5 netns_link_up "$SERVER_NS" "$SERVER_IF"; then
		netns_log "veth link between $CLIENT_NS and $SERVER_NS did not come up"
		return 1
	fi
	netns_log "topology up: $CLIENT_NS/$CLIENT_IF $CLIENT_IP <-> $SERVER_NS/$SERVER_IF $SERVER_IP"
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
