/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The symmetric RSS key keeps both directions of a flow on one queue: checked with DPDK's own
 * software Toeplitz (rte_softrss, what a NIC computes) over IPv4 and IPv6 4-tuples, and the
 * resulting queues are spread evenly enough to be worth having.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <rte_thash.h>

#include "rss_key.h"

static uint32_t
rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void
test_ipv4_symmetric(void **state)
{
	(void)state;
	uint8_t key[RSS_KEY_MAX];
	uint32_t x = 12345;
	unsigned per_queue[4] = { 0 };

	rss_symmetric_key(key, sizeof(key));
	for (int i = 0; i < 20000; i++) {
		struct rte_ipv4_tuple a, b;

		a.src_addr = rnd(&x);
		a.dst_addr = rnd(&x);
		a.sport = (uint16_t)rnd(&x);
		a.dport = 25;
		b.src_addr = a.dst_addr;
		b.dst_addr = a.src_addr;
		b.sport = a.dport;
		b.dport = a.sport;

		uint32_t ha = rte_softrss((uint32_t *)&a, RTE_THASH_V4_L4_LEN, key);
		uint32_t hb = rte_softrss((uint32_t *)&b, RTE_THASH_V4_L4_LEN, key);

		assert_int_equal(ha, hb);
		per_queue[ha % 4]++;
	}
	for (int q = 0; q < 4; q++)
		assert_true(per_queue[q] > 4000 && per_queue[q] < 6000);
}

static void
test_ipv6_symmetric(void **state)
{
	(void)state;
	uint8_t key[RSS_KEY_MAX];
	uint32_t x = 777;

	rss_symmetric_key(key, sizeof(key));
	for (int i = 0; i < 5000; i++) {
		union rte_thash_tuple a, b;

		memset(&a, 0, sizeof(a));
		for (int k = 0; k < 16; k++) {
			a.v6.src_addr[k] = (uint8_t)rnd(&x);
			a.v6.dst_addr[k] = (uint8_t)rnd(&x);
		}
		a.v6.sport = (uint16_t)rnd(&x);
		a.v6.dport = 587;
		b = a;
		memcpy(b.v6.src_addr, a.v6.dst_addr, 16);
		memcpy(b.v6.dst_addr, a.v6.src_addr, 16);
		b.v6.sport = a.v6.dport;
		b.v6.dport = a.v6.sport;
		/* rte_softrss reads the tuple as host-order words, as rte_thash_load_v6_addrs
		 * prepares it */
		union rte_thash_tuple la, lb;
		struct rte_ipv6_hdr ha = { 0 }, hb = { 0 };
		memcpy(ha.src_addr, a.v6.src_addr, 16);
		memcpy(ha.dst_addr, a.v6.dst_addr, 16);
		memcpy(hb.src_addr, b.v6.src_addr, 16);
		memcpy(hb.dst_addr, b.v6.dst_addr, 16);
		rte_thash_load_v6_addrs(&ha, &la);
		rte_thash_load_v6_addrs(&hb, &lb);
		la.v6.sport = a.v6.sport;
		la.v6.dport = a.v6.dport;
		lb.v6.sport = b.v6.sport;
		lb.v6.dport = b.v6.dport;
		assert_int_equal(rte_softrss((uint32_t *)&la, RTE_THASH_V6_L4_LEN, key),
				 rte_softrss((uint32_t *)&lb, RTE_THASH_V6_L4_LEN, key));
	}
}

/* The default (non-symmetric) key of many NICs does not keep flows together: the test above
 * would catch a key that is not symmetric. */
static void
test_asymmetric_key_is_caught(void **state)
{
	(void)state;
	uint8_t key[RSS_KEY_MAX];
	struct rte_ipv4_tuple a = { .src_addr = 0x0a000001, .dst_addr = 0x0a000002,
				    .sport = 40000, .dport = 25 };
	struct rte_ipv4_tuple b = { .src_addr = 0x0a000002, .dst_addr = 0x0a000001,
				    .sport = 25, .dport = 40000 };

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 37 + 11);
	assert_int_not_equal(rte_softrss((uint32_t *)&a, RTE_THASH_V4_L4_LEN, key),
			     rte_softrss((uint32_t *)&b, RTE_THASH_V4_L4_LEN, key));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_symmetric),
		cmocka_unit_test(test_ipv6_symmetric),
		cmocka_unit_test(test_asymmetric_key_is_caught),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
