/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the SMTP session follower (dataplane/smtp.c).
 *
 * Input: byte 0 seeds the choice of split points; the rest is a conversation, a sequence of
 * records [dir][len lo][len hi][len bytes] (dir bit 0: 1 = client to server, 0 = server to
 * client; a short last record takes what is left). A dir byte of 0xfe or 0xff is no data
 * but a hole of len bytes in that direction (smtp_session_gap), 0xfd a pickup mid-stream. Each conversation is fed twice: each
 * record whole, then each record cut into chunks of pseudo-random sizes. Both runs must give
 * the same events (hashed, body chunks joined), and the hooks check that events come in a
 * valid order (no hook outside its transaction, message or header block, bounded slices);
 * any breach aborts. Seeds in tests/fuzz/corpus/smtp/ are real sessions in this format.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Icommon -Idataplane \
 *        tests/fuzz/fuzz_smtp.c dataplane/smtp.c common/slice.c -o fuzz_smtp
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct check {
	uint64_t hash;
	bool in_body;     /* the last event was a body chunk: the next chunk joins it */
	bool in_tx;
	bool in_msg;
	bool hdrs_done;
	bool opaque;
	uint32_t n_rcpt;
};

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz_smtp: %s:%d: %s\n", __FILE__, __LINE__, #cond);  \
			abort();                                                               \
		}                                                                              \
	} while (0)

static void
mix(struct check *c, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		c->hash ^= b[i];
		c->hash *= 0x100000001b3ULL;
	}
}

/* Every event but a body chunk: closes a body run, then hashes the event's tag. */
static void
event(struct check *c, const char *tag)
{
	c->in_body = false;
	mix(c, "|", 1);
	mix(c, tag, strlen(tag));
	CHECK(!c->opaque || strcmp(tag, "tx_end") == 0);
}

static void
slice_ok(struct slice s, size_t max)
{
	CHECK(s.len <= max);
	CHECK(s.len == 0 || s.ptr != NULL);
	if (s.len > 0) {
		/* touch both ends so ASan sees a slice pointing outside its buffer */
		volatile uint8_t a = s.ptr[0], b = s.ptr[s.len - 1];
		(void)a;
		(void)b;
	}
}

static void
h_helo(void *ctx, struct slice name)
{
	struct check *c = ctx;

	event(c, "helo");
	slice_ok(name, SMTP_LINE_MAX);
	mix(c, name.ptr, name.len);
}

static void
h_tx_begin(void *ctx)
{
	struct check *c = ctx;

	event(c, "tx_begin");
	CHECK(!c->in_tx);
	c->in_tx = true;
	c->in_msg = false;
	c->n_rcpt = 0;
}

static void
h_mail_from(void *ctx, struct slice addr)
{
	struct check *c = ctx;

	event(c, "mail");
	CHECK(c->in_tx && !c->in_msg);
	slice_ok(addr, SMTP_LINE_MAX);
	mix(c, addr.ptr, addr.len);
}

static void
h_rcpt(void *ctx, uint32_t idx, struct slice addr)
{
	struct check *c = ctx;

	event(c, "rcpt");
	CHECK(c->in_tx && !c->in_msg);
	CHECK(idx == c->n_rcpt);
	c->n_rcpt++;
	slice_ok(addr, SMTP_LINE_MAX);
	mix(c, &idx, sizeof(idx));
	mix(c, addr.ptr, addr.len);
}

static void
h_rcpt_reply(void *ctx, uint32_t idx, uint16_t code)
{
	struct check *c = ctx;

	event(c, "rcpt_reply");
	CHECK(c->in_tx && idx < c->n_rcpt);
	CHECK(code >= 100 && code <= 599);
	mix(c, &idx, sizeof(idx));
	mix(c, &code, sizeof(code));
}

static void
h_data_begin(void *ctx)
{
	struct check *c = ctx;

	event(c, "data_begin");
	CHECK(c->in_tx && !c->in_msg);
	c->in_msg = true;
	c->hdrs_done = false;
}

static void
h_header(void *ctx, struct slice name, struct slice value)
{
	struct check *c = ctx;

	event(c, "header");
	CHECK(c->in_tx && c->in_msg && !c->hdrs_done);
	CHECK(name.len > 0);
	CHECK(name.len + value.len < SMTP_HEADER_MAX);
	slice_ok(name, SMTP_HEADER_MAX);
	slice_ok(value, SMTP_HEADER_MAX);
	mix(c, name.ptr, name.len);
	mix(c, "=", 1);
	mix(c, value.ptr, value.len);
}

static void
h_headers_end(void *ctx)
{
	struct check *c = ctx;

	event(c, "headers_end");
	CHECK(c->in_tx && c->in_msg && !c->hdrs_done);
	c->hdrs_done = true;
}

static void
h_body(void *ctx, struct slice chunk)
{
	struct check *c = ctx;

	CHECK(!c->opaque);
	CHECK(c->in_tx && c->in_msg && c->hdrs_done);
	CHECK(chunk.len > 0);
	slice_ok(chunk, SIZE_MAX);
	if (!c->in_body)
		mix(c, "|body", 5);
	c->in_body = true;
	mix(c, chunk.ptr, chunk.len);
}

static void
h_data_end(void *ctx)
{
	struct check *c = ctx;

	event(c, "data_end");
	CHECK(c->in_tx && c->in_msg && c->hdrs_done);
	c->in_msg = false;
}

static void
h_tx_end(void *ctx, enum smtp_tx_end how, uint16_t code)
{
	struct check *c = ctx;

	event(c, "tx_end");
	CHECK(c->in_tx);
	CHECK((unsigned int)how <= SMTP_TX_UNKNOWN);
	CHECK(code == 0 || (code >= 100 && code <= 599));
	CHECK((code == 0) == (how == SMTP_TX_ABORTED || how == SMTP_TX_UNKNOWN));
	c->in_tx = false;
	c->in_msg = false;
	mix(c, &how, sizeof(how));
	mix(c, &code, sizeof(code));
}

static void
h_starttls(void *ctx)
{
	struct check *c = ctx;

	event(c, "starttls");
	c->opaque = true;
}

static void
h_anomaly(void *ctx, enum smtp_anomaly what)
{
	struct check *c = ctx;

	event(c, "anomaly");
	CHECK((unsigned int)what < SMTP_AN__COUNT);
	mix(c, &what, sizeof(what));
}

static const struct smtp_hooks hooks = {
	.on_helo = h_helo,
	.on_tx_begin = h_tx_begin,
	.on_mail_from = h_mail_from,
	.on_rcpt = h_rcpt,
	.on_rcpt_reply = h_rcpt_reply,
	.on_data_begin = h_data_begin,
	.on_header = h_header,
	.on_headers_end = h_headers_end,
	.on_body = h_body,
	.on_data_end = h_data_end,
	.on_tx_end = h_tx_end,
	.on_starttls = h_starttls,
	.on_anomaly = h_anomaly,
};

static uint32_t
rng_next(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* Feed every record; split != 0 cuts records into pseudo-random chunks seeded by it. */
static uint64_t
run(struct smtp_session *s, const uint8_t *data, size_t size, uint8_t seed, bool split)
{
	struct check c = { .hash = 0xcbf29ce484222325ULL };
	uint32_t x = 0x9e3779b9u ^ seed;
	size_t i = 0;

	smtp_session_init(s, &hooks, &c);
	while (i < size) {
		bool to_server = data[i] & 1;
		uint8_t kind = data[i];
		size_t len = 0, off = 0;

		i++;
		if (i < size)
			len = data[i++];
		if (i < size)
			len |= (size_t)data[i++] << 8;
		if (kind >= 0xfd) {
			if (kind == 0xfd)
				smtp_session_midstream(s);
			else
				smtp_session_gap(s, to_server, len);
			mix(&c, "|gap", 4);
			c.in_body = false;
			continue;
		}
		if (len > size - i)
			len = size - i;
		while (off < len) {
			size_t chunk = len - off;

			if (split) {
				/* mostly small pieces, sometimes large ones: seed bit 0 picks the mix */
				uint32_t r = rng_next(&x);
				size_t cap = (seed & 1) ? 8 : ((r >> 8) & 3) == 0 ? 4096 : 3;

				chunk = 1 + r % cap;
				if (chunk > len - off)
					chunk = len - off;
			}
			enum smtp_status st = smtp_session_feed(s, to_server, data + i + off, chunk);

			CHECK(st != SMTP_AGAIN && st <= SMTP_TOO_LONG);
			off += chunk;
		}
		i += len;
		CHECK(smtp_session_is_opaque(s) == c.opaque);
	}
	mix(&c, "|close", 6);
	c.in_body = false;
	smtp_session_close(s);
	CHECK(!c.in_tx);
	return c.hash;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtp_session s;
	uint64_t whole, cut;

	if (size < 1)
		return 0;
	whole = run(&s, data + 1, size - 1, data[0], false);
	cut = run(&s, data + 1, size - 1, data[0], true);
	CHECK(whole == cut);
	return 0;
}
