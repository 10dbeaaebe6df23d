/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker loop; see worker.h. Per burst: read the live generation once, receive, handle
 * each packet to the end (no per-packet locks, allocation, system calls or logging), sweep a
 * few idle flows, release the suppression snapshot, report quiescence to RCU.
 */
#include <stdio.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "decode.h"
#include "flow_table.h"
#include "suppress_db.h"
#include "worker.h"

#define SWEEP_BUDGET 64

static struct ipc_tx *
worker_tx_alloc(void *io)
{
	struct worker *w = io;
	void *buf;

	return rte_mempool_get(w->dp->tx_pool, &buf) == 0 ? buf : NULL;
}

static void
worker_tx_emit(void *io, struct ipc_tx *tx)
{
	struct worker *w = io;

	/* Reading captures, a full ring waits for the main lcore: results must not depend on
	 * speed. On a live port it is a counted drop: the wire never waits for us. */
	while (rte_ring_sp_enqueue(w->events, tx) != 0) {
		if (!w->dp->offline) {
			rte_mempool_put(w->dp->tx_pool, tx);
			w->env.counters[IPC_C_EVENTS_DROPPED]++;
			return;
		}
		rte_pause();
	}
}

struct worker *
worker_create(struct dp *dp, unsigned idx, unsigned lcore)
{
	char name[RTE_RING_NAMESIZE];
	int socket = (int)rte_lcore_to_socket_id(lcore);
	struct worker *w = rte_zmalloc_socket("worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);

	if (w == NULL)
		return NULL;
	w->idx = idx;
	w->lcore = lcore;
	w->dp = dp;
	snprintf(name, sizeof(name), "dispatch%u", idx);
	w->dispatch = rte_ring_create(name, 4096, socket, RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "events%u", idx);
	w->events = rte_ring_create(name, dp->cfg.event_ring_size, socket,
				    RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "flows%u", idx);
	w->flows = flow_table_create(name, dp->cfg.flows_per_worker, dp->cfg.sessions_per_worker,
				     socket);
	if (w->dispatch == NULL || w->events == NULL || w->flows == NULL)
		goto fail;
	if (dp->supp != NULL) {
		w->supp = suppress_reader_create(dp->supp);
		if (w->supp == NULL)
			goto fail;
	}
	w->env.worker = idx;
	w->env.supp = w->supp;
	w->env.tx_alloc = worker_tx_alloc;
	w->env.tx_emit = worker_tx_emit;
	w->env.io = w;
	return w;
fail:
	worker_destroy(w);
	return NULL;
}

void
worker_destroy(struct worker *w)
{
	if (w == NULL)
		return;
	suppress_reader_destroy(w->supp);
	flow_table_destroy(w->flows);
	rte_ring_free(w->events);
	rte_ring_free(w->dispatch);
	rte_free(w);
}

static uint64_t
packet_time_us(const struct worker *w, const struct rte_mbuf *m, uint64_t wall_us)
{
	const struct dp *dp = w->dp;

	/* Capture time when the port gives it (pcap), so replays are reproducible. The
	 * timestamp's unit is the driver's: DPDK 22.11's pcap PMD writes microseconds, NIC
	 * clocks nanoseconds; a value past 10^17 cannot be microseconds of this era. */
	if (dp->ts_offset >= 0 && (m->ol_flags & dp->ts_flag)) {
		uint64_t ts = *RTE_MBUF_DYNFIELD(m, dp->ts_offset, rte_mbuf_timestamp_t *);

		return ts > UINT64_C(100000000000000000) ? ts / 1000 : ts;
	}
	return wall_us;
}

static bool
is_inspected(const struct worker *w, const struct pkt_info *p)
{
	return config_is_inspected_port(&w->dp->cfg, p->dport) ||
	       config_is_inspected_port(&w->dp->cfg, p->sport);
}

/* Which side of the key is the client: the SYN's sender, else whoever talks to our port. */
static void
learn_client_side(const struct worker *w, struct flow *f, const struct pkt_info *p, unsigned side)
{
	if ((p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
		f->client_side = (uint8_t)side;
	else if ((p->tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
		f->client_side = (uint8_t)(side ^ 1);
	else if (f->client_side == FLOW_SIDE_UNKNOWN)
		f->client_side = config_is_inspected_port(&w->dp->cfg, p->dport) ? (uint8_t)side
										 : (uint8_t)(side ^ 1);
}

static void
session_start(struct worker *w, struct flow *f)
{
	struct inspect_flow_meta meta = {
		.flow_id = f->id,
		.ip_version = f->key.ip_version,
		.midstream = !f->saw_syn,
	};
	unsigned c = f->client_side;

	f->sess = flow_table_session_get(w->flows);
	if (f->sess == NULL) {
		w->env.counters[IPC_C_SESSION_POOL_FULL]++;
		return;
	}
	memcpy(meta.client_ip, f->key.addr[c], 16);
	memcpy(meta.server_ip, f->key.addr[c ^ 1], 16);
	meta.client_port = f->key.port[c];
	meta.server_port = f->key.port[c ^ 1];
	inspect_session_init(f->sess, &w->env, &meta);
}

static void
handle_decoded(struct worker *w, const struct pkt_info *p, const struct flow_key *key,
	       unsigned side, uint32_t hash)
{
	bool create = (p->tcp_flags & TCP_RST) == 0 &&
		      ((p->tcp_flags & TCP_SYN) || p->payload_len > 0);
	bool created;
	struct flow *f = flow_table_lookup(w->flows, key, hash, create, w->env.now_us, &created);

	if (f == NULL) {
		if (create)
			w->env.counters[IPC_C_FLOW_POOL_FULL]++;
		return;
	}
	if (created)
		w->env.counters[IPC_C_FLOWS_CREATED]++;
	f->last_us = w->env.now_us;
	f->saw_syn |= (p->tcp_flags & TCP_SYN) != 0;
	learn_client_side(w, f, p, side);

	const uint8_t *data;
	uint32_t len;
	enum tcp_seg_result r = tcp_stream_segment(&f->dir[side], p->seq, p->tcp_flags, p->payload,
						   p->payload_len, &data, &len);

	if (r == TCP_SEG_DUPLICATE)
		w->env.counters[IPC_C_TCP_RETRANSMIT]++;
	else if (r == TCP_SEG_GAP)
		w->env.counters[IPC_C_TCP_OUT_OF_ORDER]++;
	if (len > 0) {
		if (f->sess == NULL)
			session_start(w, f);
		if (f->sess != NULL)
			inspect_session_data(f->sess, side == f->client_side, data, len);
	}
	if ((f->dir[0].fin && f->dir[1].fin) || f->dir[side].rst)
		flow_table_remove(w->flows, f);
}

static void
handle_packet(struct worker *w, struct rte_mbuf *m, uint64_t wall_us)
{
	struct pkt_info p;
	struct flow_key key;
	enum decode_result r;

	w->env.counters[IPC_C_RX_PACKETS]++;
	w->env.counters[IPC_C_RX_BYTES] += m->pkt_len;
	w->env.now_us = packet_time_us(w, m, wall_us);
	if (!rte_pktmbuf_is_contiguous(m)) {
		w->env.counters[IPC_C_DECODE_ERRORS]++;
		goto out;
	}
	r = decode_packet(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, &p);
	if (r == DECODE_NOT_IP || r == DECODE_NOT_TCP) {
		w->env.counters[IPC_C_NOT_INSPECTED]++;
		goto out;
	}
	if (r != DECODE_OK) {
		w->env.counters[IPC_C_DECODE_ERRORS]++;
		goto out;
	}
	if (!is_inspected(w, &p)) {
		w->env.counters[IPC_C_NOT_INSPECTED]++;
		goto out;
	}
	unsigned side = flow_key_from_pkt(&key, &p);
	handle_decoded(w, &p, &key, side, flow_key_hash(&key));
out:
	rte_pktmbuf_free(m);
}

/*
 * The worker that polls a port without RSS keeps its own flows and hands the others theirs.
 * Packets that are not TCP on an inspected port stay here: they are only counted.
 */
static void
dispatch_burst(struct worker *w, struct rte_mbuf **pkts, uint16_t n, uint64_t wall_us)
{
	struct dp *dp = w->dp;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct pkt_info p;
		struct flow_key key;
		unsigned target = w->idx;

		if (dp->n_workers > 1 && rte_pktmbuf_is_contiguous(m) &&
		    decode_packet(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, &p) == DECODE_OK) {
			flow_key_from_pkt(&key, &p);
			target = flow_key_hash(&key) % dp->n_workers;
		}
		if (target == w->idx) {
			handle_packet(w, m, wall_us);
			continue;
		}
		while (rte_ring_mp_enqueue(dp->workers[target]->dispatch, m) != 0) {
			if (!dp->offline) {
				w->env.counters[IPC_C_DISPATCH_DROPPED]++;
				rte_pktmbuf_free(m);
				break;
			}
			rte_pause();
		}
	}
}

int
worker_run(void *arg)
{
	struct worker *w = arg;
	struct dp *dp = w->dp;
	struct rte_mbuf *pkts[DP_BURST];
	uint64_t timeout_us = (uint64_t)dp->cfg.flow_idle_timeout * 1000000;

	rte_rcu_qsbr_thread_register(dp->rcu, w->idx);
	rte_rcu_qsbr_thread_online(dp->rcu, w->idx);
	while (!atomic_load_explicit(&dp->started, memory_order_acquire) &&
	       !atomic_load_explicit(&dp->stopping, memory_order_relaxed)) {
		rte_rcu_qsbr_quiescent(dp->rcu, w->idx);
		rte_pause();
	}
	while (!atomic_load_explicit(&dp->stopping, memory_order_acquire)) {
		uint64_t wall_us = atomic_load_explicit(&dp->wall_us, memory_order_relaxed);
		unsigned got = 0;

		w->env.gen = atomic_load_explicit(&dp->live_gen, memory_order_acquire);
		for (unsigned q = 0; q < w->n_rxq; q++) {
			uint16_t n = rte_eth_rx_burst(w->rxq[q].port, w->rxq[q].queue, pkts, DP_BURST);

			if (n > 0)
				dispatch_burst(w, pkts, n, wall_us);
			got += n;
		}
		unsigned n = rte_ring_sc_dequeue_burst(w->dispatch, (void **)pkts, DP_BURST, NULL);
		for (unsigned i = 0; i < n; i++)
			handle_packet(w, pkts[i], wall_us);
		got += n;
		if (got > 0)
			atomic_store_explicit(&w->last_rx_us, wall_us, memory_order_relaxed);
		if (w->env.now_us > timeout_us)
			flow_table_sweep(w->flows, w->env.now_us - timeout_us, SWEEP_BUDGET);
		w->env.counters[IPC_C_FLOWS_ACTIVE] = flow_table_n_active(w->flows);
		if (w->supp != NULL)
			suppress_reader_release(w->supp);
		rte_rcu_qsbr_quiescent(dp->rcu, w->idx);
	}
	/* End of input or shutdown: what others handed us is still ours to inspect, then every
	 * open session ends and reports what it saw. */
	w->env.gen = atomic_load_explicit(&dp->live_gen, memory_order_acquire);
	unsigned n;
	while ((n = rte_ring_sc_dequeue_burst(w->dispatch, (void **)pkts, DP_BURST, NULL)) > 0)
		for (unsigned i = 0; i < n; i++)
			handle_packet(w, pkts[i], atomic_load(&dp->wall_us));
	flow_table_flush(w->flows);
	w->env.counters[IPC_C_FLOWS_ACTIVE] = 0;
	rte_rcu_qsbr_thread_offline(dp->rcu, w->idx);
	rte_rcu_qsbr_thread_unregister(dp->rcu, w->idx);
	atomic_store_explicit(&w->done, true, memory_order_release);
	return 0;
}
