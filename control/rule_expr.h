/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A rule's detection keywords (content, pcre, isdataat, with their modifiers) as Hyperscan
 * expressions: "atoms". A rule matches when every positive atom matched its buffer and no
 * negated one did, so the dataplane's rule logic stays a conjunction over atom ids whatever
 * the keywords were. The meaning is Suricata's DetectEngineContentInspection(); rule_expr.c
 * says which function each rule comes from.
 *
 * A chain is a positive content or pcre that is not relative, followed by the relative
 * matches of the same buffer that follow it (distance/within, pcre R, isdataat ",relative":
 * each follows the end of the last positive content or pcre before it). A relative content
 * or pcre with no positive match before it in its buffer follows the buffer start (Suricata's
 * buffer_offset is 0 there), so it heads a chain: content distance:D within:W is then
 * offset:D depth:W. A negated content or pcre, and an isdataat that is not relative, is an
 * atom of its own. Each chain becomes one atom:
 *   - a lone content without endswith becomes its literal, its window [offset, offset +
 *     depth) as Hyperscan's HS_EXT_FLAG_MIN_OFFSET/MAX_OFFSET (end offsets: offset + len,
 *     offset + depth; startswith is depth = len); with neither, a plain literal
 *     (rule_compile may use hs_compile_lit_multi for it);
 *   - anything else becomes one regular expression: each content as \xHH escapes (in
 *     (?i: ) when nocase), a relative gap as (?s:.{distance,distance + within - len}) (within
 *     counts from the previous match's end plus distance), or .{distance,} with no within,
 *     a pcre as (?FLAGS:...) (A: \A, or right after the previous match with R), startswith
 *     as \A, endswith as \z, a chain head's offset/depth as a leading
 *     \A(?s:.{offset,offset + depth - len}), the relative isdataats that end a chain as
 *     (?s:.{N}) (negated: (?s:.{0,N-1})\z; several meet in one), isdataat absolute N as
 *     (?s:.) with min_offset N + 1 (negated: the same atom negated).
 * Suricata retries the earlier occurrences of a chain whenever a later match depends on the
 * one it took (the *_NEXT flags of DetectWithinSetup and friends), so "some occurrence of the
 * whole chain exists" is its meaning, in block and stream mode alike. rule_expr_build
 * refuses, naming the keyword, what does not fit that, or what Hyperscan cannot express:
 * a negated content or pcre that is relative; anything relative to a pcre (Suricata keeps
 * one end per pcre start) or to a match before a negated content or pcre (no retry); a
 * relative match after a relative isdataat (no lookahead); negative distance; ^ (other than
 * leading), \A, \G, lookbehind and, after a word character, \b in a relative pcre; a gap
 * over 32767 bytes (Hyperscan's largest bounded repeat); values over 65535.
 * One deliberate difference: Suricata checks a negated endswith content against its first
 * occurrence only ("!x; endswith" passes on "xx"); here it means the buffer does not end
 * with x.
 *
 * The same expression text is valid PCRE2 with the flags in pcre2_options, so an atom that
 * Hyperscan can only prefilter (back-references, look-around) is confirmed with PCRE2 on the
 * value in block mode (rule_compile decides; streamed buffers refuse such atoms). A pcre
 * that can match the empty string needs HS_FLAG_ALLOWEMPTY there.
 *
 * Pure (no Hyperscan call), control thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rule_parse.h"

struct rule_atom {
	uint8_t buffer;          /* enum buffer_id */
	bool negated;            /* the rule needs it absent */
	bool literal;            /* expr is len raw bytes for a literal database */
	bool has_pcre;           /* holds a user pcre: may need HS_FLAG_PREFILTER + confirmation */
	unsigned hs_flags;       /* HS_FLAG_CASELESS, DOTALL, MULTILINE (not SINGLEMATCH) */
	uint32_t pcre2_options;  /* PCRE2_CASELESS, DOTALL, MULTILINE equal to hs_flags */
	unsigned long long ext_flags; /* HS_EXT_FLAG_MIN_OFFSET / MAX_OFFSET, or 0 */
	unsigned long long min_offset, max_offset;
	char *expr;              /* literal: len bytes; else a NUL-terminated expression */
	size_t len;              /* bytes in expr (without the NUL) */
	uint32_t first_match;    /* the rule_match indexes it comes from: a span, which may */
	uint32_t n_matches;      /* hold other atoms' matches (other buffers, isdataat) */
	uint32_t line, col;      /* of its first match, for error messages */
};

/*
 * Build the atoms of n matches (one rule's, in rule order), in the order of their first
 * match; every match belongs to one atom, so n > 0 gives n_atoms > 0. Returns 0 with *atoms
 * (caller frees with rule_atoms_free) and *n_atoms, or -EINVAL with *bad set to the index
 * of the match at fault and a message in err naming its keyword, e.g. "within: smaller than
 * the content's length", or -ENOMEM. The matches are borrowed for the call only.
 */
int rule_expr_build(const struct rule_match *m, uint32_t n, struct rule_atom **atoms,
		    uint32_t *n_atoms, uint32_t *bad, char *err, size_t errlen);

void rule_atoms_free(struct rule_atom *atoms, uint32_t n);

/*
 * len literal bytes as an expression matching exactly them (\xHH for every byte but ASCII
 * letters and digits), for a literal atom in a database of regular expressions. malloc'ed,
 * NUL-terminated; NULL when out of memory.
 */
char *rule_expr_literal(const void *bytes, size_t len);
