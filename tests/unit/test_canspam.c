/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for common/canspam.c. Records are built with the dataplane's own builders
 * (ipc_tx_init/ipc_tx_add), checked with ipc_tx_check as posternd does, and copied into a heap
 * buffer of exactly their length so that AddressSanitizer sees any read past the record.
 * Policies come from real configuration strings (config_defaults + config_set). Every check
 * is exercised alone against a compliant newsletter, then List-Unsubscribe URIs, one-click,
 * body links, From alignment, automated mail, the commercial decision, check subsets, config
 * errors and cut records. Three real messages (tests/data/emails/, see its SOURCES.md) are fed
 * as header values extracted by hand.
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

#include "canspam.h"
#include "config.h"
#include "gen_format.h"
#include "ipc.h"

#define MARK(b) ((uint16_t)(1u << (b)))
#define POSTAL MARK(GEN_FLOWBIT_POSTAL_ADDRESS)
#define UNSUB_LINK MARK(GEN_FLOWBIT_UNSUBSCRIBE_LINK)
#define EXPLICIT MARK(GEN_FLOWBIT_SEXUALLY_EXPLICIT)
#define AUTOMATED MARK(GEN_FLOWBIT_AUTOMATED)

#define COMM_YES (IPC_COMM_DECIDED | IPC_COMM_YES | IPC_COMM_LIST_UNSUB)
#define COMM_NO (IPC_COMM_DECIDED | IPC_COMM_EXEMPT_SENDER)

#define SENDER_BITS                                                                         \
	(CANSPAM_NO_FROM | CANSPAM_BAD_FROM | CANSPAM_FROM_MISALIGNED | CANSPAM_BAD_REPLY_TO | \
	 CANSPAM_NO_MESSAGE_ID | CANSPAM_NO_DATE)
#define HYGIENE                                                                             \
	(CANSPAM_NO_FROM | CANSPAM_BAD_FROM | CANSPAM_NO_SUBJECT | CANSPAM_NO_MESSAGE_ID |    \
	 CANSPAM_NO_DATE)
/* everything the default config checks when one-click is not required */
#define DEFAULT_CHECKED (CANSPAM_ALL_FAILURES & ~(uint32_t)CANSPAM_NO_ONE_CLICK)

#define MAX_URLS 4

/* ---- messages and records ---- */

/* A message as the record carries it; NULL leaves a field out. */
struct msg {
	uint16_t commercial;
	uint16_t marks;
	uint16_t flags;
	const char *mail_from, *from, *reply_to, *subject, *message_id, *date, *lu, *lu_post;
	const char *urls[MAX_URLS];
};

/* The compliant newsletter every single-failure case starts from. */
static const struct msg good = {
	.commercial = COMM_YES,
	.marks = POSTAL,
	.flags = IPC_TXF_HAS_DATA,
	.mail_from = "<bounce+123@mail.shop.example>",
	.from = "\"Shop, Inc.\" <news@shop.example>",
	.reply_to = "Shop Support <help@shop.example>",
	.subject = "Spring sale: 20% off",
	.message_id = "<20240101.1@mail.shop.example>",
	.date = "Mon, 1 Jan 2024 10:00:00 +0000",
	.lu = "<https://shop.example/u?id=42>, <mailto:unsub@shop.example?subject=unsubscribe>",
	.lu_post = "List-Unsubscribe=One-Click",
	.urls = { "https://shop.example/spring" },
};

struct rec {
	uint64_t buf[IPC_TX_MAX / 8]; /* 8-byte aligned, as received records are */
};

static void
add_str(struct ipc_tx *tx, enum ipc_field_type type, const char *s)
{
	if (s != NULL)
		assert_non_null(ipc_tx_add(tx, IPC_TX_MAX, type, s, strlen(s)));
}

/* Build, check and copy the record into a buffer of exactly its length (caller frees). */
static struct ipc_tx *
build(const struct msg *m)
{
	struct rec r;
	struct ipc_tx *tx = (struct ipc_tx *)r.buf, *copy;

	ipc_tx_init(tx, sizeof(r.buf));
	tx->ts_us = 1704103200000000ull;
	tx->flow_id = 42;
	tx->ip_version = 4;
	tx->commercial = m->commercial;
	tx->marks = m->marks;
	tx->flags = m->flags;
	add_str(tx, IPC_F_HELO, "mta1.shop.example");
	add_str(tx, IPC_F_MAIL_FROM, m->mail_from);
	add_str(tx, IPC_F_EMAIL_FROM, m->from);
	add_str(tx, IPC_F_REPLY_TO, m->reply_to);
	add_str(tx, IPC_F_SUBJECT, m->subject);
	add_str(tx, IPC_F_MESSAGE_ID, m->message_id);
	add_str(tx, IPC_F_DATE, m->date);
	add_str(tx, IPC_F_LIST_UNSUB, m->lu);
	add_str(tx, IPC_F_LIST_UNSUB_POST, m->lu_post);
	for (size_t i = 0; i < MAX_URLS; i++)
		add_str(tx, IPC_F_URL, m->urls[i]);
	assert_int_equal(ipc_tx_check(tx, tx->hdr.len), 0);
	copy = malloc(tx->hdr.len);
	assert_non_null(copy);
	memcpy(copy, tx, tx->hdr.len);
	return copy;
}

/* ---- policies ---- */

static void
config_with(struct postern_config *c, const char *const *kv)
{
	char err[256];

	config_defaults(c);
	for (size_t i = 0; kv != NULL && kv[i] != NULL; i += 2)
		if (config_set(c, kv[i], kv[i + 1], err, sizeof(err)) != 0)
			fail_msg("config_set %s = %s: %s", kv[i], kv[i + 1], err);
}

static struct canspam_policy *
policy_with(const char *const *kv)
{
	struct postern_config c;
	struct canspam_policy *p;
	char err[256] = "";

	config_with(&c, kv);
	p = canspam_create(&c, err, sizeof(err));
	if (p == NULL)
		fail_msg("canspam_create: %s", err);
	return p;
}

static void
policy_fails(const char *const *kv, const char *want)
{
	struct postern_config c;
	char err[256] = "";

	config_with(&c, kv);
	errno = 0;
	assert_null(canspam_create(&c, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err, want);
}

static struct canspam_result
judge(const struct canspam_policy *p, const struct msg *m)
{
	struct ipc_tx *tx = build(m);
	struct canspam_result r;

	memset(&r, 0xa5, sizeof(r)); /* canspam_check must set every member */
	canspam_check(p, tx, &r);
	free(tx);
	assert_int_equal(r.failed & ~r.checked, 0);
	return r;
}

/* Judge m under the policy of kv and expect kind, checked and failed exactly. */
static void
expect(const char *const *kv, const struct msg *m, uint8_t kind, uint32_t checked,
       uint32_t failed)
{
	struct canspam_policy *p = policy_with(kv);
	struct canspam_result r = judge(p, m);

	canspam_destroy(p);
	assert_int_equal(r.kind, kind);
	assert_int_equal(r.checked, checked);
	assert_int_equal(r.failed, failed);
}

static const char *const one_click[] = { "canspam_require_one_click", "yes", NULL };
static const char *const lu_only[] = { "canspam_unsubscribe", "list-unsubscribe", NULL };
static const char *const body_only[] = { "canspam_unsubscribe", "body-link", NULL };

/* ---- tests ---- */

static void
test_compliant(void **state)
{
	(void)state;
	expect(NULL, &good, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, 0);
	expect(one_click, &good, CANSPAM_COMMERCIAL, CANSPAM_ALL_FAILURES, 0);
}

static void
test_each_failure_alone(void **state)
{
	struct msg m;

	(void)state;
	m = good;
	m.lu = NULL;
	m.lu_post = NULL;
	/* BAD_UNSUBSCRIBE is not judged without a header */
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED & ~(uint32_t)CANSPAM_BAD_UNSUBSCRIBE,
	       CANSPAM_NO_UNSUBSCRIBE);

	m = good;
	m.lu = "<http://shop.example/u?id=42>";
	m.marks |= UNSUB_LINK;
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, CANSPAM_BAD_UNSUBSCRIBE);

	m = good;
	m.lu = "<mailto:unsub@shop.example>";
	expect(one_click, &m, CANSPAM_COMMERCIAL, CANSPAM_ALL_FAILURES, CANSPAM_NO_ONE_CLICK);

	m = good;
	m.marks = 0;
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, CANSPAM_NO_POSTAL_ADDRESS);

	/* without a From there is nothing to parse or align */
	m = good;
	m.from = NULL;
	expect(NULL, &m, CANSPAM_COMMERCIAL,
	       DEFAULT_CHECKED & ~(uint32_t)(CANSPAM_BAD_FROM | CANSPAM_FROM_MISALIGNED),
	       CANSPAM_NO_FROM);
	m.from = "  ";
	expect(NULL, &m, CANSPAM_COMMERCIAL,
	       DEFAULT_CHECKED & ~(uint32_t)(CANSPAM_BAD_FROM | CANSPAM_FROM_MISALIGNED),
	       CANSPAM_NO_FROM);

	m = good;
	m.from = "Shop <not an address>";
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED & ~(uint32_t)CANSPAM_FROM_MISALIGNED,
	       CANSPAM_BAD_FROM);
	m.from = "undisclosed-recipients:;";
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED & ~(uint32_t)CANSPAM_FROM_MISALIGNED,
	       CANSPAM_BAD_FROM);

	m = good;
	m.mail_from = "<bounce@esp.example>";
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, CANSPAM_FROM_MISALIGNED);

	m = good;
	m.reply_to = "support at shop dot example";
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, CANSPAM_BAD_REPLY_TO);
	m.reply_to = "a@shop.example, broken";
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, CANSPAM_BAD_REPLY_TO);
	m.reply_to = "";
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, CANSPAM_BAD_REPLY_TO);
	/* a list of good mailboxes, and none at all, are fine */
	m.reply_to = "a@shop.example, \"B, Team\" <b@shop.example>";
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, 0);
	m.reply_to = NULL;
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED & ~(uint32_t)CANSPAM_BAD_REPLY_TO, 0);

	m = good;
	m.message_id = NULL;
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, CANSPAM_NO_MESSAGE_ID);

	m = good;
	m.date = " ";
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, CANSPAM_NO_DATE);
	m.date = NULL;
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, CANSPAM_NO_DATE);

	m = good;
	m.subject = NULL;
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, CANSPAM_NO_SUBJECT);
	m.subject = " \t ";
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, CANSPAM_NO_SUBJECT);
	m.subject = "\xc2\xa0\xe3\x80\x80\xe2\x80\x8b"; /* NBSP, ideographic space, ZWSP */
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, CANSPAM_NO_SUBJECT);
	m.subject = "\xc2\xa0x";
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, 0);

	m = good;
	m.marks |= EXPLICIT;
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, CANSPAM_NO_EXPLICIT_LABEL);
	m.subject = "sexually-explicit: lower case is not the phrase";
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, CANSPAM_NO_EXPLICIT_LABEL);
	m.subject = "Hot: SEXUALLY-EXPLICIT: not at the start";
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, CANSPAM_NO_EXPLICIT_LABEL);
	m.subject = NULL;
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED,
	       CANSPAM_NO_EXPLICIT_LABEL | CANSPAM_NO_SUBJECT);
	m.subject = "SEXUALLY-EXPLICIT: offer";
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, 0);
	m.subject = " SEXUALLY-EXPLICIT:offer";
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, 0);
	/* the label is only owed by explicit content */
	m.marks &= (uint16_t)~EXPLICIT;
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, 0);
}

/* List-Unsubscribe values with list-unsubscribe as the only mechanism: valid or not. */
static void
test_lu_uris(void **state)
{
	static const struct {
		const char *lu;
		bool valid;
	} cases[] = {
		{ "<mailto:unsub@shop.example>", true },
		{ "<mailto:unsub@shop.example?subject=unsubscribe&body=x>", true },
		{ "<MAILTO:unsub%40shop.example>", true },
		{ "<mailto:u1@shop.example,u2@shop.example>", true },
		{ "<mailto:>", false },
		{ "<mailto:?to=unsub@shop.example>", false },
		{ "<mailto:nobody>", false },
		{ "<mailto:a b@shop.example>", true }, /* blanks in brackets are folding */
		{ "<mailto:<unsub@shop.example>>", false },
		{ "<mailto:unsub%4>", false },
		{ "<mailto:unsub%zz@shop.example>", false },
		{ "<https://shop.example/u?id=1>", true },
		{ "<HTTPS://shop.example>", true },
		{ "<https://shop.example:8443/u>", true },
		{ "<https://user@shop.example/u>", true },
		{ "<https://[2001:db8::1]/u>", true },
		{ "<https://[2001:db8::1]:443/u>", true },
		{ "<https://[]/u>", false },
		{ "<https://[2001:db8::1/u>", false },
		{ "<https:///u>", false },
		{ "<https://:443/u>", false },
		{ "<https://shop.example:44x/u>", false },
		{ "<https://.shop.example/u>", false },
		{ "<https://shop!example/u>", false },
		{ "<https:shop.example/u>", false },
		{ "<http://shop.example/u>", false },
		{ "<ftp://shop.example/u>", false },
		{ "<>", false },
		{ "", false },
		{ "garbage", false },
		{ "https://shop.example/u", false },        /* no brackets */
		{ "<https://shop.example/u", false },       /* never closed */
		{ "(comment <https://x.example>) <http://shop.example/u>", false },
		{ "(see <x>) <https://shop.example/u>", true },
		{ "(nested (comment)) <mailto:unsub@shop.example>", true },
		{ "<http://shop.example/u>, <mailto:unsub@shop.example>", true },
		{ "junk, <https://shop.example/u>", true },
		{ "Unsubscribe here: <https://shop.example/u>", true },
		{ "junk <http://shop.example/u> (https://shop.example/u)", false },
		{ "<https://shop.exa\r\n mple/u>", true },  /* folded inside the brackets */
		{ "<http://shop.example/u>,<ftp://x>,<mailto:>", false },
	};
	struct canspam_policy *p = policy_with(lu_only);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct msg m = good;
		struct canspam_result r;
		uint32_t want = cases[i].valid ? 0 : CANSPAM_NO_UNSUBSCRIBE | CANSPAM_BAD_UNSUBSCRIBE;

		m.lu = cases[i].lu;
		m.lu_post = NULL;
		r = judge(p, &m);
		if (r.failed != want)
			fail_msg("List-Unsubscribe: %s: failed %#x, want %#x", cases[i].lu,
				 r.failed, want);
		assert_true(r.checked & CANSPAM_BAD_UNSUBSCRIBE);
	}
	canspam_destroy(p);
}

static void
test_one_click(void **state)
{
	static const char *const only_oc[] = { "canspam_unsubscribe", "one-click", NULL };
	struct canspam_policy *req = policy_with(one_click), *only = policy_with(only_oc);
	struct msg m = good;

	(void)state;
	assert_int_equal(judge(req, &m).failed, 0);
	assert_int_equal(judge(only, &m).failed, 0);
	/* mailto alone satisfies list-unsubscribe, not one-click */
	m.lu = "<mailto:unsub@shop.example>";
	assert_int_equal(judge(req, &m).failed, CANSPAM_NO_ONE_CLICK);
	assert_int_equal(judge(only, &m).failed, CANSPAM_NO_UNSUBSCRIBE);
	/* https without the POST header */
	m = good;
	m.lu_post = NULL;
	assert_int_equal(judge(req, &m).failed, CANSPAM_NO_ONE_CLICK);
	assert_int_equal(judge(only, &m).failed, CANSPAM_NO_UNSUBSCRIBE);
	m.lu_post = " list-unsubscribe=one-click ";
	assert_int_equal(judge(req, &m).failed, 0);
	m.lu_post = "List-Unsubscribe=One-Click; x=y";
	assert_int_equal(judge(req, &m).failed, CANSPAM_NO_ONE_CLICK);
	m.lu_post = "List-Unsubscribe=Yes";
	assert_int_equal(judge(req, &m).failed, CANSPAM_NO_ONE_CLICK);
	/* RFC 8058 wants https: http with the POST header is not one-click, nor valid */
	m = good;
	m.lu = "<http://shop.example/u>";
	m.marks |= UNSUB_LINK;
	assert_int_equal(judge(req, &m).failed, CANSPAM_NO_ONE_CLICK | CANSPAM_BAD_UNSUBSCRIBE);
	assert_int_equal(judge(only, &m).failed,
			 CANSPAM_NO_UNSUBSCRIBE | CANSPAM_BAD_UNSUBSCRIBE);
	/* required one-click is checked even when a body link is all that is accepted */
	{
		static const char *const kv[] = { "canspam_unsubscribe", "body-link",
						  "canspam_require_one_click", "yes", NULL };

		m = good;
		m.lu_post = NULL;
		m.marks |= UNSUB_LINK;
		expect(kv, &m, CANSPAM_COMMERCIAL, CANSPAM_ALL_FAILURES, CANSPAM_NO_ONE_CLICK);
	}
	canspam_destroy(req);
	canspam_destroy(only);
}

static void
test_body_link(void **state)
{
	static const struct {
		const char *url;
		bool link;
	} cases[] = {
		{ "https://shop.example/account/Unsubscribe?id=1", true },
		{ "http://shop.example/p?action=opt-out", true },
		{ "https://shop.example/OPTOUT", true },
		{ "https://shop.example/x/opt_out/", true },
		{ "https://shop.example/app/optOut/noConfirm/4852414", true },
		{ "mailto:optout@shop.example", true },
		{ "www.shop.example/unsubscribe", true },
		{ "https://unsubscribe.shop.example/home", false }, /* only the host says it */
		{ "https://shop.example/#unsubscribe", false },     /* only the fragment */
		{ "https://shop.example/spring", false },
		{ "https://shop.example/opt", false },
		{ "unsubscribe", false },
		{ "", false },
	};
	struct canspam_policy *p = policy_with(body_only);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct msg m = good;
		struct canspam_result r;

		m.lu = NULL;
		m.lu_post = NULL;
		m.urls[1] = cases[i].url;
		r = judge(p, &m);
		if (r.failed != (cases[i].link ? 0u : CANSPAM_NO_UNSUBSCRIBE))
			fail_msg("URL %s: failed %#x", cases[i].url, r.failed);
	}
	{
		struct msg m = good;

		/* the rule pack's mark does it too */
		m.lu = NULL;
		m.marks |= UNSUB_LINK;
		assert_int_equal(judge(p, &m).failed, 0);
		/* a broken header is not judged when no header mechanism is accepted */
		m.lu = "<http://shop.example/u>";
		assert_int_equal(judge(p, &m).checked & CANSPAM_BAD_UNSUBSCRIBE, 0);
		/* with only a header accepted, the body link does not help */
		m.lu = NULL;
		m.urls[1] = "https://shop.example/unsubscribe";
		expect(lu_only, &m, CANSPAM_COMMERCIAL,
		       DEFAULT_CHECKED & ~(uint32_t)CANSPAM_BAD_UNSUBSCRIBE,
		       CANSPAM_NO_UNSUBSCRIBE);
	}
	canspam_destroy(p);
}

static void
test_alignment(void **state)
{
	static const struct {
		const char *mail_from, *from, *from_domains;
		bool aligned;
	} cases[] = {
		{ "<bounce@shop.example>", "news@shop.example", "", true },
		{ "bounce@shop.example", "Shop <news@shop.example>", "", true },
		{ "<bounce@mail.shop.example>", "news@shop.example", "", true },
		{ "<bounce@shop.example>", "news@news.shop.example", "", true },
		{ "<bounce@SHOP.Example>", "news@shop.EXAMPLE", "", true },
		{ "<bounce@a.shop.example>", "news@b.shop.example", "", false }, /* siblings */
		{ "<bounce@notshop.example>", "news@shop.example", "", false },
		{ "<bounce@shop.example.evil>", "news@shop.example", "", false },
		{ "<bounce@esp.example>", "news@shop.example", "shop.example", true },
		{ "<bounce@esp.example>", "news@mail.shop.example", "shop.example", true },
		{ "<bounce@esp.example>", "news@shop.example", "other.example, x.example", false },
		{ "<bounce@esp.example>", "news@notshop.example", "shop.example", false },
		{ "<>", "news@shop.example", "", false },
		{ "<>", "news@shop.example", "shop.example", true },
		{ NULL, "news@shop.example", "", false },
		{ "<bounce@xn--bcher-kva.example>", "news@b\xc3\xbc" "cher.example", "", true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *kv[] = { "canspam_from_domains", cases[i].from_domains, NULL };
		struct canspam_policy *p = policy_with(kv);
		struct msg m = good;
		struct canspam_result r;

		m.mail_from = cases[i].mail_from;
		m.from = cases[i].from;
		r = judge(p, &m);
		canspam_destroy(p);
		assert_true(r.checked & CANSPAM_FROM_MISALIGNED);
		if (r.failed != (cases[i].aligned ? 0u : CANSPAM_FROM_MISALIGNED))
			fail_msg("MAIL FROM %s, From %s, accepted '%s': failed %#x",
				 cases[i].mail_from ? cases[i].mail_from : "(none)", cases[i].from,
				 cases[i].from_domains, r.failed);
	}
}

static void
test_automated(void **state)
{
	static const char *const senders[] = { "automated_senders", "cron.example", NULL };
	static const char *const none[] = { "canspam_checks", "none", NULL };
	static const char *const subj[] = { "canspam_checks", "subject", NULL };
	struct msg m = {
		.commercial = IPC_COMM_DECIDED | IPC_COMM_EXEMPT_SENDER,
		.marks = AUTOMATED,
		.flags = IPC_TXF_HAS_DATA,
		.mail_from = "<root@host1.cron.example>",
		.from = "Cron Daemon <root@host1.ops.example>",
		.message_id = "<1@host1>",
		.date = "Mon, 1 Jan 2024 03:00:01 +0000",
	};

	(void)state;
	/* misaligned, no unsubscribe, no postal address: none of that is asked of it */
	expect(NULL, &m, CANSPAM_AUTOMATED, HYGIENE, CANSPAM_NO_SUBJECT);
	m.subject = "Cron <root@host1> /usr/local/bin/backup";
	expect(NULL, &m, CANSPAM_AUTOMATED, HYGIENE, 0);
	m.from = "root";
	expect(NULL, &m, CANSPAM_AUTOMATED, HYGIENE, CANSPAM_BAD_FROM);
	m.from = NULL;
	m.message_id = NULL;
	expect(NULL, &m, CANSPAM_AUTOMATED, HYGIENE & ~(uint32_t)CANSPAM_BAD_FROM,
	       CANSPAM_NO_FROM | CANSPAM_NO_MESSAGE_ID);
	/* commercial and automated: automated wins */
	m.from = "root@host1.ops.example";
	m.message_id = "<1@host1>";
	m.commercial = COMM_YES;
	expect(NULL, &m, CANSPAM_AUTOMATED, HYGIENE, 0);
	/* by automated_senders instead of the mark: MAIL FROM's domain, or From's */
	m.marks = 0;
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED & ~(uint32_t)CANSPAM_BAD_REPLY_TO &
					     ~(uint32_t)CANSPAM_BAD_UNSUBSCRIBE,
	       CANSPAM_NO_UNSUBSCRIBE | CANSPAM_NO_POSTAL_ADDRESS | CANSPAM_FROM_MISALIGNED);
	expect(senders, &m, CANSPAM_AUTOMATED, HYGIENE, 0);
	m.mail_from = "<>";
	m.from = "Backup <backup@cron.example>";
	expect(senders, &m, CANSPAM_AUTOMATED, HYGIENE, 0);
	m.from = "Backup <backup@notcron.example>";
	expect(senders, &m, CANSPAM_COMMERCIAL,
	       DEFAULT_CHECKED & ~(uint32_t)(CANSPAM_BAD_REPLY_TO | CANSPAM_BAD_UNSUBSCRIBE),
	       CANSPAM_NO_UNSUBSCRIBE | CANSPAM_NO_POSTAL_ADDRESS | CANSPAM_FROM_MISALIGNED);
	/* canspam_checks limits the hygiene checks too */
	m.marks = AUTOMATED;
	m.subject = NULL;
	expect(none, &m, CANSPAM_AUTOMATED, 0, 0);
	expect(subj, &m, CANSPAM_AUTOMATED, CANSPAM_NO_SUBJECT, CANSPAM_NO_SUBJECT);
	/* no message, nothing to judge */
	m.flags = 0;
	expect(NULL, &m, CANSPAM_NONE, 0, 0);
}

static void
test_commercial_decision(void **state)
{
	struct msg m = good;

	(void)state;
	m.marks = 0;
	m.lu = NULL;
	/* judged not commercial: nothing checked */
	m.commercial = COMM_NO;
	expect(NULL, &m, CANSPAM_NONE, 0, 0);
	m.commercial = IPC_COMM_DECIDED;
	expect(NULL, &m, CANSPAM_NONE, 0, 0);
	/* not judged (a cut record): checked as commercial */
	m.commercial = 0;
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED & ~(uint32_t)CANSPAM_BAD_UNSUBSCRIBE,
	       CANSPAM_NO_UNSUBSCRIBE | CANSPAM_NO_POSTAL_ADDRESS);
	m.commercial = IPC_COMM_YES | IPC_COMM_RULE;
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED & ~(uint32_t)CANSPAM_BAD_UNSUBSCRIBE,
	       CANSPAM_NO_UNSUBSCRIBE | CANSPAM_NO_POSTAL_ADDRESS);
	/* commercial only by commercial_default: subject to suppression, content not checked */
	m.commercial = IPC_COMM_DECIDED | IPC_COMM_YES | IPC_COMM_DEFAULT;
	expect(NULL, &m, CANSPAM_NONE, 0, 0);
	/* commercial but no message (RCPT rejected, aborted): nothing to judge */
	m.flags = 0;
	expect(NULL, &m, CANSPAM_NONE, 0, 0);
}

static void
test_check_subsets(void **state)
{
	static const char *const postal[] = { "canspam_checks", "postal", NULL };
	static const char *const two[] = { "canspam_checks", " Sender,subject ", NULL };
	static const char *const label[] = { "canspam_checks", "label", NULL };
	static const char *const none[] = { "canspam_checks", "none", NULL };
	static const char *const unsub[] = { "canspam_checks", "unsubscribe",
					     "canspam_require_one_click", "yes", NULL };
	struct msg m = good;

	(void)state;
	/* a message that fails everything it can */
	m.marks = EXPLICIT;
	m.mail_from = "<bounce@esp.example>";
	m.reply_to = "junk";
	m.subject = NULL;
	m.message_id = NULL;
	m.date = NULL;
	m.lu = "<http://shop.example/u>";
	m.lu_post = NULL;
	m.urls[0] = NULL;
	expect(postal, &m, CANSPAM_COMMERCIAL, CANSPAM_NO_POSTAL_ADDRESS,
	       CANSPAM_NO_POSTAL_ADDRESS);
	expect(two, &m, CANSPAM_COMMERCIAL, SENDER_BITS | CANSPAM_NO_SUBJECT,
	       CANSPAM_FROM_MISALIGNED | CANSPAM_BAD_REPLY_TO | CANSPAM_NO_MESSAGE_ID |
		       CANSPAM_NO_DATE | CANSPAM_NO_SUBJECT);
	expect(label, &m, CANSPAM_COMMERCIAL, CANSPAM_NO_EXPLICIT_LABEL,
	       CANSPAM_NO_EXPLICIT_LABEL);
	expect(none, &m, CANSPAM_COMMERCIAL, 0, 0);
	expect(unsub, &m, CANSPAM_COMMERCIAL,
	       CANSPAM_NO_UNSUBSCRIBE | CANSPAM_BAD_UNSUBSCRIBE | CANSPAM_NO_ONE_CLICK,
	       CANSPAM_NO_UNSUBSCRIBE | CANSPAM_BAD_UNSUBSCRIBE | CANSPAM_NO_ONE_CLICK);
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED,
	       DEFAULT_CHECKED & ~(uint32_t)(CANSPAM_NO_FROM | CANSPAM_BAD_FROM));
}

static void
test_config_errors(void **state)
{
	static const char *const a[] = { "canspam_checks", "unsubscribe, spelling", NULL };
	static const char *const b[] = { "canspam_unsubscribe", "list-unsub", NULL };
	static const char *const c[] = { "canspam_checks", "none, postal", NULL };
	static const char *const d[] = { "canspam_unsubscribe", "none", NULL };
	static const char *const e[] = { "canspam_from_domains", "shop.example, a@@b", NULL };
	static const char *const f[] = { "automated_senders", "cron.example ops..example", NULL };
	static const char *const g[] = { "canspam_checks", "postal",
					 "canspam_unsubscribe", "none", NULL };
	static const char *const h[] = { "canspam_checks", "", "canspam_unsubscribe", "",
					 NULL };
	static const char *const i[] = { "canspam_checks", "postal\x01", NULL };
	struct canspam_policy *p;

	(void)state;
	policy_fails(a, "canspam_checks: 'spelling' is not one of unsubscribe, postal, sender, "
			"subject, label, none");
	policy_fails(b, "canspam_unsubscribe: 'list-unsub' is not one of list-unsubscribe, "
			"one-click, body-link, none");
	policy_fails(c, "canspam_checks: 'none' cannot be combined with other names");
	policy_fails(d, "canspam_unsubscribe: no mechanism accepted while canspam_checks has "
			"unsubscribe");
	policy_fails(e, "canspam_from_domains: 'a@@b' is not a domain");
	policy_fails(f, "automated_senders: 'ops..example' is not a domain");
	policy_fails(i, "canspam_checks: 'postal\\x01' is not one of unsubscribe, postal, "
			"sender, subject, label, none");
	/* no mechanism is fine when nothing asks for one; empty lists mean none */
	p = policy_with(g);
	canspam_destroy(p);
	p = policy_with(h);
	{
		struct msg m = good;

		m.marks = 0;
		assert_int_equal(judge(p, &m).checked, 0);
	}
	canspam_destroy(p);
	canspam_destroy(NULL);
}

/* A record cut at its bound may have lost fields: their absence is not reported. */
static void
test_truncated(void **state)
{
	struct msg m = good;

	(void)state;
	m.flags |= IPC_TXF_TRUNCATED;
	expect(NULL, &m, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, 0);
	m.date = NULL;
	m.lu = NULL;
	m.from = NULL;
	expect(NULL, &m, CANSPAM_COMMERCIAL,
	       DEFAULT_CHECKED & ~(uint32_t)(CANSPAM_NO_DATE | CANSPAM_NO_UNSUBSCRIBE |
					     CANSPAM_BAD_UNSUBSCRIBE | CANSPAM_NO_FROM |
					     CANSPAM_BAD_FROM | CANSPAM_FROM_MISALIGNED),
	       0);
	/* what is there is still judged */
	m.date = "";
	m.marks = 0;
	expect(NULL, &m, CANSPAM_COMMERCIAL,
	       DEFAULT_CHECKED & ~(uint32_t)(CANSPAM_NO_UNSUBSCRIBE | CANSPAM_BAD_UNSUBSCRIBE |
					     CANSPAM_NO_FROM | CANSPAM_BAD_FROM |
					     CANSPAM_FROM_MISALIGNED),
	       CANSPAM_NO_DATE | CANSPAM_NO_POSTAL_ADDRESS);
	/* without the record cut, the same absences fail */
	m.flags &= (uint16_t)~IPC_TXF_TRUNCATED;
	m.date = NULL;
	expect(NULL, &m, CANSPAM_COMMERCIAL,
	       DEFAULT_CHECKED & ~(uint32_t)(CANSPAM_BAD_UNSUBSCRIBE | CANSPAM_BAD_FROM |
					     CANSPAM_FROM_MISALIGNED),
	       CANSPAM_NO_DATE | CANSPAM_NO_POSTAL_ADDRESS | CANSPAM_NO_FROM |
		       CANSPAM_NO_UNSUBSCRIBE);
}

/* Every prefix of awkward header values, and values at the field bound: no read outside the
 * record (ASan), and failed stays within checked (judge asserts it). */
static void
test_prefixes_and_bounds(void **state)
{
	static const char *const values[] = {
		"(a (b) \\) c) <mailto:u%40shop.example?x=y>, <https://[2001:db8::1]:443/u>",
		"\"Shop, Inc.\" <news@shop.example> (comment)",
		"<https://user@shop.example:8443/p?q=unsubscribe#f>",
	};
	static char big[IPC_FIELD_MAX + 2];
	struct canspam_policy *p = policy_with(one_click);

	(void)state;
	for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
		size_t len = strlen(values[v]);

		for (size_t n = 0; n <= len; n++) {
			char cut[128];
			struct msg m = good;

			memcpy(cut, values[v], n);
			cut[n] = '\0';
			m.lu = cut;
			m.from = cut;
			m.reply_to = cut;
			m.mail_from = cut;
			m.urls[1] = cut;
			(void)judge(p, &m);
		}
	}
	/* a URI that fills the whole field: bounded copy, still valid */
	memset(big, 'a', IPC_FIELD_MAX);
	memcpy(big, "<https://shop.example/", 22);
	big[IPC_FIELD_MAX - 1] = '>';
	{
		struct msg m = good;

		m.lu = big;
		assert_int_equal(judge(p, &m).failed, 0);
		/* one byte more is cut by the builder: no closing bracket, and the record is
		 * flagged cut, so the header is not judged bad */
		big[IPC_FIELD_MAX - 1] = 'a';
		big[IPC_FIELD_MAX] = '>';
		m.lu = big;
		m.flags |= IPC_TXF_TRUNCATED;
		{
			struct canspam_result r = judge(p, &m);

			assert_int_equal(r.checked & CANSPAM_BAD_UNSUBSCRIBE, 0);
			assert_int_equal(r.failed, 0);
		}
	}
	canspam_destroy(p);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(canspam_failure_name(CANSPAM_NO_UNSUBSCRIBE), "no_unsubscribe");
	assert_string_equal(canspam_failure_name(CANSPAM_FROM_MISALIGNED), "from_misaligned");
	assert_string_equal(canspam_failure_name(CANSPAM_NO_EXPLICIT_LABEL),
			    "no_explicit_label");
	assert_string_equal(canspam_failure_reason(CANSPAM_NO_UNSUBSCRIBE),
			    "no List-Unsubscribe with a mailto: or https: URI, no one-click, no "
			    "unsubscribe link in the body");
	for (unsigned i = 0; i < CANSPAM_N_FAILURES; i++) {
		const char *n = canspam_failure_name((enum canspam_failure)(1u << i));

		assert_string_not_equal(n, "unknown");
		assert_string_not_equal(canspam_failure_reason((enum canspam_failure)(1u << i)),
					"unknown failure");
		for (unsigned k = 0; k < i; k++)
			assert_string_not_equal(
				n, canspam_failure_name((enum canspam_failure)(1u << k)));
	}
	assert_string_equal(canspam_failure_name((enum canspam_failure)0), "unknown");
	assert_string_equal(canspam_failure_name((enum canspam_failure)3), "unknown");
	assert_string_equal(canspam_failure_name((enum canspam_failure)(1u << CANSPAM_N_FAILURES)),
			    "unknown");
	assert_string_equal(canspam_failure_reason((enum canspam_failure)0), "unknown failure");
}

/* ---- real messages (tests/data/emails/, header values extracted by hand) ---- */

/* spamscope-mail-parser__mail_test_13.eml: a Mailchimp newsletter. The footer carries
 * "26 Buttercup Ln", which the rule pack marks as a postal address. */
static const struct msg mailchimp = {
	.commercial = IPC_COMM_DECIDED | IPC_COMM_YES | IPC_COMM_LIST_UNSUB | IPC_COMM_LIST_ID,
	.marks = POSTAL,
	.flags = IPC_TXF_HAS_DATA,
	.mail_from = "<bounce-mc.us14_65794145.395229-dpinnix=coastbankcalifornia.com@"
		     "mail90.suw15.mcsv.net>",
	.from = "=?utf-8?Q?Continuity=20Insights?= <info@continuityinsights.com>",
	.reply_to = "=?utf-8?Q?Continuity=20Insights?= <info@continuityinsights.com>",
	.subject = "New Webinar: So, You Have A Disaster... Now What?",
	.message_id = "<3f21937f0f636c8cec1db30bf.042ea43672.20180829202633.199bb58d0b."
		      "baa034eb@mail90.suw15.mcsv.net>",
	.date = "Wed, 29 Aug 2018 20:26:47 +0000",
	.lu = "<https://cimanagementconference.us14.list-manage.com/unsubscribe?"
	      "u=3f21937f0f636c8cec1db30bf&id=9bc9573bd6&e=042ea43672&c=199bb58d0b>, "
	      "<mailto:unsubscribe-mc.us14_3f21937f0f636c8cec1db30bf.199bb58d0b-042ea43672@"
	      "mailin.mcsv.net?subject=unsubscribe>",
	.lu_post = "List-Unsubscribe=One-Click",
	.urls = { "https://cimanagementconference.us14.list-manage.com/unsubscribe?"
		  "u=3f21937f0f636c8cec1db30bf&id=9bc9573bd6&e=042ea43672&c=199bb58d0b" },
};

/* php-mime-mail-parser__m0015.eml: an Infusionsoft retail promotion with a PO Box. */
static const struct msg infusion = {
	.commercial = IPC_COMM_DECIDED | IPC_COMM_YES | IPC_COMM_LIST_UNSUB,
	.marks = POSTAL,
	.flags = IPC_TXF_HAS_DATA,
	.mail_from = "<mailer@infusionmail.com>",
	.from = "\"Vitamart.ca\" <service@vitamart.ca>",
	.subject = "Up to $30 Off Multivitamins!",
	.message_id = "<456567557.4415501395943566828.JavaMail.tomcat@rewind>",
	.date = "Thu, 27 Mar 2014 14:06:06 -0400 (EDT)",
	.lu = "<https://healthmarketing.infusionsoft.com/app/optOut/noConfirm/4852414/"
	      "3fd76deeb52f82ce>",
	.urls = { "https://healthmarketing.infusionsoft.com/app/optOut/72/1f36fcf4411f9156/"
		  "4852414/3fd76deeb52f82ce" },
};

/* mimekit__dkim__gmail.eml: a personal message from Gmail. */
static const struct msg personal = {
	.commercial = IPC_COMM_DECIDED,
	.flags = IPC_TXF_HAS_DATA,
	.mail_from = "<jeff.stedfast@gmail.com>",
	.from = "Jeffrey Stedfast <jeff.stedfast@gmail.com>",
	.subject = "Testing verification of Google DKIM-Signature headers",
	.message_id = "<CAFksUUeRp=6VFpYM-UAXbKOmK_yEn2ma5LpLUH5j05WGFaJVFQ@mail.gmail.com>",
	.date = "Wed, 10 Jun 2015 22:05:37 -0400",
};

static void
test_real_messages(void **state)
{
	static const char *const mc_ok[] = { "canspam_from_domains", "continuityinsights.com",
					     "canspam_require_one_click", "yes", NULL };
	static const char *const inf_ok[] = { "canspam_from_domains", "vitamart.ca", NULL };
	static const char *const inf_oc[] = { "canspam_from_domains", "vitamart.ca",
					      "canspam_require_one_click", "yes", NULL };
	struct msg m;

	(void)state;
	/* an ESP's envelope domain is not the brand's: aligned only once the brand is listed */
	expect(NULL, &mailchimp, CANSPAM_COMMERCIAL, DEFAULT_CHECKED, CANSPAM_FROM_MISALIGNED);
	expect(mc_ok, &mailchimp, CANSPAM_COMMERCIAL, CANSPAM_ALL_FAILURES, 0);

	/* no Reply-To; https List-Unsubscribe without RFC 8058 */
	expect(NULL, &infusion, CANSPAM_COMMERCIAL,
	       DEFAULT_CHECKED & ~(uint32_t)CANSPAM_BAD_REPLY_TO, CANSPAM_FROM_MISALIGNED);
	expect(inf_ok, &infusion, CANSPAM_COMMERCIAL,
	       DEFAULT_CHECKED & ~(uint32_t)CANSPAM_BAD_REPLY_TO, 0);
	expect(inf_oc, &infusion, CANSPAM_COMMERCIAL,
	       CANSPAM_ALL_FAILURES & ~(uint32_t)CANSPAM_BAD_REPLY_TO, CANSPAM_NO_ONE_CLICK);
	/* its body's optOut link alone would do */
	m = infusion;
	m.lu = NULL;
	expect(inf_ok, &m, CANSPAM_COMMERCIAL,
	       DEFAULT_CHECKED & ~(uint32_t)(CANSPAM_BAD_REPLY_TO | CANSPAM_BAD_UNSUBSCRIBE), 0);

	/* personal mail is not commercial: nothing applies */
	expect(NULL, &personal, CANSPAM_NONE, 0, 0);
	/* were it undecided, its headers are sound but it offers no opt-out nor address */
	m = personal;
	m.commercial = 0;
	expect(NULL, &m, CANSPAM_COMMERCIAL,
	       DEFAULT_CHECKED & ~(uint32_t)(CANSPAM_BAD_REPLY_TO | CANSPAM_BAD_UNSUBSCRIBE),
	       CANSPAM_NO_UNSUBSCRIBE | CANSPAM_NO_POSTAL_ADDRESS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compliant),
		cmocka_unit_test(test_each_failure_alone),
		cmocka_unit_test(test_lu_uris),
		cmocka_unit_test(test_one_click),
		cmocka_unit_test(test_body_link),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_automated),
		cmocka_unit_test(test_commercial_decision),
		cmocka_unit_test(test_check_subsets),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_prefixes_and_bounds),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_real_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
