/* SPDX-License-Identifier: BSD-3-Clause */
/* The suppression set's blocked Bloom filter; see suppress_bloom.h. Pure, any thread. */
#include <string.h>

#include "suppress_bloom.h"

#define BITS_PER_BLOCK (SUPPRESS_BLOOM_BLOCK * 8)
#define K 8

_Static_assert(sizeof(struct suppress_bloom_hdr) % 8 == 0, "blocks start 8-byte aligned");

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v; /* host order: the filter is only ever read on the host that wrote it */
}

size_t
suppress_bloom_size(uint64_t capacity)
{
	uint64_t bits, blocks;

	if (capacity < SUPPRESS_BLOOM_MIN_CAPACITY)
		capacity = SUPPRESS_BLOOM_MIN_CAPACITY;
	bits = capacity * SUPPRESS_BLOOM_BITS_PER_KEY;
	blocks = (bits + BITS_PER_BLOCK - 1) / BITS_PER_BLOCK;
	return sizeof(struct suppress_bloom_hdr) + blocks * SUPPRESS_BLOOM_BLOCK;
}

void
suppress_bloom_init(void *buf, uint64_t capacity)
{
	size_t size = suppress_bloom_size(capacity);
	struct suppress_bloom_hdr h = {
		.magic = SUPPRESS_BLOOM_MAGIC,
		.version = SUPPRESS_BLOOM_VERSION,
		.n_blocks = (size - sizeof(h)) / SUPPRESS_BLOOM_BLOCK,
		.capacity = capacity < SUPPRESS_BLOOM_MIN_CAPACITY ? SUPPRESS_BLOOM_MIN_CAPACITY
								   : capacity,
	};

	memset(buf, 0, size);
	memcpy(buf, &h, sizeof(h));
}

/* The key's block, and its K bit positions in it (9 bits each, from bytes 8..23). */
static const uint8_t *
block_of(const void *buf, uint64_t n_blocks, const uint8_t key[32], uint16_t pos[K])
{
	uint64_t h1 = le64(key), h2 = le64(key + 8), h3 = le64(key + 16);
	/* Lemire's multiply-shift range reduction: no division on the lookup path */
	uint64_t b = (uint64_t)(((unsigned __int128)h1 * n_blocks) >> 64);

	for (int i = 0; i < 7; i++)
		pos[i] = (uint16_t)((h2 >> (9 * i)) & (BITS_PER_BLOCK - 1));
	pos[7] = (uint16_t)(h3 & (BITS_PER_BLOCK - 1));
	return (const uint8_t *)buf + sizeof(struct suppress_bloom_hdr) + b * SUPPRESS_BLOOM_BLOCK;
}

void
suppress_bloom_add(void *buf, const uint8_t key[32])
{
	struct suppress_bloom_hdr h;
	uint16_t pos[K];
	uint8_t *blk;

	memcpy(&h, buf, sizeof(h));
	blk = (uint8_t *)block_of(buf, h.n_blocks, key, pos);
	for (int i = 0; i < K; i++)
		blk[pos[i] >> 3] |= (uint8_t)(1u << (pos[i] & 7));
	h.n_added++;
	memcpy(buf, &h, sizeof(h));
}

bool
suppress_bloom_valid(const void *buf, size_t len)
{
	struct suppress_bloom_hdr h;

	if (buf == NULL || len < sizeof(h))
		return false;
	memcpy(&h, buf, sizeof(h));
	return h.magic == SUPPRESS_BLOOM_MAGIC && h.version == SUPPRESS_BLOOM_VERSION &&
	       h.n_blocks > 0 && h.n_blocks <= (len - sizeof(h)) / SUPPRESS_BLOOM_BLOCK &&
	       len - sizeof(h) == h.n_blocks * SUPPRESS_BLOOM_BLOCK;
}

bool
suppress_bloom_maybe(const void *buf, const uint8_t key[32])
{
	uint64_t n_blocks;
	uint16_t pos[K];
	const uint8_t *blk;

	memcpy(&n_blocks, (const uint8_t *)buf + offsetof(struct suppress_bloom_hdr, n_blocks),
	       sizeof(n_blocks));
	blk = block_of(buf, n_blocks, key, pos);
	for (int i = 0; i < K; i++)
		if (!(blk[pos[i] >> 3] & (1u << (pos[i] & 7))))
			return false;
	return true;
}

bool
suppress_bloom_full(const void *buf)
{
	struct suppress_bloom_hdr h;

	memcpy(&h, buf, sizeof(h));
	return h.n_added > h.capacity;
}
