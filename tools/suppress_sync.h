/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading opt-outs from a company's own database (its CRM's opt-out table) through ODBC, for
 * `posternctl suppress sync`: connect with an ODBC connection string, run one configured
 * query, find its columns by name as the importer names them (suppress_import_column_of:
 * "SELECT addr AS email, ts AS optout_date, ..." when the table's names differ), and hand
 * every row to suppress_import_row() with its row number (from 1) as the line. What makes a
 * good row, the keying and the batch are the importer's; this module only moves values out of
 * the driver, bounded, and turns the driver's diagnostics into one-line messages.
 *
 * Values: text columns are read as SQL_C_WCHAR (the one character type whose encoding ODBC
 * defines) and converted to UTF-8, so that addresses keep their non-ASCII characters whatever
 * the process locale; date and timestamp columns are read as SQL_TIMESTAMP_STRUCT and written
 * "YYYY-MM-DD HH:MM:SS" (fractions of a second dropped: the set keeps seconds). Timestamps are
 * taken as UTC; a "timestamp with time zone" is read in the session's time zone, so such a
 * query should say `col AT TIME ZONE 'UTC'`. SQL NULL is an empty value. A value longer than
 * SUPPRESS_IMPORT_FIELD_MAX bytes, or text that is not valid UTF-16, makes its row bad
 * (reported and counted in im->n_bad like the importer's own bad rows).
 *
 * It does not write the suppression set (suppress_load_batch does) and never prints a
 * password: a connection string in a message has its PWD/Password value masked, and that
 * value is also masked in the driver's messages. Blocking; posternctl's main thread only.
 * Needs unixODBC (-lodbc) and a driver for the database.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "suppress_import.h"

#define SUPPRESS_SYNC_TIMEOUT 30u        /* seconds for the login and for the query */
#define SUPPRESS_SYNC_TIMEOUT_MAX 86400u
#define SUPPRESS_SYNC_MSG_MAX 1024       /* one driver message kept for a report */

struct suppress_sync_opts {
	const char *dsn;    /* ODBC connection string ("Driver={...};Server=...;...") */
	const char *query;  /* one SELECT */
	unsigned timeout;   /* seconds for the login and for the query; 0: SUPPRESS_SYNC_TIMEOUT */
	FILE *err;          /* where reports go; NULL: stderr */
};

struct suppress_sync_stats {
	uint64_t rows;      /* rows fetched (good, bad and empty) */
	uint32_t columns;   /* columns of the result */
	uint32_t mapped;    /* of which the importer knows by name */
};

/*
 * Fetch the query's rows into im (suppress_import_init'ed by the caller, no parse begun):
 * suppress_import_begin() with a copy of io whose format is SUPPRESS_FMT_ROWS, one
 * suppress_import_row() per row, suppress_import_end().
 * io->name prefixes every message ("sync:NAME: connect failed (DSN): [08001] ..."). Returns 0
 * when every row was read (bad rows reported and counted in im->n_bad; the batch is left
 * sorted and merged as after suppress_import_end), or after reporting it:
 *   -EINVAL      no connection string or no query;
 *   -ENOTCONN    the connection failed (driver not found, server unreachable, login refused);
 *   -EIO         the query or a fetch failed (SQL error, timeout, a lost connection);
 *   -EBADMSG     the result has no address or no opt-out time column (the message names the
 *                columns it has), or the importer refused the batch as a whole;
 *   -E2BIG       more rows than io->max_rows;
 *   -ENOMEM.
 * st (may be NULL) gets the counts also on failure.
 */
int suppress_sync_fetch(struct suppress_import *im, const struct suppress_import_opts *io,
			const struct suppress_sync_opts *so, struct suppress_sync_stats *st);

/*
 * dsn fit for a message: the value of every PWD or Password key (any case, braced or not)
 * replaced by "***". out gets at most cap - 1 bytes and a NUL (a longer result is cut and ends
 * in "..."); returns out. Pure; any thread.
 */
char *suppress_sync_mask_dsn(const char *dsn, char *out, size_t cap);
