/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the packet path that needs no DPDK: decode any frame, key it, and
 * feed its payload through one direction of the reassembler, checking the invariants the
 * worker relies on (payload inside the frame, both directions keyed alike). Seeds: every
 * 8th frame of tests/pcap/demo/input.pcap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "flow_key.h"
#include "tcp_reasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tcp_stream stream;
	struct pkt_info p;
	struct flow_key k1, k2;

	if (decode_packet(data, size, &p) != DECODE_OK)
		return 0;
	if (p.payload < data || p.payload + p.payload_len > data + size)
		abort();

	unsigned side = flow_key_from_pkt(&k1, &p);
	struct pkt_info rev = p;
	memcpy(rev.src, p.dst, 16);
	memcpy(rev.dst, p.src, 16);
	rev.sport = p.dport;
	rev.dport = p.sport;
	if (flow_key_from_pkt(&k2, &rev) == side && (memcmp(p.src, p.dst, 16) != 0 || p.sport != p.dport))
		abort();
	if (memcmp(&k1, &k2, sizeof(k1)) != 0 || flow_key_hash(&k1) != flow_key_hash(&k2))
		abort();

	const uint8_t *out;
	uint32_t out_len;
	tcp_stream_segment(&stream, p.seq, p.tcp_flags, p.payload, p.payload_len, &out, &out_len);
	if (out_len > p.payload_len || (out_len > 0 && (out < p.payload ||
							 out + out_len > p.payload + p.payload_len)))
		abort();
	return 0;
}
