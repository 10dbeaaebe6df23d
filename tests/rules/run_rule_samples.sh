#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Rule samples: every shipped pack is run with `posternctl rules test` (no posternd, no DPDK)
# over its samples. Two layouts: rules/NAME.rules with rules/samples/NAME/SID/, and a pack in
# a folder of its own, rules/NAME/NAME.rules with rules/NAME/samples/SID/ (a pack with no
# sample folder is skipped). Each rule of the pack needs its SID/ folder with at least one
# positive sample pos* and one negative sample neg* (.eml messages, or .pcap/.pcapng captures
# for what a message cannot carry, such as the HELO name). A positive sample must fire that
# sid; a negative one must hold at least one SMTP transaction and fire it in none. A rule
# without both kinds of sample, or a sample folder for a sid the pack does not have, is a
# failure too.
#   tests/rules/run_rule_samples.sh [--build DIR]   (default DIR: build/)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build"
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	*) echo "usage: run_rule_samples.sh [--build DIR]" >&2; exit 2 ;;
	esac
done
ctl="$build/tools/posternctl"

pass=0 fail=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

work=$(mktemp -d /tmp/postern-rule-samples.XXXXXX)
trap 'rm -rf "$work"' EXIT
# built-in defaults (inspected ports 25, 587, 465) whatever /etc holds; the compiled-rule
# cache in the scratch folder; rules/classification.config for every pack, also those in a
# folder of their own
{
	echo "rule_cache_dir = $work/cache"
	echo "classification = $top/rules/classification.config"
} > "$work/postern.conf"

# The sids of a pack, one a line: continuation lines joined, comments skipped, the value of
# each rule's `sid` option (an option starts after "(" or ";").
pack_sids() {
	awk '
		{ sub(/\r$/, "") }
		/\\$/ { buf = buf substr($0, 1, length($0) - 1); next }
		{ line = buf $0; buf = "" }
		line ~ /^[ \t]*(#|$)/ { next }
		{
			if (match(line, /[(;][ \t]*sid[ \t]*:[ \t]*[0-9]+/)) {
				s = substr(line, RSTART, RLENGTH)
				sub(/^.*:[ \t]*/, "", s)
				print s
			}
		}' "$1"
}

if [ ! -x "$ctl" ]; then
	bad "no posternctl at $ctl (build first, or pass --build DIR)"
	echo "$pass passed, $fail failed"
	exit 1
fi

# A copy of pack $1 at $2 with every `noalert` option (`noalert;`, `flowbits:noalert;`)
# removed; lines stay where they were.
strip_noalert() {
	sed -E 's/([(;])[[:blank:]]*(flowbits[[:blank:]]*:[[:blank:]]*)?noalert[[:blank:]]*;/\1/Ig' \
		"$1" > "$2"
}

# PACK<tab>SAMPLES pairs, one a line
list_packs() {
	local p n
	for p in "$top"/rules/*.rules; do
		[ -f "$p" ] || continue
		n=$(basename "$p" .rules)
		printf '%s\t%s\n' "$p" "$top/rules/samples/$n"
	done
	for p in "$top"/rules/*/; do
		n=$(basename "$p")
		[ -f "$p$n.rules" ] && printf '%s\t%s\n' "$p$n.rules" "${p}samples"
	done
}

mapfile -t packs < <(list_packs)
for entry in "${packs[@]}"; do
	IFS=$'\t' read -r pack samples <<< "$entry"
	name=$(basename "$pack" .rules)
	[ -d "$samples" ] || continue
	rel_samples=${samples#"$top"/}

	if ! check=$("$ctl" -c "$work/postern.conf" rules check "$pack" 2>&1); then
		bad "$name: the pack does not build: $check"
		continue
	fi
	mapfile -t sids < <(pack_sids "$pack")
	# "PACK: N rules (M left out), compiled ...": every rule read, loaded or left out
	n_rules=$(echo "$check" | sed -n 's/.*: \([0-9]*\) rules (\([0-9]*\) left out).*/\1/p')
	n_left=$(echo "$check" | sed -n 's/.*: \([0-9]*\) rules (\([0-9]*\) left out).*/\2/p')
	if [ -z "$n_rules" ] || [ "${#sids[@]}" != $((n_rules + n_left)) ]; then
		bad "$name: read ${#sids[@]} sids from the pack, but rules check says: $check"
		continue
	fi
	if [ "$n_left" != 0 ]; then
		bad "$name: $n_left rules left out of the pack, their samples cannot fire"
		continue
	fi

	# every sample of the pack in one run
	inputs=()
	for sid in "${sids[@]}"; do
		for f in "$samples/$sid"/pos* "$samples/$sid"/neg*; do
			[ -f "$f" ] && inputs+=("$f")
		done
	done
	declare -A fired=() n_tx=()
	if [ "${#inputs[@]}" -gt 0 ]; then
		strip_noalert "$pack" "$work/$name.rules"
		"$ctl" -c "$work/postern.conf" rules test "$work/$name.rules" "${inputs[@]}" \
			> "$work/out" 2> "$work/err"
		status=$?
		if [ "$status" -ne 0 ]; then
			bad "$name: posternctl rules test exited with status $status"
			sed 's/^/  /' "$work/err"
			continue
		fi
		# INPUT#N: gid:sid:rev ... or INPUT#N: -
		while IFS= read -r line; do
			[[ $line =~ ^(.*)#([0-9]+):\ (.*)$ ]] || continue
			input=${BASH_REMATCH[1]}
			n_tx[$input]=$(( ${n_tx[$input]:-0} + 1 ))
			for tok in ${BASH_REMATCH[3]}; do
				[ "$tok" = - ] && continue
				IFS=: read -r _gid tok_sid _rev <<< "$tok"
				fired[$input]="${fired[$input]:-} $tok_sid"
			done
		done < "$work/out"
	fi

	for sid in "${sids[@]}"; do
		have_pos=0 have_neg=0
		for f in "$samples/$sid"/pos* "$samples/$sid"/neg*; do
			[ -f "$f" ] || continue
			rel=${f#"$top"/}
			kind=pos
			case "$(basename "$f")" in neg*) kind=neg ;; esac
			got=" ${fired[$f]:-} "
			if [ "${n_tx[$f]:-0}" -eq 0 ]; then
				bad "$name sid $sid: $rel holds no SMTP transaction"
			elif [ "$kind" = pos ]; then
				have_pos=1
				if [[ $got == *" $sid "* ]]; then
					ok "$name sid $sid: $rel fires it"
				else
					bad "$name sid $sid: $rel does not fire it" \
						"(fired:${fired[$f]:- nothing})"
				fi
			else
				have_neg=1
				if [[ $got == *" $sid "* ]]; then
					bad "$name sid $sid: negative sample $rel fires it"
				else
					ok "$name sid $sid: $rel does not fire it"
				fi
			fi
		done
		[ "$have_pos" = 1 ] ||
			bad "$name sid $sid: no positive sample ($rel_samples/$sid/pos*)"
		[ "$have_neg" = 1 ] ||
			bad "$name sid $sid: no negative sample ($rel_samples/$sid/neg*)"
	done

	# samples left behind by a rule that is gone
	for d in "$samples"/*/; do
		[ -d "$d" ] || continue
		s=$(basename "$d")
		printf '%s\n' "${sids[@]}" | grep -qx -- "$s" ||
			bad "$name: $rel_samples/$s/ is for a sid the pack does not have"
	done
	unset fired n_tx
done

echo "$pass passed, $fail failed"
[ "$pass" -gt 0 ] && [ "$fail" -eq 0 ]
