/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker's flows: an rte_hash keyed by the canonical flow key, whose positions index a
 * fixed array of struct flow, plus a fixed pool of SMTP inspection sessions that only flows
 * carrying payload on an inspected port take. Everything is sized at start from the config;
 * nothing grows afterwards. Idle flows are evicted by a bounded sweep each burst.
 * DPDK adapter; one worker lcore owns a table (the hash is created without locks).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "flow_key.h"
#include "inspect.h"
#include "tcp_reasm.h"

#define FLOW_SIDE_UNKNOWN 2

struct flow {
	struct flow_key key;
	uint64_t id;
	uint64_t first_us;
	uint64_t last_us;
	uint32_t hash;
	bool in_use;
	uint8_t client_side;        /* key side of the client, or FLOW_SIDE_UNKNOWN */
	bool saw_syn;               /* the handshake was seen: not a pickup mid-stream */
	struct tcp_stream dir[2];   /* indexed by key side */
	struct inspect_session *sess;
};

struct flow_table;

/* Start-up, main lcore: sizes from the config; name must be unique per worker. */
struct flow_table *flow_table_create(const char *name, uint32_t n_flows, uint32_t n_sessions,
				     int socket);
void flow_table_destroy(struct flow_table *t);

/*
 * Find the flow of a key, or create it when `create` is set (*created tells). NULL when it
 * is absent and not to be created, or, with `create`, when the pool is full.
 */
struct flow *flow_table_lookup(struct flow_table *t, const struct flow_key *key, uint32_t hash,
			       bool create, uint64_t now_us, bool *created);

/* A session for a flow (NULL when the session pool is exhausted). */
struct inspect_session *flow_table_session_get(struct flow_table *t);

/* Close the flow's session (ending its transactions) and forget the flow. */
void flow_table_remove(struct flow_table *t, struct flow *f);

/* Remove up to `budget` flows idle since before `deadline_us`. Returns how many. */
unsigned flow_table_sweep(struct flow_table *t, uint64_t deadline_us, unsigned budget);

/* Remove every flow (end of input, shutdown). */
void flow_table_flush(struct flow_table *t);

uint32_t flow_table_n_active(const struct flow_table *t);
