/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for dataplane/mime_decode.c. The first byte chooses the encoding (low 3
 * bits; 6 and 7 exercise the out-of-range fallback) and a split point (high 5 bits, as a
 * fraction of the body); the rest is a part body. It is decoded whole, in two feeds cut at the
 * split point, and one byte at a time, each feed into a heap buffer of exactly len + 4 bytes
 * and finish into exactly 4 (ASan sees overruns); the three outputs and n_garbage must be
 * identical, or the harness aborts. The whole input is also parsed as a
 * Content-Transfer-Encoding value. Seeds: tests/fuzz/corpus/mime_decode/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	uint8_t *out; /* cap bytes: everything decoded plus finish */
	size_t cap;
	size_t len;
	struct mime_decoder d;
};

static void
run_feed(struct run *r, const uint8_t *in, size_t len)
{
	uint8_t *src = malloc(len ? len : 1), *dst = malloc(len + 4);
	size_t n;

	if (src == NULL || dst == NULL)
		abort();
	if (len)
		memcpy(src, in, len);
	n = mime_decoder_feed(&r->d, src, len, dst);
	if (n > len + 4 || n > r->cap - r->len)
		abort();
	memcpy(r->out + r->len, dst, n);
	r->len += n;
	free(src);
	free(dst);
}

static void
run_finish(struct run *r)
{
	uint8_t *dst = malloc(4);
	size_t n;

	if (dst == NULL)
		abort();
	n = mime_decoder_finish(&r->d, dst);
	if (n > 4 || n > r->cap - r->len)
		abort();
	memcpy(r->out + r->len, dst, n);
	r->len += n;
	free(dst);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run whole, split, bytes;
	enum mime_cte cte;
	size_t body_len, cut;
	const uint8_t *body;

	if (mime_cte_name(mime_cte_parse(data, size)) == NULL)
		abort();
	if (size < 1)
		return 0;
	cte = (enum mime_cte)(data[0] & 7);
	body = data + 1;
	body_len = size - 1;
	cut = body_len * (data[0] >> 3) / 31;

	whole.out = malloc(body_len + 4);
	split.out = malloc(body_len + 4);
	bytes.out = malloc(body_len + 4);
	if (whole.out == NULL || split.out == NULL || bytes.out == NULL)
		abort();
	whole.len = split.len = bytes.len = 0;
	whole.cap = split.cap = bytes.cap = body_len + 4;
	mime_decoder_init(&whole.d, cte);
	mime_decoder_init(&split.d, cte);
	mime_decoder_init(&bytes.d, cte);

	/* the total never exceeds the input: every output byte is paid for by an input byte */
	run_feed(&whole, body, body_len);
	run_finish(&whole);

	run_feed(&split, body, cut);
	run_feed(&split, body + cut, body_len - cut);
	run_finish(&split);

	for (size_t i = 0; i < body_len; i++)
		run_feed(&bytes, body + i, 1);
	run_finish(&bytes);

	if (whole.len > body_len || split.len != whole.len || bytes.len != whole.len)
		abort();
	if (memcmp(split.out, whole.out, whole.len) != 0 ||
	    memcmp(bytes.out, whole.out, whole.len) != 0)
		abort();
	if (split.d.n_garbage != whole.d.n_garbage || bytes.d.n_garbage != whole.d.n_garbage)
		abort();
	free(whole.out);
	free(split.out);
	free(bytes.out);
	return 0;
}
