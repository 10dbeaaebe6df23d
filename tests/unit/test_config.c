/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for common/config.c: defaults, every option type, errors as file:line. */
#include <setjmp.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char path[] = "/tmp/postern-config-XXXXXX";

static const char *
write_conf(const char *text)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void
done(void)
{
	unlink(path);
	strcpy(path, "/tmp/postern-config-XXXXXX");
}

static void
test_defaults(void **state)
{
	(void)state;
	struct postern_config c;

	config_defaults(&c);
	assert_int_equal(c.n_inspect_ports, 3);
	assert_true(config_is_inspected_port(&c, 25));
	assert_true(config_is_inspected_port(&c, 587));
	assert_true(config_is_inspected_port(&c, 465));
	assert_false(config_is_inspected_port(&c, 2525));
	assert_int_equal(c.workers, 1);
	assert_int_equal(c.address_output, CONFIG_ADDR_PLAIN);
}

static void
test_good_file(void **state)
{
	(void)state;
	struct postern_config c;
	char err[256];

	config_defaults(&c);
	assert_int_equal(config_load(&c, write_conf("# comment\n"
						  "\n"
						  "rules = /x/y.rules   # trailing comment\n"
						  "inspect_ports = 25, 2525,587\n"
						  "workers=2\n"
						  "address_output = hash\n"
						  "link_type = null\n"
						  "eve_smtp_events = yes\n"
						  "eve_file_max_size = 104857600\n"
						  "eve_file_keep = 9\n"
						  "suppress_map_size = 1048576\n"),
				     err, sizeof(err)),
			 0);
	done();
	assert_string_equal(c.rules, "/x/y.rules");
	assert_int_equal(c.n_inspect_ports, 3);
	assert_int_equal(c.inspect_ports[1], 2525);
	assert_int_equal(c.workers, 2);
	assert_int_equal(c.address_output, CONFIG_ADDR_HASH);
	assert_int_equal(c.link_type, CONFIG_LINK_NULL);
	assert_true(c.eve_smtp_events);
	assert_int_equal(c.eve_file_max_size, 104857600);
	assert_int_equal(c.eve_file_keep, 9);
	assert_int_equal(c.suppress_map_size, 1048576);
}

static void
expect_error(const char *text, const char *want)
{
	struct postern_config c, before;
	char err[256], expect[512];

	config_defaults(&c);
	before = c;
	assert_int_equal(config_load(&c, write_conf(text), err, sizeof(err)), -1);
	snprintf(expect, sizeof(expect), "%s:%s", path, want);
	done();
	assert_string_equal(err, expect);
	/* all or nothing: a bad file leaves the config as it was */
	assert_memory_equal(&c, &before, sizeof(c));
}

static void
test_errors_name_the_line(void **state)
{
	(void)state;
	expect_error("workers = 1\nbogus = 3\n", "2: unknown option 'bogus'");
	expect_error("\n\nworkers = 0\n", "3: workers: '0' is not a number in 1..64");
	expect_error("workers = 2x\n", "1: workers: '2x' is not a number in 1..64");
	expect_error("workers = -1\n", "1: workers: '-1' is not a number in 1..64");
	expect_error("eve_file_keep = 0\n", "1: eve_file_keep: '0' is not a number in 1..1000");
	expect_error("rules /x\n", "1: expected 'key = value'");
	expect_error("inspect_ports = 25,70000\n", "1: '70000' is not a port (1-65535)");
	expect_error("inspect_ports = \n", "1: empty port list");
	expect_error("address_output = maybe\n",
		     "1: address_output: 'maybe' is not one of plain, hash, redact");
	expect_error("link_type = token-ring\n",
		     "1: link_type: 'token-ring' is not one of ethernet, null, raw, sll");
	expect_error("eve_smtp_events = 2\n", "1: eve_smtp_events: '2' is not yes/no");
}

/*
 * The operations keys: outputs' targets and the metrics address are checked at load (a
 * typo is a file:line error, not a posternd that will not start or a reload that ignores
 * it), the spool has a floor, names have a bound.
 */
static void
test_operations(void **state)
{
	struct postern_config c;
	char err[256], name[CONFIG_NAME_MAX + 16];

	(void)state;
	config_defaults(&c);
	assert_int_equal(c.event_spool, UINT64_C(64) << 20);
	assert_int_equal(c.syslog_facility, 16);
	assert_string_equal(c.redis_key, "postern:%t");
	assert_int_equal(config_load(&c, write_conf("syslog = tcp:[fd00::5]:601\n"
						    "syslog_facility = local3\n"
						    "redis = unix:/run/redis/redis.sock\n"
						    "redis_mode = publish\n"
						    "metrics_listen = :9477\n"
						    "event_spool = 1048576\n"
						    "user = postern\n"
						    "alert_socket_group = soc\n"),
				     err, sizeof(err)), 0);
	done();
	assert_string_equal(c.syslog, "tcp:[fd00::5]:601");
	assert_int_equal(c.syslog_facility, 19);
	assert_int_equal(c.redis_mode, CONFIG_REDIS_PUBLISH);
	assert_string_equal(c.metrics_listen, ":9477");
	assert_string_equal(c.user, "postern");
	assert_string_equal(c.alert_socket_group, "soc");
	/* empty: the output is off */
	assert_int_equal(config_load(&c, write_conf("syslog =\nredis =\n"), err, sizeof(err)), 0);
	done();
	assert_string_equal(c.syslog, "");

	expect_error("syslog = tcp:logs.example\n",
		     "1: syslog: 'logs.example': expected HOST:PORT (an IPv6 address in brackets)");
	expect_error("redis = udp:127.0.0.1:6379\n",
		     "1: redis: 'udp:127.0.0.1:6379': expected tcp:HOST:PORT, unix:PATH");
	expect_error("syslog = udp:127.0.0.1:0\n",
		     "1: syslog: '127.0.0.1:0': the port must be 1 to 65535");
	expect_error("metrics_listen = ::1:9477\n",
		     "1: metrics_listen: '::1:9477': expected HOST:PORT (an IPv6 address in "
		     "brackets)");
	expect_error("metrics_listen = localhost:9477\n",
		     "1: metrics_listen: 'localhost:9477': localhost is not an IPv4 address");
	expect_error("event_spool = 131071\n",
		     "1: event_spool: '131071' is not a number in 131072..1099511627776");
	expect_error("syslog_facility = local8\n",
		     "1: syslog_facility: 'local8' is not one of kern, user, mail, daemon, auth, "
		     "syslog, lpr, news, uucp, cron, authpriv, ftp, ntp, security, console, "
		     "solaris-cron, local0, local1, local2, local3, local4, local5, local6, local7");
	memset(name, 'u', CONFIG_NAME_MAX);
	name[CONFIG_NAME_MAX] = '\0';
	char line[CONFIG_NAME_MAX + 32], want[64];
	snprintf(line, sizeof(line), "user = %s\n", name);
	snprintf(want, sizeof(want), "1: user: longer than %d bytes", CONFIG_NAME_MAX - 1);
	expect_error(line, want);
}

/* The suppression and commercial keys: long text values, a '#' inside a value, limits. */
static void
test_text_values(void **state)
{
	(void)state;
	struct postern_config c;
	char err[256], line[CONFIG_QUERY_MAX + 64];

	config_defaults(&c);
	assert_string_equal(c.suppress_calendar_tz, "UTC");
	assert_string_equal(c.suppress_holidays, "us-federal");
	assert_string_equal(c.commercial_signals, "list-unsubscribe, list-id, precedence");
	assert_true(c.commercial_default);
	assert_int_equal(config_load(&c, write_conf(
		"suppress_sync_dsn = Driver={PostgreSQL Unicode};Server=/run/pg;Pwd=a#b # note\n"
		"suppress_sync_query = SELECT email, optout_at AS optout_date FROM optouts\n"
		"commercial_senders = news.example.com, deals.example.com\n"
		"commercial_default = no\n"
		"suppress_fold_dots = yes\n"
		"suppress_calendar_tz = America/New_York\n"), err, sizeof(err)), 0);
	done();
	/* '#' starts a comment only at a line's start or after a blank */
	assert_string_equal(c.suppress_sync_dsn, "Driver={PostgreSQL Unicode};Server=/run/pg;Pwd=a#b");
	assert_string_equal(c.suppress_sync_query,
			    "SELECT email, optout_at AS optout_date FROM optouts");
	assert_string_equal(c.commercial_senders, "news.example.com, deals.example.com");
	assert_false(c.commercial_default);
	assert_true(c.suppress_fold_dots);
	assert_string_equal(c.suppress_calendar_tz, "America/New_York");

	/* a query may use the whole CONFIG_QUERY_MAX - 1 bytes; one more is an error */
	int n = snprintf(line, sizeof(line), "suppress_sync_query = ");
	memset(line + n, 'q', CONFIG_QUERY_MAX - 1);
	line[n + CONFIG_QUERY_MAX - 1] = '\0';
	assert_int_equal(config_set(&c, "suppress_sync_query", line + n, err, sizeof(err)), 0);
	assert_int_equal(strlen(c.suppress_sync_query), CONFIG_QUERY_MAX - 1);
	strcat(line, "q");
	assert_int_equal(config_set(&c, "suppress_sync_query", line + n, err, sizeof(err)), -1);
	assert_string_equal(err, "suppress_sync_query: longer than 4095 bytes");
	assert_int_equal(config_set(&c, "suppress_calendar_tz", "America/Argentina/ComodRivadavia_"
				    "and_a_name_longer_than_the_field", err, sizeof(err)), -1);
	assert_string_equal(err, "suppress_calendar_tz: longer than 63 bytes");
}

static void
test_missing_file(void **state)
{
	(void)state;
	struct postern_config c;
	char err[256];

	config_defaults(&c);
	assert_int_equal(config_load(&c, "/nonexistent/postern.conf", err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/postern.conf: No such file or directory");
}

/* Every path of a rules list, joined by '|'; the last return code in *rc. */
static void
rules_paths(const char *list, char *out, size_t cap, int *rc)
{
	char one[CONFIG_PATH_MAX];
	size_t pos = 0, at = 0;

	out[0] = '\0';
	while ((*rc = config_rules_next(list, &pos, one, sizeof(one))) == 1)
		at += (size_t)snprintf(out + at, cap - at, "%s%s", at ? "|" : "", one);
}

/* Inline mode: the mode, what overload does, and the reply a blocked client gets. */
static void
test_inline(void **state)
{
	(void)state;
	struct postern_config c;
	char err[256];

	config_defaults(&c);
	assert_int_equal(c.mode, CONFIG_MODE_PASSIVE);
	assert_int_equal(c.inline_fail, CONFIG_FAIL_OPEN);
	assert_false(c.block_suppressed);
	assert_false(c.block_canspam);
	assert_string_equal(c.block_reply, "550 5.7.1 Message refused by the site's mail policy");
	assert_int_equal(config_load(&c, write_conf("mode = inline\n"
						  "inline_fail = closed\n"
						  "block_suppressed = yes\n"
						  "block_canspam = yes\n"
						  "block_reply = 554 5.7.26 Opted out: see policy 12\n"),
				     err, sizeof(err)),
			 0);
	done();
	assert_int_equal(c.mode, CONFIG_MODE_INLINE);
	assert_int_equal(c.inline_fail, CONFIG_FAIL_CLOSED);
	assert_true(c.block_suppressed);
	assert_true(c.block_canspam);
	assert_string_equal(c.block_reply, "554 5.7.26 Opted out: see policy 12");

	expect_error("mode = bridge\n", "1: mode: 'bridge' is not one of passive, inline");
	expect_error("inline_fail = maybe\n", "1: inline_fail: 'maybe' is not one of open, closed");
	/* a permanent failure with an enhanced status code, or the sender would retry */
	static const char *const bad[] = {
		"450 4.7.1 try later", "550 refused", "550 4.7.1 refused", "55 5.7.1 refused",
		"550 5.7.1", "550 5.7.1 ", "550 5.7.1234 refused", "550 5..1 refused",
		"550-5.7.1 refused", "5x0 5.7.1 refused", "550 5.7.1 caf\xc3\xa9",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128], want[256];

		snprintf(text, sizeof(text), "block_reply = %s\n", bad[i]);
		config_defaults(&c);
		assert_int_equal(config_load(&c, write_conf(text), err, sizeof(err)), -1);
		done();
		snprintf(want, sizeof(want), "block_reply:");
		assert_non_null(strstr(err, want));
	}
	char longer[CONFIG_REPLY_MAX + 32];
	snprintf(longer, sizeof(longer), "block_reply = 550 5.7.1 %0*d\n", CONFIG_REPLY_MAX, 0);
	config_defaults(&c);
	assert_int_equal(config_load(&c, write_conf(longer), err, sizeof(err)), -1);
	done();
	assert_non_null(strstr(err, "block_reply: longer than 255 bytes"));
}

static void
test_rules_list(void **state)
{
	(void)state;
	static const struct {
		const char *value, *paths;
	} good[] = {
		{ "rules/demo.rules", "rules/demo.rules" },
		{ "a.rules b.rules\tc.rules", "a.rules|b.rules|c.rules" },
		{ "a.rules,b.rules", "a.rules|b.rules" },
		{ "a.rules , b.rules,\t, c.rules,", "a.rules|b.rules|c.rules" },
	};
	struct postern_config c;
	char err[256], out[4096], conf[512];
	int rc;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		config_defaults(&c);
		assert_int_equal(config_set(&c, "rules", good[i].value, err, sizeof(err)), 0);
		assert_string_equal(c.rules, good[i].value);   /* kept as written */
		rules_paths(c.rules, out, sizeof(out), &rc);
		assert_int_equal(rc, 0);
		assert_string_equal(out, good[i].paths);
	}

	/* from a file: the value is trimmed, the list kept */
	config_defaults(&c);
	snprintf(conf, sizeof(conf), "rules = rules/demo.rules rules/compliance/compliance.rules,"
				     "rules/hygiene/hygiene.rules\n");
	assert_int_equal(config_load(&c, write_conf(conf), err, sizeof(err)), 0);
	done();
	rules_paths(c.rules, out, sizeof(out), &rc);
	assert_string_equal(out, "rules/demo.rules|rules/compliance/compliance.rules|"
				 "rules/hygiene/hygiene.rules");

	/* an empty list, blanks and commas only */
	config_defaults(&c);
	assert_int_equal(config_set(&c, "rules", "", err, sizeof(err)), -1);
	assert_string_equal(err, "rules: empty list (one or more rule pack paths)");
	assert_int_equal(config_set(&c, "rules", " ,\t, ", err, sizeof(err)), -1);
	assert_string_equal(c.rules, "/etc/postern/postern.rules"); /* left as it was */
	assert_int_equal(config_load(&c, write_conf("workers = 2\nrules = ,\n"), err,
				     sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: rules: empty list"));
	done();

	/* one path of CONFIG_PATH_MAX bytes, among short ones: refused */
	char list[CONFIG_PATH_MAX + 64];
	int n = snprintf(list, sizeof(list), "a.rules ");

	memset(list + n, 'x', CONFIG_PATH_MAX);
	snprintf(list + n + CONFIG_PATH_MAX, sizeof(list) - (size_t)n - CONFIG_PATH_MAX, ",b");
	assert_int_equal(config_set(&c, "rules", list, err, sizeof(err)), -1);
	assert_string_equal(err, "rules: a path is longer than 255 bytes");
	rules_paths(list, out, sizeof(out), &rc);
	assert_int_equal(rc, -ENAMETOOLONG);
	assert_string_equal(out, "a.rules");
	list[n + CONFIG_PATH_MAX - 1] = ','; /* 255 bytes: fits */
	assert_int_equal(config_set(&c, "rules", list, err, sizeof(err)), 0);
	rules_paths(c.rules, out, sizeof(out), &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(strlen(out), strlen("a.rules|") + CONFIG_PATH_MAX - 1 + strlen("|b"));

	/* the list itself is bounded, and so is the number of packs */
	static char huge[CONFIG_RULES_MAX + 8];

	memset(huge, 'a', sizeof(huge) - 1);
	for (size_t i = 100; i < sizeof(huge) - 1; i += 100)
		huge[i] = ' ';
	assert_int_equal(config_set(&c, "rules", huge, err, sizeof(err)), -1);
	assert_string_equal(err, "rules: list longer than 2047 bytes");
	huge[0] = '\0';
	for (int i = 0; i <= CONFIG_RULES_PACKS_MAX; i++)
		strcat(huge, "p ");
	assert_int_equal(config_set(&c, "rules", huge, err, sizeof(err)), -1);
	assert_string_equal(err, "rules: more than 64 packs");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_errors_name_the_line),
		cmocka_unit_test(test_text_values),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_rules_list),
		cmocka_unit_test(test_inline),
		cmocka_unit_test(test_operations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
