/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of suppress_load (batches written into a real LMDB set in a mkdtemp directory):
 * incremental loads merged with what is there, sources registered and stamped on records,
 * scoped entries (sender, list) found only for their own scopes, replace_source (a sync)
 * removing only its own stale records and overriding its own records, a rebuild swapped in
 * while another process holds a snapshot of the old set, a calendar change recomputing every
 * grace period, the writers' lock, a set of other normalization flags (-ESTALE), a full map
 * leaving the set as it was, and loads racing a reader.
 *
 * LMDB forbids opening one environment twice in one process (its lock file uses fcntl locks,
 * which are per process: a second open resets the reader table under the first). So a test
 * that needs a reader alive during a load runs one side in a forked child, as the dataplane
 * and posternctl are separate processes; children report with their exit status, never with
 * cmocka's asserts.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "business_days.h"
#include "ipc.h"
#include "log.h"
#include "suppress_db.h"
#include "suppress_import.h"
#include "suppress_load.h"
#include "suppress_row.h"
#include "suppress_writer.h"
#include "test_tmpdir.h"

static const int64_t NOW = 1735689600; /* 2025-01-01T00:00:00Z */

struct fixture {
	char dir[64];
	char set[96];   /* dir/set: created by the first load */
	FILE *quiet;    /* where expected error messages go */
};

static int64_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {
		.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
		.tm_hour = h, .tm_min = mi, .tm_sec = s,
	};

	return (int64_t)timegm(&tm);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (test_tmpdir_make(f->dir, sizeof(f->dir)) < 0) {
		free(f);
		return -1;
	}
	snprintf(f->set, sizeof(f->set), "%s/set", f->dir);
	f->quiet = fopen("/dev/null", "w");
	*state = f;
	return f->quiet != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	test_tmpdir_remove(f->dir);
	if (f->quiet != NULL)
		fclose(f->quiet);
	free(f);
	return 0;
}

/* One opt-out as a file would give it; NULL fields are empty. */
struct row {
	const char *addr, *optout, *consent, *scope;
};

static struct slice
sl(const char *s)
{
	return s != NULL ? slice_from_cstr(s) : slice_make("", 0);
}

/* A keyed batch of rows through the importer's row API: 0 or -errno (no cmocka: children
 * use it too). */
static int
batch_build(struct suppress_import *im, unsigned flags, const struct row *rows, size_t n)
{
	struct suppress_import_opts o = {
		.name = "test", .format = SUPPRESS_FMT_ROWS, .norm_flags = flags, .now = NOW,
	};
	int rc = suppress_import_init(im);

	if (rc < 0)
		return rc;
	rc = suppress_import_begin(im, &o);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct suppress_row r = {
			.addr = sl(rows[i].addr), .optout = sl(rows[i].optout),
			.consent = sl(rows[i].consent), .scope = sl(rows[i].scope),
			.line = i + 1,
		};

		rc = suppress_import_row(im, &r);
	}
	if (rc == 0)
		rc = suppress_import_end(im);
	if (rc == 0 && im->n_bad > 0)
		rc = -EBADMSG;
	if (rc < 0)
		suppress_import_fini(im);
	return rc;
}

struct load_args {
	const char *source;
	int bulk;                         /* 0 by default: incremental */
	bool replace;
	const struct bday_calendar *cal;
	uint64_t map_size;
	unsigned flags;                   /* the batch's normalization flags */
	FILE *err;
};

static int
load_rows(const char *set, const struct row *rows, size_t n, const struct load_args *a,
	  struct suppress_load_stats *st)
{
	struct suppress_import im;
	struct suppress_load_opts o = {
		.source = a->source, .replace_source = a->replace, .bulk = a->bulk, .cal = a->cal,
		.map_size = a->map_size, .now = NOW, .err = a->err,
	};
	int rc = batch_build(&im, a->flags, rows, n);

	if (rc < 0)
		return rc;
	rc = suppress_load_batch(&im, set, a->flags, &o, st);
	suppress_import_fini(&im);
	return rc;
}

#define LOAD(set, rows, st, ...) \
	load_rows((set), (rows), sizeof(rows) / sizeof((rows)[0]), \
		  &(struct load_args){ __VA_ARGS__ }, (st))

/* A scope of the message for query(): kind and value, kind 0 ends the list. */
struct scope_arg {
	enum suppress_scope kind;
	const char *value;
};

/* Look addr up in a fresh read-only open of the set, closed again before returning (so that
 * the next load in this process is the only open of the environment). 1 found, 0 not. */
static int
query(const char *set, const char *addr, const struct scope_arg *scopes, int64_t now,
      struct suppress_verdict *v, struct suppress_rec *rec)
{
	struct suppress_scopes sc = { 0 };
	struct suppress_db *db = suppress_db_open(set, true);
	struct suppress_reader *r;
	int rc;

	assert_non_null(db);
	r = suppress_reader_create(db);
	assert_non_null(r);
	for (; scopes != NULL && scopes->kind != 0; scopes++) {
		enum suppress_scope_origin origin = scopes->kind == SUPPRESS_SCOPE_LIST ?
							    SUPPRESS_ORIGIN_LIST_ID :
							    SUPPRESS_ORIGIN_ENVELOPE;

		assert_int_equal(suppress_scopes_add(r, &sc, scopes->kind, origin,
						     slice_from_cstr(scopes->value)), 0);
	}
	rc = suppress_lookup_scoped_rec(r, slice_from_cstr(addr), &sc, now, v, rec);
	assert_true(rc >= 0);
	suppress_reader_destroy(r);
	suppress_db_close(db);
	return rc;
}

static struct suppress_db_info
info_of(const char *set)
{
	struct suppress_db *db = suppress_db_open(set, true);
	struct suppress_db_info info;

	assert_non_null(db);
	assert_int_equal(suppress_db_info(db, &info), 0);
	suppress_db_close(db);
	return info;
}

static uint64_t
entries_of(const char *set)
{
	struct suppress_db_info info = info_of(set);

	return info.entries[0] + info.entries[1] + info.entries[2];
}

static struct suppress_source
source_of(const char *set, uint32_t id)
{
	struct suppress_db *db = suppress_db_open(set, true);
	struct suppress_source src;

	assert_non_null(db);
	assert_int_equal(suppress_source_get(db, id, &src), 0);
	suppress_db_close(db);
	return src;
}

/* Only "set" and "set.lock" in the test directory: no rebuild left anything behind. */
static void
assert_no_leftovers(const struct fixture *f)
{
	DIR *d = opendir(f->dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (strcmp(e->d_name, "set") != 0 && strcmp(e->d_name, "set.lock") != 0)
			fail_msg("left behind: %s", e->d_name);
		n++;
	}
	closedir(d);
	assert_int_equal(n, 2);
}

static void
test_incremental_merge(void **state)
{
	struct fixture *f = *state;
	static const struct row a[] = {
		{ "alice@customer.example", "2024-03-01" },
		{ "@Blocked.Example", "2024-06-03" },
		{ "dave@customer.example", "2024-01-02", "2024-02-01" },
	};
	static const struct row b[] = {
		{ "bob@customer.example", "2024-03-04" },
		{ "<alice@CUSTOMER.example>", "2024-02-01" }, /* earlier: its window counts */
		{ "dave@customer.example", "2024-05-02" },    /* after the consent: again */
	};
	struct suppress_load_stats st;
	struct suppress_verdict v;
	struct suppress_rec rec;
	struct suppress_source src;
	uint32_t id_a, id_b;

	assert_int_equal(LOAD(f->set, a, &st, .source = "a.csv"), 0);
	assert_int_equal(st.added, 3);
	assert_int_equal(st.updated, 0);
	assert_int_equal(st.removed, 0);
	assert_false(st.rebuilt);
	id_a = st.source_id;
	assert_true(id_a != 0);
	src = source_of(f->set, id_a);
	assert_string_equal(src.name, "a.csv");
	assert_int_equal(src.rows, 3);
	assert_int_equal(src.time, NOW);

	/* grace_end computed by the load (default calendar: UTC, US federal holidays). */
	assert_int_equal(query(f->set, "alice@customer.example", NULL, utc(2024, 3, 14, 0, 0, 0),
			       &v, &rec), 1);
	assert_int_equal(v.verdict, IPC_SUPPRESS_GRACE);
	assert_int_equal(rec.grace_end, utc(2024, 3, 15, 0, 0, 0));
	assert_int_equal(rec.source_id, id_a);
	assert_int_equal(rec.source_line, 1);
	assert_int_equal(rec.version, SUPPRESS_REC_VERSION);
	assert_int_equal(query(f->set, "x@blocked.example", NULL, NOW, &v, &rec), 1);
	assert_true(v.domain_wide);
	assert_int_equal(rec.grace_end, utc(2024, 6, 17, 0, 0, 0));
	assert_int_equal(rec.source_line, 2);
	assert_int_equal(query(f->set, "dave@customer.example", NULL, NOW, &v, &rec), 1);
	assert_int_equal(v.verdict, IPC_SUPPRESS_NONE); /* consent lifted it */

	assert_int_equal(LOAD(f->set, b, &st, .source = "b.csv"), 0);
	assert_int_equal(st.added, 1);
	assert_int_equal(st.updated, 2);
	id_b = st.source_id;
	assert_true(id_b != id_a);
	/* The earlier opt-out wins, with its own source and line. */
	assert_int_equal(query(f->set, "alice@customer.example", NULL, NOW, &v, &rec), 1);
	assert_int_equal(v.optout_time, utc(2024, 2, 1, 0, 0, 0));
	assert_int_equal(rec.grace_end, utc(2024, 2, 15, 0, 0, 0));
	assert_int_equal(rec.source_id, id_b);
	assert_int_equal(rec.source_line, 2);
	/* An opt-out after the consent counts again; the consent is kept. */
	assert_int_equal(query(f->set, "dave@customer.example", NULL, NOW, &v, &rec), 1);
	assert_int_equal(v.verdict, IPC_SUPPRESS_VIOLATION);
	assert_int_equal(v.optout_time, utc(2024, 5, 2, 0, 0, 0));
	assert_int_equal(v.consent_time, utc(2024, 2, 1, 0, 0, 0));
	assert_int_equal(query(f->set, "bob@customer.example", NULL, NOW, &v, &rec), 1);
	assert_int_equal(rec.source_id, id_b);
	assert_int_equal(entries_of(f->set), 4);

	/* The same file again: the same source, its time and rows follow the last load. */
	assert_int_equal(LOAD(f->set, a, &st, .source = "a.csv"), 0);
	assert_int_equal(st.source_id, id_a);
	assert_int_equal(st.added, 0);
	assert_int_equal(st.updated, 3);
	assert_int_equal(info_of(f->set).sources, 2);
	assert_int_equal(entries_of(f->set), 4);
	assert_no_leftovers(f);

	/* An empty batch registers its source and changes nothing else. */
	assert_int_equal(load_rows(f->set, NULL, 0, &(struct load_args){ .source = "empty" },
				   &st), 0);
	assert_int_equal(st.added + st.updated, 0);
	assert_int_equal(source_of(f->set, st.source_id).rows, 0);
	assert_int_equal(entries_of(f->set), 4);
}

static void
test_scoped(void **state)
{
	struct fixture *f = *state;
	static const struct row rows[] = {
		{ "bob@customer.example", "2024-03-01", NULL, "list:News <news.example.com>" },
		{ "bob@customer.example", "2024-03-02", NULL, "sender:promo.example" },
		{ "@shop.example", "2024-03-01", NULL, "SENDER:Promo.Example" },
		{ "carol@customer.example", "2024-03-01", NULL, "all" },
	};
	static const struct scope_arg none[] = { { 0 } };
	static const struct scope_arg other_list[] = {
		{ SUPPRESS_SCOPE_LIST, "deals.example.com" },
		{ SUPPRESS_SCOPE_SENDER, "news.example.com" }, /* the list's id as a sender */
		{ 0 },
	};
	static const struct scope_arg news[] = {
		{ SUPPRESS_SCOPE_SENDER, "other.example" },
		{ SUPPRESS_SCOPE_LIST, "Weekly <NEWS.example.com>" },
		{ 0 },
	};
	static const struct scope_arg promo[] = {
		{ SUPPRESS_SCOPE_SENDER, "promo.example" },
		{ 0 },
	};
	struct suppress_load_stats st;
	struct suppress_db_info info;
	struct suppress_verdict v;
	struct suppress_rec rec;

	assert_int_equal(LOAD(f->set, rows, &st, .source = "scoped.csv"), 0);
	assert_int_equal(st.added, 4);
	info = info_of(f->set);
	assert_int_equal(info.entries[SUPPRESS_TABLE_ADDR], 1);
	assert_int_equal(info.entries[SUPPRESS_TABLE_DOMAIN], 0);
	assert_int_equal(info.entries[SUPPRESS_TABLE_SCOPED], 3);

	/* Without the scope, or with others: not suppressed. */
	assert_int_equal(query(f->set, "bob@customer.example", NULL, NOW, &v, &rec), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_NONE);
	assert_int_equal(query(f->set, "bob@customer.example", none, NOW, &v, &rec), 0);
	assert_int_equal(query(f->set, "bob@customer.example", other_list, NOW, &v, &rec), 0);
	assert_int_equal(query(f->set, "anyone@shop.example", news, NOW, &v, &rec), 0);
	/* The list: found, its own record. */
	assert_int_equal(query(f->set, "bob@customer.example", news, NOW, &v, &rec), 1);
	assert_int_equal(v.verdict, IPC_SUPPRESS_VIOLATION);
	assert_int_equal(v.scope, SUPPRESS_SCOPE_LIST);
	assert_int_equal(v.origin, SUPPRESS_ORIGIN_LIST_ID);
	assert_int_equal(v.optout_time, utc(2024, 3, 1, 0, 0, 0));
	assert_int_equal(rec.source_line, 1);
	assert_int_equal(rec.source_id, st.source_id);
	/* The sender: bob's own sender entry, and the domain-wide one for any address. */
	assert_int_equal(query(f->set, "bob@customer.example", promo, NOW, &v, &rec), 1);
	assert_int_equal(v.scope, SUPPRESS_SCOPE_SENDER);
	assert_int_equal(v.optout_time, utc(2024, 3, 2, 0, 0, 0));
	assert_false(v.domain_wide);
	assert_int_equal(query(f->set, "Anyone@SHOP.example", promo, utc(2024, 3, 5, 0, 0, 0), &v,
			       &rec), 1);
	assert_int_equal(v.verdict, IPC_SUPPRESS_GRACE);
	assert_true(v.domain_wide);
	assert_true(rec.flags & SUPPRESS_REC_DOMAIN);
	assert_int_equal(rec.grace_end, utc(2024, 3, 15, 0, 0, 0));
	assert_int_equal(rec.source_line, 3);
	/* "all" is a plain entry: it holds whatever the scopes. */
	assert_int_equal(query(f->set, "carol@customer.example", NULL, NOW, &v, &rec), 1);
	assert_int_equal(query(f->set, "carol@customer.example", promo, NOW, &v, &rec), 1);
	assert_int_equal(v.scope, SUPPRESS_SCOPE_ALL);

	/* A second load merges per (key, scope): the list entry moves, the sender one stays. */
	static const struct row more[] = {
		{ "bob@customer.example", "2024-01-15", NULL, "list:news.example.com" },
	};
	assert_int_equal(LOAD(f->set, more, &st, .source = "more.csv"), 0);
	assert_int_equal(st.updated, 1);
	assert_int_equal(st.added, 0);
	assert_int_equal(query(f->set, "bob@customer.example", news, NOW, &v, &rec), 1);
	assert_int_equal(v.optout_time, utc(2024, 1, 15, 0, 0, 0));
	assert_int_equal(query(f->set, "bob@customer.example", promo, NOW, &v, &rec), 1);
	assert_int_equal(v.optout_time, utc(2024, 3, 2, 0, 0, 0));
	assert_int_equal(entries_of(f->set), 4);
}

/* A sync (replace_source) states the truth for its own records only. */
static void
replace_source_case(struct fixture *f, int bulk)
{
	static const struct row sync1[] = {
		{ "alice@customer.example", "2024-03-01" },
		{ "bob@customer.example", "2024-03-01" },
		{ "bob@customer.example", "2024-03-01", NULL, "list:news.example.com" },
		{ "carol@customer.example", "2024-03-01" },
	};
	static const struct row file[] = {
		{ "dave@customer.example", "2024-03-01" },
		{ "carol@customer.example", "2024-01-01" }, /* earlier: the file's record wins */
	};
	/* alice moved later (a correction in the CRM), bob gone (both scopes). */
	static const struct row sync2[] = {
		{ "alice@customer.example", "2024-04-01" },
		{ "carol@customer.example", "2024-03-01" },
	};
	static const struct row sync3[] = {
		{ "alice@customer.example", "2024-04-01" },
	};
	static const struct scope_arg news[] = { { SUPPRESS_SCOPE_LIST, "news.example.com" },
						 { 0 } };
	struct suppress_load_stats st;
	struct suppress_verdict v;
	struct suppress_rec rec;
	uint32_t sync_id, file_id;

	assert_int_equal(LOAD(f->set, sync1, &st, .source = "sync:crm", .replace = true), 0);
	sync_id = st.source_id;
	assert_int_equal(st.added, 4);
	assert_int_equal(LOAD(f->set, file, &st, .source = "optouts.csv"), 0);
	file_id = st.source_id;
	assert_int_equal(query(f->set, "carol@customer.example", NULL, NOW, &v, &rec), 1);
	assert_int_equal(rec.source_id, file_id);
	assert_int_equal(entries_of(f->set), 5);

	assert_int_equal(LOAD(f->set, sync2, &st, .source = "sync:crm", .replace = true,
			      .bulk = bulk), 0);
	assert_int_equal(st.source_id, sync_id);
	assert_int_equal(st.removed, 2); /* bob, both of his records */
	assert_int_equal(st.rebuilt, bulk == 1);
	assert_int_equal(query(f->set, "bob@customer.example", news, NOW, &v, &rec), 0);
	/* Its own record overridden, not merged (a merge would keep the earlier 2024-03-01). */
	assert_int_equal(query(f->set, "alice@customer.example", NULL, NOW, &v, &rec), 1);
	assert_int_equal(v.optout_time, utc(2024, 4, 1, 0, 0, 0));
	assert_int_equal(rec.grace_end, business_days_add(utc(2024, 4, 1, 0, 0, 0), 10));
	/* Another source's records: merged as any load does, never removed. */
	assert_int_equal(query(f->set, "carol@customer.example", NULL, NOW, &v, &rec), 1);
	assert_int_equal(v.optout_time, utc(2024, 1, 1, 0, 0, 0));
	assert_int_equal(rec.source_id, file_id);
	assert_int_equal(query(f->set, "dave@customer.example", NULL, NOW, &v, &rec), 1);
	assert_int_equal(entries_of(f->set), 3);

	/* carol is the file's: the sync dropping her removes nothing. */
	assert_int_equal(LOAD(f->set, sync3, &st, .source = "sync:crm", .replace = true,
			      .bulk = bulk), 0);
	assert_int_equal(st.removed, 0);
	assert_int_equal(query(f->set, "carol@customer.example", NULL, NOW, &v, &rec), 1);
	assert_int_equal(entries_of(f->set), 3);
	/* A plain load of the same source name does not remove. */
	assert_int_equal(LOAD(f->set, file, &st, .source = "sync:crm", .bulk = bulk), 0);
	assert_int_equal(st.removed, 0);
	assert_int_equal(entries_of(f->set), 3);
	assert_no_leftovers(f);
}

static void
test_replace_source(void **state)
{
	replace_source_case(*state, 0);
}

static void
test_replace_source_rebuild(void **state)
{
	replace_source_case(*state, 1);
}

/* Child steps of test_rebuild_with_reader, as exit codes. */
enum {
	CHILD_OK = 0,
	CHILD_OPEN = 10,
	CHILD_BEFORE,
	CHILD_SAME_SNAPSHOT,
	CHILD_OLD_ENV,
	CHILD_FRESH,
	CHILD_PIPE,
};

static int
child_lookup(struct suppress_reader *r, const char *addr, int64_t now)
{
	struct suppress_verdict v;

	if (suppress_lookup(r, slice_from_cstr(addr), now, &v) < 0)
		return -1;
	return v.verdict != IPC_SUPPRESS_NONE;
}

/* The dataplane's side: open the set, look up, wait for the rebuild, look again. */
static int
rebuild_reader_child(const char *set, int ready_fd, int go_fd)
{
	struct suppress_db *db = suppress_db_open(set, true), *fresh;
	struct suppress_reader *r, *rf;
	char c = 'r';
	int ok;

	if (db == NULL || (r = suppress_reader_create(db)) == NULL)
		return CHILD_OPEN;
	if (child_lookup(r, "alice@customer.example", NOW) != 1 ||
	    child_lookup(r, "bob@customer.example", NOW) != 0)
		return CHILD_BEFORE;
	/* Tell the parent we hold a live snapshot, and wait for its rebuild. */
	if (write(ready_fd, &c, 1) != 1 || read(go_fd, &c, 1) != 1)
		return CHILD_PIPE;
	if (child_lookup(r, "bob@customer.example", NOW) != 0)
		return CHILD_SAME_SNAPSHOT;
	/* A new snapshot of the old environment: still the old data, still readable. */
	suppress_reader_release(r);
	if (child_lookup(r, "bob@customer.example", NOW) != 0 ||
	    child_lookup(r, "alice@customer.example", NOW) != 1)
		return CHILD_OLD_ENV;
	/* Reopening gets the new set. */
	fresh = suppress_db_open(set, true);
	if (fresh == NULL || (rf = suppress_reader_create(fresh)) == NULL)
		return CHILD_FRESH;
	ok = child_lookup(rf, "bob@customer.example", NOW) == 1 &&
	     child_lookup(rf, "alice@customer.example", NOW) == 1;
	suppress_reader_destroy(rf);
	suppress_db_close(fresh);
	suppress_reader_destroy(r);
	suppress_db_close(db);
	return ok ? CHILD_OK : CHILD_FRESH;
}

static void
test_rebuild_with_reader(void **state)
{
	struct fixture *f = *state;
	static const struct row first[] = { { "alice@customer.example", "2024-03-01" } };
	static const struct row second[] = { { "bob@customer.example", "2024-03-01" } };
	struct suppress_load_stats st;
	struct suppress_verdict v;
	struct suppress_rec rec;
	int ready[2], go[2], status;
	char c;
	pid_t pid;

	assert_int_equal(LOAD(f->set, first, &st, .source = "first"), 0);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		_exit(rebuild_reader_child(f->set, ready[1], go[0]));
	}
	close(ready[1]);
	close(go[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);

	assert_int_equal(LOAD(f->set, second, &st, .source = "second", .bulk = 1), 0);
	assert_true(st.rebuilt);
	assert_int_equal(st.added, 1);
	/* The old directory is gone at once (its files live on while the child maps them). */
	assert_no_leftovers(f);
	/* A fresh open here sees the new set, with both sources. */
	assert_int_equal(query(f->set, "bob@customer.example", NULL, NOW, &v, &rec), 1);
	assert_int_equal(query(f->set, "alice@customer.example", NULL, NOW, &v, &rec), 1);
	assert_int_equal(info_of(f->set).sources, 2);

	c = 'g';
	assert_int_equal(write(go[1], &c, 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(ready[0]);
	close(go[1]);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), CHILD_OK);
}

static void
test_calendar_regrace(void **state)
{
	struct fixture *f = *state;
	/* Mon 2024-07-01: with US holidays (July 4th) grace ends Tue 16th, without Mon 15th. */
	static const struct row first[] = { { "alice@customer.example", "2024-07-01" } };
	static const struct row second[] = { { "bob@customer.example", "2024-07-01" } };
	static const struct row third[] = { { "carol@customer.example", "2024-07-01" } };
	struct bday_calendar *none = NULL;
	struct suppress_load_stats st;
	struct suppress_verdict v;
	struct suppress_rec rec;
	struct suppress_db *db;
	uint8_t fp[32], have[32];
	size_t len;
	char err[256];

	assert_int_equal(bday_calendar_load(&none, "UTC", "none", err, sizeof(err)), 0);
	assert_int_equal(LOAD(f->set, first, &st, .source = "first"), 0);
	assert_false(st.rebuilt);
	assert_int_equal(query(f->set, "alice@customer.example", NULL, NOW, &v, &rec), 1);
	assert_int_equal(rec.grace_end, utc(2024, 7, 16, 0, 0, 0));

	/* Another calendar: every record's grace end is recomputed, by a rebuild. */
	assert_int_equal(LOAD(f->set, second, &st, .source = "second", .cal = none), 0);
	assert_true(st.rebuilt);
	assert_int_equal(query(f->set, "alice@customer.example", NULL, NOW, &v, &rec), 1);
	assert_int_equal(rec.grace_end, utc(2024, 7, 15, 0, 0, 0));
	assert_int_equal(query(f->set, "bob@customer.example", NULL, NOW, &v, &rec), 1);
	assert_int_equal(rec.grace_end, utc(2024, 7, 15, 0, 0, 0));
	db = suppress_db_open(f->set, true);
	assert_non_null(db);
	assert_int_equal(suppress_meta_get(db, "calendar", have, sizeof(have), &len), 0);
	assert_int_equal(len, sizeof(have));
	bday_calendar_fingerprint(none, fp);
	assert_memory_equal(fp, have, sizeof(fp));
	suppress_db_close(db);
	assert_no_leftovers(f);

	/* The same calendar again: no rebuild needed. */
	assert_int_equal(LOAD(f->set, third, &st, .source = "third", .cal = none), 0);
	assert_false(st.rebuilt);
	/* Back to the default: recomputed once more. */
	assert_int_equal(LOAD(f->set, third, &st, .source = "third"), 0);
	assert_true(st.rebuilt);
	assert_int_equal(query(f->set, "bob@customer.example", NULL, NOW, &v, &rec), 1);
	assert_int_equal(rec.grace_end, utc(2024, 7, 16, 0, 0, 0));
	bday_calendar_free(none);
}

static void
test_lock(void **state)
{
	struct fixture *f = *state;
	static const struct row first[] = { { "alice@customer.example", "2024-03-01" } };
	static const struct row second[] = { { "bob@customer.example", "2024-03-01" } };
	struct suppress_load_stats st;
	struct suppress_verdict v;
	struct suppress_rec rec;
	int fd, fd2;

	assert_int_equal(LOAD(f->set, first, &st, .source = "first"), 0);
	fd = suppress_load_lock(f->set);
	assert_true(fd >= 0);
	/* A second writer, even in this process (flock is per open file). */
	assert_int_equal(suppress_load_lock(f->set), -EBUSY);
	assert_int_equal(LOAD(f->set, second, &st, .source = "second", .err = f->quiet), -EBUSY);
	assert_int_equal(LOAD(f->set, second, &st, .source = "second", .bulk = 1,
			      .err = f->quiet), -EBUSY);
	assert_int_equal(query(f->set, "bob@customer.example", NULL, NOW, &v, &rec), 0);
	assert_int_equal(info_of(f->set).sources, 1);
	suppress_load_unlock(fd);
	suppress_load_unlock(-1); /* no-op */

	assert_int_equal(LOAD(f->set, second, &st, .source = "second"), 0);
	assert_int_equal(query(f->set, "bob@customer.example", NULL, NOW, &v, &rec), 1);
	/* The lock is released after a load. */
	fd2 = suppress_load_lock(f->set);
	assert_true(fd2 >= 0);
	suppress_load_unlock(fd2);
}

static void
test_other_flags(void **state)
{
	struct fixture *f = *state;
	static const struct row first[] = { { "j.smith@gmail.com", "2024-03-01" } };
	static const struct row second[] = { { "js.mith@gmail.com", "2024-03-01" } };
	struct suppress_load_stats st;
	struct suppress_verdict v;
	struct suppress_rec rec;

	/* The set is created with the first batch's flags. */
	assert_int_equal(LOAD(f->set, first, &st, .source = "first",
			      .flags = ADDR_NORM_FOLD_DOTS), 0);
	assert_int_equal(query(f->set, "jsmith@gmail.com", NULL, NOW, &v, &rec), 1);
	/* A batch keyed with other flags would put keys no reader ever makes. */
	assert_int_equal(LOAD(f->set, second, &st, .source = "second", .err = f->quiet),
			 -ESTALE);
	assert_int_equal(info_of(f->set).sources, 1);
	assert_int_equal(entries_of(f->set), 1);
}

/* Many rows of distinct addresses, generated. */
struct gen_rows {
	struct row *rows;
	char (*addr)[48];
	size_t n;
};

static void
gen_rows_make(struct gen_rows *g, const char *prefix, size_t first, size_t n)
{
	g->rows = calloc(n, sizeof(*g->rows));
	g->addr = calloc(n, sizeof(*g->addr));
	g->n = n;
	if (g->rows == NULL || g->addr == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		snprintf(g->addr[i], sizeof(g->addr[i]), "%s%zu@customer.example", prefix,
			 first + i);
		g->rows[i] = (struct row){ g->addr[i], "2024-03-01" };
	}
}

static void
gen_rows_free(struct gen_rows *g)
{
	free(g->rows);
	free(g->addr);
}

static void
test_map_full(void **state)
{
	struct fixture *f = *state;
	struct suppress_load_stats st;
	struct suppress_verdict v;
	struct suppress_rec rec;
	struct gen_rows small, big;
	struct suppress_db_info before;

	gen_rows_make(&small, "s", 0, 100);
	gen_rows_make(&big, "b", 0, 20000);
	assert_int_equal(load_rows(f->set, small.rows, small.n,
				   &(struct load_args){ .source = "small" }, &st), 0);
	before = info_of(f->set);

	/* 64 KiB cannot hold 20000 records (about 1.6 MB): in place, then by a rebuild. */
	for (int bulk = 0; bulk <= 1; bulk++) {
		assert_int_equal(load_rows(f->set, big.rows, big.n,
					   &(struct load_args){ .source = "big", .bulk = bulk,
								.map_size = 64 * 1024,
								.err = f->quiet },
					   &st), -ENOSPC);
		assert_int_equal(entries_of(f->set), 100);
		assert_int_equal(info_of(f->set).sources, before.sources);
		assert_int_equal(query(f->set, "b0@customer.example", NULL, NOW, &v, &rec), 0);
		assert_int_equal(query(f->set, "b19999@customer.example", NULL, NOW, &v, &rec), 0);
		assert_int_equal(query(f->set, "s99@customer.example", NULL, NOW, &v, &rec), 1);
		assert_no_leftovers(f);
	}
	/* With room, the same batch goes in. */
	assert_int_equal(load_rows(f->set, big.rows, big.n,
				   &(struct load_args){ .source = "big", .bulk = 1 }, &st), 0);
	assert_int_equal(entries_of(f->set), 20100);
	gen_rows_free(&small);
	gen_rows_free(&big);
}

/* ---- loads racing a reader ---- */

#define RACE_LOADS 120
#define RACE_PER_LOAD 5
#define RACE_TOTAL (RACE_LOADS * RACE_PER_LOAD)

/* The writer's side (a child process): many small loads, each one published in *committed
 * once it is durable. Exit status 0, or the failing load's number + 1 (capped). */
static int
race_writer(const char *set, uint32_t *committed)
{
	for (uint32_t k = 0; k < RACE_LOADS; k++) {
		struct gen_rows g;
		struct suppress_load_stats st;
		int rc;

		gen_rows_make(&g, "r", (size_t)k * RACE_PER_LOAD, RACE_PER_LOAD);
		rc = load_rows(set, g.rows, g.n, &(struct load_args){ .source = "race" }, &st);
		gen_rows_free(&g);
		if (rc < 0)
			return k + 1 < 250 ? (int)k + 1 : 250;
		__atomic_store_n(committed, k + 1, __ATOMIC_RELEASE);
	}
	return 0;
}

static void
test_concurrent_loads(void **state)
{
	struct fixture *f = *state;
	static const struct row seed[] = { { "seed@customer.example", "2024-03-01" } };
	char addr[48];
	struct suppress_load_stats st;
	struct suppress_db *db;
	struct suppress_reader *r;
	struct suppress_verdict v;
	uint32_t *committed;
	bool *seen, done = false;
	uint64_t lookups = 0, bursts = 0;
	int status = 0;
	pid_t pid;

	assert_int_equal(LOAD(f->set, seed, &st, .source = "seed"), 0);
	committed = mmap(NULL, sizeof(*committed), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(committed != MAP_FAILED);
	*committed = 0;
	seen = calloc(RACE_TOTAL, sizeof(*seen));
	assert_non_null(seen);

	/* The reader (here) opens the set before the writer starts, as the dataplane would. */
	db = suppress_db_open(f->set, true);
	assert_non_null(db);
	r = suppress_reader_create(db);
	assert_non_null(r);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(race_writer(f->set, committed));

	while (!done) {
		/* Once the writer is gone, one last burst must see everything. */
		done = waitpid(pid, &status, WNOHANG) == pid;
		uint32_t c = __atomic_load_n(committed, __ATOMIC_ACQUIRE);
		uint32_t upto = c + 2 < RACE_LOADS ? c + 2 : RACE_LOADS;

		/* A burst: a new snapshot, taken after reading c, holds at least c loads. */
		suppress_reader_release(r);
		for (uint32_t i = 0; i < upto * RACE_PER_LOAD; i++) {
			bool found;

			snprintf(addr, sizeof(addr), "r%u@customer.example", i);
			assert_int_equal(suppress_lookup(r, slice_from_cstr(addr), NOW, &v), 0);
			found = v.verdict != IPC_SUPPRESS_NONE;
			lookups++;
			if (i < c * RACE_PER_LOAD && !found)
				fail_msg("r%u not found after load %u committed", i, c);
			if (seen[i] && !found)
				fail_msg("r%u seen, then unseen", i);
			seen[i] = found;
		}
		bursts++;
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(__atomic_load_n(committed, __ATOMIC_ACQUIRE), RACE_LOADS);
	for (uint32_t i = 0; i < RACE_TOTAL; i++)
		assert_true(seen[i]);
	assert_true(lookups >= RACE_TOTAL);
	print_message("%" PRIu64 " bursts, %" PRIu64 " lookups\n", bursts, lookups);

	suppress_reader_destroy(r);
	suppress_db_close(db);
	assert_int_equal(entries_of(f->set), RACE_TOTAL + 1);
	assert_int_equal(info_of(f->set).sources, 2);
	free(seen);
	munmap(committed, sizeof(*committed));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_incremental_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scoped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_source_rebuild, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_with_reader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_calendar_regrace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_loads, setup, teardown),
	};

	log_init("test_suppress_load", LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
