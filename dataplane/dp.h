/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane process's shared state: configuration, ports, workers, the live rule
 * generation and the RCU state that retires old ones. Written by the main lcore at start-up;
 * after start workers only read it, except through the atomics named here.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "commercial.h"
#include "config.h"
#include "ipc.h"

#define DP_MAX_WORKERS IPC_MAX_WORKERS /* per-worker stats records number them */
#define DP_MAX_PORTS 8
#define DP_BURST 32

struct worker;
struct scan_gen;
struct suppress_db;
struct rte_mempool;
struct rte_rcu_qsbr;
struct canspam_policy;

struct dp {
	struct postern_config cfg;
	unsigned n_workers;
	struct worker *workers[DP_MAX_WORKERS];
	uint16_t ports[DP_MAX_PORTS];
	unsigned n_ports;
	bool rss;                         /* every port spreads flows over n_workers queues */
	bool inline_mode;                 /* ports forward in pairs (0-1, 2-3...), can block */
	uint16_t peer[DP_MAX_PORTS];      /* inline: by port id, the port a packet goes out of */
	bool offline;                     /* reading captures: lossless, stop when input ends */
	struct rte_mempool *pkt_pool;
	struct rte_mempool *tx_pool;      /* transaction record buffers (IPC_TX_MAX) */
	struct suppress_db *supp;         /* the open set; replaced by supp_watch (main lcore) */
	struct commercial_policy commercial;
	struct canspam_policy *canspam;   /* inline with block_canspam; NULL otherwise */
	struct rte_rcu_qsbr *rcu;
	int ts_offset;                    /* mbuf dynfield of RX timestamps, -1 if none */
	uint64_t ts_flag;
	_Atomic(struct scan_gen *) live_gen;
	atomic_bool started;              /* workers may receive */
	atomic_bool stopping;             /* workers finish their flows and return */
	atomic_bool interrupted;          /* ... because of a signal: nothing waits any more */
	_Atomic uint64_t wall_us;         /* realtime clock, refreshed by the main lcore */
};
