#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Both daemons drop root after start-up (config `user`, common/privdrop.c): the demo capture
# replayed once as started (root) and once with user = nobody. While the second replay runs,
# /proc/PID/status of posternd and of postern-dataplane (and of every thread of each) must
# show nobody's uid and gid (real, effective, saved, fs), no capability in CapEff, CapPrm or
# CapAmb (a pcap port needs none; see tools/systemd/*.service), no_new_privs set; and the
# alert subscriber must receive the same lines as in the run that stayed root (but for the
# wall-clock timestamp of the stats event).
# (The unit test test_privdrop.c covers the drop itself: order, groups, kept capabilities.)
#
#   tests/tools/run_privdrop.sh [--build DIR]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build"
[ "${1:-}" = --build ] && build=$2
# shellcheck source=../check.sh
. "$top/tests/check.sh"

# capability masks (CapEff/CapPrm hex) each may keep after the drop: none with a pcap port
want_posternd_caps=0
want_dataplane_caps=0

if [ "$(id -u)" != 0 ]; then
	echo "run_privdrop: needs root (the daemons start as root and drop)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
nobody_uid=$(id -u nobody) nobody_gid=$(id -g nobody)

work=$(mktemp -d /tmp/postern-privdrop.XXXXXX)
rp=""
cleanup() {
	if [ -n "$rp" ]; then
		kill "$rp" 2>/dev/null || true
		wait "$rp" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
pcap="$top/tests/pcap/demo/input.pcap"
suppress="$top/tests/pcap/demo/suppress.csv"

check "the replay as root succeeds" \
	"$top/scripts/replay" --build "$build" --pcap "$pcap" --suppress "$suppress" \
	--out "$work/root.jsonl"

# the process's Uid line is nobody's (the drop has happened)
is_dropped() {
	awk -v u="$nobody_uid" '/^Uid:/ { ok = ($2 == u && $3 == u && $4 == u && $5 == u) }
		END { exit !ok }' "/proc/$1/status" 2> /dev/null
}

# copy the status of the process and of each of its threads to $work/NAME.*
snapshot() {
	local name=$1 pid=$2 t
	cat "/proc/$pid/status" > "$work/$name.status" 2> /dev/null || return 1
	for t in "/proc/$pid/task"/*; do
		cat "$t/status" > "$work/$name.task.${t##*/}" 2> /dev/null || true
	done
}

# one child of the replay script by its command name
child_named() {
	local c
	for c in $(pgrep -P "$rp" 2> /dev/null); do
		[ "$(cat "/proc/$c/comm" 2> /dev/null)" = "$1" ] && echo "$c" && return 0
	done
	return 1
}

"$top/scripts/replay" --build "$build" --pcap "$pcap" --suppress "$suppress" \
	--set user=nobody --pidfile "$work/dp.pid" --out "$work/nobody.jsonl" \
	2> "$work/replay.log" &
rp=$!
# The dataplane lives 500 ms past the capture's last packet (--pcap implies --exit-idle 500),
# posternd until the replay ends: take each one's status once it shows nobody, then once more
# a moment later, so that a snapshot never falls between setresuid and cap_set_proc.
# The replay's directory, which holds the sockets, is mktemp's 0700 root: the dataplane, as
# nobody, could not connect (it connects, and reconnects, after its drop). /run/postern is
# 0755; open the replay's directory the same way once posternd shows where it is (its -c).
dp_done=0 pd_done=0 opened=0
for _ in $(seq 1500); do
	kill -0 "$rp" 2> /dev/null || break
	if [ "$opened" = 0 ] && pd=$(child_named posternd); then
		conf=$(tr '\0' '\n' < "/proc/$pd/cmdline" | sed -n '/^-c$/{n;p;}')
		case "$conf" in
		/tmp/postern-replay.*/postern.conf) chmod go+x "${conf%/*}" && opened=1 ;;
		esac
	fi
	if [ "$dp_done" = 0 ] && [ -s "$work/dp.pid" ]; then
		dp=$(cat "$work/dp.pid")
		if is_dropped "$dp"; then
			sleep 0.05
			snapshot dataplane "$dp" && dp_done=1
		fi
	fi
	if [ "$pd_done" = 0 ] && pd=$(child_named posternd) && is_dropped "$pd"; then
		sleep 0.05
		snapshot posternd "$pd" && pd_done=1
	fi
	[ "$dp_done" = 1 ] && [ "$pd_done" = 1 ] && break
	sleep 0.02
done
wait "$rp"
rc=$?
rp=""
check "the replay with user = nobody succeeds" test "$rc" = 0
[ "$rc" = 0 ] || cat "$work/replay.log"
check "the replay's socket directory was opened to nobody" test "$opened" = 1
check "posternd was seen running as nobody" test "$pd_done" = 1
check "postern-dataplane was seen running as nobody" test "$dp_done" = 1

tally "$(/usr/bin/python3 - "$work" "$nobody_uid" "$nobody_gid" \
	"$want_posternd_caps" "$want_dataplane_caps" << 'EOF'
import glob, json, os, sys

work, uid, gid = sys.argv[1], sys.argv[2], sys.argv[3]
want = {"posternd": int(sys.argv[4], 16), "dataplane": int(sys.argv[5], 16)}

def status(path):
    f = {}
    for line in open(path):
        k, _, v = line.partition(":")
        f[k] = v.split()
    return f

def report(ok, text):
    print(("PASS: " if ok else "FAIL: ") + text)

for name in ("posternd", "dataplane"):
    path = os.path.join(work, name + ".status")
    if not os.path.exists(path):
        report(False, "%s: no status was taken" % name)
        continue
    s = status(path)
    report(s["Uid"] == [uid] * 4, "%s: Uid is %s in all four (%s)" % (name, uid, s["Uid"]))
    report(s["Gid"] == [gid] * 4, "%s: Gid is %s in all four (%s)" % (name, gid, s["Gid"]))
    report("0" not in s.get("Groups", []), "%s: group 0 is not among %s"
           % (name, s.get("Groups")))
    eff, prm = int(s["CapEff"][0], 16), int(s["CapPrm"][0], 16)
    report(eff == want[name] and prm == want[name],
           "%s: CapEff %#x, CapPrm %#x are exactly %#x" % (name, eff, prm, want[name]))
    report(int(s["CapAmb"][0], 16) == 0 and int(s["CapInh"][0], 16) == 0,
           "%s: no ambient or inheritable capability" % name)
    report(s.get("NoNewPrivs") == ["1"], "%s: no_new_privs is set" % name)
    tasks = glob.glob(os.path.join(work, name + ".task.*"))
    bad = []
    for t in tasks:
        ts = status(t)
        if ts["Uid"] != [uid] * 4 or \
           (int(ts["CapEff"][0], 16) | int(ts["CapPrm"][0], 16)) & ~want[name]:
            bad.append(os.path.basename(t))
    report(tasks and not bad, "%s: all %d threads run as %s with no other capability%s"
           % (name, len(tasks), uid, (" (not: %s)" % bad) if bad else ""))

# the events, in a stable order; a stats event is stamped with the wall clock, not the capture
def events(p):
    out = []
    for line in open(p) if os.path.exists(p) else []:
        e = json.loads(line)
        if e.get("event_type") == "stats":
            e.pop("timestamp", None)
        out.append(json.dumps(e, sort_keys=True))
    return sorted(out)

root, nobody = events(os.path.join(work, "root.jsonl")), events(os.path.join(work, "nobody.jsonl"))
n_alerts = sum('"event_type": "alert"' in e for e in root)
report(n_alerts > 0, "the run as root gave alerts (%d of %d lines)" % (n_alerts, len(root)))
report(root == nobody, "the run as nobody gave the same %d lines (%d)" % (len(root), len(nobody)))
EOF
)"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
