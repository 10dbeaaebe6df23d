/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the rule pack parser (control/rule_parse.c): every supported rule form parsed
 * into the exact struct fields, and every error class with its exact FILE:LINE:COL message.
 * Error cases name the byte they expect the column to point at (the first occurrence of a
 * marker string in the rule), so each expectation can be checked by eye.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buffer_id.h"
#include "classification.h"
#include "gen_format.h"
#include "rule_expr.h"
#include "rule_parse.h"

#define HDR "alert smtp any any -> any any ("
#define ERR_MAX 8192

static char err[ERR_MAX];

static struct rule_set *
parse_str(const char *text, const struct classification *cls)
{
	return rule_set_parse_buffer("t.rules", text, strlen(text), cls, err, sizeof(err));
}

static void
assert_content(const struct rule_match *c, enum buffer_id buf, bool nocase, bool negated,
	       const void *bytes, size_t len)
{
	assert_int_equal(c->buffer, buf);
	assert_int_equal(c->nocase, nocase);
	assert_int_equal(c->negated, negated);
	assert_int_equal(c->len, len);
	assert_memory_equal(c->bytes, bytes, len);
}

/* ------------------------------------------------------------------ good packs */

static const char good_pack[] =
	"# SPDX-License-Identifier: BSD-3-Clause\n"
	"   # an indented comment\n"
	"\n"
	"#alert smtp any any -> any any (msg:\"disabled\"; sid:9;)\n"
	/* line 5: the common form, every metadata keyword */
	"alert smtp any any -> any any (msg:\"POSTERN free money\"; email.subject; "
	"content:\"free money\"; nocase; reference:url,example.com/a; reference:cve,2024-1; "
	"classtype:social-engineering; priority:2; metadata:created_at 2024_06_03; "
	"metadata:signature_severity Major; gid:3; sid:1000001; rev:4;)\n"
	/* line 6: header forms, hex, negation, several buffers, defaults */
	"drop tcp $HOME_NET any <> [10.0.0.0/8, !10.1.0.0/16,192.168.1.1] [25,587,1000:2000,!1500] "
	"(msg:\"hex and negation\"; smtp.helo; content:\"a|0d 0a|b\"; email.from; "
	"content:!\"@corp.example\"; nocase; file.data; content:\"|00 FF|\"; sid:1000002;)\n"
	/* line 7: escapes, quoted ';', last option without ';', upper-case keyword, alias */
	"reject smtp !1.2.3.4 :1024 -> 2001:db8::/32 1024: (MSG:\"say \\\"hi\\\"\\; a \\\\ b\"; "
	"file_data; content:\"x;y\\\"z\\:\"; sid:1000003)\n"
	/* lines 8-10: one rule over three lines */
	"pass smtp [$A,[$B,1.2.3.0/255.255.255.0]] any -> 10.0.0.1-10.0.0.9 $SMTP_PORTS \\\n"
	"    (msg:\"multi line\"; smtp.mail_from; \\\n"
	"    content:\"bounce\"; sid:1000004; rev:2;)\n"
	/* line 11: every remaining buffer */
	"alert smtp any any -> any any (msg:\"all buffers\"; smtp.rcpt_to; content:\"r\"; "
	"email.to; content:\"t\"; email.cc; content:\"c\"; email.message_id; content:\"m\"; "
	"email.x_mailer; content:\"x\"; email.date; content:\"d\"; sid:1000005;)\n";

static void
test_good_pack(void **state)
{
	(void)state;
	struct rule_set *rs = parse_str(good_pack, NULL);
	const struct rule *r;

	assert_non_null(rs);
	assert_string_equal(err, "");
	assert_string_equal(rs->path, "t.rules");
	assert_int_equal(rs->n_rules, 5);

	r = &rs->rules[0];
	assert_int_equal(r->action, GEN_ACTION_ALERT);
	assert_int_equal(r->proto, RULE_PROTO_SMTP);
	assert_false(r->bidir);
	assert_string_equal(r->src, "any");
	assert_string_equal(r->sport, "any");
	assert_string_equal(r->dst, "any");
	assert_string_equal(r->dport, "any");
	assert_int_equal(r->gid, 3);
	assert_int_equal(r->sid, 1000001);
	assert_int_equal(r->rev, 4);
	assert_string_equal(r->msg, "POSTERN free money");
	assert_string_equal(r->classtype, "social-engineering");
	assert_int_equal(r->priority, 2);
	assert_int_equal(r->severity, 2);
	assert_string_equal(r->metadata, "created_at 2024_06_03, signature_severity Major");
	assert_int_equal(r->n_references, 2);
	assert_string_equal(r->references[0], "url,example.com/a");
	assert_string_equal(r->references[1], "cve,2024-1");
	assert_int_equal(r->line, 5);
	assert_int_equal(r->col, 1);
	assert_int_equal(r->n_matches, 1);
	assert_content(&r->matches[0], BUF_EMAIL_SUBJECT, true, false, "free money", 10);
	assert_int_equal(r->matches[0].line, 5);
	assert_int_equal(r->matches[0].col, 73);

	r = &rs->rules[1];
	assert_int_equal(r->action, GEN_ACTION_DROP);
	assert_int_equal(r->proto, RULE_PROTO_TCP);
	assert_true(r->bidir);
	assert_string_equal(r->src, "$HOME_NET");
	assert_string_equal(r->sport, "any");
	assert_string_equal(r->dst, "[10.0.0.0/8, !10.1.0.0/16,192.168.1.1]");
	assert_string_equal(r->dport, "[25,587,1000:2000,!1500]");
	assert_int_equal(r->gid, 1);
	assert_int_equal(r->sid, 1000002);
	assert_int_equal(r->rev, 1);
	assert_null(r->classtype);
	assert_int_equal(r->priority, 0);
	assert_int_equal(r->severity, 3);
	assert_null(r->metadata);
	assert_int_equal(r->n_references, 0);
	assert_int_equal(r->n_matches, 3);
	assert_content(&r->matches[0], BUF_SMTP_HELO, false, false, "a\r\nb", 4);
	assert_content(&r->matches[1], BUF_EMAIL_FROM, true, true, "@corp.example", 13);
	assert_content(&r->matches[2], BUF_FILE_DATA, false, false, "\x00\xff", 2);

	r = &rs->rules[2];
	assert_int_equal(r->action, GEN_ACTION_REJECT);
	assert_string_equal(r->src, "!1.2.3.4");
	assert_string_equal(r->sport, ":1024");
	assert_string_equal(r->dst, "2001:db8::/32");
	assert_string_equal(r->dport, "1024:");
	assert_string_equal(r->msg, "say \"hi\"; a \\ b");
	assert_int_equal(r->n_matches, 1);
	assert_content(&r->matches[0], BUF_FILE_DATA, false, false, "x;y\"z:", 6);
	assert_int_equal(r->sid, 1000003);
	assert_int_equal(r->sid_line, 7);
	assert_int_equal(r->sid_col, 110);

	r = &rs->rules[3];
	assert_int_equal(r->action, GEN_ACTION_PASS);
	assert_string_equal(r->src, "[$A,[$B,1.2.3.0/255.255.255.0]]");
	assert_string_equal(r->dst, "10.0.0.1-10.0.0.9");
	assert_string_equal(r->dport, "$SMTP_PORTS");
	assert_string_equal(r->msg, "multi line");
	assert_int_equal(r->line, 8);
	assert_int_equal(r->rev, 2);
	assert_content(&r->matches[0], BUF_SMTP_MAIL_FROM, false, false, "bounce", 6);
	assert_int_equal(r->matches[0].line, 10);
	assert_int_equal(r->matches[0].col, 5);
	assert_int_equal(r->sid_line, 10);
	assert_int_equal(r->sid_col, 23);

	r = &rs->rules[4];
	assert_int_equal(r->n_matches, 6);
	assert_content(&r->matches[0], BUF_SMTP_RCPT_TO, false, false, "r", 1);
	assert_content(&r->matches[1], BUF_EMAIL_TO, false, false, "t", 1);
	assert_content(&r->matches[2], BUF_EMAIL_CC, false, false, "c", 1);
	assert_content(&r->matches[3], BUF_EMAIL_MESSAGE_ID, false, false, "m", 1);
	assert_content(&r->matches[4], BUF_EMAIL_X_MAILER, false, false, "x", 1);
	assert_content(&r->matches[5], BUF_EMAIL_DATE, false, false, "d", 1);

	assert_ptr_equal(rule_set_find(rs, 3, 1000001), &rs->rules[0]);
	assert_ptr_equal(rule_set_find(rs, 1, 1000005), &rs->rules[4]);
	assert_null(rule_set_find(rs, 1, 1000001));
	assert_null(rule_set_find(rs, 3, 1000002));
	rule_set_destroy(rs);
}

/* The detection keywords land in struct rule_match as written; defaults stay off. */
static void
test_detection_keywords(void **state)
{
	(void)state;
	struct rule_set *rs = parse_str(
		"alert tcp any any -> any 25 (msg:\"m\"; content:\"EHLO\"; depth:4; offset:0; "
		"content:\"x\"; distance:2; within:9; nocase; fast_pattern:only; "
		"email.subject; content:\"s\"; isdataat:!10,relative; "
		"email.from; content:\"f\"; pcre:\"/a\\;b\\d+/ismxAGR\"; "
		"pkt_data; content:\"q\"; startswith; endswith; flow:established,to_server; "
		"flowbits:set,marketing; flowbits:noalert; threshold:type limit, track by_src, "
		"count 1, seconds 60; sid:1;)\n"
		"alert tcp any any -> any any (msg:\"c\"; flow:to_client; content:\"220\"; "
		"flowbits:isset,marketing; detection_filter:track by_dst, count 5, seconds 10; "
		"sid:2;)\n"
		"alert smtp any any -> any any (msg:\"only a test\"; flowbits:isnotset,x; sid:3;)\n",
		NULL);

	assert_non_null(rs);
	const struct rule *r = &rs->rules[0];
	const struct rule_match *m = r->matches;

	assert_int_equal(r->n_matches, 7);
	assert_int_equal(m[0].buffer, BUF_STREAM_TO_SERVER);
	assert_true(m[0].has_depth && m[0].has_offset && !m[0].relative);
	assert_int_equal(m[0].depth, 4);
	assert_int_equal(m[1].distance, 2);
	assert_int_equal(m[1].within, 9);
	assert_true(m[1].relative && m[1].nocase && m[1].fast_pattern);
	assert_int_equal(m[3].kind, RULE_MATCH_ISDATAAT);
	assert_int_equal(m[3].buffer, BUF_EMAIL_SUBJECT);
	assert_true(m[3].negated && m[3].relative);
	assert_int_equal(m[3].isdataat, 10);
	assert_int_equal(m[5].kind, RULE_MATCH_PCRE);
	assert_int_equal(m[5].buffer, BUF_EMAIL_FROM);
	assert_true(!m[5].negated && m[5].relative);
	assert_string_equal((const char *)m[5].bytes, "a;b\\d+");
	assert_int_equal(m[5].pcre_flags, RULE_PCRE_CASELESS | RULE_PCRE_DOTALL |
					  RULE_PCRE_MULTILINE | RULE_PCRE_EXTENDED |
					  RULE_PCRE_ANCHORED | RULE_PCRE_UNGREEDY);
	assert_int_equal(m[6].buffer, BUF_STREAM_TO_SERVER);
	assert_true(m[6].startswith && m[6].endswith);
	assert_int_equal(r->flow, RULE_FLOW_ESTABLISHED | RULE_FLOW_TO_SERVER);
	assert_true(r->noalert);
	assert_int_equal(r->n_flowbits, 1);
	assert_int_equal(r->flowbits[0].op, RULE_FB_SET);
	assert_string_equal(r->flowbits[0].name, "marketing");
	assert_int_equal(r->threshold.type, RULE_THRESHOLD_LIMIT);
	assert_int_equal(r->threshold.track, RULE_TRACK_BY_SRC);
	assert_int_equal(r->threshold.seconds, 60);
	assert_int_equal(r->detection_filter.type, RULE_THRESHOLD_NONE);

	r = &rs->rules[1];
	assert_int_equal(r->detection_filter.type, RULE_THRESHOLD_DETECTION_FILTER);
	assert_int_equal(r->detection_filter.count, 5);
	assert_int_equal(r->matches[0].buffer, BUF_STREAM_TO_CLIENT);
	assert_int_equal(r->n_atoms, 1);
	assert_int_equal(r->atoms[0].buffer, BUF_STREAM_TO_CLIENT);
	assert_false(r->noalert);
	r = &rs->rules[2];
	assert_int_equal(r->n_matches, 0);
	assert_int_equal(r->n_atoms, 0);
	assert_int_equal(r->flowbits[0].op, RULE_FB_ISNOTSET);
	rule_set_destroy(rs);
}

static void
test_crlf_and_empty(void **state)
{
	(void)state;
	const char crlf[] = "# c\r\n\r\n" HDR "msg:\"a\"; email.subject; content:\"b\"; sid:1;)\r\n"
			    HDR "msg:\"c\"; email.subject; \\\r\n content:\"d\"; sid:2;)\r\n";
	struct rule_set *rs = parse_str(crlf, NULL);

	assert_non_null(rs);
	assert_int_equal(rs->n_rules, 2);
	assert_string_equal(rs->rules[0].msg, "a");
	assert_content(&rs->rules[0].matches[0], BUF_EMAIL_SUBJECT, false, false, "b", 1);
	assert_int_equal(rs->rules[0].line, 3);
	assert_content(&rs->rules[1].matches[0], BUF_EMAIL_SUBJECT, false, false, "d", 1);
	assert_int_equal(rs->rules[1].matches[0].line, 5);
	assert_int_equal(rs->rules[1].matches[0].col, 2);
	rule_set_destroy(rs);

	/* a pack with no rules is valid: it runs nothing */
	rs = parse_str("# nothing here\n\n   \n", NULL);
	assert_non_null(rs);
	assert_int_equal(rs->n_rules, 0);
	assert_null(rule_set_find(rs, 1, 1));
	rule_set_destroy(rs);
	rs = parse_str("", NULL);
	assert_non_null(rs);
	assert_int_equal(rs->n_rules, 0);
	rule_set_destroy(rs);

	/* quoted numbers, blanks around values, more address forms */
	rs = parse_str("alert smtp [::1/128,10.0.0.1-10.0.0.2,1.2.3.4/255.0.0.0] [0,65535,0:] -> "
		       "!$H any (msg:\"a\" ; email.subject ;content: \"b\" ; sid: \"7\" ; "
		       "rev:\"0\";gid: 0)",
		       NULL);
	if (rs == NULL)
		fail_msg("%s", err);
	assert_int_equal(rs->rules[0].sid, 7);
	assert_int_equal(rs->rules[0].rev, 0);
	assert_int_equal(rs->rules[0].gid, 0);
	assert_string_equal(rs->rules[0].msg, "a");
	assert_content(&rs->rules[0].matches[0], BUF_EMAIL_SUBJECT, false, false, "b", 1);
	rule_set_destroy(rs);

	/* a continuation at the end of the file still ends the rule */
	rs = parse_str(HDR "msg:\"e\"; email.subject; content:\"f\"; sid:3;) \\", NULL);
	assert_non_null(rs);
	assert_int_equal(rs->n_rules, 1);
	rule_set_destroy(rs);
}

/* The message layer's buffers: URLs and file names, each a sticky buffer of its own. */
static void
test_message_buffers(void **state)
{
	(void)state;
	static const char text[] =
		HDR "msg:\"u\"; email.url; content:\"pay.example\"; file.name; "
		"content:\".exe\"; nocase; sid:7;)\n";
	struct rule_set *rs = rule_set_parse_buffer("t.rules", text, sizeof(text) - 1, NULL, err,
						    sizeof(err));

	if (rs == NULL)
		fail_msg("%s", err);
	const struct rule *r = rule_set_find(rs, 1, 7);

	assert_non_null(r);
	assert_content(&r->matches[0], BUF_EMAIL_URL, false, false, "pay.example", 11);
	assert_content(&r->matches[1], BUF_FILE_NAME, true, false, ".exe", 4);
	rule_set_destroy(rs);
}

/* Many rules: the (gid,sid) index grows and still finds every one of them. */
static void
test_many_rules(void **state)
{
	(void)state;
	const uint32_t n = 3000;
	size_t cap = (size_t)n * 128, len = 0;
	char *text = malloc(cap);
	struct rule_set *rs;

	assert_non_null(text);
	for (uint32_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len,
					HDR "msg:\"r%u\"; email.subject; content:\"c%u\"; sid:%u;)\n",
					i, i, 1000 + i);
	rs = rule_set_parse_buffer("t.rules", text, len, NULL, err, sizeof(err));
	assert_non_null(rs);
	assert_int_equal(rs->n_rules, n);
	for (uint32_t i = 0; i < n; i++) {
		const struct rule *r = rule_set_find(rs, 1, 1000 + i);

		assert_non_null(r);
		assert_int_equal(r->sid, 1000 + i);
		assert_int_equal(r->line, i + 1);
	}
	assert_null(rule_set_find(rs, 1, 1000 + n));
	rule_set_destroy(rs);
	free(text);
}

static void
test_severity_with_classification(void **state)
{
	(void)state;
	const char cls_text[] = "config classification: policy-violation,Potential Corporate "
				"Privacy Violation,1\n"
				"config classification: misc-activity,Misc activity,3\n";
	struct classification *cls;
	struct rule_set *rs;

	cls = classification_parse_buffer("c.config", cls_text, strlen(cls_text), err, sizeof(err));
	assert_non_null(cls);
	rs = parse_str(HDR "msg:\"a\"; email.subject; content:\"a\"; classtype:policy-violation; sid:1;)\n"
		       HDR "msg:\"b\"; email.subject; content:\"b\"; classtype:misc-activity; priority:2; sid:2;)\n"
		       HDR "msg:\"c\"; email.subject; content:\"c\"; sid:3;)\n"
		       HDR "msg:\"d\"; email.subject; content:\"d\"; priority:4; sid:4;)\n",
		       cls);
	assert_non_null(rs);
	assert_int_equal(rule_set_find(rs, 1, 1)->severity, 1);
	assert_int_equal(rule_set_find(rs, 1, 2)->severity, 2);
	assert_int_equal(rule_set_find(rs, 1, 3)->severity, 3);
	assert_int_equal(rule_set_find(rs, 1, 4)->severity, 4);
	rule_set_destroy(rs);

	rs = parse_str("\n" HDR "msg:\"a\"; email.subject; content:\"a\"; classtype:trojan-activity; sid:1;)\n",
		       cls);
	assert_null(rs);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err, "t.rules:2:79: classtype: unknown classtype 'trojan-activity'");

	/* without a table the classtype is kept unchecked, and severity falls back to 3 */
	rs = parse_str(HDR "msg:\"a\"; email.subject; content:\"a\"; classtype:trojan-activity; sid:1;)\n",
		       NULL);
	assert_non_null(rs);
	assert_string_equal(rs->rules[0].classtype, "trojan-activity");
	assert_int_equal(rs->rules[0].severity, 3);
	rule_set_destroy(rs);
	classification_destroy(cls);
}

/* ------------------------------------------------------------------ errors */

struct err_case {
	const char *rule;       /* one line, parsed as line 1 of t.rules */
	const char *at;         /* the error's column is this marker's first occurrence */
	const char *msg;        /* expected text after "t.rules:1:COL: " */
};

#define OK_TAIL "email.subject; content:\"a\"; sid:1;)"

static const struct err_case err_cases[] = {
	/* structure */
	{ "alert smtp any any -> any any msg:\"x\"", "alert", "rule: no '(' opening the options" },
	{ "alert smtp any any -> any (msg:\"x\"; " OK_TAIL, "alert",
	  "rule: header has 6 fields, expected 7: action proto src sport direction dst dport" },
	{ "alert smtp any any -> any any any (msg:\"x\"; " OK_TAIL, "alert",
	  "rule: header has 8 fields, expected 7: action proto src sport direction dst dport" },
	{ HDR "msg:\"x\"; email.subject; content:\"a\"; sid:1; junk", "k",
	  "rule: does not end with ')'" },
	{ HDR, "(", "rule: does not end with ')'" },
	{ HDR "msg:\"x\";; " OK_TAIL, "; email", "rule: empty option before ';'" },
	{ HDR ":x; msg:\"x\"; " OK_TAIL, ":x", "rule: empty option before ':'" },
	{ HDR "msg \"x\"; " OK_TAIL, "\"x\"", "msg: expected ':' or ';' after the keyword" },
	/* header fields */
	{ "alarm smtp any any -> any any (msg:\"x\"; " OK_TAIL, "alarm",
	  "action: unknown action 'alarm' (alert, drop, reject or pass)" },
	{ "rejectboth smtp any any -> any any (msg:\"x\"; " OK_TAIL, "rejectboth",
	  "action: 'rejectboth' is not supported yet" },
	{ "alert http any any -> any any (msg:\"x\"; " OK_TAIL, "http",
	  "proto: 'http' is not supported (smtp or tcp)" },
	{ "alert smtp any any <- any any (msg:\"x\"; " OK_TAIL, "<-",
	  "direction: expected '->' or '<>', found '<-'" },
	{ "alert smtp 10.0.0.300 any -> any any (msg:\"x\"; " OK_TAIL, "10.0",
	  "src: invalid address '10.0.0.300'" },
	{ "alert smtp any any -> 10.0.0.0/33 any (msg:\"x\"; " OK_TAIL, "10.0",
	  "dst: invalid address '10.0.0.0/33'" },
	{ "alert smtp $HOME-NET any -> any any (msg:\"x\"; " OK_TAIL, "$HOME",
	  "src: invalid address '$HOME-NET'" },
	{ "alert smtp 1.2.3.4/8/8 any -> any any (msg:\"x\"; " OK_TAIL, "1.2",
	  "src: invalid address '1.2.3.4/8/8'" },
	{ "alert smtp 1.2.3.4/x any -> any any (msg:\"x\"; " OK_TAIL, "1.2",
	  "src: invalid address '1.2.3.4/x'" },
	{ "alert smtp 1.1.1.1-::1 any -> any any (msg:\"x\"; " OK_TAIL, "1.1",
	  "src: invalid address '1.1.1.1-::1'" },
	{ "alert smtp ::1/129 any -> any any (msg:\"x\"; " OK_TAIL, "::1",
	  "src: invalid address '::1/129'" },
	{ "alert smtp $ any -> any any (msg:\"x\"; " OK_TAIL, "$", "src: invalid address '$'" },
	{ "alert smtp ! any -> any any (msg:\"x\"; " OK_TAIL, " any", "src: missing value" },
	{ "alert smtp any : -> any any (msg:\"x\"; " OK_TAIL, ":", "sport: invalid port ':'" },
	{ "alert smtp any 1:2:3 -> any any (msg:\"x\"; " OK_TAIL, "1:2",
	  "sport: invalid port '1:2:3'" },
	{ "alert smtp any $P-1 -> any any (msg:\"x\"; " OK_TAIL, "$P",
	  "sport: invalid port '$P-1'" },
	{ "alert smtp any 70000 -> any any (msg:\"x\"; " OK_TAIL, "70000",
	  "sport: invalid port '70000'" },
	{ "alert smtp any any -> any [25,100:50] (msg:\"x\"; " OK_TAIL, "100",
	  "dport: invalid port '100:50'" },
	{ "alert smtp [1.2.3.4, 5.6.7.8 any -> any any (msg:\"x\"; " OK_TAIL, "[",
	  "src: missing ']'" },
	{ "alert smtp [] any -> any any (msg:\"x\"; " OK_TAIL, "[", "src: empty list" },
	{ "alert smtp !any any -> any any (msg:\"x\"; " OK_TAIL, "any any",
	  "src: '!any' matches nothing" },
	{ "alert smtp [1.2.3.4 5.6.7.8] any -> any any (msg:\"x\"; " OK_TAIL, "5.6",
	  "src: expected ',' or ']', found '5'" },
	{ "alert smtp 1.2.3.4] any -> any any (msg:\"x\"; " OK_TAIL, "]", "src: unexpected ']'" },
	{ "alert smtp [1.2.3.4,] any -> any any (msg:\"x\"; " OK_TAIL, "]", "src: unexpected ']'" },
	{ "alert smtp [[[[[[[[[1.2.3.4]]]]]]]]] any -> any any (msg:\"x\"; " OK_TAIL, "[1.2",
	  "src: lists nested deeper than 8" },
	/* keywords */
	{ HDR "msg:\"x\"; email.subject; content:\"a\"; xyz:1; sid:1;)", "xyz",
	  "unknown keyword 'xyz'" },
	{ HDR "msg:\"x\"; email.subject; content:\"a\"; ms\x01g; sid:1;)", "ms\x01",
	  "unknown keyword 'ms\\x01g'" },
	{ HDR "msg:\"x\"; email.subject; content:\"a\"; byte_test:1,>,2,0; sid:1;)", "byte_test",
	  "keyword 'byte_test' is not supported yet" },
	{ HDR "msg:\"x\"; email.subject; content:\"a\"; xbits:set,a,track ip_src; sid:1;)",
	  "xbits", "keyword 'xbits' is not supported yet" },
	/* msg and other text values */
	{ HDR "msg:\"unterminated; " OK_TAIL, "\"unterminated", "msg: unterminated quote" },
	{ HDR "msg:; " OK_TAIL, ";", "msg: needs a value" },
	{ HDR "msg; " OK_TAIL, "msg", "msg: needs a value" },
	{ HDR "msg:\"\"; " OK_TAIL, "\"\"", "msg: empty value" },
	{ HDR "msg:\"a\"b; " OK_TAIL, "b;", "msg: text after the closing quote" },
	{ HDR "msg:\"a\tb\"; " OK_TAIL, "\tb", "msg: control character 0x09 in the value" },
	{ HDR "msg:\"a\\nb\"; " OK_TAIL, "\\n", "msg: invalid escape '\\n' (only \\\" \\; \\\\ \\: are allowed)" },
	{ HDR "msg:\"x\"; metadata:a\"b\"; " OK_TAIL, "\"b", "metadata: unexpected '\"' inside the value" },
	{ HDR "msg:\"x\"; msg:\"y\"; " OK_TAIL, "msg:\"y", "msg: given twice in one rule" },
	{ HDR "msg:\"x\"; classtype:bad/type; " OK_TAIL, "bad", "classtype: invalid classtype 'bad/type'" },
	/* numbers */
	{ HDR "msg:\"x\"; email.subject; content:\"a\"; sid:abc;)", "abc",
	  "sid: 'abc' is not a number in 1..4294967295" },
	{ HDR "msg:\"x\"; email.subject; content:\"a\"; sid:0;)", "0;",
	  "sid: '0' is not a number in 1..4294967295" },
	{ HDR "msg:\"x\"; email.subject; content:\"a\"; sid:4294967296;)", "4294967296",
	  "sid: '4294967296' is not a number in 1..4294967295" },
	{ HDR "msg:\"x\"; email.subject; content:\"a\"; sid:-1;)", "-1",
	  "sid: '-1' is not a number in 1..4294967295" },
	{ HDR "msg:\"x\"; email.subject; content:\"a\"; sid:1; sid:2;)", "sid:2",
	  "sid: given twice in one rule" },
	{ HDR "msg:\"x\"; email.subject; content:\"a\"; sid:2100001;)", "2100001",
	  "sid: 2100001 is reserved for built-in checks (2100000..2100999)" },
	{ HDR "msg:\"x\"; email.subject; content:\"a\"; sid:2100999;)", "2100999",
	  "sid: 2100999 is reserved for built-in checks (2100000..2100999)" },
	{ HDR "msg:\"x\"; rev:x1; " OK_TAIL, "x1", "rev: 'x1' is not a number in 0..4294967295" },
	{ HDR "msg:\"x\"; gid:1.5; " OK_TAIL, "1.5", "gid: '1.5' is not a number in 0..4294967295" },
	{ HDR "msg:\"x\"; priority:256; " OK_TAIL, "256", "priority: '256' is not a number in 1..255" },
	{ HDR "msg:\"x\"; priority:0; " OK_TAIL, "0;", "priority: '0' is not a number in 1..255" },
	/* missing parts */
	{ HDR "msg:\"x\"; email.subject; content:\"a\";)", "alert", "sid: rule has no sid" },
	{ HDR "email.subject; content:\"a\"; sid:1;)", "alert", "msg: rule has no msg" },
	{ HDR "msg:\"x\"; email.subject; sid:1;)", "alert",
	  "content: rule has no content, pcre or flowbits check" },
	/* content */
	{ HDR "msg:\"x\"; email.subject; content:\"abc; sid:1;)", "\"abc",
	  "content: unterminated quote" },
	{ HDR "msg:\"x\"; email.subject; content:abc; sid:1;)", "abc",
	  "content: value must be a quoted string" },
	{ HDR "msg:\"x\"; email.subject; content:!abc; sid:1;)", "abc",
	  "content: value must be a quoted string" },
	{ HDR "msg:\"x\"; email.subject; content:\"\"; sid:1;)", "\"\"", "content: empty content" },
	{ HDR "msg:\"x\"; email.subject; content:\"a\"zz; sid:1;)", "zz",
	  "content: text after the closing quote" },
	{ HDR "msg:\"x\"; email.subject; content:\"a|0g|\"; sid:1;)", "g|",
	  "content: invalid hex digit 'g'" },
	{ HDR "msg:\"x\"; email.subject; content:\"|0d 0|\"; sid:1;)", "|\"",
	  "content: odd number of hex digits" },
	{ HDR "msg:\"x\"; email.subject; content:\"a|0d\"; sid:1;)", "|0d",
	  "content: unterminated |hex| block" },
	{ HDR "msg:\"x\"; email.subject; content:\"a||b\"; sid:1;)", "||",
	  "content: empty |hex| block" },
	{ HDR "msg:\"x\"; email.subject; content:\"|0 d|\"; sid:1;)", " d|",
	  "content: space inside a hex byte" },
	{ HDR "msg:\"x\"; email.subject; content:\"a\\x\"; sid:1;)", "\\x",
	  "content: invalid escape '\\x' (only \\\" \\; \\\\ \\: are allowed)" },
	{ HDR "msg:\"x\"; email.subject; content:\"a\x01\"; sid:1;)", "\x01",
	  "content: control character 0x01, write it as |01|" },
	{ HDR "msg:\"x\"; email.subject; content; sid:1;)", "content",
	  "content: needs a value" },
	/* modifiers and sticky buffers */
	{ HDR "msg:\"x\"; email.subject; nocase; content:\"a\"; sid:1;)", "nocase",
	  "nocase: needs a content before it" },
	{ HDR "msg:\"x\"; email.subject; content:\"a\"; nocase; nocase; sid:1;)", "nocase; sid",
	  "nocase: given twice for one content" },
	{ HDR "msg:\"x\"; email.subject; content:\"a\"; nocase:1; sid:1;)", "1; sid",
	  "nocase: takes no value" },
	{ HDR "msg:\"x\"; email.subject:foo; content:\"a\"; sid:1;)", "foo",
	  "email.subject: takes no value" },
	/* position modifiers: syntax here, meaning in rule_expr */
	{ HDR "msg:\"x\"; email.subject; depth:4; sid:1;)", "depth",
	  "depth: needs a content before it" },
	{ HDR "msg:\"x\"; email.subject; pcre:\"/a/\"; depth:4; sid:1;)", "depth",
	  "depth: needs a content before it" },
	{ HDR "msg:\"x\"; email.subject; content:\"a\"; depth:0; sid:1;)", "0;",
	  "depth: '0' is not a number in 1..65535" },
	{ HDR "msg:\"x\"; email.subject; content:\"a\"; offset:70000; sid:1;)", "70000",
	  "offset: '70000' is not a number in 0..65535" },
	{ HDR "msg:\"x\"; email.subject; content:\"a\"; content:\"b\"; distance:x; sid:1;)",
	  "x; sid", "distance: 'x' is not a number in -65535..65535" },
	{ HDR "msg:\"x\"; email.subject; content:\"a\"; depth:3; depth:4; sid:1;)", "depth:4",
	  "depth: given twice for one content" },
	{ HDR "msg:\"x\"; email.subject; content:\"a\"; fast_pattern:x; sid:1;)", "x; sid",
	  "fast_pattern: 'x': expected only or OFFSET,LENGTH" },
	/* pcre */
	{ HDR "msg:\"x\"; email.subject; pcre:\"a\"; sid:1;)", "\"a\"",
	  "pcre: expected \"/EXPRESSION/FLAGS\"" },
	{ HDR "msg:\"x\"; email.subject; pcre:\"/a/Q\"; sid:1;)", "Q\"",
	  "pcre: flag 'Q' is not supported (i s m x A R G)" },
	{ HDR "msg:\"x\"; email.subject; pcre:\"//\"; sid:1;)", "//",
	  "pcre: empty expression" },
	{ HDR "msg:\"x\"; email.subject; pcre:\"/a(b/\"; sid:1;)", "/\"; sid",
	  "pcre: missing closing parenthesis" },
	/* isdataat, flow, flowbits, threshold */
	{ HDR "msg:\"x\"; email.subject; isdataat:x; sid:1;)", "x; sid",
	  "isdataat: 'x' is not a number in 0..65535" },
	{ HDR "msg:\"x\"; email.subject; isdataat:1,rel; sid:1;)", "rel",
	  "isdataat: expected 'relative' after the ','" },
	{ HDR "msg:\"x\"; flow:to_server,to_client; " OK_TAIL, "to_client",
	  "flow: both directions given" },
	{ HDR "msg:\"x\"; flow:only_stream; " OK_TAIL, "only_stream",
	  "flow: 'only_stream' is not supported (to_server, to_client, from_client, "
	  "from_server, established, stateless)" },
	{ HDR "msg:\"x\"; flow:to_client; " OK_TAIL, "content",
	  "email.subject: flow:to_client rules can only look at the raw stream (pkt_data)" },
	{ HDR "msg:\"x\"; flowbits:sett,a; " OK_TAIL, "sett",
	  "flowbits: 'sett' is not supported (set, unset, toggle, isset, isnotset, noalert)" },
	{ HDR "msg:\"x\"; flowbits:isset; " OK_TAIL, "; email",
	  "flowbits: 'isset' needs a name: isset,NAME" },
	{ HDR "msg:\"x\"; flowbits:isset,a|b; " OK_TAIL, "a|b",
	  "flowbits: lists of names (| and &) are not supported yet" },
	{ HDR "msg:\"x\"; flowbits:set,a b; " OK_TAIL, "a b",
	  "flowbits: invalid name 'a b' (1 to 64 of A-Z a-z 0-9 _ . -)" },
	{ HDR "msg:\"x\"; flowbits:set,a; sid:1;)", "alert",
	  "content: rule has no content, pcre or flowbits check" },
	{ HDR "msg:\"x\"; threshold:type limit; " OK_TAIL, "; email",
	  "threshold: missing 'track'" },
};

static void
test_errors(void **state)
{
	(void)state;
	char expect[1024];

	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *e = &err_cases[i];
		const char *at = strstr(e->rule, e->at);
		struct rule_set *rs;

		assert_non_null(at);
		snprintf(expect, sizeof(expect), "t.rules:1:%d: %s", (int)(at - e->rule) + 1,
			 e->msg);
		rs = parse_str(e->rule, NULL);
		if (rs != NULL || strcmp(err, expect) != 0)
			fail_msg("case %zu: %s\n  expected: %s\n  got:      %s", i, e->rule, expect,
				 rs != NULL ? "(parsed)" : err);
		assert_int_equal(errno, EINVAL);
	}
}

/* Exact full messages for cases that need more than one line or generated input. */
static void
test_errors_generated(void **state)
{
	(void)state;
	char text[8192];
	size_t n;
	struct rule_set *rs;

	/* long user text is cut in messages */
	n = (size_t)snprintf(text, sizeof(text), HDR "msg:\"x\"; " OK_TAIL);
	n -= strlen("1;)");
	memset(text + n, '7', 200);
	snprintf(text + n + 200, sizeof(text) - n - 200, ";)");
	rs = parse_str(text, NULL);
	assert_null(rs);
	char expect[256], sevens[100];
	memset(sevens, '7', 88);
	sevens[88] = '\0';
	snprintf(expect, sizeof(expect), "t.rules:1:%zu: sid: '%s...' is not a number in 1..4294967295",
		 n + 1, sevens);
	assert_string_equal(err, expect);

	/* 33 contents: the error points at the 33rd content keyword */
	n = (size_t)snprintf(text, sizeof(text), HDR "msg:\"x\"; email.subject;");
	size_t col33 = 0;
	for (int i = 0; i < 33; i++) {
		if (i == 32)
			col33 = n + 2;
		n += (size_t)snprintf(text + n, sizeof(text) - n, " content:\"c%d\";", i);
	}
	snprintf(text + n, sizeof(text) - n, " sid:1;)");
	rs = parse_str(text, NULL);
	assert_null(rs);
	snprintf(expect, sizeof(expect),
		 "t.rules:1:%zu: content: more than 32 chains in one rule", col33);
	assert_string_equal(err, expect);

	/* 32 contents is fine */
	n = (size_t)snprintf(text, sizeof(text), HDR "msg:\"x\"; email.subject;");
	for (int i = 0; i < 32; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, " content:\"c%d\";", i);
	snprintf(text + n, sizeof(text) - n, " sid:1;)");
	rs = parse_str(text, NULL);
	assert_non_null(rs);
	assert_int_equal(rs->rules[0].n_matches, 32);
	rule_set_destroy(rs);

	/* 17 references */
	n = (size_t)snprintf(text, sizeof(text), HDR "msg:\"x\";");
	size_t col17 = 0;
	for (int i = 0; i < 17; i++) {
		if (i == 16)
			col17 = n + 2;
		n += (size_t)snprintf(text + n, sizeof(text) - n, " reference:url,r%d;", i);
	}
	snprintf(text + n, sizeof(text) - n, " " OK_TAIL);
	rs = parse_str(text, NULL);
	assert_null(rs);
	snprintf(expect, sizeof(expect),
		 "t.rules:1:%zu: reference: more than 16 references in one rule", col17);
	assert_string_equal(err, expect);

	/* a content one byte over the limit */
	char *big = malloc(RULE_MAX_CONTENT_LEN + 256);
	size_t big_size = RULE_MAX_CONTENT_LEN + 256;
	assert_non_null(big);
	n = (size_t)snprintf(big, big_size, HDR "msg:\"x\"; email.subject; content:\"");
	size_t quote_col = n;
	assert_true(n + RULE_MAX_CONTENT_LEN + 16 < big_size);
	memset(big + n, 'a', RULE_MAX_CONTENT_LEN + 1);
	n += RULE_MAX_CONTENT_LEN + 1;
	sprintf(big + n, "\"; sid:1;)");
	rs = parse_str(big, NULL);
	assert_null(rs);
	snprintf(expect, sizeof(expect), "t.rules:1:%zu: content: longer than 4096 bytes",
		 quote_col);
	assert_string_equal(err, expect);
	/* at the limit, and with hex making it up, it is accepted */
	n = (size_t)sprintf(big, HDR "msg:\"x\"; email.subject; content:\"|41|");
	memset(big + n, 'a', RULE_MAX_CONTENT_LEN - 1);
	n += RULE_MAX_CONTENT_LEN - 1;
	sprintf(big + n, "\"; sid:1;)");
	rs = parse_str(big, NULL);
	assert_non_null(rs);
	assert_int_equal(rs->rules[0].matches[0].len, RULE_MAX_CONTENT_LEN);
	assert_int_equal(rs->rules[0].matches[0].bytes[0], 'A');
	rule_set_destroy(rs);
	free(big);

	/* a rule longer than RULE_MAX_RULE_LEN, across continuation lines, then a bad rule */
	size_t biglen = RULE_MAX_RULE_LEN + 12000;
	big = malloc(biglen);
	assert_non_null(big);
	n = (size_t)sprintf(big, "%s", HDR "msg:\"x\"; \\\n");
	while (n < RULE_MAX_RULE_LEN + 8000)
		n += (size_t)sprintf(big + n, "%s", "metadata:k v; metadata:k v; \\\n");
	n += (size_t)sprintf(big + n, "%s", "sid:1;)\n" HDR "msg:\"x\"; sid:2;)\n");
	rs = rule_set_parse_buffer("t.rules", big, n, NULL, err, sizeof(err));
	assert_null(rs);
	/* the second error is on the last line */
	unsigned lines = 0;
	for (size_t i = 0; i < n; i++)
		lines += big[i] == '\n';
	snprintf(expect, sizeof(expect),
		 "t.rules:1:1: rule: longer than 65536 bytes\n"
		 "t.rules:%u:1: content: rule has no content, pcre or flowbits check", lines);
	assert_string_equal(err, expect);
	free(big);
}

static void
test_error_positions_multiline(void **state)
{
	(void)state;
	struct rule_set *rs;

	/* errors in continuation lines point at the physical line and column */
	rs = parse_str("# header\n"
		       "alert smtp any any -> any any \\\n"
		       "  (msg:\"x\"; \\\n"
		       "\\\n"
		       "   email.subject; content:\"a|zz|\"; sid:1;)\n",
		       NULL);
	assert_null(rs);
	assert_string_equal(err, "t.rules:5:30: content: invalid hex digit 'z'");

	/* the header on one line, a bad field on the next */
	rs = parse_str("alert smtp any any -> \\\n"
		       "\tany 99999 (msg:\"x\"; " OK_TAIL "\n",
		       NULL);
	assert_null(rs);
	assert_string_equal(err, "t.rules:2:6: dport: invalid port '99999'");
}

static void
test_duplicates(void **state)
{
	(void)state;
	struct rule_set *rs;

	rs = parse_str(HDR "msg:\"a\"; email.subject; content:\"a\"; sid:7;)\n"
		       HDR "msg:\"b\"; email.subject; content:\"b\"; gid:2; sid:7;)\n"
		       "\n"
		       HDR "msg:\"c\"; email.subject; content:\"c\"; sid:7; rev:2;)\n",
		       NULL);
	assert_null(rs);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err, "t.rules:4:69: sid: duplicate 1:7, first defined at line 1");
}

/* One bad rule fails the pack; each bad rule is reported; the 20th stops the parse. */
static void
test_error_collection(void **state)
{
	(void)state;
	char text[16384], expect[8192];
	size_t n = 0, e = 0;
	struct rule_set *rs;

	rs = parse_str(HDR "msg:\"a\"; email.subject; content:\"a\"; sid:1;)\n"
		       HDR "msg:\"b\"; email.subject; content:\"b\"; sid:x;)\n"
		       HDR "msg:\"c\"; email.subject; content:\"c\"; sid:3;)\n"
		       HDR "msg:\"d\"; email.subject; nocase; sid:4;)\n",
		       NULL);
	assert_null(rs);
	assert_string_equal(err, "t.rules:2:73: sid: 'x' is not a number in 1..4294967295\n"
				 "t.rules:4:56: nocase: needs a content before it");

	for (int i = 1; i <= 25; i++) {
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      HDR "msg:\"x\"; bogus; sid:%d;)\n", i);
		if (i <= 20)
			e += (size_t)snprintf(expect + e, sizeof(expect) - e,
					      "%st.rules:%d:41: unknown keyword 'bogus'",
					      i > 1 ? "\n" : "", i);
	}
	snprintf(expect + e, sizeof(expect) - e, "\nt.rules: too many errors, stopped after 20");
	rs = parse_str(text, NULL);
	assert_null(rs);
	assert_string_equal(err, expect);

	/* a short error buffer is cut, never overrun, and stays a C string */
	char small[24];
	memset(small, 'Z', sizeof(small));
	rs = rule_set_parse_buffer("t.rules", text, n, NULL, small, 20);
	assert_null(rs);
	assert_int_equal(strlen(small), 19);
	assert_memory_equal(small, "t.rules:1:41: unkno", 19);
	assert_int_equal(small[20], 'Z');
	/* and no buffer at all is fine */
	rs = rule_set_parse_buffer("t.rules", text, n, NULL, NULL, 0);
	assert_null(rs);
}

static void
test_load_file(void **state)
{
	(void)state;
	char path[] = "/tmp/test_rule_parse_XXXXXX";
	const char text[] = "\n" HDR "msg:\"f\"; email.subject; content:\"f\"; sid:11;)\n";
	int fd = mkstemp(path);
	struct rule_set *rs;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	rs = rule_set_load(path, NULL, err, sizeof(err));
	assert_non_null(rs);
	assert_string_equal(rs->path, path);
	assert_int_equal(rs->n_rules, 1);
	assert_int_equal(rs->rules[0].line, 2);
	rule_set_destroy(rs);

	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "alert\n", 6), 6);
	close(fd);
	rs = rule_set_load(path, NULL, err, sizeof(err));
	assert_null(rs);
	char expect[256];
	snprintf(expect, sizeof(expect), "%s:3:1: rule: no '(' opening the options", path);
	assert_string_equal(err, expect);
	unlink(path);

	rs = rule_set_load(path, NULL, err, sizeof(err));
	assert_null(rs);
	assert_int_equal(errno, ENOENT);
	snprintf(expect, sizeof(expect), "%s: No such file or directory", path);
	assert_string_equal(err, expect);

	rs = rule_set_load("/", NULL, err, sizeof(err));
	assert_null(rs);
	assert_int_equal(errno, EINVAL);

	rule_set_destroy(NULL);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(rule_action_name(GEN_ACTION_ALERT), "alert");
	assert_string_equal(rule_action_name(GEN_ACTION_PASS), "pass");
	assert_string_equal(rule_action_name(GEN_ACTION_DROP), "drop");
	assert_string_equal(rule_action_name(GEN_ACTION_REJECT), "reject");
	assert_null(rule_action_name(9));
	assert_string_equal(rule_proto_name(RULE_PROTO_SMTP), "smtp");
	assert_string_equal(rule_proto_name(RULE_PROTO_TCP), "tcp");
	assert_null(rule_proto_name(2));
}

/* Inputs the fuzzer found or that once tripped the parser: each must fail cleanly. */
static void
test_regressions(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		size_t len;
		const char *err;
	} cases[] = {
		{ "a\0b (", 5, "t.rules:1:1: rule: header has 1 fields, expected 7: action proto src sport direction dst dport" },
		{ "\\", 1, "t.rules:1:1: rule: no '(' opening the options" },
		{ HDR "\0;)", sizeof(HDR) + 2, "t.rules:1:32: unknown keyword '\\x00'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rule_set *rs = rule_set_parse_buffer("t.rules", cases[i].text, cases[i].len,
							    NULL, err, sizeof(err));

		assert_null(rs);
		assert_string_equal(err, cases[i].err);
	}
}

/* The limits of the new keywords, each at the limit and one past it. */
static void
test_detection_limits(void **state)
{
	(void)state;
	static char text[1 << 16], expect[512];
	struct rule_set *rs;
	size_t n, at = 0;

	/* 64 content/pcre/isdataat keywords (32 chains of two) fit; the 65th does not */
	for (int extra = 0; extra <= 1; extra++) {
		n = (size_t)snprintf(text, sizeof(text), HDR "msg:\"x\"; email.subject;");
		for (int i = 0; i < RULE_MAX_MATCHES + extra; i++) {
			if (i == RULE_MAX_MATCHES)
				at = n + 2;
			n += (size_t)snprintf(text + n, sizeof(text) - n, i % 2 ? " content:\"%d\"; "
					      "distance:0;" : " content:\"c%d\";", i);
		}
		snprintf(text + n, sizeof(text) - n, " sid:1;)");
		rs = parse_str(text, NULL);
		if (extra == 0) {
			assert_non_null(rs);
			assert_int_equal(rs->rules[0].n_matches, RULE_MAX_MATCHES);
			assert_int_equal(rs->rules[0].n_atoms, RULE_MAX_MATCHES / 2);
			rule_set_destroy(rs);
		} else {
			assert_null(rs);
			snprintf(expect, sizeof(expect), "t.rules:1:%zu: content: more than %d content, "
				 "pcre and isdataat keywords in one rule", at, RULE_MAX_MATCHES);
			assert_string_equal(err, expect);
		}
	}

	/* 16 flowbits keywords fit; the 17th does not */
	for (int extra = 0; extra <= 1; extra++) {
		n = (size_t)snprintf(text, sizeof(text), HDR "msg:\"x\";");
		for (int i = 0; i < GEN_MAX_FLOWBIT_OPS + extra; i++) {
			if (i == GEN_MAX_FLOWBIT_OPS)
				at = n + 2;
			n += (size_t)snprintf(text + n, sizeof(text) - n, " flowbits:set,b%d;", i);
		}
		snprintf(text + n, sizeof(text) - n, " " OK_TAIL);
		rs = parse_str(text, NULL);
		if (extra == 0) {
			assert_non_null(rs);
			assert_int_equal(rs->rules[0].n_flowbits, GEN_MAX_FLOWBIT_OPS);
			rule_set_destroy(rs);
		} else {
			assert_null(rs);
			snprintf(expect, sizeof(expect), "t.rules:1:%zu: flowbits: more than %d in one "
				 "rule", at, GEN_MAX_FLOWBIT_OPS);
			assert_string_equal(err, expect);
		}
	}

	/* a name of 64 bytes fits, 65 does not */
	n = (size_t)snprintf(text, sizeof(text), HDR "msg:\"x\"; flowbits:set,%0*d; " OK_TAIL,
			     RULE_MAX_FLOWBIT_NAME, 7);
	rs = parse_str(text, NULL);
	assert_non_null(rs);
	assert_int_equal(strlen(rs->rules[0].flowbits[0].name), RULE_MAX_FLOWBIT_NAME);
	rule_set_destroy(rs);
	snprintf(text, sizeof(text), HDR "msg:\"x\"; flowbits:set,%0*d; " OK_TAIL,
		 RULE_MAX_FLOWBIT_NAME + 1, 7);
	assert_null(parse_str(text, NULL));
	assert_non_null(strstr(err, "flowbits: invalid name"));

	/* rules left out: every one counted, the first RULE_MAX_WARNINGS described */
	n = 0;
	for (int i = 0; i < RULE_MAX_WARNINGS + 5; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      HDR "msg:\"x\"; byte_test:1,=,1,0; " OK_TAIL "\n");
	rs = rule_set_parse_buffer_flags("t.rules", text, n, NULL, RULE_PARSE_SKIP_UNSUPPORTED,
					 err, sizeof(err));
	assert_non_null(rs);
	assert_int_equal(rs->n_rules, 0);
	assert_int_equal(rs->n_skipped, RULE_MAX_WARNINGS + 5);
	unsigned lines = 1;
	for (const char *p = rs->warnings; *p != '\0'; p++)
		lines += *p == '\n';
	assert_int_equal(lines, RULE_MAX_WARNINGS);
	rule_set_destroy(rs);
}

/* ------------------------------------------------------------------ several sources */

#define SRC(n, t) { .name = (n), .text = (t), .len = sizeof(t) - 1 }
#define RULE(x, sid) HDR "msg:\"" x "\"; email.subject; content:\"" x "\"; sid:" #sid ";)\n"

/* Two packs, one set: rules in order, each with its own source and line numbers. */
static void
test_sources(void **state)
{
	(void)state;
	static const struct rule_source src[] = {
		SRC("a.rules", "# pack a\n" RULE("a", 1) "\n" RULE("b", 2)),
		SRC("dir/b.rules", RULE("c", 3) "# c\n" RULE("d", 4)),
	};
	static const uint32_t sid[] = { 1, 2, 3, 4 }, line[] = { 2, 4, 1, 3 }, from[] = { 0, 0, 1, 1 };
	struct rule_set *rs = rule_set_parse_sources(src, 2, NULL, 0, err, sizeof(err));

	if (rs == NULL)
		fail_msg("%s", err);
	assert_int_equal(rs->n_rules, 4);
	assert_string_equal(rs->path, "a.rules dir/b.rules");
	assert_int_equal(rs->n_sources, 2);
	assert_string_equal(rs->sources[0], "a.rules");
	assert_string_equal(rs->sources[1], "dir/b.rules");
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(rs->rules[i].sid, sid[i]);
		assert_int_equal(rs->rules[i].line, line[i]);
		assert_int_equal(rs->rules[i].source, from[i]);
		assert_ptr_equal(rule_set_find(rs, 1, sid[i]), &rs->rules[i]);
	}
	assert_string_equal(rule_set_source_name(rs, &rs->rules[2]), "dir/b.rules");
	rule_set_destroy(rs);

	/* one source is the buffer case: its name is the path */
	rs = rule_set_parse_sources(src, 1, NULL, 0, err, sizeof(err));
	assert_non_null(rs);
	assert_string_equal(rs->path, "a.rules");
	assert_int_equal(rs->n_rules, 2);
	rule_set_destroy(rs);

	/* none, or more than the parser takes: refused, with a reason */
	assert_null(rule_set_parse_sources(src, 0, NULL, 0, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_true(err[0] != '\0');
	assert_null(rule_set_parse_sources(src, RULE_MAX_SOURCES + 1, NULL, 0, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
}

/* A pack cut into two sources at any line boundary is the same set of rules. */
static void
test_sources_split_lines(void **state)
{
	(void)state;
	const char *text = good_pack;
	size_t len = strlen(text);
	struct rule_set *whole = parse_str(text, NULL);

	assert_non_null(whole);
	for (size_t cut = 0; cut <= len; cut++) {
		if (cut != 0 && text[cut - 1] != '\n')
			continue;
		/* a continued rule cannot be cut: the source boundary ends it */
		if (cut >= 2 && text[cut - 2] == '\\')
			continue;
		const struct rule_source src[] = {
			{ "x.rules", text, cut },
			{ "y.rules", text + cut, len - cut },
		};
		struct rule_set *rs = rule_set_parse_sources(src, 2, NULL, 0, err, sizeof(err));

		if (rs == NULL)
			fail_msg("cut %zu: %s", cut, err);
		assert_int_equal(rs->n_rules, whole->n_rules);
		for (uint32_t i = 0; i < rs->n_rules; i++) {
			assert_int_equal(rs->rules[i].sid, whole->rules[i].sid);
			assert_string_equal(rs->rules[i].msg, whole->rules[i].msg);
			assert_int_equal(rs->rules[i].n_atoms, whole->rules[i].n_atoms);
		}
		rule_set_destroy(rs);
	}
	rule_set_destroy(whole);
}

/* Errors name the source they are in: duplicates across packs name both files. */
static void
test_sources_errors(void **state)
{
	(void)state;
	struct rule_set *rs;
	static const struct rule_source dup[] = {
		SRC("a.rules", "\n" RULE("a", 5)),
		SRC("b.rules", RULE("b", 6) "\n" RULE("c", 5)),
	};
	static const struct rule_source bad2[] = {
		SRC("a.rules", RULE("a", 1)),
		SRC("b.rules", "\n\n" HDR "msg:\"b\"; email.subject; content:\"b\";)\n"),
	};

	rs = rule_set_parse_sources(dup, 2, NULL, 0, err, sizeof(err));
	assert_null(rs);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err, "b.rules:3:69: sid: duplicate 1:5, first defined at a.rules:2");

	rs = rule_set_parse_sources(bad2, 2, NULL, 0, err, sizeof(err));
	assert_null(rs);
	assert_string_equal(err, "b.rules:3:1: sid: rule has no sid");

	/* error counting is over the set: the 20th error, in whichever pack, stops it */
	static char many[RULE_MAX_ERRORS * 8];
	size_t at = 0;

	for (int i = 0; i < RULE_MAX_ERRORS - 1; i++)
		at += (size_t)snprintf(many + at, sizeof(many) - at, "bogus\n");
	const struct rule_source over[] = {
		{ "a.rules", many, at },
		{ "b.rules", "x\ny\n", 4 },
		{ "c.rules", "z\n", 2 },
	};
	rs = rule_set_parse_sources(over, 3, NULL, 0, err, sizeof(err));
	assert_null(rs);
	assert_non_null(strstr(err, "\nb.rules:1:1: rule: "));
	assert_null(strstr(err, "b.rules:2:"));
	assert_non_null(strstr(err, "\nb.rules: too many errors, stopped after 20"));
	assert_null(strstr(err, "c.rules"));
}

/* A backslash at the end of a pack ends its rule there: the next pack starts afresh. */
static void
test_sources_dangling_continuation(void **state)
{
	(void)state;
	struct rule_set *rs;
	/* glued, "...sid:1; \" + "rev:2;)" would be one valid rule */
	static const struct rule_source glue[] = {
		SRC("a.rules", HDR "msg:\"a\"; email.subject; content:\"a\"; sid:1; \\\n"),
		SRC("b.rules", "rev:2;)\n" RULE("b", 2)),
	};
	/* a whole rule before the dangling backslash is a rule; the next pack is its own */
	static const struct rule_source whole[] = {
		SRC("a.rules", HDR "msg:\"a\"; email.subject; content:\"a\"; sid:1;) \\"),
		SRC("b.rules", RULE("b", 2)),
	};

	rs = rule_set_parse_sources(glue, 2, NULL, 0, err, sizeof(err));
	assert_null(rs);
	assert_string_equal(err, "a.rules:1:74: rule: does not end with ')'\n"
				 "b.rules:1:1: rule: no '(' opening the options");

	rs = rule_set_parse_sources(whole, 2, NULL, 0, err, sizeof(err));
	if (rs == NULL)
		fail_msg("%s", err);
	assert_int_equal(rs->n_rules, 2);
	assert_int_equal(rs->rules[1].line, 1);
	assert_int_equal(rs->rules[1].source, 1);
	rule_set_destroy(rs);
}

/* Flowbits are one namespace across packs, and the file size limit is per pack. */
static void
test_sources_flowbits_and_size(void **state)
{
	(void)state;
	static const struct rule_source fb[] = {
		SRC("a.rules", HDR "msg:\"set\"; email.subject; content:\"a\"; "
			       "flowbits:set,seen_a; flowbits:noalert; sid:1;)\n"),
		SRC("b.rules", HDR "msg:\"check\"; flowbits:isset,seen_a; sid:2;)\n"),
	};
	struct rule_set *rs = rule_set_parse_sources(fb, 2, NULL, 0, err, sizeof(err));

	if (rs == NULL)
		fail_msg("%s", err);
	assert_int_equal(rs->n_rules, 2);
	assert_string_equal(rs->rules[0].flowbits[0].name, rs->rules[1].flowbits[0].name);
	rule_set_destroy(rs);

	/* lengths only are checked before parsing: no need for the bytes */
	const struct rule_source big[] = {
		{ "a.rules", "", RULE_MAX_FILE_LEN },
		{ "b.rules", "", RULE_MAX_FILE_LEN + 1 },
	};
	assert_null(rule_set_parse_sources(big, 2, NULL, 0, err, sizeof(err)));
	assert_int_equal(errno, EFBIG);
	assert_string_equal(err, "b.rules: larger than 67108864 bytes");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_pack),
		cmocka_unit_test(test_detection_keywords),
		cmocka_unit_test(test_crlf_and_empty),
		cmocka_unit_test(test_message_buffers),
		cmocka_unit_test(test_many_rules),
		cmocka_unit_test(test_severity_with_classification),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_errors_generated),
		cmocka_unit_test(test_detection_limits),
		cmocka_unit_test(test_error_positions_multiline),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_sources),
		cmocka_unit_test(test_sources_split_lines),
		cmocka_unit_test(test_sources_errors),
		cmocka_unit_test(test_sources_dangling_continuation),
		cmocka_unit_test(test_sources_flowbits_and_size),
		cmocka_unit_test(test_error_collection),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_regressions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
