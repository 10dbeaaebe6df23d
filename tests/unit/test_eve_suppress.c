/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EVE suppression alerts (control/eve.c) for the commercial decision and scoped entries:
 * records are built with the dataplane's own builders (ipc_tx_init/ipc_tx_add/ipc_tx_add2),
 * checked with ipc_tx_check as posternd does, formatted, and the suppression{} objects
 * compared byte for byte. Checked: no suppression alert for a message judged not commercial
 * (rule alerts still come out), the reasons of a commercial one, an undecided record alerting,
 * scope_value by origin (MAIL FROM, From header, List-Id), header recipients (alerted once
 * when also in the envelope, "recipient_in":"header" otherwise), business days with a New
 * York calendar across Thanksgiving 2026, and hashed recipients.
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
#include <jansson.h>

#include "builtin_sids.h"
#include "business_days.h"
#include "eve.h"
#include "gen_format.h"
#include "ipc.h"
#include "suppress_db.h"

#define TS_US UINT64_C(1704164645123456) /* 2024-01-02T03:04:05.123456Z */
#define JUN_01_2023 INT64_C(1685577600)
#define JUN_15_2023 INT64_C(1686787200)

#define D IPC_COMM_DECIDED
#define YES (IPC_COMM_DECIDED | IPC_COMM_YES)

/* ---- record building (after tests/unit/test_eve.c) ---- */

struct rec {
	uint64_t buf[IPC_TX_MAX / 8]; /* 8-byte aligned, as received records are */
};

static struct ipc_tx *
rec_init(struct rec *r, uint16_t commercial)
{
	struct ipc_tx *tx = (struct ipc_tx *)r->buf;
	static const uint8_t src[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 5 };
	static const uint8_t dst[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 25 };

	ipc_tx_init(tx, sizeof(r->buf));
	tx->ts_us = TS_US;
	tx->flow_id = 1234567890123ull;
	tx->gen_id = 7;
	tx->ip_version = 4;
	memcpy(tx->src_ip, src, 16);
	memcpy(tx->dst_ip, dst, 16);
	tx->src_port = 40000;
	tx->dst_port = 25;
	tx->status = IPC_TX_DELIVERED;
	tx->reply_code = 250;
	tx->commercial = commercial;
	return tx;
}

static void
add_str(struct ipc_tx *tx, enum ipc_field_type type, const char *s)
{
	assert_non_null(ipc_tx_add(tx, IPC_TX_MAX, type, s, strlen(s)));
}

struct rcpt_spec {
	uint16_t reply;
	uint8_t verdict;
	uint8_t scope;
	uint8_t origin;
	uint8_t domain_wide;
	int64_t optout;
	int64_t grace_end;
	uint16_t flags;
};

/* type: IPC_F_RCPT or IPC_F_HDR_RCPT */
static void
add_rcpt(struct ipc_tx *tx, uint16_t type, const char *addr, struct rcpt_spec s)
{
	struct ipc_rcpt r = {
		.reply_code = s.reply,
		.verdict = s.verdict,
		.scope = s.scope,
		.origin = s.origin,
		.domain_wide = s.domain_wide,
		.optout_time = s.optout,
		.grace_end = s.grace_end,
		.flags = s.flags,
	};

	assert_non_null(ipc_tx_add2(tx, IPC_TX_MAX, type, &r, sizeof(r), addr, strlen(addr)));
}

#define VIOLATION_ALL(reply)                                                           \
	(struct rcpt_spec){ reply, IPC_SUPPRESS_VIOLATION, SUPPRESS_SCOPE_ALL,          \
			    SUPPRESS_ORIGIN_NONE, 0, JUN_01_2023, JUN_15_2023 }

static void
add_alert(struct ipc_tx *tx, uint32_t sid)
{
	struct ipc_alert a = { .sid = sid, .rev = 1, .gid = 1, .action = GEN_ACTION_ALERT };

	assert_non_null(ipc_tx_add(tx, IPC_TX_MAX, IPC_F_ALERT, &a, sizeof(a)));
}

/* ---- line sink ---- */

#define SINK_MAX 16

struct sink {
	int n;
	char *line[SINK_MAX];
	char type[SINK_MAX][8];
};

static int
sink_emit(void *ctx, const char *line, size_t len, const char *type)
{
	struct sink *s = ctx;
	json_error_t err;
	json_t *j = json_loadb(line, len, 0, &err);

	if (j == NULL)
		fail_msg("line does not parse: %s: %s", err.text, line);
	assert_string_equal(json_string_value(json_object_get(j, "event_type")), type);
	json_decref(j);
	assert_int_equal(strlen(line), len);
	assert_true(s->n < SINK_MAX);
	s->line[s->n] = strdup(line);
	snprintf(s->type[s->n], sizeof(s->type[s->n]), "%s", type);
	s->n++;
	return 0;
}

static void
sink_fini(struct sink *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->line[i]);
	s->n = 0;
}

static int
format_with(const struct ipc_tx *tx, const struct eve_options *opt, struct sink *s)
{
	assert_int_equal(ipc_tx_check(tx, tx->hdr.len), 0);
	memset(s, 0, sizeof(*s));
	return eve_format_tx(tx, opt, NULL, NULL, NULL, sink_emit, s);
}

static int
format(const struct ipc_tx *tx, struct sink *s)
{
	const struct eve_options opt = { .address_output = CONFIG_ADDR_PLAIN };

	return format_with(tx, &opt, s);
}

/* The suppression{} object of a line, printed as eve prints it (compact, key order kept). */
static char *
suppression_of(const char *line)
{
	json_t *j = json_loads(line, 0, NULL);
	json_t *s;
	char *out;

	assert_non_null(j);
	s = json_object_get(j, "suppression");
	if (s == NULL)
		fail_msg("no suppression{}: %s", line);
	out = json_dumps(s, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	assert_non_null(out);
	return out;
}

static void
assert_suppression(const char *line, const char *want)
{
	char *got = suppression_of(line);

	assert_string_equal(got, want);
	free(got);
}

/* The part of a suppression{} after optout_time and grace_end for JUN_01_2023/JUN_15_2023
 * at TS_US: 2023-06-01 (Thu) to 2024-01-02 (Tue), US federal holidays Jun 19, Jul 4, Sep 4,
 * Oct 9, Nov 10, Nov 23, Dec 25 and Jan 1 left out. */
#define TIMES_2023                                                                     \
	"\"optout_time\":\"2023-06-01T00:00:00Z\",\"grace_end\":\"2023-06-15T00:00:00Z\"," \
	"\"business_days_elapsed\":145,\"grace_business_days\":10,\"calendar_tz\":\"UTC\""

/* ---- tests ---- */

/* Not commercial: a listed recipient is no violation; rule alerts are not concerned. */
static void
test_not_commercial_no_alert(void **state)
{
	static const uint16_t exempt[] = {
		D, D | IPC_COMM_EXEMPT_RULE, D | IPC_COMM_EXEMPT_SENDER,
	};
	struct rec r;
	struct sink s;

	(void)state;
	for (size_t i = 0; i < sizeof(exempt) / sizeof(exempt[0]); i++) {
		struct ipc_tx *tx = rec_init(&r, exempt[i]);

		add_str(tx, IPC_F_MAIL_FROM, "receipts@shop.example");
		add_rcpt(tx, IPC_F_RCPT, "optout@customer.example", VIOLATION_ALL(250));
		add_rcpt(tx, IPC_F_RCPT, "late@customer.example",
			 (struct rcpt_spec){ 250, IPC_SUPPRESS_GRACE, SUPPRESS_SCOPE_ALL, 0, 0,
					     JUN_01_2023, JUN_15_2023 });
		add_rcpt(tx, IPC_F_HDR_RCPT, "hdronly@customer.example", VIOLATION_ALL(0));
		assert_int_equal(format(tx, &s), 0);
		assert_int_equal(s.n, 0);
		sink_fini(&s);

		const struct eve_options smtp = { .smtp_events = true };

		assert_int_equal(format_with(tx, &smtp, &s), 1);
		assert_string_equal(s.type[0], "smtp");
		sink_fini(&s);

		add_alert(tx, 1000001);
		assert_int_equal(format(tx, &s), 1);
		assert_non_null(strstr(s.line[0], "\"signature_id\":1000001,"));
		assert_null(strstr(s.line[0], "\"suppression\""));
		sink_fini(&s);
	}
}

static void
test_commercial_reasons(void **state)
{
	struct rec r;
	struct sink s;
	struct ipc_tx *tx;

	(void)state;
	tx = rec_init(&r, YES | IPC_COMM_LIST_UNSUB | IPC_COMM_PRECEDENCE);
	add_str(tx, IPC_F_MAIL_FROM, "news@news.example.com");
	add_rcpt(tx, IPC_F_RCPT, "optout@customer.example", VIOLATION_ALL(250));
	assert_int_equal(format(tx, &s), 1);
	assert_non_null(strstr(s.line[0], "\"signature_id\":2100002,"));
	assert_suppression(s.line[0],
			   "{\"recipient\":\"optout@customer.example\",\"recipient_in\":\"envelope\","
			   "\"verdict\":\"violation\",\"scope\":\"all\",\"domain_wide\":false,"
			   TIMES_2023 ",\"commercial\":[\"list-unsubscribe\",\"precedence\"]}");
	sink_fini(&s);

	/* every reason, in a fixed order; exemption bits are no reasons */
	tx = rec_init(&r, YES | IPC_COMM_RULE | IPC_COMM_SENDER | IPC_COMM_HOST |
			  IPC_COMM_LIST_UNSUB | IPC_COMM_LIST_ID | IPC_COMM_PRECEDENCE |
			  IPC_COMM_DEFAULT);
	add_rcpt(tx, IPC_F_RCPT, "optout@customer.example", VIOLATION_ALL(250));
	assert_int_equal(format(tx, &s), 1);
	assert_non_null(strstr(s.line[0],
			       "\"commercial\":[\"rule\",\"sender\",\"host\",\"list-unsubscribe\","
			       "\"list-id\",\"precedence\",\"default\"]}"));
	sink_fini(&s);

	tx = rec_init(&r, YES | IPC_COMM_DEFAULT);
	add_rcpt(tx, IPC_F_RCPT, "optout@customer.example", VIOLATION_ALL(0));
	assert_int_equal(format(tx, &s), 1);
	assert_non_null(strstr(s.line[0], "\"calendar_tz\":\"UTC\",\"commercial\":[\"default\"]}"));
	sink_fini(&s);
}

/* A record not judged (cut before its end, or from before the decision existed): alerted,
 * without reasons. */
static void
test_undecided_alerts(void **state)
{
	struct rec r;
	struct sink s;
	struct ipc_tx *tx = rec_init(&r, 0);

	(void)state;
	add_rcpt(tx, IPC_F_RCPT, "optout@customer.example", VIOLATION_ALL(250));
	add_rcpt(tx, IPC_F_RCPT, "late@customer.example",
		 (struct rcpt_spec){ 0, IPC_SUPPRESS_GRACE, SUPPRESS_SCOPE_ALL, 0, 0, JUN_01_2023,
				     JUN_15_2023 });
	assert_int_equal(format(tx, &s), 2);
	assert_non_null(strstr(s.line[0], "\"signature_id\":2100002,"));
	assert_non_null(strstr(s.line[1], "\"signature_id\":2100001,"));
	assert_suppression(s.line[0],
			   "{\"recipient\":\"optout@customer.example\",\"recipient_in\":\"envelope\","
			   "\"verdict\":\"violation\",\"scope\":\"all\",\"domain_wide\":false,"
			   TIMES_2023 "}");
	assert_null(strstr(s.line[1], "\"commercial\""));
	sink_fini(&s);
}

/* scope_value: the sender domain or the list id the message showed, by where the scope came
 * from. */
static void
test_scope_value_by_origin(void **state)
{
	struct rec r;
	struct sink s;
	struct ipc_tx *tx = rec_init(&r, YES | IPC_COMM_LIST_ID);

	(void)state;
	add_str(tx, IPC_F_MAIL_FROM, "bounce@bounce.example.net");
	add_rcpt(tx, IPC_F_RCPT, "a@customer.example",
		 (struct rcpt_spec){ 250, IPC_SUPPRESS_VIOLATION, SUPPRESS_SCOPE_SENDER,
				     SUPPRESS_ORIGIN_ENVELOPE, 0, JUN_01_2023, JUN_15_2023 });
	add_rcpt(tx, IPC_F_RCPT, "b@customer.example",
		 (struct rcpt_spec){ 250, IPC_SUPPRESS_VIOLATION, SUPPRESS_SCOPE_SENDER,
				     SUPPRESS_ORIGIN_HEADER, 1, JUN_01_2023, JUN_15_2023 });
	add_rcpt(tx, IPC_F_RCPT, "c@customer.example",
		 (struct rcpt_spec){ 250, IPC_SUPPRESS_VIOLATION, SUPPRESS_SCOPE_LIST,
				     SUPPRESS_ORIGIN_LIST_ID, 0, JUN_01_2023, JUN_15_2023 });
	/* scope all: no scope_value, whatever the origin says */
	add_rcpt(tx, IPC_F_RCPT, "d@customer.example",
		 (struct rcpt_spec){ 250, IPC_SUPPRESS_VIOLATION, SUPPRESS_SCOPE_ALL,
				     SUPPRESS_ORIGIN_LIST_ID, 0, JUN_01_2023, JUN_15_2023 });
	add_str(tx, IPC_F_EMAIL_FROM, "Shop <news@news.example.com>");
	add_str(tx, IPC_F_LIST_ID, "Weekly <weekly.news.example.com>");
	assert_int_equal(format(tx, &s), 4);
	assert_suppression(s.line[0],
			   "{\"recipient\":\"a@customer.example\",\"recipient_in\":\"envelope\","
			   "\"verdict\":\"violation\",\"scope\":\"sender\",\"domain_wide\":false,"
			   "\"scope_value\":\"bounce.example.net\"," TIMES_2023
			   ",\"commercial\":[\"list-id\"]}");
	assert_suppression(s.line[1],
			   "{\"recipient\":\"b@customer.example\",\"recipient_in\":\"envelope\","
			   "\"verdict\":\"violation\",\"scope\":\"sender\",\"domain_wide\":true,"
			   "\"scope_value\":\"news.example.com\"," TIMES_2023
			   ",\"commercial\":[\"list-id\"]}");
	assert_suppression(s.line[2],
			   "{\"recipient\":\"c@customer.example\",\"recipient_in\":\"envelope\","
			   "\"verdict\":\"violation\",\"scope\":\"list\",\"domain_wide\":false,"
			   "\"scope_value\":\"weekly.news.example.com\"," TIMES_2023
			   ",\"commercial\":[\"list-id\"]}");
	assert_suppression(s.line[3],
			   "{\"recipient\":\"d@customer.example\",\"recipient_in\":\"envelope\","
			   "\"verdict\":\"violation\",\"scope\":\"all\",\"domain_wide\":false,"
			   TIMES_2023 ",\"commercial\":[\"list-id\"]}");
	sink_fini(&s);
}

static void
test_scope_value_forms(void **state)
{
	struct rec r;
	struct sink s;
	struct ipc_tx *tx;

	(void)state;
	/* a display name holding an '@', a list id in capitals, a bare envelope domain */
	tx = rec_init(&r, YES | IPC_COMM_SENDER);
	add_str(tx, IPC_F_MAIL_FROM, "news@news.example.com");
	add_str(tx, IPC_F_EMAIL_FROM, "\"news@fake.example\" <shop@shop.example.com>");
	add_str(tx, IPC_F_LIST_ID, "Weekly news <WEEKLY.News.Example.COM>");
	add_rcpt(tx, IPC_F_RCPT, "a@customer.example",
		 (struct rcpt_spec){ 250, IPC_SUPPRESS_VIOLATION, SUPPRESS_SCOPE_SENDER,
				     SUPPRESS_ORIGIN_ENVELOPE, 0, JUN_01_2023, JUN_15_2023 });
	add_rcpt(tx, IPC_F_RCPT, "b@customer.example",
		 (struct rcpt_spec){ 250, IPC_SUPPRESS_VIOLATION, SUPPRESS_SCOPE_SENDER,
				     SUPPRESS_ORIGIN_HEADER, 0, JUN_01_2023, JUN_15_2023 });
	add_rcpt(tx, IPC_F_RCPT, "c@customer.example",
		 (struct rcpt_spec){ 250, IPC_SUPPRESS_VIOLATION, SUPPRESS_SCOPE_LIST,
				     SUPPRESS_ORIGIN_LIST_ID, 0, JUN_01_2023, JUN_15_2023 });
	assert_int_equal(format(tx, &s), 3);
	assert_non_null(strstr(s.line[0], "\"scope_value\":\"news.example.com\","));
	assert_non_null(strstr(s.line[1], "\"scope_value\":\"shop.example.com\","));
	assert_non_null(strstr(s.line[2], "\"scope_value\":\"weekly.news.example.com\","));
	sink_fini(&s);

	/* the origin's field is missing: the key is left out, the alert is still written */
	tx = rec_init(&r, YES | IPC_COMM_SENDER);
	add_rcpt(tx, IPC_F_RCPT, "b@customer.example",
		 (struct rcpt_spec){ 250, IPC_SUPPRESS_VIOLATION, SUPPRESS_SCOPE_SENDER,
				     SUPPRESS_ORIGIN_HEADER, 0, JUN_01_2023, JUN_15_2023 });
	add_rcpt(tx, IPC_F_RCPT, "c@customer.example",
		 (struct rcpt_spec){ 250, IPC_SUPPRESS_VIOLATION, SUPPRESS_SCOPE_LIST,
				     SUPPRESS_ORIGIN_LIST_ID, 0, JUN_01_2023, JUN_15_2023 });
	assert_int_equal(format(tx, &s), 2);
	assert_null(strstr(s.line[0], "scope_value"));
	assert_null(strstr(s.line[1], "scope_value"));
	assert_non_null(strstr(s.line[1], "\"scope\":\"list\","));
	sink_fini(&s);
}

/* A header recipient also in the envelope is alerted once, as the envelope's; one only in
 * the headers is alerted as the header's. */
static void
test_header_recipients(void **state)
{
	struct rec r;
	struct sink s;
	struct ipc_tx *tx = rec_init(&r, YES | IPC_COMM_LIST_UNSUB);

	(void)state;
	add_str(tx, IPC_F_MAIL_FROM, "news@news.example.com");
	add_rcpt(tx, IPC_F_RCPT, "<optout@customer.example>", VIOLATION_ALL(250));
	add_rcpt(tx, IPC_F_RCPT, "clean@customer.example",
		 (struct rcpt_spec){ 250, IPC_SUPPRESS_NONE, 0, 0, 0, 0, 0 });
	/* the same mailbox, the domain in another case */
	add_rcpt(tx, IPC_F_HDR_RCPT, "optout@Customer.Example", VIOLATION_ALL(0));
	add_rcpt(tx, IPC_F_HDR_RCPT, "hdronly@customer.example",
		 (struct rcpt_spec){ 0, IPC_SUPPRESS_GRACE, SUPPRESS_SCOPE_SENDER,
				     SUPPRESS_ORIGIN_ENVELOPE, 0, JUN_01_2023, JUN_15_2023 });
	assert_int_equal(format(tx, &s), 2);
	assert_non_null(strstr(s.line[0], "\"signature_id\":2100002,"));
	assert_suppression(s.line[0],
			   "{\"recipient\":\"<optout@customer.example>\","
			   "\"recipient_in\":\"envelope\",\"verdict\":\"violation\","
			   "\"scope\":\"all\",\"domain_wide\":false," TIMES_2023
			   ",\"commercial\":[\"list-unsubscribe\"]}");
	assert_non_null(strstr(s.line[1], "\"signature_id\":2100001,"));
	assert_suppression(s.line[1],
			   "{\"recipient\":\"hdronly@customer.example\",\"recipient_in\":\"header\","
			   "\"verdict\":\"grace\",\"scope\":\"sender\",\"domain_wide\":false,"
			   "\"scope_value\":\"news.example.com\"," TIMES_2023
			   ",\"commercial\":[\"list-unsubscribe\"]}");
	/* a header recipient is no smtp.rcpt_to */
	assert_non_null(strstr(s.line[1], "\"rcpt_to\":[\"<optout@customer.example>\","
					  "\"clean@customer.example\"]"));
	sink_fini(&s);

	/* the envelope's copy refused by the server: no mail went to it, and the header's copy
	 * is not alerted in its place */
	tx = rec_init(&r, YES | IPC_COMM_LIST_UNSUB);
	add_rcpt(tx, IPC_F_RCPT, "optout@customer.example", VIOLATION_ALL(550));
	add_rcpt(tx, IPC_F_HDR_RCPT, "optout@customer.example", VIOLATION_ALL(0));
	add_rcpt(tx, IPC_F_HDR_RCPT, "hdronly@customer.example", VIOLATION_ALL(0));
	assert_int_equal(format(tx, &s), 1);
	assert_non_null(strstr(s.line[0], "\"recipient\":\"hdronly@customer.example\","
					  "\"recipient_in\":\"header\","));
	sink_fini(&s);
}

/*
 * Business days with the calendar the set was built with: New York's local dates and the US
 * federal holidays. Opt-out Friday 2026-11-20 22:00 EST (2026-11-21T03:00Z); Thursday
 * 2026-11-26 is Thanksgiving. Day 10 is Monday 2026-12-07 22:00 EST (2026-12-08T03:00Z).
 * In UTC the opt-out falls on Saturday the 21st and the same instant is day 11.
 */
static void
test_business_days_new_york(void **state)
{
	struct bday_calendar *ny = NULL, *ny_none = NULL;
	char err[256] = "";
	struct rec r;
	struct sink s;
	struct ipc_tx *tx;
	const int64_t optout = INT64_C(1795230000);      /* 2026-11-21T03:00:00Z */
	const int64_t day10 = INT64_C(1796698800);       /* 2026-12-08T03:00:00Z */
	struct eve_options opt = { .address_output = CONFIG_ADDR_PLAIN };

	(void)state;
	if (bday_calendar_load(&ny, "America/New_York", "us-federal", err, sizeof(err)) != 0)
		fail_msg("calendar: %s", err);
	if (bday_calendar_load(&ny_none, "America/New_York", "none", err, sizeof(err)) != 0)
		fail_msg("calendar: %s", err);

	tx = rec_init(&r, YES | IPC_COMM_SENDER);
	tx->ts_us = (uint64_t)day10 * 1000000u;
	add_rcpt(tx, IPC_F_RCPT, "optout@customer.example",
		 (struct rcpt_spec){ 250, IPC_SUPPRESS_VIOLATION, SUPPRESS_SCOPE_ALL, 0, 0, optout,
				     day10 });
	opt.calendar = ny;
	assert_int_equal(format_with(tx, &opt, &s), 1);
	assert_suppression(s.line[0],
			   "{\"recipient\":\"optout@customer.example\",\"recipient_in\":\"envelope\","
			   "\"verdict\":\"violation\",\"scope\":\"all\",\"domain_wide\":false,"
			   "\"optout_time\":\"2026-11-21T03:00:00Z\","
			   "\"grace_end\":\"2026-12-08T03:00:00Z\","
			   "\"business_days_elapsed\":10,\"grace_business_days\":10,"
			   "\"calendar_tz\":\"America/New_York\",\"commercial\":[\"sender\"]}");
	sink_fini(&s);
	/* one second earlier: nine */
	tx->ts_us -= 1000000u;
	assert_int_equal(format_with(tx, &opt, &s), 1);
	assert_non_null(strstr(s.line[0], "\"business_days_elapsed\":9,"));
	sink_fini(&s);
	tx->ts_us += 1000000u;
	/* without the holiday, or in UTC: eleven */
	opt.calendar = ny_none;
	assert_int_equal(format_with(tx, &opt, &s), 1);
	assert_non_null(strstr(s.line[0], "\"business_days_elapsed\":11,\"grace_business_days\":10,"
					  "\"calendar_tz\":\"America/New_York\""));
	sink_fini(&s);
	opt.calendar = NULL;
	assert_int_equal(format_with(tx, &opt, &s), 1);
	assert_non_null(strstr(s.line[0], "\"business_days_elapsed\":11,\"grace_business_days\":10,"
					  "\"calendar_tz\":\"UTC\""));
	sink_fini(&s);

	/* inside Thanksgiving week: Wednesday 10:00 EST to Friday 10:00 EST is one business day */
	tx = rec_init(&r, YES | IPC_COMM_SENDER);
	tx->ts_us = UINT64_C(1795791600) * 1000000u;     /* 2026-11-27T15:00:00Z */
	add_rcpt(tx, IPC_F_RCPT, "optout@customer.example",
		 (struct rcpt_spec){ 250, IPC_SUPPRESS_GRACE, SUPPRESS_SCOPE_ALL, 0, 0,
				     INT64_C(1795618800), day10 });  /* 2026-11-25T15:00:00Z */
	opt.calendar = ny;
	assert_int_equal(format_with(tx, &opt, &s), 1);
	assert_non_null(strstr(s.line[0], "\"verdict\":\"grace\","));
	assert_non_null(strstr(s.line[0], "\"business_days_elapsed\":1,"));
	sink_fini(&s);
	opt.calendar = ny_none;
	assert_int_equal(format_with(tx, &opt, &s), 1);
	assert_non_null(strstr(s.line[0], "\"business_days_elapsed\":2,"));
	sink_fini(&s);

	/* hashed output: the recipient is the set's key (SHA-256 of the normalized address),
	 * envelope and header alike; the scope's domain is no address and stays readable */
	tx = rec_init(&r, YES | IPC_COMM_SENDER);
	tx->ts_us = (uint64_t)day10 * 1000000u;
	add_str(tx, IPC_F_MAIL_FROM, "news@news.example.com");
	add_rcpt(tx, IPC_F_RCPT, "<optout@customer.example>",
		 (struct rcpt_spec){ 250, IPC_SUPPRESS_VIOLATION, SUPPRESS_SCOPE_SENDER,
				     SUPPRESS_ORIGIN_ENVELOPE, 0, optout, day10 });
	add_rcpt(tx, IPC_F_HDR_RCPT, "hdronly@Customer.Example",
		 (struct rcpt_spec){ 0, IPC_SUPPRESS_VIOLATION, SUPPRESS_SCOPE_ALL, 0, 0, optout,
				     day10 });
	opt.calendar = ny;
	opt.address_output = CONFIG_ADDR_HASH;
	assert_int_equal(format_with(tx, &opt, &s), 2);
	assert_suppression(
		s.line[0],
		"{\"recipient\":\"c409dc4c0cc8b100729ffbc9330ca6f12b4717e49faa4680f96bc880a8077768\","
		"\"recipient_in\":\"envelope\",\"verdict\":\"violation\",\"scope\":\"sender\","
		"\"domain_wide\":false,\"scope_value\":\"news.example.com\","
		"\"optout_time\":\"2026-11-21T03:00:00Z\",\"grace_end\":\"2026-12-08T03:00:00Z\","
		"\"business_days_elapsed\":10,\"grace_business_days\":10,"
		"\"calendar_tz\":\"America/New_York\",\"commercial\":[\"sender\"]}");
	assert_non_null(strstr(
		s.line[1],
		"\"suppression\":{\"recipient\":"
		"\"9cf655af7cb3c69bf25a8b1edf24edb1c14093b041905bcdeb11d0a867bf7827\","
		"\"recipient_in\":\"header\","));
	assert_non_null(strstr(
		s.line[1],
		"\"mail_from\":\"fbdb5f839d916c7d361f97cb3ba7a83334013c2a4319509de1c98976135dc0f7\""));
	for (int i = 0; i < s.n; i++) {
		assert_null(strstr(s.line[i], "optout@"));
		assert_null(strstr(s.line[i], "hdronly@"));
	}
	sink_fini(&s);

	bday_calendar_free(ny);
	bday_calendar_free(ny_none);
}

/*
 * Inline with block_suppressed, the dataplane withheld the message: the envelope recipient in
 * violation is what blocked it ("blocked"); one in grace, and a header-only recipient, did
 * not ("allowed"); without the record's flag, nothing was blocked.
 */
static void
test_blocked_action(void **state)
{
	struct rec r;
	struct sink s;

	(void)state;
	for (int blocked = 0; blocked < 2; blocked++) {
		struct ipc_tx *tx = rec_init(&r, YES | IPC_COMM_LIST_UNSUB);

		tx->flags |= blocked ? IPC_TXF_BLOCKED_SUPPRESSED : 0;
		add_rcpt(tx, IPC_F_RCPT, "optout@customer.example", VIOLATION_ALL(250));
		add_rcpt(tx, IPC_F_RCPT, "recent@customer.example",
			 (struct rcpt_spec){ 250, IPC_SUPPRESS_GRACE, SUPPRESS_SCOPE_ALL,
					     SUPPRESS_ORIGIN_ENVELOPE, 0, JUN_01_2023,
					     JUN_15_2023 });
		add_rcpt(tx, IPC_F_HDR_RCPT, "hdronly@customer.example", VIOLATION_ALL(0));
		assert_int_equal(format(tx, &s), 3);
		assert_non_null(strstr(s.line[0], blocked ? "\"action\":\"blocked\""
							  : "\"action\":\"allowed\""));
		assert_non_null(strstr(s.line[0], "optout@customer.example"));
		assert_non_null(strstr(s.line[1], "\"action\":\"allowed\""));
		assert_non_null(strstr(s.line[2], "\"action\":\"allowed\""));
		assert_non_null(strstr(s.line[2], "hdronly@customer.example"));
		assert_null(strstr(s.line[0], "refused_at_rcpt"));
		sink_fini(&s);
	}

	/* refused at RCPT time: the server's 5xx is what was meant, the alert is still made */
	struct ipc_tx *tx = rec_init(&r, YES | IPC_COMM_SENDER);
	struct rcpt_spec refused = VIOLATION_ALL(502);

	refused.flags = IPC_RCPTF_REFUSED;
	add_rcpt(tx, IPC_F_RCPT, "optout@customer.example", refused);
	add_rcpt(tx, IPC_F_RCPT, "other@customer.example", VIOLATION_ALL(550));
	assert_int_equal(format(tx, &s), 1);
	assert_non_null(strstr(s.line[0], "\"action\":\"blocked\""));
	assert_non_null(strstr(s.line[0], "\"refused_at_rcpt\":true"));
	assert_non_null(strstr(s.line[0], "optout@customer.example"));
	sink_fini(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_commercial_no_alert),
		cmocka_unit_test(test_commercial_reasons),
		cmocka_unit_test(test_undecided_alerts),
		cmocka_unit_test(test_scope_value_by_origin),
		cmocka_unit_test(test_scope_value_forms),
		cmocka_unit_test(test_header_recipients),
		cmocka_unit_test(test_blocked_action),
		cmocka_unit_test(test_business_days_new_york),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
