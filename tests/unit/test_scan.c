/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the rule engine end to end below the SMTP layer: rules parsed
 * (control/rule_parse.c), compiled (control/rule_compile.c), loaded by the dataplane
 * (dataplane/scan.c), values scanned in block mode and bodies in stream mode, then
 * scan_eval() deciding which sids fire. Each case is a rule's meaning checked on real bytes:
 * positions, relative chains, pcre with and without PCRE2 confirmation, flowbits in stage
 * order, noalert, addresses and ports with variables, flow direction, negation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buffer_id.h"
#include "gen_format.h"
#include "netset.h"
#include "rule_compile.h"
#include "rule_parse.h"
#include "scan.h"

static char err[8192];

struct engine {
	struct rule_set *rs;
	struct scan_gen *g;
	struct scan_matches m;
	uint8_t client[16], server[16];
	uint16_t client_port, server_port;
	char fired[256];      /* "sid,sid" in firing order */
	bool passed;          /* a pass rule matched */
};

static void
v4(uint8_t out[16], uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	const uint8_t ip[4] = { a, b, c, d };

	netset_ip_from_v4(ip, out);
}

static void
engine_load(struct engine *e, const char *rules, const char *vars)
{
	struct netset_vars *nv = NULL;
	void *blob = NULL;
	size_t len = 0;

	memset(e, 0, sizeof(*e));
	e->rs = rule_set_parse_buffer("t.rules", rules, strlen(rules), NULL, err, sizeof(err));
	if (e->rs == NULL)
		fail_msg("parse: %s", err);
	if (vars != NULL) {
		nv = netset_vars_parse_buffer("vars.conf", vars, strlen(vars), err, sizeof(err));
		if (nv == NULL)
			fail_msg("vars: %s", err);
	}
	if (rule_compile(e->rs, nv, 1, &blob, &len, err, sizeof(err)) != 0)
		fail_msg("compile: %s", err);
	netset_vars_destroy(nv);
	e->g = scan_gen_load(blob, len, 1, err, sizeof(err));
	free(blob);
	if (e->g == NULL)
		fail_msg("load: %s", err);
	v4(e->client, 10, 1, 2, 3);
	v4(e->server, 10, 9, 9, 9);
	e->client_port = 40000;
	e->server_port = 25;
	scan_matches_reset(&e->m);
}

static void
engine_free(struct engine *e)
{
	scan_gen_destroy(e->g);
	rule_set_destroy(e->rs);
}

static void
block(struct engine *e, enum buffer_id buf, const char *value)
{
	assert_int_equal(scan_block(e->g, 0, buf, (const uint8_t *)value, strlen(value), &e->m), 0);
}

/* A body written in pieces of `piece` bytes: a match across writes must still count. */
static void
stream(struct engine *e, enum buffer_id buf, const char *body, size_t piece)
{
	struct hs_stream *st = scan_stream_open(e->g, buf);
	size_t n = strlen(body);

	assert_non_null(st);
	for (size_t off = 0; off < n; off += piece)
		assert_int_equal(scan_stream_write(e->g, 0, st, (const uint8_t *)body + off,
						   n - off < piece ? n - off : piece, &e->m),
				 0);
	assert_int_equal(scan_stream_close(e->g, 0, st, &e->m), 0);
}

static void
on_fired(void *ctx, const struct gen_rule *r)
{
	struct engine *e = ctx;
	size_t o = strlen(e->fired);

	snprintf(e->fired + o, sizeof(e->fired) - o, "%s%u", o > 0 ? "," : "", r->sid);
}

/* Evaluate and start a new transaction: the sids that fired, in order. */
static const char *
judge(struct engine *e)
{
	struct scan_flow f = {
		.client_ip = e->client, .server_ip = e->server,
		.client_port = e->client_port, .server_port = e->server_port,
	};

	e->fired[0] = '\0';
	e->passed = false;
	scan_eval(e->g, 0, &e->m, &f, on_fired, e, &e->passed);
	scan_matches_reset(&e->m);
	return e->fired;
}

#define R(body) "alert smtp any any -> any any (msg:\"m\"; " body ")\n"

static void
test_positions(void **state)
{
	(void)state;
	struct engine e;

	engine_load(&e, R("email.subject; content:\"abc\"; depth:5; sid:1;")
			R("email.subject; content:\"abc\"; offset:2; sid:2;")
			R("email.subject; content:\"ab\"; startswith; sid:3;")
			R("email.subject; content:\"bc\"; endswith; sid:4;")
			R("email.subject; content:\"a\"; content:\"c\"; distance:1; within:2; sid:5;")
			R("email.subject; isdataat:5; sid:6;")
			R("email.subject; content:\"a\"; isdataat:!2,relative; sid:7;"),
		    NULL);
	block(&e, BUF_EMAIL_SUBJECT, "xxabc");
	assert_string_equal(judge(&e), "1,2,4,5");
	block(&e, BUF_EMAIL_SUBJECT, "xxxabc");
	assert_string_equal(judge(&e), "2,4,5,6");
	block(&e, BUF_EMAIL_SUBJECT, "abc");
	assert_string_equal(judge(&e), "1,3,4,5");
	/* c ends 3 after a: within counts from a's end plus distance, as in Suricata */
	block(&e, BUF_EMAIL_SUBJECT, "abxc--");
	assert_string_equal(judge(&e), "3,5,6");
	block(&e, BUF_EMAIL_SUBJECT, "abxxc-");
	assert_string_equal(judge(&e), "3,6");
	/* fewer than 2 bytes after the a */
	block(&e, BUF_EMAIL_SUBJECT, "zzza");
	assert_string_equal(judge(&e), "7");
	engine_free(&e);
}

static void
test_streamed_chain(void **state)
{
	(void)state;
	struct engine e;

	engine_load(&e, R("file.data; content:\"wire\"; nocase; content:\"transfer\"; "
			  "distance:1; within:9; sid:1;")
			R("file.data; content:\"--end\"; endswith; sid:2;")
			R("file.data; pcre:\"/account\\s+number\\s*:\\s*\\d{6,}/i\"; sid:3;"),
		    NULL);
	for (size_t piece = 1; piece <= 7; piece += 3) {
		stream(&e, BUF_FILE_DATA, "please WIRE  transfer to Account Number: 1234567 --end",
		       piece);
		assert_string_equal(judge(&e), "1,2,3");
		stream(&e, BUF_FILE_DATA, "wire me, then a transfer; account number 12345 --end.",
		       piece);
		assert_string_equal(judge(&e), "");
	}
	engine_free(&e);
}

/* A back-reference Hyperscan can only prefilter: PCRE2 confirms on the value. */
static void
test_pcre_confirmation(void **state)
{
	(void)state;
	struct engine e;

	engine_load(&e, R("email.subject; pcre:\"/\\b(\\w+) \\1\\b/\"; sid:1;")
			R("email.subject; content:\"re:\"; nocase; pcre:\"/^\\s*(\\w+)!\\1/R\"; sid:2;")
			R("email.x_mailer; pcre:\"/z*/\"; sid:3;"),
		    NULL);
	block(&e, BUF_EMAIL_SUBJECT, "free free money");
	assert_string_equal(judge(&e), "1");
	block(&e, BUF_EMAIL_SUBJECT, "free money");
	assert_string_equal(judge(&e), "");
	/* a later value confirms what an earlier one only prefiltered */
	block(&e, BUF_EMAIL_SUBJECT, "hello world");
	block(&e, BUF_EMAIL_SUBJECT, "bye bye");
	assert_string_equal(judge(&e), "1");
	block(&e, BUF_EMAIL_SUBJECT, "RE: go!go");
	assert_string_equal(judge(&e), "2");
	block(&e, BUF_EMAIL_SUBJECT, "RE: go!no");
	assert_string_equal(judge(&e), "");
	/* an expression that matches the empty string matches any value, even an empty one */
	block(&e, BUF_EMAIL_X_MAILER, "mailer");
	assert_string_equal(judge(&e), "3");
	block(&e, BUF_EMAIL_X_MAILER, "");
	assert_string_equal(judge(&e), "3");
	assert_int_equal(scan_block(e.g, 0, BUF_EMAIL_X_MAILER, NULL, 0, &e.m), 0);
	assert_string_equal(judge(&e), "3");
	assert_string_equal(judge(&e), "");
	engine_free(&e);
}

/* Setters run before testers whatever the file order; noalert sets without alerting. */
static void
test_flowbits(void **state)
{
	(void)state;
	struct engine e;

	engine_load(&e, R("email.subject; content:\"sale\"; flowbits:isset,commercial; sid:1;")
			R("flowbits:isnotset,commercial; flowbits:isset,seen; sid:2;")
			R("email.header; content:\"List-Unsubscribe:\"; flowbits:set,commercial; "
			  "flowbits:noalert; sid:3;")
			R("smtp.helo; content:\"h\"; flowbits:set,seen; noalert; sid:4;")
			R("email.subject; content:\"clearance\"; flowbits:toggle,commercial; sid:5;"),
		    NULL);
	/* 3 and 4 set their bits without an alert, then 1 sees commercial; 2 must not */
	block(&e, BUF_SMTP_HELO, "h");
	block(&e, BUF_EMAIL_HEADER, "List-Unsubscribe: <mailto:u@x>");
	block(&e, BUF_EMAIL_SUBJECT, "big sale");
	assert_string_equal(judge(&e), "1");
	/* a toggle is a setter too: it runs first, 1 after it */
	block(&e, BUF_SMTP_HELO, "h");
	block(&e, BUF_EMAIL_SUBJECT, "big clearance sale");
	assert_string_equal(judge(&e), "5,1");
	/* 2 has no atom: it is tried on every transaction */
	block(&e, BUF_SMTP_HELO, "h");
	assert_string_equal(judge(&e), "2");
	/* bits live for one transaction */
	block(&e, BUF_EMAIL_SUBJECT, "big sale");
	assert_string_equal(judge(&e), "");
	engine_free(&e);
}

static void
test_addresses_and_ports(void **state)
{
	(void)state;
	struct engine e;

	engine_load(&e,
		    "alert smtp $HOME_NET any -> $SMTP_SERVERS $SMTP_PORTS (msg:\"m\"; "
		    "smtp.helo; content:\"x\"; sid:1;)\n"
		    "alert smtp [10.0.0.0/8,!10.1.0.0/16] any -> any !25 (msg:\"m\"; smtp.helo; "
		    "content:\"x\"; sid:2;)\n"
		    "alert smtp 10.9.9.9 25 <> any any (msg:\"m\"; smtp.helo; content:\"x\"; "
		    "sid:3;)\n"
		    "alert tcp any 25 -> $HOME_NET any (msg:\"m\"; flow:to_client,established; "
		    "content:\"220 \"; startswith; sid:4;)\n",
		    "HOME_NET = [10.0.0.0/8]\nSMTP_SERVERS = 10.9.9.0/24\nSMTP_PORTS = [25,587]\n");
	block(&e, BUF_SMTP_HELO, "x");
	assert_string_equal(judge(&e), "1,3");
	e.server_port = 2525;
	block(&e, BUF_SMTP_HELO, "x");
	assert_string_equal(judge(&e), "");  /* 2: client in 10.1/16 */
	v4(e.client, 10, 2, 0, 1);
	block(&e, BUF_SMTP_HELO, "x");
	assert_string_equal(judge(&e), "2");
	v4(e.client, 192, 168, 1, 1);
	e.server_port = 25;
	block(&e, BUF_SMTP_HELO, "x");
	assert_string_equal(judge(&e), "3");

	/* the server's banner, seen to_client: src is the server */
	v4(e.client, 10, 1, 2, 3);
	stream(&e, BUF_STREAM_TO_CLIENT, "220 mx ESMTP\r\n", 5);
	assert_string_equal(judge(&e), "4");
	v4(e.client, 192, 168, 1, 1);
	stream(&e, BUF_STREAM_TO_CLIENT, "220 mx ESMTP\r\n", 5);
	assert_string_equal(judge(&e), "");
	engine_free(&e);
}

/* A rule of negations only fires on every transaction that lacks them. */
static void
test_negation(void **state)
{
	(void)state;
	struct engine e;

	engine_load(&e, R("email.from; content:!\"@corp.example\"; nocase; sid:1;")
			R("email.subject; pcre:!\"/^\\[ext\\]/i\"; email.subject; content:\"pay\"; "
			  "sid:2;"),
		    NULL);
	block(&e, BUF_EMAIL_FROM, "a@CORP.example");
	assert_string_equal(judge(&e), "");
	block(&e, BUF_EMAIL_FROM, "a@elsewhere.example");
	block(&e, BUF_EMAIL_SUBJECT, "please pay");
	assert_string_equal(judge(&e), "1,2");
	block(&e, BUF_EMAIL_SUBJECT, "[EXT] please pay");
	assert_string_equal(judge(&e), "1");
	engine_free(&e);
}

/* A pass rule that matches silences every rule of the transaction, drop included. */
static void
test_pass(void **state)
{
	(void)state;
	struct engine e;

	engine_load(&e, R("email.subject; content:\"invoice\"; sid:1;")
			"drop smtp any any -> any any (msg:\"m\"; email.from; content:\"@ext\"; "
			"sid:2;)\n"
			"pass smtp any any -> any any (msg:\"m\"; email.from; "
			"content:\"billing@ext.example\"; sid:3;)\n",
		    NULL);
	block(&e, BUF_EMAIL_SUBJECT, "your invoice");
	block(&e, BUF_EMAIL_FROM, "x@ext.example");
	assert_string_equal(judge(&e), "1,2");
	assert_false(e.passed);
	block(&e, BUF_EMAIL_SUBJECT, "your invoice");
	block(&e, BUF_EMAIL_FROM, "billing@ext.example");
	assert_string_equal(judge(&e), "");
	assert_true(e.passed);
	engine_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_streamed_chain),
		cmocka_unit_test(test_pcre_confirmation),
		cmocka_unit_test(test_flowbits),
		cmocka_unit_test(test_addresses_and_ports),
		cmocka_unit_test(test_negation),
		cmocka_unit_test(test_pass),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
