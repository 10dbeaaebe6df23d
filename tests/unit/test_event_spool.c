/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane's spool of records for posternd: order, acknowledgements, resending after a
 * lost connection, the byte bound with exact drop counts, and the outage tally.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "event_spool.h"

/* A record: its number in the first 8 bytes, then filler to len. */
static void
push_n(struct event_spool *sp, uint64_t num, size_t len, int expect)
{
	unsigned char rec[512] = { 0 };

	assert_true(len >= sizeof(num) && len <= sizeof(rec));
	memcpy(rec, &num, sizeof(num));
	memset(rec + sizeof(num), (int)(num & 0xff), len - sizeof(num));
	assert_int_equal(event_spool_push(sp, rec, len), expect);
}

/* Send the next unsent record with seq; returns its number. */
static uint64_t
send_next(struct event_spool *sp, uint32_t seq)
{
	size_t len = 0;
	unsigned char *rec = event_spool_next_unsent(sp, &len);
	uint64_t num;

	assert_non_null(rec);
	memcpy(&num, rec, sizeof(num));
	for (size_t i = sizeof(num); i < len; i++)
		assert_int_equal(rec[i], num & 0xff);
	event_spool_sent(sp, seq);
	return num;
}

static void
stats(const struct event_spool *sp, struct event_spool_stats *st)
{
	event_spool_get_stats(sp, st);
}

static void
test_order_and_ack(void **state)
{
	struct event_spool *sp = event_spool_create(1 << 20);
	struct event_spool_stats st;

	(void)state;
	assert_non_null(sp);
	assert_true(event_spool_empty(sp));
	assert_false(event_spool_busy(sp));
	for (uint64_t i = 0; i < 100; i++)
		push_n(sp, i, 16 + i, 0);
	assert_true(event_spool_busy(sp));
	for (uint64_t i = 0; i < 60; i++)
		assert_int_equal(send_next(sp, (uint32_t)(1000 + i)), i);
	stats(sp, &st);
	assert_int_equal(st.n_records, 100);
	assert_int_equal(st.n_unsent, 40);
	/* acknowledged up to seq 1029: records 0..29 freed */
	event_spool_ack(sp, 1029);
	stats(sp, &st);
	assert_int_equal(st.n_records, 70);
	/* an acknowledgement never frees what was not sent, whatever its number */
	event_spool_ack(sp, 5000);
	stats(sp, &st);
	assert_int_equal(st.n_records, 40);
	assert_int_equal(st.n_unsent, 40);
	for (uint64_t i = 60; i < 100; i++)
		assert_int_equal(send_next(sp, (uint32_t)(1000 + i)), i);
	assert_false(event_spool_busy(sp));
	assert_null(event_spool_next_unsent(sp, &(size_t){ 0 }));
	event_spool_ack(sp, 1099);
	assert_true(event_spool_empty(sp));
	stats(sp, &st);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.n_pushed, 100);
	assert_int_equal(st.n_dropped, 0);
	event_spool_destroy(sp);
}

/* Sequence numbers wrap: serial arithmetic, not <=. */
static void
test_ack_wraps(void **state)
{
	struct event_spool *sp = event_spool_create(1 << 20);
	struct event_spool_stats st;

	(void)state;
	for (uint64_t i = 0; i < 4; i++)
		push_n(sp, i, 8, 0);
	send_next(sp, UINT32_MAX - 1);
	send_next(sp, UINT32_MAX);
	send_next(sp, 0);
	send_next(sp, 1);
	event_spool_ack(sp, 0);
	stats(sp, &st);
	assert_int_equal(st.n_records, 1);
	event_spool_ack(sp, UINT32_MAX); /* an old acknowledgement changes nothing */
	stats(sp, &st);
	assert_int_equal(st.n_records, 1);
	event_spool_ack(sp, 1);
	assert_true(event_spool_empty(sp));
	event_spool_destroy(sp);
}

/*
 * The link goes down with records sent and not acknowledged: they go out again first, in
 * order, before those never sent. The outage counts each record that waited once, and ends
 * when what waited as the link came back has gone out.
 */
static void
test_resend_after_link_down(void **state)
{
	struct event_spool *sp = event_spool_create(1 << 20);
	struct event_spool_outage o;
	struct event_spool_stats st;

	(void)state;
	/* the dataplane starts with the link down, before posternd's first connection */
	event_spool_link_down(sp, 5);
	assert_int_equal(event_spool_end_outage(sp, &o), 0); /* still down */
	for (uint64_t i = 0; i < 10; i++)
		push_n(sp, i, 24, 0);
	event_spool_link_up(sp);
	assert_int_equal(event_spool_end_outage(sp, &o), 0); /* ten wait to go out */
	for (uint64_t i = 0; i < 6; i++)
		send_next(sp, (uint32_t)i);
	event_spool_ack(sp, 1); /* 0 and 1 handled; 2..5 sent, unacknowledged */
	assert_int_equal(event_spool_end_outage(sp, &o), 0);

	/* down again before the outage ended: the same outage goes on */
	event_spool_link_down(sp, 777);
	push_n(sp, 10, 24, 0);
	event_spool_link_up(sp);
	for (uint64_t want = 2; want <= 10; want++)
		assert_int_equal(send_next(sp, (uint32_t)(100 + want)), want);
	stats(sp, &st);
	assert_int_equal(st.n_resent, 4);
	assert_int_equal(st.n_sent, 11);
	assert_int_equal(event_spool_end_outage(sp, &o), 1);
	assert_int_equal(o.started_us, 5);
	assert_int_equal(o.n_kept, 11); /* each record once, resent or not */
	assert_int_equal(o.n_dropped, 0);
	assert_int_equal(event_spool_end_outage(sp, &o), 0); /* told once */

	/* a new outage counts the unacknowledged records it sends again, once more */
	event_spool_link_down(sp, 900);
	event_spool_link_up(sp);
	for (uint64_t want = 2; want <= 10; want++)
		assert_int_equal(send_next(sp, (uint32_t)(200 + want)), want);
	assert_int_equal(event_spool_end_outage(sp, &o), 1);
	assert_int_equal(o.started_us, 900);
	assert_int_equal(o.n_kept, 9);
	event_spool_ack(sp, 210);
	assert_true(event_spool_empty(sp));
	event_spool_destroy(sp);
}

/*
 * Under load records keep coming while the backlog goes out: they do not hold the outage
 * open, nor count in it. It ends once the backlog of its own is out.
 */
static void
test_outage_ends_under_load(void **state)
{
	struct event_spool *sp = event_spool_create(1 << 20);
	struct event_spool_outage o;

	(void)state;
	event_spool_link_down(sp, 1);
	for (uint64_t i = 0; i < 3; i++)
		push_n(sp, i, 16, 0);
	event_spool_link_up(sp);
	for (uint64_t i = 3; i < 8; i++)
		push_n(sp, i, 16, 0);
	for (uint64_t i = 0; i < 3; i++)
		send_next(sp, (uint32_t)i);
	assert_true(event_spool_busy(sp)); /* five more wait, newer than the outage */
	assert_int_equal(event_spool_end_outage(sp, &o), 1);
	assert_int_equal(o.n_kept, 3);
	event_spool_destroy(sp);
}

/* Giving up at the end: everything held is counted as dropped, in the open outage too. */
static void
test_abandon(void **state)
{
	struct event_spool *sp = event_spool_create(1 << 20);
	struct event_spool_outage o;
	struct event_spool_stats st;

	(void)state;
	for (uint64_t i = 0; i < 4; i++)
		push_n(sp, i, 16, 0);
	send_next(sp, 1);
	event_spool_link_down(sp, 7);
	push_n(sp, 4, 16, 0);
	assert_int_equal(event_spool_abandon(sp), 5);
	assert_true(event_spool_empty(sp));
	stats(sp, &st);
	assert_int_equal(st.n_dropped, 5);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.n_unsent, 0);
	event_spool_link_up(sp);
	assert_int_equal(event_spool_end_outage(sp, &o), 1);
	assert_int_equal(o.n_dropped, 5);
	/* the spool works on after it */
	push_n(sp, 9, 16, 0);
	assert_int_equal(send_next(sp, 3), 9);
	event_spool_destroy(sp);
}

/* The bound counts bytes and the per-record overhead; what passes it is dropped, counted. */
static void
test_bound(void **state)
{
	const size_t len = 100;
	const uint64_t per = len + EVENT_SPOOL_OVERHEAD;
	struct event_spool *sp = event_spool_create(per * 10);
	struct event_spool_outage o;
	struct event_spool_stats st;

	(void)state;
	event_spool_link_down(sp, 1);
	for (uint64_t i = 0; i < 10; i++)
		push_n(sp, i, len, 0);
	assert_false(event_spool_has_room(sp, len));
	assert_true(event_spool_has_room(sp, 0) == false);
	for (uint64_t i = 10; i < 25; i++)
		push_n(sp, i, len, -ENOSPC);
	stats(sp, &st);
	assert_int_equal(st.n_records, 10);
	assert_int_equal(st.bytes, per * 10);
	assert_int_equal(st.bytes_peak, per * 10);
	assert_int_equal(st.n_dropped, 15);
	/* room comes back as records are acknowledged, not when they are sent */
	send_next(sp, 1);
	assert_false(event_spool_has_room(sp, len));
	event_spool_ack(sp, 1);
	assert_true(event_spool_has_room(sp, len));
	push_n(sp, 99, len, 0);
	event_spool_link_up(sp);
	while (event_spool_busy(sp))
		send_next(sp, 2);
	assert_int_equal(event_spool_end_outage(sp, &o), 1);
	assert_int_equal(o.n_kept, 11);
	assert_int_equal(o.n_dropped, 15);
	assert_int_equal(o.bytes_dropped, 15 * len);
	/* a record bigger than the whole bound never fits */
	struct event_spool *tiny = event_spool_create(64);
	push_n(tiny, 1, 64, -ENOSPC);
	push_n(tiny, 2, 64 - EVENT_SPOOL_OVERHEAD, 0);
	event_spool_destroy(tiny);
	event_spool_destroy(sp);
}

/* Drops outside an outage are counted in the totals only. */
static void
test_drop_counts_outside_outage(void **state)
{
	struct event_spool *sp = event_spool_create(EVENT_SPOOL_OVERHEAD + 8);
	struct event_spool_outage o;
	struct event_spool_stats st;

	(void)state;
	push_n(sp, 1, 8, 0);
	push_n(sp, 2, 8, -ENOSPC);
	stats(sp, &st);
	assert_int_equal(st.n_dropped, 1);
	send_next(sp, 7);
	assert_int_equal(event_spool_end_outage(sp, &o), 0);
	event_spool_destroy(sp); /* frees what is still held */
	event_spool_destroy(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_ack),
		cmocka_unit_test(test_ack_wraps),
		cmocka_unit_test(test_resend_after_link_down),
		cmocka_unit_test(test_outage_ends_under_load),
		cmocka_unit_test(test_abandon),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_drop_counts_outside_outage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
