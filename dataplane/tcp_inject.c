/* SPDX-License-Identifier: BSD-3-Clause */
/* Frames of the inline dataplane's own; see tcp_inject.h. */
#include <errno.h>
#include <string.h>

#include "decode.h"
#include "tcp_inject.h"

#define ETHER_ADDRS 12          /* destination and source MAC */
#define ETHER_MIN_L2 14
#define ETHER_MAX_L2 (ETHER_MIN_L2 + 4 * DECODE_MAX_VLANS)
#define IPV4_HLEN 20
#define IPV6_HLEN 40
#define TCP_HLEN 20
#define TTL 64

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The TCP checksum of seg (seg_len bytes, its checksum field 0) between src and dst. */
static uint16_t
tcp_csum(int version, const uint8_t src[16], const uint8_t dst[16], const uint8_t *seg,
	 size_t seg_len)
{
	uint32_t sum = decode_tcp_pseudo_sum(version, src, dst, seg_len);

	return decode_csum_fold(decode_csum_add(sum, seg, seg_len));
}

int
tcp_inject_fix_checksum(uint8_t *frame, size_t len, const struct pkt_info *p)
{
	size_t seg = (size_t)p->tcp_hlen + p->payload_len;
	uint8_t *tcp = frame + p->l4_off;

	if ((p->ip_version != 4 && p->ip_version != 6) || p->tcp_hlen < 20 ||
	    p->l4_off > len || seg > len - p->l4_off || p->l3_off + (p->ip_version == 4 ? 20 : 40) >
	    p->l4_off)
		return -EINVAL;
	/* extension headers: a routing header's final destination is the pseudo-header's */
	if (p->ip_version == 6 && p->l4_off != p->l3_off + 40)
		return -EINVAL;
	tcp[16] = 0;
	tcp[17] = 0;
	put16(tcp + 16, tcp_csum(p->ip_version, p->src, p->dst, tcp, seg));
	return 0;
}

int
tcp_inject_build(const uint8_t *frame, size_t len, const struct pkt_info *p,
		 const struct tcp_inject *t, uint8_t *out, size_t cap)
{
	bool reply = t->dir == TCP_INJECT_REPLY;
	size_t l2 = p->l3_off, ip_len, total;
	const uint8_t *src = reply ? p->dst : p->src, *dst = reply ? p->src : p->dst;
	uint8_t *ip, *tcp;

	/* an Ethernet frame, tagged or not, that decode_packet took for TCP */
	if (frame == NULL || (p->ip_version != 4 && p->ip_version != 6) || l2 < ETHER_MIN_L2 ||
	    l2 > ETHER_MAX_L2 || l2 > len || (t->payload_len > 0 && t->payload == NULL))
		return -EINVAL;
	ip_len = (p->ip_version == 4 ? IPV4_HLEN : IPV6_HLEN) + TCP_HLEN + t->payload_len;
	total = l2 + ip_len;
	if (total > cap)
		return -ENOSPC;

	/* link layer: the frame's own, its MAC addresses swapped for a reply */
	memcpy(out, frame, l2);
	if (reply) {
		memcpy(out, frame + 6, 6);
		memcpy(out + 6, frame, 6);
	}
	put16(out + l2 - 2, p->ip_version == 4 ? 0x0800 : 0x86dd);

	ip = out + l2;
	if (p->ip_version == 4) {
		memset(ip, 0, IPV4_HLEN);
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)ip_len);
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = TTL;
		ip[9] = 6;
		memcpy(ip + 12, src + 12, 4);
		memcpy(ip + 16, dst + 12, 4);
		put16(ip + 10, decode_csum_fold(decode_csum_add(0, ip, IPV4_HLEN)));
		tcp = ip + IPV4_HLEN;
	} else {
		memset(ip, 0, IPV6_HLEN);
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)(TCP_HLEN + t->payload_len));
		ip[6] = 6;
		ip[7] = TTL;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
		tcp = ip + IPV6_HLEN;
	}

	memset(tcp, 0, TCP_HLEN);
	put16(tcp, reply ? p->dport : p->sport);
	put16(tcp + 2, reply ? p->sport : p->dport);
	put32(tcp + 4, t->seq);
	put32(tcp + 8, t->ack);
	tcp[12] = (TCP_HLEN / 4) << 4;
	tcp[13] = t->flags & 0x3f; /* never ECE or CWR: no ECN was negotiated by us */
	put16(tcp + 14, t->window);
	if (t->payload_len > 0)
		memcpy(tcp + TCP_HLEN, t->payload, t->payload_len);
	put16(tcp + 16, tcp_csum(p->ip_version, src, dst, tcp, TCP_HLEN + t->payload_len));
	return (int)total;
}
