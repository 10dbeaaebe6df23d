/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for dataplane/url_extract.c. The first byte picks text or HTML mode and the
 * second seeds the piece sizes; the rest is a body part, fed whole, in pseudo-random pieces of
 * 1 to 64 bytes, and one byte at a time. Invariants, abort() on failure: every URL is 1 to
 * URL_EXTRACT_MAX bytes, a truncated one is exactly URL_EXTRACT_MAX, the counters match the
 * callbacks, and the three feedings give the same URLs, flags and counters. Seeds:
 * tests/fuzz/corpus/url_extract/ (prose, plain-text renderings, HTML with href/src/entities).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "url_extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* All URLs of one run, each as len (2 bytes), truncated flag (1 byte), bytes. */
struct rec {
	uint8_t *buf;
	size_t len, cap;
	uint64_t n;
};

static void
record(void *ctx, const uint8_t *url, size_t len, bool truncated)
{
	struct rec *r = ctx;

	if (len == 0 || len > URL_EXTRACT_MAX || (truncated && len != URL_EXTRACT_MAX))
		abort();
	if (r->len + len + 3 > r->cap) {
		size_t cap = (r->cap + len + 3) * 2;
		uint8_t *b = realloc(r->buf, cap);

		if (b == NULL)
			abort();
		r->buf = b;
		r->cap = cap;
	}
	r->buf[r->len++] = (uint8_t)(len >> 8);
	r->buf[r->len++] = (uint8_t)len;
	r->buf[r->len++] = truncated;
	memcpy(r->buf + r->len, url, len);
	r->len += len;
	r->n++;
}

/* step 0: pseudo-random pieces from seed; otherwise pieces of step bytes */
static void
run(const uint8_t *p, size_t size, bool html, size_t step, uint32_t seed, struct rec *r,
    struct url_extract *u)
{
	size_t off = 0;

	url_extract_init(u, html);
	while (off < size) {
		size_t n = step;

		if (n == 0) {
			seed = seed * 1103515245U + 12345U;
			n = 1 + (seed >> 16) % 64;
		}
		if (n > size - off)
			n = size - off;
		url_extract_feed(u, p + off, n, record, r);
		off += n;
	}
	url_extract_finish(u, record, r);
	if (u->n_urls != r->n || u->n_truncated > u->n_urls)
		abort();
}

static bool
same(const struct rec *a, const struct url_extract *ua, const struct rec *b,
     const struct url_extract *ub)
{
	return a->len == b->len && a->n == b->n && ua->n_truncated == ub->n_truncated &&
	       (a->len == 0 || memcmp(a->buf, b->buf, a->len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct url_extract u1, u2, u3;
	struct rec r1 = { 0 }, r2 = { 0 }, r3 = { 0 };
	bool html;
	uint32_t seed;

	if (size < 2)
		return 0;
	html = data[0] & 1;
	seed = data[1];
	data += 2;
	size -= 2;
	run(data, size, html, size ? size : 1, 0, &r1, &u1);
	run(data, size, html, 0, seed, &r2, &u2);
	run(data, size, html, 1, 0, &r3, &u3);
	if (!same(&r1, &u1, &r2, &u2) || !same(&r1, &u1, &r3, &u3))
		abort();
	free(r1.buf);
	free(r2.buf);
	free(r3.buf);
	return 0;
}
