/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness of the holiday file parser: the input is a holiday file, applied with
 * bday_calendar_add_file_buffer() on a fresh UTC calendar with no holidays. On success the
 * calendar must be consistent: weekends closed, bday_add() strictly increasing in n and
 * agreeing with bday_elapsed() at points derived from the input, applying the same file again
 * changes nothing. On failure: a known errno, a one-line "fuzz:..." message, and the calendar
 * unchanged. The same add/elapsed checks run on a New York calendar (loaded once) at the same
 * points, to cover the DST paths too.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "business_days.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T_LO INT64_C(172800)      /* 1970-01-03T00:00:00Z */
#define T_SPAN INT64_C(7250000000) /* up to 2199-10: room for 12 business days after */

static struct bday_calendar *ny;
static uint8_t none_fp[32];

static void
init(void)
{
	struct bday_calendar *none;
	char err[256];

	if (bday_calendar_load(&ny, "America/New_York", NULL, err, sizeof(err)) != 0 ||
	    bday_calendar_load(&none, NULL, "none", err, sizeof(err)) != 0)
		abort();
	bday_calendar_fingerprint(none, none_fp);
	bday_calendar_free(none);
}

static uint64_t
mix(const uint8_t *data, size_t size, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325u ^ seed;

	for (size_t i = 0; i < size && i < 64; i++)
		h = (h ^ data[i]) * 0x100000001b3u;
	return h ^ (h >> 29);
}

/* bday_add strictly increasing in n, and bday_elapsed its inverse, from t. */
static void
check_point(const struct bday_calendar *c, int64_t t)
{
	int64_t prev = t;

	if (bday_add(c, t, 0) != t || bday_elapsed(c, t, t) != 0 || bday_elapsed(c, t, t - 1) != 0)
		__builtin_trap();
	for (unsigned n = 1; n <= 12; n++) {
		int64_t a = bday_add(c, t, n);

		if (a == INT64_MIN) {
			/* only possible when no business day is left: a calendar of holidays */
			if (bday_add(c, t, n + 1) != INT64_MIN)
				__builtin_trap();
			return;
		}
		if (a <= prev || bday_elapsed(c, t, a) != n || bday_elapsed(c, t, a - 1) != n - 1)
			__builtin_trap();
		prev = a;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bday_calendar *c;
	uint8_t fp[32], fp2[32];
	char err[256] = "";
	int rc;

	if (ny == NULL)
		init();
	if (bday_calendar_load(&c, NULL, "none", err, sizeof(err)) != 0)
		abort();
	rc = bday_calendar_add_file_buffer(c, "fuzz", (const char *)data, size, err, sizeof(err));
	bday_calendar_fingerprint(c, fp);
	if (rc != 0) {
		if ((rc != -EINVAL && rc != -EFBIG && rc != -E2BIG) ||
		    strncmp(err, "fuzz:", 5) != 0 || strchr(err, '\n') != NULL ||
		    memcmp(fp, none_fp, 32) != 0)
			__builtin_trap();
		bday_calendar_free(c);
		return 0;
	}
	/* Weekends stay closed whatever the file says. */
	if (bday_is_business_date(c, 2026, 11, 28) || bday_is_business_date(c, 2026, 11, 29))
		__builtin_trap();
	for (uint64_t k = 0; k < 4; k++) {
		int64_t t = T_LO + (int64_t)(mix(data, size, k) % (uint64_t)T_SPAN);

		check_point(c, t);
		check_point(ny, t);
	}
	/* Later entries win, so the same file twice gives the same days. */
	rc = bday_calendar_add_file_buffer(c, "fuzz", (const char *)data, size, err, sizeof(err));
	bday_calendar_fingerprint(c, fp2);
	if ((rc == 0 && memcmp(fp, fp2, 32) != 0) || (rc != 0 && rc != -E2BIG))
		__builtin_trap();
	bday_calendar_free(c);
	return 0;
}
