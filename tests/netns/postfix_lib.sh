# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# A real, private Postfix for end-to-end tests; source it after tests/netns/lib.sh.
# postfix_start builds a complete instance under a directory of the test (DIR/etc with main.cf
# and master.cf written from scratch, DIR/queue, DIR/data, Maildirs under DIR/mail, log in
# DIR/maillog) and runs its master inside a test namespace, listening only on IP:25. It
# accepts mail from mynetworks (127.0.0.0/8 and 10.98.0.0/24 unless POSTFIX_MYNETWORKS says
# otherwise) for the virtual domains customer.example and corp.example, delivers each listed
# recipient to DIR/mail/<domain>/<localpart>/ (Maildir, Postfix's own virtual agent), refuses
# unlisted users (550 5.1.1) and every other domain (554 5.7.1, no relaying), and never sends
# mail anywhere (default, relay and local transports are "error", no relayhost, no DNS).
# It does not use the machine's Postfix configuration, queue, syslog or port 25. The master
# is started directly (`setsid master -c DIR/etc -d`), not through `postfix start`: that runs
# postfix-script, which runs post-install and check-warn against the shared meta_directory
# (/etc/postfix) and reads the default main.cf. As root, `master -c` needs no
# alternate_config_directories entry (Postfix asks for one only from unprivileged callers).
# -d keeps the master in the foreground, so the PID that netns_track records is the master's
# own (no pid-file race) and `wait` reaps it; setsid makes it a session leader, so its
# SIGTERM reaches every process of the instance and nothing else. Logging goes to DIR/maillog
# through postlogd (maillog_file, Postfix >= 3.4), never to the system's syslog; the master's
# own fatal errors before postlogd runs reach no log, so a failed start is diagnosed with
# postmap reading the same main.cf. Queue, data and Maildir ownership is set up here.
POSTFIX_DAEMON_DIR=${POSTFIX_DAEMON_DIR:-$(postconf -dh daemon_directory 2>/dev/null)}
POSTFIX_USER=${POSTFIX_USER:-postfix}
POSTFIX_GROUP_DROP=${POSTFIX_GROUP_DROP:-postdrop}
POSTFIX_MYNETWORKS=${POSTFIX_MYNETWORKS:-127.0.0.0/8 10.98.0.0/24}
POSTFIX_DOMAINS=(customer.example corp.example)
# Mailboxes every instance has; add more with POSTFIX_MAILBOXES="a@corp.example ..." or
# postfix_start arguments (addresses), or postfix_add_mailbox before postfix_start.
POSTFIX_DEFAULT_MAILBOXES="postmaster@customer.example postmaster@corp.example
	alice@customer.example bob@customer.example carol@customer.example dave@customer.example
	alice@corp.example bob@corp.example carol@corp.example dave@corp.example
	optedout@customer.example optout@customer.example clean@customer.example
	ops@corp.example deals@corp.example app@corp.example"
declare -A POSTFIX_MASTER_PID=()   # DIR -> master PID

postfix_log() {
	echo "postfix: $*" >&2
}

# Print the last lines of the instance's logs (after a failure).
postfix_show_log() {
	local dir=$1 f
	for f in "$dir/maillog" "$dir/master.out"; do
		[ -s "$f" ] || continue
		echo "---- last lines of $f" >&2
		tail -n 20 "$f" | sed 's/^/    /' >&2
	done
}

# postfix_add_mailbox DIR ADDR: add a recipient to the mailbox table (before postfix_start,
# or followed by a restart). ADDR must be local@customer.example or local@corp.example with a
# local part of [a-z0-9._+-] not starting with a dot, so that it names a path under DIR/mail.
postfix_add_mailbox() {
	local dir=$1 addr=${2,,}
	[[ $addr =~ ^[a-z0-9_+-][a-z0-9._+-]*@(customer|corp)\.example$ ]] ||
		{ postfix_log "cannot add mailbox '$2' (local@customer.example or local@corp.example)"; return 1; }
	mkdir -p "$dir/etc" || return 1
	grep -qs "^$addr " "$dir/etc/vmailbox" ||
		printf '%s %s/%s/\n' "$addr" "${addr#*@}" "${addr%@*}" >>"$dir/etc/vmailbox"
}

# postfix_write_config DIR IP [NAME=VALUE...]: main.cf, master.cf and the mailbox table.
postfix_write_config() {
	local dir=$1 ip=$2 uid gid kv a name
	shift 2
	uid=$(id -u "$POSTFIX_USER") && gid=$(id -g "$POSTFIX_USER") || return 1
	# One Maildir (trailing slash) per listed recipient. The virtual delivery agent refuses
	# regexp substitution in mailbox paths (DICT_FLAG_NO_REGSUB), so the table lists each
	# address; texthash is read as text, no postmap needed. Unlisted local parts of the two
	# domains are rejected at RCPT (550 User unknown in virtual mailbox table).
	for a in $POSTFIX_DEFAULT_MAILBOXES ${POSTFIX_MAILBOXES:-}; do
		postfix_add_mailbox "$dir" "$a" || return 1
	done
	for a in "$@"; do
		case $a in
		*=*) ;;
		*) postfix_add_mailbox "$dir" "$a" || return 1 ;;
		esac
	done
	cat >"$dir/etc/main.cf" <<-EOF
		# Private test instance written by postfix_lib.sh; see that file.
		compatibility_level = 3.6
		queue_directory = $dir/queue
		data_directory = $dir/data
		mail_owner = $POSTFIX_USER
		setgid_group = $POSTFIX_GROUP_DROP
		syslog_name = postfix-test
		maillog_file = $dir/maillog
		maillog_file_prefixes = $dir
		myhostname = relay.corp.example
		mydomain = corp.example
		myorigin = \$myhostname
		smtpd_banner = \$myhostname ESMTP Postfix (Postern test)
		inet_interfaces = $ip
		inet_protocols = ipv4
		mynetworks = $POSTFIX_MYNETWORKS
		mydestination =
		local_recipient_maps =
		alias_maps =
		alias_database =
		relay_domains =
		relayhost =
		default_transport = error:outbound delivery disabled in the test instance
		relay_transport = error:outbound delivery disabled in the test instance
		local_transport = error:local delivery disabled in the test instance
		virtual_mailbox_domains = ${POSTFIX_DOMAINS[*]}
		virtual_mailbox_base = $dir/mail
		virtual_mailbox_maps = texthash:$dir/etc/vmailbox
		virtual_uid_maps = static:$uid
		virtual_gid_maps = static:$gid
		virtual_minimum_uid = 1
		smtp_dns_support_level = disabled
		lmtp_dns_support_level = disabled
		smtpd_peername_lookup = no
		smtpd_client_restrictions = permit_mynetworks, reject
		smtpd_helo_restrictions =
		smtpd_sender_restrictions =
		smtpd_relay_restrictions = reject_unauth_destination
		smtpd_recipient_restrictions = permit
		smtpd_reject_unlisted_recipient = yes
		smtputf8_enable = no
		message_size_limit = 52428800
		virtual_mailbox_limit = 104857600
		mailbox_size_limit = 0
		queue_run_delay = 1s
		minimal_backoff_time = 1s
		maximal_backoff_time = 5s
		in_flow_delay = 0
		address_verify_map =
		biff = no
		EOF
	# A NAME=VALUE argument replaces the line of NAME (postconf warns about duplicates).
	for kv in "$@"; do
		case $kv in
		*=*)
			name=${kv%%=*}
			name=${name// /}
			grep -v "^$name = " "$dir/etc/main.cf" >"$dir/etc/main.cf.new" &&
				printf '%s = %s\n' "$name" "${kv#*=}" >>"$dir/etc/main.cf.new" &&
				mv "$dir/etc/main.cf.new" "$dir/etc/main.cf" || return 1
			;;
		esac
	done
	# No chroot anywhere (column 5 "n"): the instance's paths are absolute and private.
	cat >"$dir/etc/master.cf" <<-'EOF'
		# service type  private unpriv  chroot  wakeup  maxproc command
		smtp      inet  n       -       n       -       -       smtpd
		pickup    unix  n       -       n       60      1       pickup
		cleanup   unix  n       -       n       -       0       cleanup
		qmgr      unix  n       -       n       300     1       qmgr
		rewrite   unix  -       -       n       -       -       trivial-rewrite
		bounce    unix  -       -       n       -       0       bounce
		defer     unix  -       -       n       -       0       bounce
		trace     unix  -       -       n       -       0       bounce
		verify    unix  -       -       n       -       1       verify
		flush     unix  n       -       n       1000?   0       flush
		proxymap  unix  -       -       n       -       -       proxymap
		showq     unix  n       -       n       -       -       showq
		error     unix  -       -       n       -       -       error
		retry     unix  -       -       n       -       -       error
		discard   unix  -       -       n       -       -       discard
		virtual   unix  -       n       n       -       -       virtual
		anvil     unix  -       -       n       -       1       anvil
		scache    unix  -       -       n       -       1       scache
		postlog   unix-dgram n  -       n       -       1       postlogd
	EOF
}

# postfix_as_user CMD ARGS...: run CMD as the postfix user (reachability checks).
postfix_as_user() {
	setpriv --reuid="$POSTFIX_USER" --regid="$POSTFIX_USER" --clear-groups -- "$@"
}

# postfix_open_path DIR: the postfix user must reach DIR (the master takes its lock in
# data_directory as that user, virtual delivers and postlogd writes as that user). DIR and
# its ancestors inside a netns_mktemp directory get search permission (a+x, not read); any
# other ancestor that blocks the user is an error for the caller to fix.
postfix_open_path() {
	local dir=$1 p t
	p=$dir
	while [ -n "$p" ] && [ "$p" != / ]; do
		for t in "${NETNS_TMPDIRS[@]}"; do
			case $p/ in
			"$t"/*) chmod a+x "$p" || return 1 ;;
			esac
		done
		p=${p%/*}
	done
	postfix_as_user test -x "$dir" ||
		{ postfix_log "user $POSTFIX_USER cannot reach $dir (an ancestor is not searchable)"; return 1; }
}

# postfix_make_dirs DIR: the directory tree with the ownership Postfix insists on
# (postfix-files: queue and pid root 755, queue subdirectories postfix 700, maildrop and
# public group postdrop).
postfix_make_dirs() {
	local dir=$1 d
	chmod 755 "$dir" && postfix_open_path "$dir" || return 1
	mkdir -p "$dir/etc" "$dir/queue/pid" "$dir/data" "$dir/mail" || return 1
	chown root:root "$dir/etc" "$dir/queue" "$dir/queue/pid" &&
		chmod 755 "$dir/etc" "$dir/queue" "$dir/queue/pid" || return 1
	for d in active bounce corrupt defer deferred flush hold incoming private saved trace; do
		install -d -o "$POSTFIX_USER" -m 700 "$dir/queue/$d" || return 1
	done
	install -d -o "$POSTFIX_USER" -g "$POSTFIX_GROUP_DROP" -m 730 "$dir/queue/maildrop" &&
		install -d -o "$POSTFIX_USER" -g "$POSTFIX_GROUP_DROP" -m 710 "$dir/queue/public" &&
		install -d -o "$POSTFIX_USER" -m 700 "$dir/data" &&
		install -d -o "$POSTFIX_USER" -g "$(id -g "$POSTFIX_USER")" -m 755 "$dir/mail"
}

# postfix_start NS IP DIR [ADDR | NAME=VALUE]...: build the instance under DIR (an existing
# directory, normally from netns_mktemp), start its master inside NS listening on IP:25,
# wait until it listens, and record the master's PID with netns_track. ADDR arguments add
# mailboxes; NAME=VALUE arguments set main.cf parameters (replacing ours). Do not call it
# inside $(...): the PID record would be lost with the subshell.
postfix_start() {
	local ns=$1 ip=$2 dir=$3 pid deadline
	shift 3
	[ -d "$dir" ] || { postfix_log "no directory $dir"; return 1; }
	[ -x "$POSTFIX_DAEMON_DIR/master" ] ||
		{ postfix_log "Postfix master not found in '$POSTFIX_DAEMON_DIR'"; return 1; }
	id "$POSTFIX_USER" >/dev/null 2>&1 || { postfix_log "no user $POSTFIX_USER"; return 1; }
	# Pre-flight checks: the master dies silently (its early errors reach no log) when its
	# address is missing or taken.
	ip -n "$ns" -4 -o addr show 2>/dev/null | grep -q " inet $ip/" ||
		{ postfix_log "address $ip is not configured in namespace $ns"; return 1; }
	! netns_listening "$ns" 25 || { postfix_log "port 25 is already in use in $ns"; return 1; }
	postfix_make_dirs "$dir" || { postfix_log "cannot create the directories under $dir"; return 1; }
	postfix_write_config "$dir" "$ip" "$@" || { postfix_log "cannot write $dir/etc"; return 1; }
	: >"$dir/maillog"
	if ! postconf -n -c "$dir/etc" >/dev/null 2>"$dir/postconf.err" || [ -s "$dir/postconf.err" ]; then
		postfix_log "postconf rejects $dir/etc/main.cf:"
		sed 's/^/    /' "$dir/postconf.err" >&2
		return 1
	fi
	# master -d does not call setsid(); setsid(1) does, and execs without forking because a
	# background job of a non-interactive shell is not a process group leader. The master
	# then leads its own session and process group: its SIGTERM handler signals that group
	# (the whole instance), and postfix_stop finds every process of the instance by session.
	ip netns exec "$ns" setsid "$POSTFIX_DAEMON_DIR/master" -c "$dir/etc" -d \
		</dev/null >"$dir/master.out" 2>&1 &
	pid=$!
	netns_track "$pid"
	POSTFIX_MASTER_PID[$dir]=$pid
	deadline=$((SECONDS + 15))
	while ! postfix_started "$ns" "$ip"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			postfix_log "Postfix master (pid $pid) exited during start-up (status $?)"
			postfix_show_log "$dir"
			# The master's fatal errors before postlogd runs reach no log; postmap
			# reads the same main.cf in the same namespace and reports to stderr.
			ip netns exec "$ns" postmap -c "$dir/etc" -q postmaster@corp.example \
				"texthash:$dir/etc/vmailbox" 2>&1 >/dev/null | sed 's/^/    /' >&2
			return 1
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			postfix_log "Postfix (master pid $pid) does not listen on $ip:25 in $ns after 15 s"
			postfix_show_log "$dir"
			return 1
		fi
		sleep 0.1
	done
	if [ "$(ps -o sid= -p "$pid" | tr -d ' ')" != "$pid" ] ||
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" != master ]; then
		postfix_log "pid $pid is not a Postfix master leading its own session"
		return 1
	fi
	postfix_log "listening on $ip:25 in $ns (master pid $pid, $dir)"
}

# postfix_started NS IP: something listens on IP:25 in NS.
postfix_started() {
	ip netns exec "$1" ss -Hltn "src = $2 and sport = :25" 2>/dev/null | grep -q .
}

# postfix_pid DIR: the master's PID (empty when not started by postfix_start).
postfix_pid() {
	echo "${POSTFIX_MASTER_PID[$1]:-}"
}

# postfix_procs PID: PIDs of the live processes in the session that master PID leads (the
# whole instance; postfix_start checked that the master is a session leader). Zombies are
# left out: children that died with the master wait for init to reap them, which here can
# take seconds, and they hold nothing (no socket, no namespace).
postfix_procs() {
	ps -e -o pid=,sid=,stat= 2>/dev/null | awk -v s="$1" '$2 == s && $3 !~ /^Z/ { print $1 }'
}

# postfix_stop DIR: SIGTERM to the master (it passes it on to its session), then wait until
# no process of the instance is left; stragglers get SIGKILL by PID. 0 when all are gone.
postfix_stop() {
	local dir=$1 pid p
	pid=${POSTFIX_MASTER_PID[$dir]:-}
	[ -n "$pid" ] || { postfix_log "no Postfix started in $dir"; return 1; }
	netns_stop_pid "$pid"
	for _ in $(seq 50); do
		[ -z "$(postfix_procs "$pid")" ] && break
		sleep 0.1
	done
	for p in $(postfix_procs "$pid"); do
		postfix_log "pid $p of the instance still running, sending SIGKILL"
		kill -KILL "$p" 2>/dev/null
	done
	unset "POSTFIX_MASTER_PID[$dir]"
	sleep 0.1
	[ -z "$(postfix_procs "$pid")" ]
}

# postfix_maildir DIR ADDR: the Maildir of ADDR (lowercase, as the mailbox table writes it).
postfix_maildir() {
	local addr=${2,,}
	echo "$1/mail/${addr#*@}/${addr%@*}"
}

# postfix_mailbox_files DIR ADDR: delivered messages of ADDR, one path a line, oldest first.
postfix_mailbox_files() {
	local md
	md=$(postfix_maildir "$1" "$2")
	[ -d "$md" ] || return 0
	find "$md/new" "$md/cur" -type f -printf '%T@ %p\n' 2>/dev/null | sort -n | cut -d' ' -f2-
}

# postfix_mailbox_count DIR ADDR: number of delivered messages of ADDR.
postfix_mailbox_count() {
	postfix_mailbox_files "$1" "$2" | grep -c .
}

# postfix_wait_delivered DIR ADDR N SECONDS: wait until ADDR has at least N messages.
postfix_wait_delivered() {
	local deadline=$((SECONDS + $4))
	while [ "$(postfix_mailbox_count "$1" "$2")" -lt "$3" ]; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# postfix_queue_empty DIR: true when no message is queued (incoming, active, deferred, hold).
postfix_queue_empty() {
	local q=$1/queue
	[ -z "$(find "$q/incoming" "$q/active" "$q/deferred" "$q/hold" -type f 2>/dev/null)" ]
}
