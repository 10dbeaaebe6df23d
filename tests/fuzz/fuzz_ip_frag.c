/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for dataplane/ip_frag.c: the input is a small table configuration and a
 * sequence of fragments fed to one table. Most fragments are built (IPv4 with or without
 * options, IPv6 with or without a hop-by-hop header, any offset, length, id, MF, VLAN, time
 * step), their bytes a function of the datagram offset ("honest") or its complement ("evil");
 * some are raw frames taken from the input and decoded. Invariants: no crash or sanitizer
 * report; nothing handed out unless COMPLETE; a reassembled packet's length fields match its
 * length and it decodes inside its buffer; every reassembled byte is the honest or evil byte
 * for its offset (so no byte lands at the wrong place) while only built fragments were used;
 * occupancy within the limits; and after a sweep far in the future, no datagram and no byte
 * is held. Seeds: tests/fuzz/corpus/ip_frag/.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "ip_frag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REC_LEN 6

enum rec_flag {
	REC_V6 = 0x01,
	REC_MORE = 0x02,
	REC_VLAN = 0x04,
	REC_EVIL = 0x08,
	REC_OPTS = 0x10,        /* IPv4 options / IPv6 hop-by-hop */
	REC_RAW = 0x20,         /* a raw frame from the input instead */
	REC_NOT_TCP = 0x40,
};

static uint8_t
honest(uint32_t off)
{
	uint32_t x = off * 0x9e3779b1u;

	return (uint8_t)(x >> 24 ^ x >> 11);
}

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t
build(uint8_t *f, uint8_t flags, uint32_t id, uint32_t off, uint32_t len)
{
	size_t l2 = 14, l3;
	uint8_t *ip;

	memset(f, 0, 18);
	if (flags & REC_VLAN) {
		put16(f + 12, 0x8100);
		put16(f + 14, 7);
		l2 = 18;
	}
	ip = f + l2;
	if (!(flags & REC_V6)) {
		size_t hl = flags & REC_OPTS ? 24 : 20;

		put16(f + l2 - 2, 0x0800);
		memset(ip, 0, hl);
		ip[0] = (uint8_t)(0x40 | hl / 4);
		put16(ip + 2, (uint32_t)(hl + len));
		put16(ip + 4, id);
		put16(ip + 6, (flags & REC_MORE ? 0x2000 : 0) | (off / 8 & 0x1fff));
		ip[9] = flags & REC_NOT_TCP ? 17 : 6;
		ip[12] = 10;
		ip[19] = 2;
		if (hl == 24)
			memset(ip + 20, 1, 4);
		put16(ip + 10, decode_csum_fold(decode_csum_add(0, ip, hl)));
		l3 = hl;
	} else {
		size_t fh = flags & REC_OPTS ? 48 : 40;

		put16(f + l2 - 2, 0x86dd);
		memset(ip, 0, fh + 8);
		ip[0] = 0x60;
		put16(ip + 4, (uint32_t)(fh - 40 + 8 + len));
		ip[6] = fh == 48 ? 0 : 44;
		ip[8] = 0x20;
		ip[39] = 2;
		if (fh == 48)
			ip[40] = 44;
		ip[fh] = flags & REC_NOT_TCP ? 17 : 6;
		put16(ip + fh + 2, (off & 0xfff8) | (flags & REC_MORE ? 1 : 0));
		put16(ip + fh + 6, id);
		l3 = fh + 8;
	}
	for (uint32_t i = 0; i < len; i++)
		ip[l3 + i] = flags & REC_EVIL ? (uint8_t)~honest(off + i) : honest(off + i);
	return l2 + l3 + len;
}

static void
check_complete(const uint8_t *out, size_t out_len, bool pattern)
{
	struct pkt_info p;
	size_t hl;

	if (out == NULL || out_len < 20 || out_len > IP_FRAG_MAX_HDR + 65535)
		abort();
	if (out[0] >> 4 == 4) {
		hl = (size_t)(out[0] & 15) * 4;
		if ((size_t)(out[2] << 8 | out[3]) != out_len || (out[6] & 0x3f) || out[7])
			abort();
	} else if (out[0] >> 4 == 6) {
		hl = out[6] == 0 ? 48 : 40;
		if (40 + (size_t)(out[4] << 8 | out[5]) != out_len)
			abort();
	} else {
		abort();
	}
	if (pattern)
		for (size_t i = hl; i < out_len; i++)
			if (out[i] != honest((uint32_t)(i - hl)) &&
			    out[i] != (uint8_t)~honest((uint32_t)(i - hl)))
				abort();

	enum decode_result r = decode_ip(out, out_len, &p);

	if (r == DECODE_OK) {
		if (p.payload < out || p.payload + p.payload_len > out + out_len)
			abort();
		(void)decode_tcp_csum_ok(out, out_len, &p);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[18 + 56 + 2048]; /* lengths in the input are 11 bits */
	struct ip_frag_table *t;
	struct ip_frag_stats st;
	uint64_t now = 1000;
	bool pattern = true;

	if (size < 2)
		return 0;

	uint32_t max_dgrams = 1 + (data[0] & 7);

	t = ip_frag_table_create(max_dgrams, (1u + data[1]) * IP_FRAG_CHUNK);
	if (t == NULL)
		abort();
	if (ip_frag_table_set_limits(t, 1000000, 1 + (data[0] >> 3) % IP_FRAG_MAX_FRAGS_CAP) != 0)
		abort();
	data += 2;
	size -= 2;
	while (size >= REC_LEN) {
		uint8_t flags = data[0];
		uint32_t id = data[1] & 3;
		uint32_t off = (uint32_t)(data[2] << 8 | data[3]) & 0xfff8;
		uint32_t len = (uint32_t)((data[4] & 7) << 8 | data[5]);
		size_t flen;
		struct pkt_info p;
		const uint8_t *out;
		size_t out_len;
		uint32_t ev;

		now += (uint64_t)(data[1] >> 2) * 50000;
		data += REC_LEN;
		size -= REC_LEN;
		if (flags & REC_RAW) {
			flen = len < size ? len : size;
			memcpy(frame, data, flen);
			data += flen;
			size -= flen;
		} else {
			flen = build(frame, flags, id, off, len);
		}
		if (decode_packet(frame, flen, &p) != DECODE_FRAGMENT)
			continue;

		enum ip_frag_result r = ip_frag_add(t, frame, flen, &p, now, &out, &out_len, &ev);

		if ((flags & REC_RAW) && r != IP_FRAG_DROPPED)
			pattern = false;
		if (r == IP_FRAG_COMPLETE)
			check_complete(out, out_len, pattern);
		else if (out != NULL || out_len != 0)
			abort();
		if (ev >> IP_FRAG_EV__COUNT)
			abort();
		ip_frag_table_stats(t, &st);
		if (st.bytes_in_use > st.bytes_max || st.datagrams_in_use > max_dgrams)
			abort();
		if (flags & 0x80)
			ip_frag_sweep(t, now, 1);
	}
	ip_frag_sweep(t, UINT64_MAX, UINT32_MAX);
	ip_frag_table_stats(t, &st);
	if (st.bytes_in_use != 0 || st.datagrams_in_use != 0)
		abort();
	ip_frag_table_destroy(t);
	return 0;
}
