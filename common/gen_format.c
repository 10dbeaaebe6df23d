/* SPDX-License-Identifier: BSD-3-Clause */
/* Layout and validation of rule generation blobs. Pure, any thread. */
#include <errno.h>
#include <stdbool.h>

#include "buffer_id.h"
#include "gen_format.h"

const size_t gen_section_elem_size[GEN_SEC__COUNT] = {
	[GEN_SEC_RULES] = sizeof(struct gen_rule),
	[GEN_SEC_ATOMS] = sizeof(struct gen_atom),
	[GEN_SEC_DBS] = sizeof(struct gen_db),
	[GEN_SEC_FLOWBIT_OPS] = sizeof(struct gen_flowbit_op),
	[GEN_SEC_SETS] = sizeof(struct gen_set),
	[GEN_SEC_IP_RANGES] = sizeof(struct netset_ip_range),
	[GEN_SEC_PORT_RANGES] = sizeof(struct netset_port_range),
	[GEN_SEC_TEXT] = 1,
};

size_t
gen_layout(struct gen_hdr *h, const uint64_t counts[GEN_SEC__COUNT])
{
	size_t off = gen_align8(sizeof(*h));

	for (int s = 0; s < GEN_SEC__COUNT; s++) {
		h->sec[s].offset = off;
		h->sec[s].count = counts[s];
		off = gen_align8(off + counts[s] * gen_section_elem_size[s]);
	}
	return off;
}

static bool
range_ok(uint64_t off, uint64_t len, uint64_t total)
{
	return off <= total && len <= total - off;
}

static bool
sections_ok(const struct gen_hdr *h, size_t len)
{
	for (int s = 0; s < GEN_SEC__COUNT; s++) {
		const struct gen_section_desc *d = &h->sec[s];

		if (d->offset % 8 != 0 || d->offset < sizeof(*h) || d->count > UINT32_MAX ||
		    !range_ok(d->offset, d->count * gen_section_elem_size[s], len))
			return false;
	}
	return true;
}

static bool
rules_ok(const struct gen_hdr *h)
{
	const struct gen_rule *rules = gen_section(h, GEN_SEC_RULES);
	uint32_t n_sets = gen_count(h, GEN_SEC_SETS);
	const struct gen_set *sets = gen_section(h, GEN_SEC_SETS);

	for (uint32_t i = 0; i < gen_count(h, GEN_SEC_RULES); i++) {
		const struct gen_rule *r = &rules[i];
		const uint32_t set[4] = { r->src_set, r->sport_set, r->dst_set, r->dport_set };
		const uint32_t kind[4] = { GEN_SET_IP, GEN_SET_PORT, GEN_SET_IP, GEN_SET_PORT };

		if (r->action > GEN_ACTION_REJECT || r->n_atoms > GEN_MAX_ATOMS_PER_RULE ||
		    r->n_flowbit_ops > GEN_MAX_FLOWBIT_OPS)
			return false;
		if ((uint64_t)r->first_atom + r->n_atoms > gen_count(h, GEN_SEC_ATOMS) ||
		    (uint64_t)r->first_flowbit_op + r->n_flowbit_ops >
			    gen_count(h, GEN_SEC_FLOWBIT_OPS))
			return false;
		for (int k = 0; k < 4; k++)
			if (set[k] != GEN_SET_ANY && (set[k] >= n_sets || sets[set[k]].kind != kind[k]))
				return false;
	}
	return true;
}

static bool
atoms_ok(const struct gen_hdr *h)
{
	const struct gen_atom *atoms = gen_section(h, GEN_SEC_ATOMS);
	const char *text = gen_section(h, GEN_SEC_TEXT);
	uint64_t text_len = h->sec[GEN_SEC_TEXT].count;

	for (uint32_t i = 0; i < gen_count(h, GEN_SEC_ATOMS); i++) {
		const struct gen_atom *a = &atoms[i];

		if (a->rule >= gen_count(h, GEN_SEC_RULES) || a->buffer >= BUF__COUNT ||
		    a->negated > 1)
			return false;
		if (a->confirm_offset == 0)
			continue;
		/* offset 0 means none: the text section starts with a NUL nobody uses */
		if (a->confirm_offset >= text_len)
			return false;
		bool terminated = false;

		for (uint64_t k = a->confirm_offset; k < text_len && !terminated; k++)
			terminated = text[k] == '\0';
		if (!terminated)
			return false;
	}
	return true;
}

static bool
flowbits_and_sets_ok(const struct gen_hdr *h)
{
	const struct gen_flowbit_op *ops = gen_section(h, GEN_SEC_FLOWBIT_OPS);
	const struct gen_set *sets = gen_section(h, GEN_SEC_SETS);

	if (h->n_flowbits > GEN_MAX_FLOWBITS)
		return false;
	for (uint32_t i = 0; i < gen_count(h, GEN_SEC_FLOWBIT_OPS); i++)
		if (ops[i].op > GEN_FB_ISNOTSET || ops[i].bit >= h->n_flowbits)
			return false;
	for (uint32_t i = 0; i < gen_count(h, GEN_SEC_SETS); i++) {
		const struct gen_set *s = &sets[i];
		uint32_t n_ranges = s->kind == GEN_SET_IP ? gen_count(h, GEN_SEC_IP_RANGES)
							  : gen_count(h, GEN_SEC_PORT_RANGES);

		if (s->kind > GEN_SET_PORT || (uint64_t)s->first + s->n > n_ranges)
			return false;
	}
	return true;
}

int
gen_blob_check(const void *blob, size_t len)
{
	const struct gen_hdr *h = blob;

	if (len < sizeof(*h))
		return -EINVAL;
	if (h->magic != GEN_MAGIC || h->version != GEN_VERSION)
		return -EPROTO;
	if (h->total_len != len || !sections_ok(h, len) ||
	    gen_count(h, GEN_SEC_DBS) > BUF__COUNT)
		return -EINVAL;
	if (!rules_ok(h) || !atoms_ok(h) || !flowbits_and_sets_ok(h))
		return -EINVAL;

	const struct gen_db *dbs = gen_section(h, GEN_SEC_DBS);

	for (uint32_t i = 0; i < gen_count(h, GEN_SEC_DBS); i++) {
		const struct gen_db *d = &dbs[i];

		if (d->buffer >= BUF__COUNT || d->mode > GEN_DB_STREAM ||
		    !range_ok(d->offset, d->len, len) || d->offset % 8 != 0)
			return -EINVAL;
	}
	return 0;
}

const char *const gen_flowbit_names[GEN_FLOWBITS_RESERVED] = {
	[GEN_FLOWBIT_COMMERCIAL] = GEN_FLOWBIT_COMMERCIAL_NAME,
	[GEN_FLOWBIT_TRANSACTIONAL] = GEN_FLOWBIT_TRANSACTIONAL_NAME,
	[GEN_FLOWBIT_POSTAL_ADDRESS] = "postern.postal_address",
	[GEN_FLOWBIT_UNSUBSCRIBE_LINK] = "postern.unsubscribe_link",
	[GEN_FLOWBIT_SEXUALLY_EXPLICIT] = "postern.sexually_explicit",
	[GEN_FLOWBIT_AUTOMATED] = "postern.automated",
};
