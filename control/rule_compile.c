/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule set -> generation blob (see rule_compile.h). Builds the rules[] and contents[] tables
 * first, then one Hyperscan literal database per buffer in increasing buffer id order, then
 * lays everything out as gen_format.h says and checks the result with gen_blob_check().
 * Control thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "buffer_id.h"
#include "gen_format.h"
#include "rule_compile.h"

/* The patterns of one buffer's database, and its serialized bytes once compiled. */
struct db_build {
	const char **exprs;
	size_t *lens;
	unsigned *flags;
	unsigned *ids;          /* content index in the blob */
	unsigned n;
	char *bytes;            /* from hs_serialize_database (misc allocator: malloc) */
	size_t len;
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

static void
db_build_fini(struct db_build *d)
{
	free(d->exprs);
	free(d->lens);
	free(d->flags);
	free(d->ids);
	free(d->bytes);
	memset(d, 0, sizeof(*d));
}

/* Which rule and content a content index is, for messages. */
static void
locate(const struct rule_set *rs, const struct gen_rule *rules, const struct gen_content *contents,
       uint32_t ci, const struct rule **r, const struct rule_content **c)
{
	uint32_t ri = contents[ci].rule;

	*r = &rs->rules[ri];
	*c = &(*r)->contents[ci - rules[ri].first_content];
}

static int
compile_db(const struct rule_set *rs, const struct gen_rule *rules,
	   const struct gen_content *contents, enum buffer_id buf, struct db_build *d, char *err,
	   size_t errlen)
{
	unsigned mode = buffer_id_is_stream(buf) ? HS_MODE_STREAM : HS_MODE_BLOCK;
	hs_compile_error_t *cerr = NULL;
	hs_database_t *db = NULL;
	hs_error_t rc;

	rc = hs_compile_lit_multi(d->exprs, d->flags, d->ids, d->lens, d->n, mode, NULL, &db,
				  &cerr);
	if (rc != HS_SUCCESS) {
		const char *msg = cerr != NULL ? cerr->message : hs_error_name(rc);

		if (cerr != NULL && cerr->expression >= 0 && (unsigned)cerr->expression < d->n) {
			const struct rule *r;
			const struct rule_content *c;

			locate(rs, rules, contents, d->ids[cerr->expression], &r, &c);
			snprintf(err, errlen, "%s:%u:%u: content: hyperscan: %s (sid %u)", rs->path,
				 c->line, c->col, msg, r->sid);
		} else {
			snprintf(err, errlen,
				 "%s: hyperscan: %s, compiling the %s database (%u contents)",
				 rs->path, msg, buffer_id_name(buf), d->n);
		}
		hs_free_compile_error(cerr);
		return hs_errno(rc);
	}
	rc = hs_serialize_database(db, &d->bytes, &d->len);
	hs_free_database(db);
	if (rc != HS_SUCCESS) {
		snprintf(err, errlen, "%s: hyperscan: serializing the %s database: %s", rs->path,
			 buffer_id_name(buf), hs_error_name(rc));
		d->bytes = NULL;
		return hs_errno(rc);
	}
	return 0;
}

int
rule_compile(const struct rule_set *rs, uint64_t gen_id, void **blob, size_t *blob_len,
	     char *err, size_t errlen)
{
	struct db_build dbs[BUF__COUNT];
	struct gen_rule *rules = NULL;
	struct gen_content *contents = NULL;
	uint64_t total64 = 0;
	uint32_t n_contents = 0, n_dbs = 0, ci = 0;
	uint8_t *out = NULL;
	struct gen_hdr *h;
	struct gen_db *gdb;
	uint32_t di = 0;
	size_t off, total;
	int rc = 0;

	memset(dbs, 0, sizeof(dbs));
	*blob = NULL;
	*blob_len = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';

	for (uint32_t i = 0; i < rs->n_rules; i++)
		total64 += rs->rules[i].n_contents;
	if (total64 > UINT32_MAX / 2) {
		snprintf(err, errlen, "%s: %llu contents, more than a generation can hold",
			 rs->path, (unsigned long long)total64);
		return -E2BIG;
	}
	n_contents = (uint32_t)total64;

	rules = calloc(rs->n_rules + 1, sizeof(*rules));
	contents = calloc(n_contents + 1, sizeof(*contents));
	if (rules == NULL || contents == NULL)
		goto nomem;

	/* tables, and how many patterns each buffer gets */
	for (uint32_t i = 0; i < rs->n_rules; i++) {
		const struct rule *r = &rs->rules[i];

		if (r->n_contents > GEN_MAX_CONTENTS_PER_RULE) {
			snprintf(err, errlen, "%s:%u:%u: rule: more than %d contents (sid %u)",
				 rs->path, r->line, r->col, GEN_MAX_CONTENTS_PER_RULE, r->sid);
			rc = -EINVAL;
			goto cleanup;
		}
		rules[i] = (struct gen_rule){
			.sid = r->sid,
			.rev = r->rev,
			.gid = r->gid,
			.action = r->action,
			.n_contents = (uint8_t)r->n_contents,
			.first_content = ci,
		};
		for (uint32_t k = 0; k < r->n_contents; k++, ci++) {
			const struct rule_content *c = &r->contents[k];

			/* Hyperscan literals must be non-empty; the parser guarantees it */
			if (c->buffer >= BUF__COUNT || c->len == 0) {
				snprintf(err, errlen, "%s:%u:%u: content: %s (sid %u)", rs->path,
					 c->line, c->col,
					 c->len == 0 ? "empty content" : "unknown buffer", r->sid);
				rc = -EINVAL;
				goto cleanup;
			}
			contents[ci] = (struct gen_content){
				.rule = i,
				.buffer = c->buffer,
				.negated = c->negated ? 1 : 0,
			};
			dbs[c->buffer].n++;
		}
	}

	for (int b = 0; b < BUF__COUNT; b++) {
		struct db_build *d = &dbs[b];

		if (d->n == 0)
			continue;
		d->exprs = calloc(d->n, sizeof(*d->exprs));
		d->lens = calloc(d->n, sizeof(*d->lens));
		d->flags = calloc(d->n, sizeof(*d->flags));
		d->ids = calloc(d->n, sizeof(*d->ids));
		if (d->exprs == NULL || d->lens == NULL || d->flags == NULL || d->ids == NULL)
			goto nomem;
		d->n = 0;  /* refilled below */
		n_dbs++;
	}
	ci = 0;
	for (uint32_t i = 0; i < rs->n_rules; i++) {
		const struct rule *r = &rs->rules[i];

		for (uint32_t k = 0; k < r->n_contents; k++, ci++) {
			const struct rule_content *c = &r->contents[k];
			struct db_build *d = &dbs[c->buffer];

			d->exprs[d->n] = (const char *)c->bytes;
			d->lens[d->n] = c->len;
			d->flags[d->n] = HS_FLAG_SINGLEMATCH | (c->nocase ? HS_FLAG_CASELESS : 0);
			d->ids[d->n] = ci;
			d->n++;
		}
	}

	for (int b = 0; b < BUF__COUNT; b++) {
		if (dbs[b].n == 0)
			continue;
		rc = compile_db(rs, rules, contents, (enum buffer_id)b, &dbs[b], err, errlen);
		if (rc < 0)
			goto cleanup;
	}

	/* layout: tables, then each database at an 8-byte aligned offset */
	off = gen_tables_len(rs->n_rules, n_contents, n_dbs);
	for (int b = 0; b < BUF__COUNT; b++)
		if (dbs[b].n > 0)
			off = gen_align8(off) + dbs[b].len;
	total = gen_align8(off);

	out = calloc(1, total);
	if (out == NULL)
		goto nomem;

	h = (struct gen_hdr *)out;
	*h = (struct gen_hdr){
		.magic = GEN_MAGIC,
		.version = GEN_VERSION,
		.gen_id = gen_id,
		.total_len = total,
		.n_rules = rs->n_rules,
		.n_contents = n_contents,
		.n_dbs = n_dbs,
	};
	memcpy((void *)gen_rules(h), rules, (size_t)rs->n_rules * sizeof(*rules));
	memcpy((void *)gen_contents(h), contents, (size_t)n_contents * sizeof(*contents));
	gdb = (struct gen_db *)gen_dbs(h);
	off = gen_tables_len(rs->n_rules, n_contents, n_dbs);
	for (int b = 0; b < BUF__COUNT; b++) {
		if (dbs[b].n == 0)
			continue;
		bool stream = buffer_id_is_stream((enum buffer_id)b);

		off = gen_align8(off);
		gdb[di++] = (struct gen_db){
			.buffer = (uint8_t)b,
			.mode = stream ? GEN_DB_STREAM : GEN_DB_BLOCK,
			.n_patterns = dbs[b].n,
			.offset = off,
			.len = dbs[b].len,
		};
		memcpy(out + off, dbs[b].bytes, dbs[b].len);
		off += dbs[b].len;
	}

	rc = gen_blob_check(out, total);
	if (rc < 0) {
		snprintf(err, errlen, "%s: internal error: the new generation fails its check (%s)",
			 rs->path, strerror(-rc));
		goto cleanup;
	}
	*blob = out;
	*blob_len = total;
	out = NULL;
	rc = 0;
	goto cleanup;

nomem:
	snprintf(err, errlen, "%s: out of memory compiling the rules", rs->path);
	rc = -ENOMEM;
cleanup:
	free(out);
	for (int b = 0; b < BUF__COUNT; b++)
		db_build_fini(&dbs[b]);
	free(contents);
	free(rules);
	return rc;
}
