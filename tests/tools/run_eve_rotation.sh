#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# posternd rotates its EVE file by size (eve_file_max_size, eve_file_keep): the demo capture
# replayed with smtp events on and a 3,000-byte limit. The files, oldest first (eve.json.N
# ... eve.json.1, eve.json), must hold exactly the lines the alert subscriber received, in
# the same order, each whole; none may pass the limit unless it holds a single longer line.
# (The unit test test_eve_file.c checks the counters and the number of files kept.)
#
#   tests/tools/run_eve_rotation.sh [--build DIR]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build"
[ "${1:-}" = --build ] && build=$2

work=$(mktemp -d /tmp/postern-eve-rotation.XXXXXX)
trap 'rm -rf "$work"' EXIT
limit=3000

if ! "$top/scripts/replay" --build "$build" --pcap "$top/tests/pcap/demo/input.pcap" \
	--set eve_smtp_events=yes --set "eve_file=$work/eve.json" \
	--set "eve_file_max_size=$limit" --set eve_file_keep=50 --out "$work/sub.jsonl"; then
	echo "FAIL: the replay failed"
	echo "0 passed, 1 failed"
	exit 1
fi
/usr/bin/python3 - "$work" "$limit" << 'EOF'
import glob, json, os, sys

work, limit = sys.argv[1], int(sys.argv[2])
n_fail = 0
def report(ok, text):
    global n_fail
    print(("PASS: " if ok else "FAIL: ") + text)
    n_fail += 0 if ok else 1

rotated = sorted(glob.glob(os.path.join(work, "eve.json.*")),
                 key=lambda p: -int(p.rsplit(".", 1)[1]))
files = rotated + [os.path.join(work, "eve.json")]
lines, ok_size = [], True
for path in files:
    data = open(path, "rb").read()
    if len(data) > limit and data.count(b"\n") > 1:
        ok_size = False
    lines += data.decode().splitlines()
sub = open(os.path.join(work, "sub.jsonl")).read().splitlines()
report(len(rotated) >= 2, "the file was rotated (%d older files)" % len(rotated))
report(ok_size, "no file passes %d bytes but for a single longer line" % limit)
report(all(json.loads(l) is not None for l in lines), "every line is whole JSON")
report(lines == sub, "the files, oldest first, hold the subscriber's %d lines in order (%d)"
       % (len(sub), len(lines)))
sys.exit(1 if n_fail else 0)
EOF
rc=$?
echo "$( [ $rc = 0 ] && echo 4 || echo 0) passed, $( [ $rc = 0 ] && echo 0 || echo 1) failed"
exit $rc
