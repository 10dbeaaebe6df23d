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
#include "suppress_bloom.h"
#include "suppress_db.h"
#include "suppress_writer.h"

_Static_assert(SUPPRESS_KEY_LEN == ADDR_KEY_LEN, "keys are SHA-256");
_Static_assert(sizeof(struct suppress_rec) == 40, "stored layout of struct suppress_rec");
#define REC_V1_SIZE 32 /* version 1: the same fields without source_id */

/* The tables first, in enum suppress_table order, so that a table is its dbi index. */
enum { DBI_ADDR, DBI_DOMAIN, DBI_SCOPED, DBI_SOURCE, DBI_META, DBI__COUNT };

_Static_assert((int)DBI_ADDR == (int)SUPPRESS_TABLE_ADDR &&
	       (int)DBI_DOMAIN == (int)SUPPRESS_TABLE_DOMAIN &&
	       (int)DBI_SCOPED == (int)SUPPRESS_TABLE_SCOPED, "a table is its dbi index");

static const char *const dbi_names[DBI__COUNT] = { "addr", "domain", "scoped", "source",
						   "meta" };

/* Databases a set made before they existed lacks: a reader takes them as empty. */
static bool
dbi_optional(int i)
{
	return i == DBI_SCOPED || i == DBI_SOURCE;
}

struct suppress_db {
	MDB_env *env;
	MDB_dbi dbi[DBI__COUNT];
	bool has[DBI__COUNT];       /* false: an optional database the set does not have */
	bool read_only;
	unsigned norm_flags;
	MDB_txn *wtxn;              /* the writer's open transaction, or NULL */
	MDB_txn *rtxn;              /* a tool's read snapshot (suppress_snapshot_begin) */
	/* the writer's copy of the negative filter for its transaction (suppress_bloom.h) */
	uint8_t *bloom;
	size_t bloom_len;
	bool bloom_loaded;          /* looked for in this transaction */
	bool bloom_dirty;           /* keys added to the copy */
	bool bloom_rebuild;         /* none fits: build one from every key at commit */
	uint64_t bloom_hint;        /* keys the transaction is about to add */
	struct addr_hasher hasher;  /* suppress_db_key(): tools only, one thread */
};

struct suppress_reader {
	struct suppress_db *db;
	MDB_txn *txn;               /* reset or live, for the reader's whole life */
	bool live;                  /* holds a snapshot (renewed since the last release) */
	int8_t scoped;              /* the snapshot's "scoped" table: -1 not looked at yet,
				     * 0 empty or absent, 1 holds entries */
	bool bloom_known;           /* the snapshot's filter was looked for */
	bool use_filter;            /* consult it (tests and benchmarks turn it off) */
	const void *bloom;          /* the snapshot's filter, in the map; NULL: none */
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
	memset(rec, 0, sizeof(*rec));
	if (len == sizeof(*rec))
		memcpy(rec, val, sizeof(*rec));
	else if (len == REC_V1_SIZE)
		memcpy(rec, val, REC_V1_SIZE);
	else
		return -EBADMSG;
	if (!((len == sizeof(*rec) && rec->version == SUPPRESS_REC_VERSION) ||
	      (len == REC_V1_SIZE && rec->version == 1)) ||
	    rec->scope >= SUPPRESS_SCOPE__COUNT)
		return -EBADMSG;
	rec->version = SUPPRESS_REC_VERSION;
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

int
suppress_snapshot_begin(struct suppress_db *db)
{
	if (db->rtxn != NULL || db->wtxn != NULL)
		return -EBUSY;
	return mdb_errno(mdb_txn_begin(db->env, NULL, MDB_RDONLY, &db->rtxn));
}

void
suppress_snapshot_end(struct suppress_db *db)
{
	if (db->rtxn != NULL) {
		mdb_txn_abort(db->rtxn);
		db->rtxn = NULL;
	}
}

static void
db_free(struct suppress_db *db)
{
	suppress_snapshot_end(db);
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

static bool
format_is(const MDB_val *v, const char *fmt)
{
	return v->mv_size == strlen(fmt) && memcmp(v->mv_data, fmt, v->mv_size) == 0;
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
		if (rc == MDB_NOTFOUND && dbi_optional(i))
			continue;
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
		db->has[i] = true;
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
	} else if (rc == 0 && format_is(&v, SUPPRESS_FORMAT_V1)) {
		/* no filter yet: the first write builds it, and the set says so from now on */
		v = (MDB_val){ sizeof(SUPPRESS_FORMAT) - 1, (void *)SUPPRESS_FORMAT };
		if (!db->read_only && (rc = mdb_put(txn, db->dbi[DBI_META], &k, &v, 0)) != 0) {
			log_err("%s: cannot upgrade the format: %s", path, mdb_strerror(rc));
			rc = mdb_errno(rc);
			goto abort_txn;
		}
	} else if (rc != 0 || !format_is(&v, SUPPRESS_FORMAT)) {
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
	r->use_filter = true;
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
reader_get(struct suppress_reader *r, MDB_dbi dbi, const uint8_t *key, size_t len,
	   struct suppress_rec *rec)
{
	MDB_val k = { len, (void *)key };
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

/* Whether this snapshot's "scoped" table holds anything: looked at once per snapshot, so
 * that sets without scoped entries cost no extra lookups. */
static int
reader_has_scoped(struct suppress_reader *r)
{
	MDB_stat st;
	int rc;

	if (r->scoped < 0) {
		if (!r->db->has[DBI_SCOPED]) {
			r->scoped = 0;
		} else {
			rc = mdb_stat(r->txn, r->db->dbi[DBI_SCOPED], &st);
			if (rc != 0)
				return mdb_errno(rc);
			r->scoped = st.ms_entries > 0;
		}
	}
	return r->scoped;
}

static const char bloom_key[] = "bloom";

/* The snapshot's filter, read in place from the map once per snapshot; NULL when the set
 * has none (made before filters, or empty) or it is turned off. */
static const void *
reader_bloom(struct suppress_reader *r)
{
	MDB_val k = { sizeof(bloom_key) - 1, (void *)bloom_key };
	MDB_val v;

	if (!r->bloom_known) {
		r->bloom_known = true;
		r->bloom = NULL;
		if (mdb_get(r->txn, r->db->dbi[DBI_META], &k, &v) == 0 &&
		    suppress_bloom_valid(v.mv_data, v.mv_size))
			r->bloom = v.mv_data;
	}
	return r->use_filter ? r->bloom : NULL;
}

void
suppress_reader_use_filter(struct suppress_reader *r, bool on)
{
	r->use_filter = on;
}

bool
suppress_reader_has_scoped(struct suppress_reader *r)
{
	return !r->live || reader_has_scoped(r) != 0;
}

struct lookup_best {
	struct suppress_rec rec;
	uint8_t verdict;
	uint8_t origin;
	bool found;
	bool domain;
};

/* Keep the candidate when it is more severe than the best so far: the first one wins a tie,
 * so the order of the calls is the order of preference. */
static void
consider(struct lookup_best *b, const struct suppress_rec *rec, int64_t now, bool domain,
	 uint8_t origin)
{
	uint8_t v = suppress_rec_verdict(rec, now);

	if (b->found && v <= b->verdict)
		return;
	b->rec = *rec;
	b->verdict = v;
	b->origin = origin;
	b->found = true;
	b->domain = domain;
}

int
suppress_scopes_add(struct suppress_reader *r, struct suppress_scopes *sc,
		    enum suppress_scope kind, enum suppress_scope_origin origin,
		    struct slice value)
{
	uint8_t key[SUPPRESS_KEY_LEN];
	int rc;

	if (sc->n >= SUPPRESS_SCOPES_MAX)
		return 0;
	rc = suppress_scope_key(&r->hasher, kind, value, key);
	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < sc->n; i++)
		if (memcmp(sc->key[i], key, sizeof(key)) == 0)
			return 0;
	sc->kind[sc->n] = (uint8_t)kind;
	sc->origin[sc->n] = (uint8_t)origin;
	memcpy(sc->key[sc->n], key, sizeof(key));
	sc->n++;
	return 0;
}

/* The scoped entries of the address key ka and domain key kd (NULL: ruled out by the
 * filter) for each scope of sc. */
static int
lookup_scopes(struct suppress_reader *r, const uint8_t ka[SUPPRESS_KEY_LEN],
	      const uint8_t kd[SUPPRESS_KEY_LEN], const struct suppress_scopes *sc, int64_t now,
	      struct lookup_best *b)
{
	uint8_t key[SUPPRESS_SCOPED_KEY_LEN];
	struct suppress_rec rec;
	int rc;

	rc = reader_has_scoped(r);
	if (rc <= 0)
		return rc;
	for (unsigned i = 0; i < sc->n; i++) {
		for (int d = 0; d < 2; d++) {
			if ((d ? kd : ka) == NULL) /* ruled out by the filter */
				continue;
			memcpy(key, d ? kd : ka, SUPPRESS_KEY_LEN);
			memcpy(key + SUPPRESS_KEY_LEN, sc->key[i], SUPPRESS_KEY_LEN);
			rc = reader_get(r, r->db->dbi[DBI_SCOPED], key, sizeof(key), &rec);
			if (rc < 0)
				return rc;
			if (rc > 0 && rec.scope == sc->kind[i])
				consider(b, &rec, now, d, sc->origin[i]);
		}
	}
	return 0;
}

static int
lookup(struct suppress_reader *r, struct slice addr, const struct suppress_scopes *sc,
       int64_t now, struct suppress_verdict *out, struct suppress_rec *rec)
{
	char norm[ADDR_NORM_CAP];
	uint8_t ka[SUPPRESS_KEY_LEN], kd[SUPPRESS_KEY_LEN];
	struct suppress_rec got;
	struct lookup_best b = { .found = false };
	int n, rc;

	memset(out, 0, sizeof(*out));
	n = addr_normalize(addr, r->db->norm_flags, norm, sizeof(norm));
	if (n < 0)
		return n == -ENOMEM ? n : -EINVAL;

	if (!r->live) {
		rc = mdb_txn_renew(r->txn);
		if (rc != 0)
			return mdb_errno(rc); /* still reset: the next lookup tries again */
		r->live = true;
		r->scoped = -1;
		r->bloom_known = false;
	}

	rc = addr_hasher_key(&r->hasher, norm, (size_t)n, ka);
	if (rc < 0)
		return rc;
	/* The normalized domain is everything after the last '@' (a quoted local part may
	 * hold one, a domain never does). */
	const char *at = memrchr(norm, '@', (size_t)n);
	size_t dlen = (size_t)n - (size_t)(at + 1 - norm);

	rc = addr_hasher_domain_key(&r->hasher, at + 1, dlen, kd);
	if (rc < 0)
		return rc;

	/* Most recipients are on no list: the filter answers for them without a B-tree walk. */
	const void *bloom = reader_bloom(r);
	bool maybe_a = bloom == NULL || suppress_bloom_maybe(bloom, ka);
	bool maybe_d = bloom == NULL || suppress_bloom_maybe(bloom, kd);

	/* Preference on equal severity: the address's own entry, its domain's, then scoped. */
	rc = maybe_a ? reader_get(r, r->db->dbi[DBI_ADDR], ka, sizeof(ka), &got) : 0;
	if (rc > 0)
		consider(&b, &got, now, false, SUPPRESS_ORIGIN_NONE);
	if (rc >= 0 && maybe_d)
		rc = reader_get(r, r->db->dbi[DBI_DOMAIN], kd, sizeof(kd), &got);
	if (rc > 0)
		consider(&b, &got, now, true, SUPPRESS_ORIGIN_NONE);
	if (rc >= 0 && sc != NULL && sc->n > 0 && (maybe_a || maybe_d))
		rc = lookup_scopes(r, maybe_a ? ka : NULL, maybe_d ? kd : NULL, sc, now, &b);
	if (rc < 0)
		return rc;
	if (!b.found)
		return 0;

	out->verdict = b.verdict;
	out->scope = b.rec.scope;
	out->origin = b.origin;
	out->domain_wide = b.domain;
	out->optout_time = b.rec.optout_time;
	out->grace_end = b.rec.grace_end;
	out->consent_time = b.rec.consent_time;
	if (rec != NULL)
		*rec = b.rec;
	return 1;
}

int
suppress_lookup_rec(struct suppress_reader *r, struct slice addr, int64_t now,
		    struct suppress_verdict *out, struct suppress_rec *rec)
{
	return lookup(r, addr, NULL, now, out, rec);
}

int
suppress_lookup_scoped_rec(struct suppress_reader *r, struct slice addr,
			   const struct suppress_scopes *sc, int64_t now,
			   struct suppress_verdict *out, struct suppress_rec *rec)
{
	return lookup(r, addr, sc, now, out, rec);
}

int
suppress_lookup(struct suppress_reader *r, struct slice addr, int64_t now,
		struct suppress_verdict *out)
{
	int rc = lookup(r, addr, NULL, now, out, NULL);

	return rc < 0 ? rc : 0;
}

int
suppress_lookup_scoped(struct suppress_reader *r, struct slice addr,
		       const struct suppress_scopes *sc, int64_t now,
		       struct suppress_verdict *out)
{
	int rc = lookup(r, addr, sc, now, out, NULL);

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
suppress_list_id(struct slice value, char *out, size_t cap)
{
	struct slice v = slice_trim(value);
	const uint8_t *lt = memrchr(v.ptr, '<', v.len);

	if (lt != NULL) {
		const uint8_t *gt = memchr(lt, '>', v.len - (size_t)(lt - v.ptr));

		if (gt == NULL)
			return -EINVAL;
		v = slice_trim(slice_make(lt + 1, (size_t)(gt - lt - 1)));
	}
	if (v.len == 0)
		return -EINVAL;
	if (v.len > SUPPRESS_LIST_ID_MAX)
		return -ENAMETOOLONG;
	if (v.len + 1 > cap)
		return -ENOBUFS;
	for (size_t i = 0; i < v.len; i++) {
		uint8_t c = v.ptr[i];

		if (c <= ' ' || c == 0x7f || c == '<' || c == '>')
			return -EINVAL;
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	out[v.len] = '\0';
	return (int)v.len;
}

int
suppress_scope_key(struct addr_hasher *h, enum suppress_scope kind, struct slice value,
		   uint8_t key[SUPPRESS_KEY_LEN])
{
	static const char sender[] = "sender:", list[] = "list:";
	char buf[sizeof(sender) + SUPPRESS_LIST_ID_MAX + ADDR_NORM_CAP];
	size_t plen;
	int n;

	if (kind == SUPPRESS_SCOPE_SENDER) {
		plen = sizeof(sender) - 1;
		memcpy(buf, sender, plen);
		n = addr_domain(value, buf + plen, sizeof(buf) - plen);
	} else if (kind == SUPPRESS_SCOPE_LIST) {
		plen = sizeof(list) - 1;
		memcpy(buf, list, plen);
		n = suppress_list_id(value, buf + plen, sizeof(buf) - plen);
	} else {
		return -EINVAL;
	}
	if (n < 0)
		return n == -ENOMEM ? n : -EINVAL;
	return addr_hasher_key(h, buf, plen + (size_t)n, key);
}

int
suppress_scope_parse(struct addr_hasher *h, struct slice spec, uint8_t *kind,
		     uint8_t key[SUPPRESS_KEY_LEN])
{
	struct slice s = slice_trim(spec);

	if (s.len == 0 || slice_eq_nocase(s, "all")) {
		*kind = SUPPRESS_SCOPE_ALL;
		memset(key, 0, SUPPRESS_KEY_LEN);
		return 0;
	}
	if (slice_starts_nocase(s, "sender:")) {
		*kind = SUPPRESS_SCOPE_SENDER;
		return suppress_scope_key(h, SUPPRESS_SCOPE_SENDER, slice_make(s.ptr + 7, s.len - 7),
					  key);
	}
	if (slice_starts_nocase(s, "list:")) {
		*kind = SUPPRESS_SCOPE_LIST;
		return suppress_scope_key(h, SUPPRESS_SCOPE_LIST, slice_make(s.ptr + 5, s.len - 5),
					  key);
	}
	return -EINVAL;
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
	return db->dbi[t];
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
		   const uint8_t *key, struct suppress_rec *rec)
{
	MDB_val k = { suppress_table_key_len(t), (void *)key };
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

/* ---- the writer's side of the filter ---- */

static int meta_put(struct suppress_db *db, MDB_dbi dbi, const void *key, size_t klen,
		    const void *val, size_t len);

static void
bloom_reset(struct suppress_db *db)
{
	free(db->bloom);
	db->bloom = NULL;
	db->bloom_len = 0;
	db->bloom_loaded = db->bloom_dirty = db->bloom_rebuild = false;
	db->bloom_hint = 0;
}

static int
keys_in_set(struct suppress_db *db, uint64_t *n)
{
	MDB_stat st;

	*n = 0;
	for (int t = 0; t < SUPPRESS_TABLE__COUNT; t++) {
		int rc = mdb_stat(db->wtxn, db->dbi[t], &st);

		if (rc != 0)
			return mdb_errno(rc);
		*n += st.ms_entries;
	}
	return 0;
}

static int
bloom_new(struct suppress_db *db, uint64_t capacity)
{
	free(db->bloom);
	db->bloom_len = suppress_bloom_size(capacity);
	db->bloom = aligned_alloc(8, (db->bloom_len + 7) & ~(size_t)7);
	if (db->bloom == NULL)
		return -ENOMEM;
	suppress_bloom_init(db->bloom, capacity);
	return 0;
}

/* First key of the transaction: copy the set's filter, or start one when the set is empty;
 * otherwise (a set from before filters) build one from every key at commit. */
static int
bloom_load(struct suppress_db *db)
{
	MDB_val k = { sizeof(bloom_key) - 1, (void *)bloom_key };
	MDB_val v;
	uint64_t n;
	int rc;

	db->bloom_loaded = true;
	rc = mdb_get(db->wtxn, db->dbi[DBI_META], &k, &v);
	if (rc == 0 && suppress_bloom_valid(v.mv_data, v.mv_size)) {
		db->bloom = aligned_alloc(8, (v.mv_size + 7) & ~(size_t)7);
		if (db->bloom == NULL)
			return -ENOMEM;
		memcpy(db->bloom, v.mv_data, v.mv_size);
		db->bloom_len = v.mv_size;
		return 0;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_errno(rc);
	rc = keys_in_set(db, &n);
	if (rc < 0)
		return rc;
	if (n > 0) {
		db->bloom_rebuild = true;
		return 0;
	}
	return bloom_new(db, db->bloom_hint + db->bloom_hint / 4);
}

static int
bloom_note(struct suppress_db *db, const uint8_t *key)
{
	int rc;

	if (!db->bloom_loaded && (rc = bloom_load(db)) < 0)
		return rc;
	if (db->bloom_rebuild)
		return 0;
	suppress_bloom_add(db->bloom, key); /* a scoped key: its entry half, what readers probe */
	db->bloom_dirty = true;
	return 0;
}

/* A filter sized for every key of the set now, with room to grow by half. */
static int
bloom_build(struct suppress_db *db)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t n;
	int rc = keys_in_set(db, &n);

	if (rc == 0)
		rc = bloom_new(db, n + n / 2);
	for (int t = 0; rc == 0 && t < SUPPRESS_TABLE__COUNT; t++) {
		rc = mdb_errno(mdb_cursor_open(db->wtxn, db->dbi[t], &cur));
		if (rc < 0)
			break;
		for (int op = MDB_FIRST; (rc = mdb_cursor_get(cur, &k, &v, (MDB_cursor_op)op)) == 0;
		     op = MDB_NEXT)
			if (k.mv_size >= SUPPRESS_KEY_LEN)
				suppress_bloom_add(db->bloom, k.mv_data);
		mdb_cursor_close(cur);
		rc = rc == MDB_NOTFOUND ? 0 : mdb_errno(rc);
	}
	return rc;
}

/* Before the commit: the transaction's filter goes in with its keys. */
static int
bloom_store(struct suppress_db *db)
{
	int rc = 0;

	if (!db->bloom_dirty && !db->bloom_rebuild)
		return 0;
	if (db->bloom_rebuild || suppress_bloom_full(db->bloom))
		rc = bloom_build(db);
	if (rc == 0)
		rc = meta_put(db, db->dbi[DBI_META], bloom_key, sizeof(bloom_key) - 1, db->bloom,
			      db->bloom_len);
	return rc;
}

void
suppress_write_expect(struct suppress_db *db, uint64_t n_keys)
{
	db->bloom_hint = n_keys;
}

static int
write_put(struct suppress_db *db, enum suppress_table t, const uint8_t *key,
	  const struct suppress_rec *rec, unsigned flags)
{
	MDB_val k = { suppress_table_key_len(t), (void *)key };
	MDB_val v = { sizeof(*rec), (void *)rec };
	int rc = writer_check(db);

	if (rc < 0)
		return rc;
	rc = bloom_note(db, key);
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
suppress_write_put(struct suppress_db *db, enum suppress_table t, const uint8_t *key,
		   const struct suppress_rec *rec)
{
	return write_put(db, t, key, rec, 0);
}

int
suppress_write_append(struct suppress_db *db, enum suppress_table t, const uint8_t *key,
		      const struct suppress_rec *rec)
{
	return write_put(db, t, key, rec, MDB_APPEND);
}

int
suppress_write_del(struct suppress_db *db, enum suppress_table t, const uint8_t *key)
{
	MDB_val k = { suppress_table_key_len(t), (void *)key };
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
	rc = bloom_store(db);
	bloom_reset(db);
	if (rc < 0) {
		suppress_write_abort(db);
		return rc;
	}
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
	bloom_reset(db);
}

/* The transaction to read in: the writer's when one is open, else a new read snapshot
 * (*own set: the caller aborts it). */
static int
read_txn(struct suppress_db *db, MDB_txn **txn, bool *own)
{
	int rc;

	*own = db->wtxn == NULL && db->rtxn == NULL;
	if (!*own) {
		*txn = db->wtxn != NULL ? db->wtxn : db->rtxn;
		return 0;
	}
	rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, txn);
	return rc != 0 ? mdb_errno(rc) : 0;
}

static int
meta_put(struct suppress_db *db, MDB_dbi dbi, const void *key, size_t klen, const void *val,
	 size_t len)
{
	MDB_val k = { klen, (void *)key };
	MDB_val v = { len, (void *)val };
	int rc = writer_check(db);

	if (rc < 0)
		return rc;
	rc = mdb_put(db->wtxn, dbi, &k, &v, 0);
	if (rc != 0) {
		log_err("suppress: write: %s", mdb_strerror(rc));
		return mdb_errno(rc);
	}
	return 0;
}

int
suppress_meta_put(struct suppress_db *db, const char *name, const void *val, size_t len)
{
	return meta_put(db, db->dbi[DBI_META], name, strlen(name), val, len);
}

int
suppress_meta_get(struct suppress_db *db, const char *name, void *val, size_t cap,
		  size_t *len)
{
	MDB_val k = { strlen(name), (void *)name };
	MDB_val v;
	MDB_txn *txn;
	bool own;
	int rc = read_txn(db, &txn, &own);

	if (rc < 0)
		return rc;
	rc = mdb_get(txn, db->dbi[DBI_META], &k, &v);
	if (rc == 0) {
		*len = v.mv_size;
		if (v.mv_size > cap)
			rc = -ENOBUFS;
		else
			memcpy(val, v.mv_data, v.mv_size);
	} else {
		rc = mdb_errno(rc);
	}
	if (own)
		mdb_txn_abort(txn);
	return rc;
}

/* Stored source value: time, rows, then the name without its NUL. */
struct source_head {
	int64_t time;
	uint64_t rows;
};

static int
source_decode(const MDB_val *k, const MDB_val *v, struct suppress_source *out)
{
	struct source_head h;
	uint8_t id[4];
	size_t n;

	if (k->mv_size != sizeof(id) || v->mv_size < sizeof(h) ||
	    v->mv_size - sizeof(h) > SUPPRESS_SOURCE_NAME_MAX)
		return -EBADMSG;
	memcpy(id, k->mv_data, sizeof(id));
	memcpy(&h, v->mv_data, sizeof(h));
	n = v->mv_size - sizeof(h);
	out->id = (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3];
	out->time = h.time;
	out->rows = h.rows;
	memcpy(out->name, (const uint8_t *)v->mv_data + sizeof(h), n);
	out->name[n] = '\0';
	return 0;
}

static void
source_key(uint32_t id, uint8_t key[4])
{
	/* Big-endian, so that LMDB's byte order is id order and the last key the highest id. */
	key[0] = (uint8_t)(id >> 24);
	key[1] = (uint8_t)(id >> 16);
	key[2] = (uint8_t)(id >> 8);
	key[3] = (uint8_t)id;
}

int
suppress_source_foreach(struct suppress_db *db,
			int (*fn)(void *ctx, const struct suppress_source *src), void *ctx)
{
	struct suppress_source src;
	MDB_cursor *cur;
	MDB_val k, v;
	MDB_txn *txn;
	bool own;
	int rc;

	if (!db->has[DBI_SOURCE])
		return 0;
	rc = read_txn(db, &txn, &own);
	if (rc < 0)
		return rc;
	rc = mdb_cursor_open(txn, db->dbi[DBI_SOURCE], &cur);
	if (rc != 0) {
		rc = mdb_errno(rc);
		goto out;
	}
	for (int op = MDB_FIRST;; op = MDB_NEXT) {
		rc = mdb_cursor_get(cur, &k, &v, (MDB_cursor_op)op);
		if (rc == MDB_NOTFOUND) {
			rc = 0;
			break;
		}
		if (rc != 0) {
			rc = mdb_errno(rc);
			break;
		}
		rc = source_decode(&k, &v, &src);
		if (rc == 0)
			rc = fn(ctx, &src);
		if (rc != 0)
			break;
	}
	mdb_cursor_close(cur);
out:
	if (own)
		mdb_txn_abort(txn);
	return rc;
}

struct source_find {
	const char *name;
	struct suppress_source found;
	uint32_t last_id;
	bool hit;
};

static int
source_find_fn(void *ctx, const struct suppress_source *src)
{
	struct source_find *f = ctx;

	f->last_id = src->id;
	if (strcmp(src->name, f->name) == 0) {
		f->found = *src;
		f->hit = true;
	}
	return 0;
}

int
suppress_source_put(struct suppress_db *db, const struct suppress_source *src)
{
	uint8_t buf[sizeof(struct source_head) + SUPPRESS_SOURCE_NAME_MAX];
	struct source_head h = { .time = src->time, .rows = src->rows };
	size_t n = strnlen(src->name, sizeof(src->name));
	uint8_t key[4];

	if (n > SUPPRESS_SOURCE_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), src->name, n);
	source_key(src->id, key);
	return meta_put(db, db->dbi[DBI_SOURCE], key, sizeof(key), buf, sizeof(h) + n);
}

int
suppress_source_register(struct suppress_db *db, const char *name, int64_t time,
			 uint64_t rows, uint32_t *id)
{
	struct source_find f = { .name = name };
	struct suppress_source src = { .time = time, .rows = rows };
	size_t n = strlen(name);
	int rc = writer_check(db);

	if (rc < 0)
		return rc;
	if (n > SUPPRESS_SOURCE_NAME_MAX)
		return -ENAMETOOLONG;
	/* Sources are few (one per file name or sync): a walk is cheap and keeps no index. */
	rc = suppress_source_foreach(db, source_find_fn, &f);
	if (rc < 0)
		return rc;
	if (!f.hit && f.last_id == UINT32_MAX)
		return -ENOSPC;
	*id = src.id = f.hit ? f.found.id : f.last_id + 1;
	memcpy(src.name, name, n + 1);
	return suppress_source_put(db, &src);
}

int
suppress_source_get(struct suppress_db *db, uint32_t id, struct suppress_source *out)
{
	uint8_t key[4];
	MDB_val k = { sizeof(key), key };
	MDB_val v;
	MDB_txn *txn;
	bool own;
	int rc;

	if (!db->has[DBI_SOURCE])
		return -ENOENT;
	source_key(id, key);
	rc = read_txn(db, &txn, &own);
	if (rc < 0)
		return rc;
	rc = mdb_get(txn, db->dbi[DBI_SOURCE], &k, &v);
	rc = rc == 0 ? source_decode(&k, &v, out) : mdb_errno(rc);
	if (own)
		mdb_txn_abort(txn);
	return rc;
}

struct suppress_cursor {
	struct suppress_db *db;
	MDB_txn *txn;
	MDB_cursor *cur;
	bool own;                   /* txn is the cursor's read snapshot */
	bool started;
	bool empty;                 /* the table does not exist in this set */
	uint8_t key[SUPPRESS_SCOPED_KEY_LEN];
};

int
suppress_cursor_open(struct suppress_db *db, enum suppress_table t, struct suppress_cursor **out)
{
	struct suppress_cursor *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL)
		return -ENOMEM;
	c->db = db;
	c->empty = !db->has[t];
	if (!c->empty) {
		rc = read_txn(db, &c->txn, &c->own);
		if (rc == 0)
			rc = mdb_errno(mdb_cursor_open(c->txn, table_dbi(db, t), &c->cur));
		if (rc < 0) {
			suppress_cursor_close(c);
			return rc;
		}
	}
	*out = c;
	return 0;
}

int
suppress_cursor_next(struct suppress_cursor *c, const uint8_t **key, struct suppress_rec *rec)
{
	MDB_val k, v;
	int rc;

	if (c->empty)
		return 0;
	rc = mdb_cursor_get(c->cur, &k, &v, c->started ? MDB_NEXT : MDB_FIRST);
	c->started = true;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return mdb_errno(rc);
	if (k.mv_size > sizeof(c->key))
		return -EBADMSG;
	/* Copied: the page behind k may move once the caller writes. */
	memcpy(c->key, k.mv_data, k.mv_size);
	*key = c->key;
	rc = suppress_rec_decode(v.mv_data, v.mv_size, rec);
	return rc < 0 ? rc : 1;
}

int
suppress_cursor_del(struct suppress_cursor *c)
{
	int rc;

	if (c->own || c->empty || !c->started)
		return -EINVAL;
	/* LMDB marks the cursor deleted-on: its next MDB_NEXT yields the entry that followed. */
	rc = mdb_cursor_del(c->cur, 0);
	return rc != 0 ? mdb_errno(rc) : 0;
}

void
suppress_cursor_close(struct suppress_cursor *c)
{
	if (c == NULL)
		return;
	if (c->cur != NULL)
		mdb_cursor_close(c->cur);
	if (c->own && c->txn != NULL)
		mdb_txn_abort(c->txn);
	free(c);
}

int
suppress_db_info(struct suppress_db *db, struct suppress_db_info *info)
{
	MDB_envinfo ei;
	MDB_stat st, env_st;
	MDB_txn *txn;
	bool own;
	int rc;

	memset(info, 0, sizeof(*info));
	rc = read_txn(db, &txn, &own);
	if (rc < 0)
		return rc;
	for (int t = 0; t < SUPPRESS_TABLE__COUNT && rc == 0; t++)
		if (db->has[t] && (rc = mdb_errno(mdb_stat(txn, db->dbi[t], &st))) == 0)
			info->entries[t] = st.ms_entries;
	if (rc == 0 && db->has[DBI_SOURCE] &&
	    (rc = mdb_errno(mdb_stat(txn, db->dbi[DBI_SOURCE], &st))) == 0)
		info->sources = st.ms_entries;
	if (rc == 0)
		rc = mdb_errno(mdb_env_info(db->env, &ei));
	if (rc == 0)
		rc = mdb_errno(mdb_env_stat(db->env, &env_st));
	if (rc == 0) {
		info->map_size = ei.me_mapsize;
		info->used_bytes = (uint64_t)(ei.me_last_pgno + 1) * env_st.ms_psize;
		info->last_txn = ei.me_last_txnid;
		info->max_readers = ei.me_maxreaders;
		info->readers = ei.me_numreaders;
	}
	if (own)
		mdb_txn_abort(txn);
	return rc;
}
