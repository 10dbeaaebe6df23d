/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One rule's content, pcre and isdataat keywords as Hyperscan expressions ("atoms", see
 * rule_expr.h), and every check of how their modifiers combine: rule_parse.c only parses
 * them. The meaning is Suricata's content inspection (DetectEngineContentInspection() in
 * detect-engine-content-inspection.c and the Setup functions of detect-content.c,
 * detect-depth.c, detect-distance.c, detect-within.c, detect-isdataat.c, detect-pcre.c);
 * where an expression cannot state that meaning exactly, the rule is refused with an error
 * naming the keyword rather than matched differently. It compiles nothing (rule_compile.c
 * does, and needs hs.h here only for flag constants). Pure, control thread.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "buffer_id.h"
#include "rule_expr.h"

/*
 * Suricata keeps offset, depth and isdataat in uint16_t (DetectContentData,
 * DetectIsdataatData): 65535 is its own limit, which distance and within share here.
 */
#define EXPR_MAX_VALUE 65535u

/*
 * Hyperscan 5.4 refuses a bounded repeat above 32767 ("Bounded repeat is too large"), so a
 * gap or window that becomes one ((?s:.{lo,hi})) must fit in it. Compile time grows with
 * the bound (measured on one core: .{0,1000} 20 ms, .{0,4095} 0.1 s, .{0,32767} 0.7 s,
 * three .{0,4095} in one expression 2 s); a lone content's offset and depth become
 * Hyperscan offsets instead and cost nothing, so they keep the full 65535.
 */
#define EXPR_MAX_REPEAT 32767u

#define PCRE_KNOWN_FLAGS                                                                   \
	(RULE_PCRE_CASELESS | RULE_PCRE_DOTALL | RULE_PCRE_MULTILINE | RULE_PCRE_EXTENDED | \
	 RULE_PCRE_ANCHORED | RULE_PCRE_UNGREEDY)

struct expr_ctx {
	const struct rule_match *m;
	uint32_t n;
	uint32_t *bad;
	char *err;
	size_t errlen;
};

/* Growing NUL-terminated text; oom set on the first failed allocation. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

/*
 * A chain: a match that does not follow another (a positive content or pcre, or a negated
 * one, or an isdataat that is not relative) and the relative matches after it in the same
 * buffer. Its members are the matches from head to last whose chain_of is this chain.
 */
struct chain {
	uint32_t head, last;
	uint8_t buffer;
	bool negated;      /* a lone negated content, pcre or isdataat */
	bool from_start;   /* head is relative with no match before it: from the buffer start */
};

/* What the next relative match of a buffer follows. */
struct buf_state {
	int64_t ref;         /* last positive content or pcre, or -1 */
	uint32_t chain;      /* ref's chain */
	bool ref_is_pcre;
	bool ref_ends;       /* ref is an endswith content */
	bool negated_since;  /* a negated content or pcre came after ref */
	bool isdataat_since; /* a relative isdataat follows ref */
};

static int __attribute__((format(printf, 3, 4)))
expr_fail(struct expr_ctx *x, uint32_t i, const char *fmt, ...)
{
	va_list ap;

	*x->bad = i;
	if (x->err != NULL && x->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(x->err, x->errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static void
sb_grow(struct sbuf *s, size_t more)
{
	size_t cap;
	char *p;

	if (s->oom || s->len + more + 1 <= s->cap)
		return;
	cap = s->cap ? s->cap : 64;
	while (cap < s->len + more + 1)
		cap *= 2;
	p = realloc(s->p, cap);
	if (p == NULL) {
		s->oom = true;
		return;
	}
	s->p = p;
	s->cap = cap;
}

static void
sb_bytes(struct sbuf *s, const void *b, size_t len)
{
	sb_grow(s, len);
	if (s->oom)
		return;
	memcpy(s->p + s->len, b, len);
	s->len += len;
	s->p[s->len] = '\0';
}

static void
sb_puts(struct sbuf *s, const char *str)
{
	sb_bytes(s, str, strlen(str));
}

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sbuf *s, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (k > 0 && (size_t)k < sizeof(tmp))
		sb_bytes(s, tmp, (size_t)k);
	else
		s->oom = true; /* only short numeric fragments are formatted */
}

static bool
is_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* A content's bytes as a regular expression: alphanumerics as is, the rest \xHH. */
static void
sb_literal(struct sbuf *s, const uint8_t *bytes, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		uint8_t c = bytes[i];
		char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };

		if (is_alnum(c))
			sb_bytes(s, &c, 1);
		else
			sb_bytes(s, e, sizeof(e));
	}
}

static void
sb_content(struct sbuf *s, const struct rule_match *m)
{
	if (m->nocase)
		sb_puts(s, "(?i:");
	sb_literal(s, m->bytes, m->len);
	if (m->nocase)
		sb_puts(s, ")");
}

char *
rule_expr_literal(const void *bytes, size_t len)
{
	struct sbuf s = { 0 };

	sb_literal(&s, bytes, len);
	sb_grow(&s, 0); /* an empty literal still gets its NUL */
	if (s.oom) {
		free(s.p);
		return NULL;
	}
	s.p[s.len] = '\0';
	return s.p;
}

/*
 * What a pcre's expression holds that matters when it is relative. Suricata runs a relative
 * pcre on the subject buffer + previous match end (DetectPcrePayloadMatch), so ^, \A, \G,
 * \b, \B and lookbehind there see the subject start, not the bytes before it as they would
 * inside our one expression. This is a scanner, not a parser: PCRE2 and Hyperscan compile
 * the atom and report real syntax errors; it only has to find these constructs and the
 * parentheses (an unbalanced ')' would close our wrapping group and change the meaning).
 */
struct pcre_scan {
	size_t first;       /* index of the first token (x flag: after white space) */
	bool lead_caret;    /* ^ is the first token, not quantified */
	bool anchor;        /* ^ elsewhere, \A, \G or a lookbehind */
	bool word_boundary; /* \b or \B */
	bool top_alt;       /* | outside any group */
	bool unbalanced;
};

static bool
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void
pcre_scan(const uint8_t *p, size_t len, bool extended, struct pcre_scan *r)
{
	long depth = 0;
	size_t i = 0;

	memset(r, 0, sizeof(*r));
	while (extended && i < len && is_space(p[i]))
		i++;
	r->first = i;
	while (i < len) {
		uint8_t c = p[i];

		if (extended && is_space(c)) {
			i++;
			continue;
		}
		if (extended && c == '#') {
			while (i < len && p[i] != '\n')
				i++;
			continue;
		}
		switch (c) {
		case '\\':
			if (i + 1 >= len) {
				i++;
				break;
			}
			if (p[i + 1] == 'Q') { /* literal up to \E */
				i += 2;
				while (i < len && !(p[i] == '\\' && i + 1 < len && p[i + 1] == 'E'))
					i++;
				i += 2;
				continue;
			}
			if (p[i + 1] == 'A' || p[i + 1] == 'G')
				r->anchor = true;
			if (p[i + 1] == 'b' || p[i + 1] == 'B')
				r->word_boundary = true;
			i += p[i + 1] == 'c' ? 3 : 2; /* \cX: a control character */
			continue;
		case '[': /* a class: ] first is literal, [:name:] inside */
			i++;
			if (i < len && p[i] == '^')
				i++;
			if (i < len && p[i] == ']')
				i++;
			while (i < len && p[i] != ']') {
				if (p[i] == '\\') {
					i += 2;
				} else if (p[i] == '[' && i + 1 < len && p[i + 1] == ':') {
					const uint8_t *e = memmem(p + i + 2, len - i - 2, ":]", 2);

					i = e != NULL ? (size_t)(e - p) + 2 : len;
				} else {
					i++;
				}
			}
			i++;
			continue;
		case '(':
			if (i + 2 < len && p[i + 1] == '?' && p[i + 2] == '#') {
				while (i < len && p[i] != ')')
					i++;
				i++;
				continue;
			}
			if (i + 3 < len && p[i + 1] == '?' && p[i + 2] == '<' &&
			    (p[i + 3] == '=' || p[i + 3] == '!'))
				r->anchor = true;
			depth++;
			break;
		case ')':
			if (--depth < 0)
				r->unbalanced = true;
			break;
		case '|':
			if (depth == 0)
				r->top_alt = true;
			break;
		case '^':
			if (i == r->first && !(i + 1 < len && memchr("*+?{", p[i + 1], 4) != NULL))
				r->lead_caret = true;
			else
				r->anchor = true;
			break;
		default:
			break;
		}
		i++;
	}
	if (depth != 0)
		r->unbalanced = true;
	if (r->top_alt && r->lead_caret) { /* ^a|b: the ^ binds to one branch only */
		r->lead_caret = false;
		r->anchor = true;
	}
}

/* (?FLAGS:X), skipping skip bytes of X (a leading ^ made redundant). */
static void
sb_pcre(struct sbuf *s, const struct rule_match *m, size_t skip)
{
	uint32_t f = m->pcre_flags;

	sb_puts(s, "(?");
	if (f & RULE_PCRE_CASELESS)
		sb_puts(s, "i");
	if (f & RULE_PCRE_DOTALL)
		sb_puts(s, "s");
	if (f & RULE_PCRE_MULTILINE)
		sb_puts(s, "m");
	if (f & RULE_PCRE_EXTENDED)
		sb_puts(s, "x");
	sb_puts(s, ":");
	sb_bytes(s, m->bytes + skip, m->len - skip);
	/* with x, a trailing # comment would swallow our ')': end it (a newline is blank in x) */
	if (f & RULE_PCRE_EXTENDED)
		sb_puts(s, "\n");
	sb_puts(s, ")");
}

static bool
content_relative(const struct rule_match *m)
{
	return m->relative || m->has_distance || m->has_within;
}

static bool
is_relative(const struct rule_match *m)
{
	return m->kind == RULE_MATCH_CONTENT ? content_relative(m) : m->relative;
}

/* The keyword that made a match relative, for error messages. */
static const char *
rel_keyword(const struct rule_match *m)
{
	if (m->kind == RULE_MATCH_PCRE)
		return "pcre";
	if (m->kind == RULE_MATCH_ISDATAAT)
		return "isdataat";
	return m->has_distance || !m->has_within ? "distance" : "within";
}

static const char *
kind_keyword(uint8_t kind)
{
	if (kind == RULE_MATCH_PCRE)
		return "pcre";
	return kind == RULE_MATCH_ISDATAAT ? "isdataat" : "content";
}

/* A content modifier set on a pcre or isdataat: the parser should not let one through. */
static const char *
stray_modifier(const struct rule_match *m)
{
	if (m->nocase)
		return "nocase";
	if (m->has_offset)
		return "offset";
	if (m->has_depth)
		return "depth";
	if (m->has_distance)
		return "distance";
	if (m->has_within)
		return "within";
	if (m->startswith)
		return "startswith";
	if (m->endswith)
		return "endswith";
	return NULL;
}

/* What one match must satisfy on its own. */
static int
check_match(struct expr_ctx *x, uint32_t i)
{
	const struct rule_match *m = &x->m[i];
	const char *stray;
	struct pcre_scan ps;

	if (m->buffer >= BUF__COUNT)
		return expr_fail(x, i, "%s: unknown buffer %u", kind_keyword(m->kind), m->buffer);
	switch (m->kind) {
	case RULE_MATCH_CONTENT: {
		bool rel = content_relative(m);

		if (m->bytes == NULL || m->len == 0 || m->len > RULE_MAX_CONTENT_LEN)
			return expr_fail(x, i, "content: length %zu is not in 1..%u", m->len,
					 (unsigned)RULE_MAX_CONTENT_LEN);
		if (m->has_offset && m->offset > EXPR_MAX_VALUE)
			return expr_fail(x, i, "offset: %u is more than %u", m->offset,
					 EXPR_MAX_VALUE);
		if (m->has_depth && m->depth > EXPR_MAX_VALUE)
			return expr_fail(x, i, "depth: %u is more than %u", m->depth,
					 EXPR_MAX_VALUE);
		/*
		 * Suricata takes a negative distance (the match may start before the previous
		 * one ends, DetectEngineContentInspection clamps at 0); an expression cannot
		 * look back.
		 */
		if (m->has_distance && m->distance < 0)
			return expr_fail(x, i, "distance: negative distance is not supported");
		if (m->has_distance && (uint32_t)m->distance > EXPR_MAX_VALUE)
			return expr_fail(x, i, "distance: %d is more than %u", m->distance,
					 EXPR_MAX_VALUE);
		if (m->has_within && m->within > EXPR_MAX_VALUE)
			return expr_fail(x, i, "within: %u is more than %u", m->within,
					 EXPR_MAX_VALUE);
		/* DetectDepthSetup, DetectWithinSetup: could never match */
		if (m->has_depth && m->depth < m->len)
			return expr_fail(x, i, "depth: smaller than the content's length");
		if (m->has_within && m->within < m->len)
			return expr_fail(x, i, "within: smaller than the content's length");
		/* DetectStartsWithSetup, DetectOffsetSetup, DetectDepthSetup, ...Distance/Within */
		if (m->startswith && (m->has_offset || m->has_depth))
			return expr_fail(x, i,
					 "startswith: cannot be combined with offset or depth");
		if (m->startswith && rel)
			return expr_fail(x, i,
					 "startswith: cannot be combined with distance or within");
		if (m->has_depth && rel)
			return expr_fail(x, i,
					 "depth: cannot be combined with distance or within");
		if (m->has_offset && rel)
			return expr_fail(x, i,
					 "offset: cannot be combined with distance or within");
		/*
		 * "a; !b; within:N" means: some a is not followed by b. One atom per keyword
		 * cannot say that (Hyperscan has no lookahead), so it is refused.
		 */
		if (m->negated && rel)
			return expr_fail(x, i,
					 "content: a negated content cannot have distance/within");
		return 0;
	}
	case RULE_MATCH_PCRE:
		stray = stray_modifier(m);
		if (stray != NULL)
			return expr_fail(x, i, "%s: applies to a content, not a pcre", stray);
		if (m->bytes == NULL || m->len == 0)
			return expr_fail(x, i, "pcre: empty expression");
		if (memchr(m->bytes, '\0', m->len) != NULL)
			return expr_fail(x, i, "pcre: NUL byte in the expression");
		if (m->pcre_flags & ~PCRE_KNOWN_FLAGS)
			return expr_fail(x, i, "pcre: unknown flags 0x%x",
					 m->pcre_flags & ~PCRE_KNOWN_FLAGS);
		if (m->negated && m->relative)
			return expr_fail(x, i, "pcre: a negated pcre cannot be relative (R)");
		pcre_scan(m->bytes, m->len, m->pcre_flags & RULE_PCRE_EXTENDED, &ps);
		if (ps.unbalanced)
			return expr_fail(x, i, "pcre: unbalanced parentheses");
		return 0;
	case RULE_MATCH_ISDATAAT:
		stray = stray_modifier(m);
		if (stray != NULL)
			return expr_fail(x, i, "%s: applies to a content, not isdataat", stray);
		if (m->isdataat > EXPR_MAX_VALUE)
			return expr_fail(x, i, "isdataat: %u is more than %u", m->isdataat,
					 EXPR_MAX_VALUE);
		/* buffer_offset + 0 > buffer_len never holds */
		if (m->negated && m->relative && m->isdataat == 0)
			return expr_fail(x, i, "isdataat: !0,relative can never match");
		return 0;
	default:
		return expr_fail(x, i, "content: unknown match kind %u", m->kind);
	}
}

/*
 * A relative pcre after content ref: what Suricata's subject start changes. Returns 0 and
 * *skip (bytes of a leading ^ to drop) and *anchored (it must start right at the previous
 * match's end), or -EINVAL.
 */
static int
check_relative_pcre(struct expr_ctx *x, uint32_t i, const struct rule_match *ref, size_t *skip,
		    bool *anchored)
{
	const struct rule_match *m = &x->m[i];
	struct pcre_scan ps;

	pcre_scan(m->bytes, m->len, m->pcre_flags & RULE_PCRE_EXTENDED, &ps);
	*skip = 0;
	*anchored = m->pcre_flags & RULE_PCRE_ANCHORED;
	if (ps.anchor)
		return expr_fail(x, i,
				 "pcre: ^, \\A, \\G or a lookbehind in a relative pcre is not "
				 "supported (only a leading ^)");
	if (ps.lead_caret) {
		/* with m, ^ also matches after each newline of the subject: left out */
		if (m->pcre_flags & RULE_PCRE_MULTILINE)
			return expr_fail(x, i, "pcre: ^ in a relative pcre with the m flag is not "
					       "supported");
		/* the subject starts at the previous match's end: ^ anchors there */
		*skip = ps.first + 1;
		*anchored = true;
	}
	/*
	 * At the subject start PCRE sees no character before (a non-word one); here the byte
	 * before is the content's last. Same answer when that byte is not a word character.
	 */
	if (ps.word_boundary && ref->kind == RULE_MATCH_CONTENT) {
		uint8_t c = ref->bytes[ref->len - 1];

		if (is_alnum(c) || c == '_')
			return expr_fail(x, i,
					 "pcre: \\b or \\B in a relative pcre after a content "
					 "ending in a word character is not supported");
	}
	return 0;
}

/*
 * Gap of lo..hi bytes (unbounded: lo or more) as (?s:.{lo,hi}); fails naming match i's
 * keyword kw when Hyperscan could not count it.
 */
static int
sb_gap(struct expr_ctx *x, struct sbuf *s, uint64_t lo, uint64_t hi, bool unbounded, uint32_t i,
       const char *kw)
{
	uint64_t top = unbounded ? lo : hi;

	if (top > EXPR_MAX_REPEAT)
		return expr_fail(x, i,
				 "%s: needs a window of %llu bytes, more than the %u Hyperscan "
				 "can count",
				 kw, (unsigned long long)top, EXPR_MAX_REPEAT);
	if (unbounded && lo == 0)
		sb_puts(s, "(?s:.*)");
	else if (unbounded)
		sb_printf(s, "(?s:.{%llu,})", (unsigned long long)lo);
	else if (lo == hi && lo > 0)
		sb_printf(s, "(?s:.{%llu})", (unsigned long long)lo);
	else if (lo != hi)
		sb_printf(s, "(?s:.{%llu,%llu})", (unsigned long long)lo, (unsigned long long)hi);
	return 0;
}

/*
 * Where a chain's first content may lie: [lo, hi) from the buffer start, hi = 0 for no end.
 * offset/depth: depth counts from offset (DetectDepthSetup, DetectOffsetSetup add them);
 * startswith is depth = content length (DetectStartsWithSetup); a first content with
 * distance/within and no match before it follows buffer_offset = 0 (set by
 * DetectEngineContentInspection before each buffer): [distance, distance + within).
 */
static void
head_window(const struct rule_match *m, bool from_start, uint64_t *lo, uint64_t *hi)
{
	if (from_start) {
		*lo = m->has_distance ? (uint64_t)m->distance : 0;
		*hi = m->has_within ? *lo + m->within : 0;
	} else if (m->startswith) {
		*lo = 0;
		*hi = m->len;
	} else {
		*lo = m->has_offset ? m->offset : 0;
		*hi = m->has_depth ? *lo + m->depth : 0;
	}
}

static int
atom_literal(struct rule_atom *a, const struct rule_match *m, bool from_start)
{
	uint64_t lo, hi;

	a->literal = true;
	a->expr = malloc(m->len + 1);
	if (a->expr == NULL)
		return -ENOMEM;
	memcpy(a->expr, m->bytes, m->len);
	a->expr[m->len] = '\0';
	a->len = m->len;
	if (m->nocase) {
		a->hs_flags = HS_FLAG_CASELESS;
		a->pcre2_options = PCRE2_CASELESS;
	}
	/* Hyperscan's offsets bound where a match ends */
	head_window(m, from_start, &lo, &hi);
	if (lo > 0) {
		a->ext_flags |= HS_EXT_FLAG_MIN_OFFSET;
		a->min_offset = lo + m->len;
	}
	if (hi > 0) {
		a->ext_flags |= HS_EXT_FLAG_MAX_OFFSET;
		a->max_offset = hi;
	}
	return 0;
}

/* The regular expression of chain c (members: matches head..last with chain_of == c). */
static int
atom_regex(struct expr_ctx *x, struct rule_atom *a, const struct chain *ch,
	   const uint32_t *chain_of, uint32_t c)
{
	struct sbuf s = { 0 };
	const struct rule_match *prev = NULL;
	uint64_t data_lo = 0, data_hi = 0;
	bool data_bounded = false, data_any = false, at_end = false;
	uint32_t data_hi_idx = 0, data_lo_idx = 0;
	int rc = 0;

	for (uint32_t i = ch->head; i <= ch->last && rc == 0; i++) {
		const struct rule_match *m = &x->m[i];

		if (chain_of[i] != c)
			continue;
		/* isdataat:0,relative or !N,relative at the end: always true (make_chains) */
		if (at_end && m->kind == RULE_MATCH_ISDATAAT)
			continue;
		if (i == ch->head && m->kind == RULE_MATCH_CONTENT) {
			uint64_t lo, hi;

			head_window(m, ch->from_start, &lo, &hi);
			if (lo > 0 || hi > 0) {
				const char *kw = ch->from_start ? (hi > 0 ? "within" : "distance")
						 : m->startswith ? "startswith"
						 : hi > 0	  ? "depth"
								  : "offset";

				sb_puts(&s, "\\A");
				rc = sb_gap(x, &s, lo, hi > 0 ? hi - m->len : 0, hi == 0, i, kw);
			}
			sb_content(&s, m);
			if (m->endswith)
				sb_puts(&s, "\\z");
		} else if (i == ch->head) { /* a pcre: PCRE_ANCHORED at offset 0 */
			if (m->pcre_flags & RULE_PCRE_ANCHORED)
				sb_puts(&s, "\\A");
			sb_pcre(&s, m, 0);
			a->has_pcre = true;
		} else if (m->kind == RULE_MATCH_CONTENT) {
			/*
			 * DetectEngineContentInspection: the content lies in
			 * [prev_end + distance, prev_end + distance + within): within counts from
			 * the previous match's end plus distance.
			 */
			uint64_t d = m->has_distance ? (uint64_t)m->distance : 0;

			rc = sb_gap(x, &s, d, m->has_within ? d + m->within - m->len : 0,
				    !m->has_within, i, rel_keyword(m));
			sb_content(&s, m);
			if (m->endswith)
				sb_puts(&s, "\\z");
		} else if (m->kind == RULE_MATCH_PCRE) {
			size_t skip;
			bool anchored;

			rc = check_relative_pcre(x, i, prev, &skip, &anchored);
			if (rc == 0 && !anchored)
				sb_puts(&s, "(?s:.*)");
			sb_pcre(&s, m, skip);
			a->has_pcre = true;
		} else {
			/*
			 * isdataat:N,relative: prev_end + N <= buffer_len; negated:
			 * prev_end + N > buffer_len. All of them follow the same match and end the
			 * chain, so they meet in one (?s:.{lo,hi})\z.
			 */
			if (!m->negated) {
				if (m->isdataat > data_lo) {
					data_lo = m->isdataat;
					data_lo_idx = i;
				}
			} else if (!data_bounded || m->isdataat - 1u < data_hi) {
				data_hi = m->isdataat - 1u;
				data_hi_idx = i;
				data_bounded = true;
			}
			data_any = true;
		}
		if (m->kind != RULE_MATCH_ISDATAAT)
			prev = m;
		at_end = m->kind == RULE_MATCH_CONTENT && m->endswith;
	}
	if (rc == 0 && data_any) {
		if (data_bounded && data_hi < data_lo)
			rc = expr_fail(x, data_hi_idx,
				       "isdataat: !%llu,relative contradicts "
				       "isdataat:%llu,relative",
				       (unsigned long long)data_hi + 1,
				       (unsigned long long)data_lo);
		else
			rc = sb_gap(x, &s, data_lo, data_bounded ? data_hi : data_lo, false,
				    data_bounded ? data_hi_idx : data_lo_idx, "isdataat");
		if (rc == 0 && data_bounded)
			sb_puts(&s, "\\z");
	}
	if (rc == 0 && s.oom)
		rc = -ENOMEM;
	if (rc < 0) {
		free(s.p);
		return rc;
	}
	a->expr = s.p;
	a->len = s.len;
	return 0;
}

static int
build_atom(struct expr_ctx *x, struct rule_atom *a, const struct chain *ch,
	   const uint32_t *chain_of, uint32_t c)
{
	const struct rule_match *h = &x->m[ch->head];

	*a = (struct rule_atom){
		.buffer = ch->buffer,
		.negated = ch->negated,
		.first_match = ch->head,
		.n_matches = ch->last - ch->head + 1,
		.line = h->line,
		.col = h->col,
	};
	if (h->kind == RULE_MATCH_ISDATAAT) {
		/* isdataat:N: N < buffer_len, i.e. some byte ends at N + 1 or later */
		a->expr = strdup("(?s:.)");
		if (a->expr == NULL)
			return -ENOMEM;
		a->len = strlen(a->expr);
		a->ext_flags = HS_EXT_FLAG_MIN_OFFSET;
		a->min_offset = (unsigned long long)h->isdataat + 1;
		return 0;
	}
	if (ch->head == ch->last && h->kind == RULE_MATCH_CONTENT && !h->endswith)
		return atom_literal(a, h, ch->from_start);
	return atom_regex(x, a, ch, chain_of, c);
}

void
rule_atoms_free(struct rule_atom *atoms, uint32_t n)
{
	if (atoms == NULL)
		return;
	for (uint32_t i = 0; i < n; i++)
		free(atoms[i].expr);
	free(atoms);
}

static uint32_t
chain_new(struct chain *chains, uint32_t *n_chains, uint32_t i, const struct rule_match *m,
	  bool negated, bool from_start)
{
	chains[*n_chains] = (struct chain){
		.head = i,
		.last = i,
		.buffer = m->buffer,
		.negated = negated,
		.from_start = from_start,
	};
	return (*n_chains)++;
}

/*
 * Sort the matches into chains. Suricata walks a buffer's matches in order
 * (DetectEngineContentInspection): a relative one follows buffer_offset, the end of the last
 * positive content or pcre; on failure, earlier contents are retried at their next
 * occurrence when a relative match depends on them (the *_NEXT flags). Each chain is thus
 * "some occurrence of the whole chain exists", which one expression states exactly, except
 * in the cases refused below.
 */
static int
make_chains(struct expr_ctx *x, struct chain *chains, uint32_t *n_chains, uint32_t *chain_of)
{
	struct buf_state st[BUF__COUNT];
	int last_cp_buffer = -1; /* buffer of the rule's last content or pcre */
	int rc;

	for (unsigned b = 0; b < BUF__COUNT; b++)
		st[b] = (struct buf_state){ .ref = -1 };
	for (uint32_t i = 0; i < x->n; i++) {
		const struct rule_match *m = &x->m[i];
		struct buf_state *b;
		bool rel;

		rc = check_match(x, i);
		if (rc < 0)
			return rc;
		b = &st[m->buffer];
		rel = is_relative(m);
		if (m->kind == RULE_MATCH_ISDATAAT && !rel) {
			chain_of[i] = chain_new(chains, n_chains, i, m, m->negated, false);
			continue;
		}
		if (m->kind == RULE_MATCH_ISDATAAT) {
			/*
			 * DetectIsdataatSetup takes the rule's last content or pcre, whatever
			 * its buffer (and turns isdataat:!1,relative into endswith on it): only
			 * the same buffer's is followed here. Relative to the buffer start it
			 * would be isdataat:N-1; write that instead.
			 */
			if (last_cp_buffer != m->buffer || b->ref < 0)
				return expr_fail(x, i, "isdataat: relative needs a match before "
						       "it in the same buffer");
		} else if (!rel || b->ref < 0) {
			/*
			 * Not relative, or relative with no match before it: Suricata then follows
			 * buffer_offset 0 (a relative pcre searches the whole buffer), so it starts
			 * a chain anchored at the buffer start.
			 */
			if (m->negated) {
				chain_of[i] = chain_new(chains, n_chains, i, m, true, false);
				if (b->ref >= 0)
					b->negated_since = true;
			} else {
				chain_of[i] = chain_new(chains, n_chains, i, m, false,
							rel && m->kind == RULE_MATCH_CONTENT);
				*b = (struct buf_state){
					.ref = i,
					.chain = chain_of[i],
					.ref_is_pcre = m->kind == RULE_MATCH_PCRE,
					.ref_ends = m->kind == RULE_MATCH_CONTENT && m->endswith,
				};
			}
			last_cp_buffer = m->buffer;
			continue;
		}
		/*
		 * A pcre's end is the one PCRE picks for each start (DetectPcrePayloadMatch
		 * retries start + 1, never another end), not any end: an expression following
		 * it would also try the others.
		 */
		if (b->ref_is_pcre)
			return expr_fail(x, i, "%s: cannot be relative to a pcre", rel_keyword(m));
		/*
		 * "a; !x; b; within:N": the relative-next flag lands on !x, so Suricata never
		 * retries a's later occurrences (DetectWithinSetup, DetectDistanceSetup).
		 */
		if (b->negated_since)
			return expr_fail(x, i,
					 "%s: relative to a match before a negated content or "
					 "pcre is not supported",
					 rel_keyword(m));
		/* a relative isdataat consumes nothing, and Hyperscan has no lookahead */
		if (b->isdataat_since && m->kind != RULE_MATCH_ISDATAAT)
			return expr_fail(x, i,
					 "%s: cannot follow a relative isdataat on the same match",
					 rel_keyword(m));
		/*
		 * After an endswith content only the empty rest of the buffer is left; Hyperscan
		 * takes no \z inside an expression, so what could match there is settled here.
		 */
		if (b->ref_ends && m->kind == RULE_MATCH_PCRE)
			return expr_fail(x, i,
					 "pcre: R after an endswith content is not supported");
		if (b->ref_ends &&
		    (m->kind == RULE_MATCH_CONTENT || (!m->negated && m->isdataat > 0)))
			return expr_fail(x, i,
					 "%s: follows an endswith content, so it can never match",
					 rel_keyword(m));
		if (m->kind == RULE_MATCH_PCRE) {
			size_t skip;
			bool anchored;

			rc = check_relative_pcre(x, i, &x->m[b->ref], &skip, &anchored);
			if (rc < 0)
				return rc;
		}
		chain_of[i] = b->chain;
		chains[b->chain].last = i;
		if (m->kind == RULE_MATCH_ISDATAAT) {
			b->isdataat_since = true;
		} else {
			b->ref = i;
			b->ref_is_pcre = m->kind == RULE_MATCH_PCRE;
			b->ref_ends = m->kind == RULE_MATCH_CONTENT && m->endswith;
			last_cp_buffer = m->buffer;
		}
	}
	return 0;
}

int
rule_expr_build(const struct rule_match *m, uint32_t n, struct rule_atom **atoms,
		uint32_t *n_atoms, uint32_t *bad, char *err, size_t errlen)
{
	struct expr_ctx x = { .m = m, .n = n, .bad = bad, .err = err, .errlen = errlen };
	struct chain *chains = NULL;
	uint32_t *chain_of = NULL;
	struct rule_atom *out = NULL;
	uint32_t n_chains = 0, built = 0;
	int rc;

	*atoms = NULL;
	*n_atoms = 0;
	*bad = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (n == 0)
		return 0;
	chains = calloc(n, sizeof(*chains));
	chain_of = calloc(n, sizeof(*chain_of));
	if (chains == NULL || chain_of == NULL) {
		rc = -ENOMEM;
		goto cleanup;
	}
	rc = make_chains(&x, chains, &n_chains, chain_of);
	if (rc < 0)
		goto cleanup;
	out = calloc(n_chains, sizeof(*out));
	if (out == NULL) {
		rc = -ENOMEM;
		goto cleanup;
	}
	for (; built < n_chains; built++) {
		rc = build_atom(&x, &out[built], &chains[built], chain_of, built);
		if (rc < 0)
			goto cleanup;
	}
	*atoms = out;
	*n_atoms = n_chains;
	out = NULL;
cleanup:
	rule_atoms_free(out, built);
	free(chain_of);
	free(chains);
	return rc;
}
