/* SPDX-License-Identifier: BSD-3-Clause */
/* Validation of rule generation blobs before they reach a worker. Pure, any thread. */
#include <errno.h>

#include "buffer_id.h"
#include "gen_format.h"

static bool
range_ok(uint64_t off, uint64_t len, uint64_t total)
{
	return off <= total && len <= total - off;
}

int
gen_blob_check(const void *blob, size_t len)
{
	const struct gen_hdr *h = blob;

	if (len < sizeof(*h))
		return -EINVAL;
	if (h->magic != GEN_MAGIC || h->version != GEN_VERSION)
		return -EPROTO;
	if (h->total_len != len || h->n_dbs > BUF__COUNT)
		return -EINVAL;

	if (gen_tables_len(h->n_rules, h->n_contents, h->n_dbs) > len)
		return -EINVAL;

	const struct gen_rule *rules = gen_rules(h);
	const struct gen_content *contents = gen_contents(h);
	const struct gen_db *dbs = gen_dbs(h);

	for (uint32_t i = 0; i < h->n_rules; i++) {
		const struct gen_rule *r = &rules[i];

		if (r->action > GEN_ACTION_REJECT || r->n_contents > GEN_MAX_CONTENTS_PER_RULE)
			return -EINVAL;
		if ((uint64_t)r->first_content + r->n_contents > h->n_contents)
			return -EINVAL;
	}
	for (uint32_t i = 0; i < h->n_contents; i++) {
		const struct gen_content *c = &contents[i];

		if (c->rule >= h->n_rules || c->buffer >= BUF__COUNT || c->negated > 1)
			return -EINVAL;
	}
	for (uint32_t i = 0; i < h->n_dbs; i++) {
		const struct gen_db *d = &dbs[i];

		if (d->buffer >= BUF__COUNT || d->mode > GEN_DB_STREAM ||
		    !range_ok(d->offset, d->len, len) || d->offset % 8 != 0)
			return -EINVAL;
	}
	return 0;
}
