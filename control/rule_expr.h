/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A rule's detection keywords (content, pcre, isdataat, with their modifiers) as Hyperscan
 * expressions: "atoms". A rule matches when every positive atom matched its buffer and no
 * negated one did, so the dataplane's rule logic stays a conjunction over atom ids whatever
 * the keywords were.
 *
 * A chain is a match that is not relative followed by the relative ones of the same buffer
 * (distance/within, pcre R, isdataat relative). Each chain becomes one atom:
 *   - a lone content with offset/depth/startswith becomes its literal with Hyperscan's
 *     HS_EXT_FLAG_MIN_OFFSET/MAX_OFFSET (end offsets: [offset + len, offset + depth]);
 *     with neither, a plain literal (rule_compile may use hs_compile_lit_multi for it);
 *   - anything else becomes one regular expression: each content as \xHH escapes (in
 *     (?i: ) when nocase), a relative gap as (?s:.{distance,within - len}) (or .{d,} with
 *     no within), a pcre as (?FLAGS:...), startswith as \A, endswith as \z, a chain head's
 *     offset/depth as a leading \A(?s:.{offset,offset + depth - len}), isdataat relative N
 *     as (?s:.{N}) (negated: (?s:.{0,N-1})\z), isdataat absolute N as (?s:.) with
 *     min_offset N + 1 (negated: the same atom negated).
 * Relative matching in Suricata retries every earlier occurrence, so "some match of the
 * whole expression exists" is exactly its meaning: block and stream mode alike.
 *
 * The same expression text is valid PCRE2 with the flags in pcre2_options, so an atom that
 * Hyperscan can only prefilter (back-references, look-around) is confirmed with PCRE2 on the
 * value in block mode (rule_compile decides; streamed buffers refuse such atoms).
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
	uint32_t first_match;    /* the rule_match indexes it comes from */
	uint32_t n_matches;
	uint32_t line, col;      /* of its first match, for error messages */
};

/*
 * Build the atoms of n matches (one rule's, in rule order). Returns 0 with *atoms (caller
 * frees with rule_atoms_free) and *n_atoms, or -EINVAL with *bad set to the index of the
 * match at fault and a message in err naming its keyword, e.g. "within: smaller than the
 * content's length plus distance", or -ENOMEM.
 */
int rule_expr_build(const struct rule_match *m, uint32_t n, struct rule_atom **atoms,
		    uint32_t *n_atoms, uint32_t *bad, char *err, size_t errlen);

void rule_atoms_free(struct rule_atom *atoms, uint32_t n);
