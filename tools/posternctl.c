/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * posternctl: the operator's command line. Loads postern.conf (so it agrees with posternd and
 * the dataplane on every path) and runs one sub-command.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "log.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv, const struct postern_config *cfg);
	const char *help;
} commands[] = {
	{ "suppress", cmd_suppress, "suppression set: import, sync, check, edit, export, stats" },
	{ "alerts", cmd_alerts, "print alerts from posternd's alert socket as they come" },
	{ "stats", cmd_stats, "counters of posternd and the dataplane" },
	{ "reload", cmd_reload, "recompile the rule pack and hand it to the dataplane" },
	{ "rules", cmd_rules, "check a rule pack as posternd would load it, without posternd" },
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: posternctl [-c CONFIG] COMMAND [ARGS...]\n\n"
		     "  -c, --config FILE  postern.conf (default /etc/postern/postern.conf)\n"
		     "  -h, --help         this text; COMMAND --help for a command's own\n\n"
		     "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = "/etc/postern/postern.conf";
	bool path_given = false;
	struct postern_config cfg;
	char err[512];
	int c;

	log_init("posternctl", LOG_LVL_INFO);
	/* "+": stop at the first non-option, the command; its options are its own. */
	while ((c = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			path_given = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	config_defaults(&cfg);
	/* Without -c, a missing default config is fine: the built-in defaults apply. */
	if ((path_given || access(path, F_OK) == 0) && config_load(&cfg, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "posternctl: %s\n", err);
		return 2;
	}
	int first = optind;

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[first], commands[i].name) == 0) {
			optind = 0; /* glibc: start getopt afresh for the command's own options */
			return commands[i].run(argc - first, argv + first, &cfg);
		}
	}
	fprintf(stderr, "posternctl: unknown command '%s'\n", argv[first]);
	usage(stderr);
	return 2;
}
