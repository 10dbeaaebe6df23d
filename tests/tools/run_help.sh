#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every command documents itself, and the operator's packaging is valid:
#  - posternd, postern-dataplane, posternctl and each posternctl command and sub-command
#    (found in their own --help texts, so a new one is covered) answer --help with exit 0 and
#    a usage text on stdout, and an unknown option with a non-zero exit and a message on
#    stderr;
#  - every long option a --help text prints is in that program's man page (tools/man/), and
#    every long option a page gives as an option (a .TP tag or a .OP) is in one of its
#    programs' --help texts: no undocumented option, no invented one;
#  - every key of the option table of common/config.c is an entry of postern.conf(5), and every
#    entry of its OPTIONS section is a key of that table;
#  - each page has its sections and renders cleanly (groff -ww prints nothing, man -l works);
#  - each script under scripts/ answers --help (exit 0, text on stdout) and refuses an unknown
#    option. A script is only run when its text shows that it parses those options first:
#    run blind, scripts/setup would install packages and scripts/fuzz would fuzz for a minute;
#  - systemd-analyze verify accepts the units (with the build's binaries in ExecStart and the
#    pages on MANPATH for their Documentation=), and, as root, systemd-sysusers and
#    systemd-tmpfiles apply postern.sysusers and postern.tmpfiles to a scratch root.
# Nothing here starts a daemon.
#
#   tests/tools/run_help.sh [--build DIR]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build"
[ "${1:-}" = --build ] && build=$(cd "$2" && pwd)
# shellcheck disable=SC1091 # pass, fail, check: tests/check.sh
. "$top/tests/check.sh"

man_dir="$top/tools/man"
unit_dir="$top/tools/systemd"
work=$(mktemp -d /tmp/postern-help.XXXXXX)
trap 'rm -rf "$work"' EXIT

posternd="$build/control/posternd"
dataplane="$build/dataplane/postern-dataplane"
ctl="$build/tools/posternctl"

# A config that points every path into $work: nothing a command might touch is the system's.
conf="$work/postern.conf"
cat > "$conf" << EOF
control_socket = $work/dataplane.sock
alert_socket = $work/alerts.sock
cli_socket = $work/control.sock
suppress_db = $work/suppress
rule_cache_dir =
EOF

fail_with() { echo "    $*"; return 1; }

# The page's source with roff's escapes for '-' and fonts undone, comments dropped.
plain_page() {
	sed -e '/^\.\\"/d' -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\&//g' "$1"
}

# run NAME CMD...: runs CMD (20 s at most, no stdin) into $work/NAME.{out,err,rc}.
run() {
	local name=$1
	shift
	timeout 20 "$@" < /dev/null > "$work/$name.out" 2> "$work/$name.err"
	echo $? > "$work/$name.rc"
}

help_ok() {
	local name=$1 rc
	rc=$(cat "$work/$name.rc")
	[ "$rc" = 0 ] || fail_with "exit $rc, stderr: $(head -c 300 "$work/$name.err")" || return 1
	grep -qi 'usage' "$work/$name.out" || fail_with "no usage text on stdout" || return 1
}

unknown_ok() {
	local name=$1 rc
	rc=$(cat "$work/$name.rc")
	[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail_with "exit $rc" || return 1
	[ -s "$work/$name.err" ] || fail_with "nothing on stderr" || return 1
}

# long_opts FILE: the long options (--word) a text holds, one a line.
long_opts() {
	grep -oE -- '(^|[^-a-z0-9])--[a-z][a-z0-9-]*' "$1" | sed 's/^[^-]*--/--/' | sort -u
}

# help_in_page NAME PAGE: every long option of $work/NAME.out appears in PAGE.
help_in_page() {
	local name=$1 page=$2 o missing=""
	plain_page "$page" > "$work/page.txt"
	for o in $(long_opts "$work/$name.out"); do
		grep -qE -- "(^|[^-a-z0-9])$o([^-a-z0-9]|\$)" "$work/page.txt" || missing+=" $o"
	done
	[ -z "$missing" ] || fail_with "not in ${page##*/}:$missing"
}

check_command() {  # check_command LABEL PAGE CMD... : --help, unknown option, options in page
	local label=$1 page=$2 slug
	shift 2
	slug=$(echo "$label" | tr ' /' '__')
	run "$slug.help" "$@" --help
	check "$label --help: exit 0, usage on stdout" help_ok "$slug.help"
	run "$slug.bad" "$@" --no-such-option
	check "$label --no-such-option: non-zero exit, message on stderr" unknown_ok "$slug.bad"
	if [ "$(cat "$work/$slug.help.rc")" = 0 ]; then
		check "$label: the long options of --help are in ${page##*/}" \
			help_in_page "$slug.help" "$page"
		cat "$work/$slug.help.out" >> "$work/helps.${page##*/}"
	fi
}

# ---- the binaries ----
for b in "$posternd" "$dataplane" "$ctl"; do
	check "${b#"$build"/} is built" test -x "$b"
done
[ -x "$posternd" ] && check_command posternd "$man_dir/posternd.8" "$posternd"
[ -x "$dataplane" ] && check_command postern-dataplane "$man_dir/postern-dataplane.8" "$dataplane"
if [ -x "$ctl" ]; then
	check_command posternctl "$man_dir/posternctl.8" "$ctl" -c "$conf"
	# the commands posternctl lists, and the sub-commands each lists in its usage
	cmds=$(sed -n '/^commands:/,$p' "$work/posternctl.help.out" | awk 'NR > 1 && NF { print $1 }')
	check "posternctl --help lists its commands" test -n "$cmds"
	for c in $cmds; do
		check_command "posternctl $c" "$man_dir/posternctl.8" "$ctl" -c "$conf" "$c"
		out="$work/posternctl_$c.help.out"
		[ -s "$out" ] || continue
		# "usage: posternctl rules check ..." lines, and "  import FILE...   text" lines
		subs=$( { sed -nE "s/^ *(usage:)? *posternctl $c ([a-z][a-z-]*).*/\2/p" "$out"
			  sed -nE 's/^  ([a-z][a-z-]*)( [A-Z]+[.]*)? {2,}[a-z].*/\1/p' "$out"; } |
			grep -vE '^(COMMAND|OPTIONS)$' | sort -u)
		for s in $subs; do
			check_command "posternctl $c $s" "$man_dir/posternctl.8" "$ctl" -c "$conf" "$c" "$s"
			check "posternctl.8 documents '$c $s'" \
				grep -qE -- "^\.(B|BI|BR|TP|SY)? *\"?$c $s" <(plain_page "$man_dir/posternctl.8")
		done
		check "posternctl.8 documents '$c'" grep -qE -- "^\.SS $c |^\.B $c\$" \
			<(plain_page "$man_dir/posternctl.8")
	done
fi

# Each option a page gives (.TP/.TQ tags, .OP in SYNOPSIS) is in one of its programs' --help.
page_opts_exist() {
	local page=$1 helps=$2 o missing=""
	[ -s "$helps" ] || fail_with "no --help text to compare with" || return 1
	for o in $(plain_page "$page" | awk '/^\.(TP|TQ)/ { getline; print; next } /^\.OP/' |
		   grep -oE -- '(^|[^-a-z0-9])--[a-z][a-z0-9-]*' | sed 's/^[^-]*--/--/' | sort -u); do
		grep -qE -- "(^|[^-a-z0-9])$o([^-a-z0-9]|\$)" "$helps" || missing+=" $o"
	done
	[ -z "$missing" ] || fail_with "in ${page##*/} but in no --help:$missing"
}
for p in posternd.8 postern-dataplane.8 posternctl.8; do
	check "$p: every option it gives exists" page_opts_exist "$man_dir/$p" "$work/helps.$p"
done

# ---- postern.conf(5) against the option table ----
keys=$(sed -n '/^static const struct opt options\[\] = {/,/^};/p' "$top/common/config.c" |
	grep -oE '^[[:space:]]*\{ "[a-z0-9_]+",' | sed -E 's/.*"([a-z0-9_]+)".*/\1/' | sort -u)
check "the option table of common/config.c has keys ($(echo "$keys" | wc -w))" \
	test "$(echo "$keys" | wc -w)" -ge 50
conf_page="$man_dir/postern.conf.5"
plain_page "$conf_page" | sed -n '/^\.SH OPTIONS/,/^\.SH /p' |
	awk '/^\.TP/ { getline; if ($1 == ".B" && NF == 2) print $2 }' | sort -u > "$work/page_keys"
missing=$(comm -23 <(echo "$keys") "$work/page_keys" | tr '\n' ' ')
check "every key of the table is an entry of postern.conf.5${missing:+ (missing: $missing)}" \
	test -z "$missing"
extra=$(comm -13 <(echo "$keys") "$work/page_keys" | tr '\n' ' ')
check "every entry of postern.conf.5 is a key of the table${extra:+ (not keys: $extra)}" \
	test -z "$extra"

# ---- the pages render cleanly and have their sections ----
groff_clean() {
	local out
	out=$(groff -man -ww -z "$1" 2>&1) || fail_with "groff failed: $out" || return 1
	[ -z "$out" ] || fail_with "$out"
}
man_renders() {
	MANWIDTH=80 MANPAGER=cat PAGER=cat man -l "$1" > "$work/man.out" 2> "$work/man.err" ||
		fail_with "man -l failed: $(head -c 300 "$work/man.err")" || return 1
	[ ! -s "$work/man.err" ] || fail_with "$(head -c 300 "$work/man.err")" || return 1
	[ "$(wc -l < "$work/man.out")" -gt 20 ] || fail_with "a page of $(wc -l < "$work/man.out") lines"
}
has_sections() {
	local page=$1 s missing=""
	shift
	for s in "$@"; do
		grep -qx "\.SH \"\?$s\"\?" "$page" || missing+=" [$s]"
	done
	[ -z "$missing" ] || fail_with "missing$missing"
}
common_sections=(NAME SYNOPSIS DESCRIPTION OPTIONS FILES "EXIT STATUS" EXAMPLES "SEE ALSO")
for p in posternd.8 postern-dataplane.8 posternctl.8 postern.conf.5; do
	page="$man_dir/$p"
	check "$p exists" test -f "$page" || continue
	check "$p: groff -man -ww -z prints nothing" groff_clean "$page"
	check "$p: man -l renders it" man_renders "$page"
	case $p in
	posternd.8 | postern-dataplane.8)
		check "$p has its sections" has_sections "$page" "${common_sections[@]}" SIGNALS ;;
	*)	check "$p has its sections" has_sections "$page" "${common_sections[@]}" ;;
	esac
done

# ---- the scripts ----
script_help_ok() {
	local rc
	rc=$(cat "$work/$1.rc")
	[ "$rc" = 0 ] || fail_with "exit $rc" || return 1
	[ -s "$work/$1.out" ] || fail_with "nothing on stdout"
}
for s in "$top"/scripts/*; do
	if [ ! -f "$s" ] || [ ! -x "$s" ]; then
		continue
	fi
	name="scripts/${s##*/}"
	slug="script_${s##*/}"
	if grep -qE -- '--help\)' "$s"; then
		run "$slug.help" "$s" --help
		check "$name --help: exit 0, text on stdout" script_help_ok "$slug.help"
	else
		check "$name --help: exit 0, text on stdout (not run: it has no --help case)" false
	fi
	# an option parser that refuses what it does not know: a "*)" (or "-*)") arm that exits
	if grep -A1 -E '^[[:space:]]*-?\*\)' "$s" | grep -qE 'exit [1-9]'; then
		run "$slug.bad" "$s" --no-such-option
		check "$name --no-such-option: non-zero exit, message on stderr" unknown_ok "$slug.bad"
	else
		check "$name --no-such-option refused (not run: it does not parse options)" false
	fi
done

# ---- systemd ----
units_verify() {
	local out
	mkdir -p "$work/units" "$work/man/man5" "$work/man/man8"
	cp "$man_dir"/*.5 "$work/man/man5/" && cp "$man_dir"/*.8 "$work/man/man8/"
	sed "s#/usr/local/bin/posternd#$posternd#g" "$unit_dir/posternd.service" \
		> "$work/units/posternd.service"
	sed "s#/usr/local/bin/postern-dataplane#$dataplane#g" \
		"$unit_dir/postern-dataplane.service" > "$work/units/postern-dataplane.service"
	out=$(cd "$work/units" && MANPATH="$work/man" systemd-analyze verify ./*.service 2>&1) ||
		fail_with "exit $?: $out" || return 1
	[ -z "$out" ] || fail_with "$out"
}
if command -v systemd-analyze > /dev/null; then
	check "systemd-analyze verify: the units, with the built binaries" units_verify
else
	check "systemd-analyze is installed (package systemd)" false
fi
unit_has() {  # unit_has UNIT LINE-REGEX...
	local u=$unit_dir/$1 r
	shift
	for r in "$@"; do
		grep -qE "^$r\$" "$u" || fail_with "no line $r" || return 1
	done
}
no_line() {  # no_line UNIT LINE-REGEX
	! grep -qE "^$2\$" "$unit_dir/$1" || fail_with "$(grep -E "^$2\$" "$unit_dir/$1")"
}
check "posternd.service: notify, reloads with SIGHUP, restarts, keeps /run/postern" \
	unit_has posternd.service 'Type=notify' 'ExecReload=/bin/kill -HUP [$]MAINPID' \
	'Restart=on-failure' 'RuntimeDirectory=postern( .*)?' 'RuntimeDirectoryPreserve=yes' \
	'NoNewPrivileges=yes' 'ProtectSystem=strict' 'CapabilityBoundingSet=.+'
check "postern-dataplane.service: notify, wants posternd, memlock, keeps /run/postern" \
	unit_has postern-dataplane.service 'Type=notify' 'Wants=posternd.service' \
	'LimitMEMLOCK=infinity' 'Restart=on-failure' 'RuntimeDirectory=postern( .*)?' \
	'RuntimeDirectoryPreserve=yes' 'CapabilityBoundingSet=.*CAP_NET_RAW.*'
check "postern-dataplane.service: neither Requires= nor BindsTo= posternd" \
	no_line postern-dataplane.service '(Requires|BindsTo|Requisite)=.*posternd.*'

sysusers_tmpfiles() {
	local root=$work/root gid
	mkdir -p "$root/etc"
	systemd-sysusers --root="$root" "$unit_dir/postern.sysusers" > /dev/null 2>&1 ||
		fail_with "systemd-sysusers failed" || return 1
	grep -q '^postern:' "$root/etc/passwd" || fail_with "no user postern" || return 1
	gid=$(awk -F: '$1 == "postern" { print $3 }' "$root/etc/group")
	[ -n "$gid" ] || fail_with "no group postern" || return 1
	systemd-tmpfiles --root="$root" --create "$unit_dir/postern.tmpfiles" > "$work/tmpf" 2>&1 ||
		fail_with "systemd-tmpfiles: $(cat "$work/tmpf")" || return 1
	for d in var/lib/postern var/log/postern var/cache/postern/rules etc/postern; do
		[ -d "$root/$d" ] && [ "$(stat -c %g "$root/$d")" = "$gid" ] ||
			fail_with "/$d missing or not of group postern" || return 1
	done
}
if [ "$(id -u)" = 0 ] && command -v systemd-sysusers > /dev/null; then
	check "postern.sysusers and postern.tmpfiles apply to an empty root" sysusers_tmpfiles
else
	echo "note: not root: postern.sysusers and postern.tmpfiles not applied"
fi

echo "${pass:?} passed, ${fail:?} failed"
[ "$fail" = 0 ]
