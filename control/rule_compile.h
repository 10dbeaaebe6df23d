/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule compiler: turns a parsed rule set into a rule generation blob (common/gen_format.h)
 * that posternd hands to the dataplane.
 *
 * Every buffer some atom (rule_expr.h) looks at gets one Hyperscan database: block mode, or
 * stream mode where buffer_id_is_stream(). A buffer whose atoms are all plain literals is
 * compiled with hs_compile_lit_multi; any other with hs_compile_ext_multi, literals written
 * as \xHH expressions and offset/depth as Hyperscan's extended min/max offsets. A pattern's
 * id is its atom's index in the blob, compiled with HS_FLAG_SINGLEMATCH: a rule only needs
 * to know that an atom matched at least once. An atom holding a pcre that Hyperscan cannot
 * run exactly (back-references, look-around) is compiled with HS_FLAG_PREFILTER and its
 * expression put in the blob for the dataplane to confirm with PCRE2; in a streamed buffer
 * that is an error, since the bytes are gone by the time a prefilter match is known.
 *
 * Addresses and ports are resolved against the variables (common/netset.h) into shared
 * sets; flowbit names become bit indexes, and each rule gets the stage that orders setters
 * before the rules that test their bits. The databases are compiled for the host CPU.
 * Control thread only; compiling may take a while for big packs and never touches the
 * generation that is running.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rule_parse.h"

struct netset_vars;

/*
 * Compile rs into a new blob, with vars for $NAME in addresses and ports (NULL: the default
 * variables). On success returns 0 and *blob (malloc'ed, the caller frees it with free()) of
 * *blob_len bytes, already checked with gen_blob_check(). On error returns -EINVAL (an
 * expression Hyperscan rejected, an address that does not resolve, a flowbits cycle: err
 * names the rule as "FILE:LINE:COL: KEYWORD: ... (sid N)"), -ENOMEM, -E2BIG (more than a
 * blob can index) or -EIO (any other Hyperscan failure), leaves *blob NULL and writes one
 * line to err.
 */
int rule_compile(const struct rule_set *rs, const struct netset_vars *vars, uint64_t gen_id,
		 void **blob, size_t *blob_len, char *err, size_t errlen);

/* Bumped whenever the compiler's output for the same pack changes: part of the cache key. */
#define RULE_COMPILER_VERSION "postern-rule-compile-2"
