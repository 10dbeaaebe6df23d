/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The suppression set: opted-out recipients in an LMDB environment, one writer (posternctl),
 * any number of lock-free readers (dataplane workers).
 *
 * Layout (named databases in one environment, documented in the README):
 *   "addr"   key: SHA-256 of the normalized address (32 bytes)  value: struct suppress_rec
 *   "domain" key: SHA-256 of "@" + normalized domain (32 bytes) value: struct suppress_rec
 *   "scoped" key: an "addr" or "domain" key + the scope's key    value: struct suppress_rec
 *            (64 bytes; suppress_scope_key), for entries that hold for one sender domain or
 *            one mailing list only
 *   "source" key: source id (uint32, big-endian)                 value: struct suppress_source
 *   "meta"   key: "format"                                      value: "postern-suppress-1"
 *            key: "norm_flags" (see suppress_writer.h), "calendar" (the business-day
 *            calendar's fingerprint grace_end was computed with)
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
	SUPPRESS_SCOPE_SENDER = 1,  /* mail from one sender domain (envelope or From header) */
	SUPPRESS_SCOPE_LIST = 2,    /* mail of one mailing list (List-Id, RFC 2919) */
};
#define SUPPRESS_SCOPE__COUNT 3

/* Value stored for every key; fixed size, host byte order, versioned. */
struct suppress_rec {
	uint8_t version;            /* 2; version 1 (32 bytes, without source_id) is still read */
	uint8_t scope;              /* enum suppress_scope */
	uint8_t flags;              /* SUPPRESS_REC_* */
	uint8_t reserved;
	uint32_t source_line;       /* line (or query row) of the source that set it, 0 if none */
	int64_t optout_time;        /* seconds since the epoch, UTC */
	int64_t grace_end;          /* optout_time + 10 business days, computed when written */
	int64_t consent_time;       /* a later affirmative consent, 0 if none */
	uint32_t source_id;         /* "source" table: the file or sync that set it, 0 if none */
	uint32_t reserved2;
};

#define SUPPRESS_REC_DOMAIN 0x01    /* a whole domain (set on records of the "scoped" table) */

/* Where the scope that matched came from, so that alerts can name it. */
enum suppress_scope_origin {
	SUPPRESS_ORIGIN_NONE = 0,     /* scope "all" */
	SUPPRESS_ORIGIN_ENVELOPE = 1, /* the MAIL FROM domain */
	SUPPRESS_ORIGIN_HEADER = 2,   /* the From header's domain */
	SUPPRESS_ORIGIN_LIST_ID = 3,  /* the List-Id header */
};

#define SUPPRESS_SCOPES_MAX 4

/*
 * The scopes a message belongs to, for entries that hold for one sender domain or one list
 * only: filled per transaction with suppress_scopes_add(), passed to every lookup.
 */
struct suppress_scopes {
	unsigned n;
	uint8_t kind[SUPPRESS_SCOPES_MAX];   /* enum suppress_scope */
	uint8_t origin[SUPPRESS_SCOPES_MAX]; /* enum suppress_scope_origin */
	uint8_t key[SUPPRESS_SCOPES_MAX][SUPPRESS_KEY_LEN];
};

struct suppress_verdict {
	uint8_t verdict;            /* enum ipc_suppress_verdict */
	uint8_t scope;
	uint8_t origin;             /* enum suppress_scope_origin of a scoped match */
	bool domain_wide;           /* matched a whole-domain entry */
	int64_t optout_time;
	int64_t grace_end;
	int64_t consent_time;
};

#define SUPPRESS_LIST_ID_MAX 255    /* longest list id kept (RFC 2919 ids are short) */

struct addr_hasher;

/*
 * Key of a scope (the second half of a key in the "scoped" table): SHA-256 of "sender:" + the
 * normalized domain (addr_domain), or of "list:" + the list id (suppress_list_id). value is the
 * domain or the list id as written. 0, -EINVAL (not a domain or list id, or kind ALL), or the
 * addr_domain()/hasher error.
 */
int suppress_scope_key(struct addr_hasher *h, enum suppress_scope kind, struct slice value,
		       uint8_t key[SUPPRESS_KEY_LEN]);

/*
 * An operator's scope as written in a file or on the command line: "" or "all" (any case)
 * gives SUPPRESS_SCOPE_ALL and a zeroed key; "sender:DOMAIN" and "list:LIST-ID" (prefix in
 * any case) their kind and suppress_scope_key(). 0 or -EINVAL.
 */
int suppress_scope_parse(struct addr_hasher *h, struct slice spec, uint8_t *kind,
			 uint8_t key[SUPPRESS_KEY_LEN]);

/*
 * The list id of a List-Id header value ("Weekly news <news.example.com>") or of an operator's
 * "<news.example.com>" / "news.example.com": the text inside the last <...>, else the whole
 * trimmed value, lowercased (ASCII). out gets it NUL-terminated. Returns its length, or
 * -EINVAL when empty or holding a space, control byte or bracket, -ENAMETOOLONG over
 * SUPPRESS_LIST_ID_MAX, -ENOBUFS when cap is too small.
 */
int suppress_list_id(struct slice value, char *out, size_t cap);

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

/* Whether the reader's snapshot holds any scoped entry (true when it cannot tell), so that
 * a caller can skip looking again with more scopes. */
bool suppress_reader_has_scoped(struct suppress_reader *r);

/* Consult the set's negative filter (the default) or not: the answers are the same, only
 * slower without; for tests and benchmarks. */
void suppress_reader_use_filter(struct suppress_reader *r, bool on);

/* Mark the reader's snapshot stale; the next lookup renews it. Once per burst. */
void suppress_reader_release(struct suppress_reader *r);

/*
 * Add a scope of the message (a sender domain or a List-Id value, as in the message) to sc,
 * keyed with the reader's hasher; a scope already there or past SUPPRESS_SCOPES_MAX is
 * ignored. 0, or -EINVAL when value is not a domain or list id (nothing added). Worker lcore.
 */
int suppress_scopes_add(struct suppress_reader *r, struct suppress_scopes *sc,
			enum suppress_scope kind, enum suppress_scope_origin origin,
			struct slice value);

/*
 * Look up a recipient as it came off the wire (angle brackets and spaces allowed) and decide
 * its verdict at `now` (seconds since the epoch). Returns 0 with *out filled (verdict NONE if
 * absent), -EINVAL if the address cannot be normalized, or another negative errno.
 * Worker lcore; no allocation for ASCII addresses.
 */
int suppress_lookup(struct suppress_reader *r, struct slice addr, int64_t now,
		    struct suppress_verdict *out);

/*
 * suppress_lookup() that also considers the entries scoped to one of the message's scopes
 * (sc may be NULL or empty). The most severe verdict wins; on a tie an entry for all mail,
 * then the address's own entry. The scoped table is only searched when it holds anything.
 */
int suppress_lookup_scoped(struct suppress_reader *r, struct slice addr,
			   const struct suppress_scopes *sc, int64_t now,
			   struct suppress_verdict *out);

/* The verdict a record gives at `now`: none before the opt-out or once a later consent was
 * given, grace until grace_end, violation after. Pure. */
uint8_t suppress_rec_verdict(const struct suppress_rec *rec, int64_t now);
