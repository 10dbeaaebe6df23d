/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CSV opt-out list import. libcsv does the quoting; we feed it one physical line at a time
 * (each piece ends at a CR or LF) so that we know the line a record starts on, which libcsv
 * does not track, even when a quoted field spans lines. Only the three columns we need are
 * copied out of each record, into fixed buffers. Good rows become keyed records in one array
 * that is sorted and merged per key before anything touches the database. posternctl only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <csv.h>

#include "business_days.h"
#include "log.h"
#include "suppress_import.h"

#define FIELD_KEEP 512 /* longest value of a needed column we look at */
#define READ_CHUNK 65536

static const char *const email_names[] = { "email", "address", "e-mail", "recipient", NULL };
static const char *const date_names[] = { "optout_date", "opt_out", "date", "unsubscribed_at",
					  NULL };
static const char *const consent_names[] = { "consent_date", NULL };

struct field {
	char buf[FIELD_KEEP];
	size_t len;
	bool seen;
	bool too_long;
};

struct suppress_import_ctx {
	struct suppress_import *im;
	const struct suppress_import_opts *o;
	FILE *err;
	const char *name;
	unsigned char delim;
	uint64_t max_rows;
	uint64_t line;        /* physical line being read, from 1 */
	uint64_t rec_line;    /* line the current record started on */
	bool rec_started;
	bool last_cr;
	bool have_header;
	long email_col, date_col, consent_col; /* -1: not (yet) found */
	size_t col;           /* index of the next field of the current record */
	bool row_nonempty;    /* some field of the current record has a value */
	struct field email, date, consent;
	int fatal;            /* first file-level error */
	struct csv_parser csv;
};

static void report(struct suppress_import_ctx *c, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
report(struct suppress_import_ctx *c, uint64_t line, const char *fmt, ...)
{
	va_list ap;

	fprintf(c->err, "%s:%" PRIu64 ": ", c->name, line);
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fputc('\n', c->err);
}

/* A value fit for a one-line message: at most 64 bytes, non-printables escaped. */
static const char *
printable(const char *s, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (i == 64) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '"')
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
	}
	out[o] = '\0';
	return out;
}

static bool
parse_digits(const uint8_t *p, size_t n, unsigned *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		*v = *v * 10 + (unsigned)(p[i] - '0');
	}
	return true;
}

int
suppress_import_parse_time(struct slice s, int64_t *t)
{
	unsigned y, mo, d, h = 0, mi = 0, sec = 0;
	const uint8_t *p;

	s = slice_trim(s);
	p = s.ptr;
	if (s.len != 10 && s.len != 19 && s.len != 20)
		return -EINVAL;
	if (!parse_digits(p, 4, &y) || p[4] != '-' || !parse_digits(p + 5, 2, &mo) ||
	    p[7] != '-' || !parse_digits(p + 8, 2, &d))
		return -EINVAL;
	if (s.len > 10) {
		/* "YYYY-MM-DD HH:MM:SS" or "YYYY-MM-DDTHH:MM:SSZ", nothing in between. */
		bool space_form = s.len == 19 && p[10] == ' ';
		bool iso_form = s.len == 20 && p[10] == 'T' && p[19] == 'Z';

		if (!space_form && !iso_form)
			return -EINVAL;
		if (!parse_digits(p + 11, 2, &h) || p[13] != ':' || !parse_digits(p + 14, 2, &mi) ||
		    p[16] != ':' || !parse_digits(p + 17, 2, &sec))
			return -EINVAL;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > business_days_in_month(y, mo) || h > 23 ||
	    mi > 59 || sec > 59)
		return -EINVAL;
	if (y < 1970)
		return -ERANGE;
	*t = business_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

void
suppress_import_format_time(int64_t t, char buf[SUPPRESS_TIME_STR])
{
	int64_t days, secs, y;
	unsigned mo, d;

	if (t < BUSINESS_DAYS_T_MIN || t > BUSINESS_DAYS_T_MAX) {
		snprintf(buf, SUPPRESS_TIME_STR, "@%" PRId64, t);
		return;
	}
	days = t / 86400 - (t % 86400 < 0);
	secs = t - days * 86400;
	business_days_to_civil(days, &y, &mo, &d);
	/* The moduli only tell the compiler the widths (all values are already in range). */
	snprintf(buf, SUPPRESS_TIME_STR, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)y % 10000u,
		 mo % 13u, d % 32u, (unsigned)(secs / 3600) % 24u, (unsigned)(secs / 60) % 60u,
		 (unsigned)secs % 60u);
}

int
suppress_import_init(struct suppress_import *im)
{
	memset(im, 0, sizeof(*im));
	return addr_hasher_init(&im->hasher);
}

static void ctx_free(struct suppress_import *im);

void
suppress_import_fini(struct suppress_import *im)
{
	ctx_free(im);
	free(im->v);
	im->v = NULL;
	im->n = 0;
	im->cap = 0;
	addr_hasher_fini(&im->hasher);
}

static void
fatal(struct suppress_import_ctx *c, int err)
{
	if (c->fatal == 0)
		c->fatal = err;
}

static bool
name_matches(struct slice name, const char *want, const char *const *defaults)
{
	if (want != NULL)
		return slice_eq_nocase(name, want);
	for (size_t i = 0; defaults[i] != NULL; i++)
		if (slice_eq_nocase(name, defaults[i]))
			return true;
	return false;
}

static void
header_field(struct suppress_import_ctx *c, struct slice name)
{
	long col = (long)c->col;

	if (c->col == 0 && name.len >= 3 && memcmp(name.ptr, "\xef\xbb\xbf", 3) == 0)
		name = slice_make(name.ptr + 3, name.len - 3);
	name = slice_trim(name);
	if (c->email_col < 0 && name_matches(name, c->o->email_column, email_names))
		c->email_col = col;
	else if (c->date_col < 0 && name_matches(name, c->o->date_column, date_names))
		c->date_col = col;
	else if (c->consent_col < 0 && name_matches(name, c->o->consent_column, consent_names))
		c->consent_col = col;
}

static void
header_end(struct suppress_import_ctx *c, uint64_t line)
{
	if (c->email_col < 0) {
		if (c->o->email_column != NULL)
			report(c, line, "no address column \"%s\" in the header",
			       c->o->email_column);
		else
			report(c, line, "no address column in the header (looked for email, "
					"address, e-mail, recipient; see --email-column)");
		fatal(c, -EBADMSG);
	}
	if (c->date_col < 0) {
		if (c->o->date_column != NULL)
			report(c, line, "no date column \"%s\" in the header", c->o->date_column);
		else
			report(c, line, "no opt-out date column in the header (looked for "
					"optout_date, opt_out, date, unsubscribed_at; see "
					"--date-column)");
		fatal(c, -EBADMSG);
	}
	if (c->consent_col < 0 && c->o->consent_column != NULL) {
		report(c, line, "no consent column \"%s\" in the header", c->o->consent_column);
		fatal(c, -EBADMSG);
	}
	c->have_header = true;
}

static void
keep_field(struct field *f, const void *s, size_t len)
{
	f->seen = true;
	if (len > sizeof(f->buf)) {
		f->too_long = true;
		return;
	}
	memcpy(f->buf, s, len);
	f->len = len;
}

static void
on_field(void *s, size_t len, void *data)
{
	struct suppress_import_ctx *c = data;

	if (c->fatal)
		return;
	if (s == NULL)
		len = 0;
	if (len > 0)
		c->row_nonempty = true;
	if (!c->have_header)
		header_field(c, slice_make(s, len));
	else if ((long)c->col == c->email_col)
		keep_field(&c->email, s, len);
	else if ((long)c->col == c->date_col)
		keep_field(&c->date, s, len);
	else if ((long)c->col == c->consent_col)
		keep_field(&c->consent, s, len);
	c->col++;
}

static struct slice
field_slice(const struct field *f)
{
	return slice_trim(slice_make(f->buf, f->len));
}

/* A time column of a row: 0 and *t, 1 when empty, or -1 after reporting it bad. */
static int
row_time(struct suppress_import_ctx *c, uint64_t line, const struct field *f, const char *what,
	 int64_t *t)
{
	char pv[300];
	struct slice s = field_slice(f);
	int rc;

	if (!f->seen || (s.len == 0 && !f->too_long))
		return 1;
	if (f->too_long) {
		report(c, line, "bad %s: longer than %d bytes", what, FIELD_KEEP);
		return -1;
	}
	rc = suppress_import_parse_time(s, t);
	if (rc == -ERANGE) {
		report(c, line, "bad %s \"%s\": before 1970", what,
		       printable((const char *)s.ptr, s.len, pv, sizeof(pv)));
		return -1;
	}
	if (rc < 0) {
		report(c, line,
		       "bad %s \"%s\": expected YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or "
		       "\"YYYY-MM-DD HH:MM:SS\" (UTC)",
		       what, printable((const char *)s.ptr, s.len, pv, sizeof(pv)));
		return -1;
	}
	if (*t > c->o->now + SUPPRESS_IMPORT_FUTURE_SLACK) {
		report(c, line, "bad %s \"%s\": in the future", what,
		       printable((const char *)s.ptr, s.len, pv, sizeof(pv)));
		return -1;
	}
	return 0;
}

static int
push_entry(struct suppress_import_ctx *c, uint64_t line, const struct suppress_import_entry *e)
{
	struct suppress_import *im = c->im;

	if (im->n >= c->max_rows) {
		report(c, line, "more than %" PRIu64 " rows: split the file", c->max_rows);
		return -E2BIG;
	}
	if (im->n == im->cap) {
		size_t cap = im->cap ? im->cap * 2 : 1024;
		void *v;

		if (cap > c->max_rows)
			cap = (size_t)c->max_rows;
		v = realloc(im->v, cap * sizeof(*im->v));
		if (v == NULL) {
			report(c, line, "out of memory");
			return -ENOMEM;
		}
		im->v = v;
		im->cap = cap;
	}
	im->v[im->n++] = *e;
	return 0;
}

static void
handle_row(struct suppress_import_ctx *c, uint64_t line)
{
	struct suppress_import_entry e;
	struct slice addr = field_slice(&c->email);
	enum suppress_table table;
	char pv[300];
	int64_t optout = 0, consent = 0;
	int rc;

	memset(&e, 0, sizeof(e));
	if (!c->email.seen || (addr.len == 0 && !c->email.too_long)) {
		report(c, line, "missing address");
		goto bad;
	}
	if (c->email.too_long) {
		report(c, line, "bad address: longer than %d bytes", FIELD_KEEP);
		goto bad;
	}
	rc = suppress_key(&c->im->hasher, c->o->norm_flags, addr, &table, e.key, NULL, 0);
	if (rc == -ENOMEM) {
		report(c, line, "out of memory");
		fatal(c, rc);
		return;
	}
	if (rc < 0) {
		report(c, line, "bad address \"%s\": %s",
		       printable((const char *)addr.ptr, addr.len, pv, sizeof(pv)),
		       rc == -ENAMETOOLONG ? "too long" : "not an address");
		goto bad;
	}

	rc = row_time(c, line, &c->date, "opt-out date", &optout);
	if (rc == 1) {
		report(c, line, "missing opt-out date");
		goto bad;
	}
	if (rc < 0)
		goto bad;
	if (row_time(c, line, &c->consent, "consent date", &consent) < 0)
		goto bad;

	e.table = (uint8_t)table;
	e.rec.version = SUPPRESS_REC_VERSION;
	e.rec.scope = SUPPRESS_SCOPE_ALL;
	e.rec.source_line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
	e.rec.optout_time = optout;
	e.rec.grace_end = business_days_add(optout, SUPPRESS_GRACE_BUSINESS_DAYS);
	e.rec.consent_time = consent;
	if (e.rec.grace_end == INT64_MIN) {
		report(c, line, "bad opt-out date: its grace period ends after year 9999");
		goto bad;
	}
	rc = push_entry(c, line, &e);
	if (rc < 0) {
		fatal(c, rc);
		return;
	}
	c->im->n_good++;
	return;
bad:
	c->im->n_bad++;
}

static void
on_row(int term, void *data)
{
	struct suppress_import_ctx *c = data;
	uint64_t line = c->rec_started ? c->rec_line : c->line;

	(void)term;
	if (c->fatal == 0) {
		/* Rows of empty fields (",,," as spreadsheets export) carry nothing. */
		if (!c->have_header)
			header_end(c, line);
		else if (c->row_nonempty)
			handle_row(c, line);
	}
	c->col = 0;
	c->row_nonempty = false;
	memset(&c->email, 0, sizeof(c->email));
	memset(&c->date, 0, sizeof(c->date));
	memset(&c->consent, 0, sizeof(c->consent));
	c->rec_started = false;
}

/* libcsv's buffer for one field: refuse to grow it past the bound. */
static void *
bounded_realloc(void *p, size_t n)
{
	if (n > SUPPRESS_IMPORT_FIELD_MAX + 4096)
		return NULL;
	return realloc(p, n);
}

static void
csv_failed(struct suppress_import_ctx *c)
{
	int e = csv_error(&c->csv);

	if (e == CSV_EPARSE)
		report(c, c->line, "malformed CSV: a quote inside an unquoted field, text after "
				   "a closing quote, or an unterminated quoted field");
	else if (e == CSV_ENOMEM || e == CSV_ETOOBIG)
		report(c, c->line, "a field is longer than %u bytes", SUPPRESS_IMPORT_FIELD_MAX);
	else
		report(c, c->line, "CSV error: %s", csv_strerror(e));
	fatal(c, e == CSV_EPARSE || e == CSV_ENOMEM || e == CSV_ETOOBIG ? -EBADMSG : -EIO);
}

static void
feed_csv(struct suppress_import_ctx *c, const uint8_t *b, size_t n)
{
	if (n == 0 || c->fatal)
		return;
	if (csv_parse(&c->csv, b, n, on_field, on_row, c) != n)
		csv_failed(c);
}

/* Feed a buffer in pieces that end at CR or LF, counting lines (CRLF, LF or CR alone). */
static void
feed(struct suppress_import_ctx *c, const uint8_t *b, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i < n && !c->fatal; i++) {
		uint8_t ch = b[i];

		if (ch != '\r' && ch != '\n') {
			bool blank = (ch == ' ' || ch == '\t') && ch != c->delim;

			if (!c->rec_started && !blank) {
				c->rec_started = true;
				c->rec_line = c->line;
			}
			c->last_cr = false;
			continue;
		}
		feed_csv(c, b + start, i + 1 - start);
		start = i + 1;
		if (ch == '\r' || !c->last_cr)
			c->line++;
		c->last_cr = ch == '\r';
	}
	feed_csv(c, b + start, n - start);
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct suppress_import_entry *x = a, *y = b;

	if (x->table != y->table)
		return x->table < y->table ? -1 : 1;
	return memcmp(x->key, y->key, SUPPRESS_KEY_LEN);
}

/* Sort, then merge the records of each key into one (suppress_rec_merge). */
static void
sort_merge(struct suppress_import *im)
{
	size_t w = 0;

	if (im->n == 0)
		return;
	qsort(im->v, im->n, sizeof(*im->v), entry_cmp);
	for (size_t i = 0; i < im->n;) {
		size_t j = i + 1;

		while (j < im->n && entry_cmp(&im->v[i], &im->v[j]) == 0)
			j++;
		if (j - i > 1) {
			struct suppress_rec m;

			suppress_rec_merge(&m, &im->v[i].rec, j - i, sizeof(im->v[0]));
			im->v[i].rec = m;
		}
		if (w != i)
			im->v[w] = im->v[i];
		w++;
		i = j;
	}
	im->n = w;
}

int
suppress_import_begin(struct suppress_import *im, const struct suppress_import_opts *o)
{
	struct suppress_import_ctx *c;

	if (im->ctx != NULL)
		return -EBUSY;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	*c = (struct suppress_import_ctx){
		.im = im,
		.o = o,
		.err = o->err != NULL ? o->err : stderr,
		.name = o->name != NULL ? o->name : "-",
		.delim = o->delimiter != 0 ? (unsigned char)o->delimiter : ',',
		.max_rows = o->max_rows != 0 ? o->max_rows : SUPPRESS_IMPORT_MAX_ROWS,
		.line = 1,
		.email_col = -1,
		.date_col = -1,
		.consent_col = -1,
	};
	if (c->delim == '"' || c->delim == '\r' || c->delim == '\n') {
		report(c, 0, "the delimiter cannot be a quote or a line end");
		free(c);
		return -EINVAL;
	}
	if (csv_init(&c->csv, CSV_STRICT | CSV_STRICT_FINI) != 0) {
		free(c);
		return -ENOMEM;
	}
	csv_set_delim(&c->csv, c->delim);
	csv_set_realloc_func(&c->csv, bounded_realloc);
	csv_set_blk_size(&c->csv, 4096);
	im->ctx = c;
	return 0;
}

int
suppress_import_feed(struct suppress_import *im, const void *buf, size_t len)
{
	struct suppress_import_ctx *c = im->ctx;

	if (c == NULL)
		return -EINVAL;
	if (!c->fatal)
		feed(c, buf, len);
	return c->fatal;
}

static void
ctx_free(struct suppress_import *im)
{
	struct suppress_import_ctx *c = im->ctx;

	if (c != NULL) {
		csv_free(&c->csv);
		free(c);
		im->ctx = NULL;
	}
}

int
suppress_import_end(struct suppress_import *im)
{
	struct suppress_import_ctx *c = im->ctx;
	int rc;

	if (c == NULL)
		return -EINVAL;
	if (!c->fatal && csv_fini(&c->csv, on_field, on_row, c) != 0)
		csv_failed(c);
	if (!c->fatal && !c->have_header) {
		report(c, 1, "empty file: no header row");
		fatal(c, -EBADMSG);
	}
	rc = c->fatal;
	ctx_free(im);
	if (rc < 0)
		return rc;
	sort_merge(im);
	return 0;
}

int
suppress_import_parse(struct suppress_import *im, FILE *in,
		      const struct suppress_import_opts *o)
{
	uint8_t *buf;
	size_t n;
	int rc;

	buf = malloc(READ_CHUNK);
	if (buf == NULL)
		return -ENOMEM;
	rc = suppress_import_begin(im, o);
	if (rc < 0)
		goto free_buf;
	while (rc == 0 && (n = fread(buf, 1, READ_CHUNK, in)) > 0)
		rc = suppress_import_feed(im, buf, n);
	if (rc == 0 && ferror(in)) {
		struct suppress_import_ctx *c = im->ctx;

		report(c, c->line, "read error");
		fatal(c, -EIO);
	}
	rc = suppress_import_end(im);
free_buf:
	free(buf);
	return rc;
}

int
suppress_import_write(struct suppress_import *im, struct suppress_db *db)
{
	size_t i = 0;
	int rc;

	im->n_written = 0;
	rc = suppress_write_begin(db);
	if (rc < 0)
		return rc;
	for (int ti = SUPPRESS_TABLE_ADDR; ti <= SUPPRESS_TABLE_DOMAIN; ti++) {
		enum suppress_table t = (enum suppress_table)ti;
		uint64_t existing;

		rc = suppress_write_count(db, t, &existing);
		if (rc < 0)
			goto abort;
		for (; i < im->n && im->v[i].table == t; i++) {
			const struct suppress_import_entry *e = &im->v[i];
			struct suppress_rec pair[2], m;

			/* A fresh table gets the sorted keys appended: no page splits,
			 * full pages. Otherwise each key is merged with what is there. */
			if (existing == 0) {
				rc = suppress_write_append(db, t, e->key, &e->rec);
			} else {
				rc = suppress_write_get(db, t, e->key, &pair[0]);
				if (rc == -EBADMSG)
					log_warn("replacing a record of an unknown format");
				if (rc == 0) {
					pair[1] = e->rec;
					suppress_rec_merge(&m, pair, 2, sizeof(pair[0]));
				} else if (rc == -ENOENT || rc == -EBADMSG) {
					m = e->rec;
				} else {
					goto abort;
				}
				rc = suppress_write_put(db, t, e->key, &m);
			}
			if (rc < 0)
				goto abort;
		}
	}
	rc = suppress_write_commit(db);
	if (rc < 0)
		return rc;
	im->n_written = im->n;
	return 0;

abort:
	suppress_write_abort(db);
	return rc;
}

int
suppress_import_mkdirs(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0750) != 0 && errno != EEXIST)
			return -errno;
		buf[i] = path[i];
	}
	return 0;
}

int
suppress_import_run(struct suppress_import *im, const char *path, uint64_t map_size,
		    FILE *in, const struct suppress_import_opts *o)
{
	struct suppress_import_opts opts = *o;
	FILE *err = o->err != NULL ? o->err : stderr;
	struct suppress_db *db;
	int rc;

	rc = suppress_db_peek_norm_flags(path, &opts.norm_flags);
	if (rc == -ENOENT)
		opts.norm_flags = 0;
	else if (rc < 0)
		return rc;

	/* Parse before touching the set: no writer lock held while reading a big file, and
	 * nothing created when the file is refused. */
	rc = suppress_import_parse(im, in, &opts);
	if (rc < 0)
		return rc;
	if (im->n_bad > 0 && !o->skip_bad) {
		fprintf(err, "%s: %" PRIu64 " bad row(s): nothing imported (--skip-bad imports the "
			     "others)\n", o->name != NULL ? o->name : "-", im->n_bad);
		return -EBADMSG;
	}

	rc = suppress_import_mkdirs(path);
	if (rc < 0) {
		fprintf(err, "%s: cannot create: %s\n", path, strerror(-rc));
		return rc;
	}
	db = suppress_writer_open(path, map_size, opts.norm_flags);
	if (db == NULL)
		return -errno;
	if (suppress_db_norm_flags(db) != opts.norm_flags) {
		fprintf(err, "%s: the set was created meanwhile with other normalization flags: "
			     "run the import again\n", path);
		rc = -ESTALE;
	} else {
		rc = suppress_import_write(im, db);
	}
	suppress_db_close(db);
	return rc;
}
