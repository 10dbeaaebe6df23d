/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for dataplane/decode.c: every header kind, IPv4 and TCP options, checksums,
 * fragment descriptions, and every truncation of each frame (decoded from an exact-size copy so
 * that ASan catches any read past the end).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"

/* Build Ethernet [+ tags] + IPv4 + TCP with `payload`; returns the frame length. */
static size_t
build_v4(uint8_t *f, const uint16_t *tags, int n_tags, const char *payload, uint16_t frag)
{
	size_t off = 12, plen = strlen(payload);

	memset(f, 0, 14);
	for (int i = 0; i < n_tags; i++) {
		f[off] = i == 0 && n_tags == 2 ? 0x88 : 0x81;
		f[off + 1] = i == 0 && n_tags == 2 ? 0xa8 : 0x00;
		f[off + 2] = (uint8_t)(tags[i] >> 8);
		f[off + 3] = (uint8_t)tags[i];
		off += 4;
	}
	f[off] = 0x08;
	f[off + 1] = 0x00;
	off += 2;

	uint8_t *ip = f + off;
	size_t total = 20 + 20 + plen;
	memset(ip, 0, 40);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(total >> 8);
	ip[3] = (uint8_t)total;
	ip[6] = (uint8_t)(frag >> 8);
	ip[7] = (uint8_t)frag;
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, (uint8_t[]){ 10, 0, 0, 1 }, 4);
	memcpy(ip + 16, (uint8_t[]){ 10, 0, 0, 2 }, 4);

	uint8_t *tcp = ip + 20;
	tcp[0] = 0xc3; /* 50000 */
	tcp[1] = 0x50;
	tcp[3] = 25;
	tcp[4] = 0x01; /* seq 0x01020304 */
	tcp[5] = 0x02;
	tcp[6] = 0x03;
	tcp[7] = 0x04;
	tcp[12] = 5 << 4;
	tcp[13] = TCP_ACK | TCP_PSH;
	memcpy(tcp + 20, payload, plen);
	return off + total;
}

static void
test_ipv4_tcp(void **state)
{
	(void)state;
	uint8_t f[256];
	struct pkt_info p;
	size_t len = build_v4(f, NULL, 0, "EHLO x\r\n", 0);

	/* Ethernet padding after the IP packet must not become payload. */
	memset(f + len, 0xee, 10);
	assert_int_equal(decode_packet(f, len + 10, &p), DECODE_OK);
	assert_int_equal(p.ip_version, 4);
	assert_int_equal(p.sport, 50000);
	assert_int_equal(p.dport, 25);
	assert_int_equal(p.seq, 0x01020304);
	assert_int_equal(p.tcp_flags, TCP_ACK | TCP_PSH);
	assert_int_equal(p.payload_len, 8);
	assert_memory_equal(p.payload, "EHLO x\r\n", 8);
	assert_int_equal(p.src[10], 0xff);
	assert_int_equal(p.src[15], 1);
	assert_int_equal(p.dst[15], 2);
	assert_int_equal(p.n_vlans, 0);
}

/*
 * Other link types carry the same IPv4 packet after their own header: BSD loopback (the
 * family in either byte order, as DLT_NULL and DLT_LOOP write it), raw IP, Linux cooked.
 */
static void
test_link_types(void **state)
{
	(void)state;
	uint8_t eth[256], f[256];
	struct pkt_info p;
	size_t len = build_v4(eth, NULL, 0, "MAIL FROM:<a@b>\r\n", 0) - 14;
	static const struct {
		enum decode_link link;
		uint8_t head[16];
		size_t head_len;
		enum decode_result want;
	} cases[] = {
		{ DECODE_LINK_NULL, { 2, 0, 0, 0 }, 4, DECODE_OK },      /* little-endian host */
		{ DECODE_LINK_NULL, { 0, 0, 0, 2 }, 4, DECODE_OK },      /* DLT_LOOP */
		{ DECODE_LINK_NULL, { 30, 0, 0, 0 }, 4, DECODE_OK },     /* macOS AF_INET6 label */
		{ DECODE_LINK_NULL, { 7, 0, 0, 0 }, 4, DECODE_NOT_IP },  /* not an IP family */
		{ DECODE_LINK_RAW, { 0 }, 0, DECODE_OK },
		{ DECODE_LINK_SLL, { 0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00 }, 16,
		  DECODE_OK },
		{ DECODE_LINK_SLL, { 0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x06 }, 16,
		  DECODE_NOT_IP },                                        /* ARP */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(f, cases[i].head, cases[i].head_len);
		memcpy(f + cases[i].head_len, eth + 14, len);
		assert_int_equal(decode_frame(cases[i].link, f, cases[i].head_len + len, &p),
				 cases[i].want);
		if (cases[i].want != DECODE_OK)
			continue;
		assert_int_equal(p.dport, 25);
		assert_int_equal(p.payload_len, 17);
		assert_memory_equal(p.payload, "MAIL FROM:<a@b>\r\n", 17);
		/* every truncation of the link header is an error, never a read past it */
		for (size_t cut = 0; cut < cases[i].head_len + 20; cut++)
			assert_int_not_equal(decode_frame(cases[i].link, f, cut, &p), DECODE_OK);
	}
	/* Ethernet is decode_packet itself */
	assert_int_equal(decode_frame(DECODE_LINK_ETHERNET, eth, len + 14, &p), DECODE_OK);
	assert_int_equal(p.payload_len, 17);
}

/*
 * A TSO/GSO frame captured on its sending host has IPv4 total length 0: the frame's length is
 * taken, and flagged. A short frame with length 0 is still malformed (its tail may be
 * Ethernet padding, not payload).
 */
static void
test_ipv4_length_zero(void **state)
{
	(void)state;
	static const char body[] = "From: a@b\r\nSubject: a TSO frame long enough\r\n";
	uint8_t f[256];
	struct pkt_info p;
	size_t len = build_v4(f, NULL, 0, body, 0);

	f[14 + 2] = 0;
	f[14 + 3] = 0;
	assert_int_equal(decode_packet(f, len, &p), DECODE_OK);
	assert_int_equal(p.payload_len, strlen(body));
	assert_true(p.anomalies & (1u << DECODE_AN_IPV4_LEN_ZERO));

	len = build_v4(f, NULL, 0, "x", 0);
	f[14 + 2] = 0;
	f[14 + 3] = 0;
	memset(f + len, 0, 60 - len); /* padded to the Ethernet minimum */
	assert_int_equal(decode_packet(f, 60, &p), DECODE_BAD_IPV4);
}

static void
test_vlan_and_qinq(void **state)
{
	(void)state;
	uint8_t f[256];
	struct pkt_info p;
	uint16_t one[] = { 100 };
	uint16_t two[] = { 200, 300 };
	uint16_t three[] = { 1, 2, 3 };

	assert_int_equal(decode_packet(f, build_v4(f, one, 1, "x", 0), &p), DECODE_OK);
	assert_int_equal(p.n_vlans, 1);
	assert_int_equal(p.vlan[0], 100);
	assert_int_equal(decode_packet(f, build_v4(f, two, 2, "x", 0), &p), DECODE_OK);
	assert_int_equal(p.n_vlans, 2);
	assert_int_equal(p.vlan[0], 200);
	assert_int_equal(p.vlan[1], 300);
	assert_int_equal(decode_packet(f, build_v4(f, three, 3, "x", 0), &p), DECODE_BAD_L2);
}

static void
test_fragments_are_reported(void **state)
{
	(void)state;
	uint8_t f[256];
	struct pkt_info p;

	assert_int_equal(decode_packet(f, build_v4(f, NULL, 0, "x", 0x2000), &p), DECODE_FRAGMENT);
	assert_int_equal(decode_packet(f, build_v4(f, NULL, 0, "x", 0x0010), &p), DECODE_FRAGMENT);
	/* DF alone is not a fragment */
	assert_int_equal(decode_packet(f, build_v4(f, NULL, 0, "x", 0x4000), &p), DECODE_OK);
}

static void
test_every_truncation_is_an_error(void **state)
{
	(void)state;
	uint8_t f[256];
	struct pkt_info p;
	uint16_t tags[] = { 7, 8 };
	size_t len = build_v4(f, tags, 2, "MAIL FROM:<a@b>\r\n", 0);

	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(decode_packet(f, cut, &p), DECODE_TRUNCATED);
	assert_int_equal(decode_packet(f, len, &p), DECODE_OK);
}

static void
test_bad_headers(void **state)
{
	(void)state;
	uint8_t f[256];
	struct pkt_info p;
	size_t len = build_v4(f, NULL, 0, "abc", 0);

	f[14] = 0x44; /* IHL 4: shorter than the minimum */
	assert_int_equal(decode_packet(f, len, &p), DECODE_BAD_IPV4);
	build_v4(f, NULL, 0, "abc", 0);
	f[14 + 20 + 12] = 4 << 4; /* TCP data offset 16 bytes */
	assert_int_equal(decode_packet(f, len, &p), DECODE_BAD_TCP);
	build_v4(f, NULL, 0, "abc", 0);
	f[14 + 20 + 12] = 15 << 4; /* 60 bytes: beyond the segment */
	assert_int_equal(decode_packet(f, len, &p), DECODE_BAD_TCP);
	build_v4(f, NULL, 0, "abc", 0);
	f[14 + 9] = 17; /* UDP */
	assert_int_equal(decode_packet(f, len, &p), DECODE_NOT_TCP);
	f[12] = 0x08;
	f[13] = 0x06; /* ARP */
	assert_int_equal(decode_packet(f, len, &p), DECODE_NOT_IP);
}

/* IPv6 + hop-by-hop + destination options + TCP */
static size_t
build_v6(uint8_t *f, bool fragment)
{
	static const char payload[] = "QUIT\r\n";
	size_t plen = 8 + 16 + 20 + sizeof(payload) - 1;
	uint8_t *ip = f + 14;

	memset(f, 0, 14 + 40 + plen);
	f[12] = 0x86;
	f[13] = 0xdd;
	ip[0] = 0x60;
	ip[4] = (uint8_t)(plen >> 8);
	ip[5] = (uint8_t)plen;
	ip[6] = 0; /* hop-by-hop */
	ip[8] = 0x20;
	ip[8 + 15] = 1;
	ip[24] = 0x20;
	ip[24 + 15] = 2;

	uint8_t *ext = ip + 40;
	ext[0] = fragment ? 44 : 60;
	ext[1] = 0; /* 8 bytes */
	ext += 8;
	ext[0] = 6;
	ext[1] = 1; /* 16 bytes */
	if (fragment)
		ext[3] = 1; /* M: a real fragment; offset 0 and M clear is atomic (RFC 6946) */
	uint8_t *tcp = ext + 16;
	tcp[1] = 99;
	tcp[3] = 25;
	tcp[12] = 5 << 4;
	tcp[13] = TCP_ACK;
	memcpy(tcp + 20, payload, sizeof(payload) - 1);
	return 14 + 40 + plen;
}

static void
test_ipv6_extension_chain(void **state)
{
	(void)state;
	uint8_t f[256];
	struct pkt_info p;
	size_t len = build_v6(f, false);

	assert_int_equal(decode_packet(f, len, &p), DECODE_OK);
	assert_int_equal(p.ip_version, 6);
	assert_int_equal(p.sport, 99);
	assert_int_equal(p.payload_len, 6);
	assert_memory_equal(p.payload, "QUIT\r\n", 6);
	assert_int_equal(p.src[0], 0x20);
	assert_int_equal(p.dst[15], 2);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_not_equal(decode_packet(f, cut, &p), DECODE_OK);
	assert_int_equal(decode_packet(f, build_v6(f, true), &p), DECODE_FRAGMENT);
}

/* ---- hardening: checksums, options, fragments, exact-size buffers ---- */

/* Reference Internet checksum, written independently of decode_csum_*(). */
static uint16_t
ref_csum(const uint8_t *pseudo, size_t plen, const uint8_t *p, size_t len)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < plen; i += 2)
		sum += (uint32_t)pseudo[i] << 8 | pseudo[i + 1];
	for (size_t i = 0; i < len; i++)
		sum += i % 2 == 0 ? (uint32_t)p[i] << 8 : p[i];
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* TCP header (+ options, padded with NOPs to 4 bytes) + payload at `tcp`; returns its length. */
static size_t
put_tcp(uint8_t *tcp, const uint8_t *opt, size_t opt_len, uint8_t flags, const char *payload)
{
	size_t olen = (opt_len + 3) / 4 * 4, plen = strlen(payload);

	memset(tcp, 0, 20);
	put16(tcp, 40001);
	put16(tcp + 2, 25);
	tcp[4] = 0xa0;
	tcp[7] = 0x01;
	tcp[12] = (uint8_t)((20 + olen) / 4 << 4);
	tcp[13] = flags;
	put16(tcp + 14, 29200);
	memset(tcp + 20, 1, olen);
	if (opt_len > 0)
		memcpy(tcp + 20, opt, opt_len);
	memcpy(tcp + 20 + olen, payload, plen);
	return 20 + olen + plen;
}

/* Ethernet + IPv4 (+ options) + TCP (+ options), both checksums right. */
static size_t
build4(uint8_t *f, const uint8_t *ipopt, size_t ipopt_len, const uint8_t *tcpopt,
       size_t tcpopt_len, uint8_t flags, const char *payload)
{
	uint8_t *ip = f + 14;
	size_t hlen = 20 + ipopt_len;
	uint8_t pseudo[12] = { 10, 0, 0, 1, 10, 0, 0, 2, 0, 6 };

	memset(f, 0, 14);
	f[12] = 0x08;
	memset(ip, 0, 20);
	ip[0] = (uint8_t)(0x40 | hlen / 4);
	ip[5] = 0x42;
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, pseudo, 8);
	if (ipopt_len > 0)
		memcpy(ip + 20, ipopt, ipopt_len);

	size_t seg = put_tcp(ip + hlen, tcpopt, tcpopt_len, flags, payload);

	put16(ip + 2, (uint16_t)(hlen + seg));
	put16(ip + 10, ref_csum(NULL, 0, ip, hlen));
	put16(pseudo + 10, (uint16_t)seg);
	put16(ip + hlen + 16, ref_csum(pseudo, 12, ip + hlen, seg));
	return 14 + hlen + seg;
}

static const uint8_t v6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t v6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

/*
 * Ethernet + IPv6 + `ext` (a ready-made extension chain whose last next-header is TCP) + TCP;
 * the TCP checksum uses `csum_dst` (the final destination).
 */
static size_t
build6(uint8_t *f, uint8_t first_nh, const uint8_t *ext, size_t ext_len, const uint8_t *csum_dst,
       const char *payload)
{
	uint8_t *ip = f + 14;
	uint8_t pseudo[40] = { 0 };

	memset(f, 0, 14);
	f[12] = 0x86;
	f[13] = 0xdd;
	memset(ip, 0, 40);
	ip[0] = 0x60;
	ip[6] = first_nh;
	ip[7] = 64;
	memcpy(ip + 8, v6_src, 16);
	memcpy(ip + 24, v6_dst, 16);
	memcpy(ip + 40, ext, ext_len);

	size_t seg = put_tcp(ip + 40 + ext_len, NULL, 0, TCP_ACK | TCP_PSH, payload);

	put16(ip + 4, (uint16_t)(ext_len + seg));
	memcpy(pseudo, v6_src, 16);
	memcpy(pseudo + 16, csum_dst != NULL ? csum_dst : v6_dst, 16);
	put16(pseudo + 34, (uint16_t)seg);
	pseudo[39] = 6;
	put16(ip + 40 + ext_len + 16, ref_csum(pseudo, 40, ip + 40 + ext_len, seg));
	return 14 + 40 + ext_len + seg;
}

static void
test_ipv4_options_accepted(void **state)
{
	(void)state;
	uint8_t f[256];
	struct pkt_info p;
	/* NOP NOP record-route(7) EOL pad: IHL 8 */
	static const uint8_t rr[12] = { 1, 1, 7, 7, 4, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t lsrr[8] = { 131, 7, 4, 10, 0, 0, 9, 0 };
	uint8_t nops[40];
	size_t len = build4(f, rr, sizeof(rr), NULL, 0, TCP_ACK, "RCPT TO:<a@b>\r\n");

	assert_int_equal(decode_packet(f, len, &p), DECODE_OK);
	assert_false(p.bad_ip_csum);
	assert_int_equal(p.l3_off, 14);
	assert_int_equal(p.l4_off, 14 + 32);
	assert_int_equal(p.payload_len, 15);
	assert_memory_equal(p.payload, "RCPT TO:<a@b>\r\n", 15);
	assert_true(p.anomalies & (1u << DECODE_AN_IPV4_OPTIONS));
	assert_false(p.anomalies & (1u << DECODE_AN_IPV4_SRCROUTE));
	assert_true(decode_tcp_csum_ok(f, len, &p));

	len = build4(f, lsrr, sizeof(lsrr), NULL, 0, TCP_ACK, "x");
	assert_int_equal(decode_packet(f, len, &p), DECODE_OK);
	assert_true(p.anomalies & (1u << DECODE_AN_IPV4_SRCROUTE));

	memset(nops, 1, sizeof(nops)); /* IHL 15, the maximum */
	len = build4(f, nops, sizeof(nops), NULL, 0, TCP_ACK, "DATA\r\n");
	assert_int_equal(decode_packet(f, len, &p), DECODE_OK);
	assert_int_equal(p.l4_off, 14 + 60);
	assert_memory_equal(p.payload, "DATA\r\n", 6);
	assert_true(decode_tcp_csum_ok(f, len, &p));
}

static void
test_ipv4_bad_options_dropped(void **state)
{
	(void)state;
	static const uint8_t bad[][4] = {
		{ 7, 0, 0, 0 },   /* length 0 */
		{ 7, 1, 0, 0 },   /* length 1 */
		{ 7, 5, 4, 0 },   /* runs past the 4 option bytes */
		{ 1, 1, 1, 68 },  /* type in the last byte, no length */
	};
	uint8_t f[256];
	struct pkt_info p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = build4(f, bad[i], 4, NULL, 0, TCP_ACK, "x");

		assert_int_equal(decode_packet(f, len, &p), DECODE_BAD_IPV4_OPT);
	}
	/* an unknown but well-formed option is fine */
	assert_int_equal(decode_packet(f, build4(f, (const uint8_t[]){ 30, 4, 0, 0 }, 4, NULL, 0,
						   TCP_ACK, "x"), &p), DECODE_OK);
}

static void
test_bad_ip_checksum_flagged(void **state)
{
	(void)state;
	uint8_t f[256];
	struct pkt_info p;
	size_t len = build4(f, NULL, 0, NULL, 0, TCP_ACK, "QUIT\r\n");

	assert_int_equal(decode_packet(f, len, &p), DECODE_OK);
	assert_false(p.bad_ip_csum);
	assert_int_equal(p.anomalies, 0);
	f[14 + 11] ^= 0x01;
	assert_int_equal(decode_packet(f, len, &p), DECODE_OK); /* still decoded */
	assert_true(p.bad_ip_csum);
	assert_int_equal(p.anomalies, 1u << DECODE_AN_BAD_IP_CSUM);
	assert_memory_equal(p.payload, "QUIT\r\n", 6);
	/* the TCP checksum does not cover the IP header */
	assert_true(decode_tcp_csum_ok(f, len, &p));

	/* a fragment with a bad header checksum is flagged too */
	len = build4(f, NULL, 0, NULL, 0, TCP_ACK, "QUIT\r\n");
	f[14 + 6] = 0x20;
	assert_int_equal(decode_packet(f, len, &p), DECODE_FRAGMENT);
	assert_true(p.bad_ip_csum);
}

static void
test_csum_helpers(void **state)
{
	(void)state;
	/* the classic example header, checksum 0xb861 */
	uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			  0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };

	assert_int_equal(decode_csum_fold(decode_csum_add(0, h, 20)), 0xb861);
	h[10] = 0xb8;
	h[11] = 0x61;
	assert_int_equal(decode_csum_fold(decode_csum_add(0, h, 20)), 0);
	/* odd length: the last byte is the high half of a word */
	assert_int_equal(decode_csum_add(0, (const uint8_t[]){ 0x12 }, 1), 0x1200);
}

static void
test_tcp_options_syn(void **state)
{
	(void)state;
	static const uint8_t opt[] = {
		2, 4, 0x05, 0xb4,               /* MSS 1460 */
		4, 2,                           /* SACK permitted */
		8, 10, 0, 0, 0x12, 0x34, 0, 0, 0, 0x07, /* TS 0x1234, 7 */
		1,                              /* NOP */
		3, 3, 7,                        /* WS 7 */
	};
	uint8_t f[256];
	struct pkt_info p;
	size_t len = build4(f, NULL, 0, opt, sizeof(opt), TCP_SYN, "");

	assert_int_equal(decode_packet(f, len, &p), DECODE_OK);
	assert_int_equal(p.tcp_hlen, 40);
	assert_int_equal(p.payload_len, 0);
	assert_int_equal(p.tcp_opt.present,
			 TCP_OPT_MSS | TCP_OPT_SACK_PERM | TCP_OPT_TIMESTAMP | TCP_OPT_WSCALE);
	assert_int_equal(p.tcp_opt.mss, 1460);
	assert_int_equal(p.tcp_opt.wscale, 7);
	assert_int_equal(p.tcp_opt.ts_val, 0x1234);
	assert_int_equal(p.tcp_opt.ts_ecr, 7);
	assert_int_equal(p.anomalies, 0);
	assert_true(decode_tcp_csum_ok(f, len, &p));
}

static enum decode_result decode_exact(const uint8_t *f, size_t cut, struct pkt_info *p,
				       bool from_ip);

struct opt_case {
	const char *what;
	uint8_t opt[16];
	size_t len;
	uint8_t flags;
	uint8_t present;
	uint32_t anomalies;
};

static void
test_tcp_options_malformed(void **state)
{
	(void)state;
	static const struct opt_case cases[] = {
		{ "MSS outside SYN", { 2, 4, 5, 0xb4 }, 4, TCP_ACK, 0,
		  1u << DECODE_AN_TCP_OPT_NOT_SYN },
		{ "TS outside SYN is fine", { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2 }, 12, TCP_ACK,
		  TCP_OPT_TIMESTAMP, 0 },
		{ "MSS length 3", { 2, 3, 5, 1 }, 4, TCP_SYN, 0, 1u << DECODE_AN_TCP_OPT_BAD_LEN },
		{ "length 0 stops", { 30, 0, 2, 4, 5, 0xb4, 1, 1 }, 8, TCP_SYN, 0,
		  1u << DECODE_AN_TCP_OPT_BAD_LEN },
		{ "runs past the header", { 1, 1, 2, 4, 5, 0xb4, 30, 6 }, 8, TCP_SYN, TCP_OPT_MSS,
		  1u << DECODE_AN_TCP_OPT_TRUNC },
		{ "kind in the last byte", { 1, 1, 1, 2 }, 4, TCP_SYN, 0,
		  1u << DECODE_AN_TCP_OPT_TRUNC },
		{ "one byte past", { 1, 1, 30, 3 }, 4, TCP_SYN, 0, 1u << DECODE_AN_TCP_OPT_TRUNC },
		{ "MSS one byte past", { 1, 2, 4, 5 }, 4, TCP_SYN, 0,
		  1u << DECODE_AN_TCP_OPT_TRUNC },
		{ "WS 15 clamped", { 3, 3, 15, 1 }, 4, TCP_SYN, TCP_OPT_WSCALE,
		  1u << DECODE_AN_TCP_WSCALE_BIG },
		{ "MSS twice", { 2, 4, 5, 0xb4, 2, 4, 2, 0x18 }, 8, TCP_SYN, TCP_OPT_MSS,
		  1u << DECODE_AN_TCP_OPT_DUP },
		{ "after EOL ignored", { 0, 2, 0, 0 }, 4, TCP_SYN, 0, 0 },
		{ "SACK longer than the header",
		  { 1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3 }, 16, TCP_ACK, 0, 1u << DECODE_AN_TCP_OPT_TRUNC }, /* 18 > 14 left */
		{ "SACK odd length", { 1, 1, 5, 6, 0, 0, 0, 1 }, 8, TCP_ACK, 0,
		  1u << DECODE_AN_TCP_OPT_BAD_LEN },
	};
	uint8_t f[256];
	struct pkt_info p;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct opt_case *c = &cases[i];
		size_t len = build4(f, NULL, 0, c->opt, c->len, c->flags, "hi");

		print_message("%s\n", c->what);
		assert_int_equal(decode_packet(f, len, &p), DECODE_OK);
		assert_int_equal(p.tcp_opt.present, c->present);
		assert_int_equal(p.anomalies, c->anomalies);
		assert_memory_equal(p.payload, "hi", 2);
		/* the header ends the buffer: ASan sees any option read past it */
		len = build4(f, NULL, 0, c->opt, c->len, c->flags, "");
		assert_int_equal(decode_exact(f, len, &p, false), DECODE_OK);
		assert_int_equal(p.anomalies, c->anomalies);
	}
	/* values: the last MSS counts (as in Linux), the clamped WS is 14 */
	static const uint8_t two_mss[] = { 2, 4, 5, 0xb4, 2, 4, 2, 0x18 };
	static const uint8_t big_ws[] = { 3, 3, 15, 1 };
	decode_packet(f, build4(f, NULL, 0, two_mss, sizeof(two_mss), TCP_SYN, ""), &p);
	assert_int_equal(p.tcp_opt.mss, 0x218);
	decode_packet(f, build4(f, NULL, 0, big_ws, sizeof(big_ws), TCP_SYN, ""), &p);
	assert_int_equal(p.tcp_opt.wscale, 14);
	/* a SACK block that fits */
	static const uint8_t sack[] = { 1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2 };
	decode_packet(f, build4(f, NULL, 0, sack, sizeof(sack), TCP_ACK, ""), &p);
	assert_int_equal(p.tcp_opt.present, TCP_OPT_SACK);
	assert_int_equal(p.tcp_opt.n_sack_blocks, 1);
}

static void
test_tcp_checksum(void **state)
{
	(void)state;
	uint8_t f[512];
	struct pkt_info p;
	static const uint8_t opt[] = { 2, 4, 5, 0xb4 };
	size_t len = build4(f, NULL, 0, opt, 4, TCP_SYN, "EHLO odd-length\r\n!");

	assert_int_equal(decode_packet(f, len, &p), DECODE_OK);
	assert_true(decode_tcp_csum_ok(f, len, &p));
	f[len - 1] ^= 0x20;
	assert_false(decode_tcp_csum_ok(f, len, &p));
	f[len - 1] ^= 0x20;
	/* a pkt_info that does not fit the buffer is refused, not read past */
	assert_false(decode_tcp_csum_ok(f, len - 1, &p));
	struct pkt_info q = p;
	q.payload_len = 100000;
	assert_false(decode_tcp_csum_ok(f, len, &q));

	/* IPv6 with a destination options header */
	static const uint8_t dopt[8] = { 6, 0, 1, 4, 0, 0, 0, 0 };
	len = build6(f, 60, dopt, sizeof(dopt), NULL, "MAIL FROM:<x@y>\r\n");
	assert_int_equal(decode_packet(f, len, &p), DECODE_OK);
	assert_true(decode_tcp_csum_ok(f, len, &p));
	f[len - 3] ^= 0xff;
	assert_false(decode_tcp_csum_ok(f, len, &p));

	/* IPv6 routing header type 2 with segments left: the pseudo-header uses its address */
	uint8_t rh[24] = { 6, 2, 2, 1 };
	static const uint8_t home[16] = { 0xfd, [15] = 9 };
	memcpy(rh + 8, home, 16);
	len = build6(f, 43, rh, sizeof(rh), home, "RSET\r\n");
	assert_int_equal(decode_packet(f, len, &p), DECODE_OK);
	assert_int_equal(p.v6_dst_off, 40 + 8);
	assert_true(decode_tcp_csum_ok(f, len, &p));
	/* with no segments left the header's destination is final */
	rh[3] = 0;
	len = build6(f, 43, rh, sizeof(rh), NULL, "RSET\r\n");
	assert_int_equal(decode_packet(f, len, &p), DECODE_OK);
	assert_true(decode_tcp_csum_ok(f, len, &p));
}

static void
test_fragment_fields(void **state)
{
	(void)state;
	uint8_t f[256];
	struct pkt_info p;
	static const uint8_t opt[4] = { 1, 1, 1, 0 };
	size_t len = build4(f, opt, 4, NULL, 0, TCP_ACK, "0123456789abcdef");

	f[14 + 6] = 0x20 | 0x00; /* MF, offset 3 * 8 */
	f[14 + 7] = 3;
	assert_int_equal(decode_packet(f, len, &p), DECODE_FRAGMENT);
	assert_int_equal(p.frag.id, 0x42);
	assert_int_equal(p.frag.offset, 24);
	assert_true(p.frag.more);
	assert_int_equal(p.frag.proto, 6);
	assert_int_equal(p.frag.hdr_len, 24);
	assert_int_equal(p.frag.data_off, 24);
	assert_int_equal(p.frag.data_len, 20 + 16);
	assert_int_equal(p.l3_off, 14);
	assert_int_equal(p.l3_len, 24 + 36);
	f[14 + 9] = 17; /* a UDP fragment is not ours */
	assert_int_equal(decode_packet(f, len, &p), DECODE_NOT_TCP);

	/* IPv6: hop-by-hop, fragment (offset 16, M, id 0xdeadbeef) */
	static const uint8_t ext[16] = { 44, 0, 0, 0, 0, 0, 0, 0,
					 6, 0, 0x00, 0x11, 0xde, 0xad, 0xbe, 0xef };
	len = build6(f, 0, ext, sizeof(ext), NULL, "abcdefgh");
	assert_int_equal(decode_packet(f, len, &p), DECODE_FRAGMENT);
	assert_int_equal(p.frag.id, 0xdeadbeef);
	assert_int_equal(p.frag.offset, 16);
	assert_true(p.frag.more);
	assert_int_equal(p.frag.proto, 6);
	assert_int_equal(p.frag.hdr_len, 48);
	assert_int_equal(p.frag.nh_off, 40);
	assert_int_equal(p.frag.data_off, 56);
	assert_int_equal(p.frag.data_len, 28);
	assert_int_equal(p.l3_len, 40 + 16 + 28);

	uint8_t udp[16];
	memcpy(udp, ext, 16);
	udp[8] = 17;
	len = build6(f, 0, udp, sizeof(udp), NULL, "abcdefgh");
	assert_int_equal(decode_packet(f, len, &p), DECODE_NOT_TCP);

	/* atomic fragment (offset 0, M clear): a whole packet */
	uint8_t atomic[16];
	memcpy(atomic, ext, 16);
	atomic[11] = 0;
	len = build6(f, 0, atomic, sizeof(atomic), NULL, "abcdefgh");
	assert_int_equal(decode_packet(f, len, &p), DECODE_OK);
	assert_true(p.anomalies & (1u << DECODE_AN_IPV6_ATOMIC_FRAG));
	assert_memory_equal(p.payload, "abcdefgh", 8);
	assert_true(decode_tcp_csum_ok(f, len, &p));
}

static void
test_ipv6_extension_limits(void **state)
{
	(void)state;
	uint8_t f[512], ext[128];
	struct pkt_info p;
	size_t len;

	/* eight destination options headers, then TCP: the bound is inclusive */
	memset(ext, 0, sizeof(ext));
	for (int i = 0; i < 8; i++)
		ext[i * 8] = i == 7 ? 6 : 60;
	len = build6(f, 60, ext, 64, NULL, "x");
	assert_int_equal(decode_packet(f, len, &p), DECODE_OK);
	/* nine is too many */
	for (int i = 0; i < 9; i++)
		ext[i * 8] = i == 8 ? 6 : 60;
	len = build6(f, 60, ext, 72, NULL, "x");
	assert_int_equal(decode_packet(f, len, &p), DECODE_BAD_IPV6_EXT);
	/* hop-by-hop after another header */
	memset(ext, 0, sizeof(ext));
	ext[0] = 0;
	ext[8] = 6;
	len = build6(f, 60, ext, 16, NULL, "x");
	assert_int_equal(decode_packet(f, len, &p), DECODE_BAD_IPV6_EXT);
	/* an extension header longer than the payload */
	ext[0] = 6;
	ext[1] = 200;
	len = build6(f, 60, ext, 8, NULL, "x");
	assert_int_equal(decode_packet(f, len, &p), DECODE_BAD_IPV6);
	/* AH: length in 4-byte words minus 2 */
	memset(ext, 0, sizeof(ext));
	ext[0] = 6;
	ext[1] = 4; /* 24 bytes */
	len = build6(f, 51, ext, 24, NULL, "AUTH PLAIN\r\n");
	assert_int_equal(decode_packet(f, len, &p), DECODE_OK);
	assert_memory_equal(p.payload, "AUTH PLAIN\r\n", 12);
}

/* Decode a copy of exactly `cut` bytes, so that ASan sees any read past the end. */
static enum decode_result
decode_exact(const uint8_t *f, size_t cut, struct pkt_info *p, bool from_ip)
{
	uint8_t *copy = malloc(cut > 0 ? cut : 1);
	enum decode_result r;

	assert_non_null(copy);
	memcpy(copy, f, cut);
	r = from_ip ? decode_ip(copy, cut, p) : decode_packet(copy, cut, p);
	if (r == DECODE_OK) {
		assert_true(p->payload >= copy && p->payload + p->payload_len <= copy + cut);
		(void)decode_tcp_csum_ok(copy, cut, p);
	}
	if (r == DECODE_FRAGMENT)
		assert_true(p->l3_off + p->frag.data_off + p->frag.data_len <= cut);
	free(copy);
	return r;
}

static void
test_every_truncation_exact_buffer(void **state)
{
	(void)state;
	static const uint8_t ipopt[8] = { 1, 7, 3, 4, 0, 1, 1, 0 };
	static const uint8_t tcpopt[] = { 2, 4, 5, 0xb4, 1, 3, 3, 7,
					  8, 10, 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t ext[16] = { 44, 0, 0, 0, 0, 0, 0, 0,
					 6, 0, 0x00, 0x11, 0xde, 0xad, 0xbe, 0xef };
	static const uint8_t dopt[16] = { 6, 1, 1, 12 };
	uint8_t frames[4][256];
	size_t lens[4];
	struct pkt_info p;

	lens[0] = build4(frames[0], ipopt, 8, tcpopt, sizeof(tcpopt), TCP_SYN, "EHLO a\r\n");
	lens[1] = build6(frames[1], 60, dopt, sizeof(dopt), NULL, "EHLO b\r\n");
	lens[2] = build6(frames[2], 0, ext, sizeof(ext), NULL, "01234567");
	lens[3] = build4(frames[3], NULL, 0, NULL, 0, TCP_ACK, "01234567");
	frames[3][14 + 6] = 0x20;
	for (int i = 0; i < 4; i++) {
		enum decode_result full = decode_exact(frames[i], lens[i], &p, false);

		assert_int_equal(full, i >= 2 ? DECODE_FRAGMENT : DECODE_OK);
		for (size_t cut = 0; cut < lens[i]; cut++) {
			assert_int_equal(decode_exact(frames[i], cut, &p, false), DECODE_TRUNCATED);
			if (cut >= 14)
				assert_int_equal(decode_exact(frames[i] + 14, cut - 14, &p, true),
						 DECODE_TRUNCATED);
		}
		assert_int_equal(decode_exact(frames[i] + 14, lens[i] - 14, &p, true), full);
	}
}

static void
test_decode_ip_matches_decode_packet(void **state)
{
	(void)state;
	uint8_t f[256];
	struct pkt_info a, b;
	static const uint8_t tcpopt[] = { 8, 10, 1, 2, 3, 4, 5, 6, 7, 8 };
	size_t len = build4(f, NULL, 0, tcpopt, sizeof(tcpopt), TCP_ACK, "DATA\r\n");

	assert_int_equal(decode_packet(f, len, &a), DECODE_OK);
	assert_int_equal(decode_ip(f + 14, len - 14, &b), DECODE_OK);
	assert_int_equal(b.l3_off, 0);
	assert_int_equal(b.l4_off + 14, a.l4_off);
	assert_ptr_equal(a.payload, b.payload);
	assert_int_equal(a.payload_len, b.payload_len);
	assert_int_equal(a.seq, b.seq);
	assert_int_equal(a.tcp_opt.ts_val, b.tcp_opt.ts_val);
	assert_memory_equal(a.src, b.src, 16);
	assert_true(decode_tcp_csum_ok(f + 14, len - 14, &b));
	assert_int_equal(decode_ip((const uint8_t[]){ 0x50 }, 1, &b), DECODE_NOT_IP);
	assert_int_equal(decode_ip(f, 0, &b), DECODE_TRUNCATED);
}

static void
test_names_complete(void **state)
{
	(void)state;
	for (int r = 0; r < DECODE__COUNT; r++) {
		const char *n = decode_result_name((enum decode_result)r);

		assert_non_null(n);
		assert_string_not_equal(n, "unknown");
		for (int s = 0; s < r; s++)
			assert_string_not_equal(n, decode_result_name((enum decode_result)s));
	}
	for (int a = 0; a < DECODE_AN__COUNT; a++) {
		const char *n = decode_anomaly_name((enum decode_anomaly)a);

		assert_non_null(n);
		assert_string_not_equal(n, "unknown");
		for (int s = 0; s < a; s++)
			assert_string_not_equal(n, decode_anomaly_name((enum decode_anomaly)s));
	}
	assert_string_equal(decode_result_name(DECODE__COUNT), "unknown");
	assert_string_equal(decode_anomaly_name(DECODE_AN__COUNT), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_tcp),
		cmocka_unit_test(test_vlan_and_qinq),
		cmocka_unit_test(test_fragments_are_reported),
		cmocka_unit_test(test_every_truncation_is_an_error),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_ipv6_extension_chain),
		cmocka_unit_test(test_ipv4_options_accepted),
		cmocka_unit_test(test_ipv4_bad_options_dropped),
		cmocka_unit_test(test_bad_ip_checksum_flagged),
		cmocka_unit_test(test_csum_helpers),
		cmocka_unit_test(test_tcp_options_syn),
		cmocka_unit_test(test_tcp_options_malformed),
		cmocka_unit_test(test_tcp_checksum),
		cmocka_unit_test(test_fragment_fields),
		cmocka_unit_test(test_ipv6_extension_limits),
		cmocka_unit_test(test_every_truncation_exact_buffer),
		cmocka_unit_test(test_decode_ip_matches_decode_packet),
		cmocka_unit_test(test_link_types),
		cmocka_unit_test(test_ipv4_length_zero),
		cmocka_unit_test(test_names_complete),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
