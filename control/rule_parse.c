/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule pack parser (see rule_parse.h and rules/README.md). The file is cut into logical rules
 * (physical lines joined at a trailing backslash, as Suricata does); each logical rule keeps a
 * map from its bytes back to physical line and column so that every error points at the byte
 * that caused it. A rule is a header (seven fields) and an option list dispatched through the
 * keyword table below; a rule is built aside and only added to the set when it is complete.
 * Several sources are cut one after the other into the same set; a logical rule never spans
 * two of them.
 *
 * Option values are scanned quote-aware: a ';' inside "..." does not end the value (Suricata
 * wants it escaped as \; - both forms are accepted here). Escapes \" \; \\ \: are decoded
 * everywhere a value is text. Control thread only.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "ascii.h"
#include "buffer_id.h"
#include "builtin_sids.h"
#include "gen_format.h"
#include "file_read.h"
#include "rule_expr.h"
#include "rule_parse.h"
#include "threshold.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NO_POS SIZE_MAX
#define SHOW_MAX 96           /* bytes of user text quoted in one message */
#define KEYWORD_NAME_MAX 64

/* Where a physical line begins in the logical rule: columns count from there. */
struct seg {
	size_t start;
	uint32_t line;
};

struct parse_ctx {
	const char *name;       /* the source being parsed: errors name it */
	uint32_t source;        /* its index in rs->sources */
	const struct classification *cls;
	struct rule_set *rs;
	/* the logical rule: physical lines joined, continuation backslashes removed */
	char *text;
	size_t len;
	size_t cap;
	struct seg *segs;
	uint32_t n_segs;
	uint32_t segs_cap;
	/* errors, one per line */
	char *err;
	size_t errlen;
	size_t err_used;
	uint32_t n_errors;
	bool skip_unsupported;  /* RULE_PARSE_SKIP_UNSUPPORTED */
};

/* A rule under construction; it joins the set only once complete and valid. */
struct rule_build {
	struct rule r;
	uint32_t matches_cap;
	size_t *match_off;      /* where each match's keyword is, for rule_expr's errors */
	size_t filter_off;      /* where detection_filter is */
	int buffer;             /* sticky buffer in force, -1 before the first */
	uint64_t seen;          /* keywords[] rows already used, for the once-only ones */
	size_t sid_off;
};

/* One option occurrence: its keyword's canonical name and its value, offsets in the rule. */
struct kw_call {
	const char *name;
	int buffer;             /* sticky buffer keywords only */
	size_t kw_off;
	bool has_value;
	const char *v;          /* value, surrounding blanks trimmed */
	size_t v_len;
	size_t v_off;
};

typedef int (*kw_parse_fn)(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c);

enum kw_arg {
	KW_NO_VALUE,
	KW_VALUE,
	KW_OPTIONAL_VALUE,
};

struct keyword {
	const char *name;
	enum kw_arg arg;
	bool once;              /* at most once per rule */
	kw_parse_fn parse;
};

static void perr(struct parse_ctx *pc, size_t off, const char *kw, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---------------------------------------------------------------- errors and positions */

static void
pos_of(const struct parse_ctx *pc, size_t off, uint32_t *line, uint32_t *col)
{
	uint32_t lo = 0, hi = pc->n_segs;

	if (hi == 0) {
		*line = 0;
		*col = (uint32_t)off + 1;
		return;
	}
	/* last segment whose start <= off; segment 0 starts at 0 */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (pc->segs[mid].start <= off)
			lo = mid;
		else
			hi = mid;
	}
	*line = pc->segs[lo].line;
	*col = (uint32_t)(off - pc->segs[lo].start) + 1;
}

static void err_append(struct parse_ctx *pc, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void
err_append(struct parse_ctx *pc, const char *fmt, va_list ap)
{
	size_t room;
	int n;

	if (pc->err == NULL || pc->err_used + 1 >= pc->errlen)
		return;
	room = pc->errlen - pc->err_used;
	n = vsnprintf(pc->err + pc->err_used, room, fmt, ap);
	if (n < 0 || (size_t)n >= room)
		pc->err_used = pc->errlen - 1;
	else
		pc->err_used += (size_t)n;
}

static void err_printf(struct parse_ctx *pc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
err_printf(struct parse_ctx *pc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_append(pc, fmt, ap);
	va_end(ap);
}

/* Report one error: "NAME:LINE:COL: KW: message" (no position when off is NO_POS). */
static void
perr(struct parse_ctx *pc, size_t off, const char *kw, const char *fmt, ...)
{
	va_list ap;

	if (pc->n_errors > 0)
		err_printf(pc, "\n");
	pc->n_errors++;
	if (off == NO_POS) {
		err_printf(pc, "%s: ", pc->name);
	} else {
		uint32_t line, col;

		pos_of(pc, off, &line, &col);
		err_printf(pc, "%s:%u:%u: ", pc->name, line, col);
	}
	if (kw != NULL)
		err_printf(pc, "%s: ", kw);
	va_start(ap, fmt);
	err_append(pc, fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------- small helpers */

static bool
tok_is(const char *t, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(t, word, len) == 0;
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static size_t
skip_ws(const char *t, size_t p, size_t end)
{
	while (p < end && is_ws(t[p]))
		p++;
	return p;
}

static bool
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static char *
dup_range(const char *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s != NULL) {
		memcpy(s, p, len);
		s[len] = '\0';
	}
	return s;
}

static bool
is_escapable(char c)
{
	return c == '"' || c == ';' || c == '\\' || c == ':';
}

/*
 * Decode a text value: optional surrounding quotes, escapes \" \; \\ \:, no control bytes.
 * Returns 0 with a new string in *out, -EINVAL (reported) or -ENOMEM.
 */
static int
value_text(struct parse_ctx *pc, const struct kw_call *c, char **out)
{
	const char *v = c->v;
	size_t n = c->v_len, o = 0, i = 0;
	bool quoted = n > 0 && v[0] == '"';
	bool closed = false;
	char sb[SHOW_MAX];
	char *s;

	s = malloc(n + 1);
	if (s == NULL)
		return -ENOMEM;
	if (quoted)
		i = 1;
	for (; i < n; i++) {
		char ch = v[i];

		if (ch == '\\') {
			if (i + 1 >= n || !is_escapable(v[i + 1])) {
				perr(pc, c->v_off + i, c->name,
				     "invalid escape '%s' (only \\\" \\; \\\\ \\: are allowed)",
				     ascii_show(sb, sizeof(sb), v + i, i + 1 < n ? 2 : 1));
				goto invalid;
			}
			s[o++] = v[++i];
			continue;
		}
		if (ch == '"') {
			if (!quoted) {
				perr(pc, c->v_off + i, c->name, "unexpected '\"' inside the value");
				goto invalid;
			}
			if (i + 1 != n) {
				perr(pc, c->v_off + i + 1, c->name, "text after the closing quote");
				goto invalid;
			}
			closed = true;
			break;
		}
		if (is_ctl((unsigned char)ch)) {
			perr(pc, c->v_off + i, c->name, "control character 0x%02x in the value",
			     (unsigned char)ch);
			goto invalid;
		}
		s[o++] = ch;
	}
	if (quoted && !closed) {
		perr(pc, c->v_off, c->name, "unterminated quote");
		goto invalid;
	}
	if (o == 0) {
		perr(pc, c->v_off, c->name, "empty value");
		goto invalid;
	}
	s[o] = '\0';
	*out = s;
	return 0;

invalid:
	free(s);
	return -EINVAL;
}

/* A decimal number in [min, max], optionally quoted. */
static int
value_u32(struct parse_ctx *pc, const struct kw_call *c, uint32_t min, uint32_t max,
	  uint32_t *out)
{
	char sb[SHOW_MAX];
	const char *v = c->v;
	size_t n = c->v_len;
	uint64_t x = 0;

	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v++;
		n -= 2;
	}
	for (size_t i = 0; i < n && x <= UINT32_MAX; i++) {
		if (v[i] < '0' || v[i] > '9') {
			x = UINT64_MAX;
			break;
		}
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (n == 0 || n > 10 || x < min || x > max) {
		perr(pc, c->v_off, c->name, "'%s' is not a number in %u..%u",
		     ascii_show(sb, sizeof(sb), c->v, c->v_len), min, max);
		return -EINVAL;
	}
	*out = (uint32_t)x;
	return 0;
}

/* ---------------------------------------------------------------- keywords */

static int
kw_msg(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	return value_text(pc, c, &b->r.msg);
}

static int
kw_sid(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	uint32_t sid;
	int rc = value_u32(pc, c, 1, UINT32_MAX, &sid);

	if (rc < 0)
		return rc;
	if (sid >= BUILTIN_SID_MIN && sid <= BUILTIN_SID_MAX) {
		perr(pc, c->v_off, c->name, "%u is reserved for built-in checks (%u..%u)", sid,
		     BUILTIN_SID_MIN, BUILTIN_SID_MAX);
		return -EINVAL;
	}
	b->r.sid = sid;
	b->sid_off = c->kw_off;
	pos_of(pc, c->kw_off, &b->r.sid_line, &b->r.sid_col);
	return 0;
}

static int
kw_rev(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	return value_u32(pc, c, 0, UINT32_MAX, &b->r.rev);
}

static int
kw_gid(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	return value_u32(pc, c, 0, UINT32_MAX, &b->r.gid);
}

static int
kw_priority(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	uint32_t p;
	int rc = value_u32(pc, c, 1, 255, &p);

	if (rc == 0)
		b->r.priority = (int)p;
	return rc;
}

static int
kw_classtype(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	char *s = NULL;
	int rc = value_text(pc, c, &s);

	if (rc < 0)
		return rc;
	for (const char *q = s; *q != '\0'; q++) {
		bool ok = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
			  (*q >= '0' && *q <= '9') || *q == '-' || *q == '_';

		if (!ok || q - s >= CLASSIFICATION_NAME_MAX) {
			char sb[SHOW_MAX];

			perr(pc, c->v_off, c->name, "invalid classtype '%s'",
			     ascii_show(sb, sizeof(sb), s, strlen(s)));
			free(s);
			return -EINVAL;
		}
	}
	if (pc->cls != NULL && classification_find(pc->cls, s) == NULL) {
		perr(pc, c->v_off, c->name, "unknown classtype '%s'", s);
		free(s);
		return -EINVAL;
	}
	b->r.classtype = s;
	return 0;
}

static int
kw_metadata(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	char *s = NULL, *joined;
	int rc = value_text(pc, c, &s);

	if (rc < 0)
		return rc;
	if (b->r.metadata == NULL) {
		b->r.metadata = s;
		return 0;
	}
	/* Suricata merges repeated metadata keywords into one list: so do we. */
	if (asprintf(&joined, "%s, %s", b->r.metadata, s) < 0) {
		free(s);
		return -ENOMEM;
	}
	free(s);
	free(b->r.metadata);
	b->r.metadata = joined;
	return 0;
}

static int
kw_reference(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	char **refs;
	char *s = NULL;
	int rc;

	if (b->r.n_references == RULE_MAX_REFERENCES) {
		perr(pc, c->kw_off, c->name, "more than %d references in one rule",
		     RULE_MAX_REFERENCES);
		return -EINVAL;
	}
	rc = value_text(pc, c, &s);
	if (rc < 0)
		return rc;
	refs = realloc(b->r.references, (b->r.n_references + 1) * sizeof(*refs));
	if (refs == NULL) {
		free(s);
		return -ENOMEM;
	}
	refs[b->r.n_references++] = s;
	b->r.references = refs;
	return 0;
}

/* A new match of this kind in the sticky buffer in force (the raw stream before any). */
static struct rule_match *
match_new(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c, uint8_t kind)
{
	struct rule_match *m;

	if (b->r.n_matches == RULE_MAX_MATCHES) {
		perr(pc, c->kw_off, c->name, "more than %d content, pcre and isdataat keywords in "
		     "one rule", RULE_MAX_MATCHES);
		return NULL;
	}
	if (b->r.n_matches == b->matches_cap) {
		uint32_t cap = b->matches_cap == 0 ? 4 : b->matches_cap * 2;
		struct rule_match *nm = realloc(b->r.matches, cap * sizeof(*nm));
		size_t *no = realloc(b->match_off, cap * sizeof(*no));

		if (no != NULL)
			b->match_off = no;
		if (nm != NULL)
			b->r.matches = nm;
		if (nm == NULL || no == NULL)
			return NULL;
		b->matches_cap = cap;
	}
	b->match_off[b->r.n_matches] = c->kw_off;
	m = &b->r.matches[b->r.n_matches++];
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->buffer = (uint8_t)(b->buffer >= 0 ? b->buffer : BUF_STREAM_TO_SERVER);
	pos_of(pc, c->kw_off, &m->line, &m->col);
	return m;
}

/* Whether a value starts with '!' (after blanks): negation of content, pcre, isdataat. */
static bool
value_negated(const struct kw_call *c, size_t *i)
{
	*i = 0;
	if (c->v_len > 0 && c->v[0] == '!') {
		*i = skip_ws(c->v, 1, c->v_len);
		return true;
	}
	return false;
}

/* content:"text|hex|text" or content:!"..." */
static int
kw_content(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	const char *v = c->v;
	size_t n = c->v_len, off = c->v_off, i = 0, o = 0, quote;
	bool negated = value_negated(c, &i), closed = false;
	struct rule_match *m;
	char sb[SHOW_MAX];
	uint8_t *buf;

	if (i >= n || v[i] != '"') {
		perr(pc, off + i, c->name, "value must be a quoted string");
		return -EINVAL;
	}
	quote = i++;

	buf = malloc(n);
	if (buf == NULL)
		return -ENOMEM;
	while (i < n) {
		char ch = v[i];

		if (ch == '"') {
			closed = true;
			i++;
			break;
		}
		if (ch == '\\') {
			if (i + 1 >= n || !is_escapable(v[i + 1])) {
				perr(pc, off + i, c->name,
				     "invalid escape '%s' (only \\\" \\; \\\\ \\: are allowed)",
				     ascii_show(sb, sizeof(sb), v + i, i + 1 < n ? 2 : 1));
				goto invalid;
			}
			buf[o++] = (uint8_t)v[i + 1];
			i += 2;
			continue;
		}
		if (ch == '|') {
			size_t pipe = i++;
			int hi = -1;
			bool any = false;

			for (;;) {
				int h;

				if (i >= n || v[i] == '"') {
					perr(pc, off + pipe, c->name, "unterminated |hex| block");
					goto invalid;
				}
				ch = v[i];
				if (ch == '|') {
					if (hi >= 0) {
						perr(pc, off + i, c->name,
						     "odd number of hex digits");
						goto invalid;
					}
					if (!any) {
						perr(pc, off + pipe, c->name, "empty |hex| block");
						goto invalid;
					}
					i++;
					break;
				}
				if (is_ws(ch)) {
					if (hi >= 0) {
						perr(pc, off + i, c->name,
						     "space inside a hex byte");
						goto invalid;
					}
					i++;
					continue;
				}
				h = ascii_hex_digit((uint8_t)ch);
				if (h < 0) {
					perr(pc, off + i, c->name, "invalid hex digit '%s'",
					     ascii_show(sb, sizeof(sb), v + i, 1));
					goto invalid;
				}
				if (hi < 0) {
					hi = h;
				} else {
					buf[o++] = (uint8_t)(hi << 4 | h);
					hi = -1;
					any = true;
				}
				i++;
			}
			continue;
		}
		if (is_ctl((unsigned char)ch)) {
			perr(pc, off + i, c->name, "control character 0x%02x, write it as |%02x|",
			     (unsigned char)ch, (unsigned char)ch);
			goto invalid;
		}
		buf[o++] = (uint8_t)ch;
		i++;
	}
	if (!closed) {
		perr(pc, off + quote, c->name, "unterminated quote");
		goto invalid;
	}
	if (i != n) {
		perr(pc, off + i, c->name, "text after the closing quote");
		goto invalid;
	}
	if (o == 0) {
		perr(pc, off + quote, c->name, "empty content");
		goto invalid;
	}
	if (o > RULE_MAX_CONTENT_LEN) {
		perr(pc, off + quote, c->name, "longer than %d bytes", RULE_MAX_CONTENT_LEN);
		goto invalid;
	}

	m = match_new(pc, b, c, RULE_MATCH_CONTENT);
	if (m == NULL) {
		free(buf);
		return b->r.n_matches == RULE_MAX_MATCHES ? -EINVAL : -ENOMEM;
	}
	m->negated = negated;
	m->bytes = buf;
	m->len = o;
	return 0;

invalid:
	free(buf);
	return -EINVAL;
}

/* The content a modifier applies to: the last match, which must be a content. */
static struct rule_match *
modified_content(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	struct rule_match *last = b->r.n_matches > 0 ? &b->r.matches[b->r.n_matches - 1] : NULL;

	if (last == NULL || last->kind != RULE_MATCH_CONTENT) {
		perr(pc, c->kw_off, c->name, "needs a content before it");
		return NULL;
	}
	return last;
}

/* Each modifier once per content: a second one is a mistake, not an override. */
static bool
modifier_once(struct parse_ctx *pc, const struct kw_call *c, bool *flag)
{
	if (*flag) {
		perr(pc, c->kw_off, c->name, "given twice for one content");
		return false;
	}
	*flag = true;
	return true;
}

static int
kw_nocase(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	struct rule_match *m = modified_content(pc, b, c);

	return m != NULL && modifier_once(pc, c, &m->nocase) ? 0 : -EINVAL;
}

/* A signed decimal in [min, max]: Suricata's byte_extract variable names are refused. */
static int
value_i32(struct parse_ctx *pc, const struct kw_call *c, int32_t min, int32_t max, int32_t *out)
{
	char sb[SHOW_MAX];
	const char *v = c->v;
	size_t n = c->v_len, i = 0;
	bool neg = false;
	int64_t x = 0;

	if (n > 0 && v[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == n || n - i > 10)
		x = INT64_MAX;
	for (; i < n && x != INT64_MAX; i++)
		x = v[i] >= '0' && v[i] <= '9' ? x * 10 + (v[i] - '0') : INT64_MAX;
	if (x != INT64_MAX && neg)
		x = -x;
	if (x == INT64_MAX || x < min || x > max) {
		perr(pc, c->v_off, c->name, "'%s' is not a number in %d..%d",
		     ascii_show(sb, sizeof(sb), c->v, c->v_len), min, max);
		return -EINVAL;
	}
	*out = (int32_t)x;
	return 0;
}

static int
kw_depth(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	struct rule_match *m = modified_content(pc, b, c);

	if (m == NULL || !modifier_once(pc, c, &m->has_depth))
		return -EINVAL;
	return value_u32(pc, c, 1, RULE_MAX_POSITION, &m->depth);
}

static int
kw_offset(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	struct rule_match *m = modified_content(pc, b, c);

	if (m == NULL || !modifier_once(pc, c, &m->has_offset))
		return -EINVAL;
	return value_u32(pc, c, 0, RULE_MAX_POSITION, &m->offset);
}

static int
kw_distance(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	struct rule_match *m = modified_content(pc, b, c);

	if (m == NULL || !modifier_once(pc, c, &m->has_distance))
		return -EINVAL;
	m->relative = true;
	return value_i32(pc, c, -RULE_MAX_POSITION, RULE_MAX_POSITION, &m->distance);
}

static int
kw_within(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	struct rule_match *m = modified_content(pc, b, c);

	if (m == NULL || !modifier_once(pc, c, &m->has_within))
		return -EINVAL;
	m->relative = true;
	return value_u32(pc, c, 1, RULE_MAX_POSITION, &m->within);
}

static int
kw_startswith(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	struct rule_match *m = modified_content(pc, b, c);

	return m != NULL && modifier_once(pc, c, &m->startswith) ? 0 : -EINVAL;
}

static int
kw_endswith(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	struct rule_match *m = modified_content(pc, b, c);

	return m != NULL && modifier_once(pc, c, &m->endswith) ? 0 : -EINVAL;
}

/*
 * fast_pattern, fast_pattern:only, fast_pattern:O,L: accepted and recorded. Hyperscan
 * compiles every expression whole and picks its own literal factors, so there is no
 * separate prefilter stage for the hint to steer.
 */
static int
kw_fast_pattern(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	struct rule_match *m = modified_content(pc, b, c);
	char sb[SHOW_MAX];

	if (m == NULL || !modifier_once(pc, c, &m->fast_pattern))
		return -EINVAL;
	if (!c->has_value || (c->v_len == 4 && strncmp(c->v, "only", 4) == 0))
		return 0;
	for (size_t i = 0; i < c->v_len; i++)
		if (!(c->v[i] >= '0' && c->v[i] <= '9') && c->v[i] != ',' && !is_ws(c->v[i])) {
			perr(pc, c->v_off, c->name, "'%s': expected only or OFFSET,LENGTH",
			     ascii_show(sb, sizeof(sb), c->v, c->v_len));
			return -EINVAL;
		}
	return 0;
}

/* pcre flags Postern honours; Suricata's buffer flags (U, H, P, ...) select buffers this
 * engine names with sticky keywords instead. */
static const struct {
	char flag;
	uint32_t bit;
} pcre_flags[] = {
	{ 'i', RULE_PCRE_CASELESS }, { 's', RULE_PCRE_DOTALL }, { 'm', RULE_PCRE_MULTILINE },
	{ 'x', RULE_PCRE_EXTENDED }, { 'A', RULE_PCRE_ANCHORED }, { 'G', RULE_PCRE_UNGREEDY },
};

/* The expression compiles with PCRE2 as the dataplane would confirm it: errors here. */
static int
pcre_check(struct parse_ctx *pc, const struct kw_call *c, const struct rule_match *m,
	   size_t expr_off)
{
	uint32_t opts = (m->pcre_flags & RULE_PCRE_CASELESS ? PCRE2_CASELESS : 0) |
			(m->pcre_flags & RULE_PCRE_DOTALL ? PCRE2_DOTALL : 0) |
			(m->pcre_flags & RULE_PCRE_MULTILINE ? PCRE2_MULTILINE : 0) |
			(m->pcre_flags & RULE_PCRE_EXTENDED ? PCRE2_EXTENDED : 0);
	PCRE2_SIZE eoff = 0;
	int ecode = 0;
	pcre2_code *code = pcre2_compile(m->bytes, m->len, opts, &ecode, &eoff, NULL);
	PCRE2_UCHAR msg[160];

	if (code != NULL) {
		pcre2_code_free(code);
		return 0;
	}
	pcre2_get_error_message(ecode, msg, sizeof(msg));
	/* offsets count bytes of the expression; \; and \" were one byte shorter there */
	perr(pc, c->v_off + expr_off + (eoff < m->len ? eoff : m->len), c->name, "%s",
	     (const char *)msg);
	return -EINVAL;
}

/* pcre:"/EXPR/FLAGS" or pcre:!"/EXPR/FLAGS"; \; and \" stand for ; and ", other escapes
 * belong to the expression and are kept. */
static int
kw_pcre(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	const char *v = c->v;
	size_t n = c->v_len, i, open, close, o = 0;
	bool negated = value_negated(c, &i);
	struct rule_match *m;
	char sb[SHOW_MAX];
	uint8_t *expr;

	if (i + 2 > n || v[i] != '"' || v[n - 1] != '"' || n - i < 4 || v[i + 1] != '/') {
		perr(pc, c->v_off + i, c->name, "expected \"/EXPRESSION/FLAGS\"");
		return -EINVAL;
	}
	open = i + 1;
	close = n - 1;
	while (close > open && v[close] != '/')
		close--;
	if (close == open) {
		perr(pc, c->v_off + open, c->name, "no closing '/'");
		return -EINVAL;
	}
	if (close == open + 1) {
		perr(pc, c->v_off + open, c->name, "empty expression");
		return -EINVAL;
	}
	m = match_new(pc, b, c, RULE_MATCH_PCRE);
	if (m == NULL)
		return b->r.n_matches == RULE_MAX_MATCHES ? -EINVAL : -ENOMEM;
	m->negated = negated;
	for (size_t k = close + 1; k < n - 1; k++) {
		size_t f = 0;

		while (f < ARRAY_SIZE(pcre_flags) && pcre_flags[f].flag != v[k])
			f++;
		if (v[k] == 'R') {
			m->relative = true;
		} else if (f == ARRAY_SIZE(pcre_flags)) {
			perr(pc, c->v_off + k, c->name, "flag '%s' is not supported (i s m x A R G)",
			     ascii_show(sb, sizeof(sb), v + k, 1));
			return -EINVAL;
		} else {
			m->pcre_flags |= pcre_flags[f].bit;
		}
	}
	expr = malloc(close - open);
	if (expr == NULL)
		return -ENOMEM;
	for (size_t k = open + 1; k < close; k++) {
		if (v[k] == '\\' && k + 1 < close && (v[k + 1] == ';' || v[k + 1] == '"'))
			k++;
		else if (is_ctl((unsigned char)v[k])) {
			free(expr);
			perr(pc, c->v_off + k, c->name, "control character 0x%02x, write it as \\x%02x",
			     (unsigned char)v[k], (unsigned char)v[k]);
			return -EINVAL;
		}
		expr[o++] = (uint8_t)v[k];
	}
	expr[o] = '\0';
	m->bytes = expr;
	m->len = o;
	return pcre_check(pc, c, m, open + 1);
}

/* isdataat:[!]N[,relative] */
static int
kw_isdataat(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	size_t i, e;
	bool negated = value_negated(c, &i);
	struct kw_call num = *c;
	struct rule_match *m;
	const char *comma = memchr(c->v + i, ',', c->v_len - i);

	e = comma != NULL ? (size_t)(comma - c->v) : c->v_len;
	num.v = c->v + i;
	num.v_off = c->v_off + i;
	num.v_len = e - i;
	while (num.v_len > 0 && is_ws(num.v[num.v_len - 1]))
		num.v_len--;
	m = match_new(pc, b, c, RULE_MATCH_ISDATAAT);
	if (m == NULL)
		return b->r.n_matches == RULE_MAX_MATCHES ? -EINVAL : -ENOMEM;
	m->negated = negated;
	if (value_u32(pc, &num, 0, RULE_MAX_POSITION, &m->isdataat) < 0)
		return -EINVAL;
	if (comma != NULL) {
		size_t r = skip_ws(c->v, e + 1, c->v_len);
		size_t rl = c->v_len - r;

		if (!(rl == 8 && strncmp(c->v + r, "relative", 8) == 0)) {
			perr(pc, c->v_off + r, c->name, "expected 'relative' after the ','");
			return -EINVAL;
		}
		m->relative = true;
	}
	return 0;
}

/* Comma-separated words of a value, each handed to fn with its offset. */
typedef int (*word_fn)(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c,
		       const char *w, size_t len, size_t off);

static int
each_word(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c, word_fn fn)
{
	size_t p = 0;

	while (p <= c->v_len) {
		const char *comma = memchr(c->v + p, ',', c->v_len - p);
		size_t e = comma != NULL ? (size_t)(comma - c->v) : c->v_len, s = skip_ws(c->v, p, e);
		size_t we = e;
		int rc;

		while (we > s && is_ws(c->v[we - 1]))
			we--;
		rc = fn(pc, b, c, c->v + s, we - s, s);
		if (rc < 0)
			return rc;
		p = e + 1;
	}
	return 0;
}

static const struct {
	const char *word;
	uint8_t bit;
} flow_words[] = {
	{ "to_server", RULE_FLOW_TO_SERVER }, { "from_client", RULE_FLOW_TO_SERVER },
	{ "to_client", RULE_FLOW_TO_CLIENT }, { "from_server", RULE_FLOW_TO_CLIENT },
	{ "established", RULE_FLOW_ESTABLISHED },
	{ "stateless", 0 }, /* every packet: what Postern sees is a stream anyway */
};

static int
flow_word(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c, const char *w,
	  size_t len, size_t off)
{
	char sb[SHOW_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(flow_words); i++)
		if (tok_is(w, len, flow_words[i].word)) {
			uint8_t dirs = RULE_FLOW_TO_SERVER | RULE_FLOW_TO_CLIENT;

			if ((flow_words[i].bit & dirs) && (b->r.flow & dirs) &&
			    (b->r.flow & dirs) != flow_words[i].bit) {
				perr(pc, c->v_off + off, c->name, "both directions given");
				return -EINVAL;
			}
			b->r.flow |= flow_words[i].bit;
			return 0;
		}
	perr(pc, c->v_off + off, c->name,
	     "'%s' is not supported (to_server, to_client, from_client, from_server, "
	     "established, stateless)", ascii_show(sb, sizeof(sb), w, len));
	return -EINVAL;
}

static int
kw_flow(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	return each_word(pc, b, c, flow_word);
}

static const char *const flowbit_ops[] = {
	[RULE_FB_SET] = "set", [RULE_FB_UNSET] = "unset", [RULE_FB_TOGGLE] = "toggle",
	[RULE_FB_ISSET] = "isset", [RULE_FB_ISNOTSET] = "isnotset",
};

static bool
flowbit_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > RULE_MAX_FLOWBIT_NAME)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

/* flowbits:noalert, or flowbits:OP,NAME with OP set, unset, toggle, isset, isnotset */
static int
kw_flowbits(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	const char *v = c->v, *comma = memchr(v, ',', c->v_len);
	size_t op_len = comma != NULL ? (size_t)(comma - v) : c->v_len, ns;
	char sb[SHOW_MAX];
	struct rule_flowbit *fb;
	int op = -1;

	while (op_len > 0 && is_ws(v[op_len - 1]))
		op_len--;
	if (comma == NULL && tok_is(v, op_len, "noalert")) {
		b->r.noalert = true;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(flowbit_ops); i++)
		if (tok_is(v, op_len, flowbit_ops[i]))
			op = (int)i;
	if (op < 0) {
		perr(pc, c->v_off, c->name,
		     "'%s' is not supported (set, unset, toggle, isset, isnotset, noalert)",
		     ascii_show(sb, sizeof(sb), v, op_len));
		return -EINVAL;
	}
	if (comma == NULL) {
		perr(pc, c->v_off + op_len, c->name, "'%s' needs a name: %s,NAME", flowbit_ops[op],
		     flowbit_ops[op]);
		return -EINVAL;
	}
	ns = skip_ws(v, (size_t)(comma - v) + 1, c->v_len);
	if (memchr(v + ns, '|', c->v_len - ns) != NULL || memchr(v + ns, '&', c->v_len - ns)) {
		perr(pc, c->v_off + ns, c->name, "lists of names (| and &) are not supported yet");
		return -EINVAL;
	}
	if (!flowbit_name_ok(v + ns, c->v_len - ns)) {
		perr(pc, c->v_off + ns, c->name,
		     "invalid name '%s' (1 to %d of A-Z a-z 0-9 _ . -)",
		     ascii_show(sb, sizeof(sb), v + ns, c->v_len - ns), RULE_MAX_FLOWBIT_NAME);
		return -EINVAL;
	}
	if (b->r.n_flowbits == GEN_MAX_FLOWBIT_OPS) {
		perr(pc, c->kw_off, c->name, "more than %d in one rule", GEN_MAX_FLOWBIT_OPS);
		return -EINVAL;
	}
	fb = realloc(b->r.flowbits, (b->r.n_flowbits + 1) * sizeof(*fb));
	if (fb == NULL)
		return -ENOMEM;
	b->r.flowbits = fb;
	fb = &fb[b->r.n_flowbits];
	fb->name = dup_range(v + ns, c->v_len - ns);
	if (fb->name == NULL)
		return -ENOMEM;
	fb->op = (uint8_t)op;
	pos_of(pc, c->kw_off, &fb->line, &fb->col);
	b->r.n_flowbits++;
	return 0;
}

static int
kw_noalert(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	(void)pc;
	(void)c;
	b->r.noalert = true;
	return 0;
}

static int
threshold_keyword(struct parse_ctx *pc, const struct kw_call *c, bool detection_filter,
		  struct rule_threshold *out)
{
	char msg[160];
	size_t off = 0;

	if (threshold_parse(c->v, c->v_len, detection_filter, out, &off, msg, sizeof(msg)) < 0) {
		perr(pc, c->v_off + (off < c->v_len ? off : c->v_len), c->name, "%s", msg);
		return -EINVAL;
	}
	return 0;
}

static int
kw_threshold(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	return threshold_keyword(pc, c, false, &b->r.threshold);
}

static int
kw_detection_filter(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	b->filter_off = c->kw_off;
	return threshold_keyword(pc, c, true, &b->r.detection_filter);
}

static int
kw_sticky(struct parse_ctx *pc, struct rule_build *b, const struct kw_call *c)
{
	(void)pc;
	b->buffer = c->buffer;
	return 0;
}

/* Supported keywords. A new keyword is one row here and one parse function. */
static const struct keyword keywords[] = {
	{ "msg", KW_VALUE, true, kw_msg },
	{ "sid", KW_VALUE, true, kw_sid },
	{ "rev", KW_VALUE, true, kw_rev },
	{ "gid", KW_VALUE, true, kw_gid },
	{ "classtype", KW_VALUE, true, kw_classtype },
	{ "priority", KW_VALUE, true, kw_priority },
	{ "metadata", KW_VALUE, false, kw_metadata },
	{ "reference", KW_VALUE, false, kw_reference },
	{ "content", KW_VALUE, false, kw_content },
	{ "nocase", KW_NO_VALUE, false, kw_nocase },
	{ "depth", KW_VALUE, false, kw_depth },
	{ "offset", KW_VALUE, false, kw_offset },
	{ "distance", KW_VALUE, false, kw_distance },
	{ "within", KW_VALUE, false, kw_within },
	{ "startswith", KW_NO_VALUE, false, kw_startswith },
	{ "endswith", KW_NO_VALUE, false, kw_endswith },
	{ "fast_pattern", KW_OPTIONAL_VALUE, false, kw_fast_pattern },
	{ "pcre", KW_VALUE, false, kw_pcre },
	{ "isdataat", KW_VALUE, false, kw_isdataat },
	{ "flow", KW_VALUE, true, kw_flow },
	{ "flowbits", KW_VALUE, false, kw_flowbits },
	{ "noalert", KW_NO_VALUE, false, kw_noalert },
	{ "threshold", KW_VALUE, true, kw_threshold },
	{ "detection_filter", KW_VALUE, true, kw_detection_filter },
};
_Static_assert(ARRAY_SIZE(keywords) <= 64, "rule_build.seen is a 64-bit mask");

/* Sticky buffers are the names in buffer_id.c; these are Suricata's older spellings. */
static const struct {
	const char *alias;
	enum buffer_id id;
} buffer_aliases[] = {
	{ "file_data", BUF_FILE_DATA },
};

static const struct keyword sticky_keyword = { NULL, KW_NO_VALUE, false, kw_sticky };

/* Suricata keywords a rule may well use that this stage cannot honour: a clear error. */
static const char *const unsupported[] = {
	"rawbytes", "bsize", "dsize", "byte_test", "byte_jump",
	"byte_extract", "byte_math", "entropy", "replace", "prefilter",
	"flowint", "flowvar", "pktvar", "xbits", "hostbits", "tag", "target",
	"app-layer-protocol", "app-layer-event", "stream-event",
	"stream_size", "base64_decode", "base64_data", "dataset", "datarep", "lua", "luajit",
	"requires", "uricontent", "urilen", "filename", "fileext", "filemagic", "filestore",
	"filemd5", "filesha1", "filesha256", "filesize", "file.magic",
	"to_lowercase", "to_uppercase", "to_md5", "to_sha1",
	"to_sha256", "strip_whitespace", "compress_whitespace", "dotprefix", "url_decode",
	"xor", "pcrexform", "header_lowercase", "from_base64", "config", "ip_proto", "ttl",
	"tos", "id", "ipopts", "fragbits", "fragoffset", "flags", "seq", "ack", "window",
	"sameip", "tcp.flags", "tcp.mss", "tcp.hdr", "ipv4.hdr", "ipv6.hdr", "icode", "itype",
	"icmp_id", "icmp_seq", "geoip", "iprep", "frame", "absent", "rpc",
};

/*
 * Find the keyword spelled [p, p + len) (case-insensitive, as Suricata). Returns the row, or
 * NULL with *unsupported_kw set when it is a known Suricata keyword we do not support.
 */
static const struct keyword *
keyword_lookup(const char *p, size_t len, int *buffer, const char **canon, bool *is_unsupported)
{
	char low[KEYWORD_NAME_MAX];
	int id;

	*is_unsupported = false;
	if (len >= sizeof(low))
		return NULL;
	for (size_t i = 0; i < len; i++)
		low[i] = (char)ascii_lower((uint8_t)p[i]);
	low[len] = '\0';
	if (strlen(low) != len)  /* a NUL byte in the keyword */
		return NULL;

	for (size_t i = 0; i < ARRAY_SIZE(keywords); i++)
		if (strcmp(keywords[i].name, low) == 0) {
			*canon = keywords[i].name;
			return &keywords[i];
		}
	id = buffer_id_from_name(low, len);
	for (size_t i = 0; id < 0 && i < ARRAY_SIZE(buffer_aliases); i++)
		if (strcmp(buffer_aliases[i].alias, low) == 0)
			id = (int)buffer_aliases[i].id;
	if (id >= 0) {
		*buffer = id;
		*canon = buffer_id_name((enum buffer_id)id);
		return &sticky_keyword;
	}
	for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++)
		if (strcmp(unsupported[i], low) == 0) {
			*canon = unsupported[i];
			*is_unsupported = true;
			return NULL;
		}
	return NULL;
}

/* ---------------------------------------------------------------- header */

static bool
var_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_'))
			return false;
	}
	return true;
}

static bool
ip_ok(const char *s, int *family)
{
	uint8_t a[16];

	if (inet_pton(AF_INET, s, a) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, a) == 1) {
		*family = AF_INET6;
		return true;
	}
	return false;
}

/* any, $VAR, IP, IP/prefix, IPv4/netmask, IP-IP */
static bool
addr_atom_ok(const char *s, size_t n)
{
	char buf[128], *slash, *dash;
	int fam, fam2;

	if (n == 3 && memcmp(s, "any", 3) == 0)
		return true;
	if (s[0] == '$')
		return var_ok(s + 1, n - 1);
	if (n >= sizeof(buf) || memchr(s, '\0', n) != NULL)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	slash = strchr(buf, '/');
	dash = strchr(buf, '-');
	if (slash != NULL && dash != NULL)
		return false;
	if (dash != NULL) {
		*dash = '\0';
		return ip_ok(buf, &fam) && ip_ok(dash + 1, &fam2) && fam == fam2;
	}
	if (slash == NULL)
		return ip_ok(buf, &fam);
	*slash = '\0';
	if (!ip_ok(buf, &fam))
		return false;

	const char *pfx = slash + 1;
	size_t pl = strlen(pfx);
	unsigned v = 0;
	uint8_t mask[4];

	if (fam == AF_INET && strchr(pfx, '.') != NULL)
		return inet_pton(AF_INET, pfx, mask) == 1;
	if (pl == 0 || pl > 3)
		return false;
	for (size_t i = 0; i < pl; i++) {
		if (pfx[i] < '0' || pfx[i] > '9')
			return false;
		v = v * 10 + (unsigned)(pfx[i] - '0');
	}
	return v <= (fam == AF_INET ? 32u : 128u);
}

static bool
port_num(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	*out = v;
	return v <= 65535;
}

/* any, $VAR, N, N:M, N:, :M */
static bool
port_atom_ok(const char *s, size_t n)
{
	const char *colon;
	uint32_t lo = 0, hi = 65535;

	if (n == 3 && memcmp(s, "any", 3) == 0)
		return true;
	if (s[0] == '$')
		return var_ok(s + 1, n - 1);
	colon = memchr(s, ':', n);
	if (colon == NULL)
		return port_num(s, n, &lo);

	size_t ln = (size_t)(colon - s), rn = n - ln - 1;

	if (ln == 0 && rn == 0)
		return false;
	if (ln > 0 && !port_num(s, ln, &lo))
		return false;
	if (rn > 0 && !port_num(colon + 1, rn, &hi))
		return false;
	return lo <= hi;
}

/* One element of an address or port field: [!] atom | [!] '[' element, ... ']'. */
static int
list_item(struct parse_ctx *pc, const char *kw, bool port, size_t *pp, size_t end, int depth)
{
	const char *t = pc->text;
	size_t p = skip_ws(t, *pp, end);
	char sb[SHOW_MAX];
	bool negated = false;
	int rc;

	if (p < end && t[p] == '!') {
		negated = true;
		p = skip_ws(t, p + 1, end);
	}
	if (p < end && t[p] == '[') {
		size_t open = p++;
		bool first = true;

		if (depth >= RULE_MAX_LIST_DEPTH) {
			perr(pc, open, kw, "lists nested deeper than %d", RULE_MAX_LIST_DEPTH);
			return -EINVAL;
		}
		for (;;) {
			p = skip_ws(t, p, end);
			if (first && p < end && t[p] == ']') {
				perr(pc, open, kw, "empty list");
				return -EINVAL;
			}
			first = false;
			rc = list_item(pc, kw, port, &p, end, depth + 1);
			if (rc < 0)
				return rc;
			p = skip_ws(t, p, end);
			if (p >= end) {
				perr(pc, open, kw, "missing ']'");
				return -EINVAL;
			}
			if (t[p] == ']') {
				p++;
				break;
			}
			if (t[p] != ',') {
				perr(pc, p, kw, "expected ',' or ']', found '%s'",
				     ascii_show(sb, sizeof(sb), t + p, 1));
				return -EINVAL;
			}
			p++;
		}
		*pp = p;
		return 0;
	}

	size_t s = p;

	while (p < end && !is_ws(t[p]) && t[p] != ',' && t[p] != '[' && t[p] != ']')
		p++;
	if (p == s) {
		if (p < end)
			perr(pc, p, kw, "unexpected '%s'", ascii_show(sb, sizeof(sb), t + p, 1));
		else
			perr(pc, p, kw, "missing value");
		return -EINVAL;
	}
	if (!(port ? port_atom_ok(t + s, p - s) : addr_atom_ok(t + s, p - s))) {
		perr(pc, s, kw, "invalid %s '%s'", port ? "port" : "address",
		     ascii_show(sb, sizeof(sb), t + s, p - s));
		return -EINVAL;
	}
	if (negated && p - s == 3 && memcmp(t + s, "any", 3) == 0) {
		perr(pc, s, kw, "'!any' matches nothing");
		return -EINVAL;
	}
	*pp = p;
	return 0;
}

static int
header_list(struct parse_ctx *pc, const char *kw, bool port, size_t off, size_t len, char **out)
{
	size_t p = off;
	char sb[SHOW_MAX];
	int rc;

	rc = list_item(pc, kw, port, &p, off + len, 0);
	if (rc < 0)
		return rc;
	if (p != off + len) {
		perr(pc, p, kw, "unexpected '%s'", ascii_show(sb, sizeof(sb), pc->text + p, 1));
		return -EINVAL;
	}
	*out = dup_range(pc->text + off, len);
	return *out == NULL ? -ENOMEM : 0;
}

static const struct {
	const char *name;
	enum gen_action action;
} actions[] = {
	{ "alert", GEN_ACTION_ALERT },
	{ "pass", GEN_ACTION_PASS },
	{ "drop", GEN_ACTION_DROP },
	{ "reject", GEN_ACTION_REJECT },
};

static const char *const unsupported_actions[] = { "rejectsrc", "rejectdst", "rejectboth",
						   "config" };

static const char *const proto_names[] = {
	[RULE_PROTO_SMTP] = "smtp",
	[RULE_PROTO_TCP] = "tcp",
};

const char *
rule_action_name(uint8_t action)
{
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
		if (actions[i].action == action)
			return actions[i].name;
	return NULL;
}

const char *
rule_match_keyword(uint8_t kind)
{
	static const char *const names[] = {
		[RULE_MATCH_CONTENT] = "content",
		[RULE_MATCH_PCRE] = "pcre",
		[RULE_MATCH_ISDATAAT] = "isdataat",
	};

	return kind < ARRAY_SIZE(names) ? names[kind] : "rule";
}

const char *
rule_proto_name(uint8_t proto)
{
	return proto < ARRAY_SIZE(proto_names) ? proto_names[proto] : NULL;
}

static const char *const field_names[7] = { "action", "proto", "src", "sport", "direction",
					     "dst", "dport" };

/* action proto src sport dir dst dport, in [p, end) */
static int
parse_header(struct parse_ctx *pc, struct rule_build *b, size_t p, size_t end)
{
	const char *t = pc->text;
	size_t off[7], len[7], first = p;
	char sb[SHOW_MAX];
	unsigned n = 0;
	bool found = false;
	int rc;

	for (;;) {
		size_t s, open = 0;
		int depth = 0;

		p = skip_ws(t, p, end);
		if (p >= end)
			break;
		s = p;
		/* a bracketed list may hold blanks: "[1.2.3.4, 5.6.7.8]" */
		while (p < end && (depth > 0 || !is_ws(t[p]))) {
			if (t[p] == '[' && depth++ == 0)
				open = p;
			else if (t[p] == ']' && depth > 0)
				depth--;
			p++;
		}
		if (depth > 0) {
			perr(pc, open, n < 7 ? field_names[n] : "rule", "missing ']'");
			return -EINVAL;
		}
		if (n < 7) {
			off[n] = s;
			len[n] = p - s;
		}
		n++;
	}
	if (n != 7) {
		perr(pc, first, "rule",
		     "header has %u fields, expected 7: action proto src sport direction dst dport",
		     n);
		return -EINVAL;
	}

	for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
		if (tok_is(t + off[0], len[0], actions[i].name)) {
			b->r.action = (uint8_t)actions[i].action;
			found = true;
		}
	if (!found) {
		bool known = false;

		for (size_t i = 0; i < ARRAY_SIZE(unsupported_actions); i++)
			known |= tok_is(t + off[0], len[0], unsupported_actions[i]);
		ascii_show(sb, sizeof(sb), t + off[0], len[0]);
		if (known)
			perr(pc, off[0], "action", "'%s' is not supported yet", sb);
		else
			perr(pc, off[0], "action",
			     "unknown action '%s' (alert, drop, reject or pass)", sb);
		return -EINVAL;
	}

	if (tok_is(t + off[1], len[1], "smtp")) {
		b->r.proto = RULE_PROTO_SMTP;
	} else if (tok_is(t + off[1], len[1], "tcp")) {
		b->r.proto = RULE_PROTO_TCP;
	} else {
		perr(pc, off[1], "proto", "'%s' is not supported (smtp or tcp)",
		     ascii_show(sb, sizeof(sb), t + off[1], len[1]));
		return -EINVAL;
	}

	/* variables are resolved when the pack compiles: its errors point here */
	for (int f = 0; f < 4; f++) {
		static const int field[4] = { 2, 3, 5, 6 };

		pos_of(pc, off[field[f]], &b->r.field_line[f], &b->r.field_col[f]);
	}
	rc = header_list(pc, "src", false, off[2], len[2], &b->r.src);
	if (rc == 0)
		rc = header_list(pc, "sport", true, off[3], len[3], &b->r.sport);
	if (rc < 0)
		return rc;

	if (tok_is(t + off[4], len[4], "->")) {
		b->r.bidir = false;
	} else if (tok_is(t + off[4], len[4], "<>")) {
		b->r.bidir = true;
	} else {
		perr(pc, off[4], "direction", "expected '->' or '<>', found '%s'",
		     ascii_show(sb, sizeof(sb), t + off[4], len[4]));
		return -EINVAL;
	}

	rc = header_list(pc, "dst", false, off[5], len[5], &b->r.dst);
	if (rc == 0)
		rc = header_list(pc, "dport", true, off[6], len[6], &b->r.dport);
	return rc;
}

/* ---------------------------------------------------------------- options */

/* One option at *pp: keyword, optional ':' value, ';' or the end of the list. */
/*
 * A rule left out for a keyword Postern does not support, by configuration: one warning
 * line (the first RULE_MAX_WARNINGS of them are kept, all are counted). -ECANCELED.
 */
static int
rule_skipped(struct parse_ctx *pc, uint32_t line, uint32_t col, const char *kw)
{
	struct rule_set *rs = pc->rs;
	char w[192];
	int n;

	rs->n_skipped++;
	if (rs->n_skipped > RULE_MAX_WARNINGS)
		return -ECANCELED;
	n = snprintf(w, sizeof(w), "%s%s:%u:%u: keyword '%s' is not supported yet: rule left out",
		     rs->warnings != NULL ? "\n" : "", pc->name, line, col, kw);
	if (n > 0) {
		size_t have = rs->warnings != NULL ? strlen(rs->warnings) : 0;
		char *nw = realloc(rs->warnings, have + (size_t)n + 1);

		if (nw != NULL) {
			memcpy(nw + have, w, (size_t)n + 1);
			rs->warnings = nw;
		}
	}
	return -ECANCELED;
}

static int
parse_option(struct parse_ctx *pc, struct rule_build *b, size_t *pp, size_t end)
{
	const char *t = pc->text;
	const struct keyword *kw;
	struct kw_call c = { .buffer = -1 };
	size_t p = *pp, kw_len, first_quote = NO_POS;
	char sb[SHOW_MAX];
	bool is_unsupported, in_quote = false;

	c.kw_off = p;
	while (p < end && !is_ws(t[p]) && t[p] != ':' && t[p] != ';')
		p++;
	kw_len = p - c.kw_off;
	if (kw_len == 0) {
		perr(pc, p, "rule", "empty option before '%c'", t[p]);
		return -EINVAL;
	}
	kw = keyword_lookup(t + c.kw_off, kw_len, &c.buffer, &c.name, &is_unsupported);
	if (kw == NULL && is_unsupported && pc->skip_unsupported) {
		uint32_t line, col;

		pos_of(pc, c.kw_off, &line, &col);
		return rule_skipped(pc, line, col, c.name);
	}
	if (kw == NULL) {
		if (is_unsupported)
			perr(pc, c.kw_off, NULL, "keyword '%s' is not supported yet", c.name);
		else
			perr(pc, c.kw_off, NULL, "unknown keyword '%s'",
			     ascii_show(sb, sizeof(sb), t + c.kw_off, kw_len));
		return -EINVAL;
	}

	p = skip_ws(t, p, end);
	if (p < end && t[p] == ':') {
		size_t ve;

		c.has_value = true;
		p = skip_ws(t, p + 1, end);
		c.v_off = p;
		while (p < end) {
			if (t[p] == '\\' && p + 1 < end) {
				p += 2;
				continue;
			}
			if (t[p] == '"') {
				if (first_quote == NO_POS)
					first_quote = p;
				in_quote = !in_quote;
			} else if (t[p] == ';' && !in_quote) {
				break;
			}
			p++;
		}
		/*
		 * Quotes left open at the end of the rule: the culprit is almost always this
		 * value's opening quote, whatever later quotes paired up with.
		 */
		if (in_quote) {
			perr(pc, first_quote, c.name, "unterminated quote");
			return -EINVAL;
		}
		ve = p;
		while (ve > c.v_off && is_ws(t[ve - 1]))
			ve--;
		c.v = t + c.v_off;
		c.v_len = ve - c.v_off;
		if (p < end)
			p++;
	} else if (p < end && t[p] == ';') {
		p++;
	} else if (p < end) {
		perr(pc, p, c.name, "expected ':' or ';' after the keyword");
		return -EINVAL;
	}
	*pp = p;

	if (kw->arg == KW_NO_VALUE && c.has_value) {
		perr(pc, c.v_off, c.name, "takes no value");
		return -EINVAL;
	}
	if (kw->arg == KW_VALUE && (!c.has_value || c.v_len == 0)) {
		perr(pc, c.has_value ? c.v_off : c.kw_off, c.name, "needs a value");
		return -EINVAL;
	}
	if (kw->once) {
		uint64_t bit = UINT64_C(1) << (kw - keywords);

		if (b->seen & bit) {
			perr(pc, c.kw_off, c.name, "given twice in one rule");
			return -EINVAL;
		}
		b->seen |= bit;
	}
	return kw->parse(pc, b, &c);
}

/* ---------------------------------------------------------------- rule set */

static void
rule_free(struct rule *r)
{
	free(r->msg);
	free(r->classtype);
	free(r->metadata);
	for (uint32_t i = 0; i < r->n_references; i++)
		free(r->references[i]);
	free(r->references);
	for (uint32_t i = 0; i < r->n_matches; i++)
		free(r->matches[i].bytes);
	free(r->matches);
	rule_atoms_free(r->atoms, r->n_atoms);
	for (uint32_t i = 0; i < r->n_flowbits; i++)
		free(r->flowbits[i].name);
	free(r->flowbits);
	free(r->src);
	free(r->sport);
	free(r->dst);
	free(r->dport);
	memset(r, 0, sizeof(*r));
}

void
rule_set_destroy(struct rule_set *rs)
{
	if (rs == NULL)
		return;
	for (uint32_t i = 0; i < rs->n_rules; i++)
		rule_free(&rs->rules[i]);
	free(rs->rules);
	free(rs->by_id);
	free(rs->path);
	for (uint32_t i = 0; i < rs->n_sources; i++)
		free(rs->sources[i]);
	free(rs->sources);
	free(rs->warnings);
	free(rs);
}

const char *
rule_set_source_name(const struct rule_set *rs, const struct rule *r)
{
	if (r->source < rs->n_sources)
		return rs->sources[r->source];
	return rs->path != NULL ? rs->path : "";
}

static uint32_t
id_hash(uint32_t gid, uint32_t sid)
{
	uint64_t k = ((uint64_t)gid << 32 | sid) * UINT64_C(0x9e3779b97f4a7c15);

	return (uint32_t)(k >> 32);
}

/* Slot holding (gid, sid), or the empty slot where it would go. */
static uint32_t
id_slot(const struct rule_set *rs, uint32_t gid, uint32_t sid)
{
	uint32_t mask = rs->by_id_cap - 1, i = id_hash(gid, sid) & mask;

	while (rs->by_id[i] != 0) {
		const struct rule *r = &rs->rules[rs->by_id[i] - 1];

		if (r->gid == gid && r->sid == sid)
			break;
		i = (i + 1) & mask;
	}
	return i;
}

const struct rule *
rule_set_find(const struct rule_set *rs, uint32_t gid, uint32_t sid)
{
	uint32_t i;

	if (rs == NULL || rs->by_id_cap == 0)
		return NULL;
	i = id_slot(rs, gid, sid);
	return rs->by_id[i] != 0 ? &rs->rules[rs->by_id[i] - 1] : NULL;
}

/* Keep the index at most half full: double and rehash. */
static int
id_index_grow(struct rule_set *rs)
{
	uint32_t cap = rs->by_id_cap == 0 ? 64 : rs->by_id_cap * 2;
	uint32_t *old = rs->by_id;

	rs->by_id = calloc(cap, sizeof(*rs->by_id));
	if (rs->by_id == NULL) {
		rs->by_id = old;
		return -ENOMEM;
	}
	rs->by_id_cap = cap;
	for (uint32_t i = 0; i < rs->n_rules; i++)
		rs->by_id[id_slot(rs, rs->rules[i].gid, rs->rules[i].sid)] = i + 1;
	free(old);
	return 0;
}

/* A rule reads flowbits when it tests one. */
static bool
tests_flowbits(const struct rule *r)
{
	for (uint32_t i = 0; i < r->n_flowbits; i++)
		if (r->flowbits[i].op == RULE_FB_ISSET || r->flowbits[i].op == RULE_FB_ISNOTSET)
			return true;
	return false;
}

/*
 * The rule's detection as atoms (rule_expr.h), after flow has said which way it looks: a
 * to_client rule sees the server's raw stream, and nothing else carries server bytes.
 */
static int
rule_detection(struct parse_ctx *pc, struct rule_build *b, size_t start)
{
	struct rule *r = &b->r;
	char msg[256];
	uint32_t bad = 0;
	int rc;

	for (uint32_t i = 0; i < r->n_matches && (r->flow & RULE_FLOW_TO_CLIENT); i++) {
		struct rule_match *m = &r->matches[i];

		if (m->buffer != BUF_STREAM_TO_SERVER) {
			perr(pc, b->match_off[i], buffer_id_name(m->buffer),
			     "flow:to_client rules can only look at the raw stream (pkt_data)");
			return -EINVAL;
		}
		m->buffer = BUF_STREAM_TO_CLIENT;
	}
	if (r->threshold.type != RULE_THRESHOLD_NONE &&
	    r->detection_filter.type != RULE_THRESHOLD_NONE) {
		/* as Suricata: the two counting schemes would fight over one alert */
		perr(pc, b->filter_off, "detection_filter", "cannot be combined with threshold");
		return -EINVAL;
	}
	if (r->n_matches == 0 && !tests_flowbits(r)) {
		perr(pc, start, "content", "rule has no content, pcre or flowbits check");
		return -EINVAL;
	}
	rc = rule_expr_build(r->matches, r->n_matches, &r->atoms, &r->n_atoms, &bad, msg,
			     sizeof(msg));
	if (rc == -EINVAL) {
		/* "keyword: message" */
		const char *colon = strstr(msg, ": ");
		char kw[KEYWORD_NAME_MAX] = "";

		if (colon != NULL && (size_t)(colon - msg) < sizeof(kw)) {
			memcpy(kw, msg, (size_t)(colon - msg));
			kw[colon - msg] = '\0';
		}
		perr(pc, bad < r->n_matches ? b->match_off[bad] : start, kw[0] ? kw : NULL, "%s",
		     colon != NULL && kw[0] ? colon + 2 : msg);
		return -EINVAL;
	}
	if (rc < 0)
		return rc;
	if (r->n_atoms > GEN_MAX_ATOMS_PER_RULE) {
		uint32_t first = r->atoms[GEN_MAX_ATOMS_PER_RULE].first_match;

		/* a chain: a match that is not relative, and the relative ones after it */
		perr(pc, b->match_off[first], rule_match_keyword(r->matches[first].kind),
		     "more than %d chains in one rule", GEN_MAX_ATOMS_PER_RULE);
		return -EINVAL;
	}
	return 0;
}

/* Final checks, then move the rule into the set. On error the caller frees b->r. */
static int
rule_add(struct parse_ctx *pc, struct rule_build *b, size_t start)
{
	struct rule_set *rs = pc->rs;
	const struct rule *dup;
	uint32_t slot;
	int rc;

	if (b->r.sid == 0) {
		perr(pc, start, "sid", "rule has no sid");
		return -EINVAL;
	}
	if (b->r.msg == NULL) {
		perr(pc, start, "msg", "rule has no msg");
		return -EINVAL;
	}
	rc = rule_detection(pc, b, start);
	if (rc < 0)
		return rc;
	dup = rule_set_find(rs, b->r.gid, b->r.sid);
	if (dup != NULL && dup->source == pc->source) {
		perr(pc, b->sid_off, "sid", "duplicate %u:%u, first defined at line %u", b->r.gid,
		     b->r.sid, dup->line);
		return -EINVAL;
	}
	if (dup != NULL) {
		perr(pc, b->sid_off, "sid", "duplicate %u:%u, first defined at %s:%u", b->r.gid,
		     b->r.sid, rule_set_source_name(rs, dup), dup->line);
		return -EINVAL;
	}
	if (rs->n_rules == RULE_MAX_RULES) {
		perr(pc, start, "rule", "more than %d rules in one set", RULE_MAX_RULES);
		return -EINVAL;
	}
	b->r.severity = classification_severity(pc->cls, b->r.classtype, b->r.priority);

	if (rs->n_rules == rs->rules_cap) {
		uint32_t cap = rs->rules_cap == 0 ? 16 : rs->rules_cap * 2;
		struct rule *nr = realloc(rs->rules, cap * sizeof(*nr));

		if (nr == NULL)
			return -ENOMEM;
		rs->rules = nr;
		rs->rules_cap = cap;
	}
	if ((rs->n_rules + 1) * 2 > rs->by_id_cap && id_index_grow(rs) < 0)
		return -ENOMEM;
	rs->rules[rs->n_rules] = b->r;
	memset(&b->r, 0, sizeof(b->r));
	slot = id_slot(rs, rs->rules[rs->n_rules].gid, rs->rules[rs->n_rules].sid);
	rs->by_id[slot] = ++rs->n_rules;
	return 0;
}

/* Parse pc->text (one logical rule) and add it. Returns 0, -EINVAL (reported) or -ENOMEM. */
static int
parse_rule(struct parse_ctx *pc)
{
	struct rule_build b;
	const char *t = pc->text, *open;
	size_t n = pc->len, start, po, end, p;
	int rc;

	memset(&b, 0, sizeof(b));
	b.buffer = -1;
	b.r.gid = 1;
	b.r.rev = 1;
	b.r.source = pc->source;

	start = skip_ws(t, 0, n);
	pos_of(pc, start, &b.r.line, &b.r.col);

	/* a rule may be empty here: a lone "\" joined to a blank line */
	open = start < n ? memchr(t + start, '(', n - start) : NULL;
	if (open == NULL) {
		perr(pc, start, "rule", "no '(' opening the options");
		rc = -EINVAL;
		goto fail;
	}
	po = (size_t)(open - t);
	rc = parse_header(pc, &b, start, po);
	if (rc < 0)
		goto fail;

	end = n;
	while (end > po + 1 && is_ws(t[end - 1]))
		end--;
	if (end <= po + 1 || t[end - 1] != ')') {
		perr(pc, end - 1, "rule", "does not end with ')'");
		rc = -EINVAL;
		goto fail;
	}
	end--;

	p = po + 1;
	for (;;) {
		p = skip_ws(t, p, end);
		if (p >= end)
			break;
		rc = parse_option(pc, &b, &p, end);
		if (rc == -ECANCELED) {
			rc = 0; /* left out, with a warning */
			goto fail;
		}
		if (rc < 0)
			goto fail;
	}
	rc = rule_add(pc, &b, start);
	if (rc < 0)
		goto fail;
	free(b.match_off);
	return 0;

fail:
	rule_free(&b.r);
	free(b.match_off);
	return rc;
}

static int
text_append(struct parse_ctx *pc, const char *p, size_t len, uint32_t line)
{
	if (pc->n_segs == pc->segs_cap) {
		uint32_t cap = pc->segs_cap == 0 ? 8 : pc->segs_cap * 2;
		struct seg *ns = realloc(pc->segs, cap * sizeof(*ns));

		if (ns == NULL)
			return -ENOMEM;
		pc->segs = ns;
		pc->segs_cap = cap;
	}
	pc->segs[pc->n_segs++] = (struct seg){ .start = pc->len, .line = line };
	if (pc->len + len > pc->cap) {
		size_t cap = pc->cap == 0 ? 1024 : pc->cap;
		char *nt;

		while (cap < pc->len + len)
			cap *= 2;
		nt = realloc(pc->text, cap);
		if (nt == NULL)
			return -ENOMEM;
		pc->text = nt;
		pc->cap = cap;
	}
	if (len > 0)
		memcpy(pc->text + pc->len, p, len);
	pc->len += len;
	return 0;
}

struct rule_set *
rule_set_parse_buffer(const char *name, const char *text, size_t len,
		      const struct classification *cls, char *err, size_t errlen)
{
	return rule_set_parse_buffer_flags(name, text, len, cls, 0, err, errlen);
}

struct rule_set *
rule_set_parse_buffer_flags(const char *name, const char *text, size_t len,
			    const struct classification *cls, unsigned flags, char *err,
			    size_t errlen)
{
	const struct rule_source one = { .name = name, .text = text, .len = len };

	return rule_set_parse_sources(&one, 1, cls, flags, err, errlen);
}

/*
 * The set's names: each source's, and all of them joined by one space for rs->path (what
 * logs show; a list in the config is written the same way).
 */
static int
set_names(struct rule_set *rs, const struct rule_source *src, unsigned n)
{
	size_t total = 0, at = 0;

	rs->sources = calloc(n, sizeof(*rs->sources));
	if (rs->sources == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		rs->sources[i] = strdup(src[i].name);
		if (rs->sources[i] == NULL)
			return -ENOMEM;
		rs->n_sources++;
		total += strlen(src[i].name) + 1;
	}
	rs->path = malloc(total + 1); /* "" when n is 0 */
	if (rs->path == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		size_t l = strlen(src[i].name);

		if (i > 0)
			rs->path[at++] = ' ';
		memcpy(rs->path + at, src[i].name, l);
		at += l;
	}
	rs->path[at] = '\0';
	return 0;
}

/*
 * Cut one source into logical rules and parse each. Line numbers start at 1 again, and the
 * logical rule in progress ends with the source: a dangling backslash on its last line is
 * not joined to the next source's first line. Returns 0 or -ENOMEM (errors are counted in
 * pc); *done is false when it stopped at RULE_MAX_ERRORS before the end.
 */
static int
parse_source(struct parse_ctx *pc, const char *text, size_t len, bool *done)
{
	size_t pos = 0;
	uint32_t lineno = 0;
	bool in_rule = false, too_long = false;

	while (pos < len && pc->n_errors < RULE_MAX_ERRORS) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t ll = nl != NULL ? (size_t)(nl - line) : len - pos;
		bool cont;

		pos += ll + (nl != NULL);
		lineno++;
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		if (!in_rule) {
			size_t i = skip_ws(line, 0, ll);

			if (i == ll || line[i] == '#')
				continue;
			in_rule = true;
			too_long = false;
			pc->len = 0;
			pc->n_segs = 0;
		}
		cont = ll > 0 && line[ll - 1] == '\\';
		if (cont)
			ll--;
		if (!too_long) {
			if (pc->len + ll > RULE_MAX_RULE_LEN) {
				if (pc->n_segs == 0 && text_append(pc, line, 0, lineno) < 0)
					return -ENOMEM;
				too_long = true;
				perr(pc, 0, "rule", "longer than %d bytes", RULE_MAX_RULE_LEN);
			} else if (text_append(pc, line, ll, lineno) < 0) {
				return -ENOMEM;
			}
		}
		if (cont && pos < len)
			continue;
		in_rule = false;
		if (too_long)
			continue;
		if (parse_rule(pc) == -ENOMEM)
			return -ENOMEM;
	}
	*done = pos >= len;
	return 0;
}

struct rule_set *
rule_set_parse_sources(const struct rule_source *src, unsigned n,
		       const struct classification *cls, unsigned flags, char *err,
		       size_t errlen)
{
	struct parse_ctx pc = {
		.name = n > 0 ? src[0].name : "", .cls = cls, .err = err,
		.errlen = err != NULL ? errlen : 0,
		.skip_unsupported = flags & RULE_PARSE_SKIP_UNSUPPORTED,
	};
	bool done = true;
	unsigned i;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (n == 0 || n > RULE_MAX_SOURCES) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%u rule packs: 1 to %d can be loaded together", n,
				 RULE_MAX_SOURCES);
		errno = EINVAL;
		return NULL;
	}
	/* every source too large is named before any is parsed: nothing else can be said */
	for (i = 0; i < n; i++) {
		if (src[i].len > RULE_MAX_FILE_LEN) {
			pc.name = src[i].name;
			perr(&pc, NO_POS, NULL, "larger than %u bytes", RULE_MAX_FILE_LEN);
		}
	}
	if (pc.n_errors > 0) {
		errno = EFBIG;
		return NULL;
	}
	pc.rs = calloc(1, sizeof(*pc.rs));
	if (pc.rs == NULL || set_names(pc.rs, src, n) < 0)
		goto nomem;

	for (i = 0; i < n && pc.n_errors < RULE_MAX_ERRORS; i++) {
		pc.name = src[i].name;
		pc.source = i;
		if (parse_source(&pc, src[i].text, src[i].len, &done) < 0)
			goto nomem;
	}
	if (pc.n_errors >= RULE_MAX_ERRORS && (!done || i < n))
		perr(&pc, NO_POS, NULL, "too many errors, stopped after %d", RULE_MAX_ERRORS);

	free(pc.text);
	free(pc.segs);
	if (pc.n_errors > 0) {
		rule_set_destroy(pc.rs);
		errno = EINVAL;
		return NULL;
	}
	return pc.rs;

nomem:
	free(pc.text);
	free(pc.segs);
	rule_set_destroy(pc.rs);
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: out of memory", pc.name);
	errno = ENOMEM;
	return NULL;
}

struct rule_set *
rule_set_load(const char *path, const struct classification *cls, char *err, size_t errlen)
{
	return rule_set_load_flags(path, cls, 0, err, errlen);
}

struct rule_set *
rule_set_load_flags(const char *path, const struct classification *cls, unsigned flags,
		    char *err, size_t errlen)
{
	struct rule_set *rs;
	char *buf;
	size_t len;
	int rc = file_read_all(path, RULE_MAX_FILE_LEN, &buf, &len);

	if (rc < 0) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		errno = -rc;
		return NULL;
	}
	rs = rule_set_parse_buffer_flags(path, buf, len, cls, flags, err, errlen);
	rc = errno;
	free(buf);
	errno = rc;
	return rs;
}
