/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the opt-out list parser (no database): the four formats on the fixtures of
 * tests/data/suppress (good rows and each kind of bad row, with the exact "NAME:LINE: reason"
 * reported), the failures of a whole file (malformed CSV and XML, DTDs and entity bombs,
 * limits), format detection, column names, times, scopes and the merge per (key, scope), the
 * row API an ODBC sync uses, the bucket sort on a large batch, and every input fed split at
 * every byte offset (and one byte at a time) giving the same batch and messages. Run from the
 * repository root, or with POSTERN_SOURCE_ROOT set.
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

#include "business_days.h"
#include "log.h"
#include "suppress_db.h"
#include "suppress_import.h"
#include "suppress_row.h"
#include "suppress_writer.h"

static const int64_t NOW = 1735689600; /* 2025-01-01T00:00:00Z */

static const char expect_time[] = "expected YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, "
				  "\"YYYY-MM-DD HH:MM:SS\" (UTC) or @SECONDS";

static int64_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {
		.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
		.tm_hour = h, .tm_min = mi, .tm_sec = s,
	};

	return (int64_t)timegm(&tm);
}

static struct suppress_import_opts
opts(const char *name, enum suppress_import_format fmt)
{
	return (struct suppress_import_opts){ .name = name, .now = NOW, .format = fmt };
}

/* What one parse gave. */
struct result {
	int rc;
	char *err;
	uint64_t n_good, n_bad;
	size_t n;
	struct suppress_import_entry *v;
	enum suppress_import_format fmt;
};

static void
result_free(struct result *r)
{
	free(r->err);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* Parse buf fed in the pieces that cuts (sorted offsets) make. */
static void
run_pieces(const void *buf, size_t len, struct suppress_import_opts o, const size_t *cuts,
	   size_t n_cuts, struct result *r)
{
	struct suppress_import im;
	size_t err_len, at = 0;
	FILE *ef;

	memset(r, 0, sizeof(*r));
	ef = open_memstream(&r->err, &err_len);
	assert_non_null(ef);
	o.err = ef;
	assert_int_equal(suppress_import_init(&im), 0);
	r->rc = suppress_import_begin(&im, &o);
	if (r->rc == 0) {
		for (size_t i = 0; i <= n_cuts; i++) {
			size_t end = i < n_cuts ? cuts[i] : len;

			suppress_import_feed(&im, (const uint8_t *)buf + at, end - at);
			at = end;
		}
		r->rc = suppress_import_end(&im);
		assert_null(im.ctx);
	}
	fclose(ef);
	r->n_good = im.n_good;
	r->n_bad = im.n_bad;
	r->n = im.n;
	r->fmt = im.format;
	r->v = im.v; /* taken over */
	im.v = NULL;
	suppress_import_fini(&im);
}

static void
run(const char *s, struct suppress_import_opts o, struct result *r)
{
	run_pieces(s, strlen(s), o, NULL, 0, r);
}

static void
assert_same(const struct result *a, const struct result *b)
{
	assert_int_equal(a->rc, b->rc);
	assert_string_equal(a->err, b->err);
	assert_int_equal(a->n_good, b->n_good);
	assert_int_equal(a->n_bad, b->n_bad);
	assert_int_equal(a->n, b->n);
	if (a->n > 0)
		assert_memory_equal(a->v, b->v, a->n * sizeof(a->v[0]));
}

/* Fed at every single cut, then one byte at a time: the same as fed whole. */
static void
check_splits(const void *buf, size_t len, struct suppress_import_opts o)
{
	struct result ref, r;
	size_t *all = malloc((len + 1) * sizeof(*all));

	assert_non_null(all);
	run_pieces(buf, len, o, NULL, 0, &ref);
	for (size_t cut = 0; cut <= len; cut++) {
		run_pieces(buf, len, o, &cut, 1, &r);
		assert_same(&ref, &r);
		result_free(&r);
	}
	for (size_t i = 0; i < len; i++)
		all[i] = i;
	run_pieces(buf, len, o, all, len, &r);
	assert_same(&ref, &r);
	result_free(&r);
	free(all);
	result_free(&ref);
}

static char *
read_fixture(const char *name, size_t *len)
{
	const char *root = getenv("POSTERN_SOURCE_ROOT");
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/tests/data/suppress/%s", root != NULL ? root : ".",
		 name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (run from the repository root)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void
run_fixture(const char *name, enum suppress_import_format fmt, struct result *r)
{
	size_t len;
	char *buf = read_fixture(name, &len);

	run_pieces(buf, len, opts(name, fmt), NULL, 0, r);
	free(buf);
}

/* The entry of addr in scope ("" for all), or NULL. */
static const struct suppress_import_entry *
find(const struct result *r, const char *addr, const char *scope)
{
	struct addr_hasher h;
	enum suppress_table table;
	uint8_t key[SUPPRESS_KEY_LEN], skey[SUPPRESS_KEY_LEN], kind;
	const struct suppress_import_entry *found = NULL;

	assert_int_equal(addr_hasher_init(&h), 0);
	assert_int_equal(suppress_key(&h, 0, slice_from_cstr(addr), &table, key, NULL, 0), 0);
	assert_int_equal(suppress_scope_parse(&h, slice_from_cstr(scope), &kind, skey), 0);
	addr_hasher_fini(&h);
	for (size_t i = 0; i < r->n; i++) {
		const struct suppress_import_entry *e = &r->v[i];

		if (e->table == table && memcmp(e->key, key, sizeof(key)) == 0 &&
		    e->rec.scope == kind && memcmp(e->scope_key, skey, sizeof(skey)) == 0) {
			assert_null(found); /* merged: one entry per (key, scope) */
			found = e;
		}
	}
	return found;
}

static void
check_entry(const struct result *r, const char *addr, const char *scope, int64_t optout,
	    int64_t consent, uint32_t line)
{
	const struct suppress_import_entry *e = find(r, addr, scope);

	if (e == NULL)
		fail_msg("no entry for %s scope \"%s\"", addr, scope);
	assert_int_equal(e->rec.version, SUPPRESS_REC_VERSION);
	assert_int_equal(e->rec.optout_time, optout);
	assert_int_equal(e->rec.consent_time, consent);
	assert_int_equal(e->rec.source_line, line);
	assert_int_equal(e->rec.grace_end, 0); /* the loader's job */
}

/* Batch invariants: strictly increasing in the documented order. */
static void
check_sorted(const struct result *r)
{
	for (size_t i = 1; i < r->n; i++) {
		const struct suppress_import_entry *p = &r->v[i - 1], *e = &r->v[i];
		int k;

		if (p->table != e->table) {
			assert_true(p->table < e->table);
			continue;
		}
		k = memcmp(p->key, e->key, SUPPRESS_KEY_LEN);
		assert_true(k <= 0);
		if (k < 0)
			continue;
		if ((p->rec.scope == SUPPRESS_SCOPE_ALL) != (e->rec.scope == SUPPRESS_SCOPE_ALL)) {
			assert_int_equal(p->rec.scope, SUPPRESS_SCOPE_ALL);
			continue;
		}
		assert_int_not_equal(p->rec.scope, SUPPRESS_SCOPE_ALL);
		k = memcmp(p->scope_key, e->scope_key, SUPPRESS_KEY_LEN);
		assert_true(k < 0 || (k == 0 && p->rec.scope < e->rec.scope));
	}
}

/* ---- the good fixtures: one list written in each format ---- */

/* The list every sample.* holds; lines differ per file. */
static void
check_sample(const struct result *r, const uint32_t lines[5], bool plain)
{
	assert_int_equal(r->rc, 0);
	assert_string_equal(r->err, "");
	assert_int_equal(r->n_good, 6);
	assert_int_equal(r->n_bad, 0);
	assert_int_equal(r->n, 5);
	check_sorted(r);
	/* Two requests for alice, no consent: the earlier one counts (its window runs from the
	 * first request not yet honoured). */
	check_entry(r, "alice@example.com", "", utc(2024, 2, 1, 0, 0, 0), 0, lines[0]);
	check_entry(r, "bob@example.org", "", utc(2024, 3, 4, 15, 22, 9),
		    plain ? 0 : utc(2024, 6, 10, 0, 0, 0), lines[1]);
	if (plain) {
		/* plain has no scopes, and no date means the time of the import */
		check_entry(r, "Carol.Smith@Example.NET", "", NOW, 0, lines[2]);
		check_entry(r, "@unsubscribe-all.example", "", utc(2024, 7, 1, 8, 0, 0), 0,
			    lines[3]);
		check_entry(r, "dave@example.com", "", NOW, 0, lines[4]);
		return;
	}
	check_entry(r, "Carol.Smith@Example.NET", "sender:news.example.com",
		    utc(2024, 5, 17, 8, 0, 0), 0, lines[2]);
	assert_null(find(r, "Carol.Smith@Example.NET", ""));
	check_entry(r, "@unsubscribe-all.example", "", utc(2024, 7, 1, 0, 0, 0), 0, lines[3]);
	check_entry(r, "dave@example.com", "list:weekly.news.example.com",
		    utc(2024, 8, 12, 0, 0, 0), 0, lines[4]);
}

static void
test_sample_csv(void **state)
{
	static const uint32_t lines[5] = { 7, 3, 4, 5, 6 };
	struct result r;

	(void)state;
	run_fixture("sample.csv", SUPPRESS_FMT_CSV, &r);
	check_sample(&r, lines, false);
	result_free(&r);
}

static void
test_sample_jsonl(void **state)
{
	static const uint32_t lines[5] = { 7, 2, 4, 5, 6 };
	struct result r;

	(void)state;
	run_fixture("sample.jsonl", SUPPRESS_FMT_JSONL, &r);
	check_sample(&r, lines, false);
	result_free(&r);
}

static void
test_sample_xml(void **state)
{
	static const uint32_t lines[5] = { 27, 16, 17, 23, 26 };
	struct result r;

	(void)state;
	run_fixture("sample.xml", SUPPRESS_FMT_XML, &r);
	check_sample(&r, lines, false);
	result_free(&r);
}

static void
test_sample_plain(void **state)
{
	static const uint32_t lines[5] = { 10, 5, 6, 7, 9 };
	struct result r;

	(void)state;
	run_fixture("sample.txt", SUPPRESS_FMT_PLAIN, &r);
	check_sample(&r, lines, true);
	result_free(&r);
}

/* AUTO finds each fixture's format and gives the same batch and messages. */
static void
test_auto_matches_fixtures(void **state)
{
	static const struct {
		const char *name;
		enum suppress_import_format fmt;
	} files[] = {
		{ "sample.csv", SUPPRESS_FMT_CSV },
		{ "sample_bad.csv", SUPPRESS_FMT_CSV },
		{ "sample.jsonl", SUPPRESS_FMT_JSONL },
		{ "sample_bad.jsonl", SUPPRESS_FMT_JSONL },
		{ "sample.xml", SUPPRESS_FMT_XML },
		{ "sample_bad.xml", SUPPRESS_FMT_XML },
		{ "sample.txt", SUPPRESS_FMT_PLAIN },
		{ "sample_bad.txt", SUPPRESS_FMT_PLAIN },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct result a, b;

		run_fixture(files[i].name, SUPPRESS_FMT_AUTO, &a);
		run_fixture(files[i].name, files[i].fmt, &b);
		assert_int_equal(a.fmt, files[i].fmt);
		assert_int_equal(b.fmt, files[i].fmt);
		assert_same(&a, &b);
		result_free(&a);
		result_free(&b);
	}
}

/* ---- bad rows, each kind with its exact report ---- */

static void
test_bad_csv(void **state)
{
	struct result r;

	(void)state;
	run_fixture("sample_bad.csv", SUPPRESS_FMT_AUTO, &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err,
		"sample_bad.csv:3: bad address \"not-an-address\": not an address\n"
		"sample_bad.csv:4: missing opt-out date\n"
		"sample_bad.csv:5: bad opt-out date \"04/02/2024\": expected YYYY-MM-DD, "
		"YYYY-MM-DDTHH:MM:SSZ, \"YYYY-MM-DD HH:MM:SS\" (UTC) or @SECONDS\n"
		"sample_bad.csv:6: bad scope \"newsletter\": expected all, sender:DOMAIN or "
		"list:LIST-ID\n"
		"sample_bad.csv:7: bad opt-out date \"2099-01-01\": in the future\n"
		"sample_bad.csv:8: bad consent date \"someday\": expected YYYY-MM-DD, "
		"YYYY-MM-DDTHH:MM:SSZ, \"YYYY-MM-DD HH:MM:SS\" (UTC) or @SECONDS\n"
		"sample_bad.csv:9: bad scope \"sender:\": expected all, sender:DOMAIN or "
		"list:LIST-ID\n"
		"sample_bad.csv:10: bad opt-out date \"2200-01-01\": after 2199\n");
	assert_int_equal(r.n_good, 1);
	assert_int_equal(r.n_bad, 8);
	check_entry(&r, "erin@example.com", "", utc(2024, 4, 2, 0, 0, 0), 0, 2);
	result_free(&r);
}

static void
test_bad_jsonl(void **state)
{
	struct result r;

	(void)state;
	run_fixture("sample_bad.jsonl", SUPPRESS_FMT_AUTO, &r);
	assert_int_equal(r.rc, 0);
	/* Lines 2 and 10 carry jansson's own wording (2.14). */
	assert_string_equal(r.err,
		"sample_bad.jsonl:2: bad JSON: '}' expected near end of file\n"
		"sample_bad.jsonl:3: bad JSON: not an object\n"
		"sample_bad.jsonl:4: bad JSON: \"email\" must be a string\n"
		"sample_bad.jsonl:5: bad JSON: \"optout\" must be a string or an integer "
		"(seconds since 1970)\n"
		"sample_bad.jsonl:6: bad JSON: \"email\" and \"address\" both give the address\n"
		"sample_bad.jsonl:7: missing opt-out date\n"
		"sample_bad.jsonl:8: bad scope \"team:sales\": expected all, sender:DOMAIN or "
		"list:LIST-ID\n"
		"sample_bad.jsonl:9: bad opt-out date \"@-5\": before 1970\n"
		"sample_bad.jsonl:10: bad JSON: duplicate object key near '\"email\"'\n");
	assert_int_equal(r.n_good, 1);
	assert_int_equal(r.n_bad, 9);
	check_entry(&r, "erin@example.com", "", utc(2024, 4, 2, 0, 0, 0), 0, 1);
	result_free(&r);
}

static void
test_bad_xml(void **state)
{
	struct result r;

	(void)state;
	run_fixture("sample_bad.xml", SUPPRESS_FMT_AUTO, &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err,
		"sample_bad.xml:4: unexpected element <entyr> in <suppressions>\n"
		"sample_bad.xml:5: the address is given twice (\"email\")\n"
		"sample_bad.xml:8: text directly inside <entry> (put it in an attribute or a "
		"child element)\n"
		"sample_bad.xml:9: unexpected element <b> inside the address element\n"
		"sample_bad.xml:10: bad address \"judy.example.com\": not an address\n"
		"sample_bad.xml:11: bad scope \"sender:\": expected all, sender:DOMAIN or "
		"list:LIST-ID\n"
		"sample_bad.xml:12: missing opt-out date\n");
	assert_int_equal(r.n_good, 1);
	assert_int_equal(r.n_bad, 7);
	check_entry(&r, "erin@example.com", "", utc(2024, 4, 2, 0, 0, 0), 0, 3);
	result_free(&r);
}

static void
test_bad_plain(void **state)
{
	struct result r;

	(void)state;
	run_fixture("sample_bad.txt", SUPPRESS_FMT_AUTO, &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err,
		"sample_bad.txt:2: bad address \"frank\": not an address\n"
		"sample_bad.txt:3: bad opt-out date \"2024-13-01\": expected YYYY-MM-DD, "
		"YYYY-MM-DDTHH:MM:SSZ, \"YYYY-MM-DD HH:MM:SS\" (UTC) or @SECONDS\n"
		"sample_bad.txt:4: bad opt-out date \"2024-04-02 extra\": expected YYYY-MM-DD, "
		"YYYY-MM-DDTHH:MM:SSZ, \"YYYY-MM-DD HH:MM:SS\" (UTC) or @SECONDS\n");
	assert_int_equal(r.n_good, 1);
	assert_int_equal(r.n_bad, 3);
	result_free(&r);
}

/* The CSV reasons not in the fixture, and quoting/BOM/CRLF handling. */
static void
test_csv_rows(void **state)
{
	struct result r;
	char want[2048];
	const char *csv = "\xef\xbb\xbf" "Email,Unsubscribed_At,Consent_Date,notes\r\n"
			  ",2024-03-01,,\r\n"                          /* 2 */
			  "b@example.com\r\n"                          /* 3 */
			  "c@example.com,2024-03-01T10:00:00,,\r\n"    /* 4 */
			  "d@example.com,2024-02-30,,\r\n"             /* 5 */
			  "e@example.com,1969-12-31,,\r\n"             /* 6 */
			  "\"f g@h@i\",2024-03-01,,\r\n"               /* 7 */
			  "\r\n"                                       /* 8 */
			  ",,,\r\n"                                    /* 9 */
			  /* 10: good (within the day of slack), a note over two lines */
			  "k@example.com,2025-01-01T12:00:00Z,,\"a\r\nb\"\r\n"
			  "l@example.com,@1709251200,2024-06-01,x";    /* 12 */

	(void)state;
	run(csv, opts("t.csv", SUPPRESS_FMT_AUTO), &r);
	snprintf(want, sizeof(want),
		 "t.csv:2: missing address\n"
		 "t.csv:3: missing opt-out date\n"
		 "t.csv:4: bad opt-out date \"2024-03-01T10:00:00\": %s\n"
		 "t.csv:5: bad opt-out date \"2024-02-30\": %s\n"
		 "t.csv:6: bad opt-out date \"1969-12-31\": before 1970\n"
		 "t.csv:7: bad address \"f g@h@i\": not an address\n",
		 expect_time, expect_time);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, want);
	assert_int_equal(r.n_good, 2);
	assert_int_equal(r.n_bad, 6);
	check_entry(&r, "k@example.com", "", utc(2025, 1, 1, 12, 0, 0), 0, 10);
	check_entry(&r, "l@example.com", "", utc(2024, 3, 1, 0, 0, 0), utc(2024, 6, 1, 0, 0, 0),
		    12);
	result_free(&r);
}

/* Delimiters: guessed from the header, or given. Column overrides, incl. the scope's. */
static void
test_csv_delimiters(void **state)
{
	static const char *const files[] = {
		"email;date;note\na@example.com;2024-03-01;\"x, y\"\n",
		"email|date\na@example.com|2024-03-01\n",
		"email\tdate\na@example.com\t2024-03-01\n",
		"\"email,addr\";date;x;y\n\"a@example.com\";2024-03-01;1,2;3,4\n", /* ; wins */
	};
	struct suppress_import_opts o;
	struct result r;

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		for (int f = SUPPRESS_FMT_AUTO; f <= SUPPRESS_FMT_CSV; f++) {
			o = opts("t.csv", (enum suppress_import_format)f);
			if (i == 3)
				o.email_column = "email,addr";
			run(files[i], o, &r);
			assert_int_equal(r.rc, 0);
			assert_string_equal(r.err, "");
			assert_int_equal(r.fmt, SUPPRESS_FMT_CSV);
			check_entry(&r, "a@example.com", "", utc(2024, 3, 1, 0, 0, 0), 0, 2);
			result_free(&r);
		}
	}

	/* A given delimiter wins over the guess. */
	o = opts("t.csv", SUPPRESS_FMT_CSV);
	o.delimiter = ';';
	run("email,date\na@example.com,2024-03-01\n", o, &r);
	assert_int_equal(r.rc, -EBADMSG);
	assert_non_null(strstr(r.err, "t.csv:1: no address column in the header"));
	result_free(&r);

	/* Overrides: own names for every column, quoted multi-line fields. */
	o = opts("t.csv", SUPPRESS_FMT_AUTO);
	o.email_column = "Mail Address";
	o.date_column = "when";
	o.consent_column = "ok";
	o.scope_column = "stream";
	run("id;mail address;WHEN;ok;stream;scope\n"
	    "1;\" dave@example.com \";2024-03-01;;list:a.example;junk\n"
	    "2;\"erin@example.com\";\"2024-03-01\";2024-04-01;\"sender:\nx.example\";\n", o, &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, "");
	check_entry(&r, "dave@example.com", "list:a.example", utc(2024, 3, 1, 0, 0, 0), 0, 2);
	check_entry(&r, "erin@example.com", "sender:x.example", utc(2024, 3, 1, 0, 0, 0),
		    utc(2024, 4, 1, 0, 0, 0), 3);
	result_free(&r);
}

static void
fails(const char *input, struct suppress_import_opts o, int want_rc, const char *want_err)
{
	struct result r;

	run(input, o, &r);
	assert_int_equal(r.rc, want_rc);
	if (strcmp(r.err, want_err) != 0)
		fail_msg("expected \"%s\", got \"%s\"", want_err, r.err);
	result_free(&r);
}

static void
test_csv_file_errors(void **state)
{
	struct suppress_import_opts o = opts("t.csv", SUPPRESS_FMT_CSV);
	char *big;
	size_t n, off;

	(void)state;
	fails("", o, -EBADMSG, "t.csv:1: empty file: no header row\n");
	fails("\n\n", o, -EBADMSG, "t.csv:1: empty file: no header row\n");
	fails("mail,optout_date\na@b.example,2024-01-02\n", o, -EBADMSG,
	      "t.csv:1: no address column in the header (looked for email, address, e-mail, "
	      "recipient; see --email-column)\n");
	fails("email,when\na@b.example,2024-01-02\n", o, -EBADMSG,
	      "t.csv:1: no opt-out date column in the header (looked for optout_date, opt_out, "
	      "optout, date, unsubscribed_at; see --date-column)\n");
	fails("email,date\na@b.example,\"2024-01-02\n", o, -EBADMSG,
	      "t.csv:3: malformed CSV: a quote inside an unquoted field, text after a closing "
	      "quote, or an unterminated quoted field\n");
	fails("email,date\na@b.example,\"2024-01-02\"x\n", o, -EBADMSG,
	      "t.csv:2: malformed CSV: a quote inside an unquoted field, text after a closing "
	      "quote, or an unterminated quoted field\n");
	o.consent_column = "agreed";
	fails("email,date\na@b.example,2024-01-02\n", o, -EBADMSG,
	      "t.csv:1: no consent column \"agreed\" in the header\n");
	o = opts("t.csv", SUPPRESS_FMT_CSV);
	o.scope_column = "stream";
	fails("email,date,scope\na@b.example,2024-01-02,\n", o, -EBADMSG,
	      "t.csv:1: no scope column \"stream\" in the header\n");
	o = opts("t.csv", SUPPRESS_FMT_CSV);
	o.email_column = "to";
	fails("email,date\na@b.example,2024-01-02\n", o, -EBADMSG,
	      "t.csv:1: no address column \"to\" in the header\n");
	o = opts("t.csv", SUPPRESS_FMT_CSV);
	o.delimiter = '"';
	fails("email,date\n", o, -EINVAL,
	      "t.csv:0: the delimiter cannot be a quote or a line end\n");

	/* A field over the bound, in a column we do not even use: the file fails. */
	n = SUPPRESS_IMPORT_FIELD_MAX + 10000;
	big = malloc(n + 64);
	assert_non_null(big);
	strcpy(big, "email,date,x\na@b.example,2024-01-02,\"");
	off = strlen(big);
	memset(big + off, 'x', n);
	strcpy(big + off + n, "\"\n");
	fails(big, opts("t.csv", SUPPRESS_FMT_AUTO), -EBADMSG,
	      "t.csv:2: a field is longer than 65536 bytes\n");
	free(big);
}

/* ---- JSONL, XML and plain details ---- */

static void
test_jsonl_rows(void **state)
{
	struct suppress_import_opts o = opts("t.jsonl", SUPPRESS_FMT_JSONL);
	struct result r;
	char *big;
	size_t n = SUPPRESS_IMPORT_LINE_MAX + 100, off;

	(void)state;
	/* BOM, CRLF, CR alone, blank lines, null, integer consent, own key names, nested
	 * values ignored, keys in any case. */
	run("\xef\xbb\xbf{\"EMAIL\":\"a@example.com\",\"Date\":\"2024-03-01\",\"x\":[1,{}]}\r\n"
	    "\r\n"
	    "  \t\r"
	    "{\"email\":\"b@example.com\",\"optout\":1709251200,\"consent\":1717200000,"
	    "\"scope\":null}\n"
	    "{\"email\":\"c@example.com\",\"optout\":\"2024-03-01\",\"consent\":1.5}\n"
	    "{\"email\":\"d@example.com\",\"optout\":\"2024-03-01\",\"scope\":[\"all\"]}\n"
	    "{\"email\":\"e@example.com\",\"optout\":\"2024-03-01\"} {}\n"
	    "{\"email\":\"f\\u0000@example.com\",\"optout\":\"2024-03-01\"}\n"
	    "{}\n"
	    "\"x\"", o, &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err,
		"t.jsonl:5: bad JSON: \"consent\" must be a string or an integer (seconds since "
		"1970)\n"
		"t.jsonl:6: bad JSON: \"scope\" must be a string\n"
		"t.jsonl:7: bad JSON: end of file expected near '{'\n"
		"t.jsonl:8: bad JSON: \\u0000 is not allowed without JSON_ALLOW_NUL\n"
		"t.jsonl:9: missing address\n"
		"t.jsonl:10: bad JSON: not an object\n");
	assert_int_equal(r.n_good, 2);
	assert_int_equal(r.n_bad, 6);
	check_entry(&r, "a@example.com", "", utc(2024, 3, 1, 0, 0, 0), 0, 1);
	check_entry(&r, "b@example.com", "", utc(2024, 3, 1, 0, 0, 0), utc(2024, 6, 1, 0, 0, 0),
		    4);
	result_free(&r);

	/* A line over the bound is a bad row, and the next line is read. */
	big = malloc(n + 128);
	assert_non_null(big);
	strcpy(big, "{\"email\":\"a@example.com\",\"optout\":\"2024-03-01\",\"x\":\"");
	off = strlen(big);
	memset(big + off, 'x', n);
	strcpy(big + off + n, "\"}\n{\"email\":\"b@example.com\",\"optout\":\"2024-03-01\"}");
	run(big, o, &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, "t.jsonl:1: line longer than 262144 bytes\n");
	assert_int_equal(r.n_good, 1);
	assert_int_equal(r.n_bad, 1);
	check_entry(&r, "b@example.com", "", utc(2024, 3, 1, 0, 0, 0), 0, 2);
	result_free(&r);
	/* ... also when it comes in small pieces, and when it is the last line */
	big[off + n + 3] = '\0';
	{
		size_t len = strlen(big), cuts[64], k = 0;

		for (size_t at = 1000; at < len && k < 64; at += len / 50)
			cuts[k++] = at;
		run_pieces(big, len, o, cuts, k, &r);
		assert_int_equal(r.rc, 0);
		assert_string_equal(r.err, "t.jsonl:1: line longer than 262144 bytes\n");
		assert_int_equal(r.n_bad, 1);
		assert_int_equal(r.n_good, 0);
		result_free(&r);
	}
	free(big);
}

static void
test_xml_rows(void **state)
{
	struct suppress_import_opts o = opts("t.xml", SUPPRESS_FMT_XML);
	struct result r;

	(void)state;
	/* BOM, no declaration, CRLF, entities and character references, CDATA in pieces,
	 * comments and PIs with '>' and quotes inside, unknown children with nested content,
	 * own column names through the override, attribute in single quotes. */
	o.email_column = "to";
	run("\xef\xbb\xbf<suppressions a='1'>\r\n"
	    "<!-- a comment with > and \" and ' -->\r\n"
	    "<?app skip > this?>\r\n"
	    "<entry to='a&#64;example.com' optout=\"2024-03-01\">"
	    "<extra><x>y</x></extra></entry>\r\n"
	    "<entry><to>b@<![CDATA[exa]]><![CDATA[mple.com]]></to>"
	    "<date>2024-03-01T00:00:00Z</date><consent_date>2024-06-01</consent_date>"
	    "<scope>sender:news&#x2E;example.com</scope></entry>\r\n"
	    "<entry email=\"c@example.com\" optout=\"2024-03-01\"/>\r\n"
	    "</suppressions>\r\n", o, &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, "t.xml:6: missing address\n"); /* email= is not "to" */
	assert_int_equal(r.n_good, 2);
	check_entry(&r, "a@example.com", "", utc(2024, 3, 1, 0, 0, 0), 0, 4);
	check_entry(&r, "b@example.com", "sender:news.example.com", utc(2024, 3, 1, 0, 0, 0),
		    utc(2024, 6, 1, 0, 0, 0), 5);
	result_free(&r);

	/* Two values for the same column, by two names. */
	run("<suppressions><entry email='a@x.example' address='b@x.example' optout='2024-03-01'/>"
	    "<entry optout='2024-03-01'><optout>2024-03-02</optout><email>c@x.example</email>"
	    "</entry></suppressions>", opts("t.xml", SUPPRESS_FMT_XML), &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, "t.xml:1: the address is given twice (\"address\")\n"
				   "t.xml:1: the opt-out date is given twice (\"optout\")\n");
	assert_int_equal(r.n_bad, 2);
	result_free(&r);

	/* An empty <suppressions/> holds no rows; that is not an error. */
	run("<suppressions/>", opts("t.xml", SUPPRESS_FMT_AUTO), &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.n, 0);
	result_free(&r);
}

static void
test_xml_file_errors(void **state)
{
	struct suppress_import_opts o = opts("t.xml", SUPPRESS_FMT_XML);
	char *big;
	size_t n = SUPPRESS_IMPORT_LINE_MAX + 10, off;

	(void)state;
	fails("", o, -EBADMSG, "t.xml:1: malformed XML: no element found\n");
	fails("<suppressions>\n<entry email='a@b.example' optout='2024-01-01'/>\n<entry>\n"
	      "</suppressions>\n", o, -EBADMSG, "t.xml:4: malformed XML: mismatched tag\n");
	fails("<suppressions>\n<entry email='a@b.example' optout='2024-01-01'/>\n", o, -EBADMSG,
	      "t.xml:3: malformed XML: no element found\n");
	fails("<suppressions/>\n<x/>", o, -EBADMSG,
	      "t.xml:2: malformed XML: junk after document element\n");
	fails("<suppressions>\n<entry email='a&b.example'/></suppressions>", o, -EBADMSG,
	      "t.xml:2: malformed XML: not well-formed (invalid token)\n");
	fails("<suppressions><entry email='&nope;'/></suppressions>", o, -EBADMSG,
	      "t.xml:1: malformed XML: undefined entity\n");
	fails("<list>\n<entry/></list>", o, -EBADMSG,
	      "t.xml:1: the root element is <list>, expected <suppressions>\n");
	/* No DTD: the billion laughs never expand, external entities are never loaded. */
	fails("<?xml version=\"1.0\"?>\n"
	      "<!DOCTYPE lolz [\n"
	      " <!ENTITY lol \"lol\">\n"
	      " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	      " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
	      "]>\n"
	      "<suppressions><entry email=\"&lol2;\" optout=\"2024-01-01\"/></suppressions>\n",
	      o, -EBADMSG, "t.xml:2: malformed XML: a DOCTYPE is not allowed\n");
	fails("<!DOCTYPE suppressions SYSTEM \"file:///etc/passwd\">\n"
	      "<suppressions><entry email=\"a@b.example\" optout=\"2024-01-01\"/></suppressions>",
	      o, -EBADMSG, "t.xml:1: malformed XML: a DOCTYPE is not allowed\n");
	fails("<suppressions><entry><email><a><b><c><d><e><f><g><h><i><j><k><l><m><n><o><p>"
	      "</p></o></n></m></l></k></j></i></h></g></f></e></d></c></b></a></email></entry>"
	      "</suppressions>", o, -EBADMSG,
	      "t.xml:1: malformed XML: elements nested more than 16 deep\n");

	/* Markup over the bound fails where it starts, whether expat has it whole or not. */
	big = malloc(n + 128);
	assert_non_null(big);
	strcpy(big, "<suppressions>\n<entry optout='2024-01-01'\n email='");
	off = strlen(big);
	memset(big + off, 'a', n);
	strcpy(big + off + n, "@b.example'/></suppressions>");
	fails(big, o, -EBADMSG, "t.xml:2: malformed XML: markup longer than 262144 bytes\n");
	/* a long comment too; long text is not markup: a bad row */
	strcpy(big, "<suppressions>\n<!--");
	off = strlen(big);
	memset(big + off, 'x', n);
	strcpy(big + off + n, "--></suppressions>");
	fails(big, o, -EBADMSG, "t.xml:2: malformed XML: markup longer than 262144 bytes\n");
	strcpy(big, "<suppressions>\n<entry optout='2024-01-01'><email>");
	off = strlen(big);
	memset(big + off, 'a', n);
	strcpy(big + off + n, "</email></entry></suppressions>");
	fails(big, o, 0, "t.xml:2: bad address: longer than 512 bytes\n");
	free(big);
}

static void
test_plain_rows(void **state)
{
	struct suppress_import_opts o = opts("t.txt", SUPPRESS_FMT_PLAIN);
	struct result r;

	(void)state;
	o.now = utc(2024, 12, 31, 10, 0, 0);
	run("a@example.com\n"
	    "b@example.com\t 2024-03-01   # asked twice\n"
	    "   c@example.com # note\n"
	    "#d@example.com\n"
	    "e#x@example.com\n"
	    "f@example.com #\n"
	    "g@example.com 2024-03-01 10:00:00\n"
	    "h@example.com @1709251200\n"
	    "\"i j\"@example.com\n", o, &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, "t.txt:9: bad address \"\\x22i\": not an address\n");
	assert_int_equal(r.n_good, 7);
	check_entry(&r, "a@example.com", "", o.now, 0, 1);
	check_entry(&r, "b@example.com", "", utc(2024, 3, 1, 0, 0, 0), 0, 2);
	check_entry(&r, "c@example.com", "", o.now, 0, 3);
	check_entry(&r, "e#x@example.com", "", o.now, 0, 5);
	check_entry(&r, "f@example.com", "", o.now, 0, 6);
	check_entry(&r, "g@example.com", "", utc(2024, 3, 1, 10, 0, 0), 0, 7);
	check_entry(&r, "h@example.com", "", utc(2024, 3, 1, 0, 0, 0), 0, 8);
	result_free(&r);

	/* An import time past the calendar is refused, not silently used. */
	o.now = utc(2200, 1, 1, 0, 0, 0);
	run("a@example.com\n", o, &r);
	assert_string_equal(r.err, "t.txt:1: bad opt-out date \"@7258118400\": after 2199\n");
	assert_int_equal(r.n_bad, 1);
	result_free(&r);

	/* An empty plain or JSONL file is an empty list; an empty file of unknown format is
	 * refused. */
	fails("", opts("t.txt", SUPPRESS_FMT_PLAIN), 0, "");
	fails("\n# nothing\n", opts("t.txt", SUPPRESS_FMT_AUTO), 0, "");
	fails("", opts("t.jsonl", SUPPRESS_FMT_JSONL), 0, "");
	fails("\xef\xbb\xbf \r\n\n", opts("t", SUPPRESS_FMT_AUTO), -EBADMSG, "t:3: empty file\n");
	fails("\n\nhello world\n", opts("t", SUPPRESS_FMT_AUTO), -EBADMSG,
	      "t:3: cannot tell the format of the file from its first line: expected a CSV "
	      "header, an address, '{' (JSON Lines) or '<' (XML)\n");
}

/* ---- detection ---- */

static void
detects(const char *s, bool at_eof, const struct suppress_import_opts *o, int want,
	char want_delim)
{
	char delim = 0;
	int got = suppress_import_detect(s, strlen(s), at_eof, o, &delim);

	if (got != want)
		fail_msg("\"%s\": got %d, want %d", s, got, want);
	if (got == SUPPRESS_FMT_CSV && delim != want_delim)
		fail_msg("\"%s\": delimiter '%c', want '%c'", s, delim, want_delim);
}

static void
test_detect(void **state)
{
	struct suppress_import_opts o = opts("t", SUPPRESS_FMT_AUTO);

	(void)state;
	detects("{\"email\":1}\n", true, NULL, SUPPRESS_FMT_JSONL, 0);
	detects("\xef\xbb\xbf \r\n\t{", false, NULL, SUPPRESS_FMT_JSONL, 0);
	detects("<?xml version='1.0'?><suppressions/>", true, NULL, SUPPRESS_FMT_XML, 0);
	detects("\n<suppressions>", false, NULL, SUPPRESS_FMT_XML, 0);
	detects("<!-- x@y -->", false, NULL, SUPPRESS_FMT_XML, 0);
	detects("<a@b.example>\n", false, NULL, SUPPRESS_FMT_PLAIN, 0);
	detects("<a@b.exam", false, NULL, SUPPRESS_FMT_AUTO, 0);
	detects("<a@b.exam", true, NULL, SUPPRESS_FMT_XML, 0);
	detects("<", false, NULL, SUPPRESS_FMT_AUTO, 0);
	detects("# list\n", false, NULL, SUPPRESS_FMT_PLAIN, 0);
	detects("a@b.example\n", true, NULL, SUPPRESS_FMT_PLAIN, 0);
	detects("a@b.example 2024-01-01\n", true, NULL, SUPPRESS_FMT_PLAIN, 0);
	detects("a@b.example\t2024-01-01\n", true, NULL, SUPPRESS_FMT_PLAIN, 0);
	detects("a@b.example", false, NULL, SUPPRESS_FMT_AUTO, 0);
	detects("a@b.example", true, NULL, SUPPRESS_FMT_PLAIN, 0);
	detects("email,date\n", true, NULL, SUPPRESS_FMT_CSV, ',');
	detects("email;date;x,y\n", true, NULL, SUPPRESS_FMT_CSV, ';');
	detects("email|date\r\n", true, NULL, SUPPRESS_FMT_CSV, '|');
	detects("email\tdate\n", true, NULL, SUPPRESS_FMT_CSV, '\t');
	detects("mail address\twhen\n", true, NULL, SUPPRESS_FMT_CSV, '\t');
	detects("\"e,mail\";date\n", true, NULL, SUPPRESS_FMT_CSV, ';');
	detects("a@b.example,2024-01-01\n", true, NULL, SUPPRESS_FMT_CSV, ',');
	detects("Email\n", true, NULL, SUPPRESS_FMT_CSV, ',');
	detects("email,da", false, NULL, SUPPRESS_FMT_AUTO, 0);
	detects("hello world\n", true, NULL, -EBADMSG, 0);
	detects("[{\"email\":\"a@b\"}]\n", false, NULL, -EBADMSG, 0);
	detects("[\n", true, NULL, -EBADMSG, 0);
	detects("", false, NULL, SUPPRESS_FMT_AUTO, 0);
	detects("", true, NULL, -ENODATA, 0);
	detects(" \r\n\t", true, NULL, -ENODATA, 0);
	detects("\xef\xbb", false, NULL, SUPPRESS_FMT_AUTO, 0);
	detects("\xef\xbb", true, NULL, -EBADMSG, 0);
	detects("\xef\xbb\xbf", true, NULL, -ENODATA, 0);
	/* the options: a given delimiter, an overridden column name */
	o.delimiter = ':';
	detects("email:date\n", true, &o, SUPPRESS_FMT_CSV, ':');
	detects("email,date\n", true, &o, SUPPRESS_FMT_CSV, ':');
	detects("a@b.example 2024-01-01\n", true, &o, SUPPRESS_FMT_PLAIN, 0);
	o.delimiter = 0;
	o.email_column = "who";
	detects("who\n", true, &o, SUPPRESS_FMT_CSV, ',');
	detects("email\n", true, &o, -EBADMSG, 0);
}

static void
test_column_of(void **state)
{
	static const struct {
		const char *name;
		int col;
	} defaults[] = {
		{ "email", SUPPRESS_COL_ADDR },		 { " E-Mail ", SUPPRESS_COL_ADDR },
		{ "address", SUPPRESS_COL_ADDR },	 { "RECIPIENT", SUPPRESS_COL_ADDR },
		{ "optout_date", SUPPRESS_COL_OPTOUT },	 { "opt_out", SUPPRESS_COL_OPTOUT },
		{ "optout", SUPPRESS_COL_OPTOUT },	 { "Date", SUPPRESS_COL_OPTOUT },
		{ "unsubscribed_at", SUPPRESS_COL_OPTOUT },
		{ "consent_date", SUPPRESS_COL_CONSENT },
		{ "consent", SUPPRESS_COL_CONSENT },	 { "Scope", SUPPRESS_COL_SCOPE },
		{ "list_id", -1 },			 { "", -1 },
		{ "emails", -1 },			 { "opt out", -1 },
	};
	struct suppress_import_opts o = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		struct slice s = slice_from_cstr(defaults[i].name);

		assert_int_equal(suppress_import_column_of(NULL, s), defaults[i].col);
		assert_int_equal(suppress_import_column_of(&o, s), defaults[i].col);
	}
	/* An override replaces that column's defaults only. */
	o.email_column = "Mail";
	o.date_column = "when";
	o.consent_column = "ok";
	o.scope_column = "list_id";
	assert_int_equal(suppress_import_column_of(&o, SLICE_LIT("mail")), SUPPRESS_COL_ADDR);
	assert_int_equal(suppress_import_column_of(&o, SLICE_LIT("email")), -1);
	assert_int_equal(suppress_import_column_of(&o, SLICE_LIT("WHEN")), SUPPRESS_COL_OPTOUT);
	assert_int_equal(suppress_import_column_of(&o, SLICE_LIT("date")), -1);
	assert_int_equal(suppress_import_column_of(&o, SLICE_LIT("ok")), SUPPRESS_COL_CONSENT);
	assert_int_equal(suppress_import_column_of(&o, SLICE_LIT("consent")), -1);
	assert_int_equal(suppress_import_column_of(&o, SLICE_LIT("list_id")), SUPPRESS_COL_SCOPE);
	assert_int_equal(suppress_import_column_of(&o, SLICE_LIT("scope")), -1);
}

static void
test_times(void **state)
{
	char buf[SUPPRESS_TIME_STR];
	int64_t t = 0;

	(void)state;
	assert_int_equal(suppress_import_parse_time(slice_from_cstr("2024-03-01"), &t), 0);
	assert_int_equal(t, utc(2024, 3, 1, 0, 0, 0));
	assert_int_equal(suppress_import_parse_time(slice_from_cstr(" 2024-02-29T23:59:59Z "),
						    &t), 0);
	assert_int_equal(t, utc(2024, 2, 29, 23, 59, 59));
	assert_int_equal(suppress_import_parse_time(slice_from_cstr("2024-03-01 08:09:10"), &t),
			 0);
	assert_int_equal(t, utc(2024, 3, 1, 8, 9, 10));
	assert_int_equal(suppress_import_parse_time(slice_from_cstr("1970-01-01"), &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(suppress_import_parse_time(slice_from_cstr("@1709251200"), &t), 0);
	assert_int_equal(t, utc(2024, 3, 1, 0, 0, 0));
	assert_int_equal(suppress_import_parse_time(slice_from_cstr("@0"), &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(suppress_import_parse_time(slice_from_cstr("@9223372036854775807"), &t),
			 0);
	assert_int_equal(t, INT64_MAX);

	static const char *const bad[] = {
		"", "2024", "2024-3-01", "2024-03-1", "2023-02-29", "2024-00-10", "2024-13-10",
		"2024-04-31", "2024-03-01T24:00:00Z", "2024-03-01T10:60:00Z",
		"2024-03-01T10:00:60Z", "2024-03-01T10:00:00", "2024-03-01 10:00:00Z",
		"2024-03-01t10:00:00z", "2024-03-01X10:00:00Z", "+024-03-01", "2024-03-01T1:00:00Z",
		"２０２４-03-01", "@", "@-", "@1.5", "@ 5", "@+5", "@9223372036854775808",
		"@12345678901234567890", "@0x10",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (suppress_import_parse_time(slice_from_cstr(bad[i]), &t) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
	assert_int_equal(suppress_import_parse_time(slice_make("2024-03-01\0", 11), &t), -EINVAL);
	assert_int_equal(suppress_import_parse_time(slice_from_cstr("1969-12-31"), &t), -ERANGE);
	assert_int_equal(suppress_import_parse_time(slice_from_cstr("@-1"), &t), -ERANGE);
	assert_int_equal(suppress_import_parse_time(slice_from_cstr("@-0"), &t), 0);

	suppress_import_format_time(utc(2024, 3, 15, 7, 8, 9), buf);
	assert_string_equal(buf, "2024-03-15T07:08:09Z");
	suppress_import_format_time(-1, buf);
	assert_string_equal(buf, "1969-12-31T23:59:59Z");
	suppress_import_format_time(INT64_MIN, buf);
	assert_string_equal(buf, "@-9223372036854775808");
	suppress_import_format_time(BUSINESS_DAYS_T_MAX, buf);
	assert_string_equal(buf, "9999-12-31T23:59:59Z");
}

/* ---- scopes and merging ---- */

static void
test_scope_merge(void **state)
{
	struct result r;
	const struct suppress_import_entry *e;
	const char *csv = "email,date,consent,scope\n"
			  "m@example.com,2024-01-02,,\n"                              /* 2 */
			  "m@example.com,2024-01-05,,ALL\n"                           /* 3 */
			  "m@example.com,2024-02-01,,sender:News.Example.COM\n"       /* 4 */
			  "m@example.com,2024-01-20,,Sender:news.example.com\n"       /* 5 */
			  "m@example.com,2024-03-01,,list:<weekly.example.com>\n"     /* 6 */
			  "m@example.com,2024-03-02,,list:Weekly News <weekly.example.com>\n"
			  "M@example.com,2024-03-03,,\n"                              /* 8 */
			  "@example.com,2024-04-01,,sender:news.example.com\n"        /* 9 */
			  /* opt-out, consent, opt-out again: the one after the consent counts */
			  "n@example.com,2024-01-02,,\n"                              /* 10 */
			  "n@example.com,2024-01-02,2024-02-01,\n"                    /* 11 */
			  "n@example.com,2024-03-04,,\n"                              /* 12 */
			  /* consent after every opt-out: the latest opt-out, lifted */
			  "o@example.com,2024-01-02,,list:a.example\n"                /* 13 */
			  "o@example.com,2024-01-03,2024-06-01,list:a.example\n";     /* 14 */

	(void)state;
	run(csv, opts("t.csv", SUPPRESS_FMT_AUTO), &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, "");
	assert_int_equal(r.n_good, 13);
	assert_int_equal(r.n, 7);
	check_sorted(&r);
	check_entry(&r, "m@example.com", "", utc(2024, 1, 2, 0, 0, 0), 0, 2);
	check_entry(&r, "m@example.com", "sender:news.example.com", utc(2024, 1, 20, 0, 0, 0), 0,
		    5);
	check_entry(&r, "m@example.com", "list:weekly.example.com", utc(2024, 3, 1, 0, 0, 0), 0,
		    6);
	check_entry(&r, "M@example.com", "", utc(2024, 3, 3, 0, 0, 0), 0, 8); /* local case */
	check_entry(&r, "@example.com", "sender:news.example.com", utc(2024, 4, 1, 0, 0, 0), 0,
		    9);
	check_entry(&r, "n@example.com", "", utc(2024, 3, 4, 0, 0, 0), utc(2024, 2, 1, 0, 0, 0),
		    12);
	check_entry(&r, "o@example.com", "list:a.example", utc(2024, 1, 3, 0, 0, 0),
		    utc(2024, 6, 1, 0, 0, 0), 14);
	/* the key's ALL entry comes before its scoped ones */
	e = find(&r, "m@example.com", "");
	assert_int_equal(e->rec.scope, SUPPRESS_SCOPE_ALL);
	assert_true(e < find(&r, "m@example.com", "sender:news.example.com"));
	assert_true(e < find(&r, "m@example.com", "list:weekly.example.com"));
	for (size_t i = 0; i < r.n; i++) {
		static const uint8_t zero[SUPPRESS_KEY_LEN];
		bool all = r.v[i].rec.scope == SUPPRESS_SCOPE_ALL;

		assert_int_equal(memcmp(r.v[i].scope_key, zero, sizeof(zero)) == 0, all);
	}
	result_free(&r);

	/* The normalization flags key the address, not the scope. */
	struct suppress_import_opts o = opts("t.csv", SUPPRESS_FMT_AUTO);

	o.norm_flags = ADDR_NORM_LOWER_LOCAL | ADDR_NORM_STRIP_TAG;
	run("email,date\nM+x@example.com,2024-01-02\nm@example.com,2024-01-01\n", o, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].rec.source_line, 3);
	result_free(&r);
}

/* ---- limits ---- */

static void
test_limits(void **state)
{
	static const struct {
		enum suppress_import_format fmt;
		const char *input;
		const char *err;
	} cases[] = {
		{ SUPPRESS_FMT_CSV,
		  "email,date\na@x.example,2024-01-02\nb@x.example,2024-01-02\n"
		  "bad,2024-01-02\nc@x.example,2024-01-02\nd@x.example,2024-01-02\n",
		  "t:4: bad address \"bad\": not an address\n"
		  "t:5: more than 2 rows: split the file\n" },
		{ SUPPRESS_FMT_JSONL, "{\"email\":\"a@x.example\",\"date\":\"2024-01-02\"}\n"
				      "{\"email\":\"b@x.example\",\"date\":\"2024-01-02\"}\n"
				      "{\"email\":\"c@x.example\",\"date\":\"2024-01-02\"}\n",
		  "t:3: more than 2 rows: split the file\n" },
		{ SUPPRESS_FMT_XML,
		  "<suppressions>\n<entry email='a@x.example' date='2024-01-02'/>\n"
		  "<entry email='b@x.example' date='2024-01-02'/>\n"
		  "<entry email='c@x.example' date='2024-01-02'/>\n"
		  "<entry email='d@x.example' date='2024-01-02'/>\n</suppressions>",
		  "t:4: more than 2 rows: split the file\n" },
		{ SUPPRESS_FMT_PLAIN, "a@x.example\nb@x.example\nc@x.example\n",
		  "t:3: more than 2 rows: split the file\n" },
	};
	char big[2048];
	struct suppress_import_opts o;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o = opts("t", cases[i].fmt);
		o.max_rows = 2;
		fails(cases[i].input, o, -E2BIG, cases[i].err);
		o.format = SUPPRESS_FMT_AUTO;
		fails(cases[i].input, o, -E2BIG, cases[i].err);
	}

	/* A value over SUPPRESS_IMPORT_VALUE_MAX is a bad row in every format. */
	char v[600];

	memset(v, 'a', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	snprintf(big, sizeof(big), "email,date\n%s@x.example,2024-01-02\nb@x.example,%s\n"
		 "c@x.example,2024-01-02,%s\n", v, v, v);
	o = opts("t", SUPPRESS_FMT_AUTO);
	o.consent_column = NULL;
	fails(big, o, 0, "t:2: bad address: longer than 512 bytes\n"
			 "t:3: bad opt-out date: longer than 512 bytes\n");
	snprintf(big, sizeof(big), "email,date,consent,scope\nb@x.example,2024-01-02,%s,\n"
		 "c@x.example,2024-01-02,,%s\n", v, v);
	fails(big, o, 0, "t:2: bad consent date: longer than 512 bytes\n"
			 "t:3: bad scope: longer than 512 bytes\n");
	snprintf(big, sizeof(big), "{\"email\":\"%s@x.example\",\"date\":\"2024-01-02\"}", v);
	fails(big, o, 0, "t:1: bad address: longer than 512 bytes\n");
	snprintf(big, sizeof(big), "<suppressions><entry email='a@x.example' date='2024-01-02' "
				   "scope='%s'/></suppressions>", v);
	fails(big, o, 0, "t:1: bad scope: longer than 512 bytes\n");
	snprintf(big, sizeof(big), "%s@x.example\n", v);
	fails(big, o, 0, "t:1: bad address: longer than 512 bytes\n");
	/* an address of 300 bytes is under the value bound but not an address */
	v[300] = '\0';
	snprintf(big, sizeof(big), "%s@x.example\n", v);
	snprintf(v, sizeof(v), "t:1: bad address \"%.64s...\": too long\n", big);
	fails(big, o, 0, v);
}

/* ---- the row API (an ODBC sync) ---- */

static void
test_rows_api(void **state)
{
	struct suppress_import_opts o = opts("sync:crm", SUPPRESS_FMT_ROWS);
	struct suppress_import im;
	struct suppress_row row = { 0 };
	struct result r;
	char *err;
	size_t err_len;
	FILE *ef = open_memstream(&err, &err_len);

	(void)state;
	assert_non_null(ef);
	o.err = ef;
	o.max_rows = 3;
	assert_int_equal(suppress_import_init(&im), 0);
	row.addr = SLICE_LIT("a@example.com");
	assert_int_equal(suppress_import_row(&im, &row), -EINVAL); /* not begun */
	assert_int_equal(suppress_import_begin(&im, &o), 0);
	assert_int_equal(suppress_import_begin(&im, &o), -EBUSY);
	assert_int_equal(suppress_import_feed(&im, "x", 1), -EINVAL);
	row = (struct suppress_row){ .addr = SLICE_LIT(" a@example.com "),
				     .optout = SLICE_LIT("2024-03-01"),
				     .scope = SLICE_LIT("sender:news.example.com"), .line = 1 };
	assert_int_equal(suppress_import_row(&im, &row), 0);
	row = (struct suppress_row){ .addr = SLICE_LIT("b@example.com"),
				     .optout = SLICE_LIT("@1709251200"),
				     .consent = SLICE_LIT("2024-05-01 12:00:00"), .line = 2 };
	assert_int_equal(suppress_import_row(&im, &row), 0);
	row = (struct suppress_row){ .addr = SLICE_LIT("b@example.com"), .line = 3 };
	assert_int_equal(suppress_import_row(&im, &row), 0); /* bad, not a failure */
	row = (struct suppress_row){ .addr = SLICE_LIT("c@example.com"),
				     .optout = SLICE_LIT("2024-03-01"), .line = 4 };
	assert_int_equal(suppress_import_row(&im, &row), 0);
	row.line = 5;
	assert_int_equal(suppress_import_row(&im, &row), -E2BIG);
	assert_int_equal(suppress_import_row(&im, &row), -E2BIG); /* and it stays failed */
	assert_int_equal(suppress_import_end(&im), -E2BIG);
	assert_int_equal(im.n_good, 3);
	assert_int_equal(im.n_bad, 1);
	fclose(ef);
	assert_string_equal(err, "sync:crm:3: missing opt-out date\n"
				 "sync:crm:5: more than 3 rows: split the file\n");
	free(err);
	suppress_import_fini(&im);

	/* Zero rows is an empty batch, not an error; the rows come out sorted and merged. */
	run("", opts("sync:crm", SUPPRESS_FMT_ROWS), &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.n, 0);
	result_free(&r);

	o = opts("sync:crm", SUPPRESS_FMT_ROWS);
	o.err = fopen("/dev/null", "w");
	assert_non_null(o.err);
	assert_int_equal(suppress_import_init(&im), 0);
	assert_int_equal(suppress_import_begin(&im, &o), 0);
	for (int i = 0; i < 3; i++) {
		row = (struct suppress_row){ .addr = SLICE_LIT("a@example.com"),
					     .optout = i == 1 ? SLICE_LIT("2024-01-01") :
								SLICE_LIT("2024-02-01"),
					     .line = (uint64_t)i + 1 };
		assert_int_equal(suppress_import_row(&im, &row), 0);
	}
	assert_int_equal(suppress_import_end(&im), 0);
	assert_int_equal(im.n, 1);
	assert_int_equal(im.v[0].rec.source_line, 2);
	assert_int_equal(im.v[0].rec.optout_time, utc(2024, 1, 1, 0, 0, 0));
	suppress_import_fini(&im);
	fclose(o.err);

	/* begin refuses unknown formats and delimiters */
	o = opts("t", (enum suppress_import_format)SUPPRESS_FMT__COUNT);
	fails("", o, -EINVAL, "t:0: unknown format 6\n");
}

/* ---- the sort on a batch big enough for many buckets ---- */

static void
test_sort_many(void **state)
{
	struct suppress_import_opts o = opts("big", SUPPRESS_FMT_ROWS);
	struct suppress_import im;
	const size_t n = 200000, distinct = 50000;
	struct result r = { 0 };
	static const char *const scopes[] = { "", "sender:a.example", "list:b.example" };

	(void)state;
	assert_int_equal(suppress_import_init(&im), 0);
	assert_int_equal(suppress_import_begin(&im, &o), 0);
	/* Row i is address i % distinct (in a scrambled order), so each address comes four
	 * times. */
	for (size_t i = 0; i < n; i++) {
		char addr[64], t[32];
		size_t a = (i % distinct) * 7919 % distinct;
		/* the fourth row of each of the first third is in a scope */
		const char *scope = a < distinct / 3 && i / distinct == 3 ? scopes[1 + a % 2] : "";
		struct suppress_row row = { .line = i + 1 };

		/* every tenth is a whole domain */
		if (a % 10 == 0)
			snprintf(addr, sizeof(addr), "@d%zu.example", a);
		else
			snprintf(addr, sizeof(addr), "user%zu@example.com", a);
		snprintf(t, sizeof(t), "@%zu", (size_t)1700000000 + i);
		row.addr = slice_from_cstr(addr);
		row.optout = slice_from_cstr(t);
		row.scope = slice_from_cstr(scope);
		assert_int_equal(suppress_import_row(&im, &row), 0);
	}
	assert_int_equal(suppress_import_end(&im), 0);
	r.n = im.n;
	r.v = im.v;
	check_sorted(&r);
	/* distinct (table, key), plus one scoped entry for each of the first third */
	assert_int_equal(im.n, distinct + distinct / 3);
	/* each merged record is the earliest opt-out of its (key, scope): the first row */
	for (size_t k = 0; k < im.n; k++)
		assert_int_equal(im.v[k].rec.optout_time,
				 (int64_t)1700000000 + im.v[k].rec.source_line - 1);
	suppress_import_fini(&im);
}

/* Fed cut at every step-th offset and at each one near `around`: the same as fed whole. */
static void
check_splits_sampled(const void *buf, size_t len, struct suppress_import_opts o, size_t step,
		     size_t around)
{
	const size_t lo = around - 3, hi = around + 3;
	struct result ref, r;
	size_t n_runs = 0;

	run_pieces(buf, len, o, NULL, 0, &ref);
	for (size_t cut = 0; cut <= len;) {
		run_pieces(buf, len, o, &cut, 1, &r);
		assert_same(&ref, &r);
		result_free(&r);
		n_runs++;
		if (cut >= lo && cut < hi)
			cut++;
		else if (cut < lo && cut + step > lo)
			cut = lo;
		else
			cut += step;
	}
	assert_true(n_runs >= hi - lo);
	result_free(&ref);
}

/* Inputs whose first line or leading white space outgrow what the sniffer holds. */
static void
test_sniff_bound(void **state)
{
	size_t cap = 3 * SUPPRESS_IMPORT_SNIFF_MAX, len = 0;
	char *buf = malloc(cap);
	struct result r;

	(void)state;
	assert_non_null(buf);
	/* a CSV header of 2000 columns, ';' guessed from its first 16 KiB */
	for (int i = 0; i < 2000; i++)
		len += (size_t)snprintf(buf + len, cap - len, "col%d;", i);
	len += (size_t)snprintf(buf + len, cap - len, "email;date\n");
	for (int i = 0; i < 2000; i++)
		len += (size_t)snprintf(buf + len, cap - len, ";");
	len += (size_t)snprintf(buf + len, cap - len, "a@x.example;2024-03-01\n");
	assert_true(len > SUPPRESS_IMPORT_SNIFF_MAX);
	for (int f = SUPPRESS_FMT_AUTO; f <= SUPPRESS_FMT_CSV; f++) {
		run_pieces(buf, len, opts("t", (enum suppress_import_format)f), NULL, 0, &r);
		assert_int_equal(r.rc, 0);
		assert_string_equal(r.err, "");
		check_entry(&r, "a@x.example", "", utc(2024, 3, 1, 0, 0, 0), 0, 2);
		result_free(&r);
		check_splits_sampled(buf, len, opts("t", (enum suppress_import_format)f), 997,
				     SUPPRESS_IMPORT_SNIFF_MAX);
	}

	/* white space past the bound: refused, not "empty" */
	memset(buf, '\n', SUPPRESS_IMPORT_SNIFF_MAX + 10);
	strcpy(buf + SUPPRESS_IMPORT_SNIFF_MAX + 10, "a@x.example\n");
	fails(buf, opts("t", SUPPRESS_FMT_AUTO), -EBADMSG,
	      "t:16385: cannot tell the format of the file: nothing but white space in its "
	      "first 16384 bytes\n");
	/* ... but a plain list with that much white space is read when it is said to be one */
	fails(buf, opts("t", SUPPRESS_FMT_PLAIN), 0, "");
	check_splits_sampled(buf, strlen(buf), opts("t", SUPPRESS_FMT_AUTO), 1009,
			     SUPPRESS_IMPORT_SNIFF_MAX);
	free(buf);
}

/* An XML document bigger than the blocks expat is given, with an error past the first one,
 * and a JSONL file with lines across them: cut anywhere, the same result. */
static void
test_big_inputs(void **state)
{
	size_t cap = 200000, len = 0;
	char *buf = malloc(cap);
	struct result r;

	(void)state;
	assert_non_null(buf);
	len += (size_t)snprintf(buf + len, cap - len, "<suppressions>\n");
	for (int i = 0; len < 150000; i++)
		len += (size_t)snprintf(buf + len, cap - len,
					"<entry email='u%d@example.com' optout='2024-03-01'%s/>\n",
					i, i % 400 == 399 ? " scope='bad'" : "");
	run_pieces(buf, len, opts("t", SUPPRESS_FMT_AUTO), NULL, 0, &r);
	assert_int_equal(r.rc, -EBADMSG); /* unfinished */
	assert_true(r.n_bad > 2);
	assert_true(r.n_good > 2000);
	assert_non_null(strstr(r.err, ": malformed XML: no element found\n"));
	result_free(&r);
	check_splits_sampled(buf, len, opts("t", SUPPRESS_FMT_AUTO), 7919, 65536);
	check_splits_sampled(buf, len, opts("t", SUPPRESS_FMT_XML), 7919, 131072);
	buf[70000] = '\x01'; /* not allowed in XML: fails in the second block */
	run_pieces(buf, len, opts("t", SUPPRESS_FMT_XML), NULL, 0, &r);
	assert_int_equal(r.rc, -EBADMSG);
	assert_non_null(strstr(r.err, ": malformed XML: not well-formed (invalid token)\n"));
	result_free(&r);
	check_splits_sampled(buf, len, opts("t", SUPPRESS_FMT_XML), 7919, 65536);

	len = 0;
	for (int i = 0; len < 150000; i++)
		len += (size_t)snprintf(buf + len, cap - len,
					"{\"email\":\"u%d@example.com\",\"optout\":%d}\r\n", i,
					1700000000 + i);
	check_splits_sampled(buf, len, opts("t", SUPPRESS_FMT_AUTO), 7919, 65536);
	free(buf);
}

/* ---- every input split at every offset ---- */

static void
test_split_every_offset(void **state)
{
	static const char *const fixtures[] = {
		"sample.csv", "sample_bad.csv", "sample.jsonl", "sample_bad.jsonl",
		"sample.xml", "sample_bad.xml", "sample.txt", "sample_bad.txt",
	};
	static const struct {
		enum suppress_import_format fmt;
		const char *input;
	} inline_inputs[] = {
		{ SUPPRESS_FMT_CSV,
		  "\xef\xbb\xbf" "email;optout_date;consent_date;note\r\n"
		  "a@x.example;2024-03-01;;\"multi\r\nline; \"\"quoted\"\"\"\r\n"
		  "bad;2024-03-01;;\r\n\r\n"
		  "\"b@x.example\";\"2024-03-01 10:00:00\";2024-04-01;\n"
		  "@y.example;2024-03-01T00:00:00Z;;\r"
		  "c@x.example;2099-01-01;;\n"
		  "a@x.example;2024-02-01;;" },
		/* fails in the middle: malformed quote on line 3 */
		{ SUPPRESS_FMT_AUTO,
		  "email,date\na@x.example,2024-03-01\nb@x.example,2024\"-03-01\n"
		  "c@x.example,2024-03-01\n" },
		{ SUPPRESS_FMT_AUTO,
		  "\xef\xbb\xbf\r\n{\"email\":\"a@x.example\",\"date\":1709251200}\r"
		  "{\"email\":\"b@x.example\"\r\n{\"email\":\"@y.example\","
		  "\"date\":\"2024-03-01\",\"scope\":\"list:z\"}" },
		{ SUPPRESS_FMT_AUTO, "\xef\xbb\xbf<?xml version='1.0'?>\r\n<suppressions>\r"
				     "<entry email='a@x.example' date='2024-03-01'/>\r\n"
				     "<entry><email>b@<![CDATA[x.example]]></email>"
				     "<date>2024-03-01</date><junk/></entry><!-- c -->\n"
				     "<entry>oops</entry></suppressions>\n" },
		{ SUPPRESS_FMT_XML,
		  "<suppressions>\n<entry email='a@x.example' date='2024-03-01'/>\n"
		  "<entry email='b@x.example' date='2024-03-01'>\n<x></y>\n" },
		{ SUPPRESS_FMT_XML, "<!DOCTYPE x [<!ENTITY a 'b'>]><suppressions/>" },
		{ SUPPRESS_FMT_AUTO,
		  "\xef\xbb\xbf# list\r\n<a@x.example>\r\nb@x.example 2024-01-01\r"
		  "bad\n@y.example # domain\n" },
		{ SUPPRESS_FMT_AUTO, "  \n\n  hello\n" },
		{ SUPPRESS_FMT_AUTO, "\xef\xbb\xbf \n" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		size_t len;
		char *buf = read_fixture(fixtures[i], &len);

		check_splits(buf, len, opts(fixtures[i], SUPPRESS_FMT_AUTO));
		free(buf);
	}
	for (size_t i = 0; i < sizeof(inline_inputs) / sizeof(inline_inputs[0]); i++) {
		const char *s = inline_inputs[i].input;

		check_splits(s, strlen(s), opts("t", inline_inputs[i].fmt));
	}
}

/* Inputs the fuzzer found, each with its format; split at every offset as above. */
static void
test_fuzz_regressions(void **state)
{
	static const struct {
		enum suppress_import_format fmt;
		const char *input;
		size_t len;
	} found[] = {
		/* expat called this "syntax error" whole and "invalid token" cut in two */
		{ SUPPRESS_FMT_XML, "\xd0\x00", 2 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(found) / sizeof(found[0]); i++)
		check_splits(found[i].input, found[i].len, opts("fuzz", found[i].fmt));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample_csv),
		cmocka_unit_test(test_sample_jsonl),
		cmocka_unit_test(test_sample_xml),
		cmocka_unit_test(test_sample_plain),
		cmocka_unit_test(test_auto_matches_fixtures),
		cmocka_unit_test(test_bad_csv),
		cmocka_unit_test(test_bad_jsonl),
		cmocka_unit_test(test_bad_xml),
		cmocka_unit_test(test_bad_plain),
		cmocka_unit_test(test_csv_rows),
		cmocka_unit_test(test_csv_delimiters),
		cmocka_unit_test(test_csv_file_errors),
		cmocka_unit_test(test_jsonl_rows),
		cmocka_unit_test(test_xml_rows),
		cmocka_unit_test(test_xml_file_errors),
		cmocka_unit_test(test_plain_rows),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_column_of),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_scope_merge),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_rows_api),
		cmocka_unit_test(test_sort_many),
		cmocka_unit_test(test_sniff_bound),
		cmocka_unit_test(test_big_inputs),
		cmocka_unit_test(test_split_every_offset),
		cmocka_unit_test(test_fuzz_regressions),
	};

	log_init("test_suppress_import", LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
