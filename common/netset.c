/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Address and port sets for rule headers, and the variables file; see netset.h for the
 * syntax and its meaning. A field is evaluated recursively into sets of inclusive ranges
 * over 128-bit integers (addresses as IPv6, IPv4 mapped; ports as 0..65535), with union and
 * difference done on sorted arrays. Every list is read in two passes over its text, the
 * positive elements first and the negated ones second, so that each negation can be checked
 * against the list's final positive set without keeping every negated set alive. Control
 * threads, except the two *_contains() lookups, which any thread may call.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "file_read.h"
#include "netset.h"

#define SHOW_MAX 64
#define MSG_MAX 512

/* ::ffff:0:0/96, where the IPv4 addresses live. */
#define V4_BASE ((unsigned __int128)0xffff << 32)
#define V4_LAST (V4_BASE | 0xffffffffu)

enum netset_kind {
	NETSET_IP = 0,
	NETSET_PORT = 1,
};

struct span {
	unsigned __int128 lo, hi;
};

/* Normalized (sorted, disjoint, non-adjacent) except while being filled. */
struct span_set {
	struct span *s;
	uint32_t n, cap;
};

struct netset_var {
	char name[NETSET_NAME_MAX + 1];
	char *value;            /* len bytes, NUL-terminated */
	uint32_t len;
	uint32_t line, col;     /* of the value's first byte, 1-based */
	const char *file;       /* the table's file name, or "built-in" */
	bool from_file;         /* defined by the file (not a default it overrode) */
};

struct netset_vars {
	struct netset_var *v;   /* sorted by name once built */
	uint32_t n;
	char *file;
};

/* A text being read: the field itself (var < 0) or the value of variable var. */
struct frame {
	const char *t;
	size_t len;
	int var;
};

struct cctx {
	enum netset_kind kind;
	const struct netset_vars *vars;
	unsigned __int128 umax;
	int stack[NETSET_MAX_VAR_DEPTH];   /* variables being expanded, outermost first */
	uint32_t depth;
	uint32_t root_depth;    /* depth of the text being compiled: 0, or 1 when checking a
				 * variable's own value */
	size_t outer_off;       /* offset in the root text of the outermost variable's '$' */
	size_t expanded;        /* bytes of variable values read */
	/* the first error */
	bool failed;
	int rc;
	size_t err_off;
	char msg[MSG_MAX];      /* without chain or location */
	char chain[MSG_MAX];    /* "$A -> $B", or empty */
	const char *loc_file;
	uint32_t loc_line, loc_col;
};

static const char builtin_file[] = "built-in";

static const char defaults_text[] = "HOME_NET = [192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]\n"
				    "EXTERNAL_NET = !$HOME_NET\n"
				    "SMTP_SERVERS = $HOME_NET\n"
				    "SMTP_PORTS = [25,465,587]\n";

/* ---------------------------------------------------------------- messages */

static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Record the first error: off is a byte offset in frame f. Inside a variable, the field's
 * offset is that of the outermost '$', and the place in the variables file is kept.
 */
static int __attribute__((format(printf, 5, 6)))
cerr(struct cctx *c, const struct frame *f, size_t off, int rc, const char *fmt, ...)
{
	va_list ap;
	size_t o = 0;

	if (c->failed)
		return c->rc;
	c->failed = true;
	c->rc = rc;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	c->chain[0] = '\0';
	c->err_off = c->depth == c->root_depth ? off : c->outer_off;
	if (f->var < 0)
		return rc;
	for (uint32_t i = 0; i < c->depth && o < sizeof(c->chain); i++)
		o += (size_t)snprintf(c->chain + o, sizeof(c->chain) - o, "%s$%s",
				      i > 0 ? " -> " : "", c->vars->v[c->stack[i]].name);
	const struct netset_var *v = &c->vars->v[f->var];

	c->loc_file = v->file;
	c->loc_line = v->line;
	c->loc_col = v->col + (uint32_t)off;
	return rc;
}

static int
too_many(struct cctx *c, const struct frame *f, size_t off, int rc)
{
	if (rc == -ENOMEM)
		return cerr(c, f, off, rc, "out of memory");
	return cerr(c, f, off, -EINVAL, "more than %d ranges", NETSET_MAX_RANGES);
}

/* ---------------------------------------------------------------- range sets */

static void
set_free(struct span_set *s)
{
	free(s->s);
	s->s = NULL;
	s->n = s->cap = 0;
}

static int
span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void
set_normalize(struct span_set *s)
{
	uint32_t o = 0;

	if (s->n < 2)
		return;
	qsort(s->s, s->n, sizeof(*s->s), span_cmp);
	for (uint32_t i = 1; i < s->n; i++) {
		struct span *prev = &s->s[o];

		/* overlapping or adjacent (prev->hi + 1 would wrap at the top) */
		if (prev->hi == ~(unsigned __int128)0 || s->s[i].lo <= prev->hi + 1) {
			if (s->s[i].hi > prev->hi)
				prev->hi = s->s[i].hi;
		} else {
			s->s[++o] = s->s[i];
		}
	}
	s->n = o + 1;
}

/*
 * Append a range. The raw array may hold twice the limit before it is merged; more than
 * the limit once merged is -E2BIG.
 */
static int
set_push(struct span_set *s, unsigned __int128 lo, unsigned __int128 hi)
{
	if (s->n == s->cap) {
		if (s->cap >= 2 * NETSET_MAX_RANGES) {
			set_normalize(s);
			if (s->n > NETSET_MAX_RANGES)
				return -E2BIG;
		}
		if (s->n == s->cap) {
			uint32_t cap = s->cap != 0 ? s->cap * 2 : 8;
			struct span *ns = realloc(s->s, (size_t)cap * sizeof(*ns));

			if (ns == NULL)
				return -ENOMEM;
			s->s = ns;
			s->cap = cap;
		}
	}
	s->s[s->n].lo = lo;
	s->s[s->n].hi = hi;
	s->n++;
	return 0;
}

static int
set_finish(struct span_set *s)
{
	set_normalize(s);
	return s->n > NETSET_MAX_RANGES ? -E2BIG : 0;
}

/* Whether [lo, hi] meets the normalized set s. */
static bool
set_meets(const struct span_set *s, unsigned __int128 lo, unsigned __int128 hi)
{
	uint32_t a = 0, b = s->n;

	/* the first range that ends at or after lo */
	while (a < b) {
		uint32_t m = a + (b - a) / 2;

		if (s->s[m].hi < lo)
			a = m + 1;
		else
			b = m;
	}
	return a < s->n && s->s[a].lo <= hi;
}

/* out = a - b, both normalized; out is normalized. */
static int
set_subtract(const struct span_set *a, const struct span_set *b, struct span_set *out)
{
	uint32_t j = 0;
	int rc;

	for (uint32_t i = 0; i < a->n; i++) {
		unsigned __int128 cur = a->s[i].lo, hi = a->s[i].hi;
		bool done = false;

		while (j < b->n && b->s[j].hi < cur)
			j++;
		for (uint32_t k = j; k < b->n && b->s[k].lo <= hi; k++) {
			if (b->s[k].lo > cur) {
				rc = set_push(out, cur, b->s[k].lo - 1);
				if (rc < 0)
					return rc;
			}
			if (b->s[k].hi >= hi) {
				done = true;
				break;
			}
			cur = b->s[k].hi + 1;
		}
		if (!done) {
			rc = set_push(out, cur, hi);
			if (rc < 0)
				return rc;
		}
	}
	return set_finish(out);
}

/* ---------------------------------------------------------------- variables lookup */

static int
var_cmp(const void *a, const void *b)
{
	const struct netset_var *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int
var_find(const struct netset_vars *v, const char *name, size_t n)
{
	char key[NETSET_NAME_MAX + 1];
	uint32_t a = 0, b;

	if (v == NULL || n > NETSET_NAME_MAX)
		return -1;
	memcpy(key, name, n);
	key[n] = '\0';
	b = v->n;
	while (a < b) {
		uint32_t m = a + (b - a) / 2;
		int r = strcmp(key, v->v[m].name);

		if (r == 0)
			return (int)m;
		if (r < 0)
			b = m;
		else
			a = m + 1;
	}
	return -1;
}

static bool
name_byte(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_';
}

/* ---------------------------------------------------------------- atoms */

static bool
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static size_t
skip_blank(const char *t, size_t p, size_t end)
{
	while (p < end && is_blank(t[p]))
		p++;
	return p;
}

static bool
atom_byte(char ch)
{
	return !is_blank(ch) && ch != ',' && ch != '[' && ch != ']';
}

static bool
is_any(const char *s, size_t n)
{
	return n == 3 && (s[0] | 0x20) == 'a' && (s[1] | 0x20) == 'n' && (s[2] | 0x20) == 'y';
}

/* A decimal number of at most maxd digits, no sign. */
static bool
parse_dec(const char *s, size_t n, size_t maxd, uint32_t *out)
{
	uint32_t v = 0;

	if (n == 0 || n > maxd)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* One address, IPv4 or IPv6, NUL-terminated: its value and its width in bits (32 or 128). */
static bool
parse_ip(const char *s, unsigned __int128 *v, unsigned *bits)
{
	uint8_t a[16];

	if (inet_pton(AF_INET, s, a) == 1) {
		*v = V4_BASE | ((uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 |
				a[3]);
		*bits = 32;
		return true;
	}
	if (strchr(s, ':') != NULL && inet_pton(AF_INET6, s, a) == 1) {
		*v = 0;
		for (int i = 0; i < 16; i++)
			*v = *v << 8 | a[i];
		*bits = 128;
		return true;
	}
	return false;
}

static unsigned __int128
host_mask(unsigned host_bits)
{
	return host_bits >= 128 ? ~(unsigned __int128)0 : ((unsigned __int128)1 << host_bits) - 1;
}

/* An IPv6 range never covers the IPv4 block, unless it lies within it (see netset.h). */
static int
push_ip(struct span_set *out, unsigned __int128 lo, unsigned __int128 hi, unsigned bits)
{
	int rc = 0;

	if (bits == 32 || (lo >= V4_BASE && hi <= V4_LAST) || hi < V4_BASE || lo > V4_LAST)
		return set_push(out, lo, hi);
	if (lo < V4_BASE)
		rc = set_push(out, lo, V4_BASE - 1);
	if (rc == 0 && hi > V4_LAST)
		rc = set_push(out, V4_LAST + 1, hi);
	return rc;
}

/* IP, IP/prefix, IPv4/netmask, IP-IP. */
static int
ip_atom(struct cctx *c, const struct frame *f, size_t off, size_t n, struct span_set *out)
{
	const char *s = f->t + off;
	char buf[128], sb[SHOW_MAX];
	char *slash, *dash;
	unsigned __int128 lo, hi;
	unsigned bits, bits2;

	if (n >= sizeof(buf) || memchr(s, '\0', n) != NULL)
		goto invalid;
	memcpy(buf, s, n);
	buf[n] = '\0';
	slash = strchr(buf, '/');
	dash = strchr(buf, '-');
	if (slash != NULL && dash != NULL)
		goto invalid;
	if (dash != NULL) {
		*dash = '\0';
		if (!parse_ip(buf, &lo, &bits) || !parse_ip(dash + 1, &hi, &bits2))
			goto invalid;
		if (bits != bits2)
			return cerr(c, f, off, -EINVAL, "range '%s' mixes IPv4 and IPv6",
				    ascii_show(sb, sizeof(sb), s, n));
		if (lo > hi)
			return cerr(c, f, off, -EINVAL, "range '%s' ends before it starts",
				    ascii_show(sb, sizeof(sb), s, n));
	} else if (slash != NULL) {
		const char *pfx = slash + 1;
		uint32_t plen;

		*slash = '\0';
		if (!parse_ip(buf, &lo, &bits))
			goto invalid;
		if (bits == 32 && strchr(pfx, '.') != NULL) {
			uint8_t m[4];
			uint32_t mask;

			if (inet_pton(AF_INET, pfx, m) != 1)
				goto invalid;
			mask = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 |
			       m[3];
			/* contiguous: the inverted mask plus one is a power of two */
			if (((~mask + 1) & ~mask) != 0)
				return cerr(c, f, off, -EINVAL, "netmask in '%s' is not contiguous",
					    ascii_show(sb, sizeof(sb), s, n));
			plen = (uint32_t)__builtin_popcount(mask);
		} else if (!parse_dec(pfx, strlen(pfx), 3, &plen)) {
			goto invalid;
		} else if (plen > bits) {
			return cerr(c, f, off, -EINVAL, "prefix length in '%s' is over %u",
				    ascii_show(sb, sizeof(sb), s, n), bits);
		}
		/* Suricata masks the host bits: 10.1.2.3/8 is 10.0.0.0/8 */
		lo &= ~host_mask(bits - plen);
		hi = lo | host_mask(bits - plen);
	} else {
		if (!parse_ip(buf, &lo, &bits))
			goto invalid;
		hi = lo;
	}
	if (push_ip(out, lo, hi, bits) < 0)
		return cerr(c, f, off, -ENOMEM, "out of memory");
	return 0;
invalid:
	return cerr(c, f, off, -EINVAL, "invalid address '%s'", ascii_show(sb, sizeof(sb), s, n));
}

/* N, N:M, N:, :M */
static int
port_atom(struct cctx *c, const struct frame *f, size_t off, size_t n, struct span_set *out)
{
	const char *s = f->t + off;
	const char *colon = memchr(s, ':', n);
	uint32_t lo = 0, hi = 65535;
	char sb[SHOW_MAX];

	if (colon == NULL) {
		if (!parse_dec(s, n, 5, &lo) || lo > 65535)
			goto invalid;
		hi = lo;
	} else {
		size_t ln = (size_t)(colon - s), rn = n - ln - 1;

		if (ln == 0 && rn == 0)
			goto invalid;
		if (ln > 0 && (!parse_dec(s, ln, 5, &lo) || lo > 65535))
			goto invalid;
		if (rn > 0 && (!parse_dec(colon + 1, rn, 5, &hi) || hi > 65535))
			goto invalid;
		if (lo > hi)
			return cerr(c, f, off, -EINVAL, "port range '%s' ends before it starts",
				    ascii_show(sb, sizeof(sb), s, n));
	}
	if (set_push(out, lo, hi) < 0)
		return cerr(c, f, off, -ENOMEM, "out of memory");
	return 0;
invalid:
	return cerr(c, f, off, -EINVAL, "invalid port '%s'", ascii_show(sb, sizeof(sb), s, n));
}

static int eval_body(struct cctx *c, const struct frame *f, size_t *pp, bool closing,
		     size_t open, int nest, struct span_set *out);

/* $NAME: the variable's value, read as a list of its own. */
static int
var_atom(struct cctx *c, const struct frame *f, size_t off, size_t n, struct span_set *out)
{
	const char *s = f->t + off;
	char sb[SHOW_MAX];
	size_t p = 0;
	int idx, rc;

	if (n < 2 || n - 1 > NETSET_NAME_MAX)
		goto invalid;
	for (size_t i = 1; i < n; i++)
		if (!name_byte(s[i]))
			goto invalid;
	idx = var_find(c->vars, s + 1, n - 1);
	if (idx < 0)
		return cerr(c, f, off, -EINVAL, "unknown variable %s", ascii_show(sb, sizeof(sb), s, n));
	for (uint32_t i = 0; i < c->depth; i++)
		if (c->stack[i] == idx)
			return cerr(c, f, off, -EINVAL, "variable cycle through %s",
				    ascii_show(sb, sizeof(sb), s, n));
	if (c->depth >= NETSET_MAX_VAR_DEPTH)
		return cerr(c, f, off, -EINVAL, "variables nested deeper than %d",
			    NETSET_MAX_VAR_DEPTH);

	const struct netset_var *v = &c->vars->v[idx];

	if (v->len > NETSET_MAX_EXPANSION - c->expanded)
		return cerr(c, f, off, -EINVAL, "variables expand to more than %u bytes",
			    NETSET_MAX_EXPANSION);
	c->expanded += v->len;
	if (c->depth == c->root_depth)
		c->outer_off = off;
	c->stack[c->depth++] = idx;

	struct frame vf = { .t = v->value, .len = v->len, .var = idx };

	rc = eval_body(c, &vf, &p, false, 0, 0, out);
	c->depth--;
	return rc;
invalid:
	return cerr(c, f, off, -EINVAL, "invalid variable name '%s'", ascii_show(sb, sizeof(sb), s, n));
}

static int
eval_atom(struct cctx *c, const struct frame *f, size_t off, size_t n, struct span_set *out)
{
	if (is_any(f->t + off, n)) {
		if (set_push(out, 0, c->umax) < 0)
			return cerr(c, f, off, -ENOMEM, "out of memory");
		return 0;
	}
	if (f->t[off] == '$')
		return var_atom(c, f, off, n, out);
	return c->kind == NETSET_IP ? ip_atom(c, f, off, n, out) : port_atom(c, f, off, n, out);
}

/* The end of the element at p (after any '!'), not evaluated: a bracketed list or an atom. */
static int
skip_element(struct cctx *c, const struct frame *f, size_t *pp)
{
	size_t p = *pp, depth = 0;

	if (f->t[p] != '[') {
		while (p < f->len && atom_byte(f->t[p]))
			p++;
		*pp = p;
		return 0;
	}
	for (size_t q = p; q < f->len; q++) {
		if (f->t[q] == '[') {
			depth++;
		} else if (f->t[q] == ']' && --depth == 0) {
			*pp = q + 1;
			return 0;
		}
	}
	return cerr(c, f, p, -EINVAL, "missing ']'");
}

/* One element at p (after any '!'): a bracketed list or an atom, evaluated into out. */
static int
eval_element(struct cctx *c, const struct frame *f, size_t *pp, int nest, struct span_set *out)
{
	const char *t = f->t;
	size_t p = *pp, s;
	char sb[SHOW_MAX];
	int rc;

	if (t[p] == '[') {
		size_t open = p;

		if (nest >= NETSET_MAX_NESTING)
			return cerr(c, f, open, -EINVAL, "lists nested deeper than %d",
				    NETSET_MAX_NESTING);
		p = skip_blank(t, p + 1, f->len);
		if (p < f->len && t[p] == ']')
			return cerr(c, f, open, -EINVAL, "empty list");
		rc = eval_body(c, f, &p, true, open, nest + 1, out);
		*pp = p;
		return rc;
	}
	s = p;
	while (p < f->len && atom_byte(t[p]))
		p++;
	if (p == s)
		return cerr(c, f, p, -EINVAL, "unexpected '%s'", ascii_show(sb, sizeof(sb), t + p, 1));
	*pp = p;
	return eval_atom(c, f, s, p - s, out);
}

static int
append_set(struct span_set *dst, const struct span_set *src)
{
	for (uint32_t i = 0; i < src->n; i++) {
		int rc = set_push(dst, src->s[i].lo, src->s[i].hi);

		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * A list body from *pp: elements separated by ',', up to the ']' that closes the list
 * opened at open (closing), or to the end of the text. out receives (union of positive
 * elements, or everything) minus (union of negated ones). Pass 0 evaluates the positive
 * elements and only checks the shape of the negated ones; pass 1 evaluates the negated ones
 * against the now known positive set.
 */
static int
eval_body(struct cctx *c, const struct frame *f, size_t *pp, bool closing, size_t open,
	  int nest, struct span_set *out)
{
	struct span_set pos = { 0 }, neg = { 0 }, el = { 0 };
	const char *t = f->t;
	const size_t end = f->len, start = *pp;
	bool any_pos = false;
	char sb[SHOW_MAX];
	size_t p = start;
	int rc = 0;

	for (int pass = 0; pass < 2; pass++) {
		p = start;
		for (;;) {
			size_t el_off, a_off;
			bool negated = false;

			p = skip_blank(t, p, end);
			el_off = p;
			if (p < end && t[p] == '!') {
				negated = true;
				p = skip_blank(t, p + 1, end);
				if (p < end && t[p] == '!') {
					rc = cerr(c, f, p, -EINVAL, "'!' twice");
					goto out;
				}
			}
			if (p >= end) {
				rc = closing ? cerr(c, f, open, -EINVAL, "missing ']'")
					     : cerr(c, f, p, -EINVAL, "missing value");
				goto out;
			}
			if (t[p] == ',' || t[p] == ']') {
				rc = cerr(c, f, p, -EINVAL, "unexpected '%c'", t[p]);
				goto out;
			}
			a_off = p;
			if (negated == (pass == 1)) {
				el.n = 0;
				rc = eval_element(c, f, &p, nest, &el);
				if (rc < 0)
					goto out;
				if (negated && p - a_off == 3 && is_any(t + a_off, 3)) {
					rc = cerr(c, f, el_off, -EINVAL, "'!any' matches nothing");
					goto out;
				}
				/* Suricata refuses an address negation that removes nothing */
				if (negated && c->kind == NETSET_IP) {
					bool meets = false;

					for (uint32_t i = 0; i < el.n && !meets; i++)
						meets = set_meets(&pos, el.s[i].lo, el.s[i].hi);
					if (!meets) {
						rc = cerr(c, f, el_off, -EINVAL,
							  "'%s' removes nothing from its list",
							  ascii_show(sb, sizeof(sb), t + el_off,
							       p - el_off));
						goto out;
					}
				}
				rc = append_set(negated ? &neg : &pos, &el);
				if (rc < 0) {
					rc = too_many(c, f, el_off, rc);
					goto out;
				}
				any_pos |= !negated;
			} else if (pass == 0 && t[p] != '[' && t[p] != '$') {
				/* a negated atom: check it now, so errors come in text order */
				el.n = 0;
				rc = eval_element(c, f, &p, nest, &el);
				if (rc < 0)
					goto out;
			} else {
				rc = skip_element(c, f, &p);
				if (rc < 0)
					goto out;
			}
			p = skip_blank(t, p, end);
			if (p >= end) {
				if (closing) {
					rc = cerr(c, f, open, -EINVAL, "missing ']'");
					goto out;
				}
				break;
			}
			if (t[p] == ']') {
				if (!closing) {
					rc = cerr(c, f, p, -EINVAL, "unexpected ']'");
					goto out;
				}
				p++;
				break;
			}
			if (t[p] != ',') {
				rc = cerr(c, f, p, -EINVAL, "expected ',' or ']', found '%s'",
					  ascii_show(sb, sizeof(sb), t + p, 1));
				goto out;
			}
			p++;
		}
		if (pass == 0) {
			if (!any_pos && set_push(&pos, 0, c->umax) < 0) {
				rc = too_many(c, f, start, -ENOMEM);
				goto out;
			}
			rc = set_finish(&pos);
			if (rc < 0) {
				rc = too_many(c, f, closing ? open : start, rc);
				goto out;
			}
		}
	}
	rc = set_finish(&neg);
	if (rc == 0)
		rc = set_subtract(&pos, &neg, out);
	if (rc < 0) {
		rc = too_many(c, f, closing ? open : start, rc);
		goto out;
	}
	if (out->n == 0) {
		rc = cerr(c, f, closing ? open : skip_blank(t, start, end), -EINVAL,
			  "matches no %s", c->kind == NETSET_IP ? "address" : "port");
		goto out;
	}
	*pp = p;
out:
	set_free(&el);
	set_free(&neg);
	set_free(&pos);
	return rc;
}

/* ---------------------------------------------------------------- compile */

static void
cctx_init(struct cctx *c, enum netset_kind kind, const struct netset_vars *vars)
{
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->vars = vars;
	c->umax = kind == NETSET_IP ? ~(unsigned __int128)0 : 65535;
}

/* The message of the first error, as netset.h describes it for the compile functions. */
static void
cctx_message(const struct cctx *c, char *err, size_t errlen)
{
	if (c->chain[0] == '\0')
		set_err(err, errlen, "%s", c->msg);
	else
		set_err(err, errlen, "%s: %s (%s:%u:%u)", c->chain, c->msg, c->loc_file,
			c->loc_line, c->loc_col);
}

static int
compile(enum netset_kind kind, const char *spec, size_t len, const struct netset_vars *vars,
	struct span_set *res, size_t *err_off, char *err, size_t errlen)
{
	struct frame f = { .t = spec, .len = len, .var = -1 };
	struct cctx *c;
	size_t p = 0;
	int rc;

	if (len > NETSET_TEXT_MAX) {
		*err_off = NETSET_TEXT_MAX;
		set_err(err, errlen, "longer than %d bytes", NETSET_TEXT_MAX);
		return -EINVAL;
	}
	c = malloc(sizeof(*c));
	if (c == NULL) {
		*err_off = 0;
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	cctx_init(c, kind, vars);
	rc = eval_body(c, &f, &p, false, 0, 0, res);
	if (rc < 0) {
		*err_off = c->err_off;
		cctx_message(c, err, errlen);
		set_free(res);
	}
	free(c);
	return rc;
}

static void
u128_to_bytes(unsigned __int128 v, uint8_t out[16])
{
	for (int i = 15; i >= 0; i--) {
		out[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* Compile spec into res and allocate res->n ranges of elem bytes for the caller to fill. */
static int
compile_ranges(enum netset_kind kind, const char *spec, size_t len, const struct netset_vars *vars,
	       size_t elem, void **out, struct span_set *res, size_t *err_off, char *err,
	       size_t errlen)
{
	int rc = compile(kind, spec, len, vars, res, err_off, err, errlen);

	if (rc < 0)
		return rc;
	*out = malloc((size_t)res->n * elem);
	if (*out == NULL) {
		set_free(res);
		*err_off = 0;
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int
netset_ip_compile(const char *spec, size_t len, const struct netset_vars *vars,
		  struct netset_ip_range **out, uint32_t *n, size_t *err_off, char *err,
		  size_t errlen)
{
	struct span_set res = { 0 };
	struct netset_ip_range *r = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	rc = compile_ranges(NETSET_IP, spec, len, vars, sizeof(*r), (void **)&r, &res, err_off,
			    err, errlen);
	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < res.n; i++) {
		u128_to_bytes(res.s[i].lo, r[i].lo);
		u128_to_bytes(res.s[i].hi, r[i].hi);
	}
	*out = r;
	*n = res.n;
	set_free(&res);
	return 0;
}

int
netset_port_compile(const char *spec, size_t len, const struct netset_vars *vars,
		    struct netset_port_range **out, uint32_t *n, size_t *err_off, char *err,
		    size_t errlen)
{
	struct span_set res = { 0 };
	struct netset_port_range *r = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	rc = compile_ranges(NETSET_PORT, spec, len, vars, sizeof(*r), (void **)&r, &res, err_off,
			    err, errlen);
	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < res.n; i++) {
		r[i].lo = (uint16_t)res.s[i].lo;
		r[i].hi = (uint16_t)res.s[i].hi;
	}
	*out = r;
	*n = res.n;
	set_free(&res);
	return 0;
}

/* ---------------------------------------------------------------- lookups */

bool
netset_ip_contains(const struct netset_ip_range *r, uint32_t n, const uint8_t ip[16])
{
	uint32_t a = 0, b = n;

	/* the first range that ends at or after ip; ranges are sorted and disjoint */
	while (a < b) {
		uint32_t m = a + (b - a) / 2;

		if (memcmp(r[m].hi, ip, 16) < 0)
			a = m + 1;
		else
			b = m;
	}
	return a < n && memcmp(r[a].lo, ip, 16) <= 0;
}

bool
netset_port_contains(const struct netset_port_range *r, uint32_t n, uint16_t port)
{
	uint32_t a = 0, b = n;

	while (a < b) {
		uint32_t m = a + (b - a) / 2;

		if (r[m].hi < port)
			a = m + 1;
		else
			b = m;
	}
	return a < n && r[a].lo <= port;
}

/* ---------------------------------------------------------------- variables file */

void
netset_vars_destroy(struct netset_vars *v)
{
	if (v == NULL)
		return;
	for (uint32_t i = 0; i < v->n; i++)
		free(v->v[i].value);
	free(v->v);
	free(v->file);
	free(v);
}

static int __attribute__((format(printf, 6, 7)))
verr(char *err, size_t errlen, const char *file, uint32_t line, uint32_t col, const char *fmt,
     ...)
{
	char msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	set_err(err, errlen, "%s:%u:%u: %s", file, line, col, msg);
	return -EINVAL;
}

/* Add or override one variable; file vars may not be defined twice. */
static int
vars_set(struct netset_vars *v, const char *file, bool from_file, const char *name,
	 size_t name_len, const char *val, size_t val_len, uint32_t line, uint32_t name_col,
	 uint32_t val_col, char *err, size_t errlen)
{
	struct netset_var *e = NULL;
	char *copy;

	for (uint32_t i = 0; i < v->n; i++) {
		if (strlen(v->v[i].name) == name_len && memcmp(v->v[i].name, name, name_len) == 0) {
			e = &v->v[i];
			break;
		}
	}
	if (e != NULL && e->from_file && from_file)
		return verr(err, errlen, file, line, name_col,
			    "duplicate variable %s, first defined at line %u", e->name, e->line);
	if (e == NULL && v->n >= NETSET_VARS_MAX)
		return verr(err, errlen, file, line, name_col, "more than %d variables",
			    NETSET_VARS_MAX);
	copy = malloc(val_len + 1);
	if (copy == NULL) {
		set_err(err, errlen, "%s: out of memory", file);
		return -ENOMEM;
	}
	memcpy(copy, val, val_len);
	copy[val_len] = '\0';
	if (e == NULL) {
		if (v->n % 16 == 0) {
			struct netset_var *nv = realloc(v->v, (v->n + 16) * sizeof(*nv));

			if (nv == NULL) {
				free(copy);
				set_err(err, errlen, "%s: out of memory", file);
				return -ENOMEM;
			}
			v->v = nv;
		}
		e = &v->v[v->n++];
		memcpy(e->name, name, name_len);
		e->name[name_len] = '\0';
	} else {
		free(e->value);
	}
	e->value = copy;
	e->len = (uint32_t)val_len;
	e->line = line;
	e->col = val_col;
	e->file = file;
	e->from_file = from_file;
	return 0;
}

/* One `NAME = value` line (without its LF), or a blank or comment line. */
static int
vars_line(struct netset_vars *v, const char *file, bool from_file, const char *t, size_t len,
	  uint32_t line, char *err, size_t errlen)
{
	size_t p, ns, ne, vs, ve;
	char sb[SHOW_MAX];

	if (len > 0 && t[len - 1] == '\r')
		len--;
	for (size_t i = 0; i < len; i++)
		if (t[i] == '\0')
			return verr(err, errlen, file, line, (uint32_t)i + 1, "NUL byte");
	p = skip_blank(t, 0, len);
	if (p == len || t[p] == '#')
		return 0;
	ns = p;
	while (p < len && name_byte(t[p]))
		p++;
	ne = p;
	if (ne == ns) {
		if (t[p] == '$')
			return verr(err, errlen, file, line, (uint32_t)p + 1,
				    "write the variable name without '$'");
		return verr(err, errlen, file, line, (uint32_t)p + 1,
			    "expected a variable name, found '%s'", ascii_show(sb, sizeof(sb), t + p, 1));
	}
	if (ne - ns > NETSET_NAME_MAX)
		return verr(err, errlen, file, line, (uint32_t)ns + 1,
			    "variable name longer than %d bytes", NETSET_NAME_MAX);
	p = skip_blank(t, p, len);
	if (p >= len || t[p] != '=')
		return verr(err, errlen, file, line, (uint32_t)p + 1, "expected '=' after %s",
			    ascii_show(sb, sizeof(sb), t + ns, ne - ns));
	vs = skip_blank(t, p + 1, len);
	ve = vs;
	while (ve < len && t[ve] != '#')
		ve++;
	while (ve > vs && is_blank(t[ve - 1]))
		ve--;
	if (ve > vs && t[vs] == '"') {
		if (ve - vs < 2 || t[ve - 1] != '"')
			return verr(err, errlen, file, line, (uint32_t)vs + 1,
				    "unterminated quote");
		vs = skip_blank(t, vs + 1, ve - 1);
		ve--;
		while (ve > vs && is_blank(t[ve - 1]))
			ve--;
	}
	if (ve == vs)
		return verr(err, errlen, file, line, (uint32_t)vs + 1, "%s has no value",
			    ascii_show(sb, sizeof(sb), t + ns, ne - ns));
	if (ve - vs > NETSET_TEXT_MAX)
		return verr(err, errlen, file, line, (uint32_t)vs + 1,
			    "value longer than %d bytes", NETSET_TEXT_MAX);
	for (size_t i = vs; i < ve; i++) {
		unsigned char ch = (unsigned char)t[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return verr(err, errlen, file, line, (uint32_t)i + 1,
				    "control byte 0x%02x in value", ch);
	}
	return vars_set(v, file, from_file, t + ns, ne - ns, t + vs, ve - vs, line,
			(uint32_t)ns + 1, (uint32_t)vs + 1, err, errlen);
}

static int
vars_parse_into(struct netset_vars *v, const char *file, bool from_file, const char *text,
		size_t len, char *err, size_t errlen)
{
	size_t p = 0;
	uint32_t line = 1;

	while (p < len) {
		const char *lf = memchr(text + p, '\n', len - p);
		size_t le = lf != NULL ? (size_t)(lf - text) : len;
		int rc = vars_line(v, file, from_file, text + p, le - p, line, err, errlen);

		if (rc < 0)
			return rc;
		p = le + 1;
		line++;
	}
	return 0;
}

struct netset_vars *
netset_vars_defaults(void)
{
	struct netset_vars *v = calloc(1, sizeof(*v));
	char err[MSG_MAX];

	if (v == NULL)
		goto fail;
	if (vars_parse_into(v, builtin_file, false, defaults_text, sizeof(defaults_text) - 1, err,
			    sizeof(err)) < 0)
		goto fail;
	qsort(v->v, v->n, sizeof(*v->v), var_cmp);
	return v;
fail:
	/* the defaults are a constant: only memory can fail */
	netset_vars_destroy(v);
	errno = ENOMEM;
	return NULL;
}

struct netset_vars *
netset_vars_parse_buffer(const char *name, const char *text, size_t len, char *err,
			 size_t errlen)
{
	struct netset_vars *v;
	int rc;

	if (len > NETSET_VARS_FILE_MAX) {
		set_err(err, errlen, "%s: larger than %u bytes", name, NETSET_VARS_FILE_MAX);
		errno = EINVAL;
		return NULL;
	}
	v = netset_vars_defaults();
	if (v == NULL) {
		set_err(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	v->file = strdup(name);
	if (v->file == NULL) {
		set_err(err, errlen, "%s: out of memory", name);
		rc = -ENOMEM;
		goto fail;
	}
	rc = vars_parse_into(v, v->file, true, text, len, err, errlen);
	if (rc < 0)
		goto fail;
	qsort(v->v, v->n, sizeof(*v->v), var_cmp);
	return v;
fail:
	netset_vars_destroy(v);
	errno = -rc;
	return NULL;
}

struct netset_vars *
netset_vars_load(const char *path, char *err, size_t errlen)
{
	struct netset_vars *v;
	char *buf;
	size_t len;
	int rc;

	rc = file_read_all(path, NETSET_VARS_FILE_MAX, &buf, &len);
	if (rc < 0) {
		if (rc == -EFBIG)
			set_err(err, errlen, "%s: larger than %u bytes", path,
				NETSET_VARS_FILE_MAX);
		else
			set_err(err, errlen, "%s: %s", path, strerror(-rc));
		errno = -rc;
		return NULL;
	}
	v = netset_vars_parse_buffer(path, buf, len, err, errlen);
	free(buf);
	return v;
}

/* Compile one variable's value with its own name on the stack, so that a cycle shows. */
static int
check_one(const struct netset_vars *v, int idx, enum netset_kind kind, struct cctx *c)
{
	struct frame f = { .t = v->v[idx].value, .len = v->v[idx].len, .var = idx };
	struct span_set res = { 0 };
	size_t p = 0;
	int rc;

	cctx_init(c, kind, v);
	c->stack[c->depth++] = idx;
	c->root_depth = 1;
	c->expanded = v->v[idx].len;
	rc = eval_body(c, &f, &p, false, 0, 0, &res);
	set_free(&res);
	return rc;
}

int
netset_vars_check(const struct netset_vars *v, char *err, size_t errlen)
{
	struct cctx *ci = malloc(2 * sizeof(*ci)), *cp, *best = NULL;
	const struct netset_var *bv = NULL;
	int rc = 0;

	if (v == NULL) {
		free(ci);
		return 0;
	}
	if (ci == NULL) {
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	cp = ci + 1;
	for (uint32_t i = 0; i < v->n; i++) {
		const struct netset_var *e = &v->v[i];

		if (check_one(v, (int)i, NETSET_IP, ci) == 0 ||
		    check_one(v, (int)i, NETSET_PORT, cp) == 0)
			continue;
		if (ci->rc == -ENOMEM || cp->rc == -ENOMEM) {
			set_err(err, errlen, "out of memory");
			rc = -ENOMEM;
			goto out;
		}
		/* report the first in the file (defaults before it) */
		if (bv != NULL && (bv->from_file < e->from_file ||
				   (bv->from_file == e->from_file && bv->line <= e->line)))
			continue;
		bv = e;
		/* the reading that went further is the one the author meant */
		best = cp->err_off > ci->err_off ? cp : ci;
		set_err(err, errlen, "%s:%u:%u: %s: %s", best->loc_file, best->loc_line,
			best->loc_col, best->chain, best->msg);
		rc = -EINVAL;
	}
out:
	free(ci);
	return rc;
}
