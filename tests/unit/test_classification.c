/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the classification.config parser (control/classification.c): the shipped
 * rules/classification.config, the accepted spellings, severity fallback, and every error
 * with its exact FILE:LINE:COL message. The shipped file is found through
 * $POSTERN_SOURCE_ROOT, else relative to this source file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "classification.h"

static char err[8192];

static struct classification *
parse_str(const char *text)
{
	return classification_parse_buffer("c.config", text, strlen(text), err, sizeof(err));
}

static void
shipped_path(char *out, size_t size)
{
	const char *root = getenv("POSTERN_SOURCE_ROOT");
	char here[4096];

	if (root != NULL) {
		snprintf(out, size, "%s/rules/classification.config", root);
		return;
	}
	snprintf(here, sizeof(here), "%s", __FILE__);
	snprintf(out, size, "%s/../../rules/classification.config", dirname(here));
}

static void
test_shipped_file(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int priority;
	} want[] = {
		{ "not-suspicious", 3 },   { "unknown", 3 },
		{ "bad-unknown", 2 },      { "attempted-recon", 2 },
		{ "misc-activity", 3 },    { "trojan-activity", 1 },
		{ "protocol-command-decode", 3 }, { "policy-violation", 1 },
		{ "social-engineering", 2 }, { "canspam-violation", 1 },
	};
	char path[4096];
	struct classification *c;

	shipped_path(path, sizeof(path));
	c = classification_load(path, err, sizeof(err));
	if (c == NULL)
		fail_msg("%s", err);
	assert_int_equal(c->n_entries, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct classification_entry *e = classification_find(c, want[i].name);

		assert_non_null(e);
		assert_int_equal(e->priority, want[i].priority);
	}
	assert_string_equal(classification_find(c, "canspam-violation")->desc,
			    "CAN-SPAM compliance violation");
	assert_string_equal(classification_find(c, "policy-violation")->desc,
			    "Potential Corporate Privacy Violation");
	classification_destroy(c);
}

static void
test_forms(void **state)
{
	(void)state;
	struct classification *c = parse_str(
		"# comment\r\n"
		"\r\n"
		"   # indented comment\n"
		"config classification: a-b_1,Plain,1\n"
		"  config   classification :  spaced , Spaced out , 7  \r\n"
		"\tconfig classification:commas,A, description, with commas,255\n");

	assert_non_null(c);
	assert_string_equal(err, "");
	assert_int_equal(c->n_entries, 3);
	assert_string_equal(c->entries[0].name, "a-b_1");
	assert_string_equal(c->entries[0].desc, "Plain");
	assert_int_equal(c->entries[0].priority, 1);
	assert_int_equal(c->entries[0].line, 4);
	assert_string_equal(c->entries[1].name, "spaced");
	assert_string_equal(c->entries[1].desc, "Spaced out");
	assert_int_equal(c->entries[1].priority, 7);
	assert_string_equal(c->entries[2].desc, "A, description, with commas");
	assert_int_equal(c->entries[2].priority, 255);

	assert_ptr_equal(classification_find(c, "spaced"), &c->entries[1]);
	assert_null(classification_find(c, "Spaced"));
	assert_null(classification_find(c, "space"));
	assert_null(classification_find(c, NULL));
	assert_null(classification_find(NULL, "spaced"));

	/* severity: priority, else the class's priority, else 3 */
	assert_int_equal(classification_severity(c, "spaced", 2), 2);
	assert_int_equal(classification_severity(c, "spaced", 0), 7);
	assert_int_equal(classification_severity(c, "nope", 0), 3);
	assert_int_equal(classification_severity(c, NULL, 0), 3);
	assert_int_equal(classification_severity(NULL, "spaced", 0), 3);
	classification_destroy(c);
	classification_destroy(NULL);

	c = parse_str("");
	assert_non_null(c);
	assert_int_equal(c->n_entries, 0);
	classification_destroy(c);
}

static void
test_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
		{ "config reference: a,b\n",
		  "c.config:1:1: expected 'config classification: name,description,priority'" },
		{ "classification: a,b,1\n",
		  "c.config:1:1: expected 'config classification: name,description,priority'" },
		{ "config classification a,b,1\n",
		  "c.config:1:1: expected 'config classification: name,description,priority'" },
		{ "config classification: a,b\n",
		  "c.config:1:24: expected 'name,description,priority'" },
		{ "config classification: ab\n",
		  "c.config:1:24: expected 'name,description,priority'" },
		{ "config classification: ,b,1\n", "c.config:1:24: name must be 1 to 64 characters" },
		{ "config classification: a b,c,1\n",
		  "c.config:1:25: name may hold only letters, digits, '-' and '_'" },
		{ "config classification: a,,1\n",
		  "c.config:1:26: description must be 1 to 256 characters" },
		{ "config classification: a,x\x01y,1\n",
		  "c.config:1:27: control character 0x01 in description" },
		{ "config classification: a,b,0\n", "c.config:1:28: priority must be a number in 1..255" },
		{ "config classification: a,b,256\n", "c.config:1:28: priority must be a number in 1..255" },
		{ "config classification: a,b,\n", "c.config:1:28: priority must be a number in 1..255" },
		{ "config classification: a,b,1x\n", "c.config:1:28: priority must be a number in 1..255" },
		{ "config classification: a,b,-1\n", "c.config:1:28: priority must be a number in 1..255" },
		{ "config classification: a,b,99999999999999999999\n",
		  "c.config:1:28: priority must be a number in 1..255" },
		{ "config classification: a,b,1\n\nconfig classification: a,c,2\n",
		  "c.config:3:24: duplicate classtype 'a' (first at line 1)" },
		{ "config classification: a,b,1\nbad\nconfig classification: c,d,0\n",
		  "c.config:2:1: expected 'config classification: name,description,priority'\n"
		  "c.config:3:28: priority must be a number in 1..255" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct classification *c = parse_str(cases[i].text);

		if (c != NULL || strcmp(err, cases[i].err) != 0)
			fail_msg("case %zu\n  expected: %s\n  got:      %s", i, cases[i].err,
				 c != NULL ? "(parsed)" : err);
		assert_int_equal(errno, EINVAL);
	}
}

static void
test_limits(void **state)
{
	(void)state;
	char name[80], *text, expect[4096];
	size_t n = 0, e = 0, cap = 200000;
	struct classification *c;

	/* a 65-byte name */
	memset(name, 'n', 65);
	name[65] = '\0';
	snprintf(expect, sizeof(expect), "config classification: %s,d,1\n", name);
	c = parse_str(expect);
	assert_null(c);
	assert_string_equal(err, "c.config:1:24: name must be 1 to 64 characters");

	/* more than CLASSIFICATION_MAX entries */
	text = malloc(cap);
	assert_non_null(text);
	for (int i = 0; i <= CLASSIFICATION_MAX; i++)
		n += (size_t)snprintf(text + n, cap - n, "config classification: c%d,d,1\n", i);
	c = parse_str(text);
	assert_null(c);
	assert_string_equal(err, "c.config:1025:1: more than 1024 classtypes");

	/* 25 bad lines: 20 reported, then a stop */
	n = 0;
	for (int i = 1; i <= 25; i++) {
		n += (size_t)snprintf(text + n, cap - n, "bogus\n");
		if (i <= 20)
			e += (size_t)snprintf(expect + e, sizeof(expect) - e,
					      "%sc.config:%d:1: expected 'config classification: "
					      "name,description,priority'",
					      i > 1 ? "\n" : "", i);
	}
	snprintf(expect + e, sizeof(expect) - e, "\nc.config: too many errors, stopped after 20");
	c = parse_str(text);
	assert_null(c);
	assert_string_equal(err, expect);
	free(text);

	c = classification_load("/nonexistent/classification.config", err, sizeof(err));
	assert_null(c);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(err, "/nonexistent/classification.config: No such file or directory");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_file),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
