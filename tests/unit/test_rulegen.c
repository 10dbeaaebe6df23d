/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of rule generations as posternd builds them (control/rulegen.c): the variables
 * file beside the pack, the on-disk cache (a second build of the same pack comes from it,
 * with the same blob but its own generation id; a changed pack or variables file does not),
 * rules left out for unsupported keywords, threshold/detection_filter applied by the
 * alert lookup posternd writes alerts with, and several packs built as one generation (one
 * flowbit namespace; the cache key covers each pack's name, bytes and order).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gen_format.h"
#include "ipc.h"
#include "rule_parse.h"
#include "rulegen.h"
#include "test_tmpdir.h"

static int
mkdir_in(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return mkdir(path, 0700);
}

static char err[8192];

struct fixture {
	char dir[128];
	struct postern_config cfg;
};

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	assert_int_equal(test_tmpdir_make(fx->dir, sizeof(fx->dir)), 0);
	config_defaults(&fx->cfg);
	snprintf(fx->cfg.rules, sizeof(fx->cfg.rules), "%s/p.rules", fx->dir);
	snprintf(fx->cfg.rule_cache_dir, sizeof(fx->cfg.rule_cache_dir), "%s/cache", fx->dir);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	test_tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

static void *
blob_of(const struct rulegen *g)
{
	void *p = mmap(NULL, g->blob_len, PROT_READ, MAP_SHARED, g->memfd, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

#define PACK "alert smtp $MAILERS any -> any $SUBMIT (msg:\"m\"; smtp.helo; content:\"x\"; " \
	     "pcre:\"/x\\d+/R\"; sid:1;)\n"

static void
test_cache_and_vars(void **state)
{
	struct fixture *fx = *state;
	struct rulegen *a, *b, *c;

	write_file(fx->dir, "p.rules", PACK);
	write_file(fx->dir, "vars.conf", "MAILERS = [10.0.0.0/8]\nSUBMIT = 587\n");
	a = rulegen_build(&fx->cfg, 1, err, sizeof(err));
	if (a == NULL)
		fail_msg("%s", err);
	assert_false(a->from_cache);
	b = rulegen_build(&fx->cfg, 2, err, sizeof(err));
	assert_non_null(b);
	assert_true(b->from_cache);
	assert_int_equal(a->blob_len, b->blob_len);

	/* the same bytes but for the generation id */
	uint8_t *pa = blob_of(a), *pb = blob_of(b);

	assert_int_equal(((struct gen_hdr *)pa)->gen_id, 1);
	assert_int_equal(((struct gen_hdr *)pb)->gen_id, 2);
	assert_memory_equal(pa + sizeof(struct gen_hdr), pb + sizeof(struct gen_hdr),
			    a->blob_len - sizeof(struct gen_hdr));
	munmap(pa, a->blob_len);
	munmap(pb, b->blob_len);

	/* a changed variables file is another key */
	write_file(fx->dir, "vars.conf", "MAILERS = [10.0.0.0/16]\nSUBMIT = 587\n");
	c = rulegen_build(&fx->cfg, 3, err, sizeof(err));
	assert_non_null(c);
	assert_false(c->from_cache);
	rulegen_destroy(c);

	/* an unknown variable names the rule; a bad variable names its line */
	write_file(fx->dir, "vars.conf", "SUBMIT = 587\n");
	assert_null(rulegen_build(&fx->cfg, 4, err, sizeof(err)));
	assert_non_null(strstr(err, "p.rules:1:12: src: unknown variable $MAILERS (sid 1)"));
	write_file(fx->dir, "vars.conf", "MAILERS = 10.0.0.300\nSUBMIT = 587\n");
	assert_null(rulegen_build(&fx->cfg, 5, err, sizeof(err)));
	assert_non_null(strstr(err, "vars.conf:1"));

	/* no usable cache: compiled, and still correct */
	write_file(fx->dir, "vars.conf", "MAILERS = [10.0.0.0/8]\nSUBMIT = 587\n");
	snprintf(fx->cfg.rule_cache_dir, sizeof(fx->cfg.rule_cache_dir), "%s/p.rules/x", fx->dir);
	c = rulegen_build(&fx->cfg, 6, err, sizeof(err));
	assert_non_null(c);
	assert_false(c->from_cache);
	rulegen_destroy(c);
	rulegen_destroy(a);
	rulegen_destroy(b);
}

static void
test_skip_unsupported(void **state)
{
	struct fixture *fx = *state;
	struct rulegen *g;

	write_file(fx->dir, "p.rules",
		   "alert smtp any any -> any any (msg:\"a\"; smtp.helo; content:\"a\"; sid:1;)\n"
		   "alert smtp any any -> any any (msg:\"b\"; smtp.helo; content:\"b\"; "
		   "byte_test:1,>,2,0; sid:2;)\n");
	assert_null(rulegen_build(&fx->cfg, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "keyword 'byte_test' is not supported yet"));
	fx->cfg.rules_skip_unsupported = true;
	g = rulegen_build(&fx->cfg, 1, err, sizeof(err));
	assert_non_null(g);
	assert_int_equal(g->rules->n_rules, 1);
	assert_int_equal(g->rules->n_skipped, 1);
	assert_non_null(strstr(g->rules->warnings,
			       "p.rules:2:65: keyword 'byte_test' is not supported yet: rule left out"));
	rulegen_destroy(g);
}

static struct ipc_tx *
tx_from(uint8_t last_octet, uint64_t ts_us, uint8_t *buf)
{
	struct ipc_tx *tx = (struct ipc_tx *)buf;

	ipc_tx_init(tx, IPC_TX_MAX);
	tx->src_ip[10] = tx->src_ip[11] = 0xff;
	tx->src_ip[12] = 10;
	tx->src_ip[15] = last_octet;
	tx->dst_ip[10] = tx->dst_ip[11] = 0xff;
	tx->dst_ip[12] = 10;
	tx->dst_ip[15] = 99;
	tx->ts_us = ts_us;
	return tx;
}

/* limit by_src 2 per 60 s; detection_filter by_dst after 3 in 10 s. */
static void
test_thresholds_in_lookup(void **state)
{
	struct fixture *fx = *state;
	_Alignas(8) uint8_t buf[IPC_TX_MAX];
	struct eve_rule_info info;
	struct rulegen *g;
	int written = 0;

	write_file(fx->dir, "p.rules",
		   "alert smtp any any -> any any (msg:\"lim\"; smtp.helo; content:\"a\"; "
		   "threshold:type limit, track by_src, count 2, seconds 60; sid:1;)\n"
		   "alert smtp any any -> any any (msg:\"df\"; smtp.helo; content:\"b\"; "
		   "detection_filter:track by_dst, count 3, seconds 10; sid:2;)\n"
		   "alert smtp any any -> any any (msg:\"plain\"; smtp.helo; content:\"c\"; sid:3;)\n");
	g = rulegen_build(&fx->cfg, 1, err, sizeof(err));
	assert_non_null(g);
	assert_non_null(g->thresholds);
	for (int i = 0; i < 5; i++) {
		memset(&info, 0, sizeof(info));
		assert_true(rulegen_lookup(g, tx_from(1, (uint64_t)i * 1000000, buf), 1, 1, &info));
		written += !info.suppressed;
		assert_string_equal(info.msg, "lim");
	}
	assert_int_equal(written, 2);
	/* another source has its own count; a new window starts after 60 s */
	memset(&info, 0, sizeof(info));
	rulegen_lookup(g, tx_from(2, 5000000, buf), 1, 1, &info);
	assert_false(info.suppressed);
	memset(&info, 0, sizeof(info));
	rulegen_lookup(g, tx_from(1, 61000001, buf), 1, 1, &info);
	assert_false(info.suppressed);

	/* detection_filter: the 4th and later within 10 s, whatever the source */
	written = 0;
	for (int i = 0; i < 6; i++) {
		memset(&info, 0, sizeof(info));
		rulegen_lookup(g, tx_from((uint8_t)(i + 1), (uint64_t)i * 1000, buf), 1, 2, &info);
		written += !info.suppressed;
	}
	assert_int_equal(written, 3);
	for (int i = 0; i < 4; i++) {
		memset(&info, 0, sizeof(info));
		rulegen_lookup(g, tx_from(1, 0, buf), 1, 3, &info);
		assert_false(info.suppressed);
	}
	rulegen_destroy(g);
}

/* Several packs, one generation: a flowbit set in one pack is the one tested in another. */
static void
test_packs_flowbits(void **state)
{
	struct fixture *fx = *state;
	struct rulegen *g;

	assert_int_equal(mkdir_in(fx->dir, "sub"), 0);
	write_file(fx->dir, "a.rules",
		   "alert smtp any any -> any any (msg:\"set\"; email.subject; content:\"a\"; "
		   "flowbits:set,seen_a; flowbits:noalert; sid:1;)\n");
	write_file(fx->dir, "sub/b.rules",
		   "# checks what a.rules set\n"
		   "alert smtp any any -> any any (msg:\"check\"; email.subject; content:\"b\"; "
		   "flowbits:isset,seen_a; sid:2;)\n");
	snprintf(fx->cfg.rules, sizeof(fx->cfg.rules), "%s/a.rules,\t%s/sub/b.rules ", fx->dir,
		 fx->dir);
	g = rulegen_build(&fx->cfg, 1, err, sizeof(err));
	if (g == NULL)
		fail_msg("%s", err);
	assert_int_equal(g->rules->n_rules, 2);
	assert_int_equal(g->rules->rules[1].source, 1);

	const struct gen_hdr *h = blob_of(g);
	const struct gen_rule *r = gen_section(h, GEN_SEC_RULES);
	const struct gen_flowbit_op *ops = gen_section(h, GEN_SEC_FLOWBIT_OPS);

	assert_int_equal(h->sec[GEN_SEC_RULES].count, 2);
	assert_int_equal(r[0].n_flowbit_ops, 1);
	assert_int_equal(r[1].n_flowbit_ops, 1);
	assert_int_equal(ops[r[0].first_flowbit_op].op, GEN_FB_SET);
	assert_int_equal(ops[r[1].first_flowbit_op].op, GEN_FB_ISSET);
	/* one bit, and the reader evaluated after the setter */
	assert_int_equal(ops[r[0].first_flowbit_op].bit, ops[r[1].first_flowbit_op].bit);
	assert_true(r[1].stage > r[0].stage);
	munmap((void *)h, g->blob_len);
	rulegen_destroy(g);

	/* a compile error is named by the pack that holds the rule, at its own line */
	write_file(fx->dir, "sub/b.rules",
		   "\nalert smtp $NOPE any -> any any (msg:\"v\"; email.subject; content:\"b\"; "
		   "sid:2;)\n");
	assert_null(rulegen_build(&fx->cfg, 2, err, sizeof(err)));
	assert_non_null(strstr(err, "sub/b.rules:2:12: src: unknown variable $NOPE (sid 2)"));

	/* a missing pack is named; an empty list is refused */
	snprintf(fx->cfg.rules, sizeof(fx->cfg.rules), "%s/a.rules %s/none.rules", fx->dir,
		 fx->dir);
	assert_null(rulegen_build(&fx->cfg, 3, err, sizeof(err)));
	assert_non_null(strstr(err, "none.rules: No such file"));
	snprintf(fx->cfg.rules, sizeof(fx->cfg.rules), " , ");
	assert_null(rulegen_build(&fx->cfg, 4, err, sizeof(err)));
	assert_non_null(strstr(err, "rules: no rule pack"));
}

/* The cache key covers every pack's bytes, name and place in the list. */
static void
test_packs_cache_key(void **state)
{
	struct fixture *fx = *state;
	struct rulegen *g;
	static const char r1[] = "alert smtp any any -> any any (msg:\"1\"; email.subject; "
				 "content:\"one\"; sid:1;)\n";
	static const char r2[] = "alert smtp any any -> any any (msg:\"2\"; email.subject; "
				 "content:\"two\"; sid:2;)\n";
	char ab[1024], ba[1024], ac[1024], text[512];

	snprintf(text, sizeof(text), "%s%s", r1, r2);
	write_file(fx->dir, "a.rules", r1);
	write_file(fx->dir, "b.rules", r2);
	write_file(fx->dir, "c.rules", r2);
	snprintf(ab, sizeof(ab), "%s/a.rules %s/b.rules", fx->dir, fx->dir);
	snprintf(ba, sizeof(ba), "%s/b.rules %s/a.rules", fx->dir, fx->dir);
	snprintf(ac, sizeof(ac), "%s/a.rules %s/c.rules", fx->dir, fx->dir);

	const struct {
		const char *list;
		const char *a, *b;      /* a.rules and b.rules before the build, or NULL */
		bool cached;
	} steps[] = {
		{ ab, NULL, NULL, false },
		{ ab, NULL, NULL, true },   /* the same packs: from the cache */
		{ ba, NULL, NULL, false },  /* the other order */
		{ ac, NULL, NULL, false },  /* the same bytes under another name */
		{ ab, "", text, false },    /* a rule moved from a.rules to b.rules */
		{ ab, text, "", false },    /* and both into a.rules */
		{ ab, r1, r2, true },       /* as at first */
		{ ba, NULL, NULL, true },
	};

	for (unsigned i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		snprintf(fx->cfg.rules, sizeof(fx->cfg.rules), "%s", steps[i].list);
		if (steps[i].a != NULL)
			write_file(fx->dir, "a.rules", steps[i].a);
		if (steps[i].b != NULL)
			write_file(fx->dir, "b.rules", steps[i].b);
		g = rulegen_build(&fx->cfg, i + 1, err, sizeof(err));
		if (g == NULL)
			fail_msg("step %u: %s", i, err);
		assert_int_equal(g->rules->n_rules, 2);
		if (g->from_cache != steps[i].cached)
			fail_msg("step %u: from_cache %d", i, g->from_cache);
		rulegen_destroy(g);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cache_and_vars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skip_unsupported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thresholds_in_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_packs_flowbits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_packs_cache_key, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
