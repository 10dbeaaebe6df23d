/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A hashed timing wheel over a fixed array of flows, for idle eviction. Each flow is linked
 * (by index, through a small node embedded in it) into the slot of its scheduled expiry.
 * Packets never touch the wheel: the owner only records when a flow was last seen, and when
 * the wheel reaches a slot it asks the owner, for each flow there, whether the flow has
 * really expired (then it is gone) or when it now expires (then it moves on). Rescheduling
 * is thus lazy, paid once per timeout and not per packet.
 *
 * The nearest non-empty slot also answers "which flow is closest to expiring", which is how
 * a full table picks the flow to evict for a new one.
 *
 * Pure C. One wheel belongs to one worker lcore; flow_wheel_init allocates its slot array
 * once, at start-up.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define FLOW_WHEEL_NONE UINT32_MAX

/* Embedded in each flow; all FLOW_WHEEL_NONE when the flow is not scheduled. */
struct flow_wheel_node {
	uint32_t next;
	uint32_t prev;
	uint32_t slot;
};

/*
 * Called for a flow whose slot came due: return when it really expires (microseconds; the
 * wheel files it again), or 0 after removing it (the wheel has unlinked it already).
 */
typedef uint64_t (*flow_wheel_due_fn)(void *ctx, uint32_t idx, uint64_t now_us);

struct flow_wheel {
	uint32_t *heads;        /* per slot, first flow index or FLOW_WHEEL_NONE */
	uint32_t n_slots;       /* a power of two */
	uint64_t tick_us;       /* width of a slot */
	uint64_t next_tick;     /* the first tick not processed yet */
	uint8_t *base;          /* flow array, element size stride, node at offset */
	size_t stride;
	size_t offset;
	uint32_t n_scheduled;
};

/*
 * n_slots (rounded up to a power of two) of tick_us each; base/stride/offset locate the node
 * of flow idx at base + idx * stride + offset. 0 or -ENOMEM.
 */
int flow_wheel_init(struct flow_wheel *w, uint32_t n_slots, uint64_t tick_us, void *base,
		    size_t stride, size_t offset, uint64_t now_us);
void flow_wheel_fini(struct flow_wheel *w);

/* File flow idx for expiry at expire_us (moving it if it was filed). */
void flow_wheel_schedule(struct flow_wheel *w, uint32_t idx, uint64_t expire_us);

/* Take flow idx out of the wheel (no-op if it is not in it). */
void flow_wheel_cancel(struct flow_wheel *w, uint32_t idx);

/*
 * Process the slots that came due by now_us, calling due() for at most `budget` flows.
 * Returns how many flows due() removed. What the budget left is done by the next call.
 */
unsigned flow_wheel_advance(struct flow_wheel *w, uint64_t now_us, unsigned budget,
			    flow_wheel_due_fn due, void *ctx);

/*
 * A flow filed in the nearest non-empty slot (those that expire soonest), looking at most
 * max_slots slots ahead; FLOW_WHEEL_NONE if there is none.
 */
uint32_t flow_wheel_soonest(const struct flow_wheel *w, uint32_t max_slots);
