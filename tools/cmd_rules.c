/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * posternctl rules check [PACK...]: build a rule generation exactly as posternd would on start
 * or reload (parse, classification, Hyperscan compile), without posternd, so a security team
 * can validate a pack before deploying it. Prints every error as file:line:column, or the
 * number of rules and the compiled size. Nothing is written but the compile cache.
 * Several packs are loaded together, as a rules list in postern.conf is.
 * posternctl rules test [--pack PACK]... PACK INPUT...: the packs run offline over captures
 * and messages (rules_test.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "rule_parse.h"
#include "rules_test.h"
#include "rulegen.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: posternctl rules check [PACK...]\n"
		   "       posternctl rules test [--json] PACK INPUT...\n"
		   "       posternctl rules test [--json] --pack PACK [--pack PACK]... INPUT...\n"
		   "  check: build the packs together (default: the config's rules list) as\n"
		   "  posternd would; exit 0 when they load, 1 with every error\n"
		   "  (file:line:column) when they do not\n"
		   "  test: run the packs over captures (pcap, pcapng) and messages (.eml) offline\n"
		   "  and print the rules that fired for each transaction\n");
}

static int
rules_check(char *const *packs, unsigned n, const struct postern_config *cfg)
{
	struct postern_config c = *cfg;
	static char err[1 << 16];
	struct rulegen *g;

	/* the classification is the config's, or the one beside the first pack */
	if (n > 0 && rules_test_pack_list(c.rules, sizeof(c.rules), packs, n, err,
					  sizeof(err)) < 0) {
		fprintf(stderr, "posternctl: %s\n", err);
		return 2;
	}
	g = rulegen_build(&c, 1, err, sizeof(err));
	if (g == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (g->rules->warnings != NULL)
		fprintf(stderr, "%s\n", g->rules->warnings);
	printf("%s: %u rules (%u left out), compiled to %zu bytes in %.0f ms%s\n", c.rules,
	       g->rules->n_rules, g->rules->n_skipped, g->blob_len, g->build_ms,
	       g->from_cache ? ", from the cache" : "");
	rulegen_destroy(g);
	return 0;
}

int
cmd_rules(int argc, char **argv, const struct postern_config *cfg)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0) {
		if (argc >= 3 && argv[2][0] == '-') {
			usage(argv[2][1] == 'h' || strcmp(argv[2], "--help") == 0 ? stdout : stderr);
			return argv[2][1] == 'h' || strcmp(argv[2], "--help") == 0 ? 0 : 2;
		}
		return rules_check(argv + 2, (unsigned)(argc - 2), cfg);
	}
	if (argc >= 2 && strcmp(argv[1], "test") == 0)
		return rules_test_main(argc - 1, argv + 1, cfg);
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
