/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Opt-out list parsing: four readers (CSV through libcsv, JSON Lines through jansson, XML
 * through expat, plain lines), a sniffer that holds the first bytes back until it can tell
 * which one to use, and suppress_import_row(), which every reader calls so that what makes a
 * row good is decided in one place. Each reader is resumable: it keeps its state between
 * feeds (libcsv does so itself; the line readers copy a line only when it crosses a feed;
 * expat is given the stream in blocks at fixed offsets, since its diagnostics depend on where
 * its input is cut), so the result never depends on where the input was split. Good rows go
 * into one array that end() sorts (buckets on the leading key bits, then a short sort per
 * bucket) and merges per (key, scope). It does not write the set (suppress_load.c does) and
 * does not compute grace periods. posternctl only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <csv.h>
#include <expat.h>
#include <jansson.h>

#include "business_days.h"
#include "log.h"
#include "suppress_import.h"

#define FIELD_KEEP (SUPPRESS_IMPORT_VALUE_MAX + 1) /* one more: the row is told it is too long */
#define READ_CHUNK 65536
#define XML_BLOCK 65536 /* expat gets the stream in blocks at fixed offsets (see xml_push) */
#define REASON_MAX 200

static const char *const addr_names[] = { "email", "address", "e-mail", "recipient", NULL };
static const char *const optout_names[] = { "optout_date", "opt_out", "optout", "date",
					    "unsubscribed_at", NULL };
static const char *const consent_names[] = { "consent_date", "consent", NULL };
static const char *const scope_names[] = { "scope", NULL };

/* A column's name in messages. */
static const char *const col_what[SUPPRESS_COL__COUNT] = {
	[SUPPRESS_COL_ADDR] = "address",
	[SUPPRESS_COL_OPTOUT] = "opt-out date",
	[SUPPRESS_COL_CONSENT] = "consent date",
	[SUPPRESS_COL_SCOPE] = "scope",
};

/* The kept value of one column of the row being read. */
struct field {
	uint8_t buf[FIELD_KEEP];
	size_t len;
	bool seen;
};

/* Lines for JSONL and plain text: a line is handled in place when it lies within one feed,
 * copied into buf only when it crosses into the next one. */
struct line_reader {
	uint8_t *buf;          /* SUPPRESS_IMPORT_LINE_MAX bytes, allocated when first needed */
	size_t len;
	uint64_t line;         /* number of the line being read, from 1 */
	bool last_cr;          /* the previous byte was a CR (so a LF now ends nothing) */
	bool too_long;         /* the line outgrew the buffer: skip to its end */
};

struct csv_state {
	struct csv_parser p;
	bool inited;
	unsigned char delim;
	uint64_t line;         /* physical line being read, from 1 */
	uint64_t rec_line;     /* line the current record started on */
	bool rec_started;
	bool last_cr;
	bool have_header;
	bool first_field;      /* the next field is the file's first (it may carry the BOM) */
	long col[SUPPRESS_COL__COUNT]; /* index of each column, -1: absent */
	size_t field_i;        /* index of the next field of the current record */
	bool row_nonempty;     /* some field of the current record has a value */
	struct field f[SUPPRESS_COL__COUNT];
};

/*
 * What the XML pre-lexer is in. It only finds where markup (tags, comments, processing
 * instructions, declarations) starts and ends, to bound it: expat holds an unfinished token
 * in memory whole, so without this a 1 GB attribute would be read into memory.
 */
enum xlex {
	XL_TEXT,       /* character data */
	XL_LT,         /* after '<' */
	XL_BANG,       /* after "<!": a comment, CDATA or a declaration */
	XL_TAG,        /* start or end tag; quote tracks attribute values */
	XL_COMMENT,    /* until "-->" */
	XL_PI,         /* until "?>" */
	XL_DECL,       /* until '>' (a DOCTYPE: refused by the parser anyway) */
	XL_CDATA,      /* until "]]>"; streamed by expat, not bounded */
};

struct xml_state {
	XML_Parser p;
	uint8_t *block;        /* XML_BLOCK bytes: the block being filled */
	size_t block_len;
	unsigned depth;        /* open elements */
	unsigned skip_depth;   /* > 0: inside an element whose content is ignored, at this depth */
	bool in_entry;
	int child_col;         /* column of the child element of <entry> being read, -1 */
	uint64_t entry_line;
	struct field f[SUPPRESS_COL__COUNT];
	char bad[REASON_MAX];  /* first reason the current entry is bad, "" */
	/* pre-lexer */
	enum xlex lex;
	uint8_t quote;         /* in XL_TAG: the quote of the attribute value we are in, 0 */
	uint8_t bang[8];       /* bytes after "<!" until a comment or CDATA is told apart */
	size_t bang_len;
	unsigned run;          /* '-', '?' or ']' just before, for the terminators */
	size_t span;           /* bytes of the markup being read */
	uint64_t span_line;
	uint64_t line;
	bool last_cr;
};

struct suppress_import_ctx {
	struct suppress_import *im;
	const struct suppress_import_opts *o;
	FILE *err;
	const char *name;
	uint64_t max_rows;
	int fatal;             /* first failure of the whole import */
	enum suppress_import_format fmt; /* AUTO while sniffing */
	bool sniffing;
	uint8_t *sniff;        /* the first bytes, held back until the format is known */
	size_t sniff_len;
	char now_str[SUPPRESS_TIME_STR]; /* "@NOW": a plain row's default opt-out time */
	/* last scope seen and its key: rows of one file mostly share one scope */
	uint8_t scope_buf[SUPPRESS_IMPORT_VALUE_MAX];
	size_t scope_len;
	bool scope_valid;
	uint8_t scope_kind;
	uint8_t scope_key[SUPPRESS_KEY_LEN];
	struct line_reader lr;
	struct csv_state csv;
	struct xml_state xml;
};

static void report(struct suppress_import_ctx *c, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void vreport(struct suppress_import_ctx *c, uint64_t line, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void
vreport(struct suppress_import_ctx *c, uint64_t line, const char *fmt, va_list ap)
{
	fprintf(c->err, "%s:%" PRIu64 ": ", c->name, line);
	vfprintf(c->err, fmt, ap);
	fputc('\n', c->err);
}

static void
report(struct suppress_import_ctx *c, uint64_t line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, line, fmt, ap);
	va_end(ap);
}

static void bad_row(struct suppress_import_ctx *c, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Report a row the reader itself refuses (bad JSON, a line too long) and count it. */
static void
bad_row(struct suppress_import_ctx *c, uint64_t line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, line, fmt, ap);
	va_end(ap);
	c->im->n_bad++;
}

static void
fatal(struct suppress_import_ctx *c, int err)
{
	if (c->fatal == 0)
		c->fatal = err;
}

/* A value fit for a one-line message: at most 64 bytes, non-printables escaped. */
static const char *
printable(const void *p, size_t len, char *out, size_t cap)
{
	const uint8_t *s = p;
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < cap; i++) {
		if (i == 64) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\' && s[i] != '"')
			out[o++] = (char)s[i];
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", s[i]);
	}
	out[o] = '\0';
	return out;
}

static bool
is_blank(uint8_t ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* ---- times ---- */

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

/* "@SECONDS", "@-SECONDS": what posternctl prints for times it cannot write as dates. */
static int
parse_seconds(struct slice s, int64_t *t)
{
	bool neg = s.len > 1 && s.ptr[1] == '-';
	size_t i = neg ? 2 : 1;
	uint64_t v = 0;

	if (i == s.len || s.len - i > 19)
		return -EINVAL;
	for (; i < s.len; i++) {
		if (s.ptr[i] < '0' || s.ptr[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s.ptr[i] - '0'); /* 19 digits cannot overflow */
	}
	if (v > (uint64_t)INT64_MAX)
		return -EINVAL;
	if (neg && v > 0)
		return -ERANGE;
	*t = (int64_t)v;
	return 0;
}

int
suppress_import_parse_time(struct slice s, int64_t *t)
{
	unsigned y, mo, d, h = 0, mi = 0, sec = 0;
	const uint8_t *p;

	s = slice_trim(s);
	p = s.ptr;
	if (s.len > 0 && p[0] == '@')
		return parse_seconds(s, t);
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

/* ---- columns ---- */

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

int
suppress_import_column_of(const struct suppress_import_opts *o, struct slice name)
{
	static const struct suppress_import_opts none;

	if (o == NULL)
		o = &none;
	name = slice_trim(name);
	if (name_matches(name, o->email_column, addr_names))
		return SUPPRESS_COL_ADDR;
	if (name_matches(name, o->date_column, optout_names))
		return SUPPRESS_COL_OPTOUT;
	if (name_matches(name, o->consent_column, consent_names))
		return SUPPRESS_COL_CONSENT;
	if (name_matches(name, o->scope_column, scope_names))
		return SUPPRESS_COL_SCOPE;
	return -1;
}

/* ---- rows ---- */

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

/* First second after SUPPRESS_IMPORT_YEAR_MAX. */
static int64_t
time_limit(void)
{
	return business_days_from_civil(SUPPRESS_IMPORT_YEAR_MAX + 1, 1, 1) * 86400;
}

/* A time column of a row: 0 and *t, 1 when empty, or -1 after reporting it bad. */
static int
row_time(struct suppress_import_ctx *c, uint64_t line, struct slice raw, const char *what,
	 int64_t *t)
{
	char pv[300];
	struct slice s = slice_trim(raw);
	int rc;

	if (raw.len > SUPPRESS_IMPORT_VALUE_MAX) {
		report(c, line, "bad %s: longer than %d bytes", what, SUPPRESS_IMPORT_VALUE_MAX);
		return -1;
	}
	if (s.len == 0)
		return 1;
	rc = suppress_import_parse_time(s, t);
	if (rc == -ERANGE) {
		report(c, line, "bad %s \"%s\": before 1970", what,
		       printable(s.ptr, s.len, pv, sizeof(pv)));
		return -1;
	}
	if (rc < 0) {
		report(c, line,
		       "bad %s \"%s\": expected YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, "
		       "\"YYYY-MM-DD HH:MM:SS\" (UTC) or @SECONDS",
		       what, printable(s.ptr, s.len, pv, sizeof(pv)));
		return -1;
	}
	if (*t >= time_limit()) {
		report(c, line, "bad %s \"%s\": after %d", what,
		       printable(s.ptr, s.len, pv, sizeof(pv)), SUPPRESS_IMPORT_YEAR_MAX);
		return -1;
	}
	if (*t > c->o->now + SUPPRESS_IMPORT_FUTURE_SLACK) {
		report(c, line, "bad %s \"%s\": in the future", what,
		       printable(s.ptr, s.len, pv, sizeof(pv)));
		return -1;
	}
	return 0;
}

/* The scope of a row: 0, 1 after reporting it bad, or a failure of the import. */
static int
row_scope(struct suppress_import_ctx *c, uint64_t line, struct slice raw, uint8_t *kind,
	  uint8_t key[SUPPRESS_KEY_LEN])
{
	char pv[300];
	struct slice s = slice_trim(raw);
	int rc;

	if (raw.len > SUPPRESS_IMPORT_VALUE_MAX) {
		report(c, line, "bad scope: longer than %d bytes", SUPPRESS_IMPORT_VALUE_MAX);
		return 1;
	}
	if (c->scope_valid && s.len == c->scope_len &&
	    (s.len == 0 || memcmp(s.ptr, c->scope_buf, s.len) == 0)) {
		*kind = c->scope_kind;
		memcpy(key, c->scope_key, SUPPRESS_KEY_LEN);
		return 0;
	}
	rc = suppress_scope_parse(&c->im->hasher, s, kind, key);
	if (rc == -EINVAL) {
		report(c, line, "bad scope \"%s\": expected all, sender:DOMAIN or list:LIST-ID",
		       printable(s.ptr, s.len, pv, sizeof(pv)));
		return 1;
	}
	if (rc < 0) {
		report(c, line, "scope: %s", strerror(-rc));
		return rc;
	}
	if (s.len > 0)
		memcpy(c->scope_buf, s.ptr, s.len);
	c->scope_len = s.len;
	c->scope_kind = *kind;
	memcpy(c->scope_key, key, SUPPRESS_KEY_LEN);
	c->scope_valid = true;
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

int
suppress_import_row(struct suppress_import *im, const struct suppress_row *row)
{
	struct suppress_import_ctx *c = im->ctx;
	struct suppress_import_entry e;
	struct slice addr = slice_trim(row->addr);
	enum suppress_table table;
	uint64_t line = row->line;
	char pv[300];
	int64_t optout = 0, consent = 0;
	int rc;

	if (c == NULL)
		return -EINVAL;
	if (c->fatal)
		return c->fatal;
	memset(&e, 0, sizeof(e));
	if (row->addr.len > SUPPRESS_IMPORT_VALUE_MAX) {
		report(c, line, "bad address: longer than %d bytes", SUPPRESS_IMPORT_VALUE_MAX);
		goto bad;
	}
	if (addr.len == 0) {
		report(c, line, "missing address");
		goto bad;
	}
	rc = suppress_key(&im->hasher, c->o->norm_flags, addr, &table, e.key, NULL, 0);
	if (rc == -EINVAL || rc == -ENAMETOOLONG) {
		report(c, line, "bad address \"%s\": %s",
		       printable(addr.ptr, addr.len, pv, sizeof(pv)),
		       rc == -ENAMETOOLONG ? "too long" : "not an address");
		goto bad;
	}
	if (rc < 0) {
		report(c, line, "address: %s", strerror(-rc));
		goto failed;
	}

	rc = row_time(c, line, row->optout, "opt-out date", &optout);
	if (rc == 1) {
		report(c, line, "missing opt-out date");
		goto bad;
	}
	if (rc < 0)
		goto bad;
	if (row_time(c, line, row->consent, "consent date", &consent) < 0)
		goto bad;
	rc = row_scope(c, line, row->scope, &e.rec.scope, e.scope_key);
	if (rc == 1)
		goto bad;
	if (rc < 0)
		goto failed;

	e.table = (uint8_t)table;
	e.rec.version = SUPPRESS_REC_VERSION;
	e.rec.source_line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
	e.rec.optout_time = optout;
	e.rec.consent_time = consent;
	/* grace_end stays 0: the loader computes it with the configured calendar. */
	rc = push_entry(c, line, &e);
	if (rc < 0)
		goto failed;
	im->n_good++;
	return 0;
bad:
	im->n_bad++;
	return 0;
failed:
	fatal(c, rc);
	return rc;
}

/* ---- detection ---- */

static const uint8_t bom[3] = { 0xef, 0xbb, 0xbf };

/* Offset of the first byte after a BOM and white space; len when there is none yet. *partial
 * is set when the bytes so far could still be the start of a BOM. */
static size_t
skip_bom_blank(const uint8_t *p, size_t len, bool *partial)
{
	size_t i = 0;

	*partial = false;
	if (len >= 3 && memcmp(p, bom, 3) == 0) {
		i = 3;
	} else if (len < 3 && len > 0 && memcmp(p, bom, len) == 0) {
		*partial = true;
		return len;
	}
	while (i < len && is_blank(p[i]))
		i++;
	return i;
}

/* The most frequent of , ; TAB | outside double quotes (ties in that order); 0 for none. */
static char
guess_delimiter(struct slice line)
{
	static const char cand[] = { ',', ';', '\t', '|' };
	size_t count[4] = { 0 }, best = 0;
	bool quoted = false;

	for (size_t i = 0; i < line.len; i++) {
		if (line.ptr[i] == '"')
			quoted = !quoted;
		else if (!quoted)
			for (size_t k = 0; k < 4; k++)
				count[k] += line.ptr[i] == (uint8_t)cand[k];
	}
	for (size_t k = 1; k < 4; k++)
		if (count[k] > count[best])
			best = k;
	return count[best] > 0 ? cand[best] : 0;
}

int
suppress_import_detect(const void *buf, size_t len, bool at_eof,
		       const struct suppress_import_opts *o, char *delim)
{
	const uint8_t *p = buf;
	char want = o != NULL ? o->delimiter : 0;
	bool partial;
	size_t i = skip_bom_blank(p, len, &partial), j, word;
	struct slice line;
	char guess;

	*delim = want != 0 ? want : ',';
	if (i == len)
		return at_eof && !partial ? -ENODATA : at_eof ? -EBADMSG : SUPPRESS_FMT_AUTO;
	if (p[i] == '{')
		return SUPPRESS_FMT_JSONL;
	if (p[i] == '#')
		return SUPPRESS_FMT_PLAIN;
	if (p[i] == '[')
		return -EBADMSG; /* a JSON array: not JSON Lines */
	if (p[i] == '<') {
		bool at = false;

		if (i + 1 < len && (p[i + 1] == '?' || p[i + 1] == '!'))
			return SUPPRESS_FMT_XML;
		for (j = i + 1; j < len && p[j] != '>' && p[j] != '<' && !is_blank(p[j]); j++)
			at |= p[j] == '@';
		if (j == len && !at_eof)
			return SUPPRESS_FMT_AUTO;
		return j < len && p[j] == '>' && at ? SUPPRESS_FMT_PLAIN : SUPPRESS_FMT_XML;
	}
	for (j = i; j < len && p[j] != '\r' && p[j] != '\n'; j++)
		;
	if (j == len && !at_eof)
		return SUPPRESS_FMT_AUTO;
	line = slice_make(p + i, j - i);
	if (want != 0 && memchr(line.ptr, want, line.len) != NULL)
		return SUPPRESS_FMT_CSV;
	guess = guess_delimiter(line);
	if (guess != 0 && guess != '\t') {
		*delim = want != 0 ? want : guess;
		return SUPPRESS_FMT_CSV;
	}
	for (word = 0; word < line.len && line.ptr[word] != ' ' && line.ptr[word] != '\t'; word++)
		;
	if (memchr(line.ptr, '@', word) != NULL)
		return SUPPRESS_FMT_PLAIN;
	if (guess == '\t') {
		*delim = want != 0 ? want : '\t';
		return SUPPRESS_FMT_CSV;
	}
	if (suppress_import_column_of(o, line) >= 0)
		return SUPPRESS_FMT_CSV;
	return -EBADMSG;
}

/* Line of the first byte that is not a BOM or white space in the held bytes. */
static uint64_t
sniff_first_line(const struct suppress_import_ctx *c)
{
	uint64_t line = 1;
	bool partial;
	size_t end = skip_bom_blank(c->sniff, c->sniff_len, &partial);

	for (size_t i = 0; i < end; i++)
		if (c->sniff[i] == '\n' || (c->sniff[i] == '\r' &&
					    (i + 1 == c->sniff_len || c->sniff[i + 1] != '\n')))
			line++;
	return line;
}

/* ---- CSV ---- */

static void
csv_header_field(struct suppress_import_ctx *c, struct slice name)
{
	struct csv_state *s = &c->csv;
	int col;

	if (s->first_field && name.len >= 3 && memcmp(name.ptr, bom, 3) == 0)
		name = slice_make(name.ptr + 3, name.len - 3);
	col = suppress_import_column_of(c->o, name);
	if (col >= 0 && s->col[col] < 0)
		s->col[col] = (long)s->field_i;
}

static void
csv_header_end(struct suppress_import_ctx *c, uint64_t line)
{
	struct csv_state *s = &c->csv;
	const struct suppress_import_opts *o = c->o;

	if (s->col[SUPPRESS_COL_ADDR] < 0) {
		if (o->email_column != NULL)
			report(c, line, "no address column \"%s\" in the header", o->email_column);
		else
			report(c, line, "no address column in the header (looked for email, "
					"address, e-mail, recipient; see --email-column)");
		fatal(c, -EBADMSG);
	}
	if (s->col[SUPPRESS_COL_OPTOUT] < 0) {
		if (o->date_column != NULL)
			report(c, line, "no date column \"%s\" in the header", o->date_column);
		else
			report(c, line, "no opt-out date column in the header (looked for "
					"optout_date, opt_out, optout, date, unsubscribed_at; see "
					"--date-column)");
		fatal(c, -EBADMSG);
	}
	if (s->col[SUPPRESS_COL_CONSENT] < 0 && o->consent_column != NULL) {
		report(c, line, "no consent column \"%s\" in the header", o->consent_column);
		fatal(c, -EBADMSG);
	}
	if (s->col[SUPPRESS_COL_SCOPE] < 0 && o->scope_column != NULL) {
		report(c, line, "no scope column \"%s\" in the header", o->scope_column);
		fatal(c, -EBADMSG);
	}
	s->have_header = true;
}

static void
field_add(struct field *f, const void *p, size_t len)
{
	size_t room = sizeof(f->buf) - f->len;

	f->seen = true;
	if (len > room)
		len = room;
	if (len > 0)
		memcpy(f->buf + f->len, p, len);
	f->len += len;
}

static struct slice
field_slice(const struct field *f)
{
	return slice_make(f->buf, f->len);
}

static void
csv_on_field(void *p, size_t len, void *data)
{
	struct suppress_import_ctx *c = data;
	struct csv_state *s = &c->csv;

	if (c->fatal)
		return;
	if (p == NULL)
		len = 0;
	if (len > 0)
		s->row_nonempty = true;
	if (!s->have_header) {
		csv_header_field(c, slice_make(p, len));
	} else {
		for (int k = 0; k < SUPPRESS_COL__COUNT; k++) {
			if (s->col[k] == (long)s->field_i) {
				s->f[k].len = 0;
				field_add(&s->f[k], p, len);
				break;
			}
		}
	}
	s->first_field = false;
	s->field_i++;
}

static void
csv_on_row(int term, void *data)
{
	struct suppress_import_ctx *c = data;
	struct csv_state *s = &c->csv;
	uint64_t line = s->rec_started ? s->rec_line : s->line;

	(void)term;
	if (c->fatal == 0) {
		/* Rows of empty fields (",,," as spreadsheets export) carry nothing. */
		if (!s->have_header) {
			csv_header_end(c, line);
		} else if (s->row_nonempty) {
			struct suppress_row row = {
				.addr = field_slice(&s->f[SUPPRESS_COL_ADDR]),
				.optout = field_slice(&s->f[SUPPRESS_COL_OPTOUT]),
				.consent = field_slice(&s->f[SUPPRESS_COL_CONSENT]),
				.scope = field_slice(&s->f[SUPPRESS_COL_SCOPE]),
				.line = line,
			};

			suppress_import_row(c->im, &row);
		}
	}
	s->field_i = 0;
	s->row_nonempty = false;
	for (int k = 0; k < SUPPRESS_COL__COUNT; k++)
		s->f[k].len = 0;
	s->rec_started = false;
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
	struct csv_state *s = &c->csv;
	int e = csv_error(&s->p);

	if (e == CSV_EPARSE)
		report(c, s->line, "malformed CSV: a quote inside an unquoted field, text after "
				   "a closing quote, or an unterminated quoted field");
	else if (e == CSV_ENOMEM || e == CSV_ETOOBIG)
		report(c, s->line, "a field is longer than %u bytes", SUPPRESS_IMPORT_FIELD_MAX);
	else
		report(c, s->line, "CSV error: %s", csv_strerror(e));
	fatal(c, e == CSV_EPARSE || e == CSV_ENOMEM || e == CSV_ETOOBIG ? -EBADMSG : -EIO);
}

static int
csv_start(struct suppress_import_ctx *c, char delim)
{
	struct csv_state *s = &c->csv;

	s->delim = (unsigned char)delim;
	s->line = 1;
	s->first_field = true;
	for (int k = 0; k < SUPPRESS_COL__COUNT; k++)
		s->col[k] = -1;
	if (csv_init(&s->p, CSV_STRICT | CSV_STRICT_FINI) != 0)
		return -ENOMEM;
	s->inited = true;
	csv_set_delim(&s->p, s->delim);
	csv_set_realloc_func(&s->p, bounded_realloc);
	csv_set_blk_size(&s->p, 4096);
	return 0;
}

static void
csv_feed_piece(struct suppress_import_ctx *c, const uint8_t *b, size_t n)
{
	if (n == 0 || c->fatal)
		return;
	if (csv_parse(&c->csv.p, b, n, csv_on_field, csv_on_row, c) != n)
		csv_failed(c);
}

/* libcsv does not count lines: feed it pieces that end at CR or LF, counting them (CRLF, LF
 * or CR alone), so that a record's line is known even when a quoted field spans lines. */
static void
csv_feed(struct suppress_import_ctx *c, const uint8_t *b, size_t n)
{
	struct csv_state *s = &c->csv;
	size_t start = 0;

	for (size_t i = 0; i < n && !c->fatal; i++) {
		uint8_t ch = b[i];

		if (ch != '\r' && ch != '\n') {
			bool blank = (ch == ' ' || ch == '\t') && ch != s->delim;

			if (!s->rec_started && !blank) {
				s->rec_started = true;
				s->rec_line = s->line;
			}
			s->last_cr = false;
			continue;
		}
		csv_feed_piece(c, b + start, i + 1 - start);
		start = i + 1;
		if (ch == '\r' || !s->last_cr)
			s->line++;
		s->last_cr = ch == '\r';
	}
	csv_feed_piece(c, b + start, n - start);
}

static void
csv_end(struct suppress_import_ctx *c)
{
	struct csv_state *s = &c->csv;

	if (!c->fatal && csv_fini(&s->p, csv_on_field, csv_on_row, c) != 0)
		csv_failed(c);
	if (!c->fatal && !s->have_header) {
		report(c, 1, "empty file: no header row");
		fatal(c, -EBADMSG);
	}
}

/* ---- lines: JSONL and plain ---- */

typedef void line_fn(struct suppress_import_ctx *c, struct slice s, uint64_t line);

static void
jsonl_line(struct suppress_import_ctx *c, struct slice s, uint64_t line)
{
	const char *key_of[SUPPRESS_COL__COUNT] = { NULL };
	struct slice val[SUPPRESS_COL__COUNT] = { { NULL, 0 } };
	char tbuf[SUPPRESS_COL__COUNT][SUPPRESS_TIME_STR];
	char pv[300], pv2[300];
	struct suppress_row row = { .line = line };
	json_error_t je;
	const char *key;
	json_t *v, *x;

	s = slice_trim(s);
	if (s.len == 0)
		return;
	v = json_loadb((const char *)s.ptr, s.len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	if (v == NULL) {
		bad_row(c, line, "bad JSON: %s", je.text);
		return;
	}
	if (!json_is_object(v)) {
		bad_row(c, line, "bad JSON: not an object");
		goto out;
	}
	json_object_foreach(v, key, x) {
		int col = suppress_import_column_of(c->o, slice_from_cstr(key));
		bool is_time = col == SUPPRESS_COL_OPTOUT || col == SUPPRESS_COL_CONSENT;

		if (col < 0)
			continue;
		if (key_of[col] != NULL) {
			bad_row(c, line, "bad JSON: \"%s\" and \"%s\" both give the %s",
				printable(key_of[col], strlen(key_of[col]), pv, sizeof(pv)),
				printable(key, strlen(key), pv2, sizeof(pv2)), col_what[col]);
			goto out;
		}
		key_of[col] = key;
		if (json_is_string(x)) {
			val[col] = slice_make(json_string_value(x), json_string_length(x));
		} else if (json_is_integer(x) && is_time) {
			snprintf(tbuf[col], sizeof(tbuf[col]), "@%" JSON_INTEGER_FORMAT,
				 json_integer_value(x));
			val[col] = slice_from_cstr(tbuf[col]);
		} else if (!json_is_null(x)) {
			bad_row(c, line, "bad JSON: \"%s\" must be a string%s",
				printable(key, strlen(key), pv, sizeof(pv)),
				is_time ? " or an integer (seconds since 1970)" : "");
			goto out;
		}
	}
	row.addr = val[SUPPRESS_COL_ADDR];
	row.optout = val[SUPPRESS_COL_OPTOUT];
	row.consent = val[SUPPRESS_COL_CONSENT];
	row.scope = val[SUPPRESS_COL_SCOPE];
	suppress_import_row(c->im, &row);
out:
	json_decref(v);
}

static void
plain_line(struct suppress_import_ctx *c, struct slice s, uint64_t line)
{
	struct suppress_row row = { .line = line };
	size_t w = 0;
	struct slice rest;

	s = slice_trim(s);
	if (s.len == 0 || s.ptr[0] == '#')
		return;
	while (w < s.len && s.ptr[w] != ' ' && s.ptr[w] != '\t')
		w++;
	row.addr = slice_make(s.ptr, w);
	rest = slice_trim(slice_make(s.ptr + w, s.len - w));
	/* A comment starts at a '#' after white space (or right after the address). */
	for (size_t i = 0; i < rest.len; i++) {
		if (rest.ptr[i] == '#' && (i == 0 || rest.ptr[i - 1] == ' ' ||
					   rest.ptr[i - 1] == '\t')) {
			rest = slice_trim(slice_make(rest.ptr, i));
			break;
		}
	}
	row.optout = rest.len > 0 ? rest : slice_from_cstr(c->now_str);
	suppress_import_row(c->im, &row);
}

static void
lr_line(struct suppress_import_ctx *c, struct slice s)
{
	struct line_reader *lr = &c->lr;

	if (lr->too_long) {
		bad_row(c, lr->line, "line longer than %u bytes", SUPPRESS_IMPORT_LINE_MAX);
		lr->too_long = false;
		return;
	}
	if (lr->line == 1 && s.len >= 3 && memcmp(s.ptr, bom, 3) == 0)
		s = slice_make(s.ptr + 3, s.len - 3);
	if (c->fmt == SUPPRESS_FMT_JSONL)
		jsonl_line(c, s, lr->line);
	else
		plain_line(c, s, lr->line);
}

/* Keep the head of a line that goes on into the next feed. */
static void
lr_hold(struct suppress_import_ctx *c, const uint8_t *p, size_t n)
{
	struct line_reader *lr = &c->lr;

	if (lr->too_long || n == 0)
		return;
	if (lr->len + n > SUPPRESS_IMPORT_LINE_MAX) {
		lr->too_long = true;
		lr->len = 0;
		return;
	}
	if (lr->buf == NULL) {
		lr->buf = malloc(SUPPRESS_IMPORT_LINE_MAX);
		if (lr->buf == NULL) {
			report(c, lr->line, "out of memory");
			fatal(c, -ENOMEM);
			return;
		}
	}
	memcpy(lr->buf + lr->len, p, n);
	lr->len += n;
}

static void
lr_feed(struct suppress_import_ctx *c, const uint8_t *b, size_t n)
{
	struct line_reader *lr = &c->lr;
	size_t start = 0;

	for (size_t i = 0; i < n && !c->fatal; i++) {
		uint8_t ch = b[i];

		if (ch != '\r' && ch != '\n') {
			lr->last_cr = false;
			continue;
		}
		if (ch == '\n' && lr->last_cr) { /* the LF of a CRLF */
			lr->last_cr = false;
			start = i + 1;
			continue;
		}
		lr->last_cr = ch == '\r';
		if (lr->len == 0 && !lr->too_long && i - start <= SUPPRESS_IMPORT_LINE_MAX) {
			lr_line(c, slice_make(b + start, i - start));
		} else {
			lr_hold(c, b + start, i - start);
			if (c->fatal)
				return;
			lr_line(c, slice_make(lr->buf, lr->len));
			lr->len = 0;
		}
		lr->line++;
		start = i + 1;
	}
	if (!c->fatal)
		lr_hold(c, b + start, n - start);
}

static void
lr_end(struct suppress_import_ctx *c)
{
	struct line_reader *lr = &c->lr;

	if (!c->fatal && (lr->len > 0 || lr->too_long))
		lr_line(c, slice_make(lr->buf, lr->len));
	lr->len = 0;
}

/* ---- XML ---- */

static bool
xml_name_is(const XML_Char *name, const char *want)
{
	return strcmp(name, want) == 0;
}

/* Stop the parser after a failure of the whole file (already reported). */
static void
xml_stop(struct suppress_import_ctx *c, int err)
{
	fatal(c, err);
	XML_StopParser(c->xml.p, XML_FALSE);
}

static uint64_t
xml_line(struct suppress_import_ctx *c)
{
	return (uint64_t)XML_GetCurrentLineNumber(c->xml.p);
}

static void xml_entry_bad(struct xml_state *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Remember why the current entry is bad (the first reason), reported at its end. */
static void
xml_entry_bad(struct xml_state *x, const char *fmt, ...)
{
	va_list ap;

	if (x->bad[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(x->bad, sizeof(x->bad), fmt, ap);
	va_end(ap);
}

static void
xml_column(struct suppress_import_ctx *c, int col, const XML_Char *name, const char *value)
{
	struct xml_state *x = &c->xml;
	char pv[300];

	if (x->f[col].seen) {
		xml_entry_bad(x, "the %s is given twice (\"%s\")", col_what[col],
			      printable(name, strlen(name), pv, sizeof(pv)));
		return;
	}
	field_add(&x->f[col], value, value != NULL ? strlen(value) : 0);
}

static void XMLCALL
xml_on_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
	struct suppress_import_ctx *c = data;
	struct xml_state *x = &c->xml;
	char pv[300];
	int col;

	x->depth++;
	if (c->fatal)
		return;
	if (x->depth > SUPPRESS_IMPORT_XML_DEPTH_MAX) {
		report(c, xml_line(c), "malformed XML: elements nested more than %d deep",
		       SUPPRESS_IMPORT_XML_DEPTH_MAX);
		xml_stop(c, -EBADMSG);
		return;
	}
	if (x->skip_depth > 0)
		return;
	if (x->depth == 1) {
		if (!xml_name_is(name, "suppressions")) {
			report(c, xml_line(c), "the root element is <%s>, expected <suppressions>",
			       printable(name, strlen(name), pv, sizeof(pv)));
			xml_stop(c, -EBADMSG);
		}
		return;
	}
	if (x->depth == 2) {
		if (!xml_name_is(name, "entry")) {
			bad_row(c, xml_line(c), "unexpected element <%s> in <suppressions>",
				printable(name, strlen(name), pv, sizeof(pv)));
			x->skip_depth = x->depth;
			return;
		}
		x->in_entry = true;
		x->entry_line = xml_line(c);
		x->bad[0] = '\0';
		x->child_col = -1;
		for (int k = 0; k < SUPPRESS_COL__COUNT; k++)
			x->f[k] = (struct field){ .len = 0 };
		for (size_t i = 0; attrs[i] != NULL; i += 2) {
			col = suppress_import_column_of(c->o, slice_from_cstr(attrs[i]));
			if (col >= 0)
				xml_column(c, col, attrs[i], attrs[i + 1]);
		}
		return;
	}
	if (x->depth == 3) {
		col = suppress_import_column_of(c->o, slice_from_cstr(name));
		if (col < 0) {
			x->skip_depth = x->depth; /* unknown child: ignored, content and all */
			return;
		}
		xml_column(c, col, name, NULL);
		x->child_col = col;
		return;
	}
	/* depth 4: an element inside a column's element */
	xml_entry_bad(x, "unexpected element <%s> inside the %s element",
		      printable(name, strlen(name), pv, sizeof(pv)), col_what[x->child_col]);
	x->skip_depth = x->depth;
}

static void
xml_entry_end(struct suppress_import_ctx *c)
{
	struct xml_state *x = &c->xml;

	x->in_entry = false;
	if (x->bad[0] != '\0') {
		bad_row(c, x->entry_line, "%s", x->bad);
		return;
	}
	struct suppress_row row = {
		.addr = field_slice(&x->f[SUPPRESS_COL_ADDR]),
		.optout = field_slice(&x->f[SUPPRESS_COL_OPTOUT]),
		.consent = field_slice(&x->f[SUPPRESS_COL_CONSENT]),
		.scope = field_slice(&x->f[SUPPRESS_COL_SCOPE]),
		.line = x->entry_line,
	};
	if (suppress_import_row(c->im, &row) < 0)
		XML_StopParser(x->p, XML_FALSE);
}

static void XMLCALL
xml_on_end(void *data, const XML_Char *name)
{
	struct suppress_import_ctx *c = data;
	struct xml_state *x = &c->xml;
	unsigned depth = x->depth--;

	(void)name;
	if (c->fatal)
		return;
	if (x->skip_depth == depth)
		x->skip_depth = 0;
	else if (x->skip_depth == 0 && depth == 3)
		x->child_col = -1;
	else if (x->skip_depth == 0 && depth == 2 && x->in_entry)
		xml_entry_end(c);
}

static void XMLCALL
xml_on_text(void *data, const XML_Char *s, int len)
{
	struct suppress_import_ctx *c = data;
	struct xml_state *x = &c->xml;

	if (c->fatal || x->skip_depth > 0 || !x->in_entry || len <= 0)
		return;
	if (x->depth == 3 && x->child_col >= 0) {
		field_add(&x->f[x->child_col], s, (size_t)len);
		return;
	}
	if (x->depth == 2) {
		for (int i = 0; i < len; i++) {
			if (!is_blank((uint8_t)s[i])) {
				xml_entry_bad(x, "text directly inside <entry> (put it in an "
						 "attribute or a child element)");
				return;
			}
		}
	}
}

/* No DTD: nothing can be declared, so no entity can expand or be loaded. */
static void XMLCALL
xml_on_doctype(void *data, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
	       int has_internal_subset)
{
	struct suppress_import_ctx *c = data;

	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	report(c, xml_line(c), "malformed XML: a DOCTYPE is not allowed");
	xml_stop(c, -EBADMSG);
}

static void XMLCALL
xml_on_entity_decl(void *data, const XML_Char *name, int is_param, const XML_Char *value,
		   int value_len, const XML_Char *base, const XML_Char *sysid,
		   const XML_Char *pubid, const XML_Char *notation)
{
	struct suppress_import_ctx *c = data;

	(void)name;
	(void)is_param;
	(void)value;
	(void)value_len;
	(void)base;
	(void)sysid;
	(void)pubid;
	(void)notation;
	if (!c->fatal) {
		report(c, xml_line(c), "malformed XML: entity declarations are not allowed");
		xml_stop(c, -EBADMSG);
	}
}

static int
xml_start(struct suppress_import_ctx *c)
{
	struct xml_state *x = &c->xml;

	x->block = malloc(XML_BLOCK);
	x->p = XML_ParserCreate(NULL);
	if (x->p == NULL || x->block == NULL)
		return -ENOMEM;
	x->line = 1;
	x->child_col = -1;
	XML_SetUserData(x->p, c);
	XML_SetElementHandler(x->p, xml_on_start, xml_on_end);
	XML_SetCharacterDataHandler(x->p, xml_on_text);
	XML_SetStartDoctypeDeclHandler(x->p, xml_on_doctype);
	XML_SetEntityDeclHandler(x->p, xml_on_entity_decl);
	XML_SetParamEntityParsing(x->p, XML_PARAM_ENTITY_PARSING_NEVER);
	return 0;
}

static void
xml_parse(struct suppress_import_ctx *c, const uint8_t *b, size_t n, bool final)
{
	struct xml_state *x = &c->xml;

	/* n <= XML_BLOCK: one call */
	if (c->fatal)
		return;
	if (XML_Parse(x->p, (const char *)b, (int)n, final) != XML_STATUS_OK && !c->fatal) {
		report(c, xml_line(c), "malformed XML: %s",
		       XML_ErrorString(XML_GetErrorCode(x->p)));
		fatal(c, -EBADMSG);
	}
}

/*
 * Give expat the stream in blocks of XML_BLOCK bytes at fixed offsets, whatever pieces the
 * caller fed: expat's diagnostics depend on where its input is cut (an invalid byte after a
 * UTF-8 lead byte is "syntax error" or "invalid token"), and results must not.
 */
static void
xml_push(struct suppress_import_ctx *c, const uint8_t *b, size_t n)
{
	struct xml_state *x = &c->xml;

	while (n > 0 && !c->fatal) {
		size_t take;

		if (x->block_len == 0 && n >= XML_BLOCK) {
			xml_parse(c, b, XML_BLOCK, false); /* a whole block in place */
			b += XML_BLOCK;
			n -= XML_BLOCK;
			continue;
		}
		take = XML_BLOCK - x->block_len;
		if (take > n)
			take = n;
		memcpy(x->block + x->block_len, b, take);
		x->block_len += take;
		b += take;
		n -= take;
		if (x->block_len == XML_BLOCK) {
			xml_parse(c, x->block, XML_BLOCK, false);
			x->block_len = 0;
		}
	}
}

static void
xml_end(struct suppress_import_ctx *c)
{
	xml_parse(c, c->xml.block, c->xml.block_len, true);
	c->xml.block_len = 0;
}

/*
 * Follow markup boundaries through b and return how many bytes may go to expat: all of them,
 * or up to the byte at which a piece of markup grew past SUPPRESS_IMPORT_LINE_MAX (*line_out
 * then gets the line it started on).
 */
static size_t
xml_lex(struct xml_state *x, const uint8_t *b, size_t n, uint64_t *line_out)
{
	static const char cdata[] = "[CDATA[";

	for (size_t i = 0; i < n; i++) {
		uint8_t ch = b[i];

		if (ch == '\n' ? !x->last_cr : ch == '\r')
			x->line++;
		x->last_cr = ch == '\r';
		if (x->lex == XL_TEXT) {
			if (ch == '<') {
				x->lex = XL_LT;
				x->span = 1;
				x->span_line = x->line;
			}
			continue;
		}
		if (x->lex != XL_CDATA && ++x->span > SUPPRESS_IMPORT_LINE_MAX) {
			*line_out = x->span_line;
			return i;
		}
		switch (x->lex) {
		case XL_LT:
			x->lex = ch == '!' ? XL_BANG : ch == '?' ? XL_PI : XL_TAG;
			x->bang_len = 0;
			x->quote = 0;
			x->run = 0;
			if (x->lex == XL_TAG && ch == '>')
				x->lex = XL_TEXT;
			break;
		case XL_BANG:
			x->bang[x->bang_len++] = ch;
			if (x->bang_len == 2 && memcmp(x->bang, "--", 2) == 0) {
				x->lex = XL_COMMENT;
			} else if (x->bang_len <= 7 && memcmp(x->bang, cdata, x->bang_len) == 0) {
				if (x->bang_len == 7)
					x->lex = XL_CDATA;
			} else if (!(x->bang_len == 1 && ch == '-')) {
				x->lex = ch == '>' ? XL_TEXT : XL_DECL;
			}
			break;
		case XL_TAG:
			if (x->quote != 0)
				x->quote = ch == x->quote ? 0 : x->quote;
			else if (ch == '"' || ch == '\'')
				x->quote = ch;
			else if (ch == '>')
				x->lex = XL_TEXT;
			break;
		case XL_COMMENT:
			if (ch == '>' && x->run >= 2)
				x->lex = XL_TEXT;
			x->run = ch == '-' ? x->run + 1 : 0;
			break;
		case XL_PI:
			if (ch == '>' && x->run > 0)
				x->lex = XL_TEXT;
			x->run = ch == '?';
			break;
		case XL_DECL:
			if (ch == '>')
				x->lex = XL_TEXT;
			break;
		case XL_CDATA:
			if (ch == '>' && x->run >= 2)
				x->lex = XL_TEXT;
			x->run = ch == ']' ? x->run + 1 : 0;
			break;
		case XL_TEXT:
			break;
		}
	}
	return n;
}

static void
xml_feed(struct suppress_import_ctx *c, const uint8_t *b, size_t n)
{
	struct xml_state *x = &c->xml;
	uint64_t line = 0;
	size_t ok = xml_lex(x, b, n, &line);

	xml_push(c, b, ok);
	if (ok < n && !c->fatal) {
		/* Let expat judge what came before the markup (cut at a fixed place again):
		 * an earlier error is the one to report. */
		xml_parse(c, x->block, x->block_len, false);
		x->block_len = 0;
		if (!c->fatal) {
			report(c, line, "malformed XML: markup longer than %u bytes",
			       SUPPRESS_IMPORT_LINE_MAX);
			fatal(c, -EBADMSG);
		}
	}
}

/* ---- stream ---- */

/* The format is known: set its reader up. */
static int
start_format(struct suppress_import_ctx *c, enum suppress_import_format fmt, char delim)
{
	int rc = 0;

	c->fmt = fmt;
	c->im->format = fmt;
	c->lr.line = 1;
	if (fmt == SUPPRESS_FMT_CSV)
		rc = csv_start(c, delim);
	else if (fmt == SUPPRESS_FMT_XML)
		rc = xml_start(c);
	if (rc < 0) {
		report(c, 1, "out of memory");
		fatal(c, rc);
	}
	return rc;
}

static void
feed_format(struct suppress_import_ctx *c, const uint8_t *b, size_t n)
{
	switch (c->fmt) {
	case SUPPRESS_FMT_CSV:
		csv_feed(c, b, n);
		break;
	case SUPPRESS_FMT_JSONL:
	case SUPPRESS_FMT_PLAIN:
		lr_feed(c, b, n);
		break;
	case SUPPRESS_FMT_XML:
		xml_feed(c, b, n);
		break;
	default:
		break;
	}
}

/*
 * Decide the format from the held bytes (at_eof: no more will come), start its reader and
 * give it what was held. Returns false when more bytes are needed.
 */
/*
 * CSV with the delimiter to guess: the first line with something on it, or 0 while it may
 * still grow (never at_eof). The delimiter guessed, ',' when there is none.
 */
static char
sniff_csv_delimiter(const struct suppress_import_ctx *c, bool at_eof)
{
	bool partial;
	size_t i = skip_bom_blank(c->sniff, c->sniff_len, &partial), j = i;
	char d;

	while (j < c->sniff_len && c->sniff[j] != '\r' && c->sniff[j] != '\n')
		j++;
	if (j == c->sniff_len && !at_eof)
		return 0;
	d = guess_delimiter(slice_make(c->sniff + i, j - i));
	return d != 0 ? d : ',';
}

/*
 * Decide the format from the held bytes (at_eof: no more will come; or the buffer is full),
 * start its reader and give it what was held. Returns false when more bytes are needed.
 */
static bool
sniff_decide(struct suppress_import_ctx *c, bool real_eof)
{
	bool at_eof = real_eof || c->sniff_len == SUPPRESS_IMPORT_SNIFF_MAX;
	char delim = ',';
	int fmt;

	if (c->fmt == SUPPRESS_FMT_CSV) {
		/* Only the delimiter is to be found. */
		fmt = SUPPRESS_FMT_CSV;
		delim = sniff_csv_delimiter(c, at_eof);
		if (delim == 0)
			return false;
	} else {
		fmt = suppress_import_detect(c->sniff, c->sniff_len, at_eof, c->o, &delim);
		if (fmt == SUPPRESS_FMT_AUTO)
			return false;
	}
	if (fmt == -ENODATA && real_eof) {
		report(c, sniff_first_line(c), "empty file");
		fatal(c, -EBADMSG);
	} else if (fmt == -ENODATA) {
		report(c, sniff_first_line(c), "cannot tell the format of the file: nothing but "
					       "white space in its first %u bytes",
		       SUPPRESS_IMPORT_SNIFF_MAX);
		fatal(c, -EBADMSG);
	} else if (fmt < 0) {
		report(c, sniff_first_line(c), "cannot tell the format of the file from its first "
					       "line: expected a CSV header, an address, '{' (JSON "
					       "Lines) or '<' (XML)");
		fatal(c, -EBADMSG);
	}
	c->sniffing = false;
	if (!c->fatal && start_format(c, (enum suppress_import_format)fmt, delim) == 0)
		feed_format(c, c->sniff, c->sniff_len);
	free(c->sniff);
	c->sniff = NULL;
	c->sniff_len = 0;
	return true;
}

static void
feed(struct suppress_import_ctx *c, const uint8_t *b, size_t n)
{
	if (c->sniffing) {
		size_t take = SUPPRESS_IMPORT_SNIFF_MAX - c->sniff_len;

		if (take > n)
			take = n;
		memcpy(c->sniff + c->sniff_len, b, take);
		c->sniff_len += take;
		if (!sniff_decide(c, false))
			return;
		b += take;
		n -= take;
	}
	if (!c->fatal && n > 0)
		feed_format(c, b, n);
}

/* The line being read, for a message about the stream itself. */
static uint64_t
current_line(const struct suppress_import_ctx *c)
{
	switch (c->fmt) {
	case SUPPRESS_FMT_CSV:
		return c->csv.line;
	case SUPPRESS_FMT_JSONL:
	case SUPPRESS_FMT_PLAIN:
		return c->lr.line;
	case SUPPRESS_FMT_XML:
		return c->xml.line;
	default:
		return 1;
	}
}

/* ---- sort and merge ---- */

static int
entry_cmp(const struct suppress_import_entry *x, const struct suppress_import_entry *y)
{
	int r;

	if (x->table != y->table)
		return x->table < y->table ? -1 : 1;
	r = memcmp(x->key, y->key, SUPPRESS_KEY_LEN);
	if (r != 0)
		return r;
	if ((x->rec.scope != SUPPRESS_SCOPE_ALL) != (y->rec.scope != SUPPRESS_SCOPE_ALL))
		return x->rec.scope == SUPPRESS_SCOPE_ALL ? -1 : 1;
	r = memcmp(x->scope_key, y->scope_key, SUPPRESS_KEY_LEN);
	if (r != 0)
		return r;
	if (x->rec.scope != y->rec.scope)
		return x->rec.scope < y->rec.scope ? -1 : 1;
	return 0;
}

/* An entry's place in the sort: its key's first 8 bytes, then the entry, then file order
 * (so that records of one key reach the merge in the order they were read). */
struct sort_item {
	uint64_t k;
	uint32_t i;
	uint32_t pad;
};

static uint64_t
key_prefix(const uint8_t *key)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | key[i];
	return v;
}

static int
item_cmp(const void *a, const void *b, void *arg)
{
	const struct sort_item *x = a, *y = b;
	const struct suppress_import_entry *v = arg;
	int r;

	if (x->k != y->k)
		return x->k < y->k ? -1 : 1;
	r = entry_cmp(&v[x->i], &v[y->i]);
	if (r != 0)
		return r;
	return x->i < y->i ? -1 : x->i > y->i;
}

static int
entry_qsort_cmp(const void *a, const void *b)
{
	const struct suppress_import_entry *x = a, *y = b;
	int r = entry_cmp(x, y);

	if (r != 0)
		return r;
	/* Not stable, but only for batches too big for the bucket sort's index. */
	return 0;
}

static void
sort_bucket(struct sort_item *it, size_t n, const struct suppress_import_entry *v)
{
	if (n > 24) {
		qsort_r(it, n, sizeof(*it), item_cmp, (void *)v);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		struct sort_item t = it[i];
		size_t j = i;

		while (j > 0 && item_cmp(&it[j - 1], &t, (void *)v) > 0) {
			it[j] = it[j - 1];
			j--;
		}
		it[j] = t;
	}
}

/*
 * Sort im->v. Keys are SHA-256 values, evenly spread: one counting pass puts the entries
 * into buckets by table and leading key bits (about four per bucket), a few compares order
 * each bucket, and one pass moves the entries into place. Comparison sorts of a batch this
 * size spend their time on cache misses between entries far apart.
 */
static int
sort_entries(struct suppress_import *im)
{
	size_t n = im->n, n_buckets;
	unsigned bits = 4;
	struct sort_item *it;
	uint32_t *start;

	if (n > UINT32_MAX)
		goto fallback;
	while (bits < 20 && ((size_t)1 << bits) < n / 4)
		bits++;
	n_buckets = (size_t)2 << bits; /* times two tables */
	it = malloc(n * sizeof(*it));
	start = calloc(n_buckets + 1, sizeof(*start));
	if (it == NULL || start == NULL) {
		free(it);
		free(start);
		goto fallback;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t k = key_prefix(im->v[i].key);
		size_t b = (size_t)(im->v[i].table & 1) << bits | (size_t)(k >> (64 - bits));

		start[b + 1]++;
	}
	for (size_t b = 0; b < n_buckets; b++)
		start[b + 1] += start[b];
	for (size_t i = 0; i < n; i++) {
		uint64_t k = key_prefix(im->v[i].key);
		size_t b = (size_t)(im->v[i].table & 1) << bits | (size_t)(k >> (64 - bits));

		it[start[b]++] = (struct sort_item){ .k = k, .i = (uint32_t)i };
	}
	/* start[b] is now the end of bucket b, the start of b + 1. */
	for (size_t b = 0, from = 0; b < n_buckets; b++) {
		sort_bucket(it + from, start[b] - from, im->v);
		from = start[b];
	}
	/* Put v in the order of it: follow each cycle of the permutation with one spare. */
	for (size_t j = 0; j < n; j++) {
		struct suppress_import_entry spare;
		size_t k = j;

		if (it[j].i == j)
			continue;
		spare = im->v[j];
		for (;;) {
			size_t src = it[k].i;

			it[k].i = (uint32_t)k;
			if (src == j) {
				im->v[k] = spare;
				break;
			}
			im->v[k] = im->v[src];
			k = src;
		}
	}
	free(start);
	free(it);
	return 0;

fallback:
	qsort(im->v, n, sizeof(*im->v), entry_qsort_cmp);
	return 0;
}

/* Sort, then merge the records of each (key, scope) into one (suppress_rec_merge). */
static void
sort_merge(struct suppress_import *im)
{
	size_t w = 0;

	if (im->n == 0)
		return;
	sort_entries(im);
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

/* ---- begin, feed, end ---- */

int
suppress_import_begin(struct suppress_import *im, const struct suppress_import_opts *o)
{
	struct suppress_import_ctx *c;

	if (im->ctx != NULL)
		return -EBUSY;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->im = im;
	c->o = o;
	c->err = o->err != NULL ? o->err : stderr;
	c->name = o->name != NULL ? o->name : "-";
	c->max_rows = o->max_rows != 0 ? o->max_rows : SUPPRESS_IMPORT_MAX_ROWS;
	snprintf(c->now_str, sizeof(c->now_str), "@%" PRId64, o->now);
	if (o->delimiter == '"' || o->delimiter == '\r' || o->delimiter == '\n') {
		report(c, 0, "the delimiter cannot be a quote or a line end");
		free(c);
		return -EINVAL;
	}
	if ((unsigned)o->format >= SUPPRESS_FMT__COUNT) {
		report(c, 0, "unknown format %d", (int)o->format);
		free(c);
		return -EINVAL;
	}
	im->ctx = c;
	c->fmt = o->format;
	im->format = o->format;
	if (o->format == SUPPRESS_FMT_AUTO ||
	    (o->format == SUPPRESS_FMT_CSV && o->delimiter == 0)) {
		c->sniff = malloc(SUPPRESS_IMPORT_SNIFF_MAX);
		if (c->sniff == NULL)
			goto nomem;
		c->sniffing = true;
		return 0;
	}
	if (start_format(c, o->format, o->delimiter) < 0)
		goto nomem;
	return 0;
nomem:
	ctx_free(im);
	return -ENOMEM;
}

int
suppress_import_feed(struct suppress_import *im, const void *buf, size_t len)
{
	struct suppress_import_ctx *c = im->ctx;

	if (c == NULL || c->fmt == SUPPRESS_FMT_ROWS)
		return -EINVAL;
	if (!c->fatal && len > 0)
		feed(c, buf, len);
	return c->fatal;
}

static void
ctx_free(struct suppress_import *im)
{
	struct suppress_import_ctx *c = im->ctx;

	if (c == NULL)
		return;
	if (c->csv.inited)
		csv_free(&c->csv.p);
	if (c->xml.p != NULL)
		XML_ParserFree(c->xml.p);
	free(c->xml.block);
	free(c->lr.buf);
	free(c->sniff);
	free(c);
	im->ctx = NULL;
}

int
suppress_import_end(struct suppress_import *im)
{
	struct suppress_import_ctx *c = im->ctx;
	int rc;

	if (c == NULL)
		return -EINVAL;
	if (!c->fatal && c->sniffing)
		sniff_decide(c, true);
	if (!c->fatal) {
		switch (c->fmt) {
		case SUPPRESS_FMT_CSV:
			csv_end(c);
			break;
		case SUPPRESS_FMT_JSONL:
		case SUPPRESS_FMT_PLAIN:
			lr_end(c);
			break;
		case SUPPRESS_FMT_XML:
			xml_end(c);
			break;
		default:
			break;
		}
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

		report(c, current_line(c), "read error");
		fatal(c, -EIO);
	}
	rc = suppress_import_end(im);
free_buf:
	free(buf);
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
