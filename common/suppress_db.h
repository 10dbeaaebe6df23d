/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The suppression set: opted-out recipients in an LMDB environment, one writer (posternctl),
 * any number of lock-free readers (dataplane workers).
 *
 * Layout (named databases in one environment, documented in the README):
 *   "addr"   key: SHA-256 of the normalized address (32 bytes)  value: struct suppress_rec
 *   "domain" key: SHA-256 of "@" + normalized domain (32 bytes) value: struct suppress_rec
 *   "meta"   key: "format"                                      value: "postern-suppress-1"
 * Addresses themselves are never stored: the set can be deployed without holding them.
 *
 * Threads: suppress_db_open/close on the main lcore or in a tool; one suppress_reader per
 * worker lcore, used only by that lcore; the writer functions only in posternctl.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "slice.h"

#define SUPPRESS_KEY_LEN 32
#define SUPPRESS_GRACE_BUSINESS_DAYS 10

enum suppress_scope {
	SUPPRESS_SCOPE_ALL = 0,     /* all commercial mail from the company */
	SUPPRESS_SCOPE_SENDER = 1,  /* one sender domain or list id (issue 6) */
};

/* Value stored for every key; fixed size, host byte order, versioned. */
struct suppress_rec {
	uint8_t version;            /* 1 */
	uint8_t scope;              /* enum suppress_scope */
	uint16_t reserved;
	uint32_t source_line;       /* line of the import file that set it, 0 if none */
	int64_t optout_time;        /* seconds since the epoch, UTC */
	int64_t grace_end;          /* optout_time + 10 business days, computed at import */
	int64_t consent_time;       /* a later affirmative consent, 0 if none */
};

struct suppress_verdict {
	uint8_t verdict;            /* enum ipc_suppress_verdict */
	uint8_t scope;
	bool domain_wide;           /* matched through the "domain" table */
	int64_t optout_time;
	int64_t grace_end;
	int64_t consent_time;
};

struct suppress_db;

/*
 * Open an environment. Read-only opens fail with -ENOENT when the file does not exist.
 * Returns NULL and sets errno; LMDB errors are logged with mdb_strerror.
 */
struct suppress_db *suppress_db_open(const char *path, bool read_only);
void suppress_db_close(struct suppress_db *db);

/* A worker's reader: one long-lived read transaction, reset and renewed once per burst. */
struct suppress_reader;

struct suppress_reader *suppress_reader_create(struct suppress_db *db);
void suppress_reader_destroy(struct suppress_reader *r);

/* Mark the reader's snapshot stale; the next lookup renews it. Once per burst. */
void suppress_reader_release(struct suppress_reader *r);

/*
 * Look up a recipient as it came off the wire (angle brackets and spaces allowed) and decide
 * its verdict at `now` (seconds since the epoch). Returns 0 with *out filled (verdict NONE if
 * absent), -EINVAL if the address cannot be normalized, or another negative errno.
 * Worker lcore; no allocation for ASCII addresses.
 */
int suppress_lookup(struct suppress_reader *r, struct slice addr, int64_t now,
		    struct suppress_verdict *out);

/* The verdict a record gives at `now`: none before the opt-out or once a later consent was
 * given, grace until grace_end, violation after. Pure. */
uint8_t suppress_rec_verdict(const struct suppress_rec *rec, int64_t now);
