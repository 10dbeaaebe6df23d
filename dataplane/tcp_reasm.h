/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP stream reassembly, one direction at a time: tracks the next expected sequence number
 * (with wrap-around), trims retransmitted bytes so each byte reaches the parser once, and
 * hands back the new in-order bytes of a segment. This stage delivers in order only: a
 * segment beyond a hole is a gap, skipped and counted (the out-of-order queue is the next
 * stage; tcp_stream_segment's result already distinguishes the cases it will handle).
 * Pure C, no allocation; one worker lcore owns a stream.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum tcp_seg_result {
	TCP_SEG_DATA = 0,       /* *out holds new in-order bytes */
	TCP_SEG_EMPTY,          /* no payload (pure ACK, SYN, FIN, keep-alive) */
	TCP_SEG_DUPLICATE,      /* everything in it was delivered before */
	TCP_SEG_GAP,            /* bytes before it were never seen: skipped, then delivered */
};

struct tcp_stream {
	uint32_t next_seq;      /* next byte expected, valid once synced */
	bool synced;            /* next_seq known (SYN seen, or picked up mid-stream) */
	bool fin;               /* FIN seen: the direction is finished */
	bool rst;
	uint64_t n_bytes;       /* bytes delivered */
	uint64_t n_gap_bytes;   /* bytes skipped over holes */
	uint32_t n_retransmits;
};

void tcp_stream_init(struct tcp_stream *s);

/*
 * Account one segment of this direction. `out`/`out_len` receive the part of `data` not
 * delivered before (borrowed from data). Pure ACKs and keep-alives (one byte below
 * next_seq) give TCP_SEG_EMPTY/DUPLICATE.
 */
enum tcp_seg_result tcp_stream_segment(struct tcp_stream *s, uint32_t seq, uint8_t flags,
				       const uint8_t *data, uint32_t len, const uint8_t **out,
				       uint32_t *out_len);

/* Sequence comparison across wrap-around: a < b. */
static inline bool
tcp_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}
