/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of business_days: the CAN-SPAM 10 business day window over weekends and US
 * federal holidays with their observed days, checked against dates worked out by hand from a
 * calendar (each case says how), and the civil-date arithmetic against libc's timegm/gmtime_r.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "business_days.h"

static int64_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {
		.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
		.tm_hour = h, .tm_min = mi, .tm_sec = s,
	};

	return (int64_t)timegm(&tm);
}

static void
test_thanksgiving_2024(void **state)
{
	(void)state;
	/* Opt-out Fri 2024-11-22. Business days: Mon 25 (1), Tue 26 (2), Wed 27 (3),
	 * Thu 28 Thanksgiving (4th Thursday: Nov 1 was a Friday, so Thursdays are 7, 14, 21,
	 * 28) skipped, Fri 29 (4), Mon Dec 2 (5) .. Fri Dec 6 (9), Mon Dec 9 (10). */
	assert_int_equal(business_days_add(utc(2024, 11, 22, 0, 0, 0), 10),
			 utc(2024, 12, 9, 0, 0, 0));
	assert_true(business_day_is_holiday(2024, 11, 28));
	assert_false(business_day_is_holiday(2024, 11, 29));
	assert_false(business_day_is_holiday(2024, 11, 21));
}

static void
test_keeps_time_of_day(void **state)
{
	(void)state;
	/* Same window as above, 15:30:07 UTC kept. */
	assert_int_equal(business_days_add(utc(2024, 11, 22, 15, 30, 7), 10),
			 utc(2024, 12, 9, 15, 30, 7));
	/* Fri 2024-03-01 23:59:59: Mon 4 .. Fri 8 (5), Mon 11 .. Fri 15 (10); no holiday. */
	assert_int_equal(business_days_add(utc(2024, 3, 1, 23, 59, 59), 10),
			 utc(2024, 3, 15, 23, 59, 59));
}

static void
test_independence_day_on_saturday(void **state)
{
	(void)state;
	/* 2020-07-04 was a Saturday: observed Friday 2020-07-03. From Thu 2020-07-02 the next
	 * business day is Mon 07-06 (Fri observed holiday, Sat, Sun). */
	assert_true(business_day_is_holiday(2020, 7, 3));
	assert_true(business_day_is_holiday(2020, 7, 4));
	assert_false(business_day_is_business(2020, 7, 3));
	assert_int_equal(business_days_add(utc(2020, 7, 2, 12, 0, 0), 1),
			 utc(2020, 7, 6, 12, 0, 0));
	/* 2021-07-04 was a Sunday: observed Monday 07-05; Fri 07-02 + 1 = Tue 07-06. */
	assert_true(business_day_is_holiday(2021, 7, 5));
	assert_int_equal(business_days_add(utc(2021, 7, 2, 0, 0, 0), 1),
			 utc(2021, 7, 6, 0, 0, 0));
}

static void
test_new_year_observed_across_years(void **state)
{
	(void)state;
	/* 2022-01-01 was a Saturday: observed Friday 2021-12-31, in the year before. */
	assert_true(business_day_is_holiday(2021, 12, 31));
	assert_int_equal(business_days_add(utc(2021, 12, 30, 0, 0, 0), 1),
			 utc(2022, 1, 3, 0, 0, 0));
	/* 2023-01-01 was a Sunday: observed Monday 2023-01-02; Fri 2022-12-30 + 1 = Tue 01-03. */
	assert_true(business_day_is_holiday(2023, 1, 2));
	assert_int_equal(business_days_add(utc(2022, 12, 30, 0, 0, 0), 1),
			 utc(2023, 1, 3, 0, 0, 0));
	/* 2020-12-31 (Thursday) is an ordinary day: 2021-01-01 was a Friday. */
	assert_false(business_day_is_holiday(2020, 12, 31));
}

static void
test_christmas_and_new_year(void **state)
{
	(void)state;
	/* Tue 2024-12-24 + 10: Wed 25 Christmas, Thu 26 (1), Fri 27 (2), Mon 30 (3), Tue 31 (4),
	 * Wed 2025-01-01 New Year, Thu 2 (5), Fri 3 (6), Mon 6 (7), Tue 7 (8), Wed 8 (9),
	 * Thu 9 (10). (The one-off closure of 2025-01-09 is not a federal holiday by statute.) */
	assert_int_equal(business_days_add(utc(2024, 12, 24, 8, 0, 0), 10),
			 utc(2025, 1, 9, 8, 0, 0));
	/* Christmas 2022 was a Sunday: observed Monday 12-26. */
	assert_true(business_day_is_holiday(2022, 12, 26));
	assert_false(business_day_is_holiday(2022, 12, 23));
}

static void
test_monday_holidays_2024(void **state)
{
	(void)state;
	/* 2024-01-01 was a Monday: Mondays 1, 8, 15 -> MLK Day Jan 15. */
	assert_true(business_day_is_holiday(2024, 1, 15));
	assert_false(business_day_is_holiday(2024, 1, 8));
	/* 2024-02-01 a Thursday: Mondays 5, 12, 19 -> Washington's Birthday Feb 19. */
	assert_true(business_day_is_holiday(2024, 2, 19));
	/* 2024-05-31 a Friday -> last Monday May 27. */
	assert_true(business_day_is_holiday(2024, 5, 27));
	assert_false(business_day_is_holiday(2024, 5, 20));
	/* 2024-09-01 a Sunday -> Labor Day Sep 2. */
	assert_true(business_day_is_holiday(2024, 9, 2));
	/* 2024-10-01 a Tuesday: Mondays 7, 14 -> Columbus Day Oct 14. */
	assert_true(business_day_is_holiday(2024, 10, 14));
	assert_false(business_day_is_holiday(2024, 10, 7));
	/* 2021-05-31 was itself a Monday: Memorial Day on the 31st. */
	assert_true(business_day_is_holiday(2021, 5, 31));
	assert_false(business_day_is_holiday(2021, 5, 24));
	/* Fri 2025-01-10 + 10: Mon 13 .. Fri 17 (5), Mon 20 MLK (2025-01-01 a Wednesday:
	 * Mondays 6, 13, 20), Tue 21 .. Fri 24 (9), Mon 27 (10). */
	assert_int_equal(business_days_add(utc(2025, 1, 10, 0, 0, 0), 10),
			 utc(2025, 1, 27, 0, 0, 0));
}

static void
test_juneteenth_and_veterans(void **state)
{
	(void)state;
	/* Established in 2021: 2020-06-19 (a Friday) was a business day. */
	assert_false(business_day_is_holiday(2020, 6, 19));
	assert_true(business_day_is_business(2020, 6, 19));
	/* 2021-06-19 a Saturday: observed Friday 06-18. */
	assert_true(business_day_is_holiday(2021, 6, 18));
	/* 2022-06-19 a Sunday: observed Monday 06-20. */
	assert_true(business_day_is_holiday(2022, 6, 20));
	/* 2023-11-11 a Saturday: Veterans Day observed Friday 11-10. */
	assert_true(business_day_is_holiday(2023, 11, 10));
	/* Veterans Day is not moved to a Monday: 2024-11-11 was itself a Monday. */
	assert_true(business_day_is_holiday(2024, 11, 11));
}

static void
test_weekend_start_and_zero(void **state)
{
	(void)state;
	/* Sat 2024-03-02: day 1 is Mon 03-04. */
	assert_int_equal(business_days_add(utc(2024, 3, 2, 10, 0, 0), 1),
			 utc(2024, 3, 4, 10, 0, 0));
	/* Sun 2024-03-03 + 10: Mon 4 .. Fri 8 (5), Mon 11 .. Fri 15 (10). */
	assert_int_equal(business_days_add(utc(2024, 3, 3, 0, 0, 0), 10),
			 utc(2024, 3, 15, 0, 0, 0));
	assert_int_equal(business_days_add(utc(2024, 3, 2, 10, 0, 0), 0),
			 utc(2024, 3, 2, 10, 0, 0));
}

static void
test_before_epoch(void **state)
{
	(void)state;
	/* 1969-12-31T23:00:00Z (a Wednesday) + 1: 1970-01-01 is New Year's Day (Thursday),
	 * so Fri 1970-01-02T23:00:00Z = 86400 + 82800. */
	assert_int_equal(business_days_add(-3600, 1), 169200);
	assert_int_equal(utc(1970, 1, 2, 23, 0, 0), 169200);
}

static void
test_bounds(void **state)
{
	(void)state;
	assert_true(business_days_add(BUSINESS_DAYS_T_MAX + 1, 1) == INT64_MIN);
	assert_true(business_days_add(BUSINESS_DAYS_T_MIN - 1, 0) == INT64_MIN);
	assert_true(business_days_add(INT64_MAX, 1) == INT64_MIN);
	assert_true(business_days_add(INT64_MIN, 1) == INT64_MIN);
	/* Runs off the end of year 9999: bounded, reports it. */
	assert_true(business_days_add(0, UINT_MAX) == INT64_MIN);
	assert_true(business_days_add(BUSINESS_DAYS_T_MAX, 1) == INT64_MIN);
	assert_int_equal(business_days_add(BUSINESS_DAYS_T_MIN, 0), BUSINESS_DAYS_T_MIN);
	/* Invalid dates are not holidays, nor business days. */
	assert_false(business_day_is_holiday(2024, 2, 30));
	assert_false(business_day_is_holiday(2024, 13, 1));
	assert_false(business_day_is_holiday(0, 1, 1));
	assert_false(business_day_is_business(2023, 2, 29));
	assert_true(business_day_is_business(2024, 2, 29));
}

static void
test_civil_matches_libc(void **state)
{
	(void)state;
	/* Every day from 1900 to 2200, and a sparse walk to year 9999. */
	for (int64_t day = -25567; day < 84006; day++) {
		time_t t = (time_t)(day * 86400);
		struct tm tm;
		int64_t y;
		unsigned m, d;

		assert_non_null(gmtime_r(&t, &tm));
		business_days_to_civil(day, &y, &m, &d);
		assert_int_equal(y, tm.tm_year + 1900);
		assert_int_equal(m, (unsigned)tm.tm_mon + 1);
		assert_int_equal(d, (unsigned)tm.tm_mday);
		assert_int_equal(business_days_weekday(day), (unsigned)tm.tm_wday);
		assert_int_equal(business_days_from_civil(y, m, d), day);
	}
	for (int64_t day = -719162; day < 2932897; day += 97) {
		int64_t y;
		unsigned m, d;

		business_days_to_civil(day, &y, &m, &d);
		assert_int_equal(business_days_from_civil(y, m, d), day);
	}
	assert_int_equal(business_days_in_month(2000, 2), 29);
	assert_int_equal(business_days_in_month(1900, 2), 28);
	assert_int_equal(business_days_in_month(2024, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thanksgiving_2024),
		cmocka_unit_test(test_keeps_time_of_day),
		cmocka_unit_test(test_independence_day_on_saturday),
		cmocka_unit_test(test_new_year_observed_across_years),
		cmocka_unit_test(test_christmas_and_new_year),
		cmocka_unit_test(test_monday_holidays_2024),
		cmocka_unit_test(test_juneteenth_and_veterans),
		cmocka_unit_test(test_weekend_start_and_zero),
		cmocka_unit_test(test_before_epoch),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_civil_matches_libc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
