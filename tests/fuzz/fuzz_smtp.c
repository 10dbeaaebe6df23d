/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the SMTP session follower (dataplane/smtp.c).
 *
 * Input: byte 0 seeds the choice of split points; the rest is a conversation, a sequence of
 * records [dir][len lo][len hi][len bytes], each fed to one direction (dir bit 0: 1 = client
 * to server, 0 = server to client; a short last record takes what is left), so both parsers
 * and their pairing are driven by one input. A dir byte of 0xfe or 0xff is no data but a
 * hole of len bytes in that direction (smtp_session_gap), 0xfd a pickup mid-stream. Each
 * conversation is fed twice: each record whole, then each record cut into chunks of
 * pseudo-random sizes. Both runs must give the same events (hashed, message chunks joined),
 * and the hooks check that events come in the order smtp.h promises (no hook outside its
 * transaction or message, at most one complete transaction waiting for its reply, replies
 * only for open transactions, extension masks and codes in range, bounded slices, an AUTH
 * mechanism of one word); any breach aborts. Seeds in tests/fuzz/corpus/smtp/ are real
 * sessions and hand-made ones (pipelining, CHUNKING, AUTH, STARTTLS) in this format.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Icommon -Idataplane \
 *        tests/fuzz/fuzz_smtp.c dataplane/smtp.c common/slice.c common/smtp_ext.c \
 *        -o fuzz_smtp
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the hooks told so far, to check the order smtp.h promises. */
struct tx_view {
	uint32_t seq;     /* 0: none */
	uint32_t n_rcpt;
	bool in_msg;      /* on_data_begin called, on_data_end not yet */
	bool msg_done;    /* on_data_end called */
};

struct check {
	uint64_t hash;
	bool in_body;     /* the last event was a message chunk: the next chunk joins it */
	bool opaque;
	uint32_t last_seq;
	struct tx_view cur;  /* the newest transaction, if open */
	struct tx_view wait; /* a complete one awaiting its reply, if any */
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

/* Every event but a message chunk: closes a chunk run, then hashes the event's tag. */
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
code_ok(uint16_t code)
{
	CHECK(code >= 100 && code <= 599);
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
h_ehlo_reply(void *ctx, uint16_t code, uint32_t extensions)
{
	struct check *c = ctx;

	event(c, "ehlo_reply");
	code_ok(code);
	CHECK(extensions < (1u << SMTP_EXT__COUNT));
	CHECK(code / 100 == 2 || extensions == 0);
	mix(c, &code, sizeof(code));
	mix(c, &extensions, sizeof(extensions));
}

static void
h_auth(void *ctx, struct slice mechanism, uint16_t code)
{
	struct check *c = ctx;

	event(c, "auth");
	code_ok(code);
	CHECK(code != 334);
	slice_ok(mechanism, SMTP_AUTH_MECH_MAX);
	/* the mechanism is one word: never the initial response that follows it */
	CHECK(mechanism.len == 0 || memchr(mechanism.ptr, ' ', mechanism.len) == NULL);
	mix(c, mechanism.ptr, mechanism.len);
	mix(c, &code, sizeof(code));
}

static void
h_tx_begin(void *ctx, uint32_t tx_seq)
{
	struct check *c = ctx;

	event(c, "tx_begin");
	CHECK(tx_seq > c->last_seq);
	c->last_seq = tx_seq;
	if (c->cur.seq != 0) {
		/* only a complete message may wait for its reply, and only one */
		CHECK(c->cur.msg_done && !c->cur.in_msg);
		CHECK(c->wait.seq == 0);
		c->wait = c->cur;
	}
	c->cur = (struct tx_view){ .seq = tx_seq };
	mix(c, &tx_seq, sizeof(tx_seq));
}

static void
h_mail_from(void *ctx, struct slice addr, const struct smtp_mail_params *params)
{
	struct check *c = ctx;

	event(c, "mail");
	CHECK(c->cur.seq != 0 && !c->cur.in_msg && !c->cur.msg_done);
	CHECK(params != NULL && params->body <= SMTP_BODY_OTHER);
	CHECK(params->size == 0 || params->has_size);
	slice_ok(addr, SMTP_LINE_MAX);
	mix(c, addr.ptr, addr.len);
	mix(c, &params->size, sizeof(params->size));
	mix(c, &params->body, sizeof(params->body));
	mix(c, &params->has_size, sizeof(params->has_size));
	mix(c, &params->smtputf8, sizeof(params->smtputf8));
	mix(c, &params->bad, sizeof(params->bad));
}

static void
h_rcpt(void *ctx, uint32_t idx, struct slice addr)
{
	struct check *c = ctx;

	event(c, "rcpt");
	CHECK(c->cur.seq != 0 && !c->cur.in_msg && !c->cur.msg_done);
	CHECK(idx == c->cur.n_rcpt);
	c->cur.n_rcpt++;
	slice_ok(addr, SMTP_LINE_MAX);
	mix(c, &idx, sizeof(idx));
	mix(c, addr.ptr, addr.len);
}

static void
h_rcpt_reply(void *ctx, uint32_t tx_seq, uint32_t idx, uint16_t code)
{
	struct check *c = ctx;

	event(c, "rcpt_reply");
	CHECK(tx_seq != 0);
	if (tx_seq == c->cur.seq)
		CHECK(idx < c->cur.n_rcpt);
	else
		CHECK(tx_seq == c->wait.seq && idx < c->wait.n_rcpt);
	code_ok(code);
	mix(c, &tx_seq, sizeof(tx_seq));
	mix(c, &idx, sizeof(idx));
	mix(c, &code, sizeof(code));
}

static void
h_data_begin(void *ctx)
{
	struct check *c = ctx;

	event(c, "data_begin");
	CHECK(c->cur.seq != 0 && !c->cur.in_msg && !c->cur.msg_done);
	c->cur.in_msg = true;
}

static void
h_message(void *ctx, struct slice chunk)
{
	struct check *c = ctx;

	CHECK(!c->opaque);
	CHECK(c->cur.seq != 0 && c->cur.in_msg);
	CHECK(chunk.len > 0);
	slice_ok(chunk, SIZE_MAX);
	if (!c->in_body)
		mix(c, "|msg", 4);
	c->in_body = true;
	mix(c, chunk.ptr, chunk.len);
}

static void
h_data_end(void *ctx)
{
	struct check *c = ctx;

	event(c, "data_end");
	CHECK(c->cur.seq != 0 && c->cur.in_msg);
	c->cur.in_msg = false;
	c->cur.msg_done = true;
}

static void
h_tx_end(void *ctx, uint32_t tx_seq, enum smtp_tx_end how, uint16_t code)
{
	struct check *c = ctx;

	event(c, "tx_end");
	CHECK(tx_seq != 0);
	if (tx_seq == c->wait.seq) {
		/* a waiting transaction's message is complete: it cannot end ABORTED */
		CHECK(how != SMTP_TX_ABORTED);
		c->wait = (struct tx_view){ 0 };
	} else {
		CHECK(tx_seq == c->cur.seq);
		c->cur = (struct tx_view){ 0 };
	}
	CHECK((unsigned int)how <= SMTP_TX_UNKNOWN);
	CHECK(code == 0 || (code >= 100 && code <= 599));
	CHECK((code == 0) == (how == SMTP_TX_ABORTED || how == SMTP_TX_UNKNOWN));
	mix(c, &tx_seq, sizeof(tx_seq));
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
	.on_ehlo_reply = h_ehlo_reply,
	.on_auth = h_auth,
	.on_tx_begin = h_tx_begin,
	.on_mail_from = h_mail_from,
	.on_rcpt = h_rcpt,
	.on_rcpt_reply = h_rcpt_reply,
	.on_data_begin = h_data_begin,
	.on_message = h_message,
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
				/* mostly small pieces, sometimes large: seed bit 0 picks the mix */
				uint32_t r = rng_next(&x);
				size_t cap = (seed & 1) ? 8 : ((r >> 8) & 3) == 0 ? 4096 : 3;

				chunk = 1 + r % cap;
				if (chunk > len - off)
					chunk = len - off;
			}
			enum smtp_status st;

			st = smtp_session_feed(s, to_server, data + i + off, chunk);
			CHECK(st != SMTP_AGAIN && st <= SMTP_TOO_LONG);
			off += chunk;
		}
		i += len;
		CHECK(smtp_session_is_opaque(s) == c.opaque);
	}
	mix(&c, "|close", 6);
	c.in_body = false;
	smtp_session_close(s);
	CHECK(c.cur.seq == 0 && c.wait.seq == 0);
	CHECK(s->pending_count <= SMTP_PENDING_MAX && s->cmd.len <= SMTP_LINE_MAX);
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
