/* SPDX-License-Identifier: BSD-3-Clause */
/* Rule generations built off posternd's loop; see rule_builder.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "rule_builder.h"
#include "rulegen.h"

#define BUILD_ERR_MAX 8192
#define RULE_BUILDER_NICE 10 /* the build thread's nice value: below posternd's loop */

struct rule_builder {
	int efd;                  /* eventfd: the build thread writes 1 when done */
	bool busy;                /* a thread was started and not yet joined */
	pthread_t thread;
	struct postern_config cfg;
	uint64_t gen_id;
	struct rulegen *result;
	char err[BUILD_ERR_MAX];
};

struct rule_builder *
rule_builder_create(void)
{
	struct rule_builder *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->efd < 0) {
		free(b);
		return NULL;
	}
	return b;
}

static void *
build(void *arg)
{
	struct rule_builder *b = arg;
	uint64_t one = 1;

	/*
	 * Compiling can take all of a CPU for seconds; posternd's loop must keep draining the
	 * dataplane's records meanwhile, and on a small machine both share a core. The build
	 * yields to it: Linux applies a nice value to the one thread named by its tid. Failing
	 * is not fatal: the build then only competes harder.
	 */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), RULE_BUILDER_NICE);
	b->err[0] = '\0';
	b->result = rulegen_build(&b->cfg, b->gen_id, b->err, sizeof(b->err));
	/* the eventfd counter cannot overflow with one write per build */
	if (write(b->efd, &one, sizeof(one)) != sizeof(one))
		abort();
	return NULL;
}

int
rule_builder_start(struct rule_builder *b, const struct postern_config *cfg, uint64_t gen_id)
{
	int rc;

	if (b->busy)
		return -EBUSY;
	b->cfg = *cfg;
	b->gen_id = gen_id;
	b->result = NULL;
	rc = pthread_create(&b->thread, NULL, build, b);
	if (rc != 0)
		return -rc;
	b->busy = true;
	return 0;
}

struct rulegen *
rule_builder_finish(struct rule_builder *b, char *err, size_t errlen)
{
	uint64_t v;
	struct rulegen *g;

	if (!b->busy) {
		snprintf(err, errlen, "no rule build was started");
		return NULL;
	}
	pthread_join(b->thread, NULL);
	b->busy = false;
	while (read(b->efd, &v, sizeof(v)) == sizeof(v))
		;
	g = b->result;
	b->result = NULL;
	if (g == NULL)
		snprintf(err, errlen, "%s", b->err);
	return g;
}

int
rule_builder_fd(const struct rule_builder *b)
{
	return b->efd;
}

bool
rule_builder_busy(const struct rule_builder *b)
{
	return b->busy;
}

void
rule_builder_destroy(struct rule_builder *b)
{
	if (b == NULL)
		return;
	if (b->busy) {
		char err[64];

		rulegen_destroy(rule_builder_finish(b, err, sizeof(err)));
	}
	close(b->efd);
	free(b);
}
