/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MIME parser: every case is parsed whole, split at every byte into two feeds, and one byte at
 * a time; the trace of hooks (headers, parts, decoded content, URLs, anomalies) must be the
 * same each time and equal the expected one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mime.h"
#include "mime_words.h"

#define TRACE_MAX 65536
#define DATA_MAX 16384

struct trace {
	char buf[TRACE_MAX];
	size_t len;
	uint8_t data[DATA_MAX]; /* the current leaf's decoded bytes */
	size_t data_len;
	int pre_index;          /* the preamble entry at the trace's end, to extend; or -1 */
	size_t pre_end;
};

static void
put(struct trace *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(t->buf) - t->len);
	t->len += (size_t)n;
}

/* bytes shown as text, with CR and LF and non-printables escaped */
static void
put_bytes(struct trace *t, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r')
			put(t, "\\r");
		else if (p[i] == '\n')
			put(t, "\\n");
		else if (p[i] < 0x20 || p[i] >= 0x7f)
			put(t, "\\x%02x", p[i]);
		else
			put(t, "%c", p[i]);
	}
}

static void
on_header(void *ctx, const struct mime_part *part, struct slice name, struct slice value)
{
	struct trace *t = ctx;

	put(t, "H%u ", part->index);
	put_bytes(t, name.ptr, name.len);
	put(t, ": ");
	put_bytes(t, value.ptr, value.len);
	put(t, "\n");
}

static void
on_part_begin(void *ctx, const struct mime_part *part)
{
	struct trace *t = ctx;

	put(t, "B%u d%u %s", part->index, part->depth, part->type);
	if (part->charset_len > 0)
		put(t, " cs=%s", part->charset);
	put(t, " %s", mime_cte_name((enum mime_cte)part->cte));
	if (part->multipart)
		put(t, " multipart");
	if (part->message)
		put(t, " message");
	if (part->attachment) {
		put(t, " attachment=");
		put_bytes(t, part->name, part->name_len);
	}
	put(t, "\n");
	t->data_len = 0;
}

static void
on_part_data(void *ctx, const struct mime_part *part, struct slice data)
{
	struct trace *t = ctx;

	(void)part;
	assert_true(t->data_len + data.len <= sizeof(t->data));
	memcpy(t->data + t->data_len, data.ptr, data.len);
	t->data_len += data.len;
}

static void
on_part_end(void *ctx, const struct mime_part *part)
{
	struct trace *t = ctx;

	put(t, "E%u", part->index);
	if (!part->multipart && !part->message) {
		assert_int_equal(part->size, t->data_len);
		put(t, " [");
		put_bytes(t, t->data, t->data_len);
		put(t, "]");
	}
	put(t, "\n");
	t->data_len = 0;
}

/* Preamble and epilogue bytes, one "P" entry per run however they were cut. */
static void
on_preamble(void *ctx, const struct mime_part *part, struct slice data)
{
	struct trace *t = ctx;

	if (t->pre_index == part->index && t->pre_end == t->len)
		t->len -= 2; /* reopen the entry: drop its "]\n" */
	else
		put(t, "P%u [", part->index);
	put_bytes(t, data.ptr, data.len);
	put(t, "]\n");
	t->pre_index = part->index;
	t->pre_end = t->len;
}

static void
on_url(void *ctx, const struct mime_part *part, struct slice url, bool truncated)
{
	struct trace *t = ctx;

	put(t, "U%u %s", part->index, truncated ? "(cut) " : "");
	put_bytes(t, url.ptr, url.len);
	put(t, "\n");
}

static void
on_anomaly(void *ctx, enum mime_anomaly what)
{
	put(ctx, "A %s\n", mime_anomaly_name(what));
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

static struct mime_words *words;
static struct mime_parser parser;
static struct trace trace;

static void
run(const char *msg, size_t len, size_t split, size_t step)
{
	memset(&trace, 0, sizeof(trace));
	trace.pre_index = -1;
	mime_parser_init(&parser, &hooks, &trace, words);
	if (step > 0) {
		for (size_t i = 0; i < len; i += step)
			mime_parser_feed(&parser, (const uint8_t *)msg + i,
					 len - i < step ? len - i : step);
	} else {
		mime_parser_feed(&parser, (const uint8_t *)msg, split);
		mime_parser_feed(&parser, (const uint8_t *)msg + split, len - split);
	}
	mime_parser_finish(&parser);
}

/* Parse msg every way; each trace must equal `expect`. */
static void
check(const char *msg, const char *expect)
{
	size_t len = strlen(msg);

	run(msg, len, len, 0);
	if (strcmp(trace.buf, expect) != 0)
		fail_msg("whole message:\n--- got\n%s--- expected\n%s", trace.buf, expect);
	for (size_t split = 0; split <= len; split++) {
		run(msg, len, split, 0);
		if (strcmp(trace.buf, expect) != 0)
			fail_msg("split at %zu:\n--- got\n%s--- expected\n%s", split, trace.buf,
				 expect);
	}
	run(msg, len, 0, 1);
	if (strcmp(trace.buf, expect) != 0)
		fail_msg("byte by byte:\n--- got\n%s--- expected\n%s", trace.buf, expect);
}

static void
test_simple_message(void **state)
{
	(void)state;
	check("From: a@example.com\r\n"
	      "Subject: hello\r\n"
	      "  world\r\n"
	      "\r\n"
	      "line one\r\nline two\r\n",
	      "H0 From: a@example.com\n"
	      "H0 Subject: hello  world\n"
	      "B0 d0 text/plain 7bit\n"
	      "E0 [line one\\r\\nline two\\r\\n]\n");
}

static void
test_bare_lf_and_no_body(void **state)
{
	(void)state;
	check("Subject: x\n\nbody\n", "H0 Subject: x\nB0 d0 text/plain 7bit\nE0 [body\\n]\n");
	check("Subject: only headers\r\n",
	      "H0 Subject: only headers\nB0 d0 text/plain 7bit\nE0 []\n");
}

/* The CRLF before a boundary belongs to the boundary (RFC 2046 5.1.1), not to the part. */
static void
test_multipart_crlf_before_boundary(void **state)
{
	(void)state;
	check("Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n"
	      "\r\n"
	      "preamble text\r\n"
	      "--XYZ\r\n"
	      "Content-Type: text/plain; charset=UTF-8\r\n"
	      "\r\n"
	      "first\r\n"
	      "\r\n"
	      "--XYZ  \r\n"
	      "\r\n"
	      "second\r\n"
	      "--XYZ--\r\n"
	      "epilogue\r\n",
	      "H0 Content-Type: multipart/mixed; boundary=\"XYZ\"\n"
	      "B0 d0 multipart/mixed 7bit multipart\n"
	      "P0 [preamble text]\n"
	      "H1 Content-Type: text/plain; charset=UTF-8\n"
	      "B1 d1 text/plain cs=utf-8 7bit\n"
	      "E1 [first\\r\\n]\n"
	      "B2 d1 text/plain 7bit\n"
	      "E2 [second]\n"
	      "E0\n"
	      "P0 [epilogue\\r\\n]\n");
}

/*
 * A multipart whose boundary never comes holds its whole body in the preamble: readers show
 * nothing, but the bytes still reach the hooks (a spam trick to hide a payload from sensors).
 */
static void
test_multipart_boundary_never_comes(void **state)
{
	(void)state;
	check("Content-Type: multipart/alternative; boundary=\"nope\"\r\n"
	      "\r\n"
	      "PGh0bWw+\r\n"
	      "--other\r\n",
	      "H0 Content-Type: multipart/alternative; boundary=\"nope\"\n"
	      "B0 d0 multipart/alternative 7bit multipart\n"
	      "P0 [PGh0bWw+\\r\\n--other\\r\\n]\n"
	      "A missing_boundary\n"
	      "A no_parts\n"
	      "E0\n");
}

static void
test_nested_multipart_and_base64(void **state)
{
	(void)state;
	check("Content-Type: multipart/mixed; boundary=outer\r\n"
	      "\r\n"
	      "--outer\r\n"
	      "Content-Type: multipart/alternative; boundary=inner\r\n"
	      "\r\n"
	      "--inner\r\n"
	      "Content-Type: text/plain\r\n"
	      "Content-Transfer-Encoding: quoted-printable\r\n"
	      "\r\n"
	      "caf=C3=A9 soft=\r\n"
	      "break\r\n"
	      "--inner\r\n"
	      "Content-Type: text/html\r\n"
	      "\r\n"
	      "<a href=\"http://example.com/a?b=1&amp;c=2\">x</a>\r\n"
	      "--inner--\r\n"
	      "--outer\r\n"
	      "Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
	      "Content-Transfer-Encoding: base64\r\n"
	      "\r\n"
	      "aGVs\r\n"
	      "bG8=\r\n"
	      "--outer--\r\n",
	      "H0 Content-Type: multipart/mixed; boundary=outer\n"
	      "B0 d0 multipart/mixed 7bit multipart\n"
	      "H1 Content-Type: multipart/alternative; boundary=inner\n"
	      "B1 d1 multipart/alternative 7bit multipart\n"
	      "H2 Content-Type: text/plain\n"
	      "H2 Content-Transfer-Encoding: quoted-printable\n"
	      "B2 d2 text/plain quoted-printable\n"
	      "E2 [caf\\xc3\\xa9 softbreak]\n"
	      "H3 Content-Type: text/html\n"
	      "B3 d2 text/html 7bit\n"
	      "U3 http://example.com/a?b=1&c=2\n"
	      "E3 [<a href=\"http://example.com/a?b=1&amp;c=2\">x</a>]\n"
	      "E1\n"
	      "H4 Content-Type: application/octet-stream; name=\"a.bin\"\n"
	      "H4 Content-Transfer-Encoding: base64\n"
	      "B4 d1 application/octet-stream base64 attachment=a.bin\n"
	      "E4 [hello]\n"
	      "E0\n");
}

/* An inner multipart never closed: the outer boundary ends it, counted. */
static void
test_missing_inner_close(void **state)
{
	(void)state;
	check("Content-Type: multipart/mixed; boundary=o\r\n"
	      "\r\n"
	      "--o\r\n"
	      "Content-Type: multipart/related; boundary=i\r\n"
	      "\r\n"
	      "--i\r\n"
	      "\r\n"
	      "in\r\n"
	      "--o\r\n"
	      "\r\n"
	      "next\r\n",
	      "H0 Content-Type: multipart/mixed; boundary=o\n"
	      "B0 d0 multipart/mixed 7bit multipart\n"
	      "H1 Content-Type: multipart/related; boundary=i\n"
	      "B1 d1 multipart/related 7bit multipart\n"
	      "B2 d2 text/plain 7bit\n"
	      "E2 [in]\n"
	      "A missing_boundary\n"
	      "E1\n"
	      "B3 d1 text/plain 7bit\n"
	      "E3 [next\\r\\n]\n"
	      "A missing_boundary\n"
	      "E0\n");
}

/* Lines that look like a boundary but are not one stay content. */
static void
test_boundary_lookalikes(void **state)
{
	(void)state;
	check("Content-Type: multipart/mixed; boundary=b\r\n"
	      "\r\n"
	      "--b\r\n"
	      "\r\n"
	      "--bx\r\n"
	      "-- b\r\n"
	      "--b-\r\n"
	      "--\r\n"
	      "---b\r\n"
	      "--b--\r\n",
	      "H0 Content-Type: multipart/mixed; boundary=b\n"
	      "B0 d0 multipart/mixed 7bit multipart\n"
	      "B1 d1 text/plain 7bit\n"
	      "E1 [--bx\\r\\n-- b\\r\\n--b-\\r\\n--\\r\\n---b]\n"
	      "E0\n");
}

static void
test_rfc2231_names(void **state)
{
	(void)state;
	/* continuations in any order, %-encoded UTF-8, joined before conversion */
	check("Content-Type: multipart/mixed; boundary=b\r\n"
	      "\r\n"
	      "--b\r\n"
	      "Content-Disposition: attachment;\r\n"
	      " filename*1*=%E2%82%AC.exe; filename*0*=utf-8''inv\r\n"
	      "\r\n"
	      "x\r\n"
	      "--b\r\n"
	      "Content-Disposition: attachment; filename*0=\"ev\"; filename*1=\"il.exe\"\r\n"
	      "\r\n"
	      "y\r\n"
	      "--b\r\n"
	      "Content-Type: application/pdf; name=\"=?utf-8?B?w6kucGRm?=\"\r\n"
	      "\r\n"
	      "z\r\n"
	      "--b--\r\n",
	      "H0 Content-Type: multipart/mixed; boundary=b\n"
	      "B0 d0 multipart/mixed 7bit multipart\n"
	      "H1 Content-Disposition: attachment; filename*1*=%E2%82%AC.exe; filename*0*=utf-8''inv\n"
	      "B1 d1 text/plain 7bit attachment=inv\\xe2\\x82\\xac.exe\n"
	      "E1 [x]\n"
	      "H2 Content-Disposition: attachment; filename*0=\"ev\"; filename*1=\"il.exe\"\n"
	      "B2 d1 text/plain 7bit attachment=evil.exe\n"
	      "E2 [y]\n"
	      "H3 Content-Type: application/pdf; name=\"=?utf-8?B?w6kucGRm?=\"\n"
	      "B3 d1 application/pdf 7bit attachment=\\xc3\\xa9.pdf\n"
	      "E3 [z]\n"
	      "E0\n");
}

/* filename= says one thing, filename*= another: the RFC 2231 one wins, the clash counted. */
static void
test_filename_mismatch(void **state)
{
	(void)state;
	check("Content-Disposition: attachment; filename=\"invoice.pdf\";\r\n"
	      "\tfilename*=UTF-8''invoice.pdf.exe\r\n"
	      "\r\n"
	      "MZ",
	      "H0 Content-Disposition: attachment; filename=\"invoice.pdf\";\\x09filename*=UTF-8''invoice.pdf.exe\n"
	      "A name_mismatch\n"
	      "B0 d0 text/plain 7bit attachment=invoice.pdf.exe\n"
	      "E0 [MZ]\n");
}

static void
test_message_rfc822(void **state)
{
	(void)state;
	check("Content-Type: multipart/mixed; boundary=b\r\n"
	      "\r\n"
	      "--b\r\n"
	      "Content-Type: message/rfc822\r\n"
	      "\r\n"
	      "Subject: inner\r\n"
	      "\r\n"
	      "see https://example.org/x.\r\n"
	      "--b--\r\n",
	      "H0 Content-Type: multipart/mixed; boundary=b\n"
	      "B0 d0 multipart/mixed 7bit multipart\n"
	      "H1 Content-Type: message/rfc822\n"
	      "B1 d1 message/rfc822 7bit message\n"
	      "H2 Subject: inner\n"
	      "B2 d2 text/plain 7bit\n"
	      "U2 https://example.org/x\n"
	      "E2 [see https://example.org/x.]\n"
	      "E1\n"
	      "E0\n");
}

static void
test_bad_header_starts_body(void **state)
{
	(void)state;
	check("Subject: s\r\nthis is no header\r\nmore\r\n",
	      "H0 Subject: s\n"
	      "A bad_header\n"
	      "B0 d0 text/plain 7bit\n"
	      "E0 [this is no header\\r\\nmore\\r\\n]\n");
}

/* Boundaries past RFC 2046's 70 bytes are followed up to MIME_BOUNDARY_MAX, as readers do. */
static void
test_long_boundary(void **state)
{
	static char msg[2048], expect[2048];
	char b[MIME_BOUNDARY_MAX + 2];

	(void)state;
	memset(b, 'q', sizeof(b) - 1);
	b[sizeof(b) - 1] = '\0';
	/* 150 bytes: followed */
	snprintf(msg, sizeof(msg),
		 "Content-Type: multipart/mixed; boundary=%.150s\r\n\r\n--%.150s\r\n\r\nin\r\n--%.150s--\r\n",
		 b, b, b);
	snprintf(expect, sizeof(expect),
		 "H0 Content-Type: multipart/mixed; boundary=%.150s\n"
		 "B0 d0 multipart/mixed 7bit multipart\n"
		 "B1 d1 text/plain 7bit\nE1 [in]\nE0\n",
		 b);
	check(msg, expect);
	/* one past the bound: a leaf, counted */
	snprintf(msg, sizeof(msg), "Content-Type: multipart/mixed; boundary=%s\r\n\r\nx", b);
	run(msg, strlen(msg), strlen(msg), 0);
	assert_int_equal(parser.n_anomalies[MIME_AN_BAD_BOUNDARY], 1);
	assert_false(parser.level[0].part.multipart);
}

static void
test_multipart_without_boundary(void **state)
{
	(void)state;
	check("Content-Type: multipart/mixed\r\n\r\n--x\r\nbody\r\n",
	      "H0 Content-Type: multipart/mixed\n"
	      "A bad_boundary\n"
	      "B0 d0 multipart/mixed 7bit\n"
	      "E0 [--x\\r\\nbody\\r\\n]\n");
}

static void
test_base64_garbage_counted(void **state)
{
	(void)state;
	check("Content-Transfer-Encoding: base64\r\n\r\naGVs!bG8=\r\n",
	      "H0 Content-Transfer-Encoding: base64\n"
	      "B0 d0 text/plain base64\n"
	      "A base64_garbage\n"
	      "E0 [hello]\n");
}

/* Limit: nesting beyond MIME_DEPTH_MAX is kept as a leaf, counted. */
static void
test_depth_limit(void **state)
{
	char msg[8192], expect[16384];
	size_t n = 0, e = 0;
	unsigned d;

	(void)state;
	for (d = 0; d <= MIME_DEPTH_MAX; d++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n,
				      "Content-Type: multipart/mixed; boundary=b%u\r\n\r\n--b%u\r\n",
				      d, d);
	n += (size_t)snprintf(msg + n, sizeof(msg) - n, "\r\ndeep\r\n");
	for (d = 0; d < MIME_DEPTH_MAX; d++)
		e += (size_t)snprintf(expect + e, sizeof(expect) - e,
				      "H%u Content-Type: multipart/mixed; boundary=b%u\n"
				      "B%u d%u multipart/mixed 7bit multipart\n",
				      d, d, d, d);
	e += (size_t)snprintf(expect + e, sizeof(expect) - e,
			      "H%u Content-Type: multipart/mixed; boundary=b%u\n"
			      "A depth\n"
			      "B%u d%u multipart/mixed 7bit\n"
			      "E%u [--b%u\\r\\n\\r\\ndeep\\r\\n]\n",
			      d, d, d, d, d, d);
	for (d = MIME_DEPTH_MAX; d-- > 0;)
		e += (size_t)snprintf(expect + e, sizeof(expect) - e,
				      "A missing_boundary\nE%u\n", d);
	check(msg, expect);
}

/*
 * Limits: an over-long header is cut (counted); past MIME_HEADERS_MAX headers an anomaly says
 * so, once, and the headers are still read (stuffing must not hide a Subject).
 */
static void
test_header_limits(void **state)
{
	static char msg[MIME_HEADER_MAX * 2 + MIME_HEADERS_MAX * 8 + 64];
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(msg + n, sizeof(msg) - n, "X-Long: ");
	memset(msg + n, 'a', MIME_HEADER_MAX);
	n += MIME_HEADER_MAX;
	n += (size_t)snprintf(msg + n, sizeof(msg) - n, "\r\n");
	for (unsigned i = 0; i < MIME_HEADERS_MAX + 2; i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "X: %u\r\n", i % 10);
	n += (size_t)snprintf(msg + n, sizeof(msg) - n, "\r\nbody");

	run(msg, n, n, 0);
	assert_int_equal(parser.n_anomalies[MIME_AN_HEADER_TOO_LONG], 1);
	assert_int_equal(parser.n_anomalies[MIME_AN_TOO_MANY_HEADERS], 1);
	/* the long header, cut to the buffer, and every X: header */
	size_t headers = 0;

	for (const char *p = trace.buf; (p = strstr(p, "\nH0 ")) != NULL; p++)
		headers++;
	assert_int_equal(headers + (strncmp(trace.buf, "H0 ", 3) == 0), MIME_HEADERS_MAX + 3);
	assert_non_null(strstr(trace.buf, "E0 [body]"));
}

/*
 * Regression: a header folded past MIME_HEADER_MAX used to end the header block (a dropped
 * line looked empty) and lose what followed, differently for each split. It is cut, counted,
 * and the headers after it are read.
 */
static void
test_long_folded_header_then_more(void **state)
{
	static char msg[8192], expect[8192];
	size_t n = 0, e = 0;

	(void)state;
	n += (size_t)snprintf(msg + n, sizeof(msg) - n, "Subject: s");
	for (int i = 0; i < 70; i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n,
				      "\r\n %069d", i);
	n += (size_t)snprintf(msg + n, sizeof(msg) - n,
			      "\r\nX-After: yes\r\nContent-Type: text/html\r\n\r\nbody");
	/* what fits: "Subject: s" and whole folds of 71 bytes until the buffer is full */
	e += (size_t)snprintf(expect + e, sizeof(expect) - e, "A header_too_long\nH0 Subject: s");
	size_t kept = 10;

	for (int i = 0; i < 70 && kept < MIME_HEADER_MAX; i++) {
		char fold[80];
		int fl = snprintf(fold, sizeof(fold), " %069d", i);
		size_t take = kept + (size_t)fl <= MIME_HEADER_MAX ? (size_t)fl : MIME_HEADER_MAX - kept;

		e += (size_t)snprintf(expect + e, sizeof(expect) - e, "%.*s", (int)take, fold);
		kept += take;
	}
	e += (size_t)snprintf(expect + e, sizeof(expect) - e,
			      "\nH0 X-After: yes\nH0 Content-Type: text/html\n"
			      "B0 d0 text/html 7bit\nE0 [body]\n");
	check(msg, expect);
}

/* A first line far longer than a header that is no header is content, all of it. */
static void
test_long_non_header_line_is_content(void **state)
{
	static char msg[MIME_HEADER_MAX * 3];
	size_t n = sizeof(msg) - 1;

	(void)state;
	memset(msg, 'x', n);
	msg[n] = '\0';
	run(msg, n, n, 0);
	assert_int_equal(parser.level[0].part.size, n);
	run(msg, n, 0, 1);
	assert_int_equal(parser.level[0].part.size, n);
	assert_int_equal(parser.n_anomalies[MIME_AN_BAD_HEADER], 1);
}

static int
setup(void **state)
{
	(void)state;
	words = mime_words_create();
	return words == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	mime_words_destroy(words);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_message),
		cmocka_unit_test(test_bare_lf_and_no_body),
		cmocka_unit_test(test_multipart_crlf_before_boundary),
		cmocka_unit_test(test_multipart_boundary_never_comes),
		cmocka_unit_test(test_nested_multipart_and_base64),
		cmocka_unit_test(test_missing_inner_close),
		cmocka_unit_test(test_boundary_lookalikes),
		cmocka_unit_test(test_rfc2231_names),
		cmocka_unit_test(test_filename_mismatch),
		cmocka_unit_test(test_message_rfc822),
		cmocka_unit_test(test_bad_header_starts_body),
		cmocka_unit_test(test_long_boundary),
		cmocka_unit_test(test_multipart_without_boundary),
		cmocka_unit_test(test_base64_garbage_counted),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_header_limits),
		cmocka_unit_test(test_long_folded_header_then_more),
		cmocka_unit_test(test_long_non_header_line_is_content),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
