/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of suppress_db against real LMDB environments in a mkdtemp directory: records
 * written through the writer API, the set reopened read-only as the dataplane does, lookups
 * before/inside/after the grace window, consent, domain-wide entries, bad stored values,
 * snapshot renewal across a write by another process, the writer's errors (busy, read-only,
 * out-of-order append, full map) and the merge rule; record version 2 (40 bytes, with its
 * source) beside version 1 values written raw, the source table, meta, cursors (deleting in
 * the middle of a walk), size facts, a set of the old layout (no "scoped" or "source"), list
 * ids, scope keys and the scoped lookups.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "addr_norm.h"
#include "business_days.h"
#include "ipc.h"
#include "log.h"
#include "suppress_db.h"
#include "suppress_writer.h"
#include "test_tmpdir.h"

struct fixture {
	char dir[64];
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

static struct suppress_rec
rec_make(int64_t optout, int64_t consent, uint32_t line)
{
	return (struct suppress_rec){
		.version = SUPPRESS_REC_VERSION,
		.scope = SUPPRESS_SCOPE_ALL,
		.source_line = line,
		.optout_time = optout,
		.grace_end = business_days_add(optout, SUPPRESS_GRACE_BUSINESS_DAYS),
		.consent_time = consent,
	};
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
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	test_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void
put(struct suppress_db *db, const char *spec, const struct suppress_rec *rec)
{
	enum suppress_table t;
	uint8_t key[SUPPRESS_KEY_LEN];

	assert_int_equal(suppress_db_key(db, slice_from_cstr(spec), &t, key, NULL, 0), 0);
	assert_int_equal(suppress_write_put(db, t, key, rec), 0);
}

/* The sample set most tests read. */
static void
write_sample(const char *dir)
{
	struct suppress_db *db = suppress_writer_open(dir, 0, 0);
	struct suppress_rec r;

	assert_non_null(db);
	assert_int_equal(suppress_write_begin(db), 0);
	/* Fri 2024-03-01: grace ends Fri 2024-03-15 (no holiday in between). */
	r = rec_make(utc(2024, 3, 1, 0, 0, 0), 0, 4);
	assert_int_equal(r.grace_end, utc(2024, 3, 15, 0, 0, 0));
	put(db, "optedout@customer.example", &r);
	/* Opted out, then consented: lifted. */
	r = rec_make(utc(2024, 1, 2, 0, 0, 0), utc(2024, 2, 1, 0, 0, 0), 5);
	put(db, "former@customer.example", &r);
	/* Consent older than the opt-out: does not lift. */
	r = rec_make(utc(2024, 1, 2, 0, 0, 0), utc(2023, 12, 1, 0, 0, 0), 6);
	put(db, "again@customer.example", &r);
	/* A whole domain, Mon 2024-06-03: Tue 4 .. Fri 7 (4), Mon 10 .. Fri 14 (9),
	 * Mon 17 (10); Juneteenth (Wed 19) is after the window. */
	r = rec_make(utc(2024, 6, 3, 0, 0, 0), 0, 7);
	assert_int_equal(r.grace_end, utc(2024, 6, 17, 0, 0, 0));
	put(db, "@Blocked.Example", &r);
	/* An address inside that domain whose own record is lifted by consent. */
	r = rec_make(utc(2024, 1, 2, 0, 0, 0), utc(2024, 2, 1, 0, 0, 0), 8);
	put(db, "vip@blocked.example", &r);
	/* A record of a version this build does not know. */
	r = rec_make(utc(2024, 1, 2, 0, 0, 0), 0, 9);
	r.version = 9;
	put(db, "future@customer.example", &r);
	assert_int_equal(suppress_write_commit(db), 0);
	suppress_db_close(db);
}

static int
lookup(struct suppress_reader *r, const char *addr, int64_t now, struct suppress_verdict *v)
{
	return suppress_lookup(r, slice_from_cstr(addr), now, v);
}

static void
test_open_missing(void **state)
{
	struct fixture *f = *state;
	char path[128];

	snprintf(path, sizeof(path), "%s/nope", f->dir);
	errno = 0;
	assert_null(suppress_db_open(path, true));
	assert_int_equal(errno, ENOENT);
	/* An existing directory without a set is no set either. */
	errno = 0;
	assert_null(suppress_db_open(f->dir, true));
	assert_int_equal(errno, ENOENT);
}

static void
test_grace_window(void **state)
{
	struct fixture *f = *state;
	struct suppress_db *db;
	struct suppress_reader *r;
	struct suppress_verdict v;

	write_sample(f->dir);
	db = suppress_db_open(f->dir, true);
	assert_non_null(db);
	r = suppress_reader_create(db);
	assert_non_null(r);

	/* Inside the window. */
	assert_int_equal(lookup(r, "<optedout@customer.example>", utc(2024, 3, 5, 12, 0, 0), &v),
			 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_GRACE);
	assert_false(v.domain_wide);
	assert_int_equal(v.optout_time, utc(2024, 3, 1, 0, 0, 0));
	assert_int_equal(v.grace_end, utc(2024, 3, 15, 0, 0, 0));
	assert_int_equal(v.consent_time, 0);
	/* The last second of the window, then its end. */
	assert_int_equal(lookup(r, "optedout@customer.example", utc(2024, 3, 14, 23, 59, 59), &v),
			 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_GRACE);
	assert_int_equal(lookup(r, "optedout@customer.example", utc(2024, 3, 15, 0, 0, 0), &v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_VIOLATION);
	/* Long after. */
	assert_int_equal(lookup(r, " optedout@CUSTOMER.EXAMPLE ", utc(2025, 1, 1, 0, 0, 0), &v),
			 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_VIOLATION);
	/* Mail sent before the opt-out (a replayed capture, check --at) is not suppressed. */
	assert_int_equal(lookup(r, "optedout@customer.example", utc(2024, 2, 1, 0, 0, 0), &v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_NONE);
	/* The local part is kept as is by default: another case is another address. */
	assert_int_equal(lookup(r, "OptedOut@customer.example", utc(2025, 1, 1, 0, 0, 0), &v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_NONE);

	suppress_reader_release(r);
	suppress_reader_release(r); /* twice is fine */
	assert_int_equal(lookup(r, "optedout@customer.example", utc(2025, 1, 1, 0, 0, 0), &v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_VIOLATION);

	suppress_reader_destroy(r);
	suppress_db_close(db);
}

static void
test_consent_domain_absent(void **state)
{
	struct fixture *f = *state;
	struct suppress_db *db;
	struct suppress_reader *r;
	struct suppress_verdict v;
	struct suppress_rec rec;
	int64_t now = utc(2025, 1, 1, 0, 0, 0);

	write_sample(f->dir);
	db = suppress_db_open(f->dir, true);
	assert_non_null(db);
	r = suppress_reader_create(db);
	assert_non_null(r);

	/* Consent after the opt-out lifts it, but the record is still reported. */
	assert_int_equal(suppress_lookup_rec(r, slice_from_cstr("former@customer.example"), now,
					     &v, &rec), 1);
	assert_int_equal(v.verdict, IPC_SUPPRESS_NONE);
	assert_int_equal(v.consent_time, utc(2024, 2, 1, 0, 0, 0));
	assert_int_equal(rec.source_line, 5);
	/* Mail between the opt-out's grace end and the consent was still a violation. */
	assert_int_equal(lookup(r, "former@customer.example", utc(2024, 1, 31, 0, 0, 0), &v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_VIOLATION);
	/* Consent before the opt-out does not. */
	assert_int_equal(lookup(r, "again@customer.example", now, &v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_VIOLATION);

	/* Domain-wide, any local part, any domain case. */
	assert_int_equal(suppress_lookup_rec(r, slice_from_cstr("Anyone@BLOCKED.example"),
					     utc(2024, 6, 14, 0, 0, 0), &v, &rec), 1);
	assert_int_equal(v.verdict, IPC_SUPPRESS_GRACE);
	assert_true(v.domain_wide);
	assert_int_equal(rec.source_line, 7);
	assert_int_equal(lookup(r, "anyone@blocked.example", utc(2024, 6, 17, 0, 0, 0), &v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_VIOLATION);
	/* A sub-domain is another domain. */
	assert_int_equal(lookup(r, "anyone@sub.blocked.example", now, &v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_NONE);
	/* Own consent does not beat the domain's opt-out: the more severe verdict wins. */
	assert_int_equal(lookup(r, "vip@blocked.example", now, &v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_VIOLATION);
	assert_true(v.domain_wide);

	/* Absent: verdict NONE, all zero. */
	memset(&v, 0xa5, sizeof(v));
	assert_int_equal(suppress_lookup_rec(r, slice_from_cstr("nobody@customer.example"), now,
					     &v, NULL), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_NONE);
	assert_false(v.domain_wide);
	assert_int_equal(v.optout_time, 0);
	assert_int_equal(v.grace_end, 0);

	/* Not an address. */
	assert_int_equal(lookup(r, "no-at-sign", now, &v), -EINVAL);
	assert_int_equal(lookup(r, "<>", now, &v), -EINVAL);
	assert_int_equal(lookup(r, "a\r\nb@c.example", now, &v), -EINVAL);

	suppress_reader_destroy(r);
	suppress_db_close(db);
}

static void
test_bad_values(void **state)
{
	struct fixture *f = *state;
	struct suppress_db *db;
	struct suppress_reader *r;
	struct suppress_verdict v;
	struct addr_hasher h;
	uint8_t key[ADDR_KEY_LEN];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	int64_t now = utc(2025, 1, 1, 0, 0, 0);

	write_sample(f->dir);

	/* Write a 5-byte value under a key behind the module's back. */
	assert_int_equal(addr_hasher_init(&h), 0);
	assert_int_equal(addr_hasher_key(&h, "short@customer.example", 22, key), 0);
	addr_hasher_fini(&h);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 3), 0);
	assert_int_equal(mdb_env_open(env, f->dir, 0, 0644), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "addr", 0, &dbi), 0);
	MDB_val k = { sizeof(key), key }, val = { 5, "short" };
	assert_int_equal(mdb_put(txn, dbi, &k, &val, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	db = suppress_db_open(f->dir, true);
	assert_non_null(db);
	r = suppress_reader_create(db);
	assert_non_null(r);
	/* written behind the module's back: its filter does not know the key */
	suppress_reader_use_filter(r, false);
	assert_int_equal(lookup(r, "short@customer.example", now, &v), -EBADMSG);
	assert_int_equal(v.verdict, IPC_SUPPRESS_NONE);
	assert_int_equal(lookup(r, "future@customer.example", now, &v), -EBADMSG);
	/* The reader is still usable. */
	assert_int_equal(lookup(r, "optedout@customer.example", now, &v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_VIOLATION);
	suppress_reader_destroy(r);
	suppress_db_close(db);

	/* The decoder alone. */
	struct suppress_rec rec = rec_make(1, 0, 0), out;
	uint8_t raw[sizeof(rec) + 1];

	memcpy(raw + 1, &rec, sizeof(rec)); /* misaligned on purpose */
	assert_int_equal(suppress_rec_decode(raw + 1, sizeof(rec), &out), 0);
	assert_int_equal(out.optout_time, 1);
	assert_int_equal(suppress_rec_decode(raw + 1, sizeof(rec) - 1, &out), -EBADMSG);
	rec.scope = 7;
	assert_int_equal(suppress_rec_decode(&rec, sizeof(rec), &out), -EBADMSG);
}

static void
test_not_a_set(void **state)
{
	struct fixture *f = *state;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	/* An LMDB environment with our database names but another format string. */
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 3), 0);
	assert_int_equal(mdb_env_open(env, f->dir, 0, 0644), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	for (int i = 0; i < 3; i++) {
		static const char *const names[] = { "addr", "domain", "meta" };

		assert_int_equal(mdb_dbi_open(txn, names[i], MDB_CREATE, &dbi), 0);
	}
	MDB_val k = { 6, "format" }, v = { 7, "other-1" };
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	errno = 0;
	assert_null(suppress_db_open(f->dir, true));
	assert_int_equal(errno, EPROTO);
	errno = 0;
	assert_null(suppress_writer_open(f->dir, 0, 0));
	assert_int_equal(errno, EPROTO);
}

/* Another process commits while our reader holds a snapshot. */
static void
test_snapshot_renewal(void **state)
{
	struct fixture *f = *state;
	struct suppress_db *db;
	struct suppress_reader *r;
	struct suppress_verdict v;
	int64_t now = utc(2025, 1, 1, 0, 0, 0);
	int status;
	pid_t pid;

	write_sample(f->dir);
	db = suppress_db_open(f->dir, true);
	assert_non_null(db);
	r = suppress_reader_create(db);
	assert_non_null(r);
	assert_int_equal(lookup(r, "late@customer.example", now, &v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_NONE);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* A fresh process with its own environment handle, as posternctl would be. */
		struct suppress_db *w = suppress_writer_open(f->dir, 0, 0);
		struct suppress_rec rec = rec_make(utc(2024, 1, 2, 0, 0, 0), 0, 1);
		enum suppress_table t;
		uint8_t key[SUPPRESS_KEY_LEN];

		if (w == NULL || suppress_write_begin(w) < 0 ||
		    suppress_db_key(w, slice_from_cstr("late@customer.example"), &t, key, NULL,
				    0) < 0 ||
		    suppress_write_put(w, t, key, &rec) < 0 || suppress_write_commit(w) < 0)
			_exit(1);
		suppress_db_close(w);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* Same burst: same snapshot. */
	assert_int_equal(lookup(r, "late@customer.example", now, &v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_NONE);
	/* Next burst sees the commit. */
	suppress_reader_release(r);
	assert_int_equal(lookup(r, "late@customer.example", now, &v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_VIOLATION);

	suppress_reader_destroy(r);
	suppress_db_close(db);
}

static void
test_writer(void **state)
{
	struct fixture *f = *state;
	struct suppress_db *db;
	struct suppress_rec r = rec_make(utc(2024, 1, 2, 0, 0, 0), 0, 1), got;
	uint8_t k1[SUPPRESS_KEY_LEN], k2[SUPPRESS_KEY_LEN];
	enum suppress_table t;
	char norm[ADDR_NORM_CAP];
	uint64_t n;

	db = suppress_writer_open(f->dir, 0, ADDR_NORM_LOWER_LOCAL);
	assert_non_null(db);
	assert_int_equal(suppress_db_norm_flags(db), ADDR_NORM_LOWER_LOCAL);

	/* Keys and their normalized text. */
	assert_int_equal(suppress_db_key(db, slice_from_cstr("<Bob@X.Example>"), &t, k1, norm,
					 sizeof(norm)), 0);
	assert_int_equal(t, SUPPRESS_TABLE_ADDR);
	assert_string_equal(norm, "bob@x.example");
	assert_int_equal(suppress_db_key(db, slice_from_cstr(" <@X.Example> "), &t, k2, norm,
					 sizeof(norm)), 0);
	assert_int_equal(t, SUPPRESS_TABLE_DOMAIN);
	assert_string_equal(norm, "@x.example");
	assert_int_equal(suppress_db_key(db, slice_from_cstr("@"), &t, k2, NULL, 0), -EINVAL);
	assert_int_equal(suppress_db_key(db, slice_from_cstr("bob"), &t, k2, NULL, 0), -EINVAL);
	assert_int_equal(suppress_db_key(db, slice_from_cstr("@x.example"), &t, k2, norm, 5),
			 -ENOBUFS);

	/* Writes need a transaction, one at a time. */
	assert_int_equal(suppress_write_put(db, SUPPRESS_TABLE_ADDR, k1, &r), -EINVAL);
	assert_int_equal(suppress_write_begin(db), 0);
	assert_int_equal(suppress_write_begin(db), -EBUSY);
	assert_int_equal(suppress_write_put(db, SUPPRESS_TABLE_ADDR, k1, &r), 0);
	assert_int_equal(suppress_write_get(db, SUPPRESS_TABLE_ADDR, k1, &got), 0);
	assert_memory_equal(&got, &r, sizeof(r));
	assert_int_equal(suppress_write_count(db, SUPPRESS_TABLE_ADDR, &n), 0);
	assert_int_equal(n, 1);
	/* Abort drops it. */
	suppress_write_abort(db);
	suppress_write_abort(db);
	assert_int_equal(suppress_write_begin(db), 0);
	assert_int_equal(suppress_write_get(db, SUPPRESS_TABLE_ADDR, k1, &got), -ENOENT);
	assert_int_equal(suppress_write_del(db, SUPPRESS_TABLE_ADDR, k1), -ENOENT);

	/* Append: increasing keys into an empty table, refused out of order. */
	uint8_t lo[SUPPRESS_KEY_LEN], hi[SUPPRESS_KEY_LEN];

	memset(lo, 0x11, sizeof(lo));
	memset(hi, 0x22, sizeof(hi));
	assert_int_equal(suppress_write_append(db, SUPPRESS_TABLE_DOMAIN, lo, &r), 0);
	assert_int_equal(suppress_write_append(db, SUPPRESS_TABLE_DOMAIN, hi, &r), 0);
	assert_int_equal(suppress_write_append(db, SUPPRESS_TABLE_DOMAIN, lo, &r), -EEXIST);
	assert_int_equal(suppress_write_count(db, SUPPRESS_TABLE_DOMAIN, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(suppress_write_count(db, SUPPRESS_TABLE_ADDR, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(suppress_write_del(db, SUPPRESS_TABLE_DOMAIN, lo), 0);
	assert_int_equal(suppress_write_commit(db), 0);
	assert_int_equal(suppress_write_commit(db), -EINVAL);
	suppress_db_close(db);

	/* The flags stay those of the set's creation. */
	db = suppress_writer_open(f->dir, 0, 0);
	assert_non_null(db);
	assert_int_equal(suppress_db_norm_flags(db), ADDR_NORM_LOWER_LOCAL);
	suppress_db_close(db);
	db = suppress_db_open(f->dir, true);
	assert_non_null(db);
	assert_int_equal(suppress_db_norm_flags(db), ADDR_NORM_LOWER_LOCAL);
	assert_int_equal(suppress_write_begin(db), -EROFS);
	suppress_db_close(db);
	suppress_db_close(NULL);

	errno = 0;
	assert_null(suppress_writer_open(f->dir, 0, 1u << 9));
	assert_int_equal(errno, EINVAL);
}

static void
test_lower_local_lookup(void **state)
{
	struct fixture *f = *state;
	struct suppress_db *db = suppress_writer_open(f->dir, 0, ADDR_NORM_FLAGS_ALL);
	struct suppress_reader *r;
	struct suppress_verdict v;
	struct suppress_rec rec = rec_make(utc(2024, 1, 2, 0, 0, 0), 0, 1);

	assert_non_null(db);
	assert_int_equal(suppress_write_begin(db), 0);
	put(db, "Carol+List@Example.org", &rec);
	assert_int_equal(suppress_write_commit(db), 0);
	suppress_db_close(db);

	db = suppress_db_open(f->dir, true);
	assert_non_null(db);
	r = suppress_reader_create(db);
	assert_non_null(r);
	assert_int_equal(lookup(r, "<CAROL+other@example.ORG>", utc(2025, 1, 1, 0, 0, 0), &v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_VIOLATION);
	suppress_reader_destroy(r);
	suppress_db_close(db);
}

static void
test_map_full(void **state)
{
	struct fixture *f = *state;
	struct suppress_db *db = suppress_writer_open(f->dir, 1u << 20, 0);
	struct suppress_rec r = rec_make(utc(2024, 1, 2, 0, 0, 0), 0, 1);
	uint8_t key[SUPPRESS_KEY_LEN] = { 0 };
	int rc = 0;

	assert_non_null(db);
	assert_int_equal(suppress_write_begin(db), 0);
	/* 1 MiB holds about 12k records: 100k must fill it. */
	for (uint32_t i = 0; i < 100000 && rc == 0; i++) {
		memcpy(key, &i, sizeof(i));
		rc = suppress_write_put(db, SUPPRESS_TABLE_ADDR, key, &r);
	}
	assert_int_equal(rc, -ENOSPC);
	suppress_write_abort(db);
	suppress_db_close(db);
}

static void
test_verdict_and_merge(void **state)
{
	struct suppress_rec r = rec_make(1000, 0, 1), recs[3], m;

	(void)state;
	r.grace_end = 2000;
	assert_int_equal(suppress_rec_verdict(&r, 1999), IPC_SUPPRESS_GRACE);
	assert_int_equal(suppress_rec_verdict(&r, 2000), IPC_SUPPRESS_VIOLATION);
	r.consent_time = 1000; /* same second: not after */
	assert_int_equal(suppress_rec_verdict(&r, 5000), IPC_SUPPRESS_VIOLATION);
	r.consent_time = 1001;
	assert_int_equal(suppress_rec_verdict(&r, 5000), IPC_SUPPRESS_NONE);

	/* Opt-outs at 1 and 5, a consent at 3 given with an opt-out at 2: the consent lifts 1
	 * and 2, the opt-out at 5 counts. */
	recs[0] = rec_make(100, 0, 10);
	recs[1] = rec_make(500, 0, 11);
	recs[2] = rec_make(200, 300, 12);
	suppress_rec_merge(&m, recs, 3, sizeof(recs[0]));
	assert_int_equal(m.optout_time, 500);
	assert_int_equal(m.consent_time, 300);
	assert_int_equal(m.source_line, 11);
	assert_int_equal(m.grace_end, recs[1].grace_end);
	/* Two opt-outs, no consent: the window runs from the first. */
	suppress_rec_merge(&m, recs, 2, sizeof(recs[0]));
	assert_int_equal(m.optout_time, 100);
	assert_int_equal(m.source_line, 10);
	/* Consent after every opt-out: the latest opt-out, lifted. */
	recs[0].consent_time = 900;
	suppress_rec_merge(&m, recs, 3, sizeof(recs[0]));
	assert_int_equal(m.optout_time, 500);
	assert_int_equal(m.consent_time, 900);
	assert_int_equal(suppress_rec_verdict(&m, 5000), IPC_SUPPRESS_NONE);
	/* One record: itself. */
	suppress_rec_merge(&m, &recs[1], 1, sizeof(recs[0]));
	assert_memory_equal(&m, &recs[1], sizeof(m));
}

/* Write one raw value under a key of a named database, behind the module's back. */
static void
raw_put(const char *dir, const char *dbname, const void *key, size_t klen, const void *val,
	size_t vlen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0644), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, dbname, 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void
addr_key(const char *addr, uint8_t key[SUPPRESS_KEY_LEN])
{
	struct addr_hasher h;
	char norm[ADDR_NORM_CAP];
	int n = addr_normalize(slice_from_cstr(addr), 0, norm, sizeof(norm));

	assert_true(n > 0);
	assert_int_equal(addr_hasher_init(&h), 0);
	assert_int_equal(addr_hasher_key(&h, norm, (size_t)n, key), 0);
	addr_hasher_fini(&h);
}

/* Version 2 is 40 bytes; a set written by an older build (32-byte version 1 values, no
 * source) is still read, by the dataplane's lookup, the writer and cursors alike. */
static void
test_rec_v1(void **state)
{
	struct fixture *f = *state;
	struct suppress_rec r = rec_make(utc(2024, 3, 1, 0, 0, 0), 0, 42), got;
	uint8_t key[SUPPRESS_KEY_LEN], raw[40];
	struct suppress_db *db;
	struct suppress_reader *rd;
	struct suppress_verdict v;
	struct suppress_cursor *c;
	const uint8_t *ck;

	assert_int_equal(sizeof(struct suppress_rec), 40);
	assert_int_equal(offsetof(struct suppress_rec, source_id), 32);
	write_sample(f->dir);

	r.version = 1;
	r.source_id = 77; /* beyond the 32 bytes: must not be read */
	memcpy(raw, &r, sizeof(raw));
	addr_key("old@customer.example", key);
	raw_put(f->dir, "addr", key, sizeof(key), raw, 32);

	db = suppress_db_open(f->dir, true);
	assert_non_null(db);
	rd = suppress_reader_create(db);
	assert_non_null(rd);
	suppress_reader_use_filter(rd, false); /* raw_put went behind the filter's back */
	assert_int_equal(suppress_lookup_rec(rd, slice_from_cstr("old@customer.example"),
					     utc(2024, 3, 5, 0, 0, 0), &v, &got), 1);
	assert_int_equal(v.verdict, IPC_SUPPRESS_GRACE);
	assert_int_equal(v.grace_end, utc(2024, 3, 15, 0, 0, 0));
	assert_int_equal(got.version, SUPPRESS_REC_VERSION);
	assert_int_equal(got.source_id, 0);
	assert_int_equal(got.source_line, 42);
	suppress_reader_destroy(rd);
	suppress_db_close(db);

	db = suppress_writer_open(f->dir, 0, 0);
	assert_non_null(db);
	assert_int_equal(suppress_write_begin(db), 0);
	assert_int_equal(suppress_write_get(db, SUPPRESS_TABLE_ADDR, key, &got), 0);
	assert_int_equal(got.version, SUPPRESS_REC_VERSION);
	assert_int_equal(got.source_id, 0);
	assert_int_equal(got.optout_time, utc(2024, 3, 1, 0, 0, 0));
	/* The cursor gives it too, among the version 2 records. */
	assert_int_equal(suppress_cursor_open(db, SUPPRESS_TABLE_ADDR, &c), 0);
	int n = 0, seen = 0, rc;

	while ((rc = suppress_cursor_next(c, &ck, &got)) != 0 && n < 100) {
		n++;
		if (rc == 1 && memcmp(ck, key, sizeof(key)) == 0) {
			seen++;
			assert_int_equal(got.source_line, 42);
		}
	}
	suppress_cursor_close(c);
	assert_int_equal(seen, 1);
	assert_int_equal(n, 6); /* 5 addresses of the sample (one of an unknown version) + 1 */
	suppress_write_abort(db);
	suppress_db_close(db);

	/* Size and version must agree. */
	r.version = 2;
	memcpy(raw, &r, sizeof(raw));
	assert_int_equal(suppress_rec_decode(raw, 32, &got), -EBADMSG);
	r.version = 1;
	memcpy(raw, &r, sizeof(raw));
	assert_int_equal(suppress_rec_decode(raw, 40, &got), -EBADMSG);
	assert_int_equal(suppress_rec_decode(raw, 32, &got), 0);
	assert_int_equal(suppress_rec_decode(raw, 36, &got), -EBADMSG);
}

static int
collect_source(void *ctx, const struct suppress_source *src)
{
	struct suppress_source *out = ctx;

	for (int i = 0; i < 8; i++) {
		if (out[i].id == 0) {
			out[i] = *src;
			return 0;
		}
	}
	return -E2BIG;
}

static int
stop_at_second(void *ctx, const struct suppress_source *src)
{
	int *n = ctx;

	(void)src;
	return ++*n == 2 ? 99 : 0;
}

static void
test_sources(void **state)
{
	struct fixture *f = *state;
	struct suppress_db *db = suppress_writer_open(f->dir, 0, 0);
	struct suppress_source list[8], got;
	char longname[SUPPRESS_SOURCE_NAME_MAX + 2];
	uint32_t a, b, a2;
	int n = 0;

	assert_non_null(db);
	/* None yet, and registration needs a transaction. */
	assert_int_equal(suppress_source_get(db, 1, &got), -ENOENT);
	assert_int_equal(suppress_source_register(db, "x.csv", 1, 1, &a), -EINVAL);

	assert_int_equal(suppress_write_begin(db), 0);
	assert_int_equal(suppress_source_register(db, "lists/optouts.csv", 1000, 10, &a), 0);
	assert_int_equal(suppress_source_register(db, "sync:crm", 2000, 20, &b), 0);
	assert_true(a != 0 && b != 0 && a != b);
	/* The same name is the same source: time and rows follow its last load. */
	assert_int_equal(suppress_source_register(db, "lists/optouts.csv", 3000, 30, &a2), 0);
	assert_int_equal(a2, a);
	/* Seen inside the transaction. */
	assert_int_equal(suppress_source_get(db, a, &got), 0);
	assert_int_equal(got.time, 3000);
	assert_int_equal(got.rows, 30);
	assert_string_equal(got.name, "lists/optouts.csv");
	/* Names are bounded: 255 bytes fit, 256 do not. */
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(suppress_source_register(db, longname, 1, 1, &a2), -ENAMETOOLONG);
	longname[SUPPRESS_SOURCE_NAME_MAX] = '\0';
	assert_int_equal(suppress_source_register(db, longname, 4000, 1, &a2), 0);
	assert_true(a2 > b);
	/* A copy keeps its id, even a high one. */
	struct suppress_source copy = { .id = 1000, .time = 5, .rows = 6, .name = "copied" };

	assert_int_equal(suppress_source_put(db, &copy), 0);
	assert_int_equal(suppress_write_commit(db), 0);

	/* After the commit, from a read snapshot of its own; in id order. */
	assert_int_equal(suppress_source_get(db, b, &got), 0);
	assert_string_equal(got.name, "sync:crm");
	assert_int_equal(got.time, 2000);
	assert_int_equal(suppress_source_get(db, 999, &got), -ENOENT);
	memset(list, 0, sizeof(list));
	assert_int_equal(suppress_source_foreach(db, collect_source, list), 0);
	assert_int_equal(list[0].id, a);
	assert_int_equal(list[1].id, b);
	assert_int_equal(list[2].id, a2);
	assert_int_equal(strlen(list[2].name), SUPPRESS_SOURCE_NAME_MAX);
	assert_int_equal(list[3].id, 1000);
	assert_string_equal(list[3].name, "copied");
	assert_int_equal(list[4].id, 0);
	/* A non-zero return stops the walk and is returned. */
	assert_int_equal(suppress_source_foreach(db, stop_at_second, &n), 99);
	assert_int_equal(n, 2);
	/* A new name after id 1000 gets 1001. */
	assert_int_equal(suppress_write_begin(db), 0);
	assert_int_equal(suppress_source_register(db, "later", 1, 1, &a2), 0);
	assert_int_equal(a2, 1001);
	suppress_write_abort(db);
	suppress_db_close(db);

	/* A read-only handle sees them too. */
	db = suppress_db_open(f->dir, true);
	assert_non_null(db);
	assert_int_equal(suppress_source_get(db, a, &got), 0);
	assert_int_equal(got.rows, 30);
	suppress_db_close(db);
}

static void
test_meta(void **state)
{
	struct fixture *f = *state;
	struct suppress_db *db = suppress_writer_open(f->dir, 0, ADDR_NORM_FOLD_DOTS);
	char buf[64];
	size_t len = 0;
	uint32_t flags;

	assert_non_null(db);
	/* What the set was created with. */
	assert_int_equal(suppress_meta_get(db, "format", buf, sizeof(buf), &len), 0);
	assert_int_equal(len, strlen(SUPPRESS_FORMAT));
	assert_memory_equal(buf, SUPPRESS_FORMAT, len);
	assert_int_equal(suppress_meta_get(db, "norm_flags", &flags, sizeof(flags), &len), 0);
	assert_int_equal(len, sizeof(flags));
	assert_int_equal(flags, ADDR_NORM_FOLD_DOTS);
	assert_int_equal(suppress_meta_get(db, "calendar", buf, sizeof(buf), &len), -ENOENT);
	/* Writing needs the transaction. */
	assert_int_equal(suppress_meta_put(db, "calendar", "x", 1), -EINVAL);
	assert_int_equal(suppress_write_begin(db), 0);
	assert_int_equal(suppress_meta_put(db, "calendar", "0123456789abcdef", 16), 0);
	assert_int_equal(suppress_meta_get(db, "calendar", buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 16);
	assert_int_equal(suppress_write_commit(db), 0);
	/* Too small a buffer: the length is still told. */
	len = 0;
	assert_int_equal(suppress_meta_get(db, "calendar", buf, 8, &len), -ENOBUFS);
	assert_int_equal(len, 16);
	suppress_db_close(db);

	db = suppress_db_open(f->dir, true);
	assert_non_null(db);
	assert_int_equal(suppress_db_norm_flags(db), ADDR_NORM_FOLD_DOTS);
	assert_int_equal(suppress_meta_get(db, "calendar", buf, sizeof(buf), &len), 0);
	assert_memory_equal(buf, "0123456789abcdef", 16);
	assert_int_equal(suppress_meta_put(db, "calendar", "x", 1), -EROFS);
	suppress_db_close(db);
	/* And without keeping the set open. */
	flags = 0;
	assert_int_equal(suppress_db_peek_norm_flags(f->dir, &flags), 0);
	assert_int_equal(flags, ADDR_NORM_FOLD_DOTS);
	char nope[128];

	snprintf(nope, sizeof(nope), "%s/nope", f->dir);
	assert_int_equal(suppress_db_peek_norm_flags(nope, &flags), -ENOENT);
}

static void
key_n(uint8_t *key, size_t len, uint32_t i)
{
	/* Big-endian first bytes: key order is i order. */
	memset(key, 0x5a, len);
	key[0] = (uint8_t)(i >> 24);
	key[1] = (uint8_t)(i >> 16);
	key[2] = (uint8_t)(i >> 8);
	key[3] = (uint8_t)i;
}

static void
test_cursors(void **state)
{
	struct fixture *f = *state;
	struct suppress_db *db = suppress_writer_open(f->dir, 0, 0);
	struct suppress_rec r = rec_make(utc(2024, 1, 2, 0, 0, 0), 0, 0), got;
	uint8_t key[SUPPRESS_SCOPED_KEY_LEN], prev[SUPPRESS_SCOPED_KEY_LEN];
	struct suppress_cursor *c;
	const uint8_t *k;
	uint64_t n;
	int rc, i;

	assert_non_null(db);
	/* Empty tables: nothing to walk, with or without a transaction. */
	assert_int_equal(suppress_cursor_open(db, SUPPRESS_TABLE_SCOPED, &c), 0);
	assert_int_equal(suppress_cursor_next(c, &k, &got), 0);
	assert_int_equal(suppress_cursor_next(c, &k, &got), 0);
	suppress_cursor_close(c);
	suppress_cursor_close(NULL);

	/* 1000 records, written in reverse order, each with its index as the line. */
	assert_int_equal(suppress_write_begin(db), 0);
	for (i = 999; i >= 0; i--) {
		r.source_line = (uint32_t)i;
		key_n(key, SUPPRESS_KEY_LEN, (uint32_t)i);
		assert_int_equal(suppress_write_put(db, SUPPRESS_TABLE_ADDR, key, &r), 0);
		key_n(key, SUPPRESS_SCOPED_KEY_LEN, (uint32_t)i);
		r.scope = SUPPRESS_SCOPE_LIST;
		assert_int_equal(suppress_write_put(db, SUPPRESS_TABLE_SCOPED, key, &r), 0);
		r.scope = SUPPRESS_SCOPE_ALL;
	}
	assert_int_equal(suppress_write_commit(db), 0);

	/* A walk in a read snapshot: key order, every record once; deleting is refused. */
	assert_int_equal(suppress_cursor_open(db, SUPPRESS_TABLE_SCOPED, &c), 0);
	assert_int_equal(suppress_cursor_del(c), -EINVAL);
	for (i = 0; (rc = suppress_cursor_next(c, &k, &got)) == 1; i++) {
		key_n(key, SUPPRESS_SCOPED_KEY_LEN, (uint32_t)i);
		assert_memory_equal(k, key, SUPPRESS_SCOPED_KEY_LEN);
		assert_int_equal(got.source_line, i);
		assert_int_equal(got.scope, SUPPRESS_SCOPE_LIST);
		if (i > 0)
			assert_true(memcmp(prev, k, SUPPRESS_SCOPED_KEY_LEN) < 0);
		memcpy(prev, k, SUPPRESS_SCOPED_KEY_LEN);
		if (i == 10)
			assert_int_equal(suppress_cursor_del(c), -EINVAL);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(i, 1000);
	suppress_cursor_close(c);

	/* In the write transaction: delete every third record in the middle of the walk, and
	 * write to another table meanwhile. The walk still visits each record once. */
	assert_int_equal(suppress_write_begin(db), 0);
	assert_int_equal(suppress_cursor_open(db, SUPPRESS_TABLE_ADDR, &c), 0);
	assert_int_equal(suppress_cursor_del(c), -EINVAL); /* nothing returned yet */
	for (i = 0; (rc = suppress_cursor_next(c, &k, &got)) == 1; i++) {
		assert_int_equal(got.source_line, i);
		if (i % 3 == 1) {
			assert_int_equal(suppress_cursor_del(c), 0);
		} else if (i % 100 == 0) {
			key_n(key, SUPPRESS_KEY_LEN, (uint32_t)i);
			assert_int_equal(suppress_write_put(db, SUPPRESS_TABLE_DOMAIN, key, &r), 0);
		}
	}
	assert_int_equal(rc, 0);
	assert_int_equal(i, 1000);
	suppress_cursor_close(c);
	assert_int_equal(suppress_write_count(db, SUPPRESS_TABLE_ADDR, &n), 0);
	assert_int_equal(n, 1000 - 333);
	assert_int_equal(suppress_write_commit(db), 0);

	/* What is left is exactly the records not deleted. */
	assert_int_equal(suppress_cursor_open(db, SUPPRESS_TABLE_ADDR, &c), 0);
	int want = 0;

	while ((rc = suppress_cursor_next(c, &k, &got)) == 1) {
		if (want % 3 == 1)
			want++;
		assert_int_equal(got.source_line, want);
		want++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(want, 1000);
	suppress_cursor_close(c);

	/* Deleting the last record the walk returned, then going on, ends the walk. */
	assert_int_equal(suppress_write_begin(db), 0);
	assert_int_equal(suppress_cursor_open(db, SUPPRESS_TABLE_DOMAIN, &c), 0);
	for (i = 0; (rc = suppress_cursor_next(c, &k, &got)) == 1; i++)
		assert_int_equal(suppress_cursor_del(c), 0);
	assert_int_equal(rc, 0);
	assert_int_equal(i, 7); /* 0, 200, 300, 500, 600, 800, 900 */
	suppress_cursor_close(c);
	assert_int_equal(suppress_write_count(db, SUPPRESS_TABLE_DOMAIN, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(suppress_write_commit(db), 0);

	/* A record of an unknown format: reported with its key, and the walk goes on. */
	r.version = 9;
	assert_int_equal(suppress_write_begin(db), 0);
	key_n(key, SUPPRESS_KEY_LEN, 1);
	assert_int_equal(suppress_write_put(db, SUPPRESS_TABLE_ADDR, key, &r), 0);
	assert_int_equal(suppress_write_commit(db), 0);
	assert_int_equal(suppress_cursor_open(db, SUPPRESS_TABLE_ADDR, &c), 0);
	assert_int_equal(suppress_cursor_next(c, &k, &got), 1);
	assert_int_equal(suppress_cursor_next(c, &k, &got), -EBADMSG);
	assert_memory_equal(k, key, SUPPRESS_KEY_LEN);
	assert_int_equal(suppress_cursor_next(c, &k, &got), 1);
	assert_int_equal(got.source_line, 2);
	suppress_cursor_close(c);
	suppress_db_close(db);
}

/* A set written before "scoped" and "source" existed: those read as empty. */
static void
test_old_layout(void **state)
{
	struct fixture *f = *state;
	struct suppress_db *db;
	struct suppress_cursor *c;
	struct suppress_source src;
	struct suppress_db_info info;
	struct suppress_reader *rd;
	struct suppress_scopes sc = { 0 };
	struct suppress_verdict v;
	struct suppress_rec rec = rec_make(utc(2024, 1, 2, 0, 0, 0), 0, 3);
	const uint8_t *k;
	uint8_t key[SUPPRESS_KEY_LEN];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi[3];
	uint32_t flags = 0;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 3), 0);
	assert_int_equal(mdb_env_open(env, f->dir, 0, 0644), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	for (int i = 0; i < 3; i++) {
		static const char *const names[] = { "addr", "domain", "meta" };

		assert_int_equal(mdb_dbi_open(txn, names[i], MDB_CREATE, &dbi[i]), 0);
	}
	MDB_val fk = { 6, "format" }, fv = { strlen(SUPPRESS_FORMAT_V1), SUPPRESS_FORMAT_V1 };
	MDB_val nk = { 10, "norm_flags" }, nv = { sizeof(flags), &flags };

	assert_int_equal(mdb_put(txn, dbi[2], &fk, &fv, 0), 0);
	assert_int_equal(mdb_put(txn, dbi[2], &nk, &nv, 0), 0);
	addr_key("old@customer.example", key);
	rec.version = 1;
	MDB_val k1 = { sizeof(key), key }, v1 = { 32, &rec };

	assert_int_equal(mdb_put(txn, dbi[0], &k1, &v1, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	db = suppress_db_open(f->dir, true);
	assert_non_null(db);
	assert_int_equal(suppress_cursor_open(db, SUPPRESS_TABLE_SCOPED, &c), 0);
	assert_int_equal(suppress_cursor_next(c, &k, &rec), 0);
	suppress_cursor_close(c);
	assert_int_equal(suppress_source_get(db, 1, &src), -ENOENT);
	assert_int_equal(suppress_db_info(db, &info), 0);
	assert_int_equal(info.entries[SUPPRESS_TABLE_ADDR], 1);
	assert_int_equal(info.entries[SUPPRESS_TABLE_SCOPED], 0);
	assert_int_equal(info.sources, 0);
	rd = suppress_reader_create(db);
	assert_non_null(rd);
	assert_int_equal(suppress_scopes_add(rd, &sc, SUPPRESS_SCOPE_SENDER,
					     SUPPRESS_ORIGIN_ENVELOPE,
					     slice_from_cstr("news.example")), 0);
	assert_int_equal(suppress_lookup_scoped(rd, slice_from_cstr("old@customer.example"), &sc,
						utc(2025, 1, 1, 0, 0, 0), &v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_VIOLATION);
	suppress_reader_destroy(rd);
	suppress_db_close(db);

	/* A writer adds the missing tables. */
	db = suppress_writer_open(f->dir, 0, 0);
	assert_non_null(db);
	assert_int_equal(suppress_write_begin(db), 0);
	uint32_t id;

	assert_int_equal(suppress_source_register(db, "new", 1, 1, &id), 0);
	assert_int_equal(suppress_write_commit(db), 0);
	assert_int_equal(suppress_source_get(db, id, &src), 0);
	suppress_db_close(db);
}

static void
test_info(void **state)
{
	struct fixture *f = *state;
	struct suppress_db *db = suppress_writer_open(f->dir, 8u << 20, 0);
	struct suppress_rec r = rec_make(utc(2024, 1, 2, 0, 0, 0), 0, 0);
	struct suppress_db_info info, info2;
	struct suppress_reader *rd;
	struct suppress_db *ro;
	struct suppress_verdict v;
	uint8_t key[SUPPRESS_SCOPED_KEY_LEN];
	uint32_t id;

	assert_non_null(db);
	assert_int_equal(suppress_db_info(db, &info), 0);
	assert_int_equal(info.entries[0] + info.entries[1] + info.entries[2], 0);
	assert_int_equal(info.sources, 0);
	assert_int_equal(info.map_size, 8u << 20);
	assert_true(info.used_bytes > 0 && info.used_bytes <= info.map_size);
	assert_true(info.max_readers > 0);

	assert_int_equal(suppress_write_begin(db), 0);
	for (uint32_t i = 0; i < 300; i++) {
		key_n(key, SUPPRESS_KEY_LEN, i);
		assert_int_equal(suppress_write_put(db, SUPPRESS_TABLE_ADDR, key, &r), 0);
		if (i < 20)
			assert_int_equal(suppress_write_put(db, SUPPRESS_TABLE_DOMAIN, key, &r), 0);
		key_n(key, SUPPRESS_SCOPED_KEY_LEN, i);
		if (i < 5) {
			r.scope = SUPPRESS_SCOPE_SENDER;
			assert_int_equal(suppress_write_put(db, SUPPRESS_TABLE_SCOPED, key, &r), 0);
			r.scope = SUPPRESS_SCOPE_ALL;
		}
	}
	assert_int_equal(suppress_source_register(db, "a", 1, 300, &id), 0);
	assert_int_equal(suppress_source_register(db, "b", 1, 5, &id), 0);
	/* Inside the transaction: what it sees. */
	assert_int_equal(suppress_db_info(db, &info2), 0);
	assert_int_equal(info2.entries[SUPPRESS_TABLE_ADDR], 300);
	assert_int_equal(suppress_write_commit(db), 0);

	assert_int_equal(suppress_db_info(db, &info2), 0);
	assert_int_equal(info2.entries[SUPPRESS_TABLE_ADDR], 300);
	assert_int_equal(info2.entries[SUPPRESS_TABLE_DOMAIN], 20);
	assert_int_equal(info2.entries[SUPPRESS_TABLE_SCOPED], 5);
	assert_int_equal(info2.sources, 2);
	assert_true(info2.last_txn > info.last_txn);
	assert_true(info2.used_bytes > info.used_bytes);
	/* 300 records of 72 bytes need at least 5 pages of 4 KiB. */
	assert_true(info2.used_bytes >= 300 * 72);

	/* A reader of another process (LMDB allows one open of an environment per process)
	 * holds a slot while our own snapshot takes another. */
	int ready[2], go[2], status;
	char c;
	pid_t pid;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		ro = suppress_db_open(f->dir, true);
		rd = ro != NULL ? suppress_reader_create(ro) : NULL;
		if (rd == NULL || suppress_lookup(rd, slice_from_cstr("a@b.example"), 0, &v) < 0)
			_exit(1);
		c = 'r';
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		suppress_reader_destroy(rd);
		suppress_db_close(ro);
		_exit(0);
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(suppress_db_info(db, &info), 0);
	assert_true(info.readers >= 2);
	assert_true(info.readers <= info.max_readers);
	assert_int_equal(info.last_txn, info2.last_txn);
	assert_int_equal(write(go[1], &c, 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (int i = 0; i < 2; i++) {
		close(ready[i]);
		close(go[i]);
	}
	suppress_db_close(db);
}

static void
list_ok(const char *in, const char *want)
{
	char out[SUPPRESS_LIST_ID_MAX + 1];

	assert_int_equal(suppress_list_id(slice_from_cstr(in), out, sizeof(out)),
			 (int)strlen(want));
	assert_string_equal(out, want);
}

static void
test_list_id(void **state)
{
	char out[SUPPRESS_LIST_ID_MAX + 1], in[SUPPRESS_LIST_ID_MAX + 8];

	(void)state;
	list_ok("Weekly news <News.Example.COM>", "news.example.com");
	list_ok("<news.example.com>", "news.example.com");
	list_ok("news.example.com", "news.example.com");
	list_ok("  news.example.com \t", "news.example.com");
	list_ok("< news.example.com >", "news.example.com");
	/* The last <...> is the id (a phrase may hold brackets of its own). */
	list_ok("\"a <b>\" <list.x>", "list.x");
	/* RFC 2919 ids are dot-atoms, but what is not a space or bracket is kept. */
	list_ok("<123.list-id.x_y>", "123.list-id.x_y");

	static const char *const bad[] = {
		"", "   ", "<>", "< >", "<news", "a b", "<a b>", "x <a\001b>", "a\x7f",
		"Weekly news", "news <x", "a>b",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(suppress_list_id(slice_from_cstr(bad[i]), out, sizeof(out)),
				 -EINVAL);
	/* 255 bytes fit, 256 do not; a buffer one byte short is told so. */
	memset(in, 'l', SUPPRESS_LIST_ID_MAX);
	in[SUPPRESS_LIST_ID_MAX] = '\0';
	assert_int_equal(suppress_list_id(slice_from_cstr(in), out, sizeof(out)),
			 SUPPRESS_LIST_ID_MAX);
	assert_int_equal(suppress_list_id(slice_from_cstr(in), out, SUPPRESS_LIST_ID_MAX),
			 -ENOBUFS);
	in[SUPPRESS_LIST_ID_MAX] = 'l';
	in[SUPPRESS_LIST_ID_MAX + 1] = '\0';
	assert_int_equal(suppress_list_id(slice_from_cstr(in), out, sizeof(out)), -ENAMETOOLONG);
	/* A NUL byte inside the slice is a control byte. */
	assert_int_equal(suppress_list_id(slice_make("a\0b", 3), out, sizeof(out)), -EINVAL);
}

static void
hex32(const uint8_t *k, char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", k[i]);
}

static void
test_scope_key_parse(void **state)
{
	static const uint8_t zero[SUPPRESS_KEY_LEN];
	struct addr_hasher h;
	uint8_t k1[SUPPRESS_KEY_LEN], k2[SUPPRESS_KEY_LEN];
	uint8_t kind;
	char s[65];

	(void)state;
	assert_int_equal(addr_hasher_init(&h), 0);
	/* The key is SHA-256 of "sender:" + domain or "list:" + list id (Python hashlib). */
	assert_int_equal(suppress_scope_key(&h, SUPPRESS_SCOPE_SENDER,
					    slice_from_cstr("Example.COM"), k1), 0);
	hex32(k1, s);
	assert_string_equal(s, "933a78d3b9c4800205d1365799c20d3a356102d646d8ff430178f277ea3ebdab");
	assert_int_equal(suppress_scope_key(&h, SUPPRESS_SCOPE_LIST,
					    slice_from_cstr("News <news.example.com>"), k2), 0);
	hex32(k2, s);
	assert_string_equal(s, "38a1d0f384413f02c3573076464c4c0252fec5f37041a7fe984743981b21578d");
	/* The same text as a sender and as a list: two scopes. */
	assert_int_equal(suppress_scope_key(&h, SUPPRESS_SCOPE_LIST,
					    slice_from_cstr("example.com"), k2), 0);
	assert_memory_not_equal(k1, k2, SUPPRESS_KEY_LEN);
	/* A sender scope takes a domain, bare or with its '@'. */
	assert_int_equal(suppress_scope_key(&h, SUPPRESS_SCOPE_SENDER,
					    slice_from_cstr("@example.com"), k2), 0);
	assert_memory_equal(k1, k2, SUPPRESS_KEY_LEN);
	assert_int_equal(suppress_scope_key(&h, SUPPRESS_SCOPE_SENDER,
					    slice_from_cstr("a@example.com"), k2), -EINVAL);
	assert_int_equal(suppress_scope_key(&h, SUPPRESS_SCOPE_SENDER, slice_from_cstr(""), k2),
			 -EINVAL);
	assert_int_equal(suppress_scope_key(&h, SUPPRESS_SCOPE_LIST, slice_from_cstr("a b"), k2),
			 -EINVAL);
	assert_int_equal(suppress_scope_key(&h, SUPPRESS_SCOPE_ALL, slice_from_cstr("x"), k2),
			 -EINVAL);

	/* Operators' spellings. */
	static const char *const all[] = { "", "   ", "all", "ALL", " All " };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		memset(k2, 0xff, sizeof(k2));
		kind = 9;
		assert_int_equal(suppress_scope_parse(&h, slice_from_cstr(all[i]), &kind, k2), 0);
		assert_int_equal(kind, SUPPRESS_SCOPE_ALL);
		assert_memory_equal(k2, zero, SUPPRESS_KEY_LEN);
	}
	assert_int_equal(suppress_scope_parse(&h, slice_from_cstr("sender:example.com"), &kind,
					      k2), 0);
	assert_int_equal(kind, SUPPRESS_SCOPE_SENDER);
	assert_memory_equal(k1, k2, SUPPRESS_KEY_LEN);
	assert_int_equal(suppress_scope_parse(&h, slice_from_cstr(" SENDER:Example.com "), &kind,
					      k2), 0);
	assert_int_equal(kind, SUPPRESS_SCOPE_SENDER);
	assert_memory_equal(k1, k2, SUPPRESS_KEY_LEN);
	assert_int_equal(suppress_scope_parse(&h, slice_from_cstr("List:<News.Example.com>"),
					      &kind, k2), 0);
	assert_int_equal(kind, SUPPRESS_SCOPE_LIST);
	assert_int_equal(suppress_scope_key(&h, SUPPRESS_SCOPE_LIST,
					    slice_from_cstr("news.example.com"), k1), 0);
	assert_memory_equal(k1, k2, SUPPRESS_KEY_LEN);

	static const char *const bad[] = {
		"sender:", "list:", "sender", "list", "alll", "domain:example.com", "sender:a b",
		"list:<a b>", "sender:a@b.example", "everyone",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(suppress_scope_parse(&h, slice_from_cstr(bad[i]), &kind, k2),
				 -EINVAL);
	addr_hasher_fini(&h);
}

/* Entries of the "scoped" table hold only for the message's matching scopes. */
static void
test_scoped_lookup(void **state)
{
	struct fixture *f = *state;
	struct suppress_db *db = suppress_writer_open(f->dir, 0, 0);
	struct suppress_rec r = rec_make(utc(2024, 3, 1, 0, 0, 0), 0, 11), got;
	struct addr_hasher h;
	uint8_t key[SUPPRESS_SCOPED_KEY_LEN], kind;
	enum suppress_table t;
	struct suppress_reader *rd;
	struct suppress_scopes sc = { 0 };
	struct suppress_verdict v;
	int64_t now = utc(2025, 1, 1, 0, 0, 0);

	assert_non_null(db);
	assert_int_equal(addr_hasher_init(&h), 0);
	assert_int_equal(suppress_write_begin(db), 0);
	/* bob@ for the news list only; everyone at shop.example for sender promo.example. */
	assert_int_equal(suppress_db_key(db, slice_from_cstr("bob@customer.example"), &t, key,
					 NULL, 0), 0);
	assert_int_equal(suppress_scope_parse(&h, slice_from_cstr("list:news.example.com"), &kind,
					      key + SUPPRESS_KEY_LEN), 0);
	r.scope = kind;
	assert_int_equal(suppress_write_put(db, SUPPRESS_TABLE_SCOPED, key, &r), 0);
	assert_int_equal(suppress_db_key(db, slice_from_cstr("@shop.example"), &t, key, NULL, 0),
			 0);
	assert_int_equal(t, SUPPRESS_TABLE_DOMAIN);
	assert_int_equal(suppress_scope_parse(&h, slice_from_cstr("sender:promo.example"), &kind,
					      key + SUPPRESS_KEY_LEN), 0);
	r.scope = kind;
	r.flags = SUPPRESS_REC_DOMAIN;
	r.source_line = 12;
	assert_int_equal(suppress_write_put(db, SUPPRESS_TABLE_SCOPED, key, &r), 0);
	/* A record whose stored kind disagrees with the scope it is keyed under is ignored. */
	assert_int_equal(suppress_db_key(db, slice_from_cstr("eve@customer.example"), &t, key,
					 NULL, 0), 0);
	assert_int_equal(suppress_scope_key(&h, SUPPRESS_SCOPE_SENDER,
					    slice_from_cstr("promo.example"),
					    key + SUPPRESS_KEY_LEN), 0);
	r.scope = SUPPRESS_SCOPE_LIST;
	r.flags = 0;
	assert_int_equal(suppress_write_put(db, SUPPRESS_TABLE_SCOPED, key, &r), 0);
	assert_int_equal(suppress_write_commit(db), 0);
	addr_hasher_fini(&h);
	suppress_db_close(db);

	db = suppress_db_open(f->dir, true);
	assert_non_null(db);
	rd = suppress_reader_create(db);
	assert_non_null(rd);
	/* No scopes: scoped entries do not apply. */
	assert_int_equal(suppress_lookup_scoped(rd, slice_from_cstr("bob@customer.example"), NULL,
						now, &v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_NONE);
	assert_int_equal(suppress_lookup_scoped(rd, slice_from_cstr("bob@customer.example"), &sc,
						now, &v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_NONE);
	/* Another list, or the list's id as a sender domain: still none. */
	assert_int_equal(suppress_scopes_add(rd, &sc, SUPPRESS_SCOPE_LIST, SUPPRESS_ORIGIN_LIST_ID,
					     slice_from_cstr("Deals <deals.example.com>")), 0);
	assert_int_equal(suppress_scopes_add(rd, &sc, SUPPRESS_SCOPE_SENDER,
					     SUPPRESS_ORIGIN_ENVELOPE,
					     slice_from_cstr("news.example.com")), 0);
	assert_int_equal(suppress_lookup_scoped(rd, slice_from_cstr("bob@customer.example"), &sc,
						now, &v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_NONE);
	/* The list: found, with where the scope came from. */
	assert_int_equal(suppress_scopes_add(rd, &sc, SUPPRESS_SCOPE_LIST, SUPPRESS_ORIGIN_LIST_ID,
					     slice_from_cstr("News <NEWS.example.com>")), 0);
	assert_int_equal(sc.n, 3);
	/* Adding it again, or past the cap, changes nothing. */
	assert_int_equal(suppress_scopes_add(rd, &sc, SUPPRESS_SCOPE_LIST, SUPPRESS_ORIGIN_LIST_ID,
					     slice_from_cstr("news.example.com")), 0);
	assert_int_equal(sc.n, 3);
	assert_int_equal(suppress_scopes_add(rd, &sc, SUPPRESS_SCOPE_LIST, SUPPRESS_ORIGIN_LIST_ID,
					     slice_from_cstr("<a b>")), -EINVAL);
	assert_int_equal(sc.n, 3);
	assert_int_equal(suppress_lookup_scoped_rec(rd, slice_from_cstr("<bob@customer.example>"),
						    &sc, now, &v, &got), 1);
	assert_int_equal(v.verdict, IPC_SUPPRESS_VIOLATION);
	assert_int_equal(v.scope, SUPPRESS_SCOPE_LIST);
	assert_int_equal(v.origin, SUPPRESS_ORIGIN_LIST_ID);
	assert_false(v.domain_wide);
	assert_int_equal(got.source_line, 11);
	/* Plain suppress_lookup never considers scoped entries. */
	assert_int_equal(suppress_lookup(rd, slice_from_cstr("bob@customer.example"), now, &v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_NONE);

	/* The domain-wide scoped entry, through the From header's domain. */
	memset(&sc, 0, sizeof(sc));
	assert_int_equal(suppress_scopes_add(rd, &sc, SUPPRESS_SCOPE_SENDER, SUPPRESS_ORIGIN_HEADER,
					     slice_from_cstr("Promo.Example")), 0);
	assert_int_equal(suppress_lookup_scoped_rec(rd, slice_from_cstr("anyone@SHOP.example"), &sc,
						    utc(2024, 3, 4, 0, 0, 0), &v, &got), 1);
	assert_int_equal(v.verdict, IPC_SUPPRESS_GRACE);
	assert_int_equal(v.scope, SUPPRESS_SCOPE_SENDER);
	assert_int_equal(v.origin, SUPPRESS_ORIGIN_HEADER);
	assert_true(v.domain_wide);
	assert_true(got.flags & SUPPRESS_REC_DOMAIN);
	assert_int_equal(got.source_line, 12);
	/* eve's record is keyed under the sender scope but says "list": not a match. */
	assert_int_equal(suppress_lookup_scoped(rd, slice_from_cstr("eve@customer.example"), &sc,
						now, &v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_NONE);
	/* An address with no entry at all. */
	assert_int_equal(suppress_lookup_scoped_rec(rd, slice_from_cstr("zed@customer.example"),
						    &sc, now, &v, &got), 0);
	suppress_reader_destroy(rd);
	suppress_db_close(db);
}

/* A tool's snapshot: everything read through the handle sees one state of the set, however
 * a writer (another process) changes it meanwhile, until the snapshot ends. */
static void
test_snapshot(void **state)
{
	struct fixture *f = *state;
	struct suppress_db *db;
	struct suppress_db_info a, b;
	int status;
	pid_t pid;

	write_sample(f->dir);
	db = suppress_db_open(f->dir, true);
	assert_non_null(db);
	assert_int_equal(suppress_snapshot_begin(db), 0);
	assert_int_equal(suppress_snapshot_begin(db), -EBUSY);
	assert_int_equal(suppress_db_info(db, &a), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct suppress_db *w = suppress_writer_open(f->dir, 0, 0);
		struct suppress_rec rec = rec_make(utc(2024, 1, 2, 0, 0, 0), 0, 1);
		enum suppress_table t;
		uint8_t key[SUPPRESS_KEY_LEN];

		if (w == NULL || suppress_write_begin(w) < 0 ||
		    suppress_db_key(w, slice_from_cstr("new@customer.example"), &t, key, NULL,
				    0) < 0 ||
		    suppress_write_put(w, t, key, &rec) < 0 || suppress_write_commit(w) < 0)
			_exit(1);
		suppress_db_close(w);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* inside the snapshot: the same entries, as a cursor walk shows too */
	struct suppress_cursor *c;
	struct suppress_rec rec;
	const uint8_t *k;
	uint64_t walked = 0;
	int rc;

	assert_int_equal(suppress_db_info(db, &b), 0);
	assert_int_equal(b.entries[SUPPRESS_TABLE_ADDR], a.entries[SUPPRESS_TABLE_ADDR]);
	assert_int_equal(suppress_cursor_open(db, SUPPRESS_TABLE_ADDR, &c), 0);
	/* (the sample holds a record of an unknown version: walked all the same) */
	while ((rc = suppress_cursor_next(c, &k, &rec)) == 1 || rc == -EBADMSG)
		walked++;
	assert_int_equal(rc, 0);
	suppress_cursor_close(c);
	assert_int_equal(walked, a.entries[SUPPRESS_TABLE_ADDR]);

	/* after it, the writer's entry */
	suppress_snapshot_end(db);
	assert_int_equal(suppress_db_info(db, &b), 0);
	assert_int_equal(b.entries[SUPPRESS_TABLE_ADDR], a.entries[SUPPRESS_TABLE_ADDR] + 1);
	assert_int_equal(suppress_snapshot_begin(db), 0); /* closed with the handle */
	suppress_db_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grace_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_consent_domain_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_renewal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lower_local_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_full, setup, teardown),
		cmocka_unit_test(test_verdict_and_merge),
		cmocka_unit_test_setup_teardown(test_rec_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cursors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_info, setup, teardown),
		cmocka_unit_test(test_list_id),
		cmocka_unit_test(test_scope_key_parse),
		cmocka_unit_test_setup_teardown(test_scoped_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
	};

	log_init("test_suppress_db", LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
