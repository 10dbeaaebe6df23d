/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bypass detection (see bypass.h): two bounded tables, one of client hosts and one of
 * (client, server) pairs that skipped the relays, each a fixed pool of entries on an LRU list
 * with an open-addressing index (linear probing over entry numbers, load at most one half,
 * backward-shift deletion so that no tombstones build up). The index is seeded: the server
 * addresses are chosen by whoever runs the client, and must not be able to pile entries
 * onto one probe chain. Eviction follows the LRU list, which does not depend on the seed, so
 * findings are the same on every run. Control thread only.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "bypass.h"
#include "hash_mix.h"
#include "netset.h"

#define BYPASS_NIL UINT32_MAX
#define BYPASS_KEY_MAX 32u          /* client IP + server IP */
#define BYPASS_TABLE_MAX (1u << 24) /* entries; the index then needs 1 << 25 slots */
#define US_PER_S UINT64_C(1000000)

struct bypass_entry {
	uint8_t key[BYPASS_KEY_MAX]; /* only the table's key_len bytes are used */
	uint64_t first_seen_us;
	uint64_t last_alert_us;      /* pairs only */
	uint64_t count;              /* pairs only: transactions since the last alert */
	uint32_t hash;               /* low bits of the seeded hash: the entry's home slot */
	uint32_t prev, next;         /* LRU list: prev towards the most recently seen */
};

struct bypass_table {
	struct bypass_entry *e;      /* cap entries, e[0 .. n_used) in use */
	uint32_t cap, n_used;
	uint32_t *slot;              /* index: entry number + 1, 0 for an empty slot */
	uint32_t mask;               /* slots - 1 */
	uint32_t head, tail;         /* most and least recently seen entries */
	uint32_t key_len;
	uint64_t seed;
	uint64_t n_evicted;
};

struct bypass {
	struct netset_ip_range *relays;   /* NULL: relay check off */
	uint32_t n_relays;
	struct netset_ip_range *clients;
	uint32_t n_clients;
	uint64_t interval_us;
	uint64_t learning_us;             /* 0: new-host check off */
	bool started;                     /* learning_end_us is set */
	uint64_t learning_end_us;
	struct bypass_table hosts;        /* allocated when the new-host check is on */
	struct bypass_table pairs;        /* allocated when the relay check is on */
};

/* ---- the bounded LRU table ---- */

static int
table_init(struct bypass_table *t, uint32_t cap, uint32_t key_len)
{
	uint32_t slots = 2;

	memset(t, 0, sizeof(*t));
	while (slots < 2 * (uint64_t)cap)
		slots <<= 1;
	t->e = calloc(cap, sizeof(*t->e));
	t->slot = calloc(slots, sizeof(*t->slot));
	if (t->e == NULL || t->slot == NULL) {
		free(t->e);
		free(t->slot);
		t->e = NULL;
		t->slot = NULL;
		return -ENOMEM;
	}
	t->cap = cap;
	t->mask = slots - 1;
	t->head = BYPASS_NIL;
	t->tail = BYPASS_NIL;
	t->key_len = key_len;
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = hash_mix64((uint64_t)(uintptr_t)t); /* only spreads chains; still works */
	return 0;
}

static void
table_fini(struct bypass_table *t)
{
	free(t->e);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

static uint32_t
table_hash(const struct bypass_table *t, const uint8_t *key)
{
	uint64_t h = t->seed, w;

	for (uint32_t i = 0; i < t->key_len; i += 8) {
		memcpy(&w, key + i, 8);
		h = hash_mix64(h ^ w);
	}
	return (uint32_t)h;
}

/* The slot that holds the entry of key, or BYPASS_NIL. */
static uint32_t
table_find_slot(const struct bypass_table *t, const uint8_t *key, uint32_t hash)
{
	/* The index is at most half full, so an empty slot always ends the probe. */
	for (uint32_t s = hash & t->mask;; s = (s + 1) & t->mask) {
		uint32_t v = t->slot[s];

		if (v == 0)
			return BYPASS_NIL;
		if (t->e[v - 1].hash == hash && memcmp(t->e[v - 1].key, key, t->key_len) == 0)
			return s;
	}
}

static void
table_unlink(struct bypass_table *t, uint32_t i)
{
	struct bypass_entry *e = &t->e[i];

	if (e->prev != BYPASS_NIL)
		t->e[e->prev].next = e->next;
	else
		t->head = e->next;
	if (e->next != BYPASS_NIL)
		t->e[e->next].prev = e->prev;
	else
		t->tail = e->prev;
	e->prev = BYPASS_NIL;
	e->next = BYPASS_NIL;
}

static void
table_push_head(struct bypass_table *t, uint32_t i)
{
	struct bypass_entry *e = &t->e[i];

	e->prev = BYPASS_NIL;
	e->next = t->head;
	if (t->head != BYPASS_NIL)
		t->e[t->head].prev = i;
	t->head = i;
	if (t->tail == BYPASS_NIL)
		t->tail = i;
}

/* Empty slot s, then move back the entries of its probe chain that may fill the hole. */
static void
table_clear_slot(struct bypass_table *t, uint32_t s)
{
	uint32_t hole = s;

	for (uint32_t j = (s + 1) & t->mask; t->slot[j] != 0; j = (j + 1) & t->mask) {
		uint32_t home = t->e[t->slot[j] - 1].hash & t->mask;

		/* The entry at j may move to the hole only if its home is not after the hole,
		 * i.e. it is at least as far from home as the hole is behind it. */
		if (((j - home) & t->mask) >= ((j - hole) & t->mask)) {
			t->slot[hole] = t->slot[j];
			hole = j;
		}
	}
	t->slot[hole] = 0;
}

/*
 * The entry of key, made the most recently seen. *created tells whether it is new (its
 * fields then zero but for the key): when the table is full the least recently seen entry
 * is evicted for it.
 */
static struct bypass_entry *
table_get(struct bypass_table *t, const uint8_t *key, bool *created)
{
	uint32_t hash = table_hash(t, key);
	uint32_t s = table_find_slot(t, key, hash);
	struct bypass_entry *e;
	uint32_t i;

	if (s != BYPASS_NIL) {
		i = t->slot[s] - 1;
		if (t->head != i) {
			table_unlink(t, i);
			table_push_head(t, i);
		}
		*created = false;
		return &t->e[i];
	}
	if (t->n_used < t->cap) {
		i = t->n_used++;
	} else {
		i = t->tail;
		table_clear_slot(t, table_find_slot(t, t->e[i].key, t->e[i].hash));
		table_unlink(t, i);
		t->n_evicted++;
	}
	e = &t->e[i];
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, t->key_len);
	e->hash = hash;
	for (s = hash & t->mask; t->slot[s] != 0; s = (s + 1) & t->mask)
		;
	t->slot[s] = i + 1;
	table_push_head(t, i);
	*created = true;
	return e;
}

/* ---- configuration ---- */

static int
compile_set(const char *key, const char *spec, const struct netset_vars *vars,
	    struct netset_ip_range **out, uint32_t *n, char *err, size_t errlen)
{
	char why[192];
	size_t off = 0;
	int rc;

	rc = netset_ip_compile(spec, strlen(spec), vars, out, n, &off, why, sizeof(why));
	if (rc == -EINVAL)
		snprintf(err, errlen, "%s: %s (column %zu)", key, why, off + 1);
	return rc;
}

struct bypass *
bypass_create(const struct postern_config *cfg, char *err, size_t errlen)
{
	struct netset_vars *vars = NULL;
	struct bypass *b;
	int rc = -ENOMEM;

	if (errlen > 0)
		err[0] = '\0';
	if (cfg->new_host_table < 1 || cfg->new_host_table > BYPASS_TABLE_MAX) {
		snprintf(err, errlen, "new_host_table: must be 1..%u, not %u", BYPASS_TABLE_MAX,
			 cfg->new_host_table);
		errno = EINVAL;
		return NULL;
	}
	if (cfg->internal_clients[0] == '\0') {
		snprintf(err, errlen, "internal_clients: empty (no client would be judged)");
		errno = EINVAL;
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		goto fail_msg;
	vars = netset_vars_defaults();
	if (vars == NULL)
		goto fail_free;
	rc = compile_set("internal_clients", cfg->internal_clients, vars, &b->clients,
			 &b->n_clients, err, errlen);
	if (rc < 0)
		goto fail_vars;
	if (cfg->sanctioned_relays[0] != '\0') {
		rc = compile_set("sanctioned_relays", cfg->sanctioned_relays, vars, &b->relays,
				 &b->n_relays, err, errlen);
		if (rc < 0)
			goto fail_vars;
		rc = table_init(&b->pairs, cfg->new_host_table, 32);
		if (rc < 0)
			goto fail_vars;
	}
	b->interval_us = (uint64_t)cfg->bypass_alert_interval * US_PER_S;
	b->learning_us = (uint64_t)cfg->new_host_learning * US_PER_S;
	if (b->learning_us > 0) {
		rc = table_init(&b->hosts, cfg->new_host_table, 16);
		if (rc < 0)
			goto fail_vars;
	}
	netset_vars_destroy(vars);
	return b;

fail_vars:
	netset_vars_destroy(vars);
fail_free:
	bypass_destroy(b);
fail_msg:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "bypass: out of memory");
	errno = -rc;
	return NULL;
}

void
bypass_destroy(struct bypass *b)
{
	if (b == NULL)
		return;
	table_fini(&b->hosts);
	table_fini(&b->pairs);
	free(b->relays);
	free(b->clients);
	free(b);
}

uint64_t
bypass_evictions(const struct bypass *b)
{
	return b->hosts.n_evicted + b->pairs.n_evicted;
}

/* ---- judging ---- */

static void
finding_fill(struct bypass_finding *f, enum bypass_kind kind, const struct ipc_tx *tx,
	     uint64_t first_seen_us, uint64_t count)
{
	memset(f, 0, sizeof(*f));
	f->kind = (uint8_t)kind;
	memcpy(f->client_ip, tx->src_ip, 16);
	memcpy(f->server_ip, tx->dst_ip, 16);
	f->server_port = tx->dst_port;
	f->first_seen_us = first_seen_us;
	f->count = count;
}

static bool
new_host(struct bypass *b, const struct ipc_tx *tx)
{
	struct bypass_entry *e;
	bool created;

	e = table_get(&b->hosts, tx->src_ip, &created);
	if (!created)
		return false;
	e->first_seen_us = tx->ts_us;
	/* Records of several workers may arrive slightly out of order: a record stamped before
	 * the end of learning is learning, whenever it arrives. */
	return tx->ts_us >= b->learning_end_us;
}

/* Whether the pair alerts now; *first and *count describe it when it does. */
static bool
relay_skipped(struct bypass *b, const struct ipc_tx *tx, uint64_t *first, uint64_t *count)
{
	uint8_t key[32];
	struct bypass_entry *e;
	bool created;

	if (tx->dst_port != 25 && tx->dst_port != 587)
		return false;
	if (netset_ip_contains(b->relays, b->n_relays, tx->dst_ip) ||
	    netset_ip_contains(b->relays, b->n_relays, tx->src_ip))
		return false;
	memcpy(key, tx->src_ip, 16);
	memcpy(key + 16, tx->dst_ip, 16);
	e = table_get(&b->pairs, key, &created);
	e->count++;
	if (created) {
		e->first_seen_us = tx->ts_us;
	} else if (tx->ts_us < e->last_alert_us || tx->ts_us - e->last_alert_us < b->interval_us) {
		/* A record older than the last alert (another worker's, late) is counted, not
		 * alerted: the interval only ever runs forward. */
		return false;
	}
	e->last_alert_us = tx->ts_us;
	*first = e->first_seen_us;
	*count = e->count;
	e->count = 0;
	return true;
}

unsigned
bypass_observe(struct bypass *b, const struct ipc_tx *tx, struct bypass_finding out[2])
{
	uint64_t first, count;
	unsigned n = 0;

	if (!b->started) {
		b->started = true;
		/* Saturating: ts_us is the sender's word and may be anything. */
		b->learning_end_us = tx->ts_us > UINT64_MAX - b->learning_us
					     ? UINT64_MAX
					     : tx->ts_us + b->learning_us;
	}
	if (!netset_ip_contains(b->clients, b->n_clients, tx->src_ip))
		return 0;
	if (b->learning_us > 0 && new_host(b, tx))
		finding_fill(&out[n++], BYPASS_NEW_SMTP_HOST, tx, tx->ts_us, 1);
	if (b->relays != NULL && relay_skipped(b, tx, &first, &count))
		finding_fill(&out[n++], BYPASS_RELAY_SKIPPED, tx, first, count);
	return n;
}
