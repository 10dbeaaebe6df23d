/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for dataplane/flow_key.c: both directions meet, distinct flows stay apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "flow_key.h"

static struct pkt_info
pkt(uint8_t a, uint16_t ap, uint8_t b, uint16_t bp)
{
	struct pkt_info p = { .ip_version = 4 };

	p.src[10] = p.dst[10] = p.src[11] = p.dst[11] = 0xff;
	p.src[12] = 10;
	p.src[15] = a;
	p.dst[12] = 10;
	p.dst[15] = b;
	p.sport = ap;
	p.dport = bp;
	return p;
}

static void
test_both_directions_one_key(void **state)
{
	(void)state;
	struct flow_key k1, k2;
	struct pkt_info c2s = pkt(1, 40000, 2, 25);
	struct pkt_info s2c = pkt(2, 25, 1, 40000);
	unsigned side1 = flow_key_from_pkt(&k1, &c2s);
	unsigned side2 = flow_key_from_pkt(&k2, &s2c);

	assert_memory_equal(&k1, &k2, sizeof(k1));
	assert_int_equal(flow_key_hash(&k1), flow_key_hash(&k2));
	assert_int_not_equal(side1, side2);
	assert_true(flow_key_id(&k1, 123) == flow_key_id(&k2, 123));
	assert_true(flow_key_id(&k1, 123) < (UINT64_C(1) << 53));
}

static void
test_same_addresses_ports_decide(void **state)
{
	(void)state;
	struct flow_key k1, k2;
	struct pkt_info a = pkt(7, 25, 7, 40000);
	struct pkt_info b = pkt(7, 40000, 7, 25);

	/* Same host on both ends (loopback-like): the ports alone order the key. */
	assert_int_not_equal(flow_key_from_pkt(&k1, &a), flow_key_from_pkt(&k2, &b));
	assert_memory_equal(&k1, &k2, sizeof(k1));
}

static void
test_distinct_flows_differ(void **state)
{
	(void)state;
	struct flow_key base, other;
	struct pkt_info p = pkt(1, 40000, 2, 25);

	flow_key_from_pkt(&base, &p);
	p.sport = 40001;
	flow_key_from_pkt(&other, &p);
	assert_memory_not_equal(&base, &other, sizeof(base));
	assert_int_not_equal(flow_key_hash(&base), flow_key_hash(&other));

	p = pkt(1, 40000, 2, 25);
	p.n_vlans = 1;
	p.vlan[0] = 12;
	flow_key_from_pkt(&other, &p);
	assert_memory_not_equal(&base, &other, sizeof(base));
}

/* The dispatch hash must spread flows: 2 workers each get a fair share of 10000 flows. */
static void
test_hash_spreads_over_workers(void **state)
{
	(void)state;
	unsigned per_worker[4] = { 0 };

	for (unsigned i = 0; i < 10000; i++) {
		struct flow_key k;
		struct pkt_info p = pkt((uint8_t)(i % 200), (uint16_t)(1024 + i), 2, 25);

		flow_key_from_pkt(&k, &p);
		per_worker[flow_key_hash(&k) % 4]++;
	}
	for (int w = 0; w < 4; w++) {
		assert_true(per_worker[w] > 2200);
		assert_true(per_worker[w] < 2800);
	}
}

/* Dispatch by hosts: both directions and every port pair of two hosts meet on one worker. */
static void
test_hosts_hash(void **state)
{
	(void)state;
	struct pkt_info a = pkt(1, 40000, 2, 25);
	struct pkt_info b = pkt(2, 25, 1, 40000);
	struct pkt_info frag = pkt(1, 0, 2, 0); /* a later fragment: no ports */
	struct pkt_info other = pkt(1, 40000, 3, 25);

	assert_int_equal(flow_hosts_hash(&a), flow_hosts_hash(&b));
	assert_int_equal(flow_hosts_hash(&a), flow_hosts_hash(&frag));
	assert_int_not_equal(flow_hosts_hash(&a), flow_hosts_hash(&other));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_directions_one_key),
		cmocka_unit_test(test_same_addresses_ports_decide),
		cmocka_unit_test(test_distinct_flows_differ),
		cmocka_unit_test(test_hash_spreads_over_workers),
		cmocka_unit_test(test_hosts_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
