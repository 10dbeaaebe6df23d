# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# A private PostgreSQL server for tests, and the ODBC driver set-up to reach it; source it from
# a bash test script. pg_start DIR makes a cluster in DIR/pg (initdb, as the `postgres` system
# user when run as root, since the server refuses to run as root), listening on a Unix socket
# in DIR/pg only (listen_addresses = '': no TCP, nothing on the network), and starts it with
# pg_ctl -w. The superuser "postgres" logs in without a password over that socket; every other
# role needs its password (scram-sha-256), so that the tests exercise a real login. pg_stop
# stops only the server pg_start started (pg_ctl stop on its own data directory, then its
# postmaster PID if that did not work). odbc_setup DIR writes an odbcinst.ini naming the
# PostgreSQL driver found on this machine as "PostgreSQL Unicode" and points unixODBC at it
# (ODBCSYSINI, ODBCINI): nothing under /etc is read or written. Nothing here is machine-
# specific: the server's programs and the driver are looked up when the script runs.
# Functions return non-zero with a message on stderr; pg_skip_reason says why the machine
# cannot run the server at all (missing packages), for a test to skip rather than fail.

PG_DIR=            # DIR/pg: data directory (data/), socket, log
PG_SOCKDIR=        # where the server's socket is (a Server= value for ODBC)
PG_PORT=5432       # only names the socket file: the directory is private
PG_BIN=            # folder of initdb, pg_ctl, postgres
PG_STARTED=

pg_log() {
	echo "pg: $*" >&2
}

# Folder of the server programs: on PATH, else pg_config's (libpq-dev), else the newest of
# Debian's per-version folders.
pg_find_bin() {
	local d
	if command -v initdb > /dev/null 2>&1 && command -v pg_ctl > /dev/null 2>&1; then
		PG_BIN=$(dirname "$(command -v pg_ctl)")
		return 0
	fi
	if command -v pg_config > /dev/null 2>&1; then
		d=$(pg_config --bindir 2> /dev/null)
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			PG_BIN=$d
			return 0
		fi
	fi
	d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
		PG_BIN=$d
		return 0
	fi
	return 1
}

# The PostgreSQL ODBC driver (Unicode build) as a file: from the package's file list, else
# from the driver manager's own registration.
odbc_find_driver() {
	local so
	if command -v dpkg > /dev/null 2>&1; then
		so=$(dpkg -L odbc-postgresql 2> /dev/null | grep '/psqlodbcw\.so$' | head -n 1)
		if [ -n "$so" ] && [ -f "$so" ]; then
			echo "$so"
			return 0
		fi
	fi
	if command -v odbcinst > /dev/null 2>&1; then
		so=$(odbcinst -q -d -n "PostgreSQL Unicode" 2> /dev/null |
			sed -n 's/^Driver[ \t]*=[ \t]*//p' | head -n 1)
		if [ -n "$so" ]; then
			echo "$so"
			return 0
		fi
	fi
	return 1
}

# Empty when this machine can run the server and reach it through ODBC; else why not.
pg_skip_reason() {
	pg_find_bin || { echo "PostgreSQL server not installed (run scripts/setup)"; return; }
	if ! command -v psql > /dev/null 2>&1; then
		echo "psql not installed (run scripts/setup)"
		return
	fi
	odbc_find_driver > /dev/null || {
		echo "PostgreSQL ODBC driver not installed (run scripts/setup)"
		return
	}
	if [ "$(id -u)" -eq 0 ] && ! id postgres > /dev/null 2>&1; then
		echo "running as root and there is no postgres user to run the server as"
		return
	fi
}

# Run a server program as the user that owns the cluster.
pg_as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# pg_start DIR: a new cluster in DIR/pg, started. DIR must exist; as root it is opened for
# traversal (mode 711) so that the postgres user can reach DIR/pg.
pg_start() {
	local dir=$1
	pg_find_bin || { pg_log "no initdb/pg_ctl found"; return 1; }
	PG_DIR=$dir/pg
	PG_SOCKDIR=$PG_DIR
	mkdir -p "$PG_DIR" || return 1
	if [ "$(id -u)" -eq 0 ]; then
		chmod 711 "$dir" || return 1
		chown postgres: "$PG_DIR" || return 1
	fi
	chmod 755 "$PG_DIR"
	# postgres' own working directory must be one it may enter (not root's home)
	if ! (cd "$PG_DIR" && pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres \
		-A trust -E UTF8 --no-locale > "$PG_DIR/initdb.log" 2>&1); then
		pg_log "initdb failed:"
		cat "$PG_DIR/initdb.log" >&2
		return 1
	fi
	pg_as_owner tee -a "$PG_DIR/data/postgresql.conf" > /dev/null <<EOF
listen_addresses = ''
unix_socket_directories = '$PG_SOCKDIR'
port = $PG_PORT
fsync = off
timezone = 'UTC'
log_timezone = 'UTC'
EOF
	pg_as_owner tee "$PG_DIR/data/pg_hba.conf" > /dev/null <<EOF
local	all	postgres	trust
local	all	all	scram-sha-256
EOF
	# Set first: a test interrupted while pg_ctl waits must still stop what it started.
	PG_STARTED=1
	if ! (cd "$PG_DIR" && pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" \
		-l "$PG_DIR/server.log" -w -t 60 start > /dev/null); then
		pg_log "the server did not start:"
		cat "$PG_DIR/server.log" >&2 2> /dev/null
		return 1
	fi
}

# pg_stop: stop the server pg_start started, if it did.
pg_stop() {
	local pid
	[ -n "$PG_STARTED" ] || return 0
	if ! (cd "$PG_DIR" && pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 \
		stop > /dev/null 2>&1); then
		pid=$(head -n 1 "$PG_DIR/data/postmaster.pid" 2> /dev/null)
		if [ -n "$pid" ]; then
			pg_log "pg_ctl stop failed: stopping postmaster $pid"
			kill "$pid" 2> /dev/null
		fi
	fi
	PG_STARTED=
}

# pg_sql [DB] < SQL: run SQL as the superuser, stop at the first error, print rows unaligned.
pg_sql() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$PG_SOCKDIR" -p "$PG_PORT" -U postgres \
		-d "${1:-postgres}"
}

# odbc_setup DIR: DIR/odbcinst.ini registers "PostgreSQL Unicode" as this machine's driver
# file; unixODBC reads only DIR from now on.
odbc_setup() {
	local dir=$1 so
	so=$(odbc_find_driver) || { pg_log "no PostgreSQL ODBC driver found"; return 1; }
	mkdir -p "$dir" || return 1
	cat > "$dir/odbcinst.ini" <<EOF
[PostgreSQL Unicode]
Description = PostgreSQL ODBC driver (Unicode)
Driver = $so
EOF
	: > "$dir/odbc.ini"
	export ODBCSYSINI=$dir
	export ODBCINI=$dir/odbc.ini
}
