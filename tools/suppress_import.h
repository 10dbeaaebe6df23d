/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parsing of an opt-out list into a batch of keyed records, without a database, so that it can
 * be tested and fuzzed alone: a resumable stream (begin, feed pieces split anywhere, end) that
 * reads one of four formats, told by the caller or guessed from the first bytes, and turns
 * every row into a struct suppress_row given to suppress_import_row(), the one place where a
 * row is judged: good rows become keyed entries, bad ones are reported as "NAME:LINE: reason"
 * and counted. end() leaves the batch sorted and merged per (key, scope). Writing the batch is
 * suppress_load.c's job.
 * An ODBC sync gives rows straight to suppress_import_row() (format SUPPRESS_FMT_ROWS).
 *
 * Formats (text is UTF-8; line ends are LF, CRLF or CR alone; a UTF-8 BOM is ignored):
 *   CSV    a header row, then rows (libcsv: RFC 4180 quoting, fields over several lines).
 *          Delimiter: opts->delimiter, or the most frequent of , ; TAB | on the header line
 *          (',' when none). Blank rows and rows of empty fields (",,,") are ignored.
 *   JSONL  one JSON object per line, e.g. {"email":"a@b.example","optout":"2025-01-05"};
 *          blank lines ignored. Values are strings or null (= absent); the two times may also
 *          be integers (seconds since 1970). Unknown keys are ignored; two keys for one column,
 *          bad JSON, a value of another type or a line over SUPPRESS_IMPORT_LINE_MAX bytes
 *          make the row bad.
 *   XML    <suppressions> holding <entry> elements, the columns as attributes or as child
 *          elements (both forms may be mixed; see tests/data/suppress/sample.xml):
 *            <suppressions>
 *              <entry email="a@b.example" optout="2025-01-05" scope="sender:news.example"/>
 *              <entry><email>c@b.example</email><optout>2025-01-05</optout></entry>
 *            </suppressions>
 *          Unknown attributes and child elements are ignored; another element than <entry>
 *          in <suppressions>, an element inside a column's element, text directly in
 *          <entry>, or a column given twice make the row bad. Malformed XML, a DOCTYPE (no
 *          DTD, hence no entity can be declared or loaded), another root element, elements
 *          nested over SUPPRESS_IMPORT_XML_DEPTH_MAX deep or a tag, comment or processing
 *          instruction over SUPPRESS_IMPORT_LINE_MAX bytes fail the whole file.
 *   PLAIN  one address per line, optionally followed by white space and a time; lines that
 *          are blank or start with '#' are ignored, and so is " #..." after the address or
 *          the time. Without a time the opt-out time is opts->now, the time of the import.
 *          Addresses with a quoted local part holding spaces cannot be written this way.
 * Columns (CSV header names, JSON keys, XML attribute and element names; ASCII case
 * insensitive): see suppress_import_column_of(). A row needs an address and an opt-out time;
 * the consent time and the scope are optional.
 *
 * Values: an address "user@domain", or "@domain" for a whole domain. Times are UTC:
 * YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, "YYYY-MM-DD HH:MM:SS" or @SECONDS, years 1970..2199 (the
 * business-day calendar's range), and not later than a day after opts->now (a future opt-out
 * is a typo, not a request). A scope is "" or "all", "sender:DOMAIN" or "list:LIST-ID"
 * (suppress_scope_parse()). Each value is at most SUPPRESS_IMPORT_VALUE_MAX bytes.
 *
 * Bounded: a CSV field is at most SUPPRESS_IMPORT_FIELD_MAX bytes, a JSONL or plain line
 * SUPPRESS_IMPORT_LINE_MAX, a file at most max_rows good rows; memory is the batch plus a few
 * buffers of those sizes. posternctl only (and its tests and fuzzer); one thread per struct
 * suppress_import.
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
#include "suppress_row.h"
#include "suppress_writer.h"

#define SUPPRESS_IMPORT_FIELD_MAX 65536u   /* a CSV field, used or not */
#define SUPPRESS_IMPORT_LINE_MAX (SUPPRESS_IMPORT_FIELD_MAX * 4) /* JSONL/plain line, XML tag */
#define SUPPRESS_IMPORT_VALUE_MAX 512      /* a value of a column we use */
#define SUPPRESS_IMPORT_MAX_ROWS (32u << 20) /* ~3.5 GB of batch; split bigger lists */
#define SUPPRESS_IMPORT_FUTURE_SLACK 86400 /* a date may be this far past `now` */
#define SUPPRESS_IMPORT_YEAR_MAX 2199      /* last year the business-day calendar knows */
#define SUPPRESS_IMPORT_XML_DEPTH_MAX 16   /* element nesting */
#define SUPPRESS_IMPORT_SNIFF_MAX 16384    /* bytes looked at to tell the format */
#define SUPPRESS_TIME_STR 24               /* "YYYY-MM-DDTHH:MM:SSZ", "@-SECONDS", NUL */

enum suppress_import_format {
	SUPPRESS_FMT_AUTO = 0,  /* suppress_import_detect() on the first bytes */
	SUPPRESS_FMT_CSV = 1,
	SUPPRESS_FMT_JSONL = 2,
	SUPPRESS_FMT_XML = 3,
	SUPPRESS_FMT_PLAIN = 4,
	SUPPRESS_FMT_ROWS = 5,  /* no bytes: rows come through suppress_import_row() only */
};
#define SUPPRESS_FMT__COUNT 6

struct suppress_import_opts {
	const char *name;            /* the file in messages ("-" for stdin, "sync:X") */
	const char *email_column;    /* NULL: the default names (suppress_import_column_of) */
	const char *date_column;     /* NULL: the default names */
	const char *consent_column;  /* NULL: the default names, and the column is optional */
	const char *scope_column;    /* NULL: "scope", and the column is optional */
	enum suppress_import_format format; /* 0: AUTO */
	char delimiter;              /* CSV; 0: guessed from the header line */
	bool skip_bad;               /* commit the good rows even when some are bad */
	unsigned norm_flags;         /* the set's, suppress_db_norm_flags() */
	int64_t now;                 /* seconds since the epoch */
	uint64_t max_rows;           /* 0: SUPPRESS_IMPORT_MAX_ROWS */
	FILE *err;                   /* where reports go; NULL: stderr */
};

struct suppress_import_ctx;

/* One keyed opt-out. grace_end is left 0 (the loader computes it with the configured
 * calendar); rec.scope is the scope's kind, scope_key its suppress_scope_key(). */
struct suppress_import_entry {
	uint8_t key[SUPPRESS_KEY_LEN];       /* address or domain key */
	uint8_t scope_key[SUPPRESS_KEY_LEN]; /* zero for SUPPRESS_SCOPE_ALL */
	uint8_t table;                       /* enum suppress_table: ADDR or DOMAIN */
	uint8_t pad[7];
	struct suppress_rec rec;             /* rec.scope = kind */
};

struct suppress_import {
	/* After end: sorted by (table, key, scope ALL first, scope_key, scope kind), one entry
	 * per (table, key, scope kind, scope_key), merged with suppress_rec_merge(). */
	struct suppress_import_entry *v;
	size_t n;
	size_t cap;
	uint64_t n_good;             /* rows accepted */
	uint64_t n_bad;              /* rows refused (reported) */
	enum suppress_import_format format; /* the format actually read (AUTO resolved) */
	struct addr_hasher hasher;
	struct suppress_import_ctx *ctx; /* parser state between begin and end */
};

/* 0, or -ENOMEM/-ENOSYS from the hasher. */
int suppress_import_init(struct suppress_import *im);
void suppress_import_fini(struct suppress_import *im);

/*
 * The parser as a resumable stream: begin, feed any number of pieces split anywhere, end.
 * o must stay valid until end. begin returns 0, -EBUSY (begun already), -EINVAL (a bad
 * delimiter or format, reported) or -ENOMEM. feed returns 0 or the failure of the whole file
 * (then stop feeding; end returns it too). end returns 0 when every row was read (bad rows are
 * counted in n_bad and reported) and leaves the batch sorted and merged, or a negative errno
 * after reporting a failure of the whole file: -EBADMSG (format not recognized, an empty file
 * in AUTO, no CSV header or a needed column missing, malformed CSV or XML, a CSV field too
 * long, a DTD), -E2BIG (more than max_rows rows), -ENOMEM. One begin per init.
 */
int suppress_import_begin(struct suppress_import *im, const struct suppress_import_opts *o);
int suppress_import_feed(struct suppress_import *im, const void *buf, size_t len);
int suppress_import_end(struct suppress_import *im);

/*
 * Judge one row, between begin and end (any format; with SUPPRESS_FMT_ROWS the only input):
 * a good row is keyed and added to the batch; a bad one is reported as "NAME:LINE: reason"
 * (row->line) and counted in n_bad. The slices are only read during the call. Returns 0 for
 * either, or the failure of the whole import (also returned by end): -E2BIG (more than
 * max_rows good rows), -ENOMEM, -EIO (hashing failed), -EINVAL (not between begin and end).
 */
int suppress_import_row(struct suppress_import *im, const struct suppress_row *row);

/*
 * The column a CSV header name, JSON key, XML attribute/element or SQL column name stands
 * for (ASCII case insensitive, surrounding white space ignored), as enum suppress_column, or
 * -1 for none. Without an override in o (o may be NULL):
 *   address  email, address, e-mail, recipient         (--email-column)
 *   opt-out  optout_date, opt_out, optout, date, unsubscribed_at  (--date-column)
 *   consent  consent_date, consent                     (--consent-column)
 *   scope    scope                                     (o->scope_column)
 * An override replaces that column's default names. Any thread.
 */
int suppress_import_column_of(const struct suppress_import_opts *o, struct slice name);

/*
 * Tell the format of a stream from its first bytes (buf, len; at_eof: there are no more).
 * After a UTF-8 BOM and white space: '{' is JSONL, '#' plain, '[' none (a JSON array), '<'
 * XML unless the first word is an address in angle brackets ("<a@b.example>": plain).
 * Otherwise the first line decides: holding o->delimiter (when set) or one of , ; | it is a
 * CSV header; a first word holding '@' is an address (plain); a TAB, or a line that is a
 * column name, is a CSV header. Returns the format, with *delim the CSV delimiter
 * (o->delimiter, or the most frequent of , ; TAB | outside quotes; ',' for other formats);
 * SUPPRESS_FMT_AUTO (0) when more bytes are needed (never when at_eof); -ENODATA when there
 * is nothing but a BOM and white space; -EBADMSG when the first line is none of these.
 * Any thread.
 */
int suppress_import_detect(const void *buf, size_t len, bool at_eof,
			   const struct suppress_import_opts *o, char *delim);

/* begin, feed the whole stream, end; also -EIO on a read error. */
int suppress_import_parse(struct suppress_import *im, FILE *in,
			  const struct suppress_import_opts *o);

/* mkdir -p path (mode 0750 for what it creates): 0 or -errno. */
int suppress_import_mkdirs(const char *path);

/* Parse a time: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, "YYYY-MM-DD HH:MM:SS" (years up to 9999) or
 * @SECONDS (spaces around allowed): 0, -EINVAL, or -ERANGE (before 1970). */
int suppress_import_parse_time(struct slice s, int64_t *t);

/* Format t as YYYY-MM-DDTHH:MM:SSZ into buf (SUPPRESS_TIME_STR bytes); years outside 0..9999
 * print as "@SECONDS". */
void suppress_import_format_time(int64_t t, char buf[SUPPRESS_TIME_STR]);
