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

#define SUPPRESS_FORMAT "postern-suppress-1"
#define SUPPRESS_REC_VERSION 1
#define SUPPRESS_DEFAULT_MAP_SIZE (UINT64_C(1) << 32) /* config suppress_map_size default */

enum suppress_table {
	SUPPRESS_TABLE_ADDR = 0,   /* "addr" */
	SUPPRESS_TABLE_DOMAIN = 1, /* "domain" */
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

/* Read a record inside the write transaction: 0, -ENOENT, -EBADMSG (bad size or version). */
int suppress_write_get(struct suppress_db *db, enum suppress_table t,
		       const uint8_t key[SUPPRESS_KEY_LEN], struct suppress_rec *rec);

/* Insert or replace. -ENOSPC when the map is full (raise suppress_map_size). */
int suppress_write_put(struct suppress_db *db, enum suppress_table t,
		       const uint8_t key[SUPPRESS_KEY_LEN], const struct suppress_rec *rec);

/*
 * Bulk insert with MDB_APPEND: each key must sort (memcmp) after every key already in the
 * table, which holds for strictly increasing keys into a table that was empty. -EEXIST when
 * that is not so (nothing written for this key), -ENOSPC when the map is full.
 */
int suppress_write_append(struct suppress_db *db, enum suppress_table t,
			  const uint8_t key[SUPPRESS_KEY_LEN], const struct suppress_rec *rec);

/* Remove a key: 0 or -ENOENT. */
int suppress_write_del(struct suppress_db *db, enum suppress_table t,
		       const uint8_t key[SUPPRESS_KEY_LEN]);

/* Number of records in a table, as this transaction sees it. */
int suppress_write_count(struct suppress_db *db, enum suppress_table t, uint64_t *n);

/* Make everything since suppress_write_begin() durable, all or nothing. The transaction is
 * over either way. */
int suppress_write_commit(struct suppress_db *db);

/* Drop everything since suppress_write_begin(). No-op without a transaction. */
void suppress_write_abort(struct suppress_db *db);

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
