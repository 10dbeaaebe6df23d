/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Business days: the US federal rules and civil-date arithmetic (Howard Hinnant's
 * days_from_civil and civil_from_days, exact for the proleptic Gregorian calendar over the
 * whole int64 day range we allow), and configurable calendars built on them.
 * The federal rules are recomputed per date rather than tabled per year: they are cheap and
 * need no shared state. A calendar keeps, for its range, a holiday bitmap, a prefix count of
 * business days per local date (the n-th business day after a date is a binary search, and so
 * is the count between two dates) and its zone's UTC offset transitions, read once from glibc
 * by sampling localtime_r() under TZ (glibc has no per-zone API); converting between UTC and
 * local time afterwards uses only that table. Building a calendar touches TZ: before threads
 * start. Queries are pure; any thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "business_days.h"
#include "file_read.h"

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

/* ---- Configurable calendars ---- */

#define BDAY_N_DAYS 84006            /* 1970-01-01 .. 2199-12-31; checked by the unit test */
#define BDAY_TR_MAX 8192             /* zone offset changes kept (New York has ~460 in range) */
#define ZONE_STEP (12 * 3600)        /* localtime_r() sampling step: no zone changes twice in 12h */
#define ZONE_T_LO (-2 * SECS_PER_DAY) /* offsets are under a day: this covers every local date */
#define ZONE_T_HI ((int64_t)(BDAY_N_DAYS + 2) * SECS_PER_DAY)
#define FP_HEADER "postern-bday-calendar 1\ntz "
#define DEFAULT_TZ_DIR "/usr/share/zoneinfo"

/* From `at` on (UTC seconds), local time is UTC + off seconds. */
struct bday_tr {
	int64_t at;
	int32_t off;
};

struct bday_calendar {
	char tz[BDAY_TZ_MAX + 1];
	int32_t off0;                          /* offset before tr[0], or always when n_tr is 0 */
	uint32_t n_tr;
	struct bday_tr *tr;                    /* sorted by at; NULL for UTC */
	uint32_t n_entries;                    /* date lines of the holiday files applied */
	uint8_t fp[32];
	uint8_t closed[(BDAY_N_DAYS + 7) / 8]; /* listed as a holiday (weekends apart) */
	uint32_t prefix[BDAY_N_DAYS + 1];      /* business days among local dates [0, i) */
};

static struct bday_calendar default_cal;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

__attribute__((format(printf, 4, 5))) static int
fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* A short, printable, one-line copy of untrusted bytes for a message. */
static void
sanitize(char *dst, size_t dstlen, const char *src, size_t n)
{
	size_t i, max = dstlen - 4;

	for (i = 0; i < n && i < max; i++)
		dst[i] = ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) ? '?' : src[i];
	if (i < n)
		dst[i++] = '.', dst[i++] = '.', dst[i++] = '.';
	dst[i] = '\0';
}

static const struct bday_calendar *
cal_or_default(const struct bday_calendar *c)
{
	return c != NULL ? c : bday_calendar_default();
}

static bool
closed_get(const struct bday_calendar *c, int64_t day)
{
	return (c->closed[day >> 3] >> (day & 7)) & 1;
}

static void
closed_set(struct bday_calendar *c, int64_t day, bool on)
{
	uint8_t bit = (uint8_t)(1u << (day & 7));

	if (on)
		c->closed[day >> 3] |= bit;
	else
		c->closed[day >> 3] &= (uint8_t)~bit;
}

static bool
is_weekend(int64_t day)
{
	unsigned wd = business_days_weekday(day);

	return wd == 0 || wd == 6;
}

static void
mark_us_federal(struct bday_calendar *c)
{
	for (int64_t day = 0; day < BDAY_N_DAYS; day++)
		if (is_holiday_day(day))
			closed_set(c, day, true);
}

/* Rebuild the prefix table from the holidays; the number of weekday holidays. */
static size_t
build_prefix(struct bday_calendar *c)
{
	unsigned wd = business_days_weekday(0);
	uint32_t count = 0;
	size_t n_hol = 0;

	/* Runs after every holiday file: a weekday counter rather than a division per day. */
	for (int64_t day = 0; day < BDAY_N_DAYS; day++) {
		bool weekday = wd != 0 && wd != 6, open = weekday && !closed_get(c, day);

		n_hol += weekday && !open;
		c->prefix[day] = count;
		count += open;
		wd = wd == 6 ? 0 : wd + 1;
	}
	c->prefix[BDAY_N_DAYS] = count;
	return n_hol;
}

/* Rebuild the prefix table and the fingerprint; on -ENOMEM the fingerprint is the old one. */
static int
finalize(struct bday_calendar *c)
{
	size_t n_hol = build_prefix(c), len = strlen(FP_HEADER) + strlen(c->tz) + 1 + 11 * n_hol;
	char *text, *p;

	text = malloc(len + 1);
	if (text == NULL)
		return -ENOMEM;
	p = text + snprintf(text, len + 1, FP_HEADER "%s\n", c->tz);
	for (int64_t day = 0; day < BDAY_N_DAYS; day++) {
		int64_t y;
		unsigned m, d;

		if (c->closed[day >> 3] == 0) { /* mostly empty: skip 8 days at a time */
			day |= 7;
			continue;
		}
		if (!closed_get(c, day) || is_weekend(day))
			continue;
		business_days_to_civil(day, &y, &m, &d);
		p += snprintf(p, (size_t)(text + len + 1 - p), "%04d-%02u-%02u\n", (int)y, m, d);
	}
	SHA256((const unsigned char *)text, (size_t)(p - text), c->fp);
	free(text);
	return 0;
}

static void
default_init(void)
{
	strcpy(default_cal.tz, "UTC");
	mark_us_federal(&default_cal);
	if (finalize(&default_cal) < 0) {
		/* ~30 KB at first use; a process that cannot get it cannot do anything else. */
		fputs("business_days: out of memory building the default calendar\n", stderr);
		abort();
	}
}

const struct bday_calendar *
bday_calendar_default(void)
{
	pthread_once(&default_once, default_init);
	return &default_cal;
}

/* ---- Holiday files ---- */

static bool
digits(const char *p, size_t n, unsigned *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		*v = *v * 10 + (unsigned)(p[i] - '0');
	}
	return true;
}

static bool
parse_date(const char *p, size_t n, unsigned *y, unsigned *m, unsigned *d)
{
	return n == 10 && p[4] == '-' && p[7] == '-' && digits(p, 4, y) &&
	       digits(p + 5, 2, m) && digits(p + 8, 2, d) && *m >= 1 && *m <= 12 && *d >= 1 &&
	       *d <= business_days_in_month(*y, *m);
}

static bool
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/*
 * Check a holiday file, and with apply set its entries into c. Checking the whole file before
 * applying any of it keeps c unchanged on error.
 */
static int
holidays_parse(struct bday_calendar *c, bool apply, const char *name, const char *buf,
	       size_t len, char *err, size_t errlen)
{
	uint32_t n_entries = c->n_entries;
	uint64_t line = 0;
	const char *nul;
	size_t pos = 0;

	if (len > BDAY_FILE_MAX)
		return fail(err, errlen, -EFBIG, "%s: file too large (over 1 MiB)", name);
	nul = memchr(buf, '\0', len);
	if (nul != NULL) {
		line = 1;
		for (const char *q = buf; q < nul; q++)
			line += *q == '\n';
		return fail(err, errlen, -EINVAL, "%s:%" PRIu64 ": not a holiday file (NUL byte)",
			    name, line);
	}
	while (pos < len) {
		const char *p = buf + pos;
		const char *eol = memchr(p, '\n', len - pos);
		size_t n = eol != NULL ? (size_t)(eol - p) : len - pos;
		unsigned y, m, d;
		bool open = false;
		size_t tok = 0;

		pos += n + (eol != NULL);
		line++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > BDAY_LINE_MAX)
			return fail(err, errlen, -EINVAL, "%s:%" PRIu64 ": line too long", name,
				    line);
		while (n > 0 && (is_blank(p[n - 1]) || p[n - 1] == '\r'))
			n--;
		while (n > 0 && is_blank(*p))
			p++, n--;
		if (n == 0 || *p == '#')
			continue;
		if (*p == '!') {
			open = true;
			p++, n--;
			while (n > 0 && is_blank(*p))
				p++, n--;
		}
		while (tok < n && !is_blank(p[tok]))
			tok++;
		if (!parse_date(p, tok, &y, &m, &d)) {
			char shown[48];

			sanitize(shown, sizeof(shown), p, tok);
			return fail(err, errlen, -EINVAL, "%s:%" PRIu64 ": bad date \"%s\"", name,
				    line, shown);
		}
		if (y < BDAY_YEAR_MIN || y > BDAY_YEAR_MAX)
			return fail(err, errlen, -EINVAL,
				    "%s:%" PRIu64 ": date out of range %d..%d", name, line,
				    BDAY_YEAR_MIN, BDAY_YEAR_MAX);
		if (++n_entries > BDAY_ENTRIES_MAX)
			return fail(err, errlen, -E2BIG, "%s:%" PRIu64 ": too many entries (over %d)",
				    name, line, BDAY_ENTRIES_MAX);
		if (apply)
			closed_set(c, business_days_from_civil(y, m, d), !open);
	}
	if (apply)
		c->n_entries = n_entries;
	return 0;
}

static int
holidays_apply(struct bday_calendar *c, const char *name, const char *buf, size_t len,
	       char *err, size_t errlen)
{
	int rc = holidays_parse(c, false, name, buf, len, err, errlen);

	return rc < 0 ? rc : holidays_parse(c, true, name, buf, len, err, errlen);
}

int
bday_calendar_add_file_buffer(struct bday_calendar *c, const char *name, const char *buf,
			      size_t len, char *err, size_t errlen)
{
	uint8_t saved[sizeof(c->closed)];
	uint32_t saved_entries = c->n_entries;
	int rc;

	memcpy(saved, c->closed, sizeof(saved));
	rc = holidays_apply(c, name != NULL ? name : "(buffer)", buf, buf != NULL ? len : 0, err,
			    errlen);
	if (rc < 0)
		return rc;
	rc = finalize(c);
	if (rc < 0) {
		memcpy(c->closed, saved, sizeof(saved));
		c->n_entries = saved_entries;
		build_prefix(c); /* the fingerprint was left as it was */
		return fail(err, errlen, rc, "%s: out of memory", name != NULL ? name : "(buffer)");
	}
	return 0;
}

static int
holidays_apply_file(struct bday_calendar *c, const char *path, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = file_read_all(path, BDAY_FILE_MAX, &buf, &len);

	if (rc == -EFBIG)
		return fail(err, errlen, rc, "%s: file too large (over 1 MiB)", path);
	if (rc == -EINVAL)
		return fail(err, errlen, rc, "%s: not a regular file", path);
	if (rc < 0)
		return fail(err, errlen, rc, "%s: %s", path, strerror(-rc));
	rc = holidays_apply(c, path, buf, len, err, errlen);
	free(buf);
	return rc;
}

static int
apply_sources(struct bday_calendar *c, const char *holidays, char *err, size_t errlen)
{
	const char *s = holidays != NULL && *holidays != '\0' ? holidays : "us-federal";

	for (;;) {
		const char *comma = strchr(s, ',');
		size_t n = comma != NULL ? (size_t)(comma - s) : strlen(s);
		const char *p = s;
		char path[PATH_MAX];
		int rc;

		while (n > 0 && is_blank(p[n - 1]))
			n--;
		while (n > 0 && is_blank(*p))
			p++, n--;
		if (n == 0)
			return fail(err, errlen, -EINVAL, "holidays: empty source in the list");
		if (n == strlen("us-federal") && memcmp(p, "us-federal", n) == 0) {
			mark_us_federal(c);
		} else if (n == strlen("none") && memcmp(p, "none", n) == 0) {
			memset(c->closed, 0, sizeof(c->closed));
		} else {
			if (n >= sizeof(path)) {
				char shown[48];

				sanitize(shown, sizeof(shown), p, n);
				return fail(err, errlen, -ENAMETOOLONG, "%s: path too long", shown);
			}
			memcpy(path, p, n);
			path[n] = '\0';
			rc = holidays_apply_file(c, path, err, errlen);
			if (rc < 0)
				return rc;
		}
		if (comma == NULL)
			return 0;
		s = comma + 1;
	}
}

/* ---- Time zones ---- */

static bool
zone_name_ok(const char *tz)
{
	size_t n = strlen(tz);

	if (n == 0 || n > BDAY_TZ_MAX || tz[0] == '/' || tz[n - 1] == '/' ||
	    strstr(tz, "..") != NULL || strstr(tz, "//") != NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = tz[i];

		/* no hidden or relative elements: ".", ".x" at the start of an element */
		if (ch == '.' && (i == 0 || tz[i - 1] == '/'))
			return false;
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '/' || ch == '_' || ch == '+' ||
		      ch == '-' || ch == '.'))
			return false;
	}
	return true;
}

/*
 * The TZif file of zone tz in path: glibc reads a name that is not one as UTC without saying
 * so (zone1970.tab and friends sit in the same folder), so we check the magic ourselves.
 */
static bool
zone_find(const char *tz, char *path, size_t pathlen)
{
	const char *dir = getenv("TZDIR");
	char magic[4];
	struct stat st;
	bool ok;
	int fd, n;

	if (dir == NULL || *dir == '\0')
		dir = DEFAULT_TZ_DIR;
	n = snprintf(path, pathlen, "%s/%s", dir, tz);
	if (n < 0 || (size_t)n >= pathlen)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	     read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
	     memcmp(magic, "TZif", 4) == 0;
	close(fd);
	return ok;
}

static int
zone_offset(int64_t u, int32_t *off)
{
	time_t t = (time_t)u;
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL || tm.tm_gmtoff <= -SECS_PER_DAY ||
	    tm.tm_gmtoff >= SECS_PER_DAY)
		return -EINVAL;
	*off = (int32_t)tm.tm_gmtoff;
	return 0;
}

static int
tr_push(struct bday_calendar *c, uint32_t *cap, int64_t at, int32_t off)
{
	if (c->n_tr == *cap) {
		uint32_t ncap = *cap != 0 ? *cap * 2 : 256;
		struct bday_tr *ntr;

		if (ncap > BDAY_TR_MAX)
			return -E2BIG;
		ntr = realloc(c->tr, ncap * sizeof(*ntr));
		if (ntr == NULL)
			return -ENOMEM;
		c->tr = ntr;
		*cap = ncap;
	}
	c->tr[c->n_tr++] = (struct bday_tr){ .at = at, .off = off };
	return 0;
}

/* Sample the zone TZ now names over the range; each change is then found to the second. */
static int
zone_sample(struct bday_calendar *c)
{
	uint32_t cap = 0;
	int32_t prev, off;
	int rc = zone_offset(ZONE_T_LO, &prev);

	if (rc < 0)
		return rc;
	c->off0 = prev;
	for (int64_t u = ZONE_T_LO + ZONE_STEP; u < ZONE_T_HI + ZONE_STEP; u += ZONE_STEP) {
		int64_t lo = u - ZONE_STEP, hi = u;

		rc = zone_offset(u, &off);
		if (rc < 0)
			return rc;
		if (off == prev)
			continue;
		/* lo has the old offset, hi not: find the first second that does not. */
		while (hi - lo > 1) {
			int64_t mid = lo + (hi - lo) / 2;
			int32_t o;

			rc = zone_offset(mid, &o);
			if (rc < 0)
				return rc;
			if (o == prev)
				lo = mid;
			else
				hi = mid;
		}
		rc = zone_offset(hi, &off);
		if (rc == 0)
			rc = tr_push(c, &cap, hi, off);
		if (rc < 0)
			return rc;
		prev = off;
		if (hi != u) /* a second change inside the step is not expected; re-read u */
			u = hi;
	}
	return 0;
}

/* Read zone file path through glibc under TZ, then put TZ back as it was. */
static int
zone_load(struct bday_calendar *c, const char *path)
{
	const char *old = getenv("TZ");
	char *saved = old != NULL ? strdup(old) : NULL;
	char val[PATH_MAX + 2];
	int rc;

	if (old != NULL && saved == NULL)
		return -ENOMEM;
	snprintf(val, sizeof(val), ":%s", path);
	if (setenv("TZ", val, 1) < 0) {
		rc = -errno;
		goto restore;
	}
	tzset();
	rc = zone_sample(c);
restore:
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
	return rc;
}

int
bday_calendar_load(struct bday_calendar **out, const char *tz, const char *holidays, char *err,
		   size_t errlen)
{
	struct bday_calendar *c;
	char path[PATH_MAX];
	int rc;

	*out = NULL;
	if (tz == NULL || *tz == '\0')
		tz = "UTC";
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return fail(err, errlen, -ENOMEM, "calendar: out of memory");
	if (strcmp(tz, "UTC") != 0) {
		if (!zone_name_ok(tz) || !zone_find(tz, path, sizeof(path))) {
			char shown[48];

			sanitize(shown, sizeof(shown), tz, strlen(tz));
			rc = fail(err, errlen, -EINVAL, "tz: unknown time zone %s", shown);
			goto free_cal;
		}
		rc = zone_load(c, path);
		if (rc < 0) {
			rc = fail(err, errlen, rc == -ENOMEM ? -ENOMEM : -EINVAL,
				  "tz: cannot read time zone %s: %s", tz, strerror(-rc));
			goto free_cal;
		}
	}
	strcpy(c->tz, tz); /* length checked by zone_name_ok() */
	rc = apply_sources(c, holidays, err, errlen);
	if (rc < 0)
		goto free_cal;
	rc = finalize(c);
	if (rc < 0) {
		rc = fail(err, errlen, rc, "calendar: out of memory");
		goto free_cal;
	}
	*out = c;
	return 0;
free_cal:
	bday_calendar_free(c);
	return rc;
}

void
bday_calendar_free(struct bday_calendar *c)
{
	if (c == NULL || c == &default_cal)
		return;
	free(c->tr);
	free(c);
}

/* ---- Queries (pure) ---- */

/* Index of the offset regime holding instant u: -1 before tr[0], else the last tr at <= u. */
static int64_t
regime_of(const struct bday_calendar *c, int64_t u)
{
	int64_t lo = 0, hi = c->n_tr; /* first tr with at > u */

	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;

		if (c->tr[mid].at <= u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - 1;
}

static int32_t
regime_off(const struct bday_calendar *c, int64_t r)
{
	return r < 0 ? c->off0 : c->tr[r].off;
}

static int64_t
regime_start(const struct bday_calendar *c, int64_t r)
{
	return r < 0 ? INT64_MIN : c->tr[r].at;
}

static int64_t
regime_end(const struct bday_calendar *c, int64_t r)
{
	return r + 1 < (int64_t)c->n_tr ? c->tr[r + 1].at : INT64_MAX;
}

/*
 * The UTC instant of local time l (seconds since the local epoch): the later one when l occurs
 * twice; in a gap, l read with the offset before it (the later of the two readings). l is
 * within the range, so no overflow.
 */
static int64_t
local_to_utc(const struct bday_calendar *c, int64_t l)
{
	int64_t lo, hi, best = INT64_MIN;

	if (c->n_tr == 0)
		return l - c->off0;
	/* offsets are under a day, so any answer is within a day of l */
	lo = regime_of(c, l - SECS_PER_DAY);
	hi = regime_of(c, l + SECS_PER_DAY);
	for (int64_t r = lo; r <= hi; r++) {
		int64_t u = l - regime_off(c, r);

		if (u >= regime_start(c, r) && u < regime_end(c, r) && u > best)
			best = u;
	}
	if (best != INT64_MIN)
		return best;
	for (int64_t r = lo; r < hi; r++) {
		int64_t u = l - regime_off(c, r);

		if (u >= regime_end(c, r) && l - regime_off(c, r + 1) < regime_end(c, r))
			return u;
	}
	return l - regime_off(c, regime_of(c, l)); /* not reached while offsets are under a day */
}

/* The local date (day index) and second of day of t; false outside the range. */
static bool
local_of(const struct bday_calendar *c, int64_t t, int64_t *day, int64_t *sec)
{
	int64_t l;

	if (t < ZONE_T_LO || t > ZONE_T_HI)
		return false;
	l = t + regime_off(c, c->n_tr != 0 ? regime_of(c, t) : -1);
	*day = floor_div(l, SECS_PER_DAY);
	*sec = l - *day * SECS_PER_DAY;
	return *day >= 0 && *day < BDAY_N_DAYS;
}

/* The n-th (n >= 1) business date after day; false past the range. */
static bool
nth_business(const struct bday_calendar *c, int64_t day, uint64_t n, int64_t *out)
{
	uint64_t target = (uint64_t)c->prefix[day + 1] + n;
	int64_t lo = day + 2, hi = BDAY_N_DAYS; /* smallest j with prefix[j] >= target */

	if (target > c->prefix[BDAY_N_DAYS])
		return false;
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;

		if (c->prefix[mid] >= target)
			hi = mid;
		else
			lo = mid + 1;
	}
	*out = lo - 1;
	return true;
}

/* bday_add() once t is split into its local date and second of day. */
static int64_t
add_local(const struct bday_calendar *c, int64_t t, int64_t day, int64_t sec, uint64_t n)
{
	int64_t d;

	if (n == 0)
		return t;
	if (!nth_business(c, day, n, &d))
		return INT64_MIN;
	return local_to_utc(c, d * SECS_PER_DAY + sec);
}

int64_t
bday_add(const struct bday_calendar *c, int64_t t, unsigned n)
{
	int64_t day, sec;

	c = cal_or_default(c);
	if (!local_of(c, t, &day, &sec))
		return INT64_MIN;
	return add_local(c, t, day, sec, n);
}

/* add_local(n) <= to, a day past the range counting as later than anything. */
static bool
reached(const struct bday_calendar *c, int64_t from, int64_t day, int64_t sec, uint64_t n,
	int64_t to)
{
	int64_t r = add_local(c, from, day, sec, n);

	return r != INT64_MIN && r <= to;
}

int64_t
bday_elapsed(const struct bday_calendar *c, int64_t from, int64_t to)
{
	int64_t df, sf, dt, st;
	uint64_t k, lo, hi;

	c = cal_or_default(c);
	if (!local_of(c, from, &df, &sf))
		return -1;
	if (to < from)
		return 0;
	if (!local_of(c, to, &dt, &st))
		return -1;
	/*
	 * The business dates in (df, dt] are the answer but for the wall time: the last may be
	 * reached later in the day than `to`, and DST can move the result by an hour either way.
	 * So start from the count and search the add() results, which never decrease with n.
	 */
	k = dt > df ? c->prefix[dt + 1] - c->prefix[df + 1] : 0;
	if (k > 0 && !reached(c, from, df, sf, k, to)) {
		lo = 0;
		hi = k;
	} else {
		uint64_t step = 1;

		lo = k;
		hi = k + 1;
		while (reached(c, from, df, sf, hi, to)) {
			lo = hi;
			step *= 2;
			hi = lo + step;
		}
	}
	/* reached(lo), !reached(hi) */
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (reached(c, from, df, sf, mid, to))
			lo = mid;
		else
			hi = mid;
	}
	return (int64_t)lo;
}

bool
bday_is_business_date(const struct bday_calendar *c, int64_t y, unsigned m, unsigned d)
{
	int64_t day;

	c = cal_or_default(c);
	if (y < BDAY_YEAR_MIN || y > BDAY_YEAR_MAX || m < 1 || m > 12 || d < 1 ||
	    d > business_days_in_month(y, m))
		return false;
	day = business_days_from_civil(y, m, d);
	return !is_weekend(day) && !closed_get(c, day);
}

void
bday_calendar_fingerprint(const struct bday_calendar *c, uint8_t out[32])
{
	memcpy(out, cal_or_default(c)->fp, 32);
}

const char *
bday_calendar_tz(const struct bday_calendar *c)
{
	return cal_or_default(c)->tz;
}

/* ---- The fixed federal calendar in UTC, years 1..9999 ---- */

int64_t
business_days_add(int64_t t, unsigned n)
{
	int64_t r, day, sec, last_day;

	if (t < BUSINESS_DAYS_T_MIN || t > BUSINESS_DAYS_T_MAX)
		return INT64_MIN;
	/* The default calendar is the same rules in UTC: its tables answer inside its range. */
	r = bday_add(bday_calendar_default(), t, n);
	if (r != INT64_MIN)
		return r;

	day = floor_div(t, SECS_PER_DAY);
	sec = t - day * SECS_PER_DAY;
	last_day = floor_div(BUSINESS_DAYS_T_MAX, SECS_PER_DAY);
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
