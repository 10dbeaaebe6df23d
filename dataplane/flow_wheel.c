/* SPDX-License-Identifier: BSD-3-Clause */
/* Hashed timing wheel with lazy rescheduling; see flow_wheel.h. Worker lcore. */
#include <errno.h>
#include <stdlib.h>

#include "flow_wheel.h"

static inline struct flow_wheel_node *
node(const struct flow_wheel *w, uint32_t idx)
{
	return (struct flow_wheel_node *)(w->base + (size_t)idx * w->stride + w->offset);
}

static inline uint32_t
slot_of(const struct flow_wheel *w, uint64_t t_us)
{
	return (uint32_t)((t_us / w->tick_us) & (w->n_slots - 1));
}

int
flow_wheel_init(struct flow_wheel *w, uint32_t n_slots, uint64_t tick_us, void *base,
		size_t stride, size_t offset, uint64_t now_us)
{
	uint32_t n = 1;

	while (n < n_slots && n < (1u << 30))
		n <<= 1;
	w->heads = malloc(sizeof(uint32_t) * n);
	if (w->heads == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		w->heads[i] = FLOW_WHEEL_NONE;
	w->n_slots = n;
	w->tick_us = tick_us > 0 ? tick_us : 1;
	w->next_tick = now_us / w->tick_us;
	w->base = base;
	w->stride = stride;
	w->offset = offset;
	w->n_scheduled = 0;
	return 0;
}

void
flow_wheel_fini(struct flow_wheel *w)
{
	free(w->heads);
	w->heads = NULL;
}

void
flow_wheel_cancel(struct flow_wheel *w, uint32_t idx)
{
	struct flow_wheel_node *n = node(w, idx);

	if (n->slot == FLOW_WHEEL_NONE)
		return;
	if (n->prev != FLOW_WHEEL_NONE)
		node(w, n->prev)->next = n->next;
	else
		w->heads[n->slot] = n->next;
	if (n->next != FLOW_WHEEL_NONE)
		node(w, n->next)->prev = n->prev;
	n->next = n->prev = n->slot = FLOW_WHEEL_NONE;
	w->n_scheduled--;
}

void
flow_wheel_schedule(struct flow_wheel *w, uint32_t idx, uint64_t expire_us)
{
	struct flow_wheel_node *n = node(w, idx);
	/* A time already past goes in the slot processed next, never behind the cursor. */
	uint64_t t = expire_us / w->tick_us < w->next_tick ? w->next_tick * w->tick_us : expire_us;
	uint32_t slot = slot_of(w, t);

	flow_wheel_cancel(w, idx);
	n->slot = slot;
	n->prev = FLOW_WHEEL_NONE;
	n->next = w->heads[slot];
	if (n->next != FLOW_WHEEL_NONE)
		node(w, n->next)->prev = idx;
	w->heads[slot] = idx;
	w->n_scheduled++;
}

/* Put the rest of a detached slot list back (the budget ran out inside it). */
static void
reattach(struct flow_wheel *w, uint32_t slot, uint32_t idx)
{
	while (idx != FLOW_WHEEL_NONE) {
		struct flow_wheel_node *n = node(w, idx);
		uint32_t next = n->next;

		n->prev = FLOW_WHEEL_NONE;
		n->next = w->heads[slot];
		if (n->next != FLOW_WHEEL_NONE)
			node(w, n->next)->prev = idx;
		w->heads[slot] = idx;
		idx = next;
	}
}

unsigned
flow_wheel_advance(struct flow_wheel *w, uint64_t now_us, unsigned budget, flow_wheel_due_fn due,
		   void *ctx)
{
	uint64_t now_tick = now_us / w->tick_us;
	unsigned removed = 0;

	/* A clock that jumped far ahead needs one lap at most: every slot is visited once. */
	if (now_tick > w->next_tick + w->n_slots)
		w->next_tick = now_tick - w->n_slots;
	while (w->next_tick <= now_tick && budget > 0) {
		uint32_t slot = (uint32_t)(w->next_tick & (w->n_slots - 1));
		/* Detach the slot's list: flows filed again into this slot (a lap later) are not
		 * seen twice in one pass. */
		uint32_t idx = w->heads[slot];

		w->heads[slot] = FLOW_WHEEL_NONE;
		while (idx != FLOW_WHEEL_NONE) {
			struct flow_wheel_node *n = node(w, idx);
			uint32_t next = n->next;
			uint64_t again;

			if (budget == 0) {
				reattach(w, slot, idx);
				return removed; /* resume in this slot next time */
			}
			budget--;
			n->next = n->prev = n->slot = FLOW_WHEEL_NONE;
			w->n_scheduled--;
			if (next != FLOW_WHEEL_NONE)
				node(w, next)->prev = FLOW_WHEEL_NONE;
			again = due(ctx, idx, now_us);
			if (again == 0) {
				removed++;
			} else {
				/* Due later within this tick: the next slot, not a lap from now. */
				if (again / w->tick_us <= w->next_tick)
					again = (w->next_tick + 1) * w->tick_us;
				flow_wheel_schedule(w, idx, again);
			}
			idx = next;
		}
		w->next_tick++;
	}
	return removed;
}

uint32_t
flow_wheel_soonest(const struct flow_wheel *w, uint32_t max_slots)
{
	if (max_slots > w->n_slots)
		max_slots = w->n_slots;
	for (uint32_t i = 0; i < max_slots; i++) {
		uint32_t slot = (uint32_t)((w->next_tick + i) & (w->n_slots - 1));

		if (w->heads[slot] != FLOW_WHEEL_NONE)
			return w->heads[slot];
	}
	return FLOW_WHEEL_NONE;
}
