/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet/VLAN/IPv4/IPv6/TCP decoding for the worker fast path. Every read is bounded by
 * the frame length first; lengths come from the IP headers, not from the frame, so trailing
 * Ethernet padding never becomes TCP payload. Pure, worker lcores.
 */
#include <string.h>

#include "decode.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define IPPROTO_TCP_NUM 6
#define IPV6_MAX_EXT_HEADERS 8

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static enum decode_result
decode_tcp(const uint8_t *p, size_t len, struct pkt_info *out)
{
	if (len < 20)
		return DECODE_TRUNCATED;

	size_t hlen = (size_t)(p[12] >> 4) * 4;

	if (hlen < 20 || hlen > len)
		return DECODE_BAD_TCP;
	out->sport = rd16(p);
	out->dport = rd16(p + 2);
	out->seq = rd32(p + 4);
	out->ack = rd32(p + 8);
	out->tcp_flags = p[13] & 0x3f;
	out->window = rd16(p + 14);
	out->payload = p + hlen;
	out->payload_len = (uint32_t)(len - hlen);
	return DECODE_OK;
}

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static enum decode_result
decode_ipv4(const uint8_t *p, size_t len, struct pkt_info *out)
{
	if (len < 20)
		return DECODE_TRUNCATED;
	if (p[0] >> 4 != 4)
		return DECODE_BAD_IPV4;

	size_t hlen = (size_t)(p[0] & 0x0f) * 4;
	size_t total = rd16(p + 2);

	if (hlen < 20 || total < hlen)
		return DECODE_BAD_IPV4;
	if (total > len)
		return DECODE_TRUNCATED;
	out->ip_version = 4;
	memcpy(out->src, v4_mapped_prefix, 12);
	memcpy(out->src + 12, p + 12, 4);
	memcpy(out->dst, v4_mapped_prefix, 12);
	memcpy(out->dst + 12, p + 16, 4);

	uint16_t frag = rd16(p + 6);
	if ((frag & 0x3fff) != 0) /* MF set or a non-zero offset */
		return DECODE_FRAGMENT;
	if (p[9] != IPPROTO_TCP_NUM)
		return DECODE_NOT_TCP;
	return decode_tcp(p + hlen, total - hlen, out);
}

static enum decode_result
decode_ipv6(const uint8_t *p, size_t len, struct pkt_info *out)
{
	if (len < 40)
		return DECODE_TRUNCATED;
	if (p[0] >> 4 != 6)
		return DECODE_BAD_IPV6;

	size_t plen = rd16(p + 4);

	if (40 + plen > len)
		return DECODE_TRUNCATED;
	out->ip_version = 6;
	memcpy(out->src, p + 8, 16);
	memcpy(out->dst, p + 24, 16);

	uint8_t next = p[6];
	const uint8_t *q = p + 40;
	size_t left = plen;

	for (int i = 0; i < IPV6_MAX_EXT_HEADERS; i++) {
		switch (next) {
		case IPPROTO_TCP_NUM:
			return decode_tcp(q, left, out);
		case 0:   /* hop-by-hop */
		case 43:  /* routing */
		case 60:  /* destination options */
			if (left < 8)
				return DECODE_TRUNCATED;
			size_t ext = ((size_t)q[1] + 1) * 8;
			if (ext > left)
				return DECODE_BAD_IPV6;
			next = q[0];
			q += ext;
			left -= ext;
			break;
		case 44:  /* fragment */
			return DECODE_FRAGMENT;
		default:
			return DECODE_NOT_TCP;
		}
	}
	return DECODE_BAD_IPV6;
}

enum decode_result
decode_packet(const uint8_t *frame, size_t len, struct pkt_info *out)
{
	if (len < 14)
		return DECODE_TRUNCATED;

	size_t off = 12;
	uint16_t type = rd16(frame + off);

	out->n_vlans = 0;
	while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD) {
		if (out->n_vlans == DECODE_MAX_VLANS)
			return DECODE_BAD_L2;
		if (len < off + 6)
			return DECODE_TRUNCATED;
		out->vlan[out->n_vlans++] = rd16(frame + off + 2) & 0x0fff;
		off += 4;
		type = rd16(frame + off);
	}
	off += 2;
	switch (type) {
	case ETHERTYPE_IPV4:
		return decode_ipv4(frame + off, len - off, out);
	case ETHERTYPE_IPV6:
		return decode_ipv6(frame + off, len - off, out);
	default:
		return DECODE_NOT_IP;
	}
}

const char *
decode_result_name(enum decode_result r)
{
	static const char *const names[DECODE__COUNT] = {
		[DECODE_OK] = "ok",
		[DECODE_NOT_IP] = "not_ip",
		[DECODE_NOT_TCP] = "not_tcp",
		[DECODE_FRAGMENT] = "fragment",
		[DECODE_TRUNCATED] = "truncated",
		[DECODE_BAD_L2] = "bad_l2",
		[DECODE_BAD_IPV4] = "bad_ipv4",
		[DECODE_BAD_IPV6] = "bad_ipv6",
		[DECODE_BAD_TCP] = "bad_tcp",
	};
	return (unsigned)r < DECODE__COUNT ? names[r] : "unknown";
}
