/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `posternctl suppress export` and `suppress stats`, and the helpers the suppress commands
 * share (cmd_suppress_report.h). export writes every record of every table as keys (SHA-256
 * hex), scope, times (ISO 8601 UTC) and source, CSV or JSON Lines, one line per record: the
 * set holds no address, and neither does its export. With --out the file is written beside its
 * destination and renamed over it, so that a reader never sees half of one. stats prints the
 * entries per table, the sources, the size, the reader slots, the normalization and the
 * calendar, as text or as one JSON object. Both only read the set (a read-only open, as an
 * operator without write access may). posternctl's main thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "addr_norm.h"
#include "business_days.h"
#include "cmd_suppress_report.h"
#include "commands.h"
#include "suppress_db.h"
#include "suppress_import.h"
#include "suppress_writer.h"

#define EXIT_OK SUPPRESS_EXIT_OK
#define EXIT_REFUSED SUPPRESS_EXIT_REFUSED
#define EXIT_ERROR SUPPRESS_EXIT_ERROR

#define CALENDAR_META "calendar" /* as suppress_load.c records it */

static const char *const table_names[SUPPRESS_TABLE__COUNT] = { "addr", "domain", "scoped" };
static const char *const scope_names[SUPPRESS_SCOPE__COUNT] = { "all", "sender", "list" };

/* ---- shared helpers ---- */

void
suppress_cli_getopt_reset(void)
{
	optind = 0; /* glibc: reinitialize, including the argument permutation state */
}

int
suppress_cli_calendar(const struct postern_config *cfg, const char *cmd,
		      struct bday_calendar **cal)
{
	char err[512] = "";
	int rc = bday_calendar_load(cal, cfg->suppress_calendar_tz, cfg->suppress_holidays, err,
				    sizeof(err));

	if (rc < 0)
		fprintf(stderr, "suppress %s: calendar: %s\n", cmd,
			err[0] != '\0' ? err : strerror(-rc));
	return rc;
}

unsigned
suppress_cli_config_flags(const struct postern_config *cfg)
{
	return (cfg->suppress_lowercase_local ? ADDR_NORM_LOWER_LOCAL : 0u) |
	       (cfg->suppress_strip_tag ? ADDR_NORM_STRIP_TAG : 0u) |
	       (cfg->suppress_fold_dots ? ADDR_NORM_FOLD_DOTS : 0u);
}

static const struct {
	unsigned flag;
	const char *name;
} flag_names[] = {
	{ ADDR_NORM_LOWER_LOCAL, "lowercase-local" },
	{ ADDR_NORM_STRIP_TAG, "strip-tag" },
	{ ADDR_NORM_FOLD_DOTS, "fold-dots" },
};

char *
suppress_cli_flags_str(unsigned flags, char *out, size_t cap)
{
	size_t n = 0;

	if (cap == 0)
		return out;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if (!(flags & flag_names[i].flag))
			continue;
		int w = snprintf(out + n, cap - n, "%s%s", n > 0 ? " " : "", flag_names[i].name);

		if (w < 0 || (size_t)w >= cap - n)
			break;
		n += (size_t)w;
	}
	if (n == 0)
		snprintf(out, cap, "default");
	return out;
}

/* ---- the sources, by id ---- */

struct source_list {
	struct suppress_source *v;
	size_t n, cap;
};

static int
source_add(void *ctx, const struct suppress_source *src)
{
	struct source_list *l = ctx;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct suppress_source *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *src; /* suppress_source_foreach walks in id order */
	return 0;
}

static const struct suppress_source *
source_find(const struct source_list *l, uint32_t id)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->v[mid].id == id)
			return &l->v[mid];
		if (l->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- export ---- */

enum export_format { EXPORT_CSV, EXPORT_JSONL };

static const char export_usage[] =
	"usage: posternctl suppress export [--out FILE] [--format csv|jsonl]\n"
	"\n"
	"Every record of every table, one line each: table (addr, domain, scoped), entry\n"
	"(address or domain), key (SHA-256 hex of the normalized address, or of \"@\" + domain),\n"
	"scope (all, sender, list) and scope_key (SHA-256 hex of \"sender:DOMAIN\" or\n"
	"\"list:ID\"), optout, grace_end and consent (ISO 8601 UTC, empty or null for none),\n"
	"source_id, source (its name) and line. No address is written: the set holds none.\n"
	"CSV has a header row. --out FILE is written whole, mode 0640, or left as it was.\n";

static void
hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static void
csv_field(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* A JSON string of s; bytes that are not UTF-8 (a file name may hold any) become '?'. */
static json_t *
json_text(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	if (j != NULL)
		return j;
	copy = strdup(s);
	if (copy == NULL)
		return NULL;
	for (char *p = copy; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80 || (unsigned char)*p < 0x20)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

struct export_line {
	const char *table, *entry, *scope;
	char key[2 * SUPPRESS_KEY_LEN + 1];
	char scope_key[2 * SUPPRESS_KEY_LEN + 1]; /* "" for scope all */
	char optout[SUPPRESS_TIME_STR], grace_end[SUPPRESS_TIME_STR];
	char consent[SUPPRESS_TIME_STR];          /* "" for none */
	uint32_t source_id;
	const char *source;                       /* NULL: unknown */
	uint32_t line;
};

static int
export_write(FILE *f, enum export_format fmt, const struct export_line *l)
{
	if (fmt == EXPORT_CSV) {
		fprintf(f, "%s,%s,%s,%s,%s,%s,%s,%s,%" PRIu32 ",", l->table, l->entry, l->key,
			l->scope, l->scope_key, l->optout, l->grace_end, l->consent, l->source_id);
		csv_field(f, l->source != NULL ? l->source : "");
		fprintf(f, ",%" PRIu32 "\n", l->line);
		return ferror(f) ? -EIO : 0;
	}

	json_t *o = json_object();
	char *s;
	int rc = -ENOMEM;

	if (o == NULL)
		return -ENOMEM;
	if (json_object_set_new(o, "table", json_string(l->table)) == 0 &&
	    json_object_set_new(o, "entry", json_string(l->entry)) == 0 &&
	    json_object_set_new(o, "key", json_string(l->key)) == 0 &&
	    json_object_set_new(o, "scope", json_string(l->scope)) == 0 &&
	    json_object_set_new(o, "scope_key", l->scope_key[0] != '\0' ?
					json_string(l->scope_key) : json_null()) == 0 &&
	    json_object_set_new(o, "optout", json_string(l->optout)) == 0 &&
	    json_object_set_new(o, "grace_end", json_string(l->grace_end)) == 0 &&
	    json_object_set_new(o, "consent", l->consent[0] != '\0' ?
					json_string(l->consent) : json_null()) == 0 &&
	    json_object_set_new(o, "source_id", json_integer(l->source_id)) == 0 &&
	    json_object_set_new(o, "source", l->source != NULL ? json_text(l->source) :
								  json_null()) == 0 &&
	    json_object_set_new(o, "line", json_integer(l->line)) == 0) {
		s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (s != NULL) {
			fputs(s, f);
			fputc('\n', f);
			free(s);
			rc = ferror(f) ? -EIO : 0;
		}
	}
	json_decref(o);
	return rc;
}

/* Every record of table t to f; counts in *n and *n_bad (records of an unknown format). */
static int
export_table(struct suppress_db *db, enum suppress_table t, const struct source_list *sources,
	     FILE *f, enum export_format fmt, uint64_t *n, uint64_t *n_bad)
{
	struct suppress_cursor *c;
	struct suppress_rec rec;
	struct export_line l;
	const uint8_t *key;
	int rc;

	rc = suppress_cursor_open(db, t, &c);
	if (rc < 0)
		return rc;
	while ((rc = suppress_cursor_next(c, &key, &rec)) != 0) {
		if (rc == -EBADMSG) {
			(*n_bad)++;
			continue;
		}
		if (rc < 0)
			break;
		const struct suppress_source *src = source_find(sources, rec.source_id);
		bool domain = t == SUPPRESS_TABLE_DOMAIN ||
			      (t == SUPPRESS_TABLE_SCOPED && (rec.flags & SUPPRESS_REC_DOMAIN));

		memset(&l, 0, sizeof(l));
		l.table = table_names[t];
		l.entry = domain ? "domain" : "address";
		l.scope = scope_names[rec.scope]; /* checked by the decoder */
		hex(key, SUPPRESS_KEY_LEN, l.key);
		if (t == SUPPRESS_TABLE_SCOPED)
			hex(key + SUPPRESS_KEY_LEN, SUPPRESS_KEY_LEN, l.scope_key);
		suppress_import_format_time(rec.optout_time, l.optout);
		suppress_import_format_time(rec.grace_end, l.grace_end);
		if (rec.consent_time != 0)
			suppress_import_format_time(rec.consent_time, l.consent);
		l.source_id = rec.source_id;
		l.source = src != NULL ? src->name : NULL;
		l.line = rec.source_line;
		rc = export_write(f, fmt, &l);
		if (rc < 0)
			break;
		(*n)++;
	}
	suppress_cursor_close(c);
	return rc;
}

int
cmd_suppress_export(int argc, char **argv, const struct postern_config *cfg)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum export_format fmt = EXPORT_CSV;
	struct source_list sources = { 0 };
	uint64_t n[SUPPRESS_TABLE__COUNT] = { 0 }, n_bad = 0;
	char tmp[PATH_MAX] = "";
	const char *out = NULL;
	struct suppress_db *db;
	FILE *f = stdout;
	int opt, rc, code = EXIT_ERROR;

	suppress_cli_getopt_reset();
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "csv") == 0) {
				fmt = EXPORT_CSV;
			} else if (strcmp(optarg, "jsonl") == 0) {
				fmt = EXPORT_JSONL;
			} else {
				fprintf(stderr, "suppress export: bad format \"%s\" (csv or "
						"jsonl)\n", optarg);
				return EXIT_ERROR;
			}
			break;
		case 'h':
			fputs(export_usage, stdout);
			return EXIT_OK;
		default:
			fputs(export_usage, stderr);
			return EXIT_ERROR;
		}
	}
	if (optind != argc) {
		fputs(export_usage, stderr);
		return EXIT_ERROR;
	}
	db = suppress_db_open(cfg->suppress_db, true);
	if (db == NULL)
		return EXIT_ERROR; /* logged with the reason */
	/* one snapshot for the sources and every table: the export is one state of the set */
	rc = suppress_snapshot_begin(db);
	if (rc == 0)
		rc = suppress_source_foreach(db, source_add, &sources);
	if (rc < 0) {
		fprintf(stderr, "%s: reading the sources: %s\n", cfg->suppress_db, strerror(-rc));
		goto close_db;
	}
	if (out != NULL) {
		int fd;

		if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", out) >= sizeof(tmp)) {
			fprintf(stderr, "%s: name too long\n", out);
			goto close_db;
		}
		fd = mkstemp(tmp);
		if (fd < 0) {
			fprintf(stderr, "%s: cannot create: %s\n", tmp, strerror(errno));
			tmp[0] = '\0';
			goto close_db;
		}
		if (fchmod(fd, 0640) != 0 || (f = fdopen(fd, "w")) == NULL) {
			fprintf(stderr, "%s: %s\n", tmp, strerror(errno));
			close(fd);
			f = stdout;
			goto unlink_tmp;
		}
	}
	if (fmt == EXPORT_CSV)
		fputs("table,entry,key,scope,scope_key,optout,grace_end,consent,source_id,source,"
		      "line\n", f);
	for (int t = 0; t < SUPPRESS_TABLE__COUNT; t++) {
		rc = export_table(db, (enum suppress_table)t, &sources, f, fmt, &n[t], &n_bad);
		if (rc < 0) {
			fprintf(stderr, "suppress export: %s table: %s\n", table_names[t],
				strerror(-rc));
			goto close_out;
		}
	}
	if (fflush(f) != 0 || ferror(f) || (out != NULL && fsync(fileno(f)) != 0)) {
		fprintf(stderr, "suppress export: %s: %s\n", out != NULL ? tmp : "stdout",
			strerror(errno));
		goto close_out;
	}
	if (out != NULL) {
		rc = fclose(f);
		f = stdout;
		if (rc != 0 || rename(tmp, out) != 0) {
			fprintf(stderr, "%s: %s\n", out, strerror(errno));
			goto unlink_tmp;
		}
		tmp[0] = '\0';
		fprintf(stderr, "%s: %" PRIu64 " records (addr %" PRIu64 ", domain %" PRIu64
				", scoped %" PRIu64 ")\n", out, n[0] + n[1] + n[2], n[0], n[1],
			n[2]);
	}
	code = EXIT_OK;
	if (n_bad > 0) {
		fprintf(stderr, "suppress export: %" PRIu64 " record(s) of an unknown format left "
				"out\n", n_bad);
		code = EXIT_REFUSED;
	}
close_out:
	if (f != stdout)
		fclose(f);
unlink_tmp:
	if (tmp[0] != '\0')
		unlink(tmp);
close_db:
	free(sources.v);
	suppress_db_close(db);
	return code;
}

/* ---- stats ---- */

static const char stats_usage[] =
	"usage: posternctl suppress stats [--json]\n"
	"\n"
	"Entries per table, the sources (id, name, last load, rows), bytes used of the map,\n"
	"reader slots, the last transaction, the normalization the keys were made with, and\n"
	"whether the grace periods were computed with the configured calendar.\n";

/* Whether the set's grace periods were computed with cal: 1 yes, 0 no. */
static int
calendar_current(struct suppress_db *db, const struct bday_calendar *cal, uint64_t entries)
{
	uint8_t want[32], have[32];
	size_t len = 0;

	bday_calendar_fingerprint(cal, want);
	if (suppress_meta_get(db, CALENDAR_META, have, sizeof(have), &len) == 0)
		return len == sizeof(have) && memcmp(want, have, sizeof(want)) == 0;
	/* Recorded since sources were: older records used the default calendar. */
	bday_calendar_fingerprint(bday_calendar_default(), have);
	return entries == 0 || memcmp(want, have, sizeof(want)) == 0;
}

static int
stats_json(const struct postern_config *cfg, const struct suppress_db_info *info,
	   const struct source_list *sources, unsigned flags, const struct bday_calendar *cal,
	   int current, const char *cal_err)
{
	json_t *o = json_object(), *entries = json_object(), *srcs = json_array();
	json_t *norm = json_array(), *calj = json_object();
	char t[SUPPRESS_TIME_STR];
	char *s = NULL;
	int rc = -ENOMEM;

	if (o == NULL || entries == NULL || srcs == NULL || norm == NULL || calj == NULL)
		goto out;
	for (int i = 0; i < SUPPRESS_TABLE__COUNT; i++)
		json_object_set_new(entries, table_names[i],
				    json_integer((json_int_t)info->entries[i]));
	json_object_set_new(entries, "total", json_integer((json_int_t)(info->entries[0] +
					info->entries[1] + info->entries[2])));
	for (size_t i = 0; i < sources->n; i++) {
		const struct suppress_source *src = &sources->v[i];
		json_t *j = json_object();

		if (j == NULL)
			goto out;
		suppress_import_format_time(src->time, t);
		json_object_set_new(j, "id", json_integer(src->id));
		json_object_set_new(j, "name", json_text(src->name));
		json_object_set_new(j, "last_load", json_string(t));
		json_object_set_new(j, "rows", json_integer((json_int_t)src->rows));
		json_array_append_new(srcs, j);
	}
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
		if (flags & flag_names[i].flag)
			json_array_append_new(norm, json_string(flag_names[i].name));
	json_object_set_new(calj, "tz", json_text(cal != NULL ? bday_calendar_tz(cal) :
					 cfg->suppress_calendar_tz));
	json_object_set_new(calj, "holidays", json_text(cfg->suppress_holidays[0] != '\0' ?
							cfg->suppress_holidays : "us-federal"));
	json_object_set_new(calj, "current", current < 0 ? json_null() : json_boolean(current));
	if (cal_err != NULL)
		json_object_set_new(calj, "error", json_text(cal_err));

	json_object_set_new(o, "path", json_text(cfg->suppress_db));
	json_object_set_new(o, "entries", entries);
	entries = NULL;
	json_object_set_new(o, "sources", srcs);
	srcs = NULL;
	json_object_set_new(o, "used_bytes", json_integer((json_int_t)info->used_bytes));
	json_object_set_new(o, "map_size", json_integer((json_int_t)info->map_size));
	json_object_set_new(o, "readers", json_integer(info->readers));
	json_object_set_new(o, "max_readers", json_integer(info->max_readers));
	json_object_set_new(o, "last_txn", json_integer((json_int_t)info->last_txn));
	json_object_set_new(o, "norm_flags", json_integer(flags));
	json_object_set_new(o, "normalization", norm);
	norm = NULL;
	json_object_set_new(o, "calendar", calj);
	calj = NULL;
	s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_INDENT(2));
	if (s != NULL) {
		puts(s);
		rc = 0;
	}
out:
	free(s);
	json_decref(o);
	json_decref(entries);
	json_decref(srcs);
	json_decref(norm);
	json_decref(calj);
	return rc;
}

static void
stats_text(const struct postern_config *cfg, const struct suppress_db_info *info,
	   const struct source_list *sources, unsigned flags, const struct bday_calendar *cal,
	   int current, const char *cal_err)
{
	char t[SUPPRESS_TIME_STR], fs[64];
	uint64_t total = info->entries[0] + info->entries[1] + info->entries[2];

	printf("set:           %s\n", cfg->suppress_db);
	printf("entries:       %" PRIu64 " (addr %" PRIu64 ", domain %" PRIu64 ", scoped %" PRIu64
	       ")\n", total, info->entries[0], info->entries[1], info->entries[2]);
	printf("size:          %" PRIu64 " bytes used of %" PRIu64 " mapped (%.1f%%)\n",
	       info->used_bytes, info->map_size,
	       info->map_size ? 100.0 * (double)info->used_bytes / (double)info->map_size : 0.0);
	printf("readers:       %u of %u slots\n", info->readers, info->max_readers);
	printf("last txn:      %" PRIu64 "\n", info->last_txn);
	printf("normalization: %s\n", suppress_cli_flags_str(flags, fs, sizeof(fs)));
	if (cal_err != NULL)
		printf("calendar:      cannot load: %s\n", cal_err);
	else
		printf("calendar:      %s, holidays %s (%s)\n", bday_calendar_tz(cal),
		       cfg->suppress_holidays[0] != '\0' ? cfg->suppress_holidays : "us-federal",
		       current ? "grace periods computed with it" :
				 "grace periods computed with another calendar: the next import "
				 "recomputes them");
	printf("sources:       %zu\n", sources->n);
	if (sources->n > 0)
		printf("  %6s %12s  %-20s  %s\n", "id", "rows", "last load", "name");
	for (size_t i = 0; i < sources->n; i++) {
		suppress_import_format_time(sources->v[i].time, t);
		printf("  %6" PRIu32 " %12" PRIu64 "  %-20s  %s\n", sources->v[i].id,
		       sources->v[i].rows, t, sources->v[i].name);
	}
}

int
cmd_suppress_stats(int argc, char **argv, const struct postern_config *cfg)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct source_list sources = { 0 };
	struct suppress_db_info info;
	struct bday_calendar *cal = NULL;
	struct suppress_db *db;
	char cal_err[512] = "";
	bool json = false;
	int opt, rc, current = -1, code = EXIT_ERROR;

	suppress_cli_getopt_reset();
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(stats_usage, stdout);
			return EXIT_OK;
		default:
			fputs(stats_usage, stderr);
			return EXIT_ERROR;
		}
	}
	if (optind != argc) {
		fputs(stats_usage, stderr);
		return EXIT_ERROR;
	}
	db = suppress_db_open(cfg->suppress_db, true);
	if (db == NULL)
		return EXIT_ERROR;
	rc = suppress_snapshot_begin(db); /* the counts and the sources of one state */
	if (rc == 0)
		rc = suppress_db_info(db, &info);
	if (rc == 0)
		rc = suppress_source_foreach(db, source_add, &sources);
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", cfg->suppress_db, strerror(-rc));
		goto out;
	}
	/* A calendar the configuration cannot build does not hide the rest. */
	rc = bday_calendar_load(&cal, cfg->suppress_calendar_tz, cfg->suppress_holidays, cal_err,
				sizeof(cal_err));
	if (rc < 0 && cal_err[0] == '\0')
		snprintf(cal_err, sizeof(cal_err), "%s", strerror(-rc));
	const char *cerr = rc < 0 ? cal_err : NULL;

	if (rc == 0)
		current = calendar_current(db, cal, info.entries[0] + info.entries[1] +
							info.entries[2]);
	if (json) {
		rc = stats_json(cfg, &info, &sources, suppress_db_norm_flags(db), cal, current,
				cerr);
		if (rc < 0) {
			fprintf(stderr, "suppress stats: %s\n", strerror(-rc));
			goto out;
		}
	} else {
		stats_text(cfg, &info, &sources, suppress_db_norm_flags(db), cal, current, cerr);
	}
	code = EXIT_OK;
out:
	bday_calendar_free(cal);
	free(sources.v);
	suppress_db_close(db);
	return code;
}
