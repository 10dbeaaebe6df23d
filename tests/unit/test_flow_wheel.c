/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for dataplane/flow_wheel.c: flows expire when (and only when) their idle time
 * has passed, touched flows are rescheduled lazily, work is bounded by the budget, clock
 * jumps are survived, and the soonest-expiring flow is found for eviction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "flow_wheel.h"

#define N_FLOWS 1000
#define SEC UINT64_C(1000000)

struct fake_flow {
	uint64_t last_us;
	uint64_t timeout_us;
	bool alive;
	struct flow_wheel_node node;
};

static struct fake_flow flows[N_FLOWS];
static unsigned n_due_calls;

static uint64_t
due(void *ctx, uint32_t idx, uint64_t now_us)
{
	(void)ctx;
	struct fake_flow *f = &flows[idx];

	n_due_calls++;
	assert_true(f->alive);
	if (f->last_us + f->timeout_us <= now_us) {
		f->alive = false;
		return 0;
	}
	return f->last_us + f->timeout_us;
}

static void
setup_flows(struct flow_wheel *w, uint64_t now)
{
	assert_int_equal(flow_wheel_init(w, 64, SEC, flows, sizeof(flows[0]),
					 offsetof(struct fake_flow, node), now),
			 0);
	for (uint32_t i = 0; i < N_FLOWS; i++) {
		flows[i] = (struct fake_flow){
			.last_us = now,
			.timeout_us = (i % 2 ? 30 : 300) * SEC, /* half-open vs established */
			.alive = true,
			.node = { FLOW_WHEEL_NONE, FLOW_WHEEL_NONE, FLOW_WHEEL_NONE },
		};
		flow_wheel_schedule(w, i, now + flows[i].timeout_us);
	}
	assert_int_equal(w->n_scheduled, N_FLOWS);
}

static unsigned
n_alive(void)
{
	unsigned n = 0;

	for (int i = 0; i < N_FLOWS; i++)
		n += flows[i].alive;
	return n;
}

static void
test_expiry_is_exact_and_lazy(void **state)
{
	(void)state;
	struct flow_wheel w;
	uint64_t t0 = 1717408800 * SEC;

	setup_flows(&w, t0);
	/* flows 1, 3, 5 ... (30 s) stay busy: touched at 20 s, so they live until 50 s */
	for (int i = 1; i < N_FLOWS; i += 2)
		if (i % 4 == 1)
			flows[i].last_us = t0 + 20 * SEC;
	assert_int_equal(flow_wheel_advance(&w, t0 + 29 * SEC, UINT32_MAX, due, NULL), 0);
	assert_int_equal(n_alive(), N_FLOWS);
	/* at 30 s the untouched half-open flows go, the touched ones move on */
	assert_int_equal(flow_wheel_advance(&w, t0 + 30 * SEC, UINT32_MAX, due, NULL), 250);
	assert_int_equal(n_alive(), 750);
	for (int i = 0; i < N_FLOWS; i++)
		assert_int_equal(flows[i].alive, i % 2 == 0 || i % 4 == 1);
	assert_int_equal(flow_wheel_advance(&w, t0 + 49 * SEC, UINT32_MAX, due, NULL), 0);
	assert_int_equal(flow_wheel_advance(&w, t0 + 50 * SEC, UINT32_MAX, due, NULL), 250);
	/* established flows: 300 s, more than a lap of the 64 s wheel */
	n_due_calls = 0;
	assert_int_equal(flow_wheel_advance(&w, t0 + 299 * SEC, UINT32_MAX, due, NULL), 0);
	assert_int_equal(n_alive(), 500);
	/* each was looked at once per lap, not once per second */
	assert_true(n_due_calls <= 500 * 5);
	assert_int_equal(flow_wheel_advance(&w, t0 + 300 * SEC, UINT32_MAX, due, NULL), 500);
	assert_int_equal(n_alive(), 0);
	assert_int_equal(w.n_scheduled, 0);
	flow_wheel_fini(&w);
}

static void
test_budget_bounds_work(void **state)
{
	(void)state;
	struct flow_wheel w;
	uint64_t t0 = 5000 * SEC;
	unsigned total = 0, calls = 0;

	setup_flows(&w, t0);
	while (n_alive() > 500) {
		n_due_calls = 0;
		total += flow_wheel_advance(&w, t0 + 31 * SEC, 64, due, NULL);
		assert_true(n_due_calls <= 64);
		calls++;
	}
	assert_int_equal(total, 500);
	assert_true(calls >= 500 / 64);
	flow_wheel_fini(&w);
}

static void
test_cancel_and_soonest(void **state)
{
	(void)state;
	struct flow_wheel w;
	uint64_t t0 = 100 * SEC;

	setup_flows(&w, t0);
	/* the soonest are the 30 s flows (odd indexes) */
	uint32_t s = flow_wheel_soonest(&w, 64);
	assert_int_not_equal(s, FLOW_WHEEL_NONE);
	assert_int_equal(s % 2, 1);
	for (uint32_t i = 1; i < N_FLOWS; i += 2)
		flow_wheel_cancel(&w, i);
	flow_wheel_cancel(&w, 1); /* twice is fine */
	assert_int_equal(w.n_scheduled, 500);
	s = flow_wheel_soonest(&w, 64);
	assert_int_equal(s % 2, 0);
	/* the look-ahead is bounded: one slot ahead holds none of them */
	assert_int_equal(flow_wheel_soonest(&w, 1), FLOW_WHEEL_NONE);
	assert_int_equal(flow_wheel_advance(&w, t0 + 400 * SEC, UINT32_MAX, due, NULL), 500);
	assert_int_equal(flow_wheel_soonest(&w, 64), FLOW_WHEEL_NONE);
	flow_wheel_fini(&w);
}

static void
test_clock_jump_and_past_times(void **state)
{
	(void)state;
	struct flow_wheel w;
	uint64_t t0 = 7 * SEC;

	setup_flows(&w, t0);
	/* a capture that jumps a day ahead: every flow expires, in one lap */
	assert_int_equal(flow_wheel_advance(&w, t0 + 86400 * SEC, UINT32_MAX, due, NULL),
			 N_FLOWS);
	/* scheduling in the past files for the next slot, not behind the cursor */
	flows[0] = (struct fake_flow){ .last_us = 0, .timeout_us = SEC, .alive = true,
				       .node = { FLOW_WHEEL_NONE, FLOW_WHEEL_NONE,
						 FLOW_WHEEL_NONE } };
	flow_wheel_schedule(&w, 0, 1);
	assert_int_equal(flow_wheel_advance(&w, t0 + 86401 * SEC, UINT32_MAX, due, NULL), 1);
	flow_wheel_fini(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expiry_is_exact_and_lazy),
		cmocka_unit_test(test_budget_bounds_work),
		cmocka_unit_test(test_cancel_and_soonest),
		cmocka_unit_test(test_clock_jump_and_past_times),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
