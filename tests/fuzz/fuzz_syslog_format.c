/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the RFC 5424 formatter (control/syslog_out.c syslog_format) with
 * arbitrary PRI, time, PID, HOSTNAME, APP-NAME, MSGID and MSG bytes. Every message must parse
 * back as a valid RFC 5424 header: "<PRI>1 ", a TIMESTAMP that is "-" or a full RFC 3339 UTC
 * time with microseconds, HOSTNAME (1..255), APP-NAME (1..48), PROCID (digits), MSGID (1..32)
 * all PRINTUSASCII, "-" for STRUCTURED-DATA, then MSG byte for byte (SP MSG absent if empty).
 *
 * Input layout: byte 0 PRI + 8 (so -8..247: invalid ones must give 0), bytes 1-8 the time in
 * microseconds, bytes 9-12 the PID, then host NUL app NUL msgid NUL msg (missing parts NULL).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "syslog_out.h"

#define CAP (SYSLOG_FORMAT_HEADER_MAX + 70000)

static bool
printus(unsigned char c)
{
	return c >= 33 && c <= 126;
}

/* A field of 1..max PRINTUSASCII bytes ending at a SP; advances *p past the SP. */
static size_t
field(const char **p, const char *end, size_t max)
{
	const char *s = *p;

	while (*p < end && printus((unsigned char)**p))
		(*p)++;
	if (*p == s || (size_t)(*p - s) > max || *p >= end || **p != ' ')
		abort();
	(*p)++;
	return (size_t)(*p - s - 1);
}

static bool
digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static void
check_timestamp(const char *t, size_t n)
{
	/* 2026-11-22T19:20:01.123456Z */
	if (n == 1 && t[0] == '-')
		return;
	if (n != 27 || !digits(t, 4) || t[4] != '-' || !digits(t + 5, 2) || t[7] != '-' ||
	    !digits(t + 8, 2) || t[10] != 'T' || !digits(t + 11, 2) || t[13] != ':' ||
	    !digits(t + 14, 2) || t[16] != ':' || !digits(t + 17, 2) || t[19] != '.' ||
	    !digits(t + 20, 6) || t[26] != 'Z')
		abort();
}

/* The next NUL-terminated part of the input, or NULL when the input ended. */
static char *
part(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nul;
	char *s;

	if (*p >= end)
		return NULL;
	nul = memchr(*p, 0, (size_t)(end - *p));
	if (nul == NULL)
		nul = end;
	s = malloc((size_t)(nul - *p) + 1);
	if (s == NULL)
		abort();
	memcpy(s, *p, (size_t)(nul - *p));
	s[nul - *p] = '\0';
	*p = nul < end ? nul + 1 : end;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[CAP];
	const uint8_t *p = data + 13, *end = data + size;
	char *host, *app, *msgid;
	const char *msg, *q, *qend, *s;
	size_t msg_len, n;
	uint64_t ts;
	uint32_t pid;
	int pri;

	if (size < 13)
		return 0;
	pri = (int)data[0] - 8;
	memcpy(&ts, data + 1, sizeof(ts));
	memcpy(&pid, data + 9, sizeof(pid));
	host = part(&p, end);
	app = part(&p, end);
	msgid = part(&p, end);
	msg = (const char *)p;
	msg_len = (size_t)(end - p);

	n = syslog_format(buf, sizeof(buf), pri, ts, host, app, pid, msgid, msg, msg_len);
	if (pri < 0 || pri > 191) {
		if (n != 0)
			abort();
		goto out;
	}
	if (n == 0 || n > sizeof(buf))
		abort();
	q = buf;
	qend = buf + n;
	/* <PRI>1 SP */
	if (*q++ != '<')
		abort();
	s = q;
	while (q < qend && *q >= '0' && *q <= '9')
		q++;
	if (q - s < 1 || q - s > 3 || atoi(s) != pri || (q - s > 1 && *s == '0'))
		abort();
	if (qend - q < 3 || memcmp(q, ">1 ", 3) != 0)
		abort();
	q += 3;
	s = q;
	n = field(&q, qend, 27);
	check_timestamp(s, n);
	field(&q, qend, SYSLOG_HOSTNAME_MAX);
	field(&q, qend, SYSLOG_APP_NAME_MAX);
	s = q;
	n = field(&q, qend, SYSLOG_PROCID_MAX);
	if (!digits(s, n))
		abort();
	s = q;
	n = field(&q, qend, SYSLOG_MSGID_MAX);
	/* MSGID is the event type when it is 1..32 PRINTUSASCII, else "-" */
	{
		bool valid = msgid != NULL && msgid[0] != '\0' && strlen(msgid) <= SYSLOG_MSGID_MAX;

		for (size_t i = 0; valid && msgid[i] != '\0'; i++)
			valid = printus((unsigned char)msgid[i]);
		if (valid ? n != strlen(msgid) || memcmp(s, msgid, n) != 0 : n != 1 || *s != '-')
			abort();
	}
	/* STRUCTURED-DATA "-", then SP MSG or the end */
	if (q >= qend || *q++ != '-')
		abort();
	if (msg_len == 0) {
		if (q != qend)
			abort();
	} else if (q >= qend || *q++ != ' ' || (size_t)(qend - q) != msg_len ||
		   memcmp(q, msg, msg_len) != 0) {
		abort();
	}
out:
	free(host);
	free(app);
	free(msgid);
	return 0;
}
