/* SPDX-License-Identifier: BSD-3-Clause */
/* Building, sealing and querying rule generations; see rulegen.h. Control thread. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "classification.h"
#include "rule_compile.h"
#include "rule_parse.h"
#include "rulegen.h"

/* The classification file: configured, else classification.config beside the rules. */
static struct classification *
load_classification(const struct postern_config *cfg, char *err, size_t errlen, bool *failed)
{
	char path[CONFIG_PATH_MAX + 32];

	*failed = false;
	if (cfg->classification[0] != '\0') {
		snprintf(path, sizeof(path), "%s", cfg->classification);
	} else {
		char dir[CONFIG_PATH_MAX];

		snprintf(dir, sizeof(dir), "%s", cfg->rules);
		snprintf(path, sizeof(path), "%s/classification.config", dirname(dir));
		if (access(path, F_OK) != 0)
			return NULL;
	}

	struct classification *c = classification_load(path, err, errlen);
	if (c == NULL)
		*failed = true;
	return c;
}

static int
seal_blob(struct rulegen *g, const void *blob, size_t len)
{
	int fd = memfd_create("postern-rules", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	size_t done = 0;

	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t n = write(fd, (const char *)blob + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = -errno;
			close(fd);
			return rc;
		}
		done += (size_t)n;
	}
	/* Sealed: the dataplane maps exactly what was validated here, and nobody can change it. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	g->memfd = fd;
	g->blob_len = len;
	return 0;
}

struct rulegen *
rulegen_build(const struct postern_config *cfg, uint64_t id, char *err, size_t errlen)
{
	struct rulegen *g = calloc(1, sizeof(*g));
	void *blob = NULL;
	size_t blob_len = 0;
	bool cls_failed;

	if (g == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->id = id;
	g->memfd = -1;
	g->cls = load_classification(cfg, err, errlen, &cls_failed);
	if (cls_failed)
		goto fail;
	g->rules = rule_set_load(cfg->rules, g->cls, err, errlen);
	if (g->rules == NULL)
		goto fail;
	if (rule_compile(g->rules, id, &blob, &blob_len, err, errlen) < 0)
		goto fail;

	int rc = seal_blob(g, blob, blob_len);
	free(blob);
	if (rc < 0) {
		snprintf(err, errlen, "memfd for the rule generation: %s", strerror(-rc));
		goto fail;
	}
	return g;
fail:
	rulegen_destroy(g);
	return NULL;
}

void
rulegen_destroy(struct rulegen *g)
{
	if (g == NULL)
		return;
	if (g->memfd >= 0)
		close(g->memfd);
	rule_set_destroy(g->rules);
	classification_destroy(g->cls);
	free(g);
}

bool
rulegen_lookup(void *ctx, uint32_t gid, uint32_t sid, struct eve_rule_info *out)
{
	const struct rulegen *g = ctx;
	const struct rule *r = g != NULL ? rule_set_find(g->rules, gid, sid) : NULL;

	if (r == NULL)
		return false;
	out->msg = r->msg;
	out->severity = r->severity;
	out->metadata = r->metadata;
	out->category = r->classtype;
	if (r->classtype != NULL && g->cls != NULL) {
		const struct classification_entry *e = classification_find(g->cls, r->classtype);

		if (e != NULL)
			out->category = e->desc;
	}
	return true;
}
