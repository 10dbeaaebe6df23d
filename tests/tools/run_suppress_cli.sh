#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End-to-end of `posternctl suppress` with a scratch configuration and set: import of each
# format (tests/data/suppress), verdicts with --at (grace, violation, consent, scopes,
# domain-wide) and their explanation, export (keys only: no '@' anywhere, one line per
# record, keys that are the SHA-256 of the normalized address), stats (text and JSON), add /
# consent / remove with scopes, a multi-file import whose second file is bad (the first and
# third committed, the second not, exit 1), --skip-bad, --format, stdin, --bulk, init
# --fold-dots, the configured calendar, and the progress bar on a terminal.
# Usage: run_suppress_cli.sh [--build] BUILD_DIR (default: build at the repository root).
# Prints PASS/FAIL lines and "N passed, M failed"; exits non-zero on any failure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build"
case "${1:-}" in
--build) build=${2:?--build needs a directory} ;;
"") ;;
*) build=$1 ;;
esac
build=$(cd "$build" 2>/dev/null && pwd) || { echo "no build directory"; echo "0 passed, 1 failed"; exit 1; }
posternctl="$build/tools/posternctl"
data="$top/tests/data/suppress"

pass=0 fail=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
ko() { echo "FAIL: $*"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else ko "$what"; fi; }
# check_rc WHAT WANT: the status of the last ctl run ($rc) is WANT
check_rc() { if [ "$rc" -eq "$2" ]; then ok "$1 (status $rc)"; else ko "$1 (status $rc, want $2)"; cat "$work/out" "$work/err" | sed 's/^/    /' | head -20; fi; }
# has WHAT PATTERN: the last run's stdout holds the (extended) regular expression
has() { if grep -Eq -- "$2" "$work/out"; then ok "$1"; else ko "$1: no /$2/ in:"; sed 's/^/    /' "$work/out" | head -20; fi; }
has_err() { if grep -Eq -- "$2" "$work/err"; then ok "$1"; else ko "$1: no /$2/ in stderr:"; sed 's/^/    /' "$work/err" | head -20; fi; }

if [ ! -x "$posternctl" ]; then
	echo "no $posternctl"
	echo "0 passed, 1 failed"
	exit 1
fi
if [ ! -f "$data/sample.csv" ]; then
	echo "no samples in $data"
	echo "0 passed, 1 failed"
	exit 1
fi

work=$(mktemp -d /tmp/postern-suppress-cli.XXXXXX)
trap 'rm -rf "$work"' EXIT

# write_conf NAME [key = value lines...]: a configuration whose set is $work/NAME.set
write_conf() {
	local name=$1
	shift
	{
		echo "suppress_db = $work/$name.set"
		for l in "$@"; do echo "$l"; done
	} > "$work/$name.conf"
	conf="$work/$name.conf"
	set_dir="$work/$name.set"
}
# ctl ARGS...: posternctl with the current configuration; status in $rc, output in out/err
ctl() {
	"$posternctl" -c "$conf" "$@" > "$work/out" 2> "$work/err"
	rc=$?
}
# first line of a check's stdout
verdict_of() { head -1 "$work/out" | sed 's/^[^:]*: //'; }
check_verdict() { # WHAT WANT-PREFIX check-args...
	local what=$1 want=$2
	shift 2
	ctl suppress check "$@"
	local got
	got=$(verdict_of)
	if [ "$rc" -eq 0 ] && [ "${got#"$want"}" != "$got" ]; then
		ok "$what: $want"
	else
		ko "$what: got \"$got\" (status $rc), want \"$want\""
		sed 's/^/    /' "$work/out" "$work/err" | head -12
	fi
}
json_get() { # FILE PYTHON-EXPRESSION-ON-j
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"
}

# 1. Each format into a set of its own: the same six rows, five entries.
for f in sample.csv sample.jsonl sample.xml sample.txt; do
	write_conf "${f/./_}" "suppress_calendar_tz = UTC"
	ctl suppress import "$data/$f"
	check_rc "import $f" 0
	has "import $f counts rows and entries" \
		"^$data/$f: imported 6 \\(added 5, updated 0\\), skipped 0$"
	has "import $f prints a rate" '^  \([0-9]+ rows/s\)$'
	ctl suppress stats
	if [ "$f" = sample.txt ]; then
		has "stats of $f: plain text has no scopes" '^entries: +5 \(addr 4, domain 1, scoped 0\)$'
	else
		has "stats of $f: per table" '^entries: +5 \(addr 2, domain 1, scoped 2\)$'
	fi
done
# An explicit format, and the wrong one.
write_conf fmt
ctl suppress import --format jsonl "$data/sample.jsonl"
check_rc "import --format jsonl" 0
ctl suppress import --format csv "$data/sample.jsonl"
check_rc "a JSON Lines file read as CSV is refused" 1
ctl suppress import --format yaml "$data/sample.jsonl"
check_rc "an unknown --format is a usage error" 2

# 2. Verdicts on the CSV sample's set (UTC calendar, US federal holidays).
write_conf sample_csv "suppress_calendar_tz = UTC"
# alice: asked twice, the earlier request (Thu 2024-02-01) counts: grace to Thu 02-15.
check_verdict "alice before her opt-out" "not suppressed" alice@example.com --at 2024-01-15
check_verdict "alice inside the grace period" "grace" alice@example.com --at 2024-02-10
has "grace counts business days" '\(6 of 10 business days elapsed, UTC calendar\)'
has "check names the source file and line" "source: +$data/sample.csv, line 7 "
has "check prints the opt-out time" 'opted out: +2024-02-01T00:00:00Z'
has "check prints the grace end" 'grace ends: +2024-02-15T00:00:00Z'
check_verdict "alice on the last second of grace" "grace" alice@example.com \
	--at 2024-02-14T23:59:59Z
check_verdict "alice after the grace period" "violation" alice@example.com --at 2024-02-15
has "a violation says how many business days passed" \
	'grace ended: +2024-02-15T00:00:00Z \(10 business days elapsed of 10 allowed'
# bob: consent on 2024-06-10 after his opt-out lifts it from then on.
check_verdict "bob between opt-out and consent" "violation" bob@example.org --at 2024-05-01
has "a later consent is shown" 'consent: +2024-06-10T00:00:00Z, after --at'
check_verdict "bob after his consent" "not suppressed" bob@example.org --at 2024-07-01
has "a lifting consent is explained" 'consent: +2024-06-10T00:00:00Z, lifts the opt-out'
# carol: only mail from sender news.example.com.
check_verdict "carol without a sender" "not suppressed" Carol.Smith@example.net --at 2025-01-01
check_verdict "carol from another sender" "not suppressed" Carol.Smith@example.net \
	--at 2025-01-01 --sender other.example
check_verdict "carol from news.example.com" "violation" "<Carol.Smith@EXAMPLE.net>" \
	--at 2025-01-01 --sender News.Example.com
has "the sender scope is named" 'scope: +mail from sender news.example.com'
# dave: only the weekly list.
check_verdict "dave outside the list" "not suppressed" dave@example.com --at 2025-01-01
check_verdict "dave on the list" "violation" dave@example.com --at 2025-01-01 \
	--list-id "Weekly <weekly.news.example.com>"
has "the list scope is named" 'scope: +mail of list weekly.news.example.com'
# a whole domain.
check_verdict "any address of a suppressed domain" "grace" anyone@unsubscribe-all.example \
	--at 2024-07-03
has "a domain-wide entry says so" 'entry: +the whole domain @unsubscribe-all.example'
check_verdict "an address not on the list" "not suppressed" nobody@example.com
ctl suppress check not-an-address
check_rc "check refuses what is not an address" 2
ctl suppress check @example.com
check_rc "check takes an address, not a domain" 2
ctl suppress check alice@example.com --at yesterday
check_rc "check refuses a bad time" 2

# 3. Export: keys only, one line per record.
ctl suppress export
check_rc "export to stdout" 0
cp "$work/out" "$work/export.csv"
check "CSV export holds no '@'" bash -c "! grep -q @ '$work/export.csv'"
check "CSV export: a header and one line per entry (5)" test "$(wc -l < "$work/export.csv")" -eq 6
check "CSV export header" test "$(head -1 "$work/export.csv")" = \
	"table,entry,key,scope,scope_key,optout,grace_end,consent,source_id,source,line"
alice_key=$(printf '%s' alice@example.com | sha256sum | cut -c1-64)
check "the address key is SHA-256 of the normalized address" \
	grep -q "^addr,address,$alice_key,all,,2024-02-01T00:00:00Z,2024-02-15T00:00:00Z,,1,$data/sample.csv,7$" \
	"$work/export.csv"
list_key=$(printf '%s' list:weekly.news.example.com | sha256sum | cut -c1-64)
dave_key=$(printf '%s' dave@example.com | sha256sum | cut -c1-64)
check "a scoped record has its two keys apart" \
	grep -q "^scoped,address,$dave_key,list,$list_key,2024-08-12T00:00:00Z," "$work/export.csv"
dom_key=$(printf '%s' @unsubscribe-all.example | sha256sum | cut -c1-64)
check "a domain record" grep -q "^domain,domain,$dom_key,all,," "$work/export.csv"
check "every key is 64 hex digits" bash -c \
	"tail -n +2 '$work/export.csv' | cut -d, -f3 | grep -cEx '[0-9a-f]{64}' | grep -qx 5"
ctl suppress export --format jsonl --out "$work/export.jsonl"
check_rc "export --format jsonl --out" 0
check "JSONL export holds no '@'" bash -c "! grep -q @ '$work/export.jsonl'"
check "JSONL export: one line per entry (5)" test "$(wc -l < "$work/export.jsonl")" -eq 5
check "JSONL export is JSON, consent null or a time" python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert all(len(r["key"]) == 64 for r in rows)
assert {r["table"] for r in rows} == {"addr", "domain", "scoped"}
bob = [r for r in rows if r["consent"] is not None]
assert len(bob) == 1 and bob[0]["consent"] == "2024-06-10T00:00:00Z"
' "$work/export.jsonl"
check "export --out file is mode 0640" test "$(stat -c %a "$work/export.jsonl")" = 640
check "export --out leaves no temporary file" \
	bash -c "[ \$(ls '$work' | grep -c '^export.jsonl') -eq 1 ]"
ctl suppress export --format xml
check_rc "export refuses an unknown format" 2

# 4. Stats, as text and JSON.
ctl suppress stats --json
check_rc "stats --json" 0
cp "$work/out" "$work/stats.json"
check "stats: entries per table" test "$(json_get "$work/stats.json" \
	'"%d %d %d %d" % (j["entries"]["addr"], j["entries"]["domain"], j["entries"]["scoped"], j["entries"]["total"])')" = "2 1 2 5"
check "stats: one source, the file, six rows" test "$(json_get "$work/stats.json" \
	'"%d %s %d" % (len(j["sources"]), j["sources"][0]["name"], j["sources"][0]["rows"])')" = \
	"1 $data/sample.csv 6"
check "stats: size, readers, txn" test "$(json_get "$work/stats.json" \
	'0 < j["used_bytes"] <= j["map_size"] and j["max_readers"] > 0 and j["last_txn"] > 0')" = True
check "stats: normalization and calendar" test "$(json_get "$work/stats.json" \
	'"%s %s %s" % (j["normalization"], j["calendar"]["tz"], j["calendar"]["current"])')" = "[] UTC True"
ctl suppress stats
has "stats text: sources" '^sources: +1$'
has "stats text: normalization" '^normalization: default$'

# 5. add, consent, remove (with and without a scope).
write_conf edits "suppress_calendar_tz = UTC"
ctl suppress consent nobody@example.com
check_rc "consent without a set is refused" 1
check "a refused consent creates no set" test ! -e "$set_dir/data.mdb"
ctl suppress add new@example.com --date 2024-03-01
check_rc "add" 0
has "add prints the grace end from the calendar" \
	'^new@example.com: opted out 2024-03-01T00:00:00Z, grace ends 2024-03-15T00:00:00Z$'
check_verdict "an added entry" "violation" new@example.com --at 2024-04-01
has "an added entry's source is posternctl" 'source: +posternctl, line 1'
ctl suppress add new@example.com --date 2024-02-01
has "add merges with the entry there" 'opted out 2024-02-01T00:00:00Z.*merged'
ctl suppress consent new@example.com --date 2024-04-02
check_rc "consent" 0
has "consent lifts the opt-out" 'consent given 2024-04-02T00:00:00Z lifts the opt-out'
check_verdict "after consent" "not suppressed" new@example.com --at 2024-05-01
ctl suppress add new@example.com --date 2024-03-10 --scope list:promo.example.com
check_rc "add --scope" 0
has "add --scope names it" '^new@example.com \(list:promo.example.com\): opted out'
check_verdict "a scoped add holds for its list" "violation" new@example.com --at 2024-05-01 \
	--list-id "<Promo.Example.com>"
ctl suppress remove new@example.com --scope sender:promo.example.com
check_rc "remove of a scope that has no entry" 1
ctl suppress remove new@example.com --scope list:promo.example.com
check_rc "remove --scope" 0
check_verdict "the scoped entry is gone" "not suppressed" new@example.com --at 2024-05-01 \
	--list-id promo.example.com
ctl suppress remove new@example.com
check_rc "remove" 0
has "remove says so" '^new@example.com: removed$'
ctl suppress remove new@example.com
check_rc "remove of an absent entry" 1
ctl suppress add @example.org --date 2024-03-01
check_rc "add a whole domain" 0
check_verdict "the domain entry" "violation" x@example.org --at 2024-04-01
ctl suppress add not-an-address
check_rc "add refuses what is not an address" 2
ctl suppress add a@example.com --scope team:x
check_rc "add refuses a bad scope" 2
ctl suppress add a@example.com --date 2999-01-01
check_rc "add refuses a date in the future" 1
ctl suppress stats --json
cp "$work/out" "$work/stats.json"
check "edits leave one source named posternctl" test "$(json_get "$work/stats.json" \
	'",".join(s["name"] for s in j["sources"])')" = posternctl

# 6. Several files: each its own transaction and source; a bad one refuses itself only.
write_conf multi "suppress_calendar_tz = UTC"
printf 'email,optout_date\nfirst@example.com,2024-01-05\n' > "$work/first.csv"
printf 'email,optout_date\nthird@example.com,2024-01-05\n' > "$work/third.csv"
ctl suppress import "$work/first.csv" "$data/sample_bad.csv" "$work/third.csv"
check_rc "multi-file import with a bad second file" 1
has "the first file is committed" "^$work/first.csv: imported 1 "
has "the third file is committed" "^$work/third.csv: imported 1 "
has_err "the bad file is reported by line" "sample_bad.csv:3: bad address"
has_err "the bad file is refused whole" "sample_bad.csv: 8 bad row\\(s\\): nothing imported"
check_verdict "a row of the first file" "violation" first@example.com
check_verdict "a good row of the refused file is not imported" "not suppressed" erin@example.com
check_verdict "a row of the third file" "violation" third@example.com
ctl suppress stats --json
cp "$work/out" "$work/stats.json"
check "two sources, the refused file is none" test "$(json_get "$work/stats.json" \
	'len(j["sources"])')" = 2
ctl suppress import --skip-bad "$data/sample_bad.csv"
check_rc "--skip-bad imports the good rows" 0
has "--skip-bad counts what it skipped" 'imported 1 \(added 1, updated 0\), skipped 8$'
check_verdict "the good row is now in" "violation" erin@example.com
ctl suppress import "$work/first.csv" "$work/missing.csv" "$work/third.csv"
check_rc "an unreadable file is an error" 2
has "the files around it are still imported" "^$work/third.csv: imported 1 \\(added 0, updated 1\\)"
ctl suppress import
check_rc "import without a file is a usage error" 2

# 7. stdin, and a rebuild.
ctl suppress import - < "$data/sample.txt"
check_rc "import from stdin" 0
has "stdin is named as such" '^stdin: imported 6 '
ctl suppress import --bulk "$data/sample.csv"
check_rc "import --bulk" 0
has "--bulk rebuilds the set" "^$data/sample.csv: imported 6 .*, set rebuilt$"
check "the rebuild left nothing beside the set" \
	bash -c "[ -z \"\$(ls '$work' | grep '^multi.set.new')\" ]"
check_verdict "entries before the rebuild survive it" "violation" first@example.com

# 8. Normalization chosen at init.
write_conf gmail
ctl suppress init --fold-dots
check_rc "init --fold-dots" 0
has "init says the normalization" 'ready \(normalization fold-dots\)'
printf 'j.smith@gmail.com 2024-01-05\n' > "$work/gmail.txt"
ctl suppress import "$work/gmail.txt"
check_rc "import into the folding set" 0
check_verdict "another spelling of a Gmail address" "violation" js.m.i.t.h@GMAIL.com
check_verdict "dots still count elsewhere" "not suppressed" js.mith@example.com
ctl suppress init --lowercase-local
check_rc "init with other flags on an existing set is refused" 1
ctl suppress stats
has "stats shows the normalization" '^normalization: fold-dots$'
write_conf gmail_cfg "suppress_fold_dots = yes"
ctl suppress import "$work/gmail.txt"
check_rc "a new set takes the configuration's flags" 0
check_verdict "folded by the configuration" "violation" jsmith@gmail.com

# 9. The configured calendar.
write_conf ny "suppress_calendar_tz = America/New_York"
ctl suppress import "$data/sample.csv"
check_rc "import with a New York calendar" 0
# 2024-02-01T00:00Z is Jan 31 in New York: day 10 is Feb 14, 19:00 EST.
check_verdict "New York grace" "grace" alice@example.com --at 2024-02-14T12:00:00Z
has "the zone is named" '9 of 10 business days elapsed, America/New_York calendar'
has "grace ends in New York's evening" 'grace ends: +2024-02-15T00:00:00Z'
write_conf ny2 "suppress_calendar_tz = America/New_York" "suppress_holidays = none"
printf 'email,optout_date\nx@example.com,2024-07-01T12:00:00Z\n' > "$work/july.csv"
ctl suppress import "$work/july.csv"
check_verdict "no holidays: July 4th counts" "violation" x@example.com --at 2024-07-15T12:00:00Z
write_conf ny3 "suppress_calendar_tz = America/New_York"
ctl suppress import "$work/july.csv"
check_verdict "US holidays: July 4th does not count" "grace" x@example.com \
	--at 2024-07-15T12:00:00Z
ctl suppress stats
has "stats names the calendar" '^calendar: +America/New_York, holidays us-federal \(grace periods computed with it\)'
write_conf badtz "suppress_calendar_tz = Mars/Olympus_Mons"
ctl suppress import "$work/july.csv"
check_rc "an unknown zone is an error" 2
has_err "the zone error is told" 'calendar: .*Mars/Olympus_Mons'
check "nothing was created with a bad calendar" test ! -e "$set_dir/data.mdb"

# 10. The progress bar, on a terminal only.
write_conf tty "suppress_calendar_tz = UTC"
if command -v script > /dev/null; then
	script -qec "'$posternctl' -c '$conf' suppress import '$data/sample.csv'" /dev/null \
		> "$work/tty.out" 2>&1
	check "a terminal gets the reading progress" grep -q 'reading  \[#*.*100%' "$work/tty.out"
	ctl suppress import "$data/sample.csv"
	check "a pipe gets no progress bar" bash -c "! grep -q 'reading' '$work/err'"
else
	echo "SKIP: no script(1) for a terminal"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
