/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A rule generation as posternd holds it: the parsed rule pack and its classification (to
 * write alerts), and the compiled blob in a sealed memfd (to hand to the dataplane). A new
 * generation is built beside the live one and only replaces it when everything succeeded.
 * posternd's control thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "eve.h"

struct rule_set;
struct classification;
struct threshold_table;

struct rulegen {
	uint64_t id;
	struct rule_set *rules;
	struct classification *cls;   /* NULL when there is no classification file */
	int memfd;                    /* the gen blob, sealed read-only */
	size_t blob_len;
	bool from_cache;              /* the databases came from the on-disk cache */
	double build_ms;              /* wall time rulegen_build took */
	struct threshold_table *thresholds; /* NULL when no rule has threshold/detection_filter */
};

/*
 * Parse, compile (or take from the cache, rule_cache.h) and seal generation `id` from the
 * config's rule pack, with its variables (rule_vars, or vars.conf beside the pack). NULL
 * with every error (file:line:column) in err.
 */
struct rulegen *rulegen_build(const struct postern_config *cfg, uint64_t id, char *err,
			      size_t errlen);
void rulegen_destroy(struct rulegen *g);

/*
 * eve_rule_lookup_fn over a generation (ctx is the struct rulegen): the rule's texts, and its
 * threshold or detection_filter applied to this alert (the generation's own state table, so
 * a reload starts counting afresh, as Suricata does).
 */
bool rulegen_lookup(void *ctx, const struct ipc_tx *tx, uint32_t gid, uint32_t sid,
		    struct eve_rule_info *out);
