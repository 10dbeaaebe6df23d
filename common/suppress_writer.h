/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tools' side of the suppression set: opening it for writing, one write transaction at a
 * time (put, remove, a sorted bulk append), merging records of one key, and a lookup that also
 * returns the matching record (for `posternctl suppress check`). Kept apart from suppress_db.h
 * so that the dataplane sees only what it uses. posternctl (or a test) only; one thread per
 * struct suppress_db. LMDB errors are logged with mdb_strerror and returned as negative errno.
 *
 * Besides "format", the "meta" database holds "norm_flags" (uint32, host order): the
 * enum addr_norm_flag bits the set's keys were made with, fixed when the set is created, so
 * that readers and every later writer normalize the same way.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr_norm.h"
#include "slice.h"
#include "suppress_db.h"

/* Version 2 sets carry a negative filter every writer must keep in step: a build that does
 * not know it must not write to one, so it is told by the format and refuses. Version 1 sets
 * are read, and upgraded by the first writer that opens them. */
#define SUPPRESS_FORMAT "postern-suppress-2"
#define SUPPRESS_FORMAT_V1 "postern-suppress-1"
#define SUPPRESS_REC_VERSION 2
#define SUPPRESS_SCOPED_KEY_LEN (2 * SUPPRESS_KEY_LEN)
#define SUPPRESS_SOURCE_NAME_MAX 255
#define SUPPRESS_DEFAULT_MAP_SIZE (UINT64_C(1) << 32) /* config suppress_map_size default */

enum suppress_table {
	SUPPRESS_TABLE_ADDR = 0,   /* "addr": keys of SUPPRESS_KEY_LEN */
	SUPPRESS_TABLE_DOMAIN = 1, /* "domain": keys of SUPPRESS_KEY_LEN */
	SUPPRESS_TABLE_SCOPED = 2, /* "scoped": keys of SUPPRESS_SCOPED_KEY_LEN */
};
#define SUPPRESS_TABLE__COUNT 3

/* Bytes of a key of table t. */
static inline size_t
suppress_table_key_len(enum suppress_table t)
{
	return t == SUPPRESS_TABLE_SCOPED ? SUPPRESS_SCOPED_KEY_LEN : SUPPRESS_KEY_LEN;
}

/* A load of the set: a file or a database sync, by name. */
struct suppress_source {
	uint32_t id;
	int64_t time;                              /* when it was last loaded */
	uint64_t rows;                             /* good rows of that load */
	char name[SUPPRESS_SOURCE_NAME_MAX + 1];   /* NUL-terminated */
};

/*
 * Open the set at path (an existing directory) for writing, creating its databases when new.
 * map_size: bytes LMDB may map (0: SUPPRESS_DEFAULT_MAP_SIZE); it only grows a set, and
 * readers must reopen after it grew. norm_flags (enum addr_norm_flag) are recorded when the
 * set is created; an existing set keeps its own and says so through suppress_db_norm_flags().
 * NULL with errno set on error (EPROTO: not a Postern set, or another version).
 */
struct suppress_db *suppress_writer_open(const char *path, uint64_t map_size,
					 unsigned norm_flags);

/* The normalization flags of an open set (read-only or not). */
unsigned suppress_db_norm_flags(const struct suppress_db *db);

/*
 * The normalization flags of the set at path without keeping it open, so that a tool can key
 * a file before it takes the writer's lock: 0 and *flags, -ENOENT (quietly) when there is no
 * set there yet, or the error of suppress_db_open().
 */
int suppress_db_peek_norm_flags(const char *path, unsigned *flags);

/*
 * Key of an entry as an operator writes it, with a caller's hasher and the set's flags (so
 * that a tool can key a whole file before it opens the set): see suppress_db_key().
 */
int suppress_key(struct addr_hasher *h, unsigned norm_flags, struct slice spec,
		 enum suppress_table *table, uint8_t key[SUPPRESS_KEY_LEN], char *norm, size_t cap);

/*
 * Key of an entry as an operator writes it: "a@b.example" (or "<a@b.example>") is an address,
 * "@b.example" a whole domain. Fills *table, key and, when norm is not NULL, the normalized
 * text (cap >= ADDR_NORM_CAP always fits; a domain is given back with its leading '@').
 * Returns 0, or the addr_normalize()/addr_domain() error. Any handle, no transaction needed.
 */
int suppress_db_key(struct suppress_db *db, struct slice spec, enum suppress_table *table,
		    uint8_t key[SUPPRESS_KEY_LEN], char *norm, size_t cap);

/* Start the write transaction; -EBUSY if one is open, -EROFS on a read-only handle. */
int suppress_write_begin(struct suppress_db *db);

/*
 * In the functions below, key has suppress_table_key_len(t) bytes.
 */

/* Read a record inside the write transaction: 0, -ENOENT, -EBADMSG (bad size or version). */
int suppress_write_get(struct suppress_db *db, enum suppress_table t,
		       const uint8_t *key, struct suppress_rec *rec);

/* Insert or replace. -ENOSPC when the map is full (raise suppress_map_size). */
int suppress_write_put(struct suppress_db *db, enum suppress_table t,
		       const uint8_t *key, const struct suppress_rec *rec);

/*
 * Bulk insert with MDB_APPEND: each key must sort (memcmp) after every key already in the
 * table, which holds for strictly increasing keys into a table that was empty. -EEXIST when
 * that is not so (nothing written for this key), -ENOSPC when the map is full.
 */
int suppress_write_append(struct suppress_db *db, enum suppress_table t,
			  const uint8_t *key, const struct suppress_rec *rec);

/* Remove a key: 0 or -ENOENT. */
int suppress_write_del(struct suppress_db *db, enum suppress_table t,
		       const uint8_t *key);

/* Number of records in a table, as this transaction sees it. */
int suppress_write_count(struct suppress_db *db, enum suppress_table t, uint64_t *n);

/*
 * The transaction is about to add about n_keys keys: when the set is still empty, its
 * negative filter (suppress_bloom.h) is sized for them at once instead of being rebuilt at
 * commit. Every write keeps the filter in step with the keys; nothing else is needed.
 */
void suppress_write_expect(struct suppress_db *db, uint64_t n_keys);

/* Make everything since suppress_write_begin() durable, all or nothing. The transaction is
 * over either way. */
int suppress_write_commit(struct suppress_db *db);

/* Drop everything since suppress_write_begin(). No-op without a transaction. */
void suppress_write_abort(struct suppress_db *db);

/*
 * The source named name (at most SUPPRESS_SOURCE_NAME_MAX bytes) inside the write
 * transaction: its id when it is known (its time and rows updated), a new id otherwise.
 * 0 and *id, or -errno.
 */
int suppress_source_register(struct suppress_db *db, const char *name, int64_t time,
			     uint64_t rows, uint32_t *id);

/* Write a source with its own id (copying a set): 0 or -errno. Write transaction. */
int suppress_source_put(struct suppress_db *db, const struct suppress_source *src);

/* A source by id, in the write transaction or else a read snapshot: 0, -ENOENT, -errno. */
int suppress_source_get(struct suppress_db *db, uint32_t id, struct suppress_source *out);

/* Every source in id order; fn returning non-zero stops the walk with that value. */
int suppress_source_foreach(struct suppress_db *db,
			    int (*fn)(void *ctx, const struct suppress_source *src), void *ctx);

/* Record a value under "meta" key name (write transaction), or read it back (write
 * transaction or a read snapshot; -ENOENT when absent, -ENOBUFS when over cap). */
int suppress_meta_put(struct suppress_db *db, const char *name, const void *val, size_t len);
int suppress_meta_get(struct suppress_db *db, const char *name, void *val, size_t cap,
		      size_t *len);

/*
 * One read snapshot for everything read through the handle until the end (cursors, sources,
 * meta, info), so that an export or a report sees a single state of the set. -EBUSY when a
 * snapshot or the write transaction is open. The snapshot must end before the handle closes
 * (suppress_db_close ends it too).
 */
int suppress_snapshot_begin(struct suppress_db *db);
void suppress_snapshot_end(struct suppress_db *db);

/*
 * Walk a table in key order, in the write transaction when one is open, else in the handle's
 * snapshot (suppress_snapshot_begin), else in a read snapshot of its own. One cursor at a
 * time per handle for deletions.
 */
struct suppress_cursor;

int suppress_cursor_open(struct suppress_db *db, enum suppress_table t,
			 struct suppress_cursor **out);

/* 1 with *key (valid until the next call) and *rec, 0 at the end, -EBADMSG for a record of
 * an unknown format (key still given: the caller may skip it), or -errno. */
int suppress_cursor_next(struct suppress_cursor *c, const uint8_t **key,
			 struct suppress_rec *rec);

/* Remove the entry the last next() returned (write transaction only). */
int suppress_cursor_del(struct suppress_cursor *c);

void suppress_cursor_close(struct suppress_cursor *c);

/* Size facts for `suppress stats`. */
struct suppress_db_info {
	uint64_t entries[SUPPRESS_TABLE__COUNT];
	uint64_t sources;
	uint64_t map_size;         /* bytes mapped */
	uint64_t used_bytes;       /* pages in use * page size */
	uint64_t last_txn;
	unsigned max_readers;
	unsigned readers;          /* reader slots in use (includes stale ones) */
};

int suppress_db_info(struct suppress_db *db, struct suppress_db_info *info);

/*
 * Combine n records of one key (at recs, recs + stride, ...): the consent that counts is the
 * latest; the opt-out that counts is the earliest one after that consent (its window runs from
 * the first request not yet honoured), or, when consent came after all of them, the latest.
 * Scope, grace_end and source_line follow the chosen opt-out. n >= 1.
 */
void suppress_rec_merge(struct suppress_rec *out, const struct suppress_rec *recs, size_t n,
			size_t stride);

/* Check and copy a stored value: 0, or -EBADMSG for a wrong size, version or scope. */
int suppress_rec_decode(const void *val, size_t len, struct suppress_rec *rec);

/*
 * suppress_lookup() that also copies the record that decided the verdict to *rec (when not
 * NULL). Returns 1 when a record matched (even one whose consent lifts it), 0 when none did,
 * or a negative errno as suppress_lookup().
 */
int suppress_lookup_rec(struct suppress_reader *r, struct slice addr, int64_t now,
			struct suppress_verdict *out, struct suppress_rec *rec);

/* suppress_lookup_rec() with the message's scopes, as suppress_lookup_scoped(). */
int suppress_lookup_scoped_rec(struct suppress_reader *r, struct slice addr,
			       const struct suppress_scopes *sc, int64_t now,
			       struct suppress_verdict *out, struct suppress_rec *rec);
