/* SPDX-License-Identifier: BSD-3-Clause */
/* In-order TCP reassembly per direction; see tcp_reasm.h. Pure, worker lcores. */
#include "decode.h"
#include "tcp_reasm.h"

void
tcp_stream_init(struct tcp_stream *s)
{
	*s = (struct tcp_stream){ 0 };
}

enum tcp_seg_result
tcp_stream_segment(struct tcp_stream *s, uint32_t seq, uint8_t flags, const uint8_t *data,
		   uint32_t len, const uint8_t **out, uint32_t *out_len)
{
	enum tcp_seg_result res = TCP_SEG_DATA;

	*out = NULL;
	*out_len = 0;
	if (flags & TCP_RST)
		s->rst = true;
	if (flags & TCP_SYN) {
		/* The SYN takes one sequence number; data on a SYN (TFO) follows it. */
		if (!s->synced || seq + 1 == s->next_seq) {
			s->next_seq = seq + 1;
			s->synced = true;
		}
		seq++;
	}
	if (len == 0) {
		if ((flags & TCP_FIN) && s->synced && seq == s->next_seq) {
			s->next_seq++;
			s->fin = true;
		}
		return TCP_SEG_EMPTY;
	}
	if (!s->synced) {
		/* Mid-stream pickup: the sensor started after the handshake. */
		s->next_seq = seq;
		s->synced = true;
	}

	uint32_t end = seq + len;

	if (!tcp_seq_lt(s->next_seq, end)) {
		s->n_retransmits++;
		return TCP_SEG_DUPLICATE;
	}
	if (tcp_seq_lt(seq, s->next_seq)) {
		/* Overlaps bytes already delivered: first data wins, deliver the rest. */
		uint32_t skip = s->next_seq - seq;

		data += skip;
		len -= skip;
		seq = s->next_seq;
		s->n_retransmits++;
	} else if (tcp_seq_lt(s->next_seq, seq)) {
		s->n_gap_bytes += seq - s->next_seq;
		res = TCP_SEG_GAP;
	}
	*out = data;
	*out_len = len;
	s->next_seq = seq + len;
	s->n_bytes += len;
	if (flags & TCP_FIN) {
		s->next_seq++;
		s->fin = true;
	}
	return res;
}
