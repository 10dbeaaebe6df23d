/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-worker flow table on rte_hash (positions index our flow array, as DPDK's l3fwd does),
 * a timing wheel for idle eviction, and a session pool kept as a free stack. See
 * flow_table.h. Worker lcore, after start.
 */
#include <errno.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_malloc.h>

#include "flow_table.h"

#define WHEEL_SLOTS 4096            /* one-second slots: a lap is over an hour */
#define WHEEL_TICK_US 1000000

struct flow_table {
	struct rte_hash *hash;
	struct flow *flows;
	uint32_t n_slots;           /* size of flows[]: rte_hash's key id bound */
	uint32_t n_active;
	struct flow_wheel wheel;
	uint64_t timeout_us[FLOW_STATE__COUNT];
	flow_close_fn on_close;
	void *close_ctx;
	struct flow_table_stats stats;
	struct inspect_session *sessions;
	uint32_t *free_sessions;    /* stack of free session indexes */
	uint32_t n_free;
	uint32_t n_sessions;
};

struct flow_table *
flow_table_create(const char *name, const struct flow_table_limits *lim, int socket)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = lim->n_flows,
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
	t->sessions = rte_zmalloc_socket("sessions",
					 sizeof(struct inspect_session) * lim->n_sessions,
					 RTE_CACHE_LINE_SIZE, socket);
	t->free_sessions = rte_zmalloc_socket("free_sessions", sizeof(uint32_t) * lim->n_sessions,
					      0, socket);
	if (t->flows == NULL || t->sessions == NULL || t->free_sessions == NULL)
		goto fail;
	if (flow_wheel_init(&t->wheel, WHEEL_SLOTS, WHEEL_TICK_US, t->flows, sizeof(struct flow),
			    offsetof(struct flow, wheel), 0) < 0)
		goto fail;
	for (uint32_t i = 0; i < t->n_slots; i++)
		t->flows[i].wheel = (struct flow_wheel_node){ FLOW_WHEEL_NONE, FLOW_WHEEL_NONE,
							      FLOW_WHEEL_NONE };
	memcpy(t->timeout_us, lim->timeout_us, sizeof(t->timeout_us));
	t->on_close = lim->on_close;
	t->close_ctx = lim->close_ctx;
	t->n_sessions = lim->n_sessions;
	for (uint32_t i = 0; i < lim->n_sessions; i++)
		t->free_sessions[i] = lim->n_sessions - 1 - i;
	t->n_free = lim->n_sessions;
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
	flow_wheel_fini(&t->wheel);
	rte_hash_free(t->hash);
	rte_free(t->flows);
	rte_free(t->sessions);
	rte_free(t->free_sessions);
	rte_free(t);
}

static uint64_t
flow_expiry(const struct flow_table *t, const struct flow *f)
{
	return f->last_us + t->timeout_us[f->state < FLOW_STATE__COUNT ? f->state : 0];
}

void
flow_table_remove(struct flow_table *t, struct flow *f)
{
	if (t->on_close != NULL)
		t->on_close(t->close_ctx, f);
	if (f->sess != NULL) {
		inspect_session_close(f->sess);
		t->free_sessions[t->n_free++] = (uint32_t)(f->sess - t->sessions);
		f->sess = NULL;
	}
	flow_wheel_cancel(&t->wheel, (uint32_t)(f - t->flows));
	rte_hash_del_key_with_hash(t->hash, &f->key, f->hash);
	f->in_use = false;
	t->n_active--;
}

/* Make room: the flow the wheel would expire first goes now. */
static bool
evict_soonest(struct flow_table *t)
{
	uint32_t idx = flow_wheel_soonest(&t->wheel, WHEEL_SLOTS);

	if (idx == FLOW_WHEEL_NONE)
		return false;
	flow_table_remove(t, &t->flows[idx]);
	t->stats.n_evicted_full++;
	return true;
}

struct flow *
flow_table_lookup(struct flow_table *t, const struct flow_key *key, uint32_t hash, bool create,
		  uint64_t now_us, bool *created, bool *evicted)
{
	int32_t pos = rte_hash_lookup_with_hash(t->hash, key, hash);

	*created = false;
	*evicted = false;
	if (pos >= 0)
		return &t->flows[pos];
	if (!create)
		return NULL;
	pos = rte_hash_add_key_with_hash(t->hash, key, hash);
	if (pos == -ENOSPC && evict_soonest(t)) {
		*evicted = true;
		pos = rte_hash_add_key_with_hash(t->hash, key, hash);
	}
	if (pos < 0)
		return NULL;

	struct flow *f = &t->flows[pos];

	memset(f, 0, sizeof(*f));
	f->wheel = (struct flow_wheel_node){ FLOW_WHEEL_NONE, FLOW_WHEEL_NONE, FLOW_WHEEL_NONE };
	f->key = *key;
	f->hash = hash;
	f->in_use = true;
	f->state = FLOW_STATE_NEW;
	f->first_us = now_us;
	f->last_us = now_us;
	f->id = flow_key_id(key, now_us);
	f->client_side = FLOW_SIDE_UNKNOWN;
	tcp_stream_init(&f->dir[0]);
	tcp_stream_init(&f->dir[1]);
	flow_wheel_schedule(&t->wheel, (uint32_t)pos, flow_expiry(t, f));
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

/* The wheel reached a flow: gone if its state's timeout passed, else when it now expires. */
static uint64_t
flow_due(void *ctx, uint32_t idx, uint64_t now_us)
{
	struct flow_table *t = ctx;
	struct flow *f = &t->flows[idx];
	uint64_t expiry = flow_expiry(t, f);

	if (expiry > now_us)
		return expiry;
	flow_table_remove(t, f);
	t->stats.n_evicted_idle++;
	return 0;
}

unsigned
flow_table_expire(struct flow_table *t, uint64_t now_us, unsigned budget)
{
	return flow_wheel_advance(&t->wheel, now_us, budget, flow_due, t);
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

void
flow_table_get_stats(const struct flow_table *t, struct flow_table_stats *out)
{
	*out = t->stats;
}
