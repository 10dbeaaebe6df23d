/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for tools/rules_test.c (posternctl rules test): input detection, the synthetic
 * SMTP session of an .eml (envelope taken from the headers, dot-stuffing, line ends, mbox
 * separator), captures written here in every format the runner reads (classic pcap in both
 * byte orders and timestamp units, pcapng in both byte orders with enhanced and simple packet
 * blocks) giving the same result as the message itself, captures cut at every byte, input
 * order across interleaved flows, and the command's output and exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "config.h"
#include "commands.h"
#include "decode.h"
#include "rulegen.h"
#include "rules_test.h"
#include "test_tmpdir.h"


static const char rules_text[] =
	"alert smtp any any -> any any (msg:\"subject\"; email.subject; content:\"free money\"; "
	"nocase; sid:1; rev:2;)\n"
	"alert smtp any any -> any any (msg:\"body\"; file.data; content:\"after the dot line\"; "
	"sid:2;)\n"
	"alert smtp any any -> any any (msg:\"stuffed\"; file.data; content:\"|0a|..x\"; sid:3;)\n"
	"alert smtp any any -> any any (msg:\"rcpt a\"; smtp.rcpt_to; content:\"a@x.example\"; "
	"sid:4;)\n"
	"alert smtp any any -> any any (msg:\"rcpt doe\"; smtp.rcpt_to; content:\"doe@z.example\"; "
	"sid:5;)\n"
	"alert smtp any any -> any any (msg:\"rcpt group\"; smtp.rcpt_to; "
	"content:\"g2@w.example\"; sid:6;)\n"
	"alert smtp any any -> any any (msg:\"default rcpt\"; smtp.rcpt_to; "
	"content:\"rcpt@example.net\"; sid:7;)\n"
	"drop smtp any any -> any any (msg:\"helo\"; smtp.helo; content:\"client.example\"; "
	"sid:8;)\n"
	"alert smtp any any -> any any (msg:\"mail from\"; smtp.mail_from; "
	"content:\"bounce@r.example\"; sid:9;)\n";

#define SEEN_MAX 8
#define SIDS_MAX 16

struct seen {
	unsigned n;
	bool has_mail_from[SEEN_MAX];
	char mail_from[SEEN_MAX][256];
	char subject[SEEN_MAX][256];
	uint32_t sids[SEEN_MAX][SIDS_MAX];
	unsigned n_sids[SEEN_MAX];
};

struct fixture {
	char dir[64];
	char pack[128];
	struct postern_config cfg;
	struct rules_test *rt;
	struct seen seen;
	char err[4096];
};

static void
collect(void *ctx, const char *input, const struct rules_test_tx *tx)
{
	struct seen *s = ctx;
	unsigned i = s->n;

	(void)input;
	assert_int_equal(tx->n, s->n + 1);
	assert_true(i < SEEN_MAX);
	s->n++;
	s->has_mail_from[i] = tx->has_mail_from;
	snprintf(s->mail_from[i], sizeof(s->mail_from[i]), "%.*s", (int)tx->mail_from.len,
		 (const char *)tx->mail_from.ptr);
	snprintf(s->subject[i], sizeof(s->subject[i]), "%.*s", (int)tx->subject.len,
		 (const char *)tx->subject.ptr);
	for (unsigned k = 0; k < tx->n_alerts && k < SIDS_MAX; k++)
		s->sids[i][s->n_sids[i]++] = tx->alerts[k].sid;
}

/* The sids fired in transaction i as a bit mask (sids 1..31). */
static uint32_t
mask(const struct seen *s, unsigned i)
{
	uint32_t m = 0;

	for (unsigned k = 0; k < s->n_sids[i]; k++)
		m |= 1u << s->sids[i][k];
	return m;
}

#define M(...) sid_mask((const unsigned[]){ __VA_ARGS__, 0 })

static uint32_t
sid_mask(const unsigned *sids)
{
	uint32_t m = 0;

	for (; *sids != 0; sids++)
		m |= 1u << *sids;
	return m;
}

static int
run(struct fixture *fx, const void *buf, size_t len)
{
	memset(&fx->seen, 0, sizeof(fx->seen));
	return rules_test_buffer(fx->rt, "input", buf, len, collect, &fx->seen, fx->err,
				 sizeof(fx->err));
}

static int
run_str(struct fixture *fx, const char *s)
{
	return run(fx, s, strlen(s));
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct rulegen *g;
	uint8_t *blob;
	FILE *f;

	assert_non_null(fx);
	assert_int_equal(test_tmpdir_make(fx->dir, sizeof(fx->dir)), 0);
	snprintf(fx->pack, sizeof(fx->pack), "%s/test.rules", fx->dir);
	f = fopen(fx->pack, "w");
	assert_non_null(f);
	fputs(rules_text, f);
	fclose(f);
	config_defaults(&fx->cfg);
	strcpy(fx->cfg.rules, fx->pack);
	g = rulegen_build(&fx->cfg, 1, fx->err, sizeof(fx->err));
	if (g == NULL)
		fail_msg("%s", fx->err);
	blob = malloc(g->blob_len);
	assert_non_null(blob);
	assert_int_equal(pread(g->memfd, blob, g->blob_len, 0), (ssize_t)g->blob_len);
	fx->rt = rules_test_create(&fx->cfg, blob, g->blob_len, fx->err, sizeof(fx->err));
	if (fx->rt == NULL)
		fail_msg("%s", fx->err);
	free(blob);
	rulegen_destroy(g);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	rules_test_destroy(fx->rt);
	test_tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

/* ---- detection ---- */

static void
test_detect(void **state)
{
	static const uint8_t pcap_le[] = { 0xd4, 0xc3, 0xb2, 0xa1 };
	static const uint8_t pcap_be[] = { 0xa1, 0xb2, 0xc3, 0xd4 };
	static const uint8_t pcap_ns_le[] = { 0x4d, 0x3c, 0xb2, 0xa1 };
	static const uint8_t pcap_ns_be[] = { 0xa1, 0xb2, 0x3c, 0x4d };
	static const uint8_t ng_le[] = { 0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0,
					 0x4d, 0x3c, 0x2b, 0x1a };
	static const uint8_t ng_be[] = { 0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 28,
					 0x1a, 0x2b, 0x3c, 0x4d };
	static const uint8_t ng_bad[] = { 0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 28, 1, 2, 3, 4 };
#define DETECT(s) rules_test_detect((const uint8_t *)(s), strlen(s))
	const char *eml = "Subject: hi\n\nbody\n";
	const char *mbox = "From someone@example.com Mon Jun  3 10:00:00 2024\nFrom: a@b\n\nx\n";

	(void)state;
	assert_int_equal(rules_test_detect(pcap_le, 4), RULES_TEST_PCAP);
	assert_int_equal(rules_test_detect(pcap_be, 4), RULES_TEST_PCAP);
	assert_int_equal(rules_test_detect(pcap_ns_le, 4), RULES_TEST_PCAP);
	assert_int_equal(rules_test_detect(pcap_ns_be, 4), RULES_TEST_PCAP);
	assert_int_equal(rules_test_detect(ng_le, sizeof(ng_le)), RULES_TEST_PCAPNG);
	assert_int_equal(rules_test_detect(ng_be, sizeof(ng_be)), RULES_TEST_PCAPNG);
	assert_int_equal(rules_test_detect(ng_bad, sizeof(ng_bad)), RULES_TEST_UNKNOWN);
	assert_int_equal(rules_test_detect((const uint8_t *)eml, strlen(eml)), RULES_TEST_EML);
	assert_int_equal(rules_test_detect((const uint8_t *)mbox, strlen(mbox)), RULES_TEST_EML);
	/* a rule pack, plain text, an empty buffer, a header name with a space in it */
	assert_int_equal(DETECT("# SPDX: x\nalert smtp"), RULES_TEST_UNKNOWN);
	assert_int_equal(DETECT("hello world\n"), RULES_TEST_UNKNOWN);
	assert_int_equal(DETECT(""), RULES_TEST_UNKNOWN);
	assert_int_equal(DETECT("Bad name: x\n"), RULES_TEST_UNKNOWN);
	assert_int_equal(DETECT(":x\n"), RULES_TEST_UNKNOWN);
	assert_int_equal(DETECT("From x"), RULES_TEST_UNKNOWN);
#undef DETECT
}

static void
test_unrecognised(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(run_str(fx, "just some text\n"), -EINVAL);
	assert_non_null(strstr(fx->err, "input"));
	assert_int_equal(run(fx, "", 0), -EINVAL);
	assert_int_equal(fx->seen.n, 0);
}

/* ---- messages ---- */

static void
test_eml_envelope(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(run_str(fx, "Return-Path: <bounce@r.example>\n"
				     "From: Someone <x@y.example>\n"
				     "To: \"Doe, John\" <doe@z.example>,\n"
				     "  a@x.example (the (nested) comment)\n"
				     "Cc: team: g1@w.example, g2@w.example;, A <A@X.example>\n"
				     "Subject: =?utf-8?B?RlJFRSBNT05FWQ==?=\n"
				     "\n"
				     "Hello.\n"), 0);
	assert_int_equal(fx->seen.n, 1);
	assert_true(fx->seen.has_mail_from[0]);
	assert_string_equal(fx->seen.mail_from[0], "bounce@r.example");
	assert_string_equal(fx->seen.subject[0], "FREE MONEY");
	assert_int_equal(mask(&fx->seen, 0), M(1, 4, 5, 6, 8, 9));

	/* without Return-Path, the first From address */
	assert_int_equal(run_str(fx, "From: \"Bounce <not this>\" <bounce@r.example>, o@p.example\n"
				     "To: a@x.example\n\nHi.\n"), 0);
	assert_string_equal(fx->seen.mail_from[0], "bounce@r.example");
	assert_int_equal(mask(&fx->seen, 0), M(4, 8, 9));

	/* Return-Path wins wherever it is; the first one counts */
	assert_int_equal(run_str(fx, "From: x@y.example\n"
				     "Return-Path: <bounce@r.example>\n"
				     "Return-Path: <other@r.example>\n"
				     "To: a@x.example\n\nHi.\n"), 0);
	assert_string_equal(fx->seen.mail_from[0], "bounce@r.example");
}

static void
test_eml_defaults(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(run_str(fx, "Subject: nothing else\n\nBody.\n"), 0);
	assert_int_equal(fx->seen.n, 1);
	assert_string_equal(fx->seen.mail_from[0], "sender@example.com");
	assert_int_equal(mask(&fx->seen, 0), M(7, 8));

	/* a group with no member and an address without @ give no recipient either */
	assert_int_equal(run_str(fx, "To: undisclosed-recipients:;\nCc: nobody\n\nBody.\n"), 0);
	assert_int_equal(mask(&fx->seen, 0), M(7, 8));

	/* the null sender */
	assert_int_equal(run_str(fx, "Return-Path: <>\nFrom: x@y.example\n\nBody.\n"), 0);
	assert_true(fx->seen.has_mail_from[0]);
	assert_string_equal(fx->seen.mail_from[0], "");
}

/* The same message with LF and CRLF line ends, with and without a final line end, with an
 * mbox separator line: lines "." and "..x" must reach the MIME layer as they are. */
static void
test_eml_dot_stuffing(void **state)
{
	struct fixture *fx = *state;
	static const char *const variants[] = {
		"From: x@y.example\nSubject: s\n\nfirst\n.\n..x\nafter the dot line\n",
		("From: x@y.example\r\nSubject: s\r\n\r\n"
		 "first\r\n.\r\n..x\r\nafter the dot line\r\n"),
		"From: x@y.example\nSubject: s\n\nfirst\n.\n..x\nafter the dot line",
		("From x@y.example Mon Jun  3 10:00:00 2024\n"
		 "From: x@y.example\nSubject: s\n\nfirst\n.\n..x\nafter the dot line\n"),
	};

	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		assert_int_equal(run_str(fx, variants[i]), 0);
		assert_int_equal(fx->seen.n, 1);
		assert_string_equal(fx->seen.mail_from[0], "x@y.example");
		assert_int_equal(mask(&fx->seen, 0), M(2, 3, 7, 8));
	}
}

/* ---- captures ---- */

#define SNAP 1400

struct frame {
	uint8_t data[14 + 20 + 20 + SNAP];
	uint16_t len;
	uint64_t ts_us;
};

struct capture {
	struct frame *f;
	size_t n, cap;
	uint64_t now_us;
};

struct peer {
	uint8_t ip[4];
	uint16_t port;
	uint32_t seq;
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* One Ethernet/IPv4/TCP frame from `from` to `to`; sequence numbers advance. */
static void
segment(struct capture *c, struct peer *from, const struct peer *to, uint8_t flags,
	const void *payload, size_t len)
{
	struct frame *fr;

	assert_true(len <= SNAP);
	if (c->n == c->cap) {
		c->cap = c->cap != 0 ? c->cap * 2 : 64;
		c->f = realloc(c->f, c->cap * sizeof(*c->f));
		assert_non_null(c->f);
	}
	fr = &c->f[c->n++];
	memset(fr, 0, sizeof(*fr));
	uint8_t *e = fr->data, *ip = e + 14, *tcp = ip + 20;

	memcpy(e, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(40 + len));
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, from->ip, 4);
	memcpy(ip + 16, to->ip, 4);
	put16(ip + 10, decode_csum_fold(decode_csum_add(0, ip, 20)));
	put16(tcp, from->port);
	put16(tcp + 2, to->port);
	put32(tcp + 4, from->seq);
	put32(tcp + 8, (flags & TCP_ACK) ? to->seq : 0);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	put16(tcp + 14, 65535);
	if (len > 0)
		memcpy(tcp + 20, payload, len);
	fr->len = (uint16_t)(54 + len);
	fr->ts_us = c->now_us;
	c->now_us += 1000;
	from->seq += (uint32_t)len + ((flags & (TCP_SYN | TCP_FIN)) != 0);
}

static void
send_all(struct capture *c, struct peer *from, const struct peer *to, const char *s)
{
	size_t len = strlen(s);

	for (size_t off = 0; off < len; off += SNAP)
		segment(c, from, to, TCP_ACK | TCP_PSH, s + off,
			len - off < SNAP ? len - off : SNAP);
}

/* The message, and as the client sends it after DATA: dot-stuffed */
#define MESSAGE_HEAD "From: x@y.example\r\nTo: a@x.example\r\nSubject: Free money\r\n\r\nfirst\r\n"
static const char message[] = MESSAGE_HEAD ".\r\n..x\r\nafter the dot line\r\n";
static const char message_stuffed[] = MESSAGE_HEAD "..\r\n...x\r\nafter the dot line\r\n";

/* The steps of one session: 0 handshake, 1..n dialogue, then the close. */
static void
session_step(struct capture *c, struct peer *cl, struct peer *sv, unsigned step,
	     const char *mail_from)
{
	char mail[128];

	snprintf(mail, sizeof(mail), "MAIL FROM:<%s>\r\n", mail_from);
	switch (step) {
	case 0:
		segment(c, cl, sv, TCP_SYN, NULL, 0);
		segment(c, sv, cl, TCP_SYN | TCP_ACK, NULL, 0);
		segment(c, cl, sv, TCP_ACK, NULL, 0);
		break;
	case 1:
		send_all(c, sv, cl, "220 mx ESMTP\r\n");
		send_all(c, cl, sv, "EHLO client.example\r\n");
		send_all(c, sv, cl, "250-mx\r\n250 PIPELINING\r\n");
		break;
	case 2:
		send_all(c, cl, sv, mail);
		send_all(c, sv, cl, "250 ok\r\n");
		send_all(c, cl, sv, "RCPT TO:<a@x.example>\r\n");
		send_all(c, sv, cl, "250 ok\r\n");
		send_all(c, cl, sv, "DATA\r\n");
		send_all(c, sv, cl, "354 go\r\n");
		break;
	case 3:
		send_all(c, cl, sv, message_stuffed);
		send_all(c, cl, sv, ".\r\n");
		send_all(c, sv, cl, "250 queued\r\n");
		send_all(c, cl, sv, "QUIT\r\n");
		send_all(c, sv, cl, "221 bye\r\n");
		break;
	default:
		segment(c, sv, cl, TCP_FIN | TCP_ACK, NULL, 0);
		segment(c, cl, sv, TCP_FIN | TCP_ACK, NULL, 0);
		segment(c, sv, cl, TCP_ACK, NULL, 0);
		break;
	}
}

static void
one_session(struct capture *c, bool handshake)
{
	struct peer cl = { { 10, 0, 0, 1 }, 40001, 1000 }, sv = { { 10, 0, 0, 2 }, 25, 90000 };

	for (unsigned step = handshake ? 0 : 1; step <= 4; step++)
		session_step(c, &cl, &sv, step, "bounce@r.example");
}

/* What the capture's one transaction fires: the message, plus RCPT a@x, the HELO, MAIL FROM. */
#define SESSION_SIDS M(1, 2, 3, 4, 8, 9)

struct out {
	uint8_t *p;
	size_t len, cap;
};

static void
out_put(struct out *o, const void *p, size_t n)
{
	if (o->len + n > o->cap) {
		o->cap = (o->len + n) * 2;
		o->p = realloc(o->p, o->cap);
		assert_non_null(o->p);
	}
	memcpy(o->p + o->len, p, n);
	o->len += n;
}

static void
out32(struct out *o, uint32_t v, bool be)
{
	uint8_t b[4];

	if (be)
		put32(b, v);
	else
		memcpy(b, &v, 4);
	out_put(o, b, 4);
}

static void
out16(struct out *o, uint16_t v, bool be)
{
	uint8_t b[2];

	if (be)
		put16(b, v);
	else
		memcpy(b, &v, 2);
	out_put(o, b, 2);
}

/* Classic pcap; the writer's own byte order is emulated by `be`. */
static struct out
write_pcap(const struct capture *c, bool be, bool ns, uint32_t linktype)
{
	struct out o = { 0 };

	out32(&o, ns ? 0xa1b23c4du : 0xa1b2c3d4u, be);
	out16(&o, 2, be);
	out16(&o, 4, be);
	out32(&o, 0, be);
	out32(&o, 0, be);
	out32(&o, 65535, be);
	out32(&o, linktype, be);
	for (size_t i = 0; i < c->n; i++) {
		uint64_t t = c->f[i].ts_us + UINT64_C(1717408800000000);

		out32(&o, (uint32_t)(t / 1000000), be);
		out32(&o, (uint32_t)(t % 1000000) * (ns ? 1000 : 1), be);
		out32(&o, c->f[i].len, be);
		out32(&o, c->f[i].len, be);
		out_put(&o, c->f[i].data, c->f[i].len);
	}
	return o;
}

/* pcapng: a section, a name-resolution block to skip, an Ethernet interface with nanosecond
 * timestamps, and the packets as enhanced (or simple) packet blocks. */
static struct out
write_pcapng(const struct capture *c, bool be, bool simple)
{
	static const uint8_t zero[4];
	struct out o = { 0 };

	out32(&o, 0x0a0d0d0a, be);
	out32(&o, 28, be);
	out32(&o, 0x1a2b3c4d, be);
	out16(&o, 1, be);
	out16(&o, 0, be);
	out32(&o, 0xffffffff, be);
	out32(&o, 0xffffffff, be);
	out32(&o, 28, be);
	/* name resolution block: nrb_record_end only */
	out32(&o, 4, be);
	out32(&o, 16, be);
	out32(&o, 0, be);
	out32(&o, 16, be);
	/* interface: Ethernet, snaplen 0, if_tsresol 9, opt_endofopt */
	out32(&o, 1, be);
	out32(&o, 32, be);
	out16(&o, 1, be);
	out16(&o, 0, be);
	out32(&o, 0, be);
	out16(&o, 9, be);
	out16(&o, 1, be);
	out_put(&o, "\x09\0\0\0", 4);
	out32(&o, 0, be);
	out32(&o, 32, be);
	for (size_t i = 0; i < c->n; i++) {
		uint32_t len = c->f[i].len, pad = (4 - len % 4) % 4;
		uint64_t t = (c->f[i].ts_us + UINT64_C(1717408800000000)) * 1000;

		if (simple) {
			out32(&o, 3, be);
			out32(&o, 16 + len + pad, be);
			out32(&o, len, be);
			out_put(&o, c->f[i].data, len);
			out_put(&o, zero, pad);
			out32(&o, 16 + len + pad, be);
			continue;
		}
		out32(&o, 6, be);
		out32(&o, 32 + len + pad, be);
		out32(&o, 0, be);
		out32(&o, (uint32_t)(t >> 32), be);
		out32(&o, (uint32_t)t, be);
		out32(&o, len, be);
		out32(&o, len, be);
		out_put(&o, c->f[i].data, len);
		out_put(&o, zero, pad);
		out32(&o, 32 + len + pad, be);
	}
	return o;
}

static void
check_one_session(struct fixture *fx, struct out o)
{
	assert_int_equal(run(fx, o.p, o.len), 0);
	assert_string_equal(fx->err, "");
	assert_int_equal(fx->seen.n, 1);
	assert_string_equal(fx->seen.mail_from[0], "bounce@r.example");
	assert_string_equal(fx->seen.subject[0], "Free money");
	assert_int_equal(mask(&fx->seen, 0), SESSION_SIDS);
	free(o.p);
}

static void
test_capture_formats(void **state)
{
	struct fixture *fx = *state;
	struct capture c = { 0 };

	one_session(&c, true);
	check_one_session(fx, write_pcap(&c, false, false, 1));
	check_one_session(fx, write_pcap(&c, true, false, 1));
	check_one_session(fx, write_pcap(&c, false, true, 1));
	check_one_session(fx, write_pcap(&c, true, true, 1));
	check_one_session(fx, write_pcapng(&c, false, false));
	check_one_session(fx, write_pcapng(&c, true, false));
	check_one_session(fx, write_pcapng(&c, false, true));
	check_one_session(fx, write_pcapng(&c, true, true));
	free(c.f);

	/* picked up mid-stream: no SYN, the client is the side talking to port 25 */
	memset(&c, 0, sizeof(c));
	one_session(&c, false);
	check_one_session(fx, write_pcap(&c, false, false, 1));
	free(c.f);
}

/* Same transaction through the capture and through the message: one path. */
static void
test_capture_agrees_with_eml(void **state)
{
	struct fixture *fx = *state;
	char eml[512];

	snprintf(eml, sizeof(eml), "Return-Path: <bounce@r.example>\r\n%s", message);
	assert_int_equal(run_str(fx, eml), 0);
	assert_int_equal(fx->seen.n, 1);
	assert_int_equal(mask(&fx->seen, 0), SESSION_SIDS);
}

static void
test_capture_unsupported_link(void **state)
{
	struct fixture *fx = *state;
	struct capture c = { 0 };
	struct out o;

	one_session(&c, true);
	o = write_pcap(&c, false, false, 147); /* LINKTYPE_USER0 */
	assert_int_equal(run(fx, o.p, o.len), -ENOTSUP);
	assert_non_null(strstr(fx->err, "147"));
	free(o.p);
	free(c.f);
}

/* Where the records of a capture written above end (the header's end first). */
static size_t
boundaries(const struct capture *c, bool ng, size_t *at)
{
	size_t n = 0, off = ng ? 28 + 16 + 32 : 24;

	if (ng) {
		at[n++] = 28;           /* the section header */
		at[n++] = 28 + 16;      /* the name resolution block */
	}
	at[n++] = off;
	for (size_t i = 0; i < c->n; i++) {
		off += ng ? 32u + c->f[i].len + (4u - c->f[i].len % 4u) % 4u : 16u + c->f[i].len;
		at[n++] = off;
	}
	return n;
}

/* A capture cut anywhere: never more than what was there, never a crash, and a warning
 * exactly when the cut falls inside a record. */
static void
test_capture_cut_everywhere(void **state)
{
	struct fixture *fx = *state;
	struct capture c = { 0 };
	struct out outs[2];
	size_t *at;

	one_session(&c, true);
	at = calloc(c.n + 3, sizeof(*at));
	assert_non_null(at);
	outs[0] = write_pcap(&c, false, false, 1);
	outs[1] = write_pcapng(&c, true, false);
	for (unsigned k = 0; k < 2; k++) {
		size_t n_at = boundaries(&c, k == 1, at), next = 0;

		assert_int_equal(at[n_at - 1], outs[k].len);
		for (size_t cut = 0; cut < outs[k].len; cut++) {
			uint8_t *copy = malloc(cut != 0 ? cut : 1); /* exactly cut bytes readable */
			size_t min_len = k == 0 ? 24 : 12;       /* below: not recognised */
			int rc;

			assert_non_null(copy);
			memcpy(copy, outs[k].p, cut);
			rc = run(fx, copy, cut);
			free(copy);
			while (next < n_at && at[next] < cut)
				next++;
			if (cut < min_len) {
				assert_int_equal(rc, -EINVAL);
				continue;
			}
			assert_int_equal(rc, 0);
			assert_true(fx->seen.n <= 1);
			if (next < n_at && at[next] == cut)
				assert_string_equal(fx->err, "");
			else if (fx->err[0] == 0)
				fail_msg("format %u cut at %zu: no warning", k, cut);
		}
		check_one_session(fx, outs[k]);
	}
	free(at);
	free(c.f);
}

static void
test_capture_corrupt_record(void **state)
{
	struct fixture *fx = *state;
	struct capture c = { 0 };
	struct out o;

	one_session(&c, true);
	o = write_pcap(&c, false, false, 1);
	/* the last record (the final ACK) claims 16 MB */
	size_t last = o.len - c.f[c.n - 1].len - 16;

	memcpy(o.p + last + 8, "\x00\x00\x00\x01", 4);
	assert_int_equal(run(fx, o.p, o.len), 0);
	assert_non_null(strstr(fx->err, "corrupt record"));
	assert_int_equal(fx->seen.n, 1);
	assert_int_equal(mask(&fx->seen, 0), SESSION_SIDS);
	free(o.p);
	free(c.f);
}

/* Two interleaved sessions, the second finishing first: reported in the order they began. */
static void
test_capture_input_order(void **state)
{
	struct fixture *fx = *state;
	struct capture c = { 0 };
	struct peer a = { { 10, 0, 0, 1 }, 40001, 1000 }, b = { { 10, 0, 0, 3 }, 40003, 5000 };
	struct peer sa = { { 10, 0, 0, 2 }, 25, 90000 }, sb = { { 10, 0, 0, 2 }, 25, 70000 };
	struct out o;

	session_step(&c, &a, &sa, 0, "first@r.example");
	session_step(&c, &a, &sa, 1, "first@r.example");
	for (unsigned step = 0; step <= 4; step++)
		session_step(&c, &b, &sb, step, "second@r.example");
	for (unsigned step = 2; step <= 4; step++)
		session_step(&c, &a, &sa, step, "first@r.example");
	o = write_pcap(&c, false, false, 1);
	assert_int_equal(run(fx, o.p, o.len), 0);
	assert_int_equal(fx->seen.n, 2);
	assert_string_equal(fx->seen.mail_from[0], "first@r.example");
	assert_string_equal(fx->seen.mail_from[1], "second@r.example");
	free(o.p);
	free(c.f);
}

/*
 * Flows expire by capture time with the config's timeouts, as on a worker: a session that
 * pauses past flow_idle_timeout (300 s) after its EHLO is picked up again mid-stream, without
 * the HELO (sid 8). Checked in every timestamp unit the formats carry.
 */
static void
test_capture_idle_timeout(void **state)
{
	struct fixture *fx = *state;
	static const uint64_t pause_s[] = { 200, 301 };

	for (unsigned p = 0; p < 2; p++) {
		struct peer cl = { { 10, 0, 0, 1 }, 40001, 1000 };
		struct peer sv = { { 10, 0, 0, 2 }, 25, 90000 };
		struct capture c = { 0 };
		uint32_t want = p == 0 ? SESSION_SIDS : SESSION_SIDS & ~M(8);
		struct out o[3];

		session_step(&c, &cl, &sv, 0, "bounce@r.example");
		session_step(&c, &cl, &sv, 1, "bounce@r.example");
		c.now_us += pause_s[p] * 1000000;
		for (unsigned step = 2; step <= 4; step++)
			session_step(&c, &cl, &sv, step, "bounce@r.example");
		o[0] = write_pcap(&c, false, false, 1);
		o[1] = write_pcap(&c, true, true, 1);
		o[2] = write_pcapng(&c, false, false);
		for (unsigned k = 0; k < 3; k++) {
			assert_int_equal(run(fx, o[k].p, o[k].len), 0);
			assert_int_equal(fx->seen.n, 1);
			assert_int_equal(mask(&fx->seen, 0), want);
			free(o[k].p);
		}
		free(c.f);
	}
}

/* ---- the command ---- */

typedef int (*command_fn)(int argc, char **argv, const struct postern_config *cfg);

static int main_capture_fn(struct fixture *fx, command_fn fn, char *out, size_t cap, int argc,
			   char **argv);

/* rules_test_main() with stdout in a file; returns the status, the output in out. */
static int
main_capture(struct fixture *fx, char *out, size_t cap, int argc, char **argv)
{
	return main_capture_fn(fx, rules_test_main, out, cap, argc, argv);
}

static int
main_capture_fn(struct fixture *fx, command_fn fn, char *out, size_t cap, int argc,
		char **argv)
{
	char path[128];
	int fd, saved, status;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/stdout", fx->dir);
	fflush(stdout);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	saved = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	status = fn(argc, argv, &fx->cfg);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	n = pread(fd, out, cap - 1, 0);
	out[n > 0 ? n : 0] = 0;
	close(fd);
	return status;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_main(void **state)
{
	struct fixture *fx = *state;
	char pos[128], neg[128], junk[128], badpack[128], out[4096], expect[512];
	json_error_t jerr;

	snprintf(pos, sizeof(pos), "%s/pos.eml", fx->dir);
	snprintf(neg, sizeof(neg), "%s/neg.eml", fx->dir);
	snprintf(junk, sizeof(junk), "%s/junk.bin", fx->dir);
	snprintf(badpack, sizeof(badpack), "%s/bad.rules", fx->dir);
	write_file(pos, "From: x@y.example\nTo: a@x.example\nSubject: FREE MONEY\n\nHi.\n");
	write_file(neg, "From: x@y.example\nTo: b@x.example\nSubject: money\n\nHi.\n");
	write_file(junk, "\x01\x02 not a message\n");
	write_file(badpack, "alert smtp any any -> any any (msg:\"x\"; sid:1;\n");

	char *ok_argv[] = { "test", fx->pack, pos, neg, NULL };

	assert_int_equal(main_capture(fx, out, sizeof(out), 4, ok_argv), 0);
	snprintf(expect, sizeof(expect), "%s#1: 1:1:2 1:4:1 1:8:1\n%s#1: 1:8:1\n", pos, neg);
	/* alerts come in rule order */
	assert_string_equal(out, expect);

	char *json_argv[] = { "test", "--json", fx->pack, pos, NULL };

	assert_int_equal(main_capture(fx, out, sizeof(out), 4, json_argv), 0);
	json_t *j = json_loads(out, 0, &jerr);

	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "input")), pos);
	assert_int_equal(json_integer_value(json_object_get(j, "tx")), 1);
	assert_string_equal(json_string_value(json_object_get(j, "mail_from")), "x@y.example");
	assert_string_equal(json_string_value(json_object_get(j, "subject")), "FREE MONEY");
	json_t *fired = json_object_get(j, "fired");

	assert_int_equal(json_array_size(fired), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(fired, 0), "rev")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(fired, 2), "action")),
			    "drop");
	/* no rule of this pack sets a reserved flowbit: the list is there, empty */
	assert_int_equal(json_array_size(json_object_get(j, "marks")), 0);
	json_decref(j);

	/* a noalert fact rule fires nothing, its mark shows */
	char marks_pack[300], *marks_argv[] = { "test", "--json", marks_pack, pos, NULL };

	snprintf(marks_pack, sizeof(marks_pack), "%s/marks.rules", fx->dir);
	write_file(marks_pack, "alert smtp any any -> any any (msg:\"m\"; email.subject; "
			       "content:\"FREE\"; flowbits:set,postern.commercial; "
			       "flowbits:noalert; sid:30;)\n");
	assert_int_equal(main_capture(fx, out, sizeof(out), 4, marks_argv), 0);
	j = json_loads(out, 0, &jerr);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "fired")), 0);
	assert_int_equal(json_array_size(json_object_get(j, "marks")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "marks"), 0)),
			    "postern.commercial");
	json_decref(j);

	/* an unrecognised or missing input: named, status 2, the others still run */
	char *junk_argv[] = { "test", fx->pack, junk, "/nonexistent/x.eml", pos, NULL };

	assert_int_equal(main_capture(fx, out, sizeof(out), 5, junk_argv), 2);
	snprintf(expect, sizeof(expect), "%s#1: 1:1:2 1:4:1 1:8:1\n", pos);
	assert_string_equal(out, expect);

	char *bad_argv[] = { "test", badpack, pos, NULL };

	assert_int_equal(main_capture(fx, out, sizeof(out), 3, bad_argv), 1);
	assert_string_equal(out, "");

	char *usage_argv[] = { "test", fx->pack, NULL };

	assert_int_equal(main_capture(fx, out, sizeof(out), 2, usage_argv), 2);
	char *opt_argv[] = { "test", "--nope", fx->pack, pos, NULL };

	assert_int_equal(main_capture(fx, out, sizeof(out), 4, opt_argv), 2);
}

/* Several packs together: rules test --pack ... and rules check PACK PACK. */
static void
test_main_packs(void **state)
{
	struct fixture *fx = *state;
	char pos[128], extra[128], dup[128], spaced[128], out[4096], expect[1024];

	snprintf(pos, sizeof(pos), "%s/pos.eml", fx->dir);
	snprintf(extra, sizeof(extra), "%s/extra.rules", fx->dir);
	snprintf(dup, sizeof(dup), "%s/dup.rules", fx->dir);
	snprintf(spaced, sizeof(spaced), "%s/a b.rules", fx->dir);
	write_file(pos, "From: x@y.example\nTo: a@x.example\nSubject: FREE MONEY\n\nHi.\n");
	/* sid 20 is checked by a flowbit the first rule of this pack sets */
	write_file(extra, "alert smtp any any -> any any (msg:\"mark\"; email.subject; "
			  "content:\"FREE\"; flowbits:set,free; flowbits:noalert; sid:21;)\n"
			  "alert smtp any any -> any any (msg:\"free to a\"; smtp.rcpt_to; "
			  "content:\"a@x\"; flowbits:isset,free; sid:20;)\n");
	write_file(dup, "\nalert smtp any any -> any any (msg:\"again\"; email.subject; "
			"content:\"y\"; sid:4;)\n");
	write_file(spaced, "");

	char *packs_argv[] = { "test", "--pack", fx->pack, "--pack", extra, pos, NULL };

	assert_int_equal(main_capture(fx, out, sizeof(out), 6, packs_argv), 0);
	snprintf(expect, sizeof(expect), "%s#1: 1:1:2 1:4:1 1:8:1 1:20:1\n", pos);
	assert_string_equal(out, expect);

	/* the other order: the same alerts, sid 20 still last (a flowbits reader is evaluated
	 * after the rules that set it, whichever pack comes first) */
	char *rev_argv[] = { "test", "--pack", extra, "--pack", fx->pack, pos, NULL };

	assert_int_equal(main_capture(fx, out, sizeof(out), 6, rev_argv), 0);
	assert_string_equal(out, expect);

	/* with --pack, every positional is an input: none is a usage error */
	char *noinput_argv[] = { "test", "--pack", extra, NULL };

	assert_int_equal(main_capture(fx, out, sizeof(out), 3, noinput_argv), 2);

	/* a sid in two packs: the set does not build */
	char *dup_argv[] = { "test", "--pack", fx->pack, "--pack", dup, pos, NULL };

	assert_int_equal(main_capture(fx, out, sizeof(out), 6, dup_argv), 1);
	assert_string_equal(out, "");

	/* a path that would split the list is refused, not misread */
	char *spaced_argv[] = { "test", "--pack", spaced, pos, NULL };

	assert_int_equal(main_capture(fx, out, sizeof(out), 4, spaced_argv), 2);

	/* rules check: any number of packs, none meaning the config's list */
	char *check_argv[] = { "rules", "check", fx->pack, extra, NULL };

	assert_int_equal(main_capture_fn(fx, cmd_rules, out, sizeof(out), 4, check_argv), 0);
	snprintf(expect, sizeof(expect), "%s %s: 11 rules (0 left out)", fx->pack, extra);
	assert_non_null(strstr(out, expect));

	char *check_dup_argv[] = { "rules", "check", fx->pack, dup, NULL };

	assert_int_equal(main_capture_fn(fx, cmd_rules, out, sizeof(out), 4, check_dup_argv), 1);
	assert_string_equal(out, "");

	char *check_cfg_argv[] = { "rules", "check", NULL };

	snprintf(fx->cfg.rules, sizeof(fx->cfg.rules), "%s,%s", extra, fx->pack);
	assert_int_equal(main_capture_fn(fx, cmd_rules, out, sizeof(out), 2, check_cfg_argv), 0);
	snprintf(expect, sizeof(expect), "%s,%s: 11 rules (0 left out)", extra, fx->pack);
	assert_non_null(strstr(out, expect));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test_setup_teardown(test_unrecognised, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eml_envelope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eml_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eml_dot_stuffing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capture_formats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capture_agrees_with_eml, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capture_unsupported_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capture_cut_everywhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capture_corrupt_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capture_input_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capture_idle_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_main, setup, teardown),
		cmocka_unit_test_setup_teardown(test_main_packs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
