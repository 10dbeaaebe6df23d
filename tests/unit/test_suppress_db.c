/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of suppress_db against real LMDB environments in a mkdtemp directory: records
 * written through the writer API, the set reopened read-only as the dataplane does, lookups
 * before/inside/after the grace window, consent, domain-wide entries, bad stored values,
 * snapshot renewal across a write by another process, the writer's errors (busy, read-only,
 * out-of-order append, full map) and the merge rule.
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
	};

	log_init("test_suppress_db", LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
