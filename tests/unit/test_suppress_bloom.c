/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The suppression set's negative filter: the module itself (no false negatives, the false
 * positive rate it is sized for, a header it can trust), and the filter kept by the set's
 * writer: readers answer the same with and without it, a set made before filters gets one
 * from every key it holds, and a filter outgrown by its keys is rebuilt bigger.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lmdb.h>

#include "addr_norm.h"
#include "ipc.h"
#include "suppress_bloom.h"
#include "suppress_db.h"
#include "suppress_writer.h"
#include "test_tmpdir.h"

#define NOW INT64_C(1735689600) /* 2025-01-01 */

/* A deterministic SHA-256-like key: the filter only needs uniform bytes. */
static void
key_of(uint64_t i, uint8_t key[32])
{
	struct addr_hasher h;
	char s[32];

	assert_int_equal(addr_hasher_init(&h), 0);
	snprintf(s, sizeof(s), "k%llu", (unsigned long long)i);
	assert_int_equal(addr_hasher_key(&h, s, strlen(s), key), 0);
	addr_hasher_fini(&h);
}

static void
test_module(void **state)
{
	(void)state;
	const uint64_t n = 20000;
	size_t size = suppress_bloom_size(n);
	uint8_t *f = aligned_alloc(8, (size + 7) & ~(size_t)7), key[32];
	uint64_t fp = 0;

	assert_non_null(f);
	assert_int_equal(size, sizeof(struct suppress_bloom_hdr) +
				       (n * SUPPRESS_BLOOM_BITS_PER_KEY + 511) / 512 * 64);
	suppress_bloom_init(f, n);
	assert_true(suppress_bloom_valid(f, size));
	for (uint64_t i = 0; i < n; i++) {
		key_of(i, key);
		suppress_bloom_add(f, key);
	}
	/* no false negative, ever */
	for (uint64_t i = 0; i < n; i++) {
		key_of(i, key);
		assert_true(suppress_bloom_maybe(f, key));
	}
	/* full at capacity: about 0.2% false positives (16 bits a key, 8 bits in one line) */
	for (uint64_t i = n; i < n + 100000; i++) {
		key_of(i, key);
		fp += suppress_bloom_maybe(f, key);
	}
	assert_true(fp < 500); /* 0.5% */
	assert_false(suppress_bloom_full(f));
	suppress_bloom_add(f, key);
	assert_true(suppress_bloom_full(f));

	/* a header that does not describe the bytes is no filter */
	assert_false(suppress_bloom_valid(f, size - 64));
	assert_false(suppress_bloom_valid(f, size + 64));
	assert_false(suppress_bloom_valid(f, sizeof(struct suppress_bloom_hdr) - 1));
	assert_false(suppress_bloom_valid(NULL, size));
	f[0] ^= 1;
	assert_false(suppress_bloom_valid(f, size));
	free(f);

	/* tiny capacities get the minimum */
	assert_int_equal(suppress_bloom_size(0), suppress_bloom_size(SUPPRESS_BLOOM_MIN_CAPACITY));
}

struct fixture {
	char dir[64];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_int_equal(test_tmpdir_make(f->dir, sizeof(f->dir)), 0);
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
put_addr(struct suppress_db *db, const char *addr, int64_t optout)
{
	struct suppress_rec rec = {
		.version = SUPPRESS_REC_VERSION,
		.optout_time = optout,
		.grace_end = optout + 14 * 86400,
	};
	enum suppress_table t;
	uint8_t key[SUPPRESS_KEY_LEN];

	assert_int_equal(suppress_db_key(db, slice_from_cstr(addr), &t, key, NULL, 0), 0);
	assert_int_equal(suppress_write_put(db, t, key, &rec), 0);
}

/* n addresses a0..a(n-1)@ex.example, in txns of per_txn. */
static void
fill(const char *dir, uint64_t from, uint64_t n, uint64_t per_txn)
{
	struct suppress_db *db = suppress_writer_open(dir, 1 << 26, 0);
	char a[64];

	assert_non_null(db);
	for (uint64_t i = from; i < from + n; i += per_txn) {
		assert_int_equal(suppress_write_begin(db), 0);
		for (uint64_t j = i; j < i + per_txn && j < from + n; j++) {
			snprintf(a, sizeof(a), "a%llu@ex.example", (unsigned long long)j);
			put_addr(db, a, NOW - 30 * 86400);
		}
		assert_int_equal(suppress_write_commit(db), 0);
	}
	suppress_db_close(db);
}

static struct suppress_bloom_hdr
stored_filter(const char *dir)
{
	struct suppress_db *db = suppress_db_open(dir, true);
	struct suppress_bloom_hdr h = { 0 };
	uint8_t *buf = malloc(1 << 20);
	size_t len = 0;

	assert_non_null(db);
	assert_int_equal(suppress_meta_get(db, "bloom", buf, 1 << 20, &len), 0);
	assert_true(suppress_bloom_valid(buf, len));
	memcpy(&h, buf, sizeof(h));
	free(buf);
	suppress_db_close(db);
	return h;
}

/* Every address of [0, n_in) is listed, [n_in, n_in + n_out) is not: with the filter and
 * without, the reader must say exactly that. */
static void
expect_answers(const char *dir, uint64_t n_in, uint64_t n_out)
{
	struct suppress_db *db = suppress_db_open(dir, true);
	struct suppress_reader *r;
	struct suppress_verdict v;
	char a[64];

	assert_non_null(db);
	r = suppress_reader_create(db);
	assert_non_null(r);
	for (int on = 0; on < 2; on++) {
		suppress_reader_use_filter(r, on);
		suppress_reader_release(r);
		for (uint64_t i = 0; i < n_in + n_out; i++) {
			snprintf(a, sizeof(a), "a%llu@ex.example", (unsigned long long)i);
			assert_int_equal(suppress_lookup(r, slice_from_cstr(a), NOW, &v), 0);
			assert_int_equal(v.verdict,
					 i < n_in ? IPC_SUPPRESS_VIOLATION : IPC_SUPPRESS_NONE);
		}
	}
	suppress_reader_destroy(r);
	suppress_db_close(db);
}

static void
test_writer_keeps_the_filter(void **state)
{
	struct fixture *f = *state;
	struct suppress_bloom_hdr h;

	/* a fresh set: the first transaction's hint sizes the filter */
	fill(f->dir, 0, 500, 500);
	h = stored_filter(f->dir);
	assert_int_equal(h.capacity, SUPPRESS_BLOOM_MIN_CAPACITY);
	assert_int_equal(h.n_added, 500);
	expect_answers(f->dir, 500, 3000);

	/* small transactions past its capacity: rebuilt from every key, with room to grow */
	fill(f->dir, 500, 1500, 100);
	h = stored_filter(f->dir);
	assert_true(h.capacity >= 1500);
	assert_true(h.n_added <= h.capacity);
	expect_answers(f->dir, 2000, 3000);

	/* a removed key stays in the filter (a Bloom filter cannot forget): only slower */
	struct suppress_db *db = suppress_writer_open(f->dir, 1 << 26, 0);
	enum suppress_table t;
	uint8_t key[SUPPRESS_KEY_LEN];

	assert_non_null(db);
	assert_int_equal(suppress_db_key(db, slice_from_cstr("a1999@ex.example"), &t, key, NULL,
					 0), 0);
	assert_int_equal(suppress_write_begin(db), 0);
	assert_int_equal(suppress_write_del(db, t, key), 0);
	assert_int_equal(suppress_write_commit(db), 0);
	suppress_db_close(db);
	expect_answers(f->dir, 1999, 3000);
}

/* A set written before filters existed: no "bloom", format 1. Readers do without; the first
 * write builds a filter holding every key already there. */
static void
test_set_from_before_filters(void **state)
{
	struct fixture *f = *state;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta;
	MDB_val k = { 5, "bloom" }, fk = { 6, "format" },
		fv = { strlen(SUPPRESS_FORMAT_V1), SUPPRESS_FORMAT_V1 };

	fill(f->dir, 0, 3000, 3000);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, f->dir, 0, 0644), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_del(txn, meta, &k, NULL), 0);
	assert_int_equal(mdb_put(txn, meta, &fk, &fv, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	expect_answers(f->dir, 3000, 1000);
	fill(f->dir, 3000, 1, 1);
	struct suppress_bloom_hdr h = stored_filter(f->dir);

	assert_int_equal(h.n_added, 3001);
	assert_true(h.capacity >= 3001);
	expect_answers(f->dir, 3001, 1000);

	/* and the set now says it has a filter, so that an older build will not write it */
	struct suppress_db *db = suppress_db_open(f->dir, true);
	char fmt[64];
	size_t len = 0;

	assert_non_null(db);
	assert_int_equal(suppress_meta_get(db, "format", fmt, sizeof(fmt), &len), 0);
	assert_int_equal(len, strlen(SUPPRESS_FORMAT));
	assert_memory_equal(fmt, SUPPRESS_FORMAT, len);
	suppress_db_close(db);
}

/* The filter holds the entry half of scoped keys and the domain keys: scoped and
 * domain-wide entries are found through it. */
static void
test_scoped_and_domain_through_the_filter(void **state)
{
	struct fixture *f = *state;
	struct suppress_db *db = suppress_writer_open(f->dir, 1 << 24, 0);
	struct suppress_rec rec = {
		.version = SUPPRESS_REC_VERSION,
		.scope = SUPPRESS_SCOPE_LIST,
		.optout_time = NOW - 30 * 86400,
		.grace_end = NOW - 16 * 86400,
	};
	uint8_t key[SUPPRESS_SCOPED_KEY_LEN], kind;
	enum suppress_table t;
	struct addr_hasher h;

	assert_non_null(db);
	assert_int_equal(addr_hasher_init(&h), 0);
	assert_int_equal(suppress_write_begin(db), 0);
	assert_int_equal(suppress_db_key(db, slice_from_cstr("x@list.example"), &t, key, NULL, 0),
			 0);
	assert_int_equal(suppress_scope_parse(&h, slice_from_cstr("list:<weekly.example>"), &kind,
					      key + SUPPRESS_KEY_LEN), 0);
	assert_int_equal(suppress_write_put(db, SUPPRESS_TABLE_SCOPED, key, &rec), 0);
	put_addr(db, "@whole.example", NOW - 30 * 86400);
	assert_int_equal(suppress_write_commit(db), 0);
	suppress_db_close(db);
	addr_hasher_fini(&h);

	db = suppress_db_open(f->dir, true);
	assert_non_null(db);
	struct suppress_reader *r = suppress_reader_create(db);
	struct suppress_scopes sc = { 0 };
	struct suppress_verdict v;

	assert_non_null(r);
	assert_int_equal(suppress_scopes_add(r, &sc, SUPPRESS_SCOPE_LIST, SUPPRESS_ORIGIN_LIST_ID,
					     slice_from_cstr("Weekly <weekly.example>")), 0);
	assert_int_equal(suppress_lookup_scoped(r, slice_from_cstr("x@list.example"), &sc, NOW,
						&v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_VIOLATION);
	assert_int_equal(v.scope, SUPPRESS_SCOPE_LIST);
	assert_int_equal(suppress_lookup_scoped(r, slice_from_cstr("x@list.example"), NULL, NOW,
						&v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_NONE);
	assert_int_equal(suppress_lookup(r, slice_from_cstr("anyone@whole.example"), NOW, &v), 0);
	assert_int_equal(v.verdict, IPC_SUPPRESS_VIOLATION);
	assert_true(v.domain_wide);
	suppress_reader_destroy(r);
	suppress_db_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_module),
		cmocka_unit_test_setup_teardown(test_writer_keeps_the_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_from_before_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scoped_and_domain_through_the_filter, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
