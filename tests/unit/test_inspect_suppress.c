/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for the suppression side of dataplane/inspect.c: whole SMTP sessions through the
 * real parser, a real LMDB suppression set (global, whole-domain, sender-scoped and
 * list-scoped entries), a compiled rule pack that sets postern.transactional and
 * postern.commercial, and the commercial policy built from configuration strings. Checked
 * per record: each recipient's verdict, scope, origin and reply; To/Cc/Bcc addresses on the
 * list (IPC_F_HDR_RCPT); the List-Id (IPC_F_LIST_ID); tx->commercial bits; the counters.
 * Every session is also fed in 7-byte pieces and one byte at a time, and the main one split
 * in two at every byte offset of every step: the records must be identical.
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

#include "addr_norm.h"
#include "commercial.h"
#include "config.h"
#include "inspect.h"
#include "mime_words.h"
#include "rule_compile.h"
#include "rule_parse.h"
#include "suppress_db.h"
#include "suppress_writer.h"
#include "test_tmpdir.h"

#define JAN_02_2024 INT64_C(1704153600)
#define JUN_02_2024 INT64_C(1717322400)         /* the day before "now": inside its grace */
#define NOW_US UINT64_C(1717408800000000)       /* 2024-06-03T10:00:00Z */
#define GRACE_DAYS (14 * 86400)
#define MAX_RECORDS 8

#define D IPC_COMM_DECIDED
#define YES (IPC_COMM_DECIDED | IPC_COMM_YES)

static const char rules_text[] =
	"alert smtp any any -> any any (msg:\"receipt\"; email.subject; content:\"Your receipt\"; "
	"flowbits:set,postern.transactional; flowbits:noalert; sid:3000001; rev:1;)\n"
	"alert smtp any any -> any any (msg:\"sale\"; email.subject; content:\"Big sale\"; "
	"flowbits:set,postern.commercial; flowbits:noalert; sid:3000002; rev:1;)\n"
	"alert smtp any any -> any any (msg:\"deals\"; email.subject; content:\"deals\"; "
	"sid:3000003; rev:1;)\n";

struct step {
	bool to_server;
	const char *text;
};

struct fixture {
	char dir[64];
	struct suppress_db *db;
	struct suppress_reader *reader;
	struct scan_gen *gen;
	struct inspect_env env;
	struct commercial_policy policy;
	bool have_policy;
	struct ipc_tx *records[MAX_RECORDS];
	unsigned n_records;
};

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

/* An entry as an operator writes it ("a@b", "@domain") with its scope ("sender:x", "list:y",
 * NULL for all mail). */
static void
put(struct suppress_db *db, struct addr_hasher *h, const char *spec, const char *scope,
    int64_t optout)
{
	struct suppress_rec rec = {
		.version = SUPPRESS_REC_VERSION,
		.scope = SUPPRESS_SCOPE_ALL,
		.optout_time = optout,
		.grace_end = optout + GRACE_DAYS,
	};
	enum suppress_table t;
	uint8_t key[SUPPRESS_SCOPED_KEY_LEN];

	assert_int_equal(suppress_db_key(db, slice_from_cstr(spec), &t, key, NULL, 0), 0);
	if (scope != NULL) {
		assert_int_equal(suppress_scope_parse(h, slice_from_cstr(scope), &rec.scope,
						      key + SUPPRESS_KEY_LEN), 0);
		if (t == SUPPRESS_TABLE_DOMAIN)
			rec.flags = SUPPRESS_REC_DOMAIN;
		t = SUPPRESS_TABLE_SCOPED;
	}
	assert_int_equal(suppress_write_put(db, t, key, &rec), 0);
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct addr_hasher h;
	char err[2048];
	void *blob;
	size_t len;

	assert_non_null(fx);
	assert_int_equal(test_tmpdir_make(fx->dir, sizeof(fx->dir)), 0);

	struct suppress_db *w = suppress_writer_open(fx->dir, 1 << 24, 0);

	assert_non_null(w);
	assert_int_equal(addr_hasher_init(&h), 0);
	assert_int_equal(suppress_write_begin(w), 0);
	put(w, &h, "optout@customer.example", NULL, JAN_02_2024);
	put(w, &h, "hdronly@customer.example", NULL, JAN_02_2024);
	put(w, &h, "@blocked.example", NULL, JAN_02_2024);
	put(w, &h, "sendscope@customer.example", "sender:news.example.com", JAN_02_2024);
	put(w, &h, "@partner.example", "sender:news.example.com", JAN_02_2024);
	put(w, &h, "listscope@customer.example", "list:weekly.news.example.com", JUN_02_2024);
	put(w, &h, "hdrlist@customer.example", "list:weekly.news.example.com", JAN_02_2024);
	assert_int_equal(suppress_write_commit(w), 0);
	addr_hasher_fini(&h);
	suppress_db_close(w);
	fx->db = suppress_db_open(fx->dir, true);
	assert_non_null(fx->db);
	fx->reader = suppress_reader_create(fx->db);
	assert_non_null(fx->reader);
	assert_true(suppress_reader_has_scoped(fx->reader));

	struct rule_set *rs = rule_set_parse_buffer("inline.rules", rules_text,
						    sizeof(rules_text) - 1, NULL, err, sizeof(err));
	if (rs == NULL)
		fail_msg("%s", err);
	assert_int_equal(rule_compile(rs, NULL, 5, &blob, &len, err, sizeof(err)), 0);
	fx->gen = scan_gen_load(blob, len, 1, err, sizeof(err));
	if (fx->gen == NULL)
		fail_msg("%s", err);
	free(blob);
	rule_set_destroy(rs);

	fx->env.gen = fx->gen;
	fx->env.supp = fx->reader;
	fx->env.commercial = NULL;
	fx->env.words = mime_words_create();
	assert_non_null(fx->env.words);
	fx->env.now_us = NOW_US;
	fx->env.tx_alloc = test_alloc;
	fx->env.tx_emit = test_emit;
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

static void
policy_drop(struct fixture *fx)
{
	if (fx->have_policy)
		commercial_policy_free(&fx->policy);
	fx->have_policy = false;
	fx->env.commercial = NULL;
}

/* The policy of "key", "value" pairs on top of the defaults (NULL-terminated). */
static void
policy_use(struct fixture *fx, const char *const *kv)
{
	struct postern_config c;
	char err[256] = "";

	policy_drop(fx);
	config_defaults(&c);
	for (size_t i = 0; kv[i] != NULL; i += 2)
		if (config_set(&c, kv[i], kv[i + 1], err, sizeof(err)) != 0)
			fail_msg("config_set: %s", err);
	if (commercial_policy_build(&fx->policy, &c, err, sizeof(err)) != 0)
		fail_msg("commercial_policy_build: %s", err);
	fx->have_policy = true;
	fx->env.commercial = &fx->policy;
}

/* Each test starts with no policy (every message commercial) and no records. */
static int
reset(void **state)
{
	struct fixture *fx = *state;

	clear_records(fx);
	policy_drop(fx);
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	clear_records(fx);
	policy_drop(fx);
	mime_words_destroy(fx->env.words);
	scan_gen_destroy(fx->gen);
	suppress_reader_destroy(fx->reader);
	suppress_db_close(fx->db);
	test_tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

/*
 * Feed a session: every step in pieces of `piece` bytes, except step `split_step`, which is
 * fed in two pieces cut at `split_off`. Then close it.
 */
static void
run_cut(struct fixture *fx, const struct step *steps, size_t n_steps, size_t piece,
	size_t split_step, size_t split_off)
{
	static struct inspect_session s;
	struct inspect_flow_meta meta = { .flow_id = 77, .client_port = 41000,
					  .server_port = 25, .ip_version = 4 };

	/* the client 10.0.0.7, the server 10.0.0.25, as IPv4-mapped addresses */
	meta.client_ip[10] = meta.client_ip[11] = 0xff;
	meta.client_ip[12] = 10;
	meta.client_ip[15] = 7;
	meta.server_ip[10] = meta.server_ip[11] = 0xff;
	meta.server_ip[12] = 10;
	meta.server_ip[15] = 25;
	clear_records(fx);
	inspect_session_init(&s, &fx->env, &meta);
	for (size_t i = 0; i < n_steps; i++) {
		const uint8_t *p = (const uint8_t *)steps[i].text;
		size_t len = strlen(steps[i].text);

		if (i == split_step) {
			inspect_session_data(&s, steps[i].to_server, p, split_off);
			inspect_session_data(&s, steps[i].to_server, p + split_off,
					     len - split_off);
			continue;
		}
		for (size_t off = 0; off < len; off += piece)
			inspect_session_data(&s, steps[i].to_server, p + off,
					     len - off < piece ? len - off : piece);
	}
	inspect_session_close(&s);
	assert_false(scan_gen_is_pinned(fx->gen));
}

static void
run_steps(struct fixture *fx, const struct step *steps, size_t n_steps, size_t piece)
{
	run_cut(fx, steps, n_steps, piece, SIZE_MAX, 0);
}

/* The records of the last run, copied. */
struct saved {
	unsigned n;
	struct ipc_tx *rec[MAX_RECORDS];
};

static void
save(const struct fixture *fx, struct saved *sv)
{
	sv->n = fx->n_records;
	for (unsigned i = 0; i < sv->n; i++) {
		sv->rec[i] = malloc(fx->records[i]->hdr.len);
		assert_non_null(sv->rec[i]);
		memcpy(sv->rec[i], fx->records[i], fx->records[i]->hdr.len);
	}
}

static void
saved_free(struct saved *sv)
{
	for (unsigned i = 0; i < sv->n; i++)
		free(sv->rec[i]);
	sv->n = 0;
}

static void
assert_same(const struct fixture *fx, const struct saved *sv)
{
	assert_int_equal(fx->n_records, sv->n);
	for (unsigned i = 0; i < sv->n; i++) {
		assert_int_equal(fx->records[i]->hdr.len, sv->rec[i]->hdr.len);
		assert_memory_equal(fx->records[i], sv->rec[i], sv->rec[i]->hdr.len);
	}
}

/*
 * Run a session whole, in 7-byte pieces and one byte at a time: the records must be the same.
 * The counters move by three runs' worth; the records left are the whole run's.
 */
static void
run(struct fixture *fx, const struct step *steps, size_t n_steps)
{
	static const size_t pieces[] = { 7, 1 };
	struct saved whole;

	run_steps(fx, steps, n_steps, SIZE_MAX);
	save(fx, &whole);
	for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
		run_steps(fx, steps, n_steps, pieces[k]);
		assert_same(fx, &whole);
	}
	run_steps(fx, steps, n_steps, SIZE_MAX);
	saved_free(&whole);
}

#define N(steps) (sizeof(steps) / sizeof((steps)[0]))

/* ---- record reading ---- */

static const struct ipc_field *
find_field(const struct ipc_tx *tx, uint16_t type, unsigned nth)
{
	for (const struct ipc_field *f = ipc_tx_next(tx, NULL); f != NULL; f = ipc_tx_next(tx, f))
		if (f->type == type && nth-- == 0)
			return f;
	return NULL;
}

static unsigned
n_fields(const struct ipc_tx *tx, uint16_t type)
{
	unsigned n = 0;

	while (find_field(tx, type, n) != NULL)
		n++;
	return n;
}

static void
assert_field(const struct ipc_tx *tx, uint16_t type, const char *want)
{
	const struct ipc_field *f = find_field(tx, type, 0);

	assert_non_null(f);
	if (f == NULL)
		return;
	assert_int_equal(f->len, strlen(want));
	assert_memory_equal(ipc_field_value(f), want, f->len);
}

/* What a recipient field must say. */
struct want {
	const char *addr;
	uint16_t reply_code;
	uint8_t verdict;
	uint8_t scope;
	uint8_t origin;
	uint8_t domain_wide;
	int64_t optout;       /* grace_end follows: optout + GRACE_DAYS, both 0 for NONE */
};

static void
assert_rcpt(const struct ipc_tx *tx, uint16_t type, unsigned nth, struct want w)
{
	const struct ipc_field *f = find_field(tx, type, nth);
	struct ipc_rcpt r;

	if (f == NULL)
		fail_msg("no field %u #%u (%s)", type, nth, w.addr);
	assert_true(f->len >= sizeof(r));
	memcpy(&r, ipc_field_value(f), sizeof(r));
	if (f->len - sizeof(r) != strlen(w.addr) ||
	    memcmp(ipc_field_value(f) + sizeof(r), w.addr, strlen(w.addr)) != 0)
		fail_msg("field %u #%u: '%.*s', want '%s'", type, nth, (int)(f->len - sizeof(r)),
			 (const char *)ipc_field_value(f) + sizeof(r), w.addr);
	if (r.reply_code != w.reply_code || r.verdict != w.verdict || r.scope != w.scope ||
	    r.origin != w.origin || r.domain_wide != w.domain_wide)
		fail_msg("%s: reply %u verdict %u scope %u origin %u domain_wide %u, want "
			 "%u %u %u %u %u", w.addr, r.reply_code, r.verdict, r.scope, r.origin,
			 r.domain_wide, w.reply_code, w.verdict, w.scope, w.origin, w.domain_wide);
	assert_int_equal(r.optout_time, w.optout);
	assert_int_equal(r.grace_end, w.verdict == IPC_SUPPRESS_NONE ? 0 : w.optout + GRACE_DAYS);
	assert_int_equal(r.flags, 0); /* passive: never refused */
}

static void
assert_clean(const struct ipc_tx *tx, unsigned nth, const char *addr, uint16_t reply)
{
	assert_rcpt(tx, IPC_F_RCPT, nth, (struct want){ addr, reply, IPC_SUPPRESS_NONE, 0, 0, 0,
							0 });
}

static bool
has_alert(const struct ipc_tx *tx, uint32_t sid)
{
	for (unsigned i = 0;; i++) {
		const struct ipc_field *f = find_field(tx, IPC_F_ALERT, i);
		struct ipc_alert a;

		if (f == NULL)
			return false;
		memcpy(&a, ipc_field_value(f), sizeof(a));
		if (a.sid == sid)
			return true;
	}
}

/* ---- sessions ---- */

#define GREET                                                                             \
	{ false, "220 mx.corp.example ESMTP\r\n" }, { true, "EHLO app.news.example.com\r\n" }, \
	{ false, "250-mx.corp.example\r\n250 PIPELINING\r\n" }

#define VIOL_ALL(a, reply) { a, reply, IPC_SUPPRESS_VIOLATION, SUPPRESS_SCOPE_ALL,        \
			     SUPPRESS_ORIGIN_NONE, 0, JAN_02_2024 }

/* The same message to listed and clean recipients, every kind of entry, header recipients,
 * a List-Id after the envelope. */
static const struct step full[] = {
	GREET,
	{ true, "MAIL FROM:<news@news.example.com>\r\n" },
	{ false, "250 2.1.0 ok\r\n" },
	{ true, "RCPT TO:<optout@customer.example>\r\nRCPT TO:<clean@customer.example>\r\n"
		"RCPT TO:<Anyone@Blocked.Example>\r\nRCPT TO:<sendscope@customer.example>\r\n"
		"RCPT TO:<listscope@customer.example>\r\nRCPT TO:<staff@partner.example>\r\n"
		"DATA\r\n" },
	{ false, "250 ok\r\n251 ok\r\n250 ok\r\n250 ok\r\n252 ok\r\n250 ok\r\n354 go\r\n" },
	{ true, "From: Shop <news@news.example.com>\r\n"
		"To: optout@customer.example, \"Clean\" <clean@customer.example>\r\n"
		"Cc: Other <hdronly@customer.example>\r\n"
		"Subject: weekly deals\r\n"
		"List-Id: Weekly <weekly.news.example.com>\r\n"
		"List-Unsubscribe: <mailto:unsub@news.example.com>\r\n"
		"\r\nhello\r\n.\r\n" },
	{ false, "250 queued\r\n" },
	{ true, "QUIT\r\n" },
	{ false, "221 bye\r\n" },
};

static void
check_full(const struct ipc_tx *t)
{
	assert_int_equal(t->status, IPC_TX_DELIVERED);
	assert_int_equal(t->n_rcpt, 6);
	assert_int_equal(n_fields(t, IPC_F_RCPT), 6);
	assert_rcpt(t, IPC_F_RCPT, 0, (struct want)VIOL_ALL("optout@customer.example", 250));
	assert_clean(t, 1, "clean@customer.example", 251);
	assert_rcpt(t, IPC_F_RCPT, 2, (struct want){ "Anyone@Blocked.Example", 250,
						     IPC_SUPPRESS_VIOLATION, SUPPRESS_SCOPE_ALL,
						     SUPPRESS_ORIGIN_NONE, 1, JAN_02_2024 });
	assert_rcpt(t, IPC_F_RCPT, 3, (struct want){ "sendscope@customer.example", 250,
						     IPC_SUPPRESS_VIOLATION, SUPPRESS_SCOPE_SENDER,
						     SUPPRESS_ORIGIN_ENVELOPE, 0, JAN_02_2024 });
	/* found only at the end of the message, its reply kept */
	assert_rcpt(t, IPC_F_RCPT, 4, (struct want){ "listscope@customer.example", 252,
						     IPC_SUPPRESS_GRACE, SUPPRESS_SCOPE_LIST,
						     SUPPRESS_ORIGIN_LIST_ID, 0, JUN_02_2024 });
	assert_rcpt(t, IPC_F_RCPT, 5, (struct want){ "staff@partner.example", 250,
						     IPC_SUPPRESS_VIOLATION, SUPPRESS_SCOPE_SENDER,
						     SUPPRESS_ORIGIN_ENVELOPE, 1, JAN_02_2024 });
	/* header recipients on the list: To's optout (also in the envelope), Cc's hdronly */
	assert_int_equal(n_fields(t, IPC_F_HDR_RCPT), 2);
	assert_rcpt(t, IPC_F_HDR_RCPT, 0, (struct want)VIOL_ALL("optout@customer.example", 0));
	assert_rcpt(t, IPC_F_HDR_RCPT, 1, (struct want)VIOL_ALL("hdronly@customer.example", 0));
	assert_int_equal(n_fields(t, IPC_F_LIST_ID), 1);
	assert_field(t, IPC_F_LIST_ID, "Weekly <weekly.news.example.com>");
	assert_true(has_alert(t, 3000003));
	assert_int_equal(n_fields(t, IPC_F_ALERT), 1);
}

/* (a) verdicts per recipient, every kind of entry; the whole session split at every byte */
static void
test_verdicts_per_recipient(void **state)
{
	struct fixture *fx = *state;
	uint64_t c0[IPC_C__COUNT];

	memcpy(c0, fx->env.counters, sizeof(c0));
	run_steps(fx, full, N(full), SIZE_MAX);
	assert_int_equal(fx->n_records, 1);
	check_full(fx->records[0]);
	/* no policy: every message commercial, by default */
	assert_int_equal(fx->records[0]->commercial, YES | IPC_COMM_DEFAULT);
	assert_int_equal(fx->env.counters[IPC_C_COMMERCIAL] - c0[IPC_C_COMMERCIAL], 1);
	assert_int_equal(fx->env.counters[IPC_C_SUPPRESS_EXEMPT] - c0[IPC_C_SUPPRESS_EXEMPT], 0);
	assert_int_equal(fx->env.counters[IPC_C_SUPPRESS_ERRORS] - c0[IPC_C_SUPPRESS_ERRORS], 0);
}

static void
test_split_at_every_offset(void **state)
{
	struct fixture *fx = *state;
	struct saved whole;
	unsigned runs = 0;

	run_steps(fx, full, N(full), SIZE_MAX);
	save(fx, &whole);
	for (size_t i = 0; i < N(full); i++) {
		size_t len = strlen(full[i].text);

		for (size_t off = 1; off < len; off++) {
			run_cut(fx, full, N(full), SIZE_MAX, i, off);
			assert_same(fx, &whole);
			runs++;
		}
	}
	assert_true(runs > 600); /* every cut of every step: 696 today */
	run_steps(fx, full, N(full), 1);
	assert_same(fx, &whole);
	check_full(fx->records[0]);
	saved_free(&whole);
}

/* (b) an entry for one sender holds for that MAIL FROM domain only */
static void
test_sender_scope_envelope(void **state)
{
	struct fixture *fx = *state;
	static const struct step news[] = {
		GREET,
		{ true, "MAIL FROM:<promo@news.example.com>\r\nRCPT TO:<sendscope@customer.example>\r\n"
			"RCPT TO:<staff@partner.example>\r\nRCPT TO:<optout@customer.example>\r\n"
			"DATA\r\n" },
		{ false, "250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n" },
		{ true, "Subject: hello\r\n\r\nx\r\n.\r\n" },
		{ false, "250 queued\r\n" },
	};
	static const struct step billing[] = {
		GREET,
		{ true, "MAIL FROM:<billing@billing.example.com>\r\n"
			"RCPT TO:<sendscope@customer.example>\r\nRCPT TO:<staff@partner.example>\r\n"
			"RCPT TO:<optout@customer.example>\r\nDATA\r\n" },
		{ false, "250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n" },
		{ true, "From: Billing <billing@billing.example.com>\r\nSubject: Invoice\r\n\r\n"
			"x\r\n.\r\n" },
		{ false, "250 queued\r\n" },
	};

	run(fx, news, N(news));
	assert_int_equal(fx->n_records, 1);
	assert_rcpt(fx->records[0], IPC_F_RCPT, 0,
		    (struct want){ "sendscope@customer.example", 250, IPC_SUPPRESS_VIOLATION,
				   SUPPRESS_SCOPE_SENDER, SUPPRESS_ORIGIN_ENVELOPE, 0,
				   JAN_02_2024 });
	assert_rcpt(fx->records[0], IPC_F_RCPT, 1,
		    (struct want){ "staff@partner.example", 250, IPC_SUPPRESS_VIOLATION,
				   SUPPRESS_SCOPE_SENDER, SUPPRESS_ORIGIN_ENVELOPE, 1,
				   JAN_02_2024 });
	assert_rcpt(fx->records[0], IPC_F_RCPT, 2,
		    (struct want)VIOL_ALL("optout@customer.example", 250));

	run(fx, billing, N(billing));
	assert_int_equal(fx->n_records, 1);
	assert_clean(fx->records[0], 0, "sendscope@customer.example", 250);
	assert_clean(fx->records[0], 1, "staff@partner.example", 250);
	/* an entry for all mail still holds */
	assert_rcpt(fx->records[0], IPC_F_RCPT, 2,
		    (struct want)VIOL_ALL("optout@customer.example", 250));
}

/* (c) an entry for one list holds only when the message carries that List-Id; the header
 * comes after the RCPTs, so the recipient is looked up again at the end of the message */
static void
test_list_scope_after_rcpts(void **state)
{
	struct fixture *fx = *state;
	static const char *const messages[] = {
		/* 0: the list */
		"From: lists@lists.example.org\r\nList-Id: Weekly <weekly.news.example.com>\r\n"
		"Subject: w\r\n\r\nx\r\n.\r\n",
		/* 1: no List-Id */
		"From: lists@lists.example.org\r\nSubject: w\r\n\r\nx\r\n.\r\n",
		/* 2: another list */
		"From: lists@lists.example.org\r\nList-Id: Daily <daily.news.example.com>\r\n"
		"Subject: w\r\n\r\nx\r\n.\r\n",
		/* 3: the list, folded and in another case */
		"List-Id: Weekly news\r\n <WEEKLY.News.Example.COM>\r\nSubject: w\r\n\r\nx\r\n.\r\n",
		/* 4: the list id bare, without brackets */
		"List-Id: weekly.news.example.com\r\n\r\nx\r\n.\r\n",
		/* 5: a List-Id among a part's headers is not the message's */
		"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
		"List-Id: Weekly <weekly.news.example.com>\r\nContent-Type: text/plain\r\n\r\n"
		"x\r\n--b--\r\n.\r\n",
	};
	static const bool listed[] = { true, false, false, true, true, false };
	struct step steps[] = {
		GREET,
		{ true, "MAIL FROM:<lists@lists.example.org>\r\n"
			"RCPT TO:<listscope@customer.example>\r\nRCPT TO:<clean@customer.example>\r\n"
			"DATA\r\n" },
		{ false, "250 ok\r\n251 ok\r\n250 ok\r\n354 go\r\n" },
		{ true, NULL },
		{ false, "250 queued\r\n" },
	};

	for (size_t m = 0; m < N(messages); m++) {
		steps[5].text = messages[m];
		run(fx, steps, N(steps));
		assert_int_equal(fx->n_records, 1);
		const struct ipc_tx *t = fx->records[0];

		if (listed[m])
			assert_rcpt(t, IPC_F_RCPT, 0,
				    (struct want){ "listscope@customer.example", 251,
						   IPC_SUPPRESS_GRACE, SUPPRESS_SCOPE_LIST,
						   SUPPRESS_ORIGIN_LIST_ID, 0, JUN_02_2024 });
		else
			assert_clean(t, 0, "listscope@customer.example", 251);
		assert_clean(t, 1, "clean@customer.example", 250);
		assert_int_equal(n_fields(t, IPC_F_LIST_ID), m == 1 || m == 5 ? 0 : 1);
	}
	/* the bare id is recorded as sent */
	steps[5].text = messages[4];
	run(fx, steps, N(steps));
	assert_field(fx->records[0], IPC_F_LIST_ID, "weekly.news.example.com");
}

/* (d) the From header's domain is a sender scope of its own */
static void
test_sender_scope_from_header(void **state)
{
	struct fixture *fx = *state;
	struct step steps[] = {
		GREET,
		{ true, "MAIL FROM:<bounce-123@bounce.example.net>\r\n"
			"RCPT TO:<sendscope@customer.example>\r\nRCPT TO:<staff@partner.example>\r\n"
			"DATA\r\n" },
		{ false, "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n" },
		{ true, "Subject: s\r\nFrom: \"Shop, Inc.\" <news@News.Example.com>\r\n\r\nx\r\n.\r\n" },
		{ false, "250 queued\r\n" },
	};

	run(fx, steps, N(steps));
	assert_int_equal(fx->n_records, 1);
	assert_rcpt(fx->records[0], IPC_F_RCPT, 0,
		    (struct want){ "sendscope@customer.example", 250, IPC_SUPPRESS_VIOLATION,
				   SUPPRESS_SCOPE_SENDER, SUPPRESS_ORIGIN_HEADER, 0, JAN_02_2024 });
	assert_rcpt(fx->records[0], IPC_F_RCPT, 1,
		    (struct want){ "staff@partner.example", 250, IPC_SUPPRESS_VIOLATION,
				   SUPPRESS_SCOPE_SENDER, SUPPRESS_ORIGIN_HEADER, 1, JAN_02_2024 });

	/* only the first From header counts */
	steps[5].text = "From: someone@other.example\r\nFrom: news@news.example.com\r\n\r\nx\r\n.\r\n";
	run(fx, steps, N(steps));
	assert_clean(fx->records[0], 0, "sendscope@customer.example", 250);
	assert_clean(fx->records[0], 1, "staff@partner.example", 250);

	/* a From header of another sender: nothing */
	steps[5].text = "From: Billing <billing@billing.example.com>\r\n\r\nx\r\n.\r\n";
	run(fx, steps, N(steps));
	assert_clean(fx->records[0], 0, "sendscope@customer.example", 250);
}

/* (e) To, Cc and Bcc addresses on the list are recorded, header-only ones included */
static void
test_header_recipients(void **state)
{
	struct fixture *fx = *state;
	static const struct step steps[] = {
		GREET,
		{ true, "MAIL FROM:<news@news.example.com>\r\nRCPT TO:<clean@customer.example>\r\n"
			"DATA\r\n" },
		{ false, "250 ok\r\n250 ok\r\n354 go\r\n" },
		{ true, "From: news@news.example.com\r\n"
			"To: \"Opted, Out\" <optout@customer.example>, nobody@customer.example\r\n"
			"Cc: sendscope@customer.example\r\n"
			"Bcc: x@Blocked.example\r\n"
			"Subject: hi\r\n\r\nbody\r\n.\r\n" },
		{ false, "250 queued\r\n" },
	};

	run(fx, steps, N(steps));
	assert_int_equal(fx->n_records, 1);
	const struct ipc_tx *t = fx->records[0];

	assert_int_equal(n_fields(t, IPC_F_RCPT), 1);
	assert_clean(t, 0, "clean@customer.example", 250);
	assert_int_equal(n_fields(t, IPC_F_HDR_RCPT), 3);
	/* the mailbox only, no display name; no reply (it is no RCPT) */
	assert_rcpt(t, IPC_F_HDR_RCPT, 0, (struct want)VIOL_ALL("optout@customer.example", 0));
	assert_rcpt(t, IPC_F_HDR_RCPT, 1,
		    (struct want){ "sendscope@customer.example", 0, IPC_SUPPRESS_VIOLATION,
				   SUPPRESS_SCOPE_SENDER, SUPPRESS_ORIGIN_ENVELOPE, 0,
				   JAN_02_2024 });
	assert_rcpt(t, IPC_F_HDR_RCPT, 2, (struct want){ "x@Blocked.example", 0,
							 IPC_SUPPRESS_VIOLATION,
							 SUPPRESS_SCOPE_ALL, SUPPRESS_ORIGIN_NONE,
							 1, JAN_02_2024 });
}

/*
 * A header recipient whose entry is scoped to a list: the List-Id may come before or after
 * the To header (header order is the sender's choice), and the envelope's recipients are
 * looked up again for that very reason. Both orders must give the same record field.
 */
static void
test_header_recipient_list_scope_any_order(void **state)
{
	struct fixture *fx = *state;
	struct step steps[] = {
		GREET,
		{ true, "MAIL FROM:<news@news.example.com>\r\nRCPT TO:<clean@customer.example>\r\n"
			"DATA\r\n" },
		{ false, "250 ok\r\n250 ok\r\n354 go\r\n" },
		{ true, "List-Id: Weekly <weekly.news.example.com>\r\n"
			"To: hdrlist@customer.example\r\n\r\nx\r\n.\r\n" },
		{ false, "250 queued\r\n" },
	};
	const struct want w = { "hdrlist@customer.example", 0, IPC_SUPPRESS_VIOLATION,
				SUPPRESS_SCOPE_LIST, SUPPRESS_ORIGIN_LIST_ID, 0, JAN_02_2024 };

	run(fx, steps, N(steps));
	assert_int_equal(n_fields(fx->records[0], IPC_F_HDR_RCPT), 1);
	assert_rcpt(fx->records[0], IPC_F_HDR_RCPT, 0, w);

	steps[5].text = "To: hdrlist@customer.example\r\n"
			"List-Id: Weekly <weekly.news.example.com>\r\n\r\nx\r\n.\r\n";
	run(fx, steps, N(steps));
	assert_int_equal(n_fields(fx->records[0], IPC_F_HDR_RCPT), 1);
	assert_rcpt(fx->records[0], IPC_F_HDR_RCPT, 0, w);
}

/*
 * RFC 5322 3.4.1: an addr-spec's domain may be followed by a comment ("news@news.example.com
 * (Shop News)"), as older mailers write From and To. The comment is no part of the domain:
 * the From header is still a sender scope and a commercial sender, a To address still a
 * header recipient on the list.
 */
static void
test_address_with_comment(void **state)
{
	struct fixture *fx = *state;
	static const char *const kv[] = { "commercial_default", "no",
					  "commercial_senders", "news.example.com", NULL };
	static const struct step steps[] = {
		GREET,
		{ true, "MAIL FROM:<bounce-123@bounce.example.net>\r\n"
			"RCPT TO:<sendscope@customer.example>\r\nDATA\r\n" },
		{ false, "250 ok\r\n250 ok\r\n354 go\r\n" },
		{ true, "From: news@news.example.com (Shop News)\r\n"
			"To: optout@customer.example (Opted Out)\r\n\r\nx\r\n.\r\n" },
		{ false, "250 queued\r\n" },
	};

	policy_use(fx, kv);
	run(fx, steps, N(steps));
	assert_int_equal(fx->n_records, 1);
	assert_int_equal(fx->records[0]->commercial, YES | IPC_COMM_SENDER);
	assert_rcpt(fx->records[0], IPC_F_RCPT, 0,
		    (struct want){ "sendscope@customer.example", 250, IPC_SUPPRESS_VIOLATION,
				   SUPPRESS_SCOPE_SENDER, SUPPRESS_ORIGIN_HEADER, 0, JAN_02_2024 });
	assert_int_equal(n_fields(fx->records[0], IPC_F_HDR_RCPT), 1);
	assert_rcpt(fx->records[0], IPC_F_HDR_RCPT, 0,
		    (struct want)VIOL_ALL("optout@customer.example", 0));
}

/* (f) tx->commercial and the counters, policy by policy */

static const struct step *
message_to(struct step *steps, const char *mail_from, const char *msg)
{
	const struct step s[] = {
		GREET,
		{ true, mail_from },
		{ false, "250 ok\r\n" },
		{ true, "RCPT TO:<optout@customer.example>\r\nRCPT TO:<Anyone@Blocked.Example>\r\n"
			"RCPT TO:<clean@customer.example>\r\nDATA\r\n" },
		{ false, "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n" },
		{ true, msg },
		{ false, "250 queued\r\n" },
	};

	memcpy(steps, s, sizeof(s));
	return steps;
}

#define MSG_STEPS 9

/* One message from mail_from (a MAIL FROM line), its tx->commercial, and the counters'
 * moves for one whole run. */
static uint16_t
commercial_of(struct fixture *fx, const char *mail_from, const char *msg, uint64_t *n_comm,
	      uint64_t *n_exempt)
{
	struct step steps[MSG_STEPS];
	uint64_t comm, exempt;

	message_to(steps, mail_from, msg);
	run(fx, steps, MSG_STEPS);
	comm = fx->env.counters[IPC_C_COMMERCIAL];
	exempt = fx->env.counters[IPC_C_SUPPRESS_EXEMPT];
	run_steps(fx, steps, MSG_STEPS, SIZE_MAX);
	assert_int_equal(fx->n_records, 1);
	/* the verdicts are the set's whatever the decision: posternd decides what to alert */
	assert_rcpt(fx->records[0], IPC_F_RCPT, 0,
		    (struct want)VIOL_ALL("optout@customer.example", 250));
	assert_int_equal(fx->records[0]->status, IPC_TX_DELIVERED);
	if (n_comm != NULL)
		*n_comm = fx->env.counters[IPC_C_COMMERCIAL] - comm;
	if (n_exempt != NULL)
		*n_exempt = fx->env.counters[IPC_C_SUPPRESS_EXEMPT] - exempt;
	return fx->records[0]->commercial;
}

#define FROM_NEWS "MAIL FROM:<news@news.example.com>\r\n"

static void
test_commercial_default_no(void **state)
{
	struct fixture *fx = *state;
	static const char *const kv[] = { "commercial_default", "no", NULL };
	uint64_t comm, exempt;

	policy_use(fx, kv);
	/* List-Unsubscribe: commercial, for that reason */
	assert_int_equal(commercial_of(fx, FROM_NEWS,
				       "From: news@news.example.com\r\n"
				       "List-Unsubscribe: <mailto:u@news.example.com>\r\n"
				       "Subject: news\r\n\r\nx\r\n.\r\n", &comm, &exempt),
			 YES | IPC_COMM_LIST_UNSUB);
	assert_int_equal(comm, 1);
	assert_int_equal(exempt, 0);
	/* a plain message: not commercial, its two listed recipients exempt */
	assert_int_equal(commercial_of(fx, FROM_NEWS,
				       "From: news@news.example.com\r\nSubject: hi\r\n\r\nx\r\n.\r\n",
				       &comm, &exempt),
			 D);
	assert_int_equal(comm, 0);
	assert_int_equal(exempt, 2);
	/* Precedence: bulk counts, first-class does not */
	assert_int_equal(commercial_of(fx, FROM_NEWS, "Precedence: bulk\r\n\r\nx\r\n.\r\n", NULL,
				       NULL),
			 YES | IPC_COMM_PRECEDENCE);
	assert_int_equal(commercial_of(fx, FROM_NEWS, "Precedence: first-class\r\n\r\nx\r\n.\r\n",
				       NULL, NULL),
			 D);
	/* List-Id, List-Unsubscribe and Precedence together */
	assert_int_equal(commercial_of(fx, FROM_NEWS,
				       "List-Id: <weekly.news.example.com>\r\nPrecedence: list\r\n"
				       "List-Unsubscribe: <https://u.example/x>\r\n\r\nx\r\n.\r\n",
				       NULL, NULL),
			 YES | IPC_COMM_LIST_UNSUB | IPC_COMM_LIST_ID | IPC_COMM_PRECEDENCE);
	/* signals among a part's headers are not the message's */
	assert_int_equal(commercial_of(fx, FROM_NEWS,
				       "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
				       "List-Unsubscribe: <mailto:u@x.example>\r\n\r\nx\r\n--b--\r\n"
				       ".\r\n", NULL, NULL),
			 D);
}

static void
test_commercial_rule_flowbits(void **state)
{
	struct fixture *fx = *state;
	static const char *const kv[] = { "commercial_default", "no", NULL };
	uint64_t comm, exempt;

	policy_use(fx, kv);
	/* a receipt is exempt, List-Unsubscribe or not; the rule does not alert */
	assert_int_equal(commercial_of(fx, FROM_NEWS,
				       "Subject: Your receipt #42\r\n"
				       "List-Unsubscribe: <mailto:u@news.example.com>\r\n\r\nx\r\n.\r\n",
				       &comm, &exempt),
			 D | IPC_COMM_EXEMPT_RULE);
	assert_int_equal(comm, 0);
	assert_int_equal(exempt, 2);
	assert_int_equal(n_fields(fx->records[0], IPC_F_ALERT), 0);
	/* a rule marks a plain message commercial */
	assert_int_equal(commercial_of(fx, FROM_NEWS, "Subject: Big sale today\r\n\r\nx\r\n.\r\n",
				       &comm, &exempt),
			 YES | IPC_COMM_RULE);
	assert_int_equal(comm, 1);
	assert_int_equal(exempt, 0);
	assert_int_equal(n_fields(fx->records[0], IPC_F_ALERT), 0);
}

static void
test_commercial_senders_and_hosts(void **state)
{
	struct fixture *fx = *state;
	static const char *const kv[] = {
		"commercial_default", "no",
		"transactional_senders", "billing.example.com",
		"commercial_senders", "example.com",
		"commercial_hosts", "[10.0.0.0/24, !10.0.0.8]",
		NULL,
	};
	static const char *const other_host[] = {
		"commercial_default", "no", "commercial_hosts", "10.9.0.0/16", NULL,
	};

	policy_use(fx, kv);
	/* exempt by the envelope's domain, even with List-Unsubscribe and a commercial host */
	assert_int_equal(commercial_of(fx, "MAIL FROM:<no-reply@billing.example.com>\r\n",
				       "List-Unsubscribe: <mailto:u@x.example>\r\n\r\nx\r\n.\r\n",
				       NULL, NULL),
			 D | IPC_COMM_EXEMPT_SENDER);
	/* exempt by the From header's domain (a subdomain) */
	assert_int_equal(commercial_of(fx, "MAIL FROM:<bounce@bounce.example.net>\r\n",
				       "From: Billing <invoice@eu.billing.example.com>\r\n\r\nx\r\n.\r\n",
				       NULL, NULL),
			 D | IPC_COMM_EXEMPT_SENDER);
	/* commercial by sender (a subdomain of example.com) and by host (10.0.0.7) */
	assert_int_equal(commercial_of(fx, FROM_NEWS, "Subject: x\r\n\r\nx\r\n.\r\n", NULL, NULL),
			 YES | IPC_COMM_SENDER | IPC_COMM_HOST);
	assert_int_equal(commercial_of(fx, "MAIL FROM:<a@badexample.com>\r\n",
				       "Subject: x\r\n\r\nx\r\n.\r\n", NULL, NULL),
			 YES | IPC_COMM_HOST);

	policy_use(fx, other_host);
	assert_int_equal(commercial_of(fx, "MAIL FROM:<a@badexample.com>\r\n",
				       "Subject: x\r\n\r\nx\r\n.\r\n", NULL, NULL),
			 D);
}

static void
test_commercial_without_policy(void **state)
{
	struct fixture *fx = *state;
	uint64_t comm, exempt;

	/* no policy: every message is commercial, by default (even a receipt) */
	assert_int_equal(commercial_of(fx, FROM_NEWS, "Subject: hi\r\n\r\nx\r\n.\r\n", &comm,
				       &exempt),
			 YES | IPC_COMM_DEFAULT);
	assert_int_equal(comm, 1);
	assert_int_equal(exempt, 0);
	assert_int_equal(commercial_of(fx, FROM_NEWS, "Subject: Your receipt\r\n\r\nx\r\n.\r\n",
				       NULL, NULL),
			 YES | IPC_COMM_DEFAULT);
	/* nor rules or a set: still decided */
	fx->env.gen = NULL;
	fx->env.supp = NULL;
	run_steps(fx, full, N(full), SIZE_MAX);
	fx->env.gen = fx->gen;
	fx->env.supp = fx->reader;
	assert_int_equal(fx->records[0]->commercial, YES | IPC_COMM_DEFAULT);
	assert_int_equal(n_fields(fx->records[0], IPC_F_HDR_RCPT), 0);
	assert_clean(fx->records[0], 0, "optout@customer.example", 250);
	/* the List-Id is recorded all the same */
	assert_field(fx->records[0], IPC_F_LIST_ID, "Weekly <weekly.news.example.com>");
}

/* Pipelined transactions: one message's signals and flowbits are not the next one's. */
static void
test_commercial_per_transaction(void **state)
{
	struct fixture *fx = *state;
	static const char *const kv[] = { "commercial_default", "no", NULL };
	static const struct step steps[] = {
		GREET,
		{ true, "MAIL FROM:<news@news.example.com>\r\nRCPT TO:<optout@customer.example>\r\n"
			"DATA\r\n" },
		{ false, "250 ok\r\n250 ok\r\n354 go\r\n" },
		{ true, "Subject: Big sale\r\nList-Unsubscribe: <mailto:u@x.example>\r\n"
			"List-Id: Weekly <weekly.news.example.com>\r\nFrom: news@news.example.com\r\n"
			"\r\nx\r\n.\r\n"
			"MAIL FROM:<news@news.example.com>\r\nRCPT TO:<optout@customer.example>\r\n"
			"RCPT TO:<listscope@customer.example>\r\nDATA\r\n" },
		{ false, "250 queued\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n" },
		{ true, "Subject: a note\r\n\r\nx\r\n.\r\n" },
		{ false, "250 queued\r\n" },
	};

	policy_use(fx, kv);
	run(fx, steps, N(steps));
	assert_int_equal(fx->n_records, 2);
	assert_int_equal(fx->records[0]->commercial, YES | IPC_COMM_RULE);
	assert_int_equal(fx->records[1]->commercial, D);
	assert_int_equal(n_fields(fx->records[0], IPC_F_LIST_ID), 1);
	/* the second message has no List-Id: neither the field nor the list's entry */
	assert_int_equal(n_fields(fx->records[1], IPC_F_LIST_ID), 0);
	assert_clean(fx->records[1], 1, "listscope@customer.example", 250);
}

/* (g) the first List-Id is recorded, once */
static void
test_list_id_recorded_once(void **state)
{
	struct fixture *fx = *state;
	struct step steps[] = {
		GREET,
		{ true, "MAIL FROM:<lists@lists.example.org>\r\nRCPT TO:<listscope@customer.example>\r\n"
			"DATA\r\n" },
		{ false, "250 ok\r\n250 ok\r\n354 go\r\n" },
		{ true, "List-Id: Weekly <weekly.news.example.com>\r\n"
			"List-Id: Daily <daily.news.example.com>\r\n"
			"List-Id: Weekly <weekly.news.example.com>\r\n\r\nx\r\n.\r\n" },
		{ false, "250 queued\r\n" },
	};

	run(fx, steps, N(steps));
	assert_int_equal(fx->n_records, 1);
	assert_int_equal(n_fields(fx->records[0], IPC_F_LIST_ID), 1);
	assert_field(fx->records[0], IPC_F_LIST_ID, "Weekly <weekly.news.example.com>");
	assert_rcpt(fx->records[0], IPC_F_RCPT, 0,
		    (struct want){ "listscope@customer.example", 250, IPC_SUPPRESS_GRACE,
				   SUPPRESS_SCOPE_LIST, SUPPRESS_ORIGIN_LIST_ID, 0, JUN_02_2024 });
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup(f, reset)
	const struct CMUnitTest tests[] = {
		T(test_verdicts_per_recipient),
		T(test_split_at_every_offset),
		T(test_sender_scope_envelope),
		T(test_list_scope_after_rcpts),
		T(test_sender_scope_from_header),
		T(test_header_recipients),
		T(test_header_recipient_list_scope_any_order),
		T(test_address_with_comment),
		T(test_commercial_default_no),
		T(test_commercial_rule_flowbits),
		T(test_commercial_senders_and_hosts),
		T(test_commercial_without_policy),
		T(test_commercial_per_transaction),
		T(test_list_id_recorded_once),
	};
#undef T
	return cmocka_run_group_tests(tests, setup, teardown);
}
