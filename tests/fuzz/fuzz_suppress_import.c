/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness of the opt-out list parser (suppress_import begin/feed/row/end), without
 * a database. The first byte picks the format (its value mod 6: '0' AUTO, '1' CSV, '2' JSONL,
 * '3' XML, '4' plain, '5' rows given straight to suppress_import_row(), one per line with the
 * fields separated by TAB), so that the seeds stay readable; the rest is the input. The
 * input's length picks the normalization flags, a given or guessed CSV delimiter, column
 * overrides, the FILE* path, and where the input is cut. Each input is parsed whole and again
 * in three pieces: results and messages must be the same, and after a successful parse the
 * batch must be sorted, one entry per (key, scope), every record valid, counts consistent.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr_norm.h"
#include "suppress_import.h"
#include "suppress_row.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
	int rc;
	char *err;
	size_t err_len;
	struct suppress_import im;
};

static char
pick_delimiter(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < size && data[i] != '\n' && data[i] != '\r'; i++)
		if (data[i] == ',' || data[i] == ';' || data[i] == '\t' || data[i] == '|')
			return (char)data[i];
	return ',';
}

static int
entry_order(const struct suppress_import_entry *p, const struct suppress_import_entry *e)
{
	int k;

	if (p->table != e->table)
		return p->table < e->table ? -1 : 1;
	k = memcmp(p->key, e->key, SUPPRESS_KEY_LEN);
	if (k != 0)
		return k;
	if ((p->rec.scope == SUPPRESS_SCOPE_ALL) != (e->rec.scope == SUPPRESS_SCOPE_ALL))
		return p->rec.scope == SUPPRESS_SCOPE_ALL ? -1 : 1;
	k = memcmp(p->scope_key, e->scope_key, SUPPRESS_KEY_LEN);
	if (k != 0)
		return k;
	return p->rec.scope < e->rec.scope ? -1 : p->rec.scope > e->rec.scope;
}

static void
check_batch(const struct suppress_import *im, int64_t now)
{
	static const uint8_t zero[SUPPRESS_KEY_LEN];

	if (im->n > im->n_good)
		__builtin_trap();
	for (size_t i = 0; i < im->n; i++) {
		const struct suppress_import_entry *e = &im->v[i];
		bool all = e->rec.scope == SUPPRESS_SCOPE_ALL;

		if (e->table > SUPPRESS_TABLE_DOMAIN || e->rec.version != SUPPRESS_REC_VERSION ||
		    e->rec.scope >= SUPPRESS_SCOPE__COUNT || e->rec.grace_end != 0 ||
		    e->rec.optout_time < 0 || e->rec.optout_time > now + 86400 ||
		    e->rec.consent_time < 0 || e->rec.consent_time > now + 86400 ||
		    e->rec.source_line < 1 ||
		    (memcmp(e->scope_key, zero, sizeof(zero)) == 0) != all)
			__builtin_trap();
		if (i > 0 && entry_order(&im->v[i - 1], e) >= 0)
			__builtin_trap();
	}
}

/* Rows mode: each line "addr TAB optout TAB consent TAB scope". */
static int
feed_rows(struct suppress_import *im, const uint8_t *p, size_t n)
{
	uint64_t line = 1;
	int rc = 0;

	while (n > 0 && rc == 0) {
		const uint8_t *nl = memchr(p, '\n', n);
		size_t len = nl != NULL ? (size_t)(nl - p) : n;
		struct slice f[4] = { { p, 0 }, { p, 0 }, { p, 0 }, { p, 0 } };
		size_t k = 0, start = 0;

		for (size_t i = 0; i <= len && k < 4; i++) {
			if (i == len || p[i] == '\t') {
				f[k++] = slice_make(p + start, i - start);
				start = i + 1;
			}
		}
		struct suppress_row row = { f[0], f[1], f[2], f[3], line++ };

		rc = suppress_import_row(im, &row);
		p += len + (nl != NULL);
		n -= len + (nl != NULL);
	}
	return rc;
}

static void
parse(const uint8_t *data, size_t size, const struct suppress_import_opts *o_in,
      const size_t *cuts, size_t n_cuts, bool use_file, struct outcome *out)
{
	struct suppress_import_opts o = *o_in;
	FILE *ef;

	out->err = NULL;
	out->err_len = 0;
	ef = open_memstream(&out->err, &out->err_len);
	if (ef == NULL)
		abort();
	o.err = ef;
	if (suppress_import_init(&out->im) != 0)
		abort();
	if (o.format == SUPPRESS_FMT_ROWS) {
		out->rc = suppress_import_begin(&out->im, &o);
		if (out->rc == 0) {
			feed_rows(&out->im, data, size);
			out->rc = suppress_import_end(&out->im);
		}
	} else if (use_file && size > 0) {
		FILE *in = fmemopen((void *)data, size, "r");

		if (in == NULL)
			abort();
		out->rc = suppress_import_parse(&out->im, in, &o);
		fclose(in);
	} else {
		size_t at = 0;

		out->rc = suppress_import_begin(&out->im, &o);
		if (out->rc == 0) {
			for (size_t i = 0; i <= n_cuts; i++) {
				size_t end = i < n_cuts ? cuts[i] : size;

				suppress_import_feed(&out->im, data + at, end - at);
				at = end;
			}
			out->rc = suppress_import_end(&out->im);
		}
	}
	fclose(ef);
	if (out->im.ctx != NULL)
		__builtin_trap(); /* end must free the parser state, whatever happened */
}

static void
same(const struct outcome *a, const struct outcome *b)
{
	if (a->rc != b->rc || a->err_len != b->err_len || memcmp(a->err, b->err, a->err_len) != 0 ||
	    a->im.n_good != b->im.n_good || a->im.n_bad != b->im.n_bad || a->im.n != b->im.n ||
	    (a->im.n > 0 && memcmp(a->im.v, b->im.v, a->im.n * sizeof(a->im.v[0])) != 0)) {
		fprintf(stderr, "split changed the result: rc %d/%d\n--\n%.*s--\n%.*s--\n", a->rc,
			b->rc, (int)a->err_len, a->err, (int)b->err_len, b->err);
		__builtin_trap();
	}
}

static void
outcome_free(struct outcome *o)
{
	free(o->err);
	suppress_import_fini(&o->im);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct suppress_import_opts o = {
		.name = "fuzz",
		.now = 1735689600, /* 2025-01-01T00:00:00Z */
		.max_rows = 4096,
	};
	struct outcome whole, split;
	size_t cuts[2];

	if (size == 0)
		return 0;
	o.format = (enum suppress_import_format)(data[0] % SUPPRESS_FMT__COUNT);
	data++;
	size--;
	o.norm_flags = (size >> 1) & ADDR_NORM_FLAGS_ALL;
	if ((size >> 3) & 1)
		o.delimiter = pick_delimiter(data, size);
	if ((size >> 4) & 1) {
		o.email_column = "to";
		o.scope_column = "s";
	}

	parse(data, size, &o, NULL, 0, false, &whole);
	if (whole.rc == 0)
		check_batch(&whole.im, o.now);

	cuts[0] = size > 0 ? (size * 7919u) % (size + 1) : 0;
	cuts[1] = size > 0 ? (size * 104729u) % (size + 1) : 0;
	if (cuts[0] > cuts[1]) {
		size_t t = cuts[0];

		cuts[0] = cuts[1];
		cuts[1] = t;
	}
	if (o.format != SUPPRESS_FMT_ROWS) {
		parse(data, size, &o, cuts, 2, (size >> 5) & 1, &split);
		same(&whole, &split);
		outcome_free(&split);
	}
	outcome_free(&whole);
	return 0;
}
