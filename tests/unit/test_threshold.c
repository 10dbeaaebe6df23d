/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of control/threshold.c: the value parser (a table of good values with their
 * fields, and of bad ones with the byte each error points at and its exact message; every
 * value also parsed from an exact-size buffer and cut at every byte), and the state table
 * (each type with exact timestamp sequences inside and across window boundaries, worked out
 * by hand from Suricata's ThresholdSetup/ThresholdCheckUpdate; each track mode; IPv6;
 * eviction when full; clear; and a long random run compared with a plain linear-scan model
 * written straight from Suricata's code).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "threshold.h"

#define S(x) ((uint64_t)(x) * 1000000u)       /* seconds to microseconds */
#define T0 S(1700000000)                      /* a realistic epoch, well away from 0 */

static const char *const type_str[] = { "none", "limit", "threshold", "both", "df" };

static void
addr4(uint8_t out[16], uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	memset(out, 0, 16);
	out[10] = 0xff;
	out[11] = 0xff;
	out[12] = a;
	out[13] = b;
	out[14] = c;
	out[15] = d;
}

static void
addr6(uint8_t out[16], uint16_t first, uint8_t last)
{
	memset(out, 0, 16);
	out[0] = (uint8_t)(first >> 8);
	out[1] = (uint8_t)first;
	out[15] = last;
}

static struct rule_threshold
spec(uint8_t type, uint8_t track, uint32_t count, uint32_t seconds)
{
	struct rule_threshold s = { .type = type, .track = track, .count = count,
				    .seconds = seconds };
	return s;
}

/* One match at T0 + at_us; want: whether the alert is written. */
struct step {
	uint64_t at_us;
	bool want;
};

static void
run_steps(struct threshold_table *t, const struct rule_threshold *sp, const uint8_t *src,
	  const uint8_t *dst, const struct step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool got = threshold_check(t, sp, 1, 1000001, src, dst, T0 + steps[i].at_us);

		if (got != steps[i].want) {
			print_error("%s count %u seconds %u: step %zu at +%llu us: got %d\n",
				    type_str[sp->type], sp->count, sp->seconds, i,
				    (unsigned long long)steps[i].at_us, got);
			fail();
		}
	}
}

static void
run_fresh(const struct rule_threshold *sp, const struct step *steps, size_t n)
{
	struct threshold_table *t = threshold_table_create(16);
	uint8_t src[16], dst[16];

	assert_non_null(t);
	addr4(src, 10, 0, 0, 1);
	addr4(dst, 10, 0, 0, 2);
	run_steps(t, sp, src, dst, steps, n);
	threshold_table_destroy(t);
}

#define RUN(sp, steps) run_fresh(&(sp), (steps), sizeof(steps) / sizeof((steps)[0]))

/* ------------------------------------------------------------------ each type */

/* limit: the first count matches of each window; a window is [first, first + seconds]. */
static void
test_limit(void **state)
{
	(void)state;
	struct rule_threshold sp = spec(RULE_THRESHOLD_LIMIT, RULE_TRACK_BY_SRC, 2, 60);
	static const struct step steps[] = {
		{ S(0), true },            /* new entry: tv1 = 0, count 1 */
		{ S(10), true },           /* count 2 <= 2 */
		{ S(20), false },          /* count 3 */
		{ S(60), false },          /* exactly tv1 + 60 is still inside (LTE) */
		{ S(60) + 1, true },       /* one microsecond later: reset, tv1 = 60.000001 */
		{ S(61), true },           /* count 2 */
		{ S(62), false },
		{ S(120) + 1, false },     /* tv1 + 60, inclusive */
		{ S(120) + 2, true },      /* new window */
		{ S(500), true },          /* a long gap: new window */
		{ S(500), true },          /* same microsecond, count 2 */
		{ S(500), false },
	};
	RUN(sp, steps);
}

/* The common ET form: type limit, count 1, seconds 180. */
static void
test_limit_count1(void **state)
{
	(void)state;
	struct rule_threshold sp = spec(RULE_THRESHOLD_LIMIT, RULE_TRACK_BY_SRC, 1, 180);
	static const struct step steps[] = {
		{ S(0), true },  { S(1), false },   { S(179), false }, { S(180), false },
		{ S(181), true }, { S(200), false }, { S(361), false }, { S(362), true },
	};
	RUN(sp, steps);
}

/*
 * threshold: every count-th match. After an alert the counter restarts at 0 while the
 * window keeps its start, so the next alert needs count more matches before the same end.
 */
static void
test_threshold(void **state)
{
	(void)state;
	struct rule_threshold sp = spec(RULE_THRESHOLD_THRESHOLD, RULE_TRACK_BY_SRC, 3, 60);
	static const struct step steps[] = {
		{ S(0), false },           /* new entry, count 1 */
		{ S(1), false },           /* 2 */
		{ S(2), true },            /* 3 >= 3: alert, count 0, tv1 stays 0 */
		{ S(3), false },           /* 1 */
		{ S(4), false },           /* 2 */
		{ S(5), true },            /* 3: alert, count 0 */
		{ S(59), false },          /* 1 */
		{ S(60), false },          /* 2, still inside (tv1 + 60) */
		{ S(60) + 1, false },      /* expired: reset to count 1, tv1 = 60.000001 */
		{ S(61), false },          /* 2 */
		{ S(62), true },           /* 3 */
		{ S(200), false },         /* expired, count 1 */
		{ S(261), false },         /* expired again (200 + 60 < 261), count 1 */
		{ S(262), false },         /* 2 */
		{ S(263), true },          /* 3 */
	};
	RUN(sp, steps);
}

/* threshold count 1: every match alerts, and ThresholdGetFromHash keeps no entry for it. */
static void
test_threshold_count1(void **state)
{
	(void)state;
	struct threshold_table *t = threshold_table_create(4);
	struct rule_threshold sp = spec(RULE_THRESHOLD_THRESHOLD, RULE_TRACK_BY_SRC, 1, 60);
	struct threshold_stats st;
	uint8_t a[16], b[16];

	assert_non_null(t);
	addr4(a, 192, 0, 2, 1);
	addr4(b, 192, 0, 2, 2);
	for (int i = 0; i < 10; i++)
		assert_true(threshold_check(t, &sp, 1, 7, a, b, T0 + S(i)));
	threshold_stats(t, &st);
	assert_int_equal(st.checked, 10);
	assert_int_equal(st.suppressed, 0);
	assert_int_equal(st.entries, 0);
	threshold_table_destroy(t);
}

/* both: the count-th match of each window, nothing before or after it in that window. */
static void
test_both(void **state)
{
	(void)state;
	struct rule_threshold sp = spec(RULE_THRESHOLD_BOTH, RULE_TRACK_BY_SRC, 2, 60);
	static const struct step steps[] = {
		{ S(0), false },           /* new, count 1 */
		{ S(1), true },            /* count 2 == 2 */
		{ S(2), false },           /* 3 > 2: silent */
		{ S(60), false },          /* inside, 4 */
		{ S(60) + 1, false },      /* expired: count 1, no alert (count is 2) */
		{ S(61), true },           /* 2 */
		{ S(90), false },
		{ S(121), false },         /* tv1 60.000001 + 60 = 120.000001 < 121: reset, 1 */
		{ S(181), true },          /* 121 + 60 = 181, inclusive: 2 */
	};
	RUN(sp, steps);
}

static void
test_both_count1(void **state)
{
	(void)state;
	struct rule_threshold sp = spec(RULE_THRESHOLD_BOTH, RULE_TRACK_BY_SRC, 1, 10);
	static const struct step steps[] = {
		{ S(0), true },            /* ThresholdSetup: count == 1 alerts at once */
		{ S(5), false },           /* 2 > 1 */
		{ S(10), false },
		{ S(11), true },           /* expired: reset to 1 == count: alert */
		{ S(12), false },
	};
	RUN(sp, steps);
}

/*
 * detection_filter: every match after the count-th in the window. The count-th itself does
 * not alert, the (count+1)-th does (current_count > count), and so does every later one.
 */
static void
test_detection_filter(void **state)
{
	(void)state;
	struct rule_threshold sp = spec(RULE_THRESHOLD_DETECTION_FILTER, RULE_TRACK_BY_SRC, 3, 60);
	static const struct step steps[] = {
		{ S(0), false },           /* 1 */
		{ S(1), false },           /* 2 */
		{ S(2), false },           /* 3: the count-th, still quiet */
		{ S(3), true },            /* 4: the (count+1)-th */
		{ S(4), true },
		{ S(60), true },           /* inclusive end */
		{ S(60) + 1, false },      /* expired: 1 */
		{ S(61), false },          /* 2 */
		{ S(62), false },          /* 3 */
		{ S(63), true },           /* 4 */
	};
	RUN(sp, steps);
}

static void
test_detection_filter_count1(void **state)
{
	(void)state;
	struct rule_threshold sp = spec(RULE_THRESHOLD_DETECTION_FILTER, RULE_TRACK_BY_SRC, 1, 2);
	static const struct step steps[] = {
		{ S(0), false },           /* ThresholdSetup never alerts for detection_filter */
		{ S(1), true },            /* 2 > 1 */
		{ S(2), true },            /* inclusive end */
		{ S(2) + 1, false },       /* expired: 1 */
		{ S(3), true },
	};
	RUN(sp, steps);
}

/* A timestamp before the window's start counts as inside it (Suricata's LTE test). */
static void
test_time_backwards(void **state)
{
	(void)state;
	struct rule_threshold sp = spec(RULE_THRESHOLD_LIMIT, RULE_TRACK_BY_RULE, 1, 60);
	static const struct step steps[] = {
		{ S(100), true }, { S(50), false }, { S(0), false }, { S(161), true },
	};
	RUN(sp, steps);
}

/* No threshold: always written, no entry, not counted. */
static void
test_none(void **state)
{
	(void)state;
	struct threshold_table *t = threshold_table_create(1);
	struct rule_threshold none = { 0 };
	struct rule_threshold bad_type = spec(RULE_THRESHOLD_DETECTION_FILTER + 1,
					      RULE_TRACK_BY_SRC, 1, 1);
	struct rule_threshold bad_track = spec(RULE_THRESHOLD_LIMIT, RULE_TRACK_BY_BOTH + 1, 1, 1);
	struct threshold_stats st;
	uint8_t a[16];

	assert_non_null(t);
	addr4(a, 1, 2, 3, 4);
	for (int i = 0; i < 5; i++) {
		assert_true(threshold_check(t, &none, 1, 1, a, a, T0));
		assert_true(threshold_check(t, &bad_type, 1, 1, a, a, T0));
		assert_true(threshold_check(t, &bad_track, 1, 1, a, a, T0));
	}
	threshold_stats(t, &st);
	assert_int_equal(st.checked, 0);
	assert_int_equal(st.entries, 0);
	threshold_table_destroy(t);
}

static void
test_stats(void **state)
{
	(void)state;
	struct threshold_table *t = threshold_table_create(8);
	struct rule_threshold sp = spec(RULE_THRESHOLD_LIMIT, RULE_TRACK_BY_SRC, 2, 60);
	struct threshold_stats st;
	uint8_t a[16], b[16];
	int pass = 0;

	assert_non_null(t);
	addr4(a, 1, 1, 1, 1);
	addr4(b, 2, 2, 2, 2);
	for (int i = 0; i < 5; i++)
		pass += threshold_check(t, &sp, 1, 1, a, b, T0 + S(i));
	for (int i = 0; i < 3; i++)
		pass += threshold_check(t, &sp, 1, 1, b, a, T0 + S(i));
	assert_int_equal(pass, 4);
	threshold_stats(t, &st);
	assert_int_equal(st.checked, 8);
	assert_int_equal(st.suppressed, 4);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.evicted, 0);
	threshold_table_destroy(t);
}

/* ------------------------------------------------------------------ track modes */

static void
test_track_by_src(void **state)
{
	(void)state;
	struct threshold_table *t = threshold_table_create(16);
	struct rule_threshold sp = spec(RULE_THRESHOLD_LIMIT, RULE_TRACK_BY_SRC, 1, 60);
	struct threshold_stats st;
	uint8_t s1[16], s2[16], d1[16], d2[16];

	assert_non_null(t);
	addr4(s1, 10, 0, 0, 1);
	addr4(s2, 10, 0, 0, 2);
	addr4(d1, 10, 1, 0, 1);
	addr4(d2, 10, 1, 0, 2);
	assert_true(threshold_check(t, &sp, 1, 5, s1, d1, T0));
	assert_true(threshold_check(t, &sp, 1, 5, s2, d1, T0));        /* other source */
	assert_false(threshold_check(t, &sp, 1, 5, s1, d2, T0 + 1));   /* same source */
	assert_false(threshold_check(t, &sp, 1, 5, s2, d2, T0 + 1));
	assert_false(threshold_check(t, &sp, 1, 5, s1, NULL, T0 + 2)); /* dst not needed */
	/* the source as a destination is not the source */
	assert_true(threshold_check(t, &sp, 1, 5, d1, s1, T0 + 3));
	/* another sid, another gid: other entries */
	assert_true(threshold_check(t, &sp, 1, 6, s1, d1, T0 + 4));
	assert_true(threshold_check(t, &sp, 2, 5, s1, d1, T0 + 5));
	threshold_stats(t, &st);
	assert_int_equal(st.entries, 5);
	threshold_table_destroy(t);
}

static void
test_track_by_dst(void **state)
{
	(void)state;
	struct threshold_table *t = threshold_table_create(16);
	struct rule_threshold sp = spec(RULE_THRESHOLD_DETECTION_FILTER, RULE_TRACK_BY_DST, 1, 60);
	uint8_t s1[16], s2[16], d1[16], d2[16];

	assert_non_null(t);
	addr4(s1, 10, 0, 0, 1);
	addr4(s2, 10, 0, 0, 2);
	addr4(d1, 10, 1, 0, 1);
	addr4(d2, 10, 1, 0, 2);
	/* many sources to one destination add up: the second match alerts */
	assert_false(threshold_check(t, &sp, 1, 5, s1, d1, T0));
	assert_true(threshold_check(t, &sp, 1, 5, s2, d1, T0 + 1));
	/* another destination starts its own count */
	assert_false(threshold_check(t, &sp, 1, 5, s1, d2, T0 + 2));
	assert_true(threshold_check(t, &sp, 1, 5, NULL, d2, T0 + 3));
	threshold_table_destroy(t);
}

static void
test_track_by_rule(void **state)
{
	(void)state;
	struct threshold_table *t = threshold_table_create(16);
	struct rule_threshold sp = spec(RULE_THRESHOLD_LIMIT, RULE_TRACK_BY_RULE, 2, 60);
	struct threshold_stats st;
	uint8_t a[16], b[16], c[16];

	assert_non_null(t);
	addr4(a, 10, 0, 0, 1);
	addr4(b, 10, 0, 0, 2);
	addr6(c, 0x2001, 3);
	/* addresses do not matter: all count for the rule */
	assert_true(threshold_check(t, &sp, 1, 5, a, b, T0));
	assert_true(threshold_check(t, &sp, 1, 5, c, a, T0 + 1));
	assert_false(threshold_check(t, &sp, 1, 5, b, c, T0 + 2));
	assert_false(threshold_check(t, &sp, 1, 5, NULL, NULL, T0 + 3));
	/* but the rule does */
	assert_true(threshold_check(t, &sp, 1, 6, a, b, T0 + 4));
	assert_true(threshold_check(t, &sp, 3, 5, a, b, T0 + 5));
	threshold_stats(t, &st);
	assert_int_equal(st.entries, 3);
	threshold_table_destroy(t);
}

/* by_both: the unordered pair (ThresholdGetFromHash orders it), so both directions share. */
static void
test_track_by_both(void **state)
{
	(void)state;
	struct threshold_table *t = threshold_table_create(16);
	struct rule_threshold sp = spec(RULE_THRESHOLD_LIMIT, RULE_TRACK_BY_BOTH, 2, 60);
	struct threshold_stats st;
	uint8_t a[16], b[16], c[16];

	assert_non_null(t);
	addr4(a, 10, 0, 0, 1);
	addr4(b, 10, 0, 0, 2);
	addr4(c, 10, 0, 0, 3);
	assert_true(threshold_check(t, &sp, 1, 5, a, b, T0));
	assert_true(threshold_check(t, &sp, 1, 5, b, a, T0 + 1));      /* same pair */
	assert_false(threshold_check(t, &sp, 1, 5, a, b, T0 + 2));
	assert_false(threshold_check(t, &sp, 1, 5, b, a, T0 + 3));
	assert_true(threshold_check(t, &sp, 1, 5, a, c, T0 + 4));      /* other pair */
	assert_true(threshold_check(t, &sp, 1, 5, c, b, T0 + 5));
	assert_true(threshold_check(t, &sp, 1, 5, c, c, T0 + 6));      /* a host to itself */
	threshold_stats(t, &st);
	assert_int_equal(st.entries, 4);
	threshold_table_destroy(t);
}

static void
test_ipv6(void **state)
{
	(void)state;
	struct threshold_table *t = threshold_table_create(16);
	struct rule_threshold sp = spec(RULE_THRESHOLD_LIMIT, RULE_TRACK_BY_SRC, 1, 60);
	struct rule_threshold pair = spec(RULE_THRESHOLD_BOTH, RULE_TRACK_BY_BOTH, 2, 60);
	uint8_t v6a[16], v6b[16], v6c[16], v4[16], d[16];

	assert_non_null(t);
	addr6(v6a, 0x2001, 1);
	addr6(v6b, 0x2001, 2);
	addr6(v6c, 0xfe80, 1);          /* differs from v6a in its first bytes only */
	addr4(v4, 0, 0, 0, 1);          /* ::ffff:0.0.0.1, same last byte as v6a */
	addr6(d, 0x2001, 0x25);
	assert_true(threshold_check(t, &sp, 1, 9, v6a, d, T0));
	assert_true(threshold_check(t, &sp, 1, 9, v6b, d, T0));
	assert_true(threshold_check(t, &sp, 1, 9, v6c, d, T0));
	assert_true(threshold_check(t, &sp, 1, 9, v4, d, T0));
	assert_false(threshold_check(t, &sp, 1, 9, v6a, d, T0 + 1));
	assert_false(threshold_check(t, &sp, 1, 9, v6b, d, T0 + 1));
	assert_false(threshold_check(t, &sp, 1, 9, v6c, d, T0 + 1));
	assert_false(threshold_check(t, &sp, 1, 9, v4, d, T0 + 1));
	/* an IPv6 pair in both directions: the second match of the pair is the count-th */
	assert_false(threshold_check(t, &pair, 1, 10, v6a, v6c, T0));
	assert_true(threshold_check(t, &pair, 1, 10, v6c, v6a, T0 + 1));
	assert_false(threshold_check(t, &pair, 1, 10, v6a, v6c, T0 + 2));
	threshold_table_destroy(t);
}

/* The threshold and the detection_filter of one sid keep apart. */
static void
test_types_apart(void **state)
{
	(void)state;
	struct threshold_table *t = threshold_table_create(16);
	struct rule_threshold lim = spec(RULE_THRESHOLD_LIMIT, RULE_TRACK_BY_SRC, 1, 60);
	struct rule_threshold df = spec(RULE_THRESHOLD_DETECTION_FILTER, RULE_TRACK_BY_SRC, 1, 60);
	uint8_t a[16];

	assert_non_null(t);
	addr4(a, 10, 9, 8, 7);
	assert_true(threshold_check(t, &lim, 1, 5, a, a, T0));
	assert_false(threshold_check(t, &df, 1, 5, a, a, T0));      /* its own first match */
	assert_false(threshold_check(t, &lim, 1, 5, a, a, T0 + 1));
	assert_true(threshold_check(t, &df, 1, 5, a, a, T0 + 1));
	threshold_table_destroy(t);
}

/* ------------------------------------------------------------------ capacity */

static void
test_create_bounds(void **state)
{
	(void)state;
	errno = 0;
	assert_null(threshold_table_create(0));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(threshold_table_create(THRESHOLD_MAX_ENTRIES + 1));
	assert_int_equal(errno, EINVAL);
	threshold_table_destroy(NULL);
}

/* A full table gives up its least recently used entry; the others keep their state. */
static void
test_evict_lru(void **state)
{
	(void)state;
	struct threshold_table *t = threshold_table_create(4);
	struct rule_threshold sp = spec(RULE_THRESHOLD_LIMIT, RULE_TRACK_BY_SRC, 1, 3600);
	struct threshold_stats st;
	uint8_t h[6][16];

	assert_non_null(t);
	for (int i = 0; i < 6; i++)
		addr4(h[i], 10, 0, 0, (uint8_t)(i + 1));
	for (int i = 0; i < 4; i++)
		assert_true(threshold_check(t, &sp, 1, 1, h[i], NULL, T0 + S(i)));
	/* touch 0, 2, 3: host 1 is now the least recently used */
	assert_false(threshold_check(t, &sp, 1, 1, h[0], NULL, T0 + S(10)));
	assert_false(threshold_check(t, &sp, 1, 1, h[2], NULL, T0 + S(11)));
	assert_false(threshold_check(t, &sp, 1, 1, h[3], NULL, T0 + S(12)));
	assert_true(threshold_check(t, &sp, 1, 1, h[4], NULL, T0 + S(13)));   /* evicts 1 */
	threshold_stats(t, &st);
	assert_int_equal(st.entries, 4);
	assert_int_equal(st.evicted, 1);
	/* the kept ones still suppress */
	assert_false(threshold_check(t, &sp, 1, 1, h[0], NULL, T0 + S(14)));
	assert_false(threshold_check(t, &sp, 1, 1, h[2], NULL, T0 + S(15)));
	assert_false(threshold_check(t, &sp, 1, 1, h[3], NULL, T0 + S(16)));
	assert_false(threshold_check(t, &sp, 1, 1, h[4], NULL, T0 + S(17)));
	threshold_stats(t, &st);
	assert_int_equal(st.evicted, 1);
	/* host 1 lost its state: it starts again (evicting host 0, now the oldest) */
	assert_true(threshold_check(t, &sp, 1, 1, h[1], NULL, T0 + S(18)));
	assert_false(threshold_check(t, &sp, 1, 1, h[1], NULL, T0 + S(19)));
	assert_false(threshold_check(t, &sp, 1, 1, h[2], NULL, T0 + S(20)));
	threshold_stats(t, &st);
	assert_int_equal(st.evicted, 2);
	assert_int_equal(st.entries, 4);
	threshold_table_destroy(t);
}

/* Before the least recently used entry, an expired one is given up (it loses nothing). */
static void
test_evict_expired_first(void **state)
{
	(void)state;
	struct threshold_table *t = threshold_table_create(2);
	struct rule_threshold short_w = spec(RULE_THRESHOLD_LIMIT, RULE_TRACK_BY_SRC, 1, 10);
	struct rule_threshold long_w = spec(RULE_THRESHOLD_LIMIT, RULE_TRACK_BY_SRC, 1, 1000);
	struct threshold_stats st;
	uint8_t a[16], b[16], c[16];

	assert_non_null(t);
	addr4(a, 10, 0, 0, 1);
	addr4(b, 10, 0, 0, 2);
	addr4(c, 10, 0, 0, 3);
	assert_true(threshold_check(t, &short_w, 1, 1, a, NULL, T0));
	assert_true(threshold_check(t, &long_w, 1, 2, b, NULL, T0 + S(1)));
	assert_false(threshold_check(t, &short_w, 1, 1, a, NULL, T0 + S(2)));  /* b is LRU */
	/* at +20 a's window (0..10) is over, b's (1..1001) is not: c takes a's entry */
	assert_true(threshold_check(t, &long_w, 1, 3, c, NULL, T0 + S(20)));
	threshold_stats(t, &st);
	assert_int_equal(st.evicted, 1);
	assert_false(threshold_check(t, &long_w, 1, 2, b, NULL, T0 + S(21)));  /* b kept */
	assert_false(threshold_check(t, &long_w, 1, 3, c, NULL, T0 + S(22)));
	threshold_table_destroy(t);
}

static void
test_clear(void **state)
{
	(void)state;
	struct threshold_table *t = threshold_table_create(3);
	struct rule_threshold sp = spec(RULE_THRESHOLD_LIMIT, RULE_TRACK_BY_RULE, 1, 60);
	struct threshold_stats st;

	assert_non_null(t);
	assert_true(threshold_check(t, &sp, 1, 1, NULL, NULL, T0));
	assert_true(threshold_check(t, &sp, 1, 2, NULL, NULL, T0));
	assert_false(threshold_check(t, &sp, 1, 1, NULL, NULL, T0 + 1));
	threshold_table_clear(t);
	threshold_stats(t, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.checked, 3);
	assert_true(threshold_check(t, &sp, 1, 1, NULL, NULL, T0 + 2));
	assert_false(threshold_check(t, &sp, 1, 1, NULL, NULL, T0 + 3));
	assert_true(threshold_check(t, &sp, 1, 2, NULL, NULL, T0 + 4));
	threshold_stats(t, &st);
	assert_int_equal(st.entries, 2);
	threshold_table_destroy(t);
}

/* A window of 365 days at the end of time neither wraps nor expires early. */
static void
test_time_limits(void **state)
{
	(void)state;
	struct rule_threshold sp = spec(RULE_THRESHOLD_LIMIT, RULE_TRACK_BY_RULE, 1,
					THRESHOLD_MAX_SECONDS);
	struct threshold_table *t = threshold_table_create(1);

	assert_non_null(t);
	assert_true(threshold_check(t, &sp, 1, 1, NULL, NULL, UINT64_MAX - 5));
	assert_false(threshold_check(t, &sp, 1, 1, NULL, NULL, UINT64_MAX));
	threshold_table_clear(t);
	assert_true(threshold_check(t, &sp, 1, 1, NULL, NULL, 0));
	assert_false(threshold_check(t, &sp, 1, 1, NULL, NULL, S(THRESHOLD_MAX_SECONDS)));
	assert_true(threshold_check(t, &sp, 1, 1, NULL, NULL, S(THRESHOLD_MAX_SECONDS) + 1));
	threshold_table_destroy(t);
}

/* ------------------------------------------------------------------ reference model */

/*
 * The same decisions, written again straight from Suricata's code with a linear scan and
 * no capacity: the table must agree with it on every match while nothing is evicted.
 */
struct model_entry {
	uint32_t gid, sid;
	uint8_t type, track;
	uint8_t a[16], b[16];
	uint32_t current_count;
	uint64_t tv1;
};

struct model {
	struct model_entry *e;
	size_t n, cap;
};

static bool
model_check(struct model *m, const struct rule_threshold *td, uint32_t gid, uint32_t sid,
	    const uint8_t *src, const uint8_t *dst, uint64_t ts)
{
	uint8_t a[16] = { 0 }, b[16] = { 0 };
	struct model_entry *te = NULL;
	uint64_t entry;

	if (td->type == RULE_THRESHOLD_THRESHOLD && td->count == 1)
		return true;
	if (td->track == RULE_TRACK_BY_SRC) {
		memcpy(a, src, 16);
	} else if (td->track == RULE_TRACK_BY_DST) {
		memcpy(a, dst, 16);
	} else if (td->track == RULE_TRACK_BY_BOTH) {
		const uint8_t *lo = memcmp(src, dst, 16) < 0 ? src : dst;

		memcpy(a, lo, 16);
		memcpy(b, lo == src ? dst : src, 16);
	}
	for (size_t i = 0; i < m->n; i++) {
		struct model_entry *x = &m->e[i];

		if (x->gid == gid && x->sid == sid && x->type == td->type &&
		    x->track == td->track && memcmp(x->a, a, 16) == 0 && memcmp(x->b, b, 16) == 0)
			te = x;
	}
	if (te == NULL) {       /* ThresholdSetup */
		assert_true(m->n < m->cap);
		te = &m->e[m->n++];
		te->gid = gid;
		te->sid = sid;
		te->type = td->type;
		te->track = td->track;
		memcpy(te->a, a, 16);
		memcpy(te->b, b, 16);
		te->current_count = 1;
		te->tv1 = ts;
		if (td->type == RULE_THRESHOLD_LIMIT)
			return true;
		if (td->type == RULE_THRESHOLD_BOTH)
			return td->count == 1;
		return false;
	}
	entry = te->tv1 + (uint64_t)td->seconds * 1000000u;     /* ThresholdCheckUpdate */
	switch (td->type) {
	case RULE_THRESHOLD_LIMIT:
		if (ts <= entry) {
			te->current_count++;
			return te->current_count <= td->count;
		}
		te->tv1 = ts;
		te->current_count = 1;
		return true;
	case RULE_THRESHOLD_THRESHOLD:
		if (ts <= entry) {
			te->current_count++;
			if (te->current_count >= td->count) {
				te->current_count = 0;
				return true;
			}
			return false;
		}
		te->tv1 = ts;
		te->current_count = 1;
		return false;
	case RULE_THRESHOLD_BOTH:
		if (ts <= entry) {
			te->current_count++;
			return te->current_count == td->count;
		}
		te->tv1 = ts;
		te->current_count = 1;
		return te->current_count == td->count;
	default:
		if (ts <= entry) {
			te->current_count++;
			return te->current_count > td->count;
		}
		te->tv1 = ts;
		te->current_count = 1;
		return false;
	}
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t
rng(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/* Random rules, hosts and gaps (many around window ends), table vs model. */
static void
test_against_model(void **state)
{
	(void)state;
	enum { N_RULES = 12, N_HOSTS = 6, N_STEPS = 200000 };
	struct rule_threshold rules[N_RULES];
	uint8_t hosts[N_HOSTS][16];
	/* at most N_RULES * N_HOSTS^2 keys: a table that size never evicts */
	struct threshold_table *t = threshold_table_create(N_RULES * N_HOSTS * N_HOSTS);
	struct model m = { .cap = N_RULES * N_HOSTS * N_HOSTS };
	struct threshold_stats st;
	uint64_t now = T0, n_pass = 0, n_supp = 0;

	assert_non_null(t);
	m.e = calloc(m.cap, sizeof(*m.e));
	assert_non_null(m.e);
	for (int i = 0; i < N_HOSTS; i++) {
		if (i % 2)
			addr6(hosts[i], 0x2001, (uint8_t)i);
		else
			addr4(hosts[i], 10, 0, 0, (uint8_t)i);
	}
	for (int i = 0; i < N_RULES; i++)
		rules[i] = spec((uint8_t)(1 + i % 4), (uint8_t)((i / 4 + i) % 4), 1 + rng(4),
				1 + rng(5));
	for (int s = 0; s < N_STEPS; s++) {
		uint32_t r = rng(N_RULES);
		const uint8_t *src = hosts[rng(N_HOSTS)], *dst = hosts[rng(N_HOSTS)];
		bool want, got;

		switch (rng(4)) {
		case 0:
			now += rng(3);                  /* same microsecond or next */
			break;
		case 1:
			now += S(rules[r].seconds) - 1 + rng(3);    /* around a window's end */
			break;
		default:
			now += rng(S(2));
			break;
		}
		want = model_check(&m, &rules[r], 1, 100 + r, src, dst, now);
		got = threshold_check(t, &rules[r], 1, 100 + r, src, dst, now);
		if (want != got) {
			print_error("step %d rule %u (%s count %u seconds %u track %u): got %d\n",
				    s, r, type_str[rules[r].type], rules[r].count, rules[r].seconds,
				    rules[r].track, got);
			fail();
		}
		if (got)
			n_pass++;
		else
			n_supp++;
	}
	threshold_stats(t, &st);
	assert_int_equal(st.checked, N_STEPS);
	assert_int_equal(st.suppressed, n_supp);
	assert_int_equal(st.evicted, 0);
	/* the threshold count 1 rules take no entry, as in the model */
	assert_int_equal(st.entries, m.n);
	/* both answers occur often enough for the comparison to mean something */
	assert_true(n_pass > N_STEPS / 10 && n_supp > N_STEPS / 10);
	free(m.e);
	threshold_table_destroy(t);
}

/* A small table under many keys: bounded, counted, and never wrong for a key it kept. */
static void
test_small_table_churn(void **state)
{
	(void)state;
	struct threshold_table *t = threshold_table_create(7);
	struct rule_threshold sp = spec(RULE_THRESHOLD_LIMIT, RULE_TRACK_BY_SRC, 1, 1000);
	struct threshold_stats st;
	uint8_t h[16];
	uint64_t now = T0;

	assert_non_null(t);
	for (int i = 0; i < 100000; i++) {
		uint8_t last = (uint8_t)rng(64);

		addr4(h, 172, 16, 0, last);
		now += 1000;
		threshold_check(t, &sp, 1, 1, h, NULL, now);
		/* just used, hence kept: its second match in the window is suppressed */
		assert_false(threshold_check(t, &sp, 1, 1, h, NULL, now + 1));
		threshold_stats(t, &st);
		assert_true(st.entries <= 7);
	}
	threshold_stats(t, &st);
	assert_int_equal(st.entries, 7);
	assert_true(st.evicted > 1000);
	threshold_table_destroy(t);
}

/* ------------------------------------------------------------------ parser */

struct good_case {
	const char *v;
	bool df;
	uint8_t type, track;
	uint32_t count, seconds;
};

static const struct good_case good[] = {
	{ "type limit, track by_src, count 1, seconds 60", false, RULE_THRESHOLD_LIMIT,
	  RULE_TRACK_BY_SRC, 1, 60 },
	{ "track by_dst, type limit, seconds 60, count 10", false, RULE_THRESHOLD_LIMIT,
	  RULE_TRACK_BY_DST, 10, 60 },
	{ "count 10,track by_both,seconds 60,type both", false, RULE_THRESHOLD_BOTH,
	  RULE_TRACK_BY_BOTH, 10, 60 },
	{ "  type\tthreshold ,\ttrack  by_rule , count 1000000 , seconds 31536000\t ", false,
	  RULE_THRESHOLD_THRESHOLD, RULE_TRACK_BY_RULE, 1000000, 31536000 },
	{ "TYPE Limit, Track BY_SRC, COUNT 007, Seconds 1", false, RULE_THRESHOLD_LIMIT,
	  RULE_TRACK_BY_SRC, 7, 1 },
	{ "track by_src, count 10, seconds 60", true, RULE_THRESHOLD_DETECTION_FILTER,
	  RULE_TRACK_BY_SRC, 10, 60 },
	{ "seconds 2,count 15,track by_dst", true, RULE_THRESHOLD_DETECTION_FILTER,
	  RULE_TRACK_BY_DST, 15, 2 },
	{ "track by_both , count 1 , seconds 1", true, RULE_THRESHOLD_DETECTION_FILTER,
	  RULE_TRACK_BY_BOTH, 1, 1 },
	{ "track by_rule,count 3,seconds 5", true, RULE_THRESHOLD_DETECTION_FILTER,
	  RULE_TRACK_BY_RULE, 3, 5 },
};

/* The error points at the first occurrence of marker in v, or at the end when it is NULL. */
struct bad_case {
	const char *v;
	bool df;
	const char *marker;
	const char *msg;
};

static const struct bad_case bad[] = {
	{ "", false, "", "empty value (expected type, track, count, seconds)" },
	{ " \t ", true, " ", "empty value (expected track, count, seconds)" },
	{ "type limit, track by_src, count 1", false, NULL, "missing 'seconds'" },
	{ "track by_src, count 1, seconds 60", false, NULL, "missing 'type'" },
	{ "type limit, count 1, seconds 60", false, NULL, "missing 'track'" },
	{ "seconds 60, track by_src", true, NULL, "missing 'count'" },
	{ "type limit, track by_foo, count 1, seconds 60", false, "by_foo",
	  "unknown track 'by_foo' (by_src, by_dst, by_rule, by_both)" },
	{ "type limit, track by_flow, count 1, seconds 60", false, "by_flow",
	  "unsupported track 'by_flow' (by_src, by_dst, by_rule, by_both)" },
	{ "type lim, track by_src, count 1, seconds 60", false, "lim",
	  "unknown type 'lim' (limit, threshold, both)" },
	{ "type backoff, track by_flow, count 1, multiplier 10", false, "backoff",
	  "unsupported type 'backoff' (limit, threshold, both)" },
	{ "type limit x, track by_src, count 1, seconds 60", false, "limit",
	  "unknown type 'limit x' (limit, threshold, both)" },
	{ "type limit, track by_src, count 0, seconds 60", false, "0,",
	  "count must be 1..1000000, not '0'" },
	{ "type limit, track by_src, count 1000001, seconds 60", false, "1000001",
	  "count must be 1..1000000, not '1000001'" },
	{ "type limit, track by_src, count 99999999999999999999999, seconds 60", false, "999",
	  "count must be 1..1000000, not '99999999999999999999999'" },
	{ "type limit, track by_src, count 18446744073709551617, seconds 60", false, "1844",
	  "count must be 1..1000000, not '18446744073709551617'" },   /* 2^64 + 1 */
	{ "type limit, track by_src, count -1, seconds 60", false, "-1",
	  "count must be 1..1000000, not '-1'" },
	{ "type limit, track by_src, count 10 20, seconds 60", false, "10 20",
	  "count must be 1..1000000, not '10 20'" },
	{ "type limit, track by_src, count 1, seconds 0", false, "0",
	  "seconds must be 1..31536000, not '0'" },
	{ "type limit, track by_src, count 1, seconds 31536001", false, "31536001",
	  "seconds must be 1..31536000, not '31536001'" },
	{ "type limit, track by_src, count 1, seconds 6\x01", false, "6\x01",
	  "seconds must be 1..31536000, not '6\\x01'" },
	{ "type limit, type limit, track by_src, count 1, seconds 60", false, "type limit, track",
	  "duplicate 'type'" },
	{ "type limit, track by_src, count 1, seconds 60, count 2", false, "count 2",
	  "duplicate 'count'" },
	{ "type limit, track by_src, count, seconds 60", false, "count",
	  "'count' needs a value" },
	{ "type limit, track by_src, count 1, seconds \t", false, "seconds",
	  "'seconds' needs a value" },
	{ "type limit,, track by_src, count 1, seconds 60", false, ", track",
	  "empty part (expected one of type, track, count, seconds)" },
	{ "type limit, track by_src, count 1, seconds 60,", false, NULL,
	  "empty part (expected one of type, track, count, seconds)" },
	{ "type limit, track by_src, count 1, seconds 60, foo 1", false, "foo",
	  "unknown option 'foo' (expected type, track, count, seconds)" },
	{ "type limit, track by_src, count10, seconds 60", false, "count10",
	  "unknown option 'count10' (expected type, track, count, seconds)" },
	{ "type limit, track by_src, count 1, seconds 60", true, "type",
	  "'type' is not allowed here (expected track, count, seconds)" },
	{ "track by_src, count 10, seconds 60, unique_on dst_port", true, "unique_on",
	  "unsupported option 'unique_on' (expected track, count, seconds)" },
	{ "track by_src, count 10", true, NULL, "missing 'seconds'" },
	{ "\"type limit, track by_src, count 1, seconds 60\"", false, "\"",
	  "unknown option '\"type' (expected type, track, count, seconds)" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 1", true, "a",
	  "unknown option 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' "
	  "(expected track, count, seconds)" },
};

/* Parse from a heap buffer of exactly len bytes, so ASan sees any read past it. */
static int
parse_exact(const char *v, size_t len, bool df, struct rule_threshold *out, size_t *off,
	    char *err, size_t errlen)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, v, len);
	rc = threshold_parse(copy, len, df, out, off, err, errlen);
	free(copy);
	return rc;
}

static void
test_parse_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const struct good_case *g = &good[i];
		struct rule_threshold r;
		size_t off = 12345;
		char err[256] = "";
		int rc;

		memset(&r, 0xa5, sizeof(r));
		rc = parse_exact(g->v, strlen(g->v), g->df, &r, &off, err, sizeof(err));
		if (rc != 0) {
			print_error("'%s': %s at %zu\n", g->v, err, off);
			fail();
		}
		assert_int_equal(r.type, g->type);
		assert_int_equal(r.track, g->track);
		assert_int_equal(r.count, g->count);
		assert_int_equal(r.seconds, g->seconds);
		assert_int_equal(off, 12345);           /* untouched on success */
		/* the same text as the other keyword is refused */
		rc = parse_exact(g->v, strlen(g->v), !g->df, &r, &off, err, sizeof(err));
		assert_int_equal(rc, -EINVAL);
	}
}

static void
test_parse_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct bad_case *b = &bad[i];
		size_t len = strlen(b->v), want_off = len, off = 0;
		struct rule_threshold r, before;
		char err[256];
		int rc;

		if (b->marker != NULL) {
			const char *m = strstr(b->v, b->marker);

			assert_non_null(m);
			want_off = (size_t)(m - b->v);
		}
		memset(&r, 0x5a, sizeof(r));
		before = r;
		memset(err, 'X', sizeof(err));
		rc = parse_exact(b->v, len, b->df, &r, &off, err, sizeof(err));
		if (rc != -EINVAL || off != want_off || strcmp(err, b->msg) != 0) {
			print_error("case %zu '%s': rc %d off %zu (want %zu) err '%s'\n", i, b->v,
				    rc, off, want_off, rc ? err : "");
			fail();
		}
		assert_memory_equal(&r, &before, sizeof(r));    /* untouched on error */
		/* no message buffer, no offset, a tiny buffer: same verdict, no overflow */
		assert_int_equal(threshold_parse(b->v, len, b->df, &r, NULL, NULL, 0), -EINVAL);
		assert_int_equal(parse_exact(b->v, len, b->df, &r, &off, err, 4), -EINVAL);
		assert_int_equal(strlen(err), 3);
	}
	assert_int_equal(threshold_parse(NULL, 5, false, &(struct rule_threshold){ 0 }, NULL,
					 NULL, 0), -EINVAL);
}

/*
 * Every value cut at every byte: never a read past the cut, and an error points inside the
 * prefix; a prefix parses only when what was cut off is blanks or the last number's tail.
 */
static void
test_parse_prefixes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		size_t len = strlen(good[i].v);
		int n_ok = 0;

		for (size_t cut = 0; cut <= len; cut++) {
			struct rule_threshold r;
			size_t off = SIZE_MAX;
			char err[256];
			int rc = parse_exact(good[i].v, cut, good[i].df, &r, &off, err,
					     sizeof(err));

			if (rc == 0) {
				char next = cut < len ? good[i].v[cut] : ' ';

				/* only a shortened last number or dropped blanks still parse */
				n_ok++;
				assert_true(next == ' ' || next == '\t' ||
					    (next >= '0' && next <= '9'));
			} else {
				assert_int_equal(rc, -EINVAL);
				assert_true(off <= cut);
				assert_true(err[0] != '\0');
			}
		}
		assert_true(n_ok >= 1);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = strlen(bad[i].v);

		for (size_t cut = 0; cut <= len; cut++) {
			struct rule_threshold r;
			size_t off = SIZE_MAX;
			char err[256];
			int rc = parse_exact(bad[i].v, cut, bad[i].df, &r, &off, err, sizeof(err));

			assert_true(rc == 0 || (rc == -EINVAL && off <= cut));
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_limit_count1),
		cmocka_unit_test(test_threshold),
		cmocka_unit_test(test_threshold_count1),
		cmocka_unit_test(test_both),
		cmocka_unit_test(test_both_count1),
		cmocka_unit_test(test_detection_filter),
		cmocka_unit_test(test_detection_filter_count1),
		cmocka_unit_test(test_time_backwards),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_track_by_src),
		cmocka_unit_test(test_track_by_dst),
		cmocka_unit_test(test_track_by_rule),
		cmocka_unit_test(test_track_by_both),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_types_apart),
		cmocka_unit_test(test_create_bounds),
		cmocka_unit_test(test_evict_lru),
		cmocka_unit_test(test_evict_expired_first),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_time_limits),
		cmocka_unit_test(test_against_model),
		cmocka_unit_test(test_small_table_churn),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
