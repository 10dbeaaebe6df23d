/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hyperscan databases and rule evaluation for one rule generation; see scan.h. Loading
 * (deserialize, scratch per worker) happens on the main lcore before the generation is
 * published; workers only scan and evaluate.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "scan.h"

/* A worker thread's fixed pool of stream states: a free stack of equal slots. */
struct stream_pool {
	uint8_t *mem;
	uint32_t *free;
	uint32_t n_free;
	uint32_t n_slots;
	uint64_t n_exhausted;
};

static _Thread_local struct stream_pool *tl_pool;

static void *
stream_alloc(size_t size)
{
	struct stream_pool *p = tl_pool;

	if (p == NULL)
		return malloc(size);
	if (size > SCAN_STREAM_SLOT_MAX || p->n_free == 0) {
		p->n_exhausted++;
		return NULL; /* hs_open_stream fails: the message is counted, not scanned */
	}
	return p->mem + (size_t)p->free[--p->n_free] * SCAN_STREAM_SLOT_MAX;
}

static void
stream_free(void *ptr)
{
	struct stream_pool *p = tl_pool;

	if (ptr == NULL)
		return;
	if (p == NULL || (uint8_t *)ptr < p->mem ||
	    (uint8_t *)ptr >= p->mem + (size_t)p->n_slots * SCAN_STREAM_SLOT_MAX) {
		free(ptr);
		return;
	}
	p->free[p->n_free++] = (uint32_t)(((uint8_t *)ptr - p->mem) / SCAN_STREAM_SLOT_MAX);
}

int
scan_stream_pool_bind(uint32_t n_slots)
{
	struct stream_pool *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return -ENOMEM;
	p->mem = aligned_alloc(64, (size_t)n_slots * SCAN_STREAM_SLOT_MAX);
	p->free = malloc(sizeof(uint32_t) * n_slots);
	if (p->mem == NULL || p->free == NULL) {
		free(p->mem);
		free(p->free);
		free(p);
		return -ENOMEM;
	}
	/* touched now, so that resident memory does not grow when messages arrive */
	memset(p->mem, 0, (size_t)n_slots * SCAN_STREAM_SLOT_MAX);
	for (uint32_t i = 0; i < n_slots; i++)
		p->free[i] = n_slots - 1 - i;
	p->n_free = p->n_slots = n_slots;
	tl_pool = p;
	/* Process-wide, but it only routes to the calling thread's pool (or malloc). */
	hs_set_stream_allocator(stream_alloc, stream_free);
	return 0;
}

void
scan_stream_pool_unbind(void)
{
	struct stream_pool *p = tl_pool;

	if (p == NULL)
		return;
	tl_pool = NULL;
	free(p->mem);
	free(p->free);
	free(p);
}

uint64_t
scan_stream_pool_exhausted(void)
{
	return tl_pool != NULL ? tl_pool->n_exhausted : 0;
}

struct scan_gen {
	void *blob;                     /* our copy: rules and contents point into it */
	const struct gen_hdr *hdr;
	const struct gen_rule *rules;
	const struct gen_content *contents;
	hs_database_t *db[BUF__COUNT];
	hs_scratch_t **scratch;         /* one per worker */
	unsigned n_workers;
	uint32_t *negation_only;        /* rules with no positive content: always candidates */
	uint32_t n_negation_only;
	atomic_uint pins;
};

static void
gen_err(char *err, size_t errlen, const char *what, hs_error_t rc)
{
	snprintf(err, errlen, "%s failed (hyperscan error %d)", what, (int)rc);
}

struct scan_gen *
scan_gen_load(const void *blob, size_t len, unsigned n_workers, char *err, size_t errlen)
{
	int rc = gen_blob_check(blob, len);

	if (rc < 0) {
		snprintf(err, errlen, "rule generation blob is invalid (%s)", strerror(-rc));
		return NULL;
	}

	struct scan_gen *g = calloc(1, sizeof(*g));
	if (g == NULL)
		goto fail_alloc;
	g->blob = malloc(len);
	g->scratch = calloc(n_workers, sizeof(*g->scratch));
	if (g->blob == NULL || g->scratch == NULL)
		goto fail_gen;
	memcpy(g->blob, blob, len);
	g->hdr = g->blob;
	g->rules = gen_rules(g->hdr);
	g->contents = gen_contents(g->hdr);
	g->n_workers = n_workers;
	atomic_init(&g->pins, 0);

	const struct gen_db *dbs = gen_dbs(g->hdr);
	hs_scratch_t *proto = NULL;

	for (uint32_t i = 0; i < g->hdr->n_dbs; i++) {
		const struct gen_db *d = &dbs[i];
		hs_error_t hrc;

		if (g->db[d->buffer] != NULL) {
			snprintf(err, errlen, "two databases for buffer %s", buffer_id_name(d->buffer));
			goto fail_dbs;
		}
		hrc = hs_deserialize_database((const char *)g->blob + d->offset, d->len,
					      &g->db[d->buffer]);
		if (hrc != HS_SUCCESS) {
			gen_err(err, errlen, "hs_deserialize_database", hrc);
			goto fail_dbs;
		}
		if (d->mode == GEN_DB_STREAM) {
			size_t st_size = 0;

			if (hs_stream_size(g->db[d->buffer], &st_size) != HS_SUCCESS ||
			    st_size > SCAN_STREAM_SLOT_MAX) {
				snprintf(err, errlen,
					 "buffer %s needs %zu bytes of stream state, more than the %d a "
					 "worker's slot holds",
					 buffer_id_name(d->buffer), st_size, SCAN_STREAM_SLOT_MAX);
				goto fail_dbs;
			}
		}
		hrc = hs_alloc_scratch(g->db[d->buffer], &proto);
		if (hrc != HS_SUCCESS) {
			gen_err(err, errlen, "hs_alloc_scratch", hrc);
			goto fail_dbs;
		}
	}
	for (unsigned w = 0; w < n_workers && proto != NULL; w++) {
		if (hs_clone_scratch(proto, &g->scratch[w]) != HS_SUCCESS) {
			snprintf(err, errlen, "hs_clone_scratch failed");
			goto fail_scratch;
		}
	}
	hs_free_scratch(proto);
	proto = NULL;

	g->negation_only = calloc(g->hdr->n_rules + 1, sizeof(uint32_t));
	if (g->negation_only == NULL)
		goto fail_scratch;
	for (uint32_t r = 0; r < g->hdr->n_rules; r++) {
		bool positive = false;

		for (uint32_t c = 0; c < g->rules[r].n_contents; c++)
			if (!g->contents[g->rules[r].first_content + c].negated)
				positive = true;
		if (!positive)
			g->negation_only[g->n_negation_only++] = r;
	}
	return g;

fail_scratch:
	hs_free_scratch(proto);
fail_dbs:
	scan_gen_destroy(g);
	return NULL;
fail_gen:
	scan_gen_destroy(g);
fail_alloc:
	snprintf(err, errlen, "out of memory loading a rule generation");
	return NULL;
}

void
scan_gen_destroy(struct scan_gen *g)
{
	if (g == NULL)
		return;
	for (unsigned w = 0; g->scratch != NULL && w < g->n_workers; w++)
		hs_free_scratch(g->scratch[w]);
	for (int b = 0; b < BUF__COUNT; b++)
		hs_free_database(g->db[b]);
	free(g->negation_only);
	free(g->scratch);
	free(g->blob);
	free(g);
}

uint64_t
scan_gen_id(const struct scan_gen *g)
{
	return g->hdr->gen_id;
}

uint32_t
scan_gen_n_rules(const struct scan_gen *g)
{
	return g->hdr->n_rules;
}

void
scan_gen_pin(struct scan_gen *g)
{
	atomic_fetch_add_explicit(&g->pins, 1, memory_order_relaxed);
}

void
scan_gen_unpin(struct scan_gen *g)
{
	atomic_fetch_sub_explicit(&g->pins, 1, memory_order_release);
}

bool
scan_gen_is_pinned(const struct scan_gen *g)
{
	return atomic_load_explicit(&g->pins, memory_order_acquire) != 0;
}

static void
matches_add(struct scan_matches *m, uint32_t id)
{
	for (uint32_t i = 0; i < m->n; i++)
		if (m->ids[i] == id)
			return;
	if (m->n == SCAN_MATCH_MAX) {
		m->overflow = true;
		return;
	}
	m->ids[m->n++] = id;
}

/* Hyperscan match callback: record the content id, nothing else (style: rule logic after). */
static int
on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
	 void *ctx)
{
	(void)from;
	(void)to;
	(void)flags;
	matches_add(ctx, id);
	return 0;
}

int
scan_block(const struct scan_gen *g, unsigned worker, enum buffer_id buf, const uint8_t *data,
	   size_t len, struct scan_matches *m)
{
	const hs_database_t *db = g->db[buf];

	if (db == NULL || len == 0)
		return 0;
	if (len > UINT32_MAX)
		len = UINT32_MAX;
	hs_error_t rc = hs_scan(db, (const char *)data, (unsigned)len, 0, g->scratch[worker],
				on_match, m);
	return rc == HS_SUCCESS ? 0 : -EIO;
}

bool
scan_gen_has_buffer(const struct scan_gen *g, enum buffer_id buf)
{
	return (unsigned)buf < BUF__COUNT && g->db[buf] != NULL;
}

struct hs_stream *
scan_stream_open(const struct scan_gen *g, enum buffer_id buf)
{
	hs_stream_t *st = NULL;

	if (g->db[buf] == NULL)
		return NULL;
	if (hs_open_stream(g->db[buf], 0, &st) != HS_SUCCESS)
		return NULL;
	return st;
}

int
scan_stream_write(const struct scan_gen *g, unsigned worker, struct hs_stream *st,
		  const uint8_t *data, size_t len, struct scan_matches *m)
{
	if (st == NULL || len == 0)
		return 0;
	hs_error_t rc = hs_scan_stream(st, (const char *)data, (unsigned)len, 0, g->scratch[worker],
				       on_match, m);
	return rc == HS_SUCCESS ? 0 : -EIO;
}

int
scan_stream_close(const struct scan_gen *g, unsigned worker, struct hs_stream *st,
		  struct scan_matches *m)
{
	if (st == NULL)
		return 0;
	hs_error_t rc = hs_close_stream(st, g->scratch[worker], on_match, m);
	return rc == HS_SUCCESS ? 0 : -EIO;
}

static bool
matched(const struct scan_matches *m, uint32_t id)
{
	for (uint32_t i = 0; i < m->n; i++)
		if (m->ids[i] == id)
			return true;
	return false;
}

static bool
rule_satisfied(const struct scan_gen *g, const struct gen_rule *r, const struct scan_matches *m)
{
	for (uint32_t c = 0; c < r->n_contents; c++) {
		uint32_t id = r->first_content + c;

		if (matched(m, id) == (bool)g->contents[id].negated)
			return false;
	}
	return true;
}

unsigned
scan_eval(const struct scan_gen *g, const struct scan_matches *m, scan_fired_fn fired, void *ctx)
{
	uint32_t done[SCAN_MATCH_MAX];
	uint32_t n_done = 0;
	unsigned n_fired = 0;

	/* Candidates are the rules owning a matched content, each evaluated once. */
	for (uint32_t i = 0; i < m->n; i++) {
		if (m->ids[i] >= g->hdr->n_contents)
			continue; /* a database that disagrees with its tables: never trust it */
		uint32_t r = g->contents[m->ids[i]].rule;
		bool seen = false;

		for (uint32_t k = 0; k < n_done && !seen; k++)
			seen = done[k] == r;
		if (seen)
			continue;
		done[n_done++] = r;
		if (rule_satisfied(g, &g->rules[r], m)) {
			fired(ctx, &g->rules[r]);
			n_fired++;
		}
	}
	for (uint32_t i = 0; i < g->n_negation_only; i++) {
		const struct gen_rule *r = &g->rules[g->negation_only[i]];

		if (rule_satisfied(g, r, m)) {
			fired(ctx, r);
			n_fired++;
		}
	}
	return n_fired;
}
