#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Real messages through Postern's MIME parser, checked against Python's email package
# (compare_email.py): top-level headers with RFC 2047 words decoded, the MIME structure, and
# the transfer-decoded bytes of every leaf, each message parsed whole and fed 7 bytes at a
# time. Runs on the permissively licensed copies in tests/data/emails, then, when the shared
# data set ../shared/data/emails exists beside the repository, on all of it in place (AGPL
# files included, which are never copied here); when it is absent that half is skipped, said
# so. Differences where Python is known to be lenient are in known_differences.json.
# --build DIR: the meson build holding tests/mime_dump; --dump PATH overrides the executable.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build" dump=""
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--dump) dump=$2; shift 2 ;;
	*) echo "usage: run_email_compare.sh [--build DIR] [--dump PATH]" >&2; exit 2 ;;
	esac
done
[ -n "$dump" ] || dump="$build/tests/mime_dump"
if [ ! -x "$dump" ]; then
	echo "FAIL: no mime_dump executable at $dump (build it, or give --dump PATH)"
	exit 1
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
run_set() { # label folder
	echo "== $1: $2"
	if /usr/bin/python3 "$here/compare_email.py" --dump "$dump" \
		--known "$here/known_differences.json" --label "$1" "$2" > "$out" 2>&1; then
		grep -v '^ok ' "$out"
		echo "PASS: $1 ($(grep -c '^ok ' "$out") messages match)"
	else
		cat "$out"
		echo "FAIL: $1"
		status=1
	fi
}

run_set repository "$top/tests/data/emails"
shared="$top/../shared/data/emails"
if [ -d "$shared" ]; then
	run_set shared "$(cd "$shared" && pwd)"
else
	echo "SKIP: shared data set ../shared/data/emails is absent (the AGPL and oversized" \
		"messages are only read from there)"
fi
exit "$status"
