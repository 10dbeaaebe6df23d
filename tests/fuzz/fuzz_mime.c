/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for dataplane/mime.c: any bytes as a message, parsed whole and again in
 * pieces whose sizes come from the first byte. Invariants: no crash or overrun (ASan), the
 * trace of hooks (a hash over headers, part starts and ends, decoded bytes, URLs, anomalies)
 * is the same for both splits, every part that begins also ends, and a leaf's size equals the
 * bytes handed out for it. Seeds: tests/fuzz/corpus/mime/ (nested multiparts, base64, QP,
 * RFC 2231 names, message/rfc822).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "mime_words.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	uint64_t hash;     /* the events, in order */
	uint64_t data;     /* decoded bytes and URLs, each a stream of its own: where a URL is
			    * reported among a part's bytes depends on how they were cut */
	uint64_t urls;
	uint64_t data_bytes[MIME_DEPTH_MAX + 1];
	int open;
};

static void
mix_into(uint64_t *h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		*h = (*h ^ b[i]) * 0x100000001b3ull; /* FNV-1a */
}

static void
mix(struct run *r, const void *p, size_t n)
{
	mix_into(&r->hash, p, n);
}

static void
on_header(void *ctx, const struct mime_part *part, struct slice name, struct slice value)
{
	mix(ctx, "H", 1);
	mix(ctx, &part->index, sizeof(part->index));
	mix(ctx, name.ptr, name.len);
	mix(ctx, value.ptr, value.len);
}

static void
on_part_begin(void *ctx, const struct mime_part *part)
{
	struct run *r = ctx;

	if (part->depth > MIME_DEPTH_MAX)
		abort();
	r->open++;
	r->data_bytes[part->depth] = 0;
	mix(r, "B", 1);
	mix(r, part->type, part->type_len);
	mix(r, part->name, part->name_len);
	mix(r, &part->cte, 1);
}

static void
on_part_data(void *ctx, const struct mime_part *part, struct slice data)
{
	struct run *r = ctx;

	if (part->multipart || part->message || data.len == 0)
		abort();
	r->data_bytes[part->depth] += data.len;
	mix_into(&r->data, data.ptr, data.len);
}

static void
on_part_end(void *ctx, const struct mime_part *part)
{
	struct run *r = ctx;

	if (!part->multipart && !part->message && part->size != r->data_bytes[part->depth])
		abort();
	r->open--;
	mix(r, "E", 1);
}

static void
on_preamble(void *ctx, const struct mime_part *part, struct slice data)
{
	struct run *r = ctx;

	if (!part->multipart || data.len == 0)
		abort();
	mix_into(&r->data, data.ptr, data.len);
}

static void
on_url(void *ctx, const struct mime_part *part, struct slice url, bool truncated)
{
	(void)part;
	if (url.len == 0 || url.len > URL_EXTRACT_MAX)
		abort();
	struct run *r = ctx;

	mix_into(&r->urls, "U", 1);
	mix_into(&r->urls, url.ptr, url.len);
	mix_into(&r->urls, &truncated, 1);
}

static void
on_anomaly(void *ctx, enum mime_anomaly what)
{
	mix(ctx, "A", 1);
	mix(ctx, &what, sizeof(what));
}

static const struct mime_hooks hooks = {
	.on_header = on_header,
	.on_part_begin = on_part_begin,
	.on_part_data = on_part_data,
	.on_part_end = on_part_end,
	.on_preamble = on_preamble,
	.on_url = on_url,
	.on_anomaly = on_anomaly,
};

static struct mime_parser parser;

static uint64_t
parse(struct mime_words *w, const uint8_t *p, size_t n, size_t step)
{
	struct run r = { .hash = 0xcbf29ce484222325ull, .data = 1, .urls = 2 };

	mime_parser_init(&parser, &hooks, &r, w);
	for (size_t i = 0; i < n; i += step)
		mime_parser_feed(&parser, p + i, n - i < step ? n - i : step);
	mime_parser_finish(&parser);
	if (r.open != 0)
		abort();
	return r.hash ^ r.data * 3 ^ r.urls * 7;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mime_words *w;

	if (w == NULL && (w = mime_words_create()) == NULL)
		abort();
	if (size < 1)
		return 0;
	size_t step = data[0] % 64 + 1;

	data++;
	size--;
	if (parse(w, data, size, size ? size : 1) != parse(w, data, size, step))
		abort();
	return 0;
}
