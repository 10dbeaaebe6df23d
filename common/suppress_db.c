/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The suppression set over LMDB: environment open (read-only for the dataplane, read-write for
 * posternctl), per-worker readers that keep one read transaction for their whole life and only
 * reset/renew it (no reader-slot churn, no allocation per burst), the lookup and verdict, and
 * the writer used by the tools. Every environment is opened with MDB_NOTLS: a worker's reader
 * is tied to its transaction, not to the thread that happened to create it, and a tool may
 * hold a reader and the write transaction at once. Readers never log (they run on worker
 * lcores); open and writer paths log LMDB errors with mdb_strerror.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "addr_norm.h"
#include "ipc.h"
#include "log.h"
#include "suppress_db.h"
#include "suppress_writer.h"

_Static_assert(SUPPRESS_KEY_LEN == ADDR_KEY_LEN, "keys are SHA-256");
_Static_assert(sizeof(struct suppress_rec) == 32, "stored layout of struct suppress_rec");

enum { DBI_ADDR, DBI_DOMAIN, DBI_META, DBI__COUNT };

static const char *const dbi_names[DBI__COUNT] = { "addr", "domain", "meta" };

struct suppress_db {
	MDB_env *env;
	MDB_dbi dbi[DBI__COUNT];
	bool read_only;
	unsigned norm_flags;
	MDB_txn *wtxn;              /* the writer's open transaction, or NULL */
	struct addr_hasher hasher;  /* suppress_db_key(): tools only, one thread */
};

struct suppress_reader {
	struct suppress_db *db;
	MDB_txn *txn;               /* reset or live, for the reader's whole life */
	bool live;                  /* holds a snapshot (renewed since the last release) */
	struct addr_hasher hasher;
};

/* LMDB returns errno values for system errors and its own negative codes otherwise. */
static int
mdb_errno(int rc)
{
	if (rc > 0)
		return -rc;
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_KEYEXIST:
		return -EEXIST;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
	case MDB_PAGE_FULL:
		return -ENOSPC;
	case MDB_MAP_RESIZED:
		return -ESTALE;
	case MDB_READERS_FULL:
	case MDB_DBS_FULL:
	case MDB_TLS_FULL:
		return -EAGAIN;
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_INCOMPATIBLE:
		return -EPROTO;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
		return -EBADMSG;
	default:
		return -EIO;
	}
}

uint8_t
suppress_rec_verdict(const struct suppress_rec *rec, int64_t now)
{
	/* Judged at the message's time: mail sent before the opt-out, or after a later
	 * affirmative consent, is not suppressed. */
	if (now < rec->optout_time)
		return IPC_SUPPRESS_NONE;
	if (rec->consent_time > rec->optout_time && now >= rec->consent_time)
		return IPC_SUPPRESS_NONE;
	if (now < rec->grace_end)
		return IPC_SUPPRESS_GRACE;
	return IPC_SUPPRESS_VIOLATION;
}

int
suppress_rec_decode(const void *val, size_t len, struct suppress_rec *rec)
{
	/* LMDB values are only 2-byte aligned: copy, never cast. */
	if (len != sizeof(*rec))
		return -EBADMSG;
	memcpy(rec, val, sizeof(*rec));
	if (rec->version != SUPPRESS_REC_VERSION || rec->scope > SUPPRESS_SCOPE_SENDER)
		return -EBADMSG;
	return 0;
}

static const struct suppress_rec *
rec_at(const struct suppress_rec *recs, size_t i, size_t stride)
{
	return (const struct suppress_rec *)((const char *)recs + i * stride);
}

void
suppress_rec_merge(struct suppress_rec *out, const struct suppress_rec *recs, size_t n,
		   size_t stride)
{
	int64_t consent = 0;
	const struct suppress_rec *first_after = NULL, *latest = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct suppress_rec *r = rec_at(recs, i, stride);

		if (r->consent_time > consent)
			consent = r->consent_time;
	}
	for (size_t i = 0; i < n; i++) {
		const struct suppress_rec *r = rec_at(recs, i, stride);

		if (r->optout_time >= consent &&
		    (first_after == NULL || r->optout_time < first_after->optout_time))
			first_after = r;
		if (latest == NULL || r->optout_time > latest->optout_time)
			latest = r;
	}
	*out = first_after != NULL ? *first_after : *latest;
	out->consent_time = consent;
}

static void
db_free(struct suppress_db *db)
{
	if (db->wtxn != NULL) {
		mdb_txn_abort(db->wtxn);
		db->wtxn = NULL;
	}
	if (db->env != NULL) {
		mdb_env_close(db->env);
		db->env = NULL;
	}
	addr_hasher_fini(&db->hasher);
	free(db);
}

/* Open the named databases and check (or, for a writer, create) "meta". */
static int
db_open_dbis(struct suppress_db *db, const char *path, unsigned create_norm_flags)
{
	static const char fmt_key[] = "format";
	static const char flags_key[] = "norm_flags";
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	rc = mdb_txn_begin(db->env, NULL, db->read_only ? MDB_RDONLY : 0, &txn);
	if (rc != 0) {
		log_err("%s: cannot start a transaction: %s", path, mdb_strerror(rc));
		return mdb_errno(rc);
	}
	for (int i = 0; i < DBI__COUNT; i++) {
		rc = mdb_dbi_open(txn, dbi_names[i], db->read_only ? 0 : MDB_CREATE, &db->dbi[i]);
		if (rc == MDB_NOTFOUND) {
			log_err("%s: not a postern suppression set (no \"%s\" database)", path,
				dbi_names[i]);
			rc = -ENOENT;
			goto abort_txn;
		}
		if (rc != 0) {
			log_err("%s: cannot open database \"%s\": %s", path, dbi_names[i],
				mdb_strerror(rc));
			rc = mdb_errno(rc);
			goto abort_txn;
		}
	}

	k = (MDB_val){ sizeof(fmt_key) - 1, (void *)fmt_key };
	rc = mdb_get(txn, db->dbi[DBI_META], &k, &v);
	if (rc == MDB_NOTFOUND && !db->read_only) {
		uint32_t f = create_norm_flags;
		MDB_val fk = { sizeof(flags_key) - 1, (void *)flags_key };
		MDB_val fv = { sizeof(f), &f };

		v = (MDB_val){ sizeof(SUPPRESS_FORMAT) - 1, (void *)SUPPRESS_FORMAT };
		rc = mdb_put(txn, db->dbi[DBI_META], &k, &v, 0);
		if (rc == 0)
			rc = mdb_put(txn, db->dbi[DBI_META], &fk, &fv, 0);
		if (rc != 0) {
			log_err("%s: cannot write meta: %s", path, mdb_strerror(rc));
			rc = mdb_errno(rc);
			goto abort_txn;
		}
	} else if (rc != 0 || v.mv_size != sizeof(SUPPRESS_FORMAT) - 1 ||
		   memcmp(v.mv_data, SUPPRESS_FORMAT, v.mv_size) != 0) {
		log_err("%s: not a %s set%s%s", path, SUPPRESS_FORMAT, rc != 0 ? ": " : "",
			rc != 0 ? mdb_strerror(rc) : "");
		rc = -EPROTO;
		goto abort_txn;
	}

	k = (MDB_val){ sizeof(flags_key) - 1, (void *)flags_key };
	rc = mdb_get(txn, db->dbi[DBI_META], &k, &v);
	if (rc == MDB_NOTFOUND) {
		db->norm_flags = 0;
	} else if (rc == 0 && v.mv_size == sizeof(uint32_t)) {
		uint32_t f;

		memcpy(&f, v.mv_data, sizeof(f));
		if (f & ~ADDR_NORM_FLAGS_ALL) {
			log_err("%s: unknown normalization flags %#x", path, (unsigned)f);
			rc = -EPROTO;
			goto abort_txn;
		}
		db->norm_flags = f;
	} else {
		log_err("%s: bad norm_flags in meta%s%s", path, rc != 0 ? ": " : "",
			rc != 0 ? mdb_strerror(rc) : "");
		rc = -EPROTO;
		goto abort_txn;
	}

	/* Committing, even a read-only transaction, keeps the dbi handles for later ones. */
	rc = mdb_txn_commit(txn);
	if (rc != 0) {
		log_err("%s: cannot commit: %s", path, mdb_strerror(rc));
		return mdb_errno(rc);
	}
	return 0;

abort_txn:
	mdb_txn_abort(txn);
	return rc;
}

static struct suppress_db *
db_open(const char *path, bool read_only, uint64_t map_size, unsigned norm_flags)
{
	struct suppress_db *db;
	int rc;

	if (norm_flags & ~ADDR_NORM_FLAGS_ALL) {
		errno = EINVAL;
		return NULL;
	}
	db = calloc(1, sizeof(*db));
	if (db == NULL)
		return NULL;
	db->read_only = read_only;

	rc = addr_hasher_init(&db->hasher);
	if (rc < 0) {
		log_err("%s: SHA-256 unavailable", path);
		goto free_db;
	}
	rc = mdb_env_create(&db->env);
	if (rc != 0) {
		log_err("%s: mdb_env_create: %s", path, mdb_strerror(rc));
		rc = mdb_errno(rc);
		goto free_db;
	}
	rc = mdb_env_set_maxdbs(db->env, DBI__COUNT);
	if (rc == 0 && !read_only)
		rc = mdb_env_set_mapsize(db->env, map_size ? map_size : SUPPRESS_DEFAULT_MAP_SIZE);
	if (rc != 0) {
		log_err("%s: cannot configure the environment: %s", path, mdb_strerror(rc));
		rc = mdb_errno(rc);
		goto free_db;
	}
	/* A read-only open maps the size the writer recorded and never creates the data file.
	 * Lookups are random by construction (hashed keys): read-ahead only wastes page cache. */
	rc = mdb_env_open(db->env, path,
			  MDB_NOTLS | (read_only ? MDB_RDONLY | MDB_NORDAHEAD : 0), 0640);
	if (rc != 0) {
		if (rc == ENOENT)
			log_err("%s: no suppression set there", path);
		else
			log_err("%s: cannot open: %s", path, mdb_strerror(rc));
		rc = mdb_errno(rc);
		goto free_db;
	}
	if (!read_only) {
		int dead = 0;

		/* Free the slots of readers that died without closing. */
		mdb_reader_check(db->env, &dead);
		if (dead > 0)
			log_info("%s: cleared %d stale reader slot(s)", path, dead);
	}
	rc = db_open_dbis(db, path, norm_flags);
	if (rc < 0)
		goto free_db;
	return db;

free_db:
	db_free(db);
	errno = -rc;
	return NULL;
}

struct suppress_db *
suppress_db_open(const char *path, bool read_only)
{
	return db_open(path, read_only, SUPPRESS_DEFAULT_MAP_SIZE, 0);
}

struct suppress_db *
suppress_writer_open(const char *path, uint64_t map_size, unsigned norm_flags)
{
	return db_open(path, false, map_size, norm_flags);
}

void
suppress_db_close(struct suppress_db *db)
{
	if (db == NULL)
		return;
	db_free(db);
}

unsigned
suppress_db_norm_flags(const struct suppress_db *db)
{
	return db->norm_flags;
}

int
suppress_db_peek_norm_flags(const char *path, unsigned *flags)
{
	char data[4096];
	struct stat st;
	struct suppress_db *db;

	if ((size_t)snprintf(data, sizeof(data), "%s/data.mdb", path) >= sizeof(data))
		return -ENAMETOOLONG;
	if (stat(data, &st) != 0)
		return -errno;
	db = suppress_db_open(path, true);
	if (db == NULL)
		return -errno;
	*flags = db->norm_flags;
	suppress_db_close(db);
	return 0;
}

struct suppress_reader *
suppress_reader_create(struct suppress_db *db)
{
	struct suppress_reader *r;
	int rc;

	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->db = db;
	rc = addr_hasher_init(&r->hasher);
	if (rc < 0)
		goto free_r;
	/* Take the reader slot now, at start-up, and hold no snapshot until the first lookup. */
	rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &r->txn);
	if (rc != 0) {
		log_err("suppress: cannot start a reader: %s", mdb_strerror(rc));
		rc = mdb_errno(rc);
		goto fini_hasher;
	}
	mdb_txn_reset(r->txn);
	return r;

fini_hasher:
	addr_hasher_fini(&r->hasher);
free_r:
	free(r);
	errno = -rc;
	return NULL;
}

void
suppress_reader_destroy(struct suppress_reader *r)
{
	if (r == NULL)
		return;
	mdb_txn_abort(r->txn);
	r->txn = NULL;
	addr_hasher_fini(&r->hasher);
	free(r);
}

void
suppress_reader_release(struct suppress_reader *r)
{
	if (r->live) {
		mdb_txn_reset(r->txn);
		r->live = false;
	}
}

/* 1 and *rec when key is in dbi, 0 when not, or a negative errno. */
static int
reader_get(struct suppress_reader *r, MDB_dbi dbi, const uint8_t *key, struct suppress_rec *rec)
{
	MDB_val k = { SUPPRESS_KEY_LEN, (void *)key };
	MDB_val v;
	int rc;

	rc = mdb_get(r->txn, dbi, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return mdb_errno(rc);
	rc = suppress_rec_decode(v.mv_data, v.mv_size, rec);
	return rc < 0 ? rc : 1;
}

int
suppress_lookup_rec(struct suppress_reader *r, struct slice addr, int64_t now,
		    struct suppress_verdict *out, struct suppress_rec *rec)
{
	char norm[ADDR_NORM_CAP];
	uint8_t key[SUPPRESS_KEY_LEN];
	struct suppress_rec ra, rd;
	const struct suppress_rec *m = NULL;
	int n, rc, found_a, found_d;

	memset(out, 0, sizeof(*out));
	n = addr_normalize(addr, r->db->norm_flags, norm, sizeof(norm));
	if (n < 0)
		return n == -ENOMEM ? n : -EINVAL;

	if (!r->live) {
		rc = mdb_txn_renew(r->txn);
		if (rc != 0)
			return mdb_errno(rc); /* still reset: the next lookup tries again */
		r->live = true;
	}

	rc = addr_hasher_key(&r->hasher, norm, (size_t)n, key);
	if (rc < 0)
		return rc;
	found_a = reader_get(r, r->db->dbi[DBI_ADDR], key, &ra);
	if (found_a < 0)
		return found_a;

	/* The normalized domain is everything after the last '@' (a quoted local part may
	 * hold one, a domain never does). */
	const char *at = memrchr(norm, '@', (size_t)n);
	size_t dlen = (size_t)n - (size_t)(at + 1 - norm);

	rc = addr_hasher_domain_key(&r->hasher, at + 1, dlen, key);
	if (rc < 0)
		return rc;
	found_d = reader_get(r, r->db->dbi[DBI_DOMAIN], key, &rd);
	if (found_d < 0)
		return found_d;

	/* Both may match: the more severe verdict wins, the address's own on a tie. */
	if (found_a)
		m = &ra;
	if (found_d && (m == NULL || suppress_rec_verdict(&rd, now) > suppress_rec_verdict(m, now)))
		m = &rd;
	if (m == NULL)
		return 0;

	out->verdict = suppress_rec_verdict(m, now);
	out->scope = m->scope;
	out->domain_wide = m == &rd;
	out->optout_time = m->optout_time;
	out->grace_end = m->grace_end;
	out->consent_time = m->consent_time;
	if (rec != NULL)
		*rec = *m;
	return 1;
}

int
suppress_lookup(struct suppress_reader *r, struct slice addr, int64_t now,
		struct suppress_verdict *out)
{
	int rc = suppress_lookup_rec(r, addr, now, out, NULL);

	return rc < 0 ? rc : 0;
}

int
suppress_key(struct addr_hasher *h, unsigned norm_flags, struct slice spec,
	     enum suppress_table *table, uint8_t key[SUPPRESS_KEY_LEN], char *norm, size_t cap)
{
	char buf[ADDR_NORM_CAP];
	struct slice s = slice_trim(spec);
	int n, rc;

	/* "@domain" or "<@domain>": a whole domain, keyed as "@" + domain. */
	if ((s.len > 0 && s.ptr[0] == '@') || (s.len > 1 && s.ptr[0] == '<' && s.ptr[1] == '@')) {
		buf[0] = '@';
		n = addr_domain(s, buf + 1, sizeof(buf) - 1);
		if (n < 0)
			return n;
		n++;
		*table = SUPPRESS_TABLE_DOMAIN;
	} else {
		n = addr_normalize(s, norm_flags, buf, sizeof(buf));
		if (n < 0)
			return n;
		*table = SUPPRESS_TABLE_ADDR;
	}
	rc = addr_hasher_key(h, buf, (size_t)n, key);
	if (rc < 0)
		return rc;
	if (norm != NULL) {
		if ((size_t)n + 1 > cap)
			return -ENOBUFS;
		memcpy(norm, buf, (size_t)n + 1);
	}
	return 0;
}

int
suppress_db_key(struct suppress_db *db, struct slice spec, enum suppress_table *table,
		uint8_t key[SUPPRESS_KEY_LEN], char *norm, size_t cap)
{
	return suppress_key(&db->hasher, db->norm_flags, spec, table, key, norm, cap);
}

static int
writer_check(struct suppress_db *db)
{
	if (db->read_only)
		return -EROFS;
	if (db->wtxn == NULL)
		return -EINVAL;
	return 0;
}

static MDB_dbi
table_dbi(struct suppress_db *db, enum suppress_table t)
{
	return db->dbi[t == SUPPRESS_TABLE_DOMAIN ? DBI_DOMAIN : DBI_ADDR];
}

int
suppress_write_begin(struct suppress_db *db)
{
	int rc;

	if (db->read_only)
		return -EROFS;
	if (db->wtxn != NULL)
		return -EBUSY;
	rc = mdb_txn_begin(db->env, NULL, 0, &db->wtxn);
	if (rc != 0) {
		db->wtxn = NULL;
		log_err("suppress: cannot start the write transaction: %s", mdb_strerror(rc));
		return mdb_errno(rc);
	}
	return 0;
}

int
suppress_write_get(struct suppress_db *db, enum suppress_table t,
		   const uint8_t key[SUPPRESS_KEY_LEN], struct suppress_rec *rec)
{
	MDB_val k = { SUPPRESS_KEY_LEN, (void *)key };
	MDB_val v;
	int rc = writer_check(db);

	if (rc < 0)
		return rc;
	rc = mdb_get(db->wtxn, table_dbi(db, t), &k, &v);
	if (rc == MDB_NOTFOUND)
		return -ENOENT;
	if (rc != 0) {
		log_err("suppress: read: %s", mdb_strerror(rc));
		return mdb_errno(rc);
	}
	return suppress_rec_decode(v.mv_data, v.mv_size, rec);
}

static int
write_put(struct suppress_db *db, enum suppress_table t, const uint8_t *key,
	  const struct suppress_rec *rec, unsigned flags)
{
	MDB_val k = { SUPPRESS_KEY_LEN, (void *)key };
	MDB_val v = { sizeof(*rec), (void *)rec };
	int rc = writer_check(db);

	if (rc < 0)
		return rc;
	rc = mdb_put(db->wtxn, table_dbi(db, t), &k, &v, flags);
	if (rc == MDB_MAP_FULL) {
		log_err("suppress: the set is full: raise suppress_map_size");
		return -ENOSPC;
	}
	if (rc != 0) {
		/* Out-of-order appends are the caller's bug; say which. */
		log_err("suppress: write%s: %s", (flags & MDB_APPEND) ? " (append)" : "",
			mdb_strerror(rc));
		return mdb_errno(rc);
	}
	return 0;
}

int
suppress_write_put(struct suppress_db *db, enum suppress_table t,
		   const uint8_t key[SUPPRESS_KEY_LEN], const struct suppress_rec *rec)
{
	return write_put(db, t, key, rec, 0);
}

int
suppress_write_append(struct suppress_db *db, enum suppress_table t,
		      const uint8_t key[SUPPRESS_KEY_LEN], const struct suppress_rec *rec)
{
	return write_put(db, t, key, rec, MDB_APPEND);
}

int
suppress_write_del(struct suppress_db *db, enum suppress_table t,
		   const uint8_t key[SUPPRESS_KEY_LEN])
{
	MDB_val k = { SUPPRESS_KEY_LEN, (void *)key };
	int rc = writer_check(db);

	if (rc < 0)
		return rc;
	rc = mdb_del(db->wtxn, table_dbi(db, t), &k, NULL);
	if (rc == MDB_NOTFOUND)
		return -ENOENT;
	if (rc != 0) {
		log_err("suppress: delete: %s", mdb_strerror(rc));
		return mdb_errno(rc);
	}
	return 0;
}

int
suppress_write_count(struct suppress_db *db, enum suppress_table t, uint64_t *n)
{
	MDB_stat st;
	int rc = writer_check(db);

	if (rc < 0)
		return rc;
	rc = mdb_stat(db->wtxn, table_dbi(db, t), &st);
	if (rc != 0) {
		log_err("suppress: stat: %s", mdb_strerror(rc));
		return mdb_errno(rc);
	}
	*n = st.ms_entries;
	return 0;
}

int
suppress_write_commit(struct suppress_db *db)
{
	int rc = writer_check(db);

	if (rc < 0)
		return rc;
	rc = mdb_txn_commit(db->wtxn);
	db->wtxn = NULL; /* freed by LMDB whether or not it committed */
	if (rc == MDB_MAP_FULL) {
		log_err("suppress: the set is full: raise suppress_map_size");
		return -ENOSPC;
	}
	if (rc != 0) {
		log_err("suppress: commit: %s", mdb_strerror(rc));
		return mdb_errno(rc);
	}
	return 0;
}

void
suppress_write_abort(struct suppress_db *db)
{
	if (db->wtxn != NULL) {
		mdb_txn_abort(db->wtxn);
		db->wtxn = NULL;
	}
}
