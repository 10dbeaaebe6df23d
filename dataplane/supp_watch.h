/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Follows the suppression set's file for the dataplane. `posternctl suppress import` may
 * replace the whole environment (a rebuilt set swapped in with RENAME_EXCHANGE), and the set
 * may appear after start-up or outgrow the map a reader opened: each second the main lcore
 * looks at PATH/data.mdb, and when it is another file (or has grown past the mapping) opens it,
 * makes one reader per worker and hands each its new reader; a worker takes it between two
 * bursts and hands back the old one, which the main lcore destroys once every worker has
 * switched, closing the old environment last. Workers never block, allocate or open files
 * for it. Main lcore, except supp_watch_take().
 */
#pragma once

#include <stdint.h>

struct dp;
struct worker;
struct supp_watch;

/* Start following dp->cfg.suppress_db; takes over dp->supp (may be NULL). NULL on ENOMEM. */
struct supp_watch *supp_watch_create(struct dp *dp);

/* Main lcore, every loop: does something at most once a second. */
void supp_watch_poll(struct supp_watch *sw, uint64_t now_us);

/* After the workers stopped: frees what is pending and the open environment. */
void supp_watch_destroy(struct supp_watch *sw);

/* Worker lcore, between bursts: switch to a reader the main lcore handed over, if any. */
void supp_watch_take(struct worker *w);
