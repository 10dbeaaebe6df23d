/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for dataplane/commercial.c: the policy is built from real configuration strings
 * (config_defaults + config_set, as postern.conf lines would set them), then every rule of the
 * decision order is checked with exact enum ipc_commercial values: rule flowbits first, then
 * transactional and commercial sender domains (a domain or any subdomain, envelope or From
 * header), client hosts (CIDR, IPv6, negation), header signals as commercial_signals enables
 * them, and commercial_default last. Bad values give the documented "KEY: reason" errors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "commercial.h"
#include "config.h"
#include "ipc.h"
#include "slice.h"

#define D IPC_COMM_DECIDED
#define YES (IPC_COMM_DECIDED | IPC_COMM_YES)

#define SIG_ALL (COMMERCIAL_SIG_LIST_UNSUB | COMMERCIAL_SIG_LIST_ID | COMMERCIAL_SIG_PRECEDENCE)

/* A config from defaults and "key", "value" pairs (NULL-terminated); every pair must set. */
static void
config_with(struct postern_config *c, const char *const *kv)
{
	char err[256];

	config_defaults(c);
	for (size_t i = 0; kv != NULL && kv[i] != NULL; i += 2)
		if (config_set(c, kv[i], kv[i + 1], err, sizeof(err)) != 0)
			fail_msg("config_set %s = %s: %s", kv[i], kv[i + 1], err);
}

/* Build a policy that must build. */
static void
policy_with(struct commercial_policy *p, const char *const *kv)
{
	struct postern_config c;
	char err[256] = "";

	config_with(&c, kv);
	if (commercial_policy_build(p, &c, err, sizeof(err)) != 0)
		fail_msg("commercial_policy_build: %s", err);
}

/* Build a policy that must fail with -EINVAL and exactly this message. */
static void
policy_fails(const char *const *kv, const char *want)
{
	struct postern_config c;
	struct commercial_policy p;
	char err[256] = "";

	config_with(&c, kv);
	memset(&p, 0xa5, sizeof(p));
	assert_int_equal(commercial_policy_build(&p, &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, want);
	/* nothing is left behind for the caller to free */
	assert_null(p.commercial);
	assert_null(p.transactional);
	assert_null(p.hosts);
	commercial_policy_free(&p); /* and freeing it anyway is harmless */
}

static const uint8_t *
v4(uint8_t ip[16], uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	memset(ip, 0, 16);
	ip[10] = 0xff;
	ip[11] = 0xff;
	ip[12] = a;
	ip[13] = b;
	ip[14] = c;
	ip[15] = d;
	return ip;
}

/* "2001:db8:1::5"-like: the first four groups given, the last byte given, zeros between. */
static const uint8_t *
v6(uint8_t ip[16], uint16_t g0, uint16_t g1, uint16_t g2, uint8_t last)
{
	memset(ip, 0, 16);
	ip[0] = (uint8_t)(g0 >> 8);
	ip[1] = (uint8_t)g0;
	ip[2] = (uint8_t)(g1 >> 8);
	ip[3] = (uint8_t)g1;
	ip[4] = (uint8_t)(g2 >> 8);
	ip[5] = (uint8_t)g2;
	ip[15] = last;
	return ip;
}

static struct commercial_facts
facts(const char *env_domain, const char *hdr_domain, const uint8_t *ip, unsigned signals)
{
	return (struct commercial_facts){
		.envelope_domain = slice_from_cstr(env_domain != NULL ? env_domain : ""),
		.header_domain = slice_from_cstr(hdr_domain != NULL ? hdr_domain : ""),
		.client_ip = ip,
		.signals = signals,
	};
}

static uint16_t
decide(const struct commercial_policy *p, const char *env_domain, const char *hdr_domain,
       const uint8_t *ip, unsigned signals)
{
	struct commercial_facts f = facts(env_domain, hdr_domain, ip, signals);

	return commercial_decide(p, &f);
}

/* ---- defaults ---- */

static void
test_defaults(void **state)
{
	struct commercial_policy p;
	uint8_t ip[16];

	(void)state;
	policy_with(&p, NULL);
	assert_int_equal(p.signals, SIG_ALL);
	assert_true(p.by_default);
	assert_null(p.hosts);
	assert_int_equal(p.n_hosts, 0);
	/* nothing marks it either way: commercial by default, and said so */
	assert_int_equal(decide(&p, NULL, NULL, NULL, 0), YES | IPC_COMM_DEFAULT);
	assert_int_equal(decide(&p, "shop.example", "shop.example", v4(ip, 10, 0, 0, 7), 0),
			 YES | IPC_COMM_DEFAULT);
	/* a signal decides instead of the default: the default bit is not added */
	assert_int_equal(decide(&p, NULL, NULL, NULL, COMMERCIAL_SIG_LIST_UNSUB),
			 YES | IPC_COMM_LIST_UNSUB);
	commercial_policy_free(&p);
	commercial_policy_free(&p); /* freed policies are zeroed: a second free is a no-op */
}

static void
test_default_no(void **state)
{
	static const char *const no[] = { "commercial_default", "no", NULL };
	static const char *const f[] = { "commercial_default", "false", NULL };
	static const char *const yes[] = { "commercial_default", "no", "commercial_default", "yes",
					   NULL };
	struct commercial_policy p;

	(void)state;
	policy_with(&p, no);
	assert_false(p.by_default);
	/* DECIDED, and nothing else: judged, not commercial, no exemption either */
	assert_int_equal(decide(&p, NULL, NULL, NULL, 0), D);
	assert_int_equal(decide(&p, "shop.example", "other.example", NULL, 0), D);
	commercial_policy_free(&p);

	policy_with(&p, f);
	assert_int_equal(decide(&p, NULL, NULL, NULL, 0), D);
	commercial_policy_free(&p);

	policy_with(&p, yes);
	assert_int_equal(decide(&p, NULL, NULL, NULL, 0), YES | IPC_COMM_DEFAULT);
	commercial_policy_free(&p);
}

/* ---- configuration errors ---- */

static void
test_config_errors(void **state)
{
	struct postern_config c;
	char err[256] = "";
	static char long_value[CONFIG_TEXT_MAX + 8];

	(void)state;
	/* a bad domain anywhere in the list, with the key it came from */
	static const char *const bad_com[] = { "commercial_senders", "good.example, bad..example",
					       NULL };
	policy_fails(bad_com, "commercial_senders: 'bad..example' is not a domain");
	static const char *const bad_tx[] = { "transactional_senders",
					      "billing.example,a@b.example", NULL };
	policy_fails(bad_tx, "transactional_senders: 'a@b.example' is not a domain");
	/* a signal name not among the known ones */
	static const char *const bad_sig[] = { "commercial_signals",
					       "list-unsubscribe, unsubscribe", NULL };
	policy_fails(bad_sig, "commercial_signals: 'unsubscribe' is not one of list-unsubscribe, "
			      "list-id, precedence, none");
	/* host specs: the address set's own message, with the column */
	static const char *const bad_ip[] = { "commercial_hosts", "10.0.0.300", NULL };
	policy_fails(bad_ip, "commercial_hosts: column 1: invalid address '10.0.0.300'");
	static const char *const bad_prefix[] = { "commercial_hosts", "10.0.0.0/33", NULL };
	policy_fails(bad_prefix,
		     "commercial_hosts: column 1: prefix length in '10.0.0.0/33' is over 32");
	static const char *const bad_var[] = { "commercial_hosts", "$NOPE", NULL };
	policy_fails(bad_var, "commercial_hosts: column 1: unknown variable $NOPE");
	static const char *const unclosed[] = { "commercial_hosts", "[10.0.0.0/8,!10.1.0.0/16",
						NULL };
	policy_fails(unclosed, "commercial_hosts: column 1: missing ']'");

	/* what config_set itself refuses */
	config_defaults(&c);
	assert_int_equal(config_set(&c, "commercial_default", "maybe", err, sizeof(err)), -1);
	assert_string_equal(err, "commercial_default: 'maybe' is not yes/no");
	memset(long_value, 'a', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	assert_int_equal(config_set(&c, "commercial_senders", long_value, err, sizeof(err)), -1);
	assert_string_equal(err, "commercial_senders: longer than 1023 bytes");
	assert_int_equal(config_set(&c, "commercial_sender", "x.example", err, sizeof(err)), -1);
}

/* ---- 1. rule flowbits ---- */

static void
test_rule_flowbits_first(void **state)
{
	static const char *const kv[] = {
		"commercial_senders", "news.example.com",
		"transactional_senders", "billing.example.com",
		"commercial_hosts", "10.0.0.0/8",
		NULL,
	};
	struct commercial_policy p;
	struct commercial_facts f;
	uint8_t ip[16];

	(void)state;
	policy_with(&p, kv);
	/* transactional by rule beats a commercial rule, sender, host and every signal */
	f = facts("news.example.com", "news.example.com", v4(ip, 10, 1, 2, 3), SIG_ALL);
	f.rule_transactional = true;
	f.rule_commercial = true;
	assert_int_equal(commercial_decide(&p, &f), D | IPC_COMM_EXEMPT_RULE);
	/* a commercial rule beats a transactional sender, and says only "rule" */
	f = facts("billing.example.com", "billing.example.com", v4(ip, 10, 1, 2, 3), SIG_ALL);
	f.rule_commercial = true;
	assert_int_equal(commercial_decide(&p, &f), YES | IPC_COMM_RULE);
	/* a commercial rule with nothing else */
	f = facts(NULL, NULL, NULL, 0);
	f.rule_commercial = true;
	assert_int_equal(commercial_decide(&p, &f), YES | IPC_COMM_RULE);
	f.rule_commercial = false;
	f.rule_transactional = true;
	assert_int_equal(commercial_decide(&p, &f), D | IPC_COMM_EXEMPT_RULE);
	commercial_policy_free(&p);
}

/* ---- 2. sender domains ---- */

static void
test_senders(void **state)
{
	static const char *const kv[] = {
		"commercial_senders", "news.example.com, promo.example",
		"transactional_senders", "billing.example.com,\tauth.example",
		"commercial_hosts", "10.0.0.0/8",
		"commercial_default", "no",
		NULL,
	};
	struct commercial_policy p;
	uint8_t ip[16];

	(void)state;
	policy_with(&p, kv);
	/* transactional by envelope or by header, beating host and signals */
	assert_int_equal(decide(&p, "billing.example.com", NULL, v4(ip, 10, 0, 0, 1), SIG_ALL),
			 D | IPC_COMM_EXEMPT_SENDER);
	assert_int_equal(decide(&p, "bounce.example.net", "auth.example", v4(ip, 10, 0, 0, 1),
				SIG_ALL),
			 D | IPC_COMM_EXEMPT_SENDER);
	/* transactional wins over commercial, whichever side names which */
	assert_int_equal(decide(&p, "news.example.com", "billing.example.com", NULL, 0),
			 D | IPC_COMM_EXEMPT_SENDER);
	assert_int_equal(decide(&p, "billing.example.com", "news.example.com", NULL, 0),
			 D | IPC_COMM_EXEMPT_SENDER);
	/* commercial by envelope or by header */
	assert_int_equal(decide(&p, "promo.example", NULL, NULL, 0), YES | IPC_COMM_SENDER);
	assert_int_equal(decide(&p, "bounce.example.net", "news.example.com", NULL, 0),
			 YES | IPC_COMM_SENDER);
	/* every reason that holds is given, not only the first */
	assert_int_equal(decide(&p, "news.example.com", NULL, v4(ip, 10, 9, 9, 9), SIG_ALL),
			 YES | IPC_COMM_SENDER | IPC_COMM_HOST | IPC_COMM_LIST_UNSUB |
			 IPC_COMM_LIST_ID | IPC_COMM_PRECEDENCE);
	/* neither: the default (no) */
	assert_int_equal(decide(&p, "other.example", "other.example", NULL, 0), D);
	commercial_policy_free(&p);
}

/* A listed domain covers its subdomains on a label boundary only, in any case. */
static void
test_subdomain_matching(void **state)
{
	static const char *const kv[] = {
		"commercial_senders", "@Example.COM",
		"commercial_default", "no",
		"commercial_signals", "none",
		NULL,
	};
	static const char *const match[] = {
		"example.com", "news.example.com", "a.b.example.com", "NEWS.Example.Com",
		"EXAMPLE.COM",
	};
	static const char *const no_match[] = {
		"badexample.com", "example.com.au", "example.co", "com", "xample.com",
		"news-example.com", "",
	};
	struct commercial_policy p;

	(void)state;
	policy_with(&p, kv);
	for (size_t i = 0; i < sizeof(match) / sizeof(match[0]); i++) {
		/* through the envelope, and through the From header alone */
		assert_int_equal(decide(&p, match[i], NULL, NULL, 0), YES | IPC_COMM_SENDER);
		assert_int_equal(decide(&p, "other.example", match[i], NULL, 0),
				 YES | IPC_COMM_SENDER);
	}
	for (size_t i = 0; i < sizeof(no_match) / sizeof(no_match[0]); i++) {
		assert_int_equal(decide(&p, no_match[i], NULL, NULL, 0), D);
		assert_int_equal(decide(&p, NULL, no_match[i], NULL, 0), D);
	}
	commercial_policy_free(&p);

	/* a subdomain listed does not cover its parent or its siblings */
	static const char *const sub[] = { "transactional_senders", "billing.example.com",
					   "commercial_default", "yes", NULL };
	policy_with(&p, sub);
	assert_int_equal(decide(&p, "eu.billing.example.com", NULL, NULL, 0),
			 D | IPC_COMM_EXEMPT_SENDER);
	assert_int_equal(decide(&p, "example.com", NULL, NULL, 0), YES | IPC_COMM_DEFAULT);
	assert_int_equal(decide(&p, "news.example.com", NULL, NULL, 0), YES | IPC_COMM_DEFAULT);
	assert_int_equal(decide(&p, "xbilling.example.com", NULL, NULL, 0),
			 YES | IPC_COMM_DEFAULT);
	commercial_policy_free(&p);
}

/*
 * An internationalized sender domain is one domain whether the message spells it in Unicode
 * (SMTPUTF8) or as its A-label; the list keeps A-labels (entries are normalized like domain
 * entries), so both spellings of the sender must match.
 */
static void
test_idn_sender_matching(void **state)
{
	static const char *const kv[] = {
		"commercial_senders", "xn--bcher-kva.example",
		"commercial_default", "no",
		NULL,
	};
	struct commercial_policy p;

	(void)state;
	policy_with(&p, kv);
	assert_int_equal(decide(&p, "xn--bcher-kva.example", NULL, NULL, 0),
			 YES | IPC_COMM_SENDER);
	assert_int_equal(decide(&p, "news.XN--BCHER-KVA.example", NULL, NULL, 0),
			 YES | IPC_COMM_SENDER);
	/* the Unicode spelling, as an SMTPUTF8 MAIL FROM or From header carries it */
	assert_int_equal(decide(&p, "b\xc3\xbc" "cher.example", NULL, NULL, 0),
			 YES | IPC_COMM_SENDER);
	assert_int_equal(decide(&p, NULL, "news.b\xc3\xbc" "cher.example", NULL, 0),
			 YES | IPC_COMM_SENDER);
	commercial_policy_free(&p);
}

/*
 * An entry written in Unicode grows when it becomes its A-label ("bücher.example", 15 bytes,
 * is "xn--bcher-kva.example", 21): the packed list must have room for it. Last in the list:
 * under ASan an overflow here ends the run.
 */
static void
test_idn_entry_longer_than_written(void **state)
{
	static const char *const kv[] = {
		"commercial_senders", "b\xc3\xbc" "cher.example",
		"transactional_senders", "\xc3\xa9.example",
		NULL,
	};
	struct commercial_policy p;

	(void)state;
	policy_with(&p, kv);
	assert_string_equal(p.commercial, "xn--bcher-kva.example");
	assert_string_equal(p.transactional, "xn--9ca.example");
	assert_int_equal(decide(&p, "xn--bcher-kva.example", NULL, NULL, 0),
			 YES | IPC_COMM_SENDER);
	assert_int_equal(decide(&p, "xn--9ca.example", NULL, NULL, 0),
			 D | IPC_COMM_EXEMPT_SENDER);
	commercial_policy_free(&p);
}

/* ---- 3. client hosts ---- */

static void
test_hosts(void **state)
{
	static const char *const kv[] = {
		"commercial_hosts", "[10.1.0.0/16, !10.1.2.0/24, 2001:db8::/32]",
		"commercial_default", "no",
		"commercial_signals", "none",
		NULL,
	};
	struct commercial_policy p;
	uint8_t ip[16];

	(void)state;
	policy_with(&p, kv);
	assert_non_null(p.hosts);
	assert_true(p.n_hosts > 0);
	assert_int_equal(decide(&p, NULL, NULL, v4(ip, 10, 1, 5, 5), 0), YES | IPC_COMM_HOST);
	assert_int_equal(decide(&p, NULL, NULL, v4(ip, 10, 1, 0, 0), 0), YES | IPC_COMM_HOST);
	assert_int_equal(decide(&p, NULL, NULL, v4(ip, 10, 1, 255, 255), 0), YES | IPC_COMM_HOST);
	/* the negated /24 inside the /16 */
	assert_int_equal(decide(&p, NULL, NULL, v4(ip, 10, 1, 2, 9), 0), D);
	assert_int_equal(decide(&p, NULL, NULL, v4(ip, 10, 1, 2, 0), 0), D);
	assert_int_equal(decide(&p, NULL, NULL, v4(ip, 10, 1, 3, 0), 0), YES | IPC_COMM_HOST);
	assert_int_equal(decide(&p, NULL, NULL, v4(ip, 10, 2, 0, 1), 0), D);
	/* IPv6 */
	assert_int_equal(decide(&p, NULL, NULL, v6(ip, 0x2001, 0x0db8, 0x0001, 5), 0),
			 YES | IPC_COMM_HOST);
	assert_int_equal(decide(&p, NULL, NULL, v6(ip, 0x2001, 0x0db9, 0, 1), 0), D);
	/* no client address known */
	assert_int_equal(decide(&p, NULL, NULL, NULL, 0), D);
	commercial_policy_free(&p);

	/* a negation alone: everything but 10/8; a transactional sender still exempts */
	static const char *const neg[] = { "commercial_hosts", "!10.0.0.0/8",
					   "transactional_senders", "billing.example",
					   "commercial_default", "no", NULL };
	policy_with(&p, neg);
	assert_int_equal(decide(&p, NULL, NULL, v4(ip, 192, 0, 2, 1), 0), YES | IPC_COMM_HOST);
	assert_int_equal(decide(&p, NULL, NULL, v4(ip, 10, 3, 3, 3), 0), D);
	assert_int_equal(decide(&p, "billing.example", NULL, v4(ip, 192, 0, 2, 1), 0),
			 D | IPC_COMM_EXEMPT_SENDER);
	commercial_policy_free(&p);

	/* the rule engine's default variables are there */
	static const char *const var[] = { "commercial_hosts", "$HOME_NET",
					   "commercial_default", "no", NULL };
	policy_with(&p, var);
	assert_int_equal(decide(&p, NULL, NULL, v4(ip, 192, 168, 7, 7), 0), YES | IPC_COMM_HOST);
	assert_int_equal(decide(&p, NULL, NULL, v4(ip, 198, 51, 100, 7), 0), D);
	commercial_policy_free(&p);
}

/* ---- 4. signals ---- */

static void
test_signals(void **state)
{
	static const char *const all[] = { "commercial_default", "no", NULL };
	static const char *const none[] = { "commercial_default", "no",
					    "commercial_signals", "none", NULL };
	static const char *const none_yes[] = { "commercial_signals", "none", NULL };
	static const char *const some[] = { "commercial_default", "no",
					    "commercial_signals", "Precedence,LIST-ID", NULL };
	struct commercial_policy p;

	(void)state;
	policy_with(&p, all);
	assert_int_equal(decide(&p, NULL, NULL, NULL, COMMERCIAL_SIG_LIST_UNSUB),
			 YES | IPC_COMM_LIST_UNSUB);
	assert_int_equal(decide(&p, NULL, NULL, NULL, COMMERCIAL_SIG_LIST_ID),
			 YES | IPC_COMM_LIST_ID);
	assert_int_equal(decide(&p, NULL, NULL, NULL, COMMERCIAL_SIG_PRECEDENCE),
			 YES | IPC_COMM_PRECEDENCE);
	assert_int_equal(decide(&p, NULL, NULL, NULL, SIG_ALL),
			 YES | IPC_COMM_LIST_UNSUB | IPC_COMM_LIST_ID | IPC_COMM_PRECEDENCE);
	commercial_policy_free(&p);

	/* none: signals count for nothing */
	policy_with(&p, none);
	assert_int_equal(p.signals, 0);
	assert_int_equal(decide(&p, NULL, NULL, NULL, SIG_ALL), D);
	commercial_policy_free(&p);
	policy_with(&p, none_yes);
	assert_int_equal(decide(&p, NULL, NULL, NULL, SIG_ALL), YES | IPC_COMM_DEFAULT);
	commercial_policy_free(&p);

	/* only those named (any case, comma without blank): List-Unsubscribe does not count */
	policy_with(&p, some);
	assert_int_equal(p.signals, COMMERCIAL_SIG_PRECEDENCE | COMMERCIAL_SIG_LIST_ID);
	assert_int_equal(decide(&p, NULL, NULL, NULL, COMMERCIAL_SIG_LIST_UNSUB), D);
	assert_int_equal(decide(&p, NULL, NULL, NULL, SIG_ALL),
			 YES | IPC_COMM_LIST_ID | IPC_COMM_PRECEDENCE);
	commercial_policy_free(&p);
}

static unsigned
sig(const char *name, const char *value)
{
	return commercial_header_signal(slice_from_cstr(name), slice_from_cstr(value));
}

static void
test_header_signal(void **state)
{
	(void)state;
	assert_int_equal(sig("List-Unsubscribe", "<mailto:unsub@news.example.com>"),
			 COMMERCIAL_SIG_LIST_UNSUB);
	assert_int_equal(sig("list-unsubscribe", "<https://x.example/u>"),
			 COMMERCIAL_SIG_LIST_UNSUB);
	assert_int_equal(sig("List-Unsubscribe", "  \t"), 0); /* empty: no signal */
	assert_int_equal(sig("List-Unsubscribe", ""), 0);
	assert_int_equal(sig("List-Id", "Weekly <weekly.news.example.com>"),
			 COMMERCIAL_SIG_LIST_ID);
	assert_int_equal(sig("LIST-ID", "<weekly.news.example.com>"), COMMERCIAL_SIG_LIST_ID);
	assert_int_equal(sig("List-Id", " "), 0);
	/* Precedence: bulk, list and junk, any case, blanks around */
	assert_int_equal(sig("Precedence", "bulk"), COMMERCIAL_SIG_PRECEDENCE);
	assert_int_equal(sig("precedence", "List"), COMMERCIAL_SIG_PRECEDENCE);
	assert_int_equal(sig("PRECEDENCE", " JUNK \t"), COMMERCIAL_SIG_PRECEDENCE);
	assert_int_equal(sig("Precedence", "first-class"), 0);
	assert_int_equal(sig("Precedence", "normal"), 0);
	assert_int_equal(sig("Precedence", "bulky"), 0);
	assert_int_equal(sig("Precedence", "b"), 0);
	assert_int_equal(sig("Precedence", ""), 0);
	/* other headers, including near names */
	assert_int_equal(sig("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"), 0);
	assert_int_equal(sig("X-Precedence", "bulk"), 0);
	assert_int_equal(sig("List-Post", "<mailto:list@example.com>"), 0);
	assert_int_equal(sig("Subject", "bulk"), 0);
	assert_int_equal(sig("", "bulk"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_default_no),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_rule_flowbits_first),
		cmocka_unit_test(test_senders),
		cmocka_unit_test(test_subdomain_matching),
		cmocka_unit_test(test_idn_sender_matching),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_header_signal),
		cmocka_unit_test(test_idn_entry_longer_than_written),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
