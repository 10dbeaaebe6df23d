/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * posternd's end of the control link: listens on the SOCK_SEQPACKET socket, accepts
 * dataplanes (one is normal; a restarted one simply connects again), checks every record it
 * receives before passing it on, and hands rule generations over as memfds. Plugs into
 * posternd's poll loop; never blocks. Control thread.
 */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc.h"

#define DP_LINK_MAX_PEERS 4

struct dp_link;

struct dp_link_ops {
	void (*on_hello)(void *ctx, int peer, const struct ipc_hello *h);
	void (*on_tx)(void *ctx, const struct ipc_tx *tx, size_t len);       /* checked */
	void (*on_stats)(void *ctx, const struct ipc_stats *st);
	void (*on_event)(void *ctx, const struct ipc_event *ev);             /* checked */
	void (*on_rules_ack)(void *ctx, const struct ipc_rules_ack *ack);
	void (*on_spool)(void *ctx, const struct ipc_spool *sp);             /* length checked */
	void (*on_bye)(void *ctx, int peer);
};

struct dp_link_stats {
	uint64_t n_records;
	uint64_t n_invalid;          /* records that failed their check: dropped, counted */
	uint64_t n_seq_gaps;         /* records the dataplane sent that never arrived */
	uint64_t n_connects;
	uint64_t n_refused;          /* connections from another user (SO_PEERCRED) */
};

/* Listen on path (a stale socket file is replaced; mode 0600). NULL and errno on error. */
struct dp_link *dp_link_create(const char *path, const struct dp_link_ops *ops, void *ctx);
void dp_link_destroy(struct dp_link *l);

int dp_link_npollfds(void);
int dp_link_pollfds(const struct dp_link *l, struct pollfd *fds, int max);
void dp_link_handle(struct dp_link *l, const struct pollfd *fds, int n);

/* Send a rule generation to one peer, or to all (peer -1). */
void dp_link_send_rules(struct dp_link *l, int peer, int memfd, size_t len, uint64_t gen_id);

/*
 * Once a second: acknowledgements that a full socket held back. (Each batch of records read
 * is acknowledged at once, after the callbacks handled it.)
 */
void dp_link_tick(struct dp_link *l);

void dp_link_get_stats(const struct dp_link *l, struct dp_link_stats *out);
unsigned dp_link_n_peers(const struct dp_link *l);
