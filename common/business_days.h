/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * US business days for the CAN-SPAM opt-out window: an opt-out must be honoured within 10
 * business days, i.e. skipping Saturdays, Sundays and the US federal holidays (5 U.S.C. 6103)
 * with their observed days. Also the civil-date arithmetic it needs (proleptic Gregorian, UTC),
 * so that nothing here touches libc's time-zone state. Does not know state or local holidays,
 * or one-off closures (inauguration day, presidential orders). Pure; any thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Range of times business_days_add() accepts: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define BUSINESS_DAYS_T_MIN INT64_C(-62135596800)
#define BUSINESS_DAYS_T_MAX INT64_C(253402300799)

/*
 * The time n business days after t (seconds since the epoch, UTC), at the same time of day.
 * Day k of the count is the k-th business day strictly after t's day, so an opt-out on a
 * Saturday counts Monday as day 1. n = 0 returns t. Returns INT64_MIN when t is outside
 * [BUSINESS_DAYS_T_MIN, BUSINESS_DAYS_T_MAX] or the result would be.
 */
int64_t business_days_add(int64_t t, unsigned n);

/*
 * True when y-m-d is a US federal holiday or the weekday on which one is observed (a fixed-date
 * holiday on a Saturday is observed the Friday before, on a Sunday the Monday after; New
 * Year's Day on a Saturday is observed on Dec 31 of the year before). Juneteenth counts from
 * 2021, when it was established. Invalid dates are not holidays.
 */
bool business_day_is_holiday(int y, int m, int d);

/* True when y-m-d is a weekday that is not a holiday. */
bool business_day_is_business(int y, int m, int d);

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1..12, d 1..31, unchecked). */
int64_t business_days_from_civil(int64_t y, unsigned m, unsigned d);

/* The inverse of business_days_from_civil(). */
void business_days_to_civil(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* Day of the week of a day count: 0 = Sunday .. 6 = Saturday. */
unsigned business_days_weekday(int64_t days);

/* Number of days in month m (1..12) of year y; 0 for a bad month. */
unsigned business_days_in_month(int64_t y, unsigned m);
