#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Inline mode over captures (issue 8), through the real processes (scripts/replay --inline:
# the dataplane between two pcap ports, what it sends on and what it sends back written to
# captures of their own), checked packet by packet:
#  1. blocking: the demo capture with a drop rule (tests/pcap/inline/drop.rules) and its
#     suppression list with block_suppressed = yes. The opted-out newsletter (session a) and
#     the advance-fee message (session b) are stopped: the client's segment that ends each
#     message never goes on; the server gets a reset at that segment's first byte; the client
#     gets block_reply (a custom text here) as the server's answer to that segment, and a
#     reset for what it sends after (QUIT). Every other packet of the capture goes on,
#     byte for byte and in order, including the consented and the clean sessions. The
#     alerts of both blocked messages say "blocked"; the counters agree.
#  2. the same capture passive (the golden case): nothing blocked, alerts "allowed".
#  3. overload: 24 sessions at once against sessions_per_worker = 16. Fail-open sends the
#     sessions that got no state on uninspected (every packet goes on); fail-closed drops
#     their data packets. Both are counted.
#  4. block_canspam over the compliance corpus (tests/compliance, its packs and settings):
#     exactly the messages corpus.tsv expects to be commercial with a failed check are
#     blocked, each with its CAN-SPAM alert saying so; the rest go through untouched.
#  5. rcpt_reject_suppressed with the demo's sender configured commercial: the opted-out
#     recipient's RCPT command goes on as "XXXX TO:<...>", which the server refuses, and
#     nothing else changes.
#  6. BDAT: the drop rule's message sent in two chunks is stopped at its BDAT ... LAST
#     segment; the first chunk went on, the client gets block_reply.
#
#   tests/pcap/run_inline.sh [--build DIR]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build"
[ "${1:-}" = --build ] && build=$2
py=/usr/bin/python3

# shellcheck source=../check.sh
source "$top/tests/check.sh"

work=$(mktemp -d /tmp/postern-inline.XXXXXX)
trap 'rm -rf "$work"' EXIT
reply="554 5.7.1 Blocked by Postern inline test policy"

# ---------------------------------------------------------------- 1. blocking
if ! "$top/scripts/replay" --build "$build" --pcap "$top/tests/pcap/demo/input.pcap" \
	--rules "$top/rules/demo.rules $here/inline/drop.rules" \
	--suppress "$top/tests/pcap/demo/suppress.csv" --set block_suppressed=yes \
	--set "block_reply=$reply" --inline "$work/block" --out "$work/block.jsonl"; then
	echo "FAIL: inline replay of the demo capture"
	fail=$((fail + 1))
fi
tally "$("$py" "$here/inline/check_block.py" "$top/tests/pcap/demo/input.pcap" "$work/block" \
	"$work/block.jsonl" "$reply" 2>&1)"
if "$py" "$top/tests/tools/validate_eve.py" --schema "$top/schema/eve.schema.json" \
	"$work/block.jsonl" > "$work/validate.out" 2>&1; then
	echo "PASS: every event of the inline run fits the schema"
	pass=$((pass + 1))
else
	echo "FAIL: an event of the inline run breaks the schema"
	cat "$work/validate.out"
	fail=$((fail + 1))
fi

# ---------------------------------------------------------------- 2. passive
"$top/scripts/replay" --build "$build" --pcap "$top/tests/pcap/demo/input.pcap" \
	--rules "$top/rules/demo.rules $here/inline/drop.rules" \
	--suppress "$top/tests/pcap/demo/suppress.csv" --set block_suppressed=yes \
	--out "$work/passive.jsonl"
n_blocked=$(grep -c '"action":"blocked"' "$work/passive.jsonl")
n_drop=$(grep -c '"signature_id":9100001' "$work/passive.jsonl")
if [ "$n_blocked" = 0 ] && [ "$n_drop" = 1 ]; then
	echo "PASS: passive, the drop rule alerts and nothing is blocked"
	pass=$((pass + 1))
else
	echo "FAIL: passive: $n_blocked alerts say blocked, the drop rule alerted $n_drop times"
	fail=$((fail + 1))
fi

# ---------------------------------------------------------------- 3. overload
if ! "$py" "$here/inline/check_overload.py" write "$work/concurrent.pcap" > /dev/null; then
	echo "FAIL: could not write the concurrent capture"
	fail=$((fail + 1))
fi
for policy in open closed; do
	"$top/scripts/replay" --build "$build" --pcap "$work/concurrent.pcap" \
		--set sessions_per_worker=16 --set "inline_fail=$policy" \
		--inline "$work/$policy" --out "$work/$policy.jsonl"
	tally "$("$py" "$here/inline/check_overload.py" check "$work/concurrent.pcap" \
		"$work/$policy" "$policy" 2>&1)"
done

# ---------------------------------------------------------------- 4. block_canspam
comp=$top/tests/compliance
"$py" "$comp/corpus_pcap.py" "$comp/corpus.tsv" "$work/corpus.pcap" > "$work/ports.tsv"
"$top/scripts/replay" --build "$build" --pcap "$work/corpus.pcap" \
	--rules "$top/rules/compliance/compliance.rules $top/rules/hygiene/hygiene.rules" \
	--settings "$comp/settings" --set block_canspam=yes --inline "$work/canspam" --out "$work/canspam.jsonl"
tally "$("$py" "$here/inline/check_corpus_block.py" "$comp/corpus.tsv" "$work/ports.tsv" \
	"$work/canspam" "$work/canspam.jsonl" 2>&1)"

# ---------------------------------------------------------------- 5. refused at RCPT
"$top/scripts/replay" --build "$build" --pcap "$top/tests/pcap/demo/input.pcap" \
	--suppress "$top/tests/pcap/demo/suppress.csv" --set commercial_senders=corp.example \
	--set rcpt_reject_suppressed=yes --inline "$work/rcpt" --out "$work/rcpt.jsonl" 2> /dev/null
tally "$("$py" "$here/inline/check_rcpt_refused.py" "$top/tests/pcap/demo/input.pcap" \
	"$work/rcpt" "$work/rcpt.jsonl" 2>&1)"

# ---------------------------------------------------------------- 6. BDAT
"$py" "$here/inline/check_bdat.py" write "$work/bdat.pcap" > /dev/null
"$top/scripts/replay" --build "$build" --pcap "$work/bdat.pcap" \
	--rules "$top/rules/demo.rules $here/inline/drop.rules" --inline "$work/bdat" \
	--out "$work/bdat.jsonl"
tally "$("$py" "$here/inline/check_bdat.py" check "$work/bdat.pcap" "$work/bdat" 2>&1)"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
