/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the threshold / detection_filter value parser (control/threshold.c).
 * The first byte's low bit picks the keyword, the rest is the value, copied to a buffer of
 * exactly its size so that ASan sees any read past it. A value that fails must say where
 * (inside it) and why; one that parses must be in range, parse again identically when
 * written back in canonical form, and, run through a state table as a burst of matches in
 * one window, alert exactly as often as its type says. Anything else aborts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "threshold.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const type_words[] = { NULL, "limit", "threshold", "both" };
static const char *const track_words[] = { "by_src", "by_dst", "by_rule", "by_both" };

static void
check_in_range(const struct rule_threshold *r, bool df)
{
	if (df ? r->type != RULE_THRESHOLD_DETECTION_FILTER :
		 (r->type < RULE_THRESHOLD_LIMIT || r->type > RULE_THRESHOLD_BOTH))
		abort();
	if (r->track > RULE_TRACK_BY_BOTH || r->count < 1 || r->count > THRESHOLD_MAX_COUNT ||
	    r->seconds < 1 || r->seconds > THRESHOLD_MAX_SECONDS)
		abort();
}

static void
check_canonical(const struct rule_threshold *r, bool df)
{
	struct rule_threshold again;
	char text[128];
	int n;

	if (df)
		n = snprintf(text, sizeof(text), "seconds %u,count %u,  track %s", r->seconds,
			     r->count, track_words[r->track]);
	else
		n = snprintf(text, sizeof(text), "type %s, track %s, count %u, seconds %u",
			     type_words[r->type], track_words[r->track], r->count, r->seconds);
	if (n <= 0 || (size_t)n >= sizeof(text))
		abort();
	if (threshold_parse(text, (size_t)n, df, &again, NULL, NULL, 0) != 0 ||
	    memcmp(&again, r, sizeof(again)) != 0)
		abort();
}

/* n matches of one rule at one instant, all inside one window: the alerts each type gives. */
static void
check_burst(struct threshold_table *t, const struct rule_threshold *r)
{
	static const uint8_t src[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 };
	static const uint8_t dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	uint32_t n = r->count * 2 + 3, alerts = 0, want;

	if (n > 3000)
		n = 3000;
	threshold_table_clear(t);
	for (uint32_t i = 0; i < n; i++)
		alerts += threshold_check(t, r, 1, 1000001, src, dst, UINT64_C(1700000000000000));
	switch (r->type) {
	case RULE_THRESHOLD_LIMIT:
		want = n < r->count ? n : r->count;
		break;
	case RULE_THRESHOLD_THRESHOLD:
		want = n / r->count;
		break;
	case RULE_THRESHOLD_BOTH:
		want = n >= r->count ? 1 : 0;
		break;
	default:
		want = n > r->count ? n - r->count : 0;
		break;
	}
	if (alerts != want)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct threshold_table *t;
	struct rule_threshold r, before;
	size_t len, off = SIZE_MAX;
	char err[256];
	char *copy;
	bool df;
	int rc;

	if (size == 0)
		return 0;
	if (t == NULL) {
		t = threshold_table_create(4);
		if (t == NULL)
			abort();
	}
	df = data[0] & 1;
	len = size - 1;
	copy = malloc(len ? len : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data + 1, len);
	memset(&r, 0x5a, sizeof(r));
	before = r;
	memset(err, 'X', sizeof(err));
	rc = threshold_parse(copy, len, df, &r, &off, err, sizeof(err));
	free(copy);
	if (rc != 0) {
		if (rc != -EINVAL || off > len || memchr(err, '\0', sizeof(err)) == NULL ||
		    err[0] == '\0' || memcmp(&r, &before, sizeof(r)) != 0)
			abort();
		return 0;
	}
	check_in_range(&r, df);
	check_canonical(&r, df);
	check_burst(t, &r);
	return 0;
}
