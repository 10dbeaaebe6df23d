/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker's flows: an rte_hash keyed by the canonical flow key, whose positions index a
 * fixed array of struct flow, plus a fixed pool of SMTP inspection sessions that only flows
 * carrying payload on an inspected port take. Everything is sized at start from the config;
 * nothing grows afterwards. Idle flows leave through a timing wheel (flow_wheel.h) with a
 * timeout per state; when the table is full, the flow closest to expiring makes room for
 * the new one (counted, and reported by the caller).
 * DPDK adapter; one worker lcore owns a table (the hash is created without locks).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "flow_key.h"
#include "flow_wheel.h"
#include "inspect.h"
#include "tcp_reasm.h"

#define FLOW_SIDE_UNKNOWN 2

enum flow_state {
	FLOW_STATE_NEW = 0,         /* no payload yet (a SYN, a half-open flow) */
	FLOW_STATE_ESTABLISHED,     /* payload seen */
	FLOW_STATE_CLOSING,         /* a FIN seen: the other side may still finish */
	FLOW_STATE__COUNT
};

struct flow {
	struct flow_key key;
	uint64_t id;
	uint64_t first_us;
	uint64_t last_us;
	uint32_t hash;
	bool in_use;
	uint8_t state;              /* enum flow_state */
	uint8_t client_side;        /* key side of the client, or FLOW_SIDE_UNKNOWN */
	bool saw_syn;               /* the handshake was seen: not a pickup mid-stream */
	uint16_t events_reported;   /* anomaly kinds already reported for this flow (bit n) */
	struct flow_wheel_node wheel;
	struct tcp_stream dir[2];   /* indexed by key side */
	/* inline: a message of this session was blocked, the server reset; the client's bytes
	 * go nowhere from here on (see worker.c) */
	bool blocked;
	uint32_t block_end;         /* the client's sequence number after the withheld segment */
	uint32_t block_reply_seq;   /* the server's sequence number our reply started at */
	struct inspect_session *sess;
};

/*
 * Called for every flow that leaves the table (closed, idle, evicted, flushed) before its
 * session goes back to the pool: the owner delivers what its streams still hold and ends
 * the session.
 */
typedef void (*flow_close_fn)(void *ctx, struct flow *f);

struct flow_table_limits {
	flow_close_fn on_close;
	void *close_ctx;
	uint32_t n_flows;
	uint32_t n_sessions;
	uint64_t timeout_us[FLOW_STATE__COUNT];
};

struct flow_table_stats {
	uint64_t n_evicted_idle;
	uint64_t n_evicted_full;    /* flows removed to make room for a new one */
};

struct flow_table;

/* Start-up, main lcore: name must be unique per worker. NULL when memory is short. */
struct flow_table *flow_table_create(const char *name, const struct flow_table_limits *lim,
				     int socket);
void flow_table_destroy(struct flow_table *t);

/*
 * Find the flow of a key, or create it when `create` is set (*created tells; *evicted tells
 * that the table was full and its soonest-expiring flow was removed for this one). NULL when
 * it is absent and not to be created, or could not be.
 */
struct flow *flow_table_lookup(struct flow_table *t, const struct flow_key *key, uint32_t hash,
			       bool create, uint64_t now_us, bool *created, bool *evicted);

/* A session for a flow (NULL when the session pool is exhausted). */
struct inspect_session *flow_table_session_get(struct flow_table *t);

/* Close the flow (on_close, then its session back to the pool) and forget it. */
void flow_table_remove(struct flow_table *t, struct flow *f);

/* Remove flows whose state's timeout has passed, looking at up to `budget` of them. */
unsigned flow_table_expire(struct flow_table *t, uint64_t now_us, unsigned budget);

/* Remove every flow (end of input, shutdown). */
void flow_table_flush(struct flow_table *t);

uint32_t flow_table_n_active(const struct flow_table *t);
void flow_table_get_stats(const struct flow_table *t, struct flow_table_stats *out);
