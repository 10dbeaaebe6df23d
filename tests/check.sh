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
