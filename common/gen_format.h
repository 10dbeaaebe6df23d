/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule generation blob: what posternd hands to the dataplane (in a memfd passed over the
 * control link, or a file). It holds everything a worker needs to decide which rules fired
 * for a transaction: the rules' ids and actions, each content's buffer and polarity, and one
 * serialized Hyperscan database per buffer. Messages, classtypes and metadata stay in
 * posternd, which looks them up by sid when it writes an alert.
 *
 * Layout, all little-endian host order, every section 8-byte aligned:
 *   struct gen_hdr
 *   struct gen_rule    rules[n_rules]        sorted by rule index
 *   struct gen_content contents[n_contents]  a Hyperscan pattern id is a content index
 *   struct gen_db      dbs[n_dbs]            at most one per buffer
 *   database bytes, at gen_db.offset from the start of the blob
 *
 * Writer: posternd (control). Reader: dataplane main lcore, which validates every offset
 * with gen_blob_check() before any worker sees the generation.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define GEN_MAGIC 0x4e454750u /* "PGEN" */
#define GEN_VERSION 1u
#define GEN_MAX_CONTENTS_PER_RULE 32

enum gen_action {
	GEN_ACTION_ALERT = 0,
	GEN_ACTION_PASS = 1,
	GEN_ACTION_DROP = 2,
	GEN_ACTION_REJECT = 3,
};

enum gen_db_mode {
	GEN_DB_BLOCK = 0,
	GEN_DB_STREAM = 1,
};

struct gen_hdr {
	uint32_t magic;
	uint32_t version;
	uint64_t gen_id;      /* increases with every generation posternd builds */
	uint64_t total_len;   /* bytes in the whole blob */
	uint32_t n_rules;
	uint32_t n_contents;
	uint32_t n_dbs;
	uint32_t reserved;
};

struct gen_rule {
	uint32_t sid;
	uint32_t rev;
	uint32_t gid;
	uint8_t action;       /* enum gen_action */
	uint8_t n_contents;   /* contents[first_content .. first_content + n_contents) */
	uint16_t reserved;
	uint32_t first_content;
};

struct gen_content {
	uint32_t rule;        /* index into rules[] */
	uint8_t buffer;       /* enum buffer_id */
	uint8_t negated;      /* 1: the rule needs this content absent */
	uint16_t reserved;
};

struct gen_db {
	uint8_t buffer;       /* enum buffer_id */
	uint8_t mode;         /* enum gen_db_mode */
	uint16_t reserved;
	uint32_t n_patterns;
	uint64_t offset;      /* from the start of the blob */
	uint64_t len;
};

static inline size_t
gen_align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static inline const struct gen_rule *
gen_rules(const struct gen_hdr *h)
{
	return (const void *)((const uint8_t *)h + gen_align8(sizeof(*h)));
}

static inline const struct gen_content *
gen_contents(const struct gen_hdr *h)
{
	size_t off = gen_align8(sizeof(*h));

	off = gen_align8(off + (size_t)h->n_rules * sizeof(struct gen_rule));
	return (const void *)((const uint8_t *)h + off);
}

static inline const struct gen_db *
gen_dbs(const struct gen_hdr *h)
{
	size_t off = gen_align8(sizeof(*h));

	off = gen_align8(off + (size_t)h->n_rules * sizeof(struct gen_rule));
	off = gen_align8(off + (size_t)h->n_contents * sizeof(struct gen_content));
	return (const void *)((const uint8_t *)h + off);
}

/* Bytes before the first database: header and the three tables. */
static inline size_t
gen_tables_len(uint32_t n_rules, uint32_t n_contents, uint32_t n_dbs)
{
	size_t off = gen_align8(sizeof(struct gen_hdr));

	off = gen_align8(off + (size_t)n_rules * sizeof(struct gen_rule));
	off = gen_align8(off + (size_t)n_contents * sizeof(struct gen_content));
	return gen_align8(off + (size_t)n_dbs * sizeof(struct gen_db));
}

/*
 * Validate a blob's header and tables against its length: every count, index and offset in
 * range. Returns 0 or -EINVAL/-EPROTO (bad magic or version). Pure, any thread; the
 * Hyperscan databases themselves are checked when deserialized.
 */
int gen_blob_check(const void *blob, size_t len);
