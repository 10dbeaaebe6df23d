/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for dataplane/decode.c: every header kind, and every truncation of each frame. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
