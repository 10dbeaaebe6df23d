/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MIME message parser; see mime.h. One state machine over lines: at each line start the bytes
 * are examined as a possible boundary delimiter of an enclosing multipart (only lines that
 * begin "--" are, and only up to MIME_CANDIDATE_MAX bytes), then either read as a header line
 * of the innermost entity or streamed as its content. The line end of a content line is held
 * back until the next line shows it is not a boundary: RFC 2046 5.1.1 gives the CRLF before a
 * delimiter to the delimiter, so it is not part of the part (a sensor that counts it changes
 * every hash and signature over the part). Worker lcores.
 */
#include <string.h>

#include "ascii.h"
#include "mime.h"
#include "mime_words.h"

/* What the entity at a level is doing. */
enum level_state {
	LV_HEADERS = 0,  /* reading its header block */
	LV_LEAF,         /* content, decoded and handed out */
	LV_PREAMBLE,     /* a multipart before its first delimiter */
	LV_CHILD,        /* a multipart whose current part is the next level */
	LV_MESSAGE,      /* message/rfc822 whose message is the next level */
	LV_DONE,         /* a multipart after its close delimiter: epilogue, ignored */
};

/* Where the parser is in the current line. */
enum line_state {
	LS_BOL = 0,      /* at a line start */
	LS_CAND,         /* collecting a line that may be a boundary delimiter */
	LS_HDR,          /* collecting a header line */
	LS_BODY,         /* streaming a content line */
};

enum eol {
	EOL_NONE = 0,
	EOL_LF,
	EOL_CRLF,
};

#define HOOK(m, name, ...)                                                                 \
	do {                                                                               \
		if ((m)->hooks->name != NULL)                                              \
			(m)->hooks->name(__VA_ARGS__);                                     \
	} while (0)

static const struct mime_hooks no_hooks;

static const char *const anomaly_names[MIME_AN__COUNT] = {
	[MIME_AN_HEADER_TOO_LONG] = "header_too_long",
	[MIME_AN_TOO_MANY_HEADERS] = "too_many_headers",
	[MIME_AN_DEPTH] = "depth",
	[MIME_AN_BAD_BOUNDARY] = "bad_boundary",
	[MIME_AN_MISSING_BOUNDARY] = "missing_boundary",
	[MIME_AN_NO_PARTS] = "no_parts",
	[MIME_AN_BASE64_GARBAGE] = "base64_garbage",
	[MIME_AN_QP_MALFORMED] = "qp_malformed",
	[MIME_AN_UNKNOWN_CTE] = "unknown_cte",
	[MIME_AN_NAME_MISMATCH] = "name_mismatch",
	[MIME_AN_BAD_HEADER] = "bad_header",
};

const char *
mime_anomaly_name(enum mime_anomaly what)
{
	return (unsigned)what < MIME_AN__COUNT ? anomaly_names[what] : NULL;
}

static void
anomaly(struct mime_parser *m, enum mime_anomaly what)
{
	m->n_anomalies[what]++;
	HOOK(m, on_anomaly, m->ctx, what);
}

static struct mime_level *
cur(struct mime_parser *m)
{
	return &m->level[m->depth];
}

/* ---- header field values: type, parameters (RFC 2045 5.1, RFC 2231) ---- */

static bool
is_tspecial(uint8_t c)
{
	return c <= ' ' || c >= 0x7f || strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

/* Skip whitespace and RFC 5322 comments ("(...)", nested, with quoted pairs). */
static size_t
skip_cfws(struct slice v, size_t i)
{
	while (i < v.len) {
		if (ascii_is_wsp(v.ptr[i]) || v.ptr[i] == '\r' || v.ptr[i] == '\n') {
			i++;
		} else if (v.ptr[i] == '(') {
			unsigned nest = 0;

			for (; i < v.len; i++) {
				if (v.ptr[i] == '\\' && i + 1 < v.len)
					i++;
				else if (v.ptr[i] == '(')
					nest++;
				else if (v.ptr[i] == ')' && --nest == 0)
					break;
			}
			i++;
		} else {
			break;
		}
	}
	return i;
}

static size_t
token_end(struct slice v, size_t i)
{
	while (i < v.len && !is_tspecial(v.ptr[i]))
		i++;
	return i;
}

/* One "name=value" of a parameter list; value raw (a quoted string keeps its quotes). */
struct param {
	struct slice name;
	struct slice value;
};

/* The next parameter after position *pos (which is at or before a ';'); false at the end. */
static bool
param_next(struct slice v, size_t *pos, struct param *p)
{
	size_t i = *pos;

	for (;;) {
		/* to the next ';' outside a quoted string */
		bool quoted = false;

		for (; i < v.len; i++) {
			if (quoted && v.ptr[i] == '\\')
				i++;
			else if (v.ptr[i] == '"')
				quoted = !quoted;
			else if (!quoted && v.ptr[i] == ';')
				break;
		}
		if (i >= v.len)
			return false;
		i = skip_cfws(v, i + 1);
		size_t n0 = i;

		i = token_end(v, i);
		p->name = slice_make(v.ptr + n0, i - n0);
		i = skip_cfws(v, i);
		if (p->name.len == 0 || i >= v.len || v.ptr[i] != '=')
			continue; /* "; ;" or a name with no value: skipped */
		i = skip_cfws(v, i + 1);
		size_t v0 = i;

		if (i < v.len && v.ptr[i] == '"') {
			for (i++; i < v.len && v.ptr[i] != '"'; i++)
				if (v.ptr[i] == '\\')
					i++;
			if (i < v.len)
				i++;
			if (i > v.len)
				i = v.len;
		} else {
			/* tolerate what senders put in unquoted values: all but ';' and space */
			while (i < v.len && v.ptr[i] != ';' && !ascii_is_wsp(v.ptr[i]))
				i++;
		}
		p->value = slice_make(v.ptr + v0, i - v0);
		*pos = i;
		return true;
	}
}

/* Copy a parameter value, unquoting a quoted string; returns the bytes written (<= cap). */
static size_t
param_copy(struct slice val, uint8_t *out, size_t cap)
{
	size_t n = 0, i = 0, end = val.len;

	if (val.len > 0 && val.ptr[0] == '"') {
		i = 1;
		if (end > 1 && val.ptr[end - 1] == '"')
			end--;
	}
	for (; i < end && n < cap; i++) {
		if (val.ptr[0] == '"' && val.ptr[i] == '\\' && i + 1 < end)
			i++;
		out[n++] = val.ptr[i];
	}
	return n;
}

/* RFC 2231 extended value: %XX escapes decoded, other bytes as they are. */
static size_t
pct_decode(struct slice v, uint8_t *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < v.len && n < cap; i++) {
		int h, l;

		if (v.ptr[i] == '%' && i + 2 < v.len && (h = ascii_hex_digit(v.ptr[i + 1])) >= 0 &&
		    (l = ascii_hex_digit(v.ptr[i + 2])) >= 0) {
			out[n++] = (uint8_t)(h << 4 | l);
			i += 2;
		} else {
			out[n++] = v.ptr[i];
		}
	}
	return n;
}

/*
 * Does the parameter name `pn` name attribute `attr`, as attr, attr*, attr*N or attr*N*?
 * *section is N (-1 for none), *extended whether the value is RFC 2231 encoded.
 */
static bool
param_is(struct slice pn, const char *attr, int *section, bool *extended)
{
	size_t al = strlen(attr), i;
	int sec = -1;

	if (pn.len < al)
		return false;
	for (i = 0; i < al; i++)
		if (ascii_lower(pn.ptr[i]) != (uint8_t)attr[i])
			return false;
	*extended = false;
	if (i < pn.len && pn.ptr[i] == '*') {
		i++;
		if (i < pn.len && pn.ptr[i] >= '0' && pn.ptr[i] <= '9') {
			for (sec = 0; i < pn.len && pn.ptr[i] >= '0' && pn.ptr[i] <= '9'; i++)
				if (sec < 1000)
					sec = sec * 10 + (pn.ptr[i] - '0');
			if (i < pn.len && pn.ptr[i] == '*') {
				*extended = true;
				i++;
			}
		} else {
			*extended = true;
		}
	}
	*section = sec;
	return i == pn.len;
}

/* First parameter named attr with this section (-1: attr or attr*, as `extended` says). */
static bool
param_find(struct slice v, const char *attr, int section, bool extended, struct slice *val,
	   bool *is_ext)
{
	struct param p;
	size_t pos = 0;
	int sec;
	bool ext;

	while (param_next(v, &pos, &p)) {
		if (!param_is(p.name, attr, &sec, &ext) || sec != section)
			continue;
		if (section < 0 && ext != extended)
			continue;
		*val = p.value;
		*is_ext = ext;
		return true;
	}
	return false;
}

#define PARAM_SECTIONS_MAX 64

/*
 * RFC 2231 value of attr (attr*, or the sections attr*0, attr*1, ... joined in order, each
 * %-encoded when marked with '*'), in raw bytes; the charset named by its first section, if
 * any. False when there is no such parameter.
 */
static bool
param_extended(struct slice v, const char *attr, uint8_t *raw, size_t cap, size_t *raw_len,
	       struct slice *charset)
{
	struct slice val;
	bool ext;
	size_t n = 0;
	int sec = -1;

	*charset = slice_make(NULL, 0);
	if (!param_find(v, attr, -1, true, &val, &ext)) {
		sec = 0;
		if (!param_find(v, attr, 0, false, &val, &ext))
			return false;
	}
	for (;;) {
		uint8_t tmp[MIME_NAME_MAX * 3];
		size_t t;

		if (ext && sec <= 0) {
			/* charset'language'text */
			const uint8_t *q1 = memchr(val.ptr, '\'', val.len), *q2 = NULL;

			if (q1 != NULL)
				q2 = memchr(q1 + 1, '\'', val.len - (size_t)(q1 + 1 - val.ptr));
			if (q2 != NULL) {
				*charset = slice_make(val.ptr, (size_t)(q1 - val.ptr));
				val = slice_make(q2 + 1, val.len - (size_t)(q2 + 1 - val.ptr));
			}
		}
		if (ext) {
			t = param_copy(val, tmp, sizeof(tmp));
			n += pct_decode(slice_make(tmp, t), raw + n, cap - n);
		} else {
			n += param_copy(val, raw + n, cap - n);
		}
		if (sec < 0 || ++sec == PARAM_SECTIONS_MAX ||
		    !param_find(v, attr, sec, false, &val, &ext))
			break;
	}
	*raw_len = n;
	return true;
}

/* Header text to UTF-8: RFC 2047 words decoded when there are any. */
static size_t
words_decode(struct mime_parser *m, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	if (m->words != NULL && memmem(in, len, "=?", 2) != NULL)
		return mime_words_decode(m->words, in, len, out, cap, NULL, NULL);
	if (len > cap)
		len = cap;
	memcpy(out, in, len);
	return len;
}

/*
 * Value of parameter attr in header value v, decoded to UTF-8 into out (cap bytes): the
 * RFC 2231 form when given (converted from its charset when iconv knows it, else kept raw),
 * else the plain attr, RFC 2047 words decoded (mail clients decode them there, though
 * RFC 2047 5 forbids them). Returns the bytes written, or -1 when the parameter is absent.
 * Both forms given and different: counted, as an evasion attempt may be.
 */
static long
param_value(struct mime_parser *m, struct slice v, const char *attr, uint8_t *out, size_t cap)
{
	uint8_t raw[MIME_NAME_MAX * 3], plain[MIME_NAME_MAX];
	struct slice charset, pv = { 0 }; /* -O3 cannot see that param_find sets it */
	size_t raw_len, n;
	long conv = -1;
	bool ext, have_plain = param_find(v, attr, -1, false, &pv, &ext);

	if (!param_extended(v, attr, raw, sizeof(raw), &raw_len, &charset)) {
		if (!have_plain)
			return -1;
		n = param_copy(pv, raw, sizeof(raw));
		return (long)words_decode(m, raw, n, out, cap);
	}
	if (charset.len > 0 && m->words != NULL)
		conv = mime_words_to_utf8(m->words, charset.ptr, charset.len, raw, raw_len, out, cap);
	if (conv < 0) {
		conv = (long)(raw_len < cap ? raw_len : cap);
		memcpy(out, raw, (size_t)conv);
	}
	if (have_plain) {
		/*
		 * filename= and filename*= disagree: clients differ on which they show
		 * (Thunderbird the extended one, Python's email the plain one), which is what
		 * an evasion needs. The RFC 2231 one is reported, the disagreement counted.
		 */
		n = param_copy(pv, raw, sizeof(raw));
		n = words_decode(m, raw, n, plain, sizeof(plain));
		if (n != (size_t)conv || memcmp(plain, out, n) != 0)
			anomaly(m, MIME_AN_NAME_MISMATCH);
	}
	return conv;
}

static void
header_content_type(struct mime_parser *m, struct mime_level *l, struct slice v)
{
	size_t i = skip_cfws(v, 0), t0 = i, t1, s0, s1;
	struct param p;
	size_t pos;
	int sec;
	bool ext;

	t1 = token_end(v, i);
	i = skip_cfws(v, t1);
	if (t1 > t0 && i < v.len && v.ptr[i] == '/') {
		s0 = skip_cfws(v, i + 1);
		s1 = token_end(v, s0);
		if (s1 > s0 && (t1 - t0) + 1 + (s1 - s0) < MIME_TYPE_MAX) {
			size_t n = 0;

			for (size_t k = t0; k < t1; k++)
				l->part.type[n++] = (char)ascii_lower(v.ptr[k]);
			l->part.type[n++] = '/';
			for (size_t k = s0; k < s1; k++)
				l->part.type[n++] = (char)ascii_lower(v.ptr[k]);
			l->part.type[n] = '\0';
			l->part.type_len = (uint8_t)n;
		}
	}
	/* An invalid type leaves the default (RFC 2045 5.2: text/plain; charset=us-ascii). */
	pos = 0;
	while (param_next(v, &pos, &p)) {
		if (param_is(p.name, "boundary", &sec, &ext) && sec < 0 && !ext) {
			uint8_t b[MIME_BOUNDARY_MAX + 1];
			size_t n = param_copy(p.value, b, sizeof(b));

			/* trailing spaces are not part of a boundary (RFC 2046 bchars) */
			while (n > 0 && b[n - 1] == ' ')
				n--;
			if (n > MIME_BOUNDARY_MAX || n == 0) {
				l->boundary_len = 0;
			} else {
				memcpy(l->boundary, b, n);
				l->boundary_len = (uint8_t)n;
			}
		} else if (param_is(p.name, "charset", &sec, &ext) && sec < 0 && !ext) {
			uint8_t c[MIME_CHARSET_MAX];
			size_t n = param_copy(p.value, c, sizeof(c) - 1);

			for (size_t k = 0; k < n; k++)
				l->part.charset[k] = (char)ascii_lower(c[k]);
			l->part.charset[n] = '\0';
			l->part.charset_len = (uint8_t)n;
		}
	}
	l->type_seen = true;
	/* name= is the older way to name a file: a fallback when no filename= is given */
	long n = param_value(m, v, "name", l->ct_name, sizeof(l->ct_name));

	l->ct_name_len = n > 0 ? (uint16_t)n : 0;
}

static void
header_field(struct mime_parser *m, struct mime_level *l, struct slice name, struct slice v)
{
	if (slice_eq_nocase(name, "content-type")) {
		if (!l->type_seen) /* the first one counts, as in most readers */
			header_content_type(m, l, v);
	} else if (slice_eq_nocase(name, "content-transfer-encoding")) {
		if (!l->cte_seen) {
			l->part.cte = (uint8_t)mime_cte_parse(v.ptr, v.len);
			l->cte_seen = true;
		}
	} else if (slice_eq_nocase(name, "content-disposition")) {
		size_t i = skip_cfws(v, 0), e = token_end(v, i);

		long n;

		if (e - i == 10 && slice_starts_nocase(slice_make(v.ptr + i, e - i), "attachment"))
			l->part.attachment = true;
		if (l->part.name_len == 0) {
			n = param_value(m, v, "filename", l->part.name, sizeof(l->part.name));
			if (n > 0)
				l->part.name_len = (uint16_t)n;
		}
	}
}

/* ---- the header block ---- */

/* The unfolded header in m->hdr[0..hdr_len) is complete: hand it out and interpret it. */
static void
header_emit(struct mime_parser *m)
{
	struct mime_level *l = cur(m);
	const uint8_t *colon;
	struct slice name, value;

	if (m->hdr_len == 0)
		return;
	colon = memchr(m->hdr, ':', m->hdr_len);
	if (colon != NULL) {
		/*
		 * Headers cost no memory here, so none is skipped: stuffing hundreds before the
		 * Subject must not hide it. The count is an anomaly past the mark.
		 */
		if (l->n_headers < UINT16_MAX && ++l->n_headers == MIME_HEADERS_MAX + 1)
			anomaly(m, MIME_AN_TOO_MANY_HEADERS);
		name = slice_trim(slice_make(m->hdr, (size_t)(colon - m->hdr)));
		value = slice_trim(slice_make(colon + 1, (size_t)(m->hdr + m->hdr_len - colon - 1)));
		HOOK(m, on_header, m->ctx, &l->part, name, value);
		header_field(m, l, name, value);
	}
	m->hdr_len = 0;
	m->hdr_overflow = false;
}

/* A header line: name characters (printable, no colon) up to a colon, maybe with WSP before. */
static bool
is_header_line(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n && p[i] > ' ' && p[i] < 0x7f && p[i] != ':')
		i++;
	if (i == 0)
		return false;
	while (i < n && ascii_is_wsp(p[i]))
		i++;
	return i < n && p[i] == ':';
}

static void content(struct mime_parser *m, const uint8_t *p, size_t n);
static void headers_end(struct mime_parser *m);
static void hold_eol(struct mime_parser *m, enum eol e);

/*
 * The physical header line in m->hdr (n bytes, the pending header already handed out) is no
 * header: the block ends without its empty line and this is the first line of the content.
 */
static void
line_to_body(struct mime_parser *m, size_t n)
{
	anomaly(m, MIME_AN_BAD_HEADER);
	m->line_len = 0;
	m->line_seen = 0;
	headers_end(m);
	content(m, m->hdr, n);
}

/*
 * The physical header line is complete (line end `eol`, already dropped): line_seen bytes, of
 * which the first line_len are in m->hdr[hdr_len ..] (the rest did not fit). Unfolding
 * (RFC 5322 2.2.3) keeps the whitespace that starts a continuation and drops the line break.
 */
static void
header_line(struct mime_parser *m, enum eol eol)
{
	uint8_t *line = m->hdr + m->hdr_len;
	size_t n = m->line_len, seen = m->line_seen;

	m->line_len = 0;
	m->line_seen = 0;
	if (seen == 0) {
		header_emit(m);
		headers_end(m);
		return;
	}
	if (ascii_is_wsp(m->line_first)) {
		/* a continuation; with nothing to continue (the block's first line) dropped */
		if (m->hdr_len > 0)
			m->hdr_len = (uint16_t)(m->hdr_len + n);
		return;
	}
	if (is_header_line(line, n)) {
		header_emit(m);
		memmove(m->hdr, line, n);
		m->hdr_len = (uint16_t)n;
		return;
	}
	line_to_body(m, n);
	hold_eol(m, eol);
}

/*
 * The first byte of a header line: a line that starts a new header first hands out the pending
 * one, so that a header always has the whole buffer. Idempotent until bytes are stored.
 */
static void
header_line_begin(struct mime_parser *m, uint8_t first)
{
	m->line_first = first;
	if (!ascii_is_wsp(first))
		header_emit(m);
}

/* Bytes of a header line (no line end); what does not fit is counted and dropped. */
static void
header_bytes(struct mime_parser *m, const uint8_t *p, size_t n)
{
	size_t room;

	if (n == 0)
		return;
	if (m->line_seen == 0)
		header_line_begin(m, p[0]);
	m->line_seen += (uint32_t)n;
	room = MIME_HEADER_MAX - m->hdr_len - m->line_len;

	if (n > room) {
		n = room;
		if (!m->hdr_overflow) {
			m->hdr_overflow = true;
			anomaly(m, MIME_AN_HEADER_TOO_LONG);
		}
	}
	memcpy(m->hdr + m->hdr_len + m->line_len, p, n);
	m->line_len = (uint16_t)(m->line_len + n);
}

/* ---- entities ---- */

static void
part_defaults(struct mime_level *l, bool digest_child)
{
	memset(&l->part, 0, sizeof(l->part));
	strcpy(l->part.type, digest_child ? "message/rfc822" : "text/plain");
	l->part.type_len = (uint8_t)strlen(l->part.type);
	l->part.cte = MIME_CTE_7BIT;
	l->state = LV_HEADERS;
	l->boundary_len = 0;
	l->saw_part = false;
	l->digest = false;
	l->type_seen = false;
	l->cte_seen = false;
	l->n_headers = 0;
	l->ct_name_len = 0;
}

static void
level_push(struct mime_parser *m)
{
	bool digest = cur(m)->digest;

	m->depth++;
	part_defaults(cur(m), digest);
	cur(m)->part.depth = m->depth;
	cur(m)->part.index = ++m->n_entities;
}

static bool
type_is(const struct mime_level *l, const char *t)
{
	return strcmp(l->part.type, t) == 0;
}

static void
url_found(void *ctx, const uint8_t *url, size_t len, bool truncated)
{
	struct mime_parser *m = ctx;

	HOOK(m, on_url, m->ctx, &cur(m)->part, slice_make(url, len), truncated);
}

/* Decoded bytes of the current leaf. */
static void
leaf_out(struct mime_parser *m, const uint8_t *p, size_t n)
{
	struct mime_level *l = cur(m);

	if (n == 0)
		return;
	l->part.size += n;
	HOOK(m, on_part_data, m->ctx, &l->part, slice_make(p, n));
	if (l->part.text)
		url_extract_feed(&m->urls, p, n, url_found, m);
}

/* The header block of the current entity ended: decide what its content is. */
static void
headers_end(struct mime_parser *m)
{
	struct mime_level *l = cur(m);
	bool multipart = strncmp(l->part.type, "multipart/", 10) == 0;

	if (l->part.name_len == 0 && l->ct_name_len > 0) {
		memcpy(l->part.name, l->ct_name, l->ct_name_len);
		l->part.name_len = l->ct_name_len;
	}
	if (l->part.name_len > 0)
		l->part.attachment = true;
	if (multipart && l->boundary_len == 0) {
		anomaly(m, MIME_AN_BAD_BOUNDARY);
		multipart = false;
	}
	if ((multipart || type_is(l, "message/rfc822")) && m->depth == MIME_DEPTH_MAX) {
		anomaly(m, MIME_AN_DEPTH);
		multipart = false;
	} else if (type_is(l, "message/rfc822") && l->part.cte <= MIME_CTE_BINARY) {
		/* an encapsulated message (RFC 2046 5.2.1): its own header block follows */
		l->part.message = true;
		l->state = LV_MESSAGE;
		HOOK(m, on_part_begin, m->ctx, &l->part);
		level_push(m);
		return;
	}
	if (multipart) {
		l->part.multipart = true;
		l->digest = type_is(l, "multipart/digest");
		l->state = LV_PREAMBLE;
		HOOK(m, on_part_begin, m->ctx, &l->part);
		return;
	}
	l->state = LV_LEAF;
	if (l->part.cte == MIME_CTE_UNKNOWN)
		anomaly(m, MIME_AN_UNKNOWN_CTE);
	l->part.html = type_is(l, "text/html");
	l->part.text = l->part.html || type_is(l, "text/plain");
	mime_decoder_init(&m->decoder, (enum mime_cte)l->part.cte);
	if (l->part.text)
		url_extract_init(&m->urls, l->part.html);
	HOOK(m, on_part_begin, m->ctx, &l->part);
}

/*
 * Content bytes of the innermost entity, encoded: a leaf decodes them, a multipart hands its
 * preamble and epilogue out as they are, a header block has none.
 */
static void
content(struct mime_parser *m, const uint8_t *p, size_t n)
{
	struct mime_level *l = cur(m);

	if ((l->state == LV_PREAMBLE || l->state == LV_DONE) && n > 0)
		HOOK(m, on_preamble, m->ctx, &l->part, slice_make(p, n));
	if (l->state != LV_LEAF)
		return;
	while (n > 0) {
		size_t take = n < MIME_DECODE_CHUNK ? n : MIME_DECODE_CHUNK;

		leaf_out(m, m->scratch, mime_decoder_feed(&m->decoder, p, take, m->scratch));
		p += take;
		n -= take;
	}
}

static void
hold_eol(struct mime_parser *m, enum eol e)
{
	m->eol_held = (uint8_t)e;
}

/* The held line end turned out to be content. */
static void
release_eol(struct mime_parser *m)
{
	if (m->eol_held == EOL_CRLF)
		content(m, (const uint8_t *)"\r\n", 2);
	else if (m->eol_held == EOL_LF)
		content(m, (const uint8_t *)"\n", 1);
	m->eol_held = EOL_NONE;
}

/* End the innermost entity (it is popped by the caller). */
static void
entity_end(struct mime_parser *m)
{
	struct mime_level *l = cur(m);

	switch (l->state) {
	case LV_HEADERS:
		/* ended inside its header block: it has no content */
		header_emit(m);
		m->line_len = 0;
		m->line_seen = 0;
		headers_end(m);
		if (cur(m) != l) {
			/* an encapsulated message was opened: end it too */
			entity_end(m);
			m->depth--;
		}
		entity_end(m);
		return;
	case LV_LEAF: {
		uint8_t tail[8];

		leaf_out(m, tail, mime_decoder_finish(&m->decoder, tail));
		if (l->part.text)
			url_extract_finish(&m->urls, url_found, m);
		l->part.n_garbage = m->decoder.n_garbage;
		if (m->decoder.n_garbage > 0)
			anomaly(m, l->part.cte == MIME_CTE_QP ? MIME_AN_QP_MALFORMED
							       : MIME_AN_BASE64_GARBAGE);
		break;
	}
	case LV_PREAMBLE:
	case LV_CHILD:
		anomaly(m, MIME_AN_MISSING_BOUNDARY);
		if (!l->saw_part)
			anomaly(m, MIME_AN_NO_PARTS);
		break;
	case LV_DONE:
		return; /* ended at its close delimiter */
	default:
		break;
	}
	l->state = LV_DONE;
	HOOK(m, on_part_end, m->ctx, &l->part);
}

/* End every entity deeper than level k. */
static void
end_below(struct mime_parser *m, unsigned k)
{
	while (m->depth > k) {
		entity_end(m);
		m->depth--;
	}
}

/* ---- boundary delimiters ---- */

/* Levels whose boundary a line can match: multiparts still expecting parts. */
static bool
level_has_boundary(const struct mime_level *l)
{
	return l->state == LV_PREAMBLE || l->state == LV_CHILD;
}

static bool
any_boundary(const struct mime_parser *m)
{
	for (unsigned k = 0; k <= m->depth; k++)
		if (level_has_boundary(&m->level[k]))
			return true;
	return false;
}

/*
 * Can the line that starts with cand[0..len) still be a delimiter of level k? complete: the
 * line ended there (line end dropped). A delimiter is "--" boundary ["--"] then only
 * spaces/tabs (transport padding, RFC 2046 5.1.1). *close: it is the close delimiter.
 */
static bool
cand_matches(const struct mime_level *l, const uint8_t *c, size_t len, bool complete,
	     bool *close)
{
	size_t bl = l->boundary_len, i;

	*close = false;
	for (i = 0; i < len && i < 2; i++)
		if (c[i] != '-')
			return false;
	if (len <= 2)
		return !complete;
	if (memcmp(c + 2, l->boundary, (len - 2 < bl ? len - 2 : bl)) != 0)
		return false;
	if (len < 2 + bl)
		return !complete;
	i = 2 + bl;
	if (i < len && c[i] == '-') {
		if (i + 1 == len)
			return !complete; /* "--b-": only "--b--" may follow */
		if (c[i + 1] != '-')
			return false;
		*close = true;
		i += 2;
	}
	for (; i < len; i++)
		if (!ascii_is_wsp(c[i]) && !(c[i] == '\r' && i + 1 == len && !complete))
			return false;
	return true;
}

/* Innermost level whose delimiter the complete line cand is, or -1. */
static int
cand_level(const struct mime_parser *m, const uint8_t *c, size_t len, bool *close)
{
	for (int k = m->depth; k >= 0; k--)
		if (level_has_boundary(&m->level[k]) &&
		    cand_matches(&m->level[k], c, len, true, close))
			return k;
	return -1;
}

static bool
cand_alive(const struct mime_parser *m, const uint8_t *c, size_t len)
{
	bool close;

	for (int k = m->depth; k >= 0; k--)
		if (level_has_boundary(&m->level[k]) &&
		    cand_matches(&m->level[k], c, len, false, &close))
			return true;
	return false;
}

static void
delimiter(struct mime_parser *m, unsigned k, bool close)
{
	struct mime_level *l;

	m->eol_held = EOL_NONE; /* the CRLF before a delimiter is part of it */
	end_below(m, k);
	l = cur(m);
	if (close) {
		if (!l->saw_part)
			anomaly(m, MIME_AN_NO_PARTS);
		l->state = LV_DONE;
		HOOK(m, on_part_end, m->ctx, &l->part);
		return;
	}
	l->saw_part = true;
	l->state = LV_CHILD;
	level_push(m);
}

/*
 * The bytes in cand are not a delimiter: they are the start of a header line or of content.
 * `complete`: the line ended after them (line end e).
 */
static void
cand_abandon(struct mime_parser *m, bool complete, enum eol e)
{
	uint8_t c[MIME_CANDIDATE_MAX];
	size_t n = m->cand_len;

	memcpy(c, m->cand, n);
	m->cand_len = 0;
	if (cur(m)->state == LV_HEADERS) {
		m->line_state = LS_HDR;
		m->line_len = 0;
		m->line_seen = 0;
		header_bytes(m, c, n);
		if (complete) {
			m->line_state = LS_BOL;
			header_line(m, e);
		}
		return;
	}
	release_eol(m);
	content(m, c, n);
	if (complete) {
		hold_eol(m, e);
		m->line_state = LS_BOL;
	} else {
		m->line_state = LS_BODY;
	}
}

/* The candidate line ended (line end e, or EOL_NONE at the end of the message). */
static void
cand_line_end(struct mime_parser *m, enum eol e)
{
	size_t n = m->cand_len;
	bool close;
	int k;

	if (n > 0 && m->cand[n - 1] == '\r' && e == EOL_LF) {
		n--;
		e = EOL_CRLF;
	}
	k = cand_level(m, m->cand, n, &close);
	if (k < 0) {
		m->cand_len = (uint16_t)n;
		cand_abandon(m, true, e);
		return;
	}
	m->cand_len = 0;
	m->line_state = LS_BOL;
	delimiter(m, (unsigned)k, close);
}

/* ---- feeding ---- */

static size_t
feed_bol(struct mime_parser *m, const uint8_t *p)
{
	if (p[0] == '-' && any_boundary(m)) {
		m->line_state = LS_CAND;
		m->cand_len = 0;
	} else if (cur(m)->state == LV_HEADERS) {
		m->line_state = LS_HDR;
		m->line_len = 0;
		m->line_seen = 0;
	} else {
		release_eol(m);
		m->line_state = LS_BODY;
	}
	return 0;
}

static size_t
feed_cand(struct mime_parser *m, const uint8_t *p, size_t n)
{
	size_t i = 0;

	for (; i < n; i++) {
		if (p[i] == '\n') {
			cand_line_end(m, EOL_LF);
			return i + 1;
		}
		m->cand[m->cand_len] = p[i];
		if (m->cand_len + 1u == MIME_CANDIDATE_MAX ||
		    !cand_alive(m, m->cand, m->cand_len + 1u)) {
			cand_abandon(m, false, EOL_NONE);
			return i; /* this byte is read again in the new state */
		}
		m->cand_len++;
	}
	return n;
}

static size_t
feed_hdr(struct mime_parser *m, const uint8_t *p, size_t n)
{
	const uint8_t *lf = memchr(p, '\n', n);
	size_t take = lf != NULL ? (size_t)(lf - p) : n;

	if (m->line_seen == 0 && take > 0)
		header_line_begin(m, p[0]);
	if (m->hdr_len == 0 && m->line_len == m->line_seen && m->line_len + take > MIME_HEADER_MAX) {
		/* a line too long for a header: if it is none, it is content and streams on */
		size_t room = MIME_HEADER_MAX - m->line_len;

		header_bytes(m, p, room);
		if (!ascii_is_wsp(m->hdr[0]) && !is_header_line(m->hdr, m->line_len)) {
			line_to_body(m, m->line_len);
			m->line_state = LS_BODY;
			return room;
		}
		header_bytes(m, p + room, take - room);
	} else {
		header_bytes(m, p, take);
	}
	if (lf == NULL)
		return n;
	enum eol e = EOL_LF;
	uint8_t *line = m->hdr + m->hdr_len;

	if (m->line_len > 0 && m->line_len == m->line_seen && line[m->line_len - 1] == '\r') {
		m->line_len--;
		m->line_seen--;
		e = EOL_CRLF;
	}
	m->line_state = LS_BOL;
	header_line(m, e);
	return take + 1;
}

static size_t
feed_body(struct mime_parser *m, const uint8_t *p, size_t n)
{
	const uint8_t *lf = memchr(p, '\n', n);
	size_t take = lf != NULL ? (size_t)(lf - p) : n;

	if (m->cr_held) {
		m->cr_held = false;
		if (take == 0 && lf != NULL) {
			hold_eol(m, EOL_CRLF);
			m->line_state = LS_BOL;
			return 1;
		}
		content(m, (const uint8_t *)"\r", 1);
	}
	if (lf == NULL) {
		/* a CR at the end may start the CRLF that ends the line */
		if (take > 0 && p[take - 1] == '\r') {
			m->cr_held = true;
			take--;
		}
		content(m, p, take);
		return n;
	}
	enum eol e = EOL_LF;

	if (take > 0 && p[take - 1] == '\r') {
		e = EOL_CRLF;
		take--;
	}
	content(m, p, take);
	hold_eol(m, e);
	m->line_state = LS_BOL;
	return (size_t)(lf - p) + 1;
}

void
mime_parser_feed(struct mime_parser *m, const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		switch (m->line_state) {
		case LS_BOL:
			i += feed_bol(m, p + i);
			break;
		case LS_CAND:
			i += feed_cand(m, p + i, len - i);
			break;
		case LS_HDR:
			i += feed_hdr(m, p + i, len - i);
			break;
		default:
			i += feed_body(m, p + i, len - i);
			break;
		}
	}
}

void
mime_parser_finish(struct mime_parser *m)
{
	/* the last line, unterminated, is a line all the same */
	switch (m->line_state) {
	case LS_CAND:
		cand_line_end(m, EOL_NONE);
		break;
	case LS_HDR:
		if (m->line_seen > 0)
			header_line(m, EOL_NONE);
		break;
	case LS_BODY:
		if (m->cr_held) {
			m->cr_held = false;
			content(m, (const uint8_t *)"\r", 1);
		}
		break;
	default:
		break;
	}
	m->line_state = LS_BOL;
	/* no delimiter follows: the last line end is content */
	release_eol(m);
	end_below(m, 0);
	entity_end(m);
}

void
mime_parser_init(struct mime_parser *m, const struct mime_hooks *hooks, void *ctx,
		 struct mime_words *words)
{
	m->hooks = hooks != NULL ? hooks : &no_hooks;
	m->ctx = ctx;
	m->words = words;
	m->depth = 0;
	m->line_state = LS_BOL;
	m->eol_held = EOL_NONE;
	m->cr_held = false;
	m->hdr_overflow = false;
	m->n_entities = 0;
	m->cand_len = 0;
	m->hdr_len = 0;
	m->line_len = 0;
	m->line_seen = 0;
	memset(m->n_anomalies, 0, sizeof(m->n_anomalies));
	part_defaults(&m->level[0], false);
}
