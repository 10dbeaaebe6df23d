/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for dataplane/tcp_reasm.c: in-order delivery, retransmissions, overlaps (first
 * data wins), gaps, sequence wrap-around, SYN/FIN accounting, mid-stream pickup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "tcp_reasm.h"

struct sink {
	char buf[4096];
	size_t len;
};

static enum tcp_seg_result
feed(struct tcp_stream *s, struct sink *k, uint32_t seq, uint8_t flags, const char *data)
{
	const uint8_t *out;
	uint32_t out_len;
	enum tcp_seg_result r = tcp_stream_segment(s, seq, flags, (const uint8_t *)data,
						   (uint32_t)strlen(data), &out, &out_len);

	if (out_len > 0)
		memcpy(k->buf + k->len, out, out_len);
	k->len += out_len;
	k->buf[k->len] = '\0';
	return r;
}

static void
test_in_order_after_syn(void **state)
{
	(void)state;
	struct tcp_stream s;
	struct sink k = { 0 };

	tcp_stream_init(&s);
	assert_int_equal(feed(&s, &k, 1000, TCP_SYN, ""), TCP_SEG_EMPTY);
	assert_int_equal(feed(&s, &k, 1001, TCP_ACK, "EHLO a\r\n"), TCP_SEG_DATA);
	assert_int_equal(feed(&s, &k, 1009, TCP_ACK, "QUIT\r\n"), TCP_SEG_DATA);
	assert_int_equal(feed(&s, &k, 1015, TCP_ACK | TCP_FIN, ""), TCP_SEG_EMPTY);
	assert_string_equal(k.buf, "EHLO a\r\nQUIT\r\n");
	assert_true(s.fin);
	assert_int_equal(s.n_bytes, 14);
}

static void
test_retransmission_and_overlap(void **state)
{
	(void)state;
	struct tcp_stream s;
	struct sink k = { 0 };

	tcp_stream_init(&s);
	feed(&s, &k, 0, TCP_SYN, "");
	feed(&s, &k, 1, TCP_ACK, "MAIL FROM:");
	/* exact retransmission */
	assert_int_equal(feed(&s, &k, 1, TCP_ACK, "MAIL FROM:"), TCP_SEG_DUPLICATE);
	/* re-segmented retransmission overlapping old and new bytes, with different old data:
	 * what was delivered first stands */
	assert_int_equal(feed(&s, &k, 6, TCP_ACK, "XXXXX<a@b>\r\n"), TCP_SEG_DATA);
	assert_string_equal(k.buf, "MAIL FROM:<a@b>\r\n");
	/* keep-alive: one byte below next_seq */
	assert_int_equal(feed(&s, &k, s.next_seq - 1, TCP_ACK, "\n"), TCP_SEG_DUPLICATE);
	assert_string_equal(k.buf, "MAIL FROM:<a@b>\r\n");
	assert_int_equal(s.n_retransmits, 3);
}

static void
test_gap_is_skipped_and_counted(void **state)
{
	(void)state;
	struct tcp_stream s;
	struct sink k = { 0 };

	tcp_stream_init(&s);
	feed(&s, &k, 99, TCP_SYN, "");
	feed(&s, &k, 100, TCP_ACK, "abc");
	assert_int_equal(feed(&s, &k, 110, TCP_ACK, "xyz"), TCP_SEG_GAP);
	assert_string_equal(k.buf, "abcxyz");
	assert_int_equal(s.n_gap_bytes, 7);
	/* the hole's bytes arriving late are behind next_seq: duplicates now */
	assert_int_equal(feed(&s, &k, 103, TCP_ACK, "defghij"), TCP_SEG_DUPLICATE);
}

static void
test_wrap_around(void **state)
{
	(void)state;
	struct tcp_stream s;
	struct sink k = { 0 };

	tcp_stream_init(&s);
	feed(&s, &k, UINT32_MAX - 4, TCP_SYN, "");
	/* next_seq = UINT32_MAX - 3; 8 bytes cross zero */
	assert_int_equal(feed(&s, &k, UINT32_MAX - 3, TCP_ACK, "01234567"), TCP_SEG_DATA);
	assert_int_equal(s.next_seq, 4);
	/* a retransmission straddling the wrap with new bytes after it */
	assert_int_equal(feed(&s, &k, UINT32_MAX - 1, TCP_ACK, "234567ab"), TCP_SEG_DATA);
	assert_string_equal(k.buf, "01234567ab");
	assert_true(tcp_seq_lt(UINT32_MAX, 1));
	assert_false(tcp_seq_lt(1, UINT32_MAX));
}

static void
test_mid_stream_pickup(void **state)
{
	(void)state;
	struct tcp_stream s;
	struct sink k = { 0 };

	tcp_stream_init(&s);
	assert_int_equal(feed(&s, &k, 5000, TCP_ACK, "RCPT TO:<x@y>\r\n"), TCP_SEG_DATA);
	assert_int_equal(feed(&s, &k, 5015, TCP_ACK, "DATA\r\n"), TCP_SEG_DATA);
	assert_string_equal(k.buf, "RCPT TO:<x@y>\r\nDATA\r\n");
}

static void
test_one_byte_segments(void **state)
{
	(void)state;
	static const char msg[] = "EHLO client.example\r\nMAIL FROM:<a@b>\r\n";
	struct tcp_stream s;
	struct sink k = { 0 };

	tcp_stream_init(&s);
	feed(&s, &k, 41, TCP_SYN, "");
	for (uint32_t i = 0; i < sizeof(msg) - 1; i++) {
		char one[2] = { msg[i], 0 };

		assert_int_equal(feed(&s, &k, 42 + i, TCP_ACK, one), TCP_SEG_DATA);
		/* every byte retransmitted once too */
		assert_int_equal(feed(&s, &k, 42 + i, TCP_ACK, one), TCP_SEG_DUPLICATE);
	}
	assert_string_equal(k.buf, msg);
}

static void
test_rst_marks_stream(void **state)
{
	(void)state;
	struct tcp_stream s;
	struct sink k = { 0 };

	tcp_stream_init(&s);
	feed(&s, &k, 1, TCP_SYN, "");
	assert_int_equal(feed(&s, &k, 2, TCP_RST, ""), TCP_SEG_EMPTY);
	assert_true(s.rst);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_after_syn),
		cmocka_unit_test(test_retransmission_and_overlap),
		cmocka_unit_test(test_gap_is_skipped_and_counted),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_mid_stream_pickup),
		cmocka_unit_test(test_one_byte_segments),
		cmocka_unit_test(test_rst_marks_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
