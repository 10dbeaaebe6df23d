/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for dataplane/tcp_reasm.c: the client bytes of an SMTP session cut into segments
 * and fed in every order of 5 segments, in seeded random shuffles of 30 (with duplicates and
 * overlapping retransmissions), as 1-byte segments, across sequence wrap-around; overlaps with
 * different bytes (first data wins, evasion event), lost segments declared by ACK, the queue
 * window and pool exhaustion, the depth cap, flush, release, SYN/FIN/RST handling, keep-alives
 * and mid-stream pickup. Every case checks the exact bytes, where the gaps fall, the events,
 * and that the pool gets all its chunks back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "tcp_reasm.h"

static const char session[] =
	"EHLO client.example.org\r\n"
	"MAIL FROM:<alice@example.org> SIZE=431\r\n"
	"RCPT TO:<bob@example.net>\r\n"
	"RCPT TO:<carol@example.net>\r\n"
	"DATA\r\n"
	"From: Alice <alice@example.org>\r\n"
	"To: Bob <bob@example.net>, Carol <carol@example.net>\r\n"
	"Subject: Quarterly report\r\n"
	"Date: Tue, 14 May 2024 09:30:00 +0200\r\n"
	"Message-ID: <20240514093000.4711@example.org>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"\r\n"
	"Hello Bob, hello Carol,\r\n"
	"\r\n"
	"the quarterly figures are below. Revenue grew by 4%\r\n"
	"and the unsubscribe link now works on every list.\r\n"
	"\r\n"
	"..a line that starts with a dot, stuffed\r\n"
	"Regards,\r\n"
	"Alice\r\n"
	".\r\n"
	"QUIT\r\n";
#define SESSION_LEN ((uint32_t)sizeof(session) - 1)

#define SINK_MAX 65536
#define MAX_GAPS 64
#define MAX_EVENTS 4096

struct gap_rec {
	size_t at;      /* bytes delivered before the gap */
	uint32_t seq;
	uint32_t len;
};

struct ev_rec {
	enum tcp_reasm_event ev;
	uint32_t seq;
	uint32_t len;
};

/* What the callbacks saw, and whether deliver/gap tiled the sequence space without holes. */
struct sink {
	const struct tcp_stream *s;
	uint8_t buf[SINK_MAX];
	size_t len;
	struct gap_rec gaps[MAX_GAPS];
	unsigned n_gaps;
	struct ev_rec evs[MAX_EVENTS];
	unsigned n_evs;
	unsigned n_ev[TCP_REASM_EV__COUNT];
	uint32_t expect;
	bool started;
	bool broken;    /* a callback did not start where the previous one ended */
};

struct rig {
	struct tcp_reasm_pool *pool;
	struct tcp_reasm_limits lim;
	struct tcp_stream s;
	struct sink k;
	const struct tcp_stream *other;  /* another stream on the pool, when a test has one */
};

static void
sink_check_seq(struct sink *k, uint32_t len)
{
	uint32_t at = tcp_stream_next_seq(k->s);

	if (k->started && at != k->expect)
		k->broken = true;
	k->started = true;
	k->expect = at + len;
}

static void
on_deliver(void *ctx, const uint8_t *data, uint32_t len)
{
	struct sink *k = ctx;

	sink_check_seq(k, len);
	if (len == 0 || k->len + len > SINK_MAX) {
		k->broken = true;
		return;
	}
	memcpy(k->buf + k->len, data, len);
	k->len += len;
}

static void
on_gap(void *ctx, uint32_t len)
{
	struct sink *k = ctx;

	sink_check_seq(k, len);
	if (k->n_gaps < MAX_GAPS)
		k->gaps[k->n_gaps] = (struct gap_rec){ k->len, tcp_stream_next_seq(k->s), len };
	k->n_gaps++;
}

static void
on_event(void *ctx, enum tcp_reasm_event ev, uint32_t seq, uint32_t len)
{
	struct sink *k = ctx;

	if (k->n_evs < MAX_EVENTS)
		k->evs[k->n_evs] = (struct ev_rec){ ev, seq, len };
	k->n_evs++;
	k->n_ev[ev]++;
}

static const struct tcp_reasm_ops ops = {
	.deliver = on_deliver,
	.gap = on_gap,
	.event = on_event,
};

static void
rig_setup(struct rig *r, uint32_t n_chunks, uint32_t max_queued, uint64_t depth)
{
	memset(r, 0, sizeof(*r));
	r->pool = tcp_reasm_pool_create(n_chunks);
	assert_non_null(r->pool);
	r->lim.max_queued_bytes = max_queued;
	r->lim.max_stream_bytes = depth;
	tcp_stream_init(&r->s);
	r->k.s = &r->s;
}

/* A fresh stream on the same pool. */
static void
rig_reset(struct rig *r)
{
	tcp_stream_release(&r->s, r->pool);
	tcp_stream_init(&r->s);
	memset(&r->k, 0, sizeof(r->k));
	r->k.s = &r->s;
}

/* Checks the pool has every chunk back, then frees it. */
static void
rig_teardown(struct rig *r)
{
	tcp_stream_release(&r->s, r->pool);
	assert_int_equal(tcp_reasm_pool_n_free(r->pool), tcp_reasm_pool_n_chunks(r->pool));
	tcp_reasm_pool_destroy(r->pool);
}

static void
feed(struct rig *r, uint32_t seq, uint8_t flags, const void *data, uint32_t len)
{
	tcp_stream_segment(&r->s, r->pool, &r->lim, seq, flags, data, len, &ops, &r->k);
	assert_false(r->k.broken);
	/* the pool never leaks: what the streams hold plus what is free is everything */
	uint32_t held = tcp_stream_n_chunks(&r->s, r->pool);

	if (r->other != NULL)
		held += tcp_stream_n_chunks(r->other, r->pool);
	assert_int_equal(held + tcp_reasm_pool_n_free(r->pool), tcp_reasm_pool_n_chunks(r->pool));
}

static void
feed_str(struct rig *r, uint32_t seq, uint8_t flags, const char *data)
{
	feed(r, seq, flags, data, (uint32_t)strlen(data));
}

static void
ack(struct rig *r, uint32_t a)
{
	tcp_stream_ack(&r->s, r->pool, &r->lim, a, &ops, &r->k);
	assert_false(r->k.broken);
}

static void
flush(struct rig *r)
{
	tcp_stream_flush(&r->s, r->pool, &r->lim, &ops, &r->k);
	assert_false(r->k.broken);
	assert_false(tcp_stream_has_queue(&r->s));
	assert_int_equal(tcp_reasm_pool_n_free(r->pool), tcp_reasm_pool_n_chunks(r->pool));
}

static void
assert_delivered(const struct rig *r, const void *want, size_t len)
{
	assert_int_equal(r->k.len, len);
	assert_memory_equal(r->k.buf, want, len);
}

static unsigned
n_events_total(const struct sink *k)
{
	return k->n_evs;
}

/* xorshift32: fixed seeds, the same shuffles on every run */
static uint32_t
rnd(uint32_t *st)
{
	uint32_t x = *st;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*st = x;
	return x;
}

static void
shuffle(unsigned *a, unsigned n, uint32_t *st)
{
	for (unsigned i = n; i > 1; i--) {
		unsigned j = rnd(st) % i;
		unsigned t = a[i - 1];

		a[i - 1] = a[j];
		a[j] = t;
	}
}

/* n segments with random cut points (every segment at least min_len bytes). */
static void
random_cuts(uint32_t *cut, unsigned n, uint32_t total, uint32_t min_len, uint32_t *st)
{
	cut[0] = 0;
	cut[n] = total;
	for (;;) {
		for (unsigned i = 1; i < n; i++)
			cut[i] = rnd(st) % total;
		/* insertion sort */
		for (unsigned i = 2; i < n; i++)
			for (unsigned j = i; j > 1 && cut[j - 1] > cut[j]; j--) {
				uint32_t t = cut[j];

				cut[j] = cut[j - 1];
				cut[j - 1] = t;
			}
		bool ok = true;

		for (unsigned i = 0; i < n; i++)
			if (cut[i + 1] < cut[i] + min_len)
				ok = false;
		if (ok)
			return;
	}
}

/* ---- cases kept from the in-order reassembler ---- */

static void
test_in_order_after_syn(void **state)
{
	(void)state;
	struct rig r;

	rig_setup(&r, 16, 65536, 0);
	feed_str(&r, 1000, TCP_SYN, "");
	feed_str(&r, 1001, TCP_ACK, "EHLO a\r\n");
	feed_str(&r, 1009, TCP_ACK, "QUIT\r\n");
	assert_false(tcp_stream_is_finished(&r.s));
	feed_str(&r, 1015, TCP_ACK | TCP_FIN, "");
	assert_delivered(&r, "EHLO a\r\nQUIT\r\n", 14);
	assert_true(tcp_stream_fin_seen(&r.s));
	assert_true(tcp_stream_is_closed(&r.s));
	assert_true(tcp_stream_is_finished(&r.s));
	assert_false(tcp_stream_is_midstream(&r.s));
	assert_int_equal(tcp_stream_offset(&r.s), 14);
	assert_int_equal(n_events_total(&r.k), 0);
	assert_int_equal(tcp_reasm_pool_counters(r.pool)->n_bytes, 14);
	assert_int_equal(tcp_reasm_pool_n_free(r.pool), 16);
	rig_teardown(&r);
}

static void
test_retransmission_and_overlap(void **state)
{
	(void)state;
	struct rig r;

	rig_setup(&r, 16, 65536, 0);
	feed_str(&r, 0, TCP_SYN, "");
	feed_str(&r, 1, TCP_ACK, "MAIL FROM:");
	/* exact retransmission: compared with the fingerprint, identical */
	feed_str(&r, 1, TCP_ACK, "MAIL FROM:");
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_RETRANSMIT], 1);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_OVERLAP_DIFF], 0);
	/* re-segmented retransmission over part of the delivered bytes, with different old
	 * bytes: what was delivered first stands; the fingerprint does not cover it, so it is
	 * counted unchecked (the documented limit) */
	feed_str(&r, 6, TCP_ACK, "XXXXX<a@b>\r\n");
	assert_delivered(&r, "MAIL FROM:<a@b>\r\n", 17);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_RETRANSMIT], 2);
	assert_int_equal(tcp_reasm_pool_counters(r.pool)->n_unchecked, 1);
	/* keep-alive: one garbage byte below next_seq, ignored without an event */
	feed(&r, tcp_stream_next_seq(&r.s) - 1, TCP_ACK, "\0", 1);
	feed(&r, tcp_stream_next_seq(&r.s) - 1, TCP_ACK, "Z", 1);
	feed(&r, tcp_stream_next_seq(&r.s) - 1, TCP_ACK, NULL, 0);
	assert_delivered(&r, "MAIL FROM:<a@b>\r\n", 17);
	assert_int_equal(n_events_total(&r.k), 2);
	assert_int_equal(tcp_reasm_pool_counters(r.pool)->n_keepalives, 3);
	rig_teardown(&r);
}

static void
test_out_of_order_fills_hole(void **state)
{
	(void)state;
	struct rig r;

	rig_setup(&r, 16, 65536, 0);
	feed_str(&r, 99, TCP_SYN, "");
	feed_str(&r, 100, TCP_ACK, "abc");
	feed_str(&r, 110, TCP_ACK, "xyz");
	/* queued, not delivered: the hole may still fill */
	assert_delivered(&r, "abc", 3);
	assert_true(tcp_stream_has_queue(&r.s));
	assert_int_equal(tcp_stream_n_chunks(&r.s, r.pool), 1);
	feed_str(&r, 103, TCP_ACK, "defghij");
	assert_delivered(&r, "abcdefghijxyz", 13);
	assert_false(tcp_stream_has_queue(&r.s));
	assert_int_equal(tcp_reasm_pool_n_free(r.pool), 16);
	assert_int_equal(r.k.n_gaps, 0);
	assert_int_equal(n_events_total(&r.k), 0);
	assert_int_equal(tcp_reasm_pool_counters(r.pool)->n_ooo_segments, 1);
	rig_teardown(&r);
}

static void
test_wrap_around(void **state)
{
	(void)state;
	struct rig r;

	rig_setup(&r, 16, 65536, 0);
	feed_str(&r, UINT32_MAX - 4, TCP_SYN, "");
	/* next_seq = UINT32_MAX - 3; 8 bytes cross zero */
	feed_str(&r, UINT32_MAX - 3, TCP_ACK, "01234567");
	assert_int_equal(tcp_stream_next_seq(&r.s), 4);
	/* a retransmission straddling the wrap with new bytes after it */
	feed_str(&r, UINT32_MAX - 1, TCP_ACK, "234567ab");
	assert_delivered(&r, "01234567ab", 10);
	/* out of order across zero: queued below and above the wrap */
	rig_reset(&r);
	feed_str(&r, UINT32_MAX - 10, TCP_SYN, "");
	feed_str(&r, 2, TCP_ACK, "KLMN");                 /* after the wrap */
	feed_str(&r, UINT32_MAX - 4, TCP_ACK, "FGHIJ");   /* before it */
	assert_int_equal(r.k.len, 0);
	feed_str(&r, UINT32_MAX - 9, TCP_ACK, "ABCDE");
	assert_delivered(&r, "ABCDEFGHIJ", 10);
	feed_str(&r, 0, TCP_ACK, "XY");
	assert_delivered(&r, "ABCDEFGHIJXYKLMN", 16);
	assert_true(tcp_seq_lt(UINT32_MAX, 1));
	assert_false(tcp_seq_lt(1, UINT32_MAX));
	assert_true(tcp_seq_le(5, 5));
	rig_teardown(&r);
}

static void
test_mid_stream_pickup(void **state)
{
	(void)state;
	struct rig r;

	rig_setup(&r, 16, 65536, 0);
	feed_str(&r, 5000, TCP_ACK, "RCPT TO:<x@y>\r\n");
	assert_true(tcp_stream_is_midstream(&r.s));
	feed_str(&r, 5021, TCP_ACK, "QUIT\r\n");     /* beyond a hole: queued */
	feed_str(&r, 5015, TCP_ACK, "DATA\r\n");
	assert_delivered(&r, "RCPT TO:<x@y>\r\nDATA\r\nQUIT\r\n", 27);
	/* a late SYN matching the pickup point is a reordered SYN, not a new connection */
	feed_str(&r, 4999, TCP_SYN, "");
	assert_int_equal(n_events_total(&r.k), 0);
	rig_teardown(&r);
}

static void
test_one_byte_segments(void **state)
{
	(void)state;
	static const char msg[] = "EHLO client.example\r\nMAIL FROM:<a@b>\r\n";
	struct rig r;

	rig_setup(&r, 16, 65536, 0);
	feed_str(&r, 41, TCP_SYN, "");
	for (uint32_t i = 0; i < sizeof(msg) - 1; i++) {
		feed(&r, 42 + i, TCP_ACK, msg + i, 1);
		/* every byte retransmitted once too: a 1-byte repeat is a probe, ignored */
		feed(&r, 42 + i, TCP_ACK, msg + i, 1);
	}
	assert_delivered(&r, msg, sizeof(msg) - 1);
	assert_int_equal(n_events_total(&r.k), 0);
	rig_teardown(&r);
}

static void
test_rst(void **state)
{
	(void)state;
	struct rig r;

	rig_setup(&r, 16, 65536, 0);
	feed_str(&r, 1, TCP_SYN, "");
	feed_str(&r, 2, TCP_ACK, "HELO x\r\n");
	/* a RST behind what was delivered is not where the sender is: ignored */
	feed_str(&r, 1, TCP_RST, "");
	assert_false(tcp_stream_rst_seen(&r.s));
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_RST_INVALID], 1);
	/* nor one far past anything sent */
	feed_str(&r, 10 + (3u << 20), TCP_RST, "");
	assert_false(tcp_stream_rst_seen(&r.s));
	feed_str(&r, 10, TCP_RST, "");
	assert_true(tcp_stream_rst_seen(&r.s));
	assert_true(tcp_stream_is_finished(&r.s));
	/* nothing is taken after a RST */
	feed_str(&r, 10, TCP_ACK, "MAIL");
	assert_delivered(&r, "HELO x\r\n", 8);
	assert_int_equal(tcp_reasm_pool_counters(r.pool)->n_ignored, 1);
	assert_int_equal(tcp_reasm_pool_counters(r.pool)->n_rst, 1);
	rig_teardown(&r);
}

/* ---- the SMTP session in many orders ---- */

/* Feeds the session cut at cut[0..n] in the order given; returns nothing, checks all. */
static void
feed_session_order(struct rig *r, uint32_t isn, const uint32_t *cut, const unsigned *order,
		   unsigned n)
{
	feed(r, isn, TCP_SYN, NULL, 0);
	for (unsigned i = 0; i < n; i++) {
		unsigned j = order[i];

		feed(r, isn + 1 + cut[j], TCP_ACK | TCP_PSH, session + cut[j], cut[j + 1] - cut[j]);
	}
	feed(r, isn + 1 + SESSION_LEN, TCP_ACK | TCP_FIN, NULL, 0);
}

static bool
next_permutation(unsigned *a, unsigned n)
{
	unsigned i = n - 1;

	while (i > 0 && a[i - 1] >= a[i])
		i--;
	if (i == 0)
		return false;
	unsigned j = n - 1;

	while (a[j] <= a[i - 1])
		j--;
	unsigned t = a[i - 1];

	a[i - 1] = a[j];
	a[j] = t;
	for (unsigned lo = i, hi = n - 1; lo < hi; lo++, hi--) {
		t = a[lo];
		a[lo] = a[hi];
		a[hi] = t;
	}
	return true;
}

static void
test_all_orders_of_5(void **state)
{
	(void)state;
	static const uint32_t isns[] = { 1000, UINT32_MAX - 300 };
	const uint32_t cut[6] = { 0, 25, 66, 233, 480, SESSION_LEN };
	struct rig r;
	unsigned n_perm = 0;

	rig_setup(&r, 8, 65536, 0);
	for (unsigned w = 0; w < 2; w++) {
		unsigned order[5] = { 0, 1, 2, 3, 4 };

		do {
			rig_reset(&r);
			feed_session_order(&r, isns[w], cut, order, 5);
			assert_delivered(&r, session, SESSION_LEN);
			assert_int_equal(n_events_total(&r.k), 0);
			assert_int_equal(r.k.n_gaps, 0);
			assert_true(tcp_stream_is_closed(&r.s));
			assert_int_equal(tcp_reasm_pool_n_free(r.pool), 8);
			n_perm++;
		} while (next_permutation(order, 5));
	}
	assert_int_equal(n_perm, 240);
	rig_teardown(&r);
}

static void
test_random_shuffles_with_duplicates(void **state)
{
	(void)state;
	uint32_t st = 0x2545f491;
	struct rig r;

	rig_setup(&r, 8, 65536, 0);
	for (unsigned iter = 0; iter < 300; iter++) {
		uint32_t cut[31];
		unsigned order[60];
		unsigned n = 30, n_dup = iter % 3 == 0 ? 0 : rnd(&st) % 30;
		uint32_t isn = iter % 2 ? rnd(&st) : UINT32_MAX - (rnd(&st) % 600);

		random_cuts(cut, 30, SESSION_LEN, 2, &st);
		for (unsigned i = 0; i < 30; i++)
			order[i] = i;
		for (unsigned i = 0; i < n_dup; i++)
			order[n++] = rnd(&st) % 30;
		shuffle(order, n, &st);
		rig_reset(&r);
		feed_session_order(&r, isn, cut, order, n);
		assert_delivered(&r, session, SESSION_LEN);
		/* every duplicate is reported once as an identical retransmission */
		assert_int_equal(r.k.n_ev[TCP_REASM_EV_RETRANSMIT], n_dup);
		assert_int_equal(n_events_total(&r.k), n_dup);
		assert_int_equal(r.k.n_gaps, 0);
		assert_int_equal(tcp_reasm_pool_n_free(r.pool), 8);
	}
	rig_teardown(&r);
}

static void
test_one_byte_segments_random_order(void **state)
{
	(void)state;
	uint32_t st = 0x9e3779b9;
	unsigned order[SESSION_LEN];
	uint32_t cut[SESSION_LEN + 1];
	struct rig r;

	for (uint32_t i = 0; i <= SESSION_LEN; i++)
		cut[i] = i;
	rig_setup(&r, 8, 65536, 0);
	for (unsigned iter = 0; iter < 20; iter++) {
		for (unsigned i = 0; i < SESSION_LEN; i++)
			order[i] = i;
		shuffle(order, SESSION_LEN, &st);
		rig_reset(&r);
		feed_session_order(&r, iter * 0x10000000u + 7, cut, order, SESSION_LEN);
		assert_delivered(&r, session, SESSION_LEN);
		assert_int_equal(n_events_total(&r.k), 0);
		/* 590 scattered bytes never took more than the chunks their windows span */
		assert_int_equal(tcp_reasm_pool_n_free(r.pool), 8);
	}
	rig_teardown(&r);
}

static void
test_overlapping_identical_retransmissions(void **state)
{
	(void)state;
	uint32_t st = 0x1234567;
	struct rig r;

	rig_setup(&r, 8, 65536, 0);
	for (unsigned iter = 0; iter < 200; iter++) {
		uint32_t isn = rnd(&st);
		uint32_t cut[11];
		unsigned order[10] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
		unsigned extra = 0;

		random_cuts(cut, 10, SESSION_LEN, 2, &st);
		shuffle(order, 10, &st);
		rig_reset(&r);
		feed(&r, isn, TCP_SYN, NULL, 0);
		for (unsigned i = 0; i < 10; i++) {
			/* before each segment, a random re-segmented retransmission of the
			 * same bytes somewhere in the session */
			uint32_t a = rnd(&st) % SESSION_LEN;
			uint32_t len = 2 + rnd(&st) % 120;

			if (a + len > SESSION_LEN)
				len = SESSION_LEN - a;
			if (len >= 2) {
				feed(&r, isn + 1 + a, TCP_ACK, session + a, len);
				extra++;
			}
			feed(&r, isn + 1 + cut[order[i]], TCP_ACK, session + cut[order[i]],
			     cut[order[i] + 1] - cut[order[i]]);
		}
		assert_delivered(&r, session, SESSION_LEN);
		assert_int_equal(r.k.n_ev[TCP_REASM_EV_OVERLAP_DIFF], 0);
		assert_int_equal(r.k.n_gaps, 0);
		assert_int_equal(n_events_total(&r.k), r.k.n_ev[TCP_REASM_EV_RETRANSMIT]);
		assert_true(r.k.n_ev[TCP_REASM_EV_RETRANSMIT] <= 10 + extra);
		assert_int_equal(tcp_reasm_pool_n_free(r.pool), 8);
	}
	rig_teardown(&r);
}

/* ---- evasion: overlaps with different bytes ---- */

static void
test_overlap_diff_queued(void **state)
{
	(void)state;
	uint8_t evil[40];
	uint8_t want[60];
	struct rig r;

	rig_setup(&r, 8, 65536, 0);
	feed(&r, 0, TCP_SYN, NULL, 0);
	/* [20,40) queued beyond the hole [0,20) */
	feed(&r, 21, TCP_ACK, session + 20, 20);
	assert_int_equal(n_events_total(&r.k), 0);
	/* [30,60) with other bytes: [30,40) overlaps the queued first copy */
	memset(evil, 'X', sizeof(evil));
	feed(&r, 31, TCP_ACK, evil, 30);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_OVERLAP_DIFF], 1);
	assert_int_equal(r.k.evs[0].ev, TCP_REASM_EV_OVERLAP_DIFF);
	assert_int_equal(r.k.evs[0].seq, 31);
	assert_int_equal(r.k.evs[0].len, 30);
	/* the hole fills: first data wins where they overlap, the new bytes fill the rest */
	feed(&r, 1, TCP_ACK, session, 20);
	memcpy(want, session, 40);
	memset(want + 40, 'X', 20);
	assert_delivered(&r, want, 60);
	/* an identical copy of queued bytes is not an evasion */
	rig_reset(&r);
	feed(&r, 0, TCP_SYN, NULL, 0);
	feed(&r, 21, TCP_ACK, session + 20, 20);
	feed(&r, 26, TCP_ACK, session + 25, 30);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_RETRANSMIT], 1);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_OVERLAP_DIFF], 0);
	/* a hole-filling segment overlapping queued bytes with different data: reported,
	 * the queued copy is what is delivered */
	memcpy(evil, session, 40);
	evil[22] ^= 0x20;
	feed(&r, 1, TCP_ACK, evil, 40);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_OVERLAP_DIFF], 1);
	assert_delivered(&r, session, 55);
	rig_teardown(&r);
}

static void
test_overlap_diff_delivered(void **state)
{
	(void)state;
	uint8_t evil[64];
	struct rig r;

	rig_setup(&r, 8, 65536, 0);
	feed(&r, 0, TCP_SYN, NULL, 0);
	feed(&r, 1, TCP_ACK, "RCPT TO:<victim@example.net>\r\n", 30);
	/* the classic insertion: the same segment again, other bytes */
	feed(&r, 1, TCP_ACK, "RCPT TO:<benign@example.net>\r\n", 30);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_OVERLAP_DIFF], 1);
	assert_int_equal(r.k.evs[0].seq, 1);
	assert_delivered(&r, "RCPT TO:<victim@example.net>\r\n", 30);
	/* a coalesced retransmission covering it plus new bytes: compared, and the new part
	 * is delivered */
	memcpy(evil, "RCPT TO:<victim@example.net>\r\nDATA\r\n", 36);
	evil[3] = 'X';
	feed(&r, 1, TCP_ACK, evil, 36);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_OVERLAP_DIFF], 2);
	assert_delivered(&r, "RCPT TO:<victim@example.net>\r\nDATA\r\n", 36);
	/* identical retransmission of the last run: no evasion */
	feed(&r, 31, TCP_ACK, "DATA\r\n", 6);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_OVERLAP_DIFF], 2);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_RETRANSMIT], 1);
	rig_teardown(&r);
}

/* ---- gaps ---- */

static void
test_lost_segment_then_ack(void **state)
{
	(void)state;
	uint32_t cut[11];
	uint32_t st = 77;
	uint32_t isn = UINT32_MAX - 200; /* the hole straddles the wrap */
	uint8_t want[SESSION_LEN];
	struct rig r;

	random_cuts(cut, 10, SESSION_LEN, 20, &st);
	rig_setup(&r, 8, 65536, 0);
	feed(&r, isn, TCP_SYN, NULL, 0);
	for (unsigned i = 0; i < 8; i++)
		if (i != 3)
			feed(&r, isn + 1 + cut[i], TCP_ACK, session + cut[i], cut[i + 1] - cut[i]);
	assert_delivered(&r, session, cut[3]);
	/* an ACK below the hole, and one before anything past it: nothing happens */
	ack(&r, isn + 1 + cut[2]);
	ack(&r, isn + 1 + cut[3]);
	assert_int_equal(r.k.n_gaps, 0);
	/* the receiver acknowledges past the hole: it got bytes the sensor never saw */
	ack(&r, isn + 1 + cut[6]);
	assert_int_equal(r.k.n_gaps, 1);
	assert_int_equal(r.k.gaps[0].at, cut[3]);
	assert_int_equal(r.k.gaps[0].seq, isn + 1 + cut[3]);
	assert_int_equal(r.k.gaps[0].len, cut[4] - cut[3]);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_GAP], 1);
	assert_int_equal(n_events_total(&r.k), 1);
	/* everything queued after the hole came out; delivery continues */
	for (unsigned i = 8; i < 10; i++)
		feed(&r, isn + 1 + cut[i], TCP_ACK, session + cut[i], cut[i + 1] - cut[i]);
	memcpy(want, session, cut[3]);
	memcpy(want + cut[3], session + cut[4], SESSION_LEN - cut[4]);
	assert_delivered(&r, want, SESSION_LEN - (cut[4] - cut[3]));
	assert_int_equal(tcp_stream_offset(&r.s), SESSION_LEN);
	assert_int_equal(tcp_reasm_pool_counters(r.pool)->n_gap_bytes, cut[4] - cut[3]);
	/* the lost bytes arriving late are behind next_seq: not delivered */
	feed(&r, isn + 1 + cut[3], TCP_ACK, session + cut[3], cut[4] - cut[3]);
	assert_int_equal(r.k.len, SESSION_LEN - (cut[4] - cut[3]));
	/* an ACK past everything the sender was seen sending is not a hole */
	ack(&r, isn + 1 + SESSION_LEN + 5000);
	assert_int_equal(r.k.n_gaps, 1);
	rig_teardown(&r);
}

static void
test_ack_of_lost_tail_and_fin(void **state)
{
	(void)state;
	struct rig r;

	rig_setup(&r, 8, 65536, 0);
	feed_str(&r, 0, TCP_SYN, "");
	feed_str(&r, 1, TCP_ACK, "DATA\r\n");
	/* "QUIT\r\n" at 7 lost, then the FIN at 13 */
	feed_str(&r, 13, TCP_ACK | TCP_FIN, "");
	assert_true(tcp_stream_fin_seen(&r.s));
	assert_false(tcp_stream_is_closed(&r.s));
	ack(&r, 14); /* acknowledges the FIN: the hole before it is lost */
	assert_int_equal(r.k.n_gaps, 1);
	assert_int_equal(r.k.gaps[0].len, 6);
	assert_true(tcp_stream_is_closed(&r.s));
	rig_teardown(&r);
}

static void
test_queue_limit(void **state)
{
	(void)state;
	static uint8_t src[20000];
	static uint8_t want[20000];
	uint32_t st = 5;
	struct rig r;

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)rnd(&st);
	/* a 4 KiB window: at most 4 chunks per stream */
	rig_setup(&r, 64, 4096, 0);
	feed(&r, 0, TCP_SYN, NULL, 0);
	/* one-sided capture (no ACKs): segment [1000, 2000) lost, the rest in order */
	for (uint32_t off = 0; off < sizeof(src); off += 1000) {
		if (off != 1000)
			feed(&r, 1 + off, TCP_ACK, src + off, 1000);
		assert_true(tcp_stream_n_chunks(&r.s, r.pool) <= 4096 / TCP_REASM_CHUNK_BYTES + 2);
	}
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_OOO_LIMIT], 1);
	assert_int_equal(r.k.n_gaps, 1);
	assert_int_equal(r.k.gaps[0].at, 1000);
	assert_int_equal(r.k.gaps[0].seq, 1001);
	assert_int_equal(r.k.gaps[0].len, 1000);
	memcpy(want, src, 1000);
	memcpy(want + 1000, src + 2000, sizeof(src) - 2000);
	assert_delivered(&r, want, sizeof(src) - 1000);
	/* max_queued_bytes 0: no queue, the old in-order behaviour */
	rig_reset(&r);
	r.lim.max_queued_bytes = 0;
	feed_str(&r, 99, TCP_SYN, "");
	feed_str(&r, 100, TCP_ACK, "abc");
	feed_str(&r, 110, TCP_ACK, "xyz");
	assert_delivered(&r, "abcxyz", 6);
	assert_int_equal(r.k.gaps[0].len, 7);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_OOO_LIMIT], 1);
	feed_str(&r, 103, TCP_ACK, "defghij");
	assert_delivered(&r, "abcxyz", 6);
	rig_teardown(&r);
}

static void
test_pool_exhaustion(void **state)
{
	(void)state;
	static uint8_t src[12000];
	uint32_t st = 11;
	struct rig r;
	struct tcp_stream other;
	struct sink ko = { 0 };
	const uint32_t C = TCP_REASM_CHUNK_BYTES;

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)rnd(&st);
	rig_setup(&r, 3, 65536, 0);
	/* another stream takes two of the three chunks */
	tcp_stream_init(&other);
	ko.s = &other;
	r.other = &other;
	tcp_stream_segment(&other, r.pool, &r.lim, 0, TCP_SYN, NULL, 0, &ops, &ko);
	tcp_stream_segment(&other, r.pool, &r.lim, C, TCP_ACK, src, 2 * C, &ops, &ko); /* 2 windows */
	assert_int_equal(tcp_stream_n_chunks(&other, r.pool), 2);
	assert_int_equal(tcp_reasm_pool_n_free(r.pool), 1);

	/* this stream: hole [0, 500), then data over three windows: one chunk is left */
	feed(&r, 0, TCP_SYN, NULL, 0);
	feed(&r, 1 + 500, TCP_ACK, src + 500, 2 * C);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_POOL_EXHAUSTED], 1);
	assert_int_equal(r.k.n_gaps, 1);
	assert_int_equal(r.k.gaps[0].len, 500);
	assert_delivered(&r, src + 500, 2 * C);
	assert_int_equal(tcp_reasm_pool_n_free(r.pool), 1);

	/* its own queue full: the pool gives out, its first hole goes, queued bytes follow */
	uint32_t base = 500 + 2 * C; /* stream offset delivered so far */

	feed(&r, 1 + base + 100, TCP_ACK, src + base + 100, 200);  /* one chunk, the last */
	assert_int_equal(tcp_reasm_pool_n_free(r.pool), 0);
	feed(&r, 1 + base + 3 * C, TCP_ACK, src + base + 3 * C, 100); /* needs another */
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_POOL_EXHAUSTED], 2);
	assert_int_equal(r.k.n_gaps, 2);
	assert_int_equal(r.k.gaps[1].len, 100);
	assert_int_equal(r.k.gaps[1].at, 2 * C);
	assert_int_equal(r.k.len, 2 * C + 200);
	assert_memory_equal(r.k.buf + 2 * C, src + base + 100, 200);
	assert_false(ko.broken);
	/* everything goes back */
	tcp_stream_flush(&other, r.pool, &r.lim, &ops, &ko);
	assert_int_equal(ko.n_ev[TCP_REASM_EV_FLUSH_GAP], 1);
	assert_int_equal(ko.len, 2 * C);
	flush(&r);
	assert_int_equal(tcp_reasm_pool_n_free(r.pool), 3);
	rig_teardown(&r);
}

static void
test_depth(void **state)
{
	(void)state;
	struct rig r;
	const uint32_t cut[6] = { 0, 25, 66, 233, 480, SESSION_LEN };
	const unsigned order[5] = { 0, 2, 1, 4, 3 };

	rig_setup(&r, 8, 65536, 100);
	feed_session_order(&r, 4242, cut, order, 5);
	assert_delivered(&r, session, 100);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_DEPTH], 1);
	assert_int_equal(n_events_total(&r.k), 1);
	assert_false(tcp_stream_has_queue(&r.s));
	/* more data after the cap: nothing, no second event */
	feed(&r, 4242 + 1 + 100, TCP_ACK, session + 100, 50);
	feed(&r, 4242 + 1 + 300, TCP_ACK, session + 300, 50);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_DEPTH], 1);
	assert_int_equal(r.k.len, 100);
	assert_true(tcp_stream_fin_seen(&r.s));
	/* a cap exactly at a segment end: the event comes with the first refused byte */
	rig_reset(&r);
	r.lim.max_stream_bytes = 25;
	feed(&r, 0, TCP_SYN, NULL, 0);
	feed(&r, 1, TCP_ACK, session, 25);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_DEPTH], 0);
	feed(&r, 26 + 10, TCP_ACK, session + 35, 10);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_DEPTH], 1);
	assert_delivered(&r, session, 25);
	/* skipped bytes count against the cap too: a hole crossing it is cut there */
	rig_reset(&r);
	r.lim.max_stream_bytes = 30;
	feed(&r, 0, TCP_SYN, NULL, 0);
	feed(&r, 1, TCP_ACK, session, 20);
	feed(&r, 41, TCP_ACK, session + 40, 20);
	ack(&r, 61);
	assert_int_equal(r.k.n_gaps, 1);
	assert_int_equal(r.k.gaps[0].len, 10);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_GAP], 1);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_DEPTH], 1);
	assert_int_equal(tcp_stream_offset(&r.s), 30);
	assert_false(tcp_stream_has_queue(&r.s));
	ack(&r, 61); /* nothing more after the cap */
	assert_int_equal(r.k.n_gaps, 1);
	assert_delivered(&r, session, 20);
	rig_teardown(&r);
}

static void
test_flush(void **state)
{
	(void)state;
	struct rig r;

	rig_setup(&r, 8, 65536, 0);
	feed_str(&r, 0, TCP_SYN, "");
	feed_str(&r, 1, TCP_ACK, "MAIL FROM:<a@b>\r\n");     /* 17 bytes */
	feed_str(&r, 30, TCP_ACK, "DATA\r\n");               /* hole [18, 30) */
	feed_str(&r, 40, TCP_ACK | TCP_FIN, "QUIT\r\n");     /* hole [36, 40), FIN at 46 */
	assert_delivered(&r, "MAIL FROM:<a@b>\r\n", 17);
	assert_true(tcp_stream_is_finished(&r.s));
	flush(&r);
	assert_delivered(&r, "MAIL FROM:<a@b>\r\nDATA\r\nQUIT\r\n", 29);
	assert_int_equal(r.k.n_gaps, 2);
	assert_int_equal(r.k.gaps[0].at, 17);
	assert_int_equal(r.k.gaps[0].len, 12);
	assert_int_equal(r.k.gaps[1].at, 23);
	assert_int_equal(r.k.gaps[1].len, 4);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_FLUSH_GAP], 2);
	assert_true(tcp_stream_is_closed(&r.s));
	/* a hole between the last byte and a FIN is reported too */
	rig_reset(&r);
	feed_str(&r, 0, TCP_SYN, "");
	feed_str(&r, 1, TCP_ACK, "abc");
	feed_str(&r, 10, TCP_FIN, "");
	flush(&r);
	assert_int_equal(r.k.n_gaps, 1);
	assert_int_equal(r.k.gaps[0].len, 6);
	/* release: chunks back, nothing delivered */
	rig_reset(&r);
	feed_str(&r, 0, TCP_SYN, "");
	feed_str(&r, 5000, TCP_ACK, "late");
	feed_str(&r, 9000, TCP_ACK, "later");
	assert_int_equal(tcp_stream_n_chunks(&r.s, r.pool), 2);
	tcp_stream_release(&r.s, r.pool);
	assert_int_equal(tcp_reasm_pool_n_free(r.pool), 8);
	assert_int_equal(r.k.len, 0);
	assert_int_equal(n_events_total(&r.k), 0);
	rig_teardown(&r);
}

/* ---- handshake, FIN, probes ---- */

static void
test_syn_handling(void **state)
{
	(void)state;
	struct rig r;

	rig_setup(&r, 8, 65536, 0);
	/* TFO: data on the SYN follows it */
	feed_str(&r, 500, TCP_SYN, "EHLO");
	feed_str(&r, 500, TCP_SYN, "");           /* retransmitted SYN */
	feed_str(&r, 505, TCP_ACK, " x\r\n");
	assert_delivered(&r, "EHLO x\r\n", 8);
	assert_int_equal(n_events_total(&r.k), 0);
	/* a SYN with another ISN once bytes were taken: reported, dropped with its data */
	feed_str(&r, 9999, TCP_SYN, "HELO");
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_SYN_MISMATCH], 1);
	assert_delivered(&r, "EHLO x\r\n", 8);
	/* before any byte, a new ISN is a retried connection: follow it */
	rig_reset(&r);
	feed_str(&r, 100, TCP_SYN, "");
	feed_str(&r, 7000, TCP_SYN, "");
	feed_str(&r, 7001, TCP_ACK, "HELO y\r\n");
	assert_delivered(&r, "HELO y\r\n", 8);
	assert_int_equal(n_events_total(&r.k), 0);
	/* bytes behind a first ISN are not taken; a new ISN before any byte replaces it
	 * (a regression seed of the fuzzer: those bytes must not count as received) */
	rig_reset(&r);
	feed_str(&r, 100000, TCP_SYN, "");
	feed_str(&r, 2, TCP_ACK, "stale");
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_RETRANSMIT], 1);
	feed_str(&r, 0, TCP_SYN, "");
	feed_str(&r, 1, TCP_ACK, "HELO z\r\n");
	assert_delivered(&r, "HELO z\r\n", 8);
	assert_int_equal(r.k.n_gaps, 0);
	/* SYN-ACK: same rule for the server direction */
	rig_reset(&r);
	feed_str(&r, 3000, TCP_SYN | TCP_ACK, "");
	feed_str(&r, 3001, TCP_ACK, "220 mx\r\n");
	assert_delivered(&r, "220 mx\r\n", 8);
	rig_teardown(&r);
}

static void
test_fin_handling(void **state)
{
	(void)state;
	struct rig r;

	rig_setup(&r, 8, 65536, 0);
	feed_str(&r, 0, TCP_SYN, "");
	/* FIN out of order: seen, not closed until the bytes before it are in */
	feed_str(&r, 7, TCP_ACK | TCP_FIN, "QUIT\r\n");
	assert_true(tcp_stream_fin_seen(&r.s));
	assert_false(tcp_stream_is_closed(&r.s));
	feed_str(&r, 1, TCP_ACK, "DATA\r\n");
	assert_delivered(&r, "DATA\r\nQUIT\r\n", 12);
	assert_true(tcp_stream_is_closed(&r.s));
	/* data past the FIN: reported, not delivered */
	feed_str(&r, 11, TCP_ACK, "\r\nRSET\r\n");
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_FIN_CONFLICT], 1);
	assert_delivered(&r, "DATA\r\nQUIT\r\n", 12);
	/* a second FIN elsewhere: reported, the first stands */
	feed_str(&r, 20, TCP_FIN, "");
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_FIN_CONFLICT], 2);
	/* the FIN retransmitted: fine */
	feed_str(&r, 13, TCP_ACK | TCP_FIN, "");
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_FIN_CONFLICT], 2);
	/* data wholly past the FIN */
	feed_str(&r, 15, TCP_ACK, "NOOP\r\n");
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_FIN_CONFLICT], 3);
	assert_delivered(&r, "DATA\r\nQUIT\r\n", 12);
	/* a first FIN placed before bytes already delivered cannot be true */
	rig_reset(&r);
	feed_str(&r, 0, TCP_SYN, "");
	feed_str(&r, 1, TCP_ACK, "HELO x\r\n");
	feed_str(&r, 4, TCP_FIN, "");
	assert_false(tcp_stream_fin_seen(&r.s));
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_FIN_CONFLICT], 1);
	/* a FIN from a stream never synced (mid-stream, the server said nothing) */
	rig_reset(&r);
	feed_str(&r, 777, TCP_ACK | TCP_FIN, "");
	assert_true(tcp_stream_is_finished(&r.s));
	assert_true(tcp_stream_is_closed(&r.s));
	rig_teardown(&r);
}

static void
test_probes_and_keepalives(void **state)
{
	(void)state;
	struct rig r;

	rig_setup(&r, 8, 65536, 0);
	feed_str(&r, 0, TCP_SYN, "");
	feed_str(&r, 1, TCP_ACK, "MAIL ");
	/* zero-window probe: the next byte alone, then the same byte again in a full
	 * segment once the window opens */
	feed_str(&r, 6, TCP_ACK, "F");
	feed_str(&r, 6, TCP_ACK, "F");
	feed_str(&r, 6, TCP_ACK, "FROM:<a@b>\r\n");
	assert_delivered(&r, "MAIL FROM:<a@b>\r\n", 17);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_OVERLAP_DIFF], 0);
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_RETRANSMIT], 1);
	/* keep-alives: 0 or 1 byte at next_seq - 1 */
	feed(&r, 17, TCP_ACK, "?", 1);
	feed(&r, 17, TCP_ACK, NULL, 0);
	assert_int_equal(tcp_reasm_pool_counters(r.pool)->n_keepalives, 3);
	assert_int_equal(n_events_total(&r.k), 1);
	/* garbage far ahead cannot make the stream skip */
	feed_str(&r, 18 + (1u << 30) + 5, TCP_ACK, "junk");
	assert_int_equal(r.k.n_ev[TCP_REASM_EV_OUT_OF_WINDOW], 1);
	assert_int_equal(r.k.n_gaps, 0);
	feed_str(&r, 18, TCP_ACK, "RCPT");
	assert_delivered(&r, "MAIL FROM:<a@b>\r\nRCPT", 21);
	rig_teardown(&r);
}

static void
test_pool_api(void **state)
{
	(void)state;
	struct tcp_reasm_counters sum = { 0 };
	struct tcp_reasm_pool *p;
	void *mem;
	size_t size = tcp_reasm_pool_size(4);

	assert_null(tcp_reasm_pool_create(0));
	assert_null(tcp_reasm_pool_create(TCP_REASM_MAX_CHUNKS + 1));
	assert_int_equal(tcp_reasm_pool_size(0), 0);
	assert_true(size > 4 * TCP_REASM_CHUNK_BYTES);
	mem = aligned_alloc(64, (size + 63) / 64 * 64);
	assert_non_null(mem);
	assert_null(tcp_reasm_pool_init(mem, size - 1, 4));
	assert_null(tcp_reasm_pool_init((uint8_t *)mem + 4, size, 4));
	p = tcp_reasm_pool_init(mem, size, 4);
	assert_ptr_equal(p, mem);
	assert_int_equal(tcp_reasm_pool_n_free(p), 4);
	tcp_reasm_pool_destroy(p); /* not ours to free: a no-op */
	tcp_reasm_counters_add(&sum, tcp_reasm_pool_counters(p));
	tcp_reasm_counters_add(&sum, tcp_reasm_pool_counters(p));
	assert_int_equal(sum.n_segments, 0);
	free(mem);
	tcp_reasm_pool_destroy(NULL);
	assert_string_equal(tcp_reasm_event_name(TCP_REASM_EV_OVERLAP_DIFF), "overlap_diff");
	assert_string_equal(tcp_reasm_event_name(TCP_REASM_EV__COUNT), "unknown");
	for (unsigned i = 0; i < TCP_REASM_EV__COUNT; i++)
		assert_string_not_equal(tcp_reasm_event_name(i), "unknown");
	/* the per-stream state stays small: two per flow, a million flows */
	assert_true(sizeof(struct tcp_stream) <= 40);
	/* NULL ops are allowed */
	struct rig r;

	rig_setup(&r, 2, 65536, 0);
	tcp_stream_segment(&r.s, r.pool, &r.lim, 0, TCP_SYN, NULL, 0, NULL, NULL);
	tcp_stream_segment(&r.s, r.pool, &r.lim, 10, TCP_ACK, (const uint8_t *)"x", 1, NULL,
			   NULL);
	tcp_stream_segment(&r.s, r.pool, &r.lim, 1, TCP_ACK, (const uint8_t *)"abc", 3, NULL,
			   NULL);
	tcp_stream_ack(&r.s, r.pool, &r.lim, 11, NULL, NULL);
	tcp_stream_flush(&r.s, r.pool, &r.lim, NULL, NULL);
	assert_int_equal(tcp_stream_offset(&r.s), 10);
	assert_int_equal(tcp_reasm_pool_counters(r.pool)->n_bytes, 4);
	rig_teardown(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_after_syn),
		cmocka_unit_test(test_retransmission_and_overlap),
		cmocka_unit_test(test_out_of_order_fills_hole),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_mid_stream_pickup),
		cmocka_unit_test(test_one_byte_segments),
		cmocka_unit_test(test_rst),
		cmocka_unit_test(test_all_orders_of_5),
		cmocka_unit_test(test_random_shuffles_with_duplicates),
		cmocka_unit_test(test_one_byte_segments_random_order),
		cmocka_unit_test(test_overlapping_identical_retransmissions),
		cmocka_unit_test(test_overlap_diff_queued),
		cmocka_unit_test(test_overlap_diff_delivered),
		cmocka_unit_test(test_lost_segment_then_ack),
		cmocka_unit_test(test_ack_of_lost_tail_and_fin),
		cmocka_unit_test(test_queue_limit),
		cmocka_unit_test(test_pool_exhaustion),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_flush),
		cmocka_unit_test(test_syn_handling),
		cmocka_unit_test(test_fin_handling),
		cmocka_unit_test(test_probes_and_keepalives),
		cmocka_unit_test(test_pool_api),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
