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
	uint32_t len;
	uint32_t seq;             /* of its last sending */
	bool sent_once;           /* sent at least once: a sending again is a resend */
	uint16_t waited;          /* the outage whose n_kept counts it (0: none) */
	_Alignas(8) unsigned char rec[];
};

_Static_assert(sizeof(struct spooled) <= EVENT_SPOOL_OVERHEAD, "overhead covers the node");

/*
 * A FIFO: head .. unsent are sent and wait for an acknowledgement, unsent .. last are not
 * sent yet. tail is where the next record is linked.
 */
struct event_spool {
	uint64_t max_bytes;
	struct spooled *head;
	struct spooled *unsent;
	struct spooled *last;
	struct spooled **tail;
	struct event_spool_stats st;
	bool link_up;
	bool in_outage;
	uint16_t outage_id;       /* of the open (or last) outage; never 0 once one opened */
	/* the outage ends once this record (the last one waiting when the link came back) has
	 * gone out; NULL with the link up: nothing more to wait for */
	struct spooled *catch_up;
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
	sp->link_up = true;
	return sp;
}

static void
free_all(struct event_spool *sp)
{
	while (sp->head != NULL) {
		struct spooled *n = sp->head;

		sp->head = n->next;
		free(n);
	}
	sp->unsent = sp->last = sp->catch_up = NULL;
	sp->tail = &sp->head;
	sp->st.n_records = sp->st.n_unsent = sp->st.bytes = 0;
}

void
event_spool_destroy(struct event_spool *sp)
{
	if (sp == NULL)
		return;
	free_all(sp);
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

	if (len > UINT32_MAX || !event_spool_has_room(sp, len))
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
	*n = (struct spooled){ .len = (uint32_t)len, .waited = sp->link_up ? 0 : sp->outage_id };
	memcpy(n->rec, rec, len);
	*sp->tail = n;
	sp->tail = &n->next;
	sp->last = n;
	if (sp->unsent == NULL)
		sp->unsent = n;
	sp->st.n_pushed++;
	sp->st.n_records++;
	sp->st.n_unsent++;
	sp->st.bytes += cost(len);
	if (sp->st.bytes > sp->st.bytes_peak)
		sp->st.bytes_peak = sp->st.bytes;
	if (n->waited != 0)
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
	struct spooled *n = sp->unsent;

	if (n == NULL)
		return;
	n->seq = seq;
	if (n->sent_once)
		sp->st.n_resent++;
	else
		sp->st.n_sent++;
	n->sent_once = true;
	if (n == sp->catch_up)
		sp->catch_up = NULL;
	sp->unsent = n->next;
	sp->st.n_unsent--;
}

void
event_spool_ack(struct event_spool *sp, uint32_t seq)
{
	/* only sent records are acknowledged; serial arithmetic survives the seq wrapping */
	while (sp->head != NULL && sp->head != sp->unsent && (int32_t)(sp->head->seq - seq) <= 0) {
		struct spooled *n = sp->head;

		sp->head = n->next;
		if (sp->head == NULL) {
			sp->tail = &sp->head;
			sp->last = NULL;
		}
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
		if (++sp->outage_id == 0)
			sp->outage_id = 1;
	}
	sp->link_up = false;
	sp->catch_up = NULL;
	for (struct spooled *n = sp->head; n != sp->unsent; n = n->next) {
		sp->st.n_unsent++;
		if (n->waited != sp->outage_id) {
			n->waited = sp->outage_id;
			sp->outage.n_kept++;
		}
	}
	sp->unsent = sp->head;
}

void
event_spool_link_up(struct event_spool *sp)
{
	sp->link_up = true;
	sp->catch_up = sp->unsent != NULL ? sp->last : NULL;
}

int
event_spool_end_outage(struct event_spool *sp, struct event_spool_outage *out)
{
	if (!sp->in_outage || !sp->link_up || sp->catch_up != NULL)
		return 0;
	sp->in_outage = false;
	*out = sp->outage;
	return 1;
}

uint64_t
event_spool_abandon(struct event_spool *sp)
{
	uint64_t n = sp->st.n_records;

	sp->st.n_dropped += n;
	if (sp->in_outage)
		sp->outage.n_dropped += n;
	free_all(sp);
	return n;
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
