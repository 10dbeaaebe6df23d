/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane's spool of records for posternd (transactions and anomaly events): every
 * record is copied here out of the mempool, goes out from here, and stays until posternd
 * acknowledges it (IPC_ACK: it has written everything up to a sequence number to its
 * outputs). So a record is never lost to posternd stopping or crashing: whatever it had not
 * acknowledged is sent again, in order, once it is back (at-least-once: a crash between
 * writing and acknowledging repeats at most what it read since its last acknowledgement).
 * While posternd is away records wait here, and the workers never run short of record
 * buffers.
 *
 * It is bounded in bytes (event_spool): a record that would pass the bound is refused and
 * counted, so an outage costs the records past the bound, never memory without end. An
 * outage starts when the link goes down and ends, once it is back, when the records that
 * waited at that moment have all gone out (those that keep coming meanwhile do not hold it
 * open); its tally is what posternd is told (IPC_SPOOL). No rte_*; main lcore only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Each record also costs this much of the bound: what a record is held in. */
#define EVENT_SPOOL_OVERHEAD 32u

struct event_spool;

struct event_spool_stats {
	uint64_t n_pushed;        /* records taken, since start */
	uint64_t n_dropped;       /* records refused for the bound (or malloc), or abandoned */
	uint64_t n_sent;          /* records sent, each counted once */
	uint64_t n_resent;        /* sendings again: posternd had not acknowledged them */
	uint64_t n_records;       /* held now: unsent and unacknowledged */
	uint64_t n_unsent;        /* ... of which not sent yet */
	uint64_t bytes;           /* held now, overhead included */
	uint64_t bytes_peak;
};

/* An outage of posternd, over: what it cost. */
struct event_spool_outage {
	uint64_t started_us;      /* the link went down */
	uint64_t n_kept;          /* records that waited for posternd (each once, resent ones
				   * included) */
	uint64_t n_dropped;       /* records lost for the bound */
	uint64_t bytes_dropped;
};

/* max_bytes 0: nothing is held, every record is refused. NULL on ENOMEM. */
struct event_spool *event_spool_create(uint64_t max_bytes);
void event_spool_destroy(struct event_spool *sp);

/* True when a record of len bytes would be taken now. */
bool event_spool_has_room(const struct event_spool *sp, size_t len);

/*
 * Copy a record (len bytes) to the tail. 0, or -ENOSPC when the bound refuses it, -ENOMEM
 * when malloc does; both are counted as dropped.
 */
int event_spool_push(struct event_spool *sp, const void *rec, size_t len);

/* The oldest record not sent yet (the caller sets its header's seq and sends it); NULL. */
void *event_spool_next_unsent(struct event_spool *sp, size_t *len);

/* That record went out with this sequence number. */
void event_spool_sent(struct event_spool *sp, uint32_t seq);

/* posternd has everything sent up to seq (serial arithmetic): those records are freed. */
void event_spool_ack(struct event_spool *sp, uint32_t seq);

/*
 * The link went down at now_us: what was sent and not acknowledged is unsent again (it goes
 * first once the link is back), and an outage starts if none is open. A new spool starts
 * with the link up; the dataplane calls this at once, before posternd's first connection.
 */
void event_spool_link_down(struct event_spool *sp, uint64_t now_us);

/* The link is up again: the outage ends once what waits now has gone out. */
void event_spool_link_up(struct event_spool *sp);

/* When the outage is over (see event_spool_link_up): 1 with *out filled, once. 0 otherwise. */
int event_spool_end_outage(struct event_spool *sp, struct event_spool_outage *out);

/* Give up on everything held (the dataplane stops without posternd): counted as dropped. */
uint64_t event_spool_abandon(struct event_spool *sp);

/* True when records wait unsent: a new one must queue behind them, to keep the order. */
bool event_spool_busy(const struct event_spool *sp);

/* True when nothing is held (all acknowledged). */
bool event_spool_empty(const struct event_spool *sp);

void event_spool_get_stats(const struct event_spool *sp, struct event_spool_stats *out);
