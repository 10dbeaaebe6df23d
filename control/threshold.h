/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suricata's `threshold` and `detection_filter` rule keywords, for the alerts posternd writes:
 * the parser of their values (used by the rule parser) and the state table that decides, for
 * each match of a rule, whether its alert is written or suppressed. The decisions are
 * Suricata's own (detect-engine-threshold.c: ThresholdSetup for a new entry,
 * ThresholdCheckUpdate for a known one, ThresholdGetFromHash for the keys), including its
 * window: it starts at the first match, ends `seconds` later inclusive, and restarts with the
 * first match after it. Memory is bounded: the table holds at most max_entries entries,
 * allocated once; when it is full it reuses an expired entry, else the least recently used
 * one, and counts it (evicted). It does not implement threshold.config, suppress, rate_filter,
 * type backoff, track by_flow or detection_filter's unique_on.
 *
 * Control thread only: the table is not locked.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rule_parse.h"

#define THRESHOLD_MAX_COUNT 1000000u          /* count 1 .. this */
#define THRESHOLD_MAX_SECONDS 31536000u       /* seconds 1 .. this (365 days) */
#define THRESHOLD_MAX_ENTRIES (1u << 22)      /* table capacity; ~100 bytes each */

/*
 * Parse a threshold value, "type limit, track by_src, count 1, seconds 60", or, when
 * detection_filter, a detection_filter value, "track by_src, count 10, seconds 60" (no type;
 * the result's type is RULE_THRESHOLD_DETECTION_FILTER). Parts are comma-separated, in any
 * order, each exactly once and all required; names and values are ASCII case-insensitive;
 * blanks (space, tab) around parts and between a name and its value are ignored. value is
 * len bytes, need not be NUL-terminated, and is never read past len.
 *
 * Returns 0 and fills *out, or -EINVAL, leaves *out untouched, and sets *err_off to the byte
 * offset in value at fault (len for a missing part) and err to a NUL-terminated message
 * without the keyword's name ("missing 'seconds'", "unknown track 'by_foo' (by_src, by_dst,
 * by_rule, by_both)", "count must be 1..1000000, not '0'"): the caller prefixes it.
 * err_off and err may be NULL. Pure, any thread.
 */
int threshold_parse(const char *value, size_t len, bool detection_filter,
		    struct rule_threshold *out, size_t *err_off, char *err, size_t errlen);

struct threshold_table;

/*
 * A table of at most max_entries (1 .. THRESHOLD_MAX_ENTRIES) entries, all allocated here.
 * Returns NULL with errno EINVAL (bad max_entries) or ENOMEM. The caller owns it.
 */
struct threshold_table *threshold_table_create(uint32_t max_entries);

/* Free a table; NULL is a no-op. */
void threshold_table_destroy(struct threshold_table *t);

/*
 * One match of rule gid:sid, whose threshold or detection_filter is spec, at now_us
 * (microseconds, any epoch, the same for every call), from src to dst (16 bytes each, IPv4
 * as ::ffff:a.b.c.d; either may be NULL when spec does not track it). Returns true when the
 * alert is to be written, false when the threshold suppresses it. A spec of type
 * RULE_THRESHOLD_NONE always passes and takes no entry; so does an unknown type (a bug
 * upstream must not lose alerts). Entries are keyed by (gid, sid, spec type, spec track,
 * tracked addresses); by_both tracks the unordered pair, so both directions share one entry,
 * as in Suricata. Never allocates. A rule with both keywords (Suricata refuses that) calls
 * this once for each; their entries are distinct.
 */
bool threshold_check(struct threshold_table *t, const struct rule_threshold *spec, uint32_t gid,
		     uint32_t sid, const uint8_t src[16], const uint8_t dst[16], uint64_t now_us);

struct threshold_stats {
	uint64_t checked;       /* threshold_check calls with a threshold (type not NONE) */
	uint64_t suppressed;    /* of those, the ones that returned false */
	uint64_t entries;       /* entries in use now */
	uint64_t evicted;       /* entries reused because the table was full: an expired one
				 * (which loses nothing) or else the least recently used */
};

/* Counters since create (clear resets entries only). */
void threshold_stats(const struct threshold_table *t, struct threshold_stats *out);

/* Forget every entry (a reload whose rules changed may call it); the counters stay. */
void threshold_table_clear(struct threshold_table *t);
