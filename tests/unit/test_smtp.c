/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the SMTP session follower (dataplane/smtp.c). A recorder implements every
 * hook and writes a text log ("helo:x", "tx_begin:1", "mail:a@b", "rcpt0:c@d", "msg:...",
 * ...; message chunks merged, so the log does not depend on how the bytes were cut). Each
 * conversation, a list of (direction, bytes) steps, is fed whole, then with each step split
 * at every byte offset, then one byte at a time: the three logs must be identical, and the
 * first must equal the expected log. Where a test names credentials (forbidden), every slice
 * a hook gets, the log and the whole session struct after the run are searched for them.
 * Real sessions come from the .follow files in tests/data/smtp (tshark "follow,tcp,raw"
 * output, see SOURCES.md there), looked up under $SMTP_TEST_DATA or, by default,
 * tests/data/smtp relative to the working directory (run from the repository root); their
 * messages are logged as size, FNV-1a digest and Subject. Single-threaded.
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

#include "ascii.h"
#include "smtp.h"
#include "smtp_ext.h"

/* ---- recorder ---- */

struct rec {
	char *buf;
	size_t len, cap;
	bool in_msg;          /* the last event was a message chunk: the next one joins it */
	/* summary mode (real sessions): the message is not logged, only its size and digest */
	bool summary;
	bool msg_begun;
	size_t msg_len;
	uint32_t msg_fnv;
	char subject[160];    /* the first "Subject:" line of the message, cut */
	size_t subj_len;
	uint8_t line_start[9]; /* the start of the current message line, to find "Subject:" */
	size_t line_pos;
	bool in_subject;
	uint32_t newest;      /* the last tx_seq begun: only its end closes the message */
};

/* Strings that must never reach a hook nor stay in the session (credentials), or NULL. */
static const char *const *forbidden;

/* Does [p, p + n) hold one of the forbidden strings? */
static bool
has_forbidden(const void *p, size_t n)
{
	for (const char *const *f = forbidden; f != NULL && *f != NULL; f++)
		if (memmem(p, n, *f, strlen(*f)) != NULL)
			return true;
	return false;
}

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
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(tmp));
	rec_put(r, tmp, (size_t)n);
}

/* Every slice a hook gets: checked against the forbidden bytes. */
static void
check_slice(struct slice s)
{
	if (s.len > 0)
		assert_false(has_forbidden(s.ptr, s.len));
}

/* Wire bytes as readable text: \r \n \t \\ and \xNN for the rest of the unprintable. */
static void
rec_esc(struct rec *r, struct slice s)
{
	check_slice(s);
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

/* Every event but a message chunk first closes a running message line. */
static void
rec_event(struct rec *r)
{
	if (r->in_msg) {
		rec_put(r, "\n", 1);
		r->in_msg = false;
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
on_ehlo_reply(void *ctx, uint16_t code, uint32_t extensions)
{
	struct rec *r = ctx;
	const char *sep = "";

	rec_event(r);
	rec_printf(r, "ehlo_reply:%u:", code);
	for (int e = 0; e < 32; e++) {
		if (!(extensions & (1u << e)))
			continue;
		assert_true(e < SMTP_EXT__COUNT);
		rec_printf(r, "%s%s", sep, smtp_ext_name((enum smtp_ext)e));
		sep = ",";
	}
	rec_put(r, "\n", 1);
}

static void
on_auth(void *ctx, struct slice mechanism, uint16_t code)
{
	struct rec *r = ctx;

	assert_true(code != 334);
	assert_true(mechanism.len <= SMTP_AUTH_MECH_MAX);
	rec_event(r);
	rec_put(r, "auth:", 5);
	rec_esc(r, mechanism);
	rec_printf(r, ":%u\n", code);
}

static void
on_tx_begin(void *ctx, uint32_t tx_seq)
{
	struct rec *r = ctx;

	r->newest = tx_seq;
	rec_event(ctx);
	rec_printf(ctx, "tx_begin:%u\n", tx_seq);
}

static const char *const body_names[] = {
	[SMTP_BODY_NONE] = "none",
	[SMTP_BODY_7BIT] = "7BIT",
	[SMTP_BODY_8BITMIME] = "8BITMIME",
	[SMTP_BODY_BINARYMIME] = "BINARYMIME",
	[SMTP_BODY_OTHER] = "other",
};

static void
on_mail_from(void *ctx, struct slice addr, const struct smtp_mail_params *params)
{
	struct rec *r = ctx;

	assert_non_null(params);
	assert_true(params->body <= SMTP_BODY_OTHER);
	rec_event(r);
	rec_put(r, "mail:", 5);
	rec_esc(r, addr);
	if (params->has_size)
		rec_printf(r, " size=%llu", (unsigned long long)params->size);
	if (params->body != SMTP_BODY_NONE)
		rec_printf(r, " body=%s", body_names[params->body]);
	if (params->smtputf8)
		rec_put(r, " smtputf8", 9);
	if (params->bad)
		rec_put(r, " bad", 4);
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
on_rcpt_reply(void *ctx, uint32_t tx_seq, uint32_t idx, uint16_t code)
{
	rec_event(ctx);
	rec_printf(ctx, "rcpt_reply%u.%u:%u\n", tx_seq, idx, code);
}

static void
on_data_begin(void *ctx)
{
	struct rec *r = ctx;

	rec_event(r);
	rec_put(r, "data_begin\n", 11);
	r->msg_begun = true;
	r->msg_len = 0;
	r->msg_fnv = 2166136261u;
	r->subj_len = 0;
	r->line_pos = 0;
	r->in_subject = false;
}

/* Summary mode: size, FNV-1a digest and the first Subject line of the message. */
static void
summary_add(struct rec *r, struct slice chunk)
{
	for (size_t i = 0; i < chunk.len; i++) {
		uint8_t c = chunk.ptr[i];

		r->msg_fnv = (r->msg_fnv ^ c) * 16777619u;
		if (c == '\r' || c == '\n') {
			r->in_subject = false;
			r->line_pos = 0;
			continue;
		}
		if (r->in_subject) {
			if (r->subj_len < sizeof(r->subject))
				r->subject[r->subj_len++] = (char)c;
			continue;
		}
		if (r->line_pos < 8)
			r->line_start[r->line_pos] = c;
		r->line_pos++;
		if (r->line_pos == 8 && r->subj_len == 0 &&
		    memcmp(r->line_start, "Subject:", 8) == 0)
			r->in_subject = true;
	}
	r->msg_len += chunk.len;
}

static void
on_message(void *ctx, struct slice chunk)
{
	struct rec *r = ctx;

	assert_true(chunk.len > 0);
	assert_true(r->msg_begun);
	if (r->summary) {
		check_slice(chunk);
		summary_add(r, chunk);
		return;
	}
	if (!r->in_msg) {
		rec_put(r, "msg:", 4);
		r->in_msg = true;
	}
	rec_esc(r, chunk);
}

static void
summary_log(struct rec *r, const char *what)
{
	struct slice subj = slice_trim(slice_make(r->subject, r->subj_len));

	rec_printf(r, "%s:len=%zu:fnv=%08x:subject=", what, r->msg_len, r->msg_fnv);
	rec_esc(r, subj);
	rec_put(r, "\n", 1);
}

static void
on_data_end(void *ctx)
{
	struct rec *r = ctx;

	assert_true(r->msg_begun);
	rec_event(r);
	if (r->summary)
		summary_log(r, "data_end");
	else
		rec_put(r, "data_end\n", 9);
	r->msg_begun = false;
}

static const char *const tx_end_names[] = {
	[SMTP_TX_DELIVERED] = "delivered",
	[SMTP_TX_REJECTED] = "rejected",
	[SMTP_TX_ABORTED] = "aborted",
	[SMTP_TX_UNKNOWN] = "unknown",
};

static void
on_tx_end(void *ctx, uint32_t tx_seq, enum smtp_tx_end how, uint16_t code)
{
	struct rec *r = ctx;

	assert_true((unsigned int)how <= SMTP_TX_UNKNOWN);
	rec_event(r);
	if (tx_seq == r->newest) {
		if (r->summary && r->msg_begun)
			summary_log(r, "data_cut");
		r->msg_begun = false;
	}
	rec_printf(r, "tx_end%u:%s:%u\n", tx_seq, tx_end_names[how], code);
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
	[SMTP_AN_GAP] = "gap",
	[SMTP_AN_STARTTLS_INJECTION] = "starttls_injection",
	[SMTP_AN_BDAT_REJECTED] = "bdat_rejected",
	[SMTP_AN_BAD_MAIL_PARAM] = "bad_mail_param",
	[SMTP_AN_AUTH_FAILED] = "auth_failed",
	[SMTP_AN_BAD_COMMAND] = "bad_command",
};

static void
on_anomaly(void *ctx, enum smtp_anomaly what)
{
	assert_true((unsigned int)what < SMTP_AN__COUNT);
	assert_non_null(anomaly_names[what]);
	rec_event(ctx);
	rec_printf(ctx, "anomaly:%s\n", anomaly_names[what]);
}

static const struct smtp_hooks rec_hooks = {
	.on_helo = on_helo,
	.on_ehlo_reply = on_ehlo_reply,
	.on_auth = on_auth,
	.on_tx_begin = on_tx_begin,
	.on_mail_from = on_mail_from,
	.on_rcpt = on_rcpt,
	.on_rcpt_reply = on_rcpt_reply,
	.on_data_begin = on_data_begin,
	.on_message = on_message,
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
run_mode(const struct step *st, size_t n, enum feed_mode mode, size_t split_step, size_t split_at,
	 bool summary)
{
	struct smtp_session *s = malloc(sizeof(*s));
	struct rec r = { .summary = summary };
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
				enum smtp_status one;

				one = smtp_session_feed(s, st[i].to_server, p + k, 1);

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
	/* a credential is not kept anywhere in the session once its line is read */
	assert_false(has_forbidden(s, sizeof(*s)));
	assert_false(has_forbidden(r.buf, r.len));
	free(s);
	res.log = r.buf;
	return res;
}

static struct run_result
run(const struct step *st, size_t n, enum feed_mode mode, size_t split_step, size_t split_at)
{
	return run_mode(st, n, mode, split_step, split_at, false);
}

/* Fed whole, split in two at every offset of every step, and byte by byte: same log. */
static struct run_result
check_splits_mode(const struct step *st, size_t n, bool summary)
{
	struct run_result whole = run_mode(st, n, FEED_WHOLE, 0, 0, summary);
	struct run_result bytes = run_mode(st, n, FEED_BYTES, 0, 0, summary);

	if (strcmp(whole.log, bytes.log) != 0)
		print_error("byte by byte differs\n");
	assert_string_equal(whole.log, bytes.log);
	assert_int_equal(whole.opaque, bytes.opaque);
	assert_int_equal(whole.worst, bytes.worst);
	free(bytes.log);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 1; st[i].p != NULL && k < st[i].n; k++) {
			struct run_result split = run_mode(st, n, FEED_SPLIT, i, k, summary);

			if (strcmp(whole.log, split.log) != 0)
				print_error("step %zu split at %zu differs\n", i, k);
			assert_string_equal(whole.log, split.log);
			free(split.log);
		}
	}
	return whole;
}

static struct run_result
check_splits(const struct step *st, size_t n)
{
	return check_splits_mode(st, n, false);
}

static void
check_conv(const struct step *st, size_t n, const char *expected)
{
	struct run_result res = check_splits(st, n);

	if (strcmp(res.log, expected) != 0)
		print_error("full log:\n%s\n", res.log);
	assert_string_equal(res.log, expected);
	free(res.log);
}

#define GREET S("220 mx.example ESMTP\r\n")
#define EHLO C("EHLO client.example\r\n"), S("250-mx.example\r\n250-PIPELINING\r\n250 CHUNKING\r\n")
#define EHLO_LOG "helo:client.example\nehlo_reply:250:PIPELINING,CHUNKING\n"

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
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:alice@example.com size=100 body=8BITMIME\n"
		   "rcpt0:bob@example.org\n"
		   "rcpt_reply1.0:250\n"
		   "data_begin\n"
		   "msg:From: alice@example.com\\r\\nSubject: hello\\r\\n\\r\\n"
		   "line1\\r\\nline2\\r\\n\n"
		   "data_end\n"
		   "tx_end1:delivered:250\n"
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
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "rcpt1:c@z.example\n"
		   "data_begin\n"
		   "rcpt_reply1.0:250\n"
		   "rcpt_reply1.1:550\n"
		   "msg:Subject: p\\r\\n\\r\\nbody\\r\\n\n"
		   "data_end\n"
		   "tx_end1:delivered:250\n"
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
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "rcpt_reply1.0:250\n"
		   "tx_end1:aborted:0\n"
		   "tx_begin:2\n"
		   "mail:\n"
		   "tx_end2:aborted:0\n"
		   "close\n");
}

/* A transaction aborted by RSET: replies to its pipelined commands are consumed, unreported. */
static void
test_rset_pipelined(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nRSET\r\n"
		  "MAIL FROM:<c@x.example>\r\nRCPT TO:<d@y.example>\r\n"),
		S("250 ok\r\n550 no such user\r\n250 reset\r\n250 ok\r\n250 ok\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "tx_end1:aborted:0\n"
		   "tx_begin:2\n"
		   "mail:c@x.example\n"
		   "rcpt0:d@y.example\n"
		   "rcpt_reply2.0:250\n"
		   "close\n"
		   "tx_end2:aborted:0\n");
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
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:one@x.example\n"
		   "rcpt0:r1@y.example\n"
		   "rcpt_reply1.0:250\n"
		   "data_begin\n"
		   "msg:Subject: first\\r\\n\\r\\n1\\r\\n\n"
		   "data_end\n"
		   "tx_end1:delivered:250\n"
		   "tx_begin:2\n"
		   "mail:two@x.example\n"
		   "rcpt0:r2@y.example\n"
		   "rcpt_reply2.0:250\n"
		   "rcpt1:r3@y.example\n"
		   "rcpt_reply2.1:451\n"
		   "data_begin\n"
		   "msg:Subject: second\\r\\n\\r\\n2\\r\\n\n"
		   "data_end\n"
		   "tx_end2:rejected:550\n"
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
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "rcpt_reply1.0:250\n"
		   "data_begin\n"
		   "tx_end1:rejected:554\n"
		   "tx_begin:2\n"
		   "mail:c@x.example\n"
		   "tx_end2:aborted:0\n"
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
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:nobody@y.example\n"
		   "rcpt_reply1.0:550\n"
		   "data_begin\n"
		   "tx_end1:rejected:554\n"
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
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:spammer@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "tx_end1:rejected:550\n"
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
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "rcpt_reply1.0:250\n"
		   "msg:Subject: dots\\r\\n\\r\\n.leading\\r\\nx\\r\\n..\\r\\n \\r\\n"
		   "mid.dot\\r\\n\\rx\\r\\n\\r\\n\n"
		   "data_end\n"
		   "tx_end1:delivered:250\n"
		   "close\n");
}

/* BDAT bytes are the message as sent: lone CRs, a message ending inside a line ending. */
static void
test_bdat_raw_bytes(void **state)
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
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "msg:Subject: a\\rb\\r\\nX-Obs  \\t: v\\r\\n\\rX\n"
		   "data_end\n"
		   "rcpt_reply1.0:250\n"
		   "tx_end1:delivered:250\n"
		   "tx_begin:2\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "msg:Subject: a\\r\\n\\r\n"
		   "data_end\n"
		   "rcpt_reply2.0:250\n"
		   "tx_end2:delivered:250\n"
		   "tx_begin:3\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "msg:Subject: a\\r\n"
		   "data_end\n"
		   "rcpt_reply3.0:250\n"
		   "tx_end3:delivered:250\n"
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
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "rcpt_reply1.0:250\n"
		   "msg:Subject: s\\r\\n\\r\\nabc\\r\\n\\rx\\r\\n\n"
		   "data_end\n"
		   "tx_end1:delivered:250\n"
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
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "rcpt_reply1.0:250\n"
		   "data_begin\n"
		   "msg:Subject: b\\r\\n\\r\\n.. one\\r\\n.\\r\\ntwo\\n\n"
		   "data_end\n"
		   "tx_end1:delivered:250\n"
		   "close\n");
}

static void
test_bdat_zero_last(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n"
		  "BDAT 5\r\nhelloBDAT 0 last\r\n"),
		S("250 ok\r\n250 ok\r\n250 5 octets\r\n250 queued\r\n"),
		/* an empty message */
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nBDAT 0 LAST\r\n"),
		S("250 ok\r\n250 ok\r\n250 queued\r\n"),
	};
	/* BDAT 0 LAST ends the message at once: the next line is a command, pipelined or not */
	const struct step next[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n"
		  "BDAT 4\r\nabcdBDAT 0 LAST\r\n"
		  "MAIL FROM:<c@x.example>\r\nRCPT TO:<d@y.example>\r\nBDAT 0 LAST\r\nQUIT\r\n"),
		S("250 ok\r\n250 ok\r\n250 4 octets\r\n250 queued A\r\n250 ok\r\n250 ok\r\n"
		  "250 queued B\r\n221 bye\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "msg:hello\n"
		   "data_end\n"
		   "rcpt_reply1.0:250\n"
		   "tx_end1:delivered:250\n"
		   "tx_begin:2\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "data_end\n"
		   "rcpt_reply2.0:250\n"
		   "tx_end2:delivered:250\n"
		   "close\n");
	check_conv(next, N_STEPS(next),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "msg:abcd\n"
		   "data_end\n"
		   "tx_begin:2\n"
		   "mail:c@x.example\n"
		   "rcpt0:d@y.example\n"
		   "data_begin\n"
		   "data_end\n"
		   "rcpt_reply1.0:250\n"
		   "tx_end1:delivered:250\n"
		   "rcpt_reply2.0:250\n"
		   "tx_end2:delivered:250\n"
		   "close\n");
}

/*
 * A refused chunk: the transaction fails (RFC 3030 2), but the chunk's bytes are still read
 * as data, even those that arrive after the refusal, and what follows is a command.
 */
static void
test_bdat_rejected_mid_chunk(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nBDAT 20 LAST\r\n0123456789"),
		S("250 ok\r\n250 ok\r\n552 5.3.4 message too big\r\n"),
		/* the rest of the chunk, shaped like commands: data all the same */
		C("RSET\r\nQU\r\n"),
		C("RSET\r\n"),
		S("250 ok\r\n"),
		C("MAIL FROM:<c@x.example>\r\n"),
		S("250 ok\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "msg:0123456789\n"
		   "rcpt_reply1.0:250\n"
		   "anomaly:bdat_rejected\n"
		   "tx_end1:rejected:552\n"
		   "tx_begin:2\n"
		   "mail:c@x.example\n"
		   "close\n"
		   "tx_end2:aborted:0\n");
}

/* After a refused chunk, the chunks pipelined behind it are consumed up to LAST, no hook. */
static void
test_bdat_rejected_discards_following(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nBDAT 3\r\nabc"),
		S("250 ok\r\n250 ok\r\n451 4.3.0 try later\r\n"),
		C("BDAT 4\r\nRSETBDAT 6 LAST\r\nQUIT\r\n"),
		C("RCPT TO:<late@y.example>\r\n"
		  "MAIL FROM:<c@x.example>\r\nRCPT TO:<d@y.example>\r\n"),
		S("451 4.3.0 failed\r\n451 4.3.0 failed\r\n503 5.5.1 need MAIL\r\n250 ok\r\n"
		  "250 ok\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "msg:abc\n"
		   "rcpt_reply1.0:250\n"
		   "anomaly:bdat_rejected\n"
		   "tx_end1:rejected:451\n"
		   "tx_begin:2\n"
		   "rcpt0:late@y.example\n"
		   "tx_end2:aborted:0\n"
		   "tx_begin:3\n"
		   "mail:c@x.example\n"
		   "rcpt0:d@y.example\n"
		   "rcpt_reply3.0:250\n"
		   "close\n"
		   "tx_end3:aborted:0\n");
}

/* BDAT LAST refused: the message is complete, the transaction rejected. */
static void
test_bdat_rejected_last(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nBDAT 5 LAST\r\nhello"),
		S("250 ok\r\n250 ok\r\n554 5.7.1 spam\r\n"),
		C("QUIT\r\n"),
		S("221 bye\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "msg:hello\n"
		   "data_end\n"
		   "rcpt_reply1.0:250\n"
		   "anomaly:bdat_rejected\n"
		   "tx_end1:rejected:554\n"
		   "close\n");
}

/* CHUNKING and DATA in one session: each message is read by its own rules. */
static void
test_bdat_mixed_with_data(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C("..one\r\n.\r\n"),
		S("250 queued A\r\n"),
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n"
		  "BDAT 8\r\n..two\r\n.BDAT 3 LAST\r\n\r\n."),
		S("250 ok\r\n250 ok\r\n250 8 octets\r\n250 queued B\r\n"),
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C("BDAT 3\r\n.\r\n"),
		S("250 queued C\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "rcpt_reply1.0:250\n"
		   "msg:.one\\r\\n\n"
		   "data_end\n"
		   "tx_end1:delivered:250\n"
		   "tx_begin:2\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "msg:..two\\r\\n.\\r\\n.\n"
		   "data_end\n"
		   "rcpt_reply2.0:250\n"
		   "tx_end2:delivered:250\n"
		   "tx_begin:3\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "rcpt_reply3.0:250\n"
		   "msg:BDAT 3\\r\\n\n"
		   "data_end\n"
		   "tx_end3:delivered:250\n"
		   "close\n");
}

/*
 * PIPELINING with CHUNKING: two whole transactions before any reply (what Exim does, see
 * sv-bug-7126); the replies then decide both, each with its own tx_seq.
 */
static void
test_bdat_pipelined_two_tx(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nRCPT TO:<c@y.example>\r\n"
		  "BDAT 5 LAST\r\nhello"
		  "MAIL FROM:<d@x.example>\r\nRCPT TO:<e@y.example>\r\nBDAT 3 LAST\r\nabc"),
		S("250 ok\r\n250 ok\r\n550 no such user\r\n250 queued A\r\n"
		  "250 ok\r\n450 try later\r\n554 rejected\r\n"),
		C("QUIT\r\n"),
		S("221 bye\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "rcpt1:c@y.example\n"
		   "data_begin\n"
		   "msg:hello\n"
		   "data_end\n"
		   "tx_begin:2\n"
		   "mail:d@x.example\n"
		   "rcpt0:e@y.example\n"
		   "data_begin\n"
		   "msg:abc\n"
		   "data_end\n"
		   "rcpt_reply1.0:250\n"
		   "rcpt_reply1.1:550\n"
		   "tx_end1:delivered:250\n"
		   "rcpt_reply2.0:450\n"
		   "anomaly:bdat_rejected\n"
		   "tx_end2:rejected:554\n"
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
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "msg:abc\n"
		   "rcpt_reply1.0:250\n"
		   "anomaly:bad_command\n"
		   "msg:de\n"
		   "data_end\n"
		   "tx_end1:delivered:250\n"
		   "close\n");
}

/* Sizes that cannot be read: counted, the line skipped, the parser stays on commands. */
static void
test_bdat_bad_size(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n"),
		S("250 ok\r\n250 ok\r\n"),
		C("BDAT -5 LAST\r\nBDAT 99999999999999999999\r\nBDAT 18446744073709551616 LAST\r\n"
		  "BDAT 1 FIRST\r\nBDAT 5x\r\nBDAT\r\nBDAT 0x10\r\nBDAT +3\r\n"
		  "MAIL FROM <c@x.example>\r\nMAIL\r\nQUIT\r\n"),
		S("501 bad\r\n501 bad\r\n501 bad\r\n501 bad\r\n501 bad\r\n501 bad\r\n501 bad\r\n"
		  "501 bad\r\n501 bad\r\n501 bad\r\n221 bye\r\n"),
	};
	struct run_result res;

	check_conv(st, N_STEPS(st),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "rcpt_reply1.0:250\n"
		   "anomaly:bad_command\n"
		   "anomaly:bad_command\n"
		   "anomaly:bad_command\n"
		   "anomaly:bad_command\n"
		   "anomaly:bad_command\n"
		   "anomaly:bad_command\n"
		   "anomaly:bad_command\n"
		   "anomaly:bad_command\n"
		   "anomaly:bad_command\n"
		   "anomaly:bad_command\n"
		   "tx_end1:aborted:0\n"
		   "close\n");
	res = run(st, N_STEPS(st), FEED_WHOLE, 0, 0);
	assert_int_equal(res.worst, SMTP_INVALID);
	free(res.log);
}

/* The largest size that can be read is taken at its word: what follows is chunk data. */
static void
test_bdat_huge_size(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nBDAT 9999999999999999999\r\n"
		  "QUIT\r\n"),
		S("250 ok\r\n250 ok\r\n552 5.3.4 too big\r\n"),
		C("MAIL FROM:<c@x.example>\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "msg:QUIT\\r\\n\n"
		   "rcpt_reply1.0:250\n"
		   "anomaly:bdat_rejected\n"
		   "tx_end1:rejected:552\n"
		   "close\n");
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
		   "ehlo_reply:250:STARTTLS\n"
		   "starttls\n"
		   "close\n");
	res = run(st, N_STEPS(st), FEED_BYTES, 0, 0);
	assert_true(res.opaque);
	free(res.log);

	check_conv(refused, N_STEPS(refused),
		   "helo:client.example\n"
		   "ehlo_reply:250:STARTTLS\n"
		   "tx_begin:1\n"
		   "mail:x@y.example\n"
		   "close\n"
		   "tx_end1:aborted:0\n");
	res = run(refused, N_STEPS(refused), FEED_WHOLE, 0, 0);
	assert_false(res.opaque);
	free(res.log);
}

/*
 * CVE-2011-0411: commands sent behind STARTTLS, before its reply, are run by a vulnerable
 * server inside the TLS session. Reported once per session, whether they came in the same
 * segment or later; the bytes are still read as commands.
 */
/*
 * A message pipelined behind STARTTLS, cut on a withheld CR when the server's 220 turns the
 * session opaque: the bytes held back must not be delivered at close (found by fuzz_smtp).
 */
static void
test_starttls_withheld_data(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		C("EHLO client.example\r\n"),
		S("250-mx.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n"),
		C("STARTTLS\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"
		  "hello\r"),
		S("220 2.0.0 Ready to start TLS\r\n"),
	};
	struct run_result res = run(st, N_STEPS(st), FEED_WHOLE, 0, 0);

	const char *tls = strstr(res.log, "starttls\n");

	assert_true(res.opaque);
	assert_non_null(tls);
	assert_non_null(strstr(res.log, "msg:hello\n"));
	if (strstr(tls, "msg:") != NULL)
		fail_msg("message bytes after the session turned opaque:\n%s", res.log);
	free(res.log);
}

static void
test_starttls_injection(void **state)
{
	(void)state;
	const struct step same_segment[] = {
		GREET,
		C("EHLO client.example\r\n"),
		S("250-mx.example\r\n250 STARTTLS\r\n"),
		C("STARTTLS\r\nMAIL FROM:<evil@x.example>\r\n"),
		S("220 2.0.0 Ready to start TLS\r\n"),
	};
	const struct step later[] = {
		GREET,
		C("EHLO client.example\r\n"),
		S("250-mx.example\r\n250 STARTTLS\r\n"),
		C("STARTTLS\r\n"),
		C("RSET\r\n"),
		C("NOOP\r\n"),
		S("454 4.7.0 TLS not available\r\n250 reset\r\n250 ok\r\n"),
		C("STARTTLS\r\nRSET\r\n"),
		S("454 4.7.0 TLS not available\r\n250 reset\r\n"),
		C("MAIL FROM:<a@x.example>\r\n"),
		S("250 ok\r\n"),
	};

	check_conv(same_segment, N_STEPS(same_segment),
		   "helo:client.example\n"
		   "ehlo_reply:250:STARTTLS\n"
		   "anomaly:starttls_injection\n"
		   "tx_begin:1\n"
		   "mail:evil@x.example\n"
		   "starttls\n"
		   "close\n"
		   "tx_end1:aborted:0\n");
	check_conv(later, N_STEPS(later),
		   "helo:client.example\n"
		   "ehlo_reply:250:STARTTLS\n"
		   "anomaly:starttls_injection\n"
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "close\n"
		   "tx_end1:aborted:0\n");
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
		 "ehlo_reply:250:other\n"
		 "tx_begin:1\n"
		 "mail:a@b.example\n"
		 "close\n"
		 "tx_end1:aborted:0\n",
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

/* Message lines have no length limit here: the message layer (mime.c) bounds what it keeps. */
static void
test_long_message_line(void **state)
{
	(void)state;
	char *msg = repeat("X-Long: ", 'h', 5000, "\r\n\tfold\r\nSubject: after\r\n\r\nb\r\n.\r\n");
	char *logged = repeat("msg:X-Long: ", 'h', 5000,
			      "\\r\\n\\tfold\\r\\nSubject: after\\r\\n\\r\\nb\\r\\n\n");
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
		 EHLO_LOG
		 "tx_begin:1\n"
		 "mail:a@x.example\n"
		 "rcpt0:b@y.example\n"
		 "data_begin\n"
		 "rcpt_reply1.0:250\n"
		 "%s"
		 "data_end\n"
		 "tx_end1:delivered:250\n"
		 "close\n",
		 logged);
	check_conv(st, N_STEPS(st), expected);
	free(expected);
	free(logged);
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
	/* the first bare LF inside the message: the bytes before it are reported before it */
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
		   "ehlo_reply:250:\n"
		   "anomaly:bare_lf\n"
		   "tx_begin:1\n"
		   "mail:a@b.example\n"
		   "anomaly:bare_lf\n"
		   "rcpt0:c@d.example\n"
		   "anomaly:bare_lf\n"
		   "data_begin\n"
		   "anomaly:bare_lf\n"
		   "anomaly:bare_lf\n"
		   "rcpt_reply1.0:250\n"
		   "anomaly:bare_lf\n"
		   "msg:Subject: lf\n"
		   "anomaly:bare_lf\n"
		   "msg:\\n\\nline\\n.dot\\n\n"
		   "data_end\n"
		   "tx_end1:delivered:250\n"
		   "close\n");
	check_conv(in_body, N_STEPS(in_body),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@b.example\n"
		   "rcpt0:c@d.example\n"
		   "data_begin\n"
		   "rcpt_reply1.0:250\n"
		   "msg:Subject: crlf\\r\\n\\r\\nabc\n"
		   "anomaly:bare_lf\n"
		   "msg:\\ndef\\nghi\\r\\n\n"
		   "data_end\n"
		   "tx_end1:delivered:250\n"
		   "close\n");
}

static void
test_short_messages(void **state)
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
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "rcpt_reply1.0:250\n"
		   "msg:Subject: only headers\\r\\n\n"
		   "data_end\n"
		   "tx_end1:delivered:250\n"
		   "tx_begin:2\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "rcpt_reply2.0:250\n"
		   "msg:Subject: blank line, no body\\r\\n\\r\\n\n"
		   "data_end\n"
		   "tx_end2:delivered:250\n"
		   "tx_begin:3\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "rcpt_reply3.0:250\n"
		   "data_end\n"
		   "tx_end3:delivered:250\n"
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
		     EHLO_LOG
		     "tx_begin:1\n"
		     "mail:a@x.example\n"
		     "rcpt0:b@y.example\n"
		     "data_begin\n"
		     "rcpt_reply1.0:250\n"
		     "%s"
		     "data_end\n"
		     "tx_end1:delivered:250\n"
		     "close\n",
		     expected_message);
	assert_true(n > 0 && (size_t)n < sizeof(expected));
	check_conv(st, N_STEPS(st), expected);
}

#define CHECK_DATA_MESSAGE(msg, expected) check_data_message((msg), sizeof(msg) - 1, (expected))

/*
 * RFC 5321 4.1.1.4: the end of data is ".CRLF"; the line ending before it ends the message's
 * last line and is passed on, so on_message gets the message as the server stores it.
 */
static void
test_final_crlf_belongs_to_message(void **state)
{
	(void)state;
	CHECK_DATA_MESSAGE("a\r\nb\r\n.\r\n",
			   "msg:a\\r\\nb\\r\\n\n");
	/* bare LF line endings are kept as they came, the last one too */
	CHECK_DATA_MESSAGE("a\nb\n.\n",
			   "msg:a\n"
			   "anomaly:bare_lf\n"
			   "msg:\\nb\\n\n");
	/* the last line's CRLF comes before the bare LF of the end line: message first */
	CHECK_DATA_MESSAGE("Subject: s\r\n\r\nx\r\n.\n",
			   "msg:Subject: s\\r\\n\\r\\nx\\r\\n\n"
			   "anomaly:bare_lf\n");
	CHECK_DATA_MESSAGE("Subject: e\r\n\r\n.\r\n",
			   "msg:Subject: e\\r\\n\\r\\n\n");
	CHECK_DATA_MESSAGE("Subject: h\r\n.\r\n",
			   "msg:Subject: h\\r\\n\n");
	/* an empty message: no line, so no line ending */
	CHECK_DATA_MESSAGE(".\r\n", "");
	/* CR LF split by a dot-stuffed line, and ".\r" that is not the end */
	CHECK_DATA_MESSAGE("\r\n..\r\n.\rx\r\n.\r\n",
			   "msg:\\r\\n.\\r\\n\\rx\\r\\n\n");
}

/* A message cut by the close or a hole: every byte known to be data is handed out. */
static void
test_cut_message_bytes(void **state)
{
	(void)state;
	const struct step eol[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C("line\r\n..\r\n"),
	};
	const struct step cr[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C("line\r"),
		GC(100),
		C("after\r\n."),
	};

	check_conv(eol, N_STEPS(eol),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "rcpt_reply1.0:250\n"
		   "msg:line\\r\\n.\n"
		   "close\n"
		   "msg:\\r\\n\n"
		   "tx_end1:aborted:0\n");
	check_conv(cr, N_STEPS(cr),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "rcpt_reply1.0:250\n"
		   "msg:line\\r\n"
		   "anomaly:gap\n"
		   "msg:after\n"
		   "close\n"
		   "msg:\\r\\n\n"
		   "tx_end1:aborted:0\n");
}

static void
test_garbage(void **state)
{
	(void)state;
	static const char client_junk[] = "\x00\xff\x16\x03\x01garbage\r\n\r\n\x80\x81\x82";
	static const char server_junk[] = "\x00\x01xyz\r\n25\r\n2500 x\r\n999 x\r\n";
	const struct step st[] = {
		GREET,
		{ true, client_junk, sizeof(client_junk) - 1 },
		{ false, server_junk, sizeof(server_junk) - 1 },
		C("\r\nMAIL TO:<x@y.example>\r\n"),
		S("500 5.5.1 unknown\r\n500 5.5.2 syntax\r\n"
		  "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
		  "250 extra\r\n421 bye\r\n"),
	};
	struct run_result res;

	check_conv(st, N_STEPS(st),
		   "anomaly:unknown_command\n"
		   "anomaly:unknown_command\n"
		   "anomaly:bad_reply\n"
		   "anomaly:bad_reply\n"
		   "anomaly:bad_reply\n"
		   "anomaly:bad_reply\n"
		   "anomaly:unknown_command\n"
		   "anomaly:bad_command\n"
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
		   "ehlo_reply:501:\n"
		   "helo:spaced.example\n"
		   "ehlo_reply:250:\n"
		   "tx_begin:1\n"
		   "mail:a@x.example size=5\n"
		   "rcpt0:b@y.example\n"
		   "rcpt_reply1.0:250\n"
		   "rcpt1:c d@y.example\n"
		   "rcpt_reply1.1:250\n"
		   "rcpt2:unclosed@y.example\n"
		   "rcpt_reply1.2:250\n"
		   "tx_end1:aborted:0\n"
		   "helo:again.example\n"
		   "ehlo_reply:250:\n"
		   "close\n");
}

/* EHLO reply lines name the extensions (not the first: the server's domain). */
static void
test_ehlo_extensions(void **state)
{
	(void)state;
	const struct step st[] = {
		S("220-mx.example ESMTP\r\n220-PIPELINING is no extension here\r\n220 hi\r\n"),
		C("EHLO c.example\r\n"),
		S("250-mx.example Hello c.example\r\n250-SIZE 35882577\r\n250-8bitmime\r\n"
		  "250-AUTH=LOGIN PLAIN\r\n250-AUTH LOGIN PLAIN\r\n250-X-EXPS GSSAPI\r\n"
		  "250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\nnot a reply line\r\n"
		  "250 smtputf8\r\n"),
		C("EHLO again.example\r\n"),
		S("250 mx.example\r\n"),
		C("HELO old.example\r\n"),
		S("250-mx.example\r\n250 PIPELINING\r\n"),
		C("EHLO refused.example\r\n"),
		S("550-PIPELINING\r\n550 CHUNKING\r\n"),
		C("EHLO last.example\r\n"),
		S("250-mx.example\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-BINARYMIME\r\n"
		  "250-DSN\r\n250-ETRN\r\n250-VRFY\r\n250-HELP\r\n250-DELIVERBY 240\r\n"
		  "250-REQUIRETLS\r\n"
		  "250-\r\n250 ENHANCEDSTATUSCODES\r\n"),
	};
	/* an early talker: the greeting is no reply to its EHLO */
	const struct step early[] = {
		C("EHLO early.example\r\n"),
		S("220-mx.example\r\n220 SIZE ready\r\n250-mx.example\r\n250 PIPELINING\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:c.example\n"
		   "anomaly:bad_reply\n"
		   "ehlo_reply:250:SIZE,8BITMIME,STARTTLS,AUTH,SMTPUTF8,ENHANCEDSTATUSCODES,other\n"
		   "helo:again.example\n"
		   "ehlo_reply:250:\n"
		   "helo:old.example\n"
		   "ehlo_reply:250:\n"
		   "helo:refused.example\n"
		   "ehlo_reply:550:\n"
		   "helo:last.example\n"
		   "ehlo_reply:250:PIPELINING,CHUNKING,BINARYMIME,DSN,ENHANCEDSTATUSCODES,"
		   "ETRN,VRFY,HELP,DELIVERBY,REQUIRETLS\n"
		   "close\n");
	check_conv(early, N_STEPS(early),
		   "helo:early.example\n"
		   "ehlo_reply:250:PIPELINING\n"
		   "close\n");
}

/* EHLO refused, HELO accepted: the shape of nDPI's smtp.pcap (a 1999 Sendmail session). */
static void
test_ehlo_refused_helo_fallback(void **state)
{
	(void)state;
	const struct step st[] = {
		S("220 pigeon.example ESMTP Sendmail 8.8.7/8.8.7; Sat, 7 Aug 1999 08:20:11\r\n"),
		C("EHLO delta.example\r\n"),
		S("500 Command unrecognized\r\n"),
		C("HELO delta.example\r\n"),
		S("250 (delta.example) pleased to meet you.\r\n"),
		C("MAIL From:<coreys@delta.example>\r\n"),
		S("250 <coreys@delta.example>... Sender Ok\r\n"),
		C("RCPT To:<camronm@pigeon.example>\r\n"),
		S("250 <camronm@pigeon.example> OK\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   "helo:delta.example\n"
		   "ehlo_reply:500:\n"
		   "helo:delta.example\n"
		   "ehlo_reply:250:\n"
		   "tx_begin:1\n"
		   "mail:coreys@delta.example\n"
		   "rcpt0:camronm@pigeon.example\n"
		   "rcpt_reply1.0:250\n"
		   "close\n"
		   "tx_end1:aborted:0\n");
}

static const char *const auth_secrets[] = {
	"dGVzdA==", "dXNlciBhYmNk", "c2VjcmV0", "AHVzZXIAcGFzcw==", "dXNlcg==", "cGFzcw==", NULL,
};

/* AUTH: the mechanism and the final reply, never a credential (checked for every hook). */
static void
test_auth_mechanism(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("AUTH PLAIN dGVzdA==\r\n"),
		S("235 2.7.0 Authentication successful\r\n"),
		C("AUTH CRAM-MD5\r\n"),
		S("334 PDEyMzQ1QGV4YW1wbGU+\r\n"),
		C("dXNlciBhYmNk\r\n"),
		S("535 5.7.8 bad credentials\r\n"),
		C("AUTH login\r\n"),
		S("334 VXNlcm5hbWU6\r\n"),
		C("*\r\n"),
		S("501 5.7.0 cancelled\r\n"),
		C("AUTH XOAUTH2\r\n"),
		S("454 4.7.0 temporary failure\r\n"),
		C("AUTH\r\n"),
		S("501 5.5.4 syntax\r\n"),
		C("AUTH A-MECHANISM-NAME-FAR-LONGER-THAN-RFC-4422-ALLOWS c2VjcmV0\r\n"),
		S("504 5.5.4 unrecognized\r\n"),
		/* an initial response lets a client pipeline AUTH with what follows */
		C("AUTH PLAIN dGVzdA==\r\nMAIL FROM:<a@x.example>\r\n"),
		S("235 2.7.0 ok\r\n250 ok\r\n"),
	};

	forbidden = auth_secrets;
	check_conv(st, N_STEPS(st),
		   EHLO_LOG
		   "auth:PLAIN:235\n"
		   "auth:CRAM-MD5:535\n"
		   "anomaly:auth_failed\n"
		   "auth:login:501\n"
		   "anomaly:auth_failed\n"
		   "auth:XOAUTH2:454\n"
		   "auth::501\n"
		   "anomaly:auth_failed\n"
		   "auth:A-MECHANISM-NAME-FAR-LONGER-THAN:504\n"
		   "anomaly:auth_failed\n"
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "auth:PLAIN:235\n"
		   "close\n"
		   "tx_end1:aborted:0\n");
	forbidden = NULL;
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

	forbidden = auth_secrets;
	check_conv(st, N_STEPS(st),
		   EHLO_LOG
		   "auth:LOGIN:235\n"
		   "auth:PLAIN:503\n"
		   "anomaly:auth_failed\n"
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "rcpt_reply1.0:250\n"
		   "close\n"
		   "tx_end1:aborted:0\n");
	forbidden = NULL;
}

/*
 * Credentials in the places a parser could keep them: an over-long AUTH line, a SASL line
 * cut by a hole (the line after the hole is a command, not the rest of the response).
 */
static void
test_auth_credential_not_kept(void **state)
{
	(void)state;
	static const char *const secrets[] = { "QQQQQQQQQQQQ", "c2VjcmV0LX", "Bhc3M=", NULL };
	char *line = repeat("AUTH PLAIN ", 'Q', 3000, "\r\n");
	const struct step st[] = {
		GREET,
		EHLO,
		{ true, line, strlen(line) },
		S("501 5.5.2 line too long\r\n"),
		C("AUTH LOGIN\r\n"),
		S("334 VXNlcm5hbWU6\r\n"),
		C("c2VjcmV0LX"),
		GC(5),
		C("Bhc3M=\r\nMAIL FROM:<a@b.example>\r\n"),
		S("250 ok\r\n"),
	};

	forbidden = secrets;
	check_conv(st, N_STEPS(st),
		   EHLO_LOG
		   "anomaly:line_too_long\n"
		   "auth:PLAIN:501\n"
		   "anomaly:auth_failed\n"
		   "anomaly:gap\n"
		   "tx_begin:1\n"
		   "mail:a@b.example\n"
		   "close\n"
		   "tx_end1:aborted:0\n");
	forbidden = NULL;
	free(line);
}

/* One MAIL line in a minimal session; expected: its mail: line (and anomalies). */
static void
check_mail(const char *line, const char *expected_mail)
{
	const struct step st[] = {
		GREET,
		{ true, line, strlen(line) },
		S("250 ok\r\n"),
	};
	char expected[512];
	int n;

	n = snprintf(expected, sizeof(expected), "tx_begin:1\n%sclose\ntx_end1:aborted:0\n",
		     expected_mail);
	assert_true(n > 0 && (size_t)n < sizeof(expected));
	check_conv(st, N_STEPS(st), expected);
}

static void
test_mail_params(void **state)
{
	(void)state;
	check_mail("MAIL FROM:<a@x.example> SIZE=12345 BODY=8BITMIME SMTPUTF8\r\n",
		   "mail:a@x.example size=12345 body=8BITMIME smtputf8\n");
	check_mail("mail from:<b@x.example> size=0 body=7bit Smtputf8\r\n",
		   "mail:b@x.example size=0 body=7BIT smtputf8\n");
	check_mail("MAIL FROM:<c@x.example> BODY=BinaryMIME RET=HDRS ENVID=QQ314159 AUTH=<> "
		   "MT-PRIORITY=3 X=\r\n",
		   "mail:c@x.example body=BINARYMIME\n");
	check_mail("MAIL FROM:<d@x.example> SIZE=abc BODY=8BITMIME\r\n",
		   "mail:d@x.example body=8BITMIME bad\nanomaly:bad_mail_param\n");
	check_mail("MAIL FROM:<e@x.example> BODY=nonsense SIZE=10\r\n",
		   "mail:e@x.example size=10 body=other bad\nanomaly:bad_mail_param\n");
	check_mail("MAIL FROM:<f@x.example> SIZE=18446744073709551616\r\n",
		   "mail:f@x.example bad\nanomaly:bad_mail_param\n");
	check_mail("MAIL FROM:<g@x.example> SIZE= BODY\r\n",
		   "mail:g@x.example body=other bad\nanomaly:bad_mail_param\n");
	check_mail("MAIL FROM:<h@x.example> SMTPUTF8=yes SIZE=-1\r\n",
		   "mail:h@x.example smtputf8 bad\nanomaly:bad_mail_param\n");
	check_mail("MAIL FROM:<l@x.example> SIZE=18446744073709551615 SIZE=+5\r\n",
		   "mail:l@x.example bad\nanomaly:bad_mail_param\n");
	check_mail("MAIL FROM:<m@x.example> SIZE=18446744073709551615\r\n",
		   "mail:m@x.example size=18446744073709551615\n");
	/* no brackets and no space (arkime's smtp-nospaces capture), parameters still read */
	check_mail("MAIL FROM:i@x.example SIZE=7\r\n", "mail:i@x.example size=7\n");
	check_mail("MAIL FROM:j@x.example\r\n", "mail:j@x.example\n");
	check_mail("MAIL FROM:<> BODY=8BITMIME\r\n", "mail: body=8BITMIME\n");
	check_mail("MAIL FROM:<k@x.example>  \tSIZE=5\t BODY=7BIT  \r\n",
		   "mail:k@x.example size=5 body=7BIT\n");
	check_mail("MAIL FROM:<n@x.example\r\n", "mail:n@x.example\n");
}

/*
 * PIPELINING: "." and the next transaction before the reply to the ".": the first
 * transaction waits for its reply, which decides it (not UNKNOWN), interleaved with the next.
 */
static void
test_pipelined_after_dot(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C("one\r\n.\r\nMAIL FROM:<c@x.example>\r\nRCPT TO:<d@y.example>\r\n"
		  "RCPT TO:<e@y.example>\r\nDATA\r\n"),
		S("250 queued one\r\n250 ok\r\n250 ok\r\n550 no\r\n354 go\r\n"),
		C("two\r\n.\r\nQUIT\r\n"),
		S("451 try later\r\n221 bye\r\n"),
	};
	/* a client that never waits: the first's RCPT replies come after the second began */
	const struct step eager[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"),
		C("one\r\n.\r\nMAIL FROM:<c@x.example>\r\nRCPT TO:<d@y.example>\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n250 ok\r\n451 later\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "rcpt_reply1.0:250\n"
		   "msg:one\\r\\n\n"
		   "data_end\n"
		   "tx_begin:2\n"
		   "mail:c@x.example\n"
		   "rcpt0:d@y.example\n"
		   "rcpt1:e@y.example\n"
		   "data_begin\n"
		   "tx_end1:delivered:250\n"
		   "rcpt_reply2.0:250\n"
		   "rcpt_reply2.1:550\n"
		   "msg:two\\r\\n\n"
		   "data_end\n"
		   "tx_end2:rejected:451\n"
		   "close\n");
	check_conv(eager, N_STEPS(eager),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "msg:one\\r\\n\n"
		   "data_end\n"
		   "tx_begin:2\n"
		   "mail:c@x.example\n"
		   "rcpt0:d@y.example\n"
		   "rcpt_reply1.0:250\n"
		   "tx_end1:delivered:250\n"
		   "rcpt_reply2.0:451\n"
		   "close\n"
		   "tx_end2:aborted:0\n");
}

/* Three whole transactions before any reply: only one may wait, the oldest ends UNKNOWN. */
static void
test_pipelined_three_tx(void **state)
{
	(void)state;
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<r@y.example>\r\nDATA\r\n1\r\n.\r\n"
		  "MAIL FROM:<b@x.example>\r\nRCPT TO:<r@y.example>\r\nDATA\r\n2\r\n.\r\n"
		  "MAIL FROM:<c@x.example>\r\nRCPT TO:<r@y.example>\r\nDATA\r\n3\r\n.\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n250 queued A\r\n"
		  "250 ok\r\n251 forwarded\r\n354 go\r\n250 queued B\r\n"
		  "250 ok\r\n250 ok\r\n354 go\r\n550 rejected C\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:r@y.example\n"
		   "data_begin\n"
		   "msg:1\\r\\n\n"
		   "data_end\n"
		   "tx_begin:2\n"
		   "mail:b@x.example\n"
		   "rcpt0:r@y.example\n"
		   "data_begin\n"
		   "msg:2\\r\\n\n"
		   "data_end\n"
		   "tx_end1:unknown:0\n"
		   "tx_begin:3\n"
		   "mail:c@x.example\n"
		   "rcpt0:r@y.example\n"
		   "data_begin\n"
		   "msg:3\\r\\n\n"
		   "data_end\n"
		   "rcpt_reply2.0:251\n"
		   "tx_end2:delivered:250\n"
		   "rcpt_reply3.0:250\n"
		   "tx_end3:rejected:550\n"
		   "close\n");
}

static void
test_tx_ends(void **state)
{
	(void)state;
	/* nested MAIL aborts; a MAIL pipelined after "." waits, the reply to "." still decides */
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
	/* close while one transaction waits and the next is open */
	const struct step both[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@x.example>\r\nRCPT TO:<r@y.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C("x\r\n.\r\nMAIL FROM:<b@x.example>\r\n"),
	};

	check_conv(pipelined, N_STEPS(pipelined),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "tx_end1:aborted:0\n"
		   "tx_begin:2\n"
		   "mail:b@x.example\n"
		   "rcpt0:r@y.example\n"
		   "data_begin\n"
		   "rcpt_reply2.0:250\n"
		   "msg:Subject: one\\r\\n\\r\\nx\\r\\n\n"
		   "data_end\n"
		   "tx_begin:3\n"
		   "mail:c@x.example\n"
		   "tx_end2:delivered:250\n"
		   "tx_end3:aborted:0\n"
		   "close\n");
	check_conv(quit, N_STEPS(quit),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:r@y.example\n"
		   "data_begin\n"
		   "rcpt_reply1.0:250\n"
		   "msg:x\\r\\n\n"
		   "data_end\n"
		   "close\n"
		   "tx_end1:unknown:0\n");
	check_conv(cut, N_STEPS(cut),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:r@y.example\n"
		   "data_begin\n"
		   "rcpt_reply1.0:250\n"
		   "msg:Subject: cut\\r\\n\\r\\npart\n"
		   "close\n"
		   "tx_end1:aborted:0\n");
	check_conv(both, N_STEPS(both),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:r@y.example\n"
		   "data_begin\n"
		   "rcpt_reply1.0:250\n"
		   "msg:x\\r\\n\n"
		   "data_end\n"
		   "tx_begin:2\n"
		   "mail:b@x.example\n"
		   "close\n"
		   "tx_end1:unknown:0\n"
		   "tx_end2:aborted:0\n");
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
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@x.example\n"
		   "rcpt0:b@y.example\n"
		   "data_begin\n"
		   "msg:x\\r\\n\n"
		   "data_end\n"
		   "tx_begin:2\n"
		   "mail:c@x.example\n"
		   "rcpt0:d@y.example\n"
		   "data_begin\n"
		   "rcpt_reply1.0:250\n"
		   "tx_end1:rejected:554\n"
		   "msg:Subject: two\\r\\n\\r\\ny\\r\\n\n"
		   "data_end\n"
		   "rcpt_reply2.0:250\n"
		   "tx_end2:delivered:250\n"
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
				     "Subject: x\r\n\r\nbody\r\n.\r\n"
				     "BDAT 3 LAST\r\nabcSTARTTLS\r\n";
	static const char server[] = "220 hi\r\n250 a\r\n250 b\r\n250 c\r\n354 d\r\n"
				     "250 e\r\nbad\r\n250 f\r\n220 go\r\n";
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
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@b.example\n"
		   "anomaly:gap\n"
		   "rcpt0:kept@b.example\n"
		   "rcpt_reply1.0:250\n"
		   "anomaly:reply_without_command\n"
		   "tx_end1:aborted:0\n"
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
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@b.example\n"
		   "rcpt0:c@d.example\n"
		   "data_begin\n"
		   "rcpt_reply1.0:250\n"
		   "msg:Subject: hole\\r\\n\\r\\nbefore the ho\n"
		   "anomaly:gap\n"
		   "msg:le, after it\\r\\n\n"
		   "data_end\n"
		   "tx_end1:delivered:250\n"
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
	/* the reply deciding a complete message was lost: it ends UNKNOWN at once */
	const struct step decided[] = {
		GREET, EHLO,
		C("MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C("x\r\n.\r\nMAIL FROM:<b@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n"),
		GS(100),
		C("y\r\n.\r\n"),
		GS(100),
		C("MAIL FROM:<c@b.example>\r\n"),
		S("250 ok\r\n"),
	};

	check_conv(st, N_STEPS(st),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@b.example\n"
		   "rcpt0:c@d.example\n"
		   "anomaly:gap\n"
		   "rcpt1:e@d.example\n"
		   "rcpt_reply1.1:550\n"
		   "close\n"
		   "tx_end1:aborted:0\n");
	check_conv(decided, N_STEPS(decided),
		   EHLO_LOG
		   "tx_begin:1\n"
		   "mail:a@b.example\n"
		   "rcpt0:c@d.example\n"
		   "data_begin\n"
		   "rcpt_reply1.0:250\n"
		   "msg:x\\r\\n\n"
		   "data_end\n"
		   "tx_begin:2\n"
		   "mail:b@b.example\n"
		   "rcpt0:c@d.example\n"
		   "data_begin\n"
		   "tx_end1:delivered:250\n"
		   "anomaly:gap\n"
		   "msg:y\\r\\n\n"
		   "data_end\n"
		   "anomaly:gap\n"
		   "tx_end2:unknown:0\n"
		   "tx_begin:3\n"
		   "mail:c@b.example\n"
		   "close\n"
		   "tx_end3:aborted:0\n");
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
		   "tx_begin:1\n"
		   "mail:a@b.example\n"
		   "rcpt0:c@d.example\n"
		   "data_begin\n"
		   "rcpt_reply1.0:250\n"
		   "msg:Subject: next\\r\\n\\r\\nhi\\r\\n\n"
		   "data_end\n"
		   "tx_end1:delivered:250\n"
		   "close\n");
}

/* ---- real sessions (tests/data/smtp, see SOURCES.md) ---- */

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
		for (; ascii_hex_digit((uint8_t)p[0]) >= 0; p += 2) {
			assert_true(ascii_hex_digit((uint8_t)p[1]) >= 0);
			if (nbytes == cap_bytes) {
				cap_bytes *= 2;
				cv->bytes = realloc(cv->bytes, cap_bytes);
				assert_non_null(cv->bytes);
			}
			cv->bytes[nbytes++] = (uint8_t)(ascii_hex_digit((uint8_t)p[0]) << 4 |
							ascii_hex_digit((uint8_t)p[1]));
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
	"helo:", "ehlo_reply:", "auth:", "tx_", "mail:", "rcpt", "data_end:", "data_cut:",
	"starttls", "anomaly:", NULL,
};

/* The session's log in summary mode (messages as size, FNV-1a and Subject), filtered. */
static void
check_real(const char *name, const char *expected_envelope)
{
	struct conv cv;
	struct run_result res;
	char *env;

	conv_load(&cv, name);
	res = check_splits_mode(cv.steps, cv.n, true);
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
 * Message sizes and FNV-1a digests come from a separate reading of the client stream (a BDAT
 * message is the n bytes after "BDAT n"; a DATA message is what lies between the DATA line
 * and "\r\n.\r\n", that CRLF included, each line's leading dot removed), checked against
 * BDAT's own sizes.
 */
static void
test_real_rset_bdat(void **state)
{
	(void)state;
	/* EHLO ehlo.fr; MAIL,RCPT 250,250; BDAT 11 LAST 250; RSET; again with BDAT 13 LAST */
	check_real("sv-smtp-rset",
		   "helo:ehlo.fr\n"
		   "ehlo_reply:250:PIPELINING,SIZE,8BITMIME,CHUNKING,DSN,ENHANCEDSTATUSCODES,ETRN,"
		   "VRFY\n"
		   "tx_begin:1\n"
		   "mail:username@domain.com\n"
		   "rcpt0:john.doe@example.com\n"
		   "rcpt_reply1.0:250\n"
		   "data_end:len=11:fnv=973eadfc:subject=\n"
		   "tx_end1:delivered:250\n"
		   "tx_begin:2\n"
		   "mail:username@domain.com\n"
		   "rcpt0:john.doe@example.com\n"
		   "rcpt_reply2.0:250\n"
		   "data_end:len=13:fnv=a83a94c1:subject=\n"
		   "tx_end2:delivered:250\n");
}

static void
test_real_data_521(void **state)
{
	(void)state;
	/* AUTH PLAIN 334/235; MAIL "FROM: <...>"; Subject "Urgent Trip."; 521 after "." */
	check_real("arkime-smtp-data-521",
		   "helo:xxxxxxxx.xxx.aol.com\n"
		   "ehlo_reply:250:PIPELINING,SIZE,8BITMIME,STARTTLS,AUTH,DSN,ENHANCEDSTATUSCODES,"
		   "ETRN\n"
		   "auth:PLAIN:235\n"
		   "tx_begin:1\n"
		   "mail:1234567899@aol.com\n"
		   "rcpt0:xxxxx-xxxx@xxxx.xxx.xx.jp\n"
		   "rcpt_reply1.0:250\n"
		   "data_end:len=2954:fnv=36f4305c:subject=Urgent Trip.\n"
		   "tx_end1:rejected:521\n");
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
		   "ehlo_reply:250:PIPELINING,SIZE,8BITMIME,CHUNKING,STARTTLS,SMTPUTF8,HELP,other\n"
		   "tx_begin:1\n"
		   "mail:linux-kernel-owner@vger.kernel.org size=4333 body=8BITMIME\n"
		   "rcpt0:trafficwatcher@foundit.scootmail.com\n"
		   "data_end:len=4404:fnv=69c0a6fe:subject=Re: [PATCH 1/2] units: Add the "
		   "HZ_PER_KHZ macro\n"
		   "rcpt_reply1.0:250\n"
		   "tx_end1:delivered:250\n"
		   "tx_begin:2\n"
		   "mail:linux-kernel-owner@vger.kernel.org size=8546 body=8BITMIME\n"
		   "rcpt0:trafficwatcher@foundit.scootmail.com\n"
		   "data_end:len=8757:fnv=4c6ec1a0:subject=[RFC v4] copy_file_range.2: Update "
		   "cross-filesystem support for 5.12\n"
		   "rcpt_reply2.0:250\n"
		   "tx_end2:delivered:250\n");
}

static void
test_real_starttls(void **state)
{
	(void)state;
	/* EHLO; STARTTLS 220; then a real TLS handshake that must not be parsed */
	check_real("arkime-smtp-starttls",
		   "helo:xxxxxxxxxxxxx.xxx.com\n"
		   "ehlo_reply:250:PIPELINING,SIZE,8BITMIME,CHUNKING,STARTTLS,ENHANCEDSTATUSCODES\n"
		   "starttls\n");
}

static void
test_real_pipelined_post_data_mail(void **state)
{
	(void)state;
	/*
	 * "." and the next MAIL in one segment; replies "250 queued", "250 Ok" together: the
	 * first transaction waits for its reply while the second begins.
	 */
	check_real("sv-pipelined-post-data-mail",
		   "helo:client.example.com\n"
		   "ehlo_reply:250:PIPELINING,SIZE,8BITMIME,CHUNKING,SMTPUTF8,DSN,"
		   "ENHANCEDSTATUSCODES,ETRN,VRFY\n"
		   "tx_begin:1\n"
		   "mail:alice@example.com\n"
		   "rcpt0:bob@example.com\n"
		   "rcpt_reply1.0:250\n"
		   "data_end:len=218:fnv=1de243d5:subject=pipelined first\n"
		   "tx_begin:2\n"
		   "mail:bob@example.com\n"
		   "tx_end1:delivered:250\n"
		   "rcpt0:alice@example.com\n"
		   "rcpt_reply2.0:250\n"
		   "data_end:len=222:fnv=cf95936a:subject=pipelined second\n"
		   "tx_end2:delivered:250\n");
}

static void
test_real_nospaces(void **state)
{
	(void)state;
	/* "HELO" alone (501), addresses without brackets, message sent before 354, no "." */
	check_real("arkime-smtp-nospaces",
		   "helo:\n"
		   "tx_begin:1\n"
		   "mail:random@example.com\n"
		   "rcpt0:reciever@example.com\n"
		   "ehlo_reply:501:\n"
		   "rcpt_reply1.0:250\n"
		   "data_cut:len=9:fnv=bd9c1f8f:subject=\n"
		   "tx_end1:aborted:0\n");
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
		cmocka_unit_test(test_rset_pipelined),
		cmocka_unit_test(test_two_transactions),
		cmocka_unit_test(test_data_rejected),
		cmocka_unit_test(test_rcpt_rejected),
		cmocka_unit_test(test_mail_rejected),
		cmocka_unit_test(test_dot_stuffing),
		cmocka_unit_test(test_bdat_raw_bytes),
		cmocka_unit_test(test_end_split_across_feeds),
		cmocka_unit_test(test_bdat),
		cmocka_unit_test(test_bdat_zero_last),
		cmocka_unit_test(test_bdat_rejected_mid_chunk),
		cmocka_unit_test(test_bdat_rejected_discards_following),
		cmocka_unit_test(test_bdat_rejected_last),
		cmocka_unit_test(test_bdat_mixed_with_data),
		cmocka_unit_test(test_bdat_pipelined_two_tx),
		cmocka_unit_test(test_bdat_rcpt_between_chunks),
		cmocka_unit_test(test_bdat_bad_size),
		cmocka_unit_test(test_bdat_huge_size),
		cmocka_unit_test(test_starttls),
		cmocka_unit_test(test_starttls_injection),
		cmocka_unit_test(test_starttls_withheld_data),
		cmocka_unit_test(test_long_command_line),
		cmocka_unit_test(test_long_message_line),
		cmocka_unit_test(test_bare_lf),
		cmocka_unit_test(test_short_messages),
		cmocka_unit_test(test_final_crlf_belongs_to_message),
		cmocka_unit_test(test_cut_message_bytes),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_command_variants),
		cmocka_unit_test(test_ehlo_extensions),
		cmocka_unit_test(test_ehlo_refused_helo_fallback),
		cmocka_unit_test(test_auth_mechanism),
		cmocka_unit_test(test_auth_continuation),
		cmocka_unit_test(test_auth_credential_not_kept),
		cmocka_unit_test(test_mail_params),
		cmocka_unit_test(test_pipelined_after_dot),
		cmocka_unit_test(test_pipelined_three_tx),
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
