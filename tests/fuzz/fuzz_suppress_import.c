/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness of the CSV opt-out list parser (suppress_import begin/feed/end and the
 * FILE* path through fmemopen), without a database. The input is a plain CSV file so that the
 * seeds stay readable: the delimiter is the first of , ; TAB | on the first line, and the
 * input's length picks skip_bad, the normalization flags, the FILE* or the two-piece path and
 * where the pieces split. After a successful parse the batch must be sorted, one entry per
 * key, every record valid, and the counts consistent.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr_norm.h"
#include "suppress_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char
pick_delimiter(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < size && data[i] != '\n' && data[i] != '\r'; i++)
		if (data[i] == ',' || data[i] == ';' || data[i] == '\t' || data[i] == '|')
			return (char)data[i];
	return ',';
}

static void
check_batch(const struct suppress_import *im)
{
	if (im->n > im->n_good)
		__builtin_trap();
	for (size_t i = 0; i < im->n; i++) {
		const struct suppress_import_entry *e = &im->v[i];

		if (e->table > SUPPRESS_TABLE_DOMAIN || e->rec.version != SUPPRESS_REC_VERSION ||
		    e->rec.grace_end <= e->rec.optout_time || e->rec.source_line < 2)
			__builtin_trap();
		if (i > 0) {
			const struct suppress_import_entry *p = &im->v[i - 1];

			if (p->table > e->table ||
			    (p->table == e->table && memcmp(p->key, e->key, sizeof(e->key)) >= 0))
				__builtin_trap();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct suppress_import_opts o = {
		.name = "fuzz.csv",
		.now = 1735689600, /* 2025-01-01T00:00:00Z */
		.max_rows = 4096,
		.delimiter = pick_delimiter(data, size),
		.skip_bad = size & 1,
		.norm_flags = (size >> 1) & ADDR_NORM_FLAGS_ALL,
	};
	struct suppress_import im;
	int rc;

	if (devnull == NULL)
		devnull = fopen("/dev/null", "w");
	if (devnull == NULL)
		abort();
	o.err = devnull;
	if (suppress_import_init(&im) != 0)
		abort();

	if ((size >> 3) & 1 && size > 0) {
		FILE *in = fmemopen((void *)data, size, "r");

		if (in == NULL)
			abort();
		rc = suppress_import_parse(&im, in, &o);
		fclose(in);
	} else {
		size_t cut = size > 0 ? (size * 7919u) % (size + 1) : 0;

		rc = suppress_import_begin(&im, &o);
		if (rc == 0) {
			suppress_import_feed(&im, data, cut);
			suppress_import_feed(&im, data + cut, size - cut);
			rc = suppress_import_end(&im);
		}
	}
	if (rc == 0)
		check_batch(&im);
	else if (im.ctx != NULL)
		__builtin_trap(); /* end must free the parser state, whatever happened */
	suppress_import_fini(&im);
	return 0;
}
