/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP reassembly per direction; see tcp_reasm.h. Pure C (no DPDK): the pool is allocated once
 * at start-up, everything after that works in it. Worker lcores.
 *
 * A stream's queue is a list of chunks sorted by sequence number, each an aligned window of
 * TCP_REASM_CHUNK_BYTES with a bitmap of the bytes present. Invariants kept after every call:
 * every chunk in the list holds at least one byte at or after next_seq, so the first queued
 * byte is always beyond a hole (never at next_seq), and all chunks lie within 2^30 of
 * next_seq, so sequence arithmetic relative to it cannot wrap.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "decode.h"
#include "tcp_reasm.h"

#define CHUNK TCP_REASM_CHUNK_BYTES
#define WIN_MASK (~(CHUNK - 1))
#define FP_KEY_WORDS ((TCP_REASM_FP_MAX + 7) / 8 * 2)

_Static_assert((CHUNK & (CHUNK - 1)) == 0 && CHUNK % 64 == 0, "chunk size");
_Static_assert(sizeof(struct tcp_stream) <= 40, "per-stream state must stay small");

struct tcp_reasm_chunk {
	uint32_t next;                  /* next chunk of the queue, or of the free list */
	uint32_t base;                  /* sequence number of data[0], a multiple of CHUNK */
	uint64_t bits[CHUNK / 64];      /* bytes present */
	uint8_t data[CHUNK];
};

struct tcp_reasm_pool {
	uint32_t n_chunks;
	uint32_t n_free;
	uint32_t free_head;
	bool heap;                      /* from tcp_reasm_pool_create */
	struct tcp_reasm_counters counters;
	uint32_t fp_key[FP_KEY_WORDS];
	struct tcp_reasm_chunk chunks[];
};

/* Everything one call works with, passed down as one pointer. */
struct run {
	struct tcp_stream *s;
	struct tcp_reasm_pool *pool;
	const struct tcp_reasm_limits *lim;
	const struct tcp_reasm_ops *ops;
	void *ctx;
};

static const char *const event_names[TCP_REASM_EV__COUNT] = {
	[TCP_REASM_EV_RETRANSMIT] = "retransmit",
	[TCP_REASM_EV_OVERLAP_DIFF] = "overlap_diff",
	[TCP_REASM_EV_GAP] = "gap",
	[TCP_REASM_EV_OOO_LIMIT] = "ooo_limit",
	[TCP_REASM_EV_POOL_EXHAUSTED] = "pool_exhausted",
	[TCP_REASM_EV_FLUSH_GAP] = "flush_gap",
	[TCP_REASM_EV_DEPTH] = "depth",
	[TCP_REASM_EV_SYN_MISMATCH] = "syn_mismatch",
	[TCP_REASM_EV_FIN_CONFLICT] = "fin_conflict",
	[TCP_REASM_EV_RST_INVALID] = "rst_invalid",
	[TCP_REASM_EV_OUT_OF_WINDOW] = "out_of_window",
};

const char *
tcp_reasm_event_name(enum tcp_reasm_event ev)
{
	if ((unsigned)ev >= TCP_REASM_EV__COUNT)
		return "unknown";
	return event_names[ev];
}

void
tcp_reasm_counters_add(struct tcp_reasm_counters *sum, const struct tcp_reasm_counters *c)
{
	for (unsigned i = 0; i < TCP_REASM_EV__COUNT; i++)
		sum->n_events[i] += c->n_events[i];
	sum->n_segments += c->n_segments;
	sum->n_bytes += c->n_bytes;
	sum->n_gap_bytes += c->n_gap_bytes;
	sum->n_ooo_segments += c->n_ooo_segments;
	sum->n_queued_bytes += c->n_queued_bytes;
	sum->n_keepalives += c->n_keepalives;
	sum->n_unchecked += c->n_unchecked;
	sum->n_ignored += c->n_ignored;
	sum->n_rst += c->n_rst;
}

/* ---- pool ---- */

size_t
tcp_reasm_pool_size(uint32_t n_chunks)
{
	if (n_chunks == 0 || n_chunks > TCP_REASM_MAX_CHUNKS)
		return 0;
	return sizeof(struct tcp_reasm_pool) + (size_t)n_chunks * sizeof(struct tcp_reasm_chunk);
}

/* Start-up only: the key must be unknown to senders, so it comes from the kernel. */
static void
fp_key_init(struct tcp_reasm_pool *p)
{
	size_t want = sizeof(p->fp_key);
	uint8_t *k = (uint8_t *)p->fp_key;
	size_t got = 0;

	while (got < want) {
		ssize_t n = getrandom(k + got, want - got, GRND_NONBLOCK);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got == want)
		return;
	/* No entropy yet (early boot): a weaker key still detects accidental differences. */
	struct timespec ts;
	uint64_t x;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)p;
	for (size_t i = 0; i < FP_KEY_WORDS; i++) {
		/* splitmix64 */
		uint64_t z = (x += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		p->fp_key[i] = (uint32_t)(z ^ (z >> 31));
	}
}

struct tcp_reasm_pool *
tcp_reasm_pool_init(void *mem, size_t size, uint32_t n_chunks)
{
	struct tcp_reasm_pool *p = mem;
	size_t need = tcp_reasm_pool_size(n_chunks);

	if (mem == NULL || need == 0 || size < need || ((uintptr_t)mem & 7) != 0) {
		errno = EINVAL;
		return NULL;
	}
	memset(p, 0, sizeof(*p));
	p->n_chunks = n_chunks;
	p->n_free = n_chunks;
	p->free_head = 1;
	for (uint32_t i = 0; i < n_chunks; i++)
		p->chunks[i].next = i + 1 < n_chunks ? i + 2 : TCP_REASM_NO_CHUNK;
	fp_key_init(p);
	return p;
}

struct tcp_reasm_pool *
tcp_reasm_pool_create(uint32_t n_chunks)
{
	size_t size = tcp_reasm_pool_size(n_chunks);
	void *mem;
	struct tcp_reasm_pool *p;

	if (size == 0) {
		errno = EINVAL;
		return NULL;
	}
	mem = malloc(size);
	if (mem == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	p = tcp_reasm_pool_init(mem, size, n_chunks);
	if (p == NULL) {
		free(mem);
		return NULL;
	}
	p->heap = true;
	return p;
}

void
tcp_reasm_pool_destroy(struct tcp_reasm_pool *p)
{
	if (p != NULL && p->heap)
		free(p);
}

uint32_t
tcp_reasm_pool_n_chunks(const struct tcp_reasm_pool *p)
{
	return p->n_chunks;
}

uint32_t
tcp_reasm_pool_n_free(const struct tcp_reasm_pool *p)
{
	return p->n_free;
}

const struct tcp_reasm_counters *
tcp_reasm_pool_counters(const struct tcp_reasm_pool *p)
{
	return &p->counters;
}

/* Chunk references are 1-based so that 0 (TCP_REASM_NO_CHUNK) is "none": a zeroed
 * struct tcp_stream is a valid empty stream. */
#define CHUNK_AT(p, ref) (&(p)->chunks[(ref) - 1])

/* The caller checked n_free first: a failure here is a bug, not traffic. */
static uint32_t
chunk_alloc(struct tcp_reasm_pool *p, uint32_t base)
{
	uint32_t i = p->free_head;
	struct tcp_reasm_chunk *c;

	assert(i != TCP_REASM_NO_CHUNK && p->n_free > 0);
	c = CHUNK_AT(p, i);
	p->free_head = c->next;
	p->n_free--;
	c->next = TCP_REASM_NO_CHUNK;
	c->base = base;
	memset(c->bits, 0, sizeof(c->bits));
	return i;
}

static void
chunk_free(struct tcp_reasm_pool *p, uint32_t i)
{
	CHUNK_AT(p, i)->next = p->free_head;
	p->free_head = i;
	p->n_free++;
}

/* ---- presence bitmaps ---- */

/* First index in [from, to) whose bit equals `set`, or `to`. */
static uint32_t
bits_find(const uint64_t *bits, uint32_t from, uint32_t to, bool set)
{
	while (from < to) {
		uint64_t w = set ? bits[from / 64] : ~bits[from / 64];

		w &= ~UINT64_C(0) << (from % 64);
		if (w != 0) {
			uint32_t i = from / 64 * 64 + (uint32_t)__builtin_ctzll(w);

			return i < to ? i : to;
		}
		from = (from / 64 + 1) * 64;
	}
	return to;
}

static void
bits_set(uint64_t *bits, uint32_t from, uint32_t to)
{
	for (uint32_t i = from; i < to;) {
		uint32_t n = 64 - i % 64;
		uint64_t m;

		if (n > to - i)
			n = to - i;
		m = n == 64 ? ~UINT64_C(0) : ((UINT64_C(1) << n) - 1) << (i % 64);
		bits[i / 64] |= m;
		i += n;
	}
}

static bool
bit_is_set(const uint64_t *bits, uint32_t i)
{
	return (bits[i / 64] >> (i % 64)) & 1;
}

/* ---- fingerprint: NH (UMAC) over 32-bit word pairs, equal-length inputs only ---- */

static uint64_t
fp_hash(const uint32_t *key, const uint8_t *p, uint32_t len)
{
	uint64_t h = len;
	uint32_t i = 0;

	for (; i + 8 <= len; i += 8, key += 2) {
		uint32_t a, b;

		memcpy(&a, p + i, 4);
		memcpy(&b, p + i + 4, 4);
		h += (uint64_t)(uint32_t)(a + key[0]) * (uint32_t)(b + key[1]);
	}
	if (i < len) {
		uint8_t tail[8] = { 0 };
		uint32_t a, b;

		memcpy(tail, p + i, len - i);
		memcpy(&a, tail, 4);
		memcpy(&b, tail + 4, 4);
		h += (uint64_t)(uint32_t)(a + key[0]) * (uint32_t)(b + key[1]);
	}
	return h;
}

/* ---- callbacks ---- */

static void
emit_event(struct run *r, enum tcp_reasm_event ev, uint32_t seq, uint32_t len)
{
	r->pool->counters.n_events[ev]++;
	if (r->ops != NULL && r->ops->event != NULL)
		r->ops->event(r->ctx, ev, seq, len);
}

static void
queue_release(struct tcp_stream *s, struct tcp_reasm_pool *pool)
{
	uint32_t i = s->head;

	while (i != TCP_REASM_NO_CHUNK) {
		uint32_t next = CHUNK_AT(pool, i)->next;

		chunk_free(pool, i);
		i = next;
	}
	s->head = TCP_REASM_NO_CHUNK;
}

/* Once: from here on nothing is delivered or queued. */
static void
reach_depth(struct run *r, uint32_t seq, uint32_t len)
{
	r->s->flags |= TCP_STREAM_DEPTH;
	emit_event(r, TCP_REASM_EV_DEPTH, seq, len);
	queue_release(r->s, r->pool);
}

/* Bytes the depth limit still lets through. */
static uint64_t
depth_room(const struct run *r)
{
	uint64_t max = r->lim->max_stream_bytes;

	if (max == 0)
		return UINT64_MAX;
	return max > r->s->n_bytes ? max - r->s->n_bytes : 0;
}

/* Hands `len` bytes at next_seq to the parser and moves past them. */
static void
deliver(struct run *r, const uint8_t *data, uint32_t len)
{
	struct tcp_stream *s = r->s;
	uint64_t room = depth_room(r);
	uint32_t n = room < len ? (uint32_t)room : len;

	if (n > 0) {
		uint32_t fp = n > TCP_REASM_FP_MAX ? TCP_REASM_FP_MAX : n;

		s->fp_seq = s->next_seq + (n - fp);
		s->fp_len = (uint16_t)fp;
		s->fp_hash = fp_hash(r->pool->fp_key, data + (n - fp), fp);
		if (r->ops != NULL && r->ops->deliver != NULL)
			r->ops->deliver(r->ctx, data, n);
		s->next_seq += n;
		s->n_bytes += n;
		r->pool->counters.n_bytes += n;
	}
	if (n < len)
		reach_depth(r, s->next_seq, len - n);
}

/* ---- queue ---- */

/* Order of chunk windows, relative to next_seq's window (cannot wrap, see the top). */
static uint32_t
win_key(const struct tcp_stream *s, uint32_t base)
{
	return base - (s->next_seq & WIN_MASK);
}

/* Frees head chunks with nothing left at or after next_seq (keeps the invariant). */
static void
queue_trim(struct run *r)
{
	struct tcp_stream *s = r->s;

	while (s->head != TCP_REASM_NO_CHUNK) {
		struct tcp_reasm_chunk *c = CHUNK_AT(r->pool, s->head);
		int32_t rel = (int32_t)(s->next_seq - c->base);

		if (rel < 0)
			return; /* window ahead of next_seq: holds bytes by construction */
		if (rel < (int32_t)CHUNK && bits_find(c->bits, (uint32_t)rel, CHUNK, true) < CHUNK)
			return;
		uint32_t next = c->next;

		chunk_free(r->pool, s->head);
		s->head = next;
	}
}

/* Sequence number of the first queued byte (the queue is not empty). */
static uint32_t
queue_first(const struct run *r)
{
	const struct tcp_stream *s = r->s;
	const struct tcp_reasm_chunk *c = CHUNK_AT(r->pool, s->head);
	int32_t rel = (int32_t)(s->next_seq - c->base);
	uint32_t from = rel > 0 ? (uint32_t)rel : 0;

	return c->base + bits_find(c->bits, from, CHUNK, true);
}

/* Delivers the queued bytes now contiguous with next_seq. */
static void
queue_drain(struct run *r)
{
	struct tcp_stream *s = r->s;

	while (s->head != TCP_REASM_NO_CHUNK && !(s->flags & TCP_STREAM_DEPTH)) {
		struct tcp_reasm_chunk *c = CHUNK_AT(r->pool, s->head);
		int32_t rel = (int32_t)(s->next_seq - c->base);

		if (rel < 0 || rel >= (int32_t)CHUNK || !bit_is_set(c->bits, (uint32_t)rel))
			return;
		uint32_t end = bits_find(c->bits, (uint32_t)rel, CHUNK, false);

		deliver(r, c->data + rel, end - (uint32_t)rel);
		queue_trim(r);
	}
}

/* Gives up the hole [next_seq, target): reported, skipped, counted against the depth. */
static void
skip_hole(struct run *r, uint32_t target, enum tcp_reasm_event why)
{
	struct tcp_stream *s = r->s;
	uint32_t len = target - s->next_seq;
	uint64_t room = depth_room(r);
	uint32_t n = room < len ? (uint32_t)room : len;

	emit_event(r, why, s->next_seq, len);
	if (n > 0) {
		if (r->ops != NULL && r->ops->gap != NULL)
			r->ops->gap(r->ctx, n);
		s->next_seq += n;
		s->n_bytes += n;
		r->pool->counters.n_gap_bytes += n;
	}
	if (n < len) {
		reach_depth(r, s->next_seq, len - n);
		return;
	}
	queue_trim(r);
}

/* Chunks still to allocate to hold [seq, end). */
static uint32_t
queue_chunks_needed(const struct run *r, uint32_t seq, uint32_t end)
{
	const struct tcp_stream *s = r->s;
	uint32_t first = win_key(s, seq & WIN_MASK);
	uint32_t last = win_key(s, (end - 1) & WIN_MASK);
	uint32_t need = (last - first) / CHUNK + 1;

	for (uint32_t i = s->head; i != TCP_REASM_NO_CHUNK; i = CHUNK_AT(r->pool, i)->next) {
		uint32_t k = win_key(s, CHUNK_AT(r->pool, i)->base);

		if (k > last)
			break;
		if (k >= first)
			need--;
	}
	return need;
}

/* Copies the bytes of [seq, seq+len) the queue lacks (first data wins); chunks available. */
static void
queue_insert(struct run *r, uint32_t seq, const uint8_t *data, uint32_t len)
{
	struct tcp_stream *s = r->s;
	struct tcp_reasm_pool *pool = r->pool;
	uint32_t prev = TCP_REASM_NO_CHUNK;
	uint32_t cur = s->head;
	uint32_t done = 0;

	while (done < len) {
		uint32_t pos = seq + done;
		uint32_t base = pos & WIN_MASK;
		uint32_t k = win_key(s, base);
		struct tcp_reasm_chunk *c;

		while (cur != TCP_REASM_NO_CHUNK && win_key(s, CHUNK_AT(pool, cur)->base) < k) {
			prev = cur;
			cur = CHUNK_AT(pool, cur)->next;
		}
		if (cur == TCP_REASM_NO_CHUNK || CHUNK_AT(pool, cur)->base != base) {
			uint32_t n = chunk_alloc(pool, base);

			CHUNK_AT(pool, n)->next = cur;
			if (prev == TCP_REASM_NO_CHUNK)
				s->head = n;
			else
				CHUNK_AT(pool, prev)->next = n;
			cur = n;
		}
		c = CHUNK_AT(pool, cur);

		uint32_t off = pos - base;
		uint32_t end = off + (len - done < CHUNK - off ? len - done : CHUNK - off);

		for (uint32_t i = off; i < end;) {
			uint32_t a = bits_find(c->bits, i, end, false);
			uint32_t b = bits_find(c->bits, a, end, true);

			if (a == end)
				break;
			memcpy(c->data + a, data + done + (a - off), b - a);
			bits_set(c->bits, a, b);
			pool->counters.n_queued_bytes += b - a;
			i = b;
		}
		done += end - off;
	}
}

/*
 * Compares a segment with what was seen before (once per segment, before anything moves):
 * delivered bytes against the fingerprint, queued bytes exactly. One event per segment.
 */
static void
classify(struct run *r, uint32_t seq, const uint8_t *data, uint32_t len)
{
	struct tcp_stream *s = r->s;
	uint32_t end = seq + len;
	uint32_t old = 0;
	bool diff = false;
	uint32_t from = seq;

	if (tcp_seq_lt(seq, s->next_seq)) {
		uint32_t ov = s->next_seq - seq < len ? s->next_seq - seq : len;
		uint64_t at = (uint32_t)(s->fp_seq - seq);

		old += ov;
		if (s->fp_len > 0 && at + s->fp_len <= ov) {
			if (fp_hash(r->pool->fp_key, data + at, s->fp_len) != s->fp_hash)
				diff = true;
		} else {
			r->pool->counters.n_unchecked++;
		}
		from = s->next_seq;
	}
	if (s->head != TCP_REASM_NO_CHUNK && tcp_seq_lt(from, end)) {
		uint32_t first = win_key(s, from & WIN_MASK);
		uint32_t last = win_key(s, (end - 1) & WIN_MASK);

		for (uint32_t i = s->head; i != TCP_REASM_NO_CHUNK; i = CHUNK_AT(r->pool, i)->next) {
			const struct tcp_reasm_chunk *c = CHUNK_AT(r->pool, i);
			uint32_t k = win_key(s, c->base);

			if (k > last)
				break;
			if (k < first)
				continue;
			/* the part of [from, end) inside this window, as chunk offsets */
			uint32_t lo = tcp_seq_lt(c->base, from) ? from - c->base : 0;
			uint32_t hi = end - c->base < CHUNK ? end - c->base : CHUNK;

			for (uint32_t a = bits_find(c->bits, lo, hi, true); a < hi;) {
				uint32_t b = bits_find(c->bits, a, hi, false);

				old += b - a;
				if (memcmp(c->data + a, data + (c->base + a - seq), b - a) != 0)
					diff = true;
				a = bits_find(c->bits, b, hi, true);
			}
		}
	}
	if (diff)
		emit_event(r, TCP_REASM_EV_OVERLAP_DIFF, seq, len);
	else if (old > 0)
		emit_event(r, TCP_REASM_EV_RETRANSMIT, seq, len);
}

/*
 * Moves a segment's bytes to the parser or the queue. Each turn of the loop delivers, skips
 * a hole or ends, so it is bounded by the queue's length.
 */
static void
place(struct run *r, uint32_t seq, const uint8_t *data, uint32_t len)
{
	struct tcp_stream *s = r->s;
	uint32_t window = r->lim->max_queued_bytes;

	if (window > TCP_REASM_MAX_WINDOW)
		window = TCP_REASM_MAX_WINDOW;
	while (len > 0 && !(s->flags & TCP_STREAM_DEPTH)) {
		if (tcp_seq_lt(seq, s->next_seq)) {
			uint32_t d = s->next_seq - seq;

			if (d >= len)
				return;
			seq += d;
			data += d;
			len -= d;
		}
		if (depth_room(r) == 0) {
			reach_depth(r, seq, len);
			return;
		}
		if (seq == s->next_seq) {
			uint32_t n = len;

			if (s->head != TCP_REASM_NO_CHUNK) {
				uint32_t q = queue_first(r) - s->next_seq;

				if (q < n)
					n = q;
			}
			assert(n > 0); /* the first queued byte is never at next_seq */
			deliver(r, data, n);
			queue_trim(r);
			queue_drain(r);
			continue; /* the rest may lie under the queued bytes just delivered */
		}

		/* Beyond a hole: the hole goes when the queue would outgrow its window or the
		 * pool. What the segment itself carries is never part of the skipped hole. */
		uint32_t end = seq + len;
		uint32_t target = seq;
		enum tcp_reasm_event why;

		if (s->head != TCP_REASM_NO_CHUNK && tcp_seq_lt(queue_first(r), seq))
			target = queue_first(r);
		if (end - s->next_seq > window)
			why = TCP_REASM_EV_OOO_LIMIT;
		else if (queue_chunks_needed(r, seq, end) > r->pool->n_free)
			why = TCP_REASM_EV_POOL_EXHAUSTED;
		else {
			queue_insert(r, seq, data, len);
			r->pool->counters.n_ooo_segments++;
			return;
		}
		skip_hole(r, target, why);
		queue_drain(r);
	}
}

static void
check_closed(struct tcp_stream *s)
{
	if ((s->flags & TCP_STREAM_FIN_SEEN) && s->next_seq == s->fin_seq)
		s->flags |= TCP_STREAM_CLOSED;
}

/* ---- public ---- */

void
tcp_stream_init(struct tcp_stream *s)
{
	*s = (struct tcp_stream){ 0 };
}

/* Returns false when the segment must be dropped whole. */
static bool
on_syn(struct run *r, uint32_t seq)
{
	struct tcp_stream *s = r->s;

	if (s->flags & TCP_STREAM_SYNCED) {
		uint32_t base = s->next_seq - (uint32_t)s->n_bytes; /* stream offset 0 */

		if (seq + 1 == base) {
			s->flags |= TCP_STREAM_SYN_SEEN; /* retransmitted (or late) SYN */
			return true;
		}
		if (s->n_bytes != 0 || s->head != TCP_REASM_NO_CHUNK ||
		    (s->flags & TCP_STREAM_FIN_SEEN)) {
			emit_event(r, TCP_REASM_EV_SYN_MISMATCH, seq, 0);
			return false;
		}
	}
	/* First SYN, or a new ISN before any byte was taken (a retried connection). */
	s->next_seq = seq + 1;
	s->max_seq = seq + 1;
	s->fp_len = 0;
	s->flags = (uint16_t)((s->flags & ~TCP_STREAM_MIDSTREAM) | TCP_STREAM_SYNCED |
			      TCP_STREAM_SYN_SEEN);
	return true;
}

/* A RST counts when it is where the sender's next byte can be (RFC 5961 spirit). */
static void
on_rst(struct run *r, uint32_t seq)
{
	struct tcp_stream *s = r->s;

	if (s->flags & TCP_STREAM_SYNCED) {
		uint32_t ahead = s->max_seq - s->next_seq;

		if (tcp_seq_lt(s->max_seq, s->next_seq))
			ahead = 0;
		if (tcp_seq_lt(seq, s->next_seq) ||
		    (uint64_t)(uint32_t)(seq - s->next_seq) > (uint64_t)ahead + TCP_REASM_RST_SLACK) {
			emit_event(r, TCP_REASM_EV_RST_INVALID, seq, 0);
			return;
		}
	}
	s->flags |= TCP_STREAM_RST;
	r->pool->counters.n_rst++;
}

/* The first FIN stands; one that contradicts it or the delivered bytes is reported (true). */
static bool
on_fin(struct run *r, uint32_t seq, uint32_t end)
{
	struct tcp_stream *s = r->s;

	if (s->flags & TCP_STREAM_FIN_SEEN) {
		if (end == s->fin_seq)
			return false;
		emit_event(r, TCP_REASM_EV_FIN_CONFLICT, seq, end - seq);
		return true;
	}
	if (tcp_seq_lt(end, s->next_seq)) {
		/* would end the stream before bytes already delivered */
		emit_event(r, TCP_REASM_EV_FIN_CONFLICT, seq, end - seq);
		return true;
	}
	s->flags |= TCP_STREAM_FIN_SEEN;
	s->fin_seq = end;
	if (tcp_seq_lt(s->max_seq, end))
		s->max_seq = end;
	return false;
}

void
tcp_stream_segment(struct tcp_stream *s, struct tcp_reasm_pool *pool,
		   const struct tcp_reasm_limits *lim, uint32_t seq, uint8_t flags,
		   const uint8_t *data, uint32_t len, const struct tcp_reasm_ops *ops, void *ctx)
{
	struct run r = { .s = s, .pool = pool, .lim = lim, .ops = ops, .ctx = ctx };

	pool->counters.n_segments++;
	if (s->flags & TCP_STREAM_RST) {
		pool->counters.n_ignored++;
		return;
	}
	if (flags & TCP_RST) {
		on_rst(&r, seq);
		return;
	}
	if (flags & TCP_SYN) {
		if (!on_syn(&r, seq))
			return;
		seq++;
	}
	if (len == 0 && !(flags & TCP_FIN)) {
		if ((s->flags & TCP_STREAM_SYNCED) && seq == s->next_seq - 1 && !(flags & TCP_SYN))
			pool->counters.n_keepalives++;
		return;
	}
	if (!(s->flags & TCP_STREAM_SYNCED)) {
		/* Mid-stream pickup: the sensor started, or the flow was evicted, after the
		 * handshake. The first bytes seen are where the stream starts. */
		s->next_seq = seq;
		s->max_seq = seq;
		s->flags |= TCP_STREAM_SYNCED | TCP_STREAM_MIDSTREAM;
	}

	uint32_t end = seq + len;
	bool reported = (flags & TCP_FIN) && on_fin(&r, seq, end);

	if (s->flags & TCP_STREAM_DEPTH) {
		pool->counters.n_ignored++;
		return;
	}
	if (len > 0 && (s->flags & TCP_STREAM_FIN_SEEN) && tcp_seq_lt(s->fin_seq, end)) {
		if (!reported)
			emit_event(&r, TCP_REASM_EV_FIN_CONFLICT, seq, len);
		if (tcp_seq_le(s->fin_seq, seq))
			goto out;
		len = s->fin_seq - seq;
		end = s->fin_seq;
	}
	if (len == 0)
		goto out;
	if (len == 1 && tcp_seq_le(end, s->next_seq)) {
		/* keep-alive (next_seq - 1) or a repeated 1-byte probe: never compared, the
		 * byte of a keep-alive is garbage by design */
		pool->counters.n_keepalives++;
		goto out;
	}
	if (tcp_seq_lt(s->next_seq, seq) && seq - s->next_seq > TCP_REASM_MAX_JUMP) {
		/* garbage sequence number: skipping to it would blind the stream */
		emit_event(&r, TCP_REASM_EV_OUT_OF_WINDOW, seq, len);
		goto out;
	}
	if (tcp_seq_lt(s->max_seq, end))
		s->max_seq = end;
	classify(&r, seq, data, len);
	place(&r, seq, data, len);
out:
	check_closed(s);
}

void
tcp_stream_ack(struct tcp_stream *s, struct tcp_reasm_pool *pool,
	       const struct tcp_reasm_limits *lim, uint32_t ack, const struct tcp_reasm_ops *ops,
	       void *ctx)
{
	struct run r = { .s = s, .pool = pool, .lim = lim, .ops = ops, .ctx = ctx };
	uint32_t target = ack;

	if (!(s->flags & TCP_STREAM_SYNCED) || (s->flags & (TCP_STREAM_RST | TCP_STREAM_DEPTH)))
		return;
	/* The receiver cannot have more than the sender sent; what we never saw sent is
	 * not a hole yet (the next data segment or ACK will tell). */
	if (tcp_seq_lt(s->max_seq, target))
		target = s->max_seq;
	if ((s->flags & TCP_STREAM_FIN_SEEN) && tcp_seq_lt(s->fin_seq, target))
		target = s->fin_seq;
	while (tcp_seq_lt(s->next_seq, target) && !(s->flags & TCP_STREAM_DEPTH)) {
		uint32_t t = target;

		if (s->head != TCP_REASM_NO_CHUNK && tcp_seq_lt(queue_first(&r), t))
			t = queue_first(&r);
		skip_hole(&r, t, TCP_REASM_EV_GAP);
		queue_drain(&r);
	}
	check_closed(s);
}

void
tcp_stream_flush(struct tcp_stream *s, struct tcp_reasm_pool *pool,
		 const struct tcp_reasm_limits *lim, const struct tcp_reasm_ops *ops, void *ctx)
{
	struct run r = { .s = s, .pool = pool, .lim = lim, .ops = ops, .ctx = ctx };

	if (s->flags & TCP_STREAM_SYNCED) {
		queue_drain(&r);
		while (s->head != TCP_REASM_NO_CHUNK && !(s->flags & TCP_STREAM_DEPTH)) {
			skip_hole(&r, queue_first(&r), TCP_REASM_EV_FLUSH_GAP);
			queue_drain(&r);
		}
		if ((s->flags & TCP_STREAM_FIN_SEEN) && !(s->flags & TCP_STREAM_DEPTH) &&
		    tcp_seq_lt(s->next_seq, s->fin_seq))
			skip_hole(&r, s->fin_seq, TCP_REASM_EV_FLUSH_GAP);
		check_closed(s);
	}
	queue_release(s, pool);
}

void
tcp_stream_release(struct tcp_stream *s, struct tcp_reasm_pool *pool)
{
	queue_release(s, pool);
}

uint32_t
tcp_stream_n_chunks(const struct tcp_stream *s, const struct tcp_reasm_pool *pool)
{
	uint32_t n = 0;

	for (uint32_t i = s->head; i != TCP_REASM_NO_CHUNK && n <= pool->n_chunks;
	     i = CHUNK_AT(pool, i)->next)
		n++;
	return n;
}
