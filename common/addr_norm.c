/* SPDX-License-Identifier: BSD-3-Clause */
/* SHA256_Init & co. are deprecated in OpenSSL 3.0 but are its allocation-free path. */
#define OPENSSL_SUPPRESS_DEPRECATED
/*
 * Address normalization and keys for the suppression set. The whole input is checked before
 * anything is written to out, so a rejected address leaves out untouched except for a NUL.
 * Pure; any thread; see addr_norm.h for the allocation caveat of internationalized domains.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <idn2.h>

#include "ascii.h"
#include "addr_norm.h"

static inline bool
is_ctl(uint8_t c)
{
	return c < 0x20 || c == 0x7f;
}

/* Bytes that cannot appear outside quotes in a dot-atom: seeing one means the input was not
 * one mailbox ("Name <a@b>", "a@b, c@d", a stray bracket), better refused than keyed. */
static inline bool
is_special(uint8_t c)
{
	switch (c) {
	case ' ': case '\t': case '<': case '>': case '(': case ')': case '[': case ']':
	case ',': case ';': case ':': case '\\': case '"': case '@':
		return true;
	default:
		return false;
	}
}

/* Trim, then drop one pair of angle brackets and trim again inside them. */
static int
strip_outer(struct slice in, struct slice *s)
{
	*s = slice_trim(in);
	if (s->len > 0 && (s->ptr[0] == '<' || s->ptr[s->len - 1] == '>')) {
		if (s->len < 2 || s->ptr[0] != '<' || s->ptr[s->len - 1] != '>')
			return -EINVAL;
		*s = slice_trim(slice_make(s->ptr + 1, s->len - 2));
	}
	if (s->len == 0)
		return -EINVAL;
	if (s->len > ADDR_NORM_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * Check a domain and write its normalized form to out (cap bytes, NUL-terminated). ASCII:
 * lowercase. Otherwise IDNA 2008 / UTS 46 non-transitional to A-labels, which also lowercases
 * and NFC-normalizes. One trailing dot (the DNS root) is dropped.
 */
static int
domain_normalize(struct slice d, char *out, size_t cap)
{
	bool ascii = true;

	if (d.len > 1 && d.ptr[d.len - 1] == '.' && d.ptr[0] != '[')
		d.len--;
	if (d.len == 0)
		return -EINVAL;
	if (d.len > ADDR_DOMAIN_MAX)
		return -ENAMETOOLONG;

	if (d.ptr[0] == '[') {
		/* Address literal: [192.0.2.1] or [IPv6:2001:db8::1]; only the brackets and
		 * the absence of nested specials are checked. */
		if (d.len < 3 || d.ptr[d.len - 1] != ']')
			return -EINVAL;
		for (size_t i = 1; i + 1 < d.len; i++) {
			uint8_t c = d.ptr[i];

			if (is_ctl(c) || c >= 0x80 || (c != ':' && is_special(c)))
				return -EINVAL;
		}
	} else {
		for (size_t i = 0; i < d.len; i++) {
			uint8_t c = d.ptr[i];

			if (is_ctl(c) || is_special(c))
				return -EINVAL;
			if (c == '.' && (i == 0 || d.ptr[i - 1] == '.'))
				return -EINVAL; /* empty label */
			if (c >= 0x80)
				ascii = false;
		}
		if (d.ptr[d.len - 1] == '.')
			return -EINVAL; /* "a.b.." */
	}

	if (ascii) {
		if (d.len + 1 > cap)
			return -ENOBUFS;
		for (size_t i = 0; i < d.len; i++)
			out[i] = (char)ascii_lower(d.ptr[i]);
		out[d.len] = '\0';
		return (int)d.len;
	}

	char in_z[ADDR_DOMAIN_MAX + 1];
	char *ace = NULL;
	int rc;

	memcpy(in_z, d.ptr, d.len);
	in_z[d.len] = '\0';
	rc = idn2_to_ascii_8z(in_z, &ace, IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK)
		return rc == IDN2_MALLOC ? -ENOMEM : -EINVAL;

	size_t n = strlen(ace);
	int ret = (int)n;

	if (n == 0)
		ret = -EINVAL;
	else if (n > ADDR_DOMAIN_MAX)
		ret = -ENAMETOOLONG;
	else if (n + 1 > cap)
		ret = -ENOBUFS;
	else
		memcpy(out, ace, n + 1);
	idn2_free(ace);
	return ret;
}

/* Length of the local part at the start of s (quoted or dot-atom), or -EINVAL. */
static int
local_part_len(struct slice s, bool *quoted)
{
	size_t i;

	*quoted = s.ptr[0] == '"';
	if (*quoted) {
		for (i = 1; i < s.len; i++) {
			uint8_t c = s.ptr[i];

			if (is_ctl(c) && c != '\t')
				return -EINVAL;
			if (c == '\\') {
				i++;
				if (i < s.len && is_ctl(s.ptr[i]) && s.ptr[i] != '\t')
					return -EINVAL;
				continue;
			}
			if (c == '"')
				break;
		}
		if (i >= s.len)
			return -EINVAL; /* unterminated */
		i++;
		if (i == 2)
			return -EINVAL; /* "" is an empty local part */
	} else {
		for (i = 0; i < s.len && s.ptr[i] != '@'; i++) {
			uint8_t c = s.ptr[i];

			if (is_ctl(c) || is_special(c))
				return -EINVAL;
		}
		if (i == 0)
			return -EINVAL;
	}
	if (i >= s.len || s.ptr[i] != '@')
		return -EINVAL; /* no '@', or text after a quoted string */
	return (int)i;
}

/* The domains whose mailboxes ignore dots in the local part (Gmail's documented rule). */
static bool
gmail_domain(const char *d, size_t len)
{
	return (len == 9 && memcmp(d, "gmail.com", 9) == 0) ||
	       (len == 14 && memcmp(d, "googlemail.com", 14) == 0);
}

int
addr_normalize(struct slice in, unsigned flags, char *out, size_t cap)
{
	struct slice s;
	bool quoted;
	int rc;

	if (cap > 0)
		out[0] = '\0';
	if (flags & ~ADDR_NORM_FLAGS_ALL)
		return -EINVAL;
	rc = strip_outer(in, &s);
	if (rc < 0)
		return rc;
	rc = local_part_len(s, &quoted);
	if (rc < 0)
		return rc;

	size_t local_len = (size_t)rc;
	struct slice dom = slice_make(s.ptr + local_len + 1, s.len - local_len - 1);
	char dbuf[ADDR_DOMAIN_MAX + 1];

	if ((flags & ADDR_NORM_STRIP_TAG) && !quoted) {
		const uint8_t *plus = memchr(s.ptr, '+', local_len);

		/* "+tag@x" alone has nothing left to keep: leave it whole. */
		if (plus != NULL && plus != s.ptr)
			local_len = (size_t)(plus - s.ptr);
	}

	rc = domain_normalize(dom, dbuf, sizeof(dbuf));
	if (rc < 0)
		return rc;

	size_t dom_len = (size_t)rc;
	size_t total = local_len + 1 + dom_len;

	if (total > ADDR_NORM_MAX)
		return -ENAMETOOLONG;
	if (total + 1 > cap)
		return -ENOBUFS;
	bool fold = (flags & ADDR_NORM_FOLD_DOTS) && !quoted && gmail_domain(dbuf, dom_len);
	size_t n = 0;

	for (size_t i = 0; i < local_len; i++) {
		if (fold && s.ptr[i] == '.')
			continue;
		out[n++] = (flags & ADDR_NORM_LOWER_LOCAL) ? (char)ascii_lower(s.ptr[i])
							   : (char)s.ptr[i];
	}
	if (n == 0) { /* "...@gmail.com" folds to nothing: keep it as written */
		for (; n < local_len; n++)
			out[n] = (char)s.ptr[n];
	}
	out[n] = '@';
	memcpy(out + n + 1, dbuf, dom_len + 1);
	return (int)(n + 1 + dom_len);
}

int
addr_domain(struct slice in, char *out, size_t cap)
{
	struct slice s;
	int rc;

	if (cap > 0)
		out[0] = '\0';
	rc = strip_outer(in, &s);
	if (rc < 0)
		return rc;
	if (s.ptr[0] == '@')
		s = slice_make(s.ptr + 1, s.len - 1);
	return domain_normalize(s, out, cap);
}

int
addr_hasher_init(struct addr_hasher *h)
{
	memset(h, 0, sizeof(*h));
	return 0;
}

void
addr_hasher_fini(struct addr_hasher *h)
{
	memset(h, 0, sizeof(*h));
}

static int
hash2(struct addr_hasher *h, const void *a, size_t alen, const void *b, size_t blen,
      uint8_t key[ADDR_KEY_LEN])
{
	if (SHA256_Init(&h->ctx) != 1 || (alen > 0 && SHA256_Update(&h->ctx, a, alen) != 1) ||
	    SHA256_Update(&h->ctx, b, blen) != 1 || SHA256_Final(key, &h->ctx) != 1)
		return -EIO;
	return 0;
}

int
addr_hasher_key(struct addr_hasher *h, const char *norm, size_t len, uint8_t key[ADDR_KEY_LEN])
{
	return hash2(h, NULL, 0, norm, len, key);
}

int
addr_hasher_domain_key(struct addr_hasher *h, const char *domain, size_t len,
		       uint8_t key[ADDR_KEY_LEN])
{
	return hash2(h, "@", 1, domain, len, key);
}
