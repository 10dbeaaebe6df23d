/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for dataplane/tcp_inject.c: the frames an inline dataplane sends when it blocks,
 * decoded back with decode_packet, which must find them valid TCP (both checksums right) on
 * the same link (MACs swapped or kept, VLAN tags kept) with the addresses, ports, numbers,
 * flags and payload asked for.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "tcp_inject.h"

static const uint8_t client_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t server_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };

/* A client-to-server frame carrying ".\r\nQUIT\r\n", with any number of VLAN tags. */
static size_t
client_frame(uint8_t *f, int version, unsigned n_vlans)
{
	static const char data[] = ".\r\nQUIT\r\n";
	size_t n = 0, ip;

	memcpy(f, server_mac, 6);
	memcpy(f + 6, client_mac, 6);
	n = 12;
	for (unsigned i = 0; i < n_vlans; i++) {
		f[n++] = i == 0 && n_vlans == 2 ? 0x88 : 0x81;
		f[n++] = i == 0 && n_vlans == 2 ? 0xa8 : 0x00;
		f[n++] = 0x00;
		f[n++] = (uint8_t)(10 + i);
	}
	f[n++] = version == 4 ? 0x08 : 0x86;
	f[n++] = version == 4 ? 0x00 : 0xdd;
	ip = n;
	if (version == 4) {
		static const uint8_t h[20] = { 0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0,
					       10, 98, 0, 1, 10, 98, 0, 2 };
		memcpy(f + n, h, 20);
		n += 20;
	} else {
		memset(f + n, 0, 40);
		f[n] = 0x60;
		f[n + 6] = 6;
		f[n + 7] = 64;
		f[n + 8] = 0xfd;
		f[n + 23] = 1;
		f[n + 24] = 0xfd;
		f[n + 39] = 2;
		n += 40;
	}
	static const uint8_t tcp[20] = { 0x9c, 0x40, 0x00, 0x19, 0x11, 0x22, 0x33, 0x44,
					 0x55, 0x66, 0x77, 0x88, 0x50, 0x18, 0xfa, 0xf0 };
	memcpy(f + n, tcp, 20);
	n += 20;
	memcpy(f + n, data, sizeof(data) - 1);
	n += sizeof(data) - 1;
	if (version == 4) {
		f[ip + 2] = (uint8_t)((n - ip) >> 8);
		f[ip + 3] = (uint8_t)(n - ip);
	} else {
		f[ip + 5] = (uint8_t)(n - ip - 40);
	}
	return n;
}

static void
check_built(int version, unsigned n_vlans, enum tcp_inject_dir dir)
{
	static const char reply[] = "550 5.7.1 Message refused by policy\r\n";
	uint8_t frame[256], out[TCP_INJECT_MAX(sizeof(reply))];
	struct pkt_info p, q;
	size_t len = client_frame(frame, version, n_vlans);
	struct tcp_inject t = {
		.dir = dir, .seq = 0xfffffff0u, .ack = 0x11223344u + 9,
		.flags = dir == TCP_INJECT_REPLY ? TCP_ACK | TCP_PSH : TCP_RST | TCP_ACK,
		.window = 512,
		.payload = dir == TCP_INJECT_REPLY ? reply : NULL,
		.payload_len = dir == TCP_INJECT_REPLY ? sizeof(reply) - 1 : 0,
	};

	assert_int_equal(decode_packet(frame, len, &p), DECODE_OK);
	int n = tcp_inject_build(frame, len, &p, &t, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(decode_packet(out, (size_t)n, &q), DECODE_OK);
	assert_false(q.bad_ip_csum);
	assert_true(decode_tcp_csum_ok(out, (size_t)n, &q));
	assert_int_equal(q.ip_version, version);
	assert_int_equal(q.n_vlans, n_vlans);
	for (unsigned i = 0; i < n_vlans; i++)
		assert_int_equal(q.vlan[i], p.vlan[i]);
	/* the VLAN tags and ethertypes are the frame's, byte for byte */
	assert_memory_equal(out + 12, frame + 12, p.l3_off - 12);
	if (dir == TCP_INJECT_REPLY) {
		assert_memory_equal(out, client_mac, 6);
		assert_memory_equal(out + 6, server_mac, 6);
		assert_memory_equal(q.src, p.dst, 16);
		assert_memory_equal(q.dst, p.src, 16);
		assert_int_equal(q.sport, p.dport);
		assert_int_equal(q.dport, p.sport);
	} else {
		assert_memory_equal(out, frame, 12);
		assert_memory_equal(q.src, p.src, 16);
		assert_memory_equal(q.dst, p.dst, 16);
		assert_int_equal(q.sport, p.sport);
		assert_int_equal(q.dport, p.dport);
	}
	assert_int_equal(q.seq, t.seq);
	assert_int_equal(q.ack, t.ack);
	assert_int_equal(q.tcp_flags, t.flags);
	assert_int_equal(q.window, t.window);
	assert_int_equal(q.payload_len, t.payload_len);
	if (t.payload_len > 0)
		assert_memory_equal(q.payload, reply, t.payload_len);
}

static void
test_reply_and_onward(void **state)
{
	(void)state;
	for (int v = 4; v <= 6; v += 2)
		for (unsigned vl = 0; vl <= DECODE_MAX_VLANS; vl++) {
			check_built(v, vl, TCP_INJECT_REPLY);
			check_built(v, vl, TCP_INJECT_ONWARD);
		}
}

/* Every buffer size: too small is -ENOSPC and writes nothing past it; enough is the frame. */
static void
test_bounds(void **state)
{
	(void)state;
	static const char reply[] = "554 5.7.1 no\r\n";
	uint8_t frame[256], out[128];
	struct pkt_info p;
	size_t len = client_frame(frame, 4, 1);
	struct tcp_inject t = { .dir = TCP_INJECT_REPLY, .flags = TCP_ACK, .payload = reply,
				.payload_len = sizeof(reply) - 1 };
	size_t need;

	assert_int_equal(decode_packet(frame, len, &p), DECODE_OK);
	need = p.l3_off + 20 + 20 + t.payload_len;
	assert_true(need <= TCP_INJECT_MAX(t.payload_len));
	for (size_t cap = 0; cap <= sizeof(out); cap++) {
		memset(out, 0xee, sizeof(out));
		int n = tcp_inject_build(frame, len, &p, &t, out, cap);

		if (cap < need) {
			assert_int_equal(n, -ENOSPC);
			for (size_t i = 0; i < sizeof(out); i++)
				assert_int_equal(out[i], 0xee);
		} else {
			assert_int_equal(n, (int)need);
			for (size_t i = need; i < sizeof(out); i++)
				assert_int_equal(out[i], 0xee);
		}
	}
}

/* What is not an Ethernet TCP frame decode_packet described is refused. */
static void
test_refused(void **state)
{
	(void)state;
	uint8_t frame[256], out[256];
	struct pkt_info p;
	size_t len = client_frame(frame, 4, 0);
	struct tcp_inject t = { .dir = TCP_INJECT_REPLY, .flags = TCP_ACK };

	assert_int_equal(decode_packet(frame, len, &p), DECODE_OK);
	assert_int_equal(tcp_inject_build(NULL, len, &p, &t, out, sizeof(out)), -EINVAL);
	struct pkt_info raw = p;
	raw.l3_off = 0; /* a raw IP frame has no link layer to mirror */
	assert_int_equal(tcp_inject_build(frame, len, &raw, &t, out, sizeof(out)), -EINVAL);
	struct pkt_info short_frame = p;
	assert_int_equal(tcp_inject_build(frame, short_frame.l3_off - 1, &short_frame, &t, out,
					  sizeof(out)), -EINVAL);
	struct pkt_info v5 = p;
	v5.ip_version = 5;
	assert_int_equal(tcp_inject_build(frame, len, &v5, &t, out, sizeof(out)), -EINVAL);
	t.payload_len = 3; /* a length without bytes */
	assert_int_equal(tcp_inject_build(frame, len, &p, &t, out, sizeof(out)), -EINVAL);
}

/* A payload rewritten in place gets its checksum back, IPv4 and IPv6, tagged or not. */
static void
test_fix_checksum(void **state)
{
	(void)state;
	for (int v = 4; v <= 6; v += 2) {
		uint8_t frame[256];
		struct pkt_info p;
		size_t len = client_frame(frame, v, (unsigned)v / 4);

		assert_int_equal(decode_packet(frame, len, &p), DECODE_OK);
		assert_false(decode_tcp_csum_ok(frame, len, &p)); /* written with 0 */
		assert_int_equal(tcp_inject_fix_checksum(frame, len, &p), 0);
		assert_true(decode_tcp_csum_ok(frame, len, &p));
		memcpy((uint8_t *)p.payload + 3, "XXXX", 4); /* "QUIT" */
		assert_false(decode_tcp_csum_ok(frame, len, &p));
		assert_int_equal(tcp_inject_fix_checksum(frame, len, &p), 0);
		assert_true(decode_tcp_csum_ok(frame, len, &p));
		assert_int_equal(decode_packet(frame, len, &p), DECODE_OK);
		assert_memory_equal(p.payload, ".\r\nXXXX\r\n", 9);

		struct pkt_info bad = p;
		bad.tcp_hlen = 12;
		assert_int_equal(tcp_inject_fix_checksum(frame, len, &bad), -EINVAL);
		bad = p;
		bad.payload_len = (uint32_t)len; /* past the frame */
		assert_int_equal(tcp_inject_fix_checksum(frame, len, &bad), -EINVAL);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_and_onward),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_fix_checksum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
