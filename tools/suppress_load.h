/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Writing a parsed batch (struct suppress_import, sorted and merged per key) into the
 * suppression set, all of it or none:
 *   - a small batch goes in as one write transaction on the live set, merged per key with
 *     what is there;
 *   - a large one (or --bulk) builds a new environment beside the set, appending the merge of
 *     the live records and the batch in key order with MDB_APPEND (full pages, no splits), and
 *     swaps it in with renameat2(RENAME_EXCHANGE): a reader sees the old set or the new one,
 *     never a mix, and the dataplane reopens the new one within a second.
 * Every load registers its source ("source" table: name, time, rows) and stamps each record
 * it writes with that source's id; grace_end is computed here, with the configured business
 * day calendar. With replace_source (sync from a database), records of the same source name
 * that the batch no longer holds are removed. One writer at a time: a lock file beside the set
 * (PATH.lock) is held for the whole load. posternctl only.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "suppress_import.h"

#define SUPPRESS_LOAD_BULK_ROWS 200000 /* from this many rows a load rebuilds the set */

struct bday_calendar;

struct suppress_load_opts {
	const char *source;               /* name registered for the records ("FILE", "sync:X") */
	bool replace_source;              /* remove this source's records the batch lacks */
	int bulk;                         /* 1 always rebuild, 0 never, -1 by batch size */
	bool progress;                    /* a progress bar on err (only when it is a terminal) */
	const struct bday_calendar *cal;  /* NULL: the default (US federal holidays, UTC) */
	uint64_t map_size;                /* 0: SUPPRESS_DEFAULT_MAP_SIZE */
	int64_t now;                      /* registration time of the source */
	FILE *err;                        /* NULL: stderr */
};

struct suppress_load_stats {
	uint64_t added;                   /* keys that were not in the set */
	uint64_t updated;                 /* keys merged with an existing record */
	uint64_t removed;                 /* replace_source: records dropped */
	uint32_t source_id;
	bool rebuilt;                     /* a new environment was swapped in */
};

/*
 * Write im's batch into the set at path (created, with its directories, when missing, using
 * norm_flags). 0, -ESTALE (the set exists with other normalization flags than the batch was
 * keyed with: key again), -EBUSY (another writer holds the lock), -ENOSPC (map full: raise
 * suppress_map_size), or another negative errno; on any error the set is as it was.
 */
int suppress_load_batch(struct suppress_import *im, const char *path, unsigned norm_flags,
			const struct suppress_load_opts *o, struct suppress_load_stats *st);

/*
 * The writers' lock: PATH.lock beside the set, held (flock) for the whole of a load or edit so
 * that a rebuild never drops a write another posternctl made to the set it replaces. Returns
 * the lock's fd, -EBUSY when another writer holds it, or -errno.
 */
int suppress_load_lock(const char *path);
void suppress_load_unlock(int fd);
