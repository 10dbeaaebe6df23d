/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the CSV import: files written by the test (BOM, CRLF, quoting, multi-line
 * fields, other delimiters and column names), the all-or-nothing rule (one bad row: nothing
 * written, not even the set's directory, and the FILE:LINE message), --skip-bad, file-level
 * failures, dates, merging of duplicate rows and with an existing set, and the parser fed in
 * two pieces split at every byte offset giving the same batch and messages.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "business_days.h"
#include "ipc.h"
#include "log.h"
#include "suppress_db.h"
#include "suppress_import.h"
#include "suppress_writer.h"
#include "test_tmpdir.h"

struct fixture {
	char root[64];  /* mkdtemp */
	char set[96];   /* root/set: created by the import */
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

static const int64_t NOW = 1735689600; /* 2025-01-01T00:00:00Z */

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (test_tmpdir_make(f->root, sizeof(f->root)) < 0) {
		free(f);
		return -1;
	}
	snprintf(f->set, sizeof(f->set), "%s/set", f->root);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	test_tmpdir_remove(f->root);
	free(f);
	return 0;
}

static struct suppress_import_opts
opts(void)
{
	return (struct suppress_import_opts){ .name = "t.csv", .now = NOW };
}

/* Run the import of csv (len bytes) into the fixture's set; *err gets what was reported. */
static int
import_len(struct fixture *f, const char *csv, size_t len, struct suppress_import_opts o,
	   struct suppress_import *im, char **err)
{
	size_t err_len;
	FILE *in, *ef;
	int rc;

	ef = open_memstream(err, &err_len);
	assert_non_null(ef);
	/* fmemopen() refuses a zero size: an empty file is /dev/null. */
	in = len > 0 ? fmemopen((void *)csv, len, "r") : fopen("/dev/null", "r");
	assert_non_null(in);
	o.err = ef;
	assert_int_equal(suppress_import_init(im), 0);
	rc = suppress_import_run(im, f->set, 0, in, &o);
	fclose(in);
	fclose(ef);
	return rc;
}

static int
import(struct fixture *f, const char *csv, struct suppress_import_opts o, uint64_t *n_good,
       uint64_t *n_bad, char **err)
{
	struct suppress_import im;
	int rc = import_len(f, csv, strlen(csv), o, &im, err);

	*n_good = im.n_good;
	*n_bad = im.n_bad;
	suppress_import_fini(&im);
	return rc;
}

/* Verdict of addr at now in the fixture's set, and the matched record's source line. */
static uint8_t
check(struct fixture *f, const char *addr, int64_t now, uint32_t *line)
{
	struct suppress_db *db = suppress_db_open(f->set, true);
	struct suppress_reader *r;
	struct suppress_verdict v;
	struct suppress_rec rec = { 0 };
	int rc;

	assert_non_null(db);
	r = suppress_reader_create(db);
	assert_non_null(r);
	rc = suppress_lookup_rec(r, slice_from_cstr(addr), now, &v, &rec);
	assert_true(rc >= 0);
	if (line != NULL)
		*line = rc == 1 ? rec.source_line : 0;
	suppress_reader_destroy(r);
	suppress_db_close(db);
	return v.verdict;
}

static void
test_good_file(void **state)
{
	struct fixture *f = *state;
	uint64_t good, bad;
	uint32_t line;
	char *err;
	/* BOM, CRLF, header names in another case, extra column, blank and empty rows. */
	const char *csv = "\xef\xbb\xbf" "Email,Unsubscribed_At,Consent_Date,notes\r\n"
			  "alice@example.com,2024-03-01,,\r\n"                       /* 2 */
			  "\"bob@example.com\",\"2024-03-01T10:00:00Z\",\"2024-04-01\",x\r\n"
			  "@Blocked.Example,2024-03-01 12:00:00,,\r\n"               /* 4 */
			  "\r\n"                                                     /* 5 */
			  ",,,\r\n"                                                  /* 6 */
			  "carol@example.com,2024-03-01,,note";                      /* 7 */

	assert_int_equal(import(f, csv, opts(), &good, &bad, &err), 0);
	assert_string_equal(err, "");
	free(err);
	assert_int_equal(good, 4);
	assert_int_equal(bad, 0);

	/* Fri 2024-03-01 + 10 business days = Fri 2024-03-15. */
	assert_int_equal(check(f, "alice@example.com", utc(2024, 3, 14, 0, 0, 0), &line),
			 IPC_SUPPRESS_GRACE);
	assert_int_equal(line, 2);
	assert_int_equal(check(f, "alice@example.com", utc(2024, 3, 15, 0, 0, 0), NULL),
			 IPC_SUPPRESS_VIOLATION);
	assert_int_equal(check(f, "bob@example.com", NOW, &line), IPC_SUPPRESS_NONE);
	assert_int_equal(line, 3);
	assert_int_equal(check(f, "anyone@blocked.example", utc(2024, 3, 15, 11, 0, 0), &line),
			 IPC_SUPPRESS_GRACE);
	assert_int_equal(line, 4);
	assert_int_equal(check(f, "carol@example.com", NOW, &line), IPC_SUPPRESS_VIOLATION);
	assert_int_equal(line, 7);
	assert_int_equal(check(f, "dave@example.com", NOW, &line), IPC_SUPPRESS_NONE);
	assert_int_equal(line, 0);
}

static void
test_quoting_and_columns(void **state)
{
	struct fixture *f = *state;
	struct suppress_import_opts o = opts();
	uint64_t good, bad;
	uint32_t line;
	char *err;
	/* ';' delimiter, own column names, quoted delimiters, doubled quotes, a note over
	 * three lines, a quoted address with spaces inside the quotes. */
	const char *csv = "id;Mail Address;when;note\n"
			  "1;\" dave@example.com \";2024-03-01;\"a; b\"\n"             /* 2 */
			  "2;erin@example.com;2024-03-01;\"he said \"\"hi\"\"\nand\nmore\"\n"
			  "3;frank@example.com;2024-03-01;\n";                        /* 6 */

	o.delimiter = ';';
	o.email_column = "mail address";
	o.date_column = "WHEN";
	assert_int_equal(import(f, csv, o, &good, &bad, &err), 0);
	assert_string_equal(err, "");
	free(err);
	assert_int_equal(good, 3);
	assert_int_equal(check(f, "dave@example.com", NOW, &line), IPC_SUPPRESS_VIOLATION);
	assert_int_equal(line, 2);
	assert_int_equal(check(f, "erin@example.com", NOW, &line), IPC_SUPPRESS_VIOLATION);
	assert_int_equal(line, 3);
	assert_int_equal(check(f, "frank@example.com", NOW, &line), IPC_SUPPRESS_VIOLATION);
	assert_int_equal(line, 6);
}

static const char *const one_bad_csv = "email,optout_date\n"
				       "good1@example.com,2024-03-01\n"
				       "nope,2024-03-01\n"
				       "good2@example.com,2024-03-01\n";

static void
test_bad_row_writes_nothing(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	uint64_t good, bad;
	char *err;

	/* No set yet: the refused import must not even create the directory. */
	assert_int_equal(import(f, one_bad_csv, opts(), &good, &bad, &err), -EBADMSG);
	assert_string_equal(err, "t.csv:3: bad address \"nope\": not an address\n"
				 "t.csv: 1 bad row(s): nothing imported (--skip-bad imports the "
				 "others)\n");
	free(err);
	assert_int_equal(good, 2);
	assert_int_equal(bad, 1);
	assert_int_equal(stat(f->set, &st), -1);

	/* With a set holding one record: still exactly that record afterwards. */
	assert_int_equal(import(f, "email,date\nold@example.com,2024-01-02\n", opts(), &good,
				&bad, &err), 0);
	free(err);
	assert_int_equal(import(f, one_bad_csv, opts(), &good, &bad, &err), -EBADMSG);
	free(err);
	assert_int_equal(check(f, "old@example.com", NOW, NULL), IPC_SUPPRESS_VIOLATION);
	assert_int_equal(check(f, "good1@example.com", NOW, NULL), IPC_SUPPRESS_NONE);
	assert_int_equal(check(f, "good2@example.com", NOW, NULL), IPC_SUPPRESS_NONE);
}

static void
test_skip_bad(void **state)
{
	struct fixture *f = *state;
	struct suppress_import_opts o = opts();
	uint64_t good, bad;
	char *err;

	o.skip_bad = true;
	assert_int_equal(import(f, one_bad_csv, o, &good, &bad, &err), 0);
	assert_string_equal(err, "t.csv:3: bad address \"nope\": not an address\n");
	free(err);
	assert_int_equal(good, 2);
	assert_int_equal(bad, 1);
	assert_int_equal(check(f, "good1@example.com", NOW, NULL), IPC_SUPPRESS_VIOLATION);
	assert_int_equal(check(f, "good2@example.com", NOW, NULL), IPC_SUPPRESS_VIOLATION);
}

/* Each row's reason, with its line. */
static void
test_row_reasons(void **state)
{
	struct fixture *f = *state;
	struct suppress_import_opts o = opts();
	uint64_t good, bad;
	char *err;
	const char *csv = "email,optout_date,consent_date\n"
			  ",2024-03-01,\n"                              /* 2 */
			  "a@example.com,,\n"                           /* 3 */
			  "b@example.com\n"                             /* 4 */
			  "c@example.com,01/03/2024,\n"                 /* 5 */
			  "d@example.com,2024-03-01T10:00:00,\n"        /* 6 */
			  "e@example.com,2024-02-30,\n"                 /* 7 */
			  "f@example.com,2025-01-03,\n"                 /* 8: > now + 1 day */
			  "g@example.com,1969-12-31,\n"                 /* 9 */
			  "h@example.com,2024-03-01,yesterday\n"        /* 10 */
			  "\"i j\"@x@y,2024-03-01,\n"                   /* 11: malformed */
			  "k@example.com,2025-01-01T12:00:00Z,\n";      /* 12: good (slack) */
	const char *want =
		"t.csv:2: missing address\n"
		"t.csv:3: missing opt-out date\n"
		"t.csv:4: missing opt-out date\n"
		"t.csv:5: bad opt-out date \"01/03/2024\": expected YYYY-MM-DD, "
		"YYYY-MM-DDTHH:MM:SSZ or \"YYYY-MM-DD HH:MM:SS\" (UTC)\n"
		"t.csv:6: bad opt-out date \"2024-03-01T10:00:00\": expected YYYY-MM-DD, "
		"YYYY-MM-DDTHH:MM:SSZ or \"YYYY-MM-DD HH:MM:SS\" (UTC)\n"
		"t.csv:7: bad opt-out date \"2024-02-30\": expected YYYY-MM-DD, "
		"YYYY-MM-DDTHH:MM:SSZ or \"YYYY-MM-DD HH:MM:SS\" (UTC)\n"
		"t.csv:8: bad opt-out date \"2025-01-03\": in the future\n"
		"t.csv:9: bad opt-out date \"1969-12-31\": before 1970\n"
		"t.csv:10: bad consent date \"yesterday\": expected YYYY-MM-DD, "
		"YYYY-MM-DDTHH:MM:SSZ or \"YYYY-MM-DD HH:MM:SS\" (UTC)\n";

	/* Line 11 is malformed CSV (a quote inside an unquoted field): the file fails there,
	 * after the rows before it were reported. */
	assert_int_equal(import(f, csv, o, &good, &bad, &err), -EBADMSG);
	assert_int_equal(strncmp(err, want, strlen(want)), 0);
	assert_non_null(strstr(err + strlen(want), "t.csv:11: malformed CSV"));
	free(err);

	/* Without line 11, skipping bad rows keeps only line 12. */
	char *cut = strdup(csv);
	char *l11 = strstr(cut, "\"i j\"");

	assert_non_null(cut);
	memmove(l11, strchr(l11, '\n') + 1, strlen(strchr(l11, '\n') + 1) + 1);
	o.skip_bad = true;
	assert_int_equal(import(f, cut, o, &good, &bad, &err), 0);
	free(err);
	free(cut);
	assert_int_equal(good, 1);
	assert_int_equal(bad, 9);
	/* k opted out at noon: at NOW (midnight) not yet, on the evening after it is in grace */
	assert_int_equal(check(f, "k@example.com", NOW, NULL), IPC_SUPPRESS_NONE);
	assert_int_equal(check(f, "k@example.com", NOW + 20 * 3600, NULL), IPC_SUPPRESS_GRACE);
}

static void
file_fails(struct fixture *f, const char *csv, struct suppress_import_opts o, int want_rc,
	   const char *want_err)
{
	uint64_t good, bad;
	struct stat st;
	char *err;

	assert_int_equal(import(f, csv, o, &good, &bad, &err), want_rc);
	if (strstr(err, want_err) == NULL)
		fail_msg("expected \"%s\" in \"%s\"", want_err, err);
	free(err);
	assert_int_equal(stat(f->set, &st), -1);
}

static void
test_file_errors(void **state)
{
	struct fixture *f = *state;
	struct suppress_import_opts o = opts();
	char *big;

	file_fails(f, "", o, -EBADMSG, "t.csv:1: empty file: no header row");
	file_fails(f, "\n\n", o, -EBADMSG, "t.csv:1: empty file: no header row");
	file_fails(f, "mail,optout_date\na@b.example,2024-01-02\n", o, -EBADMSG,
		   "t.csv:1: no address column in the header");
	file_fails(f, "email,when\na@b.example,2024-01-02\n", o, -EBADMSG,
		   "t.csv:1: no opt-out date column in the header");
	file_fails(f, "email,date\na@b.example,\"2024-01-02\n", o, -EBADMSG,
		   "malformed CSV");
	file_fails(f, "email,date\na@b.example,\"2024-01-02\"x\n", o, -EBADMSG,
		   "t.csv:2: malformed CSV");
	o.consent_column = "agreed";
	file_fails(f, "email,date\na@b.example,2024-01-02\n", o, -EBADMSG,
		   "t.csv:1: no consent column \"agreed\"");
	o = opts();
	o.email_column = "to";
	file_fails(f, "email,date\na@b.example,2024-01-02\n", o, -EBADMSG,
		   "t.csv:1: no address column \"to\"");
	o = opts();
	o.max_rows = 2;
	file_fails(f, "email,date\na@b.example,2024-01-02\nb@b.example,2024-01-02\n"
		      "c@b.example,2024-01-02\n", o, -E2BIG, "t.csv:4: more than 2 rows");
	o = opts();
	o.delimiter = '"';
	file_fails(f, "email,date\n", o, -EINVAL, "delimiter");

	/* A field over the bound, in a column we do not even use. */
	size_t n = SUPPRESS_IMPORT_FIELD_MAX + 10000;

	big = malloc(n + 64);
	assert_non_null(big);
	strcpy(big, "email,date,x\na@b.example,2024-01-02,\"");
	size_t off = strlen(big);

	memset(big + off, 'x', n);
	strcpy(big + off + n, "\"\n");
	file_fails(f, big, opts(), -EBADMSG, "t.csv:2: a field is longer than 65536 bytes");
	/* A long value of a needed column is a bad row, not a failure. */
	strcpy(big, "email,date\n");
	off = strlen(big);
	memset(big + off, 'a', 1000);
	strcpy(big + off + 1000, "@b.example,2024-01-02\n");
	file_fails(f, big, opts(), -EBADMSG, "t.csv:2: bad address: longer than 512 bytes");
	free(big);
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

	static const char *const bad[] = {
		"", "2024", "2024-3-01", "2024-03-1", "2023-02-29", "2024-00-10", "2024-13-10",
		"2024-04-31", "2024-03-01T24:00:00Z", "2024-03-01T10:60:00Z",
		"2024-03-01T10:00:60Z", "2024-03-01T10:00:00", "2024-03-01 10:00:00Z",
		"2024-03-01t10:00:00z", "2024-03-01X10:00:00Z", "+024-03-01", "2024-03-01T1:00:00Z",
		"２０２４-03-01",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(suppress_import_parse_time(slice_from_cstr(bad[i]), &t), -EINVAL);
	assert_int_equal(suppress_import_parse_time(slice_make("2024-03-01\0", 11), &t), -EINVAL);
	assert_int_equal(suppress_import_parse_time(slice_from_cstr("1969-12-31"), &t), -ERANGE);

	suppress_import_format_time(utc(2024, 3, 15, 7, 8, 9), buf);
	assert_string_equal(buf, "2024-03-15T07:08:09Z");
	suppress_import_format_time(-1, buf);
	assert_string_equal(buf, "1969-12-31T23:59:59Z");
	suppress_import_format_time(INT64_MIN, buf);
	assert_string_equal(buf, "@-9223372036854775808");
	suppress_import_format_time(BUSINESS_DAYS_T_MAX, buf);
	assert_string_equal(buf, "9999-12-31T23:59:59Z");
}

static void
test_merge_rows_and_set(void **state)
{
	struct fixture *f = *state;
	struct suppress_import im;
	uint64_t good, bad;
	uint32_t line;
	char *err;
	/* Opt-out Jan 2, consent Feb 1 (with its own opt-out row), opt-out again Mon Mar 4:
	 * the opt-out that counts is Mar 4 (grace to Mon Mar 18), line 4. */
	const char *csv = "email,optout_date,consent_date\n"
			  "m@example.com,2024-01-02,\n"
			  "m@example.com,2024-01-02,2024-02-01\n"
			  "m@example.com,2024-03-04,\n"
			  "n@example.com,2024-01-02,\n";

	assert_int_equal(import_len(f, csv, strlen(csv), opts(), &im, &err), 0);
	free(err);
	assert_int_equal(im.n_good, 4);
	assert_int_equal(im.n, 2); /* one record per key */
	assert_int_equal(im.n_written, 2);
	suppress_import_fini(&im);
	assert_int_equal(check(f, "m@example.com", utc(2024, 3, 15, 0, 0, 0), &line),
			 IPC_SUPPRESS_GRACE);
	assert_int_equal(line, 4);
	assert_int_equal(check(f, "m@example.com", utc(2024, 3, 18, 0, 0, 0), NULL),
			 IPC_SUPPRESS_VIOLATION);

	/* A second file into the now non-empty set (the merge path, not append): a later
	 * consent for n lifts it, m is unchanged, o is new. */
	assert_int_equal(import(f, "email,optout_date,consent_date\n"
				   "n@example.com,2024-01-02,2024-06-01\n"
				   "o@example.com,2024-01-02,\n", opts(), &good, &bad, &err), 0);
	free(err);
	assert_int_equal(check(f, "n@example.com", NOW, NULL), IPC_SUPPRESS_NONE);
	assert_int_equal(check(f, "o@example.com", NOW, NULL), IPC_SUPPRESS_VIOLATION);
	assert_int_equal(check(f, "m@example.com", NOW, &line), IPC_SUPPRESS_VIOLATION);
	assert_int_equal(line, 4);
	/* Importing the same file again changes nothing. */
	assert_int_equal(import_len(f, csv, strlen(csv), opts(), &im, &err), 0);
	free(err);
	suppress_import_fini(&im);
	assert_int_equal(check(f, "m@example.com", utc(2024, 3, 15, 0, 0, 0), &line),
			 IPC_SUPPRESS_GRACE);
	assert_int_equal(line, 4);
}

/* Parse buf fed as the given pieces; returns the report text (caller frees). */
static char *
parse_pieces(const char *buf, size_t len, const size_t *cuts, size_t n_cuts,
	     struct suppress_import *im, int *rc)
{
	struct suppress_import_opts o = opts();
	char *err;
	size_t err_len, at = 0;
	FILE *ef = open_memstream(&err, &err_len);

	assert_non_null(ef);
	o.err = ef;
	o.skip_bad = true;
	assert_int_equal(suppress_import_init(im), 0);
	assert_int_equal(suppress_import_begin(im, &o), 0);
	for (size_t i = 0; i <= n_cuts; i++) {
		size_t end = i < n_cuts ? cuts[i] : len;

		suppress_import_feed(im, buf + at, end - at);
		at = end;
	}
	*rc = suppress_import_end(im);
	fclose(ef);
	return err;
}

static void
same_result(const char *buf, size_t len, const size_t *cuts, size_t n_cuts,
	    const struct suppress_import *ref, int ref_rc, const char *ref_err)
{
	struct suppress_import im;
	int rc;
	char *err = parse_pieces(buf, len, cuts, n_cuts, &im, &rc);

	assert_int_equal(rc, ref_rc);
	assert_string_equal(err, ref_err);
	assert_int_equal(im.n_good, ref->n_good);
	assert_int_equal(im.n_bad, ref->n_bad);
	assert_int_equal(im.n, ref->n);
	if (im.n > 0)
		assert_memory_equal(im.v, ref->v, im.n * sizeof(im.v[0]));
	free(err);
	suppress_import_fini(&im);
}

static void
test_split_every_offset(void **state)
{
	static const char *const inputs[] = {
		"\xef\xbb\xbf" "email,optout_date,consent_date,note\r\n"
		"a@x.example,2024-03-01,,\"multi\r\nline, \"\"quoted\"\"\"\r\n"
		"bad,2024-03-01,,\r\n"
		"\r\n"
		"\"b@x.example\",\"2024-03-01 10:00:00\",2024-04-01,\n"
		"@y.example,2024-03-01T00:00:00Z,,\r"
		"c@x.example,2099-01-01,,\n"
		"a@x.example,2024-02-01,,",
		/* Fails in the middle: malformed quote on line 3. */
		"email,date\na@x.example,2024-03-01\nb@x.example,2024\"-03-01\nc@x.example,"
		"2024-03-01\n",
	};

	(void)state;
	for (size_t k = 0; k < sizeof(inputs) / sizeof(inputs[0]); k++) {
		const char *buf = inputs[k];
		size_t len = strlen(buf);
		struct suppress_import ref;
		int ref_rc;
		char *ref_err = parse_pieces(buf, len, NULL, 0, &ref, &ref_rc);

		if (k == 0) {
			assert_int_equal(ref_rc, 0);
			assert_int_equal(ref.n_good, 4);
			assert_int_equal(ref.n_bad, 2);
			assert_int_equal(ref.n, 3);
			assert_string_equal(ref_err,
					    "t.csv:4: bad address \"bad\": not an address\n"
					    "t.csv:8: bad opt-out date \"2099-01-01\": in the "
					    "future\n");
		} else {
			assert_int_equal(ref_rc, -EBADMSG);
			assert_non_null(strstr(ref_err, "t.csv:3: malformed CSV"));
		}
		for (size_t cut = 0; cut <= len; cut++)
			same_result(buf, len, &cut, 1, &ref, ref_rc, ref_err);
		/* One byte at a time. */
		size_t *all = malloc(len * sizeof(*all));

		assert_non_null(all);
		for (size_t i = 0; i < len; i++)
			all[i] = i;
		same_result(buf, len, all, len, &ref, ref_rc, ref_err);
		free(all);
		free(ref_err);
		suppress_import_fini(&ref);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quoting_and_columns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_row_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skip_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_row_reasons, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
		cmocka_unit_test(test_times),
		cmocka_unit_test_setup_teardown(test_merge_rows_and_set, setup, teardown),
		cmocka_unit_test(test_split_every_offset),
	};

	log_init("test_suppress_import", LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
