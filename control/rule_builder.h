/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Builds a rule generation (rulegen_build) on a thread of its own, so that posternd's loop
 * keeps reading the dataplane's records while Hyperscan compiles: a big pack takes seconds
 * to compile, and a loop that stops reading for that long makes the dataplane's event ring
 * overflow. One build at a time; the loop polls rule_builder_fd() and takes the result with
 * rule_builder_finish() on the thread that started it.
 *
 * Threads: every function on posternd's control thread; the build runs on its own thread
 * and touches nothing but its copy of the configuration and its result.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct rule_builder;
struct rulegen;

/* NULL with errno set. */
struct rule_builder *rule_builder_create(void);

/* Waits for a build in progress, then frees everything; NULL is a no-op. */
void rule_builder_destroy(struct rule_builder *b);

/* Readable when a started build has finished. */
int rule_builder_fd(const struct rule_builder *b);

bool rule_builder_busy(const struct rule_builder *b);

/* Start building generation gen_id from a copy of cfg. 0, -EBUSY, or -errno. */
int rule_builder_start(struct rule_builder *b, const struct postern_config *cfg, uint64_t gen_id);

/*
 * The finished build: the new generation, or NULL with every error in err. Call once per
 * start, after rule_builder_fd() became readable (it blocks until the build is done).
 */
struct rulegen *rule_builder_finish(struct rule_builder *b, char *err, size_t errlen);
