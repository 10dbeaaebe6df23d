/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker lcores: receive (from their RX queues, or from the software dispatch ring when the
 * port has no RSS), decode, find the flow, reassemble, inspect, and pass transaction records
 * to the main lcore through an SPSC ring. The worker that polls a queue of a port without RSS
 * hashes every packet's canonical key and hands other workers their flows. With one worker
 * the same code runs in one thread.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "dp.h"
#include "inspect.h"
#include "tcp_reasm.h"

struct flow_table;
struct ip_frag_table;
struct tcp_reasm_pool;
struct mime_words;
struct rte_ring;
struct suppress_reader;

struct worker_rxq {
	uint16_t port;
	uint16_t queue;
};

#define WORKER_TXQ_MAX (2 * DP_BURST)

/* Inline: frames waiting to go out of one port, sent once per loop (or when full). */
struct worker_txq {
	uint16_t n;
	struct rte_mbuf *m[WORKER_TXQ_MAX];
};

struct worker {
	unsigned idx;
	unsigned lcore;
	struct dp *dp;
	struct worker_rxq rxq[DP_MAX_PORTS];
	unsigned n_rxq;
	struct rte_ring *dispatch;        /* packets other workers received for our flows */
	struct rte_ring *events;          /* records to the main lcore (SPSC) */
	struct flow_table *flows;
	struct ip_frag_table *frags;      /* IP datagrams being reassembled */
	struct tcp_reasm_pool *reasm;     /* out-of-order TCP data */
	struct tcp_reasm_limits reasm_lim;
	struct mime_words *words;         /* RFC 2047 decoder, iconv descriptors opened at start */
	struct suppress_reader *supp;
	/* a new suppression set's reader, handed over by supp_watch (see supp_watch.h) */
	_Atomic(struct suppress_reader *) supp_next;
	_Atomic(struct suppress_reader *) supp_retired;
	atomic_bool supp_switched;
	struct inspect_env env;           /* holds this worker's counters */
	_Atomic uint64_t last_rx_us;      /* wall time of the last packet received */
	_Atomic uint64_t gen_id;          /* the rule generation it scans with (stats) */
	uint8_t *linear;                  /* a multi-segment packet copied whole (64 KiB) */
	/* resource anomalies are rate limited: when each was last sent, how many since */
	uint64_t event_last_us[IPC_EV__MAX];
	uint64_t event_held[IPC_EV__MAX];
	/* inline mode (inline_fwd.h) */
	struct worker_txq txq[DP_MAX_PORTS];  /* by port id */
	uint32_t block_reasons;           /* the packet being handled ends a blocked message */
	const struct pkt_info *cur_pkt;   /* the packet being handled, its key side, its flow */
	unsigned cur_side;
	struct flow *cur_flow;
	struct rte_mbuf *cur_mbuf;
	bool pkt_overload;                /* ... cannot be inspected: no flow or session left */
	uint16_t block_reply_len;
	char block_reply[CONFIG_REPLY_MAX + 2]; /* block_reply and CRLF */
	atomic_bool done;
} __rte_cache_aligned;

/* Start-up, main lcore: allocate a worker's rings, tables and reader. */
struct worker *worker_create(struct dp *dp, unsigned idx, unsigned lcore);
void worker_destroy(struct worker *w);

/* lcore entry point (rte_eal_remote_launch). */
int worker_run(void *arg);
