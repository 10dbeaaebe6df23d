/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `posternctl suppress`: import an opt-out list (one transaction, all rows or none unless
 * --skip-bad), check an address as the dataplane would, and small edits (add, remove,
 * consent, init). Parsing and writing live in suppress_import.c and suppress_db.c; this file
 * is options, messages and exit codes. posternctl's main thread only.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr_norm.h"
#include "business_days.h"
#include "commands.h"
#include "ipc.h"
#include "suppress_db.h"
#include "suppress_import.h"
#include "suppress_writer.h"

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_ERROR = 2 };

static const char usage_text[] =
	"usage: posternctl suppress COMMAND [OPTIONS]\n"
	"\n"
	"  import FILE       add an opt-out list (CSV with a header row; FILE - is stdin)\n"
	"      --email-column NAME    address column (default: email, address, e-mail,\n"
	"                             recipient)\n"
	"      --date-column NAME     opt-out time column (default: optout_date, opt_out,\n"
	"                             date, unsubscribed_at)\n"
	"      --consent-column NAME  consent time column (default: consent_date, optional)\n"
	"      --delimiter C          field delimiter (default ','; 'tab' for tabs)\n"
	"      --skip-bad             import the good rows even when some are bad\n"
	"  check ADDRESS     print the verdict for ADDRESS and why\n"
	"      --at TIME              evaluate at TIME instead of now\n"
	"  add ADDRESS       add one opt-out\n"
	"      --date TIME            when it was requested (default: now)\n"
	"  remove ADDRESS    remove an entry\n"
	"  consent ADDRESS   record affirmative consent given after the opt-out\n"
	"      --date TIME            when it was given (default: now)\n"
	"  init              create the set with non-default address normalization\n"
	"      --lowercase-local      treat local parts as case-insensitive\n"
	"      --strip-tag            ignore \"+tag\" in local parts\n"
	"\n"
	"ADDRESS is user@domain, or @domain for every address of a domain. TIME is UTC:\n"
	"YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, \"YYYY-MM-DD HH:MM:SS\" or @SECONDS.\n"
	"The set is the LMDB directory suppress_db of the configuration.\n"
	"Exit: 0 done (check: whatever the verdict), 1 refused (bad rows, not on the list),\n"
	"2 usage or system error.\n";

static int
usage(FILE *f, int code)
{
	fputs(usage_text, f);
	return code;
}

/* getopt_long over a sub-command's own argv (argv[0] = its name), from the start. */
static void
getopt_reset(void)
{
	optind = 0; /* glibc: reinitialize, including the argument permutation state */
}

static int
parse_when(const char *s, int64_t *t)
{
	if (s[0] == '@') {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (errno != 0 || end == s + 1 || *end != '\0')
			return -EINVAL;
		*t = v;
		return 0;
	}
	return suppress_import_parse_time(slice_from_cstr(s), t);
}

static struct suppress_db *
open_writer(const struct postern_config *cfg, unsigned norm_flags)
{
	int rc = suppress_import_mkdirs(cfg->suppress_db);

	if (rc < 0) {
		fprintf(stderr, "%s: cannot create: %s\n", cfg->suppress_db, strerror(-rc));
		return NULL;
	}
	return suppress_writer_open(cfg->suppress_db, cfg->suppress_map_size, norm_flags);
}

static int
cmd_import(int argc, char **argv, const struct postern_config *cfg)
{
	static const struct option longopts[] = {
		{ "email-column", required_argument, NULL, 'e' },
		{ "date-column", required_argument, NULL, 'd' },
		{ "consent-column", required_argument, NULL, 'c' },
		{ "delimiter", required_argument, NULL, 't' },
		{ "skip-bad", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct suppress_import_opts o = { .now = (int64_t)time(NULL) };
	struct suppress_import im;
	const char *file;
	FILE *in;
	int opt, rc, code;

	getopt_reset();
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			o.email_column = optarg;
			break;
		case 'd':
			o.date_column = optarg;
			break;
		case 'c':
			o.consent_column = optarg;
			break;
		case 't':
			if (strcmp(optarg, "tab") == 0 || strcmp(optarg, "\\t") == 0) {
				o.delimiter = '\t';
			} else if (strlen(optarg) == 1 && optarg[0] != '"' && optarg[0] != '\n' &&
				   optarg[0] != '\r') {
				o.delimiter = optarg[0];
			} else {
				fprintf(stderr, "suppress import: bad delimiter \"%s\"\n", optarg);
				return EXIT_ERROR;
			}
			break;
		case 's':
			o.skip_bad = true;
			break;
		case 'h':
			return usage(stdout, EXIT_OK);
		default:
			return usage(stderr, EXIT_ERROR);
		}
	}
	if (optind != argc - 1)
		return usage(stderr, EXIT_ERROR);
	file = argv[optind];

	in = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	if (in == NULL) {
		fprintf(stderr, "%s: %s\n", file, strerror(errno));
		return EXIT_ERROR;
	}
	rc = suppress_import_init(&im);
	if (rc < 0) {
		fprintf(stderr, "suppress import: %s\n", strerror(-rc));
		code = EXIT_ERROR;
		goto close_in;
	}
	o.name = file;
	rc = suppress_import_run(&im, cfg->suppress_db, cfg->suppress_map_size, in, &o);
	if (rc == 0) {
		printf("imported %" PRIu64 ", skipped %" PRIu64 "\n", im.n_good, im.n_bad);
		code = EXIT_OK;
	} else if (rc == -EBADMSG || rc == -E2BIG) {
		code = EXIT_REFUSED; /* reported row by row or for the file */
	} else {
		fprintf(stderr, "%s: import failed, nothing imported: %s\n", file, strerror(-rc));
		code = EXIT_ERROR;
	}
	suppress_import_fini(&im);
close_in:
	if (in != stdin)
		fclose(in);
	return code;
}

#define ARGS_HELP (-1) /* --help was printed: exit 0 */

/* Parse "ADDRESS [--TIME_OPT TIME]" for check, add, consent, remove: EXIT_OK to go on,
 * ARGS_HELP, or the exit code of a usage error. */
static int
parse_addr_args(int argc, char **argv, const char *time_opt, const char **addr, int64_t *t)
{
	struct option longopts[3] = { { "help", no_argument, NULL, 'h' } };
	int opt;

	if (time_opt != NULL)
		longopts[1] = (struct option){ time_opt, required_argument, NULL, 'T' };
	*t = (int64_t)time(NULL);
	getopt_reset();
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'T':
			if (parse_when(optarg, t) < 0) {
				fprintf(stderr, "suppress %s: bad time \"%s\" (YYYY-MM-DD, "
						"YYYY-MM-DDTHH:MM:SSZ, \"YYYY-MM-DD HH:MM:SS\" or "
						"@SECONDS)\n", argv[0], optarg);
				return EXIT_ERROR;
			}
			break;
		case 'h':
			usage(stdout, EXIT_OK);
			return ARGS_HELP;
		default:
			return usage(stderr, EXIT_ERROR);
		}
	}
	if (optind != argc - 1)
		return usage(stderr, EXIT_ERROR);
	*addr = argv[optind];
	return EXIT_OK;
}

static void
print_key_error(const char *cmd, const char *addr, int rc)
{
	const char *why = strerror(-rc);

	if (rc == -ENAMETOOLONG)
		why = "too long";
	else if (rc == -EINVAL)
		why = "not an address";
	fprintf(stderr, "suppress %s: \"%s\": %s\n", cmd, addr, why);
}

static int
cmd_check(int argc, char **argv, const struct postern_config *cfg)
{
	char norm[ADDR_NORM_CAP], t1[SUPPRESS_TIME_STR], t2[SUPPRESS_TIME_STR], line[32] = "";
	struct suppress_verdict v;
	struct suppress_rec rec;
	struct suppress_db *db;
	struct suppress_reader *r;
	const char *addr;
	int64_t at;
	int rc, code;

	code = parse_addr_args(argc, argv, "at", &addr, &at);
	if (code != EXIT_OK)
		return code == ARGS_HELP ? EXIT_OK : code;
	/* Read-only: an operator may check without the right to write. */
	db = suppress_db_open(cfg->suppress_db, true);
	if (db == NULL)
		return EXIT_ERROR;
	r = suppress_reader_create(db);
	if (r == NULL) {
		fprintf(stderr, "suppress check: %s\n", strerror(errno));
		code = EXIT_ERROR;
		goto close_db;
	}
	struct slice s = slice_trim(slice_from_cstr(addr));

	if (s.len > 1 && (s.ptr[0] == '@' || (s.ptr[0] == '<' && s.ptr[1] == '@'))) {
		fprintf(stderr, "suppress check: takes an address; a domain-wide entry shows when "
				"checking any address of the domain\n");
		code = EXIT_ERROR;
		goto destroy_reader;
	}
	rc = addr_normalize(s, suppress_db_norm_flags(db), norm, sizeof(norm));
	if (rc >= 0)
		rc = suppress_lookup_rec(r, s, at, &v, &rec);
	if (rc < 0) {
		print_key_error("check", addr, rc);
		code = EXIT_ERROR;
		goto destroy_reader;
	}
	code = EXIT_OK;
	if (rc == 0) {
		printf("%s: not suppressed\n", norm);
		goto destroy_reader;
	}
	suppress_import_format_time(v.optout_time, t1);
	if (rec.source_line != 0)
		snprintf(line, sizeof(line), ", source line %" PRIu32, rec.source_line);
	const char *dw = v.domain_wide ? "domain-wide, " : "";

	switch (v.verdict) {
	case IPC_SUPPRESS_NONE:
		suppress_import_format_time(v.consent_time, t2);
		printf("%s: not suppressed (%sopted out %s, consent given %s%s)\n", norm, dw, t1,
		       t2, line);
		break;
	case IPC_SUPPRESS_GRACE:
		suppress_import_format_time(v.grace_end, t2);
		printf("%s: grace (%sopted out %s, grace ends %s%s)\n", norm, dw, t1, t2, line);
		break;
	default:
		suppress_import_format_time(v.grace_end, t2);
		printf("%s: violation (%sopted out %s, grace ended %s%s)\n", norm, dw, t1, t2,
		       line);
		break;
	}
destroy_reader:
	suppress_reader_destroy(r);
close_db:
	suppress_db_close(db);
	return code;
}

enum edit_op { EDIT_ADD, EDIT_REMOVE, EDIT_CONSENT };

static int
cmd_edit(int argc, char **argv, const struct postern_config *cfg, enum edit_op op)
{
	char norm[ADDR_NORM_CAP], t1[SUPPRESS_TIME_STR], t2[SUPPRESS_TIME_STR];
	uint8_t key[SUPPRESS_KEY_LEN];
	enum suppress_table table;
	struct suppress_rec rec, pair[2];
	struct suppress_db *db;
	const char *addr;
	int64_t when;
	int rc, code;

	code = parse_addr_args(argc, argv, op == EDIT_REMOVE ? NULL : "date", &addr, &when);
	if (code != EXIT_OK)
		return code == ARGS_HELP ? EXIT_OK : code;
	if (op != EDIT_ADD) {
		unsigned flags;

		/* Nothing to remove or lift without a set: do not create one. */
		rc = suppress_db_peek_norm_flags(cfg->suppress_db, &flags);
		if (rc == -ENOENT) {
			fprintf(stderr, "%s: not on the list (no set at %s)\n", addr,
				cfg->suppress_db);
			return EXIT_REFUSED;
		}
		if (rc < 0) {
			fprintf(stderr, "%s: %s\n", cfg->suppress_db, strerror(-rc));
			return EXIT_ERROR;
		}
	}
	db = open_writer(cfg, 0);
	if (db == NULL)
		return EXIT_ERROR;
	rc = suppress_db_key(db, slice_from_cstr(addr), &table, key, norm, sizeof(norm));
	if (rc < 0) {
		print_key_error(argv[0], addr, rc);
		code = EXIT_ERROR;
		goto close_db;
	}
	rc = suppress_write_begin(db);
	if (rc < 0) {
		code = EXIT_ERROR;
		goto close_db;
	}
	rc = suppress_write_get(db, table, key, &pair[0]);
	if (rc < 0 && rc != -ENOENT && !(rc == -EBADMSG && op != EDIT_CONSENT)) {
		fprintf(stderr, "suppress %s: %s: %s\n", argv[0], norm, strerror(-rc));
		code = EXIT_ERROR;
		goto abort;
	}
	if (rc == -ENOENT && op != EDIT_ADD) {
		fprintf(stderr, "%s: not on the list\n", norm);
		code = EXIT_REFUSED;
		goto abort;
	}

	switch (op) {
	case EDIT_ADD:
		pair[1] = (struct suppress_rec){
			.version = SUPPRESS_REC_VERSION,
			.scope = SUPPRESS_SCOPE_ALL,
			.optout_time = when,
			.grace_end = business_days_add(when, SUPPRESS_GRACE_BUSINESS_DAYS),
		};
		if (pair[1].grace_end == INT64_MIN) {
			fprintf(stderr, "suppress add: time out of range\n");
			code = EXIT_ERROR;
			goto abort;
		}
		if (rc == 0)
			suppress_rec_merge(&rec, pair, 2, sizeof(pair[0]));
		else
			rec = pair[1];
		rc = suppress_write_put(db, table, key, &rec);
		break;
	case EDIT_CONSENT:
		rec = pair[0];
		if (when > rec.consent_time)
			rec.consent_time = when;
		rc = suppress_write_put(db, table, key, &rec);
		break;
	case EDIT_REMOVE:
		rc = suppress_write_del(db, table, key);
		break;
	}
	if (rc < 0) {
		code = EXIT_ERROR;
		goto abort;
	}
	rc = suppress_write_commit(db);
	if (rc < 0) {
		code = EXIT_ERROR;
		goto close_db;
	}

	switch (op) {
	case EDIT_ADD:
		suppress_import_format_time(rec.optout_time, t1);
		suppress_import_format_time(rec.grace_end, t2);
		printf("%s: opted out %s, grace ends %s\n", norm, t1, t2);
		break;
	case EDIT_CONSENT:
		suppress_import_format_time(rec.optout_time, t1);
		suppress_import_format_time(rec.consent_time, t2);
		if (rec.consent_time > rec.optout_time)
			printf("%s: consent given %s lifts the opt-out of %s\n", norm, t2, t1);
		else
			printf("%s: consent given %s is not after the opt-out of %s: still "
			       "suppressed\n", norm, t2, t1);
		break;
	case EDIT_REMOVE:
		printf("%s: removed\n", norm);
		break;
	}
	code = EXIT_OK;
	goto close_db;

abort:
	suppress_write_abort(db);
close_db:
	suppress_db_close(db);
	return code;
}

static int
cmd_init(int argc, char **argv, const struct postern_config *cfg)
{
	static const struct option longopts[] = {
		{ "lowercase-local", no_argument, NULL, 'l' },
		{ "strip-tag", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct suppress_db *db;
	unsigned flags = 0, have;
	int opt;

	getopt_reset();
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			flags |= ADDR_NORM_LOWER_LOCAL;
			break;
		case 's':
			flags |= ADDR_NORM_STRIP_TAG;
			break;
		case 'h':
			return usage(stdout, EXIT_OK);
		default:
			return usage(stderr, EXIT_ERROR);
		}
	}
	if (optind != argc)
		return usage(stderr, EXIT_ERROR);
	db = open_writer(cfg, flags);
	if (db == NULL)
		return EXIT_ERROR;
	have = suppress_db_norm_flags(db);
	suppress_db_close(db);
	if (have != flags) {
		fprintf(stderr, "%s: the set already exists with%s%s%s; its keys cannot change "
				"(start a new set and re-import)\n", cfg->suppress_db,
			have == 0 ? " default normalization" : "",
			(have & ADDR_NORM_LOWER_LOCAL) ? " --lowercase-local" : "",
			(have & ADDR_NORM_STRIP_TAG) ? " --strip-tag" : "");
		return EXIT_REFUSED;
	}
	printf("%s: ready\n", cfg->suppress_db);
	return EXIT_OK;
}

int
cmd_suppress(int argc, char **argv, const struct postern_config *cfg)
{
	const char *sub;

	if (argc < 2)
		return usage(stderr, EXIT_ERROR);
	sub = argv[1];
	argc--;
	argv++;
	if (strcmp(sub, "import") == 0)
		return cmd_import(argc, argv, cfg);
	if (strcmp(sub, "check") == 0)
		return cmd_check(argc, argv, cfg);
	if (strcmp(sub, "add") == 0)
		return cmd_edit(argc, argv, cfg, EDIT_ADD);
	if (strcmp(sub, "remove") == 0)
		return cmd_edit(argc, argv, cfg, EDIT_REMOVE);
	if (strcmp(sub, "consent") == 0)
		return cmd_edit(argc, argv, cfg, EDIT_CONSENT);
	if (strcmp(sub, "init") == 0)
		return cmd_init(argc, argv, cfg);
	if (strcmp(sub, "help") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)
		return usage(stdout, EXIT_OK);
	fprintf(stderr, "suppress: unknown command \"%s\"\n", sub);
	return usage(stderr, EXIT_ERROR);
}
