/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * addr_list: address lists split at separating commas only (not in quoted strings, comments
 * or angle brackets, escapes honoured), and cut between whole addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addr_list.h"

static void
expect_split(const char *list, const char *const *want, size_t n_want)
{
	struct slice v = slice_from_cstr(list), el;
	size_t pos = 0, n = 0;

	while (addr_list_next(v, &pos, &el)) {
		assert_true(n < n_want);
		assert_int_equal(el.len, strlen(want[n]));
		assert_memory_equal(el.ptr, want[n], el.len);
		n++;
	}
	assert_int_equal(n, n_want);
}

static void
test_split(void **state)
{
	(void)state;
	expect_split("a@x, b@y", (const char *const[]){ "a@x", "b@y" }, 2);
	expect_split("\"Doe, John\" <j@x>, (c, d) e@y", (const char *const[]){
		"\"Doe, John\" <j@x>", "(c, d) e@y" }, 2);
	expect_split("<\"odd,local\"@x>,z@y", (const char *const[]){ "<\"odd,local\"@x>", "z@y" },
		     2);
	/* an escaped quote does not end the quoted string */
	expect_split("\"a\\\",b\" <a@x>, c@y", (const char *const[]){ "\"a\\\",b\" <a@x>", "c@y" },
		     2);
	expect_split("a@x,,b@y,", (const char *const[]){ "a@x", "", "b@y", "" }, 4);
	expect_split("", (const char *const[]){ "" }, 1);
}

static void
test_cut(void **state)
{
	(void)state;
	struct slice v = slice_from_cstr("\"Doe, J\" <j@x>, bb@y, ccc@z");
	struct slice c;

	c = addr_list_cut(v, 100);
	assert_int_equal(c.len, strlen("\"Doe, J\" <j@x>, bb@y")); /* the last address has no
								       * comma after it */
	c = addr_list_cut(v, 20);
	assert_int_equal(c.len, strlen("\"Doe, J\" <j@x>, bb@y"));
	c = addr_list_cut(v, 19);
	assert_int_equal(c.len, strlen("\"Doe, J\" <j@x>"));
	/* the comma inside the quotes is no place to cut */
	c = addr_list_cut(v, 6);
	assert_int_equal(c.len, 0);
}

static void
expect_mailbox(const char *entry, const char *want)
{
	struct slice m = addr_list_mailbox(slice_from_cstr(entry));

	assert_int_equal(m.len, strlen(want));
	assert_memory_equal(m.ptr, want, m.len);
}

static void
test_mailbox(void **state)
{
	(void)state;
	expect_mailbox("news@shop.example", "news@shop.example");
	expect_mailbox("  <news@shop.example>  ", "news@shop.example");
	expect_mailbox("Shop News <news@shop.example>", "news@shop.example");
	expect_mailbox("\"Doe, <John>\" <j@x.example>", "j@x.example");
	expect_mailbox("news@shop.example (Shop News)", "news@shop.example");
	expect_mailbox("(Shop (the best) News) news@shop.example", "news@shop.example");
	expect_mailbox("(a <fake@bad.example>) real@good.example", "real@good.example");
	expect_mailbox("\"john doe\"@x.example (J)", "\"john doe\"@x.example");
	expect_mailbox("undisclosed-recipients:;", "undisclosed-recipients:;");
	expect_mailbox("(only a comment)", "");
	expect_mailbox("", "");
	expect_mailbox("Broken <no-end@x.example", "Broken");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_mailbox),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
