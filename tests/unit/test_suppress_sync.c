/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the ODBC fetch of `suppress sync`. Always: the password masking of connection
 * strings (plain, braced with ';' and "}}", any case, cut), the refusals before any
 * connection (no DSN, no query), and a connection that fails (a driver that does not exist)
 * reported with the connection string masked. With POSTERN_TEST_ODBC_DSN set to a PostgreSQL
 * connection string (tests/odbc/run_sync.sh sets it for its private server), queries of
 * literal rows: columns found by name, a timestamp's fraction dropped, NULL as empty, a
 * non-ASCII address kept, a value over SUPPRESS_IMPORT_FIELD_MAX and bad rows reported with
 * their row numbers, a missing column named, an SQL error and a query timeout; without it
 * those tests are skipped with a message.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "suppress_import.h"
#include "suppress_sync.h"
#include "suppress_writer.h"

static const int64_t NOW = 1735689600; /* 2025-01-01T00:00:00Z */

static void
mask_is(const char *dsn, const char *want)
{
	char out[256];

	assert_string_equal(suppress_sync_mask_dsn(dsn, out, sizeof(out)), want);
}

static void
test_mask_dsn(void **state)
{
	(void)state;
	mask_is("", "");
	mask_is("DSN=crm", "DSN=crm");
	mask_is("Driver={PostgreSQL Unicode};Server=/run/x;Uid=postern;Pwd=secret;",
		"Driver={PostgreSQL Unicode};Server=/run/x;Uid=postern;Pwd=***;");
	mask_is("Uid=a;PWD=secret", "Uid=a;PWD=***");
	mask_is("Uid=a; password = secret ;Port=1", "Uid=a; password = ***;Port=1");
	mask_is("Pwd={se;cr}}et};Uid=a", "Pwd={***};Uid=a");
	mask_is("Pwd=", "Pwd=***");
	mask_is("Password=a;Pwd=b", "Password=***;Pwd=***");
	mask_is("Driver={x;Pwd=y};Uid=a", "Driver={x;Pwd=y};Uid=a"); /* inside a value */
	mask_is("Server=a;;junk;Pwd=b", "Server=a;;junk;Pwd=***");
	mask_is("Pwd={unterminated;Uid=a", "Pwd={***}");
	mask_is("PwdX=visible", "PwdX=visible");
}

static void
test_mask_dsn_cut(void **state)
{
	char out[16];

	(void)state;
	assert_string_equal(suppress_sync_mask_dsn("Server=abcdefghijklmnop;Pwd=s", out,
						   sizeof(out)), "Server=abcde...");
	assert_string_equal(suppress_sync_mask_dsn("Uid=ab;Pwd=secretsecret", out, sizeof(out)),
			    "Uid=ab;Pwd=***");
	assert_string_equal(suppress_sync_mask_dsn("Pwd=1", out, 1), "");
}

/* A fetch with its messages captured. */
struct run {
	struct suppress_import im;
	struct suppress_sync_stats st;
	char *msg;
	size_t msg_len;
	int rc;
};

static void
run_fetch(struct run *r, const char *dsn, const char *query, unsigned timeout, bool skip_bad)
{
	FILE *err;

	memset(r, 0, sizeof(*r));
	err = open_memstream(&r->msg, &r->msg_len);
	assert_non_null(err);
	struct suppress_import_opts io = {
		.name = "sync:test", .now = NOW, .skip_bad = skip_bad, .err = err,
	};
	struct suppress_sync_opts so = { .dsn = dsn, .query = query, .timeout = timeout,
					 .err = err };

	assert_int_equal(suppress_import_init(&r->im), 0);
	r->rc = suppress_sync_fetch(&r->im, &io, &so, &r->st);
	fclose(err);
	print_message("%s", r->msg);
}

static void
run_done(struct run *r)
{
	suppress_import_fini(&r->im);
	free(r->msg);
}

static void
test_refused_before_connecting(void **state)
{
	struct run r;

	(void)state;
	run_fetch(&r, "", "SELECT 1", 0, false);
	assert_int_equal(r.rc, -EINVAL);
	assert_non_null(strstr(r.msg, "sync:test: no connection string"));
	run_done(&r);
	run_fetch(&r, "DSN=x", "", 0, false);
	assert_int_equal(r.rc, -EINVAL);
	assert_non_null(strstr(r.msg, "no query"));
	run_done(&r);
}

static void
test_connect_failure_masked(void **state)
{
	struct run r;

	(void)state;
	run_fetch(&r, "Driver={Postern No Such Driver};Uid=u;Pwd={Top;Secret}}1};", "SELECT 1", 2,
		  false);
	assert_int_equal(r.rc, -ENOTCONN);
	assert_non_null(strstr(r.msg, "sync:test: connect failed (Driver={Postern No Such "
				      "Driver};Uid=u;Pwd={***};): ["));
	assert_null(strstr(r.msg, "Top;Secret"));
	assert_null(strstr(r.msg, "Secret"));
	assert_int_equal(r.im.n_good, 0);
	assert_null(strchr(r.msg, '\t')); /* one line per message */
	run_done(&r);
}

static const char *
live_dsn(void)
{
	const char *dsn = getenv("POSTERN_TEST_ODBC_DSN");

	if (dsn == NULL || dsn[0] == '\0') {
		print_message("POSTERN_TEST_ODBC_DSN not set: no database to query (tests/odbc/"
			      "run_sync.sh runs this test against its own PostgreSQL server)\n");
		skip();
	}
	return dsn;
}

static const struct suppress_import_entry *
entry_of(struct suppress_import *im, const char *addr)
{
	uint8_t key[SUPPRESS_KEY_LEN];
	enum suppress_table table;

	assert_int_equal(suppress_key(&im->hasher, 0, slice_from_cstr(addr), &table, key, NULL, 0),
			 0);
	for (size_t i = 0; i < im->n; i++)
		if (im->v[i].table == table && memcmp(im->v[i].key, key, sizeof(key)) == 0)
			return &im->v[i];
	fail_msg("%s not in the batch", addr);
	return NULL;
}

static void
test_live_rows(void **state)
{
	const char *dsn = live_dsn();
	const struct suppress_import_entry *e;
	struct run r;

	(void)state;
	/* an unknown column, columns in another order, a name in capitals */
	run_fetch(&r, dsn,
		  "SELECT 7 AS other, d AS \"OPTOUT_DATE\", e AS email, c AS consent_date "
		  "FROM (VALUES "
		  "(1, 'a@example.com', TIMESTAMP '2024-01-02 03:04:05.999', NULL::timestamp),"
		  "(2, 'jürgen@bücher.example', TIMESTAMP '2024-02-01', "
		  "TIMESTAMP '2024-03-01 12:00:00'),"
		  "(3, '@blocked.example', DATE '2024-04-05', NULL)"
		  ") AS t(n, e, d, c) ORDER BY n",
		  0, false);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.st.rows, 3);
	assert_int_equal(r.st.columns, 4);
	assert_int_equal(r.st.mapped, 3);
	assert_int_equal(r.im.n_good, 3);
	assert_int_equal(r.im.n_bad, 0);
	e = entry_of(&r.im, "a@example.com");
	assert_int_equal(e->rec.optout_time, 1704164645); /* 03:04:05: the fraction dropped */
	assert_int_equal(e->rec.consent_time, 0);
	assert_int_equal(e->rec.source_line, 1);
	e = entry_of(&r.im, "jürgen@bücher.example");
	assert_int_equal(e->rec.optout_time, 1706745600);
	assert_int_equal(e->rec.consent_time, 1709294400);
	assert_int_equal(e->rec.source_line, 2);
	e = entry_of(&r.im, "@blocked.example");
	assert_int_equal(e->table, SUPPRESS_TABLE_DOMAIN);
	assert_int_equal(e->rec.optout_time, 1712275200);
	assert_int_equal(r.msg_len, 0);
	run_done(&r);

	/* text times, as a CSV would give them */
	run_fetch(&r, dsn, "SELECT 'b@example.com' AS email, '2024-01-02' AS optout", 0, false);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.im.n_good, 1);
	assert_int_equal(entry_of(&r.im, "b@example.com")->rec.optout_time, 1704153600);
	run_done(&r);
}

static void
test_live_bad_rows(void **state)
{
	const char *dsn = live_dsn();
	struct run r;

	(void)state;
	run_fetch(&r, dsn,
		  "SELECT e AS email, d AS optout_date FROM (VALUES "
		  "(1, 'ok@example.com', TIMESTAMP '2024-01-02'),"
		  "(2, 'not-an-address', TIMESTAMP '2024-01-02'),"
		  "(3, repeat('x', 70000) || '@example.com', TIMESTAMP '2024-01-02'),"
		  "(4, 'nodate@example.com', NULL),"
		  "(5, NULL, NULL)"
		  ") AS t(n, e, d) ORDER BY n",
		  0, true);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.st.rows, 5);
	assert_int_equal(r.im.n_good, 1);
	assert_true(r.im.n_bad >= 3); /* an all-empty row may be ignored rather than refused */
	assert_non_null(strstr(r.msg, "sync:test:2: "));
	assert_non_null(strstr(r.msg, "sync:test:3: bad address: longer than 65536 bytes"));
	assert_non_null(strstr(r.msg, "sync:test:4: "));
	entry_of(&r.im, "ok@example.com");
	run_done(&r);
}

static void
test_live_missing_column(void **state)
{
	const char *dsn = live_dsn();
	struct run r;

	(void)state;
	run_fetch(&r, dsn, "SELECT 'a@example.com' AS email, 1 AS n", 0, false);
	assert_int_equal(r.rc, -EBADMSG);
	assert_non_null(strstr(r.msg, "no opt-out time column; its columns are: email, n"));
	run_done(&r);
	run_fetch(&r, dsn, "SELECT 1 AS x", 0, false);
	assert_int_equal(r.rc, -EBADMSG);
	assert_non_null(strstr(r.msg, "no address and no opt-out time column"));
	run_done(&r);
}

static void
test_live_errors(void **state)
{
	const char *dsn = live_dsn();
	struct run r;
	time_t t0;

	(void)state;
	run_fetch(&r, dsn, "SELECT * FROM postern_no_such_table", 0, false);
	assert_int_equal(r.rc, -EIO);
	assert_non_null(strstr(r.msg, "sync:test: query failed: ["));
	assert_non_null(strstr(r.msg, "postern_no_such_table"));
	run_done(&r);

	t0 = time(NULL);
	run_fetch(&r, dsn, "SELECT 'a@example.com' AS email, now() AS date, pg_sleep(30)", 1,
		  false);
	assert_int_equal(r.rc, -EIO);
	assert_true(time(NULL) - t0 < 10);
	run_done(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask_dsn),
		cmocka_unit_test(test_mask_dsn_cut),
		cmocka_unit_test(test_refused_before_connecting),
		cmocka_unit_test(test_connect_failure_masked),
		cmocka_unit_test(test_live_rows),
		cmocka_unit_test(test_live_bad_rows),
		cmocka_unit_test(test_live_missing_column),
		cmocka_unit_test(test_live_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
