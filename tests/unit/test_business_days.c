/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of business_days: the CAN-SPAM 10 business day window over weekends and US
 * federal holidays with their observed days, checked against dates worked out by hand from a
 * calendar (each case says how), and the civil-date arithmetic against libc's timegm/gmtime_r.
 * Then the configurable calendars: holiday files (adding and removing dates, every error with
 * its message), time zones (local dates, DST weeks keeping the wall time, gaps and overlaps on
 * weekdays in Africa/Cairo, offsets against glibc's localtime_r), bday_elapsed against
 * bday_add on random pairs, fingerprints, and the old API against the default calendar.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "business_days.h"
#include "test_tmpdir.h"

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

/* ---- Configurable calendars ---- */

static struct bday_calendar *
load_ok(const char *tz, const char *holidays)
{
	struct bday_calendar *c = NULL;
	char err[512] = "";
	int rc = bday_calendar_load(&c, tz, holidays, err, sizeof(err));

	if (rc != 0)
		print_error("load %s / %s: %d %s\n", tz ? tz : "(null)",
			    holidays ? holidays : "(null)", rc, err);
	assert_int_equal(rc, 0);
	assert_non_null(c);
	return c;
}

/* A failing load: *out must be left NULL. Returns the error. */
static int
load_fail(const char *tz, const char *holidays, char *err, size_t errlen)
{
	struct bday_calendar *c = (struct bday_calendar *)&errlen; /* anything but NULL */
	int rc = bday_calendar_load(&c, tz, holidays, err, errlen);

	assert_null(c);
	assert_true(rc < 0);
	return rc;
}

static int
add_text(struct bday_calendar *c, const char *name, const char *text, char *err, size_t errlen)
{
	return bday_calendar_add_file_buffer(c, name, text, strlen(text), err, errlen);
}

static bool
fp_equal(const struct bday_calendar *a, const struct bday_calendar *b)
{
	uint8_t fa[32], fb[32];

	bday_calendar_fingerprint(a, fa);
	bday_calendar_fingerprint(b, fb);
	return memcmp(fa, fb, 32) == 0;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t
rnd(void)
{
	/* xorshift64*: reproducible, no libc state */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1du;
}

static int64_t
rnd_range(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static void
test_calendar_range(void **state)
{
	const struct bday_calendar *def = bday_calendar_default();
	struct bday_calendar *ny = load_ok("America/New_York", NULL);
	int64_t n_business = 0, n_old = 0;

	(void)state;
	assert_non_null(def);
	assert_ptr_equal(def, bday_calendar_default());
	/* 1970-01-01 (Thursday) is New Year's Day; 2199-12-31 is a Tuesday, 2200-01-01 a
	 * Wednesday, so nothing is observed on it. */
	assert_false(bday_is_business_date(def, 1970, 1, 1));
	assert_true(bday_is_business_date(def, 1970, 1, 2));
	assert_true(bday_is_business_date(def, 2199, 12, 31));
	assert_false(bday_is_business_date(def, 1969, 12, 31));
	assert_false(bday_is_business_date(def, 2200, 1, 2));
	assert_false(bday_is_business_date(NULL, 2026, 2, 29));
	assert_false(bday_is_business_date(NULL, 2026, 0, 1));
	assert_false(bday_is_business_date(NULL, 2026, 13, 1));
	assert_false(bday_is_business_date(NULL, 2026, 1, 0));
	assert_false(bday_is_business_date(NULL, 2026, 1, 32));
	assert_true(bday_is_business_date(NULL, 2028, 2, 29));

	assert_int_equal(bday_add(def, 0, 1), 86400);
	assert_int_equal(bday_add(def, utc(2199, 12, 30, 12, 0, 0), 1), utc(2199, 12, 31, 12, 0, 0));
	assert_true(bday_add(def, utc(2199, 12, 31, 0, 0, 0), 1) == INT64_MIN);
	assert_int_equal(bday_add(def, utc(2199, 12, 31, 23, 59, 59), 0),
			 utc(2199, 12, 31, 23, 59, 59));
	assert_true(bday_add(def, utc(2200, 1, 1, 0, 0, 0), 0) == INT64_MIN);
	assert_true(bday_add(def, -1, 0) == INT64_MIN);
	assert_true(bday_add(def, INT64_MAX, 1) == INT64_MIN);
	assert_true(bday_add(def, INT64_MIN, 1) == INT64_MIN);
	assert_true(bday_add(def, 0, UINT_MAX) == INT64_MIN);
	/* In New York 00:00Z of 1970-01-01 is still 1969; 05:00Z is local midnight, a holiday:
	 * day 1 is Friday 1970-01-02 00:00 EST. */
	assert_true(bday_add(ny, 0, 0) == INT64_MIN);
	assert_int_equal(bday_add(ny, 5 * 3600, 1), 86400 + 5 * 3600);
	assert_int_equal(bday_elapsed(ny, 0, 86400), -1);

	assert_int_equal(bday_elapsed(def, -1, 0), -1);
	assert_int_equal(bday_elapsed(def, 86400, 0), 0);
	assert_int_equal(bday_elapsed(def, 0, utc(2200, 1, 1, 0, 0, 0)), -1);
	/* Every business day of the range, counted two other ways. */
	for (int64_t day = 0; day < business_days_from_civil(2200, 1, 1); day++) {
		int64_t y;
		unsigned m, d;

		business_days_to_civil(day, &y, &m, &d);
		n_business += bday_is_business_date(def, y, m, d);
		n_old += business_day_is_business((int)y, (int)m, (int)d);
	}
	assert_int_equal(business_days_from_civil(2200, 1, 1), 84006);
	assert_int_equal(n_business, n_old);
	assert_true(n_business > 57000 && n_business < 59000);
	assert_int_equal(bday_elapsed(def, 0, utc(2199, 12, 31, 23, 59, 59)), n_business);
	bday_calendar_free(ny);
	bday_calendar_free(NULL);
}

static void
check_federal_2026(const struct bday_calendar *c)
{
	/* 2026: Jan 1 Thu; MLK: Mondays 5, 12, 19; Washington: Feb 1 a Sunday, Mondays 2, 9,
	 * 16; Memorial: May 31 a Sunday -> 25; Juneteenth Fri; July 4 a Saturday -> Fri 3;
	 * Labor: Sep 1 a Tuesday -> 7; Columbus: Oct 1 a Thursday -> 5, 12; Veterans Wed;
	 * Thanksgiving: Nov 1 a Sunday -> Thursdays 5, 12, 19, 26; Christmas Fri. */
	static const unsigned char hol[][2] = {
		{ 1, 1 }, { 1, 19 }, { 2, 16 }, { 5, 25 }, { 6, 19 }, { 7, 3 },
		{ 9, 7 }, { 10, 12 }, { 11, 11 }, { 11, 26 }, { 12, 25 },
	};
	static const unsigned char open[][2] = {
		{ 1, 2 }, { 1, 20 }, { 2, 17 }, { 5, 26 }, { 6, 18 }, { 7, 2 },
		{ 9, 8 }, { 10, 13 }, { 11, 10 }, { 11, 27 }, { 12, 24 },
	};
	int n_weekday_hol = 0;

	for (size_t i = 0; i < sizeof(hol) / sizeof(hol[0]); i++) {
		assert_false(bday_is_business_date(c, 2026, hol[i][0], hol[i][1]));
		assert_true(bday_is_business_date(c, 2026, open[i][0], open[i][1]));
	}
	for (unsigned m = 1; m <= 12; m++)
		for (unsigned d = 1; d <= business_days_in_month(2026, m); d++) {
			unsigned wd = business_days_weekday(business_days_from_civil(2026, m, d));

			n_weekday_hol += wd != 0 && wd != 6 && !bday_is_business_date(c, 2026, m, d);
		}
	assert_int_equal(n_weekday_hol, 11);
	/* Observed days: July 4 2027 a Sunday -> Mon 5; Christmas 2027 a Saturday -> Fri 24;
	 * New Year 2028 a Saturday -> Fri 2027-12-31, and 2022 likewise -> 2021-12-31. */
	assert_false(bday_is_business_date(c, 2027, 7, 5));
	assert_false(bday_is_business_date(c, 2027, 12, 24));
	assert_false(bday_is_business_date(c, 2027, 12, 31));
	assert_false(bday_is_business_date(c, 2021, 12, 31));
	assert_true(bday_is_business_date(c, 2028, 1, 3));
	/* Juneteenth only from 2021: Friday 2020-06-19 was a business day. */
	assert_true(bday_is_business_date(c, 2020, 6, 19));
	/* Weekends. */
	assert_false(bday_is_business_date(c, 2026, 11, 21));
	assert_false(bday_is_business_date(c, 2026, 11, 22));
}

static void
test_calendar_federal_holidays(void **state)
{
	struct bday_calendar *utc_fed = load_ok("UTC", "us-federal");
	struct bday_calendar *ny = load_ok("America/New_York", " us-federal ");
	const struct bday_calendar *def = bday_calendar_default();

	(void)state;
	check_federal_2026(def);
	check_federal_2026(utc_fed);
	check_federal_2026(ny);
	/* Sat 2026-11-21 + 1 = Mon 23; Fri 20 + 5: Mon 23 (1), 24, 25, Thu 26 Thanksgiving,
	 * Fri 27 (4), Mon 30 (5). Thu 2027-12-30 + 1: Fri 31 observed New Year -> Mon 2028-01-03. */
	assert_int_equal(bday_add(def, utc(2026, 11, 21, 10, 0, 0), 1), utc(2026, 11, 23, 10, 0, 0));
	assert_int_equal(bday_add(utc_fed, utc(2026, 11, 20, 17, 0, 0), 5),
			 utc(2026, 11, 30, 17, 0, 0));
	assert_int_equal(bday_add(NULL, utc(2027, 12, 30, 10, 0, 0), 1), utc(2028, 1, 3, 10, 0, 0));
	assert_true(fp_equal(def, utc_fed));
	bday_calendar_free(utc_fed);
	bday_calendar_free(ny);
}

static void
test_calendar_year_end(void **state)
{
	(void)state;
	/* Thu 2026-12-24: Fri 25 Christmas, Mon 28 (1), 29, 30, Thu 31 (4), Fri 2027-01-01 New
	 * Year, Mon 4 (5), 5, 6, 7, Fri 8 (9), Mon 2027-01-11 (10). */
	assert_int_equal(bday_add(NULL, utc(2026, 12, 24, 9, 15, 0), 10),
			 utc(2027, 1, 11, 9, 15, 0));
	assert_int_equal(business_days_add(utc(2026, 12, 24, 9, 15, 0), 10),
			 utc(2027, 1, 11, 9, 15, 0));
	/* Thu 2027-12-23: Fri 24 observed Christmas, Mon 27 (1) .. Thu 30 (4), Fri 31 observed
	 * New Year 2028, Mon 2028-01-03 (5) .. Fri 7 (9), Mon 2028-01-10 (10). */
	assert_int_equal(bday_add(NULL, utc(2027, 12, 23, 18, 0, 0), 10),
			 utc(2028, 1, 10, 18, 0, 0));
	assert_int_equal(bday_elapsed(NULL, utc(2027, 12, 23, 18, 0, 0), utc(2028, 1, 10, 17, 59, 59)),
			 9);
	assert_int_equal(bday_elapsed(NULL, utc(2027, 12, 23, 18, 0, 0), utc(2028, 1, 10, 18, 0, 0)),
			 10);
}

static void
test_calendar_holiday_file(void **state)
{
	const struct bday_calendar *def = bday_calendar_default();
	struct bday_calendar *c = load_ok(NULL, "us-federal");
	char err[256] = "";
	uint8_t fp0[32], fp1[32];

	(void)state;
	bday_calendar_fingerprint(c, fp0);
	assert_int_equal(add_text(c, "office",
				  "# office calendar\r\n\r\n   2026-11-27 Day after Thanksgiving  \r\n"
				  "2026-12-24\tChristmas Eve\n! 2026-10-12 Columbus Day: open\n"
				  "\t!2027-10-11",
				  err, sizeof(err)), 0);
	assert_false(bday_is_business_date(c, 2026, 11, 27));
	assert_false(bday_is_business_date(c, 2026, 12, 24));
	assert_true(bday_is_business_date(c, 2026, 10, 12));
	assert_true(bday_is_business_date(c, 2027, 10, 11));
	assert_false(bday_is_business_date(c, 2026, 11, 26));
	/* Wed 2026-11-25 + 10: Thu 26 Thanksgiving, Fri 27 closed, Mon 30 (1) .. Fri Dec 4 (5),
	 * Mon 7 (6) .. Fri 11 (10); without the file Fri 27 is day 1 and Thu Dec 10 day 10. */
	assert_int_equal(bday_add(c, utc(2026, 11, 25, 12, 0, 0), 10), utc(2026, 12, 11, 12, 0, 0));
	assert_int_equal(bday_add(def, utc(2026, 11, 25, 12, 0, 0), 10), utc(2026, 12, 10, 12, 0, 0));
	/* Fri 2026-10-09 + 1: Columbus Day open -> Mon 12; federal -> Tue 13. */
	assert_int_equal(bday_add(c, utc(2026, 10, 9, 8, 0, 0), 1), utc(2026, 10, 12, 8, 0, 0));
	assert_int_equal(bday_add(def, utc(2026, 10, 9, 8, 0, 0), 1), utc(2026, 10, 13, 8, 0, 0));
	/* Wed 2026-12-23 + 1: Thu 24 and Fri 25 closed -> Mon 28; federal -> Thu 24. */
	assert_int_equal(bday_add(c, utc(2026, 12, 23, 8, 0, 0), 1), utc(2026, 12, 28, 8, 0, 0));
	assert_int_equal(bday_add(def, utc(2026, 12, 23, 8, 0, 0), 1), utc(2026, 12, 24, 8, 0, 0));

	/* Later lines win; a weekend date changes nothing, not even the fingerprint. */
	bday_calendar_fingerprint(c, fp1);
	assert_memory_not_equal(fp0, fp1, 32);
	assert_int_equal(add_text(c, "again", "2026-07-06\n!2026-07-06\n2026-11-28 Saturday\n",
				  err, sizeof(err)), 0);
	assert_true(bday_is_business_date(c, 2026, 7, 6));
	bday_calendar_fingerprint(c, fp0);
	assert_memory_equal(fp0, fp1, 32);
	assert_int_equal(add_text(c, "again2", "2026-07-06\n!2026-07-07\n2026-07-07\n", err,
				  sizeof(err)), 0);
	assert_false(bday_is_business_date(c, 2026, 7, 6));
	assert_false(bday_is_business_date(c, 2026, 7, 7));
	/* An empty buffer is a valid file. */
	assert_int_equal(bday_calendar_add_file_buffer(c, "empty", "", 0, err, sizeof(err)), 0);
	assert_int_equal(bday_calendar_add_file_buffer(c, NULL, NULL, 0, err, sizeof(err)), 0);
	bday_calendar_free(c);
}

static void
test_calendar_sources_in_order(void **state)
{
	char dir[64], f_open[128], f_closed[128], list[512], err[512] = "";
	struct bday_calendar *c;
	const char *root = getenv("POSTERN_SOURCE_ROOT");

	(void)state;
	assert_int_equal(test_tmpdir_make(dir, sizeof(dir)), 0);
	snprintf(f_open, sizeof(f_open), "%s/open.txt", dir);
	snprintf(f_closed, sizeof(f_closed), "%s/closed.txt", dir);
	write_file(f_open, "!2026-11-26 open on Thanksgiving\n");
	write_file(f_closed, "2026-11-27\n");

	/* "none" alone: only weekends are closed. */
	c = load_ok(NULL, "none");
	assert_true(bday_is_business_date(c, 2026, 11, 26));
	assert_true(bday_is_business_date(c, 2026, 12, 25));
	assert_false(bday_is_business_date(c, 2026, 11, 28));
	/* Thu 2026-11-26 10:00 + 1 = Fri 27 (no Thanksgiving in the way either). */
	assert_int_equal(bday_add(c, utc(2026, 11, 25, 10, 0, 0), 1), utc(2026, 11, 26, 10, 0, 0));
	bday_calendar_free(c);

	snprintf(list, sizeof(list), "us-federal, %s ,%s", f_open, f_closed);
	c = load_ok("UTC", list);
	assert_true(bday_is_business_date(c, 2026, 11, 26));
	assert_false(bday_is_business_date(c, 2026, 11, 27));
	assert_false(bday_is_business_date(c, 2026, 12, 25));
	bday_calendar_free(c);

	/* us-federal after the file marks Thanksgiving again. */
	snprintf(list, sizeof(list), "%s,us-federal", f_open);
	c = load_ok("UTC", list);
	assert_false(bday_is_business_date(c, 2026, 11, 26));
	bday_calendar_free(c);

	/* none after everything clears the file's date and the federal ones. */
	snprintf(list, sizeof(list), "us-federal,%s,none", f_closed);
	c = load_ok("UTC", list);
	assert_true(bday_is_business_date(c, 2026, 11, 27));
	assert_true(bday_is_business_date(c, 2026, 12, 25));
	bday_calendar_free(c);

	/* The sample file in rules/ loads and says what it documents. */
	snprintf(list, sizeof(list), "us-federal,%s/rules/holidays.example",
		 root != NULL ? root : ".");
	c = load_ok("America/New_York", list);
	assert_false(bday_is_business_date(c, 2026, 11, 26));
	assert_false(bday_is_business_date(c, 2026, 11, 27));
	assert_false(bday_is_business_date(c, 2027, 11, 26));
	assert_false(bday_is_business_date(c, 2026, 12, 24));
	assert_false(bday_is_business_date(c, 2029, 12, 24));
	assert_true(bday_is_business_date(c, 2026, 10, 12));
	assert_true(bday_is_business_date(c, 2027, 10, 11));
	/* Wed 2026-11-25 12:00 EST + 10 = Fri Dec 11 (as in the holiday file test), 17:00Z. */
	assert_int_equal(bday_add(c, utc(2026, 11, 25, 17, 0, 0), 10), utc(2026, 12, 11, 17, 0, 0));
	bday_calendar_free(c);

	/* Errors of the source list and of files on disk. */
	snprintf(list, sizeof(list), "%s/nope", dir);
	assert_int_equal(load_fail(NULL, list, err, sizeof(err)), -ENOENT);
	snprintf(list, sizeof(list), "%s/nope: No such file or directory", dir);
	assert_string_equal(err, list);
	assert_int_equal(load_fail(NULL, dir, err, sizeof(err)), -EINVAL);
	snprintf(list, sizeof(list), "%s: not a regular file", dir);
	assert_string_equal(err, list);
	assert_int_equal(load_fail(NULL, "us-federal,,none", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "holidays: empty source in the list");
	assert_int_equal(load_fail(NULL, "us-federal, ", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "holidays: empty source in the list");
	write_file(f_closed, "2026-01-05\n2026-02-31 no such day\n");
	snprintf(list, sizeof(list), "us-federal,%s", f_closed);
	assert_int_equal(load_fail(NULL, list, err, sizeof(err)), -EINVAL);
	snprintf(list, sizeof(list), "%s:2: bad date \"2026-02-31\"", f_closed);
	assert_string_equal(err, list);
	test_tmpdir_remove(dir);
}

static void
expect_file_error(const char *name, const char *text, size_t len, int rc, const char *msg)
{
	struct bday_calendar *c = load_ok(NULL, NULL);
	char err[256] = "";
	uint8_t before[32], after[32];

	bday_calendar_fingerprint(c, before);
	assert_int_equal(bday_calendar_add_file_buffer(c, name, text, len, err, sizeof(err)), rc);
	assert_string_equal(err, msg);
	/* Nothing of a rejected file is applied, not even the lines before the error. */
	bday_calendar_fingerprint(c, after);
	assert_memory_equal(before, after, 32);
	assert_true(bday_is_business_date(c, 2026, 1, 5));
	bday_calendar_free(c);
}

static void
expect_text_error(const char *text, const char *msg)
{
	expect_file_error("bad", text, strlen(text), -EINVAL, msg);
}

static void
test_calendar_file_errors(void **state)
{
	static const char nul[] = "2026-01-05\n# fine\n20\00026-01-06\n";
	static char buf[BDAY_FILE_MAX + 2];
	size_t big = (size_t)BDAY_FILE_MAX + 1;
	char err[256] = "";
	struct bday_calendar *c;

	(void)state;
	expect_text_error("2026-01-05\n2026-02-30 leap\n", "bad:2: bad date \"2026-02-30\"");
	expect_text_error("2026-13-01\n", "bad:1: bad date \"2026-13-01\"");
	expect_text_error("2026-00-10\n", "bad:1: bad date \"2026-00-10\"");
	expect_text_error("2026-04-31\n", "bad:1: bad date \"2026-04-31\"");
	expect_text_error("2026-01-05\n#\n26-01-01\n", "bad:3: bad date \"26-01-01\"");
	expect_text_error("2026-1-05\n", "bad:1: bad date \"2026-1-05\"");
	expect_text_error("2026/01/05\n", "bad:1: bad date \"2026/01/05\"");
	expect_text_error("2026-01-05x\n", "bad:1: bad date \"2026-01-05x\"");
	expect_text_error("Christmas 2026-12-24\n", "bad:1: bad date \"Christmas\"");
	expect_text_error("  !\r\n", "bad:1: bad date \"\"");
	expect_text_error("2026-01-0\001\n", "bad:1: bad date \"2026-01-0?\"");
	expect_text_error("+2026-01-05\n", "bad:1: bad date \"+2026-01-05\"");
	expect_text_error("2026-01-05\r2026-01-06\n", "bad:1: bad date \"2026-01-05?2026-01-06\"");
	expect_text_error("1969-12-31\n", "bad:1: date out of range 1970..2199");
	expect_text_error("2026-01-05\n2200-01-01\n", "bad:2: date out of range 1970..2199");
	expect_text_error("!0000-01-01\n", "bad:1: date out of range 1970..2199");
	expect_file_error("nul", nul, sizeof(nul) - 1, -EINVAL,
			  "nul:3: not a holiday file (NUL byte)");

	/* Line length: 1024 bytes (CR aside) pass, 1025 do not. */
	memset(buf, 'x', big);
	memcpy(buf, "2026-01-06 ", 11);
	memcpy(buf + 1024, "\r\n", 2);
	c = load_ok(NULL, NULL);
	assert_int_equal(bday_calendar_add_file_buffer(c, "long", buf, 1026, err, sizeof(err)), 0);
	assert_false(bday_is_business_date(c, 2026, 1, 6));
	bday_calendar_free(c);
	memset(buf, 'x', 1028);
	memcpy(buf, "#\n2026-01-06 ", 13); /* line 2: bytes 2 .. 1026 */
	buf[1027] = '\n';
	expect_file_error("long", buf, 1028, -EINVAL, "long:2: line too long");

	/* Size: 1 MiB of comment lines passes, one byte more does not. */
	for (size_t i = 0; i < big; i++)
		buf[i] = (i % 512 == 511) ? '\n' : '#';
	c = load_ok(NULL, NULL);
	assert_int_equal(bday_calendar_add_file_buffer(c, "full", buf, big - 1, err, sizeof(err)),
			 0);
	bday_calendar_free(c);
	expect_file_error("huge", buf, big, -EFBIG, "huge: file too large (over 1 MiB)");

	/* Entries: 60000 + 40000 pass, the 100001st date line in the calendar does not. */
	c = load_ok(NULL, NULL);
	for (size_t i = 0; i < 60000; i++)
		memcpy(buf + 11 * i, "2026-01-05\n", 11);
	assert_int_equal(bday_calendar_add_file_buffer(c, "many1", buf, 11 * 60000, err,
						       sizeof(err)), 0);
	for (size_t i = 0; i < 60000; i++)
		memcpy(buf + 11 * i, "2026-01-06\n", 11);
	assert_int_equal(bday_calendar_add_file_buffer(c, "many2", buf, 11 * 60000, err,
						       sizeof(err)), -E2BIG);
	assert_string_equal(err, "many2:40001: too many entries (over 100000)");
	assert_false(bday_is_business_date(c, 2026, 1, 5));
	assert_true(bday_is_business_date(c, 2026, 1, 6));
	assert_int_equal(bday_calendar_add_file_buffer(c, "many3", buf, 11 * 40000, err,
						       sizeof(err)), 0);
	assert_false(bday_is_business_date(c, 2026, 1, 6));
	assert_int_equal(add_text(c, "many4", "# comments do not count\n\n2026-01-07\n", err,
				  sizeof(err)), -E2BIG);
	assert_string_equal(err, "many4:3: too many entries (over 100000)");

	/* A short or absent message buffer is fine. */
	assert_int_equal(add_text(c, "bad", "2026-02-30\n", err, 8), -EINVAL);
	assert_string_equal(err, "bad:1: ");
	assert_int_equal(add_text(c, "bad", "2026-02-30\n", NULL, 0), -EINVAL);
	bday_calendar_free(c);
}

static void
test_calendar_zone_errors(void **state)
{
	const char *old_tzdir = getenv("TZDIR");
	char *saved = old_tzdir != NULL ? strdup(old_tzdir) : NULL;
	char err[256] = "", dir[64], path[128], name[320];
	struct bday_calendar *c;

	(void)state;
	assert_int_equal(load_fail("Mars/Olympus", NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "tz: unknown time zone Mars/Olympus");
	assert_int_equal(load_fail("../etc/passwd", NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "tz: unknown time zone ../etc/passwd");
	assert_int_equal(load_fail("America/../Europe/Paris", NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "tz: unknown time zone America/../Europe/Paris");
	assert_int_equal(load_fail("/etc/localtime", NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(load_fail("America/New_York ", NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(load_fail("America//New_York", NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(load_fail("America/", NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(load_fail("America", NULL, err, sizeof(err)), -EINVAL); /* a folder */
	memset(name, 'A', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(load_fail(name, NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(strncmp(err, "tz: unknown time zone AAAA", 26), 0);
	assert_true(strlen(err) < 100);
	assert_int_equal(load_fail("Bad\nZone", NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "tz: unknown time zone Bad?Zone");

	/* A file under TZDIR that is not TZif (glibc would read it as UTC) is refused. */
	assert_int_equal(test_tmpdir_make(dir, sizeof(dir)), 0);
	snprintf(path, sizeof(path), "%s/Fake", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/Fake/Zone", dir);
	write_file(path, "zone.tab-like text, not a zone\n");
	assert_int_equal(setenv("TZDIR", dir, 1), 0);
	assert_int_equal(load_fail("Fake/Zone", NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "tz: unknown time zone Fake/Zone");
	/* ... and names resolve under TZDIR: New York is not there. */
	assert_int_equal(load_fail("America/New_York", NULL, err, sizeof(err)), -EINVAL);
	if (saved != NULL)
		setenv("TZDIR", saved, 1);
	else
		unsetenv("TZDIR");
	free(saved);
	test_tmpdir_remove(dir);

	/* NULL and "" are UTC. */
	c = load_ok("", "");
	assert_string_equal(bday_calendar_tz(c), "UTC");
	assert_true(fp_equal(c, NULL));
	bday_calendar_free(c);
	assert_string_equal(bday_calendar_tz(NULL), "UTC");
}

static void
test_calendar_restores_tz(void **state)
{
	const char *old = getenv("TZ");
	char *saved = old != NULL ? strdup(old) : NULL;
	struct bday_calendar *c;
	time_t t = 0;
	struct tm tm;

	(void)state;
	assert_int_equal(setenv("TZ", "Asia/Tokyo", 1), 0);
	tzset();
	c = load_ok("America/New_York", NULL);
	assert_string_equal(getenv("TZ"), "Asia/Tokyo");
	assert_non_null(localtime_r(&t, &tm));
	assert_int_equal(tm.tm_gmtoff, 9 * 3600);
	assert_string_equal(bday_calendar_tz(c), "America/New_York");
	bday_calendar_free(c);

	assert_int_equal(unsetenv("TZ"), 0);
	tzset();
	c = load_ok("Europe/London", NULL);
	assert_null(getenv("TZ"));
	bday_calendar_free(c);

	if (saved != NULL)
		setenv("TZ", saved, 1);
	tzset();
	free(saved);
}

static void
test_calendar_thanksgiving_evening(void **state)
{
	struct bday_calendar *ny = load_ok("America/New_York", "us-federal");
	struct bday_calendar *u = load_ok("UTC", "us-federal");
	int64_t t = utc(2026, 11, 27, 3, 0, 0);

	(void)state;
	/* New York: Thu Nov 26 22:00 EST, Thanksgiving. Day 1 is Fri 27 22:00 EST (28 03:00Z);
	 * day 10: Fri 27 (1), Mon 30 (2), Dec 1 .. 4 (3..6), 7 .. 10 (7..10) -> Thu Dec 10
	 * 22:00 EST = Dec 11 03:00Z. UTC: Fri Nov 27 03:00; day 1 is Mon 30; day 10: Mon 30 (1),
	 * Dec 1 .. 4 (2..5), Dec 7 .. 11 (6..10) -> Fri Dec 11 03:00Z. */
	assert_false(bday_is_business_date(ny, 2026, 11, 26));
	assert_int_equal(bday_add(ny, t, 1), utc(2026, 11, 28, 3, 0, 0));
	assert_int_equal(bday_add(u, t, 1), utc(2026, 11, 30, 3, 0, 0));
	assert_int_equal(bday_add(ny, t, 2), utc(2026, 12, 1, 3, 0, 0));
	assert_int_equal(bday_add(ny, t, 10), utc(2026, 12, 11, 3, 0, 0));
	assert_int_equal(bday_add(u, t, 10), utc(2026, 12, 11, 3, 0, 0));
	assert_int_equal(bday_add(ny, t, 9), utc(2026, 12, 10, 3, 0, 0));
	assert_int_equal(bday_add(u, t, 9), utc(2026, 12, 10, 3, 0, 0));
	assert_int_equal(bday_elapsed(ny, t, utc(2026, 11, 29, 0, 0, 0)), 1);
	assert_int_equal(bday_elapsed(u, t, utc(2026, 11, 29, 0, 0, 0)), 0);
	assert_int_equal(bday_elapsed(ny, t, utc(2026, 11, 28, 2, 59, 59)), 0);
	assert_int_equal(bday_elapsed(ny, t, utc(2026, 11, 28, 3, 0, 0)), 1);
	assert_int_equal(bday_elapsed(ny, t, t), 0);
	assert_int_equal(bday_elapsed(ny, t, t - 1), 0);
	bday_calendar_free(ny);
	bday_calendar_free(u);
}

static void
test_calendar_dst_new_york(void **state)
{
	struct bday_calendar *ny = load_ok("America/New_York", NULL);
	int64_t t;

	(void)state;
	/* Spring forward Sun 2026-03-08 02:00 EST -> 03:00 EDT. Fri 6 09:00 EST (14:00Z) + 1 =
	 * Mon 9 09:00 EDT (13:00Z); + 10 = Fri 20 09:00 EDT. UTC would keep 14:00Z. */
	t = utc(2026, 3, 6, 14, 0, 0);
	assert_int_equal(bday_add(ny, t, 1), utc(2026, 3, 9, 13, 0, 0));
	assert_int_equal(bday_add(ny, t, 10), utc(2026, 3, 20, 13, 0, 0));
	assert_int_equal(bday_add(NULL, t, 1), utc(2026, 3, 9, 14, 0, 0));
	assert_int_equal(bday_elapsed(ny, t, utc(2026, 3, 9, 12, 59, 59)), 0);
	assert_int_equal(bday_elapsed(ny, t, utc(2026, 3, 9, 13, 0, 0)), 1);
	assert_int_equal(bday_elapsed(ny, t, utc(2026, 3, 20, 12, 59, 59)), 9);
	assert_int_equal(bday_elapsed(ny, t, utc(2026, 3, 20, 13, 0, 0)), 10);
	/* Fri 6 23:30 EST is Saturday 04:30Z: day 1 is Mon 9 23:30 EDT = Tue 10 03:30Z. */
	assert_int_equal(bday_add(ny, utc(2026, 3, 7, 4, 30, 0), 1), utc(2026, 3, 10, 3, 30, 0));
	assert_int_equal(bday_add(NULL, utc(2026, 3, 7, 4, 30, 0), 1), utc(2026, 3, 9, 4, 30, 0));
	/* Sun 8 03:30 EDT (07:30Z), just after the gap: Mon 9 03:30 EDT. */
	assert_int_equal(bday_add(ny, utc(2026, 3, 8, 7, 30, 0), 1), utc(2026, 3, 9, 7, 30, 0));

	/* Fall back Sun 2026-11-01 02:00 EDT -> 01:00 EST. Fri Oct 30 09:00 EDT (13:00Z) + 1 =
	 * Mon Nov 2 09:00 EST (14:00Z); + 10: Nov 2 .. 6 (1..5), 9, 10 (7), Wed 11 Veterans Day,
	 * 12, 13 (9), Mon 16 (10) 09:00 EST. */
	t = utc(2026, 10, 30, 13, 0, 0);
	assert_int_equal(bday_add(ny, t, 1), utc(2026, 11, 2, 14, 0, 0));
	assert_int_equal(bday_add(ny, t, 10), utc(2026, 11, 16, 14, 0, 0));
	assert_int_equal(bday_elapsed(ny, t, utc(2026, 11, 2, 13, 59, 59)), 0);
	assert_int_equal(bday_elapsed(ny, t, utc(2026, 11, 2, 14, 0, 0)), 1);
	/* Sat Oct 31 23:30 EDT (Nov 1 03:30Z) + 1 = Mon Nov 2 23:30 EST = Nov 3 04:30Z. */
	assert_int_equal(bday_add(ny, utc(2026, 11, 1, 3, 30, 0), 1), utc(2026, 11, 3, 4, 30, 0));
	/* Both 01:30s of Sunday Nov 1 (05:30Z EDT, 06:30Z EST) give Mon 01:30 EST = 06:30Z. */
	assert_int_equal(bday_add(ny, utc(2026, 11, 1, 5, 30, 0), 1), utc(2026, 11, 2, 6, 30, 0));
	assert_int_equal(bday_add(ny, utc(2026, 11, 1, 6, 30, 0), 1), utc(2026, 11, 2, 6, 30, 0));
	bday_calendar_free(ny);
}

static void
test_calendar_gap_overlap_cairo(void **state)
{
	struct bday_calendar *c = load_ok("Africa/Cairo", "us-federal");
	int64_t t;

	(void)state;
	/* Egypt's DST moves on weekdays: Fri 2026-04-24 00:00 EET -> 01:00 EEST (Thu 22:00Z);
	 * Thu 2026-10-29 24:00 EEST -> 23:00 EET (21:00Z). (zdump -v Africa/Cairo) */
	/* Wed Apr 22 00:30 EET (Tue 22:30Z): day 1 Thu 23 00:30 EET (Wed 22:30Z); day 2 is Fri 24
	 * 00:30, which does not exist: read in EET, it is 01:30 EEST = Thu 22:30Z; day 3 Mon 27
	 * 00:30 EEST = Sun 21:30Z. */
	t = utc(2026, 4, 21, 22, 30, 0);
	assert_int_equal(bday_add(c, t, 1), utc(2026, 4, 22, 22, 30, 0));
	assert_int_equal(bday_add(c, t, 2), utc(2026, 4, 23, 22, 30, 0));
	assert_int_equal(bday_add(c, t, 3), utc(2026, 4, 26, 21, 30, 0));
	assert_int_equal(bday_elapsed(c, t, utc(2026, 4, 23, 22, 29, 59)), 1);
	assert_int_equal(bday_elapsed(c, t, utc(2026, 4, 23, 22, 30, 0)), 2);
	/* Wed Oct 28 23:30 EEST (20:30Z): day 1 is Thu 29 23:30, which happens twice (20:30Z
	 * EEST, 21:30Z EET): the later one. */
	t = utc(2026, 10, 28, 20, 30, 0);
	assert_int_equal(bday_add(c, t, 1), utc(2026, 10, 29, 21, 30, 0));
	assert_int_equal(bday_elapsed(c, t, utc(2026, 10, 29, 20, 30, 0)), 0);
	assert_int_equal(bday_elapsed(c, t, utc(2026, 10, 29, 21, 29, 59)), 0);
	assert_int_equal(bday_elapsed(c, t, utc(2026, 10, 29, 21, 30, 0)), 1);
	/* Either 23:30 of Oct 29 is Thursday: day 1 is Fri 30 23:30 EET = 21:30Z. */
	assert_int_equal(bday_add(c, utc(2026, 10, 29, 20, 30, 0), 1), utc(2026, 10, 30, 21, 30, 0));
	assert_int_equal(bday_add(c, utc(2026, 10, 29, 21, 30, 0), 1), utc(2026, 10, 30, 21, 30, 0));
	bday_calendar_free(c);
}

/* Against glibc's own reading of the zone: the wall time is kept and the date is the next
 * business date, for random instants over the whole range. */
static void
check_against_localtime(const char *zone)
{
	struct bday_calendar *c = load_ok(zone, NULL);
	const char *old = getenv("TZ");
	char *saved = old != NULL ? strdup(old) : NULL;
	int64_t lo = utc(1970, 1, 3, 0, 0, 0), hi = utc(2199, 11, 1, 0, 0, 0);

	assert_int_equal(setenv("TZ", zone, 1), 0);
	tzset();
	for (int i = 0; i < 20000; i++) {
		int64_t t = rnd_range(lo, hi), r = bday_add(c, t, 1), day, rday;
		time_t tt = (time_t)t, tr = (time_t)r;
		struct tm a, b;

		assert_true(r > t);
		assert_int_equal(bday_add(c, t, 0), t);
		assert_non_null(localtime_r(&tt, &a));
		assert_non_null(localtime_r(&tr, &b));
		assert_int_equal(a.tm_hour * 3600 + a.tm_min * 60 + a.tm_sec,
				 b.tm_hour * 3600 + b.tm_min * 60 + b.tm_sec);
		day = business_days_from_civil(a.tm_year + 1900, (unsigned)a.tm_mon + 1,
					       (unsigned)a.tm_mday);
		rday = business_days_from_civil(b.tm_year + 1900, (unsigned)b.tm_mon + 1,
						(unsigned)b.tm_mday);
		do {
			int64_t y;
			unsigned m, d;

			day++;
			business_days_to_civil(day, &y, &m, &d);
			if (bday_is_business_date(c, y, m, d))
				break;
		} while (day < rday + 1);
		assert_int_equal(rday, day);
	}
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
	bday_calendar_free(c);
}

static void
test_calendar_matches_localtime(void **state)
{
	(void)state;
	/* Both change offsets on Sundays only, so the wall time always exists on a weekday. */
	check_against_localtime("America/New_York");
	check_against_localtime("Europe/London");
}

static int64_t
elapsed_brute(const struct bday_calendar *c, int64_t from, int64_t to)
{
	int64_t n = 0, a;

	if (to < from)
		return 0;
	while ((a = bday_add(c, from, (unsigned)n + 1)) != INT64_MIN && a <= to)
		n++;
	return n;
}

static void
check_elapsed_random(const struct bday_calendar *c, unsigned n_pairs)
{
	int64_t lo = utc(1970, 1, 3, 0, 0, 0), hi = utc(2199, 10, 1, 0, 0, 0);
	int64_t last = utc(2199, 12, 30, 0, 0, 0);

	for (unsigned i = 0; i < n_pairs; i++) {
		int64_t from = rnd_range(lo, hi), to, e, a;
		unsigned n;

		switch (i % 4) {
		case 0: /* up to six weeks, or a little backwards */
			to = from + rnd_range(-2 * 86400, 42 * 86400);
			assert_int_equal(bday_elapsed(c, from, to), elapsed_brute(c, from, to));
			break;
		case 1: /* exactly on a result, and one second before */
			n = 1 + (unsigned)(rnd() % 30);
			a = bday_add(c, from, n);
			assert_true(a > bday_add(c, from, n - 1));
			assert_int_equal(bday_elapsed(c, from, a), n);
			assert_int_equal(bday_elapsed(c, from, a - 1), n - 1);
			break;
		case 2: /* long spans: the defining property */
			to = from + rnd_range(0, 40 * 366 * 86400LL);
			if (to > last)
				to = last;
			e = bday_elapsed(c, from, to);
			assert_true(e >= 0);
			a = e == 0 ? from : bday_add(c, from, (unsigned)e);
			assert_true(a != INT64_MIN && a <= to);
			a = bday_add(c, from, (unsigned)e + 1);
			assert_true(a == INT64_MIN || a > to);
			break;
		default: /* within a few days, at any second */
			to = from + rnd_range(-3600, 5 * 86400);
			assert_int_equal(bday_elapsed(c, from, to), elapsed_brute(c, from, to));
			break;
		}
	}
}

static void
test_calendar_elapsed_agrees(void **state)
{
	struct bday_calendar *ny = load_ok("America/New_York", NULL);
	struct bday_calendar *cairo = load_ok("Africa/Cairo", NULL);

	(void)state;
	check_elapsed_random(bday_calendar_default(), 100000);
	check_elapsed_random(ny, 100000);
	check_elapsed_random(cairo, 20000);
	bday_calendar_free(ny);
	bday_calendar_free(cairo);
}

static void
test_calendar_fingerprint(void **state)
{
	static const char head[] = "postern-bday-calendar 1\ntz UTC\n";
	static const char one[] = "postern-bday-calendar 1\ntz UTC\n2026-11-27\n";
	struct bday_calendar *a = load_ok(NULL, NULL), *b = load_ok("UTC", "us-federal");
	struct bday_calendar *none = load_ok(NULL, "none"), *ny = load_ok("America/New_York", NULL);
	uint8_t fp[32], want[32];
	char err[128];

	(void)state;
	assert_true(fp_equal(a, b));
	assert_true(fp_equal(a, bday_calendar_default()));
	assert_false(fp_equal(a, ny));
	assert_false(fp_equal(a, none));
	/* The canonical text, as documented. */
	bday_calendar_fingerprint(none, fp);
	SHA256((const unsigned char *)head, strlen(head), want);
	assert_memory_equal(fp, want, 32);
	assert_int_equal(add_text(none, "x", "2026-11-28 Saturday\n!2026-11-26\n2026-11-27\n", err,
				  sizeof(err)), 0);
	bday_calendar_fingerprint(none, fp);
	SHA256((const unsigned char *)one, strlen(one), want);
	assert_memory_equal(fp, want, 32);
	/* Same days written differently: the same fingerprint. */
	assert_int_equal(add_text(b, "x", "2026-11-27\n!2026-11-27\n2026-11-29\n", err,
				  sizeof(err)), 0);
	assert_true(fp_equal(a, b));
	/* One day more: another. */
	assert_int_equal(add_text(b, "x", "2026-11-27\n", err, sizeof(err)), 0);
	assert_false(fp_equal(a, b));
	assert_int_equal(add_text(a, "y", "2026-11-27 Friday", err, sizeof(err)), 0);
	assert_true(fp_equal(a, b));
	bday_calendar_free(a);
	bday_calendar_free(b);
	bday_calendar_free(none);
	bday_calendar_free(ny);
}

/* The old rule, one day at a time, as business_days_add() had it. */
static int64_t
add_reference(int64_t t, unsigned n)
{
	int64_t day = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t sec = t - day * 86400;

	while (n > 0) {
		int64_t y;
		unsigned m, d;

		day++;
		business_days_to_civil(day, &y, &m, &d);
		if (business_day_is_business((int)y, (int)m, (int)d))
			n--;
	}
	return day * 86400 + sec;
}

static void
test_old_api_matches_default(void **state)
{
	int64_t lo = utc(1960, 1, 1, 0, 0, 0), hi = utc(2199, 12, 31, 23, 59, 59);

	(void)state;
	for (int i = 0; i < 20000; i++) {
		int64_t t = rnd_range(lo, hi);
		unsigned n = (unsigned)(rnd() % 41);
		int64_t r = business_days_add(t, n);

		assert_int_equal(r, add_reference(t, n));
		if (t >= 0 && bday_add(NULL, t, n) != INT64_MIN)
			assert_int_equal(r, bday_add(NULL, t, n));
	}
	/* Past the calendar's end the old API goes on: Tue 2199-12-31 (1), Wed 2200-01-01 New
	 * Year, Thu 2 (2), Fri 3 (3), Mon 6 (4), Tue 7 (5). */
	assert_true(bday_add(NULL, utc(2199, 12, 30, 0, 0, 0), 5) == INT64_MIN);
	assert_int_equal(business_days_add(utc(2199, 12, 30, 0, 0, 0), 5), utc(2200, 1, 7, 0, 0, 0));
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
		cmocka_unit_test(test_calendar_range),
		cmocka_unit_test(test_calendar_federal_holidays),
		cmocka_unit_test(test_calendar_year_end),
		cmocka_unit_test(test_calendar_holiday_file),
		cmocka_unit_test(test_calendar_sources_in_order),
		cmocka_unit_test(test_calendar_file_errors),
		cmocka_unit_test(test_calendar_zone_errors),
		cmocka_unit_test(test_calendar_restores_tz),
		cmocka_unit_test(test_calendar_thanksgiving_evening),
		cmocka_unit_test(test_calendar_dst_new_york),
		cmocka_unit_test(test_calendar_gap_overlap_cairo),
		cmocka_unit_test(test_calendar_matches_localtime),
		cmocka_unit_test(test_calendar_elapsed_agrees),
		cmocka_unit_test(test_calendar_fingerprint),
		cmocka_unit_test(test_old_api_matches_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
