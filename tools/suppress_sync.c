/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ODBC fetch of an opt-out query for `posternctl suppress sync`: one environment, connection
 * and statement per sync, freed on every path; columns mapped by name once, values read with
 * SQLGetData into buffers of fixed size allocated once, each row handed to the importer. The
 * driver's diagnostics are gathered into one line, with the password masked. posternctl's
 * main thread only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sql.h>
#include <sqlext.h>

#include "suppress_row.h"
#include "suppress_sync.h"

/* unixODBC's SQLWCHAR holds UTF-16 code units; a 4-byte one (iODBC) would need another
 * conversion. */
_Static_assert(sizeof(SQLWCHAR) == 2, "SQLWCHAR is expected to be a UTF-16 code unit");

#define COL_NAME_MAX 128   /* a column name longer than this matches nothing */
#define COL_LIST_MAX 400   /* the columns named in a "missing column" message */
#define DIAG_RECS 4        /* diagnostic records gathered into one message */
#define DSN_SHOWN 512      /* the masked connection string in a message */

struct sync_col {
	SQLUSMALLINT index;   /* 1-based result column; 0: the result has none */
	bool is_time;         /* a date or timestamp column: read as SQL_TIMESTAMP_STRUCT */
	char name[COL_NAME_MAX];
	char *buf;            /* the value, UTF-8, SUPPRESS_IMPORT_FIELD_MAX bytes */
	size_t len;
};

struct sync {
	const struct suppress_import_opts *io;
	FILE *err;
	const char *name;
	struct slice pwd;     /* the password as written in the connection string: masked */
	struct sync_col col[SUPPRESS_COL__COUNT];
	unsigned order[SUPPRESS_COL__COUNT]; /* mapped columns by result index (SQLGetData's
					      * required order) */
	unsigned n_order;
	SQLWCHAR *wbuf;       /* SUPPRESS_IMPORT_FIELD_MAX + 1 code units */
	struct suppress_sync_stats st;
};

static const char *const col_what[SUPPRESS_COL__COUNT] = {
	[SUPPRESS_COL_ADDR] = "address",
	[SUPPRESS_COL_OPTOUT] = "opt-out time",
	[SUPPRESS_COL_CONSENT] = "consent time",
	[SUPPRESS_COL_SCOPE] = "scope",
};

static void report(struct sync *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report_row(struct sync *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
report(struct sync *s, const char *fmt, ...)
{
	va_list ap;

	fprintf(s->err, "%s: ", s->name);
	va_start(ap, fmt);
	vfprintf(s->err, fmt, ap);
	va_end(ap);
	fputc('\n', s->err);
}

/* About the current row, "NAME:ROW: ...", as the importer reports a file's line. */
static void
report_row(struct sync *s, const char *fmt, ...)
{
	va_list ap;

	fprintf(s->err, "%s:%" PRIu64 ": ", s->name, s->st.rows);
	va_start(ap, fmt);
	vfprintf(s->err, fmt, ap);
	va_end(ap);
	fputc('\n', s->err);
}

/*
 * Connection string attributes, "KEY=VALUE;KEY={VALUE};...": calls fn for each with the key
 * trimmed and the value as written (without its braces; "}}" inside braces stays doubled).
 * Text that is not an attribute (no '=') is passed with an empty key. Never fails: whatever
 * the string holds, each byte belongs to exactly one piece.
 */
struct dsn_piece {
	struct slice raw;     /* the whole attribute as written, without its ';' */
	struct slice key;     /* trimmed; empty when there is no '=' */
	struct slice value;   /* without braces */
	size_t value_off;     /* where value starts in raw */
	bool braced;
};

static size_t
dsn_next(const char *p, size_t n, struct dsn_piece *d)
{
	size_t i = 0, eq;

	memset(d, 0, sizeof(*d));
	while (i < n && p[i] != '=' && p[i] != ';')
		i++;
	if (i == n || p[i] == ';') {
		d->raw = slice_make(p, i);
		return i < n ? i + 1 : i;
	}
	eq = i;
	d->key = slice_trim(slice_make(p, eq));
	i = eq + 1;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i < n && p[i] == '{') {
		size_t start = ++i;

		d->braced = true;
		/* "}}" is a literal '}' (ODBC 3.8); a lone '}' closes the value */
		while (i < n && !(p[i] == '}' && (i + 1 == n || p[i + 1] != '}')))
			i += p[i] == '}' ? 2 : 1;
		d->value = slice_make(p + start, i - start);
		d->value_off = start;
		if (i < n)
			i++; /* the closing brace */
		while (i < n && p[i] != ';')
			i++;
	} else {
		size_t start = i;

		while (i < n && p[i] != ';')
			i++;
		d->value = slice_make(p + start, i - start);
		d->value_off = start;
	}
	d->raw = slice_make(p, i);
	return i < n ? i + 1 : i;
}

static bool
dsn_is_password(struct slice key)
{
	return slice_eq_nocase(key, "pwd") || slice_eq_nocase(key, "password");
}

/* Append len bytes to out (cap bytes with the NUL), cutting with "..." when full. */
static void
put(char *out, size_t cap, size_t *o, const void *p, size_t len)
{
	if (*o + 1 >= cap)
		return;
	if (len > cap - 1 - *o) {
		size_t room = cap - 1 - *o;

		memcpy(out + *o, p, room);
		*o += room;
		if (cap >= 4)
			memcpy(out + cap - 4, "...", 3);
		return;
	}
	memcpy(out + *o, p, len);
	*o += len;
}

char *
suppress_sync_mask_dsn(const char *dsn, char *out, size_t cap)
{
	size_t n = strlen(dsn), i = 0, o = 0;

	if (cap == 0)
		return out;
	while (i < n) {
		struct dsn_piece d;
		size_t used = dsn_next(dsn + i, n - i, &d);

		if (d.key.len > 0 && dsn_is_password(d.key)) {
			put(out, cap, &o, d.raw.ptr, d.value_off);
			put(out, cap, &o, "***", 3);
			if (d.braced)
				put(out, cap, &o, "}", 1);
		} else {
			put(out, cap, &o, d.raw.ptr, d.raw.len);
		}
		if (used > d.raw.len)
			put(out, cap, &o, ";", 1); /* the separator it ended at */
		i += used;
	}
	out[o] = '\0';
	return out;
}

/* The last password value of the connection string, as written (empty: none). */
static struct slice
dsn_password(const char *dsn)
{
	struct slice pwd = { 0 };
	size_t n = strlen(dsn), i = 0;

	while (i < n) {
		struct dsn_piece d;

		i += dsn_next(dsn + i, n - i, &d);
		if (d.key.len > 0 && dsn_is_password(d.key))
			pwd = d.value;
	}
	return pwd;
}

static bool
is_word_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/*
 * Whether the password starts at m[i] (m NUL-terminated). A short password is only taken as
 * a word of its own: masking every "x" of a message would make it unreadable, while a driver
 * that echoed a password would show it between delimiters.
 */
static bool
is_password_at(struct slice pwd, const char *m, size_t i)
{
	if (pwd.len == 0 || strncmp(m + i, (const char *)pwd.ptr, pwd.len) != 0)
		return false;
	if (pwd.len >= 8)
		return true;
	return (i == 0 || !is_word_byte(m[i - 1])) && !is_word_byte(m[i + pwd.len]);
}

/*
 * The diagnostics of handle h as one line: "[STATE] message; [STATE] message", runs of white
 * space (drivers put newlines and tabs in their messages) made one space, the password masked.
 */
static const char *
diag(struct sync *s, SQLSMALLINT type, SQLHANDLE h, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (SQLSMALLINT rec = 1; rec <= DIAG_RECS; rec++) {
		SQLCHAR state[6], msg[SUPPRESS_SYNC_MSG_MAX];
		SQLINTEGER native;
		SQLSMALLINT len;
		SQLRETURN r = SQLGetDiagRec(type, h, rec, state, &native, msg, sizeof(msg), &len);
		const char *m = (const char *)msg;
		bool space = true;

		if (!SQL_SUCCEEDED(r))
			break;
		if (rec > 1)
			put(out, cap, &o, "; ", 2);
		put(out, cap, &o, "[", 1);
		put(out, cap, &o, state, strnlen((const char *)state, 5));
		put(out, cap, &o, "] ", 2);
		for (size_t i = 0; i < sizeof(msg) && m[i] != '\0'; i++) {
			if (is_password_at(s->pwd, m, i)) {
				put(out, cap, &o, "***", 3);
				i += s->pwd.len - 1;
				space = false;
			} else if (m[i] == ' ' || m[i] == '\t' || m[i] == '\r' || m[i] == '\n') {
				if (!space)
					put(out, cap, &o, " ", 1);
				space = true;
			} else {
				put(out, cap, &o, m + i, 1);
				space = false;
			}
		}
		while (o > 0 && out[o - 1] == ' ')
			o--;
	}
	if (o == 0)
		put(out, cap, &o, "(the driver gave no reason)", 27);
	out[o] = '\0';
	return out;
}

/* Append ", NAME" (the first without the comma) to a column list, bounded. */
static void
list_add(char *list, size_t cap, size_t *o, const char *name)
{
	if (*o > 0)
		put(list, cap, o, ", ", 2);
	put(list, cap, o, name, strlen(name));
	list[*o] = '\0';
}

static bool
is_time_type(SQLSMALLINT t)
{
	return t == SQL_TYPE_TIMESTAMP || t == SQL_TYPE_DATE || t == SQL_TIMESTAMP ||
	       t == SQL_DATE;
}

/* Find the importer's columns among the result's: 0, or -EBADMSG / -EIO after reporting. */
static int
map_columns(struct sync *s, SQLHSTMT st)
{
	char list[COL_LIST_MAX] = "", why[SUPPRESS_SYNC_MSG_MAX];
	size_t lo = 0;
	SQLSMALLINT n;
	SQLRETURN r;

	r = SQLNumResultCols(st, &n);
	if (!SQL_SUCCEEDED(r)) {
		report(s, "query failed: %s", diag(s, SQL_HANDLE_STMT, st, why, sizeof(why)));
		return -EIO;
	}
	if (n <= 0) {
		report(s, "the query returns no result set (it should be a SELECT)");
		return -EBADMSG;
	}
	s->st.columns = (uint32_t)n;
	for (SQLUSMALLINT i = 1; i <= (SQLUSMALLINT)n; i++) {
		SQLCHAR name[COL_NAME_MAX];
		SQLSMALLINT name_len, type, digits, nullable;
		SQLULEN size;
		int c;

		r = SQLDescribeCol(st, i, name, sizeof(name), &name_len, &type, &size, &digits,
				   &nullable);
		if (!SQL_SUCCEEDED(r)) {
			report(s, "cannot describe column %u: %s", i,
			       diag(s, SQL_HANDLE_STMT, st, why, sizeof(why)));
			return -EIO;
		}
		if (name_len >= (SQLSMALLINT)sizeof(name))
			name_len = sizeof(name) - 1; /* cut: it matches nothing, still listed */
		name[name_len] = '\0';
		list_add(list, sizeof(list), &lo, name_len > 0 ? (const char *)name : "(unnamed)");
		c = suppress_import_column_of(s->io, slice_make(name, (size_t)name_len));
		/* The first column of a kind wins, as in a CSV header. */
		if (c < 0 || c >= SUPPRESS_COL__COUNT || s->col[c].index != 0)
			continue;
		s->col[c].index = i;
		s->col[c].is_time = (c == SUPPRESS_COL_OPTOUT || c == SUPPRESS_COL_CONSENT) &&
				    is_time_type(type);
		memcpy(s->col[c].name, name, (size_t)name_len + 1);
		s->st.mapped++;
	}
	if (s->col[SUPPRESS_COL_ADDR].index == 0 || s->col[SUPPRESS_COL_OPTOUT].index == 0) {
		bool no_addr = s->col[SUPPRESS_COL_ADDR].index == 0;
		bool no_date = s->col[SUPPRESS_COL_OPTOUT].index == 0;

		report(s, "the query returns no %s%s%s column; its columns are: %s (name them as "
			  "the importer does, e.g. SELECT addr AS email, ts AS optout_date)",
		       no_addr ? "address" : "", no_addr && no_date ? " and no " : "",
		       no_date ? "opt-out time" : "", list);
		return -EBADMSG;
	}
	/* SQLGetData must go left to right (drivers need not support SQL_GD_ANY_ORDER). */
	for (unsigned c = 0; c < SUPPRESS_COL__COUNT; c++) {
		unsigned j = s->n_order;

		if (s->col[c].index == 0)
			continue;
		while (j > 0 && s->col[s->order[j - 1]].index > s->col[c].index) {
			s->order[j] = s->order[j - 1];
			j--;
		}
		s->order[j] = c;
		s->n_order++;
	}
	return 0;
}

/* UTF-16 to UTF-8: 0, -EILSEQ (a lone surrogate), -E2BIG (more than cap bytes). */
static int
utf16_to_utf8(const SQLWCHAR *w, size_t n, char *out, size_t cap, size_t *len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t cp = w[i];
		uint8_t b[4];
		size_t k;

		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (i + 1 == n || w[i + 1] < 0xdc00 || w[i + 1] > 0xdfff)
				return -EILSEQ;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (w[++i] - 0xdc00u);
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			return -EILSEQ;
		}
		if (cp < 0x80) {
			b[0] = (uint8_t)cp;
			k = 1;
		} else if (cp < 0x800) {
			b[0] = (uint8_t)(0xc0 | (cp >> 6));
			b[1] = (uint8_t)(0x80 | (cp & 0x3f));
			k = 2;
		} else if (cp < 0x10000) {
			b[0] = (uint8_t)(0xe0 | (cp >> 12));
			b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
			b[2] = (uint8_t)(0x80 | (cp & 0x3f));
			k = 3;
		} else {
			b[0] = (uint8_t)(0xf0 | (cp >> 18));
			b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
			b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
			b[3] = (uint8_t)(0x80 | (cp & 0x3f));
			k = 4;
		}
		if (k > cap - o)
			return -E2BIG;
		memcpy(out + o, b, k);
		o += k;
	}
	*len = o;
	return 0;
}

enum value_status { VALUE_OK = 0, VALUE_BAD = 1 };

/*
 * Read column c of the current row into its buffer: VALUE_OK, or VALUE_BAD (reported: the row
 * is refused). A driver failure that is not about the value (a lost connection) shows at the
 * next SQLFetch, which ends the sync.
 */
static enum value_status
read_value(struct sync *s, SQLHSTMT st, unsigned c)
{
	struct sync_col *col = &s->col[c];
	char why[SUPPRESS_SYNC_MSG_MAX];
	SQLLEN ind = 0;
	SQLRETURN r;
	int rc;

	col->len = 0;
	if (col->is_time) {
		SQL_TIMESTAMP_STRUCT ts;

		r = SQLGetData(st, col->index, SQL_C_TYPE_TIMESTAMP, &ts, sizeof(ts), &ind);
		if (r == SQL_ERROR) {
			/* a value the driver cannot convert (22007, 22018): this row's fault */
			report_row(s, "%s: %s", col->name,
				   diag(s, SQL_HANDLE_STMT, st, why, sizeof(why)));
			return VALUE_BAD;
		}
		if (!SQL_SUCCEEDED(r) || ind == SQL_NULL_DATA)
			return VALUE_OK;
		/* the set keeps whole seconds: the fraction is dropped, not rounded */
		rc = snprintf(col->buf, SUPPRESS_IMPORT_FIELD_MAX, "%04d-%02u-%02u %02u:%02u:%02u",
			      (int)ts.year, (unsigned)ts.month, (unsigned)ts.day, (unsigned)ts.hour,
			      (unsigned)ts.minute, (unsigned)ts.second);
		col->len = rc > 0 ? (size_t)rc : 0;
		return VALUE_OK;
	}

	const SQLLEN cap = (SQLLEN)(SUPPRESS_IMPORT_FIELD_MAX * sizeof(SQLWCHAR));

	r = SQLGetData(st, col->index, SQL_C_WCHAR, s->wbuf, cap + (SQLLEN)sizeof(SQLWCHAR),
		       &ind);
	if (r == SQL_ERROR) {
		report_row(s, "%s: %s", col->name, diag(s, SQL_HANDLE_STMT, st, why, sizeof(why)));
		return VALUE_BAD;
	}
	if (!SQL_SUCCEEDED(r) || ind == SQL_NULL_DATA)
		return VALUE_OK; /* SQL_NO_DATA: nothing (more) to read */
	/* Truncated (01004): more than FIELD_MAX code units, each at least one UTF-8 byte. */
	if (ind == SQL_NO_TOTAL || ind < 0 || ind > cap) {
		report_row(s, "bad %s: longer than %u bytes (column %s)", col_what[c],
			   SUPPRESS_IMPORT_FIELD_MAX, col->name);
		return VALUE_BAD;
	}
	rc = utf16_to_utf8(s->wbuf, (size_t)ind / sizeof(SQLWCHAR), col->buf,
			   SUPPRESS_IMPORT_FIELD_MAX, &col->len);
	if (rc == -E2BIG) {
		report_row(s, "bad %s: longer than %u bytes (column %s)", col_what[c],
			   SUPPRESS_IMPORT_FIELD_MAX, col->name);
		return VALUE_BAD;
	}
	if (rc < 0) {
		report_row(s, "bad %s: not valid text, a lone UTF-16 surrogate (column %s)",
			   col_what[c], col->name);
		return VALUE_BAD;
	}
	return VALUE_OK;
}

static struct slice
col_slice(const struct sync *s, unsigned c)
{
	const struct sync_col *col = &s->col[c];

	return col->index == 0 ? slice_make("", 0) : slice_make(col->buf, col->len);
}

/* Fetch every row into the importer: 0 or a negative errno (reported). */
static int
fetch_rows(struct sync *s, SQLHSTMT st, struct suppress_import *im)
{
	char why[SUPPRESS_SYNC_MSG_MAX];

	for (;;) {
		SQLRETURN r = SQLFetch(st);
		bool bad = false;
		int rc;

		if (r == SQL_NO_DATA)
			return 0;
		if (!SQL_SUCCEEDED(r)) {
			report(s, "fetching row %" PRIu64 " failed: %s", s->st.rows + 1,
			       diag(s, SQL_HANDLE_STMT, st, why, sizeof(why)));
			return -EIO;
		}
		s->st.rows++;
		for (unsigned k = 0; k < s->n_order && !bad; k++)
			bad = read_value(s, st, s->order[k]) == VALUE_BAD;
		if (bad) {
			im->n_bad++;
			continue;
		}
		struct suppress_row row = {
			.addr = col_slice(s, SUPPRESS_COL_ADDR),
			.optout = col_slice(s, SUPPRESS_COL_OPTOUT),
			.consent = col_slice(s, SUPPRESS_COL_CONSENT),
			.scope = col_slice(s, SUPPRESS_COL_SCOPE),
			.line = s->st.rows,
		};

		rc = suppress_import_row(im, &row);
		if (rc < 0)
			return rc; /* the importer reported it */
	}
}

/*
 * Best effort: a driver that does not support a timeout still syncs. Read-only is a hint that
 * many drivers ignore (psqlODBC does): what keeps the sync from changing the CRM is a role
 * that may only SELECT, which the documentation asks for.
 */
static void
set_conn_attrs(SQLHDBC dbc, unsigned timeout)
{
	(void)SQLSetConnectAttr(dbc, SQL_ATTR_LOGIN_TIMEOUT, (SQLPOINTER)(uintptr_t)timeout, 0);
	(void)SQLSetConnectAttr(dbc, SQL_ATTR_CONNECTION_TIMEOUT, (SQLPOINTER)(uintptr_t)timeout,
				0);
	(void)SQLSetConnectAttr(dbc, SQL_ATTR_ACCESS_MODE, (SQLPOINTER)SQL_MODE_READ_ONLY, 0);
}

int
suppress_sync_fetch(struct suppress_import *im, const struct suppress_import_opts *io,
		    const struct suppress_sync_opts *so, struct suppress_sync_stats *st)
{
	struct sync s = {
		.io = io,
		.err = so->err != NULL ? so->err : stderr,
		.name = io->name != NULL ? io->name : "sync",
	};
	char why[SUPPRESS_SYNC_MSG_MAX], shown[DSN_SHOWN];
	unsigned timeout = so->timeout != 0 ? so->timeout : SUPPRESS_SYNC_TIMEOUT;
	SQLHENV env = SQL_NULL_HENV;
	SQLHDBC dbc = SQL_NULL_HDBC;
	SQLHSTMT stmt = SQL_NULL_HSTMT;
	SQLRETURN r;
	int rc, end_rc;

	if (so->dsn == NULL || so->dsn[0] == '\0') {
		report(&s, "no connection string (suppress_sync_dsn in the configuration, or "
			   "--dsn)");
		rc = -EINVAL;
		goto out;
	}
	if (so->query == NULL || so->query[0] == '\0') {
		report(&s, "no query (suppress_sync_query in the configuration, or --query)");
		rc = -EINVAL;
		goto out;
	}
	s.pwd = dsn_password(so->dsn);

	r = SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
	if (!SQL_SUCCEEDED(r)) {
		report(&s, "cannot set up ODBC (unixODBC's environment)");
		rc = -ENOMEM;
		goto out;
	}
	r = SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0);
	if (!SQL_SUCCEEDED(r)) {
		report(&s, "cannot set up ODBC 3: %s", diag(&s, SQL_HANDLE_ENV, env, why,
							      sizeof(why)));
		rc = -EIO;
		goto free_env;
	}
	r = SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc);
	if (!SQL_SUCCEEDED(r)) {
		report(&s, "cannot set up an ODBC connection: %s",
		       diag(&s, SQL_HANDLE_ENV, env, why, sizeof(why)));
		rc = -ENOMEM;
		goto free_env;
	}
	set_conn_attrs(dbc, timeout);
	r = SQLDriverConnect(dbc, NULL, (SQLCHAR *)so->dsn, SQL_NTS, NULL, 0, NULL,
			     SQL_DRIVER_NOPROMPT);
	if (!SQL_SUCCEEDED(r)) {
		report(&s, "connect failed (%s): %s",
		       suppress_sync_mask_dsn(so->dsn, shown, sizeof(shown)),
		       diag(&s, SQL_HANDLE_DBC, dbc, why, sizeof(why)));
		rc = -ENOTCONN;
		goto free_dbc;
	}
	r = SQLAllocHandle(SQL_HANDLE_STMT, dbc, &stmt);
	if (!SQL_SUCCEEDED(r)) {
		report(&s, "cannot set up a statement: %s",
		       diag(&s, SQL_HANDLE_DBC, dbc, why, sizeof(why)));
		rc = -ENOMEM;
		goto disconnect;
	}
	(void)SQLSetStmtAttr(stmt, SQL_ATTR_QUERY_TIMEOUT, (SQLPOINTER)(uintptr_t)timeout, 0);
	r = SQLExecDirect(stmt, (SQLCHAR *)so->query, SQL_NTS);
	if (!SQL_SUCCEEDED(r) && r != SQL_NO_DATA) {
		report(&s, "query failed: %s", diag(&s, SQL_HANDLE_STMT, stmt, why, sizeof(why)));
		rc = -EIO;
		goto free_stmt;
	}
	rc = map_columns(&s, stmt);
	if (rc < 0)
		goto free_stmt;

	s.wbuf = malloc((SUPPRESS_IMPORT_FIELD_MAX + 1) * sizeof(SQLWCHAR));
	rc = s.wbuf == NULL ? -ENOMEM : 0;
	for (unsigned c = 0; c < SUPPRESS_COL__COUNT && rc == 0; c++) {
		if (s.col[c].index == 0)
			continue;
		s.col[c].buf = malloc(SUPPRESS_IMPORT_FIELD_MAX);
		if (s.col[c].buf == NULL)
			rc = -ENOMEM;
	}
	if (rc < 0) {
		report(&s, "out of memory");
		goto free_bufs;
	}

	/* Rows only, whatever format the caller's options name; the copy outlives end(). */
	struct suppress_import_opts rows_opts = *io;

	rows_opts.format = SUPPRESS_FMT_ROWS;
	rc = suppress_import_begin(im, &rows_opts);
	if (rc < 0) {
		report(&s, "cannot start the import: %s", strerror(-rc));
		goto free_bufs;
	}
	rc = fetch_rows(&s, stmt, im);
	end_rc = suppress_import_end(im);
	if (rc == 0)
		rc = end_rc;

free_bufs:
	for (unsigned c = 0; c < SUPPRESS_COL__COUNT; c++)
		free(s.col[c].buf);
	free(s.wbuf);
free_stmt:
	SQLFreeHandle(SQL_HANDLE_STMT, stmt);
disconnect:
	SQLDisconnect(dbc);
free_dbc:
	SQLFreeHandle(SQL_HANDLE_DBC, dbc);
free_env:
	SQLFreeHandle(SQL_HANDLE_ENV, env);
out:
	if (st != NULL)
		*st = s.st;
	return rc;
}
