/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus text formatter. The format wants every sample of a family contiguous, under one
 * # HELP and one # TYPE: plain sections give one sample per family and are walked in order;
 * the labelled sections (workers, outputs) are walked key-first, over the union of their
 * entries' keys in order of first appearance. Two sections can still build the same name
 * (section "a_b" key "c" and section "a" key "b_c"); the first family with a name wins and a
 * later one is skipped whole, so a family never appears twice. Pure, any thread.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom_text.h"

#define NAME_MAX_LEN 200 /* a longer metric name is skipped: ours are under 60 */

/*
 * Gauges: values that go down as well as up, or identify something (a generation). Every
 * other key is a monotonic counter and gets _total. Read from the counters' producers:
 * stats_json() in control/main.c (posternd), common/ipc.h (dataplane and workers), and the
 * outputs' get_stats (queue depth, connection state). A key is a gauge in every section.
 */
static const char *const gauge_keys[] = {
	"rule_generation",      /* id of the rule generation live there */
	"rules",                /* rules in the live generation */
	"workers",              /* dataplane worker lcores */
	"reload_in_progress",   /* boolean: a rule build is running */
	"dataplanes_connected", /* dataplane connections to posternd now */
	"subscribers",          /* alert socket subscribers now */
	"flows_active",         /* flows in the workers' tables now */
	"connected",            /* outputs: boolean, the output's connection is up */
	"spool_records",        /* dataplane: records held for posternd now */
	"spool_bytes",          /* dataplane: bytes held for posternd now */
	"queued",               /* outputs: lines waiting to be delivered */
};

/* Help texts for the main families; section NULL matches any section. Others get a default. */
static const struct {
	const char *section;
	const char *key;
	const char *help;
} help_texts[] = {
	{ "posternd", "rule_generation", "Rule generation posternd has compiled and published." },
	{ "dataplane", "rule_generation", "Rule generation the dataplane runs." },
	{ "worker", "rule_generation", "Rule generation the worker runs." },
	{ NULL, "rules", "Rules in the live rule generation." },
	{ NULL, "reloads", "Rule reloads that succeeded." },
	{ NULL, "reload_failures", "Rule reloads that failed; the previous generation stayed." },
	{ NULL, "reload_in_progress", "1 while a rule build is running." },
	{ NULL, "dataplanes_connected", "Dataplane connections to posternd." },
	{ NULL, "dataplanes_refused", "Dataplane connections of another user, refused." },
	{ NULL, "cli_refused", "posternctl requests refused (another user, SO_PEERCRED)." },
	{ NULL, "records", "IPC records received from the dataplane." },
	{ NULL, "records_invalid", "IPC records that failed their check, dropped." },
	{ NULL, "records_lost", "IPC records the dataplane sent that never arrived." },
	{ NULL, "transactions", "SMTP transactions received by posternd." },
	{ NULL, "eve_lines", "EVE JSON lines written." },
	{ NULL, "eve_file_errors", "Writes to the EVE file that failed." },
	{ NULL, "eve_file_rotations", "EVE file rotations." },
	{ NULL, "subscribers", "Alert socket subscribers connected." },
	{ NULL, "subscribers_dropped", "Alert subscribers disconnected for a full queue." },
	{ NULL, "dataplane_outages", "Outages of posternd that the dataplane reported." },
	{ NULL, "metrics_requests", "HTTP requests to the metrics endpoint." },
	{ NULL, "metrics_errors", "Metrics endpoint requests not answered 200." },
	{ NULL, "workers", "Dataplane worker lcores." },
	{ NULL, "rx_packets", "Packets received on the capture ports." },
	{ NULL, "rx_bytes", "Bytes received on the capture ports." },
	{ NULL, "decode_errors", "Packets that could not be decoded." },
	{ NULL, "flows_created", "TCP flows created." },
	{ NULL, "flows_active", "TCP flows in the flow tables." },
	{ NULL, "flow_pool_full", "Flows not created for a full flow table." },
	{ NULL, "session_pool_full", "SMTP sessions not created for a full pool." },
	{ NULL, "smtp_transactions", "SMTP transactions followed." },
	{ NULL, "rule_matches", "Rule matches." },
	{ NULL, "suppress_lookups", "Recipient lookups in the suppression set." },
	{ NULL, "suppress_hits", "Recipients found in the suppression set." },
	{ NULL, "events_sent", "Records sent to posternd." },
	{ NULL, "events_dropped", "Records dropped for a full ring or socket." },
	{ NULL, "dispatch_dropped", "Packets dropped for a full dispatch ring." },
	{ NULL, "port_rx_missed", "Packets the NIC dropped for want of room in an rx queue." },
	{ NULL, "port_rx_no_mbuf", "Packets lost for want of an mbuf." },
	{ NULL, "tx_dropped", "Packets a port's tx queue had no room for." },
	{ "output", "sent", "Records the output delivered." },
	{ "output", "dropped", "Records the output dropped (queue full, too long, refused)." },
	{ "output", "errors", "Output socket errors, error replies and failed connections." },
	{ "output", "connects", "Connections the output established." },
	{ "output", "queued", "Records waiting in the output's queue." },
	{ "output", "connected", "1 while the output's connection is up." },
};

struct out {
	char *p;
	size_t len;
	size_t cap;
	bool oom;
};

/* Names of the families emitted, so that none is emitted twice. */
struct seen {
	char **names;
	size_t n;
	size_t cap;
};

/* A labelled entry: a worker or an output. */
struct entry {
	const char *label;
	char num[24];
	const json_t *obj;
};

bool
prom_text_is_valid_name(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

		if (!alpha && c != '_' && c != ':' && !(i > 0 && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

static bool
out_reserve(struct out *o, size_t more)
{
	if (o->oom)
		return false;
	if (o->len + more + 1 <= o->cap)
		return true;
	size_t cap = o->cap < 4096 ? 4096 : o->cap;

	while (cap < o->len + more + 1)
		cap *= 2;
	char *p = realloc(o->p, cap);

	if (p == NULL) {
		o->oom = true;
		return false;
	}
	o->p = p;
	o->cap = cap;
	return true;
}

static void
out_put(struct out *o, const char *s, size_t n)
{
	if (!out_reserve(o, n))
		return;
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void __attribute__((format(printf, 2, 3)))
out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !out_reserve(o, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(o->p + o->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	o->len += (size_t)n;
}

/* A label value: backslash, double quote and line feed escaped, as the format requires. */
static void
out_label_value(struct out *o, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			out_put(o, "\\\\", 2);
		else if (*s == '"')
			out_put(o, "\\\"", 2);
		else if (*s == '\n')
			out_put(o, "\\n", 2);
		else
			out_put(o, s, 1);
	}
}

static bool
seen_has(const struct seen *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return true;
	return false;
}

static int
seen_add(struct seen *s, const char *name)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char **names = realloc(s->names, cap * sizeof(*names));

		if (names == NULL)
			return -ENOMEM;
		s->names = names;
		s->cap = cap;
	}
	s->names[s->n] = strdup(name);
	if (s->names[s->n] == NULL)
		return -ENOMEM;
	s->n++;
	return 0;
}

static void
seen_fini(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
}

static bool
is_gauge(const char *key)
{
	for (size_t i = 0; i < sizeof(gauge_keys) / sizeof(gauge_keys[0]); i++)
		if (strcmp(gauge_keys[i], key) == 0)
			return true;
	return false;
}

static bool
is_sample_value(const json_t *v)
{
	return json_is_integer(v) || json_is_real(v) || json_is_boolean(v);
}

static const char *
help_text(const char *section, const char *key)
{
	const char *any = NULL;

	for (size_t i = 0; i < sizeof(help_texts) / sizeof(help_texts[0]); i++) {
		if (strcmp(help_texts[i].key, key) != 0)
			continue;
		if (help_texts[i].section == NULL)
			any = help_texts[i].help;
		else if (strcmp(help_texts[i].section, section) == 0)
			return help_texts[i].help;
	}
	return any;
}

/*
 * The family name for section/key into name (NAME_MAX_LEN + 1 bytes), or false when it is
 * not a valid metric name.
 */
static bool
family_name(char *name, const char *section, const char *key)
{
	int n;

	if (section[0] == '\0' || key[0] == '\0')
		return false;
	n = snprintf(name, NAME_MAX_LEN + 1, "postern_%s_%s%s", section, key,
		     is_gauge(key) ? "" : "_total");
	return n > 0 && n <= NAME_MAX_LEN && prom_text_is_valid_name(name, (size_t)n);
}

/*
 * # HELP and # TYPE of a family, unless a family of that name was emitted already: then
 * returns 1 and the caller skips the family's samples. 0 when the family is open, -ENOMEM.
 */
static int
family_open(struct out *o, struct seen *seen, const char *name, const char *section,
	    const char *key)
{
	const char *help = help_text(section, key);
	int rc;

	if (seen_has(seen, name))
		return 1;
	rc = seen_add(seen, name);
	if (rc < 0)
		return rc;
	/* the key is a valid name (it is part of one), so it needs no escaping in the help */
	if (help != NULL)
		out_printf(o, "# HELP %s %s\n", name, help);
	else
		out_printf(o, "# HELP %s %s %s.\n", name, section, key);
	out_printf(o, "# TYPE %s %s\n", name, is_gauge(key) ? "gauge" : "counter");
	return 0;
}

/*
 * The value of a sample and its line feed. posternd's counters are uint64_t stored in
 * json_int_t: a counter past 2^63 comes back from the cast, a gauge is printed signed.
 */
static void
out_value(struct out *o, const json_t *v, bool gauge)
{
	if (json_is_integer(v) && gauge)
		out_printf(o, " %lld\n", (long long)json_integer_value(v));
	else if (json_is_integer(v))
		out_printf(o, " %llu\n", (unsigned long long)json_integer_value(v));
	else if (json_is_real(v))
		out_printf(o, " %.17g\n", json_real_value(v));
	else
		out_printf(o, " %d\n", json_is_true(v) ? 1 : 0);
}

/* A plain section: one unlabelled sample per key. */
static int
format_section(struct out *o, struct seen *seen, const char *section, const json_t *obj)
{
	char name[NAME_MAX_LEN + 1];
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		if (!is_sample_value(v) || !family_name(name, section, key))
			continue;
		int rc = family_open(o, seen, name, section, key);

		if (rc < 0)
			return rc;
		if (rc > 0)
			continue;
		out_printf(o, "%s", name);
		out_value(o, v, is_gauge(key));
	}
	return 0;
}

/*
 * A labelled section: family by family, each over every entry that has the key. skip is a
 * key that is the label itself (a worker's "worker"), not a metric.
 */
static int
format_labelled(struct out *o, struct seen *seen, const char *section, const char *label_name,
		const char *skip, const struct entry *entries, size_t n)
{
	char name[NAME_MAX_LEN + 1];

	for (size_t i = 0; i < n; i++) {
		const char *key;
		json_t *v;

		json_object_foreach((json_t *)entries[i].obj, key, v) {
			if ((skip != NULL && strcmp(key, skip) == 0) || !is_sample_value(v) ||
			    !family_name(name, section, key))
				continue;
			/* the family was opened by an earlier entry, or by another section */
			if (seen_has(seen, name))
				continue;
			int rc = family_open(o, seen, name, section, key);

			if (rc < 0)
				return rc;
			/* entries before i lack the key, or it would have been opened already */
			for (size_t j = i; j < n; j++) {
				const json_t *w = json_object_get(entries[j].obj, key);

				if (w == NULL || !is_sample_value(w))
					continue;
				out_printf(o, "%s{%s=\"", name, label_name);
				out_label_value(o, entries[j].label);
				out_put(o, "\"}", 2);
				out_value(o, w, is_gauge(key));
			}
		}
	}
	return 0;
}

static int
format_workers(struct out *o, struct seen *seen, const json_t *arr)
{
	size_t n = json_array_size(arr), k = 0;
	struct entry *e;
	int rc;

	if (n == 0)
		return 0;
	e = calloc(n, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const json_t *w = json_array_get(arr, i);
		const json_t *id = json_object_get(w, "worker");

		if (!json_is_object(w))
			continue;
		/* the worker's own index when it has one, else its place in the array */
		if (json_is_integer(id))
			snprintf(e[k].num, sizeof(e[k].num), "%lld",
				 (long long)json_integer_value(id));
		else
			snprintf(e[k].num, sizeof(e[k].num), "%zu", i);
		e[k].label = e[k].num;
		e[k].obj = w;
		k++;
	}
	rc = format_labelled(o, seen, "worker", "worker", "worker", e, k);
	free(e);
	return rc;
}

static int
format_outputs(struct out *o, struct seen *seen, const json_t *obj)
{
	size_t n = json_object_size(obj), k = 0;
	const char *key;
	struct entry *e;
	json_t *v;
	int rc;

	if (n == 0)
		return 0;
	e = calloc(n, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	json_object_foreach((json_t *)obj, key, v) {
		if (!json_is_object(v) || k == n)
			continue;
		e[k].label = key;
		e[k].obj = v;
		k++;
	}
	rc = format_labelled(o, seen, "output", "output", NULL, e, k);
	free(e);
	return rc;
}

int
prom_text_format(const json_t *stats, char **buf, size_t *len)
{
	struct out o = { .p = *buf, .len = *len, .cap = *buf != NULL ? *len : 0 };
	struct seen seen = { 0 };
	const size_t old_len = *len;
	const char *section;
	json_t *v;
	int rc = 0;

	/* at least the NUL past the end, so that *buf is never NULL on success */
	if (out_reserve(&o, 0))
		o.p[o.len] = '\0';
	if (json_is_object(stats)) {
		json_object_foreach((json_t *)stats, section, v) {
			/* a workers or outputs section of the wrong kind is skipped */
			if (strcmp(section, "workers") == 0)
				rc = json_is_array(v) ? format_workers(&o, &seen, v) : 0;
			else if (strcmp(section, "outputs") == 0)
				rc = json_is_object(v) ? format_outputs(&o, &seen, v) : 0;
			else if (json_is_object(v))
				rc = format_section(&o, &seen, section, v);
			if (rc < 0)
				break;
		}
	}
	seen_fini(&seen);
	if (o.oom)
		rc = -ENOMEM;
	if (rc < 0) {
		/* keep the caller's bytes, drop what was appended */
		*buf = o.p;
		*len = old_len;
		if (o.p != NULL && o.cap > old_len)
			o.p[old_len] = '\0';
		return rc;
	}
	*buf = o.p;
	*len = o.len;
	return 0;
}
