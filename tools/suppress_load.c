/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Loading a parsed batch into the suppression set (see suppress_load.h): the writer's lock,
 * the source registration, grace periods with the configured calendar, and the two ways in:
 * one incremental transaction, or a rebuilt environment swapped in with RENAME_EXCHANGE.
 * The rebuild is a merge join of the live tables (LMDB cursors, key order) with the batch
 * (sorted by the parser), appended to the new environment with MDB_APPEND. posternctl only.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "business_days.h"
#include "log.h"
#include "suppress_load.h"
#include "suppress_writer.h"

#define CALENDAR_META "calendar"

/* One destination record of the batch: its table, its full key, the entry. */
struct load_item {
	uint8_t table;
	uint8_t key[SUPPRESS_SCOPED_KEY_LEN];
	const struct suppress_import_entry *e;
};

struct load {
	const struct suppress_load_opts *o;
	struct suppress_load_stats *st;
	FILE *err;
	const struct bday_calendar *cal;
	bool regrace;               /* the set's grace periods were made with another calendar */
	struct load_item *items;    /* the batch in the order of the destination tables */
	size_t n_items;
	uint64_t done, total;       /* progress */
	int last_pct;
};

static void
progress(struct load *l)
{
	int pct;

	if (!l->o->progress || l->total == 0)
		return;
	pct = (int)(l->done * 100 / l->total);
	if (pct == l->last_pct)
		return;
	l->last_pct = pct;
	fprintf(l->err, "\rloading  [%-50.*s] %3d%%", pct / 2,
		"##################################################", pct);
	if (pct == 100)
		fputc('\n', l->err);
	fflush(l->err);
}

static int
item_cmp(const void *a, const void *b)
{
	const struct load_item *x = a, *y = b;

	if (x->table != y->table)
		return x->table < y->table ? -1 : 1;
	return memcmp(x->key, y->key, suppress_table_key_len(x->table));
}

/* The batch as destination records, sorted by (table, key): entries scoped to a sender or a
 * list go to the "scoped" table under key + scope key. */
static int
items_build(struct load *l, const struct suppress_import *im)
{
	l->items = calloc(im->n ? im->n : 1, sizeof(*l->items));
	if (l->items == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < im->n; i++) {
		const struct suppress_import_entry *e = &im->v[i];
		struct load_item *it = &l->items[i];

		it->e = e;
		memcpy(it->key, e->key, SUPPRESS_KEY_LEN);
		if (e->rec.scope == SUPPRESS_SCOPE_ALL) {
			it->table = e->table;
		} else {
			it->table = SUPPRESS_TABLE_SCOPED;
			memcpy(it->key + SUPPRESS_KEY_LEN, e->scope_key, SUPPRESS_KEY_LEN);
		}
	}
	l->n_items = im->n;
	/* The parser's order already is (table, key) for the first two tables; only scoped
	 * entries move, and a sort of a sorted prefix is cheap. */
	qsort(l->items, l->n_items, sizeof(*l->items), item_cmp);
	return 0;
}

static int64_t
grace_end(const struct load *l, int64_t optout)
{
	int64_t g = bday_add(l->cal, optout, SUPPRESS_GRACE_BUSINESS_DAYS);

	/* Past the calendar's range: the window never ends, which only errs towards warnings. */
	return g == INT64_MIN ? INT64_MAX : g;
}

/* The record an item writes, stamped with this load. */
static struct suppress_rec
item_rec(const struct load *l, const struct load_item *it)
{
	struct suppress_rec r = it->e->rec;

	r.version = SUPPRESS_REC_VERSION;
	r.source_id = l->st->source_id;
	r.grace_end = grace_end(l, r.optout_time);
	if (it->table == SUPPRESS_TABLE_SCOPED && it->e->table == SUPPRESS_TABLE_DOMAIN)
		r.flags |= SUPPRESS_REC_DOMAIN;
	return r;
}

/*
 * An existing record and the batch's for the same key: merged (suppress_rec_merge), except
 * that a source replacing its own records (a sync) states the truth, so its new record wins.
 */
static struct suppress_rec
merged(const struct load *l, const struct suppress_rec *old, const struct suppress_rec *add)
{
	struct suppress_rec pair[2] = { *old, *add }, m;

	if (l->o->replace_source && old->source_id == l->st->source_id)
		return *add;
	suppress_rec_merge(&m, pair, 2, sizeof(pair[0]));
	m.grace_end = grace_end(l, m.optout_time);
	return m;
}

static const struct load_item *
items_find(const struct load *l, uint8_t table, const uint8_t *key)
{
	struct load_item probe = { .table = table };

	memcpy(probe.key, key, suppress_table_key_len(table));
	return bsearch(&probe, l->items, l->n_items, sizeof(*l->items), item_cmp);
}

/* replace_source: the records of this source that the batch no longer holds go. */
static int
drop_stale(struct load *l, struct suppress_db *db)
{
	for (int t = 0; t < SUPPRESS_TABLE__COUNT; t++) {
		struct suppress_cursor *c;
		const uint8_t *key;
		struct suppress_rec rec;
		int rc = suppress_cursor_open(db, (enum suppress_table)t, &c);

		while (rc >= 0 && (rc = suppress_cursor_next(c, &key, &rec)) != 0) {
			if (rc < 0)
				break;
			if (rec.source_id == l->st->source_id && items_find(l, (uint8_t)t, key) == NULL) {
				rc = suppress_cursor_del(c);
				l->st->removed++;
			}
		}
		suppress_cursor_close(c);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
register_source(struct load *l, struct suppress_db *db, uint64_t rows)
{
	char name[SUPPRESS_SOURCE_NAME_MAX + 1];
	const char *src = l->o->source != NULL ? l->o->source : "-";
	size_t n = strlen(src);

	/* A path too long to keep whole keeps its end, the part that tells files apart. */
	if (n > SUPPRESS_SOURCE_NAME_MAX)
		snprintf(name, sizeof(name), "...%s", src + n - (SUPPRESS_SOURCE_NAME_MAX - 3));
	else
		memcpy(name, src, n + 1);
	return suppress_source_register(db, name, l->o->now, rows, &l->st->source_id);
}

static int
put_calendar(struct load *l, struct suppress_db *db)
{
	uint8_t fp[32];

	bday_calendar_fingerprint(l->cal, fp);
	return suppress_meta_put(db, CALENDAR_META, fp, sizeof(fp));
}

/* The set's grace periods were computed with another calendar than this load's. */
static bool
calendar_changed(struct load *l, struct suppress_db *db)
{
	uint8_t fp[32], have[32];
	size_t len = 0;
	uint64_t n = 0;
	struct suppress_db_info info;

	bday_calendar_fingerprint(l->cal, fp);
	if (suppress_meta_get(db, CALENDAR_META, have, sizeof(have), &len) == 0)
		return len != sizeof(have) || memcmp(fp, have, sizeof(fp)) != 0;
	/* A set from before the calendar was recorded: its records used the default one. */
	if (suppress_db_info(db, &info) == 0)
		for (int t = 0; t < SUPPRESS_TABLE__COUNT; t++)
			n += info.entries[t];
	bday_calendar_fingerprint(bday_calendar_default(), have);
	return n > 0 && memcmp(fp, have, sizeof(fp)) != 0;
}

static int
load_incremental(struct load *l, struct suppress_db *db, uint64_t rows)
{
	uint64_t had[SUPPRESS_TABLE__COUNT] = { 0 };
	int rc = suppress_write_begin(db);

	if (rc < 0)
		return rc;
	suppress_write_expect(db, l->n_items);
	rc = register_source(l, db, rows);
	for (int t = 0; rc == 0 && t < SUPPRESS_TABLE__COUNT; t++)
		rc = suppress_write_count(db, (enum suppress_table)t, &had[t]);
	for (size_t i = 0; rc == 0 && i < l->n_items; i++) {
		const struct load_item *it = &l->items[i];
		struct suppress_rec add = item_rec(l, it), old, m;

		/* An empty table takes the sorted items appended: full pages, no splits. */
		if (had[it->table] == 0) {
			rc = suppress_write_append(db, it->table, it->key, &add);
			l->st->added++;
			l->done++;
			continue;
		}
		rc = suppress_write_get(db, it->table, it->key, &old);
		if (rc == 0) {
			m = merged(l, &old, &add);
			l->st->updated++;
		} else if (rc == -ENOENT || rc == -EBADMSG) {
			if (rc == -EBADMSG)
				log_warn("replacing a record of an unknown format");
			m = add;
			l->st->added++;
		} else {
			break;
		}
		rc = suppress_write_put(db, it->table, it->key, &m);
		l->done++;
		if ((l->done & 0xffff) == 0)
			progress(l);
	}
	if (rc == 0 && l->o->replace_source)
		rc = drop_stale(l, db);
	if (rc == 0)
		rc = put_calendar(l, db);
	if (rc < 0) {
		suppress_write_abort(db);
		return rc;
	}
	rc = suppress_write_commit(db);
	l->done = l->total;
	progress(l);
	return rc;
}

static int
copy_source(void *ctx, const struct suppress_source *src)
{
	return suppress_source_put(ctx, src);
}

/* Merge join of one live table with the batch's items of that table, appended to dst. */
static int
rebuild_table(struct load *l, struct suppress_db *live, struct suppress_db *dst,
	      enum suppress_table t, size_t *next_item)
{
	size_t klen = suppress_table_key_len(t);
	struct suppress_cursor *c;
	const uint8_t *key = NULL;
	struct suppress_rec rec, out;
	size_t i = *next_item;
	int have, rc;

	rc = suppress_cursor_open(live, t, &c);
	if (rc < 0)
		return rc;
	have = suppress_cursor_next(c, &key, &rec);
	for (;;) {
		const struct load_item *it = i < l->n_items && l->items[i].table == t ?
						     &l->items[i] : NULL;
		int cmp;

		while (have == -EBADMSG) { /* an unreadable old record is dropped, loudly */
			log_warn("dropping a record of an unknown format");
			have = suppress_cursor_next(c, &key, &rec);
		}
		if (have < 0) {
			rc = have;
			break;
		}
		if (have == 0 && it == NULL)
			break;
		cmp = have == 0 ? 1 : it == NULL ? -1 : memcmp(key, it->key, klen);
		if (cmp < 0) {
			/* a live record the batch does not touch */
			if (l->o->replace_source && rec.source_id == l->st->source_id) {
				l->st->removed++;
				have = suppress_cursor_next(c, &key, &rec);
				continue;
			}
			out = rec;
			if (l->regrace)
				out.grace_end = grace_end(l, out.optout_time);
			rc = suppress_write_append(dst, t, key, &out);
			have = rc == 0 ? suppress_cursor_next(c, &key, &rec) : have;
		} else {
			out = item_rec(l, it);
			if (cmp == 0) {
				out = merged(l, &rec, &out);
				l->st->updated++;
			} else {
				l->st->added++;
			}
			rc = suppress_write_append(dst, t, it->key, &out);
			if (rc == 0 && cmp == 0)
				have = suppress_cursor_next(c, &key, &rec);
			i++;
			l->done++;
			if ((l->done & 0xffff) == 0)
				progress(l);
		}
		if (rc < 0)
			break;
	}
	suppress_cursor_close(c);
	*next_item = i;
	return rc;
}

/* Remove a set's directory (its two LMDB files): best effort, for a replaced or failed one. */
static void
remove_set_dir(const char *dir)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	if (rmdir(dir) != 0 && errno != ENOENT)
		log_warn("%s: cannot remove: %s", dir, strerror(errno));
}

static int
load_rebuild(struct load *l, struct suppress_db *live, const char *path, unsigned norm_flags,
	     uint64_t rows)
{
	char tmp[PATH_MAX];
	struct suppress_db_info info;
	struct suppress_db *dst;
	size_t next_item = 0;
	int rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new.%ld", path, (long)getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	remove_set_dir(tmp); /* a leftover of a crashed load with our pid */
	if (mkdir(tmp, 0750) != 0)
		return -errno;
	dst = suppress_writer_open(tmp, l->o->map_size, norm_flags);
	if (dst == NULL) {
		rc = -errno;
		goto remove_tmp;
	}
	rc = suppress_write_begin(dst);
	if (rc < 0)
		goto close_dst;
	if (suppress_db_info(live, &info) == 0)
		suppress_write_expect(dst, l->n_items + info.entries[0] + info.entries[1] +
						   info.entries[2]);
	rc = suppress_source_foreach(live, copy_source, dst);
	if (rc == 0)
		rc = register_source(l, dst, rows);
	for (int t = 0; rc == 0 && t < SUPPRESS_TABLE__COUNT; t++)
		rc = rebuild_table(l, live, dst, (enum suppress_table)t, &next_item);
	if (rc == 0)
		rc = put_calendar(l, dst);
	if (rc < 0) {
		suppress_write_abort(dst);
		goto close_dst;
	}
	rc = suppress_write_commit(dst);
	if (rc < 0)
		goto close_dst;
	suppress_db_close(dst);
	dst = NULL;

	/* The swap: readers that opened the old set keep their mapping; new opens (the
	 * dataplane notices within a second) get the new one. */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) != 0) {
		rc = -errno;
		fprintf(l->err, "%s: cannot swap in the rebuilt set: %s\n", path, strerror(-rc));
		goto remove_tmp;
	}
	l->st->rebuilt = true;
	l->done = l->total;
	progress(l);
	/* tmp now names the old set: gone once its last reader unmaps it. */
	remove_set_dir(tmp);
	return 0;

close_dst:
	suppress_db_close(dst);
remove_tmp:
	remove_set_dir(tmp);
	return rc;
}

int
suppress_load_lock(const char *path)
{
	char p[PATH_MAX];
	int fd;

	if ((size_t)snprintf(p, sizeof(p), "%s.lock", path) >= sizeof(p))
		return -ENAMETOOLONG;
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno == EWOULDBLOCK ? EBUSY : errno;

		close(fd);
		return -e;
	}
	return fd;
}

void
suppress_load_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

static bool
set_exists(const char *path)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/data.mdb", path);
	return stat(p, &st) == 0;
}

int
suppress_load_batch(struct suppress_import *im, const char *path, unsigned norm_flags,
		    const struct suppress_load_opts *o, struct suppress_load_stats *st)
{
	struct load l = { .o = o, .st = st, .last_pct = -1 };
	struct suppress_db *db;
	bool existed, rebuild;
	int lock_fd, rc;

	memset(st, 0, sizeof(*st));
	l.err = o->err != NULL ? o->err : stderr;
	l.cal = o->cal != NULL ? o->cal : bday_calendar_default();
	l.total = im->n;
	rc = suppress_import_mkdirs(path);
	if (rc < 0) {
		fprintf(l.err, "%s: cannot create: %s\n", path, strerror(-rc));
		return rc;
	}
	lock_fd = suppress_load_lock(path);
	if (lock_fd < 0) {
		if (lock_fd == -EBUSY)
			fprintf(l.err, "%s: another posternctl is writing the set\n", path);
		return lock_fd;
	}
	rc = items_build(&l, im);
	if (rc < 0)
		goto unlock;
	existed = set_exists(path);
	db = suppress_writer_open(path, o->map_size, norm_flags);
	if (db == NULL) {
		rc = -errno;
		goto free_items;
	}
	if (suppress_db_norm_flags(db) != norm_flags) {
		fprintf(l.err, "%s: the set uses other normalization flags than the batch was "
			       "keyed with: run again\n", path);
		rc = -ESTALE;
		goto close_db;
	}
	l.regrace = existed && calendar_changed(&l, db);
	/* A changed calendar rewrites every grace period: a rebuild does that in passing. */
	rebuild = existed && (o->bulk == 1 || l.regrace ||
			      (o->bulk < 0 && im->n >= SUPPRESS_LOAD_BULK_ROWS));
	if (rebuild)
		rc = load_rebuild(&l, db, path, norm_flags, im->n_good);
	else
		rc = load_incremental(&l, db, im->n_good);
close_db:
	suppress_db_close(db);
free_items:
	free(l.items);
unlock:
	suppress_load_unlock(lock_fd);
	return rc;
}
