/* SPDX-License-Identifier: BSD-3-Clause */
/* Records for posternd until it acknowledges them; see event_spool.h. Main lcore only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "event_spool.h"

/*
 * One malloc per record. Records are few next to packets (one per transaction or anomaly),
 * and the spool holds next to nothing while posternd keeps up, so a preallocated ring of
 * event_spool bytes would mostly be memory held for nothing.
 */
struct spooled {
	struct spooled *next;
	size_t len;
	uint32_t seq;             /* when sent */
	_Alignas(8) unsigned char rec[];
};

_Static_assert(sizeof(struct spooled) <= EVENT_SPOOL_OVERHEAD, "overhead covers the node");

/*
 * A FIFO: head .. unsent are sent and wait for an acknowledgement, unsent .. the end are
 * not sent yet. tail is where the next record is linked.
 */
struct event_spool {
	uint64_t max_bytes;
	struct spooled *head;
	struct spooled *unsent;
	struct spooled **tail;
	struct event_spool_stats st;
	bool in_outage;
	struct event_spool_outage outage;
};

struct event_spool *
event_spool_create(uint64_t max_bytes)
{
	struct event_spool *sp = calloc(1, sizeof(*sp));

	if (sp == NULL)
		return NULL;
	sp->max_bytes = max_bytes;
	sp->tail = &sp->head;
	return sp;
}

void
event_spool_destroy(struct event_spool *sp)
{
	if (sp == NULL)
		return;
	while (sp->head != NULL) {
		struct spooled *n = sp->head;

		sp->head = n->next;
		free(n);
	}
	free(sp);
}

static uint64_t
cost(size_t len)
{
	return (uint64_t)len + EVENT_SPOOL_OVERHEAD;
}

bool
event_spool_has_room(const struct event_spool *sp, size_t len)
{
	/* st.bytes never passes max_bytes, so the subtraction cannot wrap */
	return cost(len) <= sp->max_bytes - sp->st.bytes;
}

int
event_spool_push(struct event_spool *sp, const void *rec, size_t len)
{
	struct spooled *n = NULL;
	int rc = 0;

	if (!event_spool_has_room(sp, len))
		rc = -ENOSPC;
	else if ((n = malloc(sizeof(*n) + len)) == NULL)
		rc = -ENOMEM;
	if (rc < 0) {
		sp->st.n_dropped++;
		if (sp->in_outage) {
			sp->outage.n_dropped++;
			sp->outage.bytes_dropped += len;
		}
		return rc;
	}
	n->next = NULL;
	n->len = len;
	n->seq = 0;
	memcpy(n->rec, rec, len);
	*sp->tail = n;
	sp->tail = &n->next;
	if (sp->unsent == NULL)
		sp->unsent = n;
	sp->st.n_pushed++;
	sp->st.n_records++;
	sp->st.n_unsent++;
	sp->st.bytes += cost(len);
	if (sp->st.bytes > sp->st.bytes_peak)
		sp->st.bytes_peak = sp->st.bytes;
	if (sp->in_outage)
		sp->outage.n_kept++;
	return 0;
}

void *
event_spool_next_unsent(struct event_spool *sp, size_t *len)
{
	if (sp->unsent == NULL)
		return NULL;
	*len = sp->unsent->len;
	return sp->unsent->rec;
}

void
event_spool_sent(struct event_spool *sp, uint32_t seq)
{
	if (sp->unsent == NULL)
		return;
	sp->unsent->seq = seq;
	sp->unsent = sp->unsent->next;
	sp->st.n_unsent--;
}

void
event_spool_ack(struct event_spool *sp, uint32_t seq)
{
	/* only sent records are acknowledged; serial arithmetic survives the seq wrapping */
	while (sp->head != NULL && sp->head != sp->unsent && (int32_t)(sp->head->seq - seq) <= 0) {
		struct spooled *n = sp->head;

		sp->head = n->next;
		if (sp->head == NULL)
			sp->tail = &sp->head;
		sp->st.n_records--;
		sp->st.bytes -= cost(n->len);
		free(n);
	}
}

void
event_spool_link_down(struct event_spool *sp, uint64_t now_us)
{
	if (!sp->in_outage) {
		sp->in_outage = true;
		memset(&sp->outage, 0, sizeof(sp->outage));
		sp->outage.started_us = now_us;
	}
	for (struct spooled *n = sp->head; n != sp->unsent; n = n->next) {
		sp->st.n_resent++;
		sp->st.n_unsent++;
		sp->outage.n_kept++;
	}
	sp->unsent = sp->head;
}

int
event_spool_end_outage(struct event_spool *sp, struct event_spool_outage *out)
{
	if (!sp->in_outage || sp->unsent != NULL)
		return 0;
	sp->in_outage = false;
	*out = sp->outage;
	return 1;
}

bool
event_spool_busy(const struct event_spool *sp)
{
	return sp->unsent != NULL;
}

bool
event_spool_empty(const struct event_spool *sp)
{
	return sp->head == NULL;
}

void
event_spool_get_stats(const struct event_spool *sp, struct event_spool_stats *out)
{
	*out = sp->st;
}
