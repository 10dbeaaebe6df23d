/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP fragment reassembly over fixed pools. A datagram slot keeps its key, the header of its
 * offset-0 fragment, a sorted array of the disjoint byte ranges held (merged whenever they
 * touch, so the array counts holes, not fragments: 8-byte fragments in any order stay cheap)
 * and an index of its data by position: chunk slot k holds datagram bytes [k * IP_FRAG_CHUNK,
 * (k + 1) * IP_FRAG_CHUNK), taken on demand from a table-wide pool of IP_FRAG_CHUNK-byte
 * chunks. A new fragment is cut against the ranges held: overlapping bytes are compared
 * (first wins), only the gaps are written, and "complete" is simply held == end. Where a fragment
 * makes the datagram impossible for a receiver (data past the end, two different ends, more
 * than 65535 bytes), Linux drops the whole datagram, and so do we: inspecting a datagram the
 * server never got would let an attacker insert data. Slots sit on a hash (keyed, seeded at
 * creation) and on a creation-order list whose head is both the next to time out and the one
 * evicted when the table is full. Pure, one worker lcore per table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "hash_mix.h"
#include "ip_frag.h"

#define NIL UINT32_MAX
#define IP_MAX_LEN 65535u
#define IPPROTO_TCP_NUM 6
#define MAX_DATAGRAMS (1u << 24)
#define OPPORTUNISTIC_SWEEP 2   /* expired datagrams freed per ip_frag_add() */

struct frag_key {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t id;
	uint16_t vlan[DECODE_MAX_VLANS];
	uint8_t n_vlans;
	uint8_t version;
	uint8_t proto;          /* IPv4 only: IPv6 fragments of one packet may differ (RFC 8200) */
	uint8_t pad;
};

_Static_assert(sizeof(struct frag_key) == 44, "key has no hidden padding: compared by memcmp");

/* Datagram data ends at 65535 at most: chunk slots per datagram. */
#define N_SLOTS ((IP_MAX_LEN + IP_FRAG_CHUNK - 1) / IP_FRAG_CHUNK)

_Static_assert(N_SLOTS <= UINT16_MAX, "chunk_slot holds a slot number in 16 bits");

struct frag_range {
	uint16_t start;
	uint16_t end;           /* > start; ranges never touch: touching ones are merged */
};

struct frag_dgram {
	struct frag_key key;
	uint64_t first_us;      /* time of its first fragment: the timeout runs from here */
	uint32_t hash_next;     /* bucket chain, or the free list */
	uint32_t age_prev;      /* creation order */
	uint32_t age_next;
	uint32_t held;          /* bytes held: the ranges' lengths summed */
	uint32_t end;           /* data length, once the last fragment came */
	uint32_t events;        /* enum ip_frag_event bits raised so far */
	uint32_t chunks;        /* its chunks, linked by chunk_next, in no order */
	uint16_t n_ranges;
	uint16_t hdr_len;       /* 0 until the offset-0 fragment came */
	uint16_t nh_off;        /* IPv6: next-header byte to patch in hdr */
	uint8_t first_proto;    /* IPv6: next header of the offset-0 fragment */
	bool end_known;
	bool in_use;
	uint8_t hdr[IP_FRAG_MAX_HDR];
};

struct ip_frag_table {
	struct frag_dgram *dgrams;
	struct frag_range *ranges;      /* IP_FRAG_MAX_FRAGS_CAP per datagram */
	uint32_t *slots;                /* N_SLOTS per datagram: chunk or NIL */
	uint32_t *buckets;
	uint32_t bucket_mask;
	uint32_t n_dgrams;
	uint32_t free_dgram;
	uint32_t age_head;              /* oldest */
	uint32_t age_tail;
	uint8_t *chunk_data;
	uint32_t *chunk_next;           /* a datagram's chunk list, or the free list */
	uint16_t *chunk_slot;           /* which slot of its datagram a chunk fills */
	uint32_t n_chunks;
	uint32_t free_chunk;
	uint32_t n_free_chunks;
	uint64_t timeout_us;
	uint32_t max_frags;
	uint64_t seed;
	uint8_t *out;                   /* IP_FRAG_MAX_HDR + IP_MAX_LEN */
	struct ip_frag_stats stats;
};

static uint32_t
key_hash(const struct ip_frag_table *t, const struct frag_key *k)
{
	uint64_t h = t->seed, w;
	const uint8_t *b = (const uint8_t *)k;

	for (size_t i = 0; i + 8 <= sizeof(*k); i += 8) {
		memcpy(&w, b + i, 8);
		h = hash_mix64(h ^ w);
	}
	w = 0;
	memcpy(&w, b + sizeof(*k) - sizeof(*k) % 8, sizeof(*k) % 8);
	return (uint32_t)hash_mix64(h ^ w);
}

static struct frag_range *
ranges_of(struct ip_frag_table *t, uint32_t d)
{
	return t->ranges + (size_t)d * IP_FRAG_MAX_FRAGS_CAP;
}

static uint32_t *
slots_of(struct ip_frag_table *t, uint32_t d)
{
	return t->slots + (size_t)d * N_SLOTS;
}

static void
count(struct ip_frag_table *t, uint32_t *events, enum ip_frag_event e)
{
	t->stats.n_events[e]++;
	if (events != NULL)
		*events |= 1u << e;
}

/* --- data by position --- */

/* Give slot k of datagram d a chunk. Caller checked n_free_chunks and that the slot is NIL. */
static void
chunk_take(struct ip_frag_table *t, uint32_t d, uint32_t k)
{
	uint32_t c = t->free_chunk;

	t->free_chunk = t->chunk_next[c];
	t->n_free_chunks--;
	t->chunk_next[c] = t->dgrams[d].chunks;
	t->dgrams[d].chunks = c;
	t->chunk_slot[c] = (uint16_t)k;
	slots_of(t, d)[k] = c;
}

/* Return all of a datagram's chunks to the pool; its index is all NIL again. */
static void
chunks_release(struct ip_frag_table *t, uint32_t d)
{
	uint32_t *slots = slots_of(t, d);
	uint32_t c = t->dgrams[d].chunks;

	while (c != NIL) {
		uint32_t next = t->chunk_next[c];

		slots[t->chunk_slot[c]] = NIL;
		t->chunk_next[c] = t->free_chunk;
		t->free_chunk = c;
		t->n_free_chunks++;
		c = next;
	}
	t->dgrams[d].chunks = NIL;
}

/* The datagram bytes [pos, pos + len), all in chunks held, equal `data`? */
static bool
span_equal(const struct ip_frag_table *t, const uint32_t *slots, uint32_t pos,
	   const uint8_t *data, size_t len)
{
	while (len > 0) {
		uint32_t o = pos % IP_FRAG_CHUNK;
		size_t n = IP_FRAG_CHUNK - o < len ? IP_FRAG_CHUNK - o : len;

		if (memcmp(t->chunk_data + (size_t)slots[pos / IP_FRAG_CHUNK] * IP_FRAG_CHUNK + o,
			   data, n) != 0)
			return false;
		data += n;
		len -= n;
		pos += (uint32_t)n;
	}
	return true;
}

/* Write `data` at datagram position pos; the slots it spans have chunks. */
static void
span_store(struct ip_frag_table *t, const uint32_t *slots, uint32_t pos, const uint8_t *data,
	   size_t len)
{
	while (len > 0) {
		uint32_t o = pos % IP_FRAG_CHUNK;
		size_t n = IP_FRAG_CHUNK - o < len ? IP_FRAG_CHUNK - o : len;

		memcpy(t->chunk_data + (size_t)slots[pos / IP_FRAG_CHUNK] * IP_FRAG_CHUNK + o,
		       data, n);
		data += n;
		len -= n;
		pos += (uint32_t)n;
	}
}

static void
span_copy(const struct ip_frag_table *t, const uint32_t *slots, uint32_t pos, size_t len,
	  uint8_t *dst)
{
	while (len > 0) {
		uint32_t o = pos % IP_FRAG_CHUNK;
		size_t n = IP_FRAG_CHUNK - o < len ? IP_FRAG_CHUNK - o : len;

		memcpy(dst, t->chunk_data + (size_t)slots[pos / IP_FRAG_CHUNK] * IP_FRAG_CHUNK + o,
		       n);
		dst += n;
		len -= n;
		pos += (uint32_t)n;
	}
}

/* The first range that ends at or after pos (touching counts), or n_ranges. */
static uint16_t
range_search(const struct frag_range *r, uint16_t n, uint32_t pos)
{
	uint16_t lo = 0, hi = n;

	while (lo < hi) {
		uint16_t mid = (uint16_t)(lo + (hi - lo) / 2);

		if (r[mid].end < pos)
			lo = (uint16_t)(mid + 1);
		else
			hi = mid;
	}
	return lo;
}

/* --- datagram slots --- */

static void
dgram_free(struct ip_frag_table *t, uint32_t d)
{
	struct frag_dgram *g = &t->dgrams[d];
	uint32_t *link = &t->buckets[key_hash(t, &g->key) & t->bucket_mask];

	chunks_release(t, d);
	while (*link != d)
		link = &t->dgrams[*link].hash_next;
	*link = g->hash_next;
	if (g->age_prev != NIL)
		t->dgrams[g->age_prev].age_next = g->age_next;
	else
		t->age_head = g->age_next;
	if (g->age_next != NIL)
		t->dgrams[g->age_next].age_prev = g->age_prev;
	else
		t->age_tail = g->age_prev;
	g->in_use = false;
	g->hash_next = t->free_dgram;
	t->free_dgram = d;
	t->stats.datagrams_in_use--;
}

static bool
expired(const struct ip_frag_table *t, const struct frag_dgram *g, uint64_t now_us)
{
	return now_us >= g->first_us && now_us - g->first_us >= t->timeout_us;
}

/* The oldest datagram other than `keep`, or NIL. */
static uint32_t
oldest_except(const struct ip_frag_table *t, uint32_t keep)
{
	uint32_t d = t->age_head;

	if (d == keep)
		d = t->dgrams[d].age_next;
	return d;
}

static uint32_t
dgram_lookup(struct ip_frag_table *t, const struct frag_key *k, uint32_t bucket)
{
	for (uint32_t d = t->buckets[bucket]; d != NIL; d = t->dgrams[d].hash_next)
		if (memcmp(&t->dgrams[d].key, k, sizeof(*k)) == 0)
			return d;
	return NIL;
}

static uint32_t
dgram_new(struct ip_frag_table *t, const struct frag_key *k, uint32_t bucket, uint64_t now_us)
{
	uint32_t d = t->free_dgram;

	if (d == NIL) {
		d = t->age_head; /* never NIL: all slots are in use */
		count(t, NULL, IP_FRAG_EV_TABLE_FULL);
		dgram_free(t, d);
		d = t->free_dgram;
	}

	struct frag_dgram *g = &t->dgrams[d];

	t->free_dgram = g->hash_next;
	memset(g, 0, offsetof(struct frag_dgram, hdr));
	g->key = *k;
	g->first_us = now_us;
	g->chunks = NIL;
	g->in_use = true;
	g->hash_next = t->buckets[bucket];
	t->buckets[bucket] = d;
	g->age_next = NIL;
	g->age_prev = t->age_tail;
	if (t->age_tail != NIL)
		t->dgrams[t->age_tail].age_next = d;
	else
		t->age_head = d;
	t->age_tail = d;
	t->stats.datagrams_in_use++;
	return d;
}

/* --- public --- */

struct ip_frag_table *
ip_frag_table_create(uint32_t max_datagrams, uint32_t max_bytes)
{
	struct ip_frag_table *t;
	uint32_t n_buckets = 1;

	if (max_datagrams == 0 || max_datagrams > MAX_DATAGRAMS || max_bytes < IP_FRAG_CHUNK) {
		errno = EINVAL;
		return NULL;
	}
	while (n_buckets < max_datagrams * 2)
		n_buckets <<= 1;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		goto fail;
	t->n_dgrams = max_datagrams;
	t->n_chunks = max_bytes / IP_FRAG_CHUNK;
	t->bucket_mask = n_buckets - 1;
	t->timeout_us = IP_FRAG_DEFAULT_TIMEOUT_US;
	t->max_frags = IP_FRAG_DEFAULT_MAX_FRAGS;
	t->dgrams = calloc(max_datagrams, sizeof(*t->dgrams));
	t->ranges = calloc((size_t)max_datagrams * IP_FRAG_MAX_FRAGS_CAP, sizeof(*t->ranges));
	t->slots = malloc((size_t)max_datagrams * N_SLOTS * sizeof(*t->slots));
	t->buckets = malloc((size_t)n_buckets * sizeof(*t->buckets));
	t->chunk_data = malloc((size_t)t->n_chunks * IP_FRAG_CHUNK);
	t->chunk_next = malloc((size_t)t->n_chunks * sizeof(*t->chunk_next));
	t->chunk_slot = malloc((size_t)t->n_chunks * sizeof(*t->chunk_slot));
	t->out = malloc(IP_FRAG_MAX_HDR + IP_MAX_LEN);
	if (t->dgrams == NULL || t->ranges == NULL || t->slots == NULL || t->buckets == NULL ||
	    t->chunk_data == NULL || t->chunk_next == NULL || t->chunk_slot == NULL ||
	    t->out == NULL)
		goto fail_table;
	for (size_t i = 0; i < (size_t)max_datagrams * N_SLOTS; i++)
		t->slots[i] = NIL;
	for (uint32_t i = 0; i < n_buckets; i++)
		t->buckets[i] = NIL;
	for (uint32_t i = 0; i < max_datagrams; i++)
		t->dgrams[i].hash_next = i + 1 < max_datagrams ? i + 1 : NIL;
	t->free_dgram = 0;
	for (uint32_t i = 0; i < t->n_chunks; i++)
		t->chunk_next[i] = i + 1 < t->n_chunks ? i + 1 : NIL;
	t->free_chunk = 0;
	t->n_free_chunks = t->n_chunks;
	t->age_head = t->age_tail = NIL;
	t->stats.bytes_max = (uint64_t)t->n_chunks * IP_FRAG_CHUNK;
	/* The seed only spreads buckets against chosen ids; a fixed one still works. */
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = hash_mix64((uint64_t)(uintptr_t)t);
	return t;

fail_table:
	ip_frag_table_destroy(t);
fail:
	errno = ENOMEM;
	return NULL;
}

void
ip_frag_table_destroy(struct ip_frag_table *t)
{
	if (t == NULL)
		return;
	free(t->out);
	free(t->chunk_slot);
	free(t->chunk_next);
	free(t->chunk_data);
	free(t->buckets);
	free(t->slots);
	free(t->ranges);
	free(t->dgrams);
	free(t);
}

int
ip_frag_table_set_limits(struct ip_frag_table *t, uint64_t timeout_us, uint32_t max_frags)
{
	if (timeout_us == 0 || max_frags == 0 || max_frags > IP_FRAG_MAX_FRAGS_CAP)
		return -EINVAL;
	t->timeout_us = timeout_us;
	t->max_frags = max_frags;
	return 0;
}

unsigned
ip_frag_sweep(struct ip_frag_table *t, uint64_t now_us, unsigned budget)
{
	unsigned n = 0;

	while (n < budget && t->age_head != NIL && expired(t, &t->dgrams[t->age_head], now_us)) {
		dgram_free(t, t->age_head);
		count(t, NULL, IP_FRAG_EV_TIMEOUT);
		n++;
	}
	return n;
}

void
ip_frag_table_stats(const struct ip_frag_table *t, struct ip_frag_stats *out)
{
	*out = t->stats;
	out->bytes_in_use = (uint64_t)(t->n_chunks - t->n_free_chunks) * IP_FRAG_CHUNK;
}

/* The fragment's fields are consistent with the buffer it claims to come from. */
static bool
fragment_fits(const struct ip_frag_table *t, const uint8_t *frame, size_t len,
	      const struct pkt_info *p)
{
	const struct pkt_frag *f = &p->frag;
	size_t l3 = p->l3_off;

	if (frame == NULL || p == NULL || l3 > len)
		return false;
	/* reassembled output fed back in would be overwritten while read */
	if ((uintptr_t)frame < (uintptr_t)t->out + IP_FRAG_MAX_HDR + IP_MAX_LEN &&
	    (uintptr_t)frame + len > (uintptr_t)t->out)
		return false;
	if (!f->more && f->offset == 0)
		return false;
	if (f->data_off > len - l3 || f->data_len > len - l3 - f->data_off)
		return false;
	if (f->hdr_len > f->data_off)
		return false;
	if (p->ip_version == 4)
		return f->hdr_len >= 20 && f->hdr_len <= 60 && f->data_off == f->hdr_len;
	if (p->ip_version == 6)
		return f->hdr_len >= 40 && f->nh_off < f->hdr_len && f->data_off == f->hdr_len + 8u;
	return false;
}

/* Write the reassembled packet to t->out; false if it would exceed the IP length field. */
static bool
assemble(struct ip_frag_table *t, uint32_t d, size_t *out_len)
{
	struct frag_dgram *g = &t->dgrams[d];
	const struct frag_range *r = ranges_of(t, d);
	const uint32_t *slots = slots_of(t, d);
	uint8_t *o = t->out;
	size_t total = (size_t)g->hdr_len + g->end;

	if (g->key.version == 4 ? total > IP_MAX_LEN : total - 40 > IP_MAX_LEN)
		return false;
	memcpy(o, g->hdr, g->hdr_len);
	for (uint16_t i = 0; i < g->n_ranges; i++)
		span_copy(t, slots, r[i].start, (size_t)r[i].end - r[i].start,
			  o + g->hdr_len + r[i].start);
	if (g->key.version == 4) {
		o[2] = (uint8_t)(total >> 8);
		o[3] = (uint8_t)total;
		o[6] &= 0xc0;   /* keep DF and the reserved bit; clear MF and the offset */
		o[7] = 0;
		o[10] = 0;
		o[11] = 0;

		uint16_t c = decode_csum_fold(decode_csum_add(0, o, g->hdr_len));

		o[10] = (uint8_t)(c >> 8);
		o[11] = (uint8_t)c;
	} else {
		o[4] = (uint8_t)((total - 40) >> 8);
		o[5] = (uint8_t)(total - 40);
		o[g->nh_off] = g->first_proto;
	}
	*out_len = total;
	return true;
}

enum ip_frag_result
ip_frag_add(struct ip_frag_table *t, const uint8_t *frame, size_t len, const struct pkt_info *p,
	    uint64_t now_us, const uint8_t **out, size_t *out_len, uint32_t *events)
{
	uint32_t ev = 0;
	struct { uint32_t start, len; } gaps[IP_FRAG_MAX_FRAGS_CAP + 1];
	uint32_t n_gaps = 0, gap_bytes = 0, need = 0;
	enum ip_frag_result res = IP_FRAG_DROPPED;

	*out = NULL;
	*out_len = 0;
	t->stats.n_fragments++;
	ip_frag_sweep(t, now_us, OPPORTUNISTIC_SWEEP);
	if (!fragment_fits(t, frame, len, p)) {
		count(t, &ev, IP_FRAG_EV_INVALID);
		goto done;
	}

	const struct pkt_frag *f = &p->frag;
	const uint8_t *ip = frame + p->l3_off;
	const uint8_t *data = ip + f->data_off;
	uint32_t off = f->offset, dlen = f->data_len;
	bool v4 = p->ip_version == 4;

	if (f->more && dlen % 8 != 0) {
		count(t, &ev, IP_FRAG_EV_BAD_LENGTH);
		if (!v4)
			goto done;
		dlen &= ~7u; /* Linux's ip_frag_queue() trims and keeps it */
	}
	if (dlen == 0) {
		count(t, &ev, IP_FRAG_EV_BAD_LENGTH);
		goto done;
	}
	if (off == 0 && f->proto == IPPROTO_TCP_NUM && dlen < 20) {
		count(t, &ev, IP_FRAG_EV_TINY_FIRST);
		if (!v4)
			goto done;
	}
	if (off == 0 && f->hdr_len > IP_FRAG_MAX_HDR) {
		count(t, &ev, IP_FRAG_EV_HDR_TOO_LONG);
		goto done;
	}

	struct frag_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.src, p->src, 16);
	memcpy(k.dst, p->dst, 16);
	k.id = f->id;
	k.n_vlans = p->n_vlans <= DECODE_MAX_VLANS ? p->n_vlans : DECODE_MAX_VLANS;
	for (uint8_t i = 0; i < k.n_vlans; i++)
		k.vlan[i] = p->vlan[i];
	k.version = p->ip_version;
	k.proto = v4 ? f->proto : 0;

	uint32_t bucket = key_hash(t, &k) & t->bucket_mask;
	uint32_t d = dgram_lookup(t, &k, bucket);

	if (d != NIL && expired(t, &t->dgrams[d], now_us)) {
		dgram_free(t, d);
		count(t, NULL, IP_FRAG_EV_TIMEOUT);
		d = NIL;
	}

	uint32_t end = off + dlen;

	/* Larger than any IP datagram: the receiver can never rebuild it. */
	if (end > (v4 ? IP_MAX_LEN - 20 : IP_MAX_LEN)) {
		count(t, &ev, IP_FRAG_EV_BAD_LENGTH);
		goto drop_dgram;
	}
	if (d == NIL)
		d = dgram_new(t, &k, bucket, now_us);

	struct frag_dgram *g = &t->dgrams[d];
	struct frag_range *r = ranges_of(t, d);
	uint32_t *slots = slots_of(t, d);
	uint32_t held_end = g->n_ranges > 0 ? r[g->n_ranges - 1].end : 0;

	if (f->more ? g->end_known && end > g->end
		    : (g->end_known && end != g->end) || end < held_end) {
		count(t, &ev, IP_FRAG_EV_END_CONFLICT);
		goto drop_dgram;
	}

	/*
	 * Ranges [lo, hi) overlap or touch [off, end): they and the new bytes become one range.
	 * Cut [off, end) against them: compare overlaps, collect the gaps.
	 */
	uint16_t lo = range_search(r, g->n_ranges, off), hi = lo;
	uint32_t pos = off;
	bool overlap = false, differ = false;

	for (; hi < g->n_ranges && r[hi].start <= end; hi++) {
		uint32_t ps = r[hi].start, pe = r[hi].end;

		if (pe <= pos || ps >= end)
			continue;       /* touches only */
		if (ps > pos) {
			gaps[n_gaps].start = pos;
			gaps[n_gaps++].len = ps - pos;
			pos = ps;
		}

		uint32_t oe = pe < end ? pe : end;

		overlap = true;
		if (!span_equal(t, slots, pos, data + (pos - off), oe - pos))
			differ = true;
		pos = oe;
	}
	if (pos < end) {
		gaps[n_gaps].start = pos;
		gaps[n_gaps++].len = end - pos;
	}
	if (differ)
		count(t, &ev, IP_FRAG_EV_OVERLAP_DIFF);
	else if (overlap && n_gaps == 0)
		count(t, &ev, IP_FRAG_EV_DUPLICATE);
	else if (overlap)
		count(t, &ev, IP_FRAG_EV_OVERLAP_SAME);
	if ((uint32_t)g->n_ranges - (hi - lo) + 1 > t->max_frags) {
		count(t, &ev, IP_FRAG_EV_TOO_MANY);
		goto drop_dgram;
	}
	/* a slot with no chunk holds no byte yet: the fragment's part of it is a gap */
	for (uint32_t sl = off / IP_FRAG_CHUNK; sl <= (end - 1) / IP_FRAG_CHUNK; sl++)
		need += slots[sl] == NIL;
	for (uint32_t i = 0; i < n_gaps; i++)
		gap_bytes += gaps[i].len;
	while (t->n_free_chunks < need) {
		uint32_t victim = oldest_except(t, d);

		if (victim == NIL) {
			count(t, &ev, IP_FRAG_EV_MEM_FULL);
			goto drop_dgram;
		}
		count(t, NULL, IP_FRAG_EV_MEM_FULL);
		dgram_free(t, victim);
	}
	for (uint32_t sl = off / IP_FRAG_CHUNK; need > 0 && sl <= (end - 1) / IP_FRAG_CHUNK; sl++)
		if (slots[sl] == NIL)
			chunk_take(t, d, sl);
	for (uint32_t i = 0; i < n_gaps; i++)
		span_store(t, slots, gaps[i].start, data + (gaps[i].start - off), gaps[i].len);

	/* Ranges [lo, hi) and [off, end) become one. */
	struct frag_range merged = { (uint16_t)off, (uint16_t)end };

	if (hi > lo) {
		if (r[lo].start < merged.start)
			merged.start = r[lo].start;
		if (r[hi - 1].end > merged.end)
			merged.end = r[hi - 1].end;
	}
	memmove(r + lo + 1, r + hi, (size_t)(g->n_ranges - hi) * sizeof(*r));
	r[lo] = merged;
	g->n_ranges = (uint16_t)(g->n_ranges - (hi - lo) + 1);
	g->held += gap_bytes;
	if (!f->more) {
		g->end = end;
		g->end_known = true;
	}
	if (off == 0 && g->hdr_len == 0 && n_gaps > 0) {
		size_t hl = f->hdr_len;

		memcpy(g->hdr, ip, hl);
		g->hdr_len = (uint16_t)hl;
		g->nh_off = f->nh_off;
		g->first_proto = f->proto;
	}
	g->events |= ev;
	res = IP_FRAG_HELD;
	if (g->hdr_len == 0 || !g->end_known || g->held != g->end)
		goto done;
	ev |= g->events;
	if (!assemble(t, d, out_len)) {
		count(t, &ev, IP_FRAG_EV_BAD_LENGTH);
		goto drop_dgram;
	}
	*out = t->out;
	t->stats.n_completed++;
	dgram_free(t, d);
	res = IP_FRAG_COMPLETE;
	goto done;

drop_dgram:
	if (d != NIL && t->dgrams[d].in_use)
		dgram_free(t, d);
	res = IP_FRAG_DROPPED;
done:
	if (events != NULL)
		*events = ev;
	return res;
}

const char *
ip_frag_event_name(enum ip_frag_event e)
{
	static const char *const names[IP_FRAG_EV__COUNT] = {
		[IP_FRAG_EV_DUPLICATE] = "duplicate",
		[IP_FRAG_EV_OVERLAP_SAME] = "overlap_same",
		[IP_FRAG_EV_OVERLAP_DIFF] = "overlap_diff",
		[IP_FRAG_EV_TOO_MANY] = "too_many",
		[IP_FRAG_EV_TIMEOUT] = "timeout",
		[IP_FRAG_EV_TABLE_FULL] = "table_full",
		[IP_FRAG_EV_MEM_FULL] = "mem_full",
		[IP_FRAG_EV_BAD_LENGTH] = "bad_length",
		[IP_FRAG_EV_END_CONFLICT] = "end_conflict",
		[IP_FRAG_EV_TINY_FIRST] = "tiny_first",
		[IP_FRAG_EV_HDR_TOO_LONG] = "hdr_too_long",
		[IP_FRAG_EV_INVALID] = "invalid",
	};
	_Static_assert(IP_FRAG_EV__COUNT <= 32, "events are bits of a uint32_t");
	return (unsigned)e < IP_FRAG_EV__COUNT && names[e] != NULL ? names[e] : "unknown";
}
