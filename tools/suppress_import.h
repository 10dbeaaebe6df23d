/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Import of an opt-out list from CSV into the suppression set, in two steps so that the parser
 * can be tested and fuzzed without a database: suppress_import_parse() reads a whole stream
 * (a file, stdin, or a buffer through fmemopen) with libcsv, reports each bad row as
 * "FILE:LINE: reason", and leaves a batch of keyed records sorted and merged per key;
 * suppress_import_write() writes that batch in one transaction (MDB_APPEND into an empty
 * table, merged with existing records otherwise). suppress_import_run() does both with the
 * all-or-nothing rule of `posternctl suppress import`.
 *
 * The file has a header row. Columns are found by name, ASCII case-insensitive (a UTF-8 BOM
 * is ignored): the address in email, address, e-mail or recipient; the opt-out time in
 * optout_date, opt_out, date or unsubscribed_at; an optional consent time in consent_date.
 * Blank lines and rows whose fields are all empty (",,,") are ignored. An address
 * "@example.com" is a whole domain. Times are UTC: YYYY-MM-DD,
 * YYYY-MM-DDTHH:MM:SSZ or "YYYY-MM-DD HH:MM:SS", years 1970..9999, and not later than one day
 * after `now` (a future opt-out is a typo, not a request).
 *
 * Bounded: a field is at most SUPPRESS_IMPORT_FIELD_MAX bytes and a file at most max_rows good
 * rows; past either the whole import fails. posternctl only (and its tests and fuzzer); not
 * thread-safe across one struct suppress_import.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "addr_norm.h"
#include "slice.h"
#include "suppress_db.h"
#include "suppress_writer.h"

#define SUPPRESS_IMPORT_FIELD_MAX 65536u
#define SUPPRESS_IMPORT_MAX_ROWS (32u << 20)  /* ~2.3 GB of batch; split bigger lists */
#define SUPPRESS_IMPORT_FUTURE_SLACK 86400    /* a date may be this far past `now` */
#define SUPPRESS_TIME_STR 24                  /* "YYYY-MM-DDTHH:MM:SSZ", "@-SECONDS", NUL */

struct suppress_import_opts {
	const char *name;            /* the file in messages ("-" for stdin) */
	const char *email_column;    /* NULL: the names above */
	const char *date_column;     /* NULL: the names above */
	const char *consent_column;  /* NULL: consent_date, and it is optional */
	char delimiter;              /* 0: ',' */
	bool skip_bad;               /* commit the good rows even when some are bad */
	unsigned norm_flags;         /* the set's, suppress_db_norm_flags() */
	int64_t now;                 /* seconds since the epoch */
	uint64_t max_rows;           /* 0: SUPPRESS_IMPORT_MAX_ROWS */
	FILE *err;                   /* where reports go; NULL: stderr */
};

struct suppress_import_ctx;

struct suppress_import_entry {
	uint8_t key[SUPPRESS_KEY_LEN];
	uint8_t table;               /* enum suppress_table */
	uint8_t pad[7];
	struct suppress_rec rec;
};

struct suppress_import {
	struct suppress_import_entry *v;  /* after parse: sorted by (table, key), unique */
	size_t n;
	size_t cap;
	uint64_t n_good;             /* rows accepted */
	uint64_t n_bad;              /* rows refused (reported) */
	uint64_t n_written;          /* records written by suppress_import_write() */
	struct addr_hasher hasher;
	struct suppress_import_ctx *ctx; /* parser state between begin and end */
};

/* 0, or -ENOMEM/-ENOSYS from the hasher. */
int suppress_import_init(struct suppress_import *im);
void suppress_import_fini(struct suppress_import *im);

/*
 * The parser as a resumable stream: begin, feed any number of pieces split anywhere, end.
 * o must stay valid until end. feed returns 0 or the file's failure (then stop feeding; end
 * returns it too). end returns 0 when every row was read (bad rows are counted in n_bad and
 * reported) and leaves the batch sorted and merged, or a negative errno after reporting a
 * failure of the file itself: -EBADMSG (no header, a needed column missing, malformed quoting,
 * a field too long), -E2BIG (more than max_rows rows), -ENOMEM. One begin per init.
 */
int suppress_import_begin(struct suppress_import *im, const struct suppress_import_opts *o);
int suppress_import_feed(struct suppress_import *im, const void *buf, size_t len);
int suppress_import_end(struct suppress_import *im);

/* begin, feed the whole stream, end; also -EIO on a read error. */
int suppress_import_parse(struct suppress_import *im, FILE *in,
			  const struct suppress_import_opts *o);

/* Write the parsed batch in one transaction on db (opened for writing). 0 or -errno; on error
 * nothing is written. */
int suppress_import_write(struct suppress_import *im, struct suppress_db *db);

/*
 * The whole `suppress import`: key the file with the flags of the set at path (the default
 * ones when there is no set yet), parse it, and only when it was read whole and every row was
 * good (or skip_bad) create path and the set if missing and write the batch in one
 * transaction. On any failure nothing is created or changed. Returns 0 (committed), -EBADMSG
 * or -E2BIG (the data was refused, reported), -ESTALE (the set was created meanwhile with
 * other flags: run again), or another negative errno. o->norm_flags is ignored. Counts are
 * left in *im (init'ed and fini'ed by the caller).
 */
int suppress_import_run(struct suppress_import *im, const char *path, uint64_t map_size,
			FILE *in, const struct suppress_import_opts *o);

/* mkdir -p path (mode 0750 for what it creates): 0 or -errno. */
int suppress_import_mkdirs(const char *path);

/* Parse one of the three time formats (spaces around allowed): 0 or -EINVAL/-ERANGE. */
int suppress_import_parse_time(struct slice s, int64_t *t);

/* Format t as YYYY-MM-DDTHH:MM:SSZ into buf (SUPPRESS_TIME_STR bytes); years outside 0..9999
 * print as "@SECONDS". */
void suppress_import_format_time(int64_t t, char buf[SUPPRESS_TIME_STR]);
