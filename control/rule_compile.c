/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule set -> generation blob (see rule_compile.h): the rule, atom, flowbit and set tables
 * first, then one Hyperscan database per buffer in increasing buffer id order, then
 * everything laid out as gen_format.h says and checked with gen_blob_check(). Control thread.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "buffer_id.h"
#include "gen_format.h"
#include "netset.h"
#include "rule_compile.h"
#include "rule_expr.h"

/* The patterns of one buffer's database, and its serialized bytes once compiled. */
struct db_build {
	const char **exprs;
	size_t *lens;
	unsigned *flags;
	unsigned *ids;          /* atom index in the blob */
	hs_expr_ext_t *ext;
	const hs_expr_ext_t **ext_ptrs;
	char **owned;           /* expressions written here (escaped literals), freed after */
	unsigned n;
	bool literal_only;      /* every atom a plain literal: hs_compile_lit_multi */
	char *bytes;            /* from hs_serialize_database (misc allocator: malloc) */
	size_t len;
};

/* Growable array of fixed-size elements. */
struct vec {
	void *v;
	size_t n, cap, size;
};

struct compile {
	const struct rule_set *rs;
	const struct netset_vars *vars;
	char *err;
	size_t errlen;
	struct gen_rule *rules;
	struct gen_atom *atoms;
	const struct rule_atom **atom_src;  /* the parsed atom behind each gen_atom */
	uint32_t n_atoms;
	struct vec fb_ops, sets, ip_ranges, port_ranges, text;
	char **set_texts;       /* the spec of each set, borrowed from the rules */
	char *fb_names[GEN_MAX_FLOWBITS];
	uint32_t n_fb_names;
	struct db_build dbs[BUF__COUNT];
};

/* Hyperscan has no strerror of its own: names for the codes it returns. */
static const char *
hs_error_name(hs_error_t rc)
{
	switch (rc) {
	case HS_SUCCESS: return "success";
	case HS_INVALID: return "invalid parameter";
	case HS_NOMEM: return "out of memory";
	case HS_SCAN_TERMINATED: return "scan terminated";
	case HS_COMPILER_ERROR: return "compile error";
	case HS_DB_VERSION_ERROR: return "database built by another Hyperscan version";
	case HS_DB_PLATFORM_ERROR: return "database built for another platform";
	case HS_DB_MODE_ERROR: return "database built for another mode";
	case HS_BAD_ALIGN: return "bad alignment";
	case HS_BAD_ALLOC: return "allocator returned misaligned memory";
	case HS_SCRATCH_IN_USE: return "scratch in use";
	case HS_ARCH_ERROR: return "CPU not supported by Hyperscan";
	case HS_INSUFFICIENT_SPACE: return "insufficient space";
	default: return "unknown error";
	}
}

static int
hs_errno(hs_error_t rc)
{
	if (rc == HS_NOMEM)
		return -ENOMEM;
	if (rc == HS_COMPILER_ERROR)
		return -EINVAL;
	return -EIO;
}

static int
vec_push(struct vec *v, const void *elem, size_t count)
{
	if (v->n + count > v->cap) {
		size_t cap = v->cap == 0 ? 16 : v->cap;
		void *nv;

		while (cap < v->n + count)
			cap *= 2;
		nv = realloc(v->v, cap * v->size);
		if (nv == NULL)
			return -ENOMEM;
		v->v = nv;
		v->cap = cap;
	}
	memcpy((uint8_t *)v->v + v->n * v->size, elem, count * v->size);
	v->n += count;
	return 0;
}

static void
db_build_fini(struct db_build *d)
{
	for (unsigned i = 0; d->owned != NULL && i < d->n; i++)
		free(d->owned[i]);
	free(d->owned);
	free(d->exprs);
	free(d->lens);
	free(d->flags);
	free(d->ids);
	free(d->ext);
	free(d->ext_ptrs);
	free(d->bytes);
	memset(d, 0, sizeof(*d));
}

/* "FILE:LINE:COL: KEYWORD: message (sid N)" for rule ri. */
static void
rule_err(struct compile *c, uint32_t ri, uint32_t line, uint32_t col, const char *kw,
	 const char *msg)
{
	const struct rule *r = &c->rs->rules[ri];

	/* line and col are in the rule's own pack when several were loaded together */
	snprintf(c->err, c->errlen, "%s:%u:%u: %s: %s (sid %u)", rule_set_source_name(c->rs, r),
		 line, col, kw, msg, r->sid);
}

/* ---- addresses and ports ---- */

/* The set for one header field (0 src, 1 sport, 2 dst, 3 dport): shared by every rule that
 * writes the same text. */
static int
field_set(struct compile *c, uint32_t ri, int field, char *text, uint32_t *out)
{
	static const char *const kw_of[4] = { "src", "sport", "dst", "dport" };
	const char *kw = kw_of[field];
	bool port = field == 1 || field == 3;
	const struct rule *r = &c->rs->rules[ri];
	struct gen_set set = { .kind = port ? GEN_SET_PORT : GEN_SET_IP };
	char msg[256];
	size_t eoff = 0;
	uint32_t n = 0;
	int rc;

	if (text == NULL || strcmp(text, "any") == 0) {
		*out = GEN_SET_ANY;
		return 0;
	}
	for (size_t i = 0; i < c->sets.n; i++) {
		const struct gen_set *s = (const struct gen_set *)c->sets.v + i;

		if (s->kind == set.kind && strcmp(c->set_texts[i], text) == 0) {
			*out = (uint32_t)i;
			return 0;
		}
	}
	if (port) {
		struct netset_port_range *pr = NULL;

		rc = netset_port_compile(text, strlen(text), c->vars, &pr, &n, &eoff, msg,
					 sizeof(msg));
		set.first = (uint32_t)c->port_ranges.n;
		if (rc == 0)
			rc = vec_push(&c->port_ranges, pr, n);
		free(pr);
	} else {
		struct netset_ip_range *ir = NULL;

		rc = netset_ip_compile(text, strlen(text), c->vars, &ir, &n, &eoff, msg,
				       sizeof(msg));
		set.first = (uint32_t)c->ip_ranges.n;
		if (rc == 0)
			rc = vec_push(&c->ip_ranges, ir, n);
		free(ir);
	}
	if (rc == -EINVAL) {
		/* a field never spans lines: its byte at fault is on the field's own line */
		rule_err(c, ri, r->field_line[field], r->field_col[field] + (uint32_t)eoff, kw, msg);
		return rc;
	}
	if (rc < 0)
		return rc;
	set.n = n;
	char **nt = realloc(c->set_texts, (c->sets.n + 1) * sizeof(*nt));

	if (nt == NULL)
		return -ENOMEM;
	c->set_texts = nt;
	nt[c->sets.n] = text;
	*out = (uint32_t)c->sets.n;
	return vec_push(&c->sets, &set, 1);
}

static int
rule_sets(struct compile *c, uint32_t ri, struct gen_rule *g)
{
	const struct rule *r = &c->rs->rules[ri];
	int rc = field_set(c, ri, 0, r->src, &g->src_set);

	if (rc == 0)
		rc = field_set(c, ri, 1, r->sport, &g->sport_set);
	if (rc == 0)
		rc = field_set(c, ri, 2, r->dst, &g->dst_set);
	if (rc == 0)
		rc = field_set(c, ri, 3, r->dport, &g->dport_set);
	return rc;
}

/* ---- flowbits ---- */

static int
flowbit_index(struct compile *c, uint32_t ri, const struct rule_flowbit *fb, uint16_t *out)
{
	for (uint32_t i = 0; i < c->n_fb_names; i++)
		if (strcmp(c->fb_names[i], fb->name) == 0) {
			*out = (uint16_t)i;
			return 0;
		}
	if (c->n_fb_names == GEN_MAX_FLOWBITS) {
		char msg[96];

		snprintf(msg, sizeof(msg), "more than %d distinct names in one pack",
			 GEN_MAX_FLOWBITS);
		rule_err(c, ri, fb->line, fb->col, "flowbits", msg);
		return -EINVAL;
	}
	c->fb_names[c->n_fb_names] = fb->name;
	*out = (uint16_t)c->n_fb_names++;
	return 0;
}

static bool
fb_reads(uint16_t op)
{
	return op == GEN_FB_ISSET || op == GEN_FB_ISNOTSET;
}

/*
 * Stages: a rule testing a bit runs after every other rule that sets, unsets or toggles it,
 * as Suricata orders flowbits rules. Relaxed until nothing moves; a chain longer than there
 * are bits is a cycle (a rule testing and setting its own bit is not one).
 */
static int
flowbit_stages(struct compile *c)
{
	const struct gen_flowbit_op *ops = c->fb_ops.v;
	uint32_t n_rules = c->rs->n_rules;
	uint32_t writer_max[GEN_MAX_FLOWBITS], writer_rule[GEN_MAX_FLOWBITS];
	uint32_t writer_second[GEN_MAX_FLOWBITS];

	for (uint32_t round = 0; round <= c->n_fb_names + 1; round++) {
		bool moved = false;

		/* the highest stage among each bit's writers, and the next one from another rule */
		for (uint32_t b = 0; b < c->n_fb_names; b++) {
			writer_max[b] = writer_second[b] = 0;
			writer_rule[b] = UINT32_MAX;
		}
		for (uint32_t ri = 0; ri < n_rules; ri++) {
			const struct gen_rule *g = &c->rules[ri];

			for (uint32_t k = 0; k < g->n_flowbit_ops; k++) {
				const struct gen_flowbit_op *o = &ops[g->first_flowbit_op + k];
				uint32_t st = g->stage + 1;

				if (fb_reads(o->op))
					continue;
				if (writer_rule[o->bit] == ri)
					continue;
				if (st > writer_max[o->bit]) {
					if (writer_rule[o->bit] != UINT32_MAX)
						writer_second[o->bit] = writer_max[o->bit];
					writer_max[o->bit] = st;
					writer_rule[o->bit] = ri;
				} else if (st > writer_second[o->bit]) {
					writer_second[o->bit] = st;
				}
			}
		}
		for (uint32_t ri = 0; ri < n_rules; ri++) {
			struct gen_rule *g = &c->rules[ri];
			uint32_t stage = 0;

			for (uint32_t k = 0; k < g->n_flowbit_ops; k++) {
				const struct gen_flowbit_op *o = &ops[g->first_flowbit_op + k];
				uint32_t w = writer_rule[o->bit] == ri ? writer_second[o->bit]
								       : writer_max[o->bit];

				if (fb_reads(o->op) && w > stage)
					stage = w;
			}
			if (stage != g->stage) {
				g->stage = stage;
				moved = true;
			}
		}
		if (!moved)
			return 0;
	}
	for (uint32_t ri = 0; ri < n_rules; ri++)
		if (c->rules[ri].stage > c->n_fb_names) {
			const struct rule *r = &c->rs->rules[ri];

			rule_err(c, ri, r->line, r->col, "flowbits",
				 "rules set and test each other's bits in a cycle");
			return -EINVAL;
		}
	return 0;
}

static int
rule_flowbits(struct compile *c, uint32_t ri, struct gen_rule *g)
{
	const struct rule *r = &c->rs->rules[ri];

	g->first_flowbit_op = (uint32_t)c->fb_ops.n;
	g->n_flowbit_ops = (uint8_t)r->n_flowbits;
	for (uint32_t k = 0; k < r->n_flowbits; k++) {
		struct gen_flowbit_op o = { .op = r->flowbits[k].op };
		int rc = flowbit_index(c, ri, &r->flowbits[k], &o.bit);

		_Static_assert((int)RULE_FB_ISNOTSET == (int)GEN_FB_ISNOTSET,
			       "flowbit opcodes are shared");
		if (rc == 0)
			rc = vec_push(&c->fb_ops, &o, 1);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- atoms and databases ---- */

static int
text_add(struct compile *c, const char *s, uint32_t *off)
{
	if (c->text.n == 0 && vec_push(&c->text, "", 1) < 0) /* offset 0 means none */
		return -ENOMEM;
	*off = (uint32_t)c->text.n;
	return vec_push(&c->text, s, strlen(s) + 1);
}

/*
 * A pcre atom Hyperscan may only be able to prefilter: try it exactly, then as a prefilter,
 * which the dataplane confirms with PCRE2 on the whole value (block buffers only).
 */
static int
pcre_atom_mode(struct compile *c, uint32_t ai, const hs_expr_ext_t *ext, unsigned *flags)
{
	const struct rule_atom *a = c->atom_src[ai];
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *cerr = NULL, *cerr2 = NULL;
	char msg[320];
	int rc = 0;

	if (hs_expression_ext_info(a->expr, *flags, ext, &info, &cerr) == HS_SUCCESS)
		goto done;
	if (hs_expression_ext_info(a->expr, *flags | HS_FLAG_PREFILTER, ext, &info, &cerr2) !=
	    HS_SUCCESS) {
		snprintf(msg, sizeof(msg), "hyperscan: %s", cerr->message);
		rule_err(c, c->atoms[ai].rule, a->line, a->col, "pcre", msg);
		rc = -EINVAL;
		goto done;
	}
	if (buffer_id_is_stream((enum buffer_id)a->buffer)) {
		snprintf(msg, sizeof(msg),
			 "hyperscan can only prefilter this expression (%s), and %s is streamed: "
			 "no whole value to confirm it on",
			 cerr->message, buffer_id_name((enum buffer_id)a->buffer));
		rule_err(c, c->atoms[ai].rule, a->line, a->col, "pcre", msg);
		rc = -EINVAL;
		goto done;
	}
	/* the dataplane refuses a generation whose confirmation PCRE2 cannot compile: say so
	 * here, at the rule, rather than as a refused generation */
	int ecode;
	PCRE2_SIZE eoff;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)a->expr, PCRE2_ZERO_TERMINATED,
					 a->pcre2_options, &ecode, &eoff, NULL);

	if (code == NULL) {
		PCRE2_UCHAR pmsg[160];

		pcre2_get_error_message(ecode, pmsg, sizeof(pmsg));
		snprintf(msg, sizeof(msg), "pcre2 cannot confirm the expression: %s",
			 (const char *)pmsg);
		rule_err(c, c->atoms[ai].rule, a->line, a->col, "pcre", msg);
		rc = -EINVAL;
		goto done;
	}
	pcre2_code_free(code);
	*flags |= HS_FLAG_PREFILTER;
	rc = text_add(c, a->expr, &c->atoms[ai].confirm_offset);
	c->atoms[ai].confirm_options = a->pcre2_options;
done:
	free(info);
	hs_free_compile_error(cerr);
	hs_free_compile_error(cerr2);
	return rc;
}

static int
db_alloc(struct db_build *d)
{
	unsigned n = d->n;

	d->exprs = calloc(n, sizeof(*d->exprs));
	d->lens = calloc(n, sizeof(*d->lens));
	d->flags = calloc(n, sizeof(*d->flags));
	d->ids = calloc(n, sizeof(*d->ids));
	d->ext = calloc(n, sizeof(*d->ext));
	d->ext_ptrs = calloc(n, sizeof(*d->ext_ptrs));
	d->owned = calloc(n, sizeof(*d->owned));
	d->n = 0; /* refilled by db_add */
	return d->exprs && d->lens && d->flags && d->ids && d->ext && d->ext_ptrs && d->owned
		       ? 0
		       : -ENOMEM;
}

static int
db_add(struct compile *c, uint32_t ai)
{
	const struct rule_atom *a = c->atom_src[ai];
	struct db_build *d = &c->dbs[a->buffer];
	unsigned i = d->n++;
	unsigned flags = HS_FLAG_SINGLEMATCH | a->hs_flags;

	d->ids[i] = ai;
	if (d->literal_only) {
		d->exprs[i] = a->expr;
		d->lens[i] = a->len;
		d->flags[i] = flags;
		return 0;
	}
	d->ext[i] = (hs_expr_ext_t){
		.flags = a->ext_flags,
		.min_offset = a->min_offset,
		.max_offset = a->max_offset,
	};
	d->ext_ptrs[i] = a->ext_flags != 0 ? &d->ext[i] : NULL;
	if (a->literal) {
		d->owned[i] = rule_expr_literal(a->expr, a->len);
		if (d->owned[i] == NULL)
			return -ENOMEM;
		d->exprs[i] = d->owned[i];
	} else {
		d->exprs[i] = a->expr;
	}
	if (a->has_pcre) {
		/* a pcre that matches the empty string matches every value, as PCRE says */
		flags |= HS_FLAG_ALLOWEMPTY;
		int rc = pcre_atom_mode(c, ai, d->ext_ptrs[i], &flags);

		if (rc < 0)
			return rc;
	}
	d->flags[i] = flags;
	return 0;
}

static int
compile_db(struct compile *c, enum buffer_id buf)
{
	struct db_build *d = &c->dbs[buf];
	unsigned mode = buffer_id_is_stream(buf) ? HS_MODE_STREAM : HS_MODE_BLOCK;
	hs_compile_error_t *cerr = NULL;
	hs_database_t *db = NULL;
	hs_error_t rc;

	if (d->literal_only)
		rc = hs_compile_lit_multi(d->exprs, d->flags, d->ids, d->lens, d->n, mode, NULL,
					  &db, &cerr);
	else
		rc = hs_compile_ext_multi(d->exprs, d->flags, d->ids, d->ext_ptrs, d->n, mode, NULL,
					  &db, &cerr);
	if (rc != HS_SUCCESS) {
		const char *msg = cerr != NULL ? cerr->message : hs_error_name(rc);
		char m[320];

		if (cerr != NULL && cerr->expression >= 0 && (unsigned)cerr->expression < d->n) {
			uint32_t ai = d->ids[cerr->expression];
			const struct rule_atom *a = c->atom_src[ai];
			const struct rule *r = &c->rs->rules[c->atoms[ai].rule];
			const struct rule_match *first = &r->matches[a->first_match];
			snprintf(m, sizeof(m), "hyperscan: %s", msg);
			rule_err(c, c->atoms[ai].rule, a->line, a->col,
				 rule_match_keyword(first->kind), m);
		} else {
			snprintf(c->err, c->errlen,
				 "%s: hyperscan: %s, compiling the %s database (%u expressions)",
				 c->rs->path, msg, buffer_id_name(buf), d->n);
		}
		hs_free_compile_error(cerr);
		return hs_errno(rc);
	}
	rc = hs_serialize_database(db, &d->bytes, &d->len);
	hs_free_database(db);
	if (rc != HS_SUCCESS) {
		snprintf(c->err, c->errlen, "%s: hyperscan: serializing the %s database: %s",
			 c->rs->path, buffer_id_name(buf), hs_error_name(rc));
		d->bytes = NULL;
		return hs_errno(rc);
	}
	return 0;
}

/* The tables: rules, atoms (and how many each buffer gets), flowbits, sets. */
static int
build_tables(struct compile *c)
{
	const struct rule_set *rs = c->rs;
	uint32_t ai = 0;
	int rc;

	for (int b = 0; b < BUF__COUNT; b++)
		c->dbs[b].literal_only = true;
	for (uint32_t ri = 0; ri < rs->n_rules; ri++) {
		const struct rule *r = &rs->rules[ri];
		struct gen_rule *g = &c->rules[ri];

		*g = (struct gen_rule){
			.sid = r->sid,
			.rev = r->rev,
			.gid = r->gid,
			.action = r->action,
			.n_atoms = (uint8_t)r->n_atoms,
			.first_atom = ai,
			.flags = (uint8_t)((r->noalert ? GEN_RULE_NOALERT : 0) |
					   (r->bidir ? GEN_RULE_BIDIR : 0) |
					   (r->flow & RULE_FLOW_TO_CLIENT ? GEN_RULE_TO_CLIENT : 0)),
		};
		if (r->n_atoms > GEN_MAX_ATOMS_PER_RULE) {
			rule_err(c, ri, r->line, r->col, "rule", "too many expressions");
			return -EINVAL;
		}
		rc = rule_sets(c, ri, g);
		if (rc == 0)
			rc = rule_flowbits(c, ri, g);
		if (rc < 0)
			return rc;
		for (uint32_t k = 0; k < r->n_atoms; k++, ai++) {
			const struct rule_atom *a = &r->atoms[k];

			c->atoms[ai] = (struct gen_atom){
				.rule = ri,
				.buffer = a->buffer,
				.negated = a->negated ? 1 : 0,
			};
			c->atom_src[ai] = a;
			c->dbs[a->buffer].n++;
			if (!a->literal || a->ext_flags != 0)
				c->dbs[a->buffer].literal_only = false;
		}
	}
	return flowbit_stages(c);
}

static int
build_dbs(struct compile *c)
{
	int rc;

	for (int b = 0; b < BUF__COUNT; b++)
		if (c->dbs[b].n > 0 && db_alloc(&c->dbs[b]) < 0)
			return -ENOMEM;
	for (uint32_t ai = 0; ai < c->n_atoms; ai++) {
		rc = db_add(c, ai);
		if (rc < 0)
			return rc;
	}
	for (int b = 0; b < BUF__COUNT; b++) {
		if (c->dbs[b].n == 0)
			continue;
		rc = compile_db(c, (enum buffer_id)b);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
write_blob(struct compile *c, uint64_t gen_id, void **blob, size_t *blob_len)
{
	uint64_t counts[GEN_SEC__COUNT] = {
		[GEN_SEC_RULES] = c->rs->n_rules,
		[GEN_SEC_ATOMS] = c->n_atoms,
		[GEN_SEC_FLOWBIT_OPS] = c->fb_ops.n,
		[GEN_SEC_SETS] = c->sets.n,
		[GEN_SEC_IP_RANGES] = c->ip_ranges.n,
		[GEN_SEC_PORT_RANGES] = c->port_ranges.n,
		[GEN_SEC_TEXT] = c->text.n,
	};
	const void *src[GEN_SEC__COUNT] = {
		[GEN_SEC_RULES] = c->rules,
		[GEN_SEC_ATOMS] = c->atoms,
		[GEN_SEC_FLOWBIT_OPS] = c->fb_ops.v,
		[GEN_SEC_SETS] = c->sets.v,
		[GEN_SEC_IP_RANGES] = c->ip_ranges.v,
		[GEN_SEC_PORT_RANGES] = c->port_ranges.v,
		[GEN_SEC_TEXT] = c->text.v,
	};
	struct gen_hdr h = {
		.magic = GEN_MAGIC,
		.version = GEN_VERSION,
		.gen_id = gen_id,
		.n_flowbits = c->n_fb_names,
	};
	struct gen_db gdb[BUF__COUNT];
	uint32_t n_dbs = 0;
	size_t off;
	uint8_t *out;

	for (int b = 0; b < BUF__COUNT; b++)
		if (c->dbs[b].n > 0)
			n_dbs++;
	counts[GEN_SEC_DBS] = n_dbs;
	off = gen_layout(&h, counts);
	n_dbs = 0;
	for (int b = 0; b < BUF__COUNT; b++) {
		if (c->dbs[b].n == 0)
			continue;
		off = gen_align8(off);
		gdb[n_dbs++] = (struct gen_db){
			.buffer = (uint8_t)b,
			.mode = buffer_id_is_stream((enum buffer_id)b) ? GEN_DB_STREAM
								     : GEN_DB_BLOCK,
			.n_patterns = c->dbs[b].n,
			.offset = off,
			.len = c->dbs[b].len,
		};
		off += c->dbs[b].len;
	}
	src[GEN_SEC_DBS] = gdb;
	h.total_len = gen_align8(off);

	out = calloc(1, h.total_len);
	if (out == NULL)
		return -ENOMEM;
	memcpy(out, &h, sizeof(h));
	for (int s = 0; s < GEN_SEC__COUNT; s++)
		if (counts[s] > 0)
			memcpy(out + h.sec[s].offset, src[s], counts[s] * gen_section_elem_size[s]);
	for (uint32_t i = 0; i < n_dbs; i++)
		memcpy(out + gdb[i].offset, c->dbs[gdb[i].buffer].bytes, gdb[i].len);

	int rc = gen_blob_check(out, h.total_len);
	if (rc < 0) {
		snprintf(c->err, c->errlen,
			 "%s: internal error: the new generation fails its check (%s)", c->rs->path,
			 strerror(-rc));
		free(out);
		return rc;
	}
	*blob = out;
	*blob_len = h.total_len;
	return 0;
}

int
rule_compile(const struct rule_set *rs, const struct netset_vars *vars, uint64_t gen_id,
	     void **blob, size_t *blob_len, char *err, size_t errlen)
{
	struct netset_vars *own_vars = NULL;
	struct compile c = {
		.rs = rs,
		.vars = vars,
		.err = err,
		.errlen = errlen,
		.fb_ops = { .size = sizeof(struct gen_flowbit_op) },
		.sets = { .size = sizeof(struct gen_set) },
		.ip_ranges = { .size = sizeof(struct netset_ip_range) },
		.port_ranges = { .size = sizeof(struct netset_port_range) },
		.text = { .size = 1 },
	};
	uint64_t total = 0;
	int rc;

	*blob = NULL;
	*blob_len = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	for (uint32_t i = 0; i < rs->n_rules; i++)
		total += rs->rules[i].n_atoms;
	if (total > UINT32_MAX / 2) {
		snprintf(err, errlen, "%s: %llu expressions, more than a generation can hold",
			 rs->path, (unsigned long long)total);
		return -E2BIG;
	}
	c.n_atoms = (uint32_t)total;
	/* Postern's own marks take the first bit indexes, used by a pack or not. */
	for (c.n_fb_names = 0; c.n_fb_names < GEN_FLOWBITS_RESERVED; c.n_fb_names++)
		c.fb_names[c.n_fb_names] = (char *)gen_flowbit_names[c.n_fb_names];
	if (vars == NULL) {
		own_vars = netset_vars_defaults();
		c.vars = own_vars;
	}
	c.rules = calloc(rs->n_rules + 1, sizeof(*c.rules));
	c.atoms = calloc(c.n_atoms + 1, sizeof(*c.atoms));
	c.atom_src = calloc(c.n_atoms + 1, sizeof(*c.atom_src));
	if (c.rules == NULL || c.atoms == NULL || c.atom_src == NULL || c.vars == NULL) {
		rc = -ENOMEM;
		goto cleanup;
	}
	rc = build_tables(&c);
	if (rc == 0)
		rc = build_dbs(&c);
	if (rc == 0)
		rc = write_blob(&c, gen_id, blob, blob_len);
cleanup:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory compiling the rules", rs->path);
	for (int b = 0; b < BUF__COUNT; b++)
		db_build_fini(&c.dbs[b]);
	free(c.fb_ops.v);
	free(c.sets.v);
	free(c.ip_ranges.v);
	free(c.port_ranges.v);
	free(c.text.v);
	free(c.set_texts);
	free(c.atom_src);
	free(c.atoms);
	free(c.rules);
	netset_vars_destroy(own_vars);
	return rc;
}
