/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule compiler: turns a parsed rule set into a rule generation blob (common/gen_format.h)
 * that posternd hands to the dataplane. Every buffer that some content looks at gets one
 * Hyperscan database of literals (block mode, or stream mode where buffer_id_is_stream());
 * a pattern's id is its content's index in the blob's contents[] table, compiled with
 * HS_FLAG_SINGLEMATCH because a rule only needs to know that a content matched at least once.
 * Rule logic (all positive contents present, no negated one) is left to the dataplane.
 *
 * It does not keep messages, classtypes or metadata in the blob: posternd looks those up in
 * the rule set by gid:sid. The databases are compiled for the host CPU (platform NULL).
 * Control thread only; compiling may take a while for big packs and never touches the
 * generation that is running.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rule_parse.h"

/*
 * Compile rs into a new blob: on success returns 0 and *blob (malloc'ed, the caller frees it
 * with free()) of *blob_len bytes, already checked with gen_blob_check(). On error returns
 * -EINVAL (a content Hyperscan rejected: err names the rule as "FILE:LINE:COL: content: ...
 * (sid N)"), -ENOMEM, -E2BIG (more contents than a blob can index) or -EIO (any other
 * Hyperscan failure), leaves *blob NULL and writes one line to err.
 */
int rule_compile(const struct rule_set *rs, uint64_t gen_id, void **blob, size_t *blob_len,
		 char *err, size_t errlen);
