/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Table-driven parser of postern.conf. Each option is one row: its key, how to parse it,
 * where it goes and its bounds; defaults live in config_defaults(). Control threads only.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "net_target.h"

enum opt_type {
	OPT_PATH, OPT_TEXT, OPT_U32, OPT_U64, OPT_BOOL, OPT_PORTS, OPT_ENUM, OPT_RULES, OPT_REPLY,
	OPT_TARGET,   /* a network output's target: min holds the schemes allowed (net_target.h) */
	OPT_LISTEN,   /* HOST:PORT to listen on, ":PORT" for every address */
};

struct opt {
	const char *key;
	enum opt_type type;
	size_t offset;
	uint64_t min;
	uint64_t max;
	const char *const *names;   /* OPT_ENUM: value i is spelled names[i]; NULL-terminated */
};

static const char *const address_output_names[] = { "plain", "hash", "redact", NULL };
static const char *const link_type_names[] = { "ethernet", "null", "raw", "sll", NULL };
static const char *const mode_names[] = { "passive", "inline", NULL };
static const char *const inline_fail_names[] = { "open", "closed", NULL };
static const char *const redis_mode_names[] = { "list", "publish", NULL };
/* RFC 5424 facility numbers are the indexes */
static const char *const syslog_facility_names[] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
	"authpriv", "ftp", "ntp", "security", "console", "solaris-cron", "local0", "local1",
	"local2", "local3", "local4", "local5", "local6", "local7", NULL,
};

_Static_assert(sizeof(enum config_address_output) == sizeof(int), "OPT_ENUM writes an int");
_Static_assert(sizeof(enum config_link_type) == sizeof(int), "OPT_ENUM writes an int");
_Static_assert(sizeof(enum config_mode) == sizeof(int), "OPT_ENUM writes an int");
_Static_assert(sizeof(enum config_inline_fail) == sizeof(int), "OPT_ENUM writes an int");
_Static_assert(sizeof(enum config_redis_mode) == sizeof(int), "OPT_ENUM writes an int");

#define OFF(f) offsetof(struct postern_config, f)

static const struct opt options[] = {
	{ "control_socket", OPT_PATH, OFF(control_socket), 0, 0 },
	{ "alert_socket", OPT_PATH, OFF(alert_socket), 0, 0 },
	{ "cli_socket", OPT_PATH, OFF(cli_socket), 0, 0 },
	{ "eve_file", OPT_PATH, OFF(eve_file), 0, 0 },
	{ "eve_file_max_size", OPT_U64, OFF(eve_file_max_size), 0, UINT64_MAX },
	{ "eve_file_keep", OPT_U32, OFF(eve_file_keep), 1, 1000 },
	{ "rules", OPT_RULES, OFF(rules), 0, 0 },
	{ "classification", OPT_PATH, OFF(classification), 0, 0 },
	{ "rule_vars", OPT_PATH, OFF(rule_vars), 0, 0 },
	{ "rule_cache_dir", OPT_PATH, OFF(rule_cache_dir), 0, 0 },
	{ "rule_cache_size", OPT_U64, OFF(rule_cache_size), 1u << 20, UINT64_C(1) << 40 },
	{ "rules_skip_unsupported", OPT_BOOL, OFF(rules_skip_unsupported), 0, 0 },
	{ "suppress_db", OPT_PATH, OFF(suppress_db), 0, 0 },
	{ "suppress_lowercase_local", OPT_BOOL, OFF(suppress_lowercase_local), 0, 0 },
	{ "suppress_strip_tag", OPT_BOOL, OFF(suppress_strip_tag), 0, 0 },
	{ "suppress_fold_dots", OPT_BOOL, OFF(suppress_fold_dots), 0, 0 },
	/* OPT_TEXT: max is the field's size */
	{ "suppress_calendar_tz", OPT_TEXT, OFF(suppress_calendar_tz), 0,
	  sizeof(((struct postern_config *)0)->suppress_calendar_tz) },
	{ "suppress_holidays", OPT_TEXT, OFF(suppress_holidays), 0, CONFIG_TEXT_MAX },
	{ "suppress_sync_dsn", OPT_TEXT, OFF(suppress_sync_dsn), 0, CONFIG_TEXT_MAX },
	{ "suppress_sync_query", OPT_TEXT, OFF(suppress_sync_query), 0, CONFIG_QUERY_MAX },
	{ "commercial_senders", OPT_TEXT, OFF(commercial_senders), 0, CONFIG_TEXT_MAX },
	{ "transactional_senders", OPT_TEXT, OFF(transactional_senders), 0, CONFIG_TEXT_MAX },
	{ "commercial_hosts", OPT_TEXT, OFF(commercial_hosts), 0, CONFIG_TEXT_MAX },
	{ "commercial_signals", OPT_TEXT, OFF(commercial_signals), 0, CONFIG_PATH_MAX },
	{ "commercial_default", OPT_BOOL, OFF(commercial_default), 0, 0 },
	{ "canspam_checks", OPT_TEXT, OFF(canspam_checks), 0, CONFIG_PATH_MAX },
	{ "canspam_unsubscribe", OPT_TEXT, OFF(canspam_unsubscribe), 0, CONFIG_PATH_MAX },
	{ "canspam_require_one_click", OPT_BOOL, OFF(canspam_require_one_click), 0, 0 },
	{ "canspam_from_domains", OPT_TEXT, OFF(canspam_from_domains), 0, CONFIG_TEXT_MAX },
	{ "automated_senders", OPT_TEXT, OFF(automated_senders), 0, CONFIG_TEXT_MAX },
	{ "sanctioned_relays", OPT_TEXT, OFF(sanctioned_relays), 0, CONFIG_TEXT_MAX },
	{ "internal_clients", OPT_TEXT, OFF(internal_clients), 0, CONFIG_TEXT_MAX },
	{ "bypass_alert_interval", OPT_U32, OFF(bypass_alert_interval), 0, 86400 * 30 },
	{ "new_host_learning", OPT_U32, OFF(new_host_learning), 0, 86400 * 365 },
	{ "new_host_table", OPT_U32, OFF(new_host_table), 16, 1u << 24 },
	{ "anomaly_warmup", OPT_U32, OFF(anomaly_warmup), 0, 86400 * 30 },
	{ "anomaly_multiple_pct", OPT_U32, OFF(anomaly_multiple_pct), 101, 100000 },
	{ "anomaly_alpha_pct", OPT_U32, OFF(anomaly_alpha_pct), 1, 100 },
	{ "anomaly_suppress", OPT_U32, OFF(anomaly_suppress), 0, 86400 * 30 },
	{ "anomaly_keys", OPT_U32, OFF(anomaly_keys), 16, 1u << 22 },
	{ "anomaly_floor_messages", OPT_U64, OFF(anomaly_floor_messages), 0, UINT64_MAX },
	{ "anomaly_floor_rcpts_per_msg", OPT_U64, OFF(anomaly_floor_rcpts_per_msg), 0, UINT64_MAX },
	{ "anomaly_floor_distinct_rcpts", OPT_U64, OFF(anomaly_floor_distinct_rcpts), 0,
	  UINT64_MAX },
	{ "anomaly_floor_auth_failures", OPT_U64, OFF(anomaly_floor_auth_failures), 0, UINT64_MAX },
	{ "anomaly_floor_rcpts_rejected", OPT_U64, OFF(anomaly_floor_rcpts_rejected), 0,
	  UINT64_MAX },
	{ "anomaly_floor_sessions", OPT_U64, OFF(anomaly_floor_sessions), 0, UINT64_MAX },
	{ "anomaly_floor_bytes", OPT_U64, OFF(anomaly_floor_bytes), 0, UINT64_MAX },
	{ "inspect_ports", OPT_PORTS, OFF(inspect_ports), 1, 65535 },
	{ "workers", OPT_U32, OFF(workers), 1, 64 },
	{ "flows_per_worker", OPT_U32, OFF(flows_per_worker), 64, 16u << 20 },
	{ "sessions_per_worker", OPT_U32, OFF(sessions_per_worker), 16, 1u << 20 },
	{ "event_ring_size", OPT_U32, OFF(event_ring_size), 64, 1u << 20 },
	{ "flow_idle_timeout", OPT_U32, OFF(flow_idle_timeout), 1, 86400 },
	{ "flow_timeout_new", OPT_U32, OFF(flow_timeout_new), 1, 86400 },
	{ "flow_timeout_closing", OPT_U32, OFF(flow_timeout_closing), 1, 86400 },
	{ "suppress_map_size", OPT_U64, OFF(suppress_map_size), 1u << 20, UINT64_C(1) << 40 },
	{ "reasm_chunks", OPT_U32, OFF(reasm_chunks), 16, 1u << 22 },
	{ "reasm_window", OPT_U32, OFF(reasm_window), 0, 1u << 30 },
	{ "inspect_depth", OPT_U64, OFF(inspect_depth), 0, UINT64_MAX },
	{ "address_output", OPT_ENUM, OFF(address_output), 0, 0, address_output_names },
	{ "link_type", OPT_ENUM, OFF(link_type), 0, 0, link_type_names },
	{ "mode", OPT_ENUM, OFF(mode), 0, 0, mode_names },
	{ "inline_fail", OPT_ENUM, OFF(inline_fail), 0, 0, inline_fail_names },
	{ "block_reply", OPT_REPLY, OFF(block_reply), 0, 0 },
	{ "block_suppressed", OPT_BOOL, OFF(block_suppressed), 0, 0 },
	{ "block_canspam", OPT_BOOL, OFF(block_canspam), 0, 0 },
	{ "rcpt_reject_suppressed", OPT_BOOL, OFF(rcpt_reject_suppressed), 0, 0 },
	{ "xdp_program", OPT_PATH, OFF(xdp_program), 0, 0 },
	/* every record goes through it: at least twice the largest (IPC_RECORD_MAX) */
	{ "event_spool", OPT_U64, OFF(event_spool), 128u << 10, UINT64_C(1) << 40 },
	{ "user", OPT_TEXT, OFF(user), 0, CONFIG_NAME_MAX },
	{ "group", OPT_TEXT, OFF(group), 0, CONFIG_NAME_MAX },
	{ "alert_socket_group", OPT_TEXT, OFF(alert_socket_group), 0, CONFIG_NAME_MAX },
	{ "syslog", OPT_TARGET, OFF(syslog), NET_UDP | NET_TCP | NET_UNIX, CONFIG_PATH_MAX },
	{ "syslog_facility", OPT_ENUM, OFF(syslog_facility), 0, 0, syslog_facility_names },
	{ "redis", OPT_TARGET, OFF(redis), NET_TCP | NET_UNIX, CONFIG_PATH_MAX },
	{ "redis_mode", OPT_ENUM, OFF(redis_mode), 0, 0, redis_mode_names },
	{ "redis_key", OPT_TEXT, OFF(redis_key), 0,
	  sizeof(((struct postern_config *)0)->redis_key) },
	{ "output_queue_size", OPT_U64, OFF(output_queue_size), 4096, UINT64_C(1) << 34 },
	{ "metrics_listen", OPT_LISTEN, OFF(metrics_listen), 0,
	  sizeof(((struct postern_config *)0)->metrics_listen) },
	{ "eve_smtp_events", OPT_BOOL, OFF(eve_smtp_events), 0, 0 },
	{ "smtp_inspection", OPT_BOOL, OFF(smtp_inspection), 0, 0 },
};

void
config_defaults(struct postern_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->control_socket, sizeof(c->control_socket), "/run/postern/dataplane.sock");
	snprintf(c->alert_socket, sizeof(c->alert_socket), "/run/postern/alerts.sock");
	snprintf(c->cli_socket, sizeof(c->cli_socket), "/run/postern/control.sock");
	snprintf(c->rules, sizeof(c->rules), "/etc/postern/postern.rules");
	snprintf(c->suppress_db, sizeof(c->suppress_db), "/var/lib/postern/suppress");
	snprintf(c->rule_cache_dir, sizeof(c->rule_cache_dir), "/var/cache/postern/rules");
	c->rule_cache_size = UINT64_C(256) << 20;
	c->inspect_ports[0] = 25;
	c->inspect_ports[1] = 587;
	c->inspect_ports[2] = 465; /* implicit TLS (RFC 8314): reported, not readable */
	c->n_inspect_ports = 3;
	c->workers = 1;
	c->flows_per_worker = 65536;
	c->sessions_per_worker = 4096;
	c->event_ring_size = 4096;
	c->flow_idle_timeout = 300;
	c->flow_timeout_new = 30;
	c->flow_timeout_closing = 30;
	c->suppress_map_size = UINT64_C(1) << 32;
	snprintf(c->suppress_calendar_tz, sizeof(c->suppress_calendar_tz), "UTC");
	snprintf(c->suppress_holidays, sizeof(c->suppress_holidays), "us-federal");
	snprintf(c->commercial_signals, sizeof(c->commercial_signals),
		 "list-unsubscribe, list-id, precedence");
	/* A message nothing marks either way is taken as commercial: a compliance sensor errs
	 * towards reporting, and transactional senders are exempted by name or by rule. */
	c->commercial_default = true;
	snprintf(c->canspam_checks, sizeof(c->canspam_checks),
		 "unsubscribe, postal, sender, subject, label");
	snprintf(c->canspam_unsubscribe, sizeof(c->canspam_unsubscribe),
		 "list-unsubscribe, one-click, body-link");
	snprintf(c->internal_clients, sizeof(c->internal_clients),
		 "[10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7]");
	c->bypass_alert_interval = 3600;
	c->new_host_learning = 86400;
	c->new_host_table = 65536;
	c->anomaly_warmup = 3600;
	c->anomaly_multiple_pct = 500;
	c->anomaly_alpha_pct = 10;
	c->anomaly_suppress = 3600;
	c->anomaly_keys = 65536;
	c->anomaly_floor_messages = 120;
	c->anomaly_floor_rcpts_per_msg = 100;
	c->anomaly_floor_distinct_rcpts = 2000;
	c->anomaly_floor_auth_failures = 20;
	c->anomaly_floor_rcpts_rejected = 50;
	c->anomaly_floor_sessions = 120;
	c->anomaly_floor_bytes = UINT64_C(200) << 20;
	c->reasm_chunks = 16384;
	c->reasm_window = 65536;
	c->inspect_depth = 0;
	c->address_output = CONFIG_ADDR_PLAIN;
	c->eve_smtp_events = false;
	c->eve_file_keep = 5;
	snprintf(c->block_reply, sizeof(c->block_reply),
		 "550 5.7.1 Message refused by the site's mail policy");
	c->smtp_inspection = true;
	c->event_spool = UINT64_C(64) << 20;
	c->syslog_facility = 16; /* local0 */
	c->redis_mode = CONFIG_REDIS_LIST;
	snprintf(c->redis_key, sizeof(c->redis_key), "postern:%%t");
	c->output_queue_size = UINT64_C(16) << 20;
}

static int
parse_u64(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;

	if (*v == '\0' || *v == '-')
		return -EINVAL;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	if (n < min || n > max)
		return -ERANGE;
	*out = n;
	return 0;
}

static bool
is_rules_sep(char c)
{
	return c == ' ' || c == '\t' || c == ',';
}

int
config_rules_next(const char *list, size_t *pos, char *out, size_t outlen)
{
	size_t p = *pos, start, n;

	while (list[p] != '\0' && is_rules_sep(list[p]))
		p++;
	if (list[p] == '\0') {
		*pos = p;
		return 0;
	}
	start = p;
	while (list[p] != '\0' && !is_rules_sep(list[p]))
		p++;
	*pos = p;
	n = p - start;
	if (n >= CONFIG_PATH_MAX || n >= outlen)
		return -ENAMETOOLONG;
	memcpy(out, list + start, n);
	out[n] = '\0';
	return 1;
}

/*
 * The rules list is checked here, where the file and line are known, so that posternd and
 * posternctl only ever see a list of 1..CONFIG_RULES_PACKS_MAX paths that each fit a path.
 * It is kept as written: the raw list is what logs and reloads show.
 */
static int
parse_rules(struct postern_config *c, const char *v, char *err, size_t errlen)
{
	char path[CONFIG_PATH_MAX];
	size_t pos = 0;
	unsigned n = 0;
	int rc;

	if (strlen(v) >= sizeof(c->rules)) {
		snprintf(err, errlen, "rules: list longer than %zu bytes", sizeof(c->rules) - 1);
		return -1;
	}
	while ((rc = config_rules_next(v, &pos, path, sizeof(path))) != 0) {
		if (rc < 0) {
			snprintf(err, errlen, "rules: a path is longer than %d bytes",
				 CONFIG_PATH_MAX - 1);
			return -1;
		}
		if (++n > CONFIG_RULES_PACKS_MAX) {
			snprintf(err, errlen, "rules: more than %d packs", CONFIG_RULES_PACKS_MAX);
			return -1;
		}
	}
	if (n == 0) {
		snprintf(err, errlen, "rules: empty list (one or more rule pack paths)");
		return -1;
	}
	strcpy(c->rules, v);
	return 0;
}

/*
 * The reply a blocked client gets: a permanent failure with an enhanced status code
 * (RFC 3463), "5yz 5.y.z text", so that the sending MTA bounces the message rather than
 * queue it for retries; printable ASCII only, as it goes on the wire as one reply line.
 */
static int
parse_reply(struct postern_config *c, const char *v, char *err, size_t errlen)
{
	size_t n = strlen(v);
	const char *p = v + 4;
	unsigned digits;

	if (n >= sizeof(c->block_reply)) {
		snprintf(err, errlen, "block_reply: longer than %zu bytes",
			 sizeof(c->block_reply) - 1);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7e) {
			snprintf(err, errlen, "block_reply: printable ASCII only");
			return -1;
		}
	bool ok = n > 10 && v[0] == '5' && isdigit((unsigned char)v[1]) &&
		  isdigit((unsigned char)v[2]) && v[3] == ' ' && p[0] == '5' && p[1] == '.';
	p += ok ? 2 : 0;
	for (int part = 0; ok && part < 2; part++) {
		for (digits = 0; isdigit((unsigned char)*p) && digits < 4; p++)
			digits++;
		ok = digits >= 1 && digits <= 3 && *p == (part == 0 ? '.' : ' ');
		p++;
	}
	if (!ok || *p == '\0') {
		snprintf(err, errlen, "block_reply: '%s' is not \"5yz 5.y.z text\" (a permanent "
			 "failure with an enhanced status code)", v);
		return -1;
	}
	strcpy(c->block_reply, v);
	return 0;
}

static int
parse_ports(struct postern_config *c, const char *v, char *err, size_t errlen)
{
	char buf[256];
	char *save = NULL;
	uint32_t n = 0;

	if (strlen(v) >= sizeof(buf)) {
		snprintf(err, errlen, "port list too long");
		return -1;
	}
	strcpy(buf, v);
	for (char *tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		uint64_t p;

		if (n == CONFIG_MAX_PORTS) {
			snprintf(err, errlen, "more than %d ports", CONFIG_MAX_PORTS);
			return -1;
		}
		if (parse_u64(tok, 1, 65535, &p) < 0) {
			snprintf(err, errlen, "'%s' is not a port (1-65535)", tok);
			return -1;
		}
		c->inspect_ports[n++] = (uint16_t)p;
	}
	if (n == 0) {
		snprintf(err, errlen, "empty port list");
		return -1;
	}
	c->n_inspect_ports = n;
	return 0;
}

int
config_set(struct postern_config *c, const char *key, const char *value, char *err,
	   size_t errlen)
{
	const struct opt *o = NULL;

	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (strcmp(options[i].key, key) == 0)
			o = &options[i];
	if (o == NULL) {
		snprintf(err, errlen, "unknown option '%s'", key);
		return -1;
	}

	void *place = (uint8_t *)c + o->offset;
	uint64_t n;
	int rc;

	switch (o->type) {
	case OPT_PATH:
		if (strlen(value) >= CONFIG_PATH_MAX) {
			snprintf(err, errlen, "%s: path longer than %d bytes", key, CONFIG_PATH_MAX - 1);
			return -1;
		}
		strcpy(place, value);
		return 0;
	case OPT_TARGET:
	case OPT_LISTEN:
		/* checked here, so that a bad one is a file:line error, at start or reload;
		 * empty: the output is off */
		if (value[0] != '\0' && strlen(value) < o->max) {
			struct net_target t;
			struct net_hostport hp;
			char why[NET_HOST_MAX + 96];

			unsigned hp_flags = NET_HP_EMPTY_HOST | NET_HP_PORT_ZERO | NET_HP_NUMERIC;

			if (o->type == OPT_TARGET)
				rc = net_target_parse(value, (unsigned)o->min, &t, why, sizeof(why));
			else
				rc = net_hostport_parse(value, hp_flags, &hp, why, sizeof(why));
			if (rc < 0) {
				snprintf(err, errlen, "%s: %s", key, why);
				return -1;
			}
		}
		__attribute__((fallthrough)); /* then stored as text */
	case OPT_TEXT:
		if (strlen(value) >= o->max) {
			snprintf(err, errlen, "%s: longer than %llu bytes", key,
				 (unsigned long long)o->max - 1);
			return -1;
		}
		strcpy(place, value);
		return 0;
	case OPT_U32:
	case OPT_U64:
		rc = parse_u64(value, o->min, o->max, &n);
		if (rc < 0) {
			snprintf(err, errlen, "%s: '%s' is not a number in %llu..%llu", key, value,
				 (unsigned long long)o->min, (unsigned long long)o->max);
			return -1;
		}
		if (o->type == OPT_U32)
			*(uint32_t *)place = (uint32_t)n;
		else
			*(uint64_t *)place = n;
		return 0;
	case OPT_BOOL:
		if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0)
			*(bool *)place = true;
		else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0)
			*(bool *)place = false;
		else {
			snprintf(err, errlen, "%s: '%s' is not yes/no", key, value);
			return -1;
		}
		return 0;
	case OPT_PORTS:
		if (parse_ports(c, value, err, errlen) < 0)
			return -1;
		return 0;
	case OPT_RULES:
		return parse_rules(c, value, err, errlen);
	case OPT_REPLY:
		return parse_reply(c, value, err, errlen);
	case OPT_ENUM:
		for (unsigned i = 0; o->names[i] != NULL; i++) {
			if (strcmp(value, o->names[i]) == 0) {
				*(int *)place = (int)i; /* the enums are int-sized, from 0 */
				return 0;
			}
		}
		rc = snprintf(err, errlen, "%s: '%s' is not one of", key, value);
		for (unsigned i = 0; o->names[i] != NULL && rc > 0 && (size_t)rc < errlen; i++)
			rc += snprintf(err + rc, errlen - (size_t)rc, "%s %s", i ? "," : "",
				       o->names[i]);
		return -1;
	}
	return -1;
}

static char *
trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* A '#' starts a comment at the start of a line or after a space or tab, so that values
 * may hold one: an ODBC password, a URL fragment, a query's "#>>" operator. */
static void
cut_comment(char *line)
{
	for (char *p = line; *p != '\0'; p++) {
		if (*p == '#' && (p == line || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

int
config_load(struct postern_config *c, const char *path, char *err, size_t errlen)
{
	struct postern_config next = *c;
	char line[CONFIG_LINE_MAX];
	char why[256];
	unsigned lineno = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line longer than %zu bytes", path, lineno,
				 sizeof(line) - 2);
			goto fail;
		}
		cut_comment(line);
		char *s = trim(line);
		if (*s == '\0')
			continue;
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%u: expected 'key = value'", path, lineno);
			goto fail;
		}
		*eq = '\0';
		if (config_set(&next, trim(s), trim(eq + 1), why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			goto fail;
		}
	}
	fclose(f);
	*c = next;
	return 0;
fail:
	fclose(f);
	return -1;
}

bool
config_is_inspected_port(const struct postern_config *c, uint16_t p)
{
	for (uint32_t i = 0; i < c->n_inspect_ports; i++)
		if (c->inspect_ports[i] == p)
			return true;
	return false;
}
