#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# `posternctl suppress sync` against a real database: a private PostgreSQL server (pg.sh: a
# temporary cluster on a Unix socket in the scratch folder, no TCP), reached through unixODBC
# and the PostgreSQL ODBC driver with a connection string and query from the configuration,
# as a company's CRM would be. The opt-out table has good rows (one with a fraction of a second,
# a domain entry "@blocked.example", a consent given after the opt-out, a non-ASCII address
# and domain, a recent opt-out still in its grace period) and three bad rows (a bad address,
# a 70,000-byte value, a missing opt-out time). Checked: the sync is refused whole while rows
# are bad (exit 1, each reported with its row number, nothing written) and --dry-run writes
# nothing; --skip-bad loads the good rows, whose verdicts `posternctl suppress check` gives;
# after rows are deleted, added and changed in the database, a new sync removes what the query
# no longer returns and adds what is new, while entries of other sources (a hand-added one, a
# second sync name) stay; an empty result is refused unless --allow-empty; a query without the
# needed columns is refused naming the columns it has; an SQL error, a query over --timeout,
# a server that accepts and never answers (login timeout), an unreachable server and a wrong
# password each give a clear message and exit 2, and the password never appears in any
# output. The fetch's unit test (DIR/tests/test_suppress_sync, when built) runs against the
# same server. About 15 s. Skips (exit 77) when PostgreSQL or its ODBC driver is not installed
# (scripts/setup installs them).
#
#   tests/odbc/run_sync.sh [--build DIR | DIR]   (default DIR: build/)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build"
case "${1:-}" in
--build) build=$2 ;;
"") ;;
-*) echo "usage: run_sync.sh [--build DIR | DIR]" >&2; exit 2 ;;
*) build=$1 ;;
esac
ctl="$build/tools/posternctl"
# shellcheck source=tests/odbc/pg.sh
. "$here/pg.sh"

pass=0 fail=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}

if [ ! -x "$ctl" ]; then
	bad "no posternctl at $ctl (build first, or pass --build DIR)"
	finish
fi
reason=$(pg_skip_reason)
if [ -n "$reason" ]; then
	echo "SKIP: $reason"
	exit 77
fi

work=$(mktemp -d /tmp/postern-sync.XXXXXX)
hang_pid=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	[ -z "$hang_pid" ] || { kill "$hang_pid" 2> /dev/null; wait "$hang_pid" 2> /dev/null; }
	pg_stop
	if [ -n "${KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The sync role's password: it must never be printed. (No '#': the config file's comment.)
pw='Sync-S3cret-pw'
at=2025-06-01   # verdicts are asked for at this time, so that they do not age

if ! pg_start "$work"; then
	bad "the PostgreSQL server did not start"
	finish
fi
if ! odbc_setup "$work/odbc"; then
	bad "no PostgreSQL ODBC driver to register"
	finish
fi

# The CRM: a table owned by the superuser, which the sync role may only read.
if ! pg_sql > "$work/sql.log" 2>&1 <<EOF; then
CREATE ROLE postern LOGIN PASSWORD '$pw';
CREATE DATABASE crm;
EOF
	bad "cannot create the database: $(cat "$work/sql.log")"
	finish
fi
if ! pg_sql crm > "$work/sql.log" 2>&1 <<'EOF'; then
CREATE TABLE optouts(id serial PRIMARY KEY, email text, optout_at timestamp,
	consent_at timestamp NULL, scope text NULL);
GRANT SELECT ON optouts TO postern;
INSERT INTO optouts(id, email, optout_at, consent_at, scope) VALUES
	(1, 'alice@example.com', '2024-01-02 03:04:05.123456', NULL, NULL),
	(2, 'bob@example.com', '2025-05-28 10:00:00', NULL, NULL),
	(3, '@blocked.example', '2024-02-01', NULL, NULL),
	(4, 'carol@example.com', '2024-01-10', '2024-03-01 12:00:00', NULL),
	(5, 'not-an-address', '2024-01-01', NULL, NULL),
	(6, repeat('x', 70000) || '@example.com', '2024-01-01', NULL, NULL),
	(7, 'dave@example.com', NULL, NULL, NULL),
	(8, 'jürgen@bücher.example', '2024-01-02', NULL, NULL),
	(9, 'erin@example.com', '2024-01-03', NULL, 'all');
EOF
	bad "cannot fill the table: $(cat "$work/sql.log")"
	finish
fi

server="Driver={PostgreSQL Unicode};Server=$PG_SOCKDIR;Port=$PG_PORT;Database=crm"
dsn="$server;Uid=postern;Pwd=$pw;"
query="SELECT email, optout_at AS optout_date, consent_at AS consent_date, scope"
query="$query FROM optouts ORDER BY id"
cat > "$work/postern.conf" <<EOF
suppress_db = $work/suppress
suppress_sync_dsn = $dsn
suppress_sync_query = $query
EOF
echo "suppress_db = $work/suppress" > "$work/bare.conf"

# ctl CONF ARGS...: out (stdout and stderr) and rc of one posternctl run.
out='' rc=
ctl_in() {
	local conf=$1
	shift
	out=$("$ctl" -c "$conf" suppress "$@" 2>&1)
	rc=$?
}
do_sync() { ctl_in "$work/postern.conf" sync "$@"; }

expect_rc() {
	local want=$1 what=$2
	if [ "$rc" = "$want" ]; then
		ok "$what (exit $rc)"
	else
		bad "$what: exit $rc, expected $want; output: ${out:0:2000}"
	fi
}
expect_out() {
	local pattern=$1 what=$2
	if grep -qE -- "$pattern" <<< "$out"; then
		ok "$what"
	else
		bad "$what: no /$pattern/ in: ${out:0:2000}"
	fi
}
expect_no_secret() {
	local secret=$1 what=$2
	if grep -qF -- "$secret" <<< "$out"; then
		bad "$what: the password is in the output: $out"
	else
		ok "$what: password not shown"
	fi
}
# verdict ADDRESS PATTERN...: `suppress check --at $at ADDRESS` succeeds, and its output
# matches every PATTERN (extended regex, line by line) and none of the !PATTERNs. The first
# line is the verdict ("ADDRESS: violation (...)"); the lines after it describe the entry.
verdict() {
	local addr=$1 v p why=
	shift
	if ! v=$("$ctl" -c "$work/postern.conf" suppress check --at "$at" "$addr" 2>&1); then
		bad "$addr: suppress check failed: $v"
		return
	fi
	for p in "$@"; do
		if [ "${p:0:1}" = '!' ]; then
			! grep -qE -- "${p:1}" <<< "$v" || why="$why, matches /${p:1}/"
		else
			grep -qE -- "$p" <<< "$v" || why="$why, no /$p/"
		fi
	done
	if [ -z "$why" ]; then
		ok "$(head -n 1 <<< "$v")"
	else
		bad "$addr${why}: $v"
	fi
}
# Never opted out (or no longer): no entry is described.
absent=(': not suppressed' '!opted out')
psql_do() {
	if pg_sql crm > "$work/sql.log" 2>&1; then
		ok "database changed: $1"
	else
		bad "database change failed ($1): $(cat "$work/sql.log")"
	fi
}

echo "== an entry of another source, by hand"
ctl_in "$work/postern.conf" add manual@example.org --date 2024-01-01
expect_rc 0 "suppress add"

echo "== bad rows refuse the whole sync"
do_sync
expect_rc 1 "sync with 3 bad rows"
expect_out 'sync:default:5: .*not-an-address' "row 5: the bad address is reported with its row"
expect_out 'sync:default:6: .*longer than' "row 6: the 70,000-byte value is reported with its row"
expect_out 'sync:default:7: .*opt-out' "row 7: the missing opt-out time is reported with its row"
expect_out '3 bad row' "the bad rows are counted"
expect_no_secret "$pw" "refused sync"
verdict alice@example.com "${absent[@]}"
verdict manual@example.org ': violation'

echo "== dry run"
do_sync --skip-bad --dry-run
expect_rc 0 "sync --skip-bad --dry-run"
expect_out 'dry run: 9 rows, 6 good, 3 bad' "dry run counts"
verdict alice@example.com "${absent[@]}"

echo "== sync --skip-bad"
do_sync --skip-bad
expect_rc 0 "sync --skip-bad"
expect_out 'sync:default: 9 rows, 3 skipped; added 6, updated 0, removed 0' "sync counts"
expect_no_secret "$pw" "sync --skip-bad"
verdict alice@example.com ': violation' '2024-01-02T03:04:05Z' 'sync:default'
verdict bob@example.com ': grace' '2025-05-28T10:00:00Z'
verdict anyone@blocked.example ': violation' 'domain'
verdict carol@example.com ': not suppressed' 'consent.*2024-03-01T12:00:00Z'
verdict 'jürgen@bücher.example' ': violation'
verdict erin@example.com ': violation'
verdict dave@example.com "${absent[@]}"
verdict manual@example.org ': violation'

echo "== a second source"
ctl_in "$work/postern.conf" sync --name other --query \
	"SELECT 'frank@other.example' AS email, TIMESTAMP '2024-01-05 00:00:00' AS optout_date"
expect_rc 0 "sync --name other"
verdict frank@other.example ': violation' 'sync:other'

echo "== the CRM changes: the next sync follows it"
psql_do "alice deleted, gina added, bob consents, bad rows fixed or gone" <<'EOF'
DELETE FROM optouts WHERE email = 'alice@example.com';
INSERT INTO optouts(id, email, optout_at) VALUES (10, 'gina@example.com', '2024-04-01');
UPDATE optouts SET consent_at = '2025-05-30 09:00:00' WHERE email = 'bob@example.com';
DELETE FROM optouts WHERE id IN (5, 6);
UPDATE optouts SET optout_at = '2024-02-02' WHERE email = 'dave@example.com';
EOF
do_sync
expect_rc 0 "sync after the changes, no bad row left"
expect_out 'removed 1' "the deleted opt-out is removed"
verdict alice@example.com "${absent[@]}"
verdict gina@example.com ': violation' '2024-04-01'
verdict dave@example.com ': violation' '2024-02-02'
verdict bob@example.com ': not suppressed' 'consent.*2025-05-30T09:00:00Z'
verdict anyone@blocked.example ': violation' 'domain'
verdict frank@other.example ': violation' 'sync:other'
verdict manual@example.org ': violation'

echo "== refused queries change nothing"
do_sync --query "SELECT email, optout_at AS optout_date FROM optouts WHERE false"
expect_rc 1 "an empty result"
expect_out 'no good row' "an empty result is explained"
verdict gina@example.com ': violation' '2024-04-01'
do_sync --query "SELECT email, id FROM optouts"
expect_rc 1 "a query without an opt-out time column"
expect_out 'no opt-out time column; its columns are: email, id' "the missing column is named"
verdict gina@example.com ': violation' '2024-04-01'

echo "== errors of the database"
do_sync --query "SELECT email, optout_at AS optout_date FROM nosuchtable"
expect_rc 2 "an SQL error"
expect_out 'query failed: .*nosuchtable' "the SQL error is shown"
t0=$SECONDS
do_sync --timeout 1 --query "SELECT email, optout_at AS optout_date, pg_sleep(30) FROM optouts"
expect_rc 2 "a query over --timeout"
expect_out 'query failed: .*(timeout|57014)' "the timeout is shown"
if [ $((SECONDS - t0)) -le 10 ]; then
	ok "the query was cancelled after $((SECONDS - t0)) s"
else
	bad "the query ran $((SECONDS - t0)) s despite --timeout 1"
fi
do_sync --dsn "Driver={PostgreSQL Unicode};Server=$work/nosocket;Database=crm;Pwd={Br;ace}}d-pw};"
expect_rc 2 "no server at that socket"
expect_out 'connect failed \(.*Pwd=\{\*\*\*\}.*\): .*nosocket' \
	"the connect failure is shown, with the password masked"
expect_no_secret 'Br;ace' "connect failure"
do_sync --dsn "$server;Uid=postern;Password=Wrong-pw-123"
expect_rc 2 "a wrong password"
expect_out 'connect failed .*password authentication failed' "the login failure is shown"
expect_no_secret 'Wrong-pw-123' "login failure"
if command -v python3 > /dev/null 2>&1; then
	# A "server" that accepts connections and never answers, for at most 20 s.
	mkdir "$work/hang"
	python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(4); s.settimeout(0.2)
held, end = [], time.time() + 20
while time.time() < end:
	try: held.append(s.accept()[0])
	except socket.timeout: pass
' "$work/hang/.s.PGSQL.$PG_PORT" &
	hang_pid=$!
	for _ in $(seq 50); do [ -S "$work/hang/.s.PGSQL.$PG_PORT" ] && break; sleep 0.1; done
	t0=$SECONDS
	do_sync --timeout 2 \
		--dsn "Driver={PostgreSQL Unicode};Server=$work/hang;Port=$PG_PORT;Pwd=$pw"
	expect_rc 2 "a server that never answers"
	expect_out 'connect failed .*timeout' "the login timeout is shown"
	expect_no_secret "$pw" "login timeout"
	if [ $((SECONDS - t0)) -le 8 ]; then
		ok "the login gave up after $((SECONDS - t0)) s"
	else
		bad "the login took $((SECONDS - t0)) s despite --timeout 2"
	fi
	kill "$hang_pid" 2> /dev/null
	wait "$hang_pid" 2> /dev/null
	hang_pid=
else
	echo "(no python3: the login timeout is not tested)"
fi
ctl_in "$work/bare.conf" sync
expect_rc 2 "no suppress_sync_dsn configured"
expect_out 'no connection string' "the missing setting is named"
verdict gina@example.com ': violation' '2024-04-01'

echo "== usage"
do_sync --name 'a b'
expect_rc 2 "a bad --name"
do_sync --timeout 0
expect_rc 2 "a bad --timeout"

echo "== the fetch's unit test, against this server"
unit="$build/tests/test_suppress_sync"
if [ -x "$unit" ]; then
	if POSTERN_TEST_ODBC_DSN=$dsn "$unit" > "$work/unit.log" 2>&1 &&
		! grep -q 'SKIPPED' "$work/unit.log"; then
		ok "test_suppress_sync with POSTERN_TEST_ODBC_DSN: every test ran and passed"
	else
		bad "test_suppress_sync with POSTERN_TEST_ODBC_DSN: $(tail -n 30 "$work/unit.log")"
	fi
else
	echo "(no $unit: the unit test was not built, not run here)"
fi

echo "== --allow-empty empties one source only"
ctl_in "$work/postern.conf" sync --name other --allow-empty \
	--query "SELECT email, optout_at AS optout_date FROM optouts WHERE false"
expect_rc 0 "sync --name other --allow-empty with an empty result"
expect_out 'removed 1' "the other source's entry is removed"
verdict frank@other.example "${absent[@]}"
verdict gina@example.com ': violation' '2024-04-01'
verdict manual@example.org ': violation'

finish
