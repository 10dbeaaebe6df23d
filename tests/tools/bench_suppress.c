/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_suppress: the suppression set's speed, on a set of synthetic entries. Not a test: it
 * measures, and fails only when the set gives a wrong answer (exit status 1) or on an error.
 * One thread, no DPDK.
 *
 *   bench_suppress build DIR N [--seed S]
 *     Creates a set of N entries in DIR (which must not hold one): every 1000th is a whole
 *     domain "@o<i>.example", the others addresses "user<i>@d<i%5000>.example". They are keyed
 *     with suppress_key(), sorted, and written through suppress_load_batch() as a first import
 *     into a new set is: one transaction appending to the empty tables, with the negative
 *     filter sized for the load (suppress_write_expect) and stored with the keys. Prints the
 *     time of each step, the rate, the size of data.mdb and the filter's bytes.
 *
 *   bench_suppress lookup DIR SECONDS [--filter on|off|on,off] [--hit-ratio R[,R...]]
 *                  [--burst B] [--pool P] [--cold] [--cpu C]
 *     One thread acting as one dataplane worker on a set made by `build`: per burst
 *     suppress_reader_release(), then B (32) lookups through the real path
 *     (suppress_lookup_rec) of addresses of which the share R is in the set, each timed with
 *     CLOCK_MONOTONIC into a 1 ns histogram: lookups/s, p50, p99, p99.9 and max. Every pair
 *     (ratio, filter) runs SECONDS; the filter is the set's own, turned on or off with
 *     suppress_reader_use_filter(). Defaults: on,off at 0.001,0.01,0.1. The share of absent
 *     addresses the filter lets through to LMDB is counted by probing the stored filter (meta
 *     "bloom") with each address's two keys, as the lookup does. Before timing, the filter is
 *     read and every table walked once, so the figures are warm; --cold first drops data.mdb
 *     from the page cache (posix_fadvise DONTNEED, this file only) and times a short pass
 *     before that. An address of the set that is not found, or an absent one that is, fails
 *     the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr_norm.h"
#include "log.h"
#include "suppress_bloom.h"
#include "suppress_db.h"
#include "suppress_import.h"
#include "suppress_load.h"
#include "suppress_writer.h"

#define DOMAIN_EVERY 1000          /* one entry in this many is a whole domain */
#define ADDR_DOMAINS 5000          /* domains of the addresses */
#define HIST_FINE 100000           /* 1 ns buckets up to 100 us */
#define HIST_COARSE 100000         /* then 1 us buckets up to 100 ms */
#define SPEC_MAX 64                /* "user<i>@d<k>.example" always fits */
#define RATIOS_MAX 8
#define FILTERS_MAX 2
#define COLD_SECONDS_MAX 3.0
#define BLOOM_META "bloom"         /* the filter's key in "meta" (suppress_bloom.h) */

struct lookup_opts {
	double seconds;
	double ratios[RATIOS_MAX];
	unsigned n_ratios;
	bool filters[FILTERS_MAX];     /* on or off, in the order given */
	unsigned n_filters;
	unsigned burst;
	size_t pool;
	bool cold;
	int cpu;
};

/* The set under measurement, and one worker's reader of it. */
struct bench {
	struct suppress_db *db;
	struct suppress_reader *r;
	unsigned norm_flags;
	uint64_t n_entries;            /* addresses and domains */
	void *bloom;                   /* a copy of the stored filter; NULL: the set has none */
	size_t bloom_len;
	struct hist *h;
};

/* Addresses to look up, each knowing whether the set holds it. */
struct pool {
	char *buf;
	uint32_t *off;
	uint8_t *len;
	uint8_t *hit;
	size_t n;
	uint64_t n_absent;
	uint64_t n_absent_pass;        /* absent, but the stored filter lets it through */
};

struct hist {
	uint64_t fine[HIST_FINE];
	uint64_t coarse[HIST_COARSE];
	uint64_t over;
	uint64_t n;
	uint64_t max;
};

struct result {
	uint64_t lookups;
	double secs;
	double cpu_secs;               /* the thread's CPU time: without the time it was preempted */
	long n_preempt;                /* involuntary context switches during the run */
	uint64_t p50, p99, p999, max;
};

static void
die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("bench_suppress: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long
n_involuntary(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_nivcsw : 0;
}

/* splitmix64: a fixed sequence for a seed, so that runs compare. */
static inline uint64_t
rnd_next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* The operator's text of entry i of a set made by `build`. */
static int
entry_spec(uint64_t i, char *out, size_t cap)
{
	if (i % DOMAIN_EVERY == DOMAIN_EVERY - 1)
		return snprintf(out, cap, "@o%" PRIu64 ".example", i);
	return snprintf(out, cap, "user%" PRIu64 "@d%" PRIu64 ".example", i, i % ADDR_DOMAINS);
}

/* An address that entry i of the set matches: itself, or one inside its domain. */
static int
hit_addr(uint64_t i, char *out, size_t cap)
{
	if (i % DOMAIN_EVERY == DOMAIN_EVERY - 1)
		return snprintf(out, cap, "someone%" PRIu64 "@o%" PRIu64 ".example", i, i);
	return entry_spec(i, out, cap);
}

/* A number of the command line: a whole one (unsigned) or any finite one. No libm. */
static double
parse_num(const char *s, const char *what, bool whole)
{
	char *end;
	double v;

	errno = 0;
	v = whole ? (double)strtoull(s, &end, 10) : strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || (whole && strchr(s, '-')))
		die("bad %s \"%s\"", what, s);
	return v;
}

static void
drop_page_cache(const char *dir)
{
	char p[PATH_MAX];
	int fd, rc;

	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("%s: %s", p, strerror(errno));
	rc = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	if (rc != 0)
		die("%s: posix_fadvise: %s", p, strerror(rc));
}

/*
 * A copy of the set's negative filter as its readers see it, NULL when the set has none (or
 * one suppress_bloom_valid() refuses: readers ignore it too); *len its bytes.
 */
static void *
filter_read(struct suppress_db *db, size_t *len)
{
	void *buf;
	int rc = suppress_meta_get(db, BLOOM_META, NULL, 0, len);

	if (rc == -ENOENT || rc == 0)
		return NULL;
	if (rc != -ENOBUFS)
		die("cannot read the set's filter: %s", strerror(-rc));
	buf = aligned_alloc(64, (*len + 63) & ~(size_t)63);
	if (buf == NULL)
		die("no memory for a %zu-byte filter", *len);
	rc = suppress_meta_get(db, BLOOM_META, buf, *len, len);
	if (rc < 0)
		die("cannot read the set's filter: %s", strerror(-rc));
	if (!suppress_bloom_valid(buf, *len)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void
filter_print(const char *who, const void *bloom, size_t len, uint64_t n_keys)
{
	struct suppress_bloom_hdr hdr;

	if (bloom == NULL) {
		printf("%s: the set holds no negative filter (or an invalid one)\n", who);
		return;
	}
	memcpy(&hdr, bloom, sizeof(hdr));
	printf("%s: filter (meta \"%s\"): %.1f MB, sized for %" PRIu64 " keys, %" PRIu64
	       " added; %.1f bits per key of the set (%" PRIu64 " keys)\n", who, BLOOM_META,
	       (double)len / 1e6, hdr.capacity, hdr.n_added,
	       n_keys ? (double)len * 8 / (double)n_keys : 0.0, n_keys);
}

/* ------------------------------------------------------------------------------------------ */
/* build */

static int
entry_cmp(const void *a, const void *b)
{
	const struct suppress_import_entry *x = a, *y = b;

	if (x->table != y->table)
		return x->table < y->table ? -1 : 1;
	return memcmp(x->key, y->key, SUPPRESS_KEY_LEN);
}

/* The batch a parser would hand over: keyed, opted out within the last two years. */
static void
build_batch(struct suppress_import *im, uint64_t n, uint64_t seed, int64_t now)
{
	struct addr_hasher h;
	char spec[SPEC_MAX];
	uint64_t rs = seed;

	memset(im, 0, sizeof(*im));
	im->v = calloc(n, sizeof(*im->v));
	if (im->v == NULL)
		die("no memory for %" PRIu64 " entries", n);
	addr_hasher_init(&h);
	for (uint64_t i = 0; i < n; i++) {
		struct suppress_import_entry *e = &im->v[i];
		enum suppress_table t;
		int len = entry_spec(i, spec, sizeof(spec));
		int rc = suppress_key(&h, 0, slice_make(spec, (size_t)len), &t, e->key, NULL, 0);

		if (rc < 0)
			die("cannot key %s: %s", spec, strerror(-rc));
		e->table = (uint8_t)t;
		e->rec.version = SUPPRESS_REC_VERSION;
		e->rec.scope = SUPPRESS_SCOPE_ALL;
		e->rec.source_line = (uint32_t)(i + 2);
		e->rec.optout_time = now - 1 - (int64_t)(rnd_next(&rs) % (2 * 365 * 86400));
	}
	im->n = n;
	im->n_good = n;
	addr_hasher_fini(&h);
}

static void
build_report(const char *dir, uint64_t n)
{
	struct suppress_db_info info;
	struct suppress_db *db;
	char p[PATH_MAX];
	struct stat sb;
	size_t len = 0;
	void *bloom;

	db = suppress_db_open(dir, true);
	if (db == NULL || suppress_db_info(db, &info) != 0)
		die("%s: cannot read the set back", dir);
	bloom = filter_read(db, &len);
	suppress_db_close(db);
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	if (stat(p, &sb) != 0)
		die("%s: %s", p, strerror(errno));
	printf("build: on disk: data.mdb %.1f MB (%.1f MB allocated), pages in use %.1f MB, "
	       "%.1f bytes per entry (%" PRIu64 " addresses, %" PRIu64 " domains)\n",
	       (double)sb.st_size / 1e6, (double)sb.st_blocks * 512 / 1e6,
	       (double)info.used_bytes / 1e6, (double)info.used_bytes / (double)n,
	       info.entries[SUPPRESS_TABLE_ADDR], info.entries[SUPPRESS_TABLE_DOMAIN]);
	filter_print("build", bloom, len, info.entries[SUPPRESS_TABLE_ADDR] +
		     info.entries[SUPPRESS_TABLE_DOMAIN] + info.entries[SUPPRESS_TABLE_SCOPED]);
	free(bloom);
}

static const char build_usage[] = "usage: bench_suppress build DIR N [--seed S]";

static int
cmd_build(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seed", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct suppress_load_opts o = { .source = "bench_suppress", .bulk = -1 };
	struct suppress_load_stats st;
	struct suppress_import im;
	uint64_t seed = 1, n;
	char p[PATH_MAX];
	struct stat sb;
	double t0, t1, t2, t3;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c != 's')
			die("%s", build_usage);
		seed = (uint64_t)parse_num(optarg, "seed", true);
	}
	if (argc - optind != 2)
		die("%s", build_usage);
	const char *dir = argv[optind];

	n = (uint64_t)parse_num(argv[optind + 1], "N", true);
	if (n == 0 || n > SUPPRESS_IMPORT_MAX_ROWS)
		die("N must be 1..%u", SUPPRESS_IMPORT_MAX_ROWS);
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	if (stat(p, &sb) == 0)
		die("%s already holds a set: remove it first", dir);

	o.now = (int64_t)time(NULL);
	t0 = clock_s(CLOCK_MONOTONIC);
	build_batch(&im, n, seed, o.now);
	t1 = clock_s(CLOCK_MONOTONIC);
	qsort(im.v, n, sizeof(*im.v), entry_cmp);
	t2 = clock_s(CLOCK_MONOTONIC);
	rc = suppress_load_batch(&im, dir, 0, &o, &st);
	t3 = clock_s(CLOCK_MONOTONIC);
	free(im.v);
	if (rc < 0)
		die("%s: load failed: %s", dir, strerror(-rc));
	if (st.added != n)
		die("%s: %" PRIu64 " of %" PRIu64 " entries added", dir, st.added, n);

	printf("build: %" PRIu64 " entries in %.2f s: %.0f entries/s\n", n, t3 - t0,
	       (double)n / (t3 - t0));
	printf("build: keying %.2f s (%.0f/s), sort %.2f s, suppress_load_batch (%s) %.2f s "
	       "(%.0f/s)\n", t1 - t0, (double)n / (t1 - t0), t2 - t1,
	       st.rebuilt ? "rebuild, MDB_APPEND" : "new set, MDB_APPEND to empty tables",
	       t3 - t2, (double)n / (t3 - t2));
	build_report(dir, n);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* lookups */

static void
pool_make(struct pool *p, size_t n, double ratio, uint64_t n_entries, uint64_t seed)
{
	uint64_t rs = seed;
	size_t used = 0;

	memset(p, 0, sizeof(*p));
	p->n = n;
	p->buf = malloc(n * SPEC_MAX);
	p->off = malloc(n * sizeof(*p->off));
	p->len = malloc(n);
	p->hit = malloc(n);
	if (p->buf == NULL || p->off == NULL || p->len == NULL || p->hit == NULL)
		die("no memory for the address pool");
	for (size_t i = 0; i < n; i++) {
		bool hit = (double)(rnd_next(&rs) >> 11) * 0x1.0p-53 < ratio;
		uint64_t e = rnd_next(&rs);
		char *a = p->buf + used;
		int len;

		/* present: an entry of the set; absent: an address past the set's end */
		if (hit)
			len = hit_addr(e % n_entries, a, SPEC_MAX);
		else
			len = snprintf(a, SPEC_MAX, "user%" PRIu64 "@d%" PRIu64 ".example",
				       n_entries + e % (UINT64_C(1) << 40), e % ADDR_DOMAINS);
		p->off[i] = (uint32_t)used;
		p->len[i] = (uint8_t)len;
		p->hit[i] = hit;
		p->n_absent += !hit;
		used += (size_t)len;
	}
}

/* How many absent addresses of the pool the stored filter lets through to LMDB: both keys
 * probed, as the lookup does (address, then domain). */
static void
pool_probe(struct pool *p, const struct bench *b)
{
	struct addr_hasher h;

	p->n_absent_pass = 0;
	if (b->bloom == NULL) {
		p->n_absent_pass = p->n_absent;
		return;
	}
	addr_hasher_init(&h);
	for (size_t i = 0; i < p->n; i++) {
		char norm[ADDR_NORM_CAP];
		uint8_t ka[SUPPRESS_KEY_LEN], kd[SUPPRESS_KEY_LEN];
		int n;

		if (p->hit[i])
			continue;
		n = addr_normalize(slice_make(p->buf + p->off[i], p->len[i]), b->norm_flags, norm,
				   sizeof(norm));
		if (n < 0)
			die("cannot normalize %.*s", (int)p->len[i], p->buf + p->off[i]);
		const char *at = memrchr(norm, '@', (size_t)n);

		if (addr_hasher_key(&h, norm, (size_t)n, ka) < 0 ||
		    addr_hasher_domain_key(&h, at + 1, (size_t)(norm + n - at - 1), kd) < 0)
			die("cannot hash %s", norm);
		p->n_absent_pass += suppress_bloom_maybe(b->bloom, ka) ||
				    suppress_bloom_maybe(b->bloom, kd);
	}
	addr_hasher_fini(&h);
}

static void
pool_free(struct pool *p)
{
	free(p->buf);
	free(p->off);
	free(p->len);
	free(p->hit);
	memset(p, 0, sizeof(*p));
}

static inline void
hist_add(struct hist *h, uint64_t ns)
{
	if (ns < HIST_FINE)
		h->fine[ns]++;
	else if (ns / 1000 < HIST_COARSE)
		h->coarse[ns / 1000]++;
	else
		h->over++;
	if (ns > h->max)
		h->max = ns;
	h->n++;
}

static uint64_t
hist_pct(const struct hist *h, double q)
{
	uint64_t want = (uint64_t)(q * (double)h->n), seen = 0;

	if ((double)want < q * (double)h->n || want == 0)
		want++;
	for (uint64_t i = 0; i < HIST_FINE; i++) {
		seen += h->fine[i];
		if (seen >= want)
			return i;
	}
	for (uint64_t i = 0; i < HIST_COARSE; i++) {
		seen += h->coarse[i];
		if (seen >= want)
			return i * 1000;
	}
	return h->max;
}

/* The set's answer must be the truth: wrong answers end the run whatever the speed. */
static inline void
check(const struct pool *p, size_t i, int rc, bool filter)
{
	if (rc < 0)
		die("lookup of %.*s: %s", (int)p->len[i], p->buf + p->off[i], strerror(-rc));
	if (p->hit[i] != (rc > 0))
		die("%.*s is %sin the set but was %sfound (filter %s): was the set made by "
		    "`bench_suppress build`?", (int)p->len[i], p->buf + p->off[i],
		    p->hit[i] ? "" : "not ", rc > 0 ? "" : "not ", filter ? "on" : "off");
}

/* One worker's loop for `seconds`: per burst a release, then `burst` timed lookups. */
static void
run(struct bench *b, const struct pool *p, bool filter, double seconds, unsigned burst,
    struct result *res)
{
	int64_t now = (int64_t)time(NULL);
	uint64_t start, end, t0, t1;
	double cpu0;
	long csw0;
	size_t i = 0;

	memset(b->h, 0, sizeof(*b->h));
	memset(res, 0, sizeof(*res));
	suppress_reader_use_filter(b->r, filter);
	csw0 = n_involuntary();
	cpu0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	start = now_ns();
	end = start + (uint64_t)(seconds * 1e9);
	t1 = start;
	while (t1 < end) {
		suppress_reader_release(b->r);
		for (unsigned k = 0; k < burst; k++) {
			struct slice a = slice_make(p->buf + p->off[i], p->len[i]);
			struct suppress_verdict v;
			int rc;

			t0 = now_ns();
			rc = suppress_lookup_rec(b->r, a, now, &v, NULL);
			t1 = now_ns();
			hist_add(b->h, t1 - t0);
			check(p, i, rc, filter);
			if (++i == p->n)
				i = 0;
		}
	}
	suppress_reader_release(b->r);
	res->secs = (double)(t1 - start) * 1e-9;
	res->cpu_secs = clock_s(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	res->n_preempt = n_involuntary() - csw0;
	res->lookups = b->h->n;
	res->p50 = hist_pct(b->h, 0.50);
	res->p99 = hist_pct(b->h, 0.99);
	res->p999 = hist_pct(b->h, 0.999);
	res->max = b->h->max;
}

static void
print_header(void)
{
	printf("%-8s %6s %11s %11s %6s %6s %7s %9s %11s %7s\n", "filter", "hits", "lookups/s",
	       "per-cpu-s", "p50", "p99", "p99.9", "max(ns)", "absent-pass", "preempt");
}

static void
print_result(const char *what, double ratio, const struct pool *p, bool filter,
	     const struct result *res)
{
	uint64_t pass = filter ? p->n_absent_pass : p->n_absent;

	printf("%-8s %6.3f %11.0f %11.0f %6" PRIu64 " %6" PRIu64 " %7" PRIu64 " %9" PRIu64
	       " %10.4f%% %7ld\n", what, ratio, (double)res->lookups / res->secs,
	       (double)res->lookups / res->cpu_secs, res->p50, res->p99, res->p999, res->max,
	       p->n_absent ? 100.0 * (double)pass / (double)p->n_absent : 0.0, res->n_preempt);
}

static const char lookup_usage[] =
	"usage: bench_suppress lookup DIR SECONDS [--filter on|off|on,off]\n"
	"       [--hit-ratio R[,R...]] [--burst B] [--pool P] [--cold] [--cpu C]";

static void
parse_list(const char *arg, struct lookup_opts *o, bool filters)
{
	char buf[256], *save = NULL;

	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf))
		die("list too long: %s", arg);
	for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		if (filters) {
			if ((strcmp(t, "on") != 0 && strcmp(t, "off") != 0) ||
			    o->n_filters == FILTERS_MAX)
				die("--filter: on, off, or both (\"%s\")", arg);
			o->filters[o->n_filters++] = strcmp(t, "on") == 0;
			continue;
		}
		double v = parse_num(t, "hit ratio", false);

		if (v < 0 || v > 1 || o->n_ratios == RATIOS_MAX)
			die("hit ratios: at most %d, each 0..1", RATIOS_MAX);
		o->ratios[o->n_ratios++] = v;
	}
}

static void
lookup_parse(int argc, char **argv, struct lookup_opts *o, const char **dir)
{
	static const struct option lo[] = {
		{ "hit-ratio", required_argument, NULL, 'r' },
		{ "filter", required_argument, NULL, 'f' },
		{ "burst", required_argument, NULL, 'b' },
		{ "pool", required_argument, NULL, 'p' },
		{ "cold", no_argument, NULL, 'c' },
		{ "cpu", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct lookup_opts){ .burst = 32, .pool = 1u << 20, .cpu = -1 };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'r': parse_list(optarg, o, false); break;
		case 'f': parse_list(optarg, o, true); break;
		case 'b': o->burst = (unsigned)parse_num(optarg, "burst", true); break;
		case 'p': o->pool = (size_t)parse_num(optarg, "pool", true); break;
		case 'c': o->cold = true; break;
		case 'C': o->cpu = (int)parse_num(optarg, "cpu", true); break;
		default: die("%s", lookup_usage);
		}
	}
	if (argc - optind != 2)
		die("%s", lookup_usage);
	*dir = argv[optind];
	o->seconds = parse_num(argv[optind + 1], "SECONDS", false);
	if (o->seconds <= 0 || o->burst == 0 || o->burst > 4096 || o->pool == 0 ||
	    o->pool > (1u << 26))
		die("%s", lookup_usage);
	if (o->n_ratios == 0) {
		static const double dflt[] = { 0.001, 0.01, 0.1 };

		memcpy(o->ratios, dflt, sizeof(dflt));
		o->n_ratios = 3;
	}
	if (o->n_filters == 0) {
		o->filters[0] = true;
		o->filters[1] = false;
		o->n_filters = 2;
	}
	if (o->cpu < 0)
		o->cpu = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;
}

static void
bench_open(struct bench *b, const char *dir, const struct lookup_opts *o)
{
	struct suppress_db_info info;

	memset(b, 0, sizeof(*b));
	b->db = suppress_db_open(dir, true);
	if (b->db == NULL)
		die("%s: cannot open the set: %s", dir, strerror(errno));
	if (suppress_db_info(b->db, &info) != 0)
		die("%s: cannot read the set's size", dir);
	b->n_entries = info.entries[SUPPRESS_TABLE_ADDR] + info.entries[SUPPRESS_TABLE_DOMAIN];
	if (b->n_entries == 0)
		die("%s: the set is empty", dir);
	b->norm_flags = suppress_db_norm_flags(b->db);
	b->r = suppress_reader_create(b->db);
	b->h = malloc(sizeof(*b->h));
	if (b->r == NULL || b->h == NULL)
		die("cannot create a reader: %s", strerror(errno));
	printf("lookup: set %s: %" PRIu64 " addresses, %" PRIu64 " domains, %" PRIu64
	       " scoped; one thread on CPU %d, bursts of %u, pool of %zu addresses\n", dir,
	       info.entries[SUPPRESS_TABLE_ADDR], info.entries[SUPPRESS_TABLE_DOMAIN],
	       info.entries[SUPPRESS_TABLE_SCOPED], o->cpu, o->burst, o->pool);
}

static void
bench_close(struct bench *b)
{
	suppress_reader_destroy(b->r);
	suppress_db_close(b->db);
	free(b->bloom);
	free(b->h);
}

/* The filter read and every table walked once with a cursor: data.mdb in the page cache
 * and mapped. */
static void
warm_up(struct bench *b)
{
	double t0 = clock_s(CLOCK_MONOTONIC);
	uint64_t n = 0;

	b->bloom = filter_read(b->db, &b->bloom_len);
	for (int t = 0; t < SUPPRESS_TABLE__COUNT; t++) {
		struct suppress_cursor *c;
		const uint8_t *key;
		struct suppress_rec rec;
		int rc = suppress_cursor_open(b->db, (enum suppress_table)t, &c);

		while (rc >= 0 && (rc = suppress_cursor_next(c, &key, &rec)) != 0)
			n += rc > 0 || rc == -EBADMSG;
		suppress_cursor_close(c);
		if (rc < 0 && rc != -EBADMSG)
			die("cannot walk the set: %s", strerror(-rc));
	}
	printf("lookup: warm: filter read and %" PRIu64 " keys walked before timing (%.2f s)\n",
	       n, clock_s(CLOCK_MONOTONIC) - t0);
	filter_print("lookup", b->bloom, b->bloom_len, n);
}

static void
print_ratio(double ratio, const struct result *on, const struct result *off)
{
	printf("  hits %.3f, filter on/off: lookups/s %.2fx (per CPU-s %.2fx), p50 %.2fx, "
	       "p99 %.2fx\n", ratio, ((double)on->lookups / on->secs) /
	       ((double)off->lookups / off->secs), ((double)on->lookups / on->cpu_secs) /
	       ((double)off->lookups / off->cpu_secs), (double)on->p50 / (double)off->p50,
	       (double)on->p99 / (double)off->p99);
}

static void
measure(struct bench *b, const struct lookup_opts *o)
{
	struct result res[RATIOS_MAX][FILTERS_MAX];
	struct pool pool;

	print_header();
	for (unsigned k = 0; k < o->n_ratios; k++) {
		pool_make(&pool, o->pool, o->ratios[k], b->n_entries, 100 + k);
		pool_probe(&pool, b);
		for (unsigned i = 0; i < o->n_filters; i++) {
			run(b, &pool, o->filters[i], o->seconds, o->burst, &res[k][i]);
			print_result(o->filters[i] ? "on" : "off", o->ratios[k], &pool,
				     o->filters[i], &res[k][i]);
			fflush(stdout);
		}
		pool_free(&pool);
	}
	printf("lookup: lookups/s over wall time and per CPU-second of the thread (the same "
	       "unless preempted); p50..max: ns per lookup, two clock_gettime() included; "
	       "absent-pass: absent addresses that reach LMDB; preempt: involuntary context "
	       "switches\n");
	if (o->n_filters == 2 && o->filters[0] != o->filters[1])
		for (unsigned k = 0; k < o->n_ratios; k++)
			print_ratio(o->ratios[k], &res[k][o->filters[0] ? 0 : 1],
				    &res[k][o->filters[0] ? 1 : 0]);
}

static int
cmd_lookup(int argc, char **argv)
{
	struct lookup_opts o;
	struct result res;
	struct pool cold;
	struct bench b;
	const char *dir;
	cpu_set_t cpus;

	lookup_parse(argc, argv, &o, &dir);
	/* pinned like a worker lcore */
	CPU_ZERO(&cpus);
	CPU_SET(o.cpu, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus) != 0)
		die("cannot pin to CPU %d: %s", o.cpu, strerror(errno));
	log_init("bench_suppress", LOG_LVL_WARN);
	if (o.cold)
		drop_page_cache(dir);
	bench_open(&b, dir, &o);
	/* Cold: a short pass before anything else touches the set; reported once the filter
	 * has been read (for its absent-pass share). */
	if (o.cold) {
		double secs = o.seconds < COLD_SECONDS_MAX ? o.seconds : COLD_SECONDS_MAX;

		pool_make(&cold, o.pool, o.ratios[0], b.n_entries, 7);
		run(&b, &cold, o.filters[0], secs, o.burst, &res);
	}
	warm_up(&b);
	if (o.cold) {
		pool_probe(&cold, &b);
		printf("lookup: cold: data.mdb dropped from the page cache, then %.1f s:\n",
		       res.secs);
		print_header();
		print_result(o.filters[0] ? "on/cold" : "off/cold", o.ratios[0], &cold,
			     o.filters[0], &res);
		pool_free(&cold);
	}
	measure(&b, &o);
	bench_close(&b);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "build") == 0)
		return cmd_build(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "lookup") == 0)
		return cmd_lookup(argc - 1, argv + 1);
	fprintf(stderr, "%s\n%s\n", build_usage, lookup_usage);
	return 2;
}
