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

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "netset.h"
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

/* What one worker needs to evaluate rules: no allocation while it runs. */
struct scan_worker {
	hs_scratch_t *scratch;
	pcre2_match_data *md;        /* for confirmations; NULL when the pack has none */
	uint64_t *atom_bits;         /* the transaction's matched atoms, set then cleared */
	uint32_t *stamp;             /* rule -> epoch it was last a candidate in */
	uint32_t epoch;
	uint64_t *cand;              /* stage << 32 | rule index */
	uint32_t *matched;           /* rules that matched, in evaluation order */
	uint64_t last_bits0;         /* flowbits 0..63 after the last scan_eval */
};

struct scan_gen {
	void *blob;                     /* our copy: every table points into it */
	const struct gen_hdr *hdr;
	const struct gen_rule *rules;
	const struct gen_atom *atoms;
	const struct gen_flowbit_op *fb_ops;
	const struct gen_set *sets;
	const struct netset_ip_range *ip_ranges;
	const struct netset_port_range *port_ranges;
	uint32_t n_rules, n_atoms;
	hs_database_t *db[BUF__COUNT];
	pcre2_code **confirm;           /* per atom, NULL for most; NULL when none at all */
	struct scan_worker *w;          /* one per worker */
	unsigned n_workers;
	uint32_t *always;               /* rules with no positive atom: always candidates */
	uint32_t n_always;
	atomic_uint pins;
};

static void
gen_err(char *err, size_t errlen, const char *what, hs_error_t rc)
{
	snprintf(err, errlen, "%s failed (hyperscan error %d)", what, (int)rc);
}

static int
load_dbs(struct scan_gen *g, hs_scratch_t **proto, char *err, size_t errlen)
{
	const struct gen_db *dbs = gen_section(g->hdr, GEN_SEC_DBS);

	for (uint32_t i = 0; i < gen_count(g->hdr, GEN_SEC_DBS); i++) {
		const struct gen_db *d = &dbs[i];
		hs_error_t hrc;

		if (g->db[d->buffer] != NULL) {
			snprintf(err, errlen, "two databases for buffer %s", buffer_id_name(d->buffer));
			return -EINVAL;
		}
		hrc = hs_deserialize_database((const char *)g->blob + d->offset, d->len,
					      &g->db[d->buffer]);
		if (hrc != HS_SUCCESS) {
			gen_err(err, errlen, "hs_deserialize_database", hrc);
			return -EINVAL;
		}
		if (d->mode == GEN_DB_STREAM) {
			size_t st_size = 0;

			if (hs_stream_size(g->db[d->buffer], &st_size) != HS_SUCCESS ||
			    st_size > SCAN_STREAM_SLOT_MAX) {
				snprintf(err, errlen,
					 "buffer %s needs %zu bytes of stream state, more than the %d a "
					 "worker's slot holds",
					 buffer_id_name(d->buffer), st_size, SCAN_STREAM_SLOT_MAX);
				return -EINVAL;
			}
		}
		hrc = hs_alloc_scratch(g->db[d->buffer], proto);
		if (hrc != HS_SUCCESS) {
			gen_err(err, errlen, "hs_alloc_scratch", hrc);
			return -EINVAL;
		}
	}
	return 0;
}

/* The expressions Hyperscan only prefilters, compiled (and JIT-compiled) with PCRE2. */
static int
load_confirmations(struct scan_gen *g, char *err, size_t errlen)
{
	const char *text = gen_section(g->hdr, GEN_SEC_TEXT);

	for (uint32_t i = 0; i < g->n_atoms; i++) {
		const struct gen_atom *a = &g->atoms[i];
		PCRE2_SIZE eoff;
		int ecode;

		if (a->confirm_offset == 0)
			continue;
		if (g->confirm == NULL) {
			g->confirm = calloc(g->n_atoms, sizeof(*g->confirm));
			if (g->confirm == NULL)
				return -ENOMEM;
		}
		g->confirm[i] = pcre2_compile((PCRE2_SPTR)(text + a->confirm_offset),
					      PCRE2_ZERO_TERMINATED, a->confirm_options, &ecode,
					      &eoff, NULL);
		if (g->confirm[i] == NULL) {
			snprintf(err, errlen, "atom %u: PCRE2 refuses its expression (error %d)", i,
				 ecode);
			return -EINVAL;
		}
		(void)pcre2_jit_compile(g->confirm[i], PCRE2_JIT_COMPLETE); /* else interpreted */
	}
	return 0;
}

static int
load_workers(struct scan_gen *g, hs_scratch_t *proto)
{
	size_t words = g->n_atoms / 64 + 1;

	for (unsigned i = 0; i < g->n_workers; i++) {
		struct scan_worker *w = &g->w[i];

		if (proto != NULL && hs_clone_scratch(proto, &w->scratch) != HS_SUCCESS)
			return -ENOMEM;
		if (g->confirm != NULL) {
			w->md = pcre2_match_data_create(1, NULL);
			if (w->md == NULL)
				return -ENOMEM;
		}
		w->atom_bits = calloc(words, sizeof(uint64_t));
		w->stamp = calloc(g->n_rules + 1, sizeof(uint32_t));
		w->cand = calloc(g->n_rules + 1, sizeof(uint64_t));
		w->matched = calloc(g->n_rules + 1, sizeof(uint32_t));
		if (w->atom_bits == NULL || w->stamp == NULL || w->cand == NULL ||
		    w->matched == NULL)
			return -ENOMEM;
	}
	return 0;
}

static int
load_rules(struct scan_gen *g)
{
	g->always = calloc(g->n_rules + 1, sizeof(uint32_t));
	if (g->always == NULL)
		return -ENOMEM;
	for (uint32_t r = 0; r < g->n_rules; r++) {
		bool positive = false;

		for (uint32_t k = 0; k < g->rules[r].n_atoms; k++)
			positive |= !g->atoms[g->rules[r].first_atom + k].negated;
		if (!positive)
			g->always[g->n_always++] = r;
	}
	return 0;
}

struct scan_gen *
scan_gen_load(const void *blob, size_t len, unsigned n_workers, char *err, size_t errlen)
{
	hs_scratch_t *proto = NULL;
	int rc = gen_blob_check(blob, len);

	if (rc < 0) {
		snprintf(err, errlen, "rule generation blob is invalid (%s)", strerror(-rc));
		return NULL;
	}

	struct scan_gen *g = calloc(1, sizeof(*g));
	if (g == NULL)
		goto nomem;
	g->blob = malloc(len);
	g->w = calloc(n_workers, sizeof(*g->w));
	g->n_workers = n_workers;
	if (g->blob == NULL || g->w == NULL)
		goto nomem;
	memcpy(g->blob, blob, len);
	g->hdr = g->blob;
	g->rules = gen_section(g->hdr, GEN_SEC_RULES);
	g->atoms = gen_section(g->hdr, GEN_SEC_ATOMS);
	g->fb_ops = gen_section(g->hdr, GEN_SEC_FLOWBIT_OPS);
	g->sets = gen_section(g->hdr, GEN_SEC_SETS);
	g->ip_ranges = gen_section(g->hdr, GEN_SEC_IP_RANGES);
	g->port_ranges = gen_section(g->hdr, GEN_SEC_PORT_RANGES);
	g->n_rules = gen_count(g->hdr, GEN_SEC_RULES);
	g->n_atoms = gen_count(g->hdr, GEN_SEC_ATOMS);
	atomic_init(&g->pins, 0);

	rc = load_dbs(g, &proto, err, errlen);
	if (rc == 0)
		rc = load_confirmations(g, err, errlen);
	if (rc == 0)
		rc = load_rules(g);
	if (rc == 0)
		rc = load_workers(g, proto);
	hs_free_scratch(proto);
	if (rc == -ENOMEM)
		goto nomem;
	if (rc < 0) {
		scan_gen_destroy(g);
		return NULL;
	}
	return g;

nomem:
	scan_gen_destroy(g);
	snprintf(err, errlen, "out of memory loading a rule generation");
	return NULL;
}

void
scan_gen_destroy(struct scan_gen *g)
{
	if (g == NULL)
		return;
	for (unsigned i = 0; g->w != NULL && i < g->n_workers; i++) {
		hs_free_scratch(g->w[i].scratch);
		pcre2_match_data_free(g->w[i].md);
		free(g->w[i].atom_bits);
		free(g->w[i].stamp);
		free(g->w[i].cand);
		free(g->w[i].matched);
	}
	for (int b = 0; b < BUF__COUNT; b++)
		hs_free_database(g->db[b]);
	for (uint32_t i = 0; g->confirm != NULL && i < g->n_atoms; i++)
		pcre2_code_free(g->confirm[i]);
	free(g->confirm);
	free(g->always);
	free(g->w);
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
	return g->n_rules;
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

void
scan_matches_merge(struct scan_matches *dst, const struct scan_matches *src)
{
	for (uint32_t i = 0; i < src->n; i++)
		matches_add(dst, src->ids[i]);
	dst->overflow |= src->overflow;
}

/* Hyperscan match callback: record the atom id, nothing else (style: rule logic after). */
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

/*
 * Atoms that first matched in this value and that Hyperscan only prefiltered: kept when
 * PCRE2 finds the whole expression in the value, dropped otherwise.
 */
static void
confirm_new(const struct scan_gen *g, unsigned worker, struct scan_matches *m, uint32_t first,
	    const uint8_t *data, size_t len)
{
	for (uint32_t i = first; i < m->n; i++) {
		uint32_t id = m->ids[i];

		if (id >= g->n_atoms || g->confirm[id] == NULL)
			continue;
		if (pcre2_match(g->confirm[id], data, len, 0, 0, g->w[worker].md, NULL) >= 0)
			continue;
		m->ids[i--] = m->ids[--m->n];
	}
}

int
scan_block(const struct scan_gen *g, unsigned worker, enum buffer_id buf, const uint8_t *data,
	   size_t len, struct scan_matches *m)
{
	const hs_database_t *db = g->db[buf];
	uint32_t first = m->n;

	if (db == NULL)
		return 0;
	/* an empty value is scanned too (an expression may match empty), never from NULL */
	if (data == NULL)
		data = (const uint8_t *)"";
	if (len > UINT32_MAX)
		len = UINT32_MAX;
	hs_error_t rc = hs_scan(db, (const char *)data, (unsigned)len, 0, g->w[worker].scratch,
				on_match, m);
	if (g->confirm != NULL && m->n > first)
		confirm_new(g, worker, m, first, data, len);
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
	hs_error_t rc = hs_scan_stream(st, (const char *)data, (unsigned)len, 0,
				       g->w[worker].scratch, on_match, m);
	return rc == HS_SUCCESS ? 0 : -EIO;
}

int
scan_stream_close(const struct scan_gen *g, unsigned worker, struct hs_stream *st,
		  struct scan_matches *m)
{
	if (st == NULL)
		return 0;
	hs_error_t rc = hs_close_stream(st, g->w[worker].scratch, on_match, m);
	return rc == HS_SUCCESS ? 0 : -EIO;
}

/* ---- rule logic ---- */

static bool
bit_test(const uint64_t *bits, uint32_t i)
{
	return bits[i / 64] >> (i % 64) & 1;
}

static bool
ip_in(const struct scan_gen *g, uint32_t set, const uint8_t *ip)
{
	if (set == GEN_SET_ANY)
		return true;
	return netset_ip_contains(g->ip_ranges + g->sets[set].first, g->sets[set].n, ip);
}

static bool
port_in(const struct scan_gen *g, uint32_t set, uint16_t port)
{
	if (set == GEN_SET_ANY)
		return true;
	return netset_port_contains(g->port_ranges + g->sets[set].first, g->sets[set].n, port);
}

static bool
endpoints_match(const struct scan_gen *g, const struct gen_rule *r, const uint8_t *src_ip,
		uint16_t src_port, const uint8_t *dst_ip, uint16_t dst_port)
{
	return ip_in(g, r->src_set, src_ip) && port_in(g, r->sport_set, src_port) &&
	       ip_in(g, r->dst_set, dst_ip) && port_in(g, r->dport_set, dst_port);
}

/* The header's addresses and ports: src is the client, unless the rule looks to_client. */
static bool
rule_endpoints(const struct scan_gen *g, const struct gen_rule *r, const struct scan_flow *f)
{
	const uint8_t *src = f->client_ip, *dst = f->server_ip;
	uint16_t sp = f->client_port, dp = f->server_port;

	if ((r->src_set & r->sport_set & r->dst_set & r->dport_set) == GEN_SET_ANY)
		return true;
	if (r->flags & GEN_RULE_TO_CLIENT) {
		src = f->server_ip;
		dst = f->client_ip;
		sp = f->server_port;
		dp = f->client_port;
	}
	return endpoints_match(g, r, src, sp, dst, dp) ||
	       ((r->flags & GEN_RULE_BIDIR) && endpoints_match(g, r, dst, dp, src, sp));
}

static bool
atoms_satisfied(const struct scan_gen *g, const struct gen_rule *r, const uint64_t *matched)
{
	for (uint32_t k = 0; k < r->n_atoms; k++) {
		uint32_t id = r->first_atom + k;

		if (bit_test(matched, id) == (bool)g->atoms[id].negated)
			return false;
	}
	return true;
}

/* Tests every flowbit condition; when all hold, the caller applies the rule's effects. */
static bool
flowbits_hold(const struct scan_gen *g, const struct gen_rule *r, const uint64_t *bits)
{
	for (uint32_t k = 0; k < r->n_flowbit_ops; k++) {
		const struct gen_flowbit_op *o = &g->fb_ops[r->first_flowbit_op + k];

		if ((o->op == GEN_FB_ISSET && !bit_test(bits, o->bit)) ||
		    (o->op == GEN_FB_ISNOTSET && bit_test(bits, o->bit)))
			return false;
	}
	return true;
}

static void
flowbits_apply(const struct scan_gen *g, const struct gen_rule *r, uint64_t *bits)
{
	for (uint32_t k = 0; k < r->n_flowbit_ops; k++) {
		const struct gen_flowbit_op *o = &g->fb_ops[r->first_flowbit_op + k];
		uint64_t mask = UINT64_C(1) << (o->bit % 64);

		if (o->op == GEN_FB_SET)
			bits[o->bit / 64] |= mask;
		else if (o->op == GEN_FB_UNSET)
			bits[o->bit / 64] &= ~mask;
		else if (o->op == GEN_FB_TOGGLE)
			bits[o->bit / 64] ^= mask;
	}
}

static void
candidate(const struct scan_gen *g, struct scan_worker *w, uint32_t r, uint32_t *n)
{
	if (w->stamp[r] == w->epoch)
		return;
	w->stamp[r] = w->epoch;
	w->cand[(*n)++] = (uint64_t)g->rules[r].stage << 32 | r;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

unsigned
scan_eval(const struct scan_gen *g, unsigned worker, const struct scan_matches *m,
	  const struct scan_flow *f, scan_fired_fn fired, void *ctx, bool *pass_out)
{
	struct scan_worker *w = &g->w[worker];
	uint64_t bits[GEN_MAX_FLOWBITS / 64] = { 0 };
	uint32_t n = 0, n_matched = 0;
	bool passed = false;

	if (++w->epoch == 0) {
		memset(w->stamp, 0, (g->n_rules + 1) * sizeof(uint32_t));
		w->epoch = 1;
	}
	/* candidates: the rules owning a matched atom, and those that need none */
	for (uint32_t i = 0; i < m->n; i++) {
		uint32_t id = m->ids[i];

		if (id >= g->n_atoms)
			continue; /* a database that disagrees with its tables: never trust it */
		w->atom_bits[id / 64] |= UINT64_C(1) << (id % 64);
		candidate(g, w, g->atoms[id].rule, &n);
	}
	for (uint32_t i = 0; i < g->n_always; i++)
		candidate(g, w, g->always[i], &n);
	/* stage order for flowbits, then file order: a record's alerts come out the same way
	 * whatever order Hyperscan reported the atoms in */
	qsort(w->cand, n, sizeof(w->cand[0]), cmp_u64);

	for (uint32_t i = 0; i < n; i++) {
		const struct gen_rule *r = &g->rules[(uint32_t)w->cand[i]];

		if (!atoms_satisfied(g, r, w->atom_bits) || !flowbits_hold(g, r, bits) ||
		    !rule_endpoints(g, r, f))
			continue;
		flowbits_apply(g, r, bits);
		w->matched[n_matched++] = (uint32_t)w->cand[i];
		passed |= r->action == GEN_ACTION_PASS;
	}
	for (uint32_t i = 0; i < m->n; i++)
		if (m->ids[i] < g->n_atoms)
			w->atom_bits[m->ids[i] / 64] = 0;
	w->last_bits0 = bits[0];
	/* As in Suricata, a pass rule that matches lets the transaction through silently: no
	 * alert, and no drop or reject, from any rule. */
	for (uint32_t i = 0; i < n_matched && !passed; i++) {
		const struct gen_rule *r = &g->rules[w->matched[i]];

		if (!(r->flags & GEN_RULE_NOALERT))
			fired(ctx, r);
	}
	if (passed && pass_out != NULL)
		*pass_out = true;
	return n_matched;
}

bool
scan_last_flowbit(const struct scan_gen *g, unsigned worker, unsigned bit)
{
	return bit < 64 && (g->w[worker].last_bits0 >> bit & 1);
}
