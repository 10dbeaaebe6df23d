/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * US federal business days and civil-date arithmetic (Howard Hinnant's days_from_civil and
 * civil_from_days, exact for the proleptic Gregorian calendar over the whole int64 day range we
 * allow). Holidays are recomputed per date rather than tabled per year: the import of a list
 * calls this a few times per row, which is cheap, and there is no state to share. Pure; any
 * thread.
 */
#include "business_days.h"

#define SECS_PER_DAY 86400

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t
business_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;                                          /* [0, 399] */
	int64_t doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                  /* [0, 146096] */

	return era * 146097 + doe - 719468;
}

void
business_days_to_civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

unsigned
business_days_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday. */
	int64_t r = (days % 7 + 7 + 4) % 7;

	return (unsigned)r;
}

static bool
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned
business_days_in_month(int64_t y, unsigned m)
{
	static const unsigned char len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m < 1 || m > 12)
		return 0;
	return len[m - 1] + (m == 2 && is_leap(y));
}

/* Day of month of the n-th (1-based) weekday wd (0 = Sunday) of y-m. */
static unsigned
nth_weekday(int64_t y, unsigned m, unsigned wd, unsigned n)
{
	unsigned first = business_days_weekday(business_days_from_civil(y, m, 1));

	return 1 + (wd + 7 - first) % 7 + 7 * (n - 1);
}

/* Day of month of the last weekday wd of y-m. */
static unsigned
last_weekday(int64_t y, unsigned m, unsigned wd)
{
	unsigned last = business_days_in_month(y, m);
	unsigned lwd = business_days_weekday(business_days_from_civil(y, m, last));

	return last - (lwd + 7 - wd) % 7;
}

/* True when `day` is the fixed-date holiday hy-hm-hd or the weekday it is observed on. */
static bool
is_fixed_holiday(int64_t day, int64_t hy, unsigned hm, unsigned hd)
{
	int64_t h = business_days_from_civil(hy, hm, hd);
	unsigned wd = business_days_weekday(h);

	if (day == h)
		return true;
	if (wd == 6)
		return day == h - 1;
	if (wd == 0)
		return day == h + 1;
	return false;
}

static bool
is_holiday_day(int64_t day)
{
	int64_t y;
	unsigned m, d;

	business_days_to_civil(day, &y, &m, &d);

	/* Fixed dates; only these can be observed on a neighbouring day, possibly across
	 * a month or year boundary, so check them against the day count. */
	if (is_fixed_holiday(day, y, 1, 1) || is_fixed_holiday(day, y + 1, 1, 1))
		return true;
	if (y >= 2021 && is_fixed_holiday(day, y, 6, 19))
		return true;
	if (is_fixed_holiday(day, y, 7, 4) || is_fixed_holiday(day, y, 11, 11) ||
	    is_fixed_holiday(day, y, 12, 25))
		return true;

	/* Monday and Thursday holidays never need observing. */
	switch (m) {
	case 1:
		return y >= 1986 && d == nth_weekday(y, 1, 1, 3); /* Martin Luther King Jr. */
	case 2:
		return d == nth_weekday(y, 2, 1, 3);              /* Washington's Birthday */
	case 5:
		return d == last_weekday(y, 5, 1);                /* Memorial Day */
	case 9:
		return d == nth_weekday(y, 9, 1, 1);              /* Labor Day */
	case 10:
		return d == nth_weekday(y, 10, 1, 2);             /* Columbus Day */
	case 11:
		return d == nth_weekday(y, 11, 4, 4);             /* Thanksgiving */
	default:
		return false;
	}
}

static bool
is_business_day(int64_t day)
{
	unsigned wd = business_days_weekday(day);

	return wd != 0 && wd != 6 && !is_holiday_day(day);
}

static bool
date_is_valid(int y, int m, int d)
{
	return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 &&
	       (unsigned)d <= business_days_in_month(y, (unsigned)m);
}

bool
business_day_is_holiday(int y, int m, int d)
{
	if (!date_is_valid(y, m, d))
		return false;
	return is_holiday_day(business_days_from_civil(y, (unsigned)m, (unsigned)d));
}

bool
business_day_is_business(int y, int m, int d)
{
	if (!date_is_valid(y, m, d))
		return false;
	return is_business_day(business_days_from_civil(y, (unsigned)m, (unsigned)d));
}

int64_t
business_days_add(int64_t t, unsigned n)
{
	if (t < BUSINESS_DAYS_T_MIN || t > BUSINESS_DAYS_T_MAX)
		return INT64_MIN;

	int64_t day = floor_div(t, SECS_PER_DAY);
	int64_t sec = t - day * SECS_PER_DAY;
	int64_t last_day = floor_div(BUSINESS_DAYS_T_MAX, SECS_PER_DAY);

	/* Bounded by the day range, whatever n is: at most ~3.7 million steps. */
	while (n > 0) {
		day++;
		if (day > last_day)
			return INT64_MIN;
		if (is_business_day(day))
			n--;
	}
	return day * SECS_PER_DAY + sec;
}
