/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inline mode: a worker sends every packet it received on to the paired port, unless it is
 * part of a message that must not reach the server. Such a message is stopped at the client's
 * segment that completes it (the "." line, or the last BDAT chunk): that segment is withheld,
 * the client is answered block_reply in the server's name (so that the sending MTA bounces,
 * not retries), and the server is reset in the client's name (it drops the unfinished
 * message). The rest of that session goes nowhere: a retransmitted end is answered again, new
 * client bytes get a reset. Other sessions are not touched.
 *
 * Overload never stalls the wire: a packet that cannot be inspected (dispatch ring full, flow
 * pool full) is sent on uninspected with inline_fail = open, dropped with closed, and counted
 * either way. Worker lcores only; frames go out through the worker's own TX queue of a port.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct worker;
struct flow;
struct pkt_info;
struct rte_mbuf;

/* What becomes of a packet once handled. */
enum pkt_fate {
	PKT_SEND_ON = 0,  /* inline: out of the paired port; passive: freed */
	PKT_DROP,         /* freed */
};

/* Done with m: inline, send it on unless dropped; passive, free it. */
void inline_finish(struct worker *w, struct rte_mbuf *m, enum pkt_fate fate);

/* A packet that could not be inspected (overload): sent on or dropped as inline_fail says. */
void inline_uninspected(struct worker *w, struct rte_mbuf *m);

/* Send what the worker's queues hold; once per loop and at the end. */
void inline_flush(struct worker *w);

/*
 * Can the packet p (key side `side` of flow f) that completes a blocked message be withheld?
 * Only the client's own data segment can; the end can also come with a server ACK that
 * skips bytes the sensor never saw, and then the server had them already.
 */
bool inline_can_withhold(const struct flow *f, const struct pkt_info *p, unsigned side);

/*
 * The handled packet (frame, len, decoded into p; received on in_port) completed a message
 * the inspection blocked (w->block_reasons), and inline_can_withhold said yes. side is its
 * flow key side. PKT_DROP: withheld and answered; PKT_SEND_ON, fail-open, when the replies
 * could not be sent.
 */
enum pkt_fate inline_block(struct worker *w, struct flow *f, const struct pkt_info *p,
			   const uint8_t *frame, size_t len, unsigned side, uint16_t in_port);

/*
 * rcpt_reject_suppressed: the RCPT command for addr ends in the packet being handled (m,
 * decoded into p; key side `side` of flow f). Its verb is rewritten in place, "RCPT" to
 * "XXXX", and the TCP checksum fixed: the server refuses the unknown command with a 5xx, the
 * client's MTA takes that as the recipient's permanent failure, and the session, its other
 * recipients and its sequence numbers go on untouched. False (nothing changed) when the
 * whole command line is not in this packet's own bytes (it began in an earlier segment, or
 * came through IP reassembly).
 */
bool inline_refuse_rcpt(struct worker *w, const struct flow *f, const struct pkt_info *p,
			unsigned side, struct rte_mbuf *m, const uint8_t *addr, size_t addr_len);

/* A packet of a session whose message was blocked: answered as the block requires, dropped. */
enum pkt_fate inline_blocked_flow(struct worker *w, struct flow *f, const struct pkt_info *p,
				  const uint8_t *frame, size_t len, unsigned side,
				  uint16_t in_port);
