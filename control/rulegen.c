/* SPDX-License-Identifier: BSD-3-Clause */
/* Building, sealing and querying rule generations; see rulegen.h. Control thread. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "classification.h"
#include "file_read.h"
#include "gen_format.h"
#include "log.h"
#include "netset.h"
#include "rule_cache.h"
#include "rule_compile.h"
#include "rule_parse.h"
#include "rulegen.h"
#include "threshold.h"

_Static_assert(CONFIG_RULES_PACKS_MAX <= RULE_MAX_SOURCES, "every configured pack is parsed");

/*
 * The directory of the first pack of the rules list, where classification.config and
 * vars.conf are looked for when not configured: one place for the whole set, as the packs
 * share one classification and one set of variables. "." when the list is empty or bad (the
 * build then fails on the list itself).
 */
static void
first_pack_dir(const struct postern_config *cfg, char dir[CONFIG_PATH_MAX])
{
	size_t pos = 0;

	if (config_rules_next(cfg->rules, &pos, dir, CONFIG_PATH_MAX) != 1) {
		strcpy(dir, ".");
		return;
	}
	char *d = dirname(dir); /* may return dir itself, or a static "." */

	memmove(dir, d, strlen(d) + 1);
}

/* The classification file: configured, else classification.config beside the first pack. */
static struct classification *
load_classification(const struct postern_config *cfg, char *err, size_t errlen, bool *failed)
{
	char path[CONFIG_PATH_MAX + 32];

	*failed = false;
	if (cfg->classification[0] != '\0') {
		snprintf(path, sizeof(path), "%s", cfg->classification);
	} else {
		char dir[CONFIG_PATH_MAX];

		first_pack_dir(cfg, dir);
		snprintf(path, sizeof(path), "%s/classification.config", dir);
		if (access(path, F_OK) != 0)
			return NULL;
	}

	struct classification *c = classification_load(path, err, errlen);
	if (c == NULL)
		*failed = true;
	return c;
}

/* Tracked (rule, address) pairs: about 64 bytes each; the least recently used are evicted. */
#define RULEGEN_THRESHOLD_ENTRIES 65536

static bool
needs_thresholds(const struct rule_set *rs)
{
	for (uint32_t i = 0; i < rs->n_rules; i++)
		if (rs->rules[i].threshold.type != RULE_THRESHOLD_NONE ||
		    rs->rules[i].detection_filter.type != RULE_THRESHOLD_NONE)
			return true;
	return false;
}

/* The variables file: configured, else vars.conf beside the first pack, else none. */
static int
vars_path(const struct postern_config *cfg, char *path, size_t size)
{
	char dir[CONFIG_PATH_MAX];

	if (cfg->rule_vars[0] != '\0') {
		snprintf(path, size, "%s", cfg->rule_vars);
		return 1;
	}
	first_pack_dir(cfg, dir);
	snprintf(path, size, "%s/vars.conf", dir);
	return access(path, F_OK) == 0;
}

/*
 * The packs and the variables file as bytes, read once: they are parsed and hashed for the
 * cache key from the same copy, so a file replaced in between can never file a blob under
 * another pack's key.
 */
struct rule_inputs {
	struct rule_source src[CONFIG_RULES_PACKS_MAX]; /* names point into names[] */
	char *pack[CONFIG_RULES_PACKS_MAX];
	char names[CONFIG_RULES_PACKS_MAX][CONFIG_PATH_MAX];
	unsigned n_packs;
	char *vars;                 /* NULL when there is no variables file */
	size_t vars_len;
};

static void
rule_inputs_free(struct rule_inputs *in)
{
	for (unsigned i = 0; i < in->n_packs; i++)
		free(in->pack[i]);
	in->n_packs = 0;
	free(in->vars);
	in->vars = NULL;
}

static int
read_input(const char *path, size_t max, char **buf, size_t *len, char *err, size_t errlen)
{
	int rc = file_read_all(path, max, buf, len);

	if (rc == -EFBIG)
		snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
	else if (rc < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	return rc;
}

/*
 * The cache key: everything the blob depends on. The pack and the variables as bytes (the
 * classification only feeds alerts, never the blob), the parser's options, the compiler's
 * version, and the platform (Hyperscan version, CPU) through rule_cache_key_begin.
 */
static int
cache_key(const struct postern_config *cfg, const struct rule_inputs *in,
	  uint8_t key[RULE_CACHE_KEY_LEN])
{
	struct rule_cache_platform plat;
	struct rule_cache_key_ctx *k;
	uint8_t skip = cfg->rules_skip_unsupported;
	int rc = rule_cache_platform_host(&plat);

	if (rc < 0)
		return rc;
	k = rule_cache_key_begin(&plat);
	if (k == NULL)
		return -ENOMEM;
	rule_cache_key_add(k, "compiler", RULE_COMPILER_VERSION, strlen(RULE_COMPILER_VERSION));
	/* each pack's name and bytes, in order: reordering the packs, renaming one or moving a
	 * rule from one to another changes the set (rule order, errors, sources), so the key */
	for (unsigned i = 0; i < in->n_packs; i++) {
		rule_cache_key_add(k, "pack_name", in->src[i].name, strlen(in->src[i].name));
		rule_cache_key_add(k, "pack", in->src[i].text, in->src[i].len);
	}
	rule_cache_key_add(k, "vars", in->vars, in->vars_len);
	rule_cache_key_add(k, "skip_unsupported", &skip, 1);
	return rule_cache_key_end(k, key);
}

/*
 * The generation's blob: from the cache when this very pack was compiled on this platform
 * before, else compiled (and stored). A cache that cannot be used is logged, never fatal.
 */
static int
build_blob(struct rulegen *g, const struct postern_config *cfg, const struct netset_vars *vars,
	   const struct rule_inputs *in, void **blob, size_t *len, char *err, size_t errlen)
{
	uint8_t key[RULE_CACHE_KEY_LEN];
	bool cache = cfg->rule_cache_dir[0] != '\0';
	int rc;

	if (cache && cache_key(cfg, in, key) < 0)
		cache = false;
	if (cache) {
		rc = rule_cache_get(cfg->rule_cache_dir, key, blob, len);
		if (rc == 0) {
			struct gen_hdr *h = *blob;

			h->gen_id = g->id; /* the only field that differs between two builds */
			if (gen_blob_check(*blob, *len) == 0 &&
			    h->sec[GEN_SEC_RULES].count == g->rules->n_rules) {
				g->from_cache = true;
				return 0;
			}
			free(*blob);
			*blob = NULL;
		} else if (rc != -ENOENT) {
			log_warn("rule cache %s: %s; compiling", cfg->rule_cache_dir, strerror(-rc));
		}
	}
	rc = rule_compile(g->rules, vars, g->id, blob, len, err, errlen);
	if (rc < 0 || !cache)
		return rc;
	int prc = rule_cache_put(cfg->rule_cache_dir, key, *blob, *len, cfg->rule_cache_size);

	if (prc < 0)
		log_warn("rule cache %s: cannot store the generation: %s", cfg->rule_cache_dir,
			 strerror(-prc));
	return 0;
}

/* Every pack of the rules list, read whole (each at most RULE_MAX_FILE_LEN bytes). */
static int
read_packs(const struct postern_config *cfg, struct rule_inputs *in, char *err, size_t errlen)
{
	size_t pos = 0;
	int rc;

	for (;;) {
		char *name = in->names[in->n_packs];
		size_t len;

		if (in->n_packs == CONFIG_RULES_PACKS_MAX) {
			if (config_rules_next(cfg->rules, &pos, name, 0) == 0)
				break;
			snprintf(err, errlen, "rules: more than %d packs", CONFIG_RULES_PACKS_MAX);
			return -EINVAL;
		}
		rc = config_rules_next(cfg->rules, &pos, name, CONFIG_PATH_MAX);
		if (rc == 0)
			break;
		if (rc < 0) {
			snprintf(err, errlen, "rules: a path is longer than %d bytes",
				 CONFIG_PATH_MAX - 1);
			return rc;
		}
		rc = read_input(name, RULE_MAX_FILE_LEN, &in->pack[in->n_packs], &len, err, errlen);
		if (rc < 0)
			return rc;
		in->src[in->n_packs] = (struct rule_source){
			.name = name, .text = in->pack[in->n_packs], .len = len,
		};
		in->n_packs++;
	}
	if (in->n_packs == 0) {
		snprintf(err, errlen, "rules: no rule pack configured");
		return -EINVAL;
	}
	return 0;
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
	struct netset_vars *vars = NULL;
	struct rule_inputs *in = calloc(1, sizeof(*in)); /* 20 KB: not on a builder's stack */
	char vars_file[CONFIG_PATH_MAX + 16];
	bool has_vars = vars_path(cfg, vars_file, sizeof(vars_file)) > 0;
	void *blob = NULL;
	size_t blob_len = 0;
	bool cls_failed;
	struct timespec t0, t1;

	if (g == NULL || in == NULL) {
		snprintf(err, errlen, "out of memory");
		free(g);
		free(in);
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	g->id = id;
	g->memfd = -1;
	g->cls = load_classification(cfg, err, errlen, &cls_failed);
	if (cls_failed)
		goto fail;
	if (has_vars &&
	    read_input(vars_file, NETSET_VARS_FILE_MAX, &in->vars, &in->vars_len, err, errlen) < 0)
		goto fail;
	vars = has_vars ? netset_vars_parse_buffer(vars_file, in->vars, in->vars_len, err, errlen)
			: netset_vars_defaults();
	if (vars == NULL) {
		if (!has_vars)
			snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* every variable, also those no rule uses yet: a bad one is found when it is written */
	if (netset_vars_check(vars, err, errlen) < 0)
		goto fail;
	if (read_packs(cfg, in, err, errlen) < 0)
		goto fail;
	g->rules = rule_set_parse_sources(in->src, in->n_packs, g->cls,
					  cfg->rules_skip_unsupported ?
						  RULE_PARSE_SKIP_UNSUPPORTED : 0,
					  err, errlen);
	if (g->rules == NULL)
		goto fail;
	if (g->rules->warnings != NULL)
		log_warn("%u rules left out:\n%s", g->rules->n_skipped, g->rules->warnings);
	if (build_blob(g, cfg, vars, in, &blob, &blob_len, err, errlen) < 0)
		goto fail;
	netset_vars_destroy(vars);
	vars = NULL;
	rule_inputs_free(in);
	free(in);
	in = NULL;
	if (needs_thresholds(g->rules)) {
		g->thresholds = threshold_table_create(RULEGEN_THRESHOLD_ENTRIES);
		if (g->thresholds == NULL) {
			snprintf(err, errlen, "out of memory for the threshold table");
			goto fail;
		}
	}

	int rc = seal_blob(g, blob, blob_len);
	free(blob);
	if (rc < 0) {
		snprintf(err, errlen, "memfd for the rule generation: %s", strerror(-rc));
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	g->build_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		      (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	return g;
fail:
	netset_vars_destroy(vars);
	if (in != NULL)
		rule_inputs_free(in);
	free(in);
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
	threshold_table_destroy(g->thresholds);
	free(g);
}

bool
rulegen_lookup(void *ctx, const struct ipc_tx *tx, uint32_t gid, uint32_t sid,
	       struct eve_rule_info *out)
{
	const struct rulegen *g = ctx;
	const struct rule *r = g != NULL ? rule_set_find(g->rules, gid, sid) : NULL;

	if (r == NULL)
		return false;
	/* src is the client: every Postern alert belongs to a client-to-server transaction */
	if (g->thresholds != NULL) {
		const struct rule_threshold *t = r->threshold.type != RULE_THRESHOLD_NONE
							 ? &r->threshold
							 : &r->detection_filter;

		if (t->type != RULE_THRESHOLD_NONE &&
		    !threshold_check(g->thresholds, t, gid, sid, tx->src_ip, tx->dst_ip, tx->ts_us))
			out->suppressed = true;
	}
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
