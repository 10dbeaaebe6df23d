/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * URL extractor: a byte-at-a-time state machine, so the result never depends on where the
 * caller's pieces end. While idle it keeps the last few bytes that could still begin a pattern
 * (a scheme, "www.", or in HTML an attribute name) in a small window, together with the class of
 * the byte before them, which is all the look-behind a word boundary needs; once a pattern is
 * complete the URL is collected into a fixed buffer until its terminator. Text URLs lose
 * trailing prose punctuation and unbalanced closing brackets at the end, as linkifiers do;
 * HTML attribute values are taken exactly as the browser would resolve them (quote-delimited,
 * TAB/CR/LF dropped, character references decoded). Pure C, no allocation, worker lcores only.
 */
#include <string.h>

#include "ascii.h"
#include "url_extract.h"

enum url_extract_state {
	ST_IDLE,     /* between URLs; win may hold the start of a pattern */
	ST_ATTR_EQ,  /* after an attribute name: whitespace, then '=' */
	ST_ATTR_VAL, /* after '=': whitespace, then a quote or the first byte of the value */
	ST_COLLECT,  /* appending to url */
	ST_SKIP,     /* the URL was cut at URL_EXTRACT_MAX: drop bytes up to its terminator */
};

enum url_extract_kind {
	KIND_SCHEME, /* scheme or "www." found in the text: ends at a terminator byte */
	KIND_ATTR,   /* HTML attribute value: ends at its quote, or as KIND_SCHEME if unquoted */
};

enum url_extract_prev {
	PREV_WORD,  /* ASCII letter or digit: no word boundary after it */
	PREV_SEP,   /* whitespace, quote or '/': may also precede an HTML attribute name */
	PREV_OTHER, /* any other byte */
};

struct url_pattern {
	const char *s; /* lower case */
	uint8_t len;
	uint8_t kind;
};

/* No pattern is a prefix of another, so at most one completes at any byte. */
static const struct url_pattern patterns[] = {
	{ "http://", 7, KIND_SCHEME },
	{ "https://", 8, KIND_SCHEME },
	{ "ftp://", 6, KIND_SCHEME },
	{ "www.", 4, KIND_SCHEME },
	{ "href", 4, KIND_ATTR },
	{ "src", 3, KIND_ATTR },
	{ "action", 6, KIND_ATTR }, /* <form action=>: where a phishing form posts credentials */
};

#define N_PATTERNS (sizeof(patterns) / sizeof(patterns[0]))

/* Longest character reference decoded, without '&' and ';' ("#x0010FFFF"). */
#define ENTITY_MAX 10

static inline bool
is_space(uint8_t b)
{
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f';
}

/* Bytes that end a URL outside a quoted attribute value. */
static inline bool
is_term(uint8_t b)
{
	switch (b) {
	case '"': case '\'': case '<': case '>': case '`': case '{': case '}': case '|': case '\\':
	case '^': case 0x7f:
		return true;
	default:
		return b <= 0x20;
	}
}

/*
 * Per byte: its class (enum url_extract_prev) in the low bits, and BYTE_MAY_START when it
 * can begin a pattern (h f w s a, either case: the first bytes of the patterns below).
 * Classes: PREV_WORD for ASCII letters and digits; PREV_SEP for whitespace (SP, TAB, LF, CR,
 * FF), quotes and '/'; PREV_OTHER for the rest. The idle loop, where almost every byte of a
 * body is, reads this one table instead of testing ranges.
 */
#define BYTE_CLASS 3
#define BYTE_MAY_START 4
static const uint8_t byte_info[256] = {
	2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 2, 1, 1, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	1, 2, 1, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 2, 1,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2,
	2, 4, 0, 0, 0, 0, 4, 0, 4, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 2, 2, 2, 2, 2,
	2, 4, 0, 0, 0, 0, 4, 0, 4, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

static bool
eq_nocase(const uint8_t *a, const char *lc, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(a[i]) != (uint8_t)lc[i])
			return false;
	return true;
}

/* An attribute value that is only a scheme or "www." names nothing. */
static bool
is_bare_scheme(const uint8_t *s, size_t n)
{
	for (size_t k = 0; k < N_PATTERNS; k++)
		if (patterns[k].kind == KIND_SCHEME && patterns[k].len == n &&
		    eq_nocase(s, patterns[k].s, n))
			return true;
	return false;
}

/*
 * Length of a text URL without the prose around it: trailing . , ; : ! ? and a ')' or ']' that
 * closes nothing opened inside the URL ("(see http://x/a_(b))." keeps "http://x/a_(b)").
 */
static size_t
trim_tail(const uint8_t *s, size_t n, size_t keep)
{
	size_t open_p = 0, close_p = 0, open_b = 0, close_b = 0;

	for (size_t i = 0; i < n; i++) {
		open_p += s[i] == '(';
		close_p += s[i] == ')';
		open_b += s[i] == '[';
		close_b += s[i] == ']';
	}
	while (n > keep) {
		uint8_t c = s[n - 1];

		if (c == ')' && close_p > open_p)
			close_p--;
		else if (c == ']' && close_b > open_b)
			close_b--;
		else if (c != '.' && c != ',' && c != ';' && c != ':' && c != '!' && c != '?')
			break;
		n--;
	}
	return n;
}

/*
 * The URL in u->url is complete (or cut, when truncated): check it is one, emit it, and move to
 * the next state.
 */
static void
url_done(struct url_extract *u, url_extract_fn fn, void *ctx, bool truncated)
{
	const uint8_t *s = u->url;
	size_t n = u->len;
	bool ok;

	if (u->kind == KIND_ATTR) {
		/* browsers strip leading and trailing C0 controls and spaces from a URL */
		while (n > 0 && s[0] <= 0x20) {
			s++;
			n--;
		}
		while (!truncated && n > 0 && s[n - 1] <= 0x20)
			n--;
		/* "#..." stays on the page; "" is the page itself */
		ok = n > 0 && s[0] != '#' && !is_bare_scheme(s, n);
	} else {
		if (!truncated)
			n = trim_tail(s, n, u->scheme_len);
		ok = n > u->scheme_len;
	}
	if (ok) {
		u->n_urls++;
		u->n_truncated += truncated;
		if (fn != NULL)
			fn(ctx, s, n, truncated);
	}
	u->len = 0;
	u->amp = 0;
	u->state = truncated ? ST_SKIP : ST_IDLE;
}

/*
 * Value of the character reference e[0..n) (between '&' and ';'), or -1 when it is not one we
 * decode. Only the references that can matter in a URL: &amp; and the delimiters, and numeric
 * ones, which senders use to hide a host from naive matching ("evil&#46;com").
 */
static int32_t
entity_value(const uint8_t *e, size_t n)
{
	static const struct {
		const char *name;
		uint8_t len;
		uint8_t value;
	} named[] = {
		{ "amp", 3, '&' }, { "AMP", 3, '&' }, { "quot", 4, '"' }, { "QUOT", 4, '"' },
		{ "lt", 2, '<' },  { "LT", 2, '<' },  { "gt", 2, '>' },   { "GT", 2, '>' },
		{ "apos", 4, '\'' }, { "nbsp", 4, 0xa0 },
	};
	uint32_t v = 0;
	size_t i = 1;

	if (n == 0 || n > ENTITY_MAX)
		return -1;
	if (e[0] != '#') {
		for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++)
			if (named[k].len == n && memcmp(e, named[k].name, n) == 0)
				return named[k].value;
		return -1;
	}
	if (n > 1 && (e[1] == 'x' || e[1] == 'X')) {
		if (n == 2)
			return -1;
		for (i = 2; i < n; i++) {
			int h = ascii_hex_digit(e[i]);

			if (h < 0)
				return -1;
			v = v * 16 + (uint32_t)h;
		}
	} else {
		if (n == 1)
			return -1;
		for (; i < n; i++) {
			if (e[i] < '0' || e[i] > '9')
				return -1;
			v = v * 10 + (e[i] - '0');
		}
	}
	/* at most 8 hex or 9 decimal digits: v did not wrap */
	return v == 0 || v > 0x10ffff ? -1 : (int32_t)v;
}

/* u->url ends with ';' and holds a raw '&' at u->amp - 1: decode the reference between them. */
static void
entity(struct url_extract *u, url_extract_fn fn, void *ctx)
{
	size_t start = u->amp - 1U;
	int32_t c = entity_value(u->url + u->amp, u->len - u->amp - 1U);

	u->amp = 0; /* a decoded '&' does not start another reference: "&amp;amp;" is "&amp;" */
	if (c < 0)
		return;
	if (u->kind == KIND_ATTR && u->quote != 0) {
		/* inside quotes a delimiter is just a character; TAB/CR/LF vanish as raw ones do */
		if (c == '\t' || c == '\n' || c == '\r') {
			u->len = start;
		} else if (c >= 0x20 && c < 0x7f) {
			u->url[start] = (uint8_t)c;
			u->len = start + 1U;
		}
		return;
	}
	if (c == 0xa0 || (c < 0x80 && is_term((uint8_t)c))) {
		u->len = start; /* "http://x&quot;" or "http://x&nbsp;": the URL ended before '&' */
		url_done(u, fn, ctx, false);
	} else if (c < 0x7f) {
		u->url[start] = (uint8_t)c;
		u->len = start + 1U;
	}
	/* other non-ASCII references stay as written: the consumer sees what was sent */
}

static inline bool
url_ends(const struct url_extract *u, uint8_t b)
{
	return u->quote != 0 ? b == u->quote : is_term(b);
}

static void
start_collect(struct url_extract *u, uint8_t kind, uint8_t quote)
{
	u->state = ST_COLLECT;
	u->kind = kind;
	u->quote = quote;
	u->len = 0;
	u->amp = 0;
	u->scheme_len = 0;
}

static void
collect_byte(struct url_extract *u, uint8_t b, url_extract_fn fn, void *ctx)
{
	if (url_ends(u, b)) {
		url_done(u, fn, ctx, false);
		return;
	}
	if (u->quote != 0) {
		/* the WHATWG URL parser removes TAB/CR/LF anywhere: wrapped hrefs still work */
		if (b == '\t' || b == '\n' || b == '\r')
			return;
		if (u->len == 0 && b <= 0x20)
			return;
	}
	if (u->len == URL_EXTRACT_MAX) {
		url_done(u, fn, ctx, true);
		return;
	}
	u->url[u->len++] = b;
	if (!u->html)
		return;
	if (b == '&')
		u->amp = u->len;
	else if (b == ';' && u->amp != 0)
		entity(u, fn, ctx);
}

/* A pattern is complete with byte b: start collecting its URL or read the attribute. */
static void
pattern_done(struct url_extract *u, const struct url_pattern *pt, uint8_t b)
{
	size_t n = u->win_len;

	u->win_len = 0;
	if (pt->kind == KIND_ATTR) {
		u->state = ST_ATTR_EQ;
		return;
	}
	start_collect(u, KIND_SCHEME, 0);
	memcpy(u->url, u->win, n);
	u->url[n] = b; /* emitted as found: "HTTPS://" stays upper case */
	u->len = (uint16_t)(n + 1);
	u->scheme_len = u->len;
}

static void
idle_byte(struct url_extract *u, uint8_t b)
{
	uint8_t l = ascii_lower(b);

	if (u->win_len > 0) {
		size_t n = u->win_len;
		bool alive = false;

		for (size_t k = 0; k < N_PATTERNS; k++) {
			const struct url_pattern *pt = &patterns[k];

			if ((pt->kind == KIND_ATTR && !u->win_attr) || pt->len <= n ||
			    (uint8_t)pt->s[n] != l || !eq_nocase(u->win, pt->s, n))
				continue;
			if (pt->len == n + 1) {
				pattern_done(u, pt, b);
				return;
			}
			alive = true;
		}
		if (alive) {
			u->win[u->win_len++] = b;
			return;
		}
		/*
		 * Patterns hold no letter after a non-letter, so no other match can begin inside
		 * the window: only b itself may start one.
		 */
		u->win_len = 0;
	}
	if (u->prev == PREV_WORD)
		return;
	u->win_attr = u->html && u->prev == PREV_SEP;
	for (size_t k = 0; k < N_PATTERNS; k++) {
		const struct url_pattern *pt = &patterns[k];

		if ((pt->kind == KIND_SCHEME || u->win_attr) && (uint8_t)pt->s[0] == l) {
			u->win[0] = b;
			u->win_len = 1;
			return;
		}
	}
}

static void
url_extract_byte(struct url_extract *u, uint8_t b, url_extract_fn fn, void *ctx)
{
	switch (u->state) {
	case ST_COLLECT:
		collect_byte(u, b, fn, ctx);
		return;
	case ST_SKIP:
		if (url_ends(u, b)) {
			u->state = ST_IDLE;
			u->quote = 0;
		}
		return;
	case ST_ATTR_EQ:
		if (is_space(b))
			return;
		if (b == '=') {
			u->state = ST_ATTR_VAL;
			return;
		}
		u->state = ST_IDLE; /* "hrefx", "srcset": not ours; b may start a pattern */
		break;
	case ST_ATTR_VAL:
		if (is_space(b))
			return;
		if (b == '"' || b == '\'') {
			start_collect(u, KIND_ATTR, b);
			return;
		}
		if (is_term(b)) {
			u->state = ST_IDLE; /* "href=>" */
			return;
		}
		start_collect(u, KIND_ATTR, 0);
		collect_byte(u, b, fn, ctx);
		return;
	default:
		break;
	}
	idle_byte(u, b);
}

void
url_extract_init(struct url_extract *u, bool html)
{
	/* url[] is left as is: only url[0..len) is ever read */
	u->state = ST_IDLE;
	u->kind = KIND_SCHEME;
	u->quote = 0;
	u->prev = PREV_SEP; /* the start of a part is a word boundary */
	u->win_len = 0;
	u->win_attr = false;
	u->html = html;
	u->len = 0;
	u->amp = 0;
	u->scheme_len = 0;
	u->n_urls = 0;
	u->n_truncated = 0;
}

/*
 * Bytes that collect_byte() would only append to a URL, quoted or not: printable ASCII
 * that ends no URL, is no quote, and starts or ends no character reference. A run of them
 * is copied at once; any other byte takes collect_byte()'s path.
 */
static bool
url_plain(uint8_t b)
{
	return b > 0x20 && b < 0x7f && !is_term(b) && b != '&' && b != ';';
}

static uint8_t url_plain_table[256];

static void __attribute__((constructor))
url_plain_table_init(void)
{
	for (unsigned b = 0; b < 256; b++)
		url_plain_table[b] = url_plain((uint8_t)b);
}

/* In ST_COLLECT: append the run of plain bytes at p[i..], as far as the URL has room. */
static size_t
collect_run(struct url_extract *u, const uint8_t *p, size_t i, size_t len)
{
	size_t room = URL_EXTRACT_MAX - u->len, k = i;

	while (k < len && k - i < room && url_plain_table[p[k]])
		k++;
	if (k > i) {
		memcpy(u->url + u->len, p + i, k - i);
		u->len = (uint16_t)(u->len + (k - i));
		u->prev = byte_info[p[k - 1]] & BYTE_CLASS;
	}
	return k;
}

/*
 * Whether a and b, a word's first two bytes, can begin a pattern ("ht", "hr", "ft", "ww",
 * "sr", "ac", either case). When not, idle_byte() would open a window at a and drop it at
 * b, and b, after a letter, cannot start one: the idle loop skips both.
 */
static inline bool
may_continue(uint8_t a, uint8_t b)
{
	uint16_t pair = (uint16_t)((a | 0x20) << 8 | (b | 0x20));

	_Static_assert(N_PATTERNS == 7, "may_continue() lists the patterns' first two bytes");
	return pair == ('h' << 8 | 't') || pair == ('h' << 8 | 'r') || pair == ('f' << 8 | 't') ||
	       pair == ('w' << 8 | 'w') || pair == ('s' << 8 | 'r') || pair == ('a' << 8 | 'c');
}

void
url_extract_feed(struct url_extract *u, const uint8_t *p, size_t len, url_extract_fn fn,
		 void *ctx)
{
	for (size_t i = 0; i < len; i++) {
		if (u->state == ST_COLLECT) {
			i = collect_run(u, p, i, len);
			if (i == len)
				break;
		}
		/* most bytes of a body are idle text that cannot start a pattern: skip them */
		if (u->state == ST_IDLE && u->win_len == 0) {
			uint8_t prev = u->prev;

			for (; i < len; i++) {
				uint8_t info = byte_info[p[i]];

				if ((info & BYTE_MAY_START) && prev != PREV_WORD) {
					/* most word starts go no further than their second letter */
					if (i + 1 < len && !may_continue(p[i], p[i + 1])) {
						prev = PREV_WORD;
						continue;
					}
					break;
				}
				prev = info & BYTE_CLASS;
			}
			u->prev = prev;
			if (i == len)
				break;
		}
		url_extract_byte(u, p[i], fn, ctx);
		u->prev = byte_info[p[i]] & BYTE_CLASS;
	}
}

void
url_extract_finish(struct url_extract *u, url_extract_fn fn, void *ctx)
{
	uint64_t n_urls, n_truncated;

	if (u->state == ST_COLLECT)
		url_done(u, fn, ctx, false);
	n_urls = u->n_urls;
	n_truncated = u->n_truncated;
	url_extract_init(u, u->html);
	u->n_urls = n_urls;
	u->n_truncated = n_truncated;
}
