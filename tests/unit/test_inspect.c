/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for dataplane/inspect.c, driving whole SMTP sessions without DPDK through the
 * real parts around it: a rule pack parsed and compiled by posternd's compiler, loaded as a
 * generation (Hyperscan), a real LMDB suppression set, and the records a worker would send.
 * Each session is fed whole, then one byte at a time: the records must be identical.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "builtin_sids.h"
#include "commercial.h"
#include "config.h"
#include "inspect.h"
#include "smtp_ext.h"
#include "mime_words.h"
#include "rule_compile.h"
#include "rule_parse.h"
#include "suppress_db.h"
#include "suppress_writer.h"
#include "test_tmpdir.h"

#define JAN_02_2024 1704153600
#define JUN_03_2024_US UINT64_C(1717408800000000)
#define MAX_RECORDS 8

static const char rules_text[] =
	"alert smtp any any -> any any (msg:\"subject\"; email.subject; content:\"free money\"; "
	"nocase; sid:1000001; rev:1;)\n"
	"alert smtp any any -> any any (msg:\"body\"; file.data; content:\"wire transfer fee\"; "
	"nocase; sid:1000002; rev:3;)\n"
	"drop smtp any any -> any any (msg:\"outside invoice\"; email.subject; content:\"invoice\"; "
	"nocase; email.from; content:!\"@corp.example\"; sid:1000005; rev:1;)\n"
	"alert smtp any any -> any any (msg:\"never\"; email.x_mailer; content:\"MassMailer\"; "
	"sid:1000003; rev:1;)\n"
	"alert smtp any any -> any any (msg:\"helo\"; smtp.helo; content:\"bad.example\"; "
	"sid:1000006; rev:1;)\n"
	"alert smtp any any -> any any (msg:\"php mailer\"; email.header; "
	"content:\"x-php-originating-script: \"; nocase; sid:1000007; rev:1;)\n"
	"alert smtp any any -> any any (msg:\"relayed by\"; email.received; "
	"content:\"by relay2.corp.example\"; sid:1000008; rev:1;)\n"
	"alert tcp any any -> any 25 (msg:\"raw xclient\"; content:\"|0a|XCLIENT \"; "
	"sid:1000009; rev:1;)\n"
	"alert tcp any 25 -> any any (msg:\"raw banner\"; flow:to_client; "
	"content:\"220 \"; startswith; content:\"ESMTP Postfix (Debian)\"; distance:0; "
	"sid:1000010; rev:1;)\n";

struct step {
	bool to_server;
	const char *text;
};

/* Two transactions: the first delivered to three recipients, the second refused at DATA's end. */
static const struct step session[] = {
	{ false, "220 relay.corp.example ESMTP\r\n" },
	{ true, "EHLO app7.corp.example\r\n" },
	{ false, "250-relay.corp.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n" },
	{ true, "MAIL FROM:<news@corp.example> SIZE=900\r\n" },
	{ false, "250 2.1.0 Ok\r\n" },
	{ true, "RCPT TO:<optedout@customer.example>\r\nRCPT TO:<Former@Customer.Example>\r\n"
		"RCPT TO:<late@customer.example>\r\nRCPT TO:<nobody@customer.example>\r\nDATA\r\n" },
	{ false, "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 No such user\r\n"
		 "354 End data with <CR><LF>.<CR><LF>\r\n" },
	{ true, "From: News <news@corp.example>\r\nTo: optedout@customer.example,\r\n"
		" former@customer.example\r\nSubject: =?utf-8?q?x?= FREE\r\n MONEY inside\r\n"
		"Message-ID: <1@corp.example>\r\n\r\nPay the wire transfer\r\n"
		"..fee now\r\nor the wire transfer fee doubles.\r\n.\r\n" },
	{ false, "250 2.0.0 Ok: queued as ABC\r\n" },
	{ true, "MAIL FROM:<billing@outside.example>\r\nRCPT TO:<ap@corp.example>\r\nDATA\r\n" },
	{ false, "250 Ok\r\n250 Ok\r\n354 go ahead\r\n" },
	{ true, "From: <billing@outside.example>\r\nSubject: Invoice 42\r\n\r\nsee attached\r\n.\r\n" },
	{ false, "554 5.7.1 Rejected\r\n" },
	{ true, "QUIT\r\n" },
	{ false, "221 Bye\r\n" },
};

struct fixture {
	char dir[64];
	struct suppress_db *db;
	struct suppress_reader *reader;
	struct scan_gen *gen;
	struct inspect_env env;
	struct ipc_tx *records[MAX_RECORDS];
	unsigned n_records;
	uint16_t events[8];
	unsigned n_events;
};

static void
test_event(void *io, const struct inspect_flow_meta *meta, uint16_t code, uint64_t value)
{
	struct fixture *fx = io;

	(void)meta;
	(void)value;
	if (fx->n_events < 8)
		fx->events[fx->n_events++] = code;
}

static struct ipc_tx *
test_alloc(void *io)
{
	(void)io;
	return aligned_alloc(8, IPC_TX_MAX);
}

static void
test_emit(void *io, struct ipc_tx *tx)
{
	struct fixture *fx = io;

	assert_true(fx->n_records < MAX_RECORDS);
	assert_int_equal(ipc_tx_check(tx, tx->hdr.len), 0);
	fx->records[fx->n_records++] = tx;
}

static void
put(struct suppress_db *db, const char *addr, int64_t optout, int64_t grace_end, int64_t consent)
{
	struct suppress_rec rec = {
		.version = SUPPRESS_REC_VERSION,
		.scope = SUPPRESS_SCOPE_ALL,
		.optout_time = optout,
		.grace_end = grace_end,
		.consent_time = consent,
	};
	enum suppress_table t;
	uint8_t key[SUPPRESS_KEY_LEN];

	assert_int_equal(suppress_db_key(db, slice_from_cstr(addr), &t, key, NULL, 0), 0);
	assert_int_equal(suppress_write_put(db, t, key, &rec), 0);
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char err[2048];
	void *blob;
	size_t len;

	assert_int_equal(test_tmpdir_make(fx->dir, sizeof(fx->dir)), 0);

	struct suppress_db *w = suppress_writer_open(fx->dir, 1 << 24, 0);
	assert_non_null(w);
	assert_int_equal(suppress_write_begin(w), 0);
	put(w, "optedout@customer.example", JAN_02_2024, JAN_02_2024 + 14 * 86400, 0);
	put(w, "former@customer.example", JAN_02_2024, JAN_02_2024 + 14 * 86400,
	    JAN_02_2024 + 30 * 86400);
	/* opted out the day before the message: still inside its grace period */
	put(w, "late@customer.example", 1717322400, 1717322400 + 14 * 86400, 0);
	assert_int_equal(suppress_write_commit(w), 0);
	suppress_db_close(w);
	fx->db = suppress_db_open(fx->dir, true);
	assert_non_null(fx->db);
	fx->reader = suppress_reader_create(fx->db);
	assert_non_null(fx->reader);

	struct rule_set *rs = rule_set_parse_buffer("inline.rules", rules_text,
						    sizeof(rules_text) - 1, NULL, err, sizeof(err));
	if (rs == NULL)
		fail_msg("%s", err);
	assert_int_equal(rule_compile(rs, NULL, 7, &blob, &len, err, sizeof(err)), 0);
	fx->gen = scan_gen_load(blob, len, 1, err, sizeof(err));
	if (fx->gen == NULL)
		fail_msg("%s", err);
	free(blob);
	rule_set_destroy(rs);

	fx->env.gen = fx->gen;
	fx->env.supp = fx->reader;
	fx->env.words = mime_words_create();
	assert_non_null(fx->env.words);
	fx->env.now_us = JUN_03_2024_US;
	fx->env.tx_alloc = test_alloc;
	fx->env.tx_emit = test_emit;
	fx->env.event = test_event;
	fx->env.io = fx;
	*state = fx;
	return 0;
}

static void
clear_records(struct fixture *fx)
{
	for (unsigned i = 0; i < fx->n_records; i++)
		free(fx->records[i]);
	fx->n_records = 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	clear_records(fx);
	mime_words_destroy(fx->env.words);
	scan_gen_destroy(fx->gen);
	suppress_reader_destroy(fx->reader);
	suppress_db_close(fx->db);
	test_tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

static void
run_session(struct fixture *fx, size_t piece)
{
	static struct inspect_session s;
	struct inspect_flow_meta meta = {
		.flow_id = 42, .client_port = 40000, .server_port = 25, .ip_version = 4,
	};

	clear_records(fx);
	meta.client_ip[15] = 7;
	meta.server_ip[15] = 25;
	inspect_session_init(&s, &fx->env, &meta);
	for (size_t i = 0; i < sizeof(session) / sizeof(session[0]); i++) {
		const uint8_t *p = (const uint8_t *)session[i].text;
		size_t len = strlen(session[i].text);

		for (size_t off = 0; off < len; off += piece) {
			size_t n = len - off < piece ? len - off : piece;
			inspect_session_data(&s, session[i].to_server, p + off, n);
		}
	}
	inspect_session_close(&s);
	assert_false(scan_gen_is_pinned(fx->gen));
}

static const struct ipc_field *
find_field(const struct ipc_tx *tx, uint16_t type, unsigned nth)
{
	for (const struct ipc_field *f = ipc_tx_next(tx, NULL); f != NULL; f = ipc_tx_next(tx, f))
		if (f->type == type && nth-- == 0)
			return f;
	return NULL;
}

static void
assert_field(const struct ipc_tx *tx, uint16_t type, const char *want)
{
	const struct ipc_field *f = find_field(tx, type, 0);

	assert_non_null(f);
	assert_int_equal(f->len, strlen(want));
	assert_memory_equal(ipc_field_value(f), want, f->len);
}

static struct ipc_rcpt
rcpt(const struct ipc_tx *tx, unsigned nth, const char *addr)
{
	const struct ipc_field *f = find_field(tx, IPC_F_RCPT, nth);
	struct ipc_rcpt r;

	assert_non_null(f);
	if (f == NULL) /* for the compiler: cmocka's assert does not return, it cannot tell */
		return (struct ipc_rcpt){ 0 };
	memcpy(&r, ipc_field_value(f), sizeof(r));
	assert_int_equal(f->len - sizeof(r), strlen(addr));
	assert_memory_equal(ipc_field_value(f) + sizeof(r), addr, strlen(addr));
	return r;
}

static bool
has_alert(const struct ipc_tx *tx, uint32_t sid, uint8_t action)
{
	for (unsigned i = 0;; i++) {
		const struct ipc_field *f = find_field(tx, IPC_F_ALERT, i);
		struct ipc_alert a;

		if (f == NULL)
			return false;
		memcpy(&a, ipc_field_value(f), sizeof(a));
		if (a.sid == sid)
			return a.action == action;
	}
}

static unsigned
n_alerts(const struct ipc_tx *tx)
{
	unsigned n = 0;

	while (find_field(tx, IPC_F_ALERT, n) != NULL)
		n++;
	return n;
}

static void
test_session_records(void **state)
{
	struct fixture *fx = *state;

	run_session(fx, SIZE_MAX);
	assert_int_equal(fx->n_records, 2);

	const struct ipc_tx *t1 = fx->records[0];
	assert_int_equal(t1->status, IPC_TX_DELIVERED);
	assert_int_equal(t1->reply_code, 250);
	assert_int_equal(t1->flow_id, 42);
	assert_int_equal(t1->gen_id, 7);
	assert_int_equal(t1->ts_us, JUN_03_2024_US);
	assert_int_equal(t1->src_port, 40000);
	assert_int_equal(t1->tx_seq, 0);
	assert_int_equal(t1->n_rcpt, 4);
	assert_field(t1, IPC_F_HELO, "app7.corp.example");
	assert_field(t1, IPC_F_MAIL_FROM, "news@corp.example");
	assert_field(t1, IPC_F_MESSAGE_ID, "<1@corp.example>");

	struct ipc_rcpt r = rcpt(t1, 0, "optedout@customer.example");
	assert_int_equal(r.verdict, IPC_SUPPRESS_VIOLATION);
	assert_int_equal(r.reply_code, 250);
	assert_int_equal(r.optout_time, JAN_02_2024);
	r = rcpt(t1, 1, "Former@Customer.Example");
	assert_int_equal(r.verdict, IPC_SUPPRESS_NONE); /* consent after the opt-out */
	r = rcpt(t1, 2, "late@customer.example");
	assert_int_equal(r.verdict, IPC_SUPPRESS_GRACE);
	r = rcpt(t1, 3, "nobody@customer.example");
	assert_int_equal(r.verdict, IPC_SUPPRESS_NONE);
	assert_int_equal(r.reply_code, 550);

	/* the subject is scanned unfolded; the body dot-unstuffed, across its line break */
	assert_true(has_alert(t1, 1000001, GEN_ACTION_ALERT));
	assert_true(has_alert(t1, 1000002, GEN_ACTION_ALERT));
	assert_int_equal(n_alerts(t1), 2);
	/* the whole message, header block included, dot-unstuffed */
	assert_int_equal(t1->body_bytes,
			 strlen("From: News <news@corp.example>\r\nTo: optedout@customer.example,\r\n"
				" former@customer.example\r\nSubject: =?utf-8?q?x?= FREE\r\n MONEY inside\r\n"
				"Message-ID: <1@corp.example>\r\n\r\nPay the wire transfer\r\n"
				".fee now\r\nor the wire transfer fee doubles.\r\n"));

	const struct ipc_tx *t2 = fx->records[1];
	assert_int_equal(t2->status, IPC_TX_REJECTED);
	assert_int_equal(t2->reply_code, 554);
	assert_int_equal(t2->tx_seq, 1);
	/* the HELO carries over to every transaction of the session */
	assert_field(t2, IPC_F_HELO, "app7.corp.example");
	assert_field(t2, IPC_F_SUBJECT, "Invoice 42");
	/* content and negated content: an invoice not from @corp.example */
	assert_true(has_alert(t2, 1000005, GEN_ACTION_DROP));
	assert_int_equal(n_alerts(t2), 1);
}

static void
test_byte_at_a_time_is_identical(void **state)
{
	struct fixture *fx = *state;
	struct ipc_tx *whole[2];

	run_session(fx, SIZE_MAX);
	assert_int_equal(fx->n_records, 2);
	whole[0] = fx->records[0];
	whole[1] = fx->records[1];
	fx->n_records = 0;
	for (size_t piece = 1; piece <= 7; piece++) {
		run_session(fx, piece);
		assert_int_equal(fx->n_records, 2);
		for (int i = 0; i < 2; i++) {
			assert_int_equal(fx->records[i]->hdr.len, whole[i]->hdr.len);
			assert_memory_equal(fx->records[i], whole[i], whole[i]->hdr.len);
		}
	}
	free(whole[0]);
	free(whole[1]);
}

static void
test_without_rules_or_set(void **state)
{
	struct fixture *fx = *state;

	fx->env.gen = NULL;
	fx->env.supp = NULL;
	run_session(fx, SIZE_MAX);
	fx->env.gen = fx->gen;
	fx->env.supp = fx->reader;
	assert_int_equal(fx->n_records, 2);
	assert_int_equal(n_alerts(fx->records[0]), 0);
	assert_int_equal(rcpt(fx->records[0], 0, "optedout@customer.example").verdict,
			 IPC_SUPPRESS_NONE);
	assert_int_equal(fx->records[0]->gen_id, 0);
}

static struct ipc_tx *
no_record(void *io)
{
	(void)io;
	return NULL;
}

static void
test_record_pool_exhausted_is_counted(void **state)
{
	struct fixture *fx = *state;
	uint64_t before = fx->env.counters[IPC_C_EVENTS_DROPPED];

	fx->env.tx_alloc = no_record;
	run_session(fx, SIZE_MAX);
	fx->env.tx_alloc = test_alloc;
	assert_int_equal(fx->n_records, 0);
	assert_int_equal(fx->env.counters[IPC_C_EVENTS_DROPPED] - before, 2);
}

/* Body stream state comes from the thread's fixed pool: slots are reused message after
 * message, and an empty pool means a counted, unscanned body, never an allocation. */
static void
test_stream_state_from_fixed_pool(void **state)
{
	struct fixture *fx = *state;

	/* the pack has raw-stream rules: a session holds a body and both raw streams */
	assert_int_equal(scan_stream_pool_bind(INSPECT_STREAMS_PER_SESSION), 0);
	run_session(fx, SIZE_MAX);
	assert_int_equal(fx->n_records, 2);
	assert_true(has_alert(fx->records[0], 1000002, GEN_ACTION_ALERT)); /* body scanned */
	assert_int_equal(scan_stream_pool_exhausted(), 0);

	struct hs_stream *held = scan_stream_open(fx->gen, BUF_FILE_DATA);
	uint64_t errors = fx->env.counters[IPC_C_SCAN_ERRORS];

	assert_non_null(held);
	/* with one slot taken, the two raw streams take the rest and the body goes unscanned,
	 * counted; the session's other records are still made */
	run_session(fx, SIZE_MAX);
	assert_int_equal(fx->n_records, 2);
	assert_false(has_alert(fx->records[0], 1000002, GEN_ACTION_ALERT));
	assert_true(fx->env.counters[IPC_C_SCAN_ERRORS] > errors);
	assert_int_equal(scan_stream_pool_exhausted(), 2); /* both messages' bodies */
	struct scan_matches m;
	scan_matches_reset(&m);
	assert_int_equal(scan_stream_close(fx->gen, 0, held, &m), 0);
	scan_stream_pool_unbind();
}

/* Encoded words are decoded before rules and records see a header: an advance-fee subject
 * hidden in base64 still fires, and the alert shows what a mail reader shows. */
static void
test_encoded_subject_is_decoded(void **state)
{
	struct fixture *fx = *state;
	static struct inspect_session s;
	static const char *const client[] = {
		"EHLO a.example\r\nMAIL FROM:<x@a.example>\r\nRCPT TO:<y@b.example>\r\nDATA\r\n",
		"Subject: =?utf-8?B?RlJFRSBNT05FWQ==?= =?iso-8859-1?Q?f=FCr_Sie?=\r\n"
		"From: =?utf-8?Q?bad_word?X?= <x@a.example>\r\n\r\nhi\r\n.\r\n",
	};
	struct inspect_flow_meta meta = { .flow_id = 1, .ip_version = 4 };
	uint64_t bad = fx->env.counters[IPC_C_MIME_BAD_WORDS];

	clear_records(fx);
	inspect_session_init(&s, &fx->env, &meta);
	for (int i = 0; i < 2; i++)
		inspect_session_data(&s, true, (const uint8_t *)client[i], strlen(client[i]));
	inspect_session_close(&s);
	assert_int_equal(fx->n_records, 1);
	/* "FREE MONEY" then "für Sie": the space between two encoded words is dropped */
	assert_field(fx->records[0], IPC_F_SUBJECT, "FREE MONEYf\xc3\xbcr Sie");
	assert_true(has_alert(fx->records[0], 1000001, GEN_ACTION_ALERT));
	/* a malformed word stays as it was sent, and is counted */
	assert_field(fx->records[0], IPC_F_EMAIL_FROM, "=?utf-8?Q?bad_word?X?= <x@a.example>");
	assert_int_equal(fx->env.counters[IPC_C_MIME_BAD_WORDS], bad + 1);
}

/* Feed a session's steps in pieces of `piece` bytes (SIZE_MAX: whole), then close it. */
/* Whole steps, a small odd size, and one byte at a time. */
static const size_t pieces[] = { SIZE_MAX, 7, 1 };

static void
run_steps(struct fixture *fx, const struct step *steps, size_t n_steps, size_t piece)
{
	static struct inspect_session s;
	struct inspect_flow_meta meta = { .flow_id = 9, .client_port = 41000, .server_port = 25,
					  .ip_version = 4 };

	clear_records(fx);
	fx->n_events = 0;
	inspect_session_init(&s, &fx->env, &meta);
	for (size_t i = 0; i < n_steps; i++) {
		const uint8_t *p = (const uint8_t *)steps[i].text;
		size_t len = strlen(steps[i].text);

		for (size_t off = 0; off < len; off += piece)
			inspect_session_data(&s, steps[i].to_server, p + off,
					     len - off < piece ? len - off : piece);
	}
	inspect_session_close(&s);
	assert_false(scan_gen_is_pinned(fx->gen));
}

static unsigned
n_fields(const struct ipc_tx *tx, uint16_t type)
{
	unsigned n = 0;

	while (find_field(tx, type, n) != NULL)
		n++;
	return n;
}

/*
 * The message layer: the body rule fires on a base64 part once decoded, a file name given the
 * RFC 2231 way is recorded decoded, a URL repeated in text and HTML is recorded once, any
 * header of the message (not of a part) can be matched by name, and a multipart's preamble
 * is scanned (a body hidden before the first delimiter).
 */
static void
test_mime_parts_scanned_and_recorded(void **state)
{
	struct fixture *fx = *state;
	/* "Pay the wire transfer fee today" in base64 */
	static const struct step steps[] = {
		{ true, "EHLO a.example\r\nMAIL FROM:<x@a.example>\r\nRCPT TO:<y@b.example>\r\n"
			"DATA\r\n" },
		{ false, "220 hi\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n" },
		{ true, "Received: from a by relay1.corp.example; Mon, 3 Jun 2024\r\n"
			"Received: from relay1 by relay2.corp.example\r\n\twith ESMTP; Mon, 3 Jun 2024\r\n"
			"Subject: parts\r\nX-PHP-Originating-Script: 33:mass.php\r\n"
			"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
			"--b1\r\nContent-Type: text/html\r\n\r\n"
			"<a href=\"https://pay.example/x\">https://pay.example/x</a>\r\n"
			"--b1\r\nContent-Type: application/octet-stream\r\n"
			"Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\n"
			"UGF5IHRoZSB3aXJlIHRyYW5z\r\nZmVyIGZlZSB0b2RheQ==\r\n--b1--\r\n.\r\n" },
		{ false, "250 queued\r\n" },
		{ true, "MAIL FROM:<x@a.example>\r\nRCPT TO:<y@b.example>\r\nDATA\r\n" },
		{ false, "250 ok\r\n250 ok\r\n354 go\r\n" },
		{ true, "Content-Type: multipart/alternative; boundary=\"never\"\r\n\r\n"
			"hidden: wire transfer fee\r\n"
			"--never\r\nX-PHP-Originating-Script: 1:in-a-part.php\r\n\r\nx\r\n.\r\n" },
		{ false, "250 queued\r\n" },
	};
	uint64_t parts = fx->env.counters[IPC_C_MIME_PARTS];

	for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
		run_steps(fx, steps, sizeof(steps) / sizeof(steps[0]), pieces[k]);
		assert_int_equal(fx->n_records, 2);
		const struct ipc_tx *t = fx->records[0];

		assert_true(has_alert(t, 1000002, GEN_ACTION_ALERT));
		/* any header by name, through email.header; only the message's own */
		assert_true(has_alert(t, 1000007, GEN_ACTION_ALERT));
		/* every Received header is scanned, not only the first */
		assert_true(has_alert(t, 1000008, GEN_ACTION_ALERT));
		assert_false(has_alert(fx->records[1], 1000007, GEN_ACTION_ALERT));
		assert_field(t, IPC_F_ATTACHMENT, "r\xc3\xa9sum\xc3\xa9.pdf");
		assert_field(t, IPC_F_URL, "https://pay.example/x");
		assert_int_equal(n_fields(t, IPC_F_URL), 1);
		assert_true(has_alert(fx->records[1], 1000002, GEN_ACTION_ALERT));
		assert_int_equal(n_fields(fx->records[1], IPC_F_ATTACHMENT), 0);
		assert_int_equal(fx->n_events, 0);
	}
	/* per run: multipart, html, attachment; then the second multipart and its part */
	assert_int_equal(fx->env.counters[IPC_C_MIME_PARTS] - parts,
			 5 * sizeof(pieces) / sizeof(pieces[0]));
}

/*
 * What looks like hiding from a sensor is an anomaly event of the flow: a multipart whose
 * boundary never comes (its body, in the preamble, is scanned all the same), a file name
 * given twice, differently, and multiparts nested past the limit.
 */
/*
 * The raw stream of both directions (pkt_data, flow:to_client) counts for the transaction
 * judged next; a session that never sends MAIL still gets a record when its raw stream
 * fires. A body pattern across the point where gathered decoded bytes are handed to
 * Hyperscan (INSPECT_PART_BUF) still matches: the stream sees the same bytes.
 */
static void
test_raw_stream_and_gathered_body(void **state)
{
	struct fixture *fx = *state;
	static char body[4096];
	size_t n = 0;

	/* short lines up to just before the gathering limit, then the pattern across it */
	while (n < INSPECT_PART_BUF - 40)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "filler line %04zu\r\n", n);
	n += (size_t)snprintf(body + n, sizeof(body) - n, "%*spay the wire transfer fee now\r\n",
			      (int)(INSPECT_PART_BUF - 12 - n), "");
	snprintf(body + n, sizeof(body) - n, "bye\r\n.\r\n");

	const struct step steps[] = {
		{ false, "220 mx.corp.example ESMTP Postfix (Debian)\r\n" },
		{ true, "EHLO a.example\r\nXCLIENT NAME=spoofed.example\r\n" },
		{ false, "250 mx\r\n550 5.7.0 no\r\n" },
		{ true, "MAIL FROM:<x@a.example>\r\nRCPT TO:<y@b.example>\r\nDATA\r\n" },
		{ false, "250 ok\r\n250 ok\r\n354 go\r\n" },
		{ true, body },
		{ false, "250 queued\r\n" },
	};
	const struct step no_mail[] = {
		{ false, "220 mx.corp.example ESMTP Postfix (Debian)\r\n" },
		{ true, "EHLO a.example\r\nXCLIENT ADDR=10.6.6.6\r\nQUIT\r\n" },
		{ false, "250 mx\r\n550 no\r\n221 bye\r\n" },
	};

	for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
		run_steps(fx, steps, sizeof(steps) / sizeof(steps[0]), pieces[k]);
		assert_int_equal(fx->n_records, 1);
		assert_true(has_alert(fx->records[0], 1000002, GEN_ACTION_ALERT));
		assert_true(has_alert(fx->records[0], 1000009, GEN_ACTION_ALERT));
		assert_true(has_alert(fx->records[0], 1000010, GEN_ACTION_ALERT));

		run_steps(fx, no_mail, sizeof(no_mail) / sizeof(no_mail[0]), pieces[k]);
		assert_int_equal(fx->n_records, 1);
		assert_int_equal(fx->records[0]->status, IPC_TX_UNKNOWN);
		assert_true(has_alert(fx->records[0], 1000009, GEN_ACTION_ALERT));
		assert_true(has_alert(fx->records[0], 1000010, GEN_ACTION_ALERT));
		assert_false(has_alert(fx->records[0], 1000002, GEN_ACTION_ALERT));
	}
}

static void
feed(struct inspect_session *s, bool to_server, const char *text)
{
	inspect_session_data(s, to_server, (const uint8_t *)text, strlen(text));
}

/*
 * A new generation while a session with raw-stream rules sits between transactions: what
 * the old one matched is judged (a record of its own), the old generation is let go at once
 * rather than at the session's end, and the next transaction uses the new one.
 */
static void
test_raw_stream_generation_switch(void **state)
{
	struct fixture *fx = *state;
	static struct inspect_session s;
	struct inspect_flow_meta meta = { .flow_id = 11, .client_port = 41000, .server_port = 25,
					  .ip_version = 4 };
	char err[2048];
	void *blob;
	size_t len;
	struct rule_set *rs = rule_set_parse_buffer("inline.rules", rules_text,
						    sizeof(rules_text) - 1, NULL, err, sizeof(err));

	assert_non_null(rs);
	assert_int_equal(rule_compile(rs, NULL, 8, &blob, &len, err, sizeof(err)), 0);
	struct scan_gen *g2 = scan_gen_load(blob, len, 1, err, sizeof(err));

	assert_non_null(g2);
	free(blob);
	rule_set_destroy(rs);

	clear_records(fx);
	inspect_session_init(&s, &fx->env, &meta);
	feed(&s, false, "220 mx ESMTP\r\n");
	feed(&s, true, "EHLO a.example\r\nXCLIENT NAME=x\r\n");
	feed(&s, false, "250 mx\r\n550 no\r\n");
	assert_true(scan_gen_is_pinned(fx->gen));
	fx->env.gen = g2;
	feed(&s, true, "MAIL FROM:<x@a.example>\r\n");
	assert_false(scan_gen_is_pinned(fx->gen)); /* let go between transactions */
	assert_int_equal(fx->n_records, 1);
	assert_int_equal(fx->records[0]->gen_id, 7);
	assert_true(has_alert(fx->records[0], 1000009, GEN_ACTION_ALERT));
	feed(&s, true, "RCPT TO:<y@b.example>\r\nDATA\r\n");
	feed(&s, false, "250 ok\r\n250 ok\r\n354 go\r\n");
	feed(&s, true, "Subject: x\r\n\r\nwire transfer fee\r\n.\r\n");
	feed(&s, false, "250 queued\r\n");
	inspect_session_close(&s);
	assert_int_equal(fx->n_records, 2);
	assert_int_equal(fx->records[1]->gen_id, 8);
	assert_true(has_alert(fx->records[1], 1000002, GEN_ACTION_ALERT));
	assert_false(has_alert(fx->records[1], 1000009, GEN_ACTION_ALERT));
	assert_false(scan_gen_is_pinned(g2));
	fx->env.gen = fx->gen;
	scan_gen_destroy(g2);
}

static void
test_mime_evasion_events(void **state)
{
	struct fixture *fx = *state;
	static const struct step steps[] = {
		{ true, "EHLO a.example\r\nMAIL FROM:<x@a.example>\r\nRCPT TO:<y@b.example>\r\n"
			"DATA\r\n" },
		{ false, "220 hi\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n" },
		{ true, "Content-Type: multipart/mixed; boundary=\"nope\"\r\n\r\n"
			"pay the wire transfer fee\r\n"
			"--nope-not\r\n"
			"Content-Disposition: attachment; filename=\"a.pdf\"; filename*=utf-8''a.exe\r\n"
			".\r\n" },
		{ false, "250 queued\r\n" },
	};

	run_steps(fx, steps, sizeof(steps) / sizeof(steps[0]), SIZE_MAX);
	assert_int_equal(fx->n_records, 1);
	assert_true(has_alert(fx->records[0], 1000002, GEN_ACTION_ALERT));
	/* the header after a fake delimiter is preamble text, no part: no name mismatch */
	assert_int_equal(fx->n_events, 1);
	assert_int_equal(fx->events[0], IPC_EV_MIME_NO_PARTS);

	static const struct step named[] = {
		{ true, "EHLO a.example\r\nMAIL FROM:<x@a.example>\r\nRCPT TO:<y@b.example>\r\n"
			"DATA\r\n" },
		{ false, "220 hi\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n" },
		{ true, "Content-Disposition: attachment; filename=\"a.pdf\"; filename*=utf-8''a.exe\r\n"
			"\r\nMZ\r\n.\r\n" },
		{ false, "250 queued\r\n" },
	};

	run_steps(fx, named, sizeof(named) / sizeof(named[0]), SIZE_MAX);
	assert_int_equal(fx->n_events, 1);
	assert_int_equal(fx->events[0], IPC_EV_MIME_NAME_MISMATCH);
	assert_field(fx->records[0], IPC_F_ATTACHMENT, "a.exe");

	/* multiparts nested one past the limit: the innermost is kept as a leaf and scanned */
	static char deep[4096];
	size_t n = 0;

	for (unsigned d = 0; d <= MIME_DEPTH_MAX; d++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n,
				      "Content-Type: multipart/mixed; boundary=b%u\r\n\r\n--b%u\r\n",
				      d, d);
	snprintf(deep + n, sizeof(deep) - n, "\r\nwire transfer fee\r\n.\r\n");
	const struct step nested[] = {
		named[0], named[1], { true, deep }, named[3],
	};

	run_steps(fx, nested, sizeof(nested) / sizeof(nested[0]), SIZE_MAX);
	assert_true(has_alert(fx->records[0], 1000002, GEN_ACTION_ALERT));
	assert_int_equal(fx->events[0], IPC_EV_MIME_DEPTH);
}

/*
 * PIPELINING: the next MAIL sent right after the "." and before its reply. The first message's
 * verdict still comes from its own reply (it used to end "unknown"), RCPT replies land in the
 * right record, and the second transaction is refused by its own reply.
 */
static void
test_pipelined_next_mail_keeps_verdict(void **state)
{
	struct fixture *fx = *state;
	static const struct step steps[] = {
		{ false, "220 relay ESMTP\r\n" },
		{ true, "EHLO a.example\r\n" },
		{ false, "250-relay\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250-AUTH PLAIN LOGIN\r\n"
			 "250 CHUNKING\r\n" },
		{ true, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n" },
		{ false, "235 2.7.0 ok\r\n" },
		{ true, "MAIL FROM:<a@corp.example> SIZE=1234 BODY=8BITMIME\r\nRCPT TO:<b@b.example>\r\n"
			"DATA\r\n" },
		{ false, "250 ok\r\n251 forwarded\r\n354 go\r\n" },
		{ true, "Subject: one\r\n\r\nfirst\r\n.\r\nMAIL FROM:<c@outside.example>\r\n"
			"RCPT TO:<d@b.example>\r\nRCPT TO:<e@b.example>\r\nDATA\r\n" },
		{ false, "250 queued 1\r\n250 ok\r\n550 no\r\n250 ok\r\n354 go\r\n" },
		{ true, "Subject: Invoice 7\r\nFrom: c@outside.example\r\n\r\nsecond\r\n.\r\nQUIT\r\n" },
		{ false, "554 refused\r\n221 bye\r\n" },
	};

	for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
		run_steps(fx, steps, sizeof(steps) / sizeof(steps[0]), pieces[k]);
		assert_int_equal(fx->n_records, 2);
		const struct ipc_tx *t1 = fx->records[0], *t2 = fx->records[1];

		assert_int_equal(t1->tx_seq, 0);
		assert_int_equal(t1->status, IPC_TX_DELIVERED);
		assert_int_equal(t1->reply_code, 250);
		assert_int_equal(rcpt(t1, 0, "b@b.example").reply_code, 251);
		assert_int_equal(t1->smtp_ext & (1u << SMTP_EXT_PIPELINING | 1u << SMTP_EXT_CHUNKING |
						 1u << SMTP_EXT_AUTH | 1u << SMTP_EXT_SIZE),
				 1u << SMTP_EXT_PIPELINING | 1u << SMTP_EXT_CHUNKING |
				 1u << SMTP_EXT_AUTH | 1u << SMTP_EXT_SIZE);
		assert_int_equal(t1->auth_code, 235);
		assert_field(t1, IPC_F_AUTH_MECH, "PLAIN");
		assert_true(t1->mail_flags & IPC_MAILF_SIZE);
		assert_int_equal(t1->mail_size, 1234);
		assert_int_equal(t1->mail_body, IPC_BODY_8BITMIME);

		assert_int_equal(t2->tx_seq, 1);
		assert_int_equal(t2->status, IPC_TX_REJECTED);
		assert_int_equal(t2->reply_code, 554);
		assert_int_equal(rcpt(t2, 0, "d@b.example").reply_code, 550);
		assert_int_equal(rcpt(t2, 1, "e@b.example").reply_code, 250);
		assert_true(has_alert(t2, 1000005, GEN_ACTION_DROP));
		/* no credential reaches a record */
		for (int i = 0; i < 2; i++)
			assert_null(memmem(fx->records[i], fx->records[i]->hdr.len, "AGFsaWNl", 8));
	}
}

/* Commands sent after STARTTLS before its reply would run inside TLS on a vulnerable server
 * (CVE-2011-0411): an anomaly event for the flow. */
static void
test_starttls_injection_event(void **state)
{
	struct fixture *fx = *state;
	static const struct step steps[] = {
		{ false, "220 relay\r\n" },
		{ true, "EHLO a.example\r\n" },
		{ false, "250-relay\r\n250 STARTTLS\r\n" },
		{ true, "STARTTLS\r\nMAIL FROM:<x@a.example>\r\n" },
		{ false, "220 go ahead\r\n" },
	};

	run_steps(fx, steps, sizeof(steps) / sizeof(steps[0]), SIZE_MAX);
	assert_int_equal(fx->n_events, 2);
	assert_int_equal(fx->events[0], IPC_EV_SMTP_STARTTLS_INJECTION);
	assert_int_equal(fx->events[1], IPC_EV_SMTP_STARTTLS);
}

/* TLS from the client's first byte (port 465, or TLS where cleartext was expected): reported
 * once, and nothing of it read as SMTP. */
static void
test_implicit_tls_reported(void **state)
{
	struct fixture *fx = *state;
	static const struct step steps[] = {
		{ true, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03MAIL FROM:<x@a.example>\r\n" },
		{ false, "\x16\x03\x03\x00\x5a\x02\x00\x00\x56\x03\x03" },
		{ true, "\x17\x03\x03\x00\x20RCPT TO:<y@b.example>\r\nDATA\r\n" },
	};
	uint64_t errors = fx->env.counters[IPC_C_SMTP_PARSE_ERRORS];

	for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
		run_steps(fx, steps, sizeof(steps) / sizeof(steps[0]), pieces[k]);
		assert_int_equal(fx->n_records, 0);
		assert_int_equal(fx->n_events, 1);
		assert_int_equal(fx->events[0], IPC_EV_SMTP_IMPLICIT_TLS);
	}
	assert_int_equal(fx->env.counters[IPC_C_SMTP_PARSE_ERRORS], errors);
}

/*
 * Limits of a record: 600 recipients, a To header of 600 addresses and 300 Cc headers (as in
 * zeek's smtp-many-addresses capture) must not push out the message headers, the opted-out
 * recipient among them or the alerts; the To list is cut between two addresses, never
 * inside one.
 */
static void
test_record_budget_under_a_flood(void **state)
{
	struct fixture *fx = *state;
	static char cmds[600 * 40 + 256], msg[600 * 40 + 300 * 24 + 1536], long_name[901];
	size_t c = 0, m = 0;
	struct step steps[4];

	memset(long_name, 'N', 900);
	c += (size_t)snprintf(cmds + c, sizeof(cmds) - c, "EHLO a.example\r\nMAIL FROM:<x@a.example>\r\n");
	for (int i = 0; i < 600; i++)
		c += (size_t)snprintf(cmds + c, sizeof(cmds) - c, "RCPT TO:<user%03d@b.example>\r\n",
				      i);
	/* the 500th recipient opted out long ago */
	c += (size_t)snprintf(cmds + c, sizeof(cmds) - c,
			      "RCPT TO:<optedout@customer.example>\r\nDATA\r\n");
	m += (size_t)snprintf(msg + m, sizeof(msg) - m, "From: x@a.example\r\nTo: ");
	for (int i = 0; i < 600; i++)
		m += (size_t)snprintf(msg + m, sizeof(msg) - m, "%s\"User, %03d\" <user%03d@b.example>",
				      i ? ",\r\n " : "", i, i);
	/* and then 300 more Cc headers (past MIME_HEADERS_MAX), one address each, before the Subject */
	for (int i = 0; i < 300; i++)
		/* the 5th is too long to fit; the short ones after it would, but must not */
		m += (size_t)snprintf(msg + m, sizeof(msg) - m, "\r\nCc: %.*scc%03d@b.example",
				      i == 5 ? 900 : 0, long_name, i);
	m += (size_t)snprintf(msg + m, sizeof(msg) - m,
			      "\r\nSubject: free money\r\nSubject: second subject\r\n\r\nbody\r\n.\r\n");
	steps[0] = (struct step){ true, cmds };
	steps[1] = (struct step){ false, "220 hi\r\n250 ok\r\n" };
	steps[2] = (struct step){ true, msg };
	steps[3] = (struct step){ false, "250 queued\r\n" };

	run_steps(fx, steps, 4, SIZE_MAX);
	assert_int_equal(fx->n_records, 1);
	const struct ipc_tx *t = fx->records[0];

	assert_int_equal(t->n_rcpt, 601);
	assert_true(t->flags & IPC_TXF_TRUNCATED);
	assert_field(t, IPC_F_EMAIL_FROM, "x@a.example");
	assert_field(t, IPC_F_SUBJECT, "free money");
	assert_int_equal(n_fields(t, IPC_F_SUBJECT), 1); /* the first of two */
	assert_true(n_fields(t, IPC_F_EMAIL_CC) < 300);
	assert_true(has_alert(t, 1000001, GEN_ACTION_ALERT));
	/* the opted-out recipient made it in, after the plain ones ran out of room */
	bool found = false;

	for (unsigned i = 0; find_field(t, IPC_F_RCPT, i) != NULL; i++) {
		const struct ipc_field *f = find_field(t, IPC_F_RCPT, i);
		struct ipc_rcpt r;

		memcpy(&r, ipc_field_value(f), sizeof(r));
		if (r.verdict == IPC_SUPPRESS_VIOLATION)
			found = true;
	}
	assert_true(found);
	assert_true(n_fields(t, IPC_F_RCPT) < 601);
	/* the plain recipients kept are the first ones, in order: a prefix, no gaps */
	for (unsigned i = 0; i + 1 < n_fields(t, IPC_F_RCPT); i++) {
		char want[32];

		snprintf(want, sizeof(want), "user%03u@b.example", i);
		rcpt(t, i, want);
	}
	/* the Cc values kept stop at the one that did not fit */
	unsigned n_cc = n_fields(t, IPC_F_EMAIL_CC);

	assert_int_equal(n_cc, 5);
	for (unsigned i = 0; i < n_cc; i++) {
		const struct ipc_field *f = find_field(t, IPC_F_EMAIL_CC, i);
		char want[32];

		snprintf(want, sizeof(want), "cc%03u@b.example", i);
		assert_int_equal(f->len, strlen(want));
		assert_memory_equal(ipc_field_value(f), want, f->len);
	}
	/* the To list: whole addresses only, the last one complete */
	const struct ipc_field *to = find_field(t, IPC_F_EMAIL_TO, 0);

	assert_non_null(to);
	assert_true(to->len <= IPC_FIELD_MAX);
	assert_int_equal(ipc_field_value(to)[to->len - 1], '>');
	assert_memory_equal(ipc_field_value(to), "\"User, 000\" <user000@b.example>,", 32);
}

/* Inline: the calls of env.block, with what the record count was at each. */
static struct {
	uint32_t reasons;
	unsigned records_before;
} block_calls[4];
static unsigned n_block_calls;
static bool block_withheld; /* what the hook answers: withheld, or too late */

static bool
test_block(void *io, const struct inspect_flow_meta *meta, uint32_t reasons)
{
	struct fixture *fx = io;

	assert_int_equal(meta->flow_id, 42);
	assert_true(n_block_calls < 4);
	block_calls[n_block_calls].reasons = reasons;
	block_calls[n_block_calls].records_before = fx->n_records;
	n_block_calls++;
	return block_withheld;
}

/*
 * Inline, a message is blocked at the end of its data: the first for a recipient in violation
 * (with block_suppressed), the second for its drop rule. Withheld, the transaction ends
 * there: its record goes out at once, status blocked with block_code and the reasons, and
 * the server's later reply (which a real server would never send) makes no second record.
 * Fed whole and a byte at a time. Without block_suppressed only the drop rule blocks. When
 * the hook says it came too late, nothing is marked and the server's replies decide as
 * always; passive (no hook) nothing is marked either.
 */
static void
test_inline_block(void **state)
{
	struct fixture *fx = *state;

	fx->env.block = test_block;
	fx->env.block_code = 554;
	block_withheld = true;
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		fx->env.block_suppressed = true;
		n_block_calls = 0;
		run_session(fx, pieces[i]);
		assert_int_equal(n_block_calls, 2);
		assert_int_equal(block_calls[0].reasons, IPC_TXF_BLOCKED_SUPPRESSED);
		assert_int_equal(block_calls[0].records_before, 0);
		assert_int_equal(block_calls[1].reasons, IPC_TXF_BLOCKED_RULE);
		assert_int_equal(block_calls[1].records_before, 1);
		assert_int_equal(fx->n_records, 2);
		for (unsigned k = 0; k < 2; k++) {
			assert_int_equal(fx->records[k]->status, IPC_TX_BLOCKED);
			assert_int_equal(fx->records[k]->reply_code, 554);
		}
		assert_int_equal(fx->records[0]->flags & IPC_TXF_BLOCKED, IPC_TXF_BLOCKED_SUPPRESSED);
		assert_int_equal(fx->records[1]->flags & IPC_TXF_BLOCKED, IPC_TXF_BLOCKED_RULE);

		fx->env.block_suppressed = false;
		n_block_calls = 0;
		run_session(fx, pieces[i]);
		assert_int_equal(n_block_calls, 1);
		assert_int_equal(block_calls[0].reasons, IPC_TXF_BLOCKED_RULE);
		assert_int_equal(fx->records[0]->flags & IPC_TXF_BLOCKED, 0);
		assert_int_equal(fx->records[0]->status, IPC_TX_DELIVERED);
		assert_int_equal(fx->records[1]->status, IPC_TX_BLOCKED);
	}
	/* too late to withhold: the hook is asked, nothing is marked */
	block_withheld = false;
	fx->env.block_suppressed = true;
	n_block_calls = 0;
	run_session(fx, SIZE_MAX);
	assert_int_equal(n_block_calls, 2);
	assert_int_equal(fx->n_records, 2);
	assert_int_equal(fx->records[0]->flags & IPC_TXF_BLOCKED, 0);
	assert_int_equal(fx->records[0]->status, IPC_TX_DELIVERED);
	assert_int_equal(fx->records[1]->flags & IPC_TXF_BLOCKED, 0);
	assert_int_equal(fx->records[1]->status, IPC_TX_REJECTED);
	fx->env.block = NULL;
	fx->env.block_suppressed = true; /* without the hook the option changes nothing */
	n_block_calls = 0;
	run_session(fx, SIZE_MAX);
	assert_int_equal(n_block_calls, 0);
	assert_int_equal(fx->records[0]->flags & IPC_TXF_BLOCKED, 0);
	assert_int_equal(fx->records[1]->flags & IPC_TXF_BLOCKED, 0);
	fx->env.block_suppressed = false;
}

/* Inline, rcpt_reject_suppressed: the RCPT commands the hook was asked to refuse. */
static char refuse_asked[4][64];
static unsigned n_refuse_asked;

static bool
test_refuse(void *io, const struct inspect_flow_meta *meta, struct slice addr)
{
	(void)io;
	assert_int_equal(meta->flow_id, 42);
	assert_true(n_refuse_asked < 4 && addr.len < 64);
	memcpy(refuse_asked[n_refuse_asked], addr.ptr, addr.len);
	refuse_asked[n_refuse_asked++][addr.len] = '\0';
	return true;
}

/*
 * Only a recipient in violation (not one in grace, not one who consented since), of a sender
 * the configuration names commercial, is refused at RCPT time; its record slot says so.
 * The same session with the sender not named commercial: nobody is refused (whether its
 * message is commercial waits for the message).
 */
static void
test_rcpt_refused(void **state)
{
	struct fixture *fx = *state;
	struct postern_config cfg;
	struct commercial_policy policy;
	char err[256];

	config_defaults(&cfg);
	assert_int_equal(config_set(&cfg, "commercial_senders", "corp.example", err, sizeof(err)), 0);
	assert_int_equal(commercial_policy_build(&policy, &cfg, err, sizeof(err)), 0);
	fx->env.commercial = &policy;
	fx->env.rcpt_refuse = test_refuse;
	/* with block_suppressed too: the refused recipient gets nothing, so it blocks nothing */
	fx->env.block = test_block;
	fx->env.block_suppressed = true;
	block_withheld = true;
	n_block_calls = 0;
	n_refuse_asked = 0;
	run_session(fx, SIZE_MAX);
	assert_int_equal(n_block_calls, 1);
	assert_int_equal(block_calls[0].reasons, IPC_TXF_BLOCKED_RULE); /* t2's drop rule */
	fx->env.block = NULL;
	fx->env.block_suppressed = false;
	assert_int_equal(n_refuse_asked, 1);
	assert_string_equal(refuse_asked[0], "optedout@customer.example");
	assert_int_equal(rcpt(fx->records[0], 0, "optedout@customer.example").flags,
			 IPC_RCPTF_REFUSED);
	assert_int_equal(rcpt(fx->records[0], 2, "late@customer.example").flags, 0);
	assert_int_equal(fx->env.counters[IPC_C_INLINE_RCPT_REFUSED] > 0, 1);
	commercial_policy_free(&policy);

	config_defaults(&cfg);
	assert_int_equal(config_set(&cfg, "commercial_senders", "other.example", err, sizeof(err)),
			 0);
	assert_int_equal(commercial_policy_build(&policy, &cfg, err, sizeof(err)), 0);
	n_refuse_asked = 0;
	run_session(fx, 1);
	assert_int_equal(n_refuse_asked, 0);
	assert_int_equal(rcpt(fx->records[0], 0, "optedout@customer.example").flags, 0);
	commercial_policy_free(&policy);
	fx->env.commercial = NULL;
	fx->env.rcpt_refuse = NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_records),
		cmocka_unit_test(test_inline_block),
		cmocka_unit_test(test_rcpt_refused),
		cmocka_unit_test(test_byte_at_a_time_is_identical),
		cmocka_unit_test(test_without_rules_or_set),
		cmocka_unit_test(test_record_pool_exhausted_is_counted),
		cmocka_unit_test(test_stream_state_from_fixed_pool),
		cmocka_unit_test(test_encoded_subject_is_decoded),
		cmocka_unit_test(test_mime_parts_scanned_and_recorded),
		cmocka_unit_test(test_mime_evasion_events),
		cmocka_unit_test(test_raw_stream_and_gathered_body),
		cmocka_unit_test(test_raw_stream_generation_switch),
		cmocka_unit_test(test_pipelined_next_mail_keeps_verdict),
		cmocka_unit_test(test_starttls_injection_event),
		cmocka_unit_test(test_implicit_tls_reported),
		cmocka_unit_test(test_record_budget_under_a_flood),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
