/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of rule generations as posternd builds them (control/rulegen.c): the variables
 * file beside the pack, the on-disk cache (a second build of the same pack comes from it,
 * with the same blob but its own generation id; a changed pack or variables file does not),
 * rules left out for unsupported keywords, and threshold/detection_filter applied by the
 * alert lookup posternd writes alerts with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "gen_format.h"
#include "ipc.h"
#include "rule_parse.h"
#include "rulegen.h"
#include "test_tmpdir.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cache_and_vars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skip_unsupported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thresholds_in_lookup, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
