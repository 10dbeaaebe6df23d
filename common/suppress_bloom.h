/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The suppression set's negative filter: a blocked Bloom filter over every key of the set
 * (address and domain keys, and the entry half of scoped keys), stored in the set itself
 * (meta "bloom") and written in the same transaction as the keys, so that a reader's snapshot
 * always holds the filter of exactly its own data: no staleness, no rebuild on the readers'
 * side, and the filter is read in place from the map, never copied. A key it rules out is not
 * in the set; one it lets through is looked up in LMDB. Most recipients are not on any list,
 * so most lookups end here (about 6x faster at 10M entries, see scripts/bench).
 *
 * Layout: struct suppress_bloom_hdr, then n_blocks blocks of 64 bytes (one cache line). A key
 * (SHA-256, already uniform) picks one block with its first 8 bytes and sets 8 bits of it
 * with the next 16. Sized at SUPPRESS_BLOOM_BITS_PER_KEY bits per key of capacity: about
 * 0.2% false positives when full; past capacity the writer builds a bigger one. Pure; the
 * reader functions never allocate and are safe on any bytes (a bad header means "no filter").
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SUPPRESS_BLOOM_MAGIC 0x46424d50u     /* "PMBF" little-endian */
#define SUPPRESS_BLOOM_VERSION 1
#define SUPPRESS_BLOOM_BITS_PER_KEY 16
#define SUPPRESS_BLOOM_MIN_CAPACITY 1024
#define SUPPRESS_BLOOM_BLOCK 64

struct suppress_bloom_hdr {
	uint32_t magic;
	uint32_t version;
	uint64_t n_blocks;
	uint64_t capacity;     /* keys it was sized for */
	uint64_t n_added;      /* keys added (re-adds and removed keys included) */
};

/* Bytes of a filter for capacity keys (raised to SUPPRESS_BLOOM_MIN_CAPACITY). */
size_t suppress_bloom_size(uint64_t capacity);

/* Make an empty filter in buf (suppress_bloom_size(capacity) bytes, 8-byte aligned). */
void suppress_bloom_init(void *buf, uint64_t capacity);

void suppress_bloom_add(void *buf, const uint8_t key[32]);

/* A filter of len bytes that suppress_bloom_maybe() can trust. */
bool suppress_bloom_valid(const void *buf, size_t len);

/* False only when key is certainly not in the filter. buf valid (checked once). */
bool suppress_bloom_maybe(const void *buf, const uint8_t key[32]);

/* More keys added than it was sized for: time to build a bigger one. */
bool suppress_bloom_full(const void *buf);
