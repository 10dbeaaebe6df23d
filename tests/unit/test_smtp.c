/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the SMTP session follower (dataplane/smtp.c). A recorder implements every
 * hook and writes a text log ("helo:x", "mail:a@b", "rcpt0:c@d", ...; body chunks merged, so
 * the log does not depend on how the bytes were cut). Each conversation, a list of
 * (direction, bytes) steps, is fed whole, then with each step split at every byte offset,
 * then one byte at a time: the three logs must be identical, and the first must equal the
 * expected log. Real sessions come from the .follow files in tests/data/smtp (tshark
 * "follow,tcp,raw" output, see SOURCES.md there), looked up under $SMTP_TEST_DATA or, by
 * default, tests/data/smtp relative to the working directory (run from the repository root).
 * Single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp.h"

/* ---- recorder ---- */

struct rec {
	char *buf;
	size_t len, cap;
	bool in_body;
};

static void
rec_put(struct rec *r, const char *s, size_t n)
{
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;

		while (r->len + n + 1 > cap)
			cap *= 2;
		r->buf = realloc(r->buf, cap);
		assert_non_null(r->buf);
		r->cap = cap;
	}
	memcpy(r->buf + r->len, s, n);
	r->len += n;
	r->buf[r->len] = '\0';
}

__attribute__((format(printf, 2, 3))) static void
rec_printf(struct rec *r, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(tmp));
	rec_put(r, tmp, (size_t)n);
}

/* Wire bytes as readable text: \r \n \t \\ and \xNN for the rest of the unprintable. */
static void
rec_esc(struct rec *r, struct slice s)
{
	for (size_t i = 0; i < s.len; i++) {
		uint8_t c = s.ptr[i];

		if (c == '\r')
			rec_put(r, "\\r", 2);
		else if (c == '\n')
			rec_put(r, "\\n", 2);
		else if (c == '\t')
			rec_put(r, "\\t", 2);
		else if (c == '\\')
			rec_put(r, "\\\\", 2);
		else if (c < 32 || c > 126)
			rec_printf(r, "\\x%02x", c);
		else
			rec_put(r, (const char *)&c, 1);
	}
}

/* Every event but a body chunk first closes a running body line. */
static void
rec_event(struct rec *r)
{
	if (r->in_body) {
		rec_put(r, "\n", 1);
		r->in_body = false;
	}
}

static void
on_helo(void *ctx, struct slice name)
{
	struct rec *r = ctx;

	rec_event(r);
	rec_put(r, "helo:", 5);
	rec_esc(r, name);
	rec_put(r, "\n", 1);
}

static void
on_tx_begin(void *ctx)
{
	rec_event(ctx);
	rec_put(ctx, "tx_begin\n", 9);
}

static void
on_mail_from(void *ctx, struct slice addr)
{
	struct rec *r = ctx;

	rec_event(r);
	rec_put(r, "mail:", 5);
	rec_esc(r, addr);
	rec_put(r, "\n", 1);
}

static void
on_rcpt(void *ctx, uint32_t idx, struct slice addr)
{
	struct rec *r = ctx;

	rec_event(r);
	rec_printf(r, "rcpt%u:", idx);
	rec_esc(r, addr);
	rec_put(r, "\n", 1);
}

static void
on_rcpt_reply(void *ctx, uint32_t idx, uint16_t code)
{
	rec_event(ctx);
	rec_printf(ctx, "rcpt_reply%u:%u\n", idx, code);
}

static void
on_data_begin(void *ctx)
{
	rec_event(ctx);
	rec_put(ctx, "data_begin\n", 11);
}

static void
on_header(void *ctx, struct slice name, struct slice value)
{
	struct rec *r = ctx;

	rec_event(r);
	rec_put(r, "hdr:", 4);
	rec_esc(r, name);
	rec_put(r, "=", 1);
	rec_esc(r, value);
	rec_put(r, "\n", 1);
}

static void
on_headers_end(void *ctx)
{
	rec_event(ctx);
	rec_put(ctx, "hdrs_end\n", 9);
}

static void
on_body(void *ctx, struct slice chunk)
{
	struct rec *r = ctx;

	assert_true(chunk.len > 0);
	if (!r->in_body) {
		rec_put(r, "body:", 5);
		r->in_body = true;
	}
	rec_esc(r, chunk);
}

static void
on_data_end(void *ctx)
{
	rec_event(ctx);
	rec_put(ctx, "data_end\n", 9);
}

static const char *const tx_end_names[] = {
	[SMTP_TX_DELIVERED] = "delivered",
	[SMTP_TX_REJECTED] = "rejected",
	[SMTP_TX_ABORTED] = "aborted",
	[SMTP_TX_UNKNOWN] = "unknown",
};

static void
on_tx_end(void *ctx, enum smtp_tx_end how, uint16_t code)
{
	assert_true((unsigned int)how <= SMTP_TX_UNKNOWN);
	rec_event(ctx);
	rec_printf(ctx, "tx_end:%s:%u\n", tx_end_names[how], code);
}

static void
on_starttls(void *ctx)
{
	rec_event(ctx);
	rec_put(ctx, "starttls\n", 9);
}

static const char *const anomaly_names[] = {
	[SMTP_AN_LINE_TOO_LONG] = "line_too_long",
	[SMTP_AN_BARE_LF] = "bare_lf",
	[SMTP_AN_UNKNOWN_COMMAND] = "unknown_command",
	[SMTP_AN_BAD_REPLY] = "bad_reply",
	[SMTP_AN_REPLY_WITHOUT_COMMAND] = "reply_without_command",
	[SMTP_AN_PIPELINE_OVERFLOW] = "pipeline_overflow",
	[SMTP_AN_HEADER_TOO_LONG] = "header_too_long",
	[SMTP_AN_GAP] = "gap",
};

static void
on_anomaly(void *ctx, enum smtp_anomaly what)
{
	assert_true((unsigned int)what < SMTP_AN__COUNT);
	rec_event(ctx);
	rec_printf(ctx, "anomaly:%s\n", anomaly_names[what]);
}

static const struct smtp_hooks rec_hooks = {
	.on_helo = on_helo,
	.on_tx_begin = on_tx_begin,
	.on_mail_from = on_mail_from,
	.on_rcpt = on_rcpt,
	.on_rcpt_reply = on_rcpt_reply,
	.on_data_begin = on_data_begin,
	.on_header = on_header,
	.on_headers_end = on_headers_end,
	.on_body = on_body,
	.on_data_end = on_data_end,
	.on_tx_end = on_tx_end,
	.on_starttls = on_starttls,
	.on_anomaly = on_anomaly,
};

/* ---- conversations ---- */

struct step {
	bool to_server;
	const char *p;
	size_t n;
};

#define C(s) { true, (s), sizeof(s) - 1 }
#define S(s) { false, (s), sizeof(s) - 1 }
/* n bytes of the client's (GC) or server's (GS) stream lost; a pickup mid-stream */
#define GC(n) { true, NULL, (n) }
#define GS(n) { false, NULL, (n) }
#define MIDSTREAM { true, NULL, 0 }
#define N_STEPS(a) (sizeof(a) / sizeof((a)[0]))

enum feed_mode {
	FEED_WHOLE,
	FEED_SPLIT,   /* step split_step cut in two at split_at */
	FEED_BYTES,   /* one byte per call */
};

struct run_result {
	char *log;
	enum smtp_status worst;
	bool opaque;
};

static struct run_result
run(const struct step *st, size_t n, enum feed_mode mode, size_t split_step, size_t split_at)
{
	struct smtp_session *s = malloc(sizeof(*s));
	struct rec r = { 0 };
	struct run_result res = { 0 };

	assert_non_null(s);
	smtp_session_init(s, &rec_hooks, &r);
	rec_put(&r, "", 0);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = (const uint8_t *)st[i].p;
		enum smtp_status rc = SMTP_OK;

		if (p == NULL && st[i].n == 0) {
			smtp_session_midstream(s);
		} else if (p == NULL) {
			smtp_session_gap(s, st[i].to_server, st[i].n);
		} else if (mode == FEED_BYTES) {
			for (size_t k = 0; k < st[i].n; k++) {
				enum smtp_status one = smtp_session_feed(s, st[i].to_server, p + k, 1);

				if (one > rc)
					rc = one;
			}
		} else if (mode == FEED_SPLIT && i == split_step) {
			rc = smtp_session_feed(s, st[i].to_server, p, split_at);
			enum smtp_status two = smtp_session_feed(s, st[i].to_server, p + split_at,
								 st[i].n - split_at);
			if (two > rc)
				rc = two;
		} else {
			rc = smtp_session_feed(s, st[i].to_server, p, st[i].n);
		}
		assert_true(rc != SMTP_AGAIN);
		if (rc > res.worst)
			res.worst = rc;
	}
	res.opaque = smtp_session_is_opaque(s);
	rec_event(&r);
	rec_put(&r, "close\n", 6);
	smtp_session_close(s);
	rec_event(&r);
	free(s);
	res.log = r.buf;
	return res;
}

/* Fed whole, split in two at every offset of every step, and byte by byte: same log. */
static struct run_result
check_splits(const struct step *st, size_t n)
{
	struct run_result whole = run(st, n, FEED_WHOLE, 0, 0);
	struct run_result bytes = run(st, n, FEED_BYTES, 0, 0);

	if (strcmp(whole.log, bytes.log) != 0)
		print_error("byte by byte differs\n");
	assert_string_equal(whole.log, bytes.log);
	assert_int_equal(whole.opaque, bytes.opaque);
	free(bytes.log);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 1; st[i].p != NULL && k < st[i].n; k++) {
			struct run_result split = run(st, n, FEED_SPLIT, i, k);

			if (strcmp(whole.log, split.log) != 0)
				print_error("step %zu split at %zu differs\n", i, k);
			assert_string_equal(whole.log, split.log);
			free(split.log);
		}
	}
	return whole;
}

static void
check_conv(const struct step *st, size_t n, const char *expected)
{
	struct run_result res = check_splits(st, n);

	assert_string_equal(res.log, expected);
	free(res.log);
}

#define GREET S("220 mx.example ESMTP\r\n")
#define EHLO C("EHLO client.example\r\n"), S("250-mx.example\r\n250-PIPELINING\r\n250 CHUNKING\r\n")

/* ---- the cases ---- */

static void
test_simple_session(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<alice@example.com> SIZE=100 BODY=8BITMIME\r\n"),
		S("250 2.1.0 Ok\r\n"),
		C("RCPT TO:<bob@example.org> NOTIFY=NEVER\r\n"),
		S("250 2.1.5 Ok\r\n"),
		C("DATA\r\n"),
		S("354 End data with <CR><LF>.<CR><LF>\r\n"),
		C("From: alice@example.com\r\nSubject: hello\r\n\r\nline1\r\nline2\r\n.\r\n"),
		S("250 2.0.0 Ok: queued\r\n"),
		C("QUIT\r\n"),
		S("221 2.0.0 Bye\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:alice@example.com\n"
		   "rcpt0:bob@example.org\n"
		   "rcpt_reply0:250\n"
		   "data_begin\n"
		   "hdr:From=alice@example.com\n"
		   "hdr:Subject=hello\n"
		   "hdrs_end\n"
		   "body:line1\\r\\nline2\\r\\n\n"
		   "data_end\n"
		   "tx_end:delivered:250\n"
		   "close\n");
}

static void
test_pipelined(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nRCPT TO:<c@z.example>\r\n"
		  "DATA\r\n"),
		S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 <c@z.example>: no such user\r\n"
		  "354 go ahead\r\n"),
		C("Subject: p\r\n\r\nbody\r\n.\r\nQUIT\r\n"),
		S("250 2.0.0 queued\r\n221 bye\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "rcpt1:c@z.example\n"
		   "data_begin\n"
		   "rcpt_reply0:250\n"
		   "rcpt_reply1:550\n"
		   "hdr:Subject=p\n"
		   "hdrs_end\n"
		   "body:body\\r\\n\n"
		   "data_end\n"
		   "tx_end:delivered:250\n"
		   "close\n");
}

static void
test_rset_mid_tx(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<b@y.example>\r\n"),
		S("250 ok\r\n"),
		C("RSET\r\n"),
		S("250 ok\r\n"),
		C("MAIL FROM:<>\r\n"),
		S("250 ok\r\n"),
		C("QUIT\r\n"),
		S("221 bye\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "rcpt_reply0:250\n"
		   "tx_end:aborted:0\n"
		   "tx_begin\n"
		   "mail:\n"
		   "tx_end:aborted:0\n"
		   "close\n");
}

static void
test_two_transactions(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<one@x.example>\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<r1@y.example>\r\n"),
		S("250 ok\r\n"),
		C("DATA\r\n"),
		S("354 go\r\n"),
		C("Subject: first\r\n\r\n1\r\n.\r\n"),
		S("250 queued as A\r\n"),
		C("MAIL FROM:<two@x.example>\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<r2@y.example>\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<r3@y.example>\r\n"),
		S("451 4.3.0 try later\r\n"),
		C("DATA\r\n"),
		S("354 go\r\n"),
		C("Subject: second\r\n\r\n2\r\n.\r\n"),
		S("550 5.7.1 rejected by policy\r\n"),
		C("QUIT\r\n"),
		S("221 bye\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:one@x.example\n"
		   "rcpt0:r1@y.example\n"
		   "rcpt_reply0:250\n"
		   "data_begin\n"
		   "hdr:Subject=first\n"
		   "hdrs_end\n"
		   "body:1\\r\\n\n"
		   "data_end\n"
		   "tx_end:delivered:250\n"
		   "tx_begin\n"
		   "mail:two@x.example\n"
		   "rcpt0:r2@y.example\n"
		   "rcpt_reply0:250\n"
		   "rcpt1:r3@y.example\n"
		   "rcpt_reply1:451\n"
		   "data_begin\n"
		   "hdr:Subject=second\n"
		   "hdrs_end\n"
		   "body:2\\r\\n\n"
		   "data_end\n"
		   "tx_end:rejected:550\n"
		   "close\n");
}

static void
test_data_rejected(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n"),
		S("250 ok\r\n250 ok\r\n"),
		C("DATA\r\n"),
		S("554 5.5.1 Error: no valid recipients\r\n"),
		/* back on commands: this is a new transaction, not message text */
		C("MAIL FROM:<c@x.example>\r\n"),
		S("250 ok\r\n"),
		C("QUIT\r\n"),
		S("221 bye\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "rcpt_reply0:250\n"
		   "data_begin\n"
		   "tx_end:rejected:554\n"
		   "tx_begin\n"
		   "mail:c@x.example\n"
		   "tx_end:aborted:0\n"
		   "close\n");
}

static void
test_rcpt_rejected(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<nobody@y.example>\r\n"),
		S("550 5.1.1 <nobody@y.example>: Recipient address rejected\r\n"),
		C("DATA\r\n"),
		S("554 5.5.1 Error: no valid recipients\r\n"),
		C("QUIT\r\n"),
		S("221 bye\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:nobody@y.example\n"
		   "rcpt_reply0:550\n"
		   "data_begin\n"
		   "tx_end:rejected:554\n"
		   "close\n");
}

static void
test_mail_rejected(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<spammer@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"),
		S("550 5.7.1 sender rejected\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need RCPT\r\n"),
		C("QUIT\r\n"),
		S("221 bye\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:spammer@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "tx_end:rejected:550\n"
		   "close\n");
}

static void
test_dot_stuffing(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		/*
		 * RFC 5321 4.5.2: the first dot of every line but the end line is removed; the
		 * last line is empty, and its CRLF is still the message's (RFC 5321 4.1.1.4)
		 */
		C("Subject: dots\r\n\r\n..leading\r\n.x\r\n...\r\n. \r\nmid.dot\r\n.\rx\r\n"
		  "\r\n.\r\n"),
		S("250 ok\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "rcpt_reply0:250\n"
		   "hdr:Subject=dots\n"
		   "hdrs_end\n"
		   "body:.leading\\r\\nx\\r\\n..\\r\\n \\r\\nmid.dot\\r\\n\\rx\\r\\n\\r\\n\n"
		   "data_end\n"
		   "tx_end:delivered:250\n"
		   "close\n");
}

static void
test_folded_headers(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C("Subject: part one\r\n  part two\r\n\tpart three\r\n"
		  "To: a@b.example,\r\n c@d.example\r\n"
		  "X-Empty:\r\n"
		  "X-Obs :  v  \r\n"
		  "X-Folded-Empty:\r\n next\r\n"
		  "\r\n"
		  "body\r\n  not a fold\r\n.\r\n"),
		S("250 ok\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "rcpt_reply0:250\n"
		   "hdr:Subject=part one  part two\\tpart three\n"
		   "hdr:To=a@b.example, c@d.example\n"
		   "hdr:X-Empty=\n"
		   "hdr:X-Obs=v\n"
		   "hdr:X-Folded-Empty=next\n"
		   "hdrs_end\n"
		   "body:body\\r\\n  not a fold\\r\\n\n"
		   "data_end\n"
		   "tx_end:delivered:250\n"
		   "close\n");
}

static void
test_not_a_header(void **state)
{
	(void)state;
	/* A line that is no "name:" ends the header block without a blank line. */
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C("Subject: s\r\nHello world: not a header\r\nX: y\r\n.\r\n"),
		S("250 ok\r\n"),
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C(" leading fold\r\nX: y\r\n.\r\n"),
		S("250 ok\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "rcpt_reply0:250\n"
		   "hdr:Subject=s\n"
		   "hdrs_end\n"
		   "body:Hello world: not a header\\r\\nX: y\\r\\n\n"
		   "data_end\n"
		   "tx_end:delivered:250\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "rcpt_reply0:250\n"
		   "hdrs_end\n"
		   "body: leading fold\\r\\nX: y\\r\\n\n"
		   "data_end\n"
		   "tx_end:delivered:250\n"
		   "close\n");
}

/* Lone CRs in the header block and messages that end inside a line ending (BDAT: raw). */
static void
test_header_cr_edges(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n"
		  "BDAT 29 LAST\r\nSubject: a\rb\r\nX-Obs  \t: v\r\n\rX"),
		S("250 ok\r\n250 ok\r\n250 queued\r\n"),
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n"
		  "BDAT 13 LAST\r\nSubject: a\r\n\r"),
		S("250 ok\r\n250 ok\r\n250 queued\r\n"),
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n"
		  "BDAT 11 LAST\r\nSubject: a\r"),
		S("250 ok\r\n250 ok\r\n250 queued\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "hdr:Subject=a\\rb\n"
		   "hdr:X-Obs=v\n"
		   "hdrs_end\n"
		   "body:\\rX\n"
		   "data_end\n"
		   "rcpt_reply0:250\n"
		   "tx_end:delivered:250\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "hdr:Subject=a\n"
		   "hdrs_end\n"
		   "body:\\r\n"
		   "data_end\n"
		   "rcpt_reply0:250\n"
		   "tx_end:delivered:250\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "hdr:Subject=a\\r\n"
		   "hdrs_end\n"
		   "data_end\n"
		   "rcpt_reply0:250\n"
		   "tx_end:delivered:250\n"
		   "close\n");
}

static void
test_end_split_across_feeds(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C("Subject: s\r\n\r\nabc\r"),
		C("\n."),
		C("\r"),
		C("x\r"),
		C("\n"),
		C("."),
		C("\r"),
		C("\n"),
		S("250 ok\r\n"),
		C("QUIT\r\n"),
		S("221 bye\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "rcpt_reply0:250\n"
		   "hdr:Subject=s\n"
		   "hdrs_end\n"
		   "body:abc\\r\\n\\rx\\r\\n\n"
		   "data_end\n"
		   "tx_end:delivered:250\n"
		   "close\n");
}

static void
test_bdat(void **state)
{
	(void)state;
	/* chunk one: 22 bytes; chunk two: 7 bytes; no dot-unstuffing, no end line */
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n"),
		S("250 ok\r\n250 ok\r\n"),
		C("BDAT 22\r\nSubject: b\r\n\r\n.. one\r\n"),
		S("250 2.0.0 22 octets received\r\n"),
		C("BDAT 7 LAST\r\n.\r\ntwo\nQUIT\r\n"),
		S("250 2.0.0 queued\r\n221 bye\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "rcpt_reply0:250\n"
		   "data_begin\n"
		   "hdr:Subject=b\n"
		   "hdrs_end\n"
		   "body:.. one\\r\\n.\\r\\ntwo\\n\n"
		   "data_end\n"
		   "tx_end:delivered:250\n"
		   "close\n");
}

static void
test_bdat_zero_last(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nBDAT 5\r\nhelloBDAT 0 last\r\n"),
		S("250 ok\r\n250 ok\r\n250 5 octets\r\n250 queued\r\n"),
		/* an empty message, and a refused chunk */
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nBDAT 0 LAST\r\n"),
		S("250 ok\r\n250 ok\r\n250 queued\r\n"),
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nBDAT 3\r\nabc"),
		S("250 ok\r\n250 ok\r\n552 5.3.4 too big\r\n"),
		C("BDAT 2 LAST\r\nde"),
		S("503 5.5.1 no transaction\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "hdrs_end\n"
		   "body:hello\n"
		   "data_end\n"
		   "rcpt_reply0:250\n"
		   "tx_end:delivered:250\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "hdrs_end\n"
		   "data_end\n"
		   "rcpt_reply0:250\n"
		   "tx_end:delivered:250\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "rcpt_reply0:250\n"
		   "tx_end:rejected:552\n"
		   "tx_begin\n"
		   "data_begin\n"
		   "hdrs_end\n"
		   "body:de\n"
		   "data_end\n"
		   "tx_end:rejected:503\n"
		   "close\n");
}

/* Found by fuzz_smtp: a RCPT between the chunks of a BDAT message gave on_rcpt in a message. */
static void
test_bdat_rcpt_between_chunks(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nBDAT 3\r\nabc"),
		S("250 ok\r\n250 ok\r\n250 3 octets\r\n"),
		C("RCPT TO:<late@y.example>\r\n"),
		S("503 5.5.1 bad sequence of commands\r\n"),
		C("BDAT 2 LAST\r\nde"),
		S("250 queued\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "rcpt_reply0:250\n"
		   "hdrs_end\n"
		   "body:abcde\n"
		   "data_end\n"
		   "tx_end:delivered:250\n"
		   "close\n");
}

static void
test_bdat_bad_size(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n"),
		S("250 ok\r\n250 ok\r\n"),
		C("BDAT -5 LAST\r\nBDAT 99999999999999999999\r\nBDAT 1 FIRST\r\nBDAT 5x\r\n"
		  "MAIL FROM <c@x.example>\r\nMAIL\r\nQUIT\r\n"),
		S("501 bad\r\n501 bad\r\n501 bad\r\n501 bad\r\n501 bad\r\n501 bad\r\n"
		  "221 bye\r\n"),
	};
	struct run_result res;

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "rcpt_reply0:250\n"
		   "tx_end:aborted:0\n"
		   "close\n");
	res = run(st, N_STEPS(st), FEED_WHOLE, 0, 0);
	assert_int_equal(res.worst, SMTP_INVALID);
	free(res.log);
}

static void
test_starttls(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		C("EHLO client.example\r\n"),
		S("250-mx.example\r\n250 STARTTLS\r\n"),
		C("STARTTLS\r\n"),
		S("220 2.0.0 Ready to start TLS\r\n\x16\x03\x03\x00\x10junk"),
		C("\x16\x03\x01\x00\xa5\x01\x00 MAIL FROM:<x@y.example>\r\n"),
		S("250 not really\r\n"),
	};
	const struct step refused[] = {
		GREET,
		C("EHLO client.example\r\n"),
		S("250-mx.example\r\n250 STARTTLS\r\n"),
		C("STARTTLS\r\n"),
		S("454 4.7.0 TLS not available\r\n"),
		C("MAIL FROM:<x@y.example>\r\n"),
		S("250 ok\r\n"),
	};
	struct run_result res;

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "starttls\n"
		   "close\n");
	res = run(st, N_STEPS(st), FEED_BYTES, 0, 0);
	assert_true(res.opaque);
	free(res.log);

	check_conv(refused, N_STEPS(refused),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:x@y.example\n"
		   "close\n"
		   "tx_end:aborted:0\n");
	res = run(refused, N_STEPS(refused), FEED_WHOLE, 0, 0);
	assert_false(res.opaque);
	free(res.log);
}

/* Text of n times c, for over-long lines. */
static char *
repeat(const char *prefix, char c, size_t n, const char *suffix)
{
	size_t lp = strlen(prefix), ls = strlen(suffix);
	char *s = malloc(lp + n + ls + 1);

	assert_non_null(s);
	memcpy(s, prefix, lp);
	memset(s + lp, c, n);
	memcpy(s + lp + n, suffix, ls + 1);
	return s;
}

static void
test_long_command_line(void **state)
{
	(void)state;
	char *line = repeat("EHLO ", 'a', 3000, "\r\n");
	char *reply = repeat("250-", 'x', 3000, "\r\n250 ok\r\n");
	char *kept = repeat("", 'a', SMTP_LINE_MAX - 5, "");
	char *expected = malloc(8192);
	const struct step st[] = {
		GREET,
		{ true, line, strlen(line) },
		{ false, reply, strlen(reply) },
		C("MAIL FROM:<a@b.example>\r\n"),
		S("250 ok\r\n"),
	};
	struct run_result res;

	assert_non_null(expected);
	snprintf(expected, 8192,
		 "anomaly:line_too_long\n"
		 "helo:%s\n"
		 "anomaly:line_too_long\n"
		 "tx_begin\n"
		 "mail:a@b.example\n"
		 "close\n"
		 "tx_end:aborted:0\n",
		 kept);
	check_conv(st, N_STEPS(st), expected);
	res = run(st, N_STEPS(st), FEED_WHOLE, 0, 0);
	assert_int_equal(res.worst, SMTP_TOO_LONG);
	free(res.log);
	free(expected);
	free(kept);
	free(reply);
	free(line);
}

static void
test_long_header(void **state)
{
	(void)state;
	char *msg = repeat("X-Long: ", 'h', 5000, "\r\n\tfold\r\nSubject: after\r\n\r\nb\r\n.\r\n");
	char *kept = repeat("", 'h', SMTP_HEADER_MAX - 8, "");
	char *expected = malloc(16384);
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		{ true, msg, strlen(msg) },
		S("250 ok\r\n"),
	};

	assert_non_null(expected);
	snprintf(expected, 16384,
		 "helo:client.example\n"
		 "tx_begin\n"
		 "mail:a@x.example\n"
		 "rcpt0:b@y.example\n"
		 "data_begin\n"
		 "rcpt_reply0:250\n"
		 "anomaly:header_too_long\n"
		 "hdr:X-Long=%s\n"
		 "hdr:Subject=after\n"
		 "hdrs_end\n"
		 "body:b\\r\\n\n"
		 "data_end\n"
		 "tx_end:delivered:250\n"
		 "close\n",
		 kept);
	check_conv(st, N_STEPS(st), expected);
	free(expected);
	free(kept);
	free(msg);
}

static void
test_bare_lf(void **state)
{
	(void)state;
	const struct step st[] = {
		S("220 mx\n"),
		C("EHLO c\n"),
		S("250 ok\n"),
		C("MAIL FROM:<a@b.example>\nRCPT TO:<c@d.example>\nDATA\n"),
		S("250 ok\n250 ok\n354 go\n"),
		C("Subject: lf\n\nline\n..dot\n.\n"),
		S("250 ok\r\n"),
	};
	/* the first bare LF inside the body: the body before it is reported before it */
	const struct step in_body[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C("Subject: crlf\r\n\r\nabc\ndef\nghi\r\n.\r\n"),
		S("250 ok\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "anomaly:bare_lf\n"
		   "anomaly:bare_lf\n"
		   "helo:c\n"
		   "anomaly:bare_lf\n"
		   "anomaly:bare_lf\n"
		   "tx_begin\n"
		   "mail:a@b.example\n"
		   "anomaly:bare_lf\n"
		   "rcpt0:c@d.example\n"
		   "anomaly:bare_lf\n"
		   "data_begin\n"
		   "anomaly:bare_lf\n"
		   "anomaly:bare_lf\n"
		   "rcpt_reply0:250\n"
		   "anomaly:bare_lf\n"
		   "anomaly:bare_lf\n"
		   "hdr:Subject=lf\n"
		   "hdrs_end\n"
		   "body:line\\n.dot\\n\n"
		   "data_end\n"
		   "tx_end:delivered:250\n"
		   "close\n");
	check_conv(in_body, N_STEPS(in_body),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@b.example\n"
		   "rcpt0:c@d.example\n"
		   "data_begin\n"
		   "rcpt_reply0:250\n"
		   "hdr:Subject=crlf\n"
		   "hdrs_end\n"
		   "body:abc\n"
		   "anomaly:bare_lf\n"
		   "body:\\ndef\\nghi\\r\\n\n"
		   "data_end\n"
		   "tx_end:delivered:250\n"
		   "close\n");
}

static void
test_no_body(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C("Subject: only headers\r\n.\r\n"),
		S("250 ok\r\n"),
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C("Subject: blank line, no body\r\n\r\n.\r\n"),
		S("250 ok\r\n"),
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C(".\r\n"),
		S("250 ok\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "rcpt_reply0:250\n"
		   "hdr:Subject=only headers\n"
		   "hdrs_end\n"
		   "data_end\n"
		   "tx_end:delivered:250\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "rcpt_reply0:250\n"
		   "hdr:Subject=blank line, no body\n"
		   "hdrs_end\n"
		   "data_end\n"
		   "tx_end:delivered:250\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "rcpt_reply0:250\n"
		   "hdrs_end\n"
		   "data_end\n"
		   "tx_end:delivered:250\n"
		   "close\n");
}

/* One message sent with DATA in an otherwise fixed session; expected: the log of the message. */
static void
check_data_message(const char *msg, size_t len, const char *expected_message)
{
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		{ true, msg, len },
		S("250 ok\r\n"),
	};
	char expected[1024];
	int n;

	n = snprintf(expected, sizeof(expected),
		     "helo:client.example\n"
		     "tx_begin\n"
		     "mail:a@x.example\n"
		     "rcpt0:b@y.example\n"
		     "data_begin\n"
		     "rcpt_reply0:250\n"
		     "%s"
		     "data_end\n"
		     "tx_end:delivered:250\n"
		     "close\n",
		     expected_message);
	assert_true(n > 0 && (size_t)n < sizeof(expected));
	check_conv(st, N_STEPS(st), expected);
}

#define CHECK_DATA_MESSAGE(msg, expected) check_data_message((msg), sizeof(msg) - 1, (expected))

/*
 * RFC 5321 4.1.1.4: the end of data is ".CRLF"; the line ending before it ends the message's
 * last line and is passed on, so on_body gets the message as the server stores it.
 */
static void
test_final_crlf_belongs_to_message(void **state)
{
	(void)state;
	CHECK_DATA_MESSAGE("a\r\nb\r\n.\r\n",
			   "hdrs_end\n"
			   "body:a\\r\\nb\\r\\n\n");
	/* bare LF line endings are kept as they came, the last one too */
	CHECK_DATA_MESSAGE("a\nb\n.\n",
			   "anomaly:bare_lf\n"
			   "hdrs_end\n"
			   "body:a\\nb\\n\n");
	/* the last line's CRLF comes before the bare LF of the end line: body first */
	CHECK_DATA_MESSAGE("Subject: s\r\n\r\nx\r\n.\n",
			   "hdr:Subject=s\n"
			   "hdrs_end\n"
			   "body:x\\r\\n\n"
			   "anomaly:bare_lf\n");
	/* empty body: the blank line ends the headers, no body bytes */
	CHECK_DATA_MESSAGE("Subject: e\r\n\r\n.\r\n",
			   "hdr:Subject=e\n"
			   "hdrs_end\n");
	/* header only: the CRLF ends the header line, it is not body */
	CHECK_DATA_MESSAGE("Subject: h\r\n.\r\n",
			   "hdr:Subject=h\n"
			   "hdrs_end\n");
	/* an empty message: no line, so no line ending */
	CHECK_DATA_MESSAGE(".\r\n",
			   "hdrs_end\n");
}

static void
test_garbage(void **state)
{
	(void)state;
	static const char client_junk[] = "\x00\xff\x16\x03\x01garbage\r\n\r\n\x80\x81\x82";
	static const char server_junk[] = "\x00\x01xyz\r\n25\r\n2500 x\r\n";
	const struct step st[] = {
		GREET,
		{ true, client_junk, sizeof(client_junk) - 1 },
		{ false, server_junk, sizeof(server_junk) - 1 },
		C("\r\nMAIL TO:<x@y.example>\r\n"),
		S("500 5.5.1 unknown\r\n500 5.5.2 syntax\r\n501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
		  "250 extra\r\n421 bye\r\n"),
	};
	struct run_result res;

	check_conv(st, N_STEPS(st),
		   "anomaly:unknown_command\n"
		   "anomaly:unknown_command\n"
		   "anomaly:bad_reply\n"
		   "anomaly:bad_reply\n"
		   "anomaly:bad_reply\n"
		   "anomaly:unknown_command\n"
		   "anomaly:reply_without_command\n"
		   "close\n");
	res = run(st, N_STEPS(st), FEED_WHOLE, 0, 0);
	assert_int_equal(res.worst, SMTP_INVALID);
	free(res.log);
}

static void
test_command_variants(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		C("helo\r\n"),
		S("501 HELO requires domain address\r\n"),
		C("ehlo  spaced.example  \r\n"),
		S("250 ok\r\n"),
		C("mail from: <a@x.example> SIZE=5\r\n"),
		S("250 ok\r\n"),
		C("rcpt to:b@y.example NOTIFY=NEVER\r\n"),
		S("250 ok\r\n"),
		C("Rcpt To : <c d@y.example>\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<unclosed@y.example\r\n"),
		S("250 ok\r\n"),
		C("NOOP\r\nVRFY x\r\nEXPN y\r\nHELP\r\nXCLIENT ADDR=1.2.3.4\r\n"),
		S("250 ok\r\n252 maybe\r\n502 no\r\n214 help\r\n220 xclient ok\r\n"),
		/* EHLO resets the transaction (RFC 5321 4.1.4) */
		C("EHLO again.example\r\n"),
		S("250 ok\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:\n"
		   "helo:spaced.example\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "rcpt_reply0:250\n"
		   "rcpt1:c d@y.example\n"
		   "rcpt_reply1:250\n"
		   "rcpt2:unclosed@y.example\n"
		   "rcpt_reply2:250\n"
		   "tx_end:aborted:0\n"
		   "helo:again.example\n"
		   "close\n");
}

static void
test_auth_continuation(void **state)
{
	(void)state;
	/* SASL lines answering 334 are not commands: no unknown_command, pairing intact. */
	const struct step st[] = {
		GREET,
		EHLO,
		C("AUTH LOGIN\r\n"),
		S("334 VXNlcm5hbWU6\r\n"),
		C("dXNlcg==\r\n"),
		S("334 UGFzc3dvcmQ6\r\n"),
		C("cGFzcw==\r\n"),
		S("235 2.7.0 Authentication successful\r\n"),
		C("AUTH PLAIN AHVzZXIAcGFzcw==\r\n"),
		S("503 already authenticated\r\n"),
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n"),
		S("250 ok\r\n250 ok\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "rcpt_reply0:250\n"
		   "close\n"
		   "tx_end:aborted:0\n");
}

static void
test_tx_ends(void **state)
{
	(void)state;
	/* nested MAIL aborts; MAIL pipelined after "." cannot wait for the reply: unknown */
	const struct step pipelined[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\n"),
		S("250 ok\r\n"),
		C("MAIL FROM:<b@x.example>\r\nRCPT TO:<r@y.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C("Subject: one\r\n\r\nx\r\n.\r\nMAIL FROM:<c@x.example>\r\n"),
		S("250 queued\r\n250 ok\r\n"),
		C("RSET\r\n"),
		S("250 ok\r\n"),
	};
	/* QUIT right after "." leaves the decision to the reply; close before it: unknown */
	const struct step quit[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<r@y.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C("x\r\n.\r\nQUIT\r\n"),
	};
	/* close in the middle of a message: aborted */
	const struct step cut[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<r@y.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C("Subject: cut\r\n\r\npart"),
	};

	check_conv(pipelined, N_STEPS(pipelined),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "tx_end:aborted:0\n"
		   "tx_begin\n"
		   "mail:b@x.example\n"
		   "rcpt0:r@y.example\n"
		   "data_begin\n"
		   "rcpt_reply0:250\n"
		   "hdr:Subject=one\n"
		   "hdrs_end\n"
		   "body:x\\r\\n\n"
		   "data_end\n"
		   "tx_end:unknown:0\n"
		   "tx_begin\n"
		   "mail:c@x.example\n"
		   "tx_end:aborted:0\n"
		   "close\n");
	check_conv(quit, N_STEPS(quit),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:r@y.example\n"
		   "data_begin\n"
		   "rcpt_reply0:250\n"
		   "hdrs_end\n"
		   "body:x\\r\\n\n"
		   "data_end\n"
		   "close\n"
		   "tx_end:unknown:0\n");
	check_conv(cut, N_STEPS(cut),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:r@y.example\n"
		   "data_begin\n"
		   "rcpt_reply0:250\n"
		   "hdr:Subject=cut\n"
		   "hdrs_end\n"
		   "body:part\n"
		   "close\n"
		   "tx_end:aborted:0\n");
}

/* Found by fuzz_smtp: a refusal of an older DATA ended the message of a newer transaction. */
static void
test_stale_data_reply(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		/* a client that does not wait for 354: two transactions before any reply */
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"),
		C("x\r\n.\r\nMAIL FROM:<c@x.example>\r\nRCPT TO:<d@y.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n554 5.5.1 no\r\n"),
		C("Subject: two\r\n\r\ny\r\n.\r\n"),
		S("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "hdrs_end\n"
		   "body:x\\r\\n\n"
		   "data_end\n"
		   "tx_end:unknown:0\n"
		   "tx_begin\n"
		   "mail:c@x.example\n"
		   "rcpt0:d@y.example\n"
		   "data_begin\n"
		   "hdr:Subject=two\n"
		   "hdrs_end\n"
		   "body:y\\r\\n\n"
		   "data_end\n"
		   "rcpt_reply0:250\n"
		   "tx_end:delivered:250\n"
		   "close\n");
}

static void
test_pipeline_overflow(void **state)
{
	(void)state;
	char cmds[6 * (SMTP_PENDING_MAX + 2) + 1];
	char replies[8 * (SMTP_PENDING_MAX + 2) + 1];
	size_t nc = 0, nr = 0;

	for (int i = 0; i < SMTP_PENDING_MAX + 2; i++) {
		memcpy(cmds + nc, "NOOP\r\n", 6);
		nc += 6;
		memcpy(replies + nr, "250 ok\r\n", 8);
		nr += 8;
	}
	cmds[nc] = replies[nr] = '\0';
	const struct step st[] = {
		GREET,
		{ true, cmds, nc },
		{ false, replies, nr },
	};

	check_conv(st, N_STEPS(st),
		   "anomaly:pipeline_overflow\n"
		   "anomaly:pipeline_overflow\n"
		   "anomaly:reply_without_command\n"
		   "anomaly:reply_without_command\n"
		   "close\n");
}

static void
test_null_hooks(void **state)
{
	(void)state;
	static const char client[] = "EHLO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"
				     "Subject: x\r\n\r\nbody\r\n.\r\nBDAT 3 LAST\r\nabcSTARTTLS\r\n";
	static const char server[] = "220 hi\r\n250 a\r\n250 b\r\n250 c\r\n354 d\r\n250 e\r\nbad\r\n"
				     "250 f\r\n220 go\r\n";
	struct smtp_hooks some = { 0 };
	struct smtp_session *s = malloc(sizeof(*s));

	assert_non_null(s);
	smtp_session_init(s, NULL, NULL);
	smtp_session_feed(s, true, (const uint8_t *)client, sizeof(client) - 1);
	smtp_session_feed(s, false, (const uint8_t *)server, sizeof(server) - 1);
	assert_true(smtp_session_is_opaque(s));
	assert_int_equal(s->n_anomalies[SMTP_AN_BAD_REPLY], 1);
	smtp_session_close(s);
	smtp_session_init(s, &some, NULL);
	assert_int_equal(smtp_session_feed(s, true, NULL, 0), SMTP_OK);
	smtp_session_feed(s, true, (const uint8_t *)client, sizeof(client) - 1);
	smtp_session_close(s);
	smtp_session_close(s);
	free(s);
}

/* ---- real sessions (tests/data/smtp, see SOURCES.md) ---- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

struct conv {
	struct step *steps;
	size_t n;
	uint8_t *bytes;
};

/*
 * tshark -q -z follow,tcp,raw,0 output: header lines, then one line of hex per segment,
 * with a leading tab for node 1 (the server; node 0 opened the connection).
 */
static void
conv_load(struct conv *cv, const char *name)
{
	const char *dir = getenv("SMTP_TEST_DATA");
	char path[512], line[65536 * 2 + 8];
	size_t cap_steps = 64, nbytes = 0, cap_bytes = 65536;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.follow", dir != NULL ? dir : "tests/data/smtp", name);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s: %s (run from the repository root or set SMTP_TEST_DATA)",
			 path, strerror(errno));
	cv->steps = calloc(cap_steps, sizeof(*cv->steps));
	cv->bytes = malloc(cap_bytes);
	cv->n = 0;
	assert_non_null(cv->steps);
	assert_non_null(cv->bytes);
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *p = line;
		bool server = false;
		size_t start = nbytes;

		if (line[0] == '\n' || line[0] == '=' || strncmp(line, "Follow:", 7) == 0 ||
		    strncmp(line, "Filter:", 7) == 0 || strncmp(line, "Node ", 5) == 0)
			continue;
		if (*p == '\t') {
			server = true;
			p++;
		}
		for (; hexval(p[0]) >= 0; p += 2) {
			assert_true(hexval(p[1]) >= 0);
			if (nbytes == cap_bytes) {
				cap_bytes *= 2;
				cv->bytes = realloc(cv->bytes, cap_bytes);
				assert_non_null(cv->bytes);
			}
			cv->bytes[nbytes++] = (uint8_t)(hexval(p[0]) << 4 | hexval(p[1]));
		}
		assert_true(*p == '\n' || *p == '\0');
		if (cv->n == cap_steps) {
			cap_steps *= 2;
			cv->steps = realloc(cv->steps, cap_steps * sizeof(*cv->steps));
			assert_non_null(cv->steps);
		}
		/* offsets for now: bytes may still move */
		cv->steps[cv->n].to_server = !server;
		cv->steps[cv->n].p = (const char *)(uintptr_t)start;
		cv->steps[cv->n].n = nbytes - start;
		cv->n++;
	}
	fclose(f);
	assert_true(cv->n > 0);
	for (size_t i = 0; i < cv->n; i++)
		cv->steps[i].p = (const char *)cv->bytes + (uintptr_t)cv->steps[i].p;
}

static void
conv_free(struct conv *cv)
{
	free(cv->steps);
	free(cv->bytes);
}

/* Keep the log lines that start with one of the prefixes: the envelope of the session. */
static char *
log_filter(const char *log, const char *const *prefixes)
{
	struct rec out = { 0 };

	rec_put(&out, "", 0);
	while (*log != '\0') {
		const char *eol = strchr(log, '\n');
		size_t len = eol != NULL ? (size_t)(eol - log) + 1 : strlen(log);

		for (const char *const *pf = prefixes; *pf != NULL; pf++) {
			if (strncmp(log, *pf, strlen(*pf)) == 0) {
				rec_put(&out, log, len);
				break;
			}
		}
		log += len;
	}
	return out.buf;
}

static const char *const envelope_prefixes[] = {
	"helo:", "mail:", "rcpt", "hdr:Subject=", "tx_end:", "starttls", "anomaly:", NULL,
};

static void
check_real(const char *name, const char *expected_envelope)
{
	struct conv cv;
	struct run_result res;
	char *env;

	conv_load(&cv, name);
	res = check_splits(cv.steps, cv.n);
	env = log_filter(res.log, envelope_prefixes);
	if (strcmp(env, expected_envelope) != 0)
		print_error("%s full log:\n%s\n", name, res.log);
	assert_string_equal(env, expected_envelope);
	free(env);
	free(res.log);
	conv_free(&cv);
}

/*
 * Expected envelopes were read with tshark 4.0 from the source captures (SOURCES.md):
 *   tshark -r F -Y 'smtp.req or smtp.response or imf' -T fields -e frame.number \
 *          -e smtp.req.command -e smtp.req.parameter -e smtp.response.code -e imf.subject
 * and, where tshark's SMTP dissector does not split pipelined commands (bug-7126),
 *   tshark -r F -q -z follow,tcp,ascii,0 | grep -a -E '^(MAIL|RCPT|BDAT|Subject:|25[0-9])'
 */
static void
test_real_rset_bdat(void **state)
{
	(void)state;
	/* EHLO ehlo.fr; MAIL,RCPT 250,250; BDAT 11 LAST 250; RSET; again with BDAT 13 LAST */
	check_real("sv-smtp-rset",
		   "helo:ehlo.fr\n"
		   "mail:username@domain.com\n"
		   "rcpt0:john.doe@example.com\n"
		   "rcpt_reply0:250\n"
		   "tx_end:delivered:250\n"
		   "mail:username@domain.com\n"
		   "rcpt0:john.doe@example.com\n"
		   "rcpt_reply0:250\n"
		   "tx_end:delivered:250\n");
}

static void
test_real_data_521(void **state)
{
	(void)state;
	/* AUTH PLAIN 334/235; MAIL "FROM: <...>"; Subject "Urgent Trip."; 521 after "." */
	check_real("arkime-smtp-data-521",
		   "helo:xxxxxxxx.xxx.aol.com\n"
		   "mail:1234567899@aol.com\n"
		   "rcpt0:xxxxx-xxxx@xxxx.xxx.xx.jp\n"
		   "rcpt_reply0:250\n"
		   "hdr:Subject=Urgent Trip.\n"
		   "tx_end:rejected:521\n");
}

static void
test_real_pipelined_bdat(void **state)
{
	(void)state;
	/*
	 * Exim relay, MAIL+RCPT+BDAT n LAST+message in one flight, twice; 250 OK id=...
	 * The second Subject is cut by a segment boundary ("[RFC v4] copy" | "_file_range...").
	 */
	check_real("sv-bug-7126",
		   "helo:vger.kernel.org\n"
		   "mail:linux-kernel-owner@vger.kernel.org\n"
		   "rcpt0:trafficwatcher@foundit.scootmail.com\n"
		   "hdr:Subject=Re: [PATCH 1/2] units: Add the HZ_PER_KHZ macro\n"
		   "rcpt_reply0:250\n"
		   "tx_end:delivered:250\n"
		   "mail:linux-kernel-owner@vger.kernel.org\n"
		   "rcpt0:trafficwatcher@foundit.scootmail.com\n"
		   "hdr:Subject=[RFC v4] copy_file_range.2: Update cross-filesystem support for 5.12\n"
		   "rcpt_reply0:250\n"
		   "tx_end:delivered:250\n");
}

static void
test_real_starttls(void **state)
{
	(void)state;
	/* EHLO; STARTTLS 220; then a real TLS handshake that must not be parsed */
	check_real("arkime-smtp-starttls",
		   "helo:xxxxxxxxxxxxx.xxx.com\n"
		   "starttls\n");
}

static void
test_real_pipelined_post_data_mail(void **state)
{
	(void)state;
	/*
	 * "." and the next MAIL in one segment; replies "250 queued", "250 Ok" together.
	 * The first transaction's delivery cannot be reported (see smtp.c): unknown.
	 */
	check_real("sv-pipelined-post-data-mail",
		   "helo:client.example.com\n"
		   "mail:alice@example.com\n"
		   "rcpt0:bob@example.com\n"
		   "rcpt_reply0:250\n"
		   "hdr:Subject=pipelined first\n"
		   "tx_end:unknown:0\n"
		   "mail:bob@example.com\n"
		   "rcpt0:alice@example.com\n"
		   "rcpt_reply0:250\n"
		   "hdr:Subject=pipelined second\n"
		   "tx_end:delivered:250\n");
}

static void
test_real_nospaces(void **state)
{
	(void)state;
	/* "HELO" alone (501), addresses without brackets, message sent before 354, no "." */
	check_real("arkime-smtp-nospaces",
		   "helo:\n"
		   "mail:random@example.com\n"
		   "rcpt0:reciever@example.com\n"
		   "rcpt_reply0:250\n"
		   "tx_end:aborted:0\n");
}

/* A hole in the command stream: the cut line is dropped, the next one parsed. */
static void
test_gap_in_commands(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET, EHLO,
		C("MAIL FROM:<a@b.example>\r\n"),
		S("250 ok\r\n"),
		C("RCPT TO:<lo"),
		GC(20),
		C("st@b.example>\r\nRCPT TO:<kept@b.example>\r\n"),
		S("250 ok\r\n250 ok\r\n"),
		C("QUIT\r\n"),
		S("221 bye\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@b.example\n"
		   "anomaly:gap\n"
		   "rcpt0:kept@b.example\n"
		   "rcpt_reply0:250\n"
		   "anomaly:reply_without_command\n"
		   "tx_end:aborted:0\n"
		   "close\n");
}

/* A hole inside a message: the transaction goes on and its end is still found. */
static void
test_gap_in_message(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET, EHLO,
		C("MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C("Subject: hole\r\n\r\nbefore the ho"),
		GC(1400),
		C("le, after it\r\n.\r\n"),
		S("250 queued\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@b.example\n"
		   "rcpt0:c@d.example\n"
		   "data_begin\n"
		   "rcpt_reply0:250\n"
		   "hdr:Subject=hole\n"
		   "hdrs_end\n"
		   "body:before the ho\n"
		   "anomaly:gap\n"
		   "body:le, after it\\r\\n\n"
		   "data_end\n"
		   "tx_end:delivered:250\n"
		   "close\n");
}

/* Lost server replies: nothing is paired with the wrong command afterwards. */
static void
test_gap_in_replies(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET, EHLO,
		C("MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"),
		GS(30),
		C("RCPT TO:<e@d.example>\r\n"),
		S("550 no such user\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:client.example\n"
		   "tx_begin\n"
		   "mail:a@b.example\n"
		   "rcpt0:c@d.example\n"
		   "anomaly:gap\n"
		   "rcpt1:e@d.example\n"
		   "rcpt_reply1:550\n"
		   "close\n"
		   "tx_end:aborted:0\n");
}

/* Picked up mid-message: lines before the first command are skipped, replies to commands
 * never seen are not paired, and the next transaction is followed whole. */
static void
test_midstream_pickup(void **state)
{
	(void)state;
	const struct step st[] = {
		MIDSTREAM,
		C("ssage body, help me\r\nData lines\r\n.\r\n"),
		S("250 2.0.0 queued\r\n"),
		C("MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C("Subject: next\r\n\r\nhi\r\n.\r\n"),
		S("250 queued\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "tx_begin\n"
		   "mail:a@b.example\n"
		   "rcpt0:c@d.example\n"
		   "data_begin\n"
		   "rcpt_reply0:250\n"
		   "hdr:Subject=next\n"
		   "hdrs_end\n"
		   "body:hi\\r\\n\n"
		   "data_end\n"
		   "tx_end:delivered:250\n"
		   "close\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gap_in_commands),
		cmocka_unit_test(test_gap_in_message),
		cmocka_unit_test(test_gap_in_replies),
		cmocka_unit_test(test_midstream_pickup),
		cmocka_unit_test(test_simple_session),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_rset_mid_tx),
		cmocka_unit_test(test_two_transactions),
		cmocka_unit_test(test_data_rejected),
		cmocka_unit_test(test_rcpt_rejected),
		cmocka_unit_test(test_mail_rejected),
		cmocka_unit_test(test_dot_stuffing),
		cmocka_unit_test(test_folded_headers),
		cmocka_unit_test(test_not_a_header),
		cmocka_unit_test(test_header_cr_edges),
		cmocka_unit_test(test_end_split_across_feeds),
		cmocka_unit_test(test_bdat),
		cmocka_unit_test(test_bdat_zero_last),
		cmocka_unit_test(test_bdat_rcpt_between_chunks),
		cmocka_unit_test(test_bdat_bad_size),
		cmocka_unit_test(test_starttls),
		cmocka_unit_test(test_long_command_line),
		cmocka_unit_test(test_long_header),
		cmocka_unit_test(test_bare_lf),
		cmocka_unit_test(test_no_body),
		cmocka_unit_test(test_final_crlf_belongs_to_message),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_command_variants),
		cmocka_unit_test(test_auth_continuation),
		cmocka_unit_test(test_tx_ends),
		cmocka_unit_test(test_stale_data_reply),
		cmocka_unit_test(test_pipeline_overflow),
		cmocka_unit_test(test_null_hooks),
		cmocka_unit_test(test_real_rset_bdat),
		cmocka_unit_test(test_real_data_521),
		cmocka_unit_test(test_real_pipelined_bdat),
		cmocka_unit_test(test_real_starttls),
		cmocka_unit_test(test_real_pipelined_post_data_mail),
		cmocka_unit_test(test_real_nospaces),
	};

	return cmocka_run_group_tests_name("smtp", tests, NULL, NULL);
}
