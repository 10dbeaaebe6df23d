/* SPDX-License-Identifier: BSD-3-Clause */
/* Inline forwarding and blocking; see inline_fwd.h. Worker lcores. */
#include <string.h>
#include <strings.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "decode.h"
#include "flow_table.h"
#include "inline_fwd.h"
#include "tcp_inject.h"
#include "tcp_reasm.h"
#include "worker.h"

/* A full TX ring is retried this often before its packets are dropped (and counted). */
#define TX_RETRIES 4
/* The window our reply advertises for the server: the client only has QUIT left to send. */
#define REPLY_WINDOW 8192

static void
txq_send(struct worker *w, uint16_t port)
{
	struct worker_txq *q = &w->txq[port];
	uint16_t sent = 0;

	for (unsigned i = 0; i < TX_RETRIES && sent < q->n; i++)
		sent += rte_eth_tx_burst(port, (uint16_t)w->idx, q->m + sent,
					 (uint16_t)(q->n - sent));
	for (uint16_t i = sent; i < q->n; i++)
		rte_pktmbuf_free(q->m[i]);
	w->env.counters[IPC_C_TX_DROPPED] += q->n - sent;
	q->n = 0;
}

static void
txq_add(struct worker *w, uint16_t port, struct rte_mbuf *m)
{
	struct worker_txq *q = &w->txq[port];

	if (q->n == WORKER_TXQ_MAX)
		txq_send(w, port);
	q->m[q->n++] = m;
}

void
inline_flush(struct worker *w)
{
	for (unsigned i = 0; i < w->dp->n_ports; i++)
		if (w->txq[w->dp->ports[i]].n > 0)
			txq_send(w, w->dp->ports[i]);
}

void
inline_finish(struct worker *w, struct rte_mbuf *m, enum pkt_fate fate)
{
	if (!w->dp->inline_mode || fate == PKT_DROP) {
		rte_pktmbuf_free(m);
		return;
	}
	w->env.counters[IPC_C_INLINE_FORWARDED]++;
	txq_add(w, w->dp->peer[m->port], m);
}

void
inline_uninspected(struct worker *w, struct rte_mbuf *m)
{
	if (w->dp->cfg.inline_fail == CONFIG_FAIL_CLOSED) {
		w->env.counters[IPC_C_INLINE_FAIL_CLOSED]++;
		rte_pktmbuf_free(m);
		return;
	}
	w->env.counters[IPC_C_INLINE_FAIL_OPEN]++;
	inline_finish(w, m, PKT_SEND_ON);
}

/* A frame t describes on the flow of frame, out of port. False when it could not be sent. */
static bool
inject(struct worker *w, uint16_t port, const uint8_t *frame, size_t len,
       const struct pkt_info *p, const struct tcp_inject *t)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->dp->pkt_pool);
	int n;

	if (m == NULL)
		goto fail;
	n = tcp_inject_build(frame, len, p, t, rte_pktmbuf_mtod(m, uint8_t *),
			     rte_pktmbuf_tailroom(m));
	if (n < 0) {
		rte_pktmbuf_free(m);
		goto fail;
	}
	m->data_len = (uint16_t)n;
	m->pkt_len = (uint32_t)n;
	txq_add(w, port, m);
	w->env.counters[IPC_C_INLINE_INJECTED]++;
	return true;
fail:
	w->env.counters[IPC_C_INLINE_INJECT_FAILED]++;
	return false;
}

/* block_reply to the client, as the server's answer to everything up to f->block_end. */
static bool
send_reply(struct worker *w, const struct flow *f, const struct pkt_info *p,
	   const uint8_t *frame, size_t len, uint16_t in_port)
{
	const struct tcp_inject reply = {
		.dir = TCP_INJECT_REPLY, .seq = f->block_reply_seq, .ack = f->block_end,
		.flags = TCP_ACK | TCP_PSH, .window = REPLY_WINDOW,
		.payload = w->block_reply, .payload_len = w->block_reply_len,
	};

	return inject(w, in_port, frame, len, p, &reply);
}

bool
inline_can_withhold(const struct flow *f, const struct pkt_info *p, unsigned side)
{
	return f != NULL && p != NULL && side == f->client_side && p->payload_len > 0 &&
	       (p->tcp_flags & TCP_ACK);
}

enum pkt_fate
inline_block(struct worker *w, struct flow *f, const struct pkt_info *p, const uint8_t *frame,
	     size_t len, unsigned side, uint16_t in_port)
{
	if (!inline_can_withhold(f, p, side))
		return PKT_SEND_ON; /* the hook said so already; never reached */
	/* The client's ACK is the server's next sequence number: our reply starts there. */
	f->blocked = true;
	f->block_end = p->seq + p->payload_len + ((p->tcp_flags & TCP_FIN) ? 1 : 0);
	f->block_reply_seq = p->ack;
	w->env.counters[IPC_C_INLINE_BLOCKED]++;

	/* The server is reset at the first byte it has not had: the one we withhold. */
	const struct tcp_inject reset = {
		.dir = TCP_INJECT_ONWARD, .seq = p->seq, .ack = p->ack, .flags = TCP_RST | TCP_ACK,
	};
	bool ok = inject(w, w->dp->peer[in_port], frame, len, p, &reset);

	ok &= send_reply(w, f, p, frame, len, in_port);
	if (!ok && w->dp->cfg.inline_fail == CONFIG_FAIL_OPEN) {
		/* Without the reply the client would wait and retry; fail-open lets it pass. */
		f->blocked = false;
		w->env.counters[IPC_C_INLINE_FAIL_OPEN]++;
		return PKT_SEND_ON;
	}
	return PKT_DROP;
}

/* The start of the first line of payload that is a RCPT command naming addr, or NULL. */
static uint8_t *
find_rcpt_line(uint8_t *payload, size_t n, const uint8_t *addr, size_t addr_len)
{
	size_t start = 0;

	while (start < n) {
		uint8_t *nl = memchr(payload + start, '\n', n - start);
		size_t end;

		if (nl == NULL)
			return NULL; /* the line goes on past this packet */
		end = (size_t)(nl - payload);
		if (end - start >= 4 + addr_len && strncasecmp((char *)payload + start, "RCPT", 4) == 0 &&
		    memmem(payload + start + 4, end - start - 4, addr, addr_len) != NULL)
			return payload + start;
		start = end + 1;
	}
	return NULL;
}

bool
inline_refuse_rcpt(struct worker *w, const struct flow *f, const struct pkt_info *p,
		   unsigned side, struct rte_mbuf *m, const uint8_t *addr, size_t addr_len)
{
	uint8_t *frame, *line;
	size_t off;

	if (f == NULL || p == NULL || m == NULL || side != f->client_side || m->nb_segs != 1 ||
	    addr_len == 0)
		return false;
	frame = rte_pktmbuf_mtod(m, uint8_t *);
	/* the decoded payload must be the mbuf's own bytes, not a reassembled copy */
	if (p->payload < frame || p->payload + p->payload_len > frame + m->data_len)
		return false;
	off = (size_t)(p->payload - frame);
	line = find_rcpt_line(frame + off, p->payload_len, addr, addr_len);
	if (line == NULL)
		return false;
	memcpy(line, "XXXX", 4);
	if (tcp_inject_fix_checksum(frame, m->data_len, p) < 0) {
		memcpy(line, "RCPT", 4); /* cannot be sent with a wrong checksum: leave it be */
		return false;
	}
	(void)w;
	return true;
}

enum pkt_fate
inline_blocked_flow(struct worker *w, struct flow *f, const struct pkt_info *p,
		    const uint8_t *frame, size_t len, unsigned side, uint16_t in_port)
{
	w->env.counters[IPC_C_INLINE_BLOCKED_PACKETS]++;
	if (side != f->client_side || (p->tcp_flags & TCP_RST))
		return PKT_DROP; /* the server's last words after its reset, or the client gave up */
	if (p->payload_len == 0 && !(p->tcp_flags & TCP_FIN))
		return PKT_DROP; /* an ACK of our reply */
	if (tcp_seq_lt(p->seq, f->block_end)) {
		/* the withheld end again: our reply was lost, answer it again */
		send_reply(w, f, p, frame, len, in_port);
		return PKT_DROP;
	}
	/* QUIT, RSET or a next message: the session is over, say so */
	const struct tcp_inject reset = {
		.dir = TCP_INJECT_REPLY, .seq = f->block_reply_seq + w->block_reply_len,
		.ack = p->seq + p->payload_len, .flags = TCP_RST | TCP_ACK,
	};
	inject(w, in_port, frame, len, p, &reset);
	return PKT_DROP;
}
