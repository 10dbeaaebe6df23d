/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The suppression set's watcher (see supp_watch.h). A hand-over is two single-slot mailboxes
 * per worker: supp_next (main -> worker, the new reader) and supp_retired (worker -> main, the
 * old one, with supp_switched set even when there was none). One hand-over at a time.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dp.h"
#include "log.h"
#include "suppress_db.h"
#include "suppress_writer.h"
#include "supp_watch.h"
#include "worker.h"

#define WATCH_PERIOD_US 1000000

struct supp_watch {
	struct dp *dp;
	char data_path[PATH_MAX];
	dev_t dev;
	ino_t ino;                  /* of the open environment's data file; 0: none open */
	uint64_t mapped;            /* bytes the open environment maps */
	uint64_t next_us;
	struct suppress_db *old;    /* the environment being let go, while workers switch */
	bool switching;
};

static void
note_open(struct supp_watch *sw, const struct stat *st)
{
	struct suppress_db_info info;

	sw->dev = st->st_dev;
	sw->ino = st->st_ino;
	sw->mapped = suppress_db_info(sw->dp->supp, &info) == 0 ? info.map_size : UINT64_MAX;
}

struct supp_watch *
supp_watch_create(struct dp *dp)
{
	struct supp_watch *sw = calloc(1, sizeof(*sw));
	struct stat st;

	if (sw == NULL)
		return NULL;
	sw->dp = dp;
	snprintf(sw->data_path, sizeof(sw->data_path), "%s/data.mdb", dp->cfg.suppress_db);
	if (dp->supp != NULL && stat(sw->data_path, &st) == 0)
		note_open(sw, &st);
	return sw;
}

/* Every worker took its new reader: destroy the old ones, then their environment. */
static void
finish_switch(struct supp_watch *sw)
{
	struct dp *dp = sw->dp;

	for (unsigned i = 0; i < dp->n_workers; i++)
		if (!atomic_load_explicit(&dp->workers[i]->supp_switched, memory_order_acquire) &&
		    !atomic_load(&dp->workers[i]->done))
			return;
	for (unsigned i = 0; i < dp->n_workers; i++) {
		struct worker *w = dp->workers[i];

		suppress_reader_destroy(atomic_exchange(&w->supp_retired, NULL));
		atomic_store(&w->supp_switched, false);
	}
	suppress_db_close(sw->old);
	sw->old = NULL;
	sw->switching = false;
}

static void
start_switch(struct supp_watch *sw, const struct stat *st)
{
	struct dp *dp = sw->dp;
	struct suppress_reader *r[DP_MAX_WORKERS] = { NULL };
	struct suppress_db *db = suppress_db_open(dp->cfg.suppress_db, true);

	if (db == NULL) {
		log_warn("suppression set %s changed but cannot be opened (%s): keeping the one "
			 "open", dp->cfg.suppress_db, strerror(errno));
		sw->dev = st->st_dev; /* do not retry every second: wait for the next change */
		sw->ino = st->st_ino;
		return;
	}
	for (unsigned i = 0; i < dp->n_workers; i++) {
		r[i] = suppress_reader_create(db);
		if (r[i] == NULL) {
			log_warn("suppression set %s: no reader for the new set (%s)",
				 dp->cfg.suppress_db, strerror(errno));
			for (unsigned j = 0; j < i; j++)
				suppress_reader_destroy(r[j]);
			suppress_db_close(db);
			return;
		}
	}
	sw->old = dp->supp;
	dp->supp = db;
	note_open(sw, st);
	sw->switching = true;
	for (unsigned i = 0; i < dp->n_workers; i++)
		atomic_store_explicit(&dp->workers[i]->supp_next, r[i], memory_order_release);
	log_info("suppression set %s reopened (%s)", dp->cfg.suppress_db,
		 sw->old != NULL ? "replaced or grown" : "now present");
}

void
supp_watch_poll(struct supp_watch *sw, uint64_t now_us)
{
	struct stat st;

	if (sw->switching)
		finish_switch(sw);
	if (now_us < sw->next_us || sw->switching)
		return;
	sw->next_us = now_us + WATCH_PERIOD_US;
	if (stat(sw->data_path, &st) != 0)
		return; /* gone for a moment (being replaced) or never there: keep what is open */
	if (st.st_ino != sw->ino || st.st_dev != sw->dev || (uint64_t)st.st_size > sw->mapped)
		start_switch(sw, &st);
}

void
supp_watch_destroy(struct supp_watch *sw)
{
	struct dp *dp;

	if (sw == NULL)
		return;
	dp = sw->dp;
	for (unsigned i = 0; i < dp->n_workers; i++) {
		struct worker *w = dp->workers[i];

		suppress_reader_destroy(atomic_exchange(&w->supp_next, NULL));
		suppress_reader_destroy(atomic_exchange(&w->supp_retired, NULL));
	}
	suppress_db_close(sw->old);
	free(sw);
}

void
supp_watch_take(struct worker *w)
{
	struct suppress_reader *next;

	if (atomic_load_explicit(&w->supp_next, memory_order_relaxed) == NULL)
		return;
	next = atomic_exchange_explicit(&w->supp_next, NULL, memory_order_acquire);
	if (w->supp != NULL)
		suppress_reader_release(w->supp);
	atomic_store_explicit(&w->supp_retired, w->supp, memory_order_relaxed);
	w->supp = next;
	w->env.supp = next;
	w->env.counters[IPC_C_SUPPRESS_REOPENS]++;
	atomic_store_explicit(&w->supp_switched, true, memory_order_release);
}
