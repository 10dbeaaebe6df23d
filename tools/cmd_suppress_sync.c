/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `posternctl suppress sync`: make the suppression set hold what the company's own opt-out
 * table holds. The configured query (suppress_sync_query) runs through ODBC on the configured
 * connection string (suppress_sync_dsn), its rows are checked by the importer, and the batch is
 * loaded as source "sync:NAME" with replace_source: records of that source the query no longer
 * returns are removed, while entries of other sources (files, other syncs, hand edits) stay.
 * All or nothing: a bad row refuses the whole sync unless --skip-bad, and an empty result is
 * refused unless --allow-empty (a truncated or restored table must not lift every opt-out).
 * Fetching lives in suppress_sync.c, writing in suppress_load.c; this file is options,
 * messages and exit codes. posternctl's main thread only.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "business_days.h"
#include "cmd_suppress_report.h"
#include "commands.h"
#include "config.h"
#include "suppress_import.h"
#include "suppress_load.h"
#include "suppress_sync.h"
#include "suppress_writer.h"

#define EXIT_OK SUPPRESS_EXIT_OK
#define EXIT_REFUSED SUPPRESS_EXIT_REFUSED
#define EXIT_ERROR SUPPRESS_EXIT_ERROR

#define SYNC_NAME_MAX 64

static const char usage_text[] =
	"usage: posternctl suppress sync [OPTIONS]\n"
	"\n"
	"Load the opt-outs that a query on the company's database returns (through ODBC) into\n"
	"the suppression set, as source sync:NAME. Entries of that source that the query no\n"
	"longer returns are removed; entries of other sources are kept.\n"
	"\n"
	"      --dsn STRING     ODBC connection string (default: suppress_sync_dsn), e.g.\n"
	"                       \"Driver={PostgreSQL Unicode};Server=db;Port=5432;Database=crm;\n"
	"                       Uid=postern;Pwd=...\" (a password shown in messages is masked)\n"
	"      --query SQL      the query (default: suppress_sync_query)\n"
	"      --name NAME      source name, letters, digits, '.', '_', '-' (default: default)\n"
	"      --timeout SECS   for the login and for the query (default: 30)\n"
	"      --dry-run        fetch and check the rows, print the counts, write nothing\n"
	"      --skip-bad       load the good rows even when some are bad\n"
	"      --allow-empty    load an empty result (removes every entry of the source)\n"
	"\n"
	"Columns are found by name as in `suppress import`: alias them, e.g.\n"
	"  SELECT mail AS email, unsubscribed AS optout_date, resubscribed AS consent_date,\n"
	"         scope FROM crm_optouts\n"
	"Times are UTC: write `col AT TIME ZONE 'UTC'` for a timestamp with time zone.\n"
	"Use a database role that may only SELECT. For a large table with psqlODBC, add\n"
	"UseDeclareFetch=1;Fetch=10000 to the connection string to stream the rows.\n"
	"Exit: 0 synced, 1 refused (bad rows, missing columns, empty result; nothing changed),\n"
	"2 usage, connection, query or system error.\n";

static int
usage(FILE *f, int code)
{
	fputs(usage_text, f);
	return code;
}

static bool
name_is_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > SYNC_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int
parse_timeout(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > SUPPRESS_SYNC_TIMEOUT_MAX)
		return -ERANGE;
	*out = (unsigned)v;
	return 0;
}

/* What a failed load means for the operator, and the exit code. */
static int
load_failed(const char *source, const char *path, int rc)
{
	switch (rc) {
	case -ESTALE:
		fprintf(stderr, "%s: the set at %s was created meanwhile with other normalization "
				"flags: nothing written, run the sync again\n", source, path);
		break;
	case -EBUSY:
		fprintf(stderr, "%s: another posternctl is writing %s: nothing written, try again "
				"later\n", source, path);
		break;
	case -ENOSPC:
		fprintf(stderr, "%s: the set at %s is full: nothing written (raise "
				"suppress_map_size)\n", source, path);
		break;
	default:
		fprintf(stderr, "%s: writing %s failed, nothing written: %s\n", source, path,
			strerror(-rc));
		break;
	}
	return EXIT_ERROR;
}

struct sync_run {
	const struct postern_config *cfg;
	struct suppress_sync_opts so;
	struct suppress_import_opts io;   /* name set; norm_flags per attempt */
	struct suppress_load_opts lo;
	bool dry_run;
	bool allow_empty;
};

/*
 * The flags the set's keys are made with: the existing set's, else those the configuration
 * gives a new one. 0, or -errno after a message.
 */
static int
current_flags(const struct postern_config *cfg, unsigned *flags)
{
	int rc = suppress_db_peek_norm_flags(cfg->suppress_db, flags);

	if (rc == -ENOENT) {
		*flags = suppress_cli_config_flags(cfg);
		return 0;
	}
	if (rc < 0)
		fprintf(stderr, "%s: %s\n", cfg->suppress_db, strerror(-rc));
	return rc;
}

/*
 * Fetch, check, load. Returns the exit code, or -ESTALE when the set was created with other
 * flags between keying and loading (nothing written: key again).
 */
static int
sync_once(struct sync_run *run, bool last_attempt)
{
	const char *source = run->io.name;
	struct suppress_sync_stats sst;
	struct suppress_load_stats lst = { 0 };
	struct suppress_import im;
	unsigned flags;
	int rc, code;

	if (current_flags(run->cfg, &flags) < 0)
		return EXIT_ERROR;
	rc = suppress_import_init(&im);
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", source, strerror(-rc));
		return EXIT_ERROR;
	}
	run->io.norm_flags = flags;
	rc = suppress_sync_fetch(&im, &run->io, &run->so, &sst);
	if (rc == -EBADMSG || rc == -E2BIG) {
		fprintf(stderr, "%s: refused, nothing written\n", source);
		code = EXIT_REFUSED;
		goto fini;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: nothing written\n", source);
		code = EXIT_ERROR;
		goto fini;
	}
	if (run->dry_run)
		printf("%s: dry run: %" PRIu64 " rows, %" PRIu64 " good, %" PRIu64 " bad, %zu "
		       "entries; nothing written\n", source, sst.rows, im.n_good, im.n_bad, im.n);
	if (im.n_bad > 0 && !run->io.skip_bad) {
		fprintf(stderr, "%s: %" PRIu64 " bad row(s) of %" PRIu64 ": nothing written "
				"(--skip-bad loads the others)\n", source, im.n_bad, sst.rows);
		code = EXIT_REFUSED;
		goto fini;
	}
	/* A truncated table, a restore gone wrong or a WHERE that matches nothing looks just
	 * like this; with replace_source it would lift every opt-out of the source. */
	if (im.n_good == 0 && !run->allow_empty) {
		fprintf(stderr, "%s: the query returned no good row (%" PRIu64 " rows): nothing "
				"written; a sync would remove every entry of %s (--allow-empty if "
				"that is meant)\n", source, sst.rows, source);
		code = EXIT_REFUSED;
		goto fini;
	}
	if (run->dry_run) {
		code = EXIT_OK; /* the sync would have been done: checked above */
		goto fini;
	}

	run->lo.now = (int64_t)time(NULL);
	rc = suppress_load_batch(&im, run->cfg->suppress_db, flags, &run->lo, &lst);
	if (rc == -ESTALE && !last_attempt) {
		fprintf(stderr, "%s: the set was created meanwhile with other normalization "
				"flags: fetching again\n", source);
		code = -ESTALE;
		goto fini;
	}
	if (rc < 0) {
		code = load_failed(source, run->cfg->suppress_db, rc);
		goto fini;
	}
	printf("%s: %" PRIu64 " rows, %" PRIu64 " skipped; added %" PRIu64 ", updated %" PRIu64
	       ", removed %" PRIu64 "%s\n", source, sst.rows, im.n_bad, lst.added, lst.updated,
	       lst.removed, lst.rebuilt ? "; set rebuilt" : "");
	code = EXIT_OK;
fini:
	suppress_import_fini(&im);
	return code;
}

int
cmd_suppress_sync(int argc, char **argv, const struct postern_config *cfg)
{
	static const struct option longopts[] = {
		{ "dsn", required_argument, NULL, 'd' },
		{ "query", required_argument, NULL, 'q' },
		{ "name", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'N' },
		{ "skip-bad", no_argument, NULL, 's' },
		{ "allow-empty", no_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sync_run run = {
		.cfg = cfg,
		.so = { .dsn = cfg->suppress_sync_dsn, .query = cfg->suppress_sync_query },
		.io = { .now = (int64_t)time(NULL) },
		.lo = { .replace_source = true, .bulk = -1, .map_size = cfg->suppress_map_size },
	};
	char source[sizeof("sync:") + SYNC_NAME_MAX];
	const char *name = "default";
	struct bday_calendar *cal;
	int opt, code;

	suppress_cli_getopt_reset();
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			run.so.dsn = optarg;
			break;
		case 'q':
			run.so.query = optarg;
			break;
		case 'n':
			if (!name_is_valid(optarg)) {
				fprintf(stderr, "suppress sync: bad name \"%s\" (1 to %d letters, "
						"digits, '.', '_', '-')\n", optarg, SYNC_NAME_MAX);
				return EXIT_ERROR;
			}
			name = optarg;
			break;
		case 't':
			if (parse_timeout(optarg, &run.so.timeout) < 0) {
				fprintf(stderr, "suppress sync: bad timeout \"%s\" (1 to %u "
						"seconds)\n", optarg, SUPPRESS_SYNC_TIMEOUT_MAX);
				return EXIT_ERROR;
			}
			break;
		case 'N':
			run.dry_run = true;
			break;
		case 's':
			run.io.skip_bad = true;
			break;
		case 'E':
			run.allow_empty = true;
			break;
		case 'h':
			return usage(stdout, EXIT_OK);
		default:
			return usage(stderr, EXIT_ERROR);
		}
	}
	if (optind != argc)
		return usage(stderr, EXIT_ERROR);
	snprintf(source, sizeof(source), "sync:%s", name);
	if (run.so.dsn[0] == '\0' || run.so.query[0] == '\0') {
		bool no_dsn = run.so.dsn[0] == '\0';

		fprintf(stderr, "%s: no %s: set suppress_sync_%s in the configuration or pass "
				"--%s\n", source, no_dsn ? "connection string" : "query",
			no_dsn ? "dsn" : "query", no_dsn ? "dsn" : "query");
		return EXIT_ERROR;
	}
	if (suppress_cli_calendar(cfg, "sync", &cal) < 0)
		return EXIT_ERROR;
	run.io.name = source;
	run.lo.source = source;
	run.lo.cal = cal;
	run.lo.progress = isatty(STDERR_FILENO) == 1;
	/* Keyed with the set's flags; if a set with other ones appears meanwhile, once more. */
	code = sync_once(&run, false);
	if (code == -ESTALE)
		code = sync_once(&run, true);
	bday_calendar_free(cal);
	return code;
}
