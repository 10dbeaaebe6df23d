/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * threshold and detection_filter (see threshold.h): the value parser, and a fixed-capacity
 * state table. The table is an array of max_entries entries handed out in order, chained from
 * a power-of-two bucket array by index (seeded hash: the tracked addresses are the senders'),
 * and kept on an LRU list so that a full table reuses the least recently used entry. Nothing
 * is allocated after create. The decisions copy Suricata's detect-engine-threshold.c,
 * ThresholdSetup (first match of a key) and ThresholdCheckUpdate (later ones), whose names
 * the functions below keep. Control thread only.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ascii.h"
#include "hash_mix.h"
#include "threshold.h"

#define TH_NIL UINT32_MAX
#define TH_EVICT_SCAN 8         /* LRU entries looked at for an expired one before evicting */
#define TH_SHOW_MAX 48          /* bytes of user text quoted in one message */
#define US_PER_S UINT64_C(1000000)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- value parser */

enum th_part {
	PART_TYPE = 0,
	PART_TRACK,
	PART_COUNT,
	PART_SECONDS,
	PART__COUNT,
};

static const char *const part_names[PART__COUNT] = {
	[PART_TYPE] = "type",
	[PART_TRACK] = "track",
	[PART_COUNT] = "count",
	[PART_SECONDS] = "seconds",
};

/* Indexed by enum rule_threshold_type; detection_filter has no type word. */
static const char *const type_names[] = {
	[RULE_THRESHOLD_LIMIT] = "limit",
	[RULE_THRESHOLD_THRESHOLD] = "threshold",
	[RULE_THRESHOLD_BOTH] = "both",
};

/* Indexed by enum rule_track. */
static const char *const track_names[] = {
	[RULE_TRACK_BY_SRC] = "by_src",
	[RULE_TRACK_BY_DST] = "by_dst",
	[RULE_TRACK_BY_RULE] = "by_rule",
	[RULE_TRACK_BY_BOTH] = "by_both",
};

struct th_parse {
	const char *v;
	size_t len;
	size_t *err_off;
	char *err;
	size_t errlen;
};

static int fail(const struct th_parse *p, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(const struct th_parse *p, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (p->err_off != NULL)
		*p->err_off = off;
	if (p->err != NULL && p->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* User text for a message: printable ASCII as is, other bytes as \xNN, long text cut. */
static const char *
show(char *buf, size_t size, const char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];

		if (o + 8 >= size) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f)
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
	}
	buf[o] = '\0';
	return buf;
}

static bool
word_is(const char *s, size_t n, const char *word)
{
	size_t wn = strlen(word);

	if (n != wn)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower((uint8_t)s[i]) != (uint8_t)word[i])
			return false;
	return true;
}

/* The index of s in names[0..n) (NULL rows skipped), or -1. */
static int
word_index(const char *s, size_t len, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] != NULL && word_is(s, len, names[i]))
			return (int)i;
	return -1;
}

/* Decimal digits only (leading zeros allowed, as Suricata's StringParseUint32), min..max. */
static int
parse_number(const struct th_parse *p, size_t off, size_t end, const char *name,
	     uint32_t min, uint32_t max, uint32_t *out)
{
	char sb[TH_SHOW_MAX];
	uint64_t x = 0;

	for (size_t i = off; i < end; i++) {
		uint8_t c = (uint8_t)p->v[i];

		if (c < '0' || c > '9') {
			x = UINT64_MAX;
			break;
		}
		if (x <= max)   /* past max it only has to stay past max */
			x = x * 10 + (uint64_t)(c - '0');
	}
	if (x < min || x > max)
		return fail(p, off, "%s must be %u..%u, not '%s'", name, min, max,
			    show(sb, sizeof(sb), p->v + off, end - off));
	*out = (uint32_t)x;
	return 0;
}

static int
parse_value(const struct th_parse *p, enum th_part part, size_t off, size_t end,
	    struct rule_threshold *r)
{
	const char *s = p->v + off;
	size_t n = end - off;
	char sb[TH_SHOW_MAX];
	int i;

	switch (part) {
	case PART_TYPE:
		i = word_index(s, n, type_names, ARRAY_SIZE(type_names));
		if (i < 0)
			return fail(p, off, "%s type '%s' (limit, threshold, both)",
				    word_is(s, n, "backoff") ? "unsupported" : "unknown",
				    show(sb, sizeof(sb), s, n));
		r->type = (uint8_t)i;
		return 0;
	case PART_TRACK:
		i = word_index(s, n, track_names, ARRAY_SIZE(track_names));
		if (i < 0)
			return fail(p, off, "%s track '%s' (by_src, by_dst, by_rule, by_both)",
				    word_is(s, n, "by_flow") ? "unsupported" : "unknown",
				    show(sb, sizeof(sb), s, n));
		r->track = (uint8_t)i;
		return 0;
	case PART_COUNT:
		return parse_number(p, off, end, "count", 1, THRESHOLD_MAX_COUNT, &r->count);
	case PART_SECONDS:
		return parse_number(p, off, end, "seconds", 1, THRESHOLD_MAX_SECONDS,
				    &r->seconds);
	case PART__COUNT:
		break;
	}
	return fail(p, off, "internal error");
}

int
threshold_parse(const char *value, size_t len, bool detection_filter,
		struct rule_threshold *out, size_t *err_off, char *err, size_t errlen)
{
	const struct th_parse p = {
		.v = value, .len = value != NULL ? len : 0,
		.err_off = err_off, .err = err, .errlen = errlen,
	};
	const char *expected = detection_filter ? "track, count, seconds" :
						  "type, track, count, seconds";
	struct rule_threshold r = {
		.type = detection_filter ? RULE_THRESHOLD_DETECTION_FILTER : RULE_THRESHOLD_NONE,
	};
	bool seen[PART__COUNT] = { false };
	size_t pos = 0;
	char sb[TH_SHOW_MAX];
	int rc;

	for (;;) {
		size_t end = pos, s, e, name_end, v;
		int part;

		while (end < p.len && p.v[end] != ',')
			end++;
		for (s = pos; s < end && ascii_is_wsp((uint8_t)p.v[s]); s++)
			;
		for (e = end; e > s && ascii_is_wsp((uint8_t)p.v[e - 1]); e--)
			;
		if (s == e) {
			if (pos == 0 && end == p.len)
				return fail(&p, 0, "empty value (expected %s)", expected);
			return fail(&p, s, "empty part (expected one of %s)", expected);
		}
		for (name_end = s; name_end < e && !ascii_is_wsp((uint8_t)p.v[name_end]);
		     name_end++)
			;
		part = word_index(p.v + s, name_end - s, part_names, PART__COUNT);
		if (part == PART_TYPE && detection_filter)
			return fail(&p, s, "'type' is not allowed here (expected %s)", expected);
		if (part < 0) {
			/* backoff's and detection_filter's newer options: say they exist */
			bool known = word_is(p.v + s, name_end - s, "multiplier") ||
				     word_is(p.v + s, name_end - s, "unique_on");

			return fail(&p, s, "%s option '%s' (expected %s)",
				    known ? "unsupported" : "unknown",
				    show(sb, sizeof(sb), p.v + s, name_end - s), expected);
		}
		if (seen[part])
			return fail(&p, s, "duplicate '%s'", part_names[part]);
		seen[part] = true;
		for (v = name_end; v < e && ascii_is_wsp((uint8_t)p.v[v]); v++)
			;
		if (v == e)
			return fail(&p, s, "'%s' needs a value", part_names[part]);
		rc = parse_value(&p, (enum th_part)part, v, e, &r);
		if (rc < 0)
			return rc;
		if (end == p.len)
			break;
		pos = end + 1;
	}
	for (int i = detection_filter ? PART_TRACK : PART_TYPE; i < PART__COUNT; i++)
		if (!seen[i])
			return fail(&p, p.len, "missing '%s'", part_names[i]);
	*out = r;
	return 0;
}

/* ---------------------------------------------------------------- state table */

/* Everything that tells two entries apart; padding explicit so that memcmp is exact. */
struct th_key {
	uint8_t a[16];          /* by_src: src; by_dst: dst; by_both: the lower address */
	uint8_t b[16];          /* by_both: the higher address; else zero */
	uint32_t gid, sid;
	uint8_t type, track;
	uint8_t pad[2];
};

struct th_entry {
	struct th_key key;
	uint32_t hash;
	uint32_t hnext;         /* bucket chain */
	uint32_t prev, next;    /* LRU list, most recent first */
	uint32_t count;         /* Suricata's current_count */
	uint32_t seconds;       /* the spec's, for deciding that it expired */
	uint64_t tv1_us;        /* Suricata's tv1: when the window started */
};

struct threshold_table {
	struct th_entry *entries;
	uint32_t *buckets;      /* chain heads, TH_NIL when empty */
	uint32_t cap;
	uint32_t mask;          /* buckets - 1 */
	uint32_t n_used;        /* entries[0 .. n_used) are live: they are only ever reused */
	uint32_t lru_head, lru_tail;
	uint64_t seed;
	uint64_t checked, suppressed, evicted;
};

struct threshold_table *
threshold_table_create(uint32_t max_entries)
{
	struct threshold_table *t;
	uint32_t n_buckets = 2;

	if (max_entries == 0 || max_entries > THRESHOLD_MAX_ENTRIES) {
		errno = EINVAL;
		return NULL;
	}
	/* at most half full: chains stay short without tuning */
	while (n_buckets < 2 * max_entries)
		n_buckets <<= 1;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		goto fail_table;
	t->entries = calloc(max_entries, sizeof(*t->entries));
	if (t->entries == NULL)
		goto fail_entries;
	t->buckets = malloc(n_buckets * sizeof(*t->buckets));
	if (t->buckets == NULL)
		goto fail_buckets;
	t->cap = max_entries;
	t->mask = n_buckets - 1;
	/* The seed only spreads buckets against chosen addresses; a fixed one still works. */
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = hash_mix64((uint64_t)(uintptr_t)t);
	threshold_table_clear(t);
	return t;

fail_buckets:
	free(t->entries);
fail_entries:
	free(t);
fail_table:
	errno = ENOMEM;
	return NULL;
}

void
threshold_table_destroy(struct threshold_table *t)
{
	if (t == NULL)
		return;
	free(t->buckets);
	free(t->entries);
	free(t);
}

void
threshold_table_clear(struct threshold_table *t)
{
	memset(t->buckets, 0xff, ((size_t)t->mask + 1) * sizeof(*t->buckets));
	t->n_used = 0;
	t->lru_head = TH_NIL;
	t->lru_tail = TH_NIL;
}

void
threshold_stats(const struct threshold_table *t, struct threshold_stats *out)
{
	out->checked = t->checked;
	out->suppressed = t->suppressed;
	out->entries = t->n_used;
	out->evicted = t->evicted;
}

static uint32_t
key_hash(const struct threshold_table *t, const struct th_key *k)
{
	uint64_t h = t->seed, w;

	h = hash_mix64(h ^ ((uint64_t)k->gid | (uint64_t)k->sid << 32));
	h = hash_mix64(h ^ ((uint64_t)k->type | (uint64_t)k->track << 8));
	for (size_t i = 0; i < 16; i += 8) {
		memcpy(&w, k->a + i, 8);
		h = hash_mix64(h ^ w);
		memcpy(&w, k->b + i, 8);
		h = hash_mix64(h ^ w);
	}
	return (uint32_t)(h >> 32);
}

static void
lru_unlink(struct threshold_table *t, uint32_t i)
{
	struct th_entry *e = &t->entries[i];

	if (e->prev != TH_NIL)
		t->entries[e->prev].next = e->next;
	else
		t->lru_head = e->next;
	if (e->next != TH_NIL)
		t->entries[e->next].prev = e->prev;
	else
		t->lru_tail = e->prev;
}

static void
lru_push_front(struct threshold_table *t, uint32_t i)
{
	struct th_entry *e = &t->entries[i];

	e->prev = TH_NIL;
	e->next = t->lru_head;
	if (t->lru_head != TH_NIL)
		t->entries[t->lru_head].prev = i;
	else
		t->lru_tail = i;
	t->lru_head = i;
}

static void
bucket_unlink(struct threshold_table *t, uint32_t i)
{
	uint32_t *link = &t->buckets[t->entries[i].hash & t->mask];

	while (*link != i)
		link = &t->entries[*link].hnext;
	*link = t->entries[i].hnext;
}

/* The last microsecond of a window that started at tv1_us; saturates rather than wraps. */
static uint64_t
window_end(uint64_t tv1_us, uint32_t seconds)
{
	uint64_t span = (uint64_t)seconds * US_PER_S;

	return tv1_us > UINT64_MAX - span ? UINT64_MAX : tv1_us + span;
}

/*
 * Suricata's SCTIME_CMP_LTE(p->ts, tv1 + seconds): a match exactly `seconds` after the first
 * is still in the window; ThresholdEntryExpire's SCTIME_CMP_GT is its complement.
 */
static bool
in_window(uint64_t tv1_us, uint32_t seconds, uint64_t now_us)
{
	return now_us <= window_end(tv1_us, seconds);
}

/*
 * An entry to hold a new key: a never used one while there are some, else one reused. An
 * expired entry behaves exactly as a missing one (ThresholdCheckUpdate resets it to what
 * ThresholdSetup would make, with the same verdict), so reusing it loses nothing: look for
 * one among the least recently used before giving up the least recently used itself.
 */
static uint32_t
entry_take(struct threshold_table *t, uint64_t now_us)
{
	uint32_t victim = t->lru_tail, i = t->lru_tail;

	if (t->n_used < t->cap)
		return t->n_used++;
	for (int n = 0; n < TH_EVICT_SCAN && i != TH_NIL; n++, i = t->entries[i].prev) {
		const struct th_entry *e = &t->entries[i];

		if (!in_window(e->tv1_us, e->seconds, now_us)) {
			victim = i;
			break;
		}
	}
	bucket_unlink(t, victim);
	lru_unlink(t, victim);
	t->evicted++;
	return victim;
}

static void
count_up(struct th_entry *e)
{
	/* Suricata's uint32_t wraps after 2^32 matches in one window and would alert again */
	if (e->count < UINT32_MAX)
		e->count++;
}

/* The first match of a key: Suricata's ThresholdSetup. */
static bool
threshold_setup(const struct rule_threshold *spec, struct th_entry *e, uint64_t now_us)
{
	e->count = 1;
	e->tv1_us = now_us;
	e->seconds = spec->seconds;
	switch (spec->type) {
	case RULE_THRESHOLD_LIMIT:
		return true;
	case RULE_THRESHOLD_THRESHOLD:
	case RULE_THRESHOLD_BOTH:
		return spec->count == 1;
	case RULE_THRESHOLD_DETECTION_FILTER:
	default:
		return false;
	}
}

/* A later match: Suricata's ThresholdCheckUpdate (rate_filter left out). */
static bool
threshold_check_update(const struct rule_threshold *spec, struct th_entry *e, uint64_t now_us)
{
	bool in = in_window(e->tv1_us, spec->seconds, now_us);

	e->seconds = spec->seconds;
	if (!in) {
		/* expired: the window restarts with this match, as if it were the first */
		e->tv1_us = now_us;
		e->count = 1;
	}
	switch (spec->type) {
	case RULE_THRESHOLD_LIMIT:
		/* the first count matches of each window */
		if (!in)
			return true;
		count_up(e);
		return e->count <= spec->count;
	case RULE_THRESHOLD_THRESHOLD:
		/*
		 * every count-th match; the counter restarts at 0 but the window does not move,
		 * so after an alert the next one needs count more matches within the same
		 * window (Suricata's exact behaviour)
		 */
		if (!in)
			return false;
		count_up(e);
		if (e->count >= spec->count) {
			e->count = 0;
			return true;
		}
		return false;
	case RULE_THRESHOLD_BOTH:
		/* the count-th match of each window, and only that one */
		if (!in)
			return spec->count == 1;
		count_up(e);
		return e->count == spec->count;
	case RULE_THRESHOLD_DETECTION_FILTER:
		/* every match after the count-th of the window: the (count+1)-th is the first */
		if (!in)
			return false;
		count_up(e);
		return e->count > spec->count;
	default:
		return true;
	}
}

static void
key_make(struct th_key *k, const struct rule_threshold *spec, uint32_t gid, uint32_t sid,
	 const uint8_t *src, const uint8_t *dst)
{
	static const uint8_t zero[16];

	memset(k, 0, sizeof(*k));
	k->gid = gid;
	k->sid = sid;
	k->type = spec->type;
	k->track = spec->track;
	if (src == NULL)
		src = zero;
	if (dst == NULL)
		dst = zero;
	switch (spec->track) {
	case RULE_TRACK_BY_SRC:
		memcpy(k->a, src, 16);
		break;
	case RULE_TRACK_BY_DST:
		memcpy(k->a, dst, 16);
		break;
	case RULE_TRACK_BY_BOTH:
		/*
		 * ThresholdGetFromHash puts the lower address first, so that both directions
		 * between two hosts share one entry; network order compares as numbers
		 */
		if (memcmp(src, dst, 16) < 0) {
			memcpy(k->a, src, 16);
			memcpy(k->b, dst, 16);
		} else {
			memcpy(k->a, dst, 16);
			memcpy(k->b, src, 16);
		}
		break;
	default:
		break;
	}
}

bool
threshold_check(struct threshold_table *t, const struct rule_threshold *spec, uint32_t gid,
		uint32_t sid, const uint8_t src[16], const uint8_t dst[16], uint64_t now_us)
{
	struct th_key k;
	uint32_t h, i;
	bool pass;

	if (spec->type == RULE_THRESHOLD_NONE || spec->type > RULE_THRESHOLD_DETECTION_FILTER ||
	    spec->track > RULE_TRACK_BY_BOTH)
		return true;
	t->checked++;
	/* ThresholdGetFromHash: "fast track for count 1 threshold", which needs no entry */
	if (spec->type == RULE_THRESHOLD_THRESHOLD && spec->count == 1)
		return true;
	key_make(&k, spec, gid, sid, src, dst);
	h = key_hash(t, &k);
	for (i = t->buckets[h & t->mask]; i != TH_NIL; i = t->entries[i].hnext)
		if (t->entries[i].hash == h && memcmp(&t->entries[i].key, &k, sizeof(k)) == 0)
			break;
	if (i != TH_NIL) {
		lru_unlink(t, i);
		lru_push_front(t, i);
		pass = threshold_check_update(spec, &t->entries[i], now_us);
	} else {
		struct th_entry *e;

		i = entry_take(t, now_us);
		e = &t->entries[i];
		e->key = k;
		e->hash = h;
		e->hnext = t->buckets[h & t->mask];
		t->buckets[h & t->mask] = i;
		lru_push_front(t, i);
		pass = threshold_setup(spec, e, now_us);
	}
	if (!pass)
		t->suppressed++;
	return pass;
}
