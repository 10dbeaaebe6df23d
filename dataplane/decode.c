/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet/VLAN/IPv4/IPv6/TCP decoding for the worker fast path. Every read is bounded by
 * the frame length first; lengths come from the IP headers, not from the frame, so trailing
 * Ethernet padding never becomes TCP payload. Where a malformed header is something a Linux
 * receiver drops (bad IPv4 option list, hop-by-hop not first) we drop it too, so that nothing
 * the server never sees is inspected; where Linux keeps the packet and ignores the oddity
 * (bad TCP options) we do the same and flag it. Pure, worker lcores.
 */
#include <string.h>

#include "decode.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100

#define IPPROTO_HOPOPTS_NUM 0
#define IPPROTO_TCP_NUM 6
#define IPPROTO_ROUTING_NUM 43
#define IPPROTO_FRAGMENT_NUM 44
#define IPPROTO_AH_NUM 51
#define IPPROTO_DSTOPTS_NUM 60

#define IPOPT_EOL 0
#define IPOPT_NOP 1
#define IPOPT_LSRR 131
#define IPOPT_SSRR 137

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WSCALE 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_SACK 5
#define TCPOPT_TIMESTAMP 8
#define TCP_MAX_WSCALE 14

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

static inline void
flag(struct pkt_info *out, enum decode_anomaly a)
{
	out->anomalies |= 1u << a;
}

uint32_t
decode_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t acc = sum;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		acc += rd16(p + i);
	if (i < len)
		acc += (uint32_t)p[i] << 8;
	while (acc >> 32)
		acc = (acc & 0xffffffff) + (acc >> 32);
	return (uint32_t)acc;
}

uint16_t
decode_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * TCP options between byte 20 and the data offset. Mirrors Linux's tcp_parse_options(): a
 * length below 2 or one running past the header ends parsing; a known option with the wrong
 * length is skipped; SYN-only options elsewhere are ignored.
 */
static void
decode_tcp_options(const uint8_t *p, size_t hlen, struct pkt_info *out)
{
	struct tcp_options *o = &out->tcp_opt;
	bool syn = (p[13] & TCP_SYN) != 0;
	size_t i = 20;

	while (i < hlen) {
		uint8_t kind = p[i];

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= hlen) {
			flag(out, DECODE_AN_TCP_OPT_TRUNC);
			break;
		}

		size_t olen = p[i + 1];
		uint8_t bit = 0;
		bool syn_only = false;

		if (olen < 2) {
			flag(out, DECODE_AN_TCP_OPT_BAD_LEN);
			break;
		}
		if (i + olen > hlen) {
			flag(out, DECODE_AN_TCP_OPT_TRUNC);
			break;
		}
		switch (kind) {
		case TCPOPT_MSS:
			bit = olen == 4 ? TCP_OPT_MSS : 0;
			syn_only = true;
			break;
		case TCPOPT_WSCALE:
			bit = olen == 3 ? TCP_OPT_WSCALE : 0;
			syn_only = true;
			break;
		case TCPOPT_SACK_PERM:
			bit = olen == 2 ? TCP_OPT_SACK_PERM : 0;
			syn_only = true;
			break;
		case TCPOPT_SACK:
			bit = olen >= 10 && (olen - 2) % 8 == 0 ? TCP_OPT_SACK : 0;
			break;
		case TCPOPT_TIMESTAMP:
			bit = olen == 10 ? TCP_OPT_TIMESTAMP : 0;
			break;
		default:
			i += olen;
			continue;
		}
		if (bit == 0) {
			flag(out, DECODE_AN_TCP_OPT_BAD_LEN);
		} else if (syn_only && !syn) {
			flag(out, DECODE_AN_TCP_OPT_NOT_SYN);
		} else {
			const uint8_t *v = p + i + 2;

			if (o->present & bit)
				flag(out, DECODE_AN_TCP_OPT_DUP);
			o->present |= bit;
			switch (bit) {
			case TCP_OPT_MSS:
				o->mss = rd16(v);
				break;
			case TCP_OPT_WSCALE:
				o->wscale = v[0];
				if (o->wscale > TCP_MAX_WSCALE) {
					o->wscale = TCP_MAX_WSCALE;
					flag(out, DECODE_AN_TCP_WSCALE_BIG);
				}
				break;
			case TCP_OPT_SACK:
				o->n_sack_blocks = (uint8_t)((olen - 2) / 8);
				break;
			case TCP_OPT_TIMESTAMP:
				o->ts_val = rd32(v);
				o->ts_ecr = rd32(v + 4);
				break;
			default:
				break;
			}
		}
		i += olen;
	}
}

/* `p` is `base + off`: offsets in pkt_info are from `base`. */
static enum decode_result
decode_tcp(const uint8_t *base, size_t off, size_t len, struct pkt_info *out)
{
	const uint8_t *p = base + off;

	out->l4_proto = IPPROTO_TCP_NUM;
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
	out->tcp_hlen = (uint8_t)hlen;
	out->l4_off = (uint32_t)off;
	if (hlen > 20)
		decode_tcp_options(p, hlen, out);
	out->payload = p + hlen;
	out->payload_len = (uint32_t)(len - hlen);
	return DECODE_OK;
}

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Structure only (type, length within the header), as Linux's ip_options_compile() checks. */
static bool
ipv4_options_ok(const uint8_t *p, size_t hlen, struct pkt_info *out)
{
	size_t i = 20;

	flag(out, DECODE_AN_IPV4_OPTIONS);
	while (i < hlen) {
		uint8_t type = p[i];

		if (type == IPOPT_EOL)
			break;
		if (type == IPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= hlen)
			return false;

		size_t olen = p[i + 1];

		if (olen < 2 || i + olen > hlen)
			return false;
		if (type == IPOPT_LSRR || type == IPOPT_SSRR)
			flag(out, DECODE_AN_IPV4_SRCROUTE);
		i += olen;
	}
	return true;
}

static enum decode_result
decode_ipv4(const uint8_t *base, size_t off, size_t len, struct pkt_info *out)
{
	const uint8_t *p = base + off;

	if (len < 20)
		return DECODE_TRUNCATED;
	if (p[0] >> 4 != 4)
		return DECODE_BAD_IPV4;

	size_t hlen = (size_t)(p[0] & 0x0f) * 4;
	size_t total = rd16(p + 2);
	bool len_zero = false;

	/*
	 * A capture taken on the sending host holds TSO/GSO frames as the stack handed them to
	 * the NIC, not yet cut into segments: their total length is 0 (it cannot say more than
	 * 65535). Wireshark takes the frame's length then, and so do we, saying so.
	 */
	if (total == 0 && len > 46 && hlen >= 20) { /* 46: Ethernet pads shorter packets */
		total = len > UINT16_MAX * 4u ? UINT16_MAX * 4u : len;
		len_zero = true;
	}
	if (hlen < 20 || total < hlen)
		return DECODE_BAD_IPV4;
	if (total > len)
		return DECODE_TRUNCATED;
	out->ip_version = 4;
	out->l3_off = (uint32_t)off;
	out->l3_len = (uint32_t)total;
	if (len_zero)
		flag(out, DECODE_AN_IPV4_LEN_ZERO);
	out->l4_proto = p[9];
	out->v6_dst_off = 16;
	memcpy(out->src, v4_mapped_prefix, 12);
	memcpy(out->src + 12, p + 12, 4);
	memcpy(out->dst, v4_mapped_prefix, 12);
	memcpy(out->dst + 12, p + 16, 4);
	if (decode_csum_fold(decode_csum_add(0, p, hlen)) != 0) {
		out->bad_ip_csum = true;
		flag(out, DECODE_AN_BAD_IP_CSUM);
	}
	if (hlen > 20 && !ipv4_options_ok(p, hlen, out))
		return DECODE_BAD_IPV4_OPT;

	uint16_t frag = rd16(p + 6);

	if ((frag & 0x3fff) != 0) { /* MF set or a non-zero offset */
		if (p[9] != IPPROTO_TCP_NUM)
			return DECODE_NOT_TCP;
		out->frag.id = rd16(p + 4);
		out->frag.offset = (uint16_t)((frag & 0x1fff) * 8);
		out->frag.more = (frag & 0x2000) != 0;
		out->frag.proto = p[9];
		out->frag.hdr_len = (uint16_t)hlen;
		out->frag.data_off = (uint32_t)hlen;
		out->frag.data_len = (uint32_t)(total - hlen);
		return DECODE_FRAGMENT;
	}
	if (p[9] != IPPROTO_TCP_NUM)
		return DECODE_NOT_TCP;
	return decode_tcp(base, off + hlen, total - hlen, out);
}

/* Upper layers (or fragmentable extension headers) that can still lead to TCP. */
static bool
may_lead_to_tcp(uint8_t next)
{
	return next == IPPROTO_TCP_NUM || next == IPPROTO_DSTOPTS_NUM || next == IPPROTO_AH_NUM;
}

/*
 * A routing header with segments left names the final destination, which is what the TCP
 * pseudo-header uses (RFC 8200 8.1): the last address of type 0/2, segment list[0] of an SRH.
 */
static void
note_final_destination(const uint8_t *p, const uint8_t *rh, size_t ext, struct pkt_info *out)
{
	size_t n = rh[1] / 2; /* 16-byte addresses after the first 8 bytes */

	if (rh[3] == 0 || n == 0 || 8 + n * 16 > ext)
		return;
	if (rh[2] == 0 || rh[2] == 2)
		out->v6_dst_off = (uint32_t)(rh - p + 8 + (n - 1) * 16);
	else if (rh[2] == 4)
		out->v6_dst_off = (uint32_t)(rh - p + 8);
}

static enum decode_result
decode_ipv6(const uint8_t *base, size_t off, size_t len, struct pkt_info *out)
{
	const uint8_t *p = base + off;

	if (len < 40)
		return DECODE_TRUNCATED;
	if (p[0] >> 4 != 6)
		return DECODE_BAD_IPV6;

	size_t plen = rd16(p + 4);

	if (40 + plen > len)
		return DECODE_TRUNCATED;
	out->ip_version = 6;
	out->l3_off = (uint32_t)off;
	out->l3_len = (uint32_t)(40 + plen);
	out->v6_dst_off = 24;
	memcpy(out->src, p + 8, 16);
	memcpy(out->dst, p + 24, 16);

	uint8_t next = p[6];
	size_t nh_off = 6;   /* where `next` was read, for reassembly */
	size_t q = 40;       /* offset of the header `next` names, from p */

	for (int i = 0; i <= DECODE_IPV6_MAX_EXT_HEADERS; i++) {
		size_t left = 40 + plen - q;
		size_t ext;

		out->l4_proto = next;
		switch (next) {
		case IPPROTO_TCP_NUM:
			return decode_tcp(base, off + q, left, out);
		case IPPROTO_HOPOPTS_NUM:
		case IPPROTO_ROUTING_NUM:
		case IPPROTO_DSTOPTS_NUM:
		case IPPROTO_AH_NUM:
			if (i == DECODE_IPV6_MAX_EXT_HEADERS)
				return DECODE_BAD_IPV6_EXT;
			/* RFC 8200 4.1: a receiver (Linux included) drops a later hop-by-hop */
			if (next == IPPROTO_HOPOPTS_NUM && i != 0)
				return DECODE_BAD_IPV6_EXT;
			if (left < 8)
				return DECODE_TRUNCATED;
			if (next == IPPROTO_AH_NUM)
				ext = ((size_t)p[q + 1] + 2) * 4;
			else
				ext = ((size_t)p[q + 1] + 1) * 8;
			if (ext > left)
				return DECODE_BAD_IPV6;
			if (next == IPPROTO_ROUTING_NUM)
				note_final_destination(p, p + q, ext, out);
			nh_off = q;
			next = p[q];
			q += ext;
			break;
		case IPPROTO_FRAGMENT_NUM: {
			if (i == DECODE_IPV6_MAX_EXT_HEADERS)
				return DECODE_BAD_IPV6_EXT;
			if (left < 8)
				return DECODE_TRUNCATED;

			uint16_t fo = rd16(p + q + 2);

			if ((fo & 0xfff9) == 0) {
				/* atomic fragment: processed as a whole packet (RFC 6946) */
				flag(out, DECODE_AN_IPV6_ATOMIC_FRAG);
				nh_off = q;
				next = p[q];
				q += 8;
				break;
			}
			if (!may_lead_to_tcp(p[q]))
				return DECODE_NOT_TCP;
			out->frag.id = rd32(p + q + 4);
			out->frag.offset = fo & 0xfff8;
			out->frag.more = (fo & 1) != 0;
			out->frag.proto = p[q];
			out->frag.hdr_len = (uint16_t)q;
			out->frag.nh_off = (uint16_t)nh_off;
			out->frag.data_off = (uint32_t)(q + 8);
			out->frag.data_len = (uint32_t)(left - 8);
			return DECODE_FRAGMENT;
		}
		default:
			return DECODE_NOT_TCP;
		}
	}
	return DECODE_BAD_IPV6_EXT;
}

enum decode_result
decode_packet(const uint8_t *frame, size_t len, struct pkt_info *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 14)
		return DECODE_TRUNCATED;

	size_t off = 12;
	uint16_t type = rd16(frame + off);

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
		return decode_ipv4(frame, off, len - off, out);
	case ETHERTYPE_IPV6:
		return decode_ipv6(frame, off, len - off, out);
	default:
		return DECODE_NOT_IP;
	}
}

/* An IP header at frame + off, its version from the first nibble. */
static enum decode_result
decode_l3(const uint8_t *frame, size_t off, size_t len, struct pkt_info *out)
{
	if (len <= off)
		return DECODE_TRUNCATED;
	switch (frame[off] >> 4) {
	case 4:
		return decode_ipv4(frame, off, len - off, out);
	case 6:
		return decode_ipv6(frame, off, len - off, out);
	default:
		return DECODE_NOT_IP;
	}
}

enum decode_result
decode_ip(const uint8_t *ip, size_t len, struct pkt_info *out)
{
	memset(out, 0, sizeof(*out));
	return decode_l3(ip, 0, len, out);
}

/* Address families a DLT_NULL header may name, in either byte order. */
static bool
null_family_is_ip(const uint8_t *h)
{
	uint32_t le = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
		      (uint32_t)h[3] << 24;
	uint32_t be = (uint32_t)h[3] | (uint32_t)h[2] << 8 | (uint32_t)h[1] << 16 |
		      (uint32_t)h[0] << 24;

	/* AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD, OpenBSD), 28
	 * (FreeBSD), 30 (macOS) */
	for (int i = 0; i < 2; i++) {
		uint32_t f = i == 0 ? le : be;

		if (f == 2 || f == 10 || f == 24 || f == 28 || f == 30)
			return true;
	}
	return false;
}

enum decode_result
decode_frame(enum decode_link link, const uint8_t *frame, size_t len, struct pkt_info *out)
{
	switch (link) {
	case DECODE_LINK_NULL:
		memset(out, 0, sizeof(*out));
		if (len < 4)
			return DECODE_TRUNCATED;
		return null_family_is_ip(frame) ? decode_l3(frame, 4, len, out) : DECODE_NOT_IP;
	case DECODE_LINK_RAW:
		memset(out, 0, sizeof(*out));
		return decode_l3(frame, 0, len, out);
	case DECODE_LINK_SLL: {
		memset(out, 0, sizeof(*out));
		if (len < 16)
			return DECODE_TRUNCATED;
		uint16_t proto = rd16(frame + 14);

		if (proto != ETHERTYPE_IPV4 && proto != ETHERTYPE_IPV6)
			return DECODE_NOT_IP;
		return decode_l3(frame, 16, len, out);
	}
	default:
		return decode_packet(frame, len, out);
	}
}

uint32_t
decode_tcp_pseudo_sum(int ip_version, const uint8_t src[16], const uint8_t dst[16], size_t seg)
{
	uint8_t pseudo[40] = { 0 };

	if (ip_version == 4) {
		memcpy(pseudo, src + 12, 4);
		memcpy(pseudo + 4, dst + 12, 4);
		pseudo[9] = IPPROTO_TCP_NUM;
		pseudo[10] = (uint8_t)(seg >> 8);
		pseudo[11] = (uint8_t)seg;
		return decode_csum_add(0, pseudo, 12);
	}
	memcpy(pseudo, src, 16);
	memcpy(pseudo + 16, dst, 16);
	pseudo[32] = (uint8_t)(seg >> 24);
	pseudo[33] = (uint8_t)(seg >> 16);
	pseudo[34] = (uint8_t)(seg >> 8);
	pseudo[35] = (uint8_t)seg;
	pseudo[39] = IPPROTO_TCP_NUM;
	return decode_csum_add(0, pseudo, 40);
}

bool
decode_tcp_csum_ok(const uint8_t *buf, size_t len, const struct pkt_info *p)
{
	size_t seg = (size_t)p->tcp_hlen + p->payload_len;
	const uint8_t *dst = p->dst;

	if (p->tcp_hlen < 20 || p->l4_off > len || seg > len - p->l4_off || p->l3_off > len)
		return false;
	if (p->payload != buf + p->l4_off + p->tcp_hlen)
		return false;
	if (p->ip_version == 6) {
		/* the final destination of a routing header, which the sender summed */
		if (p->v6_dst_off > len - p->l3_off || 16 > len - p->l3_off - p->v6_dst_off)
			return false;
		dst = buf + p->l3_off + p->v6_dst_off;
	} else if (p->ip_version != 4) {
		return false;
	}

	uint32_t sum = decode_tcp_pseudo_sum(p->ip_version, p->src, dst, seg);

	return decode_csum_fold(decode_csum_add(sum, buf + p->l4_off, seg)) == 0;
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
		[DECODE_BAD_IPV4_OPT] = "bad_ipv4_opt",
		[DECODE_BAD_IPV6_EXT] = "bad_ipv6_ext",
	};
	return (unsigned)r < DECODE__COUNT && names[r] != NULL ? names[r] : "unknown";
}

const char *
decode_anomaly_name(enum decode_anomaly a)
{
	static const char *const names[DECODE_AN__COUNT] = {
		[DECODE_AN_BAD_IP_CSUM] = "bad_ip_csum",
		[DECODE_AN_IPV4_OPTIONS] = "ipv4_options",
		[DECODE_AN_IPV4_SRCROUTE] = "ipv4_source_route",
		[DECODE_AN_IPV6_ATOMIC_FRAG] = "ipv6_atomic_fragment",
		[DECODE_AN_TCP_OPT_TRUNC] = "tcp_opt_truncated",
		[DECODE_AN_TCP_OPT_BAD_LEN] = "tcp_opt_bad_length",
		[DECODE_AN_TCP_OPT_DUP] = "tcp_opt_duplicate",
		[DECODE_AN_TCP_OPT_NOT_SYN] = "tcp_opt_not_syn",
		[DECODE_AN_TCP_WSCALE_BIG] = "tcp_wscale_too_big",
		[DECODE_AN_IPV4_LEN_ZERO] = "ipv4_length_zero",
	};
	_Static_assert(DECODE_AN__COUNT <= 32, "anomalies are bits of a uint32_t");
	return (unsigned)a < DECODE_AN__COUNT && names[a] != NULL ? names[a] : "unknown";
}
