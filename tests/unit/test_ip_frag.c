/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for dataplane/ip_frag.c: a TCP segment carrying an SMTP command, cut into three
 * IPv4 or IPv6 fragments, reassembled in every order and compared byte for byte with the
 * unfragmented packet; duplicates, overlaps (same and different data: first wins), timeouts,
 * a full table, a full byte pool, too many disjoint ranges (holes), 9000-byte datagrams in
 * 8-byte fragments in reverse and random order, oversize and malformed fragments. Each
 * test also checks that the table's memory accounting returns to zero.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "ip_frag.h"

#define CMD "MAIL FROM:<alice@example.com> SIZE=1024\r\n"
#define CMD_LEN (sizeof(CMD) - 1)
#define SEG_LEN (20 + CMD_LEN) /* 61 bytes: fragments [0,24) [24,48) [48,61) */

static const uint32_t cuts[4] = { 0, 24, 48, SEG_LEN };
static const uint8_t v6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t v6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The TCP segment (checksum right for `version`'s pseudo-header). */
static void
build_segment(uint8_t *seg, int version)
{
	uint8_t pseudo[40] = { 0 };
	size_t n;

	memset(seg, 0, 20);
	put16(seg, 40001);
	put16(seg + 2, 25);
	seg[7] = 1;
	seg[12] = 5 << 4;
	seg[13] = TCP_ACK | TCP_PSH;
	put16(seg + 14, 512);
	memcpy(seg + 20, CMD, CMD_LEN);
	if (version == 4) {
		memcpy(pseudo, (const uint8_t[]){ 10, 0, 0, 1, 10, 0, 0, 2, 0, 6 }, 10);
		put16(pseudo + 10, SEG_LEN);
		n = 12;
	} else {
		memcpy(pseudo, v6_src, 16);
		memcpy(pseudo + 16, v6_dst, 16);
		put16(pseudo + 34, SEG_LEN);
		pseudo[39] = 6;
		n = 40;
	}
	put16(seg + 16, decode_csum_fold(decode_csum_add(decode_csum_add(0, pseudo, n), seg,
							  SEG_LEN)));
}

/*
 * Ethernet + IP carrying bytes [off, off + len) of `data` as one fragment of datagram `id`
 * (IPv6: with a hop-by-hop header before the fragment header). With `whole`, the
 * unfragmented packet instead. Returns the frame length.
 */
static size_t
build_frame(uint8_t *f, int version, uint32_t id, const uint8_t *data, uint32_t off,
	    uint32_t len, bool more, bool whole)
{
	uint8_t *ip = f + 14;

	memset(f, 0, 14);
	if (version == 4) {
		f[12] = 0x08;
		memset(ip, 0, 20);
		ip[0] = 0x45;
		put16(ip + 2, 20 + len);
		put16(ip + 4, id);
		put16(ip + 6, whole ? 0x4000 : (more ? 0x2000 : 0) | off / 8);
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, (const uint8_t[]){ 10, 0, 0, 1, 10, 0, 0, 2 }, 8);
		put16(ip + 10, decode_csum_fold(decode_csum_add(0, ip, 20)));
		memcpy(ip + 20, data + off, len);
		return 14 + 20 + len;
	}
	f[12] = 0x86;
	f[13] = 0xdd;
	memset(ip, 0, 56);
	ip[0] = 0x60;
	ip[6] = 0; /* hop-by-hop */
	ip[7] = 64;
	memcpy(ip + 8, v6_src, 16);
	memcpy(ip + 24, v6_dst, 16);
	ip[42] = 1; /* PadN, 4 bytes */
	ip[43] = 4;
	if (whole) {
		ip[40] = 6;
		put16(ip + 4, 8 + len);
		memcpy(ip + 48, data + off, len);
		return 14 + 48 + len;
	}
	ip[40] = 44;
	ip[48] = 6;
	put16(ip + 50, off | (more ? 1 : 0));
	ip[52] = (uint8_t)(id >> 24);
	ip[53] = (uint8_t)(id >> 16);
	ip[54] = (uint8_t)(id >> 8);
	ip[55] = (uint8_t)id;
	put16(ip + 4, 16 + len);
	memcpy(ip + 56, data + off, len);
	return 14 + 56 + len;
}

struct add_result {
	enum ip_frag_result r;
	uint32_t events;
	const uint8_t *out;
	size_t out_len;
};

static struct add_result
add_frag(struct ip_frag_table *t, int version, uint32_t id, const uint8_t *data, uint32_t off,
	 uint32_t len, bool more, uint64_t now_us)
{
	static uint8_t f[70000];
	struct pkt_info p;
	struct add_result a;
	size_t flen = build_frame(f, version, id, data, off, len, more, false);

	assert_int_equal(decode_packet(f, flen, &p), DECODE_FRAGMENT);
	a.r = ip_frag_add(t, f, flen, &p, now_us, &a.out, &a.out_len, &a.events);
	if (a.r != IP_FRAG_COMPLETE) {
		assert_null(a.out);
		assert_int_equal(a.out_len, 0);
	}
	return a;
}

/* Fragment i (0..2) of the standard cut. */
static struct add_result
add_piece(struct ip_frag_table *t, int version, uint32_t id, const uint8_t *seg, int i,
	  uint64_t now_us)
{
	return add_frag(t, version, id, seg, cuts[i], cuts[i + 1] - cuts[i], i < 2, now_us);
}

/* The reassembled packet is the unfragmented one, and decodes to the command. */
static void
check_complete(const struct add_result *a, int version, const uint8_t *seg)
{
	uint8_t whole[256];
	size_t wlen = build_frame(whole, version, 0, seg, 0, SEG_LEN, false, true);
	struct pkt_info p;

	assert_int_equal(a->r, IP_FRAG_COMPLETE);
	assert_non_null(a->out);
	assert_int_equal(a->out_len, wlen - 14);
	if (version == 4) {
		/* the id survives; whole[] has id 0 and DF: compare the rest */
		assert_memory_equal(a->out, whole + 14, 4);
		assert_memory_equal(a->out + 8, whole + 14 + 8, 2);
		assert_memory_equal(a->out + 12, whole + 14 + 12, wlen - 14 - 12);
	} else {
		assert_memory_equal(a->out, whole + 14, wlen - 14);
	}
	assert_int_equal(decode_ip(a->out, a->out_len, &p), DECODE_OK);
	assert_false(p.bad_ip_csum);
	assert_int_equal(p.dport, 25);
	assert_int_equal(p.payload_len, CMD_LEN);
	assert_memory_equal(p.payload, CMD, CMD_LEN);
	assert_true(decode_tcp_csum_ok(a->out, a->out_len, &p));
}

static void
check_empty(const struct ip_frag_table *t)
{
	struct ip_frag_stats s;

	ip_frag_table_stats(t, &s);
	assert_int_equal(s.bytes_in_use, 0);
	assert_int_equal(s.datagrams_in_use, 0);
}

static uint64_t
n_event(const struct ip_frag_table *t, enum ip_frag_event e)
{
	struct ip_frag_stats s;

	ip_frag_table_stats(t, &s);
	return s.n_events[e];
}

static void
all_orders(int version)
{
	static const int perms[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	uint8_t seg[SEG_LEN];
	struct ip_frag_table *t = ip_frag_table_create(16, 64 * 1024);
	struct ip_frag_stats s;

	assert_non_null(t);
	build_segment(seg, version);
	for (int k = 0; k < 6; k++) {
		struct add_result a;

		for (int j = 0; j < 2; j++) {
			a = add_piece(t, version, 100 + (uint32_t)k, seg, perms[k][j], 1000);
			assert_int_equal(a.r, IP_FRAG_HELD);
			assert_int_equal(a.events, 0);
		}
		a = add_piece(t, version, 100 + (uint32_t)k, seg, perms[k][2], 1000);
		check_complete(&a, version, seg);
		assert_int_equal(a.events, 0);
		check_empty(t);
	}
	ip_frag_table_stats(t, &s);
	assert_int_equal(s.n_completed, 6);
	assert_int_equal(s.n_fragments, 18);
	ip_frag_table_destroy(t);
}

static void
test_v4_every_order(void **state)
{
	(void)state;
	all_orders(4);
}

static void
test_v6_every_order(void **state)
{
	(void)state;
	all_orders(6);
}

static void
test_duplicates(void **state)
{
	(void)state;
	for (int version = 4; version <= 6; version += 2) {
		uint8_t seg[SEG_LEN];
		struct ip_frag_table *t = ip_frag_table_create(4, 4096);
		struct add_result a;

		build_segment(seg, version);
		assert_int_equal(add_piece(t, version, 7, seg, 2, 0).r, IP_FRAG_HELD);
		a = add_piece(t, version, 7, seg, 2, 0); /* the last one twice: same end */
		assert_int_equal(a.r, IP_FRAG_HELD);
		assert_int_equal(a.events, 1u << IP_FRAG_EV_DUPLICATE);
		assert_int_equal(add_piece(t, version, 7, seg, 0, 0).r, IP_FRAG_HELD);
		a = add_piece(t, version, 7, seg, 0, 0);
		assert_int_equal(a.events, 1u << IP_FRAG_EV_DUPLICATE);
		a = add_piece(t, version, 7, seg, 1, 0);
		check_complete(&a, version, seg);
		assert_int_equal(a.events, 1u << IP_FRAG_EV_DUPLICATE); /* remembered */
		assert_int_equal(n_event(t, IP_FRAG_EV_DUPLICATE), 2);
		check_empty(t);
		ip_frag_table_destroy(t);
	}
}

static void
test_overlap_same_data(void **state)
{
	(void)state;
	for (int version = 4; version <= 6; version += 2) {
		uint8_t seg[SEG_LEN];
		struct ip_frag_table *t = ip_frag_table_create(4, 4096);
		struct add_result a;

		build_segment(seg, version);
		assert_int_equal(add_frag(t, version, 9, seg, 0, 24, true, 0).r, IP_FRAG_HELD);
		a = add_frag(t, version, 9, seg, 16, 32, true, 0); /* [16,48) */
		assert_int_equal(a.r, IP_FRAG_HELD);
		assert_int_equal(a.events, 1u << IP_FRAG_EV_OVERLAP_SAME);
		a = add_frag(t, version, 9, seg, 40, SEG_LEN - 40, false, 0);
		check_complete(&a, version, seg);
		assert_int_equal(a.events, 1u << IP_FRAG_EV_OVERLAP_SAME);
		check_empty(t);
		ip_frag_table_destroy(t);
	}
}

/*
 * [0,24) [24,48) held, then an "evil" [40,56) whose first 8 bytes differ: the bytes held win.
 * Sent first, the evil fragment's bytes win instead: first wins either way, and both raise
 * IP_FRAG_EV_OVERLAP_DIFF, also on the completing call.
 */
static void
test_overlap_different_data(void **state)
{
	(void)state;
	for (int version = 4; version <= 6; version += 2) {
		uint8_t seg[SEG_LEN], evil[SEG_LEN], evil_seg[SEG_LEN];
		struct ip_frag_table *t = ip_frag_table_create(4, 4096);
		struct add_result a;
		struct pkt_info p;

		build_segment(seg, version);
		memcpy(evil, seg, SEG_LEN);
		memcpy(evil + 40, "XXXXXXXX", 8);
		memcpy(evil_seg, evil, SEG_LEN);

		assert_int_equal(add_piece(t, version, 1, seg, 0, 0).r, IP_FRAG_HELD);
		assert_int_equal(add_piece(t, version, 1, seg, 1, 0).r, IP_FRAG_HELD);
		a = add_frag(t, version, 1, evil, 40, 16, true, 0);
		assert_int_equal(a.r, IP_FRAG_HELD);
		assert_int_equal(a.events, 1u << IP_FRAG_EV_OVERLAP_DIFF);
		a = add_piece(t, version, 1, seg, 2, 0); /* [48,56) again, same as evil's */
		check_complete(&a, version, seg);
		assert_true(a.events & (1u << IP_FRAG_EV_OVERLAP_DIFF));
		assert_true(a.events & (1u << IP_FRAG_EV_OVERLAP_SAME));
		check_empty(t);

		a = add_frag(t, version, 2, evil, 40, 16, true, 0);
		assert_int_equal(a.r, IP_FRAG_HELD);
		assert_int_equal(a.events, 0);
		assert_int_equal(add_piece(t, version, 2, seg, 0, 0).r, IP_FRAG_HELD);
		a = add_piece(t, version, 2, seg, 1, 0);
		assert_int_equal(a.events, 1u << IP_FRAG_EV_OVERLAP_DIFF);
		a = add_piece(t, version, 2, seg, 2, 0);
		assert_int_equal(a.r, IP_FRAG_COMPLETE);
		assert_true(a.events & (1u << IP_FRAG_EV_OVERLAP_DIFF));
		assert_int_equal(decode_ip(a.out, a.out_len, &p), DECODE_OK);
		assert_memory_equal(p.payload, evil_seg + 20, CMD_LEN);
		assert_false(decode_tcp_csum_ok(a.out, a.out_len, &p));
		assert_int_equal(n_event(t, IP_FRAG_EV_OVERLAP_DIFF), 2);
		check_empty(t);
		ip_frag_table_destroy(t);
	}
}

static void
test_missing_fragment_times_out(void **state)
{
	(void)state;
	uint8_t seg[SEG_LEN];
	struct ip_frag_table *t = ip_frag_table_create(4, 4096);
	struct ip_frag_stats s;
	const uint64_t to = 1000000;

	assert_int_equal(ip_frag_table_set_limits(t, to, 8), 0);
	build_segment(seg, 4);
	assert_int_equal(add_piece(t, 4, 5, seg, 0, 10).r, IP_FRAG_HELD);
	assert_int_equal(add_piece(t, 4, 5, seg, 2, 20).r, IP_FRAG_HELD);
	ip_frag_table_stats(t, &s);
	assert_int_equal(s.datagrams_in_use, 1);
	assert_int_equal(s.bytes_in_use, IP_FRAG_CHUNK); /* [0,24) and [48,61): both in chunk 0 */
	assert_int_equal(ip_frag_sweep(t, 10 + to - 1, 8), 0);
	assert_int_equal(ip_frag_sweep(t, 10 + to, 8), 1);
	assert_int_equal(n_event(t, IP_FRAG_EV_TIMEOUT), 1);
	check_empty(t);
	/* the missing one, late: a new datagram that cannot complete */
	assert_int_equal(add_piece(t, 4, 5, seg, 1, 20 + to).r, IP_FRAG_HELD);
	assert_int_equal(ip_frag_sweep(t, UINT64_MAX, 100), 1);
	check_empty(t);

	/* expiry found on access, without a sweep */
	assert_int_equal(add_piece(t, 6, 6, seg, 0, 0).r, IP_FRAG_HELD);
	assert_int_equal(add_piece(t, 6, 6, seg, 1, 0).r, IP_FRAG_HELD);
	assert_int_equal(add_piece(t, 6, 6, seg, 2, to + 1).r, IP_FRAG_HELD);
	assert_int_equal(n_event(t, IP_FRAG_EV_TIMEOUT), 3);
	ip_frag_table_stats(t, &s);
	assert_int_equal(s.datagrams_in_use, 1);
	assert_int_equal(s.bytes_in_use, IP_FRAG_CHUNK);
	ip_frag_table_destroy(t);
}

static void
test_table_full_evicts_oldest(void **state)
{
	(void)state;
	uint8_t seg[SEG_LEN];
	struct ip_frag_table *t = ip_frag_table_create(2, 64 * 1024);
	struct add_result a;

	build_segment(seg, 4);
	assert_int_equal(add_piece(t, 4, 1, seg, 0, 1).r, IP_FRAG_HELD);
	assert_int_equal(add_piece(t, 4, 2, seg, 0, 2).r, IP_FRAG_HELD);
	a = add_piece(t, 4, 3, seg, 0, 3); /* datagram 1 is evicted */
	assert_int_equal(a.r, IP_FRAG_HELD);
	assert_int_equal(a.events, 0); /* another datagram's loss: counted, not ours */
	assert_int_equal(n_event(t, IP_FRAG_EV_TABLE_FULL), 1);
	for (uint32_t id = 2; id <= 3; id++) {
		assert_int_equal(add_piece(t, 4, id, seg, 1, 4).r, IP_FRAG_HELD);
		a = add_piece(t, 4, id, seg, 2, 4);
		check_complete(&a, 4, seg);
	}
	a = add_piece(t, 4, 1, seg, 1, 5); /* starts over: the first part is gone */
	assert_int_equal(a.r, IP_FRAG_HELD);
	assert_int_equal(add_piece(t, 4, 1, seg, 2, 5).r, IP_FRAG_HELD);
	assert_int_equal(ip_frag_sweep(t, UINT64_MAX, 10), 1);
	check_empty(t);
	ip_frag_table_destroy(t);
}

static void
test_byte_pool_full(void **state)
{
	(void)state;
	uint8_t seg[SEG_LEN], big[1024];
	struct ip_frag_table *t = ip_frag_table_create(8, 2 * IP_FRAG_CHUNK);
	struct add_result a;

	build_segment(seg, 4);
	memset(big, 'A', sizeof(big));
	assert_int_equal(add_piece(t, 4, 1, seg, 0, 1).r, IP_FRAG_HELD);
	assert_int_equal(add_piece(t, 4, 2, seg, 0, 2).r, IP_FRAG_HELD);
	a = add_piece(t, 4, 3, seg, 0, 3); /* no chunk left: datagram 1 goes */
	assert_int_equal(a.r, IP_FRAG_HELD);
	assert_int_equal(n_event(t, IP_FRAG_EV_MEM_FULL), 1);
	/* more than the whole pool: everything else is evicted, then this one dropped too */
	a = add_frag(t, 4, 4, big, 0, 3 * IP_FRAG_CHUNK, true, 4);
	assert_int_equal(a.r, IP_FRAG_DROPPED);
	assert_int_equal(a.events, 1u << IP_FRAG_EV_MEM_FULL);
	assert_int_equal(n_event(t, IP_FRAG_EV_MEM_FULL), 4);
	check_empty(t);
	ip_frag_table_destroy(t);
}

static void
test_too_many_fragments(void **state)
{
	(void)state;
	uint8_t data[256];
	struct ip_frag_table *t = ip_frag_table_create(4, 64 * 1024);
	struct add_result a;

	memset(data, 'z', sizeof(data));
	assert_int_equal(ip_frag_table_set_limits(t, 1000000, 4), 0);
	for (uint32_t i = 0; i < 4; i++) /* 8 bytes every 16: four disjoint ranges */
		assert_int_equal(add_frag(t, 4, 77, data, i * 16, 8, true, 0).r, IP_FRAG_HELD);
	/* a duplicate adds no range, nor does one that touches a held range */
	assert_int_equal(add_frag(t, 4, 77, data, 16, 8, true, 0).r, IP_FRAG_HELD);
	a = add_frag(t, 4, 77, data, 56, 8, true, 0); /* [48,56) + [56,64) */
	assert_int_equal(a.r, IP_FRAG_HELD);
	assert_int_equal(a.events, 0);
	a = add_frag(t, 4, 77, data, 72, 8, true, 0); /* a fifth hole-separated range */
	assert_int_equal(a.r, IP_FRAG_DROPPED);
	assert_int_equal(a.events, 1u << IP_FRAG_EV_TOO_MANY);
	check_empty(t);
	/* a fragment bridging held ranges merges them: [16,64) is one range */
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(add_frag(t, 6, 78, data, 16 + i * 16, 8, true, 0).r, IP_FRAG_HELD);
	a = add_frag(t, 6, 78, data, 16, 48, true, 0); /* fills [24,32) [40,48) [56,64) */
	assert_int_equal(a.r, IP_FRAG_HELD);
	assert_int_equal(a.events, 1u << IP_FRAG_EV_OVERLAP_SAME);
	for (uint32_t i = 0; i < 3; i++) /* [80,88) [96,104) [112,120): four ranges */
		assert_int_equal(add_frag(t, 6, 78, data, 80 + i * 16, 8, true, 0).r, IP_FRAG_HELD);
	a = add_frag(t, 6, 78, data, 128, 8, true, 0); /* a fifth: [128,136) */
	assert_int_equal(a.r, IP_FRAG_DROPPED);
	assert_true(a.events & (1u << IP_FRAG_EV_TOO_MANY));
	check_empty(t);
	/* every other 8-byte fragment of a 9000-byte datagram: 563 holes, past the cap */
	static uint8_t jumbo[9000];

	memset(jumbo, 'j', sizeof(jumbo));
	assert_int_equal(ip_frag_table_set_limits(t, 1000000, IP_FRAG_MAX_FRAGS_CAP), 0);
	a.r = IP_FRAG_HELD;
	for (uint32_t off = 0; off < sizeof(jumbo) && a.r == IP_FRAG_HELD; off += 16)
		a = add_frag(t, 4, 79, jumbo, off, 8, true, 0);
	assert_int_equal(a.r, IP_FRAG_DROPPED);
	assert_int_equal(a.events, 1u << IP_FRAG_EV_TOO_MANY);
	assert_int_equal(n_event(t, IP_FRAG_EV_TOO_MANY), 3);
	check_empty(t);
	assert_int_equal(ip_frag_table_set_limits(t, 1, 0), -EINVAL);
	assert_int_equal(ip_frag_table_set_limits(t, 1, IP_FRAG_MAX_FRAGS_CAP + 1), -EINVAL);
	assert_int_equal(ip_frag_table_set_limits(t, 0, 4), -EINVAL);
	ip_frag_table_destroy(t);
}

static void
test_beyond_65535_rejected(void **state)
{
	(void)state;
	static uint8_t data[65536 + 64];
	struct ip_frag_table *t = ip_frag_table_create(4, 256 * 1024);
	struct add_result a;

	memset(data, 'q', sizeof(data));
	for (int version = 4; version <= 6; version += 2) {
		/* a held start, then a last fragment at offset 65528 with 16 bytes */
		assert_int_equal(add_frag(t, version, 3, data, 0, 1024, true, 0).r, IP_FRAG_HELD);
		a = add_frag(t, version, 3, data, 65528, 16, false, 0);
		assert_int_equal(a.r, IP_FRAG_DROPPED);
		assert_int_equal(a.events, 1u << IP_FRAG_EV_BAD_LENGTH);
		check_empty(t); /* the datagram it belonged to is gone too */
	}
	/* IPv4: the total length counts the 20-byte header */
	a = add_frag(t, 4, 4, data, 65504, 8, false, 0); /* 20 + 65512: fits */
	assert_int_equal(a.r, IP_FRAG_HELD);
	a = add_frag(t, 4, 5, data, 65504, 16, false, 0); /* 20 + 65520: does not */
	assert_int_equal(a.r, IP_FRAG_DROPPED);
	/* IPv6: the payload length counts the 8-byte hop-by-hop header, checked on completion */
	a = add_frag(t, 6, 6, data, 65520, 15, false, 0);
	assert_int_equal(a.r, IP_FRAG_HELD);
	for (uint32_t off = 0; off < 65520 && a.r == IP_FRAG_HELD; off += 1456)
		a = add_frag(t, 6, 6, data, off, off + 1456 <= 65520 ? 1456 : 65520 - off, true, 0);
	assert_int_equal(a.r, IP_FRAG_DROPPED);
	assert_true(a.events & (1u << IP_FRAG_EV_BAD_LENGTH));
	assert_int_equal(n_event(t, IP_FRAG_EV_BAD_LENGTH), 4);
	ip_frag_sweep(t, UINT64_MAX, 100);
	check_empty(t);
	ip_frag_table_destroy(t);
}

/* The evasion tools' favourite: a full-size segment in 8-byte fragments, last first. With the
 * default limit every piece is held and the datagram comes out whole. */
static void
test_tiny_fragments_of_a_full_segment(void **state)
{
	(void)state;
	uint8_t data[1480];
	struct ip_frag_table *t = ip_frag_table_create(4, 128 * 1024);
	struct add_result a = { 0 };

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13);
	for (uint32_t off = sizeof(data); off > 0; off -= 8) {
		assert_int_not_equal(a.r, IP_FRAG_COMPLETE);
		a = add_frag(t, 4, 31, data, off - 8, 8, off < sizeof(data), 0);
		assert_int_not_equal(a.r, IP_FRAG_DROPPED);
	}
	assert_int_equal(a.r, IP_FRAG_COMPLETE);
	assert_int_equal(a.out_len, 20 + sizeof(data));
	assert_memory_equal(a.out + 20, data, sizeof(data));
	check_empty(t);
	ip_frag_table_destroy(t);
}

/* A 9000-byte datagram (jumbo, or GRO'd and re-fragmented) in 1125 8-byte fragments. */
#define JUMBO_LEN 9000u
#define JUMBO_FRAGS (JUMBO_LEN / 8)

static void
jumbo_in_order(const uint32_t *order)
{
	static uint8_t data[JUMBO_LEN];
	struct ip_frag_table *t = ip_frag_table_create(4, 64 * 1024);
	struct add_result a = { 0 };

	assert_non_null(t);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31 + i / 256);
	for (uint32_t i = 0; i < JUMBO_FRAGS; i++) {
		uint32_t off = order[i] * 8;

		assert_int_equal(a.r, IP_FRAG_HELD);
		a = add_frag(t, 4, 4242, data, off, 8, off + 8 < JUMBO_LEN, 0);
		assert_int_not_equal(a.r, IP_FRAG_DROPPED);
		/* IPv4 keeps an 8-byte first fragment (as Linux does) but flags it */
		assert_int_equal(a.events & ~(1u << IP_FRAG_EV_TINY_FIRST), 0);
	}
	assert_int_equal(a.events, 1u << IP_FRAG_EV_TINY_FIRST);
	assert_int_equal(a.r, IP_FRAG_COMPLETE);
	assert_int_equal(a.out_len, 20 + JUMBO_LEN);
	assert_int_equal(a.out[2] << 8 | a.out[3], 20 + JUMBO_LEN);
	assert_int_equal(a.out[6] & 0x3f, 0);
	assert_int_equal(a.out[7], 0);
	assert_int_equal(decode_csum_fold(decode_csum_add(0, a.out, 20)), 0);
	assert_memory_equal(a.out + 20, data, JUMBO_LEN);
	check_empty(t);
	ip_frag_table_destroy(t);
}

static void
test_jumbo_tiny_fragments_reversed(void **state)
{
	(void)state;
	static uint32_t order[JUMBO_FRAGS];

	for (uint32_t i = 0; i < JUMBO_FRAGS; i++)
		order[i] = JUMBO_FRAGS - 1 - i;
	jumbo_in_order(order);
}

static void
test_jumbo_tiny_fragments_random(void **state)
{
	(void)state;
	static uint32_t order[JUMBO_FRAGS];
	uint32_t x = 20240601; /* fixed seed: the same order every run */

	for (uint32_t i = 0; i < JUMBO_FRAGS; i++)
		order[i] = i;
	for (uint32_t i = JUMBO_FRAGS - 1; i > 0; i--) {
		x ^= x << 13; /* xorshift32 */
		x ^= x >> 17;
		x ^= x << 5;

		uint32_t j = x % (i + 1), tmp = order[i];

		order[i] = order[j];
		order[j] = tmp;
	}
	jumbo_in_order(order);
}

static void
test_largest_datagram(void **state)
{
	(void)state;
	static uint8_t data[65536];
	struct ip_frag_table *t = ip_frag_table_create(4, 128 * 1024);
	struct add_result a = { 0 };
	struct pkt_info p;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	/* IPv4: 65515 data bytes + 20 = 65535, in 1480-byte fragments, last first */
	a = add_frag(t, 4, 9, data, 65120, 65515 - 65120, false, 0);
	for (uint32_t off = 0; off < 65120; off += 1480) {
		assert_int_equal(a.r, IP_FRAG_HELD);
		a = add_frag(t, 4, 9, data, off, 1480, true, 0);
	}
	assert_int_equal(a.r, IP_FRAG_COMPLETE);
	assert_int_equal(a.out_len, 65535);
	assert_memory_equal(a.out + 20, data, 65515);
	/* it decodes as TCP (the data starts where a header would): payload inside the buffer */
	if (decode_ip(a.out, a.out_len, &p) == DECODE_OK)
		assert_true(p.payload + p.payload_len <= a.out + a.out_len);
	check_empty(t);
	ip_frag_table_destroy(t);
}

static void
test_bad_lengths(void **state)
{
	(void)state;
	uint8_t seg[SEG_LEN];
	struct ip_frag_table *t = ip_frag_table_create(4, 4096);
	struct add_result a;

	build_segment(seg, 4);
	/* IPv4: a 30-byte middle fragment is trimmed to 24 bytes, as Linux does */
	a = add_frag(t, 4, 1, seg, 0, 30, true, 0);
	assert_int_equal(a.r, IP_FRAG_HELD);
	assert_int_equal(a.events, 1u << IP_FRAG_EV_BAD_LENGTH);
	a = add_piece(t, 4, 1, seg, 1, 0);
	assert_int_equal(a.r, IP_FRAG_HELD);
	assert_int_equal(a.events, 0); /* [24,48) does not overlap the trimmed [0,24) */
	a = add_piece(t, 4, 1, seg, 2, 0);
	check_complete(&a, 4, seg);
	/* IPv6: dropped */
	build_segment(seg, 6);
	a = add_frag(t, 6, 1, seg, 0, 30, true, 0);
	assert_int_equal(a.r, IP_FRAG_DROPPED);
	assert_int_equal(a.events, 1u << IP_FRAG_EV_BAD_LENGTH);
	/* an empty fragment */
	a = add_frag(t, 4, 2, seg, 8, 0, false, 0);
	assert_int_equal(a.r, IP_FRAG_DROPPED);
	assert_int_equal(a.events, 1u << IP_FRAG_EV_BAD_LENGTH);
	check_empty(t);
	ip_frag_table_destroy(t);
}

static void
test_end_conflicts(void **state)
{
	(void)state;
	uint8_t seg[SEG_LEN];
	struct ip_frag_table *t = ip_frag_table_create(4, 4096);
	struct add_result a;

	build_segment(seg, 4);
	/* two last fragments that disagree on the end */
	assert_int_equal(add_piece(t, 4, 1, seg, 2, 0).r, IP_FRAG_HELD);
	a = add_frag(t, 4, 1, seg, 48, 8, false, 0);
	assert_int_equal(a.r, IP_FRAG_DROPPED);
	assert_int_equal(a.events, 1u << IP_FRAG_EV_END_CONFLICT);
	check_empty(t);
	/* data beyond a known end */
	assert_int_equal(add_frag(t, 4, 2, seg, 8, 16, false, 0).r, IP_FRAG_HELD);
	a = add_frag(t, 4, 2, seg, 24, 8, true, 0);
	assert_int_equal(a.r, IP_FRAG_DROPPED);
	assert_int_equal(a.events, 1u << IP_FRAG_EV_END_CONFLICT);
	check_empty(t);
	/* an end below data held */
	assert_int_equal(add_piece(t, 4, 3, seg, 1, 0).r, IP_FRAG_HELD);
	a = add_frag(t, 4, 3, seg, 8, 8, false, 0);
	assert_int_equal(a.r, IP_FRAG_DROPPED);
	assert_int_equal(a.events, 1u << IP_FRAG_EV_END_CONFLICT);
	check_empty(t);
	ip_frag_table_destroy(t);
}

static void
test_tiny_first_fragment(void **state)
{
	(void)state;
	uint8_t seg[SEG_LEN];
	struct ip_frag_table *t = ip_frag_table_create(4, 4096);
	struct add_result a;

	build_segment(seg, 6);
	a = add_frag(t, 6, 1, seg, 0, 8, true, 0); /* half a TCP header */
	assert_int_equal(a.r, IP_FRAG_DROPPED);
	assert_int_equal(a.events, 1u << IP_FRAG_EV_TINY_FIRST);
	build_segment(seg, 4);
	a = add_frag(t, 4, 1, seg, 0, 8, true, 0);
	assert_int_equal(a.r, IP_FRAG_HELD);
	assert_int_equal(a.events, 1u << IP_FRAG_EV_TINY_FIRST);
	assert_int_equal(add_frag(t, 4, 1, seg, 8, 16, true, 0).r, IP_FRAG_HELD);
	assert_int_equal(add_piece(t, 4, 1, seg, 1, 0).r, IP_FRAG_HELD);
	a = add_piece(t, 4, 1, seg, 2, 0);
	check_complete(&a, 4, seg);
	assert_int_equal(a.events, 1u << IP_FRAG_EV_TINY_FIRST);
	check_empty(t);
	ip_frag_table_destroy(t);
}

static void
test_keys_separate_datagrams(void **state)
{
	(void)state;
	uint8_t seg[SEG_LEN], f[256];
	struct ip_frag_table *t = ip_frag_table_create(8, 8192);
	struct pkt_info p;
	const uint8_t *out;
	size_t out_len, len;
	uint32_t ev;

	build_segment(seg, 4);
	/* same id, other VLAN: not the same datagram */
	assert_int_equal(add_piece(t, 4, 1, seg, 0, 0).r, IP_FRAG_HELD);
	assert_int_equal(add_piece(t, 4, 1, seg, 1, 0).r, IP_FRAG_HELD);
	len = build_frame(f, 4, 1, seg, 48, SEG_LEN - 48, false, false);
	memmove(f + 16, f + 12, len - 12);
	f[12] = 0x81;
	f[13] = 0x00;
	f[14] = 0;
	f[15] = 42;
	assert_int_equal(decode_packet(f, len + 4, &p), DECODE_FRAGMENT);
	assert_int_equal(ip_frag_add(t, f, len + 4, &p, 0, &out, &out_len, &ev), IP_FRAG_HELD);
	/* same id, IPv6: not the same datagram either */
	assert_int_equal(add_piece(t, 6, 1, seg, 2, 0).r, IP_FRAG_HELD);
	struct add_result a = add_piece(t, 4, 1, seg, 2, 0);
	check_complete(&a, 4, seg);
	ip_frag_sweep(t, UINT64_MAX, 100);
	check_empty(t);
	ip_frag_table_destroy(t);
}

static void
test_long_unfragmentable_part(void **state)
{
	(void)state;
	uint8_t seg[SEG_LEN], f[512];
	struct ip_frag_table *t = ip_frag_table_create(4, 4096);
	struct pkt_info p;
	const uint8_t *out;
	size_t out_len, len = 14 + 40 + 264 + 8 + 24;
	uint32_t ev;

	build_segment(seg, 6);
	memset(f, 0, sizeof(f));
	f[12] = 0x86;
	f[13] = 0xdd;
	f[14] = 0x60;
	put16(f + 14 + 4, 264 + 8 + 24);
	f[14 + 6] = 0;          /* hop-by-hop of 264 bytes (PadN-free zeros are Pad1s) */
	f[14 + 40] = 44;
	f[14 + 41] = 32;
	f[14 + 40 + 264] = 6;   /* fragment header: offset 0, M */
	f[14 + 40 + 264 + 3] = 1;
	memcpy(f + 14 + 40 + 264 + 8, seg, 24);
	assert_int_equal(decode_packet(f, len, &p), DECODE_FRAGMENT);
	assert_int_equal(p.frag.hdr_len, 40 + 264);
	assert_int_equal(ip_frag_add(t, f, len, &p, 0, &out, &out_len, &ev), IP_FRAG_DROPPED);
	assert_int_equal(ev, 1u << IP_FRAG_EV_HDR_TOO_LONG);
	check_empty(t);
	ip_frag_table_destroy(t);
}

static void
test_invalid_input(void **state)
{
	(void)state;
	uint8_t seg[SEG_LEN], f[256];
	struct ip_frag_table *t = ip_frag_table_create(4, 4096);
	struct pkt_info p;
	const uint8_t *out = (const uint8_t *)1;
	size_t out_len = 1, len;
	uint32_t ev;

	build_segment(seg, 4);
	/* not a fragment */
	len = build_frame(f, 4, 1, seg, 0, SEG_LEN, false, true);
	assert_int_equal(decode_packet(f, len, &p), DECODE_OK);
	assert_int_equal(ip_frag_add(t, f, len, &p, 0, &out, &out_len, &ev), IP_FRAG_DROPPED);
	assert_int_equal(ev, 1u << IP_FRAG_EV_INVALID);
	assert_null(out);
	assert_int_equal(out_len, 0);
	/* a pkt_info that claims more than the buffer holds */
	len = build_frame(f, 4, 1, seg, 0, 24, true, false);
	assert_int_equal(decode_packet(f, len, &p), DECODE_FRAGMENT);
	assert_int_equal(ip_frag_add(t, f, len - 1, &p, 0, &out, &out_len, &ev), IP_FRAG_DROPPED);
	assert_int_equal(ev, 1u << IP_FRAG_EV_INVALID);
	p.frag.hdr_len = 70;
	assert_int_equal(ip_frag_add(t, f, len, &p, 0, &out, &out_len, NULL), IP_FRAG_DROPPED);
	/* the table's own output fed back in */
	assert_int_equal(decode_packet(f, len, &p), DECODE_FRAGMENT);
	assert_int_equal(add_piece(t, 4, 1, seg, 1, 0).r, IP_FRAG_HELD);
	assert_int_equal(add_piece(t, 4, 1, seg, 2, 0).r, IP_FRAG_HELD);
	assert_int_equal(ip_frag_add(t, f, len, &p, 0, &out, &out_len, &ev), IP_FRAG_COMPLETE);
	struct pkt_info q = p;
	q.l3_off = 0;
	assert_int_equal(ip_frag_add(t, out, out_len, &q, 0, &out, &out_len, &ev),
			 IP_FRAG_DROPPED);
	assert_int_equal(ev, 1u << IP_FRAG_EV_INVALID);
	assert_int_equal(n_event(t, IP_FRAG_EV_INVALID), 4);
	check_empty(t);
	ip_frag_table_destroy(t);
}

static void
test_create_and_names(void **state)
{
	(void)state;
	errno = 0;
	assert_null(ip_frag_table_create(0, 4096));
	assert_int_equal(errno, EINVAL);
	assert_null(ip_frag_table_create(4, IP_FRAG_CHUNK - 1));
	assert_int_equal(errno, EINVAL);
	ip_frag_table_destroy(NULL);

	struct ip_frag_table *t = ip_frag_table_create(1, IP_FRAG_CHUNK);
	struct ip_frag_stats s;

	assert_non_null(t);
	ip_frag_table_stats(t, &s);
	assert_int_equal(s.bytes_max, IP_FRAG_CHUNK);
	ip_frag_table_destroy(t);
	for (int e = 0; e < IP_FRAG_EV__COUNT; e++) {
		const char *n = ip_frag_event_name((enum ip_frag_event)e);

		assert_string_not_equal(n, "unknown");
		for (int o = 0; o < e; o++)
			assert_string_not_equal(n, ip_frag_event_name((enum ip_frag_event)o));
	}
	assert_string_equal(ip_frag_event_name(IP_FRAG_EV__COUNT), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_every_order),
		cmocka_unit_test(test_v6_every_order),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_overlap_same_data),
		cmocka_unit_test(test_overlap_different_data),
		cmocka_unit_test(test_missing_fragment_times_out),
		cmocka_unit_test(test_table_full_evicts_oldest),
		cmocka_unit_test(test_byte_pool_full),
		cmocka_unit_test(test_too_many_fragments),
		cmocka_unit_test(test_beyond_65535_rejected),
		cmocka_unit_test(test_tiny_fragments_of_a_full_segment),
		cmocka_unit_test(test_jumbo_tiny_fragments_reversed),
		cmocka_unit_test(test_jumbo_tiny_fragments_random),
		cmocka_unit_test(test_largest_datagram),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_end_conflicts),
		cmocka_unit_test(test_tiny_first_fragment),
		cmocka_unit_test(test_keys_separate_datagrams),
		cmocka_unit_test(test_long_unfragmentable_part),
		cmocka_unit_test(test_invalid_input),
		cmocka_unit_test(test_create_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
