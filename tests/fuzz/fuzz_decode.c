/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the packet path that needs no DPDK: decode any frame and key it,
 * checking the invariants the worker relies on: payload and fragment data inside the frame,
 * decode_ip() from the IP header agreeing with decode_packet(), both directions keyed alike,
 * the other link types' decoders in bounds on the same bytes; the TCP checksum is computed
 * on every decoded segment. Seeds: every 8th frame of tests/pcap/demo/input.pcap, plus
 * frames with IPv4/TCP options and IPv6 fragments.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "flow_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_info p;
	struct flow_key k1, k2;

	/* the other link types read the same bytes from their own headers: in bounds */
	for (int link = DECODE_LINK_NULL; link <= DECODE_LINK_SLL; link++) {
		enum decode_result lr = decode_frame((enum decode_link)link, data, size, &p);

		if ((unsigned)lr >= DECODE__COUNT ||
		    (lr == DECODE_OK && (p.payload < data || p.payload + p.payload_len > data + size ||
					 p.l3_off > size)))
			abort();
	}
	enum decode_result r = decode_packet(data, size, &p);

	if ((unsigned)r >= DECODE__COUNT || (p.anomalies >> DECODE_AN__COUNT) != 0)
		abort();
	if (r == DECODE_FRAGMENT) {
		if (p.l3_off > size || p.frag.data_off > size - p.l3_off ||
		    p.frag.data_len > size - p.l3_off - p.frag.data_off ||
		    p.frag.hdr_len > p.frag.data_off || (!p.frag.more && p.frag.offset == 0))
			abort();
	}
	if (r == DECODE_OK || r == DECODE_FRAGMENT) {
		/* decoding from the IP header finds the same thing */
		struct pkt_info q;

		if (p.l3_off > size || p.l3_len > size - p.l3_off)
			abort();
		if (decode_ip(data + p.l3_off, size - p.l3_off, &q) != r ||
		    q.anomalies != p.anomalies || q.payload != p.payload ||
		    q.payload_len != p.payload_len ||
		    (r == DECODE_OK && q.l4_off + p.l3_off != p.l4_off))
			abort();
	}
	if (r != DECODE_OK)
		return 0;
	if (p.payload < data || p.payload + p.payload_len > data + size)
		abort();
	if (p.tcp_hlen < 20 || data + p.l4_off + p.tcp_hlen != p.payload)
		abort();
	(void)decode_tcp_csum_ok(data, size, &p);

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

	/* both directions of two hosts dispatch alike (fragments meet their flow) */
	if (flow_hosts_hash(&p) != flow_hosts_hash(&rev))
		abort();
	return 0;
}
