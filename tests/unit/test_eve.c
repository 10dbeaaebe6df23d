/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EVE formatting: transaction records are built in memory with the dataplane's own builders
 * (ipc_tx_init/ipc_tx_add/ipc_tx_add2), checked with ipc_tx_check as posternd does, formatted,
 * and the lines compared byte for byte. Every line is also parsed back with jansson. When
 * POSTERN_EVE_OUT names a file, every line is appended to it so that
 * tests/tools/validate_eve.py can check it against schema/eve.schema.json.
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
#include "anomaly_model.h"
#include "bypass.h"
#include "canspam.h"
#include "eve.h"
#include "smtp_ext.h"
#include "gen_format.h"
#include "ipc.h"
#include "suppress_db.h"

#define TS_US 1704164645123456ull /* 2024-01-02T03:04:05.123456Z */

/* ---- record building ---- */

struct rec {
	uint64_t buf[IPC_TX_MAX / 8]; /* 8-byte aligned, as received records are */
};

static struct ipc_tx *
rec_init(struct rec *r, int ip_version)
{
	struct ipc_tx *tx = (struct ipc_tx *)r->buf;

	ipc_tx_init(tx, sizeof(r->buf));
	tx->ts_us = TS_US;
	tx->flow_id = 1234567890123ull;
	tx->gen_id = 7;
	tx->ip_version = (uint8_t)ip_version;
	if (ip_version == 4) {
		static const uint8_t src[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 5 };
		static const uint8_t dst[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 25 };

		memcpy(tx->src_ip, src, 16);
		memcpy(tx->dst_ip, dst, 16);
	} else {
		static const uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };
		static const uint8_t dst[16] = { 0xfe, 0x80, [8] = 0x02, 0x11, 0x22, 0xff,
						 0xfe, 0x33, 0x44, 0x55 };

		memcpy(tx->src_ip, src, 16);
		memcpy(tx->dst_ip, dst, 16);
	}
	tx->src_port = 40000;
	tx->dst_port = 25;
	tx->status = IPC_TX_DELIVERED;
	tx->tx_seq = 0;
	tx->reply_code = 250;
	return tx;
}

static void
add_bytes(struct ipc_tx *tx, enum ipc_field_type type, const void *p, size_t len)
{
	assert_non_null(ipc_tx_add(tx, IPC_TX_MAX, type, p, len));
}

static void
add_str(struct ipc_tx *tx, enum ipc_field_type type, const char *s)
{
	add_bytes(tx, type, s, strlen(s));
}

static void
add_rcpt(struct ipc_tx *tx, const char *addr, uint16_t reply, uint8_t verdict, uint8_t scope,
	 int64_t optout, int64_t grace_end)
{
	struct ipc_rcpt r = {
		.reply_code = reply,
		.verdict = verdict,
		.scope = scope,
		.optout_time = optout,
		.grace_end = grace_end,
	};

	assert_non_null(ipc_tx_add2(tx, IPC_TX_MAX, IPC_F_RCPT, &r, sizeof(r), addr,
				    strlen(addr)));
}

static void
add_alert(struct ipc_tx *tx, uint32_t gid, uint32_t sid, uint32_t rev, uint8_t action)
{
	struct ipc_alert a = { .sid = sid, .rev = rev, .gid = gid, .action = action };

	add_bytes(tx, IPC_F_ALERT, &a, sizeof(a));
}

/* The fields most tests share: a plain delivered message with one rule alert. */
static struct ipc_tx *
rec_basic(struct rec *r, int ip_version)
{
	struct ipc_tx *tx = rec_init(r, ip_version);

	add_str(tx, IPC_F_HELO, "client.example.com");
	add_str(tx, IPC_F_MAIL_FROM, "alice@example.com");
	add_rcpt(tx, "bob@example.org", 250, IPC_SUPPRESS_NONE, 0, 0, 0);
	add_str(tx, IPC_F_EMAIL_FROM, "Alice <alice@example.com>");
	add_str(tx, IPC_F_EMAIL_TO, "bob@example.org");
	add_str(tx, IPC_F_SUBJECT, "Hello");
	add_str(tx, IPC_F_MESSAGE_ID, "<m1@example.com>");
	add_str(tx, IPC_F_DATE, "Tue, 2 Jan 2024 03:04:05 +0000");
	add_str(tx, IPC_F_X_MAILER, "swaks");
	add_alert(tx, 1, 1000001, 2, GEN_ACTION_ALERT);
	return tx;
}

/* ---- rule lookup ---- */

static bool
lookup(void *ctx, const struct ipc_tx *tx, uint32_t gid, uint32_t sid,
       struct eve_rule_info *out)
{
	int *calls = ctx;

	(void)tx;
	if (calls != NULL)
		(*calls)++;
	if (gid != 1)
		return false;
	switch (sid) {
	case 1000001:
		*out = (struct eve_rule_info){
			.msg = "POSTERN test subject",
			.category = "Potential Corporate Privacy Violation",
			.severity = 1,
			.metadata = "policy canspam, created_at 2024_01_01, policy bulk",
		};
		return true;
	case 1000002:
		*out = (struct eve_rule_info){ .msg = "no classtype", .severity = 0 };
		return true;
	case 1000003:
		*out = (struct eve_rule_info){
			.msg = "bad \xff text",
			.category = "x",
			.severity = 2,
			.metadata = " novalue ,, k  v1 ,k v2,\xfe\xff key, sp ace  x ",
		};
		return true;
	default:
		return false;
	}
}

/* ---- line sink ---- */

#define SINK_MAX 64

struct sink {
	int n;
	int fail_at; /* emit returns -EIO for this line index; -1 never */
	char *line[SINK_MAX];
	char type[SINK_MAX][8];
};

static void
dump_line(const char *line)
{
	const char *path = getenv("POSTERN_EVE_OUT");
	FILE *f;

	if (path == NULL || *path == '\0')
		return;
	f = fopen(path, "a");
	assert_non_null(f);
	fprintf(f, "%s\n", line);
	fclose(f);
}

static int
sink_emit(void *ctx, const char *line, size_t len, const char *type)
{
	struct sink *s = ctx;
	json_error_t err;
	json_t *j;

	if (s->n == s->fail_at) {
		s->fail_at = -1;
		return -EIO;
	}
	assert_int_equal(strlen(line), len);
	assert_null(memchr(line, '\n', len));
	/* A NUL from the wire is printed as \u0000, which is valid JSON. */
	j = json_loadb(line, len, JSON_ALLOW_NUL, &err);
	if (j == NULL)
		fail_msg("line does not parse: %s: %s", err.text, line);
	assert_string_equal(json_string_value(json_object_get(j, "event_type")), type);
	json_decref(j);
	assert_true(s->n < SINK_MAX);
	s->line[s->n] = strdup(line);
	snprintf(s->type[s->n], sizeof(s->type[s->n]), "%s", type);
	s->n++;
	dump_line(line);
	return 0;
}

static void
sink_init(struct sink *s)
{
	memset(s, 0, sizeof(*s));
	s->fail_at = -1;
}

static void
sink_fini(struct sink *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->line[i]);
	s->n = 0;
}

static int
format(const struct ipc_tx *tx, enum config_address_output ao, bool smtp, struct sink *s)
{
	struct eve_options opt = { .address_output = ao, .smtp_events = smtp };

	assert_int_equal(ipc_tx_check(tx, tx->hdr.len), 0);
	sink_init(s);
	return eve_format_tx(tx, &opt, NULL, lookup, NULL, sink_emit, s);
}

/* A string member of a line, by a path of object keys ending in a string. */
static json_t *
line_get(const char *line, const char *k1, const char *k2)
{
	json_t *j = json_loads(line, JSON_ALLOW_NUL, NULL);
	json_t *v;

	assert_non_null(j);
	v = json_object_get(j, k1);
	if (v != NULL && k2 != NULL)
		v = json_object_get(v, k2);
	json_incref(v);
	json_decref(j);
	return v;
}

/* ---- golden lines ---- */

#define HEAD4(type)                                                                       \
	"{\"timestamp\":\"2024-01-02T03:04:05.123456+0000\",\"flow_id\":1234567890123,"   \
	"\"event_type\":\"" type "\",\"src_ip\":\"10.0.0.5\",\"src_port\":40000,"         \
	"\"dest_ip\":\"10.0.0.25\",\"dest_port\":25,\"proto\":\"TCP\",\"app_proto\":\"smtp\"," \
	"\"tx_id\":0"

#define BASIC_SMTP                                                                        \
	"\"smtp\":{\"helo\":\"client.example.com\",\"mail_from\":\"alice@example.com\","  \
	"\"rcpt_to\":[\"bob@example.org\"]}"

#define BASIC_EMAIL                                                                       \
	"\"email\":{\"from\":\"Alice <alice@example.com>\",\"to\":[\"bob@example.org\"],"  \
	"\"subject\":\"Hello\",\"message_id\":\"<m1@example.com>\","                       \
	"\"date\":\"Tue, 2 Jan 2024 03:04:05 +0000\",\"x_mailer\":\"swaks\","              \
	"\"status\":\"delivered\"}}"

static void
test_rule_alert_ipv4(void **state)
{
	(void)state;
	struct rec r;
	struct sink s;
	struct ipc_tx *tx = rec_basic(&r, 4);

	assert_int_equal(format(tx, CONFIG_ADDR_PLAIN, false, &s), 1);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.type[0], "alert");
	assert_string_equal(
		s.line[0],
		HEAD4("alert") ",\"alert\":{\"action\":\"allowed\",\"gid\":1,"
			       "\"signature_id\":1000001,\"rev\":2,"
			       "\"signature\":\"POSTERN test subject\","
			       "\"category\":\"Potential Corporate Privacy Violation\","
			       "\"severity\":1,\"metadata\":{\"policy\":[\"canspam\",\"bulk\"],"
			       "\"created_at\":[\"2024_01_01\"]}}," BASIC_SMTP "," BASIC_EMAIL);
	sink_fini(&s);
}

static void
test_smtp_event(void **state)
{
	(void)state;
	struct rec r;
	struct sink s;
	struct ipc_tx *tx = rec_basic(&r, 4);

	assert_int_equal(format(tx, CONFIG_ADDR_PLAIN, true, &s), 2);
	assert_string_equal(s.type[0], "alert");
	assert_string_equal(s.type[1], "smtp");
	assert_string_equal(s.line[1], HEAD4("smtp") "," BASIC_SMTP "," BASIC_EMAIL);
	sink_fini(&s);

	/* Without alerts and without the flag a transaction prints nothing. */
	tx = rec_init(&r, 4);
	add_str(tx, IPC_F_MAIL_FROM, "alice@example.com");
	assert_int_equal(format(tx, CONFIG_ADDR_PLAIN, false, &s), 0);
	assert_int_equal(s.n, 0);
	/* A minimal aborted transaction: absent fields are left out, status stays. */
	tx->status = IPC_TX_ABORTED;
	tx->tx_seq = 3;
	assert_int_equal(format(tx, CONFIG_ADDR_PLAIN, true, &s), 1);
	assert_non_null(strstr(s.line[0], "\"tx_id\":3,"
					  "\"smtp\":{\"mail_from\":\"alice@example.com\"},"
					  "\"email\":{\"status\":\"aborted\"}}"));
	sink_fini(&s);
}

/*
 * posternd's conclusions on the smtp event: why the message is commercial, and every CAN-SPAM
 * check's outcome, an empty list of failures included; nothing for a message never checked.
 */
static void
test_smtp_event_compliance(void **state)
{
	(void)state;
	struct rec r;
	struct sink s;
	struct eve_options opt = { .smtp_events = true };
	struct canspam_result passed = { .kind = CANSPAM_COMMERCIAL, .checked = 0xfff };
	struct canspam_result failed = {
		.kind = CANSPAM_AUTOMATED,
		.checked = CANSPAM_NO_MESSAGE_ID | CANSPAM_NO_DATE,
		.failed = CANSPAM_NO_MESSAGE_ID,
	};
	struct canspam_result none = { .kind = CANSPAM_NONE };
	struct ipc_tx *tx = rec_init(&r, 4);

	add_str(tx, IPC_F_MAIL_FROM, "news@example.com");
	tx->commercial = IPC_COMM_DECIDED | IPC_COMM_YES | IPC_COMM_LIST_UNSUB | IPC_COMM_LIST_ID;
	sink_init(&s);
	assert_int_equal(eve_format_tx(tx, &opt, &passed, NULL, NULL, sink_emit, &s), 1);
	assert_non_null(strstr(s.line[0], "\"commercial\":[\"list-unsubscribe\",\"list-id\"],"
					  "\"canspam\":{\"kind\":\"commercial\",\"failed\":[]},"
					  "\"smtp\":{"));
	sink_fini(&s);

	tx->commercial = IPC_COMM_DECIDED;
	sink_init(&s);
	assert_int_equal(eve_format_tx(tx, &opt, &failed, NULL, NULL, sink_emit, &s), 1);
	assert_null(strstr(s.line[0], "\"commercial\""));
	assert_non_null(strstr(s.line[0], "\"canspam\":{\"kind\":\"automated\",\"failed\":"
					  "[{\"check\":\"no_message_id\",\"reason\":"));
	sink_fini(&s);

	for (int i = 0; i < 2; i++) {
		sink_init(&s);
		assert_int_equal(eve_format_tx(tx, &opt, i == 0 ? &none : NULL, NULL, NULL,
					       sink_emit, &s), 1);
		assert_null(strstr(s.line[0], "\"canspam\""));
		sink_fini(&s);
	}
}

/*
 * posternd's CAN-SPAM alert: sid 2100030 for a commercial message, 2100031 for automated mail;
 * "blocked" only when the inline dataplane withheld the message for it (block_canspam),
 * which it never does for automated mail; nothing when every check passed.
 */
static void
test_canspam_alert(void **state)
{
	(void)state;
	struct rec r;
	struct sink s;
	struct eve_options opt = { 0 };
	const struct canspam_result postal = {
		.kind = CANSPAM_COMMERCIAL, .checked = CANSPAM_NO_POSTAL_ADDRESS,
		.failed = CANSPAM_NO_POSTAL_ADDRESS,
	};
	const struct canspam_result hygiene = {
		.kind = CANSPAM_AUTOMATED, .checked = CANSPAM_NO_DATE, .failed = CANSPAM_NO_DATE,
	};
	const struct canspam_result passed = { .kind = CANSPAM_COMMERCIAL, .checked = 0xfff };
	struct ipc_tx *tx = rec_init(&r, 4);

	add_str(tx, IPC_F_MAIL_FROM, "news@example.com");
	for (int blocked = 0; blocked < 2; blocked++) {
		tx->flags = blocked ? IPC_TXF_BLOCKED_CANSPAM : 0;
		sink_init(&s);
		assert_int_equal(eve_format_canspam(tx, &postal, &opt, sink_emit, &s), 1);
		assert_non_null(strstr(s.line[0], blocked ? "\"action\":\"blocked\""
							  : "\"action\":\"allowed\""));
		assert_non_null(strstr(s.line[0], "\"signature_id\":2100030,"));
		assert_non_null(strstr(s.line[0], "\"check\":\"no_postal_address\""));
		sink_fini(&s);
		sink_init(&s);
		assert_int_equal(eve_format_canspam(tx, &hygiene, &opt, sink_emit, &s), 1);
		assert_non_null(strstr(s.line[0], "\"action\":\"allowed\""));
		assert_non_null(strstr(s.line[0], "\"signature_id\":2100031,"));
		sink_fini(&s);
		sink_init(&s);
		assert_int_equal(eve_format_canspam(tx, &passed, &opt, sink_emit, &s), 0);
		sink_fini(&s);
	}
}

/* ESMTP details and the message's parts: extensions, AUTH, MAIL parameters, names, URLs. */
static void
test_smtp_details(void **state)
{
	(void)state;
	struct rec r;
	struct sink s;
	struct ipc_tx *tx = rec_init(&r, 4);

	tx->smtp_ext = 1u << SMTP_EXT_PIPELINING | 1u << SMTP_EXT_CHUNKING | 1u << SMTP_EXT_OTHER;
	tx->auth_code = 535;
	tx->mail_size = 12345;
	tx->mail_body = IPC_BODY_8BITMIME;
	tx->mail_flags = IPC_MAILF_SIZE | IPC_MAILF_SMTPUTF8 | IPC_MAILF_EHLO;
	add_str(tx, IPC_F_AUTH_MECH, "LOGIN");
	add_str(tx, IPC_F_MAIL_FROM, "alice@example.com");
	add_str(tx, IPC_F_ATTACHMENT, "invoice.pdf.exe");
	add_str(tx, IPC_F_ATTACHMENT, "caf\xc3\xa9.txt");
	add_str(tx, IPC_F_URL, "https://example.com/a?b=1&c=2");
	assert_int_equal(format(tx, CONFIG_ADDR_PLAIN, true, &s), 1);
	assert_non_null(strstr(s.line[0],
		"\"smtp\":{\"mail_from\":\"alice@example.com\","
		"\"extensions\":[\"PIPELINING\",\"CHUNKING\",\"other\"],"
		"\"auth\":{\"mechanism\":\"LOGIN\",\"result\":\"failure\",\"reply_code\":535},"
		"\"mail_params\":{\"size\":12345,\"body\":\"8BITMIME\",\"smtputf8\":true}},"
		"\"email\":{\"attachment\":[\"invoice.pdf.exe\",\"caf\xc3\xa9.txt\"],"
		"\"url\":[\"https://example.com/a?b=1&c=2\"],\"status\":\"delivered\"}}"));
	sink_fini(&s);

	/* a record cut at its bounds: how many recipients there were, and a flag */
	tx = rec_init(&r, 4);
	add_rcpt(tx, "a@example.org", 250, IPC_SUPPRESS_NONE, 0, 0, 0);
	tx->n_rcpt = 600;
	tx->flags |= IPC_TXF_TRUNCATED;
	assert_int_equal(format(tx, CONFIG_ADDR_PLAIN, true, &s), 1);
	assert_non_null(strstr(s.line[0], "\"smtp\":{\"rcpt_to\":[\"a@example.org\"],\"rcpt_count\":600},"
					  "\"email\":{\"truncated\":true,\"status\":\"delivered\"}"));
	sink_fini(&s);

	/* a successful AUTH, no parameters: no mail_params object */
	tx = rec_init(&r, 4);
	tx->auth_code = 235;
	add_str(tx, IPC_F_AUTH_MECH, "PLAIN");
	assert_int_equal(format(tx, CONFIG_ADDR_PLAIN, true, &s), 1);
	assert_non_null(strstr(s.line[0], "\"smtp\":{\"auth\":{\"mechanism\":\"PLAIN\","
					  "\"result\":\"success\",\"reply_code\":235}},"));
	sink_fini(&s);
}

static void
test_status_names(void **state)
{
	(void)state;
	static const char *const names[] = { "delivered", "rejected", "aborted", "unknown" };
	struct rec r;
	struct sink s;

	for (uint8_t st = 0; st < 4; st++) {
		struct ipc_tx *tx = rec_init(&r, 4);
		char want[64];

		tx->status = st;
		assert_int_equal(format(tx, CONFIG_ADDR_PLAIN, true, &s), 1);
		snprintf(want, sizeof(want), "\"email\":{\"status\":\"%s\"}}", names[st]);
		assert_non_null(strstr(s.line[0], want));
		sink_fini(&s);
	}
}

static void
test_ipv6(void **state)
{
	(void)state;
	struct rec r;
	struct sink s;
	struct ipc_tx *tx = rec_basic(&r, 6);

	assert_int_equal(format(tx, CONFIG_ADDR_PLAIN, false, &s), 1);
	assert_non_null(strstr(s.line[0],
			       "\"src_ip\":\"2001:0db8:0000:0000:0000:0000:0000:0001\","
			       "\"src_port\":40000,"
			       "\"dest_ip\":\"fe80:0000:0000:0000:0211:22ff:fe33:4455\","));
	sink_fini(&s);

	/* ip_version decides, not the ::ffff: prefix: a mapped address in an IPv6 flow stays v6. */
	tx = rec_init(&r, 4);
	tx->ip_version = 6;
	assert_int_equal(format(tx, CONFIG_ADDR_PLAIN, true, &s), 1);
	assert_non_null(
		strstr(s.line[0], "\"src_ip\":\"0000:0000:0000:0000:0000:ffff:0a00:0005\""));
	sink_fini(&s);
}

static void
test_actions(void **state)
{
	(void)state;
	static const struct {
		uint8_t action;
		const char *passive, *inline_blocked;
	} cases[] = {
		{ GEN_ACTION_ALERT, "allowed", "allowed" },
		{ GEN_ACTION_PASS, "allowed", "allowed" },
		{ GEN_ACTION_DROP, "allowed", "blocked" },
		{ GEN_ACTION_REJECT, "allowed", "blocked" },
	};
	struct rec r;
	struct sink s;
	struct ipc_tx *tx = rec_init(&r, 4);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		add_alert(tx, 1, 1000001, 1, cases[i].action);
	/* watching a copy nothing is blocked; inline, what the dataplane withheld says so;
	 * a block for a suppressed recipient does not make a drop rule's alert "blocked" */
	for (int mode = 0; mode < 3; mode++) {
		tx->flags = mode == 1 ? IPC_TXF_BLOCKED_RULE
				      : mode == 2 ? IPC_TXF_BLOCKED_SUPPRESSED : 0;
		assert_int_equal(format(tx, CONFIG_ADDR_PLAIN, false, &s), 4);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			json_t *a = line_get(s.line[i], "alert", "action");

			assert_string_equal(json_string_value(a), mode == 1
									  ? cases[i].inline_blocked
									  : cases[i].passive);
			json_decref(a);
		}
		sink_fini(&s);
	}
}

static void
test_lookup_edge_cases(void **state)
{
	(void)state;
	struct rec r;
	struct sink s;
	struct ipc_tx *tx = rec_init(&r, 4);
	struct eve_options opt = { 0 };
	int calls = 0;

	add_alert(tx, 1, 1000002, 1, GEN_ACTION_ALERT);  /* no classtype, severity 0 */
	add_alert(tx, 1, 4242, 3, GEN_ACTION_DROP);      /* unknown to the lookup */
	add_alert(tx, 1, 1000003, 1, GEN_ACTION_ALERT);  /* bad bytes, odd metadata */
	add_alert(tx, BUILTIN_GID, SID_SUPPRESS_VIOLATION, 1, GEN_ACTION_DROP); /* built-in */
	tx->flags |= IPC_TXF_BLOCKED_RULE;
	assert_int_equal(ipc_tx_check(tx, tx->hdr.len), 0);
	sink_init(&s);
	assert_int_equal(eve_format_tx(tx, &opt, NULL, lookup, &calls, sink_emit, &s), 4);
	assert_int_equal(calls, 4);
	assert_non_null(strstr(s.line[0], "\"alert\":{\"action\":\"allowed\",\"gid\":1,"
					  "\"signature_id\":1000002,\"rev\":1,"
					  "\"signature\":\"no classtype\",\"category\":\"\","
					  "\"severity\":3},"));
	assert_non_null(strstr(s.line[1], "\"alert\":{\"action\":\"blocked\",\"gid\":1,"
					  "\"signature_id\":4242,\"rev\":3,\"signature\":\"\","
					  "\"category\":\"\",\"severity\":3},"));
	assert_non_null(strstr(s.line[2], "\"signature\":\"bad \xef\xbf\xbd text\","
					  "\"category\":\"x\",\"severity\":2,"
					  "\"metadata\":{\"k\":[\"v1\",\"v2\"],"
					  "\"\xef\xbf\xbd\xef\xbf\xbd\":[\"key\"],"
					  "\"sp\":[\"ace  x\"]}},"));
	assert_non_null(strstr(s.line[3], "\"signature_id\":2100002,\"rev\":1,"
					  "\"signature\":\"POSTERN suppression: mail to a "
					  "recipient who opted out\","
					  "\"category\":\"CAN-SPAM compliance violation\","
					  "\"severity\":1},"));
	sink_fini(&s);

	/* No lookup at all: still one alert per field. */
	sink_init(&s);
	assert_int_equal(eve_format_tx(tx, &opt, NULL, NULL, NULL, sink_emit, &s), 4);
	assert_non_null(strstr(s.line[0], "\"signature_id\":1000002,\"rev\":1,\"signature\":\"\""));
	sink_fini(&s);
}

static void
test_suppression(void **state)
{
	(void)state;
	struct rec r;
	struct sink s;
	struct ipc_tx *tx = rec_init(&r, 4);

	add_str(tx, IPC_F_MAIL_FROM, "news@shop.example");
	/* grace, accepted */
	add_rcpt(tx, "<carol@example.net>", 250, IPC_SUPPRESS_GRACE, SUPPRESS_SCOPE_ALL,
		 1709294400, 1710504000);
	/* violation, reply unseen: counts */
	add_rcpt(tx, "dave@example.net", 0, IPC_SUPPRESS_VIOLATION, SUPPRESS_SCOPE_SENDER,
		 1685577600, 1686787200);
	/* violation, but the server refused the recipient: no mail went to them */
	add_rcpt(tx, "erin@example.net", 550, IPC_SUPPRESS_VIOLATION, SUPPRESS_SCOPE_ALL,
		 1685577600, 1686787200);
	/* violation, temporary failure: not accepted either */
	add_rcpt(tx, "frank@example.net", 451, IPC_SUPPRESS_VIOLATION, SUPPRESS_SCOPE_ALL,
		 1685577600, 1686787200);
	/* not suppressed */
	add_rcpt(tx, "gina@example.net", 250, IPC_SUPPRESS_NONE, 0, 0, 0);
	/* an unknown verdict value is not an alert */
	add_rcpt(tx, "hal@example.net", 250, 7, 0, 0, 0);
	/* violation without times (and a scope we do not know): the times are left out */
	add_rcpt(tx, "ivy@example.net", 299, IPC_SUPPRESS_VIOLATION, 9, 0, -5);

	assert_int_equal(format(tx, CONFIG_ADDR_PLAIN, false, &s), 3);
	assert_string_equal(
		s.line[0],
		HEAD4("alert") ",\"alert\":{\"action\":\"allowed\",\"gid\":1,"
			       "\"signature_id\":2100001,\"rev\":1,"
			       "\"signature\":\"POSTERN suppression: recipient opted out, inside "
			       "the grace period\",\"category\":\"CAN-SPAM compliance violation\","
			       "\"severity\":3},"
			       "\"suppression\":{\"recipient\":\"<carol@example.net>\","
			       "\"recipient_in\":\"envelope\","
			       "\"verdict\":\"grace\",\"scope\":\"all\",\"domain_wide\":false,"
			       "\"optout_time\":\"2024-03-01T12:00:00Z\","
			       "\"grace_end\":\"2024-03-15T12:00:00Z\","
			       "\"business_days_elapsed\":0,\"grace_business_days\":10,"
			       "\"calendar_tz\":\"UTC\"},"
			       "\"smtp\":{\"mail_from\":\"news@shop.example\",\"rcpt_to\":["
			       "\"<carol@example.net>\",\"dave@example.net\",\"erin@example.net\","
			       "\"frank@example.net\",\"gina@example.net\",\"hal@example.net\","
			       "\"ivy@example.net\"]},"
			       "\"email\":{\"status\":\"delivered\"}}");
	assert_non_null(strstr(s.line[1],
			       "\"signature_id\":2100002,\"rev\":1,"
			       "\"signature\":\"POSTERN suppression: mail to a recipient who "
			       "opted out\",\"category\":\"CAN-SPAM compliance violation\","
			       "\"severity\":1},"
			       "\"suppression\":{\"recipient\":\"dave@example.net\","
			       "\"recipient_in\":\"envelope\","
			       "\"verdict\":\"violation\",\"scope\":\"sender\","
			       "\"domain_wide\":false,"
			       "\"optout_time\":\"2023-06-01T00:00:00Z\","
			       "\"grace_end\":\"2023-06-15T00:00:00Z\","
			       /* 2023-06-01 (Thu) to 2024-01-02 (Tue), US federal holidays: Jun 19,
				* Jul 4, Sep 4, Oct 9, Nov 10, Nov 23, Dec 25, Jan 1 */
			       "\"business_days_elapsed\":145,"));
	assert_non_null(strstr(s.line[2], "\"suppression\":{\"recipient\":\"ivy@example.net\","
					  "\"recipient_in\":\"envelope\","
					  "\"verdict\":\"violation\",\"scope\":\"unknown\","
					  "\"domain_wide\":false},"));
	sink_fini(&s);

	/* Rule alerts come first, then suppression alerts, then the smtp event. */
	add_alert(tx, 1, 1000001, 1, GEN_ACTION_ALERT);
	assert_int_equal(ipc_tx_check(tx, tx->hdr.len), 0);
	assert_int_equal(format(tx, CONFIG_ADDR_PLAIN, true, &s), 5);
	assert_non_null(strstr(s.line[0], "\"signature_id\":1000001,"));
	assert_non_null(strstr(s.line[1], "\"signature_id\":2100001,"));
	assert_non_null(strstr(s.line[3], "\"signature_id\":2100002,"));
	assert_string_equal(s.type[4], "smtp");
	sink_fini(&s);
}

static void
test_address_hash(void **state)
{
	(void)state;
	struct rec r;
	struct sink s;
	struct ipc_tx *tx = rec_basic(&r, 4);

	add_rcpt(tx, "<dave@example.net>", 250, IPC_SUPPRESS_VIOLATION, SUPPRESS_SCOPE_ALL,
		 1685577600, 1686787200);
	assert_int_equal(format(tx, CONFIG_ADDR_HASH, false, &s), 2);
	/* SHA-256 of the normalized address, lowercase hex: the suppression set's key, so the
	 * header's "Alice <alice@example.com>" hashes like the envelope's alice@example.com and
	 * the recipient "<dave@example.net>" like dave@example.net */
	assert_non_null(strstr(
		s.line[0],
		"\"smtp\":{\"helo\":\"client.example.com\","
		"\"mail_from\":"
		"\"ff8d9819fc0e12bf0d24892e45987e249a28dce836a85cad60e28eaaa8c6d976\","
		"\"rcpt_to\":[\"686b5e4cf4f963adf8f51468a48028ef8d15bd02fa335f821279a3d1678c9615\","
		"\"2cbfc0247fd43442d139c299014320d72c25d20e89175598acbb47fda2a493cf\"]},"
		"\"email\":{\"from\":"
		"\"ff8d9819fc0e12bf0d24892e45987e249a28dce836a85cad60e28eaaa8c6d976\","
		"\"to\":[\"686b5e4cf4f963adf8f51468a48028ef8d15bd02fa335f821279a3d1678c9615\"],"
		"\"subject\":\"Hello\","));
	assert_non_null(strstr(
		s.line[1],
		"\"suppression\":{\"recipient\":"
		"\"2cbfc0247fd43442d139c299014320d72c25d20e89175598acbb47fda2a493cf\","));
	/* The helo name and the subject are not addresses: never hashed. */
	assert_null(strstr(s.line[0], "alice@"));
	assert_null(strstr(s.line[1], "dave@"));
	sink_fini(&s);
}

static void
test_address_redact(void **state)
{
	(void)state;
	struct rec r;
	struct sink s;
	struct ipc_tx *tx = rec_init(&r, 4);

	add_str(tx, IPC_F_MAIL_FROM, "");  /* null reverse-path */
	add_rcpt(tx, "<dave@example.net>", 250, IPC_SUPPRESS_GRACE, SUPPRESS_SCOPE_ALL,
		 1709294400, 1710504000);
	add_rcpt(tx, "postmaster", 250, IPC_SUPPRESS_NONE, 0, 0, 0);
	add_rcpt(tx, "<>", 250, IPC_SUPPRESS_NONE, 0, 0, 0);
	add_rcpt(tx, "\"a@b\"@quoted.example", 250, IPC_SUPPRESS_NONE, 0, 0, 0);
	add_str(tx, IPC_F_EMAIL_FROM, "\"Alice Smith\" <alice.smith@example.com>");
	add_str(tx, IPC_F_EMAIL_TO, "\"Bob, Jr\" <bob@example.org>, carol@example.net");
	add_str(tx, IPC_F_EMAIL_CC, "<x@y.example>, undisclosed-recipients:;");
	assert_int_equal(format(tx, CONFIG_ADDR_REDACT, true, &s), 2);
	assert_non_null(strstr(s.line[0], "\"suppression\":{\"recipient\":\"<***@example.net>\","));
	assert_non_null(strstr(s.line[1],
			       "\"smtp\":{\"mail_from\":\"\",\"rcpt_to\":[\"<***@example.net>\","
			       "\"***\",\"<>\",\"***@quoted.example\"]},"
			       "\"email\":{\"from\":\"<***@example.com>\","
			       "\"to\":[\"<***@example.org>\",\"***@example.net\"],"
			       "\"cc\":[\"<***@y.example>\",\"***\"],"
			       "\"status\":\"delivered\"}}"));
	assert_null(strstr(s.line[1], "Alice"));
	assert_null(strstr(s.line[1], "Bob"));
	sink_fini(&s);
}

static void
test_address_lists(void **state)
{
	(void)state;
	struct rec r;
	struct sink s;
	struct ipc_tx *tx = rec_init(&r, 4);

	add_str(tx, IPC_F_EMAIL_TO,
		"\"Doe, John\" <jd@example.com>,, (a, comment) x@example.com , "
		"<y,z@example.com>,\"esc \\\" ,\" <q@example.com>,");
	add_str(tx, IPC_F_EMAIL_TO, "second@example.com");  /* a second To: header */
	add_str(tx, IPC_F_EMAIL_CC, " ,  , ");              /* nothing: cc left out */
	assert_int_equal(format(tx, CONFIG_ADDR_PLAIN, true, &s), 1);

	json_t *to = line_get(s.line[0], "email", "to");

	assert_int_equal(json_array_size(to), 5);
	assert_string_equal(json_string_value(json_array_get(to, 0)),
			    "\"Doe, John\" <jd@example.com>");
	assert_string_equal(json_string_value(json_array_get(to, 1)),
			    "(a, comment) x@example.com");
	assert_string_equal(json_string_value(json_array_get(to, 2)), "<y,z@example.com>");
	assert_string_equal(json_string_value(json_array_get(to, 3)),
			    "\"esc \\\" ,\" <q@example.com>");
	assert_string_equal(json_string_value(json_array_get(to, 4)), "second@example.com");
	json_decref(to);
	json_t *cc = line_get(s.line[0], "email", "cc");
	assert_null(cc);
	sink_fini(&s);
}

/* Expected output of eve_utf8_sanitize for one input. */
static void
check_sanitize_n(const char *in, size_t len, const char *want, size_t want_len)
{
	uint8_t out[3 * 64];
	size_t n;

	assert_true(len <= 64);
	n = eve_utf8_sanitize((const uint8_t *)in, len, out);
	assert_int_equal(n, want_len);
	assert_memory_equal(out, want, n);
}

static void
check_sanitize(const char *in, size_t len, const char *want)
{
	check_sanitize_n(in, len, want, strlen(want));
}

#define R "\xef\xbf\xbd" /* U+FFFD */

static void
test_utf8_sanitize(void **state)
{
	(void)state;
	check_sanitize("plain", 5, "plain");
	check_sanitize("caf\xc3\xa9", 5, "caf\xc3\xa9");
	check_sanitize("\xe2\x82\xac \xf0\x9f\x98\x80", 8, "\xe2\x82\xac \xf0\x9f\x98\x80");
	check_sanitize("\xef\xbf\xbf", 3, "\xef\xbf\xbf");           /* U+FFFF is allowed */
	check_sanitize("\xf4\x8f\xbf\xbf", 4, "\xf4\x8f\xbf\xbf");   /* U+10FFFF */
	check_sanitize("\xff", 1, R);
	check_sanitize("\x80", 1, R);                                /* lone continuation */
	check_sanitize("\xc3\x28", 2, R "(");                        /* bad continuation */
	check_sanitize("\xc0\xaf", 2, R R);                          /* overlong '/' */
	check_sanitize("\xc1\xbf", 2, R R);                          /* overlong */
	check_sanitize("\xe0\x80\xaf", 3, R R R);                    /* overlong */
	check_sanitize("\xf0\x80\x80\xaf", 4, R R R R);              /* overlong */
	check_sanitize("\xed\xa0\x80", 3, R R R);                    /* surrogate D800 */
	check_sanitize("\xed\x9f\xbf", 3, "\xed\x9f\xbf");           /* U+D7FF is fine */
	check_sanitize("\xf4\x90\x80\x80", 4, R R R R);              /* above U+10FFFF */
	check_sanitize("\xf5\x80\x80\x80", 4, R R R R);
	check_sanitize("ab\xe2\x82", 4, "ab" R R);                   /* cut at the end */
	check_sanitize("\xf0\x9f\x98", 3, R R R);
	check_sanitize_n("a\0b", 3, "a\0b", 3);                      /* NUL is valid UTF-8 */
	check_sanitize("", 0, "");
}

static void
test_invalid_utf8_fields(void **state)
{
	(void)state;
	struct rec r;
	struct sink s;
	struct ipc_tx *tx = rec_init(&r, 4);
	static const char subject[] = "A\xff" "B\xc3\xa9" "C\xed\xa0\x80" "D\0E\x01\"\\";
	static const char want[] = "A" R "B\xc3\xa9" "C" R R R "D\0E\x01\"\\";

	add_str(tx, IPC_F_HELO, "\xc0\xc1");
	add_bytes(tx, IPC_F_SUBJECT, subject, sizeof(subject) - 1);
	add_str(tx, IPC_F_EMAIL_TO, "\xfe@example.com, ok@example.com");
	add_rcpt(tx, "\xf8\x88\x80\x80\x80@example.com", 250, IPC_SUPPRESS_VIOLATION, 0,
		 1685577600, 1686787200);
	assert_int_equal(format(tx, CONFIG_ADDR_PLAIN, true, &s), 2);

	json_t *v = line_get(s.line[1], "email", "subject");
	assert_int_equal(json_string_length(v), sizeof(want) - 1);
	assert_memory_equal(json_string_value(v), want, sizeof(want) - 1);
	json_decref(v);
	/* Control characters and quotes come out escaped; the NUL as \u0000. */
	assert_non_null(strstr(s.line[1], "\"subject\":\"A" R "B\xc3\xa9" "C" R R R
					  "D\\u0000E\\u0001\\\"\\\\\""));
	assert_non_null(strstr(s.line[1], "\"helo\":\"" R R "\""));
	assert_non_null(strstr(s.line[1], "\"to\":[\"" R "@example.com\",\"ok@example.com\"]"));
	assert_non_null(strstr(s.line[0], "\"recipient\":\"" R R R R R "@example.com\""));
	sink_fini(&s);

	/* Redaction keeps the domain, sanitized; hashing uses the raw bytes. */
	tx = rec_init(&r, 4);
	add_str(tx, IPC_F_MAIL_FROM, "x\xff@bad\xff.example");
	assert_int_equal(format(tx, CONFIG_ADDR_REDACT, true, &s), 1);
	assert_non_null(strstr(s.line[0], "\"mail_from\":\"***@bad" R ".example\""));
	sink_fini(&s);
}

/* Every field at its bound, every byte invalid: the worst case still prints valid JSON. */
static void
test_full_record(void **state)
{
	(void)state;
	struct rec r;
	struct sink s;
	struct ipc_tx *tx = rec_init(&r, 6);
	uint8_t junk[IPC_FIELD_MAX];
	static const enum ipc_field_type types[] = {
		IPC_F_HELO, IPC_F_MAIL_FROM, IPC_F_EMAIL_FROM, IPC_F_EMAIL_TO,
		IPC_F_EMAIL_CC, IPC_F_SUBJECT, IPC_F_MESSAGE_ID,
	};

	memset(junk, 0xff, sizeof(junk));
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		add_bytes(tx, types[i], junk, sizeof(junk));
	/* The record is full now; more fields are cut and flagged, never overrun. */
	assert_null(ipc_tx_add(tx, IPC_TX_MAX, IPC_F_DATE, junk, sizeof(junk)));
	assert_true(tx->flags & IPC_TXF_TRUNCATED);
	tx->flow_id = UINT64_MAX;
	tx->ts_us = UINT64_MAX;

	for (int ao = CONFIG_ADDR_PLAIN; ao <= CONFIG_ADDR_REDACT; ao++) {
		assert_int_equal(format(tx, (enum config_address_output)ao, true, &s), 1);
		json_t *subj = line_get(s.line[0], "email", "subject");

		assert_int_equal(json_string_length(subj), 3 * IPC_FIELD_MAX);
		json_decref(subj);
		json_t *fid = line_get(s.line[0], "flow_id", NULL);
		assert_int_equal(json_integer_value(fid), INT64_MAX);
		json_decref(fid);
		sink_fini(&s);
	}
}

static void
test_emit_error(void **state)
{
	(void)state;
	struct rec r;
	struct sink s;
	struct ipc_tx *tx = rec_basic(&r, 4);
	struct eve_options opt = { .smtp_events = true };

	add_alert(tx, 1, 1000002, 1, GEN_ACTION_ALERT);
	sink_init(&s);
	s.fail_at = 1;
	assert_int_equal(eve_format_tx(tx, &opt, NULL, lookup, NULL, sink_emit, &s), -EIO);
	assert_int_equal(s.n, 1);
	sink_fini(&s);

	assert_int_equal(eve_format_tx(NULL, &opt, NULL, lookup, NULL, sink_emit, &s), -EINVAL);
	assert_int_equal(eve_format_tx(tx, NULL, NULL, lookup, NULL, sink_emit, &s), -EINVAL);
	assert_int_equal(eve_format_tx(tx, &opt, NULL, lookup, NULL, NULL, &s), -EINVAL);
}

static void
test_time_format(void **state)
{
	(void)state;
	char buf[EVE_TIME_MAX];

	assert_int_equal(eve_format_time_us(0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00.000000+0000");
	assert_int_equal(eve_format_time_us(TS_US, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2024-01-02T03:04:05.123456+0000");
	assert_int_equal(eve_format_time_us(1709294400000001ull, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2024-03-01T12:00:00.000001+0000");
	assert_int_equal(eve_format_time_us(TS_US, buf, 10), -ERANGE);
}

static void
test_options_from_config(void **state)
{
	(void)state;
	struct postern_config cfg;
	struct eve_options opt;

	config_defaults(&cfg);
	eve_options_from_config(&opt, &cfg);
	assert_int_equal(opt.address_output, CONFIG_ADDR_PLAIN);
	assert_false(opt.smtp_events);
	cfg.address_output = CONFIG_ADDR_REDACT;
	cfg.eve_smtp_events = true;
	eve_options_from_config(&opt, &cfg);
	assert_int_equal(opt.address_output, CONFIG_ADDR_REDACT);
	assert_true(opt.smtp_events);
}

static void
test_stats(void **state)
{
	(void)state;
	struct ipc_stats st;
	struct sink s;
	char want[4096];
	int off;

	memset(&st, 0, sizeof(st));
	ipc_hdr_init(&st.hdr, IPC_STATS, sizeof(st), 9);
	st.gen_id = 3;
	st.n_workers = 2;
	st.n_counters = IPC_C__COUNT;
	for (unsigned i = 0; i < IPC_C__COUNT; i++)
		st.counters[i] = i * 10;
	st.counters[IPC_C_RX_BYTES] = UINT64_MAX;  /* clamped, never negative */

	sink_init(&s);
	assert_int_equal(eve_format_stats(&st, TS_US, sink_emit, &s), 1);
	off = snprintf(want, sizeof(want),
		       "{\"timestamp\":\"2024-01-02T03:04:05.123456+0000\","
		       "\"event_type\":\"stats\","
		       "\"stats\":{\"gen_id\":3,\"workers\":2,\"counters\":{");
	for (unsigned i = 0; i < IPC_C__COUNT; i++)
		off += snprintf(want + off, sizeof(want) - (size_t)off, "%s\"%s\":%lld",
				i ? "," : "", ipc_counter_name((enum ipc_counter)i),
				i == IPC_C_RX_BYTES ? (long long)INT64_MAX : (long long)(i * 10));
	snprintf(want + off, sizeof(want) - (size_t)off, "}}}");
	assert_string_equal(s.line[0], want);
	assert_string_equal(s.type[0], "stats");
	sink_fini(&s);

	/* An older sender with fewer counters: only those are printed. */
	st.n_counters = 2;
	assert_int_equal(eve_format_stats(&st, TS_US, sink_emit, &s), 1);
	assert_non_null(strstr(s.line[0], "\"counters\":{\"rx_packets\":0,"
					  "\"rx_bytes\":9223372036854775807}}}"));
	sink_fini(&s);
	assert_int_equal(eve_format_stats(NULL, TS_US, sink_emit, &s), -EINVAL);
}

/* The end of an outage of posternd: what the dataplane kept and what it had to drop. */
static void
test_spool(void **state)
{
	(void)state;
	struct ipc_spool sp = {
		.started_us = TS_US, .ended_us = TS_US + 2500000, .n_kept = 220, .n_dropped = 3,
		.bytes_dropped = 1200,
	};
	struct sink s;

	ipc_hdr_init(&sp.hdr, IPC_SPOOL, sizeof(sp), 4);
	sink_init(&s);
	assert_int_equal(eve_format_spool(&sp, sink_emit, &s), 1);
	assert_string_equal(s.line[0],
			    "{\"timestamp\":\"2024-01-02T03:04:07.623456+0000\","
			    "\"event_type\":\"spool\","
			    "\"spool\":{\"started\":\"2024-01-02T03:04:05.123456+0000\","
			    "\"ended\":\"2024-01-02T03:04:07.623456+0000\",\"seconds\":2.5,"
			    "\"records_delivered_late\":220,\"records_dropped\":3,"
			    "\"bytes_dropped\":1200}}");
	assert_string_equal(s.type[0], "spool");
	sink_fini(&s);
	/* an end before the start is a corrupt record, not a negative duration */
	sp.ended_us = TS_US - 1;
	assert_int_equal(eve_format_spool(&sp, sink_emit, &s), -EINVAL);
	assert_int_equal(eve_format_spool(NULL, sink_emit, &s), -EINVAL);
	sink_fini(&s);
}

static void
test_anomaly_event(void **state)
{
	(void)state;
	struct ipc_event ev;
	struct sink s;

	memset(&ev, 0, sizeof(ev));
	ipc_hdr_init(&ev.hdr, IPC_EVENT, sizeof(ev), 4);
	ev.ts_us = TS_US;
	ev.flow_id = 77;
	ev.ip_version = 4;
	ev.src_ip[10] = ev.src_ip[11] = ev.dst_ip[10] = ev.dst_ip[11] = 0xff;
	ev.src_ip[12] = 10;
	ev.src_ip[15] = 7;
	ev.dst_ip[12] = 10;
	ev.dst_ip[15] = 25;
	ev.src_port = 40000;
	ev.dst_port = 25;
	ev.code = IPC_EV_TCP_OVERLAP_DIFF;
	ev.value = 12;
	assert_int_equal(ipc_event_check(&ev, sizeof(ev)), 0);

	sink_init(&s);
	assert_int_equal(eve_format_event(&ev, sink_emit, &s), 1);
	assert_string_equal(s.line[0],
			    "{\"timestamp\":\"2024-01-02T03:04:05.123456+0000\",\"flow_id\":77,"
			    "\"event_type\":\"anomaly\",\"src_ip\":\"10.0.0.7\",\"src_port\":40000,"
			    "\"dest_ip\":\"10.0.0.25\",\"dest_port\":25,\"proto\":\"TCP\","
			    "\"anomaly\":{\"type\":\"stream\",\"event\":"
			    "\"TCP_OVERLAP_DIFFERENT_DATA\",\"value\":12}}");
	assert_string_equal(s.type[0], "anomaly");
	sink_fini(&s);

	/* a record naming no known event is refused before it is formatted */
	ev.code = IPC_EV__MAX;
	assert_int_equal(ipc_event_check(&ev, sizeof(ev)), -EINVAL);
	ev.code = 0;
	assert_int_equal(ipc_event_check(&ev, sizeof(ev)), -EINVAL);
	ev.code = IPC_EV_TCP_GAP;
	assert_int_equal(ipc_event_check(&ev, sizeof(ev) - 1), -EINVAL);
}

/* posternd's own alerts: bypass on the record's flow, anomaly about a host over a window. */
static void
test_bypass_and_anomaly_alerts(void **state)
{
	(void)state;
	struct rec r;
	struct sink s;
	struct ipc_tx *tx = rec_basic(&r, 4);
	struct eve_options opt = { .address_output = CONFIG_ADDR_PLAIN };
	struct bypass_finding b = {
		.kind = BYPASS_RELAY_SKIPPED,
		.client_ip = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 5 },
		.server_ip = { [10] = 0xff, [11] = 0xff, 198, 51, 100, 7 },
		.server_port = 25,
		.first_seen_us = UINT64_C(1704164645000000), /* 2024-01-02T03:04:05Z */
		.count = 3,
	};
	struct anomaly_alert a = {
		.subject = ANOMALY_HOST,
		.metric = ANOMALY_MESSAGES,
		.key = "10.0.0.5",
		.host_ip = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 5 },
		.value = 203,
		.baseline = 3,
		.floor = 120,
		.multiple = 5,
		.window_s = 60,
		.window_end_us = UINT64_C(1704164645123456),
	};

	sink_init(&s);
	assert_int_equal(eve_format_bypass(tx, &b, &opt, sink_emit, &s), 1);
	assert_string_equal(
		s.line[0],
		HEAD4("alert") ",\"alert\":{\"action\":\"allowed\",\"gid\":1,"
			       "\"signature_id\":2100010,\"rev\":1,"
			       "\"signature\":\"POSTERN bypass: an internal client mailed around "
			       "the sanctioned relays\",\"category\":\"Mail sent around the "
			       "compliance relay\",\"severity\":2},"
			       "\"bypass\":{\"kind\":\"relay_skipped\",\"client\":\"10.0.0.5\","
			       "\"server\":\"198.51.100.7\",\"server_port\":25,"
			       "\"transactions\":3,\"first_seen\":\"2024-01-02T03:04:05Z\"},"
			       BASIC_SMTP "," BASIC_EMAIL);
	b.kind = BYPASS_NEW_SMTP_HOST;
	assert_int_equal(eve_format_bypass(tx, &b, &opt, sink_emit, &s), 1);
	assert_non_null(strstr(s.line[1], "\"signature_id\":2100011,"));
	assert_non_null(strstr(s.line[1], "\"bypass\":{\"kind\":\"new_smtp_host\","
					  "\"client\":\"10.0.0.5\","
					  "\"first_seen\":\"2024-01-02T03:04:05Z\"}"));

	assert_int_equal(eve_format_anomaly_alert(&a, sink_emit, &s), 1);
	assert_string_equal(
		s.line[2],
		"{\"timestamp\":\"2024-01-02T03:04:05.123456+0000\",\"event_type\":\"alert\","
		"\"src_ip\":\"10.0.0.5\",\"alert\":{\"action\":\"allowed\",\"gid\":1,"
		"\"signature_id\":2100020,\"rev\":1,\"signature\":\"POSTERN anomaly: messages a "
		"minute far above the baseline\",\"category\":\"Mail volume anomaly\","
		"\"severity\":2},\"anomaly\":{\"subject\":\"host\",\"key\":\"10.0.0.5\","
		"\"metric\":\"messages_per_minute\",\"value\":203.0,\"baseline\":3.0,"
		"\"floor\":120,\"multiple\":5.0,\"window\":60}}");
	/* a sender domain has no address of its own */
	a.subject = ANOMALY_SENDER_DOMAIN;
	snprintf(a.key, sizeof(a.key), "blast.example");
	assert_int_equal(eve_format_anomaly_alert(&a, sink_emit, &s), 1);
	assert_null(strstr(s.line[3], "src_ip"));
	assert_non_null(strstr(s.line[3], "\"subject\":\"sender_domain\",\"key\":\"blast.example\""));
	a.metric = ANOMALY__COUNT;
	assert_int_equal(eve_format_anomaly_alert(&a, sink_emit, &s), -EINVAL);
	sink_fini(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_alert_ipv4),
		cmocka_unit_test(test_smtp_event),
		cmocka_unit_test(test_smtp_event_compliance),
		cmocka_unit_test(test_canspam_alert),
		cmocka_unit_test(test_smtp_details),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_lookup_edge_cases),
		cmocka_unit_test(test_suppression),
		cmocka_unit_test(test_address_hash),
		cmocka_unit_test(test_address_redact),
		cmocka_unit_test(test_address_lists),
		cmocka_unit_test(test_utf8_sanitize),
		cmocka_unit_test(test_invalid_utf8_fields),
		cmocka_unit_test(test_full_record),
		cmocka_unit_test(test_emit_error),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_options_from_config),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_spool),
		cmocka_unit_test(test_anomaly_event),
		cmocka_unit_test(test_bypass_and_anomaly_alerts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
