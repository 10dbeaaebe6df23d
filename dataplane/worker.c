/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker loop; see worker.h. Per burst: read the live generation once, receive, handle
 * each packet to the end (no per-packet locks, allocation, system calls or logging), sweep a
 * few idle flows, release the suppression snapshot, report quiescence to RCU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
#include "inline_fwd.h"
#include "ip_frag.h"
#include "mime_words.h"
#include "supp_watch.h"
#include "suppress_db.h"
#include "worker.h"

/* The config names link types as the decoder numbers them. */
_Static_assert((int)CONFIG_LINK_ETHERNET == (int)DECODE_LINK_ETHERNET &&
		       (int)CONFIG_LINK_NULL == (int)DECODE_LINK_NULL &&
		       (int)CONFIG_LINK_RAW == (int)DECODE_LINK_RAW &&
		       (int)CONFIG_LINK_SLL == (int)DECODE_LINK_SLL,
	       "enum config_link_type and enum decode_link agree");

#define SWEEP_BUDGET 64
#define FRAG_SWEEP_BUDGET 8
#define FRAG_DATAGRAMS 4096             /* per worker, ~4.4 KB of slot and ranges each */
#define FRAG_BYTES (8u << 20)
#define FRAG_TIMEOUT_US 30000000        /* Linux's ipfrag_time */
/* Held ranges merge, so the cap counts holes: a 9000-byte jumbo in 8-byte fragments sent in
 * random order peaks near 280. More holes than this: dropped and counted (TOO_MANY). */
#define FRAG_MAX_PIECES IP_FRAG_MAX_FRAGS_CAP

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
	 * speed (unless the run was interrupted: posternd may be gone for good). On a live
	 * port it is a counted drop: the wire never waits for us. */
	while (rte_ring_sp_enqueue(w->events, tx) != 0) {
		if (!w->dp->offline ||
		    atomic_load_explicit(&w->dp->interrupted, memory_order_relaxed)) {
			rte_mempool_put(w->dp->tx_pool, tx);
			w->env.counters[IPC_C_EVENTS_DROPPED]++;
			return;
		}
		rte_pause();
	}
}

/* Queue an anomaly record for the main lcore (same ring, same rules as transactions). */
static void
worker_send_event(struct worker *w, const struct inspect_flow_meta *meta, uint16_t code,
		  uint64_t value)
{
	struct ipc_event *ev;
	void *buf;

	if (rte_mempool_get(w->dp->tx_pool, &buf) != 0) {
		w->env.counters[IPC_C_EVENTS_DROPPED]++;
		return;
	}
	ev = buf;
	memset(ev, 0, sizeof(*ev));
	ipc_hdr_init(&ev->hdr, IPC_EVENT, sizeof(*ev), 0);
	ev->ts_us = w->env.now_us;
	ev->flow_id = meta->flow_id;
	memcpy(ev->src_ip, meta->client_ip, 16);
	memcpy(ev->dst_ip, meta->server_ip, 16);
	ev->src_port = meta->client_port;
	ev->dst_port = meta->server_port;
	ev->ip_version = meta->ip_version;
	ev->code = code;
	ev->value = value;
	w->env.counters[IPC_C_ANOMALIES]++;
	worker_tx_emit(w, buf);
}

static void
worker_session_event(void *io, const struct inspect_flow_meta *meta, uint16_t code, uint64_t value)
{
	worker_send_event(io, meta, code, value);
}

/* The flow as the records describe it: client first when known, else the key's order. */
/*
 * The inspection judged that the message the packet being handled completes is blocked: it
 * is withheld (handle_packet answers) when it is the client's own segment.
 */
static bool
worker_block(void *io, const struct inspect_flow_meta *meta, uint32_t reasons)
{
	struct worker *w = io;

	(void)meta;
	if (!inline_can_withhold(w->cur_flow, w->cur_pkt, w->cur_side)) {
		w->env.counters[IPC_C_INLINE_BLOCK_LATE]++;
		return false;
	}
	w->block_reasons |= reasons;
	return true;
}

/* rcpt_reject_suppressed: make the server refuse the RCPT command for addr. */
static bool
worker_rcpt_refuse(void *io, const struct inspect_flow_meta *meta, struct slice addr)
{
	struct worker *w = io;

	(void)meta;
	return inline_refuse_rcpt(w, w->cur_flow, w->cur_pkt, w->cur_side, w->cur_mbuf, addr.ptr,
				  addr.len);
}

static void
flow_meta(const struct flow *f, struct inspect_flow_meta *meta)
{
	unsigned c = f->client_side == FLOW_SIDE_UNKNOWN ? 0 : f->client_side;

	inspect_flow_meta_from_key(meta, &f->key, c, f->id, !f->saw_syn);
}

/*
 * A table running out is news once, not once per flow: during a flood every new flow would
 * report it and the events would crowd out the transactions. At most one a second per kind
 * and worker; its value says how many happened since the last one sent.
 */
static bool
resource_event_due(struct worker *w, uint16_t code, uint64_t *value)
{
	if (code != IPC_EV_FLOW_POOL_FULL && code != IPC_EV_SESSION_POOL_FULL &&
	    code != IPC_EV_TCP_POOL_EXHAUSTED)
		return true;
	w->event_held[code]++;
	if (w->event_last_us[code] != 0 && w->env.now_us - w->event_last_us[code] < 1000000)
		return false;
	*value = w->event_held[code];
	w->event_held[code] = 0;
	w->event_last_us[code] = w->env.now_us;
	return true;
}

/* An anomaly on a flow, reported once per kind and flow (counters count every one). */
static void
flow_event(struct worker *w, struct flow *f, uint16_t code, uint64_t value)
{
	struct inspect_flow_meta meta;
	uint16_t bit = (uint16_t)(1u << (code & 15));

	if (f->events_reported & bit)
		return;
	f->events_reported |= bit;
	if (!resource_event_due(w, code, &value))
		return;
	flow_meta(f, &meta);
	worker_send_event(w, &meta, code, value);
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
	struct inspect_flow_meta meta;

	f->sess = flow_table_session_get(w->flows);
	if (f->sess == NULL) {
		w->env.counters[IPC_C_SESSION_POOL_FULL]++;
		flow_event(w, f, IPC_EV_SESSION_POOL_FULL, 0);
		return;
	}
	flow_meta(f, &meta);
	inspect_session_init(f->sess, &w->env, &meta);
}

/* Where a stream's callbacks deliver: the flow's session, in the stream's direction. */
struct stream_ctx {
	struct worker *w;
	struct flow *f;
	bool to_server;
};

static void
stream_deliver(void *ctx, const uint8_t *data, uint32_t len)
{
	struct stream_ctx *c = ctx;

	if (c->f->client_side == FLOW_SIDE_UNKNOWN || !c->w->dp->cfg.smtp_inspection)
		return;
	if (c->f->sess == NULL)
		session_start(c->w, c->f);
	if (c->f->sess != NULL)
		inspect_session_data(c->f->sess, c->to_server, data, len);
	else
		c->w->pkt_overload = true; /* no session to be had: these bytes go uninspected */
}

static void
stream_gap(void *ctx, uint32_t len)
{
	struct stream_ctx *c = ctx;

	c->w->env.counters[IPC_C_TCP_GAP_BYTES] += len;
	if (c->f->sess != NULL)
		inspect_session_gap(c->f->sess, c->to_server, len);
}

/* The reassembler's events that mean something to a SOC become anomalies of the flow. */
static void
stream_event(void *ctx, enum tcp_reasm_event ev, uint32_t seq, uint32_t len)
{
	struct stream_ctx *c = ctx;
	uint64_t *n = c->w->env.counters;

	(void)seq;
	switch (ev) {
	case TCP_REASM_EV_OVERLAP_DIFF:
		n[IPC_C_TCP_OVERLAP_DIFF]++;
		flow_event(c->w, c->f, IPC_EV_TCP_OVERLAP_DIFF, len);
		break;
	case TCP_REASM_EV_GAP:
	case TCP_REASM_EV_FLUSH_GAP:
		flow_event(c->w, c->f, IPC_EV_TCP_GAP, len);
		break;
	case TCP_REASM_EV_OOO_LIMIT:
		flow_event(c->w, c->f, IPC_EV_TCP_OOO_LIMIT, c->w->reasm_lim.max_queued_bytes);
		break;
	case TCP_REASM_EV_POOL_EXHAUSTED:
		n[IPC_C_TCP_REASM_POOL_EXHAUSTED]++;
		flow_event(c->w, c->f, IPC_EV_TCP_POOL_EXHAUSTED, 1);
		break;
	case TCP_REASM_EV_DEPTH:
		n[IPC_C_TCP_DEPTH_REACHED]++;
		flow_event(c->w, c->f, IPC_EV_TCP_DEPTH, c->w->reasm_lim.max_stream_bytes);
		break;
	default:
		break;
	}
}

static const struct tcp_reasm_ops stream_ops = {
	.deliver = stream_deliver,
	.gap = stream_gap,
	.event = stream_event,
};

/* A flow leaves the table: what its streams still queue reaches the parser, then chunks
 * go back to the pool. */
static void
flow_closing(void *ctx, struct flow *f)
{
	struct worker *w = ctx;

	for (unsigned side = 0; side < 2; side++) {
		struct stream_ctx c = { w, f, side == f->client_side };

		tcp_stream_flush(&f->dir[side], w->reasm, &w->reasm_lim, &stream_ops, &c);
		tcp_stream_release(&f->dir[side], w->reasm);
	}
}

static struct flow *
handle_decoded(struct worker *w, const struct pkt_info *p, const struct flow_key *key,
	       unsigned side, uint32_t hash)
{
	bool create = (p->tcp_flags & TCP_RST) == 0 &&
		      ((p->tcp_flags & TCP_SYN) || p->payload_len > 0);
	bool created, evicted;
	struct flow *f = flow_table_lookup(w->flows, key, hash, create, w->env.now_us, &created,
					   &evicted);

	/* A fresh SYN on a flow that already carried data or began closing is a new connection
	 * reusing the 4-tuple (busy MTAs cycle through client ports, and a close may have been
	 * missed): the old flow ends here, or the new session would be judged by its stale
	 * sequence numbers and never inspected. */
	if (f != NULL && !created && (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN &&
	    f->state != FLOW_STATE_NEW) {
		flow_table_remove(w->flows, f);
		f = flow_table_lookup(w->flows, key, hash, true, w->env.now_us, &created, &evicted);
	}
	if (f == NULL) {
		if (create) {
			w->env.counters[IPC_C_FLOW_POOL_FULL]++;
			w->pkt_overload = true;
		}
		return NULL;
	}
	if (f->blocked)
		return f; /* inline: nothing of this session is inspected or sent on any more */
	w->cur_flow = f;
	if (created)
		w->env.counters[IPC_C_FLOWS_CREATED]++;
	f->last_us = w->env.now_us;
	f->saw_syn |= (p->tcp_flags & TCP_SYN) != 0;
	learn_client_side(w, f, p, side);
	if (evicted) {
		w->env.counters[IPC_C_FLOW_POOL_FULL]++;
		flow_event(w, f, IPC_EV_FLOW_POOL_FULL, 1);
	}
	if (p->payload_len > 0 && f->state == FLOW_STATE_NEW)
		f->state = FLOW_STATE_ESTABLISHED;
	if (p->tcp_flags & TCP_FIN)
		f->state = FLOW_STATE_CLOSING;

	struct stream_ctx c = { w, f, side == f->client_side };

	tcp_stream_segment(&f->dir[side], w->reasm, &w->reasm_lim, p->seq, p->tcp_flags,
			   p->payload, p->payload_len, &stream_ops, &c);
	/* This packet's ACK tells which of the other side's bytes were received: holes
	 * below it were lost before the sensor and are skipped now, not at the flow's end. */
	if (p->tcp_flags & TCP_ACK) {
		struct stream_ctx back = { w, f, !c.to_server };

		tcp_stream_ack(&f->dir[side ^ 1], w->reasm, &w->reasm_lim, p->ack, &stream_ops,
			       &back);
	}
	return f;
}

/*
 * A fragment joins its datagram; once complete, the datagram is decoded from its IP header
 * (it lives in the table's buffer until the next fragment). Returns the decode result of
 * what the packet now is, DECODE_FRAGMENT while the datagram is incomplete or was dropped.
 */
static enum decode_result
reassemble(struct worker *w, const uint8_t *frame, size_t len, struct pkt_info *p,
	   bool *overlap_diff)
{
	struct pkt_info whole;
	const uint8_t *ip;
	size_t ip_len;
	uint32_t ev = 0;

	w->env.counters[IPC_C_IP_FRAGMENTS]++;
	switch (ip_frag_add(w->frags, frame, len, p, w->env.now_us, &ip, &ip_len, &ev)) {
	case IP_FRAG_COMPLETE:
		break;
	case IP_FRAG_DROPPED:
		w->env.counters[IPC_C_IP_FRAG_DROPPED]++;
		return DECODE_FRAGMENT;
	default:
		return DECODE_FRAGMENT;
	}
	w->env.counters[IPC_C_IP_REASSEMBLED]++;
	*overlap_diff = (ev & (1u << IP_FRAG_EV_OVERLAP_DIFF)) != 0;

	enum decode_result r = decode_ip(ip, ip_len, &whole);
	if (r == DECODE_FRAGMENT) {
		/* a fragment inside a fragment: never fed back */
		w->env.counters[IPC_C_IP_FRAG_DROPPED]++;
		return DECODE_FRAGMENT;
	}
	whole.n_vlans = p->n_vlans;
	memcpy(whole.vlan, p->vlan, sizeof(whole.vlan));
	*p = whole;
	return r;
}

/* A malformed packet: counted in all and by its reason. */
static void
count_decode_error(struct worker *w, enum decode_result r)
{
	static const uint8_t by_reason[DECODE__COUNT] = {
		[DECODE_TRUNCATED] = IPC_C_DECODE_TRUNCATED,
		[DECODE_BAD_L2] = IPC_C_DECODE_BAD_L2,
		[DECODE_BAD_IPV4] = IPC_C_DECODE_BAD_IPV4,
		[DECODE_BAD_IPV4_OPT] = IPC_C_DECODE_BAD_IPV4,
		[DECODE_BAD_IPV6] = IPC_C_DECODE_BAD_IPV6,
		[DECODE_BAD_IPV6_EXT] = IPC_C_DECODE_BAD_IPV6,
		[DECODE_BAD_TCP] = IPC_C_DECODE_BAD_TCP,
	};

	w->env.counters[IPC_C_DECODE_ERRORS]++;
	if ((unsigned)r < DECODE__COUNT && by_reason[r] != 0)
		w->env.counters[by_reason[r]]++;
}

static void
handle_packet(struct worker *w, struct rte_mbuf *m, uint64_t wall_us)
{
	struct pkt_info p;
	struct flow_key key;
	enum decode_result r;
	enum pkt_fate fate = PKT_SEND_ON; /* inline, what is not ours passes untouched */
	bool overlap_diff = false;

	w->env.counters[IPC_C_RX_PACKETS]++;
	w->env.counters[IPC_C_RX_BYTES] += m->pkt_len;
	w->env.now_us = packet_time_us(w, m, wall_us);

	/* Frames larger than an mbuf (GRO/TSO captures, jumbo frames) come in segments:
	 * decoding wants them whole, so those few are copied. */
	uint32_t len = m->pkt_len > UINT16_MAX ? UINT16_MAX : m->pkt_len;
	const uint8_t *frame = rte_pktmbuf_read(m, 0, len, w->linear);

	if (frame == NULL) {
		count_decode_error(w, DECODE_TRUNCATED);
		goto out;
	}
	r = decode_frame((enum decode_link)w->dp->cfg.link_type, frame, len, &p);
	if (r == DECODE_FRAGMENT) {
		r = reassemble(w, frame, len, &p, &overlap_diff);
		if (r == DECODE_FRAGMENT)
			goto out;
	}
	if (r == DECODE_NOT_IP || r == DECODE_NOT_TCP) {
		w->env.counters[IPC_C_NOT_INSPECTED]++;
		goto out;
	}
	if (r != DECODE_OK) {
		count_decode_error(w, r);
		goto out;
	}
	/* Counted, not dropped: behind a mirror port, offloads make good packets look bad. */
	if (p.bad_ip_csum)
		w->env.counters[IPC_C_BAD_IP_CHECKSUM]++;
	if (!is_inspected(w, &p)) {
		w->env.counters[IPC_C_NOT_INSPECTED]++;
		goto out;
	}
	unsigned side = flow_key_from_pkt(&key, &p);
	struct flow *f;

	w->block_reasons = 0;
	w->pkt_overload = false;
	w->cur_pkt = &p;
	w->cur_side = side;
	w->cur_flow = NULL;
	w->cur_mbuf = m;
	f = handle_decoded(w, &p, &key, side, flow_key_hash(&key));
	w->cur_pkt = NULL;
	w->cur_mbuf = NULL;
	if (f != NULL && f->blocked) { /* blocked before this packet: it was not inspected */
		fate = inline_blocked_flow(w, f, &p, frame, len, side, m->port);
		goto out;
	}
	if (w->pkt_overload && w->dp->inline_mode) {
		inline_uninspected(w, m);
		return;
	}
	if (w->block_reasons != 0)
		fate = inline_block(w, f, &p, frame, len, side, m->port);
	if (f != NULL && overlap_diff)
		flow_event(w, f, IPC_EV_IP_FRAG_OVERLAP_DIFF, 0);
	if (f != NULL && !f->blocked &&
	    ((tcp_stream_is_closed(&f->dir[0]) && tcp_stream_is_closed(&f->dir[1])) ||
	     tcp_stream_rst_seen(&f->dir[side])))
		flow_table_remove(w->flows, f);
out:
	inline_finish(w, m, fate);
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
		unsigned target = w->idx;

		if (dp->n_workers > 1) {
			uint32_t len = m->pkt_len > UINT16_MAX ? UINT16_MAX : m->pkt_len;
			const uint8_t *frame = rte_pktmbuf_read(m, 0, len, w->linear);
			enum decode_result r =
				frame != NULL ? decode_frame((enum decode_link)dp->cfg.link_type,
							     frame, len, &p)
					      : DECODE_TRUNCATED;

			if (r == DECODE_OK || r == DECODE_FRAGMENT)
				target = flow_hosts_hash(&p) % dp->n_workers;
		}
		if (target == w->idx) {
			handle_packet(w, m, wall_us);
			continue;
		}
		while (rte_ring_mp_enqueue(dp->workers[target]->dispatch, m) != 0) {
			if (!dp->offline) {
				w->env.counters[IPC_C_DISPATCH_DROPPED]++;
				if (dp->inline_mode)
					inline_uninspected(w, m);
				else
					rte_pktmbuf_free(m);
				break;
			}
			rte_pause();
		}
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

	struct flow_table_limits lim = {
		.on_close = flow_closing,
		.close_ctx = w,
		.n_flows = dp->cfg.flows_per_worker,
		.n_sessions = dp->cfg.sessions_per_worker,
		.timeout_us = {
			[FLOW_STATE_NEW] = (uint64_t)dp->cfg.flow_timeout_new * 1000000,
			[FLOW_STATE_ESTABLISHED] = (uint64_t)dp->cfg.flow_idle_timeout * 1000000,
			[FLOW_STATE_CLOSING] = (uint64_t)dp->cfg.flow_timeout_closing * 1000000,
		},
	};
	w->flows = flow_table_create(name, &lim, socket);
	w->frags = ip_frag_table_create(FRAG_DATAGRAMS, FRAG_BYTES);
	w->reasm = tcp_reasm_pool_create(dp->cfg.reasm_chunks);
	w->linear = rte_malloc_socket("linear", UINT16_MAX + 1, 0, socket);
	w->reasm_lim.max_queued_bytes = dp->cfg.reasm_window;
	w->reasm_lim.max_stream_bytes = dp->cfg.inspect_depth;
	if (w->dispatch == NULL || w->events == NULL || w->flows == NULL || w->frags == NULL ||
	    w->reasm == NULL || w->linear == NULL)
		goto fail;
	ip_frag_table_set_limits(w->frags, FRAG_TIMEOUT_US, FRAG_MAX_PIECES);
	if (dp->supp != NULL) {
		w->supp = suppress_reader_create(dp->supp);
		if (w->supp == NULL)
			goto fail;
	}
	w->words = mime_words_create();
	if (w->words == NULL)
		goto fail;
	w->env.words = w->words;
	w->env.worker = idx;
	w->env.supp = w->supp;
	w->env.commercial = &dp->commercial;
	w->env.tx_alloc = worker_tx_alloc;
	w->env.tx_emit = worker_tx_emit;
	w->env.event = worker_session_event;
	w->env.io = w;
	if (dp->inline_mode) {
		w->env.block = worker_block;
		w->env.block_suppressed = dp->cfg.block_suppressed;
		w->env.block_code = (uint16_t)atoi(dp->cfg.block_reply); /* "5yz ...", validated */
		w->env.canspam = dp->canspam;
		if (dp->cfg.rcpt_reject_suppressed)
			w->env.rcpt_refuse = worker_rcpt_refuse;
		w->block_reply_len = (uint16_t)snprintf(w->block_reply, sizeof(w->block_reply),
							"%s\r\n", dp->cfg.block_reply);
	}
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
	ip_frag_table_destroy(w->frags);
	flow_table_destroy(w->flows);
	tcp_reasm_pool_destroy(w->reasm);
	rte_free(w->linear);
	mime_words_destroy(w->words);
	rte_ring_free(w->events);
	rte_ring_free(w->dispatch);
	rte_free(w);
}

/* The reassembler keeps its own counters; the records carry them under our names. */
static void
reasm_counters(struct worker *w)
{
	const struct tcp_reasm_counters *rc = tcp_reasm_pool_counters(w->reasm);

	w->env.counters[IPC_C_TCP_OUT_OF_ORDER] = rc->n_ooo_segments;
	w->env.counters[IPC_C_TCP_RETRANSMIT] = rc->n_events[TCP_REASM_EV_RETRANSMIT];
}

int
worker_run(void *arg)
{
	struct worker *w = arg;
	struct dp *dp = w->dp;
	struct rte_mbuf *pkts[DP_BURST];
	struct flow_table_stats fstats;

	/* Hyperscan stream state comes from this worker's pool: per session, one body part and
	 * the raw stream of each direction (INSPECT_STREAMS_PER_SESSION). */
	if (scan_stream_pool_bind(dp->cfg.sessions_per_worker * INSPECT_STREAMS_PER_SESSION) < 0)
		w->env.counters[IPC_C_SCAN_ERRORS]++;
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

		struct scan_gen *gen = atomic_load_explicit(&dp->live_gen, memory_order_acquire);

		if (gen != w->env.gen && gen != NULL)
			atomic_store_explicit(&w->gen_id, scan_gen_id(gen), memory_order_relaxed);
		w->env.gen = gen;
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
		/* Where packets are stamped with the wall clock, time passes on a quiet link too:
		 * idle flows expire and report what they saw. Ports that stamp packets themselves
		 * (a capture, even looped) keep their own time, so that a replay is reproducible. */
		if (!dp->offline && dp->ts_offset < 0 && wall_us > w->env.now_us)
			w->env.now_us = wall_us;
		flow_table_expire(w->flows, w->env.now_us, SWEEP_BUDGET);
		ip_frag_sweep(w->frags, w->env.now_us, FRAG_SWEEP_BUDGET);
		flow_table_get_stats(w->flows, &fstats);
		w->env.counters[IPC_C_FLOWS_ACTIVE] = flow_table_n_active(w->flows);
		w->env.counters[IPC_C_FLOWS_EVICTED_IDLE] = fstats.n_evicted_idle;
		w->env.counters[IPC_C_FLOWS_EVICTED_FULL] = fstats.n_evicted_full;
		reasm_counters(w);
		if (dp->inline_mode)
			inline_flush(w);
		if (w->supp != NULL)
			suppress_reader_release(w->supp);
		supp_watch_take(w);
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
	if (dp->inline_mode)
		inline_flush(w);
	w->env.counters[IPC_C_FLOWS_ACTIVE] = 0;
	rte_rcu_qsbr_thread_offline(dp->rcu, w->idx);
	rte_rcu_qsbr_thread_unregister(dp->rcu, w->idx);
	scan_stream_pool_unbind();
	atomic_store_explicit(&w->done, true, memory_order_release);
	return 0;
}
