/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anomaly models: deterministic synthetic streams of transaction records, built with the
 * dataplane's own builders (ipc_tx_init/ipc_tx_add/ipc_tx_add2) and checked with
 * ipc_tx_check as posternd does, fed to the model with their own timestamps; every alert is
 * compared field by field (metric, subject, key, value, baseline, window end).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "anomaly_model.h"
#include "config.h"
#include "ipc.h"

#define T0 (UINT64_C(1717408800) * 1000000) /* 2024-06-03T10:00:00Z */
#define SEC UINT64_C(1000000)
#define MIN (60 * SEC)
#define MAX_GOT 64

/* ---- record building ---- */

struct rec {
	uint64_t buf[IPC_TX_MAX / 8]; /* 8-byte aligned, as received records are */
};

/* One record: a message (data) or not, from 10.0.0.<host> unless ip4 is set. */
struct tx_spec {
	uint64_t ts;
	uint8_t host;              /* 10.0.0.host */
	const uint8_t *ip4;        /* else these 4 bytes */
	uint16_t tx_seq;
	bool data;
	uint64_t bytes;
	uint16_t auth;
	const char *from;          /* IPC_F_MAIL_FROM value, NULL: none */
	uint32_t n_rcpt;           /* ipc_tx.n_rcpt; defaults to the fields added */
	unsigned n_fields;         /* IPC_F_RCPT fields: "<local><base + i>@<domain>" */
	const char *local;
	const char *domain;
	unsigned base;
	uint16_t code;             /* their reply code (250 when 0) */
	unsigned n_rej;            /* more fields "nobody<base+i>@corp.example", 550 */
};

static struct anomaly_alert got[MAX_GOT];
static unsigned n_got;

static void
add_rcpt(struct ipc_tx *tx, const char *addr, uint16_t reply)
{
	struct ipc_rcpt r = { .reply_code = reply };

	assert_non_null(ipc_tx_add2(tx, IPC_TX_MAX, IPC_F_RCPT, &r, sizeof(r), addr,
				    strlen(addr)));
}

static const struct ipc_tx *
build(struct rec *r, const struct tx_spec *s)
{
	struct ipc_tx *tx = (struct ipc_tx *)r->buf;
	uint8_t v4[4] = { 10, 0, 0, s->host };
	char addr[128];

	ipc_tx_init(tx, sizeof(r->buf));
	tx->ts_us = s->ts;
	tx->ip_version = 4;
	tx->src_ip[10] = 0xff;
	tx->src_ip[11] = 0xff;
	memcpy(tx->src_ip + 12, s->ip4 != NULL ? s->ip4 : v4, 4);
	tx->dst_ip[10] = 0xff;
	tx->dst_ip[11] = 0xff;
	tx->dst_ip[12] = 10;
	tx->dst_ip[15] = 25;
	tx->src_port = 40000;
	tx->dst_port = 25;
	tx->tx_seq = s->tx_seq;
	tx->status = s->data ? IPC_TX_DELIVERED : IPC_TX_ABORTED;
	tx->flags = s->data ? IPC_TXF_HAS_DATA : 0;
	tx->reply_code = s->data ? 250 : 0;
	tx->body_bytes = s->bytes;
	tx->auth_code = s->auth;
	if (s->from != NULL)
		assert_non_null(ipc_tx_add(tx, IPC_TX_MAX, IPC_F_MAIL_FROM, s->from,
					   strlen(s->from)));
	for (unsigned i = 0; i < s->n_fields; i++) {
		snprintf(addr, sizeof(addr), "%s%u@%s", s->local, s->base + i, s->domain);
		add_rcpt(tx, addr, s->code != 0 ? s->code : 250);
	}
	for (unsigned i = 0; i < s->n_rej; i++) {
		snprintf(addr, sizeof(addr), "nobody%u@corp.example", s->base + i);
		add_rcpt(tx, addr, 550);
	}
	tx->n_rcpt = s->n_rcpt != 0 ? s->n_rcpt : s->n_fields + s->n_rej;
	assert_int_equal(ipc_tx_check(tx, tx->hdr.len), 0);
	return tx;
}

/* Observe one record; alerts are appended to got[]. Returns how many it raised. */
static unsigned
feed(struct anomaly_model *m, const struct tx_spec *s)
{
	struct rec r;
	unsigned n;

	n = anomaly_model_observe(m, build(&r, s), got + n_got, MAX_GOT - n_got);
	n_got += n;
	return n;
}

static unsigned
tick(struct anomaly_model *m, uint64_t now)
{
	unsigned n = anomaly_model_tick(m, now, got + n_got, MAX_GOT - n_got);

	n_got += n;
	return n;
}

/* k records of s per minute from minute `from` to `to` (excluded), evenly spaced, with a
 * tick each second-ish (every record). */
static void
steady(struct anomaly_model *m, struct tx_spec s, unsigned per_min, unsigned from, unsigned to)
{
	for (unsigned min = from; min < to; min++) {
		for (unsigned i = 0; i < per_min; i++) {
			s.ts = T0 + min * MIN + i * (MIN / per_min);
			feed(m, &s);
			tick(m, s.ts);
		}
	}
}

static void
cfg_test(struct postern_config *c)
{
	config_defaults(c);
	c->anomaly_warmup = 600;
	c->anomaly_multiple_pct = 500;
	c->anomaly_alpha_pct = 10;
	c->anomaly_suppress = 600;
	c->anomaly_keys = 64;
	snprintf(c->internal_clients, sizeof(c->internal_clients), "10.0.0.0/8");
}

static struct anomaly_model *
model(const struct postern_config *c)
{
	char err[256];
	struct anomaly_model *m = anomaly_model_create(c, err, sizeof(err));

	if (m == NULL)
		fail_msg("create: %s", err);
	return m;
}

static int
setup(void **state)
{
	(void)state;
	n_got = 0;
	memset(got, 0, sizeof(got));
	return 0;
}

static void
check_alert(const struct anomaly_alert *a, enum anomaly_subject subject,
	    enum anomaly_metric metric, const char *key, double value, double baseline,
	    uint64_t floor, uint32_t window_s, uint64_t end)
{
	assert_int_equal(a->subject, subject);
	assert_int_equal(a->metric, metric);
	assert_string_equal(a->key, key);
	assert_true(a->value == value);
	if (a->baseline != baseline)
		fail_msg("baseline %.17g, expected %.17g", a->baseline, baseline);
	assert_int_equal(a->floor, floor);
	assert_true(a->multiple == 5.0);
	assert_int_equal(a->window_s, window_s);
	assert_int_equal(a->window_end_us, end);
}

static const struct tx_spec MSG = {
	.host = 5, .data = true, .bytes = 1000, .n_fields = 1, .local = "bob",
	.domain = "corp.example",
};

/* ---- tests ---- */

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(anomaly_metric_name(ANOMALY_MESSAGES), "messages_per_minute");
	assert_string_equal(anomaly_metric_name(ANOMALY_RCPTS_PER_MSG), "rcpts_per_message");
	assert_string_equal(anomaly_metric_name(ANOMALY_DISTINCT_RCPTS),
			    "distinct_rcpts_per_hour");
	assert_string_equal(anomaly_metric_name(ANOMALY_AUTH_FAILURES),
			    "auth_failures_per_10min");
	assert_string_equal(anomaly_metric_name(ANOMALY_RCPTS_REJECTED),
			    "rcpts_rejected_per_10min");
	assert_string_equal(anomaly_metric_name(ANOMALY_SESSIONS), "sessions_per_minute");
	assert_string_equal(anomaly_metric_name(ANOMALY_BYTES), "bytes_per_minute");
	assert_string_equal(anomaly_metric_name(ANOMALY__COUNT), "unknown");
	assert_string_equal(anomaly_subject_name(ANOMALY_HOST), "host");
	assert_string_equal(anomaly_subject_name(ANOMALY_SENDER_DOMAIN), "sender_domain");
	assert_int_equal(anomaly_metric_window(ANOMALY_DISTINCT_RCPTS), 3600);
	assert_int_equal(anomaly_metric_window(ANOMALY_RCPTS_PER_MSG), 0);
}

static void
test_steady_never_alerts(void **state)
{
	struct postern_config c;
	struct anomaly_model *m;
	struct anomaly_model_stats st;
	struct tx_spec s = MSG;

	(void)state;
	cfg_test(&c);
	m = model(&c);
	s.from = "alice@corp.example";
	steady(m, s, 3, 0, 180);
	assert_int_equal(tick(m, T0 + 200 * MIN), 0);
	assert_int_equal(n_got, 0);
	anomaly_model_stats(m, &st);
	assert_int_equal(st.records, 540);
	assert_int_equal(st.keys, 2);
	assert_int_equal(st.alerts, 0);
	assert_int_equal(st.suppressed, 0);
	anomaly_model_destroy(m);
}

/* 3 messages a minute for 20 minutes, then 200 a minute (one session's transactions). */
static void
test_flood(void **state)
{
	struct postern_config c;
	struct anomaly_model *m;
	struct anomaly_model_stats st;
	struct tx_spec s = MSG;

	(void)state;
	cfg_test(&c);
	m = model(&c);
	steady(m, s, 3, 0, 20);
	assert_int_equal(n_got, 0);
	s.tx_seq = 1;
	steady(m, s, 200, 20, 21);
	assert_int_equal(n_got, 0); /* window 20 is still open */
	s.ts = T0 + 21 * MIN;
	assert_int_equal(feed(m, &s), 1);
	check_alert(&got[0], ANOMALY_HOST, ANOMALY_MESSAGES, "10.0.0.5", 200, 3, 120, 60,
		    T0 + 21 * MIN);
	assert_memory_equal(got[0].host_ip, ((uint8_t[16]){ [10] = 0xff, [11] = 0xff, 10, 0, 0,
							    5 }), 16);
	/* the flood persists: suppressed for 10 minutes, then alerted again, baseline intact */
	steady(m, s, 200, 21, 36);
	assert_int_equal(n_got, 2);
	check_alert(&got[1], ANOMALY_HOST, ANOMALY_MESSAGES, "10.0.0.5", 200, 3, 120, 60,
		    T0 + 31 * MIN);
	anomaly_model_stats(m, &st);
	assert_int_equal(st.suppressed, 13); /* windows 21..29 and 31..34; 35 is still open */
	assert_int_equal(st.alerts, 2);
	/* back to normal: nothing more, and the baseline was never moved by the flood */
	s.tx_seq = 0;
	steady(m, s, 3, 36, 60);
	assert_int_equal(n_got, 2);
	anomaly_model_stats(m, &st);
	assert_int_equal(st.suppressed, 14);
	anomaly_model_destroy(m);
}

static void
test_floor(void **state)
{
	struct postern_config c;
	struct anomaly_model *m;
	struct tx_spec s = MSG;

	(void)state;
	cfg_test(&c);
	m = model(&c);
	steady(m, s, 1, 0, 20);
	steady(m, s, 6, 20, 30);
	tick(m, T0 + 40 * MIN);
	assert_int_equal(n_got, 0);
	anomaly_model_destroy(m);

	/* the same stream with a floor of 5 alerts */
	c.anomaly_floor_messages = 5;
	m = model(&c);
	steady(m, s, 1, 0, 20);
	steady(m, s, 6, 20, 21);
	assert_int_equal(tick(m, T0 + 21 * MIN - 1), 0);
	assert_int_equal(tick(m, T0 + 21 * MIN), 1);
	check_alert(&got[0], ANOMALY_HOST, ANOMALY_MESSAGES, "10.0.0.5", 6, 1, 5, 60,
		    T0 + 21 * MIN);
	anomaly_model_destroy(m);
}

static void
test_warmup(void **state)
{
	struct postern_config c;
	struct anomaly_model *m;
	struct anomaly_model_stats st;
	struct tx_spec s = MSG;

	(void)state;
	cfg_test(&c);
	c.anomaly_warmup = 3600;
	m = model(&c);
	steady(m, s, 1, 0, 10);
	s.tx_seq = 1; /* one session's transactions: only the message rate changes */
	steady(m, s, 200, 10, 12);
	s.tx_seq = 0;
	steady(m, s, 1, 12, 59);
	tick(m, T0 + 60 * MIN);
	assert_int_equal(n_got, 0);
	anomaly_model_stats(m, &st);
	assert_int_equal(st.suppressed, 0);
	/* the window starting at 60 minutes is judged */
	s.tx_seq = 1;
	steady(m, s, 200, 60, 61);
	assert_int_equal(tick(m, T0 + 61 * MIN), 1);
	assert_int_equal(got[0].metric, ANOMALY_MESSAGES);
	assert_true(got[0].value == 200);
	anomaly_model_destroy(m);
}

static void
test_rcpts_per_msg(void **state)
{
	struct postern_config c;
	struct anomaly_model *m;
	struct tx_spec s = MSG;

	(void)state;
	cfg_test(&c);
	m = model(&c);
	s.n_fields = 2;
	steady(m, s, 1, 0, 11);
	s.ts = T0 + 11 * MIN;
	s.n_rcpt = 50; /* > 2 * 5 but not > the floor, 100 */
	assert_int_equal(feed(m, &s), 0);
	s.ts += SEC;
	s.n_rcpt = 150; /* n_rcpt counts recipients cut from the record */
	assert_int_equal(feed(m, &s), 1);
	/* the 50 was folded: 2 + 0.1 * (50 - 2) */
	check_alert(&got[0], ANOMALY_HOST, ANOMALY_RCPTS_PER_MSG, "10.0.0.5", 150,
		    2 + 0.1 * (50 - 2), 100, 0, T0 + 11 * MIN + SEC);
	anomaly_model_destroy(m);
}

static void
test_distinct_rcpts(void **state)
{
	struct postern_config c;
	struct anomaly_model *m;
	struct tx_spec a = MSG, b = MSG;

	(void)state;
	cfg_test(&c);
	c.anomaly_warmup = 7200;
	c.anomaly_floor_distinct_rcpts = 20;
	m = model(&c);
	/* hours 0 and 1: one message every 10 minutes to the same 5 recipients */
	a.n_fields = 5;
	a.local = "user";
	a.domain = "partner.example";
	b.host = 6;
	b.n_fields = 5;
	b.local = "user";
	b.domain = "partner.example";
	for (unsigned i = 0; i < 12; i++) {
		a.ts = b.ts = T0 + i * 10 * MIN;
		feed(m, &a);
		feed(m, &b);
	}
	/* hour 2: host 5 writes to 30 different people (in mixed case), host 6 to the same
	 * recipient 60 times */
	a.n_fields = 1;
	a.local = "User";
	a.domain = "Partner.Example";
	b.n_fields = 1;
	b.base = 3;
	for (unsigned i = 0; i < 60; i++) {
		a.base = i % 30;
		a.ts = b.ts = T0 + 120 * MIN + i * MIN;
		feed(m, &a);
		feed(m, &b);
	}
	assert_int_equal(n_got, 0);
	assert_int_equal(tick(m, T0 + 180 * MIN), 1);
	check_alert(&got[0], ANOMALY_HOST, ANOMALY_DISTINCT_RCPTS, "10.0.0.5", 30, 5, 20, 3600,
		    T0 + 180 * MIN);
	anomaly_model_destroy(m);
}

/* Past ANOMALY_DISTINCT_EXACT the count is a HyperLogLog estimate: within 4 standard errors
 * (6.5% each) of the truth, whatever the hash. */
static void
test_distinct_hll(void **state)
{
	struct postern_config c;
	struct anomaly_model *m;
	struct tx_spec s = MSG;

	(void)state;
	cfg_test(&c);
	c.anomaly_warmup = 3600;
	c.anomaly_floor_distinct_rcpts = 100;
	m = model(&c);
	s.n_fields = 1;
	s.local = "user";
	s.domain = "partner.example";
	s.ts = T0;
	feed(m, &s); /* hour 0: 1 recipient */
	s.n_fields = 100;
	for (unsigned i = 0; i < 20; i++) {
		s.base = i * 100;
		s.ts = T0 + 60 * MIN + i * MIN;
		feed(m, &s);
		feed(m, &s); /* repeats change nothing */
	}
	/* host 6: 200 distinct, the HLL's linear-counting range (below 2.5 * 256) */
	s.host = 6;
	s.n_fields = 1;
	s.ts = T0;
	feed(m, &s);
	s.n_fields = 100;
	for (unsigned i = 0; i < 2; i++) {
		s.base = 5000 + i * 100;
		s.ts = T0 + 60 * MIN + i * MIN;
		feed(m, &s);
	}
	assert_int_equal(tick(m, T0 + 120 * MIN), 2);
	for (unsigned i = 0; i < 2; i++) {
		double want = i == 0 ? 2000 : 200;

		assert_int_equal(got[i].metric, ANOMALY_DISTINCT_RCPTS);
		assert_string_equal(got[i].key, i == 0 ? "10.0.0.5" : "10.0.0.6");
		assert_true(got[i].baseline == 1);
		if (got[i].value < want * (1 - 4 * 0.065) || got[i].value > want * (1 + 4 * 0.065))
			fail_msg("estimate %g for %g", got[i].value, want);
	}
	anomaly_model_destroy(m);
}

static void
test_auth_failures(void **state)
{
	struct postern_config c;
	struct anomaly_model *m;
	struct tx_spec s = { .host = 7, .auth = 535 };

	(void)state;
	cfg_test(&c);
	c.anomaly_warmup = 1800;
	m = model(&c);
	for (unsigned i = 0; i < 3; i++) {
		s.ts = T0 + i * 10 * MIN;
		feed(m, &s);
	}
	for (unsigned i = 0; i < 30; i++) {
		s.ts = T0 + 30 * MIN + i * 10 * SEC;
		s.tx_seq = 0;
		feed(m, &s);
		/* a later transaction of the session repeats the session's AUTH reply */
		s.tx_seq = 1;
		feed(m, &s);
	}
	/* a successful AUTH is no failure */
	s.tx_seq = 0;
	s.auth = 235;
	s.ts = T0 + 39 * MIN;
	feed(m, &s);
	assert_int_equal(tick(m, T0 + 40 * MIN), 1);
	check_alert(&got[0], ANOMALY_HOST, ANOMALY_AUTH_FAILURES, "10.0.0.7", 30, 1, 20, 600,
		    T0 + 40 * MIN);
	anomaly_model_destroy(m);
}

static void
test_rcpts_rejected(void **state)
{
	struct postern_config c;
	struct anomaly_model *m;
	struct tx_spec s = MSG;

	(void)state;
	cfg_test(&c);
	c.anomaly_warmup = 1800;
	m = model(&c);
	s.n_fields = 1;
	s.n_rej = 2;
	for (unsigned i = 0; i < 3; i++) {
		s.ts = T0 + i * 10 * MIN;
		feed(m, &s);
	}
	/* directory harvesting: 10 transactions of 1 valid and 10 unknown recipients */
	s.data = false;
	s.n_rej = 10;
	for (unsigned i = 0; i < 10; i++) {
		s.base = i * 10;
		s.ts = T0 + 30 * MIN + i * 30 * SEC;
		feed(m, &s);
	}
	assert_int_equal(tick(m, T0 + 40 * MIN), 1);
	check_alert(&got[0], ANOMALY_HOST, ANOMALY_RCPTS_REJECTED, "10.0.0.5", 100, 2, 50, 600,
		    T0 + 40 * MIN);
	anomaly_model_destroy(m);
}

static void
test_sessions(void **state)
{
	struct postern_config c;
	struct anomaly_model *m;
	struct tx_spec s = { .host = 8 };

	(void)state;
	cfg_test(&c);
	m = model(&c);
	steady(m, s, 2, 0, 20);
	steady(m, s, 300, 20, 21);
	assert_int_equal(tick(m, T0 + 21 * MIN), 1);
	check_alert(&got[0], ANOMALY_HOST, ANOMALY_SESSIONS, "10.0.0.8", 300, 2, 120, 60,
		    T0 + 21 * MIN);
	anomaly_model_destroy(m);
}

static void
test_bytes(void **state)
{
	struct postern_config c;
	struct anomaly_model *m;
	struct tx_spec s = MSG;

	(void)state;
	cfg_test(&c);
	c.anomaly_floor_bytes = 1000000;
	m = model(&c);
	s.bytes = 10000;
	steady(m, s, 1, 0, 20);
	s.bytes = 1000000;
	steady(m, s, 5, 20, 21);
	assert_int_equal(tick(m, T0 + 21 * MIN), 1);
	check_alert(&got[0], ANOMALY_HOST, ANOMALY_BYTES, "10.0.0.5", 5000000, 10000, 1000000,
		    60, T0 + 21 * MIN);
	anomaly_model_destroy(m);
}

/* Ten hosts, one sender domain: each host stays under the floor, the domain does not. */
static void
test_sender_domain(void **state)
{
	struct postern_config c;
	struct anomaly_model *m;
	struct tx_spec s = MSG;

	(void)state;
	cfg_test(&c);
	m = model(&c);
	s.from = "<Alice@Mail.Corp.Example>";
	for (unsigned min = 0; min < 21; min++) {
		unsigned per = min < 20 ? 1 : 15;

		s.tx_seq = min < 20 ? 0 : 1;

		for (unsigned i = 0; i < per; i++) {
			for (uint8_t h = 1; h <= 10; h++) {
				s.host = h;
				s.ts = T0 + min * MIN + i * SEC + h;
				feed(m, &s);
			}
		}
	}
	assert_int_equal(n_got, 0);
	/* the domain's windows are aligned on its first record, host 1's at T0 + 1 us */
	assert_int_equal(tick(m, T0 + 21 * MIN), 0);
	assert_int_equal(tick(m, T0 + 21 * MIN + 1), 1);
	check_alert(&got[0], ANOMALY_SENDER_DOMAIN, ANOMALY_MESSAGES, "mail.corp.example", 150,
		    10, 120, 60, T0 + 21 * MIN + 1);
	assert_memory_equal(got[0].host_ip, ((uint8_t[16]){ 0 }), 16);
	anomaly_model_destroy(m);
}

/* The null sender is the domain "<>"; a sender without '@' is its own key. */
static void
test_sender_forms(void **state)
{
	static const char *const forms[][2] = {
		{ "<>", "<>" },
		{ "", "<>" },
		{ "user@", "<>" },
		{ "MAILER-DAEMON", "mailer-daemon" },
		{ "a@b@Example.COM", "example.com" },
	};
	struct postern_config c;
	struct anomaly_model *m;
	struct tx_spec s = MSG;

	(void)state;
	cfg_test(&c);
	for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		n_got = 0;
		m = model(&c);
		s.from = forms[f][0];
		s.host = 1;
		s.tx_seq = 0;
		steady(m, s, 1, 0, 20);
		/* spread over hosts so that only the domain passes the floor */
		s.tx_seq = 1;
		for (unsigned i = 0; i < 150; i++) {
			s.host = (uint8_t)(1 + i % 10);
			s.ts = T0 + 20 * MIN + i * 100000;
			feed(m, &s);
		}
		assert_int_equal(tick(m, T0 + 21 * MIN), 1);
		assert_int_equal(got[0].subject, ANOMALY_SENDER_DOMAIN);
		assert_string_equal(got[0].key, forms[f][1]);
		assert_true(got[0].value == 150);
		anomaly_model_destroy(m);
	}
}

static void
test_external_ignored(void **state)
{
	static const uint8_t ext[4] = { 192, 0, 2, 1 };
	struct postern_config c;
	struct anomaly_model *m;
	struct anomaly_model_stats st;
	struct tx_spec s = MSG;

	(void)state;
	cfg_test(&c);
	m = model(&c);
	s.ip4 = ext;
	s.from = "x@corp.example";
	steady(m, s, 1, 0, 20);
	steady(m, s, 500, 20, 22);
	tick(m, T0 + 30 * MIN);
	assert_int_equal(n_got, 0);
	anomaly_model_stats(m, &st);
	assert_int_equal(st.external, 1020);
	assert_int_equal(st.records, 0);
	assert_int_equal(st.keys, 0);
	anomaly_model_destroy(m);

	/* an empty internal_clients models nothing */
	c.internal_clients[0] = '\0';
	m = model(&c);
	s.ip4 = NULL;
	steady(m, s, 1, 0, 2);
	anomaly_model_stats(m, &st);
	assert_int_equal(st.external, 2);
	assert_int_equal(st.keys, 0);
	anomaly_model_destroy(m);
}

/* A key that goes quiet after a busy window: tick() judges it at the window's end. */
static void
test_quiet_key_tick(void **state)
{
	struct postern_config c;
	struct anomaly_model *m;
	struct tx_spec s = MSG;

	(void)state;
	cfg_test(&c);
	m = model(&c);
	steady(m, s, 3, 0, 20);
	s.tx_seq = 1;
	steady(m, s, 130, 20, 21);
	assert_int_equal(tick(m, T0 + 21 * MIN - 1), 0);
	assert_int_equal(tick(m, T0 + 21 * MIN), 1);
	check_alert(&got[0], ANOMALY_HOST, ANOMALY_MESSAGES, "10.0.0.5", 130, 3, 120, 60,
		    T0 + 21 * MIN);
	/* nothing is judged twice */
	assert_int_equal(tick(m, T0 + 90 * MIN), 0);
	anomaly_model_destroy(m);
}

/* An idle gap folds at most ANOMALY_IDLE_WINDOWS zeros into the baseline. */
static void
test_idle_gap(void **state)
{
	struct postern_config c;
	struct anomaly_model *m;
	struct tx_spec s = MSG;
	double b = 10;

	(void)state;
	cfg_test(&c);
	c.anomaly_floor_messages = 50;
	m = model(&c);
	steady(m, s, 10, 0, 20);
	/* an hour off, then 60 in a minute */
	steady(m, s, 60, 80, 81);
	assert_int_equal(tick(m, T0 + 81 * MIN), 1);
	for (unsigned i = 0; i < ANOMALY_IDLE_WINDOWS; i++)
		b += 0.1 * (0 - b);
	check_alert(&got[0], ANOMALY_HOST, ANOMALY_MESSAGES, "10.0.0.5", 60, b, 50, 60,
		    T0 + 81 * MIN);
	anomaly_model_destroy(m);
}

static void
test_eviction(void **state)
{
	struct postern_config c;
	struct anomaly_model *m;
	struct anomaly_model_stats st;
	struct tx_spec s = MSG;

	(void)state;
	cfg_test(&c);
	c.anomaly_keys = 16;
	c.anomaly_floor_messages = 50;
	m = model(&c);
	s.host = 1;
	steady(m, s, 3, 0, 20);
	s.host = 2;
	steady(m, s, 3, 0, 20);
	/* 14 more hosts fill the table; host 1 is then seen again, host 17 evicts host 2 */
	for (uint8_t h = 3; h <= 16; h++) {
		s.host = h;
		s.ts = T0 + 20 * MIN + h * SEC;
		feed(m, &s);
	}
	s.host = 1;
	s.ts = T0 + 20 * MIN + 30 * SEC;
	feed(m, &s);
	s.host = 17;
	s.ts = T0 + 20 * MIN + 31 * SEC;
	feed(m, &s);
	anomaly_model_stats(m, &st);
	assert_int_equal(st.keys, 16);
	assert_int_equal(st.evicted, 1);
	/* host 1 kept its history and alerts; host 2 starts again, in warm-up */
	for (uint8_t h = 1; h <= 2; h++) {
		s.host = h;
		for (unsigned i = 0; i < 60; i++) {
			s.ts = T0 + 21 * MIN + i * SEC + h;
			feed(m, &s);
		}
	}
	anomaly_model_stats(m, &st);
	assert_int_equal(st.evicted, 2); /* host 2 came back: the oldest one made room */
	tick(m, T0 + 30 * MIN);
	assert_int_equal(n_got, 1);
	assert_string_equal(got[0].key, "10.0.0.1");
	assert_true(got[0].value == 60);
	anomaly_model_destroy(m);
}

static void
test_dropped(void **state)
{
	struct postern_config c;
	struct anomaly_model *m;
	struct anomaly_model_stats st;
	struct tx_spec s = MSG;

	(void)state;
	cfg_test(&c);
	m = model(&c);
	steady(m, s, 3, 0, 20);
	s.tx_seq = 1;
	steady(m, s, 200, 20, 21);
	assert_int_equal(anomaly_model_tick(m, T0 + 21 * MIN, NULL, 0), 0);
	assert_int_equal(anomaly_model_dropped(m), 1);
	anomaly_model_stats(m, &st);
	assert_int_equal(st.alerts, 1);
	anomaly_model_destroy(m);
}

static void
expect_error(struct postern_config *c, const char *want)
{
	char err[256] = "";

	errno = 0;
	assert_null(anomaly_model_create(c, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("error '%s', expected '%s...'", err, want);
}

static void
test_config_errors(void **state)
{
	struct postern_config c;

	(void)state;
	cfg_test(&c);
	c.anomaly_multiple_pct = 100;
	expect_error(&c, "anomaly_multiple_pct: must be 101..100000, not 100");
	cfg_test(&c);
	c.anomaly_alpha_pct = 0;
	expect_error(&c, "anomaly_alpha_pct: must be 1..100, not 0");
	cfg_test(&c);
	c.anomaly_keys = 8;
	expect_error(&c, "anomaly_keys: must be 16..4194304, not 8");
	cfg_test(&c);
	snprintf(c.internal_clients, sizeof(c.internal_clients), "10.0.0.300");
	expect_error(&c, "internal_clients: invalid address");
	cfg_test(&c);
	snprintf(c.internal_clients, sizeof(c.internal_clients), "$NO_SUCH");
	expect_error(&c, "internal_clients: unknown variable $NO_SUCH");
	/* the defaults are valid, and so is $HOME_NET */
	config_defaults(&c);
	anomaly_model_destroy(model(&c));
	snprintf(c.internal_clients, sizeof(c.internal_clients), "$HOME_NET");
	anomaly_model_destroy(model(&c));
	anomaly_model_destroy(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_names, setup),
		cmocka_unit_test_setup(test_steady_never_alerts, setup),
		cmocka_unit_test_setup(test_flood, setup),
		cmocka_unit_test_setup(test_floor, setup),
		cmocka_unit_test_setup(test_warmup, setup),
		cmocka_unit_test_setup(test_rcpts_per_msg, setup),
		cmocka_unit_test_setup(test_distinct_rcpts, setup),
		cmocka_unit_test_setup(test_distinct_hll, setup),
		cmocka_unit_test_setup(test_auth_failures, setup),
		cmocka_unit_test_setup(test_rcpts_rejected, setup),
		cmocka_unit_test_setup(test_sessions, setup),
		cmocka_unit_test_setup(test_bytes, setup),
		cmocka_unit_test_setup(test_sender_domain, setup),
		cmocka_unit_test_setup(test_sender_forms, setup),
		cmocka_unit_test_setup(test_external_ignored, setup),
		cmocka_unit_test_setup(test_quiet_key_tick, setup),
		cmocka_unit_test_setup(test_idle_gap, setup),
		cmocka_unit_test_setup(test_eviction, setup),
		cmocka_unit_test_setup(test_dropped, setup),
		cmocka_unit_test_setup(test_config_errors, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
