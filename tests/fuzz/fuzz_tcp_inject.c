/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for dataplane/tcp_inject.c: the input's first 12 bytes choose the frame
 * to build (direction, flags, sequence numbers, payload length), the rest is a frame. Every
 * frame decode_packet takes for TCP must give a frame decode_packet takes for valid TCP
 * again, with both checksums right and the asked-for fields, or a clean error.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "tcp_inject.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char reply[] = "550 5.7.1 Message refused by the site's mail policy\r\n";
	uint8_t out[TCP_INJECT_MAX(sizeof(reply))];
	struct pkt_info p, q;

	if (size < 12)
		return 0;
	struct tcp_inject t = {
		.dir = (data[0] & 1) ? TCP_INJECT_ONWARD : TCP_INJECT_REPLY,
		.flags = data[1],
		.seq = (uint32_t)data[2] << 24 | (uint32_t)data[3] << 16 | data[4],
		.ack = (uint32_t)data[5] << 24 | (uint32_t)data[6] << 8 | data[7],
		.window = (uint16_t)(data[8] << 8 | data[9]),
		.payload = reply,
		.payload_len = (uint16_t)(data[10] % sizeof(reply)),
	};
	size_t cap = sizeof(out) - data[11] % 8;

	data += 12;
	size -= 12;
	if (decode_packet(data, size, &p) != DECODE_OK)
		return 0;
	int n = tcp_inject_build(data, size, &p, &t, out, cap);
	if (n < 0)
		return 0;
	if ((size_t)n > cap || decode_packet(out, (size_t)n, &q) != DECODE_OK || q.bad_ip_csum ||
	    !decode_tcp_csum_ok(out, (size_t)n, &q) || q.seq != t.seq || q.ack != t.ack ||
	    q.tcp_flags != (t.flags & 0x3f) || q.payload_len != t.payload_len ||
	    memcmp(q.payload, reply, t.payload_len) != 0 || q.n_vlans != p.n_vlans)
		abort();
	return 0;
}
