/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `posternctl suppress`: the dispatch of its sub-commands, and import, the small edits (add,
 * consent, remove, init) and check. import reads each file in chunks through the resumable
 * parser (suppress_import.c; a progress bar when stderr is a terminal) and hands the batch to
 * suppress_load_batch(), one load and one source per file, all of a file or nothing. add goes
 * through the same path with a one-row batch, so that grace_end uses the configured calendar
 * and the entry names its source; consent and remove edit one record in a transaction of their
 * own under the writers' lock (suppress_load_lock). check prints the verdict and why. export
 * and stats are in cmd_suppress_report.c, sync in cmd_suppress_sync.c. This file is options,
 * messages and exit codes. posternctl's main thread only.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr_norm.h"
#include "business_days.h"
#include "cmd_suppress_report.h"
#include "commands.h"
#include "ipc.h"
#include "suppress_db.h"
#include "suppress_import.h"
#include "suppress_load.h"
#include "suppress_writer.h"

#define EXIT_OK SUPPRESS_EXIT_OK
#define EXIT_REFUSED SUPPRESS_EXIT_REFUSED
#define EXIT_ERROR SUPPRESS_EXIT_ERROR

#define READ_CHUNK (256u * 1024)
#define EDIT_SOURCE "posternctl" /* source of the entries `suppress add` writes */
#define SCOPE_LABEL_MAX (sizeof(" (sender:)") + SUPPRESS_LIST_ID_MAX + ADDR_NORM_CAP)

static const char usage_text[] =
	"usage: posternctl suppress COMMAND [OPTIONS]\n"
	"\n"
	"  import FILE...    add opt-out lists: each file is loaded whole or not at all, as a\n"
	"                    source of its own named as given (FILE - is stdin, source \"stdin\")\n"
	"      --format F             auto (default: told by the first bytes), csv, jsonl, xml,\n"
	"                             plain (one address a line, optionally a time after it)\n"
	"      --email-column NAME    address column (default: email, address, e-mail,\n"
	"                             recipient)\n"
	"      --date-column NAME     opt-out time column (default: optout_date, opt_out, optout,\n"
	"                             date, unsubscribed_at)\n"
	"      --consent-column NAME  consent time column (default: consent_date, consent;\n"
	"                             optional)\n"
	"      --scope-column NAME    scope column (default: scope; optional)\n"
	"      --delimiter C          CSV field delimiter (default: guessed; 'tab' for tabs)\n"
	"      --bulk, --no-bulk      rebuild the set beside the live one and swap it in, or\n"
	"                             update it in place (default: rebuild from 200000 rows)\n"
	"      --skip-bad             import the good rows even when some are bad\n"
	"  check ADDRESS     print the verdict for ADDRESS and why (exit 0 whatever it is)\n"
	"      --at TIME              evaluate at TIME instead of now\n"
	"      --sender DOMAIN        the message's sender domain, for entries scoped to it\n"
	"      --list-id ID           the message's List-Id, for entries scoped to that list\n"
	"  add ADDRESS       add one opt-out (source \"" EDIT_SOURCE "\")\n"
	"      --date TIME            when it was requested (default: now)\n"
	"      --scope SCOPE          all (default), sender:DOMAIN or list:LIST-ID\n"
	"  consent ADDRESS   record affirmative consent given after the opt-out\n"
	"      --date TIME            when it was given (default: now)\n"
	"      --scope SCOPE          the entry's scope (default: all)\n"
	"  remove ADDRESS    remove an entry\n"
	"      --scope SCOPE          the entry's scope (default: all)\n"
	"  export            every entry as keys (SHA-256 hex), times and sources; never an\n"
	"                    address\n"
	"      --out FILE             write FILE (replaced whole, mode 0640) instead of stdout\n"
	"      --format F             csv (default, with a header row) or jsonl\n"
	"  stats             entries, sources, size, readers, normalization and calendar\n"
	"      --json                 as one JSON object\n"
	"  sync              load the opt-outs of the company's database (sync --help)\n"
	"  init              create the set with non-default address normalization (besides\n"
	"                    what the configuration asks for)\n"
	"      --lowercase-local      treat local parts as case-insensitive\n"
	"      --strip-tag            ignore \"+tag\" in local parts\n"
	"      --fold-dots            ignore dots in Gmail local parts\n"
	"\n"
	"ADDRESS is user@domain, or @domain for every address of a domain. TIME is UTC:\n"
	"YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, \"YYYY-MM-DD HH:MM:SS\" or @SECONDS.\n"
	"The set is the LMDB directory suppress_db of the configuration; grace periods count\n"
	"business days of the calendar suppress_calendar_tz and suppress_holidays.\n"
	"Exit: 0 done (check: whatever the verdict), 1 refused (bad rows, not on the list;\n"
	"import: a file was refused, the others were loaded), 2 usage or system error (import:\n"
	"a file could not be read, or the set could not be written, which stops the import).\n";

static int
usage(FILE *f, int code)
{
	fputs(usage_text, f);
	return code;
}

static int
parse_when(const char *cmd, const char *s, int64_t *t)
{
	if (suppress_import_parse_time(slice_from_cstr(s), t) == 0)
		return 0;
	fprintf(stderr, "suppress %s: bad time \"%s\" (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, "
			"\"YYYY-MM-DD HH:MM:SS\" or @SECONDS)\n", cmd, s);
	return -EINVAL;
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

/*
 * The flags the set's keys are made with: the existing set's, else those the configuration
 * gives a new one. 0, or EXIT_ERROR after a message.
 */
static int
current_flags(const struct postern_config *cfg, unsigned *flags)
{
	int rc = suppress_db_peek_norm_flags(cfg->suppress_db, flags);

	if (rc == -ENOENT) {
		*flags = suppress_cli_config_flags(cfg);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", cfg->suppress_db, strerror(-rc));
		return EXIT_ERROR;
	}
	return 0;
}

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What a failed load means for the operator. The loader has said why for some. */
static void
print_load_error(const char *what, const char *path, int rc)
{
	switch (rc) {
	case -EBUSY:
		fprintf(stderr, "%s: another posternctl is writing %s: nothing imported, try "
				"again\n", what, path);
		break;
	case -ENOSPC:
		fprintf(stderr, "%s: the set at %s is full: nothing imported (raise "
				"suppress_map_size)\n", what, path);
		break;
	case -ESTALE:
		fprintf(stderr, "%s: the set at %s was created meanwhile with other normalization "
				"flags: nothing imported, run again\n", what, path);
		break;
	default:
		fprintf(stderr, "%s: writing %s failed, nothing imported: %s\n", what, path,
			strerror(-rc));
		break;
	}
}

/* ---- import ---- */

struct import_run {
	const struct postern_config *cfg;
	struct suppress_import_opts io;   /* per file: name and norm_flags set */
	struct suppress_load_opts lo;     /* per file: source set */
	bool tty;                         /* stderr is a terminal: progress bars */
	bool stop;                        /* an error of the set or the system: the next
					   * files would only meet it again */
};

static void
read_progress(const char *name, uint64_t done, uint64_t size, int *last)
{
	int pct = size > 0 ? (int)(done * 100 / size) : 100;

	if (pct > 100)
		pct = 100;
	if (pct == *last)
		return;
	*last = pct;
	fprintf(stderr, "\rreading  [%-50.*s] %3d%% %s", pct / 2,
		"##################################################", pct, name);
	fflush(stderr);
}

/* Parse the whole of in into im: 0, or the parser's failure (reported), or -EIO. */
static int
parse_stream(struct import_run *run, struct suppress_import *im, FILE *in, const char *name)
{
	uint64_t size = 0, done = 0;
	struct stat st;
	uint8_t *buf;
	size_t n;
	int rc, last = -1;
	bool bar;

	bar = run->tty && fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
	if (bar)
		size = (uint64_t)st.st_size;
	buf = malloc(READ_CHUNK);
	if (buf == NULL)
		return -ENOMEM;
	rc = suppress_import_begin(im, &run->io);
	if (rc < 0)
		goto free_buf;
	while (rc == 0 && (n = fread(buf, 1, READ_CHUNK, in)) > 0) {
		rc = suppress_import_feed(im, buf, n);
		done += n;
		if (bar)
			read_progress(name, done, size, &last);
	}
	if (bar)
		fputc('\n', stderr);
	if (rc == 0 && ferror(in)) {
		fprintf(stderr, "%s: read error: %s\n", name, strerror(errno));
		suppress_import_end(im);
		rc = -EIO;
		goto free_buf;
	}
	/* end() also returns a failure that feed() already returned. */
	rc = suppress_import_end(im);
free_buf:
	free(buf);
	return rc;
}

/* One file, one load. Returns the exit code of the file. */
static int
import_file(struct import_run *run, const char *file)
{
	const bool is_stdin = strcmp(file, "-") == 0;
	const char *name = is_stdin ? "stdin" : file;
	struct suppress_load_stats st;
	struct suppress_import im;
	unsigned flags;
	double t0 = mono_now(), dt;
	FILE *in;
	int rc, code;

	in = is_stdin ? stdin : fopen(file, "r");
	if (in == NULL) {
		fprintf(stderr, "%s: %s\n", file, strerror(errno));
		return EXIT_ERROR;
	}
	for (int attempt = 0;; attempt++) {
		code = current_flags(run->cfg, &flags);
		if (code == EXIT_OK && (rc = suppress_import_init(&im)) < 0) {
			fprintf(stderr, "%s: %s\n", name, strerror(-rc));
			code = EXIT_ERROR;
		}
		if (code != EXIT_OK) {
			run->stop = true;
			goto close_in;
		}
		run->io.name = name;
		run->io.norm_flags = flags;
		rc = parse_stream(run, &im, in, name);
		if (rc == -EBADMSG || rc == -E2BIG) {
			fprintf(stderr, "%s: refused, nothing imported\n", name);
			code = EXIT_REFUSED;
			goto fini;
		}
		if (rc < 0) {
			fprintf(stderr, "%s: nothing imported: %s\n", name, strerror(-rc));
			run->stop = rc == -ENOMEM;
			code = EXIT_ERROR;
			goto fini;
		}
		if (im.n_bad > 0 && !run->io.skip_bad) {
			fprintf(stderr, "%s: %" PRIu64 " bad row(s): nothing imported (--skip-bad "
					"imports the others)\n", name, im.n_bad);
			code = EXIT_REFUSED;
			goto fini;
		}
		run->lo.source = name;
		run->lo.now = (int64_t)time(NULL);
		rc = suppress_load_batch(&im, run->cfg->suppress_db, flags, &run->lo, &st);
		/* The set was created with other flags between our look and the load: the
		 * keys are wrong, read the file again with the set's flags (once). */
		if (rc == -ESTALE && attempt == 0 && !is_stdin && fseek(in, 0, SEEK_SET) == 0) {
			fprintf(stderr, "%s: keying again with the set's normalization\n", name);
			suppress_import_fini(&im);
			continue;
		}
		break;
	}
	if (rc < 0) {
		print_load_error(name, run->cfg->suppress_db, rc);
		run->stop = true;
		code = EXIT_ERROR;
		goto fini;
	}
	dt = mono_now() - t0;
	printf("%s: imported %" PRIu64 " (added %" PRIu64 ", updated %" PRIu64 "), skipped %" PRIu64
	       "%s\n", name, im.n_good, st.added, st.updated, im.n_bad,
	       st.rebuilt ? ", set rebuilt" : "");
	printf("  (%.0f rows/s)\n", (double)(im.n_good + im.n_bad) / (dt > 1e-6 ? dt : 1e-6));
	fflush(stdout);
	code = EXIT_OK;
fini:
	suppress_import_fini(&im);
close_in:
	if (!is_stdin)
		fclose(in);
	return code;
}

static int
parse_format(const char *s, enum suppress_import_format *f)
{
	static const struct {
		const char *name;
		enum suppress_import_format f;
	} names[] = {
		{ "auto", SUPPRESS_FMT_AUTO },   { "csv", SUPPRESS_FMT_CSV },
		{ "jsonl", SUPPRESS_FMT_JSONL }, { "xml", SUPPRESS_FMT_XML },
		{ "plain", SUPPRESS_FMT_PLAIN },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*f = names[i].f;
			return 0;
		}
	}
	return -EINVAL;
}

static int
cmd_import(int argc, char **argv, const struct postern_config *cfg)
{
	static const struct option longopts[] = {
		{ "email-column", required_argument, NULL, 'e' },
		{ "date-column", required_argument, NULL, 'd' },
		{ "consent-column", required_argument, NULL, 'c' },
		{ "scope-column", required_argument, NULL, 'S' },
		{ "delimiter", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' },
		{ "bulk", no_argument, NULL, 'b' },
		{ "no-bulk", no_argument, NULL, 'B' },
		{ "skip-bad", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct import_run run = {
		.cfg = cfg,
		.io = { .now = (int64_t)time(NULL) },
		.lo = { .bulk = -1, .map_size = cfg->suppress_map_size },
	};
	struct bday_calendar *cal = NULL;
	int opt, code, worst = EXIT_OK;

	suppress_cli_getopt_reset();
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			run.io.email_column = optarg;
			break;
		case 'd':
			run.io.date_column = optarg;
			break;
		case 'c':
			run.io.consent_column = optarg;
			break;
		case 'S':
			run.io.scope_column = optarg;
			break;
		case 't':
			if (strcmp(optarg, "tab") == 0 || strcmp(optarg, "\\t") == 0) {
				run.io.delimiter = '\t';
			} else if (strlen(optarg) == 1 && optarg[0] != '"' && optarg[0] != '\n' &&
				   optarg[0] != '\r') {
				run.io.delimiter = optarg[0];
			} else {
				fprintf(stderr, "suppress import: bad delimiter \"%s\"\n", optarg);
				return EXIT_ERROR;
			}
			break;
		case 'f':
			if (parse_format(optarg, &run.io.format) < 0) {
				fprintf(stderr, "suppress import: bad format \"%s\" (auto, csv, "
						"jsonl, xml or plain)\n", optarg);
				return EXIT_ERROR;
			}
			break;
		case 'b':
			run.lo.bulk = 1;
			break;
		case 'B':
			run.lo.bulk = 0;
			break;
		case 's':
			run.io.skip_bad = true;
			break;
		case 'h':
			return usage(stdout, EXIT_OK);
		default:
			return usage(stderr, EXIT_ERROR);
		}
	}
	if (optind >= argc)
		return usage(stderr, EXIT_ERROR);
	int n_stdin = 0;

	for (int i = optind; i < argc; i++)
		n_stdin += strcmp(argv[i], "-") == 0;
	if (n_stdin > 1) {
		fprintf(stderr, "suppress import: stdin (-) can be read only once\n");
		return EXIT_ERROR;
	}
	if (suppress_cli_calendar(cfg, "import", &cal) < 0)
		return EXIT_ERROR;
	run.lo.cal = cal;
	run.tty = isatty(STDERR_FILENO) == 1;
	run.lo.progress = run.tty;

	/* Each file stands alone: a refused or unreadable one does not stop the others, but an
	 * error of the set or the system (full map, no lock, no memory) would only repeat. */
	for (int i = optind; i < argc; i++) {
		code = import_file(&run, argv[i]);
		if (code > worst)
			worst = code;
		if (run.stop) {
			for (int j = i + 1; j < argc; j++)
				fprintf(stderr, "%s: not imported\n", argv[j]);
			break;
		}
	}
	bday_calendar_free(cal);
	return worst;
}

/* ---- add, consent, remove ---- */

enum edit_op { EDIT_ADD, EDIT_REMOVE, EDIT_CONSENT };

struct edit_args {
	const char *addr;
	const char *date;     /* as given, NULL: now */
	const char *scope;    /* as given, "" for all */
	int64_t when;
};

#define ARGS_HELP (-1) /* --help was printed: exit 0 */

static int
parse_edit_args(int argc, char **argv, enum edit_op op, struct edit_args *a)
{
	static const struct option longopts[] = {
		{ "date", required_argument, NULL, 'T' },
		{ "scope", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	memset(a, 0, sizeof(*a));
	a->scope = "";
	a->when = (int64_t)time(NULL);
	suppress_cli_getopt_reset();
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'T':
			if (op == EDIT_REMOVE)
				return usage(stderr, EXIT_ERROR);
			if (parse_when(argv[0], optarg, &a->when) < 0)
				return EXIT_ERROR;
			a->date = optarg;
			break;
		case 'S':
			a->scope = optarg;
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
	a->addr = argv[optind];
	return EXIT_OK;
}

/* The scope as the set names it, for messages: "" for all, else " (sender:DOMAIN)" or
 * " (list:ID)" normalized. */
static void
scope_label(const char *spec, char *out, size_t cap)
{
	struct slice s = slice_trim(slice_from_cstr(spec));
	char v[ADDR_NORM_CAP + SUPPRESS_LIST_ID_MAX];

	out[0] = '\0';
	if (slice_starts_nocase(s, "sender:") &&
	    addr_domain(slice_make(s.ptr + 7, s.len - 7), v, sizeof(v)) >= 0)
		snprintf(out, cap, " (sender:%s)", v);
	else if (slice_starts_nocase(s, "list:") &&
		 suppress_list_id(slice_make(s.ptr + 5, s.len - 5), v, sizeof(v)) >= 0)
		snprintf(out, cap, " (list:%s)", v);
}

/*
 * Key an edit's entry with the set's flags: its table and full key (for a scoped entry, the
 * address or domain key followed by the scope's key, in the "scoped" table). 0, or EXIT_ERROR
 * after a message.
 */
static int
edit_key(const char *cmd, const struct edit_args *a, unsigned flags, enum suppress_table *table,
	 uint8_t key[SUPPRESS_SCOPED_KEY_LEN], char *norm, size_t cap)
{
	struct addr_hasher h;
	uint8_t kind;
	int rc;

	rc = addr_hasher_init(&h);
	if (rc < 0) {
		fprintf(stderr, "suppress %s: %s\n", cmd, strerror(-rc));
		return EXIT_ERROR;
	}
	rc = suppress_key(&h, flags, slice_from_cstr(a->addr), table, key, norm, cap);
	if (rc < 0) {
		print_key_error(cmd, a->addr, rc);
		goto fini;
	}
	rc = suppress_scope_parse(&h, slice_from_cstr(a->scope), &kind, key + SUPPRESS_KEY_LEN);
	if (rc < 0) {
		fprintf(stderr, "suppress %s: bad scope \"%s\" (all, sender:DOMAIN or "
				"list:LIST-ID)\n", cmd, a->scope);
		goto fini;
	}
	if (kind != SUPPRESS_SCOPE_ALL)
		*table = SUPPRESS_TABLE_SCOPED;
fini:
	addr_hasher_fini(&h);
	return rc < 0 ? EXIT_ERROR : 0;
}

/* Read back one record after a load, for the message. 0 or -errno. */
static int
read_back(const struct postern_config *cfg, unsigned flags, enum suppress_table table,
	  const uint8_t *key, struct suppress_rec *rec)
{
	struct suppress_db *db = suppress_writer_open(cfg->suppress_db, cfg->suppress_map_size,
						      flags);
	int rc;

	if (db == NULL)
		return -errno;
	rc = suppress_write_begin(db);
	if (rc == 0) {
		rc = suppress_write_get(db, table, key, rec);
		suppress_write_abort(db);
	}
	suppress_db_close(db);
	return rc;
}

/* add: a one-row batch through the loader, like a file of one line. */
static int
cmd_add(int argc, char **argv, const struct postern_config *cfg)
{
	char norm[ADDR_NORM_CAP], label[SCOPE_LABEL_MAX], date[SUPPRESS_TIME_STR];
	char t1[SUPPRESS_TIME_STR], t2[SUPPRESS_TIME_STR];
	uint8_t key[SUPPRESS_SCOPED_KEY_LEN];
	struct suppress_import_opts io = { .name = "add", .format = SUPPRESS_FMT_ROWS };
	struct suppress_load_opts lo = { .source = EDIT_SOURCE, .bulk = -1 };
	struct suppress_load_stats st;
	struct suppress_import im;
	struct suppress_rec rec;
	struct bday_calendar *cal = NULL;
	enum suppress_table table;
	struct edit_args a;
	unsigned flags;
	int rc, code;

	code = parse_edit_args(argc, argv, EDIT_ADD, &a);
	if (code != EXIT_OK)
		return code == ARGS_HELP ? EXIT_OK : code;
	if (a.date == NULL) {
		suppress_import_format_time(a.when, date);
		a.date = date;
	}
	if (suppress_cli_calendar(cfg, "add", &cal) < 0)
		return EXIT_ERROR;
	lo.cal = cal;
	lo.map_size = cfg->suppress_map_size;
	for (int attempt = 0;; attempt++) {
		code = current_flags(cfg, &flags);
		if (code == EXIT_OK)
			code = edit_key("add", &a, flags, &table, key, norm, sizeof(norm));
		if (code != EXIT_OK)
			goto free_cal;
		rc = suppress_import_init(&im);
		if (rc < 0) {
			fprintf(stderr, "suppress add: %s\n", strerror(-rc));
			code = EXIT_ERROR;
			goto free_cal;
		}
		io.norm_flags = flags;
		io.now = (int64_t)time(NULL);
		rc = suppress_import_begin(&im, &io);
		if (rc == 0) {
			struct suppress_row row = {
				.addr = slice_from_cstr(a.addr),
				.optout = slice_from_cstr(a.date),
				.scope = slice_from_cstr(a.scope),
				.line = 1,
			};

			rc = suppress_import_row(&im, &row);
			if (rc == 0)
				rc = suppress_import_end(&im);
			else
				suppress_import_end(&im);
		}
		if (rc < 0 || im.n_bad > 0 || im.n != 1) {
			/* The importer said why (a date in the future, out of range). */
			if (rc < 0)
				fprintf(stderr, "suppress add: %s\n", strerror(-rc));
			code = rc < 0 && rc != -EBADMSG ? EXIT_ERROR : EXIT_REFUSED;
			goto fini;
		}
		lo.now = io.now;
		rc = suppress_load_batch(&im, cfg->suppress_db, flags, &lo, &st);
		if (rc == -ESTALE && attempt == 0) {
			suppress_import_fini(&im);
			continue;
		}
		break;
	}
	if (rc < 0) {
		print_load_error("suppress add", cfg->suppress_db, rc);
		code = EXIT_ERROR;
		goto fini;
	}
	scope_label(a.scope, label, sizeof(label));
	rc = read_back(cfg, flags, table, key, &rec);
	if (rc < 0) {
		fprintf(stderr, "suppress add: %s%s: added, but cannot read it back: %s\n", norm,
			label, strerror(-rc));
		code = EXIT_ERROR;
		goto fini;
	}
	suppress_import_format_time(rec.optout_time, t1);
	suppress_import_format_time(rec.grace_end, t2);
	printf("%s%s: opted out %s, grace ends %s%s\n", norm, label, t1, t2,
	       st.updated ? " (merged with the entry there)" : "");
	code = EXIT_OK;
fini:
	suppress_import_fini(&im);
free_cal:
	bday_calendar_free(cal);
	return code;
}

/* consent and remove: one record in a transaction of its own, under the writers' lock. */
static int
cmd_edit(int argc, char **argv, const struct postern_config *cfg, enum edit_op op)
{
	char norm[ADDR_NORM_CAP], label[SCOPE_LABEL_MAX];
	char t1[SUPPRESS_TIME_STR], t2[SUPPRESS_TIME_STR];
	uint8_t key[SUPPRESS_SCOPED_KEY_LEN];
	enum suppress_table table;
	struct suppress_rec rec;
	struct suppress_db *db;
	struct edit_args a;
	unsigned flags;
	int rc, code, lock;

	code = parse_edit_args(argc, argv, op, &a);
	if (code != EXIT_OK)
		return code == ARGS_HELP ? EXIT_OK : code;
	/* Nothing to remove or lift without a set: do not create one. */
	rc = suppress_db_peek_norm_flags(cfg->suppress_db, &flags);
	if (rc == -ENOENT) {
		fprintf(stderr, "%s: not on the list (no set at %s)\n", a.addr, cfg->suppress_db);
		return EXIT_REFUSED;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", cfg->suppress_db, strerror(-rc));
		return EXIT_ERROR;
	}
	code = edit_key(argv[0], &a, flags, &table, key, norm, sizeof(norm));
	if (code != EXIT_OK)
		return code;
	scope_label(a.scope, label, sizeof(label));

	/* A rebuild swaps in a new environment: an edit made to the old one meanwhile would be
	 * lost, hence the loaders' lock. */
	lock = suppress_load_lock(cfg->suppress_db);
	if (lock < 0) {
		if (lock == -EBUSY)
			fprintf(stderr, "%s: another posternctl is writing the set: nothing "
					"changed, try again\n", cfg->suppress_db);
		else
			fprintf(stderr, "%s.lock: %s\n", cfg->suppress_db, strerror(-lock));
		return EXIT_ERROR;
	}
	db = suppress_writer_open(cfg->suppress_db, cfg->suppress_map_size, flags);
	if (db == NULL) {
		fprintf(stderr, "%s: %s\n", cfg->suppress_db, strerror(errno));
		code = EXIT_ERROR;
		goto unlock;
	}
	if (suppress_db_norm_flags(db) != flags) { /* replaced by a rebuild since the peek */
		fprintf(stderr, "%s: the set changed meanwhile: run again\n", cfg->suppress_db);
		code = EXIT_ERROR;
		goto close_db;
	}
	rc = suppress_write_begin(db);
	if (rc < 0) {
		code = EXIT_ERROR;
		goto close_db;
	}
	rc = suppress_write_get(db, table, key, &rec);
	if (rc == -ENOENT) {
		fprintf(stderr, "%s%s: not on the list\n", norm, label);
		code = EXIT_REFUSED;
		goto abort;
	}
	/* A record of an unknown format can still be removed, not edited. */
	if (rc < 0 && !(rc == -EBADMSG && op == EDIT_REMOVE)) {
		fprintf(stderr, "suppress %s: %s%s: %s\n", argv[0], norm, label, strerror(-rc));
		code = EXIT_ERROR;
		goto abort;
	}
	if (op == EDIT_CONSENT) {
		if (a.when > rec.consent_time)
			rec.consent_time = a.when;
		rc = suppress_write_put(db, table, key, &rec);
	} else {
		rc = suppress_write_del(db, table, key);
	}
	if (rc == 0)
		rc = suppress_write_commit(db);
	if (rc < 0) {
		fprintf(stderr, "suppress %s: %s%s: nothing changed: %s\n", argv[0], norm, label,
			strerror(-rc));
		code = EXIT_ERROR;
		goto abort;
	}
	if (op == EDIT_CONSENT) {
		suppress_import_format_time(rec.optout_time, t1);
		suppress_import_format_time(rec.consent_time, t2);
		if (rec.consent_time > rec.optout_time)
			printf("%s%s: consent given %s lifts the opt-out of %s\n", norm, label, t2,
			       t1);
		else
			printf("%s%s: consent given %s is not after the opt-out of %s: still "
			       "suppressed\n", norm, label, t2, t1);
	} else {
		printf("%s%s: removed\n", norm, label);
	}
	code = EXIT_OK;
abort:
	suppress_write_abort(db); /* no-op after a commit */
close_db:
	suppress_db_close(db);
unlock:
	suppress_load_unlock(lock);
	return code;
}

/* ---- check ---- */

struct check_args {
	const char *addr;
	const char *sender;
	const char *list_id;
	int64_t at;
	bool at_given;
};

static int
parse_check_args(int argc, char **argv, struct check_args *a)
{
	static const struct option longopts[] = {
		{ "at", required_argument, NULL, 'T' },
		{ "sender", required_argument, NULL, 's' },
		{ "list-id", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	memset(a, 0, sizeof(*a));
	a->at = (int64_t)time(NULL);
	suppress_cli_getopt_reset();
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'T':
			if (parse_when("check", optarg, &a->at) < 0)
				return EXIT_ERROR;
			a->at_given = true;
			break;
		case 's':
			a->sender = optarg;
			break;
		case 'l':
			a->list_id = optarg;
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
	a->addr = argv[optind];
	return EXIT_OK;
}

/* Why the verdict is what it is, one fact a line. */
static void
print_why(struct suppress_db *db, const struct check_args *a, const struct bday_calendar *cal,
	  const struct suppress_verdict *v, const struct suppress_rec *rec, const char *norm)
{
	char t1[SUPPRESS_TIME_STR], t2[SUPPRESS_TIME_STR], dom[ADDR_NORM_CAP];
	char list[SUPPRESS_LIST_ID_MAX + 1];
	const char *at_what = a->at_given ? "--at" : "now";
	const char *tz = bday_calendar_tz(cal);
	struct suppress_source src;
	int64_t elapsed;

	if (v->domain_wide)
		printf("  entry:       the whole domain @%s\n", strrchr(norm, '@') + 1);
	else
		printf("  entry:       the address\n");
	switch (v->scope) {
	case SUPPRESS_SCOPE_SENDER:
		if (addr_domain(slice_from_cstr(a->sender), dom, sizeof(dom)) < 0)
			snprintf(dom, sizeof(dom), "%s", a->sender);
		printf("  scope:       mail from sender %s (--sender)\n", dom);
		break;
	case SUPPRESS_SCOPE_LIST:
		if (suppress_list_id(slice_from_cstr(a->list_id), list, sizeof(list)) < 0)
			snprintf(list, sizeof(list), "%s", a->list_id);
		printf("  scope:       mail of list %s (--list-id)\n", list);
		break;
	default:
		printf("  scope:       all mail\n");
		break;
	}
	suppress_import_format_time(v->optout_time, t1);
	if (a->at < v->optout_time)
		printf("  opted out:   %s, after %s\n", t1, at_what);
	else
		printf("  opted out:   %s\n", t1);
	suppress_import_format_time(v->grace_end, t2);
	elapsed = a->at >= v->optout_time ? bday_elapsed(cal, v->optout_time, a->at) : 0;
	if (elapsed < 0)
		printf("  grace %s %s (business days: %s outside the %s calendar's years)\n",
		       a->at < v->grace_end ? "ends: " : "ended:", t2, at_what, tz);
	else if (a->at < v->grace_end)
		printf("  grace ends:  %s (%" PRId64 " of %d business days elapsed, %s calendar)\n",
		       t2, elapsed, SUPPRESS_GRACE_BUSINESS_DAYS, tz);
	else
		printf("  grace ended: %s (%" PRId64 " business days elapsed of %d allowed, %s "
		       "calendar)\n", t2, elapsed, SUPPRESS_GRACE_BUSINESS_DAYS, tz);
	if (v->consent_time == 0) {
		printf("  consent:     none\n");
	} else {
		suppress_import_format_time(v->consent_time, t1);
		if (v->consent_time <= v->optout_time)
			printf("  consent:     %s, not after the opt-out: does not lift it\n", t1);
		else if (a->at < v->consent_time)
			printf("  consent:     %s, after %s: lifts the opt-out from then on\n", t1,
			       at_what);
		else
			printf("  consent:     %s, lifts the opt-out\n", t1);
	}
	if (rec->source_id != 0 && suppress_source_get(db, rec->source_id, &src) == 0) {
		suppress_import_format_time(src.time, t1);
		if (rec->source_line != 0)
			printf("  source:      %s, line %" PRIu32 " (loaded %s)\n", src.name,
			       rec->source_line, t1);
		else
			printf("  source:      %s (loaded %s)\n", src.name, t1);
	} else if (rec->source_id != 0) {
		printf("  source:      #%" PRIu32 " (not in the source table), line %" PRIu32 "\n",
		       rec->source_id, rec->source_line);
	} else if (rec->source_line != 0) {
		printf("  source:      not recorded, line %" PRIu32 "\n", rec->source_line);
	} else {
		printf("  source:      not recorded\n");
	}
}

static int
cmd_check(int argc, char **argv, const struct postern_config *cfg)
{
	char norm[ADDR_NORM_CAP];
	struct suppress_scopes sc = { 0 };
	struct bday_calendar *cal = NULL;
	struct suppress_verdict v;
	struct suppress_rec rec;
	struct suppress_db *db;
	struct suppress_reader *r;
	struct check_args a;
	const char *verdict;
	int rc, code;

	code = parse_check_args(argc, argv, &a);
	if (code != EXIT_OK)
		return code == ARGS_HELP ? EXIT_OK : code;
	struct slice s = slice_trim(slice_from_cstr(a.addr));

	if (s.len > 1 && (s.ptr[0] == '@' || (s.ptr[0] == '<' && s.ptr[1] == '@'))) {
		fprintf(stderr, "suppress check: takes an address; a domain-wide entry shows when "
				"checking any address of the domain\n");
		return EXIT_ERROR;
	}
	if (suppress_cli_calendar(cfg, "check", &cal) < 0)
		return EXIT_ERROR;
	/* Read-only: an operator may check without the right to write. */
	db = suppress_db_open(cfg->suppress_db, true);
	if (db == NULL) {
		code = EXIT_ERROR;
		goto free_cal;
	}
	r = suppress_reader_create(db);
	if (r == NULL) {
		fprintf(stderr, "suppress check: %s\n", strerror(errno));
		code = EXIT_ERROR;
		goto close_db;
	}
	code = EXIT_ERROR;
	if (a.sender != NULL &&
	    suppress_scopes_add(r, &sc, SUPPRESS_SCOPE_SENDER, SUPPRESS_ORIGIN_ENVELOPE,
				slice_from_cstr(a.sender)) < 0) {
		fprintf(stderr, "suppress check: bad sender domain \"%s\"\n", a.sender);
		goto destroy_reader;
	}
	if (a.list_id != NULL &&
	    suppress_scopes_add(r, &sc, SUPPRESS_SCOPE_LIST, SUPPRESS_ORIGIN_LIST_ID,
				slice_from_cstr(a.list_id)) < 0) {
		fprintf(stderr, "suppress check: bad list id \"%s\"\n", a.list_id);
		goto destroy_reader;
	}
	rc = addr_normalize(s, suppress_db_norm_flags(db), norm, sizeof(norm));
	if (rc >= 0)
		rc = suppress_lookup_scoped_rec(r, s, &sc, a.at, &v, &rec);
	if (rc < 0) {
		print_key_error("check", a.addr, rc);
		goto destroy_reader;
	}
	code = EXIT_OK;
	if (rc == 0) {
		printf("%s: not suppressed\n", norm);
		goto destroy_reader;
	}
	switch (v.verdict) {
	case IPC_SUPPRESS_NONE:
		verdict = "not suppressed";
		break;
	case IPC_SUPPRESS_GRACE:
		verdict = "grace (opted out, inside the grace period)";
		break;
	default:
		verdict = "violation (opted out, grace period over)";
		break;
	}
	printf("%s: %s\n", norm, verdict);
	print_why(db, &a, cal, &v, &rec, norm);
destroy_reader:
	suppress_reader_destroy(r);
close_db:
	suppress_db_close(db);
free_cal:
	bday_calendar_free(cal);
	return code;
}

/* ---- init ---- */

static int
cmd_init(int argc, char **argv, const struct postern_config *cfg)
{
	static const struct option longopts[] = {
		{ "lowercase-local", no_argument, NULL, 'l' },
		{ "strip-tag", no_argument, NULL, 's' },
		{ "fold-dots", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char want_s[64], have_s[64];
	struct suppress_db *db;
	unsigned flags = suppress_cli_config_flags(cfg), have;
	int opt, rc, lock;

	suppress_cli_getopt_reset();
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			flags |= ADDR_NORM_LOWER_LOCAL;
			break;
		case 's':
			flags |= ADDR_NORM_STRIP_TAG;
			break;
		case 'd':
			flags |= ADDR_NORM_FOLD_DOTS;
			break;
		case 'h':
			return usage(stdout, EXIT_OK);
		default:
			return usage(stderr, EXIT_ERROR);
		}
	}
	if (optind != argc)
		return usage(stderr, EXIT_ERROR);
	rc = suppress_import_mkdirs(cfg->suppress_db);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot create: %s\n", cfg->suppress_db, strerror(-rc));
		return EXIT_ERROR;
	}
	lock = suppress_load_lock(cfg->suppress_db);
	if (lock < 0) {
		fprintf(stderr, "%s: %s\n", cfg->suppress_db,
			lock == -EBUSY ? "another posternctl is writing the set" : strerror(-lock));
		return EXIT_ERROR;
	}
	db = suppress_writer_open(cfg->suppress_db, cfg->suppress_map_size, flags);
	suppress_load_unlock(lock);
	if (db == NULL)
		return EXIT_ERROR;
	have = suppress_db_norm_flags(db);
	suppress_db_close(db);
	suppress_cli_flags_str(flags, want_s, sizeof(want_s));
	suppress_cli_flags_str(have, have_s, sizeof(have_s));
	if (have != flags) {
		fprintf(stderr, "%s: the set already exists with normalization %s, not %s; its "
				"keys cannot change (start a new set and re-import)\n",
			cfg->suppress_db, have_s, want_s);
		return EXIT_REFUSED;
	}
	printf("%s: ready (normalization %s)\n", cfg->suppress_db, have_s);
	return EXIT_OK;
}

int
cmd_suppress(int argc, char **argv, const struct postern_config *cfg)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv, const struct postern_config *cfg);
	} subs[] = {
		{ "import", cmd_import },
		{ "check", cmd_check },
		{ "add", cmd_add },
		{ "export", cmd_suppress_export },
		{ "stats", cmd_suppress_stats },
		{ "sync", cmd_suppress_sync },
		{ "init", cmd_init },
	};
	const char *sub;

	if (argc < 2)
		return usage(stderr, EXIT_ERROR);
	sub = argv[1];
	argc--;
	argv++;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(sub, subs[i].name) == 0)
			return subs[i].run(argc, argv, cfg);
	if (strcmp(sub, "remove") == 0)
		return cmd_edit(argc, argv, cfg, EDIT_REMOVE);
	if (strcmp(sub, "consent") == 0)
		return cmd_edit(argc, argv, cfg, EDIT_CONSENT);
	if (strcmp(sub, "help") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)
		return usage(stdout, EXIT_OK);
	fprintf(stderr, "suppress: unknown command \"%s\"\n", sub);
	return usage(stderr, EXIT_ERROR);
}
