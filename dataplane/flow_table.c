/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-worker flow table on rte_hash (positions index our flow array, as DPDK's l3fwd does) and
 * a session pool kept as a free stack. See flow_table.h. Worker lcore, after start.
 */
#include <errno.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_malloc.h>

#include "flow_table.h"

struct flow_table {
	struct rte_hash *hash;
	struct flow *flows;
	uint32_t n_slots;           /* size of flows[]: rte_hash's key id bound */
	uint32_t n_active;
	uint32_t sweep_cursor;
	struct inspect_session *sessions;
	uint32_t *free_sessions;    /* stack of free session indexes */
	uint32_t n_free;
	uint32_t n_sessions;
};

struct flow_table *
flow_table_create(const char *name, uint32_t n_flows, uint32_t n_sessions, int socket)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = n_flows,
		.key_len = sizeof(struct flow_key),
		.socket_id = socket,
	};
	struct flow_table *t = rte_zmalloc_socket("flow_table", sizeof(*t), RTE_CACHE_LINE_SIZE,
						  socket);

	if (t == NULL)
		return NULL;
	t->hash = rte_hash_create(&hp);
	if (t->hash == NULL)
		goto fail;
	/* Positions rte_hash returns go up to its key id bound, not to `entries`. */
	t->n_slots = (uint32_t)rte_hash_max_key_id(t->hash) + 1;
	t->flows = rte_zmalloc_socket("flows", sizeof(struct flow) * (size_t)t->n_slots,
				      RTE_CACHE_LINE_SIZE, socket);
	t->sessions = rte_zmalloc_socket("sessions", sizeof(struct inspect_session) * n_sessions,
					 RTE_CACHE_LINE_SIZE, socket);
	t->free_sessions = rte_zmalloc_socket("free_sessions", sizeof(uint32_t) * n_sessions, 0,
					      socket);
	if (t->flows == NULL || t->sessions == NULL || t->free_sessions == NULL)
		goto fail;
	t->n_sessions = n_sessions;
	for (uint32_t i = 0; i < n_sessions; i++)
		t->free_sessions[i] = n_sessions - 1 - i;
	t->n_free = n_sessions;
	return t;
fail:
	flow_table_destroy(t);
	return NULL;
}

void
flow_table_destroy(struct flow_table *t)
{
	if (t == NULL)
		return;
	rte_hash_free(t->hash);
	rte_free(t->flows);
	rte_free(t->sessions);
	rte_free(t->free_sessions);
	rte_free(t);
}

struct flow *
flow_table_lookup(struct flow_table *t, const struct flow_key *key, uint32_t hash, bool create,
		  uint64_t now_us, bool *created)
{
	int32_t pos = rte_hash_lookup_with_hash(t->hash, key, hash);

	*created = false;
	if (pos >= 0)
		return &t->flows[pos];
	if (!create)
		return NULL;
	pos = rte_hash_add_key_with_hash(t->hash, key, hash);
	if (pos < 0)
		return NULL;

	struct flow *f = &t->flows[pos];

	memset(f, 0, sizeof(*f));
	f->key = *key;
	f->hash = hash;
	f->in_use = true;
	f->first_us = now_us;
	f->last_us = now_us;
	f->id = flow_key_id(key, now_us);
	f->client_side = FLOW_SIDE_UNKNOWN;
	tcp_stream_init(&f->dir[0]);
	tcp_stream_init(&f->dir[1]);
	t->n_active++;
	*created = true;
	return f;
}

struct inspect_session *
flow_table_session_get(struct flow_table *t)
{
	if (t->n_free == 0)
		return NULL;
	return &t->sessions[t->free_sessions[--t->n_free]];
}

void
flow_table_remove(struct flow_table *t, struct flow *f)
{
	if (f->sess != NULL) {
		inspect_session_close(f->sess);
		t->free_sessions[t->n_free++] = (uint32_t)(f->sess - t->sessions);
		f->sess = NULL;
	}
	rte_hash_del_key_with_hash(t->hash, &f->key, f->hash);
	f->in_use = false;
	t->n_active--;
}

unsigned
flow_table_sweep(struct flow_table *t, uint64_t deadline_us, unsigned budget)
{
	uint32_t cap = t->n_slots;
	unsigned removed = 0;

	for (unsigned i = 0; i < budget; i++) {
		struct flow *f = &t->flows[t->sweep_cursor];

		if (f->in_use && f->last_us < deadline_us) {
			flow_table_remove(t, f);
			removed++;
		}
		if (++t->sweep_cursor == cap)
			t->sweep_cursor = 0;
	}
	return removed;
}

void
flow_table_flush(struct flow_table *t)
{
	for (uint32_t i = 0; i < t->n_slots; i++)
		if (t->flows[i].in_use)
			flow_table_remove(t, &t->flows[i]);
}

uint32_t
flow_table_n_active(const struct flow_table *t)
{
	return t->n_active;
}
