/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Business days for the CAN-SPAM opt-out window: an opt-out must be honoured within 10
 * business days, i.e. skipping Saturdays, Sundays and holidays. Two layers:
 *   - the fixed US federal calendar (5 U.S.C. 6103, with observed days) in UTC, and the
 *     civil-date arithmetic it needs (proleptic Gregorian), over years 1..9999, touching no
 *     libc time-zone state: business_days_*() and business_day_*();
 *   - a configurable calendar (struct bday_calendar): an IANA time zone whose local dates are
 *     counted, and holiday sources (the US federal rules, none, holiday files) applied in order,
 *     over years BDAY_YEAR_MIN..BDAY_YEAR_MAX, with tables that make every query O(log n).
 * Does not know state or local holidays by itself, nor one-off closures: those go in a holiday
 * file. Threads: bday_calendar_load() sets TZ and calls tzset() while it reads the zone, so it
 * runs before other threads start (at start-up or in a single-threaded tool); every other
 * function is pure once a calendar is built and may be called from any thread.
 *
 * Holiday file format (see rules/holidays.example), UTF-8 or ASCII text, one entry a line:
 *   YYYY-MM-DD [name]     the date is a holiday (free text after a space or tab is ignored)
 *   !YYYY-MM-DD [name]    the date is a business day even if an earlier line or source made
 *                         it a holiday (an office open on Columbus Day)
 *   # comment             comments and blank lines are ignored
 * Leading and trailing blanks and CRLF line ends are accepted. Later entries override earlier
 * ones. A weekend date is accepted and changes nothing. Errors, each "NAME:LINE: reason" and
 * the whole file rejected: bad date "TOKEN", date out of range 1970..2199, line too long (over
 * BDAY_LINE_MAX bytes), not a holiday file (NUL byte), file too large (over 1 MiB), too many
 * entries (over BDAY_ENTRIES_MAX in one calendar, all its files together).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Range of times business_days_add() accepts: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define BUSINESS_DAYS_T_MIN INT64_C(-62135596800)
#define BUSINESS_DAYS_T_MAX INT64_C(253402300799)

/*
 * The time n business days after t (seconds since the epoch, UTC), at the same time of day,
 * with US federal holidays. Day k of the count is the k-th business day strictly after t's
 * day, so an opt-out on a Saturday counts Monday as day 1. n = 0 returns t. Returns INT64_MIN
 * when t is outside [BUSINESS_DAYS_T_MIN, BUSINESS_DAYS_T_MAX] or the result would be.
 * Equal to bday_add(bday_calendar_default(), t, n) wherever that one is in range.
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

/* ---- Configurable calendars ---- */

struct bday_calendar; /* opaque */

#define BDAY_YEAR_MIN 1970
#define BDAY_YEAR_MAX 2199       /* the calendar's range; outside it functions fail */
#define BDAY_LINE_MAX 1024       /* bytes in one holiday file line, line end excluded */
#define BDAY_FILE_MAX (1u << 20) /* bytes in one holiday file */
#define BDAY_ENTRIES_MAX 100000  /* date lines in all the holiday files of one calendar */
#define BDAY_TZ_MAX 255          /* bytes in a zone name */

/*
 * Build a calendar into *out (the caller frees it with bday_calendar_free()).
 * tz: an IANA zone name ("UTC", "America/New_York"), read from $TZDIR or /usr/share/zoneinfo;
 * NULL or "" is UTC. A name that is not a TZif file there, or holds "..", an empty path
 * element or a character outside [A-Za-z0-9/_+.-], is an error (glibc itself would silently
 * use UTC).
 * holidays: comma-separated sources applied in order (blanks around each are ignored):
 * "us-federal" marks the US federal holidays and observed days, "none" clears every holiday
 * so far, anything else is the path of a holiday file. NULL or "" is "us-federal".
 * Returns 0, or a negative errno with a one-line message in err (errlen bytes, may be 0):
 * -EINVAL (unknown zone "tz: unknown time zone X", bad source, bad file content
 * "FILE:LINE: reason"), -EFBIG (file over 1 MiB), -E2BIG (too many entries), -ENOMEM, or the
 * errno of opening or reading a file ("FILE: reason").
 * Sets and restores TZ (and calls tzset()): call it before starting threads.
 */
int bday_calendar_load(struct bday_calendar **out, const char *tz, const char *holidays,
		       char *err, size_t errlen);

/*
 * Apply a holiday file given as a buffer (len bytes, need not be NUL-terminated) on top of c;
 * name is used in messages. Same errors as a file in bday_calendar_load(); on error c is
 * unchanged. Single-threaded use of c while it runs.
 */
int bday_calendar_add_file_buffer(struct bday_calendar *c, const char *name, const char *buf,
				  size_t len, char *err, size_t errlen);

/* Free a calendar from bday_calendar_load(); NULL is a no-op. */
void bday_calendar_free(struct bday_calendar *c);

/*
 * UTC with the US federal holidays, built once on first use (thread-safe, static storage);
 * never NULL. Every function below also takes NULL for it.
 */
const struct bday_calendar *bday_calendar_default(void);

/*
 * The time n business days after t (UTC seconds since the epoch). Days are the local dates of
 * c's zone: day 1 is the first business day strictly after t's local date, and the result is
 * the same local wall time on the n-th day, back in UTC. When that wall time falls in a DST
 * gap it is read with the offset before the gap (02:30 on a spring-forward day in New York
 * becomes 03:30 EDT); when it occurs twice, the later instant (the second 01:30, EST) is
 * taken: the later valid reading in both cases. n = 0 returns t. INT64_MIN when t's local date
 * or the n-th business day is outside BDAY_YEAR_MIN..BDAY_YEAR_MAX.
 */
int64_t bday_add(const struct bday_calendar *c, int64_t t, unsigned n);

/*
 * Whole business days elapsed from `from` to `to`: the largest n with
 * bday_add(c, from, n) <= to, so 0 when to < from or to < bday_add(c, from, 1). -1 when from
 * (or, with to >= from, to) has a local date outside the calendar's range. O(log days).
 */
int64_t bday_elapsed(const struct bday_calendar *c, int64_t from, int64_t to);

/* True when the valid date y-m-d in the calendar's range is a weekday and not a holiday. */
bool bday_is_business_date(const struct bday_calendar *c, int64_t y, unsigned m, unsigned d);

/*
 * SHA-256 of the calendar's canonical text: "postern-bday-calendar 1\ntz NAME\n" and then one
 * "YYYY-MM-DD\n" per weekday holiday in the range, in date order. Calendars with the same zone
 * name and the same business days have the same fingerprint, however they were written.
 */
void bday_calendar_fingerprint(const struct bday_calendar *c, uint8_t out[32]);

/* The zone name ("UTC" for NULL or ""); borrowed for c's lifetime. */
const char *bday_calendar_tz(const struct bday_calendar *c);
