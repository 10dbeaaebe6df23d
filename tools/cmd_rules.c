/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * posternctl rules check [PACK]: build a rule generation exactly as posternd would on start
 * or reload (parse, classification, Hyperscan compile), without posternd, so a security team
 * can validate a pack before deploying it. Prints every error as file:line:column, or the
 * number of rules and the compiled size. Nothing is written but the compile cache.
 * posternctl rules test PACK INPUT...: the pack run offline over captures and messages
 * (rules_test.h).
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
	fprintf(f, "usage: posternctl rules check [PACK]\n"
		   "       posternctl rules test [--json] PACK INPUT...\n"
		   "  check: build a rule pack (default: the config's rules) as posternd would;\n"
		   "  exit 0 when it loads, 1 with every error (file:line:column) when it does not\n"
		   "  test: run PACK over captures (pcap, pcapng) and messages (.eml) offline and\n"
		   "  print the rules that fired for each transaction\n");
}

static int
rules_check(const char *pack, const struct postern_config *cfg)
{
	struct postern_config c = *cfg;
	static char err[1 << 16];
	struct rulegen *g;

	if (pack != NULL) {
		if (strlen(pack) >= sizeof(c.rules)) {
			fprintf(stderr, "posternctl: %s: path too long\n", pack);
			return 2;
		}
		/* the classification is the config's, or the one beside the pack */
		strcpy(c.rules, pack);
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
	if (argc >= 2 && strcmp(argv[1], "check") == 0 && argc <= 3)
		return rules_check(argc == 3 ? argv[2] : NULL, cfg);
	if (argc >= 2 && strcmp(argv[1], "test") == 0)
		return rules_test_main(argc - 1, argv + 1, cfg);
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
