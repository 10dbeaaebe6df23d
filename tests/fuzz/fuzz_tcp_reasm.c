/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the TCP reassembler (dataplane/tcp_reasm.c): two streams sharing a
 * small chunk pool are fed segments cut from a known byte source, ACKs and flushes, in any
 * order, and the callbacks check the invariants the parser relies on.
 *
 * Input: an 8-byte header [isn u32][window/256][depth/97, 0 none][pool chunks - 1 (mod 48)]
 * [unused], then 8-byte records [op][a u16][b u16][c u16][d]:
 *   op bit 3 selects the stream, bit 4 corrupts the segment's bytes (XOR 0xa5), bit 5 makes
 *   the record an ACK (ack = isn + a + d<<16), bit 6 a flush (with FIN set also a release and
 *   re-init), bit 7 a raw sequence number (seq = a | b<<16, len = c); otherwise a segment with
 *   TCP flags op & 7 (FIN, SYN, RST) | ACK at seq = isn + a + d<<16, len = b % 6000.
 * The byte at sequence number x is always src(x), so any two segments agree unless one is
 * corrupted.
 *
 * Invariants (any breach aborts): deliver() and gap() tile the sequence space from where the
 * stream started, without overlap or hole; every delivered byte is src(x) (or its corrupted
 * value once a corrupted segment was fed); a gap never covers a byte the stream accepted (fed
 * without being dropped: tracked for the first 1 MiB after isn); OVERLAP_DIFF only after a
 * corrupted segment; the
 * stream offset equals delivered + skipped bytes and stays within the depth; a stream holds at
 * most window/2 KiB + 2 chunks; held + free chunks are the pool's size after every call, and
 * everything is free after flush and release.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Icommon -Idataplane \
 *        tests/fuzz/fuzz_tcp_reasm.c dataplane/tcp_reasm.c -o fuzz_tcp_reasm
 * Seeds: tests/fuzz/corpus/tcp_reasm/ (in-order session, shuffles with duplicates, a lost
 * segment then ACK, wrap-around, pool exhaustion, corrupted overlaps, depth).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "tcp_reasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz_tcp_reasm: %s:%d: %s\n", __FILE__, __LINE__,      \
				#cond);                                                        \
			abort();                                                               \
		}                                                                              \
	} while (0)

#define MAX_LEN 6000
#define MAX_RECORDS 4096
#define TRACK (1u << 20)        /* sequence numbers isn .. isn + TRACK have accepted-bits */

struct side {
	struct tcp_stream s;
	bool started;           /* a deliver or gap happened: expect is known */
	uint32_t expect;        /* where the next deliver/gap must start */
	uint64_t delivered;
	uint64_t skipped;
	bool corrupted;         /* a corrupted segment was fed */
	unsigned n_drops;       /* events that drop a segment's bytes (not accepted) */
	uint32_t isn;
	uint64_t *accepted;     /* TRACK bits: byte isn + i was accepted */
};

struct harness {
	struct tcp_reasm_pool *pool;
	struct tcp_reasm_limits lim;
	struct side side[2];
};

static uint8_t
src(uint32_t x)
{
	return (uint8_t)((x * 0x9e3779b1u) >> 24) ^ (uint8_t)x;
}

static void
tile(struct side *d, uint32_t len)
{
	uint32_t at = tcp_stream_next_seq(&d->s);

	CHECK(len > 0);
	if (d->started)
		CHECK(at == d->expect);
	d->started = true;
	d->expect = at + len;
}

static void
h_deliver(void *ctx, const uint8_t *data, uint32_t len)
{
	struct side *d = ctx;
	uint32_t at = tcp_stream_next_seq(&d->s);

	tile(d, len);
	for (uint32_t i = 0; i < len; i++) {
		uint8_t want = src(at + i);

		CHECK(data[i] == want || (d->corrupted && data[i] == (want ^ 0xa5)));
	}
	d->delivered += len;
}

static bool
is_accepted(const struct side *d, uint32_t rel)
{
	return rel < TRACK && ((d->accepted[rel / 64] >> (rel % 64)) & 1);
}

/* A hole given up may only hold bytes the stream never accepted. */
static void
h_gap(void *ctx, uint32_t len)
{
	struct side *d = ctx;
	uint32_t at = tcp_stream_next_seq(&d->s);

	tile(d, len);
	if (len <= TRACK) {
		for (uint32_t i = 0; i < len; i++)
			CHECK(!is_accepted(d, at + i - d->isn));
	} else {
		for (uint32_t w = 0; w < TRACK / 64; w++)
			for (uint64_t m = d->accepted[w]; m != 0; m &= m - 1) {
				uint32_t rel = w * 64 + (uint32_t)__builtin_ctzll(m);

				CHECK(d->isn + rel - at >= len);
			}
	}
	d->skipped += len;
}

static void
h_event(void *ctx, enum tcp_reasm_event ev, uint32_t seq, uint32_t len)
{
	struct side *d = ctx;

	(void)seq;
	(void)len;
	CHECK((unsigned)ev < TCP_REASM_EV__COUNT);
	if (ev == TCP_REASM_EV_OVERLAP_DIFF)
		CHECK(d->corrupted);
	if (ev == TCP_REASM_EV_SYN_MISMATCH || ev == TCP_REASM_EV_OUT_OF_WINDOW ||
	    ev == TCP_REASM_EV_FIN_CONFLICT)
		d->n_drops++;
}

static const struct tcp_reasm_ops ops = {
	.deliver = h_deliver,
	.gap = h_gap,
	.event = h_event,
};

static void
check_state(const struct harness *h)
{
	uint32_t held = 0;
	uint32_t cap = h->lim.max_queued_bytes / TCP_REASM_CHUNK_BYTES + 2;

	for (unsigned i = 0; i < 2; i++) {
		const struct side *d = &h->side[i];
		uint32_t n = tcp_stream_n_chunks(&d->s, h->pool);

		CHECK(n <= cap);
		held += n;
		if (d->started)
			CHECK(tcp_stream_offset(&d->s) == d->delivered + d->skipped);
		if (h->lim.max_stream_bytes != 0)
			CHECK(tcp_stream_offset(&d->s) <= h->lim.max_stream_bytes);
	}
	CHECK(held + tcp_reasm_pool_n_free(h->pool) == tcp_reasm_pool_n_chunks(h->pool));
}

static void
side_reset(struct harness *h, struct side *d, uint64_t *accepted, uint32_t isn)
{
	tcp_stream_release(&d->s, h->pool);
	memset(d, 0, sizeof(*d));
	tcp_stream_init(&d->s);
	d->isn = isn;
	d->accepted = accepted;
	memset(accepted, 0, TRACK / 8);
}

/*
 * Marks the bytes of a segment the stream took (queued or delivered, never dropped); bytes
 * behind next_seq before the call were retransmissions, not taken. Marking fewer bytes only
 * weakens the check, so when in doubt a byte is left unmarked.
 */
static void
mark_accepted(struct side *d, bool was_synced, uint32_t next_before, uint32_t first,
	      uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		uint32_t rel = first + i - d->isn;

		if (was_synced && tcp_seq_lt(first + i, next_before))
			continue;
		if (rel < TRACK)
			d->accepted[rel / 64] |= UINT64_C(1) << (rel % 64);
	}
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t seg[MAX_LEN];
	static uint64_t accepted[2][TRACK / 64];
	struct harness h;
	uint32_t isn;
	uint64_t total = 0;

	if (size < 8)
		return 0;
	memset(&h, 0, sizeof(h));
	isn = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
	      (uint32_t)data[3] << 24;
	h.lim.max_queued_bytes = (uint32_t)data[4] * 256;
	h.lim.max_stream_bytes = (uint64_t)data[5] * 97;
	h.pool = tcp_reasm_pool_create((uint32_t)data[6] % 48 + 1);
	CHECK(h.pool != NULL);
	for (unsigned i = 0; i < 2; i++) {
		tcp_stream_init(&h.side[i].s);
		side_reset(&h, &h.side[i], accepted[i], isn);
	}
	data += 8;
	size -= 8;
	for (size_t r = 0; r + 8 <= size && r / 8 < MAX_RECORDS; r += 8) {
		const uint8_t *p = data + r;
		uint8_t op = p[0];
		struct side *d = &h.side[(op >> 3) & 1];
		uint32_t off = rd16(p + 1) + ((uint32_t)p[7] << 16);

		if (op & 0x40) {
			tcp_stream_flush(&d->s, h.pool, &h.lim, &ops, d);
			CHECK(!tcp_stream_has_queue(&d->s));
			if (op & TCP_FIN) {
				total += d->delivered;
				side_reset(&h, d, d->accepted, isn);
			}
		} else if (op & 0x20) {
			tcp_stream_ack(&d->s, h.pool, &h.lim, isn + off, &ops, d);
		} else {
			uint32_t seq = isn + off;
			uint32_t len = rd16(p + 3) % MAX_LEN;
			uint8_t flags = (uint8_t)((op & 7) | TCP_ACK);

			if (op & 0x80) {
				seq = rd16(p + 1) | (uint32_t)rd16(p + 3) << 16;
				len = rd16(p + 5) % MAX_LEN;
			}
			/* the SYN takes a sequence number: its data starts after it */
			uint32_t first = (flags & TCP_SYN) ? seq + 1 : seq;

			for (uint32_t i = 0; i < len; i++)
				seg[i] = src(first + i) ^ ((op & 0x10) ? 0xa5 : 0);
			if ((op & 0x10) && len > 0)
				d->corrupted = true;
			bool taken = !(flags & TCP_RST) &&
				     !(d->s.flags & (TCP_STREAM_RST | TCP_STREAM_DEPTH));
			bool was_synced = (d->s.flags & TCP_STREAM_SYNCED) != 0;
			uint32_t next_before = tcp_stream_next_seq(&d->s);
			unsigned drops = d->n_drops;

			tcp_stream_segment(&d->s, h.pool, &h.lim, seq, flags, seg, len, &ops, d);
			if (taken && d->n_drops == drops)
				mark_accepted(d, was_synced, next_before, first, len);
		}
		check_state(&h);
	}
	for (unsigned i = 0; i < 2; i++) {
		struct side *d = &h.side[i];

		tcp_stream_flush(&d->s, h.pool, &h.lim, &ops, d);
		CHECK(!tcp_stream_has_queue(&d->s));
		check_state(&h);
		total += d->delivered;
		tcp_stream_release(&d->s, h.pool);
	}
	CHECK(tcp_reasm_pool_n_free(h.pool) == tcp_reasm_pool_n_chunks(h.pool));
	CHECK(tcp_reasm_pool_counters(h.pool)->n_bytes == total);
	tcp_reasm_pool_destroy(h.pool);
	return 0;
}
