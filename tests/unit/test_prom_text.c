/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus text formatter: exact text for a realistic stats object, the format's structure
 * (one HELP and TYPE per family, samples contiguous, valid lines) checked by a small reader
 * of the format, and the edges: booleans, absent sections, bad names, empty input, appending.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "prom_text.h"

static const char realistic[] =
	"{\"posternd\": {\"rule_generation\": 3, \"rules\": 120, \"reloads\": 1,"
	" \"reload_failures\": 0, \"reload_in_progress\": false, \"dataplanes_connected\": 1,"
	" \"records\": 900, \"eve_lines\": 500, \"subscribers\": 2},"
	" \"dataplane\": {\"rule_generation\": 3, \"workers\": 2, \"rx_packets\": 123,"
	" \"rx_bytes\": 45678, \"flows_active\": 7, \"rule_matches\": 9},"
	" \"workers\": [{\"worker\": 0, \"rule_generation\": 3, \"rx_packets\": 60,"
	" \"flows_active\": 3}, {\"worker\": 1, \"rule_generation\": 3, \"rx_packets\": 63,"
	" \"flows_active\": 4}],"
	" \"outputs\": {\"syslog\": {\"sent\": 10, \"dropped\": 0, \"connected\": true},"
	" \"redis\": {\"sent\": 4, \"dropped\": 1}}}";

static json_t *
load(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (j == NULL)
		fail_msg("bad test JSON: %s", e.text);
	return j;
}

/* The exposition of text (JSON), NUL-terminated; the caller frees it. */
static char *
format(const char *text)
{
	json_t *j = load(text);
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(prom_text_format(j, &buf, &len), 0);
	assert_non_null(buf);
	assert_int_equal(strlen(buf), len);
	json_decref(j);
	return buf;
}

static bool
is_name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

/* Length of the metric or label name at s, 0 when there is none. */
static size_t
name_len(const char *s)
{
	size_t n = 0;

	while (is_name_char(s[n], n == 0))
		n++;
	return n;
}

/*
 * Check the whole exposition the way a scraper reads it: every line a # HELP, a # TYPE or a
 * sample `name{label="value",...} number`; one HELP and one TYPE per family, TYPE before its
 * samples, and every sample of a family right after its TYPE (contiguous). Returns the number
 * of samples; fails the test otherwise.
 */
static int
check_exposition(const char *text)
{
	char families[256][128];
	int n_families = 0, n_samples = 0;
	char current[128] = "";
	const char *line = text;

	while (*line != '\0') {
		const char *eol = strchr(line, '\n');
		size_t n;

		assert_non_null(eol); /* the last line ends with a line feed too */
		if (strncmp(line, "# HELP ", 7) == 0) {
			n = name_len(line + 7);
			assert_true(n > 0 && line[7 + n] == ' ');
		} else if (strncmp(line, "# TYPE ", 7) == 0) {
			n = name_len(line + 7);
			assert_true(n > 0 && n < sizeof(current) && line[7 + n] == ' ');
			const char *type = line + 8 + n;

			assert_true(strncmp(type, "counter\n", 8) == 0 ||
				    strncmp(type, "gauge\n", 6) == 0);
			memcpy(current, line + 7, n);
			current[n] = '\0';
			for (int i = 0; i < n_families; i++)
				if (strcmp(families[i], current) == 0)
					fail_msg("family %s typed twice", current);
			assert_true(n_families < 256);
			strcpy(families[n_families++], current);
		} else {
			const char *p = line;

			n = name_len(p);
			assert_true(n > 0);
			/* contiguous: the sample belongs to the family last typed */
			if (strlen(current) != n || strncmp(p, current, n) != 0)
				fail_msg("sample out of its family: %.*s", (int)(eol - line), line);
			p += n;
			if (*p == '{') {
				p++;
				for (;;) {
					n = name_len(p);
					assert_true(n > 0);
					p += n;
					assert_true(p[0] == '=' && p[1] == '"');
					p += 2;
					while (*p != '"') {
						assert_true(*p != '\n' && *p != '\0');
						p += *p == '\\' ? 2 : 1;
					}
					p++;
					if (*p == '}')
						break;
					assert_true(*p == ',');
					p++;
				}
				p++;
			}
			assert_true(*p == ' ');
			char *end;

			strtod(p + 1, &end);
			assert_true(end > p + 1 && end == eol);
			n_samples++;
		}
		line = eol + 1;
	}
	return n_samples;
}

/* What the spool and the outputs hold now goes down as well as up: gauges, no _total. */
static void
test_spool_and_queue_gauges(void **state)
{
	(void)state;
	char *t = format("{\"dataplane\": {\"spool_records\": 5, \"spool_bytes\": 900,"
			 " \"spool_dropped\": 2, \"events_resent\": 4},"
			 " \"outputs\": {\"redis\": {\"queued\": 12, \"sent\": 3}}}");

	assert_non_null(strstr(t, "# TYPE postern_dataplane_spool_records gauge\n"
				  "postern_dataplane_spool_records 5\n"));
	assert_non_null(strstr(t, "# TYPE postern_dataplane_spool_bytes gauge\n"
				  "postern_dataplane_spool_bytes 900\n"));
	assert_non_null(strstr(t, "# TYPE postern_dataplane_spool_dropped_total counter\n"));
	assert_non_null(strstr(t, "# TYPE postern_dataplane_events_resent_total counter\n"));
	assert_non_null(strstr(t, "# TYPE postern_output_queued gauge\n"
				  "postern_output_queued{output=\"redis\"} 12\n"));
	free(t);
}

static void
test_realistic_exact(void **state)
{
	(void)state;
	char *t = format(realistic);

	assert_non_null(strstr(t, "# HELP postern_posternd_rule_generation Rule generation posternd"
				  " has compiled and published.\n"
				  "# TYPE postern_posternd_rule_generation gauge\n"
				  "postern_posternd_rule_generation 3\n"));
	assert_non_null(strstr(t, "# HELP postern_posternd_reloads_total Rule reloads that"
				  " succeeded.\n"
				  "# TYPE postern_posternd_reloads_total counter\n"
				  "postern_posternd_reloads_total 1\n"));
	assert_non_null(strstr(t, "# HELP postern_dataplane_rx_packets_total Packets received on"
				  " the capture ports.\n"
				  "# TYPE postern_dataplane_rx_packets_total counter\n"
				  "postern_dataplane_rx_packets_total 123\n"));
	assert_non_null(strstr(t, "# TYPE postern_dataplane_flows_active gauge\n"
				  "postern_dataplane_flows_active 7\n"));
	assert_non_null(strstr(t, "# TYPE postern_worker_rx_packets_total counter\n"
				  "postern_worker_rx_packets_total{worker=\"0\"} 60\n"
				  "postern_worker_rx_packets_total{worker=\"1\"} 63\n"));
	assert_non_null(strstr(t, "# TYPE postern_worker_flows_active gauge\n"
				  "postern_worker_flows_active{worker=\"0\"} 3\n"
				  "postern_worker_flows_active{worker=\"1\"} 4\n"));
	assert_non_null(strstr(t, "# HELP postern_output_sent_total Records the output"
				  " delivered.\n"
				  "# TYPE postern_output_sent_total counter\n"
				  "postern_output_sent_total{output=\"syslog\"} 10\n"
				  "postern_output_sent_total{output=\"redis\"} 4\n"));
	assert_non_null(strstr(t, "# TYPE postern_output_connected gauge\n"
				  "postern_output_connected{output=\"syslog\"} 1\n"));
	/* the worker index is a label, never a metric; a key without help gets a default */
	assert_null(strstr(t, "postern_worker_worker"));
	assert_non_null(strstr(t, "# HELP postern_dataplane_rule_matches_total Rule matches.\n"));
	/* 9 posternd + 6 dataplane + 2x3 worker + 5 output samples */
	assert_int_equal(check_exposition(t), 26);
	free(t);
}

static void
test_small_whole_text(void **state)
{
	(void)state;
	char *t = format("{\"dataplane\": {\"rx_packets\": 5, \"flows_active\": 2,"
			 " \"x\": \"text\"}}");

	assert_string_equal(t, "# HELP postern_dataplane_rx_packets_total Packets received on the"
			       " capture ports.\n"
			       "# TYPE postern_dataplane_rx_packets_total counter\n"
			       "postern_dataplane_rx_packets_total 5\n"
			       "# HELP postern_dataplane_flows_active TCP flows in the flow"
			       " tables.\n"
			       "# TYPE postern_dataplane_flows_active gauge\n"
			       "postern_dataplane_flows_active 2\n");
	free(t);
}

/* Workers with different keys: each family still contiguous, in order of first appearance. */
static void
test_grouping(void **state)
{
	(void)state;
	char *t = format("{\"workers\": [{\"worker\": 0, \"a\": 1}, {\"worker\": 1, \"b\": 2,"
			 " \"a\": 3}, {\"c\": 4, \"b\": 5}]}");

	assert_string_equal(t, "# HELP postern_worker_a_total worker a.\n"
			       "# TYPE postern_worker_a_total counter\n"
			       "postern_worker_a_total{worker=\"0\"} 1\n"
			       "postern_worker_a_total{worker=\"1\"} 3\n"
			       "# HELP postern_worker_b_total worker b.\n"
			       "# TYPE postern_worker_b_total counter\n"
			       "postern_worker_b_total{worker=\"1\"} 2\n"
			       "postern_worker_b_total{worker=\"2\"} 5\n"
			       "# HELP postern_worker_c_total worker c.\n"
			       "# TYPE postern_worker_c_total counter\n"
			       "postern_worker_c_total{worker=\"2\"} 4\n");
	assert_int_equal(check_exposition(t), 5);
	free(t);
}

static void
test_booleans(void **state)
{
	(void)state;
	char *t = format("{\"posternd\": {\"reload_in_progress\": true},"
			 " \"outputs\": {\"kafka\": {\"connected\": false}}}");

	assert_non_null(strstr(t, "# TYPE postern_posternd_reload_in_progress gauge\n"
				  "postern_posternd_reload_in_progress 1\n"));
	assert_non_null(strstr(t, "postern_output_connected{output=\"kafka\"} 0\n"));
	assert_int_equal(check_exposition(t), 2);
	free(t);
}

static void
test_absent_sections(void **state)
{
	(void)state;
	char *t = format("{\"posternd\": {\"rules\": 4}}");

	assert_null(strstr(t, "dataplane"));
	assert_null(strstr(t, "worker"));
	assert_null(strstr(t, "output"));
	assert_int_equal(check_exposition(t), 1);
	free(t);
	/* present but empty, or of the wrong kind: nothing */
	t = format("{\"posternd\": {}, \"dataplane\": 3, \"workers\": {\"rx\": 1},"
		   " \"outputs\": [1, 2], \"workers2\": []}");
	assert_string_equal(t, "");
	free(t);
	t = format("{\"workers\": [], \"outputs\": {}}");
	assert_string_equal(t, "");
	free(t);
}

static void
test_empty(void **state)
{
	(void)state;
	json_t *a = json_array();
	char *buf = NULL;
	size_t len = 7;
	char *t = format("{}");

	assert_string_equal(t, "");
	free(t);
	/* not an object: nothing appended, but a buffer all the same */
	len = 0;
	assert_int_equal(prom_text_format(a, &buf, &len), 0);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	free(buf);
	buf = NULL;
	assert_int_equal(prom_text_format(NULL, &buf, &len), 0);
	assert_int_equal(len, 0);
	free(buf);
	json_decref(a);
}

static void
test_invalid_names_skipped(void **state)
{
	(void)state;
	char *t = format("{\"posternd\": {\"rx-packets\": 1, \"9lives\": 2, \"caf\\u00e9\": 3,"
			 " \"ok\": 4, \"with space\": 5, \"\": 6},"
			 " \"bad section\": {\"rx\": 1}, \"\\u00e9t\\u00e9\": {\"rx\": 1},"
			 " \"workers\": [{\"worker\": 0, \"a.b\": 1, \"good\": 2}],"
			 " \"outputs\": {\"we\\\"ird\\\\ \\nname\": {\"sent\": 1,"
			 " \"bad key\": 2}}}");

	/* "9lives" is fine inside postern_posternd_9lives_total: only the whole name counts */
	assert_string_equal(t, "# HELP postern_posternd_9lives_total posternd 9lives.\n"
			       "# TYPE postern_posternd_9lives_total counter\n"
			       "postern_posternd_9lives_total 2\n"
			       "# HELP postern_posternd_ok_total posternd ok.\n"
			       "# TYPE postern_posternd_ok_total counter\n"
			       "postern_posternd_ok_total 4\n"
			       "# HELP postern_worker_good_total worker good.\n"
			       "# TYPE postern_worker_good_total counter\n"
			       "postern_worker_good_total{worker=\"0\"} 2\n"
			       "# HELP postern_output_sent_total Records the output delivered.\n"
			       "# TYPE postern_output_sent_total counter\n"
			       "postern_output_sent_total{output=\"we\\\"ird\\\\ \\nname\"} 1\n");
	assert_int_equal(check_exposition(t), 4);
	free(t);
}

static void
test_non_numeric_and_values(void **state)
{
	(void)state;
	/* 18446744073709551615 does not fit json_int_t; posternd stores it cast, as -1 */
	char *t = format("{\"dataplane\": {\"s\": \"x\", \"n\": null, \"o\": {\"a\": 1},"
			 " \"arr\": [1], \"big\": -1, \"flows_active\": -2, \"ratio\": 0.5}}");

	assert_string_equal(t, "# HELP postern_dataplane_big_total dataplane big.\n"
			       "# TYPE postern_dataplane_big_total counter\n"
			       "postern_dataplane_big_total 18446744073709551615\n"
			       "# HELP postern_dataplane_flows_active TCP flows in the flow"
			       " tables.\n"
			       "# TYPE postern_dataplane_flows_active gauge\n"
			       "postern_dataplane_flows_active -2\n"
			       "# HELP postern_dataplane_ratio_total dataplane ratio.\n"
			       "# TYPE postern_dataplane_ratio_total counter\n"
			       "postern_dataplane_ratio_total 0.5\n");
	free(t);
}

/* Two sections that build the same name: the first family wins, the second is skipped whole. */
static void
test_name_collision(void **state)
{
	(void)state;
	char *t = format("{\"a_b\": {\"c\": 1}, \"a\": {\"b_c\": 2},"
			 " \"worker\": {\"x\": 3}, \"workers\": [{\"x\": 4}, {\"x\": 5}]}");

	assert_string_equal(t, "# HELP postern_a_b_c_total a_b c.\n"
			       "# TYPE postern_a_b_c_total counter\n"
			       "postern_a_b_c_total 1\n"
			       "# HELP postern_worker_x_total worker x.\n"
			       "# TYPE postern_worker_x_total counter\n"
			       "postern_worker_x_total 3\n");
	assert_int_equal(check_exposition(t), 2);
	free(t);
}

static void
test_appends(void **state)
{
	(void)state;
	json_t *j = load("{\"posternd\": {\"rules\": 4}}");
	char *buf = strdup("# before\n");
	size_t len = strlen(buf);

	assert_int_equal(prom_text_format(j, &buf, &len), 0);
	assert_int_equal(len, strlen(buf));
	assert_string_equal(buf, "# before\n"
				 "# HELP postern_posternd_rules Rules in the live rule"
				 " generation.\n"
				 "# TYPE postern_posternd_rules gauge\n"
				 "postern_posternd_rules 4\n");
	free(buf);
	json_decref(j);
}

/* Many families and entries: the buffer grows past its first size; the result stays valid. */
static void
test_large(void **state)
{
	(void)state;
	json_t *root = json_object(), *dp = json_object(), *ws = json_array();
	char key[32];
	char *buf = NULL;
	size_t len = 0;

	for (int i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "counter_%d", i);
		json_object_set_new(dp, key, json_integer(i));
	}
	for (int w = 0; w < 64; w++) {
		json_t *o = json_pack("{s:i, s:i, s:i}", "worker", w, "rx_packets", w * 10,
				      "flows_active", w);

		json_array_append_new(ws, o);
	}
	json_object_set_new(root, "dataplane", dp);
	json_object_set_new(root, "workers", ws);
	assert_int_equal(prom_text_format(root, &buf, &len), 0);
	assert_true(len > 4096);
	assert_int_equal(check_exposition(buf), 200 + 2 * 64);
	assert_non_null(strstr(buf, "postern_worker_rx_packets_total{worker=\"63\"} 630\n"));
	free(buf);
	json_decref(root);
}

static void
test_valid_name(void **state)
{
	(void)state;
	assert_true(prom_text_is_valid_name("a", 1));
	assert_true(prom_text_is_valid_name("_a:b9", 5));
	assert_true(prom_text_is_valid_name(":", 1));
	assert_false(prom_text_is_valid_name("", 0));
	assert_false(prom_text_is_valid_name("9a", 2));
	assert_false(prom_text_is_valid_name("a-b", 3));
	assert_false(prom_text_is_valid_name("a b", 3));
	/* only n bytes count */
	assert_true(prom_text_is_valid_name("ab-", 2));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spool_and_queue_gauges),
		cmocka_unit_test(test_realistic_exact),
		cmocka_unit_test(test_small_whole_text),
		cmocka_unit_test(test_grouping),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_absent_sections),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_invalid_names_skipped),
		cmocka_unit_test(test_non_numeric_and_values),
		cmocka_unit_test(test_name_collision),
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_valid_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
